//! The trace, read for the diagram: message copies with their fates, marks
//! (observations, faults) and the spans during which nodes were down, paused,
//! partitioned or had a link cut.
//!
//! A long run is cut into windows of at most `WINDOW_COPIES_MAX` message
//! copies (a send, or a duplicate the network made), in trace order, and at
//! most `WINDOWS_MAX` windows around the focus (the first violation) are
//! kept. Reading takes two passes over the bytes: the first counts copies and
//! message kinds, the second keeps only what the kept windows draw, so memory
//! stays bounded by the windows whatever the run's length.

use super::json::Ordered;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

/// Message copies (arrows) in one window of the diagram.
pub const WINDOW_COPIES_MAX: u64 = 200;
/// Windows kept in the page, around the focus.
pub const WINDOWS_MAX: usize = 25;
/// Observations labelled in one window; further ones are counted, not drawn.
pub const WINDOW_OBSERVATIONS_MAX: usize = 300;
/// Message kinds given their own colour and accounting row; the rest share one.
pub const MESSAGE_KINDS_MAX: usize = 24;
/// Characters of a payload shown in a tooltip.
const PAYLOAD_CHARS_MAX: usize = 400;
/// Characters of an arrow's or a mark's label.
pub const LABEL_CHARS_MAX: usize = 32;
/// Characters of the label of several marks at one place and instant.
const MERGED_LABEL_CHARS_MAX: usize = 60;
/// Message ids above this are not tracked for per-kind drop accounting.
const MESSAGE_ID_TRACKED_MAX: u64 = 1 << 26;

/// What happened to one copy of a message.
#[derive(Clone, Debug, PartialEq)]
pub enum Fate {
    Delivered {
        at: u64,
    },
    Dropped {
        at: u64,
        reason: String,
    },
    /// Still on the wire (or in a paused node's inbox) when the run ended.
    InFlight,
}

/// One copy of a message: one arrow.
#[derive(Clone, Debug)]
pub struct Arrow {
    pub window: usize,
    pub id: u64,
    pub from: u32,
    pub to: u32,
    pub sent: u64,
    /// The second copy the network made of the same message.
    pub duplicate: bool,
    /// Index into `TraceView::kinds`, or `kinds.len()` for "other".
    pub kind: usize,
    pub label: String,
    pub payload: String,
    /// When it reached a paused node's inbox; it is handled on resume.
    pub queued: Option<u64>,
    pub fate: Fate,
}

/// Where a mark is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// On a node's line.
    Node(u32),
    /// In the left margin: the network as a whole, or a link.
    Network,
}

/// What sort of mark it is, for its colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkKind {
    Observation,
    Fault,
    Network,
    End,
}

/// A point event with a short label: an observation, a fault, the end.
#[derive(Clone, Debug)]
pub struct Mark {
    pub time: u64,
    pub window: usize,
    pub place: Place,
    pub kind: MarkKind,
    pub label: String,
    /// The whole event, for the tooltip.
    pub detail: String,
}

/// A condition of a node over a stretch of time, shaded on its line.
#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    Crashed,
    Paused,
    /// In partition group `n` (0-based) of the partition in force.
    Group(usize),
    /// In more than one group: a bridge.
    Bridge,
    /// The link from this node to `to` is cut.
    LinkCut {
        to: u32,
    },
    /// The link from this node to `to` is degraded.
    LinkDegraded {
        to: u32,
    },
}

#[derive(Clone, Debug)]
pub struct Span {
    pub node: u32,
    pub start: u64,
    pub end: u64,
    pub condition: Condition,
    /// For partitions: the groups, as text.
    pub note: String,
}

/// A window: a range of copy indices and its place among the kept windows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    pub copies_first: u64,
    pub copies_end: u64,
}

/// Per message kind: what the network did with it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KindCounts {
    pub sent: u64,
    pub duplicated: u64,
    pub delivered: u64,
    pub dropped: u64,
}

/// Everything the diagram and the accounting need from a trace.
#[derive(Clone, Debug, Default)]
pub struct TraceView {
    pub nodes: u32,
    pub copies_total: u64,
    pub windows: Vec<Window>,
    pub window_default: usize,
    pub arrows: Vec<Arrow>,
    pub marks: Vec<Mark>,
    /// Per window, observations not drawn because of the cap.
    pub observations_hidden: Vec<u64>,
    pub spans: Vec<Span>,
    /// Message kinds in order of first appearance, at most `MESSAGE_KINDS_MAX`.
    pub kinds: Vec<String>,
    /// Counts per kind, in the order of `kinds`, then "other" if any.
    pub counts: Vec<(String, KindCounts)>,
    /// Lines that were not JSON objects with `t` and `kind`.
    pub lines_unreadable: u64,
}

/// Where a trace's lines come from: bytes in memory, or a file, which is
/// read line by line (twice) so that memory does not grow with its size.
#[derive(Clone, Copy, Debug)]
pub enum TraceSource<'a> {
    /// A trace in memory.
    Bytes(&'a [u8]),
    /// A trace file.
    File(&'a Path),
}

impl TraceSource<'_> {
    /// Calls `visit` with each non-blank line, without its line break.
    fn each_line(&self, visit: &mut dyn FnMut(&[u8])) -> io::Result<()> {
        let blank = |line: &[u8]| line.iter().all(u8::is_ascii_whitespace);
        match self {
            TraceSource::Bytes(bytes) => {
                for line in bytes.split(|&b| b == b'\n').filter(|l| !blank(l)) {
                    visit(line);
                }
            }
            TraceSource::File(path) => {
                let mut reader = BufReader::with_capacity(1 << 20, File::open(path)?);
                let mut line = Vec::with_capacity(512);
                loop {
                    line.clear();
                    if reader.read_until(b'\n', &mut line)? == 0 {
                        break;
                    }
                    if !blank(&line) {
                        visit(&line);
                    }
                }
            }
        }
        Ok(())
    }
}

/// What both passes read of every line: what it is about, and the kind of
/// message it carries. The rest (payloads) is skipped without being built.
#[derive(serde::Deserialize)]
pub(super) struct LineHead<'a> {
    pub t: u64,
    #[serde(borrow)]
    pub kind: Text<'a>,
    #[serde(default)]
    pub id: Option<u64>,
    #[serde(default)]
    pub node: Option<u32>,
    #[serde(default)]
    pub to: Option<u32>,
    #[serde(default)]
    pub from: Option<u32>,
    #[serde(default, borrow)]
    pub message: Option<MessageKind<'a>>,
}

impl<'a> LineHead<'a> {
    /// Reads a line's head: by hand for the usual form, else with serde.
    fn read(line: &'a [u8]) -> Option<Self> {
        super::scan::head(line).or_else(|| serde_json::from_slice(line).ok())
    }
}

/// A JSON string, borrowed from the line when it has no escapes: the
/// passes read millions of lines, and allocating a string for each kind
/// was a large part of their time.
pub(super) struct Text<'a>(pub Cow<'a, str>);

impl std::ops::Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(TextVisitor(std::marker::PhantomData))
    }
}

struct TextVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> serde::de::Visitor<'de> for TextVisitor<'a> {
    type Value = Text<'a>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E>(self, value: &'de str) -> Result<Text<'a>, E> {
        Ok(Text(Cow::Borrowed(value)))
    }
    fn visit_str<E>(self, value: &str) -> Result<Text<'a>, E> {
        Ok(Text(Cow::Owned(value.to_string())))
    }
}

/// The kind of a message (see `message_kind`), read without building the
/// rest of it; `None` inside for a message of no kind ("message").
pub(super) struct MessageKind<'a>(pub Option<Text<'a>>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for MessageKind<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(MessageKindVisitor(std::marker::PhantomData))
    }
}

struct MessageKindVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> serde::de::Visitor<'de> for MessageKindVisitor<'a> {
    type Value = MessageKind<'a>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a message")
    }
    fn visit_borrowed_str<E>(self, value: &'de str) -> Result<MessageKind<'a>, E> {
        Ok(MessageKind(Some(Text(Cow::Borrowed(value)))))
    }
    fn visit_str<E>(self, value: &str) -> Result<MessageKind<'a>, E> {
        Ok(MessageKind(Some(Text(Cow::Owned(value.to_string())))))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> Result<MessageKind<'a>, A::Error> {
        let mut first: Option<Text<'a>> = None;
        let mut typed: Option<Text<'a>> = None;
        while let Some(key) = map.next_key::<Text<'a>>()? {
            if &*key == "type" && typed.is_none() {
                typed = map.next_value::<MessageKind<'a>>()?.0;
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
            if first.is_none() {
                first = Some(key);
            }
        }
        Ok(MessageKind(typed.or(first)))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> Result<MessageKind<'a>, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(MessageKind(None))
    }
    fn visit_u64<E>(self, _: u64) -> Result<MessageKind<'a>, E> {
        Ok(MessageKind(None))
    }
    fn visit_i64<E>(self, _: i64) -> Result<MessageKind<'a>, E> {
        Ok(MessageKind(None))
    }
    fn visit_f64<E>(self, _: f64) -> Result<MessageKind<'a>, E> {
        Ok(MessageKind(None))
    }
    fn visit_bool<E>(self, _: bool) -> Result<MessageKind<'a>, E> {
        Ok(MessageKind(None))
    }
    fn visit_unit<E>(self) -> Result<MessageKind<'a>, E> {
        Ok(MessageKind(None))
    }
}

/// Kinds of line that change a node's or a link's condition: few, and read
/// whichever window they fall in.
const CONDITION_KINDS: [&str; 10] = [
    "crash",
    "restart",
    "pause",
    "resume",
    "partition",
    "heal",
    "cut_link",
    "restore_link",
    "degrade_link",
    "degrade_end",
];

/// The kind of a message: its `type` field, else its first field's name,
/// else the string it is.
pub fn message_kind(message: &Ordered) -> String {
    match message {
        Ordered::Object(fields) => match message.get("type").and_then(Ordered::as_str) {
            Some(kind) => kind.to_string(),
            None => fields
                .first()
                .map_or("message".to_string(), |(k, _)| k.clone()),
        },
        Ordered::String(text) => text.clone(),
        _ => "message".to_string(),
    }
}

/// The arrow's label: the kind and the values of the next two fields (an
/// untyped message `{"beat":7}` reads "beat 7").
pub fn message_label(message: &Ordered) -> String {
    let label = match message {
        Ordered::Object(fields) => {
            let typed = message.get("type").and_then(Ordered::as_str);
            let mut words: Vec<String> = typed.map(str::to_string).into_iter().collect();
            let rest = fields
                .iter()
                .filter(|(key, _)| typed.is_none() || key != "type");
            for (i, (key, value)) in rest.take(2).enumerate() {
                if typed.is_none() && i == 0 {
                    words.push(key.clone());
                }
                words.push(value.to_label());
            }
            words.join(" ")
        }
        other => other.to_label(),
    };
    super::html::truncate(&label, LABEL_CHARS_MAX)
}

/// An observation's label: its `what` and its first two other fields.
pub fn observation_label(observation: &Ordered) -> String {
    let label = match observation {
        Ordered::Object(fields) => {
            let what = observation
                .get("what")
                .map_or("observe".to_string(), Ordered::to_label);
            let mut label = what;
            for (key, value) in fields.iter().filter(|(k, _)| k != "what").take(2) {
                label.push_str(&format!(" {key}={}", value.to_label()));
            }
            label
        }
        other => other.to_label(),
    };
    super::html::truncate(&label, LABEL_CHARS_MAX)
}

/// First pass: counts and kinds over the whole trace.
struct Census {
    copies_total: u64,
    copies_before_focus: u64,
    nodes: u32,
    end: u64,
    kinds: Vec<String>,
    counts: BTreeMap<usize, KindCounts>,
    kind_of_id: Vec<u32>,
    lines_unreadable: u64,
}

impl Census {
    fn kind_index(&mut self, kind: &str) -> usize {
        match self.kinds.iter().position(|k| k == kind) {
            Some(index) => index,
            None if self.kinds.len() < MESSAGE_KINDS_MAX => {
                self.kinds.push(kind.to_string());
                self.kinds.len() - 1
            }
            None => MESSAGE_KINDS_MAX,
        }
    }

    fn remember_kind(&mut self, id: u64, kind: usize) {
        if id < MESSAGE_ID_TRACKED_MAX {
            let id = id as usize;
            if self.kind_of_id.len() <= id {
                self.kind_of_id.resize(id + 1, u32::MAX);
            }
            self.kind_of_id[id] = kind as u32;
        }
    }

    fn kind_of(&self, id: Option<u64>) -> Option<usize> {
        let kind = *self.kind_of_id.get(id? as usize)?;
        (kind != u32::MAX).then_some(kind as usize)
    }

    fn count(&mut self, mut head: LineHead, focus: u64) {
        for node in [head.node, head.to, head.from].into_iter().flatten() {
            self.nodes = self.nodes.max(node.saturating_add(1));
        }
        self.end = self.end.max(head.t);
        match &*head.kind {
            "send" | "duplicate" => {
                if head.t < focus {
                    self.copies_before_focus += 1;
                }
                self.copies_total += 1;
                let kind = match head.message.take() {
                    Some(MessageKind(kind)) => {
                        let kind = self.kind_index(kind.as_deref().unwrap_or("message"));
                        if let Some(id) = head.id {
                            self.remember_kind(id, kind);
                        }
                        Some(kind)
                    }
                    None => self.kind_of(head.id),
                };
                let counts = self.counts.entry(kind.unwrap_or(MESSAGE_KINDS_MAX));
                let counts = counts.or_default();
                if &*head.kind == "send" {
                    counts.sent += 1;
                } else {
                    counts.duplicated += 1;
                }
            }
            "deliver" | "drop" => {
                let kind = self.kind_of(head.id).unwrap_or(MESSAGE_KINDS_MAX);
                let counts = self.counts.entry(kind).or_default();
                if &*head.kind == "deliver" {
                    counts.delivered += 1;
                } else {
                    counts.dropped += 1;
                }
            }
            _ => {}
        }
    }
}

fn census(trace: TraceSource, focus: u64, nodes: u32) -> io::Result<Census> {
    let mut census = Census {
        copies_total: 0,
        copies_before_focus: 0,
        nodes,
        end: 0,
        kinds: Vec::new(),
        counts: BTreeMap::new(),
        kind_of_id: Vec::new(),
        lines_unreadable: 0,
    };
    trace.each_line(&mut |line| match LineHead::read(line) {
        Some(head) => census.count(head, focus),
        None => census.lines_unreadable += 1,
    })?;
    Ok(census)
}

/// Cuts `copies_total` copies into windows of `per_window`, placed so that
/// copy `focus` sits in the middle of its window (the first window of the run
/// may then be shorter), and keeps at most `windows_max` of them around it.
/// Returns the kept windows and the index of the focus's among them.
pub fn plan_windows(
    copies_total: u64,
    focus: u64,
    per_window: u64,
    windows_max: usize,
) -> (Vec<Window>, usize) {
    assert!(per_window > 0 && windows_max > 0);
    if copies_total == 0 {
        let only = Window {
            copies_first: 0,
            copies_end: 0,
        };
        return (vec![only], 0);
    }
    let focus_first = focus.min(copies_total - 1).saturating_sub(per_window / 2);
    // Window starts: back from the focus's window to 0, then on to the end.
    let mut starts: Vec<u64> = (1..=focus_first.div_ceil(per_window))
        .map(|back| focus_first.saturating_sub(back * per_window))
        .collect();
    starts.reverse();
    let focus_window = starts.len();
    starts.extend((focus_first..copies_total).step_by(per_window as usize));
    let kept_end =
        (focus_window.saturating_sub((windows_max - 1) / 2) + windows_max).min(starts.len());
    let kept_first = kept_end.saturating_sub(windows_max);
    let windows = (kept_first..kept_end)
        .map(|i| Window {
            copies_first: starts[i],
            copies_end: starts.get(i + 1).copied().unwrap_or(copies_total),
        })
        .collect();
    (windows, focus_window - kept_first)
}

/// Reads a trace for the diagram: `focus` is the true time to centre the
/// default window on, `nodes` the node count the summary gives (lines may
/// name more, as with joins).
pub fn read(trace: TraceSource, focus: u64, nodes: u32) -> io::Result<TraceView> {
    let census = census(trace, focus, nodes)?;
    let (windows, window_default) = plan_windows(
        census.copies_total,
        census.copies_before_focus,
        WINDOW_COPIES_MAX,
        WINDOWS_MAX,
    );
    let mut reader = Reader::new(&census, windows);
    trace.each_line(&mut |line| reader.line(line))?;
    let mut view = reader.finish(census.end);
    view.window_default = window_default;
    view.nodes = census.nodes;
    view.copies_total = census.copies_total;
    view.lines_unreadable = census.lines_unreadable;
    view.kinds = census.kinds.clone();
    view.counts = census
        .counts
        .iter()
        .map(|(&kind, counts)| {
            let name = census
                .kinds
                .get(kind)
                .cloned()
                .unwrap_or_else(|| "other".to_string());
            (name, counts.clone())
        })
        .collect();
    Ok(view)
}

/// Second pass: keeps the kept windows' arrows and marks, and every fault
/// (few) to know each node's condition at any time.
struct Reader {
    windows: Vec<Window>,
    copies_seen: u64,
    arrows: Vec<Arrow>,
    /// Message id -> indices into `arrows` of its copies.
    copies_of_id: BTreeMap<u64, Vec<usize>>,
    marks: Vec<Mark>,
    observations_shown: Vec<usize>,
    observations_hidden: Vec<u64>,
    conditions: Conditions,
    kinds: Vec<String>,
}

impl Reader {
    fn new(census: &Census, windows: Vec<Window>) -> Self {
        let count = windows.len();
        Reader {
            windows,
            copies_seen: 0,
            arrows: Vec::new(),
            copies_of_id: BTreeMap::new(),
            marks: Vec::new(),
            observations_shown: vec![0; count],
            observations_hidden: vec![0; count],
            conditions: Conditions::default(),
            kinds: census.kinds.clone(),
        }
    }

    /// The kept window holding copy `index`, if any.
    fn window_of_copy(&self, index: u64) -> Option<usize> {
        let first = self.windows.first()?;
        if first.copies_first == first.copies_end {
            return Some(0);
        }
        let position = self
            .windows
            .partition_point(|w| w.copies_end <= index)
            .min(self.windows.len() - 1);
        let window = &self.windows[position];
        (window.copies_first <= index && index < window.copies_end).then_some(position)
    }

    /// The kept window of a line that is not a copy: the window of the copy
    /// before it (lines before the first copy go with the first).
    fn window_here(&self) -> Option<usize> {
        self.window_of_copy(self.copies_seen.saturating_sub(1))
    }

    /// Reads a line whole only when it is drawn or changes a condition:
    /// most lines of a long run are outside the kept windows.
    fn line(&mut self, line: &[u8]) {
        let Some(head) = LineHead::read(line) else {
            return;
        };
        let whole = || serde_json::from_slice::<Ordered>(line).ok();
        match &*head.kind {
            "send" | "duplicate" => {
                let index = self.copies_seen;
                self.copies_seen += 1;
                // Only copies in a kept window are read whole.
                if let Some(window) = self.window_of_copy(index) {
                    if let Some(event) = whole() {
                        self.copy(&head, window, &event);
                    }
                }
            }
            "enqueue" => self.queued(&head),
            // A paused node's inbox is handled the instant it resumes, before
            // anything else reaches it: a delivery of a message with a copy
            // waiting there is that copy.
            "deliver" => self.fate(&head, true, |at| Fate::Delivered { at }),
            "drop"
                if head
                    .id
                    .is_some_and(|id| self.copies_of_id.contains_key(&id)) =>
            {
                let reason = whole()
                    .and_then(|event| event.get("reason").map(Ordered::to_label))
                    .unwrap_or_else(|| "?".to_string());
                // Only a crash empties an inbox; other drops happen on the wire.
                let from_inbox = reason == "crashed_destination";
                self.fate(&head, from_inbox, |at| Fate::Dropped { at, reason })
            }
            "drop" | "timer" | "persist" | "start" => {}
            kind => {
                let window = self.window_here();
                let condition = CONDITION_KINDS.contains(&kind);
                if window.is_none() && !condition {
                    return;
                }
                if kind == "observe" && window.is_some_and(|w| self.observations_full(w)) {
                    return;
                }
                let Some(event) = whole() else { return };
                if condition {
                    self.conditions.apply(head.t, kind, &event);
                }
                if let Some(window) = window {
                    self.mark(&head, window, &event);
                }
            }
        }
    }

    /// Whether window `window` has all the observation labels it may have
    /// (further ones are counted).
    fn observations_full(&mut self, window: usize) -> bool {
        let full = self.observations_shown[window] >= WINDOW_OBSERVATIONS_MAX;
        if full {
            self.observations_hidden[window] += 1;
        }
        full
    }

    fn copy(&mut self, head: &LineHead, window: usize, event: &Ordered) {
        let (Some(id), Some(from), Some(to)) = (head.id, head.node, head.to) else {
            return;
        };
        let duplicate = &*head.kind == "duplicate";
        let original = self
            .copies_of_id
            .get(&id)
            .and_then(|copies| copies.first())
            .map(|&i| &self.arrows[i]);
        let (kind, label, payload) = match (event.get("message"), original) {
            (Some(message), _) => {
                let kind = message_kind(message);
                let kind = self
                    .kinds
                    .iter()
                    .position(|k| *k == kind)
                    .unwrap_or(self.kinds.len());
                let payload = super::html::truncate(&message.to_json(), PAYLOAD_CHARS_MAX);
                (kind, message_label(message), payload)
            }
            (None, Some(original)) => (
                original.kind,
                original.label.clone(),
                original.payload.clone(),
            ),
            (None, None) => (self.kinds.len(), "copy".to_string(), String::new()),
        };
        self.copies_of_id
            .entry(id)
            .or_default()
            .push(self.arrows.len());
        self.arrows.push(Arrow {
            window,
            id,
            from,
            to,
            sent: head.t,
            duplicate,
            kind,
            label,
            payload,
            queued: None,
            fate: Fate::InFlight,
        });
    }

    /// The copy of message `id` that a queue or fate event is about: the
    /// first pending copy that is in the inbox (when `from_inbox`) or on the
    /// wire (otherwise), else the first pending copy at all.
    fn copy_for(&mut self, id: u64, from_inbox: bool) -> Option<&mut Arrow> {
        let copies = self.copies_of_id.get(&id)?;
        let pending = |a: &Arrow| a.fate == Fate::InFlight;
        let chosen = copies
            .iter()
            .copied()
            .find(|&i| pending(&self.arrows[i]) && self.arrows[i].queued.is_some() == from_inbox)
            .or_else(|| copies.iter().copied().find(|&i| pending(&self.arrows[i])))?;
        Some(&mut self.arrows[chosen])
    }

    fn queued(&mut self, head: &LineHead) {
        if let Some(arrow) = head.id.and_then(|id| self.copy_for(id, false)) {
            arrow.queued = Some(head.t);
        }
    }

    /// Records what became of a copy of message `id`: one waiting in the
    /// inbox if the event can come from there, else one on the wire.
    fn fate(&mut self, head: &LineHead, from_inbox: bool, fate: impl FnOnce(u64) -> Fate) {
        let Some(id) = head.id else { return };
        if let Some(arrow) = self.copy_for(id, from_inbox) {
            arrow.fate = fate(head.t);
        }
    }

    fn mark(&mut self, head: &LineHead, window: usize, event: &Ordered) {
        let (place, kind, label) = describe_mark(head, event);
        if kind == MarkKind::Observation {
            self.observations_shown[window] += 1;
        }
        let label = super::html::truncate(&label, LABEL_CHARS_MAX);
        // An observation's tooltip is the observation; other marks show the
        // whole line.
        let shown = match kind {
            MarkKind::Observation => event.get("observation").unwrap_or(event),
            _ => event,
        };
        let detail = super::html::truncate(&shown.to_json(), PAYLOAD_CHARS_MAX);
        // Marks at one place and instant share a label, which would
        // otherwise be drawn over each other.
        let same = self
            .marks
            .iter_mut()
            .rev()
            .take_while(|m| m.time == head.t)
            .find(|m| (m.window, m.place) == (window, place));
        if let Some(last) = same.filter(|m| m.label.chars().count() < MERGED_LABEL_CHARS_MAX) {
            last.label =
                super::html::truncate(&format!("{} · {label}", last.label), MERGED_LABEL_CHARS_MAX);
            last.detail = format!("{}\n{detail}", last.detail);
            if kind != MarkKind::Observation {
                last.kind = kind;
            }
            return;
        }
        self.marks.push(Mark {
            time: head.t,
            window,
            place,
            kind,
            label,
            detail,
        });
    }

    fn finish(self, end: u64) -> TraceView {
        TraceView {
            windows: self.windows,
            arrows: self.arrows,
            marks: self.marks,
            observations_hidden: self.observations_hidden,
            spans: self.conditions.finish(end),
            ..TraceView::default()
        }
    }
}

/// Where a non-message event is drawn, what sort of mark it is, its label.
fn describe_mark(head: &LineHead, event: &Ordered) -> (Place, MarkKind, String) {
    let field = |name: &str| event.get(name).map(Ordered::to_label).unwrap_or_default();
    let link = || format!("{}→{}", field("from"), field("to"));
    let on_node = head.node.map(Place::Node).unwrap_or(Place::Network);
    match &*head.kind {
        "observe" => {
            let observation = event.get("observation").unwrap_or(&Ordered::Null);
            (
                on_node,
                MarkKind::Observation,
                observation_label(observation),
            )
        }
        "pause" => {
            let duration = event.get("duration").and_then(Ordered::as_u64);
            let label = duration.map_or("pause".to_string(), |d| {
                format!("pause {}", super::html::duration(d))
            });
            (on_node, MarkKind::Fault, label)
        }
        "clock_drift" => (
            on_node,
            MarkKind::Fault,
            format!("drift {}ppm", field("ppm")),
        ),
        "clock_jump" => {
            let by = event.get("by").and_then(Ordered::as_u64).unwrap_or(0);
            let backward = event.get("backward") == Some(&Ordered::Bool(true));
            let sign = if backward { "−" } else { "+" };
            let by = super::html::duration(by);
            (on_node, MarkKind::Fault, format!("clock {sign}{by}"))
        }
        "partition" => (
            Place::Network,
            MarkKind::Network,
            format!("partition {}", groups_text(event)),
        ),
        "cut_link" => (Place::Network, MarkKind::Network, format!("cut {}", link())),
        "restore_link" => (
            Place::Network,
            MarkKind::Network,
            format!("restore {}", link()),
        ),
        "degrade_link" => (
            Place::Network,
            MarkKind::Network,
            format!("degrade {}", link()),
        ),
        "degrade_end" => (
            Place::Network,
            MarkKind::Network,
            format!("undegrade {}", link()),
        ),
        "end" => (Place::Network, MarkKind::End, "end of run".to_string()),
        other if head.node.is_some() => (on_node, MarkKind::Fault, other.replace('_', " ")),
        other => (Place::Network, MarkKind::Network, other.replace('_', " ")),
    }
}

/// Partition groups as `0,1 | 2,3,4`.
fn groups_text(event: &Ordered) -> String {
    match event.get("groups") {
        Some(Ordered::Array(groups)) => groups
            .iter()
            .map(|group| match group {
                Ordered::Array(nodes) => nodes
                    .iter()
                    .map(Ordered::to_label)
                    .collect::<Vec<_>>()
                    .join(","),
                other => other.to_label(),
            })
            .collect::<Vec<_>>()
            .join(" | "),
        _ => String::new(),
    }
}

/// The conditions in force, turned into spans as they end.
#[derive(Default)]
struct Conditions {
    crashed: BTreeMap<u32, u64>,
    paused: BTreeMap<u32, u64>,
    partition: Option<(u64, Vec<Vec<u32>>, String)>,
    cut: BTreeMap<(u32, u32), u64>,
    degraded: BTreeMap<(u32, u32), u64>,
    spans: Vec<Span>,
}

impl Conditions {
    fn apply(&mut self, t: u64, kind: &str, event: &Ordered) {
        let number = |name: &str| {
            event
                .get(name)
                .and_then(Ordered::as_u64)
                .and_then(|n| u32::try_from(n).ok())
        };
        let node = number("node");
        let link = number("from").zip(number("to"));
        match (kind, node, link) {
            ("crash", Some(node), _) => {
                self.paused_end(node, t);
                self.crashed.entry(node).or_insert(t);
            }
            ("restart", Some(node), _) => self.crashed_end(node, t),
            ("pause", Some(node), _) => {
                self.paused.entry(node).or_insert(t);
            }
            ("resume", Some(node), _) => self.paused_end(node, t),
            ("partition", _, _) => {
                self.partition_end(t);
                self.partition = Some((t, groups(event), groups_text(event)));
            }
            ("heal", _, _) => {
                self.partition_end(t);
                let cut: Vec<_> = self.cut.keys().copied().collect();
                for link in cut {
                    self.link_end(link, t, false);
                }
            }
            ("cut_link", _, Some(link)) => {
                self.cut.entry(link).or_insert(t);
            }
            ("restore_link", _, Some(link)) => self.link_end(link, t, false),
            ("degrade_link", _, Some(link)) => {
                self.degraded.entry(link).or_insert(t);
            }
            ("degrade_end", _, Some(link)) => self.link_end(link, t, true),
            _ => {}
        }
    }

    fn crashed_end(&mut self, node: u32, end: u64) {
        if let Some(start) = self.crashed.remove(&node) {
            self.push(node, start, end, Condition::Crashed, String::new());
        }
    }

    fn paused_end(&mut self, node: u32, end: u64) {
        if let Some(start) = self.paused.remove(&node) {
            self.push(node, start, end, Condition::Paused, String::new());
        }
    }

    fn partition_end(&mut self, end: u64) {
        let Some((start, groups, note)) = self.partition.take() else {
            return;
        };
        let mut membership: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        for (index, group) in groups.iter().enumerate() {
            for &node in group {
                membership.entry(node).or_default().push(index);
            }
        }
        for (node, indices) in membership {
            let condition = match indices.as_slice() {
                [only] => Condition::Group(*only),
                _ => Condition::Bridge,
            };
            self.push(node, start, end, condition, note.clone());
        }
    }

    fn link_end(&mut self, (from, to): (u32, u32), end: u64, degraded: bool) {
        let (started, condition) = if degraded {
            (
                self.degraded.remove(&(from, to)),
                Condition::LinkDegraded { to },
            )
        } else {
            (self.cut.remove(&(from, to)), Condition::LinkCut { to })
        };
        if let Some(start) = started {
            self.push(from, start, end, condition, String::new());
        }
    }

    fn push(&mut self, node: u32, start: u64, end: u64, condition: Condition, note: String) {
        self.spans.push(Span {
            node,
            start,
            end,
            condition,
            note,
        });
    }

    /// Ends everything still in force at the end of the run.
    fn finish(mut self, end: u64) -> Vec<Span> {
        for node in self.crashed.keys().copied().collect::<Vec<_>>() {
            self.crashed_end(node, end);
        }
        for node in self.paused.keys().copied().collect::<Vec<_>>() {
            self.paused_end(node, end);
        }
        self.partition_end(end);
        for link in self.cut.keys().copied().collect::<Vec<_>>() {
            self.link_end(link, end, false);
        }
        for link in self.degraded.keys().copied().collect::<Vec<_>>() {
            self.link_end(link, end, true);
        }
        self.spans
    }
}

fn groups(event: &Ordered) -> Vec<Vec<u32>> {
    let Some(Ordered::Array(groups)) = event.get("groups") else {
        return Vec::new();
    };
    groups
        .iter()
        .map(|group| match group {
            Ordered::Array(nodes) => nodes
                .iter()
                .filter_map(Ordered::as_u64)
                .filter_map(|n| u32::try_from(n).ok())
                .collect(),
            _ => Vec::new(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_windows(total: u64, focus: u64, per: u64, max: usize) -> (Vec<Window>, usize) {
        let (windows, default) = plan_windows(total, focus, per, max);
        assert!(windows.len() <= max);
        for pair in windows.windows(2) {
            assert_eq!(pair[0].copies_end, pair[1].copies_first, "{windows:?}");
        }
        for window in &windows {
            assert!(window.copies_first < window.copies_end || total == 0);
            assert!(
                window.copies_end - window.copies_first <= per,
                "{windows:?}"
            );
        }
        let holding = &windows[default];
        if total > 0 {
            assert!(holding.copies_first <= focus.min(total - 1));
            assert!(focus.min(total - 1) < holding.copies_end);
        }
        (windows, default)
    }

    #[test]
    fn a_small_run_is_one_window() {
        let (windows, default) = check_windows(107, 0, 200, 25);
        assert_eq!(windows.len(), 1);
        assert_eq!(default, 0);
        assert_eq!(windows[0].copies_end, 107);
        let (windows, _) = check_windows(0, 0, 200, 25);
        assert_eq!(windows.len(), 1);
    }

    #[test]
    fn the_focus_sits_in_the_middle_of_its_window() {
        let (windows, default) = check_windows(50_000, 30_000, 200, 25);
        assert_eq!(windows.len(), 25);
        assert_eq!(windows[default].copies_first, 29_900);
        assert_eq!(default, 12);
    }

    #[test]
    fn windows_cover_a_run_to_its_edges() {
        for (total, focus) in [(1000, 0), (1000, 999), (1000, 150), (450, 260), (5, 4)] {
            let (windows, _) = check_windows(total, focus, 200, 25);
            assert_eq!(windows[0].copies_first, 0, "{total} {focus}");
            assert_eq!(windows.last().unwrap().copies_end, total);
        }
        let (windows, default) = check_windows(100_000, 99_999, 200, 25);
        assert_eq!(windows.last().unwrap().copies_end, 100_000);
        assert_eq!(default, windows.len() - 1);
        let (windows, default) = check_windows(100_000, 0, 200, 25);
        assert_eq!((windows.len(), default), (25, 0));
    }

    #[test]
    fn labels_name_the_kind_and_the_first_fields() {
        let message: Ordered = serde_json::from_str(
            r#"{"type":"Accept","ballot":{"round":3,"proposer":4},"value":"B"}"#,
        )
        .unwrap();
        assert_eq!(message_label(&message), "Accept 3.4 B");
        let beat: Ordered = serde_json::from_str(r#"{"beat":7}"#).unwrap();
        assert_eq!(message_label(&beat), "beat 7");
        let observation: Ordered =
            serde_json::from_str(r#"{"what":"suspect","peer":2,"local":12}"#).unwrap();
        assert_eq!(observation_label(&observation), "suspect peer=2 local=12");
    }
}
