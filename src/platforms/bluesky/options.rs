//! `bluesky:` in a post and in crier.yaml (contract section 2).

use serde_saphyr::Spanned;

use crate::content::SplitMode;

/// Default of crier.yaml `bluesky.max_image_bytes`: the `maxSize` of
/// `app.bsky.embed.images#image` in the lexicon (older servers took 1,000,000).
pub const DEFAULT_MAX_IMAGE_BYTES: u64 = 2_000_000;

crate::keys::post_options! {
    /// `bluesky:` overrides of a post.
    pub struct BlueskyOptions for "Bluesky" {
        pub split: Option<Spanned<SplitMode>>,
        /// BCP-47 language tags (at most 3).
        pub langs: Option<Spanned<Vec<Spanned<String>>>>,
        /// A card for the first link of a part without media (default true).
        pub link_card: Option<Spanned<bool>>,
    }
}

crate::keys::config_section! {
    /// `bluesky:` in crier.yaml.
    pub struct BlueskyConfig {
        /// Largest image blob sent in an images embed; larger JPEG/PNG files are
        /// scaled down at publish. The one place this limit comes from.
        pub max_image_bytes: u64 = DEFAULT_MAX_IMAGE_BYTES,
    }
}
