//! `devto:` in a post (contract section 2).

use serde_saphyr::Spanned;

crate::keys::spanned_keys! {
    /// `devto:` overrides of a post.
    #[derive(Default)]
    pub struct DevtoOptions: Options(template) {
        /// The article's title instead of the post's.
        pub title: Option<Spanned<String>>,
        /// At most 4 tags (lower-case letters and digits).
        pub tags: Option<Spanned<Vec<Spanned<String>>>>,
        pub series: Option<Spanned<String>>,
        pub canonical_url: Option<Spanned<String>>,
        pub description: Option<Spanned<String>>,
        /// A cover image: a repository path or a URL.
        pub cover_image: Option<Spanned<String>>,
        /// `false` keeps the article a draft on dev.to.
        pub published: Option<bool>,
        pub organization_id: Option<Spanned<u64>>,
        /// The template to render with on dev.to.
        pub template: Option<Spanned<String>>,
    }
}
