//! Checks for the heartbeat failure detector.
//!
//! `Completeness(within)`: every crash of a node is suspected by every other
//! node that stays up (not crashed, not paused) from the crash to the deadline,
//! within `within` of the crash. Crashes shorter than `within` and crashes
//! whose deadline lies past the end of the run are not judged (and say so).
//!
//! `Accuracy`: a suspicion of `b` by `a` that starts at time t is *explained*
//! if, within the look-back window `timeout + interval + latency bound` before
//! t, `b` was crashed or the link `b -> a` was down (partition or cut): missing
//! heartbeats were then expected. Any other suspicion is a *mistake*, whatever
//! the cause (a paused or slow node, clock drift, loss or latency beyond the
//! timeout); the detector cannot tell these from a crash, which is why they are
//! counted rather than excused.
//!
//! Accuracy also asks for eventual accuracy: a suspicion that is still held
//! more than one look-back window after the suspect became reachable again (up,
//! and the link from it up) is a mistake too, reported as lingering.

use super::{report, CheckName, CheckReport, Violation};
use crate::node::NodeId;
use crate::protocols::heartbeat::{Heartbeat, Suspicion};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::{Observer, TraceEvent, WorldView};
use std::fmt::Write;

/// One interval during which `observer` suspected `suspect`.
#[derive(Clone, Debug, PartialEq)]
pub struct SuspicionInterval {
    pub observer: NodeId,
    pub suspect: NodeId,
    pub start: SimTime,
    /// `None` while still suspected at the end of the run.
    pub end: Option<SimTime>,
    pub mistake: bool,
    /// Why, for mistakes: the most likely cause in words.
    pub cause: String,
}

impl SuspicionInterval {
    fn lingering_cause(&self, reachable_for: SimDuration) -> String {
        format!(
            "still suspected {reachable_for} after node {} became reachable again",
            self.suspect
        )
    }
}

struct Obligation {
    crashed: NodeId,
    at: SimTime,
    deadline: SimTime,
}

/// Watches a heartbeat run and judges it.
pub struct HeartbeatJudge {
    node_count: usize,
    window: SimDuration,
    within: Option<SimDuration>,
    /// Per node: crashed now, and when its last crash ended.
    crashed: Vec<bool>,
    crash_ended: Vec<Option<SimTime>>,
    /// Per node: paused now, and when its last pause ended.
    paused: Vec<bool>,
    pause_ended: Vec<Option<SimTime>>,
    /// Per node: when it last was crashed or paused (for exemptions).
    down_ended: Vec<Option<SimTime>>,
    drift_ppm: Vec<i64>,
    /// Per directed link `from * n + to`: down now, and when it last came back.
    link_down: Vec<bool>,
    link_restored: Vec<Option<SimTime>>,
    /// Per (observer, suspect): the index of the open interval, if any.
    open: Vec<Option<usize>>,
    intervals: Vec<SuspicionInterval>,
    explained: u64,
    obligations: Vec<Obligation>,
    /// (crashed, observer, detection time) for every judged detection.
    detections: Vec<(NodeId, NodeId, SimDuration)>,
    completeness_violations: Vec<Violation>,
    crashes_judged: u64,
    crashes_too_short: u64,
    crashes_past_end: u64,
}

impl HeartbeatJudge {
    /// `latency_bound` is the largest latency the network can produce;
    /// `within` is Completeness's bound, if that check runs.
    pub fn new(
        node_count: u32,
        protocol: &Heartbeat,
        latency_bound: SimDuration,
        within: Option<SimDuration>,
    ) -> Self {
        let n = node_count as usize;
        HeartbeatJudge {
            node_count: n,
            window: protocol
                .timeout
                .saturating_add(protocol.interval)
                .saturating_add(latency_bound),
            within,
            crashed: vec![false; n],
            crash_ended: vec![None; n],
            paused: vec![false; n],
            pause_ended: vec![None; n],
            down_ended: vec![None; n],
            drift_ppm: vec![0; n],
            link_down: vec![false; n * n],
            link_restored: vec![None; n * n],
            open: vec![None; n * n],
            intervals: Vec::new(),
            explained: 0,
            obligations: Vec::new(),
            detections: Vec::new(),
            completeness_violations: Vec::new(),
            crashes_judged: 0,
            crashes_too_short: 0,
            crashes_past_end: 0,
        }
    }

    fn recent(&self, ended: Option<SimTime>, now: SimTime) -> bool {
        ended.is_some_and(|ended| ended >= now.before(self.window))
    }

    fn explain(&self, observer: NodeId, suspect: NodeId, now: SimTime) -> Option<String> {
        let (a, b) = (observer as usize, suspect as usize);
        let link = b * self.node_count + a;
        if self.crashed[b] || self.recent(self.crash_ended[b], now) {
            return Some(format!("node {suspect} crashed"));
        }
        if self.link_down[link] || self.recent(self.link_restored[link], now) {
            return Some(format!("link {suspect}->{observer} was down"));
        }
        None
    }

    fn cause_of_mistake(&self, observer: NodeId, suspect: NodeId, now: SimTime) -> String {
        let (a, b) = (observer as usize, suspect as usize);
        if self.paused[b] || self.recent(self.pause_ended[b], now) {
            format!("node {suspect} was paused")
        } else if self.recent(self.pause_ended[a], now) {
            format!("node {observer} resumed from a pause and ran its stale timers first")
        } else if self.drift_ppm[a] != 0 || self.drift_ppm[b] != 0 {
            format!(
                "clock drift (node {observer}: {} ppm, node {suspect}: {} ppm)",
                self.drift_ppm[a], self.drift_ppm[b]
            )
        } else {
            "no fault explains it: heartbeats were lost or slower than the timeout".to_string()
        }
    }

    fn close(&mut self, observer: NodeId, suspect: NodeId, now: SimTime) {
        let key = observer as usize * self.node_count + suspect as usize;
        if let Some(index) = self.open[key].take() {
            self.judge_lingering(index, now);
            self.intervals[index].end = Some(now);
        }
    }

    /// Since when `suspect` has been continuously reachable by `observer`
    /// (up and the link from it up), if it is now.
    fn reachable_since(&self, observer: NodeId, suspect: NodeId) -> Option<SimTime> {
        let (a, b) = (observer as usize, suspect as usize);
        let link = b * self.node_count + a;
        if self.crashed[b] || self.link_down[link] {
            return None;
        }
        Some(
            self.crash_ended[b]
                .max(self.link_restored[link])
                .unwrap_or(SimTime::ZERO),
        )
    }

    /// Marks an explained suspicion as a mistake if it outlived its reason by
    /// more than the look-back window at time `now`.
    fn judge_lingering(&mut self, index: usize, now: SimTime) {
        let interval = &self.intervals[index];
        if interval.mistake {
            return;
        }
        if let Some(since) = self.reachable_since(interval.observer, interval.suspect) {
            let since = since.max(interval.start);
            let reachable_for = now.since(since);
            if reachable_for > self.window {
                let cause = interval.lingering_cause(reachable_for);
                let interval = &mut self.intervals[index];
                interval.mistake = true;
                interval.cause = cause;
                self.explained -= 1;
            }
        }
    }

    fn suspecting(&self, observer: NodeId, suspect: NodeId) -> bool {
        self.open[observer as usize * self.node_count + suspect as usize].is_some()
    }

    /// Judges every obligation whose deadline has passed by `now` (exclusive),
    /// or by `now` inclusive at the end of the run.
    fn resolve_due(&mut self, now: SimTime, inclusive: bool) {
        let due = |deadline: SimTime| {
            if inclusive {
                deadline <= now
            } else {
                deadline < now
            }
        };
        let mut remaining = Vec::new();
        for obligation in std::mem::take(&mut self.obligations) {
            if !due(obligation.deadline) {
                remaining.push(obligation);
                continue;
            }
            self.crashes_judged += 1;
            let mut missing = Vec::new();
            for observer in 0..self.node_count as NodeId {
                let o = observer as usize;
                if observer == obligation.crashed {
                    continue;
                }
                let stayed_up = !self.crashed[o]
                    && !self.paused[o]
                    && self.down_ended[o].is_none_or(|ended| ended < obligation.at);
                if stayed_up && !self.suspecting(observer, obligation.crashed) {
                    missing.push(observer);
                }
            }
            if !missing.is_empty() {
                self.completeness_violations.push(Violation {
                    time: obligation.deadline,
                    nodes: std::iter::once(obligation.crashed)
                        .chain(missing.iter().copied())
                        .collect(),
                    message: format!(
                        "node {} crashed at {} and was not suspected by {:?} within {}",
                        obligation.crashed,
                        obligation.at,
                        missing,
                        self.within.unwrap_or_default()
                    ),
                });
            }
        }
        self.obligations = remaining;
    }

    fn on_topology_change(&mut self, now: SimTime, world: &WorldView<'_>) {
        let n = self.node_count;
        for from in 0..n {
            for to in 0..n {
                let down = !world.link_up(from as NodeId, to as NodeId);
                let key = from * n + to;
                if self.link_down[key] && !down {
                    self.link_restored[key] = Some(now);
                }
                self.link_down[key] = down;
            }
        }
    }

    /// Suspicion intervals, for charts.
    pub fn intervals(&self) -> &[SuspicionInterval] {
        &self.intervals
    }

    pub fn completeness_report(&mut self, end: SimTime) -> CheckReport {
        self.resolve_due(end, true);
        self.crashes_past_end += self.obligations.len() as u64;
        self.obligations.clear();
        let within = self.within.unwrap_or_default();
        let mut detail = format!(
            "{} crash(es) judged against the {within} bound ({} too short to judge, {} too close to the end)",
            self.crashes_judged, self.crashes_too_short, self.crashes_past_end
        );
        if let Some(slowest) = self.detections.iter().map(|d| d.2).max() {
            let _ = write!(detail, "; slowest detection {slowest}");
        }
        let _ = write!(detail, "; detection times:");
        for (crashed, observer, took) in self.detections.iter().take(40) {
            let _ = write!(detail, " {crashed} by {observer} in {took},");
        }
        detail.pop();
        if self.detections.len() > 40 {
            let _ = write!(detail, " and {} more", self.detections.len() - 40);
        }
        report(
            CheckName::Completeness,
            detail,
            self.completeness_violations.clone(),
        )
    }

    pub fn accuracy_report(&mut self, end: SimTime) -> CheckReport {
        for key in 0..self.open.len() {
            if let Some(index) = self.open[key] {
                self.judge_lingering(index, end);
            }
        }
        let mistakes: Vec<&SuspicionInterval> =
            self.intervals.iter().filter(|i| i.mistake).collect();
        let mut detail = format!(
            "{} false suspicion(s); {} suspicion(s) explained by crashes, partitions or cut links (expected, not mistakes)",
            mistakes.len(),
            self.explained
        );
        for mistake in mistakes.iter().take(20) {
            let lasted = match mistake.end {
                Some(end) => format!("for {}", end.since(mistake.start)),
                None => "until the end".to_string(),
            };
            let _ = write!(
                detail,
                "; node {} suspected node {} at {} {lasted} ({})",
                mistake.observer, mistake.suspect, mistake.start, mistake.cause
            );
        }
        if mistakes.len() > 20 {
            let _ = write!(detail, "; and {} more", mistakes.len() - 20);
        }
        let violations: Vec<Violation> = mistakes
            .iter()
            .map(|m| Violation {
                time: m.start,
                nodes: vec![m.observer, m.suspect],
                message: format!(
                    "node {} falsely suspected node {} ({})",
                    m.observer, m.suspect, m.cause
                ),
            })
            .collect();
        // The detail already names every mistake; no second list.
        CheckReport::new(CheckName::Accuracy, detail, violations)
    }
}

impl Observer<Heartbeat> for HeartbeatJudge {
    fn observe(&mut self, now: SimTime, event: &TraceEvent<'_, Heartbeat>, world: &WorldView<'_>) {
        if !self.obligations.is_empty() {
            self.resolve_due(now, false);
        }
        match *event {
            TraceEvent::Observe { node, observation } => match *observation {
                Suspicion::Suspect { peer } => {
                    let (mistake, cause) = match self.explain(node, peer, now) {
                        Some(reason) => {
                            self.explained += 1;
                            (false, reason)
                        }
                        None => (true, self.cause_of_mistake(node, peer, now)),
                    };
                    if self.crashed[peer as usize] {
                        if let Some(crash) = self.obligations.iter().find(|o| o.crashed == peer) {
                            self.detections.push((peer, node, now.since(crash.at)));
                        }
                    }
                    let key = node as usize * self.node_count + peer as usize;
                    debug_assert!(self.open[key].is_none(), "suspect twice without trust");
                    self.open[key] = Some(self.intervals.len());
                    self.intervals.push(SuspicionInterval {
                        observer: node,
                        suspect: peer,
                        start: now,
                        end: None,
                        mistake,
                        cause,
                    });
                }
                Suspicion::Trust { peer } => self.close(node, peer, now),
            },
            TraceEvent::Crash { node } => {
                self.crashed[node as usize] = true;
                // A crash wipes the node's suspicions along with its state.
                for suspect in 0..self.node_count as NodeId {
                    self.close(node, suspect, now);
                }
                if let Some(within) = self.within {
                    self.obligations.push(Obligation {
                        crashed: node,
                        at: now,
                        deadline: now.after(within),
                    });
                }
            }
            TraceEvent::Restart { node } => {
                self.crashed[node as usize] = false;
                self.crash_ended[node as usize] = Some(now);
                self.down_ended[node as usize] = Some(now);
                let before = self.obligations.len();
                self.obligations.retain(|o| o.crashed != node);
                self.crashes_too_short += (before - self.obligations.len()) as u64;
            }
            TraceEvent::Pause { node, .. } => self.paused[node as usize] = true,
            TraceEvent::Resume { node } => {
                self.paused[node as usize] = false;
                self.pause_ended[node as usize] = Some(now);
                self.down_ended[node as usize] = Some(now);
            }
            TraceEvent::ClockDrift { node, ppm } => self.drift_ppm[node as usize] = ppm,
            TraceEvent::Partition { .. }
            | TraceEvent::Heal
            | TraceEvent::CutLink { .. }
            | TraceEvent::RestoreLink { .. } => self.on_topology_change(now, world),
            _ => {}
        }
    }
}
