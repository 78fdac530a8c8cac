//! Threads: Markdown becomes plain text, split into a chain of parts (from
//! `thread:`, from thematic breaks, or by `split: auto`), each rendered
//! through the `threads` template.

pub mod api;
mod doctor;
pub mod publish;
pub mod rules;
mod session;

use std::ops::Range;

use handlebars::Context;
use serde_json::{Value, json};

use super::{
    ConnectContext, Credential, DoctorContext, Failure, Output, Platform, PlatformId, PreviewContext, Rendered, Session,
};
use crate::checklist::Checklist;
use crate::content::{Post, SplitMode};
use crate::diag::Diagnostic;
use crate::env::Env;
use crate::project::Project;
use crate::render::html::{Card, cards};
use crate::render::templates::TemplateFailure;
use crate::render::text::{self, TextPart};
use crate::rules::media::{self, MediaRef};

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
}

#[derive(Debug, Clone)]
pub struct ThreadsOutput {
    pub parts: Vec<ThreadsPart>,
    pub template: String,
}

impl Output for ThreadsOutput {
    fn platform(&self) -> PlatformId {
        Threads::id()
    }

    fn template(&self) -> &str {
        &self.template
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn preview_html(&self, cx: &mut PreviewContext<'_>) -> String {
        let cards_: Vec<Card<'_>> = self
            .parts
            .iter()
            .map(|part| Card {
                text: &part.text,
                counter: format!("{}/{MAX_TEXT_BYTES}", part.text.len()),
                over: part.text.len() > MAX_TEXT_BYTES,
                media: part.media.iter().map(|m| cx.card_media(m)).collect(),
            })
            .collect();
        cards("Threads", &cards_)
    }

    fn to_json(&self) -> Value {
        json!({
            "parts": self.parts.iter().map(|p| json!({
                "text": p.text,
                "media": p.media.iter().map(MediaRef::to_json).collect::<Vec<_>>(),
            })).collect::<Vec<_>>()
        })
    }

    fn summary(&self) -> String {
        let n = self.parts.len();
        let sizes: Vec<String> = self.parts.iter().map(|p| format!("{}/{MAX_TEXT_BYTES}", p.text.len())).collect();
        format!("threads  {n} part{}  {}", if n == 1 { "" } else { "s" }, sizes.join("  "))
    }

    fn to_human(&self) -> String {
        let mut out = String::new();
        let n = self.parts.len();
        for (i, p) in self.parts.iter().enumerate() {
            out.push_str(&format!("── part {}/{n} · {}/{MAX_TEXT_BYTES} bytes ──\n", i + 1, p.text.len()));
            if !p.text.is_empty() {
                out.push_str(&p.text);
                out.push('\n');
            }
            for m in &p.media {
                let what = m.path.as_deref().or(m.url.as_deref()).unwrap_or("?");
                match &m.alt {
                    Some(alt) => out.push_str(&format!("[{} {what} — alt: {alt}]\n", m.kind_name())),
                    None => out.push_str(&format!("[{} {what}]\n", m.kind_name())),
                }
            }
        }
        out
    }
}

pub struct Threads;

impl Threads {
    fn id() -> PlatformId {
        PlatformId::parse("threads").expect("threads is a known platform")
    }
}

struct SourcePart {
    text: String,
    origin: Range<usize>,
    media: Vec<MediaRef>,
    dropped_images: Vec<Range<usize>>,
}

const CREDENTIALS: &[Credential] = &[
    Credential { var: "THREADS_ACCESS_TOKEN", required: true },
    Credential { var: "THREADS_USER_ID", required: false },
    Credential { var: "THREADS_USERNAME", required: false },
];

#[async_trait::async_trait(?Send)]
impl Platform for Threads {
    fn id(&self) -> PlatformId {
        Self::id()
    }

    fn display_name(&self) -> &'static str {
        "Threads"
    }

    fn placeholder_url(&self, _post: &Post, env: &Env) -> String {
        // Threads shortcodes are 11 characters.
        let user = env.get("THREADS_USERNAME").unwrap_or("username");
        format!("https://www.threads.com/@{user}/post/XXXXXXXXXXX")
    }

    fn credentials(&self) -> &'static [Credential] {
        CREDENTIALS
    }

    fn setup_hint(&self) -> &'static str {
        "get a token with `crier auth threads --write-env .env` (locally), and add it as the repository secret THREADS_ACCESS_TOKEN for GitHub Actions"
    }

    async fn connect(&self, cx: &ConnectContext<'_>) -> Result<Box<dyn Session>, Failure> {
        session::connect(cx).await
    }

    async fn doctor(&self, cx: &DoctorContext<'_>, report: &mut Checklist) {
        doctor::check(cx, report).await;
    }

    fn render(&self, project: &Project, post: &Post, targets: &[PlatformId]) -> Result<Rendered, Vec<Diagnostic>> {
        let f = &post.front;
        let opts = f.threads.as_ref().map(|t| &t.value);
        let template = super::choose_template(project, post, opts.and_then(|o| o.template.as_ref()), Self::id())?;

        let mut parts = source_parts(project, post);
        if let Some(top) = &f.media {
            let resolved: Vec<MediaRef> = top.value.iter().map(|m| media::resolve(project, post, m)).collect();
            if parts.is_empty() {
                parts.push(SourcePart {
                    text: String::new(),
                    origin: post.span_of(&top.referenced),
                    media: Vec::new(),
                    dropped_images: Vec::new(),
                });
            }
            let mut first = resolved;
            first.append(&mut parts[0].media);
            parts[0].media = first;
        }

        let base = super::template_context(project, post, targets, Self::id());
        // One context for every part: each part only replaces `text` and `part`.
        let mut ctx = Context::from(Value::Object(base));
        let count = parts.len();
        let mut out = Vec::with_capacity(count);
        let mut errors = Vec::new();
        for (i, part) in parts.into_iter().enumerate() {
            if let Value::Object(map) = ctx.data_mut() {
                map.insert("text".into(), Value::String(part.text));
                map.insert(
                    "part".into(),
                    json!({"number": i + 1, "count": count, "first": i == 0, "last": i + 1 == count}),
                );
            }
            match project.templates.render_with_context(&template, &ctx, &post.path, "threads") {
                Ok(rendered) => out.push(ThreadsPart {
                    text: rendered.trim().to_owned(),
                    media: part.media,
                    origin: part.origin,
                    dropped_images: part.dropped_images,
                }),
                Err(TemplateFailure::AlreadyReported) => return Err(Vec::new()),
                Err(TemplateFailure::Error(d)) => {
                    errors.push(*d);
                    break;
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        if opts.and_then(|o| o.split.as_ref()).is_some_and(|s| s.value == SplitMode::Auto) {
            out = split_long_parts(out);
        }
        Ok(std::sync::Arc::new(ThreadsOutput { parts: out, template }))
    }

    fn validate(&self, project: &Project, post: &Post, rendered: &dyn Output) -> Vec<Diagnostic> {
        super::downcast::<ThreadsOutput>(rendered).map(|t| rules::validate(project, post, t)).unwrap_or_default()
    }
}

/// The chain before templating: `thread:` items, else the Markdown (the
/// `threads.text` override or the body) split at thematic breaks.
fn source_parts(project: &Project, post: &Post) -> Vec<SourcePart> {
    let f = &post.front;
    if let Some(thread) = &f.thread {
        return thread
            .value
            .iter()
            .map(|item| {
                let origin =
                    item.value.text_at.as_ref().map_or_else(|| post.span_of(&item.referenced), |at| post.span_of(at));
                let md = item.value.text.as_deref().unwrap_or("");
                SourcePart {
                    text: text::markdown_to_text(md),
                    origin,
                    media: item.value.media.iter().map(|m| media::resolve(project, post, m)).collect(),
                    dropped_images: Vec::new(),
                }
            })
            .collect();
    }
    if let Some(over) = f.threads.as_ref().and_then(|t| t.value.text.as_ref()) {
        let origin = post.span_of(&over.referenced);
        return text::markdown_to_parts(&over.value)
            .into_iter()
            .filter(|p| !p.text.is_empty())
            .map(|p| SourcePart { text: p.text, origin: origin.clone(), media: Vec::new(), dropped_images: Vec::new() })
            .collect();
    }
    text::markdown_to_parts(&post.body)
        .into_iter()
        .filter(|p: &TextPart| !p.text.is_empty() || !p.images.is_empty())
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
        .filter(|p| !p.text.is_empty() || !p.dropped_images.is_empty())
        .collect()
}

fn split_long_parts(parts: Vec<ThreadsPart>) -> Vec<ThreadsPart> {
    let mut out = Vec::new();
    for part in parts {
        if part.text.len() <= MAX_TEXT_BYTES {
            out.push(part);
            continue;
        }
        let mut media = Some(part.media);
        let mut dropped = Some(part.dropped_images);
        for piece in text::split_auto(&part.text, MAX_TEXT_BYTES) {
            out.push(ThreadsPart {
                text: piece,
                media: media.take().unwrap_or_default(),
                origin: part.origin.clone(),
                dropped_images: dropped.take().unwrap_or_default(),
            });
        }
    }
    out
}
