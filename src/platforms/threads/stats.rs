//! `crier stats` on Threads: the insights of every part (Threads has no batch read, so
//! one call per part, several in flight).

use futures_util::stream::{self, StreamExt};

use super::api::{MediaId, ThreadsClient};
use crate::platforms::metrics::{Engagement, Metric, Metrics};
use crate::platforms::{Failure, Recorded};

/// The metrics asked for; Threads reports no bookmarks.
const METRICS: &str = "views,likes,replies,reposts,quotes,shares";
/// Insight calls in flight at once.
const IN_FLIGHT: usize = 8;

pub(super) async fn read(client: &ThreadsClient, targets: &[Recorded<'_>]) -> Result<Vec<Engagement>, Failure> {
    let parts: Vec<(usize, String)> = targets
        .iter()
        .enumerate()
        .flat_map(|(i, t)| t.part_ids().into_iter().map(move |id| (i, id.to_owned())))
        .collect();
    let results: Vec<(usize, Result<Metrics, super::api::ThreadsError>)> = stream::iter(parts)
        .map(|(i, id)| async move { (i, client.insights(&MediaId(id), METRICS).await.map(|pairs| metrics(&pairs))) })
        .buffered(IN_FLIGHT)
        .collect()
        .await;
    let mut out: Vec<Engagement> = vec![Ok(Vec::new()); targets.len()];
    for (i, r) in results {
        match r {
            Ok(m) => {
                if let Ok(list) = &mut out[i] {
                    list.push(m);
                }
            }
            Err(e) if e.is_permission() => {
                return Err(Failure::new(format!(
                    "the token lacks the `threads_manage_insights` permission ({e}); run `crier auth threads` again to grant it"
                )));
            }
            Err(e) if e.is_fatal() => {
                return Err(Failure::new(format!("the token was rejected ({e}); run `crier auth refresh`")));
            }
            Err(e) if e.is_not_found() => out[i] = Err("the post is no longer on Threads".to_owned()),
            Err(e) => out[i] = Err(e.to_string()),
        }
    }
    Ok(out)
}

fn metrics(pairs: &[(String, u64)]) -> Metrics {
    pairs.iter().fold(Metrics::default(), |m, (name, n)| match Metric::parse(name) {
        Some(k) => m.with(k, Some(*n)),
        None => m,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insights_become_metrics_and_unknown_names_are_ignored() {
        let pairs = [("views".to_owned(), 120), ("likes".to_owned(), 4), ("clicks".to_owned(), 9)];
        let m = metrics(&pairs);
        assert_eq!(m.get(Metric::Views), Some(120));
        assert_eq!(m.get(Metric::Likes), Some(4));
        assert_eq!(m.get(Metric::Bookmarks), None);
        assert_eq!(m.to_json().as_object().map(|o| o.len()), Some(2));
    }
}
