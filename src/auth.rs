//! Threads OAuth for `crier auth`: the authorize URL, reading the code (pasted, or from a
//! redirect to a local listener), the token endpoints (code → short-lived token →
//! long-lived token, refresh), their error bodies, and updating a `.env` file in place.
//!
//! Token endpoints live at the API root (`/oauth/access_token`, `/access_token`,
//! `/refresh_access_token`), not under `/v1.0/`. Their errors come either in the flat OAuth
//! shape `{"error_type","code","error_message"}` or in the Graph envelope `{"error":{…}}`;
//! both are read into [`AuthError::Rejected`].
//!
//! Secrets (app secret, code, tokens) never appear in an [`AuthError`]: reqwest errors are
//! stripped of their URL and server messages are scrubbed of every secret sent.

use std::fmt::Write as _;
use std::io;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;

/// Where the user approves the app (Meta's docs; not configurable by the API base URL).
pub const AUTHORIZE_URL: &str = "https://threads.net/oauth/authorize";

/// Scopes crier asks for: reading the profile, publishing, replying in its own chains, and
/// deleting its posts (`crier delete`).
pub const SCOPES: &str = "threads_basic,threads_content_publish,threads_manage_replies,threads_delete";

/// `.env` keys `crier auth` writes.
pub const KEY_TOKEN: &str = "THREADS_ACCESS_TOKEN";
pub const KEY_USER_ID: &str = "THREADS_USER_ID";
pub const KEY_USERNAME: &str = "THREADS_USERNAME";
pub const KEY_EXPIRES_AT: &str = "THREADS_TOKEN_EXPIRES_AT";

/// Long-lived tokens last 60 days; one refreshed less than a day ago cannot be refreshed.
pub const LONG_LIVED: chrono::TimeDelta = chrono::TimeDelta::days(60);

const REDACTED: &str = "[REDACTED]";

/// What went wrong while getting or refreshing a token.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    /// Threads answered with an error body (flat OAuth shape or Graph envelope).
    #[error("Threads refused the request (HTTP {status}{}): {message}", describe_code(*.code, *.subcode))]
    Rejected {
        status: u16,
        /// `code` of either shape.
        code: Option<i64>,
        /// Graph `error_subcode`.
        subcode: Option<i64>,
        /// `error_type` / `type`, e.g. `OAuthException`.
        kind: Option<String>,
        /// Server message, redacted.
        message: String,
    },
    /// No usable reply: connection failure, timeout.
    #[error("could not reach Threads: {0}")]
    Transport(String),
    /// A reply that is not the documented JSON.
    #[error("unexpected reply from Threads (HTTP {status}): {detail}")]
    BadResponse { status: u16, detail: String },
    /// The user cancelled on the consent screen (`?error=access_denied`).
    #[error("the authorization was not granted: {0}")]
    Denied(String),
    /// The code, URL or redirect given is unusable.
    #[error("{0}")]
    Input(String),
}

fn describe_code(code: Option<i64>, subcode: Option<i64>) -> String {
    match (code, subcode) {
        (Some(c), Some(s)) => format!(", code {c}, subcode {s}"),
        (Some(c), None) => format!(", code {c}"),
        _ => String::new(),
    }
}

/// The short-lived token and the user it belongs to.
pub struct ShortLived {
    pub access_token: SecretString,
    /// Exactly as sent (the API sends a JSON number above 2^53, or a string).
    pub user_id: String,
}

/// A long-lived token (from the exchange or a refresh).
pub struct LongLived {
    pub access_token: SecretString,
    /// Seconds until expiry (60 days when the API omits it).
    pub expires_in: u64,
}

impl LongLived {
    pub fn expires_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + chrono::TimeDelta::seconds(
            i64::try_from(self.expires_in).unwrap_or(i64::MAX / 1000).min(10 * 365 * 86_400),
        )
    }
}

// ---------------------------------------------------------------------------
// Authorize URL, state, code input

/// `https://threads.net/oauth/authorize?client_id=…&redirect_uri=…&scope=…&response_type=code&state=…`.
pub fn authorize_url(app_id: &str, redirect_uri: &str, state: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "{AUTHORIZE_URL}?client_id={}&redirect_uri={}&scope={SCOPES}&response_type=code&state={}",
        enc(app_id),
        enc(redirect_uri),
        enc(state)
    )
}

/// 32 random hex digits.
pub fn random_state() -> String {
    let mut rng = rand::rng();
    let mut s = String::with_capacity(32);
    for _ in 0..16 {
        let _ = write!(s, "{:02x}", rng.random::<u8>());
    }
    s
}

/// A code read from `--code` or a pasted redirect URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeInput {
    pub code: String,
    /// `state` of a pasted URL, when it had one.
    pub state: Option<String>,
}

/// Accepts a bare code (`AQB…#_`) or the whole redirected URL (`https://…/cb?code=AQB…&state=…#_`);
/// the `#_` Threads appends is not part of the code and is dropped.
pub fn parse_code_input(input: &str) -> Result<CodeInput, AuthError> {
    let input = input.trim();
    let looks_like_url = input.contains("://") || input.starts_with('?') || input.contains("code=");
    if !looks_like_url {
        let code = input.split('#').next().unwrap_or("").trim();
        if code.is_empty() {
            return Err(AuthError::Input("the code is empty".into()));
        }
        if code.chars().any(|c| c.is_whitespace() || c == '&' || c == '?') {
            return Err(AuthError::Input(
                "that does not look like an authorization code; pass the `code` value or the whole URL you were redirected to"
                    .into(),
            ));
        }
        return Ok(CodeInput { code: code.to_owned(), state: None });
    }
    let without_fragment = input.split('#').next().unwrap_or("");
    let query = match without_fragment.find('?') {
        Some(i) => &without_fragment[i + 1..],
        None => without_fragment,
    };
    let mut code = None;
    let mut state = None;
    let mut error = None;
    let mut error_description = None;
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "code" => code = Some(v.into_owned()),
            "state" => state = Some(v.into_owned()),
            "error" => error = Some(v.into_owned()),
            "error_description" => error_description = Some(v.into_owned()),
            _ => {}
        }
    }
    if let Some(e) = error {
        return Err(AuthError::Denied(error_description.map(|d| format!("{e}: {d}")).unwrap_or(e)));
    }
    match code.map(|c| c.trim_end_matches("#_").trim().to_owned()).filter(|c| !c.is_empty()) {
        Some(code) => Ok(CodeInput { code, state }),
        None => Err(AuthError::Input("the URL has no `code` parameter".into())),
    }
}

/// Where a loopback redirect URI (`http://localhost:PORT/path` or `http://127.0.0.1:PORT/path`)
/// is received: the address to bind and the path to expect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loopback {
    pub bind: String,
    pub port: u16,
    pub path: String,
}

/// `Some` when the redirect URI points at this machine over plain http.
pub fn loopback(redirect_uri: &str) -> Option<Loopback> {
    let url = Url::parse(redirect_uri).ok()?;
    if url.scheme() != "http" {
        return None;
    }
    let bind = match url.host()? {
        url::Host::Domain(d) if d.eq_ignore_ascii_case("localhost") => "127.0.0.1".to_owned(),
        url::Host::Ipv4(ip) if ip.is_loopback() => ip.to_string(),
        url::Host::Ipv6(ip) if ip.is_loopback() => "::1".to_owned(),
        _ => return None,
    };
    let port = url.port_or_known_default()?;
    Some(Loopback { bind, port, path: url.path().to_owned() })
}

/// `redirect_uri` with its port replaced (used when it asked for port 0).
pub fn with_port(redirect_uri: &str, port: u16) -> String {
    match Url::parse(redirect_uri) {
        Ok(mut u) => {
            let _ = u.set_port(Some(port));
            u.to_string()
        }
        Err(_) => redirect_uri.to_owned(),
    }
}

// ---------------------------------------------------------------------------
// Local listener

const PAGE_OK: &str = "<!doctype html><meta charset=utf-8><title>crier</title>\
<h1>crier is authorized</h1><p>You can close this tab and return to the terminal.</p>";
const PAGE_STATE: &str = "<!doctype html><meta charset=utf-8><title>crier</title>\
<h1>This redirect does not belong to the running <code>crier auth threads</code></h1>\
<p>Its <code>state</code> does not match. Open the URL crier printed, from the same run.</p>";
const PAGE_DENIED: &str = "<!doctype html><meta charset=utf-8><title>crier</title>\
<h1>Authorization was not granted</h1><p>Run <code>crier auth threads</code> again to retry.</p>";
const PAGE_NOT_FOUND: &str = "<!doctype html><meta charset=utf-8><title>crier</title><h1>Not found</h1>";

enum Received {
    Code(String),
    Denied(String),
    WrongState,
    Other,
}

/// Serves the redirect on `listener` until a request to `path` arrives with the expected
/// `state` and a code (or an `error`), or `timeout` passes. Requests with another `state`
/// are answered with HTTP 400 and reported through `on_wrong_state`; waiting goes on.
pub async fn receive_redirect(
    listener: TcpListener,
    path: &str,
    state: &str,
    timeout: Duration,
    on_wrong_state: impl Fn(),
) -> Result<String, AuthError> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Received>(16);
    let path = if path.is_empty() { "/".to_owned() } else { path.to_owned() };
    let state = state.to_owned();
    let accept = async {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let tx = tx.clone();
            let path = path.clone();
            let state = state.clone();
            // Browsers open spare connections that never send anything: one task each.
            tokio::spawn(async move {
                if let Ok(Ok(got)) =
                    tokio::time::timeout(Duration::from_secs(10), serve_one(stream, &path, &state)).await
                {
                    let _ = tx.send(got).await;
                }
            });
        }
    };
    let wait = async {
        while let Some(got) = rx.recv().await {
            match got {
                Received::Code(c) => return Ok(c),
                Received::Denied(why) => return Err(AuthError::Denied(why)),
                Received::WrongState => on_wrong_state(),
                Received::Other => {}
            }
        }
        Err(AuthError::Input("the listener stopped".into()))
    };
    let result = tokio::time::timeout(timeout, async {
        tokio::select! {
            r = wait => r,
            () = accept => Err(AuthError::Input("the listener stopped".into())),
        }
    })
    .await;
    match result {
        Ok(r) => r,
        Err(_) => Err(AuthError::Input(format!(
            "no redirect arrived within {} s; run `crier auth threads` again (or pass `--code`)",
            timeout.as_secs()
        ))),
    }
}

async fn serve_one(mut stream: tokio::net::TcpStream, path: &str, state: &str) -> io::Result<Received> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf);
    let mut words = head.lines().next().unwrap_or("").split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let (req_path, query) = target.split_once('?').unwrap_or((target, ""));
    let (status, page, got) = if method != "GET" || req_path != path {
        ("404 Not Found", PAGE_NOT_FOUND, Received::Other)
    } else {
        let mut code = None;
        let mut got_state = None;
        let mut error = None;
        let mut description = None;
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            match k.as_ref() {
                "code" => code = Some(v.into_owned()),
                "state" => got_state = Some(v.into_owned()),
                "error" => error = Some(v.into_owned()),
                "error_description" => description = Some(v.into_owned()),
                _ => {}
            }
        }
        if got_state.as_deref() != Some(state) {
            ("400 Bad Request", PAGE_STATE, Received::WrongState)
        } else if let Some(e) = error {
            ("200 OK", PAGE_DENIED, Received::Denied(description.map(|d| format!("{e}: {d}")).unwrap_or(e)))
        } else if let Some(c) = code.map(|c| c.trim_end_matches("#_").to_owned()).filter(|c| !c.is_empty()) {
            ("200 OK", PAGE_OK, Received::Code(c))
        } else {
            ("400 Bad Request", PAGE_NOT_FOUND, Received::Other)
        }
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{page}",
        page.len()
    );
    stream.write_all(response.as_bytes()).await?;
    let _ = stream.shutdown().await;
    Ok(got)
}

// ---------------------------------------------------------------------------
// Token endpoints

/// Client for the token endpoints at the API root.
pub struct OAuthClient {
    http: reqwest::Client,
    base: Url,
}

impl OAuthClient {
    /// `base_url` as in `CRIER_THREADS_API_URL` (default `https://graph.threads.net`).
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, AuthError> {
        let base = Url::parse(base_url.trim())
            .ok()
            .filter(|u| !u.cannot_be_a_base())
            .ok_or_else(|| AuthError::Input(format!("CRIER_THREADS_API_URL `{base_url}` is not a URL")))?;
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("crier/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Ok(Self { http, base })
    }

    fn url(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut segs) = url.path_segments_mut() {
            segs.pop_if_empty().extend(path.split('/'));
        }
        url
    }

    /// `POST /oauth/access_token` (form body): code → short-lived token and user id.
    pub async fn exchange_code(
        &self,
        app_id: &str,
        app_secret: &SecretString,
        code: &str,
        redirect_uri: &str,
    ) -> Result<ShortLived, AuthError> {
        let form = [
            ("client_id", app_id),
            ("client_secret", app_secret.expose_secret()),
            ("code", code),
            ("grant_type", "authorization_code"),
            ("redirect_uri", redirect_uri),
        ];
        let secrets = [app_secret.expose_secret(), code];
        let req = self.http.post(self.url("oauth/access_token")).form(&form);
        let (v, raw) = self.send(req, &secrets).await?;
        let token = access_token(&v)?;
        let user_id = json_id(&v, &raw, "user_id")
            .ok_or_else(|| AuthError::BadResponse { status: 200, detail: "the token reply has no `user_id`".into() })?;
        Ok(ShortLived { access_token: token, user_id })
    }

    /// `GET /access_token?grant_type=th_exchange_token`: short-lived → long-lived (60 days).
    pub async fn long_lived(&self, app_secret: &SecretString, short: &SecretString) -> Result<LongLived, AuthError> {
        let query = [
            ("grant_type", "th_exchange_token"),
            ("client_secret", app_secret.expose_secret()),
            ("access_token", short.expose_secret()),
        ];
        let secrets = [app_secret.expose_secret(), short.expose_secret()];
        let (v, _) = self.send(self.http.get(self.url("access_token")).query(&query), &secrets).await?;
        long_lived_of(&v)
    }

    /// `GET /refresh_access_token?grant_type=th_refresh_token`: a new 60-day token.
    pub async fn refresh(&self, token: &SecretString) -> Result<LongLived, AuthError> {
        let query = [("grant_type", "th_refresh_token"), ("access_token", token.expose_secret())];
        let secrets = [token.expose_secret()];
        let (v, _) = self.send(self.http.get(self.url("refresh_access_token")).query(&query), &secrets).await?;
        long_lived_of(&v)
    }

    async fn send(&self, req: reqwest::RequestBuilder, secrets: &[&str]) -> Result<(Value, String), AuthError> {
        let resp = req.send().await.map_err(|e| transport(e, secrets))?;
        let status = resp.status().as_u16();
        let body = resp.text().await.map_err(|e| transport(e, secrets))?;
        let parsed = serde_json::from_str::<Value>(&body).ok().filter(Value::is_object);
        if (200..300).contains(&status) {
            if let Some(v) = parsed {
                return Ok((v, body));
            }
        }
        if let Some(e) = parsed.as_ref().and_then(|v| parse_error(v, status, secrets)) {
            return Err(e);
        }
        Err(AuthError::BadResponse { status, detail: describe_body(&body, secrets) })
    }
}

fn transport(e: reqwest::Error, secrets: &[&str]) -> AuthError {
    let e = e.without_url();
    let mut text = if e.is_timeout() { "no reply in time".to_owned() } else { "connection failed".to_owned() };
    let mut source: Option<&dyn std::error::Error> = Some(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    AuthError::Transport(redact(&text, secrets))
}

/// Reads either error shape: flat `{"error_type","code","error_message"}` or `{"error":{…}}`.
pub fn parse_error(v: &Value, status: u16, secrets: &[&str]) -> Option<AuthError> {
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    if let Some(e) = v.get("error").filter(|e| e.is_object()) {
        let mut message = text(e, "message").unwrap_or_else(|| "no message".into());
        if let Some(m) = text(e, "error_user_msg") {
            message.push_str(" — ");
            message.push_str(&m);
        }
        return Some(AuthError::Rejected {
            status,
            code: e.get("code").and_then(Value::as_i64),
            subcode: e.get("error_subcode").and_then(Value::as_i64),
            kind: text(e, "type"),
            message: redact(&message, secrets),
        });
    }
    if v.get("error_message").is_some() || v.get("error_type").is_some() {
        return Some(AuthError::Rejected {
            status,
            code: v.get("code").and_then(Value::as_i64),
            subcode: None,
            kind: text(v, "error_type"),
            message: redact(&text(v, "error_message").unwrap_or_else(|| "no message".into()), secrets),
        });
    }
    // `?error=…&error_description=…`-style JSON (OAuth 2.0 generic).
    if let (Some(e), d) = (text(v, "error"), text(v, "error_description")) {
        return Some(AuthError::Rejected {
            status,
            code: None,
            subcode: None,
            kind: Some(e.clone()),
            message: redact(&d.unwrap_or(e), secrets),
        });
    }
    None
}

fn access_token(v: &Value) -> Result<SecretString, AuthError> {
    v.get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(|t| SecretString::from(t.to_owned()))
        .ok_or_else(|| AuthError::BadResponse { status: 200, detail: "the token reply has no `access_token`".into() })
}

fn long_lived_of(v: &Value) -> Result<LongLived, AuthError> {
    let expires_in = match v.get("expires_in") {
        Some(Value::Number(n)) => n.as_u64().or_else(|| n.as_f64().map(|f| f.max(0.0) as u64)),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .unwrap_or(LONG_LIVED.num_seconds() as u64);
    Ok(LongLived { access_token: access_token(v)?, expires_in })
}

/// An id sent as a JSON string or number, digit for digit. serde_json (without
/// `arbitrary_precision`) keeps integers up to 2^64 exact; anything it had to read as a
/// float is taken from the raw text instead.
pub fn json_id(v: &Value, raw: &str, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) if n.is_u64() || n.is_i64() => Some(n.to_string()),
        Value::Number(_) => raw_number(raw, key),
        _ => None,
    }
}

fn raw_number(raw: &str, key: &str) -> Option<String> {
    let needle = format!("\"{key}\"");
    let mut rest = raw;
    while let Some(i) = rest.find(&needle) {
        let after = rest[i + needle.len()..].trim_start();
        if let Some(value) = after.strip_prefix(':') {
            let digits: String = value.trim_start().chars().take_while(char::is_ascii_digit).collect();
            if !digits.is_empty() {
                return Some(digits);
            }
        }
        rest = &rest[i + needle.len()..];
    }
    None
}

fn describe_body(body: &str, secrets: &[&str]) -> String {
    let t = body.trim();
    let d = if t.is_empty() {
        "an empty body".to_owned()
    } else if t.starts_with('<') {
        "an HTML page instead of JSON".to_owned()
    } else {
        let s: String = t.chars().take(160).collect();
        format!("{s:?}")
    };
    redact(&d, secrets)
}

/// Replaces every secret (raw and form-encoded) with `[REDACTED]`.
pub fn redact(s: &str, secrets: &[&str]) -> String {
    let mut out = s.to_owned();
    for secret in secrets.iter().filter(|t| t.len() >= 4) {
        let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        out = out.replace(secret, REDACTED).replace(&encoded, REDACTED);
    }
    out
}

// ---------------------------------------------------------------------------
// Why a refresh failed

/// What a failed refresh most likely means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshProblem {
    /// Less than 24 hours old: wait.
    TooEarly,
    /// Expired (or revoked): authorize again.
    Expired,
    /// Something else.
    Other,
}

/// Sorts a refresh failure, from the error and, when `crier auth` recorded it, the expiry.
pub fn refresh_problem(err: &AuthError, expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> RefreshProblem {
    if let AuthError::Rejected { code, subcode, message, .. } = err {
        let m = message.to_ascii_lowercase();
        if ["24 hours", "24h", "too new", "too recent", "not old enough", "too soon", "too early"]
            .iter()
            .any(|w| m.contains(w))
        {
            return RefreshProblem::TooEarly;
        }
        if matches!(subcode, Some(463)) || m.contains("expired") || m.contains("has expired") {
            return RefreshProblem::Expired;
        }
        if let Some(at) = expires_at {
            if now >= at {
                return RefreshProblem::Expired;
            }
            if at - now > LONG_LIVED - chrono::TimeDelta::hours(24) {
                return RefreshProblem::TooEarly;
            }
        }
        if *code == Some(190) && (m.contains("session") || m.contains("validating")) {
            return RefreshProblem::Expired;
        }
    }
    RefreshProblem::Other
}

// ---------------------------------------------------------------------------
// .env files

/// What [`update_env_file`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvWrite {
    /// The file did not exist and was created with mode 0600.
    pub created: bool,
    /// The existing file's mode when group or others can read it (unix).
    pub readable_by_others: Option<u32>,
}

/// Sets `updates` in the `.env` file at `path`: each key's line is replaced in place (an
/// `export ` prefix is kept), missing keys are appended; every other line, comment and the
/// order stay as they were. A new file gets mode 0600; an existing one keeps its mode.
/// Written atomically (temporary file renamed over it).
pub fn update_env_file(path: &Path, updates: &[(&str, &str)]) -> io::Result<EnvWrite> {
    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let existing = match std::fs::read_to_string(&target) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let text = edit_env(existing.as_deref().unwrap_or(""), updates);
    let dir = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new().prefix(".env.crier-").tempfile_in(dir)?;
    let mut readable_by_others = None;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = match std::fs::metadata(&target) {
            Ok(m) if existing.is_some() => m.permissions().mode() & 0o7777,
            _ => 0o600,
        };
        if mode & 0o044 != 0 {
            readable_by_others = Some(mode);
        }
        tmp.as_file().set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    io::Write::write_all(tmp.as_file_mut(), text.as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.persist(&target).map_err(|e| e.error)?;
    Ok(EnvWrite { created: existing.is_none(), readable_by_others })
}

/// The text of a `.env` file with `updates` applied (see [`update_env_file`]).
pub fn edit_env(text: &str, updates: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(text.len() + 256);
    let mut done = vec![false; updates.len()];
    let mut lines = text.split_inclusive('\n').peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        let (export, rest) = match trimmed.strip_prefix("export ") {
            Some(r) => ("export ", r.trim_start()),
            None => ("", trimmed),
        };
        let key_end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.')).unwrap_or(rest.len());
        let (key, after) = rest.split_at(key_end);
        let hit = if !key.is_empty() && after.trim_start().starts_with('=') {
            updates.iter().position(|(k, _)| *k == key)
        } else {
            None
        };
        let Some(i) = hit else {
            out.push_str(line);
            continue;
        };
        // A quoted value may span lines: skip to its closing quote.
        let value = after.trim_start()[1..].trim_start();
        if let Some(q) = value.chars().next().filter(|c| *c == '"' || *c == '\'') {
            let mut closed = value[1..].contains(q);
            while !closed {
                match lines.next() {
                    Some(l) => closed = l.contains(q),
                    None => break,
                }
            }
        }
        if done[i] {
            continue; // a later duplicate of a key already written
        }
        done[i] = true;
        let (k, v) = updates[i];
        let _ = writeln!(out, "{export}{k}={}", quote(v));
    }
    for (i, (k, v)) in updates.iter().enumerate() {
        if !done[i] {
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            let _ = writeln!(out, "{k}={}", quote(v));
        }
    }
    out
}

fn quote(v: &str) -> String {
    if !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || "_-.:/+@|".contains(c)) {
        v.to_owned()
    } else {
        format!("'{}'", v.replace('\'', ""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_id_above_2_pow_53_survives() {
        let raw = r#"{"access_token":"THabc","user_id":17841405793187218}"#;
        let v: Value = serde_json::from_str(raw).expect("json");
        assert_eq!(json_id(&v, raw, "user_id").as_deref(), Some("17841405793187218"));
        let raw = r#"{"access_token":"THabc","user_id":"17841405793187218"}"#;
        let v: Value = serde_json::from_str(raw).expect("json");
        assert_eq!(json_id(&v, raw, "user_id").as_deref(), Some("17841405793187218"));
        // Beyond u64: serde_json reads a float, the raw text still has every digit.
        let raw = r#"{"user_id" : 178414057931872180000001}"#;
        let v: Value = serde_json::from_str(raw).expect("json");
        assert_eq!(json_id(&v, raw, "user_id").as_deref(), Some("178414057931872180000001"));
    }

    #[test]
    fn both_error_shapes_are_read() {
        let flat: Value = serde_json::from_str(
            r#"{"error_type":"OAuthException","code":400,"error_message":"Matching code was not found or was already used"}"#,
        )
        .expect("json");
        match parse_error(&flat, 400, &[]) {
            Some(AuthError::Rejected { code: Some(400), kind: Some(k), message, .. }) => {
                assert_eq!(k, "OAuthException");
                assert!(message.contains("already used"));
            }
            other => panic!("{other:?}"),
        }
        let graph: Value = serde_json::from_str(
            r#"{"error":{"message":"Error validating access token: Session has expired","type":"OAuthException","code":190,"error_subcode":463}}"#,
        )
        .expect("json");
        let e = parse_error(&graph, 400, &[]).expect("error");
        assert!(matches!(e, AuthError::Rejected { code: Some(190), subcode: Some(463), .. }));
        assert_eq!(refresh_problem(&e, None, Utc::now()), RefreshProblem::Expired);
    }

    #[test]
    fn code_input_forms() {
        let c = parse_code_input("AQBx-hBsH3abc#_").expect("bare");
        assert_eq!(c.code, "AQBx-hBsH3abc");
        let c = parse_code_input("https://example.com/cb?code=AQBx-hBsH3abc&state=s1#_").expect("url");
        assert_eq!(c, CodeInput { code: "AQBx-hBsH3abc".into(), state: Some("s1".into()) });
        let e = parse_code_input(
            "https://example.com/cb?error=access_denied&error_reason=user_denied&error_description=The+user+denied+your+request",
        );
        assert!(matches!(e, Err(AuthError::Denied(_))));
        assert!(parse_code_input("  ").is_err());
    }

    #[test]
    fn authorize_url_is_exact() {
        assert_eq!(
            authorize_url("123", "http://localhost:8765/cb", "abc"),
            "https://threads.net/oauth/authorize?client_id=123&redirect_uri=http%3A%2F%2Flocalhost%3A8765%2Fcb&scope=threads_basic,threads_content_publish,threads_manage_replies,threads_delete&response_type=code&state=abc"
        );
        assert_eq!(random_state().len(), 32);
    }

    #[test]
    fn loopback_detection() {
        assert_eq!(
            loopback("http://localhost:8765/callback"),
            Some(Loopback { bind: "127.0.0.1".into(), port: 8765, path: "/callback".into() })
        );
        assert!(loopback("http://127.0.0.1:0/").is_some());
        assert!(loopback("https://localhost:8765/cb").is_none());
        assert!(loopback("https://example.com/cb").is_none());
    }

    #[test]
    fn env_edit_keeps_everything_else() {
        let before = "# my settings\nDEVTO_API_KEY=abc\nexport THREADS_ACCESS_TOKEN=\"old\nstill old\"\n\nOTHER=1\nTHREADS_ACCESS_TOKEN=dup";
        let after = edit_env(before, &[("THREADS_ACCESS_TOKEN", "THnew"), ("THREADS_USERNAME", "some.one")]);
        assert_eq!(
            after,
            "# my settings\nDEVTO_API_KEY=abc\nexport THREADS_ACCESS_TOKEN=THnew\n\nOTHER=1\nTHREADS_USERNAME=some.one\n"
        );
        assert_eq!(edit_env("", &[("A", "x y")]), "A='x y'\n");
    }
}
