//! dev.to connected for one publish run (nothing to look up: the key is checked by the
//! first call).

use std::time::Duration;

use secrecy::SecretString;
use tokio::sync::Mutex;

use super::DevtoOutput;
use super::delete::Articles;
use super::publish::{DevtoPublisher, PublishFailure, PublishOptions, WAITER};
use crate::ledger::Record;
use crate::platforms::countdown;
use crate::platforms::metrics::Engagement;
use crate::platforms::{Adoption, ConnectContext, Deletion, Failure, Job, Recorded, Remote, Session, rendered_as};

const DEFAULT_BASE_URL: &str = "https://dev.to/api";

/// A rate-limited account may be asked to wait 300 s between articles.
const MIN_TOTAL_WAIT: Duration = Duration::from_secs(360);

struct DevtoSession {
    publisher: Mutex<DevtoPublisher>,
    /// Shares the publisher's call counter.
    client: super::api::DevtoClient,
    /// Deleting and looking articles up (sharing the client, so its write spacing).
    articles: Articles,
}

pub(super) fn connect(cx: &ConnectContext<'_>) -> Box<dyn Session> {
    let key = SecretString::from(cx.env.get("DEVTO_API_KEY").unwrap_or_default().to_owned());
    let mut opts = PublishOptions::default();
    opts.client.max_total_wait = cx.http.max_total_wait.max(MIN_TOTAL_WAIT);
    opts.client.initial_delay = cx.http.initial_delay;
    opts.client.request_timeout = cx.http.request_timeout;
    opts.client.min_write_interval = Duration::from_millis(cx.project.config.publish.write_interval_ms);
    let base = cx.env.get("CRIER_DEVTO_API_URL").unwrap_or(DEFAULT_BASE_URL);
    let mut publisher = DevtoPublisher::new(base, key, opts);
    publisher.exclude(cx.recorded_ids.iter().cloned());
    let client = publisher.client().clone();
    let articles = Articles::new(client.clone());
    Box::new(DevtoSession { publisher: Mutex::new(publisher), client, articles })
}

fn failure(f: PublishFailure) -> Failure {
    Failure {
        message: f.message,
        fatal: f.fatal.then(|| "the dev.to API key was rejected (check DEVTO_API_KEY)".to_owned()),
        published_parts: 0,
    }
}

/// What every call on a post starts from: its rendering and the line that shows a wait.
fn begin<'a>(job: &'a Job<'_>) -> Result<(&'a DevtoOutput, impl Fn(Duration) + 'a), Failure> {
    Ok((rendered_as(job.rendered, "a dev.to")?, countdown(job.progress, WAITER)))
}

/// An article whose images have no public URL would show broken images: it is not sent
/// (as Threads media without one are not; `check` warns about both).
fn check_image_urls(out: &DevtoOutput) -> Result<(), Failure> {
    let mut missing: Vec<&str> = out.unresolved_images.iter().map(String::as_str).collect();
    missing.dedup();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Failure::new(format!(
        "no public URL for {}: set media.base_url in crier.yaml (dev.to shows images by URL), or publish from GitHub Actions",
        missing.join(", ")
    )))
}

#[async_trait::async_trait(?Send)]
impl Session for DevtoSession {
    async fn publish(&self, job: &Job<'_>) -> Result<Record, Failure> {
        let (out, wait) = begin(job)?;
        check_image_urls(out)?;
        self.publisher.lock().await.publish(out, job.hash, job.now, job.progress, &wait).await.map_err(failure)
    }

    async fn update(&self, job: &Job<'_>, previous: &Record) -> Result<Record, Failure> {
        let (out, wait) = begin(job)?;
        check_image_urls(out)?;
        self.publisher.lock().await.update(previous, out, job.hash, &wait).await.map_err(failure)
    }

    async fn adopt(&self, job: &Job<'_>, incomplete: Option<&Record>) -> Result<Adoption, Failure> {
        let (out, wait) = begin(job)?;
        self.publisher.lock().await.adopt(job, out, incomplete, &wait).await.map_err(failure)
    }

    async fn delete(&self, target: &Recorded<'_>) -> Result<Deletion, Failure> {
        self.articles.delete(target).await
    }

    async fn inspect(&self, target: &Recorded<'_>) -> Result<Remote, Failure> {
        self.articles.inspect(target).await
    }

    async fn stats(&self, targets: &[Recorded<'_>]) -> Result<Vec<Engagement>, Failure> {
        super::stats::read(&self.client, targets).await
    }

    fn calls(&self) -> u64 {
        self.client.calls()
    }
}
