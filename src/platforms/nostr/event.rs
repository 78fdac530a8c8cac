//! Nostr events as crier makes them: NIP-01 ids and BIP-340 signatures (rust-nostr), the
//! tags of notes (`t`, NIP-10 replies, NIP-92 `imeta`), articles (NIP-23) and deletion
//! requests (NIP-09), and the NIP-19 links recorded as `url`.

use ::nostr::nips::nip01::Coordinate;
use ::nostr::nips::nip19::{Nip19Coordinate, Nip19Event, ToBech32};
use ::nostr::prelude::{EventId, Keys, Kind, RelayUrl, Tag, Timestamp, UnsignedEvent};
use secp256k1::{Secp256k1, SignOnly};

pub use ::nostr::prelude::{Event, PublicKey};

/// A short text note (NIP-01).
pub const NOTE: u16 = 1;
/// A deletion request (NIP-09).
pub const DELETION: u16 = 5;
/// A repost (NIP-18).
pub const REPOST: u16 = 6;
/// A reaction (NIP-25).
pub const REACTION: u16 = 7;
/// A long-form article (NIP-23), addressable by its `d` tag.
pub const ARTICLE: u16 = 30023;

/// The account's key. Never printed: `Debug` shows the public key only.
pub struct Signer {
    keys: Keys,
    secp: Secp256k1<SignOnly>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer({})", self.keys.public_key().to_hex())
    }
}

impl Signer {
    /// `NOSTR_SECRET_KEY`: `nsec1…` or 64 hex digits. The error never repeats the value.
    pub fn parse(secret: &str) -> Result<Self, String> {
        let secret = secret.trim();
        let keys = Keys::parse(secret).map_err(|_| {
            let what = if secret.starts_with("npub1") {
                "is a public key (npub1…), not the secret key".to_owned()
            } else if secret.starts_with("nsec1") {
                "is not a valid nsec1… key (its checksum or length is wrong)".to_owned()
            } else {
                format!("is neither an nsec1… key nor 64 hex digits ({} characters)", secret.chars().count())
            };
            format!("NOSTR_SECRET_KEY {what}")
        })?;
        Ok(Self { keys, secp: Secp256k1::signing_only() })
    }

    pub fn public_key(&self) -> PublicKey {
        self.keys.public_key()
    }

    /// The event `draft` becomes at `created_at`: its id is fixed by what it says and when,
    /// the signature uses fresh auxiliary randomness (BIP-340).
    pub fn sign(&self, draft: &Draft, created_at: u64) -> Event {
        let mut unsigned = draft.unsigned(self.public_key(), created_at);
        let id = unsigned.id();
        let aux: [u8; 32] = rand::random();
        let sig = self.keys.sign_schnorr_with_aux_rand(&self.secp, id.as_bytes(), &aux);
        unsigned.add_signature(sig).expect("the id was computed from this event and the key signed it")
    }
}

/// An event before it is dated and signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub kind: u16,
    pub tags: Vec<Vec<String>>,
    pub content: String,
}

impl Draft {
    pub fn new(kind: u16, tags: Vec<Vec<String>>, content: impl Into<String>) -> Self {
        Self { kind, tags, content: content.into() }
    }

    fn unsigned(&self, author: PublicKey, created_at: u64) -> UnsignedEvent {
        let tags = self.tags.iter().filter_map(|t| Tag::parse(t.iter().map(String::as_str)).ok());
        UnsignedEvent::new(author, Timestamp::from_secs(created_at), Kind::from(self.kind), tags, self.content.clone())
    }

    /// The id the draft gets from `author` at `created_at` (NIP-01).
    pub fn id(&self, author: PublicKey, created_at: u64) -> String {
        self.unsigned(author, created_at).compute_id().to_hex()
    }

    /// Whether `event` says what this draft says (kind, content and tags; a tag named in
    /// `ignore`, such as an article's `published_at`, may differ): an event an interrupted
    /// run sent for it.
    pub fn matches(&self, event: &Event, ignore: &[&str]) -> bool {
        let keep = |t: &&[String]| !t.first().is_some_and(|n| ignore.contains(&n.as_str()));
        let theirs: Vec<&[String]> = event.tags.iter().map(Tag::as_slice).filter(keep).collect();
        let ours: Vec<&[String]> = self.tags.iter().map(Vec::as_slice).filter(keep).collect();
        event.kind.as_u16() == self.kind && event.content == self.content && theirs == ours
    }
}

/// A tag from its fields.
pub fn tag<const N: usize>(fields: [&str; N]) -> Vec<String> {
    fields.iter().map(|f| (*f).to_owned()).collect()
}

/// The value of the first tag named `name`.
pub fn tag_value<'a>(event: &'a Event, name: &str) -> Option<&'a str> {
    event
        .tags
        .iter()
        .map(Tag::as_slice)
        .find(|t| t.first().is_some_and(|n| n == name))
        .and_then(|t| t.get(1))
        .map(String::as_str)
}

/// `t` tags for hashtags: lower case, each once, in order of first use (NIP-24).
pub fn hashtag_tags<'a>(tags: impl IntoIterator<Item = &'a str>) -> Vec<Vec<String>> {
    let mut seen = Vec::<String>::new();
    for t in tags {
        let t = t.trim_start_matches('#').to_lowercase();
        if !t.is_empty() && !seen.contains(&t) {
            seen.push(t);
        }
    }
    seen.into_iter().map(|t| vec!["t".to_owned(), t]).collect()
}

/// NIP-10 marked reply tags of chain part `index` (1-based: 2 and later): `root` on
/// every part, `reply` to the previous part from the third on, and a `p` tag of the
/// author. The relay hint is left empty: ids must not depend on today's relay list.
pub fn reply_tags(root: &str, previous: &str, author: &str) -> Vec<Vec<String>> {
    let mut tags = vec![tag(["e", root, "", "root", author])];
    if previous != root {
        tags.push(tag(["e", previous, "", "reply", author]));
    }
    tags.push(tag(["p", author]));
    tags
}

/// A NIP-92 `imeta` tag: the URL and whatever is known of the file; none when nothing is
/// known but the URL ("Each tag needs url and at least one other field").
pub fn imeta(url: &str, mime: Option<&str>, dim: Option<(u32, u32)>, alt: Option<&str>) -> Option<Vec<String>> {
    let mut t = vec!["imeta".to_owned(), format!("url {url}")];
    if let Some(m) = mime {
        t.push(format!("m {m}"));
    }
    if let Some((w, h)) = dim {
        t.push(format!("dim {w}x{h}"));
    }
    if let Some(a) = alt.filter(|a| !a.trim().is_empty()) {
        t.push(format!("alt {}", a.trim()));
    }
    (t.len() > 2).then_some(t)
}

/// The tags of a NIP-23 article: `d`, `title`, `summary`, `image`, `published_at` (unix
/// seconds of the first publication, kept on edits) and `t`.
pub fn article_tags(
    d: &str,
    title: &str,
    summary: Option<&str>,
    image: Option<&str>,
    published_at: u64,
    hashtags: &[String],
) -> Vec<Vec<String>> {
    let mut tags = vec![tag(["d", d]), tag(["title", title])];
    if let Some(s) = summary.filter(|s| !s.trim().is_empty()) {
        tags.push(tag(["summary", s.trim()]));
    }
    if let Some(i) = image {
        tags.push(tag(["image", i]));
    }
    tags.push(tag(["published_at", &published_at.to_string()]));
    tags.extend(hashtag_tags(hashtags.iter().map(String::as_str)));
    tags
}

/// A NIP-09 deletion request for `ids` (every part), with the article's address when
/// the post is one, and the kinds deleted.
pub fn deletion(ids: &[&str], kind: u16, author: &str, d: Option<&str>) -> Draft {
    let mut tags: Vec<Vec<String>> = ids.iter().map(|id| tag(["e", id])).collect();
    if let Some(d) = d {
        tags.push(tag(["a", &format!("{kind}:{author}:{d}")]));
    }
    tags.push(tag(["k", &kind.to_string()]));
    Draft::new(DELETION, tags, "")
}

/// Up to two relays as NIP-19 hints (what parses as a relay URL).
fn hints(relays: &[String]) -> Vec<RelayUrl> {
    relays.iter().filter_map(|r| RelayUrl::parse(r).ok()).take(2).collect()
}

/// `nevent1…` of a note, with relay hints, author and kind (NIP-19).
pub fn nevent(id: &str, author: &PublicKey, relays: &[String]) -> Option<String> {
    let id = EventId::from_hex(id).ok()?;
    Nip19Event::new(id).author(*author).kind(Kind::from(NOTE)).relays(hints(relays)).to_bech32().ok()
}

/// `naddr1…` of an article (NIP-19): its `d`, author and kind, with relay hints.
pub fn naddr(d: &str, author: &PublicKey, relays: &[String]) -> Option<String> {
    let c = Coordinate::new(Kind::from(ARTICLE), *author).identifier(d);
    Nip19Coordinate::new(c, hints(relays)).to_bech32().ok()
}

/// The web link of a post: `template` with `{nip19}` and `{id}` filled in.
pub fn link(template: &str, nip19: &str, id: &str) -> String {
    template.replace("{nip19}", nip19).replace("{id}", id)
}

/// Parses an event a relay sent, checking its id and signature.
pub fn parse_verified(json: &serde_json::Value) -> Option<Event> {
    let event: Event = serde_json::from_value(json.clone()).ok()?;
    event.verify().ok().map(|()| event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::nostr::nips::nip19::FromBech32;
    use sha2::{Digest, Sha256};

    /// A published note (rust-nostr's test vector): emoji, newlines and `t` tags.
    const VECTOR: &str = r##"{"id":"c8acc12a232ea6caedfaaf0c52148635de6ffd312c3f432c6eca11720c102e54","pubkey":"27154fb873badf69c3ea83a0da6e65d6a150d2bf8f7320fc3314248d74645c64","created_at":1687070234,"kind":1,"tags":[["t","joininbox"],["t","joinmarket"],["p","aac07d95089ce6adf08b9156d43c1a4ab594c6130b7dcb12ec199008c5819a2f"]],"content":"#JoininBox is a minimalistic, security focused Linux environment for #JoinMarket with a terminal based graphical menu.\n\nnostr:npub14tq8m9ggnnn2muytj9tdg0q6f26ef3snpd7ukyhvrxgq33vpnghs8shy62 👍🧡\n\nhttps://www.nobsbitcoin.com/joininbox-v0-8-0/","sig":"e27062b1b7187ffa0b521dab23fff6c6b62c00fd1b029e28368d7d070dfb225f7e598e3b1c6b1e2335b286ec3702492bce152035105b934f594cd7323d84f0ee"}"##;

    /// NIP-01 by hand: sha256 of `[0,pubkey,created_at,kind,tags,content]`, no spaces.
    fn nip01_id(pubkey: &str, created_at: u64, d: &Draft) -> String {
        let s = serde_json::to_string(&serde_json::json!([0, pubkey, created_at, d.kind, d.tags, d.content]))
            .expect("serialises");
        Sha256::digest(s.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
    }

    fn draft_of(v: &serde_json::Value) -> Draft {
        let tags = serde_json::from_value(v["tags"].clone()).expect("tags");
        Draft::new(v["kind"].as_u64().expect("kind") as u16, tags, v["content"].as_str().expect("content"))
    }

    #[test]
    fn a_published_events_id_is_recomputed_by_the_nip01_rules() {
        let v: serde_json::Value = serde_json::from_str(VECTOR).expect("json");
        let (pk, at) = (v["pubkey"].as_str().unwrap(), v["created_at"].as_u64().unwrap());
        let draft = draft_of(&v);
        let author = PublicKey::from_hex(pk).expect("pubkey");
        assert_eq!(draft.id(author, at), v["id"].as_str().unwrap());
        assert_eq!(nip01_id(pk, at, &draft), v["id"].as_str().unwrap());
        assert!(parse_verified(&v).is_some(), "the signature verifies");
        let mut forged = v.clone();
        forged["content"] = "changed".into();
        assert!(parse_verified(&forged).is_none(), "a changed event no longer verifies");
    }

    #[test]
    fn ids_follow_nip01_escaping_for_every_kind_of_text() {
        let signer = Signer::parse(&"01".repeat(32)).expect("hex key");
        for content in [
            "plain",
            "quote \" and \\ backslash",
            "tab\tnew\nline\r",
            "<b>&amp;</b> / 'x'",
            "é 👍 \u{2028}",
            "\u{8}\u{c}",
        ] {
            let draft = Draft::new(NOTE, vec![tag(["t", "x"])], content);
            let event = signer.sign(&draft, 1_700_000_000);
            let pk = signer.public_key().to_hex();
            assert_eq!(event.id.to_hex(), nip01_id(&pk, 1_700_000_000, &draft), "{content:?}");
            assert!(event.verify().is_ok(), "{content:?}");
            // The same draft at the same time is the same event id (a re-sign after a crash).
            assert_eq!(signer.sign(&draft, 1_700_000_000).id, event.id);
            assert_ne!(signer.sign(&draft, 1_700_000_001).id, event.id);
        }
    }

    #[test]
    fn keys_parse_from_nsec_or_hex_and_errors_never_show_them() {
        let hex = "7f7ff03d123792d6ac594bfa67bf6d0c0ab55b6b1fdb6249303fe861f1ccba9a";
        let a = Signer::parse(hex).expect("hex");
        let nsec = ::nostr::prelude::SecretKey::from_hex(hex).unwrap().to_bech32().unwrap();
        let b = Signer::parse(&nsec).expect("nsec");
        assert_eq!(a.public_key(), b.public_key());
        assert!(!format!("{a:?}").contains(hex));
        for bad in ["zz", &hex[..63], "nsec1qqqqqqqq", &format!("{hex}00")] {
            let e = Signer::parse(bad).expect_err(bad);
            assert!(e.starts_with("NOSTR_SECRET_KEY "), "{e}");
            assert!(!e.contains(bad), "{e} repeats the key");
        }
        let npub = a.public_key().to_bech32().unwrap();
        assert!(Signer::parse(&npub).unwrap_err().contains("public key"));
    }

    #[test]
    fn chain_parts_reply_per_nip10() {
        let (root, second, me) = ("a".repeat(64), "b".repeat(64), "c".repeat(64));
        // A direct reply to the root carries only `root`.
        assert_eq!(reply_tags(&root, &root, &me), [tag(["e", &root, "", "root", &me]), tag(["p", &me])]);
        assert_eq!(
            reply_tags(&root, &second, &me),
            [tag(["e", &root, "", "root", &me]), tag(["e", &second, "", "reply", &me]), tag(["p", &me])]
        );
    }

    #[test]
    fn tags_for_hashtags_media_articles_and_deletions() {
        assert_eq!(hashtag_tags(["#Rust", "rust", "#nostr"]), [tag(["t", "rust"]), tag(["t", "nostr"])]);
        assert_eq!(
            imeta("https://x/a.png", Some("image/png"), Some((3, 2)), Some(" a cat ")).unwrap_or_default(),
            ["imeta", "url https://x/a.png", "m image/png", "dim 3x2", "alt a cat"]
        );
        // NIP-92: url and at least one other field, or no tag.
        assert_eq!(imeta("https://x/a", None, None, Some(" ")), None);
        assert_eq!(
            imeta("https://x/a", Some("image/webp"), None, None).unwrap_or_default(),
            ["imeta", "url https://x/a", "m image/webp"]
        );
        let a = article_tags("my-post", "T", Some("S"), None, 1_700_000_000, &["Rust".into()]);
        assert_eq!(
            a,
            [
                tag(["d", "my-post"]),
                tag(["title", "T"]),
                tag(["summary", "S"]),
                tag(["published_at", "1700000000"]),
                tag(["t", "rust"])
            ]
        );
        let d = deletion(&["1", "2"], ARTICLE, "pk", Some("my-post"));
        assert_eq!((d.kind, d.content.as_str()), (DELETION, ""));
        assert_eq!(d.tags, [tag(["e", "1"]), tag(["e", "2"]), tag(["a", "30023:pk:my-post"]), tag(["k", "30023"])]);
    }

    #[test]
    fn matching_ignores_only_the_named_tags() {
        let signer = Signer::parse(&"02".repeat(32)).expect("key");
        let d = Draft::new(ARTICLE, vec![tag(["d", "x"]), tag(["published_at", "1"])], "body");
        let e = signer.sign(&Draft::new(ARTICLE, vec![tag(["d", "x"]), tag(["published_at", "2"])], "body"), 5);
        assert!(!d.matches(&e, &[]));
        assert!(d.matches(&e, &["published_at"]));
        let other = signer.sign(&Draft::new(ARTICLE, vec![tag(["d", "x"]), tag(["published_at", "1"])], "body!"), 5);
        assert!(!d.matches(&other, &["published_at"]));
    }

    #[test]
    fn links_are_nip19_with_relay_hints() {
        let signer = Signer::parse(&"03".repeat(32)).expect("key");
        let pk = signer.public_key();
        let relays = vec!["wss://a.example".to_owned(), "wss://b.example".to_owned(), "wss://c.example".to_owned()];
        let ne = nevent(&"e".repeat(64), &pk, &relays).expect("nevent");
        let back = Nip19Event::from_bech32(&ne).expect("decodes");
        assert_eq!(back.relays.len(), 2);
        assert_eq!(back.author, Some(pk));
        let na = naddr("my-post", &pk, &relays[..1]).expect("naddr");
        let back = Nip19Coordinate::from_bech32(&na).expect("decodes");
        assert_eq!((back.identifier.as_str(), back.kind.as_u16()), ("my-post", ARTICLE));
        assert_eq!(link("https://njump.me/{nip19}", &na, "x"), format!("https://njump.me/{na}"));
    }
}
