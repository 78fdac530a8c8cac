//! Rules: what a post must meet, as diagnostics with stable codes, the limit,
//! what was found, and a hint. General rules and media live here; each
//! platform's rules live in its folder (`platforms/<name>/rules.rs`).

pub mod media;

use crate::config::Config;
use crate::content::Post;
use crate::diag::Diagnostic;
use crate::platform_id::PlatformId;

/// `code` when `value` (the key `key` of a platform's options) is none of `allowed`, with a
/// "did you mean" hint: the one check of a key that takes one word of a list.
pub fn one_of(
    code: &'static str,
    post: &Post,
    value: &serde_saphyr::Spanned<String>,
    allowed: &[&str],
    key: &str,
    platform: &str,
) -> Option<Diagnostic> {
    if allowed.contains(&value.value.as_str()) {
        return None;
    }
    let hint = match crate::diag::did_you_mean(&value.value, allowed.iter().copied()) {
        Some(s) => format!("did you mean `{s}`? One of: {}", allowed.join(", ")),
        None => format!("one of: {}", allowed.join(", ")),
    };
    Some(
        Diagnostic::error(code, format!("{key} `{}` is not one {platform} knows", value.value))
            .at(&post.source, post.span_of(&value.referenced))
            .with_hint(hint),
    )
}

/// An error at the value of a key of the post, with `hint`.
pub fn at_value<T>(
    post: &Post,
    value: &serde_saphyr::Spanned<T>,
    code: &'static str,
    message: impl Into<String>,
    hint: impl Into<String>,
) -> Diagnostic {
    Diagnostic::error(code, message).at(&post.source, post.span_of(&value.referenced)).with_hint(hint)
}

/// A text over a platform's limit: an error at the text, labelled with what was counted.
pub fn too_long(
    post: &Post,
    at: std::ops::Range<usize>,
    code: &'static str,
    message: String,
    label: String,
    hint: String,
) -> Diagnostic {
    Diagnostic::error(code, message).at(&post.source, at).with_label(label).with_hint(hint)
}

/// Where a platform's text of the post stands: its own `text` key when it has one, else the
/// head of the post.
fn text_span(post: &Post, text: Option<&serde_saphyr::Spanned<String>>) -> std::ops::Range<usize> {
    text.map_or_else(|| post.head_span(), |t| post.span_of(&t.referenced))
}

/// The error of a post that has content but renders to nothing on the platform `id` (its
/// name in `platforms:`).
pub fn nothing_to_publish(
    post: &Post,
    at: std::ops::Range<usize>,
    code: &'static str,
    message: &str,
    id: &str,
) -> Diagnostic {
    Diagnostic::error(code, message)
        .at(&post.source, at)
        .with_hint(format!("write the post's text, or remove `{id}` from its platforms"))
}

/// What to do with an empty part of a chain.
pub const EMPTY_PART_HINT: &str = "remove the empty part or write something in it";

/// How a platform that publishes a post as a chain of parts words the checks all such
/// platforms make (see [`chain!`]).
pub struct Chain {
    /// Its name in `platforms:`.
    pub id: &'static str,
    /// Its name for people.
    pub name: &'static str,
    /// The code of a post, or a part, with nothing to publish.
    pub empty: &'static str,
    /// What a part is called (`part 2 of 3`).
    pub noun: &'static str,
    /// What a part carries besides text (`media`, `images`).
    pub things: &'static str,
}

/// A [`Chain`] whose code for an empty post or part is `{id}-empty-part`.
macro_rules! chain {
    ($id:literal, $name:literal, $noun:literal, $things:literal) => {
        $crate::rules::Chain { id: $id, name: $name, empty: concat!($id, "-empty-part"), noun: $noun, things: $things }
    };
}
pub(crate) use chain;

impl Chain {
    /// The parts with their index and their name in diagnostics (`{noun} 2 of 3`, or `the
    /// post` when alone); a post that has content but no part at all is `empty`, at the
    /// platform's own `text` when it has one, else at the post's head.
    pub fn parts<'p, P>(
        &self,
        post: &Post,
        text: Option<&serde_saphyr::Spanned<String>>,
        parts: &'p [P],
        out: &mut Vec<Diagnostic>,
    ) -> impl Iterator<Item = (usize, String, &'p P)> + use<'p, P> {
        // A post with no content at all is reported once, as `empty-post`.
        if parts.is_empty() && has_content(post) {
            let message = format!("the post has nothing to publish on {}: no text and no {}", self.name, self.things);
            out.push(nothing_to_publish(post, text_span(post, text), self.empty, &message, self.id));
        }
        let (noun, n) = (self.noun, parts.len());
        parts.iter().enumerate().map(move |(i, p)| (i, part_name(noun, "the post", i, n), p))
    }

    /// The error of a part (`which`) that has neither text nor anything else.
    pub fn empty_part(&self, post: &Post, which: &str, at: std::ops::Range<usize>, hint: &str) -> Diagnostic {
        Diagnostic::error(self.empty, format!("{which} has no text and no {}", self.things))
            .at(&post.source, at)
            .with_hint(hint)
    }
}

/// How diagnostics name part `i` of a chain of `n`: `{noun} 2 of 3`, or `one` when alone.
pub fn part_name(noun: &str, one: &str, i: usize, n: usize) -> String {
    if n > 1 { format!("{noun} {} of {n}", i + 1) } else { one.to_owned() }
}

/// Where an inline image a platform leaves out should go instead.
pub const INLINE_IMAGE_HINT: &str = "attach it with `media:` (with `alt:`) instead";

/// A warning for each inline Markdown image a platform leaves out of the text.
pub fn inline_images(
    post: &Post,
    images: &[std::ops::Range<usize>],
    code: &'static str,
    message: &str,
    hint: &str,
    out: &mut Vec<Diagnostic>,
) {
    for img in images {
        out.push(Diagnostic::warning(code, message).at(&post.source, img.clone()).with_hint(hint));
    }
}

/// The platforms a post goes to (its own list, else the configured default),
/// with diagnostics for unknown names and for none at all.
pub fn targets(post: &Post, config: &Config, out: &mut Vec<Diagnostic>) -> Vec<PlatformId> {
    let src = &post.source;
    let mut targets = Vec::new();
    match &post.front.platforms {
        Some(list) => {
            for name in &list.value {
                match PlatformId::parse(&name.value) {
                    Some(p) if !targets.contains(&p) => targets.push(p),
                    Some(_) => {}
                    None => out.push(
                        Diagnostic::error("unknown-platform", format!("unknown platform `{}`", name.value))
                            .at(src, post.span_of(&name.referenced))
                            .with_hint(PlatformId::hint_for(&name.value)),
                    ),
                }
            }
            if list.value.is_empty() {
                out.push(
                    Diagnostic::error("no-platforms", "`platforms` is empty: the post goes nowhere")
                        .at(src, post.span_of(&list.referenced))
                        .with_hint("list where it goes, for example `platforms: [threads]`"),
                );
            }
        }
        None => {
            targets.extend(config.defaults.platforms.iter().filter_map(|p| PlatformId::parse(p)));
            if targets.is_empty() {
                out.push(
                    Diagnostic::error("no-platforms", "the post has no platforms and crier.yaml sets no default")
                        .at(src, post.head_span())
                        .with_hint("add `platforms: [threads]` to the post, or `defaults: {platforms: [threads]}` to crier.yaml"),
                );
            }
        }
    }
    targets
}

/// `published`, which crier writes: a mapping of platform names to records. A misspelt
/// platform would publish the post again, an entry crier cannot read would never let it
/// publish or update, so each is an error at its key.
pub fn published(post: &Post, out: &mut Vec<Diagnostic>) {
    let Some(published) = &post.front.published else { return };
    let src = &post.source;
    // The parser places the value's start; its keys are found in the text after it.
    let whole = post.span_of(&published.referenced).start..post.front_matter_end();
    let hint = "crier writes `published`: restore what it wrote (see `git log -p` of the file), or take the entry out to publish the post again";
    let entries = match &published.value {
        serde_json::Value::Null => return,
        serde_json::Value::Object(map) => map,
        _ => {
            out.push(
                Diagnostic::error("published-malformed", "`published` is not a mapping of platforms to records")
                    .at(src, whole)
                    .with_hint(hint),
            );
            return;
        }
    };
    for (name, entry) in entries {
        let at = key_span(&src.text, whole.clone(), name);
        if PlatformId::parse(name).is_none() {
            out.push(
                Diagnostic::error("unknown-platform", format!("`published` names an unknown platform `{name}`"))
                    .at(src, at)
                    .with_hint(PlatformId::hint_for(name)),
            );
        } else if let Some(problem) = crate::ledger::entry_problem(entry) {
            let id_at = key_span(&src.text, at.start..whole.end, "id");
            let number = entry.get("id").is_some_and(serde_json::Value::is_number);
            out.push(
                Diagnostic::error("published-malformed", format!("`published.{name}` is not a record: {problem}"))
                    .at(src, if number { id_at } else { at })
                    .with_hint(if number { "quote the id (`id: \"…\"`): crier writes ids as strings" } else { hint }),
            );
        }
    }
}

/// Where `key` is written as a mapping key within `within` of `text` (the first time),
/// else `within` itself.
fn key_span(text: &str, within: std::ops::Range<usize>, key: &str) -> std::ops::Range<usize> {
    let Some(region) = text.get(within.clone()) else { return within };
    let is_key = |i: usize| {
        let before = region[..i].chars().next_back();
        let after = region[i + key.len()..].trim_start_matches(['"', '\'']);
        before.is_none_or(|c| c.is_whitespace() || "{,\"'".contains(c)) && after.trim_start().starts_with(':')
    };
    match region.match_indices(key).map(|(i, _)| i).find(|&i| is_key(i)) {
        Some(i) => within.start + i..within.start + i + key.len(),
        None => within,
    }
}

/// Whether the post has any text or media at all (else `empty-post`).
pub fn has_content(post: &Post) -> bool {
    let f = &post.front;
    !post.body.trim().is_empty()
        || f.thread.as_ref().is_some_and(|t| !t.value.is_empty())
        || post.options.any_text()
        || f.media.as_ref().is_some_and(|m| !m.value.is_empty())
}

/// Rules that do not depend on a platform.
pub fn general(post: &Post, out: &mut Vec<Diagnostic>) {
    let f = &post.front;
    let src = &post.source;
    if let Some(at) = &f.publish_at {
        if chrono::DateTime::parse_from_rfc3339(at.value.trim()).is_err() {
            out.push(
                Diagnostic::error(
                    "publish-at-invalid",
                    format!("`publish_at` is `{}`, not an RFC 3339 date-time", at.value),
                )
                .at(src, post.span_of(&at.referenced))
                .with_hint(
                    "write a date, time and offset, for example `2026-12-01T09:30:00Z` or `2026-12-01T10:30:00+01:00`",
                ),
            );
        }
    }
    if !has_content(post) {
        out.push(
            Diagnostic::error("empty-post", "the post has no text and no media").at(src, post.head_span()).with_hint(
                match post.kind {
                    crate::content::FileKind::Markdown => "write the post below the front matter",
                    crate::content::FileKind::Yaml => "add `text:` (or `thread:` or `media:`)",
                },
            ),
        );
    }
}

/// Relative links (`/docs/x`, `#setup`) without `site.base_url`: sent as their label on
/// every platform (a platform would refuse or misread them), so `check` says which.
pub fn relative_links(post: &Post, config: &Config, out: &mut Vec<Diagnostic>) {
    if config.site_url().is_some() {
        return;
    }
    let f = &post.front;
    let mut sources: Vec<(&str, Option<std::ops::Range<usize>>)> = vec![(post.body.as_str(), None)];
    if let Some(thread) = &f.thread {
        for item in &thread.value {
            let at = item.value.text_at.as_ref().map_or_else(|| post.span_of(&item.referenced), |at| post.span_of(at));
            sources.push((item.value.text.as_deref().unwrap_or(""), Some(at)));
        }
    }
    for text in post.options.texts() {
        sources.push((text.value.as_str(), Some(post.span_of(&text.referenced))));
    }
    for (markdown, at) in sources {
        for (range, dest, label) in crate::render::text::relative_links(markdown) {
            // In the body the link itself; in a YAML value, the value.
            let span = at.clone().unwrap_or_else(|| post.body_span(range));
            out.push(
                Diagnostic::warning(
                    "relative-link",
                    format!("the link `{dest}` is relative: with no site to resolve it against, it is sent as the plain text `{label}`"),
                )
                .at(&post.source, span)
                .with_hint("set `site: {base_url: https://your.site/}` in crier.yaml to make relative links absolute, or write the full URL"),
            );
        }
    }
}

#[cfg(test)]
mod tests;
