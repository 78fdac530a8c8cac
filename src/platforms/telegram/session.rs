//! Telegram connected for one run: the channel looked up once (`getChat`, for the links),
//! then sends, edits and deletes.
//!
//! Never twice: the Bot API has no idempotency key and a bot cannot read a channel back,
//! so before every send the post's entry is written ahead ([`Job::write_ahead`]) with the
//! messages confirmed so far and `unconfirmed: <what is being sent>`. A reply lost after
//! the request went out is [`Sent::ReplyLost`]: the entry stays unconfirmed, the post is
//! held back until the user records it (`crier adopt --id`) or sends it again
//! (`crier publish --resend`, which resumes after the messages confirmed). A crash between
//! a send and its record leaves the same entry, so it is held back too.

use std::path::PathBuf;
use std::sync::Arc;

use secrecy::SecretString;

use super::api::{Chat, Media, SendOptions, TelegramClient, TelegramError, message_url};
use super::{NAME, Send, TelegramOutput};
use crate::checklist::Checklist;
use crate::ledger::{self, PartRecord, Record};
use crate::platforms::metrics::Engagement;
use crate::platforms::{
    Adoption, ConnectContext, Deletion, DoctorContext, Failure, Job, LostReply, Recorded, Remote, Sent, Session,
    countdown, rendered_as,
};

const WAITER: &str = "Telegram";

struct TelegramSession {
    client: TelegramClient,
    /// As configured (`@name` or the id): what every call names.
    chat: String,
    /// As Telegram knows it (for the links).
    info: Chat,
    root: PathBuf,
}

fn fatal(e: &TelegramError) -> Option<String> {
    if e.is_fatal() {
        return Some("the Telegram bot token was rejected (check TELEGRAM_BOT_TOKEN)".to_owned());
    }
    // Not a member, or no right to post: no other post can go to this channel either.
    matches!(e, TelegramError::Rejected { status: 403, .. }).then(|| e.to_string())
}

fn failure(e: &TelegramError, published_parts: usize) -> Failure {
    Failure { message: e.to_string(), fatal: fatal(e), published_parts }
}

fn client(env: &crate::env::Env, http: crate::platforms::http::HttpOptions) -> TelegramClient {
    let token = SecretString::from(env.get("TELEGRAM_BOT_TOKEN").unwrap_or_default().to_owned());
    let base = env.get("CRIER_TELEGRAM_API_URL").unwrap_or(super::api::DEFAULT_BASE_URL);
    TelegramClient::new(base, token, http)
}

pub(super) async fn connect(cx: &ConnectContext<'_>) -> Result<Box<dyn Session>, Failure> {
    let chat = super::chat_of(cx.env, Some(cx.project))
        .map_err(|why| Failure { fatal: Some(why.clone()), ..Failure::new(why) })?;
    // Telegram asks bots to send at most about one message a second to a chat.
    let http = crate::platforms::http::HttpOptions {
        min_write_interval: std::time::Duration::from_millis(cx.project.config.publish.write_interval_ms),
        ..cx.http
    };
    let client = client(cx.env, http);
    let info = client.get_chat(&chat, &crate::platforms::http::quiet).await.map_err(|e| {
        let why = format!("cannot open the channel {chat}: {e}");
        Failure { fatal: Some(why.clone()), ..Failure::new(why) }
    })?;
    Ok(Box::new(TelegramSession { client, chat, info, root: cx.project.root.clone() }))
}

pub(super) async fn doctor(cx: &DoctorContext<'_>, r: &mut Checklist) {
    if cx.env.get("TELEGRAM_BOT_TOKEN").is_none() {
        return;
    }
    let client = client(cx.env, cx.http);
    let quiet = crate::platforms::http::quiet;
    match client.get_me(&quiet).await {
        Ok(me) => r.ok(&format!("bot token accepted{}", me.username.map(|u| format!(": @{u}")).unwrap_or_default())),
        Err(e) => {
            r.fail(&e.to_string(), "create or copy the token with @BotFather and set TELEGRAM_BOT_TOKEN");
            return;
        }
    }
    match super::chat_of(cx.env, cx.project) {
        Err(why) => r.fail(&why, "set TELEGRAM_CHAT_ID"),
        Ok(chat) => match client.get_chat(&chat, &quiet).await {
            Ok(c) => r.ok(&format!(
                "channel {} found{}",
                c.title.as_deref().unwrap_or(&chat),
                if c.username.is_some() { " (public)" } else { " (private: its links open for members only)" }
            )),
            Err(e) => r.fail(
                &format!("cannot open the channel {chat}: {e}"),
                "add the bot to the channel as an administrator allowed to post messages, and check TELEGRAM_CHAT_ID",
            ),
        },
    }
}

fn output<'a>(job: &'a Job<'_>) -> Result<&'a TelegramOutput, Failure> {
    rendered_as(job.rendered, "a Telegram")
}

/// The record of the messages `parts` (the first is the post's id).
fn record(parts: &[PartRecord], job: &Job<'_>) -> Record {
    let first = parts.first();
    Record {
        id: first.map(|p| p.id.clone()).unwrap_or_default(),
        url: first.map(|p| p.url.clone()).unwrap_or_default(),
        cid: None,
        published_at: job.now.to_owned(),
        hash: job.hash.to_owned(),
        parts: if parts.len() > 1 { parts.to_vec() } else { Vec::new() },
        deleted_at: None,
        relays: Vec::new(),
        d: None,
    }
}

/// Every message of a record, first first.
fn messages_of(r: &Record) -> Vec<PartRecord> {
    if !r.parts.is_empty() {
        r.parts.clone()
    } else if r.id.trim().is_empty() {
        Vec::new()
    } else {
        vec![PartRecord { id: r.id.clone(), url: r.url.clone(), cid: None }]
    }
}

/// The first words of a text, to recognise the message in the channel.
fn opening(text: &str) -> String {
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    let mut words: String = line.chars().take(60).collect();
    if words.len() < line.len() {
        words.push('…');
    }
    words
}

impl TelegramSession {
    fn where_(&self) -> String {
        match &self.info.username {
            Some(u) => format!("https://t.me/{u}"),
            None => format!("the channel {}", self.info.title.as_deref().unwrap_or(&self.chat)),
        }
    }

    /// What send `i` of `n` is, for the user to look for.
    fn describe(&self, i: usize, n: usize, send: &Send, now: &str) -> String {
        let which = if n > 1 { format!("message {} of {n}", i + 1) } else { "the message".to_owned() };
        let what = match send {
            Send::Text(t) => format!("“{}”", opening(&t.text)),
            Send::Media { media, caption } => {
                let kind = if media.len() > 1 {
                    format!("an album of {}", media.len())
                } else {
                    format!("a {}", media[0].kind_name())
                };
                match caption {
                    Some(c) => format!("{kind} captioned “{}”", opening(&c.text)),
                    None => kind,
                }
            }
        };
        format!("{which} ({what}, sent {now}) in {}", self.where_())
    }

    fn load(&self, media: &[crate::rules::media::MediaRef]) -> Result<Vec<Media>, Failure> {
        media
            .iter()
            .map(|m| {
                let video = m.format.is_video();
                match (&m.path, &m.url) {
                    (Some(rel), _) => {
                        let abs = m.abs.clone().unwrap_or_else(|| self.root.join(rel));
                        let bytes =
                            std::fs::read(&abs).map_err(|e| Failure::new(format!("cannot read `{rel}`: {e}")))?;
                        let name = rel.rsplit('/').next().unwrap_or(rel).to_owned();
                        let mime = super::rules::mime(m.format).to_owned();
                        Ok(Media::File { name, mime, bytes: Arc::new(bytes), video })
                    }
                    (None, Some(url)) => Ok(Media::Url { url: url.clone(), video }),
                    (None, None) => Err(Failure::new("a media item has neither a file nor a URL")),
                }
            })
            .collect()
    }

    async fn send_one(&self, send: &Send, opts: SendOptions, job: &Job<'_>) -> Result<Vec<PartRecord>, TelegramError> {
        let wait = countdown(job.progress, WAITER);
        let sent = match send {
            Send::Text(t) => vec![self.client.send_message(&self.chat, t, opts, &wait).await?],
            Send::Media { media, caption } => {
                let loaded = self.load(media).map_err(|f| TelegramError::Rejected { status: 0, message: f.message })?;
                self.client.send_media(&self.chat, &loaded, caption.as_ref(), opts, &wait).await?
            }
        };
        Ok(sent
            .into_iter()
            .map(|m| PartRecord { id: m.message_id.to_string(), url: message_url(&m.chat, m.message_id), cid: None })
            .collect())
    }
}

#[async_trait::async_trait(?Send)]
impl Session for TelegramSession {
    async fn publish(&self, job: &Job<'_>) -> Result<Record, Failure> {
        self.send(job).await?.confirmed()
    }

    async fn send(&self, job: &Job<'_>) -> Result<Sent, Failure> {
        let out = output(job)?;
        let opts = SendOptions { silent: out.silent, link_preview: out.link_preview };
        // A resend of the same rendering resumes after the messages confirmed before.
        let mut parts = match ledger::get_record(&job.post.source.text, job.post.kind, NAME).ok().flatten() {
            Some(r)
                if r.hash == job.hash
                    && ledger::unconfirmed(&job.post.source.text, job.post.kind, NAME).ok().flatten().is_some() =>
            {
                messages_of(&r)
            }
            _ => Vec::new(),
        };
        let n = out.sends.len();
        let mut done = 0;
        for (i, send) in out.sends.iter().enumerate() {
            done += send.messages();
            if done <= parts.len() {
                continue;
            }
            // Media are read before the entry is written: a missing file sends nothing.
            if let Send::Media { media, .. } = send {
                self.load(media)?;
            }
            let check = self.describe(i, n, send, job.now);
            (job.write_ahead)(LostReply { record: record(&parts, job), check: format!("{check} may be there") })
                .await
                .map_err(|e| Failure::new(format!("not sent: the post's entry could not be written first ({e})")))?;
            (job.progress)(&format!(
                "sending {}",
                if n > 1 { format!("message {} of {n}", i + 1) } else { "it".to_owned() }
            ));
            match self.send_one(send, opts, job).await {
                Ok(sent) => parts.extend(sent),
                Err(e) if e.is_ambiguous() => {
                    return Ok(Sent::ReplyLost(LostReply {
                        record: record(&parts, job),
                        check: format!("{check}: its reply was lost ({e}), so crier cannot tell whether it went out"),
                    }));
                }
                Err(e) => return Err(failure(&e, parts.len())),
            }
        }
        Ok(Sent::Recorded(record(&parts, job)))
    }

    async fn update(&self, job: &Job<'_>, previous: &Record) -> Result<Record, Failure> {
        let out = output(job)?;
        let opts = SendOptions { silent: out.silent, link_preview: out.link_preview };
        let ids = messages_of(previous);
        let want: usize = out.sends.iter().map(Send::messages).sum();
        if want != ids.len() {
            return Err(Failure::new(format!(
                "the post now makes {want} Telegram message(s) where {} were sent, and a message cannot be added to or taken from a post: edit it to the same shape, or delete it (`crier delete`) and remove its record to send it anew",
                ids.len()
            )));
        }
        let wait = countdown(job.progress, WAITER);
        let mut at = 0;
        let gone = |id: &str| {
            Failure::new(format!(
                "message {id} is no longer in the channel (deleted in the app?); remove the post's `published.telegram` entry to send it anew"
            ))
        };
        for send in &out.sends {
            // Each message of the send, and what it shows now. Media are sent again (the
            // record cannot tell a changed image from a changed caption), the caption on
            // the first as when it was sent.
            let edits: Vec<(&str, Result<(), TelegramError>)> = match send {
                Send::Text(t) => {
                    vec![(&ids[at].id, self.client.edit_text(&self.chat, &ids[at].id, t, opts, &wait).await)]
                }
                Send::Media { media, caption } => {
                    let loaded = self.load(media)?;
                    let mut done = Vec::new();
                    for (i, medium) in loaded.iter().enumerate() {
                        let id = &ids[at + i].id;
                        let caption = if i == 0 { caption.as_ref() } else { None };
                        let result = self.client.edit_media(&self.chat, id, medium, caption, &wait).await;
                        let failed = result.is_err();
                        done.push((id.as_str(), result));
                        if failed {
                            break;
                        }
                    }
                    done
                }
            };
            for (id, result) in edits {
                match result {
                    Ok(()) => {}
                    Err(e) if e.says("message to edit not found") => return Err(gone(id)),
                    Err(e) => return Err(failure(&e, 0)),
                }
            }
            at += send.messages();
        }
        Ok(Record { hash: job.hash.to_owned(), ..previous.clone() })
    }

    async fn adopt(&self, job: &Job<'_>, incomplete: Option<&Record>) -> Result<Adoption, Failure> {
        let out = output(job)?;
        let Some(given) = incomplete.map(|r| r.id.trim()).filter(|id| !id.is_empty()) else {
            return Ok(Adoption::Unsupported);
        };
        let ids: Vec<&str> = given.split(',').map(str::trim).collect();
        if let Some(bad) = ids.iter().find(|id| id.parse::<i64>().map_or(true, |n| n <= 0)) {
            return Err(Failure::new(format!(
                "`{bad}` is not a Telegram message id (a number such as 42, from the message's link)"
            )));
        }
        let want: usize = out.sends.iter().map(Send::messages).sum();
        if ids.len() != want {
            return Ok(Adoption::Partial(format!(
                "the post makes {want} Telegram message(s); give every id in order, e.g. `--id {}`",
                (1..=want).map(|i| (41 + i).to_string()).collect::<Vec<_>>().join(",")
            )));
        }
        let parts: Vec<PartRecord> = ids
            .iter()
            .map(|id| PartRecord {
                id: (*id).to_owned(),
                url: message_url(&self.info, id.parse().unwrap_or_default()),
                cid: None,
            })
            .collect();
        let mut rec = record(&parts, job);
        if let Some(at) = incomplete.map(|r| r.published_at.clone()).filter(|t| !t.is_empty()) {
            rec.published_at = at;
        }
        Ok(Adoption::Found(rec))
    }

    async fn delete(&self, target: &Recorded<'_>) -> Result<Deletion, Failure> {
        let wait = countdown(target.progress, WAITER);
        let mut done = Deletion::default();
        for part in target.part_ids().into_iter().rev() {
            match self.client.delete_message(&self.chat, part, &wait).await {
                Ok(true) => done.deleted += 1,
                Ok(false) => done.already_gone += 1,
                Err(e) if e.says("message can't be deleted") => {
                    return Err(Failure::new(format!(
                        "Telegram lets a bot delete a message only within 48 hours of sending it, and message {part} was sent at {}: delete it by hand in the app (long-press it, Delete), then run `crier delete` again to record it",
                        target.record.published_at
                    )));
                }
                Err(e) => return Err(failure(&e, 0)),
            }
        }
        Ok(done)
    }

    async fn inspect(&self, _target: &Recorded<'_>) -> Result<Remote, Failure> {
        Ok(Remote::Unchecked("unavailable: a Telegram bot cannot read a channel's messages back".to_owned()))
    }

    async fn stats(&self, _targets: &[Recorded<'_>]) -> Result<Vec<Engagement>, Failure> {
        Err(Failure::new(
            "unavailable: the Telegram Bot API gives a bot neither views nor reactions of channel messages",
        ))
    }

    fn calls(&self) -> u64 {
        self.client.calls()
    }
}
