//! The protocols a scenario file may name: `protocol: Name(...)` is looked up
//! here, and the protocol reads its own block and checks.

use super::{Checked, Part, Validator};
use crate::check::Property;
use crate::harness::{BlockError, Check, Harness, ScenarioFacts, Step};
use crate::run::{Configured, ListedCheck, Runnable};
use std::marker::PhantomData;
use std::sync::Arc;

/// The protocols scenario files may use. `protocols::registry()` holds the
/// built-in ones; add your own with `with`.
#[derive(Default)]
pub struct Registry {
    entries: Vec<Box<dyn Entry>>,
}

impl Registry {
    /// No protocols at all.
    pub fn new() -> Self {
        Registry::default()
    }

    /// This registry and protocol `H`.
    ///
    /// # Panics
    /// If a protocol of the same name is already registered: two protocols
    /// with one name would make scenario files ambiguous.
    pub fn with<H: Harness>(mut self) -> Self {
        assert!(
            self.get(H::NAME).is_none(),
            "two protocols are named {}",
            H::NAME
        );
        self.entries.push(Box::new(Typed::<H>(PhantomData)));
        self
    }

    /// The protocols' names, in the order they were added.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.entries.iter().map(|entry| entry.name())
    }

    /// The properties of protocol `name`, if it is registered.
    pub fn properties(&self, name: &str) -> Option<&'static [Property]> {
        self.get(name).map(|entry| entry.properties())
    }

    pub(super) fn get(&self, name: &str) -> Option<&dyn Entry> {
        self.entries
            .iter()
            .find(|entry| entry.name() == name)
            .map(|entry| &**entry)
    }
}

/// A registered protocol, with its types erased.
pub(crate) trait Entry: Send + Sync {
    fn name(&self) -> &'static str;
    fn properties(&self) -> &'static [Property];
    /// Reads and validates the block and the checks.
    fn configure(
        &self,
        validator: &Validator<'_>,
        block: &Part<'_>,
        checks: Option<&Part<'_>>,
        facts: &ScenarioFacts<'_>,
    ) -> Checked<Arc<dyn Runnable>>;
}

struct Typed<H>(PhantomData<fn() -> H>);

impl<H: Harness> Entry for Typed<H> {
    fn name(&self) -> &'static str {
        H::NAME
    }

    fn properties(&self) -> &'static [Property] {
        H::PROPERTIES
    }

    fn configure(
        &self,
        validator: &Validator<'_>,
        block: &Part<'_>,
        checks: Option<&Part<'_>>,
        facts: &ScenarioFacts<'_>,
    ) -> Checked<Arc<dyn Runnable>> {
        let machine = configure_block::<H>(validator, block, facts)?;
        let checks: Vec<H::Check> = match checks {
            Some(part) => validator.part(part, H::PROPERTIES)?,
            None => Vec::new(),
        };
        let listed = listed_checks::<H>(validator, &checks, facts)?;
        Ok(Arc::new(Configured::new(machine, checks, listed)))
    }
}

/// The block without its name (`Name(...)` is read as the struct `(...)`).
fn configure_block<H: Harness>(
    validator: &Validator<'_>,
    block: &Part<'_>,
    facts: &ScenarioFacts<'_>,
) -> Checked<H> {
    let fields = Part {
        text: &block.text[H::NAME.len()..],
        offset: block.offset + H::NAME.len(),
    };
    let fields = if fields.text.trim().is_empty() {
        Part {
            text: "()",
            offset: fields.offset,
        }
    } else {
        fields
    };
    let parsed: H::Block = validator.part(&fields, H::PROPERTIES)?;
    H::configure(parsed, facts)
        .map_err(|error| located(validator, &[Step::Field("protocol")], error))
}

fn listed_checks<H: Harness>(
    validator: &Validator<'_>,
    checks: &[H::Check],
    facts: &ScenarioFacts<'_>,
) -> Checked<Vec<ListedCheck>> {
    let mut listed: Vec<ListedCheck> = Vec::new();
    for (index, check) in checks.iter().enumerate() {
        let here = [Step::Field("checks"), Step::Index(index)];
        H::check_valid(check, facts).map_err(|error| located(validator, &here, error))?;
        let name = check.name();
        let Some(property) = H::PROPERTIES.iter().find(|p| p.name == name) else {
            return validator.fail(
                &here,
                format!("{name} is not among the properties {} declares", H::NAME),
            );
        };
        if listed.iter().any(|other| other.name == name) {
            return validator.fail(&here, format!("{name} is listed twice"));
        }
        listed.push(ListedCheck {
            name,
            kind: property.kind,
        });
    }
    Ok(listed)
}

/// A block error placed under `prefix` in the file.
fn located(validator: &Validator<'_>, prefix: &[Step], error: BlockError) -> super::ScenarioError {
    let prefix = if error.top_level { &[][..] } else { prefix };
    let path: Vec<Step> = prefix.iter().chain(&error.place.0).copied().collect();
    match validator.fail::<()>(&path, error.message) {
        Err(error) => error,
        Ok(()) => unreachable!("fail always fails"),
    }
}
