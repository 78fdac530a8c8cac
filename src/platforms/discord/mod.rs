//! Discord, through a channel webhook: the post's Markdown as it is written (Discord
//! renders it; reference links are written inline and entities decoded, which it does not), at most 2,000 characters a message (`split: auto` sends a run of
//! messages), images attached with their alt text, never a ping.
//!
//! - [`api`]: the webhook client; [`rules`]: the limits and diagnostics;
//! - `session`: publishing (never twice), edits, deletes, drift and reactions.

pub mod api;
mod doctor;
pub mod options;
pub mod rules;
mod session;

pub use options::DiscordOptions;

use std::ops::Range;

use serde_json::{Value, json};

use super::{Credential, Output, PlatformId, PreviewContext, parts};
use crate::content::{Post, SplitMode};
use crate::diag::Diagnostic;
use crate::env::Env;
use crate::project::Project;
use crate::render::html::Card;
use crate::render::text;
use crate::rules::media::{self, MediaRef};

/// The platform's name in posts, config and records.
pub const NAME: &str = "discord";

/// Characters of a message's `content`.
pub const MAX_CHARS: usize = 2000;

/// The variable holding the webhook URL (a secret).
pub const WEBHOOK_VAR: &str = "DISCORD_WEBHOOK_URL";

/// Characters as Discord counts a message's content (Unicode code points).
pub fn count(text: &str) -> usize {
    text.chars().count()
}

/// One message: its Markdown and the files attached to it.
#[derive(Debug, Clone)]
pub struct DiscordMessage {
    pub text: String,
    pub media: Vec<MediaRef>,
}

/// What a post becomes on Discord: one message, or a run of them (`split: auto`), the
/// post's media attached to the first.
#[derive(Debug, Clone)]
pub struct DiscordOutput {
    pub messages: Vec<DiscordMessage>,
    pub username: Option<String>,
    pub avatar_url: Option<String>,
    pub thread_name: Option<String>,
    pub suppress_embeds: bool,
    pub split: bool,
    /// Inline images sent as their alt text (no public URL to show them by).
    pub unshown_images: usize,
    pub template: String,
    /// Where the text comes from in the post file.
    pub origin: Range<usize>,
}

impl Output for DiscordOutput {
    super::output_basics!(Discord::id());

    fn cards<'a>(&'a self, cx: &mut PreviewContext<'_>) -> Vec<Card<'a>> {
        self.messages.iter().map(|m| cx.card(&m.text, count(&m.text), MAX_CHARS, &m.media)).collect()
    }

    fn to_json(&self) -> Value {
        json!({
            "parts": self.messages.iter().map(|m| parts::part_json(&m.text, &m.media)).collect::<Vec<_>>(),
            "username": self.username,
            "avatar_url": self.avatar_url,
            "thread_name": self.thread_name,
            "suppress_embeds": self.suppress_embeds,
        })
    }

    fn summary(&self) -> String {
        parts::chain_summary("discord ", "message", self.messages.iter().map(|m| count(&m.text)), MAX_CHARS)
    }

    fn to_human(&self) -> String {
        let mut opts = Vec::new();
        if let Some(u) = &self.username {
            opts.push(format!("as: {u}"));
        }
        if let Some(t) = &self.thread_name {
            opts.push(format!("new forum post: {t}"));
        }
        if self.suppress_embeds {
            opts.push("no link previews".to_owned());
        }
        let mut out = String::new();
        parts::options_line(&mut out, &opts);
        let n = self.messages.len();
        for (i, m) in self.messages.iter().enumerate() {
            let header = format!("message {}/{n} · {}/{MAX_CHARS} characters", i + 1, count(&m.text));
            parts::human_part(&mut out, &header, &m.text, &[], &m.media, " — no alt text");
        }
        out
    }
}

const CREDENTIALS: &[Credential] = &[Credential { var: WEBHOOK_VAR, required: true }];

super::platform! {
    pub struct Discord(NAME) {
        display: "Discord",
        credentials: CREDENTIALS,
        hint: "in Discord open the channel's Settings → Integrations → Webhooks → New Webhook, copy its URL and set DISCORD_WEBHOOK_URL (in .env, or as a repository secret: the URL is the credential)",
        noun: "message",
        post: DiscordOptions,
        edits_in_place: true,
        connect: |cx| session::connect(cx),
        validate: |_project, post, o: &DiscordOutput| rules::validate(post, o),
    }

    /// A webhook URL that is not one is exit 2 before anything is sent (never shown).
    fn check_env(&self, env: &Env) -> Result<(), String> {
        env.get(WEBHOOK_VAR).map_or(Ok(()), |url| api::parse_webhook_url(url).map(drop))
    }

    fn placeholder_url(&self, _post: &Post, _env: &Env) -> String {
        // Snowflakes are 18–19 digits.
        "https://discord.com/channels/1180000000000000000/1180000000000000000/1182000000000000000".to_owned()
    }
}

/// Renders `post` for Discord: the Markdown (`discord.text`, else the body) with reference
/// links written inline, relative links made absolute and HTML entities decoded, through
/// the template; `split: auto` cuts a long text into messages.
pub fn render(project: &Project, post: &Post, targets: &[PlatformId]) -> Result<DiscordOutput, Vec<Diagnostic>> {
    let (opts, template) = super::options_and_template::<DiscordOptions>(project, post, Discord::id())?;
    let (markdown, origin) = match opts.and_then(|o| o.text.as_ref()) {
        Some(t) => (t.value.clone(), post.span_of(&t.referenced)),
        None => {
            let body = post.body.trim();
            let start = post.body.len() - post.body.trim_start().len();
            (body.to_owned(), post.body_span(start..start + body.len().max(1).min(post.body.len() - start)))
        }
    };
    // Discord renders inline links but not references: they are written inline first.
    let markdown = text::inline_references(&markdown);
    let markdown = text::rewrite_relative_links(&markdown, project.config.site_url().as_ref());
    // Discord does not render image syntax: an image becomes its URL (Discord previews it),
    // one without a public URL its alt text.
    let post_dir = post.path.rsplit_once('/').map_or("", |(dir, _)| dir);
    let mut unshown = 0;
    let markdown = text::images_as_urls(&markdown, |dest| {
        let url = media::normalize(&media::join_post_dir(post_dir, dest)).and_then(|rel| project.public_url(&rel));
        unshown += usize::from(url.is_none());
        url
    });
    // Discord shows `&amp;` as written: entities are decoded (in prose, not in code).
    let markdown = text::decode_entities(&markdown);
    let rendered = parts::render_text(project, post, targets, Discord::id(), &template, markdown)?.trim().to_owned();
    let split = opts.and_then(|o| o.split.as_ref()).is_some_and(|s| s.value == SplitMode::Auto);
    let pieces = if split && count(&rendered) > MAX_CHARS {
        text::split_counted(&rendered, MAX_CHARS, 1, count)
    } else {
        vec![rendered]
    };
    let mut messages: Vec<DiscordMessage> =
        pieces.into_iter().map(|text| DiscordMessage { text, media: Vec::new() }).collect();
    if let Some(top) = &post.front.media {
        messages[0].media = top.value.iter().map(|m| media::resolve(project, post, m)).collect();
    }
    let value = |o: Option<&serde_saphyr::Spanned<String>>| o.map(|s| s.value.trim().to_owned());
    Ok(DiscordOutput {
        messages,
        username: value(opts.and_then(|o| o.username.as_ref())),
        avatar_url: value(opts.and_then(|o| o.avatar_url.as_ref())),
        thread_name: value(opts.and_then(|o| o.thread_name.as_ref())),
        suppress_embeds: opts.and_then(|o| o.suppress_embeds).unwrap_or(false),
        split,
        unshown_images: unshown,
        template,
        origin,
    })
}
