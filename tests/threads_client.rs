//! The Threads client against the fake Threads server.

#[path = "support/common.rs"]
mod common;
#[path = "support/fake_threads.rs"]
mod fake_threads;

use std::time::{Duration, Instant};

use crier::platforms::threads::api::{
    ContainerId, ContainerRequest, HttpOptions, MediaId, Poll, Reconciled, Status, ThreadsClient, ThreadsError,
};
use fake_threads::{FakeConfig, FakeThreads, Fault, Route};
use secrecy::SecretString;

fn fast() -> HttpOptions {
    HttpOptions {
        max_total_wait: Duration::from_secs(2),
        request_timeout: Duration::from_secs(2),
        ..common::fast_http()
    }
}

fn client_for(fake: &FakeThreads, opts: HttpOptions) -> ThreadsClient {
    ThreadsClient::new(&fake.base_url(), SecretString::from(fake.token()), opts)
}

async fn setup(cfg: FakeConfig) -> (FakeThreads, ThreadsClient) {
    let fake = FakeThreads::start(cfg).await;
    let client = client_for(&fake, fast());
    (fake, client)
}

const POLL: Duration = Duration::from_millis(20);
const MAX_WAIT: Duration = Duration::from_secs(3);

/// Create → wait → publish, as the publisher does.
async fn post(client: &ThreadsClient, user: &str, req: &ContainerRequest) -> MediaId {
    let c = client.create_container(user, req).await.expect("create");
    client.wait_until_finished(&c, MAX_WAIT, POLL).await.expect("finished");
    client.publish(user, &c).await.expect("publish")
}

fn is_numeric(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

#[tokio::test]
async fn text_post_end_to_end() {
    let (fake, client) = setup(FakeConfig::default()).await;
    let me = client.me().await.unwrap();
    assert_eq!(me.id, fake.user_id());
    assert_eq!(me.username, "crier_tester");
    let before = client.calls();

    let c = client.create_container(&me.id, &ContainerRequest::text("hello from crier")).await.unwrap();
    let status = client.wait_until_finished(&c, MAX_WAIT, POLL).await.unwrap();
    assert_eq!(status, Status::Finished);
    let m = client.publish(&me.id, &c).await.unwrap();
    let url = client.permalink(&m, &me.username).await.unwrap();

    assert_ne!(c.0, m.0, "container and media ids differ");
    assert!(is_numeric(&c.0) && is_numeric(&m.0));
    let code = url.strip_prefix("https://www.threads.com/@crier_tester/post/").expect("permalink shape");
    assert!(code.chars().all(|ch| ch.is_ascii_alphanumeric()) && !code.is_empty());
    assert!(!url.contains(&m.0), "shortcode is not the numeric id");
    assert!(client.calls() - before <= 4, "create, status, publish, read");

    let posts = fake.published_posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].id, m.0);
    assert_eq!(posts[0].text.as_deref(), Some("hello from crier"));
    assert_eq!(posts[0].media_type, "TEXT");
    assert_eq!(posts[0].permalink, url);
    assert_eq!(client.container_status(&c).await.unwrap(), (Status::Published, None));

    let media = client.media(&m).await.unwrap();
    assert_eq!(media.media_type.as_deref(), Some("TEXT_POST"));
    let ts = media.timestamp.unwrap();
    assert!(ts.ends_with("+0000") && ts.len() == 24, "{ts}");
}

#[tokio::test]
async fn image_waits_for_processing() {
    let cfg = FakeConfig { media_delay: Duration::from_millis(150), ..FakeConfig::default() };
    let (fake, client) = setup(cfg).await;
    let user = fake.user_id();
    let mut req = ContainerRequest::image("https://example.com/cat.jpg").with_text("a cat");
    req.alt_text = Some("a grey cat".into());
    let c = client.create_container(&user, &req).await.unwrap();
    assert_eq!(client.container_status(&c).await.unwrap().0, Status::InProgress);
    let started = Instant::now();
    client.wait_until_finished(&c, MAX_WAIT, POLL).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(100));
    let m = client.publish(&user, &c).await.unwrap();
    let posts = fake.published_posts();
    assert_eq!(posts[0].id, m.0);
    assert_eq!(posts[0].media_type, "IMAGE");
    assert_eq!(posts[0].param("image_url"), Some("https://example.com/cat.jpg"));
    assert_eq!(posts[0].param("alt_text"), Some("a grey cat"));
}

#[tokio::test]
async fn wait_is_bounded() {
    let cfg = FakeConfig { media_delay: Duration::from_secs(60), ..FakeConfig::default() };
    let (fake, client) = setup(cfg).await;
    let c =
        client.create_container(&fake.user_id(), &ContainerRequest::video("https://example.com/v.mp4")).await.unwrap();
    let err = client.wait_until_finished(&c, Duration::from_millis(100), POLL).await.unwrap_err();
    assert!(matches!(err, ThreadsError::NotFinished { status: Status::InProgress, .. }), "{err:?}");
}

#[tokio::test]
async fn carousel_with_children() {
    let cfg = FakeConfig { media_delay: Duration::from_millis(50), ..FakeConfig::default() };
    let (fake, client) = setup(cfg).await;
    let user = fake.user_id();
    let mut children = Vec::new();
    for url in ["https://example.com/1.jpg", "https://example.com/2.jpg"] {
        let req = ContainerRequest::image(url).carousel_item();
        children.push(client.create_container(&user, &req).await.unwrap());
    }
    let req = ContainerRequest::carousel(children.clone()).with_text("two pictures");
    let m = post(&client, &user, &req).await;

    let posts = fake.published_posts();
    assert_eq!(posts.len(), 1, "a carousel is one post");
    assert_eq!(posts[0].id, m.0);
    assert_eq!(posts[0].media_type, "CAROUSEL");
    let ids: Vec<String> = children.iter().map(|c| c.0.clone()).collect();
    assert_eq!(posts[0].children, ids);
    let page = client.list_threads(&user, 25, None).await.unwrap();
    assert_eq!(page.data[0].media_type.as_deref(), Some("CAROUSEL_ALBUM"));

    // Only one child: rejected by validation.
    let one = client
        .create_container(&user, &ContainerRequest::image("https://example.com/3.jpg").carousel_item())
        .await
        .unwrap();
    let err = client.create_container(&user, &ContainerRequest::carousel(vec![one])).await.unwrap_err();
    assert!(matches!(err, ThreadsError::Rejected { code: 100, .. }), "{err:?}");
}

#[tokio::test]
async fn chain_of_three_replies() {
    let (fake, client) = setup(FakeConfig::default()).await;
    let user = fake.user_id();
    let root = post(&client, &user, &ContainerRequest::text("part 1")).await;
    let mut prev = root.clone();
    let mut ids = vec![root.clone()];
    for i in 2..=4 {
        let req = ContainerRequest::text(format!("part {i}")).reply_to(&prev);
        prev = post(&client, &user, &req).await;
        ids.push(prev.clone());
    }
    let posts = fake.published_posts();
    assert_eq!(posts.len(), 4);
    assert_eq!(posts[0].reply_to, None);
    for i in 1..4 {
        assert_eq!(posts[i].reply_to.as_deref(), Some(ids[i - 1].0.as_str()));
    }
    let top = client.list_threads(&user, 25, None).await.unwrap();
    assert_eq!(top.data.len(), 1, "replies are not top-level posts");
    assert_eq!(top.data[0].id, root.0);
    let replies = client.list_replies(&user, 25, None).await.unwrap();
    assert_eq!(replies.data.len(), 3);
    assert_eq!(replies.data[0].text.as_deref(), Some("part 4"), "newest first");
    let conv = client.conversation(&root, 25, None).await.unwrap();
    assert_eq!(conv.data.len(), 3);

    let quota = client.publishing_limit(&user).await.unwrap();
    assert_eq!((quota.used, quota.total), (1, 250));
    assert_eq!((quota.reply_used, quota.reply_total), (3, 1000));
}

#[tokio::test]
async fn reply_to_must_be_a_published_media_id() {
    let (fake, client) = setup(FakeConfig::default()).await;
    let user = fake.user_id();
    let c = client.create_container(&user, &ContainerRequest::text("root")).await.unwrap();
    let err = client
        .create_container(&user, &ContainerRequest::text("reply").reply_to(&MediaId(c.0.clone())))
        .await
        .unwrap_err();
    assert!(matches!(err, ThreadsError::Rejected { code: 100, subcode: Some(33), .. }), "{err:?}");
}

#[tokio::test]
async fn publish_too_early_is_retried() {
    let cfg = FakeConfig { media_delay: Duration::from_millis(200), ..FakeConfig::default() };
    let (fake, client) = setup(cfg).await;
    let user = fake.user_id();
    let c = client.create_container(&user, &ContainerRequest::image("https://example.com/a.png")).await.unwrap();
    let m = client.publish(&user, &c).await.expect("retried until ready");
    assert_eq!(fake.published_posts()[0].id, m.0);
    let publishes = fake.requests().iter().filter(|(_, p)| p.ends_with("/threads_publish")).count();
    assert!(publishes >= 2, "first attempt was too early");

    // With no wait budget the caller sees NotReady.
    let impatient = client_for(&fake, HttpOptions { max_total_wait: Duration::ZERO, ..fast() });
    let c = client.create_container(&user, &ContainerRequest::image("https://example.com/b.png")).await.unwrap();
    let err = impatient.publish(&user, &c).await.unwrap_err();
    assert!(matches!(err, ThreadsError::NotReady { .. }), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn server_error_then_success() {
    let (fake, client) = setup(FakeConfig::default()).await;
    let body = r#"{"error":{"message":"An unexpected error has occurred. Please retry your request later.","type":"OAuthException","code":2,"is_transient":true,"fbtrace_id":"x"}}"#;
    fake.fail_next(Route::Me, Fault::Status(500, body.into()));
    fake.fail_next(Route::Me, Fault::HtmlPage);
    client.me().await.expect("retried");
    assert_eq!(fake.calls(), 3);

    // A 5xx with a Graph body on a write certainly did not act: retried.
    fake.fail_next(Route::Publish, Fault::GraphError { code: 2, subcode: None, transient: true });
    let user = fake.user_id();
    post(&client, &user, &ContainerRequest::text("after a 500")).await;
    assert_eq!(fake.published_posts().len(), 1);
}

#[tokio::test]
async fn too_many_requests_honours_retry_after() {
    let (fake, client) = setup(FakeConfig::default()).await;
    fake.fail_next(Route::Me, Fault::RateLimited { retry_after_secs: Some(1) });
    let started = Instant::now();
    client.me().await.expect("retried after the delay");
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(fake.calls(), 2);

    // A Retry-After beyond the budget is not waited for.
    let short = client_for(&fake, HttpOptions { max_total_wait: Duration::from_millis(500), ..fast() });
    fake.fail_next(Route::Me, Fault::RateLimited { retry_after_secs: Some(30) });
    let started = Instant::now();
    let err = short.me().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(
        matches!(
            err,
            ThreadsError::Transient { status: Some(429), retry_after: Some(d), .. } if d == Duration::from_secs(30)
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn throttling_code_is_retried_even_on_publish() {
    let (fake, client) = setup(FakeConfig::default()).await;
    let user = fake.user_id();
    fake.fail_next(Route::Publish, Fault::GraphError { code: 4, subcode: None, transient: false });
    fake.fail_next(Route::CreateContainer, Fault::GraphError { code: 17, subcode: None, transient: false });
    post(&client, &user, &ContainerRequest::text("throttled")).await;
    assert_eq!(fake.published_posts().len(), 1);
    assert_eq!(fake.containers_created(), 1);

    // Exhausted budget: a Transient error with the code.
    let impatient = client_for(&fake, HttpOptions { max_total_wait: Duration::ZERO, ..fast() });
    fake.fail_next(Route::Me, Fault::GraphError { code: 4, subcode: None, transient: false });
    let err = impatient.me().await.unwrap_err();
    assert!(matches!(err, ThreadsError::Transient { code: Some(4), .. }), "{err:?}");
}

#[tokio::test]
async fn invalid_token_stops_the_run() {
    let (fake, client) = setup(FakeConfig::default()).await;
    fake.expire_token();
    let err = client.me().await.unwrap_err();
    assert!(matches!(err, ThreadsError::TokenInvalid { code: 190, .. }), "{err:?}");
    assert!(err.is_fatal() && !err.is_retryable());
    assert!(err.to_string().contains("crier auth refresh"));
    assert_eq!(fake.calls(), 1, "not retried");

    let wrong = ThreadsClient::new(&fake.base_url(), SecretString::from("nope".to_owned()), fast());
    let err = wrong.publishing_limit("me").await.unwrap_err();
    assert!(matches!(err, ThreadsError::TokenInvalid { .. }), "{err:?}");

    // Code 102 (an API session) is a token problem too.
    fake.set_token(&fake.token());
    let body = r#"{"error":{"message":"Error validating access token","type":"OAuthException","code":102}}"#;
    fake.fail_next(Route::Me, Fault::Status(400, body.into()));
    let err = client.me().await.unwrap_err();
    assert!(matches!(err, ThreadsError::TokenInvalid { code: 102, .. }), "{err:?}");
}

#[tokio::test]
async fn only_a_dead_token_is_a_token_problem() {
    let (fake, client) = setup(FakeConfig::default()).await;
    let user = fake.user_id();
    let oauth = |code: i64, subcode: Option<i64>| {
        let sub = subcode.map(|s| format!(r#","error_subcode":{s}"#)).unwrap_or_default();
        format!(
            r#"{{"error":{{"message":"(#{code}) Invalid parameter","type":"OAuthException","code":{code}{sub},"fbtrace_id":"t"}}}}"#
        )
    };
    // (code, subcode, whether the token is dead)
    let cases = [
        (100, None, false),
        (100, Some(2_207_052), false),
        (10, None, false),
        (190, None, true),
        (102, None, true),
        (100, Some(458), true),
        (190, Some(463), true),
        (100, Some(467), true),
        (100, Some(468), false),
    ];
    for (code, subcode, dead) in cases {
        fake.fail_next(Route::CreateContainer, Fault::Status(400, oauth(code, subcode)));
        let err = client.create_container(&user, &ContainerRequest::text("x")).await.unwrap_err();
        assert_eq!(err.is_fatal(), dead, "code {code} subcode {subcode:?}: {err:?}");
        if dead {
            assert!(matches!(err, ThreadsError::TokenInvalid { code: c, .. } if c == code), "{err:?}");
        } else {
            assert!(matches!(err, ThreadsError::Rejected { code: c, .. } if c == code), "{err:?}");
            assert!(!err.to_string().contains("crier auth refresh"), "{err}");
        }
    }
    // Not retried: each refusal cost one request.
    assert_eq!(fake.requests().iter().filter(|(_, p)| p.ends_with("/threads")).count(), cases.len());
}

#[tokio::test]
async fn link_preview_failure_is_classified() {
    let (fake, client) = setup(FakeConfig::default()).await;
    fake.fail_next(Route::CreateContainer, Fault::GraphError { code: 100, subcode: Some(4_279_047), transient: false });
    let err =
        client.create_container(&fake.user_id(), &ContainerRequest::text("see https://example.com")).await.unwrap_err();
    assert!(matches!(err, ThreadsError::LinkPreview { .. }), "{err:?}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn container_error_is_explained() {
    let (fake, client) = setup(FakeConfig::default()).await;
    let user = fake.user_id();
    fake.fail_next_container("INVALID_ASPEC_RATIO");
    let c = client.create_container(&user, &ContainerRequest::image("https://example.com/wide.jpg")).await.unwrap();
    let err = client.wait_until_finished(&c, MAX_WAIT, POLL).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("the media's aspect ratio is outside what Threads accepts"), "{text}");
    assert!(text.contains("INVALID_ASPEC_RATIO"), "{text}");
    assert!(matches!(
        &err,
        ThreadsError::ContainerFailed { status: Status::Error, error_message: Some(m), .. } if m == "INVALID_ASPEC_RATIO"
    ));
    let err = client.publish(&user, &c).await.unwrap_err();
    assert!(matches!(err, ThreadsError::Rejected { .. }), "{err:?}");
}

#[tokio::test]
async fn html_page_and_truncated_json_give_clear_errors() {
    let (fake, client) = setup(FakeConfig::default()).await;
    let user = fake.user_id();
    let no_retry = client_for(&fake, HttpOptions { max_total_wait: Duration::ZERO, ..fast() });
    fake.fail_next(Route::Me, Fault::HtmlPage);
    let err = no_retry.me().await.unwrap_err();
    assert!(matches!(err, ThreadsError::Transient { status: Some(502), .. }), "{err:?}");
    assert!(err.to_string().contains("HTML page titled \"502 Bad Gateway\""), "{err}");

    fake.fail_next(Route::Me, Fault::TruncatedJson);
    let err = no_retry.me().await.unwrap_err();
    assert!(err.to_string().contains("truncated JSON"), "{err}");

    // On publish, an HTML gateway page leaves the outcome unknown...
    let c = client.create_container(&user, &ContainerRequest::text("gateway trouble")).await.unwrap();
    fake.fail_next(Route::Publish, Fault::HtmlPage);
    let err = client.publish(&user, &c).await.unwrap_err();
    assert!(matches!(err, ThreadsError::Ambiguous { operation: "publish", .. }), "{err:?}");
    // ...and reconciliation finds it did not happen, so publishing again is safe.
    let r = client.reconcile_publish(&user, &c, Some("gateway trouble"), false, 2).await.unwrap();
    assert_eq!(r, Reconciled::NotPublished(Status::Finished));
    client.publish(&user, &c).await.unwrap();

    // A truncated success reply on publish: it happened, the id is unknown.
    let c = client.create_container(&user, &ContainerRequest::text("half a reply")).await.unwrap();
    fake.fail_next(Route::Publish, Fault::TruncatedJson);
    let err = client.publish(&user, &c).await.unwrap_err();
    assert!(matches!(err, ThreadsError::Ambiguous { .. }), "{err:?}");
    assert!(err.to_string().contains("truncated JSON"), "{err}");
    assert_eq!(fake.published_posts().len(), 2);
}

#[tokio::test]
async fn lost_publish_reply_is_ambiguous_and_posted_once() {
    let (fake, _) = setup(FakeConfig::default()).await;
    let client = client_for(&fake, HttpOptions { request_timeout: Duration::from_millis(300), ..fast() });
    let user = fake.user_id();
    let c = client.create_container(&user, &ContainerRequest::text("did it go out?")).await.unwrap();
    fake.fail_next(Route::Publish, Fault::DropAfterAction);
    let calls_before = fake.calls();
    let err = client.publish(&user, &c).await.unwrap_err();
    assert!(matches!(err, ThreadsError::Ambiguous { operation: "publish", .. }), "{err:?}");
    assert!(!err.is_retryable());
    assert_eq!(fake.calls() - calls_before, 1, "no blind retry");
    let posts = fake.published_posts();
    assert_eq!(posts.len(), 1);

    let r = client.reconcile_publish(&user, &c, Some("did it go out?"), false, 2).await.unwrap();
    match r {
        Reconciled::Published(m) => assert_eq!(m.id, posts[0].id),
        other => panic!("expected Published, got {other:?}"),
    }
    assert_eq!(fake.published_posts().len(), 1);
}

#[tokio::test]
async fn token_never_appears_in_errors() {
    let (fake, client) = setup(FakeConfig::default()).await;
    let token = fake.token();
    let user = fake.user_id();
    let mut errors: Vec<ThreadsError> = Vec::new();

    // The server echoes the token in its message.
    let body = format!(
        r#"{{"error":{{"message":"bad token {token} in access_token={token}","type":"THApiException","code":100}}}}"#
    );
    fake.fail_next(Route::Me, Fault::Status(400, body));
    errors.push(client.me().await.unwrap_err());
    fake.fail_next(Route::Me, Fault::Status(503, format!("<html>{token}</html>")));
    fake.fail_next(Route::Me, Fault::Status(503, format!("<html>{token}</html>")));
    let no_retry = client_for(&fake, HttpOptions { max_total_wait: Duration::ZERO, ..fast() });
    errors.push(no_retry.me().await.unwrap_err());
    errors.push(no_retry.me().await.unwrap_err());
    // Timeout on a read and a lost publish.
    fake.fail_next(Route::Me, Fault::Delay(Duration::from_secs(5)));
    let slow = client_for(
        &fake,
        HttpOptions { max_total_wait: Duration::ZERO, request_timeout: Duration::from_millis(200), ..fast() },
    );
    errors.push(slow.me().await.unwrap_err());
    let c = client.create_container(&user, &ContainerRequest::text("x")).await.unwrap();
    fake.fail_next(Route::Publish, Fault::DropAfterAction);
    errors.push(slow.publish(&user, &c).await.unwrap_err());
    // Connection refused.
    let nowhere = ThreadsClient::new(
        "http://127.0.0.1:9",
        SecretString::from(token.clone()),
        HttpOptions { max_total_wait: Duration::ZERO, ..fast() },
    );
    errors.push(nowhere.me().await.unwrap_err());
    // Expired token.
    fake.expire_token();
    errors.push(client.me().await.unwrap_err());

    assert!(matches!(errors[0], ThreadsError::Rejected { .. }));
    assert!(errors[0].to_string().contains("[REDACTED]"));
    assert!(matches!(errors[3], ThreadsError::Transient { .. }));
    assert!(matches!(errors[4], ThreadsError::Ambiguous { .. }));
    assert!(matches!(errors[5], ThreadsError::Transient { status: None, .. }));
    for e in &errors {
        let shown = format!("{e} / {e:?}");
        assert!(!shown.contains(&token), "token leaked: {shown}");
    }
    let dbg = format!("{client:?}");
    assert!(!dbg.contains(&token), "{dbg}");
    for (_, path) in fake.requests() {
        assert!(!path.contains(&token));
    }
}

#[tokio::test]
async fn listing_pages_through_posts() {
    let (fake, client) = setup(FakeConfig::default()).await;
    let user = fake.user_id();
    for i in 0..30 {
        let c = client.create_container(&user, &ContainerRequest::text(format!("post {i}"))).await.unwrap();
        client.publish(&user, &c).await.unwrap();
    }
    let first = client.list_threads(&user, 25, None).await.unwrap();
    assert_eq!(first.data.len(), 25);
    assert_eq!(first.data[0].text.as_deref(), Some("post 29"), "newest first");
    let second = client.list_threads(&user, 25, first.after.as_deref()).await.unwrap();
    assert_eq!(second.data.len(), 5);
    assert_eq!(second.data[4].text.as_deref(), Some("post 0"));
    assert_eq!(second.after, None);

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = client.list_threads(&user, 10, after.as_deref()).await.unwrap();
        seen.extend(page.data.into_iter().map(|m| m.id));
        match page.after {
            Some(a) => after = Some(a),
            None => break,
        }
    }
    assert_eq!(seen.len(), 30);
    let unique: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), 30);
}

#[tokio::test]
async fn permalink_falls_back_to_shortcode() {
    let cfg = FakeConfig { omit_permalink: true, ..FakeConfig::default() };
    let (fake, client) = setup(cfg).await;
    let user = fake.user_id();
    let m = post(&client, &user, &ContainerRequest::text("copyrighted?")).await;
    let media = client.media(&m).await.unwrap();
    assert_eq!(media.permalink, None);
    let url = client.permalink(&m, "fallback_name").await.unwrap();
    let post = &fake.published_posts()[0];
    assert_eq!(url, format!("https://www.threads.com/@crier_tester/post/{}", post.shortcode));
    assert_eq!(url, post.permalink);
}

#[tokio::test]
async fn fake_validates_like_threads() {
    let cfg = FakeConfig { publish_limit: 2, ..FakeConfig::default() };
    let (fake, client) = setup(cfg).await;
    let user = fake.user_id();
    let rejected = |r: Result<ContainerId, ThreadsError>| match r {
        Err(ThreadsError::Rejected { code, message, .. }) => (code, message),
        other => panic!("expected Rejected, got {other:?}"),
    };

    // 500 UTF-8 bytes pass, 501 fail; curly quotes count 3 bytes each.
    assert!(client.create_container(&user, &ContainerRequest::text("a".repeat(500))).await.is_ok());
    let (code, msg) =
        rejected(client.create_container(&user, &ContainerRequest::text(format!("{}’", "a".repeat(498)))).await);
    assert_eq!(code, 100);
    assert!(msg.starts_with("Param text must be at most 500 characters long"), "{msg}");

    let links: String = (1..=6).map(|i| format!("https://example.com/{i} ")).collect();
    let (_, msg) = rejected(client.create_container(&user, &ContainerRequest::text(links)).await);
    assert!(msg.contains("THREADS_API__LINK_LIMIT_EXCEEDED"), "{msg}");
    let dup = "https://example.com/a ".repeat(6);
    assert!(client.create_container(&user, &ContainerRequest::text(dup)).await.is_ok());
    // A `www.` host without a scheme is a link too (threads-api.md §3 counts www.facebook.com).
    let five: String = (1..=5).map(|i| format!("https://example.com/{i} ")).collect();
    let (_, msg) =
        rejected(client.create_container(&user, &ContainerRequest::text(format!("{five}(www.facebook.com)"))).await);
    assert!(msg.contains("THREADS_API__LINK_LIMIT_EXCEEDED"), "{msg}");
    let not_links = format!("{five} www. and www.x and e-mail@www.example.com");
    assert!(client.create_container(&user, &ContainerRequest::text(not_links)).await.is_ok());

    let mut req = ContainerRequest::text("poll?");
    req.poll_attachment = Some(Poll { option_a: "yes".into(), option_b: "no".into(), ..Poll::default() });
    assert!(client.create_container(&user, &req).await.is_ok());
    req.poll_attachment = Some(Poll { option_a: "x".repeat(26), option_b: "no".into(), ..Poll::default() });
    rejected(client.create_container(&user, &req).await);

    let mut req = ContainerRequest::text("tagged");
    req.topic_tag = Some("rust.lang".into());
    rejected(client.create_container(&user, &req).await);
    let mut req = ContainerRequest::image("https://example.com/x.jpg");
    req.link_attachment = Some("https://example.com".into());
    rejected(client.create_container(&user, &req).await);
    let mut req = ContainerRequest::text("alt on text");
    req.alt_text = Some("nope".into());
    rejected(client.create_container(&user, &req).await);

    // Quota: the third post in 24 h is refused, and the counter is live.
    post(&client, &user, &ContainerRequest::text("one")).await;
    post(&client, &user, &ContainerRequest::text("two")).await;
    let q = client.publishing_limit(&user).await.unwrap();
    assert_eq!((q.used, q.total), (2, 2));
    let c = client.create_container(&user, &ContainerRequest::text("three")).await.unwrap();
    let err = client.publish(&user, &c).await.unwrap_err();
    assert!(matches!(err, ThreadsError::Rejected { .. }), "{err:?}");
    fake.advance_clock(Duration::from_secs(25 * 3600));
    assert_eq!(client.publishing_limit(&user).await.unwrap().used, 0);

    // Containers expire after 24 h unpublished.
    let err = client.wait_until_finished(&c, MAX_WAIT, POLL).await.unwrap_err();
    assert!(matches!(err, ThreadsError::ContainerFailed { status: Status::Expired, .. }), "{err:?}");
}

#[tokio::test]
async fn plain_text_post_costs_at_most_four_calls() {
    let cfg = FakeConfig { latency: Duration::from_millis(5), ..FakeConfig::default() };
    let (fake, client) = setup(cfg).await;
    let user = fake.user_id();
    let before = fake.calls();
    let c = client.create_container(&user, &ContainerRequest::text("cheap")).await.unwrap();
    let m = client.publish(&user, &c).await.unwrap();
    client.permalink(&m, "x").await.unwrap();
    assert_eq!(fake.calls() - before, 3);
    assert_eq!(client.calls(), 3);
}

#[tokio::test]
async fn timed_out_create_is_retried_because_containers_are_harmless() {
    let (fake, _) = setup(FakeConfig::default()).await;
    let client = client_for(&fake, HttpOptions { request_timeout: Duration::from_millis(200), ..fast() });
    let user = fake.user_id();
    fake.fail_next(Route::CreateContainer, Fault::DropAfterAction);
    let c = client
        .create_container(&user, &ContainerRequest::text("retry me"))
        .await
        .expect("a lost create is simply repeated");
    assert_eq!(fake.containers_created(), 2, "the first one is orphaned");
    client.publish(&user, &c).await.unwrap();
    assert_eq!(fake.published_posts().len(), 1);

    // The flat OAuth error shape (token endpoints) is understood too.
    assert_eq!(client.me().await.unwrap().id, user);
    let flat = r#"{"error_type":"OAuthException","code":400,"error_message":"Matching code was not found or was already used"}"#;
    fake.fail_next(Route::Me, Fault::Status(400, flat.into()));
    let err = client.me().await.unwrap_err();
    assert!(err.to_string().contains("Matching code was not found"), "{err}");
}

#[tokio::test]
async fn text_attachment_spoilers_and_ghost_posts() {
    use crier::platforms::threads::api::{Spoiler, TextAttachment};
    let (fake, client) = setup(FakeConfig::default()).await;
    let user = fake.user_id();
    let rejected = |r: Result<ContainerId, ThreadsError>| match r {
        Err(ThreadsError::Rejected { code, message, .. }) => (code, message),
        other => panic!("expected Rejected, got {other:?}"),
    };

    // A long text behind a short one, with its link; spoilers in UTF-16 units ("é" is 1, "🎉" 2).
    let essay = format!("{} https://example.com/essay", "word ".repeat(1900));
    let mut req = ContainerRequest::text("🎉 The end: he lives. Read on");
    req.text_attachment = Some(TextAttachment {
        plaintext: essay.clone(),
        link_attachment_url: Some("https://example.com/essay".into()),
    });
    req.text_entities = vec![Spoiler { offset: 12, length: 8 }];
    let id = post(&client, &user, &req).await;
    let sent = fake.published_posts().into_iter().find(|p| p.id == id.0).expect("published");
    let attachment: serde_json::Value = serde_json::from_str(sent.param("text_attachment").unwrap()).unwrap();
    assert_eq!(attachment["plaintext"], essay.as_str());
    assert_eq!(attachment["link_attachment_url"], "https://example.com/essay");
    let entities: serde_json::Value = serde_json::from_str(sent.param("text_entities").unwrap()).unwrap();
    assert_eq!(entities, serde_json::json!([{"entity_type": "SPOILER", "offset": 12, "length": 8}]));
    assert!(!sent.ghost && !sent.spoiler_media);
    // A ghost post carries text and text spoilers only.
    let mut ghost = ContainerRequest::text("Gone tomorrow: he lives");
    ghost.text_entities = vec![Spoiler { offset: 15, length: 8 }];
    ghost.is_ghost_post = true;
    let id = post(&client, &user, &ghost).await;
    assert!(fake.published_posts().into_iter().any(|p| p.id == id.0 && p.ghost));
    req.is_ghost_post = true;
    let (_, msg) = rejected(client.create_container(&user, &req).await);
    assert!(msg.contains("text_attachment") && msg.contains("ghost"), "{msg}");
    ghost.topic_tag = Some("rust".into());
    assert!(rejected(client.create_container(&user, &ghost).await).1.contains("topic_tag"));

    // Media marked as spoilers.
    let mut req = ContainerRequest::image("https://example.com/x.jpg");
    req.is_spoiler_media = true;
    let id = post(&client, &user, &req).await;
    assert!(fake.published_posts().into_iter().any(|p| p.id == id.0 && p.spoiler_media));

    // What the fake refuses, as Threads does.
    let attach = |text: &str| TextAttachment { plaintext: text.into(), link_attachment_url: None };
    let mut too_long = ContainerRequest::text("short");
    too_long.text_attachment = Some(attach(&"é".repeat(10_001)));
    assert!(rejected(client.create_container(&user, &too_long).await).1.contains("text_attachment"));
    too_long.text_attachment = Some(attach(&"é".repeat(10_000)));
    assert!(client.create_container(&user, &too_long).await.is_ok(), "10,000 characters pass");
    let mut with_poll = ContainerRequest::text("poll");
    with_poll.text_attachment = Some(attach("long"));
    with_poll.poll_attachment = Some(Poll { option_a: "a".into(), option_b: "b".into(), ..Poll::default() });
    rejected(client.create_container(&user, &with_poll).await);
    let mut with_link = ContainerRequest::text("link");
    with_link.text_attachment = Some(attach("long"));
    with_link.link_attachment = Some("https://example.com".into());
    rejected(client.create_container(&user, &with_link).await);
    let mut on_image = ContainerRequest::image("https://example.com/x.jpg");
    on_image.text_attachment = Some(attach("long"));
    rejected(client.create_container(&user, &on_image).await);
    // The attachment's link counts toward the 5 links of a post.
    let mut six = ContainerRequest::text((1..=5).map(|i| format!("https://example.com/{i} ")).collect::<String>());
    six.text_attachment =
        Some(TextAttachment { plaintext: "long".into(), link_attachment_url: Some("https://example.com/6".into()) });
    assert!(rejected(client.create_container(&user, &six).await).1.contains("THREADS_API__LINK_LIMIT_EXCEEDED"));

    let mut eleven = ContainerRequest::text("a".repeat(30));
    eleven.text_entities = (0..11).map(|i| Spoiler { offset: i * 2, length: 1 }).collect();
    rejected(client.create_container(&user, &eleven).await);
    eleven.text_entities.pop();
    assert!(client.create_container(&user, &eleven).await.is_ok(), "10 spoilers pass");
    let mut outside = ContainerRequest::text("🎉ab");
    outside.text_entities = vec![Spoiler { offset: 2, length: 3 }];
    rejected(client.create_container(&user, &outside).await);
    outside.text_entities = vec![Spoiler { offset: 2, length: 2 }];
    assert!(client.create_container(&user, &outside).await.is_ok(), "the emoji is 2 units");

    let mut spoiler_text = ContainerRequest::text("text");
    spoiler_text.is_spoiler_media = true;
    rejected(client.create_container(&user, &spoiler_text).await);
    let root = post(&client, &user, &ContainerRequest::text("root")).await;
    let mut ghost_reply = ContainerRequest::text("reply").reply_to(&root);
    ghost_reply.is_ghost_post = true;
    let (code, msg) = rejected(client.create_container(&user, &ghost_reply).await);
    assert_eq!(code, 100);
    assert!(msg.contains("ghost"), "{msg}");
    let mut ghost_image = ContainerRequest::image("https://example.com/x.jpg");
    ghost_image.is_ghost_post = true;
    rejected(client.create_container(&user, &ghost_image).await);
}

// ---------------------------------------------------------------- delete and look-up

#[tokio::test]
async fn the_delete_quota_is_read_live_and_deletes_count_in_its_window() {
    let (fake, client) = setup(FakeConfig { delete_limit: 5, ..FakeConfig::default() }).await;
    let user = fake.user_id();
    let m = post(&client, &user, &ContainerRequest::text("to be deleted")).await;
    let q = client.delete_quota(&user).await.unwrap();
    assert_eq!((q.used, q.total, q.duration_secs), (0, 5, 86_400));
    client.delete_media(&m).await.unwrap();
    assert_eq!(client.delete_quota(&user).await.unwrap().used, 1);
    assert!(fake.published_posts()[0].deleted);
    fake.advance_clock(Duration::from_secs(24 * 60 * 60 + 1));
    assert_eq!(client.delete_quota(&user).await.unwrap().used, 0, "the window moved on");
}

#[tokio::test]
async fn a_gone_post_is_not_found_in_both_shapes_and_is_not_retried() {
    for media_not_found in [false, true] {
        let (fake, client) =
            setup(FakeConfig { gone_as_media_not_found: media_not_found, ..FakeConfig::default() }).await;
        let user = fake.user_id();
        let m = post(&client, &user, &ContainerRequest::text("deleted in the app")).await;
        fake.delete_in_app(&m.0);
        let before = client.calls();
        let err = client.delete_media(&m).await.unwrap_err();
        assert!(err.is_not_found(), "{err:?}");
        let err = client.look_up(&m, false).await.unwrap_err();
        assert!(err.is_not_found(), "{err:?}");
        assert_eq!(client.calls() - before, 2, "a gone post is an answer, not a reason to retry");
    }
}

#[tokio::test]
async fn look_up_reads_text_owner_and_username() {
    let (fake, client) = setup(FakeConfig::default()).await;
    let user = fake.user_id();
    let root = post(&client, &user, &ContainerRequest::text("root text")).await;
    let reply = post(&client, &user, &ContainerRequest::text("reply text").reply_to(&root)).await;
    let found = client.look_up(&root, false).await.unwrap();
    assert_eq!(found.text.as_deref(), Some("root text"));
    assert_eq!(found.owner_id.as_deref(), Some(user.as_str()));
    assert_eq!(found.username.as_deref(), Some("crier_tester"));
    let found = client.look_up(&reply, false).await.unwrap();
    assert_eq!(found.owner_id, None, "Threads gives owner only for top-level posts");
    assert_eq!(found.username.as_deref(), Some("crier_tester"));
    let theirs = fake.seed_foreign_post("17841400000000999", "someone_else", "their text");
    let found = client.look_up(&MediaId(theirs.clone()), false).await.unwrap();
    assert_eq!(found.username.as_deref(), Some("someone_else"));
    let err = client.delete_media(&MediaId(theirs)).await.unwrap_err();
    assert!(err.is_not_found(), "another account's post cannot be deleted: {err:?}");
}

#[tokio::test]
async fn deleting_without_the_permission_is_a_permission_error() {
    let (fake, client) = setup(FakeConfig::default()).await;
    let user = fake.user_id();
    let m = post(&client, &user, &ContainerRequest::text("kept")).await;
    fake.set_scope("threads_delete", false);
    let err = client.delete_media(&m).await.unwrap_err();
    assert!(err.is_permission() && !err.is_fatal(), "{err:?}");
    assert!(!fake.published_posts()[0].deleted);
}

#[tokio::test]
async fn a_lost_delete_reply_is_ambiguous() {
    let (fake, client) = setup(FakeConfig { drop_hang: Duration::from_secs(5), ..FakeConfig::default() }).await;
    let user = fake.user_id();
    let m = post(&client, &user, &ContainerRequest::text("reply lost")).await;
    fake.fail_next(Route::Delete, Fault::DropAfterAction);
    let err = client.delete_media(&m).await.unwrap_err();
    assert!(matches!(err, ThreadsError::Ambiguous { operation: "delete", .. }), "{err:?}");
    assert!(fake.published_posts()[0].deleted, "the delete was done before the reply was lost");
}
