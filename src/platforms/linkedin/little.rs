//! LinkedIn's "little" text format, the `commentary` of a post.
//!
//! Fifteen characters are reserved for little elements (`| { } @ [ ] ( ) < > # \ * _ ~`)
//! and must be escaped with a backslash to show as themselves; LinkedIn cuts an unescaped
//! post at the first one (reference §6.4). crier escapes every one of them, and writes each
//! hashtag the plain text has (`#word`, found as everywhere in crier) as the hashtag template
//! `{hashtag|\#|word}`, the one form LinkedIn documents as a hashtag element, so it links
//! like a tag typed in the app.

use crate::render::text::{CODE_AT, CODE_HASH, find_hashtags};

/// The reserved characters.
pub const RESERVED: [char; 15] = ['|', '{', '}', '@', '[', ']', '(', ')', '<', '>', '#', '\\', '*', '_', '~'];

/// `text` with every reserved character escaped (and the shielded `#` and `@` of code
/// written back, escaped).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        let c = match c {
            CODE_HASH => '#',
            CODE_AT => '@',
            c => c,
        };
        if RESERVED.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The commentary of plain `text`: escaped, its hashtags as hashtag elements (none from
/// code, whose `#` is shielded in `text`).
pub fn commentary(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut at = 0;
    for tag in find_hashtags(text) {
        out.push_str(&escape(&text[at..tag.start]));
        // The tag's word is escaped too: `_` is reserved and may be part of a tag.
        out.push_str("{hashtag|\\#|");
        out.push_str(&escape(&text[tag.start + 1..tag.end]));
        out.push('}');
        at = tag.end;
    }
    out.push_str(&escape(&text[at..]));
    out
}

/// Characters as the reference advises counting them: UTF-16 units of the unescaped text.
pub fn count(text: &str) -> usize {
    text.encode_utf16().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reserved_character_is_escaped() {
        let cases = [
            ("plain words, 100% fine!", "plain words, 100% fine!"),
            ("a (b) [c] {d} <e>", "a \\(b\\) \\[c\\] \\{d\\} \\<e\\>"),
            ("x|y@z*w_v~u\\t", "x\\|y\\@z\\*w\\_v\\~u\\\\t"),
            ("issue #", "issue \\#"),
            ("https://e.com/a_(b)", "https://e.com/a\\_\\(b\\)"),
        ];
        for (input, want) in cases {
            assert_eq!(escape(input), want, "{input}");
        }
        let all: String = RESERVED.iter().collect();
        assert_eq!(escape(&all).chars().filter(|c| *c == '\\').count(), 15 + 1);
    }

    #[test]
    fn hashtags_become_hashtag_elements() {
        let cases = [
            ("Shipping #rust today", "Shipping {hashtag|\\#|rust} today"),
            ("#open_source (and #1)", "{hashtag|\\#|open\\_source} \\(and \\#1\\)"),
            ("C# is not a tag", "C\\# is not a tag"),
            ("no tags", "no tags"),
            // The `#` and `@` of code come shielded: escaped, never a hashtag element.
            ("make \u{1}all \u{2}me #rust", "make \\#all \\@me {hashtag|\\#|rust}"),
        ];
        for (input, want) in cases {
            assert_eq!(commentary(input), want, "{input}");
        }
    }

    #[test]
    fn counts_utf16_units_of_the_unescaped_text() {
        assert_eq!(count("abc"), 3);
        assert_eq!(count("é😀"), 3);
        assert_eq!(count("(x)"), 3, "escapes do not count");
    }
}
