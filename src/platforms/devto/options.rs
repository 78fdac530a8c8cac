//! `devto:` in a post (contract section 2).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::keys::Options;

/// `devto:` overrides of a post.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DevtoOptions {
    /// The article's title instead of the post's.
    #[schemars(with = "Option<String>")]
    pub title: Option<Spanned<String>>,
    /// At most 4 tags (lower-case letters and digits).
    #[schemars(with = "Option<Vec<String>>")]
    pub tags: Option<Spanned<Vec<Spanned<String>>>>,
    #[schemars(with = "Option<String>")]
    pub series: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub canonical_url: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub description: Option<Spanned<String>>,
    /// A cover image: a repository path or a URL.
    #[schemars(with = "Option<String>")]
    pub cover_image: Option<Spanned<String>>,
    /// `false` keeps the article a draft on dev.to.
    pub published: Option<bool>,
    #[schemars(with = "Option<u64>")]
    pub organization_id: Option<Spanned<u64>>,
    /// The template to render with on dev.to.
    #[schemars(with = "Option<String>")]
    pub template: Option<Spanned<String>>,
}

impl Options for DevtoOptions {
    fn template(&self) -> Option<&Spanned<String>> {
        self.template.as_ref()
    }
}
