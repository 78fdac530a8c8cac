//! What the platforms that publish a post as a chain of short parts (Threads, Bluesky,
//! Mastodon) share to render it: the parts before templating, from `thread:` items, the
//! platform's `text` override or the body split at thematic breaks, with the post's
//! top-level `media:` on the first part.

use std::ops::Range;

use serde_saphyr::Spanned;
use url::Url;

use crate::content::Post;
use crate::project::Project;
use crate::render::text::{LinkStyle, TextPart};
use crate::rules::media::{self, MediaRef};

/// How a platform turns Markdown into its plain text (links and spoilers its way).
#[derive(Clone, Copy)]
pub struct Markdown {
    /// One piece of Markdown as one text (a `thread:` item).
    pub text: fn(&str, Option<&Url>) -> String,
    /// Markdown split at thematic breaks (`---`).
    pub parts: fn(&str, Option<&Url>) -> Vec<TextPart>,
}

/// Plain text with links as `label (url)` (Mastodon, X).
pub const INLINE_LINKS: Markdown = Markdown {
    text: |md, site| crate::render::text::markdown_to_text_with(md, LinkStyle::Inline, site),
    parts: |md, site| crate::render::text::markdown_to_parts_with(md, LinkStyle::Inline, site),
};

/// One part of the chain before templating.
#[derive(Debug, Clone, Default)]
pub struct SourcePart {
    pub text: String,
    /// Where the part comes from in the post file.
    pub origin: Range<usize>,
    pub media: Vec<MediaRef>,
    /// Inline Markdown images left out of the text (file spans).
    pub dropped_images: Vec<Range<usize>>,
}

/// The chain before templating: `thread:` items, else the Markdown (`text_override`, the
/// platform's `text` key, or the body) split at thematic breaks; parts with neither text
/// nor images are left out.
pub fn source_parts(
    project: &Project,
    post: &Post,
    text_override: Option<&Spanned<String>>,
    markdown: Markdown,
) -> Vec<SourcePart> {
    let site = project.config.site_url();
    let site = site.as_ref();
    if let Some(thread) = &post.front.thread {
        return thread
            .value
            .iter()
            .map(|item| SourcePart {
                text: (markdown.text)(item.value.text.as_deref().unwrap_or(""), site),
                origin: item
                    .value
                    .text_at
                    .as_ref()
                    .map_or_else(|| post.span_of(&item.referenced), |at| post.span_of(at)),
                media: item.value.media.iter().map(|m| media::resolve(project, post, m)).collect(),
                dropped_images: Vec::new(),
            })
            .collect();
    }
    if let Some(over) = text_override {
        let origin = post.span_of(&over.referenced);
        return (markdown.parts)(&over.value, site)
            .into_iter()
            .filter(|p| !p.text.is_empty())
            .map(|p| SourcePart { text: p.text, origin: origin.clone(), ..SourcePart::default() })
            .collect();
    }
    (markdown.parts)(&post.body, site)
        .into_iter()
        .filter(|p| !p.text.is_empty() || !p.images.is_empty())
        .map(|p| {
            // Point at the first line of the part: enough to find it, short to show.
            let start = p.source.start + (p.source.len() - post.body[p.source.clone()].trim_start().len());
            let line_end = post.body[start..p.source.end].find('\n').map_or(p.source.end, |i| start + i);
            SourcePart {
                text: p.text,
                origin: post.body_span(start..line_end.max(start + 1).min(post.body.len())),
                media: Vec::new(),
                dropped_images: p.images.iter().map(|r| post.body_span(r.clone())).collect(),
            }
        })
        .collect()
}

/// Puts the post's top-level `media:` first on the first part (a part of its own when the
/// post has no text).
pub fn add_top_media(project: &Project, post: &Post, parts: &mut Vec<SourcePart>) {
    let Some(top) = &post.front.media else { return };
    let mut first: Vec<MediaRef> = top.value.iter().map(|m| media::resolve(project, post, m)).collect();
    if parts.is_empty() {
        parts.push(SourcePart { origin: post.span_of(&top.referenced), ..SourcePart::default() });
    }
    first.append(&mut parts[0].media);
    parts[0].media = first;
}

/// Sets what a part's template sees besides the post: `text` and `part` (`number`, `count`,
/// `first`, `last`; `i` counts from 0).
pub fn set_part(ctx: &mut handlebars::Context, i: usize, count: usize, text: String) {
    if let serde_json::Value::Object(map) = ctx.data_mut() {
        map.insert("text".into(), serde_json::Value::String(text));
        map.insert(
            "part".into(),
            serde_json::json!({"number": i + 1, "count": count, "first": i == 0, "last": i + 1 == count}),
        );
    }
}
