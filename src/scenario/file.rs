//! The scenario file as written in RON. These types mirror the file exactly
//! (unknown fields are errors) and are not used by the engine: `validate`
//! turns them into a `Scenario`.

use ron::value::RawValue;
use serde::{Deserialize, Deserializer, Serialize};
use std::time::Duration;

pub use crate::harness::HumanDuration;

/// The file as parsed in the first pass. The protocol block, the checks and
/// the expectation are kept as raw RON text (with where they sit in the
/// file): what they may contain depends on the protocol, which the second
/// pass looks up by name.
#[derive(Debug, Deserialize)]
#[serde(rename = "Scenario", deny_unknown_fields)]
pub struct ScenarioSource<'a> {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub seed: u64,
    pub duration: HumanDuration,
    pub nodes: u32,
    pub network: NetworkFile,
    #[serde(borrow)]
    pub protocol: &'a RawValue,
    #[serde(default)]
    pub faults: Vec<FaultEntry>,
    #[serde(default)]
    pub nemesis: Option<NemesisFile>,
    #[serde(default, borrow)]
    pub checks: Option<&'a RawValue>,
    #[serde(borrow)]
    pub expect: &'a RawValue,
    #[serde(default)]
    pub limits: Option<LimitsFile>,
}

/// The file as it is written back (`scenario.ron`, `minimal.ron`): the raw
/// parts verbatim, the rest re-serialized.
#[derive(Clone, Debug, Serialize)]
#[serde(rename = "Scenario")]
pub struct ScenarioFile {
    pub name: String,
    pub description: String,
    pub seed: u64,
    pub duration: HumanDuration,
    pub nodes: u32,
    pub network: NetworkFile,
    pub protocol: Box<RawValue>,
    pub faults: Vec<FaultEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nemesis: Option<NemesisFile>,
    pub checks: Box<RawValue>,
    pub expect: Box<RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
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
    /// The node is absent from the start until now, then joins.
    Join {
        node: u32,
    },
    /// The node leaves for good.
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

/// `expect:` as written: `Pass` or `Violates([Name, ...])`, with names checked
/// against the protocol's properties afterwards.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum ExpectFile {
    Pass,
    Violates(Vec<NameToken>),
}

/// A bare identifier (a check's name), read whatever it is.
#[derive(Clone, Debug)]
pub struct NameToken(pub String);

impl<'de> Deserialize<'de> for NameToken {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = NameToken;
            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str("the name of a check")
            }
            fn visit_enum<A: serde::de::EnumAccess<'de>>(
                self,
                data: A,
            ) -> Result<NameToken, A::Error> {
                use serde::de::VariantAccess;
                let (Identifier(name), variant) = data.variant()?;
                variant.unit_variant()?;
                Ok(NameToken(name))
            }
        }
        deserializer.deserialize_enum("check name", &[], Visitor)
    }
}

/// An enum variant's name, read as the identifier it is.
struct Identifier(String);

impl<'de> Deserialize<'de> for Identifier {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Identifier;
            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str("an identifier")
            }
            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<Identifier, E> {
                Ok(Identifier(name.to_string()))
            }
        }
        deserializer.deserialize_identifier(Visitor)
    }
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events_max: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbox_max: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_max: Option<usize>,
}
