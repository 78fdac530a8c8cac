//! XRPC client for a Bluesky PDS: the calls a publisher needs.
//!
//! - `com.atproto.server.createSession` once per run with the app password;
//!   `refreshSession` when a call answers `ExpiredToken` (once per expiry);
//!   later calls go to the PDS named in the session's DID document (the
//!   `#atproto_pds` service) when there is one, else to the sign-in service.
//! - `com.atproto.repo.uploadBlob`, `putRecord`, `getRecord`, `listRecords`,
//!   `deleteRecord`, `com.atproto.identity.resolveHandle`, `app.bsky.feed.getPosts`.
//!
//! Errors arrive as `{"error": "<Name>", "message": "…"}` and are sorted into
//! an [`XrpcError`] the caller can act on: a bad password is fatal for Bluesky
//! (not for the other platforms); a request the server refused is `Rejected`;
//! 429 waits for `RateLimit-Reset` (bounded) and tries again; 5xx, timeouts and
//! dropped connections are retried with exponential backoff (every call here
//! lands on the same result when repeated: blobs are content-addressed and
//! records are written under keys crier chose); a write whose reply never
//! came after the retries is `Ambiguous`.
//!
//! The password and the session JWTs travel only in request bodies and the
//! `Authorization` header; every message that leaves this module is redacted
//! and `Debug` never shows them.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;

use crate::platforms::http::{self, Class, Classifier, Failure, HttpClient, Request, Safety, Verdict};

/// `app.bsky.feed.getPosts` takes at most this many URIs (`uris` `maxLength`).
pub const GET_POSTS_MAX: usize = 25;

/// Bounds for retries and timeouts (crier.yaml `publish:`; tests make them small).
pub use crate::platforms::http::HttpOptions as ClientOptions;

/// Failures of an XRPC call, sorted by what the caller should do.
#[derive(Debug, Clone, thiserror::Error)]
pub enum XrpcError {
    /// Sign-in refused (wrong identifier or app password, account taken down,
    /// 2FA asked for): stop publishing to Bluesky for this run.
    #[error("Bluesky refused the sign-in ({error}: {message}); {hint}")]
    Auth { error: String, message: String, hint: &'static str },
    /// The server refused the request; sending it again fails again.
    #[error("Bluesky rejected {operation} (HTTP {status} {error}: {message})")]
    Rejected { operation: &'static str, status: u16, error: String, message: String },
    /// Still rate limited when the wait bound ran out.
    #[error("Bluesky rate limit reached during {operation} (HTTP 429: {message}); try again in {} s", .retry_after.as_secs())]
    RateLimited { operation: &'static str, retry_after: Duration, message: String },
    /// A temporary failure that outlasted the retries; nothing was written.
    #[error("temporary Bluesky failure during {operation}: {message}")]
    Transient { operation: &'static str, message: String },
    /// A write was sent but no reply came back, even after retrying: it may
    /// have taken effect. The next run looks at the record key first.
    #[error("the Bluesky {operation} request was sent but its reply was lost ({message})")]
    Ambiguous { operation: &'static str, message: String },
    /// A 2xx reply of an unexpected shape.
    #[error("unexpected reply from Bluesky to {operation} (HTTP {status}): {detail}")]
    BadResponse { operation: &'static str, status: u16, detail: String },
}

impl XrpcError {
    pub fn is_fatal(&self) -> bool {
        matches!(self, Self::Auth { .. })
    }

    pub fn is_ambiguous(&self) -> bool {
        matches!(self, Self::Ambiguous { .. })
    }

    /// The XRPC error name (`InvalidSwap`, `RecordNotFound`, …) of a refusal.
    pub fn xrpc_name(&self) -> Option<&str> {
        match self {
            Self::Rejected { error, .. } | Self::Auth { error, .. } => Some(error),
            _ => None,
        }
    }
}

pub type Result<T, E = XrpcError> = std::result::Result<T, E>;

/// A record's strong reference.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StrongRef {
    pub uri: String,
    pub cid: String,
}

impl StrongRef {
    pub fn to_json(&self) -> Value {
        json!({"uri": self.uri, "cid": self.cid})
    }
}

/// A record as `getRecord`/`listRecords` return it.
#[derive(Debug, Clone, Deserialize)]
pub struct RecordView {
    pub uri: String,
    #[serde(default)]
    pub cid: Option<String>,
    pub value: Value,
}

/// Who signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub did: String,
    pub handle: String,
    /// Where repository calls go.
    pub pds: String,
}

struct Tokens {
    access: SecretString,
    refresh: SecretString,
}

/// A client for one account. Cheap to clone; clones share the session.
#[derive(Clone)]
pub struct XrpcClient {
    http: HttpClient,
    state: Arc<Mutex<State>>,
}

struct State {
    pds: Url,
    tokens: Option<Tokens>,
    account: Option<Account>,
}

impl fmt::Debug for XrpcClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("XrpcClient").field("http", &self.http).finish_non_exhaustive()
    }
}

/// How a request carries credentials.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Auth {
    None,
    Access,
    Refresh,
}

enum Body {
    Empty,
    Json(Value),
    Raw { bytes: Vec<u8>, mime: String },
}

/// Whether the call writes (a lost reply is then ambiguous, not just transient).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Read,
    Write,
}

impl XrpcClient {
    /// A client for `service` (e.g. [`super::DEFAULT_SERVICE`]); an unparsable
    /// URL falls back to the default.
    pub fn new(service: &str, opts: ClientOptions) -> Self {
        let service = http::base_url(service, super::DEFAULT_SERVICE);
        Self {
            // Secrets are added as they come (the password, then the session's JWTs).
            http: HttpClient::new(opts, service.clone(), std::iter::empty::<&str>()),
            state: Arc::new(Mutex::new(State { pds: service, tokens: None, account: None })),
        }
    }

    /// HTTP requests sent so far (every attempt).
    pub fn calls(&self) -> u64 {
        self.http.calls()
    }

    /// The signed-in account, once [`Self::sign_in`] succeeded.
    pub fn account(&self) -> Option<Account> {
        self.lock().account.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn remember_secret(&self, s: &str) {
        self.http.hide(s);
    }

    /// `createSession` with a handle (or DID, or email) and an app password.
    pub async fn sign_in(&self, identifier: &str, password: &SecretString) -> Result<Account> {
        self.remember_secret(password.expose_secret());
        let body = json!({"identifier": identifier.trim(), "password": password.expose_secret()});
        let reply = self
            .call("sign in", Method::POST, "com.atproto.server.createSession", &[], Body::Json(body), Auth::None, Kind::Read)
            .await
            .map_err(|e| match e {
                XrpcError::Rejected { status, error, message, .. } if status == 401 || status == 400 => {
                    let hint = match error.as_str() {
                        "AuthFactorTokenRequired" => {
                            "the account asks for a sign-in code: use an app password (Settings → Privacy and security → App passwords) in BLUESKY_APP_PASSWORD"
                        }
                        "AccountTakedown" | "AccountDeactivated" => "the account cannot post; check it in the Bluesky app",
                        _ => "check BLUESKY_IDENTIFIER (your handle, e.g. you.bsky.social) and BLUESKY_APP_PASSWORD (an app password, not your account password)",
                    };
                    XrpcError::Auth { error, message, hint }
                }
                other => other,
            })?;
        self.take_session(&reply, "sign in")
    }

    fn take_session(&self, reply: &Value, operation: &'static str) -> Result<Account> {
        let field = |k: &str| reply.get(k).and_then(Value::as_str).map(str::to_owned);
        let (Some(access), Some(refresh), Some(did)) = (field("accessJwt"), field("refreshJwt"), field("did")) else {
            return Err(XrpcError::BadResponse {
                operation,
                status: 200,
                detail: "the session lacks accessJwt, refreshJwt or did".into(),
            });
        };
        self.remember_secret(&access);
        self.remember_secret(&refresh);
        let pds = reply.get("didDoc").and_then(pds_from_did_doc);
        let mut g = self.lock();
        if let Some(pds) = &pds {
            g.pds = pds.clone();
        }
        let account = Account { did, handle: field("handle").unwrap_or_default(), pds: g.pds.to_string() };
        g.tokens = Some(Tokens { access: access.into(), refresh: refresh.into() });
        g.account = Some(account.clone());
        Ok(account)
    }

    /// `refreshSession` with the refresh token; replaces both tokens.
    async fn refresh(&self) -> Result<()> {
        let reply = self
            .call(
                "refresh the session",
                Method::POST,
                "com.atproto.server.refreshSession",
                &[],
                Body::Empty,
                Auth::Refresh,
                Kind::Read,
            )
            .await
            .map_err(|e| match e {
                XrpcError::Rejected { error, message, .. } => XrpcError::Auth {
                    error,
                    message,
                    hint: "the session could not be renewed; run publish again to sign in anew",
                },
                other => other,
            })?;
        self.take_session(&reply, "refresh the session").map(|_| ())
    }

    /// `uploadBlob`: returns the blob object to put into a record as-is.
    pub async fn upload_blob(&self, bytes: Vec<u8>, mime: &str) -> Result<Value> {
        let body = Body::Raw { bytes, mime: mime.to_owned() };
        let reply = self.write("upload an image", "com.atproto.repo.uploadBlob", body).await?;
        match reply.get("blob") {
            Some(blob) if blob.get("ref").is_some() => Ok(blob.clone()),
            _ => Err(XrpcError::BadResponse {
                operation: "upload an image",
                status: 200,
                detail: "no `blob` with a `ref` in the reply".into(),
            }),
        }
    }

    /// `putRecord` at `rkey`. With `only_if_absent` the server refuses with
    /// `InvalidSwap` when the key already holds a record (`swapRecord: null`),
    /// so a record of someone else's is never replaced.
    pub async fn put_record(
        &self,
        collection: &str,
        rkey: &str,
        record: &Value,
        only_if_absent: bool,
    ) -> Result<StrongRef> {
        let did = self.did()?;
        let mut body = json!({"repo": did, "collection": collection, "rkey": rkey, "validate": true, "record": record});
        if only_if_absent {
            body["swapRecord"] = Value::Null;
        }
        let reply = self.write("write a post", "com.atproto.repo.putRecord", Body::Json(body)).await?;
        serde_json::from_value(reply).map_err(|e| XrpcError::BadResponse {
            operation: "write a post",
            status: 200,
            detail: format!("no uri/cid: {e}"),
        })
    }

    /// `getRecord`: `None` when the key holds no record (`RecordNotFound`).
    pub async fn get_record(&self, collection: &str, rkey: &str) -> Result<Option<RecordView>> {
        let did = self.did()?;
        let query = [("repo", did.as_str()), ("collection", collection), ("rkey", rkey)];
        match self
            .call(
                "read a post",
                Method::GET,
                "com.atproto.repo.getRecord",
                &query,
                Body::Empty,
                Auth::Access,
                Kind::Read,
            )
            .await
        {
            Ok(reply) => serde_json::from_value(reply).map(Some).map_err(|e| XrpcError::BadResponse {
                operation: "read a post",
                status: 200,
                detail: e.to_string(),
            }),
            Err(e) if e.xrpc_name() == Some("RecordNotFound") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `deleteRecord`: `true` when a record was deleted, `false` when the key held none.
    /// The PDS answers both with 200 ("delete a record, or ensure it doesn't exist"); only
    /// a deletion carries a `commit`. Repeating it is harmless, so lost replies are retried.
    pub async fn delete_record(&self, collection: &str, rkey: &str) -> Result<bool> {
        let did = self.did()?;
        let body = json!({"repo": did, "collection": collection, "rkey": rkey});
        let reply = self.write("delete a post", "com.atproto.repo.deleteRecord", Body::Json(body)).await?;
        Ok(reply.get("commit").is_some_and(|c| !c.is_null()))
    }

    /// One page of `listRecords` (newest key first) and the cursor of the next.
    pub async fn list_records(
        &self,
        collection: &str,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<(Vec<RecordView>, Option<String>)> {
        let did = self.did()?;
        let limit = limit.clamp(1, 100).to_string();
        let mut query = vec![("repo", did.as_str()), ("collection", collection), ("limit", limit.as_str())];
        if let Some(c) = cursor {
            query.push(("cursor", c));
        }
        let reply = self
            .call(
                "list posts",
                Method::GET,
                "com.atproto.repo.listRecords",
                &query,
                Body::Empty,
                Auth::Access,
                Kind::Read,
            )
            .await?;
        let records: Vec<RecordView> = reply
            .get("records")
            .cloned()
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| XrpcError::BadResponse { operation: "list posts", status: 200, detail: e.to_string() })?
            .unwrap_or_default();
        let next = reply.get("cursor").and_then(Value::as_str).map(str::to_owned);
        Ok((records, next))
    }

    /// `app.bsky.feed.getPosts` (at most [`GET_POSTS_MAX`] URIs): the `postView`s found,
    /// through the PDS, which proxies it to the AppView. A post that is gone is left out.
    pub async fn get_posts(&self, uris: &[&str]) -> Result<Vec<Value>> {
        let query: Vec<(&str, &str)> = uris.iter().map(|u| ("uris", *u)).collect();
        let reply = self
            .call("read posts", Method::GET, "app.bsky.feed.getPosts", &query, Body::Empty, Auth::Access, Kind::Read)
            .await?;
        Ok(reply.get("posts").and_then(Value::as_array).cloned().unwrap_or_default())
    }

    /// `resolveHandle`: the DID, or `None` when the handle does not resolve.
    pub async fn resolve_handle(&self, handle: &str) -> Result<Option<String>> {
        let query = [("handle", handle)];
        match self
            .call(
                "resolve a handle",
                Method::GET,
                "com.atproto.identity.resolveHandle",
                &query,
                Body::Empty,
                Auth::Access,
                Kind::Read,
            )
            .await
        {
            Ok(reply) => Ok(reply.get("did").and_then(Value::as_str).map(str::to_owned)),
            Err(XrpcError::Rejected { status: 400 | 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn did(&self) -> Result<String> {
        self.lock().account.as_ref().map(|a| a.did.clone()).ok_or_else(|| XrpcError::Auth {
            error: "AuthMissing".into(),
            message: "not signed in".into(),
            hint: "sign in first",
        })
    }

    /// A signed-in POST that changes the repository.
    async fn write(&self, operation: &'static str, nsid: &str, body: Body) -> Result<Value> {
        self.call(operation, Method::POST, nsid, &[], body, Auth::Access, Kind::Write).await
    }

    /// One XRPC call through the shared loop (every call here lands on the same result
    /// when repeated, so all are retried). Returns the reply's JSON (`{}` for an empty body).
    #[allow(clippy::too_many_arguments)]
    async fn call(
        &self,
        operation: &'static str,
        method: Method,
        nsid: &str,
        query: &[(&str, &str)],
        body: Body,
        auth: Auth,
        kind: Kind,
    ) -> Result<Value> {
        let mut refreshed = false;
        loop {
            let (url, token) = {
                let g = self.lock();
                // Sign-in and refresh go to the service; the rest to the account's PDS.
                let base = if auth == Auth::Access { &g.pds } else { self.http.base() };
                let token = match auth {
                    Auth::None => None,
                    Auth::Access => g.tokens.as_ref().map(|t| t.access.expose_secret().to_owned()),
                    Auth::Refresh => g.tokens.as_ref().map(|t| t.refresh.expose_secret().to_owned()),
                };
                (http::join(base, &["xrpc", nsid]), token)
            };
            let bearer = match token {
                Some(t) => Some(http::secret_header(&format!("Bearer {t}")).ok_or_else(|| XrpcError::Auth {
                    error: "InvalidToken".into(),
                    message: "the session token is not a valid header value".into(),
                    hint: "sign in again",
                })?),
                None => None,
            };
            let build = |c: &reqwest::Client| {
                let mut req = c.request(method.clone(), url.clone()).query(query);
                if let Some(b) = &bearer {
                    req = req.header(AUTHORIZATION, b.clone());
                }
                match &body {
                    Body::Empty => req,
                    Body::Json(v) => req.json(v),
                    Body::Raw { bytes, mime } => req.header(CONTENT_TYPE, mime.as_str()).body(bytes.clone()),
                }
            };
            let req = Request { operation, safety: Safety::Repeatable, write: false, build: &build };
            let f = match self.http.send(&Xrpc, &req, &http::quiet).await {
                Ok((_, v)) => return Ok(v),
                Err(f) => f,
            };
            let error = f.detail.clone().unwrap_or_default();
            // An expired access token: renew it once and send again.
            if auth == Auth::Access
                && !refreshed
                && (error == "ExpiredToken" || (f.status == Some(401) && error == "InvalidToken"))
            {
                refreshed = true;
                Box::pin(self.refresh()).await?;
                continue;
            }
            return Err(XrpcError::from_failure(f, error, auth, kind));
        }
    }
}

/// XRPC's error shape, `{"error": "<Name>", "message": "…"}`; the status says the rest.
struct Xrpc;

impl Classifier for Xrpc {
    /// The error name (`InvalidSwap`, `RecordNotFound`, …; the HTTP reason when the body has none).
    type Detail = String;

    fn classify(&self, status: u16, body: &[u8], _: &'static str) -> Verdict<String> {
        #[derive(Deserialize)]
        struct ErrBody {
            error: Option<String>,
            message: Option<String>,
        }
        let verdict = Verdict::by_status(status);
        match serde_json::from_slice::<ErrBody>(body) {
            Ok(ErrBody { error: Some(error), message }) if http::error_name(&error).is_some() => {
                verdict.text(Some(message.unwrap_or_default())).detail(error)
            }
            _ => {
                let reason = StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Error");
                verdict.detail(reason.replace(' ', ""))
            }
        }
    }

    /// Any JSON; an empty body (some procedures answer nothing) is `{}`.
    fn success(&self, _: u16, body: &[u8]) -> Option<Value> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Some(json!({}));
        }
        serde_json::from_slice(body).ok()
    }
}

impl XrpcError {
    fn from_failure(f: Failure<String>, error: String, auth: Auth, kind: Kind) -> Self {
        let operation = f.operation;
        let status = f.status.unwrap_or(0);
        match f.class {
            Class::RateLimited => {
                Self::RateLimited { operation, retry_after: f.retry_after.unwrap_or_default(), message: f.text }
            }
            Class::CredentialsInvalid if auth == Auth::Access => Self::Auth {
                error,
                message: f.text,
                hint: "the session was refused; check the app password and sign in again",
            },
            Class::CredentialsInvalid | Class::Rejected => Self::Rejected { operation, status, error, message: f.text },
            Class::Transient | Class::Throttled | Class::Ambiguous => {
                if (200..300).contains(&status) {
                    return Self::BadResponse { operation, status, detail: f.text };
                }
                let message = if f.status.is_some() { format!("HTTP {status} {error}: {}", f.text) } else { f.text };
                // A write that reached the server but was never answered may have landed.
                if kind == Kind::Write && f.reached {
                    Self::Ambiguous { operation, message }
                } else {
                    Self::Transient { operation, message }
                }
            }
        }
    }
}

/// The `#atproto_pds` service endpoint of a DID document.
fn pds_from_did_doc(doc: &Value) -> Option<Url> {
    doc.get("service")?
        .as_array()?
        .iter()
        .find(|s| {
            s.get("id").and_then(Value::as_str).is_some_and(|id| id == "#atproto_pds" || id.ends_with("#atproto_pds"))
        })
        .and_then(|s| s.get("serviceEndpoint")?.as_str())
        .and_then(|u| Url::parse(u).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_pds_from_the_did_document() {
        let doc = json!({"service": [
            {"id": "#other", "type": "X", "serviceEndpoint": "https://nope.example"},
            {"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": "https://pds.example.com"}
        ]});
        assert_eq!(pds_from_did_doc(&doc).map(|u| u.to_string()), Some("https://pds.example.com/".into()));
        assert_eq!(pds_from_did_doc(&json!({"service": []})), None);
        assert_eq!(pds_from_did_doc(&json!({"service": [{"id": "#atproto_pds", "serviceEndpoint": "ftp://x"}]})), None);
    }

    #[test]
    fn an_error_name_that_is_not_a_name_is_not_kept() {
        // A server (or a proxy) that echoes the sign-in request in `error`: the name is
        // kept outside the redacted text, so only a name may pass.
        let echoed =
            json!({"error": "body={\"identifier\":\"me\",\"password\":\"app-pass-word-1234\"}", "message": "no"});
        let cases = [
            (
                json!({"error": "AuthenticationRequired", "message": "Invalid identifier or password"}),
                "AuthenticationRequired",
            ),
            (echoed, "Forbidden"),
        ];
        for (body, want) in cases {
            let v = Xrpc.classify(403, body.to_string().as_bytes(), "com.atproto.server.createSession");
            assert_eq!(v.detail.as_deref(), Some(want), "{body}");
        }
    }

    #[test]
    fn debug_and_messages_hide_secrets() {
        let c = XrpcClient::new("https://pds.example", ClientOptions::default());
        c.remember_secret("app-pass-word-1234");
        let redacted = c.http.redactor().redact("bad app-pass-word-1234 and app-pass-word-1234");
        assert_eq!(redacted, "bad [REDACTED] and [REDACTED]");
        assert!(!format!("{c:?}").contains("app-pass"));
    }
}
