//! A stateful fake Nostr relay for tests (NIP-01, 09, 11, 23, 45), on a WebSocket.
//!
//! What it enforces, as relays do (platforms.md section 8): every `EVENT` must carry the
//! id NIP-01 computes and a valid BIP-340 signature (`OK false "invalid: …"` otherwise);
//! an event it has (or deleted) is answered `OK true "duplicate: …"`; kind 5 deletes the
//! author's events it names by `e` and, for `a` addresses, every version up to its
//! `created_at`; a kind 30000–39999 event replaces the author's older one with the same
//! `d` (a newer one stays, and the older is not stored); `REQ` answers the stored events
//! matching any filter (`ids`, `authors`, `kinds`, `#e`, `#d`, `#a`, `since`, `until`,
//! `limit`, newest first) then `EOSE`; `COUNT` (NIP-45) answers `{"count": n}` unless
//! counting is switched off (then `CLOSED`); events over `max_content_length` are refused.
//! An http `GET` with `Accept: application/nostr+json` answers the NIP-11 document.
//!
//! Built on the kit (`fake.rs`): its server, fault queue, message log and lock. Faults:
//! [`Fault::LoseOk`] stores the event and never answers (a lost `OK`), [`Fault::Refuse`]
//! answers `OK false` with the given message without storing, and [`FakeRelay::set_down`]
//! refuses connections (HTTP 503 to the upgrade).

// Each test binary uses a different subset of this module.
#![allow(dead_code)]

#[allow(clippy::duplicate_mod, unused_macros, unused_imports)]
#[path = "fake.rs"]
mod fake;

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade, rejection::WebSocketUpgradeRejection};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

/// A one-shot fault, for the next `EVENT` the relay receives.
#[derive(Debug, Clone)]
pub(crate) enum Fault {
    /// Store the event, send no `OK` (the client's wait times out).
    LoseOk,
    /// Answer `OK false` with this message (`blocked: …`), storing nothing.
    Refuse(String),
    /// Wait this long before handling the event.
    Delay(Duration),
}

#[derive(Default)]
pub(crate) struct RelayState {
    /// Stored events, oldest first.
    pub(crate) events: Vec<Value>,
    /// Ids deleted (a re-sent deleted event is a `duplicate`, never stored again).
    pub(crate) deleted: HashSet<String>,
    faults: fake::FaultQueue<(), Fault>,
    /// Every message a client sent, in order.
    pub(crate) log: fake::RequestLog<Value>,
    down: bool,
    /// NIP-45 COUNT answered (true by default).
    pub(crate) no_count: bool,
    /// Keeps deletion requests but deletes nothing (NIP-09 is optional for relays).
    pub(crate) ignores_deletions: bool,
    pub(crate) max_content_length: usize,
    /// Added before every answer.
    latency: Duration,
}

/// A running fake relay, stopped when dropped.
pub(crate) struct FakeRelay {
    url: String,
    shared: Arc<Mutex<RelayState>>,
    _server: fake::Server,
}

impl FakeRelay {
    pub(crate) async fn start() -> Self {
        Self::with_latency(Duration::ZERO).await
    }

    /// A relay that waits `latency` before each answer.
    pub(crate) async fn with_latency(latency: Duration) -> Self {
        let state = RelayState { max_content_length: 128 * 1024, latency, ..RelayState::default() };
        let shared = Arc::new(Mutex::new(state));
        let app = Router::new().route("/", get(entry)).with_state(shared.clone());
        let server = fake::Server::start(app, "nostr relay").await;
        let url = server.origin().replacen("http://", "ws://", 1);
        Self { url, shared, _server: server }
    }

    /// `ws://127.0.0.1:<port>`.
    pub(crate) fn url(&self) -> String {
        self.url.clone()
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, RelayState> {
        fake::lock(&self.shared)
    }

    pub(crate) fn fail_next(&self, fault: Fault) {
        self.lock().faults.push((), fault);
    }

    /// Refuses connections while `down`.
    pub(crate) fn set_down(&self, down: bool) {
        self.lock().down = down;
    }

    /// The stored events of `kind`, oldest first.
    pub(crate) fn events(&self, kind: u64) -> Vec<Value> {
        self.lock().events.iter().filter(|e| e["kind"] == kind).cloned().collect()
    }

    /// `EVENT` messages received (each an attempt to store an event).
    pub(crate) fn sent_events(&self) -> Vec<Value> {
        self.lock().log.all().into_iter().filter(|m| m[0] == "EVENT").map(|m| m[1].clone()).collect()
    }

    /// Stores an event as if another client had sent it (reactions, replies).
    pub(crate) fn seed(&self, event: Value) {
        self.lock().events.push(event);
    }

    /// Keeps deletion requests from now on without deleting anything.
    pub(crate) fn ignore_deletions(&self) {
        self.lock().ignores_deletions = true;
    }

    /// Removes an event, as a relay's operator might.
    pub(crate) fn forget(&self, id: &str) {
        self.lock().events.retain(|e| e["id"] != id);
    }
}

async fn entry(
    State(shared): State<Arc<Mutex<RelayState>>>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    if fake::lock(&shared).down {
        return fake::raw(503, "text/plain", "down".into());
    }
    match ws {
        Ok(ws) => ws.on_upgrade(move |socket| serve(socket, shared)),
        Err(_) if headers.get("accept").is_some_and(|a| a.as_bytes() == b"application/nostr+json") => {
            let max = fake::lock(&shared).max_content_length;
            fake::json(
                200,
                &json!({"name": "fake relay", "supported_nips": [1, 9, 11, 23, 45], "limitation": {"max_content_length": max}}),
            )
        }
        Err(_) => fake::raw(200, "text/plain", "Please use a Nostr client to connect.".into()).into_response(),
    }
}

async fn serve(mut socket: WebSocket, shared: Arc<Mutex<RelayState>>) {
    while let Some(Ok(msg)) = socket.recv().await {
        let Message::Text(text) = msg else { continue };
        let Ok(Value::Array(m)) = serde_json::from_str::<Value>(text.as_str()) else {
            let _ = socket.send(Message::text(json!(["NOTICE", "error: not a JSON array"]).to_string())).await;
            continue;
        };
        let (answers, delay) = {
            let mut g = fake::lock(&shared);
            g.log.record(Value::Array(m.clone()));
            let fault = if m[0] == "EVENT" { g.faults.take((), ()) } else { None };
            let delay = g.latency + if let Some(Fault::Delay(d)) = &fault { *d } else { Duration::ZERO };
            (g.handle(&m, fault), delay)
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        for a in answers {
            if socket.send(Message::text(a.to_string())).await.is_err() {
                return;
            }
        }
    }
}

/// Whether a tag filter value list names the event's tag `letter`.
fn tag_values<'a>(e: &'a Value, letter: &str) -> Vec<&'a str> {
    e["tags"].as_array().into_iter().flatten().filter(|t| t[0] == letter).filter_map(|t| t[1].as_str()).collect()
}

/// NIP-01 filter matching.
pub(crate) fn matches(f: &Value, e: &Value) -> bool {
    let within = |key: &str, v: &Value| f.get(key).and_then(Value::as_array).is_none_or(|list| list.contains(v));
    if !within("ids", &e["id"]) || !within("authors", &e["pubkey"]) || !within("kinds", &e["kind"]) {
        return false;
    }
    let at = e["created_at"].as_u64().unwrap_or(0);
    if f.get("since").and_then(Value::as_u64).is_some_and(|s| at < s) {
        return false;
    }
    if f.get("until").and_then(Value::as_u64).is_some_and(|u| at > u) {
        return false;
    }
    for (key, wanted) in f.as_object().into_iter().flatten() {
        if let Some(letter) = key.strip_prefix('#') {
            let have = tag_values(e, letter);
            let wanted: Vec<&str> = wanted.as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            if !wanted.iter().any(|w| have.contains(w)) {
                return false;
            }
        }
    }
    true
}

impl RelayState {
    fn handle(&mut self, m: &[Value], fault: Option<Fault>) -> Vec<Value> {
        match m.first().and_then(Value::as_str) {
            Some("EVENT") => self.event(m.get(1).cloned().unwrap_or(Value::Null), fault),
            Some("REQ") => {
                let sub = m.get(1).cloned().unwrap_or(Value::Null);
                let mut found: Vec<&Value> =
                    self.events.iter().filter(|e| m[2..].iter().any(|f| matches(f, e))).collect();
                found.sort_by_key(|e| std::cmp::Reverse(e["created_at"].as_u64()));
                if let Some(limit) = m[2..].iter().filter_map(|f| f["limit"].as_u64()).max() {
                    found.truncate(limit as usize);
                }
                let mut out: Vec<Value> = found.into_iter().map(|e| json!(["EVENT", sub, e])).collect();
                out.push(json!(["EOSE", sub]));
                out
            }
            Some("COUNT") => {
                let sub = m.get(1).cloned().unwrap_or(Value::Null);
                if self.no_count {
                    return vec![json!(["CLOSED", sub, "unsupported: COUNT is not supported"])];
                }
                let n = self.events.iter().filter(|e| m[2..].iter().any(|f| matches(f, e))).count();
                vec![json!(["COUNT", sub, {"count": n}])]
            }
            Some("CLOSE") => Vec::new(),
            _ => vec![json!(["NOTICE", "error: unknown message"])],
        }
    }

    fn event(&mut self, e: Value, fault: Option<Fault>) -> Vec<Value> {
        let id = e["id"].as_str().unwrap_or("").to_owned();
        let ok = |accepted: bool, msg: &str| vec![json!(["OK", id, accepted, msg])];
        let Ok(parsed) = serde_json::from_value::<nostr::prelude::Event>(e.clone()) else {
            return ok(false, "invalid: malformed event");
        };
        if !parsed.verify_id() {
            return ok(false, "invalid: event id does not match");
        }
        if !parsed.verify_signature() {
            return ok(false, "invalid: bad signature");
        }
        if let Some(Fault::Refuse(msg)) = &fault {
            return ok(false, msg);
        }
        if parsed.content.len() > self.max_content_length {
            return ok(false, "invalid: content is too long");
        }
        if self.deleted.contains(&id) || self.events.iter().any(|s| s["id"] == id) {
            return ok(true, "duplicate: already have this event");
        }
        let kind = e["kind"].as_u64().unwrap_or(0);
        let author = e["pubkey"].clone();
        if kind == 5 && !self.ignores_deletions {
            let at = e["created_at"].as_u64().unwrap_or(0);
            let ids: Vec<String> = tag_values(&e, "e").into_iter().map(str::to_owned).collect();
            let addrs: Vec<String> = tag_values(&e, "a").into_iter().map(str::to_owned).collect();
            let gone: Vec<String> = self
                .events
                .iter()
                .filter(|s| s["pubkey"] == author)
                .filter(|s| {
                    let sid = s["id"].as_str().unwrap_or("");
                    let addr = format!(
                        "{}:{}:{}",
                        s["kind"],
                        s["pubkey"].as_str().unwrap_or(""),
                        tag_values(s, "d").first().copied().unwrap_or("")
                    );
                    ids.iter().any(|i| i == sid)
                        || (addrs.contains(&addr) && s["created_at"].as_u64().unwrap_or(0) <= at)
                })
                .filter_map(|s| s["id"].as_str().map(str::to_owned))
                .collect();
            self.events.retain(|s| !gone.contains(&s["id"].as_str().unwrap_or("").to_owned()));
            self.deleted.extend(gone);
        }
        if (30000..40000).contains(&kind) {
            let d = tag_values(&e, "d").first().copied().unwrap_or("").to_owned();
            let same = |s: &Value| {
                s["kind"] == kind && s["pubkey"] == author && tag_values(s, "d").first().copied().unwrap_or("") == d
            };
            let newer = self.events.iter().any(|s| {
                same(s)
                    && (s["created_at"].as_u64() > e["created_at"].as_u64()
                        || (s["created_at"] == e["created_at"] && s["id"].as_str() < e["id"].as_str()))
            });
            if newer {
                return ok(true, "duplicate: have a newer version");
            }
            self.events.retain(|s| !same(s));
        }
        self.events.push(e);
        if matches!(fault, Some(Fault::LoseOk)) {
            return Vec::new();
        }
        ok(true, "")
    }
}
