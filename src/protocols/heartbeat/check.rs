//! Checks for the heartbeat failure detector.
//!
//! `Completeness(within)`: Chandra and Toueg's strong completeness ("every
//! crashed process is eventually permanently suspected by every correct
//! process"), with a bound. Node `p` must suspect node `q` at every moment
//! `t` at which `q` has been crashed for the whole of `[t - within, t]` and
//! `p` has been up (not crashed, not paused) for the whole of it. So a crash
//! must be suspected within `within` of it (or of the observer's coming back
//! up, if that is later), and stay suspected until the crashed node restarts:
//! trusting it again in between is a violation. Crashes shorter than `within`
//! and crashes whose deadline lies past the end of the run are not judged (and
//! say so). A node that has left counts as crashed for good, and a node that
//! has not joined yet as crashed since the start.
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

use super::{Heartbeat, Suspicion};
use crate::check::{report, CheckReport, Coverage, PropertyKind, Violation};
use crate::harness::{Check, HumanDuration, Judge, RunSetup};
use crate::node::NodeId;
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::{Observer, TraceEvent, WorldView};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// What `checks: [...]` may list for the heartbeat detector.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub enum HeartbeatCheck {
    /// Every crash suspected within the bound, and kept suspected.
    Completeness {
        /// The bound.
        within: HumanDuration,
    },
    /// No false suspicion.
    Accuracy,
    /// Coverage: some crash was suspected.
    CrashDetected,
    /// Coverage: some suspicion was taken back.
    SuspicionRevoked,
}

impl Check for HeartbeatCheck {
    fn name(&self) -> &'static str {
        match self {
            HeartbeatCheck::Completeness { .. } => "Completeness",
            HeartbeatCheck::Accuracy => "Accuracy",
            HeartbeatCheck::CrashDetected => "CrashDetected",
            HeartbeatCheck::SuspicionRevoked => "SuspicionRevoked",
        }
    }
}

/// One interval during which `observer` suspected `suspect`.
#[derive(Clone, Debug, PartialEq)]
pub struct SuspicionInterval {
    /// The node that suspected.
    pub observer: NodeId,
    /// The node it suspected.
    pub suspect: NodeId,
    /// When the suspicion began.
    pub start: SimTime,
    /// `None` while still suspected at the end of the run.
    pub end: Option<SimTime>,
    /// Whether the suspicion was a mistake: the suspect was up and reachable.
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

/// One crash of a node, from the crash to its restart (if any).
struct CrashRecord {
    node: NodeId,
    at: SimTime,
    end: Option<SimTime>,
}

/// When observer `observer` must start suspecting crashed `crashed`:
/// checked once the run is past `deadline`. Ordered by deadline first, so
/// the judge finds the due ones without scanning the rest (a crash in a
/// 1,000-node run arms 999 of them).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Deadline {
    deadline: SimTime,
    observer: NodeId,
    crashed: NodeId,
}

/// Watches a heartbeat run and judges it.
pub struct HeartbeatJudge {
    node_count: usize,
    window: SimDuration,
    within: Option<SimDuration>,
    /// Per node: crashed now, and when its last crash ended.
    crashed: Vec<bool>,
    crash_ended: Vec<Option<SimTime>>,
    /// Per node: since when it has been crashed, if it is now.
    crashed_since: Vec<Option<SimTime>>,
    /// Per node: since when it has been up (neither crashed nor paused), if it is now.
    up_since: Vec<Option<SimTime>>,
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
    crashes: Vec<CrashRecord>,
    deadlines: BTreeSet<Deadline>,
    /// (crashed, observer, detection time): the first suspicion of each crash
    /// by each observer, timed from when the observer had to start counting.
    detections: Vec<(NodeId, NodeId, SimDuration)>,
    /// Per (observer, crashed): whether this crash's first suspicion by the
    /// observer has been timed already.
    detected: Vec<bool>,
    /// Per (observer, crashed): the obligation start (crash, observer up)
    /// already reported as violated, so each is reported once.
    violated: Vec<Option<(SimTime, SimTime)>>,
    completeness_violations: Vec<Violation>,
    /// Suspicions taken back by a trust.
    revoked: u64,
    /// The checks the scenario lists.
    checks: Vec<HeartbeatCheck>,
}

impl HeartbeatJudge {
    /// A judge of `checks` for one run.
    pub fn new(protocol: &Heartbeat, checks: &[HeartbeatCheck], setup: &RunSetup<'_>) -> Self {
        let n = setup.node_count as usize;
        let latency_bound = setup.latency_max;
        let within = checks.iter().find_map(|check| match check {
            HeartbeatCheck::Completeness { within } => Some(within.span()),
            _ => None,
        });
        let mut judge = HeartbeatJudge {
            node_count: n,
            window: protocol
                .timeout
                .saturating_add(protocol.interval)
                .saturating_add(latency_bound),
            within,
            crashed: vec![false; n],
            crash_ended: vec![None; n],
            crashed_since: vec![None; n],
            up_since: vec![Some(SimTime::ZERO); n],
            paused: vec![false; n],
            pause_ended: vec![None; n],
            down_ended: vec![None; n],
            drift_ppm: vec![0; n],
            link_down: vec![false; n * n],
            link_restored: vec![None; n * n],
            open: vec![None; n * n],
            intervals: Vec::new(),
            explained: 0,
            crashes: Vec::new(),
            deadlines: BTreeSet::new(),
            detections: Vec::new(),
            detected: vec![false; n * n],
            violated: vec![None; n * n],
            completeness_violations: Vec::new(),
            revoked: 0,
            checks: checks.to_vec(),
        };
        // A node that joins later is down from the start.
        for (node, _) in setup
            .absent
            .iter()
            .enumerate()
            .filter(|(_, &absent)| absent)
        {
            judge.on_down(node as NodeId, SimTime::ZERO, true);
        }
        judge
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

    /// When `observer` must suspect `crashed` from, if it must at all now:
    /// `within` after both the crash and the observer's coming back up.
    fn obliged_from(&self, observer: NodeId, crashed: NodeId) -> Option<SimTime> {
        let within = self.within?;
        let crash = self.crashed_since[crashed as usize]?;
        let up = self.up_since[observer as usize]?;
        (observer != crashed).then(|| crash.max(up).after(within))
    }

    /// Notes a failure of the obligation of `observer` to suspect `crashed`,
    /// once per crash and up-period.
    fn completeness_failed(
        &mut self,
        observer: NodeId,
        crashed: NodeId,
        now: SimTime,
        how: String,
    ) {
        let key = observer as usize * self.node_count + crashed as usize;
        let period = (
            self.crashed_since[crashed as usize].unwrap_or_default(),
            self.up_since[observer as usize].unwrap_or_default(),
        );
        if self.violated[key] == Some(period) {
            return;
        }
        self.violated[key] = Some(period);
        self.completeness_violations.push(Violation {
            time: now,
            nodes: vec![crashed, observer],
            message: format!("node {crashed} crashed at {} and {how}", period.0),
        });
    }

    /// Judges every deadline passed by `now` (exclusive: what happens at the
    /// deadline itself still counts), or by `now` inclusive at the end.
    fn resolve_due(&mut self, now: SimTime, inclusive: bool) {
        let due = |deadline: SimTime| deadline < now || (inclusive && deadline == now);
        while let Some(&entry) = self.deadlines.first() {
            if !due(entry.deadline) {
                break;
            }
            self.deadlines.pop_first();
            // Stale if the crash ended or the observer went down meanwhile.
            if self.obliged_from(entry.observer, entry.crashed) != Some(entry.deadline) {
                continue;
            }
            if !self.suspecting(entry.observer, entry.crashed) {
                let how = format!(
                    "was not suspected by node {} at {}, {} later",
                    entry.observer,
                    entry.deadline,
                    self.within.unwrap_or_default()
                );
                self.completeness_failed(entry.observer, entry.crashed, entry.deadline, how);
            }
        }
    }

    /// Adds the deadline of every pair whose obligation (re)starts now.
    fn arm_deadlines(&mut self, node: NodeId) {
        for other in 0..self.node_count as NodeId {
            for (observer, crashed) in [(node, other), (other, node)] {
                if let Some(deadline) = self.obliged_from(observer, crashed) {
                    self.deadlines.insert(Deadline {
                        deadline,
                        observer,
                        crashed,
                    });
                }
            }
        }
    }

    /// The node stops: `crash` for a crash or leave (or absence), otherwise a pause.
    fn on_down(&mut self, node: NodeId, now: SimTime, crash: bool) {
        let n = node as usize;
        self.up_since[n] = None;
        if crash {
            self.crashed[n] = true;
            self.crashed_since[n] = Some(now);
            self.crashes.push(CrashRecord {
                node,
                at: now,
                end: None,
            });
            for observer in 0..self.node_count {
                self.detected[observer * self.node_count + n] = false;
                // Already suspected when it crashed: detected at once.
                if self.up_since[observer].is_some() && self.suspecting(observer as NodeId, node) {
                    self.note_detection(observer as NodeId, node, now);
                }
            }
            // A crash wipes the node's suspicions along with its state.
            for suspect in 0..self.node_count as NodeId {
                self.close(node, suspect, now);
            }
        } else {
            self.paused[n] = true;
        }
        self.arm_deadlines(node);
    }

    /// The node is up again: restarted, joined or resumed.
    fn on_up(&mut self, node: NodeId, now: SimTime) {
        let n = node as usize;
        if self.crashed[n] {
            self.crashed[n] = false;
            self.crash_ended[n] = Some(now);
            self.crashed_since[n] = None;
            if let Some(record) = self.crashes.iter_mut().rev().find(|c| c.node == node) {
                record.end = Some(now);
            }
        } else {
            self.paused[n] = false;
            self.pause_ended[n] = Some(now);
        }
        self.down_ended[n] = Some(now);
        self.up_since[n] = Some(now);
        self.arm_deadlines(node);
    }

    /// Times the first suspicion of a crash by an observer.
    fn note_detection(&mut self, observer: NodeId, crashed: NodeId, now: SimTime) {
        let key = observer as usize * self.node_count + crashed as usize;
        let (Some(crash), Some(up)) = (
            self.crashed_since[crashed as usize],
            self.up_since[observer as usize],
        ) else {
            return;
        };
        if !self.detected[key] {
            self.detected[key] = true;
            self.detections
                .push((crashed, observer, now.since(crash.max(up))));
        }
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

    /// Strong completeness, as Chandra and Toueg define it: every crashed node is eventually permanently suspected by every correct node, here within the bound.
    pub fn completeness_report(&mut self, end: SimTime) -> CheckReport {
        self.resolve_due(end, true);
        let within = self.within.unwrap_or_default();
        let lasted = |c: &CrashRecord| c.end.unwrap_or(end).since(c.at);
        let too_short = self
            .crashes
            .iter()
            .filter(|c| c.end.is_some() && lasted(c) <= within)
            .count();
        let past_end = self
            .crashes
            .iter()
            .filter(|c| c.end.is_none() && c.at.after(within) > end)
            .count();
        let judged = self.crashes.len() - too_short - past_end;
        let mut detail = format!(
            "{judged} crash(es) judged against the {within} bound ({too_short} too short to judge, {past_end} too close to the end)"
        );
        if let Some(slowest) = self.detections.iter().map(|d| d.2).max() {
            let _ = write!(detail, "; slowest first detection {slowest}");
        }
        let _ = write!(detail, "; first detection times:");
        for (crashed, observer, took) in self.detections.iter().take(40) {
            let _ = write!(detail, " {crashed} by {observer} in {took},");
        }
        detail.pop();
        if self.detections.len() > 40 {
            let _ = write!(detail, " and {} more", self.detections.len() - 40);
        }
        report(
            "Completeness",
            PropertyKind::Liveness,
            detail,
            self.completeness_violations.clone(),
        )
    }

    /// Accuracy: no suspicion unless a crash or a down link explains it, and
    /// no suspicion outlives its reason (see the module comment).
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
        CheckReport::new("Accuracy", PropertyKind::Safety, detail, violations)
    }
}

impl HeartbeatJudge {
    fn on_suspect(&mut self, observer: NodeId, suspect: NodeId, now: SimTime) {
        let (mistake, cause) = match self.explain(observer, suspect, now) {
            Some(reason) => {
                self.explained += 1;
                (false, reason)
            }
            None => (true, self.cause_of_mistake(observer, suspect, now)),
        };
        let key = observer as usize * self.node_count + suspect as usize;
        debug_assert!(self.open[key].is_none(), "suspect twice without trust");
        self.open[key] = Some(self.intervals.len());
        self.intervals.push(SuspicionInterval {
            observer,
            suspect,
            start: now,
            end: None,
            mistake,
            cause,
        });
        if self.crashed[suspect as usize] {
            self.note_detection(observer, suspect, now);
        }
    }

    fn on_trust(&mut self, observer: NodeId, suspect: NodeId, now: SimTime) {
        self.revoked += 1;
        self.close(observer, suspect, now);
        if self
            .obliged_from(observer, suspect)
            .is_some_and(|from| from < now)
        {
            let how = format!("was trusted again by node {observer} at {now} while still crashed");
            self.completeness_failed(observer, suspect, now, how);
        }
    }
}

impl Judge for HeartbeatJudge {
    fn reports(&mut self, end: SimTime) -> Vec<CheckReport> {
        let checks = self.checks.clone();
        checks
            .iter()
            .filter_map(|check| match check {
                HeartbeatCheck::Completeness { .. } => Some(self.completeness_report(end)),
                HeartbeatCheck::Accuracy => Some(self.accuracy_report(end)),
                HeartbeatCheck::CrashDetected | HeartbeatCheck::SuspicionRevoked => None,
            })
            .collect()
    }

    fn coverage(&self) -> Vec<Coverage> {
        vec![
            Coverage {
                name: "CrashDetected",
                happened: !self.detections.is_empty(),
                detail: format!("{} first detection(s) of crashes", self.detections.len()),
            },
            Coverage {
                name: "SuspicionRevoked",
                happened: self.revoked > 0,
                detail: format!("{} suspicion(s) taken back", self.revoked),
            },
        ]
    }

    fn metrics(&self, _end: SimTime) -> BTreeMap<String, f64> {
        let mut metrics = BTreeMap::new();
        let times: Vec<f64> = self.detections.iter().map(|d| d.2.as_secs_f64()).collect();
        if let Some(slowest) = times.iter().copied().reduce(f64::max) {
            metrics.insert("detection_time_max_s".to_string(), slowest);
            metrics.insert(
                "detection_time_mean_s".to_string(),
                times.iter().sum::<f64>() / times.len() as f64,
            );
        }
        let mistakes = self.intervals.iter().filter(|i| i.mistake).count();
        metrics.insert("false_suspicions".to_string(), mistakes as f64);
        metrics
    }
}

impl Observer<Heartbeat> for HeartbeatJudge {
    fn observe(&mut self, now: SimTime, event: &TraceEvent<'_, Heartbeat>, world: &WorldView<'_>) {
        if !self.deadlines.is_empty() {
            self.resolve_due(now, false);
        }
        match *event {
            TraceEvent::Observe {
                node, observation, ..
            } => match *observation {
                Suspicion::Suspect { peer } => self.on_suspect(node, peer, now),
                Suspicion::Trust { peer } => self.on_trust(node, peer, now),
            },
            TraceEvent::Crash { node } | TraceEvent::Leave { node } => {
                self.on_down(node, now, true)
            }
            TraceEvent::Restart { node } | TraceEvent::Join { node } => self.on_up(node, now),
            TraceEvent::Pause { node, .. } => self.on_down(node, now, false),
            TraceEvent::Resume { node } => self.on_up(node, now),
            TraceEvent::ClockDrift { node, ppm } => self.drift_ppm[node as usize] = ppm,
            TraceEvent::Partition { .. }
            | TraceEvent::Heal
            | TraceEvent::CutLink { .. }
            | TraceEvent::RestoreLink { .. } => self.on_topology_change(now, world),
            _ => {}
        }
    }
}
