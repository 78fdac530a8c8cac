//! crier's Bluesky publishing against a real PDS (`@atproto/dev-env`), started
//! by `scripts/bluesky-pds-test.sh`, which sets:
//!
//! - `CRIER_BLUESKY_E2E_URL`: the PDS (e.g. `http://localhost:2583`);
//! - `CRIER_BLUESKY_E2E_IDENTIFIER`, `CRIER_BLUESKY_E2E_PASSWORD`: a handle and an app password.
//!
//! Without a PDS these tests are listed as ignored (with the reason) by a plain
//! `cargo test`; the script runs them with `--ignored`, and then a missing
//! variable fails loudly instead of passing.

#[path = "support/common.rs"]
mod common;

use std::sync::Mutex;
use std::time::Duration;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::{DateTime, Utc};
use crier::media_probe::MediaFormat;
use crier::platforms::bluesky::publish::{BlueskyPublisher, BlueskyRecord, Job, PublishOptions};
use crier::platforms::bluesky::richtext::RichText;
use crier::platforms::bluesky::xrpc::{ClientOptions, RecordView, XrpcClient};
use crier::platforms::bluesky::{BlueskyOutput, BlueskyPart, tid};
use crier::render::text::{LinkStyle, markdown_to_text_with};
use crier::rules::media::MediaRef;
use secrecy::SecretString;
use serde_json::{Value, json};

const POST: &str = "app.bsky.feed.post";

struct Pds {
    url: String,
    identifier: String,
    password: SecretString,
}

fn pds() -> Pds {
    let var = |k: &str| {
        std::env::var(k).unwrap_or_else(|_| {
            panic!("{k} is not set: these tests run against a real PDS; start one with scripts/bluesky-pds-test.sh")
        })
    };
    Pds {
        url: var("CRIER_BLUESKY_E2E_URL"),
        identifier: var("CRIER_BLUESKY_E2E_IDENTIFIER"),
        password: SecretString::from(var("CRIER_BLUESKY_E2E_PASSWORD")),
    }
}

fn opts() -> PublishOptions {
    PublishOptions {
        client: ClientOptions {
            request_timeout: Duration::from_secs(20),
            max_total_wait: Duration::from_secs(20),
            initial_delay: Duration::from_millis(200),
            ..ClientOptions::default()
        },
        max_image_bytes: 1_000_000,
        card_timeout: Duration::from_secs(5),
    }
}

/// Each run of the script starts an empty PDS, but a developer may rerun the
/// tests against the same one: a per-process anchor keeps runs apart.
fn anchor() -> DateTime<Utc> {
    static ANCHOR: std::sync::OnceLock<DateTime<Utc>> = std::sync::OnceLock::new();
    *ANCHOR.get_or_init(|| {
        let now = Utc::now();
        DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now)
    })
}

fn part(md: &str) -> BlueskyPart {
    let rich = RichText::from_marked(&markdown_to_text_with(md, LinkStyle::Marked, None));
    BlueskyPart { text: rich.text, facets: rich.facets, media: Vec::new(), origin: 0..0, dropped_images: Vec::new() }
}

fn output(parts: Vec<BlueskyPart>) -> BlueskyOutput {
    BlueskyOutput { parts, template: "bluesky".into(), langs: vec!["en".into()], link_card: true }
}

async fn connect(p: &Pds) -> BlueskyPublisher {
    BlueskyPublisher::connect(&p.url, &p.identifier, &p.password, opts())
        .await
        .unwrap_or_else(|e| panic!("sign in: {}", e.message))
}

async fn publish(publisher: &mut BlueskyPublisher, out: &BlueskyOutput, path: &str) -> (BlueskyRecord, Vec<String>) {
    let notes = Mutex::new(Vec::new());
    let progress = |s: &str| notes.lock().expect("lock").push(s.to_owned());
    let job = Job { out, path, anchor: anchor(), hash: "sha256:e2e", now: "2026-11-28T10:00:00Z", progress: &progress };
    let rec = publisher.publish(&job).await.unwrap_or_else(|e| panic!("publish {path}: {}", e.message));
    (rec, notes.into_inner().expect("lock"))
}

async fn fetch(client: &XrpcClient, uri: &str) -> RecordView {
    let rkey = uri.rsplit('/').next().expect("rkey");
    client.get_record(POST, rkey).await.expect("getRecord").expect("the record exists")
}

/// A local web page with OpenGraph tags and a card image.
async fn page_server() -> String {
    let png =
        common::encode_png(image::RgbImage::from_fn(120, 63, |x, y| image::Rgb([(x * 2) as u8, (y * 4) as u8, 90])));
    let app = Router::new()
        .route(
            "/article",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    r#"<!doctype html><html><head><title>fallback</title>
<meta property="og:title" content="crier &amp; Bluesky">
<meta property="og:description" content="Link cards from OpenGraph">
<meta property="og:image" content="/card.png"></head><body>hi</body></html>"#,
                )
            }),
        )
        .route(
            "/card.png",
            get(move || async move { ([(header::CONTENT_TYPE, "image/png")], png.clone()).into_response() }),
        );
    common::serve(app).await.0
}

#[tokio::test]
#[ignore = "needs a real PDS: run scripts/bluesky-pds-test.sh"]
async fn text_post_with_facets() {
    let p = pds();
    let mut publisher = connect(&p).await;
    let me = publisher.client().account().expect("signed in");
    let md = format!("Déjà vu 😀 日本 [the spec](https://atproto.com/specs/lexicon) #crier @{}", me.handle);
    let out = output(vec![part(&md)]);
    let (rec, _) = publish(&mut publisher, &out, "content/e2e-text.md").await;
    assert!(rec.url.starts_with(&format!("https://bsky.app/profile/{}/post/", me.did)), "{}", rec.url);
    let view = fetch(publisher.client(), &rec.id).await;
    assert_eq!(view.cid.as_deref(), Some(rec.cid.as_str()));
    let text = view.value["text"].as_str().expect("text");
    let facets = view.value["facets"].as_array().expect("facets");
    let shown = |i: usize| {
        let s = facets[i]["index"]["byteStart"].as_u64().expect("start") as usize;
        let e = facets[i]["index"]["byteEnd"].as_u64().expect("end") as usize;
        text[s..e].to_owned()
    };
    assert_eq!(facets.len(), 3, "{facets:?}");
    assert_eq!(shown(0), "the spec");
    assert_eq!(facets[0]["features"][0]["uri"], "https://atproto.com/specs/lexicon");
    assert_eq!(shown(1), "#crier");
    assert_eq!(shown(2), format!("@{}", me.handle));
    assert_eq!(facets[2]["features"][0]["did"], me.did.as_str());
    assert_eq!(view.value["langs"], json!(["en"]));
    println!("text post: {} ({})", rec.id, rec.url);
}

#[tokio::test]
#[ignore = "needs a real PDS: run scripts/bluesky-pds-test.sh"]
async fn chain_replies_to_root_and_parent() {
    let p = pds();
    let mut publisher = connect(&p).await;
    let out = output(vec![part("chain one"), part("chain two"), part("chain three")]);
    let (rec, _) = publish(&mut publisher, &out, "content/e2e-chain.md").await;
    assert_eq!(rec.parts.len(), 3);
    let c = publisher.client();
    let (a, b, d) =
        (fetch(c, &rec.parts[0].id).await, fetch(c, &rec.parts[1].id).await, fetch(c, &rec.parts[2].id).await);
    let sref = |v: &RecordView| json!({"uri": v.uri, "cid": v.cid});
    assert_eq!(b.value["reply"]["root"], sref(&a));
    assert_eq!(b.value["reply"]["parent"], sref(&a));
    assert_eq!(d.value["reply"]["root"], sref(&a));
    assert_eq!(d.value["reply"]["parent"], sref(&b));
    println!("chain: {}", rec.parts.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(" → "));
}

#[tokio::test]
#[ignore = "needs a real PDS: run scripts/bluesky-pds-test.sh"]
async fn image_post_with_alt_and_aspect_ratio() {
    let p = pds();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("photo.png");
    let img = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 3, y as u8 * 5, 200]));
    img.save(&path).expect("save");
    let mut first = part("an image");
    first.media = vec![MediaRef {
        path: Some("media/photo.png".into()),
        abs: Some(path),
        url: None,
        alt: Some("a gradient".into()),
        format: MediaFormat::Png,
        info: None,
        span: 0..0,
        alt_span: None,
        problems: Vec::new(),
    }];
    let mut publisher = connect(&p).await;
    let (rec, _) = publish(&mut publisher, &output(vec![first]), "content/e2e-image.md").await;
    let view = fetch(publisher.client(), &rec.id).await;
    let image = &view.value["embed"]["images"][0];
    assert_eq!(image["alt"], "a gradient");
    assert_eq!(image["aspectRatio"], json!({"width": 64, "height": 48}));
    assert_eq!(image["image"]["mimeType"], "image/png");
    assert!(image["image"]["ref"]["$link"].as_str().is_some_and(|l| l.starts_with("baf")), "{image}");
    println!("image post: {}", rec.id);
}

#[tokio::test]
#[ignore = "needs a real PDS: run scripts/bluesky-pds-test.sh"]
async fn link_card_from_a_local_page() {
    let p = pds();
    let site = page_server().await;
    let out = output(vec![part(&format!("read [this article]({site}/article)"))]);
    let mut publisher = connect(&p).await;
    let (rec, notes) = publish(&mut publisher, &out, "content/e2e-card.md").await;
    let view = fetch(publisher.client(), &rec.id).await;
    let ext = &view.value["embed"]["external"];
    assert_eq!(view.value["embed"]["$type"], "app.bsky.embed.external", "{notes:?}");
    assert_eq!(ext["uri"], format!("{site}/article"));
    assert_eq!(ext["title"], "crier & Bluesky");
    assert_eq!(ext["description"], "Link cards from OpenGraph");
    assert_eq!(ext["thumb"]["mimeType"], "image/png");

    // A page that does not answer: a post without a card, and a note.
    let out = output(vec![part("read [gone](http://127.0.0.1:9/nothing)")]);
    let (rec, notes) = publish(&mut publisher, &out, "content/e2e-nocard.md").await;
    assert!(fetch(publisher.client(), &rec.id).await.value.get("embed").is_none());
    assert!(notes.iter().any(|n| n.contains("no link card")), "{notes:?}");
    println!("card post: {}", rec.id);
}

#[tokio::test]
#[ignore = "needs a real PDS: run scripts/bluesky-pds-test.sh"]
async fn rerun_after_a_lost_reply_lands_on_the_same_record() {
    let p = pds();
    let out = output(vec![part("exactly once"), part("even for chains")]);
    let path = "content/e2e-once.md";
    // Run 1 publishes, and its reply is "lost": nothing is recorded.
    let (first, _) = publish(&mut connect(&p).await, &out, path).await;
    // Run 2 (a fresh clone: nothing recorded, same keys) must find both parts.
    let mut again = connect(&p).await;
    let (second, _) = publish(&mut again, &out, path).await;
    assert_eq!(first, second, "the rerun recorded the same posts");
    // The post was edited before the rerun: the parts already out are found at
    // their keys (InvalidSwap, then getRecord) and adopted, not posted again.
    let edited = output(vec![part("exactly once (edited)"), part("even for chains")]);
    let (third, notes) = publish(&mut connect(&p).await, &edited, path).await;
    assert_eq!(third.id, first.id);
    assert!(notes.iter().any(|n| n.contains("already on Bluesky")), "{notes:?}");

    // What the protocol answers, which the design relies on.
    let c = again.client();
    let slot = tid::slot(anchor(), path, 0, 0);
    let existing = fetch(c, &first.id).await;
    // Create-only write of the identical record: a no-op with the same uri and cid.
    let same = c.put_record(POST, &slot.rkey, &existing.value, true).await.expect("identical putRecord");
    assert_eq!((same.uri.as_str(), same.cid.as_str()), (first.id.as_str(), first.cid.as_str()));
    // Create-only write of another record at a taken key: refused, nothing replaced.
    let mut other = existing.value.clone();
    other["text"] = json!("someone else's post");
    let e = c.put_record(POST, &slot.rkey, &other, true).await.expect_err("swapRecord null on a taken key");
    assert_eq!(e.xrpc_name(), Some("InvalidSwap"), "{e}");
    assert_eq!(fetch(c, &first.id).await.cid, existing.cid);
    let (page, _) = c.list_records(POST, 100, None).await.expect("listRecords");
    let mine: Vec<&Value> = page.iter().filter(|r| r.value["text"] == "exactly once").map(|r| &r.value).collect();
    assert_eq!(mine.len(), 1, "one post, not two");
    println!("exactly once: {} (rerun found it: {:?})", first.id, notes);
}

/// A content repository in a temp dir: `content/` and a crier.yaml with `config` added.
fn project(config: &str) -> tempfile::TempDir {
    let repo = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(repo.path().join("content")).expect("mkdir");
    std::fs::write(repo.path().join("crier.yaml"), format!("publish:\n  request_timeout_secs: 20\n{config}"))
        .expect("write");
    repo
}

/// Runs the crier binary in `root` against the PDS.
fn crier(p: &Pds, root: &std::path::Path, args: &[&str]) -> (i32, String) {
    use secrecy::ExposeSecret as _;
    // A real PDS dates records by the real clock.
    let run = common::Crier::new(root)
        .env_remove("CRIER_NOW")
        .env("CRIER_BLUESKY_URL", &p.url)
        .env("BLUESKY_IDENTIFIER", &p.identifier)
        .env("BLUESKY_APP_PASSWORD", p.password.expose_secret())
        .args(args)
        .run();
    let text = run.all();
    assert!(!text.contains(p.password.expose_secret()), "the app password leaked:\n{text}");
    (run.code, text)
}

fn remote_state(json: &str, file: &str) -> String {
    let v: Value = serde_json::from_str(json.lines().next().unwrap_or("")).unwrap_or_else(|e| panic!("{e}: {json}"));
    v["posts"]
        .as_array()
        .and_then(|l| l.iter().find(|p| p["file"] == file))
        .map(|p| p["remote"]["state"].as_str().unwrap_or("").to_owned())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a real PDS: run scripts/bluesky-pds-test.sh"]
async fn delete_and_status_remote_through_the_binary() {
    let p = pds();
    let repo = project("");
    let root = repo.path();
    std::fs::write(
        root.join("content/chain.md"),
        "---\nplatforms: [bluesky]\n---\nDelete me, part one\n\n---\n\nDelete me, part two\n",
    )
    .expect("write");
    std::fs::write(root.join("content/solo.md"), "---\nplatforms: [bluesky]\n---\nGone in the app\n").expect("write");
    let (code, out) = crier(&p, root, &["publish", "--no-commit"]);
    assert_eq!(code, 0, "{out}");
    let record = |file: &str| recorded(root, file);
    let chain = record("content/chain.md");
    let uris: Vec<String> =
        chain["parts"].as_array().expect("parts").iter().map(|p| p["id"].as_str().expect("id").to_owned()).collect();
    let solo = record("content/solo.md")["id"].as_str().expect("id").to_owned();

    let (code, out) = crier(&p, root, &["status", "--remote", "--format", "json"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(remote_state(&out, "content/chain.md"), "same", "{out}");

    // Another client rewrites part 2 (putRecord over the key), the app deletes the solo post.
    let c = connect(&p).await;
    let client = c.client();
    let key = |uri: &str| uri.rsplit('/').next().expect("rkey").to_owned();
    let mut rewritten = fetch(client, &uris[1]).await.value;
    rewritten["text"] = json!("Delete me, part two (rewritten elsewhere)");
    client.put_record(POST, &key(&uris[1]), &rewritten, false).await.expect("rewrite");
    assert!(client.delete_record(POST, &key(&solo)).await.expect("delete in the app"), "a commit: deleted");

    let (code, out) = crier(&p, root, &["status", "--remote"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("content/chain.md → bluesky  edited: part 2: Bluesky shows"), "{out}");
    assert!(out.contains("content/solo.md → bluesky  gone: the post is no longer on Bluesky"), "{out}");

    let (code, out) = crier(&p, root, &["delete", "content", "--yes", "--no-commit"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("deleted, 2 parts"), "{out}");
    assert!(out.contains("deleted (it was already gone)"), "{out}");
    for uri in uris.iter().chain([&solo]) {
        assert!(client.get_record(POST, &key(uri)).await.expect("getRecord").is_none(), "{uri} is gone");
    }
    assert!(record("content/chain.md")["deleted_at"].is_string());
    assert!(record("content/solo.md")["deleted_at"].is_string());
    // What the design relies on: deleting a key that holds nothing is a no-op without a commit.
    assert!(!client.delete_record(POST, &key(&uris[0])).await.expect("no-op"), "no commit for a missing record");
    // Deleted posts are not published again.
    let (code, out) = crier(&p, root, &["publish", "--no-commit"]);
    assert_eq!(code, 0, "{out}");
    assert!(client.get_record(POST, &key(&uris[0])).await.expect("getRecord").is_none(), "{out}");
    println!("deleted {} and {solo}", uris.join(" → "));
}

fn git(root: &std::path::Path, date: &str, args: &[&str]) {
    let out = std::process::Command::new("git")
        .current_dir(root)
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .args(["-c", "user.name=e2e", "-c", "user.email=e2e@example.test", "-c", "commit.gpgsign=false"])
        .args(args)
        .output()
        .expect("run git");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn recorded(root: &std::path::Path, file: &str) -> Value {
    let text = std::fs::read_to_string(root.join(file)).expect("read");
    let yaml = text.split("---").nth(1).expect("front matter");
    serde_saphyr::from_str::<Value>(yaml).expect("yaml")["published"]["bluesky"].clone()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a real PDS: run scripts/bluesky-pds-test.sh"]
async fn a_post_drafted_long_ago_is_dated_when_it_is_released_and_stays_exactly_once() {
    let p = pds();
    let repo = project("");
    let root = repo.path();
    let post = |draft: bool| format!("---\nplatforms: [bluesky]\ndraft: {draft}\n---\nDrafted long ago, out today\n");
    let drafted = Utc::now() - chrono::Duration::days(10);
    git(root, "2026-01-01T00:00:00Z", &["init", "-q", "-b", "main"]);
    std::fs::write(root.join("content/old.md"), post(true)).expect("write");
    git(root, &drafted.to_rfc3339(), &["add", "-A"]);
    git(root, &drafted.to_rfc3339(), &["commit", "-qm", "draft"]);
    std::fs::write(root.join("content/old.md"), post(false)).expect("write");
    let now = Utc::now().to_rfc3339();
    git(root, &now, &["commit", "-qam", "release"]);

    let (code, out) = crier(&p, root, &["publish", "--no-commit"]);
    assert_eq!(code, 0, "{out}");
    let id = recorded(root, "content/old.md")["id"].as_str().expect("recorded").to_owned();
    let c = connect(&p).await;
    let view = fetch(c.client(), &id).await;
    let created: DateTime<Utc> =
        view.value["createdAt"].as_str().and_then(|t| t.parse().ok()).expect("createdAt is a date-time");
    let age = Utc::now() - created;
    assert!(age >= chrono::Duration::zero() && age < chrono::Duration::minutes(10), "createdAt {created}: {out}");
    // The key keeps the stable anchor: the commit that added the file.
    let (micros, _) = tid::decode(id.rsplit('/').next().expect("rkey")).expect("a TID");
    let keyed = DateTime::from_timestamp_micros(micros as i64).expect("time");
    assert!((keyed - drafted).num_seconds().abs() < 5, "key time {keyed}, drafted {drafted}");

    // A lost reply, then a rerun in a fresh clone a moment later: the record is found, not posted again.
    git(root, &now, &["checkout", "--", "content/old.md"]);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (code, out) = crier(&p, root, &["publish", "--no-commit"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(recorded(root, "content/old.md")["id"].as_str(), Some(id.as_str()), "{out}");
    let (page, _) = c.client().list_records(POST, 100, None).await.expect("listRecords");
    let same = page.iter().filter(|r| r.value["text"] == "Drafted long ago, out today").count();
    assert_eq!(same, 1, "one post, not two");
    assert_eq!(fetch(c.client(), &id).await.value["createdAt"], view.value["createdAt"], "left as published");
    println!("drafted {drafted}, released as {id} at {created}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a real PDS: run scripts/bluesky-pds-test.sh"]
async fn relative_links_are_absolute_against_the_site_or_plain_text() {
    let p = pds();
    let c = connect(&p).await;
    let body = "Read [the guide](/docs/start), then [setup](#setup).\n";
    for (site, want) in [
        (
            "site:\n  base_url: https://example.com/blog/\n",
            vec!["https://example.com/docs/start", "https://example.com/blog/#setup"],
        ),
        ("", vec![]),
    ] {
        let repo = project(site);
        let root = repo.path();
        // No card: the sandbox may have no way out to example.com.
        let text = format!("---\nplatforms: [bluesky]\nbluesky:\n  link_card: false\n---\n{body}");
        // Its own path: outside git the key comes from the path and the file's time, and
        // two repositories writing the same path in the same second share a key.
        let file = if site.is_empty() { "content/links-plain.md" } else { "content/links-site.md" };
        std::fs::write(root.join(file), text).expect("write");
        let (code, out) = crier(&p, root, &["check"]);
        assert_eq!(code, 0, "{out}");
        assert_eq!(out.contains("relative-link"), site.is_empty(), "a warning only without a site: {out}");
        let (code, out) = crier(&p, root, &["publish", "--no-commit"]);
        assert_eq!(code, 0, "the PDS took it: {out}");
        let id = recorded(root, file)["id"].as_str().expect("recorded").to_owned();
        let view = fetch(c.client(), &id).await;
        assert_eq!(view.value["text"], "Read the guide, then setup.");
        let uris: Vec<&str> = view.value["facets"]
            .as_array()
            .map(|f| f.iter().filter_map(|f| f["features"][0]["uri"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(uris, want, "{}", view.value);
        println!("relative links ({}): {id}", if site.is_empty() { "no site" } else { "site" });
    }
    // What the rule avoids: the PDS refuses a link facet to a relative URI (`format: uri`).
    let record = json!({
        "$type": POST, "text": "the guide", "createdAt": Utc::now().to_rfc3339(),
        "facets": [{"index": {"byteStart": 0, "byteEnd": 9},
                    "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "/docs/start"}]}],
    });
    let key = tid::encode(Utc::now().timestamp_micros() as u64, 7);
    let e = c.client().put_record(POST, &key, &record, true).await.expect_err("a relative facet URI");
    assert_eq!(e.xrpc_name(), Some("InvalidRequest"), "{e}");
}
