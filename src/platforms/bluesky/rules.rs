//! Bluesky's rules (lexicons `app.bsky.feed.post`, `app.bsky.embed.images`):
//! 300 graphemes and 3000 UTF-8 bytes per part, at most 4 images, images in
//! JPEG, PNG, WebP or GIF within the blob limit (larger JPEG/PNG files are
//! scaled down at publish), alt text, at most 3 languages; no video yet.

use super::richtext::{MAX_GRAPHEMES, MAX_TEXT_BYTES};
use super::{BlueskyConfig, BlueskyOptions};
use super::{BlueskyOutput, MAX_IMAGES, MAX_LANGS};
use crate::config::Config;
use crate::content::Post;
use crate::diag::Diagnostic;
use crate::media_probe::MediaFormat;
use crate::rules::{self, media::MediaRef};

const CHAIN: rules::Chain = rules::chain!("bluesky", "Bluesky", "part", "images");

pub fn validate(config: &Config, post: &Post, out: &BlueskyOutput) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    let src = &post.source;
    let opts = post.options.get::<BlueskyOptions>().map(|b| &b.value);
    let max_image = config.sections.get_or_default::<BlueskyConfig>().max_image_bytes;
    for (_, which, part) in CHAIN.parts(post, opts.and_then(|o| o.text.as_ref()), &out.parts, &mut d) {
        let graphemes = part.graphemes();
        let bytes = part.text.len();
        if graphemes > MAX_GRAPHEMES || bytes > MAX_TEXT_BYTES {
            let (found, limit) = if graphemes > MAX_GRAPHEMES {
                (format!("{graphemes} graphemes"), format!("{MAX_GRAPHEMES} graphemes"))
            } else {
                (format!("{bytes} bytes"), format!("{MAX_TEXT_BYTES} UTF-8 bytes"))
            };
            let message = format!("{which} is {found}; Bluesky allows at most {limit} per post");
            let hint = "shorten it, split it with a `---` line (blank line before it), or set `bluesky: {split: auto}`; a link shows only its label, a bare URL is shortened";
            d.push(rules::too_long(
                post,
                part.origin.clone(),
                "bluesky-text-too-long",
                message,
                found,
                hint.to_owned(),
            ));
        }
        if part.text.is_empty() && part.media.is_empty() {
            d.push(CHAIN.empty_part(post, &which, part.origin.clone(), rules::EMPTY_PART_HINT));
        }
        let images = part.media.iter().filter(|m| !m.format.is_video()).count();
        if images > MAX_IMAGES {
            let fifth = part.media.iter().filter(|m| !m.format.is_video()).nth(MAX_IMAGES).map(|m| m.span.clone());
            d.push(
                Diagnostic::error(
                    "bluesky-too-many-images",
                    format!("{which} has {images} images; a Bluesky post holds at most {MAX_IMAGES}"),
                )
                .at(src, fifth.unwrap_or_else(|| part.origin.clone()))
                .with_label(format!("image {} of {images}", MAX_IMAGES + 1))
                .with_hint("remove images, or move some into another part of the chain (a `thread:` item with its own `media:`)"),
            );
        }
        for m in &part.media {
            d.extend(m.problems.iter().cloned());
            image_rules(post, m, max_image, &mut d);
        }
        let inline = "an inline Markdown image does not show on Bluesky";
        rules::inline_images(
            post,
            &part.dropped_images,
            "bluesky-inline-image",
            inline,
            "attach images with `media:`",
            &mut d,
        );
    }
    if let Some(langs) = opts.and_then(|o| o.langs.as_ref()) {
        if langs.value.len() > MAX_LANGS {
            d.push(
                Diagnostic::error(
                    "bluesky-langs",
                    format!("`langs` has {} languages; a Bluesky post has at most {MAX_LANGS}", langs.value.len()),
                )
                .at(src, post.span_of(&langs.referenced))
                .with_hint("keep the main languages of the post"),
            );
        }
        for lang in &langs.value {
            if !is_language_tag(lang.value.trim()) {
                d.push(
                    Diagnostic::error("bluesky-langs", format!("`{}` is not a BCP-47 language tag", lang.value))
                        .at(src, post.span_of(&lang.referenced))
                        .with_hint("the PDS refuses it: write a tag such as `en`, `pt-BR`, `zh-Hant` or `ja`"),
                );
            }
        }
    }
    d
}

/// One media item: an image Bluesky shows, within `max_image` bytes (JPEG and PNG are
/// scaled down instead), with alt text.
fn image_rules(post: &Post, m: &MediaRef, max_image: u64, d: &mut Vec<Diagnostic>) {
    let name = m.name_or("media");
    if m.format.is_video() {
        let message = format!("`{name}` is a video; crier does not publish videos to Bluesky yet");
        let hint = "post an image instead, or remove `bluesky` from this post's platforms";
        d.push(m.error(post, "bluesky-video-unsupported", message, hint));
        return;
    }
    let accepted = matches!(m.format, MediaFormat::Jpeg | MediaFormat::Png | MediaFormat::Webp | MediaFormat::Gif);
    let known = m.info.is_some() || m.format != MediaFormat::Unknown;
    if known && !accepted {
        let message = format!("`{name}` is {}; Bluesky shows JPEG, PNG, WebP or GIF images", m.format.name());
        d.push(m.error(post, "bluesky-image-format", message, "convert the file, for example to JPEG"));
        return;
    }
    if let Some(info) = m.info.as_ref().filter(|i| i.size_bytes > max_image) {
        let size = info.size_bytes;
        if matches!(info.format, MediaFormat::Jpeg | MediaFormat::Png) {
            d.push(m.warning(
                post,
                "bluesky-image-scaled",
                format!(
                    "image `{name}` is {size} bytes, over Bluesky's limit of {max_image}; crier will scale it down and re-encode it when publishing"
                ),
                "to control the result, resize the image yourself (the limit is crier.yaml `bluesky.max_image_bytes`)",
            ));
        } else {
            d.push(m.error(
                post,
                "bluesky-image-too-large",
                format!("image `{name}` is {size} bytes; Bluesky accepts at most {max_image}"),
                "make it smaller, or convert it to JPEG (crier scales JPEG and PNG images down by itself)",
            ));
        }
    }
    if m.alt.as_deref().is_none_or(|a| a.trim().is_empty()) {
        let hint = "add `alt:` describing the image; Bluesky shows it to people using screen readers";
        d.push(m.warning(post, "bluesky-alt-missing", format!("image `{name}` has no alt text"), hint));
    }
}

/// Tags RFC 5646 keeps for compatibility (`grandfathered`), which the grammar below
/// does not produce.
const GRANDFATHERED: [&str; 26] = [
    "en-GB-oed",
    "i-ami",
    "i-bnn",
    "i-default",
    "i-enochian",
    "i-hak",
    "i-klingon",
    "i-lux",
    "i-mingo",
    "i-navajo",
    "i-pwn",
    "i-tao",
    "i-tay",
    "i-tsu",
    "sgn-BE-FR",
    "sgn-BE-NL",
    "sgn-CH-DE",
    "art-lojban",
    "cel-gaulish",
    "no-bok",
    "no-nyn",
    "zh-guoyu",
    "zh-hakka",
    "zh-min",
    "zh-min-nan",
    "zh-xiang",
];

/// A BCP-47 language tag as the PDS validates `langs` (atproto `isValidLanguage`, the
/// RFC 5646 grammar, case-sensitive where it is): a lowercase 2–3 letter language, up to
/// three extlangs, a script, a region, variants, extensions and a private use part, in
/// that order; or a private use tag (`x-…`); or a grandfathered tag.
pub fn is_language_tag(tag: &str) -> bool {
    if GRANDFATHERED.contains(&tag) {
        return true;
    }
    let alpha = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_alphabetic());
    let alnum =
        |s: &str, lo: usize, hi: usize| (lo..=hi).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric());
    let subtags: Vec<&str> = tag.split('-').collect();
    let private_use = |rest: &[&str]| !rest.is_empty() && rest.iter().all(|s| alnum(s, 1, 8));
    if matches!(subtags[0], "x" | "X") {
        return private_use(&subtags[1..]);
    }
    let lang = subtags[0];
    if !(2..=3).contains(&lang.len()) || !lang.bytes().all(|b| b.is_ascii_lowercase()) {
        return false;
    }
    let mut i = 1;
    let at = |i: usize| subtags.get(i).copied();
    let mut extlangs = 0;
    while extlangs < 3 && at(i).is_some_and(|s| alpha(s, 3)) {
        (i, extlangs) = (i + 1, extlangs + 1);
    }
    if at(i).is_some_and(|s| alpha(s, 4)) {
        i += 1;
    }
    if at(i).is_some_and(|s| alpha(s, 2) || (s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()))) {
        i += 1;
    }
    let variant = |s: &str| alnum(s, 5, 8) || (s.len() == 4 && s.as_bytes()[0].is_ascii_digit() && alnum(s, 4, 4));
    while at(i).is_some_and(variant) {
        i += 1;
    }
    // Extensions: a singleton other than `x`, then subtags of 2–8.
    while at(i).is_some_and(|s| alnum(s, 1, 1) && !s.eq_ignore_ascii_case("x")) {
        let start = i + 1;
        i = start;
        while at(i).is_some_and(|s| alnum(s, 2, 8)) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    if at(i).is_some_and(|s| s.eq_ignore_ascii_case("x")) {
        return private_use(&subtags[i + 1..]);
    }
    i == subtags.len()
}

#[cfg(test)]
mod tests;
