//! Threads: Markdown becomes plain text, split into a chain of parts (from
//! `thread:`, from thematic breaks, or by `split: auto`), each rendered
//! through the `threads` template.

pub mod api;
mod auth;
mod delete;
mod doctor;
mod links;
pub mod options;
pub mod publish;
pub mod rules;
mod session;
mod stats;

pub use options::{ThreadsOptions, ThreadsSplit};

use std::ops::Range;

use serde_json::{Value, json};

use super::chain::{self, SourcePart};
use super::parts;
use super::{Credential, Output, PlatformId, PreviewContext};
use crate::content::Post;
use crate::diag::Diagnostic;
use crate::env::Env;
use crate::project::Project;
use crate::render::html::Card;
use crate::render::text;
use crate::rules::media::MediaRef;
use api::{Spoiler, TextAttachment};

/// Threads counts UTF-8 bytes, not characters.
pub const MAX_TEXT_BYTES: usize = 500;

#[derive(Debug, Clone)]
pub struct ThreadsPart {
    pub text: String,
    pub media: Vec<MediaRef>,
    /// Where the part comes from in the post file.
    pub origin: Range<usize>,
    /// Inline Markdown images left out of the text (file spans).
    pub dropped_images: Vec<Range<usize>>,
    /// Byte ranges of `text` hidden as spoilers (`||words||`).
    pub spoilers: Vec<Range<usize>>,
}

impl ThreadsPart {
    /// The spoilers as `text_entities`, in UTF-16 code units.
    pub fn spoiler_entities(&self) -> Vec<Spoiler> {
        self.spoilers
            .iter()
            .map(|r| {
                let offset = utf16_len(&self.text[..r.start]);
                Spoiler { offset, length: utf16_len(&self.text[r.clone()]) }
            })
            .collect()
    }
}

fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// `split: attachment`: the post's whole text, shown behind its short text.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub plaintext: String,
    /// Distinct URLs in `plaintext`, in order; the first is sent as its link.
    pub links: Vec<String>,
    /// Spoilers in the text, which the attachment shows as plain words.
    pub spoilers: usize,
    /// Where the text comes from in the post file (the body's first line).
    pub origin: Range<usize>,
}

impl Attachment {
    pub fn chars(&self) -> usize {
        self.plaintext.chars().count()
    }

    pub fn request(&self) -> TextAttachment {
        TextAttachment { plaintext: self.plaintext.clone(), link_attachment_url: self.links.first().cloned() }
    }
}

#[derive(Debug, Clone)]
pub struct ThreadsOutput {
    pub parts: Vec<ThreadsPart>,
    pub template: String,
    pub attachment: Option<Attachment>,
}

impl Output for ThreadsOutput {
    super::output_basics!(Threads::id());

    fn replies(&self) -> u64 {
        self.parts.len().saturating_sub(1) as u64
    }

    fn cards<'a>(&'a self, cx: &mut PreviewContext<'_>) -> Vec<Card<'a>> {
        let mut cards_: Vec<Card<'a>> =
            self.parts.iter().map(|p| cx.card(&p.text, p.text.len(), MAX_TEXT_BYTES, &p.media)).collect();
        // The attachment shows as one more card, behind the post's short text.
        if let Some(a) = &self.attachment {
            cards_.push(Card {
                text: &a.plaintext,
                counter: format!("attachment {}/{} chars", a.chars(), rules::MAX_ATTACHMENT_CHARS),
                over: a.chars() > rules::MAX_ATTACHMENT_CHARS,
                media: Vec::new(),
            });
        }
        cards_
    }

    // New keys appear only when used: the record's hash is taken over this shape.
    fn to_json(&self) -> Value {
        let mut out = json!({
            "parts": self.parts.iter().map(|p| {
                let mut part = parts::part_json(&p.text, &p.media);
                if !p.spoilers.is_empty() {
                    part["text_entities"] = api::spoilers_json(&p.spoiler_entities());
                }
                part
            }).collect::<Vec<_>>()
        });
        if let Some(a) = &self.attachment {
            out["text_attachment"] = a.request().to_json();
        }
        out
    }

    fn summary(&self) -> String {
        let chain = parts::chain_summary("threads  ", "part", self.parts.iter().map(|p| p.text.len()), MAX_TEXT_BYTES);
        let attachment = self
            .attachment
            .as_ref()
            .map(|a| format!("  attachment {}/{} chars", a.chars(), rules::MAX_ATTACHMENT_CHARS))
            .unwrap_or_default();
        format!("{chain}{attachment}")
    }

    fn to_human(&self) -> String {
        let mut out = String::new();
        let n = self.parts.len();
        for (i, p) in self.parts.iter().enumerate() {
            let header = format!("part {}/{n} · {}/{MAX_TEXT_BYTES} bytes", i + 1, p.text.len());
            let spoilers: Vec<String> =
                p.spoilers.iter().map(|r| format!("[spoiler: {}]", &p.text[r.clone()])).collect();
            parts::human_part(&mut out, &header, &p.text, &spoilers, &p.media, "");
        }
        if let Some(a) = &self.attachment {
            out.push_str(&format!(
                "── text attachment · {}/{} characters ──\n{}\n",
                a.chars(),
                rules::MAX_ATTACHMENT_CHARS,
                a.plaintext
            ));
        }
        out
    }
}

const CREDENTIALS: &[Credential] = &[
    Credential { var: "THREADS_ACCESS_TOKEN", required: true },
    Credential { var: "THREADS_USER_ID", required: false },
    Credential { var: "THREADS_USERNAME", required: false },
];

super::platform! {
    pub struct Threads("threads") {
        display: "Threads",
        credentials: CREDENTIALS,
        hint: "get a token with `crier auth threads --write-env .env` (locally), and add it as the repository secret THREADS_ACCESS_TOKEN for GitHub Actions",
        sign_in: &auth::ThreadsSignIn,
        post: ThreadsOptions,
        connect: |cx| session::connect(cx).await,
        validate: validate,
    }

    fn placeholder_url(&self, _post: &Post, env: &Env) -> String {
        // Threads shortcodes are 11 characters.
        let user = env.get("THREADS_USERNAME").unwrap_or("username");
        format!("https://www.threads.com/@{user}/post/XXXXXXXXXXX")
    }
}

/// Threads' rules, and a public URL for each repository file (Threads fetches media by URL).
fn validate(project: &Project, post: &Post, out: &ThreadsOutput) -> Vec<Diagnostic> {
    let mut d = rules::validate(project, post, out);
    for m in out.parts.iter().flat_map(|p| &p.media) {
        crate::rules::media::check_public_url(post, m, "Threads fetches media by URL", &mut d);
    }
    d
}

/// Renders `post` for Threads: the chain (from `thread:`, `threads.text` or the body split
/// at thematic breaks, or `split: attachment`) as plain text, each part through the
/// template, then `split: auto` and the spoilers.
pub fn render(project: &Project, post: &Post, targets: &[PlatformId]) -> Result<ThreadsOutput, Vec<Diagnostic>> {
    let f = &post.front;
    let (opts, template) = super::options_and_template::<ThreadsOptions>(project, post, Threads::id())?;

    let attachment_mode = opts.and_then(|o| o.split.as_ref()).is_some_and(|s| s.value == ThreadsSplit::Attachment);
    let (mut parts, attachment) = if attachment_mode && f.thread.is_none() {
        attachment_parts(project, post)
    } else {
        (chain::source_parts(project, post, opts.and_then(|o| o.text.as_ref()), MARKDOWN), None)
    };
    chain::add_top_media(project, post, &mut parts);

    let mut out: Vec<SourcePart> = parts::render_chain(project, post, targets, Threads::id(), &template, parts)?
        .into_iter()
        .map(|(text, part)| SourcePart { text: text.trim().to_owned(), ..part })
        .collect();
    if opts.and_then(|o| o.split.as_ref()).is_some_and(|s| s.value == ThreadsSplit::Auto) {
        out = split_long_parts(out);
    }
    // The spoiler marks went through the template and the split: now they become entities.
    let out = out
        .into_iter()
        .map(|part| {
            let (text, spoilers) = spoilers_of(&part.text);
            ThreadsPart { text, media: part.media, origin: part.origin, dropped_images: part.dropped_images, spoilers }
        })
        .collect();
    Ok(ThreadsOutput { parts: out, template, attachment })
}

/// Marked text without its marks, trimmed, and its spoilers' byte ranges.
fn spoilers_of(marked: &str) -> (String, Vec<Range<usize>>) {
    let (text, ranges) = text::take_spoilers(marked);
    let lead = text.len() - text.trim_start().len();
    let trimmed = text.trim().to_owned();
    let ranges = ranges
        .into_iter()
        .map(|r| r.start.saturating_sub(lead)..(r.end - lead).min(trimmed.len()))
        .filter(|r| r.start < r.end)
        .collect();
    (trimmed, ranges)
}

/// `split: attachment`: one part with the short visible text (`threads.text`, else the
/// body's first paragraph), and the whole body as the attachment.
fn attachment_parts(project: &Project, post: &Post) -> (Vec<SourcePart>, Option<Attachment>) {
    let site = project.config.site_url();
    let whole = text::markdown_to_text_marked(&post.body, site.as_ref());
    let (plaintext, spoilers) = text::take_spoilers(&whole);
    let mut links: Vec<String> = Vec::new();
    for r in text::find_urls(&plaintext) {
        let url = plaintext[r].to_owned();
        if !links.contains(&url) {
            links.push(url);
        }
    }
    let start = post.body.len() - post.body.trim_start().len();
    let line_end = post.body[start..].find('\n').map_or(post.body.len(), |i| start + i);
    let body_origin = post.body_span(start..line_end);
    let over = post.options.get::<ThreadsOptions>().and_then(|t| t.value.text.as_ref());
    let (visible, origin) = match over {
        Some(t) => (text::markdown_to_text_marked(&t.value, site.as_ref()), post.span_of(&t.referenced)),
        None => (whole.split("\n\n").find(|p| !p.trim().is_empty()).unwrap_or("").to_owned(), body_origin.clone()),
    };
    let attachment = (!plaintext.trim().is_empty()).then(|| Attachment {
        plaintext: plaintext.trim().to_owned(),
        links,
        spoilers: spoilers.len(),
        origin: body_origin,
    });
    let parts = if visible.trim().is_empty() {
        Vec::new()
    } else {
        vec![SourcePart { text: visible, origin, media: Vec::new(), dropped_images: Vec::new() }]
    };
    (parts, attachment)
}

/// Threads shows plain text and keeps `||spoilers||` marked (they become spoiler entities).
const MARKDOWN: chain::Markdown =
    chain::Markdown { text: text::markdown_to_text_marked, parts: text::markdown_to_parts_marked };

fn split_long_parts(parts: Vec<SourcePart>) -> Vec<SourcePart> {
    let mut out = Vec::new();
    for part in parts {
        if part.text.len() <= MAX_TEXT_BYTES {
            out.push(part);
            continue;
        }
        let pieces = text::split_auto(&part.text, MAX_TEXT_BYTES);
        out.extend(parts::spread(part, pieces, |text, p| SourcePart { text, ..p }));
    }
    out
}
