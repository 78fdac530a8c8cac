//! Client for LinkedIn's member APIs: `GET /v2/userinfo` (the author), the versioned Posts
//! API (`/rest/posts`: create, partial update, delete) and the Images API
//! (`/rest/images?action=initializeUpload`, then a `PUT` of the bytes).
//!
//! Every `/rest` call carries `LinkedIn-Version: YYYYMM` (crier.yaml `linkedin.version`) and
//! `X-Restli-Protocol-Version: 2.0.0`. Requests go through the shared loop
//! ([`crate::platforms::http::HttpClient`]); LinkedIn's error body
//! (`{"status","code","message","serviceErrorCode","errorDetails"}`) is sorted into a
//! [`LinkedinError`] the caller can act on: a sunset version (426 `NONEXISTENT_VERSION`), a
//! refused token (401), a missing scope (403), a duplicate post (422 `DUPLICATE_POST`, naming
//! the existing post), a rate limit (429). The token travels only in a header marked
//! sensitive and is redacted from every message.

use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderMap};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use url::Url;

use crate::platforms::http::{self, Class, Classifier, Failure, HttpClient, Request, Safety, Verdict};
pub use crate::platforms::http::{HttpOptions as ClientOptions, OnWait};

/// `CRIER_LINKEDIN_API_URL`'s default.
pub const DEFAULT_BASE_URL: &str = "https://api.linkedin.com";

/// The scopes crier asks for, in one grant.
pub const SCOPES: &str = "openid profile w_member_social";

/// How to get a new token (said when one is refused or about to expire).
pub const RENEW_HINT: &str = "run `crier auth linkedin --write-env .env` (or generate a token with the scopes `openid profile w_member_social` in the LinkedIn Developer Portal's token generator) and update LINKEDIN_ACCESS_TOKEN";

/// The header carrying a created entity's id.
const CREATED_ID: &str = "x-restli-id";

pub type Result<T, E = LinkedinError> = std::result::Result<T, E>;

http::rest_error! {
    /// Failures of a LinkedIn call, sorted by what the caller should do about them.
    pub enum LinkedinError for "LinkedIn" {
        unauthorized: ("LinkedIn rejected the access token (HTTP 401: {message}); {RENEW_HINT}"),
        rejected: ("LinkedIn rejected the request (HTTP {status}): {message}"),
        rate_limited: ("LinkedIn rate limit reached (HTTP 429: {message}); LinkedIn's daily limits reset at 00:00 UTC, try again after that"),
        /// `linkedin.version` names a version LinkedIn no longer serves (or never did).
        #[error(
            "LinkedIn does not serve API version {version} (HTTP 426: {message}); set `linkedin: {{version: \"YYYYMM\"}}` in crier.yaml to a month LinkedIn supports (versions are sunset about a year after release)"
        )]
        Version { version: String, message: String },
        /// The token lacks a scope.
        #[error(
            "LinkedIn refused the {operation} call (HTTP 403: {message}); the token needs the scope `{scope}`: {RENEW_HINT}"
        )]
        Forbidden { operation: &'static str, scope: &'static str, message: String },
        /// 422 `DUPLICATE_POST`: an identical post was made within LinkedIn's duplicate window;
        /// `urn` is the post the message names.
        #[error("LinkedIn refused the post as a duplicate (HTTP 422: {message})")]
        Duplicate { urn: Option<String>, message: String },
    }
}

impl LinkedinError {
    /// Whether nothing else can succeed on LinkedIn in this run.
    pub fn stops_linkedin(&self) -> bool {
        matches!(
            self,
            Self::Unauthorized { .. } | Self::Version { .. } | Self::RateLimited { .. } | Self::Forbidden { .. }
        )
    }
}

/// An image slot of the Images API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSlot {
    /// `urn:li:image:…`.
    pub image: String,
    /// Where the bytes go.
    pub upload_url: String,
}

/// What the classifier keeps of an error body.
#[derive(Debug, Clone, Default)]
pub struct Detail {
    /// `code`, or the first `errorDetails.inputErrors[].code`.
    pub code: Option<String>,
    /// The URN a `DUPLICATE_POST` message names.
    pub duplicate_of: Option<String>,
}

/// LinkedIn API client. Cheap to clone; clones share the call counter.
#[derive(Clone, Debug)]
pub struct LinkedinClient {
    /// Sends `Bearer <token>` on every request (a sensitive header, never shown).
    http: HttpClient,
    /// `LinkedIn-Version`.
    version: String,
}

/// A request body.
enum Body<'a> {
    None,
    Json(&'a Value),
    Bytes(&'a [u8]),
}

impl LinkedinClient {
    pub fn new(base: &str, token: &SecretString, version: &str, opts: ClientOptions) -> Self {
        Self {
            http: HttpClient::new(opts, http::base_url(base, DEFAULT_BASE_URL), [token.expose_secret()])
                .with_credential(AUTHORIZATION, &format!("Bearer {}", token.expose_secret()), "token"),
            version: version.trim().to_owned(),
        }
    }

    /// Requests sent so far (every attempt counts).
    pub fn calls(&self) -> u64 {
        self.http.calls()
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    /// `GET /v2/userinfo` (unversioned): the member's OpenID claims; `sub` makes the author.
    pub async fn userinfo(&self, on_wait: OnWait<'_>) -> Result<Value> {
        let url = self.http.url(&["v2", "userinfo"]);
        self.send(Method::GET, url, Body::None, None, Safety::Repeatable, "userinfo", on_wait).await
    }

    /// `POST /rest/posts`: the new post's URN (`x-restli-id`, URL-decoded). A lost reply is
    /// [`LinkedinError::Ambiguous`]; a duplicate is [`LinkedinError::Duplicate`].
    pub async fn create_post(&self, body: &Value, on_wait: OnWait<'_>) -> Result<String> {
        let op = "create post";
        let url = self.http.url(&["rest", "posts"]);
        let v = self.send(Method::POST, url, Body::Json(body), None, Safety::OnceOnly, op, on_wait).await?;
        match v.get(CREATED_ID).and_then(Value::as_str).filter(|id| !id.trim().is_empty()) {
            Some(id) => Ok(id.trim().to_owned()),
            // The post exists, but which one it is cannot be told.
            None => Err(LinkedinError::Ambiguous {
                operation: op,
                message: "LinkedIn answered success without the post's URN (no x-restli-id header)".into(),
            }),
        }
    }

    /// `POST /rest/posts/{urn}` with `X-RestLi-Method: PARTIAL_UPDATE`: sets the commentary.
    pub async fn update_commentary(&self, urn: &str, commentary: &str, on_wait: OnWait<'_>) -> Result<()> {
        let body = json!({"patch": {"$set": {"commentary": commentary}}});
        let url = self.post_url(urn);
        let method = Some("PARTIAL_UPDATE");
        self.send(Method::POST, url, Body::Json(&body), method, Safety::Repeatable, "update post", on_wait)
            .await
            .map(|_| ())
    }

    /// `DELETE /rest/posts/{urn}` (repeating it is harmless).
    pub async fn delete_post(&self, urn: &str, on_wait: OnWait<'_>) -> Result<()> {
        let url = self.post_url(urn);
        self.send(Method::DELETE, url, Body::None, None, Safety::Repeatable, "delete post", on_wait).await.map(|_| ())
    }

    /// `POST /rest/images?action=initializeUpload` for `owner` (an unused slot is harmless).
    pub async fn initialize_upload(&self, owner: &str, on_wait: OnWait<'_>) -> Result<ImageSlot> {
        let mut url = self.http.url(&["rest", "images"]);
        url.query_pairs_mut().append_pair("action", "initializeUpload");
        let body = json!({"initializeUploadRequest": {"owner": owner}});
        let v = self.send(Method::POST, url, Body::Json(&body), None, Safety::Repeatable, "initialize upload", on_wait);
        let v = v.await?;
        let value = v.get("value");
        let field = |k: &str| value.and_then(|x| x.get(k)).and_then(Value::as_str).map(str::to_owned);
        match (field("image"), field("uploadUrl")) {
            (Some(image), Some(upload_url)) => Ok(ImageSlot { image, upload_url }),
            _ => Err(LinkedinError::BadResponse {
                status: 200,
                detail: "the initializeUpload reply has no `value.image` and `value.uploadUrl`".into(),
            }),
        }
    }

    /// `PUT {uploadUrl}` with the image's bytes (and the token, as the Images API asks).
    pub async fn upload_image(&self, slot: &ImageSlot, bytes: &[u8], on_wait: OnWait<'_>) -> Result<()> {
        let url = Url::parse(&slot.upload_url).map_err(|e| LinkedinError::BadResponse {
            status: 200,
            detail: format!("the upload URL is not a URL: {e}"),
        })?;
        self.send(Method::PUT, url, Body::Bytes(bytes), None, Safety::Repeatable, "upload image", on_wait)
            .await
            .map(|_| ())
    }

    /// `/rest/posts/{urn}`, the URN URL-encoded as one segment (`urn%3Ali%3Ashare%3A…`).
    fn post_url(&self, urn: &str) -> Url {
        let mut url = self.http.url(&["rest", "posts"]);
        let encoded: String = url::form_urlencoded::byte_serialize(urn.as_bytes()).collect();
        let path = format!("{}/{encoded}", url.path().trim_end_matches('/'));
        url.set_path(&path);
        url
    }

    #[allow(clippy::too_many_arguments)]
    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Body<'_>,
        restli_method: Option<&str>,
        safety: Safety,
        operation: &'static str,
        on_wait: OnWait<'_>,
    ) -> Result<Value> {
        // The versioned API is everything under `/rest/` of the base (not `/v2/userinfo`, not
        // the upload URL LinkedIn hands out).
        let versioned = url.as_str().starts_with(&format!("{}/", self.http.url(&["rest"])));
        let build = |c: &reqwest::Client| {
            let mut req = c.request(method.clone(), url.clone());
            if versioned {
                req =
                    req.header("LinkedIn-Version", self.version.as_str()).header("X-Restli-Protocol-Version", "2.0.0");
            }
            if let Some(m) = restli_method {
                req = req.header("X-RestLi-Method", m);
            }
            match &body {
                Body::None => req,
                Body::Json(v) => req.json(v),
                Body::Bytes(b) => req.header("Content-Type", "application/octet-stream").body(b.to_vec()),
            }
        };
        let req = Request { operation, safety, write: method != Method::GET, build: &build };
        self.http.send(&LinkedinApi, &req, on_wait).await.map(|(_, v)| v).map_err(|f| self.error(f))
    }

    fn error(&self, f: Failure<Detail>) -> LinkedinError {
        let detail = f.detail.clone().unwrap_or_default();
        let code = detail.code.as_deref().unwrap_or("");
        match f.status {
            Some(426) => return LinkedinError::Version { version: self.version.clone(), message: f.text },
            Some(403) if f.class == Class::Rejected => {
                let scope = if f.operation == "userinfo" { "openid profile" } else { "w_member_social" };
                return LinkedinError::Forbidden { operation: f.operation, scope, message: f.text };
            }
            Some(422) if code == "DUPLICATE_POST" || detail.duplicate_of.is_some() => {
                return LinkedinError::Duplicate { urn: detail.duplicate_of, message: f.text };
            }
            _ => {}
        }
        let plain = Failure {
            class: f.class,
            operation: f.operation,
            status: f.status,
            retry_after: f.retry_after,
            server_text: f.server_text,
            text: f.text,
            detail: None,
            reached: f.reached,
        };
        let unauthorized = plain.text.clone();
        LinkedinError::from_failure(plain, unauthorized, "Too many requests")
    }
}

/// LinkedIn's error shape and its `x-restli-id` success header.
struct LinkedinApi;

impl Classifier for LinkedinApi {
    type Detail = Detail;

    fn classify(&self, status: u16, body: &[u8], _: &'static str) -> Verdict<Detail> {
        let v: Option<Value> = serde_json::from_slice(body).ok();
        let message = v.as_ref().and_then(|v| v.get("message")).and_then(Value::as_str).map(str::to_owned);
        let code = v.as_ref().and_then(|v| {
            v.get("code")
                .and_then(Value::as_str)
                .or_else(|| v.pointer("/errorDetails/inputErrors/0/code").and_then(Value::as_str))
                .and_then(http::error_name)
        });
        let text = match (&code, &message) {
            (Some(c), Some(m)) if !m.contains(c.as_str()) => Some(format!("{c}: {m}")),
            (_, Some(m)) => Some(m.clone()),
            (Some(c), None) => Some(c.clone()),
            (None, None) => None,
        };
        let duplicate_of = (status == 422).then(|| message.as_deref().and_then(duplicate_urn)).flatten();
        Verdict::by_status(status).text(text).detail(Detail { code, duplicate_of })
    }

    fn success_with_headers(&self, _status: u16, headers: &HeaderMap, body: &[u8]) -> Option<Value> {
        // Creates answer 201 with an empty body; other calls JSON.
        let mut v = if body.iter().all(u8::is_ascii_whitespace) { json!({}) } else { http::json_reply(body)? };
        if let Some(id) = headers.get(CREATED_ID).and_then(|h| h.to_str().ok()) {
            if let Value::Object(map) = &mut v {
                map.insert(CREATED_ID.into(), Value::String(url_decode(id)));
            }
        }
        Some(v)
    }
}

/// A header value URL-decoded (LinkedIn may send `urn%3Ali%3Ashare%3A…`).
fn url_decode(s: &str) -> String {
    url::form_urlencoded::parse(s.trim().as_bytes()).next().map(|(k, _)| k.into_owned()).unwrap_or_default()
}

/// The post URN a duplicate message names: `…Content is a duplicate of urn:li:share:123`.
pub fn duplicate_urn(message: &str) -> Option<String> {
    for kind in ["urn:li:share:", "urn:li:ugcPost:"] {
        if let Some(i) = message.find(kind) {
            let digits: String = message[i + kind.len()..].chars().take_while(char::is_ascii_digit).collect();
            if !digits.is_empty() {
                return Some(format!("{kind}{digits}"));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn duplicate_messages_name_the_post() {
        let cases = [
            (
                "com.linkedin.content.common.exception.BadRequestResponseException: Content is a duplicate of urn:li:share:7141138937766391808",
                Some("urn:li:share:7141138937766391808"),
            ),
            ("Content is a duplicate of urn:li:ugcPost:42.", Some("urn:li:ugcPost:42")),
            ("Content is a duplicate of urn:li:share:", None),
            ("Validation failed", None),
        ];
        for (message, want) in cases {
            assert_eq!(duplicate_urn(message).as_deref(), want, "{message}");
        }
    }

    #[test]
    fn error_bodies_are_sorted() {
        let dup = br#"{"errorDetailType":"com.linkedin.common.error.BadRequest","message":"Content is a duplicate of urn:li:share:7","errorDetails":{"inputErrors":[{"description":"Duplicate post is detected","input":{},"code":"DUPLICATE_POST"}]},"status":422}"#;
        let v = LinkedinApi.classify(422, dup, "create post");
        assert_eq!(v.class, Class::Rejected);
        let d = v.detail.unwrap_or_default();
        assert_eq!((d.code.as_deref(), d.duplicate_of.as_deref()), (Some("DUPLICATE_POST"), Some("urn:li:share:7")));

        let old =
            br#"{"status":426,"code":"NONEXISTENT_VERSION","message":"Requested version 20241101 is not active"}"#;
        let v = LinkedinApi.classify(426, old, "create post");
        assert_eq!(v.text.as_deref(), Some("NONEXISTENT_VERSION: Requested version 20241101 is not active"));

        let v = LinkedinApi.classify(
            401,
            br#"{"status":401,"code":"EXPIRED_ACCESS_TOKEN","message":"The token used in the request has expired"}"#,
            "userinfo",
        );
        assert_eq!(v.class, Class::CredentialsInvalid);
        assert_eq!(LinkedinApi.classify(429, b"", "create post").class, Class::RateLimited);
    }

    #[test]
    fn created_ids_are_read_from_the_header_and_decoded() {
        let mut h = HeaderMap::new();
        h.insert(CREATED_ID, HeaderValue::from_static("urn%3Ali%3Ashare%3A7240"));
        let v = LinkedinApi.success_with_headers(201, &h, b"").unwrap_or_default();
        assert_eq!(v[CREATED_ID], "urn:li:share:7240");
        h.insert(CREATED_ID, HeaderValue::from_static("urn:li:ugcPost:9"));
        assert_eq!(
            LinkedinApi.success_with_headers(201, &h, b"  ").unwrap_or_default()[CREATED_ID],
            "urn:li:ugcPost:9"
        );
        assert!(LinkedinApi.success_with_headers(200, &HeaderMap::new(), b"{oops").is_none());
    }

    #[test]
    fn post_urls_encode_the_urn() {
        let c = LinkedinClient::new(
            "http://127.0.0.1:9/",
            &SecretString::from("tok".to_owned()),
            "202510",
            ClientOptions::default(),
        );
        assert_eq!(c.post_url("urn:li:share:1").as_str(), "http://127.0.0.1:9/rest/posts/urn%3Ali%3Ashare%3A1");
    }
}
