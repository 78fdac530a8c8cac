//! Mastodon (and servers with its client API, such as GoToSocial): plain text
//! made like Threads text, a chain of statuses replying to each other, media
//! uploaded with alt text, limits read from the instance.
//!
//! - [`count`]: characters as Mastodon counts them, and `split: auto`;
//! - [`rules`]: the limits (Mastodon's defaults, crier.yaml, or the
//!   instance's real numbers) and the diagnostics;
//! - [`api`]: the HTTP client; [`publish`]: exactly-once publishing and edits;
//! - [`html`]: status HTML back to text, to recognise statuses on the account.

pub mod api;
pub mod count;
pub mod html;
pub mod publish;
pub mod rules;

use std::ops::Range;

use handlebars::Context;
use serde_json::{Value, json};

use crate::content::{Post, SplitMode};
use crate::diag::Diagnostic;
use crate::platforms::PlatformId;
use crate::project::Project;
use crate::render::context;
use crate::render::templates::TemplateFailure;
use crate::render::text;
use crate::rules::media::{self, MediaRef};
use rules::Limits;

/// The platform's name in posts, config and records.
pub const NAME: &str = "mastodon";

/// Visibilities a status may have (`public` is the default).
pub const VISIBILITIES: [&str; 4] = ["public", "unlisted", "private", "direct"];

#[derive(Debug, Clone)]
pub struct MastodonPart {
    pub text: String,
    pub media: Vec<MediaRef>,
    /// Where the part comes from in the post file.
    pub origin: Range<usize>,
    /// Inline Markdown images left out of the text (file spans).
    pub dropped_images: Vec<Range<usize>>,
}

/// What a post becomes on Mastodon: one status per part, the later ones
/// replying to the one before; the options apply to every status.
#[derive(Debug, Clone)]
pub struct MastodonOutput {
    pub parts: Vec<MastodonPart>,
    pub visibility: String,
    pub spoiler_text: Option<String>,
    pub sensitive: bool,
    pub language: Option<String>,
    pub template: String,
    /// The limits `check` counted against (crier.yaml or Mastodon's defaults).
    pub limits: Limits,
}

impl MastodonOutput {
    /// Characters of part `i` as the instance counts them (content warning included).
    pub fn count(&self, i: usize, limits: &Limits) -> usize {
        count::weighted_len(
            &self.parts[i].text,
            self.spoiler_text.as_deref().unwrap_or(""),
            limits.characters_reserved_per_url,
        )
    }

    pub fn to_json(&self) -> Value {
        json!({
            "parts": self.parts.iter().map(|p| json!({
                "text": p.text,
                "media": p.media.iter().map(MediaRef::to_json).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "visibility": self.visibility,
            "spoiler_text": self.spoiler_text,
            "sensitive": self.sensitive,
            "language": self.language,
        })
    }

    pub fn summary(&self) -> String {
        let n = self.parts.len();
        let max = self.limits.max_characters;
        let sizes: Vec<String> = (0..n).map(|i| format!("{}/{max}", self.count(i, &self.limits))).collect();
        format!("mastodon {n} part{}  {}", if n == 1 { "" } else { "s" }, sizes.join("  "))
    }

    pub fn to_human(&self) -> String {
        let mut out = String::new();
        let mut opts = vec![format!("visibility: {}", self.visibility)];
        if let Some(cw) = &self.spoiler_text {
            opts.push(format!("content warning: {cw}"));
        }
        if self.sensitive {
            opts.push("sensitive media".to_owned());
        }
        if let Some(l) = &self.language {
            opts.push(format!("language: {l}"));
        }
        out.push_str(&opts.join(" · "));
        out.push('\n');
        let n = self.parts.len();
        let max = self.limits.max_characters;
        for (i, p) in self.parts.iter().enumerate() {
            out.push_str(&format!("── status {}/{n} · {}/{max} characters ──\n", i + 1, self.count(i, &self.limits)));
            if !p.text.is_empty() {
                out.push_str(&p.text);
                out.push('\n');
            }
            for m in &p.media {
                let what = m.path.as_deref().or(m.url.as_deref()).unwrap_or("?");
                match &m.alt {
                    Some(alt) => out.push_str(&format!("[{} {what} — alt: {alt}]\n", m.kind_name())),
                    None => out.push_str(&format!("[{} {what} — no alt text]\n", m.kind_name())),
                }
            }
        }
        out
    }
}

/// Renders `post` for Mastodon: the chain (from `thread:`, `mastodon.text` or
/// the body split at thematic breaks) as plain text, each part through the
/// template, then `split: auto` against `limits` when asked.
pub fn render(project: &Project, post: &Post, targets: &[PlatformId]) -> Result<MastodonOutput, Vec<Diagnostic>> {
    let f = &post.front;
    let opts = f.mastodon.as_ref().map(|m| &m.value);
    let limits = Limits::from_config(&project.config.mastodon);
    let template_key = opts.and_then(|o| o.template.as_ref());
    let template = choose_template(project, post, template_key)?;

    let mut parts = source_parts(project, post);
    if let Some(top) = &f.media {
        let resolved: Vec<MediaRef> = top.value.iter().map(|m| media::resolve(project, post, m)).collect();
        if parts.is_empty() {
            parts.push(MastodonPart {
                text: String::new(),
                media: Vec::new(),
                origin: post.span_of(&top.referenced),
                dropped_images: Vec::new(),
            });
        }
        let mut first = resolved;
        first.append(&mut parts[0].media);
        parts[0].media = first;
    }

    let mut base = context::base(post, &project.config, targets, None);
    base.insert("platform".into(), NAME.into());
    let mut ctx = Context::from(Value::Object(base));
    let count = parts.len();
    let mut out = Vec::with_capacity(count);
    for (i, part) in parts.into_iter().enumerate() {
        if let Value::Object(map) = ctx.data_mut() {
            map.insert("text".into(), Value::String(part.text));
            map.insert(
                "part".into(),
                json!({"number": i + 1, "count": count, "first": i == 0, "last": i + 1 == count}),
            );
        }
        match project.templates.render_with_context(&template, &ctx, &post.path, NAME) {
            Ok(rendered) => out.push(MastodonPart { text: rendered.trim().to_owned(), ..part }),
            Err(TemplateFailure::AlreadyReported) => return Err(Vec::new()),
            Err(TemplateFailure::Error(d)) => return Err(vec![*d]),
        }
    }
    let spoiler_text = opts.and_then(|o| o.spoiler_text.as_ref()).map(|s| s.value.trim().to_owned());
    let spoiler_text = spoiler_text.filter(|s| !s.is_empty());
    if opts.and_then(|o| o.split.as_ref()).is_some_and(|s| s.value == SplitMode::Auto) {
        let reserve = count::weighted_len("", spoiler_text.as_deref().unwrap_or(""), 0);
        out = split_long_parts(out, &limits, reserve);
    }
    Ok(MastodonOutput {
        parts: out,
        visibility: opts.and_then(|o| o.visibility.as_ref()).map_or_else(|| "public".to_owned(), |v| v.value.clone()),
        spoiler_text,
        sensitive: opts.and_then(|o| o.sensitive).unwrap_or(false),
        language: opts.and_then(|o| o.language.as_ref()).map(|l| l.value.trim().to_owned()),
        template,
        limits,
    })
}

/// `mastodon.template`, else the post's `template`, else `mastodon` (the
/// built-in renders exactly the text; `templates/mastodon.hbs` overrides it).
fn choose_template(
    project: &Project,
    post: &Post,
    over: Option<&serde_saphyr::Spanned<String>>,
) -> Result<String, Vec<Diagnostic>> {
    let key = over.or(post.front.template.as_ref());
    let name = key.map_or(NAME, |t| t.value.as_str()).to_owned();
    if project.templates.has(&name) {
        return Ok(name);
    }
    let known: Vec<&str> = project.templates.names().collect();
    let span = key.map_or_else(|| post.head_span(), |t| post.span_of(&t.referenced));
    Err(vec![
        Diagnostic::error("template-not-found", format!("template `{name}` does not exist"))
            .at(&post.source, span)
            .with_hint(format!(
                "create `{}/{name}.hbs`, or use one of: {}",
                project.config.templates_dir,
                known.join(", ")
            )),
    ])
}

/// The chain before templating: `thread:` items, else the Markdown (the
/// `mastodon.text` override or the body) split at thematic breaks.
fn source_parts(project: &Project, post: &Post) -> Vec<MastodonPart> {
    let f = &post.front;
    if let Some(thread) = &f.thread {
        return thread
            .value
            .iter()
            .map(|item| MastodonPart {
                text: text::markdown_to_text(item.value.text.as_deref().unwrap_or("")),
                media: item.value.media.iter().map(|m| media::resolve(project, post, m)).collect(),
                origin: item
                    .value
                    .text_at
                    .as_ref()
                    .map_or_else(|| post.span_of(&item.referenced), |at| post.span_of(at)),
                dropped_images: Vec::new(),
            })
            .collect();
    }
    if let Some(over) = f.mastodon.as_ref().and_then(|m| m.value.text.as_ref()) {
        let origin = post.span_of(&over.referenced);
        return text::markdown_to_parts(&over.value)
            .into_iter()
            .filter(|p| !p.text.is_empty())
            .map(|p| MastodonPart {
                text: p.text,
                media: Vec::new(),
                origin: origin.clone(),
                dropped_images: Vec::new(),
            })
            .collect();
    }
    text::markdown_to_parts(&post.body)
        .into_iter()
        .map(|p| {
            // Point at the first line of the part: enough to find it, short to show.
            let start = p.source.start + (p.source.len() - post.body[p.source.clone()].trim_start().len());
            let line_end = post.body[start..p.source.end].find('\n').map_or(p.source.end, |i| start + i);
            MastodonPart {
                text: p.text,
                media: Vec::new(),
                origin: post.body_span(start..line_end.max(start + 1).min(post.body.len())),
                dropped_images: p.images.iter().map(|r| post.body_span(r.clone())).collect(),
            }
        })
        .filter(|p| !p.text.is_empty() || !p.dropped_images.is_empty())
        .collect()
}

fn split_long_parts(parts: Vec<MastodonPart>, limits: &Limits, reserve: usize) -> Vec<MastodonPart> {
    let per_url = limits.characters_reserved_per_url;
    let mut out = Vec::new();
    for part in parts {
        if count::text_len(&part.text, per_url) + reserve <= limits.max_characters {
            out.push(part);
            continue;
        }
        let mut media = Some(part.media);
        let mut dropped = Some(part.dropped_images);
        for piece in count::split_to_fit(&part.text, limits.max_characters, reserve, per_url) {
            out.push(MastodonPart {
                text: piece,
                media: media.take().unwrap_or_default(),
                origin: part.origin.clone(),
                dropped_images: dropped.take().unwrap_or_default(),
            });
        }
    }
    out
}
