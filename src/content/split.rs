//! Splits a Markdown post into front matter and body by byte offsets, so the
//! body is never re-serialised and every position maps back into the file.

use crate::diag::{Diagnostic, SourceFile};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontMatterSplit {
    /// Byte range of the YAML text (between the delimiter lines).
    pub yaml: std::ops::Range<usize>,
    /// Byte offset where the body starts (after the closing delimiter line).
    pub body_start: usize,
}

/// Returns `None` when the text has no front matter (it does not start with a
/// `---` line). `text` must already be free of a BOM.
pub fn split_front_matter(source: &SourceFile) -> Result<Option<FrontMatterSplit>, Diagnostic> {
    let text = &*source.text;
    let mut lines = LineIter { text, pos: 0 };
    let Some((first_start, first_end, first_next)) = lines.next() else {
        return Ok(None);
    };
    if text[first_start..first_end].trim_end() != "---" {
        return Ok(None);
    }
    for (start, end, next) in lines {
        let line = text[start..end].trim_end();
        if line == "---" || line == "..." {
            return Ok(Some(FrontMatterSplit { yaml: first_next..start, body_start: next }));
        }
    }
    Err(Diagnostic::error("front-matter-unclosed", "the front matter starts with `---` but is never closed")
        .at(source, 0..first_end)
        .with_label("opened here")
        .with_hint("end the front matter with a line holding only `---`"))
}

/// Lines as (start, end without the line break, start of the next line).
struct LineIter<'a> {
    text: &'a str,
    pos: usize,
}

impl Iterator for LineIter<'_> {
    type Item = (usize, usize, usize);

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.text.len() {
            return None;
        }
        let start = self.pos;
        let (end, next) = match self.text[start..].find('\n') {
            Some(i) => (start + i, start + i + 1),
            None => (self.text.len(), self.text.len()),
        };
        let end = if end > start && self.text.as_bytes()[end - 1] == b'\r' { end - 1 } else { end };
        self.pos = next;
        Some((start, end, next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Result<Option<(String, String)>, Diagnostic> {
        let src = SourceFile::new("p.md", text);
        Ok(split_front_matter(&src)?.map(|s| (text[s.yaml].to_owned(), text[s.body_start..].to_owned())))
    }

    #[test]
    fn splits_by_offsets() {
        let cases: &[(&str, Option<(&str, &str)>)] = &[
            ("---\ntitle: a\n---\nbody\n", Some(("title: a\n", "body\n"))),
            ("---\r\ntitle: a\r\n---\r\nbody\r\n", Some(("title: a\r\n", "body\r\n"))),
            ("---  \ntitle: a\n...\nbody", Some(("title: a\n", "body"))),
            ("---\n---\nbody", Some(("", "body"))),
            ("---\ntitle: a\n---", Some(("title: a\n", ""))),
            ("no front matter\n---\n", None),
            ("", None),
            ("----\nx\n", None),
        ];
        for (text, want) in cases {
            let got = split(text).expect("no error");
            let want = want.map(|(a, b)| (a.to_owned(), b.to_owned()));
            assert_eq!(got, want, "{text:?}");
        }
    }

    #[test]
    fn body_thematic_break_is_not_a_delimiter() {
        let (yaml, body) = split("---\na: 1\n---\none\n\n---\n\ntwo\n").expect("ok").expect("fm");
        assert_eq!(yaml, "a: 1\n");
        assert_eq!(body, "one\n\n---\n\ntwo\n");
    }

    #[test]
    fn unclosed_front_matter_is_an_error_at_line_one() {
        let err = split("---\ntitle: a\nbody\n").expect_err("unclosed");
        assert_eq!((err.code, err.line, err.column), ("front-matter-unclosed", 1, 1));
    }
}
