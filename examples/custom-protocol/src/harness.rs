//! What makes the state machine runnable from a scenario file: its block,
//! validated with errors that name the field, its properties, its judge and
//! its charts.

use crate::chart::{decorate_timeline, ElectionMarks};
use crate::check::{ElectionCheck, ElectionJudge};
use crate::protocol::{Election, ElectionVariant};
use faultline::prelude::*;
use serde::Deserialize;
use std::time::Duration;

/// `protocol: Election(election_timeout_min: "150ms", election_timeout_max:
/// "300ms", heartbeat: "50ms", variant: Correct)` as written. Every field is
/// optional; the defaults are the paper's (§9.3: timeouts drawn from
/// 150–300ms, heartbeats well inside the shortest one).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElectionBlock {
    /// The shortest election timeout.
    #[serde(default = "election_timeout_min_default")]
    pub election_timeout_min: HumanDuration,
    /// The longest election timeout.
    #[serde(default = "election_timeout_max_default")]
    pub election_timeout_max: HumanDuration,
    /// The leader's heartbeat interval.
    #[serde(default = "heartbeat_default")]
    pub heartbeat: HumanDuration,
    /// The correct protocol or a planted bug.
    #[serde(default)]
    pub variant: ElectionVariant,
}

fn election_timeout_min_default() -> HumanDuration {
    HumanDuration(Duration::from_millis(150))
}

fn election_timeout_max_default() -> HumanDuration {
    HumanDuration(Duration::from_millis(300))
}

fn heartbeat_default() -> HumanDuration {
    HumanDuration(Duration::from_millis(50))
}

impl Election {
    /// Validates a block: durations longer than zero, the timeout range the
    /// right way round, and heartbeats frequent enough that a follower hears
    /// one before it can time out.
    pub fn from_block(block: ElectionBlock) -> Result<Election, BlockError> {
        let election = Election {
            election_timeout_min: block
                .election_timeout_min
                .positive(Place::field("election_timeout_min"))?,
            election_timeout_max: block
                .election_timeout_max
                .positive(Place::field("election_timeout_max"))?,
            heartbeat: block.heartbeat.positive(Place::field("heartbeat"))?,
            variant: block.variant,
        };
        if election.election_timeout_min > election.election_timeout_max {
            return Err(BlockError::new(
                Place::field("election_timeout_min"),
                format!(
                    "election_timeout_min ({}) is longer than election_timeout_max ({}): timeouts are drawn between the two",
                    election.election_timeout_min, election.election_timeout_max
                ),
            ));
        }
        if election.heartbeat >= election.election_timeout_min {
            return Err(BlockError::new(
                Place::field("heartbeat"),
                format!(
                    "heartbeat ({}) must be shorter than election_timeout_min ({}): followers would time out between heartbeats and depose a working leader",
                    election.heartbeat, election.election_timeout_min
                ),
            ));
        }
        Ok(election)
    }
}

impl Harness for Election {
    const NAME: &'static str = "Election";
    const PROPERTIES: &'static [Property] = &[
        Property {
            name: "OneLeaderPerTerm",
            kind: PropertyKind::Safety,
            summary: "at most one node becomes leader in any term (Raft's Election Safety)",
            example: "",
        },
        Property {
            name: "LeaderHasQuorum",
            kind: PropertyKind::Safety,
            summary: "a node becomes leader only with the votes of a majority of all nodes in its term",
            example: "",
        },
        Property {
            name: "ElectsWithin",
            kind: PropertyKind::Liveness,
            summary: "once the faults are over with a majority up and connected, the cluster follows a leader within the bound",
            example: "ElectsWithin(\"1s\")",
        },
        Property {
            name: "SplitVote",
            kind: PropertyKind::Coverage,
            summary: "a term ended in which two or more candidates each won another node's vote and none won a majority",
            example: "",
        },
        Property {
            name: "LeaderChanged",
            kind: PropertyKind::Coverage,
            summary: "a node became leader after another node had been leader",
            example: "",
        },
    ];
    type Block = ElectionBlock;
    type Check = ElectionCheck;
    type Judge = ElectionJudge;
    type Recorder = ElectionMarks;

    fn configure(block: ElectionBlock, _scenario: &ScenarioFacts<'_>) -> Result<Self, BlockError> {
        Election::from_block(block)
    }

    fn check_valid(check: &ElectionCheck, _scenario: &ScenarioFacts<'_>) -> Result<(), BlockError> {
        if let ElectionCheck::ElectsWithin(within) = check {
            within.positive(Place::root())?;
        }
        Ok(())
    }

    fn judge(&self, checks: &[ElectionCheck], setup: &RunSetup<'_>) -> ElectionJudge {
        ElectionJudge::new(checks, setup)
    }

    fn recorder(&self, setup: &RunSetup<'_>) -> ElectionMarks {
        ElectionMarks::new(setup.node_count)
    }

    fn charts(
        &self,
        judge: &ElectionJudge,
        recorder: ElectionMarks,
        timeline: &mut TimelineData,
        setup: &RunSetup<'_>,
    ) -> Vec<(String, Chart)> {
        decorate_timeline(self, judge, recorder, timeline, setup);
        Vec::new()
    }
}
