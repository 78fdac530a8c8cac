//! The publish ledger: records what crier published back into the post file.
//!
//! After a successful publish, crier writes `published.<platform>` (id, url,
//! timestamp, content hash, optional chain parts) into the post's YAML front
//! matter (Markdown) or top-level mapping (`.yaml`/`.yml` posts). Post files
//! are hand-written and live in git, so every byte outside the crier-owned
//! `published` block must survive: comments, key order, quoting, blank lines,
//! line endings and the Markdown body.
//!
//! The edit is a line-based splice: the `published` top-level entry and the
//! platform's child entry are located by indentation and replaced or appended
//! as text. Splicing is used instead of yaml-edit's mapping setters, which
//! rewrite `published: {}` as a one-line flow mapping and mix indent widths
//! under a 4-space `published` block. yaml-edit is still used where a
//! line-based view is not enough: a non-empty flow-style or anchored
//! `published` value. Whatever the path, the result is re-parsed and checked
//! before it is returned (see [`set_record`]).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::str::FromStr as _;

use serde_json::Value;

/// One part of a multi-part (chained) post.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PartRecord {
    pub id: String,
    pub url: String,
    /// Content id of the part (Bluesky: replies need it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<String>,
}

/// What crier stores under `published.<platform>`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Record {
    pub id: String,
    pub url: String,
    /// Content id of the record (Bluesky).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<String>,
    /// The relays that hold the post (Nostr).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relays: Vec<String>,
    pub published_at: String,
    pub hash: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<PartRecord>,
    /// The article's `d` tag, its address across edits (Nostr articles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub d: Option<String>,
    /// When `crier delete` took the post down (RFC 3339). The entry stays, so the post is
    /// never published again unless the user removes the entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<String>,
}

pub use crate::content::FileKind;

/// Why the ledger could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The front matter (or YAML post) cannot be parsed or is not a mapping.
    #[error("malformed front matter: {0}")]
    Malformed(String),
    /// `published` exists but holds something other than a mapping or null.
    #[error("`published` is not a mapping (found {0})")]
    NotAMapping(&'static str),
    /// The edited content did not re-read as expected; nothing was written.
    #[error("ledger edit failed verification: {0}")]
    Verification(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

const PUBLISHED: &str = "published";
/// The key marking an entry whose post was sent but not confirmed (see [`set_unconfirmed`]).
pub const UNCONFIRMED: &str = "unconfirmed";
const BOM: &str = "\u{feff}";

/// Returns the new file content with `published.<platform>` set to `record`.
///
/// Verifies before returning: the result parses (serde-saphyr into
/// `serde_json::Value`), `published.<platform>` reads back equal to `record`,
/// every other top-level key's value (and every other platform's entry) is
/// unchanged, and (Markdown) the body bytes after the closing delimiter are
/// identical.
pub fn set_record(content: &str, kind: FileKind, platform: &str, record: &Record) -> Result<String, LedgerError> {
    set_entry(content, kind, platform, &Entry { record, unconfirmed: None })
}

/// Like [`set_record`], for a post that was sent but whose reply was lost on a platform that
/// cannot be asked what it did: the entry also says [`UNCONFIRMED`]`: "<note>"` (what to
/// check). The entry holds what is known (the parts confirmed before, the time, the hash);
/// a later [`set_record`] replaces it whole, marker included.
pub fn set_unconfirmed(
    content: &str,
    kind: FileKind,
    platform: &str,
    record: &Record,
    note: &str,
) -> Result<String, LedgerError> {
    set_entry(content, kind, platform, &Entry { record, unconfirmed: Some(note) })
}

/// The note of `published.<platform>` when it is marked [`UNCONFIRMED`].
pub fn unconfirmed(content: &str, kind: FileKind, platform: &str) -> Result<Option<String>, LedgerError> {
    let split = split(content, kind)?;
    if !split.has_front_matter {
        return Ok(None);
    }
    Ok(read_unconfirmed(&parse_yaml(split.yaml)?, platform))
}

/// Takes `published.<platform>` out (a send that never went out, whose entry was written
/// ahead): every other byte stays, and a `published` left empty goes too.
pub fn remove_record(content: &str, kind: FileKind, platform: &str) -> Result<String, LedgerError> {
    let split = split(content, kind)?;
    if !split.has_front_matter || get_record(content, kind, platform)?.is_none() {
        return Ok(content.to_owned());
    }
    let eol = detect_eol(split.yaml, content);
    let yaml = splice(split.yaml, platform, None, eol)
        .ok_or(LedgerError::NotAMapping("a value crier cannot take an entry out of"))?;
    let new = format!("{}{}{}{}", split.head, yaml, split.close, split.body);
    verify(content, &new, kind, platform, None)?;
    Ok(new)
}

/// A platform's entry as written: the record, and the lost-reply note if any.
struct Entry<'a> {
    record: &'a Record,
    unconfirmed: Option<&'a str>,
}

fn set_entry(content: &str, kind: FileKind, platform: &str, entry: &Entry<'_>) -> Result<String, LedgerError> {
    let split = split(content, kind)?;
    let eol = detect_eol(split.yaml, content);
    let new = if split.has_front_matter {
        let old = parse_yaml(split.yaml)?;
        let published = match &old {
            Value::Object(map) => map.get(PUBLISHED),
            Value::Null => None,
            other => {
                return Err(LedgerError::Malformed(format!("top level is {}, not a mapping", type_name(other))));
            }
        };
        if let Some(p) = published
            && !matches!(p, Value::Null | Value::Object(_))
        {
            return Err(LedgerError::NotAMapping(type_name(p)));
        }
        let yaml = match splice(split.yaml, platform, Some(entry), eol) {
            Some(yaml) => yaml,
            None => edit_with_yaml_edit(split.yaml, platform, entry)?,
        };
        format!("{}{}{}{}", split.head, yaml, split.close, split.body)
    } else {
        // A Markdown file without front matter gets a fresh block, placed
        // after the BOM so editors still recognise the encoding.
        let mut out = String::with_capacity(content.len() + 256);
        out.push_str(split.head);
        out.push_str("---");
        out.push_str(eol);
        out.push_str(PUBLISHED);
        out.push(':');
        out.push_str(eol);
        out.push_str(&render_entry(platform, entry, 2, 2, eol));
        out.push_str("---");
        out.push_str(eol);
        out.push_str(split.body);
        out
    };
    verify(content, &new, kind, platform, Some(entry))?;
    Ok(new)
}

/// Reads `published.<platform>` back (None if absent).
pub fn get_record(content: &str, kind: FileKind, platform: &str) -> Result<Option<Record>, LedgerError> {
    let split = split(content, kind)?;
    if !split.has_front_matter {
        return Ok(None);
    }
    read_record(&parse_yaml(split.yaml)?, platform)
}

/// A post's YAML mapping as text: where it is in the file and its top-level entries, for
/// edits other than records that must keep every other byte too (`crier import`).
#[derive(Debug, Clone)]
pub struct Layout {
    /// The mapping's text in the file (after the opening `---`, before the closing one).
    pub yaml: std::ops::Range<usize>,
    pub entries: Vec<TopEntry>,
    /// The file's line ending.
    pub eol: &'static str,
}

/// One top-level key and its value, as written.
#[derive(Debug, Clone)]
pub struct TopEntry {
    pub key: String,
    /// Its lines in the file: the key's line and the lines nested under it, line ends
    /// included (blank lines and column-0 comments after it are not part of it).
    pub lines: std::ops::Range<usize>,
    /// Its value as written: from just after the colon to the end of its last line's text.
    pub value: std::ops::Range<usize>,
}

/// The layout of `content`'s front matter (or YAML post). A Markdown file without front
/// matter has none.
pub fn layout(content: &str, kind: FileKind) -> Result<Layout, LedgerError> {
    let split = split(content, kind)?;
    if !split.has_front_matter {
        return Err(LedgerError::Malformed("the file has no front matter".into()));
    }
    let base = split.head.len();
    let yaml = split.yaml;
    let all = lines(yaml);
    let mut entries = Vec::new();
    let mut i = 0;
    while i < all.len() {
        let text = all[i].text(yaml);
        let Some((key, after)) = is_top_level(text).then(|| parse_key(text)).flatten() else {
            i += 1;
            continue;
        };
        let end = entry_end(yaml, &all, i);
        let (first, last) = (all[i], all[end - 1]);
        entries.push(TopEntry {
            key,
            lines: base + first.start..base + last.end,
            value: base + first.start + after..base + last.text_end,
        });
        i = end;
    }
    Ok(Layout { yaml: base..base + yaml.len(), entries, eol: detect_eol(yaml, content) })
}

/// Writes atomically: a temp file in the same directory, write, fsync, keep
/// the original file's permissions, then persist (rename) over `path`.
pub fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    // Renaming over a symlink would replace the link itself; write through
    // it instead so a linked post stays linked.
    let target = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => std::fs::canonicalize(path)?,
        _ => path.to_path_buf(),
    };
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    // Same directory => same filesystem => the rename is atomic. A new file (the
    // stats history) gets the ordinary mode, an existing one keeps its own below.
    let mut tmp = crate::fsutil::temp_file_in(&dir)?;
    tmp.write_all(contents)?;
    match std::fs::metadata(&target) {
        Ok(meta) => tmp.as_file().set_permissions(meta.permissions())?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    tmp.as_file().sync_all()?;
    tmp.persist(&target).map_err(|e| e.error)?;
    // Make the rename itself durable; not every platform can fsync a dir.
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// A post file cut into the pieces the ledger treats differently.
struct Split<'a> {
    /// BOM and opening `---` line: never touched.
    head: &'a str,
    /// The YAML mapping text that may be edited.
    yaml: &'a str,
    /// Closing `---`/`...` line (Markdown only).
    close: &'a str,
    /// Markdown body (or the whole text after the BOM when there is no
    /// front matter).
    body: &'a str,
    has_front_matter: bool,
}

fn split(content: &str, kind: FileKind) -> Result<Split<'_>, LedgerError> {
    let bom = if content.starts_with(BOM) { BOM.len() } else { 0 };
    let rest = &content[bom..];
    let first_end = rest.find('\n').map_or(rest.len(), |i| i + 1);
    let opens = delimiter(&rest[..first_end]) == Some("---");
    match kind {
        FileKind::Yaml => {
            // A leading document marker belongs to the file, not the mapping.
            let head_len = bom + if opens { first_end } else { 0 };
            // A `...` document end marker (and anything after it) stays
            // after the mapping, so `published` is added before it.
            let mut yaml_end = content.len();
            let mut pos = head_len;
            while pos < content.len() {
                let end = content[pos..].find('\n').map_or(content.len(), |i| pos + i + 1);
                if delimiter(&content[pos..end]) == Some("...") {
                    yaml_end = pos;
                    break;
                }
                pos = end;
            }
            Ok(Split {
                head: &content[..head_len],
                yaml: &content[head_len..yaml_end],
                close: &content[yaml_end..],
                body: "",
                has_front_matter: true,
            })
        }
        FileKind::Markdown if !opens => {
            Ok(Split { head: &content[..bom], yaml: "", close: "", body: rest, has_front_matter: false })
        }
        FileKind::Markdown => {
            if first_end == rest.len() && !rest.ends_with('\n') {
                return Err(LedgerError::Malformed("file ends right after the opening `---`".into()));
            }
            let yaml_start = bom + first_end;
            let mut pos = yaml_start;
            while pos < content.len() {
                let end = content[pos..].find('\n').map_or(content.len(), |i| pos + i + 1);
                if delimiter(&content[pos..end]).is_some() {
                    return Ok(Split {
                        head: &content[..yaml_start],
                        yaml: &content[yaml_start..pos],
                        close: &content[pos..end],
                        body: &content[end..],
                        has_front_matter: true,
                    });
                }
                pos = end;
            }
            Err(LedgerError::Malformed("front matter opened with `---` is never closed".into()))
        }
    }
}

/// `Some("---")`/`Some("...")` if the line is a document delimiter.
fn delimiter(line: &str) -> Option<&'static str> {
    match line.trim_end_matches([' ', '\t', '\r', '\n']) {
        "---" => Some("---"),
        "..." => Some("..."),
        _ => None,
    }
}

fn detect_eol(yaml: &str, content: &str) -> &'static str {
    let sample = if yaml.contains('\n') { yaml } else { content };
    if sample.contains("\r\n") { "\r\n" } else { "\n" }
}

fn parse_yaml(yaml: &str) -> Result<Value, LedgerError> {
    // serde-saphyr rejects an empty document; for a post it just means "no
    // keys yet".
    let empty = yaml.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
    if empty {
        return Ok(Value::Null);
    }
    serde_saphyr::from_str::<Value>(yaml).map_err(|e| LedgerError::Malformed(e.to_string()))
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn read_record(root: &Value, platform: &str) -> Result<Option<Record>, LedgerError> {
    let published = match root {
        Value::Object(map) => map.get(PUBLISHED),
        Value::Null => None,
        other => {
            return Err(LedgerError::Malformed(format!("top level is {}, not a mapping", type_name(other))));
        }
    };
    let entry = match published {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(map)) => map.get(platform),
        Some(other) => return Err(LedgerError::NotAMapping(type_name(other))),
    };
    match entry {
        None | Some(Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|e| LedgerError::Malformed(format!("`{PUBLISHED}.{platform}` is not a record: {e}"))),
    }
}

fn read_unconfirmed(root: &Value, platform: &str) -> Option<String> {
    unconfirmed_note(root.get(PUBLISHED)?.get(platform)?)
}

/// Why `entry` (a `published.<platform>` value) is not a record crier can read, if it is
/// not: a mapping with string `id`, `url`, `published_at` and `hash`. Null is no entry.
pub fn entry_problem(entry: &Value) -> Option<String> {
    match entry {
        Value::Null => None,
        Value::Object(map) => match map.get("id") {
            Some(id @ Value::Number(_)) => Some(format!("its `id` is the number {id}: ids are strings")),
            _ => <Record as serde::Deserialize>::deserialize(entry).err().map(|e| e.to_string()),
        },
        other => Some(format!("it is {}, not a mapping", type_name(other))),
    }
}

/// The lost-reply note of a platform's entry (`published.<platform>` as a value), if marked.
pub fn unconfirmed_note(entry: &Value) -> Option<String> {
    let note = entry.get(UNCONFIRMED)?;
    Some(note.as_str().map_or_else(|| note.to_string(), str::to_owned))
}

/// One physical line of the YAML text, as byte offsets into it.
#[derive(Debug, Clone, Copy)]
struct Line {
    start: usize,
    /// End of the text, before `\r\n`/`\n`.
    text_end: usize,
    /// End including the line terminator.
    end: usize,
}

impl Line {
    fn text<'a>(&self, s: &'a str) -> &'a str {
        &s[self.start..self.text_end]
    }
    fn has_eol(&self) -> bool {
        self.end > self.text_end
    }
}

fn lines(s: &str) -> Vec<Line> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < s.len() {
        let (text_end, end) = match s[start..].find('\n') {
            Some(i) => {
                let nl = start + i;
                let text_end = if s[..nl].ends_with('\r') { nl - 1 } else { nl };
                (text_end, nl + 1)
            }
            None => (s.len(), s.len()),
        };
        out.push(Line { start, text_end, end });
        start = end;
    }
    out
}

fn indent_of(text: &str) -> usize {
    text.len() - text.trim_start_matches(' ').len()
}

fn is_blank(text: &str) -> bool {
    text.trim().is_empty()
}

fn is_comment(text: &str) -> bool {
    text.trim_start().starts_with('#')
}

/// A line that starts a new top-level node (a key, or a document marker).
/// Where the top-level entry starting at line `start` ends (exclusive): at the next
/// top-level line, less the blank lines and column-0 comments before it (they stay outside).
fn entry_end(yaml: &str, lines: &[Line], start: usize) -> usize {
    let mut end =
        lines[start + 1..].iter().position(|l| is_top_level(l.text(yaml))).map_or(lines.len(), |p| start + 1 + p);
    while end > start + 1 {
        let t = lines[end - 1].text(yaml);
        if is_blank(t) || (is_comment(t) && indent_of(t) == 0) {
            end -= 1;
        } else {
            break;
        }
    }
    end
}

fn is_top_level(text: &str) -> bool {
    !is_blank(text) && !text.starts_with([' ', '\t', '#'])
}

/// Parses `key: rest` at the start of `text` (already de-indented). Returns
/// the key and the byte offset just after its colon.
fn parse_key(text: &str) -> Option<(String, usize)> {
    let (key, after_key) = if text.starts_with('"') {
        let bytes = text.as_bytes();
        let mut i = 1;
        while i < bytes.len() && bytes[i] != b'"' {
            i += if bytes[i] == b'\\' { 2 } else { 1 };
        }
        // JSON escapes cover what crier itself writes; anything exotic just
        // fails to match and is left alone.
        let key: String = serde_json::from_str(text.get(..=i)?).ok()?;
        (key, i + 1)
    } else if let Some(inner) = text.strip_prefix('\'') {
        let mut i = 0;
        let bytes = inner.as_bytes();
        loop {
            match bytes.get(i) {
                None => return None,
                Some(b'\'') if bytes.get(i + 1) == Some(&b'\'') => i += 2,
                Some(b'\'') => break,
                Some(_) => i += 1,
            }
        }
        (inner[..i].replace("''", "'"), i + 2)
    } else {
        let bytes = text.as_bytes();
        let colon =
            (0..bytes.len()).find(|&i| bytes[i] == b':' && matches!(bytes.get(i + 1), None | Some(b' ' | b'\t')))?;
        return Some((text[..colon].trim_end().to_string(), colon + 1));
    };
    let rest = &text[after_key..];
    let ws = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    rest[ws..].starts_with(':').then_some((key, after_key + ws + 1))
}

/// The inline value after a key's colon, without comment or spaces.
fn inline_value(rest: &str) -> &str {
    let bytes = rest.as_bytes();
    let cut = (0..bytes.len())
        .find(|&i| bytes[i] == b'#' && (i == 0 || matches!(bytes[i - 1], b' ' | b'\t')))
        .unwrap_or(bytes.len());
    rest[..cut].trim()
}

/// The indent step the file already uses for nested mappings, so a new
/// `published` block looks like its neighbours (2 if nothing to go by).
fn detect_indent(yaml: &str, lines: &[Line]) -> usize {
    for (i, line) in lines.iter().enumerate() {
        let text = line.text(yaml);
        if !is_top_level(text) {
            continue;
        }
        let Some((_, after)) = parse_key(text) else {
            continue;
        };
        if !inline_value(&text[after..]).is_empty() {
            continue;
        }
        let next = lines[i + 1..].iter().map(|l| l.text(yaml)).find(|t| !is_blank(t) && !is_comment(t));
        if let Some(t) = next {
            let n = indent_of(t);
            if n > 0 && !t.trim_start().starts_with("- ") && t.trim_start() != "-" {
                return n.min(8);
            }
        }
    }
    2
}

/// A text replacement in the YAML: `[start, end)` becomes `text`.
struct Edit {
    start: usize,
    end: usize,
    text: String,
}

/// Sets `published.<platform>` by editing lines. Returns `None` when the
/// `published` value is inline (flow mapping, anchor, tag) and a line-based
/// edit cannot keep the other entries intact.
/// `record` None takes the entry out (and `published` with it when nothing else is left).
fn splice(yaml: &str, platform: &str, record: Option<&Entry<'_>>, eol: &str) -> Option<String> {
    let lines = lines(yaml);
    let header = lines.iter().position(|l| {
        let t = l.text(yaml);
        is_top_level(t) && parse_key(t).is_some_and(|(k, _)| k == PUBLISHED)
    });
    let mut edits = Vec::new();
    let Some(record) = record else { return take_out(yaml, &lines, header?, platform) };
    let Some(h) = header else {
        // No `published` yet: append it as the last top-level key, after any
        // trailing comments, so it can never land inside a block scalar.
        let step = detect_indent(yaml, &lines);
        let mut block = format!("{PUBLISHED}:{eol}");
        block.push_str(&render_entry(platform, record, step, step, eol));
        edits.push(append_at(yaml, lines.last(), block, eol));
        return Some(apply(yaml, edits));
    };

    // The `published` entry runs to the next top-level line; trailing blank
    // lines and column-0 comments are left where they are, outside it.
    let end = entry_end(yaml, &lines, h);
    let children = &lines[h + 1..end];

    let head_line = lines[h];
    let head_text = head_line.text(yaml);
    let after_colon = parse_key(head_text)?.1;
    let rest = &head_text[after_colon..];
    let value = inline_value(rest);
    match value {
        "" => {}
        "{}" | "null" | "Null" | "NULL" | "~" => {
            // Drop the inline empty value; the entry follows as a block.
            let lead = rest.len() - rest.trim_start().len();
            let start = head_line.start + after_colon;
            edits.push(Edit { start, end: start + lead + value.len(), text: String::new() });
        }
        _ => return None,
    }

    let child_indent = children.iter().map(|l| l.text(yaml)).find(|t| !is_blank(t) && !is_comment(t)).map(indent_of);
    let Some(ci) = child_indent.filter(|&n| n > 0) else {
        // Null or empty `published` (maybe with indented comments).
        let step = detect_indent(yaml, &lines);
        let block = render_entry(platform, record, step, step, eol);
        edits.push(append_at(yaml, Some(&lines[end - 1]), block, eol));
        return Some(apply(yaml, edits));
    };

    let entry = children.iter().position(|l| {
        let t = l.text(yaml);
        !is_blank(t) && !is_comment(t) && indent_of(t) == ci && parse_key(&t[ci..]).is_some_and(|(k, _)| k == platform)
    });
    let block = render_entry(platform, record, ci, ci, eol);
    match entry {
        Some(k) => {
            let mut stop = children[k + 1..]
                .iter()
                .position(|l| {
                    let t = l.text(yaml);
                    !is_blank(t) && !is_comment(t) && indent_of(t) <= ci
                })
                .map_or(children.len(), |p| k + 1 + p);
            // Comments before the next sibling belong to that sibling.
            while stop > k + 1 {
                let t = children[stop - 1].text(yaml);
                if is_blank(t) || (is_comment(t) && indent_of(t) <= ci) {
                    stop -= 1;
                } else {
                    break;
                }
            }
            let last = children[stop - 1];
            let text = if last.has_eol() { block } else { block.strip_suffix(eol).unwrap_or(&block).to_string() };
            edits.push(Edit { start: children[k].start, end: last.end, text });
        }
        None => edits.push(append_at(yaml, Some(&lines[end - 1]), block, eol)),
    }
    Some(apply(yaml, edits))
}

/// Takes the block entry `platform` out of the `published` entry at line `h`; `None` when
/// `published` is inline or the entry is not a block child.
fn take_out(yaml: &str, lines: &[Line], h: usize, platform: &str) -> Option<String> {
    let end = lines[h + 1..].iter().position(|l| is_top_level(l.text(yaml))).map_or(lines.len(), |p| h + 1 + p);
    if !inline_value(&lines[h].text(yaml)[parse_key(lines[h].text(yaml))?.1..]).is_empty() {
        return None;
    }
    let children = &lines[h + 1..end];
    let content = |l: &&Line| !is_blank(l.text(yaml)) && !is_comment(l.text(yaml));
    let ci = children.iter().find(content).map(|l| indent_of(l.text(yaml)))?;
    let k = children.iter().position(|l| {
        let t = l.text(yaml);
        content(&l) && indent_of(t) == ci && parse_key(&t[ci..]).is_some_and(|(k, _)| k == platform)
    })?;
    let stop = children[k + 1..]
        .iter()
        .position(|l| content(&l) && indent_of(l.text(yaml)) <= ci)
        .map_or(children.len(), |p| k + 1 + p);
    let others = children.iter().enumerate().any(|(i, l)| (i < k || i >= stop) && !is_blank(l.text(yaml)));
    let (from, to) =
        if others { (children[k].start, children[stop - 1].end) } else { (lines[h].start, children[stop - 1].end) };
    Some(apply(yaml, vec![Edit { start: from, end: to, text: String::new() }]))
}

/// Inserts `block` (which ends with `eol`) after `after`, keeping a missing
/// final newline missing.
fn append_at(yaml: &str, after: Option<&Line>, block: String, eol: &str) -> Edit {
    let pos = after.map_or(yaml.len(), |l| l.end);
    let text = match after {
        Some(l) if !l.has_eol() => {
            let body = block.strip_suffix(eol).unwrap_or(&block);
            format!("{eol}{body}")
        }
        _ => block,
    };
    Edit { start: pos, end: pos, text }
}

fn apply(yaml: &str, mut edits: Vec<Edit>) -> String {
    edits.sort_by_key(|e| e.start);
    let mut out = String::with_capacity(yaml.len() + 512);
    let mut pos = 0;
    for e in edits {
        out.push_str(&yaml[pos..e.start]);
        out.push_str(&e.text);
        pos = e.end;
    }
    out.push_str(&yaml[pos..]);
    out
}

/// Fallback for inline `published` values (`{devto: {...}}`, anchors):
/// yaml-edit understands flow syntax and adds the entry in the same style.
fn edit_with_yaml_edit(yaml: &str, platform: &str, record: &Entry<'_>) -> Result<String, LedgerError> {
    let doc = yaml_edit::Document::from_str(yaml).map_err(|e| LedgerError::Malformed(e.to_string()))?;
    let published = doc
        .as_mapping()
        .and_then(|m| m.get_mapping(PUBLISHED))
        .ok_or(LedgerError::NotAMapping("a value yaml-edit cannot edit"))?;
    let fields = render_fields(record, 0, 2, "\n");
    let value = yaml_edit::Document::from_str(&fields).map_err(|e| LedgerError::Verification(e.to_string()))?;
    let value =
        value.as_mapping().ok_or_else(|| LedgerError::Verification("rendered record is not a mapping".into()))?;
    published.set(platform, value);
    Ok(doc.to_string())
}

/// `<platform>:` and its record, `base` spaces in, nested by `step`.
fn render_entry(platform: &str, record: &Entry<'_>, base: usize, step: usize, eol: &str) -> String {
    let mut out = format!("{:base$}{}:{eol}", "", yaml_key(platform));
    out.push_str(&render_fields(record, base + step, step, eol));
    out
}

fn render_fields(entry: &Entry<'_>, indent: usize, step: usize, eol: &str) -> String {
    let record = entry.record;
    let mut out = String::new();
    let relays = (!record.relays.is_empty())
        .then(|| format!("[{}]", record.relays.iter().map(|r| quote(r)).collect::<Vec<_>>().join(", ")));
    let fields = [
        ("id", Some(quote(&record.id))),
        ("url", Some(quote(&record.url))),
        ("cid", record.cid.as_deref().map(quote)),
        ("relays", relays),
        ("published_at", Some(quote(&record.published_at))),
        ("hash", Some(quote(&record.hash))),
        ("d", record.d.as_deref().map(quote)),
        ("deleted_at", record.deleted_at.as_deref().map(quote)),
    ];
    let marker = entry.unconfirmed.map(|note| (UNCONFIRMED, Some(quote(note))));
    for (key, value) in fields.into_iter().chain(marker) {
        if let Some(value) = value {
            let _ = write!(out, "{:indent$}{key}: {value}{eol}", "");
        }
    }
    if !record.parts.is_empty() {
        let _ = write!(out, "{:indent$}parts:{eol}", "");
        let inner = indent + step;
        for part in &record.parts {
            let cid = part.cid.as_ref().map(|c| format!(", cid: {}", quote(c))).unwrap_or_default();
            let _ = write!(out, "{:inner$}- {{id: {}, url: {}{cid}}}{eol}", "", quote(&part.id), quote(&part.url));
        }
    }
    out
}

/// Platform names are normally plain words; anything YAML could read as
/// something else is quoted.
fn yaml_key(key: &str) -> String {
    let plain = key.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        && !matches!(key, "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null");
    if plain { key.to_string() } else { quote(key) }
}

/// A YAML double-quoted scalar, so ids such as `17890000000000001` stay
/// strings and any URL character is safe.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if c.is_control() || c == '\u{feff}' => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Re-reads `new` and checks it against `old` and the intended record.
fn verify(old: &str, new: &str, kind: FileKind, platform: &str, entry: Option<&Entry<'_>>) -> Result<(), LedgerError> {
    let fail = |msg: String| LedgerError::Verification(msg);
    let before = split(old, kind)?;
    let after = split(new, kind).map_err(|e| fail(format!("result does not split: {e}")))?;
    if before.has_front_matter {
        if (before.head, before.close, before.body) != (after.head, after.close, after.body) {
            return Err(fail("bytes outside the front matter changed".into()));
        }
    } else {
        // The new head is the old one (a BOM or nothing) plus `---`.
        let head_kept = after.head.strip_prefix(before.head).is_some_and(|open| delimiter(open) == Some("---"));
        if !after.has_front_matter || !head_kept || after.body != before.body {
            return Err(fail("body changed while adding front matter".into()));
        }
    }

    // Lines crier adds must follow the file's line ending.
    let bare_lf = |s: &str| s.matches('\n').count() - s.matches("\r\n").count();
    if detect_eol(before.yaml, old) == "\r\n" && bare_lf(new) != bare_lf(old) {
        return Err(fail("mixed line endings in a CRLF file".into()));
    }

    let old_val = if before.has_front_matter { parse_yaml(before.yaml)? } else { Value::Null };
    let new_val = parse_yaml(after.yaml).map_err(|e| fail(format!("result does not parse: {e}")))?;
    match read_record(&new_val, platform) {
        Ok(got) if got.as_ref() == entry.map(|e| e.record) => {}
        Ok(got) => {
            return Err(fail(format!("`{PUBLISHED}.{platform}` reads back as {got:?}")));
        }
        Err(e) => return Err(fail(e.to_string())),
    }
    if read_unconfirmed(&new_val, platform).as_deref() != entry.and_then(|e| e.unconfirmed) {
        return Err(fail(format!("`{PUBLISHED}.{platform}.{UNCONFIRMED}` does not read back as written")));
    }

    let empty = serde_json::Map::new();
    let as_map = |v: &Value| match v {
        Value::Object(m) => m.clone(),
        _ => empty.clone(),
    };
    let (old_map, new_map) = (as_map(&old_val), as_map(&new_val));
    let keys = old_map.keys().chain(new_map.keys());
    for key in keys.filter(|k| *k != PUBLISHED) {
        if old_map.get(key) != new_map.get(key) {
            return Err(fail(format!("top-level key `{key}` changed")));
        }
    }
    let old_pub = old_map.get(PUBLISHED).map(as_map).unwrap_or_default();
    let new_pub = new_map.get(PUBLISHED).map(as_map).unwrap_or_default();
    for key in old_pub.keys().chain(new_pub.keys()) {
        if key != platform && old_pub.get(key) != new_pub.get(key) {
            return Err(fail(format!("`{PUBLISHED}.{key}` changed")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_finds_top_level_entries_with_their_values() {
        let text = "\u{feff}---\n# c\ntitle: 'x' # t\ntags:\n  - a\n\n# about b\nb: >-\n  one\n  two\n---\nbody\n";
        let l = layout(text, FileKind::Markdown).expect("layout");
        let keys: Vec<&str> = l.entries.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["title", "tags", "b"]);
        let at = |i: usize| (&text[l.entries[i].lines.clone()], &text[l.entries[i].value.clone()]);
        assert_eq!(at(0), ("title: 'x' # t\n", " 'x' # t"));
        assert_eq!(at(1), ("tags:\n  - a\n", "\n  - a"));
        assert_eq!(at(2), ("b: >-\n  one\n  two\n", " >-\n  one\n  two"));
        assert_eq!(&text[l.yaml.clone()], "# c\ntitle: 'x' # t\ntags:\n  - a\n\n# about b\nb: >-\n  one\n  two\n");
        assert!(layout("no front matter\n", FileKind::Markdown).is_err());
    }

    fn threads() -> Record {
        Record {
            relays: Vec::new(),
            d: None,
            id: "17890000000000001".into(),
            url: "https://www.threads.com/@someone/post/DCkkKl_OGb1".into(),
            cid: None,
            published_at: "2026-11-28T10:00:00Z".into(),
            hash: "sha256:abc".into(),
            parts: vec![],
            deleted_at: None,
        }
    }

    fn chain() -> Record {
        Record {
            relays: Vec::new(),
            d: None,
            parts: vec![
                PartRecord {
                    id: "17890000000000001".into(),
                    url: "https://www.threads.com/@someone/post/A1".into(),
                    cid: None,
                },
                PartRecord {
                    id: "17890000000000002".into(),
                    url: "https://www.threads.com/@someone/post/A2".into(),
                    cid: None,
                },
            ],
            ..threads()
        }
    }

    /// The `threads:` entry as the tests expect it, written independently of
    /// `render_entry`.
    fn entry(base: usize, step: usize, record: &Record) -> String {
        let (b, f) = (" ".repeat(base), " ".repeat(base + step));
        let mut s = format!(
            "{b}threads:\n{f}id: \"{}\"\n{f}url: \"{}\"\n{f}published_at: \"{}\"\n{f}hash: \"{}\"\n",
            record.id, record.url, record.published_at, record.hash
        );
        if !record.parts.is_empty() {
            s.push_str(&format!("{f}parts:\n"));
            for p in &record.parts {
                let pad = " ".repeat(base + 2 * step);
                s.push_str(&format!("{pad}- {{id: \"{}\", url: \"{}\"}}\n", p.id, p.url));
            }
        }
        s
    }

    fn t2() -> String {
        entry(2, 2, &threads())
    }

    struct Case {
        name: &'static str,
        kind: FileKind,
        input: String,
        record: Record,
        /// Exact expected output; `None` when only the generic checks apply.
        expected: Option<String>,
    }

    fn case(name: &'static str, kind: FileKind, input: &str, expected: String) -> Case {
        Case { name, kind, input: input.to_string(), record: threads(), expected: Some(expected) }
    }

    const MD_COMMENTS: &str = "---
# keep me: a leading comment
title: \"Hello, world\" # keep me
subtitle: 'single quoted'   # keep me too

tags: [a, b]  # flow list
plain: just text
---
Body text.
---
published: this is body text, not YAML
";

    const DEVTO_THEN: &str = "---
title: x
published:
  devto:
    id: \"2345678\"   # devto id
    url: 'https://dev.to/someone/slug'
    published_at: \"2026-11-01T00:00:00Z\"
    hash: sha256:old

# after published
tags: [a]
---
body
";

    const REPLACE: &str = "title: x
published:
  threads:
    id: \"1\"
    url: \"old\"   # old comment goes with the old entry
    published_at: \"old\"
    hash: \"sha256:old\"
    parts:
      - {id: \"a\", url: \"b\"}
      - {id: \"c\", url: \"d\"}
  # devto comment
  devto:
    id: \"2345678\"
    url: 'https://dev.to/someone/slug'   # keep
    published_at: 2026-11-01T00:00:00Z
    hash: \"sha256:old\"
";

    const FOUR: &str = "---
title: x
meta:
    author: me
    # note
    lang: en
---
";

    const FOUR_PUBLISHED: &str = "---
title: x
published:
    devto:
        id: \"2\"
        url: \"u\"
        published_at: \"t\"
        hash: \"h\"
---
";

    fn cases() -> Vec<Case> {
        let t = t2();
        let crlf = |s: &str| s.replace('\n', "\r\n");
        vec![
            case(
                "markdown with comments, quoting, blank lines, body with --- and published:",
                FileKind::Markdown,
                MD_COMMENTS,
                MD_COMMENTS.replacen("plain: just text\n", &format!("plain: just text\npublished:\n{t}"), 1),
            ),
            case(
                "crlf markdown",
                FileKind::Markdown,
                &crlf(MD_COMMENTS),
                crlf(&MD_COMMENTS.replacen("plain: just text\n", &format!("plain: just text\npublished:\n{t}"), 1)),
            ),
            case(
                "bom markdown",
                FileKind::Markdown,
                "\u{feff}---\ntitle: x\n---\nbody\n",
                format!("\u{feff}---\ntitle: x\npublished:\n{t}---\nbody\n"),
            ),
            case(
                "dots closing delimiter",
                FileKind::Markdown,
                "---\ntitle: x\n...\nbody\n---\n",
                format!("---\ntitle: x\npublished:\n{t}...\nbody\n---\n"),
            ),
            case(
                "empty front matter",
                FileKind::Markdown,
                "---\n---\nbody\n",
                format!("---\npublished:\n{t}---\nbody\n"),
            ),
            case(
                "yaml block scalar at the end",
                FileKind::Yaml,
                "title: x\ntext: |\n  line one\n\n  line three\n",
                format!("title: x\ntext: |\n  line one\n\n  line three\npublished:\n{t}"),
            ),
            case(
                "yaml keep-chomped block scalar with trailing blank line",
                FileKind::Yaml,
                "title: x\ntext: |+\n  keep\n\n",
                format!("title: x\ntext: |+\n  keep\n\npublished:\n{t}"),
            ),
            case(
                "yaml with trailing comment lines",
                FileKind::Yaml,
                "title: x\nlist:\n  - a\n# trailing 1\n\n# trailing 2\n",
                format!("title: x\nlist:\n  - a\n# trailing 1\n\n# trailing 2\npublished:\n{t}"),
            ),
            case(
                "yaml without final newline",
                FileKind::Yaml,
                "title: x",
                format!("title: x\npublished:\n{}", t.trim_end_matches('\n')),
            ),
            case(
                "yaml with document end marker",
                FileKind::Yaml,
                "title: x\n...\n# after the end\n",
                format!("title: x\npublished:\n{t}...\n# after the end\n"),
            ),
            case(
                "yaml with leading document marker",
                FileKind::Yaml,
                "---\ntitle: x\n",
                format!("---\ntitle: x\npublished:\n{t}"),
            ),
            case(
                "existing devto, add threads",
                FileKind::Markdown,
                DEVTO_THEN,
                DEVTO_THEN.replacen("hash: sha256:old\n", &format!("hash: sha256:old\n{t}"), 1),
            ),
            case(
                "replace threads, devto byte for byte",
                FileKind::Yaml,
                REPLACE,
                format!("title: x\npublished:\n{t}{}", &REPLACE[REPLACE.find("  # devto comment").unwrap()..]),
            ),
            case(
                "published: {} with comment",
                FileKind::Yaml,
                "title: x\npublished: {}  # crier\nz: 1\n",
                format!("title: x\npublished:  # crier\n{t}z: 1\n"),
            ),
            case(
                "published: null (empty)",
                FileKind::Markdown,
                "---\ntitle: x\npublished:\n\nz: 1\n---\n",
                format!("---\ntitle: x\npublished:\n{t}\nz: 1\n---\n"),
            ),
            case(
                "published: ~ at end of file without newline",
                FileKind::Yaml,
                "title: x\npublished: ~",
                format!("title: x\npublished:\n{}", t.trim_end_matches('\n')),
            ),
            case(
                "published: with only an indented comment",
                FileKind::Yaml,
                "published:\n  # nothing yet\ntitle: x\n",
                format!("published:\n  # nothing yet\n{t}title: x\n"),
            ),
            case(
                "quoted published key",
                FileKind::Yaml,
                "\"published\":\n  devto: {id: \"1\", url: u, published_at: t, hash: h}\n",
                format!("\"published\":\n  devto: {{id: \"1\", url: u, published_at: t, hash: h}}\n{t}"),
            ),
            Case {
                name: "chain parts",
                kind: FileKind::Markdown,
                input: "---\ntitle: x\n---\n".into(),
                record: chain(),
                expected: Some(format!("---\ntitle: x\npublished:\n{}---\n", entry(2, 2, &chain()))),
            },
            case(
                "markdown without front matter",
                FileKind::Markdown,
                "# Heading\n\nText\n---\npublished: body\n",
                format!("---\npublished:\n{t}---\n# Heading\n\nText\n---\npublished: body\n"),
            ),
            case(
                "markdown without front matter, bom and crlf",
                FileKind::Markdown,
                "\u{feff}# Heading\r\n\r\nText\r\n",
                format!("\u{feff}---\r\npublished:\r\n{}---\r\n# Heading\r\n\r\nText\r\n", crlf(&t)),
            ),
            case(
                "4-space front matter",
                FileKind::Markdown,
                FOUR,
                FOUR.replacen("lang: en\n", &format!("lang: en\npublished:\n{}", entry(4, 4, &threads())), 1),
            ),
            case(
                "4-space published block",
                FileKind::Markdown,
                FOUR_PUBLISHED,
                FOUR_PUBLISHED.replacen("hash: \"h\"\n", &format!("hash: \"h\"\n{}", entry(4, 4, &threads())), 1),
            ),
            case(
                "flow published mapping (yaml-edit fallback)",
                FileKind::Yaml,
                "title: x # keep\npublished: {devto: {id: \"1\", url: u, published_at: t, hash: h}}\nz: 1\n",
                "title: x # keep\npublished: {devto: {id: \"1\", url: u, published_at: t, hash: h}, \
                 threads: {id: \"17890000000000001\", \
                 url: \"https://www.threads.com/@someone/post/DCkkKl_OGb1\", \
                 published_at: \"2026-11-28T10:00:00Z\", hash: \"sha256:abc\"}}\nz: 1\n"
                    .into(),
            ),
            case(
                "anchored published mapping, crlf (yaml-edit fallback)",
                FileKind::Yaml,
                &crlf("title: x\npublished: &p\n  devto: {id: \"1\", url: u, published_at: t, hash: h}\n"),
                crlf(&format!(
                    "title: x\npublished: &p\n  devto: {{id: \"1\", url: u, published_at: t, hash: h}}\n{t}"
                )),
            ),
        ]
    }

    fn top_level(content: &str, kind: FileKind) -> serde_json::Map<String, Value> {
        let s = split(content, kind).unwrap();
        match parse_yaml(s.yaml).unwrap() {
            Value::Object(m) => m,
            _ => serde_json::Map::new(),
        }
    }

    #[test]
    fn set_record_round_trips() {
        for c in cases() {
            let out = set_record(&c.input, c.kind, "threads", &c.record).unwrap_or_else(|e| panic!("{}: {e}", c.name));
            if let Some(expected) = &c.expected {
                assert_eq!(&out, expected, "{}", c.name);
            }
            assert_eq!(get_record(&out, c.kind, "threads").unwrap(), Some(c.record.clone()), "{}", c.name);
            let (before, after) = (top_level(&c.input, c.kind), top_level(&out, c.kind));
            for (key, value) in &before {
                if key != PUBLISHED {
                    assert_eq!(after.get(key), Some(value), "{}: key {key}", c.name);
                }
            }
            assert_eq!(before.len() + usize::from(!before.contains_key(PUBLISHED)), after.len(), "{}", c.name);
            // Writing the same record again is a no-op, which also exercises
            // the replace path on every shape above.
            let again = set_record(&out, c.kind, "threads", &c.record).unwrap();
            assert_eq!(again, out, "{}: not idempotent", c.name);
        }
    }

    /// Byte range of the top-level `published` entry (header line up to the
    /// next top-level line), found independently of `splice`.
    fn published_range(content: &str) -> Option<(usize, usize)> {
        let mut start = None;
        let mut pos = 0;
        for line in content.split_inclusive('\n') {
            let top = !line.starts_with([' ', '\t', '#', '\r', '\n']);
            match start {
                None if line.starts_with("published:") || line.starts_with("\"published\":") => {
                    start = Some(pos);
                }
                Some(s) if top => return Some((s, pos)),
                _ => {}
            }
            pos += line.len();
        }
        start.map(|s| (s, content.len()))
    }

    #[test]
    fn only_the_published_block_changes() {
        // Independent of the exact expectations: the original minus the
        // replaced span equals the result minus the inserted span, and the
        // replaced span lies inside the old `published` block (or is empty).
        for c in cases() {
            let out = set_record(&c.input, c.kind, "threads", &c.record).unwrap();
            let (a, b) = (c.input.as_bytes(), out.as_bytes());
            let pre = a.iter().zip(b).take_while(|(x, y)| x == y).count();
            let room = a.len().min(b.len()) - pre;
            let suf = a.iter().rev().zip(b.iter().rev()).take(room).take_while(|(x, y)| x == y).count();
            let (removed, inserted) = (pre..a.len() - suf, pre..b.len() - suf);
            assert_eq!(
                format!("{}{}", &c.input[..removed.start], &c.input[removed.end..]),
                format!("{}{}", &out[..inserted.start], &out[inserted.end..]),
                "{}",
                c.name
            );
            if !removed.is_empty() {
                let (s, e) =
                    published_range(&c.input).unwrap_or_else(|| panic!("{}: bytes removed without published", c.name));
                assert!(
                    s <= removed.start && removed.end <= e,
                    "{}: removed {:?} outside published {s}..{e}",
                    c.name,
                    &c.input[removed]
                );
            }
            let body = c.input.trim_start_matches(BOM);
            if c.kind == FileKind::Markdown && !body.starts_with("---") {
                // A whole new front matter block goes in front of the body.
                assert_eq!(inserted.start, c.input.len() - body.len(), "{}", c.name);
                assert!(out[inserted.clone()].starts_with("---"), "{}", c.name);
                assert!(out[inserted].trim_end().ends_with("---"), "{}", c.name);
                continue;
            }
            let (s, e) = published_range(&out).expect("published written");
            // A file without a final newline gets one before `published:`.
            let lead = out[inserted.clone()].len() - out[inserted.clone()].trim_start_matches(['\r', '\n']).len();
            assert!(
                s <= inserted.start + lead && inserted.end <= e,
                "{}: inserted {:?} outside published",
                c.name,
                &out[inserted]
            );
        }
    }

    #[test]
    fn marking_a_chain_deleted_changes_only_its_entry() {
        let input = "---\n# my post\ntitle: 'T' # keep\npublished:\n  devto:\n    id: \"9\"\n    url: \"https://dev.to/x\"\n    published_at: \"t\"\n    hash: \"h\"\n---\nBody ||stays||\n";
        let with_chain = set_record(input, FileKind::Markdown, "threads", &chain()).unwrap();
        let deleted = Record { deleted_at: Some("2026-12-02T12:00:00Z".into()), ..chain() };
        let out = set_record(&with_chain, FileKind::Markdown, "threads", &deleted).unwrap();
        assert_eq!(get_record(&out, FileKind::Markdown, "threads").unwrap(), Some(deleted.clone()));
        // The timestamp sits with the entry's fields, before the parts, and nothing else moved.
        assert!(
            out.contains("    hash: \"sha256:abc\"\n    deleted_at: \"2026-12-02T12:00:00Z\"\n    parts:\n"),
            "{out}"
        );
        assert_eq!(out.replace("    deleted_at: \"2026-12-02T12:00:00Z\"\n", ""), with_chain);
        assert!(get_record(&out, FileKind::Markdown, "devto").unwrap().unwrap().deleted_at.is_none());
    }

    #[test]
    fn flow_fallback_keeps_other_entries_and_lines() {
        let input = "title: x # keep\npublished: {devto: {id: \"1\", url: u, published_at: t, hash: h}}\nz: 1\n";
        let out = set_record(input, FileKind::Yaml, "threads", &threads()).unwrap();
        assert!(out.starts_with("title: x # keep\npublished: {devto: {id: \"1\", url: u, published_at: t, hash: h}"));
        assert!(out.ends_with("\nz: 1\n"), "{out}");
        assert!(out.contains("\"17890000000000001\""), "{out}");
        let devto = get_record(&out, FileKind::Yaml, "devto").unwrap().unwrap();
        assert_eq!(devto.id, "1");
    }

    #[test]
    fn second_platform_and_replacement_keep_each_other() {
        let mut content = "---\ntitle: x\n---\nbody\n".to_string();
        let devto = Record {
            relays: Vec::new(),
            d: None,
            id: "2345678".into(),
            url: "https://dev.to/someone/slug".into(),
            cid: None,
            published_at: "2026-11-01T00:00:00Z".into(),
            hash: "sha256:1".into(),
            parts: vec![],
            deleted_at: None,
        };
        content = set_record(&content, FileKind::Markdown, "devto", &devto).unwrap();
        content = set_record(&content, FileKind::Markdown, "threads", &chain()).unwrap();
        let with_chain = content.clone();
        // A dev.to update records a new hash; threads stays byte for byte.
        let updated = Record { hash: "sha256:2".into(), ..devto };
        content = set_record(&content, FileKind::Markdown, "devto", &updated).unwrap();
        assert_eq!(content, with_chain.replacen("sha256:1", "sha256:2", 1));
        assert_eq!(get_record(&content, FileKind::Markdown, "devto").unwrap(), Some(updated));
        assert_eq!(get_record(&content, FileKind::Markdown, "threads").unwrap(), Some(chain()));
        assert!(content.ends_with("---\nbody\n"));
    }

    #[test]
    fn awkward_strings_are_escaped() {
        let record = Record {
            relays: Vec::new(),
            d: None,
            id: "007".into(),
            url: "https://x/a b?q=\"1\"&p=\\ #not-comment: yes\n\ttab\u{1}\u{2028}é".into(),
            cid: Some("bafy: #1".into()),
            published_at: "true".into(),
            hash: "null".into(),
            parts: vec![],
            deleted_at: None,
        };
        for platform in ["threads", "yes", "Weird Name", "x:y"] {
            let out = set_record("title: x\n", FileKind::Yaml, platform, &record)
                .unwrap_or_else(|e| panic!("{platform}: {e}"));
            assert_eq!(get_record(&out, FileKind::Yaml, platform).unwrap(), Some(record.clone()), "{platform}");
        }
    }

    #[test]
    fn errors() {
        type Check = fn(&LedgerError) -> bool;
        let not_mapping: Check = |e| matches!(e, LedgerError::NotAMapping(_));
        let malformed: Check = |e| matches!(e, LedgerError::Malformed(_));
        let table: &[(&str, FileKind, Check)] = &[
            ("---\npublished: [1]\n---\n", FileKind::Markdown, not_mapping),
            ("published: \"done\"\n", FileKind::Yaml, not_mapping),
            ("published:\n  - 1\n", FileKind::Yaml, not_mapping),
            ("---\ntitle: x\nbody without closing\n", FileKind::Markdown, malformed),
            ("---\ntitle: [unclosed\n---\n", FileKind::Markdown, malformed),
            ("- a\n- b\n", FileKind::Yaml, malformed),
            (
                "published:\n  threads: nope\n",
                FileKind::Yaml,
                malformed, // get_record only; set_record replaces it
            ),
        ];
        for (input, kind, check) in table {
            let got = get_record(input, *kind, "threads").unwrap_err();
            assert!(check(&got), "get {input:?}: {got:?}");
            if !input.contains("nope") {
                let set = set_record(input, *kind, "threads", &threads()).unwrap_err();
                assert!(check(&set), "set {input:?}: {set:?}");
            }
        }
        let fixed = set_record("published:\n  threads: nope\n", FileKind::Yaml, "threads", &threads()).unwrap();
        assert_eq!(fixed, format!("published:\n{}", t2()));
    }

    #[test]
    fn get_record_absent() {
        for (input, kind) in [
            ("# just markdown\n", FileKind::Markdown),
            ("---\ntitle: x\n---\n", FileKind::Markdown),
            ("published:\n", FileKind::Yaml),
            ("published: {}\n", FileKind::Yaml),
            ("published:\n  devto: {id: '1', url: u, published_at: t, hash: h}\n", FileKind::Yaml),
            ("", FileKind::Yaml),
        ] {
            assert_eq!(get_record(input, kind, "threads").unwrap(), None, "{input:?}");
        }
    }

    #[test]
    fn write_atomic_replaces_content_and_keeps_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("post.md");
        std::fs::write(&path, "old").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        }
        write_atomic(&path, b"new content").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new content");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o640);
        }
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("post.md")]);

        // A file that does not exist yet is created, with the mode any new file gets.
        let fresh = dir.path().join("fresh.yaml");
        write_atomic(&fresh, b"x: 1\n").unwrap();
        assert_eq!(std::fs::read(&fresh).unwrap(), b"x: 1\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let ordinary = dir.path().join("ordinary");
            std::fs::write(&ordinary, "x").unwrap();
            let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&fresh), mode(&ordinary), "not the temp file's 0600");
        }
    }

    #[cfg(unix)]
    #[test]
    fn write_atomic_writes_through_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.md");
        let link = dir.path().join("link.md");
        std::fs::write(&real, "old").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
    }

    #[test]
    fn an_unconfirmed_entry_is_marked_and_a_record_replaces_it_whole() {
        let lost = Record { id: String::new(), url: String::new(), ..threads() };
        // (file, platform entry style): block, flow `published`, no front matter.
        let files = [
            "---\ntitle: T # keep\npublished:\n  devto:\n    id: \"1\"\n    url: \"u\"\n    published_at: \"t\"\n    hash: \"h\"\n---\nBody\n",
            "---\ntitle: T\npublished: {devto: {id: \"1\", url: \"u\", published_at: \"t\", hash: \"h\"}}\n---\nBody\n",
            "Body\n",
        ];
        for file in files {
            let note = "check the channel for \"Hello\": it may be there";
            let marked = set_unconfirmed(file, FileKind::Markdown, "threads", &lost, note).unwrap();
            assert_eq!(unconfirmed(&marked, FileKind::Markdown, "threads").unwrap().as_deref(), Some(note), "{marked}");
            assert_eq!(get_record(&marked, FileKind::Markdown, "threads").unwrap(), Some(lost.clone()));
            assert_eq!(unconfirmed(&marked, FileKind::Markdown, "devto").unwrap(), None);
            assert!(marked.ends_with("Body\n"));
            let recorded = set_record(&marked, FileKind::Markdown, "threads", &threads()).unwrap();
            assert_eq!(unconfirmed(&recorded, FileKind::Markdown, "threads").unwrap(), None, "{recorded}");
            assert_eq!(get_record(&recorded, FileKind::Markdown, "threads").unwrap(), Some(threads()));
            assert_eq!(
                get_record(&recorded, FileKind::Markdown, "devto").unwrap(),
                get_record(file, FileKind::Markdown, "devto").unwrap(),
                "the other entry is kept"
            );
        }
    }

    #[test]
    fn a_record_written_ahead_is_taken_out_byte_for_byte() {
        let lost = Record { id: String::new(), url: String::new(), ..threads() };
        let files = [
            "---\ntitle: T # keep\n---\nBody\n",
            "---\ntitle: T\npublished:\n  # mine\n  devto:\n    id: \"1\"\n    url: \"u\"\n    published_at: \"t\"\n    hash: \"h\"\ntags: [a]\n---\nBody\n",
            "title: T\r\npublished:\r\n    devto:\r\n        id: \"1\"\r\n        url: \"u\"\r\n        published_at: \"t\"\r\n        hash: \"h\"\r\n",
        ];
        for file in files {
            let kind = if file.starts_with("---") { FileKind::Markdown } else { FileKind::Yaml };
            let marked = set_unconfirmed(file, kind, "threads", &lost, "sending").unwrap();
            assert_eq!(remove_record(&marked, kind, "threads").unwrap(), file);
            assert_eq!(remove_record(file, kind, "threads").unwrap(), file, "nothing to take out");
        }
    }
}
