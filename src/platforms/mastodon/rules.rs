//! Mastodon's rules: characters per status (as [`super::count`] counts them),
//! attachments per status (a video only alone), media formats and sizes, alt text length, the
//! post options. Limits differ per instance, so they are a value: Mastodon's
//! defaults, overridden by crier.yaml `mastodon:` for `check`, and replaced by
//! the instance's own numbers (`GET /api/v2/instance`) when publishing.

use super::{MastodonConfig, MastodonOptions};
use crate::content::Post;
use crate::diag::Diagnostic;
use crate::rules::{
    self,
    media::{self, AltText, MediaRef},
};

use super::{MastodonOutput, VISIBILITIES, count};

const ALT_CODES: [&str; 2] = ["mastodon-alt-too-long", "mastodon-alt-missing"];
const CHAIN: rules::Chain = rules::chain!("mastodon", "Mastodon", "status", "media");

/// Where a set of limits came from (said in diagnostics).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitSource {
    /// Mastodon's defaults, maybe overridden in crier.yaml.
    Offline,
    /// Read from the instance (its host).
    Instance(String),
}

/// What an instance accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    pub max_characters: usize,
    pub max_media_attachments: usize,
    pub characters_reserved_per_url: usize,
    pub image_size_limit: u64,
    pub image_matrix_limit: u64,
    pub video_size_limit: u64,
    pub description_limit: usize,
    /// MIME types the instance accepts, when it said.
    pub supported_mime_types: Option<Vec<String>>,
    pub source: LimitSource,
}

impl Default for Limits {
    /// Mastodon's defaults (`configuration` of a stock instance).
    fn default() -> Self {
        Self {
            max_characters: 500,
            max_media_attachments: 4,
            characters_reserved_per_url: 23,
            image_size_limit: 16 * 1024 * 1024,
            image_matrix_limit: 33_177_600,
            video_size_limit: 103_809_024,
            description_limit: 1500,
            supported_mime_types: None,
            source: LimitSource::Offline,
        }
    }
}

impl Limits {
    /// The defaults with crier.yaml's overrides.
    pub fn from_config(c: &MastodonConfig) -> Self {
        let d = Self::default();
        let n = |v: Option<u64>, default: usize| v.map_or(default, |v| usize::try_from(v).unwrap_or(usize::MAX));
        Self {
            max_characters: n(c.max_characters, d.max_characters),
            max_media_attachments: n(c.max_media_attachments, d.max_media_attachments),
            characters_reserved_per_url: n(c.characters_reserved_per_url, d.characters_reserved_per_url),
            image_size_limit: c.image_size_limit.unwrap_or(d.image_size_limit),
            image_matrix_limit: c.image_matrix_limit.unwrap_or(d.image_matrix_limit),
            video_size_limit: c.video_size_limit.unwrap_or(d.video_size_limit),
            description_limit: n(c.description_limit, d.description_limit),
            supported_mime_types: None,
            source: LimitSource::Offline,
        }
    }

    /// Where the numbers came from, for messages.
    fn origin(&self) -> String {
        match &self.source {
            LimitSource::Offline => "Mastodon's default; crier.yaml `mastodon:` can change it".to_owned(),
            LimitSource::Instance(host) => format!("the limit of {host}"),
        }
    }
}

/// Checks the rendered post against `limits`.
pub fn validate(post: &Post, out: &MastodonOutput, limits: &Limits) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    let src = &post.source;
    let opts = post.options.get::<MastodonOptions>().map(|m| &m.value);
    if let Some(v) = opts.and_then(|o| o.visibility.as_ref()) {
        d.extend(crate::rules::one_of("mastodon-visibility", post, v, &VISIBILITIES, "visibility", "Mastodon"));
    }
    if let Some(l) = opts.and_then(|o| o.language.as_ref()) {
        if !is_mastodon_language(l.value.trim()) {
            d.push(
                Diagnostic::error("mastodon-language", format!("language `{}` is not one Mastodon knows", l.value))
                    .at(src, post.span_of(&l.referenced))
                    .with_hint("an ISO 639-1 code such as `en`, `de` or `ja`, with a region if you like (`pt-BR`, `zh-TW`), or one of Mastodon's ISO 639-3 codes (`ast`, `kab`, `tok`, …); Mastodon would post under the account's default language otherwise"),
            );
        }
    }
    let cw = out.spoiler_text.as_deref().unwrap_or("");
    let cw_span = opts.and_then(|o| o.spoiler_text.as_ref()).map(|s| post.span_of(&s.referenced));
    for (_, which, part) in CHAIN.parts(post, opts.and_then(|o| o.text.as_ref()), &out.parts, &mut d) {
        let chars = count::weighted_len(&part.text, cw, limits.characters_reserved_per_url);
        if chars > limits.max_characters {
            let max = limits.max_characters;
            let with_cw = if cw.is_empty() { String::new() } else { " (the content warning included)".to_owned() };
            let message = format!("{which} counts {chars} characters{with_cw}; at most {max} ({})", limits.origin());
            let hint = format!(
                "shorten it by {} characters, split it with a `---` line (blank line before it), or set `mastodon: {{split: auto}}`; every link counts {} characters",
                chars - max,
                limits.characters_reserved_per_url
            );
            let label = format!("{chars}/{max}");
            d.push(rules::too_long(post, part.origin.clone(), "mastodon-text-too-long", message, label, hint));
        }
        if part.text.is_empty() && part.media.is_empty() {
            d.push(CHAIN.empty_part(post, &which, part.origin.clone(), rules::EMPTY_PART_HINT));
        }
        let inline = "inline images do not show on Mastodon and are left out";
        rules::inline_images(
            post,
            &part.dropped_images,
            "mastodon-inline-image",
            inline,
            rules::INLINE_IMAGE_HINT,
            &mut d,
        );
        let max = limits.max_media_attachments;
        if let Some(extra) = part.media.get(max) {
            let (n, origin) = (part.media.len(), limits.origin());
            let message = format!("{which} has {n} media; a status holds at most {max} ({origin})");
            let hint = "move the rest to a later part of the chain (`thread:` items take `media:`)";
            d.push(extra.error(post, "mastodon-too-many-media", message, hint));
        }
        // Mastodon refuses a video beside other media (post_status_service.rb: "Cannot attach
        // a video to a post that already contains images").
        let is_video = |m: &&MediaRef| m.info.as_ref().map_or(m.format, |i| i.format).is_video();
        if let (true, Some(video)) = (part.media.len() > 1, part.media.iter().find(is_video)) {
            let message = format!(
                "{which} has a video and {} other media; Mastodon takes a video only alone",
                part.media.len() - 1
            );
            let hint = "put the video in its own part of the chain (`thread:` items take `media:`)";
            d.push(video.error(post, "mastodon-video-with-media", message, hint));
        }
        for m in &part.media {
            media_rules(post, m, limits, &mut d);
        }
    }
    if let Some(span) = cw_span {
        if cw.is_empty() {
            d.push(
                Diagnostic::warning(
                    "mastodon-spoiler-empty",
                    "`spoiler_text` is empty, so no content warning is shown",
                )
                .at(src, span)
                .with_hint("write the warning, or remove the key"),
            );
        }
    }
    d
}

fn media_rules(post: &Post, m: &MediaRef, limits: &Limits, d: &mut Vec<Diagnostic>) {
    let src = &post.source;
    if media::needs_file(post, m, "mastodon-media-url", "Mastodon", d) {
        return;
    }
    let Some(info) = &m.info else { return };
    let what = m.path.as_deref().unwrap_or("the file");
    let mime = info.format.mime();
    let accepted = match (&limits.supported_mime_types, mime) {
        (_, None) => false,
        (Some(list), Some(mime)) => list.iter().any(|t| t == mime),
        (None, Some(_)) => true,
    };
    if !accepted {
        d.push(
            Diagnostic::error(
                "mastodon-media-format",
                format!(
                    "`{what}` is {} ({}), which the instance does not accept",
                    info.format,
                    mime.unwrap_or("no known type")
                ),
            )
            .at(src, m.span.clone())
            .with_hint("use JPEG, PNG, GIF or WebP images, MP4 or MOV videos"),
        );
    }
    let (limit, kind) =
        if info.format.is_video() { (limits.video_size_limit, "video") } else { (limits.image_size_limit, "image") };
    if info.size_bytes > limit {
        d.push(
            Diagnostic::error(
                if info.format.is_video() { "mastodon-video-too-large" } else { "mastodon-image-too-large" },
                format!(
                    "`{what}` is {} bytes; {} {kind} may be at most {limit} bytes ({})",
                    info.size_bytes,
                    if info.format.is_video() { "a" } else { "an" },
                    limits.origin()
                ),
            )
            .at(src, m.span.clone())
            .with_hint(format!("compress or resize the {kind}")),
        );
    }
    if let Some((w, h)) = info.dimensions {
        let pixels = u64::from(w) * u64::from(h);
        if info.format.is_image() && pixels > limits.image_matrix_limit {
            d.push(
                Diagnostic::error(
                    "mastodon-image-too-large",
                    format!(
                        "`{what}` is {w}×{h} = {pixels} pixels; at most {} ({})",
                        limits.image_matrix_limit,
                        limits.origin()
                    ),
                )
                .at(src, m.span.clone())
                .with_hint("resize the image"),
            );
        }
    }
    let why = "add `alt:` describing the image: people using screen readers depend on it, and many on Mastodon do not boost media without it";
    let alt = AltText { max: limits.description_limit, limit: "at most", codes: ALT_CODES, why };
    alt.check(post, m, what, &format!(" ({})", limits.origin()), d);
}

/// Mastodon's ISO 639-3 codes and regional languages (app/helpers/languages_helper.rb);
/// with ISO 639-1's two letters, the languages a status can carry.
const MASTODON_639_3: [&str; 16] =
    ["ast", "chr", "ckb", "cnr", "jbo", "kab", "ldn", "lfn", "sco", "sma", "smj", "szl", "tok", "xal", "zba", "zgh"];
const MASTODON_REGIONAL: [&str; 4] = ["zh-CN", "zh-HK", "zh-TW", "zh-YUE"];

/// Whether Mastodon keeps `code` as the status' language (`valid_locale_or_nil`): a
/// language it lists, or one followed by a region (`pt-BR`, `en_US`: kept as `pt`, `en`).
pub fn is_mastodon_language(code: &str) -> bool {
    let known = |c: &str| {
        (c.len() == 2 && c.bytes().all(|b| b.is_ascii_lowercase()))
            || MASTODON_639_3.contains(&c)
            || MASTODON_REGIONAL.contains(&c)
    };
    let segment = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
    match code.split_once(['-', '_']) {
        _ if known(code) => true,
        Some((base, rest)) => known(base) && rest.split(['-', '_']).all(segment),
        None => false,
    }
}
