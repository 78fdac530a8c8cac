//! `x:` in a post and in crier.yaml (contract section 2; issue 24).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::content::SplitMode;

crate::keys::post_options! {
    /// `x:` overrides of a post.
    pub struct XOptions for "X" {
        /// `none` (default), or `auto`: a part over 280 weighted characters becomes several.
        pub split: Option<Spanned<SplitMode>>,
        /// Who may reply: `following`, `mentionedUsers`, `subscribers`, `verified` (default: everyone).
        pub reply_settings: Option<Spanned<String>>,
        pub poll: Option<Spanned<XPoll>>,
    }
}

crate::keys::spanned_keys! {
    /// A poll on the first part: 2 to 4 options of 1 to 25 characters, open 5 to 10080 minutes.
    pub struct XPoll {
        pub options: Spanned<Vec<Spanned<String>>>,
        pub duration_minutes: Spanned<u64>,
    }
}

crate::keys::config_section! {
    /// `x:` in crier.yaml.
    pub struct XConfig {
        /// What X charges, in US dollars (defaults: X's pricing page of 2026-08-13).
        pub prices: XPrices,
    }
}

/// X's prices in US dollars, per request or per resource read.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct XPrices {
    /// A post without a URL (`POST /2/tweets`).
    pub post: f64,
    /// A post containing a URL.
    pub post_with_url: f64,
    /// One post read from the account's own timeline (`GET /2/users/:id/tweets`).
    pub owned_read: f64,
    /// One post looked up by id (`GET /2/tweets`: `status --remote`, `stats`).
    pub post_read: f64,
    /// One user read (`GET /2/users/me`).
    pub user_read: f64,
    /// A deletion (`DELETE /2/tweets/:id`).
    pub delete: f64,
    /// Alt text set on an uploaded medium (`POST /2/media/metadata`).
    pub media_metadata: f64,
}

impl Default for XPrices {
    /// X's pricing page (docs.x.com `x-api/getting-started/pricing.mdx`, 2026-08-13).
    fn default() -> Self {
        Self {
            post: 0.015,
            post_with_url: 0.20,
            owned_read: 0.001,
            post_read: 0.005,
            user_read: 0.010,
            delete: 0.010,
            media_metadata: 0.005,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{assert_mistakes, section};
    use crate::platforms::load_config_yaml as load;

    #[test]
    fn prices_default_to_the_pricing_page_and_can_be_overridden() {
        let p = section::<XConfig>(load("x:\n  prices:\n    post_with_url: 0.25\n")).prices;
        assert_eq!((p.post, p.post_with_url, p.owned_read), (0.015, 0.25, 0.001));
        let c = load("publish:\n  x_max_cost_per_run: 1.5\n").expect("valid");
        assert_eq!(c.publish.x_max_cost_per_run, Some(1.5));
    }

    #[test]
    fn section_mistakes_point_at_the_key() {
        assert_mistakes(
            load,
            &[
                ("x:\n  prices:\n    post_with_link: 1\n", "unknown-key", (3, 5), None),
                ("x:\n  prices:\n    post: free\n", "yaml-type", (3, 11), None),
            ],
        );
    }
}
