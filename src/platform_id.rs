//! A platform's name, and the list of names crier knows.
//!
//! This is a leaf: configuration, content and rules need to name platforms, while a
//! platform's behaviour (rendering, rules, client, publisher) lives above them in
//! [`crate::platforms`]. Keeping the name apart is what lets `config` and `render` stay
//! below the platforms without a cycle. `platforms::REGISTRY` lists one implementation per
//! name here, in the same order (a unit test holds them together).

use std::fmt;

/// The platforms crier publishes to, in registry order.
pub const NAMES: &[&str] =
    &["threads", "devto", "bluesky", "mastodon", "linkedin", "x", "nostr", "telegram", "discord"];

/// One platform, by name. Ordered like [`NAMES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PlatformId(u8);

impl PlatformId {
    /// Every known platform, in registry order.
    pub fn all() -> impl Iterator<Item = Self> {
        (0..NAMES.len()).map(|i| Self(i as u8))
    }

    pub fn name(self) -> &'static str {
        NAMES[usize::from(self.0)]
    }

    /// Position in the registry.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }

    pub fn parse(name: &str) -> Option<Self> {
        NAMES.iter().position(|n| *n == name).map(|i| Self(i as u8))
    }

    /// A hint for an unknown platform name.
    pub fn hint_for(name: &str) -> String {
        let known = NAMES.join(", ");
        let lower = name.to_ascii_lowercase();
        if let Some(p) = Self::parse(&lower) {
            return format!("platform names are lower case: `{}`", p.name());
        }
        match lower.as_str() {
            "dev.to" | "dev-to" | "dev_to" | "forem" => "dev.to is spelled `devto`".to_owned(),
            "bsky" | "bsky.app" | "atproto" => "Bluesky is spelled `bluesky`".to_owned(),
            "fediverse" | "toot" | "gotosocial" => "Mastodon-API servers are spelled `mastodon`".to_owned(),
            _ => match crate::diag::did_you_mean(name, NAMES.iter().copied()) {
                Some(s) => format!("did you mean `{s}`? Supported platforms: {known}"),
                None => format!("supported platforms: {known}"),
            },
        }
    }
}

impl fmt::Display for PlatformId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_in_order() {
        let names: Vec<&str> = PlatformId::all().map(PlatformId::name).collect();
        assert_eq!(names, NAMES);
        for id in PlatformId::all() {
            assert_eq!(PlatformId::parse(id.name()), Some(id));
        }
        assert_eq!(PlatformId::parse("tiktok"), None);
    }

    #[test]
    fn hints_name_the_right_spelling() {
        let cases = [
            ("dev.to", "`devto`"),
            ("Threads", "`threads`"),
            ("bsky", "`bluesky`"),
            ("thread", "did you mean `threads`?"),
            ("tiktok", "supported platforms: threads, devto"),
        ];
        for (input, want) in cases {
            let hint = PlatformId::hint_for(input);
            assert!(hint.contains(want), "{input}: {hint}");
        }
    }
}
