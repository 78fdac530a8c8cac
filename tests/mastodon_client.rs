//! The Mastodon client and publisher against the fake Mastodon server.

#[path = "support/common.rs"]
mod common;
#[path = "support/fake_mastodon.rs"]
mod fake_mastodon;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crier::content::Post;
use crier::ledger::Record;

use crier::platforms::mastodon::api::{
    ClientOptions, MastodonClient, MastodonError, NewStatus, StatusEdit, Upload, parse_instance,
};
use crier::platforms::mastodon::publish::{MastodonPublisher, PublishOptions, idempotency_key};
use crier::platforms::mastodon::remote;
use crier::platforms::mastodon::{MastodonOutput, MastodonPart};
use crier::platforms::{Deletion, Failure, Remote};
use crier::rules::media::MediaRef;
use fake_mastodon::{FakeConfig, FakeMastodon, Fault, Route};
use secrecy::SecretString;

use common::NOW;

fn fast() -> ClientOptions {
    ClientOptions {
        default_retry_after: Duration::from_millis(200),
        processing_timeout: Duration::from_secs(3),
        poll_interval: Duration::from_millis(20),
        ..common::fast_http()
    }
}

/// A public status of `text`.
fn public(text: &str) -> NewStatus {
    NewStatus { status: text.into(), visibility: "public".into(), ..NewStatus::default() }
}

/// Dropped replies hang longer than the client's 1 s timeout.
fn cfg() -> FakeConfig {
    FakeConfig { drop_hang: Duration::from_secs(3), ..FakeConfig::default() }
}

fn publisher(fake: &FakeMastodon) -> MastodonPublisher {
    publisher_with(fake, PublishOptions { client: fast(), list_page: 40, max_list_pages: 5 })
}

fn publisher_with(fake: &FakeMastodon, opts: PublishOptions) -> MastodonPublisher {
    let url = parse_instance(&fake.base_url()).expect("url");
    MastodonPublisher::new(url, SecretString::from(fake.token()), opts)
}

fn client(fake: &FakeMastodon) -> MastodonClient {
    MastodonClient::new(parse_instance(&fake.base_url()).expect("url"), SecretString::from(fake.token()), fast())
}

fn quiet(_: Duration) {}
fn silent(_: &str) {}

fn post(path: &str) -> Post {
    common::markdown_post(path, "---\nplatforms: [mastodon]\n---\nbody line\n")
}

fn part(text: &str) -> MastodonPart {
    MastodonPart { text: text.into(), media: Vec::new(), origin: 30..39, dropped_images: Vec::new() }
}

fn output(parts: &[&str]) -> MastodonOutput {
    common::mastodon_output(parts.iter().copied(), 30..39)
}

/// A real file with the PNG header the probe reads.
fn image(dir: &tempfile::TempDir, name: &str, alt: Option<&str>) -> MediaRef {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x02\0\0\0".to_vec();
    bytes.extend_from_slice(&[0u8; 64]);
    common::png_media(dir.path(), name, &bytes, (16, 16), alt)
}

async fn publish(p: &mut MastodonPublisher, post: &Post, out: &MastodonOutput) -> Result<Record, String> {
    p.publish(post, out, "sha256:one", NOW, &silent, &quiet).await.map_err(|f| f.message)
}

#[tokio::test]
async fn a_text_post_is_one_create_after_the_instance_and_one_listing() {
    let fake = FakeMastodon::start(cfg()).await;
    let mut p = publisher(&fake);
    let rec =
        publish(&mut p, &post("content/a.md"), &output(&["Hello, Mastodon & friends <3"])).await.expect("published");
    let s = &fake.statuses()[0];
    assert_eq!(fake.statuses().len(), 1);
    assert_eq!(rec.id, s.id);
    assert_eq!(rec.url, format!("https://mastodon.example/@crier_tester/{}", s.id));
    assert_eq!((rec.published_at.as_str(), rec.hash.as_str()), (NOW, "sha256:one"));
    assert!(rec.parts.is_empty());
    assert_eq!(s.text, "Hello, Mastodon & friends <3");
    assert_eq!(s.content, "<p>Hello, Mastodon &amp; friends &lt;3</p>");
    assert_eq!(s.language.as_deref(), Some("en"));
    // instance, verify_credentials, one page of statuses, the create.
    assert_eq!(fake.calls(), 4);
    let create = fake.requests().into_iter().find(|r| r.path == "/api/v1/statuses").expect("create");
    let key = create.idempotency_key.expect("idempotency key sent");
    assert_eq!(
        key,
        idempotency_key(
            "content/a.md",
            0,
            &output(&["Hello, Mastodon & friends <3"]),
            &part("Hello, Mastodon & friends <3")
        )
    );
    // The next post of the run costs one call.
    publish(&mut p, &post("content/b.md"), &output(&["second"])).await.expect("published");
    assert_eq!(fake.calls(), 5);
}

#[tokio::test]
async fn a_chain_replies_to_the_part_before_and_records_every_part() {
    let fake = FakeMastodon::start(cfg()).await;
    let mut p = publisher(&fake);
    let rec = publish(&mut p, &post("content/c.md"), &output(&["one", "two", "three"])).await.expect("published");
    let st = fake.statuses();
    assert_eq!(st.len(), 3);
    assert_eq!(st[0].in_reply_to_id, None);
    assert_eq!(st[1].in_reply_to_id.as_deref(), Some(st[0].id.as_str()));
    assert_eq!(st[2].in_reply_to_id.as_deref(), Some(st[1].id.as_str()));
    assert_eq!(rec.id, st[0].id);
    let ids: Vec<&str> = rec.parts.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, [st[0].id.as_str(), st[1].id.as_str(), st[2].id.as_str()]);
    // Each part has its own key.
    let keys: std::collections::HashSet<String> =
        fake.requests().into_iter().filter_map(|r| r.idempotency_key).collect();
    assert_eq!(keys.len(), 3);
}

#[tokio::test]
async fn media_are_uploaded_with_alt_text_and_processing_is_awaited() {
    let fake = FakeMastodon::start(FakeConfig { async_media: true, processing_polls: 2, ..cfg() }).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut out = output(&["with pictures"]);
    out.parts[0].media = vec![image(&dir, "a.png", Some("A bell")), image(&dir, "b.png", Some("A cat"))];
    let mut p = publisher(&fake);
    publish(&mut p, &post("content/m.md"), &out).await.expect("published");
    let media = fake.media();
    assert_eq!(media.len(), 2);
    let st = &fake.statuses()[0];
    assert_eq!(st.media_ids, [media[0].id.clone(), media[1].id.clone()], "order kept");
    let alts: Vec<Option<&str>> = media.iter().map(|m| m.description.as_deref()).collect();
    assert_eq!(alts, [Some("A bell"), Some("A cat")]);
    assert_eq!(media[0].mime, "image/png");
    // 202, then 206 twice and 200 for each upload.
    assert_eq!(fake.count("GET", &format!("/api/v1/media/{}", media[0].id)), 3);
}

#[tokio::test]
async fn uploads_of_one_status_run_side_by_side() {
    let fake = FakeMastodon::start(FakeConfig { latency: Duration::from_millis(150), ..cfg() }).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut out = output(&["four"]);
    out.parts[0].media = (0..4).map(|i| image(&dir, &format!("{i}.png"), Some("alt"))).collect();
    let mut p = publisher(&fake);
    p.limits(&quiet).await.expect("instance");
    let start = Instant::now();
    publish(&mut p, &post("content/m.md"), &out).await.expect("published");
    // verify + list + 4 uploads + create: sequentially 7 × 150 ms; in parallel 4 × 150 ms.
    let took = start.elapsed();
    assert!(took < Duration::from_millis(850), "{took:?}");
    assert_eq!(fake.media().len(), 4);
}

#[tokio::test]
async fn a_lost_reply_is_resolved_from_the_account_without_posting_twice() {
    for honour in [true, false] {
        let fake = FakeMastodon::start(FakeConfig { honour_idempotency: honour, ..cfg() }).await;
        fake.fail_next(Route::CreateStatus, Fault::DropAfterAction);
        let mut p = publisher(&fake);
        let rec = publish(&mut p, &post("content/a.md"), &output(&["lost in the mail"])).await.expect("reconciled");
        assert_eq!(fake.statuses().len(), 1, "honour_idempotency={honour}");
        assert_eq!(rec.id, fake.statuses()[0].id);
        assert_eq!(fake.count("POST", "/api/v1/statuses"), 1);
        // The account was listed again after the lost reply.
        assert_eq!(fake.count("GET", "/statuses") - fake.count("GET", "/api/v1/statuses"), 2);
    }
}

#[tokio::test]
async fn a_lost_reply_whose_status_is_not_there_fails_as_ambiguous() {
    let fake = FakeMastodon::start(cfg()).await;
    // The reply is lost and nothing was created (a gateway timeout before the app).
    fake.fail_next(Route::CreateStatus, Fault::Status(504, "<html>Gateway Timeout</html>".into()));
    let mut p = publisher(&fake);
    let err =
        p.publish(&post("content/a.md"), &output(&["x"]), "h", NOW, &silent, &quiet).await.expect_err("ambiguous");
    assert!(err.ambiguous && !err.fatal, "{err:?}");
    assert!(err.message.contains("did not send it again"), "{}", err.message);
    assert_eq!(fake.count("POST", "/api/v1/statuses"), 1);
    // The next run creates it, with the same key.
    let mut p = publisher(&fake);
    publish(&mut p, &post("content/a.md"), &output(&["x"])).await.expect("published");
    let keys: Vec<String> = fake.requests().into_iter().filter_map(|r| r.idempotency_key).collect();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], keys[1]);
    assert_eq!(fake.statuses().len(), 1);
}

#[tokio::test]
async fn a_rerun_after_a_crash_adopts_the_status_even_when_keys_expired() {
    let fake = FakeMastodon::start(FakeConfig { honour_idempotency: false, ..cfg() }).await;
    let mut first = publisher(&fake);
    let rec = publish(&mut first, &post("content/a.md"), &output(&["Posted, then the runner died"])).await.expect("ok");
    // The record was never written; a fresh clone runs again.
    fake.expire_keys();
    let mut again = publisher(&fake);
    let rec2 =
        publish(&mut again, &post("content/a.md"), &output(&["Posted, then the runner died"])).await.expect("ok");
    assert_eq!(rec2.id, rec.id);
    assert_eq!(fake.statuses().len(), 1);
}

#[tokio::test]
async fn a_chain_that_stopped_half_way_resumes_at_the_missing_part() {
    let fake = FakeMastodon::start(cfg()).await;
    let one = fake.seed("first part", None);
    let two = fake.seed("second part", Some(&one));
    let mut p = publisher(&fake);
    let rec = publish(&mut p, &post("content/c.md"), &output(&["first part", "second part", "third part"]))
        .await
        .expect("ok");
    let st = fake.statuses();
    assert_eq!(st.len(), 3);
    assert_eq!(st[2].in_reply_to_id.as_deref(), Some(two.as_str()));
    let ids: Vec<&str> = rec.parts.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, [one.as_str(), two.as_str(), st[2].id.as_str()]);
}

#[tokio::test]
async fn statuses_recorded_by_another_file_are_never_adopted() {
    let fake = FakeMastodon::start(cfg()).await;
    let old = fake.seed("Good morning!", None);
    let mut p = publisher(&fake);
    p.exclude([old.clone()]);
    let rec = publish(&mut p, &post("content/new.md"), &output(&["Good morning!"])).await.expect("ok");
    assert_ne!(rec.id, old);
    assert_eq!(fake.statuses().len(), 2);
}

#[tokio::test]
async fn reconciliation_pages_back_with_max_id() {
    let fake = FakeMastodon::start(cfg()).await;
    let target = fake.seed("an older status", None);
    for i in 0..50 {
        fake.seed(&format!("newer {i}"), None);
    }
    let mut p = publisher_with(&fake, PublishOptions { client: fast(), list_page: 20, max_list_pages: 5 });
    let rec = publish(&mut p, &post("content/a.md"), &output(&["an older status"])).await.expect("ok");
    assert_eq!(rec.id, target);
    let pages: Vec<String> = fake
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/statuses") && r.path.contains("/accounts/"))
        .map(|r| r.query.unwrap_or_default())
        .collect();
    assert_eq!(pages.len(), 3, "{pages:?}");
    assert!(pages[1].contains("max_id="), "{pages:?}");
}

#[tokio::test]
async fn html_entities_links_and_mentions_still_match_the_text_sent() {
    let fake = FakeMastodon::start(cfg()).await;
    let text = "Tom & Jerry's \"show\" <3\n\nwith @alice@other.example and https://example.com/a/really/long/path/that/is/cut?x=1&y=2";
    let mut p = publisher(&fake);
    publish(&mut p, &post("content/a.md"), &output(&[text])).await.expect("ok");
    let mut p2 = publisher(&fake);
    publish(&mut p2, &post("content/a.md"), &output(&[text])).await.expect("ok");
    assert_eq!(fake.statuses().len(), 1, "{}", fake.statuses()[0].content);
}

#[tokio::test]
async fn a_post_the_instance_would_refuse_fails_before_anything_is_sent() {
    let fake = FakeMastodon::start(FakeConfig { max_characters: 100, max_media_attachments: 1, ..cfg() }).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut out = output(&[&"word ".repeat(30)]);
    out.parts[0].media = vec![image(&dir, "a.png", Some("a")), image(&dir, "b.png", Some("b"))];
    let mut p = publisher(&fake);
    let err = p.publish(&post("content/long.md"), &out, "h", NOW, &silent, &quiet).await.expect_err("refused");
    assert!(!err.fatal && !err.ambiguous);
    let codes: Vec<&str> = err.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["mastodon-text-too-long", "mastodon-too-many-media"]);
    assert!(err.message.contains("content/long.md:"), "{}", err.message);
    assert!(err.message.contains("at most 100"), "{}", err.message);
    assert_eq!(fake.count("POST", "/api/v1/statuses") + fake.count("POST", "/api/v2/media"), 0);
}

#[tokio::test]
async fn errors_are_sorted_and_never_show_the_token() {
    let fake = FakeMastodon::start(cfg()).await;
    let token = fake.token();
    let c = client(&fake);
    // 401: fatal.
    let bad = MastodonClient::new(
        parse_instance(&fake.base_url()).expect("url"),
        SecretString::from("wrong-token-123"),
        fast(),
    );
    let e = bad.verify_credentials(&quiet).await.expect_err("401");
    assert!(e.is_fatal() && e.status() == Some(401), "{e}");
    assert!(e.to_string().contains("The access token is invalid"), "{e}");
    // 422: rejected with the server's words; a server echoing the token gets it redacted.
    fake.fail_next(Route::CreateStatus, Fault::Status(422, format!(r#"{{"error":"Validation failed: bad {token}"}}"#)));
    let e = c.create_status(&public("x"), "k", &quiet).await.expect_err("422");
    assert!(matches!(e, MastodonError::Rejected { status: 422, .. }), "{e:?}");
    assert!(!e.to_string().contains(&token) && e.to_string().contains("[REDACTED]"), "{e}");
    assert!(!format!("{c:?}").contains(&token));
    // 400 (GoToSocial's answer to a too-long status) is a rejection too.
    fake.fail_next(
        Route::CreateStatus,
        Fault::Status(400, r#"{"error":"Bad Request: text with spoiler exceed max chars (500)"}"#.into()),
    );
    let e = c.create_status(&public("x"), "k2", &quiet).await.expect_err("400");
    assert_eq!(e.status(), Some(400));
    assert!(!e.is_fatal());
    // An HTML error page is described, not dumped.
    fake.fail_next(Route::GetStatus, Fault::Status(404, "<html><body>Not here</body></html>".into()));
    let e = c.get_status("1", &quiet).await.expect_err("404");
    assert!(e.to_string().contains("an HTML page"), "{e}");
}

#[tokio::test]
async fn a_429_waits_until_the_reset_time() {
    let fake = FakeMastodon::start(cfg()).await;
    fake.fail_next(Route::CreateStatus, Fault::RateLimited { reset_in: Duration::from_millis(600) });
    let c = client(&fake);
    let start = Instant::now();
    let s = c.create_status(&public("after the limit"), "k", &quiet).await.expect("created after waiting");
    assert!(start.elapsed() >= Duration::from_millis(500), "{:?}", start.elapsed());
    assert_eq!(fake.statuses()[0].id, s.id);
    assert_eq!(fake.statuses().len(), 1);
}

#[tokio::test]
async fn the_rate_limit_of_the_fake_is_honoured_across_calls() {
    let fake =
        FakeMastodon::start(FakeConfig { rate_limit: 2, rate_window: Duration::from_millis(700), ..cfg() }).await;
    let c = client(&fake);
    let waits = Mutex::new(0u32);
    let on_wait = |_: Duration| *waits.lock().expect("lock") += 1;
    for _ in 0..3 {
        c.verify_credentials(&on_wait).await.expect("eventually");
    }
    // The third call was refused once, then went through after the reset.
    assert_eq!(fake.calls(), 4);
}

#[tokio::test]
async fn a_5xx_on_a_read_is_retried_and_an_html_502_on_a_create_is_ambiguous() {
    let fake = FakeMastodon::start(cfg()).await;
    let c = client(&fake);
    fake.fail_next(Route::Instance, Fault::HtmlPage);
    let i = c.instance(&quiet).await.expect("retried");
    assert_eq!(i.configuration.statuses.max_characters, Some(500));
    fake.fail_next(Route::CreateStatus, Fault::HtmlPage);
    let e = c.create_status(&public("x"), "k", &quiet).await.expect_err("ambiguous");
    assert!(e.is_ambiguous(), "{e:?}");
}

#[tokio::test]
async fn a_5xx_is_retried_on_the_backoff_whatever_the_rate_limit_reset_says() {
    let fake = FakeMastodon::start(cfg()).await;
    // Like Mastodon, the fake sends the end of its rate-limit window on every response,
    // far beyond the client's 5 s budget.
    let resp = reqwest::get(format!("{}/api/v2/instance", fake.base_url())).await.expect("instance");
    let reset = resp.headers().get("x-ratelimit-reset").and_then(|v| v.to_str().ok()).expect("X-RateLimit-Reset");
    let reset = chrono::DateTime::parse_from_rfc3339(reset).expect("ISO 8601").to_utc();
    assert!(reset - chrono::Utc::now() > chrono::Duration::minutes(30), "{reset}");

    let c = client(&fake);
    let before = fake.calls();
    fake.fail_next(Route::VerifyCredentials, Fault::Status(502, "<html><title>502 Bad Gateway</title></html>".into()));
    fake.fail_next(Route::VerifyCredentials, Fault::Status(503, r#"{"error":"Service Unavailable"}"#.into()));
    c.verify_credentials(&quiet).await.expect("a read is retried");
    assert_eq!(fake.calls() - before, 3);

    // An edit lands on the same status when repeated, so it is retried too.
    let s = c.create_status(&public("x"), "k", &quiet).await.expect("created");
    fake.fail_next(Route::EditStatus, Fault::Status(502, r#"{"error":"Bad Gateway"}"#.into()));
    let edit = StatusEdit { status: "y".into(), ..StatusEdit::default() };
    c.edit_status(&s.id, &edit, &quiet).await.expect("an edit is retried");
    assert_eq!(fake.count("PUT", &format!("/statuses/{}", s.id)), 2);
}

#[tokio::test]
async fn media_processing_that_never_ends_is_bounded() {
    let fake = FakeMastodon::start(FakeConfig { async_media: true, processing_polls: 1000, ..cfg() }).await;
    let c = MastodonClient::new(
        parse_instance(&fake.base_url()).expect("url"),
        SecretString::from(fake.token()),
        ClientOptions { processing_timeout: Duration::from_millis(200), ..fast() },
    );
    let up = Upload {
        bytes: std::sync::Arc::new(vec![1, 2, 3]),
        file_name: "a.png".into(),
        mime: "image/png".into(),
        description: None,
    };
    let e = c.upload_media(&up, &quiet).await.expect_err("times out");
    assert!(matches!(e, MastodonError::Processing { .. }), "{e:?}");
}

#[tokio::test]
async fn a_video_goes_only_alone_on_create_and_on_edit() {
    // post_status_service.rb / update_status_service.rb: `images_and_video`.
    let fake = FakeMastodon::start(cfg()).await;
    let c = client(&fake);
    let upload = |name: &str, mime: &str| Upload {
        bytes: std::sync::Arc::new(vec![1, 2, 3]),
        file_name: name.into(),
        mime: mime.into(),
        description: None,
    };
    let mut ids = Vec::new();
    for (name, mime) in [("v.mp4", "video/mp4"), ("a.png", "image/png")] {
        ids.push(c.upload_media(&upload(name, mime), &quiet).await.expect("upload").id);
    }
    let both = NewStatus { media_ids: ids.clone(), ..public("Both") };
    let e = c.create_status(&both, "k1", &quiet).await.expect_err("a video beside an image");
    assert!(e.status() == Some(422) && e.to_string().contains("Cannot attach a video"), "{e}");
    assert!(fake.statuses().is_empty());
    let alone = NewStatus { media_ids: vec![ids[0].clone()], ..public("Video") };
    let st = c.create_status(&alone, "k2", &quiet).await.expect("a video alone");
    let edit = StatusEdit { status: "Video and more".into(), media_ids: ids.clone(), ..StatusEdit::default() };
    let e = c.edit_status(&st.id, &edit, &quiet).await.expect_err("an image added beside the video");
    assert!(e.status() == Some(422) && e.to_string().contains("Cannot attach a video"), "{e}");
    assert_eq!(fake.statuses()[0].media_ids, [ids[0].clone()], "the status is unchanged");
}

#[tokio::test]
async fn an_edit_changes_only_the_parts_that_changed() {
    let fake = FakeMastodon::start(cfg()).await;
    let mut p = publisher(&fake);
    let p0 = post("content/c.md");
    let rec = publish(&mut p, &p0, &output(&["one", "two", "three"])).await.expect("ok");
    let rec2 = p
        .update(&p0, &output(&["one", "two, edited", "three"]), &rec, "sha256:two", &silent, &quiet)
        .await
        .expect("edited");
    assert_eq!(fake.count("PUT", ""), 1);
    let st = fake.statuses();
    assert_eq!(st[1].text, "two, edited");
    assert_eq!((st[0].edits, st[1].edits, st[2].edits), (0, 1, 0));
    assert_eq!(rec2.hash, "sha256:two");
    assert_eq!((rec2.id.as_str(), rec2.published_at.as_str()), (rec.id.as_str(), rec.published_at.as_str()));
    assert_eq!(rec2.parts, rec.parts);
    // Nothing changed: no PUT at all.
    p.update(&p0, &output(&["one", "two, edited", "three"]), &rec2, "sha256:two", &silent, &quiet).await.expect("ok");
    assert_eq!(fake.count("PUT", ""), 1);
}

#[tokio::test]
async fn an_edit_keeps_media_and_updates_alt_text() {
    let fake = FakeMastodon::start(cfg()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut out = output(&["picture"]);
    out.parts[0].media = vec![image(&dir, "a.png", Some("old alt"))];
    let mut p = publisher(&fake);
    let p0 = post("content/m.md");
    let rec = publish(&mut p, &p0, &out).await.expect("ok");
    let media_id = fake.media()[0].id.clone();
    out.parts[0].text = "picture, new text".into();
    out.parts[0].media[0].alt = Some("new alt".into());
    p.update(&p0, &out, &rec, "sha256:2", &silent, &quiet).await.expect("edited");
    let st = &fake.statuses()[0];
    assert_eq!(st.media_ids, std::slice::from_ref(&media_id), "the attachment stays");
    assert_eq!(fake.media()[0].description.as_deref(), Some("new alt"));
    assert_eq!(fake.media().len(), 1, "nothing re-uploaded");
    let put = fake.requests().into_iter().find(|r| r.method == "PUT").expect("put");
    let body = put.body.expect("json");
    assert_eq!(body["media_ids"], serde_json::json!([media_id]));
}

#[tokio::test]
async fn an_edit_that_changes_the_number_of_parts_is_left_alone() {
    let fake = FakeMastodon::start(cfg()).await;
    let mut p = publisher(&fake);
    let p0 = post("content/c.md");
    let rec = publish(&mut p, &p0, &output(&["one", "two"])).await.expect("ok");
    let err = p.update(&p0, &output(&["one", "two", "three"]), &rec, "h", &silent, &quiet).await.expect_err("left");
    assert!(err.message.contains("3 statuses but 2 were published"), "{}", err.message);
    assert_eq!(fake.count("PUT", ""), 0);
    assert_eq!(fake.statuses().len(), 2);
}

#[tokio::test]
async fn an_edit_of_a_deleted_status_says_how_to_publish_again() {
    let fake = FakeMastodon::start(cfg()).await;
    let mut p = publisher(&fake);
    let rec = Record {
        relays: Vec::new(),
        d: None,
        id: "999".into(),
        url: "u".into(),
        cid: None,
        published_at: NOW.into(),
        hash: "h".into(),
        parts: Vec::new(),
        deleted_at: None,
    };
    let err = p.update(&post("content/a.md"), &output(&["x"]), &rec, "h2", &silent, &quiet).await.expect_err("404");
    assert!(err.message.contains("remove `published.mastodon`"), "{}", err.message);
}

#[test]
fn idempotency_keys_are_stable_and_tell_parts_apart() {
    let out = output(&["a", "b"]);
    let k = |path: &str, i: usize, text: &str| idempotency_key(path, i, &out, &part(text));
    assert_eq!(k("content/a.md", 0, "a"), k("content/a.md", 0, "a"));
    assert_ne!(k("content/a.md", 0, "a"), k("content/b.md", 0, "a"));
    assert_ne!(k("content/a.md", 0, "a"), k("content/a.md", 1, "a"));
    assert_ne!(k("content/a.md", 0, "a"), k("content/a.md", 0, "a!"));
    assert!(k("content/a.md", 0, "a").len() <= 64);
}

#[tokio::test]
async fn a_token_without_read_statuses_stops_before_posting() {
    let scopes = ["write:statuses", "write:media", "read:accounts"].map(String::from).to_vec();
    let fake = FakeMastodon::start(FakeConfig { scopes, ..cfg() }).await;
    let mut p = publisher(&fake);
    let err = p.publish(&post("content/a.md"), &output(&["x"]), "h", NOW, &silent, &quiet).await.expect_err("403");
    assert!(err.fatal, "{err:?}");
    assert!(err.message.contains("read:statuses"), "{}", err.message);
    assert_eq!(fake.count("POST", "/api/v1/statuses"), 0);
}

#[tokio::test]
async fn media_prepared_ahead_are_attached_once_and_not_uploaded_again() {
    let fake = FakeMastodon::start(FakeConfig { latency: Duration::from_millis(30), ..cfg() }).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut out = output(&["prepared"]);
    out.parts[0].media = vec![image(&dir, "a.png", Some("A")), image(&dir, "b.png", Some("B"))];
    let mut p = publisher(&fake);
    let preparer = p.preparer();
    // The preparation runs beside publishing, as the engine does it.
    let post = post("content/p.md");
    let (_, rec) = tokio::join!(preparer.prepare(&out), publish(&mut p, &post, &out));
    rec.expect("published");
    assert_eq!(fake.count("POST", "/api/v2/media"), 2, "each file uploaded once");
    let media: Vec<String> = fake.media().into_iter().map(|m| m.id).collect();
    assert_eq!(fake.statuses()[0].media_ids.len(), 2);
    assert!(fake.statuses()[0].media_ids.iter().all(|id| media.contains(id)));
}

#[tokio::test]
async fn adopt_finds_a_chain_without_posting_and_says_when_it_is_partial_or_ambiguous() {
    use crier::platforms::Adoption;
    let fake = FakeMastodon::start(cfg()).await;
    let one = fake.seed("adopt one", None);
    let two = fake.seed("adopt two", Some(&one));
    let mut p = publisher(&fake);
    match p.adopt(&output(&["adopt one", "adopt two"]), "h", NOW, None, &quiet).await.expect("adopt") {
        Adoption::Found(rec) => {
            assert_eq!(rec.id, one);
            assert_eq!(rec.parts.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), [one.as_str(), two.as_str()]);
        }
        other => panic!("{other:?}"),
    }
    let mut p = publisher(&fake);
    let partial =
        p.adopt(&output(&["adopt one", "adopt two", "adopt three"]), "h", NOW, None, &quiet).await.expect("adopt");
    assert!(matches!(partial, Adoption::Partial(ref m) if m.contains("only 2 of the chain's 3")), "{partial:?}");
    fake.seed("twice", None);
    fake.seed("twice", None);
    let mut p = publisher(&fake);
    let amb = p.adopt(&output(&["twice"]), "h", NOW, None, &quiet).await.expect("adopt");
    assert!(matches!(amb, Adoption::Ambiguous(_)), "{amb:?}");
    let mut p = publisher(&fake);
    assert_eq!(p.adopt(&output(&["nowhere"]), "h", NOW, None, &quiet).await.expect("adopt"), Adoption::NotFound);
    assert_eq!(fake.count("POST", "/api/v1/statuses"), 0, "adopt never posts");
}

// ---------------------------------------------------------------- delete and inspect

fn record_ids(rec: &Record) -> Vec<String> {
    if rec.parts.is_empty() { vec![rec.id.clone()] } else { rec.parts.iter().map(|p| p.id.clone()).collect() }
}

async fn delete(fake: &FakeMastodon, ids: &[String]) -> Result<Deletion, Failure> {
    let c = client(fake);
    let me = c.verify_credentials(&quiet).await.expect("account");
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    remote::delete(&c, &me, &ids, &silent, &quiet).await
}

async fn inspect(fake: &FakeMastodon, ids: &[String], sent: Option<&MastodonOutput>) -> Remote {
    let c = client(fake);
    let me = c.verify_credentials(&quiet).await.expect("account");
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    remote::inspect(&c, &me, &ids, sent, &quiet).await.expect("looked up")
}

fn deleted(fake: &FakeMastodon) -> Vec<String> {
    fake.requests()
        .iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| r.path.rsplit('/').next().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn a_chain_is_deleted_last_status_first_one_call_each() {
    let fake = FakeMastodon::start(cfg()).await;
    let mut p = publisher(&fake);
    let rec = publish(&mut p, &post("content/c.md"), &output(&["one", "two", "three"])).await.expect("published");
    let keep = fake.seed("stays", None);
    let ids = record_ids(&rec);
    let before = fake.calls();
    let done = delete(&fake, &ids).await.expect("deleted");
    assert_eq!(done, Deletion { deleted: 3, already_gone: 0, note: None });
    assert_eq!(fake.calls() - before, 7, "verify_credentials, one GET and one DELETE per status");
    assert_eq!(deleted(&fake), ids.iter().rev().cloned().collect::<Vec<_>>());
    let left: Vec<String> = fake.statuses().into_iter().map(|s| s.id).collect();
    assert_eq!(left, [keep]);
}

#[tokio::test]
async fn statuses_already_gone_and_lost_replies_count_as_deleted() {
    let fake = FakeMastodon::start(cfg()).await;
    let mut p = publisher(&fake);
    let rec = publish(&mut p, &post("content/c.md"), &output(&["one", "two"])).await.expect("published");
    let ids = record_ids(&rec);
    assert!(fake.delete_in_app(&ids[0]));
    // The last status is deleted but its reply is lost: the retry's 404 means done.
    fake.fail_next(Route::DeleteStatus, Fault::DropAfterAction);
    let done = delete(&fake, &ids).await.expect("deleted");
    assert_eq!((done.deleted, done.already_gone), (1, 1));
    assert!(fake.statuses().is_empty());
    assert_eq!(fake.count("DELETE", ""), 2, "no deletion spent on the status already gone");
}

#[tokio::test]
async fn another_accounts_status_is_refused_on_mastodon_and_gotosocial() {
    for code in [404, 403] {
        let fake = FakeMastodon::start(FakeConfig { foreign_delete_status: code, ..cfg() }).await;
        let mine = fake.seed("mine", None);
        let theirs = fake.seed_other("not mine", "109000000000000777", "bob");
        let f = delete(&fake, &[mine, theirs.clone()]).await.expect_err("refused");
        assert!(f.message.contains("belongs to another account (@bob); the token is @crier_tester's"), "{}", f.message);
        assert!(f.fatal.is_none(), "other posts may go on: {f:?}");
        assert_eq!(fake.statuses().len(), 2, "both still there ({code})");
        assert_eq!(fake.count("DELETE", ""), 0, "refused before deleting anything");
        assert_eq!(inspect(&fake, std::slice::from_ref(&theirs), None).await.name(), "other-account");
    }
}

#[tokio::test]
async fn the_deletion_limit_stops_the_run_and_says_when_to_come_back() {
    let fake = FakeMastodon::start(FakeConfig { delete_limit: 1, ..cfg() }).await;
    let mut p = publisher(&fake);
    let rec = publish(&mut p, &post("content/c.md"), &output(&["one", "two"])).await.expect("published");
    let f = delete(&fake, &record_ids(&rec)).await.expect_err("limited");
    assert_eq!(f.published_parts, 1);
    assert!(f.message.contains("rate limit"), "{}", f.message);
    assert!(f.fatal.as_deref().is_some_and(|m| m.contains("again in 30 min")), "{f:?}");
    fake.pass_delete_window();
    let done = delete(&fake, &record_ids(&rec)).await.expect("finished");
    assert_eq!((done.deleted, done.already_gone), (1, 1), "no deletion spent on the part already gone");
}

#[tokio::test]
async fn a_token_without_write_statuses_is_told_so() {
    let fake = FakeMastodon::start(FakeConfig {
        scopes: ["read:accounts", "read:statuses"].map(String::from).to_vec(),
        ..cfg()
    })
    .await;
    let mine = fake.seed("mine", None);
    let f = delete(&fake, &[mine]).await.expect_err("refused");
    assert!(f.message.contains("write:statuses"), "{}", f.message);
    assert_eq!(fake.statuses().len(), 1);
}

#[tokio::test]
async fn inspect_tells_same_gone_and_edited_apart_cheaply() {
    let fake = FakeMastodon::start(cfg()).await;
    let mut p = publisher(&fake);
    let sent = output(&["Tom & Jerry https://example.com/a-rather-long-link-that-gets-shortened", "two"]);
    let rec = publish(&mut p, &post("content/c.md"), &sent).await.expect("published");
    let ids = record_ids(&rec);
    let before = fake.calls();
    assert_eq!(inspect(&fake, &ids, Some(&sent)).await, Remote::Same);
    assert_eq!(fake.calls() - before, 3, "verify_credentials and one GET per status; no source asked");

    assert!(fake.edit_in_app(&ids[1], "two, edited"));
    match inspect(&fake, &ids, Some(&sent)).await {
        Remote::Edited(m) => assert_eq!(m, "status 2: the instance shows “two, edited”, crier sent “two”"),
        other => panic!("{other:?}"),
    }
    assert_eq!(fake.count("GET", "/source"), 1, "the source confirms a difference");
    // Without the sent text (the file changed since) there is nothing to compare.
    assert_eq!(inspect(&fake, &ids, None).await, Remote::Same);

    assert!(fake.delete_in_app(&ids[0]));
    assert_eq!(
        inspect(&fake, &ids, Some(&sent)).await,
        Remote::Gone("status 1 of 2 is no longer on the instance".into())
    );
    assert_eq!(fake.count("DELETE", "") + fake.count("PUT", ""), 0, "read-only");
}
