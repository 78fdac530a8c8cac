//! Client for the Threads Graph API (`graph.threads.net`, calls under `/v1.0/`).
//!
//! Covers what a publisher needs: the user (`/me`), the publishing quota, media containers
//! (create, poll status, publish), reading a post back (permalink) and listing posts for
//! reconciliation after a crash or a lost reply.
//!
//! Error handling follows the Graph error envelope and sorts every failure into a
//! [`ThreadsError`] variant the caller can act on. Retries are built in and bounded:
//! reads retry transient failures; writes retry only when the request certainly did not take
//! effect, and report [`ThreadsError::Ambiguous`] when a reply was lost after sending, so the
//! caller reconciles instead of posting twice.
//!
//! The access token travels as the `access_token` query parameter (as in Meta's sample app),
//! so every message built here is scrubbed of it: reqwest errors are stripped of their URL and
//! any remaining occurrence of the token text is replaced with `[REDACTED]`.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::platforms::http::{self, Class, Classifier, Failure, HttpClient, Request, Safety, Verdict};

/// Default API host.
pub const DEFAULT_BASE_URL: &str = "https://graph.threads.net";

/// Graph API version prefix; Meta requires `v1.0` on graph.threads.net.
const API_VERSION: &str = "v1.0";

/// Fields read back for a published post.
const MEDIA_FIELDS: &str = "id,permalink,shortcode,username,text,timestamp,media_type,alt_text";

/// Fields read from the reply endpoints (`/{user}/replies`, `/{media}/conversation`): only
/// those Meta documents there, which exclude `alt_text` ("nonexisting field" otherwise).
const REPLY_FIELDS: &str = "id,permalink,shortcode,username,text,timestamp,media_type";

/// Graph codes meaning "try again later": unknown, service, app/user throttling, page
/// throttling and "too many calls to this endpoint".
const TRANSIENT_CODES: [i64; 6] = [1, 2, 4, 17, 32, 613];

/// Graph codes of a token that no longer works: 190 (invalid or expired) and 102 (session).
const TOKEN_CODES: [i64; 2] = [190, 102];

/// Subcodes of a token that no longer works (app removed, checkpoint, password changed,
/// expired, session invalid, …).
const TOKEN_SUBCODES: std::ops::RangeInclusive<i64> = 458..=467;

/// Subcode of code 24 when a container is published before it is `FINISHED`.
const SUBCODE_NOT_READY: i64 = 4_279_009;

/// Subcode when Threads could not build the link preview for a post.
const SUBCODE_LINK_PREVIEW: i64 = 4_279_047;

/// Result alias for this module.
pub type Result<T, E = ThreadsError> = std::result::Result<T, E>;

pub use crate::platforms::http::HttpOptions;

/// Failures of a Threads call, sorted by what the caller should do about them.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ThreadsError {
    /// The token is expired, revoked or invalid: stop the run.
    #[error(
        "Threads rejected the access token: {message}. Run `crier auth refresh` (or set a new THREADS_ACCESS_TOKEN)"
    )]
    TokenInvalid {
        /// Graph error code (190 for an invalid token).
        code: i64,
        /// Graph error subcode, when given.
        subcode: Option<i64>,
        /// Server message, redacted.
        message: String,
    },
    /// The container is not ready to publish (code 24, subcode 4279009); retry later.
    #[error("the Threads container is not ready to be published yet: {message}")]
    NotReady {
        /// Server message, redacted.
        message: String,
    },
    /// Threads could not build a preview for the post's link (subcode 4279047).
    #[error("Threads could not build the link preview (check that the link is public and reachable): {message}")]
    LinkPreview {
        /// Server message, redacted.
        message: String,
    },
    /// A temporary failure (throttling, 429, 5xx, timeout, connection error); safe to retry.
    #[error("temporary Threads failure: {message}")]
    Transient {
        /// HTTP status, when a reply arrived.
        status: Option<u16>,
        /// Graph error code, when the body carried one.
        code: Option<i64>,
        /// Server-requested delay (`Retry-After`), when given.
        retry_after: Option<Duration>,
        /// What happened, redacted.
        message: String,
    },
    /// Threads refused the request; retrying the same request will fail again.
    #[error("Threads rejected the request (HTTP {status}, code {code}{}): {message}", fmt_subcode(*.subcode))]
    Rejected {
        /// HTTP status.
        status: u16,
        /// Graph error code.
        code: i64,
        /// Graph error subcode, when given.
        subcode: Option<i64>,
        /// Server message (with the user-facing text when present), redacted.
        message: String,
    },
    /// A non-idempotent request was sent but its reply was lost: it may have taken effect.
    /// The caller must reconcile (see [`ThreadsClient::reconcile_publish`]) instead of retrying.
    #[error(
        "the Threads {operation} request was sent but its reply was lost ({message}); it may or may not have taken effect, so crier must check before retrying"
    )]
    Ambiguous {
        /// Which call (e.g. `publish`).
        operation: &'static str,
        /// What happened, redacted.
        message: String,
    },
    /// A media container ended in `ERROR` or `EXPIRED`.
    #[error("Threads container {id} ended in {status}: {explanation}")]
    ContainerFailed {
        /// Container id.
        id: String,
        /// `ERROR` or `EXPIRED`.
        status: Status,
        /// Raw `error_message` code, e.g. `INVALID_ASPEC_RATIO`.
        error_message: Option<String>,
        /// The code explained in words.
        explanation: String,
    },
    /// A container was still processing when the wait bound ran out.
    #[error("Threads container {id} was still {status} after waiting {waited:?}")]
    NotFinished {
        /// Container id.
        id: String,
        /// Last status seen.
        status: Status,
        /// Time spent waiting.
        waited: Duration,
    },
    /// The server answered with something that is not a usable Graph reply (HTML page,
    /// truncated or malformed JSON, missing fields) and retrying is not indicated.
    #[error("unexpected reply from Threads (HTTP {status}): {detail}")]
    BadResponse {
        /// HTTP status.
        status: u16,
        /// Description of the body, redacted.
        detail: String,
    },
}

fn fmt_subcode(subcode: Option<i64>) -> String {
    subcode.map(|s| format!(", subcode {s}")).unwrap_or_default()
}

impl ThreadsError {
    /// Whether repeating the same call later may succeed without any other change.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Transient { .. } | Self::NotReady { .. })
    }

    /// Whether the whole run should stop (no other call can succeed with this token).
    pub fn is_fatal(&self) -> bool {
        matches!(self, Self::TokenInvalid { .. })
    }

    /// Whether Threads says the media id does not exist (or cannot be loaded): code 100
    /// subcode 33, or code 24 subcode 4279009 "Media Not Found".
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            Self::Rejected { code: 100, subcode: Some(33), .. }
                | Self::Rejected { code: 24, subcode: Some(SUBCODE_NOT_READY), .. }
        )
    }

    /// Whether the token lacks a permission (Graph code 10 or 200–299).
    pub fn is_permission(&self) -> bool {
        matches!(self, Self::Rejected { code, .. } if *code == 10 || (200..300).contains(code))
    }
}

/// The authenticated user.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Me {
    /// Threads user id.
    #[serde(deserialize_with = "de_id")]
    pub id: String,
    /// Handle, without `@`.
    #[serde(default)]
    pub username: String,
}

/// Publishing quota over the moving 24-hour window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Posts published in the window.
    pub used: u64,
    /// Posts allowed in the window (250).
    pub total: u64,
    /// Replies published in the window.
    pub reply_used: u64,
    /// Replies allowed in the window (1000).
    pub reply_total: u64,
}

/// A media container id (returned by create, consumed by publish).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContainerId(pub String);

/// A published media id (what permalinks, replies and records refer to).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MediaId(pub String);

impl ContainerId {
    /// The id as sent to the API.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl MediaId {
    /// The id as sent to the API.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ContainerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for MediaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Create-side media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    /// Text-only post.
    Text,
    /// Single image fetched from `image_url`.
    Image,
    /// Single video fetched from `video_url`.
    Video,
    /// Carousel of 2–20 child containers.
    Carousel,
}

impl MediaType {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "TEXT",
            Self::Image => "IMAGE",
            Self::Video => "VIDEO",
            Self::Carousel => "CAROUSEL",
        }
    }
}

/// Who may reply to a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyControl {
    /// Anyone.
    Everyone,
    /// Accounts the author follows.
    AccountsYouFollow,
    /// Accounts mentioned in the post.
    MentionedOnly,
    /// Only the author of the parent post.
    ParentPostAuthorOnly,
    /// The author's followers.
    FollowersOnly,
}

impl ReplyControl {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Everyone => "everyone",
            Self::AccountsYouFollow => "accounts_you_follow",
            Self::MentionedOnly => "mentioned_only",
            Self::ParentPostAuthorOnly => "parent_post_author_only",
            Self::FollowersOnly => "followers_only",
        }
    }
}

/// A poll with 2–4 options (text posts only).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Poll {
    /// First option.
    pub option_a: String,
    /// Second option.
    pub option_b: String,
    /// Optional third option.
    pub option_c: Option<String>,
    /// Optional fourth option.
    pub option_d: Option<String>,
}

impl Poll {
    fn to_json(&self) -> String {
        let mut map = serde_json::Map::new();
        map.insert("option_a".into(), Value::from(self.option_a.as_str()));
        map.insert("option_b".into(), Value::from(self.option_b.as_str()));
        if let Some(c) = &self.option_c {
            map.insert("option_c".into(), Value::from(c.as_str()));
        }
        if let Some(d) = &self.option_d {
            map.insert("option_d".into(), Value::from(d.as_str()));
        }
        Value::Object(map).to_string()
    }
}

/// A `text_entities` item: a SPOILER over `length` UTF-16 code units from
/// `offset` (crier's reading of an unconfirmed unit: Meta's sample app sends
/// JavaScript string indices).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spoiler {
    pub offset: usize,
    pub length: usize,
}

/// `text_attachment`: long plain text shown behind the post's short text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TextAttachment {
    /// At most 10,000 characters.
    pub plaintext: String,
    /// The attachment's one link.
    pub link_attachment_url: Option<String>,
}

impl TextAttachment {
    pub fn to_json(&self) -> Value {
        let mut map = serde_json::Map::new();
        map.insert("plaintext".into(), Value::from(self.plaintext.as_str()));
        if let Some(url) = &self.link_attachment_url {
            map.insert("link_attachment_url".into(), Value::from(url.as_str()));
        }
        Value::Object(map)
    }
}

/// `text_entities` as sent, and as `render --format json` shows them.
pub fn spoilers_json(spoilers: &[Spoiler]) -> Value {
    Value::Array(
        spoilers
            .iter()
            .map(|s| serde_json::json!({"entity_type": "SPOILER", "offset": s.offset, "length": s.length}))
            .collect(),
    )
}

/// Parameters of `POST /{user-id}/threads`. Build with [`ContainerRequest::text`] and friends,
/// then set the optional fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerRequest {
    /// `media_type`.
    pub media_type: MediaType,
    /// `text` (required for TEXT).
    pub text: Option<String>,
    /// `image_url` (IMAGE).
    pub image_url: Option<String>,
    /// `video_url` (VIDEO).
    pub video_url: Option<String>,
    /// `is_carousel_item=true` on carousel children.
    pub is_carousel_item: bool,
    /// `children` container ids (CAROUSEL), sent comma-separated.
    pub children: Vec<ContainerId>,
    /// `reply_to_id`: the *published media* id replied to.
    pub reply_to_id: Option<MediaId>,
    /// `reply_control`.
    pub reply_control: Option<ReplyControl>,
    /// `topic_tag` (1–50 chars, no `.` or `&`).
    pub topic_tag: Option<String>,
    /// `link_attachment` (TEXT only).
    pub link_attachment: Option<String>,
    /// `quote_post_id`.
    pub quote_post_id: Option<MediaId>,
    /// `poll_attachment`, sent JSON-encoded (TEXT only).
    pub poll_attachment: Option<Poll>,
    /// `alt_text` (IMAGE/VIDEO only, ≤ 1000 chars).
    pub alt_text: Option<String>,
    /// `text_entities`: spoilers in `text` (at most 10).
    pub text_entities: Vec<Spoiler>,
    /// `text_attachment`, sent JSON-encoded (TEXT only).
    pub text_attachment: Option<TextAttachment>,
    /// `is_spoiler_media=true` (IMAGE, VIDEO, CAROUSEL).
    pub is_spoiler_media: bool,
    /// `is_ghost_post=true` (TEXT, not a reply).
    pub is_ghost_post: bool,
}

impl ContainerRequest {
    fn empty(media_type: MediaType) -> Self {
        Self {
            media_type,
            text: None,
            image_url: None,
            video_url: None,
            is_carousel_item: false,
            children: Vec::new(),
            reply_to_id: None,
            reply_control: None,
            topic_tag: None,
            link_attachment: None,
            quote_post_id: None,
            poll_attachment: None,
            alt_text: None,
            text_entities: Vec::new(),
            text_attachment: None,
            is_spoiler_media: false,
            is_ghost_post: false,
        }
    }

    /// A text post.
    pub fn text(text: impl Into<String>) -> Self {
        Self { text: Some(text.into()), ..Self::empty(MediaType::Text) }
    }

    /// An image post (or carousel item, see [`Self::carousel_item`]).
    pub fn image(image_url: impl Into<String>) -> Self {
        Self { image_url: Some(image_url.into()), ..Self::empty(MediaType::Image) }
    }

    /// A video post (or carousel item).
    pub fn video(video_url: impl Into<String>) -> Self {
        Self { video_url: Some(video_url.into()), ..Self::empty(MediaType::Video) }
    }

    /// A carousel of already created child containers.
    pub fn carousel(children: Vec<ContainerId>) -> Self {
        Self { children, ..Self::empty(MediaType::Carousel) }
    }

    /// Marks this image/video container as a carousel child.
    pub fn carousel_item(mut self) -> Self {
        self.is_carousel_item = true;
        self
    }

    /// Sets the caption / text.
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }

    /// Makes this a reply to a published post.
    pub fn reply_to(mut self, media: &MediaId) -> Self {
        self.reply_to_id = Some(media.clone());
        self
    }

    /// Form parameters, in the API's spelling.
    pub fn to_params(&self) -> Vec<(&'static str, String)> {
        let mut p = vec![("media_type", self.media_type.as_str().to_owned())];
        let mut opt = |k: &'static str, v: Option<String>| {
            if let Some(v) = v {
                p.push((k, v));
            }
        };
        opt("text", self.text.clone());
        opt("image_url", self.image_url.clone());
        opt("video_url", self.video_url.clone());
        opt("is_carousel_item", self.is_carousel_item.then(|| "true".to_owned()));
        opt(
            "children",
            (!self.children.is_empty()).then(|| {
                let ids: Vec<&str> = self.children.iter().map(ContainerId::as_str).collect();
                ids.join(",")
            }),
        );
        opt("reply_to_id", self.reply_to_id.as_ref().map(|m| m.0.clone()));
        opt("reply_control", self.reply_control.map(|r| r.as_str().to_owned()));
        opt("topic_tag", self.topic_tag.clone());
        opt("link_attachment", self.link_attachment.clone());
        opt("quote_post_id", self.quote_post_id.as_ref().map(|m| m.0.clone()));
        opt("poll_attachment", self.poll_attachment.as_ref().map(Poll::to_json));
        opt("alt_text", self.alt_text.clone());
        opt("text_entities", (!self.text_entities.is_empty()).then(|| spoilers_json(&self.text_entities).to_string()));
        opt("text_attachment", self.text_attachment.as_ref().map(|a| a.to_json().to_string()));
        opt("is_spoiler_media", self.is_spoiler_media.then(|| "true".to_owned()));
        opt("is_ghost_post", self.is_ghost_post.then(|| "true".to_owned()));
        p
    }
}

/// Container processing status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Still being processed (media download / transcoding).
    InProgress,
    /// Ready to publish.
    Finished,
    /// Processing failed; see `error_message`.
    Error,
    /// Not published within 24 hours.
    Expired,
    /// Already published.
    Published,
    /// A value this client does not know.
    Other(String),
}

impl Status {
    fn parse(s: &str) -> Self {
        match s {
            "IN_PROGRESS" => Self::InProgress,
            "FINISHED" => Self::Finished,
            "ERROR" => Self::Error,
            "EXPIRED" => Self::Expired,
            "PUBLISHED" => Self::Published,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InProgress => "IN_PROGRESS",
            Self::Finished => "FINISHED",
            Self::Error => "ERROR",
            Self::Expired => "EXPIRED",
            Self::Published => "PUBLISHED",
            Self::Other(s) => s,
        })
    }
}

/// Explains a container `error_message` code in words.
pub fn explain_container_error(code: &str) -> &'static str {
    match code {
        "FAILED_DOWNLOADING_VIDEO" => {
            "Threads could not download the video; the URL must be public and reachable by Meta's servers"
        }
        "FAILED_PROCESSING_AUDIO" => "Threads could not process the video's audio track",
        "FAILED_PROCESSING_VIDEO" => "Threads could not process the video",
        "INVALID_ASPEC_RATIO" => "the media's aspect ratio is outside what Threads accepts (at most 10:1)",
        "INVALID_BIT_RATE" => "the video's bit rate is outside what Threads accepts",
        "INVALID_DURATION" => "the video's duration is outside what Threads accepts (0–300 s)",
        "INVALID_FRAME_RATE" => "the video's frame rate is outside what Threads accepts (23–60 FPS)",
        "INVALID_AUDIO_CHANNELS" => "the video's audio must have 1 or 2 channels",
        "INVALID_AUDIO_CHANNEL_LAYOUT" => "the video's audio channel layout is not supported",
        "UNKNOWN" => "Threads reported an unknown processing error",
        _ => "Threads reported a processing error this version of crier does not know",
    }
}

/// A published post as read back from the API.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Media {
    /// Media id.
    #[serde(deserialize_with = "de_id")]
    pub id: String,
    /// Public URL; omitted e.g. for copyrighted material.
    pub permalink: Option<String>,
    /// Alphanumeric post code used in URLs.
    pub shortcode: Option<String>,
    /// Author handle.
    pub username: Option<String>,
    /// Post text.
    pub text: Option<String>,
    /// Creation time, `YYYY-MM-DDTHH:MM:SS+0000`.
    pub timestamp: Option<String>,
    /// Read-side media type (`TEXT_POST`, `IMAGE`, `VIDEO`, `CAROUSEL_ALBUM`, …).
    pub media_type: Option<String>,
    /// Alt text of an image or video post.
    pub alt_text: Option<String>,
}

impl Media {
    /// The permalink, or one built from `username` (else `fallback_username`) and `shortcode`.
    pub fn permalink_or_fallback(&self, fallback_username: &str) -> Option<String> {
        if let Some(p) = self.permalink.as_deref().filter(|p| !p.is_empty()) {
            return Some(p.to_owned());
        }
        let user = self.username.as_deref().filter(|u| !u.is_empty()).unwrap_or(fallback_username);
        let code = self.shortcode.as_deref().filter(|c| !c.is_empty())?;
        if user.is_empty() {
            return None;
        }
        Some(format!("https://www.threads.com/@{user}/post/{code}"))
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// Items on this page.
    pub data: Vec<T>,
    /// Cursor for the next page, `None` on the last page.
    pub after: Option<String>,
}

/// Outcome of checking whether an ambiguous publish took effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reconciled {
    /// The container is not published; publishing it again is safe.
    NotPublished(Status),
    /// The container was published and this is the post.
    Published(Media),
    /// The container reports `PUBLISHED` but no matching post was found in the listings.
    PublishedButNotFound,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Verb {
    Get,
    Post,
    Delete,
}

/// Operations on a published media id: there, code 24 subcode 4279009 means "Media Not
/// Found" (a gone post), not "container not ready yet".
const MEDIA_OPERATIONS: [&str; 2] = ["delete", "look up"];

/// A published post as `crier status --remote` and `crier delete` look it up.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Found {
    pub id: String,
    /// The visible text (without its spoiler marks or its text attachment).
    pub text: Option<String>,
    /// `owner.id`: Threads gives it only for the account's own top-level posts.
    pub owner_id: Option<String>,
    pub username: Option<String>,
    pub permalink: Option<String>,
    /// `text_attachment.plaintext`, when asked for.
    pub attachment: Option<String>,
}

/// The delete quota over the moving 24-hour window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeleteQuota {
    pub used: u64,
    /// Deletes allowed in the window (100).
    pub total: u64,
    /// The window, in seconds (86400).
    pub duration_secs: u64,
}

/// Threads Graph API client. Cheap to clone; clones share the call counter.
#[derive(Clone, Debug)]
pub struct ThreadsClient {
    http: HttpClient,
    /// Sent as the `access_token` query parameter; `Debug` shows it as `[REDACTED]`.
    token: Arc<SecretString>,
}

impl ThreadsClient {
    /// A client for `base_url` (e.g. [`DEFAULT_BASE_URL`]); an unparsable URL falls back to
    /// the default host.
    pub fn new(base_url: &str, token: SecretString, opts: HttpOptions) -> Self {
        Self {
            http: HttpClient::new(opts, http::base_url(base_url, DEFAULT_BASE_URL), [token.expose_secret()]),
            token: Arc::new(token),
        }
    }

    /// Number of HTTP requests sent so far (every attempt counts).
    pub fn calls(&self) -> u64 {
        self.http.calls()
    }

    /// The retry options in use.
    pub fn options(&self) -> HttpOptions {
        self.http.options()
    }

    /// `GET /me?fields=id,username`.
    pub async fn me(&self) -> Result<Me> {
        let v = self.get(&["me"], vec![("fields", "id,username".into())]).await?;
        decode(v, "me")
    }

    /// `GET /debug_token?input_token=…` on the client's own token: the permissions it
    /// was granted (`data.scopes`).
    pub async fn granted_scopes(&self) -> Result<Vec<String>> {
        let input = self.token.expose_secret().to_owned();
        let v = self.get(&["debug_token"], vec![("input_token", input)]).await?;
        let scopes = v
            .get("data")
            .and_then(|d| d.get("scopes"))
            .and_then(Value::as_array)
            .ok_or_else(|| bad_shape("debug_token", "no `data.scopes`"))?;
        Ok(scopes.iter().filter_map(Value::as_str).map(str::to_owned).collect())
    }

    /// `GET /{user}/threads_publishing_limit`.
    pub async fn publishing_limit(&self, user: &str) -> Result<Quota> {
        let v = self
            .get(
                &[user, "threads_publishing_limit"],
                vec![("fields", "quota_usage,config,reply_quota_usage,reply_config".into())],
            )
            .await?;
        let row = v
            .get("data")
            .and_then(|d| d.get(0))
            .ok_or_else(|| bad_shape("threads_publishing_limit", "no `data[0]`"))?;
        let num = |k: &str| row.get(k).and_then(Value::as_u64);
        let total = |k: &str| row.get(k).and_then(|c| c.get("quota_total"))?.as_u64();
        Ok(Quota {
            used: num("quota_usage").unwrap_or(0),
            total: total("config").unwrap_or(250),
            reply_used: num("reply_quota_usage").unwrap_or(0),
            reply_total: total("reply_config").unwrap_or(1000),
        })
    }

    /// `GET /{user}/threads_publishing_limit?fields=delete_quota_usage,delete_config`.
    pub async fn delete_quota(&self, user: &str) -> Result<DeleteQuota> {
        let v = self
            .get(&[user, "threads_publishing_limit"], vec![("fields", "delete_quota_usage,delete_config".into())])
            .await?;
        let row = v
            .get("data")
            .and_then(|d| d.get(0))
            .ok_or_else(|| bad_shape("threads_publishing_limit", "no `data[0]`"))?;
        let config = |k: &str| row.get("delete_config").and_then(|c| c.get(k)).and_then(Value::as_u64);
        Ok(DeleteQuota {
            used: row.get("delete_quota_usage").and_then(Value::as_u64).unwrap_or(0),
            total: config("quota_total").unwrap_or(100),
            duration_secs: config("quota_duration").unwrap_or(86_400),
        })
    }

    /// `DELETE /{media}`. A lost reply is [`ThreadsError::Ambiguous`] (the caller looks the
    /// media up); an id that is not there is [`ThreadsError::is_not_found`].
    pub async fn delete_media(&self, id: &MediaId) -> Result<()> {
        let v = self.send(Verb::Delete, &[id.as_str()], Vec::new(), Safety::OnceOnly, "delete").await?;
        match v.get("success") {
            Some(Value::Bool(false)) => {
                Err(ThreadsError::BadResponse { status: 200, detail: format!("deleting {id} answered success: false") })
            }
            _ => Ok(()),
        }
    }

    /// `GET /{media}?fields=id,text,owner,username,permalink[,text_attachment]`.
    pub async fn look_up(&self, id: &MediaId, with_attachment: bool) -> Result<Found> {
        let mut fields = "id,text,owner,username,permalink".to_owned();
        if with_attachment {
            fields.push_str(",text_attachment");
        }
        let v = self.send(Verb::Get, &[id.as_str()], vec![("fields", fields)], Safety::Repeatable, "look up").await?;
        let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        let owner_id = v.get("owner").and_then(|o| o.get("id")).and_then(|i| match i {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
        Ok(Found {
            id: id_of(&v, "look up").unwrap_or_else(|_| id.0.clone()),
            text: text(&v, "text"),
            owner_id,
            username: text(&v, "username"),
            permalink: text(&v, "permalink"),
            attachment: v.get("text_attachment").and_then(|a| text(a, "plaintext")),
        })
    }

    /// `GET /{media}/insights?metric=…`: `(metric name, value)` pairs, from
    /// `data[].values[0].value` (permission `threads_manage_insights`).
    pub async fn insights(&self, id: &MediaId, metrics: &str) -> Result<Vec<(String, u64)>> {
        let v = self.get(&[id.as_str(), "insights"], vec![("metric", metrics.to_owned())]).await?;
        let data = v.get("data").and_then(Value::as_array).ok_or_else(|| bad_shape("insights", "no `data`"))?;
        Ok(data
            .iter()
            .filter_map(|d| {
                let name = d.get("name")?.as_str()?.to_owned();
                Some((name, d.get("values")?.get(0)?.get("value")?.as_u64()?))
            })
            .collect())
    }

    /// `POST /{user}/threads`: creates a media container.
    pub async fn create_container(&self, user: &str, req: &ContainerRequest) -> Result<ContainerId> {
        let v =
            self.send(Verb::Post, &[user, "threads"], req.to_params(), Safety::Repeatable, "create container").await?;
        Ok(ContainerId(id_of(&v, "create container")?))
    }

    /// `GET /{container}?fields=status,error_message`.
    pub async fn container_status(&self, id: &ContainerId) -> Result<(Status, Option<String>)> {
        let v = self.get(&[id.as_str()], vec![("fields", "id,status,error_message".into())]).await?;
        let status = v
            .get("status")
            .and_then(Value::as_str)
            .ok_or_else(|| bad_shape("container status", "no `status` field"))?;
        let message = v.get("error_message").and_then(Value::as_str).map(|s| self.redact(s));
        Ok((Status::parse(status), message))
    }

    /// Polls the container until it is `FINISHED` (or `PUBLISHED`), for at most `max_wait`.
    /// Checks once immediately, so a ready text container costs one call.
    pub async fn wait_until_finished(
        &self,
        id: &ContainerId,
        max_wait: Duration,
        poll_interval: Duration,
    ) -> Result<Status> {
        let started = Instant::now();
        loop {
            let (status, error_message) = self.container_status(id).await?;
            match status {
                Status::Finished | Status::Published => return Ok(status),
                Status::Error | Status::Expired => {
                    let explanation = match (&status, error_message.as_deref()) {
                        (Status::Expired, _) => {
                            "the container was not published within 24 hours; create a new one".to_owned()
                        }
                        (_, Some(code)) => {
                            format!("{} ({code})", explain_container_error(code))
                        }
                        (_, None) => "Threads gave no reason".to_owned(),
                    };
                    return Err(ThreadsError::ContainerFailed { id: id.0.clone(), status, error_message, explanation });
                }
                Status::InProgress | Status::Other(_) => {
                    let waited = started.elapsed();
                    if waited >= max_wait {
                        return Err(ThreadsError::NotFinished { id: id.0.clone(), status, waited });
                    }
                    tokio::time::sleep(poll_interval.min(max_wait - waited)).await;
                }
            }
        }
    }

    /// `POST /{user}/threads_publish?creation_id=`. Retries "not ready yet" and failures that
    /// certainly did not publish; a lost reply becomes [`ThreadsError::Ambiguous`].
    pub async fn publish(&self, user: &str, creation_id: &ContainerId) -> Result<MediaId> {
        let v = self
            .send(
                Verb::Post,
                &[user, "threads_publish"],
                vec![("creation_id", creation_id.0.clone())],
                Safety::OnceOnly,
                "publish",
            )
            .await?;
        match id_of(&v, "publish") {
            Ok(id) => Ok(MediaId(id)),
            // A 2xx without an id still means the post went out.
            Err(e) => Err(ThreadsError::Ambiguous { operation: "publish", message: e.to_string() }),
        }
    }

    /// `GET /{media}?fields=id,permalink,shortcode,username,text,timestamp,media_type,alt_text`.
    pub async fn media(&self, id: &MediaId) -> Result<Media> {
        let v = self.get(&[id.as_str()], vec![("fields", MEDIA_FIELDS.into())]).await?;
        decode(v, "media")
    }

    /// The post's permalink, falling back to `https://www.threads.com/@{username}/post/{shortcode}`
    /// when Threads omits `permalink`.
    pub async fn permalink(&self, id: &MediaId, fallback_username: &str) -> Result<String> {
        let media = self.media(id).await?;
        media.permalink_or_fallback(fallback_username).ok_or_else(|| ThreadsError::BadResponse {
            status: 200,
            detail: format!("post {id} has neither a permalink nor a shortcode"),
        })
    }

    /// `GET /{user}/threads`: the user's top-level posts, newest first.
    pub async fn list_threads(&self, user: &str, limit: u32, after: Option<&str>) -> Result<Page<Media>> {
        self.list(&[user, "threads"], MEDIA_FIELDS, limit, after).await
    }

    /// `GET /{user}/replies`: the user's replies, newest first.
    pub async fn list_replies(&self, user: &str, limit: u32, after: Option<&str>) -> Result<Page<Media>> {
        self.list(&[user, "replies"], REPLY_FIELDS, limit, after).await
    }

    /// `GET /{media}/conversation`: every reply under a post, all depths.
    pub async fn conversation(&self, media_id: &MediaId, limit: u32, after: Option<&str>) -> Result<Page<Media>> {
        self.list(&[media_id.as_str(), "conversation"], REPLY_FIELDS, limit, after).await
    }

    /// After an [`ThreadsError::Ambiguous`] publish: finds out whether the container went out
    /// and, if so, which post it became, by matching `text` among the newest posts (top-level
    /// posts, or the user's replies when `is_reply`). Scans at most `max_pages` pages of 25.
    pub async fn reconcile_publish(
        &self,
        user: &str,
        creation_id: &ContainerId,
        text: Option<&str>,
        is_reply: bool,
        max_pages: u32,
    ) -> Result<Reconciled> {
        let (status, _) = self.container_status(creation_id).await?;
        if status != Status::Published {
            return Ok(Reconciled::NotPublished(status));
        }
        let Some(text) = text else {
            return Ok(Reconciled::PublishedButNotFound);
        };
        let mut after: Option<String> = None;
        for _ in 0..max_pages.max(1) {
            let page = if is_reply {
                self.list_replies(user, 25, after.as_deref()).await?
            } else {
                self.list_threads(user, 25, after.as_deref()).await?
            };
            if let Some(m) = page.data.into_iter().find(|m| m.text.as_deref().map(str::trim) == Some(text.trim())) {
                return Ok(Reconciled::Published(m));
            }
            match page.after {
                Some(a) => after = Some(a),
                None => break,
            }
        }
        Ok(Reconciled::PublishedButNotFound)
    }

    async fn list(&self, path: &[&str], fields: &str, limit: u32, after: Option<&str>) -> Result<Page<Media>> {
        let limit = limit.clamp(1, 100);
        let mut params = vec![("fields", fields.to_owned()), ("limit", limit.to_string())];
        if let Some(a) = after {
            params.push(("after", a.to_owned()));
        }
        let v = self.get(path, params).await?;
        let data: Vec<Media> = decode(v.get("data").cloned().unwrap_or(Value::Array(Vec::new())), "listing")?;
        let paging = v.get("paging");
        let cursor = paging
            .and_then(|p| p.get("cursors"))
            .and_then(|c| c.get("after"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let has_next = paging.and_then(|p| p.get("next")).is_some();
        // Threads' documented replies show cursors without `next`; a full page then may
        // still have a successor, an empty or short one does not.
        let more = !data.is_empty() && (has_next || data.len() >= limit as usize);
        Ok(Page { after: cursor.filter(|_| more).map(str::to_owned), data })
    }

    async fn get(&self, path: &[&str], params: Vec<(&'static str, String)>) -> Result<Value> {
        self.send(Verb::Get, path, params, Safety::Repeatable, "read").await
    }

    /// Sends a request through the shared loop (Threads shows no countdown).
    async fn send(
        &self,
        verb: Verb,
        path: &[&str],
        params: Vec<(&'static str, String)>,
        safety: Safety,
        operation: &'static str,
    ) -> Result<Value> {
        let mut segments = vec![API_VERSION];
        segments.extend_from_slice(path);
        let url = self.http.url(&segments);
        let token = [("access_token", self.token.expose_secret())];
        let build = |c: &reqwest::Client| match verb {
            Verb::Get => c.get(url.clone()).query(&token).query(&params),
            Verb::Post => c.post(url.clone()).query(&token).form(&params),
            Verb::Delete => c.delete(url.clone()).query(&token).query(&params),
        };
        let req = Request { operation, safety, write: verb != Verb::Get, build: &build };
        self.http.send(&Graph, &req, &http::quiet).await.map(|(_, v)| v).map_err(ThreadsError::from)
    }

    fn redact(&self, s: &str) -> String {
        self.http.redactor().redact(s)
    }
}

/// The Graph error envelope, sorted. A token is dead only for codes 190 and 102 and
/// subcodes 458–467; any other `OAuthException` (`(#100) Invalid parameter`, …) is this
/// request's problem.
struct Graph;

/// What [`Graph`] keeps of an error body for [`ThreadsError`].
#[derive(Debug, Clone)]
enum GraphDetail {
    /// A Graph error (code 0 when the body gave none).
    Error {
        code: Option<i64>,
        subcode: Option<i64>,
    },
    NotReady,
    LinkPreview,
    /// No Graph body on a 4xx: the reply itself is the problem.
    NotGraph,
}

impl Classifier for Graph {
    type Detail = GraphDetail;

    /// Graph replies are objects.
    fn success(&self, _: u16, body: &[u8]) -> Option<Value> {
        serde_json::from_slice::<Value>(body).ok().filter(Value::is_object)
    }

    fn classify(&self, status: u16, body: &[u8], operation: &'static str) -> Verdict<GraphDetail> {
        let Some(g) = parse_graph_error(body) else {
            return match status {
                // A gateway error page does not tell whether the backend acted.
                500.. => Verdict::new(Class::Transient),
                429 => Verdict::new(Class::Throttled),
                _ => Verdict::new(Class::Rejected).detail(GraphDetail::NotGraph),
            };
        };
        let code = g.code.unwrap_or(0);
        let subcode = g.error_subcode;
        let error =
            |class| Verdict::new(class).text(Some(g.describe())).detail(GraphDetail::Error { code: g.code, subcode });
        if TOKEN_CODES.contains(&code) || subcode.is_some_and(|s| TOKEN_SUBCODES.contains(&s)) {
            error(Class::CredentialsInvalid)
        } else if subcode == Some(SUBCODE_NOT_READY) && !MEDIA_OPERATIONS.contains(&operation) {
            Verdict::new(Class::Throttled).text(Some(g.describe())).detail(GraphDetail::NotReady)
        } else if subcode == Some(SUBCODE_LINK_PREVIEW) {
            Verdict::new(Class::Rejected).text(Some(g.describe())).detail(GraphDetail::LinkPreview)
        } else if TRANSIENT_CODES.contains(&code) || g.is_transient == Some(true) || status == 429 || status >= 500 {
            // A Graph error body says the request was refused, even on a 5xx.
            error(Class::Throttled)
        } else {
            error(Class::Rejected)
        }
    }
}

impl From<Failure<GraphDetail>> for ThreadsError {
    fn from(f: Failure<GraphDetail>) -> Self {
        let status = f.status.unwrap_or(0);
        let (code, subcode) = match f.detail {
            Some(GraphDetail::NotReady) => return Self::NotReady { message: f.text },
            Some(GraphDetail::LinkPreview) => return Self::LinkPreview { message: f.text },
            Some(GraphDetail::NotGraph) => return Self::BadResponse { status, detail: f.text },
            Some(GraphDetail::Error { code, subcode }) => (code, subcode),
            _ => (None, None),
        };
        let message = if f.server_text.is_some() { f.text.clone() } else { f.message() };
        match f.class {
            Class::CredentialsInvalid => Self::TokenInvalid { code: code.unwrap_or(0), subcode, message },
            Class::Rejected => Self::Rejected { status, code: code.unwrap_or(0), subcode, message },
            Class::Ambiguous => Self::Ambiguous { operation: f.operation, message },
            Class::Transient | Class::Throttled | Class::RateLimited => {
                Self::Transient { status: f.status, code, retry_after: f.retry_after, message }
            }
        }
    }
}

/// Graph error envelope body (`{"error":{…}}`), also filled from the flat OAuth shape.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct GraphError {
    message: Option<String>,
    code: Option<i64>,
    error_subcode: Option<i64>,
    is_transient: Option<bool>,
    error_user_title: Option<String>,
    error_user_msg: Option<String>,
    fbtrace_id: Option<String>,
}

impl GraphError {
    fn describe(&self) -> String {
        let mut s = self.message.clone().unwrap_or_else(|| "no message".to_owned());
        match (&self.error_user_title, &self.error_user_msg) {
            (Some(t), Some(m)) => s.push_str(&format!(" — {t}: {m}")),
            (None, Some(m)) => s.push_str(&format!(" — {m}")),
            _ => {}
        }
        if let Some(id) = &self.fbtrace_id {
            s.push_str(&format!(" (fbtrace_id {id})"));
        }
        s
    }
}

fn parse_graph_error(body: &[u8]) -> Option<GraphError> {
    let v: Value = serde_json::from_slice(body).ok()?;
    if let Some(e) = v.get("error").filter(|e| e.is_object()) {
        return serde_json::from_value(e.clone()).ok();
    }
    // Token endpoints answer with a flat `{"error_type","code","error_message"}`.
    if v.get("error_message").is_some() || v.get("error_type").is_some() {
        return Some(GraphError {
            message: v.get("error_message").and_then(Value::as_str).map(str::to_owned),
            code: v.get("code").and_then(Value::as_i64),
            ..GraphError::default()
        });
    }
    None
}

fn decode<T: serde::de::DeserializeOwned>(v: Value, what: &str) -> Result<T> {
    serde_json::from_value(v).map_err(|e| bad_shape(what, &e.to_string()))
}

fn bad_shape(what: &str, why: &str) -> ThreadsError {
    ThreadsError::BadResponse { status: 200, detail: format!("{what} reply has an unexpected shape: {why}") }
}

fn id_of(v: &Value, what: &str) -> Result<String> {
    match v.get("id") {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(bad_shape(what, "no `id`")),
    }
}

/// Accepts an id as a JSON string or number (Meta's samples show both).
fn de_id<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        S(String),
        N(u64),
    }
    Ok(match Raw::deserialize(d)? {
        Raw::S(s) => s,
        Raw::N(n) => n.to_string(),
    })
}
