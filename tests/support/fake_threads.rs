//! A stateful fake of the Threads Graph API for tests and benchmarks.
//!
//! Follows the "Fake-server contract" of `shared/reference/threads-api.md` for the Graph
//! routes a publisher uses: token check, container creation with Threads' validation rules,
//! the container lifecycle (configurable processing delays, forced `ERROR`, 24 h expiry on an
//! injectable clock), publish (including the too-early error and quotas), reads with field
//! selection, listings with opaque cursors, replies/conversation, the publishing limit and
//! delete. Parameters are accepted from the query string and/or an urlencoded body.
//!
//! Tests steer it with [`FakeThreads::fail_next`] (one-shot faults per route),
//! [`FakeThreads::fail_next_container`], [`FakeThreads::expire_token`] and
//! [`FakeThreads::advance_clock`], and inspect it with [`FakeThreads::published_posts`],
//! [`FakeThreads::calls`] and [`FakeThreads::requests`] (paths only, never the token).
//!
//! OAuth (contract items 1–3): [`FakeThreads::authorize`] plays the consent screen and mints
//! a code (single use, 1 h TTL) for a redirect URI and scopes; `POST /oauth/access_token`
//! trades it for a short-lived token (1 h) — errors in the flat
//! `{"error_type","code","error_message"}` shape —, `GET /access_token` (`th_exchange_token`)
//! trades that for a long-lived one (60 days), and `GET /refresh_access_token`
//! (`th_refresh_token`) renews a long-lived token that is at least 24 h old and unexpired.
//! Every token it issues also works on the Graph routes until it expires, with the
//! permissions approved at [`FakeThreads::authorize`]; the configured [`FakeConfig::token`]
//! counts as a long-lived token issued when the fake started, with [`FakeConfig::scopes`].
//! A route refuses a token without its permission as Graph does (code 10, `OAuthException`):
//! publishing needs `threads_content_publish`, deleting `threads_delete`, and every read of
//! replies (`/{user}/replies`, `/{media}/replies`, `/{media}/conversation`)
//! `threads_read_replies`. `GET /debug_token?input_token=…` tells a token's permissions. The
//! refusals of a too-young token (flat shape) and an expired one (Graph code 190, subcode
//! 463) are the fake's choice: Meta does not document those bodies.

// Each test binary uses a different subset of this module.
#![allow(dead_code)]

// Each fake holds its own copy of the shared pieces, so a test binary can include any set of fakes.
#[allow(clippy::duplicate_mod)]
#[path = "fake.rs"]
mod fake;

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use axum::http::{HeaderValue, Method, header};
use axum::response::Response;
use serde_json::{Map, Value, json};

use fake::{Clock, Effect, Incoming};

const DAY: Duration = Duration::from_secs(24 * 60 * 60);
const HOUR: Duration = Duration::from_secs(60 * 60);
/// Lifetime of a long-lived token (60 days), as `expires_in` reports it.
const LONG_LIVED_SECS: u64 = 5_184_000;
/// Scopes the fake's authorize step knows (see threads-api.md §1).
const KNOWN_SCOPES: [&str; 11] = [
    "threads_basic",
    "threads_content_publish",
    "threads_read_replies",
    "threads_manage_replies",
    "threads_manage_insights",
    "threads_delete",
    "threads_keyword_search",
    "threads_manage_mentions",
    "threads_profile_discovery",
    "threads_share_to_instagram",
    "threads_location_tagging",
];
const CODE_NOT_FOUND: &str = "Matching code was not found or was already used";
const USER_ROUTE_ERROR: &str = "Unsupported request. Object with ID does not exist, cannot be loaded due to missing permissions, or does not support this operation";

fake::config! {
    /// The one user this fake serves.
    user_id: String = "17841400000000001".into(),
    /// That user's handle.
    username: String = "crier_tester".into(),
    /// The valid access token.
    token: String = "THfakeToken0123456789abcdefSECRET".into(),
    /// Granted scopes.
    scopes: Vec<String> = [
        "threads_basic",
        "threads_content_publish",
        "threads_manage_replies",
        "threads_read_replies",
        "threads_delete",
        "threads_manage_insights",
    ]
    .map(String::from)
    .to_vec(),
    /// Time a TEXT container stays `IN_PROGRESS`.
    text_delay: Duration = Duration::ZERO,
    /// Time an IMAGE/VIDEO/CAROUSEL container stays `IN_PROGRESS`.
    media_delay: Duration = Duration::from_millis(150),
    /// Scheme and host of permalinks.
    permalink_host: String = "https://www.threads.com".into(),
    /// Leave `permalink` out of reads (as Threads does for copyrighted material).
    omit_permalink: bool = false,
    /// Posts per moving 24 h.
    publish_limit: u64 = 250,
    /// Replies per moving 24 h.
    reply_limit: u64 = 1000,
    /// Deletes per moving 24 h.
    delete_limit: u64 = 100,
    /// Unix time of the fake clock's start (default: now).
    start_unix: Option<u64> = None,
    /// Threads App ID (`client_id`).
    app_id: String = "1234567890123456".into(),
    /// Threads App secret (`client_secret`).
    app_secret: String = "fakeAppSecret0123456789abcdef".into(),
    /// Send `user_id` as a JSON string (as Meta's Postman sample) instead of a number.
    user_id_as_string: bool = false,
    /// Answer a read or delete of a deleted post with code 24 subcode 4279009 "Media Not
    /// Found" instead of the generic code 100 subcode 33 (Threads' exact answer is not
    /// documented; crier must take both for "gone").
    gone_as_media_not_found: bool = false,
}

/// Routes a fault can be attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Route {
    /// `GET /me`.
    Me,
    /// `POST /{user}/threads`.
    CreateContainer,
    /// `POST /{user}/threads_publish`.
    Publish,
    /// `GET /{container-id}`.
    ContainerStatus,
    /// `GET /{media-id}` (also unknown ids).
    Media,
    /// `GET /{user}/threads_publishing_limit`.
    PublishingLimit,
    /// `GET /{user}/threads`.
    ListThreads,
    /// `GET /{id}/replies`.
    ListReplies,
    /// `GET /{id}/conversation`.
    Conversation,
    /// `DELETE /{media-id}`.
    Delete,
    /// `GET /{media-id}/insights`.
    Insights,
    /// `POST /oauth/access_token`.
    OAuthToken,
    /// `GET /access_token`.
    ExchangeToken,
    /// `GET /refresh_access_token`.
    RefreshToken,
    /// `GET /debug_token`.
    DebugToken,
    /// Whatever request comes next.
    #[default]
    Any,
}

fake::faults! {
    /// Answer with a Graph error envelope, without acting (HTTP 500 for codes 1/2, else 400).
    GraphError {
        /// Graph code, e.g. 4 (throttled), 190 (token), 24.
        code: i64,
        /// Graph subcode.
        subcode: Option<i64>,
        /// `is_transient`.
        transient: bool,
    },
    /// HTTP 429 with a Graph code 4 body and, when given, `Retry-After: <secs>`.
    RateLimited {
        /// `Retry-After` value in seconds.
        retry_after_secs: Option<u64>,
    },
}

/// A published post, as the fake recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FakePost {
    /// Media id.
    pub(crate) id: String,
    /// Container it was published from.
    pub(crate) container_id: String,
    /// Text.
    pub(crate) text: Option<String>,
    /// Create-side media type (`TEXT`, `IMAGE`, `VIDEO`, `CAROUSEL`).
    pub(crate) media_type: String,
    /// Media id replied to.
    pub(crate) reply_to: Option<String>,
    /// Child container ids (carousel).
    pub(crate) children: Vec<String>,
    /// Shortcode.
    pub(crate) shortcode: String,
    /// Permalink (always recorded, even when reads omit it).
    pub(crate) permalink: String,
    /// `is_spoiler_media=true` was sent.
    pub(crate) spoiler_media: bool,
    /// `is_ghost_post=true` was sent.
    pub(crate) ghost: bool,
    /// Deleted since.
    pub(crate) deleted: bool,
    /// The container's parameters as sent (`alt_text`, `text_entities`, …): see [`FakePost::param`].
    params: HashMap<String, String>,
}

impl FakePost {
    /// The parameter `name` as sent (JSON-encoded ones as their text), if it was.
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

#[derive(Debug, Clone)]
struct Container {
    id: String,
    media_type: String,
    params: HashMap<String, String>,
    children: Vec<String>,
    is_carousel_item: bool,
    reply_to: Option<String>,
    created: Duration,
    ready_at: Duration,
    error: Option<String>,
    published_media: Option<String>,
}

#[derive(Debug, Clone)]
struct MediaObj {
    seq: u64,
    id: String,
    container_id: String,
    media_type: String,
    params: HashMap<String, String>,
    children: Vec<String>,
    child_containers: Vec<String>,
    reply_to: Option<String>,
    root: Option<String>,
    shortcode: String,
    created: Duration,
    carousel_child: bool,
    deleted: bool,
    /// Another account's post: (user id, username). `None`: the fake's user.
    foreign: Option<(String, String)>,
}

#[derive(Debug, Clone)]
struct OAuthCode {
    redirect_uri: String,
    /// The permissions the user approved.
    scopes: Vec<String>,
    issued: Duration,
    used: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenKind {
    Short,
    Long,
}

#[derive(Debug, Clone)]
struct Issued {
    kind: TokenKind,
    /// The permissions granted with it (the configured token's are `FakeConfig::scopes`).
    scopes: Vec<String>,
    issued: Duration,
    expires: Duration,
}

/// The fake's state.
#[derive(Default)]
pub(crate) struct Threads {
    cfg: FakeConfig,
    codes: HashMap<String, OAuthCode>,
    tokens: HashMap<String, Issued>,
    /// The permissions of the token of the request being served.
    granted: Vec<String>,
    clock: Clock,
    token_expired: bool,
    next_container: u64,
    next_media: u64,
    next_seq: u64,
    rng: fake::Rng,
    trace: u64,
    containers: HashMap<String, Container>,
    media: HashMap<String, MediaObj>,
    next_container_error: Option<String>,
    publishes: Vec<(Duration, bool)>,
    deletes: Vec<Duration>,
    /// Insight values per media id and metric (unset metrics read 0, as on a new post).
    insights: HashMap<String, HashMap<String, u64>>,
}

/// The state a fake starts in.
impl From<FakeConfig> for Threads {
    fn from(cfg: FakeConfig) -> Self {
        let long_lived = Issued {
            kind: TokenKind::Long,
            scopes: Vec::new(),
            issued: Duration::ZERO,
            expires: Duration::from_secs(LONG_LIVED_SECS),
        };
        Threads {
            clock: Clock::new(cfg.start_unix),
            tokens: HashMap::from([(cfg.token.clone(), long_lived)]),
            cfg,
            next_container: 17_920_000_000_000_001,
            next_media: 18_050_000_000_000_001,
            next_seq: 1,
            ..Threads::default()
        }
    }
}

/// A Graph error to send back.
struct GErr {
    status: u16,
    code: i64,
    subcode: Option<i64>,
    kind: &'static str,
    message: String,
    transient: bool,
    user_title: Option<String>,
    user_msg: Option<String>,
    /// Answer in the token endpoints' flat shape `{"error_type","code","error_message"}`.
    flat: bool,
}

impl GErr {
    fn new(status: u16, code: i64, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            subcode: None,
            kind,
            message: message.into(),
            transient: false,
            user_title: None,
            user_msg: None,
            flat: false,
        }
    }

    /// The flat OAuth error of the token endpoints.
    fn flat(message: impl Into<String>) -> Self {
        Self { flat: true, ..Self::new(400, 400, "OAuthException", message) }
    }

    fn param(message: impl Into<String>) -> Self {
        Self::new(400, 100, "THApiException", message)
    }

    /// A 24-hour quota used up (publishing or deleting): code 9, subcode 2207042.
    fn limit_reached(message: String, title: &str) -> Self {
        let mut e = Self::new(400, 9, "THApiException", message).subcode(2_207_042);
        e.user_title = Some(title.into());
        e
    }

    fn subcode(mut self, s: i64) -> Self {
        self.subcode = Some(s);
        self
    }

    fn unsupported(method: &Method, id: &str) -> Self {
        let verb = method.as_str().to_ascii_lowercase();
        Self::param(format!(
            "Unsupported {verb} request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation"
        ))
        .subcode(33)
    }

    fn not_ready(id: &str) -> Self {
        Self {
            subcode: Some(4_279_009),
            user_title: Some("Media Not Found".into()),
            user_msg: Some(format!("The media with id {id} cannot be found.")),
            ..Self::new(400, 24, "OAuthException", "The requested resource does not exist")
        }
    }

    fn body(&self, trace: u64) -> Value {
        if self.flat {
            return json!({ "error_type": self.kind, "code": self.code, "error_message": self.message });
        }
        let mut e = Map::new();
        e.insert("message".into(), json!(self.message));
        e.insert("type".into(), json!(self.kind));
        e.insert("code".into(), json!(self.code));
        if let Some(s) = self.subcode {
            e.insert("error_subcode".into(), json!(s));
        }
        e.insert("is_transient".into(), json!(self.transient));
        if let Some(t) = &self.user_title {
            e.insert("error_user_title".into(), json!(t));
        }
        if let Some(m) = &self.user_msg {
            e.insert("error_user_msg".into(), json!(m));
        }
        e.insert("fbtrace_id".into(), json!(format!("AfakeTrace{trace:06}")));
        json!({ "error": e })
    }
}

/// A running fake server. Stops when dropped.
pub(crate) type FakeThreads = fake::Fake<Threads>;

fake::config_getters!(FakeThreads {
    /// The valid token.
    token,
    /// The fake user's id.
    user_id,
    /// The fake user's handle.
    username,
    /// The Threads App ID.
    app_id,
    /// The Threads App secret.
    app_secret,
});

impl FakeThreads {
    /// The next container created ends in `ERROR` with this `error_message` once processed.
    pub(crate) fn fail_next_container(&self, error_message: &str) {
        self.lock().next_container_error = Some(error_message.to_owned());
    }

    /// From now on the token is rejected with code 190.
    pub(crate) fn expire_token(&self) {
        self.lock().token_expired = true;
    }

    /// Replaces the valid token (and un-expires it).
    pub(crate) fn set_token(&self, token: &str) {
        let mut g = self.lock();
        g.cfg.token = token.to_owned();
        g.token_expired = false;
    }

    /// Moves the fake clock forward (expiry, quotas, timestamps).
    pub(crate) fn advance_clock(&self, by: Duration) {
        self.lock().clock.advance(by);
    }

    /// Sets the per-request latency.
    pub(crate) fn set_latency(&self, latency: Duration) {
        self.lock().latency = latency;
    }

    /// Makes reads omit or include `permalink`.
    pub(crate) fn set_omit_permalink(&self, omit: bool) {
        self.lock().cfg.omit_permalink = omit;
    }

    /// Published posts (not carousel children), in publish order.
    pub(crate) fn published_posts(&self) -> Vec<FakePost> {
        let g = self.lock();
        let mut all: Vec<&MediaObj> = g.media.values().filter(|m| !m.carousel_child && m.foreign.is_none()).collect();
        all.sort_by_key(|m| m.seq);
        all.into_iter()
            .map(|m| FakePost {
                id: m.id.clone(),
                container_id: m.container_id.clone(),
                text: m.params.get("text").cloned(),
                media_type: m.media_type.clone(),
                reply_to: m.reply_to.clone(),
                children: m.child_containers.clone(),
                shortcode: m.shortcode.clone(),
                permalink: g.permalink(m),
                spoiler_media: m.params.get("is_spoiler_media").map(String::as_str) == Some("true"),
                ghost: m.params.get("is_ghost_post").map(String::as_str) == Some("true"),
                deleted: m.deleted,
                params: m.params.clone(),
            })
            .collect()
    }

    /// Deletes the post as its author would in the app (no API quota used).
    pub(crate) fn delete_in_app(&self, id: &str) {
        if let Some(m) = self.lock().media.get_mut(id) {
            m.deleted = true;
        }
    }

    /// Changes a post's text as its author would in the app.
    pub(crate) fn edit_in_app(&self, id: &str, text: &str) {
        if let Some(m) = self.lock().media.get_mut(id) {
            m.params.insert("text".into(), text.to_owned());
        }
    }

    /// A top-level text post of another account (readable, not deletable by the fake's
    /// user); returns its media id.
    pub(crate) fn seed_foreign_post(&self, user_id: &str, username: &str, text: &str) -> String {
        let mut g = self.lock();
        let id = Threads::next_id(&mut g.next_media);
        let shortcode = g.shortcode();
        let seq = g.next_seq;
        g.next_seq += 1;
        let created = g.now();
        let m = MediaObj {
            seq,
            id: id.clone(),
            container_id: String::new(),
            media_type: "TEXT".into(),
            params: HashMap::from([("text".to_owned(), text.to_owned())]),
            children: Vec::new(),
            child_containers: Vec::new(),
            reply_to: None,
            root: None,
            shortcode,
            created,
            carousel_child: false,
            deleted: false,
            foreign: Some((user_id.to_owned(), username.to_owned())),
        };
        g.media.insert(id.clone(), m);
        id
    }

    /// Uses up `n` deletes of the moving 24 h window now (as deletes made elsewhere would).
    pub(crate) fn use_deletes(&self, n: usize) {
        let mut g = self.lock();
        let now = g.now();
        g.deletes.extend(std::iter::repeat_n(now, n));
    }

    /// Deletes made through the API in the current 24 h window.
    pub(crate) fn deletes_in_window(&self) -> usize {
        let g = self.lock();
        let now = g.now();
        g.deletes.iter().filter(|t| now.saturating_sub(**t) < DAY).count()
    }

    /// Sets a post's insight values (what people did with it since).
    pub(crate) fn set_insights(&self, media_id: &str, values: &[(&str, u64)]) {
        let mut g = self.lock();
        let m = g.insights.entry(media_id.to_owned()).or_default();
        m.extend(values.iter().map(|(k, v)| ((*k).to_owned(), *v)));
    }

    /// Grants or withdraws a scope.
    pub(crate) fn set_scope(&self, scope: &str, granted: bool) {
        let mut g = self.lock();
        g.cfg.scopes.retain(|s| s != scope);
        if granted {
            g.cfg.scopes.push(scope.to_owned());
        }
    }

    /// Number of containers created so far.
    pub(crate) fn containers_created(&self) -> usize {
        self.lock().containers.len()
    }

    /// The consent screen: the user approves `scopes` (comma-separated) for `redirect_uri`;
    /// returns the code (valid 1 h, once). Unknown scopes (e.g. `threads_publish`) and a
    /// missing `threads_basic` are refused, as Threads does.
    pub(crate) fn authorize(&self, redirect_uri: &str, scopes: &str) -> Result<String, String> {
        let mut g = self.lock();
        let list: Vec<&str> = scopes.split([',', ' ']).filter(|s| !s.is_empty()).collect();
        if let Some(bad) = list.iter().find(|s| !KNOWN_SCOPES.contains(s)) {
            return Err(format!("Invalid Scopes: {bad}"));
        }
        if !list.contains(&"threads_basic") {
            return Err("threads_basic is required".into());
        }
        let code = format!("AQB{}", g.random_alnum(48));
        let issued = g.now();
        let scopes = list.iter().map(|s| (*s).to_owned()).collect();
        g.codes.insert(code.clone(), OAuthCode { redirect_uri: redirect_uri.to_owned(), scopes, issued, used: false });
        Ok(code)
    }

    /// The URL the browser is sent to after consent: `redirect_uri?code=…&state=…#_`.
    pub(crate) fn redirect_url(&self, redirect_uri: &str, code: &str, state: &str) -> String {
        let sep = if redirect_uri.contains('?') { '&' } else { '?' };
        let state: String = url::form_urlencoded::byte_serialize(state.as_bytes()).collect();
        format!("{redirect_uri}{sep}code={code}&state={state}#_")
    }

    /// Every token the fake knows (the configured one and all it issued), for leak checks.
    pub(crate) fn issued_tokens(&self) -> Vec<String> {
        self.lock().tokens.keys().cloned().collect()
    }

    /// Seconds until `token` expires on the fake clock (negative: expired); `None` if unknown.
    pub(crate) fn token_expires_in(&self, token: &str) -> Option<i64> {
        let g = self.lock();
        let t = g.tokens.get(token)?;
        Some(t.expires.as_secs() as i64 - g.now().as_secs() as i64)
    }
}

impl fake::Platform for Threads {
    type Route = Route;
    type Fault = Fault;
    /// `(method, path)`: the query (and so the token) is left out.
    type Entry = (String, String);
    const BAD_GATEWAY_PAGE: &'static str = "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\
        <body><h1>Sorry, something went wrong.</h1><p>We're working on it.</p></body></html>";

    fn route(&self, req: &Incoming) -> Route {
        self.route_of(&req.method, &segments(req))
    }

    fn fault(&mut self, fault: Fault) -> Effect {
        match fault {
            Fault::GraphError { code, subcode, transient } => {
                let message = match code {
                    1 => "An unknown error occurred".to_owned(),
                    2 => "An unexpected error has occurred. Please retry your request later.".into(),
                    4 => "(#4) Application request limit reached".into(),
                    17 => "(#17) User request limit reached".into(),
                    32 => "(#32) Page request limit reached".into(),
                    613 => "(#613) Calls to this api have exceeded the rate limit.".into(),
                    190 => "Invalid OAuth access token - Cannot parse access token".into(),
                    24 => "The requested resource does not exist".into(),
                    c => format!("(#{c}) Injected error"),
                };
                let kind = if matches!(code, 4 | 17 | 24 | 190) { "OAuthException" } else { "THApiException" };
                let status = if matches!(code, 1 | 2) { 500 } else { 400 };
                let mut e = GErr::new(status, code, kind, message);
                e.subcode = subcode;
                e.transient = transient;
                Effect::Reply(self.error_response(e))
            }
            Fault::RateLimited { retry_after_secs } => {
                let mut e = GErr::new(429, 4, "OAuthException", "(#4) Application request limit reached");
                e.transient = true;
                let mut resp = self.error_response(e);
                if let Some(s) = retry_after_secs {
                    resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
                }
                Effect::Reply(resp)
            }
            _ => Effect::Proceed,
        }
    }

    fn answer(&mut self, route: Route, req: &Incoming) -> Response {
        // Parameters come in the query string and/or an urlencoded body (the query wins).
        let mut params = req.query();
        if !req.body.is_empty() {
            for (k, v) in url::form_urlencoded::parse(&req.body).into_owned() {
                params.entry(k).or_insert(v);
            }
        }
        let result = match route {
            Route::OAuthToken | Route::ExchangeToken | Route::RefreshToken => self.oauth(route, &params),
            _ => self.check_token(&params).and_then(|scopes| {
                self.granted = scopes;
                self.dispatch(route, &req.method, &segments(req), &params)
            }),
        };
        match result {
            Ok(v) => fake::json(200, &v),
            Err(e) => self.error_response(e),
        }
    }
}

/// The path's segments, percent-decoded.
fn segments(req: &Incoming) -> Vec<String> {
    req.segments().into_iter().map(percent_decode).collect()
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

impl Threads {
    fn now(&self) -> Duration {
        self.clock.elapsed()
    }

    fn error_response(&mut self, e: GErr) -> Response {
        self.trace += 1;
        fake::json(e.status, &e.body(self.trace))
    }

    fn is_user(&self, seg: &str) -> bool {
        seg == "me" || seg == self.cfg.user_id
    }

    fn route_of(&self, method: &Method, segs: &[String]) -> Route {
        let s: Vec<&str> = segs.iter().map(String::as_str).collect();
        match (method.as_str(), s.as_slice()) {
            ("GET", ["v1.0", "debug_token"]) => Route::DebugToken,
            ("GET", ["v1.0", id]) if self.is_user(id) => Route::Me,
            ("GET", ["v1.0", id]) if self.containers.contains_key(*id) => Route::ContainerStatus,
            ("GET", ["v1.0", _]) => Route::Media,
            ("DELETE", ["v1.0", _]) => Route::Delete,
            ("GET", ["v1.0", _, "insights"]) => Route::Insights,
            ("POST", ["v1.0", _, "threads"]) => Route::CreateContainer,
            ("GET", ["v1.0", _, "threads"]) => Route::ListThreads,
            ("POST", ["v1.0", _, "threads_publish"]) => Route::Publish,
            ("GET", ["v1.0", _, "threads_publishing_limit"]) => Route::PublishingLimit,
            ("GET", ["v1.0", _, "replies"]) => Route::ListReplies,
            ("GET", ["v1.0", _, "conversation"]) => Route::Conversation,
            ("POST", ["oauth", "access_token"]) => Route::OAuthToken,
            ("GET", ["access_token"]) => Route::ExchangeToken,
            ("GET", ["refresh_access_token"]) => Route::RefreshToken,
            _ => Route::Any,
        }
    }

    /// The permissions of the request's token, or the refusal of a bad token.
    fn check_token(&self, params: &HashMap<String, String>) -> Result<Vec<String>, GErr> {
        let issued = params.get("access_token").filter(|t| **t != self.cfg.token).and_then(|t| self.tokens.get(t));
        if let Some(i) = issued {
            return if self.now() < i.expires {
                Ok(i.scopes.clone())
            } else {
                Err(GErr::new(400, 190, "OAuthException", "Error validating access token: Session has expired.")
                    .subcode(463))
            };
        }
        match params.get("access_token") {
            Some(t) if *t == self.cfg.token && !self.token_expired => Ok(self.cfg.scopes.clone()),
            Some(t) if *t == self.cfg.token => {
                Err(GErr::new(400, 190, "OAuthException", "Error validating access token: Session has expired.")
                    .subcode(463))
            }
            Some(_) => {
                Err(GErr::new(400, 190, "OAuthException", "Invalid OAuth access token - Cannot parse access token"))
            }
            None => Err(GErr::new(
                400,
                190,
                "OAuthException",
                "An active access token must be used to query information about the current user.",
            )),
        }
    }

    fn require_scope(&self, scope: &str) -> Result<(), GErr> {
        if self.granted.iter().any(|s| s == scope) {
            Ok(())
        } else {
            Err(GErr::new(
                400,
                10,
                "OAuthException",
                format!("(#10) Application does not have permission for this action ({scope})"),
            ))
        }
    }

    fn dispatch(
        &mut self,
        route: Route,
        method: &Method,
        segs: &[String],
        p: &HashMap<String, String>,
    ) -> Result<Value, GErr> {
        let target = segs.get(1).map(String::as_str).unwrap_or("");
        let own_user = || {
            if self.is_user(target) { Ok(()) } else { Err(GErr::param(USER_ROUTE_ERROR).subcode(33)) }
        };
        match route {
            Route::Me => {
                let fields = fields(p, &["id"]);
                let mut out = Map::new();
                for f in fields {
                    match f.as_str() {
                        "id" => out.insert(f, json!(self.cfg.user_id)),
                        "username" => out.insert(f, json!(self.cfg.username)),
                        "name" => out.insert(f, json!("Crier Tester")),
                        "is_verified" => out.insert(f, json!(false)),
                        "threads_biography" | "threads_profile_picture_url" => continue,
                        _ => return Err(nonexisting_field(&f)),
                    };
                }
                Ok(Value::Object(out))
            }
            Route::DebugToken => Ok(self.debug_token(p)),
            Route::CreateContainer => {
                own_user()?;
                self.require_scope("threads_content_publish")?;
                self.create_container(p)
            }
            Route::Publish => {
                own_user()?;
                self.require_scope("threads_content_publish")?;
                let id = p
                    .get("creation_id")
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| GErr::param("The parameter creation_id is required."))?
                    .clone();
                self.publish(&id).map(|m| json!({ "id": m }))
            }
            Route::ContainerStatus => self.container_read(target, p),
            Route::Media => {
                let m = self.present_media(target, method)?;
                self.media_json(m, &fields(p, &["id"]))
            }
            Route::PublishingLimit => {
                own_user()?;
                Ok(self.publishing_limit(p))
            }
            Route::ListThreads => {
                own_user()?;
                let mut items: Vec<&MediaObj> = self
                    .media
                    .values()
                    .filter(|m| !m.deleted && !m.carousel_child && m.reply_to.is_none() && m.foreign.is_none())
                    .collect();
                items.sort_by_key(|m| std::cmp::Reverse(m.seq));
                self.page(items, p, segs)
            }
            Route::ListReplies => {
                // Meta: "threads_read_replies" for GET calls on reply endpoints, the user's too.
                self.require_scope("threads_read_replies")?;
                let mut items: Vec<&MediaObj> = if self.is_user(target) {
                    self.media.values().filter(|m| !m.deleted && m.reply_to.is_some()).collect()
                } else {
                    self.live_media(target, method)?;
                    self.media.values().filter(|m| !m.deleted && m.reply_to.as_deref() == Some(target)).collect()
                };
                items.sort_by_key(|m| std::cmp::Reverse(m.seq));
                reply_fields(p)?;
                self.page(items, p, segs)
            }
            Route::Conversation => {
                self.live_media(target, method)?;
                self.require_scope("threads_read_replies")?;
                reply_fields(p)?;
                let mut found: Vec<&MediaObj> = Vec::new();
                let mut queue = VecDeque::from([target.to_owned()]);
                while let Some(parent) = queue.pop_front() {
                    for m in self.media.values() {
                        if !m.deleted && m.reply_to.as_deref() == Some(parent.as_str()) {
                            queue.push_back(m.id.clone());
                            found.push(m);
                        }
                    }
                }
                let reverse = p.get("reverse").is_none_or(|r| r != "false");
                found.sort_by_key(|m| m.seq);
                if reverse {
                    found.reverse();
                }
                self.page(found, p, segs)
            }
            Route::Delete => {
                self.require_scope("threads_delete")?;
                let m = self.present_media(target, method)?;
                // Only the user's own posts: another's "cannot be loaded due to missing permissions".
                if m.foreign.is_some() || m.carousel_child {
                    return Err(GErr::unsupported(method, target));
                }
                let now = self.now();
                self.deletes.retain(|t| now.saturating_sub(*t) < DAY);
                if self.deletes.len() as u64 >= self.cfg.delete_limit {
                    let limit = self.cfg.delete_limit;
                    return Err(GErr::limit_reached(
                        format!("The user has reached the limit of {limit} deletes per 24 hours"),
                        "Delete limit reached",
                    ));
                }
                self.deletes.push(now);
                if let Some(m) = self.media.get_mut(target) {
                    m.deleted = true;
                }
                Ok(json!({ "success": true, "deleted_id": target }))
            }
            Route::Insights => {
                self.present_media(target, method)?;
                self.require_scope("threads_manage_insights")?;
                const KNOWN: [&str; 7] = ["views", "likes", "replies", "reposts", "quotes", "shares", "clicks"];
                let asked = p
                    .get("metric")
                    .filter(|m| !m.is_empty())
                    .ok_or_else(|| GErr::param("(#100) The parameter metric is required"))?;
                let mut data = Vec::new();
                for name in asked.split(',') {
                    if !KNOWN.contains(&name) {
                        return Err(GErr::param(format!(
                            "(#100) metric[0] must be one of the following values: {}",
                            KNOWN.join(", ")
                        )));
                    }
                    let value = self.insights.get(target).and_then(|m| m.get(name)).copied().unwrap_or(0);
                    data.push(json!({
                        "name": name,
                        "period": "lifetime",
                        "values": [{ "value": value }],
                        "title": name,
                        "id": format!("{target}/insights/{name}/lifetime"),
                    }));
                }
                Ok(json!({ "data": data }))
            }
            Route::Any | Route::OAuthToken | Route::ExchangeToken | Route::RefreshToken => {
                Err(GErr::unsupported(method, target))
            }
        }
    }

    fn random_alnum(&mut self, n: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        self.rng.string(ALPHABET, n)
    }

    fn mint(&mut self, kind: TokenKind, scopes: Vec<String>) -> (String, Duration) {
        let ttl = match kind {
            TokenKind::Short => HOUR,
            TokenKind::Long => Duration::from_secs(LONG_LIVED_SECS),
        };
        let token = format!("TH{}", self.random_alnum(120));
        let issued = self.now();
        self.tokens.insert(token.clone(), Issued { kind, scopes, issued, expires: issued + ttl });
        (token, ttl)
    }

    /// `GET /debug_token?input_token=…`: what Meta's token debugger says of a token (the
    /// caller's own token is allowed to inspect itself, as an app developer's is).
    fn debug_token(&self, p: &HashMap<String, String>) -> Value {
        let input = p.get("input_token").map(String::as_str).unwrap_or("");
        let q = HashMap::from([("access_token".to_owned(), input.to_owned())]);
        match (self.check_token(&q), self.tokens.get(input)) {
            (Ok(scopes), Some(t)) => json!({"data": {
                "type": "USER",
                "application": "crier fake",
                "is_valid": true,
                "issued_at": self.clock.unix(t.issued),
                "expires_at": self.clock.unix(t.expires),
                "scopes": scopes,
                "user_id": self.cfg.user_id,
            }}),
            (Ok(scopes), None) => {
                json!({"data": {"type": "USER", "is_valid": true, "scopes": scopes, "user_id": self.cfg.user_id}})
            }
            (Err(e), _) => json!({"data": {
                "is_valid": false,
                "scopes": [],
                "error": {"code": e.code, "message": e.message},
            }}),
        }
    }

    fn expired_token() -> GErr {
        GErr::new(400, 190, "OAuthException", "Error validating access token: Session has expired.").subcode(463)
    }

    fn invalid_token() -> GErr {
        GErr::new(400, 190, "OAuthException", "Invalid OAuth access token - Cannot parse access token")
    }

    /// The token endpoints (contract items 1–3).
    fn oauth(&mut self, route: Route, p: &HashMap<String, String>) -> Result<Value, GErr> {
        let get = |k: &str| p.get(k).map(String::as_str).unwrap_or("");
        let now = self.now();
        match route {
            Route::OAuthToken => {
                for k in ["client_id", "client_secret", "code", "grant_type", "redirect_uri"] {
                    if get(k).is_empty() {
                        return Err(GErr::flat(format!("Missing parameter: {k}")));
                    }
                }
                if get("client_id") != self.cfg.app_id {
                    return Err(GErr {
                        code: 101,
                        ..GErr::flat("Error validating application. Invalid application ID.")
                    });
                }
                if get("client_secret") != self.cfg.app_secret {
                    return Err(GErr::flat("Error validating client secret."));
                }
                if get("grant_type") != "authorization_code" {
                    return Err(GErr::flat(format!("Unsupported grant_type: {}", get("grant_type"))));
                }
                // A code pasted with the `#_` Threads appends is not a code.
                let code = get("code");
                let Some(c) = self.codes.get(code).filter(|c| !c.used && now < c.issued + HOUR) else {
                    return Err(GErr::flat(CODE_NOT_FOUND));
                };
                if c.redirect_uri != get("redirect_uri") {
                    return Err(GErr::flat(
                        "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request",
                    ));
                }
                let scopes = c.scopes.clone();
                if let Some(c) = self.codes.get_mut(code) {
                    c.used = true;
                }
                let (token, _) = self.mint(TokenKind::Short, scopes);
                let user_id = if self.cfg.user_id_as_string {
                    json!(self.cfg.user_id)
                } else {
                    // Written as a bare number, digit for digit (above 2^53).
                    serde_json::from_str::<Value>(&self.cfg.user_id).unwrap_or_else(|_| json!(self.cfg.user_id))
                };
                Ok(json!({ "access_token": token, "user_id": user_id }))
            }
            Route::ExchangeToken => {
                if get("grant_type") != "th_exchange_token" {
                    return Err(GErr::flat(format!("Unsupported grant_type: {}", get("grant_type"))));
                }
                if get("client_secret") != self.cfg.app_secret {
                    return Err(GErr::flat("Error validating client secret."));
                }
                match self.tokens.get(get("access_token")) {
                    None => Err(Self::invalid_token()),
                    Some(t) if t.kind != TokenKind::Short => {
                        Err(GErr::flat("Only a short-lived access token can be exchanged for a long-lived one"))
                    }
                    Some(t) if now >= t.expires => Err(Self::expired_token()),
                    Some(t) => {
                        let scopes = t.scopes.clone();
                        let (token, ttl) = self.mint(TokenKind::Long, scopes);
                        Ok(json!({ "access_token": token, "token_type": "bearer", "expires_in": ttl.as_secs() }))
                    }
                }
            }
            Route::RefreshToken => {
                if get("grant_type") != "th_refresh_token" {
                    return Err(GErr::flat(format!("Unsupported grant_type: {}", get("grant_type"))));
                }
                match self.tokens.get(get("access_token")) {
                    None => Err(Self::invalid_token()),
                    Some(t) if t.kind != TokenKind::Long => {
                        Err(GErr::flat("A short-lived access token cannot be refreshed"))
                    }
                    Some(t) if now >= t.expires => Err(Self::expired_token()),
                    Some(t) if now < t.issued + DAY => {
                        Err(GErr::flat("The access token must be at least 24 hours old to be refreshed"))
                    }
                    Some(t) => {
                        let scopes = t.scopes.clone();
                        let (token, ttl) = self.mint(TokenKind::Long, scopes);
                        Ok(json!({ "access_token": token, "token_type": "bearer", "expires_in": ttl.as_secs() }))
                    }
                }
            }
            _ => Err(GErr::param("Unsupported request")),
        }
    }

    /// A post that is there, for a read or a delete of it: a deleted one answers as the
    /// fake is configured ([`FakeConfig::gone_as_media_not_found`]).
    fn present_media(&self, id: &str, method: &Method) -> Result<&MediaObj, GErr> {
        match self.media.get(id) {
            Some(m) if m.deleted && self.cfg.gone_as_media_not_found => Err(GErr::not_ready(id)),
            _ => self.live_media(id, method),
        }
    }

    fn live_media(&self, id: &str, method: &Method) -> Result<&MediaObj, GErr> {
        self.media.get(id).filter(|m| !m.deleted).ok_or_else(|| GErr::unsupported(method, id))
    }

    fn next_id(counter: &mut u64) -> String {
        let id = *counter;
        *counter += 1;
        id.to_string()
    }

    fn shortcode(&mut self) -> String {
        format!("D{}", self.random_alnum(10))
    }

    fn permalink(&self, m: &MediaObj) -> String {
        format!("{}/@{}/post/{}", self.cfg.permalink_host.trim_end_matches('/'), self.cfg.username, m.shortcode)
    }

    fn container_status(&self, c: &Container) -> (&'static str, Option<String>) {
        let now = self.now();
        if c.published_media.is_some() {
            ("PUBLISHED", None)
        } else if now >= c.created + DAY {
            ("EXPIRED", None)
        } else if now < c.ready_at {
            ("IN_PROGRESS", None)
        } else if let Some(e) = &c.error {
            ("ERROR", Some(e.clone()))
        } else {
            ("FINISHED", None)
        }
    }

    fn create_container(&mut self, p: &HashMap<String, String>) -> Result<Value, GErr> {
        let get = |k: &str| p.get(k).map(String::as_str).filter(|v| !v.is_empty());
        let media_type = get("media_type").unwrap_or("");
        if !matches!(media_type, "TEXT" | "IMAGE" | "VIDEO" | "CAROUSEL") {
            return Err(GErr::param("Param media_type must be one of {TEXT, IMAGE, VIDEO, CAROUSEL}"));
        }
        let is_text = media_type == "TEXT";
        let text = get("text");
        if is_text && text.is_none() {
            return Err(GErr::param("Param text is required for TEXT posts"));
        }
        if text.is_some_and(|t| t.len() > 500) {
            return Err(GErr::param("Param text must be at most 500 characters long"));
        }
        let mut links: HashSet<String> = text.map(find_links).unwrap_or_default();
        if let Some(l) = get("link_attachment") {
            links.insert(l.trim_end_matches('/').to_owned());
        }
        if let Some(raw) = get("text_attachment") {
            if let Some(l) = validate_text_attachment(raw, get("poll_attachment"), get("link_attachment"))? {
                links.insert(l.trim_end_matches('/').to_owned());
            }
        }
        if let Some(raw) = get("text_entities") {
            validate_text_entities(raw, text.unwrap_or(""))?;
        }
        for k in ["is_spoiler_media", "is_ghost_post"] {
            if get(k).is_some_and(|v| !matches!(v, "true" | "false")) {
                return Err(GErr::param(format!("Param {k} must be a boolean")));
            }
        }
        if get("is_spoiler_media") == Some("true") && !matches!(media_type, "IMAGE" | "VIDEO" | "CAROUSEL") {
            return Err(GErr::param("Param is_spoiler_media is only supported for IMAGE, VIDEO and CAROUSEL posts"));
        }
        if get("is_ghost_post") == Some("true") && get("reply_to_id").is_some() {
            return Err(GErr::param("A ghost post cannot be a reply"));
        }
        // A ghost post carries text and text spoilers only.
        for k in
            ["topic_tag", "poll_attachment", "link_attachment", "quote_post_id", "text_attachment", "reply_control"]
        {
            if get("is_ghost_post") == Some("true") && get(k).is_some() {
                return Err(GErr::param(format!("Param {k} is not supported for ghost posts")));
            }
        }
        if links.len() > 5 {
            let mut e = GErr::param("THREADS_API__LINK_LIMIT_EXCEEDED: a post can contain at most 5 links");
            e.user_title = Some("Too many links".into());
            e.user_msg = Some("Posts can include up to 5 links.".into());
            return Err(e);
        }
        for k in [
            "link_attachment",
            "poll_attachment",
            "gif_attachment",
            "text_attachment",
            "is_ghost_post",
            "auto_publish_text",
        ] {
            if !is_text && get(k).is_some() {
                return Err(GErr::param(format!("Param {k} is only supported for TEXT posts")));
            }
        }
        let is_carousel_item = get("is_carousel_item") == Some("true");
        if is_carousel_item && !matches!(media_type, "IMAGE" | "VIDEO") {
            return Err(GErr::param("Param is_carousel_item is only supported for IMAGE and VIDEO"));
        }
        for (k, kind) in [("image_url", "IMAGE"), ("video_url", "VIDEO")] {
            match get(k) {
                None if media_type == kind => {
                    return Err(GErr::param(format!("Param {k} is required for {kind} posts")));
                }
                Some(u) if !(u.starts_with("http://") || u.starts_with("https://")) => {
                    return Err(GErr::param(format!("Param {k} must be a valid URL")));
                }
                _ => {}
            }
        }
        if let Some(tag) = get("topic_tag") {
            let n = tag.chars().count();
            if n > 50 || tag.contains(['.', '&']) {
                return Err(GErr::param("Param topic_tag must be 1-50 characters and cannot contain '.' or '&'"));
            }
        }
        if let Some(alt) = get("alt_text") {
            if is_text {
                return Err(GErr::param("Param alt_text is not supported for TEXT posts"));
            }
            if alt.chars().count() > 1000 {
                return Err(GErr::param("Param alt_text must be at most 1000 characters long"));
            }
        }
        if let Some(poll) = get("poll_attachment") {
            if get("link_attachment").is_some() {
                return Err(GErr::param("Param poll_attachment cannot be used with link_attachment"));
            }
            validate_poll(poll)?;
        }
        if let Some(rc) = get("reply_control")
            && !matches!(
                rc,
                "everyone" | "accounts_you_follow" | "mentioned_only" | "parent_post_author_only" | "followers_only"
            )
        {
            return Err(GErr::param(format!("Param reply_control has an invalid value: {rc}")));
        }
        let reply_to = get("reply_to_id").map(str::to_owned);
        for id in [reply_to.as_deref(), get("quote_post_id")].into_iter().flatten() {
            if !self.media.get(id).is_some_and(|m| !m.deleted && !m.carousel_child) {
                return Err(GErr::unsupported(&Method::POST, id));
            }
        }
        let now = self.now();
        let mut children = Vec::new();
        let mut ready_at = now + if is_text { self.cfg.text_delay } else { self.cfg.media_delay };
        let mut error = self.next_container_error.take();
        if media_type == "CAROUSEL" {
            children = get("children")
                .unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>();
            if !(2..=20).contains(&children.len()) {
                return Err(GErr::param("Param children must contain between 2 and 20 container IDs"));
            }
            for id in &children {
                let Some(c) = self.containers.get(id) else {
                    return Err(GErr::param(format!("Param children: container {id} does not exist")));
                };
                if !c.is_carousel_item {
                    return Err(GErr::param(format!(
                        "Param children: container {id} was not created with is_carousel_item=true"
                    )));
                }
                match self.container_status(c) {
                    ("EXPIRED", _) | ("PUBLISHED", _) => {
                        return Err(GErr::param(format!("Param children: container {id} is expired or already used")));
                    }
                    (_, Some(e)) => error = error.or(Some(e)),
                    _ => {}
                }
                ready_at = ready_at.max(c.ready_at);
            }
        } else if get("children").is_some() {
            return Err(GErr::param("Param children is only supported for CAROUSEL"));
        }

        let id = Self::next_id(&mut self.next_container);
        self.containers.insert(
            id.clone(),
            Container {
                id: id.clone(),
                media_type: media_type.to_owned(),
                params: p
                    .iter()
                    .filter(|(k, _)| k.as_str() != "access_token")
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                children,
                is_carousel_item,
                reply_to,
                created: now,
                ready_at,
                error,
                published_media: None,
            },
        );
        if is_text && get("auto_publish_text") == Some("true") {
            if let Some(c) = self.containers.get_mut(&id) {
                c.ready_at = now;
            }
            return self.publish(&id).map(|m| json!({ "id": m }));
        }
        Ok(json!({ "id": id }))
    }

    fn publish(&mut self, creation_id: &str) -> Result<String, GErr> {
        let Some(c) = self.containers.get(creation_id).cloned() else {
            return Err(GErr::not_ready(creation_id));
        };
        match self.container_status(&c).0 {
            "IN_PROGRESS" => return Err(GErr::not_ready(creation_id)),
            "ERROR" => {
                return Err(GErr::param(format!(
                    "Media container {creation_id} failed processing (ERROR) and cannot be published"
                )));
            }
            "EXPIRED" => {
                return Err(GErr::param(format!("Media container {creation_id} has expired; create a new one")));
            }
            "PUBLISHED" => {
                return Err(GErr::param(format!("Media container {creation_id} has already been published")));
            }
            _ => {}
        }
        if c.is_carousel_item {
            return Err(GErr::param("A carousel item cannot be published on its own; publish the CAROUSEL container"));
        }
        let is_reply = c.reply_to.is_some();
        let now = self.now();
        self.publishes.retain(|(t, _)| now.saturating_sub(*t) < DAY);
        let used = self.publishes.iter().filter(|(_, r)| *r == is_reply).count() as u64;
        let limit = if is_reply { self.cfg.reply_limit } else { self.cfg.publish_limit };
        if used >= limit {
            let what = if is_reply { "replies" } else { "posts" };
            return Err(GErr::limit_reached(
                format!("The user has reached the publishing limit of {limit} {what} per 24 hours"),
                "Publishing limit reached",
            ));
        }
        self.publishes.push((now, is_reply));

        let mut child_media = Vec::new();
        for child in &c.children {
            let mid = self.insert_media(child, true, None);
            child_media.push(mid);
        }
        let mid = self.insert_media(creation_id, false, c.reply_to.clone());
        if let Some(m) = self.media.get_mut(&mid) {
            m.children = child_media;
            m.child_containers = c.children.clone();
        }
        Ok(mid)
    }

    fn insert_media(&mut self, container_id: &str, carousel_child: bool, reply_to: Option<String>) -> String {
        let id = Self::next_id(&mut self.next_media);
        let shortcode = self.shortcode();
        let seq = self.next_seq;
        self.next_seq += 1;
        let created = self.now();
        let root = reply_to
            .as_ref()
            .map(|parent| self.media.get(parent).and_then(|p| p.root.clone()).unwrap_or_else(|| parent.clone()));
        let c = self.containers.get_mut(container_id).expect("container exists");
        c.published_media = Some(id.clone());
        let m = MediaObj {
            seq,
            id: id.clone(),
            container_id: container_id.to_owned(),
            media_type: c.media_type.clone(),
            params: c.params.clone(),
            children: Vec::new(),
            child_containers: Vec::new(),
            reply_to,
            root,
            shortcode,
            created,
            carousel_child,
            deleted: false,
            foreign: None,
        };
        self.media.insert(id.clone(), m);
        id
    }

    fn container_read(&self, id: &str, p: &HashMap<String, String>) -> Result<Value, GErr> {
        let c = &self.containers[id];
        let (status, error) = self.container_status(c);
        let mut out = Map::new();
        for f in fields(p, &["id", "status"]) {
            match f.as_str() {
                "id" => {
                    out.insert(f, json!(c.id));
                }
                "status" => {
                    out.insert(f, json!(status));
                }
                "error_message" => {
                    if let Some(e) = &error {
                        out.insert(f, json!(e));
                    }
                }
                _ => return Err(nonexisting_field(&f)),
            }
        }
        Ok(Value::Object(out))
    }

    fn media_json(&self, m: &MediaObj, fields: &[String]) -> Result<Value, GErr> {
        let mut out = Map::new();
        let param = |k: &str| m.params.get(k).cloned();
        for f in fields {
            let v = match f.as_str() {
                "id" => Some(json!(m.id)),
                "media_product_type" => Some(json!("THREADS")),
                "media_type" => Some(json!(match m.media_type.as_str() {
                    "TEXT" => "TEXT_POST",
                    "CAROUSEL" => "CAROUSEL_ALBUM",
                    other => other,
                })),
                "permalink" => (!self.cfg.omit_permalink).then(|| json!(self.permalink(m))),
                // Threads gives `owner` only for the user's own top-level posts.
                "owner" => (m.reply_to.is_none() && m.foreign.is_none()).then(|| json!({ "id": self.cfg.user_id })),
                "username" => Some(json!(m.foreign.as_ref().map_or(&self.cfg.username, |(_, name)| name))),
                "text" => param("text").map(Value::from),
                "timestamp" => Some(json!(format_ts(self.clock.unix(m.created)))),
                "shortcode" => Some(json!(m.shortcode)),
                "media_url" => param("image_url").or_else(|| param("video_url")).map(Value::from),
                "is_quote_post" => Some(json!(m.params.contains_key("quote_post_id"))),
                "is_reply" => Some(json!(m.reply_to.is_some())),
                "is_reply_owned_by_me" => m.reply_to.is_some().then_some(Value::Bool(true)),
                "has_replies" => {
                    Some(json!(self.media.values().any(|r| !r.deleted && r.reply_to.as_deref() == Some(m.id.as_str()))))
                }
                "replied_to" => m.reply_to.as_ref().map(|r| json!({ "id": r })),
                "root_post" => m.root.as_ref().map(|r| json!({ "id": r })),
                "topic_tag" => param("topic_tag").map(Value::from),
                "link_attachment_url" => param("link_attachment").map(Value::from),
                "alt_text" => param("alt_text").map(Value::from),
                "reply_audience" => param("reply_control").map(Value::from),
                "children" => (!m.children.is_empty())
                    .then(|| json!({ "data": m.children.iter().map(|c| json!({ "id": c })).collect::<Vec<_>>() })),
                "is_spoiler_media" => Some(json!(param("is_spoiler_media").as_deref() == Some("true"))),
                "text_entities" | "text_attachment" => {
                    param(f.as_str()).and_then(|raw| serde_json::from_str(&raw).ok())
                }
                "ghost_post_status" => (param("is_ghost_post").as_deref() == Some("true")).then(|| json!("ACTIVE")),
                "thumbnail_url" | "quoted_post" | "reposted_post" | "hide_status" | "gif_url" | "poll_attachment"
                | "location_id" => None,
                other => return Err(nonexisting_field(other)),
            };
            if let Some(v) = v {
                out.insert(f.clone(), v);
            }
        }
        Ok(Value::Object(out))
    }

    fn publishing_limit(&self, p: &HashMap<String, String>) -> Value {
        let now = self.now();
        let live =
            |reply: bool| self.publishes.iter().filter(|(t, r)| *r == reply && now.saturating_sub(*t) < DAY).count();
        let deletes = self.deletes.iter().filter(|t| now.saturating_sub(**t) < DAY).count();
        let config = |total: u64| json!({ "quota_total": total, "quota_duration": 86400 });
        let mut row = Map::new();
        for f in fields(p, &["quota_usage"]) {
            let v = match f.as_str() {
                "quota_usage" => json!(live(false)),
                "config" => config(self.cfg.publish_limit),
                "reply_quota_usage" => json!(live(true)),
                "reply_config" => config(self.cfg.reply_limit),
                "delete_quota_usage" => json!(deletes),
                "delete_config" => config(self.cfg.delete_limit),
                "location_search_quota_usage" => json!(0),
                "location_search_config" => config(500),
                _ => continue,
            };
            row.insert(f, v);
        }
        json!({ "data": [row] })
    }

    fn page(&self, items: Vec<&MediaObj>, p: &HashMap<String, String>, segs: &[String]) -> Result<Value, GErr> {
        let limit: usize = match p.get("limit") {
            None => 25,
            Some(l) => match l.parse::<usize>() {
                Ok(n @ 1..=100) => n,
                _ => {
                    return Err(GErr::param("Param limit must be a number between 1 and 100"));
                }
            },
        };
        let after = p.get("after").filter(|s| !s.is_empty());
        let before = p.get("before").filter(|s| !s.is_empty());
        if after.is_some() && before.is_some() {
            return Err(GErr::param("Cannot specify both before and after cursors"));
        }
        let decode = |c: &String| decode_cursor(c).ok_or_else(|| GErr::param("Invalid cursor"));
        // Items are in display order; cursors point at an item's position by its seq.
        let pos_of = |seq: u64| items.iter().position(|m| m.seq == seq);
        let (start, end) = if let Some(a) = after {
            let seq = decode(a)?;
            let start = pos_of(seq).map_or(items.len(), |i| i + 1);
            (start, (start + limit).min(items.len()))
        } else if let Some(b) = before {
            let seq = decode(b)?;
            let end = pos_of(seq).unwrap_or(0);
            (end.saturating_sub(limit), end)
        } else {
            (0, limit.min(items.len()))
        };
        let fields = fields(p, &["id"]);
        let data = items[start..end].iter().map(|m| self.media_json(m, &fields)).collect::<Result<Vec<_>, _>>()?;
        let mut out = json!({ "data": data });
        if start < end {
            let mut paging = json!({
                "cursors": {
                    "before": encode_cursor(items[start].seq),
                    "after": encode_cursor(items[end - 1].seq),
                }
            });
            let path = segs.join("/");
            if end < items.len() {
                paging["next"] = json!(format!(
                    "https://graph.threads.net/{path}?limit={limit}&after={}",
                    encode_cursor(items[end - 1].seq)
                ));
            }
            if start > 0 {
                paging["previous"] = json!(format!(
                    "https://graph.threads.net/{path}?limit={limit}&before={}",
                    encode_cursor(items[start].seq)
                ));
            }
            out["paging"] = paging;
        }
        Ok(out)
    }
}

fn fields(p: &HashMap<String, String>, default: &[&str]) -> Vec<String> {
    match p.get("fields").filter(|f| !f.trim().is_empty()) {
        Some(f) => f.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect(),
        None => default.iter().map(|s| (*s).to_owned()).collect(),
    }
}

/// The reply endpoints answer only the fields Meta lists for them ("Retrieve and Manage
/// Replies"): no `alt_text`, `topic_tag`, `link_attachment_url`, ….
fn reply_fields(p: &HashMap<String, String>) -> Result<(), GErr> {
    const DOCUMENTED: [&str; 20] = [
        "id",
        "text",
        "username",
        "permalink",
        "timestamp",
        "media_product_type",
        "media_type",
        "media_url",
        "shortcode",
        "thumbnail_url",
        "children",
        "is_quote_post",
        "has_replies",
        "root_post",
        "replied_to",
        "is_reply",
        "is_reply_owned_by_me",
        "hide_status",
        "reply_audience",
        "quoted_post",
    ];
    match fields(p, &["id"]).into_iter().find(|f| !DOCUMENTED.contains(&f.as_str())) {
        Some(f) => Err(nonexisting_field(&f)),
        None => Ok(()),
    }
}

fn nonexisting_field(f: &str) -> GErr {
    GErr::param(format!("Tried accessing nonexisting field ({f})"))
}

fn encode_cursor(seq: u64) -> String {
    format!("QVFI{:016x}", seq ^ 0x5A5A_1234_C0DE_0000)
}

fn decode_cursor(c: &str) -> Option<u64> {
    let hex = c.strip_prefix("QVFI")?;
    u64::from_str_radix(hex, 16).ok().map(|v| v ^ 0x5A5A_1234_C0DE_0000)
}

/// Unique links in a text, with trailing punctuation and slash trimmed: http(s) URLs, and
/// `www.` hosts without a scheme ("If the text field contains only www.facebook.com … this
/// counts as 1 link", threads-api.md §3).
fn find_links(text: &str) -> HashSet<String> {
    text.split_whitespace()
        .filter_map(|w| {
            let start = match w.find("https://").or_else(|| w.find("http://")) {
                Some(i) => i,
                None => {
                    let bare = w.trim_start_matches(|c: char| "([{'\"".contains(c));
                    let host = bare.get(4..)?.split(['/', '?', '#']).next()?;
                    let www = bare.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("www."));
                    if !www || !host.trim_end_matches(|c: char| ".,;:!?)]}'\"".contains(c)).contains('.') {
                        return None;
                    }
                    w.len() - bare.len()
                }
            };
            let url = w[start..].trim_end_matches(|c: char| ".,;:!?)]}'\"".contains(c));
            Some(url.trim_end_matches('/').to_owned())
        })
        .collect()
}

/// `text_attachment`: a JSON object with `plaintext` (1–10,000 characters) and an
/// optional `link_attachment_url`; not with a poll or `link_attachment`. Returns its link.
fn validate_text_attachment(raw: &str, poll: Option<&str>, link: Option<&str>) -> Result<Option<String>, GErr> {
    if poll.is_some() {
        return Err(GErr::param("Param text_attachment cannot be used with poll_attachment"));
    }
    if link.is_some() {
        return Err(GErr::param("Param text_attachment cannot be used with link_attachment"));
    }
    let bad = || GErr::param("Param text_attachment must be an object with plaintext of at most 10000 characters");
    let v: Value = serde_json::from_str(raw).map_err(|_| bad())?;
    let obj = v.as_object().ok_or_else(bad)?;
    if obj.keys().any(|k| !matches!(k.as_str(), "plaintext" | "link_attachment_url" | "text_with_styling_info")) {
        return Err(bad());
    }
    let n = obj.get("plaintext").and_then(Value::as_str).ok_or_else(bad)?.chars().count();
    if !(1..=10_000).contains(&n) {
        return Err(bad());
    }
    match obj.get("link_attachment_url") {
        None => Ok(None),
        Some(Value::String(u)) if u.starts_with("https://") || u.starts_with("http://") => Ok(Some(u.clone())),
        Some(_) => Err(GErr::param("Param text_attachment.link_attachment_url must be a valid URL")),
    }
}

/// `text_entities`: at most 10 SPOILER entities inside the text, counted in UTF-16
/// code units (the fake's reading of the unconfirmed unit, the same as crier's).
fn validate_text_entities(raw: &str, text: &str) -> Result<(), GErr> {
    let bad = |why: &str| GErr::param(format!("Param text_entities is invalid: {why}"));
    let v: Value = serde_json::from_str(raw).map_err(|_| bad("not a JSON array"))?;
    let list = v.as_array().ok_or_else(|| bad("not a JSON array"))?;
    if list.len() > 10 {
        return Err(bad("at most 10 entities per post"));
    }
    let units: usize = text.chars().map(char::len_utf16).sum();
    for e in list {
        if !matches!(e.get("entity_type").and_then(Value::as_str), Some("SPOILER" | "spoiler")) {
            return Err(bad("entity_type must be SPOILER"));
        }
        let num = |k: &str| e.get(k).and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())));
        let (Some(offset), Some(length)) = (num("offset"), num("length")) else {
            return Err(bad("offset and length are required"));
        };
        if length == 0 || offset + length > units as u64 {
            return Err(bad("entity outside the text"));
        }
    }
    Ok(())
}

fn validate_poll(raw: &str) -> Result<(), GErr> {
    let bad = || GErr::param("Param poll_attachment must have 2-4 options (option_a..option_d) of 1-25 characters");
    let v: Value = serde_json::from_str(raw).map_err(|_| bad())?;
    let obj = v.as_object().ok_or_else(bad)?;
    let keys = ["option_a", "option_b", "option_c", "option_d"];
    if obj.keys().any(|k| !keys.contains(&k.as_str())) {
        return Err(bad());
    }
    let present: Vec<bool> = keys.iter().map(|k| obj.contains_key(*k)).collect();
    let count = present.iter().filter(|p| **p).count();
    // Options must be filled in order: a, b, then c, then d.
    if count < 2 || present[..count].iter().any(|p| !p) {
        return Err(bad());
    }
    for v in obj.values() {
        let n = v.as_str().ok_or_else(bad)?.chars().count();
        if !(1..=25).contains(&n) {
            return Err(bad());
        }
    }
    Ok(())
}

/// `YYYY-MM-DDTHH:MM:SS+0000`, the Graph API's timestamp format.
fn format_ts(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+0000", secs / 3600, secs % 3600 / 60, secs % 60)
}
