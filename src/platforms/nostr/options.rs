//! `nostr:` in a post and in crier.yaml (contract section 2).

use serde_saphyr::Spanned;

use crate::content::SplitMode;

crate::keys::key_enum! {
    /// What a post becomes on Nostr.
    pub enum NostrKind {
        /// A kind-1 note (a chain replies per NIP-10).
        #[default]
        Note,
        /// A kind-30023 long-form article (NIP-23), edited in place.
        Article,
    }
}

crate::keys::post_options! {
    /// `nostr:` overrides of a post.
    pub struct NostrOptions for "Nostr" {
        pub split: Option<Spanned<SplitMode>>,
        /// `note` (default) or `article` (needs `title`).
        pub kind: Option<Spanned<NostrKind>>,
    }
}

crate::keys::config_section! {
    /// `nostr:` in crier.yaml.
    pub struct NostrConfig {
        /// Relay URLs (`wss://…`) to publish to (`NOSTR_RELAYS` wins).
        pub relays: Vec<String>,
        /// The web link recorded as `url`: `{nip19}` is the `nevent1…` (notes) or `naddr1…`
        /// (articles) with relay hints, `{id}` the hex event id. Default
        /// `https://njump.me/{nip19}`.
        pub link_template: Option<String>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{assert_mistakes, section};
    use crate::platforms::load_config_yaml as load;

    #[test]
    fn the_crier_yaml_section_is_read_or_defaults() {
        let n: NostrConfig = section(load("nostr:\n  relays: [wss://a.example, wss://b.example]\n"));
        assert_eq!(n.relays, ["wss://a.example", "wss://b.example"]);
        assert!(n.link_template.is_none());
        let n: NostrConfig = section(load("nostr:\n  link_template: https://primal.net/e/{id}\n"));
        assert_eq!(n.link_template.as_deref(), Some("https://primal.net/e/{id}"));
    }

    #[test]
    fn section_mistakes_point_at_the_key() {
        assert_mistakes(
            load,
            &[
                ("nostr:\n  relay: [wss://a]\n", "unknown-key", (2, 3), Some("did you mean `relays`?")),
                ("nostr:\n  relays: 5\n", "yaml-type", (2, 11), None),
            ],
        );
    }
}
