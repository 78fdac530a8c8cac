//! What the platforms that publish a post as parts (a text and its media each) write
//! alike, once: the parts through the template, a long part cut into pieces, and how the
//! parts show (the human preview, the summary line, the preview cards, the JSON). A
//! platform gives only its counts and its words.

use handlebars::Context;
use serde_json::{Value, json};

use super::chain::{self, SourcePart};
use super::{Adoption, PlatformId, PreviewContext};
use crate::content::Post;
use crate::diag::{Diagnostic, plural};
use crate::project::Project;
use crate::render::html::Card;
use crate::render::templates::TemplateFailure;
use crate::rules::media::MediaRef;

/// `template` rendered with `ctx` for `post` on `platform`: a template already reported
/// broken fails without a diagnostic of its own.
pub fn render_template(
    project: &Project,
    template: &str,
    ctx: &Context,
    post: &Post,
    platform: PlatformId,
) -> Result<String, Vec<Diagnostic>> {
    project.templates.render_with_context(template, ctx, &post.path, platform.name()).map_err(|f| match f {
        TemplateFailure::AlreadyReported => Vec::new(),
        TemplateFailure::Error(d) => vec![*d],
    })
}

/// A post's one text through the template: the post's context
/// ([`super::template_context`]) with `text` set.
pub fn render_text(
    project: &Project,
    post: &Post,
    targets: &[PlatformId],
    platform: PlatformId,
    template: &str,
    text: String,
) -> Result<String, Vec<Diagnostic>> {
    let mut ctx = super::template_context(project, post, targets, platform);
    ctx.insert("text".into(), Value::String(text));
    render_template(project, template, &Context::from(Value::Object(ctx)), post, platform)
}

/// Each part of a chain through the template ([`chain::set_part`] sets its `text` and
/// `part`), stopping at the first failure: the rendered text, untrimmed, beside the part
/// it comes from (its `text` taken).
pub fn render_chain(
    project: &Project,
    post: &Post,
    targets: &[PlatformId],
    platform: PlatformId,
    template: &str,
    parts: Vec<SourcePart>,
) -> Result<Vec<(String, SourcePart)>, Vec<Diagnostic>> {
    // One context for every part: each part only replaces `text` and `part`.
    let mut ctx = Context::from(Value::Object(super::template_context(project, post, targets, platform)));
    let count = parts.len();
    let mut out = Vec::with_capacity(count);
    for (i, mut part) in parts.into_iter().enumerate() {
        chain::set_part(&mut ctx, i, count, std::mem::take(&mut part.text));
        out.push((render_template(project, template, &ctx, post, platform)?, part));
    }
    Ok(out)
}

/// A part cut into `pieces` (`split: auto`): the first piece keeps the part's media and
/// the images left out of its text, every piece points at where the part comes from.
pub fn spread<T, P>(part: SourcePart, pieces: Vec<T>, mut make: impl FnMut(T, SourcePart) -> P) -> Vec<P> {
    let (mut media, mut dropped) = (Some(part.media), Some(part.dropped_images));
    pieces
        .into_iter()
        .map(|piece| {
            let source = SourcePart {
                text: String::new(),
                origin: part.origin.clone(),
                media: media.take().unwrap_or_default(),
                dropped_images: dropped.take().unwrap_or_default(),
            };
            make(piece, source)
        })
        .collect()
}

/// Sizes against a limit, as a summary lists them: `12/500  480/500`.
pub fn sizes(counts: impl IntoIterator<Item = usize>, max: usize) -> String {
    counts.into_iter().map(|n| format!("{n}/{max}")).collect::<Vec<_>>().join("  ")
}

/// A chain's summary line: `head` (the platform's name, padded), the number of parts as
/// `noun`s, then each part's size against `max`.
pub fn chain_summary(head: &str, noun: &str, counts: impl ExactSizeIterator<Item = usize>, max: usize) -> String {
    format!("{head}{}  {}", plural(counts.len(), noun), sizes(counts, max))
}

/// The options a human preview starts with, on one line (`a · b`), when there are any.
pub fn options_line<S: std::borrow::Borrow<str>>(out: &mut String, options: &[S]) {
    if !options.is_empty() {
        out.push_str(&options.join(" · "));
        out.push('\n');
    }
}

/// One part of a human preview: `── header ──`, its text when it has any, the `notes`
/// (a line each), then a line per medium (`no_alt` said of one without alt text).
pub fn human_part(out: &mut String, header: &str, text: &str, notes: &[String], media: &[MediaRef], no_alt: &str) {
    out.push_str(&format!("── {header} ──\n"));
    if !text.is_empty() {
        out.push_str(text);
        out.push('\n');
    }
    for note in notes {
        out.push_str(note);
        out.push('\n');
    }
    for m in media {
        out.push_str(&m.human_line(no_alt));
    }
}

/// A part as `render --format json` shows it: its text and its media.
pub fn part_json(text: &str, media: &[MediaRef]) -> Value {
    json!({"text": text, "media": media.iter().map(MediaRef::to_json).collect::<Vec<_>>()})
}

impl PreviewContext<'_> {
    /// A preview card for a part of `n` against a limit of `max` (over it when larger).
    pub fn card<'a>(&mut self, text: &'a str, n: usize, max: usize, media: &[MediaRef]) -> Card<'a> {
        Card { text, counter: format!("{n}/{max}"), over: n > max, media: self.cards_media(media) }
    }

    /// Media as a card shows them ([`PreviewContext::card_media`] each).
    pub fn cards_media(&mut self, media: &[MediaRef]) -> Vec<(Option<String>, String, bool)> {
        media.iter().map(|m| self.card_media(m)).collect()
    }
}

/// Why one post failed on a platform that publishes it as parts.
#[derive(Debug, Clone, Default)]
pub struct PublishFailure {
    pub message: String,
    /// The credentials are bad: stop publishing to this platform for this run.
    pub fatal: bool,
    /// A write may have taken effect but was not found: the next run reconciles
    /// before writing anything.
    pub ambiguous: bool,
    /// Parts of a chain that are out (they are found again by the next run).
    pub published_parts: usize,
    /// The diagnostics behind a refusal before sending (an instance's limits).
    pub diagnostics: Vec<Diagnostic>,
}

impl PublishFailure {
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), ..Self::default() }
    }
}

/// `crier adopt`'s verdict on the candidates found on the account for part `i` of a
/// chain of `n`: the one to take, or the adoption to report (no first part, several
/// first parts, a later part missing). `nouns` is what the platform calls its posts
/// ("statuses"), `place` where they are ("on the instance"), `link` a candidate's URL.
pub fn adopt_candidate<'a, T>(
    (i, n): (usize, usize),
    found: &'a [T],
    link: impl Fn(&T) -> String,
    nouns: &str,
    place: &str,
) -> Result<&'a T, Adoption> {
    match (i, found) {
        (0, []) => Err(Adoption::NotFound),
        (0, [_, _, ..]) => {
            let urls: Vec<String> = found.iter().map(link).collect();
            Err(Adoption::Ambiguous(format!("{} {nouns} have this text: {}", found.len(), urls.join(", "))))
        }
        (_, []) => Err(Adoption::Partial(format!(
            "only {i} of the chain's {n} {nouns} are {place}; `crier publish` posts the rest"
        ))),
        (_, [first, ..]) => Ok(first),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_part_spreads_its_media_on_the_first_piece() {
        let part = SourcePart { text: "ab".into(), origin: 3..9, media: Vec::new(), dropped_images: vec![4..5, 7..8] };
        let pieces = spread(part, vec!["a", "b"], |t, p| (t, p.origin, p.dropped_images));
        assert_eq!(pieces, vec![("a", 3..9, vec![4..5, 7..8]), ("b", 3..9, Vec::new())]);
    }

    #[test]
    fn counts_and_options_read_as_the_previews_show_them() {
        let cases: &[(usize, &str, &str)] =
            &[(0, "part", "0 parts"), (1, "note", "1 note"), (3, "message", "3 messages")];
        for (n, noun, want) in cases {
            assert_eq!(plural(*n, noun), *want);
        }
        assert_eq!(sizes([12, 480], 500), "12/500  480/500");
        assert_eq!(chain_summary("bluesky  ", "part", [12, 300].into_iter(), 300), "bluesky  2 parts  12/300  300/300");
        assert_eq!(chain_summary("discord ", "message", [5].into_iter(), 2000), "discord 1 message  5/2000");
        let mut out = String::new();
        options_line::<&str>(&mut out, &[]);
        options_line(&mut out, &["silent", "no link preview"]);
        assert_eq!(out, "silent · no link preview\n");
    }
}
