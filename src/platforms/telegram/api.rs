//! Client for the Telegram Bot API (`https://api.telegram.org`, `POST /bot<token>/<method>`).
//!
//! Replies are `{"ok":true,"result":…}` or `{"ok":false,"error_code":N,"description":"…",
//! "parameters":{"retry_after":N}}`; a 429's `parameters.retry_after` is the wait the kit's
//! loop honours. The token is part of every URL: it is given to the loop as a secret, so it
//! is replaced with `[REDACTED]` in every message (transport errors name the URL), and the
//! client's `Debug` never shows it.
//!
//! Sends (`sendMessage`, `sendPhoto`, `sendVideo`, `sendMediaGroup`) are once-only: the Bot
//! API has no idempotency key and a bot cannot read a channel back, so a lost reply is
//! [`TelegramError::Ambiguous`] and is never sent again. Edits and deletes are repeatable.

use std::sync::Arc;

use reqwest::multipart::{Form, Part};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};

use super::format::Formatted;
pub use crate::platforms::http::OnWait;
use crate::platforms::http::{self, Classifier, Failure, HttpClient, HttpOptions, Request, Safety, Verdict};

pub const DEFAULT_BASE_URL: &str = "https://api.telegram.org";

pub type Result<T, E = TelegramError> = std::result::Result<T, E>;

http::rest_error! {
    pub enum TelegramError for "Telegram" {
        unauthorized: ("Telegram rejected the bot token ({message}); check TELEGRAM_BOT_TOKEN (from @BotFather)"),
        rejected: ("Telegram refused the request (HTTP {status}): {message}"),
        rate_limited: ("Telegram rate limit (HTTP 429): {message}; try again in {} s", .as_secs()),
    }
}

impl TelegramError {
    /// The server's description, for the errors Telegram words precisely.
    pub fn says(&self, words: &str) -> bool {
        matches!(self, Self::Rejected { message, .. } if message.contains(words))
    }
}

/// The chat a message went to, as a reply carries it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Chat {
    pub id: i64,
    #[serde(default, rename = "type")]
    pub kind: String,
    pub title: Option<String>,
    pub username: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Message {
    pub message_id: i64,
    pub chat: Chat,
}

#[derive(Debug, Clone, Deserialize)]
pub struct User {
    pub id: i64,
    pub username: Option<String>,
}

/// A medium to send: a file of the repository (uploaded as multipart) or a URL Telegram fetches.
#[derive(Debug, Clone)]
pub enum Media {
    File { name: String, mime: String, bytes: Arc<Vec<u8>>, video: bool },
    Url { url: String, video: bool },
}

impl Media {
    fn video(&self) -> bool {
        match self {
            Self::File { video, .. } | Self::Url { video, .. } => *video,
        }
    }

    /// The multipart part of a file to upload (`None` for a URL).
    fn upload(&self) -> Option<Part> {
        let Self::File { name, mime, bytes, .. } = self else { return None };
        let part = || Part::bytes(bytes.as_ref().clone()).file_name(name.clone());
        Some(part().mime_str(mime).unwrap_or_else(|_| part()))
    }
}

/// What every send carries.
#[derive(Debug, Clone, Copy, Default)]
pub struct SendOptions {
    /// `disable_notification`.
    pub silent: bool,
    /// `link_preview_options.is_disabled` when false.
    pub link_preview: bool,
}

struct Api;

impl Classifier for Api {
    type Detail = ();

    fn classify(&self, status: u16, body: &[u8], _: &'static str) -> Verdict<()> {
        let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let code = v.get("error_code").and_then(Value::as_u64).and_then(|c| u16::try_from(c).ok()).unwrap_or(status);
        let text = v.get("description").and_then(Value::as_str).map(str::to_owned);
        // A malformed token gets 404 from the Bot API: no method answers for it.
        let mut verdict = if code == 404 && text.as_deref().is_some_and(|t| t == "Not Found") {
            Verdict::new(http::Class::CredentialsInvalid)
        } else {
            Verdict::by_status(code)
        }
        .text(text);
        verdict.retry_after =
            v.pointer("/parameters/retry_after").and_then(Value::as_u64).map(std::time::Duration::from_secs);
        verdict
    }

    fn success(&self, _status: u16, body: &[u8]) -> Option<Value> {
        // `result` may be `true` (deleteMessage): the whole reply is what comes back.
        http::json_reply(body).filter(|v| v.get("ok") == Some(&Value::Bool(true)) && v.get("result").is_some())
    }
}

impl From<Failure<()>> for TelegramError {
    fn from(f: Failure<()>) -> Self {
        if f.class == http::Class::Rejected && f.status == Some(403) {
            let message = format!(
                "{}: make the bot an administrator of the channel with the right to post messages (Channel → Administrators → Add Admin)",
                f.text
            );
            return Self::Rejected { status: 403, message };
        }
        let unauthorized = f.text.clone();
        Self::from_failure(f, unauthorized, "Too Many Requests")
    }
}

/// The `result` of a reply.
fn decode<T: serde::de::DeserializeOwned>(reply: Value, what: &str) -> Result<T> {
    TelegramError::decode(reply.get("result").cloned().unwrap_or(Value::Null), what)
}

/// The Bot API client of one bot.
#[derive(Debug, Clone)]
pub struct TelegramClient {
    http: HttpClient,
    token: Arc<SecretString>,
}

/// A request body: JSON, or a multipart form built again for every attempt.
enum Body<'a> {
    Json(Value),
    Form(&'a (dyn Fn() -> Form + Sync)),
}

impl TelegramClient {
    pub fn new(base: &str, token: SecretString, opts: HttpOptions) -> Self {
        let base = http::base_url(base, DEFAULT_BASE_URL);
        let http = HttpClient::new(opts, base, [token.expose_secret()]);
        Self { http, token: Arc::new(token) }
    }

    pub fn calls(&self) -> u64 {
        self.http.calls()
    }

    async fn call(&self, method: &'static str, body: Body<'_>, safety: Safety, on_wait: OnWait<'_>) -> Result<Value> {
        let url = self.http.url(&[&format!("bot{}", self.token.expose_secret()), method]);
        let build = |c: &reqwest::Client| {
            let req = c.post(url.clone());
            match &body {
                Body::Json(v) => req.json(v),
                Body::Form(form) => req.multipart(form()),
            }
        };
        let request =
            Request { operation: method, safety, write: method != "getChat" && method != "getMe", build: &build };
        let (_, reply) = self.http.send(&Api, &request, on_wait).await?;
        Ok(reply)
    }

    pub async fn get_me(&self, on_wait: OnWait<'_>) -> Result<User> {
        decode(self.call("getMe", Body::Json(json!({})), Safety::Repeatable, on_wait).await?, "getMe")
    }

    pub async fn get_chat(&self, chat: &str, on_wait: OnWait<'_>) -> Result<Chat> {
        let reply = self.call("getChat", Body::Json(json!({"chat_id": chat})), Safety::Repeatable, on_wait).await?;
        decode(reply, "getChat")
    }

    pub async fn send_message(
        &self,
        chat: &str,
        text: &Formatted,
        opts: SendOptions,
        on_wait: OnWait<'_>,
    ) -> Result<Message> {
        let body = json!({
            "chat_id": chat,
            "text": text.text,
            "entities": text.entities_json(),
            "disable_notification": opts.silent,
            "link_preview_options": {"is_disabled": !opts.link_preview},
        });
        decode(self.call("sendMessage", Body::Json(body), Safety::OnceOnly, on_wait).await?, "sendMessage")
    }

    /// One medium with an optional caption (`sendPhoto`/`sendVideo`), or 2–10 as an album
    /// (`sendMediaGroup`, the caption on the first); the messages, in order.
    pub async fn send_media(
        &self,
        chat: &str,
        media: &[Media],
        caption: Option<&Formatted>,
        opts: SendOptions,
        on_wait: OnWait<'_>,
    ) -> Result<Vec<Message>> {
        let caption_fields = |v: &mut serde_json::Map<String, Value>| {
            if let Some(c) = caption {
                v.insert("caption".into(), json!(c.text));
                v.insert("caption_entities".into(), c.entities_json());
            }
        };
        // Media as the API names them: `attach://fileN` for an upload, else the URL.
        let media_field = |i: usize, m: &Media| match m {
            Media::File { .. } => format!("attach://file{i}"),
            Media::Url { url, .. } => url.clone(),
        };
        let files = move |mut form: Form| {
            for (i, m) in media.iter().enumerate() {
                if let Some(part) = m.upload() {
                    form = form.part(format!("file{i}"), part);
                }
            }
            form
        };
        let base =
            move || Form::new().text("chat_id", chat.to_owned()).text("disable_notification", opts.silent.to_string());
        if let [one] = media {
            // A single medium is the `photo`/`video` field itself: the file, or its URL.
            let (method, field) = if one.video() { ("sendVideo", "video") } else { ("sendPhoto", "photo") };
            let mut extra = serde_json::Map::new();
            caption_fields(&mut extra);
            let form = || {
                let mut form = base();
                for (k, v) in &extra {
                    form = form.text(k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned));
                }
                match (one.upload(), one) {
                    (Some(part), _) => form.part(field, part),
                    (None, Media::Url { url, .. }) => form.text(field, url.clone()),
                    (None, Media::File { .. }) => form,
                }
            };
            let reply = self.call(method, Body::Form(&form), Safety::OnceOnly, on_wait).await?;
            return decode(reply, method).map(|m| vec![m]);
        }
        let items: Vec<Value> = media
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let mut item = serde_json::Map::new();
                item.insert("type".into(), json!(if m.video() { "video" } else { "photo" }));
                item.insert("media".into(), json!(media_field(i, m)));
                if i == 0 {
                    caption_fields(&mut item);
                }
                Value::Object(item)
            })
            .collect();
        let items = Value::Array(items).to_string();
        let form = || files(base().text("media", items.clone()));
        decode(self.call("sendMediaGroup", Body::Form(&form), Safety::OnceOnly, on_wait).await?, "sendMediaGroup")
    }

    /// `editMessageText`; "message is not modified" (the same text again) is success.
    pub async fn edit_text(
        &self,
        chat: &str,
        id: &str,
        text: &Formatted,
        opts: SendOptions,
        on_wait: OnWait<'_>,
    ) -> Result<()> {
        let body = json!({
            "chat_id": chat,
            "message_id": id,
            "text": text.text,
            "entities": text.entities_json(),
            "link_preview_options": {"is_disabled": !opts.link_preview},
        });
        not_modified_is_fine(self.call("editMessageText", Body::Json(body), Safety::Repeatable, on_wait).await)
    }

    /// `editMessageMedia`: message `id` shows `medium` (uploaded again, or its URL) with
    /// `caption` (`None`: none). "message is not modified" is success.
    pub async fn edit_media(
        &self,
        chat: &str,
        id: &str,
        medium: &Media,
        caption: Option<&Formatted>,
        on_wait: OnWait<'_>,
    ) -> Result<()> {
        let mut item = serde_json::Map::new();
        item.insert("type".into(), json!(if medium.video() { "video" } else { "photo" }));
        item.insert(
            "media".into(),
            json!(match medium {
                Media::File { .. } => "attach://file0".to_owned(),
                Media::Url { url, .. } => url.clone(),
            }),
        );
        if let Some(c) = caption {
            item.insert("caption".into(), json!(c.text));
            item.insert("caption_entities".into(), c.entities_json());
        }
        let item = Value::Object(item).to_string();
        let form = || {
            let form = Form::new()
                .text("chat_id", chat.to_owned())
                .text("message_id", id.to_owned())
                .text("media", item.clone());
            match medium.upload() {
                Some(part) => form.part("file0", part),
                None => form,
            }
        };
        not_modified_is_fine(self.call("editMessageMedia", Body::Form(&form), Safety::Repeatable, on_wait).await)
    }

    /// `deleteMessage`: `Ok(false)` when the message is already gone.
    pub async fn delete_message(&self, chat: &str, id: &str, on_wait: OnWait<'_>) -> Result<bool> {
        let body = json!({"chat_id": chat, "message_id": id});
        match self.call("deleteMessage", Body::Json(body), Safety::Repeatable, on_wait).await {
            Ok(_) => Ok(true),
            Err(e) if e.says("message to delete not found") => Ok(false),
            Err(e) => Err(e),
        }
    }
}

fn not_modified_is_fine(r: Result<Value>) -> Result<()> {
    match r {
        Ok(_) => Ok(()),
        Err(e) if e.says("message is not modified") => Ok(()),
        Err(e) => Err(e),
    }
}

/// The link to a message: `https://t.me/<username>/<id>` in a public channel,
/// `https://t.me/c/<id without -100>/<id>` in a private one (members only).
pub fn message_url(chat: &Chat, message_id: i64) -> String {
    match chat.username.as_deref().filter(|u| !u.is_empty()) {
        Some(user) => format!("https://t.me/{user}/{message_id}"),
        None => {
            let id = chat.id.to_string();
            let internal = id.strip_prefix("-100").unwrap_or(id.trim_start_matches('-'));
            format!("https://t.me/c/{internal}/{message_id}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_urls_for_public_and_private_channels() {
        let chat = |id: i64, username: Option<&str>| Chat {
            id,
            kind: "channel".into(),
            title: None,
            username: username.map(str::to_owned),
        };
        let cases = [
            (chat(-1_001_234_567_890, Some("crier_news")), 42, "https://t.me/crier_news/42"),
            (chat(-1_001_234_567_890, None), 42, "https://t.me/c/1234567890/42"),
            (chat(-1_001_234_567_890, Some("")), 7, "https://t.me/c/1234567890/7"),
            (chat(-4_567, None), 3, "https://t.me/c/4567/3"),
        ];
        for (chat, id, want) in cases {
            assert_eq!(message_url(&chat, id), want);
        }
    }

    #[test]
    fn error_bodies_are_sorted_by_what_they_mean() {
        use http::Class;
        let cases: &[(u16, &str, Class, Option<u64>)] = &[
            (
                429,
                r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5","parameters":{"retry_after":5}}"#,
                Class::RateLimited,
                Some(5),
            ),
            (401, r#"{"ok":false,"error_code":401,"description":"Unauthorized"}"#, Class::CredentialsInvalid, None),
            (404, r#"{"ok":false,"error_code":404,"description":"Not Found"}"#, Class::CredentialsInvalid, None),
            (
                403,
                r#"{"ok":false,"error_code":403,"description":"Forbidden: bot is not a member of the channel chat"}"#,
                Class::Rejected,
                None,
            ),
            (
                400,
                r#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#,
                Class::Rejected,
                None,
            ),
            (502, "<html>Bad Gateway</html>", Class::Transient, None),
        ];
        for (status, body, class, wait) in cases {
            let v = Api.classify(*status, body.as_bytes(), "sendMessage");
            assert_eq!(v.class, *class, "{body}");
            assert_eq!(v.retry_after.map(|d| d.as_secs()), *wait, "{body}");
        }
        assert!(Api.success(200, br#"{"ok":true,"result":true}"#).is_some());
        assert!(Api.success(200, br#"{"ok":false}"#).is_none(), "a garbled reply is not success");
    }
}
