//! Nostr: notes (kind 1, a chain replying per NIP-10) and long-form articles (kind
//! 30023, edited in place), signed with the account's key and sent to several relays.
//!
//! - [`event`]: ids, signatures, tags and NIP-19 links (rust-nostr);
//! - [`relay`]: one relay over a WebSocket; [`session`]: exactly-once publishing to
//!   many relays, deletion, drift and engagement;
//! - [`rules`]: what `check` says about a post for Nostr.

mod doctor;
pub mod event;
pub mod options;
pub mod relay;
pub mod rules;
mod session;

pub use options::{NostrConfig, NostrKind, NostrOptions};

use std::ops::Range;

use serde_json::{Value, json};

use super::chain::{self, SourcePart};
use super::parts;
use super::{Credential, Output, PlatformId, PreviewContext};
use crate::config::Config;
use crate::content::Post;
use crate::diag::Diagnostic;
use crate::env::Env;
use crate::project::Project;
use crate::render::html::Card;
use crate::render::text;
use crate::rules::media::{self, MediaRef};

/// The platform's name in posts, config and records.
pub const NAME: &str = "nostr";

/// The default `nostr.link_template`.
pub const DEFAULT_LINK_TEMPLATE: &str = "https://njump.me/{nip19}";

/// One note (or the article).
#[derive(Debug, Clone)]
pub struct NostrPart {
    /// The event's `content`: the text, then the media URLs (NIP-92).
    pub content: String,
    pub media: Vec<MediaRef>,
    /// Where the part comes from in the post file.
    pub origin: Range<usize>,
    /// Inline Markdown images left out of a note's text (file spans).
    pub dropped_images: Vec<Range<usize>>,
    /// A note's `#hashtags`, found before its code was unshielded (a `#` in code is none).
    pub hashtags: Vec<String>,
}

/// What a post becomes on Nostr.
#[derive(Debug, Clone)]
pub struct NostrOutput {
    pub kind: NostrKind,
    /// Notes: one per part of the chain. Article: one, its Markdown.
    pub parts: Vec<NostrPart>,
    /// Article only: `title`, `summary`, `image` and the post's `tags`.
    pub title: Option<String>,
    pub summary: Option<String>,
    pub image: Option<String>,
    pub tags: Vec<String>,
    pub template: String,
}

impl NostrOutput {
    /// `t` tags of part `i`: the note's `#hashtags`, or an article's `tags`.
    pub fn hashtags(&self, i: usize) -> Vec<Vec<String>> {
        match self.kind {
            NostrKind::Article => event::hashtag_tags(self.tags.iter().map(String::as_str)),
            NostrKind::Note => event::hashtag_tags(self.parts[i].hashtags.iter().map(String::as_str)),
        }
    }

    /// NIP-92 `imeta` tags of part `i`'s media (those with a public URL).
    pub fn imeta(&self, i: usize) -> Vec<Vec<String>> {
        self.parts[i]
            .media
            .iter()
            .filter_map(|m| {
                let url = m.url.as_deref()?;
                let dim = m.info.as_ref().and_then(|i| i.dimensions);
                let mime = m.format.mime().or_else(|| crate::media_probe::format_from_extension(url).mime());
                event::imeta(url, mime, dim, m.alt.as_deref())
            })
            .collect()
    }
}

impl Output for NostrOutput {
    super::output_basics!(Nostr::id());

    fn cards<'a>(&'a self, cx: &mut PreviewContext<'_>) -> Vec<Card<'a>> {
        self.parts
            .iter()
            .map(|part| Card {
                text: &part.content,
                counter: format!("{} characters", part.content.chars().count()),
                over: false,
                media: cx.cards_media(&part.media),
            })
            .collect()
    }

    fn to_json(&self) -> Value {
        let parts: Vec<Value> = (0..self.parts.len())
            .map(|i| {
                let mut part = parts::part_json(&self.parts[i].content, &self.parts[i].media);
                part["tags"] = json!(self.hashtags(i).into_iter().chain(self.imeta(i)).collect::<Vec<_>>());
                part
            })
            .collect();
        let mut v = json!({"kind": self.kind_number(), "parts": parts});
        if self.kind == NostrKind::Article {
            v["title"] = json!(self.title);
            v["summary"] = json!(self.summary);
            v["image"] = json!(self.image);
        }
        v
    }

    fn summary(&self) -> String {
        let n = self.parts.len();
        match self.kind {
            NostrKind::Article => format!("nostr article  {} characters", self.parts[0].content.chars().count()),
            NostrKind::Note => {
                let sizes: Vec<String> = self.parts.iter().map(|p| p.content.chars().count().to_string()).collect();
                format!("nostr {}  {} characters", crate::diag::plural(n, "note"), sizes.join("  "))
            }
        }
    }

    fn to_human(&self) -> String {
        let mut out = String::new();
        let n = self.parts.len();
        for (i, p) in self.parts.iter().enumerate() {
            match self.kind {
                NostrKind::Article => {
                    out.push_str(&format!("── article (kind 30023): {} ──\n", self.title.as_deref().unwrap_or("")));
                }
                NostrKind::Note => out.push_str(&format!("── note {}/{n} (kind 1) ──\n", i + 1)),
            }
            out.push_str(&p.content);
            out.push('\n');
            let tags: Vec<String> = self.hashtags(i).iter().map(|t| format!("#{}", t[1])).collect();
            if !tags.is_empty() {
                out.push_str(&format!("[t: {}]\n", tags.join(" ")));
            }
        }
        out
    }
}

impl NostrOutput {
    pub fn kind_number(&self) -> u16 {
        match self.kind {
            NostrKind::Note => event::NOTE,
            NostrKind::Article => event::ARTICLE,
        }
    }
}

const CREDENTIALS: &[Credential] = &[
    Credential { var: "NOSTR_SECRET_KEY", required: true },
    // Or `nostr.relays` in crier.yaml; `connect` says when neither is set.
    Credential { var: "NOSTR_RELAYS", required: false },
];

/// The relays: `NOSTR_RELAYS` (comma-separated), else crier.yaml `nostr.relays`; each a
/// `wss://` (or `ws://`) URL, each once.
pub fn relays(env: &Env, config: &Config) -> Result<Vec<String>, String> {
    let (given, from): (Vec<String>, &str) = match env.get("NOSTR_RELAYS").filter(|v| !v.trim().is_empty()) {
        Some(v) => (v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect(), "NOSTR_RELAYS"),
        None => (config.sections.get_or_default::<NostrConfig>().relays.clone(), "crier.yaml `nostr.relays`"),
    };
    if given.is_empty() {
        return Err("no Nostr relays are set: set NOSTR_RELAYS (e.g. wss://relay.damus.io,wss://nos.lol) or `nostr: {relays: [...]}` in crier.yaml".to_owned());
    }
    let mut out = Vec::new();
    for r in given {
        let u = relay::parse_url(&r).map_err(|e| format!("{from}: {e}"))?;
        if !out.contains(&u) {
            out.push(u);
        }
    }
    Ok(out)
}

/// `nostr.link_template`, or the default.
pub fn link_template(config: &Config) -> String {
    config
        .sections
        .get_or_default::<NostrConfig>()
        .link_template
        .clone()
        .unwrap_or_else(|| DEFAULT_LINK_TEMPLATE.to_owned())
}

super::platform! {
    pub struct Nostr(NAME) {
        display: "Nostr",
        credentials: CREDENTIALS,
        hint: "set NOSTR_SECRET_KEY to the account's secret key (nsec1… or 64 hex digits; from your Nostr client's key export) and NOSTR_RELAYS to comma-separated wss:// relay URLs (or `nostr: {relays: [...]}` in crier.yaml); in CI, make NOSTR_SECRET_KEY a repository secret",
        noun: "note",
        post: NostrOptions,
        config: NostrConfig,
        // Articles are replaced in place (a newer event with the same `d`); a changed note
        // is left alone with a warning ([`Platform::edits_output_in_place`]).
        edits_in_place: true,
        connect: |cx| session::connect(cx).await,
        validate: |_project, post, o: &NostrOutput| rules::validate(post, o),
    }

    fn placeholder_url(&self, _post: &Post, _env: &Env) -> String {
        // A nevent with an id, the author, the kind and two relay hints is ~200 characters.
        format!("https://njump.me/nevent1{}", "q".repeat(190))
    }

    /// Articles only: a note cannot be edited.
    fn edits_output_in_place(&self, rendered: &dyn Output) -> bool {
        super::downcast::<NostrOutput>(rendered).is_some_and(|o| o.kind == NostrKind::Article)
    }

    /// A post not yet on every configured relay: the next `publish` sends it the same
    /// events (a relay that was down, or added since).
    fn unfinished(&self, record: &crate::ledger::Record, project: &Project) -> bool {
        let configured = relays(&project.env, &project.config).unwrap_or_default();
        record.deleted_at.is_none() && configured.iter().any(|r| !record.relays.contains(r))
    }

    /// The key must be an nsec1… key or 64 hex digits, and the relays URLs.
    fn check_env(&self, env: &Env) -> Result<(), String> {
        let hint = "; set it to the account's secret key: nsec1… or 64 hex digits";
        if let Some(k) = env.get("NOSTR_SECRET_KEY") {
            event::Signer::parse(k).map(|_| ()).map_err(|e| format!("{e}{hint}"))?;
        }
        if let Some(r) = env.get("NOSTR_RELAYS") {
            for url in r.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                relay::parse_url(url).map_err(|e| format!("NOSTR_RELAYS: {e}"))?;
            }
        }
        Ok(())
    }
}

/// A note is plain text like Mastodon's, with the `#` of its code shielded: its `#tags`
/// become `t` tags, a `#` in code does not.
const NOTE_MARKDOWN: chain::Markdown = chain::Markdown {
    text: |md, site| text::markdown_to_text_shielded(md, text::LinkStyle::Inline, site),
    parts: |md, site| text::markdown_to_parts_shielded(md, text::LinkStyle::Inline, site),
};

/// Renders `post` for Nostr: notes are plain text made like Threads text (each part of
/// the chain through the template, media URLs after the text); an article is the
/// Markdown body through the template, relative images and links made absolute.
pub fn render(project: &Project, post: &Post, targets: &[PlatformId]) -> Result<NostrOutput, Vec<Diagnostic>> {
    let f = &post.front;
    let (opts, template) = super::options_and_template::<NostrOptions>(project, post, Nostr::id())?;
    let kind = opts.and_then(|o| o.kind.as_ref()).map(|k| k.value).unwrap_or_default();
    let run = |parts: Vec<SourcePart>| parts::render_chain(project, post, targets, Nostr::id(), &template, parts);
    let top: Vec<MediaRef> = f
        .media
        .as_ref()
        .map(|m| m.value.iter().map(|i| media::resolve(project, post, i)).collect())
        .unwrap_or_default();
    let parts = match kind {
        NostrKind::Article => {
            let post_dir = post.path.rsplit_once('/').map_or("", |(dir, _)| dir);
            let source = opts.and_then(|o| o.text.as_ref()).map_or(post.body.as_str(), |t| t.value.as_str());
            // Kept as written: NIP-23 Markdown has no `||spoiler||`, and a table cell may be empty.
            let body = text::rewrite_relative_images(source, |dest| {
                project.public_url(&media::normalize(&format!("{post_dir}/{dest}"))?)
            });
            let body = text::rewrite_relative_links(&body, project.config.site_url().as_ref());
            // The article is a chain of one part.
            let article = run(vec![SourcePart { text: body, ..SourcePart::default() }])?;
            let content = article.into_iter().map(|(text, _)| text.trim().to_owned()).collect();
            vec![NostrPart {
                content,
                media: Vec::new(),
                origin: post.head_span(),
                dropped_images: Vec::new(),
                hashtags: Vec::new(),
            }]
        }
        NostrKind::Note => {
            let mut parts = chain::source_parts(project, post, opts.and_then(|o| o.text.as_ref()), NOTE_MARKDOWN);
            chain::add_top_media(project, post, &mut parts);
            let mut out = Vec::with_capacity(parts.len());
            for (rendered, p) in run(parts)? {
                let shielded = rendered.trim();
                let hashtags = text::find_hashtags(shielded).into_iter().map(|r| shielded[r].to_owned()).collect();
                let mut content = text::unshield(shielded);
                // NIP-92: the URLs are in the text, each described by an `imeta` tag.
                for url in p.media.iter().filter_map(|m| m.url.as_deref()) {
                    if !content.is_empty() {
                        content.push('\n');
                    }
                    content.push_str(url);
                }
                out.push(NostrPart {
                    content,
                    media: p.media,
                    origin: p.origin,
                    dropped_images: p.dropped_images,
                    hashtags,
                });
            }
            out
        }
    };
    let tags: Vec<String> =
        f.tags.as_ref().map(|t| t.value.iter().map(|s| s.value.clone()).collect()).unwrap_or_default();
    Ok(NostrOutput {
        kind,
        parts,
        title: f.title.as_ref().map(|t| t.value.trim().to_owned()).filter(|t| !t.is_empty()),
        summary: f.vars.as_ref().and_then(|v| v.get("summary")).and_then(Value::as_str).map(str::to_owned),
        image: top.first().and_then(|m| m.url.clone()),
        tags,
        template,
    })
}
