//! A stateful fake of the Telegram Bot API (one bot, one channel) for tests.
//!
//! Serves `POST /bot<token>/<method>` as the Bot API does (reference: platforms.md section 9,
//! core.telegram.org/bots/api), answering `{"ok":true,"result":…}` or
//! `{"ok":false,"error_code":N,"description":"…","parameters"?:{"retry_after":N}}`:
//!
//! - `getMe`, `getChat` (the channel by `@username` or id; another chat is 400
//!   `Bad Request: chat not found`);
//! - `sendMessage` (JSON): `text` 1–4,096 UTF-16 units, `entities` inside the text (offsets
//!   in UTF-16) with known types and `text_link` URLs, `disable_notification`,
//!   `link_preview_options`;
//! - `sendPhoto` / `sendVideo` (multipart): the file itself in `photo`/`video`, or an
//!   http(s) URL (`attach://` is for albums only: refused), `caption` ≤ 1,024 units with
//!   `caption_entities` (a JSON string); an uploaded photo's width + height at most 10,000
//!   and its sides at most 20:1 (`Bad Request: PHOTO_INVALID_DIMENSIONS`), in albums too;
//! - `sendMediaGroup` (multipart): `media` a JSON list of 2–10 photos/videos, each
//!   `attach://<field>` naming a file of the form (or a URL); one message per item, sharing
//!   a `media_group_id`;
//! - `editMessageText`, `editMessageCaption`: `message is not modified` for the same content,
//!   `message to edit not found` for a deleted one, `there is no caption in the message to
//!   edit` for a text message, `there is no text in the message to edit` for media;
//! - `editMessageMedia` (multipart): `media` one InputMedia (JSON) of type photo or video,
//!   `attach://<field>` naming a file of the form or a URL, its caption replacing the old;
//!   a text message cannot become a medium (`there is no media in the message to edit`);
//! - `deleteMessage`: `message to delete not found`, and `message can't be deleted` for a
//!   message sent more than 48 hours ago (see [`FakeTelegram::age`]);
//! - a wrong token → 401 `Unauthorized`; a bot that is not an administrator → 403
//!   `Forbidden: bot is not a member of the channel chat`; more than `send_limit` sends
//!   within `send_window` → 429 `Too Many Requests: retry after N` with `parameters.retry_after`.
//!
//! The request log keeps the method and the body, never the path (it holds the token).

// Each test binary uses a different subset of this module.
#![allow(dead_code)]

#[allow(clippy::duplicate_mod)]
#[path = "fake.rs"]
mod fake;

use std::collections::HashMap;
use std::time::Duration;

use axum::response::Response;
use serde_json::{Value, json};

use fake::{Clock, Effect, Incoming};

fake::config! {
    token: String = "123456789:AAFakeTelegramBotTokenSECRETxyz0123".into(),
    /// The channel's public username (`None`: a private channel).
    username: Option<String> = Some("crier_news".into()),
    chat_id: i64 = -1_001_234_567_890,
    title: String = "Crier News".into(),
    /// Whether the bot may post in the channel.
    bot_is_admin: bool = true,
    /// Sends allowed within `send_window`; one more gets a 429.
    send_limit: usize = 20,
    send_window: Duration = Duration::from_secs(60),
    /// `retry_after` of that 429.
    retry_after_secs: u64 = 1;
    drop_hang = Duration::from_secs(5);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Route {
    SendMessage,
    SendPhoto,
    SendVideo,
    SendMediaGroup,
    EditMessageText,
    EditMessageCaption,
    EditMessageMedia,
    DeleteMessage,
    GetChat,
    GetMe,
    #[default]
    Any,
}

fake::faults! {
    /// HTTP 429 with `parameters.retry_after`, without acting.
    TooManyRequests { retry_after: u64 },
}

/// A message of the channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FakeMessage {
    pub(crate) id: i64,
    pub(crate) text: Option<String>,
    pub(crate) entities: Value,
    pub(crate) caption: Option<String>,
    pub(crate) caption_entities: Value,
    /// `photo` or `video`, and the uploaded file's name (or the URL) and size.
    pub(crate) media: Option<(String, String, usize)>,
    pub(crate) media_group_id: Option<String>,
    pub(crate) silent: bool,
    pub(crate) link_preview_disabled: bool,
    pub(crate) date: u64,
    pub(crate) deleted: bool,
    pub(crate) edits: u32,
}

/// A resolved InputMedia: the medium as a message keeps it (kind, file or URL, size), the
/// caption and its entities.
type InputMedia = ((String, String, usize), Option<String>, Value);

/// A request as the log keeps it: the method and what was sent (never the path).
#[derive(Debug, Clone)]
pub(crate) struct TgRequest {
    pub(crate) method: String,
    pub(crate) body: Option<Value>,
    /// Multipart fields (name, value), files as `<file NAME, N bytes>`.
    pub(crate) form: Vec<(String, String)>,
}

impl From<&Incoming> for TgRequest {
    fn from(req: &Incoming) -> Self {
        Self {
            method: req.segments().last().copied().unwrap_or_default().to_owned(),
            body: req.json(),
            form: req.logged_form(),
        }
    }
}

#[derive(Default)]
pub(crate) struct Telegram {
    pub(crate) cfg: FakeConfig,
    messages: Vec<FakeMessage>,
    next_id: i64,
    next_group: u64,
    clock: Clock,
    sends: Vec<Duration>,
}

/// The state a fake starts in.
impl From<FakeConfig> for Telegram {
    fn from(cfg: FakeConfig) -> Self {
        Telegram { cfg, next_id: 41, next_group: 1, ..Telegram::default() }
    }
}

pub(crate) type FakeTelegram = fake::Fake<Telegram>;

fake::config_getters!(FakeTelegram { token });

impl FakeTelegram {
    /// The channel's messages, not deleted, in order.
    pub(crate) fn messages(&self) -> Vec<FakeMessage> {
        self.lock().messages.iter().filter(|m| !m.deleted).cloned().collect()
    }

    /// Every message ever sent, deleted ones included.
    pub(crate) fn sent(&self) -> Vec<FakeMessage> {
        self.lock().messages.clone()
    }

    /// Makes message `id` `hours` older (a bot may delete it only within 48 hours).
    pub(crate) fn age(&self, id: i64, hours: u64) {
        if let Some(m) = self.lock().messages.iter_mut().find(|m| m.id == id) {
            m.date = m.date.saturating_sub(hours * 3600);
        }
    }

    /// Deletes a message the way an administrator does in the app.
    pub(crate) fn delete_in_app(&self, id: i64) {
        if let Some(m) = self.lock().messages.iter_mut().find(|m| m.id == id) {
            m.deleted = true;
        }
    }

    /// Requests of one method.
    pub(crate) fn count(&self, method: &str) -> usize {
        self.requests().iter().filter(|r| r.method == method).count()
    }
}

fn ok(result: Value) -> Response {
    fake::json(200, &json!({"ok": true, "result": result}))
}

fn err(code: u16, description: &str) -> Response {
    fake::json(code, &json!({"ok": false, "error_code": code, "description": description}))
}

fn too_many(retry_after: u64) -> Response {
    fake::json(
        429,
        &json!({"ok": false, "error_code": 429, "description": format!("Too Many Requests: retry after {retry_after}"), "parameters": {"retry_after": retry_after}}),
    )
}

fn utf16(s: &str) -> usize {
    s.encode_utf16().count()
}

/// What a request carries, JSON or multipart, as text fields and files.
struct Fields {
    text: HashMap<String, String>,
    files: HashMap<String, (String, usize)>,
    /// The width and height of each file that is a readable image.
    dimensions: HashMap<String, (usize, usize)>,
    json: Value,
}

impl Fields {
    fn of(req: &Incoming) -> Self {
        let mut text = HashMap::new();
        let mut files = HashMap::new();
        let mut dimensions = HashMap::new();
        let json = req.json().unwrap_or(Value::Null);
        if let Value::Object(map) = &json {
            for (k, v) in map {
                text.insert(k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned));
            }
        }
        for f in req.form() {
            match f.file_name {
                Some(name) => {
                    if let Ok(size) = imagesize::blob_size(&f.data) {
                        dimensions.insert(f.name.clone(), (size.width, size.height));
                    }
                    files.insert(f.name.clone(), (name, f.data.len()));
                }
                None => {
                    text.insert(f.name.clone(), String::from_utf8_lossy(&f.data).into_owned());
                }
            }
        }
        Self { text, files, dimensions, json }
    }

    /// `sendPhoto`: "The photo's width and height must not exceed 10000 in total. Width and
    /// height ratio must be at most 20."
    fn check_photo(&self, field: &str) -> Result<(), Response> {
        let Some(&(w, h)) = self.dimensions.get(field) else { return Ok(()) };
        if w + h > 10_000 || w.min(h) == 0 || w.max(h) > 20 * w.min(h) {
            return Err(err(400, "Bad Request: PHOTO_INVALID_DIMENSIONS"));
        }
        Ok(())
    }

    fn get(&self, k: &str) -> Option<&str> {
        self.text.get(k).map(String::as_str)
    }

    /// A field that may be JSON (an object's value, or a JSON string of a form).
    fn value(&self, k: &str) -> Value {
        match self.json.get(k) {
            Some(v) => v.clone(),
            None => self.get(k).and_then(|s| serde_json::from_str(s).ok()).unwrap_or(Value::Null),
        }
    }

    fn flag(&self, k: &str) -> bool {
        self.get(k) == Some("true")
    }
}

impl Telegram {
    fn chat(&self) -> Value {
        let mut c = json!({"id": self.cfg.chat_id, "type": "channel", "title": self.cfg.title});
        if let Some(u) = &self.cfg.username {
            c["username"] = json!(u);
        }
        c
    }

    fn is_our_chat(&self, chat: Option<&str>) -> bool {
        let Some(chat) = chat else { return false };
        chat == self.cfg.chat_id.to_string() || self.cfg.username.as_ref().is_some_and(|u| chat == format!("@{u}"))
    }

    fn message_json(&self, m: &FakeMessage) -> Value {
        let mut v = json!({"message_id": m.id, "date": m.date, "chat": self.chat()});
        if let Some(t) = &m.text {
            v["text"] = json!(t);
            v["entities"] = m.entities.clone();
        }
        if let Some(c) = &m.caption {
            v["caption"] = json!(c);
            v["caption_entities"] = m.caption_entities.clone();
        }
        if let Some((kind, name, size)) = &m.media {
            v[kind.as_str()] = json!({"file_id": format!("{kind}-{}", m.id), "file_name": name, "file_size": size});
        }
        if let Some(g) = &m.media_group_id {
            v["media_group_id"] = json!(g);
        }
        v
    }

    /// Entities within `text`: known types, inside it, links absolute.
    fn check_entities(text: &str, entities: &Value) -> Result<(), String> {
        let len = utf16(text);
        let Some(list) = entities.as_array() else {
            return if entities.is_null() { Ok(()) } else { Err("entities must be an array".into()) };
        };
        for e in list {
            let kind = e.get("type").and_then(Value::as_str).unwrap_or("");
            let (Some(offset), Some(length)) =
                (e.get("offset").and_then(Value::as_u64), e.get("length").and_then(Value::as_u64))
            else {
                return Err("entity without offset or length".into());
            };
            if !["bold", "italic", "strikethrough", "code", "pre", "text_link", "blockquote", "underline", "spoiler"]
                .contains(&kind)
            {
                return Err(format!("unsupported entity type {kind}"));
            }
            if length == 0 || offset + length > len as u64 {
                return Err(format!("entity beyond the end of the text at UTF-16 offset {offset}"));
            }
            if kind == "text_link" {
                let url = e.get("url").and_then(Value::as_str).unwrap_or("");
                if !(url.starts_with("http://") || url.starts_with("https://") || url.starts_with("tg://")) {
                    return Err(format!("wrong HTTP URL specified: {url}"));
                }
            }
        }
        Ok(())
    }

    fn rate_limited(&mut self) -> Option<Response> {
        let now = self.clock.elapsed();
        let window = self.cfg.send_window;
        self.sends.retain(|t| now.saturating_sub(*t) < window);
        if self.sends.len() >= self.cfg.send_limit {
            return Some(too_many(self.cfg.retry_after_secs));
        }
        self.sends.push(now);
        None
    }

    fn store(&mut self, m: FakeMessage) -> Value {
        let json = self.message_json(&m);
        self.messages.push(m);
        json
    }

    fn new_message(&mut self, f: &Fields) -> FakeMessage {
        self.next_id += 1;
        FakeMessage {
            id: self.next_id,
            text: None,
            entities: Value::Null,
            caption: None,
            caption_entities: Value::Null,
            media: None,
            media_group_id: None,
            silent: f.flag("disable_notification"),
            link_preview_disabled: f.value("link_preview_options").get("is_disabled") == Some(&Value::Bool(true)),
            date: self.clock.now_unix(),
            deleted: false,
            edits: 0,
        }
    }

    fn caption(f: &Fields) -> Result<(Option<String>, Value), Response> {
        let Some(c) = f.get("caption").filter(|c| !c.is_empty()) else { return Ok((None, Value::Null)) };
        if utf16(c) > 1024 {
            return Err(err(400, "Bad Request: message caption is too long"));
        }
        let entities = f.value("caption_entities");
        Self::check_entities(c, &entities).map_err(|e| err(400, &format!("Bad Request: can't parse entities: {e}")))?;
        Ok((Some(c.to_owned()), entities))
    }

    /// One InputMedia (an album item, or `editMessageMedia`'s `media`): a photo or video,
    /// `attach://<field>` naming a file of the form or a URL, and its caption (checked).
    fn input_media(item: &Value, f: &Fields) -> Result<InputMedia, Response> {
        let kind = item.get("type").and_then(Value::as_str).unwrap_or("");
        if kind != "photo" && kind != "video" {
            return Err(err(400, &format!("Bad Request: unsupported media type \"{kind}\"")));
        }
        let given = item.get("media").and_then(Value::as_str).unwrap_or("");
        let wrong = || err(400, "Bad Request: wrong file identifier/HTTP URL specified");
        let (file, size) = match given.strip_prefix("attach://") {
            Some(name) if kind == "photo" => {
                f.check_photo(name)?;
                f.files.get(name).cloned().ok_or_else(wrong)?
            }
            Some(name) => f.files.get(name).cloned().ok_or_else(wrong)?,
            None if given.starts_with("http") => (given.to_owned(), 0),
            None => return Err(wrong()),
        };
        let caption = item.get("caption").and_then(Value::as_str).filter(|c| !c.is_empty()).map(str::to_owned);
        let Some(text) = &caption else { return Ok(((kind.to_owned(), file, size), None, Value::Null)) };
        if utf16(text) > 1024 {
            return Err(err(400, "Bad Request: message caption is too long"));
        }
        let entities = item.get("caption_entities").cloned().unwrap_or(Value::Null);
        Self::check_entities(text, &entities)
            .map_err(|e| err(400, &format!("Bad Request: can't parse entities: {e}")))?;
        Ok(((kind.to_owned(), file, size), caption, entities))
    }

    fn send(&mut self, route: Route, f: &Fields) -> Response {
        if !self.cfg.bot_is_admin {
            return err(403, "Forbidden: bot is not a member of the channel chat");
        }
        if let Some(r) = self.rate_limited() {
            return r;
        }
        match route {
            Route::SendMessage => {
                let text = f.get("text").unwrap_or("");
                if text.trim().is_empty() {
                    return err(400, "Bad Request: message text is empty");
                }
                if utf16(text) > 4096 {
                    return err(400, "Bad Request: message is too long");
                }
                let entities = f.value("entities");
                if let Err(e) = Self::check_entities(text, &entities) {
                    return err(400, &format!("Bad Request: can't parse entities: {e}"));
                }
                let mut m = self.new_message(f);
                m.text = Some(text.to_owned());
                m.entities = entities;
                let json = self.store(m);
                ok(json)
            }
            Route::SendPhoto | Route::SendVideo => {
                let kind = if route == Route::SendPhoto { "photo" } else { "video" };
                if let (Route::SendPhoto, Err(r)) = (route, f.check_photo(kind)) {
                    return r;
                }
                let media = match (f.files.get(kind), f.get(kind)) {
                    (Some((name, size)), _) => (kind.to_owned(), name.clone(), *size),
                    (None, Some(url)) if url.starts_with("http://") || url.starts_with("https://") => {
                        (kind.to_owned(), url.to_owned(), 0)
                    }
                    (None, Some(other)) => {
                        return err(400, &format!("Bad Request: wrong remote file identifier specified: {other}"));
                    }
                    (None, None) => return err(400, &format!("Bad Request: there is no {kind} in the request")),
                };
                let (caption, caption_entities) = match Self::caption(f) {
                    Ok(c) => c,
                    Err(r) => return r,
                };
                let mut m = self.new_message(f);
                m.media = Some(media);
                m.caption = caption;
                m.caption_entities = caption_entities;
                let json = self.store(m);
                ok(json)
            }
            Route::SendMediaGroup => {
                let Some(items) = f.value("media").as_array().cloned() else {
                    return err(400, "Bad Request: parameter \"media\" is required");
                };
                if !(2..=10).contains(&items.len()) {
                    return err(400, "Bad Request: media must include 2-10 items");
                }
                let mut resolved = Vec::new();
                for item in &items {
                    match Self::input_media(item, f) {
                        Ok(m) => resolved.push(m),
                        Err(r) => return r,
                    }
                }
                let group = format!("1337{}", self.next_group);
                self.next_group += 1;
                let mut out = Vec::new();
                for (media, caption, entities) in resolved {
                    let mut m = self.new_message(f);
                    m.media = Some(media);
                    m.caption = caption;
                    m.caption_entities = entities;
                    m.media_group_id = Some(group.clone());
                    out.push(self.store(m));
                }
                ok(Value::Array(out))
            }
            _ => err(404, "Not Found"),
        }
    }

    fn edit(&mut self, route: Route, f: &Fields) -> Response {
        let id = f.get("message_id").and_then(|i| i.trim_matches('"').parse::<i64>().ok()).unwrap_or(0);
        let Some(pos) = self.messages.iter().position(|m| m.id == id && !m.deleted) else {
            return err(400, "Bad Request: message to edit not found");
        };
        let m = self.messages[pos].clone();
        let updated = match route {
            Route::EditMessageText => {
                if m.text.is_none() {
                    return err(400, "Bad Request: there is no text in the message to edit");
                }
                let text = f.get("text").unwrap_or("").to_owned();
                if utf16(&text) > 4096 {
                    return err(400, "Bad Request: MESSAGE_TOO_LONG");
                }
                let entities = f.value("entities");
                if let Err(e) = Self::check_entities(&text, &entities) {
                    return err(400, &format!("Bad Request: can't parse entities: {e}"));
                }
                FakeMessage { text: Some(text), entities, ..m.clone() }
            }
            Route::EditMessageMedia => {
                if m.media.is_none() {
                    return err(400, "Bad Request: there is no media in the message to edit");
                }
                match Self::input_media(&f.value("media"), f) {
                    Ok((media, caption, caption_entities)) => {
                        FakeMessage { media: Some(media), caption, caption_entities, ..m.clone() }
                    }
                    Err(r) => return r,
                }
            }
            _ => {
                if m.media.is_none() {
                    return err(400, "Bad Request: there is no caption in the message to edit");
                }
                let (caption, caption_entities) = match Self::caption(f) {
                    Ok(c) => c,
                    Err(r) => return r,
                };
                FakeMessage { caption, caption_entities, ..m.clone() }
            }
        };
        let same = updated.text == m.text
            && updated.media == m.media
            && updated.caption == m.caption
            && (updated.entities == m.entities
                || (updated.entities.as_array().is_some_and(Vec::is_empty) && m.entities.is_null()))
            && (updated.caption_entities == m.caption_entities
                || (updated.caption_entities.as_array().is_some_and(Vec::is_empty) && m.caption_entities.is_null()));
        if same {
            return err(
                400,
                "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
            );
        }
        self.messages[pos] = FakeMessage { edits: m.edits + 1, ..updated };
        let json = self.message_json(&self.messages[pos]);
        ok(json)
    }

    fn delete(&mut self, f: &Fields) -> Response {
        let id = f.get("message_id").and_then(|i| i.trim_matches('"').parse::<i64>().ok()).unwrap_or(0);
        let now = self.clock.now_unix();
        let Some(m) = self.messages.iter_mut().find(|m| m.id == id && !m.deleted) else {
            return err(400, "Bad Request: message to delete not found");
        };
        if now.saturating_sub(m.date) > 48 * 3600 {
            return err(400, "Bad Request: message can't be deleted");
        }
        m.deleted = true;
        ok(json!(true))
    }
}

impl fake::Platform for Telegram {
    type Route = Route;
    type Fault = Fault;
    type Entry = TgRequest;

    fn route(&self, req: &Incoming) -> Route {
        match req.segments().last().copied().unwrap_or("") {
            "sendMessage" => Route::SendMessage,
            "sendPhoto" => Route::SendPhoto,
            "sendVideo" => Route::SendVideo,
            "sendMediaGroup" => Route::SendMediaGroup,
            "editMessageText" => Route::EditMessageText,
            "editMessageCaption" => Route::EditMessageCaption,
            "editMessageMedia" => Route::EditMessageMedia,
            "deleteMessage" => Route::DeleteMessage,
            "getChat" => Route::GetChat,
            "getMe" => Route::GetMe,
            _ => Route::Any,
        }
    }

    fn fault(&mut self, fault: Fault) -> Effect {
        match fault {
            Fault::TooManyRequests { retry_after } => Effect::Reply(too_many(retry_after)),
            _ => Effect::Proceed,
        }
    }

    fn answer(&mut self, route: Route, req: &Incoming) -> Response {
        let segs = req.segments();
        let token = segs.first().and_then(|s| s.strip_prefix("bot")).unwrap_or("");
        if segs.len() != 2 || req.method != axum::http::Method::POST && req.method != axum::http::Method::GET {
            return err(404, "Not Found");
        }
        if token != self.cfg.token {
            return err(401, "Unauthorized");
        }
        let f = Fields::of(req);
        if route == Route::GetMe {
            return ok(json!({"id": 123_456_789, "is_bot": true, "first_name": "Crier", "username": "crier_bot"}));
        }
        if route == Route::Any {
            return err(404, "Not Found");
        }
        if !self.is_our_chat(f.get("chat_id")) {
            return err(400, "Bad Request: chat not found");
        }
        match route {
            Route::GetChat => ok(self.chat()),
            Route::EditMessageText | Route::EditMessageCaption | Route::EditMessageMedia => self.edit(route, &f),
            Route::DeleteMessage => self.delete(&f),
            _ => self.send(route, &f),
        }
    }
}
