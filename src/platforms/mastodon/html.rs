//! Turning a status's HTML `content` back into the plain text crier sent, so a
//! status found on the account can be recognised.
//!
//! Servers store plain text as HTML: paragraphs (`<p>`) for blank-line
//! separated blocks, `<br>` for line breaks, links wrapped in `<a>` with parts
//! of the URL in invisible `<span>`s, mentions shown without their domain, and
//! `&`, `<`, `>`, quotes escaped. [`to_text`] undoes the markup; [`same_text`]
//! compares what is left with the text crier rendered, ignoring what the
//! servers change (whitespace runs, mention domains).

use super::count::mention_domains;
use crate::platforms::entities::decode as decode_entities;

/// The visible text of status HTML: tags removed, `<br>` a line break,
/// paragraphs separated by a blank line, entities decoded.
pub fn to_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        // Only `<` before a letter, `/` or `!` opens a tag; any other is text.
        let opens = rest[lt + 1..].starts_with(|c: char| c.is_ascii_alphabetic() || c == '/' || c == '!');
        if !opens {
            out.push_str(&decode_entities(&rest[..=lt]));
            rest = &rest[lt + 1..];
            continue;
        }
        out.push_str(&decode_entities(&rest[..lt]));
        let Some(gt) = rest[lt..].find('>') else {
            // A lone `<` is text.
            out.push_str(&decode_entities(&rest[lt..]));
            rest = "";
            break;
        };
        let tag = &rest[lt + 1..lt + gt];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        let closing = tag.starts_with('/');
        match (name.as_str(), closing) {
            ("br", _) => out.push('\n'),
            ("p", false) if !out.trim_end().is_empty() => {
                trim_trailing_newlines(&mut out);
                out.push_str("\n\n");
            }
            _ => {}
        }
        rest = &rest[lt + gt + 1..];
    }
    out.push_str(&decode_entities(rest));
    out.trim().to_owned()
}

fn trim_trailing_newlines(s: &mut String) {
    while s.ends_with('\n') {
        s.pop();
    }
}

/// The form both sides are compared in: mention domains dropped (servers show
/// `@user` for a local account), every whitespace run one space.
pub fn comparable(text: &str) -> String {
    let mut s = text.to_owned();
    for r in mention_domains(text).into_iter().rev() {
        s.replace_range(r, "");
    }
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether a status's HTML `content` shows `sent` (the plain text crier sent).
pub fn same_text(content_html: &str, sent: &str) -> bool {
    comparable(&to_text(content_html)) == comparable(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_to_text_cases() {
        let cases: &[(&str, &str)] = &[
            ("<p>hello</p>", "hello"),
            ("<p>one<br />two</p><p>three</p>", "one\ntwo\n\nthree"),
            ("<p>a &amp; b &lt;3 &quot;q&quot; &#39;s&#39; &#x1F600;</p>", "a & b <3 \"q\" 's' 😀"),
            (
                r#"<p>see <a href="https://example.com/a/very/long/path" rel="nofollow noopener" target="_blank"><span class="invisible">https://</span><span class="ellipsis">example.com/a/very/lo</span><span class="invisible">ng/path</span></a></p>"#,
                "see https://example.com/a/very/long/path",
            ),
            (
                r#"<p><span class="h-card" translate="no"><a href="https://m.example/@alice" class="u-url mention">@<span>alice</span></a></span> hi <a href="https://m.example/tags/rust" class="mention hashtag" rel="tag">#<span>rust</span></a></p>"#,
                "@alice hi #rust",
            ),
            ("plain text, no markup", "plain text, no markup"),
            ("<p>1 < 2 &unknown; &</p>", "1 < 2 &unknown; &"),
        ];
        for (html, want) in cases {
            assert_eq!(to_text(html), *want, "{html}");
        }
    }

    #[test]
    fn same_text_ignores_what_servers_change() {
        assert!(same_text("<p>@<span>alice</span> hello</p>", "@alice@mastodon.social hello"));
        assert!(same_text("<p>line one<br>line two</p><p>para</p>", "line one\nline two\n\n\npara"));
        assert!(same_text("<p>Tom &amp; Jerry</p>", "Tom & Jerry"));
        assert!(!same_text("<p>Tom &amp; Jerry</p>", "Tom and Jerry"));
        assert!(!same_text("<p>part 1</p>", "part 2"));
    }
}
