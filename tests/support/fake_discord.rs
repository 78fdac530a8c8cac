//! A stateful fake of one Discord channel webhook (API v10) for tests.
//!
//! Serves, under `/api/webhooks/{id}/{token}`, what a webhook has: `GET` (the webhook),
//! `POST ?wait=true` (execute: JSON, or multipart with `payload_json` and `files[n]`), and
//! `GET`/`PATCH`/`DELETE /messages/{id}` (`?thread_id=` for a message in a forum post's
//! thread). It enforces what Discord enforces on them (`shared/reference/platforms.md` §10):
//!
//! - the webhook id and token (404 `Unknown Webhook` 10015, 401 `Invalid Webhook Token`
//!   50027), errors as `{"message", "code"}`, a 400 `Invalid Form Body` (50035) with
//!   Discord's nested `errors` for content over 2,000 characters or a message with neither
//!   content nor files;
//! - `wait=true`, or the answer is `204 No Content` (the message is posted, its id never told);
//! - a forum channel (`forum: true`) takes a message only with `thread_name` (a new post,
//!   whose thread id is the message id) or `thread_id` (code 220001 otherwise); a message
//!   in a thread is found only with its `thread_id` (10008 `Unknown Message` otherwise);
//! - files: `attachments[i].id` names `files[i]`, at most 10, at most 10 MiB each (413,
//!   40005), `description` is the alt text; an edit's `attachments` is every attachment
//!   the message keeps (new files are added to them);
//! - mentions: `allowed_mentions` absent means Discord's default for webhooks (user
//!   mentions ping); a message that would ping (`@everyone`, `@here`, `<@…>`) is counted in
//!   [`FakeDiscord::pings`];
//! - rate limits: `X-RateLimit-*` on every response; [`Fault::RateLimited`] answers 429 with
//!   `retry_after` in the body and `Retry-After` / `X-RateLimit-Reset-After` headers.
//!
//! Every request is also checked against Discord's official OpenAPI definition
//! (`tests/support/specs/discord-webhooks-openapi.json`, the webhook paths of
//! `shared/specs/discord-openapi.json`); [`FakeDiscord::violations`] lists what broke it.
//! The request log keeps the path with the token replaced by `{token}`.

// Each test binary uses a different subset of this module.
#![allow(dead_code)]

#[allow(clippy::duplicate_mod)]
#[path = "fake.rs"]
mod fake;
#[allow(clippy::duplicate_mod)]
#[path = "openapi.rs"]
mod openapi;

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderValue, Method};
use axum::response::Response;
use serde_json::{Value, json};

use fake::{Effect, Incoming};

const SPEC_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/specs/discord-webhooks-openapi.json");
const MAX_CONTENT: usize = 2000;
const MAX_FILES: usize = 10;
const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
const SUPPRESS_EMBEDS: u64 = 1 << 2;

fake::config! {
    webhook_id: String = "1180000000000000042".into(),
    token: String = "dcFakeWebhookToken_0123456789abcdefSECRET".into(),
    guild_id: String = "613425648685547541".into(),
    channel_id: String = "697138785317814292".into(),
    /// The webhook's channel is a forum: messages need `thread_name` or `thread_id`.
    forum: bool = false;
    drop_hang = Duration::from_secs(5);
}

/// Routes a fault can be attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Route {
    /// `GET {webhook}`.
    Webhook,
    /// `POST {webhook}`, the first message.
    Execute,
    /// `POST {webhook}` once a message is in the channel (the later messages of a run).
    ExecuteLater,
    /// `GET {webhook}/messages/{id}`.
    GetMessage,
    /// `PATCH {webhook}/messages/{id}`.
    EditMessage,
    /// `DELETE {webhook}/messages/{id}`.
    DeleteMessage,
    /// Anything else.
    Other,
    /// Whatever request comes next.
    #[default]
    Any,
}

fake::faults! {
    /// HTTP 429 with Discord's body (`retry_after` seconds), `Retry-After` and
    /// `X-RateLimit-Reset-After`.
    RateLimited {
        retry_after: f64,
    },
}

/// An attachment: (attachment id, file name, size, description).
pub(crate) type Attached = (String, String, usize, Option<String>);

/// A message as the fake stores it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FakeMessage {
    pub(crate) id: String,
    /// The webhook's channel, or the thread of a forum post.
    pub(crate) channel_id: String,
    pub(crate) content: String,
    pub(crate) username: Option<String>,
    pub(crate) avatar_url: Option<String>,
    pub(crate) flags: u64,
    pub(crate) attachments: Vec<Attached>,
    /// The forum post this message started.
    pub(crate) thread_name: Option<String>,
    pub(crate) edited: bool,
    pub(crate) deleted: bool,
    /// Reactions by users, as `stats` reads them.
    pub(crate) reactions: Vec<(String, u64)>,
    pub(crate) timestamp: String,
    /// When the fake stored it (the reply leaves right after).
    pub(crate) stored_at: std::time::Instant,
}

/// One request as the kit logs it ([`fake::FakeRequest`]), but with the token in the path
/// replaced by `{token}` and, for a multipart body, its `payload_json` as the body.
#[derive(Debug, Clone)]
pub(crate) struct DiscordRequest(fake::FakeRequest);

impl std::ops::Deref for DiscordRequest {
    type Target = fake::FakeRequest;

    fn deref(&self) -> &fake::FakeRequest {
        &self.0
    }
}

impl From<&Incoming> for DiscordRequest {
    fn from(req: &Incoming) -> Self {
        let mut segs: Vec<String> = req.segments().iter().map(|s| (*s).to_owned()).collect();
        if let Some(i) = segs.iter().position(|s| s == "webhooks") {
            if let Some(t) = segs.get_mut(i + 2) {
                *t = "{token}".into();
            }
        }
        let mut entry = fake::FakeRequest::from(req);
        entry.path = format!("/{}", segs.join("/"));
        if let Some(payload) = req.form().iter().find(|f| f.name == "payload_json") {
            entry.body = serde_json::from_slice(&payload.data).ok();
        }
        Self(entry)
    }
}

/// The fake's state.
pub(crate) struct Discord {
    cfg: FakeConfig,
    spec: Arc<openapi::Spec>,
    next_id: u64,
    messages: Vec<FakeMessage>,
    /// Forum posts' thread ids.
    threads: Vec<String>,
    violations: Vec<String>,
    pings: usize,
}

/// The state a fake starts in.
impl From<FakeConfig> for Discord {
    fn from(cfg: FakeConfig) -> Self {
        Discord {
            cfg,
            spec: Arc::new(openapi::Spec::load(SPEC_PATH)),
            next_id: 1_182_000_000_000_000_000,
            messages: Vec::new(),
            threads: Vec::new(),
            violations: Vec::new(),
            pings: 0,
        }
    }
}

pub(crate) type FakeDiscord = fake::Fake<Discord>;

fake::config_getters!(FakeDiscord { token, guild_id, channel_id, webhook_id });

impl FakeDiscord {
    /// The webhook URL crier is given (`DISCORD_WEBHOOK_URL`).
    pub(crate) fn webhook_url(&self) -> String {
        let g = self.lock();
        format!("{}/api/webhooks/{}/{}", self.origin(), g.cfg.webhook_id, g.cfg.token)
    }

    /// Messages in the channel (deleted ones left out).
    pub(crate) fn messages(&self) -> Vec<FakeMessage> {
        self.lock().messages.iter().filter(|m| !m.deleted).cloned().collect()
    }

    /// Every message ever posted, deleted ones included.
    pub(crate) fn all_messages(&self) -> Vec<FakeMessage> {
        self.lock().messages.clone()
    }

    /// Requests that broke the official OpenAPI definition.
    pub(crate) fn violations(&self) -> Vec<String> {
        self.lock().violations.clone()
    }

    /// Messages that would have pinged someone.
    pub(crate) fn pings(&self) -> usize {
        self.lock().pings
    }

    /// Someone reacts to message `id` with `emoji`.
    pub(crate) fn react(&self, id: &str, emoji: &str, count: u64) {
        let mut g = self.lock();
        if let Some(m) = g.messages.iter_mut().find(|m| m.id == id) {
            m.reactions.push((emoji.to_owned(), count));
        }
    }

    /// Someone edits message `id` in the app.
    pub(crate) fn edit_in_app(&self, id: &str, content: &str) {
        let mut g = self.lock();
        if let Some(m) = g.messages.iter_mut().find(|m| m.id == id) {
            m.content = content.to_owned();
            m.edited = true;
        }
    }

    /// Someone deletes message `id` in the app.
    pub(crate) fn delete_in_app(&self, id: &str) {
        let mut g = self.lock();
        if let Some(m) = g.messages.iter_mut().find(|m| m.id == id) {
            m.deleted = true;
        }
    }

    /// Checks a request the test builds against the definition (to show the check bites).
    pub(crate) fn check(&self, method: &str, path: &str, query: &[(&str, &str)], body: Option<Value>) -> Vec<String> {
        let spec = self.lock().spec.clone();
        spec.check(&openapi::Checked {
            method,
            path,
            query: query.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            content_type: body.as_ref().map(|_| "application/json"),
            body,
        })
    }
}

/// A Discord error reply.
struct ApiErr {
    status: u16,
    code: u64,
    message: String,
    errors: Option<Value>,
}

impl ApiErr {
    fn new(status: u16, code: u64, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), errors: None }
    }

    /// 400 Invalid Form Body with one field error.
    fn form(field: &str, code: &str, message: &str) -> Self {
        let errors = json!({ field: { "_errors": [{ "code": code, "message": message }] } });
        Self { errors: Some(errors), ..Self::new(400, 50035, "Invalid Form Body") }
    }

    fn unknown_message() -> Self {
        Self::new(404, 10008, "Unknown Message")
    }

    fn response(&self) -> Response {
        let mut body = json!({ "message": self.message, "code": self.code });
        if let Some(e) = &self.errors {
            body["errors"] = e.clone();
        }
        fake::json(self.status, &body)
    }
}

fn rate_limited(retry_after: f64) -> Response {
    let mut resp = fake::json(
        429,
        &json!({"message": "You are being rate limited.", "retry_after": retry_after, "global": false}),
    );
    let h = resp.headers_mut();
    for (name, value) in [
        ("retry-after", format!("{}", retry_after.ceil() as u64)),
        ("x-ratelimit-reset-after", format!("{retry_after:.3}")),
        ("x-ratelimit-scope", "user".to_owned()),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
    resp
}

/// What a request carries: its JSON (or `payload_json`) and its files (field, name, bytes).
struct Payload {
    json: Value,
    files: Vec<(String, String, Vec<u8>)>,
    multipart: bool,
}

fn payload(req: &Incoming) -> Result<Payload, ApiErr> {
    let form = req.form();
    if form.is_empty() {
        let json = if req.body.is_empty() {
            json!({})
        } else {
            req.json().ok_or_else(|| ApiErr::new(400, 50109, "The request body contains invalid JSON."))?
        };
        return Ok(Payload { json, files: Vec::new(), multipart: false });
    }
    let json = form
        .iter()
        .find(|f| f.name == "payload_json")
        .map(|f| serde_json::from_slice(&f.data))
        .transpose()
        .map_err(|_| ApiErr::new(400, 50109, "The request body contains invalid JSON."))?
        .unwrap_or_else(|| json!({}));
    let files = form
        .iter()
        .filter(|f| f.file_name.is_some())
        .map(|f| (f.name.clone(), f.file_name.clone().unwrap_or_default(), f.data.clone()))
        .collect();
    Ok(Payload { json, files, multipart: true })
}

impl Discord {
    fn next_id(&mut self) -> String {
        self.next_id += 1;
        self.next_id.to_string()
    }

    /// Records where `req` breaks the definition.
    fn check_spec(&mut self, req: &Incoming) {
        let ctype = req.content_type().split(';').next().unwrap_or("").trim().to_owned();
        let entry = DiscordRequest::from(req);
        let query = req
            .uri
            .query()
            .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        // The definition's paths start after `/api/v10` (`/api` here).
        let path = req.path().strip_prefix("/api").unwrap_or(req.path()).to_owned();
        let problems = self.spec.check(&openapi::Checked {
            method: req.method.as_str(),
            path: &path,
            query,
            content_type: (!req.body.is_empty()).then_some(ctype.as_str()),
            body: if req.body.is_empty() { None } else { entry.body.clone().or(Some(Value::Null)) },
        });
        let token = self.cfg.token.clone();
        self.violations.extend(problems.into_iter().map(|p| p.replace(&token, "{token}")));
    }

    fn message_json(&self, m: &FakeMessage) -> Value {
        let mut v = json!({
            "id": m.id,
            "type": 0,
            "channel_id": m.channel_id,
            "content": m.content,
            "author": {"id": self.cfg.webhook_id, "username": m.username.clone().unwrap_or_else(|| "crier".into()), "bot": true},
            "timestamp": m.timestamp,
            "edited_timestamp": if m.edited { Value::from("2026-11-28T11:00:00.000000+00:00") } else { Value::Null },
            "flags": m.flags,
            "webhook_id": self.cfg.webhook_id,
            "attachments": m.attachments.iter().map(|(id, name, size, d)| json!({
                "id": id, "filename": name, "size": size, "description": d,
                "url": format!("https://cdn.discordapp.com/attachments/{}/{id}/{name}", m.channel_id),
            })).collect::<Vec<_>>(),
            "embeds": [],
            "mentions": [],
            "pinned": false,
            "tts": false,
        });
        if !m.reactions.is_empty() {
            v["reactions"] = m
                .reactions
                .iter()
                .map(|(e, n)| json!({"count": n, "me": false, "emoji": {"id": null, "name": e}}))
                .collect();
        }
        v
    }

    /// The message `id` as a webhook call sees it: in the channel, or in the thread named.
    fn find(&self, id: &str, thread: Option<&str>) -> Result<usize, ApiErr> {
        let i = self.messages.iter().position(|m| m.id == id && !m.deleted).ok_or_else(ApiErr::unknown_message)?;
        let where_ = thread.unwrap_or(&self.cfg.channel_id);
        if self.messages[i].channel_id != where_ {
            return Err(ApiErr::unknown_message());
        }
        Ok(i)
    }

    /// Files against `attachments`: each slot names a file by index.
    fn attach(&mut self, p: &Payload) -> Result<Vec<Attached>, ApiErr> {
        if p.files.len() > MAX_FILES {
            return Err(ApiErr::form("files", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length."));
        }
        let slots = p.json["attachments"].as_array().cloned().unwrap_or_default();
        let mut out = Vec::new();
        for (field, name, bytes) in &p.files {
            if bytes.len() > MAX_FILE_BYTES {
                return Err(ApiErr::new(413, 40005, "Request entity too large"));
            }
            let index =
                field.strip_prefix("files[").and_then(|r| r.strip_suffix(']')).and_then(|n| n.parse::<u64>().ok());
            let Some(index) = index else {
                return Err(ApiErr::form("files", "INVALID", "File field names must be files[n]."));
            };
            let slot =
                slots.iter().find(|s| s["id"].as_u64() == Some(index) || s["id"].as_str() == Some(&index.to_string()));
            let description = slot.and_then(|s| s["description"].as_str()).map(str::to_owned);
            let id = self.next_id();
            out.push((id, name.clone(), bytes.len(), description));
        }
        Ok(out)
    }

    fn pings(content: &str, mentions: &Value) -> bool {
        let would = content.contains("@everyone") || content.contains("@here") || content.contains("<@");
        let muted = mentions.get("parse").and_then(Value::as_array).is_some_and(|p| p.is_empty());
        would && !muted
    }

    fn execute(&mut self, req: &Incoming) -> Result<Option<Value>, ApiErr> {
        let q = req.query();
        let p = payload(req)?;
        let content = p.json["content"].as_str().unwrap_or("").to_owned();
        if content.chars().count() > MAX_CONTENT {
            return Err(ApiErr::form("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length."));
        }
        if content.trim().is_empty() && p.files.is_empty() {
            return Err(ApiErr::new(400, 50006, "Cannot send an empty message"));
        }
        let thread_name = p.json["thread_name"].as_str().map(str::to_owned);
        let channel = match (q.get("thread_id"), &thread_name) {
            (Some(t), _) => {
                if !self.threads.contains(t) {
                    return Err(ApiErr::new(400, 10003, "Unknown Channel"));
                }
                t.clone()
            }
            (None, Some(_)) if self.cfg.forum => String::new(), // the new thread: the message's id
            (None, _) if self.cfg.forum => {
                return Err(ApiErr::new(
                    400,
                    220001,
                    "Webhooks posted to forum channels must have a thread_name or thread_id",
                ));
            }
            (None, _) => self.cfg.channel_id.clone(),
        };
        let attachments = self.attach(&p)?;
        if Self::pings(&content, &p.json["allowed_mentions"]) {
            self.pings += 1;
        }
        let id = self.next_id();
        let channel_id = if channel.is_empty() {
            self.threads.push(id.clone());
            id.clone()
        } else {
            channel
        };
        let m = FakeMessage {
            id,
            channel_id,
            content,
            username: p.json["username"].as_str().map(str::to_owned),
            avatar_url: p.json["avatar_url"].as_str().map(str::to_owned),
            flags: p.json["flags"].as_u64().unwrap_or(0) & SUPPRESS_EMBEDS,
            attachments,
            thread_name: if self.cfg.forum { thread_name } else { None },
            edited: false,
            deleted: false,
            reactions: Vec::new(),
            timestamp: "2026-11-28T10:00:00.000000+00:00".into(),
            stored_at: std::time::Instant::now(),
        };
        let json = self.message_json(&m);
        self.messages.push(m);
        // Without `wait=true` Discord answers 204: the message is there, its id untold.
        Ok((q.get("wait").map(String::as_str) == Some("true")).then_some(json))
    }

    fn edit(&mut self, id: &str, req: &Incoming) -> Result<Value, ApiErr> {
        let q = req.query();
        let i = self.find(id, q.get("thread_id").map(String::as_str))?;
        let p = payload(req)?;
        if let Some(c) = p.json.get("content").and_then(Value::as_str) {
            if c.chars().count() > MAX_CONTENT {
                return Err(ApiErr::form("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length."));
            }
            if Self::pings(c, &p.json["allowed_mentions"]) {
                self.pings += 1;
            }
        }
        let new_files = self.attach(&p)?;
        let m = &mut self.messages[i];
        if let Some(c) = p.json.get("content").and_then(Value::as_str) {
            m.content = c.to_owned();
        }
        if let Some(f) = p.json.get("flags").and_then(Value::as_u64) {
            m.flags = f & SUPPRESS_EMBEDS;
        }
        if let Some(keep) = p.json.get("attachments").and_then(Value::as_array) {
            // v10: the attachments listed by an existing id stay; the rest go; new files are added.
            let kept: Vec<&str> = keep.iter().filter_map(|s| s["id"].as_str()).collect();
            m.attachments.retain(|(aid, ..)| kept.contains(&aid.as_str()));
            m.attachments.extend(new_files);
        } else if p.multipart {
            m.attachments.extend(new_files);
        }
        m.edited = true;
        let m = m.clone();
        Ok(self.message_json(&m))
    }
}

impl fake::Platform for Discord {
    type Route = Route;
    type Fault = Fault;
    type Entry = DiscordRequest;
    const BASE_PATH: &'static str = "/api";
    const BODY_LIMIT: usize = 12 * 1024 * 1024;

    fn route(&self, req: &Incoming) -> Route {
        let segs = req.segments();
        match (&req.method, segs.as_slice()) {
            (&Method::GET, ["api", "webhooks", _, _]) => Route::Webhook,
            (&Method::POST, ["api", "webhooks", _, _]) if self.messages.is_empty() => Route::Execute,
            (&Method::POST, ["api", "webhooks", _, _]) => Route::ExecuteLater,
            (&Method::GET, ["api", "webhooks", _, _, "messages", _]) => Route::GetMessage,
            (&Method::PATCH, ["api", "webhooks", _, _, "messages", _]) => Route::EditMessage,
            (&Method::DELETE, ["api", "webhooks", _, _, "messages", _]) => Route::DeleteMessage,
            _ => Route::Other,
        }
    }

    fn fault(&mut self, fault: Fault) -> Effect {
        match fault {
            Fault::RateLimited { retry_after } => Effect::Reply(rate_limited(retry_after)),
            _ => Effect::Proceed,
        }
    }

    fn answer(&mut self, route: Route, req: &Incoming) -> Response {
        self.check_spec(req);
        let segs: Vec<String> = req.segments().iter().map(|s| (*s).to_owned()).collect();
        if segs.len() < 4 || segs[2] != self.cfg.webhook_id {
            return ApiErr::new(404, 10015, "Unknown Webhook").response();
        }
        if segs[3] != self.cfg.token {
            return ApiErr::new(401, 50027, "Invalid Webhook Token").response();
        }
        let thread = req.query().get("thread_id").cloned();
        let result = match route {
            Route::Webhook => Ok((
                200,
                Some(json!({
                    "id": self.cfg.webhook_id, "type": 1, "name": "crier", "avatar": null,
                    "channel_id": self.cfg.channel_id, "guild_id": self.cfg.guild_id,
                    "application_id": null, "token": self.cfg.token,
                })),
            )),
            Route::Execute | Route::ExecuteLater => self.execute(req).map(|v| match v {
                Some(v) => (200, Some(v)),
                None => (204, None),
            }),
            Route::GetMessage => self
                .find(&segs[5], thread.as_deref())
                .map(|i| (200, Some(self.message_json(&self.messages[i].clone())))),
            Route::EditMessage => self.edit(&segs[5].clone(), req).map(|v| (200, Some(v))),
            Route::DeleteMessage => self.find(&segs[5], thread.as_deref()).map(|i| {
                self.messages[i].deleted = true;
                (204, None)
            }),
            Route::Other | Route::Any => Err(ApiErr::new(404, 0, "404: Not Found")),
        };
        match result {
            Ok((status, Some(v))) => fake::json(status, &v),
            Ok((status, None)) => fake::raw(status, "text/plain", String::new()),
            Err(e) => e.response(),
        }
    }

    /// Discord's `X-RateLimit-*` on every response (the webhook's bucket, never exhausted here).
    fn every_response(&self) -> Vec<(&'static str, String)> {
        vec![
            ("x-ratelimit-limit", "5".into()),
            ("x-ratelimit-remaining", "4".into()),
            ("x-ratelimit-reset-after", "2.000".into()),
            ("x-ratelimit-bucket", "a06de0de2b4e5b3a1a3b9e1e7c2bd3f5".into()),
        ]
    }
}
