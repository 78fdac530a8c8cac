//! LinkedIn (member posts through the versioned Posts API): plain text made like Threads
//! text, written in LinkedIn's "little" format as the post's `commentary`; one image
//! (`content.media`) or 2–20 (`content.multiImage`) uploaded through the Images API with
//! their alt texts; an article card for the first link of a post without media; the text
//! edited in place; exactly once through LinkedIn's duplicate refusal.
//!
//! - [`little`]: the escaping and the hashtags; [`rules`]: the limits;
//! - [`api`]: the HTTP client; [`publish`]: exactly-once publishing, edits, deletes.

pub mod api;
mod auth;
mod doctor;
pub mod little;
pub mod options;
pub mod publish;
pub mod rules;
mod session;

pub use options::{LinkedinConfig, LinkedinOptions};

use std::ops::Range;

use serde_json::{Value, json};

use super::{Credential, Output, PlatformId, PreviewContext, parts};
use crate::content::Post;
use crate::diag::Diagnostic;
use crate::env::Env;
use crate::project::Project;
use crate::render::html::Card;
use crate::render::text::{self, LinkStyle};
use crate::rules::media::{self, MediaRef};

/// The platform's name in posts, config and records.
pub const NAME: &str = "linkedin";

/// Visibilities a member post may have (`PUBLIC` is the default).
pub const VISIBILITIES: [&str; 2] = ["PUBLIC", "CONNECTIONS"];

/// What a post becomes on LinkedIn: one post.
#[derive(Debug, Clone)]
pub struct LinkedinOutput {
    /// The plain text (what a reader sees).
    pub text: String,
    /// The text as sent: little format, reserved characters escaped.
    pub commentary: String,
    pub media: Vec<MediaRef>,
    pub visibility: String,
    /// The link an article card is made for (a post without media, `link_card` not false).
    pub card_url: Option<String>,
    pub template: String,
    /// Where the text comes from in the post file.
    pub origin: Range<usize>,
    /// Inline Markdown images left out of the text (file spans).
    pub dropped_images: Vec<Range<usize>>,
}

impl LinkedinOutput {
    /// Characters as the rules count them.
    pub fn count(&self) -> usize {
        little::count(&self.text)
    }
}

impl Output for LinkedinOutput {
    super::output_basics!(Linkedin::id());

    fn cards<'a>(&'a self, cx: &mut PreviewContext<'_>) -> Vec<Card<'a>> {
        vec![cx.card(&self.text, self.count(), rules::ALLOWED, &self.media)]
    }

    fn to_json(&self) -> Value {
        json!({
            "commentary": self.commentary,
            "text": self.text,
            "media": self.media.iter().map(MediaRef::to_json).collect::<Vec<_>>(),
            "visibility": self.visibility,
            "article": self.card_url,
        })
    }

    fn summary(&self) -> String {
        let media = match self.media.len() {
            0 => String::new(),
            1 => "  1 image".to_owned(),
            n => format!("  {n} images"),
        };
        format!("linkedin 1 post  {}/{}{media}", self.count(), rules::ALLOWED)
    }

    fn to_human(&self) -> String {
        let mut out = format!("visibility: {}\n", self.visibility);
        let header = format!("post · {}/{} characters", self.count(), rules::ALLOWED);
        parts::human_part(&mut out, &header, &self.text, &[], &self.media, " — no alt text");
        if let Some(url) = &self.card_url {
            out.push_str(&format!("[article card for {url}]\n"));
        }
        out
    }
}

const CREDENTIALS: &[Credential] = &[Credential { var: "LINKEDIN_ACCESS_TOKEN", required: true }];

super::platform! {
    pub struct Linkedin(NAME) {
        display: "LinkedIn",
        credentials: CREDENTIALS,
        hint: "run `crier auth linkedin --write-env .env` with LINKEDIN_CLIENT_ID, LINKEDIN_CLIENT_SECRET and LINKEDIN_REDIRECT_URI of an app (https://www.linkedin.com/developers/apps) that has the products \"Sign In with LinkedIn using OpenID Connect\" and \"Share on LinkedIn\" (or generate a token with the scopes `openid profile w_member_social` in the Developer Portal), then set LINKEDIN_ACCESS_TOKEN as a repository secret for CI; tokens last 60 days",
        sign_in: &auth::LinkedinSignIn,
        post: LinkedinOptions,
        config: LinkedinConfig,
        edits_in_place: true,
        connect: |cx| session::connect(cx),
        validate: |_project, post, o: &LinkedinOutput| rules::validate(post, o),
    }

    fn placeholder_url(&self, _post: &Post, _env: &Env) -> String {
        // Share URNs are 19 digits.
        "https://www.linkedin.com/feed/update/urn:li:share:7240000000000000000/".to_owned()
    }
}

/// Renders `post` for LinkedIn: the text (`linkedin.text`, else the body, else the parts of
/// `thread:` joined by blank lines) as plain text through the template, then the commentary.
pub fn render(project: &Project, post: &Post, targets: &[PlatformId]) -> Result<LinkedinOutput, Vec<Diagnostic>> {
    let f = &post.front;
    let (opts, template) = super::options_and_template::<LinkedinOptions>(project, post, Linkedin::id())?;
    let site = project.config.site_url();
    let site = site.as_ref();

    let mut media: Vec<MediaRef> = f
        .media
        .as_ref()
        .map(|m| m.value.iter().map(|i| media::resolve(project, post, i)).collect())
        .unwrap_or_default();
    let mut dropped_images = Vec::new();
    let (source, origin) = if let Some(over) = opts.and_then(|o| o.text.as_ref()) {
        (text::markdown_to_text_shielded(&over.value, LinkStyle::Inline, site), post.span_of(&over.referenced))
    } else if let Some(thread) = &f.thread {
        let mut texts = Vec::new();
        for item in &thread.value {
            let t = text::markdown_to_text_shielded(item.value.text.as_deref().unwrap_or(""), LinkStyle::Inline, site);
            if !t.is_empty() {
                texts.push(t);
            }
            media.extend(item.value.media.iter().map(|m| media::resolve(project, post, m)));
        }
        (texts.join("\n\n"), post.span_of(&thread.referenced))
    } else {
        let parts = text::markdown_to_parts_shielded(&post.body, LinkStyle::Inline, site);
        dropped_images = parts.iter().flat_map(|p| p.images.iter().map(|r| post.body_span(r.clone()))).collect();
        let texts: Vec<&str> = parts.iter().map(|p| p.text.as_str()).filter(|t| !t.is_empty()).collect();
        // Point at the body's first line: enough to find it, short to show.
        let start = post.body.len() - post.body.trim_start().len();
        let end = post.body[start..].find('\n').map_or(post.body.len(), |i| start + i);
        (texts.join("\n\n"), post.body_span(start..end.max(start + 1).min(post.body.len().max(start))))
    };

    // The `#` of code is shielded until the commentary is written: it makes no hashtag.
    let shielded = parts::render_text(project, post, targets, Linkedin::id(), &template, source)?;
    let shielded = shielded.trim();
    let rendered = text::unshield(shielded);
    let link_card = opts.and_then(|o| o.link_card.as_ref()).is_none_or(|c| c.value);
    let card_url = (link_card && media.is_empty())
        .then(|| text::find_urls(&rendered).first().map(|r| rendered[r.clone()].to_owned()))
        .flatten();
    Ok(LinkedinOutput {
        commentary: little::commentary(shielded),
        text: rendered,
        media,
        visibility: opts.and_then(|o| o.visibility.as_ref()).map_or_else(|| "PUBLIC".to_owned(), |v| v.value.clone()),
        card_url,
        template,
        origin,
        dropped_images,
    })
}
