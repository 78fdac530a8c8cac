//! Telegram's rules: 4,096 UTF-16 units a message (a longer text needs `split: auto`),
//! at most 10 media (one album), photos (JPEG, PNG, WebP; width + height at most 10,000,
//! ratio at most 20) and MP4 videos within the Bot API's upload limits, and a note that alt text has no place on Telegram.

use super::{MAX_ALBUM, MAX_TEXT, Send, TelegramOptions, TelegramOutput};
use crate::content::Post;
use crate::diag::Diagnostic;
use crate::media_probe::MediaFormat;
use crate::rules::{self, media::MediaRef};

/// `sendPhoto`: "The photo must be at most 10 MB in size".
pub const MAX_PHOTO_BYTES: u64 = 10 * 1024 * 1024;
/// `sendPhoto`: "The photo's width and height must not exceed 10000 in total".
pub const MAX_PHOTO_SIDES: u32 = 10_000;
/// `sendPhoto`: "Width and height ratio must be at most 20".
pub const MAX_PHOTO_RATIO: u32 = 20;
/// Bots upload other files "of up to 50 MB".
pub const MAX_UPLOAD_BYTES: u64 = 50 * 1024 * 1024;

/// The MIME type an upload of `format` is sent with.
pub fn mime(format: MediaFormat) -> &'static str {
    match format {
        MediaFormat::Png => "image/png",
        MediaFormat::Webp => "image/webp",
        MediaFormat::Mp4 => "video/mp4",
        _ => "image/jpeg",
    }
}

pub fn validate(post: &Post, out: &TelegramOutput) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    let src = &post.source;
    if out.sends.is_empty() && rules::has_content(post) {
        let message = "the post has nothing to send on Telegram: no text and no media";
        d.push(rules::nothing_to_publish(post, out.origin.clone(), "telegram-empty", message, "telegram"));
    }
    for s in &out.sends {
        if let Send::Text(t) = s {
            if t.len() > MAX_TEXT {
                let split_span = post
                    .options
                    .get::<TelegramOptions>()
                    .and_then(|o| o.value.split.as_ref())
                    .map(|s| post.span_of(&s.referenced));
                let message = format!(
                    "the text counts {} characters (UTF-16 units, as Telegram counts); a message holds at most {MAX_TEXT}",
                    t.len()
                );
                let hint = format!(
                    "shorten it by {} characters, or set `telegram: {{split: auto}}` to send a chain of messages",
                    t.len() - MAX_TEXT
                );
                let at = split_span.unwrap_or_else(|| out.origin.clone());
                let label = format!("{}/{MAX_TEXT}", t.len());
                d.push(rules::too_long(post, at, "telegram-text-too-long", message, label, hint));
            }
        }
    }
    let media = out.media();
    if let Some(extra) = media.get(MAX_ALBUM) {
        let message = format!("the post has {} media; a Telegram album holds at most {MAX_ALBUM}", media.len());
        d.push(extra.error(post, "telegram-too-many-media", message, "keep ten, or make a second post for the rest"));
    }
    // One note for the post, at its first alt text.
    let with_alt: Vec<&MediaRef> =
        media.iter().filter(|m| m.alt.as_deref().is_some_and(|a| !a.trim().is_empty())).collect();
    if let Some(first) = with_alt.first() {
        let n = with_alt.len();
        d.push(
            Diagnostic::warning(
                "telegram-alt-ignored",
                format!(
                    "Telegram has no alt text for media: {} not sent there",
                    if n == 1 { "this `alt:` is".to_owned() } else { format!("the {n} `alt:` texts are") }
                ),
            )
            .at(src, first.alt_span.clone().unwrap_or_else(|| first.span.clone()))
            .with_hint(
                "say what matters in the text (the caption) if people need it; other platforms still get the alt text",
            ),
        );
    }
    for m in media {
        media_rules(post, m, &mut d);
    }
    d
}

fn media_rules(post: &Post, m: &MediaRef, d: &mut Vec<Diagnostic>) {
    let Some(info) = &m.info else { return };
    let what = m.path.as_deref().unwrap_or("the file");
    if !matches!(info.format, MediaFormat::Jpeg | MediaFormat::Png | MediaFormat::Webp | MediaFormat::Mp4) {
        let message = format!("`{what}` is {}, which crier does not send to Telegram", info.format);
        d.push(m.error(post, "telegram-media-format", message, "use JPEG, PNG or WebP images and MP4 videos"));
        return;
    }
    let limit = if info.format.is_video() { MAX_UPLOAD_BYTES } else { MAX_PHOTO_BYTES };
    if info.size_bytes > limit {
        let kind = m.kind_name();
        let message =
            format!("`{what}` is {} bytes; a bot may send a {kind} of at most {limit} bytes", info.size_bytes);
        d.push(m.error(post, "telegram-media-too-large", message, &format!("compress or resize the {kind}")));
    }
    if let (false, Some((w, h))) = (info.format.is_video(), info.dimensions) {
        photo_dimensions(post, m, what, w, h, d);
    }
}

/// `sendPhoto` refuses a photo whose width + height exceed 10,000 or whose sides differ by
/// more than 20 times.
fn photo_dimensions(post: &Post, m: &MediaRef, what: &str, w: u32, h: u32, d: &mut Vec<Diagnostic>) {
    let (long, short) = (w.max(h), w.min(h));
    let message = if u64::from(w) + u64::from(h) > u64::from(MAX_PHOTO_SIDES) {
        format!("`{what}` is {w}×{h}; Telegram takes a photo whose width + height is at most {MAX_PHOTO_SIDES}")
    } else if short == 0 || long > short.saturating_mul(MAX_PHOTO_RATIO) {
        format!(
            "`{what}` is {w}×{h}; Telegram takes a photo whose long side is at most {MAX_PHOTO_RATIO} times its short side"
        )
    } else {
        return;
    };
    let hint = "resize or crop the image (e.g. to at most 5000×5000), or make a version for Telegram";
    d.push(m.error(post, "telegram-photo-dimensions", message, hint));
}
