//! The links Threads counts in a post's text (threads-api.md §3 "Links"): "All unique URLs
//! found in the text field", and its own example counts a bare `www.facebook.com` as one.
//! So a `www.` host without a scheme is a link here too, besides http(s) URLs. Kept apart
//! from `render::text::find_urls`, which other platforms use for what they link.

use std::ops::Range;

use crate::render::text::{find_urls, link_end};

/// Byte ranges of the links in `text`, in order: http(s) URLs and `www.` hosts without a
/// scheme (not inside a URL, an e-mail address or a longer host name).
pub(super) fn find_links(text: &str) -> Vec<Range<usize>> {
    let urls = find_urls(text);
    let mut all: Vec<Range<usize>> = Vec::new();
    let lower = text.to_ascii_lowercase();
    for (at, _) in lower.match_indices("www.") {
        let glued = text[..at].chars().next_back().is_some_and(|c| c.is_alphanumeric() || "./@:-_".contains(c));
        if glued || urls.iter().any(|u| u.contains(&at)) {
            continue;
        }
        let end = bare_end(text, at);
        if end <= at + 4 {
            continue;
        }
        let host_end = text[at..end].find(['/', '?', '#', ':']).map_or(end, |n| at + n);
        let host = &text[at + 4..host_end];
        let labels_ok = host.split('.').all(|l| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-'));
        if host.contains('.') && labels_ok {
            all.push(at..end);
        }
    }
    all.extend(urls);
    all.sort_by_key(|r| r.start);
    all
}

/// Where a link without a scheme starting at `at` ends: at white space or `<`/`>`, less
/// trailing punctuation and an unbalanced `)` (as `find_urls` ends a URL).
fn bare_end(text: &str, at: usize) -> usize {
    let end = text[at..].find(|c: char| c.is_whitespace() || c == '<' || c == '>').map_or(text.len(), |n| at + n);
    link_end(text, at, at, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_urls_and_www_hosts_as_threads_does() {
        let cases: &[(&str, &[&str])] = &[
            ("see www.facebook.com.", &["www.facebook.com"]),
            ("(www.threads.com/@me) and https://x.org", &["www.threads.com/@me", "https://x.org"]),
            ("https://www.example.com/a is one link", &["https://www.example.com/a"]),
            ("WWW.Example.ORG/path?q=1, then", &["WWW.Example.ORG/path?q=1"]),
            ("mail me@www.example.com or visit sub.www.example.com", &[]),
            ("www. alone, www.x and awww.cute.com", &[]),
            ("www.", &[]),
            ("www.…é.example", &[]),
        ];
        for (text, want) in cases {
            let got: Vec<&str> = find_links(text).into_iter().map(|r| &text[r]).collect();
            assert_eq!(&got, want, "{text:?}");
        }
    }
}
