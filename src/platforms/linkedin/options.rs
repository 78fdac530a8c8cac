//! `linkedin:` in a post and in crier.yaml (contract section 2).

use serde_saphyr::Spanned;

/// Default of crier.yaml `linkedin.version`: a recent `LinkedIn-Version` (YYYYMM). LinkedIn
/// sunsets a version about a year after its release, so this moves with crier's releases.
pub const DEFAULT_VERSION: &str = "202611";

crate::keys::post_options! {
    /// `linkedin:` overrides of a post.
    pub struct LinkedinOptions for "LinkedIn" {
        /// `PUBLIC` (default) or `CONNECTIONS`.
        pub visibility: Option<Spanned<String>>,
        /// An article card for the first link of a post without media (default true).
        pub link_card: Option<Spanned<bool>>,
    }
}

crate::keys::config_section! {
    /// `linkedin:` in crier.yaml.
    pub struct LinkedinConfig {
        /// The `LinkedIn-Version` header (YYYYMM) sent with every `/rest` call. A version
        /// LinkedIn has sunset fails every call (HTTP 426): set a supported month here.
        pub version: String = DEFAULT_VERSION.to_owned(),
    }
}
