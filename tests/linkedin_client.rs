//! The LinkedIn client against the fake LinkedIn (tests/support/fake_linkedin.rs).

#[path = "support/common.rs"]
mod common;
#[path = "support/fake_linkedin.rs"]
mod fake_linkedin;

use std::time::Duration;

use crier::platforms::linkedin::api::{ClientOptions, LinkedinClient, LinkedinError};
use crier::platforms::linkedin::little;
use crier::platforms::linkedin::options::DEFAULT_VERSION;
use fake_linkedin::{FakeConfig, FakeLinkedin, Fault, Route};
use secrecy::SecretString;
use serde_json::{Value, json};

fn fast() -> ClientOptions {
    ClientOptions { default_retry_after: Duration::from_millis(200), ..common::fast_http() }
}

async fn start() -> FakeLinkedin {
    // Dropped replies hang longer than the client's 1 s timeout.
    FakeLinkedin::start(FakeConfig { drop_hang: Duration::from_secs(3), ..FakeConfig::default() }).await
}

fn client_with(fake: &FakeLinkedin, token: &str, version: &str) -> LinkedinClient {
    LinkedinClient::new(&fake.origin(), &SecretString::from(token.to_owned()), version, fast())
}

fn client(fake: &FakeLinkedin) -> LinkedinClient {
    client_with(fake, &fake.token(), DEFAULT_VERSION)
}

fn quiet(_: Duration) {}

fn body(fake: &FakeLinkedin, commentary: &str, content: Option<Value>) -> Value {
    let mut b = json!({
        "author": format!("urn:li:person:{}", fake.sub()),
        "commentary": commentary,
        "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": false,
    });
    if let Some(c) = content {
        b["content"] = c;
    }
    b
}

#[tokio::test]
async fn userinfo_names_the_member_and_a_refused_token_says_how_to_renew() {
    let fake = start().await;
    let info = client(&fake).userinfo(&quiet).await.expect("userinfo");
    assert_eq!(info["sub"], fake.sub());

    let bad = "AQVwrongTokenSECRET0000";
    let e = client_with(&fake, bad, DEFAULT_VERSION).userinfo(&quiet).await.expect_err("refused");
    assert!(matches!(e, LinkedinError::Unauthorized { .. }), "{e:?}");
    assert!(e.is_fatal());
    let text = e.to_string();
    assert!(text.contains("INVALID_ACCESS_TOKEN") && text.contains("crier auth linkedin"), "{text}");
    assert!(!text.contains(bad));
}

#[tokio::test]
async fn an_expired_token_stops_linkedin_with_the_renew_hint() {
    let fake = start().await;
    fake.fail_next(Route::CreatePost, Fault::ExpireToken);
    let e = client(&fake).create_post(&body(&fake, "hi", None), &quiet).await.expect_err("expired");
    assert!(e.stops_linkedin(), "{e:?}");
    assert!(e.to_string().contains("EXPIRED_ACCESS_TOKEN"), "{e}");
    assert!(fake.posts().is_empty());
}

#[tokio::test]
async fn a_created_post_is_known_by_its_decoded_urn() {
    let fake = start().await;
    let urn = client(&fake).create_post(&body(&fake, "Hello", None), &quiet).await.expect("create");
    let posts = fake.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(urn, posts[0].urn, "x-restli-id is URL-decoded");
    assert!(urn.starts_with("urn:li:share:"));
}

#[tokio::test]
async fn a_sunset_version_is_a_configuration_error_naming_the_setting() {
    let fake = start().await;
    let e = client_with(&fake, &fake.token(), "202401")
        .create_post(&body(&fake, "Hello", None), &quiet)
        .await
        .expect_err("426");
    assert!(matches!(e, LinkedinError::Version { .. }), "{e:?}");
    assert!(e.stops_linkedin());
    let text = e.to_string();
    assert!(text.contains("202401") && text.contains("linkedin:") && text.contains("version"), "{text}");
    assert!(fake.posts().is_empty());
}

#[tokio::test]
async fn versions_a_year_old_are_sunset_and_the_default_is_served() {
    // The fake serves the 12 months before its clock (today), as LinkedIn does (§6.2).
    let fake = start().await;
    let old = client_with(&fake, &fake.token(), "202510").create_post(&body(&fake, "Old", None), &quiet).await;
    assert!(matches!(old, Err(LinkedinError::Version { .. })), "202510 was the default; sunset by now: {old:?}");
    let urn = client(&fake).create_post(&body(&fake, "Current", None), &quiet).await;
    assert!(urn.is_ok(), "the default version {DEFAULT_VERSION} is served: {urn:?}");
}

#[tokio::test]
async fn escaped_commentary_keeps_the_whole_text_and_an_unescaped_one_is_cut() {
    let fake = start().await;
    let c = client(&fake);
    let text = "Ship it (today) with #rust_lang & friends: a_b *c*";
    c.create_post(&body(&fake, &little::commentary(text), None), &quiet).await.expect("escaped");
    c.create_post(&body(&fake, text, None), &quiet).await.expect("raw");
    let posts = fake.posts();
    assert_eq!(posts[0].text, "Ship it (today) with #rust_lang & friends: a_b *c*");
    assert_eq!(posts[1].text, "Ship it ", "LinkedIn cuts an unescaped post at the first reserved character");
}

#[tokio::test]
async fn an_identical_post_within_the_window_is_refused_naming_the_first() {
    let fake = start().await;
    let c = client(&fake);
    let b = body(&fake, "Same words", None);
    let first = c.create_post(&b, &quiet).await.expect("first");
    match c.create_post(&b, &quiet).await {
        Err(LinkedinError::Duplicate { urn, .. }) => assert_eq!(urn.as_deref(), Some(first.as_str())),
        other => panic!("expected a duplicate refusal, got {other:?}"),
    }
    fake.advance(Duration::from_secs(11 * 60));
    let second = c.create_post(&b, &quiet).await.expect("after the window");
    assert_ne!(first, second);
    assert_eq!(fake.posts().len(), 2);
}

#[tokio::test]
async fn images_are_uploaded_then_attached_and_an_unuploaded_one_is_refused() {
    let fake = start().await;
    let c = client(&fake);
    let author = format!("urn:li:person:{}", fake.sub());
    let slot = c.initialize_upload(&author, &quiet).await.expect("init");
    // Not uploaded yet: LinkedIn refuses the post.
    let media = json!({"media": {"id": slot.image, "altText": "A dot"}});
    let e = c.create_post(&body(&fake, "Look", Some(media.clone())), &quiet).await.expect_err("waiting upload");
    assert_eq!(e.status(), Some(422), "{e:?}");
    c.upload_image(&slot, b"\x89PNG fake bytes", &quiet).await.expect("upload");
    c.create_post(&body(&fake, "Look", Some(media)), &quiet).await.expect("with the image");
    assert_eq!(fake.uploaded_images(), 1);
    let content = fake.posts()[0].content.clone().expect("content");
    assert_eq!(content["media"]["altText"], "A dot");
}

#[tokio::test]
async fn the_text_is_edited_in_place_and_a_delete_is_final() {
    let fake = start().await;
    let c = client(&fake);
    let urn = c.create_post(&body(&fake, "Old", None), &quiet).await.expect("create");
    c.update_commentary(&urn, &little::commentary("New (better)"), &quiet).await.expect("update");
    let p = &fake.posts()[0];
    assert_eq!((p.text.as_str(), p.edits), ("New (better)", 1));
    c.delete_post(&urn, &quiet).await.expect("delete");
    assert!(fake.live().is_empty());
    let again = c.delete_post(&urn, &quiet).await.expect_err("gone");
    assert_eq!(again.status(), Some(404));
}

#[tokio::test]
async fn a_rate_limit_is_waited_out_and_a_missing_scope_is_named() {
    let fake = start().await;
    let c = client(&fake);
    fake.fail_next(Route::CreatePost, Fault::RateLimited { retry_after_secs: Some(1) });
    c.create_post(&body(&fake, "Patience", None), &quiet).await.expect("after the wait");
    assert_eq!((fake.count("POST", "/rest/posts"), fake.posts().len()), (2, 1));

    let denied = r#"{"status":403,"serviceErrorCode":100,"code":"ACCESS_DENIED","message":"Not enough permissions to access: partnerApiPostsExternal.CREATE.20251001"}"#;
    fake.fail_next(Route::CreatePost, Fault::Status(403, denied.into()));
    let e = c.create_post(&body(&fake, "Denied", None), &quiet).await.expect_err("403");
    assert!(matches!(e, LinkedinError::Forbidden { scope: "w_member_social", .. }), "{e:?}");
    assert!(e.to_string().contains("w_member_social"));
}

#[tokio::test]
async fn a_lost_create_reply_is_ambiguous_not_retried() {
    let fake = start().await;
    fake.fail_next(Route::CreatePost, Fault::DropAfterAction);
    let e = client(&fake).create_post(&body(&fake, "Lost", None), &quiet).await.expect_err("lost");
    assert!(e.is_ambiguous(), "{e:?}");
    assert_eq!((fake.count("POST", "/rest/posts"), fake.posts().len()), (1, 1), "sent once, and it landed");
}
