//! The run loop. `Simulation` owns the event queue, the network, the node
//! slots and their clocks; it pops events in (time, insertion) order, calls the
//! protocol, applies the commands it returns, and tells the observer about
//! everything that happens.

use super::clock::NodeClock;
use super::fault::{joiners, validate_schedule, Fault, ScheduledFault};
use super::network::{DropReason, MessageStats, Network, NetworkConfig};
use super::queue::EventQueue;
use super::rng::{Purpose, RngStream};
use super::time::{LocalTime, SimDuration, SimTime};
use super::trace::{NodeStatus, Observer, TraceEvent, WorldView};
use crate::node::{Command, Context, NodeId, Protocol};
use serde::Serialize;
use std::collections::VecDeque;

/// Everything the engine needs to run, already validated.
#[derive(Clone, Debug)]
pub struct SimulationConfig {
    /// The seed every random stream of the run derives from.
    pub seed: u64,
    /// How many nodes; ids are `0..node_count`.
    pub node_count: u32,
    /// How long the run lasts, in true time.
    pub duration: SimDuration,
    /// How links behave unless a fault says otherwise.
    pub network: NetworkConfig,
    /// In time order (ties keep their order).
    pub faults: Vec<ScheduledFault>,
    /// The run stops early once this many queue events have been processed.
    pub events_max: u64,
    /// The most events that may be pending at once (an invariant, asserted).
    pub pending_max: usize,
    /// The most messages and timers a paused node queues; more are dropped.
    pub inbox_max: usize,
}

/// The most queue events a run processes unless a scenario says otherwise.
pub const EVENTS_MAX_DEFAULT: u64 = 200_000_000;
/// The most events pending at once unless a scenario says otherwise.
pub const PENDING_MAX_DEFAULT: usize = 1_000_000;
/// The most messages a paused node queues unless a scenario says otherwise.
pub const INBOX_MAX_DEFAULT: usize = 100_000;

/// The engine's account of a finished run.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    /// When the run ended.
    pub end: SimTime,
    /// Events the run produced: one per observer call, i.e. one per line
    /// of `trace.jsonl` (sends, deliveries, drops, timers, faults...).
    pub events: u64,
    /// Scheduled events popped from the queue (deliveries, timers, faults).
    pub queue_events: u64,
    /// Message accounting.
    pub messages: MessageStats,
    /// The most events pending at once during the run.
    pub pending_high_water: usize,
    /// Events pending on average, after each pop (what a bare event loop
    /// compared with the engine should hold to be a fair yardstick).
    pub pending_mean: f64,
    /// Set when the run stopped before its duration (the event limit).
    pub stopped_early: Option<String>,
    /// Set when the run stopped because more events would have been pending
    /// than `pending_max`: the run is incomplete and cannot be judged.
    pub overflow: Option<PendingOverflow>,
}

/// A run that needed more pending events than its limit, and what filled
/// the queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PendingOverflow {
    /// When (simulated time).
    pub at: SimTime,
    /// The limit (`limits.pending_max`).
    pub pending_max: usize,
    /// The largest group of pending events: "messages `Ping` to node 2",
    /// "timers `Tick` of node 0".
    pub source: String,
    /// How many of the pending events that group holds.
    pub source_count: usize,
}

/// Where the next event comes from. Node starts and scheduled faults are
/// known in advance and already in order, so they are read from their lists
/// rather than pushed through the queue; `next_due` merges the three sources
/// in exactly the order a single queue would give (see there).
#[derive(Clone, Copy)]
enum Source {
    Start,
    Fault,
    Queued,
}

/// The next event, taken from its source.
enum Next<P: Protocol> {
    Start { node: NodeId },
    Fault { index: usize },
    Queued(Event<P>),
}

/// Events scheduled while the run goes on.
enum Event<P: Protocol> {
    Deliver {
        from: NodeId,
        to: NodeId,
        id: u64,
        message: P::Message,
    },
    Timer {
        node: NodeId,
        generation: u64,
    },
    Resume {
        node: NodeId,
        pause: u64,
    },
    DegradeEnd {
        id: u64,
        from: NodeId,
        to: NodeId,
    },
}

/// Something that reached a paused node and waits for it to resume.
enum Queued<P: Protocol> {
    Message {
        from: NodeId,
        id: u64,
        message: P::Message,
    },
    Timer {
        generation: u64,
    },
}

struct TimerEntry<T> {
    timer: T,
    generation: u64,
    deadline: LocalTime,
}

struct NodeSlot<P: Protocol> {
    state: Option<P::State>,
    durable: P::Durable,
    timers: Vec<TimerEntry<P::Timer>>,
    clock: NodeClock,
    rng: RngStream,
    inbox: VecDeque<Queued<P>>,
    /// Identifies the current pause, so a stale resume is ignored.
    pause: u64,
    /// When the current pause ends.
    pause_until: SimTime,
}

/// One run: the protocol's nodes on a simulated network, driven by a queue of timed events.
pub struct Simulation<P: Protocol> {
    protocol: P,
    config: SimulationConfig,
    queue: EventQueue<Event<P>>,
    network: Network,
    nodes: Vec<NodeSlot<P>>,
    statuses: Vec<NodeStatus>,
    now: SimTime,
    end: SimTime,
    stats: MessageStats,
    queue_events: u64,
    /// The queue's length after each pop, summed (for `pending_mean`).
    pending_sum: u64,
    /// Nodes started so far (all start at time zero, in node order, except
    /// those that join later).
    started: u32,
    /// Per node: absent until a scheduled join.
    joiner: Vec<bool>,
    /// The message whose handler is running, if any: observations it makes
    /// name it as their cause.
    cause: Option<u64>,
    /// The next scheduled fault to apply.
    fault_next: usize,
    /// Counted in `emit`, behind a `Cell` because `emit` borrows `self` shared.
    events: std::cell::Cell<u64>,
    message_id_next: u64,
    generation_next: u64,
    pause_next: u64,
    commands: Vec<Command<P>>,
}

impl<P: Protocol> Simulation<P> {
    /// A run of `protocol` under `config`; panics if the configuration breaks the engine's invariants (validate it first).
    pub fn new(protocol: P, config: SimulationConfig) -> Self {
        assert!(
            config.node_count > 0,
            "a simulation needs at least one node"
        );
        if let Err(error) = validate_schedule(config.node_count, config.duration, &config.faults) {
            panic!(
                "invalid fault schedule reached the engine: fault {}: {}",
                error.index, error.message
            );
        }
        let network = Network::new(
            config.network.clone(),
            config.node_count,
            RngStream::new(config.seed, Purpose::Network),
        );
        let nodes = (0..config.node_count)
            .map(|node| NodeSlot {
                state: None,
                durable: P::Durable::default(),
                timers: Vec::new(),
                clock: NodeClock::default(),
                rng: RngStream::new(config.seed, Purpose::Node(node)),
                inbox: VecDeque::new(),
                pause: 0,
                pause_until: SimTime::ZERO,
            })
            .collect();
        let queue = EventQueue::new(config.pending_max);
        let joiner = joiners(config.node_count, &config.faults);
        Simulation {
            protocol,
            end: SimTime::ZERO.after(config.duration),
            // A node that joins later is down (and silent) until it does.
            statuses: joiner
                .iter()
                .map(|&absent| {
                    if absent {
                        NodeStatus::Crashed
                    } else {
                        NodeStatus::Up
                    }
                })
                .collect(),
            joiner,
            cause: None,
            config,
            queue,
            network,
            nodes,
            now: SimTime::ZERO,
            stats: MessageStats::default(),
            queue_events: 0,
            pending_sum: 0,
            started: 0,
            fault_next: 0,
            events: std::cell::Cell::new(0),
            message_id_next: 0,
            generation_next: 0,
            pause_next: 0,
            commands: Vec::with_capacity(16),
        }
    }

    /// The protocol being run.
    pub fn protocol(&self) -> &P {
        &self.protocol
    }

    /// Runs to the end of the configured duration (or the event limit).
    pub fn run<O: Observer<P> + ?Sized>(mut self, observer: &mut O) -> RunReport {
        let mut stopped_early = None;
        while let Some((time, source)) = self.next_due() {
            if time > self.end {
                break;
            }
            if self.queue_events >= self.config.events_max {
                stopped_early = Some(format!(
                    "event limit {} reached at {}",
                    self.config.events_max, self.now
                ));
                break;
            }
            assert!(
                time >= self.now,
                "time went backwards: {} after {}",
                time,
                self.now
            );
            self.now = time;
            self.queue_events += 1;
            let next = self.take(source);
            self.pending_sum += self.queue.len() as u64;
            self.handle(next, observer);
            if self.queue.overflowed() {
                return self.overflow_report();
            }
        }
        if stopped_early.is_none() {
            self.now = self.end;
        }
        self.emit(observer, TraceEvent::End);
        self.finish(stopped_early)
    }

    fn pending_mean(&self) -> f64 {
        self.pending_sum as f64 / self.queue_events.max(1) as f64
    }

    /// The report of a run stopped by its pending-event limit. Events were
    /// dropped, so message accounting is not asserted.
    fn overflow_report(self) -> RunReport {
        let (source, source_count) = self.largest_pending_group();
        RunReport {
            end: self.now,
            events: self.events.get(),
            queue_events: self.queue_events,
            messages: self.stats.clone(),
            pending_high_water: self.queue.pending_high_water(),
            pending_mean: self.pending_mean(),
            stopped_early: None,
            overflow: Some(PendingOverflow {
                at: self.now,
                pending_max: self.config.pending_max,
                source,
                source_count,
            }),
        }
    }

    /// What most of the pending events are, in words, and how many.
    fn largest_pending_group(&self) -> (String, usize) {
        let mut groups: std::collections::BTreeMap<String, usize> = Default::default();
        for event in self.queue.pending() {
            let group = match event {
                Event::Deliver { to, message, .. } => {
                    format!("messages `{}` to node {to}", short_name(message))
                }
                Event::Timer { node, generation } => {
                    let timer = self.nodes[*node as usize]
                        .timers
                        .iter()
                        .find(|entry| entry.generation == *generation)
                        .map_or("since cancelled or replaced".to_string(), |entry| {
                            short_name(&entry.timer)
                        });
                    format!("timers `{timer}` of node {node}")
                }
                Event::Resume { node, .. } => format!("resumes of node {node}"),
                Event::DegradeEnd { .. } => "ends of degraded links".to_string(),
            };
            *groups.entry(group).or_default() += 1;
        }
        groups
            .into_iter()
            .max_by_key(|(_, count)| *count)
            .unwrap_or_default()
    }

    fn finish(mut self, stopped_early: Option<String>) -> RunReport {
        let on_wire = self
            .queue
            .pending()
            .filter(|event| matches!(event, Event::Deliver { .. }))
            .count();
        let in_inboxes: usize = self
            .nodes
            .iter()
            .map(|slot| {
                slot.inbox
                    .iter()
                    .filter(|queued| matches!(queued, Queued::Message { .. }))
                    .count()
            })
            .sum();
        self.stats.in_flight = (on_wire + in_inboxes) as u64;
        assert!(
            self.stats.balances(),
            "message accounting does not balance: {:?}",
            self.stats
        );
        RunReport {
            end: self.now,
            events: self.events.get(),
            queue_events: self.queue_events,
            pending_mean: self.pending_mean(),
            messages: self.stats,
            pending_high_water: self.queue.pending_high_water(),
            stopped_early,
            overflow: None,
        }
    }

    fn emit<O: Observer<P> + ?Sized>(&self, observer: &mut O, event: TraceEvent<'_, P>) {
        let world = WorldView {
            network: &self.network,
            statuses: &self.statuses,
        };
        self.events.set(self.events.get() + 1);
        observer.observe(self.now, &event, &world);
    }

    /// When the next event is due and where it comes from, in the order one
    /// queue holding everything would give if it were filled with the node
    /// starts, then the faults, before the run began: every node starts at
    /// time zero before any fault (so a fault at time zero applies to a
    /// started node), and a fault precedes anything scheduled during the run
    /// for the same instant.
    fn next_due(&mut self) -> Option<(SimTime, Source)> {
        while (self.started as usize) < self.joiner.len() && self.joiner[self.started as usize] {
            self.started += 1;
        }
        if self.started < self.config.node_count {
            return Some((SimTime::ZERO, Source::Start));
        }
        let fault = self.config.faults.get(self.fault_next).map(|f| f.at);
        match (fault, self.queue.peek_time()) {
            (Some(fault), Some(queued)) if queued < fault => Some((queued, Source::Queued)),
            (Some(fault), _) => Some((fault, Source::Fault)),
            (None, queued) => queued.map(|queued| (queued, Source::Queued)),
        }
    }

    /// Takes the event `next_due` pointed at.
    fn take(&mut self, source: Source) -> Next<P> {
        match source {
            Source::Start => {
                self.started += 1;
                Next::Start {
                    node: self.started - 1,
                }
            }
            Source::Fault => {
                self.fault_next += 1;
                Next::Fault {
                    index: self.fault_next - 1,
                }
            }
            Source::Queued => Next::Queued(self.queue.pop().expect("a queued event is due").1),
        }
    }

    fn handle<O: Observer<P> + ?Sized>(&mut self, next: Next<P>, observer: &mut O) {
        let event = match next {
            Next::Start { node } => {
                assert_eq!(
                    self.statuses[node as usize],
                    NodeStatus::Up,
                    "node {node} is not up at its start"
                );
                self.emit(observer, TraceEvent::Start { node });
                self.start_node(node, false, observer);
                return;
            }
            Next::Fault { index } => return self.apply_fault(index, observer),
            Next::Queued(event) => event,
        };
        match event {
            Event::Deliver {
                from,
                to,
                id,
                message,
            } => self.deliver(from, to, id, message, observer),
            Event::Timer { node, generation } => self.timer_due(node, generation, observer),
            Event::Resume { node, pause } => self.resume(node, pause, observer),
            Event::DegradeEnd { id, from, to } => {
                self.network.remove_override(id);
                self.emit(observer, TraceEvent::DegradeEnd { from, to });
            }
        }
    }

    fn start_node<O: Observer<P> + ?Sized>(
        &mut self,
        node: NodeId,
        restart: bool,
        observer: &mut O,
    ) {
        let slot = &mut self.nodes[node as usize];
        debug_assert!(slot.state.is_none() && slot.timers.is_empty());
        // What the node had persisted; it persists anew through the context.
        let durable = restart.then(|| slot.durable.clone());
        let mut context = Context::new(
            node,
            self.config.node_count,
            slot.clock.local_at(self.now),
            &mut slot.rng,
            &mut slot.durable,
            &mut self.commands,
        );
        let state = if let Some(durable) = durable {
            self.protocol.on_restart(&mut context, &durable)
        } else {
            self.protocol.on_start(&mut context)
        };
        slot.state = Some(state);
        self.apply_commands(node, observer);
    }

    fn deliver<O: Observer<P> + ?Sized>(
        &mut self,
        from: NodeId,
        to: NodeId,
        id: u64,
        message: P::Message,
        observer: &mut O,
    ) {
        if !self.network.link_up(from, to) {
            self.drop_message(from, to, id, DropReason::LinkDown, observer);
            return;
        }
        match self.statuses[to as usize] {
            NodeStatus::Crashed => {
                self.drop_message(from, to, id, DropReason::CrashedDestination, observer)
            }
            NodeStatus::Paused => {
                if self.nodes[to as usize].inbox.len() >= self.config.inbox_max {
                    self.drop_message(from, to, id, DropReason::InboxOverflow, observer);
                } else {
                    self.nodes[to as usize]
                        .inbox
                        .push_back(Queued::Message { from, id, message });
                    self.emit(observer, TraceEvent::Enqueue { node: to, from, id });
                }
            }
            NodeStatus::Up => self.handle_message(from, to, id, message, observer),
        }
    }

    fn drop_message<O: Observer<P> + ?Sized>(
        &mut self,
        from: NodeId,
        to: NodeId,
        id: u64,
        reason: DropReason,
        observer: &mut O,
    ) {
        self.stats.record_drop(reason);
        self.emit(
            observer,
            TraceEvent::Drop {
                node: to,
                from,
                id,
                reason,
            },
        );
    }

    fn handle_message<O: Observer<P> + ?Sized>(
        &mut self,
        from: NodeId,
        to: NodeId,
        id: u64,
        message: P::Message,
        observer: &mut O,
    ) {
        assert_eq!(
            self.statuses[to as usize],
            NodeStatus::Up,
            "message handed to node {to} that is not up"
        );
        self.stats.delivered += 1;
        self.emit(
            observer,
            TraceEvent::Deliver {
                node: to,
                from,
                id,
                message: &message,
            },
        );
        self.cause = Some(id);
        self.dispatch(to, observer, |protocol, state, context| {
            protocol.on_message(state, context, from, message)
        });
        self.cause = None;
    }

    fn timer_due<O: Observer<P> + ?Sized>(
        &mut self,
        node: NodeId,
        generation: u64,
        observer: &mut O,
    ) {
        let slot = &mut self.nodes[node as usize];
        let Some(entry) = slot
            .timers
            .iter()
            .find(|entry| entry.generation == generation)
        else {
            return; // Cancelled, replaced, or wiped by a crash.
        };
        let local_now = slot.clock.local_at(self.now);
        if local_now < entry.deadline {
            // The local clock has not reached the deadline yet (it slowed or
            // stepped back after the timer was set): wait for the remainder.
            let remaining = slot.clock.true_span_for(entry.deadline.since(local_now));
            self.queue
                .push(self.now.after(remaining), Event::Timer { node, generation });
            return;
        }
        match self.statuses[node as usize] {
            NodeStatus::Crashed => unreachable!("a crashed node has no timers"),
            NodeStatus::Paused => slot.inbox.push_back(Queued::Timer { generation }),
            NodeStatus::Up => self.fire_timer(node, generation, observer),
        }
    }

    fn fire_timer<O: Observer<P> + ?Sized>(
        &mut self,
        node: NodeId,
        generation: u64,
        observer: &mut O,
    ) {
        let slot = &mut self.nodes[node as usize];
        let Some(position) = slot
            .timers
            .iter()
            .position(|entry| entry.generation == generation)
        else {
            return;
        };
        // `remove`, not `swap_remove`: the table stays in the order timers were
        // set, which is the order a clock change re-arms them in.
        let entry = slot.timers.remove(position);
        self.emit(
            observer,
            TraceEvent::Timer {
                node,
                timer: &entry.timer,
            },
        );
        self.dispatch(node, observer, |protocol, state, context| {
            protocol.on_timer(state, context, entry.timer)
        });
    }

    /// Calls a handler of an up node with its state and its context, then
    /// applies the commands it returned.
    fn dispatch<O: Observer<P> + ?Sized>(
        &mut self,
        node: NodeId,
        observer: &mut O,
        handler: impl FnOnce(&P, &mut P::State, &mut Context<'_, P>),
    ) {
        let slot = &mut self.nodes[node as usize];
        let state = slot.state.as_mut().expect("an up node has state");
        let local_now = slot.clock.local_at(self.now);
        let mut context = Context::new(
            node,
            self.config.node_count,
            local_now,
            &mut slot.rng,
            &mut slot.durable,
            &mut self.commands,
        );
        handler(&self.protocol, state, &mut context);
        self.apply_commands(node, observer);
    }

    fn apply_commands<O: Observer<P> + ?Sized>(&mut self, node: NodeId, observer: &mut O) {
        let mut commands = std::mem::take(&mut self.commands);
        // Several persists in one handler are one write: the state is in place
        // from the first of them on (nothing can happen to a node in the
        // middle of a handler), so the trace shows it once, where it was first
        // saved, with what was saved.
        let mut persisted = false;
        for command in commands.drain(..) {
            match command {
                Command::Send { to, message } => self.send(node, to, message, observer),
                Command::SetTimer { timer, after } => {
                    let generation = self.generation_next;
                    self.generation_next += 1;
                    let slot = &mut self.nodes[node as usize];
                    let deadline = slot.clock.local_at(self.now).after(after);
                    slot.timers.retain(|entry| entry.timer != timer);
                    slot.timers.push(TimerEntry {
                        timer,
                        generation,
                        deadline,
                    });
                    let fire_at = self.now.after(slot.clock.true_span_for(after));
                    self.queue.push(fire_at, Event::Timer { node, generation });
                }
                Command::CancelTimer { timer } => self.nodes[node as usize]
                    .timers
                    .retain(|entry| entry.timer != timer),
                Command::Observe(observation) => self.observe(node, &observation, observer),
                Command::Persist if !persisted => {
                    persisted = true;
                    self.emit(
                        observer,
                        TraceEvent::Persist {
                            node,
                            durable: &self.nodes[node as usize].durable,
                        },
                    );
                }
                Command::Persist => {}
            }
        }
        // Hand the (empty) buffer back so its allocation is reused.
        self.commands = commands;
    }

    /// Reports an observation with the node's clock reading, the message
    /// that caused it, and, for one that names a deadline on the node's
    /// clock, the true time at which that clock reaches it.
    fn observe<O: Observer<P> + ?Sized>(
        &self,
        node: NodeId,
        observation: &P::Observation,
        observer: &mut O,
    ) {
        let local = self.nodes[node as usize].clock.local_at(self.now);
        let deadline = self
            .protocol
            .observation_deadline(observation)
            .map(|deadline| self.true_time_reaching(node, deadline));
        self.emit(
            observer,
            TraceEvent::Observe {
                node,
                local,
                cause: self.cause,
                deadline,
                observation,
            },
        );
    }

    /// The first true time at which `node`'s clock reads `local` or more,
    /// following the clock through the drift changes and jumps still
    /// scheduled (faults are the only thing that changes a clock).
    fn true_time_reaching(&self, node: NodeId, local: LocalTime) -> SimTime {
        let mut clock = self.nodes[node as usize].clock.clone();
        let mut from = self.now;
        let crossing = |clock: &NodeClock, from: SimTime| {
            let reading = clock.local_at(from);
            if reading >= local {
                from
            } else {
                from.after(clock.true_span_for(local.since(reading)))
            }
        };
        for scheduled in &self.config.faults[self.fault_next..] {
            let at = scheduled.at;
            match scheduled.fault {
                Fault::ClockDrift { node: n, ppm } if n == node => {
                    let reached = crossing(&clock, from);
                    if reached <= at {
                        return reached;
                    }
                    clock.set_drift(at, ppm);
                }
                Fault::ClockJump {
                    node: n,
                    by,
                    backward,
                } if n == node => {
                    let reached = crossing(&clock, from);
                    if reached <= at {
                        return reached;
                    }
                    clock.jump(at, by, backward);
                }
                _ => continue,
            }
            from = at;
        }
        crossing(&clock, from)
    }

    fn send<O: Observer<P> + ?Sized>(
        &mut self,
        from: NodeId,
        to: NodeId,
        message: P::Message,
        observer: &mut O,
    ) {
        assert!(
            to < self.config.node_count,
            "node {from} sent to node {to}, which does not exist"
        );
        let id = self.message_id_next;
        self.message_id_next += 1;
        self.stats.sent += 1;
        self.emit(
            observer,
            TraceEvent::Send {
                node: from,
                to,
                id,
                message: &message,
            },
        );
        let transmission = self.network.transmit(from, to, self.now);
        if transmission.lost {
            self.drop_message(from, to, id, DropReason::RandomLoss, observer);
            return;
        }
        if let Some(arrival) = transmission.duplicate_arrival {
            self.stats.duplicated += 1;
            self.emit(observer, TraceEvent::Duplicate { node: from, to, id });
            self.queue.push(
                arrival,
                Event::Deliver {
                    from,
                    to,
                    id,
                    message: message.clone(),
                },
            );
        }
        self.queue.push(
            transmission.arrival,
            Event::Deliver {
                from,
                to,
                id,
                message,
            },
        );
    }

    fn apply_fault<O: Observer<P> + ?Sized>(&mut self, index: usize, observer: &mut O) {
        // A copy, not the schedule taken out for the while: a node restarting
        // here may report a deadline, which reads the rest of the schedule.
        let fault = self.config.faults[index].fault.clone();
        self.apply_scheduled_fault(index, &fault, observer);
    }

    fn apply_scheduled_fault<O: Observer<P> + ?Sized>(
        &mut self,
        index: usize,
        fault: &Fault,
        observer: &mut O,
    ) {
        match *fault {
            Fault::Partition { ref groups } => {
                self.network.partition(groups);
                self.emit(observer, TraceEvent::Partition { groups });
            }
            Fault::Heal => {
                self.network.heal();
                self.emit(observer, TraceEvent::Heal);
            }
            Fault::CutLink { from, to } => {
                self.network.cut(from, to);
                self.emit(observer, TraceEvent::CutLink { from, to });
            }
            Fault::RestoreLink { from, to } => {
                self.network.restore(from, to);
                self.emit(observer, TraceEvent::RestoreLink { from, to });
            }
            Fault::Crash { node } => self.crash(node, false, observer),
            Fault::Leave { node } => self.crash(node, true, observer),
            Fault::Join { node } => self.join(node, observer),
            Fault::Restart { node } => self.restart(node, observer),
            Fault::Pause { node, duration } => self.pause(node, duration, observer),
            Fault::ClockDrift { node, ppm } => {
                self.nodes[node as usize].clock.set_drift(self.now, ppm);
                self.reschedule_timers(node);
                self.emit(observer, TraceEvent::ClockDrift { node, ppm });
            }
            Fault::ClockJump { node, by, backward } => {
                self.nodes[node as usize].clock.jump(self.now, by, backward);
                self.reschedule_timers(node);
                self.emit(observer, TraceEvent::ClockJump { node, by, backward });
            }
            Fault::DegradeLink { .. } => self.degrade(index, fault, observer),
        }
    }

    fn join<O: Observer<P> + ?Sized>(&mut self, node: NodeId, observer: &mut O) {
        assert!(
            self.joiner[node as usize] && self.statuses[node as usize] == NodeStatus::Crashed,
            "join of node {node} that is not absent"
        );
        self.statuses[node as usize] = NodeStatus::Up;
        self.emit(observer, TraceEvent::Join { node });
        self.start_node(node, false, observer);
    }

    fn restart<O: Observer<P> + ?Sized>(&mut self, node: NodeId, observer: &mut O) {
        assert_eq!(
            self.statuses[node as usize],
            NodeStatus::Crashed,
            "restart of node {node} that is not down"
        );
        self.statuses[node as usize] = NodeStatus::Up;
        self.emit(observer, TraceEvent::Restart { node });
        self.start_node(node, true, observer);
    }

    fn pause<O: Observer<P> + ?Sized>(
        &mut self,
        node: NodeId,
        duration: SimDuration,
        observer: &mut O,
    ) {
        // A pause that ends at this very instant ends first: faults were
        // queued before the resume, but the schedule says the node is up.
        let slot = &self.nodes[node as usize];
        if self.statuses[node as usize] == NodeStatus::Paused && slot.pause_until <= self.now {
            self.resume(node, slot.pause, observer);
        }
        assert_eq!(
            self.statuses[node as usize],
            NodeStatus::Up,
            "pause of node {node} that is not up"
        );
        self.statuses[node as usize] = NodeStatus::Paused;
        self.pause_next += 1;
        self.nodes[node as usize].pause = self.pause_next;
        self.nodes[node as usize].pause_until = self.now.after(duration);
        self.queue.push(
            self.now.after(duration),
            Event::Resume {
                node,
                pause: self.pause_next,
            },
        );
        self.emit(observer, TraceEvent::Pause { node, duration });
    }

    /// A degraded link, identified by its fault's index until it ends.
    fn degrade<O: Observer<P> + ?Sized>(&mut self, index: usize, fault: &Fault, observer: &mut O) {
        let Fault::DegradeLink {
            from,
            to,
            duration,
            drop,
            ref latency,
        } = *fault
        else {
            unreachable!("called for a degraded link")
        };
        let id = index as u64;
        let link_override = super::network::LinkOverride {
            from,
            to,
            drop,
            latency: latency.clone(),
        };
        self.network.add_override(id, link_override);
        self.queue
            .push(self.now.after(duration), Event::DegradeEnd { id, from, to });
        self.emit(
            observer,
            TraceEvent::DegradeLink {
                from,
                to,
                duration,
                drop,
                latency: latency.as_ref(),
            },
        );
    }

    /// A crash, or a leave (a crash for good, traced as such).
    fn crash<O: Observer<P> + ?Sized>(&mut self, node: NodeId, leave: bool, observer: &mut O) {
        if leave && self.statuses[node as usize] == NodeStatus::Crashed {
            // Leaving while crashed: nothing runs that could stop.
            self.emit(observer, TraceEvent::Leave { node });
            return;
        }
        assert_ne!(
            self.statuses[node as usize],
            NodeStatus::Crashed,
            "crash of node {node} that is already down"
        );
        self.statuses[node as usize] = NodeStatus::Crashed;
        let slot = &mut self.nodes[node as usize];
        slot.state = None;
        slot.timers.clear();
        let inbox = std::mem::take(&mut slot.inbox);
        self.emit(
            observer,
            if leave {
                TraceEvent::Leave { node }
            } else {
                TraceEvent::Crash { node }
            },
        );
        for queued in inbox {
            if let Queued::Message { from, id, .. } = queued {
                self.drop_message(from, node, id, DropReason::CrashedDestination, observer);
            }
        }
    }

    fn resume<O: Observer<P> + ?Sized>(&mut self, node: NodeId, pause: u64, observer: &mut O) {
        if self.statuses[node as usize] != NodeStatus::Paused
            || self.nodes[node as usize].pause != pause
        {
            return; // The node crashed during the pause.
        }
        self.statuses[node as usize] = NodeStatus::Up;
        self.emit(observer, TraceEvent::Resume { node });
        // Handle, in arrival order, everything that queued up. Handlers cannot
        // pause or crash the node, so it stays up throughout.
        while let Some(queued) = self.nodes[node as usize].inbox.pop_front() {
            match queued {
                Queued::Message { from, id, message } => {
                    self.handle_message(from, node, id, message, observer)
                }
                Queued::Timer { generation } => self.fire_timer(node, generation, observer),
            }
        }
    }

    /// After a clock change, every pending timer of the node is re-aimed at
    /// the true time when the new clock reaches its local deadline.
    fn reschedule_timers(&mut self, node: NodeId) {
        let slot = &mut self.nodes[node as usize];
        let local_now = slot.clock.local_at(self.now);
        for entry in slot.timers.iter_mut() {
            entry.generation = self.generation_next;
            self.generation_next += 1;
            let fire_at = self
                .now
                .after(slot.clock.true_span_for(entry.deadline.since(local_now)));
            self.queue.push(
                fire_at,
                Event::Timer {
                    node,
                    generation: entry.generation,
                },
            );
        }
    }
}

/// A protocol value's name as its JSON shows it: a message's `type`, a unit
/// timer's name, or the one key of an enum with data.
fn short_name(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        Ok(serde_json::Value::Object(fields)) => match fields.get("type") {
            Some(serde_json::Value::String(name)) => name.clone(),
            _ if fields.len() == 1 => fields.keys().next().cloned().unwrap_or_default(),
            _ => "message".to_string(),
        },
        _ => "value".to_string(),
    }
}
