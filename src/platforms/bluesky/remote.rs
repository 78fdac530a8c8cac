//! Taking a recorded post down (`crier delete`) and looking it up (`crier status --remote`).
//!
//! A record names every part by its AT URI (`at://<did>/app.bsky.feed.post/<rkey>`).
//! Deleting is `deleteRecord` per part, the last part first, so a chain interrupted
//! half-way never leaves replies whose thread start is gone. The PDS answers a key that
//! holds no record with a plain 200 and no `commit`, so a part already gone (deleted in
//! the app, or by a run whose reply was lost) is told apart without a `getRecord` first:
//! one call per part. Looking up is `getRecord` per part: `RecordNotFound` is gone; a
//! record whose text is not what was sent, or whose content id is not the recorded
//! one, was rewritten by another client (the app cannot edit, the API can).
//!
//! A URI whose DID is not the signed-in account's is never sent: deleting is refused
//! and a lookup reports another account.

use super::xrpc::{XrpcClient, XrpcError};
use crate::platforms::{Deletion, Failure, PostNouns, Remote};

const NOUNS: PostNouns = PostNouns { one: "the post", part: "part", parts: "parts", place: "on Bluesky" };

/// One recorded part: its AT URI and, when recorded, its content id.
#[derive(Debug, Clone, Copy)]
pub struct Part<'a> {
    pub uri: &'a str,
    pub cid: Option<&'a str>,
}

/// An AT URI split into DID, collection and record key.
fn parse(uri: &str) -> Option<(&str, &str, &str)> {
    let rest = uri.trim().strip_prefix("at://")?;
    let mut it = rest.splitn(3, '/');
    let (did, collection, rkey) = (it.next()?, it.next()?, it.next()?);
    let ok = did.starts_with("did:") && !collection.is_empty() && !rkey.is_empty() && !rkey.contains('/');
    ok.then_some((did, collection, rkey))
}

/// Every part parsed, all on the signed-in account; else why not (nothing is sent then).
fn check<'a>(client: &XrpcClient, uris: &[&'a str]) -> Result<Vec<(&'a str, &'a str)>, Refusal> {
    let me = client.account().ok_or_else(|| Refusal::Bad("internal: not signed in to Bluesky".to_owned()))?;
    let mut out = Vec::with_capacity(uris.len());
    for uri in uris {
        let Some((did, collection, rkey)) = parse(uri) else {
            return Err(Refusal::Bad(format!(
                "the recorded id `{uri}` is not the AT URI of a post (at://<did>/app.bsky.feed.post/<key>)"
            )));
        };
        if did != me.did {
            return Err(Refusal::Other(format!(
                "{uri} belongs to another account ({did}); crier is signed in as {} ({})",
                if me.handle.is_empty() { "?" } else { &me.handle },
                me.did
            )));
        }
        out.push((collection, rkey));
    }
    Ok(out)
}

enum Refusal {
    Bad(String),
    Other(String),
}

/// `crier delete`: `deleteRecord` for every part, the last part first.
pub async fn delete(client: &XrpcClient, uris: &[&str], progress: &dyn Fn(&str)) -> Result<Deletion, Failure> {
    let parts = match check(client, uris) {
        Ok(p) => p,
        Err(Refusal::Bad(m)) => return Err(Failure::new(m)),
        Err(Refusal::Other(m)) => {
            return Err(Failure::new(format!(
                "{m}: crier deletes only the signed-in account's posts (use that account's BLUESKY_IDENTIFIER and app password)"
            )));
        }
    };
    let n = parts.len();
    let mut done = Deletion::default();
    for (i, (collection, rkey)) in parts.iter().enumerate().rev() {
        if n > 1 {
            progress(&format!("deleting part {}/{n}", i + 1));
        }
        match client.delete_record(collection, rkey).await {
            Ok(true) => done.deleted += 1,
            Ok(false) => done.already_gone += 1,
            Err(e) => return Err(failure(e, done.deleted + done.already_gone)),
        }
    }
    Ok(done)
}

fn failure(e: XrpcError, gone: usize) -> Failure {
    let fatal = match &e {
        XrpcError::Auth { .. } => Some(
            "Bluesky deleting stopped for this run: the sign-in was refused (check BLUESKY_IDENTIFIER and BLUESKY_APP_PASSWORD)"
                .to_owned(),
        ),
        // Every later post would wait out the same limit.
        XrpcError::RateLimited { retry_after, .. } => Some(format!(
            "Bluesky's rate limit is reached: run `crier delete` again in {} s",
            retry_after.as_secs().max(1)
        )),
        _ => None,
    };
    Failure { message: e.to_string(), fatal, published_parts: gone }
}

/// `crier status --remote`: `getRecord` for every part. `sent` is each part's text as
/// sent (given while the file still renders to it).
pub async fn inspect(client: &XrpcClient, parts: &[Part<'_>], sent: Option<&[&str]>) -> Result<Remote, Failure> {
    let uris: Vec<&str> = parts.iter().map(|p| p.uri).collect();
    let keys = match check(client, &uris) {
        Ok(k) => k,
        Err(Refusal::Bad(m)) => return Ok(Remote::Unchecked(m)),
        Err(Refusal::Other(m)) => return Ok(Remote::OtherAccount(m)),
    };
    let n = parts.len();
    let mut gone: Vec<usize> = Vec::new();
    let mut edited: Vec<String> = Vec::new();
    for (i, ((collection, rkey), part)) in keys.iter().zip(parts).enumerate() {
        let label = if n > 1 { format!("part {}: ", i + 1) } else { String::new() };
        let Some(found) = client.get_record(collection, rkey).await.map_err(|e| failure(e, 0))? else {
            gone.push(i + 1);
            continue;
        };
        let text = found.value.get("text").and_then(serde_json::Value::as_str).unwrap_or("");
        match sent.and_then(|s| s.get(i)) {
            Some(want) if text != *want => edited.push(format!("{label}{}", differ(text, want))),
            _ => {
                if let (Some(want), Some(have)) = (part.cid, found.cid.as_deref()) {
                    if !want.is_empty() && want != have {
                        edited.push(format!(
                            "{label}the record was rewritten (content id {have}, recorded {want}): “{}”",
                            crate::difference::difference(text, "").0
                        ));
                    }
                }
            }
        }
    }
    Ok(Remote::found(n, &gone, &edited, &NOUNS))
}

/// Where two texts part, as short excerpts of both.
fn differ(found: &str, sent: &str) -> String {
    let (found, sent) = crate::difference::difference(found, sent);
    format!("Bluesky shows “{found}”, crier sent “{sent}”")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_uris() {
        assert_eq!(
            parse("at://did:plc:abc/app.bsky.feed.post/3kabc"),
            Some(("did:plc:abc", "app.bsky.feed.post", "3kabc"))
        );
        assert_eq!(parse("https://bsky.app/profile/x/post/y"), None);
        assert_eq!(parse("at://handle.test/app.bsky.feed.post/3k"), None);
        assert_eq!(parse("at://did:plc:abc/app.bsky.feed.post"), None);
        assert_eq!(parse("at://did:plc:abc/app.bsky.feed.post/a/b"), None);
    }
}
