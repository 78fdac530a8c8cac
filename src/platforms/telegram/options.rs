//! `telegram:` in a post and in crier.yaml (contract section 2).

use serde_saphyr::Spanned;

use crate::content::SplitMode;

crate::keys::post_options! {
    /// `telegram:` overrides of a post.
    pub struct TelegramOptions for "Telegram"
        with text " (Markdown: bold, italic, code and links\nare kept as Telegram formatting)"
    {
        /// Send without a notification sound.
        pub silent: Option<bool>,
        /// Show a preview of the first link (default true).
        pub link_preview: Option<bool>,
        /// `auto`: a text over 4,096 characters goes out as a chain of messages.
        pub split: Option<Spanned<SplitMode>>,
    }
}

crate::keys::config_section! {
    /// `telegram:` in crier.yaml.
    pub struct TelegramConfig {
        /// The channel: `@channelname` or its numeric id (`TELEGRAM_CHAT_ID` wins).
        pub chat: Option<String>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::section;
    use crate::platforms::load_config_yaml as load;

    #[test]
    fn the_crier_yaml_section_is_read_or_defaults() {
        let t: TelegramConfig = section(load("telegram:\n  chat: \"@crier_news\"\n"));
        assert_eq!(t.chat.as_deref(), Some("@crier_news"));
        assert!(section::<TelegramConfig>(load("publish:\n  max_per_run: 3\n")).chat.is_none());
        assert!(load("telegram:\n  chan: x\n").is_err(), "unknown keys are refused");
    }
}
