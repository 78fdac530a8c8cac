//! The request loop every platform client sends through, written once:
//! build → send → classify → wait / retry / report.
//!
//! A platform supplies only its requests (a closure that builds one attempt) and a
//! [`Classifier`] that sorts its error bodies into a [`Class`]. Everything else is here:
//! the call counter, spacing of writes, timeouts and transport errors, the reading of
//! `Retry-After` and the rate-limit reset headers, the shared [`Backoff`], redaction, and the
//! rule that a once-only write whose reply was lost is reported as ambiguous (the caller
//! reconciles) instead of being sent again.

use std::fmt;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{
    Backoff, CallCounter, HttpOptions, Redactor, Safety, countdown, describe_body, server_wait, transport_error,
};

/// Called about once a second while a call waits (a rate limit, a backoff of a second or
/// more), with the time still to wait.
pub type OnWait<'a> = &'a dyn Fn(Duration);

/// An [`OnWait`] that shows nothing.
pub fn quiet(_: Duration) {}

/// What a failed exchange means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// A temporary failure after which the request may have taken effect (a 5xx, a lost
    /// reply): a repeatable request is sent again on the backoff; a once-only one becomes
    /// [`Class::Ambiguous`].
    Transient,
    /// A temporary refusal (throttled, not ready yet): the request did not take effect, so
    /// even a once-only request is sent again on the backoff.
    Throttled,
    /// Refused until a time (HTTP 429): waits for the time the server names
    /// (`HttpOptions::default_retry_after` when it names none), then sends again.
    RateLimited,
    /// This request's problem: sending it again fails again.
    Rejected,
    /// The credentials are wrong, expired or revoked: nothing else will work on this platform.
    CredentialsInvalid,
    /// A once-only write was sent and its reply lost: it may have taken effect, so the caller
    /// reconciles instead of sending it again.
    Ambiguous,
}

/// Attempts in a row that get no answer (the connection refused, no such host, no reply in
/// time) before a call gives up: enough for a restart, not the whole retry budget.
const MAX_UNANSWERED_ATTEMPTS: u32 = 3;

/// A platform's reading of an error reply.
#[derive(Debug, Clone)]
pub struct Verdict<D> {
    pub class: Class,
    /// The server's own words (redacted by the loop).
    pub text: Option<String>,
    /// A wait the body asks for (Telegram's `parameters.retry_after`, Discord's
    /// `retry_after`); it wins over the headers.
    pub retry_after: Option<Duration>,
    /// Whatever else the platform needs to build its error (codes, error names).
    pub detail: Option<D>,
}

impl<D> Verdict<D> {
    pub fn new(class: Class) -> Self {
        Self { class, text: None, retry_after: None, detail: None }
    }

    /// What the HTTP status alone says: 401 credentials, 429 rate limited, 5xx transient,
    /// anything else rejected.
    pub fn by_status(status: u16) -> Self {
        Self::new(match status {
            401 => Class::CredentialsInvalid,
            429 => Class::RateLimited,
            500.. => Class::Transient,
            _ => Class::Rejected,
        })
    }

    pub fn text(mut self, text: Option<String>) -> Self {
        self.text = text;
        self
    }

    pub fn detail(mut self, detail: D) -> Self {
        self.detail = Some(detail);
        self
    }
}

/// Sorts a platform's error replies; the only part of the loop a platform writes.
pub trait Classifier {
    /// What the platform keeps from an error body for its own error type.
    type Detail;

    /// Sorts a reply outside 2xx.
    fn classify(&self, status: u16, body: &[u8], operation: &'static str) -> Verdict<Self::Detail>;

    /// The value of a 2xx reply, `None` when it is garbled (a once-only write is then
    /// ambiguous, a repeatable request is sent again). By default a JSON object or array.
    fn success(&self, _status: u16, body: &[u8]) -> Option<Value> {
        json_reply(body)
    }

    /// [`Classifier::success`] for an API whose 2xx reply says what it made in a header
    /// (LinkedIn's `x-restli-id` on an empty 201). By default the headers are not read.
    fn success_with_headers(&self, status: u16, _headers: &reqwest::header::HeaderMap, body: &[u8]) -> Option<Value> {
        self.success(status, body)
    }
}

/// How a call ended when it did not succeed, for the platform to turn into its error.
#[derive(Debug, Clone)]
pub struct Failure<D> {
    /// Never [`Class::Throttled`] (a throttled call that ran out of time is `Transient`).
    pub class: Class,
    pub operation: &'static str,
    /// The HTTP status, when a reply arrived.
    pub status: Option<u16>,
    /// The wait the server asked for (for `RateLimited`, the wait that was too long).
    pub retry_after: Option<Duration>,
    /// The server's own words, redacted, when its error body had some.
    pub server_text: Option<String>,
    /// What happened, redacted: the server's words, else a description of the body or of
    /// the transport failure.
    pub text: String,
    /// The platform's reading of the error body.
    pub detail: Option<D>,
    /// Whether some attempt may have reached the server.
    pub reached: bool,
}

impl<D> Failure<D> {
    /// What happened with the status: `HTTP 502: …`, `HTTP 200 with …`, or the transport failure.
    pub fn message(&self) -> String {
        match self.status {
            Some(s) if (200..300).contains(&s) => format!("HTTP {s} with {}", self.text),
            Some(s) => format!("HTTP {s}: {}", self.text),
            None => self.text.clone(),
        }
    }
}

/// One request: how to build an attempt, and what may be done when it fails.
pub struct Request<'a> {
    /// Names the call in messages (`create article`).
    pub operation: &'static str,
    pub safety: Safety,
    /// Writes are spaced `HttpOptions::min_write_interval` apart.
    pub write: bool,
    /// Builds one attempt (called again for every retry, so a body need not be cloneable).
    pub build: &'a (dyn Fn(&reqwest::Client) -> reqwest::RequestBuilder + Sync),
}

/// The HTTP side of a platform client: the connection pool, the base URL, options, the
/// secrets to hide, call counter and write spacing. Cheap to clone; clones share the
/// counter, the spacing and the secrets. Its `Debug` shows no secret.
#[derive(Clone)]
pub struct HttpClient {
    http: reqwest::Client,
    base: url::Url,
    opts: HttpOptions,
    /// Grows when a token is obtained during the run (a session JWT).
    redactor: Arc<RwLock<Redactor>>,
    calls: CallCounter,
    /// Start time reserved for the latest write.
    last_write: Arc<Mutex<Option<Instant>>>,
    /// The credential every request carries (see [`HttpClient::with_credential`]).
    credential: Option<Credential>,
}

/// A header carrying the credential on every request.
#[derive(Clone)]
struct Credential {
    name: reqwest::header::HeaderName,
    /// `Err` names what cannot be sent (`the token contains characters …`).
    value: Result<reqwest::header::HeaderValue, String>,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("base", &self.base.as_str())
            .field("opts", &self.opts)
            .field("calls", &self.calls())
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// A client for `base` that hides `secrets` wherever they could show.
    pub fn new<S: AsRef<str>>(opts: HttpOptions, base: url::Url, secrets: impl IntoIterator<Item = S>) -> Self {
        Self {
            http: super::client(opts.request_timeout),
            base,
            opts,
            redactor: Arc::new(RwLock::new(Redactor::new(secrets))),
            calls: CallCounter::default(),
            last_write: Arc::new(Mutex::new(None)),
            credential: None,
        }
    }

    /// Sends `value` (a secret, `what` names it: `key`, `token`) in the header `name` on every
    /// request, marked sensitive. A value that cannot be sent in a header fails every call
    /// as [`Class::CredentialsInvalid`] before anything is sent.
    pub fn with_credential(mut self, name: reqwest::header::HeaderName, value: &str, what: &str) -> Self {
        let value = secret_header(value)
            .ok_or_else(|| format!("the {what} contains characters that cannot be sent in an HTTP header"));
        self.credential = Some(Credential { name, value });
        self
    }

    pub fn base(&self) -> &url::Url {
        &self.base
    }

    /// The base URL with `segments` appended.
    pub fn url(&self, segments: &[&str]) -> url::Url {
        super::join(&self.base, segments)
    }

    /// What hides the secrets known so far.
    pub fn redactor(&self) -> Redactor {
        self.redactor.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Hides `secret` too from now on (a token obtained during the run).
    pub fn hide(&self, secret: &str) {
        let mut r = self.redactor.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        *r = r.with(&[secret]);
    }

    pub fn options(&self) -> HttpOptions {
        self.opts
    }

    /// HTTP requests sent so far (every attempt counts).
    pub fn calls(&self) -> u64 {
        self.calls.get()
    }

    /// Sends `req` until it succeeds or the failure is final; returns the 2xx status and JSON.
    /// `on_wait` is an [`OnWait`], or a plain function where the future must be `Send`.
    pub async fn send<C: Classifier, W: Fn(Duration) + ?Sized>(
        &self,
        classifier: &C,
        req: &Request<'_>,
        on_wait: &W,
    ) -> Result<(u16, Value), Failure<C::Detail>> {
        if let Some(Credential { value: Err(text), .. }) = &self.credential {
            return Err(Failure {
                class: Class::CredentialsInvalid,
                operation: req.operation,
                status: None,
                retry_after: None,
                server_text: Some(text.clone()),
                text: text.clone(),
                detail: None,
                reached: false,
            });
        }
        let redactor = &self.redactor();
        let mut backoff = Backoff::from_options(&self.opts);
        let mut reached = false;
        let mut unanswered = 0;
        loop {
            if req.write {
                self.space_write().await;
            }
            let mut failure = match self.attempt(classifier, redactor, req).await {
                Ok(ok) => return Ok(ok),
                Err(f) => f,
            };
            // No answer at all (refused, no such host, no reply in time): a few tries cover a
            // restart; the whole retry budget would keep a run waiting minutes on a server
            // that is down or hangs.
            unanswered = if failure.status.is_some() { 0 } else { unanswered + 1 };
            reached |= failure.reached;
            failure.reached = reached;
            if !matches!(failure.class, Class::Transient | Class::Throttled | Class::RateLimited)
                || unanswered >= MAX_UNANSWERED_ATTEMPTS
            {
                return Err(failure);
            }
            let Some(delay) = backoff.next(failure.retry_after) else {
                if failure.class == Class::Throttled {
                    failure.class = Class::Transient;
                }
                return Err(failure);
            };
            countdown(delay, on_wait).await;
        }
    }

    async fn attempt<C: Classifier>(
        &self,
        classifier: &C,
        redactor: &Redactor,
        req: &Request<'_>,
    ) -> Result<(u16, Value), Failure<C::Detail>> {
        let failure = |class, status, retry_after, text| Failure {
            class,
            operation: req.operation,
            status,
            retry_after,
            server_text: None,
            text,
            detail: None,
            reached: true,
        };
        // A write that may have reached the server is ambiguous when it may not be repeated.
        let unclear = if req.safety == Safety::OnceOnly { Class::Ambiguous } else { Class::Transient };
        self.calls.add();
        let mut request = (req.build)(&self.http);
        if let Some(Credential { name, value: Ok(value) }) = &self.credential {
            request = request.header(name, value.clone());
        }
        let resp = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                let (message, not_sent) = transport_error(e, self.opts.request_timeout, redactor);
                // A failed connect means nothing was sent, so even a once-only write may be retried.
                let class = if not_sent { Class::Transient } else { unclear };
                return Err(Failure { reached: !not_sent, ..failure(class, None, None, message) });
            }
        };
        let status = resp.status().as_u16();
        let wait = server_wait(resp.headers(), status, chrono::Utc::now());
        let headers = resp.headers().clone();
        let body = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => {
                let (message, _) = transport_error(e, self.opts.request_timeout, redactor);
                return Err(failure(unclear, None, None, message));
            }
        };
        if (200..300).contains(&status) {
            return match classifier.success_with_headers(status, &headers, &body) {
                Some(v) => Ok((status, v)),
                // The write went through, but what it produced cannot be told.
                None => Err(failure(unclear, Some(status), wait, describe_body(&body, redactor))),
            };
        }
        let verdict = classifier.classify(status, &body, req.operation);
        let server_text = verdict.text.map(|t| redactor.redact(&t));
        let text = server_text.clone().unwrap_or_else(|| describe_body(&body, redactor));
        let wait = verdict.retry_after.or(wait);
        let (class, wait) = match verdict.class {
            Class::RateLimited => (Class::RateLimited, Some(wait.unwrap_or(self.opts.default_retry_after))),
            // A gateway error does not tell whether the backend acted on the write.
            Class::Transient => (unclear, wait),
            class => (class, wait),
        };
        Err(Failure { server_text, detail: verdict.detail, ..failure(class, Some(status), wait, text) })
    }

    /// Waits until this write's slot: at least `min_write_interval` after the previous one.
    async fn space_write(&self) {
        let interval = self.opts.min_write_interval;
        if interval.is_zero() {
            return;
        }
        let at = {
            let mut last = self.last_write.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let now = Instant::now();
            let at = last.map_or(now, |l| (l + interval).max(now));
            *last = Some(at);
            at
        };
        tokio::time::sleep_until(at.into()).await;
    }
}

/// A body that is a JSON object or array.
pub fn json_reply(body: &[u8]) -> Option<Value> {
    serde_json::from_slice::<Value>(body).ok().filter(|v| v.is_object() || v.is_array())
}

/// A header carrying a secret, marked sensitive (kept out of `Debug`); `None` when the secret
/// cannot be sent in a header.
pub fn secret_header(value: &str) -> Option<reqwest::header::HeaderValue> {
    let mut v = reqwest::header::HeaderValue::from_str(value).ok()?;
    v.set_sensitive(true);
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A credential that cannot be a header fails every call, naming what it is, before
    /// anything is sent (and without showing it).
    #[tokio::test]
    async fn an_unsendable_credential_fails_before_sending() {
        let base = url::Url::parse("http://127.0.0.1:9/").expect("url");
        let client = HttpClient::new(HttpOptions::default(), base, ["bad\nsecret"]).with_credential(
            reqwest::header::AUTHORIZATION,
            "Bearer bad\nsecret",
            "token",
        );
        let build = |c: &reqwest::Client| c.get("http://127.0.0.1:9/");
        let req = Request { operation: "read", safety: Safety::Repeatable, write: false, build: &build };
        let Err(f) = client.send(&NoBody, &req, &quiet).await else { panic!("sent with a bad credential") };
        assert_eq!((f.class, f.reached, client.calls()), (Class::CredentialsInvalid, false, 0));
        assert_eq!(f.text, "the token contains characters that cannot be sent in an HTTP header");
        assert!(!format!("{client:?}").contains("secret"));
    }

    /// A server that refuses connections is tried a few times, not for the whole retry
    /// budget, and the failure says that nothing reached it (so a write may be sent again).
    #[tokio::test]
    async fn an_unreachable_server_is_given_up_on_after_a_few_tries() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
        let base = url::Url::parse(&format!("http://127.0.0.1:{port}/")).expect("url");
        let opts = HttpOptions {
            initial_delay: Duration::from_millis(1),
            max_total_wait: Duration::from_secs(3600),
            ..HttpOptions::default()
        };
        let client = HttpClient::new(opts, base.clone(), Vec::<String>::new());
        let build = move |c: &reqwest::Client| c.post(base.clone());
        let req = Request { operation: "create", safety: Safety::OnceOnly, write: true, build: &build };
        let Err(f) = client.send(&NoBody, &req, &quiet).await else { panic!("nothing listens there") };
        assert_eq!((f.class, f.reached, f.status), (Class::Transient, false, None), "{}", f.text);
        assert_eq!(client.calls(), u64::from(MAX_UNANSWERED_ATTEMPTS));
    }

    struct NoBody;

    impl Classifier for NoBody {
        type Detail = ();

        fn classify(&self, status: u16, _: &[u8], _: &'static str) -> Verdict<()> {
            Verdict::by_status(status)
        }
    }
}
