//! Discord connected for one run: the webhook client, and where the webhook posts (its
//! server and channel, asked once: message URLs need the server, which a message does not
//! carry).
//!
//! Never twice: a webhook message has no nonce and the webhook cannot list what it sent,
//! so an execute whose reply was lost is never sent again; the failure says which message
//! to look for in the channel. A run of messages (`split: auto`) that fails part-way says
//! which messages are out. Messages of a forum post live in its thread: the thread is the
//! channel of the recorded URL, passed as `thread_id` to later calls.

use tokio::sync::OnceCell;

use super::api::{
    AllowedMentions, AttachmentSlot, ClientOptions, DiscordClient, DiscordError, Message, MessageBody, SUPPRESS_EMBEDS,
    Upload, Webhook,
};
use super::{DiscordMessage, DiscordOutput, WEBHOOK_VAR};
use crate::ledger::{PartRecord, Record};
use crate::platforms::metrics::{Engagement, Metric, Metrics, by_part};
use crate::platforms::{
    Adoption, ConnectContext, Deletion, Failure, Job, PostNouns, Recorded, Remote, Session, countdown, downcast,
};
use crate::rules::media::MediaRef;

/// Who asks for a wait, in the countdown of [`crate::platforms::countdown`].
const WAITER: &str = "Discord";

const NOUNS: PostNouns = PostNouns { one: "the message", part: "message", parts: "messages", place: "in the channel" };

/// Where the webhook posts.
#[derive(Debug, Clone)]
struct Place {
    guild: String,
    channel: String,
}

struct DiscordSession {
    client: DiscordClient,
    place: OnceCell<Place>,
}

pub(super) fn connect(cx: &ConnectContext<'_>) -> Result<Box<dyn Session>, Failure> {
    let fatal = |m: String| Failure { fatal: Some(m.clone()), ..Failure::new(m) };
    let given = cx.env.get(WEBHOOK_VAR).ok_or_else(|| fatal(format!("{WEBHOOK_VAR} is not set")))?;
    let hook = super::api::parse_webhook_url(given).map_err(fatal)?;
    let opts = ClientOptions {
        max_total_wait: cx.http.max_total_wait,
        initial_delay: cx.http.initial_delay,
        request_timeout: cx.http.request_timeout,
        ..ClientOptions::default()
    };
    Ok(Box::new(DiscordSession { client: DiscordClient::new(&hook, opts), place: OnceCell::new() }))
}

/// The client made from the environment, for `doctor`.
pub(super) fn client(given: &str, opts: ClientOptions) -> Result<DiscordClient, String> {
    super::api::parse_webhook_url(given).map(|hook| DiscordClient::new(&hook, opts))
}

fn failure(e: DiscordError) -> Failure {
    let fatal = e.is_fatal().then(|| format!("Discord refused the webhook: check {WEBHOOK_VAR}"));
    Failure { message: e.to_string(), fatal, published_parts: 0 }
}

fn output<'a>(rendered: &'a dyn crate::platforms::Output) -> Result<&'a DiscordOutput, Failure> {
    downcast::<DiscordOutput>(rendered).ok_or_else(|| Failure::new("internal: not a Discord rendering"))
}

/// `https://discord.com/channels/<guild>/<channel>/<message>`.
fn message_url(guild: &str, channel: &str, id: &str) -> String {
    format!("https://discord.com/channels/{guild}/{channel}/{id}")
}

/// The thread a recorded message is in: the channel of its URL when that is not the
/// webhook's own channel (a forum post).
fn thread_of(url: &str, place: &Place) -> Option<String> {
    let mut it = url.trim_end_matches('/').rsplit('/');
    let _message = it.next()?;
    let channel = it.next()?;
    (channel.bytes().all(|b| b.is_ascii_digit()) && !channel.is_empty() && channel != place.channel)
        .then(|| channel.to_owned())
}

/// The files of a message, read before anything is sent.
fn read_files(media: &[MediaRef]) -> Result<Vec<Upload>, Failure> {
    media.iter().map(|m| Upload::read(m, "Discord").map_err(Failure::new)).collect()
}

/// The `attachments` slots of `files`, in order.
fn slots(files: &[Upload]) -> Option<Vec<AttachmentSlot>> {
    (!files.is_empty()).then(|| {
        files
            .iter()
            .enumerate()
            .map(|(i, f)| AttachmentSlot {
                id: i.to_string(),
                filename: f.file_name.clone(),
                description: f.description.clone(),
            })
            .collect()
    })
}

fn flags(out: &DiscordOutput) -> Option<u64> {
    out.suppress_embeds.then_some(SUPPRESS_EMBEDS)
}

/// Whether the message still shows `m` (Discord may strip characters: compared trimmed).
fn same_content(found: &Message, m: &DiscordMessage) -> bool {
    found.content.trim() == m.text.trim()
}

/// Whether the message's attachments are `m`'s files, by name and alt text, in order.
fn same_files(found: &Message, m: &DiscordMessage) -> bool {
    found.attachments.len() == m.media.len()
        && found.attachments.iter().zip(&m.media).all(|(a, x)| {
            let name = x.path.as_deref().map(|p| p.rsplit('/').next().unwrap_or(p)).unwrap_or("");
            a.filename == name && a.description.as_deref().unwrap_or("").trim() == x.alt.as_deref().unwrap_or("").trim()
        })
}

#[async_trait::async_trait(?Send)]
impl Session for DiscordSession {
    async fn publish(&self, job: &Job<'_>) -> Result<Record, Failure> {
        let out = output(job.rendered)?;
        let wait = countdown(job.progress, WAITER);
        // Everything that can fail before a message goes out does so first.
        let place = self.place(&wait).await?;
        let files: Vec<Vec<Upload>> = out.messages.iter().map(|m| read_files(&m.media)).collect::<Result<_, _>>()?;
        let n = out.messages.len();
        let mut made: Vec<Message> = Vec::with_capacity(n);
        let mut thread: Option<String> = None;
        for (i, (m, files)) in out.messages.iter().zip(&files).enumerate() {
            if n > 1 {
                (job.progress)(&format!("sending message {} of {n}", i + 1));
            }
            let body = MessageBody {
                content: m.text.clone(),
                allowed_mentions: AllowedMentions::default(),
                username: out.username.clone(),
                avatar_url: out.avatar_url.clone(),
                // The first message starts the forum post; the others go into its thread.
                thread_name: if i == 0 { out.thread_name.clone() } else { None },
                flags: flags(out),
                attachments: slots(files),
            };
            match self.client.execute(&body, files, thread.as_deref(), &wait).await {
                Ok(msg) => {
                    if i == 0 && msg.channel_id != place.channel {
                        thread = Some(msg.channel_id.clone());
                    }
                    made.push(msg);
                }
                Err(e) => {
                    (job.ordered_done)();
                    return Err(self.failed(e, &made, i, n, &place));
                }
            }
        }
        (job.ordered_done)();
        Ok(record(&made, &place, job.now, job.hash))
    }

    async fn update(&self, job: &Job<'_>, previous: &Record) -> Result<Record, Failure> {
        let out = output(job.rendered)?;
        let wait = countdown(job.progress, WAITER);
        let place = self.place(&wait).await?;
        let ids: Vec<&str> = part_ids(previous);
        if ids.len() != out.messages.len() {
            return Err(Failure::new(format!(
                "the post now makes {} message(s) but {} went out; crier can edit a message but not add one to or remove one from a run of messages, so it leaves them as they are (remove `published.discord` to send the post again)",
                out.messages.len(),
                ids.len()
            )));
        }
        let thread = thread_of(&previous.url, &place);
        for (i, (id, m)) in ids.iter().zip(&out.messages).enumerate() {
            let found = match self.client.message(id, thread.as_deref(), &wait).await {
                Ok(f) => f,
                Err(DiscordError::Rejected { status: 404, .. }) => {
                    return Err(Failure::new(format!(
                        "message {id} is no longer in the channel; remove `published.discord` from the post to send it again"
                    )));
                }
                Err(e) => return Err(failure(e)),
            };
            let suppressed = found.flags & SUPPRESS_EMBEDS != 0;
            let files_same = same_files(&found, m);
            if same_content(&found, m) && files_same && suppressed == out.suppress_embeds {
                continue;
            }
            if ids.len() > 1 {
                (job.progress)(&format!("editing message {} of {}", i + 1, ids.len()));
            }
            // New files replace every attachment (`attachments` lists only them).
            let files = if files_same { Vec::new() } else { read_files(&m.media)? };
            let body = MessageBody {
                content: m.text.clone(),
                flags: Some(if out.suppress_embeds { SUPPRESS_EMBEDS } else { 0 }),
                attachments: if files_same { None } else { Some(slots(&files).unwrap_or_default()) },
                ..MessageBody::default()
            };
            self.client.edit(id, thread.as_deref(), &body, &files, &wait).await.map_err(failure)?;
        }
        Ok(Record { hash: job.hash.to_owned(), deleted_at: None, ..previous.clone() })
    }

    async fn adopt(&self, job: &Job<'_>, incomplete: Option<&Record>) -> Result<Adoption, Failure> {
        // The webhook cannot list what it sent: only a message named by its id is found.
        let Some(rec) = incomplete else { return Ok(Adoption::Unsupported) };
        let wait = countdown(job.progress, WAITER);
        let place = self.place(&wait).await?;
        match self.client.message(rec.id.trim(), None, &wait).await {
            Ok(msg) => {
                let mut found = record(std::slice::from_ref(&msg), &place, job.now, job.hash);
                found.published_at = msg.timestamp.filter(|t| !t.is_empty()).unwrap_or(found.published_at);
                if !rec.published_at.is_empty() {
                    found.published_at.clone_from(&rec.published_at);
                }
                Ok(Adoption::Found(found))
            }
            Err(DiscordError::Rejected { status: 404, .. }) => Ok(Adoption::NotFound),
            Err(e) => Err(failure(e)),
        }
    }

    async fn delete(&self, target: &Recorded<'_>) -> Result<Deletion, Failure> {
        let wait = countdown(target.progress, WAITER);
        let place = self.place(&wait).await?;
        let thread = thread_of(&target.record.url, &place);
        let ids = target.part_ids();
        let n = ids.len();
        let mut done = Deletion::default();
        // The last first, so an interrupted run never leaves the end of a run without its start.
        for (i, id) in ids.iter().enumerate().rev() {
            if n > 1 {
                (target.progress)(&format!("deleting message {} of {n}", i + 1));
            }
            match self.client.delete(id.trim(), thread.as_deref(), &wait).await {
                Ok(()) => done.deleted += 1,
                Err(DiscordError::Rejected { status: 404, .. }) => done.already_gone += 1,
                Err(e) => return Err(Failure { published_parts: done.deleted + done.already_gone, ..failure(e) }),
            }
        }
        Ok(done)
    }

    async fn inspect(&self, target: &Recorded<'_>) -> Result<Remote, Failure> {
        let wait = countdown(target.progress, WAITER);
        let place = self.place(&wait).await?;
        let thread = thread_of(&target.record.url, &place);
        let sent = target.rendered.and_then(downcast::<DiscordOutput>);
        let ids = target.part_ids();
        let n = ids.len();
        let (mut gone, mut edited) = (Vec::new(), Vec::new());
        for (i, id) in ids.iter().enumerate() {
            let found = match self.client.message(id.trim(), thread.as_deref(), &wait).await {
                Ok(f) => f,
                Err(DiscordError::Rejected { status: 404, .. }) => {
                    gone.push(i + 1);
                    continue;
                }
                Err(e) => return Err(failure(e)),
            };
            let Some(m) = sent.and_then(|o| o.messages.get(i)) else { continue };
            if !same_content(&found, m) {
                let (shows, sent) = crate::difference::difference(found.content.trim(), m.text.trim());
                let label = if n > 1 { format!("message {}: ", i + 1) } else { String::new() };
                edited.push(format!("{label}the channel shows “{shows}”, crier sent “{sent}”"));
            }
        }
        Ok(Remote::found(n, &gone, &edited, &NOUNS))
    }

    /// Reactions, from each message as the webhook sees it (likes: every emoji counts).
    async fn stats(&self, targets: &[Recorded<'_>]) -> Result<Vec<Engagement>, Failure> {
        let quiet = |_| {};
        let place = self.place(&quiet).await?;
        let mut found = std::collections::HashMap::new();
        for t in targets {
            let thread = thread_of(&t.record.url, &place);
            for id in t.part_ids() {
                match self.client.message(id.trim(), thread.as_deref(), &quiet).await {
                    Ok(m) => {
                        let likes = m.reactions.iter().map(|r| r.count).sum();
                        found.insert(id.to_owned(), Metrics::default().with(Metric::Likes, Some(likes)));
                    }
                    Err(DiscordError::Rejected { status: 404, .. }) => {}
                    Err(e) => return Err(failure(e)),
                }
            }
        }
        Ok(by_part(targets, &found, |id| format!("message {id} is no longer in the channel")))
    }

    fn calls(&self) -> u64 {
        self.client.calls()
    }
}

impl DiscordSession {
    /// The webhook's server and channel (`GET {webhook}`, once per run).
    async fn place(&self, wait: &dyn Fn(std::time::Duration)) -> Result<Place, Failure> {
        self.place
            .get_or_try_init(|| async {
                let hook: Webhook = self.client.webhook(wait).await.map_err(failure)?;
                let channel = hook.channel_id.unwrap_or_default();
                // A webhook always belongs to a server; `@me` keeps the URL well-formed otherwise.
                let guild = hook.guild_id.filter(|g| !g.is_empty()).unwrap_or_else(|| "@me".to_owned());
                Ok(Place { guild, channel })
            })
            .await
            .cloned()
    }

    /// The failure of message `i` of `n`: what went out, and for a lost reply what to check.
    fn failed(&self, e: DiscordError, made: &[Message], i: usize, n: usize, place: &Place) -> Failure {
        let out: Vec<String> = made.iter().map(|m| message_url(&place.guild, &m.channel_id, &m.id)).collect();
        let sent = if out.is_empty() { String::new() } else { format!("; already in the channel: {}", out.join(", ")) };
        let which = if n > 1 { format!("message {} of {n}", i + 1) } else { "the message".to_owned() };
        if e.is_ambiguous() {
            return Failure {
                message: format!(
                    "sent, reply lost: check the channel. {e}; {which} may or may not be in the channel and Discord gives no way to find out, so crier did not send it again{sent}"
                ),
                fatal: None,
                published_parts: i,
            };
        }
        Failure { published_parts: i, message: format!("{}{sent}", failure(e.clone()).message), ..failure(e) }
    }
}

fn part_ids(r: &Record) -> Vec<&str> {
    if r.parts.is_empty() { vec![r.id.as_str()] } else { r.parts.iter().map(|p| p.id.as_str()).collect() }
}

fn record(made: &[Message], place: &Place, now: &str, hash: &str) -> Record {
    let url = |m: &Message| message_url(&place.guild, &m.channel_id, &m.id);
    Record {
        id: made[0].id.clone(),
        url: url(&made[0]),
        cid: None,
        published_at: now.to_owned(),
        hash: hash.to_owned(),
        parts: if made.len() > 1 {
            made.iter().map(|m| PartRecord { id: m.id.clone(), url: url(m), cid: None }).collect()
        } else {
            Vec::new()
        },
        deleted_at: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forum_post_is_told_by_its_url() {
        let place = Place { guild: "1".into(), channel: "20".into() };
        let cases = [
            ("https://discord.com/channels/1/20/300", None),
            ("https://discord.com/channels/1/300/300", Some("300")),
            ("https://discord.com/channels/1/21/301/", Some("21")),
            ("", None),
        ];
        for (url, want) in cases {
            assert_eq!(thread_of(url, &place).as_deref(), want, "{url}");
        }
    }
}
