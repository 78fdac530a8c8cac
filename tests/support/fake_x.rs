//! A stateful fake of the X API v2 for tests, on the fake kit.
//!
//! Serves `GET /2/users/me`, `POST /2/tweets`, `DELETE /2/tweets/:id`, `GET /2/tweets?ids=`
//! and `GET /2/users/:id/tweets`, and enforces what X does (reference §7):
//!
//! - OAuth 1.0a: every request carries an `Authorization: OAuth …` header whose HMAC-SHA1
//!   signature is checked against the four configured secrets (method, URL and query
//!   signed), with a nonce never seen before (else 401, X's problem body);
//! - every request is checked against the official OpenAPI definition
//!   (`tests/support/specs/x-api-v2-openapi.json`): the path and method exist, the query
//!   parameters are declared (`tweet.fields` is read as 2.167's `post.fields`), the JSON
//!   body matches the operation's request schema (`additionalProperties: false` included);
//!   a request that does not conform is a 400 and is listed by [`FakeX::nonconforming`];
//! - text of at most 280 weighted characters (a URL 23, characters above U+10FF and emoji
//!   2), a 403 "duplicate content" for the text of a post the account still has (no id
//!   given), at most one cashtag (`$AAPL`) per post (a 403: "Posts created via the API are
//!   limited to a maximum of 1 cashtag"), a reply to a post that exists, `reply_settings` of X's four, polls of 2–4
//!   options of 1–25 characters open 5–10080 minutes;
//! - the reply rules of 2026 when `refuse_replies` is set (a 403);
//! - the account's timeline newest first, `max_results` 5–100 with `next_token`, links in
//!   returned text shortened to `https://t.co/…` and `&`, `<`, `>` escaped, as X does;
//! - `x-rate-limit-*` headers on every response, and [`Fault::RateLimited`] (429 with a reset).
//!
//! The request log keeps method, path, query and JSON body, never a header.

// Each test binary uses a different subset of this module.
#![allow(dead_code)]

#[allow(clippy::duplicate_mod)]
#[path = "fake.rs"]
mod fake;

use std::collections::{HashMap, HashSet};

use axum::http::Method;
use axum::response::Response;
use base64::Engine;
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};
use sha1::Sha1;
use unicode_segmentation::UnicodeSegmentation;

pub(crate) use fake::FakeRequest;
use fake::{Clock, Effect, Incoming};

/// A copy of shared/specs/x-api-v2-openapi.json (xdevplatform/xdk `specs/openapi.json`, 2.167).
const SPEC_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/specs/x-api-v2-openapi.json");

fake::config! {
    api_key: String = "xFakeConsumerKey0123SECRET".into(),
    api_secret: String = "xFakeConsumerSecret4567SECRET".into(),
    access_token: String = "1234567890-xFakeAccessTokenSECRET".into(),
    access_token_secret: String = "xFakeAccessTokenSecret89SECRET".into(),
    user_id: String = "1234567890".into(),
    username: String = "crier_tester".into(),
    /// Replies are refused (X's 2026 reply rules) once this many replies were accepted.
    refuse_replies_after: Option<usize> = None,
    /// The PIN X shows the user in the PIN flow.
    pin: String = "7654321".into(),
    /// STATUS polls a video or GIF answers `in_progress` before `succeeded`.
    processing_polls: usize = 1,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Route {
    /// `POST /2/tweets`.
    Create,
    /// `DELETE /2/tweets/:id`.
    Delete,
    /// `GET /2/tweets?ids=`.
    Lookup,
    /// `GET /2/users/:id/tweets`.
    Timeline,
    /// `GET /2/users/me`.
    Me,
    /// `POST /2/media/upload`.
    Upload,
    /// `POST /2/media/upload/initialize`, `…/{id}/append`, `…/{id}/finalize`.
    Chunked,
    /// `GET /2/media/upload?command=STATUS`.
    UploadStatus,
    /// `POST /2/media/metadata`.
    Metadata,
    /// `POST /oauth/request_token`, `POST /oauth/access_token` (the PIN flow).
    OAuth,
    #[default]
    Any,
}

fake::faults! {
    /// HTTP 429 with `x-rate-limit-reset` this many seconds ahead.
    RateLimited { reset_in_secs: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FakeTweet {
    pub(crate) id: String,
    pub(crate) text: String,
    pub(crate) author_id: String,
    pub(crate) reply_to: Option<String>,
    pub(crate) poll: Option<Value>,
    pub(crate) reply_settings: Option<String>,
    pub(crate) media_ids: Vec<String>,
    pub(crate) likes: u64,
}

/// An upload as the fake keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FakeMedia {
    pub(crate) id: String,
    pub(crate) category: String,
    pub(crate) total_bytes: usize,
    pub(crate) received: usize,
    /// `initialized`, `in_progress`, `succeeded`.
    pub(crate) state: String,
    pub(crate) polls_left: usize,
    pub(crate) alt: Option<String>,
}

#[derive(Default)]
pub(crate) struct X {
    cfg: FakeConfig,
    clock: Clock,
    origin: String,
    spec: Value,
    next_id: u64,
    tweets: Vec<FakeTweet>,
    media: Vec<FakeMedia>,
    nonces: HashSet<String>,
    replies: usize,
    nonconforming: Vec<String>,
    validators: HashMap<String, jsonschema::Validator>,
}

/// The state a fake starts in.
impl From<FakeConfig> for X {
    fn from(cfg: FakeConfig) -> Self {
        let spec = serde_json::from_slice(&std::fs::read(SPEC_PATH).expect("the X OpenAPI copy"))
            .expect("the X OpenAPI copy parses");
        X { cfg, spec, next_id: 1_866_000_000_000_000_001, ..X::default() }
    }
}

pub(crate) type FakeX = fake::Fake<X>;

fake::config_getters!(FakeX { api_key, api_secret, access_token, access_token_secret, username, user_id });

impl FakeX {
    /// The account's posts, oldest first.
    pub(crate) fn tweets(&self) -> Vec<FakeTweet> {
        self.lock().tweets.clone()
    }

    /// Every upload.
    pub(crate) fn media(&self) -> Vec<FakeMedia> {
        self.lock().media.clone()
    }

    /// Posts with exactly this text.
    pub(crate) fn with_text(&self, text: &str) -> usize {
        self.lock().tweets.iter().filter(|t| t.text == text).count()
    }

    /// Adds a post as if made earlier in the app, returning its id.
    pub(crate) fn seed(&self, text: &str, reply_to: Option<&str>) -> String {
        let mut g = self.lock();
        let author = g.cfg.user_id.clone();
        g.insert(text, &author, reply_to.map(str::to_owned), None, None)
    }

    /// Requests that did not conform to the OpenAPI definition, described.
    pub(crate) fn nonconforming(&self) -> Vec<String> {
        self.lock().nonconforming.clone()
    }

    /// Requests with this method whose path starts with `prefix`.
    pub(crate) fn count(&self, method: &str, prefix: &str) -> usize {
        self.lock().log.count(|r: &FakeRequest| r.method == method && r.path.starts_with(prefix))
    }

    /// X's reply rules no longer refuse replies.
    pub(crate) fn allow_replies(&self) {
        self.lock().cfg.refuse_replies_after = None;
    }

    pub(crate) fn set_likes(&self, id: &str, likes: u64) {
        if let Some(t) = self.lock().tweets.iter_mut().find(|t| t.id == id) {
            t.likes = likes;
        }
    }
}

fn problem(status: u16, title: &str, detail: &str, kind: &str) -> Response {
    fake::json(status, &json!({"title": title, "detail": detail, "type": kind, "status": status}))
}

fn invalid(detail: &str) -> Response {
    problem(400, "Invalid Request", detail, "https://api.x.com/2/problems/invalid-request")
}

fn not_found(detail: &str) -> Response {
    problem(404, "Not Found Error", detail, "https://api.x.com/2/problems/resource-not-found")
}

impl X {
    /// Deletes a post as if in the app.
    pub(crate) fn tweets_remove(&mut self, id: &str) {
        self.tweets.retain(|t| t.id != id);
    }

    fn insert(
        &mut self,
        text: &str,
        author: &str,
        reply_to: Option<String>,
        poll: Option<Value>,
        reply_settings: Option<String>,
    ) -> String {
        let id = self.next_id.to_string();
        self.next_id += 1;
        self.tweets.push(FakeTweet {
            id: id.clone(),
            text: text.to_owned(),
            author_id: author.to_owned(),
            reply_to,
            poll,
            reply_settings,
            media_ids: Vec::new(),
            likes: 0,
        });
        id
    }

    /// The post as X returns it: links shortened, entities escaped.
    fn view(&self, t: &FakeTweet, fields: &str) -> Value {
        let mut text = String::new();
        let mut at = 0;
        for (i, url) in urls(&t.text).into_iter().enumerate() {
            text.push_str(&t.text[at..url.start]);
            text.push_str(&format!("https://t.co/{:010}", i + t.id.len()));
            at = url.end;
        }
        text.push_str(&t.text[at..]);
        if !t.media_ids.is_empty() {
            // X ends the text of a post with media with the media's link.
            text.push_str(&format!(" https://t.co/m{}", t.media_ids[0]));
        }
        let text = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        let mut v = json!({"id": t.id, "text": text, "edit_history_tweet_ids": [t.id]});
        let wanted: Vec<&str> = fields.split(',').collect();
        if wanted.contains(&"author_id") {
            v["author_id"] = json!(t.author_id);
        }
        if wanted.contains(&"referenced_tweets") {
            if let Some(parent) = &t.reply_to {
                v["referenced_tweets"] = json!([{"type": "replied_to", "id": parent}]);
            }
        }
        if wanted.contains(&"public_metrics") {
            v["public_metrics"] = json!({"retweet_count": 0, "reply_count": 0, "like_count": t.likes, "quote_count": 0, "bookmark_count": 0, "impression_count": t.likes * 10});
        }
        v
    }

    /// Checks the OAuth 1.0a signature and nonce of `req`.
    fn authorized(&mut self, req: &Incoming) -> bool {
        let (token, secret) = (self.cfg.access_token.clone(), self.cfg.access_token_secret.clone());
        self.signed_by(req, Some(&token), &secret)
    }

    /// Checks the OAuth 1.0a signature and nonce of `req`, made with `token` (none: the
    /// request-token step) and its secret.
    fn signed_by(&mut self, req: &Incoming, token: Option<&str>, token_secret: &str) -> bool {
        let Some(header) = req.header("authorization").and_then(|h| h.strip_prefix("OAuth ")) else { return false };
        let params: HashMap<String, String> = header
            .split(", ")
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_owned(), pct_decode(v.trim_matches('"'))))
            .collect();
        let get = |k: &str| params.get(k).cloned().unwrap_or_default();
        if get("oauth_consumer_key") != self.cfg.api_key
            || params.get("oauth_token").map(String::as_str) != token
            || get("oauth_signature_method") != "HMAC-SHA1"
            || get("oauth_version") != "1.0"
            || !self.nonces.insert(get("oauth_nonce"))
        {
            return false;
        }
        let mut signed: Vec<(String, String)> = params
            .iter()
            .filter(|(k, _)| *k != "oauth_signature")
            .map(|(k, v)| (pct(k), pct(v)))
            .chain(
                req.uri
                    .query()
                    .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned())
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (pct(&k), pct(&v))),
            )
            .collect();
        signed.sort();
        let normalized: Vec<String> = signed.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let url = format!("{}{}", self.origin, req.path());
        let base = format!("{}&{}&{}", req.method.as_str(), pct(&url), pct(&normalized.join("&")));
        let key = format!("{}&{}", pct(&self.cfg.api_secret), pct(token_secret));
        let mut mac = Hmac::<Sha1>::new_from_slice(key.as_bytes()).expect("any key length");
        mac.update(base.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()) == get("oauth_signature")
    }

    /// Checks `req` against the OpenAPI definition; a description of what does not conform.
    fn conformance(&mut self, req: &Incoming) -> Option<String> {
        let segments = req.segments();
        let paths = self.spec["paths"].as_object()?;
        let Some((template, item)) = paths.iter().find(|(t, _)| {
            let ts: Vec<&str> = t.trim_matches('/').split('/').collect();
            ts.len() == segments.len() && ts.iter().zip(&segments).all(|(t, s)| t.starts_with('{') || t == s)
        }) else {
            return Some(format!("{} {}: no such path in the definition", req.method, req.path()));
        };
        let Some(op) = item.get(req.method.as_str().to_ascii_lowercase()) else {
            return Some(format!("{} {template}: no such operation", req.method));
        };
        let param = |p: &Value| -> Value {
            match p.get("$ref").and_then(Value::as_str) {
                Some(r) => self.spec["components"]["parameters"][r.rsplit('/').next().unwrap_or("")].clone(),
                None => p.clone(),
            }
        };
        let declared: Vec<Value> = op["parameters"].as_array().into_iter().flatten().map(param).collect();
        for (k, _) in req.query() {
            // 2.167 renames `tweet.fields`; crier sends the documented name (reference §7.1).
            let name = if k == "tweet.fields" { "post.fields".to_owned() } else { k.clone() };
            if !declared.iter().any(|p| p["name"] == name.as_str() && p["in"] == "query") {
                return Some(format!("{} {template}: undeclared query parameter `{k}`", req.method));
            }
        }
        for p in declared.iter().filter(|p| p["in"] == "query" && p["required"] == true) {
            let name = p["name"].as_str().unwrap_or("");
            if !req.query().contains_key(name) {
                return Some(format!("{} {template}: required query parameter `{name}` missing", req.method));
            }
        }
        if req.content_type().starts_with("multipart/form-data") {
            let Some(r) = op["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"].as_str() else {
                return Some(format!("{} {template}: takes no multipart body", req.method));
            };
            let schema = &self.spec["components"]["schemas"][r.rsplit('/').next().unwrap_or("")];
            let names: Vec<String> = req.form().iter().map(|f| f.name.clone()).collect();
            for required in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                if !names.iter().any(|n| n == required) {
                    return Some(format!("{} {template}: multipart field `{required}` missing", req.method));
                }
            }
            if let Some(extra) = names.iter().find(|n| schema["properties"].get(n.as_str()).is_none()) {
                return Some(format!("{} {template}: undeclared multipart field `{extra}`", req.method));
            }
            return None;
        }
        if let Some(schema) = op["requestBody"]["content"]["application/json"]["schema"].as_object() {
            let Some(body) = req.json() else {
                return Some(format!("{} {template}: the body is not JSON", req.method));
            };
            let key = format!("{} {template}", req.method);
            // Compiled once per operation (the definition is large).
            let validator = self.validators.entry(key).or_insert_with(|| {
                let root = json!({"$ref": schema.get("$ref").cloned().unwrap_or(Value::Null), "components": self.spec["components"]});
                jsonschema::options()
                    .build(&root)
                    .unwrap_or_else(|e| panic!("the definition's schema for {template} does not compile: {e}"))
            });
            let errors: Vec<String> =
                validator.iter_errors(&body).map(|e| format!("{e} at {}", e.instance_path())).collect();
            if !errors.is_empty() {
                return Some(format!("{} {template}: {}", req.method, errors.join("; ")));
            }
        }
        None
    }

    fn create(&mut self, body: &Value) -> Response {
        let text = body["text"].as_str().unwrap_or("").to_owned();
        let len = weighted(&text);
        if text.is_empty() && body.get("media").is_none() {
            return invalid("text: Required unless media is provided");
        }
        if len > 280 {
            return problem(
                403,
                "Forbidden",
                "Your Tweet text is too long. For more information on how X determines text length see https://github.com/twitter/twitter-text.",
                "about:blank",
            );
        }
        // The status and body X sends are UNCONFIRMED (§7.3 names only the limit); a 403 as
        // for the other self-serve create restrictions.
        if cashtags(&text) > 1 {
            return problem(
                403,
                "Forbidden",
                "Posts created via the API are limited to a maximum of 1 cashtag.",
                "about:blank",
            );
        }
        if let Some(r) = body["reply_settings"].as_str() {
            if !["following", "mentionedUsers", "subscribers", "verified"].contains(&r) {
                return invalid("reply_settings: not one of the allowed values");
            }
        }
        if let Some(poll) = body.get("poll") {
            let options = poll["options"].as_array().cloned().unwrap_or_default();
            let minutes = poll["duration_minutes"].as_u64().unwrap_or(0);
            let bad_option = options.iter().any(|o| o.as_str().is_none_or(|s| s.is_empty() || s.chars().count() > 25));
            if !(2..=4).contains(&options.len()) || bad_option || !(5..=10080).contains(&minutes) {
                return invalid("poll: 2 to 4 options of 1 to 25 characters, duration_minutes 5 to 10080");
            }
        }
        let me = self.cfg.user_id.clone();
        if self.tweets.iter().any(|t| t.author_id == me && t.text == text) {
            return problem(
                403,
                "Forbidden",
                "You are not allowed to create a Tweet with duplicate content.",
                "about:blank",
            );
        }
        let reply_to = body["reply"]["in_reply_to_tweet_id"].as_str().map(str::to_owned);
        if let Some(parent) = &reply_to {
            if !self.tweets.iter().any(|t| &t.id == parent) {
                return invalid("reply.in_reply_to_tweet_id: the post does not exist or was deleted");
            }
            if self.cfg.refuse_replies_after.is_some_and(|n| self.replies >= n) {
                return problem(
                    403,
                    "Forbidden",
                    "Reply to this conversation is not allowed because you have not been mentioned or otherwise engaged by the author of the post you are replying to.",
                    "about:blank",
                );
            }
            self.replies += 1;
        }
        let media_ids: Vec<String> = body["media"]["media_ids"]
            .as_array()
            .map(|l| l.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        if body.get("poll").is_some() && !media_ids.is_empty() {
            return invalid("poll and media are mutually exclusive");
        }
        let uploaded: Vec<&FakeMedia> = media_ids
            .iter()
            .filter_map(|id| self.media.iter().find(|m| &m.id == id && m.state == "succeeded"))
            .collect();
        let moving = uploaded.iter().any(|m| m.category != "tweet_image");
        if uploaded.len() != media_ids.len() || media_ids.len() > 4 || (moving && media_ids.len() > 1) {
            return invalid("Your media IDs are invalid.");
        }
        let id = self.insert(
            &text,
            &me,
            reply_to,
            body.get("poll").cloned(),
            body["reply_settings"].as_str().map(str::to_owned),
        );
        if let Some(t) = self.tweets.last_mut() {
            t.media_ids = media_ids;
        }
        fake::json(201, &json!({"data": {"id": id, "text": text, "edit_history_tweet_ids": [id]}}))
    }

    fn new_media(&mut self, category: &str, total_bytes: usize, state: &str) -> String {
        let id = self.next_id.to_string();
        self.next_id += 1;
        let polls_left = self.cfg.processing_polls;
        self.media.push(FakeMedia {
            id: id.clone(),
            category: category.to_owned(),
            total_bytes,
            received: 0,
            state: state.to_owned(),
            polls_left,
            alt: None,
        });
        id
    }

    fn media_view(m: &FakeMedia) -> Value {
        let mut v =
            json!({"id": m.id, "media_key": format!("3_{}", m.id), "size": m.total_bytes, "expires_after_secs": 86400});
        if m.category != "tweet_image" {
            v["processing_info"] = match m.state.as_str() {
                "succeeded" => json!({"state": "succeeded", "progress_percent": 100}),
                _ => json!({"state": m.state, "check_after_secs": 0, "progress_percent": 50}),
            };
        }
        json!({"data": v})
    }

    fn media_route(&mut self, route: Route, req: &Incoming) -> Response {
        let segments = req.segments();
        match (route, segments.as_slice()) {
            (Route::Upload, _) => {
                let form = req.form();
                let file = form.iter().find(|f| f.name == "media");
                let category = form
                    .iter()
                    .find(|f| f.name == "media_category")
                    .map(|f| String::from_utf8_lossy(&f.data).into_owned());
                let (Some(file), Some(category)) = (file, category) else {
                    return invalid("media and media_category are required");
                };
                if category != "tweet_image" || file.data.len() > 5 * 1024 * 1024 {
                    return invalid(
                        "an image of at most 5 MB (tweet_image) in one request; GIFs and videos are uploaded in chunks",
                    );
                }
                let id = self.new_media(&category, file.data.len(), "succeeded");
                let m = self.media.last().cloned().expect("just added");
                let _ = id;
                fake::json(200, &Self::media_view(&m))
            }
            (Route::Chunked, [_, _, _, "initialize"]) => {
                let body = req.json().unwrap_or_default();
                let total = body["total_bytes"].as_u64().unwrap_or(0) as usize;
                let category = body["media_category"].as_str().unwrap_or("").to_owned();
                self.new_media(&category, total, "initialized");
                let m = self.media.last().cloned().expect("just added");
                fake::json(200, &Self::media_view(&FakeMedia { category: "tweet_image".into(), ..m }))
            }
            (Route::Chunked, [_, _, _, id, action]) => {
                let (id, action) = ((*id).to_owned(), (*action).to_owned());
                let form = req.form();
                let Some(m) = self.media.iter_mut().find(|m| m.id == id) else {
                    return not_found("no such upload");
                };
                if action == "append" {
                    let bytes = form.iter().find(|f| f.name == "media").map_or(0, |f| f.data.len());
                    m.received += bytes;
                    return fake::json(200, &json!({"data": {"expires_at": 1_900_000_000}}));
                }
                if m.received != m.total_bytes {
                    return invalid("finalize: the segments do not add up to total_bytes");
                }
                m.state = if m.polls_left == 0 { "succeeded".into() } else { "pending".into() };
                let m = m.clone();
                fake::json(200, &Self::media_view(&m))
            }
            (Route::UploadStatus, _) => {
                let id = req.query().get("media_id").cloned().unwrap_or_default();
                let Some(m) = self.media.iter_mut().find(|m| m.id == id) else {
                    return not_found("no such upload");
                };
                if m.polls_left > 0 {
                    m.polls_left -= 1;
                    m.state = "in_progress".into();
                } else {
                    m.state = "succeeded".into();
                }
                let m = m.clone();
                fake::json(200, &Self::media_view(&m))
            }
            (Route::Metadata, _) => {
                let body = req.json().unwrap_or_default();
                let id = body["id"].as_str().unwrap_or("").to_owned();
                let Some(m) = self.media.iter_mut().find(|m| m.id == id) else {
                    return invalid("id: no such media");
                };
                m.alt = body["metadata"]["alt_text"]["text"].as_str().map(str::to_owned);
                fake::json(200, &json!({"data": {"id": id, "associated_metadata": true}}))
            }
            _ => problem(404, "Not Found", "no such route in the fake", "about:blank"),
        }
    }

    /// The request token (`oauth_callback=oob`), then the access token for the PIN.
    fn oauth(&mut self, req: &Incoming) -> Response {
        const REQUEST_TOKEN: &str = "req-token-4711";
        const REQUEST_SECRET: &str = "req-secret-4711SECRET";
        let header = req.header("authorization").unwrap_or("").to_owned();
        let form = |s: String| fake::raw(200, "text/html; charset=utf-8", s);
        if req.path() == "/oauth/request_token" {
            if !header.contains("oauth_callback=\"oob\"") || !self.signed_by(req, None, "") {
                return problem(401, "Unauthorized", "Could not authenticate you.", "about:blank");
            }
            return form(format!(
                "oauth_token={REQUEST_TOKEN}&oauth_token_secret={REQUEST_SECRET}&oauth_callback_confirmed=true"
            ));
        }
        let pin = format!("oauth_verifier=\"{}\"", self.cfg.pin);
        if !header.contains(&pin) || !self.signed_by(req, Some(REQUEST_TOKEN), REQUEST_SECRET) {
            return problem(401, "Unauthorized", "Invalid oauth_verifier parameter", "about:blank");
        }
        form(format!(
            "oauth_token={}&oauth_token_secret={}&user_id={}&screen_name={}",
            self.cfg.access_token, self.cfg.access_token_secret, self.cfg.user_id, self.cfg.username
        ))
    }

    fn timeline(&self, user: &str, q: &HashMap<String, String>) -> Response {
        if user != self.cfg.user_id {
            return problem(
                403,
                "Forbidden",
                "owned reads only in this fake",
                "https://api.x.com/2/problems/not-authorized-for-resource",
            );
        }
        let max: usize = q.get("max_results").and_then(|m| m.parse().ok()).unwrap_or(10);
        if !(5..=100).contains(&max) {
            return invalid("max_results: must be between 5 and 100");
        }
        let fields = q.get("tweet.fields").or_else(|| q.get("post.fields")).cloned().unwrap_or_default();
        let start: usize =
            q.get("pagination_token").and_then(|t| t.strip_prefix("page-")).and_then(|n| n.parse().ok()).unwrap_or(0);
        let mine: Vec<&FakeTweet> = self.tweets.iter().rev().filter(|t| t.author_id == user).collect();
        let page: Vec<Value> = mine.iter().skip(start).take(max).map(|t| self.view(t, &fields)).collect();
        let mut meta = json!({"result_count": page.len()});
        if start + max < mine.len() {
            meta["next_token"] = json!(format!("page-{}", start + max));
        }
        if page.is_empty() {
            return fake::json(200, &json!({"meta": meta}));
        }
        fake::json(200, &json!({"data": page, "meta": meta}))
    }

    fn lookup(&self, q: &HashMap<String, String>) -> Response {
        let ids: Vec<&str> = q.get("ids").map(|s| s.split(',').collect()).unwrap_or_default();
        if ids.is_empty() || ids.len() > 100 {
            return invalid("ids: 1 to 100 ids");
        }
        let fields = q.get("tweet.fields").or_else(|| q.get("post.fields")).cloned().unwrap_or_default();
        let mut data = Vec::new();
        let mut errors = Vec::new();
        for id in ids {
            match self.tweets.iter().find(|t| t.id == id) {
                Some(t) => data.push(self.view(t, &fields)),
                None => errors.push(json!({"value": id, "detail": format!("Could not find tweet with ids: [{id}]."), "title": "Not Found Error", "resource_type": "tweet", "parameter": "ids", "resource_id": id, "type": "https://api.x.com/2/problems/resource-not-found"})),
            }
        }
        let mut v = json!({});
        if !data.is_empty() {
            v["data"] = json!(data);
        }
        if !errors.is_empty() {
            v["errors"] = json!(errors);
        }
        fake::json(200, &v)
    }
}

impl fake::Platform for X {
    type Route = Route;
    type Fault = Fault;
    type Entry = FakeRequest;

    fn listening(&mut self, origin: &str) {
        self.origin = origin.to_owned();
    }

    fn route(&self, req: &Incoming) -> Route {
        match (req.method.clone(), req.segments().as_slice()) {
            (Method::POST, ["2", "tweets"]) => Route::Create,
            (Method::DELETE, ["2", "tweets", _]) => Route::Delete,
            (Method::GET, ["2", "tweets"]) => Route::Lookup,
            (Method::GET, ["2", "users", "me"]) => Route::Me,
            (Method::GET, ["2", "users", _, "tweets"]) => Route::Timeline,
            (Method::POST, ["2", "media", "upload"]) => Route::Upload,
            (Method::POST, ["2", "media", "upload", ..]) => Route::Chunked,
            (Method::GET, ["2", "media", "upload"]) => Route::UploadStatus,
            (Method::POST, ["2", "media", "metadata"]) => Route::Metadata,
            (Method::POST, ["oauth", _]) => Route::OAuth,
            _ => Route::Any,
        }
    }

    fn fault(&mut self, fault: Fault) -> Effect {
        match fault {
            Fault::RateLimited { reset_in_secs } => {
                let mut r = problem(429, "Too Many Requests", "Too Many Requests", "about:blank");
                let reset = self.clock.now_unix() + reset_in_secs;
                r.headers_mut().insert("x-rate-limit-reset", reset.into());
                r.headers_mut().insert("x-rate-limit-remaining", 0.into());
                Effect::Reply(r)
            }
            _ => Effect::Proceed,
        }
    }

    fn answer(&mut self, route: Route, req: &Incoming) -> Response {
        if route == Route::OAuth {
            // The PIN flow is OAuth 1.0a itself, outside the v2 definition.
            return self.oauth(req);
        }
        if let Some(why) = self.conformance(req) {
            self.nonconforming.push(why.clone());
            return invalid(&why);
        }
        if !self.authorized(req) {
            return problem(401, "Unauthorized", "Unauthorized", "about:blank");
        }
        let q = req.query();
        match route {
            Route::Me => fake::json(
                200,
                &json!({"data": {"id": self.cfg.user_id, "name": "Crier Tester", "username": self.cfg.username}}),
            ),
            Route::Create => match req.json() {
                Some(body) => self.create(&body),
                None => invalid("the body is not JSON"),
            },
            Route::Delete => {
                let id = req.segments()[2].to_owned();
                match self.tweets.iter().position(|t| t.id == id) {
                    Some(i) if self.tweets[i].author_id != self.cfg.user_id => {
                        problem(403, "Forbidden", "You are not allowed to delete this Tweet.", "about:blank")
                    }
                    Some(i) => {
                        self.tweets.remove(i);
                        fake::json(200, &json!({"data": {"deleted": true}}))
                    }
                    None => not_found(&format!("Could not find tweet with id: [{id}].")),
                }
            }
            Route::Lookup => self.lookup(&q),
            Route::Timeline => {
                let user = req.segments()[2].to_owned();
                self.timeline(&user, &q)
            }
            Route::Upload | Route::Chunked | Route::UploadStatus | Route::Metadata => self.media_route(route, req),
            Route::OAuth => self.oauth(req),
            Route::Any => problem(404, "Not Found", "no such route in the fake", "about:blank"),
        }
    }

    fn every_response(&self) -> Vec<(&'static str, String)> {
        let reset = self.clock.now_unix() + 900;
        vec![
            ("x-rate-limit-limit", "100".into()),
            ("x-rate-limit-remaining", "99".into()),
            ("x-rate-limit-reset", reset.to_string()),
        ]
    }
}

const RESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

fn pct(s: &str) -> String {
    utf8_percent_encode(s, RESERVED).to_string()
}

fn pct_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// `http(s)://` up to whitespace, without trailing punctuation.
fn urls(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(n) = text[from..].find("http") {
        let start = from + n;
        let rest = &text[start..];
        if !(rest.starts_with("http://") || rest.starts_with("https://")) {
            from = start + 4;
            continue;
        }
        let mut end = start + rest.find(char::is_whitespace).unwrap_or(rest.len());
        while text[..end].ends_with(['.', ',', ';', ':', '!', '?', ')', '\'', '"']) {
            end -= 1;
        }
        out.push(start..end);
        from = end.max(start + 4);
    }
    out
}

/// X's weighted length, as the fake counts it: a URL 23, a grapheme with an emoji 2, a
/// code point up to U+10FF (or general punctuation) 1, any other 2.
/// How many cashtags `text` holds: twitter-text's `validCashtag`, `(^|space)$` + 1–6 letters
/// (+ `.`/`_` and 1–2 letters), then the end, a space or ASCII punctuation.
fn cashtags(text: &str) -> usize {
    let chars: Vec<char> = text.chars().collect();
    let letters = |from: usize| chars[from.min(chars.len())..].iter().take_while(|c| c.is_ascii_alphabetic()).count();
    let ends =
        |at: usize| chars.get(at).is_none_or(|&c| c.is_whitespace() || "!'#%&()*+,\\./:;<=>?@[]^_{|}~$-".contains(c));
    (0..chars.len())
        .filter(|&i| chars[i] == '$' && (i == 0 || chars[i - 1].is_whitespace()))
        .filter(|&i| {
            let n = letters(i + 1);
            let end = i + 1 + n;
            let suffix = if matches!(chars.get(end), Some('.' | '_')) { letters(end + 1) } else { 0 };
            (1..=6).contains(&n) && (((1..=2).contains(&suffix) && ends(end + 1 + suffix)) || ends(end))
        })
        .count()
}

fn weighted(text: &str) -> usize {
    let mut total = 0;
    let mut at = 0;
    let plain = |s: &str| -> usize {
        s.graphemes(true)
            .map(|g| {
                if g.chars().any(|c| c as u32 >= 0x1F000 || c == '\u{FE0F}') {
                    2
                } else {
                    g.chars()
                        .map(|c| if (c as u32) <= 0x10FF || (0x2000..=0x201F).contains(&(c as u32)) { 1 } else { 2 })
                        .sum()
                }
            })
            .sum()
    };
    for u in urls(text) {
        total += plain(&text[at..u.start]) + 23;
        at = u.end;
    }
    total + plain(&text[at..])
}
