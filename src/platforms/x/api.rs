//! Client for the X API v2 (`https://api.x.com/2/…`, `CRIER_X_API_URL`), OAuth 1.0a user
//! context.
//!
//! What a publisher needs: who the tokens belong to (`GET /2/users/me`), posts
//! (`POST /2/tweets`, `DELETE /2/tweets/:id`, `GET /2/tweets?ids=`) and the account's own
//! recent posts (`GET /2/users/:id/tweets`), which is how a lost reply is reconciled: X has
//! no idempotency key.
//!
//! Every attempt is signed afresh (a new nonce and timestamp), inside the shared request
//! loop ([`HttpClient::send`]): 429 waits for `x-rate-limit-reset`, 5xx and lost replies
//! of reads are retried, a create whose reply is lost is [`XError::Ambiguous`]. Errors are
//! RFC 7807 problems (`{"title", "detail", "type", "status"}`) or the legacy
//! `{"errors": [{"message", "code"}]}`; a 403 "duplicate content" is
//! [`XError::Duplicate`] (a reason to reconcile, never a success), 402 and the
//! `usage-capped` / `client-forbidden` problems are [`XError::Plan`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::Method;
use reqwest::header::AUTHORIZATION;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_with::skip_serializing_none;

use super::oauth1::{self, Credentials};
use crate::platforms::http::{self, Classifier, Failure, HttpClient, Request, Safety, Verdict};
pub use crate::platforms::http::{HttpOptions as ClientOptions, OnWait};
pub use crate::platforms::upload::Upload;

/// Default API base (the definition's server).
pub const DEFAULT_BASE_URL: &str = "https://api.x.com";

/// Largest page of `GET /2/users/:id/tweets` and of `ids` in `GET /2/tweets`.
pub const MAX_PAGE: usize = 100;

/// The field-selection parameter. X's definition 2.167 renames it `post.fields`; the docs
/// and every client in use send `tweet.fields`, which is what crier sends until the live
/// server is seen to take the new name (reference §7.1).
pub const FIELDS_PARAM: &str = "tweet.fields";

pub type Result<T, E = XError> = std::result::Result<T, E>;

http::rest_error! {
    /// Failures of an X call, sorted by what the caller should do about them.
    pub enum XError for "X" {
        may_exist: "post",
        unauthorized: ("X rejected the credentials (HTTP 401: {message}); run `crier auth x` to get new tokens"),
        rejected: ("X rejected the request (HTTP {status}): {message}"),
        rate_limited: ("X rate limit reached (HTTP 429: {message}); try again in {} s", .as_secs()),
        /// The account's plan or credits do not allow the call (402, `usage-capped`,
        /// `client-forbidden`).
        #[error(
            "X refused the call for the account's plan (HTTP {status}): {message}; check the app's credits, spending limit and access level at console.x.com"
        )]
        Plan { status: u16, message: String },
        /// 403 "duplicate content": a post with this text exists (its id is not given).
        #[error("X says a post with this text already exists (HTTP 403: {message})")]
        Duplicate { message: String },
    }
}

/// `GET /2/users/me`.
#[derive(Debug, Clone, Deserialize)]
pub struct User {
    pub id: String,
    #[serde(default)]
    pub name: String,
    pub username: String,
}

/// A post, the fields crier reads.
#[derive(Debug, Clone, Deserialize)]
pub struct Tweet {
    pub id: String,
    #[serde(default)]
    pub text: String,
    pub author_id: Option<String>,
    pub created_at: Option<String>,
    #[serde(default)]
    pub referenced_tweets: Vec<Reference>,
    pub public_metrics: Option<PublicMetrics>,
}

impl Tweet {
    /// The post it replies to.
    pub fn replied_to(&self) -> Option<&str> {
        self.referenced_tweets.iter().find(|r| r.kind == "replied_to").map(|r| r.id.as_str())
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Reference {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

/// `public_metrics` (2.167 says `repost_count`, the docs `retweet_count`: both are read,
/// apart, as a reply may carry both; see [`PublicMetrics::reposts`]).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PublicMetrics {
    pub repost_count: Option<u64>,
    pub retweet_count: Option<u64>,
    pub reply_count: Option<u64>,
    pub like_count: Option<u64>,
    pub quote_count: Option<u64>,
    pub bookmark_count: Option<u64>,
    pub impression_count: Option<u64>,
}

impl PublicMetrics {
    /// Reposts, under whichever name the reply gives them (`repost_count` first).
    pub fn reposts(&self) -> Option<u64> {
        self.repost_count.or(self.retweet_count)
    }
}

/// The body of `POST /2/tweets`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NewTweet {
    pub text: String,
    pub reply: Option<ReplyTo>,
    pub poll: Option<NewPoll>,
    pub reply_settings: Option<String>,
    pub media: Option<NewMedia>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplyTo {
    pub in_reply_to_tweet_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewPoll {
    pub options: Vec<String>,
    pub duration_minutes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewMedia {
    pub media_ids: Vec<String>,
}

/// One page of the account's posts.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Page {
    pub data: Vec<Tweet>,
    pub meta: PageMeta,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PageMeta {
    pub next_token: Option<String>,
    pub result_count: Option<u64>,
}

/// A request body.
enum Body<'a> {
    None,
    Json(&'a Value),
    /// Multipart text fields, and the file (as `media`) when given.
    Form(Vec<(&'static str, String)>, Option<&'a [u8]>, Option<&'a Upload>),
}

/// `processing_info` of an upload: `pending`, `in_progress`, `failed` or `succeeded`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Processing {
    #[serde(default)]
    pub state: String,
    pub check_after_secs: Option<u64>,
    pub error: Option<Value>,
}

/// `data` of an upload reply.
#[derive(Debug, Clone, Deserialize)]
pub struct Media {
    pub id: String,
    pub processing_info: Option<Processing>,
}

/// Largest chunk of a chunked upload (X takes up to 5 MB a segment).
pub const CHUNK: usize = 4 * 1024 * 1024;

/// X API client. Cheap to clone; clones share the call counter.
#[derive(Clone, Debug)]
pub struct XClient {
    http: HttpClient,
    credentials: Credentials,
}

impl XClient {
    pub fn new(base: &str, credentials: Credentials, opts: ClientOptions) -> Self {
        let base = http::base_url(base, DEFAULT_BASE_URL);
        Self { http: HttpClient::new(opts, base, credentials.secrets()), credentials }
    }

    /// Requests sent so far (every attempt counts).
    pub fn calls(&self) -> u64 {
        self.http.calls()
    }

    /// `GET /2/users/me`.
    pub async fn me(&self, on_wait: OnWait<'_>) -> Result<User> {
        data(
            self.send(Method::GET, &["2", "users", "me"], &[], Body::None, Safety::Repeatable, "who am I", on_wait)
                .await?,
        )
    }

    /// `POST /2/tweets`. A lost reply is [`XError::Ambiguous`].
    pub async fn create(&self, tweet: &NewTweet, on_wait: OnWait<'_>) -> Result<Tweet> {
        let op = "create post";
        let body = serde_json::to_value(tweet).unwrap_or_default();
        let v =
            self.send(Method::POST, &["2", "tweets"], &[], Body::Json(&body), Safety::OnceOnly, op, on_wait).await?;
        // A 2xx means the post exists, but not which one it is.
        data(v).map_err(|e| XError::Ambiguous { operation: op, message: e.to_string() })
    }

    /// `DELETE /2/tweets/:id`; a post already gone is a 404 (repeating is harmless).
    pub async fn delete(&self, id: &str, on_wait: OnWait<'_>) -> Result<()> {
        let path = ["2", "tweets", id];
        self.send(Method::DELETE, &path, &[], Body::None, Safety::Repeatable, "delete post", on_wait).await.map(|_| ())
    }

    /// `GET /2/tweets?ids=…` (at most [`MAX_PAGE`]): the posts found, with `public_metrics`
    /// and their author; a post that is gone is left out.
    pub async fn lookup(&self, ids: &[&str], on_wait: OnWait<'_>) -> Result<Vec<Tweet>> {
        let query = [
            ("ids", ids.join(",")),
            (FIELDS_PARAM, "author_id,created_at,public_metrics,referenced_tweets".to_owned()),
        ];
        let v = self
            .send(Method::GET, &["2", "tweets"], &query, Body::None, Safety::Repeatable, "look posts up", on_wait)
            .await?;
        // Gone posts are listed in `errors`; a reply with neither list, or one crier cannot
        // read, must not pass for "every post is gone".
        if v.get("data").is_none() && v.get("errors").is_none() {
            let detail = "the post lookup reply has neither `data` nor `errors`".to_owned();
            return Err(XError::BadResponse { status: 200, detail });
        }
        Ok(XError::decode::<Page>(v, "the post lookup")?.data)
    }

    /// One page of the account's own posts, newest first (`GET /2/users/:id/tweets`,
    /// retweets left out: only what the account wrote can be a part of a post).
    pub async fn timeline(
        &self,
        user_id: &str,
        page: usize,
        pagination_token: Option<&str>,
        on_wait: OnWait<'_>,
    ) -> Result<Page> {
        let mut query = vec![
            ("max_results", page.clamp(5, MAX_PAGE).to_string()),
            ("exclude", "retweets".to_owned()),
            (FIELDS_PARAM, "created_at,referenced_tweets".to_owned()),
        ];
        if let Some(t) = pagination_token {
            query.push(("pagination_token", t.to_owned()));
        }
        let path = ["2", "users", user_id, "tweets"];
        let v =
            self.send(Method::GET, &path, &query, Body::None, Safety::Repeatable, "list own posts", on_wait).await?;
        serde_json::from_value(v).map_err(|e| XError::BadResponse {
            status: 200,
            detail: format!("the post list has an unexpected shape: {e}"),
        })
    }

    /// `POST /2/media/upload` (an image, in one request). Repeating it is harmless: an
    /// upload never attached expires.
    pub async fn upload_image(&self, upload: &Upload, on_wait: OnWait<'_>) -> Result<Media> {
        let fields = vec![("media_category", "tweet_image".to_owned())];
        let body = Body::Form(fields, None, Some(upload));
        let path = ["2", "media", "upload"];
        data(self.send(Method::POST, &path, &[], body, Safety::Repeatable, "upload media", on_wait).await?)
    }

    /// The chunked upload of a video or GIF: `initialize`, `append` each chunk, `finalize`,
    /// then `GET /2/media/upload?command=STATUS` until processing ends (within the
    /// options' processing timeout).
    pub async fn upload_chunked(&self, upload: &Upload, category: &str, on_wait: OnWait<'_>) -> Result<Media> {
        let init = serde_json::json!({
            "media_type": upload.mime,
            "total_bytes": upload.bytes.len(),
            "media_category": category,
        });
        let path = ["2", "media", "upload", "initialize"];
        let media: Media = data(
            self.send(Method::POST, &path, &[], Body::Json(&init), Safety::Repeatable, "initialize upload", on_wait)
                .await?,
        )?;
        for (i, chunk) in upload.bytes.chunks(CHUNK).enumerate() {
            let fields = vec![("segment_index", i.to_string())];
            let path = ["2", "media", "upload", media.id.as_str(), "append"];
            self.send(
                Method::POST,
                &path,
                &[],
                Body::Form(fields, Some(chunk), None),
                Safety::Repeatable,
                "append upload",
                on_wait,
            )
            .await?;
        }
        let path = ["2", "media", "upload", media.id.as_str(), "finalize"];
        let done: Media = data(
            self.send(Method::POST, &path, &[], Body::None, Safety::Repeatable, "finalize upload", on_wait).await?,
        )?;
        self.wait_processed(done, on_wait).await
    }

    /// Polls the upload's status until it is `succeeded` (or has no processing to do).
    async fn wait_processed(&self, mut media: Media, on_wait: OnWait<'_>) -> Result<Media> {
        let opts = self.http.options();
        let deadline = tokio::time::Instant::now() + opts.processing_timeout;
        loop {
            let Some(info) = media.processing_info.clone() else { return Ok(media) };
            match info.state.as_str() {
                "succeeded" | "" => return Ok(media),
                "failed" => {
                    return Err(XError::Rejected {
                        status: 200,
                        message: format!(
                            "X could not process media {}: {}",
                            media.id,
                            info.error.map_or_else(|| "no reason given".to_owned(), |e| e.to_string())
                        ),
                    });
                }
                _ => {}
            }
            let wait = info.check_after_secs.map_or(opts.poll_interval, Duration::from_secs).max(opts.poll_interval);
            if tokio::time::Instant::now() + wait > deadline {
                return Err(XError::Transient {
                    status: None,
                    retry_after: None,
                    message: format!(
                        "media {} was still being processed after {} s (publish.processing_timeout_secs)",
                        media.id,
                        opts.processing_timeout.as_secs()
                    ),
                });
            }
            tokio::time::sleep(wait).await;
            let query = [("command", "STATUS".to_owned()), ("media_id", media.id.clone())];
            let path = ["2", "media", "upload"];
            media = data(
                self.send(Method::GET, &path, &query, Body::None, Safety::Repeatable, "upload status", on_wait).await?,
            )?;
        }
    }

    /// `POST /2/media/metadata`: the alt text of an upload.
    pub async fn set_alt_text(&self, media_id: &str, alt: &str, on_wait: OnWait<'_>) -> Result<()> {
        let body = serde_json::json!({"id": media_id, "metadata": {"alt_text": {"text": alt}}});
        let path = ["2", "media", "metadata"];
        self.send(Method::POST, &path, &[], Body::Json(&body), Safety::Repeatable, "set alt text", on_wait)
            .await
            .map(|_| ())
    }

    #[allow(clippy::too_many_arguments)] // one private funnel for every call
    async fn send(
        &self,
        method: Method,
        path: &[&str],
        query: &[(&str, String)],
        body: Body<'_>,
        safety: Safety,
        operation: &'static str,
        on_wait: OnWait<'_>,
    ) -> Result<Value> {
        let mut url = self.http.url(path);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        let build = |c: &reqwest::Client| {
            let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
            let auth = self.credentials.authorization(method.as_str(), &url, &oauth1::nonce(), now);
            let mut req = c.request(method.clone(), url.clone()).header("Accept", "application/json");
            if let Some(h) = http::secret_header(&auth) {
                req = req.header(AUTHORIZATION, h);
            }
            match &body {
                Body::None => req,
                Body::Json(b) => req.json(b),
                Body::Form(fields, chunk, upload) => req.multipart(form(fields, *chunk, *upload)),
            }
        };
        let req = Request { operation, safety, write: method != Method::GET, build: &build };
        self.http.send(&XApi, &req, on_wait).await.map(|(_, v)| v).map_err(XError::from)
    }
}

/// A multipart body: the text fields, then the bytes as `media`.
fn form(fields: &[(&'static str, String)], chunk: Option<&[u8]>, upload: Option<&Upload>) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields {
        form = form.text(*k, v.clone());
    }
    let part = match (chunk, upload) {
        (Some(c), _) => reqwest::multipart::Part::bytes(c.to_vec()).file_name("chunk"),
        (None, Some(u)) => {
            let p = || reqwest::multipart::Part::bytes(u.bytes.as_ref().clone()).file_name(u.file_name.clone());
            p().mime_str(&u.mime).unwrap_or_else(|_| p())
        }
        (None, None) => return form,
    };
    form.part("media", part)
}

/// X's error shapes; the status says most, the problem type the rest.
struct XApi;

impl Classifier for XApi {
    type Detail = ();

    fn classify(&self, status: u16, body: &[u8], _: &'static str) -> Verdict<()> {
        Verdict::by_status(status).text(error_text(body))
    }
}

/// Words of X's that mean the account's plan or credits stop the call.
const PLAN_PROBLEMS: [&str; 3] = ["usage-capped", "client-forbidden", "client-not-enrolled"];

impl From<Failure<()>> for XError {
    fn from(f: Failure<()>) -> Self {
        let text = f.text.clone();
        match f.status {
            Some(402) => return Self::Plan { status: 402, message: text },
            Some(403) if text.to_ascii_lowercase().contains("duplicate content") => {
                return Self::Duplicate { message: text };
            }
            Some(status @ (403 | 429)) if PLAN_PROBLEMS.iter().any(|p| text.contains(p)) => {
                return Self::Plan { status, message: text };
            }
            _ => {}
        }
        let unauthorized = f.text.clone();
        Self::from_failure(f, unauthorized, "Too Many Requests")
    }
}

/// The words of an error body: a problem's `detail` (else `title`) with its `type` when it
/// names one, or the legacy `errors[0].message`.
pub fn error_text(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let s = |k: &str| v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    let words = s("detail").or_else(|| s("title")).map(str::to_owned).or_else(|| {
        let first = v.get("errors")?.as_array()?.first()?;
        first.get("message").or_else(|| first.get("detail")).and_then(Value::as_str).map(str::to_owned)
    })?;
    Some(match s("type").filter(|t| *t != "about:blank") {
        Some(t) => format!("{words} ({t})"),
        None => words,
    })
}

/// The `data` of a reply.
fn data<T: serde::de::DeserializeOwned>(v: Value) -> Result<T> {
    let inner = v.get("data").cloned().unwrap_or(Value::Null);
    serde_json::from_value(inner).map_err(|e| XError::BadResponse {
        status: 200,
        detail: format!("the reply's `data` has an unexpected shape: {e}"),
    })
}

impl XError {
    /// Whether X refused a reply under its reply rules (the account was not summoned).
    pub fn is_reply_refused(&self) -> bool {
        matches!(self, Self::Rejected { status: 403, message } if message.to_ascii_lowercase().contains("repl"))
    }

    /// Whether the post is gone (404, or a lookup that names it among `errors`).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_are_read_in_both_shapes() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                r#"{"detail":"You are not allowed to create a Tweet with duplicate content.","type":"about:blank","title":"Forbidden","status":403}"#,
                Some("You are not allowed to create a Tweet with duplicate content."),
            ),
            (
                r#"{"title":"UsageCapExceeded","detail":"Usage cap exceeded: Monthly product cap","type":"https://api.x.com/2/problems/usage-capped","status":429}"#,
                Some("Usage cap exceeded: Monthly product cap (https://api.x.com/2/problems/usage-capped)"),
            ),
            (r#"{"errors":[{"message":"Could not authenticate you","code":32}]}"#, Some("Could not authenticate you")),
            ("<html>", None),
        ];
        for (body, want) in cases {
            assert_eq!(error_text(body.as_bytes()).as_deref(), *want, "{body}");
        }
    }

    #[test]
    fn reposts_are_read_under_either_name_or_both() {
        let cases = [
            (r#"{"repost_count":3,"like_count":1}"#, Some(3)),
            (r#"{"retweet_count":4}"#, Some(4)),
            (r#"{"repost_count":5,"retweet_count":5,"like_count":2}"#, Some(5)),
            (r#"{"repost_count":null,"retweet_count":6}"#, Some(6)),
            (r#"{"like_count":1}"#, None),
        ];
        for (json, want) in cases {
            let m: PublicMetrics = serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"));
            assert_eq!(m.reposts(), want, "{json}");
        }
    }

    fn failure(status: u16, text: &str) -> Failure<()> {
        Failure {
            class: Verdict::<()>::by_status(status).class,
            operation: "create post",
            status: Some(status),
            retry_after: Some(Duration::from_secs(60)),
            server_text: Some(text.to_owned()),
            text: text.to_owned(),
            detail: None,
            reached: true,
        }
    }

    #[test]
    fn failures_are_sorted_by_what_to_do() {
        let dup = XError::from(failure(403, "You are not allowed to create a Tweet with duplicate content."));
        assert!(matches!(dup, XError::Duplicate { .. }), "{dup:?}");
        assert!(matches!(XError::from(failure(402, "CreditsDepleted")), XError::Plan { status: 402, .. }));
        let capped = XError::from(failure(429, "Usage cap exceeded (https://api.x.com/2/problems/usage-capped)"));
        assert!(matches!(capped, XError::Plan { status: 429, .. }), "{capped:?}");
        let unauthorized = XError::from(failure(401, "Unauthorized"));
        assert!(unauthorized.is_fatal());
        assert!(unauthorized.to_string().contains("crier auth x"));
        let reply = XError::from(failure(
            403,
            "Reply to this conversation is not allowed because you have not been mentioned or otherwise engaged by the author of the post you are replying to.",
        ));
        assert!(reply.is_reply_refused(), "{reply:?}");
        assert!(!dup.is_reply_refused());
    }
}
