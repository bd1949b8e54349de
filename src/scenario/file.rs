//! The scenario file as written in RON. These types mirror the file exactly
//! (unknown fields are errors) and are not used by the engine: `validate`
//! turns them into a `Scenario`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::time::Duration;

/// A duration written as a human string: "250ms", "1.5s", "2m".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let trimmed = text.trim();
        if trimmed.starts_with('-') {
            return Err(serde::de::Error::custom(format!(
                "duration \"{text}\" is negative; durations are zero or more"
            )));
        }
        humantime::parse_duration(trimmed).map(HumanDuration).map_err(|error| {
            serde::de::Error::custom(format!(
                "invalid duration \"{text}\" ({error}): expected a number with a unit, such as \"250ms\", \"1.5s\" or \"2m\""
            ))
        })
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&humantime::format_duration(self.0).to_string())
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename = "Scenario", deny_unknown_fields)]
pub struct ScenarioFile {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub seed: u64,
    pub duration: HumanDuration,
    pub nodes: u32,
    pub network: NetworkFile,
    pub protocol: ProtocolFile,
    #[serde(default)]
    pub faults: Vec<FaultEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nemesis: Option<NemesisFile>,
    #[serde(default)]
    pub checks: Vec<CheckFile>,
    pub expect: ExpectFile,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<LimitsFile>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkFile {
    pub latency: LatencyFile,
    #[serde(default)]
    pub drop: f64,
    #[serde(default)]
    pub duplicate: f64,
    #[serde(default)]
    pub fifo: bool,
}

fn ten_seconds() -> HumanDuration {
    HumanDuration(Duration::from_secs(10))
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub enum LatencyFile {
    Constant(HumanDuration),
    Uniform {
        min: HumanDuration,
        max: HumanDuration,
    },
    LogNormal {
        median: HumanDuration,
        sigma: f64,
        #[serde(default = "ten_seconds")]
        max: HumanDuration,
    },
    Pareto {
        min: HumanDuration,
        alpha: f64,
        #[serde(default = "ten_seconds")]
        max: HumanDuration,
    },
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub enum ProtocolFile {
    Heartbeat {
        interval: HumanDuration,
        timeout: HumanDuration,
        #[serde(default, skip_serializing_if = "HeartbeatVariantFile::is_correct")]
        variant: HeartbeatVariantFile,
    },
    Paxos {
        proposers: Vec<u32>,
        /// Default: every node.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        acceptors: Option<Vec<u32>>,
        values: Vec<ClientValueFile>,
        #[serde(default = "paxos_round_timeout")]
        round_timeout: HumanDuration,
        #[serde(default = "paxos_backoff_min")]
        backoff_min: HumanDuration,
        #[serde(default = "paxos_backoff_max")]
        backoff_max: HumanDuration,
        #[serde(default)]
        variant: PaxosVariantFile,
    },
    /// Consistent hashing with membership from the failure detector.
    Hashing {
        scheme: SchemeFile,
        #[serde(default = "one_usize")]
        replicas: usize,
        #[serde(default = "ten_thousand")]
        keys: u64,
        #[serde(default)]
        distribution: DistributionFile,
        #[serde(default = "hashing_interval")]
        interval: HumanDuration,
        #[serde(default = "hashing_timeout")]
        timeout: HumanDuration,
        #[serde(default = "hashing_request_interval")]
        request_interval: HumanDuration,
    },
    /// Node 0 is the lock server, node 1 the resource, the rest are clients.
    Lock {
        #[serde(default)]
        variant: LockVariantFile,
        #[serde(default = "lock_lease")]
        lease: HumanDuration,
        #[serde(default = "lock_hold")]
        hold: HumanDuration,
        #[serde(default = "lock_think")]
        think: HumanDuration,
        #[serde(default = "lock_writes")]
        writes: u32,
        #[serde(default = "lock_work")]
        work: HumanDuration,
        #[serde(default = "lock_retry")]
        retry: HumanDuration,
    },
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub enum LockVariantFile {
    NoExpiry,
    Lease,
    #[default]
    LeaseFencing,
    LeaseStaleRegrant,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub enum SchemeFile {
    Ring { vnodes: u32 },
    Modulo,
    Rendezvous,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub enum DistributionFile {
    #[default]
    Uniform,
    Zipf {
        s: f64,
    },
}

fn one_usize() -> usize {
    1
}
fn ten_thousand() -> u64 {
    10_000
}
fn hashing_interval() -> HumanDuration {
    HumanDuration(Duration::from_millis(100))
}
fn hashing_timeout() -> HumanDuration {
    HumanDuration(Duration::from_millis(500))
}
fn hashing_request_interval() -> HumanDuration {
    HumanDuration(Duration::from_millis(50))
}

fn lock_lease() -> HumanDuration {
    HumanDuration(Duration::from_secs(1))
}
fn lock_hold() -> HumanDuration {
    HumanDuration(Duration::from_millis(300))
}
fn lock_think() -> HumanDuration {
    HumanDuration(Duration::from_millis(200))
}
fn lock_writes() -> u32 {
    3
}
fn lock_work() -> HumanDuration {
    HumanDuration(Duration::from_millis(10))
}
fn lock_retry() -> HumanDuration {
    HumanDuration(Duration::from_millis(100))
}

fn paxos_round_timeout() -> HumanDuration {
    HumanDuration(Duration::from_millis(200))
}
fn paxos_backoff_min() -> HumanDuration {
    HumanDuration(Duration::from_millis(10))
}
fn paxos_backoff_max() -> HumanDuration {
    HumanDuration(Duration::from_millis(150))
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClientValueFile {
    pub node: u32,
    pub at: HumanDuration,
    pub value: String,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub enum PaxosVariantFile {
    #[default]
    Correct,
    ForgetfulAcceptor,
    IgnoreAcceptedValue,
    MinorityQuorum,
    ReuseBallot,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub enum HeartbeatVariantFile {
    #[default]
    Correct,
    NeverSuspect,
    NeverTrust,
    NoSequence,
}

impl HeartbeatVariantFile {
    fn is_correct(&self) -> bool {
        *self == HeartbeatVariantFile::Correct
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FaultEntry {
    pub at: HumanDuration,
    pub fault: FaultFile,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub enum FaultFile {
    Partition {
        groups: Vec<Vec<u32>>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        bridges: Vec<u32>,
    },
    Isolate {
        node: u32,
    },
    /// Hashing only: the node is absent until now, then joins.
    Join {
        node: u32,
    },
    /// Hashing only: the node leaves for good.
    Leave {
        node: u32,
    },
    Heal,
    CutLink {
        from: u32,
        to: u32,
    },
    RestoreLink {
        from: u32,
        to: u32,
    },
    Crash {
        node: u32,
    },
    Restart {
        node: u32,
    },
    Pause {
        node: u32,
        #[serde(rename = "for")]
        duration: HumanDuration,
    },
    ClockDrift {
        node: u32,
        ppm: i64,
    },
    ClockJump {
        node: u32,
        by: HumanDuration,
        #[serde(default)]
        backward: bool,
    },
    DegradeLink {
        from: u32,
        to: u32,
        #[serde(rename = "for")]
        duration: HumanDuration,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        drop: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        latency: Option<LatencyFile>,
    },
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub enum NemesisFile {
    Random {
        kinds: Vec<NemesisKindFile>,
        interval_min: HumanDuration,
        interval_max: HumanDuration,
        duration_min: HumanDuration,
        duration_max: HumanDuration,
        #[serde(default = "one")]
        nodes_down_max: u32,
        #[serde(default)]
        from: Option<HumanDuration>,
        #[serde(default)]
        until: Option<HumanDuration>,
        #[serde(default = "drift_default")]
        drift_ppm_max: i64,
    },
}

fn one() -> u32 {
    1
}
fn drift_default() -> i64 {
    100_000
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize)]
pub enum NemesisKindFile {
    Partition,
    Isolate,
    Bridge,
    OneWay,
    Crash,
    Pause,
    ClockDrift,
    DegradeLink,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub enum CheckFile {
    Completeness { within: HumanDuration },
    Accuracy,
    Agreement,
    Validity,
    Integrity,
    OneValuePerBallot,
    DecidesWithin(HumanDuration),
    MutualExclusion,
    NoStaleWrite,
    Progress(HumanDuration),
    Balance { max_over_mean: f64 },
    Movement { max_fraction: f64 },
    Converges(HumanDuration),
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub enum CheckNameFile {
    Completeness,
    Accuracy,
    Agreement,
    Validity,
    Integrity,
    OneValuePerBallot,
    DecidesWithin,
    MutualExclusion,
    NoStaleWrite,
    Progress,
    Balance,
    Movement,
    Converges,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub enum ExpectFile {
    Pass,
    Violates(Vec<CheckNameFile>),
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsFile {
    #[serde(default)]
    pub events_max: Option<u64>,
    #[serde(default)]
    pub inbox_max: Option<usize>,
}
