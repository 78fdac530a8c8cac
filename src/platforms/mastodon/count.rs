//! Counting characters the way Mastodon does, and splitting text to fit.
//!
//! Mastodon's status length validator counts grapheme clusters of the content
//! warning followed by the text, after replacing every URL with a fixed number
//! of characters (`characters_reserved_per_url`, 23 by default) and every
//! remote mention `@user@domain` with `@user` (the domain is free). The web
//! composer counts the same way, so a post that fits here fits there.

use unicode_segmentation::UnicodeSegmentation;

use crate::render::text;

/// Characters the instance counts for `text` with `spoiler_text` in front of it.
pub fn weighted_len(text: &str, spoiler_text: &str, per_url: usize) -> usize {
    spoiler_text.graphemes(true).count() + text_len(text, per_url)
}

/// Characters counted for the text alone.
pub fn text_len(text: &str, per_url: usize) -> usize {
    let mut total = 0;
    let mut at = 0;
    for url in text::find_urls(text) {
        total += without_mention_domains(&text[at..url.start]);
        total += per_url;
        at = url.end;
    }
    total + without_mention_domains(&text[at..])
}

/// Graphemes of `s`, where each `@user@domain` counts as `@user`.
fn without_mention_domains(s: &str) -> usize {
    let mut total = s.graphemes(true).count();
    for domain in mention_domains(s) {
        total -= s[domain].graphemes(true).count();
    }
    total
}

/// Byte ranges of the `@domain` tails of remote mentions in `s`.
///
/// A mention starts with `@` not preceded by a word character, `/` or `=`
/// (so e-mail addresses and URL paths are not mentions), then a username of
/// ASCII letters, digits and `_` (dots and dashes only between them), then
/// `@` and a domain of word characters, dots and dashes that ends in a word
/// character.
pub fn mention_domains(s: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(n) = s[i..].find('@') {
        let at = i + n;
        i = at + 1;
        let before_ok = s[..at].chars().next_back().is_none_or(|c| !(is_word(c) || c == '/' || c == '='));
        if !before_ok {
            continue;
        }
        // Username: [a-z0-9_]+ with single runs of `.`/`-` between parts.
        let mut end = at + 1;
        let mut last_word = end;
        while end < bytes.len() {
            let b = bytes[end];
            if b.is_ascii_alphanumeric() || b == b'_' {
                end += 1;
                last_word = end;
            } else if (b == b'.' || b == b'-') && last_word == end && end > at + 1 {
                end += 1;
            } else {
                break;
            }
        }
        let user_end = last_word;
        if user_end == at + 1 || bytes.get(user_end) != Some(&b'@') {
            continue;
        }
        let domain_start = user_end + 1;
        let mut d_end = domain_start;
        let mut d_last_word = domain_start;
        for (off, c) in s[domain_start..].char_indices() {
            if is_word(c) {
                d_end = domain_start + off + c.len_utf8();
                d_last_word = d_end;
            } else if c == '.' || c == '-' {
                d_end = domain_start + off + c.len_utf8();
            } else {
                break;
            }
        }
        let _ = d_end;
        if d_last_word > domain_start {
            out.push(user_end..d_last_word);
            i = d_last_word;
        }
    }
    out
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Splits `text` into parts that each count at most `max` characters
/// (weighted as [`text_len`]), with `reserve` characters kept free in every
/// part (the content warning, which Mastodon counts once per status).
///
/// The cutting itself is the shared splitter's (paragraphs, then sentences,
/// then words, never inside a grapheme); it measures bytes, and a byte count
/// is never below Mastodon's count except for URLs shorter than the reserved
/// length. So the largest byte budget whose pieces all fit is searched for,
/// which gives as few parts as the splitter can make.
pub fn split_to_fit(text: &str, max: usize, reserve: usize, per_url: usize) -> Vec<String> {
    // Pieces of a budget of `room` bytes fit unless short URLs weigh more than their
    // bytes: the splitter shrinks by the URL surcharge until they do.
    text::split_counted(text, max.saturating_sub(reserve), per_url, |p| text_len(p, per_url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_like_mastodon() {
        let long_url = format!("https://example.com/{}", "a".repeat(200));
        let accents = "é".repeat(500);
        let cases: &[(&str, &str, usize)] = &[
            ("", "", 0),
            ("hello", "", 5),
            ("hello", "cw", 7),
            // Graphemes: a family emoji and an accented letter are one each.
            ("👨‍👩‍👧‍👦e\u{301}", "", 2),
            ("https://example.com", "", 23),
            (&long_url, "", 23),
            ("see https://a.example/x and http://b.example.", "", 4 + 23 + 5 + 23 + 1),
            // Remote mentions count without their domain.
            ("@alice@mastodon.social hi", "", 9),
            ("hi @bob", "", 7),
            ("@a.b-c@x.example.org", "", 6),
            // E-mail addresses and URL paths are not mentions.
            ("mail me@example.com", "", 19),
            ("x/@user@host.example", "", 20),
            (&accents, "", 500),
        ];
        for (text, cw, want) in cases {
            assert_eq!(weighted_len(text, cw, 23), *want, "{text:?} / {cw:?}");
        }
        assert_eq!(text_len("https://example.com", 30), 30);
    }

    #[test]
    fn mention_domain_ranges() {
        let s = "hi @alice@mastodon.social, and @bob@x.y.";
        let got: Vec<&str> = mention_domains(s).into_iter().map(|r| &s[r]).collect();
        assert_eq!(got, ["@mastodon.social", "@x.y"]);
    }

    #[test]
    fn split_fits_and_keeps_every_word() {
        let word = "évènement ";
        let text = word.repeat(120); // 1200 characters, 1440 bytes
        for (max, reserve) in [(500, 0), (500, 40), (100, 0)] {
            let parts = split_to_fit(text.trim(), max, reserve, 23);
            for p in &parts {
                assert!(text_len(p, 23) <= max - reserve, "{} > {}", text_len(p, 23), max - reserve);
            }
            let joined: Vec<&str> = parts.iter().flat_map(|p| p.split_whitespace()).collect();
            assert_eq!(joined, text.split_whitespace().collect::<Vec<_>>());
        }
        // Characters, not bytes: 1200 accented characters need 3 parts of 500, not 4.
        assert_eq!(split_to_fit(text.trim(), 500, 0, 23).len(), 3);
    }

    #[test]
    fn split_counts_urls_at_their_reserved_length() {
        let url = format!("https://example.com/{}", "p".repeat(100));
        let text = vec![url.as_str(); 30].join(" "); // 30 URLs: 30 * 23 + 29 = 719 characters
        let parts = split_to_fit(&text, 500, 0, 23);
        assert_eq!(parts.len(), 2, "{parts:?}");
        assert!(parts.iter().all(|p| text_len(p, 23) <= 500));
        // Short URLs weigh more than their bytes.
        let short = vec!["http://a.io"; 60].join(" ");
        let parts = split_to_fit(&short, 500, 0, 23);
        assert!(parts.iter().all(|p| text_len(p, 23) <= 500), "{parts:?}");
        assert_eq!(parts.iter().map(|p| p.split(' ').count()).sum::<usize>(), 60);
    }

    #[test]
    fn short_text_is_one_part() {
        assert_eq!(split_to_fit("short", 500, 0, 23), ["short"]);
    }
}
