//! The post schema and its parser. Every key keeps its location so rules can
//! point at the offending key or value.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use schemars::JsonSchema;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_saphyr::{Location, Spanned};

use super::split::split_front_matter;
use super::{MAX_POST_BYTES, relative_display};
use crate::diag::{Diagnostic, SourceFile};
use crate::keys::{self, Catalog, Place, Sections};
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

/// A post's generic keys (contract section 2). Each platform's `<platform>:` mapping is
/// declared by the platform and parsed into [`Post::options`].
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "crier post",
    description = "The front matter of a crier post (a Markdown file's YAML header, or a whole YAML post)."
)]
pub struct FrontMatter {
    /// Where the post goes; crier.yaml's `defaults.platforms` when absent.
    #[schemars(with = "Option<Vec<keys::PlatformName>>")]
    pub platforms: Option<Spanned<Vec<Spanned<String>>>>,
    /// A draft is checked but never published.
    pub draft: Option<bool>,
    /// Not published before this RFC 3339 date-time.
    #[schemars(with = "Option<String>")]
    pub publish_at: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub title: Option<Spanned<String>>,
    /// The text of a YAML post (a Markdown post's text is its body).
    #[schemars(with = "Option<String>")]
    pub text: Option<Spanned<String>>,
    /// An explicit chain: one item per part.
    #[schemars(with = "Option<Vec<ThreadItem>>")]
    pub thread: Option<Spanned<Vec<Spanned<ThreadItem>>>>,
    #[schemars(with = "Option<Vec<MediaItem>>")]
    pub media: Option<Spanned<Vec<Spanned<MediaItem>>>>,
    #[schemars(with = "Option<Vec<String>>")]
    pub tags: Option<Spanned<Vec<Spanned<String>>>>,
    /// The template to render with (else the one named after the platform).
    #[schemars(with = "Option<String>")]
    pub template: Option<Spanned<String>>,
    /// Free values handed to the templates as `vars`.
    pub vars: Option<serde_json::Map<String, serde_json::Value>>,
    /// Written by crier only; kept as data here, read by the ledger (and checked by
    /// `rules::published`).
    #[schemars(with = "Option<serde_json::Value>")]
    pub published: Option<Spanned<serde_json::Value>>,
}

/// The keys of [`FrontMatter`] (serde's struct fields, for the YAML deserializer).
const FRONT_FIELDS: &[&str] =
    &["platforms", "draft", "publish_at", "title", "text", "thread", "media", "tags", "template", "vars", "published"];

keys::spanned_keys! {
    /// An image or video: a repository `path` or a public `url`, and its `alt` text.
    #[derive(Default)]
    pub struct MediaItem {
        pub path: Option<Spanned<String>>,
        pub url: Option<Spanned<String>>,
        pub alt: Option<Spanned<String>>,
    }
}

/// One part of an explicit chain: a string, or `{text, media}`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ThreadItem {
    pub text: Option<String>,
    #[serde(skip)]
    pub text_at: Option<Location>,
    pub media: Vec<Spanned<MediaItem>>,
}

keys::spanned_keys! {
    struct ThreadItemMap {
        text: Option<Spanned<String>>,
        media: Option<Vec<Spanned<MediaItem>>>,
    }
}

impl JsonSchema for ThreadItem {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ThreadItem".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let map = generator.subschema_for::<ThreadItemMap>();
        schemars::json_schema!({ "anyOf": [{ "type": "string" }, map] })
    }
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

keys::key_enum! {
    /// `split` of a platform that chains posts: `none` (default) or `auto` (a text over the
    /// limit becomes a chain).
    pub enum SplitMode {
        #[default]
        None,
        Auto,
    }
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
    /// Each platform's `<platform>:` mapping, as the platform declares it.
    pub options: Sections,
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
    /// Where the front matter ends in the file (a YAML post is all front matter).
    pub fn front_matter_end(&self) -> usize {
        match self.kind {
            FileKind::Markdown => self.body_lines.first().copied().unwrap_or(self.source.text.len()),
            FileKind::Yaml => self.source.text.len(),
        }
    }

    pub fn head_span(&self) -> std::ops::Range<usize> {
        0..self.source.text.find('\n').unwrap_or(self.source.text.len()).max(1).min(self.source.text.len())
    }

    pub fn is_draft(&self) -> bool {
        self.front.draft == Some(true)
    }
}

/// The JSON Schema of a post's front matter: the generic keys and every platform's mapping.
pub fn schema(catalog: &Catalog) -> schemars::Schema {
    catalog.schema::<FrontMatter>(Place::Post)
}

/// Reads and parses a post file. Oversized files are rejected before reading.
pub fn parse_file(root: &Path, abs_path: &Path, catalog: &Catalog) -> Result<Post, Diagnostic> {
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
    parse_text(display, abs_path.to_path_buf(), FileKind::of(abs_path), text, catalog)
}

/// Parses a post from text (already free of a BOM).
pub fn parse_text(
    path: String,
    abs_path: PathBuf,
    kind: FileKind,
    text: &str,
    catalog: &Catalog,
) -> Result<Post, Diagnostic> {
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
    let (front, options) = if yaml_text.trim().is_empty() {
        (FrontMatter::default(), catalog.empty(Place::Post))
    } else {
        let seed = catalog.seed::<FrontMatter>(Place::Post, "FrontMatter", FRONT_FIELDS);
        let known = || yaml::KnownKeys { kind: "post", core: FRONT_FIELDS, places: keys::key_places(&schema(catalog)) };
        yaml::parse_seed(yaml_text, &source, Embedded { offset: yaml_range.start }, seed, &known)?
    };
    let mut post = Post {
        path,
        abs_path,
        kind,
        source: source.clone(),
        front,
        options,
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
    use crate::keys::{Declared, Section};

    keys::spanned_keys! {
        /// A platform's mapping as the tests declare one (the real ones live in their folders).
        #[derive(Default)]
        struct DemoOptions: Options(text) {
            text: Option<Spanned<String>>,
            split: Option<Spanned<SplitMode>>,
            count: Option<Spanned<u64>>,
        }
    }

    fn catalog() -> Catalog {
        let demo = Declared { name: "demo", post: Some(Section::of::<DemoOptions>()), config: None };
        let bare = Declared { name: "bare", post: None, config: None };
        Catalog::new(vec![demo, bare])
    }

    fn parse(name: &str, text: &str) -> Result<Post, Diagnostic> {
        parse_text(format!("content/{name}"), PathBuf::from(name), FileKind::of(Path::new(name)), text, &catalog())
    }

    #[test]
    fn markdown_post_with_every_key() {
        let text = "---\n# a comment\ntitle: Hello\nplatforms: [demo, bare]\ndraft: false\npublish_at: 2026-01-01T10:00:00Z\ntags: [rust, cli]\ntemplate: announce\nvars: {a: 1}\nmedia:\n  - path: media/a.png\n    alt: An image\n  - url: https://example.com/b.jpg\nthread:\n  - first\n  - text: second\n    media:\n      - path: media/c.png\ndemo:\n  text: Hi\n  split: auto\n  count: 42\n\n\n\n\n\n\n---\nBody text\n";
        let post = parse("hello.md", text).expect("valid");
        let f = &post.front;
        assert_eq!(f.title.as_ref().map(|t| t.value.as_str()), Some("Hello"));
        assert_eq!(f.platforms.as_ref().map(|p| p.value.len()), Some(2));
        assert_eq!(f.media.as_ref().map(|m| m.value.len()), Some(2));
        let thread = &f.thread.as_ref().expect("thread").value;
        assert_eq!(thread[0].value.text.as_deref(), Some("first"));
        assert_eq!(thread[1].value.text.as_deref(), Some("second"));
        assert_eq!(thread[1].value.media.len(), 1);
        let demo = &post.options.get::<DemoOptions>().expect("demo").value;
        assert_eq!(demo.split.as_ref().map(|s| s.value), Some(SplitMode::Auto));
        let count = demo.count.as_ref().expect("count");
        assert_eq!(count.value, 42);
        // A platform's value keeps its position: line 22, column 10.
        assert_eq!(post.source.line_col(post.span_of(&count.referenced).start), (22, 10));
        assert!(post.options.any_text());
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
        let text = "title: x\ntext: |\n  first line\n  second line\nplatforms: [demo]\n";
        let post = parse("p.yaml", text).expect("valid");
        assert_eq!(post.body, "first line\nsecond line\n");
        let at = post.body_offset(post.body.find("second").expect("found"));
        assert_eq!(post.source.line_col(at), (4, 3));
    }

    #[test]
    fn problems_are_diagnostics_with_positions() {
        let cases: &[(&str, &str, &str, usize, usize)] = &[
            ("a.md", "---\ntitel: x\n---\nbody", "unknown-key", 2, 1),
            ("a.md", "---\ndemo:\n  topic: x\n---\nbody", "unknown-key", 3, 3),
            ("a.md", "---\ntitle: x\nbare:\n  text: x\n---\nbody", "unknown-key", 3, 1),
            ("a.md", "---\ndraft: maybe\n---\nbody", "yaml-type", 2, 8),
            ("a.md", "---\ntitle: 'x\n---\nbody", "yaml-syntax", 2, 8),
            ("a.md", "---\ntitle: x\nbody", "front-matter-unclosed", 1, 1),
            ("a.md", "---\ntext: hi\n---\nbody", "text-in-markdown", 2, 7),
            ("a.md", "  \n\n", "empty-post", 1, 1),
            ("a.yaml", "- a\n- b\n", "yaml-type", 1, 1),
            ("a.yaml", "thread: [{txt: a}]\n", "unknown-key", 1, 11),
            ("a.yaml", "demo:\n  split: sometimes\n", "yaml-type", 2, 10),
            ("a.yaml", "demo:\n  count: many\n", "yaml-type", 2, 10),
            ("a.yaml", "demo:\n  - a\n", "yaml-type", 2, 3),
        ];
        for (name, text, code, line, col) in cases {
            let d = parse(name, text).expect_err(text);
            assert_eq!((d.code, d.line, d.column), (*code, *line, *col), "{text:?}: {d:?}");
        }
    }

    #[test]
    fn unknown_keys_suggest_a_platform_key() {
        let d = parse("a.md", "---\ndemo:\n  coutn: 1\n---\nbody").expect_err("typo");
        assert_eq!(d.hint.as_deref(), Some("did you mean `count`?"), "{d:?}");
        let d = parse("a.md", "---\ndemoo:\n  count: 1\n---\nbody").expect_err("typo");
        assert_eq!(d.hint.as_deref(), Some("did you mean `demo`?"), "{d:?}");
    }

    #[test]
    fn templates_see_every_declared_mapping() {
        let post = parse("a.md", "---\ndemo:\n  count: 3\n---\nbody").expect("valid");
        let json = serde_json::to_value(&post.options).expect("serializes");
        assert_eq!(json, serde_json::json!({"demo": {"text": null, "split": null, "count": 3}}));
        // An empty mapping (only comments) is as if absent.
        let post = parse("b.md", "---\ndemo:\n  # nothing yet\n---\nbody").expect("valid");
        assert!(post.options.get::<DemoOptions>().is_none());
        assert!(!post.options.any_text());
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
