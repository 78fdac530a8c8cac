//! Posts written for devto-cli / publish-devto into crier posts, as text edits.
//!
//! Those tools keep dev.to's front matter at the top level (`title`, `description`, `tags`
//! as a list or a comma-separated string, `cover_image`, `canonical_url`, `series`,
//! `published` as a boolean) plus their own `id`, `date` and `devto_sync`. crier reserves
//! `published` for its record and knows the dev.to keys under `devto:`. The conversion
//! moves the dev.to-only entries, as written, into a `devto:` block where the first of
//! them was; writes `tags` as a list, `devto_sync: false` as `draft: true`, adds
//! `platforms: [devto]`, and turns a known `id` into a `published.devto` record. Every
//! other byte (comments, quoting, key order, the body) stays.

use std::fmt::Write as _;

use serde_json::Value;

use crate::content::FileKind;
use crate::ledger::{self, LedgerError, Record, TopEntry};

/// Keys that belong under `devto:` in a crier post.
const DEVTO_KEYS: &[&str] = &["published", "description", "cover_image", "canonical_url", "series"];

/// What converting one file gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conversion {
    Converted(Converted),
    /// Not converted, and why (not a dev.to article, already a crier post).
    Skipped(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converted {
    /// The new text, without the record (see [`Converted::record`]).
    pub text: String,
    /// What changed, one item per edit.
    pub changes: Vec<String>,
    /// The dev.to article id the file names: its record goes into `published.devto`.
    pub id: Option<String>,
    /// Its publication time (`date`), when known.
    pub date: Option<String>,
    /// The file links images relative to itself (moving it would break them).
    pub relative_images: bool,
}

impl Converted {
    /// `text` with `record` written as `published.devto`.
    pub fn with_record(&self, kind: FileKind, record: &Record) -> Result<String, LedgerError> {
        ledger::set_record(&self.text, kind, "devto", record)
    }
}

/// Converts one file's text (a Markdown post with front matter, or a YAML post).
pub fn convert(text: &str, kind: FileKind) -> Result<Conversion, LedgerError> {
    let layout = match ledger::layout(text, kind) {
        Ok(l) => l,
        Err(LedgerError::Malformed(_)) if kind == FileKind::Markdown && !text.trim_start().starts_with("---") => {
            return Ok(Conversion::Skipped("no front matter: not a dev.to article".into()));
        }
        Err(e) => return Err(e),
    };
    let yaml = &text[layout.yaml.clone()];
    let data: Value = if yaml.trim().is_empty() {
        Value::Null
    } else {
        serde_saphyr::from_str(yaml).map_err(|e| LedgerError::Malformed(e.to_string()))?
    };
    let Some(map) = data.as_object() else {
        return Ok(Conversion::Skipped("no front matter: not a dev.to article".into()));
    };
    if map.get("title").and_then(Value::as_str).is_none_or(|t| t.trim().is_empty()) {
        return Ok(Conversion::Skipped("no title: devto-cli does not publish it either".into()));
    }
    if map.contains_key("platforms") || map.contains_key("devto") || map.get("published").is_some_and(Value::is_object)
    {
        return Ok(Conversion::Skipped("already a crier post".into()));
    }

    let eol = layout.eol;
    let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    let mut changes = Vec::new();
    let mut moved = String::new();
    let mut devto_at: Option<usize> = None;
    let mut id = None;
    let mut date = None;
    for entry in &layout.entries {
        let value = map.get(&entry.key).unwrap_or(&Value::Null);
        let remove = (entry.lines.clone(), String::new());
        match entry.key.as_str() {
            k if DEVTO_KEYS.contains(&k) => {
                if is_empty(value) {
                    changes.push(format!("removed the empty `{k}`"));
                } else {
                    devto_at.get_or_insert(entry.lines.start);
                    moved.push_str(&nested(text, entry, eol));
                    changes.push(format!("`{k}` → `devto.{k}`"));
                    let local = value.as_str().is_some_and(|v| !v.starts_with("http://") && !v.starts_with("https://"));
                    if k == "cover_image" && local {
                        // devto-cli turned it into a GitHub raw URL when pushing; crier sends it as is.
                        changes.push(
                            "warning: `cover_image` is a path in the repository: dev.to needs its public URL there (`crier check` says so too)"
                                .into(),
                        );
                    }
                }
                edits.push(remove);
            }
            "tags" => match value {
                Value::String(s) => {
                    let tags: Vec<&str> = s.split(',').map(str::trim).filter(|t| !t.is_empty()).collect();
                    if tags.is_empty() {
                        changes.push("removed the empty `tags`".into());
                        edits.push(remove);
                    } else {
                        let list = format!(" [{}]", tags.iter().map(|t| flow_scalar(t)).collect::<Vec<_>>().join(", "));
                        changes.push(format!("`tags` as a list:{list}"));
                        edits.push((entry.value.clone(), list));
                    }
                }
                Value::Null => {
                    changes.push("removed the empty `tags`".into());
                    edits.push(remove);
                }
                _ => {}
            },
            "id" => {
                match value {
                    Value::Number(n) => id = Some(n.to_string()),
                    Value::String(s) if !s.trim().is_empty() => id = Some(s.trim().to_owned()),
                    _ => {}
                }
                edits.push(remove);
                changes.push(match &id {
                    Some(i) => format!("`id: {i}` → `published.devto` record"),
                    None => "removed the empty `id`".into(),
                });
            }
            "date" => {
                date = value.as_str().map(str::to_owned).filter(|d| !d.trim().is_empty());
                edits.push(remove);
                changes.push("`date` → the record's `published_at`".into());
            }
            "devto_sync" => {
                if value == &Value::Bool(false) {
                    edits.push((entry.lines.clone(), format!("draft: true{eol}")));
                    changes.push("`devto_sync: false` → `draft: true`".into());
                } else {
                    edits.push(remove);
                    changes.push("removed `devto_sync`".into());
                }
            }
            _ => {}
        }
    }
    if id.is_none() && date.is_some() {
        changes.retain(|c| !c.starts_with("`date`"));
        changes.push("removed `date` (no `id`: the article is not on dev.to yet)".into());
    }
    // `platforms` goes after the title; the dev.to block where its first key was.
    let title_end = layout.entries.iter().find(|e| e.key == "title").map_or(layout.yaml.end, |e| e.lines.end);
    edits.push((title_end..title_end, format!("{}platforms: [devto]{eol}", needs_eol(text, title_end, eol))));
    changes.insert(0, "added `platforms: [devto]`".into());
    if let Some(at) = devto_at {
        edits.push((at..at, format!("devto:{eol}{moved}")));
    }
    let new = apply(text, edits);
    let body = match kind {
        FileKind::Markdown => text.get(layout.yaml.end..).unwrap_or_default(),
        FileKind::Yaml => "",
    };
    Ok(Conversion::Converted(Converted { text: new, changes, id, date, relative_images: has_relative_image(body) }))
}

/// Null, an empty string or an empty list: the tool's way of saying "none".
fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// The entry's lines, as written, one level deeper (under `devto:`).
fn nested(text: &str, entry: &TopEntry, eol: &str) -> String {
    let mut out = String::new();
    let block = &text[entry.lines.clone()];
    for line in block.split_inclusive('\n') {
        if line.trim().is_empty() {
            out.push_str(line);
        } else {
            let _ = write!(out, "  {line}");
        }
    }
    if !out.ends_with('\n') {
        out.push_str(eol);
    }
    out
}

/// A line end when `at` does not start a line (the mapping's last line has none).
fn needs_eol<'a>(text: &str, at: usize, eol: &'a str) -> &'a str {
    if at == 0 || text[..at].ends_with('\n') { "" } else { eol }
}

/// A tag as a flow-sequence item, quoted when YAML would read it as something else.
fn flow_scalar(s: &str) -> String {
    let plain = s.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '+' | ' '))
        && !matches!(s.to_ascii_lowercase().as_str(), "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "~")
        && s.parse::<f64>().is_err();
    if plain { s.to_owned() } else { serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}")) }
}

/// Applies non-overlapping replacements (insertions sort before a removal at the same place).
fn apply(text: &str, mut edits: Vec<(std::ops::Range<usize>, String)>) -> String {
    edits.sort_by_key(|(r, _)| (r.start, r.end));
    let mut out = String::with_capacity(text.len() + 64);
    let mut pos = 0;
    for (range, with) in edits {
        out.push_str(&text[pos..range.start.max(pos)]);
        out.push_str(&with);
        pos = pos.max(range.end);
    }
    out.push_str(&text[pos..]);
    out
}

/// Whether the Markdown body links an image relative to the file (`![a](images/x.png)`).
fn has_relative_image(body: &str) -> bool {
    body.match_indices("](").any(|(i, _)| {
        body[..i].rfind("![").is_some_and(|open| !body[open..i].contains(']'))
            && !body[i + 2..].starts_with("http://")
            && !body[i + 2..].starts_with("https://")
            && !body[i + 2..].starts_with('#')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn converted(text: &str) -> Converted {
        match convert(text, FileKind::Markdown).expect("converts") {
            Conversion::Converted(c) => c,
            Conversion::Skipped(why) => panic!("skipped: {why}"),
        }
    }

    #[test]
    fn devto_articles_become_crier_posts() {
        // (the article, the post it becomes, its id, its date, a change said)
        let cases = [
            (
                "---\ntitle: Hello, dev.to\npublished: true\ndescription: 'A post: with a colon' # kept\ntags: 'rust, cli,webdev'\ncover_image: ''\ncanonical_url: null\nid: 1234567\ndate: '2024-03-01T10:00:00Z'\n---\n\nThe body\n---\nstays.\n",
                "---\ntitle: Hello, dev.to\nplatforms: [devto]\ndevto:\n  published: true\n  description: 'A post: with a colon' # kept\ntags: [rust, cli, webdev]\n---\n\nThe body\n---\nstays.\n",
                Some("1234567"),
                Some("2024-03-01T10:00:00Z"),
                Some("removed the empty `cover_image`"),
            ),
            // Block values, comments and CRLF are kept.
            (
                "---\r\n# my article\r\ntitle: \"Quoted\"\r\ndescription: >-\r\n  two\r\n  lines\r\n\r\n# about tags\r\ntags:\r\n  - a\r\n  - b\r\nseries: Intro\r\ndevto_sync: false\r\n---\r\nBody\r\n",
                "---\r\n# my article\r\ntitle: \"Quoted\"\r\nplatforms: [devto]\r\ndevto:\r\n  description: >-\r\n    two\r\n    lines\r\n  series: Intro\r\n\r\n# about tags\r\ntags:\r\n  - a\r\n  - b\r\ndraft: true\r\n---\r\nBody\r\n",
                None,
                None,
                None,
            ),
        ];
        for (text, want, id, date, change) in cases {
            let c = converted(text);
            assert_eq!((c.text.as_str(), c.id.as_deref(), c.date.as_deref()), (want, id, date), "{text:?}");
            if let Some(change) = change {
                assert!(c.changes.iter().any(|x| x.contains(change)), "{:?}", c.changes);
            }
        }
    }

    #[test]
    fn files_that_are_not_devto_articles_are_skipped() {
        for (text, why) in [
            ("Just text\n", "no front matter"),
            ("---\ndescription: x\n---\nBody\n", "no title"),
            ("---\ntitle: x\nplatforms: [devto]\n---\nBody\n", "already a crier post"),
            ("---\ntitle: x\npublished:\n  devto: {id: \"1\"}\n---\nBody\n", "already a crier post"),
        ] {
            match convert(text, FileKind::Markdown).expect("reads") {
                Conversion::Skipped(s) => assert!(s.contains(why), "{text:?}: {s}"),
                Conversion::Converted(c) => panic!("{text:?} converted: {c:?}"),
            }
        }
    }

    #[test]
    fn tags_that_yaml_would_misread_are_quoted() {
        let c = converted("---\ntitle: T\ntags: 'c#, yes, 2024'\n---\nB\n");
        assert!(c.text.contains("tags: [\"c#\", \"yes\", \"2024\"]\n"), "{}", c.text);
    }

    #[test]
    fn a_local_cover_image_is_pointed_out() {
        let c = converted("---\ntitle: T\ncover_image: ./assets/cover.png\n---\nB\n");
        assert!(c.text.contains("devto:\n  cover_image: ./assets/cover.png\n"), "{}", c.text);
        assert!(c.changes.iter().any(|x| x.starts_with("warning: `cover_image` is a path")), "{:?}", c.changes);
    }

    #[test]
    fn relative_images_are_noticed() {
        assert!(converted("---\ntitle: T\n---\n![a](./img/x.png)\n").relative_images);
        assert!(!converted("---\ntitle: T\n---\n![a](https://x.example/x.png) [l](y.md)\n").relative_images);
    }
}
