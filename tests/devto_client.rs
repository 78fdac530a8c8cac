//! The dev.to client and publisher against the fake dev.to server.

#[path = "support/common.rs"]
mod common;
#[path = "support/fake_devto.rs"]
mod fake_devto;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crier::ledger::Record;
use crier::platforms::devto::DevtoOutput;
use crier::platforms::devto::api::{ACCEPT_V1, Article, ArticleInput, ClientOptions, DevtoClient, DevtoError};
use crier::platforms::devto::publish::{DevtoPublisher, PublishOptions};
use fake_devto::{FakeConfig, FakeDevto, Fault, Route};
use secrecy::SecretString;
use serde_json::{Value, json};

use common::NOW;

fn fast() -> ClientOptions {
    ClientOptions {
        min_write_interval: Duration::from_millis(10),
        default_retry_after: Duration::from_secs(1),
        ..common::fast_http()
    }
}

/// Dropped replies hang longer than the client's 1 s timeout.
fn cfg() -> FakeConfig {
    FakeConfig { drop_hang: Duration::from_secs(3), ..FakeConfig::default() }
}

async fn setup(cfg: FakeConfig) -> (FakeDevto, DevtoClient) {
    let fake = FakeDevto::start(cfg).await;
    let client = DevtoClient::new(&fake.base_url(), SecretString::from(fake.api_key()), fast());
    (fake, client)
}

fn publisher(fake: &FakeDevto) -> DevtoPublisher {
    let opts = PublishOptions { client: fast(), list_per_page: 2, max_list_pages: 50 };
    DevtoPublisher::new(&fake.base_url(), SecretString::from(fake.api_key()), opts)
}

fn quiet(_: Duration) {}
fn silent(_: &str) {}

fn input(title: &str, body: &str) -> ArticleInput {
    ArticleInput {
        title: Some(title.into()),
        body_markdown: Some(body.into()),
        published: Some(true),
        tags: Some(vec!["rust".into(), "cli".into()]),
        ..ArticleInput::default()
    }
}

fn output(title: &str, body: &str) -> DevtoOutput {
    DevtoOutput {
        title: Some(title.into()),
        body_markdown: body.into(),
        tags: vec!["rust".into(), "git".into()],
        series: None,
        canonical_url: None,
        description: Some("A post".into()),
        main_image: None,
        published: true,
        organization_id: None,
        template: "devto".into(),
        post_dir: "content".into(),
        local_images: Vec::new(),
        unresolved_images: Vec::new(),
    }
}

fn assert_url_shape(url: &str, username: &str) {
    let slug = url.strip_prefix(&format!("https://dev.to/{username}/")).unwrap_or_else(|| panic!("url shape: {url}"));
    let (_, suffix) = slug.rsplit_once('-').expect("slug has a suffix");
    assert_eq!(suffix.len(), 4, "{url}");
    assert!(suffix.chars().all(|c| c.is_ascii_alphanumeric()), "{url}");
}

#[tokio::test]
async fn create_then_update_in_place() {
    let (fake, client) = setup(cfg()).await;
    let a = client.create_article(&input("Why posts belong in git", "Hello **dev.to**"), &quiet).await.unwrap();
    assert_eq!(a.id_string(), a.id.to_string());
    assert_eq!(a.title, "Why posts belong in git");
    assert_url_shape(&a.url, "crier_tester");
    assert_eq!(a.tags, ["rust", "cli"], "show JSON: `tags` is an array");
    assert_eq!(a.canonical_url.as_deref(), Some(a.url.as_str()), "dev.to reports its own URL as canonical");
    assert!(a.published_at.is_some());

    // The wire format: wrapped, tags as an array, no `None` field.
    let sent = fake.requests().into_iter().find(|r| r.method == "POST").unwrap().body.unwrap();
    assert_eq!(
        sent,
        json!({"article": {"title": "Why posts belong in git", "body_markdown": "Hello **dev.to**", "published": true, "tags": ["rust", "cli"]}})
    );

    let mut change = input("Why posts belong in git (updated)", "Hello again");
    change.series = Some("crier".into());
    let b = client.update_article(a.id, &change, &quiet).await.unwrap();
    assert_eq!(b.id, a.id);
    assert_eq!(b.url, a.url, "a published article keeps its URL");
    let arts = fake.articles();
    assert_eq!(arts.len(), 1);
    assert_eq!(arts[0].title, "Why posts belong in git (updated)");
    assert_eq!(arts[0].body_markdown, "Hello again");
    assert_eq!(arts[0].series.as_deref(), Some("crier"));
    assert!(arts[0].edited_at.is_some());
    assert_eq!(fake.count("PUT", &format!("/api/articles/{}", a.id)), 1);
    assert_eq!(client.calls(), 2);

    let err = client.update_article(1, &change, &quiet).await.unwrap_err();
    assert!(matches!(err, DevtoError::Rejected { status: 404, ref message } if message == "not found"), "{err:?}");
}

#[tokio::test]
async fn list_pages_drafts_first() {
    let (fake, client) = setup(cfg()).await;
    for i in 1..=5 {
        let mut inp = input(&format!("Post {i}"), &format!("Body {i}"));
        inp.published = Some(i % 2 == 1);
        client.create_article(&inp, &quiet).await.unwrap();
    }
    let p1 = client.list_my_articles(1, 2, &quiet).await.unwrap();
    let p2 = client.list_my_articles(2, 2, &quiet).await.unwrap();
    let p3 = client.list_my_articles(3, 2, &quiet).await.unwrap();
    let p4 = client.list_my_articles(4, 2, &quiet).await.unwrap();
    let titles = |p: &[Article]| p.iter().map(|a| a.title.clone()).collect::<Vec<_>>();
    // Drafts (2, 4) newest first, then published (5, 3, 1) newest first.
    assert_eq!(titles(&p1), ["Post 4", "Post 2"]);
    assert_eq!(p1.iter().map(|a| a.published).collect::<Vec<_>>(), [Some(false), Some(false)]);
    assert!(p1.iter().all(|a| a.published_at.is_none()));
    assert_eq!(titles(&p2), ["Post 5", "Post 3"]);
    assert_eq!(titles(&p3), ["Post 1"]);
    assert!(p4.is_empty());
    assert_eq!(p2[0].tags, ["rust", "cli"], "list JSON: `tag_list` array, `tags` string");
    assert_eq!(p2[0].body_markdown.as_deref(), Some("Body 5"));

    let before = fake.count("GET", "/api/articles/me/all");
    let all = client.list_all_my_articles(2, 10, &quiet).await.unwrap();
    assert_eq!(all.len(), 5);
    assert_eq!(fake.count("GET", "/api/articles/me/all") - before, 3, "stops at the short page");
    let q = fake.requests().last().unwrap().query.clone().unwrap();
    assert!(q.contains("page=3") && q.contains("per_page=2"), "{q}");
    let default = client.list_all_my_articles(1000, 10, &quiet).await.unwrap();
    assert_eq!(default.len(), 5);
}

#[tokio::test]
async fn wrong_key_is_unauthorized_and_never_shown() {
    let fake = FakeDevto::start(cfg()).await;
    let bad_key = "wrongKEY_0123456789_supersecret";
    let client = DevtoClient::new(&fake.base_url(), SecretString::from(bad_key), fast());
    let err = client.create_article(&input("T", "B"), &quiet).await.unwrap_err();
    assert!(err.is_fatal());
    assert!(matches!(err, DevtoError::Unauthorized { ref message } if message == "unauthorized"), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("DEVTO_API_KEY"), "{text}");
    for s in [text, format!("{err:?}"), format!("{client:?}")] {
        assert!(!s.contains(bad_key), "{s}");
    }
    assert!(client.list_my_articles(1, 30, &quiet).await.unwrap_err().is_fatal());
    assert!(fake.articles().is_empty());
    assert_eq!(client.calls(), 2, "no retry on 401");
}

#[tokio::test]
async fn validation_errors_surface_the_server_message() {
    let (fake, client) = setup(cfg()).await;
    let cases: [(ArticleInput, &str); 4] = [
        (input(&"x".repeat(129), "b"), "Title is too long (maximum is 128 characters)"),
        (ArticleInput { title: None, ..input("", "b") }, "Title can't be blank"),
        (
            ArticleInput {
                tags: Some(vec!["a".into(), "b".into(), "c".into(), "d".into(), "e".into()]),
                ..input("T", "b")
            },
            "Tag list exceed the maximum of 4 tags",
        ),
        (
            ArticleInput { tags: Some(vec!["open-source".into()]), ..input("T", "b") },
            "Tag \"open-source\" contains non-alphanumeric or prohibited unicode characters",
        ),
    ];
    for (inp, expected) in cases {
        let err = client.create_article(&inp, &quiet).await.unwrap_err();
        match &err {
            DevtoError::Rejected { status: 422, message } => assert_eq!(message, expected),
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains(expected));
    }
    let big = "a".repeat(800 * 1024 + 1);
    let err = client.create_article(&input("Big", &big), &quiet).await.unwrap_err();
    assert!(err.to_string().contains("Body markdown is too long"), "{err}");
    assert!(fake.articles().is_empty());
}

#[tokio::test]
async fn duplicate_canonical_url_is_rejected() {
    let (fake, client) = setup(cfg()).await;
    let mut a = input("First", "one");
    a.canonical_url = Some("https://blog.example/posts/1".into());
    client.create_article(&a, &quiet).await.unwrap();
    let mut b = input("Second", "two");
    b.canonical_url = a.canonical_url.clone();
    let err = client.create_article(&b, &quiet).await.unwrap_err();
    assert!(
        matches!(err, DevtoError::Rejected { status: 422, ref message } if message == "Canonical url has already been taken"),
        "{err:?}"
    );
    // Same title and body as an existing article: Forem's uniqueness rule.
    let err = client.create_article(&input("First", "one"), &quiet).await.unwrap_err();
    assert!(err.to_string().contains("Body markdown has already been taken"), "{err}");
    assert_eq!(fake.articles().len(), 1);
}

#[tokio::test]
async fn rate_limit_is_waited_out_with_a_countdown() {
    let (fake, client) = setup(cfg()).await;
    fake.fail_next(Route::Create, Fault::RateLimited { retry_after_secs: Some(1) });
    let seen = Mutex::new(Vec::new());
    let on_wait = |d: Duration| seen.lock().unwrap().push(d);
    let started = Instant::now();
    let a = client.create_article(&input("Rate", "limited"), &on_wait).await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));
    let seen = seen.into_inner().unwrap();
    assert!(!seen.is_empty() && seen.len() <= 2, "{seen:?}");
    assert!(seen[0] <= Duration::from_secs(1) && seen[0] > Duration::from_millis(900), "{seen:?}");
    assert_eq!(fake.articles().len(), 1);
    assert_eq!(fake.articles()[0].id, a.id);
    assert_eq!(client.calls(), 2);
}

#[tokio::test]
async fn forem_create_limit_then_bounded_wait() {
    let cfg = FakeConfig { create_limit: 1, rate_window: Duration::from_secs(1), rate_retry_after_secs: 1, ..cfg() };
    let (fake, client) = setup(cfg).await;
    client.create_article(&input("One", "1"), &quiet).await.unwrap();
    let waits = Mutex::new(0);
    let on_wait = |_: Duration| *waits.lock().unwrap() += 1;
    client.create_article(&input("Two", "2"), &on_wait).await.unwrap();
    assert!(*waits.lock().unwrap() >= 1);
    assert_eq!(fake.articles().len(), 2);

    // A wait longer than the bound is not attempted.
    let opts = ClientOptions { max_total_wait: Duration::from_millis(500), ..fast() };
    let short = DevtoClient::new(&fake.base_url(), SecretString::from(fake.api_key()), opts);
    let err = short.create_article(&input("Three", "3"), &quiet).await.unwrap_err();
    match &err {
        DevtoError::RateLimited { retry_after, message } => {
            assert_eq!(*retry_after, Duration::from_secs(1));
            assert_eq!(message, "Rate limit reached, try again in 1 seconds");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(fake.articles().len(), 2);
}

#[tokio::test]
async fn writes_are_spaced() {
    let cfg = FakeConfig { write_throttle: Some(Duration::from_millis(50)), ..cfg() };
    let fake = FakeDevto::start(cfg).await;
    let opts = ClientOptions { min_write_interval: Duration::from_millis(120), ..fast() };
    let client = DevtoClient::new(&fake.base_url(), SecretString::from(fake.api_key()), opts);
    for i in 0..3 {
        client.create_article(&input(&format!("S{i}"), "s"), &quiet).await.unwrap();
    }
    assert_eq!(client.calls(), 3, "no throttled write");

    // Unspaced writes hit rack-attack's plain-text 429 and wait out its Retry-After.
    let eager = DevtoClient::new(
        &fake.base_url(),
        SecretString::from(fake.api_key()),
        ClientOptions { min_write_interval: Duration::ZERO, ..fast() },
    );
    eager.create_article(&input("E1", "e"), &quiet).await.unwrap();
    eager.create_article(&input("E2", "e"), &quiet).await.unwrap();
    assert_eq!(fake.articles().len(), 5);
    assert!(eager.calls() >= 2);
}

#[tokio::test]
async fn reads_retry_server_errors_but_creates_do_not() {
    let (fake, client) = setup(cfg()).await;
    fake.fail_next(Route::ListMine, Fault::HtmlPage);
    fake.fail_next(Route::ListMine, Fault::Status(503, r#"{"error":"busy","status":503}"#.into()));
    assert!(client.list_my_articles(1, 30, &quiet).await.unwrap().is_empty());
    assert_eq!(client.calls(), 3);

    fake.fail_next(Route::Create, Fault::HtmlPage);
    let err = client.create_article(&input("T", "B"), &quiet).await.unwrap_err();
    assert!(err.is_ambiguous(), "{err:?}");
    assert_eq!(fake.count("POST", "/api/articles"), 1, "never re-sent");

    fake.fail_next(Route::Create, Fault::DropAfterAction);
    let err = client.create_article(&input("T", "B"), &quiet).await.unwrap_err();
    assert!(matches!(err, DevtoError::Ambiguous { operation: "create article", .. }), "{err:?}");
    assert_eq!(fake.articles().len(), 1, "the lost create took effect");

    // A PUT is idempotent: a lost reply is retried.
    let id = fake.articles()[0].id;
    fake.fail_next(Route::Update, Fault::DropAfterAction);
    let a = client.update_article(id, &input("T2", "B2"), &quiet).await.unwrap();
    assert_eq!(a.title, "T2");
}

#[tokio::test]
async fn publisher_creates_and_records() {
    let fake = FakeDevto::start(cfg()).await;
    let mut p = publisher(&fake);
    let out = output("Introducing crier", "crier publishes posts from git.");
    let rec = p.publish(&out, "sha256:aaa", NOW, &silent, &quiet).await.unwrap();
    let arts = fake.articles();
    assert_eq!(arts.len(), 1);
    assert_eq!(rec.id, arts[0].id.to_string());
    assert_eq!(rec.url, arts[0].url);
    assert_eq!(rec.published_at, NOW);
    assert_eq!(rec.hash, "sha256:aaa");
    assert!(rec.parts.is_empty());
    assert_eq!(arts[0].tags, ["rust", "git"]);
    assert_eq!(arts[0].description.as_deref(), Some("A post"));
    assert_eq!(fake.count("GET", "/me/all"), 1, "listed once to reconcile");

    // Updated in place: same id and URL, new hash, first publication time kept.
    let changed = output("Introducing crier", "crier publishes posts from git, exactly once.");
    let rec2 = p.update(&rec, &changed, "sha256:bbb", &quiet).await.unwrap();
    assert_eq!(rec2, Record { hash: "sha256:bbb".into(), ..rec.clone() });
    let arts = fake.articles();
    assert_eq!(arts.len(), 1);
    assert_eq!(arts[0].body_markdown, "crier publishes posts from git, exactly once.");

    // A second post in the same run reuses the cached list.
    p.publish(&output("Second", "two"), "sha256:ccc", NOW, &silent, &quiet).await.unwrap();
    assert_eq!(fake.count("GET", "/me/all"), 1);
    assert_eq!(fake.articles().len(), 2);

    let gone = Record { id: "999".into(), ..rec };
    let f = p.update(&gone, &changed, "sha256:ddd", &quiet).await.unwrap_err();
    assert!(f.message.contains("404") && !f.fatal, "{}", f.message);
}

#[tokio::test]
async fn update_clears_keys_removed_from_the_post() {
    let fake = FakeDevto::start(cfg()).await;
    let mut p = publisher(&fake);
    let full = DevtoOutput {
        series: Some("Launch".into()),
        canonical_url: Some("https://example.org/intro".into()),
        main_image: Some("https://example.org/cover.png".into()),
        ..output("Introducing crier", "Body.")
    };
    let rec = p.publish(&full, "sha256:aaa", NOW, &silent, &quiet).await.unwrap();
    let a = &fake.articles()[0];
    assert_eq!(
        (a.series.as_deref(), a.canonical_url.as_deref(), a.description.as_deref()),
        (Some("Launch"), Some("https://example.org/intro"), Some("A post"))
    );

    // The post no longer sets them: the update removes them on dev.to too.
    let bare = DevtoOutput { description: None, tags: Vec::new(), ..output("Introducing crier", "Body, edited.") };
    p.update(&rec, &bare, "sha256:bbb", &quiet).await.unwrap();
    let a = &fake.articles()[0];
    assert_eq!((a.series.as_deref(), a.canonical_url.as_deref(), a.main_image.as_deref()), (None, None, None));
    assert!(a.description.as_deref().is_none_or(str::is_empty), "{:?}", a.description);
    assert!(a.tags.is_empty(), "{:?}", a.tags);
    let put = fake.requests().into_iter().rev().find(|r| r.method == "PUT").expect("a PUT");
    let body = put.body.expect("JSON body");
    assert_eq!(body["article"]["series"], Value::Null, "{body}");
}

#[tokio::test]
async fn lost_create_reply_is_reconciled_not_repeated() {
    let fake = FakeDevto::start(cfg()).await;
    // Other articles on the account, over several list pages.
    for i in 0..3 {
        fake.seed(&format!("Old {i}"), "old", true, None);
    }
    let mut p = publisher(&fake);
    fake.fail_next(Route::Create, Fault::DropAfterAction);
    let steps = Mutex::new(Vec::new());
    let progress = |s: &str| steps.lock().unwrap().push(s.to_owned());
    let out = output("Exactly once", "never twice");
    let rec = p.publish(&out, "sha256:1", NOW, &progress, &quiet).await.unwrap();
    let arts = fake.articles();
    assert_eq!(arts.len(), 4, "exactly one new article");
    let mine = arts.iter().find(|a| a.title == "Exactly once").unwrap();
    assert_eq!(rec.id, mine.id.to_string());
    assert_eq!(rec.url, mine.url);
    assert_eq!(fake.count("POST", "/api/articles"), 1);
    assert!(steps.lock().unwrap().iter().any(|s| s.contains("reply was lost")));

    // A rerun from a fresh clone (the record was never written) adopts it.
    let mut again = publisher(&fake);
    let rec2 = again.publish(&out, "sha256:1", NOW, &silent, &quiet).await.unwrap();
    assert_eq!(rec2.id, rec.id);
    assert_eq!(fake.count("POST", "/api/articles"), 1);
    assert_eq!(fake.count("PUT", ""), 0, "identical: adopted without an update");
    assert_eq!(fake.articles().len(), 4);
}

#[tokio::test]
async fn lost_create_that_did_not_happen_fails_then_rerun_publishes() {
    let fake = FakeDevto::start(cfg()).await;
    let mut p = publisher(&fake);
    fake.fail_next(Route::Create, Fault::Status(502, "<html><title>502</title></html>".into()));
    let out = output("Maybe", "or maybe not");
    let f = p.publish(&out, "sha256:1", NOW, &silent, &quiet).await.unwrap_err();
    assert!(f.ambiguous && !f.fatal, "{f:?}");
    assert!(f.message.contains("run publish again"), "{}", f.message);
    assert!(fake.articles().is_empty());
    assert_eq!(fake.count("POST", "/api/articles"), 1, "not sent twice in the run");
    assert_eq!(fake.count("GET", "/me/all"), 2, "listed before and after the lost reply");

    let mut rerun = publisher(&fake);
    rerun.publish(&out, "sha256:1", NOW, &silent, &quiet).await.unwrap();
    assert_eq!(fake.articles().len(), 1);
}

#[tokio::test]
async fn reconcile_matches_canonical_url_first() {
    let fake = FakeDevto::start(cfg()).await;
    // An interrupted run left a draft with an older title under the post's canonical URL.
    let id = fake.seed("Old title", "draft body", false, Some("https://blog.example/p/1"));
    fake.seed("New title", "someone else's", true, None);
    let mut out = output("New title", "final body");
    out.canonical_url = Some("https://blog.example/p/1/".into());
    let mut p = publisher(&fake);
    let rec = p.publish(&out, "sha256:x", NOW, &silent, &quiet).await.unwrap();
    assert_eq!(rec.id, id.to_string(), "canonical URL wins over the title");
    assert_eq!(fake.count("POST", "/api/articles"), 0);
    // Brought in line with the post: title, body, published.
    let a = fake.articles().into_iter().find(|a| a.id == id).unwrap();
    assert_eq!((a.title.as_str(), a.body_markdown.as_str(), a.published), ("New title", "final body", true));
    assert_eq!(rec.url, a.url);
}

#[tokio::test]
async fn reconcile_sees_drafts_and_skips_recorded_articles() {
    let fake = FakeDevto::start(cfg()).await;
    let draft = fake.seed("Draft post", "wip", false, None);
    let recorded = fake.seed("Weekly notes", "week 1", true, None);
    let mut p = publisher(&fake);
    p.exclude([recorded.to_string(), "not-a-number".to_string()]);

    let mut d = output("Draft post", "wip");
    d.published = false;
    let rec = p.publish(&d, "sha256:d", NOW, &silent, &quiet).await.unwrap();
    assert_eq!(rec.id, draft.to_string(), "drafts are in /me/all");

    // Same title as an article another file recorded: a new article.
    let rec = p.publish(&output("Weekly notes", "week 2"), "sha256:w", NOW, &silent, &quiet).await.unwrap();
    assert_ne!(rec.id, recorded.to_string());
    assert_eq!(fake.articles().len(), 3);
    assert_eq!(fake.count("POST", "/api/articles"), 1);
}

#[tokio::test]
async fn key_never_appears_in_errors() {
    let key = "devtoFakeKey0123456789abcdefSECRET";
    let cfg = FakeConfig { api_key: key.into(), ..cfg() };
    let (fake, client) = setup(cfg).await;
    let mut texts = vec![format!("{client:?}")];
    let echo = format!(r#"{{"error":"bad key {key}","status":400}}"#);
    fake.fail_next(Route::Create, Fault::Status(400, echo));
    let e = client.create_article(&input("T", "B"), &quiet).await.unwrap_err();
    assert!(e.to_string().contains("[REDACTED]"), "{e}");
    texts.extend([e.to_string(), format!("{e:?}")]);
    fake.fail_next(Route::Create, Fault::DropAfterAction);
    let e = client.create_article(&input("T", "B"), &quiet).await.unwrap_err();
    texts.extend([e.to_string(), format!("{e:?}")]);
    let e = client.create_article(&input("", "B"), &quiet).await.unwrap_err();
    texts.extend([e.to_string(), format!("{e:?}")]);
    let mut p = publisher(&fake);
    fake.fail_next(Route::Create, Fault::HtmlPage);
    let f = p.publish(&output("X", "y"), "h", NOW, &silent, &quiet).await.unwrap_err();
    texts.extend([f.message.clone(), format!("{f:?}"), format!("{:?}", p.client())]);
    for t in texts {
        assert!(!t.contains(key), "{t}");
    }
}

/// The fake's own rules, checked with raw requests.
#[tokio::test]
async fn fake_enforces_forem_request_rules() {
    let fake = FakeDevto::start(cfg()).await;
    assert!(fake.schema_from_spec(), "the spec file is found from CARGO_MANIFEST_DIR");
    let http = reqwest::Client::new();
    let url = format!("{}/articles", fake.base_url());
    let post = |body: Value, key: &str, accept: &str| {
        http.post(&url).header("api-key", key).header("accept", accept).json(&body).send()
    };
    let key = fake.api_key();
    let reply = |r: reqwest::Response| async move { (r.status().as_u16(), r.json::<Value>().await.unwrap()) };

    let (s, v) = reply(post(json!({"article": {"title": "t"}}), "nope", ACCEPT_V1).await.unwrap()).await;
    assert_eq!((s, v), (401, json!({"error": "unauthorized", "status": 401})));
    let (s, _) = reply(post(json!({"article": {"title": "t"}}), &key, "application/json").await.unwrap()).await;
    assert_eq!(s, 406);
    let (s, v) = reply(post(json!({"title": "t"}), &key, ACCEPT_V1).await.unwrap()).await;
    assert_eq!((s, v), (422, json!({"error": "param is missing or the value is empty: article", "status": 422})));
    let (s, v) = reply(post(json!({"article": "x"}), &key, ACCEPT_V1).await.unwrap()).await;
    assert_eq!(s, 422);
    assert_eq!(v["error"], "article param must be a JSON object. You provided article as a String");
    let (s, v) = reply(
        post(json!({"article": {"title": 5, "published": "yes", "tags": "a, b", "series": null}}), &key, ACCEPT_V1)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 422);
    let msg = v["error"].as_str().unwrap();
    for part in ["article.title must be string", "article.published must be boolean", "article.tags must be array"] {
        assert!(msg.contains(part), "{msg}");
    }
    assert!(!msg.contains("series"), "null is allowed for series: {msg}");

    // Unknown fields are ignored; organization_id is honoured for members only.
    let body = json!({"article": {"title": "Hi", "body_markdown": "x", "unknown": 1, "organization_id": 42}});
    let (s, v) = reply(post(body, &key, ACCEPT_V1).await.unwrap()).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["tag_list"], "");
    assert_eq!(v["tags"], json!([]));
    assert!(v["published_at"].is_null(), "published defaults to false");
    assert_eq!(fake.articles()[0].organization_id, Some(42));
}

// ---------------------------------------------------------------- unpublish and look-up

#[tokio::test]
async fn unpublishing_leaves_a_draft_and_only_the_owner_can() {
    let (fake, client) = setup(cfg()).await;
    let id = fake.seed("Mine", "My body.", true, None);
    let a = client.unpublish_article(id, &quiet).await.unwrap();
    assert_eq!(a.id, id);
    let stored = fake.articles().into_iter().find(|a| a.id == id).unwrap();
    assert!(!stored.published, "a draft now");
    assert_eq!(stored.body_markdown, "My body.", "nothing else changed");
    let put = fake.requests().into_iter().rfind(|r| r.method == "PUT").unwrap();
    assert_eq!(put.body, Some(json!({"article": {"published": false}})));

    // A draft is not readable by id; another user's article is, and is not ours to change.
    let err = client.get_article(id, &quiet).await.unwrap_err();
    assert_eq!(err.status(), Some(404), "{err:?}");
    let theirs = fake.seed_foreign("someone_else", "Theirs", "Their body.");
    let err = client.unpublish_article(theirs, &quiet).await.unwrap_err();
    assert_eq!(err.status(), Some(404), "{err:?}");
    let a = client.get_article(theirs, &quiet).await.unwrap();
    assert_eq!(a.user.map(|u| u.username).as_deref(), Some("someone_else"));
    assert!(!client.list_all_my_articles(100, 5, &quiet).await.unwrap().iter().any(|a| a.id == theirs));
}

#[tokio::test]
async fn unpublishing_waits_out_a_rate_limit() {
    let (fake, client) = setup(cfg()).await;
    let id = fake.seed("Limited", "Body.", true, None);
    fake.fail_next(Route::Update, Fault::RateLimited { retry_after_secs: Some(1) });
    let started = Instant::now();
    client.unpublish_article(id, &quiet).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(900), "waited for Retry-After");
    assert!(!fake.articles()[0].published);
}
