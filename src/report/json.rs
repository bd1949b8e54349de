//! A JSON value that keeps object fields in the order they were written.
//!
//! `serde_json::Value` sorts object keys, which would turn a Paxos ballot
//! `{"round":1,"proposer":4}` into "4.1" in a label. Trace payloads are
//! written by serde in declaration order, and that order is the one a reader
//! of the protocol's code expects, so the diagram's labels keep it.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt::{self, Write};

/// A parsed JSON value with its object fields in file order.
#[derive(Clone, Debug, PartialEq)]
pub enum Ordered {
    Null,
    Bool(bool),
    /// The number as JSON text (integers exactly, floats in Rust's shortest form).
    Number(String),
    String(String),
    Array(Vec<Ordered>),
    Object(Vec<(String, Ordered)>),
}

/// Elements of an array shown in a label before an ellipsis.
const LABEL_ARRAY_ITEMS_MAX: usize = 4;

impl Ordered {
    /// The field `key` of an object, if this is an object that has it.
    pub fn get(&self, key: &str) -> Option<&Ordered> {
        match self {
            Ordered::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Ordered::Number(text) => text.parse().ok(),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Ordered::String(text) => Some(text),
            _ => None,
        }
    }

    /// Compact JSON text, fields in file order.
    pub fn to_json(&self) -> String {
        let mut text = String::new();
        self.write_json(&mut text);
        text
    }

    fn write_json(&self, out: &mut String) {
        match self {
            Ordered::Null => out.push_str("null"),
            Ordered::Bool(value) => out.push_str(if *value { "true" } else { "false" }),
            Ordered::Number(text) => out.push_str(text),
            Ordered::String(text) => {
                out.push_str(&serde_json::to_string(text).expect("strings serialize"))
            }
            Ordered::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            Ordered::Object(fields) => {
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::to_string(key).expect("strings serialize"));
                    out.push(':');
                    value.write_json(out);
                }
                out.push('}');
            }
        }
    }

    /// A short rendering for labels: strings without quotes, `null` as a
    /// dash, an object of scalars as its values joined by dots (a ballot
    /// `{"round":1,"proposer":4}` reads "1.4"), long arrays cut short.
    pub fn to_label(&self) -> String {
        let mut text = String::new();
        self.write_label(&mut text);
        text
    }

    fn write_label(&self, out: &mut String) {
        match self {
            Ordered::Null => out.push('–'),
            Ordered::Bool(value) => out.push_str(if *value { "true" } else { "false" }),
            Ordered::Number(text) | Ordered::String(text) => out.push_str(text),
            Ordered::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().take(LABEL_ARRAY_ITEMS_MAX).enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_label(out);
                }
                if items.len() > LABEL_ARRAY_ITEMS_MAX {
                    out.push_str(",…");
                }
                out.push(']');
            }
            Ordered::Object(fields) if fields.iter().all(|(_, v)| v.is_scalar()) => {
                for (i, (_, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push('.');
                    }
                    value.write_label(out);
                }
            }
            Ordered::Object(fields) => {
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "{key}:");
                    value.write_label(out);
                }
                out.push('}');
            }
        }
    }

    fn is_scalar(&self) -> bool {
        !matches!(self, Ordered::Array(_) | Ordered::Object(_))
    }
}

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(OrderedVisitor)
    }
}

struct OrderedVisitor;

impl<'de> Visitor<'de> for OrderedVisitor {
    type Value = Ordered;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<Ordered, E> {
        Ok(Ordered::Null)
    }
    fn visit_none<E>(self) -> Result<Ordered, E> {
        Ok(Ordered::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Ordered, D::Error> {
        Ordered::deserialize(deserializer)
    }
    fn visit_bool<E>(self, value: bool) -> Result<Ordered, E> {
        Ok(Ordered::Bool(value))
    }
    fn visit_u64<E>(self, value: u64) -> Result<Ordered, E> {
        Ok(Ordered::Number(value.to_string()))
    }
    fn visit_i64<E>(self, value: i64) -> Result<Ordered, E> {
        Ok(Ordered::Number(value.to_string()))
    }
    fn visit_f64<E>(self, value: f64) -> Result<Ordered, E> {
        Ok(Ordered::Number(value.to_string()))
    }
    fn visit_str<E>(self, value: &str) -> Result<Ordered, E> {
        Ok(Ordered::String(value.to_string()))
    }
    fn visit_string<E>(self, value: String) -> Result<Ordered, E> {
        Ok(Ordered::String(value))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Ordered, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Ordered::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
        let mut fields = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, Ordered>()? {
            fields.push((key, value));
        }
        Ok(Ordered::Object(fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Ordered {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn fields_keep_their_written_order() {
        let value = parse(r#"{"type":"Prepare","ballot":{"round":1,"proposer":4}}"#);
        assert_eq!(
            value.to_json(),
            r#"{"type":"Prepare","ballot":{"round":1,"proposer":4}}"#
        );
        assert_eq!(value.get("ballot").unwrap().to_label(), "1.4");
    }

    #[test]
    fn labels_are_short() {
        assert_eq!(parse("null").to_label(), "–");
        assert_eq!(parse(r#""B""#).to_label(), "B");
        assert_eq!(parse("[1,2,3,4,5,6]").to_label(), "[1,2,3,4,…]");
        assert_eq!(parse(r#"{"a":[1],"b":2}"#).to_label(), "{a:[1],b:2}");
        assert_eq!(parse("-3").as_u64(), None);
        assert_eq!(parse("0.36").to_json(), "0.36");
    }
}
