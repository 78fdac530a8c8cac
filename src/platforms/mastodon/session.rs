//! Mastodon connected for one publish run: the instance, the token, and the
//! exactly-once publisher (which reads the instance's limits once).

use std::time::Duration;

use secrecy::SecretString;
use tokio::sync::Mutex;

use super::MastodonOutput;
use super::api::{Account, ClientOptions, MastodonClient};
use super::publish::{MastodonPublisher, Preparer, PublishFailure, PublishOptions, WAITER};
use super::remote;
use crate::ledger::Record;
use crate::platforms::countdown;
use crate::platforms::metrics::Engagement;
use crate::platforms::{
    Adoption, ConnectContext, Deletion, Failure, Job, Recorded, Remote, Session, downcast, rendered_as,
};

struct MastodonSession {
    publisher: Mutex<MastodonPublisher>,
    /// Uploads the media of coming posts beside publishing.
    preparer: Preparer,
    /// Shares the publisher's call counter.
    client: MastodonClient,
    /// The token's account, asked once (for `delete` and `inspect`).
    account: tokio::sync::OnceCell<Account>,
}

pub(super) async fn connect(cx: &ConnectContext<'_>) -> Result<Box<dyn Session>, Failure> {
    let fatal = |m: String| Failure { fatal: Some(m.clone()), ..Failure::new(m) };
    let instance = super::instance_url(cx.env, &cx.project.config).map_err(fatal)?;
    let token = cx.env.get("MASTODON_ACCESS_TOKEN").ok_or_else(|| fatal("MASTODON_ACCESS_TOKEN is not set".into()))?;
    let p = &cx.project.config.publish;
    let opts = PublishOptions {
        client: ClientOptions {
            max_total_wait: cx.http.max_total_wait,
            initial_delay: cx.http.initial_delay,
            request_timeout: cx.http.request_timeout,
            processing_timeout: Duration::from_secs(p.processing_timeout_secs),
            poll_interval: Duration::from_millis(p.poll_interval_ms.max(1)),
            ..ClientOptions::default()
        },
        ..PublishOptions::default()
    };
    let mut publisher = MastodonPublisher::new(instance, SecretString::from(token.to_owned()), opts);
    publisher.exclude(cx.recorded_ids.iter().cloned());
    let client = publisher.client().clone();
    let preparer = publisher.preparer();
    Ok(Box::new(MastodonSession {
        publisher: Mutex::new(publisher),
        preparer,
        client,
        account: tokio::sync::OnceCell::new(),
    }))
}

fn failure(f: PublishFailure) -> Failure {
    let fatal = f.fatal.then(|| {
        if f.message.contains("read:statuses") {
            "the Mastodon token cannot read the account's statuses (it needs `read:statuses`)".to_owned()
        } else {
            "the Mastodon instance rejected the token (check MASTODON_ACCESS_TOKEN and MASTODON_INSTANCE)".to_owned()
        }
    });
    Failure { message: f.message, fatal, published_parts: f.published_parts }
}

fn output<'a>(job: &'a Job<'_>) -> Result<&'a MastodonOutput, Failure> {
    rendered_as(job.rendered, "a Mastodon")
}

/// What every call on a post starts from: its rendering and the line that shows a wait.
fn begin<'a>(job: &'a Job<'_>) -> Result<(&'a MastodonOutput, impl Fn(Duration) + 'a), Failure> {
    Ok((output(job)?, countdown(job.progress, WAITER)))
}

#[async_trait::async_trait(?Send)]
impl Session for MastodonSession {
    async fn prepare(&self, job: &Job<'_>) {
        if let Ok(out) = output(job) {
            self.preparer.prepare(out).await;
        }
    }

    async fn publish(&self, job: &Job<'_>) -> Result<Record, Failure> {
        let (out, wait) = begin(job)?;
        let result = {
            let mut publisher = self.publisher.lock().await;
            publisher.publish(job.post, out, job.hash, job.now, job.progress, &wait).await.map_err(failure)
        };
        // Every create of this post went out (the record comes back with it): the next
        // post may start while this one's record is written.
        (job.ordered_done)();
        result
    }

    async fn update(&self, job: &Job<'_>, previous: &Record) -> Result<Record, Failure> {
        let (out, wait) = begin(job)?;
        self.publisher
            .lock()
            .await
            .update(job.post, out, previous, job.hash, job.progress, &wait)
            .await
            .map_err(failure)
    }

    async fn adopt(&self, job: &Job<'_>, incomplete: Option<&Record>) -> Result<Adoption, Failure> {
        let (out, wait) = begin(job)?;
        self.publisher.lock().await.adopt(out, job.hash, job.now, incomplete, &wait).await.map_err(failure)
    }

    async fn delete(&self, target: &Recorded<'_>) -> Result<Deletion, Failure> {
        let wait = countdown(target.progress, WAITER);
        let me = self.account(&wait).await?;
        remote::delete(&self.client, me, &target.part_ids(), target.progress, &wait).await
    }

    async fn inspect(&self, target: &Recorded<'_>) -> Result<Remote, Failure> {
        let wait = countdown(target.progress, WAITER);
        let me = self.account(&wait).await?;
        let sent = target.rendered.and_then(downcast::<MastodonOutput>);
        remote::inspect(&self.client, me, &target.part_ids(), sent, &wait).await
    }

    async fn stats(&self, targets: &[Recorded<'_>]) -> Result<Vec<Engagement>, Failure> {
        super::stats::read(&self.client, targets).await
    }

    fn calls(&self) -> u64 {
        self.client.calls()
    }
}

impl MastodonSession {
    /// The token's account (`verify_credentials`, once per run).
    async fn account(&self, wait: &dyn Fn(Duration)) -> Result<&Account, Failure> {
        self.account.get_or_try_init(|| self.client.verify_credentials(wait)).await.map_err(|e| failure(e.into()))
    }
}
