//! The fake-server kit every fake platform (`fake_<platform>.rs`) is built on.
//!
//! A fake supplies only what is its own: its configuration ([`config!`]: fields and
//! defaults), its state (built `From` that configuration, implementing [`Platform`]: the
//! routes, how a request is answered, its own faults) and its test-side methods on
//! [`Fake<State>`]. The kit supplies the rest, once: [`Fake::start`], the server on a
//! loopback port that stops when dropped, the shared state behind one lock, the queue of
//! one-shot faults per route with the faults every fake has ([`faults!`]), the request log,
//! latency and lost replies, and a clock tests can move. A request goes: log → latency → route → fault → answer.
//!
//! Each fake includes this file as its own `fake` module.

// Each test binary uses a different subset of this module.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// What a fake platform plugs into the kit: its state, routes and answers.
pub(crate) trait Platform: Sized + Send + 'static {
    /// The routes a fault can be attached to; the default is "whatever request comes next".
    type Route: Copy + PartialEq + Send + Default;
    /// The platform's `Fault` (declared with [`faults!`]).
    type Fault: KitFault + Send;
    /// One request as the log keeps it (never a credential).
    type Entry: for<'a> From<&'a Incoming> + Clone + Send;
    /// Where the API lives under the server's origin (`/api`), for [`Fake::base_url`].
    const BASE_PATH: &'static str = "";
    /// The largest request body accepted (axum's default unless a platform takes more).
    const BODY_LIMIT: usize = 2 * 1024 * 1024;
    /// The page of [`Fault::HtmlPage`](Common::HtmlPage).
    const BAD_GATEWAY_PAGE: &'static str =
        "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body>Bad Gateway</body></html>";

    /// Called once the server listens on `origin` (`http://127.0.0.1:<port>`).
    fn listening(&mut self, _origin: &str) {}
    /// The route `req` is on (the default when none).
    fn route(&self, req: &Incoming) -> Self::Route;
    /// What one of the platform's own faults does (the kit handles the common ones).
    fn fault(&mut self, fault: Self::Fault) -> Effect;
    /// The answer to `req`, acting on the state.
    fn answer(&mut self, route: Self::Route, req: &Incoming) -> Response;
    /// Headers the real server puts on every response, faults included (rate-limit windows).
    fn every_response(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }
}

/// A request as received.
pub(crate) struct Incoming {
    pub(crate) method: Method,
    pub(crate) uri: Uri,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Incoming {
    pub(crate) fn path(&self) -> &str {
        self.uri.path()
    }

    /// The path's segments, between the outer slashes.
    pub(crate) fn segments(&self) -> Vec<&str> {
        self.uri.path().trim_matches('/').split('/').collect()
    }

    /// The query parameters (the last of a repeated name wins).
    pub(crate) fn query(&self) -> HashMap<String, String> {
        self.uri.query().map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default()
    }

    /// Every value of a repeated query parameter (`uris=a&uris=b`, `id[]=1&id[]=2`).
    pub(crate) fn query_all(&self, name: &str) -> Vec<String> {
        let pairs = self.uri.query().map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned());
        pairs.into_iter().flatten().filter(|(k, _)| k == name).map(|(_, v)| v).collect()
    }

    /// The body, when it parses as JSON.
    pub(crate) fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// A header's value, when it is text.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The fields of a `multipart/form-data` body (none for another body).
    pub(crate) fn form(&self) -> Vec<FormField> {
        let ctype = self.content_type();
        if ctype.starts_with("multipart/form-data") { parse_multipart(ctype, &self.body) } else { Vec::new() }
    }

    /// The multipart fields as a log keeps them: (name, value), a file as
    /// `<file NAME, N bytes>`.
    pub(crate) fn logged_form(&self) -> Vec<(String, String)> {
        let shown = |f: &FormField| match &f.file_name {
            Some(name) => format!("<file {name}, {} bytes>", f.data.len()),
            None => String::from_utf8_lossy(&f.data).into_owned(),
        };
        self.form().iter().map(|f| (f.name.clone(), shown(f))).collect()
    }

    /// `Content-Type`, or "".
    pub(crate) fn content_type(&self) -> &str {
        self.header(header::CONTENT_TYPE.as_str()).unwrap_or("")
    }
}

/// What a fault does to the request it hits.
pub(crate) enum Effect {
    /// Answer this, without acting.
    Reply(Response),
    /// Wait, then act and answer normally.
    Delay(Duration),
    /// Act, then hang for the lost-reply time so the client gives up.
    DropAfterAction,
    /// Act, then answer with the body cut in half.
    TruncateAfterAction,
    /// Act and answer normally (the fault changed the state).
    Proceed,
}

/// The faults every fake has (see [`faults!`]).
pub(crate) enum Common {
    Status(u16, String),
    Delay(Duration),
    DropAfterAction,
    HtmlPage,
    TruncatedJson,
}

/// A platform's `Fault`: the common faults, or its own.
pub(crate) trait KitFault: Sized {
    fn common(self) -> Result<Common, Self>;
}

/// Declares a fake's `Fault`: the faults every fake has, then the platform's own variants.
macro_rules! faults {
    ($(
        $(#[$doc:meta])* $name:ident
        $({ $($(#[$fdoc:meta])* $field:ident : $ty:ty),* $(,)? })?
        $(( $($tuple:ty),* ))?
    ),* $(,)?) => {
        /// A one-shot failure injected into the next request on a route.
        #[derive(Debug, Clone)]
        pub(crate) enum Fault {
            /// Answer with this status and body (JSON when it starts with `{`, else an HTML
            /// page), without acting.
            Status(u16, String),
            /// Wait this long, then handle the request normally (a client that times out first
            /// drops the connection, which cancels the request: nothing happens).
            Delay(std::time::Duration),
            /// Perform the action, then hang for `drop_hang` so the client's reply is lost.
            DropAfterAction,
            /// Answer HTTP 502 with an HTML page, without acting.
            HtmlPage,
            /// Perform the action, then answer with the JSON cut in half.
            TruncatedJson,
            $($(#[$doc])* $name $({ $($(#[$fdoc])* $field: $ty),* })? $(( $($tuple),* ))?,)*
        }

        impl fake::KitFault for Fault {
            #[allow(unreachable_patterns)]
            fn common(self) -> Result<fake::Common, Self> {
                Ok(match self {
                    Self::Status(code, body) => fake::Common::Status(code, body),
                    Self::Delay(d) => fake::Common::Delay(d),
                    Self::DropAfterAction => fake::Common::DropAfterAction,
                    Self::HtmlPage => fake::Common::HtmlPage,
                    Self::TruncatedJson => fake::Common::TruncatedJson,
                    own => return Err(own),
                })
            }
        }
    };
}
pub(crate) use faults;

/// Getters for the configuration a test reads back (`token()`, `username()`…): each
/// returns a copy of `cfg.<field>` (`config_getters!(FakeX { /// doc \n field, … })`).
macro_rules! config_getters {
    ($fake:ty { $($(#[$doc:meta])* $field:ident),* $(,)? }) => {
        impl $fake {
            $(
                $(#[$doc])*
                pub(crate) fn $field(&self) -> String {
                    self.lock().cfg.$field.clone()
                }
            )*
        }
    };
}
pub(crate) use config_getters;

/// How long a lost reply hangs unless a fake says otherwise: longer than a client's timeout.
pub(crate) const DROP_HANG: Duration = Duration::from_secs(30);

/// What the kit reads from a fake's configuration (implemented by [`config!`]).
pub(crate) trait KitConfig {
    /// Added to every request.
    fn latency(&self) -> Duration;
    /// How long a lost reply ([`Effect::DropAfterAction`]) hangs.
    fn drop_hang(&self) -> Duration;
}

/// Declares a fake's `FakeConfig`: each field with its default, said once
/// (`name: Type = default,`), then the fields every fake has: `latency` (none) and
/// `drop_hang` ([`DROP_HANG`], or the `drop_hang = …;` after the fields, ended by `;`).
macro_rules! config {
    (
        $($(#[$fdoc:meta])* $field:ident : $ty:ty = $default:expr),* $(,)?
        $(; drop_hang = $hang:expr;)?
    ) => {
        /// How the fake behaves. Every field has a sensible default.
        #[derive(Debug, Clone)]
        pub(crate) struct FakeConfig {
            $($(#[$fdoc])* pub(crate) $field: $ty,)*
            /// Added to every request.
            pub(crate) latency: std::time::Duration,
            /// How long [`Fault::DropAfterAction`] hangs before answering (longer than the
            /// client's timeout, so the client gives up).
            pub(crate) drop_hang: std::time::Duration,
        }

        impl Default for FakeConfig {
            fn default() -> Self {
                Self {
                    $($field: $default,)*
                    latency: std::time::Duration::ZERO,
                    drop_hang: fake::config!(@or $($hang)?; fake::DROP_HANG),
                }
            }
        }

        impl fake::KitConfig for FakeConfig {
            fn latency(&self) -> std::time::Duration {
                self.latency
            }
            fn drop_hang(&self) -> std::time::Duration {
                self.drop_hang
            }
        }
    };
    (@or ; $default:expr) => { $default };
    (@or $given:expr; $default:expr) => { $given };
}
pub(crate) use config;

/// The shared state: the platform's, its fault queue and its request log. Derefs to the
/// platform's state.
pub(crate) struct Kit<P: Platform> {
    pub(crate) state: P,
    pub(crate) faults: FaultQueue<P::Route, P::Fault>,
    pub(crate) log: RequestLog<P::Entry>,
    /// Added to every request.
    pub(crate) latency: Duration,
    /// How long a lost reply ([`Effect::DropAfterAction`]) hangs: longer than the client's timeout.
    pub(crate) drop_hang: Duration,
}

impl<P: Platform> Deref for Kit<P> {
    type Target = P;
    fn deref(&self) -> &P {
        &self.state
    }
}

impl<P: Platform> DerefMut for Kit<P> {
    fn deref_mut(&mut self) -> &mut P {
        &mut self.state
    }
}

type Shared<P> = Arc<Mutex<Kit<P>>>;

/// A running fake of platform `P`, stopped when dropped. Each fake adds its own methods.
pub(crate) struct Fake<P: Platform> {
    origin: String,
    shared: Shared<P>,
    _server: Server,
}

impl<P: Platform> Fake<P> {
    /// Starts the fake on 127.0.0.1 (a random port) in the current tokio runtime, in the
    /// state `P` starts in with `cfg` (its `From<FakeConfig>`).
    pub(crate) async fn start<C: KitConfig>(cfg: C) -> Self
    where
        P: From<C>,
    {
        let (latency, drop_hang) = (cfg.latency(), cfg.drop_hang());
        Self::serve(P::from(cfg), latency, drop_hang).await
    }

    /// Serves `state`, adding `latency` to every request; a lost reply hangs for `drop_hang`.
    async fn serve(mut state: P, latency: Duration, drop_hang: Duration) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind fake {} server: {e}", std::any::type_name::<P>()));
        let origin = format!("http://{}", listener.local_addr().expect("local addr"));
        state.listening(&origin);
        let kit = Kit { state, faults: FaultQueue::default(), log: RequestLog::default(), latency, drop_hang };
        let shared = Arc::new(Mutex::new(kit));
        let app = Router::new()
            .fallback(with_headers::<P>)
            .layer(DefaultBodyLimit::max(P::BODY_LIMIT))
            .with_state(shared.clone());
        Self { origin, shared, _server: Server::spawn(listener, app) }
    }

    /// `http://127.0.0.1:<port>`.
    pub(crate) fn origin(&self) -> String {
        self.origin.clone()
    }

    /// The client's base URL: the origin and [`Platform::BASE_PATH`].
    pub(crate) fn base_url(&self) -> String {
        format!("{}{}", self.origin, P::BASE_PATH)
    }

    /// The state, locked.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Kit<P>> {
        lock(&self.shared)
    }

    /// Queues a one-shot fault for the next request on `route`.
    pub(crate) fn fail_next(&self, route: P::Route, fault: P::Fault) {
        self.lock().faults.push(route, fault);
    }

    /// Number of HTTP requests received.
    pub(crate) fn calls(&self) -> u64 {
        self.lock().log.calls()
    }

    /// Every request received, in order.
    pub(crate) fn requests(&self) -> Vec<P::Entry> {
        self.lock().log.all()
    }
}

/// Every request: [`handle`], then the platform's [`Platform::every_response`] headers.
async fn with_headers<P: Platform>(
    State(shared): State<Shared<P>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut reply = handle(shared.clone(), Incoming { method, uri, headers, body }).await;
    for (name, value) in lock(&shared).state.every_response() {
        if let Ok(v) = axum::http::HeaderValue::from_str(&value) {
            reply.headers_mut().entry(name).or_insert(v);
        }
    }
    reply
}

async fn handle<P: Platform>(shared: Shared<P>, req: Incoming) -> Response {
    let latency = {
        let mut g = lock(&shared);
        g.log.record(P::Entry::from(&req));
        g.latency
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let (route, effect) = {
        let mut g = lock(&shared);
        let route = g.state.route(&req);
        let effect = match g.faults.take(route, P::Route::default()).map(KitFault::common) {
            None => Effect::Proceed,
            Some(Ok(Common::Status(code, body))) => Effect::Reply(status_page(code, body)),
            Some(Ok(Common::Delay(d))) => Effect::Delay(d),
            Some(Ok(Common::DropAfterAction)) => Effect::DropAfterAction,
            Some(Ok(Common::HtmlPage)) => Effect::Reply(html(502, P::BAD_GATEWAY_PAGE.to_owned())),
            Some(Ok(Common::TruncatedJson)) => Effect::TruncateAfterAction,
            Some(Err(own)) => g.state.fault(own),
        };
        (route, effect)
    };
    let after = match effect {
        Effect::Reply(reply) => return reply,
        Effect::Delay(d) => {
            tokio::time::sleep(d).await;
            None
        }
        Effect::Proceed => None,
        after => Some(after),
    };
    let (reply, hang) = {
        let mut g = lock(&shared);
        (g.state.answer(route, &req), g.drop_hang)
    };
    match after {
        Some(Effect::DropAfterAction) => {
            // The client times out and closes the connection, which cancels this future.
            tokio::time::sleep(hang).await;
            raw(504, "text/html", "<html><title>504 Gateway Timeout</title></html>".into())
        }
        Some(Effect::TruncateAfterAction) => truncated(reply).await,
        _ => reply,
    }
}

/// `reply` with its body cut in half (on a character boundary), as JSON.
async fn truncated(reply: Response) -> Response {
    let status = reply.status().as_u16();
    let bytes = axum::body::to_bytes(reply.into_body(), usize::MAX).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    let mut cut = text.len() / 2;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    raw(status, "application/json", text[..cut].to_owned())
}

/// An answer with this status, content type and body.
pub(crate) fn raw(status: u16, ctype: &'static str, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(header::CONTENT_TYPE, ctype)], body).into_response()
}

/// A JSON answer.
pub(crate) fn json(status: u16, v: &Value) -> Response {
    raw(status, "application/json; charset=utf-8", v.to_string())
}

/// An HTML page.
pub(crate) fn html(status: u16, page: String) -> Response {
    raw(status, "text/html; charset=utf-8", page)
}

/// [`Fault::Status`](Common::Status): JSON when the body looks like it, else an HTML page.
fn status_page(code: u16, body: String) -> Response {
    if body.trim_start().starts_with('{') { raw(code, "application/json", body) } else { html(code, body) }
}

/// One field of a multipart form.
pub(crate) struct FormField {
    pub(crate) name: String,
    pub(crate) file_name: Option<String>,
    pub(crate) content_type: Option<String>,
    pub(crate) data: Vec<u8>,
}

/// A small multipart/form-data reader (enough for what HTTP clients send).
fn parse_multipart(ctype: &str, body: &[u8]) -> Vec<FormField> {
    let Some(boundary) = ctype.split(';').find_map(|p| p.trim().strip_prefix("boundary=")) else {
        return Vec::new();
    };
    let delim = format!("--{}", boundary.trim_matches('"'));
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(start) = find(rest, delim.as_bytes()) {
        rest = &rest[start + delim.len()..];
        if rest.starts_with(b"--") {
            break;
        }
        let rest_after_crlf = rest.strip_prefix(b"\r\n").unwrap_or(rest);
        let Some(head_end) = find(rest_after_crlf, b"\r\n\r\n") else { break };
        let head = String::from_utf8_lossy(&rest_after_crlf[..head_end]).into_owned();
        let data_start = &rest_after_crlf[head_end + 4..];
        let Some(data_end) = find(data_start, format!("\r\n{delim}").as_bytes()) else { break };
        let mut field = FormField {
            name: String::new(),
            file_name: None,
            content_type: None,
            data: data_start[..data_end].to_vec(),
        };
        for line in head.lines() {
            let lower = line.to_ascii_lowercase();
            if lower.starts_with("content-disposition:") {
                for p in line.split(';') {
                    let p = p.trim();
                    if let Some(v) = p.strip_prefix("name=") {
                        field.name = v.trim_matches('"').to_owned();
                    } else if let Some(v) = p.strip_prefix("filename=") {
                        field.file_name = Some(v.trim_matches('"').to_owned());
                    }
                }
            } else if lower.starts_with("content-type:") {
                field.content_type = Some(line[13..].trim().to_owned());
            }
        }
        out.push(field);
        rest = &data_start[data_end + 2..];
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A server on 127.0.0.1 (a random port), stopped when dropped.
pub(crate) struct Server {
    addr: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Serves `app` in the current tokio runtime.
    pub(crate) async fn start(app: Router, what: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind fake {what} server: {e}"));
        Self::spawn(listener, app)
    }

    fn spawn(listener: tokio::net::TcpListener, app: Router) -> Self {
        let addr = listener.local_addr().expect("local addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, task }
    }

    /// `http://127.0.0.1:<port>`.
    pub(crate) fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One-shot faults, each for the next request on a route (or on any route).
#[derive(Debug)]
pub(crate) struct FaultQueue<R, F> {
    queue: VecDeque<(R, F)>,
}

impl<R, F> Default for FaultQueue<R, F> {
    fn default() -> Self {
        Self { queue: VecDeque::new() }
    }
}

impl<R: PartialEq + Copy, F> FaultQueue<R, F> {
    pub(crate) fn push(&mut self, route: R, fault: F) {
        self.queue.push_back((route, fault));
    }

    /// The first fault queued for `route` or for `any`, removed from the queue.
    pub(crate) fn take(&mut self, route: R, any: R) -> Option<F> {
        let pos = self.queue.iter().position(|(r, _)| *r == route || *r == any)?;
        self.queue.remove(pos).map(|(_, f)| f)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

/// One request as received. Headers are left out (but the idempotency key), so a
/// credential never is in the log.
#[derive(Debug, Clone)]
pub(crate) struct FakeRequest {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    /// The body, when it parsed as JSON.
    pub(crate) body: Option<Value>,
    /// `Idempotency-Key`.
    pub(crate) idempotency_key: Option<String>,
    /// Multipart fields other than files (name, value), and files as `<file NAME, N bytes>`.
    pub(crate) form: Vec<(String, String)>,
}

impl From<&Incoming> for FakeRequest {
    /// What the log keeps of `req`.
    fn from(req: &Incoming) -> Self {
        Self {
            method: req.method.as_str().to_owned(),
            path: req.path().to_owned(),
            query: req.uri.query().map(str::to_owned),
            body: req.json(),
            idempotency_key: req.header("idempotency-key").map(str::to_owned),
            form: req.logged_form(),
        }
    }
}

/// `(method, path)` only, for a fake whose query or body may hold a credential.
impl From<&Incoming> for (String, String) {
    fn from(req: &Incoming) -> Self {
        (req.method.as_str().to_owned(), req.path().to_owned())
    }
}

/// Every request received, in order.
#[derive(Debug)]
pub(crate) struct RequestLog<E = FakeRequest> {
    requests: Vec<E>,
}

impl<E> Default for RequestLog<E> {
    fn default() -> Self {
        Self { requests: Vec::new() }
    }
}

impl<E: Clone> RequestLog<E> {
    pub(crate) fn record(&mut self, entry: E) {
        self.requests.push(entry);
    }

    pub(crate) fn calls(&self) -> u64 {
        self.requests.len() as u64
    }

    pub(crate) fn all(&self) -> Vec<E> {
        self.requests.clone()
    }

    /// The requests `keep` picks.
    pub(crate) fn count(&self, keep: impl Fn(&E) -> bool) -> usize {
        self.requests.iter().filter(|r| keep(r)).count()
    }
}

/// The fake's clock: real time since the fake started, plus what a test advanced it by.
#[derive(Debug, Clone)]
pub(crate) struct Clock {
    started: Instant,
    start_unix: u64,
    offset: Duration,
}

impl Default for Clock {
    /// A clock that starts now.
    fn default() -> Self {
        Self::new(None)
    }
}

impl Clock {
    /// A clock whose start is `start_unix` (default: now).
    pub(crate) fn new(start_unix: Option<u64>) -> Self {
        Self { started: Instant::now(), start_unix: start_unix.unwrap_or_else(unix_now), offset: Duration::ZERO }
    }

    /// Time since the start.
    pub(crate) fn elapsed(&self) -> Duration {
        self.started.elapsed() + self.offset
    }

    /// Unix seconds `at` after the start.
    pub(crate) fn unix(&self, at: Duration) -> u64 {
        self.start_unix + at.as_secs()
    }

    /// Unix seconds now.
    pub(crate) fn now_unix(&self) -> u64 {
        self.unix(self.elapsed())
    }

    pub(crate) fn advance(&mut self, by: Duration) {
        self.offset += by;
    }
}

/// Unix seconds of the real clock.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(1_780_000_000)
}

/// Locks the fake's state; a panicking test thread must not wedge the other requests.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A fake's source of ids and codes: xorshift64, the same sequence on every run (good
/// enough for distinct-looking codes).
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Default for Rng {
    fn default() -> Self {
        Self(0x9E37_79B9_7F4A_7C15)
    }
}

impl Rng {
    /// `n` characters drawn from `alphabet`.
    pub(crate) fn string(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| {
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                alphabet[(self.0 % alphabet.len() as u64) as usize] as char
            })
            .collect()
    }
}
