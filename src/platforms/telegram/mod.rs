//! Telegram: announcements in a channel through a bot that is one of its administrators.
//!
//! The post's Markdown goes through the `telegram` template, then becomes text plus
//! message entities ([`format`]): bold, italic, code and links stay formatted, nothing needs
//! escaping. What is sent ([`Send`]), in order:
//!
//! - no media: one message (at most 4,096 UTF-16 units), or with `split: auto` a chain;
//! - media (1 image or video, or an album of 2–10): the text is the caption when it fits
//!   the 1,024 units of a caption; a longer text goes first as its own message(s), and the
//!   media follow without a caption (the announcement reads first, the pictures follow).
//!
//! A bot cannot read a channel back, so a send whose reply was lost is never repeated:
//! each send is written ahead into the post's entry (`unconfirmed`), see [`session`].

pub mod api;
pub mod format;
pub mod options;
pub mod rules;
mod session;

pub use options::{TelegramConfig, TelegramOptions};

use std::ops::Range;

use serde_json::{Value, json};

use super::{Credential, Output, PlatformId, PreviewContext, parts};
use crate::content::{Post, SplitMode};
use crate::diag::Diagnostic;
use crate::env::Env;
use crate::project::Project;
use crate::render::html::Card;
use crate::rules::media::{self, MediaRef};
use format::Formatted;

/// The platform's name in posts, config and records.
pub const NAME: &str = "telegram";

/// A message's text, in UTF-16 units.
pub const MAX_TEXT: usize = 4096;
/// A caption, in UTF-16 units.
pub const MAX_CAPTION: usize = 1024;
/// Media of one album.
pub const MAX_ALBUM: usize = 10;

/// One send: a text message, or media (one, or an album) with an optional caption.
#[derive(Debug, Clone)]
pub enum Send {
    Text(Formatted),
    Media { media: Vec<MediaRef>, caption: Option<Formatted> },
}

impl Send {
    /// Messages it becomes (an album is one message per medium).
    pub fn messages(&self) -> usize {
        match self {
            Self::Text(_) => 1,
            Self::Media { media, .. } => media.len().max(1),
        }
    }

    fn to_json(&self) -> Value {
        match self {
            Self::Text(t) => json!({"text": t.text, "entities": t.entities_json()}),
            Self::Media { media, caption } => json!({
                "media": media.iter().map(MediaRef::to_json).collect::<Vec<_>>(),
                "caption": caption.as_ref().map(|c| json!({"text": c.text, "entities": c.entities_json()})),
            }),
        }
    }
}

/// What a post becomes on Telegram.
#[derive(Debug, Clone)]
pub struct TelegramOutput {
    pub sends: Vec<Send>,
    /// The whole text before any split (for the rules).
    pub text: Formatted,
    pub split: bool,
    pub silent: bool,
    pub link_preview: bool,
    pub template: String,
    /// Where the text comes from in the post file.
    pub origin: Range<usize>,
}

impl TelegramOutput {
    /// The media of the post (in the one media send).
    pub fn media(&self) -> &[MediaRef] {
        self.sends
            .iter()
            .find_map(|s| match s {
                Send::Media { media, .. } => Some(media.as_slice()),
                Send::Text(_) => None,
            })
            .unwrap_or(&[])
    }
}

/// The sends of a text and its media (see the module's documentation).
pub fn layout(text: Formatted, media: Vec<MediaRef>, split: bool) -> Vec<Send> {
    let texts = |t: Formatted| -> Vec<Send> {
        if t.is_empty() {
            Vec::new()
        } else if split {
            format::split(&t, MAX_TEXT).into_iter().map(Send::Text).collect()
        } else {
            vec![Send::Text(t)]
        }
    };
    if media.is_empty() {
        return texts(text);
    }
    if text.len() <= MAX_CAPTION {
        let caption = (!text.is_empty()).then_some(text);
        return vec![Send::Media { media, caption }];
    }
    let mut sends = texts(text);
    sends.push(Send::Media { media, caption: None });
    sends
}

impl Output for TelegramOutput {
    super::output_basics!(Telegram::id());

    fn cards<'a>(&'a self, cx: &mut PreviewContext<'_>) -> Vec<Card<'a>> {
        self.sends
            .iter()
            .map(|s| match s {
                Send::Text(t) => cx.card(&t.text, t.len(), MAX_TEXT, &[]),
                Send::Media { media, caption } => cx.card(
                    caption.as_ref().map_or("", |c| c.text.as_str()),
                    caption.as_ref().map_or(0, Formatted::len),
                    MAX_CAPTION,
                    media,
                ),
            })
            .collect()
    }

    fn to_json(&self) -> Value {
        json!({
            "parts": self.sends.iter().map(Send::to_json).collect::<Vec<_>>(),
            "silent": self.silent,
            "link_preview": self.link_preview,
        })
    }

    fn summary(&self) -> String {
        let sizes: Vec<String> = self
            .sends
            .iter()
            .map(|s| match s {
                Send::Text(t) => format!("{}/{MAX_TEXT}", t.len()),
                Send::Media { media, caption } => format!(
                    "{} media, caption {}/{MAX_CAPTION}",
                    media.len(),
                    caption.as_ref().map_or(0, Formatted::len)
                ),
            })
            .collect();
        format!("telegram {}  {}", crate::diag::plural(self.sends.len(), "message"), sizes.join("  "))
    }

    fn to_human(&self) -> String {
        let mut out = String::new();
        let mut opts = Vec::new();
        if self.silent {
            opts.push("silent");
        }
        if !self.link_preview {
            opts.push("no link preview");
        }
        parts::options_line(&mut out, &opts);
        let n = self.sends.len();
        for (i, s) in self.sends.iter().enumerate() {
            match s {
                Send::Text(t) => {
                    out.push_str(&format!("── message {}/{n} · {}/{MAX_TEXT} ──\n{}\n", i + 1, t.len(), t.text));
                }
                Send::Media { media, caption } => {
                    let what = if media.len() > 1 { "album" } else { "media" };
                    out.push_str(&format!("── {what} {}/{n} ──\n", i + 1));
                    for m in media {
                        out.push_str(&format!(
                            "[{} {}]\n",
                            m.kind_name(),
                            m.path.as_deref().or(m.url.as_deref()).unwrap_or("?")
                        ));
                    }
                    if let Some(c) = caption {
                        out.push_str(&c.text);
                        out.push('\n');
                    }
                }
            }
        }
        out
    }
}

const CREDENTIALS: &[Credential] = &[
    Credential { var: "TELEGRAM_BOT_TOKEN", required: true },
    // Or `telegram.chat` in crier.yaml; `connect` says when neither is set.
    Credential { var: "TELEGRAM_CHAT_ID", required: false },
];

/// The channel: `TELEGRAM_CHAT_ID`, else crier.yaml `telegram.chat`.
pub fn chat_of(env: &Env, project: Option<&Project>) -> Result<String, String> {
    env.get("TELEGRAM_CHAT_ID")
        .map(str::to_owned)
        .or_else(|| project.and_then(|p| p.config.sections.get_or_default::<TelegramConfig>().chat.clone()))
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            "no Telegram channel is set: set TELEGRAM_CHAT_ID (`@channelname` or the chat id) or `telegram: {chat: \"@channelname\"}` in crier.yaml".to_owned()
        })
}

super::platform! {
    pub struct Telegram(NAME) {
        display: "Telegram",
        credentials: CREDENTIALS,
        hint: "create a bot with @BotFather (/newbot) and set its token as TELEGRAM_BOT_TOKEN; add the bot to the channel as an administrator allowed to post messages; set TELEGRAM_CHAT_ID to `@channelname` (or the channel's id, -100…) or `telegram: {chat: …}` in crier.yaml",
        noun: "message",
        post: TelegramOptions,
        config: TelegramConfig,
        edits_in_place: true,
        connect: |cx| session::connect(cx).await,
        doctor: session::doctor,
        validate: |_project, post, o: &TelegramOutput| rules::validate(post, o),
    }

    fn placeholder_url(&self, _post: &Post, env: &Env) -> String {
        let chat = env.get("TELEGRAM_CHAT_ID").and_then(|c| c.strip_prefix('@')).unwrap_or("channelname");
        format!("https://t.me/{chat}/1234")
    }
}

/// Renders `post`: the Markdown (`telegram.text` or the body) through the template, then
/// text and entities, laid out with the post's `media:`.
pub fn render(project: &Project, post: &Post, targets: &[PlatformId]) -> Result<TelegramOutput, Vec<Diagnostic>> {
    let (opts, template) = super::options_and_template::<TelegramOptions>(project, post, Telegram::id())?;
    let site = project.config.site_url();
    let (markdown, origin) = match opts.and_then(|o| o.text.as_ref()) {
        Some(t) => (t.value.clone(), post.span_of(&t.referenced)),
        None => {
            // The first line of the body: enough to find it, short to show.
            let start = post.body.len() - post.body.trim_start().len();
            let end = post.body[start..].find('\n').map_or(post.body.len(), |i| start + i);
            (post.body.clone(), post.body_span(start..end.max(start + 1).min(post.body.len())))
        }
    };
    let markdown = crate::render::text::strip_spoiler_markers(&markdown);
    let rendered = parts::render_text(project, post, targets, Telegram::id(), &template, markdown)?;
    let text = format::from_markdown(&rendered, site.as_ref());
    let media: Vec<MediaRef> = post
        .front
        .media
        .as_ref()
        .map(|m| m.value.iter().map(|i| media::resolve(project, post, i)).collect())
        .unwrap_or_default();
    let split = opts.and_then(|o| o.split.as_ref()).is_some_and(|s| s.value == SplitMode::Auto);
    Ok(TelegramOutput {
        sends: layout(text.clone(), media, split),
        text,
        split,
        silent: opts.and_then(|o| o.silent).unwrap_or(false),
        link_preview: opts.and_then(|o| o.link_preview).unwrap_or(true),
        template,
        origin,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(n: usize) -> Formatted {
        Formatted { text: "a".repeat(n), entities: Vec::new() }
    }

    fn image() -> MediaRef {
        MediaRef {
            path: None,
            abs: None,
            url: Some("https://cdn.example/a.png".into()),
            alt: None,
            format: crate::media_probe::MediaFormat::Png,
            info: None,
            span: 0..0,
            alt_span: None,
            problems: Vec::new(),
        }
    }

    /// Each send as `text N`, `media M` or `media M + caption N`.
    fn shape(sends: &[Send]) -> Vec<String> {
        sends
            .iter()
            .map(|s| match s {
                Send::Text(t) => format!("text {}", t.len()),
                Send::Media { media, caption: Some(c) } => format!("media {} + caption {}", media.len(), c.len()),
                Send::Media { media, caption: None } => format!("media {}", media.len()),
            })
            .collect()
    }

    #[test]
    fn text_and_media_are_laid_out_in_sends() {
        let cases: &[(usize, usize, bool, &[&str])] = &[
            (100, 0, false, &["text 100"]),
            (5000, 0, false, &["text 5000"]),
            (5000, 0, true, &["text 4096", "text 904"]),
            (1024, 1, false, &["media 1 + caption 1024"]),
            (0, 1, false, &["media 1"]),
            // A text longer than a caption goes first, on its own.
            (1025, 1, false, &["text 1025", "media 1"]),
            (300, 4, false, &["media 4 + caption 300"]),
            (9000, 3, true, &["text 4096", "text 4096", "text 808", "media 3"]),
        ];
        for (chars, media, split, want) in cases {
            let sends = layout(text(*chars), vec![image(); *media], *split);
            assert_eq!(shape(&sends), *want, "{chars} characters, {media} media, split {split}");
        }
    }
}
