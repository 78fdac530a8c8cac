//! The Bluesky XRPC client and publisher against the fake PDS.

#[path = "support/common.rs"]
mod common;
#[path = "support/fake_bluesky.rs"]
mod fake_bluesky;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use crier::media_probe::MediaFormat;
use crier::platforms::bluesky::publish::{BlueskyPublisher, BlueskyRecord, Job, PublishFailure, PublishOptions};
use crier::platforms::bluesky::remote::{self, Part};
use crier::platforms::bluesky::richtext::RichText;
use crier::platforms::bluesky::xrpc::{ClientOptions, XrpcClient, XrpcError};
use crier::platforms::bluesky::{BlueskyOutput, BlueskyPart, tid};
use crier::platforms::{Deletion, Remote};
use crier::render::text::{LinkStyle, markdown_to_text_with};
use crier::rules::media::MediaRef;
use fake_bluesky::{FakeBluesky, FakeConfig, Fault, POST, Route};
use secrecy::SecretString;
use serde_json::{Value, json};

use common::NOW;

fn anchor() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-28T09:00:00Z").expect("valid").to_utc()
}

fn fast() -> PublishOptions {
    PublishOptions {
        client: ClientOptions {
            request_timeout: Duration::from_millis(700),
            max_total_wait: Duration::from_secs(5),
            initial_delay: Duration::from_millis(10),
            ..ClientOptions::default()
        },
        max_image_bytes: 2_000_000,
        card_timeout: Duration::from_secs(2),
    }
}

fn cfg() -> FakeConfig {
    FakeConfig { drop_hang: Duration::from_secs(3), ..FakeConfig::default() }
}

fn part(md: &str) -> BlueskyPart {
    let rich = RichText::from_marked(&markdown_to_text_with(md, LinkStyle::Marked, None));
    BlueskyPart { text: rich.text, facets: rich.facets, media: Vec::new(), origin: 0..0, dropped_images: Vec::new() }
}

fn output(parts: Vec<BlueskyPart>) -> BlueskyOutput {
    BlueskyOutput { parts, template: "bluesky".into(), langs: vec!["en".into()], link_card: true }
}

fn image(path: PathBuf, alt: &str) -> MediaRef {
    MediaRef {
        path: Some(path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default()),
        abs: Some(path),
        url: None,
        alt: Some(alt.into()),
        format: MediaFormat::Png,
        info: None,
        span: 0..0,
        alt_span: None,
        problems: Vec::new(),
    }
}

/// A real, decodable PNG of noise (compresses badly, so it is large).
fn noisy_png(w: u32, h: u32) -> Vec<u8> {
    let mut seed: u32 = 99;
    let img = image::RgbImage::from_fn(w, h, |_, _| {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let b = seed.to_be_bytes();
        image::Rgb([b[0], b[1], b[2]])
    });
    common::encode_png(img)
}

async fn connect(fake: &FakeBluesky) -> BlueskyPublisher {
    BlueskyPublisher::connect(&fake.url(), &fake.handle(), &SecretString::from(fake.password()), fast())
        .await
        .expect("signs in")
}

struct Notes(Mutex<Vec<String>>);

impl Notes {
    fn new() -> Self {
        Self(Mutex::new(Vec::new()))
    }
    fn all(&self) -> Vec<String> {
        self.0.lock().expect("lock").clone()
    }
}

async fn publish(
    p: &mut BlueskyPublisher,
    out: &BlueskyOutput,
    path: &str,
    notes: &Notes,
) -> Result<BlueskyRecord, PublishFailure> {
    let progress = |s: &str| notes.0.lock().expect("lock").push(s.to_owned());
    let job = Job { out, path, anchor: anchor(), hash: "sha256:abc", now: NOW, progress: &progress };
    p.publish(&job).await
}

fn rkey(uri: &str) -> &str {
    uri.rsplit('/').next().unwrap_or("")
}

#[tokio::test]
async fn text_post_with_facets_is_one_call_after_the_session() {
    let fake = FakeBluesky::start(cfg()).await;
    let mut p = connect(&fake).await;
    let before = fake.calls();
    let out = output(vec![part("Café ☕ [the docs](http://127.0.0.1:9/docs) #rust")]);
    let notes = Notes::new();
    let rec = publish(&mut p, &out, "content/a.md", &notes).await.expect("published");
    assert_eq!(fake.calls() - before, 1, "one putRecord");
    assert_eq!(fake.sessions(), 1);
    let records = fake.records();
    assert_eq!(records.len(), 1);
    let r = &records[0];
    let slot = tid::slot(anchor(), "content/a.md", 0, 0);
    assert_eq!(r.rkey, slot.rkey);
    assert_eq!(rec.id, format!("at://{}/app.bsky.feed.post/{}", fake.did(), slot.rkey));
    assert_eq!(rec.url, format!("https://bsky.app/profile/{}/post/{}", fake.did(), slot.rkey));
    assert_eq!(rec.cid, r.cid);
    assert!(rec.parts.is_empty());
    assert_eq!(r.value["text"], "Café ☕ the docs #rust");
    assert_eq!(r.value["createdAt"], "2026-11-28T10:00:00.000Z", "the time it is published, not the key's");
    assert_eq!(r.value["langs"], json!(["en"]));
    assert_eq!(r.value["facets"][0]["index"], json!({"byteStart": 10, "byteEnd": 18}));
    assert_eq!(r.value["facets"][0]["features"][0]["uri"], "http://127.0.0.1:9/docs");
    assert_eq!(r.value["facets"][1]["features"][0]["tag"], "rust");
    // Nothing listens on port 9: no card, a note, and the post goes out.
    assert!(r.value.get("embed").is_none());
    assert!(notes.all().iter().any(|n| n.contains("no link card")), "{:?}", notes.all());
}

#[tokio::test]
async fn mentions_resolve_to_dids_once_and_unknown_ones_stay_plain() {
    let fake = FakeBluesky::start(cfg()).await;
    let mut p = connect(&fake).await;
    let notes = Notes::new();
    let out = output(vec![part("hi @bob.test and @nobody.example and @Bob.test")]);
    publish(&mut p, &out, "content/m.md", &notes).await.expect("published");
    let v = &fake.records()[0].value;
    let facets = v["facets"].as_array().expect("facets");
    assert_eq!(facets.len(), 2, "{facets:?}");
    assert!(facets.iter().all(|f| f["features"][0]["did"] == "did:plc:bobbobbobbobbobbobbobbob1"));
    assert_eq!(fake.count("com.atproto.identity.resolveHandle"), 2, "bob.test once, nobody.example once");
    assert!(notes.all().iter().any(|n| n.contains("@nobody.example")));
}

#[tokio::test]
async fn a_rerun_finds_the_post_instead_of_posting_again() {
    let fake = FakeBluesky::start(cfg()).await;
    let out = output(vec![part("once only")]);
    let notes = Notes::new();
    let first = publish(&mut connect(&fake).await, &out, "content/a.md", &notes).await.expect("first");
    // A new run (as in a fresh clone): nothing recorded, same keys, the identical
    // record: the create-only write is a no-op that answers the same uri and cid.
    let mut p = connect(&fake).await;
    let before = fake.calls();
    let second = publish(&mut p, &out, "content/a.md", &notes).await.expect("second");
    assert_eq!(first, second);
    assert_eq!(fake.calls() - before, 1);
    assert_eq!(fake.records().len(), 1);
    // The post was edited between the lost reply and the rerun: still no second post.
    let edited = output(vec![part("once only, edited")]);
    let third = publish(&mut connect(&fake).await, &edited, "content/a.md", &notes).await.expect("third");
    assert_eq!(third.id, first.id);
    assert_eq!(fake.records().len(), 1);
    assert_eq!(fake.records()[0].value["text"], "once only", "the published record is left alone");
    assert!(notes.all().iter().any(|n| n.contains("already on Bluesky")), "{:?}", notes.all());
}

#[tokio::test]
async fn a_post_drafted_long_ago_is_dated_when_published_and_a_later_rerun_adopts_it() {
    let fake = FakeBluesky::start(cfg()).await;
    // Committed as a draft ten days before it is released: the keys keep that anchor.
    let drafted = anchor() - chrono::Duration::days(10);
    let out = output(vec![part("released today"), part("and its reply")]);
    let notes = Notes::new();
    let progress = |s: &str| notes.0.lock().expect("lock").push(s.to_owned());
    let job =
        |now| Job { out: &out, path: "content/old.md", anchor: drafted, hash: "sha256:abc", now, progress: &progress };
    let first = connect(&fake).await.publish(&job(NOW)).await.expect("published");
    let records = fake.records();
    let created: Vec<&Value> = records.iter().map(|r| &r.value["createdAt"]).collect();
    assert_eq!(created, ["2026-11-28T10:00:00.000Z", "2026-11-28T10:00:00.001Z"], "published now, parts in order");
    assert_eq!(rkey(&first.id), tid::slot(drafted, "content/old.md", 0, 0).rkey, "the key keeps its anchor");
    // The reply was lost; a fresh clone reruns an hour later: both parts are found, not posted again.
    let second = connect(&fake).await.publish(&job("2026-11-28T11:00:00Z")).await.expect("rerun");
    assert_eq!(second.id, first.id);
    assert_eq!(second.parts, first.parts);
    assert_eq!(fake.records().len(), 2);
    assert_eq!(fake.records()[0].value["createdAt"], "2026-11-28T10:00:00.000Z", "left as published");
}

#[tokio::test]
async fn a_lost_reply_is_retried_onto_the_same_record() {
    let fake = FakeBluesky::start(cfg()).await;
    let mut p = connect(&fake).await;
    fake.fail_next(Route::PutRecord, Fault::DropAfterAction);
    let out = output(vec![part("lost reply")]);
    let rec = publish(&mut p, &out, "content/lost.md", &Notes::new()).await.expect("published");
    let records = fake.records();
    assert_eq!(records.len(), 1);
    assert_eq!(rec.cid, records[0].cid);
    // The retry of the identical record is the server's no-op: same uri and cid.
    assert_eq!(fake.count("com.atproto.repo.putRecord"), 2);
    assert_eq!(fake.count("com.atproto.repo.getRecord"), 0);
}

#[tokio::test]
async fn server_errors_and_createrecord_500s_do_not_duplicate() {
    let fake = FakeBluesky::start(cfg()).await;
    let mut p = connect(&fake).await;
    fake.fail_next(Route::PutRecord, Fault::Status(502, "<html><title>502</title></html>".into()));
    fake.fail_next(
        Route::PutRecord,
        Fault::Status(500, r#"{"error":"InternalServerError","message":"Internal Server Error"}"#.into()),
    );
    publish(&mut p, &output(vec![part("through 5xx")]), "content/x.md", &Notes::new()).await.expect("published");
    assert_eq!(fake.records().len(), 1);
    assert_eq!(fake.count("com.atproto.repo.putRecord"), 3);
}

#[tokio::test]
async fn a_5xx_is_retried_on_the_backoff_whatever_ratelimit_reset_says() {
    let fake = FakeBluesky::start(cfg()).await;
    let client = XrpcClient::new(&fake.url(), fast().client);
    client.sign_in(&fake.handle(), &SecretString::from(fake.password())).await.expect("in");
    // Like the PDS, the fake sends the end of its rate-limit window (an hour away) on
    // every response, far beyond the client's 5 s budget.
    let url = format!("{}/xrpc/com.atproto.repo.getRecord", fake.url().trim_end_matches('/'));
    let resp = reqwest::get(url).await.expect("any reply");
    let reset: i64 = resp.headers().get("ratelimit-reset").and_then(|v| v.to_str().ok()?.parse().ok()).expect("reset");
    assert!(reset - Utc::now().timestamp() > 1800, "{reset}");

    let bad_gateway = || Fault::Status(502, "<html><title>502 Bad Gateway</title></html>".into());
    fake.fail_next(Route::GetRecord, bad_gateway());
    fake.fail_next(Route::GetRecord, bad_gateway());
    assert!(client.get_record(POST, "3n3enpce6222b").await.expect("retried").is_none());
    assert_eq!(fake.count("com.atproto.repo.getRecord"), 4, "the probe, two 502s, the answer");
}

#[tokio::test]
async fn a_chain_links_root_and_parent_and_resumes_where_it_failed() {
    let fake = FakeBluesky::start(cfg()).await;
    let out = output(vec![part("one"), part("two"), part("three")]);
    let mut p = connect(&fake).await;
    // Part 2 is refused (a request error the fake cannot know): the chain stops there.
    fake.fail_next(Route::PutRecord, Fault::Delay(Duration::ZERO));
    fake.fail_next(Route::PutRecord, Fault::Status(400, r#"{"error":"InvalidRequest","message":"nope"}"#.into()));
    let err = publish(&mut p, &out, "content/chain.md", &Notes::new()).await.expect_err("fails at part 2");
    assert_eq!(err.published_parts, 1, "{}", err.message);
    assert!(!err.fatal && !err.ambiguous);
    assert!(err.message.contains("nope"));
    assert_eq!(fake.records().len(), 1);

    let rec = publish(&mut connect(&fake).await, &out, "content/chain.md", &Notes::new()).await.expect("resumes");
    let records = fake.records();
    assert_eq!(records.len(), 3, "part 1 was not written twice");
    assert_eq!(rec.parts.len(), 3);
    let by_uri = |uri: &str| records.iter().find(|r| r.uri == uri).expect("exists").clone();
    let (p1, p2, p3) = (by_uri(&rec.parts[0].id), by_uri(&rec.parts[1].id), by_uri(&rec.parts[2].id));
    assert_eq!(rec.id, p1.uri);
    assert_eq!((p1.value["text"].as_str(), p3.value["text"].as_str()), (Some("one"), Some("three")));
    assert!(p1.value.get("reply").is_none());
    assert_eq!(p2.value["reply"]["root"], json!({"uri": p1.uri, "cid": p1.cid}));
    assert_eq!(p2.value["reply"]["parent"], json!({"uri": p1.uri, "cid": p1.cid}));
    assert_eq!(p3.value["reply"]["root"], json!({"uri": p1.uri, "cid": p1.cid}));
    assert_eq!(p3.value["reply"]["parent"], json!({"uri": p2.uri, "cid": p2.cid}));
    assert!(rkey(&p1.uri) < rkey(&p2.uri) && rkey(&p2.uri) < rkey(&p3.uri), "keys sort in chain order");
    for (part, r) in rec.parts.iter().zip([&p1, &p2, &p3]) {
        assert_eq!(part.cid, r.cid);
        assert!(part.url.ends_with(rkey(&r.uri)));
    }
}

#[tokio::test]
async fn images_upload_in_parallel_with_alt_and_aspect_ratio_and_big_ones_are_scaled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let small = dir.path().join("small.png");
    std::fs::write(&small, noisy_png(40, 20)).expect("write");
    let big = dir.path().join("big.png");
    let big_bytes = noisy_png(500, 500);
    std::fs::write(&big, &big_bytes).expect("write");
    let fake = FakeBluesky::start(FakeConfig { max_embed_image_bytes: 200_000, ..cfg() }).await;
    assert!(big_bytes.len() > 200_000);
    let mut opts = fast();
    opts.max_image_bytes = 200_000;
    let mut p = BlueskyPublisher::connect(&fake.url(), &fake.handle(), &SecretString::from(fake.password()), opts)
        .await
        .expect("in");
    let mut first = part("pictures https://example.com/not-a-card");
    first.media = vec![image(small.clone(), "a small one"), image(big, "a big one")];
    let rec = publish(&mut p, &output(vec![first]), "content/img.md", &Notes::new()).await.expect("published");
    let v = &fake.records()[0].value;
    assert_eq!(v["embed"]["$type"], "app.bsky.embed.images", "images win over a card");
    let imgs = v["embed"]["images"].as_array().expect("images");
    assert_eq!(imgs[0]["alt"], "a small one");
    assert_eq!(imgs[0]["aspectRatio"], json!({"width": 40, "height": 20}));
    assert_eq!(imgs[1]["alt"], "a big one");
    assert!(imgs[1]["image"]["size"].as_u64().expect("size") <= 200_000);
    assert_eq!(imgs[1]["image"]["mimeType"], "image/jpeg");
    assert_eq!(fake.count("com.atproto.repo.uploadBlob"), 2);

    // The same post again: same blob refs (deterministic scaling), so the rerun adopts it.
    let mut p2 = BlueskyPublisher::connect(&fake.url(), &fake.handle(), &SecretString::from(fake.password()), opts)
        .await
        .expect("in");
    let mut again = part("pictures https://example.com/not-a-card");
    again.media = vec![image(small, "a small one"), image(dir.path().join("big.png"), "a big one")];
    let rec2 = publish(&mut p2, &output(vec![again]), "content/img.md", &Notes::new()).await.expect("again");
    assert_eq!(rec, rec2);
    assert_eq!(fake.records().len(), 1);
    assert_eq!(fake.blobs(), 2, "the same bytes give the same blobs");
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once_without_signing_in_again() {
    let fake = FakeBluesky::start(cfg()).await;
    let mut p = connect(&fake).await;
    fake.fail_next(Route::PutRecord, Fault::ExpireToken);
    publish(&mut p, &output(vec![part("after expiry")]), "content/e.md", &Notes::new()).await.expect("published");
    assert_eq!(fake.sessions(), 1);
    assert_eq!(fake.count("com.atproto.server.refreshSession"), 1);
    assert_eq!(fake.records().len(), 1);
}

#[tokio::test]
async fn rate_limits_wait_for_ratelimit_reset() {
    let fake = FakeBluesky::start(cfg()).await;
    let mut p = connect(&fake).await;
    fake.fail_next(Route::PutRecord, Fault::RateLimited { reset_in_secs: 2 });
    let started = Instant::now();
    publish(&mut p, &output(vec![part("patient")]), "content/r.md", &Notes::new()).await.expect("published");
    // RateLimit-Reset has whole-second resolution: between 1 and 2 s.
    assert!(started.elapsed() >= Duration::from_millis(900), "{:?}", started.elapsed());
    assert_eq!(fake.records().len(), 1);

    // A reset beyond the wait bound: a clear rate-limit failure, nothing written.
    fake.fail_next(Route::PutRecord, Fault::RateLimited { reset_in_secs: 60 });
    let err =
        publish(&mut p, &output(vec![part("too patient")]), "content/r2.md", &Notes::new()).await.expect_err("limited");
    assert!(err.message.contains("rate limit") && !err.fatal, "{}", err.message);
    assert_eq!(fake.records().len(), 1);
}

#[tokio::test]
async fn a_bad_password_is_fatal_and_never_shown() {
    let fake = FakeBluesky::start(cfg()).await;
    let pw = "wrong-pass-word-9999";
    let err = BlueskyPublisher::connect(&fake.url(), &fake.handle(), &SecretString::from(pw.to_owned()), fast())
        .await
        .err()
        .expect("refused");
    assert!(err.fatal);
    assert!(err.message.contains("BLUESKY_APP_PASSWORD"), "{}", err.message);
    assert!(!err.message.contains(pw));
    // Nothing the fake logged holds a token or password outside the sign-in body.
    for r in fake.requests() {
        let body = r.body.as_ref().map(|b| b.to_string()).unwrap_or_default();
        if r.nsid() != "com.atproto.server.createSession" {
            assert!(!body.contains(pw));
        }
    }
}

#[tokio::test]
async fn a_key_taken_by_a_recorded_post_moves_to_the_next_key_and_recorded_ones_are_never_adopted() {
    let fake = FakeBluesky::start(cfg()).await;
    let slot0 = tid::slot(anchor(), "content/t.md", 0, 0);
    // A record at this post's first key, with its text, but recorded by another file.
    let seeded = fake.seed(&slot0.rkey, json!({"$type": POST, "text": "mine", "createdAt": NOW}));
    let mut p = connect(&fake).await;
    p.exclude([seeded.uri.clone()]);
    let rec = publish(&mut p, &output(vec![part("mine")]), "content/t.md", &Notes::new()).await.expect("published");
    assert_ne!(rec.id, seeded.uri);
    assert_eq!(rkey(&rec.id), tid::slot(anchor(), "content/t.md", 0, 1).rkey);
    assert_eq!(fake.records().len(), 2);
}

#[tokio::test]
async fn calls_follow_the_pds_of_the_did_document() {
    let fake = FakeBluesky::start(cfg()).await;
    // The DID document names the PDS behind another path of the same host.
    fake.set_did_doc_pds(Some(format!("{}/pds-behind-proxy", fake.url())));
    let mut p = connect(&fake).await;
    assert_eq!(p.client().account().expect("in").pds, format!("{}/pds-behind-proxy", fake.url()));
    publish(&mut p, &output(vec![part("routed")]), "content/p.md", &Notes::new()).await.expect("published");
    let reqs = fake.requests();
    let path_of = |nsid: &str| reqs.iter().find(|r| r.nsid() == nsid).map(|r| r.path.clone()).unwrap_or_default();
    assert_eq!(path_of("com.atproto.server.createSession"), "/xrpc/com.atproto.server.createSession");
    assert_eq!(path_of("com.atproto.repo.putRecord"), "/pds-behind-proxy/xrpc/com.atproto.repo.putRecord");
}

#[tokio::test]
async fn xrpc_errors_are_sorted() {
    let fake = FakeBluesky::start(cfg()).await;
    let client = XrpcClient::new(&fake.url(), fast().client);
    client.sign_in(&fake.handle(), &SecretString::from(fake.password())).await.expect("in");
    assert!(client.get_record(POST, "3n3enpce6222b").await.expect("read").is_none(), "RecordNotFound is None");
    assert_eq!(client.resolve_handle("nobody.example").await.expect("resolve"), None);
    assert_eq!(
        client.resolve_handle("bob.test").await.expect("resolve").as_deref(),
        Some("did:plc:bobbobbobbobbobbobbobbob1")
    );
    let e = client
        .put_record(POST, "my-post-1", &json!({"$type": POST, "text": "x", "createdAt": NOW}), true)
        .await
        .expect_err("bad key");
    assert!(matches!(&e, XrpcError::Rejected { status: 400, error, .. } if error == "InvalidRequest"), "{e:?}");
    let long = "a".repeat(301);
    let e = client
        .put_record(POST, "3n3enpce6222b", &json!({"$type": POST, "text": long, "createdAt": NOW}), true)
        .await
        .expect_err("long");
    assert!(e.to_string().contains("grapheme too big"), "{e}");
    let five: Vec<Value> = (0..5).map(|_| json!({"alt": "", "image": {}})).collect();
    let rec = json!({"$type": POST, "text": "", "createdAt": NOW, "embed": {"$type": "app.bsky.embed.images", "images": five}});
    let e = client.put_record(POST, "3n3enpce6222b", &rec, true).await.expect_err("five images");
    assert!(e.to_string().contains("maximum 4, got 5"), "{e}");
    // A 500 that never clears on a read is transient, not ambiguous.
    for _ in 0..10 {
        fake.fail_next(Route::GetRecord, Fault::Status(503, "{\"error\":\"Unavailable\",\"message\":\"down\"}".into()));
    }
    let e = client.get_record(POST, "3n3enpce6222b").await.expect_err("down");
    assert!(matches!(e, XrpcError::Transient { .. }), "{e:?}");
    // listRecords pages newest first, with a cursor.
    for key in ["3n3enpce6222b", "3n3enpce6232b", "3n3enpce6242b"] {
        fake.seed(key, json!({"$type": POST, "text": key, "createdAt": NOW}));
    }
    let (page, cursor) = client.list_records(POST, 2, None).await.expect("list");
    let keys: Vec<&str> = page.iter().map(|r| rkey(&r.uri)).collect();
    assert_eq!(keys, ["3n3enpce6242b", "3n3enpce6232b"]);
    let (rest, end) = client.list_records(POST, 2, cursor.as_deref()).await.expect("list");
    assert_eq!(rest.iter().map(|r| rkey(&r.uri)).collect::<HashSet<_>>(), HashSet::from(["3n3enpce6222b"]));
    assert_eq!(end, None);
}

/// A local site: `/article` with OpenGraph tags and a large card image, `/plain`
/// with only a `<title>`, `/gone` answering 404.
async fn site(card_png: Vec<u8>) -> String {
    use axum::http::header;
    use axum::response::IntoResponse;
    use axum::routing::get;
    let app = axum::Router::new()
        .route(
            "/article",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/html")],
                    r#"<html><head><meta property="og:title" content="Title &amp; more">
                    <meta property="og:description" content="What it is about">
                    <meta property="og:image" content="/card.png"></head></html>"#,
                )
            }),
        )
        .route("/plain", get(|| async { ([(header::CONTENT_TYPE, "text/html")], "<title>Just a title</title>") }))
        .route("/gone", get(|| async { (axum::http::StatusCode::NOT_FOUND, "no") }))
        .route(
            "/card.png",
            get(move || async move { ([(header::CONTENT_TYPE, "image/png")], card_png.clone()).into_response() }),
        );
    common::serve(app).await.0
}

#[tokio::test]
async fn link_cards_come_from_the_page_and_a_failed_fetch_only_drops_the_card() {
    let big = noisy_png(700, 700);
    assert!(big.len() > 1_000_000, "{}", big.len());
    let base = site(big).await;
    let fake = FakeBluesky::start(cfg()).await;
    let mut p = connect(&fake).await;
    let notes = Notes::new();
    let out = output(vec![
        part(&format!("first [the article]({base}/article) then {base}/plain")),
        part(&format!("bare {base}/plain")),
        part(&format!("broken [link]({base}/gone)")),
    ]);
    let rec = publish(&mut p, &out, "content/cards.md", &notes).await.expect("published, cards or not");
    let records = fake.records();
    let value = |i: usize| records.iter().find(|r| r.uri == rec.parts[i].id).expect("part").value.clone();
    let card = value(0)["embed"].clone();
    assert_eq!(card["$type"], "app.bsky.embed.external");
    assert_eq!(card["external"]["uri"], format!("{base}/article"), "the first link of the part");
    assert_eq!(card["external"]["title"], "Title & more");
    assert_eq!(card["external"]["description"], "What it is about");
    assert!(card["external"]["thumb"]["size"].as_u64().expect("thumb") <= 1_000_000, "thumb scaled under the limit");
    assert_eq!(value(1)["embed"]["external"]["title"], "Just a title");
    assert_eq!(value(1)["embed"]["external"]["description"], "");
    assert!(value(2).get("embed").is_none());
    assert!(notes.all().iter().any(|n| n.contains("no link card") && n.contains("/gone")), "{:?}", notes.all());

    // `link_card: false`: no fetch, no card.
    let mut no_card = output(vec![part(&format!("quiet {base}/article"))]);
    no_card.link_card = false;
    let rec = publish(&mut p, &no_card, "content/quiet.md", &notes).await.expect("published");
    let v = fake.records().into_iter().find(|r| r.uri == rec.id).expect("record").value;
    assert!(v.get("embed").is_none());
}

// ---------------------------------------------------------------- delete and inspect

/// Publishes a chain of `texts` at `path`; returns the record.
async fn chain(p: &mut BlueskyPublisher, path: &str, texts: &[&str]) -> BlueskyRecord {
    let out = output(texts.iter().map(|t| part(t)).collect());
    publish(p, &out, path, &Notes::new()).await.expect("published")
}

fn uris(rec: &BlueskyRecord) -> Vec<String> {
    if rec.parts.is_empty() { vec![rec.id.clone()] } else { rec.parts.iter().map(|p| p.id.clone()).collect() }
}

fn parts(rec: &BlueskyRecord) -> Vec<(String, String)> {
    if rec.parts.is_empty() {
        vec![(rec.id.clone(), rec.cid.clone())]
    } else {
        rec.parts.iter().map(|p| (p.id.clone(), p.cid.clone())).collect()
    }
}

async fn delete(p: &BlueskyPublisher, uris: &[String]) -> Result<Deletion, crier::platforms::Failure> {
    let ids: Vec<&str> = uris.iter().map(String::as_str).collect();
    remote::delete(p.client(), &ids, &|_| {}).await
}

async fn inspect(p: &BlueskyPublisher, parts: &[(String, String)], sent: Option<&[&str]>) -> Remote {
    let parts: Vec<Part<'_>> = parts.iter().map(|(u, c)| Part { uri: u, cid: Some(c) }).collect();
    remote::inspect(p.client(), &parts, sent).await.expect("looked up")
}

fn deleted_keys(fake: &FakeBluesky) -> Vec<String> {
    fake.requests()
        .iter()
        .filter(|r| r.nsid() == "com.atproto.repo.deleteRecord")
        .map(|r| r.body.as_ref().and_then(|b| b["rkey"].as_str()).unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn a_chain_is_deleted_last_part_first_one_call_each() {
    let fake = FakeBluesky::start(cfg()).await;
    let mut p = connect(&fake).await;
    let rec = chain(&mut p, "content/c.md", &["one", "two", "three"]).await;
    let keep = chain(&mut p, "content/keep.md", &["stays"]).await;
    let before = fake.calls();
    let done = delete(&p, &uris(&rec)).await.expect("deleted");
    assert_eq!(done, Deletion { deleted: 3, already_gone: 0, note: None });
    assert_eq!(fake.calls() - before, 3, "no lookup before deleting");
    let keys: Vec<String> = uris(&rec).iter().rev().map(|u| rkey(u).to_owned()).collect();
    assert_eq!(deleted_keys(&fake), keys);
    assert_eq!(fake.records().len(), 1);
    assert_eq!(fake.records()[0].uri, keep.id);
}

#[tokio::test]
async fn parts_already_gone_count_as_deleted() {
    let fake = FakeBluesky::start(cfg()).await;
    let mut p = connect(&fake).await;
    let rec = chain(&mut p, "content/c.md", &["one", "two"]).await;
    assert!(fake.remove_in_app(rkey(&rec.parts[0].id)));
    let done = delete(&p, &uris(&rec)).await.expect("deleted");
    assert_eq!((done.deleted, done.already_gone), (1, 1));
    assert!(fake.records().is_empty());
    // Again: nothing left, nothing fails.
    let again = delete(&p, &uris(&rec)).await.expect("still fine");
    assert_eq!((again.deleted, again.already_gone), (0, 2));
}

#[tokio::test]
async fn a_delete_whose_reply_is_lost_is_retried_and_lands_on_nothing() {
    let fake = FakeBluesky::start(cfg()).await;
    let mut p = connect(&fake).await;
    let rec = chain(&mut p, "content/a.md", &["lost"]).await;
    fake.fail_next(Route::DeleteRecord, Fault::DropAfterAction);
    let done = delete(&p, &uris(&rec)).await.expect("deleted");
    assert_eq!(done.deleted + done.already_gone, 1);
    assert!(fake.records().is_empty());
    assert_eq!(fake.count("com.atproto.repo.deleteRecord"), 2);
}

#[tokio::test]
async fn a_long_rate_limit_stops_deleting_with_what_was_done() {
    let fake = FakeBluesky::start(cfg()).await;
    let mut p = connect(&fake).await;
    let rec = chain(&mut p, "content/c.md", &["one", "two"]).await;
    fake.fail_next(Route::DeleteRecord, Fault::Delay(Duration::ZERO));
    fake.fail_next(Route::DeleteRecord, Fault::RateLimited { reset_in_secs: 3600 });
    let f = delete(&p, &uris(&rec)).await.expect_err("rate limited");
    assert_eq!(f.published_parts, 1, "the last part went");
    assert!(f.message.contains("rate limit"), "{}", f.message);
    assert!(f.fatal.as_deref().is_some_and(|m| m.contains("run `crier delete` again")), "{f:?}");
    assert_eq!(fake.records().len(), 1);
    // A short one is waited out.
    fake.fail_next(Route::DeleteRecord, Fault::RateLimited { reset_in_secs: 2 });
    let started = Instant::now();
    assert_eq!(delete(&p, &uris(&rec)).await.expect("waited").deleted, 1);
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn another_accounts_record_is_refused_before_anything_is_sent() {
    let fake = FakeBluesky::start(cfg()).await;
    let mut p = connect(&fake).await;
    let mine = chain(&mut p, "content/a.md", &["mine"]).await;
    let theirs = fake.seed_foreign("did:plc:someoneelse00000000000001", "3lbbbbbbbbbb2", json!({"text": "theirs"}));
    let f = delete(&p, &[mine.id.clone(), theirs.uri.clone()]).await.expect_err("refused");
    assert!(f.message.contains("belongs to another account (did:plc:someoneelse00000000000001)"), "{}", f.message);
    assert!(f.message.contains(&fake.did()), "names the signed-in account: {}", f.message);
    assert_eq!(fake.count("com.atproto.repo.deleteRecord"), 0, "not even the own part");
    assert_eq!((fake.records().len(), fake.foreign().len()), (1, 1));
    assert!(delete(&p, &["https://bsky.app/profile/x/post/y".to_owned()]).await.is_err());
    match inspect(&p, &[(theirs.uri.clone(), theirs.cid.clone())], None).await {
        Remote::OtherAccount(m) => assert!(m.contains("did:plc:someoneelse"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn inspect_tells_same_gone_and_rewritten_apart() {
    let fake = FakeBluesky::start(cfg()).await;
    let mut p = connect(&fake).await;
    let rec = chain(&mut p, "content/c.md", &["one", "two", "three"]).await;
    let sent = ["one", "two", "three"];
    let before = fake.calls();
    assert_eq!(inspect(&p, &parts(&rec), Some(&sent)).await, Remote::Same);
    assert_eq!(fake.calls() - before, 3, "one getRecord per part");
    assert_eq!(fake.count("com.atproto.repo.deleteRecord"), 0);

    fake.rewrite_in_app(rkey(&rec.parts[1].id), "two, rewritten").expect("there");
    match inspect(&p, &parts(&rec), Some(&sent)).await {
        Remote::Edited(m) => assert_eq!(m, "part 2: Bluesky shows “two, rewritten”, crier sent “two”"),
        other => panic!("{other:?}"),
    }
    // Without the sent text (the file changed since), the content id still tells.
    match inspect(&p, &parts(&rec), None).await {
        Remote::Edited(m) => assert!(m.starts_with("part 2: the record was rewritten"), "{m}"),
        other => panic!("{other:?}"),
    }

    assert!(fake.remove_in_app(rkey(&rec.parts[2].id)));
    assert_eq!(
        inspect(&p, &parts(&rec), Some(&sent)).await,
        Remote::Gone("part 3 of 3 is no longer on Bluesky".into())
    );
    assert!(fake.remove_in_app(rkey(&rec.parts[0].id)));
    assert!(fake.remove_in_app(rkey(&rec.parts[1].id)));
    assert_eq!(inspect(&p, &parts(&rec), None).await, Remote::Gone("all 3 parts are no longer on Bluesky".into()));
}
