//! Threads connected for one publish run: the user, the quota, and the publisher.

use std::time::Duration;

use secrecy::SecretString;
use tokio::sync::Mutex;

use super::ThreadsOutput;
use super::api::DEFAULT_BASE_URL;
use super::delete::Account;
use super::publish::{PublishOptions, ThreadsPublisher};
use crate::ledger::Record;
use crate::platforms::metrics::Engagement;
use crate::platforms::{
    Adoption, Budget, ConnectContext, Deletion, Failure, Job, Recorded, Remote, Session, rendered_as,
};

/// Threads allows this many posts per 24 hours (replies included).
const QUOTA_NOTE: &str = "the Threads publishing quota (250 posts per 24 hours) is used up; next run";

pub(super) struct ThreadsSession {
    publisher: Mutex<ThreadsPublisher>,
    /// Posts and replies left in the quota.
    remaining: (u64, u64),
    /// A copy of the client for work beside publishing (preparing containers).
    prepared: super::publish::Prepared,
    /// The same client, for deleting and looking posts up.
    account: Account,
}

pub(super) async fn connect(cx: &ConnectContext<'_>) -> Result<Box<dyn Session>, Failure> {
    let token = cx.env.get("THREADS_ACCESS_TOKEN").ok_or_else(|| Failure::new("THREADS_ACCESS_TOKEN is not set"))?;
    let p = &cx.project.config.publish;
    let opts = PublishOptions {
        retry: cx.http,
        max_processing: Duration::from_secs(p.processing_timeout_secs),
        poll_interval: Duration::from_millis(p.poll_interval_ms.max(1)),
        reconcile_pages: 5,
    };
    let base = cx.env.get("CRIER_THREADS_API_URL").unwrap_or(DEFAULT_BASE_URL);
    let mut publisher = ThreadsPublisher::connect(
        base,
        SecretString::from(token.to_owned()),
        cx.env.get("THREADS_USER_ID"),
        cx.env.get("THREADS_USERNAME"),
        opts,
    )
    .await
    .map_err(|e| connect_failure(&e, 0))?;
    publisher.exclude(cx.recorded_ids.iter().cloned());
    let remaining = publisher
        .remaining_quota()
        .await
        .map_err(|e| Failure::new(format!("cannot read the publishing quota: {e}")))?;
    let prepared = publisher.prepared();
    let (client, user, username) = publisher.account();
    let account = Account { client, user, username };
    Ok(Box::new(ThreadsSession { publisher: Mutex::new(publisher), remaining, prepared, account }))
}

fn connect_failure(e: &super::api::ThreadsError, published_parts: usize) -> Failure {
    Failure {
        message: e.to_string(),
        fatal: e
            .is_fatal()
            .then(|| "the run stopped: the Threads token was rejected (run `crier auth refresh`)".to_owned()),
        published_parts,
    }
}

fn output<'a>(job: &'a Job<'_>) -> Result<&'a ThreadsOutput, Failure> {
    rendered_as(job.rendered, "a Threads")
}

/// Local media need a public URL: Threads fetches media by URL.
fn check_media_urls(out: &ThreadsOutput) -> Result<(), Failure> {
    let missing: Vec<&str> =
        out.parts.iter().flat_map(|p| &p.media).filter(|m| m.url.is_none()).filter_map(|m| m.path.as_deref()).collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Failure::new(format!(
        "no public URL for {}: set media.base_url in crier.yaml (Threads fetches media by URL), or publish from GitHub Actions",
        missing.join(", ")
    )))
}

#[async_trait::async_trait(?Send)]
impl Session for ThreadsSession {
    fn budget(&self) -> Option<Budget> {
        let (remaining, replies) = self.remaining;
        Some(Budget { remaining, exhausted: QUOTA_NOTE.to_owned(), replies: Some(replies) })
    }

    async fn prepare(&self, job: &Job<'_>) {
        let Ok(out) = output(job) else { return };
        if check_media_urls(out).is_ok() {
            self.prepared.prepare(job.post, out).await;
        }
    }

    async fn publish(&self, job: &Job<'_>) -> Result<Record, Failure> {
        let out = output(job)?;
        check_media_urls(out)?;
        let convert = |f: super::publish::PostFailure| Failure {
            message: f.message,
            fatal: f
                .fatal
                .then(|| "the run stopped: the Threads token was rejected (run `crier auth refresh`)".to_owned()),
            published_parts: f.published_parts,
        };
        let (parts, finisher) = {
            let mut publisher = self.publisher.lock().await;
            let parts = publisher.publish_parts(job.post, out, job.progress).await.map_err(convert)?;
            (parts, publisher.finisher())
        };
        // Every publish call of this post went out: the next post may start.
        (job.ordered_done)();
        finisher.finish(parts, job.hash, job.now).await.map_err(convert)
    }

    async fn adopt(&self, job: &Job<'_>, incomplete: Option<&Record>) -> Result<Adoption, Failure> {
        let out = output(job)?;
        let mut publisher = self.publisher.lock().await;
        publisher.adopt(out, job.hash, job.now, incomplete).await.map_err(|f| Failure {
            message: f.message,
            fatal: f
                .fatal
                .then(|| "the run stopped: the Threads token was rejected (run `crier auth refresh`)".to_owned()),
            published_parts: 0,
        })
    }

    async fn delete_budget(&self) -> Result<Option<Budget>, Failure> {
        self.account.delete_budget().await.map(Some)
    }

    async fn delete(&self, target: &Recorded<'_>) -> Result<Deletion, Failure> {
        self.account.delete(target).await
    }

    async fn inspect(&self, target: &Recorded<'_>) -> Result<Remote, Failure> {
        self.account.inspect(target).await
    }

    async fn stats(&self, targets: &[Recorded<'_>]) -> Result<Vec<Engagement>, Failure> {
        super::stats::read(&self.account.client, targets).await
    }

    fn calls(&self) -> u64 {
        self.prepared.calls()
    }
}
