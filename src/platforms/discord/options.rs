//! `discord:` in a post (contract section 2). Discord has no crier.yaml section: the
//! webhook URL (`DISCORD_WEBHOOK_URL`) names the server and the channel.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::content::SplitMode;
use crate::keys::Options;

/// `discord:` overrides of a post.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscordOptions {
    /// The text on Discord instead of the post's (Markdown: Discord renders it).
    #[schemars(with = "Option<String>")]
    pub text: Option<Spanned<String>>,
    /// The template to render with on Discord.
    #[schemars(with = "Option<String>")]
    pub template: Option<Spanned<String>>,
    /// The name the message is posted under instead of the webhook's (1–80 characters).
    #[schemars(with = "Option<String>")]
    pub username: Option<Spanned<String>>,
    /// An https URL of the picture shown instead of the webhook's avatar.
    #[schemars(with = "Option<String>")]
    pub avatar_url: Option<Spanned<String>>,
    /// For a forum or media channel: the title of the new post (thread) the message
    /// starts (at most 100 characters).
    #[schemars(with = "Option<String>")]
    pub thread_name: Option<Spanned<String>>,
    /// No link previews (embeds) under the message.
    pub suppress_embeds: Option<bool>,
    /// `none` (default): a text over 2,000 characters is an error; `auto`: it is sent as
    /// several messages in a row.
    #[schemars(with = "Option<SplitMode>")]
    pub split: Option<Spanned<SplitMode>>,
}

impl Options for DiscordOptions {
    fn text(&self) -> Option<&Spanned<String>> {
        self.text.as_ref()
    }
    fn template(&self) -> Option<&Spanned<String>> {
        self.template.as_ref()
    }
}
