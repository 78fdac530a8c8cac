//! HTML for the `watch --serve` preview: escaping, Markdown as HTML, and the cards a
//! chain of short posts is shown as (Threads, Bluesky, Mastodon look alike there).

use std::fmt::Write as _;

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a repository path for a URL (keeps `/`).
pub fn url_path(rel: &str) -> String {
    let mut out = String::new();
    for b in rel.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// Markdown to HTML with raw HTML shown as text: a post cannot inject markup.
pub fn markdown_html(md: &str) -> String {
    use pulldown_cmark::{Event as Md, Options, Parser};
    let events = Parser::new_ext(md, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH).map(|e| match e {
        Md::Html(h) | Md::InlineHtml(h) => Md::Text(h),
        e => e,
    });
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, events);
    out
}

/// One part of a chain as a card.
pub struct Card<'a> {
    pub text: &'a str,
    /// Counter shown in the corner, e.g. `123/500`, and whether it is over the limit.
    pub counter: String,
    pub over: bool,
    /// Media shown under the text: (src or None when it cannot be shown, alt, is video).
    pub media: Vec<(Option<String>, String, bool)>,
}

/// A platform's column: its name, then one card per part.
pub fn cards(platform: &str, cards: &[Card<'_>]) -> String {
    let mut html = String::new();
    let _ = write!(html, "<div class=\"platform\"><h3>{}</h3>", escape(platform));
    let n = cards.len();
    for (i, card) in cards.iter().enumerate() {
        let over = if card.over { " over" } else { "" };
        let _ = write!(
            html,
            "<article class=\"card\"><header><span class=\"who\">@you</span><span class=\"count{over}\">{}</span></header><p class=\"text\">{}</p>",
            escape(&card.counter),
            escape(card.text)
        );
        if !card.media.is_empty() {
            html.push_str("<div class=\"media\">");
            for (src, alt, video) in &card.media {
                let alt = escape(alt);
                match src {
                    Some(src) if *video => {
                        let _ = write!(html, "<video src=\"{}\" title=\"{alt}\" muted controls></video>", escape(src));
                    }
                    Some(src) => {
                        let _ = write!(html, "<img src=\"{}\" alt=\"{alt}\">", escape(src));
                    }
                    None => {
                        let _ = write!(html, "<span class=\"missing\">{alt}</span>");
                    }
                }
            }
            html.push_str("</div>");
        }
        let _ = write!(html, "<footer>{} of {n}</footer></article>", i + 1);
    }
    html.push_str("</div>");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_and_raw_html() {
        assert_eq!(escape("<b>Tom & \"Jerry\"</b>"), "&lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt;");
        let html = markdown_html("Hi <script>alert(1)</script>\n\n<div onclick=x>y</div>\n\n**bold**");
        assert!(!html.contains("<script>") && !html.contains("<div"), "{html}");
        assert!(html.contains("&lt;script&gt;") && html.contains("<strong>bold</strong>"), "{html}");
        assert_eq!(url_path("media/a b&c.png"), "media/a%20b%26c.png");
    }

    #[test]
    fn cards_escape_and_count() {
        let html = cards(
            "Threads",
            &[Card {
                text: "a <b>",
                counter: "600/500".into(),
                over: true,
                media: vec![(None, "alt \"x\"".into(), false)],
            }],
        );
        assert!(html.contains("<h3>Threads</h3>"), "{html}");
        assert!(html.contains("count over\">600/500"), "{html}");
        assert!(html.contains("a &lt;b&gt;") && html.contains("alt &quot;x&quot;"), "{html}");
        assert!(html.contains("1 of 1"), "{html}");
    }
}
