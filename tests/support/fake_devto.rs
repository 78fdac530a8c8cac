//! A stateful fake of the dev.to (Forem) API v1 for tests.
//!
//! Serves, under `/api`, the routes a publisher uses: `POST /articles`, `PUT /articles/{id}`,
//! `GET /articles/{id}` (published articles only) and `GET /articles/me[/all|/published|
//! /unpublished]` with `page`/`per_page`. It enforces what Forem enforces on them:
//!
//! - `api-key` must be the configured key (else 401 `{"error":"unauthorized","status":401}`),
//!   and `Accept` must name `application/vnd.forem.api-v1+json` (fake-only strictness: Forem
//!   would route the request to the deprecated v0 API);
//! - the `{"article": {…}}` wrapper (422 `param is missing or the value is empty: article`,
//!   or `article param must be a JSON object…`);
//! - every present `article` field's JSON type against the `Article` schema of
//!   `tests/support/specs/forem-api-v1.json` (loaded at start when the file exists, else the same
//!   types embedded), except `tags`, checked as an array of strings (what the controller
//!   permits); unknown fields are ignored like Rails strong params;
//! - model validations: title present and ≤ 128 chars, ≤ 4 tags of ≤ 30 alphanumeric chars
//!   (lower-cased), `body_markdown` ≤ 800 KB and unique per title, `canonical_url` and
//!   `main_image` http(s) URLs, `canonical_url` unique across articles; failures are 422 with
//!   the messages joined as a sentence;
//! - rate limits: more than `create_limit` creates (or `update_limit` updates) within
//!   `rate_window` → 429 `{"error":"Rate limit reached, try again in N seconds","status":429}`
//!   with `Retry-After: N`; optionally rack-attack's write throttle (`write_throttle`), a
//!   plain-text 429 with `Retry-After: 1`.
//!
//! Tests steer it with [`FakeDevto::fail_next`] (one-shot faults per route) and inspect it
//! with [`FakeDevto::articles`], [`FakeDevto::calls`] and [`FakeDevto::requests`] (method,
//! path, query and JSON body; never headers, so never the key).

// Each test binary uses a different subset of this module.
#![allow(dead_code)]

// Each fake holds its own copy of the shared pieces, so a test binary can include any set of fakes.
#[allow(clippy::duplicate_mod)]
#[path = "fake.rs"]
mod fake;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::Response;
use serde_json::{Value, json};

pub(crate) use fake::FakeRequest;
use fake::{Clock, Effect, Incoming, raw};

// A copy of shared/specs/forem-api-v1.json (forem/forem-docs), kept with the tests.
const SPEC_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/specs/forem-api-v1.json");
const ACCEPT_V1: &str = "application/vnd.forem.api-v1+json";
const MAX_BODY_BYTES: usize = 800 * 1024;

fake::config! {
    /// The valid API key.
    api_key: String = "devtoFakeKey0123456789abcdefSECRET".into(),
    /// The key owner's username (in URLs).
    username: String = "crier_tester".into(),
    /// The key owner's user id.
    user_id: u64 = 1304,
    /// Organizations the user belongs to (other `organization_id`s are ignored).
    organizations: Vec<u64> = vec![42],
    /// Scheme and host of article URLs.
    host: String = "https://dev.to".into(),
    /// Creates allowed within `rate_window`; one more gets a 429.
    create_limit: usize = 9,
    /// Updates allowed within `rate_window`.
    update_limit: usize = 30,
    /// The rate-limit window.
    rate_window: Duration = Duration::from_secs(30),
    /// `Retry-After` (and message) of a rate-limit 429, in seconds.
    rate_retry_after_secs: u64 = 30,
    /// When set, writes closer together than this get rack-attack's 429 (`Retry-After: 1`).
    write_throttle: Option<Duration> = None,
}

/// Routes a fault can be attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Route {
    /// `POST /api/articles`.
    Create,
    /// `PUT /api/articles/{id}`.
    Update,
    /// `GET /api/articles/me[/all|/published|/unpublished]`.
    ListMine,
    /// `GET /api/articles/{id}`.
    Show,
    /// `GET /api/users/me`.
    Me,
    /// Whatever request comes next.
    #[default]
    Any,
}

fake::faults! {
    /// HTTP 429 with Forem's rate-limit body and, when given, `Retry-After: <secs>`.
    RateLimited {
        /// `Retry-After` value in seconds.
        retry_after_secs: Option<u64>,
    },
}

/// An article as the fake stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FakeArticle {
    pub(crate) id: u64,
    pub(crate) title: String,
    pub(crate) body_markdown: String,
    pub(crate) published: bool,
    /// Lower-cased tags.
    pub(crate) tags: Vec<String>,
    pub(crate) series: Option<String>,
    pub(crate) main_image: Option<String>,
    pub(crate) canonical_url: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) organization_id: Option<u64>,
    pub(crate) slug: String,
    pub(crate) url: String,
    /// Unix seconds.
    pub(crate) created_at: u64,
    /// Unix seconds; `None` for drafts.
    pub(crate) published_at: Option<u64>,
    pub(crate) edited_at: Option<u64>,
    /// Another user's article: their username. `None`: the key owner's.
    pub(crate) author: Option<String>,
    /// Creation order.
    seq: u64,
}

/// JSON types allowed for one `article` field.
#[derive(Debug, Clone)]
struct FieldType {
    kind: String,
    nullable: bool,
}

/// The fake's state.
#[derive(Default)]
pub(crate) struct Devto {
    cfg: FakeConfig,
    schema: HashMap<String, FieldType>,
    schema_from_spec: bool,
    clock: Clock,
    next_id: u64,
    next_seq: u64,
    rng: fake::Rng,
    articles: Vec<FakeArticle>,
    creates: Vec<Instant>,
    updates: Vec<Instant>,
    last_write: Option<Instant>,
    /// Engagement per article id: (page views, reactions, comments).
    counts: HashMap<u64, (u64, u64, u64)>,
}

/// The state a fake starts in.
impl From<FakeConfig> for Devto {
    fn from(cfg: FakeConfig) -> Self {
        let (schema, schema_from_spec) = load_schema();
        Devto { cfg, schema, schema_from_spec, next_id: 2_345_678, next_seq: 1, ..Devto::default() }
    }
}

/// A Forem error reply.
struct ApiErr {
    status: u16,
    message: String,
    retry_after: Option<u64>,
}

impl ApiErr {
    fn new(status: u16, message: impl Into<String>) -> Self {
        Self { status, message: message.into(), retry_after: None }
    }

    fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(422, message)
    }

    fn response(&self) -> Response {
        let mut resp = fake::json(self.status, &json!({ "error": self.message, "status": self.status }));
        if let Some(s) = self.retry_after {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        resp
    }
}

/// A running fake server. Stops when dropped.
pub(crate) type FakeDevto = fake::Fake<Devto>;

fake::config_getters!(FakeDevto {
    /// The valid key.
    api_key,
    /// The key owner's username.
    username,
});

impl FakeDevto {
    /// Whether the field types came from the spec file (else the embedded copy).
    pub(crate) fn schema_from_spec(&self) -> bool {
        self.lock().schema_from_spec
    }

    /// Adds an article directly (as if created earlier on the site), returning its id.
    pub(crate) fn seed(&self, title: &str, body: &str, published: bool, canonical_url: Option<&str>) -> u64 {
        let mut g = self.lock();
        let fields = Fields {
            title: Some(title.to_owned()),
            body_markdown: Some(body.to_owned()),
            published: Some(published),
            canonical_url: canonical_url.map(|c| Some(c.to_owned())),
            ..Fields::default()
        };
        g.insert(&fields)
    }

    /// A published article of another user (readable by id, not the key owner's).
    pub(crate) fn seed_foreign(&self, username: &str, title: &str, body: &str) -> u64 {
        let mut g = self.lock();
        let fields = Fields {
            title: Some(title.to_owned()),
            body_markdown: Some(body.to_owned()),
            published: Some(true),
            ..Fields::default()
        };
        let id = g.insert(&fields);
        let host = g.cfg.host.clone();
        if let Some(a) = g.articles.iter_mut().find(|a| a.id == id) {
            a.author = Some(username.to_owned());
            a.url = format!("{host}/{username}/{}", a.slug);
        }
        id
    }

    /// Deletes the article as its author can in the dashboard.
    pub(crate) fn delete_in_dashboard(&self, id: u64) {
        self.lock().articles.retain(|a| a.id != id);
    }

    /// Changes an article's body (and publishes or unpublishes it) as in the dashboard.
    pub(crate) fn edit_in_dashboard(&self, id: u64, body: Option<&str>, published: Option<bool>) {
        let mut g = self.lock();
        let now = g.now_unix();
        if let Some(a) = g.articles.iter_mut().find(|a| a.id == id) {
            if let Some(b) = body {
                b.clone_into(&mut a.body_markdown);
            }
            if let Some(p) = published {
                a.published = p;
            }
            a.edited_at = Some(now);
        }
    }

    /// Articles, in creation order.
    /// Sets an article's engagement: page views, reactions, comments.
    pub(crate) fn set_counts(&self, id: u64, views: u64, reactions: u64, comments: u64) {
        self.lock().counts.insert(id, (views, reactions, comments));
    }

    pub(crate) fn articles(&self) -> Vec<FakeArticle> {
        self.lock().articles.clone()
    }

    /// How many requests of `method` hit a path ending in `suffix`.
    pub(crate) fn count(&self, method: &str, suffix: &str) -> usize {
        self.lock().log.count(|r| r.method == method && r.path.ends_with(suffix))
    }
}

/// Field types of `components.schemas.Article.properties.article.properties`, from the spec
/// file when present; `tags` is an array of strings whatever the spec says.
fn load_schema() -> (HashMap<String, FieldType>, bool) {
    let from_spec = std::fs::read_to_string(SPEC_PATH).ok().and_then(|text| {
        let spec: Value = serde_json::from_str(&text).ok()?;
        let props = spec.pointer("/components/schemas/Article/properties/article/properties")?.as_object()?;
        let map: HashMap<String, FieldType> = props
            .iter()
            .filter_map(|(k, v)| {
                let kind = v.get("type")?.as_str()?.to_owned();
                let nullable = v.get("nullable").and_then(Value::as_bool).unwrap_or(false);
                Some((k.clone(), FieldType { kind, nullable }))
            })
            .collect();
        (!map.is_empty()).then_some(map)
    });
    let loaded = from_spec.is_some();
    let mut map = from_spec.unwrap_or_else(|| {
        [
            ("title", "string", false),
            ("body_markdown", "string", false),
            ("published", "boolean", false),
            ("series", "string", true),
            ("main_image", "string", true),
            ("canonical_url", "string", true),
            ("description", "string", false),
            ("organization_id", "integer", true),
        ]
        .into_iter()
        .map(|(k, t, n)| (k.to_owned(), FieldType { kind: t.to_owned(), nullable: n }))
        .collect()
    });
    // The spec says string; the controller permits `tags: []` and drops a scalar.
    map.insert("tags".into(), FieldType { kind: "array<string>".into(), nullable: false });
    (map, loaded)
}

fn type_ok(v: &Value, t: &FieldType) -> bool {
    match (v, t.kind.as_str()) {
        (Value::Null, _) => t.nullable,
        (Value::String(_), "string") | (Value::Bool(_), "boolean") => true,
        (Value::Number(n), "integer") => n.is_i64() || n.is_u64(),
        (Value::Number(_), "number") => true,
        (Value::Array(items), "array<string>") => items.iter().all(Value::is_string),
        (Value::Array(_), "array") | (Value::Object(_), "object") => true,
        _ => false,
    }
}

fn type_name(t: &FieldType) -> String {
    let kind = match t.kind.as_str() {
        "array<string>" => "array of strings",
        k => k,
    };
    if t.nullable { format!("{kind} or null") } else { kind.to_owned() }
}

impl fake::Platform for Devto {
    type Route = Route;
    type Fault = Fault;
    type Entry = FakeRequest;
    const BASE_PATH: &'static str = "/api";

    fn route(&self, req: &Incoming) -> Route {
        route_of(&req.method, &req.segments())
    }

    fn fault(&mut self, fault: Fault) -> Effect {
        match fault {
            Fault::RateLimited { retry_after_secs } => {
                let secs = retry_after_secs.unwrap_or(30);
                let mut e = ApiErr::new(429, format!("Rate limit reached, try again in {secs} seconds"));
                e.retry_after = retry_after_secs;
                Effect::Reply(e.response())
            }
            _ => Effect::Proceed,
        }
    }

    fn answer(&mut self, route: Route, req: &Incoming) -> Response {
        let is_json = req.content_type().to_ascii_lowercase().starts_with("application/json");
        let body = if is_json { req.json() } else { None };
        let result = self
            .check_headers(&req.headers)
            .and_then(|()| self.dispatch(route, &req.segments(), &req.query(), body.as_ref()));
        match result {
            Ok((status, v)) => fake::json(status, &v),
            Err(Reply::Api(e)) => e.response(),
            Err(Reply::Throttled) => {
                let mut resp = raw(429, "text/plain", "Retry later\n".into());
                resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(1u64));
                resp
            }
        }
    }
}

enum Reply {
    Api(ApiErr),
    /// rack-attack's plain-text throttle reply.
    Throttled,
}

impl From<ApiErr> for Reply {
    fn from(e: ApiErr) -> Self {
        Self::Api(e)
    }
}

fn route_of(method: &Method, segs: &[&str]) -> Route {
    match (method.as_str(), segs) {
        ("POST", ["api", "articles"]) => Route::Create,
        ("PUT", ["api", "articles", _]) => Route::Update,
        ("GET", ["api", "articles", "me"]) | ("GET", ["api", "articles", "me", _]) => Route::ListMine,
        ("GET", ["api", "articles", _]) => Route::Show,
        ("GET", ["api", "users", "me"]) => Route::Me,
        _ => Route::Any,
    }
}

/// Permitted `article` fields of one request. `Some(None)` is an explicit null.
#[derive(Debug, Default)]
struct Fields {
    title: Option<String>,
    body_markdown: Option<String>,
    published: Option<bool>,
    series: Option<Option<String>>,
    main_image: Option<Option<String>>,
    canonical_url: Option<Option<String>>,
    description: Option<String>,
    tags: Option<Vec<String>>,
    organization_id: Option<Option<u64>>,
}

impl Devto {
    fn check_headers(&self, headers: &HeaderMap) -> Result<(), Reply> {
        let key = headers.get("api-key").and_then(|v| v.to_str().ok());
        if key != Some(self.cfg.api_key.as_str()) {
            return Err(ApiErr::new(401, "unauthorized").into());
        }
        let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or_default();
        if !accept.contains(ACCEPT_V1) {
            return Err(ApiErr::new(406, format!("not acceptable: send `Accept: {ACCEPT_V1}` for API v1")).into());
        }
        Ok(())
    }

    fn dispatch(
        &mut self,
        route: Route,
        segs: &[&str],
        query: &HashMap<String, String>,
        body: Option<&Value>,
    ) -> Result<(u16, Value), Reply> {
        match route {
            Route::Create => {
                self.throttle_write()?;
                let fields = self.permitted(body)?;
                self.rate_limit(true)?;
                let mut e = Vec::new();
                if fields.title.as_deref().is_none_or(|t| t.trim().is_empty()) {
                    e.push("Title can't be blank".to_owned());
                }
                self.validate(&fields, None, &mut e);
                if !e.is_empty() {
                    return Err(ApiErr::unprocessable(sentence(&e)).into());
                }
                let id = self.insert(&fields);
                self.creates.push(Instant::now());
                let a = self.articles.iter().find(|a| a.id == id).expect("just inserted");
                Ok((201, self.show_json(a)))
            }
            Route::Update => {
                self.throttle_write()?;
                // `@user.articles.find`: another user's article is not found.
                let Some(idx) = segs[2]
                    .parse::<u64>()
                    .ok()
                    .and_then(|id| self.articles.iter().position(|a| a.id == id && a.author.is_none()))
                else {
                    return Err(ApiErr::new(404, "not found").into());
                };
                let fields = self.permitted(body)?;
                self.rate_limit(false)?;
                let id = self.articles[idx].id;
                let mut e = Vec::new();
                if fields.title.as_deref().is_some_and(|t| t.trim().is_empty()) {
                    e.push("Title can't be blank".to_owned());
                }
                self.validate(&fields, Some(id), &mut e);
                if !e.is_empty() {
                    return Err(ApiErr::unprocessable(sentence(&e)).into());
                }
                self.updates.push(Instant::now());
                let now = self.now_unix();
                let org_ok = |o: u64| self.cfg.organizations.contains(&o);
                let org = fields.organization_id.map(|o| o.filter(|o| org_ok(*o)));
                let a = &mut self.articles[idx];
                if let Some(t) = fields.title {
                    a.title = t;
                }
                if let Some(b) = fields.body_markdown {
                    a.body_markdown = b;
                }
                if let Some(p) = fields.published {
                    if p && a.published_at.is_none() {
                        a.published_at = Some(now);
                    }
                    a.published = p;
                }
                if let Some(s) = fields.series {
                    a.series = s;
                }
                if let Some(m) = fields.main_image {
                    a.main_image = m;
                }
                if let Some(c) = fields.canonical_url {
                    a.canonical_url = c;
                }
                if let Some(d) = fields.description {
                    a.description = Some(d);
                }
                if let Some(t) = fields.tags {
                    a.tags = t;
                }
                if let Some(o) = org {
                    a.organization_id = o;
                }
                a.edited_at = Some(now);
                let a = self.articles[idx].clone();
                Ok((200, self.show_json(&a)))
            }
            Route::ListMine => {
                let which = segs.get(3).copied().unwrap_or("published");
                let mut items: Vec<&FakeArticle> = match which {
                    "all" => self.articles.iter().filter(|a| a.author.is_none()).collect(),
                    "published" => self.articles.iter().filter(|a| a.author.is_none() && a.published).collect(),
                    "unpublished" => self.articles.iter().filter(|a| a.author.is_none() && !a.published).collect(),
                    _ => return Err(ApiErr::new(404, "not found").into()),
                };
                // Drafts first, newest created first; then published, newest published first.
                items.sort_by_key(|a| {
                    (a.published, std::cmp::Reverse(a.published_at.unwrap_or(0)), std::cmp::Reverse(a.seq))
                });
                let page = query.get("page").and_then(|p| p.parse::<usize>().ok()).unwrap_or(1).max(1);
                let per_page = query.get("per_page").and_then(|p| p.parse::<usize>().ok()).unwrap_or(30).clamp(1, 1000);
                let start = (page - 1).saturating_mul(per_page).min(items.len());
                let end = (start + per_page).min(items.len());
                let data: Vec<Value> = items[start..end].iter().map(|a| self.me_json(a)).collect();
                Ok((200, Value::Array(data)))
            }
            Route::Show => {
                let found = segs[2].parse::<u64>().ok().and_then(|id| self.articles.iter().find(|a| a.id == id));
                match found {
                    Some(a) if a.published => Ok((200, self.show_json(a))),
                    _ => Err(ApiErr::new(404, "not found").into()),
                }
            }
            // The key owner (Forem's `User` schema).
            Route::Me => Ok((
                200,
                json!({
                    "type_of": "user",
                    "id": 4_242,
                    "username": self.cfg.username,
                    "name": "Crier Tester",
                    "twitter_username": null,
                    "github_username": self.cfg.username,
                    "summary": null,
                    "location": null,
                    "website_url": null,
                    "joined_at": "Jan 1, 2026",
                    "profile_image": format!("{}/uploads/user/profile_image/4242/me.png", self.cfg.host),
                }),
            )),
            Route::Any => Err(ApiErr::new(404, "not found").into()),
        }
    }

    /// rack-attack: one write per `write_throttle` per key.
    fn throttle_write(&mut self) -> Result<(), Reply> {
        let now = Instant::now();
        if let (Some(min), Some(last)) = (self.cfg.write_throttle, self.last_write) {
            if now.duration_since(last) < min {
                return Err(Reply::Throttled);
            }
        }
        self.last_write = Some(now);
        Ok(())
    }

    /// Forem's per-user content limits.
    fn rate_limit(&mut self, create: bool) -> Result<(), Reply> {
        let window = self.cfg.rate_window;
        let (list, limit) = if create {
            (&mut self.creates, self.cfg.create_limit)
        } else {
            (&mut self.updates, self.cfg.update_limit)
        };
        list.retain(|t| t.elapsed() < window);
        if list.len() >= limit {
            let secs = self.cfg.rate_retry_after_secs;
            let mut e = ApiErr::new(429, format!("Rate limit reached, try again in {secs} seconds"));
            e.retry_after = Some(secs);
            return Err(e.into());
        }
        Ok(())
    }

    /// The `{"article": {…}}` wrapper and the field types; unknown fields are dropped.
    fn permitted(&self, body: Option<&Value>) -> Result<Fields, Reply> {
        let missing = || ApiErr::unprocessable("param is missing or the value is empty: article");
        let article = match body.and_then(|b| b.get("article")) {
            None | Some(Value::Null) => return Err(missing().into()),
            Some(Value::Object(m)) if m.is_empty() => return Err(missing().into()),
            Some(Value::String(s)) if s.is_empty() => return Err(missing().into()),
            Some(Value::Object(m)) => m,
            Some(other) => {
                let class = match other {
                    Value::String(_) => "String",
                    Value::Array(_) => "Array",
                    Value::Bool(_) => "TrueClass",
                    Value::Number(n) if n.is_f64() => "Float",
                    _ => "Integer",
                };
                return Err(ApiErr::unprocessable(format!(
                    "article param must be a JSON object. You provided article as a {class}"
                ))
                .into());
            }
        };
        let mut bad = Vec::new();
        for (k, v) in article {
            if let Some(t) = self.schema.get(k) {
                if !type_ok(v, t) {
                    bad.push(format!("article.{k} must be {}", type_name(t)));
                }
            }
        }
        if !bad.is_empty() {
            return Err(ApiErr::unprocessable(sentence(&bad)).into());
        }
        let s = |k: &str| article.get(k).and_then(Value::as_str).map(str::to_owned);
        let ns = |k: &str| article.get(k).map(|v| v.as_str().map(str::to_owned));
        Ok(Fields {
            title: s("title"),
            body_markdown: s("body_markdown"),
            published: article.get("published").and_then(Value::as_bool),
            series: ns("series"),
            main_image: ns("main_image"),
            canonical_url: ns("canonical_url"),
            description: s("description"),
            tags: article.get("tags").and_then(Value::as_array).map(|a| {
                a.iter().filter_map(Value::as_str).map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty()).collect()
            }),
            organization_id: article.get("organization_id").map(Value::as_u64),
        })
    }

    /// Model validations of the fields being set (`own` = the article being updated).
    fn validate(&self, f: &Fields, own: Option<u64>, e: &mut Vec<String>) {
        let current = own.and_then(|id| self.articles.iter().find(|a| a.id == id));
        if let Some(t) = &f.title {
            if t.chars().count() > 128 {
                e.push("Title is too long (maximum is 128 characters)".into());
            }
        }
        if let Some(b) = &f.body_markdown {
            if b.len() > MAX_BODY_BYTES {
                e.push("Body markdown is too long (maximum is 800 KB)".into());
            }
        }
        let title = f.title.as_deref().or(current.map(|a| a.title.as_str())).unwrap_or_default();
        let body = f.body_markdown.as_deref().or(current.map(|a| a.body_markdown.as_str())).unwrap_or_default();
        if self.articles.iter().any(|a| Some(a.id) != own && a.title == title && a.body_markdown == body) {
            e.push("Body markdown has already been taken".into());
        }
        if let Some(tags) = &f.tags {
            if tags.len() > 4 {
                e.push("Tag list exceed the maximum of 4 tags".into());
            }
            for t in tags {
                if t.chars().count() > 30 {
                    e.push(format!("Tag \"{t}\" is too long (maximum is 30 characters)"));
                }
                if !t.chars().all(char::is_alphanumeric) {
                    e.push(format!("Tag \"{t}\" contains non-alphanumeric or prohibited unicode characters"));
                }
            }
        }
        if let Some(Some(m)) = &f.main_image {
            if !m.is_empty() && !is_http_url(m) {
                e.push("Main image is not a valid URL".into());
            }
        }
        if let Some(Some(c)) = &f.canonical_url {
            if !c.is_empty() {
                if !is_http_url(c) {
                    e.push("Canonical url must not have spaces and must be a valid URL".into());
                } else if self.articles.iter().any(|a| Some(a.id) != own && a.canonical_url.as_deref() == Some(c)) {
                    e.push("Canonical url has already been taken".into());
                }
            }
        }
    }

    fn insert(&mut self, f: &Fields) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let seq = self.next_seq;
        self.next_seq += 1;
        let now = self.now_unix();
        let title = f.title.clone().unwrap_or_default();
        let slug = format!("{}-{}", slugify(&title), self.suffix());
        let published = f.published.unwrap_or(false);
        let org = f.organization_id.flatten().filter(|o| self.cfg.organizations.contains(o));
        self.articles.push(FakeArticle {
            id,
            url: format!("{}/{}/{slug}", self.cfg.host, self.cfg.username),
            slug,
            title,
            body_markdown: f.body_markdown.clone().unwrap_or_default(),
            published,
            tags: f.tags.clone().unwrap_or_default(),
            series: f.series.clone().flatten(),
            main_image: f.main_image.clone().flatten().filter(|m| !m.is_empty()),
            canonical_url: f.canonical_url.clone().flatten().filter(|c| !c.is_empty()),
            description: f.description.clone(),
            organization_id: org,
            created_at: now,
            published_at: published.then_some(now),
            edited_at: None,
            author: None,
            seq,
        });
        id
    }

    fn now_unix(&self) -> u64 {
        self.clock.now_unix()
    }

    /// Four lower-case alphanumerics, as dev.to appends to slugs.
    fn suffix(&mut self) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        self.rng.string(ALPHABET, 4)
    }

    fn user_json(&self, a: &FakeArticle) -> Value {
        let u = a.author.as_ref().unwrap_or(&self.cfg.username);
        json!({
            "name": "Crier Tester",
            "username": u,
            "twitter_username": null,
            "github_username": u,
            "user_id": self.cfg.user_id,
            "website_url": null,
            "profile_image": format!("/uploads/user/profile_image/{}/avatar.png", self.cfg.user_id),
            "profile_image_90": format!("/uploads/user/profile_image/{}/avatar.png", self.cfg.user_id),
        })
    }

    fn description(a: &FakeArticle) -> String {
        a.description.clone().unwrap_or_else(|| a.body_markdown.chars().take(100).collect::<String>().trim().to_owned())
    }

    /// The single-article ("show") representation: `tag_list` a string, `tags` an array.
    fn show_json(&self, a: &FakeArticle) -> Value {
        let published = a.published_at.map(rfc3339);
        json!({
            "type_of": "article",
            "id": a.id,
            "title": a.title,
            "description": Self::description(a),
            "readable_publish_date": published.as_ref().map(|p| p[..10].to_owned()),
            "slug": a.slug,
            "path": format!("/{}/{}", a.author.as_ref().unwrap_or(&self.cfg.username), a.slug),
            "url": a.url,
            "comments_count": self.counts.get(&a.id).map_or(0, |c| c.2),
            "public_reactions_count": self.counts.get(&a.id).map_or(0, |c| c.1),
            "collection_id": a.series.as_ref().map(|_| 11),
            "published_timestamp": published.clone().unwrap_or_default(),
            "positive_reactions_count": 0,
            "cover_image": a.main_image,
            "social_image": a.main_image.clone().unwrap_or_else(|| format!("{}/social/{}.png", self.cfg.host, a.id)),
            "canonical_url": a.canonical_url.clone().unwrap_or_else(|| a.url.clone()),
            "created_at": rfc3339(a.created_at),
            "edited_at": a.edited_at.map(rfc3339),
            "crossposted_at": null,
            "published_at": published,
            "last_comment_at": published,
            "reading_time_minutes": (a.body_markdown.split_whitespace().count() / 275).max(1),
            "tag_list": a.tags.join(", "),
            "tags": a.tags,
            "body_html": format!("<p>{}</p>\n\n", html_escape(&a.body_markdown)),
            "body_markdown": a.body_markdown,
            "user": self.user_json(a),
        })
    }

    /// An item of `/articles/me/*`: `tag_list` an array, plus `published` and the body.
    fn me_json(&self, a: &FakeArticle) -> Value {
        let published = a.published_at.filter(|_| a.published).map(rfc3339);
        json!({
            "type_of": "article",
            "id": a.id,
            "title": a.title,
            "description": Self::description(a),
            "published": a.published,
            "published_at": published,
            "slug": a.slug,
            "path": format!("/{}/{}", a.author.as_ref().unwrap_or(&self.cfg.username), a.slug),
            "url": a.url,
            "comments_count": self.counts.get(&a.id).map_or(0, |c| c.2),
            "public_reactions_count": self.counts.get(&a.id).map_or(0, |c| c.1),
            "page_views_count": self.counts.get(&a.id).map_or(0, |c| c.0),
            "published_timestamp": published.clone().unwrap_or_default(),
            "body_markdown": a.body_markdown,
            "positive_reactions_count": 0,
            "cover_image": a.main_image,
            "tag_list": a.tags,
            "tags": a.tags.join(", "),
            "canonical_url": a.canonical_url.clone().unwrap_or_else(|| a.url.clone()),
            "reading_time_minutes": (a.body_markdown.split_whitespace().count() / 275).max(1),
            "user": self.user_json(a),
        })
    }
}

fn sentence(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn is_http_url(s: &str) -> bool {
    url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        && !s.contains(char::is_whitespace)
}

/// A slug as dev.to makes them: ASCII words joined by `-`, at most 60 characters (dev.to
/// transliterates accented letters; the fake leaves every non-ASCII letter out).
fn slugify(title: &str) -> String {
    let lower = title.to_ascii_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let slug = words.join("-");
    if slug.is_empty() { "untitled".to_owned() } else { slug.chars().take(60).collect() }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn rfc3339(unix: u64) -> String {
    chrono::DateTime::from_timestamp(unix as i64, 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}
