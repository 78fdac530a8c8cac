//! The HTTP layer every platform client shares: client construction, secret
//! redaction, reading what a server says about waiting, one bounded backoff
//! policy, and describing bodies and transport failures without leaking secrets.
//!
//! The request loop itself is [`HttpClient::send`] (in `exchange.rs`): a platform
//! supplies its requests and a [`Classifier`] of its error bodies, and keeps its own
//! error type (what a caller can do differs per API), built from the loop's [`Failure`],
//! so a retry, a wait, a redaction or a timeout works the same on every platform.

mod exchange;

pub use exchange::{
    Class, Classifier, Failure, HttpClient, OnWait, Request, Verdict, json_reply, quiet, secret_header,
};

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;
use reqwest::header::HeaderMap;
use serde_json::Value;
use url::Url;

/// Declares a platform's REST error: the variants every client's failures end in
/// (`Unauthorized`, `Rejected`, `RateLimited`, `Transient`, `Ambiguous`, `BadResponse`,
/// with the same fields everywhere), the platform's own variants, and the methods and the
/// `Failure` reading they share, so every platform reads a failure the same way.
///
/// The platform gives the words of the first three (`rate_limited` with the method chain
/// that shows the wait, e.g. `.as_secs()`, where its words show it); the other three are
/// said in its `name` (`reply_from` names the server where it is not the platform;
/// `may_exist` names what a lost create may have made). Inherent methods (not a trait) so
/// callers need no import. `devto/api.rs` shows the smallest use.
macro_rules! rest_error {
    (
        $(#[$meta:meta])*
        $vis:vis enum $error:ident for $name:literal {
            $(reply_from: $from:literal,)?
            $(may_exist: $what:literal,)?
            unauthorized: $unauthorized:tt,
            rejected: $rejected:tt,
            rate_limited: ($rate:literal $(, $($wait:tt)+)?),
            $($own:tt)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, thiserror::Error)]
        $vis enum $error {
            $($own)*
            /// The credentials are missing, wrong or revoked: stop publishing here.
            #[error $unauthorized]
            Unauthorized { message: String },
            /// The platform refused the request; sending it again fails again.
            #[error $rejected]
            Rejected { status: u16, message: String },
            /// Still rate limited when the wait bound ran out.
            // The wait shows through the caller's method chain (`.as_secs()`); the field is
            // named here, where it is declared, for macro hygiene.
            #[error($rate $(, .retry_after $($wait)+)?)]
            RateLimited { retry_after: ::std::time::Duration, message: String },
            /// A temporary failure (5xx, timeout, connection error) that outlasted the retries.
            #[error("temporary {} failure: {message}", $name)]
            Transient { status: Option<u16>, retry_after: Option<::std::time::Duration>, message: String },
            /// A once-only write was sent but its reply was lost: it may have taken effect.
            #[error(
                "the {} {operation} request was sent but its reply was lost ({message}){}",
                $name,
                $crate::platforms::http::rest_error!(@may_exist $($what)?)
            )]
            Ambiguous { operation: &'static str, message: String },
            /// A 2xx reply that is not the expected shape.
            #[error("unexpected reply from {} (HTTP {status}): {detail}", $crate::platforms::http::rest_error!(@first $($from)? $name))]
            BadResponse { status: u16, detail: String },
        }

        impl $error {
            /// Whether publishing to this platform should stop for this run (no other call
            /// can succeed with these credentials).
            pub fn is_fatal(&self) -> bool {
                matches!(self, Self::Unauthorized { .. })
            }

            /// Whether the request may or may not have taken effect.
            pub fn is_ambiguous(&self) -> bool {
                matches!(self, Self::Ambiguous { .. })
            }

            /// The HTTP status of a reply, when one arrived.
            pub fn status(&self) -> Option<u16> {
                match self {
                    Self::Unauthorized { .. } => Some(401),
                    Self::Rejected { status, .. } | Self::BadResponse { status, .. } => Some(*status),
                    Self::RateLimited { .. } => Some(429),
                    Self::Transient { status, .. } => *status,
                    _ => None,
                }
            }

            /// A 2xx reply's JSON read as `T`, else [`Self::BadResponse`] saying what is wrong.
            pub fn decode<T: serde::de::DeserializeOwned>(v: serde_json::Value, what: &str) -> Result<T, Self> {
                serde_json::from_value(v).map_err(|e| Self::BadResponse {
                    status: 200,
                    detail: format!("{what} reply has an unexpected shape: {e}"),
                })
            }

            /// The error of a failed call: `unauthorized` is the message of a rejected
            /// credential, `too_many` the words of a 429 whose body had none.
            fn from_failure(f: $crate::platforms::http::Failure<()>, unauthorized: String, too_many: &str) -> Self {
                use $crate::platforms::http::Class;
                let message = f.message();
                match f.class {
                    Class::CredentialsInvalid => Self::Unauthorized { message: unauthorized },
                    Class::RateLimited => Self::RateLimited {
                        retry_after: f.retry_after.unwrap_or_default(),
                        message: f.server_text.unwrap_or_else(|| too_many.into()),
                    },
                    Class::Transient | Class::Throttled => {
                        Self::Transient { status: f.status, retry_after: f.retry_after, message }
                    }
                    Class::Ambiguous => Self::Ambiguous { operation: f.operation, message },
                    Class::Rejected => Self::Rejected { status: f.status.unwrap_or(0), message: f.text },
                }
            }
        }
    };
    (@may_exist) => { "" };
    (@may_exist $what:literal) => {
        concat!("; the ", $what, " may or may not exist, so crier must check before trying again")
    };
    (@first $first:literal $($rest:literal)?) => { $first };
}
pub(crate) use rest_error;

/// Text replacing a secret wherever it could leak into a message.
pub const REDACTED: &str = "[REDACTED]";

/// Timeouts, retry bounds and waits of every platform client, from crier.yaml `publish:`
/// (tests make them small).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpOptions {
    /// Timeout of one HTTP exchange (connect, send, receive).
    pub request_timeout: Duration,
    /// Upper bound on the time one call spends waiting between attempts (rate limits included).
    pub max_total_wait: Duration,
    /// First backoff delay when the server says nothing; doubles each retry.
    pub initial_delay: Duration,
    /// Wait for a 429 that names no time.
    pub default_retry_after: Duration,
    /// Minimum time between the starts of two writes of one client (zero: no spacing).
    pub min_write_interval: Duration,
    /// How long to wait for the server to process an upload.
    pub processing_timeout: Duration,
    /// How often to ask whether processing is done.
    pub poll_interval: Duration,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            max_total_wait: Duration::from_secs(120),
            initial_delay: Duration::from_secs(1),
            default_retry_after: Duration::from_secs(60),
            min_write_interval: Duration::ZERO,
            processing_timeout: Duration::from_secs(300),
            poll_interval: Duration::from_secs(2),
        }
    }
}

impl HttpOptions {
    pub fn from_config(p: &crate::config::PublishConfig) -> Self {
        Self {
            request_timeout: Duration::from_secs(p.request_timeout_secs.max(1)),
            max_total_wait: Duration::from_secs(p.max_retry_wait_secs),
            initial_delay: Duration::from_millis(p.retry_initial_delay_ms),
            ..Self::default()
        }
    }

    /// For commands that only read (`status --remote`, `stats`): a reply is waited for at
    /// most [`READ_TIMEOUT`], so a server that never answers costs seconds, not minutes.
    pub fn for_reading(p: &crate::config::PublishConfig) -> Self {
        let opts = Self::from_config(p);
        Self { request_timeout: opts.request_timeout.min(READ_TIMEOUT), ..opts }
    }
}

/// The longest a read-only command waits for one reply.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// An HTTP client with crier's user agent and the given timeouts (rustls).
pub fn client(request_timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(request_timeout)
        .connect_timeout(request_timeout)
        .user_agent(concat!("crier/", env!("CARGO_PKG_VERSION")))
        .build()
        // Building only fails when the TLS backend cannot initialise; the default
        // client has the same configuration minus timeouts.
        .unwrap_or_default()
}

/// `base` parsed as a base URL, else `default`.
pub fn base_url(base: &str, default: &str) -> Url {
    Url::parse(base.trim()).ok().filter(|u| !u.cannot_be_a_base()).unwrap_or_else(|| {
        Url::parse(default).unwrap_or_else(|_| Url::parse("https://invalid.invalid").expect("valid"))
    })
}

/// `base` with `segments` appended as path segments (each one escaped).
pub fn join(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut segs) = url.path_segments_mut() {
        segs.pop_if_empty().extend(segments);
    }
    url
}

/// Replaces secrets (raw and URL-encoded) with [`REDACTED`] in any text.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Arc<Vec<String>>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

impl Redactor {
    pub fn new<I, S>(secrets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut all = Vec::new();
        for s in secrets {
            let s = s.as_ref();
            // A 1–3 character "secret" is a placeholder, and replacing it would garble every word.
            if s.len() < 4 {
                continue;
            }
            all.push(s.to_owned());
            let encoded: String = url::form_urlencoded::byte_serialize(s.as_bytes()).collect();
            if encoded != s {
                all.push(encoded);
            }
        }
        // Longest first, so a secret containing another is replaced whole.
        all.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Self { secrets: Arc::new(all) }
    }

    /// A redactor that also hides `more` (a token obtained later, such as a session JWT).
    pub fn with(&self, more: &[&str]) -> Self {
        Self::new(self.secrets.iter().map(String::as_str).chain(more.iter().copied()))
    }

    pub fn redact(&self, s: &str) -> String {
        let mut out = s.to_owned();
        for secret in self.secrets.iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        out
    }
}

/// Counts HTTP requests (every attempt); clones share the count.
#[derive(Debug, Clone, Default)]
pub struct CallCounter(Arc<AtomicU64>);

impl CallCounter {
    pub fn add(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Whether a request may be sent again after an unclear failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Safety {
    /// Reads, and writes that land on the same result when repeated.
    Repeatable,
    /// Creates: a second attempt may publish twice, so a lost reply is reported, not retried.
    OnceOnly,
}

/// How long the server asks the client to wait before trying again. `Retry-After`
/// (seconds or an HTTP date) is an answer to any status. The rate-limit reset headers are
/// read only on a 429: Mastodon and the PDS send them on every response, and the end of
/// a rate-limit window says nothing about when a 5xx clears. In order: `X-RateLimit-Reset-After`
/// (Discord: seconds, may be fractional), `RateLimit-Reset` (unix seconds, as Bluesky's PDS
/// sends it, or seconds from now), `X-RateLimit-Reset` (an ISO 8601 time, as Mastodon sends
/// it, or unix seconds, fractional on Discord), `x-rate-limit-reset` (X: unix seconds).
/// A time in the past means "now".
pub fn server_wait(headers: &HeaderMap, status: u16, now: DateTime<Utc>) -> Option<Duration> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let until = |t: DateTime<Utc>| (t - now).to_std().unwrap_or(Duration::ZERO);
    let unix = |v: &str| {
        let secs = v.parse::<f64>().ok().filter(|s| s.is_finite())?;
        DateTime::from_timestamp_millis((secs * 1000.0) as i64).map(until)
    };
    let seconds =
        |v: &str| v.parse::<f64>().ok().filter(|s| s.is_finite()).map(|s| Duration::from_secs_f64(s.max(0.0)));
    if let Some(v) = get("retry-after") {
        if let Ok(secs) = v.parse::<u64>() {
            return Some(Duration::from_secs(secs));
        }
        if let Ok(t) = DateTime::parse_from_rfc2822(v) {
            return Some(until(t.to_utc()));
        }
    }
    if status != 429 {
        return None;
    }
    if let Some(d) = get("x-ratelimit-reset-after").and_then(seconds) {
        return Some(d);
    }
    if let Some(secs) = get("ratelimit-reset").and_then(|v| v.parse::<i64>().ok()) {
        // Some servers send seconds from now instead of a unix time: a small number
        // cannot be a date in this century.
        if secs < 1_000_000_000 {
            return Some(Duration::from_secs(secs.max(0) as u64));
        }
        return DateTime::from_timestamp(secs, 0).map(until);
    }
    if let Some(v) = get("x-ratelimit-reset") {
        if let Ok(t) = DateTime::parse_from_rfc3339(v) {
            return Some(until(t.to_utc()));
        }
        if let Some(d) = unix(v) {
            return Some(d);
        }
    }
    get("x-rate-limit-reset").and_then(unix)
}

/// One bounded backoff policy: the server's delay when it gave one, else exponential
/// backoff with jitter; `None` once the total wait would pass the bound.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    waited: Duration,
    max_total: Duration,
}

impl Backoff {
    pub fn new(initial: Duration, max_total: Duration) -> Self {
        Self { next: initial, waited: Duration::ZERO, max_total }
    }

    pub fn from_options(opts: &HttpOptions) -> Self {
        Self::new(opts.initial_delay, opts.max_total_wait)
    }

    /// The delay before the next attempt, or `None` when the caller should give up.
    pub fn next(&mut self, server_hint: Option<Duration>) -> Option<Duration> {
        let delay = match server_hint {
            Some(d) => d,
            None => {
                let d = jitter(self.next);
                self.next = self.next.saturating_mul(2);
                d
            }
        };
        if self.waited + delay > self.max_total {
            return None;
        }
        self.waited += delay;
        Some(delay)
    }

    pub fn waited(&self) -> Duration {
        self.waited
    }
}

/// Adds up to 25 % random jitter so parallel clients do not retry in lockstep.
pub fn jitter(d: Duration) -> Duration {
    let extra = rand::rng().random_range(0.0..0.25);
    d + d.mul_f64(extra)
}

/// Sleeps `total`, calling `on_wait` with the time left about once a second; waits
/// under a second (quick retries) are not reported.
pub async fn countdown<W: Fn(Duration) + ?Sized>(total: Duration, on_wait: &W) {
    if total < Duration::from_secs(1) {
        tokio::time::sleep(total).await;
        return;
    }
    let end = tokio::time::Instant::now() + total;
    loop {
        let left = end.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            break;
        }
        on_wait(left);
        tokio::time::sleep(left.min(Duration::from_secs(1))).await;
    }
}

/// What went wrong with a request that got no usable reply, redacted, and whether the
/// request certainly never reached the server (a failed connect: safe to send again).
pub fn transport_error(e: reqwest::Error, timeout: Duration, redactor: &Redactor) -> (String, bool) {
    let e = e.without_url();
    let mut text = if e.is_timeout() {
        format!("no reply within {timeout:?}")
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else {
        "connection failed".to_owned()
    };
    let mut source: Option<&dyn std::error::Error> = Some(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    (redactor.redact(&text), e.is_connect())
}

/// A short description of a body that is not the expected JSON, redacted.
/// `raw` when it looks like an error's name or code (`InvalidSwap`, `DUPLICATE_POST`,
/// `auth.required`): a platform keeps these as they are, outside the redacted text, so
/// anything else a server put there (it may echo the request, secrets included) is dropped.
pub fn error_name(raw: &str) -> Option<String> {
    let ok = !raw.is_empty() && raw.len() <= 64 && raw.chars().all(|c| c.is_ascii_alphanumeric() || "_.-:".contains(c));
    ok.then(|| raw.to_owned())
}

pub fn describe_body(body: &[u8], redactor: &Redactor) -> String {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    let desc = if trimmed.is_empty() {
        "an empty body".to_owned()
    } else if trimmed.starts_with('<') || trimmed.to_ascii_lowercase().contains("<html") {
        let title = between(trimmed, "<title>", "</title>")
            .map(|t| format!(" titled {:?}", snippet(t.trim(), 80)))
            .unwrap_or_default();
        format!("an HTML page{title} instead of JSON")
    } else {
        let why = match serde_json::from_str::<Value>(trimmed) {
            Err(e) if e.is_eof() => "truncated JSON",
            Err(_) => "malformed JSON",
            Ok(_) => "JSON of an unexpected shape",
        };
        format!("{why}: {:?}", snippet(trimmed, 120))
    };
    redactor.redact(&desc)
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let lower = s.to_ascii_lowercase();
    let i = lower.find(start)? + start.len();
    let j = lower[i..].find(end)? + i;
    s.get(i..j)
}

/// At most `max` characters of `s`, with `…` when cut.
pub fn snippet(s: &str, max: usize) -> String {
    let mut out: String = s.chars().take(max).collect();
    if s.chars().count() > max {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    #[test]
    fn server_wait_reads_every_header_form() {
        let now = DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z").expect("now").to_utc();
        type Case<'a> = (u16, &'a [(&'static str, &'a str)], Option<u64>);
        let cases: &[Case<'_>] = &[
            (429, &[("retry-after", "7")], Some(7)),
            (429, &[("retry-after", "Sat, 28 Nov 2026 10:00:30 GMT")], Some(30)),
            (429, &[("retry-after", "Sat, 28 Nov 2026 09:00:00 GMT")], Some(0)),
            (429, &[("ratelimit-reset", "1795860045")], Some(45)), // 2026-11-28T10:00:45Z
            (429, &[("ratelimit-reset", "12")], Some(12)),
            (429, &[("x-ratelimit-reset", "2026-11-28T10:05:00.000Z")], Some(300)),
            (429, &[("x-ratelimit-reset", "2026-11-28T09:59:00Z")], Some(0)),
            (429, &[("x-ratelimit-reset", "1795860060.5")], Some(60)), // Discord: unix, fractional
            (429, &[("x-ratelimit-reset-after", "2.5")], Some(2)),
            (429, &[("x-rate-limit-reset", "1795860090")], Some(90)), // X: unix seconds
            (429, &[("retry-after", "soon")], None),
            (429, &[], None),
            // Retry-After wins over the reset headers.
            (429, &[("retry-after", "3"), ("x-ratelimit-reset", "2026-11-28T10:05:00Z")], Some(3)),
            // A reset time says when a rate-limit window ends, nothing about a 5xx.
            (502, &[("x-ratelimit-reset", "2026-11-28T11:00:00Z")], None),
            (502, &[("ratelimit-reset", "1795863600")], None),
            (200, &[("x-rate-limit-reset", "1795860090")], None),
            // Retry-After is an answer to any status (a 503 asking for time).
            (503, &[("retry-after", "4"), ("x-ratelimit-reset", "2026-11-28T11:00:00Z")], Some(4)),
        ];
        for (status, pairs, want) in cases {
            let got = server_wait(&headers(pairs), *status, now).map(|d| d.as_secs());
            assert_eq!(got, *want, "{status} {pairs:?}");
        }
    }

    #[test]
    fn backoff_doubles_with_jitter_and_stops_at_the_bound() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(1000));
        let first = b.next(None).expect("first");
        assert!(first >= Duration::from_millis(100) && first <= Duration::from_millis(125), "{first:?}");
        let second = b.next(None).expect("second");
        assert!(second >= Duration::from_millis(200) && second <= Duration::from_millis(250), "{second:?}");
        // The server's delay is taken as given, and counts against the bound.
        assert_eq!(b.next(Some(Duration::from_millis(300))), Some(Duration::from_millis(300)));
        assert_eq!(b.next(Some(Duration::from_secs(5))), None, "over the total bound");
        assert!(b.waited() <= Duration::from_millis(1000));
    }

    #[test]
    fn error_names_pass_and_anything_else_does_not() {
        for name in ["InvalidSwap", "DUPLICATE_POST", "auth.required", "ERR-1:x"] {
            assert_eq!(error_name(name).as_deref(), Some(name));
        }
        for junk in ["", "a b", "{\"password\":\"x\"}", "ünicode", &"x".repeat(65)] {
            assert_eq!(error_name(junk), None, "{junk}");
        }
    }

    #[test]
    fn redactor_hides_raw_and_encoded_secrets() {
        let r = Redactor::new(["s3cr3t/+tok", "ab"]);
        let text = "token=s3cr3t%2F%2Btok and s3cr3t/+tok but not ab";
        let out = r.redact(text);
        assert_eq!(out, "token=[REDACTED] and [REDACTED] but not ab");
        let more = r.with(&["jwt.jwt.jwt"]);
        assert_eq!(more.redact("Bearer jwt.jwt.jwt"), "Bearer [REDACTED]");
        assert!(!format!("{more:?}").contains("jwt"));
    }

    #[test]
    fn bodies_are_described_not_dumped() {
        let r = Redactor::new(["topsecret"]);
        let cases = [
            (&b""[..], "an empty body"),
            (b"<html><title>Bad Gateway</title></html>", "an HTML page titled \"Bad Gateway\" instead of JSON"),
            (b"{\"a\":", "truncated JSON"),
            (b"nope topsecret", "malformed JSON: \"nope [REDACTED]\""),
        ];
        for (body, want) in cases {
            let got = describe_body(body, &r);
            assert!(got.starts_with(want), "{got}");
        }
    }

    #[test]
    fn urls_join_escaped_segments() {
        let base = base_url("https://example.test/api/", "https://fallback.test");
        assert_eq!(join(&base, &["articles", "me", "all"]).as_str(), "https://example.test/api/articles/me/all");
        assert_eq!(join(&base, &["a b"]).as_str(), "https://example.test/api/a%20b");
        assert_eq!(base_url("not a url", "https://fallback.test/").as_str(), "https://fallback.test/");
    }
}
