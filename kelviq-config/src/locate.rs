//! Finding where a field is in the text of a file, to report a problem found after parsing
//! at its line and column.

use toml::de::{DeTable, DeValue};

use crate::check::{FieldPath, Segment};

/// The line and column (in characters), both from 1, of a byte offset.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// The byte offset of the value at `path` in a TOML document, or of the nearest enclosing
/// value the document has.
pub(crate) fn toml_offset(text: &str, path: &FieldPath) -> Option<usize> {
    let root = DeTable::parse(text).ok()?;
    let mut span = root.span();
    let mut table: Option<&DeTable<'_>> = Some(root.get_ref());
    let mut array: Option<&[toml::Spanned<DeValue<'_>>]> = None;
    for segment in &path.0 {
        let found = match (segment, table, array) {
            (Segment::Key(key), Some(t), _) => t
                .iter()
                .find(|(k, _)| k.get_ref().as_ref() == key.as_str())
                .map(|(_, v)| v),
            (Segment::Index(i), _, Some(a)) => a.get(*i),
            _ => None,
        };
        let Some(value) = found else { break };
        span = value.span();
        table = value.get_ref().as_table();
        array = value.get_ref().as_array().map(|a| &a[..]);
    }
    Some(span.start)
}

/// The byte offset of the value at `path` in a JSON document, or of the nearest enclosing
/// value the document has.
pub(crate) fn json_offset(text: &str, path: &FieldPath) -> Option<usize> {
    let mut scanner = Scanner {
        bytes: text.as_bytes(),
        text,
        pos: 0,
    };
    scanner.space();
    let mut best = scanner.pos;
    'segments: for segment in &path.0 {
        match (segment, scanner.peek()?) {
            (Segment::Key(wanted), b'{') => {
                scanner.pos += 1;
                loop {
                    scanner.space();
                    if scanner.peek()? == b'}' {
                        break 'segments;
                    }
                    let key = scanner.string()?;
                    scanner.space();
                    scanner.expect(b':')?;
                    scanner.space();
                    if &key == wanted {
                        best = scanner.pos;
                        continue 'segments;
                    }
                    scanner.value()?;
                    scanner.space();
                    if scanner.peek()? == b',' {
                        scanner.pos += 1;
                    }
                }
            }
            (Segment::Index(wanted), b'[') => {
                scanner.pos += 1;
                let mut index = 0;
                loop {
                    scanner.space();
                    if scanner.peek()? == b']' {
                        break 'segments;
                    }
                    if index == *wanted {
                        best = scanner.pos;
                        continue 'segments;
                    }
                    scanner.value()?;
                    scanner.space();
                    if scanner.peek()? == b',' {
                        scanner.pos += 1;
                    }
                    index += 1;
                }
            }
            _ => break,
        }
    }
    Some(best)
}

/// A reader of JSON text that serde_json has already accepted.
struct Scanner<'a> {
    bytes: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.pos += 1)
    }

    /// A string, decoded.
    fn string(&mut self) -> Option<String> {
        let start = self.pos;
        self.skip_string()?;
        serde_json::from_str(&self.text[start..self.pos]).ok()
    }

    fn skip_string(&mut self) -> Option<()> {
        self.expect(b'"')?;
        loop {
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    return Some(());
                }
                b'\\' => self.pos += 2,
                _ => self.pos += 1,
            }
        }
    }

    /// Skips one value of any kind.
    fn value(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.skip_string(),
            open @ (b'{' | b'[') => {
                let close = if open == b'{' { b'}' } else { b']' };
                self.pos += 1;
                loop {
                    self.space();
                    match self.peek()? {
                        b if b == close => {
                            self.pos += 1;
                            return Some(());
                        }
                        b',' | b':' => self.pos += 1,
                        _ => self.value()?,
                    }
                }
            }
            _ => {
                while !matches!(
                    self.peek()?,
                    b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'
                ) {
                    self.pos += 1;
                }
                Some(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(segments: &[Segment]) -> FieldPath {
        FieldPath(segments.to_vec())
    }

    #[test]
    fn json_values_are_found_by_path() {
        let text =
            "{\n  \"a\": [1, {\"b\": \"x\\\"y\"}, {\"c\": [true, {\"d\": 4}]}],\n  \"e\": null\n}";
        let at = |segments: &[Segment]| {
            let offset = json_offset(text, &path(segments)).unwrap();
            &text[offset..]
        };
        let k = |s: &str| Segment::Key(s.to_owned());
        assert!(
            at(&[k("a"), Segment::Index(2), k("c"), Segment::Index(1), k("d")]).starts_with('4')
        );
        assert!(at(&[k("e")]).starts_with("null"));
        assert!(at(&[k("a"), Segment::Index(1), k("b")]).starts_with("\"x"));
        // A missing key: the nearest enclosing value.
        assert!(at(&[k("a"), Segment::Index(1), k("zz")]).starts_with("{\"b\""));
    }

    #[test]
    fn toml_values_are_found_by_path() {
        let text = "[[plans]]\nidentifier = \"a\"\n\n[[plans]]\nidentifier = \"b\"\n[[plans.entitlements]]\nfeature = \"f\"\n";
        let k = |s: &str| Segment::Key(s.to_owned());
        let offset = toml_offset(
            text,
            &path(&[
                k("plans"),
                Segment::Index(1),
                k("entitlements"),
                Segment::Index(0),
                k("feature"),
            ]),
        )
        .unwrap();
        assert_eq!(line_column(text, offset), (7, 11));
        let offset = toml_offset(
            text,
            &path(&[k("plans"), Segment::Index(1), k("identifier")]),
        )
        .unwrap();
        assert_eq!(line_column(text, offset), (5, 14));
    }

    #[test]
    fn columns_count_characters() {
        assert_eq!(line_column("é = 1\nxé", 10), (2, 3));
        assert_eq!(line_column("é = 1\nxé", 9), (2, 2));
        assert_eq!(line_column("abc", 0), (1, 1));
    }
}
