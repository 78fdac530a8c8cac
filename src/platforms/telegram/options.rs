//! `telegram:` in a post and in crier.yaml (contract section 2).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::content::SplitMode;
use crate::keys::Options;

/// `telegram:` overrides of a post.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TelegramOptions {
    /// The text on Telegram instead of the post's (Markdown: bold, italic, code and links
    /// are kept as Telegram formatting).
    #[schemars(with = "Option<String>")]
    pub text: Option<Spanned<String>>,
    /// The template to render with on Telegram.
    #[schemars(with = "Option<String>")]
    pub template: Option<Spanned<String>>,
    /// Send without a notification sound.
    pub silent: Option<bool>,
    /// Show a preview of the first link (default true).
    pub link_preview: Option<bool>,
    /// `auto`: a text over 4,096 characters goes out as a chain of messages.
    #[schemars(with = "Option<SplitMode>")]
    pub split: Option<Spanned<SplitMode>>,
}

impl Options for TelegramOptions {
    fn text(&self) -> Option<&Spanned<String>> {
        self.text.as_ref()
    }
    fn template(&self) -> Option<&Spanned<String>> {
        self.template.as_ref()
    }
}

/// `telegram:` in crier.yaml.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TelegramConfig {
    /// The channel: `@channelname` or its numeric id (`TELEGRAM_CHAT_ID` wins).
    pub chat: Option<String>,
}

impl Options for TelegramConfig {}

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
