//! Finds where a value sits in RON source text, given its path
//! (`faults[3].fault.node`), so that errors found after parsing can still name
//! a line and column. It understands just enough RON to walk structures:
//! strings, comments, named fields, and nested (), [] and {}.

pub use crate::harness::Step;

/// The 1-based line and column of the value at `path`, if it can be found.
pub fn locate(source: &str, path: &[Step]) -> Option<(usize, usize)> {
    let mut cursor = Cursor {
        text: source.as_bytes(),
        at: 0,
    };
    cursor.skip_blank();
    for step in path {
        match step {
            Step::Field(name) => cursor.field(name)?,
            Step::Index(index) => cursor.element(*index)?,
        }
    }
    cursor.skip_blank();
    Some(line_and_column(source, cursor.at))
}

fn line_and_column(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..offset.min(source.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(0, |tail| tail.chars().count())
        + 1;
    (line, column)
}

struct Cursor<'a> {
    text: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn skip_blank(&mut self) {
        loop {
            match (self.peek(), self.text.get(self.at + 1)) {
                (Some(c), _) if c.is_ascii_whitespace() => self.at += 1,
                (Some(b'/'), Some(b'/')) => {
                    while self.peek().is_some_and(|c| c != b'\n') {
                        self.at += 1;
                    }
                }
                (Some(b'/'), Some(b'*')) => {
                    self.at += 2;
                    while self.at < self.text.len() && !self.text[self.at..].starts_with(b"*/") {
                        self.at += 1;
                    }
                    self.at = (self.at + 2).min(self.text.len());
                }
                _ => return,
            }
        }
    }

    fn skip_word(&mut self) -> &[u8] {
        let start = self.at;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || b"_.+-#".contains(&c))
        {
            self.at += 1;
        }
        &self.text[start..self.at]
    }

    fn skip_string(&mut self) {
        self.at += 1;
        while let Some(c) = self.peek() {
            self.at += 1;
            match c {
                b'\\' => self.at += 1,
                b'"' => return,
                _ => {}
            }
        }
    }

    /// Skips one whole value.
    fn skip_value(&mut self) {
        self.skip_blank();
        match self.peek() {
            Some(b'"') => self.skip_string(),
            Some(b'(' | b'[' | b'{') => self.skip_nested(),
            _ => {
                self.skip_word();
                self.skip_blank();
                if self.peek() == Some(b'(') {
                    self.skip_nested();
                }
            }
        }
    }

    fn skip_nested(&mut self) {
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            match c {
                b'"' => {
                    self.skip_string();
                    continue;
                }
                b'/' => {
                    let before = self.at;
                    self.skip_blank();
                    if self.at != before {
                        continue;
                    }
                }
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        self.at += 1;
                        return;
                    }
                }
                _ => {}
            }
            self.at += 1;
        }
    }

    /// Steps into a value's brackets, past an optional struct or variant name.
    fn enter(&mut self) -> Option<()> {
        self.skip_blank();
        if self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            self.skip_word();
            self.skip_blank();
        }
        matches!(self.peek(), Some(b'(' | b'[' | b'{')).then(|| self.at += 1)
    }

    fn field(&mut self, name: &str) -> Option<()> {
        self.enter()?;
        loop {
            self.skip_blank();
            if matches!(self.peek(), None | Some(b')' | b']' | b'}')) {
                return None;
            }
            let key = self.skip_word().to_vec();
            self.skip_blank();
            if self.peek() != Some(b':') {
                return None;
            }
            self.at += 1;
            if key == name.as_bytes() {
                return Some(());
            }
            self.skip_value();
            self.skip_blank();
            if self.peek() == Some(b',') {
                self.at += 1;
            }
        }
    }

    fn element(&mut self, index: usize) -> Option<()> {
        self.enter()?;
        for _ in 0..index {
            self.skip_blank();
            if matches!(self.peek(), None | Some(b')' | b']' | b'}')) {
                return None;
            }
            self.skip_value();
            self.skip_blank();
            if self.peek() != Some(b',') {
                return None;
            }
            self.at += 1;
        }
        self.skip_blank();
        (!matches!(self.peek(), None | Some(b')' | b']' | b'}'))).then_some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Step::*;

    const SOURCE: &str = r#"Scenario(
    name: "x", // a comment with ( and "
    faults: [
        (at: "5s", fault: Partition(groups: [[0, 1], [2, 3]])),
        /* skipped (] */ (at: "9s", fault: Crash(node: 7)),
    ],
)"#;

    #[test]
    fn finds_nested_fields_and_elements() {
        assert_eq!(locate(SOURCE, &[Field("name")]), Some((2, 11)));
        assert_eq!(
            locate(
                SOURCE,
                &[Field("faults"), Index(1), Field("fault"), Field("node")]
            ),
            Some((5, 56))
        );
        assert_eq!(
            locate(
                SOURCE,
                &[
                    Field("faults"),
                    Index(0),
                    Field("fault"),
                    Field("groups"),
                    Index(1),
                    Index(0)
                ]
            ),
            Some((4, 55))
        );
    }

    #[test]
    fn missing_paths_give_none() {
        assert_eq!(locate(SOURCE, &[Field("nodes")]), None);
        assert_eq!(locate(SOURCE, &[Field("faults"), Index(5)]), None);
    }
}
