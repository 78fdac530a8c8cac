//! What `check` says about a post for Nostr. Nostr itself has no length limit (a relay
//! may: `crier doctor` shows each relay's `max_content_length`). Local media need a
//! public URL, which `publish` checks (as for Threads: CI has one, a laptop may not).

use super::{NostrKind, NostrOptions, NostrOutput};
use crate::content::Post;
use crate::diag::Diagnostic;

/// Checks the rendered post.
pub fn validate(post: &Post, out: &NostrOutput) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    let src = &post.source;
    if out.kind == NostrKind::Article && out.title.is_none() {
        let at = post
            .options
            .get::<NostrOptions>()
            .and_then(|o| o.value.kind.as_ref().map(|k| post.span_of(&k.referenced)))
            .unwrap_or_else(|| post.head_span());
        d.push(
            Diagnostic::error("nostr-article-title", "a Nostr article (kind 30023) needs a title")
                .at(src, at)
                .with_hint("add `title: …` to the post"),
        );
    }
    for part in &out.parts {
        for m in &part.media {
            d.extend(m.problems.iter().cloned());
        }
        for img in &part.dropped_images {
            d.push(
                Diagnostic::warning("nostr-inline-image", "an inline image in a Nostr note is left out")
                    .at(src, img.clone())
                    .with_hint("put the image under `media:` so its URL goes in the note"),
            );
        }
        if out.kind == NostrKind::Note && part.content.trim().is_empty() {
            d.push(
                Diagnostic::error("nostr-empty-part", "a Nostr note would be empty")
                    .at(src, part.origin.clone())
                    .with_hint("give the part some text or media"),
            );
        }
    }
    d
}
