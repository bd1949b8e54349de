//! One run of a configured protocol, generic over its `Harness`. This is the
//! only place a protocol's types meet the engine; everything above it sees a
//! `dyn Runnable`, called once per run. Inside, the trace writer, the judge
//! and the chart recorders observe the run as one tuple, so no event costs a
//! dynamic call.

use super::record::TimelineRecorder;
use super::TraceSink;
use crate::check::{CheckReport, Coverage, Expectation, Property, PropertyKind, Verdict};
use crate::harness::{Harness, Judge, RunSetup};
use crate::plot::{Chart, TimelineData};
use crate::sim::{RunReport, Simulation, SimulationConfig, TraceWriter};
use std::collections::BTreeMap;
use std::fmt;

/// A check a scenario lists: its property's name and kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListedCheck {
    /// As written.
    pub name: &'static str,
    /// Safety, liveness or coverage.
    pub kind: PropertyKind,
}

/// What one run needs besides the engine's configuration.
pub struct SimulateInput<'a> {
    /// The engine's configuration.
    pub config: SimulationConfig,
    /// What the judge and charts know before the run.
    pub setup: RunSetup<'a>,
    /// The trace writer (it always computes the hash, and writes when it has a sink).
    pub trace: &'a mut TraceWriter<TraceSink>,
    /// Whether to record and build charts.
    pub charts: bool,
    /// The charts' title: the scenario and seed.
    pub title: String,
    /// The declared outcome, for the charts' subtitle.
    pub expect: &'a Expectation,
    /// Whether to ask the protocol for its own files (`Harness::files`).
    pub files: bool,
}

/// What one run produced.
pub struct Simulated {
    /// The engine's account.
    pub report: RunReport,
    /// One per listed check, in the order listed.
    pub reports: Vec<CheckReport>,
    /// Every coverage property of the protocol.
    pub coverage: Vec<Coverage>,
    /// The judge's figures.
    pub metrics: BTreeMap<String, f64>,
    /// (file stem, chart): the timeline first. Empty without charts.
    pub charts: Vec<(String, Chart)>,
    /// The protocol's own files, (name, bytes). Empty unless asked for.
    pub files: Vec<(String, Vec<u8>)>,
}

/// A protocol configured from a scenario, with its listed checks, ready to
/// run any number of times.
pub trait Runnable: Send + Sync + fmt::Debug {
    /// The protocol's name.
    fn name(&self) -> &'static str;
    /// The protocol's properties.
    fn properties(&self) -> &'static [Property];
    /// The checks the scenario lists, in order.
    fn checks(&self) -> &[ListedCheck];
    /// One run.
    fn simulate(&self, input: SimulateInput<'_>) -> Simulated;
    /// For downcasting to `Configured<H>` (benchmarks, tests).
    fn as_any(&self) -> &dyn std::any::Any;
}

/// A protocol and its checks, as validated.
#[derive(Debug)]
pub struct Configured<H: Harness> {
    machine: H,
    checks: Vec<H::Check>,
    listed: Vec<ListedCheck>,
}

impl<H: Harness> Configured<H> {
    /// The validated protocol.
    pub fn machine(&self) -> &H {
        &self.machine
    }

    /// The listed checks, with their parameters.
    pub fn check_specs(&self) -> &[H::Check] {
        &self.checks
    }

    /// Wraps a validated protocol and its listed checks.
    pub fn new(machine: H, checks: Vec<H::Check>, listed: Vec<ListedCheck>) -> Self {
        Configured {
            machine,
            checks,
            listed,
        }
    }
}

impl<H: Harness> Runnable for Configured<H> {
    fn name(&self) -> &'static str {
        H::NAME
    }

    fn properties(&self) -> &'static [Property] {
        H::PROPERTIES
    }

    fn checks(&self) -> &[ListedCheck] {
        &self.listed
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn simulate(&self, input: SimulateInput<'_>) -> Simulated {
        let SimulateInput {
            config,
            setup,
            trace,
            charts,
            title,
            expect,
            files,
        } = input;
        let mut judge = self.machine.judge(&self.checks, &setup);
        let mut recorder = charts.then(|| self.machine.recorder(&setup));
        let mut timeline = charts.then(|| TimelineRecorder::new(setup.node_count, setup.absent));
        let report = Simulation::new(self.machine.for_run(), config).run(&mut (
            &mut *trace,
            &mut judge,
            &mut recorder,
            &mut timeline,
        ));
        if report.overflow.is_some() {
            return Simulated {
                report,
                reports: Vec::new(),
                coverage: Vec::new(),
                metrics: BTreeMap::new(),
                charts: Vec::new(),
                files: Vec::new(),
            };
        }
        let coverage = judge.coverage();
        let reports = self.reports(&mut judge, &coverage, &report);
        let metrics = judge.metrics(report.end);
        let charts = match (timeline, recorder) {
            (Some(timeline), Some(recorder)) => {
                let mut data = timeline.finish(report.end);
                decorate(&mut data, title, &reports, expect);
                let extra = self.machine.charts(&judge, recorder, &mut data, &setup);
                std::iter::once(("timeline".to_string(), Chart::Timeline(Box::new(data))))
                    .chain(extra)
                    .collect()
            }
            _ => Vec::new(),
        };
        let files = if files {
            self.machine.files(&judge)
        } else {
            Vec::new()
        };
        Simulated {
            report,
            reports,
            coverage,
            metrics,
            charts,
            files,
        }
    }
}

impl<H: Harness> Configured<H> {
    /// The judge's reports, with listed coverage properties judged from the
    /// coverage, in the order the checks are listed.
    fn reports(
        &self,
        judge: &mut H::Judge,
        coverage: &[Coverage],
        report: &RunReport,
    ) -> Vec<CheckReport> {
        let mut reports = judge.reports(report.end);
        for listed in self
            .listed
            .iter()
            .filter(|c| c.kind == PropertyKind::Coverage)
        {
            let seen = coverage.iter().find(|c| c.name == listed.name);
            let happened = seen.is_some_and(|c| c.happened);
            let detail = seen.map_or_else(String::new, |c| c.detail.clone());
            reports.push(CheckReport {
                name: listed.name,
                kind: PropertyKind::Coverage,
                verdict: if happened {
                    Verdict::Pass
                } else {
                    Verdict::Fail
                },
                detail: if happened {
                    detail
                } else {
                    format!("never happened in this run ({detail})")
                },
                violations: Vec::new(),
            });
        }
        reports.sort_by_key(|r| self.listed.iter().position(|c| c.name == r.name));
        reports
    }
}

/// The title, the verdict line and the violations every chart shows.
fn decorate(data: &mut TimelineData, title: String, reports: &[CheckReport], expect: &Expectation) {
    data.title = title;
    let verdicts: Vec<String> = reports
        .iter()
        .map(|r| {
            let verdict = if r.verdict == Verdict::Pass {
                "pass"
            } else {
                "FAIL"
            };
            format!("{} {verdict}", r.name)
        })
        .collect();
    data.subtitle = format!(
        "{} — expected {expect}: {}",
        verdicts.join(", "),
        if super::matches_expectation(expect, reports) {
            "as expected"
        } else {
            "NOT as expected"
        }
    );
    data.violations = reports
        .iter()
        .flat_map(|r| {
            r.violations
                .iter()
                .map(move |v| (r.name.to_string(), v.clone()))
        })
        .collect();
}
