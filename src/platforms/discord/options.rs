//! `discord:` in a post (contract section 2). Discord has no crier.yaml section: the
//! webhook URL (`DISCORD_WEBHOOK_URL`) names the server and the channel.

use serde_saphyr::Spanned;

use crate::content::SplitMode;

crate::keys::post_options! {
    /// `discord:` overrides of a post.
    pub struct DiscordOptions for "Discord" with text " (Markdown: Discord renders it)" {
        /// The name the message is posted under instead of the webhook's (1–80 characters).
        pub username: Option<Spanned<String>>,
        /// An https URL of the picture shown instead of the webhook's avatar.
        pub avatar_url: Option<Spanned<String>>,
        /// For a forum or media channel: the title of the new post (thread) the message
        /// starts (at most 100 characters).
        pub thread_name: Option<Spanned<String>>,
        /// No link previews (embeds) under the message.
        pub suppress_embeds: Option<bool>,
        /// `none` (default): a text over 2,000 characters is an error; `auto`: it is sent as
        /// several messages in a row.
        pub split: Option<Spanned<SplitMode>>,
    }
}
