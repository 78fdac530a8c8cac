//! `crier` end to end for Nostr: the real binary against fake relays (WebSockets that
//! check every id and signature) — notes with tags and links, a chain threaded per
//! NIP-10, an article and its edit, several relays (one refusing, one down), a lost `OK`
//! followed by a rerun, a bad key, delete, drift and stats.

#[path = "support/common.rs"]
mod common;
#[path = "support/fake_nostr.rs"]
mod fake_nostr;

use crier::platforms::nostr::event::{self, Draft, Signer};
use fake_nostr::{FakeRelay, Fault};
use serde_json::{Value, json};

/// The account's key (hex), as a user would put it in `.env`.
const KEY: &str = "5e1a3f4d2b0c9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f";

/// The account's two relays.
struct Relays {
    a: FakeRelay,
    b: FakeRelay,
}

common::world!(Relays, |f| [
    secret("NOSTR_SECRET_KEY", KEY),
    plain("NOSTR_RELAYS", format!("{},{}", f.a.url(), f.b.url())),
]);

impl World {
    fn new() -> Self {
        let config = "publish:\n  request_timeout_secs: 1\n  retry_initial_delay_ms: 10\n";
        Self::configured(2, "crier-nostr-", config, || async {
            Relays { a: FakeRelay::start().await, b: FakeRelay::start().await }
        })
    }

    fn me(&self) -> String {
        Signer::parse(KEY).expect("key").public_key().to_hex()
    }
}

fn md(front: &str, body: &str) -> String {
    format!("---\n{front}---\n\n{body}")
}

fn record(text: &str) -> Option<Value> {
    common::record(text, "nostr")
}

fn tags(e: &Value) -> Vec<Vec<String>> {
    serde_json::from_value(e["tags"].clone()).expect("tags")
}

#[test]
fn a_note_with_a_tag_and_a_link_goes_to_both_relays_once() {
    let w = World::new();
    w.file(
        "content/hello.md",
        md("platforms: [nostr]\n", "Hello **#Nostr** from [crier](https://example.com/crier)!\n"),
    );
    let run = w.run(&["publish"]);
    run.code(0);
    let (on_a, on_b) = (w.fake.a.events(1), w.fake.b.events(1));
    assert_eq!((on_a.len(), on_b.len()), (1, 1), "{run}");
    assert_eq!(on_a[0]["id"], on_b[0]["id"], "the same event on both relays");
    let e = &on_a[0];
    assert_eq!(e["content"], "Hello #Nostr from crier (https://example.com/crier)!");
    assert_eq!(tags(e), [["t", "nostr"]]);
    assert_eq!(e["pubkey"], w.me());
    let rec = record(&w.read("content/hello.md")).expect("recorded");
    assert_eq!(rec["id"], e["id"]);
    assert_eq!(rec["relays"], json!([w.fake.a.url(), w.fake.b.url()]));
    assert!(rec["url"].as_str().is_some_and(|u| u.starts_with("https://njump.me/nevent1")), "{rec}");
    // Dated when it was sent (CRIER_NOW), not when the file was written.
    assert_eq!(rec["published_at"], common::NOW);
    assert_eq!(e["created_at"].as_i64(), chrono::DateTime::parse_from_rfc3339(common::NOW).ok().map(|t| t.timestamp()));
    let sent = w.fake.a.sent_events().len() + w.fake.b.sent_events().len();
    w.run(&["publish"]).code(0);
    assert_eq!(
        w.fake.a.sent_events().len() + w.fake.b.sent_events().len(),
        sent,
        "a rerun with nothing to do sends no event"
    );
}

#[test]
fn a_changed_note_is_left_alone_with_a_warning() {
    let w = World::new();
    let before = w.publish_and_record("content/a.md", md("platforms: [nostr]\n", "First words.\n"), "nostr");
    w.edit("content/a.md", "First words.", "Second thoughts.");
    let dry = w.run(&["publish", "--dry-run"]);
    assert!(dry.all().contains("cannot be edited, so it is left alone"), "{dry}");
    let run = w.run(&["publish"]);
    run.code(0);
    assert_eq!(w.fake.a.events(1).len(), 1, "no second note: {run}");
    assert_eq!(record(&w.read("content/a.md")).expect("kept"), before);
}

#[test]
fn a_chain_replies_per_nip10_with_root_on_every_part() {
    let w = World::new();
    w.file("content/chain.md", md("platforms: [nostr]\n", "One.\n\n---\n\nTwo.\n\n---\n\nThree.\n"));
    let run = w.run(&["publish"]);
    run.code(0);
    let notes = w.fake.a.events(1);
    assert_eq!(notes.len(), 3, "{run}");
    let by_text = |t: &str| notes.iter().find(|e| e["content"] == t).expect(t).clone();
    let (one, two, three) = (by_text("One."), by_text("Two."), by_text("Three."));
    let (root, me) = (one["id"].as_str().unwrap(), w.me());
    assert_eq!(tags(&two), [vec!["e", root, "", "root", &me], vec!["p", &me]]);
    assert_eq!(
        tags(&three),
        [vec!["e", root, "", "root", &me], vec!["e", two["id"].as_str().unwrap(), "", "reply", &me], vec!["p", &me]]
    );
    let rec = record(&w.read("content/chain.md")).expect("recorded");
    let ids: Vec<&Value> = rec["parts"].as_array().expect("parts").iter().map(|p| &p["id"]).collect();
    assert_eq!(ids, [&one["id"], &two["id"], &three["id"]]);
    assert_eq!(rec["id"], one["id"]);
}

#[test]
fn an_article_is_replaced_in_place_and_keeps_its_first_publication() {
    let w = World::new();
    let front = "platforms: [nostr]\ntitle: Posts in git\ntags: [Rust, git]\nnostr:\n  kind: article\n";
    w.file("content/posts-in-git.md", md(front, "# Why\n\nBecause *Markdown* stays.\n"));
    let w = w.pushed();
    w.run(&["publish"]).code(0);
    let first = w.fake.a.events(30023);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0]["content"], "# Why\n\nBecause *Markdown* stays.");
    let at = first[0]["created_at"].as_u64().unwrap();
    assert_eq!(
        tags(&first[0]),
        [
            vec!["d", "posts-in-git"],
            vec!["title", "Posts in git"],
            vec!["published_at", &at.to_string()],
            vec!["t", "rust"],
            vec!["t", "git"]
        ]
    );
    let rec = record(&w.read("content/posts-in-git.md")).expect("recorded");
    assert_eq!(rec["d"], "posts-in-git");
    assert!(rec["url"].as_str().is_some_and(|u| u.starts_with("https://njump.me/naddr1")), "{rec}");
    w.edit("content/posts-in-git.md", "stays.", "stays, edited.");
    common::git(w.root(), &["commit", "-qam", "edit the article"]);
    let run = w.command(&["publish"]).env("CRIER_NOW", "2026-11-28T10:00:00Z").run();
    run.code(0);
    // The new version's record (its id changed) is committed and pushed like any record.
    assert_eq!(common::git(w.root(), &["status", "--porcelain"]), "", "{run}");
    assert_eq!(
        common::git(w.root(), &["show", "origin/main:content/posts-in-git.md"]),
        w.read("content/posts-in-git.md")
    );
    let now = w.fake.a.events(30023);
    assert_eq!(now.len(), 1, "the relay keeps the newest version only: {run}");
    assert_ne!(now[0]["id"], first[0]["id"]);
    assert!(now[0]["created_at"].as_u64().unwrap() > at, "later than the version it replaces, even at the same clock");
    assert!(now[0]["content"].as_str().unwrap().ends_with("stays, edited."));
    assert!(tags(&now[0]).contains(&vec!["published_at".to_owned(), at.to_string()]));
    let after = record(&w.read("content/posts-in-git.md")).expect("recorded");
    assert_eq!(
        (after["id"].as_str(), &after["d"], &after["published_at"]),
        (now[0]["id"].as_str(), &rec["d"], &rec["published_at"])
    );
}

#[test]
fn a_lost_ok_then_a_rerun_in_a_fresh_clone_sends_the_same_event_not_a_second() {
    let w = World::new();
    w.file("content/once.md", md("platforms: [nostr]\n", "Exactly once.\n"));
    // Relay A stores the note but its OK is lost; relay B is down.
    w.fake.a.fail_next(Fault::LoseOk);
    w.fake.b.set_down(true);
    let run = w.run(&["publish"]);
    run.code(1);
    assert!(run.all().contains("no relay accepted event"), "{run}");
    assert!(record(&w.read("content/once.md")).is_none(), "nothing recorded");
    assert_eq!(w.fake.a.events(1).len(), 1);
    // An hour later, in a clone without any trace of that run, B is back.
    w.fake.b.set_down(false);
    let run = w.command(&["publish"]).env("CRIER_NOW", "2026-11-28T11:00:00Z").run();
    run.code(0);
    let (on_a, on_b) = (w.fake.a.events(1), w.fake.b.events(1));
    assert_eq!((on_a.len(), on_b.len()), (1, 1), "{run}");
    assert_eq!(on_a[0]["id"], on_b[0]["id"], "B got the event A stored, not a new one");
    let rec = record(&w.read("content/once.md")).expect("recorded");
    assert_eq!(rec["id"], on_a[0]["id"]);
    assert_eq!(rec["published_at"], common::NOW, "dated when it was first sent");
    assert_eq!(w.fake.a.sent_events().len(), 1, "A was not sent it again");
}

#[test]
fn a_relay_down_at_first_gets_the_same_events_on_the_next_run() {
    let w = World::new();
    w.file("content/chain.md", md("platforms: [nostr]\n", "One.\n\n---\n\nTwo.\n"));
    w.fake.b.set_down(true);
    let run = w.run(&["publish"]);
    run.code(0);
    assert_eq!(record(&w.read("content/chain.md")).expect("recorded")["relays"], json!([w.fake.a.url()]), "{run}");
    w.fake.b.set_down(false);
    let run = w.run(&["publish"]);
    run.code(0);
    let rec = record(&w.read("content/chain.md")).expect("recorded");
    assert_eq!(rec["relays"], json!([w.fake.a.url(), w.fake.b.url()]), "{run}");
    let ids = |r: &FakeRelay| r.events(1).iter().map(|e| e["id"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(&w.fake.b), ids(&w.fake.a), "the same events, not new ones");
    let sent = w.fake.b.sent_events().len();
    w.run(&["publish"]).code(0);
    assert_eq!(w.fake.b.sent_events().len(), sent, "nothing left to do: nothing sent");
}

#[test]
fn a_refusing_relay_is_explained_and_left_out_of_the_record() {
    let w = World::new();
    w.file("content/a.md", md("platforms: [nostr]\n", "Hi.\n"));
    w.fake.b.fail_next(Fault::Refuse("blocked: pubkey not on the whitelist".into()));
    let run = w.run(&["publish"]);
    run.code(0);
    assert!(run.all().contains("blocked: pubkey not on the whitelist"), "{run}");
    assert!(run.all().contains("register the key"), "{run}");
    let rec = record(&w.read("content/a.md")).expect("recorded");
    assert_eq!(rec["relays"], json!([w.fake.a.url()]));
    // No relay accepts: the post fails and nothing is recorded.
    let w = World::new();
    w.file("content/b.md", md("platforms: [nostr]\n", "Nobody wants this.\n"));
    w.fake.a.fail_next(Fault::Refuse("rate-limited: slow down".into()));
    w.fake.b.fail_next(Fault::Refuse("invalid: bad".into()));
    let run = w.run(&["publish"]);
    run.code(1);
    assert!(run.all().contains("rate-limited: slow down"), "{run}");
    assert!(record(&w.read("content/b.md")).is_none());
}

#[test]
fn doctor_names_the_key_and_each_relays_limits() {
    let w = World::new();
    let run = w.run(&["doctor"]);
    let npub = {
        use nostr::nips::nip19::ToBech32;
        Signer::parse(KEY).expect("key").public_key().to_bech32().expect("npub")
    };
    assert!(run.all().contains(&npub), "{run}");
    for relay in [w.fake.a.url(), w.fake.b.url()] {
        assert!(
            run.all()
                .contains(&format!("{relay} answers a test subscription; counts (NIP-45); max_content_length 131072")),
            "{run}"
        );
    }
    w.fake.b.set_down(true);
    let run = w.run(&["doctor"]);
    assert!(run.all().contains(&format!("{} does not answer a subscription", w.fake.b.url())), "{run}");
}

#[test]
fn a_bad_key_is_exit_2_with_a_hint_and_never_shown() {
    let w = World::new();
    w.file("content/a.md", md("platforms: [nostr]\n", "Hi.\n"));
    for bad in ["nsec1notakeyatall", "abc123"] {
        let run = w.command(&["publish"]).env("NOSTR_SECRET_KEY", bad).run();
        run.code(2);
        assert!(run.all().contains("NOSTR_SECRET_KEY"), "{run}");
        assert!(!run.all().contains(bad), "the key is printed: {run}");
    }
    assert!(w.fake.a.sent_events().is_empty());
}

#[test]
fn delete_names_every_part_and_drift_and_stats_read_the_relays() {
    let w = World::new();
    let rec = w.publish_and_record("content/chain.md", md("platforms: [nostr]\n", "One.\n\n---\n\nTwo.\n"), "nostr");
    let root = rec["id"].as_str().unwrap().to_owned();
    // Someone else likes the first note (seen on both relays, counted once) and replies.
    let fan = Signer::parse(&"07".repeat(32)).expect("fan");
    let like = fan.sign(
        &Draft::new(event::REACTION, vec![event::tag(["e", &root]), event::tag(["p", &w.me()])], "+"),
        1_800_000_000,
    );
    let reply = fan.sign(&Draft::new(event::NOTE, vec![event::tag(["e", &root, "", "root"])], "Nice"), 1_800_000_001);
    for e in [&like, &reply] {
        let v = serde_json::to_value(e).expect("json");
        w.fake.a.seed(v.clone());
        w.fake.b.seed(v);
    }
    let run = w.run(&["stats", "--format", "json"]);
    run.code(0);
    let v = run.json();
    let m = &v["posts"][0]["metrics"];
    assert_eq!(
        (m["likes"].as_u64(), m["replies"].as_u64(), m["reposts"].as_u64()),
        (Some(1), Some(1), Some(0)),
        "{run}"
    );
    w.run(&["status", "--remote"]).code(0);
    w.fake.a.forget(rec["parts"][1]["id"].as_str().unwrap());
    w.fake.b.forget(rec["parts"][1]["id"].as_str().unwrap());
    let run = w.run(&["status", "--remote"]);
    assert!(run.all().contains("note 2 of 2 is no longer on its relays"), "{run}");
    let run = w.run(&["delete", "content/chain.md", "--yes"]);
    run.code(0);
    let del = w.fake.a.events(5);
    assert_eq!(del.len(), 1, "{run}");
    let named: Vec<Vec<String>> = tags(&del[0]).into_iter().filter(|t| t[0] == "e").collect();
    assert_eq!(named.len(), 2);
    assert!(w.fake.a.events(1).iter().all(|e| e["pubkey"] != w.me()), "the relay dropped the notes");
    assert!(record(&w.read("content/chain.md")).expect("kept")["deleted_at"].is_string());
    let _ = &w.rt;
}

#[test]
fn a_post_deleted_then_published_again_is_a_new_event_not_the_deleted_one() {
    // Relay a ignores deletions (NIP-09 is optional), so it still offers the old events;
    // relay b honours them and would answer "duplicate" to the old ids, keeping them hidden.
    let w = World::new();
    w.fake.a.ignore_deletions();
    let note = md("platforms: [nostr]\n", "Said twice.\n");
    let article = md("platforms: [nostr]\ntitle: Twice\nnostr:\n  kind: article\n", "Written twice.\n");
    let first = [
        w.publish_and_record("content/note.md", &note, "nostr"),
        w.publish_and_record("content/twice.md", &article, "nostr"),
    ];
    w.run(&["delete", "content/note.md", "content/twice.md", "--yes"]).code(0);
    // The user takes the entries out to publish the posts again.
    w.file("content/note.md", &note).file("content/twice.md", &article);
    w.run(&["publish"]).code(0);
    for (file, old) in ["content/note.md", "content/twice.md"].into_iter().zip(&first) {
        let new = record(&w.read(file)).expect("recorded again");
        assert_ne!(new["id"], old["id"], "{file}: the deleted event was recorded again");
        let on_b: Vec<Value> = [1, 30023].into_iter().flat_map(|k| w.fake.b.events(k)).collect();
        assert!(on_b.iter().any(|e| e["id"] == new["id"]), "{file}: relay b shows the new event");
    }
}

#[test]
fn media_by_url_gets_an_imeta_tag_only_with_more_than_its_url() {
    // NIP-92: "Each tag needs url and at least one other field" (reference §8.2).
    let w = World::new();
    let front =
        "platforms: [nostr]\nmedia:\n  - url: https://cdn.example/cat.webp\n  - url: https://cdn.example/render?id=3\n";
    w.file("content/a.md", md(front, "Two pictures\n"));
    let run = w.run(&["publish", "--no-commit"]);
    run.code(0);
    let events = w.fake.a.events(1);
    assert_eq!(events.len(), 1, "{run}");
    let content = events[0]["content"].as_str().unwrap_or_default();
    assert!(content.contains("https://cdn.example/render?id=3"), "both URLs are in the note: {content}");
    let imeta: Vec<Vec<String>> = tags(&events[0]).into_iter().filter(|t| t[0] == "imeta").collect();
    assert_eq!(imeta, [["imeta", "url https://cdn.example/cat.webp", "m image/webp"]]);
}
