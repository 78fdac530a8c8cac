//! Threads' rules (reference: threads-api.md section 3): 500 UTF-8 bytes per
//! part, at most 5 distinct links, one topic tag, media formats and sizes,
//! carousel size, alt text, polls, reply control, link attachments.

use std::collections::BTreeSet;

use super::links::find_links;
use super::{MAX_TEXT_BYTES, ThreadsOutput};
use super::{ThreadsOptions, ThreadsSplit};
use crate::content::Post;
use crate::diag::Diagnostic;
use crate::media_probe::MediaFormat;
use crate::project::Project;
use crate::render::text::find_hashtags;
use crate::rules::{self, media::MediaRef};
use serde_saphyr::Spanned;

const CHAIN: rules::Chain = rules::chain!("threads", "Threads", "part", "media");
pub const MAX_LINKS: usize = 5;
pub const MAX_CAROUSEL: usize = 20;
pub const MAX_ALT_CHARS: usize = 1000;
pub const MAX_IMAGE_BYTES: u64 = 8 * 1024 * 1024;
pub const MAX_VIDEO_BYTES: u64 = 1024 * 1024 * 1024;
pub const MAX_VIDEO_SECS: f64 = 300.0;
pub const MAX_ASPECT: f64 = 10.0;
/// `text_attachment.plaintext`, in characters (Unicode scalar values: crier's
/// reading of "10,000 characters").
pub const MAX_ATTACHMENT_CHARS: usize = 10_000;
/// The attachment carries one link (`link_attachment_url`).
pub const MAX_ATTACHMENT_LINKS: usize = 1;
pub const MAX_SPOILERS: usize = 10;
pub const REPLY_CONTROLS: [&str; 5] =
    ["everyone", "accounts_you_follow", "mentioned_only", "parent_post_author_only", "followers_only"];

pub fn validate(_project: &Project, post: &Post, out: &ThreadsOutput) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    let src = &post.source;
    let opts = post.options.get::<ThreadsOptions>().map(|t| &t.value);
    let link_attachment = opts.and_then(|o| o.link_attachment.as_ref());
    for (i, which, part) in CHAIN.parts(post, opts.and_then(|o| o.text.as_ref()), &out.parts, &mut d) {
        let bytes = part.text.len();
        if bytes > MAX_TEXT_BYTES {
            let chars = part.text.chars().count();
            let message = format!(
                "{which} is {bytes} bytes; Threads allows at most {MAX_TEXT_BYTES} UTF-8 bytes ({chars} characters)"
            );
            let hint = if out.attachment.is_some() {
                format!(
                    "with `split: attachment` this is the visible text: shorten it by {} bytes, or give a shorter `threads.text`",
                    bytes - MAX_TEXT_BYTES
                )
            } else {
                format!(
                    "shorten it by {} bytes, split it with a `---` line (blank line before it), or set `threads: {{split: auto}}`; emoji and curly quotes count 3–4 bytes each",
                    bytes - MAX_TEXT_BYTES
                )
            };
            let label = format!("{bytes} bytes");
            d.push(rules::too_long(post, part.origin.clone(), "threads-text-too-long", message, label, hint));
        }
        if part.text.is_empty() && part.media.is_empty() {
            d.push(CHAIN.empty_part(post, &which, part.origin.clone(), rules::EMPTY_PART_HINT));
        }

        // Links: distinct URLs and `www.` hosts in the text, plus the link attachment on the
        // first part.
        let mut links: Vec<&str> = Vec::new();
        for r in find_links(&part.text) {
            let url = &part.text[r];
            if !links.contains(&url) {
                links.push(url);
            }
        }
        if i == 0 {
            if let Some(la) = link_attachment {
                if !links.contains(&la.value.as_str()) {
                    links.push(la.value.as_str());
                }
            }
            if let Some(url) = out.attachment.as_ref().and_then(|a| a.links.first()) {
                if !links.contains(&url.as_str()) {
                    links.push(url.as_str());
                }
            }
        }
        if links.len() > MAX_LINKS {
            let sixth = links[MAX_LINKS];
            let at = find_in_file(post, sixth, part.origin.start).unwrap_or(part.origin.clone());
            d.push(
                Diagnostic::error(
                    "threads-too-many-links",
                    format!("{which} has {} distinct links; Threads allows at most {MAX_LINKS}", links.len()),
                )
                .at(src, at)
                .with_label(format!("link {} of {}", MAX_LINKS + 1, links.len()))
                .with_hint("remove links or move some into another part of the chain"),
            );
        }

        // Topic tag: the `topic_tag` option, else the first in-text hashtag.
        let tags: Vec<&str> = find_hashtags(&part.text).into_iter().map(|r| &part.text[r]).collect();
        let explicit = if i == 0 { opts.and_then(|o| o.topic_tag.as_ref()) } else { None };
        let distinct: BTreeSet<String> = tags.iter().map(|t| t.to_lowercase()).collect();
        if explicit.is_none() && distinct.len() > 1 {
            let at = find_in_file(post, tags[1], part.origin.start).unwrap_or(part.origin.clone());
            d.push(
                Diagnostic::warning(
                    "threads-one-topic-tag",
                    format!(
                        "{which} has {} hashtags; Threads makes only the first, {}, a topic tag",
                        distinct.len(),
                        tags[0]
                    ),
                )
                .at(src, at)
                .with_hint("Threads allows one topic tag per post; the other hashtags stay plain text"),
            );
        }
        if explicit.is_none() {
            if let Some(tag) = tags.first() {
                check_topic(&tag[1..], part.origin.clone(), &which, src, &mut d);
            }
        }

        if part.spoilers.len() > MAX_SPOILERS {
            let at = find_in_file(post, &part.text[part.spoilers[MAX_SPOILERS].clone()], part.origin.start)
                .unwrap_or(part.origin.clone());
            d.push(
                Diagnostic::error(
                    "threads-too-many-spoilers",
                    format!(
                        "{which} has {} spoilers; Threads allows at most {MAX_SPOILERS} per post",
                        part.spoilers.len()
                    ),
                )
                .at(src, at)
                .with_label(format!("spoiler {} of {}", MAX_SPOILERS + 1, part.spoilers.len()))
                .with_hint("join neighbouring spoilers into one `||…||`, or move some into another part of the chain"),
            );
        }

        check_media(post, part, &which, link_attachment.is_some() && i == 0, &mut d);
        let inline = "an inline Markdown image does not show on Threads";
        let hint = "attach images with `media:` (the image stays in the dev.to article)";
        rules::inline_images(post, &part.dropped_images, "threads-inline-image", inline, hint, &mut d);
    }

    if let Some(o) = opts {
        check_features(post, o, out, &mut d);
        if let Some(tag) = &o.topic_tag {
            check_topic(&tag.value, post.span_of(&tag.referenced), "`topic_tag`", src, &mut d);
        }
        if let Some(rc) = o.reply_control.as_ref().filter(|rc| !REPLY_CONTROLS.contains(&rc.value.as_str())) {
            let message = format!("`reply_control` is `{}`, not a value Threads accepts", rc.value);
            let hint = format!("use one of: {}", REPLY_CONTROLS.join(", "));
            d.push(rules::at_value(post, rc, "threads-reply-control", message, hint));
        }
        let web = |v: &str| v.starts_with("https://") || v.starts_with("http://");
        if let Some(la) = o.link_attachment.as_ref().filter(|la| !web(&la.value)) {
            let message = format!("`link_attachment` `{}` is not an http(s) URL", la.value);
            let hint = "give the full URL, for example https://example.com/article";
            d.push(rules::at_value(post, la, "threads-link-attachment", message, hint));
        }
        let media_id = |v: &str| !v.is_empty() && v.chars().all(|c| c.is_ascii_digit());
        if let Some(q) = o.quote_post_id.as_ref().filter(|q| !media_id(&q.value)) {
            let message = format!("`quote_post_id` `{}` is not a Threads media id", q.value);
            let hint = "a media id is a number such as \"17890000000000001\" (quote it as a string)";
            d.push(rules::at_value(post, q, "threads-quote-post-id", message, hint));
        }
        if let Some(poll) = &o.poll {
            check_poll(post, poll, o, out, &mut d);
        }
    }
    d
}

/// `split: attachment`, `spoiler_media` and `ghost`: their limits and the combinations
/// Threads refuses (text attachments and ghost posts are for text-only posts).
fn check_features(post: &Post, o: &ThreadsOptions, out: &ThreadsOutput, d: &mut Vec<Diagnostic>) {
    let src = &post.source;
    let has_media = out.parts.iter().any(|p| !p.media.is_empty());
    let media_at = || out.parts.iter().flat_map(|p| &p.media).next().map(|m| m.span.clone());
    if let Some(split) = o.split.as_ref().filter(|s| s.value == ThreadsSplit::Attachment) {
        let at = post.span_of(&split.referenced);
        let refuse = |code: &'static str, msg: &str, hint: &str| {
            Diagnostic::error(code, msg).at(src, at.clone()).with_hint(hint)
        };
        if let Some(thread) = &post.front.thread {
            d.push(
                refuse(
                    "threads-attachment-with-thread",
                    "`split: attachment` makes one post, and this post has a `thread:` chain",
                    "remove `thread:` (its text can go in the body), or use `split: auto` for a chain",
                )
                .with_label(format!("`thread:` at line {}", src.line_col(post.span_of(&thread.referenced).start).0)),
            );
        }
        if has_media {
            d.push(refuse(
                "threads-attachment-with-media",
                "a text attachment works only on text posts, and this post has media",
                "remove the media, or drop `split: attachment`",
            ));
        }
        if o.poll.is_some() {
            d.push(refuse(
                "threads-attachment-with-poll",
                "a text attachment cannot be combined with a poll",
                "remove the poll or `split: attachment`",
            ));
        }
        if o.link_attachment.is_some() {
            d.push(refuse(
                "threads-attachment-with-link-attachment",
                "a text attachment cannot be combined with `link_attachment`",
                "remove `link_attachment`: the attachment's first link gets the preview",
            ));
        }
        if let Some(a) = &out.attachment {
            let chars = a.chars();
            if chars > MAX_ATTACHMENT_CHARS {
                let message =
                    format!("the text attachment is {chars} characters; Threads allows at most {MAX_ATTACHMENT_CHARS}");
                let hint = format!(
                    "shorten the text by {} characters, or use `split: auto` for a chain",
                    chars - MAX_ATTACHMENT_CHARS
                );
                let label = format!("{chars} characters");
                d.push(rules::too_long(post, a.origin.clone(), "threads-attachment-too-long", message, label, hint));
            }
            if a.links.len() > MAX_ATTACHMENT_LINKS {
                let second = &a.links[MAX_ATTACHMENT_LINKS];
                let at = find_in_file(post, second, a.origin.start).unwrap_or(a.origin.clone());
                d.push(
                    Diagnostic::error(
                        "threads-attachment-links",
                        format!(
                            "the text attachment has {} distinct links; Threads allows {MAX_ATTACHMENT_LINKS} (its `link_attachment_url`)",
                            a.links.len()
                        ),
                    )
                    .at(src, at)
                    .with_label(format!("link {} of {}", MAX_ATTACHMENT_LINKS + 1, a.links.len()))
                    .with_hint("keep one link in the text (write the others without `https://`), or use `split: auto`"),
                );
            }
            if a.spoilers > 0 {
                d.push(
                    Diagnostic::warning(
                        "threads-spoiler-in-attachment",
                        format!(
                            "the text attachment shows {} spoiler{} as plain words: an attachment cannot hide text",
                            a.spoilers,
                            if a.spoilers == 1 { "" } else { "s" }
                        ),
                    )
                    .at(src, a.origin.clone())
                    .with_hint("remove the `||` from the body, or leave the spoiler out of it"),
                );
            }
        } else if post.front.thread.is_none() && crate::rules::has_content(post) {
            d.push(refuse(
                "threads-attachment-empty",
                "`split: attachment` has no text to attach: the body is empty",
                "write the long text in the body",
            ));
        }
    }
    if let Some(sm) = o.spoiler_media.as_ref().filter(|s| s.value) {
        if !has_media {
            d.push(
                Diagnostic::error(
                    "threads-spoiler-media-without-media",
                    "`spoiler_media: true`, but the post has no media",
                )
                .at(src, post.span_of(&sm.referenced))
                .with_hint("attach images or videos with `media:`, or remove `spoiler_media`"),
            );
        }
    }
    if let Some(g) = o.ghost.as_ref().filter(|g| g.value) {
        let at = post.span_of(&g.referenced);
        if has_media {
            d.push(
                Diagnostic::error("threads-ghost-with-media", "a ghost post is text only, and this post has media")
                    .at(src, media_at().unwrap_or(at.clone()))
                    .with_hint("remove the media, or `ghost: true`"),
            );
        }
        // Threads allows only text and text spoilers on a ghost post.
        let attachment = o.split.as_ref().filter(|s| s.value == ThreadsSplit::Attachment).map(|s| &s.referenced);
        let options = [
            ("topic_tag", o.topic_tag.as_ref().map(|t| &t.referenced)),
            ("poll", o.poll.as_ref().map(|p| &p.referenced)),
            ("link_attachment", o.link_attachment.as_ref().map(|l| &l.referenced)),
            ("quote_post_id", o.quote_post_id.as_ref().map(|q| &q.referenced)),
            ("split: attachment", attachment),
            ("reply_control", o.reply_control.as_ref().map(|r| &r.referenced)),
        ];
        for (name, referenced) in options {
            let Some(referenced) = referenced else { continue };
            d.push(
                Diagnostic::error(
                    "threads-ghost-with-option",
                    format!("a ghost post carries only text and text spoilers: Threads refuses `{name}` with it"),
                )
                .at(src, post.span_of(referenced))
                .with_label(format!("`ghost: true` at line {}", src.line_col(at.start).0))
                .with_hint(format!("remove `{name}`, or `ghost: true`")),
            );
        }
        if out.parts.len() > 1 {
            d.push(
                Diagnostic::error(
                    "threads-ghost-in-chain",
                    format!("a ghost post cannot be a reply, and this post is a chain of {} parts", out.parts.len()),
                )
                .at(src, at)
                .with_label(format!("{} parts", out.parts.len()))
                .with_hint("make it one part (no `thread:`, no `---` breaks, `split: none`), or remove `ghost: true`"),
            );
        }
    }
}

/// A poll: 2 to 4 options of 1 to 25 characters, on a text post without a link attachment.
fn check_poll(
    post: &Post,
    poll: &Spanned<super::options::Poll>,
    o: &ThreadsOptions,
    out: &ThreadsOutput,
    d: &mut Vec<Diagnostic>,
) {
    let options = &poll.value.options;
    let count = options.value.len();
    if !(2..=4).contains(&count) {
        let message = format!("the poll has {count} options; Threads polls have 2 to 4");
        d.push(rules::at_value(post, options, "threads-poll-options", message, "give between 2 and 4 options"));
    }
    for opt in options.value.iter().filter(|opt| !(1..=25).contains(&opt.value.chars().count())) {
        let message =
            format!("poll option is {} characters; options are 1 to 25 characters", opt.value.chars().count());
        d.push(rules::at_value(post, opt, "threads-poll-option-length", message, "shorten the option"));
    }
    if out.parts.first().is_some_and(|p| !p.media.is_empty()) {
        let message = "a poll can only go on a text post, and this post has media";
        d.push(rules::at_value(post, poll, "threads-poll-with-media", message, "remove the media or the poll"));
    }
    if o.link_attachment.is_some() {
        let message = "a poll cannot be combined with `link_attachment`";
        d.push(rules::at_value(post, poll, "threads-poll-with-link", message, "remove one of them"));
    }
}

fn check_topic(
    tag: &str,
    span: std::ops::Range<usize>,
    what: &str,
    src: &crate::diag::SourceFile,
    d: &mut Vec<Diagnostic>,
) {
    let chars = tag.chars().count();
    if chars == 0 || chars > 50 || tag.contains('.') || tag.contains('&') {
        d.push(
            Diagnostic::error(
                "threads-topic-tag",
                format!("topic tag `{tag}` in {what} is invalid: Threads topic tags are 1–50 characters without `.` or `&` (found {chars} characters)"),
            )
            .at(src, span)
            .with_hint("shorten the tag and remove `.` and `&`"),
        );
    }
}

fn check_media(
    post: &Post,
    part: &crate::platforms::threads::ThreadsPart,
    which: &str,
    has_link_attachment: bool,
    d: &mut Vec<Diagnostic>,
) {
    if let Some(extra) = part.media.get(MAX_CAROUSEL) {
        let count = part.media.len();
        let message = format!("{which} has {count} media items; a Threads carousel holds at most {MAX_CAROUSEL}");
        d.push(extra.error(
            post,
            "threads-too-many-media",
            message,
            "remove items or move them to another part of the chain",
        ));
    }
    if let Some(first) = part.media.first().filter(|_| has_link_attachment) {
        d.push(first.error(
            post,
            "threads-link-attachment-with-media",
            "`link_attachment` works only on text posts, and this post has media",
            "remove the media, or drop `link_attachment` (the URL in the text still gets a preview)",
        ));
    }
    for m in &part.media {
        d.extend(m.problems.iter().cloned());
        check_one_media(post, m, d);
    }
}

fn check_one_media(post: &Post, m: &MediaRef, d: &mut Vec<Diagnostic>) {
    if let (Some(alt), Some(alt_at)) = (&m.alt, &m.alt_span) {
        let chars = alt.chars().count();
        if chars > MAX_ALT_CHARS {
            d.push(
                Diagnostic::error(
                    "threads-alt-too-long",
                    format!("alt text is {chars} characters; Threads allows at most {MAX_ALT_CHARS}"),
                )
                .at(&post.source, alt_at.clone())
                .with_hint("describe the image in fewer words"),
            );
        }
    }
    let name = m.name_or("media");
    let accepted = matches!(m.format, MediaFormat::Jpeg | MediaFormat::Png | MediaFormat::Mp4 | MediaFormat::Mov);
    if m.path.is_some() && m.info.is_some() && !accepted {
        let message = format!(
            "`{name}` is {} (judged by its bytes); Threads accepts JPEG or PNG images and MP4 or MOV videos",
            m.format.name()
        );
        d.push(m.error(post, "threads-media-format", message, "convert the file, for example to JPEG"));
        return;
    }
    if m.path.is_none() && m.url.is_some() && m.format == MediaFormat::Unknown {
        let message =
            format!("cannot tell from `{name}` whether it is an image or a video; crier will send it as an image");
        d.push(m.warning(post, "threads-media-kind-unknown", message, "use a URL ending in .jpg, .png, .mp4 or .mov"));
    }
    let Some(info) = &m.info else { return };
    let size = human_size(info.size_bytes);
    if info.format.is_image() {
        if info.size_bytes > MAX_IMAGE_BYTES {
            let message = format!("image `{name}` is {size}; Threads accepts images up to 8 MB");
            d.push(m.error(post, "threads-image-too-large", message, "compress or resize the image"));
        }
        if let Some((w, h)) = info.dimensions {
            let ratio = f64::from(w.max(h)) / f64::from(w.min(h).max(1));
            if ratio > MAX_ASPECT {
                let message =
                    format!("image `{name}` is {w}×{h}, an aspect ratio of {ratio:.1}:1; Threads allows at most 10:1");
                d.push(m.error(post, "threads-image-aspect-ratio", message, "crop the image"));
            }
        }
    } else if info.format.is_video() {
        if info.size_bytes > MAX_VIDEO_BYTES {
            let message = format!("video `{name}` is {size}; Threads accepts videos up to 1 GB");
            d.push(m.error(post, "threads-video-too-large", message, "compress the video"));
        }
        match info.duration_secs {
            Some(secs) if secs > MAX_VIDEO_SECS => {
                let message =
                    format!("video `{name}` lasts {secs:.0} s; Threads accepts videos up to 300 s (5 minutes)");
                d.push(m.error(post, "threads-video-too-long", message, "trim the video"));
            }
            Some(_) => {}
            None => d.push(m.warning(
                post,
                "threads-video-duration-unknown",
                format!("cannot read the duration of video `{name}` from its header"),
                "Threads rejects videos over 300 s; check its length yourself",
            )),
        }
    }
}

fn human_size(bytes: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let mb = bytes as f64 / (1024.0 * 1024.0);
    format!("{mb:.1} MB ({bytes} bytes)")
}

/// The file span of `needle` in the post, searched from `from` on.
fn find_in_file(post: &Post, needle: &str, from: usize) -> Option<std::ops::Range<usize>> {
    let text = &post.source.text;
    let start = text.get(from..)?.find(needle).map(|i| from + i).or_else(|| text.find(needle))?;
    Some(start..start + needle.len())
}
