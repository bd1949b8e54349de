//! The canonical binary encoding of trace events, which the trace hash is
//! taken over.
//!
//! Formatting JSON only to hash it was a third of a `--no-trace` run, so the
//! hash covers this encoding instead: every field of every event, in
//! declaration order, fixed-width and little-endian, through serde, so
//! protocol payloads (messages, timers, observations, durable state) are
//! covered field by field without code of their own. It is injective for a
//! given event type: strings, sequences and maps carry their length, options
//! and enum variants a tag, so no two different events encode alike. Field
//! names are not encoded: renaming a field changes the JSON trace but not
//! what happened, and the hash is about what happened.
//!
//! Integers widen to 64 bits (a `u32` and a `u64` with the same value encode
//! alike; the event type fixes which it is). Floats are encoded by their bits.

use serde::ser::{self, Serialize};
use std::fmt;

/// Appends the encoding of `value` to `out`.
pub fn encode(out: &mut Vec<u8>, value: &impl Serialize) {
    let mut encoder = Encoder {
        out: std::mem::take(out),
    };
    value
        .serialize(&mut encoder)
        .expect("the binary encoding cannot fail");
    *out = encoder.out;
}

/// Tags that keep the encoding injective where serde's data model branches.
mod tag {
    pub const NONE: u8 = 0;
    pub const SOME: u8 = 1;
    pub const UNIT: u8 = 2;
    pub const ELEMENT: u8 = 3;
    pub const END: u8 = 4;
}

struct Encoder {
    out: Vec<u8>,
}

impl Encoder {
    fn u64(&mut self, value: u64) {
        self.out.extend_from_slice(&value.to_le_bytes());
    }
    fn bytes(&mut self, value: &[u8]) {
        self.u64(value.len() as u64);
        self.out.extend_from_slice(value);
    }
    fn tag(&mut self, tag: u8) {
        self.out.push(tag);
    }
    /// Sequences and maps of unknown length are closed by an end tag, with
    /// an element tag before each element, so they stay injective too.
    fn open(&mut self, len: Option<usize>) -> Compound<'_> {
        match len {
            Some(len) => self.u64(len as u64),
            None => self.tag(tag::END),
        }
        Compound {
            encoder: self,
            unknown_length: len.is_none(),
        }
    }
}

/// The encoder never fails; serde wants an error type all the same.
#[derive(Debug)]
pub struct Never;

impl fmt::Display for Never {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unreachable")
    }
}

impl std::error::Error for Never {}

impl ser::Error for Never {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Never
    }
}

/// A sequence, tuple, map or struct being encoded.
struct Compound<'e> {
    encoder: &'e mut Encoder,
    unknown_length: bool,
}

impl Compound<'_> {
    fn element(&mut self, value: &(impl Serialize + ?Sized)) -> Result<(), Never> {
        if self.unknown_length {
            self.encoder.tag(tag::ELEMENT);
        }
        value.serialize(&mut *self.encoder)
    }
    fn close(self) -> Result<(), Never> {
        if self.unknown_length {
            self.encoder.tag(tag::END);
        }
        Ok(())
    }
}

impl<'e> ser::Serializer for &'e mut Encoder {
    type Ok = ();
    type Error = Never;
    type SerializeSeq = Compound<'e>;
    type SerializeTuple = Compound<'e>;
    type SerializeTupleStruct = Compound<'e>;
    type SerializeTupleVariant = Compound<'e>;
    type SerializeMap = Compound<'e>;
    type SerializeStruct = Compound<'e>;
    type SerializeStructVariant = Compound<'e>;

    fn serialize_bool(self, v: bool) -> Result<(), Never> {
        self.out.push(u8::from(v));
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), Never> {
        self.serialize_i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<(), Never> {
        self.serialize_i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<(), Never> {
        self.serialize_i64(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result<(), Never> {
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> Result<(), Never> {
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result<(), Never> {
        self.u64(v.into());
        Ok(())
    }
    fn serialize_u16(self, v: u16) -> Result<(), Never> {
        self.u64(v.into());
        Ok(())
    }
    fn serialize_u32(self, v: u32) -> Result<(), Never> {
        self.u64(v.into());
        Ok(())
    }
    fn serialize_u64(self, v: u64) -> Result<(), Never> {
        self.u64(v);
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> Result<(), Never> {
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result<(), Never> {
        self.serialize_f64(v.into())
    }
    fn serialize_f64(self, v: f64) -> Result<(), Never> {
        self.u64(v.to_bits());
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), Never> {
        self.u64(v.into());
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Never> {
        self.bytes(v.as_bytes());
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Never> {
        self.bytes(v);
        Ok(())
    }
    fn serialize_none(self) -> Result<(), Never> {
        self.tag(tag::NONE);
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Never> {
        self.tag(tag::SOME);
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Never> {
        self.tag(tag::UNIT);
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Never> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
    ) -> Result<(), Never> {
        self.u64(index.into());
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Never> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        value: &T,
    ) -> Result<(), Never> {
        self.u64(index.into());
        value.serialize(self)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Compound<'e>, Never> {
        Ok(self.open(len))
    }
    fn serialize_tuple(self, _len: usize) -> Result<Compound<'e>, Never> {
        // A tuple's length is fixed by its type.
        Ok(Compound {
            encoder: self,
            unknown_length: false,
        })
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Compound<'e>, Never> {
        self.serialize_tuple(len)
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        len: usize,
    ) -> Result<Compound<'e>, Never> {
        self.u64(index.into());
        self.serialize_tuple(len)
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Compound<'e>, Never> {
        Ok(self.open(len))
    }
    /// Struct fields are encoded in order, without names. A field skipped
    /// when empty (`skip_serializing_if`) still leaves a trace: serde then
    /// calls `skip_field`, which writes a tag, so `{a: 1}` with `b` skipped
    /// differs from `{b: 1}` with `a` skipped.
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Compound<'e>, Never> {
        self.serialize_tuple(len)
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        len: usize,
    ) -> Result<Compound<'e>, Never> {
        self.u64(index.into());
        self.serialize_tuple(len)
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = Never;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Never> {
        self.element(value)
    }
    fn end(self) -> Result<(), Never> {
        self.close()
    }
}

impl ser::SerializeTuple for Compound<'_> {
    type Ok = ();
    type Error = Never;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Never> {
        self.element(value)
    }
    fn end(self) -> Result<(), Never> {
        self.close()
    }
}

impl ser::SerializeTupleStruct for Compound<'_> {
    type Ok = ();
    type Error = Never;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Never> {
        self.element(value)
    }
    fn end(self) -> Result<(), Never> {
        self.close()
    }
}

impl ser::SerializeTupleVariant for Compound<'_> {
    type Ok = ();
    type Error = Never;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Never> {
        self.element(value)
    }
    fn end(self) -> Result<(), Never> {
        self.close()
    }
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Never;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Never> {
        self.element(key)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Never> {
        value.serialize(&mut *self.encoder)
    }
    fn end(self) -> Result<(), Never> {
        self.close()
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = Never;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        _key: &'static str,
        value: &T,
    ) -> Result<(), Never> {
        self.encoder.tag(tag::SOME);
        self.element(value)
    }
    fn skip_field(&mut self, _key: &'static str) -> Result<(), Never> {
        self.encoder.tag(tag::NONE);
        Ok(())
    }
    fn end(self) -> Result<(), Never> {
        self.close()
    }
}

impl ser::SerializeStructVariant for Compound<'_> {
    type Ok = ();
    type Error = Never;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        _key: &'static str,
        value: &T,
    ) -> Result<(), Never> {
        self.encoder.tag(tag::SOME);
        self.element(value)
    }
    fn skip_field(&mut self, _key: &'static str) -> Result<(), Never> {
        self.encoder.tag(tag::NONE);
        Ok(())
    }
    fn end(self) -> Result<(), Never> {
        self.close()
    }
}

#[cfg(test)]
mod tests {
    use super::encode;
    use serde::Serialize;

    fn bytes(value: &impl Serialize) -> Vec<u8> {
        let mut out = Vec::new();
        encode(&mut out, value);
        out
    }

    #[test]
    fn lengths_and_tags_keep_neighbours_apart() {
        assert_ne!(bytes(&("ab", "c")), bytes(&("a", "bc")));
        assert_ne!(
            bytes(&vec![vec![1u8], vec![]]),
            bytes(&vec![vec![], vec![1u8]])
        );
        assert_ne!(bytes(&Some(0u64)), bytes(&None::<u64>));
        assert_ne!(bytes(&Some(())), bytes(&None::<()>));
        assert_ne!(bytes(&0.0f64), bytes(&-0.0f64));
    }

    #[test]
    fn a_skipped_field_is_not_confused_with_its_neighbour() {
        #[derive(Serialize)]
        struct Two {
            #[serde(skip_serializing_if = "Option::is_none")]
            a: Option<u64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            b: Option<u64>,
        }
        let a = Two {
            a: Some(1),
            b: None,
        };
        let b = Two {
            a: None,
            b: Some(1),
        };
        assert_ne!(bytes(&a), bytes(&b));
    }

    #[test]
    fn variants_are_told_apart_by_index_and_tagged_enums_by_name() {
        #[derive(Serialize)]
        enum Plain {
            A(u64),
            B(u64),
        }
        #[derive(Serialize)]
        #[serde(tag = "kind")]
        enum Tagged {
            A { x: u64 },
            B { x: u64 },
        }
        assert_ne!(bytes(&Plain::A(1)), bytes(&Plain::B(1)));
        assert_ne!(bytes(&Tagged::A { x: 1 }), bytes(&Tagged::B { x: 1 }));
    }
}
