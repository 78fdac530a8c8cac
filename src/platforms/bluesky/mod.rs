//! Bluesky (AT Protocol): Markdown becomes rich text (plain text plus link,
//! tag and mention facets), split into a chain of parts (from `thread:`, from
//! thematic breaks, or by `split: auto`), each rendered through the `bluesky`
//! template; images are uploaded as blobs, a link gets a card, and every post
//! is written under a record key crier chooses, so a rerun cannot post twice.

mod doctor;
pub mod images;
pub mod options;
pub mod publish;
pub mod remote;
pub mod richtext;
pub mod rules;
mod session;
mod stats;
pub mod tid;
pub mod xrpc;

pub use options::{BlueskyConfig, BlueskyOptions, DEFAULT_MAX_IMAGE_BYTES};

use std::ops::Range;

use serde_json::{Value, json};

use self::richtext::{Facet, MAX_GRAPHEMES, MAX_TEXT_BYTES, RichText};
use super::{Credential, Output, PlatformId, PreviewContext, chain, parts};
use crate::content::{Post, SplitMode};
use crate::diag::Diagnostic;
use crate::env::Env;
use crate::project::Project;
use crate::render::html::Card;
use crate::render::text::{self, LinkStyle};
use crate::rules::media::MediaRef;

/// `maxSize` of a link card's thumb (`app.bsky.embed.external#external`).
pub const MAX_THUMB_BYTES: u64 = 1_000_000;
/// `maxLength` of `app.bsky.embed.images#main.images`.
pub const MAX_IMAGES: usize = 4;
/// `maxLength` of `app.bsky.feed.post#langs`.
pub const MAX_LANGS: usize = 3;
/// The service crier signs in to when `CRIER_BLUESKY_URL` is unset.
pub const DEFAULT_SERVICE: &str = "https://bsky.social";

#[derive(Debug, Clone)]
pub struct BlueskyPart {
    pub text: String,
    /// Byte ranges into `text`, sorted by start.
    pub facets: Vec<Facet>,
    pub media: Vec<MediaRef>,
    /// Where the part comes from in the post file.
    pub origin: Range<usize>,
    /// Inline Markdown images left out of the text (file spans).
    pub dropped_images: Vec<Range<usize>>,
}

impl BlueskyPart {
    pub fn graphemes(&self) -> usize {
        unicode_segmentation::UnicodeSegmentation::graphemes(self.text.as_str(), true).count()
    }

    pub fn rich(&self) -> RichText {
        RichText { text: self.text.clone(), facets: self.facets.clone() }
    }
}

#[derive(Debug, Clone)]
pub struct BlueskyOutput {
    pub parts: Vec<BlueskyPart>,
    pub template: String,
    /// `langs` of every record.
    pub langs: Vec<String>,
    /// Whether a part without images gets a card for its first link.
    pub link_card: bool,
}

impl Output for BlueskyOutput {
    super::output_basics!(Bluesky::id());

    fn cards<'a>(&'a self, cx: &mut PreviewContext<'_>) -> Vec<Card<'a>> {
        self.parts
            .iter()
            .map(|part| Card {
                text: &part.text,
                counter: format!("{}/{MAX_GRAPHEMES}", part.graphemes()),
                over: !richtext::fits(&part.text),
                media: cx.cards_media(&part.media),
            })
            .collect()
    }

    /// `render --format json`: each part's text, facets (lexicon shape; a
    /// mention shows the handle it will be resolved from) and media.
    fn to_json(&self) -> Value {
        json!({
            "parts": self.parts.iter().map(|p| {
                let mut part = parts::part_json(&p.text, &p.media);
                part["facets"] = json!(p.facets.iter().map(|f| f.to_json(None)).collect::<Vec<_>>());
                part
            }).collect::<Vec<_>>(),
            "langs": self.langs,
            "link_card": self.link_card,
        })
    }

    fn summary(&self) -> String {
        parts::chain_summary("bluesky  ", "part", self.parts.iter().map(BlueskyPart::graphemes), MAX_GRAPHEMES)
    }

    fn to_human(&self) -> String {
        let mut out = String::new();
        let n = self.parts.len();
        for (i, p) in self.parts.iter().enumerate() {
            let header = format!(
                "part {}/{n} · {}/{MAX_GRAPHEMES} graphemes · {}/{MAX_TEXT_BYTES} bytes",
                i + 1,
                p.graphemes(),
                p.text.len()
            );
            let facets: Vec<String> = p
                .facets
                .iter()
                .map(|f| {
                    let shown = p.text.get(f.range.clone()).unwrap_or("");
                    let what = match &f.feature {
                        richtext::Feature::Link(u) => format!("link → {u}"),
                        richtext::Feature::Tag(t) => format!("tag #{t}"),
                        richtext::Feature::Mention(h) => format!("mention @{h}"),
                    };
                    format!("  [{shown}] {what}")
                })
                .collect();
            parts::human_part(&mut out, &header, &p.text, &facets, &p.media, "");
        }
        out
    }
}

const CREDENTIALS: &[Credential] = &[
    Credential { var: "BLUESKY_IDENTIFIER", required: true },
    Credential { var: "BLUESKY_APP_PASSWORD", required: true },
    Credential { var: "CRIER_BLUESKY_URL", required: false },
];

super::platform! {
    pub struct Bluesky("bluesky") {
        display: "Bluesky",
        credentials: CREDENTIALS,
        hint: "set BLUESKY_IDENTIFIER to your handle (e.g. you.bsky.social) and BLUESKY_APP_PASSWORD to an app password made in the Bluesky app under Settings → Privacy and security → App passwords (in .env, or as repository secrets)",
        post: BlueskyOptions,
        config: BlueskyConfig,
        connect: |cx| session::connect(cx).await,
        validate: |project, post, out: &BlueskyOutput| rules::validate(&project.config, post, out),
    }

    /// A DID and a record key of typical length.
    fn placeholder_url(&self, _post: &Post, _env: &Env) -> String {
        format!("https://bsky.app/profile/did:plc:{}/post/{}", "x".repeat(24), "3".repeat(13))
    }
}

/// Renders the post for Bluesky. `targets` are all platforms the post goes to
/// (for cross-links such as `published.devto.url`).
pub fn render(project: &Project, post: &Post, targets: &[PlatformId]) -> Result<BlueskyOutput, Vec<Diagnostic>> {
    let (opts, template) = super::options_and_template::<BlueskyOptions>(project, post, Bluesky::id())?;

    let mut parts = chain::source_parts(project, post, opts.and_then(|o| o.text.as_ref()), MARKDOWN);
    chain::add_top_media(project, post, &mut parts);

    let split = opts.and_then(|o| o.split.as_ref()).is_some_and(|s| s.value == SplitMode::Auto);
    let mut out = Vec::with_capacity(parts.len());
    for (rendered, part) in parts::render_chain(project, post, targets, Bluesky::id(), &template, parts)? {
        let rich = RichText::from_marked(rendered.trim());
        let pieces = if split { rich.split_to_fit() } else { vec![rich] };
        out.extend(parts::spread(part, pieces, |piece, p| BlueskyPart {
            text: piece.text,
            facets: piece.facets,
            media: p.media,
            origin: p.origin,
            dropped_images: p.dropped_images,
        }));
    }
    let langs = opts
        .and_then(|o| o.langs.as_ref())
        .map(|l| l.value.iter().map(|s| s.value.trim().to_owned()).collect())
        .unwrap_or_default();
    let link_card = opts.and_then(|o| o.link_card.as_ref()).is_none_or(|c| c.value);
    Ok(BlueskyOutput { parts: out, template, langs, link_card })
}

/// Bluesky makes links facets: they are marked in the text until after templating, and
/// the `#` and `@` of code shielded so that they make no tag or mention facet.
const MARKDOWN: chain::Markdown = chain::Markdown {
    text: |md, site| text::markdown_to_text_shielded(md, LinkStyle::Marked, site),
    parts: |md, site| text::markdown_to_parts_shielded(md, LinkStyle::Marked, site),
};
