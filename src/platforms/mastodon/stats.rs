//! `crier stats` on Mastodon: `GET /api/v1/statuses?id[]=…`, 20 ids a call (Mastodon
//! 4.3+); servers without it (older Mastodon, GoToSocial) are asked status by status.

use std::collections::HashMap;

use futures_util::stream::{self, StreamExt};

use super::api::{GET_STATUSES_MAX, MastodonClient, MastodonError, Status};
use crate::platforms::metrics::{Engagement, Metric, Metrics, by_part};
use crate::platforms::{Failure, Recorded};

/// Calls in flight at once.
const IN_FLIGHT: usize = 4;

pub(super) async fn read(client: &MastodonClient, targets: &[Recorded<'_>]) -> Result<Vec<Engagement>, Failure> {
    let ids: Vec<&str> = targets.iter().flat_map(Recorded::part_ids).collect();
    let on_wait = |_| {};
    let mut found: HashMap<String, Metrics> = HashMap::new();
    let batches: Vec<Result<Vec<Status>, MastodonError>> = stream::iter(ids.chunks(GET_STATUSES_MAX))
        .map(|chunk| client.get_statuses(chunk, &on_wait))
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    if batches.iter().any(|b| matches!(b, Err(e) if unsupported(e))) {
        // No batch read on this server: one status at a time.
        let singles: Vec<Result<Status, MastodonError>> = stream::iter(ids.iter().copied())
            .map(|id| client.get_status(id, &on_wait))
            .buffered(IN_FLIGHT)
            .collect()
            .await;
        for r in singles {
            match r {
                Ok(s) => {
                    found.insert(s.id.clone(), metrics(&s));
                }
                // Gone: left out, as the batch read leaves it out.
                Err(e) if e.status() == Some(404) => {}
                Err(e) => return Err(failure(&e)),
            }
        }
    } else {
        for b in batches {
            for s in b.map_err(|e| failure(&e))? {
                found.insert(s.id.clone(), metrics(&s));
            }
        }
    }
    Ok(by_part(targets, &found, |id| format!("status {id} is no longer on the instance")))
}

/// The server has no `GET /api/v1/statuses` (before Mastodon 4.3).
fn unsupported(e: &MastodonError) -> bool {
    matches!(e.status(), Some(404 | 405 | 501))
}

fn failure(e: &MastodonError) -> Failure {
    let fix = match e.status() {
        Some(401) => "; check MASTODON_ACCESS_TOKEN and MASTODON_INSTANCE",
        Some(403) => "; the token needs the `read:statuses` scope (`crier auth mastodon`)",
        _ => "",
    };
    Failure::new(format!("{e}{fix}"))
}

/// Favourites are likes, reblogs reposts; Mastodon reports no views, shares or bookmarks.
fn metrics(s: &Status) -> Metrics {
    Metrics::default()
        .with(Metric::Likes, s.favourites_count)
        .with(Metric::Reposts, s.reblogs_count)
        .with(Metric::Replies, s.replies_count)
        .with(Metric::Quotes, s.quotes_count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_counts_become_metrics() {
        let cases = [
            (
                r#"{"id":"1","favourites_count":4,"reblogs_count":1,"replies_count":0}"#,
                r#"{"likes":4,"replies":0,"reposts":1}"#,
            ),
            (r#"{"id":"2","favourites_count":0,"quotes_count":3}"#, r#"{"likes":0,"quotes":3}"#),
        ];
        for (status, want) in cases {
            let s: Status = serde_json::from_str(status).unwrap();
            assert_eq!(metrics(&s).to_json().to_string(), want);
        }
    }
}
