//! Markdown → Telegram text: plain text plus `MessageEntity` values whose offsets and
//! lengths count UTF-16 code units, as the Bot API counts them. Entities rather than
//! `parse_mode: HTML`: nothing in the text needs escaping, so no character of a post can
//! break a message, and the limits (4,096 per message, 1,024 per caption) count the same
//! units the entities do.
//!
//! Bold (`**`), italic (`*`), strikethrough (`~~`), inline code, code blocks (with their
//! language), links, headings (bold) and block quotes keep their formatting; lists become
//! `•` or numbered lines; images are left out (media go in `media:`); a relative link is
//! made absolute against `site.base_url`, else kept as its label.

use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};
use serde_json::{Value, json};
use url::Url;

use crate::render::text;

/// A message's text and its formatting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Formatted {
    pub text: String,
    pub entities: Vec<Entity>,
}

/// One `MessageEntity`: a kind over `length` UTF-16 units from `offset`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    pub kind: Kind,
    pub offset: usize,
    pub length: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Bold,
    Italic,
    Strikethrough,
    Code,
    /// A code block, with its language when the fence names one.
    Pre(Option<String>),
    TextLink(String),
    Blockquote,
}

impl Entity {
    /// The Bot API's `MessageEntity` object.
    pub fn to_json(&self) -> Value {
        let (kind, extra) = match &self.kind {
            Kind::Bold => ("bold", None),
            Kind::Italic => ("italic", None),
            Kind::Strikethrough => ("strikethrough", None),
            Kind::Code => ("code", None),
            Kind::Pre(lang) => ("pre", lang.as_ref().map(|l| ("language", l))),
            Kind::TextLink(url) => ("text_link", Some(("url", url))),
            Kind::Blockquote => ("blockquote", None),
        };
        let mut v = json!({"type": kind, "offset": self.offset, "length": self.length});
        if let Some((key, value)) = extra {
            v[key] = json!(value);
        }
        v
    }
}

impl Formatted {
    /// Its length as Telegram counts it (UTF-16 code units).
    pub fn len(&self) -> usize {
        utf16_len(&self.text)
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    pub fn entities_json(&self) -> Value {
        Value::Array(self.entities.iter().map(Entity::to_json).collect())
    }
}

/// UTF-16 code units of `s` (an emoji outside the BMP counts 2, a CJK character 1).
pub fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// Converts Markdown to text and entities.
pub fn from_markdown(markdown: &str, site: Option<&Url>) -> Formatted {
    let mut w = Writer::default();
    // Open entities: (kind, UTF-16 start); `None` kind for a link without a URL.
    let mut open: Vec<(Option<Kind>, usize)> = Vec::new();
    let mut lists: Vec<Option<u64>> = Vec::new();
    let mut in_image = 0usize;
    let mut first_item = false;
    for event in Parser::new_ext(markdown, text::markdown_options()) {
        match event {
            Event::Start(tag) => match tag {
                Tag::Paragraph => w.block(lists.len()),
                Tag::Heading { .. } => {
                    w.block(lists.len());
                    open.push((Some(Kind::Bold), w.start()));
                }
                Tag::BlockQuote(_) => {
                    w.block(lists.len());
                    open.push((Some(Kind::Blockquote), w.start()));
                }
                Tag::CodeBlock(kind) => {
                    w.block(lists.len());
                    let lang = match kind {
                        CodeBlockKind::Fenced(info) => {
                            info.split_whitespace().next().filter(|l| !l.is_empty()).map(str::to_owned)
                        }
                        CodeBlockKind::Indented => None,
                    };
                    open.push((Some(Kind::Pre(lang)), w.start()));
                }
                Tag::List(start) => {
                    lists.push(start);
                    first_item = true;
                }
                Tag::Item => {
                    w.item(first_item && lists.len() == 1);
                    first_item = false;
                    let depth = lists.len().saturating_sub(1);
                    let bullet = match lists.last_mut() {
                        Some(Some(n)) => {
                            *n += 1;
                            format!("{}. ", *n - 1)
                        }
                        _ => "• ".to_owned(),
                    };
                    w.push(&format!("{}{bullet}", "  ".repeat(depth)));
                    w.in_item = true;
                }
                Tag::Emphasis => open.push((Some(Kind::Italic), w.start())),
                Tag::Strong => open.push((Some(Kind::Bold), w.start())),
                Tag::Strikethrough => open.push((Some(Kind::Strikethrough), w.start())),
                Tag::Link { dest_url, .. } => {
                    let url = text::resolve_link(&dest_url, site);
                    open.push((url.map(Kind::TextLink), w.start()));
                }
                Tag::Image { .. } => in_image += 1,
                _ => {}
            },
            Event::End(tag) => match tag {
                TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::BlockQuote(_) | TagEnd::CodeBlock => {
                    if tag == TagEnd::CodeBlock {
                        w.trim_end();
                    }
                    if !matches!(tag, TagEnd::Paragraph) {
                        w.close(open.pop());
                    }
                    w.end_block();
                }
                TagEnd::List(_) => {
                    lists.pop();
                    if lists.is_empty() {
                        w.end_block();
                    }
                }
                TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough | TagEnd::Link => w.close(open.pop()),
                TagEnd::Image => in_image = in_image.saturating_sub(1),
                _ => {}
            },
            Event::Text(t) if in_image == 0 => w.push(&t.replace('\r', "")),
            Event::Code(t) => {
                let start = w.start();
                w.push(&t);
                w.close(Some((Some(Kind::Code), start)));
            }
            Event::Html(t) | Event::InlineHtml(t) if in_image == 0 => w.push(t.trim_end_matches('\n')),
            Event::SoftBreak | Event::HardBreak if in_image == 0 => w.push("\n"),
            Event::Rule => w.end_block(),
            _ => {}
        }
    }
    w.finish()
}

#[derive(Default)]
struct Writer {
    text: String,
    len16: usize,
    entities: Vec<Entity>,
    /// A block ended: the next text starts after a blank line.
    pending: bool,
    /// Text of a list item follows its bullet on the same line.
    in_item: bool,
}

impl Writer {
    fn push(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        self.start();
        self.raw(s);
    }

    /// Where an entity opening here starts: after the blank line a block that ended
    /// leaves, which is written now so the entity does not cover it.
    fn start(&mut self) -> usize {
        if self.pending && !self.text.is_empty() {
            self.raw("\n\n");
        }
        self.pending = false;
        self.len16
    }

    fn raw(&mut self, s: &str) {
        self.text.push_str(s);
        self.len16 += utf16_len(s);
    }

    /// A block starts: inside a list item it continues the item's line.
    fn block(&mut self, in_list: usize) {
        if in_list > 0 && self.in_item {
            self.in_item = false;
            self.pending = false;
        }
    }

    fn end_block(&mut self) {
        self.pending = true;
    }

    /// A list item starts on its own line; a list after a paragraph after a blank line.
    fn item(&mut self, first_of_list: bool) {
        if !self.text.is_empty() {
            if first_of_list {
                self.raw("\n\n");
            } else if !self.text.ends_with('\n') {
                self.raw("\n");
            }
        }
        self.pending = false;
    }

    fn trim_end(&mut self) {
        let trimmed = self.text.trim_end_matches(['\n', ' ']).len();
        self.len16 -= utf16_len(&self.text[trimmed..]);
        self.text.truncate(trimmed);
    }

    fn close(&mut self, entry: Option<(Option<Kind>, usize)>) {
        if let Some((Some(kind), start)) = entry {
            if self.len16 > start {
                self.entities.push(Entity { kind, offset: start, length: self.len16 - start });
            }
        }
    }

    fn finish(mut self) -> Formatted {
        self.trim_end();
        let end = self.len16;
        let mut entities: Vec<Entity> = self
            .entities
            .into_iter()
            .filter_map(|e| {
                let length = e.length.min(end.saturating_sub(e.offset));
                (length > 0).then_some(Entity { length, ..e })
            })
            .collect();
        // Outer entities before inner ones that start at the same place.
        entities.sort_by(|a, b| a.offset.cmp(&b.offset).then(b.length.cmp(&a.length)));
        Formatted { text: self.text, entities }
    }
}

/// Cuts `f` into messages of at most `max` UTF-16 units: at a blank line, else a line
/// break, else a space, else anywhere (never inside a surrogate pair). An entity across a
/// cut continues in the next message.
pub fn split(f: &Formatted, max: usize) -> Vec<Formatted> {
    if f.len() <= max {
        return vec![f.clone()];
    }
    // UTF-16 offset of every char boundary, by byte index.
    let mut at16 = Vec::with_capacity(f.text.len() + 1);
    let mut n = 0;
    for (i, c) in f.text.char_indices() {
        at16.push((i, n));
        n += c.len_utf16();
    }
    at16.push((f.text.len(), n));
    let u16_of = |byte: usize| at16.iter().find(|(b, _)| *b == byte).map_or(n, |(_, u)| *u);
    let mut out = Vec::new();
    let mut start = 0;
    while start < f.text.len() {
        let start16 = u16_of(start);
        let rest = &f.text[start..];
        let limit = at16.iter().rev().find(|(b, u)| *b >= start && *u - start16 <= max).map_or(start, |(b, _)| *b);
        let end = if limit >= f.text.len() {
            f.text.len()
        } else {
            let window = &rest[..limit - start];
            ["\n\n", "\n", " "]
                .iter()
                .find_map(|sep| window.rfind(sep).filter(|&i| i > 0))
                .map_or(limit.max(start + rest.chars().next().map_or(1, char::len_utf8)), |i| start + i)
        };
        let piece = f.text[start..end].trim_end();
        let (a, b) = (start16, start16 + utf16_len(piece));
        let entities = f
            .entities
            .iter()
            .filter_map(|e| {
                let (s, t) = (e.offset.max(a), (e.offset + e.length).min(b));
                (t > s).then(|| Entity { kind: e.kind.clone(), offset: s - a, length: t - s })
            })
            .collect();
        out.push(Formatted { text: piece.to_owned(), entities });
        // The next message starts after the whitespace of the cut.
        start = end + f.text[end..].len() - f.text[end..].trim_start().len();
        // Entities are counted from the new start: skipped whitespace is dropped from them.
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ents(f: &Formatted) -> Vec<(String, &str)> {
        // Each entity as its type and the text it covers (decoded through UTF-16).
        let units: Vec<u16> = f.text.encode_utf16().collect();
        f.entities
            .iter()
            .map(|e| {
                let kind = e.to_json()["type"].as_str().unwrap_or("?").to_owned();
                let covered = String::from_utf16(&units[e.offset..e.offset + e.length]).expect("whole characters");
                (kind, Box::leak(covered.into_boxed_str()) as &str)
            })
            .collect()
    }

    #[test]
    fn formatting_becomes_entities_counted_in_utf16() {
        // (Markdown, text, [(entity type, text it covers)]).
        type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);
        let cases: &[Case<'_>] = &[
            ("**bold** and *it*", "bold and it", &[("bold", "bold"), ("italic", "it")]),
            // An emoji is two UTF-16 units: the entity after it still covers the right word.
            ("🎉 **Release** 1.2", "🎉 Release 1.2", &[("bold", "Release")]),
            ("中文 `код` ~~x~~", "中文 код x", &[("code", "код"), ("strikethrough", "x")]),
            ("see [the docs](https://ex.com/d?a=1&b=<2>)", "see the docs", &[("text_link", "the docs")]),
            ("# Title\n\nbody", "Title\n\nbody", &[("bold", "Title")]),
            ("```rust\nfn main() {}\n```\n", "fn main() {}", &[("pre", "fn main() {}")]),
            ("> quoted 😀 text", "quoted 😀 text", &[("blockquote", "quoted 😀 text")]),
            // Nothing is escaped: HTML-special characters are text.
            ("a < b & c > d", "a < b & c > d", &[]),
            ("- one\n- **two**\n\nafter", "• one\n• two\n\nafter", &[("bold", "two")]),
            ("1. one\n2. two", "1. one\n2. two", &[]),
            ("text ![alt](x.png) more", "text  more", &[]),
            // A relative link without `site.base_url` keeps its label only.
            ("[setup](/docs/setup)", "setup", &[]),
            // An entity at the start of a block starts at its text, not at the blank line
            // before it; emoji before it (two units each) do not shift it.
            (
                "plain **bold** end\n\n**Bold start** x",
                "plain bold end\n\nBold start x",
                &[("bold", "bold"), ("bold", "Bold start")],
            ),
            ("😀 a\n\n**😀 b** c", "😀 a\n\n😀 b c", &[("bold", "😀 b")]),
            ("🎉 a\n\n```\nfn x() {}\n```", "🎉 a\n\nfn x() {}", &[("pre", "fn x() {}")]),
            ("🎉 a\n\n    indented", "🎉 a\n\nindented", &[("pre", "indented")]),
            ("𝄞 a\n\n> quote", "𝄞 a\n\nquote", &[("blockquote", "quote")]),
            ("𝄞 a\n\n# Head", "𝄞 a\n\nHead", &[("bold", "Head")]),
            ("a\n\n`code` b", "a\n\ncode b", &[("code", "code")]),
            ("a\n\n[link](https://ex.com) b", "a\n\nlink b", &[("text_link", "link")]),
            ("- one\n\n**after** x", "• one\n\nafter x", &[("bold", "after")]),
            ("a\n\n- **one**\n- two", "a\n\n• one\n• two", &[("bold", "one")]),
            ("> q1\n>\n> q2", "q1\n\nq2", &[("blockquote", "q1\n\nq2")]),
        ];
        for (md, text, want) in cases {
            let f = from_markdown(md, None);
            assert_eq!(f.text, *text, "{md}");
            let got = ents(&f);
            let got: Vec<(&str, &str)> = got.iter().map(|(k, c)| (k.as_str(), *c)).collect();
            assert_eq!(got, *want, "{md}");
        }
        let site = Url::parse("https://example.org/").ok();
        let f = from_markdown("[setup](/docs/setup)", site.as_ref());
        assert_eq!(f.entities[0].kind, Kind::TextLink("https://example.org/docs/setup".into()));
        let pre = from_markdown("```rust\nx\n```", None);
        assert_eq!(pre.entities_json()[0]["language"], "rust");
    }

    #[test]
    fn split_cuts_at_paragraphs_and_carries_entities_over() {
        let para = "**word** ".repeat(30); // 150 units a paragraph
        let md = format!("{para}\n\n{para}\n\n😀{para}");
        let f = from_markdown(&md, None);
        let parts = split(&f, 200);
        assert_eq!(parts.len(), 3, "{parts:?}");
        for p in &parts {
            assert!(p.len() <= 200);
            assert!(!p.text.starts_with(char::is_whitespace) && !p.text.ends_with(char::is_whitespace));
            // Every entity of every part still covers exactly "word".
            assert!(ents(p).iter().all(|(k, c)| k == "bold" && *c == "word"), "{p:?}");
            assert_eq!(p.entities.len(), 30);
        }
        // A single long word is cut anywhere, never inside a surrogate pair.
        let long =
            Formatted { text: "😀".repeat(5), entities: vec![Entity { kind: Kind::Bold, offset: 0, length: 10 }] };
        let parts = split(&long, 3);
        assert_eq!(parts.iter().map(|p| p.text.as_str()).collect::<Vec<_>>(), ["😀", "😀", "😀", "😀", "😀"]);
        assert!(parts.iter().all(|p| p.entities == vec![Entity { kind: Kind::Bold, offset: 0, length: 2 }]));
        assert_eq!(split(&f, 10_000), vec![f]);
    }
}
