//! `crier stats` on Bluesky: `app.bsky.feed.getPosts`, 25 URIs a call, every part of
//! every post; the batches go out a few at a time.

use std::collections::HashMap;

use futures_util::stream::{self, StreamExt};
use serde_json::Value;

use super::xrpc::{GET_POSTS_MAX, XrpcClient};
use crate::platforms::metrics::{Engagement, Metric, Metrics, by_part};
use crate::platforms::{Failure, Recorded};

/// Batches in flight at once.
const IN_FLIGHT: usize = 4;

pub(super) async fn read(client: &XrpcClient, targets: &[Recorded<'_>]) -> Result<Vec<Engagement>, Failure> {
    let uris: Vec<&str> = targets.iter().flat_map(Recorded::part_ids).collect();
    let batches: Vec<Result<Vec<Value>, _>> = stream::iter(uris.chunks(GET_POSTS_MAX))
        .map(|chunk| client.get_posts(chunk))
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let mut found: HashMap<String, Metrics> = HashMap::new();
    for batch in batches {
        let views = batch.map_err(|e| {
            let fix = if e.is_fatal() { " (check BLUESKY_IDENTIFIER and BLUESKY_APP_PASSWORD)" } else { "" };
            Failure::new(format!("{e}{fix}"))
        })?;
        for v in views {
            if let Some(uri) = v.get("uri").and_then(Value::as_str) {
                found.insert(uri.to_owned(), metrics(&v));
            }
        }
    }
    Ok(by_part(targets, &found, |id| format!("{id} is no longer on Bluesky")))
}

/// A `postView`'s counts; Bluesky reports no views or shares.
fn metrics(view: &Value) -> Metrics {
    let n = |k: &str| view.get(k).and_then(Value::as_u64);
    Metrics::default()
        .with(Metric::Likes, n("likeCount"))
        .with(Metric::Reposts, n("repostCount"))
        .with(Metric::Replies, n("replyCount"))
        .with(Metric::Quotes, n("quoteCount"))
        .with(Metric::Bookmarks, n("bookmarkCount"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn post_views_become_metrics() {
        let cases = [
            (json!({"likeCount": 3, "repostCount": 1, "replyCount": 0}), r#"{"likes":3,"replies":0,"reposts":1}"#),
            (json!({"likeCount": 0, "quoteCount": 2, "bookmarkCount": 5}), r#"{"bookmarks":5,"likes":0,"quotes":2}"#),
            (json!({}), "{}"),
        ];
        for (view, want) in cases {
            assert_eq!(metrics(&view).to_json().to_string(), want);
        }
    }
}
