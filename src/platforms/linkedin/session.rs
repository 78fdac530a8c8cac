//! LinkedIn connected for one run. Connecting sends nothing: the author is looked up on the
//! first publish, so `delete`, `status --remote` and `stats` cost no extra call.

use secrecy::SecretString;

use super::LinkedinOutput;
use super::api::{ClientOptions, DEFAULT_BASE_URL, LinkedinClient, RENEW_HINT};
use super::doctor::{Expiry, KEY_EXPIRES_AT, expiry_warning};
use super::options::LinkedinConfig;
use super::publish::{LinkedinPublisher, WAITER, post_url};
use crate::ledger::Record;
use crate::platforms::metrics::Engagement;
use crate::platforms::{
    Adoption, ConnectContext, Deletion, Failure, Job, Recorded, Remote, Session, countdown, rendered_as,
};

/// Why `status --remote` and `stats` cannot read LinkedIn posts.
pub(super) const UNREADABLE: &str = "LinkedIn lets only approved partners read posts back (the restricted permissions `r_member_social` and `r_member_postAnalytics`); a member token with `w_member_social` can publish, edit and delete, but cannot see a post or its numbers";

struct LinkedinSession {
    publisher: LinkedinPublisher,
    /// LINKEDIN_TOKEN_EXPIRES_AT, checked on the first publish of the run.
    expires_at: Option<String>,
    warned: std::cell::Cell<bool>,
}

pub(super) fn connect(cx: &ConnectContext<'_>) -> Result<Box<dyn Session>, Failure> {
    let Some(token) = cx.env.get("LINKEDIN_ACCESS_TOKEN").filter(|t| !t.trim().is_empty()) else {
        let m = "LINKEDIN_ACCESS_TOKEN is not set".to_owned();
        return Err(Failure { fatal: Some(m.clone()), ..Failure::new(m) });
    };
    // LinkedIn's limits are per day (reset at 00:00 UTC), not per second: writes are not spaced.
    let opts: ClientOptions = cx.http;
    let base = cx.env.get("CRIER_LINKEDIN_API_URL").unwrap_or(DEFAULT_BASE_URL);
    let version = cx.project.config.sections.get_or_default::<LinkedinConfig>().version.clone();
    let client = LinkedinClient::new(base, &SecretString::from(token.trim().to_owned()), &version, opts);
    let publisher = LinkedinPublisher::new(client, &cx.project.root, cx.recorded_ids.clone(), cx.http.request_timeout);
    let expires_at = cx.env.get(KEY_EXPIRES_AT).map(str::to_owned);
    Ok(Box::new(LinkedinSession { publisher, expires_at, warned: std::cell::Cell::new(false) }))
}

impl LinkedinSession {
    /// Once per run: the token ends within 14 days (LinkedIn gives no refresh token).
    fn warn_expiry(&self, job: &Job<'_>) {
        if self.warned.replace(true) {
            return;
        }
        let now =
            chrono::DateTime::parse_from_rfc3339(job.now).map(|t| t.to_utc()).unwrap_or_else(|_| chrono::Utc::now());
        let warning = match expiry_warning(self.expires_at.as_deref(), now) {
            Expiry::Soon(m) => m,
            Expiry::Expired(date) => format!("the LinkedIn token expired on {date}"),
            _ => return,
        };
        (job.progress)(&format!("warning: {warning}; {RENEW_HINT}"));
    }
}

#[async_trait::async_trait(?Send)]
impl Session for LinkedinSession {
    async fn publish(&self, job: &Job<'_>) -> Result<Record, Failure> {
        let out: &LinkedinOutput = rendered_as(job.rendered, "a LinkedIn")?;
        self.warn_expiry(job);
        let wait = countdown(job.progress, WAITER);
        let result = self.publisher.publish(job, out, &wait).await;
        (job.ordered_done)();
        result
    }

    async fn update(&self, job: &Job<'_>, previous: &Record) -> Result<Record, Failure> {
        let out: &LinkedinOutput = rendered_as(job.rendered, "a LinkedIn")?;
        let wait = countdown(job.progress, WAITER);
        self.publisher.update(job, out, previous, &wait).await
    }

    /// LinkedIn cannot be searched: only a post named by its URN (`crier adopt --id`) is
    /// recorded, as given (a member token cannot read it back to check).
    async fn adopt(&self, job: &Job<'_>, incomplete: Option<&Record>) -> Result<Adoption, Failure> {
        let Some(given) = incomplete.map(|r| r.id.trim()).filter(|id| !id.is_empty()) else {
            return Ok(Adoption::Unsupported);
        };
        if !given.starts_with("urn:li:") {
            return Err(Failure::new(format!(
                "`{given}` is not a LinkedIn post URN: it looks like urn:li:share:7240000000000000000 (the part of the post's link after /feed/update/)"
            )));
        }
        Ok(Adoption::Found(Record {
            relays: Vec::new(),
            d: None,
            id: given.to_owned(),
            url: post_url(given),
            cid: None,
            published_at: job.now.to_owned(),
            hash: job.hash.to_owned(),
            parts: Vec::new(),
            deleted_at: None,
        }))
    }

    async fn delete(&self, target: &Recorded<'_>) -> Result<Deletion, Failure> {
        let wait = countdown(target.progress, WAITER);
        self.publisher.delete(&target.record.id, &wait).await
    }

    async fn inspect(&self, _target: &Recorded<'_>) -> Result<Remote, Failure> {
        Ok(Remote::Unchecked(format!("unavailable: {UNREADABLE}")))
    }

    async fn stats(&self, _targets: &[Recorded<'_>]) -> Result<Vec<Engagement>, Failure> {
        Err(Failure::new(UNREADABLE))
    }

    fn calls(&self) -> u64 {
        self.publisher.client().calls()
    }

    fn misconfigured(&self) -> Option<String> {
        self.publisher.misconfigured()
    }
}
