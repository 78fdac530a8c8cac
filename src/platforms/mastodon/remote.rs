//! Taking a recorded post down (`crier delete`) and looking it up (`crier status --remote`).
//!
//! Deleting looks every part up first (`GET /api/v1/statuses/:id`: 404 is already gone,
//! another `account.id` refuses the whole post before anything is deleted), then sends
//! `DELETE /api/v1/statuses/:id` for the parts still there, the last part first, so an
//! interrupted chain never keeps replies to a deleted start. The lookups are cheap
//! (300 calls per 5 minutes) while deletions are scarce (30 per 30 minutes, and a
//! DELETE of a status already gone counts too): a rerun after a rate limit spends its
//! deletions only on what is left, so even a chain longer than the limit finishes. A
//! 429 waits for `X-RateLimit-Reset` within the HTTP layer's bound; beyond it, deleting
//! on Mastodon stops for the run. Mastodon answers a DELETE of another account's status
//! with 404 and GoToSocial with 403, so the lookup, not the DELETE, tells whose it is.
//!
//! Looking up is `GET /api/v1/statuses/:id` per part: 404 is gone, another `account.id`
//! is another account. The text check reuses what publishing trusts to recognise its own
//! statuses (the HTML `content` turned back into text, [`super::html::same_text`]), so
//! the usual lookup costs one call per part; only when that says "different" is the
//! status's source text (`GET …/source`, exact) asked for, so a quirk of a server's HTML
//! never reports an edit that did not happen.

use super::api::{Account, MastodonClient, MastodonError, OnWait, Status};
use super::{MastodonOutput, html};
use crate::platforms::{Deletion, Failure, PostNouns, Remote};

const NOUNS: PostNouns = PostNouns { one: "the status", part: "status", parts: "statuses", place: "on the instance" };

/// `crier delete`: deletes every status of `ids`, the last first. `me` is the token's account.
pub async fn delete(
    client: &MastodonClient,
    me: &Account,
    ids: &[&str],
    progress: &dyn Fn(&str),
    on_wait: OnWait<'_>,
) -> Result<Deletion, Failure> {
    let n = ids.len();
    let mut done = Deletion::default();
    // Every status is looked up before any is deleted: a chain with a status of another
    // account is refused whole, and parts already gone cost no deletion.
    let mut there: Vec<(usize, &str)> = Vec::with_capacity(n);
    for (i, id) in ids.iter().enumerate() {
        let id = id.trim();
        match client.get_status(id, on_wait).await {
            Ok(s) if !mine(&s, me) => {
                return Err(Failure::new(format!(
                    "status {id} {}: crier deletes only the token's own statuses (use that account's MASTODON_ACCESS_TOKEN)",
                    other_account(&s, me)
                )));
            }
            Ok(_) => there.push((i, id)),
            Err(MastodonError::Rejected { status: 404, .. }) => done.already_gone += 1,
            Err(e) => return Err(failure(e, 0)),
        }
    }
    for (i, id) in there.into_iter().rev() {
        if n > 1 {
            progress(&format!("deleting status {} of {n}", i + 1));
        }
        match client.delete_status(id, on_wait).await {
            Ok(()) => done.deleted += 1,
            // It was there a moment ago: a retry after a lost reply, or deleted meanwhile.
            Err(MastodonError::Rejected { status: 404, .. }) => done.deleted += 1,
            Err(e) => return Err(failure(e, done.deleted + done.already_gone)),
        }
    }
    Ok(done)
}

fn mine(s: &Status, me: &Account) -> bool {
    s.account.as_ref().is_none_or(|a| a.id == me.id)
}

fn other_account(s: &Status, me: &Account) -> String {
    let owner = s.account.as_ref().map_or("?", |a| if a.acct.is_empty() { &a.username } else { &a.acct });
    format!(
        "belongs to another account (@{owner}); the token is @{}'s",
        if me.acct.is_empty() { &me.username } else { &me.acct }
    )
}

fn failure(e: MastodonError, gone: usize) -> Failure {
    let fatal = match &e {
        MastodonError::Unauthorized { .. } => Some(
            "the Mastodon instance rejected the token (check MASTODON_ACCESS_TOKEN and MASTODON_INSTANCE)".to_owned(),
        ),
        // Every later status would hit the same limit.
        MastodonError::RateLimited { retry_after, .. } => Some(format!(
            "Mastodon's rate limit is reached (it allows 30 deletions per 30 minutes): run `crier delete` again in {} min",
            retry_after.as_secs().div_ceil(60).max(1)
        )),
        _ => None,
    };
    Failure { message: e.to_string(), fatal, published_parts: gone }
}

/// `crier status --remote`: looks every status of `ids` up. `sent` is the rendering that
/// was sent (given while the file still renders to it).
pub async fn inspect(
    client: &MastodonClient,
    me: &Account,
    ids: &[&str],
    sent: Option<&MastodonOutput>,
    on_wait: OnWait<'_>,
) -> Result<Remote, Failure> {
    let n = ids.len();
    let mut gone: Vec<usize> = Vec::new();
    let mut edited: Vec<String> = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let id = id.trim();
        let label = if n > 1 { format!("status {}: ", i + 1) } else { String::new() };
        let status = match client.get_status(id, on_wait).await {
            Ok(s) => s,
            Err(MastodonError::Rejected { status: 404, .. }) => {
                gone.push(i + 1);
                continue;
            }
            Err(e) => return Err(failure(e, 0)),
        };
        if !mine(&status, me) {
            return Ok(Remote::OtherAccount(format!("status {id} {}", other_account(&status, me))));
        }
        let Some(part) = sent.and_then(|o| o.parts.get(i)) else { continue };
        let cw = sent.and_then(|o| o.spoiler_text.as_deref()).unwrap_or("");
        if html::same_text(&status.content, &part.text) && status.spoiler_text.trim() == cw.trim() {
            continue;
        }
        // The HTML says "different": the source text says for sure.
        let (text, spoiler) = match client.status_source(id, on_wait).await {
            Ok(src) => (src.text, src.spoiler_text),
            Err(_) => (html::to_text(&status.content), status.spoiler_text.clone()),
        };
        if spoiler.trim() != cw.trim() {
            edited.push(format!("{label}the content warning is “{}”, crier sent “{cw}”", spoiler.trim()));
        } else if html::comparable(&text) != html::comparable(&part.text) {
            edited.push(format!("{label}{}", differ(&text, &part.text)));
        }
    }
    Ok(Remote::found(n, &gone, &edited, &NOUNS))
}

/// Where two texts part, as short excerpts of both.
fn differ(found: &str, sent: &str) -> String {
    let (found, sent) = crate::difference::difference(found, sent);
    format!("the instance shows “{found}”, crier sent “{sent}”")
}
