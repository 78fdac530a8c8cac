//! X's rules (reference §7): 280 weighted characters per post, at most 4 images or 1 video
//! or 1 GIF, image 5 MB, GIF 15 MB, video 512 MB, alt text 1000 characters, polls of 2–4
//! options of 1–25 characters open 5–10080 minutes and never beside media, at most one
//! cashtag per post (API posts), and who may reply.

use super::{REPLY_SETTINGS, XOptions, XOutput, count};
use crate::content::Post;
use crate::diag::Diagnostic;
use crate::media_probe::MediaFormat;
use crate::rules::{
    self,
    media::{self, AltText, MediaRef},
};

const MB: u64 = 1024 * 1024;
/// Image, GIF and video size limits (`x-api/media/introduction.mdx`).
const IMAGE_MAX: u64 = 5 * MB;
const GIF_MAX: u64 = 15 * MB;
const VIDEO_MAX: u64 = 512 * MB;
const ALT: AltText = AltText {
    max: 1000,
    limit: "X allows",
    codes: ["x-alt-too-long", "x-alt-missing"],
    why: "add `alt:` describing it: people using screen readers depend on it",
};
const CHAIN: rules::Chain = rules::chain!("x", "X", "post", "media");
const POLL_OPTION_MAX: usize = 25;
const POLL_MINUTES: std::ops::RangeInclusive<u64> = 5..=10080;

/// Checks the rendered post against X's rules.
pub fn validate(post: &Post, out: &XOutput) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    let src = &post.source;
    let opts = post.options.get::<XOptions>().map(|m| &m.value);
    for (_, which, part) in CHAIN.parts(post, opts.and_then(|o| o.text.as_ref()), &out.parts, &mut d) {
        let len = count::weighted_len(&part.text);
        if len > count::MAX_WEIGHTED {
            let max = count::MAX_WEIGHTED;
            let message = format!("{which} counts {len} weighted characters; X allows {max}");
            let hint = format!(
                "shorten it by {} (a link counts 23, an emoji or a CJK character 2), split it with a `---` line (blank line before it), or set `x: {{split: auto}}`",
                len - max
            );
            d.push(rules::too_long(post, part.origin.clone(), "x-too-long", message, format!("{len}/{max}"), hint));
        }
        if count::has_invalid(&part.text) {
            d.push(
                Diagnostic::error(
                    "x-invalid-character",
                    format!("{which} contains a character X refuses (U+FFFE, U+FFFF or U+FEFF)"),
                )
                .at(src, part.origin.clone())
                .with_hint("remove the invisible character (often pasted with the text)"),
            );
        }
        let cashtags = count::cashtags(&part.text);
        if cashtags.len() > 1 {
            let listed: Vec<&str> = cashtags.iter().map(|r| &part.text[r.clone()]).collect();
            d.push(
                Diagnostic::error(
                    "x-cashtags",
                    format!(
                        "{which} has {} cashtags ({}); X takes at most 1 in a post made through the API",
                        cashtags.len(),
                        listed.join(", ")
                    ),
                )
                .at(src, part.origin.clone())
                .with_hint(
                    "keep one `$SYMBOL` and write the others without `$`, or move them to another part of the chain",
                ),
            );
        }
        if part.text.is_empty() && part.media.is_empty() {
            d.push(CHAIN.empty_part(post, &which, part.origin.clone(), "write its text or remove the empty part"));
        }
        let inline = "inline images do not show on X and are left out";
        rules::inline_images(post, &part.dropped_images, "x-inline-image", inline, rules::INLINE_IMAGE_HINT, &mut d);
        media_count(post, &which, &part.media, &mut d);
        for m in &part.media {
            media_rules(post, m, &mut d);
        }
    }
    if let Some(r) = opts.and_then(|o| o.reply_settings.as_ref()) {
        if !REPLY_SETTINGS.contains(&r.value.trim()) {
            let hint = match crate::diag::did_you_mean(&r.value, REPLY_SETTINGS) {
                Some(s) => format!(
                    "did you mean `{s}`? One of: {} (leave it out to let everyone reply)",
                    REPLY_SETTINGS.join(", ")
                ),
                None => format!("one of: {} (leave it out to let everyone reply)", REPLY_SETTINGS.join(", ")),
            };
            let message = format!("reply_settings `{}` is not one X knows", r.value);
            d.push(rules::at_value(post, r, "x-reply-settings", message, hint));
        }
    }
    if let Some(poll) = opts.and_then(|o| o.poll.as_ref()) {
        let options = &poll.value.options;
        if !(2..=4).contains(&options.value.len()) {
            let message = format!("the poll has {} options; X wants 2 to 4", options.value.len());
            d.push(rules::at_value(post, options, "x-poll", message, "give 2, 3 or 4 options"));
        }
        for o in &options.value {
            let len = o.value.trim().chars().count();
            if len == 0 || len > POLL_OPTION_MAX {
                let message = format!("a poll option has {len} characters; X wants 1 to {POLL_OPTION_MAX}");
                d.push(rules::at_value(post, o, "x-poll", message, "shorten the option"));
            }
        }
        let minutes = &poll.value.duration_minutes;
        if !POLL_MINUTES.contains(&minutes.value) {
            let message = format!("the poll is open {} minutes; X wants 5 to 10080 (a week)", minutes.value);
            d.push(rules::at_value(post, minutes, "x-poll", message, "e.g. 1440 for a day"));
        }
        if out.parts.first().is_some_and(|p| !p.media.is_empty()) {
            let message = "X does not take a poll and media in the same post";
            let hint = "move the media to a later part of the chain, or drop the poll";
            d.push(rules::at_value(post, poll, "x-poll-with-media", message, hint));
        }
    }
    d
}

/// At most 4 images, or 1 video, or 1 GIF.
fn media_count(post: &Post, which: &str, media: &[MediaRef], d: &mut Vec<Diagnostic>) {
    let moving = media.iter().filter(|m| m.format.is_video() || m.format == MediaFormat::Gif).count();
    let too_many = if moving > 0 { media.len() > 1 } else { media.len() > 4 };
    if too_many {
        let span = media[0].span.start..media[media.len() - 1].span.end;
        d.push(
            Diagnostic::error(
                "x-too-many-media",
                format!("{which} has {} media; X takes at most 4 images, or 1 video, or 1 GIF", media.len()),
            )
            .at(&post.source, span)
            .with_hint("spread them over the parts of a chain (`thread:`), or leave some out"),
        );
    }
}

fn media_rules(post: &Post, m: &MediaRef, d: &mut Vec<Diagnostic>) {
    let src = &post.source;
    if media::needs_file(post, m, "x-media-url", "X", d) {
        return;
    }
    let Some(info) = &m.info else { return };
    let what = m.path.as_deref().unwrap_or("the file");
    let limit = match info.format {
        MediaFormat::Jpeg | MediaFormat::Png | MediaFormat::Webp => Some((IMAGE_MAX, "an image", "x-image-too-large")),
        MediaFormat::Gif => Some((GIF_MAX, "a GIF", "x-image-too-large")),
        MediaFormat::Mp4 | MediaFormat::Mov => Some((VIDEO_MAX, "a video", "x-video-too-large")),
        MediaFormat::Heif | MediaFormat::Unknown => None,
    };
    let Some((max, kind, code)) = limit else {
        d.push(
            Diagnostic::error("x-media-format", format!("`{what}` is {}, which X does not take", info.format))
                .at(src, m.span.clone())
                .with_hint("use JPEG, PNG, WebP or GIF images, or an MP4 or MOV video"),
        );
        return;
    };
    if info.size_bytes > max {
        d.push(
            Diagnostic::error(
                code,
                format!("`{what}` is {} bytes; {kind} may be at most {} MB on X", info.size_bytes, max / MB),
            )
            .at(src, m.span.clone())
            .with_hint("compress or resize it"),
        );
    }
    ALT.check(post, m, what, "", d);
}
