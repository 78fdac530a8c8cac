//! Client for the Mastodon client API (Mastodon 4.x, and servers that speak it
//! such as GoToSocial).
//!
//! What a publisher needs: the instance's limits (`GET /api/v2/instance`), who
//! the token belongs to (`GET /api/v1/accounts/verify_credentials`), media
//! uploads with alt text (`POST /api/v2/media`, polling `GET /api/v1/media/:id`
//! while the server processes it: 206 means not yet), statuses (`POST
//! /api/v1/statuses` with an `Idempotency-Key`, `GET`/`PUT`/`DELETE
//! /api/v1/statuses/:id`, `GET /api/v1/statuses/:id/source`) and the account's own statuses, newest first, paged
//! with `max_id` (`GET /api/v1/accounts/:id/statuses`).
//!
//! Errors are `{"error": "...", "error_description"?: "..."}` and are sorted
//! into a [`MastodonError`] the caller can act on. Retries are bounded by
//! [`ClientOptions::max_total_wait`]:
//! - 429 means refused (rate limited before the request was handled), so any
//!   call waits until `X-RateLimit-Reset` (an ISO 8601 time; `Retry-After`
//!   seconds when given) and tries again;
//! - reads, edits and uploads retry 5xx replies, timeouts and dropped
//!   connections with exponential backoff and jitter (an upload whose reply
//!   was lost only leaves an unattached file, which the server cleans up);
//! - a status create whose reply is lost after sending is
//!   [`MastodonError::Ambiguous`]: the caller reconciles against the account's
//!   statuses instead of posting again.
//!
//! The token travels only in a header marked sensitive; it is never in an
//! error message or `Debug` output, and any occurrence of it in a server
//! message is replaced with `[REDACTED]`. Retries, waits, redaction and
//! descriptions of failures come from the shared [`crate::platforms::http`].

use reqwest::header::AUTHORIZATION;
use reqwest::{Method, multipart};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_with::skip_serializing_none;
use url::Url;

use super::rules::{LimitSource, Limits};
use crate::platforms::http::{self, Class, Classifier, Failure, HttpClient, Request, Safety, Verdict};
pub use crate::platforms::http::{HttpOptions as ClientOptions, OnWait};

/// `GET /api/v1/statuses` takes at most this many `id[]` (Mastodon's page size).
pub const GET_STATUSES_MAX: usize = 20;

/// The scopes crier's token needs: posting, editing and deleting, uploading, knowing
/// its account, and reading its own statuses (to find what an interrupted run posted,
/// to compare before an edit, and for `crier delete` and `crier status --remote`,
/// which look statuses and their source text up).
pub const SCOPES: &str = "write:statuses write:media read:accounts read:statuses";

/// Largest `limit` of the account statuses list.
pub const MAX_PAGE: u32 = 40;

pub type Result<T, E = MastodonError> = std::result::Result<T, E>;

http::rest_error! {
    /// Failures of a Mastodon call, sorted by what the caller should do about them.
    pub enum MastodonError for "Mastodon" {
        reply_from: "the Mastodon instance",
        may_exist: "status",
        unauthorized: ("the Mastodon instance rejected the access token (HTTP 401: {message}); check MASTODON_ACCESS_TOKEN"),
        rejected: ("the Mastodon instance rejected the request (HTTP {status}): {message}"),
        rate_limited: ("Mastodon rate limit reached (HTTP 429: {message}); try again in {} s", .as_secs()),
        /// An upload the server could not process, or did not finish in time.
        #[error("media processing failed: {message}")]
        Processing { message: String },
    }
}

/// `GET /api/v2/instance`, the parts crier reads.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Instance {
    pub domain: String,
    pub title: String,
    pub version: String,
    pub configuration: InstanceConfiguration,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct InstanceConfiguration {
    pub statuses: StatusLimits,
    pub media_attachments: MediaLimits,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct StatusLimits {
    pub max_characters: Option<u64>,
    pub max_media_attachments: Option<u64>,
    pub characters_reserved_per_url: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct MediaLimits {
    pub supported_mime_types: Option<Vec<String>>,
    pub image_size_limit: Option<u64>,
    pub image_matrix_limit: Option<u64>,
    pub video_size_limit: Option<u64>,
    pub description_limit: Option<u64>,
}

impl Instance {
    /// The instance's limits; a number it leaves out keeps Mastodon's default.
    pub fn limits(&self, host: &str) -> Limits {
        let d = Limits::default();
        let s = &self.configuration.statuses;
        let m = &self.configuration.media_attachments;
        let n = |v: Option<u64>, default: usize| v.map_or(default, |v| usize::try_from(v).unwrap_or(usize::MAX));
        Limits {
            max_characters: n(s.max_characters, d.max_characters),
            max_media_attachments: n(s.max_media_attachments, d.max_media_attachments),
            characters_reserved_per_url: n(s.characters_reserved_per_url, d.characters_reserved_per_url),
            image_size_limit: m.image_size_limit.unwrap_or(d.image_size_limit),
            image_matrix_limit: m.image_matrix_limit.unwrap_or(d.image_matrix_limit),
            video_size_limit: m.video_size_limit.unwrap_or(d.video_size_limit),
            description_limit: n(m.description_limit, d.description_limit),
            supported_mime_types: m.supported_mime_types.clone().filter(|l| !l.is_empty()),
            source: LimitSource::Instance(host.to_owned()),
        }
    }
}

/// An account (`verify_credentials`).
#[derive(Debug, Clone, Deserialize)]
pub struct Account {
    pub id: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub acct: String,
    pub url: Option<String>,
}

/// A media attachment.
#[derive(Debug, Clone, Deserialize)]
pub struct Attachment {
    pub id: String,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// `null` while the server is still processing.
    pub url: Option<String>,
    pub description: Option<String>,
}

/// A status, the fields crier uses.
#[derive(Debug, Clone, Deserialize)]
pub struct Status {
    pub id: String,
    #[serde(default)]
    pub uri: String,
    /// The HTML page; nullable.
    pub url: Option<String>,
    #[serde(default)]
    pub created_at: String,
    /// HTML.
    #[serde(default)]
    pub content: String,
    #[serde(default)]
    pub spoiler_text: String,
    pub in_reply_to_id: Option<String>,
    #[serde(default)]
    pub visibility: String,
    #[serde(default)]
    pub media_attachments: Vec<Attachment>,
    pub reblog: Option<Value>,
    pub edited_at: Option<String>,
    #[serde(default)]
    pub sensitive: bool,
    pub language: Option<String>,
    /// Whose status it is.
    pub account: Option<Account>,
    /// Counts as the home instance sees them (`crier stats`); `quotes_count` is 4.5+.
    pub replies_count: Option<u64>,
    pub reblogs_count: Option<u64>,
    pub favourites_count: Option<u64>,
    pub quotes_count: Option<u64>,
}

/// `GET /api/v1/statuses/:id/source`: the plain text the status was made from.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct StatusSource {
    pub text: String,
    pub spoiler_text: String,
}

impl Status {
    /// The status's page: `url`, else its `uri`.
    pub fn link(&self) -> String {
        self.url.clone().filter(|u| !u.is_empty()).unwrap_or_else(|| self.uri.clone())
    }
}

/// The body of `POST /api/v1/statuses`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NewStatus {
    pub status: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub media_ids: Vec<String>,
    pub in_reply_to_id: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub sensitive: bool,
    pub spoiler_text: Option<String>,
    pub visibility: String,
    pub language: Option<String>,
}

/// The body of `PUT /api/v1/statuses/:id`. Media not listed are removed, so
/// an edit names every attachment the status keeps.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StatusEdit {
    pub status: String,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub language: Option<String>,
    pub media_ids: Vec<String>,
    /// New alt texts of kept attachments.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub media_attributes: Vec<MediaAttribute>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MediaAttribute {
    pub id: String,
    pub description: String,
}

pub use crate::platforms::upload::Upload;

/// A request body.
enum Body<'a> {
    None,
    Json(&'a Value),
    Upload(&'a Upload),
}

/// One request of this client.
struct Call<'a> {
    method: Method,
    path: &'a [&'a str],
    query: &'a [(&'static str, String)],
    body: Body<'a>,
    idempotency_key: Option<&'a str>,
    safety: Safety,
    operation: &'static str,
}

impl<'a> Call<'a> {
    fn get(path: &'a [&'a str], operation: &'static str) -> Self {
        Self::write(Method::GET, path, Body::None, operation)
    }

    /// A request that lands on the same result when repeated (edits, uploads, deletes).
    fn write(method: Method, path: &'a [&'a str], body: Body<'a>, operation: &'static str) -> Self {
        Self { method, path, query: &[], body, idempotency_key: None, safety: Safety::Repeatable, operation }
    }
}

/// Mastodon API client. Cheap to clone; clones share the call counter.
#[derive(Clone, Debug)]
pub struct MastodonClient {
    /// Sends `Bearer <token>` on every request (a sensitive header, never shown).
    http: HttpClient,
}

/// Parses an instance given as `https://host`, `host`, or with a trailing path.
pub fn parse_instance(instance: &str) -> Option<Url> {
    let s = instance.trim();
    if s.is_empty() {
        return None;
    }
    let with_scheme = if s.contains("://") { s.to_owned() } else { format!("https://{s}") };
    let url = Url::parse(&with_scheme).ok()?;
    (matches!(url.scheme(), "http" | "https") && url.host_str().is_some()).then_some(url)
}

impl MastodonClient {
    /// A client for the instance at `base` (see [`parse_instance`]).
    pub fn new(base: Url, token: SecretString, opts: ClientOptions) -> Self {
        Self {
            http: HttpClient::new(opts, base, [token.expose_secret()]).with_credential(
                AUTHORIZATION,
                &format!("Bearer {}", token.expose_secret()),
                "token",
            ),
        }
    }

    /// Requests sent so far (every attempt counts).
    pub fn calls(&self) -> u64 {
        self.http.calls()
    }

    pub fn options(&self) -> ClientOptions {
        self.http.options()
    }

    /// The instance's host, for messages.
    pub fn host(&self) -> String {
        let base = self.http.base();
        let host = base.host_str().unwrap_or("the instance");
        match base.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_owned(),
        }
    }

    /// `GET /api/v2/instance`.
    pub async fn instance(&self, on_wait: OnWait<'_>) -> Result<Instance> {
        MastodonError::decode(self.send(Call::get(&["api", "v2", "instance"], "instance"), on_wait).await?, "instance")
    }

    /// `GET /api/v1/accounts/verify_credentials`: the token's account.
    pub async fn verify_credentials(&self, on_wait: OnWait<'_>) -> Result<Account> {
        let call = Call::get(&["api", "v1", "accounts", "verify_credentials"], "verify credentials");
        MastodonError::decode(self.send(call, on_wait).await?, "account")
    }

    /// `POST /api/v2/media`, then, while the server processes it (202, `url`
    /// null), `GET /api/v1/media/:id` every `poll_interval` until it has a URL,
    /// within `processing_timeout`.
    pub async fn upload_media(&self, upload: &Upload, on_wait: OnWait<'_>) -> Result<Attachment> {
        let v = self
            .send(Call::write(Method::POST, &["api", "v2", "media"], Body::Upload(upload), "upload media"), on_wait)
            .await?;
        let attachment: Attachment = MastodonError::decode(v, "media attachment")?;
        if attachment.url.as_deref().is_some_and(|u| !u.is_empty()) {
            return Ok(attachment);
        }
        self.wait_processed(&attachment.id, on_wait).await
    }

    /// Polls `GET /api/v1/media/:id` until the attachment has a URL (200), as long as it says 206.
    pub async fn wait_processed(&self, id: &str, on_wait: OnWait<'_>) -> Result<Attachment> {
        let opts = self.options();
        let deadline = tokio::time::Instant::now() + opts.processing_timeout;
        loop {
            let (status, v) =
                self.send_with_status(Call::get(&["api", "v1", "media", id], "media status"), on_wait).await?;
            if status == 200 {
                let a: Attachment = MastodonError::decode(v, "media attachment")?;
                if a.url.as_deref().is_some_and(|u| !u.is_empty()) {
                    return Ok(a);
                }
            }
            if tokio::time::Instant::now() + opts.poll_interval > deadline {
                return Err(MastodonError::Processing {
                    message: format!(
                        "media {id} was still being processed after {} s (publish.processing_timeout_secs)",
                        opts.processing_timeout.as_secs()
                    ),
                });
            }
            tokio::time::sleep(opts.poll_interval).await;
        }
    }

    /// `POST /api/v1/statuses` with `Idempotency-Key: key`. A lost reply is
    /// [`MastodonError::Ambiguous`].
    pub async fn create_status(&self, input: &NewStatus, key: &str, on_wait: OnWait<'_>) -> Result<Status> {
        let op = "create status";
        let body = serde_json::to_value(input).unwrap_or_default();
        let call = Call {
            idempotency_key: Some(key),
            safety: Safety::OnceOnly,
            ..Call::write(Method::POST, &["api", "v1", "statuses"], Body::Json(&body), op)
        };
        let v = self.send(call, on_wait).await?;
        match MastodonError::decode::<Status>(v, op) {
            Ok(s) => Ok(s),
            // A 2xx means the status exists, but not which one it is.
            Err(e) => Err(MastodonError::Ambiguous { operation: op, message: e.to_string() }),
        }
    }

    /// `GET /api/v1/statuses/:id`.
    pub async fn get_status(&self, id: &str, on_wait: OnWait<'_>) -> Result<Status> {
        MastodonError::decode(
            self.send(Call::get(&["api", "v1", "statuses", id], "get status"), on_wait).await?,
            "status",
        )
    }

    /// `GET /api/v1/statuses?id[]=…` (Mastodon 4.3+, at most [`GET_STATUSES_MAX`] ids): the
    /// statuses found; one that is gone is left out. Older servers answer 404.
    pub async fn get_statuses(&self, ids: &[&str], on_wait: OnWait<'_>) -> Result<Vec<Status>> {
        let query: Vec<(&'static str, String)> = ids.iter().map(|id| ("id[]", (*id).to_owned())).collect();
        let call = Call { query: &query, ..Call::get(&["api", "v1", "statuses"], "get statuses") };
        MastodonError::decode(self.send(call, on_wait).await?, "status list")
    }

    /// `DELETE /api/v1/statuses/:id`. Only the account's own statuses can be deleted:
    /// Mastodon answers 404 for another account's (GoToSocial 403) and for one already
    /// gone. Repeating it is harmless (the repeat is a 404), so lost replies are retried.
    /// The reply (the status with its source text) is not needed.
    pub async fn delete_status(&self, id: &str, on_wait: OnWait<'_>) -> Result<()> {
        let path = ["api", "v1", "statuses", id];
        self.send(Call::write(Method::DELETE, &path, Body::None, "delete status"), on_wait).await.map(|_| ())
    }

    /// `GET /api/v1/statuses/:id/source` (own statuses only).
    pub async fn status_source(&self, id: &str, on_wait: OnWait<'_>) -> Result<StatusSource> {
        let path = ["api", "v1", "statuses", id, "source"];
        MastodonError::decode(self.send(Call::get(&path, "status source"), on_wait).await?, "status source")
    }

    /// `PUT /api/v1/statuses/:id` (the same edit twice leaves the same status).
    pub async fn edit_status(&self, id: &str, edit: &StatusEdit, on_wait: OnWait<'_>) -> Result<Status> {
        let body = serde_json::to_value(edit).unwrap_or_default();
        let path = ["api", "v1", "statuses", id];
        MastodonError::decode(
            self.send(Call::write(Method::PUT, &path, Body::Json(&body), "edit status"), on_wait).await?,
            "status",
        )
    }

    /// One page of the account's statuses, newest first, older than `max_id`.
    pub async fn account_statuses(
        &self,
        account_id: &str,
        max_id: Option<&str>,
        limit: u32,
        on_wait: OnWait<'_>,
    ) -> Result<Vec<Status>> {
        let mut query = vec![("limit", limit.clamp(1, MAX_PAGE).to_string()), ("exclude_reblogs", "true".to_owned())];
        if let Some(m) = max_id {
            query.push(("max_id", m.to_owned()));
        }
        let path = ["api", "v1", "accounts", account_id, "statuses"];
        let call = Call { query: &query, ..Call::get(&path, "list statuses") };
        MastodonError::decode(self.send(call, on_wait).await?, "status list")
    }

    async fn send(&self, call: Call<'_>, on_wait: OnWait<'_>) -> Result<Value> {
        self.send_with_status(call, on_wait).await.map(|(_, v)| v)
    }

    /// Sends through the shared loop; returns the 2xx status and JSON.
    async fn send_with_status(&self, call: Call<'_>, on_wait: OnWait<'_>) -> Result<(u16, Value)> {
        let Call { method, path, query, body, idempotency_key, safety, operation } = call;
        if let Body::Upload(u) = &body {
            if multipart::Part::text("").mime_str(&u.mime).is_err() {
                return Err(MastodonError::Rejected { status: 0, message: format!("`{}` is not a MIME type", u.mime) });
            }
        }
        let url = self.http.url(path);
        let build = |c: &reqwest::Client| {
            let mut req = c.request(method.clone(), url.clone()).header("Accept", "application/json");
            if !query.is_empty() {
                req = req.query(query);
            }
            if let Some(k) = idempotency_key {
                req = req.header("Idempotency-Key", k);
            }
            match &body {
                Body::None => req,
                Body::Json(v) => req.json(v),
                Body::Upload(u) => req.multipart(upload_form(u)),
            }
        };
        let req = Request { operation, safety, write: method != Method::GET, build: &build };
        self.http.send(&MastodonApi, &req, on_wait).await.map_err(MastodonError::from)
    }
}

/// The multipart form of an upload (its MIME type checked before: a bad one is left out).
fn upload_form(u: &Upload) -> multipart::Form {
    let part = || multipart::Part::bytes(u.bytes.as_ref().clone()).file_name(u.file_name.clone());
    let part = part().mime_str(&u.mime).unwrap_or_else(|_| part());
    let mut form = multipart::Form::new().part("file", part);
    if let Some(d) = &u.description {
        form = form.text("description", d.clone());
    }
    form
}

/// Mastodon's error shape: `{"error", "error_description"?}`; the status says the rest.
struct MastodonApi;

impl Classifier for MastodonApi {
    type Detail = ();

    fn classify(&self, status: u16, body: &[u8], _: &'static str) -> Verdict<()> {
        Verdict::by_status(status).text(error_text(body))
    }

    fn success(&self, status: u16, body: &[u8]) -> Option<Value> {
        // 206 Partial Content on a media poll carries the attachment, but some servers send nothing.
        http::json_reply(body).or_else(|| (status == 206).then_some(Value::Null))
    }
}

impl From<Failure<()>> for MastodonError {
    fn from(f: Failure<()>) -> Self {
        if f.class == Class::Rejected && f.status == Some(403) {
            let message = format!("{} (crier needs a token with the scopes `{SCOPES}`)", f.text);
            return Self::Rejected { status: 403, message };
        }
        let unauthorized = f.text.clone();
        Self::from_failure(f, unauthorized, "Too many requests")
    }
}

/// `error` (with `error_description` when present) of an error body.
fn error_text(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let error = match v.get("error")? {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Some(match v.get("error_description").and_then(Value::as_str) {
        Some(d) if !d.is_empty() && d != error => format!("{error}: {d}"),
        _ => error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies() {
        assert_eq!(
            error_text(br#"{"error":"Validation failed: Text can't be blank"}"#).as_deref(),
            Some("Validation failed: Text can't be blank")
        );
        assert_eq!(
            error_text(br#"{"error":"invalid_grant","error_description":"The access token is invalid"}"#).as_deref(),
            Some("invalid_grant: The access token is invalid")
        );
        assert_eq!(error_text(b"<html>"), None);
    }

    #[test]
    fn instances_parse() {
        assert_eq!(
            parse_instance("mastodon.social").map(|u| u.to_string()).as_deref(),
            Some("https://mastodon.social/")
        );
        assert_eq!(
            parse_instance("http://127.0.0.1:8080").map(|u| u.to_string()).as_deref(),
            Some("http://127.0.0.1:8080/")
        );
        assert!(parse_instance("").is_none());
        assert!(parse_instance("ftp://x").is_none());
    }
}
