//! The Telegram Bot API client against the fake: each call, each error class, a lost reply,
//! and the token (part of every URL) never in an error.

#[path = "support/common.rs"]
mod common;
#[path = "support/fake_telegram.rs"]
mod fake_telegram;

use std::time::Duration;

use crier::platforms::http::{HttpOptions, quiet};
use crier::platforms::telegram::api::{Media, SendOptions, TelegramClient, TelegramError};
use crier::platforms::telegram::format;
use fake_telegram::{FakeConfig, FakeTelegram, Fault, Route};
use secrecy::SecretString;

struct World {
    fake: FakeTelegram,
    rt: tokio::runtime::Runtime,
}

impl World {
    fn new() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
        let fake =
            rt.block_on(FakeTelegram::start(FakeConfig { drop_hang: Duration::from_secs(3), ..FakeConfig::default() }));
        Self { fake, rt }
    }

    fn client(&self, token: &str) -> TelegramClient {
        let opts = HttpOptions {
            request_timeout: Duration::from_secs(1),
            max_total_wait: Duration::from_secs(3),
            initial_delay: Duration::from_millis(10),
            ..HttpOptions::default()
        };
        TelegramClient::new(&self.fake.base_url(), SecretString::from(token.to_owned()), opts)
    }
}

fn text(md: &str) -> format::Formatted {
    format::from_markdown(md, None)
}

#[test]
fn sends_edits_and_deletes() {
    let w = World::new();
    let c = w.client(&w.fake.token());
    let opts = SendOptions { silent: false, link_preview: true };
    w.rt.block_on(async {
        let chat = c.get_chat("@crier_news", &quiet).await.expect("getChat");
        assert_eq!(chat.username.as_deref(), Some("crier_news"));
        let m = c.send_message("@crier_news", &text("**Hi** 😀"), opts, &quiet).await.expect("send");
        assert_eq!(m.message_id, 42);
        let id = m.message_id.to_string();
        // The same text again is "not modified": success.
        c.edit_text("@crier_news", &id, &text("**Hi** 😀"), opts, &quiet).await.expect("same text");
        c.edit_text("@crier_news", &id, &text("*Hello*"), opts, &quiet).await.expect("edit");
        assert_eq!(w.fake.messages()[0].text.as_deref(), Some("Hello"));
        let png = std::sync::Arc::new(vec![0x89, b'P', b'N', b'G']);
        let media = [
            Media::File { name: "a.png".into(), mime: "image/png".into(), bytes: png.clone(), video: false },
            Media::Url { url: "https://cdn.example/b.jpg".into(), video: false },
        ];
        let album = c.send_media("@crier_news", &media, Some(&text("Two")), opts, &quiet).await.expect("album");
        assert_eq!(album.iter().map(|m| m.message_id).collect::<Vec<_>>(), [43, 44]);
        assert!(c.delete_message("@crier_news", &id, &quiet).await.expect("delete"));
        assert!(
            !c.delete_message("@crier_news", &id, &quiet).await.expect("gone already"),
            "already gone is not an error"
        );
    });
}

#[test]
fn photos_past_telegrams_dimensions_are_refused_alone_and_in_albums() {
    // sendPhoto: width + height at most 10,000, sides at most 20:1 (reference §9.2).
    let w = World::new();
    let c = w.client(&w.fake.token());
    let opts = SendOptions::default();
    let photo = |name: &str, width, height| Media::File {
        name: name.into(),
        mime: "image/png".into(),
        bytes: std::sync::Arc::new(common::png(width, height)),
        video: false,
    };
    w.rt.block_on(async {
        c.send_media("@crier_news", &[photo("fine.png", 5000, 5000)], None, opts, &quiet).await.expect("5000×5000");
        for (width, height) in [(6000, 4001), (2001, 100)] {
            let e = c
                .send_media("@crier_news", &[photo("a.png", width, height)], None, opts, &quiet)
                .await
                .expect_err("refused alone");
            assert!(e.says("PHOTO_INVALID_DIMENSIONS"), "{width}×{height}: {e}");
            let album = [photo("a.png", 100, 100), photo("b.png", width, height)];
            let e = c.send_media("@crier_news", &album, None, opts, &quiet).await.expect_err("refused in an album");
            assert!(e.says("PHOTO_INVALID_DIMENSIONS"), "{width}×{height}: {e}");
        }
    });
    assert_eq!(w.fake.messages().len(), 1, "only the photo within the limits was sent");
}

#[test]
fn errors_are_sorted_and_the_token_never_shows() {
    let w = World::new();
    let token = w.fake.token();
    let opts = SendOptions::default();
    w.rt.block_on(async {
        // A wrong token.
        let wrong = w.client("999:WRONGtokenSECRET");
        let e = wrong.get_chat("@crier_news", &quiet).await.expect_err("401");
        assert!(e.is_fatal(), "{e}");
        assert!(!e.to_string().contains("WRONGtoken"));
        let c = w.client(&token);
        // 429 with parameters.retry_after is waited out, then the send goes through once.
        w.fake.fail_next(Route::SendMessage, Fault::TooManyRequests { retry_after: 1 });
        c.send_message("@crier_news", &text("a"), opts, &quiet).await.expect("after the wait");
        // A lost reply is ambiguous, never sent again.
        w.fake.fail_next(Route::SendMessage, Fault::DropAfterAction);
        let e = c.send_message("@crier_news", &text("b"), opts, &quiet).await.expect_err("lost");
        assert!(e.is_ambiguous(), "{e}");
        assert!(!e.to_string().contains(&token), "the URL in a transport error is redacted: {e}");
        assert_eq!(w.fake.count("sendMessage"), 3, "429, then a, then b once");
        // 403: the fix is named.
        w.fake.fail_next(
            Route::SendMessage,
            Fault::Status(
                403,
                r#"{"ok":false,"error_code":403,"description":"Forbidden: bot is not a member of the channel chat"}"#
                    .into(),
            ),
        );
        let e = c.send_message("@crier_news", &text("c"), opts, &quiet).await.expect_err("403");
        assert!(
            matches!(e, TelegramError::Rejected { status: 403, .. }) && e.to_string().contains("administrator"),
            "{e}"
        );
        // Another chat.
        let e = c.get_chat("@someone_else", &quiet).await.expect_err("400");
        assert!(e.says("chat not found"), "{e}");
    });
    assert_eq!(w.fake.messages().len(), 2);
}
