//! Discord's rules for a webhook message (`shared/reference/platforms.md` §10 and the
//! official OpenAPI definition's `IncomingWebhookRequestPartial`): content at most 2,000
//! characters, at most 10 files of at most 10 MiB each, alt text (an attachment's
//! `description`) at most 1,024 characters, `username` 1–80 characters, `avatar_url` an
//! http(s) URL of at most 2,048 characters, `thread_name` at most 100 characters.

use super::{DiscordOptions, DiscordOutput, MAX_CHARS, count};
use crate::content::Post;
use crate::diag::Diagnostic;
use crate::rules::{
    self,
    media::{AltText, MediaRef},
};

/// Files one message carries (`files[0]`…`files[9]`, `attachments` `maxItems: 10`).
pub const MAX_FILES: usize = 10;
/// Bytes of one file ("The default limit is `10 MiB`").
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;
/// Characters of an attachment's `description`.
const ALT: AltText = AltText {
    max: 1024,
    limit: "Discord keeps at most",
    codes: ["discord-alt-too-long", "discord-alt-missing"],
    why: "add `alt:` describing the image: Discord shows it to people using screen readers",
};
pub const MAX_USERNAME: usize = 80;
pub const MAX_AVATAR_URL: usize = 2048;
pub const MAX_THREAD_NAME: usize = 100;

/// Checks the rendered post.
pub fn validate(post: &Post, out: &DiscordOutput) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    let src = &post.source;
    let opts = post.options.get::<DiscordOptions>().map(|m| &m.value);
    let n = out.messages.len();
    for (i, m) in out.messages.iter().enumerate() {
        let which = rules::part_name("message", "the message", i, n);
        let chars = count(&m.text);
        if chars > MAX_CHARS {
            let message = format!("{which} is {chars} characters; a Discord message holds at most {MAX_CHARS}");
            let hint = format!(
                "shorten it by {} characters, or set `discord: {{split: auto}}` to send it as several messages",
                chars - MAX_CHARS
            );
            let label = format!("{chars}/{MAX_CHARS}");
            d.push(rules::too_long(post, out.origin.clone(), "discord-too-long", message, label, hint));
        }
        if m.text.is_empty() && m.media.is_empty() && rules::has_content(post) {
            let message = "the post has nothing to send on Discord: no text and no media";
            d.push(rules::nothing_to_publish(post, out.origin.clone(), "discord-empty", message, "discord"));
        }
        if let Some(extra) = m.media.get(MAX_FILES) {
            let message = format!("{which} has {} files; a Discord message carries at most {MAX_FILES}", m.media.len());
            d.push(extra.error(post, "discord-too-many-files", message, "keep the ten that matter most"));
        }
        for x in &m.media {
            media_rules(post, x, &mut d);
        }
    }
    if out.unshown_images > 0 {
        d.push(
            Diagnostic::warning(
                "discord-inline-image",
                format!("{} inline image(s) have no public URL and are sent as their alt text", out.unshown_images),
            )
            .at(src, out.origin.clone())
            .with_hint("attach the file with `media:` (with `alt:`), or set `media.base_url` in crier.yaml"),
        );
    }
    let chars = |v: &str| v.trim().chars().count();
    if let Some(u) = opts.and_then(|o| o.username.as_ref()).filter(|u| !(1..=MAX_USERNAME).contains(&chars(&u.value))) {
        let message = format!("`username` is {} characters; Discord takes 1 to {MAX_USERNAME}", chars(&u.value));
        let hint = "shorten it, or remove it to post under the webhook's own name";
        d.push(rules::at_value(post, u, "discord-username", message, hint));
    }
    if let Some(a) = opts.and_then(|o| o.avatar_url.as_ref()) {
        let v = a.value.trim();
        let web = url::Url::parse(v).ok().is_some_and(|u| matches!(u.scheme(), "http" | "https"));
        if !web || v.len() > MAX_AVATAR_URL {
            let message = "`avatar_url` must be an http(s) URL of at most 2,048 characters";
            let hint = "link a picture on the web, e.g. https://example.com/logo.png";
            d.push(rules::at_value(post, a, "discord-avatar-url", message, hint));
        }
    }
    if let Some(t) =
        opts.and_then(|o| o.thread_name.as_ref()).filter(|t| !(1..=MAX_THREAD_NAME).contains(&chars(&t.value)))
    {
        let len = chars(&t.value);
        let message = format!("`thread_name` is {len} characters; a forum post's title has 1 to {MAX_THREAD_NAME}");
        d.push(rules::at_value(post, t, "discord-thread-name", message, "give the forum post a short title"));
    }
    d
}

fn media_rules(post: &Post, m: &MediaRef, d: &mut Vec<Diagnostic>) {
    let Some(what) = m.path.as_deref() else {
        let message = "Discord gets the file itself: media given by `url` cannot be attached";
        let hint =
            "put the file in the repository and use `path:`, or link the URL in the text (Discord shows a preview)";
        d.push(m.error(post, "discord-media-url", message, hint));
        return;
    };
    if let Some(info) = m.info.as_ref().filter(|i| i.size_bytes > MAX_FILE_BYTES) {
        let message = format!(
            "`{what}` is {} bytes; a webhook accepts files of at most {MAX_FILE_BYTES} bytes (10 MiB)",
            info.size_bytes
        );
        d.push(m.error(post, "discord-file-too-large", message, "compress or resize it"));
    }
    ALT.check(post, m, what, "", d);
}
