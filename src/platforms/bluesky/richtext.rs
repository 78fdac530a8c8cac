//! Bluesky rich text: plain text plus facets (links, tags, mentions) whose
//! ranges are UTF-8 byte offsets into the text (`app.bsky.richtext.facet`).
//!
//! The text comes from the same Markdown conversion as Threads text, with
//! links written in [`LinkStyle::Marked`](crate::render::text::LinkStyle) so the
//! label stays in the text and its URL becomes a facet after templating. Bare
//! URLs get a link facet and are shortened for display the way the Bluesky app
//! shortens them (host plus the first 13 characters of the path, then `...`);
//! the facet keeps the whole URL. `#tag` gets a tag facet, `@handle` a mention
//! facet that publishing resolves to a DID.

use std::ops::Range;

use serde_json::{Value, json};
use unicode_segmentation::UnicodeSegmentation;

use crate::render::text::{find_hashtags, find_urls, split_auto, take_marked_links, unshield};

/// Limits of `app.bsky.feed.post#text`.
pub const MAX_GRAPHEMES: usize = 300;
pub const MAX_TEXT_BYTES: usize = 3000;
/// Limits of `app.bsky.richtext.facet#tag`.
pub const MAX_TAG_GRAPHEMES: usize = 64;
pub const MAX_TAG_BYTES: usize = 640;

/// What a facet does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Feature {
    Link(String),
    /// The tag without its `#`.
    Tag(String),
    /// The handle without its `@`; the DID is looked up when publishing.
    Mention(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facet {
    /// Byte range in the text.
    pub range: Range<usize>,
    pub feature: Feature,
}

impl Facet {
    /// The lexicon shape. A mention carries `did` when `did` is given, else
    /// (before publishing) the `handle` it will be resolved from.
    pub fn to_json(&self, did: Option<&str>) -> Value {
        let feature = match &self.feature {
            Feature::Link(uri) => json!({"$type": "app.bsky.richtext.facet#link", "uri": uri}),
            Feature::Tag(tag) => json!({"$type": "app.bsky.richtext.facet#tag", "tag": tag}),
            Feature::Mention(handle) => match did {
                Some(did) => json!({"$type": "app.bsky.richtext.facet#mention", "did": did}),
                None => json!({"$type": "app.bsky.richtext.facet#mention", "handle": handle}),
            },
        };
        json!({
            "index": {"byteStart": self.range.start, "byteEnd": self.range.end},
            "features": [feature],
        })
    }
}

/// Text with its facets, sorted by start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RichText {
    pub text: String,
    pub facets: Vec<Facet>,
}

impl RichText {
    /// Builds rich text from templated text that may hold marked links and shielded code
    /// ([`CODE_HASH`](crate::render::text::CODE_HASH)): a `#tag` or `@handle` in code gets
    /// no facet.
    pub fn from_marked(marked: &str) -> Self {
        let (text, links) = take_marked_links(marked);
        let (text, mut facets) = shorten_bare_urls(&text, links);
        let taken: Vec<Range<usize>> = facets.iter().map(|f| f.range.clone()).collect();
        let free = |r: &Range<usize>| !taken.iter().any(|t| t.start < r.end && r.start < t.end);
        for r in find_hashtags(&text).into_iter().filter(free) {
            let tag = &text[r.start + 1..r.end];
            if tag.graphemes(true).count() <= MAX_TAG_GRAPHEMES && tag.len() <= MAX_TAG_BYTES {
                facets.push(Facet { feature: Feature::Tag(tag.to_owned()), range: r });
            }
        }
        for r in find_mentions(&text).into_iter().filter(free) {
            facets.push(Facet { feature: Feature::Mention(text[r.start + 1..r.end].to_owned()), range: r });
        }
        facets.sort_by_key(|f| (f.range.start, f.range.end));
        // One byte for one: every range found holds in the text as sent.
        Self { text: unshield(&text), facets }
    }

    pub fn graphemes(&self) -> usize {
        self.text.graphemes(true).count()
    }

    /// Whether the text is within both limits of a post.
    pub fn fits(&self) -> bool {
        fits(&self.text)
    }

    /// The first link facet's URL (the link card candidate).
    pub fn first_link(&self) -> Option<&str> {
        self.facets.iter().find_map(|f| match &f.feature {
            Feature::Link(uri) => Some(uri.as_str()),
            _ => None,
        })
    }

    /// Splits text that is over a limit into parts that fit, like Threads'
    /// `split: auto` (paragraphs, then sentences, then words), each facet going
    /// with the part that holds its text (a label cut in two links from both).
    pub fn split_to_fit(&self) -> Vec<RichText> {
        if self.fits() {
            return vec![self.clone()];
        }
        let mut pieces = Vec::new();
        for piece in split_auto(&self.text, MAX_TEXT_BYTES) {
            push_fitting(piece, &mut pieces);
        }
        let mut cursor = 0;
        pieces
            .into_iter()
            .map(|piece| {
                let map = align(&self.text, &piece, &mut cursor);
                let facets = self
                    .facets
                    .iter()
                    .filter_map(|f| {
                        let inside: Vec<&(usize, usize, usize)> =
                            map.iter().filter(|(orig, _, _)| f.range.contains(orig)).collect();
                        let (first, last) = (inside.first()?, inside.last()?);
                        Some(Facet { range: first.1..last.1 + last.2, feature: f.feature.clone() })
                    })
                    .collect();
                RichText { text: piece, facets }
            })
            .collect()
    }
}

pub fn fits(text: &str) -> bool {
    text.len() <= MAX_TEXT_BYTES && text.graphemes(true).count() <= MAX_GRAPHEMES
}

/// `split_auto` cuts by bytes; a piece still over the grapheme limit is cut
/// again at the byte length of its first 300 graphemes (each round is shorter,
/// so this ends).
fn push_fitting(piece: String, out: &mut Vec<String>) {
    if fits(&piece) {
        out.push(piece);
        return;
    }
    let cut = piece.grapheme_indices(true).nth(MAX_GRAPHEMES).map_or(piece.len(), |(i, _)| i).min(MAX_TEXT_BYTES);
    let subs = split_auto(&piece, cut.max(1));
    if subs.len() == 1 {
        out.extend(subs); // A single unsplittable grapheme run: leave it to the rules.
        return;
    }
    for sub in subs {
        push_fitting(sub, out);
    }
}

/// Maps every non-whitespace char of `piece` to its offset in `text` (the
/// splitter only changes whitespace), as (offset in text, offset in piece, len).
fn align(text: &str, piece: &str, cursor: &mut usize) -> Vec<(usize, usize, usize)> {
    let mut map = Vec::new();
    for (pi, ch) in piece.char_indices() {
        if ch.is_whitespace() {
            continue;
        }
        let Some(found) = text[*cursor..].find(ch) else { continue };
        let orig = *cursor + found;
        map.push((orig, pi, ch.len_utf8()));
        *cursor = orig + ch.len_utf8();
    }
    map
}

/// Adds a link facet for every bare URL outside `links`, writing the URL the
/// short way; returns the new text and every link facet at its new place.
fn shorten_bare_urls(text: &str, links: Vec<(Range<usize>, String)>) -> (String, Vec<Facet>) {
    let bare: Vec<Range<usize>> = find_urls(text)
        .into_iter()
        .filter(|r| !links.iter().any(|(l, _)| l.start < r.end && r.start < l.end))
        .collect();
    let mut out = String::with_capacity(text.len());
    let mut facets = Vec::new();
    // (old end of an edit, cumulative change in length after it)
    let mut shifts: Vec<(usize, isize)> = Vec::new();
    let mut copied = 0;
    let mut delta: isize = 0;
    for r in bare {
        out.push_str(&text[copied..r.start]);
        let url = &unshield(&text[r.clone()]);
        let short = short_url(url);
        let start = out.len();
        out.push_str(&short);
        facets.push(Facet { range: start..out.len(), feature: Feature::Link(url.to_owned()) });
        delta += short.len() as isize - url.len() as isize;
        shifts.push((r.end, delta));
        copied = r.end;
    }
    out.push_str(&text[copied..]);
    let moved = |at: usize| -> usize {
        let d = shifts.iter().take_while(|(end, _)| *end <= at).last().map_or(0, |(_, d)| *d);
        (at as isize + d) as usize
    };
    for (r, url) in links {
        facets.push(Facet { range: moved(r.start)..moved(r.end), feature: Feature::Link(url) });
    }
    (out, facets)
}

/// A URL as the Bluesky app shows it: without the scheme, and with a path
/// (query and fragment included) of more than 15 characters cut to 13 plus `...`.
pub fn short_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return url.to_owned();
    }
    let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = rest[..split].to_lowercase();
    let path = if &rest[split..] == "/" { "" } else { &rest[split..] };
    if path.chars().count() > 15 {
        let head: String = path.chars().take(13).collect();
        format!("{host}{head}...")
    } else {
        format!("{host}{path}")
    }
}

/// Byte ranges of `@handle` mentions (the `@` included): `@` at the start or
/// after whitespace or `(`, then a handle: two or more dot-separated labels of
/// ASCII letters, digits and `-` (1–63 each, no `-` at either end), the last
/// one starting with a letter. A trailing `.` or `-` is not part of it.
pub fn find_mentions(text: &str) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    for (i, _) in text.match_indices('@') {
        let at_boundary = text[..i].chars().next_back().is_none_or(|p| p.is_whitespace() || p == '(');
        if !at_boundary {
            continue;
        }
        let body = i + 1;
        let len = text[body..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
            .unwrap_or(text.len() - body);
        let handle = text[body..body + len].trim_end_matches(['.', '-']);
        // Followed by a letter that is not ASCII (`@bob.comé`): not a handle.
        let next = text[body + len..].chars().next();
        if handle.len() == len && next.is_some_and(char::is_alphanumeric) {
            continue;
        }
        if is_handle(handle) {
            found.push(i..body + handle.len());
        }
    }
    found
}

/// atproto handle syntax (a domain name of at least two labels).
pub fn is_handle(handle: &str) -> bool {
    let labels: Vec<&str> = handle.split('.').collect();
    handle.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            (1..=63).contains(&l.len())
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
        && labels.last().is_some_and(|tld| tld.starts_with(|c: char| c.is_ascii_alphabetic()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::text::{LinkStyle, markdown_to_text_shielded};

    fn rich(md: &str) -> RichText {
        RichText::from_marked(&markdown_to_text_shielded(md, LinkStyle::Marked, None))
    }

    /// (facet text, feature) pairs, checked through the byte offsets.
    fn shown(rt: &RichText) -> Vec<(String, Feature)> {
        rt.facets.iter().map(|f| (rt.text[f.range.clone()].to_owned(), f.feature.clone())).collect()
    }

    fn link(s: &str) -> Feature {
        Feature::Link(s.to_owned())
    }

    #[test]
    fn facets_use_utf8_byte_offsets() {
        let rt = rich("Café ☕ [日本語](https://例え.jp/パス) and 👨\u{200d}👩\u{200d}👧 #Rust @alice.bsky.social!");
        assert_eq!(rt.text, "Café ☕ 日本語 and 👨\u{200d}👩\u{200d}👧 #Rust @alice.bsky.social!");
        // "Café ☕ " is 5 + 1 + 3 + 1 = 10 bytes (é is 2, ☕ is 3).
        assert_eq!(rt.facets[0].range, 10..19);
        assert_eq!(
            shown(&rt),
            vec![
                ("日本語".to_owned(), link("https://例え.jp/パス")),
                ("#Rust".to_owned(), Feature::Tag("Rust".into())),
                ("@alice.bsky.social".to_owned(), Feature::Mention("alice.bsky.social".into())),
            ]
        );
        let json = rt.facets[0].to_json(None);
        assert_eq!(json["index"]["byteStart"], 10);
        assert_eq!(json["features"][0]["$type"], "app.bsky.richtext.facet#link");
    }

    /// (markdown, text, [(facet text, url)])
    type Case = (&'static str, &'static str, &'static [(&'static str, &'static str)]);

    #[test]
    fn bare_urls_are_shortened_and_keep_the_whole_url() {
        let cases: &[Case] = &[
            ("see https://example.com", "see example.com", &[("example.com", "https://example.com")]),
            ("see https://example.com/", "see example.com", &[("example.com", "https://example.com/")]),
            (
                "read https://Example.com/posts/2026/a-long-title?x=1.",
                "read example.com/posts/2026/a....",
                &[("example.com/posts/2026/a...", "https://Example.com/posts/2026/a-long-title?x=1")],
            ),
            (
                "http://x.io/short-path-123",
                "x.io/short-path-123",
                &[("x.io/short-path-123", "http://x.io/short-path-123")],
            ),
            (
                "😀 https://a.b/ü-ü-ü-ü-ü-ü-ü-ü then [l](https://c.d) https://e.f",
                "😀 a.b/ü-ü-ü-ü-ü-ü-... then l e.f",
                &[("a.b/ü-ü-ü-ü-ü-ü-...", "https://a.b/ü-ü-ü-ü-ü-ü-ü-ü"), ("l", "https://c.d"), ("e.f", "https://e.f")],
            ),
        ];
        for (md, text, links) in cases {
            let rt = rich(md);
            assert_eq!(&rt.text, text, "{md:?}");
            let got: Vec<(String, Feature)> = shown(&rt);
            let want: Vec<(String, Feature)> = links.iter().map(|(t, u)| ((*t).to_owned(), link(u))).collect();
            assert_eq!(got, want, "{md:?}");
        }
    }

    #[test]
    fn tags_and_mentions_follow_the_syntax() {
        let cases: &[(&str, &[&str])] = &[
            ("#rust and #Rust_lang, #1 not", &["#rust", "#Rust_lang"]),
            ("a#b no, (#yes)", &["#yes"]),
            ("@bob.test @alice.bsky.social. end", &["@bob.test", "@alice.bsky.social"]),
            ("mail me@x.com no, @nodots no, @-a.com no, @a.1com no", &[]),
            ("(@carol.example.org) ok", &["@carol.example.org"]),
            ("[#notatag](https://x.com) #tag", &["#notatag", "#tag"]),
            // Code is code: no tag or mention in it (the bare URL in it is still a link).
            ("`make #all` `@bob.test` #real", &["#real"]),
            ("x\n\n    #incode @bob.test\n\n```\n#fenced\n```", &[]),
            ("`https://x.com/#frag` #t", &["x.com/#frag", "#t"]),
        ];
        for (md, want) in cases {
            let rt = rich(md);
            let got: Vec<String> = shown(&rt).into_iter().map(|(t, _)| t).collect();
            assert_eq!(&got, want, "{md:?}");
        }
        let code = rich("`https://x.com/#frag @a.bc` and #t");
        assert_eq!(code.text, "x.com/#frag @a.bc and #t", "code is sent as written (a bare URL shortened)");
        assert_eq!(code.facets[0].feature, link("https://x.com/#frag"));
        let long = format!("#{}", "a".repeat(65));
        assert!(rich(&long).facets.is_empty(), "a tag over 64 graphemes is left plain");
    }

    #[test]
    fn split_keeps_facets_with_their_text() {
        let para = format!("{} [link here](https://x.com/a) #tag{}", "é".repeat(200), " mot".repeat(40));
        let md = format!("{para}\n\n{para}");
        let rt = rich(&md);
        assert!(!rt.fits());
        let parts = rt.split_to_fit();
        assert!(parts.len() >= 2, "{}", parts.len());
        let mut links = 0;
        for p in &parts {
            assert!(p.fits(), "{} graphemes", p.graphemes());
            for f in &p.facets {
                let t = &p.text[f.range.clone()];
                match &f.feature {
                    Feature::Link(u) => {
                        assert_eq!(u, "https://x.com/a");
                        assert!("link here".contains(t), "{t:?}");
                        links += 1;
                    }
                    Feature::Tag(tag) => assert_eq!(t, format!("#{tag}")),
                    Feature::Mention(_) => panic!("no mentions here"),
                }
            }
        }
        assert!(links >= 2);
        let joined: String = parts.iter().map(|p| p.text.replace(char::is_whitespace, "")).collect();
        assert_eq!(joined, rt.text.replace(char::is_whitespace, ""), "no word lost or reordered");
    }

    #[test]
    fn grapheme_limit_splits_even_when_bytes_fit() {
        let rt = rich(&"ab ".repeat(250));
        assert!(rt.text.len() < MAX_TEXT_BYTES && rt.graphemes() > MAX_GRAPHEMES);
        let parts = rt.split_to_fit();
        assert_eq!(parts.len(), 3);
        assert!(parts.iter().all(RichText::fits));
    }
}
