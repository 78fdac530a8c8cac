//! A stateful fake of LinkedIn's member APIs for tests (reference §6).
//!
//! Serves `GET /v2/userinfo`, the Posts API (`POST /rest/posts`, `POST /rest/posts/{urn}`
//! with `X-RestLi-Method: PARTIAL_UPDATE`, `DELETE /rest/posts/{urn}`), the Images API
//! (`POST /rest/images?action=initializeUpload`, then `PUT` of the bytes at the upload URL
//! it hands out), and a web page with OpenGraph tags and its image for link cards. It
//! enforces what the reference says LinkedIn does:
//!
//! - `Authorization: Bearer <token>` on every call, the upload included (401
//!   `INVALID_ACCESS_TOKEN`; `EXPIRED_ACCESS_TOKEN` once [`Fault::ExpireToken`] hit);
//! - on every `/rest` call `LinkedIn-Version` (a version more than 12 months before the
//!   fake's clock, or before `min_version` when set, is 426 `NONEXISTENT_VERSION`; none is
//!   400) and `X-Restli-Protocol-Version: 2.0.0`;
//! - the post body: `author` is the token's member, `lifecycleState: PUBLISHED`, a known
//!   `visibility`, `distribution`; `commentary` at most 3,000 characters; the little format:
//!   the stored text (what readers see) is cut at the first unescaped reserved character,
//!   escapes and `{hashtag|\#|tag}` are read as LinkedIn shows them;
//! - images: an image in a post must be uploaded (not `WAITING_UPLOAD`) and the author's;
//!   `content.media` holds one, `content.multiImage` 2–20; an article needs `source` and
//!   `title`, its thumbnail an uploaded image;
//! - duplicates: the same author, commentary and content within `duplicate_window` (10 minutes, on the
//!   fake's clock) is 422 `DUPLICATE_POST` naming the first post, even once it is deleted;
//! - the new post's URN in `x-restli-id` (URL-encoded when `encode_id`), an empty 201.

// Each test binary uses a different subset of this module.
#![allow(dead_code)]

#[allow(clippy::duplicate_mod)]
#[path = "fake.rs"]
mod fake;

use std::collections::HashMap;
use std::time::Duration;

use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub(crate) use fake::FakeRequest;
use fake::{Clock, Effect, Incoming, raw};

/// The 15 reserved characters of the little format.
const RESERVED: &str = "|{}@[]()<>#\\*_~";
const HASHTAG_OPEN: &str = "{hashtag|\\#|";

fake::config! {
    token: String = "AQVliFakeMemberToken0123456789SECRET".into(),
    /// The member's OpenID `sub`.
    sub: String = "782bbtaQ".into(),
    name: String = "Ada Lovelace".into(),
    /// The oldest `LinkedIn-Version` still served; by default the month 12 months before
    /// the fake's clock (LinkedIn sunsets a version a year after its release, §6.2).
    min_version: Option<String> = None,
    duplicate_window: Duration = Duration::from_secs(600),
    /// Send `x-restli-id` URL-encoded.
    encode_id: bool = true,
    /// The app of the OAuth endpoints.
    client_id: String = "86fakeclientid".into(),
    client_secret: String = "WPL_AP1.fakeClientSecret.SECRET".into(),
}

/// Routes a fault can be attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Route {
    Userinfo,
    CreatePost,
    UpdatePost,
    DeletePost,
    InitializeUpload,
    Upload,
    /// The web page and its image (link cards).
    Page,
    /// `GET /oauth/v2/authorization` (the browser's side) and `POST /oauth/v2/accessToken`.
    Authorize,
    AccessToken,
    #[default]
    Any,
}

fake::faults! {
    /// HTTP 429 with LinkedIn's throttle body and, when given, `Retry-After: <secs>`.
    RateLimited { retry_after_secs: Option<u64> },
    /// The token expires: this call and every later one get 401 `EXPIRED_ACCESS_TOKEN`.
    ExpireToken,
}

/// A post as the fake keeps it.
#[derive(Debug, Clone)]
pub(crate) struct FakePost {
    pub(crate) urn: String,
    /// The commentary as received.
    pub(crate) commentary: String,
    /// What readers see: the commentary read as little text (cut at an unescaped reserved
    /// character).
    pub(crate) text: String,
    pub(crate) visibility: String,
    pub(crate) content: Option<Value>,
    pub(crate) deleted: bool,
    pub(crate) edits: u32,
}

#[derive(Debug, Clone)]
struct FakeImage {
    owner: String,
    /// `WAITING_UPLOAD` or `AVAILABLE`.
    status: &'static str,
    bytes: usize,
}

/// The fake's state.
#[derive(Default)]
pub(crate) struct Linkedin {
    cfg: FakeConfig,
    origin: String,
    clock: Clock,
    next_id: u64,
    posts: Vec<FakePost>,
    /// Upload path → image URN.
    uploads: HashMap<String, String>,
    images: HashMap<String, FakeImage>,
    /// (author and body as sent, URN, when on the clock) of recent creates.
    recent: Vec<(String, String, Duration)>,
    expired: bool,
    /// The page served for link cards.
    page: String,
    /// Authorization codes not used yet, and the redirect URI each was issued for.
    codes: HashMap<String, String>,
}

/// The state a fake starts in.
impl From<FakeConfig> for Linkedin {
    fn from(cfg: FakeConfig) -> Self {
        // The clock starts on the tests' date (`CRIER_NOW`, 2026-11-28T10:00:00Z), not
        // today: which versions it serves must not change with the calendar.
        Linkedin {
            cfg,
            clock: Clock::new(Some(1_795_860_000)),
            next_id: 7_240_000_000_000_000_001,
            ..Linkedin::default()
        }
    }
}

pub(crate) type FakeLinkedin = fake::Fake<Linkedin>;

fake::config_getters!(FakeLinkedin {
    /// The valid token.
    token,
    sub,
});

impl FakeLinkedin {
    /// Every post made, deleted ones included.
    pub(crate) fn posts(&self) -> Vec<FakePost> {
        self.lock().posts.clone()
    }

    /// Posts not deleted.
    pub(crate) fn live(&self) -> Vec<FakePost> {
        self.posts().into_iter().filter(|p| !p.deleted).collect()
    }

    /// Images whose bytes arrived.
    pub(crate) fn uploaded_images(&self) -> usize {
        self.lock().images.values().filter(|i| i.status == "AVAILABLE").count()
    }

    /// The URL of a page with OpenGraph tags (title, description, image).
    pub(crate) fn page_url(&self) -> String {
        format!("{}/blog/post", self.origin())
    }

    /// Moves the fake's clock on (past the duplicate window).
    pub(crate) fn advance(&self, by: Duration) {
        self.lock().clock.advance(by);
    }

    /// A post made in the app (not by crier), returning its URN.
    pub(crate) fn seed(&self, commentary: &str) -> String {
        let mut g = self.lock();
        let author = g.author();
        let body = json!({"author": author, "commentary": commentary, "visibility": "PUBLIC"});
        let urn = g.insert(&body);
        let now = g.clock.elapsed();
        g.recent.push((duplicate_key(&body), urn.clone(), now));
        urn
    }

    /// A code for the member, as the authorization page would give it for `redirect_uri`.
    pub(crate) fn code(&self, redirect_uri: &str) -> String {
        let mut g = self.lock();
        g.next_id += 1;
        let code = format!("AQTfakeCode{}", g.next_id);
        g.codes.insert(code.clone(), redirect_uri.to_owned());
        code
    }

    /// How many requests came in on `route`.
    pub(crate) fn requests_on(&self, route: Route) -> usize {
        let g = self.lock();
        g.log.count(|r| {
            let segs: Vec<&str> = r.path.trim_matches('/').split('/').collect();
            let query: HashMap<String, String> = r
                .query
                .as_deref()
                .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect())
                .unwrap_or_default();
            Method::from_bytes(r.method.as_bytes()).is_ok_and(|m| route_of(&m, &segs, &query) == route)
        })
    }

    /// How many requests of `method` hit a path starting with `prefix`.
    pub(crate) fn count(&self, method: &str, prefix: &str) -> usize {
        self.lock().log.count(|r| r.method == method && r.path.starts_with(prefix))
    }
}

/// LinkedIn's error body.
fn error(status: u16, code: &str, message: &str) -> Response {
    fake::json(status, &json!({"status": status, "code": code, "message": message}))
}

fn duplicate(urn: &str) -> Response {
    fake::json(
        422,
        &json!({
            "errorDetailType": "com.linkedin.common.error.BadRequest",
            "message": format!("com.linkedin.content.common.exception.BadRequestResponseException: Content is a duplicate of {urn}"),
            "errorDetails": {"inputErrors": [{"description": "Duplicate post is detected", "input": {}, "code": "DUPLICATE_POST"}]},
            "status": 422,
        }),
    )
}

/// `text` read as little text: escapes resolved, `{hashtag|\#|tag}` as `#tag`, cut at the
/// first unescaped reserved character (as LinkedIn is reported to do).
pub(crate) fn read_little(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix(HASHTAG_OPEN) {
            let Some(end) = after.find('}') else { break };
            out.push('#');
            out.push_str(&read_little(&after[..end]));
            rest = &after[end + 1..];
            continue;
        }
        if c == '\\' {
            match rest[1..].chars().next() {
                Some(n) if RESERVED.contains(n) => {
                    out.push(n);
                    rest = &rest[1 + n.len_utf8()..];
                    continue;
                }
                _ => break,
            }
        }
        if RESERVED.contains(c) {
            break;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn route_of(method: &Method, segs: &[&str], query: &HashMap<String, String>) -> Route {
    match (method.as_str(), segs) {
        ("GET", ["v2", "userinfo"]) => Route::Userinfo,
        ("POST", ["rest", "posts"]) => Route::CreatePost,
        ("POST", ["rest", "posts", _]) => Route::UpdatePost,
        ("DELETE", ["rest", "posts", _]) => Route::DeletePost,
        ("POST", ["rest", "images"]) if query.get("action").map(String::as_str) == Some("initializeUpload") => {
            Route::InitializeUpload
        }
        ("PUT", ["dms-uploads", _]) => Route::Upload,
        ("GET", ["blog", _]) | ("GET", ["og.png"]) => Route::Page,
        ("GET", ["oauth", "v2", "authorization"]) => Route::Authorize,
        ("POST", ["oauth", "v2", "accessToken"]) => Route::AccessToken,
        _ => Route::Any,
    }
}

impl fake::Platform for Linkedin {
    type Route = Route;
    type Fault = Fault;
    type Entry = FakeRequest;

    fn listening(&mut self, origin: &str) {
        origin.clone_into(&mut self.origin);
        self.page = format!(
            "<html><head><title>Plain title</title><meta property=\"og:title\" content=\"Shipping crier\">\
             <meta property=\"og:description\" content=\"How crier posts everywhere\">\
             <meta property=\"og:image\" content=\"{origin}/og.png\"></head><body>x</body></html>"
        );
    }

    fn route(&self, req: &Incoming) -> Route {
        route_of(&req.method, &req.segments(), &req.query())
    }

    fn fault(&mut self, fault: Fault) -> Effect {
        match fault {
            Fault::RateLimited { retry_after_secs } => {
                let mut r = error(
                    429,
                    "TOO_MANY_REQUESTS",
                    "Resource level throttle limit for calls to this resource is reached.",
                );
                if let Some(s) = retry_after_secs {
                    r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
                }
                Effect::Reply(r)
            }
            Fault::ExpireToken => {
                self.expired = true;
                Effect::Proceed
            }
            _ => Effect::Proceed,
        }
    }

    fn answer(&mut self, route: Route, req: &Incoming) -> Response {
        if route == Route::Page {
            return if req.path() == "/og.png" {
                ([(header::CONTENT_TYPE, "image/png")], png_bytes()).into_response()
            } else {
                fake::html(200, self.page.clone())
            };
        }
        match route {
            Route::Authorize => return self.authorize(req),
            Route::AccessToken => return self.access_token(req),
            _ => {}
        }
        let bearer = req.header("authorization").and_then(|a| a.strip_prefix("Bearer "));
        if bearer != Some(self.cfg.token.as_str()) {
            return error(401, "INVALID_ACCESS_TOKEN", "Invalid access token");
        }
        if self.expired {
            return error(401, "EXPIRED_ACCESS_TOKEN", "The token used in the request has expired");
        }
        if req.path().starts_with("/rest/") {
            if let Some(reply) = self.check_version(req) {
                return reply;
            }
        }
        match route {
            Route::Userinfo => fake::json(
                200,
                &json!({"sub": self.cfg.sub, "name": self.cfg.name, "given_name": "Ada", "family_name": "Lovelace", "locale": {"country": "GB", "language": "en"}}),
            ),
            Route::CreatePost => self.create(req),
            Route::UpdatePost => self.update(req),
            Route::DeletePost => {
                let urn = decode(req.segments()[2]);
                match self.posts.iter_mut().find(|p| p.urn == urn && !p.deleted) {
                    Some(p) => {
                        p.deleted = true;
                        raw(204, "application/json", String::new())
                    }
                    None => error(404, "NOT_FOUND", &format!("Post {urn} not found")),
                }
            }
            Route::InitializeUpload => {
                let owner = req.json().and_then(|v| v.pointer("/initializeUploadRequest/owner").cloned());
                let owner = owner.and_then(|o| o.as_str().map(str::to_owned)).unwrap_or_default();
                if owner != self.author() {
                    return error(403, "ACCESS_DENIED", "Not enough permissions to act as the owner");
                }
                self.next_id += 1;
                let urn = format!("urn:li:image:C4E10AQ{}", self.next_id);
                let path = format!("/dms-uploads/{}", self.next_id);
                self.uploads.insert(path.clone(), urn.clone());
                self.images.insert(urn.clone(), FakeImage { owner, status: "WAITING_UPLOAD", bytes: 0 });
                fake::json(
                    200,
                    &json!({"value": {"uploadUrlExpiresAt": 1_900_000_000_000u64, "uploadUrl": format!("{}{path}", self.origin), "image": urn}}),
                )
            }
            Route::Upload => match self.uploads.get(req.path()).and_then(|u| self.images.get_mut(u)) {
                Some(img) if !req.body.is_empty() => {
                    img.status = "AVAILABLE";
                    img.bytes = req.body.len();
                    raw(201, "application/json", String::new())
                }
                Some(_) => error(400, "EMPTY_UPLOAD", "No bytes were uploaded"),
                None => error(404, "NOT_FOUND", "Unknown upload URL"),
            },
            Route::Page | Route::Any | Route::Authorize | Route::AccessToken => {
                error(404, "NOT_FOUND", &format!("No route {} {}", req.method, req.path()))
            }
        }
    }
}

impl Linkedin {
    fn author(&self) -> String {
        format!("urn:li:person:{}", self.cfg.sub)
    }

    /// The member consents: a redirect to `redirect_uri` with a code and the `state`.
    fn authorize(&mut self, req: &Incoming) -> Response {
        let q = req.query();
        let scope = q.get("scope").map(String::as_str).unwrap_or_default();
        if q.get("client_id") != Some(&self.cfg.client_id) || scope != "openid profile w_member_social" {
            return error(400, "invalid_request", "unknown client_id, or not the scopes crier needs");
        }
        let redirect = q.get("redirect_uri").cloned().unwrap_or_default();
        self.next_id += 1;
        let code = format!("AQTfakeCode{}", self.next_id);
        self.codes.insert(code.clone(), redirect.clone());
        let state = q.get("state").cloned().unwrap_or_default();
        let to = format!("{redirect}?code={code}&state={state}");
        let mut r = raw(302, "text/html", String::new());
        r.headers_mut().insert(header::LOCATION, HeaderValue::from_str(&to).expect("ascii"));
        r
    }

    /// `grant_type=authorization_code`: a code works once, for the redirect URI it was issued for.
    fn access_token(&mut self, req: &Incoming) -> Response {
        let form: HashMap<String, String> = url::form_urlencoded::parse(&req.body).into_owned().collect();
        let get = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
        let oauth_error = |d: &str| fake::json(400, &json!({"error": "invalid_request", "error_description": d}));
        if get("grant_type") != "authorization_code" {
            return oauth_error("grant_type must be authorization_code");
        }
        if get("client_id") != self.cfg.client_id || get("client_secret") != self.cfg.client_secret {
            return fake::json(
                401,
                &json!({"error": "invalid_client", "error_description": "Client authentication failed"}),
            );
        }
        match self.codes.remove(get("code")) {
            Some(redirect) if redirect == get("redirect_uri") => fake::json(
                200,
                &json!({"access_token": self.cfg.token, "expires_in": 5_184_000, "scope": "email,openid,profile,w_member_social"}),
            ),
            _ => oauth_error(
                "Unable to retrieve access token: appid/redirect uri/code verifier does not match authorization code. Or authorization code expired.",
            ),
        }
    }

    fn check_version(&self, req: &Incoming) -> Option<Response> {
        let Some(version) = req.header("linkedin-version") else {
            return Some(error(
                400,
                "VERSION_MISSING",
                "A version must be present. Please specify a version by adding the LinkedIn-Version header.",
            ));
        };
        if req.header("x-restli-protocol-version") != Some("2.0.0") {
            return Some(error(400, "INVALID_PROTOCOL_VERSION", "X-Restli-Protocol-Version must be 2.0.0"));
        }
        let valid = version.len() == 6 && version.bytes().all(|b| b.is_ascii_digit());
        let oldest = self.cfg.min_version.clone().unwrap_or_else(|| year_before(self.clock.now_unix()));
        if !valid || version < oldest.as_str() {
            return Some(error(426, "NONEXISTENT_VERSION", &format!("Requested version {version} is not active")));
        }
        None
    }

    fn create(&mut self, req: &Incoming) -> Response {
        let Some(body) = req.json() else { return error(400, "BAD_REQUEST", "The body is not JSON") };
        if let Some(problem) = self.invalid(&body) {
            return error(422, "UNPROCESSABLE_ENTITY", &problem);
        }
        let key = duplicate_key(&body);
        let now = self.clock.elapsed();
        let window = self.cfg.duplicate_window;
        if let Some((_, urn, _)) = self.recent.iter().find(|(k, _, at)| *k == key && now.saturating_sub(*at) < window) {
            return duplicate(urn);
        }
        let urn = self.insert(&body);
        self.recent.push((key, urn.clone(), now));
        let id = if self.cfg.encode_id { urn.replace(':', "%3A") } else { urn };
        let mut r = raw(201, "application/json", String::new());
        r.headers_mut().insert("x-restli-id", HeaderValue::from_str(&id).expect("ascii"));
        r
    }

    fn insert(&mut self, body: &Value) -> String {
        self.next_id += 1;
        let urn = format!("urn:li:share:{}", self.next_id);
        let commentary = body["commentary"].as_str().unwrap_or_default().to_owned();
        self.posts.push(FakePost {
            urn: urn.clone(),
            text: read_little(&commentary),
            commentary,
            visibility: body["visibility"].as_str().unwrap_or("PUBLIC").to_owned(),
            content: body.get("content").cloned(),
            deleted: false,
            edits: 0,
        });
        urn
    }

    /// What LinkedIn would refuse in a create body.
    fn invalid(&self, body: &Value) -> Option<String> {
        if body["author"].as_str() != Some(self.author().as_str()) {
            return Some(format!("author must be the token's member {}", self.author()));
        }
        if body["lifecycleState"] != "PUBLISHED" {
            return Some("lifecycleState: PUBLISHED is the only accepted field during creation".into());
        }
        if !matches!(body["visibility"].as_str(), Some("PUBLIC" | "CONNECTIONS" | "LOGGED_IN" | "CONTAINER")) {
            return Some("visibility is missing or unknown".into());
        }
        if body["distribution"]["feedDistribution"].as_str().is_none() {
            return Some("distribution.feedDistribution is required".into());
        }
        let commentary = body["commentary"].as_str().unwrap_or_default();
        if commentary.encode_utf16().count() > 3000 {
            return Some("commentary is longer than 3000 characters".into());
        }
        let content = body.get("content");
        if commentary.is_empty() && content.is_none() {
            return Some("commentary must not be empty".into());
        }
        let image_ok = |v: &Value| {
            let urn = v["id"].as_str().unwrap_or_default();
            self.images.get(urn).is_some_and(|i| i.status == "AVAILABLE" && i.owner == self.author())
        };
        if let Some(media) = content.and_then(|c| c.get("media")) {
            if !image_ok(media) {
                return Some("content.media.id is not an uploaded image of the author".into());
            }
        }
        if let Some(multi) = content.and_then(|c| c.pointer("/multiImage/images")) {
            let images = multi.as_array().cloned().unwrap_or_default();
            if !(2..=20).contains(&images.len()) {
                return Some("multiImage takes a minimum of 2 images and a maximum of 20 images".into());
            }
            if !images.iter().all(image_ok) {
                return Some("multiImage holds an image that is not uploaded, or not the author's".into());
            }
        }
        if let Some(article) = content.and_then(|c| c.get("article")) {
            if article["source"].as_str().is_none() || article["title"].as_str().is_none() {
                return Some("article needs source and title".into());
            }
            if let Some(t) = article.get("thumbnail") {
                if !image_ok(&json!({"id": t})) {
                    return Some("article.thumbnail is not an uploaded image".into());
                }
            }
        }
        None
    }

    fn update(&mut self, req: &Incoming) -> Response {
        if req.header("x-restli-method") != Some("PARTIAL_UPDATE") {
            return error(400, "BAD_REQUEST", "POST on an entity needs X-RestLi-Method: PARTIAL_UPDATE");
        }
        let urn = decode(req.segments()[2]);
        let Some(commentary) = req.json().and_then(|v| v.pointer("/patch/$set/commentary").cloned()) else {
            return error(400, "BAD_REQUEST", "expected {\"patch\":{\"$set\":{…}}}");
        };
        let commentary = commentary.as_str().unwrap_or_default().to_owned();
        if commentary.encode_utf16().count() > 3000 {
            return error(422, "UNPROCESSABLE_ENTITY", "commentary is longer than 3000 characters");
        }
        match self.posts.iter_mut().find(|p| p.urn == urn && !p.deleted) {
            Some(p) => {
                p.text = read_little(&commentary);
                p.commentary = commentary;
                p.edits += 1;
                raw(204, "application/json", String::new())
            }
            None => error(404, "NOT_FOUND", &format!("Post {urn} not found")),
        }
    }
}

/// What makes two posts the same to the duplicate check: the author, the text, the content.
fn duplicate_key(body: &Value) -> String {
    json!([body["author"], body["commentary"], body.get("content")]).to_string()
}

/// A path segment URL-decoded.
fn decode(seg: &str) -> String {
    url::form_urlencoded::parse(seg.as_bytes()).next().map(|(k, _)| k.into_owned()).unwrap_or_default()
}

/// A small PNG for the card image.
fn png_bytes() -> Vec<u8> {
    vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a]
}

/// The `YYYYMM` month 12 months before `unix`: the oldest version LinkedIn still serves then.
fn year_before(unix: u64) -> String {
    use chrono::Datelike;
    let now = chrono::DateTime::from_timestamp(unix as i64, 0).unwrap_or_default();
    format!("{:04}{:02}", now.year() - 1, now.month())
}
