//! Client for a Discord channel webhook (`https://discord.com/api/webhooks/{id}/{token}`,
//! API v10; `shared/reference/platforms.md` §10).
//!
//! What a publisher needs: the webhook itself (`GET {webhook}`: its server and channel, for
//! message URLs), executing it (`POST {webhook}?wait=true`, so the message comes back;
//! JSON, or multipart with `files[n]` and `payload_json` when images go with it), and the
//! messages it sent (`GET`/`PATCH`/`DELETE {webhook}/messages/{id}`, with `thread_id` for a
//! message in a thread of a forum channel).
//!
//! Errors are `{"message": "…", "code": N}` (`retry_after` on a 429). They are sorted by
//! [`DiscordErrors`]: 401 and the codes of a dead webhook (10015 "Unknown Webhook", 50027
//! "Invalid Webhook Token") are the credentials; 429 waits for the body's `retry_after`
//! (else `X-RateLimit-Reset-After` / `Retry-After`) and tries again; 5xx, timeouts and
//! dropped connections are retried, except for the execute call: a webhook message has no
//! nonce and the webhook cannot list what it sent, so an execute whose reply was lost is
//! [`DiscordError::Ambiguous`] and is never sent again.
//!
//! The webhook URL is a secret (it is the credential): its token, and the whole URL, are
//! redacted wherever they could show, and the client's `Debug` shows neither.

use reqwest::{Method, multipart};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_with::skip_serializing_none;
use url::Url;

use crate::platforms::http::{self, Class, Classifier, Failure, HttpClient, Request, Safety, Verdict};
pub use crate::platforms::http::{HttpOptions as ClientOptions, OnWait};

pub type Result<T, E = DiscordError> = std::result::Result<T, E>;

/// `flags` bit of a message without link previews.
pub const SUPPRESS_EMBEDS: u64 = 1 << 2;

/// Discord's codes of a webhook that no longer works: "Unknown Webhook", "Invalid Webhook Token".
const DEAD_WEBHOOK: [u64; 2] = [10015, 50027];

/// What to do when the webhook is refused.
const FIX: &str = "the webhook was deleted or DISCORD_WEBHOOK_URL is wrong: copy the URL again from the channel's Settings → Integrations → Webhooks";

http::rest_error! {
    /// Failures of a Discord call, sorted by what the caller should do about them.
    pub enum DiscordError for "Discord" {
        unauthorized: ("Discord refused the webhook ({message}); {FIX}"),
        rejected: ("Discord rejected the request (HTTP {status}): {message}"),
        rate_limited: ("Discord rate limit reached (HTTP 429: {message}); try again in {} s", .as_secs().max(1)),
    }
}

impl From<Failure<()>> for DiscordError {
    fn from(f: Failure<()>) -> Self {
        let unauthorized = match (f.status, &f.server_text) {
            (Some(s), Some(t)) => format!("HTTP {s}: {t}"),
            _ => f.message(),
        };
        Self::from_failure(f, unauthorized, "You are being rate limited.")
    }
}

/// Discord's error bodies.
struct DiscordErrors;

impl Classifier for DiscordErrors {
    type Detail = ();

    fn classify(&self, status: u16, body: &[u8], _: &'static str) -> Verdict<()> {
        let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let code = v.get("code").and_then(Value::as_u64);
        let mut verdict = if code.is_some_and(|c| DEAD_WEBHOOK.contains(&c)) {
            Verdict::new(Class::CredentialsInvalid)
        } else {
            Verdict::by_status(status)
        };
        verdict.retry_after = v
            .get("retry_after")
            .and_then(Value::as_f64)
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(std::time::Duration::from_secs_f64);
        verdict.text(error_text(&v, code))
    }

    /// `DELETE` answers 204 with no body.
    fn success(&self, status: u16, body: &[u8]) -> Option<Value> {
        if status == 204 { Some(Value::Null) } else { http::json_reply(body) }
    }
}

/// `message` (code N), and the first field errors of a 400 ("content: Must be 2000 or fewer in length.").
fn error_text(v: &Value, code: Option<u64>) -> Option<String> {
    let message = v.get("message").and_then(Value::as_str)?;
    let mut text = match code.filter(|c| *c != 0) {
        Some(c) => format!("{message} (code {c})"),
        None => message.to_owned(),
    };
    let mut fields = Vec::new();
    if let Some(errors) = v.get("errors") {
        field_errors(errors, "", &mut fields);
    }
    if !fields.is_empty() {
        text.push_str(": ");
        text.push_str(&fields.into_iter().take(3).collect::<Vec<_>>().join("; "));
    }
    Some(text)
}

/// Discord nests field errors by path: `{"content": {"_errors": [{"code", "message"}]}}`.
fn field_errors(v: &Value, path: &str, out: &mut Vec<String>) {
    let Some(map) = v.as_object() else { return };
    for (key, inner) in map {
        if key == "_errors" {
            for e in inner.as_array().into_iter().flatten() {
                let m = e.get("message").and_then(Value::as_str).unwrap_or("invalid");
                out.push(if path.is_empty() { m.to_owned() } else { format!("{path}: {m}") });
            }
        } else {
            let next = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
            field_errors(inner, &next, out);
        }
    }
}

/// `GET {webhook}`: where it posts.
#[derive(Debug, Clone, Deserialize)]
pub struct Webhook {
    pub name: Option<String>,
    pub guild_id: Option<String>,
    pub channel_id: Option<String>,
}

/// A reaction of a message (`count` covers every emoji's users).
#[derive(Debug, Clone, Deserialize)]
pub struct Reaction {
    #[serde(default)]
    pub count: u64,
}

/// An attachment of a message.
#[derive(Debug, Clone, Deserialize)]
pub struct Attachment {
    pub id: String,
    #[serde(default)]
    pub filename: String,
    pub description: Option<String>,
}

/// A message, the fields crier uses.
#[derive(Debug, Clone, Deserialize)]
pub struct Message {
    pub id: String,
    pub channel_id: String,
    #[serde(default)]
    pub content: String,
    pub timestamp: Option<String>,
    pub edited_timestamp: Option<String>,
    #[serde(default)]
    pub flags: u64,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// Absent when nobody reacted.
    #[serde(default)]
    pub reactions: Vec<Reaction>,
}

/// `allowed_mentions`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AllowedMentions {
    pub parse: Vec<String>,
}

/// One `attachments` entry: `id` is the index of `files[n]` (a string: the definition
/// types attachment ids as snowflakes).
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttachmentSlot {
    pub id: String,
    pub filename: String,
    pub description: Option<String>,
}

/// The JSON of an execute or an edit (`payload_json` when files go with it).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MessageBody {
    pub content: String,
    /// Never pings anyone: `{"parse": []}`.
    pub allowed_mentions: AllowedMentions,
    pub username: Option<String>,
    pub avatar_url: Option<String>,
    pub thread_name: Option<String>,
    pub flags: Option<u64>,
    /// With files: one slot per file, in order. On an edit, the attachments the message
    /// keeps (all of them are replaced by the new files).
    pub attachments: Option<Vec<AttachmentSlot>>,
}

pub use crate::platforms::upload::Upload;

/// The parts of a webhook URL: `…/webhooks/{id}/{token}`.
pub struct WebhookUrl {
    pub url: Url,
    pub token: String,
}

/// `DISCORD_WEBHOOK_URL` parsed; the error never repeats the URL (it is a secret).
pub fn parse_webhook_url(given: &str) -> Result<WebhookUrl, String> {
    let not = |why: &str| {
        format!(
            "DISCORD_WEBHOOK_URL is not a Discord webhook URL ({why}); it looks like https://discord.com/api/webhooks/123456789012345678/abc…"
        )
    };
    let mut url = Url::parse(given.trim()).map_err(|_| not("not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(not("not an http(s) URL"));
    }
    url.set_query(None);
    url.set_fragment(None);
    let segments: Vec<String> =
        url.path_segments().map(|s| s.filter(|p| !p.is_empty()).map(str::to_owned).collect()).unwrap_or_default();
    let n = segments.len();
    let ok = n >= 3
        && segments[n - 3] == "webhooks"
        && !segments[n - 2].is_empty()
        && segments[n - 2].bytes().all(|b| b.is_ascii_digit())
        && !segments[n - 1].is_empty();
    if !ok {
        return Err(not("it does not end in /webhooks/<id>/<token>"));
    }
    let token = segments[n - 1].clone();
    // A trailing slash would make the joined paths `…/token//messages`.
    url.set_path(&format!("/{}", segments.join("/")));
    Ok(WebhookUrl { url, token })
}

/// A client for one webhook. Cheap to clone; clones share the call counter.
#[derive(Clone)]
pub struct DiscordClient {
    http: HttpClient,
}

/// The base URL is the secret: only the call count shows.
impl std::fmt::Debug for DiscordClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscordClient").field("calls", &self.calls()).finish_non_exhaustive()
    }
}

impl DiscordClient {
    pub fn new(webhook: &WebhookUrl, opts: ClientOptions) -> Self {
        let secrets = [webhook.token.clone(), webhook.url.as_str().to_owned()];
        Self { http: HttpClient::new(opts, webhook.url.clone(), secrets) }
    }

    /// Requests sent so far (every attempt counts).
    pub fn calls(&self) -> u64 {
        self.http.calls()
    }

    /// `GET {webhook}`: its server and channel.
    pub async fn webhook(&self, on_wait: OnWait<'_>) -> Result<Webhook> {
        let url = self.http.url(&[]);
        let build = |c: &reqwest::Client| c.get(url.clone());
        decode(self.send("get webhook", Safety::Repeatable, false, &build, on_wait).await?)
    }

    /// `POST {webhook}?wait=true`: sends one message (never twice: see the module docs).
    /// `thread` posts into a forum post's thread.
    pub async fn execute(
        &self,
        body: &MessageBody,
        files: &[Upload],
        thread: Option<&str>,
        on_wait: OnWait<'_>,
    ) -> Result<Message> {
        let mut url = self.http.url(&[]);
        url.query_pairs_mut().append_pair("wait", "true");
        if let Some(t) = thread {
            url.query_pairs_mut().append_pair("thread_id", t);
        }
        let build = |c: &reqwest::Client| with_body(c.request(Method::POST, url.clone()), body, files);
        decode(self.send("execute webhook", Safety::OnceOnly, true, &build, on_wait).await?)
    }

    /// `GET {webhook}/messages/{id}`.
    pub async fn message(&self, id: &str, thread: Option<&str>, on_wait: OnWait<'_>) -> Result<Message> {
        let url = self.message_url(id, thread);
        let build = |c: &reqwest::Client| c.get(url.clone());
        decode(self.send("get message", Safety::Repeatable, false, &build, on_wait).await?)
    }

    /// `PATCH {webhook}/messages/{id}`: the same edit twice is the same message.
    pub async fn edit(
        &self,
        id: &str,
        thread: Option<&str>,
        body: &MessageBody,
        files: &[Upload],
        on_wait: OnWait<'_>,
    ) -> Result<Message> {
        let url = self.message_url(id, thread);
        let build = |c: &reqwest::Client| with_body(c.request(Method::PATCH, url.clone()), body, files);
        decode(self.send("edit message", Safety::Repeatable, true, &build, on_wait).await?)
    }

    /// `DELETE {webhook}/messages/{id}` (204).
    pub async fn delete(&self, id: &str, thread: Option<&str>, on_wait: OnWait<'_>) -> Result<()> {
        let url = self.message_url(id, thread);
        let build = |c: &reqwest::Client| c.delete(url.clone());
        self.send("delete message", Safety::Repeatable, true, &build, on_wait).await.map(|_| ())
    }

    fn message_url(&self, id: &str, thread: Option<&str>) -> Url {
        let mut url = self.http.url(&["messages", id]);
        if let Some(t) = thread {
            url.query_pairs_mut().append_pair("thread_id", t);
        }
        url
    }

    async fn send(
        &self,
        operation: &'static str,
        safety: Safety,
        write: bool,
        build: &(dyn Fn(&reqwest::Client) -> reqwest::RequestBuilder + Sync),
        on_wait: OnWait<'_>,
    ) -> Result<Value> {
        let request = Request { operation, safety, write, build };
        let (_, value) = self.http.send(&DiscordErrors, &request, on_wait).await?;
        Ok(value)
    }
}

/// JSON, or multipart with `payload_json` and `files[n]` when there are files.
fn with_body(req: reqwest::RequestBuilder, body: &MessageBody, files: &[Upload]) -> reqwest::RequestBuilder {
    if files.is_empty() {
        return req.json(body);
    }
    let json = serde_json::to_string(body).unwrap_or_default();
    let mut form = multipart::Form::new().part(
        "payload_json",
        multipart::Part::text(json).mime_str("application/json").unwrap_or_else(|_| multipart::Part::text("")),
    );
    for (i, f) in files.iter().enumerate() {
        let part = multipart::Part::bytes(f.bytes.as_ref().clone()).file_name(f.file_name.clone());
        let part = match part.mime_str(&f.mime) {
            Ok(p) => p,
            Err(_) => multipart::Part::bytes(f.bytes.as_ref().clone()).file_name(f.file_name.clone()),
        };
        form = form.part(format!("files[{i}]"), part);
    }
    req.multipart(form)
}

fn decode<T: serde::de::DeserializeOwned>(v: Value) -> Result<T> {
    serde_json::from_value(v.clone()).map_err(|e| DiscordError::BadResponse {
        status: 200,
        detail: format!("{e}: {}", http::snippet(&v.to_string(), 120)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_are_read_without_repeating_them() {
        let ok = [
            (
                "https://discord.com/api/webhooks/123/tok-EN_x",
                "https://discord.com/api/webhooks/123/tok-EN_x",
                "tok-EN_x",
            ),
            (
                "https://discord.com/api/v10/webhooks/123/tok/?wait=true",
                "https://discord.com/api/v10/webhooks/123/tok",
                "tok",
            ),
            ("http://127.0.0.1:9/api/webhooks/9/t0k", "http://127.0.0.1:9/api/webhooks/9/t0k", "t0k"),
        ];
        for (given, url, token) in ok {
            let w = parse_webhook_url(given).unwrap_or_else(|e| panic!("{given}: {e}"));
            assert_eq!((w.url.as_str(), w.token.as_str()), (url, token));
        }
        for bad in [
            "",
            "discord.com/api/webhooks/1/secretTOKEN",
            "https://discord.com/api/webhooks/abc/secretTOKEN",
            "https://discord.com/channels/1/2",
            "ftp://discord.com/api/webhooks/1/secretTOKEN",
        ] {
            let e = parse_webhook_url(bad).err().unwrap_or_else(|| panic!("{bad} accepted"));
            assert!(!e.contains("secretTOKEN"), "{e}");
            assert!(e.contains("DISCORD_WEBHOOK_URL"), "{e}");
        }
    }

    #[test]
    fn errors_are_classified_by_status_and_code() {
        let cases: &[(u16, &str, Class, Option<&str>)] = &[
            (
                401,
                r#"{"message": "401: Unauthorized", "code": 0}"#,
                Class::CredentialsInvalid,
                Some("401: Unauthorized"),
            ),
            (
                404,
                r#"{"message": "Unknown Webhook", "code": 10015}"#,
                Class::CredentialsInvalid,
                Some("Unknown Webhook (code 10015)"),
            ),
            (401, r#"{"message": "Invalid Webhook Token", "code": 50027}"#, Class::CredentialsInvalid, None),
            (
                404,
                r#"{"message": "Unknown Message", "code": 10008}"#,
                Class::Rejected,
                Some("Unknown Message (code 10008)"),
            ),
            (
                429,
                r#"{"message": "You are being rate limited.", "retry_after": 0.25, "global": false}"#,
                Class::RateLimited,
                None,
            ),
            (502, "<html>bad gateway</html>", Class::Transient, None),
            (
                400,
                r#"{"message": "Invalid Form Body", "code": 50035, "errors": {"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]}}}"#,
                Class::Rejected,
                Some("Invalid Form Body (code 50035): content: Must be 2000 or fewer in length."),
            ),
        ];
        for (status, body, class, text) in cases {
            let v = DiscordErrors.classify(*status, body.as_bytes(), "execute webhook");
            assert_eq!(v.class, *class, "{status} {body}");
            if let Some(t) = text {
                assert_eq!(v.text.as_deref(), Some(*t), "{body}");
            }
        }
        let v = DiscordErrors.classify(429, br#"{"message": "slow", "retry_after": 1.5}"#, "x");
        assert_eq!(v.retry_after, Some(std::time::Duration::from_millis(1500)));
    }

    #[test]
    fn a_message_body_never_pings_and_leaves_out_what_is_unset() {
        let body = MessageBody { content: "hi @everyone".into(), ..MessageBody::default() };
        assert_eq!(
            serde_json::to_value(&body).expect("json"),
            serde_json::json!({"content": "hi @everyone", "allowed_mentions": {"parse": []}})
        );
    }
}
