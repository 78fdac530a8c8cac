//! A stateful fake of a Bluesky PDS (XRPC) for tests.
//!
//! Serves under `/xrpc/` what a publisher calls, with what a real PDS answered
//! (shared reference section 2.8) and the lexicons' limits:
//!
//! - `com.atproto.server.createSession` (401 `AuthenticationRequired` for a wrong
//!   identifier or password) and `refreshSession` (with the refresh token only);
//!   access tokens expire after `access_uses` authenticated calls or on
//!   [`FakeBluesky::expire_access`]: 400 `ExpiredToken`; no token: 401 `AuthMissing`;
//!   the session's `didDoc` names `did_doc_pds` (default: this server) as the PDS;
//! - `com.atproto.repo.uploadBlob`: content-addressed (the same bytes give the same
//!   ref), 413 `PayloadTooLarge` over `max_upload_bytes`;
//! - `putRecord` / `createRecord` for `app.bsky.feed.post`: the record key must be a
//!   TID; text at most 300 graphemes (400 `grapheme too big (maximum 300, got N)`) and
//!   3000 bytes (`string too big (maximum 3000, got N)`); `createdAt` an RFC 3339 time;
//!   at most 4 images (`array too big (maximum 4, got 5) at $.record.embed.images`),
//!   each with `alt` and an uploaded blob within `max_embed_image_bytes`; createRecord
//!   on a taken key: 500 `InternalServerError`; putRecord of an identical record: the
//!   same uri and cid, nothing changes; `swapRecord: null` on a key holding another record: 400
//!   `InvalidSwap` (an identical one is still the no-op). Fake-only strictness: facet ranges must lie inside the text on char
//!   boundaries, and a reply's root and parent must be existing records with that cid;
//! - `getRecord` (400 `RecordNotFound`; a repository not hosted here: 400 `InvalidRequest`
//!   `Could not find repo`, except records of other accounts seeded with
//!   [`FakeBluesky::seed_foreign`], served as the PDS serves them through the app view),
//!   `listRecords` (newest key first, `cursor`),
//!   `com.atproto.identity.resolveHandle` (400 `InvalidRequest` "Unable to resolve handle");
//! - `deleteRecord` as the PDS's handler does it: a record there is deleted (200 with a
//!   `commit`); a key holding none is a no-op (200 `{}`, no `commit`); another account's
//!   repository: 401 `AuthenticationRequired`; an unknown one: 400 `Could not find repo`;
//!   `swapRecord` with another cid: 400 `InvalidSwap`.
//!
//! What happens in the app: [`FakeBluesky::remove_in_app`] (the post deleted there) and
//! [`FakeBluesky::rewrite_in_app`] (another client's `putRecord` over the key).
//!
//! Errors use XRPC's `{"error", "message"}`. Tests steer it with
//! [`FakeBluesky::fail_next`] and inspect [`FakeBluesky::records`],
//! [`FakeBluesky::requests`] (method, NSID, query, JSON body; never headers, so never a
//! token) and [`FakeBluesky::count`].

#![allow(dead_code)]

// Each fake holds its own copy of the shared pieces, so a test binary can include any set of fakes.
#[allow(clippy::duplicate_mod)]
#[path = "fake.rs"]
mod fake;

use std::collections::{BTreeMap, HashMap};

use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::Response;
use fake::{Effect, Incoming};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use unicode_segmentation::UnicodeSegmentation;

pub(crate) const POST: &str = "app.bsky.feed.post";

fake::config! {
    handle: String = "crier-tester.bsky.social".into(),
    did: String = "did:plc:crierfaketester0000000001".into(),
    /// The app password.
    password: String = "abcd-efgh-ijkl-mnop".into(),
    /// Authenticated calls one access token allows before `ExpiredToken` (None: no limit).
    access_uses: Option<u32> = None,
    /// The PDS the DID document names (None: this server).
    did_doc_pds: Option<String> = None,
    /// Other handles `resolveHandle` knows.
    handles: HashMap<String, String> = HashMap::from([("bob.test".to_owned(), "did:plc:bobbobbobbobbobbobbobbob1".to_owned())]),
    max_upload_bytes: usize = 5 * 1024 * 1024,
    /// The images embed's `maxSize` (the lexicon's 2,000,000).
    max_embed_image_bytes: usize = 2_000_000,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Route {
    CreateSession,
    RefreshSession,
    UploadBlob,
    PutRecord,
    CreateRecord,
    GetRecord,
    ListRecords,
    DeleteRecord,
    ResolveHandle,
    GetPosts,
    #[default]
    Any,
}

fake::faults! {
    /// 429 `RateLimitExceeded` with `RateLimit-Reset` this many seconds ahead.
    RateLimited { reset_in_secs: u64 },
    /// Expire the access token before handling the request.
    ExpireToken,
}

#[derive(Debug, Clone)]
pub(crate) struct FakeRecord {
    pub(crate) collection: String,
    pub(crate) rkey: String,
    pub(crate) uri: String,
    pub(crate) cid: String,
    pub(crate) value: Value,
}

/// The fake's state.
#[derive(Default)]
pub(crate) struct Bluesky {
    cfg: FakeConfig,
    base_url: String,
    /// Access token → calls left.
    access: HashMap<String, Option<u32>>,
    refresh: Vec<String>,
    next_token: u64,
    blobs: HashMap<String, (String, usize)>,
    /// (collection, rkey) → record; BTreeMap keeps keys sorted for listRecords.
    records: BTreeMap<(String, String), FakeRecord>,
    /// Other accounts' records: (did, collection, rkey) → record.
    foreign: BTreeMap<(String, String, String), FakeRecord>,
    sessions: u64,
    /// What people did with each post (URI → `likeCount`, …), as the AppView reports it.
    counts: HashMap<String, serde_json::Map<String, Value>>,
}

/// The state a fake starts in.
impl From<FakeConfig> for Bluesky {
    fn from(cfg: FakeConfig) -> Self {
        Bluesky { cfg, next_token: 1, ..Bluesky::default() }
    }
}

/// A running fake server. Stops when dropped.
pub(crate) type FakeBluesky = fake::Fake<Bluesky>;

fake::config_getters!(FakeBluesky { handle, did, password });

impl FakeBluesky {
    /// `http://127.0.0.1:<port>`: the service URL (`CRIER_BLUESKY_URL`).
    pub(crate) fn url(&self) -> String {
        self.origin()
    }

    /// The PDS the DID document of later sessions names.
    pub(crate) fn set_did_doc_pds(&self, pds: Option<String>) {
        self.lock().cfg.did_doc_pds = pds;
    }

    /// Every access token expires now (the next authenticated call gets `ExpiredToken`).
    pub(crate) fn expire_access(&self) {
        self.lock().expire_all();
    }

    /// Posts, oldest key first.
    pub(crate) fn records(&self) -> Vec<FakeRecord> {
        self.lock().records.values().filter(|r| r.collection == POST).cloned().collect()
    }

    /// Adds a record directly (written earlier, by another client or post).
    pub(crate) fn seed(&self, rkey: &str, value: Value) -> FakeRecord {
        let mut g = self.lock();
        g.store(POST, rkey, value)
    }

    /// Adds a post of another account (`did`), readable with `getRecord` as through the app view.
    pub(crate) fn seed_foreign(&self, did: &str, rkey: &str, value: Value) -> FakeRecord {
        let rec = FakeRecord {
            collection: POST.to_owned(),
            rkey: rkey.to_owned(),
            uri: format!("at://{did}/{POST}/{rkey}"),
            cid: record_cid(&value),
            value,
        };
        self.lock().foreign.insert((did.to_owned(), POST.to_owned(), rkey.to_owned()), rec.clone());
        rec
    }

    /// Other accounts' posts.
    pub(crate) fn foreign(&self) -> Vec<FakeRecord> {
        self.lock().foreign.values().cloned().collect()
    }

    /// The post at `rkey` deleted in the app; whether there was one.
    pub(crate) fn remove_in_app(&self, rkey: &str) -> bool {
        self.lock().records.remove(&(POST.to_owned(), rkey.to_owned())).is_some()
    }

    /// Another client's `putRecord` over `rkey`: the same record with `text` (a new cid).
    pub(crate) fn rewrite_in_app(&self, rkey: &str, text: &str) -> Option<FakeRecord> {
        let mut g = self.lock();
        let mut value = g.records.get(&(POST.to_owned(), rkey.to_owned()))?.value.clone();
        value["text"] = Value::String(text.to_owned());
        Some(g.store(POST, rkey, value))
    }

    pub(crate) fn sessions(&self) -> u64 {
        self.lock().sessions
    }

    pub(crate) fn blobs(&self) -> usize {
        self.lock().blobs.len()
    }

    /// Sets what the AppView reports for a post (`likeCount`, `repostCount`, …).
    pub(crate) fn set_counts(&self, uri: &str, counts: &[(&str, u64)]) {
        let mut g = self.lock();
        let m = g.counts.entry(uri.to_owned()).or_default();
        m.extend(counts.iter().map(|(k, v)| ((*k).to_owned(), Value::from(*v))));
    }

    /// Requests to `nsid`.
    pub(crate) fn count(&self, nsid: &str) -> usize {
        self.lock().log.count(|r| r.nsid() == nsid)
    }
}

struct XrpcErr {
    status: u16,
    error: &'static str,
    message: String,
}

fn err(status: u16, error: &'static str, message: impl Into<String>) -> XrpcErr {
    XrpcErr { status, error, message: message.into() }
}

fn route_of(nsid: &str) -> Route {
    match nsid {
        "com.atproto.server.createSession" => Route::CreateSession,
        "com.atproto.server.refreshSession" => Route::RefreshSession,
        "com.atproto.repo.uploadBlob" => Route::UploadBlob,
        "com.atproto.repo.putRecord" => Route::PutRecord,
        "com.atproto.repo.createRecord" => Route::CreateRecord,
        "com.atproto.repo.getRecord" => Route::GetRecord,
        "com.atproto.repo.listRecords" => Route::ListRecords,
        "com.atproto.repo.deleteRecord" => Route::DeleteRecord,
        "com.atproto.identity.resolveHandle" => Route::ResolveHandle,
        "app.bsky.feed.getPosts" => Route::GetPosts,
        _ => Route::Any,
    }
}

impl fake::Platform for Bluesky {
    type Route = Route;
    type Fault = Fault;
    type Entry = fake::FakeRequest;
    const BODY_LIMIT: usize = 64 * 1024 * 1024;

    fn listening(&mut self, origin: &str) {
        origin.clone_into(&mut self.base_url);
    }

    fn route(&self, req: &Incoming) -> Route {
        route_of(nsid(req.path()))
    }

    fn fault(&mut self, fault: Fault) -> Effect {
        match fault {
            Fault::RateLimited { reset_in_secs } => {
                let reset = fake::unix_now() + reset_in_secs;
                let mut resp =
                    fake::json(429, &json!({"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}));
                let h = resp.headers_mut();
                h.insert("ratelimit-limit", HeaderValue::from(3000u64));
                h.insert("ratelimit-remaining", HeaderValue::from(0u64));
                h.insert("ratelimit-reset", HeaderValue::from(reset));
                h.insert("ratelimit-policy", HeaderValue::from_static("3000;w=300"));
                Effect::Reply(resp)
            }
            Fault::ExpireToken => {
                self.expire_all();
                Effect::Proceed
            }
            _ => Effect::Proceed,
        }
    }

    fn answer(&mut self, route: Route, req: &Incoming) -> Response {
        let reply = if (req.method.as_str(), route) == ("GET", Route::GetPosts) {
            self.authorize(&req.headers).and_then(|()| self.get_posts(&req.query_all("uris")))
        } else {
            self.dispatch(&req.method, route, &req.headers, &req.query(), req.json().as_ref(), &req.body)
        };
        match reply {
            Ok(v) => fake::json(200, &v),
            Err(e) => fake::json(e.status, &json!({"error": e.error, "message": e.message})),
        }
    }
    /// The PDS's `RateLimit-*` (the repo-write window: 5000 points an hour), as it sends
    /// them on its limited routes; a 429 keeps its own.
    fn every_response(&self) -> Vec<(&'static str, String)> {
        vec![
            ("ratelimit-limit", "5000".into()),
            ("ratelimit-remaining", "4999".into()),
            ("ratelimit-reset", (fake::unix_now() + 3600).to_string()),
            ("ratelimit-policy", "5000;w=3600".into()),
        ]
    }
}

/// The log is the kit's; what a test asks of an entry here is the NSID it called.
impl fake::FakeRequest {
    /// The NSID called (`com.atproto.repo.putRecord`).
    pub(crate) fn nsid(&self) -> &str {
        nsid(&self.path)
    }
}

/// The NSID a request calls. Any prefix before `/xrpc/` is accepted (and logged), so a DID
/// document may name this server under another path.
fn nsid(path: &str) -> &str {
    path.split_once("/xrpc/").map_or("", |(_, n)| n)
}

fn is_tid(s: &str) -> bool {
    const A: &[u8] = b"234567abcdefghijklmnopqrstuvwxyz";
    s.len() == 13 && s.bytes().all(|b| A.contains(&b)) && b"234567abcdefghij".contains(&s.as_bytes()[0])
}

fn cid_of(prefix: &str, bytes: &[u8]) -> String {
    let h = Sha256::digest(bytes);
    let hex: String = h.iter().take(24).map(|b| format!("{b:02x}")).collect();
    format!("{prefix}{hex}")
}

/// A record's content id: the hash of its JSON with keys sorted (serde_json's default map).
fn record_cid(value: &Value) -> String {
    cid_of("bafyrei", value.to_string().as_bytes())
}

impl Bluesky {
    /// Every access token expires now.
    fn expire_all(&mut self) {
        for uses in self.access.values_mut() {
            *uses = Some(0);
        }
    }

    fn dispatch(
        &mut self,
        method: &Method,
        route: Route,
        headers: &HeaderMap,
        query: &HashMap<String, String>,
        body: Option<&Value>,
        raw_body: &[u8],
    ) -> Result<Value, XrpcErr> {
        match (method.as_str(), route) {
            ("POST", Route::CreateSession) => self.create_session(body),
            ("POST", Route::RefreshSession) => self.refresh_session(headers),
            ("POST", Route::UploadBlob) => {
                self.authorize(headers)?;
                self.upload_blob(headers, raw_body)
            }
            ("POST", Route::PutRecord) => {
                self.authorize(headers)?;
                self.write(body, true)
            }
            ("POST", Route::CreateRecord) => {
                self.authorize(headers)?;
                self.write(body, false)
            }
            ("GET", Route::GetRecord) => {
                self.authorize(headers)?;
                self.get_record(query)
            }
            ("POST", Route::DeleteRecord) => {
                self.authorize(headers)?;
                self.delete_record(body)
            }
            ("GET", Route::ListRecords) => {
                self.authorize(headers)?;
                self.list_records(query)
            }
            ("GET", Route::ResolveHandle) => {
                self.authorize(headers)?;
                let h = query.get("handle").map(|h| h.to_ascii_lowercase()).unwrap_or_default();
                if h == self.cfg.handle {
                    return Ok(json!({"did": self.cfg.did}));
                }
                match self.cfg.handles.get(&h) {
                    Some(did) => Ok(json!({"did": did})),
                    None => Err(err(400, "InvalidRequest", "Unable to resolve handle")),
                }
            }
            _ => Err(err(501, "MethodNotImplemented", "Method Not Implemented")),
        }
    }

    /// `app.bsky.feed.getPosts`: a `postView` per URI found (own or foreign), at most 25.
    fn get_posts(&self, uris: &[String]) -> Result<Value, XrpcErr> {
        if uris.len() > 25 {
            return Err(err(400, "InvalidRequest", "Error: uris must not have more than 25 elements"));
        }
        let all = self.records.values().chain(self.foreign.values());
        let posts: Vec<Value> = uris
            .iter()
            .filter_map(|u| all.clone().find(|r| r.uri == *u))
            .map(|r| {
                let mut view = json!({
                    "uri": r.uri,
                    "cid": r.cid,
                    "author": {"did": self.cfg.did, "handle": self.cfg.handle},
                    "record": r.value,
                    "likeCount": 0, "repostCount": 0, "replyCount": 0, "quoteCount": 0, "bookmarkCount": 0,
                    "indexedAt": "2026-11-28T10:00:00.000Z",
                    "viewer": {},
                    "labels": []
                });
                for (k, v) in self.counts.get(&r.uri).into_iter().flatten() {
                    view[k] = v.clone();
                }
                view
            })
            .collect();
        Ok(json!({ "posts": posts }))
    }

    fn new_session(&mut self) -> Value {
        let n = self.next_token;
        self.next_token += 1;
        let access = format!("eyJfake.access{n}.sig{}", self.cfg.did.len());
        let refresh = format!("eyJfake.refresh{n}.sig{}", self.cfg.did.len());
        self.access.insert(access.clone(), self.cfg.access_uses);
        self.refresh.push(refresh.clone());
        let pds = self.cfg.did_doc_pds.clone().unwrap_or_else(|| self.base_url.clone());
        json!({
            "accessJwt": access,
            "refreshJwt": refresh,
            "handle": self.cfg.handle,
            "did": self.cfg.did,
            "didDoc": {
                "@context": ["https://www.w3.org/ns/did/v1"],
                "id": self.cfg.did,
                "alsoKnownAs": [format!("at://{}", self.cfg.handle)],
                "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": pds}]
            },
            "email": "tester@example.com",
            "emailConfirmed": true,
            "active": true
        })
    }

    fn create_session(&mut self, body: Option<&Value>) -> Result<Value, XrpcErr> {
        let body = body.ok_or_else(|| err(400, "InvalidRequest", "Input must be an object"))?;
        let id = body.get("identifier").and_then(Value::as_str).unwrap_or("").to_ascii_lowercase();
        let pw = body.get("password").and_then(Value::as_str).unwrap_or("");
        if (id != self.cfg.handle && id != self.cfg.did) || pw != self.cfg.password {
            return Err(err(401, "AuthenticationRequired", "Invalid identifier or password"));
        }
        self.sessions += 1;
        Ok(self.new_session())
    }

    fn bearer(headers: &HeaderMap) -> Option<String> {
        headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::to_owned)
    }

    fn refresh_session(&mut self, headers: &HeaderMap) -> Result<Value, XrpcErr> {
        let token = Self::bearer(headers).ok_or_else(|| err(401, "AuthMissing", "Authentication Required"))?;
        let Some(pos) = self.refresh.iter().position(|t| *t == token) else {
            return Err(err(400, "InvalidToken", "Token could not be verified"));
        };
        // A refresh token is used once.
        self.refresh.remove(pos);
        Ok(self.new_session())
    }

    fn authorize(&mut self, headers: &HeaderMap) -> Result<(), XrpcErr> {
        let token = Self::bearer(headers).ok_or_else(|| err(401, "AuthMissing", "Authentication Required"))?;
        match self.access.get_mut(&token) {
            None => Err(err(401, "InvalidToken", "Token could not be verified")),
            Some(Some(0)) => Err(err(400, "ExpiredToken", "Token has expired")),
            Some(Some(n)) => {
                *n -= 1;
                Ok(())
            }
            Some(None) => Ok(()),
        }
    }

    fn upload_blob(&mut self, headers: &HeaderMap, bytes: &[u8]) -> Result<Value, XrpcErr> {
        if bytes.len() > self.cfg.max_upload_bytes {
            return Err(err(413, "PayloadTooLarge", "request entity too large"));
        }
        let mime = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("*/*").to_owned();
        let cid = cid_of("bafkrei", bytes);
        self.blobs.insert(cid.clone(), (mime.clone(), bytes.len()));
        Ok(json!({"blob": {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime, "size": bytes.len()}}))
    }

    fn store(&mut self, collection: &str, rkey: &str, value: Value) -> FakeRecord {
        let rec = FakeRecord {
            collection: collection.to_owned(),
            rkey: rkey.to_owned(),
            uri: format!("at://{}/{collection}/{rkey}", self.cfg.did),
            cid: record_cid(&value),
            value,
        };
        self.records.insert((collection.to_owned(), rkey.to_owned()), rec.clone());
        rec
    }

    fn write(&mut self, body: Option<&Value>, put: bool) -> Result<Value, XrpcErr> {
        let body = body.ok_or_else(|| err(400, "InvalidRequest", "Input must be an object"))?;
        let repo = body.get("repo").and_then(Value::as_str).unwrap_or("");
        if repo != self.cfg.did && repo != self.cfg.handle {
            return Err(err(400, "InvalidRequest", format!("Could not find repo: {repo}")));
        }
        let collection = body.get("collection").and_then(Value::as_str).unwrap_or("").to_owned();
        let record = body
            .get("record")
            .cloned()
            .ok_or_else(|| err(400, "InvalidRequest", "Input must have the property \"record\""))?;
        let rkey = match body.get("rkey").and_then(Value::as_str) {
            Some(k) => k.to_owned(),
            None if !put => {
                // A fresh TID after every key so far.
                let n = self.records.len() as u64 + 1;
                format!("3n3f{:09}", n).chars().map(|c| if c == '0' || c == '1' { '2' } else { c }).collect()
            }
            None => return Err(err(400, "InvalidRequest", "Input must have the property \"rkey\"")),
        };
        if collection == POST {
            if !is_tid(&rkey) {
                return Err(err(400, "InvalidRequest", format!("Invalid record key for {POST}: Invalid TID string")));
            }
            self.validate_post(&record)?;
        }
        let key = (collection.clone(), rkey.clone());
        if let Some(existing) = self.records.get(&key) {
            if !put {
                // What a real PDS does: the repository tree refuses a second value at the key.
                return Err(err(500, "InternalServerError", "Internal Server Error"));
            }
            // As on a real PDS: an identical record is a no-op even with `swapRecord: null`.
            if existing.cid == record_cid(&record) {
                return Ok(json!({"uri": existing.uri, "cid": existing.cid, "validationStatus": "valid"}));
            }
            if body.get("swapRecord").is_some_and(Value::is_null) {
                return Err(err(400, "InvalidSwap", format!("Record was at {}", existing.cid)));
            }
        }
        let rec = self.store(&collection, &rkey, record);
        Ok(
            json!({"uri": rec.uri, "cid": rec.cid, "commit": {"cid": cid_of("bafyreic", rec.cid.as_bytes()), "rev": rkey}, "validationStatus": "valid"}),
        )
    }

    fn validate_post(&self, r: &Value) -> Result<(), XrpcErr> {
        let bad = |m: String| err(400, "InvalidRequest", format!("Invalid {POST} record: {m}"));
        if r.get("$type").and_then(Value::as_str) != Some(POST) {
            return Err(bad("Record/$type must be app.bsky.feed.post".into()));
        }
        let text = r
            .get("text")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("Record must have the property \"text\"".into()))?;
        let graphemes = text.graphemes(true).count();
        if text.len() > 3000 {
            return Err(err(400, "InvalidRequest", format!("string too big (maximum 3000, got {})", text.len())));
        }
        if graphemes > 300 {
            return Err(err(400, "InvalidRequest", format!("grapheme too big (maximum 300, got {graphemes})")));
        }
        let created = r.get("createdAt").and_then(Value::as_str).unwrap_or("");
        if chrono::DateTime::parse_from_rfc3339(created).is_err() {
            return Err(bad("Record/createdAt must be an valid atproto datetime".into()));
        }
        for f in r.get("facets").and_then(Value::as_array).into_iter().flatten() {
            let s = f.pointer("/index/byteStart").and_then(Value::as_u64).unwrap_or(u64::MAX) as usize;
            let e = f.pointer("/index/byteEnd").and_then(Value::as_u64).unwrap_or(u64::MAX) as usize;
            if s >= e || e > text.len() || !text.is_char_boundary(s) || !text.is_char_boundary(e) {
                return Err(bad(format!("facet range {s}..{e} is not inside the text (fake-only check)")));
            }
            for feat in f.get("features").and_then(Value::as_array).into_iter().flatten() {
                let t = feat.get("$type").and_then(Value::as_str).unwrap_or("");
                let ok = match t {
                    "app.bsky.richtext.facet#link" => {
                        feat.get("uri").and_then(Value::as_str).is_some_and(|u| u.contains(':'))
                    }
                    "app.bsky.richtext.facet#tag" => feat
                        .get("tag")
                        .and_then(Value::as_str)
                        .is_some_and(|t| !t.is_empty() && !t.starts_with('#') && t.graphemes(true).count() <= 64),
                    "app.bsky.richtext.facet#mention" => {
                        feat.get("did").and_then(Value::as_str).is_some_and(|d| d.starts_with("did:"))
                    }
                    _ => false,
                };
                if !ok {
                    return Err(bad(format!("invalid facet feature {feat}")));
                }
            }
        }
        if let Some(reply) = r.get("reply") {
            for which in ["root", "parent"] {
                let uri = reply.pointer(&format!("/{which}/uri")).and_then(Value::as_str).unwrap_or("");
                let cid = reply.pointer(&format!("/{which}/cid")).and_then(Value::as_str).unwrap_or("");
                let exists = self.records.values().any(|x| x.uri == uri && x.cid == cid);
                if !exists {
                    return Err(bad(format!("reply {which} {uri} ({cid}) is not a record here (fake-only check)")));
                }
            }
        }
        if let Some(embed) = r.get("embed") {
            match embed.get("$type").and_then(Value::as_str) {
                Some("app.bsky.embed.images") => {
                    let images = embed.get("images").and_then(Value::as_array).cloned().unwrap_or_default();
                    if images.len() > 4 {
                        return Err(err(
                            400,
                            "InvalidRequest",
                            format!("array too big (maximum 4, got {}) at $.record.embed.images", images.len()),
                        ));
                    }
                    for img in &images {
                        if img.get("alt").and_then(Value::as_str).is_none() {
                            return Err(bad("Record/embed/images/0 must have the property \"alt\"".into()));
                        }
                        self.check_blob(img.get("image"), self.cfg.max_embed_image_bytes)?;
                        if let Some(ar) = img.get("aspectRatio") {
                            let w = ar.get("width").and_then(Value::as_u64).unwrap_or(0);
                            let h = ar.get("height").and_then(Value::as_u64).unwrap_or(0);
                            if w < 1 || h < 1 {
                                return Err(bad("aspectRatio width and height must be at least 1".into()));
                            }
                        }
                    }
                }
                Some("app.bsky.embed.external") => {
                    let ext = embed.get("external").ok_or_else(|| bad("embed must have external".into()))?;
                    for k in ["uri", "title", "description"] {
                        if ext.get(k).and_then(Value::as_str).is_none() {
                            return Err(bad(format!("Record/embed/external must have the property \"{k}\"")));
                        }
                    }
                    if let Some(thumb) = ext.get("thumb") {
                        self.check_blob(Some(thumb), 1_000_000)?;
                    }
                }
                other => return Err(bad(format!("unsupported embed {other:?} (fake)"))),
            }
        }
        Ok(())
    }

    fn check_blob(&self, blob: Option<&Value>, max: usize) -> Result<(), XrpcErr> {
        let cid = blob.and_then(|b| b.pointer("/ref/$link")).and_then(Value::as_str).unwrap_or("");
        match self.blobs.get(cid) {
            None => Err(err(400, "BlobNotFound", format!("Could not find blob: {cid}"))),
            Some((mime, _)) if !mime.starts_with("image/") => {
                Err(err(400, "InvalidMimeType", format!("Wrong type of file. It is {mime} but it must match image/*.")))
            }
            Some((_, size)) if *size > max => Err(err(
                400,
                "BlobTooLarge",
                format!("This file is too large. It is {size} bytes but the maximum size is {max} bytes."),
            )),
            Some(_) => Ok(()),
        }
    }

    fn get_record(&self, q: &HashMap<String, String>) -> Result<Value, XrpcErr> {
        let repo = q.get("repo").cloned().unwrap_or_default();
        let collection = q.get("collection").cloned().unwrap_or_default();
        let rkey = q.get("rkey").cloned().unwrap_or_default();
        if repo != self.cfg.did && repo != self.cfg.handle {
            return match self.foreign.get(&(repo.clone(), collection.clone(), rkey.clone())) {
                Some(r) => Ok(json!({"uri": r.uri, "cid": r.cid, "value": r.value})),
                None if self.foreign.keys().any(|(d, _, _)| *d == repo) => {
                    Err(err(400, "RecordNotFound", format!("Could not locate record: at://{repo}/{collection}/{rkey}")))
                }
                None => Err(err(400, "InvalidRequest", format!("Could not find repo: {repo}"))),
            };
        }
        match self.records.get(&(collection.clone(), rkey.clone())) {
            Some(r) => Ok(json!({"uri": r.uri, "cid": r.cid, "value": r.value})),
            None => Err(err(
                400,
                "RecordNotFound",
                format!("Could not locate record: at://{}/{collection}/{rkey}", self.cfg.did),
            )),
        }
    }

    /// The PDS's handler: the session's own repository only; a missing record is a no-op.
    fn delete_record(&mut self, body: Option<&Value>) -> Result<Value, XrpcErr> {
        let body = body.ok_or_else(|| err(400, "InvalidRequest", "Input must be an object"))?;
        let repo = body.get("repo").and_then(Value::as_str).unwrap_or("");
        if repo != self.cfg.did && repo != self.cfg.handle {
            if self.foreign.keys().any(|(d, _, _)| d == repo) {
                return Err(err(401, "AuthenticationRequired", "Authentication Required"));
            }
            return Err(err(400, "InvalidRequest", format!("Could not find repo: {repo}")));
        }
        let collection = body.get("collection").and_then(Value::as_str).unwrap_or("").to_owned();
        let rkey = body.get("rkey").and_then(Value::as_str).unwrap_or("").to_owned();
        let key = (collection, rkey);
        let Some(existing) = self.records.get(&key) else {
            return Ok(json!({}));
        };
        if let Some(swap) = body.get("swapRecord").and_then(Value::as_str) {
            if swap != existing.cid {
                return Err(err(400, "InvalidSwap", format!("Record was at {}", existing.cid)));
            }
        }
        let gone = self.records.remove(&key).map(|r| r.cid).unwrap_or_default();
        Ok(json!({"commit": {"cid": cid_of("bafyreic", format!("delete {gone}").as_bytes()), "rev": key.1}}))
    }

    fn list_records(&self, q: &HashMap<String, String>) -> Result<Value, XrpcErr> {
        let collection = q.get("collection").cloned().unwrap_or_default();
        let limit = q.get("limit").and_then(|l| l.parse::<usize>().ok()).unwrap_or(50).clamp(1, 100);
        let cursor = q.get("cursor").cloned();
        let page: Vec<&FakeRecord> = self
            .records
            .values()
            .rev()
            .filter(|r| r.collection == collection)
            .filter(|r| cursor.as_ref().is_none_or(|c| r.rkey < *c))
            .take(limit)
            .collect();
        let next = (page.len() == limit).then(|| page.last().map(|r| r.rkey.clone())).flatten();
        let records: Vec<Value> = page.iter().map(|r| json!({"uri": r.uri, "cid": r.cid, "value": r.value})).collect();
        let mut out = json!({"records": records});
        if let Some(c) = next {
            out["cursor"] = json!(c);
        }
        Ok(out)
    }
}
