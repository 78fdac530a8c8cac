//! One relay over a WebSocket (NIP-01): `EVENT` answered by `OK`, `REQ` answered by
//! events up to `EOSE`, `COUNT` (NIP-45). One connection per relay and run; a task owns
//! the socket and routes what the relay says to whoever waits for it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

use super::event::Event;

/// What a relay said to an `EVENT`, or why it said nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// `OK true` (also for `duplicate:`: the relay has it).
    Stored,
    /// `OK false`: the machine-readable prefix (`blocked`, `rate-limited`, `invalid`,
    /// `pow`, `restricted`, `error`…) and the relay's words.
    Refused { prefix: String, message: String },
    /// The event went out but no `OK` came back in time: the relay may have stored it.
    NoAnswer,
    /// It could not be sent (the relay is unreachable or closed the connection).
    Unreachable(String),
}

impl Sent {
    /// What the user should do about a refusal, by its NIP-01 prefix.
    pub fn hint(prefix: &str) -> &'static str {
        match prefix {
            "blocked" | "restricted" => {
                "the relay does not take events from this key (a paid or whitelisted relay?): register the key with it, or remove it from NOSTR_RELAYS / nostr.relays"
            }
            "rate-limited" => "the relay wants fewer events: the next `crier publish` sends it the same event again",
            "invalid" => "the relay found the event malformed or its time out of range: check the machine's clock",
            "pow" => "the relay asks for proof of work (NIP-13), which crier does not do: use another relay",
            "auth-required" => "the relay wants NIP-42 authentication, which crier does not do: use another relay",
            "mute" => "the relay silently ignores this key: use another relay",
            _ => "the next `crier publish` sends the same event to this relay again",
        }
    }
}

/// What a subscription receives.
enum Streamed {
    Event(Value),
    Eose,
    Closed(String),
    Count(u64),
}

#[derive(Default)]
struct Routes {
    /// Waiting for `OK` by event id.
    oks: HashMap<String, oneshot::Sender<(bool, String)>>,
    /// Open subscriptions (and counts) by id.
    subs: HashMap<String, mpsc::UnboundedSender<Streamed>>,
    next_sub: u64,
}

fn lock(m: &Mutex<Routes>) -> MutexGuard<'_, Routes> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A connected relay. Dropping it closes the connection.
pub struct Relay {
    pub url: String,
    out: mpsc::UnboundedSender<Message>,
    routes: Arc<Mutex<Routes>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `wss://` or `ws://` URL checked and normalised (no trailing slash after the host).
pub fn parse_url(given: &str) -> Result<String, String> {
    let u = url::Url::parse(given.trim()).map_err(|e| format!("`{given}` is not a relay URL: {e}"))?;
    if !matches!(u.scheme(), "wss" | "ws") || u.host_str().is_none() {
        return Err(format!("`{given}` is not a relay URL (wss://host or ws://host)"));
    }
    let s = u.to_string();
    Ok(if u.path() == "/" && u.query().is_none() { s.trim_end_matches('/').to_owned() } else { s })
}

impl Relay {
    /// Opens the WebSocket within `timeout`.
    pub async fn connect(url: &str, timeout: Duration) -> Result<Self, String> {
        let (ws, _) = tokio::time::timeout(timeout, tokio_tungstenite::connect_async(url))
            .await
            .map_err(|_| format!("no answer within {} s", timeout.as_secs()))?
            .map_err(|e| e.to_string())?;
        let (mut sink, mut stream) = ws.split();
        let (out, mut rx) = mpsc::unbounded_channel::<Message>();
        let routes = Arc::new(Mutex::new(Routes::default()));
        let r = routes.clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    msg = rx.recv() => match msg {
                        Some(m) => if sink.send(m).await.is_err() { break },
                        None => break,
                    },
                    incoming = stream.next() => match incoming {
                        Some(Ok(Message::Text(text))) => route(&r, text.as_str()),
                        Some(Ok(Message::Ping(p))) => { let _ = sink.send(Message::Pong(p)).await; }
                        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                        Some(Ok(_)) => {}
                    },
                }
            }
            // Whoever still waits learns the connection is gone (their senders drop).
            let mut g = lock(&r);
            g.oks.clear();
            g.subs.clear();
        });
        Ok(Self { url: url.to_owned(), out, routes, task })
    }

    /// Sends `event` and waits up to `timeout` for its `OK`.
    pub async fn publish(&self, event: &Event, timeout: Duration) -> Sent {
        let id = event.id.to_hex();
        let (tx, rx) = oneshot::channel();
        lock(&self.routes).oks.insert(id.clone(), tx);
        let msg = json!(["EVENT", event]).to_string();
        if self.out.send(Message::text(msg)).is_err() {
            lock(&self.routes).oks.remove(&id);
            return Sent::Unreachable("the connection closed".to_owned());
        }
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok((true, _))) => Sent::Stored,
            Ok(Ok((false, message))) => {
                let prefix = message.split_once(':').map(|(p, _)| p.trim().to_owned()).unwrap_or_default();
                Sent::Refused { prefix, message }
            }
            // The connection closed after the event went out: it may have been stored.
            Ok(Err(_)) | Err(_) => {
                lock(&self.routes).oks.remove(&id);
                Sent::NoAnswer
            }
        }
    }

    fn open(&self) -> (String, mpsc::UnboundedReceiver<Streamed>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut g = lock(&self.routes);
        g.next_sub += 1;
        let sub = format!("crier-{}", g.next_sub);
        g.subs.insert(sub.clone(), tx);
        (sub, rx)
    }

    fn close(&self, sub: &str, send_close: bool) {
        lock(&self.routes).subs.remove(sub);
        if send_close {
            let _ = self.out.send(Message::text(json!(["CLOSE", sub]).to_string()));
        }
    }

    /// The stored events matching `filters` (`REQ` up to `EOSE`), as the relay sent them.
    pub async fn query(&self, filters: &[Value], timeout: Duration) -> Result<Vec<Value>, String> {
        let (sub, mut rx) = self.open();
        let mut req = vec![json!("REQ"), json!(sub)];
        req.extend(filters.iter().cloned());
        if self.out.send(Message::text(Value::Array(req).to_string())).is_err() {
            self.close(&sub, false);
            return Err("the connection closed".to_owned());
        }
        let mut events = Vec::new();
        let result = tokio::time::timeout(timeout, async {
            while let Some(m) = rx.recv().await {
                match m {
                    Streamed::Event(e) => events.push(e),
                    Streamed::Eose => return Ok(true),
                    Streamed::Closed(why) => return Err(format!("the relay closed the query: {why}")),
                    Streamed::Count(_) => {}
                }
            }
            Err("the connection closed".to_owned())
        })
        .await;
        match result {
            Ok(Ok(_)) => {
                self.close(&sub, true);
                Ok(events)
            }
            Ok(Err(e)) => {
                self.close(&sub, false);
                Err(e)
            }
            Err(_) => {
                self.close(&sub, true);
                Err(format!("no end of stored events within {} s", timeout.as_secs()))
            }
        }
    }

    /// NIP-45 `COUNT`: `None` when the relay does not count (it refuses, or says nothing).
    pub async fn count(&self, filters: &[Value], timeout: Duration) -> Option<u64> {
        let (sub, mut rx) = self.open();
        let mut req = vec![json!("COUNT"), json!(sub)];
        req.extend(filters.iter().cloned());
        self.out.send(Message::text(Value::Array(req).to_string())).ok()?;
        let n = tokio::time::timeout(timeout, async {
            while let Some(m) = rx.recv().await {
                match m {
                    Streamed::Count(n) => return Some(n),
                    Streamed::Closed(_) => return None,
                    _ => {}
                }
            }
            None
        })
        .await
        .ok()
        .flatten();
        self.close(&sub, false);
        n
    }
}

/// Hands one message from the relay to whoever waits for it; the rest (`NOTICE`,
/// `AUTH`, answers nobody waits for any more) is dropped.
fn route(routes: &Mutex<Routes>, text: &str) {
    let Ok(Value::Array(msg)) = serde_json::from_str::<Value>(text) else { return };
    let kind = msg.first().and_then(Value::as_str).unwrap_or("");
    let key = msg.get(1).and_then(Value::as_str).unwrap_or("").to_owned();
    let mut g = lock(routes);
    match kind {
        "OK" => {
            let ok = msg.get(2).and_then(Value::as_bool).unwrap_or(false);
            let message = msg.get(3).and_then(Value::as_str).unwrap_or("").to_owned();
            if let Some(tx) = g.oks.remove(&key) {
                let _ = tx.send((ok, message));
            }
        }
        "EVENT" | "EOSE" | "CLOSED" | "COUNT" => {
            let Some(tx) = g.subs.get(&key) else { return };
            let m = match kind {
                "EVENT" => Streamed::Event(msg.get(2).cloned().unwrap_or(Value::Null)),
                "EOSE" => Streamed::Eose,
                "CLOSED" => Streamed::Closed(msg.get(2).and_then(Value::as_str).unwrap_or("").to_owned()),
                _ => Streamed::Count(msg.get(2).and_then(|c| c.get("count")).and_then(Value::as_u64).unwrap_or(0)),
            };
            let _ = tx.send(m);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_urls_are_checked_and_normalised() {
        for (given, want) in [
            ("wss://relay.example.com/", Ok("wss://relay.example.com")),
            (" wss://relay.example.com ", Ok("wss://relay.example.com")),
            ("ws://127.0.0.1:6969", Ok("ws://127.0.0.1:6969")),
            ("wss://r.example/nostr", Ok("wss://r.example/nostr")),
            ("https://relay.example.com", Err(())),
            ("relay.example.com", Err(())),
        ] {
            assert_eq!(parse_url(given).map_err(|_| ()), want.map(str::to_owned), "{given}");
        }
    }

    #[test]
    fn refusals_are_explained_by_prefix() {
        for p in ["blocked", "rate-limited", "invalid", "pow", "restricted", "auth-required", "mute"] {
            assert_ne!(Sent::hint(p), Sent::hint("error"), "{p}");
        }
    }
}
