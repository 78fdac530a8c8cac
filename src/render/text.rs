//! Markdown → plain text for Threads, splitting into chain parts, and
//! plain-text helpers (URL and hashtag detection, length splitting), plus the
//! dev.to image-path rewriter.
//!
//! Conversion rules (Threads shows plain text, so Markdown syntax must go):
//!
//! - Emphasis, strong, strikethrough and heading markers are removed.
//! - `[label](url)` becomes `label (url)`, or just `url` when the label equals
//!   the URL (so `<https://x>` gives `https://x`); email autolinks give the
//!   address; a link whose label is empty (e.g. only an image) gives the URL.
//! - Inline code loses its backticks; code blocks keep their content verbatim
//!   (fences and indentation markers removed).
//! - Headings, paragraphs, lists, code blocks, HTML blocks and blockquotes are
//!   separated by one blank line. Blockquote markers are removed and the quoted
//!   blocks are kept as ordinary paragraphs.
//! - List items are one per line with no blank line between them, whether the
//!   list is tight or loose. Bullets (`-`, `*`, `+`) become `- `; ordered items
//!   keep their number, counting from the list's start number. Nested lists are
//!   indented two spaces per level. Further lines of an item (a soft break, a
//!   second paragraph, code) are indented to the item's text column.
//! - Soft and hard line breaks both become `\n`: posts are written line by line.
//! - HTML entities are decoded; nothing is ever escaped. Raw HTML (blocks and
//!   inline) is kept verbatim.
//! - Images are left out of the text; their source ranges are reported so the
//!   caller can warn that inline images do not show on Threads. When an image
//!   sat between two spaces, one of them is dropped.
//! - Every line loses its trailing whitespace, the whole text is trimmed, and
//!   `\r` is never emitted (CRLF input is fine).
//!
//! - `||hidden words||` marks a spoiler (the Discord spelling): the markers
//!   are removed, and the words stay as plain text. Threads alone keeps them
//!   as private-use marks ([`markdown_to_parts_marked`]) to turn them into
//!   SPOILER entities after templating ([`take_spoilers`]). A pair must sit in
//!   one paragraph and enclose something other than whitespace; an unpaired
//!   `||`, one in code, or an escaped `\|\|` stays as written.
//!
//! Chain parts are separated by thematic breaks (`Event::Rule`, i.e. `---`,
//! `***`, `___` on their own); a `---` directly under a line of text is a
//! setext heading underline, not a separator. A part whose text is empty is
//! dropped, and its images are reported on the next kept part (or the
//! previous one if none follows) so no warning is lost. If every part is empty
//! but the input is not blank (e.g. only an image), one part with empty text
//! covering the whole input is returned, so the caller can report it.

use std::ops::Range;

use pulldown_cmark::{Event, LinkType, Options, Parser, Tag, TagEnd};
use unicode_segmentation::UnicodeSegmentation;
use url::Url;

/// One part of a Threads chain converted to plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextPart {
    pub text: String,
    /// Byte range in the Markdown input that this part came from (for diagnostics).
    pub source: Range<usize>,
    /// Byte ranges (in the Markdown input) of inline images left out of the text.
    pub images: Vec<Range<usize>>,
}

/// The one set of parser options used for posts: strikethrough only, and
/// nothing that changes characters (no smart punctuation, no tables).
pub fn markdown_options() -> Options {
    Options::ENABLE_STRIKETHROUGH
}

/// How `[label](url)` links are written into the plain text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LinkStyle {
    /// `label (url)`, or just `url` (Threads and Mastodon show plain text).
    #[default]
    Inline,
    /// `LINK_START label LINK_URL url LINK_END`: the label stays in the text and
    /// the URL rides along inside private-use markers, so a rich-text platform
    /// can turn it into a link facet after templating ([`take_marked_links`]).
    /// Autolinks and links labelled with their own URL are marked too.
    Marked,
}

/// Markers of [`LinkStyle::Marked`] (Unicode private-use characters, which
/// are neither whitespace nor punctuation, so trimming never moves them).
pub const LINK_START: char = '\u{E000}';
pub const LINK_URL: char = '\u{E001}';
pub const LINK_END: char = '\u{E002}';

/// Converts Markdown and splits it into chain parts at thematic breaks. Empty
/// parts (a break at the start or end, two breaks in a row) are dropped. Never
/// returns an empty Vec for non-blank input; for blank input returns an empty Vec.
pub fn markdown_to_parts(markdown: &str) -> Vec<TextPart> {
    markdown_to_parts_with(markdown, LinkStyle::Inline, None)
}

/// [`markdown_to_parts`] with a choice of link style, and relative links made absolute
/// against `site` (`site.base_url`), or left as their label without one.
pub fn markdown_to_parts_with(markdown: &str, links: LinkStyle, site: Option<&Url>) -> Vec<TextPart> {
    parts(markdown, links, false, site, false)
}

/// [`markdown_to_parts_with`] with the `#` and `@` of code shielded (see [`CODE_HASH`]),
/// for a platform that finds tags or mentions in the text.
pub fn markdown_to_parts_shielded(markdown: &str, links: LinkStyle, site: Option<&Url>) -> Vec<TextPart> {
    parts(markdown, links, false, site, true)
}

/// [`markdown_to_parts`] keeping each spoiler's bounds as [`SPOILER_OPEN`] and
/// [`SPOILER_CLOSE`] (for Threads, which reads them with [`take_spoilers`]).
pub fn markdown_to_parts_marked(markdown: &str, site: Option<&Url>) -> Vec<TextPart> {
    parts(markdown, LinkStyle::Inline, true, site, false)
}

fn parts(markdown: &str, links: LinkStyle, keep_spoilers: bool, site: Option<&Url>, shield: bool) -> Vec<TextPart> {
    if markdown.trim().is_empty() {
        return Vec::new();
    }
    let raw = Converter::new(markdown, true, links, keep_spoilers, site).shielding(shield).run();
    let mut kept: Vec<TextPart> = Vec::new();
    // Images of dropped parts wait here for the next kept part.
    let mut orphans: Vec<Range<usize>> = Vec::new();
    for mut part in raw {
        if part.text.is_empty() {
            orphans.append(&mut part.images);
            continue;
        }
        if !orphans.is_empty() {
            orphans.append(&mut part.images);
            part.images = std::mem::take(&mut orphans);
        }
        kept.push(part);
    }
    match kept.last_mut() {
        Some(last) => last.images.append(&mut orphans),
        None => {
            let start = markdown.len() - markdown.trim_start().len();
            kept.push(TextPart { text: String::new(), source: start..markdown.trim_end().len(), images: orphans });
        }
    }
    kept
}

/// Converts without splitting: a thematic break becomes a paragraph separator.
pub fn markdown_to_text(markdown: &str) -> String {
    markdown_to_text_with(markdown, LinkStyle::Inline, None)
}

/// [`markdown_to_text`] with a choice of link style and site (see [`markdown_to_parts_with`]).
pub fn markdown_to_text_with(markdown: &str, links: LinkStyle, site: Option<&Url>) -> String {
    Converter::new(markdown, false, links, false, site)
        .run()
        .into_iter()
        .next()
        .map(|part| part.text)
        .unwrap_or_default()
}

/// [`markdown_to_text_with`] with the `#` and `@` of code shielded (see [`CODE_HASH`]).
pub fn markdown_to_text_shielded(markdown: &str, links: LinkStyle, site: Option<&Url>) -> String {
    Converter::new(markdown, false, links, false, site)
        .shielding(true)
        .run()
        .into_iter()
        .next()
        .map(|part| part.text)
        .unwrap_or_default()
}

/// Removes the markers of [`LinkStyle::Marked`] from `text`, returning the plain
/// text and, for every marked link, the byte range of its label in that text
/// (surrounding whitespace excluded) and its URL. A marker that is not part of a
/// complete `START label URL url END` sequence (a template cut it) is dropped.
pub fn take_marked_links(text: &str) -> (String, Vec<(Range<usize>, String)>) {
    let mut out = String::with_capacity(text.len());
    let mut links = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find([LINK_START, LINK_URL, LINK_END]) {
        out.push_str(&rest[..i]);
        let marker = rest[i..].chars().next().unwrap_or(LINK_END);
        let after = &rest[i + marker.len_utf8()..];
        rest = after;
        if marker != LINK_START {
            continue;
        }
        // A complete link: no other START before its URL marker and END.
        let Some(sep) = after.find([LINK_START, LINK_URL, LINK_END]) else { continue };
        if !after[sep..].starts_with(LINK_URL) {
            continue;
        }
        let url_from = sep + LINK_URL.len_utf8();
        let Some(end) = after[url_from..].find([LINK_START, LINK_URL, LINK_END]) else { continue };
        if !after[url_from + end..].starts_with(LINK_END) {
            continue;
        }
        let label = &after[..sep];
        let url = after[url_from..url_from + end].trim();
        let lead = label.len() - label.trim_start().len();
        let start = out.len() + lead;
        out.push_str(label);
        let stop = start + label.trim().len();
        if stop > start && !url.is_empty() {
            links.push((start..stop, url.to_owned()));
        }
        rest = &after[url_from + end + LINK_END.len_utf8()..];
    }
    out.push_str(rest);
    (out, links)
}

/// [`markdown_to_text`] keeping spoiler marks (see [`markdown_to_parts_marked`]).
pub fn markdown_to_text_marked(markdown: &str, site: Option<&Url>) -> String {
    Converter::new(markdown, false, LinkStyle::Inline, true, site)
        .run()
        .into_iter()
        .next()
        .map(|part| part.text)
        .unwrap_or_default()
}

/// In text converted with code shielded ([`markdown_to_text_shielded`],
/// [`markdown_to_parts_shielded`]), what stands for a `#` in code; [`CODE_AT`] for an `@`.
/// Tags and mentions are found in shielded text, so code (`make #all`) never becomes
/// one; [`unshield`] then gives the text to send. Each is one byte and one UTF-16 unit,
/// like the character it stands for, so a range found in shielded text holds in the
/// unshielded one. Control characters: a post's own are dropped where code is shielded.
pub const CODE_HASH: char = '\u{1}';
pub const CODE_AT: char = '\u{2}';

/// Shielded text as it is sent: `#` and `@` back in its code.
pub fn unshield(text: &str) -> String {
    text.replace(CODE_HASH, "#").replace(CODE_AT, "@")
}

/// Code with its `#` and `@` shielded (and the post's own shield characters dropped).
fn shield(code: &str) -> String {
    code.chars()
        .filter(|c| !matches!(*c, CODE_HASH | CODE_AT))
        .map(|c| match c {
            '#' => CODE_HASH,
            '@' => CODE_AT,
            c => c,
        })
        .collect()
}

/// Where a spoiler starts and ends in marked text. Private-use characters: they
/// never come from a post (they are removed from its text), survive templating
/// untouched, and are removed by [`take_spoilers`] or [`strip_spoilers`].
pub const SPOILER_OPEN: char = '\u{E010}';
pub const SPOILER_CLOSE: char = '\u{E011}';
/// A `||` seen by the converter, not yet known to be paired.
const SPOILER_RAW: char = '\u{E012}';

fn is_mark(c: char) -> bool {
    matches!(c, SPOILER_OPEN | SPOILER_CLOSE | SPOILER_RAW)
}

/// Removes the spoiler marks: the words stay.
pub fn strip_spoilers(text: &str) -> String {
    text.chars().filter(|c| !is_mark(*c)).collect()
}

/// Removes the spoiler marks and returns the text with the byte ranges of its
/// spoilers. Text cut from a longer marked text may hold half a pair: an open
/// mark without its close runs to the end, a close without its open starts at
/// the beginning. Empty and whitespace-only spoilers are dropped.
pub fn take_spoilers(text: &str) -> (String, Vec<Range<usize>>) {
    let mut out = String::with_capacity(text.len());
    let mut ranges = Vec::new();
    let mut open: Option<usize> = None;
    for c in text.chars() {
        match c {
            SPOILER_OPEN => open = Some(open.unwrap_or(out.len())),
            SPOILER_CLOSE => {
                ranges.push(open.take().unwrap_or(0)..out.len());
            }
            SPOILER_RAW => {}
            c => out.push(c),
        }
    }
    if let Some(start) = open {
        ranges.push(start..out.len());
    }
    // Spoiler bounds exclude surrounding whitespace (a cut may have trimmed it).
    let ranges = ranges
        .into_iter()
        .filter_map(|r| {
            let inner = &out[r.clone()];
            let start = r.start + (inner.len() - inner.trim_start().len());
            let end = r.start + inner.trim_end().len();
            (start < end).then_some(start..end)
        })
        .collect();
    (out, ranges)
}

/// The Markdown with the `||` of its spoilers removed, for platforms that get
/// Markdown (dev.to has no inline spoiler): the same pairs as the conversion to
/// text finds (prose only, within one paragraph, around more than whitespace).
pub fn strip_spoiler_markers(markdown: &str) -> String {
    // Byte offsets of every `||` written literally in prose, by block.
    let mut blocks: Vec<Vec<usize>> = vec![Vec::new()];
    let mut code = 0usize;
    for (event, range) in Parser::new_ext(markdown, markdown_options()).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(_) | Tag::HtmlBlock) => code += 1,
            Event::End(TagEnd::CodeBlock | TagEnd::HtmlBlock) => code = code.saturating_sub(1),
            Event::Start(Tag::Paragraph | Tag::Heading { .. } | Tag::Item)
            | Event::End(TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item) => blocks.push(Vec::new()),
            // Only text written as is: an escaped `\|` or an entity is not a marker.
            Event::Text(t) if code == 0 && markdown.get(range.clone()) == Some(&*t) => {
                let block = blocks.last_mut().expect("one block at least");
                block.extend(t.match_indices("||").map(|(i, _)| range.start + i));
            }
            _ => {}
        }
    }
    let mut cut: Vec<usize> = Vec::new();
    for marks in blocks {
        let mut k = 0;
        while k + 1 < marks.len() {
            if markdown[marks[k] + 2..marks[k + 1]].trim().is_empty() {
                k += 1;
                continue;
            }
            cut.extend([marks[k], marks[k + 1]]);
            k += 2;
        }
    }
    cut.sort_unstable();
    let mut out = String::with_capacity(markdown.len());
    let mut at = 0;
    for c in cut {
        out.push_str(&markdown[at..c]);
        at = c + 2;
    }
    out.push_str(&markdown[at..]);
    out
}

/// Pairs the raw `||` marks of converted text within each paragraph: pairs
/// become open/close marks (or nothing, unless `keep`), the rest `||` again.
fn pair_spoilers(text: &str, keep: bool) -> String {
    if !text.contains(SPOILER_RAW) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    for (i, para) in text.split("\n\n").enumerate() {
        if i > 0 {
            out.push_str("\n\n");
        }
        let marks: Vec<usize> = para.match_indices(SPOILER_RAW).map(|(at, _)| at).collect();
        let mut paired = vec![false; marks.len()];
        let mut k = 0;
        while k + 1 < marks.len() {
            let inner = &para[marks[k] + SPOILER_RAW.len_utf8()..marks[k + 1]];
            if inner.trim().is_empty() {
                // `|| ||` hides nothing: the first stays as written, the second may open.
                k += 1;
                continue;
            }
            paired[k] = true;
            paired[k + 1] = true;
            k += 2;
        }
        let mut n = 0;
        for c in para.chars() {
            if c == SPOILER_RAW {
                if !paired[n] {
                    out.push_str("||");
                } else if keep {
                    out.push(if opens(&paired, n) { SPOILER_OPEN } else { SPOILER_CLOSE });
                }
                n += 1;
            } else {
                out.push(c);
            }
        }
    }
    out
}

/// Whether the `n`th paired mark opens its pair (counting paired marks only).
fn opens(paired: &[bool], n: usize) -> bool {
    paired[..n].iter().filter(|p| **p).count() % 2 == 0
}

/// What must be written before the next piece of text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Sep {
    None,
    Line,
    Blank,
}

struct OpenLink {
    label_start: usize,
    dest: String,
    link_type: LinkType,
}

struct Converter<'a> {
    input: &'a str,
    split: bool,
    link_style: LinkStyle,
    /// `site.base_url`: what relative links are resolved against.
    site: Option<&'a Url>,
    /// Keep spoiler marks (Threads) instead of removing them.
    keep_spoilers: bool,
    /// Shield the `#` and `@` of code ([`CODE_HASH`]).
    shield_code: bool,
    parts: Vec<TextPart>,
    out: String,
    pending: Sep,
    /// Next number of each open list (`None` for bullet lists).
    lists: Vec<Option<u64>>,
    /// Text column of each open list item, for continuation lines.
    items: Vec<usize>,
    links: Vec<OpenLink>,
    image_depth: usize,
    after_image: bool,
    /// Content of the open code or HTML block, written at its end.
    verbatim: Option<String>,
    images: Vec<Range<usize>>,
    /// Where the current part may start and its events' extent.
    part_floor: usize,
    span: Option<Range<usize>>,
}

impl<'a> Converter<'a> {
    fn new(input: &'a str, split: bool, link_style: LinkStyle, keep_spoilers: bool, site: Option<&'a Url>) -> Self {
        Converter {
            input,
            split,
            link_style,
            site,
            keep_spoilers,
            shield_code: false,
            parts: Vec::new(),
            out: String::new(),
            pending: Sep::None,
            lists: Vec::new(),
            items: Vec::new(),
            links: Vec::new(),
            image_depth: 0,
            after_image: false,
            verbatim: None,
            images: Vec::new(),
            part_floor: 0,
            span: None,
        }
    }

    fn shielding(mut self, on: bool) -> Self {
        self.shield_code = on;
        self
    }

    /// Returns every part, including empty ones (one part when not splitting).
    fn run(mut self) -> Vec<TextPart> {
        let input = self.input;
        for (event, range) in Parser::new_ext(input, markdown_options()).into_offset_iter() {
            if matches!(event, Event::Rule) && self.split {
                self.finish_part(range.start);
                self.part_floor = range.end;
                continue;
            }
            self.span = Some(match self.span.take() {
                Some(span) => span.start.min(range.start)..span.end.max(range.end),
                None => range.clone(),
            });
            self.event(event, range);
        }
        self.finish_part(input.len());
        self.parts
    }

    fn finish_part(&mut self, ceiling: usize) {
        // Containers that straddle a break would otherwise overlap parts.
        let source = match self.span.take() {
            Some(span) => span.start.max(self.part_floor)..span.end.min(ceiling),
            None => self.part_floor..self.part_floor,
        };
        let source = source.start..source.end.max(source.start);
        let text = pair_spoilers(&normalize(&self.out), self.keep_spoilers);
        self.parts.push(TextPart { text, source, images: std::mem::take(&mut self.images) });
        self.out.clear();
        self.pending = Sep::None;
        self.after_image = false;
    }

    fn event(&mut self, event: Event<'_>, range: Range<usize>) {
        match event {
            Event::Start(tag) => self.start(tag, range),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => match &mut self.verbatim {
                Some(buf) => buf.push_str(&text),
                // Only prose can hold spoiler markers (not code, not HTML, not an escaped `\|`).
                None => {
                    let shielding = self.shield_code;
                    let shield_char = |c: char| shielding && matches!(c, CODE_HASH | CODE_AT);
                    let text: String = text.chars().filter(|c| !is_mark(*c) && !shield_char(*c)).collect();
                    self.write(&text.replace("||", &SPOILER_RAW.to_string()));
                }
            },
            Event::Html(html) => match &mut self.verbatim {
                Some(buf) => buf.push_str(&html),
                None => self.write(&html),
            },
            Event::Code(text) if self.shield_code => self.write(&shield(&text)),
            Event::Code(text) | Event::InlineHtml(text) => self.write(&text),
            Event::SoftBreak | Event::HardBreak if self.image_depth == 0 => {
                self.request(Sep::Line);
            }
            Event::Rule => self.end_block(),
            // Footnotes, task lists and math are not enabled.
            _ => {}
        }
    }

    fn start(&mut self, tag: Tag<'_>, range: Range<usize>) {
        match tag {
            Tag::CodeBlock(_) | Tag::HtmlBlock => self.verbatim = Some(String::new()),
            Tag::List(start) => self.lists.push(start),
            Tag::Item => {
                self.request(Sep::Line);
                self.flush(true);
                let depth = self.lists.len().max(1);
                let marker = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        let marker = format!("{n}. ");
                        *n += 1;
                        marker
                    }
                    _ => "- ".to_owned(),
                };
                let indent = 2 * (depth - 1);
                self.out.push_str(&" ".repeat(indent));
                self.out.push_str(&marker);
                self.items.push(indent + marker.len());
            }
            Tag::Link { link_type, dest_url, .. } if self.image_depth == 0 => {
                self.flush(false);
                self.links.push(OpenLink { label_start: self.out.len(), dest: dest_url.into_string(), link_type });
            }
            Tag::Image { .. } => {
                if self.image_depth == 0 {
                    self.images.push(range);
                }
                self.image_depth += 1;
            }
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::BlockQuote(_) | TagEnd::DefinitionList => self.end_block(),
            TagEnd::CodeBlock | TagEnd::HtmlBlock => {
                let mut block = self.verbatim.take().unwrap_or_default();
                if self.shield_code && tag == TagEnd::CodeBlock {
                    block = shield(&block);
                }
                let block = block.replace("\r\n", "\n").replace('\r', "\n");
                self.write_lines(block.trim_end_matches('\n'));
                self.end_block();
            }
            TagEnd::List(_) => {
                self.lists.pop();
                self.end_block();
            }
            TagEnd::Item => {
                self.items.pop();
                self.request(Sep::Line);
            }
            TagEnd::Link if self.image_depth == 0 => {
                if let Some(link) = self.links.pop() {
                    self.close_link(link);
                }
            }
            TagEnd::Image => {
                self.image_depth = self.image_depth.saturating_sub(1);
                self.after_image = self.image_depth == 0;
            }
            _ => {}
        }
    }

    fn close_link(&mut self, mut link: OpenLink) {
        match resolve_link(&link.dest, self.site) {
            _ if link.link_type == LinkType::Email => {}
            Some(dest) => link.dest = dest,
            // A relative link without a site to resolve it against: its label, as plain text.
            None => return,
        }
        let label = self.out[link.label_start..].trim();
        let same = label.is_empty() || label == link.dest || link.dest.strip_prefix("mailto:") == Some(label);
        if self.link_style == LinkStyle::Marked && link.link_type != LinkType::Email {
            if same {
                self.out.truncate(link.label_start);
                self.out.push_str(&link.dest);
            }
            self.out.insert(link.label_start, LINK_START);
            self.out.push(LINK_URL);
            self.out.push_str(&link.dest);
            self.out.push(LINK_END);
        } else if matches!(link.link_type, LinkType::Email | LinkType::Autolink) {
            // The label already is the address.
        } else if same {
            self.out.truncate(link.label_start);
            self.out.push_str(&link.dest);
        } else {
            self.out.push_str(" (");
            self.out.push_str(&link.dest);
            self.out.push(')');
        }
    }

    /// A block ended: inside a list item the next block only needs a new line.
    fn end_block(&mut self) {
        let sep = if self.items.is_empty() { Sep::Blank } else { Sep::Line };
        self.request(sep);
    }

    fn request(&mut self, sep: Sep) {
        self.pending = self.pending.max(sep);
    }

    /// Writes the pending separator; `for_marker` skips the continuation
    /// indent because a list marker brings its own.
    fn flush(&mut self, for_marker: bool) {
        if self.pending != Sep::None && !self.out.is_empty() {
            self.out.push_str(if self.pending == Sep::Blank { "\n\n" } else { "\n" });
            if !for_marker && let Some(&indent) = self.items.last() {
                self.out.push_str(&" ".repeat(indent));
            }
            self.after_image = false;
        }
        self.pending = Sep::None;
    }

    fn write(&mut self, text: &str) {
        if self.image_depth > 0 || text.is_empty() {
            return;
        }
        self.flush(false);
        let mut text = text;
        if self.after_image && self.out.ends_with(' ') {
            // `a ![img](x) b` should read `a b`, not `a  b`.
            text = text.strip_prefix(' ').unwrap_or(text);
        }
        self.after_image = false;
        self.out.push_str(text);
    }

    /// Writes a verbatim block, indenting its lines when inside a list item.
    fn write_lines(&mut self, block: &str) {
        if block.trim().is_empty() {
            return;
        }
        self.flush(false);
        let indent = " ".repeat(self.items.last().copied().unwrap_or(0));
        for (i, line) in block.split('\n').enumerate() {
            if i > 0 {
                self.out.push('\n');
                self.out.push_str(&indent);
            }
            self.out.push_str(line);
        }
    }
}

/// Trims every line's trailing whitespace (which also drops `\r`) and the whole text.
/// A `\r` left inside a line (only from an entity such as `&#13;`) becomes a
/// line break, as in code blocks, so `\r` is never emitted.
fn normalize(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = text.split('\n').map(str::trim_end).collect();
    lines.join("\n").trim().to_owned()
}

/// Splits plain text into parts of at most `max_bytes` UTF-8 bytes, without
/// losing or reordering a word: first at paragraph boundaries (blank lines;
/// greedily pack as many whole paragraphs as fit, joined by "\n\n"), then a
/// paragraph that is still too long at sentence boundaries (after `.`, `!`,
/// `?`, `…` followed by whitespace), then at whitespace (word boundaries), and
/// only a single word longer than max_bytes is cut, at grapheme boundaries.
/// Whitespace at the cut points is trimmed; text inside a part keeps its own
/// line breaks. If the text already fits it is returned as one part.
///
/// The pieces of a split paragraph are not packed together with the
/// paragraphs around it. A single grapheme larger than `max_bytes` (only
/// possible with a tiny limit) becomes a part of its own, so the function
/// always makes progress.
pub fn split_auto(text: &str, max_bytes: usize) -> Vec<String> {
    if text.len() <= max_bytes {
        return vec![text.to_owned()];
    }
    let mut parts = Vec::new();
    let mut current = String::new();
    for para in paragraphs(text) {
        if !current.is_empty() && current.len() + 2 + para.len() <= max_bytes {
            current.push_str("\n\n");
            current.push_str(para);
            continue;
        }
        if !current.is_empty() {
            parts.push(std::mem::take(&mut current));
        }
        let para = para.trim_start();
        if para.len() <= max_bytes {
            current.push_str(para);
        } else {
            split_paragraph(para, max_bytes, &mut parts);
        }
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
}

/// [`split_auto`] for a platform that counts its own way (`count`): parts that each count
/// at most `room`, as few as the splitter can make. The splitter measures bytes, so the
/// largest byte budget whose pieces all fit is searched for: shrinking by `step` while a
/// piece counts more than its bytes (Mastodon's fixed-length URLs), then growing while
/// they fit (a multi-byte script counts fewer characters than bytes).
pub fn split_counted(text: &str, room: usize, step: usize, count: impl Fn(&str) -> usize) -> Vec<String> {
    let room = room.max(1);
    let fits = |pieces: &[String]| pieces.iter().all(|p| count(p) <= room);
    if count(text) <= room {
        return vec![text.to_owned()];
    }
    let mut low = room;
    let mut pieces = split_auto(text, low);
    while !fits(&pieces) && low > 1 {
        low = low.saturating_sub(step.max(1)).max(1);
        pieces = split_auto(text, low);
    }
    // Every character is at most 4 bytes.
    let mut high = text.len().min(room.saturating_mul(4)).max(low);
    while high > low + 1 {
        let mid = low + (high - low) / 2;
        let candidate = split_auto(text, mid);
        if fits(&candidate) {
            low = mid;
            if candidate.len() <= pieces.len() {
                pieces = candidate;
            }
        } else {
            high = mid;
        }
    }
    pieces
}

/// Paragraphs (runs of non-blank lines), each without trailing whitespace.
fn paragraphs(text: &str) -> Vec<&str> {
    let mut result = Vec::new();
    let mut start: Option<usize> = None;
    let mut end = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim().is_empty() {
            if let Some(s) = start.take() {
                result.push(text[s..end].trim_end());
            }
        } else {
            start.get_or_insert(offset);
            end = offset + line.len();
        }
        offset += line.len();
    }
    if let Some(s) = start {
        result.push(text[s..end].trim_end());
    }
    result
}

fn split_paragraph(para: &str, max: usize, parts: &mut Vec<String>) {
    let mut rest = para.trim();
    while !rest.is_empty() {
        if rest.len() <= max {
            parts.push(rest.to_owned());
            break;
        }
        let cut = sentence_cut(rest, max).or_else(|| space_cut(rest, max)).unwrap_or_else(|| grapheme_cut(rest, max));
        parts.push(rest[..cut].trim_end().to_owned());
        rest = rest[cut..].trim_start();
    }
}

/// The furthest end of a sentence within `max` bytes: a terminator (and any
/// closing quotes or brackets after it) followed by whitespace.
fn sentence_cut(text: &str, max: usize) -> Option<usize> {
    let mut best = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if i >= max {
            break;
        }
        if !matches!(c, '.' | '!' | '?' | '…') {
            continue;
        }
        let mut end = i + c.len_utf8();
        while let Some(&(j, next)) = chars.peek() {
            if matches!(next, '"' | '\'' | '”' | '’' | ')' | ']' | '»') {
                end = j + next.len_utf8();
                chars.next();
            } else {
                break;
            }
        }
        let followed_by_space = text[end..].chars().next().is_some_and(char::is_whitespace);
        if followed_by_space && end <= max {
            best = Some(end);
        }
    }
    best
}

/// The last whitespace within `max` bytes that has a word before it.
fn space_cut(text: &str, max: usize) -> Option<usize> {
    text.char_indices()
        .take_while(|&(i, _)| i <= max)
        .filter(|&(i, c)| i > 0 && c.is_whitespace())
        .map(|(i, _)| i)
        .last()
}

/// The furthest grapheme boundary within `max` bytes (at least one grapheme).
fn grapheme_cut(text: &str, max: usize) -> usize {
    let mut cut = 0;
    for (i, g) in text.grapheme_indices(true) {
        let end = i + g.len();
        if end > max {
            if cut == 0 {
                cut = end;
            }
            break;
        }
        cut = end;
    }
    cut
}

/// Byte ranges of http:// and https:// URLs in plain text (up to whitespace;
/// trailing `.,;:!?'"` and an unbalanced trailing `)` are not part of the URL;
/// also `<`/`>` end a URL). The scheme is matched case-insensitively and must
/// not be glued to a preceding letter or digit (`xhttps://` is not a URL).
pub fn find_urls(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut urls = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        // Both schemes start with `h`: jump to the next candidate.
        match bytes[i..].iter().position(|b| b.eq_ignore_ascii_case(&b'h')) {
            Some(n) => i += n,
            None => break,
        }
        let scheme_len = if starts_with_ignore_case(&bytes[i..], b"https://") {
            8
        } else if starts_with_ignore_case(&bytes[i..], b"http://") {
            7
        } else {
            0
        };
        // The scheme is ASCII, so `i` is a char boundary whenever it matched.
        let glued = scheme_len > 0 && text[..i].chars().next_back().is_some_and(char::is_alphanumeric);
        if scheme_len == 0 || glued {
            i += 1;
            continue;
        }
        let body = i + scheme_len;
        let end =
            text[body..].find(|c: char| c.is_whitespace() || c == '<' || c == '>').map_or(text.len(), |n| body + n);
        let end = link_end(text, i, body, end);
        if end > body {
            urls.push(i..end);
            i = end;
        } else {
            i = body;
        }
    }
    urls
}

/// Where a link written in `text[start..end]` ends: trailing punctuation (`.,;:!?'"`) and
/// an unbalanced `)` belong to the sentence around it; never before `floor`.
pub fn link_end(text: &str, start: usize, floor: usize, mut end: usize) -> usize {
    while end > floor {
        let link = &text[start..end];
        let Some(last) = link.chars().next_back() else { break };
        let unbalanced = last == ')' && link.matches('(').count() < link.matches(')').count();
        if ".,;:!?'\"".contains(last) || unbalanced {
            end -= last.len_utf8();
        } else {
            break;
        }
    }
    end
}

fn starts_with_ignore_case(haystack: &[u8], prefix: &[u8]) -> bool {
    haystack.len() >= prefix.len() && haystack[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// Byte ranges of hashtags in plain text (including the `#`): `#` at the start
/// or after whitespace or `(`, followed by one or more Unicode alphanumerics or
/// `_`; ends at the first other char; a tag of only digits (`#1`) is not a
/// hashtag. Combining marks stay with their base letter (the tag is measured
/// in graphemes), so `#cafe` + U+0301 is one tag.
pub fn find_hashtags(text: &str) -> Vec<Range<usize>> {
    let mut tags = Vec::new();
    let mut from = 0;
    while let Some(n) = text[from..].find('#') {
        let i = from + n;
        from = i + 1;
        let at_boundary = text[..i].chars().next_back().is_none_or(|p| p.is_whitespace() || p == '(');
        if !at_boundary {
            continue;
        }
        let body = i + 1;
        let mut end = body;
        for g in text[body..].graphemes(true) {
            let first = g.chars().next().unwrap_or(' ');
            if first.is_alphanumeric() || first == '_' {
                end += g.len();
            } else {
                break;
            }
        }
        if end > body && !text[body..end].chars().all(char::is_numeric) {
            tags.push(i..end);
            from = end;
        }
    }
    tags
}

/// For dev.to: rewrites the destination of every Markdown image
/// (`![alt](dest)`, `![alt](dest "title")`, and images using reference
/// definitions) whose destination is relative (no URL scheme, not `#...`, not
/// `//host`) using `resolve(dest) -> Option<String>`; `None` leaves it
/// unchanged. Every other byte of the input stays exactly as it was.
///
/// `resolve` receives the destination as parsed (escapes and entities
/// decoded). A replacement that needs it (spaces, `<`, `>`, unbalanced
/// parentheses) is written in the `<...>` form. A reference definition used
/// by an image is rewritten once, which also affects links sharing it.
pub fn rewrite_relative_images(markdown: &str, mut resolve: impl FnMut(&str) -> Option<String>) -> String {
    rewrite(markdown, |image, dest| (image && is_relative(dest)).then(|| resolve(dest)).flatten().map(Rewrite::Dest))
}

/// For Markdown shown where image syntax is not rendered (Discord): every image becomes
/// its URL as a bare link (the client previews it), `resolve` giving the URL of a relative
/// one; an image it gives none for becomes its alt text.
pub fn images_as_urls(markdown: &str, mut resolve: impl FnMut(&str) -> Option<String>) -> String {
    rewrite(markdown, |image, dest| {
        if !image {
            return None;
        }
        let url = if is_relative(dest) { resolve(dest) } else { Some(dest.to_owned()) };
        Some(url.map_or(Rewrite::Label, Rewrite::Whole))
    })
}

/// Rewrites the destination of every image (relative or not) for which `resolve` gives one.
pub fn rewrite_images(markdown: &str, mut resolve: impl FnMut(&str) -> Option<String>) -> String {
    rewrite(markdown, |image, dest| image.then(|| resolve(dest)).flatten().map(Rewrite::Dest))
}

/// For Markdown sent as Markdown (dev.to): every relative link ([`is_relative_link`])
/// made absolute against `site`, or without a site replaced by its label (plain text),
/// as [`markdown_to_parts_with`] does for plain text. Images are left alone.
pub fn rewrite_relative_links(markdown: &str, site: Option<&Url>) -> String {
    rewrite(markdown, |image, dest| {
        (!image && is_relative_link(dest)).then(|| resolve_link(dest, site).map_or(Rewrite::Label, Rewrite::Dest))
    })
}

/// For Markdown shown where reference links are not rendered (Discord): every reference
/// link or image (`[label][ref]`, `[label][]`, `[label]`) written inline
/// (`[label](dest "title")`), and the definitions (`[ref]: dest`) taken out, each with its
/// line. Every other byte stays as it was.
pub fn inline_references(markdown: &str) -> String {
    rewrite_with(markdown, true, |_, _| Some(Rewrite::Inline))
}

/// For Markdown shown where HTML entities are not decoded (Discord): every entity in prose
/// (`&amp;`, `&#42;`) written as the character it stands for, backslash-escaped when
/// Markdown would read it as syntax (`&#42;` gives `\*`, not emphasis). Entities in code
/// (spans and blocks) and in raw HTML are code: they stay as written.
pub fn decode_entities(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut copied = 0;
    let mut code = 0usize;
    for (event, range) in Parser::new_ext(markdown, markdown_options()).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(_)) => code += 1,
            Event::End(TagEnd::CodeBlock) => code = code.saturating_sub(1),
            // The parser gives an entity a text event of its own, spanning its source.
            Event::Text(decoded) if code == 0 && range.start >= copied => {
                let source = &markdown[range.clone()];
                if !(source.starts_with('&') && source.ends_with(';')) || *source == *decoded {
                    continue;
                }
                out.push_str(&markdown[copied..range.start]);
                for c in decoded.chars() {
                    if "\\`*_~|[]()<>#-+!:".contains(c) {
                        out.push('\\');
                    }
                    out.push(c);
                }
                copied = range.end;
            }
            _ => {}
        }
    }
    out.push_str(&markdown[copied..]);
    out
}

/// Every relative link of `markdown` ([`is_relative_link`]): its source range, its
/// destination and its label as plain text.
pub fn relative_links(markdown: &str) -> Vec<(Range<usize>, String, String)> {
    let mut found = Vec::new();
    let mut open: Vec<(Range<usize>, String, String)> = Vec::new();
    for (event, range) in Parser::new_ext(markdown, markdown_options()).into_offset_iter() {
        match event {
            Event::Start(Tag::Link { link_type, dest_url, .. }) => {
                // An email autolink's destination is an address: never relative.
                let dest = if link_type == LinkType::Email { String::new() } else { dest_url.into_string() };
                open.push((range, dest, String::new()));
            }
            Event::End(TagEnd::Link) => {
                if let Some(link) = open.pop().filter(|(_, dest, _)| is_relative_link(dest)) {
                    found.push(link);
                }
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, _, label)) = open.last_mut() {
                    label.push_str(&t);
                }
            }
            _ => {}
        }
    }
    found
}

/// What [`rewrite`] does to one image or link.
enum Rewrite {
    /// Another destination.
    Dest(String),
    /// The label's own source instead of the whole link.
    Label,
    /// This text instead of the whole image or link.
    Whole(String),
    /// A reference link or image written inline (`[label](dest "title")`); others stay.
    Inline,
}

/// Rewrites images and links: `pick(is_image, dest)` says what to do with each.
fn rewrite(markdown: &str, pick: impl FnMut(bool, &str) -> Option<Rewrite>) -> String {
    rewrite_with(markdown, false, pick)
}

/// [`rewrite`], taking out the reference definitions (each with its line, and the blank
/// line after it when one is also before it) when `drop_definitions`.
fn rewrite_with(markdown: &str, drop_definitions: bool, mut pick: impl FnMut(bool, &str) -> Option<Rewrite>) -> String {
    struct Open {
        range: Range<usize>,
        image: bool,
        inline: bool,
        /// `[label][ref]`, `[label][]` or `[label]` (not an autolink).
        reference: bool,
        title: String,
        dest: String,
        id: String,
        inner_start: usize,
        inner_end: usize,
        email: bool,
    }
    let mut iter = Parser::new_ext(markdown, markdown_options()).into_offset_iter();
    let defs: Vec<(String, String, Range<usize>)> = iter
        .reference_definitions()
        .iter()
        .map(|(label, def)| (normalize_label(label), def.dest.to_string(), def.span.clone()))
        .collect();
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    if drop_definitions {
        edits.extend(
            definition_lines(markdown, defs.iter().map(|(_, _, span)| span.clone())).map(|r| (r, String::new())),
        );
    }
    let mut open: Vec<Open> = Vec::new();
    for (event, range) in iter.by_ref() {
        let (image, link_type, dest_url, id, title) = match event {
            Event::Start(Tag::Image { link_type, dest_url, id, title }) => (true, link_type, dest_url, id, title),
            Event::Start(Tag::Link { link_type, dest_url, id, title }) => (false, link_type, dest_url, id, title),
            Event::End(end @ (TagEnd::Image | TagEnd::Link)) => {
                let Some(item) = open.pop() else { continue };
                debug_assert_eq!(item.image, end == TagEnd::Image);
                // The label (alt text) ends where its last event ends.
                let label_end = item.inner_end;
                let target = || {
                    if item.inline {
                        markdown[label_end..item.range.end]
                            .find("](")
                            .map(|n| label_end + n + 2)
                            .and_then(|at| dest_span(markdown, at, item.range.end))
                    } else {
                        let wanted = normalize_label(&item.id);
                        defs.iter()
                            .find(|(label, _, _)| *label == wanted)
                            .or_else(|| defs.iter().find(|(_, dest, _)| *dest == item.dest))
                            .and_then(|(_, _, span)| def_dest_span(markdown, span.clone()))
                    }
                };
                // An email autolink's destination is an address, not a path.
                let picked = if item.email { None } else { pick(item.image, &item.dest) };
                match picked {
                    Some(Rewrite::Dest(new_dest)) => {
                        if let Some(target) = target() {
                            let angle =
                                markdown[..target.start].ends_with('<') && markdown[target.end..].starts_with('>');
                            edits.push((target, format_dest(&new_dest, angle)));
                        }
                    }
                    Some(Rewrite::Label) => {
                        edits.push((item.range.clone(), markdown[item.inner_start..label_end].to_owned()));
                    }
                    Some(Rewrite::Whole(text)) => edits.push((item.range.clone(), text)),
                    Some(Rewrite::Inline) if item.reference => {
                        let bang = if item.image { "!" } else { "" };
                        let label = &markdown[item.inner_start..label_end];
                        let dest = format_dest(&item.dest, false);
                        let title = if item.title.is_empty() {
                            String::new()
                        } else {
                            format!(" \"{}\"", item.title.replace('\\', "\\\\").replace('"', "\\\""))
                        };
                        edits.push((item.range.clone(), format!("{bang}[{label}]({dest}{title})")));
                    }
                    Some(Rewrite::Inline) | None => {}
                }
                for outer in &mut open {
                    outer.inner_end = outer.inner_end.max(range.end);
                }
                continue;
            }
            _ => {
                // Everything nested in an image or link belongs to its label.
                for outer in &mut open {
                    outer.inner_end = outer.inner_end.max(range.end);
                }
                continue;
            }
        };
        let opening = if image { 2 } else { 1 };
        let inner_start = (range.start + opening).min(range.end);
        for outer in &mut open {
            outer.inner_end = outer.inner_end.max(range.end);
        }
        // The parser's range of `[label][]` stops before the `[]`.
        let mut range = range;
        if link_type == LinkType::Collapsed && markdown[range.end..].starts_with("[]") {
            range.end += 2;
        }
        open.push(Open {
            inner_start,
            inner_end: inner_start,
            range,
            image,
            inline: link_type == LinkType::Inline,
            reference: matches!(link_type, LinkType::Reference | LinkType::Collapsed | LinkType::Shortcut),
            title: title.into_string(),
            email: link_type == LinkType::Email,
            dest: dest_url.into_string(),
            id: id.into_string(),
        });
    }
    edits.sort_by_key(|(range, _)| range.start);
    let mut result = String::with_capacity(markdown.len());
    let mut copied = 0;
    for (range, new_dest) in edits {
        if range.start < copied {
            continue; // The same definition used by several images, or a link inside a replaced one.
        }
        result.push_str(&markdown[copied..range.start]);
        result.push_str(&new_dest);
        copied = range.end;
    }
    result.push_str(&markdown[copied..]);
    result
}

/// The lines of the reference definitions at `spans`, a run of them on consecutive lines
/// as one range: from the first line's start through the last one's line break, and the
/// blank line after the run when a blank line (or the start) is before it.
fn definition_lines(markdown: &str, spans: impl Iterator<Item = Range<usize>>) -> impl Iterator<Item = Range<usize>> {
    let line_end = |at: usize| markdown[at..].find('\n').map_or(markdown.len(), |i| at + i + 1);
    let mut lines: Vec<Range<usize>> = spans
        .map(|span| {
            let start = markdown[..span.start].rfind('\n').map_or(0, |i| i + 1);
            start..line_end(span.end.saturating_sub(1).max(span.start))
        })
        .collect();
    lines.sort_by_key(|r| r.start);
    let mut runs: Vec<Range<usize>> = Vec::new();
    for r in lines {
        match runs.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => runs.push(r),
        }
    }
    runs.into_iter().map(move |mut run| {
        let next = line_end(run.end);
        let before_blank = run.start == 0 || markdown[..run.start].ends_with("\n\n");
        if before_blank && run.end < markdown.len() && markdown[run.end..next].trim().is_empty() {
            run.end = next;
        }
        run
    })
}

/// Reference labels match case-insensitively with whitespace collapsed.
fn normalize_label(label: &str) -> String {
    label.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// A relative file path (for images): no scheme, not `#…`, not `//host`.
pub fn is_relative(dest: &str) -> bool {
    !(dest.is_empty() || dest.starts_with('#') || dest.starts_with("//") || has_scheme(dest))
}

/// A link that means something only on the site it was written for: `/docs/x`,
/// `#setup`, `../y`, `//host/z` (no scheme).
pub fn is_relative_link(dest: &str) -> bool {
    !dest.is_empty() && !has_scheme(dest)
}

/// Where a link goes off its site: itself when absolute, resolved against `site` when
/// relative (as a browser on that page would), `None` (no link at all) without a site.
pub fn resolve_link(dest: &str, site: Option<&Url>) -> Option<String> {
    if !is_relative_link(dest) {
        return Some(dest.to_owned());
    }
    site.and_then(|s| s.join(dest).ok()).map(String::from)
}

/// RFC 3986 scheme: a letter, then letters, digits, `+`, `-`, `.`, then `:`.
fn has_scheme(dest: &str) -> bool {
    dest.find(':').is_some_and(|colon| {
        let scheme = &dest[..colon];
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    })
}

/// The destination bytes of a link starting at `at` (just after `(` or `]:`),
/// without the `<>` of the angle-bracket form.
fn dest_span(markdown: &str, at: usize, limit: usize) -> Option<Range<usize>> {
    let text = &markdown[..limit];
    let start = at + text[at..].len() - text[at..].trim_start().len();
    let rest = &text[start..];
    if let Some(inner) = rest.strip_prefix('<') {
        let mut escaped = false;
        for (i, c) in inner.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '>' => return Some(start + 1..start + 1 + i),
                '\n' | '<' => return None,
                _ => {}
            }
        }
        return None;
    }
    let mut depth = 0usize;
    let mut escaped = false;
    let mut end = rest.len();
    for (i, c) in rest.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '(' => depth += 1,
            ')' if depth == 0 => {
                end = i;
                break;
            }
            ')' => depth -= 1,
            c if c.is_whitespace() || c.is_control() => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    (end > 0).then_some(start..start + end)
}

/// The destination bytes of a reference definition `[label]: dest "title"`.
fn def_dest_span(markdown: &str, span: Range<usize>) -> Option<Range<usize>> {
    let def = &markdown[span.clone()];
    let mut escaped = false;
    for (i, c) in def.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            ']' if def[i + 1..].starts_with(':') => {
                return dest_span(markdown, span.start + i + 2, span.end);
            }
            _ => {}
        }
    }
    None
}

/// Writes a destination so Markdown reads it back unchanged.
fn format_dest(dest: &str, angle: bool) -> String {
    let escape_angle = |d: &str| {
        d.chars().fold(String::new(), |mut s, c| {
            if matches!(c, '<' | '>' | '\\') {
                s.push('\\');
            }
            s.push(c);
            s
        })
    };
    if angle {
        return escape_angle(dest);
    }
    let mut depth = 0i64;
    let mut balanced = true;
    for c in dest.chars() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                balanced &= depth >= 0;
            }
            _ => {}
        }
    }
    let needs_angle = dest.is_empty()
        || depth != 0
        || !balanced
        || dest.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>');
    if needs_angle { format!("<{}>", escape_angle(dest)) } else { dest.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_written_inline_and_definitions_taken_out() {
        let cases = [
            ("See [docs][d]\n\n[d]: /docs/x\n", "See [docs](/docs/x)\n\n"),
            (
                "See [docs][d] end\n\n[d]: https://e.com \"The title\"\n\nMore.",
                "See [docs](https://e.com \"The title\") end\n\nMore.",
            ),
            (
                "[Docs][] and [docs]\n\n[docs]: <https://e.com/a b>",
                "[Docs](<https://e.com/a b>) and [docs](<https://e.com/a b>)\n\n",
            ),
            ("![alt][img] `[x][d]`\n\n[img]: a.png\n[d]: /d\n\nafter", "![alt](a.png) `[x][d]`\n\nafter"),
            ("[**bold** label][d]\n\n[d]: /x 'it\"s'", "[**bold** label](/x \"it\\\"s\")\n\n"),
            // Inline links, autolinks and unused brackets stay as written.
            ("[a](/x) <https://e.com> [not a ref] a@b.co", "[a](/x) <https://e.com> [not a ref] a@b.co"),
            ("```\n[d]: /in-code\n[x][d]\n```", "```\n[d]: /in-code\n[x][d]\n```"),
        ];
        for (md, want) in cases {
            assert_eq!(inline_references(md), want, "{md:?}");
            // What Markdown reads is the same links, to the same places.
            let links = |m: &str| -> Vec<String> {
                Parser::new_ext(m, markdown_options())
                    .filter_map(|e| match e {
                        Event::Start(Tag::Link { dest_url, title, .. } | Tag::Image { dest_url, title, .. }) => {
                            Some(format!("{dest_url} {title}"))
                        }
                        _ => None,
                    })
                    .collect()
            };
            assert_eq!(links(&inline_references(md)), links(md), "{md:?}");
        }
    }

    #[test]
    fn entities_are_decoded_in_prose_only() {
        let cases = [
            ("Tom &amp; Jerry", "Tom & Jerry"),
            ("&lt;b&gt; &copy; &#233;t&eacute; &#x1F600;", "\\<b\\> © été 😀"),
            // A decoded character Markdown would read as syntax is escaped.
            ("&#42;not emphasis&#42; &#35; no heading", "\\*not emphasis\\* \\# no heading"),
            (
                "`a &amp; b` and\n\n```\nx &amp;&amp; y\n```\n\n    z &lt; 1",
                "`a &amp; b` and\n\n```\nx &amp;&amp; y\n```\n\n    z &lt; 1",
            ),
            (
                "[A &amp; B](https://e.com) &notanentity; \\&amp; & alone",
                "[A & B](https://e.com) &notanentity; \\&amp; & alone",
            ),
        ];
        for (md, want) in cases {
            assert_eq!(decode_entities(md), want, "{md:?}");
        }
    }

    #[test]
    fn images_become_their_urls_or_their_alt_text() {
        let resolve = |d: &str| (d == "media/a.png").then(|| "https://cdn.example/media/a.png".to_owned());
        let cases = [
            ("See ![a chart](media/a.png) here", "See https://cdn.example/media/a.png here"),
            ("![web](https://e.com/x.png)", "https://e.com/x.png"),
            ("![not public](media/b.png)", "not public"),
            ("A [link](media/a.png) stays", "A [link](media/a.png) stays"),
        ];
        for (md, want) in cases {
            assert_eq!(images_as_urls(md, resolve), want, "{md}");
        }
    }

    const FAMILY: &str = "👨\u{200d}👩\u{200d}👧\u{200d}👦";
    const FLAG: &str = "🇫🇷";

    #[test]
    fn converts_markdown_to_plain_text() {
        let cases: &[(&str, &str, &str)] = &[
            ("emphasis", "*a* **b** _c_ __d__ ***e***", "a b c d e"),
            ("strikethrough", "~~gone~~ ~also~", "gone also"),
            ("atx heading", "# Title\nBody", "Title\n\nBody"),
            ("closed atx heading", "## Title ##\n\nBody", "Title\n\nBody"),
            ("setext heading", "Title\n===\n\nBody", "Title\n\nBody"),
            ("link", "See [the site](https://x.com/a).", "See the site (https://x.com/a)."),
            ("link label equals url", "[https://x.com](https://x.com)", "https://x.com"),
            ("autolink", "Go <https://x.com/a?b=1&c=2>", "Go https://x.com/a?b=1&c=2"),
            ("email autolink", "Mail <me@x.com>", "Mail me@x.com"),
            ("emphasised link label", "[**bold** site](https://x.com)", "bold site (https://x.com)"),
            ("reference link", "[site][s]\n\n[s]: https://x.com", "site (https://x.com)"),
            ("inline code", "Run `cargo *test*` now", "Run cargo *test* now"),
            ("dash bullets", "- a\n- b", "- a\n- b"),
            ("star bullets", "* a\n* b", "- a\n- b"),
            ("plus bullets", "+ a\n+ b", "- a\n- b"),
            ("ordered list", "1. a\n2. b", "1. a\n2. b"),
            ("ordered list starting at 3", "3. a\n3. b\n3. c", "3. a\n4. b\n5. c"),
            ("ordered paren list", "7) a\n8) b", "7. a\n8. b"),
            ("loose list", "- a\n\n- b\n\n- c", "- a\n- b\n- c"),
            ("loose item with two paragraphs", "- a\n\n  more\n- b", "- a\n  more\n- b"),
            ("soft break inside item", "1. one\n   two\n2. three", "1. one\n   two\n2. three"),
            ("nested list", "- a\n  - b\n    - c\n  - d\n- e", "- a\n  - b\n    - c\n  - d\n- e"),
            ("nested ordered", "1. a\n   - b\n2. c", "1. a\n  - b\n2. c"),
            (
                "blocks separated by one blank line",
                "# H\npara one\n- a\n- b\n\n\n\nafter",
                "H\n\npara one\n\n- a\n- b\n\nafter",
            ),
            ("soft break kept", "line one\nline two", "line one\nline two"),
            ("hard break spaces", "a  \nb", "a\nb"),
            ("hard break backslash", "a\\\nb", "a\nb"),
            ("entities decoded", "Tom &amp; Jerry &lt;3 &copy; &#65;", "Tom & Jerry <3 © A"),
            ("no escaping", "a & b < c > 'd' \"e\"", "a & b < c > 'd' \"e\""),
            ("no smart punctuation", "\"q\" -- 'x' ...", "\"q\" -- 'x' ..."),
            ("curly quotes", "It’s “fine”", "It’s “fine”"),
            ("cjk", "日本語の**テキスト**です。", "日本語のテキストです。"),
            ("emoji zwj and flag", "Family 👨‍👩‍👧‍👦 in 🇫🇷", "Family 👨‍👩‍👧‍👦 in 🇫🇷"),
            ("combining mark", "Cafe\u{301} *ole\u{301}*", "Cafe\u{301} ole\u{301}"),
            ("crlf", "# T\r\n\r\nline1\r\nline2\r\n\r\n- a\r\n- b\r\n", "T\n\nline1\nline2\n\n- a\n- b"),
            ("fenced code", "```rust\nfn x() {\n    *y*\n}\n```", "fn x() {\n    *y*\n}"),
            ("indented code", "text\n\n    code  line\n    more\n\nafter", "text\n\ncode  line\nmore\n\nafter"),
            ("code in list item", "- a\n\n  ```\n  x\n  y\n  ```\n- b", "- a\n  x\n  y\n- b"),
            ("crlf code block", "```\r\na\r\n\r\nb\r\n```\r\n", "a\n\nb"),
            ("blockquote", "> quoted\n> line\n>\n> second\n\nafter", "quoted\nline\n\nsecond\n\nafter"),
            (
                "html block",
                "<div class=\"x\">\n  hi &amp;\n</div>\n\ntext",
                "<div class=\"x\">\n  hi &amp;\n</div>\n\ntext",
            ),
            ("inline html", "a <b>bold</b> c", "a <b>bold</b> c"),
            ("image omitted", "Look ![alt](img.png) here", "Look here"),
            ("image only line", "Top\n\n![alt](img.png)\n\nBottom", "Top\n\nBottom"),
            ("linked image gives url", "[![logo](l.png)](https://x.com)", "https://x.com"),
            ("rule joins as paragraphs", "a\n\n---\n\nb", "a\n\nb"),
            ("trailing whitespace trimmed", "\n\n  a  \n\n```\nx   \n```\n\n", "a\n\nx"),
            ("no tables", "| a | b |\n|---|---|", "| a | b |\n|---|---|"),
            ("setext underline is not a rule", "text\n---\nmore", "text\n\nmore"),
            ("blank", " \n\n ", ""),
            // Found by fuzzing: a decoded `&#13;` used to leave a `\r` in the text.
            ("cr entity is a line break", "a&#13;b &#x0d; [l](https://x&#13;y)", "a\nb\n l (https://x\ny)"),
        ];
        for (name, input, expected) in cases {
            assert_eq!(markdown_to_text(input), *expected, "case {name}");
            assert!(!markdown_to_text(input).contains('\r'), "case {name}");
        }
    }

    /// Marked text shown with `[` and `]` for the spoiler marks.
    fn shown(text: &str) -> String {
        text.replace(SPOILER_OPEN, "[").replace(SPOILER_CLOSE, "]")
    }

    #[test]
    fn spoiler_markers() {
        // (name, markdown, plain text, marked text shown with [ ])
        let cases: &[(&str, &str, &str, &str)] = &[
            ("one", "The end: ||he lives||.", "The end: he lives.", "The end: [he lives]."),
            ("two", "||a|| and ||b||", "a and b", "[a] and [b]"),
            ("around emphasis", "||a **b** c||", "a b c", "[a b c]"),
            ("unpaired stays", "a || b", "a || b", "a || b"),
            ("third unpaired", "||a|| b ||c", "a b ||c", "[a] b ||c"),
            ("whitespace only is not a spoiler", "|| || x", "|| || x", "|| || x"),
            ("empty is not a spoiler", "||||", "||||", "||||"),
            ("not across paragraphs", "||a\n\nb||", "||a\n\nb||", "||a\n\nb||"),
            ("across a line break", "||a\nb||", "a\nb", "[a\nb]"),
            ("in inline code stays", "`a||b||c`", "a||b||c", "a||b||c"),
            ("in a code block stays", "```\n||x||\n```", "||x||", "||x||"),
            ("escaped stays", "\\|\\|x\\|\\|", "||x||", "||x||"),
            ("in a list item", "- ||x||\n- y", "- x\n- y", "- [x]\n- y"),
            ("link label", "[||x||](https://e.com)", "x (https://e.com)", "[x] (https://e.com)"),
            ("private-use input removed", "a\u{E010}b", "ab", "ab"),
        ];
        for (name, md, plain, marked) in cases {
            assert_eq!(markdown_to_text(md), *plain, "{name}: plain");
            assert_eq!(shown(&markdown_to_text_marked(md, None)), *marked, "{name}: marked");
            assert_eq!(texts(&markdown_to_parts(md)), vec![*plain], "{name}: parts");
            // Bluesky's marked links keep no spoiler marks either (its links show their label only).
            if !md.contains("](") {
                let (bluesky, _) = take_marked_links(&markdown_to_text_with(md, LinkStyle::Marked, None));
                assert_eq!(bluesky, *plain, "{name}: marked links");
            }
        }
    }

    #[test]
    fn strips_spoiler_markers_from_markdown() {
        let cases: &[(&str, &str)] = &[
            ("The end: ||he **lives**||.", "The end: he **lives**."),
            ("||a|| and ||b|| and ||c", "a and b and ||c"),
            ("|| || x", "|| || x"),
            ("||a\n\nb||", "||a\n\nb||"),
            ("`a||b||c` ||d||", "`a||b||c` d"),
            ("```\n||x||\n```\n", "```\n||x||\n```\n"),
            ("\\|\\|x\\|\\|", "\\|\\|x\\|\\|"),
            ("- ||x||\n- ||y", "- x\n- ||y"),
            ("# ||Title||\n", "# Title\n"),
        ];
        for (md, want) in cases {
            assert_eq!(strip_spoiler_markers(md), *want, "{md:?}");
            // The same pairs as the text conversion: the two agree once converted.
            assert_eq!(markdown_to_text(&strip_spoiler_markers(md)), markdown_to_text(md), "{md:?}");
        }
    }

    #[test]
    fn takes_spoilers_out_of_marked_text() {
        let o = SPOILER_OPEN;
        let c = SPOILER_CLOSE;
        // (marked, text, spoiled substrings)
        let cases: Vec<(String, &str, Vec<&str>)> = vec![
            (format!("a {o}b{c} c {o}dé{c}"), "a b c dé", vec!["b", "dé"]),
            (format!("{o}open to the end"), "open to the end", vec!["open to the end"]),
            (format!("closed from the start{c} x"), "closed from the start x", vec!["closed from the start"]),
            (format!("{o} {c}"), " ", vec![]),
            (format!("{o} padded {c}!"), " padded !", vec!["padded"]),
            ("plain".to_owned(), "plain", vec![]),
        ];
        for (marked, want, spoiled) in cases {
            let (text, ranges) = take_spoilers(&marked);
            assert_eq!(text, want);
            let got: Vec<&str> = ranges.iter().map(|r| &text[r.clone()]).collect();
            assert_eq!(got, spoiled, "{marked:?}");
        }
        assert_eq!(strip_spoilers(&format!("{o}x{c}")), "x");
    }

    fn texts(parts: &[TextPart]) -> Vec<&str> {
        parts.iter().map(|p| p.text.as_str()).collect()
    }

    #[test]
    fn splits_parts_at_thematic_breaks() {
        let cases: &[(&str, &[&str])] = &[
            ("text\n---", &["text"]),
            ("text\n---\nmore", &["text\n\nmore"]),
            ("text\n\n---\n\nmore", &["text", "more"]),
            ("a\n\n***\n\nb\n\n___\n\nc", &["a", "b", "c"]),
            ("a\n\n- - -\n\nb", &["a", "b"]),
            ("---\n\na\n\n---\n---\n\n***\n\nb\n\n---\n", &["a", "b"]),
            ("a\r\n\r\n---\r\n\r\nb\r\n", &["a", "b"]),
            ("# One\n\nx\n\n---\n\n# Two\n\ny", &["One\n\nx", "Two\n\ny"]),
            ("only one part", &["only one part"]),
            ("", &[]),
            ("  \n\n\t", &[]),
            ("---", &[""]),
        ];
        for (input, expected) in cases {
            assert_eq!(texts(&markdown_to_parts(input)), *expected, "input {input:?}");
        }
    }

    #[test]
    fn part_sources_point_at_their_markdown() {
        let input = "# Hello *world*\n\nFirst part.\n\n---\n\nSecond **part** here.\n\n***\n\n- third\n- item\n";
        let parts = markdown_to_parts(input);
        assert_eq!(texts(&parts), ["Hello world\n\nFirst part.", "Second part here.", "- third\n- item"]);
        let firsts = ["# Hello", "Second", "- third"];
        for (part, first) in parts.iter().zip(firsts) {
            let slice = &input[part.source.clone()];
            assert!(slice.starts_with(first), "{slice:?}");
            assert!(!slice.contains("---") && !slice.contains("***"), "{slice:?}");
        }
        assert!(parts.windows(2).all(|w| w[0].source.end <= w[1].source.start));
    }

    #[test]
    fn reports_image_ranges() {
        let input = "Intro ![a](x.png) text ![b](<y z.png> \"t\")\n\n---\n\n![only](o.png)\n\n---\n\nEnd ![c][ref]\n\n[ref]: c.png\n";
        let parts = markdown_to_parts(input);
        assert_eq!(texts(&parts), ["Intro text", "End"]);
        let slices = |p: &TextPart| -> Vec<String> { p.images.iter().map(|r| input[r.clone()].to_owned()).collect() };
        assert_eq!(slices(&parts[0]), ["![a](x.png)", "![b](<y z.png> \"t\")"]);
        // The image-only part is dropped; its image moves to the next part.
        assert_eq!(slices(&parts[1]), ["![only](o.png)", "![c][ref]"]);

        let only = markdown_to_parts("![pic](p.png)");
        assert_eq!(only.len(), 1);
        assert_eq!(only[0].text, "");
        assert_eq!(only[0].images, vec![Range { start: 0, end: 13 }]);

        let trailing = markdown_to_parts("Text\n\n---\n\n![pic](p.png)");
        assert_eq!(texts(&trailing), ["Text"]);
        assert_eq!(trailing[0].images.len(), 1);
    }

    #[test]
    fn split_keeps_fitting_text_whole() {
        assert_eq!(split_auto("short\n\ntext", 100), ["short\n\ntext"]);
        assert_eq!(split_auto("", 10), [""]);
        assert_eq!(split_auto("exactly10!", 10), ["exactly10!"]);
    }

    #[test]
    fn split_cases() {
        let cases: &[(&str, &str, usize, &[&str])] = &[
            ("paragraphs packed", "aaa\n\nbbb\n\nccc", 8, &["aaa\n\nbbb", "ccc"]),
            ("extra blank lines", "aaa\n \n\n\nbbb\n\nccc", 8, &["aaa\n\nbbb", "ccc"]),
            ("lines kept", "l1\nl2\n\nl3\nl4\n\nl5", 12, &["l1\nl2\n\nl3\nl4", "l5"]),
            (
                "paragraph before sentence",
                "One two. Three.\n\nFour five six.",
                20,
                &["One two. Three.", "Four five six."],
            ),
            ("sentence before whitespace", "One two. Three four five.", 20, &["One two.", "Three four five."]),
            ("sentence marks", "Yes! No? Maybe… ok", 9, &["Yes! No?", "Maybe…", "ok"]),
            ("closing quote", "He said \"go.\" Then left", 15, &["He said \"go.\"", "Then left"]),
            ("no sentence inside word", "v1.2 is out now", 9, &["v1.2 is", "out now"]),
            ("whitespace", "alpha beta gamma", 11, &["alpha beta", "gamma"]),
            ("line break is whitespace", "alpha\nbeta gamma", 11, &["alpha\nbeta", "gamma"]),
            ("long word", "abcdefghij", 4, &["abcd", "efgh", "ij"]),
            ("long word then words", "a abcdefgh b", 4, &["a", "abcd", "efgh", "b"]),
            ("cjk", "日本語テキスト", 9, &["日本語", "テキス", "ト"]),
            ("flags", "🇫🇷🇫🇷🇫🇷", 10, &[FLAG, FLAG, FLAG]),
            ("combining marks", "e\u{301}e\u{301}e\u{301}", 4, &["e\u{301}", "e\u{301}", "e\u{301}"]),
            ("tiny limit", "ab", 0, &["a", "b"]),
        ];
        for (name, input, max, expected) in cases {
            assert_eq!(split_auto(input, *max), *expected, "case {name}");
        }
        let families = format!("{FAMILY}{FAMILY}");
        assert_eq!(split_auto(&families, 30), [FAMILY, FAMILY]);
        assert_eq!(split_auto(&families, 10), [FAMILY, FAMILY]);
    }

    #[test]
    fn split_curly_apostrophes_by_bytes() {
        let mut text = String::from("I’m sure it’s what we’re after.");
        while text.chars().count() + 5 <= 498 {
            text.push_str(" word");
        }
        while text.chars().count() < 498 {
            text.push('x');
        }
        assert_eq!((text.chars().count(), text.len()), (498, 504));
        let parts = split_auto(&text, 500);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], "I’m sure it’s what we’re after.");
        assert!(parts.iter().all(|p| p.len() <= 500));
        assert_eq!(words(&parts.join(" ")), words(&text));
    }

    fn words(text: &str) -> Vec<&str> {
        text.split_whitespace().collect()
    }

    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self, bound: usize) -> usize {
            self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            ((self.0 >> 33) % bound as u64) as usize
        }
    }

    fn generate(rng: &mut Lcg) -> String {
        const PIECES: &[&str] = &[
            "a",
            "bc",
            "word",
            "Rust",
            "’",
            "it’s",
            "日本",
            "é",
            "e\u{301}",
            FAMILY,
            FLAG,
            "😀",
            ".",
            "!",
            "?",
            "…",
            "\"",
            ")",
            "#tag",
            "https://x.com/a",
        ];
        const SEPS: &[&str] = &[" ", " ", " ", " ", "  ", "\n", "\n\n", "\n \n\n", ". ", "! ", "\t"];
        let mut text = String::new();
        for _ in 0..rng.next(120) {
            let len = if rng.next(15) == 0 { 20 + rng.next(40) } else { 1 + rng.next(4) };
            for _ in 0..len {
                text.push_str(PIECES[rng.next(PIECES.len())]);
            }
            text.push_str(SEPS[rng.next(SEPS.len())]);
        }
        text
    }

    fn grapheme_bounds(word: &str) -> Vec<usize> {
        word.grapheme_indices(true).map(|(i, g)| i + g.len()).collect()
    }

    #[test]
    fn split_property_over_generated_inputs() {
        let mut rng = Lcg(42);
        for round in 0..600 {
            let text = generate(&mut rng);
            let max = 26 + rng.next(200);
            let parts = split_auto(&text, max);
            let context = format!("round {round}, max {max}, text {text:?}, parts {parts:?}");
            if text.len() <= max {
                assert_eq!(parts.len(), 1, "{context}");
                assert_eq!(parts[0], text, "{context}");
                continue;
            }
            for part in &parts {
                assert!(part.len() <= max, "{context}");
                assert!(!part.is_empty() && part.trim() == part, "{context}");
            }
            let got: Vec<&str> = parts.iter().flat_map(|p| words(p)).collect();
            let mut got = got.into_iter();
            for word in words(&text) {
                if word.len() <= max {
                    assert_eq!(got.next(), Some(word), "{context}");
                    continue;
                }
                let bounds = grapheme_bounds(word);
                let mut rebuilt = String::new();
                while rebuilt.len() < word.len() {
                    let piece = got.next().unwrap_or_else(|| panic!("{context}"));
                    assert!(piece.len() <= max, "{context}");
                    rebuilt.push_str(piece);
                    assert!(bounds.contains(&rebuilt.len()), "{context}");
                }
                assert_eq!(rebuilt, word, "{context}");
            }
            assert_eq!(got.next(), None, "{context}");
        }
    }

    fn found<'t>(text: &'t str, ranges: &[Range<usize>]) -> Vec<&'t str> {
        ranges.iter().map(|r| &text[r.clone()]).collect()
    }

    #[test]
    fn finds_urls() {
        let cases: &[(&str, &[&str])] = &[
            ("see https://x.com/a.", &["https://x.com/a"]),
            ("http://a.b/?q=1&r=2, and", &["http://a.b/?q=1&r=2"]),
            ("two https://a.com https://b.com/x!?", &["https://a.com", "https://b.com/x"]),
            ("(see https://x.com)", &["https://x.com"]),
            ("(https://en.wikipedia.org/wiki/Rust_(language))", &["https://en.wikipedia.org/wiki/Rust_(language)"]),
            ("<https://x.com>", &["https://x.com"]),
            ("a<https://x.com/b>c", &["https://x.com/b"]),
            ("'https://x.com' \"https://y.com\";", &["https://x.com", "https://y.com"]),
            ("end https://x.com/a:b...", &["https://x.com/a:b"]),
            ("line\nhttps://x.com\nnext", &["https://x.com"]),
            ("HTTPS://X.COM/A", &["HTTPS://X.COM/A"]),
            ("https://例え.jp/パス done", &["https://例え.jp/パス"]),
            ("https://x.com/a#frag", &["https://x.com/a#frag"]),
            ("ftp://x.com mailto:a@b.c", &[]),
            ("just https:// nothing", &[]),
            ("xhttps://a.com", &[]),
            ("https://.", &[]),
            ("", &[]),
        ];
        for (input, expected) in cases {
            assert_eq!(found(input, &find_urls(input)), *expected, "input {input:?}");
        }
    }

    #[test]
    fn finds_hashtags() {
        let cases: &[(&str, &[&str])] = &[
            ("#rust is #great", &["#rust", "#great"]),
            ("a#b c#d", &[]),
            ("(#tag) #x", &["#tag", "#x"]),
            ("#1 #2024 #v2 #2fast", &["#v2", "#2fast"]),
            ("#日本語 #café", &["#日本語", "#café"]),
            ("#cafe\u{301}!", &["#cafe\u{301}"]),
            ("#under_score-dash", &["#under_score"]),
            ("#_", &["#_"]),
            ("# heading", &[]),
            ("#tag, #tag2. #end", &["#tag", "#tag2", "#end"]),
            ("##double #", &[]),
            ("line\n#start\t#tab", &["#start", "#tab"]),
            ("https://x.com/#anchor", &[]),
            ("#🙂 #ok🙂", &["#ok"]),
            ("", &[]),
        ];
        for (input, expected) in cases {
            assert_eq!(found(input, &find_hashtags(input)), *expected, "input {input:?}");
        }
    }

    #[test]
    fn code_is_shielded_from_tags_and_mentions() {
        // (Markdown, hashtags found in the shielded text, the text as sent).
        let cases: &[(&str, &[&str], &str)] = &[
            ("Run `make #all` for #rust", &["#rust"], "Run make #all for #rust"),
            ("#tag\n\n    #incode\n", &["#tag"], "#tag\n\n#incode"),
            ("```sh\n# comment @me\n```\n\n#after", &["#after"], "# comment @me\n\n#after"),
            ("- `#x` and #y", &["#y"], "- #x and #y"),
            ("[`#label`](https://x.com/#a) #z", &["#z"], "#label (https://x.com/#a) #z"),
            // The shield characters of a post itself are dropped, never taken for `#`.
            ("a\u{1}b `c\u{2}d`", &[], "ab cd"),
        ];
        for (md, tags, sent) in cases {
            let shielded = markdown_to_text_shielded(md, LinkStyle::Inline, None);
            assert_eq!(found(&shielded, &find_hashtags(&shielded)), *tags, "{md:?}");
            assert_eq!(unshield(&shielded), *sent, "{md:?}");
            // One byte for one: ranges found in the shielded text hold in the sent one.
            assert_eq!(unshield(&shielded).len(), shielded.len(), "{md:?}");
            let parts = markdown_to_parts_shielded(md, LinkStyle::Inline, None);
            assert_eq!(parts.iter().map(|p| unshield(&p.text)).collect::<Vec<_>>().join("\n\n"), *sent, "{md:?}");
        }
        // Without shielding the text is the same and code is not set apart.
        assert_eq!(markdown_to_text("Run `make #all`"), "Run make #all");
    }

    fn cdn(dest: &str) -> Option<String> {
        (!dest.contains("skip")).then(|| format!("https://cdn.test/{dest}"))
    }

    #[test]
    fn rewrites_relative_images() {
        let cases: &[(&str, &str)] = &[
            ("![a](img.png)", "![a](https://cdn.test/img.png)"),
            ("![a](./i/img.png \"Title\")", "![a](https://cdn.test/./i/img.png \"Title\")"),
            ("![a](/abs.png)", "![a](https://cdn.test//abs.png)"),
            ("![a]( img.png  'T' )", "![a]( https://cdn.test/img.png  'T' )"),
            ("![a](\n  img.png\n  \"T\")", "![a](\n  https://cdn.test/img.png\n  \"T\")"),
            ("![a](<my img.png>)", "![a](<https://cdn.test/my img.png>)"),
            ("![a](my%20img.png)", "![a](https://cdn.test/my%20img.png)"),
            ("![a](img(1).png)", "![a](https://cdn.test/img(1).png)"),
            ("![a [b] `c]` d](i.png)", "![a [b] `c]` d](https://cdn.test/i.png)"),
            ("![a\\]](i.png)", "![a\\]](https://cdn.test/i.png)"),
            ("![](i.png)", "![](https://cdn.test/i.png)"),
            ("![![in](n.png)](o.png)", "![![in](https://cdn.test/n.png)](https://cdn.test/o.png)"),
            ("[![a](i.png)](page.html)", "[![a](https://cdn.test/i.png)](page.html)"),
            ("![a][logo]\n\n[logo]: logo.png \"T\"\n", "![a][logo]\n\n[logo]: https://cdn.test/logo.png \"T\"\n"),
            ("![Logo  X]\n\n  [logo x]: <l x.png>\n", "![Logo  X]\n\n  [logo x]: <https://cdn.test/l x.png>\n"),
            ("![a][l] ![b][l] ![l][]\n\n[l]:\n  l.png\n", "![a][l] ![b][l] ![l][]\n\n[l]:\n  https://cdn.test/l.png\n"),
            ("![a](https://x.com/i.png)", "![a](https://x.com/i.png)"),
            ("![a](HTTP://x.com/i.png)", "![a](HTTP://x.com/i.png)"),
            ("![a](//host/i.png)", "![a](//host/i.png)"),
            ("![a](#frag)", "![a](#frag)"),
            ("![a](data:image/png;base64,AAAA)", "![a](data:image/png;base64,AAAA)"),
            ("![a]()", "![a]()"),
            ("![a](skip.png)", "![a](skip.png)"),
            ("[link](doc.png)", "[link](doc.png)"),
            ("`![a](code.png)`", "`![a](code.png)`"),
            ("```\n![a](fence.png)\n```", "```\n![a](fence.png)\n```"),
            ("![a](i.png)\r\n\r\n---\r\n", "![a](https://cdn.test/i.png)\r\n\r\n---\r\n"),
        ];
        for (input, expected) in cases {
            assert_eq!(rewrite_relative_images(input, cdn), *expected, "input {input:?}");
        }
    }

    #[test]
    fn relative_links_are_made_absolute_against_the_site_or_sent_as_their_label() {
        let site = Url::parse("https://example.com/blog/").expect("url");
        // (Markdown, plain text with a site, without one, Markdown with a site, without one)
        let cases: &[(&str, &str, &str, &str, &str)] = &[
            (
                "[the guide](/docs/start)",
                "the guide (https://example.com/docs/start)",
                "the guide",
                "[the guide](https://example.com/docs/start)",
                "the guide",
            ),
            (
                "see [below](#setup).",
                "see below (https://example.com/blog/#setup).",
                "see below.",
                "see [below](https://example.com/blog/#setup).",
                "see below.",
            ),
            (
                "[**bold** `code`](../x \"T\")",
                "bold code (https://example.com/x)",
                "bold code",
                "[**bold** `code`](https://example.com/x \"T\")",
                "**bold** `code`",
            ),
            (
                "[ref][r]\n\n[r]: other.html\n",
                "ref (https://example.com/blog/other.html)",
                "ref",
                "[ref][r]\n\n[r]: https://example.com/blog/other.html\n",
                "ref\n\n[r]: other.html\n",
            ),
            (
                "[ref][]\n\n[ref]: other.html\n",
                "ref (https://example.com/blog/other.html)",
                "ref",
                "[ref][]\n\n[ref]: https://example.com/blog/other.html\n",
                "ref\n\n[ref]: other.html\n",
            ),
            (
                "[abs](https://x.test/a)",
                "abs (https://x.test/a)",
                "abs (https://x.test/a)",
                "[abs](https://x.test/a)",
                "[abs](https://x.test/a)",
            ),
            ("<me@x.test>", "me@x.test", "me@x.test", "<me@x.test>", "<me@x.test>"),
            ("![img](/a.png)", "", "", "![img](/a.png)", "![img](/a.png)"),
            ("`[code](/x)`", "[code](/x)", "[code](/x)", "`[code](/x)`", "`[code](/x)`"),
        ];
        for (md, with_site, without, md_with_site, md_without) in cases {
            let plain = |site| markdown_to_text_with(md, LinkStyle::Inline, site);
            assert_eq!(plain(Some(&site)), *with_site, "{md:?} with a site");
            assert_eq!(plain(None), *without, "{md:?} without a site");
            assert_eq!(rewrite_relative_links(md, Some(&site)), *md_with_site, "{md:?}: Markdown with a site");
            assert_eq!(rewrite_relative_links(md, None), *md_without, "{md:?}: Markdown without a site");
        }
        // Bluesky: a facet to the absolute URL, or no facet at all.
        let (text, links) = take_marked_links(&markdown_to_text_with("[g](/docs)", LinkStyle::Marked, Some(&site)));
        assert_eq!((text.as_str(), links), ("g", vec![(0..1, "https://example.com/docs".to_owned())]));
        let (text, links) = take_marked_links(&markdown_to_text_with("[g](/docs)", LinkStyle::Marked, None));
        assert_eq!((text.as_str(), links.len()), ("g", 0));
        // What `check` names: range, destination and label.
        assert_eq!(
            relative_links("a [the *guide*](/docs) b [x](https://x.test) <me@x.test> [c](#s)"),
            [(2..22, "/docs".to_owned(), "the guide".to_owned()), (57..64, "#s".to_owned(), "c".to_owned())]
        );
    }

    #[test]
    fn rewrite_formats_awkward_destinations() {
        let spaced = |_: &str| Some("a b.png".to_owned());
        assert_eq!(rewrite_relative_images("![x](i.png)", spaced), "![x](<a b.png>)");
        let angled = |_: &str| Some("a>b.png".to_owned());
        assert_eq!(rewrite_relative_images("![x](<i j.png>)", angled), "![x](<a\\>b.png>)");
        let paren = |_: &str| Some("a(b.png".to_owned());
        assert_eq!(rewrite_relative_images("![x](i.png)", paren), "![x](<a(b.png>)");
        // The resolver sees the parsed destination.
        let seen = std::cell::RefCell::new(Vec::new());
        rewrite_relative_images("![x](<a b.png>) ![y](c\\_d&amp;.png)", |d| {
            seen.borrow_mut().push(d.to_owned());
            None
        });
        assert_eq!(*seen.borrow(), ["a b.png", "c_d&.png"]);
    }

    #[test]
    fn rewrite_keeps_every_other_byte() {
        let doc = "\u{feff}# Title ![t](t.png)\r\n\r\nText &amp; *more*  \r\n\
                   ![a](a.png \"A\") and [l](l.md) and ![r][ref] and <https://x>\r\n\r\n\
                   > ![q](q.png)\r\n\r\n- ![li](li.png)\r\n    ![bad](  skip.png  )\r\n\r\n\
                   ---\r\n\r\n[ref]:   r.png   'R'\r\n\t\n日本語 👨‍👩‍👧‍👦 🇫🇷\r\n";
        assert_eq!(rewrite_relative_images(doc, |_| None), doc);
        assert_eq!(rewrite_relative_images(doc, |d| Some(d.to_owned())), doc);
        let out = rewrite_relative_images(doc, |d| Some(d.replace(".png", ".webp")));
        let expected = doc.replace("skip.png", "SKIP").replace(".png", ".webp").replace("SKIP", "skip.webp");
        assert_eq!(out, expected);
    }

    /// Marked links come out as the label plus the URL, at the label's byte range.
    /// (markdown, text, [(label, url)])
    type Case = (&'static str, &'static str, &'static [(&'static str, &'static str)]);

    #[test]
    fn marked_links_keep_label_positions() {
        let cases: &[Case] = &[
            ("See [the site](https://x.com/a).", "See the site.", &[("the site", "https://x.com/a")]),
            ("[https://x.com](https://x.com)", "https://x.com", &[("https://x.com", "https://x.com")]),
            (
                "Go <https://x.com/a?b=1&c=2>",
                "Go https://x.com/a?b=1&c=2",
                &[("https://x.com/a?b=1&c=2", "https://x.com/a?b=1&c=2")],
            ),
            ("Mail <me@x.com>", "Mail me@x.com", &[]),
            (
                "Café 😀 [日本語の**リンク**](https://x.jp) ok",
                "Café 😀 日本語のリンク ok",
                &[("日本語のリンク", "https://x.jp")],
            ),
            (
                "[a\nb](https://x.com) [c](https://y.com)",
                "a\nb c",
                &[("a\nb", "https://x.com"), ("c", "https://y.com")],
            ),
            ("- [item](https://x.com)", "- item", &[("item", "https://x.com")]),
        ];
        for (md, text, links) in cases {
            let marked = markdown_to_text_with(md, LinkStyle::Marked, None);
            let (plain, found) = take_marked_links(&marked);
            assert_eq!(&plain, text, "{md:?}");
            let found: Vec<(&str, &str)> = found.iter().map(|(r, u)| (&plain[r.clone()], u.as_str())).collect();
            assert_eq!(&found, links, "{md:?}");
            // Threads output is unchanged by the hook.
            assert!(!markdown_to_text(md).contains(LINK_START));
        }
    }

    #[test]
    fn broken_link_markers_are_dropped() {
        let cases = [
            (format!("a{LINK_START}b"), "ab"),
            (format!("a{LINK_START}b{LINK_URL}u"), "abu"),
            (format!("{LINK_END}x{LINK_START}y{LINK_URL}u{LINK_END}"), "xy"),
            (format!("{LINK_START}{LINK_START}y{LINK_URL}u{LINK_END}"), "y"),
        ];
        for (input, want) in cases {
            assert_eq!(take_marked_links(&input).0, want, "{input:?}");
        }
    }
}
