//! `mastodon:` in a post and in crier.yaml (contract section 2).

use serde_saphyr::Spanned;

use crate::content::SplitMode;

crate::keys::post_options! {
    /// `mastodon:` overrides of a post.
    pub struct MastodonOptions for "Mastodon" {
        pub split: Option<Spanned<SplitMode>>,
        /// `public` (default), `unlisted`, `private` or `direct`.
        pub visibility: Option<Spanned<String>>,
        /// Content warning shown instead of the text; it counts toward the limit.
        pub spoiler_text: Option<Spanned<String>>,
        pub sensitive: Option<bool>,
        /// ISO 639-1 code.
        pub language: Option<Spanned<String>>,
    }
}

crate::keys::config_section! {
    /// `mastodon:` in crier.yaml: the instance, and limits for `check` when it differs from
    /// Mastodon's defaults (`publish` reads the real ones from the instance).
    pub struct MastodonConfig {
        /// Base URL such as `https://mastodon.social` (`MASTODON_INSTANCE` wins).
        pub instance: Option<String>,
        pub max_characters: Option<u64>,
        pub max_media_attachments: Option<u64>,
        pub characters_reserved_per_url: Option<u64>,
        pub image_size_limit: Option<u64>,
        pub image_matrix_limit: Option<u64>,
        pub video_size_limit: Option<u64>,
        pub description_limit: Option<u64>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{assert_mistakes, section};
    use crate::platforms::load_config_yaml as load;

    #[test]
    fn the_crier_yaml_section_is_read_or_defaults() {
        let m: MastodonConfig =
            section(load("mastodon:\n  instance: https://example.social\n  max_characters: 1000\n"));
        assert_eq!((m.instance.as_deref(), m.max_characters), (Some("https://example.social"), Some(1000)));
        assert!(section::<MastodonConfig>(load("mastodon:\n  # later\n")).instance.is_none());
    }

    #[test]
    fn section_mistakes_point_at_the_key() {
        assert_mistakes(
            load,
            &[
                ("mastodon:\n  max_charcters: 5\n", "unknown-key", (2, 3), Some("did you mean `max_characters`?")),
                ("mastodon:\n  max_characters: lots\n", "yaml-type", (2, 19), None),
                ("mastodn:\n  instance: x\n", "unknown-key", (1, 1), Some("did you mean `mastodon`?")),
            ],
        );
    }
}
