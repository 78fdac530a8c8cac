//! dev.to's rules (Forem: `app/models/article.rb`, `app/models/tag.rb`):
//! title required and at most 128 characters, at most 4 tags of at most 30
//! letters or digits, body at most 800 KB, http(s) URLs.

use std::ops::Range;

use pulldown_cmark::{Event, Parser, Tag};

use super::DevtoOptions;
use super::DevtoOutput;
use crate::content::Post;
use crate::diag::Diagnostic;
use crate::project::Project;
use crate::render::text::markdown_options;
use crate::rules;

pub const MAX_TITLE_CHARS: usize = 128;
pub const MAX_TAGS: usize = 4;
pub const MAX_TAG_CHARS: usize = 30;
pub const MAX_BODY_BYTES: usize = 800 * 1024;

pub fn validate(_project: &Project, post: &Post, out: &DevtoOutput) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    let src = &post.source;
    let f = &post.front;
    let o = post.options.get::<DevtoOptions>().map(|x| &x.value);
    let title_key = o.and_then(|o| o.title.as_ref()).or(f.title.as_ref());
    match (&out.title, title_key) {
        (None, _) => d.push(
            Diagnostic::error("devto-title-missing", "dev.to articles need a title, and this post has none")
                .at(src, post.head_span())
                .with_hint("add `title: …` (or `devto: {title: …}`)"),
        ),
        (Some(t), Some(key)) => {
            let chars = t.chars().count();
            if t.trim().is_empty() {
                d.push(
                    Diagnostic::error("devto-title-missing", "the title is empty; dev.to articles need a title")
                        .at(src, post.span_of(&key.referenced))
                        .with_hint("write a title"),
                );
            } else if chars > MAX_TITLE_CHARS {
                d.push(
                    Diagnostic::error(
                        "devto-title-too-long",
                        format!("the title is {chars} characters; dev.to allows at most {MAX_TITLE_CHARS}"),
                    )
                    .at(src, post.span_of(&key.referenced))
                    .with_label(format!("{chars} characters"))
                    .with_hint(format!("shorten it by {} characters", chars - MAX_TITLE_CHARS)),
                );
            }
        }
        (Some(_), None) => {}
    }

    let tags_key = o.and_then(|o| o.tags.as_ref()).or(f.tags.as_ref());
    if let Some(tags) = tags_key {
        if tags.value.len() > MAX_TAGS {
            d.push(
                Diagnostic::error(
                    "devto-too-many-tags",
                    format!("{} tags; dev.to allows at most {MAX_TAGS}", tags.value.len()),
                )
                .at(src, post.span_of(&tags.value[MAX_TAGS].referenced))
                .with_label("fifth tag")
                .with_hint("keep the four that matter most (use `devto: {tags: […]}` to choose dev.to's separately)"),
            );
        }
        for tag in &tags.value {
            let t = &tag.value;
            let chars = t.chars().count();
            let alnum = !t.is_empty() && t.chars().all(char::is_alphanumeric);
            if !alnum || chars > MAX_TAG_CHARS {
                let fixed: String = t.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect();
                let problem = if chars > MAX_TAG_CHARS {
                    format!("is {chars} characters (at most {MAX_TAG_CHARS})")
                } else {
                    "may hold only letters and digits".to_owned()
                };
                let hint = if fixed.is_empty() || fixed.chars().count() > MAX_TAG_CHARS {
                    "use a shorter tag made of letters and digits".to_owned()
                } else {
                    format!("write it as `{fixed}`")
                };
                d.push(
                    Diagnostic::error("devto-tag-invalid", format!("dev.to tag `{t}` {problem}"))
                        .at(src, post.span_of(&tag.referenced))
                        .with_hint(hint),
                );
            }
        }
    }

    // dev.to publishes the body alone: a post whose only text is elsewhere (a YAML post's
    // `thread:`) would be an empty article.
    if out.body_markdown.trim().is_empty() && rules::has_content(post) {
        let message = "the post has nothing to publish on dev.to: the article body is empty (dev.to takes the post's body or `text`, not `thread:`)";
        d.push(rules::nothing_to_publish(post, post.head_span(), "devto-empty", message, "devto"));
    }
    if out.body_markdown.len() > MAX_BODY_BYTES {
        d.push(
            Diagnostic::error(
                "devto-body-too-large",
                format!(
                    "the article body is {} bytes; dev.to allows at most {MAX_BODY_BYTES} (800 KB)",
                    out.body_markdown.len()
                ),
            )
            .at(src, post.body_span(0..post.body.len().min(1)))
            .with_hint("split the article into a series"),
        );
    }
    check_liquid(post, &mut d);
    if let Some(o) = o {
        for (key, v) in [("canonical_url", &o.canonical_url), ("cover_image", &o.cover_image)] {
            let Some(v) = v else { continue };
            let is_url =
                (v.value.starts_with("https://") || v.value.starts_with("http://")) && v.value.len() > "https://".len();
            if !is_url {
                d.push(
                    Diagnostic::error("devto-url-invalid", format!("`{key}` `{}` is not an http(s) URL", v.value))
                        .at(src, post.span_of(&v.referenced))
                        .with_hint("give a full URL, for example https://example.com/post"),
                );
            }
        }
    }
    d
}

/// Forem's own Liquid tags (`app/liquid_tags/*.rb`, and the block ends they take): the
/// only `{% … %}` an article may hold. Liquid's `assign`, `capture`, `cycle` and
/// `include` are disabled there, and any other name is a Liquid syntax error.
const FOREM_TAGS: &[&str] = &[
    "asciinema",
    "bandcamp",
    "blogcast",
    "bluesky",
    "card",
    "codepen",
    "codesandbox",
    "collapsible",
    "endcollapsible",
    "comment",
    "devcomment",
    "cta",
    "endcta",
    "details",
    "enddetails",
    "dotnetfiddle",
    "embed",
    "forem",
    "gist",
    "github",
    "gitlab",
    "glitch",
    "golang",
    "huggingface",
    "instagram",
    "jsfiddle",
    "jsitor",
    "katex",
    "endkatex",
    "kotlin",
    "link",
    "post",
    "article",
    "listing",
    "livecodes",
    "loom",
    "medium",
    "mux",
    "neon",
    "netlify",
    "nexttech",
    "observablehq",
    "organization",
    "org",
    "parler",
    "podcast",
    "poll",
    "reddit",
    "replit",
    "runkit",
    "endrunkit",
    "slideshare",
    "soundcloud",
    "speakerdeck",
    "spoiler",
    "endspoiler",
    "spotify",
    "stackblitz",
    "stackery",
    "stackexchange",
    "stackoverflow",
    "tag",
    "tweet",
    "twitter",
    "twitch",
    "unsplash",
    "user",
    "video",
    "vimeo",
    "wikipedia",
    "youtube",
];

/// dev.to runs an article's Markdown through Liquid (outside code, which it escapes):
/// a variable (`{{ page.title }}`) is refused ("Liquid variables are disabled") and a
/// tag Forem does not define is a Liquid syntax error, so either fails the publish.
fn check_liquid(post: &Post, d: &mut Vec<Diagnostic>) {
    let body = &post.body;
    let code: Vec<Range<usize>> = Parser::new_ext(body, markdown_options())
        .into_offset_iter()
        .filter(|(e, _)| matches!(e, Event::Code(_) | Event::Start(Tag::CodeBlock(_))))
        .map(|(_, r)| r)
        .collect();
    let hint = "dev.to reads `{{ }}` and `{% %}` as Liquid: wrap the passage in `{% raw %}` … `{% endraw %}`, or put it in a code span (`` `{{ like this }}` ``)";
    let mut raw = false;
    let mut at = 0;
    while let Some(found) = body[at..].find(['{']).map(|i| at + i) {
        at = found + 1;
        let (close, variable) = match &body[found..] {
            b if b.starts_with("{{") => ("}}", true),
            b if b.starts_with("{%") => ("%}", false),
            _ => continue,
        };
        if code.iter().any(|c| c.contains(&found)) {
            continue;
        }
        let line_end = body[found..].find('\n').map_or(body.len(), |i| found + i);
        let end = body[found + 2..].find(close).map(|i| found + 2 + i + 2);
        let span = found..end.unwrap_or(line_end);
        let inner =
            body[found + 2..end.map_or(line_end, |e| e - 2)].trim_matches(|c: char| c == '-' || c.is_whitespace());
        let name = inner.split_whitespace().next().unwrap_or("");
        at = span.end.max(at);
        if raw {
            // Everything up to `{% endraw %}` is text.
            raw = variable || name != "endraw";
            continue;
        }
        let problem = match (variable, end) {
            (true, None) => Some((
                "devto-liquid-variable",
                "`{{` is never closed: dev.to fails with a Liquid syntax error".to_owned(),
            )),
            (true, Some(_)) => Some((
                "devto-liquid-variable",
                format!(
                    "`{}` is a Liquid variable, which dev.to refuses (\"Liquid variables are disabled\")",
                    &body[span.clone()]
                ),
            )),
            (false, None) => {
                Some(("devto-liquid-tag", "`{%` is never closed: dev.to fails with a Liquid syntax error".to_owned()))
            }
            (false, Some(_)) if name == "raw" => {
                raw = true;
                None
            }
            (false, Some(_)) if FOREM_TAGS.contains(&name) => None,
            (false, Some(_)) => Some((
                "devto-liquid-tag",
                format!(
                    "`{}` is not a Liquid tag dev.to knows: the article fails with a Liquid syntax error",
                    &body[span.clone()]
                ),
            )),
        };
        if let Some((code, message)) = problem {
            d.push(Diagnostic::error(code, message).at(&post.source, post.body_span(span)).with_hint(hint));
        }
    }
}
