//! LinkedIn's rules (reference §6.3–6.5): the text length, the images (JPG, GIF or PNG; one,
//! or 2–20 as a multi-image post), alt text length, the visibility.

use super::{LinkedinOptions, LinkedinOutput, VISIBILITIES};
use crate::content::Post;
use crate::diag::Diagnostic;
use crate::media_probe::MediaFormat;
use crate::rules::{
    self,
    media::{AltText, MediaRef},
};

/// LinkedIn's limit on a post's text.
pub const MAX_CHARS: usize = 3000;
/// Kept free below [`MAX_CHARS`]: LinkedIn does not say whether its count is of the escaped
/// commentary or of the text, nor in which unit, so crier counts the text in UTF-16 units
/// (the larger of the usual counts) and leaves this much room for the difference.
pub const MARGIN: usize = 100;
/// What `check` lets through: [`MAX_CHARS`] less [`MARGIN`].
pub const ALLOWED: usize = MAX_CHARS - MARGIN;
/// Images in a multi-image post.
pub const MAX_IMAGES: usize = 20;
/// `altText` "Maximum length is 4,086 characters".
const ALT: AltText = AltText {
    max: 4086,
    limit: "at most",
    codes: ["linkedin-alt-too-long", "linkedin-alt-missing"],
    why: "add `alt:` describing the image: people using screen readers depend on it",
};

/// Checks the rendered post.
pub fn validate(post: &Post, out: &LinkedinOutput) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    let opts = post.options.get::<LinkedinOptions>().map(|m| &m.value);
    if out.text.is_empty() && out.media.is_empty() {
        let message = "the post has nothing to publish on LinkedIn: no text and no media";
        d.push(rules::nothing_to_publish(post, out.origin.clone(), "linkedin-empty", message, "linkedin"));
    }
    let n = out.count();
    if n > ALLOWED {
        let room = ALLOWED;
        let message = format!(
            "the post counts {n} characters; LinkedIn takes at most {MAX_CHARS}, and crier keeps {MARGIN} of them in reserve (LinkedIn does not say how it counts escaped characters), so at most {room}"
        );
        let hint = format!("shorten it by {} characters, or give LinkedIn its own `linkedin: {{text: …}}`", n - room);
        d.push(rules::too_long(post, out.origin.clone(), "linkedin-too-long", message, format!("{n}/{room}"), hint));
    }
    if let Some(v) = opts.and_then(|o| o.visibility.as_ref()) {
        d.extend(crate::rules::one_of("linkedin-visibility", post, v, &VISIBILITIES, "visibility", "LinkedIn"));
    }
    let inline = "inline images do not show on LinkedIn and are left out";
    rules::inline_images(post, &out.dropped_images, "linkedin-inline-image", inline, rules::INLINE_IMAGE_HINT, &mut d);
    if let Some(extra) = out.media.get(MAX_IMAGES) {
        let message = format!("the post has {} images; a LinkedIn post holds at most {MAX_IMAGES}", out.media.len());
        d.push(extra.error(
            post,
            "linkedin-too-many-media",
            message,
            "remove images, or spread them over several posts",
        ));
    }
    for m in &out.media {
        d.extend(m.problems.iter().cloned());
        media_rules(post, m, &mut d);
    }
    d
}

/// Whether LinkedIn takes the format as an image.
pub fn accepted(format: MediaFormat) -> bool {
    matches!(format, MediaFormat::Jpeg | MediaFormat::Gif | MediaFormat::Png)
}

fn media_rules(post: &Post, m: &MediaRef, d: &mut Vec<Diagnostic>) {
    let what = m.name_or("the file");
    // A local file is known by its bytes; a URL by its extension (fetched when publishing).
    let known = m.info.is_some() || m.format != MediaFormat::Unknown;
    if known && !accepted(m.format) {
        let message = format!("`{what}` is {}; LinkedIn posts take JPG, GIF and PNG images", m.format);
        let hint = "convert it to JPG or PNG (crier does not post videos to LinkedIn)";
        d.push(m.error(post, "linkedin-media-format", message, hint));
    }
    ALT.check(post, m, what, "", d);
}
