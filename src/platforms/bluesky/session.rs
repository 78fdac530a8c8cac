//! Bluesky connected for one publish run: one sign-in, then the publisher.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use tokio::sync::Mutex;

use super::BlueskyConfig;
use super::publish::{self, BlueskyPublisher, PublishFailure, PublishOptions};
use super::remote::{self, Part};
use super::xrpc::{ClientOptions, XrpcClient};
use super::{BlueskyOutput, DEFAULT_SERVICE, tid};
use crate::ledger::{PartRecord, Record};
use crate::platforms::metrics::Engagement;
use crate::platforms::{ConnectContext, Deletion, Failure, Job, Recorded, Remote, Session, downcast, rendered_as};

const FATAL: &str = "Bluesky publishing stopped for this run: the sign-in was refused (check BLUESKY_IDENTIFIER and BLUESKY_APP_PASSWORD)";

struct BlueskySession {
    publisher: Mutex<BlueskyPublisher>,
    /// Shares the publisher's call counter.
    client: XrpcClient,
    root: PathBuf,
}

pub(super) async fn connect(cx: &ConnectContext<'_>) -> Result<Box<dyn Session>, Failure> {
    let identifier = cx.env.get("BLUESKY_IDENTIFIER").ok_or_else(|| Failure::new("BLUESKY_IDENTIFIER is not set"))?;
    let password = cx.env.get("BLUESKY_APP_PASSWORD").ok_or_else(|| Failure::new("BLUESKY_APP_PASSWORD is not set"))?;
    let service = cx.env.get("CRIER_BLUESKY_URL").unwrap_or(DEFAULT_SERVICE);
    let opts = PublishOptions {
        client: ClientOptions {
            request_timeout: cx.http.request_timeout,
            max_total_wait: cx.http.max_total_wait,
            initial_delay: cx.http.initial_delay,
            ..ClientOptions::default()
        },
        max_image_bytes: cx.project.config.sections.get_or_default::<BlueskyConfig>().max_image_bytes,
        card_timeout: cx.http.request_timeout.min(Duration::from_secs(10)),
    };
    let mut publisher = BlueskyPublisher::connect(service, identifier, &SecretString::from(password.to_owned()), opts)
        .await
        .map_err(failure)?;
    publisher.exclude(cx.recorded_ids.iter().cloned());
    let client = publisher.client().clone();
    Ok(Box::new(BlueskySession { publisher: Mutex::new(publisher), client, root: cx.project.root.clone() }))
}

fn failure(f: PublishFailure) -> Failure {
    Failure { message: f.message, fatal: f.fatal.then(|| FATAL.to_owned()), published_parts: f.published_parts }
}

#[async_trait::async_trait(?Send)]
impl Session for BlueskySession {
    async fn publish(&self, job: &Job<'_>) -> Result<Record, Failure> {
        let out = rendered_as::<BlueskyOutput>(job.rendered, "a Bluesky")?;
        let publish_at = job.post.front.publish_at.as_ref().map(|p| p.value.as_str());
        let (anchor, _) = tid::anchor(&self.root, &job.post.path, publish_at);
        let pjob =
            publish::Job { out, path: &job.post.path, anchor, hash: job.hash, now: job.now, progress: job.progress };
        let rec = self.publisher.lock().await.publish(&pjob).await.map_err(failure)?;
        // Every write of this post is done: the next post may go while this record is saved.
        (job.ordered_done)();
        Ok(Record {
            relays: Vec::new(),
            d: None,
            id: rec.id,
            url: rec.url,
            cid: Some(rec.cid),
            published_at: rec.published_at,
            hash: rec.hash,
            parts: rec.parts.into_iter().map(|p| PartRecord { id: p.id, url: p.url, cid: Some(p.cid) }).collect(),
            deleted_at: None,
        })
    }

    async fn delete(&self, target: &Recorded<'_>) -> Result<Deletion, Failure> {
        remote::delete(&self.client, &target.part_ids(), target.progress).await
    }

    async fn inspect(&self, target: &Recorded<'_>) -> Result<Remote, Failure> {
        let r = target.record;
        let parts: Vec<Part<'_>> = if r.parts.is_empty() {
            vec![Part { uri: &r.id, cid: r.cid.as_deref() }]
        } else {
            r.parts.iter().map(|p| Part { uri: &p.id, cid: p.cid.as_deref() }).collect()
        };
        let sent: Option<Vec<&str>> = target
            .rendered
            .and_then(downcast::<BlueskyOutput>)
            .map(|out| out.parts.iter().map(|p| p.text.as_str()).collect());
        remote::inspect(&self.client, &parts, sent.as_deref()).await
    }

    async fn stats(&self, targets: &[Recorded<'_>]) -> Result<Vec<Engagement>, Failure> {
        super::stats::read(&self.client, targets).await
    }

    fn calls(&self) -> u64 {
        self.client.calls()
    }
}
