//! What every sign-in (`crier auth <platform>`) shares, written once: the [`SignIn`] a
//! platform implements, the flags every sign-in takes, the `state` check, reading a code
//! (pasted, or from a redirect to a listener on this machine), opening the browser, the
//! token endpoints' HTTP call and error bodies, and updating a `.env` file in place.
//!
//! Secrets (client secrets, codes, tokens) never appear in an [`OAuthError`]: transport
//! errors are stripped of their URL and server messages are scrubbed of every secret sent.

use std::fmt::Write as _;
use std::io::{self, BufRead as _, IsTerminal as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;
use secrecy::SecretString;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;

use super::http::{self, HttpOptions, Redactor};
use crate::env::Env;
use crate::error::{Error, Result};

// ---------------------------------------------------------------------------
// The trait and what it gets

/// A platform's sign-in: `crier auth <platform>` and its part of `crier auth refresh`.
#[async_trait::async_trait(?Send)]
pub trait SignIn: Sync {
    /// The platform's own flags (a clap command; the caller names it and adds [`CommonArgs`]).
    fn command(&self) -> clap::Command;

    /// Runs the sign-in and returns the credentials to hand over (`None`: it stopped at a
    /// step the user takes next, which it has described).
    async fn sign_in(&self, cx: &SignInContext<'_>, args: &clap::ArgMatches) -> Result<Option<Credentials>>;

    /// `crier auth refresh`: renews the stored token where that can be done.
    async fn refresh(&self, cx: &SignInContext<'_>) -> Renewal;
}

/// Declares `$name`, a platform's [`SignIn`]: `crier auth $command` (about: `$about`) takes
/// the flags of the clap `Args` struct `$args` and runs `$sign_in(cx, &args)` (which returns
/// the credentials, or an `Option` of them); `crier auth refresh` runs `$refresh(cx)`.
macro_rules! sign_in {
    ($name:ident, $args:ty, $command:literal, $about:literal, $sign_in:path, $refresh:path $(,)?) => {
        pub(super) struct $name;

        #[async_trait::async_trait(?Send)]
        impl $crate::platforms::oauth::SignIn for $name {
            fn command(&self) -> clap::Command {
                // `about` after the flags: their struct's doc comment would replace it.
                <$args as clap::Args>::augment_args(clap::Command::new($command)).about($about)
            }

            async fn sign_in(
                &self,
                cx: &$crate::platforms::oauth::SignInContext<'_>,
                matches: &clap::ArgMatches,
            ) -> $crate::error::Result<Option<$crate::platforms::oauth::Credentials>> {
                let args = <$args as clap::FromArgMatches>::from_arg_matches(matches)
                    .map_err(|e| $crate::error::Error::usage(e.to_string()))?;
                $sign_in(cx, &args).await.map(Into::into)
            }

            async fn refresh(
                &self,
                cx: &$crate::platforms::oauth::SignInContext<'_>,
            ) -> $crate::platforms::oauth::Renewal {
                $refresh(cx).await
            }
        }
    };
}
pub(crate) use sign_in;

// Flags every sign-in takes (a plain comment: a doc comment would replace the platform's
// own `about` in `crier auth PLATFORM --help`).
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// Write the credentials into this `.env` file (other lines are kept) instead of printing them.
    #[arg(long, value_name = "FILE")]
    pub write_env: Option<PathBuf>,

    /// How long to wait for the browser's redirect to this machine (seconds; unused by
    /// `crier auth x`, whose PIN flow has no redirect).
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub timeout: u64,

    /// Do not open the authorization page in a browser (only print its URL).
    #[arg(long)]
    pub no_browser: bool,
}

/// The platforms `crier auth PLATFORM` signs in to, for `crier auth --help`.
pub fn help() -> String {
    let names: Vec<&str> = super::REGISTRY.iter().filter(|p| p.sign_in().is_some()).map(|p| p.id().name()).collect();
    format!(
        "Platforms with a sign-in: {}. `crier auth PLATFORM --help` shows a platform's options; the other platforms say how to get their credentials.",
        names.join(", ")
    )
}

/// What a sign-in gets.
pub struct SignInContext<'a> {
    pub env: &'a Env,
    pub now: DateTime<Utc>,
    pub quiet: bool,
    pub common: &'a CommonArgs,
}

impl SignInContext<'_> {
    /// A progress message on stderr (not with `--quiet`).
    pub fn info(&self, msg: &str) {
        if !self.quiet {
            eprintln!("{msg}");
        }
    }

    /// A variable that must be set, or an error that says what it is for.
    pub fn required(&self, key: &str, what: &str) -> Result<&str> {
        self.env.get(key).ok_or_else(|| Error::Env { message: format!("{key} is not set: {what}") })
    }

    /// The timeout for the browser's redirect.
    pub fn redirect_timeout(&self) -> Duration {
        Duration::from_secs(self.common.timeout.max(1))
    }

    /// The app registered with the service that an authorization-code flow signs in
    /// through: its id, secret and redirect URI, each from its variable `(key, what it is)`;
    /// `redirect_given` (`--redirect-uri`) wins over the redirect URI's variable, and the
    /// URI must be absolute.
    pub fn app(&self, keys: [(&str, String); 3], redirect_given: Option<&str>) -> Result<App> {
        let [(id_key, id_what), (secret_key, secret_what), (redirect_key, redirect_what)] = keys;
        let id = self.required(id_key, &id_what)?.to_owned();
        let secret = SecretString::from(self.required(secret_key, &secret_what)?.to_owned());
        let redirect_uri = match redirect_given.filter(|s| !s.is_empty()) {
            Some(r) => r.to_owned(),
            None => self.required(redirect_key, &redirect_what)?.to_owned(),
        };
        if Url::parse(&redirect_uri).is_err() {
            return Err(Error::usage(format!("the redirect URI `{redirect_uri}` is not an absolute URL")));
        }
        Ok(App { id, secret, redirect_uri })
    }
}

/// An app registered with a service, as [`SignInContext::app`] reads it.
pub struct App {
    pub id: String,
    pub secret: SecretString,
    pub redirect_uri: String,
}

/// The timeout of a sign-in's requests.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The options of the call that checks a new token: a short wait, the sign-in's timeout.
pub fn check_options() -> HttpOptions {
    HttpOptions { max_total_wait: Duration::from_secs(10), request_timeout: REQUEST_TIMEOUT, ..HttpOptions::default() }
}

/// What a sign-in obtained.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// `.env` variables, in the order they are printed or appended (values may be secrets).
    pub vars: Vec<(&'static str, String)>,
    /// Whose account it is ("@alice (user id 1)").
    pub account: String,
    /// Said after the credentials (expiry, what to do next).
    pub notes: Vec<String>,
}

/// What `crier auth refresh` did for one platform.
#[derive(Debug, Clone)]
pub enum Renewal {
    /// There is no stored token (its variable is unset): why, and how to get one.
    NotSet(String),
    /// The token never needs renewing: a sentence that says so.
    NotNeeded(String),
    /// A new token: the variables to store, the one holding the token, and a sentence
    /// saying until when it is valid.
    Renewed { vars: Vec<(&'static str, String)>, token_var: &'static str, note: String },
    /// The token was not renewed: what to do (wait, or authorize again, and when).
    Failed(String),
}

impl Renewal {
    /// The renewal of a token that does not expire (`tokens` says whose: `Mastodon access
    /// tokens`): nothing to do when `key` is set; `command` gets one, `get_one` says how.
    pub fn never_expires(cx: &SignInContext<'_>, key: &str, tokens: &str, command: &str, get_one: &str) -> Self {
        if cx.env.get(key).is_some() {
            Self::NotNeeded(format!(
                "{tokens} do not expire: nothing to renew (a revoked one is replaced with `{command}`)."
            ))
        } else {
            Self::NotSet(format!("{key} is not set (get one with `{get_one}`)"))
        }
    }
}

// ---------------------------------------------------------------------------
// Errors

/// What went wrong while getting or renewing a token.
#[derive(Debug, Clone, thiserror::Error)]
pub enum OAuthError {
    /// The service answered with an error body.
    #[error("{service} refused the request (HTTP {status}{}): {message}", describe_code(.kind.as_deref(), *.code, *.subcode))]
    Rejected {
        service: &'static str,
        status: u16,
        /// A numeric error code, where the service sends one.
        code: Option<i64>,
        /// A numeric error subcode (Meta's `error_subcode`).
        subcode: Option<i64>,
        /// `error_type` / `type` / the OAuth `error`, e.g. `OAuthException`, `invalid_grant`.
        kind: Option<String>,
        /// Server message, redacted.
        message: String,
    },
    /// No usable reply: connection failure, timeout.
    #[error("could not reach {service}: {detail}")]
    Transport { service: &'static str, detail: String },
    /// A reply that is not the documented JSON.
    #[error("unexpected reply from {service} (HTTP {status}): {detail}")]
    BadResponse { service: &'static str, status: u16, detail: String },
    /// The user cancelled on the consent screen (`?error=access_denied`).
    #[error("the authorization was not granted: {0}")]
    Denied(String),
    /// The code, URL or redirect given is unusable.
    #[error("{0}")]
    Input(String),
}

fn describe_code(kind: Option<&str>, code: Option<i64>, subcode: Option<i64>) -> String {
    let mut out = kind.map(|k| format!(", {k}")).unwrap_or_default();
    if let Some(c) = code {
        let _ = write!(out, ", code {c}");
    }
    if let Some(s) = subcode {
        let _ = write!(out, ", subcode {s}");
    }
    out
}

impl From<OAuthError> for Error {
    fn from(e: OAuthError) -> Self {
        Error::Env { message: e.to_string() }
    }
}

/// Reads the OAuth 2.0 error body `{"error":"…","error_description":"…"}` (RFC 6749 5.2),
/// which Mastodon also uses with a plain message in `error`.
pub fn standard_error(service: &'static str, v: &Value, status: u16, redactor: &Redactor) -> Option<OAuthError> {
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let error = text("error")?;
    let (kind, message) = match text("error_description") {
        Some(d) => (Some(error), d),
        None => (None, error),
    };
    Some(OAuthError::Rejected { service, status, code: None, subcode: None, kind, message: redactor.redact(&message) })
}

// ---------------------------------------------------------------------------
// Token endpoints

/// How a platform reads its token endpoints' error bodies.
pub type ReadError = fn(&'static str, &Value, u16, &Redactor) -> Option<OAuthError>;

/// A client for a service's OAuth endpoints (form posts and queries answered with JSON).
pub struct TokenClient {
    http: reqwest::Client,
    base: Url,
    service: &'static str,
    read_error: ReadError,
}

impl TokenClient {
    /// `base_url` is the service root; `what` names where it came from, for the error.
    pub fn new(
        service: &'static str,
        base_url: &str,
        what: &str,
        timeout: Duration,
        read_error: ReadError,
    ) -> std::result::Result<Self, OAuthError> {
        let base = Url::parse(base_url.trim())
            .ok()
            .filter(|u| !u.cannot_be_a_base() && matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| OAuthError::Input(format!("{what} `{base_url}` is not an http(s) URL")))?;
        Ok(Self { http: http::client(timeout), base, service, read_error })
    }

    /// The service root.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// `path` (slash-separated) under the service root.
    pub fn url(&self, path: &str) -> Url {
        let segments: Vec<&str> = path.split('/').collect();
        http::join(&self.base, &segments)
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(self.url(path))
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.post(self.url(path))
    }

    /// Sends the request; a 2xx JSON object comes back with its raw text, anything else
    /// is an [`OAuthError`] with every secret in `secrets` redacted.
    pub async fn send(
        &self,
        req: reqwest::RequestBuilder,
        secrets: &[&str],
    ) -> std::result::Result<(Value, String), OAuthError> {
        let redactor = Redactor::new(secrets);
        let transport = |e: reqwest::Error| {
            let (detail, _) = http::transport_error(e, Duration::ZERO, &redactor);
            OAuthError::Transport { service: self.service, detail }
        };
        let resp = req.send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(transport)?;
        let text = String::from_utf8_lossy(&body).into_owned();
        let parsed = serde_json::from_str::<Value>(&text).ok().filter(Value::is_object);
        if (200..300).contains(&status) {
            if let Some(v) = parsed {
                return Ok((v, text));
            }
        }
        if let Some(e) = parsed.as_ref().and_then(|v| (self.read_error)(self.service, v, status, &redactor)) {
            return Err(e);
        }
        Err(OAuthError::BadResponse { service: self.service, status, detail: http::describe_body(&body, &redactor) })
    }

    /// A non-empty string field of a reply, or a [`OAuthError::BadResponse`] naming it.
    pub fn field(&self, v: &Value, key: &str) -> std::result::Result<String, OAuthError> {
        v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned).ok_or_else(|| {
            OAuthError::BadResponse { service: self.service, status: 200, detail: format!("the reply has no `{key}`") }
        })
    }
}

// ---------------------------------------------------------------------------
// Authorize URL, state, code input

/// 32 random hex digits.
pub fn random_state() -> String {
    let mut rng = rand::rng();
    let mut s = String::with_capacity(32);
    for _ in 0..16 {
        let _ = write!(s, "{:02x}", rng.random::<u8>());
    }
    s
}

/// Form-encodes `s` for a query string.
pub fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A code read from `--code`, a paste, or a pasted redirect URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeInput {
    pub code: String,
    /// `state` of a pasted URL, when it had one.
    pub state: Option<String>,
}

/// Accepts a bare code (`AQB…#_`) or the whole redirected URL (`https://…/cb?code=AQB…&state=…#_`);
/// a fragment (Threads appends `#_`) is not part of the code and is dropped.
pub fn parse_code_input(input: &str) -> std::result::Result<CodeInput, OAuthError> {
    let input = input.trim();
    let looks_like_url = input.contains("://") || input.starts_with('?') || input.contains("code=");
    if !looks_like_url {
        let code = input.split('#').next().unwrap_or("").trim();
        if code.is_empty() {
            return Err(OAuthError::Input("the code is empty".into()));
        }
        if code.chars().any(|c| c.is_whitespace() || c == '&' || c == '?') {
            return Err(OAuthError::Input(
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
    match read_redirect_query(query) {
        Redirect { error: Some(e), .. } => Err(OAuthError::Denied(e)),
        Redirect { code: Some(code), state, .. } => Ok(CodeInput { code, state }),
        Redirect { .. } => Err(OAuthError::Input("the URL has no `code` parameter".into())),
    }
}

/// The parameters of a redirect's query string.
struct Redirect {
    code: Option<String>,
    state: Option<String>,
    /// `error` with its `error_description`, when the user did not allow.
    error: Option<String>,
}

fn read_redirect_query(query: &str) -> Redirect {
    let mut r = Redirect { code: None, state: None, error: None };
    let mut description = None;
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "code" => r.code = Some(v.into_owned()),
            "state" => r.state = Some(v.into_owned()),
            "error" => r.error = Some(v.into_owned()),
            "error_description" => description = Some(v.into_owned()),
            _ => {}
        }
    }
    r.error = r.error.map(|e| description.map(|d| format!("{e}: {d}")).unwrap_or(e));
    r.code = r.code.map(|c| c.trim_end_matches("#_").trim().to_owned()).filter(|c| !c.is_empty());
    r
}

/// Reads one line the user pastes (after `prompt` on stderr).
pub fn read_pasted(prompt: &str) -> Result<String> {
    eprintln!("{prompt}");
    let mut line = String::new();
    io::stdin().lock().read_line(&mut line).map_err(|e| Error::io("cannot read what was pasted", e))?;
    Ok(line.trim().to_owned())
}

/// Prints the authorization URL and, on a desktop, opens it in the browser.
pub fn show_authorize_url(cx: &SignInContext<'_>, service: &str, url: &str) {
    eprintln!("Open this URL in a browser, log in to {service} and allow crier:\n\n  {url}\n");
    if !cx.common.no_browser && open_browser(cx.env, url) {
        cx.info("(opened in your browser)");
    }
}

/// Whether the browser is probably on another machine (an SSH session).
pub fn remote_session(env: &Env) -> bool {
    env.get("SSH_CONNECTION").is_some() || env.get("SSH_TTY").is_some()
}

/// Opens `url` with the desktop's opener, only where a person is at this machine's
/// screen (a terminal on stderr, not over SSH, a display on Linux). Whether it started.
fn open_browser(env: &Env, url: &str) -> bool {
    if !io::stderr().is_terminal() || remote_session(env) {
        return false;
    }
    let mut cmd = if cfg!(target_os = "macos") {
        std::process::Command::new("open")
    } else if cfg!(windows) {
        let mut c = std::process::Command::new("rundll32");
        c.arg("url.dll,FileProtocolHandler");
        c
    } else {
        if env.get("DISPLAY").is_none() && env.get("WAYLAND_DISPLAY").is_none() {
            return false;
        }
        std::process::Command::new("xdg-open")
    };
    cmd.arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .is_ok()
}

// ---------------------------------------------------------------------------
// The redirect to this machine

/// Where a loopback redirect URI (`http://localhost:PORT/path` or `http://127.0.0.1:PORT/path`)
/// is received: the address to bind and the path to expect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loopback {
    pub bind: String,
    pub port: u16,
    pub path: String,
}

/// A sign-in whose app has a registered redirect URI (Threads, LinkedIn): how it reads the code.
pub struct CodeFlow<'a> {
    pub service: &'static str,
    /// The command to run again (`crier auth threads`).
    pub again: &'a str,
    /// How long a code is valid ("1 hour"), said with the `--code` hint.
    pub lifetime: &'a str,
}

/// The authorization code and the redirect URI it was issued for: from `--code`
/// (`code_arg`), from the browser's redirect to a listener on this machine (when
/// `redirect_uri` points here), or from the redirect URL pasted on a terminal.
/// `authorize(redirect_uri, state)` is the authorize URL. `None`: there is no terminal to
/// paste on, and the user was told to run again with `--code`.
pub async fn authorization_code(
    cx: &SignInContext<'_>,
    flow: &CodeFlow<'_>,
    code_arg: Option<&str>,
    redirect_uri: &str,
    authorize: &dyn Fn(&str, &str) -> String,
) -> Result<Option<(String, String)>> {
    if let Some(input) = code_arg {
        return Ok(Some((parse_code_input(input)?.code, redirect_uri.to_owned())));
    }
    let state = random_state();
    if let Some(listening) = listen(redirect_uri).await? {
        let redirect_uri = listening.redirect_uri.clone();
        show_authorize_url(cx, flow.service, &authorize(&redirect_uri, &state));
        let code = receive_redirect(cx, listening, &state, flow.again).await?;
        return Ok(Some((code, redirect_uri)));
    }
    show_authorize_url(cx, flow.service, &authorize(redirect_uri, &state));
    if !io::stdin().is_terminal() {
        // Not a failure: the next step is the user's.
        eprintln!(
            "{} then sends the browser to {redirect_uri}?code=…. Copy that whole URL from the address bar and run:\n\n  {} --code '<the URL>'\n\n(The code is valid for {} and works once.)",
            flow.service, flow.again, flow.lifetime
        );
        return Ok(None);
    }
    let line =
        read_pasted(&format!("Then paste the URL the browser was sent to (it starts with {redirect_uri}?code=):"))?;
    let input = parse_code_input(&line)?;
    if input.state.as_deref().is_some_and(|s| s != state) {
        return Err(Error::Env {
            message: "the pasted URL's `state` does not match this run; open the URL printed above (not an older one) and paste its redirect".into(),
        });
    }
    Ok(Some((input.code, redirect_uri.to_owned())))
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

/// A listener for the redirect, bound where `redirect_uri` points.
pub struct Listening {
    pub listener: TcpListener,
    /// The redirect URI with the port the listener got (when it asked for port 0).
    pub redirect_uri: String,
    pub path: String,
}

/// Binds the listener for `redirect_uri` when it points at this machine (else `None`).
pub async fn listen(redirect_uri: &str) -> Result<Option<Listening>> {
    let Some(lb) = loopback(redirect_uri) else { return Ok(None) };
    let listener = TcpListener::bind((lb.bind.as_str(), lb.port))
        .await
        .map_err(|e| Error::io(format!("cannot listen on {}:{} for the redirect", lb.bind, lb.port), e))?;
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(lb.port);
    let redirect_uri = match Url::parse(redirect_uri) {
        Ok(mut u) if lb.port == 0 => {
            let _ = u.set_port(Some(port));
            u.to_string()
        }
        _ => redirect_uri.to_owned(),
    };
    Ok(Some(Listening { listener, redirect_uri, path: lb.path }))
}

const PAGE_OK: &str = "<!doctype html><meta charset=utf-8><title>crier</title>\
<h1>crier is authorized</h1><p>You can close this tab and return to the terminal.</p>";
const PAGE_STATE: &str = "<!doctype html><meta charset=utf-8><title>crier</title>\
<h1>This redirect does not belong to the running <code>crier auth</code></h1>\
<p>Its <code>state</code> does not match. Open the URL crier printed, from the same run.</p>";
const PAGE_DENIED: &str = "<!doctype html><meta charset=utf-8><title>crier</title>\
<h1>Authorization was not granted</h1><p>Run <code>crier auth</code> again to retry.</p>";
const PAGE_NOT_FOUND: &str = "<!doctype html><meta charset=utf-8><title>crier</title><h1>Not found</h1>";

enum Received {
    Code(String),
    Denied(String),
    WrongState,
    Other,
}

/// Serves the redirect until a request to its path arrives with the expected `state` and a
/// code (or an `error`), or the context's timeout passes. Requests with another `state` are
/// answered with HTTP 400 and a warning; waiting goes on. `again` is the command to rerun.
pub async fn receive_redirect(
    cx: &SignInContext<'_>,
    listening: Listening,
    state: &str,
    again: &str,
) -> std::result::Result<String, OAuthError> {
    let timeout = cx.redirect_timeout();
    eprintln!(
        "Waiting for the redirect to {} (Ctrl-C to stop)…",
        listening.redirect_uri.split('?').next().unwrap_or_default()
    );
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Received>(16);
    let path = if listening.path.is_empty() { "/".to_owned() } else { listening.path.clone() };
    let listener = listening.listener;
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
                Received::Denied(why) => return Err(OAuthError::Denied(why)),
                Received::WrongState => eprintln!(
                    "warning: ignored a redirect whose `state` does not match this run (open the URL printed above, not an older one)"
                ),
                Received::Other => {}
            }
        }
        Err(OAuthError::Input("the listener stopped".into()))
    };
    let result = tokio::time::timeout(timeout, async {
        tokio::select! {
            r = wait => r,
            () = accept => Err(OAuthError::Input("the listener stopped".into())),
        }
    })
    .await;
    result.unwrap_or_else(|_| {
        Err(OAuthError::Input(format!("no redirect arrived within {} s; run `{again}` again", timeout.as_secs())))
    })
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
        let r = read_redirect_query(query);
        if r.state.as_deref() != Some(state) {
            ("400 Bad Request", PAGE_STATE, Received::WrongState)
        } else if let Some(e) = r.error {
            ("200 OK", PAGE_DENIED, Received::Denied(e))
        } else if let Some(c) = r.code {
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
    fn code_input_forms() {
        let cases: &[(&str, Option<CodeInput>)] = &[
            ("AQBx-hBsH3abc#_", Some(CodeInput { code: "AQBx-hBsH3abc".into(), state: None })),
            (
                "https://example.com/cb?code=AQBx-hBsH3abc&state=s1#_",
                Some(CodeInput { code: "AQBx-hBsH3abc".into(), state: Some("s1".into()) }),
            ),
            ("  ", None),
            ("two words", None),
            ("https://example.com/cb?state=s1", None),
        ];
        for (input, want) in cases {
            assert_eq!(parse_code_input(input).ok(), *want, "{input:?}");
        }
        let e = parse_code_input(
            "https://example.com/cb?error=access_denied&error_reason=user_denied&error_description=The+user+denied+your+request",
        );
        assert!(matches!(e, Err(OAuthError::Denied(m)) if m == "access_denied: The user denied your request"));
    }

    #[test]
    fn loopback_detection() {
        let cases = [
            (
                "http://localhost:8765/callback",
                Some(Loopback { bind: "127.0.0.1".into(), port: 8765, path: "/callback".into() }),
            ),
            ("http://127.0.0.1:0/", Some(Loopback { bind: "127.0.0.1".into(), port: 0, path: "/".into() })),
            ("http://[::1]:9/cb", Some(Loopback { bind: "::1".into(), port: 9, path: "/cb".into() })),
            ("https://localhost:8765/cb", None),
            ("https://example.com/cb", None),
            ("urn:ietf:wg:oauth:2.0:oob", None),
        ];
        for (uri, want) in cases {
            assert_eq!(loopback(uri), want, "{uri}");
        }
        assert_eq!(random_state().len(), 32);
    }

    #[test]
    fn standard_error_body_is_read_and_redacted() {
        let r = Redactor::new(["secret-code-123"]);
        let v: Value =
            serde_json::from_str(r#"{"error":"invalid_grant","error_description":"code secret-code-123 is invalid"}"#)
                .expect("json");
        let e = standard_error("Mastodon", &v, 400, &r).expect("error");
        assert_eq!(e.to_string(), "Mastodon refused the request (HTTP 400, invalid_grant): code [REDACTED] is invalid");
        let v: Value = serde_json::from_str(r#"{"error":"The access token is invalid"}"#).expect("json");
        let e = standard_error("Mastodon", &v, 401, &r).expect("error");
        assert_eq!(e.to_string(), "Mastodon refused the request (HTTP 401): The access token is invalid");
        assert!(standard_error("Mastodon", &serde_json::json!({"id": "1"}), 200, &r).is_none());
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
        assert_eq!(edit_env("A=1", &[("B", "https://a.example")]), "A=1\nB=https://a.example\n");
    }
}
