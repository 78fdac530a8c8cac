//! A stateful fake of the Mastodon client API for tests.
//!
//! Serves what a publisher uses, as Mastodon 4.x does (reference: platforms.md section 3,
//! mastodon/documentation `methods/statuses.md`, `methods/media.md`, `methods/accounts.md`,
//! `api/rate-limits.md`):
//!
//! - `GET /api/v2/instance` with `configuration.statuses` and `configuration.media_attachments`
//!   from [`FakeConfig`];
//! - `GET /api/v1/accounts/verify_credentials`;
//! - `POST /api/v2/media` (multipart `file` + `description`): images answer 200 with a `url`;
//!   videos (or every file with `async_media`) answer 202 with `url: null`, and
//!   `GET /api/v1/media/:id` answers 206 for `processing_polls` polls, then 200 with the URL;
//!   files over the size limits, unknown types and descriptions over `description_limit` → 422;
//! - `POST /api/v1/statuses` (JSON): text or media required, length counted as Mastodon does
//!   (graphemes of spoiler + text, each URL 23, `@user@domain` as `@user`), media ids must exist,
//!   be processed and be unattached, at most `max_media_attachments`, a video only alone (on
//!   edits too: "Cannot attach a video to a post that already contains images"), `in_reply_to_id` must exist
//!   (404), `visibility` in the enum; failures are 422 `{"error":"Validation failed: …"}`.
//!   `Idempotency-Key` is kept for `idempotency_ttl` per account: a repeat returns the existing
//!   status (unless `honour_idempotency` is false, as on GoToSocial);
//! - `GET`/`PUT /api/v1/statuses/:id` (edits: text, spoiler, sensitive, language, `media_ids`
//!   (media left out are removed), `media_attributes` for alt texts; `edited_at` set);
//! - `GET /api/v1/accounts/:id/statuses` newest first, `limit` (default 20, max 40), `max_id`;
//! - `DELETE /api/v1/statuses/:id` (scope `write:statuses`): the token's own status is removed
//!   and returned with its source `text`; another account's, or one that is not there, is
//!   404 `Record not found` (`Status.where(account: current_account).find`; GoToSocial
//!   answers 403 for another account's, see `foreign_delete_status`); at most `delete_limit`
//!   deletions per `delete_window` (Mastodon: 30 per 30 minutes) on top of the general limit;
//! - `GET /api/v1/statuses/:id/source` (own statuses): `{id, text, spoiler_text}`;
//! - statuses of other accounts ([`FakeMastodon::seed_other`]) are readable, never listed
//!   with the account's, edited or deleted; [`FakeMastodon::delete_in_app`] and
//!   [`FakeMastodon::edit_in_app`] change a status the way the app does;
//! - statuses are stored as HTML `content` the way Mastodon formats plain text (paragraphs,
//!   `<br />`, escaped `&<>"'`, links with invisible spans, mentions without their domain);
//! - sign-in (`methods/apps.md`, `methods/oauth.md`): `POST /api/v1/apps` (form or JSON;
//!   `client_name` and `redirect_uris` required, absolute URIs or the out-of-band
//!   `urn:ietf:wg:oauth:2.0:oob`, `scopes` among Mastodon's, default `read`) answers the
//!   client id and secret; [`FakeMastodon::approve`] plays the user on `/oauth/authorize`
//!   (the redirect URI must be one the app registered, the scopes among the app's);
//!   `POST /oauth/token` (`authorization_code`) trades a code once, for the same client and
//!   redirect URI, for a token that carries the approved scopes (Doorkeeper's
//!   `invalid_client` 401 and `invalid_grant` 400 bodies);
//! - a bad token → 401 `{"error":"The access token is invalid"}`; more than `rate_limit`
//!   requests within `rate_window` → 429 `{"error":"Too many requests"}` with
//!   `X-RateLimit-Limit/Remaining/Reset` (Reset an ISO 8601 time), as rack-attack answers.
//!   Every other response carries them too, as Mastodon's do, with a reset an hour away (the
//!   end of a window, not a time to retry a failure at).
//!
//! Tests steer it with [`FakeMastodon::fail_next`] (one-shot faults per route) and inspect it
//! with [`FakeMastodon::statuses`], [`FakeMastodon::media`], [`FakeMastodon::calls`] and
//! [`FakeMastodon::requests`] (method, path, query, JSON body, the idempotency key; never the
//! `Authorization` header).

// Each test binary uses a different subset of this module.
#![allow(dead_code)]

// Each fake holds its own copy of the shared pieces, so a test binary can include any set of fakes.
#[allow(clippy::duplicate_mod)]
#[path = "fake.rs"]
mod fake;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, Method, header};
use axum::response::Response;
use serde_json::{Value, json};
use unicode_segmentation::UnicodeSegmentation;

pub(crate) use fake::FakeRequest;
use fake::{Effect, FormField, Incoming};

fake::config! {
    token: String = "mastoFakeToken0123456789abcdefSECRET".into(),
    /// Scopes the token was granted (`read`/`write` cover their `:…` scopes).
    scopes: Vec<String> = ["write:statuses", "write:media", "read:accounts", "read:statuses"].map(String::from).to_vec(),
    username: String = "crier_tester".into(),
    account_id: String = "109000000000000001".into(),
    /// Scheme and host of status URLs.
    host: String = "https://mastodon.example".into(),
    max_characters: usize = 500,
    max_media_attachments: usize = 4,
    characters_reserved_per_url: usize = 23,
    image_size_limit: u64 = 16 * 1024 * 1024,
    video_size_limit: u64 = 103_809_024,
    description_limit: usize = 1500,
    /// 206 replies to `GET /api/v1/media/:id` before an asynchronous upload is done.
    processing_polls: u32 = 2,
    /// Process every upload asynchronously (202), not only videos.
    async_media: bool = false,
    /// How long an `Idempotency-Key` is remembered (Mastodon: one hour).
    idempotency_ttl: Duration = Duration::from_secs(3600),
    /// GoToSocial ignores the header.
    honour_idempotency: bool = true,
    /// Requests allowed per `rate_window`; one more gets a 429.
    rate_limit: usize = 300,
    rate_window: Duration = Duration::from_secs(300),
    /// Deletions allowed per `delete_window`; one more gets a 429.
    delete_limit: usize = 30,
    delete_window: Duration = Duration::from_secs(30 * 60),
    /// The answer to deleting another account's status (Mastodon 404, GoToSocial 403).
    foreign_delete_status: u16 = 404,
    /// Serve `GET /api/v1/statuses?id[]=` (Mastodon 4.3+; GoToSocial and older Mastodon
    /// answer 404).
    batch_statuses: bool = true,
}

/// Routes a fault can be attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Route {
    Instance,
    VerifyCredentials,
    Upload,
    MediaStatus,
    CreateStatus,
    GetStatus,
    EditStatus,
    AccountStatuses,
    DeleteStatus,
    StatusSource,
    /// `POST /api/v1/apps`.
    Apps,
    /// `POST /oauth/token`.
    OAuthToken,
    GetStatuses,
    /// Whatever request comes next.
    #[default]
    Any,
}

fake::faults! {
    /// HTTP 429 as rack-attack sends it, with `X-RateLimit-Reset` this far ahead.
    RateLimited { reset_in: Duration },
}

/// A media attachment as the fake stores it.
#[derive(Debug, Clone)]
pub(crate) struct FakeMedia {
    pub(crate) id: String,
    pub(crate) file_name: String,
    pub(crate) mime: String,
    pub(crate) size: usize,
    pub(crate) description: Option<String>,
    /// Polls left before processing is done (0 = done).
    polls_left: u32,
    pub(crate) attached_to: Option<String>,
}

/// A status as the fake stores it.
#[derive(Debug, Clone)]
pub(crate) struct FakeStatus {
    pub(crate) id: String,
    /// The text as sent.
    pub(crate) text: String,
    /// As the API returns it.
    pub(crate) content: String,
    pub(crate) spoiler_text: String,
    pub(crate) sensitive: bool,
    pub(crate) visibility: String,
    pub(crate) language: Option<String>,
    pub(crate) in_reply_to_id: Option<String>,
    pub(crate) media_ids: Vec<String>,
    pub(crate) created_at: String,
    pub(crate) edited_at: Option<String>,
    pub(crate) edits: u32,
    /// Whose it is: (account id, username).
    pub(crate) account: (String, String),
}

/// An app registered with `POST /api/v1/apps`.
#[derive(Debug, Clone)]
struct FakeApp {
    client_id: String,
    client_secret: String,
    redirect_uris: Vec<String>,
    scopes: Vec<String>,
}

/// An authorization code the user's approval produced.
#[derive(Debug, Clone)]
struct FakeCode {
    client_id: String,
    redirect_uri: String,
    scopes: Vec<String>,
    used: bool,
}

/// Scopes Mastodon knows (`config/initializers/doorkeeper.rb`; the ones crier could ask for).
const KNOWN_SCOPES: [&str; 12] = [
    "read",
    "write",
    "follow",
    "push",
    "profile",
    "read:accounts",
    "read:statuses",
    "read:notifications",
    "write:statuses",
    "write:media",
    "write:accounts",
    "write:favourites",
];
const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";

/// The fake's state.
#[derive(Default)]
pub(crate) struct Mastodon {
    cfg: FakeConfig,
    apps: Vec<FakeApp>,
    codes: HashMap<String, FakeCode>,
    /// Tokens issued by `POST /oauth/token`, with their scopes.
    issued: HashMap<String, Vec<String>>,
    /// Makes client ids, secrets, codes and tokens distinct.
    next_secret: u64,
    next_id: u64,
    statuses: Vec<FakeStatus>,
    media: Vec<FakeMedia>,
    keys: HashMap<String, (String, Instant)>,
    window: Vec<Instant>,
    deletions: Vec<Instant>,
    clock: u64,
    /// Counts per status id: (replies, reblogs, favourites).
    counts: HashMap<String, (u64, u64, u64)>,
}

/// The state a fake starts in.
impl From<FakeConfig> for Mastodon {
    fn from(cfg: FakeConfig) -> Self {
        Mastodon { cfg, next_id: 113_000_000_000_000_000, ..Mastodon::default() }
    }
}

/// A running fake server. Stops when dropped.
pub(crate) type FakeMastodon = fake::Fake<Mastodon>;

fake::config_getters!(FakeMastodon { token, username });

impl FakeMastodon {
    /// The user on `/oauth/authorize`: signs in and approves the app of the authorize URL
    /// crier printed. Returns where the browser is sent (`redirect_uri?code=…&state=…`),
    /// or, for the out-of-band redirect URI, the code the page shows. Refuses as Doorkeeper
    /// does: an unknown client, a redirect URI the app did not register, scopes beyond the
    /// app's.
    pub(crate) fn approve(&self, authorize_url: &str) -> Result<String, String> {
        let url = url::Url::parse(authorize_url).map_err(|e| e.to_string())?;
        if url.path() != "/oauth/authorize" {
            return Err(format!("not the authorize page: {}", url.path()));
        }
        let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
        let get = |k: &str| q.get(k).cloned().unwrap_or_default();
        let mut g = self.lock();
        let app = g.apps.iter().find(|a| a.client_id == get("client_id")).cloned().ok_or("invalid_client")?;
        if get("response_type") != "code" {
            return Err("unsupported_response_type".into());
        }
        let redirect_uri = get("redirect_uri");
        if !app.redirect_uris.contains(&redirect_uri) {
            return Err("invalid_redirect_uri".into());
        }
        let scopes: Vec<String> = get("scope").split([' ', '+']).filter(|s| !s.is_empty()).map(str::to_owned).collect();
        if scopes.iter().any(|s| !app.scopes.contains(s)) {
            return Err("invalid_scope".into());
        }
        g.next_secret += 1;
        let code = format!("code{:08x}{:016x}", g.next_secret, g.next_id.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let client_id = app.client_id.clone();
        g.codes.insert(code.clone(), FakeCode { client_id, redirect_uri: redirect_uri.clone(), scopes, used: false });
        if redirect_uri == OOB {
            return Ok(code);
        }
        let state = q.get("state").map(|s| format!("&state={s}")).unwrap_or_default();
        Ok(format!("{redirect_uri}?code={code}{state}"))
    }

    /// Every secret the fake handed out (client secrets, codes, tokens), for leak checks.
    pub(crate) fn secrets(&self) -> Vec<String> {
        let g = self.lock();
        let mut all = vec![g.cfg.token.clone()];
        all.extend(g.apps.iter().map(|a| a.client_secret.clone()));
        all.extend(g.codes.keys().cloned());
        all.extend(g.issued.keys().cloned());
        all
    }

    /// The scopes a token the fake issued carries.
    pub(crate) fn token_scopes(&self, token: &str) -> Option<Vec<String>> {
        self.lock().issued.get(token).cloned()
    }

    /// How many apps were registered.
    pub(crate) fn apps(&self) -> usize {
        self.lock().apps.len()
    }

    /// Adds a status directly (as if posted earlier), returning its id.
    pub(crate) fn seed(&self, text: &str, in_reply_to_id: Option<&str>) -> String {
        let mut g = self.lock();
        let input = NewStatus {
            text: text.to_owned(),
            in_reply_to_id: in_reply_to_id.map(str::to_owned),
            visibility: "public".into(),
            ..NewStatus::default()
        };
        g.insert_status(input)
    }

    /// Adds a public status of another account on the instance, returning its id.
    pub(crate) fn seed_other(&self, text: &str, account_id: &str, username: &str) -> String {
        let mut g = self.lock();
        let input = NewStatus { text: text.to_owned(), visibility: "public".into(), ..NewStatus::default() };
        let id = g.insert_status(input);
        if let Some(s) = g.statuses.iter_mut().find(|s| s.id == id) {
            s.account = (account_id.to_owned(), username.to_owned());
        }
        id
    }

    /// The status deleted in the app; whether it was there.
    pub(crate) fn delete_in_app(&self, id: &str) -> bool {
        let mut g = self.lock();
        let before = g.statuses.len();
        g.statuses.retain(|s| s.id != id);
        g.statuses.len() < before
    }

    /// The status edited in the app to `text`.
    pub(crate) fn edit_in_app(&self, id: &str, text: &str) -> bool {
        let mut g = self.lock();
        let host = g.cfg.host.clone();
        let at = g.now_iso();
        let Some(s) = g.statuses.iter_mut().find(|s| s.id == id) else { return false };
        s.content = to_html(text, &host);
        s.text = text.to_owned();
        s.edited_at = Some(at);
        s.edits += 1;
        true
    }

    /// The deletion window passes: the deletion limit starts afresh.
    pub(crate) fn pass_delete_window(&self) {
        self.lock().deletions.clear();
    }

    /// Forgets every idempotency key (as if more than an hour passed).
    pub(crate) fn expire_keys(&self) {
        self.lock().keys.clear();
    }

    /// Statuses, in creation order.
    pub(crate) fn statuses(&self) -> Vec<FakeStatus> {
        self.lock().statuses.clone()
    }

    pub(crate) fn media(&self) -> Vec<FakeMedia> {
        self.lock().media.clone()
    }

    /// How many requests of `method` hit a path ending in `suffix`.
    /// Sets a status's counts as the instance sees them: (replies, reblogs, favourites).
    pub(crate) fn set_counts(&self, id: &str, replies: u64, reblogs: u64, favourites: u64) {
        self.lock().counts.insert(id.to_owned(), (replies, reblogs, favourites));
    }

    pub(crate) fn count(&self, method: &str, suffix: &str) -> usize {
        self.lock().log.count(|r| r.method == method && r.path.ends_with(suffix))
    }
}

#[derive(Debug, Default)]
struct NewStatus {
    text: String,
    media_ids: Vec<String>,
    in_reply_to_id: Option<String>,
    sensitive: bool,
    spoiler_text: String,
    visibility: String,
    language: Option<String>,
}

struct ApiErr {
    status: u16,
    message: String,
}

impl ApiErr {
    fn new(status: u16, message: impl Into<String>) -> Self {
        Self { status, message: message.into() }
    }

    fn invalid(message: impl Into<String>) -> Self {
        Self::new(422, format!("Validation failed: {}", message.into()))
    }
}

impl fake::Platform for Mastodon {
    type Route = Route;
    type Fault = Fault;
    type Entry = FakeRequest;

    fn route(&self, req: &Incoming) -> Route {
        route_of(&req.method, &req.segments())
    }

    fn fault(&mut self, fault: Fault) -> Effect {
        match fault {
            Fault::RateLimited { reset_in } => Effect::Reply(rate_limited(reset_in, 300)),
            _ => Effect::Proceed,
        }
    }

    fn answer(&mut self, route: Route, req: &Incoming) -> Response {
        let auth = req.header(header::AUTHORIZATION.as_str()).unwrap_or("");
        let bearer = auth.strip_prefix("Bearer ").unwrap_or("");
        let scopes =
            if bearer == self.cfg.token { Some(self.cfg.scopes.clone()) } else { self.issued.get(bearer).cloned() };
        // The instance document and the sign-in endpoints are public: a token is not checked there.
        let result = if matches!(route, Route::Instance | Route::Apps | Route::OAuthToken) {
            let form: HashMap<String, String> = if req.content_type().starts_with("application/x-www-form-urlencoded") {
                url::form_urlencoded::parse(&req.body).into_owned().collect()
            } else {
                HashMap::new()
            };
            self.sign_in(route, json_body(req).as_ref(), &form)
                .unwrap_or_else(|| self.dispatch(route, &req.segments(), &req.query(), None, &[], None))
        } else if scopes.is_none() {
            Err(Reply::Api(ApiErr::new(401, "The access token is invalid")))
        } else if self.missing_scope(route, scopes.as_deref().unwrap_or_default()).is_some() {
            // Doorkeeper's answer to a token without the route's scope.
            Err(Reply::Api(ApiErr::new(403, "This action is outside the authorized scopes")))
        } else if let Some(reset) = self.over_rate_limit() {
            Err(Reply::RateLimited(reset))
        } else if let Some(reset) = (route == Route::DeleteStatus).then(|| self.over_delete_limit()).flatten() {
            Err(Reply::RateLimited(reset))
        } else if route == Route::GetStatuses && self.cfg.batch_statuses {
            self.get_statuses(&req.query_all("id[]"))
        } else {
            let idem = req.header("idempotency-key");
            self.dispatch(route, &req.segments(), &req.query(), json_body(req).as_ref(), &req.form(), idem)
        };
        match result {
            Ok((status, v)) => fake::json(status, &v),
            Err(Reply::Api(e)) => fake::json(e.status, &json!({ "error": e.message })),
            Err(Reply::OAuth(status, error, description)) => {
                fake::json(status, &json!({ "error": error, "error_description": description }))
            }
            Err(Reply::RateLimited(reset)) => rate_limited(reset, 300),
        }
    }
    /// Mastodon's `X-RateLimit-*` on every response; the reset is the end of the window.
    fn every_response(&self) -> Vec<(&'static str, String)> {
        let reset = chrono::Utc::now() + chrono::Duration::hours(1);
        vec![
            ("x-ratelimit-limit", "300".into()),
            ("x-ratelimit-remaining", "299".into()),
            ("x-ratelimit-reset", reset.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        ]
    }
}

/// The body, when it is JSON.
fn json_body(req: &Incoming) -> Option<Value> {
    if req.content_type().starts_with("application/json") { req.json() } else { None }
}

enum Reply {
    Api(ApiErr),
    /// Doorkeeper's `{"error","error_description"}`.
    OAuth(u16, &'static str, &'static str),
    RateLimited(Duration),
}

impl From<ApiErr> for Reply {
    fn from(e: ApiErr) -> Self {
        Self::Api(e)
    }
}

fn route_of(method: &Method, segs: &[&str]) -> Route {
    match (method.as_str(), segs) {
        ("GET", ["api", "v2", "instance"]) => Route::Instance,
        ("GET", ["api", "v1", "accounts", "verify_credentials"]) => Route::VerifyCredentials,
        ("POST", ["api", "v2", "media"]) => Route::Upload,
        ("GET", ["api", "v1", "media", _]) => Route::MediaStatus,
        ("POST", ["api", "v1", "statuses"]) => Route::CreateStatus,
        ("GET", ["api", "v1", "statuses", _]) => Route::GetStatus,
        ("GET", ["api", "v1", "statuses"]) => Route::GetStatuses,
        ("PUT", ["api", "v1", "statuses", _]) => Route::EditStatus,
        ("GET", ["api", "v1", "accounts", _, "statuses"]) => Route::AccountStatuses,
        ("DELETE", ["api", "v1", "statuses", _]) => Route::DeleteStatus,
        ("GET", ["api", "v1", "statuses", _, "source"]) => Route::StatusSource,
        ("POST", ["api", "v1", "apps"]) => Route::Apps,
        ("POST", ["oauth", "token"]) => Route::OAuthToken,
        _ => Route::Any,
    }
}

/// rack-attack's 429: JSON error, `X-RateLimit-*` headers, the reset as an ISO 8601 time.
fn rate_limited(reset_in: Duration, limit: usize) -> Response {
    // Rounded up to the millisecond the header carries, so a client waiting until the reset
    // never arrives before the window has moved on.
    let reset = chrono::Utc::now() + chrono::Duration::milliseconds(reset_in.as_millis() as i64 + 2);
    let mut resp = fake::json(429, &json!({ "error": "Too many requests" }));
    let h = resp.headers_mut();
    h.insert("x-ratelimit-limit", HeaderValue::from(limit));
    h.insert("x-ratelimit-remaining", HeaderValue::from(0u64));
    let iso = reset.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    h.insert("x-ratelimit-reset", HeaderValue::from_str(&iso).expect("ascii"));
    resp
}

impl Mastodon {
    /// The scope `route` needs that the token lacks, as Mastodon's controllers ask for them
    /// (`authorize_if_got_token! :read, :'read:statuses'` on status reads, so a token without
    /// it is refused even for public statuses).
    fn missing_scope(&self, route: Route, granted: &[String]) -> Option<&'static str> {
        let needed = match route {
            Route::Instance | Route::Any | Route::Apps | Route::OAuthToken => return None,
            Route::VerifyCredentials => "read:accounts",
            Route::Upload | Route::MediaStatus => "write:media",
            Route::CreateStatus | Route::EditStatus | Route::DeleteStatus => "write:statuses",
            Route::GetStatus | Route::AccountStatuses | Route::StatusSource | Route::GetStatuses => "read:statuses",
        };
        let family = needed.split(':').next().unwrap_or(needed);
        let granted = granted.iter().any(|s| s == needed || s == family);
        (!granted).then_some(needed)
    }

    /// `POST /api/v1/apps` and `POST /oauth/token`; `None` for other routes.
    fn sign_in(
        &mut self,
        route: Route,
        json: Option<&Value>,
        form: &HashMap<String, String>,
    ) -> Option<Result<(u16, Value), Reply>> {
        let get = |k: &str| {
            form.get(k)
                .cloned()
                .or_else(|| json.and_then(|v| v.get(k)).and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_default()
        };
        match route {
            Route::Apps => Some(self.register_app(&get("client_name"), &get("redirect_uris"), &get("scopes"))),
            Route::OAuthToken => {
                let args = ["grant_type", "code", "client_id", "client_secret", "redirect_uri"].map(get);
                Some(self.token(&args))
            }
            _ => None,
        }
    }

    fn register_app(&mut self, name: &str, redirect_uris: &str, scopes: &str) -> Result<(u16, Value), Reply> {
        if name.trim().is_empty() {
            return Err(ApiErr::invalid("Application name can't be blank").into());
        }
        let uris: Vec<String> =
            redirect_uris.split('\n').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
        if uris.is_empty() {
            return Err(ApiErr::invalid("Redirect URI can't be blank").into());
        }
        if uris.iter().any(|u| u != OOB && url::Url::parse(u).is_err()) {
            return Err(ApiErr::invalid("Redirect URI must be an absolute URI.").into());
        }
        let scopes: Vec<String> = if scopes.trim().is_empty() {
            vec!["read".to_owned()]
        } else {
            scopes.split([' ', '+']).filter(|s| !s.is_empty()).map(str::to_owned).collect()
        };
        if scopes.iter().any(|s| !KNOWN_SCOPES.contains(&s.as_str())) {
            return Err(ApiErr::invalid("Scopes must be a subset of the server's scopes").into());
        }
        self.next_secret += 1;
        let app = FakeApp {
            client_id: format!("client{:06}", self.next_secret),
            client_secret: format!("clientSecret{:06}{:016x}", self.next_secret, self.next_id ^ 0x5DEE_CE66_D1CE_4E5B),
            redirect_uris: uris,
            scopes,
        };
        let v = json!({
            "id": format!("{}", self.apps.len() + 1),
            "name": name,
            "website": Value::Null,
            "redirect_uri": app.redirect_uris.join("\n"),
            "redirect_uris": app.redirect_uris,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "scopes": app.scopes,
        });
        self.apps.push(app);
        Ok((200, v))
    }

    /// `[grant_type, code, client_id, client_secret, redirect_uri]`.
    fn token(&mut self, [grant, code, client_id, secret, redirect_uri]: &[String; 5]) -> Result<(u16, Value), Reply> {
        const INVALID_CLIENT: &str = "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.";
        const INVALID_GRANT: &str = "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.";
        if !self.apps.iter().any(|a| a.client_id == *client_id && a.client_secret == *secret) {
            return Err(Reply::OAuth(401, "invalid_client", INVALID_CLIENT));
        }
        if grant != "authorization_code" {
            return Err(Reply::OAuth(
                400,
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server.",
            ));
        }
        let ok = |c: &FakeCode| !c.used && c.client_id == *client_id && c.redirect_uri == *redirect_uri;
        let Some(c) = self.codes.get_mut(code.as_str()).filter(|c| ok(c)) else {
            return Err(Reply::OAuth(400, "invalid_grant", INVALID_GRANT));
        };
        c.used = true;
        let scopes = c.scopes.clone();
        self.next_secret += 1;
        let token = format!("mastoIssued{:06}{:016x}", self.next_secret, self.next_id.rotate_left(17));
        self.issued.insert(token.clone(), scopes.clone());
        Ok((
            200,
            json!({ "access_token": token, "token_type": "Bearer", "scope": scopes.join(" "), "created_at": 1_780_000_000 }),
        ))
    }

    fn over_rate_limit(&mut self) -> Option<Duration> {
        let now = Instant::now();
        let window = self.cfg.rate_window;
        self.window.retain(|t| now.duration_since(*t) < window);
        if self.window.len() >= self.cfg.rate_limit {
            let oldest = self.window[0];
            return Some(window.saturating_sub(now.duration_since(oldest)));
        }
        self.window.push(now);
        None
    }

    /// rack-attack's `throttle_authenticated_deletions/account`: every DELETE counts.
    fn over_delete_limit(&mut self) -> Option<Duration> {
        let now = Instant::now();
        let window = self.cfg.delete_window;
        self.deletions.retain(|t| now.duration_since(*t) < window);
        if self.deletions.len() >= self.cfg.delete_limit {
            return Some(window.saturating_sub(now.duration_since(self.deletions[0])));
        }
        self.deletions.push(now);
        None
    }

    fn new_id(&mut self) -> String {
        self.next_id += 1 + (self.next_id % 7);
        self.next_id.to_string()
    }

    fn now_iso(&mut self) -> String {
        self.clock += 1;
        let t = chrono::DateTime::from_timestamp(1_790_000_000 + self.clock as i64, 0).unwrap_or_default();
        t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }

    /// `GET /api/v1/statuses?id[]=…`: the statuses found, at most 20 ids.
    fn get_statuses(&self, ids: &[String]) -> Result<(u16, Value), Reply> {
        if ids.len() > 20 {
            return Err(ApiErr::new(422, "Validation failed: too many ids").into());
        }
        let found = ids.iter().filter_map(|id| self.statuses.iter().find(|s| s.id == *id));
        Ok((200, Value::Array(found.map(|s| self.status_json(s)).collect())))
    }

    fn dispatch(
        &mut self,
        route: Route,
        segs: &[&str],
        query: &HashMap<String, String>,
        body: Option<&Value>,
        form: &[FormField],
        idem: Option<&str>,
    ) -> Result<(u16, Value), Reply> {
        match route {
            Route::Instance => Ok((200, self.instance_json())),
            Route::VerifyCredentials => Ok((200, self.account_json())),
            Route::Upload => self.upload(form),
            Route::MediaStatus => {
                let Some(m) = self.media.iter_mut().find(|m| m.id == segs[3]) else {
                    return Err(ApiErr::new(404, "Record not found").into());
                };
                if m.polls_left > 0 {
                    m.polls_left -= 1;
                    let v = media_json(m, &self.cfg.host);
                    return Ok((206, v));
                }
                let m = m.clone();
                Ok((200, media_json(&m, &self.cfg.host)))
            }
            Route::CreateStatus => self.create(body, idem),
            Route::GetStatus => match self.statuses.iter().find(|s| s.id == segs[3]) {
                Some(s) => Ok((200, self.status_json(s))),
                None => Err(ApiErr::new(404, "Record not found").into()),
            },
            Route::EditStatus => {
                if !self.statuses.iter().any(|s| s.id == segs[3] && s.account.0 == self.cfg.account_id) {
                    return Err(ApiErr::new(404, "Record not found").into());
                }
                self.edit(segs[3], body)
            }
            Route::DeleteStatus => {
                let Some(idx) = self.statuses.iter().position(|s| s.id == segs[3]) else {
                    return Err(ApiErr::new(404, "Record not found").into());
                };
                if self.statuses[idx].account.0 != self.cfg.account_id {
                    let code = self.cfg.foreign_delete_status;
                    let message = if code == 403 { "Forbidden" } else { "Record not found" };
                    return Err(ApiErr::new(code, message).into());
                }
                let s = self.statuses.remove(idx);
                for m in self.media.iter_mut().filter(|m| m.attached_to.as_deref() == Some(s.id.as_str())) {
                    m.attached_to = None;
                }
                let mut v = self.status_json(&s);
                v["text"] = json!(s.text);
                Ok((200, v))
            }
            Route::StatusSource => match self.statuses.iter().find(|s| s.id == segs[3]) {
                Some(s) if s.account.0 == self.cfg.account_id => {
                    Ok((200, json!({"id": s.id, "text": s.text, "spoiler_text": s.spoiler_text})))
                }
                _ => Err(ApiErr::new(404, "Record not found").into()),
            },
            Route::AccountStatuses => {
                if segs[3] != self.cfg.account_id {
                    return Err(ApiErr::new(404, "Record not found").into());
                }
                let limit = query.get("limit").and_then(|l| l.parse::<usize>().ok()).unwrap_or(20).clamp(1, 40);
                let max_id = query.get("max_id").and_then(|m| m.parse::<u64>().ok());
                let mut list: Vec<&FakeStatus> = self
                    .statuses
                    .iter()
                    .filter(|s| s.account.0 == self.cfg.account_id)
                    .filter(|s| max_id.is_none_or(|m| s.id.parse::<u64>().unwrap_or(0) < m))
                    .collect();
                list.sort_by_key(|s| std::cmp::Reverse(s.id.parse::<u64>().unwrap_or(0)));
                let page: Vec<Value> = list.into_iter().take(limit).map(|s| self.status_json(s)).collect();
                Ok((200, Value::Array(page)))
            }
            Route::Any | Route::Apps | Route::OAuthToken | Route::GetStatuses => {
                Err(ApiErr::new(404, "Not found").into())
            }
        }
    }

    fn instance_json(&self) -> Value {
        let c = &self.cfg;
        json!({
            "domain": c.host.trim_start_matches("https://"),
            "title": "Fake Mastodon",
            "version": "4.4.0",
            "configuration": {
                "urls": {"streaming": "wss://mastodon.example"},
                "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
                "statuses": {
                    "max_characters": c.max_characters,
                    "max_media_attachments": c.max_media_attachments,
                    "characters_reserved_per_url": c.characters_reserved_per_url
                },
                "media_attachments": {
                    "supported_mime_types": ["image/jpeg", "image/png", "image/gif", "image/heic", "image/heif", "image/webp", "image/avif", "video/webm", "video/mp4", "video/quicktime", "video/ogg", "audio/mpeg"],
                    "description_limit": c.description_limit,
                    "image_size_limit": c.image_size_limit,
                    "image_matrix_limit": 33_177_600,
                    "video_size_limit": c.video_size_limit,
                    "video_frame_rate_limit": 120,
                    "video_matrix_limit": 8_294_400
                },
                "polls": {"max_options": 4, "max_characters_per_option": 50, "min_expiration": 300, "max_expiration": 2_629_746}
            }
        })
    }

    fn account_json(&self) -> Value {
        self.account_json_of(&self.cfg.account_id, &self.cfg.username)
    }

    fn account_json_of(&self, id: &str, username: &str) -> Value {
        json!({
            "id": id,
            "username": username,
            "acct": username,
            "display_name": if id == self.cfg.account_id { "Crier Tester" } else { username },
            "url": format!("{}/@{}", self.cfg.host, username),
        })
    }

    fn upload(&mut self, form: &[FormField]) -> Result<(u16, Value), Reply> {
        let Some(file) = form.iter().find(|f| f.name == "file" && f.file_name.is_some()) else {
            return Err(ApiErr::invalid("File can't be blank").into());
        };
        let description =
            form.iter().find(|f| f.name == "description").map(|f| String::from_utf8_lossy(&f.data).into_owned());
        if description.as_ref().is_some_and(|d| d.chars().count() > self.cfg.description_limit) {
            return Err(ApiErr::invalid(format!(
                "Description is too long (maximum is {} characters)",
                self.cfg.description_limit
            ))
            .into());
        }
        let mime = file.content_type.clone().unwrap_or_default();
        let video = mime.starts_with("video/");
        if !(mime.starts_with("image/") || video) {
            return Err(ApiErr::invalid(format!("File content type \"{mime}\" is not supported")).into());
        }
        let limit = if video { self.cfg.video_size_limit } else { self.cfg.image_size_limit };
        if file.data.len() as u64 > limit {
            return Err(ApiErr::invalid(format!("File file size must be less than {limit} Bytes")).into());
        }
        let id = self.new_id();
        let asynchronous = video || self.cfg.async_media;
        let m = FakeMedia {
            id,
            file_name: file.file_name.clone().unwrap_or_default(),
            mime,
            size: file.data.len(),
            description,
            polls_left: if asynchronous { self.cfg.processing_polls } else { 0 },
            attached_to: None,
        };
        let mut v = media_json(&m, &self.cfg.host);
        self.media.push(m);
        if asynchronous {
            v["url"] = Value::Null;
            return Ok((202, v));
        }
        Ok((200, v))
    }

    fn create(&mut self, body: Option<&Value>, idem: Option<&str>) -> Result<(u16, Value), Reply> {
        let Some(b) = body.and_then(Value::as_object) else {
            return Err(ApiErr::invalid("Text can't be blank").into());
        };
        if let (true, Some(k)) = (self.cfg.honour_idempotency, idem) {
            let ttl = self.cfg.idempotency_ttl;
            if let Some((id, at)) = self.keys.get(k) {
                if at.elapsed() < ttl {
                    if let Some(s) = self.statuses.iter().find(|s| &s.id == id) {
                        return Ok((200, self.status_json(s)));
                    }
                }
            }
        }
        let text = b.get("status").and_then(Value::as_str).unwrap_or("").to_owned();
        let media_ids: Vec<String> = b
            .get("media_ids")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        let visibility = b.get("visibility").and_then(Value::as_str).unwrap_or("public").to_owned();
        if !["public", "unlisted", "private", "direct"].contains(&visibility.as_str()) {
            return Err(ApiErr::invalid(format!("Visibility is not included in the list ({visibility})")).into());
        }
        if text.trim().is_empty() && media_ids.is_empty() {
            return Err(ApiErr::invalid("Text can't be blank").into());
        }
        let spoiler_text = b.get("spoiler_text").and_then(Value::as_str).unwrap_or("").to_owned();
        if self.count(&spoiler_text, &text) > self.cfg.max_characters {
            return Err(ApiErr::invalid(format!("Text character limit of {} exceeded", self.cfg.max_characters)).into());
        }
        if media_ids.len() > self.cfg.max_media_attachments {
            return Err(ApiErr::invalid(format!(
                "Media attachments: cannot attach more than {} files",
                self.cfg.max_media_attachments
            ))
            .into());
        }
        for id in &media_ids {
            match self.media.iter().find(|m| &m.id == id) {
                None => return Err(ApiErr::invalid("Media attachments are invalid").into()),
                Some(m) if m.polls_left > 0 => {
                    return Err(ApiErr::new(
                        422,
                        "Cannot attach files that have not finished processing. Try again in a moment!",
                    )
                    .into());
                }
                Some(m) if m.attached_to.is_some() => {
                    return Err(ApiErr::invalid("Media attachments are invalid").into());
                }
                Some(_) => {}
            }
        }
        self.video_alone(&media_ids)?;
        let in_reply_to_id = b.get("in_reply_to_id").and_then(Value::as_str).map(str::to_owned);
        if let Some(r) = &in_reply_to_id {
            if !self.statuses.iter().any(|s| &s.id == r) {
                return Err(ApiErr::new(404, "Record not found").into());
            }
        }
        let input = NewStatus {
            text,
            media_ids,
            in_reply_to_id,
            sensitive: b.get("sensitive").and_then(Value::as_bool).unwrap_or(false),
            spoiler_text,
            visibility,
            language: b.get("language").and_then(Value::as_str).map(str::to_owned),
        };
        let id = self.insert_status(input);
        if let Some(k) = idem {
            self.keys.insert(k.to_owned(), (id.clone(), Instant::now()));
        }
        let s = self.statuses.iter().find(|s| s.id == id).expect("just inserted");
        Ok((200, self.status_json(s)))
    }

    fn insert_status(&mut self, input: NewStatus) -> String {
        let id = self.new_id();
        for m in self.media.iter_mut().filter(|m| input.media_ids.contains(&m.id)) {
            m.attached_to = Some(id.clone());
        }
        let created_at = self.now_iso();
        self.statuses.push(FakeStatus {
            id: id.clone(),
            content: to_html(&input.text, &self.cfg.host),
            text: input.text,
            spoiler_text: input.spoiler_text,
            sensitive: input.sensitive,
            visibility: input.visibility,
            language: input.language,
            in_reply_to_id: input.in_reply_to_id,
            media_ids: input.media_ids,
            created_at,
            edited_at: None,
            edits: 0,
            account: (self.cfg.account_id.clone(), self.cfg.username.clone()),
        });
        id
    }

    fn edit(&mut self, id: &str, body: Option<&Value>) -> Result<(u16, Value), Reply> {
        let Some(b) = body.and_then(Value::as_object) else {
            return Err(ApiErr::invalid("Text can't be blank").into());
        };
        let Some(idx) = self.statuses.iter().position(|s| s.id == id) else {
            return Err(ApiErr::new(404, "Record not found").into());
        };
        let text = b.get("status").and_then(Value::as_str).unwrap_or("").to_owned();
        let spoiler_text = b.get("spoiler_text").and_then(Value::as_str).unwrap_or("").to_owned();
        let media_ids: Vec<String> = b
            .get("media_ids")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        if text.trim().is_empty() && media_ids.is_empty() {
            return Err(ApiErr::invalid("Text can't be blank").into());
        }
        if self.count(&spoiler_text, &text) > self.cfg.max_characters {
            return Err(ApiErr::invalid(format!("Text character limit of {} exceeded", self.cfg.max_characters)).into());
        }
        for mid in &media_ids {
            match self.media.iter().find(|m| &m.id == mid) {
                Some(m) if m.attached_to.as_deref().is_none_or(|a| a == id) && m.polls_left == 0 => {}
                _ => return Err(ApiErr::invalid("Media attachments are invalid").into()),
            }
        }
        self.video_alone(&media_ids)?;
        if let Some(attrs) = b.get("media_attributes").and_then(Value::as_array) {
            for a in attrs {
                let (Some(mid), desc) =
                    (a.get("id").and_then(Value::as_str), a.get("description").and_then(Value::as_str))
                else {
                    continue;
                };
                if let Some(m) = self.media.iter_mut().find(|m| m.id == mid) {
                    m.description = desc.map(str::to_owned);
                }
            }
        }
        for m in self.media.iter_mut() {
            if media_ids.contains(&m.id) {
                m.attached_to = Some(id.to_owned());
            } else if m.attached_to.as_deref() == Some(id) {
                m.attached_to = None;
            }
        }
        let edited_at = self.now_iso();
        let host = self.cfg.host.clone();
        let s = &mut self.statuses[idx];
        s.content = to_html(&text, &host);
        s.text = text;
        s.spoiler_text = spoiler_text;
        if let Some(v) = b.get("sensitive").and_then(Value::as_bool) {
            s.sensitive = v;
        }
        if let Some(l) = b.get("language").and_then(Value::as_str) {
            s.language = Some(l.to_owned());
        }
        s.media_ids = media_ids;
        s.edited_at = Some(edited_at);
        s.edits += 1;
        let s = s.clone();
        Ok((200, self.status_json(&s)))
    }

    /// A video or audio only alone: post_status_service.rb and update_status_service.rb raise
    /// `images_and_video` when there is more than one attachment and any is audio or video.
    fn video_alone(&self, media_ids: &[String]) -> Result<(), Reply> {
        let moving = self
            .media
            .iter()
            .filter(|m| media_ids.contains(&m.id))
            .any(|m| m.mime.starts_with("video/") || m.mime.starts_with("audio/"));
        if media_ids.len() > 1 && moving {
            return Err(ApiErr::new(422, "Cannot attach a video to a post that already contains images").into());
        }
        Ok(())
    }

    /// Mastodon's count: graphemes of spoiler + text, each URL 23, `@user@domain` as `@user`.
    fn count(&self, spoiler: &str, text: &str) -> usize {
        let mut countable = String::new();
        for word in split_keep_whitespace(text) {
            if word.starts_with("http://") || word.starts_with("https://") {
                countable.push_str(&"x".repeat(self.cfg.characters_reserved_per_url));
            } else if word.starts_with('@') && word[1..].contains('@') {
                let user = word[1..].split('@').next().unwrap_or("");
                countable.push('@');
                countable.push_str(user);
            } else {
                countable.push_str(word);
            }
        }
        spoiler.graphemes(true).count() + countable.graphemes(true).count()
    }

    fn status_json(&self, s: &FakeStatus) -> Value {
        let c = &self.cfg;
        let media: Vec<Value> = s
            .media_ids
            .iter()
            .filter_map(|id| self.media.iter().find(|m| &m.id == id))
            .map(|m| media_json(m, &c.host))
            .collect();
        json!({
            "id": s.id,
            "created_at": s.created_at,
            "in_reply_to_id": s.in_reply_to_id,
            "in_reply_to_account_id": s.in_reply_to_id.as_ref().map(|_| c.account_id.clone()),
            "sensitive": s.sensitive,
            "spoiler_text": s.spoiler_text,
            "visibility": s.visibility,
            "language": s.language,
            "uri": format!("{}/users/{}/statuses/{}", c.host, s.account.1, s.id),
            "url": format!("{}/@{}/{}", c.host, s.account.1, s.id),
            "replies_count": self.counts.get(&s.id).map_or(0, |c| c.0),
            "reblogs_count": self.counts.get(&s.id).map_or(0, |c| c.1),
            "favourites_count": self.counts.get(&s.id).map_or(0, |c| c.2),
            "edited_at": s.edited_at,
            "content": s.content,
            "reblog": null,
            "account": self.account_json_of(&s.account.0, &s.account.1),
            "media_attachments": media,
            "mentions": [],
            "tags": [],
            "emojis": [],
            "card": null,
            "poll": null,
        })
    }
}

fn media_json(m: &FakeMedia, host: &str) -> Value {
    let kind = if m.mime.starts_with("video/") { "video" } else { "image" };
    let url = if m.polls_left > 0 {
        Value::Null
    } else {
        json!(format!("{host}/system/media_attachments/{}/original/{}", m.id, m.file_name))
    };
    json!({
        "id": m.id,
        "type": kind,
        "url": url,
        "preview_url": url,
        "remote_url": null,
        "description": m.description,
        "blurhash": "UeKUpFxuo~R%0nW;WCnhF6RjaJt757oJodS$",
        "meta": {}
    })
}

/// Words and whitespace runs, in order.
fn split_keep_whitespace(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_space = None;
    for (i, c) in text.char_indices() {
        let space = c.is_whitespace();
        if in_space.is_some_and(|s| s != space) {
            out.push(&text[start..i]);
            start = i;
        }
        in_space = Some(space);
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// Plain text as Mastodon stores it: escaped, paragraphs on blank lines, `<br />` for line
/// breaks, links with the scheme in an invisible span, remote mentions shown as `@user`.
pub(crate) fn to_html(text: &str, host: &str) -> String {
    let mut html = String::new();
    let paragraphs: Vec<&str> = text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()).collect();
    for p in paragraphs {
        html.push_str("<p>");
        let lines: Vec<String> = p
            .lines()
            .map(|line| split_keep_whitespace(line).into_iter().map(|w| word_html(w, host)).collect::<String>())
            .collect();
        html.push_str(&lines.join("<br />"));
        html.push_str("</p>");
    }
    html
}

fn word_html(word: &str, host: &str) -> String {
    if let Some(rest) = word.strip_prefix("https://").or_else(|| word.strip_prefix("http://")) {
        let scheme = &word[..word.len() - rest.len()];
        let (shown, hidden) = if rest.chars().count() > 30 {
            let cut = rest.char_indices().nth(30).map_or(rest.len(), |(i, _)| i);
            (&rest[..cut], &rest[cut..])
        } else {
            (rest, "")
        };
        return format!(
            r#"<a href="{}" target="_blank" rel="nofollow noopener"><span class="invisible">{}</span><span class="{}">{}</span><span class="invisible">{}</span></a>"#,
            escape(word),
            escape(scheme),
            if hidden.is_empty() { "" } else { "ellipsis" },
            escape(shown),
            escape(hidden)
        );
    }
    if let Some(rest) = word.strip_prefix('@') {
        if let Some((user, _domain)) = rest.split_once('@') {
            if !user.is_empty() {
                return format!(
                    r#"<span class="h-card" translate="no"><a href="{host}/@{user}" class="u-url mention">@<span>{}</span></a></span>"#,
                    escape(user)
                );
            }
        }
    }
    escape(word)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}
