//! Crier's Nostr publisher against real relays.
//!
//! `scripts/nostr-relay-test.sh` installs `nostr-relay` (PyPI, which checks every event's
//! id and Schnorr signature), starts two on loopback (128 KiB events), and runs this file
//! with `CRIER_NOSTR_E2E_RELAYS=ws://…,ws://…` and `--ignored`: a plain `cargo test` stays
//! offline and lists these tests as ignored.
//!
//! Covered, through the real binary: a note with a tag and a link, a 3-part chain, an
//! article and its edit, a delete, a rerun after a lost `OK` in a fresh clone (the relay
//! has the event, the repository has no record), a second relay down during the first
//! run (a proxy in front of it refuses connections) and up for the next, and reactions
//! read back by `stats`.
//! Each test signs with a key of its own, so the relays' other events do not matter.

#[path = "support/common.rs"]
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{Crier, Fixture, Run};
use crier::platforms::nostr::event::{self, Draft, Signer};
use crier::platforms::nostr::relay::{Relay, Sent};
use serde_json::{Value, json};

fn relays() -> (String, String) {
    let list = std::env::var("CRIER_NOSTR_E2E_RELAYS").unwrap_or_default();
    let mut it = list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    match (it.next(), it.next()) {
        (Some(a), Some(b)) => (a, b),
        _ => panic!("set CRIER_NOSTR_E2E_RELAYS to two relay URLs: run scripts/nostr-relay-test.sh"),
    }
}

const T: Duration = Duration::from_secs(5);

/// A TCP proxy in front of a relay that refuses connections while `down`.
struct Switch {
    url: String,
    down: Arc<AtomicBool>,
}

async fn switch(upstream: &str) -> Switch {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let target = upstream.trim_start_matches("ws://").trim_end_matches('/').to_owned();
    let down = Arc::new(AtomicBool::new(false));
    let d = down.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            if d.load(Ordering::SeqCst) {
                continue; // dropped: the connection closes at once
            }
            let target = target.clone();
            tokio::spawn(async move {
                if let Ok(mut up) = tokio::net::TcpStream::connect(&target).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut up).await;
                }
            });
        }
    });
    Switch { url: format!("ws://127.0.0.1:{port}"), down }
}

struct World {
    rt: tokio::runtime::Runtime,
    repo: Fixture,
    key: String,
    relays: Vec<String>,
}

common::fixture_world!(World, repo);

impl World {
    fn new(relays: Vec<String>) -> Self {
        let rt = common::runtime(2);
        let key: String = (0..32).map(|_| format!("{:02x}", rand::random::<u8>())).collect();
        let w = Self { rt, repo: Fixture::new("crier-nostr-e2e-"), key, relays };
        w.file("crier.yaml", "publish:\n  request_timeout_secs: 3\n");
        w
    }

    fn command(&self, args: &[&str]) -> Crier {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        self.repo
            .crier()
            .env("CRIER_NOW", now)
            .env("NOSTR_SECRET_KEY", &self.key)
            .env("NOSTR_RELAYS", self.relays.join(","))
            .args(args)
    }

    #[track_caller]
    fn run(&self, args: &[&str]) -> Run {
        let run = self.command(args).run();
        println!("{run}");
        self.assert_kept_secret(&run, &self.key);
        run
    }

    fn me(&self) -> String {
        Signer::parse(&self.key).expect("key").public_key().to_hex()
    }

    /// The account's events of `kind` on `relay`.
    fn events(&self, relay: &str, kind: u16) -> Vec<Value> {
        self.rt.block_on(async {
            let r = Relay::connect(relay, T).await.expect("connect");
            r.query(&[json!({"authors": [self.me()], "kinds": [kind]})], T).await.expect("query")
        })
    }
}

fn md(front: &str, body: &str) -> String {
    format!("---\n{front}---\n\n{body}")
}

fn record(text: &str) -> Value {
    common::record(text, "nostr").expect("recorded")
}

#[test]
#[ignore = "needs real relays: scripts/nostr-relay-test.sh"]
fn a_note_a_chain_and_reactions_on_real_relays() {
    let (a, b) = relays();
    let w = World::new(vec![a.clone(), b.clone()]);
    w.file("content/note.md", md("platforms: [nostr]\n", "Posts in git #crier https://example.com/crier\n"));
    w.file("content/chain.md", md("platforms: [nostr]\n", "One.\n\n---\n\nTwo.\n\n---\n\nThree.\n"));
    w.run(&["publish"]).code(0);
    let note = record(&w.read("content/note.md"));
    assert_eq!(note["relays"], json!([a, b]));
    for relay in [&a, &b] {
        let notes = w.events(relay, event::NOTE);
        assert_eq!(notes.len(), 4, "{relay}");
        let n = notes.iter().find(|e| e["id"] == note["id"]).expect("the note");
        assert_eq!(n["content"], "Posts in git #crier https://example.com/crier");
        assert!(n["tags"].as_array().unwrap().contains(&json!(["t", "crier"])));
    }
    let chain = record(&w.read("content/chain.md"));
    let third = &chain["parts"][2]["id"];
    let on_a = w.events(&a, event::NOTE);
    let t = on_a.iter().find(|e| e["id"] == *third).expect("third part");
    assert_eq!(t["tags"][0], json!(["e", chain["id"], "", "root", w.me()]));
    assert_eq!(t["tags"][1], json!(["e", chain["parts"][1]["id"], "", "reply", w.me()]));
    // Two likes from others, each sent to both relays, and a dislike: likes are 2.
    w.rt.block_on(async {
        for (i, content) in ["+", "🤙", "-"].into_iter().enumerate() {
            let fan = Signer::parse(&format!("{:02x}", i + 1).repeat(32)).expect("fan");
            let tags = vec![event::tag(["e", note["id"].as_str().unwrap()]), event::tag(["p", &w.me()])];
            let like = fan.sign(&Draft::new(event::REACTION, tags, content), chrono::Utc::now().timestamp() as u64);
            for relay in [&a, &b] {
                let r = Relay::connect(relay, T).await.expect("connect");
                assert_eq!(r.publish(&like, T).await, Sent::Stored);
            }
        }
    });
    let run = w.run(&["stats", "content/note.md", "--format", "json"]);
    run.code(0);
    assert_eq!(run.json()["posts"][0]["metrics"]["likes"], 2, "{run}");
    // Nothing to do: nothing sent.
    let run = w.run(&["publish"]);
    run.code(0);
    assert_eq!(w.events(&a, event::NOTE).len(), 4);
}

#[test]
#[ignore = "needs real relays: scripts/nostr-relay-test.sh"]
fn an_article_its_edit_and_a_delete_on_real_relays() {
    let (a, b) = relays();
    let w = World::new(vec![a.clone(), b]);
    let front = "platforms: [nostr]\ntitle: Posts in git\nnostr:\n  kind: article\n";
    w.file("content/article.md", md(front, "Long **form**.\n"));
    w.run(&["publish"]).code(0);
    let first = record(&w.read("content/article.md"));
    w.edit("content/article.md", "Long **form**.", "Long **form**, edited.");
    w.run(&["publish"]).code(0);
    let edited = record(&w.read("content/article.md"));
    assert_ne!(edited["id"], first["id"]);
    assert_eq!((&edited["d"], &edited["published_at"]), (&first["d"], &first["published_at"]));
    let versions = w.events(&a, event::ARTICLE);
    assert_eq!(versions.len(), 1, "the relay keeps the newest version: {versions:?}");
    assert_eq!(versions[0]["id"], edited["id"]);
    assert_eq!(versions[0]["content"], "Long **form**, edited.");
    w.run(&["status", "--remote"]).code(0);
    w.run(&["delete", "content/article.md", "--yes"]).code(0);
    assert!(record(&w.read("content/article.md"))["deleted_at"].is_string());
    assert_eq!(w.events(&a, event::DELETION).len(), 1);
    assert!(w.events(&a, event::ARTICLE).is_empty(), "the relay honoured the deletion");
}

#[test]
#[ignore = "needs real relays: scripts/nostr-relay-test.sh"]
fn a_lost_ok_and_a_relay_down_then_up_on_real_relays() {
    let (a, b) = relays();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("rt");
    let sw = rt.block_on(switch(&b));
    let w = World::new(vec![a.clone(), sw.url.clone()]);
    // A crash after sending: relay A stored the note an hour ago, nothing was recorded.
    let signer = Signer::parse(&w.key).expect("key");
    let earlier = chrono::Utc::now().timestamp() as u64 - 3600;
    let draft = Draft::new(event::NOTE, vec![event::tag(["t", "once"])], "Exactly #once");
    let stored = signer.sign(&draft, earlier);
    rt.block_on(async {
        let r = Relay::connect(&a, T).await.expect("connect");
        assert_eq!(r.publish(&stored, T).await, Sent::Stored);
    });
    // A fresh clone, relay B down: the run finds the note on A and records A only.
    sw.down.store(true, Ordering::SeqCst);
    w.file("content/once.md", md("platforms: [nostr]\n", "Exactly #once\n"));
    w.run(&["publish"]).code(0);
    let rec = record(&w.read("content/once.md"));
    assert_eq!(rec["id"], stored.id.to_hex(), "the stored event was adopted, not a second one made");
    assert_eq!(rec["relays"], json!([a]));
    assert_eq!(w.events(&a, event::NOTE).len(), 1);
    assert!(w.events(&b, event::NOTE).is_empty());
    // B is back: the next run sends it the same event.
    sw.down.store(false, Ordering::SeqCst);
    w.run(&["publish"]).code(0);
    let rec = record(&w.read("content/once.md"));
    assert_eq!(rec["relays"], json!([a, sw.url]));
    let on_b = w.events(&b, event::NOTE);
    assert_eq!(on_b.len(), 1);
    assert_eq!(on_b[0]["id"], stored.id.to_hex());
    drop(rt);
}
