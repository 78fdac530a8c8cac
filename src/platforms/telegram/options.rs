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
    #[derive(Default)]
    pub struct TelegramConfig {
        /// The channel: `@channelname` or its numeric id (`TELEGRAM_CHAT_ID` wins).
        pub chat: Option<String>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(yaml: &str) -> Result<crate::config::Config, crate::error::Error> {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(crate::config::FILE_NAME), yaml).expect("write");
        crate::config::load(dir.path(), None, crate::platforms::catalog()).map(|l| l.config)
    }

    #[test]
    fn the_crier_yaml_section_is_read_or_defaults() {
        let c = load("telegram:\n  chat: \"@crier_news\"\n").expect("valid");
        assert_eq!(c.sections.get_or_default::<TelegramConfig>().chat.as_deref(), Some("@crier_news"));
        let c = load("publish:\n  max_per_run: 3\n").expect("valid");
        assert!(c.sections.get_or_default::<TelegramConfig>().chat.is_none());
        assert!(load("telegram:\n  chan: x\n").is_err(), "unknown keys are refused");
    }
}
