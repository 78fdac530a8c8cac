//! The post schema and its parser. Every key keeps its location so rules can
//! point at the offending key or value.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_saphyr::{Location, Spanned};

use super::split::split_front_matter;
use super::{MAX_POST_BYTES, relative_display};
use crate::diag::{Diagnostic, SourceFile};
use crate::yaml::{self, Embedded};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Markdown,
    Yaml,
}

impl FileKind {
    pub fn of(path: &Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some("yaml" | "yml") => Self::Yaml,
            _ => Self::Markdown,
        }
    }
}

/// Every key a post may have; the typo hint draws from these.
pub(crate) const POST_KEYS: &[&str] = &[
    "platforms",
    "draft",
    "publish_at",
    "title",
    "text",
    "thread",
    "media",
    "tags",
    "template",
    "vars",
    "threads",
    "devto",
    "published",
    // nested
    "path",
    "url",
    "alt",
    "reply_control",
    "topic_tag",
    "link_attachment",
    "quote_post_id",
    "poll",
    "options",
    "split",
    "spoiler_media",
    "ghost",
    "series",
    "canonical_url",
    "description",
    "cover_image",
    "organization_id",
    "bluesky",
    "langs",
    "link_card",
    // mastodon
    "mastodon",
    "visibility",
    "spoiler_text",
    "sensitive",
    "language",
];

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FrontMatter {
    pub platforms: Option<Spanned<Vec<Spanned<String>>>>,
    pub draft: Option<bool>,
    pub publish_at: Option<Spanned<String>>,
    pub title: Option<Spanned<String>>,
    pub text: Option<Spanned<String>>,
    pub thread: Option<Spanned<Vec<Spanned<ThreadItem>>>>,
    pub media: Option<Spanned<Vec<Spanned<MediaItem>>>>,
    pub tags: Option<Spanned<Vec<Spanned<String>>>>,
    pub template: Option<Spanned<String>>,
    pub vars: Option<serde_json::Map<String, serde_json::Value>>,
    pub threads: Option<Spanned<ThreadsOptions>>,
    pub devto: Option<Spanned<DevtoOptions>>,
    pub bluesky: Option<Spanned<BlueskyOptions>>,
    pub mastodon: Option<Spanned<MastodonOptions>>,
    /// Written by crier only; kept as data here, read by the ledger.
    pub published: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MediaItem {
    pub path: Option<Spanned<String>>,
    pub url: Option<Spanned<String>>,
    pub alt: Option<Spanned<String>>,
}

/// One part of an explicit chain: a string, or `{text, media}`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ThreadItem {
    pub text: Option<String>,
    #[serde(skip)]
    pub text_at: Option<Location>,
    pub media: Vec<Spanned<MediaItem>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThreadItemMap {
    text: Option<Spanned<String>>,
    media: Option<Vec<Spanned<MediaItem>>>,
}

impl<'de> Deserialize<'de> for ThreadItem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ItemVisitor;
        impl<'de> Visitor<'de> for ItemVisitor {
            type Value = ThreadItem;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string, or a mapping with `text` and `media`")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<ThreadItem, E> {
                Ok(ThreadItem { text: Some(v.to_owned()), ..ThreadItem::default() })
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ThreadItem, A::Error> {
                let m = ThreadItemMap::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(ThreadItem {
                    text_at: m.text.as_ref().map(|t| t.referenced),
                    text: m.text.map(|t| t.value),
                    media: m.media.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_any(ItemVisitor)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SplitMode {
    #[default]
    None,
    Auto,
}

/// Threads' `split`: [`SplitMode`]'s values, and `attachment` (the whole text as a
/// text attachment behind a short visible text), which only Threads has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ThreadsSplit {
    #[default]
    None,
    Auto,
    Attachment,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ThreadsOptions {
    pub text: Option<Spanned<String>>,
    pub template: Option<Spanned<String>>,
    pub reply_control: Option<Spanned<String>>,
    pub topic_tag: Option<Spanned<String>>,
    pub link_attachment: Option<Spanned<String>>,
    pub quote_post_id: Option<Spanned<String>>,
    pub poll: Option<Spanned<Poll>>,
    pub split: Option<Spanned<ThreadsSplit>>,
    /// `is_spoiler_media`: the media show blurred until tapped.
    pub spoiler_media: Option<Spanned<bool>>,
    /// `is_ghost_post`: a text post that archives itself after 24 hours.
    pub ghost: Option<Spanned<bool>>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Poll {
    pub options: Spanned<Vec<Spanned<String>>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DevtoOptions {
    pub title: Option<Spanned<String>>,
    pub tags: Option<Spanned<Vec<Spanned<String>>>>,
    pub series: Option<Spanned<String>>,
    pub canonical_url: Option<Spanned<String>>,
    pub description: Option<Spanned<String>>,
    pub cover_image: Option<Spanned<String>>,
    pub published: Option<bool>,
    pub organization_id: Option<Spanned<u64>>,
    pub template: Option<Spanned<String>>,
}

/// `bluesky:` overrides of a post.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BlueskyOptions {
    pub text: Option<Spanned<String>>,
    pub template: Option<Spanned<String>>,
    pub split: Option<Spanned<SplitMode>>,
    /// BCP-47 language tags (at most 3).
    pub langs: Option<Spanned<Vec<Spanned<String>>>>,
    /// A card for the first link of a part without media (default true).
    pub link_card: Option<Spanned<bool>>,
}

/// `mastodon:` overrides of a post (contract section 2).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MastodonOptions {
    pub text: Option<Spanned<String>>,
    pub template: Option<Spanned<String>>,
    pub split: Option<Spanned<SplitMode>>,
    /// `public` (default), `unlisted`, `private` or `direct`.
    pub visibility: Option<Spanned<String>>,
    /// Content warning shown instead of the text; it counts toward the limit.
    pub spoiler_text: Option<Spanned<String>>,
    pub sensitive: Option<bool>,
    /// ISO 639-1 code.
    pub language: Option<Spanned<String>>,
}

/// A parsed post with everything needed to point back into its file.
#[derive(Debug, Clone)]
pub struct Post {
    /// Repository-relative path with `/` separators.
    pub path: String,
    pub abs_path: PathBuf,
    pub kind: FileKind,
    pub source: Arc<SourceFile>,
    pub front: FrontMatter,
    /// Byte offset of the YAML text in the file.
    pub yaml_offset: usize,
    /// The Markdown body: after the front matter, or a YAML post's `text`.
    pub body: String,
    /// File offsets of the starts of the body's lines (for diagnostics).
    body_lines: Vec<usize>,
    /// File name without extension.
    pub slug: String,
}

impl Post {
    /// Byte range in the file of a value located by the YAML parser.
    pub fn span_of(&self, loc: &Location) -> std::ops::Range<usize> {
        let span = loc.span();
        let start = span.byte_offset().map_or_else(
            || {
                // Reader inputs have no byte info; recover it from line and column.
                let (line, col) = (loc.line() as usize, loc.column() as usize);
                let yaml_line = self.source.line_col(self.yaml_offset).0;
                self.source.offset_of(yaml_line + line.saturating_sub(1), col)
            },
            |b| self.yaml_offset + b as usize,
        );
        let len = span.byte_len().unwrap_or(0) as usize;
        start..(start + len.max(1)).min(self.source.text.len())
    }

    /// Byte offset in the file of a byte offset in `body`.
    pub fn body_offset(&self, offset: usize) -> usize {
        let offset = offset.min(self.body.len());
        let mut line = 0;
        let mut line_start = 0;
        for (i, _) in self.body.match_indices('\n') {
            if i >= offset {
                break;
            }
            line += 1;
            line_start = i + 1;
        }
        match self.body_lines.get(line) {
            Some(&file_start) => (file_start + offset - line_start).min(self.source.text.len()),
            None => self.body_lines.first().copied().unwrap_or(0),
        }
    }

    /// Byte range in the file of a byte range in `body`.
    pub fn body_span(&self, range: std::ops::Range<usize>) -> std::ops::Range<usize> {
        let start = self.body_offset(range.start);
        let end = self.body_offset(range.end.max(range.start)).max(start);
        start..end
    }

    /// The whole post's first line, for problems without a better place.
    pub fn head_span(&self) -> std::ops::Range<usize> {
        0..self.source.text.find('\n').unwrap_or(self.source.text.len()).max(1).min(self.source.text.len())
    }

    pub fn is_draft(&self) -> bool {
        self.front.draft == Some(true)
    }
}

/// Reads and parses a post file. Oversized files are rejected before reading.
pub fn parse_file(root: &Path, abs_path: &Path) -> Result<Post, Diagnostic> {
    let display = relative_display(root, abs_path);
    let io_error =
        |e: std::io::Error| Diagnostic::error("io-error", format!("cannot read the file: {e}")).in_file(&display);
    let too_large = |len: u64| {
        Diagnostic::error(
            "file-too-large",
            format!("the file is {len} bytes; posts may be at most {MAX_POST_BYTES} bytes (10 MB)"),
        )
        .in_file(&display)
        .with_hint("move large content out of the post, or put the file outside content/")
    };
    // The size comes from the open file: one lookup by path, not two.
    let mut file = std::fs::File::open(abs_path).map_err(io_error)?;
    let len = file.metadata().map_err(io_error)?.len();
    if len > MAX_POST_BYTES {
        return Err(too_large(len));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0).saturating_add(1));
    // `take` also keeps a file that grows meanwhile from being read past the limit.
    file.by_ref().take(MAX_POST_BYTES + 1).read_to_end(&mut bytes).map_err(io_error)?;
    if bytes.len() as u64 > MAX_POST_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let valid = &bytes[..e.valid_up_to()];
            let lossy = String::from_utf8_lossy(bytes);
            let src = SourceFile::new(display.clone(), lossy.as_ref());
            let offset = String::from_utf8_lossy(valid).len();
            return Err(Diagnostic::error(
                "not-utf8",
                format!("the file is not valid UTF-8 (invalid byte at offset {})", e.valid_up_to()),
            )
            .at(&src, offset..offset + 1)
            .with_hint("save the file as UTF-8"));
        }
    };
    parse_text(display, abs_path.to_path_buf(), FileKind::of(abs_path), text)
}

/// Parses a post from text (already free of a BOM).
pub fn parse_text(path: String, abs_path: PathBuf, kind: FileKind, text: &str) -> Result<Post, Diagnostic> {
    let source = Arc::new(SourceFile::new(path.clone(), text));
    let slug = abs_path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    if text.trim().is_empty() {
        return Err(Diagnostic::error("empty-post", "the file is empty")
            .in_file(&path)
            .with_hint("write a post, or delete the file (or prefix its name with `_` to keep it out of crier)"));
    }
    let (yaml_range, body_start) = match kind {
        FileKind::Yaml => (0..text.len(), None),
        FileKind::Markdown => match split_front_matter(&source)? {
            Some(split) => (split.yaml, Some(split.body_start)),
            None => (0..0, Some(0)),
        },
    };
    let yaml_text = &text[yaml_range.clone()];
    let front: FrontMatter = if yaml_text.trim().is_empty() {
        FrontMatter::default()
    } else {
        yaml::parse(yaml_text, &source, Embedded { offset: yaml_range.start }, POST_KEYS)?
    };
    let mut post = Post {
        path,
        abs_path,
        kind,
        source: source.clone(),
        front,
        yaml_offset: yaml_range.start,
        body: String::new(),
        body_lines: Vec::new(),
        slug,
    };
    match body_start {
        Some(start) => {
            if let Some(t) = &post.front.text {
                return Err(Diagnostic::error(
                    "text-in-markdown",
                    "`text` is for YAML posts; a Markdown post's text is its body",
                )
                .at(&source, post.span_of(&t.referenced))
                .with_hint("move the text below the closing `---`, or rename the file to .yaml"));
            }
            post.body = text[start..].to_owned();
            post.body_lines =
                std::iter::once(start).chain(text[start..].match_indices('\n').map(|(i, _)| start + i + 1)).collect();
        }
        None => {
            if let Some(t) = &post.front.text {
                post.body = t.value.clone();
                let value_at = post.span_of(&t.referenced).start;
                post.body_lines = locate_lines(text, value_at, &post.body);
            }
        }
    }
    Ok(post)
}

/// Finds where each line of a YAML scalar's value sits in the file, so that
/// positions inside a `text: |` block point at the right line and column.
fn locate_lines(file: &str, value_at: usize, value: &str) -> Vec<usize> {
    let mut cursor = value_at;
    let mut out = Vec::new();
    for line in value.split('\n') {
        let needle = line.trim_end_matches('\r');
        let found = if needle.trim().is_empty() {
            None
        } else {
            file.get(cursor..).and_then(|rest| rest.find(needle)).map(|i| cursor + i)
        };
        match found {
            Some(at) => {
                out.push(at);
                cursor = at + needle.len();
            }
            None => out.push(cursor.min(file.len())),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(name: &str, text: &str) -> Result<Post, Diagnostic> {
        parse_text(format!("content/{name}"), PathBuf::from(name), FileKind::of(Path::new(name)), text)
    }

    #[test]
    fn markdown_post_with_every_key() {
        let text = "---\n# a comment\ntitle: Hello\nplatforms: [threads, devto]\ndraft: false\npublish_at: 2026-01-01T10:00:00Z\ntags: [rust, cli]\ntemplate: announce\nvars: {a: 1}\nmedia:\n  - path: media/a.png\n    alt: An image\n  - url: https://example.com/b.jpg\nthread:\n  - first\n  - text: second\n    media:\n      - path: media/c.png\nthreads:\n  reply_control: everyone\n  topic_tag: Rust\n  split: auto\n  poll:\n    options: [yes, no]\ndevto:\n  series: crier\n  published: false\n  organization_id: 42\n---\nBody text\n";
        let post = parse("hello.md", text).expect("valid");
        let f = &post.front;
        assert_eq!(f.title.as_ref().map(|t| t.value.as_str()), Some("Hello"));
        assert_eq!(f.platforms.as_ref().map(|p| p.value.len()), Some(2));
        assert_eq!(f.media.as_ref().map(|m| m.value.len()), Some(2));
        let thread = &f.thread.as_ref().expect("thread").value;
        assert_eq!(thread[0].value.text.as_deref(), Some("first"));
        assert_eq!(thread[1].value.text.as_deref(), Some("second"));
        assert_eq!(thread[1].value.media.len(), 1);
        let th = &f.threads.as_ref().expect("threads").value;
        assert_eq!(th.split.as_ref().map(|s| s.value), Some(ThreadsSplit::Auto));
        assert_eq!(th.poll.as_ref().map(|p| p.value.options.value.len()), Some(2));
        assert_eq!(f.devto.as_ref().and_then(|d| d.value.organization_id.as_ref()).map(|o| o.value), Some(42));
        assert_eq!(post.body, "Body text\n");
        // The title value is on line 3, column 8.
        let span = post.span_of(&f.title.as_ref().expect("title").referenced);
        assert_eq!(post.source.line_col(span.start), (3, 8));
        assert_eq!(&text[span], "Hello");
        // Body offsets map into the file.
        assert_eq!(post.source.line_col(post.body_offset(5)), (30, 6));
    }

    #[test]
    fn yaml_post_body_positions_follow_block_scalars() {
        let text = "title: x\ntext: |\n  first line\n  second line\nplatforms: [threads]\n";
        let post = parse("p.yaml", text).expect("valid");
        assert_eq!(post.body, "first line\nsecond line\n");
        let at = post.body_offset(post.body.find("second").expect("found"));
        assert_eq!(post.source.line_col(at), (4, 3));
    }

    #[test]
    fn problems_are_diagnostics_with_positions() {
        let cases: &[(&str, &str, &str, usize, usize)] = &[
            ("a.md", "---\ntitel: x\n---\nbody", "unknown-key", 2, 1),
            ("a.md", "---\nthreads:\n  topic: x\n---\nbody", "unknown-key", 3, 3),
            ("a.md", "---\ndraft: maybe\n---\nbody", "yaml-type", 2, 8),
            ("a.md", "---\ntitle: 'x\n---\nbody", "yaml-syntax", 2, 8),
            ("a.md", "---\ntitle: x\nbody", "front-matter-unclosed", 1, 1),
            ("a.md", "---\ntext: hi\n---\nbody", "text-in-markdown", 2, 7),
            ("a.md", "  \n\n", "empty-post", 1, 1),
            ("a.yaml", "- a\n- b\n", "yaml-type", 1, 1),
            ("a.yaml", "thread: [{txt: a}]\n", "unknown-key", 1, 11),
            ("a.yaml", "threads:\n  split: sometimes\n", "yaml-type", 2, 10),
        ];
        for (name, text, code, line, col) in cases {
            let d = parse(name, text).expect_err(text);
            assert_eq!((d.code, d.line, d.column), (*code, *line, *col), "{text:?}: {d:?}");
        }
    }

    #[test]
    fn crlf_and_markdown_without_front_matter() {
        let post = parse("a.md", "---\r\ntitle: x\r\n---\r\nline one\r\n").expect("valid");
        assert_eq!(post.body, "line one\r\n");
        let plain = parse("b.md", "Just text\n").expect("valid");
        assert_eq!(plain.body, "Just text\n");
        assert!(plain.front.title.is_none());
    }
}
