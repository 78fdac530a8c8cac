//! Counting characters the way X counts them (twitter-text, configuration v3), and
//! `split: auto`.
//!
//! The text is NFC-normalised, then:
//! - every URL counts 23 (`transformedURLLength`): an `http://` or `https://` URL whose
//!   host labels each fit 63 characters once punycoded (a longer label is no host, so
//!   twitter-text counts such a "URL" character by character), and a URL without a scheme
//!   (`example.com`, `docs.rs/crate`): ASCII host labels (letters, digits, inner hyphens)
//!   whose last label is a top-level domain twitter-text knows (`tlds.txt` here),
//!   not glued to a letter, digit, `@`, `$`, `#`, `-`, `_`, `.` or `/` before it nor to
//!   `@`, `+` or `-` after it (so no e-mail address), with an optional `/path`. Like
//!   twitter-text's extractor (v3) a bare country-code domain (`foo.jp`) counts too;
//! - an emoji (a grapheme cluster that is an emoji sequence: ZWJ families, skin tones,
//!   flags, keycaps, tag sequences) counts 2 whatever its length;
//! - every other code point weighs 1 in the ranges U+0000–U+10FF, U+2000–U+200D,
//!   U+2010–U+201F and U+2032–U+2037, and 2 elsewhere (CJK, most symbols).
//!
//! The limit is 280 weighted characters. A few code points make a post invalid whatever
//! its length (U+FFFE, U+FFFF, U+FEFF and the directional overrides U+202A–U+202E are
//! counted but refused by twitter-text's validator only for the first three).
//!
//! Tested against twitter/twitter-text's `conformance/validate.yml` (v3 groups), kept in
//! `tests/fixtures/twitter-text/`.

use std::ops::Range;

use unicode_segmentation::UnicodeSegmentation;

use crate::render::text;

/// Weighted characters a post may have.
pub const MAX_WEIGHTED: usize = 280;
/// What a URL counts, whatever its length.
pub const URL_WEIGHT: usize = 23;

/// Weight ranges at scale 100 (twitter-text `config/v3.json`); everything else weighs 200.
const LIGHT: [(u32, u32); 4] = [(0, 4351), (8192, 8205), (8208, 8223), (8242, 8247)];

/// Code points twitter-text refuses in a post.
const INVALID: [char; 3] = ['\u{FFFE}', '\u{FEFF}', '\u{FFFF}'];

/// The text X receives: NFC-normalised.
pub fn normalize(text: &str) -> String {
    icu_normalizer::ComposingNormalizerBorrowed::new_nfc().normalize(text).into_owned()
}

/// X's weighted length of `text` (normalised here).
pub fn weighted_len(text: &str) -> usize {
    let text = normalize(text);
    let mut total = 0;
    let mut at = 0;
    for url in urls(&text) {
        total += plain_len(&text[at..url.start]);
        total += URL_WEIGHT;
        at = url.end;
    }
    total + plain_len(&text[at..])
}

/// Whether `text` is a post X accepts: not empty, at most 280 weighted characters, no
/// refused code point.
pub fn is_valid(text: &str) -> bool {
    !text.trim().is_empty() && weighted_len(text) <= MAX_WEIGHTED && !has_invalid(text)
}

/// A code point X refuses, if `text` has one.
pub fn has_invalid(text: &str) -> bool {
    text.contains(INVALID)
}

/// Whether the text has a URL (X prices a post with one higher).
pub fn has_url(text: &str) -> bool {
    !urls(&normalize(text)).is_empty()
}

/// The ASCII punctuation that may end a cashtag (twitter-text `punct`).
const CASHTAG_END: &str = "!'#%&()*+,\\./:;<=>?@[]^_{|}~$-";

/// Byte ranges of the cashtags in `text`, as twitter-text's `validCashtag` finds them: `$`
/// at the start or after white space, 1–6 ASCII letters, optionally `.` or `_` and 1–2
/// letters, then the end, white space or ASCII punctuation. X takes at most one in a post
/// created through the API (reference §7.3).
pub fn cashtags(text: &str) -> Vec<Range<usize>> {
    let ends = |rest: &str| rest.chars().next().is_none_or(|c| c.is_whitespace() || CASHTAG_END.contains(c));
    let letters = |from: usize| text[from..].bytes().take_while(u8::is_ascii_alphabetic).count();
    let mut found = Vec::new();
    for (at, _) in text.match_indices('$') {
        if text[..at].chars().next_back().is_some_and(|c| !c.is_whitespace()) {
            continue;
        }
        let symbol = letters(at + 1);
        let end = at + 1 + symbol;
        if !(1..=6).contains(&symbol) {
            continue;
        }
        let suffix = match text[end..].bytes().next() {
            Some(b'.' | b'_') => letters(end + 1),
            _ => 0,
        };
        if (1..=2).contains(&suffix) && ends(&text[end + 1 + suffix..]) {
            found.push(at..end + 1 + suffix);
        } else if ends(&text[end..]) {
            found.push(at..end);
        }
    }
    found
}

/// Byte ranges of the URLs X counts as 23 (see the module docs).
pub fn urls(text: &str) -> Vec<Range<usize>> {
    let with_scheme = text::find_urls(text).into_iter().filter_map(|r| {
        // Directional marks and refused code points end a URL.
        let cut = text[r.clone()].find(is_url_stop).map_or(r.end, |n| r.start + n);
        let url = text[r.start..cut].trim_end_matches(|c: char| ".,;:!?'\"".contains(c));
        let r = r.start..r.start + url.len();
        valid_host(url).then_some(r)
    });
    let mut all = Vec::new();
    let mut at = 0;
    for url in with_scheme {
        all.extend(bare_urls(text, at..url.start));
        at = url.end;
        all.push(url);
    }
    all.extend(bare_urls(text, at..text.len()));
    all
}

/// The top-level domains twitter-text recognises (see `tlds.txt`), sorted.
fn tlds() -> &'static [&'static str] {
    static TLDS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    TLDS.get_or_init(|| {
        include_str!("tlds.txt").lines().filter(|l| !l.starts_with('#')).flat_map(str::split_whitespace).collect()
    })
}

fn is_tld(label: &str) -> bool {
    let label = label.to_ascii_lowercase();
    // twitter-text also takes any punycoded top-level domain.
    label.starts_with("xn--") || tlds().binary_search(&label.as_str()).is_ok()
}

/// Byte ranges of URLs without a scheme in `text[span]` (see the module docs).
fn bare_urls(text: &str, span: Range<usize>) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let in_host = |b: &u8| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'.';
    let mut found = Vec::new();
    let mut i = span.start;
    while i < span.end {
        if !bytes[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        // `i` is an ASCII byte, so a char boundary; only a run's first byte may start a URL.
        let run_end = bytes[i..span.end].iter().position(|b| !in_host(b)).map_or(span.end, |n| i + n);
        let before_ok = text[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || "@\u{FF20}$#\u{FF03}-_./".contains(c) || is_url_stop(c)));
        if let Some(host_end) = before_ok.then(|| host_end(text, i, run_end)).flatten() {
            let end = path_end(text, host_end, span.end);
            found.push(i..end);
        }
        i = run_end;
    }
    found
}

/// Where the longest host starting at `start` (within `start..run_end`) ends, if any.
fn host_end(text: &str, start: usize, run_end: usize) -> Option<usize> {
    let labels: Vec<&str> = text[start..run_end].split('.').collect();
    (2..=labels.len()).rev().find_map(|k| {
        let host = &labels[..k];
        let end = start + host.iter().map(|l| l.len() + 1).sum::<usize>() - 1;
        let valid = host.iter().all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-') && l.len() <= 63);
        let free = text[end..].chars().next().is_none_or(|c| !(c.is_ascii_alphanumeric() || "@+-".contains(c)));
        (valid && free && is_tld(host[k - 1])).then_some(end)
    })
}

/// The end of the `/path` after a host ending at `at`, or `at` without one. A path stops
/// at white space, `<`, `>` and characters outside ASCII, Latin and Cyrillic, and loses
/// trailing punctuation and an unbalanced `)`.
fn path_end(text: &str, at: usize, limit: usize) -> usize {
    if !text[at..limit].starts_with('/') {
        return at;
    }
    let ends = |c: char| {
        c.is_whitespace()
            || c == '<'
            || c == '>'
            || is_url_stop(c)
            || !(c.is_ascii() || ('\u{C0}'..='\u{4FF}').contains(&c))
    };
    let end = text[at..limit].find(ends).map_or(limit, |n| at + n);
    crate::render::text::link_end(text, at, at, end)
}

fn is_url_stop(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}') || INVALID.contains(&c)
}

/// A host of at least two labels, each at most 63 characters once punycoded.
fn valid_host(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host_port = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host_port.rsplit_once('@').map_or(host_port, |(_, h)| h);
    let host = host.split(':').next().unwrap_or("");
    let labels: Vec<&str> = host.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_')
                && punycoded_len(l) <= 63
        })
}

fn punycoded_len(label: &str) -> usize {
    if label.is_ascii() {
        return label.len();
    }
    idna::punycode::encode_str(&label.to_lowercase()).map_or(usize::MAX, |p| p.len() + "xn--".len())
}

/// Weighted length of text without URLs.
fn plain_len(s: &str) -> usize {
    s.graphemes(true).map(cluster_weight).sum::<usize>() / 100
}

fn cluster_weight(g: &str) -> usize {
    if is_emoji(g) {
        return 200;
    }
    g.chars().map(|c| if LIGHT.iter().any(|(a, b)| (*a..=*b).contains(&(c as u32))) { 100 } else { 200 }).sum()
}

/// An emoji sequence: a pictograph, or a cluster made an emoji by a variation selector,
/// a keycap, a ZWJ, a skin tone, regional indicators or tags.
fn is_emoji(g: &str) -> bool {
    g.chars().any(|c| {
        matches!(c as u32,
            0x1F000..=0x1FAFF // pictographs, emoticons, transport, flags' regional indicators, skin tones
            | 0x2600..=0x27BF // miscellaneous symbols, dingbats
            | 0x2B00..=0x2BFF
            | 0x2300..=0x23FF
            | 0xFE0F // emoji presentation
            | 0x20E3 // keycap
            | 0xE0020..=0xE007F) // tags
    })
}

/// Splits `text` into parts of at most [`MAX_WEIGHTED`] weighted characters (paragraphs,
/// then sentences, then words), like `split: auto` elsewhere.
pub fn split_to_fit(text: &str) -> Vec<String> {
    text::split_counted(text, MAX_WEIGHTED, URL_WEIGHT, weighted_len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_cashtags_as_twitter_text_does() {
        let cases: &[(&str, &[&str])] = &[
            ("$AAPL up", &["$AAPL"]),
            ("$AAPL, $TSLA.", &["$AAPL", "$TSLA"]),
            ("buy $BRK.A today", &["$BRK.A"]),
            ("$RDS_AB and $X", &["$RDS_AB", "$X"]),
            ("$ABCDEFG is too long", &[]),
            ("$AB.CDE is $AB then", &["$AB", "$AB"]),
            ("costs $10 or a$AAPL", &[]),
            ("https://x.com/$AAPL", &[]),
            ("($AAPL)", &[]),
            ("\u{3000}$aapl\u{3000}", &["$aapl"]),
            ("$AAPLé", &[]),
        ];
        for (text, want) in cases {
            let got: Vec<&str> = cashtags(text).into_iter().map(|r| &text[r]).collect();
            assert_eq!(&got, want, "{text:?}");
        }
    }

    #[test]
    fn counts_as_x_counts() {
        let cases: &[(&str, usize)] = &[
            ("", 0),
            ("hello", 5),
            ("é", 1),
            // Decomposed é becomes one code point.
            ("e\u{301}", 1),
            ("の", 2),
            ("👨‍👩‍👧‍👦", 2),
            ("https://example.com/a/very/long/path/that/is/longer/than/twenty-three", 23),
            ("see https://example.com.", 4 + 23 + 1),
            ("http://localhost", 16),
        ];
        for (text, want) in cases {
            assert_eq!(weighted_len(text), *want, "{text:?}");
        }
    }

    #[derive(serde::Deserialize)]
    struct Conformance {
        tests: std::collections::BTreeMap<String, Vec<Case>>,
    }

    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Case {
        description: String,
        text: String,
        expected: Expected,
    }

    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Expected {
        weighted_length: usize,
        valid: bool,
    }

    /// twitter-text's own cases (configuration v3), not examples made up here.
    #[test]
    fn twitter_text_conformance() {
        let yaml = include_str!("../../../tests/fixtures/twitter-text/validate-v3.yml");
        let file: Conformance = serde_saphyr::from_str(yaml).expect("the fixture parses");
        let mut checked = 0;
        let mut failures = Vec::new();
        for (group, cases) in &file.tests {
            for c in cases {
                let got = (weighted_len(&c.text), is_valid(&c.text));
                if got != (c.expected.weighted_length, c.expected.valid) {
                    failures.push(format!(
                        "{group} / {}: got {got:?}, want ({}, {})",
                        c.description, c.expected.weighted_length, c.expected.valid
                    ));
                }
                checked += 1;
            }
        }
        assert!(checked >= 20, "only {checked} cases read");
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn url_detection_prices_a_link() {
        assert!(has_url("release notes: https://example.com/v2"));
        assert!(!has_url("no link here, just example dot com"));
        assert!(has_url("release notes on docs.rs/crier"));
        assert!(!has_url("write to me@example.com"));
    }

    #[test]
    fn urls_without_a_scheme() {
        let cases: &[(&str, &[&str])] = &[
            ("example.com", &["example.com"]),
            ("see docs.rs/crate.", &["docs.rs/crate"]),
            ("www.rust-lang.org/learn", &["www.rust-lang.org/learn"]),
            ("(example.com)", &["example.com"]),
            ("Example.COM", &["Example.COM"]),
            ("foo.jp", &["foo.jp"]),
            ("a sentence.Another one", &[]),
            ("me@example.com", &[]),
            ("#example.com $example.com", &[]),
            ("foo-example.com foo_example.com /example.com", &["foo-example.com"]),
            ("example.com-x example.com+x", &[]),
            ("file.rs main.txt", &["file.rs"]),
            ("https://a.com b.org", &["https://a.com", "b.org"]),
            ("http://localhost example.com", &["example.com"]),
            ("-foo.com foo-.com", &[]),
            // From twitter/twitter-text's conformance/extract.yml, "urls".
            ("foo.com foo.net foo.org foo.edu foo.gov", &["foo.com", "foo.net", "foo.org", "foo.edu", "foo.gov"]),
            (
                "foo.baz foo.co.jp www.xxxxxxx.baz www.foo.co.uk wwwww.xxxxxxx foo.comm foo.somecom foo.govedu foo.jp",
                &["foo.co.jp", "www.foo.co.uk", "foo.jp"],
            ),
            ("t.co/abcde bit.ly/abcde", &["t.co/abcde", "bit.ly/abcde"]),
            (
                "これは日本語です。example.com/path/index.html中国語example.com/path한국",
                &["example.com/path/index.html", "example.com/path"],
            ),
            (
                "twitter.comこれは日本語です。example.com中国語t.co/abcde한국twitter.com example2.comテストtwitter.com/abcde",
                &["twitter.com", "example.com", "t.co/abcde", "twitter.com", "example2.com", "twitter.com/abcde"],
            ),
            ("twitter.jp日本語it.so中国語foo.jp it.so foo.jp", &["twitter.jp", "it.so", "foo.jp", "it.so", "foo.jp"]),
            ("MLB.tv vine.co twitch.tv t.co", &["MLB.tv", "vine.co", "twitch.tv", "t.co"]),
            ("john.doe.jp@mail.com", &[]),
        ];
        for (text, want) in cases {
            let got: Vec<&str> = urls(text).into_iter().map(|r| &text[r]).collect();
            assert_eq!(&got, want, "{text:?}");
        }
    }

    #[test]
    fn counts_urls_without_a_scheme() {
        let cases: &[(&str, usize)] = &[
            ("example.com", 23),
            ("read docs.rs/a/very/long/path/that/is/longer/than/twenty-three", 5 + 23),
            ("see www.rust-lang.org/learn.", 4 + 23 + 1),
            ("me@example.com", 14),
            ("not.atld", 8),
        ];
        for (text, want) in cases {
            assert_eq!(weighted_len(text), *want, "{text:?}");
        }
    }

    #[test]
    fn tld_list_is_sorted_lowercase_and_unique() {
        let tlds = tlds();
        assert!(tlds.len() > 1000, "{}", tlds.len());
        assert!(tlds.windows(2).all(|w| w[0] < w[1]));
        assert!(tlds.iter().all(|t| t.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')));
        assert!(["com", "rs", "org", "jp", "dev"].iter().all(|t| is_tld(t)));
    }

    #[test]
    fn split_keeps_every_word_and_fits() {
        let text = "Ein langer Satz über Dinge. ".repeat(30);
        let parts = split_to_fit(text.trim());
        assert!(parts.len() > 1);
        assert!(parts.iter().all(|p| weighted_len(p) <= MAX_WEIGHTED), "{parts:?}");
        let joined: Vec<&str> = parts.iter().flat_map(|p| p.split_whitespace()).collect();
        assert_eq!(joined, text.split_whitespace().collect::<Vec<_>>());
        // CJK weighs 2: 200 characters need two parts.
        let cjk = "故人西辞黄鹤楼。".repeat(25);
        let parts = split_to_fit(&cjk);
        assert_eq!(parts.len(), 2, "{parts:?}");
        assert!(parts.iter().all(|p| weighted_len(p) <= MAX_WEIGHTED));
    }
}
