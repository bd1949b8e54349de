//! A fast reading of the start of a trace line, for the common lines.
//!
//! Both passes over a trace need only a line's time, kind, nodes and id,
//! and the first pass a message's kind; serde_json, asked for those, still
//! scans every payload byte, which made the report cost twice the run for
//! long traces. The trace writer puts those fields first, in a fixed form
//! (`{"t":<ns>,"kind":"<kind>","node":<n>,...,"message":...}`), so they are
//! read here by hand. Any line that does not look exactly like that gets
//! `None`, and the caller reads it with serde instead: the fast path never
//! decides what a line means on its own.

use super::trace::{LineHead, MessageKind, Text};
use std::borrow::Cow;

/// Fields the writer puts last, after every field the reports need; the
/// scan stops at them.
const PAYLOAD_KEYS: [&str; 4] = ["message", "reason", "timer", "observation"];

/// The head of a line, or `None` to have serde read it.
pub fn head(line: &[u8]) -> Option<LineHead<'_>> {
    let mut cursor = Cursor { bytes: line };
    cursor.expect(b"{\"t\":")?;
    let t = cursor.integer()?;
    cursor.expect(b",\"kind\":\"")?;
    let kind = cursor.plain_string()?;
    let mut head = LineHead {
        t,
        kind: Text(Cow::Borrowed(kind)),
        id: None,
        node: None,
        to: None,
        from: None,
        message: None,
    };
    loop {
        if cursor.bytes.first() == Some(&b'}') {
            return Some(head);
        }
        cursor.expect(b",\"")?;
        let key = cursor.plain_string()?;
        cursor.expect(b":")?;
        match key {
            "id" => head.id = Some(cursor.integer()?),
            "node" => head.node = Some(u32::try_from(cursor.integer()?).ok()?),
            "to" => head.to = Some(u32::try_from(cursor.integer()?).ok()?),
            "from" => head.from = Some(u32::try_from(cursor.integer()?).ok()?),
            "message" => {
                head.message = Some(message_kind(cursor.bytes)?);
                return Some(head);
            }
            key if PAYLOAD_KEYS.contains(&key) => return Some(head),
            _ => return None,
        }
    }
}

/// The kind of the message at the start of `bytes`: its `type` when that
/// comes first, its only candidate key when no `"type":` appears at all, or
/// the string it is.
fn message_kind(bytes: &[u8]) -> Option<MessageKind<'_>> {
    let mut cursor = Cursor { bytes };
    if cursor.expect(b"\"").is_some() {
        return Some(MessageKind(Some(Text(Cow::Borrowed(
            cursor.plain_string()?,
        )))));
    }
    cursor.expect(b"{\"")?;
    let first = cursor.plain_string()?;
    cursor.expect(b":")?;
    if first == "type" {
        cursor.expect(b"\"")?;
        return Some(MessageKind(Some(Text(Cow::Borrowed(
            cursor.plain_string()?,
        )))));
    }
    let typed_later = cursor.bytes.windows(7).any(|w| w == b"\"type\":");
    (!typed_later).then_some(MessageKind(Some(Text(Cow::Borrowed(first)))))
}

struct Cursor<'a> {
    bytes: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn expect(&mut self, prefix: &[u8]) -> Option<()> {
        self.bytes = self.bytes.strip_prefix(prefix)?;
        Some(())
    }

    /// A decimal integer without sign, exponent or fraction.
    fn integer(&mut self) -> Option<u64> {
        let digits = self.bytes.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || matches!(self.bytes.get(digits), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        let mut value: u64 = 0;
        for &digit in &self.bytes[..digits] {
            value = value
                .checked_mul(10)?
                .checked_add(u64::from(digit - b'0'))?;
        }
        self.bytes = &self.bytes[digits..];
        Some(value)
    }

    /// The rest of a string whose opening quote was read, up to its closing
    /// quote; `None` if it has an escape (serde will unescape it).
    fn plain_string(&mut self) -> Option<&'a str> {
        let end = self.bytes.iter().position(|&b| b == b'"' || b == b'\\')?;
        if self.bytes[end] == b'\\' {
            return None;
        }
        let text = std::str::from_utf8(&self.bytes[..end]).ok()?;
        self.bytes = &self.bytes[end + 1..];
        Some(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scan answers, and agrees with serde.
    fn agrees(line: &str) -> bool {
        let serde: LineHead = serde_json::from_str(line).unwrap();
        let Some(scanned) = head(line.as_bytes()) else {
            return false;
        };
        let kind = |m: &Option<MessageKind>| m.as_ref().map(|m| m.0.as_deref().map(str::to_string));
        assert_eq!(
            (
                scanned.t,
                &*scanned.kind,
                scanned.id,
                scanned.node,
                scanned.to,
                scanned.from
            ),
            (
                serde.t,
                &*serde.kind,
                serde.id,
                serde.node,
                serde.to,
                serde.from
            ),
            "{line}"
        );
        assert_eq!(kind(&scanned.message), kind(&serde.message), "{line}");
        true
    }

    #[test]
    fn common_lines_are_scanned_as_serde_reads_them() {
        for line in [
            r#"{"t":687838,"kind":"send","node":4,"to":0,"id":0,"message":{"type":"Beat"}}"#,
            r#"{"t":5,"kind":"send","node":4,"to":0,"id":0,"message":{"beat":1}}"#,
            r#"{"t":9,"kind":"deliver","node":1,"from":4,"id":1,"message":{"type":"Accept","ballot":{"round":1,"proposer":4},"value":"B"}}"#,
            r#"{"t":9,"kind":"send","node":1,"to":4,"id":1,"message":"Ping"}"#,
            r#"{"t":7,"kind":"drop","node":3,"from":4,"id":3,"reason":"random_loss"}"#,
            r#"{"t":0,"kind":"observe","node":0,"observation":{"what":"view","members":[0,1]}}"#,
            r#"{"t":0,"kind":"duplicate","node":2,"to":0,"id":396}"#,
            r#"{"t":3,"kind":"heal"}"#,
        ] {
            assert!(agrees(line), "{line} was not scanned");
        }
    }

    #[test]
    fn unusual_lines_are_left_to_serde() {
        for line in [
            r#"{"t":0,"kind":"pause","node":1,"duration":1500000000}"#,
            r#"{"t":0,"kind":"send","node":1,"to":2,"id":3,"message":{"x":1,"type":"Late"}}"#,
            r#"{"t":0,"kind":"send","node":1,"to":2,"id":3,"message":{"type":"Q\"uote"}}"#,
            r#"{"kind":"send","t":0,"node":1}"#,
            r#"{"t":1.5,"kind":"end"}"#,
            r#"{"t":0,"kind":"send","node":99999999999,"to":2,"id":3,"message":"x"}"#,
        ] {
            assert!(
                head(line.as_bytes()).is_none(),
                "{line} should be left to serde"
            );
        }
    }
}
