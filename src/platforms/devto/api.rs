//! Client for the dev.to (Forem) API v1 (`https://dev.to/api`).
//!
//! Covers what a publisher needs: create an article (`POST /articles`), update it in place
//! (`PUT /articles/{id}`) and list the key owner's articles, drafts included
//! (`GET /articles/me/all`), for reconciliation after a crash or a lost reply.
//!
//! Every request carries `api-key` and `Accept: application/vnd.forem.api-v1+json` (without
//! the vendor type Forem routes to the deprecated v0 API). Failures are sorted into a
//! [`DevtoError`] variant the caller can act on. Requests go through the shared loop
//! ([`crate::platforms::http::HttpClient`]); retries are bounded by
//! [`ClientOptions::max_total_wait`]:
//!
//! - HTTP 429 means the request was refused, so any call waits `Retry-After` seconds (30 when
//!   the header is missing or not a number of seconds) and tries again, reporting the
//!   remaining time once a second through an [`OnWait`] callback (a countdown on a TTY);
//! - reads and updates (`PUT` of the same content is idempotent) retry 5xx replies, timeouts
//!   and dropped connections with exponential backoff;
//! - a create whose reply is lost after sending (timeout, dropped connection, 5xx, garbled
//!   2xx body) is reported as [`DevtoError::Ambiguous`]: it may have taken effect, so the
//!   caller reconciles through the article list instead of posting again.
//!
//! Writes are spaced at least [`ClientOptions::min_write_interval`] apart (dev.to throttles
//! writes to one per second per key). The API key travels only in a header marked sensitive;
//! it is never part of an error message or of `Debug` output, and any occurrence of it in a
//! server message is replaced with `[REDACTED]`.

use std::time::Duration;

use reqwest::Method;
use reqwest::header::{ACCEPT, HeaderName};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};
use serde_with::skip_serializing_none;

use crate::platforms::http::{self, Classifier, Failure, HttpClient, Request, Safety, Verdict};
pub use crate::platforms::http::{HttpOptions as ClientOptions, OnWait};

/// Default API base (the spec's server).
pub const DEFAULT_BASE_URL: &str = "https://dev.to/api";

/// Media type that selects API v1.
pub const ACCEPT_V1: &str = "application/vnd.forem.api-v1+json";

/// Header carrying the key.
const API_KEY_HEADER: &str = "api-key";

/// Largest `per_page` Forem accepts.
pub const MAX_PER_PAGE: u32 = 1000;

/// Result alias for this module.
pub type Result<T, E = DevtoError> = std::result::Result<T, E>;

/// dev.to's options: a rate-limited account may be asked to wait 300 s between articles,
/// a 429 without `Retry-After` is waited out for 30 s, and writes are throttled to one a
/// second per key.
pub fn default_options() -> ClientOptions {
    ClientOptions {
        max_total_wait: Duration::from_secs(360),
        min_write_interval: Duration::from_secs(1),
        default_retry_after: Duration::from_secs(30),
        ..ClientOptions::default()
    }
}

http::rest_error! {
    /// Failures of a dev.to call, sorted by what the caller should do about them.
    pub enum DevtoError for "dev.to" {
        may_exist: "article",
        unauthorized: ("dev.to rejected the API key (HTTP 401: {message}); check DEVTO_API_KEY"),
        rejected: ("dev.to rejected the request (HTTP {status}): {message}"),
        rate_limited: ("dev.to rate limit reached (HTTP 429): {message}; try again in {} s", .as_secs()),
    }
}

/// The `article` object of a create or update. `None` fields are left out of the request
/// (on update: left unchanged by dev.to).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ArticleInput {
    /// Required on create; at most 128 characters.
    pub title: Option<String>,
    /// Markdown body (at most 800 KB).
    pub body_markdown: Option<String>,
    /// `false` saves a draft.
    pub published: Option<bool>,
    /// Series name.
    pub series: Option<String>,
    /// Cover image URL (must already be hosted).
    pub main_image: Option<String>,
    /// Canonical URL; unique across dev.to.
    pub canonical_url: Option<String>,
    /// Description shown in previews.
    pub description: Option<String>,
    /// At most 4 tags, sent as a JSON array (what the controller permits).
    pub tags: Option<Vec<String>>,
    /// Organization to publish under (only honoured for members).
    pub organization_id: Option<u64>,
    /// On update: send the optional fields the post does not set as empty (`null`, `""`,
    /// `[]`), so a key removed from the post is removed from the article too.
    #[serde(skip)]
    pub clear_missing: bool,
}

impl ArticleInput {
    /// The request body: `{"article": {…}}`.
    pub fn to_body(&self) -> Value {
        let mut article = serde_json::to_value(self).unwrap_or_else(|_| json!({}));
        if self.clear_missing {
            if let Value::Object(map) = &mut article {
                // Forem's schema marks these nullable; `description` is a plain string.
                for key in ["series", "main_image", "canonical_url"] {
                    map.entry(key).or_insert(Value::Null);
                }
                map.entry("description").or_insert_with(|| json!(""));
                map.entry("tags").or_insert_with(|| json!([]));
            }
        }
        json!({ "article": article })
    }
}

impl From<&super::DevtoOutput> for ArticleInput {
    fn from(o: &super::DevtoOutput) -> Self {
        Self {
            title: o.title.clone(),
            body_markdown: Some(o.body_markdown.clone()),
            published: Some(o.published),
            series: o.series.clone(),
            main_image: o.main_image.clone(),
            canonical_url: o.canonical_url.clone(),
            description: o.description.clone(),
            tags: Some(o.tags.clone()),
            organization_id: o.organization_id,
            clear_missing: false,
        }
    }
}

/// An article as dev.to returns it: the "show" JSON of create/update, or an item of the
/// `/articles/me/*` lists. Fields a reply leaves out are `None`/empty.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Article {
    /// Article id.
    pub id: u64,
    /// Title.
    #[serde(default)]
    pub title: String,
    /// Public URL (`https://dev.to/{username}/{slug}`).
    #[serde(default)]
    pub url: String,
    /// Path part of the URL.
    pub path: Option<String>,
    /// Slug.
    pub slug: Option<String>,
    /// Canonical URL; dev.to reports the article's own URL when none was set.
    pub canonical_url: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Whether the article is published (list items only).
    pub published: Option<bool>,
    /// Publication time (null for drafts).
    pub published_at: Option<String>,
    /// Tags, read from `tags` whether it is an array ("show") or a comma-separated string
    /// (lists).
    #[serde(default, deserialize_with = "de_tags")]
    pub tags: Vec<String>,
    /// Markdown body, when the reply includes it.
    pub body_markdown: Option<String>,
    /// The author.
    pub user: Option<ArticleUser>,
    /// Engagement (`crier stats`); only the `/articles/me/*` lists carry page views.
    pub page_views_count: Option<u64>,
    pub public_reactions_count: Option<u64>,
    pub comments_count: Option<u64>,
}

/// The `user` of an article.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ArticleUser {
    #[serde(default)]
    pub username: String,
}

impl Article {
    /// The id as crier records it (ids are strings in the ledger).
    pub fn id_string(&self) -> String {
        self.id.to_string()
    }

    /// The URL, or one built from `path` on dev.to when a reply has no `url`.
    pub fn url_or_path(&self) -> String {
        if !self.url.is_empty() {
            return self.url.clone();
        }
        match self.path.as_deref().filter(|p| !p.is_empty()) {
            Some(p) => format!("https://dev.to/{}", p.trim_start_matches('/')),
            None => String::new(),
        }
    }
}

fn de_tags<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        List(Vec<String>),
        Text(String),
        Null(()),
    }
    Ok(match Raw::deserialize(d)? {
        Raw::List(v) => v,
        Raw::Text(s) => s.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect(),
        Raw::Null(()) => Vec::new(),
    })
}

/// dev.to API client. Cheap to clone; clones share the call counter and write spacing.
#[derive(Clone, Debug)]
pub struct DevtoClient {
    /// Sends the key in `api-key` (a sensitive header, never shown).
    http: HttpClient,
}

impl DevtoClient {
    /// A client for `base_url` (e.g. [`DEFAULT_BASE_URL`]); an unparsable URL falls back to
    /// the default.
    pub fn new(base_url: &str, api_key: SecretString, opts: ClientOptions) -> Self {
        let base = http::base_url(base_url, DEFAULT_BASE_URL);
        let http = HttpClient::new(opts, base, [api_key.expose_secret()]);
        Self { http: http.with_credential(HeaderName::from_static(API_KEY_HEADER), api_key.expose_secret(), "key") }
    }

    /// Number of HTTP requests sent so far (every attempt counts).
    pub fn calls(&self) -> u64 {
        self.http.calls()
    }

    /// The options in use.
    pub fn options(&self) -> ClientOptions {
        self.http.options()
    }

    /// `POST /articles` (201). A lost reply is [`DevtoError::Ambiguous`]; a 429 is waited out.
    pub async fn create_article(&self, input: &ArticleInput, on_wait: OnWait<'_>) -> Result<Article> {
        let op = "create article";
        let v =
            self.send(Method::POST, &["articles"], &[], Some(&input.to_body()), Safety::OnceOnly, op, on_wait).await?;
        match DevtoError::decode::<Article>(v, op) {
            Ok(a) => Ok(a),
            // A 2xx means the article exists, but we cannot tell which one it is.
            Err(e) => Err(DevtoError::Ambiguous { operation: op, message: e.to_string() }),
        }
    }

    /// `PUT /articles/{id}` (200): updates the key owner's article in place.
    pub async fn update_article(&self, id: u64, input: &ArticleInput, on_wait: OnWait<'_>) -> Result<Article> {
        let op = "update article";
        let id = id.to_string();
        let v = self
            .send(Method::PUT, &["articles", &id], &[], Some(&input.to_body()), Safety::Repeatable, op, on_wait)
            .await?;
        DevtoError::decode(v, op)
    }

    /// `PUT /articles/{id}` with `{"article":{"published":false}}`: the article becomes a
    /// draft (dev.to has no delete for its users).
    pub async fn unpublish_article(&self, id: u64, on_wait: OnWait<'_>) -> Result<Article> {
        let input = ArticleInput { published: Some(false), ..ArticleInput::default() };
        self.update_article(id, &input, on_wait).await
    }

    /// `GET /articles/{id}`: a published article of anyone (404 for drafts and for
    /// articles that are no longer there).
    pub async fn get_article(&self, id: u64, on_wait: OnWait<'_>) -> Result<Article> {
        let id = id.to_string();
        let v = self.send(Method::GET, &["articles", &id], &[], None, Safety::Repeatable, "read", on_wait).await?;
        DevtoError::decode(v, "article")
    }

    /// `GET /articles/me/all?page=&per_page=`: one page of the key owner's articles,
    /// drafts first (newest created first), then published ones (newest first).
    pub async fn list_my_articles(&self, page: u32, per_page: u32, on_wait: OnWait<'_>) -> Result<Vec<Article>> {
        let query = [("page", page.max(1).to_string()), ("per_page", per_page.clamp(1, MAX_PER_PAGE).to_string())];
        let v = self
            .send(Method::GET, &["articles", "me", "all"], &query, None, Safety::Repeatable, "list", on_wait)
            .await?;
        DevtoError::decode(v, "article list")
    }

    /// Every article of the key owner, paging with `per_page` until a short page, reading at
    /// most `max_pages` pages.
    pub async fn list_all_my_articles(
        &self,
        per_page: u32,
        max_pages: u32,
        on_wait: OnWait<'_>,
    ) -> Result<Vec<Article>> {
        let per_page = per_page.clamp(1, MAX_PER_PAGE);
        let mut all = Vec::new();
        for page in 1..=max_pages.max(1) {
            let items = self.list_my_articles(page, per_page, on_wait).await?;
            let n = items.len();
            all.extend(items);
            if n < per_page as usize {
                break;
            }
        }
        Ok(all)
    }

    /// Sends a request through the shared loop.
    #[allow(clippy::too_many_arguments)]
    async fn send(
        &self,
        method: Method,
        path: &[&str],
        query: &[(&'static str, String)],
        body: Option<&Value>,
        safety: Safety,
        operation: &'static str,
        on_wait: OnWait<'_>,
    ) -> Result<Value> {
        let url = self.http.url(path);
        let write = method != Method::GET;
        let build = |c: &reqwest::Client| {
            let mut req = c.request(method.clone(), url.clone()).header(ACCEPT, ACCEPT_V1);
            if !query.is_empty() {
                req = req.query(query);
            }
            match body {
                // Also sets `Content-Type: application/json`.
                Some(b) => req.json(b),
                None => req,
            }
        };
        let req = Request { operation, safety, write, build: &build };
        self.http.send(&Forem, &req, on_wait).await.map(|(_, v)| v).map_err(DevtoError::from)
    }
}

/// Forem's error shape: `{"error": "...", "status": N}`; the status says the rest.
struct Forem;

impl Classifier for Forem {
    type Detail = ();

    fn classify(&self, status: u16, body: &[u8], _: &'static str) -> Verdict<()> {
        Verdict::by_status(status).text(error_text(body))
    }
}

impl From<Failure<()>> for DevtoError {
    fn from(f: Failure<()>) -> Self {
        let unauthorized = f.server_text.clone().unwrap_or_else(|| "unauthorized".into());
        Self::from_failure(f, unauthorized, "Too Many Requests")
    }
}

/// The `error` text of a Forem error body (`{"error": "...", "status": N}`).
fn error_text(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    match v.get("error")? {
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}
