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
    Adoption, ConnectContext, Deletion, Failure, Job, LostReply, PostNouns, Recorded, Remote, Sent, Session, countdown,
    downcast, rendered_as,
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

fn output(rendered: &dyn crate::platforms::Output) -> Result<&DiscordOutput, Failure> {
    rendered_as(rendered, "a Discord")
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
        self.send(job).await?.confirmed()
    }

    /// Sends the post's messages, each written ahead as `unconfirmed` first, so neither a
    /// lost reply nor a crash can make the next run send one again.
    async fn send(&self, job: &Job<'_>) -> Result<Sent, Failure> {
        let out = output(job.rendered)?;
        let wait = countdown(job.progress, WAITER);
        // Everything that can fail before a message goes out does so first.
        let place = self.place(&wait).await?;
        let files: Vec<Vec<Upload>> = out.messages.iter().map(|m| read_files(&m.media)).collect::<Result<_, _>>()?;
        let n = out.messages.len();
        // `publish --resend` of a run that stopped part-way: the confirmed messages stay.
        let mut made = resumed(job, n);
        let mut thread = made.first().map(|m| m.channel.clone()).filter(|c| *c != place.channel);
        for (i, (m, files)) in out.messages.iter().zip(&files).enumerate().skip(made.len()) {
            if n > 1 {
                (job.progress)(&format!("sending message {} of {n}", i + 1));
            }
            let check = check(&place, thread.as_deref(), m, i, n, job.now);
            let known = record(&made, n, &place, job.now, job.hash);
            if let Err(e) = (job.write_ahead)(LostReply { record: known.clone(), check: check.clone() }).await {
                (job.ordered_done)();
                return Err(Failure { published_parts: i, ..Failure::new(format!("nothing more was sent: {e}")) });
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
                    made.push(Out { id: msg.id, channel: msg.channel_id });
                }
                Err(e) if e.is_ambiguous() => {
                    (job.ordered_done)();
                    return Ok(Sent::ReplyLost(LostReply { record: known, check }));
                }
                Err(e) => {
                    (job.ordered_done)();
                    return Err(self.failed(e, &made, i, n, &place));
                }
            }
        }
        (job.ordered_done)();
        Ok(Sent::Recorded(record(&made, n, &place, job.now, job.hash)))
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

    /// `crier adopt PATH --platform discord --id ID[,ID…]`: the webhook cannot list what it
    /// sent, so only messages named by their ids (every message of the post, first first)
    /// are looked up and recorded.
    async fn adopt(&self, job: &Job<'_>, incomplete: Option<&Record>) -> Result<Adoption, Failure> {
        let out = output(job.rendered)?;
        let n = out.messages.len();
        let ids: Vec<&str> =
            incomplete.map(|r| r.id.split(',').map(str::trim).filter(|s| !s.is_empty()).collect()).unwrap_or_default();
        if ids.is_empty() {
            return Ok(Adoption::Partial(
                "a Discord webhook cannot list the messages it sent: give the message's id with `--id` (in Discord: right-click the message → Copy Message ID, with Developer Mode on)".to_owned(),
            ));
        }
        if ids.len() != n {
            return Ok(Adoption::Partial(format!(
                "the post is {n} message(s) on Discord and {} id(s) were given: give every one, the first first (`--id A,B`)",
                ids.len()
            )));
        }
        let wait = countdown(job.progress, WAITER);
        let place = self.place(&wait).await?;
        let mut made: Vec<Out> = Vec::with_capacity(n);
        let mut first_at = None;
        for id in ids {
            let thread = made.first().map(|m| m.channel.clone()).filter(|c| *c != place.channel);
            let mut found = self.client.message(id, thread.as_deref(), &wait).await;
            // A forum post's first message is in the thread of its own id.
            if made.is_empty()
                && out.thread_name.is_some()
                && matches!(found, Err(DiscordError::Rejected { status: 404, .. }))
            {
                found = self.client.message(id, Some(id), &wait).await;
            }
            match found {
                Ok(msg) => {
                    first_at = first_at.or(msg.timestamp.filter(|t| !t.is_empty()));
                    made.push(Out { id: msg.id, channel: msg.channel_id });
                }
                Err(DiscordError::Rejected { status: 404, .. }) => return Ok(Adoption::NotFound),
                Err(e) => return Err(failure(e)),
            }
        }
        let mut rec = record(&made, n, &place, job.now, job.hash);
        if let Some(at) = incomplete.map(|r| r.published_at.clone()).filter(|t| !t.is_empty()).or(first_at) {
            rec.published_at = at;
        }
        Ok(Adoption::Found(rec))
    }

    async fn delete(&self, target: &Recorded<'_>) -> Result<Deletion, Failure> {
        let wait = countdown(target.progress, WAITER);
        let place = self.place(&wait).await?;
        let thread = thread_of(&target.record.url, &place);
        let (thread, wait) = (thread.as_deref(), &wait);
        let step = |i, n| format!("deleting message {i} of {n}");
        Deletion::last_first(&target.part_ids(), target.progress, step, |_, id| async move {
            match self.client.delete(id.trim(), thread, wait).await {
                Ok(()) => Ok(true),
                Err(DiscordError::Rejected { status: 404, .. }) => Ok(false),
                Err(e) => Err(failure(e)),
            }
        })
        .await
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

    /// The failure of message `i` of `n` (a refusal: it did not go out), and what did.
    fn failed(&self, e: DiscordError, made: &[Out], i: usize, n: usize, place: &Place) -> Failure {
        let out: Vec<String> = made.iter().map(|m| message_url(&place.guild, &m.channel, &m.id)).collect();
        let sent = if out.is_empty() { String::new() } else { format!("; already in the channel: {}", out.join(", ")) };
        let which = if n > 1 { format!("message {} of {n}: ", i + 1) } else { String::new() };
        let f = failure(e);
        Failure { published_parts: i, message: format!("{which}{}{sent}", f.message), ..f }
    }
}

/// A message that went out: its id and channel (a forum post's thread).
#[derive(Debug, Clone)]
struct Out {
    id: String,
    channel: String,
}

/// The messages confirmed by an earlier run of this post that lost a later reply, when
/// the entry describes what is sent now (its hash); the rest is sent after them.
fn resumed(job: &Job<'_>, n: usize) -> Vec<Out> {
    let post = job.post;
    let Ok(Some(rec)) = crate::ledger::get_record(&post.source.text, post.kind, super::NAME) else { return Vec::new() };
    if rec.hash != job.hash || n < 2 {
        return Vec::new();
    }
    let channel = |url: &str| url.trim_end_matches('/').rsplit('/').nth(1).unwrap_or_default().to_owned();
    rec.parts.iter().take(n - 1).map(|p| Out { id: p.id.clone(), channel: channel(&p.url) }).collect()
}

/// What to look for when message `i` of `n`'s reply is lost: where, and how it starts.
fn check(place: &Place, thread: Option<&str>, m: &DiscordMessage, i: usize, n: usize, now: &str) -> String {
    let which = if n > 1 { format!("message {} of {n}", i + 1) } else { "a message".to_owned() };
    let start: String = m.text.chars().take(40).collect();
    let more = if m.text.chars().count() > 40 { "…" } else { "" };
    let channel = thread.unwrap_or(&place.channel);
    format!(
        "{which} starting “{start}{more}” in https://discord.com/channels/{}/{channel}, sent {now} (Discord cannot be asked whether it arrived)",
        place.guild
    )
}

fn part_ids(r: &Record) -> Vec<&str> {
    if r.parts.is_empty() { vec![r.id.as_str()] } else { r.parts.iter().map(|p| p.id.as_str()).collect() }
}

/// The record of the messages that went out (empty id and URL when none did yet); a run
/// of `n` > 1 messages lists each as a part, so a `--resend` knows where to go on.
fn record(made: &[Out], n: usize, place: &Place, now: &str, hash: &str) -> Record {
    let url = |m: &Out| message_url(&place.guild, &m.channel, &m.id);
    Record {
        relays: Vec::new(),
        d: None,
        id: made.first().map(|m| m.id.clone()).unwrap_or_default(),
        url: made.first().map(url).unwrap_or_default(),
        cid: None,
        published_at: now.to_owned(),
        hash: hash.to_owned(),
        parts: if n > 1 {
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
