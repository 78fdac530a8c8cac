//! `crier stats` on dev.to: one list of the account's articles (`/articles/me/all`, 1,000
//! a page) answers for every post; only that list carries page views.

use std::collections::HashMap;

use super::api::{Article, DevtoClient, MAX_PER_PAGE};
use crate::platforms::metrics::{Engagement, Metric, Metrics, by_part};
use crate::platforms::{Failure, Recorded};

/// Pages read at most (10,000 articles).
const MAX_PAGES: u32 = 10;

pub(super) async fn read(client: &DevtoClient, targets: &[Recorded<'_>]) -> Result<Vec<Engagement>, Failure> {
    let on_wait = |_| {};
    let articles = client.list_all_my_articles(MAX_PER_PAGE, MAX_PAGES, &on_wait).await.map_err(|e| {
        let fix = if e.is_fatal() { "; check DEVTO_API_KEY" } else { "" };
        Failure::new(format!("{e}{fix}"))
    })?;
    let by_id: HashMap<String, Metrics> = articles.iter().map(|a| (a.id_string(), metrics(a))).collect();
    Ok(by_part(targets, &by_id, |id| format!("article {id} is not among the account's articles")))
}

/// Reactions are likes, comments replies; dev.to reports no reposts, quotes or shares.
fn metrics(a: &Article) -> Metrics {
    Metrics::default()
        .with(Metric::Views, a.page_views_count)
        .with(Metric::Likes, a.public_reactions_count)
        .with(Metric::Replies, a.comments_count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_items_become_metrics() {
        let cases = [
            (
                r#"{"id":1,"title":"t","url":"u","page_views_count":40,"public_reactions_count":2,"comments_count":1}"#,
                r#"{"likes":2,"replies":1,"views":40}"#,
            ),
            (r#"{"id":2,"title":"t","url":"u","public_reactions_count":0}"#, r#"{"likes":0}"#),
        ];
        for (item, want) in cases {
            let a: Article = serde_json::from_str(item).unwrap();
            assert_eq!(metrics(&a).to_json().to_string(), want);
        }
    }
}
