//! Nostr connected for one run: the key, the relays, and exactly-once publishing.
//!
//! Exactly once, with the protocol's help: an event's id is the hash of what it says
//! and when (`created_at`), and relays answer an event they have with `OK true
//! "duplicate: …"`. Before signing anything, a run asks the relays once for the
//! account's recent notes and articles; a part an interrupted run already sent (a crash,
//! or an `OK` that never came back) is found there by its kind, text and tags, and that
//! same event (same id, its first `created_at`) is used again instead of a new one. A
//! rerun in a fresh clone, which has no trace of the interrupted run, finds it the same
//! way. New events are dated when they are first sent.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

use futures_util::future::join_all;
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use super::event::{self, Draft, Event, Signer};
use super::relay::{Relay, Sent};
use super::{NostrKind, NostrOutput};
use crate::ledger::{PartRecord, Record};
use crate::platforms::metrics::{Engagement, Metric, Metrics};
use crate::platforms::{ConnectContext, Deletion, Failure, Job, PostNouns, Recorded, Remote, Session, rendered_as};

/// How far back a run looks for events an interrupted run sent.
const LOOKBACK_SECS: u64 = 30 * 24 * 3600;
/// Tags that may differ between an interrupted run's event and this run's draft.
const DATED_TAGS: &[&str] = &["published_at"];

/// The relays of a run, each connected once, when first needed.
pub(super) struct Pool {
    conns: HashMap<String, OnceCell<Result<Relay, String>>>,
    timeout: Duration,
    /// Messages sent (`EVENT`, `REQ`, `COUNT`).
    calls: Cell<u64>,
}

impl Pool {
    pub(super) fn new(urls: &[String], timeout: Duration) -> Self {
        Self { conns: urls.iter().map(|u| (u.clone(), OnceCell::new())).collect(), timeout, calls: Cell::new(0) }
    }

    async fn relay(&self, url: &str) -> Result<&Relay, String> {
        let cell = self.conns.get(url).ok_or_else(|| format!("{url} is not a configured relay"))?;
        cell.get_or_init(|| Relay::connect(url, self.timeout))
            .await
            .as_ref()
            .map_err(|e| format!("cannot connect: {e}"))
    }

    /// Sends `event` to `urls` side by side.
    pub(super) async fn send(&self, event: &Event, urls: &[String]) -> Vec<(String, Sent)> {
        self.calls.set(self.calls.get() + urls.len() as u64);
        join_all(urls.iter().map(|u| async move {
            let sent = match self.relay(u).await {
                Ok(r) => r.publish(event, self.timeout).await,
                Err(e) => Sent::Unreachable(e),
            };
            (u.clone(), sent)
        }))
        .await
    }

    /// The verified events matching `filters` on `urls`, each once, with the relays that
    /// have it; and the relays that could not answer.
    pub(super) async fn query(
        &self,
        urls: &[String],
        filters: &[Value],
    ) -> (Vec<(Event, Vec<String>)>, Vec<(String, String)>) {
        self.calls.set(self.calls.get() + urls.len() as u64);
        let answers = join_all(urls.iter().map(|u| async move {
            let r = match self.relay(u).await {
                Ok(r) => r.query(filters, self.timeout).await,
                Err(e) => Err(e),
            };
            (u.clone(), r)
        }))
        .await;
        let mut found: Vec<(Event, Vec<String>)> = Vec::new();
        let mut failed = Vec::new();
        for (url, r) in answers {
            match r {
                Ok(events) => {
                    for e in events.iter().filter_map(event::parse_verified) {
                        match found.iter_mut().find(|(f, _)| f.id == e.id) {
                            Some((_, on)) => on.push(url.clone()),
                            None => found.push((e, vec![url.clone()])),
                        }
                    }
                }
                Err(e) => failed.push((url, e)),
            }
        }
        (found, failed)
    }
}

/// An event and the relays that have it.
type Held = (Event, Vec<String>);

struct NostrSession {
    signer: Signer,
    me: String,
    relays: Vec<String>,
    pool: Pool,
    link_template: String,
    /// Ids recorded by the repository's posts: never adopted for another post.
    recorded: HashSet<String>,
    /// The account's recent events (read once, deleted ones left out), and the ids this
    /// run used.
    recent: OnceCell<RefCell<Vec<Held>>>,
    /// The time of the account's latest deletion seen with them: a new note is dated after
    /// it (a note sent again in the same second would have the deleted one's id).
    last_deletion: Cell<u64>,
    used: RefCell<HashSet<String>>,
}

pub(super) async fn connect(cx: &ConnectContext<'_>) -> Result<Box<dyn Session>, Failure> {
    let fatal = |m: String| Failure { fatal: Some(m.clone()), ..Failure::new(m) };
    let secret = cx.env.get("NOSTR_SECRET_KEY").ok_or_else(|| fatal("NOSTR_SECRET_KEY is not set".into()))?;
    let signer = Signer::parse(secret).map_err(fatal)?;
    let relays = super::relays(cx.env, &cx.project.config).map_err(fatal)?;
    let me = signer.public_key().to_hex();
    Ok(Box::new(NostrSession {
        signer,
        me,
        pool: Pool::new(&relays, cx.http.request_timeout),
        relays,
        link_template: super::link_template(&cx.project.config),
        recorded: cx.recorded_ids.clone(),
        recent: OnceCell::new(),
        last_deletion: Cell::new(0),
        used: RefCell::new(HashSet::new()),
    }))
}

fn output<'a>(job: &'a Job<'_>) -> Result<&'a NostrOutput, Failure> {
    rendered_as(job.rendered, "a Nostr")
}

fn unix(rfc3339: &str) -> u64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339).map(|t| t.timestamp().max(0) as u64).unwrap_or(0)
}

fn rfc3339(unix: u64) -> String {
    chrono::DateTime::from_timestamp(unix as i64, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The ids the deletions (kind 5) name in their `e` tags.
fn deleted_ids(deletions: &[Held]) -> HashSet<String> {
    deletions
        .iter()
        .flat_map(|(e, _)| e.tags.iter().map(|t| t.as_slice()))
        .filter(|t| t.first().is_some_and(|n| n == "e"))
        .filter_map(|t| t.get(1).cloned())
        .collect()
}

/// One relay's answer, for a message.
fn said(url: &str, sent: &Sent) -> String {
    match sent {
        Sent::Stored => format!("{url} stored it"),
        Sent::Refused { prefix, message } => format!("{url} refused it: {message} ({})", Sent::hint(prefix)),
        Sent::NoAnswer => format!("{url} did not answer (it may have stored it)"),
        Sent::Unreachable(e) => format!("{url}: {e}"),
    }
}

impl NostrSession {
    /// The account's notes and articles of the last [`LOOKBACK_SECS`] on every relay.
    async fn recent(&self, now: u64) -> &RefCell<Vec<Held>> {
        self.recent
            .get_or_init(|| async {
                let since = now.saturating_sub(LOOKBACK_SECS);
                let filter = json!({"authors": [self.me], "kinds": [event::NOTE, event::ARTICLE], "since": since});
                // A deleted event is never sent again as this run's (a relay that ignores
                // NIP-09 still has it; the others would answer "duplicate" and keep it hidden).
                let deletions = json!({"authors": [self.me], "kinds": [event::DELETION], "since": since});
                let (found, _) = self.pool.query(&self.relays, &[filter, deletions]).await;
                let (deletions, events): (Vec<Held>, Vec<Held>) =
                    found.into_iter().partition(|(e, _)| e.kind.as_u16() == event::DELETION);
                let gone = deleted_ids(&deletions);
                self.last_deletion.set(deletions.iter().map(|(e, _)| e.created_at.as_secs()).max().unwrap_or(0));
                RefCell::new(events.into_iter().filter(|(e, _)| !gone.contains(&e.id.to_hex())).collect())
            })
            .await
    }

    /// An event an interrupted run sent for `draft` (not recorded, not used in this run),
    /// and the relays that have it.
    async fn sent_before(&self, draft: &Draft, now: u64) -> Option<(Event, Vec<String>)> {
        let recent = self.recent(now).await.borrow();
        let used = self.used.borrow();
        recent
            .iter()
            .filter(|(e, _)| e.pubkey.to_hex() == self.me)
            .find(|(e, _)| {
                let id = e.id.to_hex();
                draft.matches(e, DATED_TAGS) && !self.recorded.contains(&id) && !used.contains(&id)
            })
            .cloned()
    }

    /// Sends `event` to the configured relays that do not have it yet; the relays that
    /// hold it after, or why none does.
    async fn deliver(&self, event: &Event, had: Vec<String>, progress: &dyn Fn(&str)) -> Result<Vec<String>, String> {
        let targets: Vec<String> = self.relays.iter().filter(|r| !had.contains(r)).cloned().collect();
        let results = self.pool.send(event, &targets).await;
        let mut holders = had;
        let mut trouble = Vec::new();
        for (url, sent) in &results {
            match sent {
                Sent::Stored => holders.push(url.clone()),
                other => trouble.push(said(url, other)),
            }
        }
        let id = event.id.to_hex();
        self.used.borrow_mut().insert(id.clone());
        if holders.is_empty() {
            let lost = results.iter().any(|(_, s)| *s == Sent::NoAnswer);
            let then = if lost {
                "; the next `crier publish` looks for it on the relays before sending anything again"
            } else {
                ""
            };
            return Err(format!("no relay accepted event {id}: {}{then}", trouble.join("; ")));
        }
        for t in trouble {
            progress(&format!("{t}; the next `crier publish` sends the same event there again"));
        }
        holders.sort_by_key(|h| self.relays.iter().position(|r| r == h).unwrap_or(usize::MAX));
        Ok(holders)
    }

    fn note_url(&self, id: &str, relays: &[String]) -> String {
        let nip19 = event::nevent(id, &self.signer.public_key(), relays).unwrap_or_else(|| id.to_owned());
        event::link(&self.link_template, &nip19, id)
    }

    fn article_url(&self, d: &str, id: &str, relays: &[String]) -> String {
        let nip19 = event::naddr(d, &self.signer.public_key(), relays).unwrap_or_else(|| id.to_owned());
        event::link(&self.link_template, &nip19, id)
    }

    /// The newest version of the account's article `d` on the relays.
    async fn article(&self, d: &str, on: &[String]) -> Option<(Event, Vec<String>)> {
        self.article_and_deletion(d, on).await.0
    }

    /// The newest version of article `d` on `on`, and the time of the newest deletion of it
    /// (NIP-09 by address or by that version's id), if any.
    async fn article_and_deletion(&self, d: &str, on: &[String]) -> (Option<Held>, Option<u64>) {
        let address = format!("{}:{}:{d}", event::ARTICLE, self.me);
        let filter = json!({"authors": [self.me], "kinds": [event::ARTICLE], "#d": [d]});
        let deletions = json!({"authors": [self.me], "kinds": [event::DELETION], "#a": [address]});
        let (found, _) = self.pool.query(on, &[filter, deletions]).await;
        let (deletions, versions): (Vec<Held>, Vec<Held>) =
            found.into_iter().partition(|(e, _)| e.kind.as_u16() == event::DELETION);
        let newest =
            versions.into_iter().max_by_key(|(e, _)| (e.created_at.as_secs(), std::cmp::Reverse(e.id.to_hex())));
        let deleted_at = deletions.iter().map(|(e, _)| e.created_at.as_secs()).max();
        (newest, deleted_at)
    }

    /// Publishes (or edits, given the previous record) the article of `out`.
    async fn put_article(
        &self,
        job: &Job<'_>,
        out: &NostrOutput,
        previous: Option<&Record>,
    ) -> Result<Record, Failure> {
        let now = unix(job.now);
        let d = previous.and_then(|p| p.d.clone()).unwrap_or_else(|| job.post.slug.clone());
        let (newest, deleted_at) = self.article_and_deletion(&d, &self.relays).await;
        // A deletion takes down every version up to its time (NIP-09): such a version is
        // not this run's to reuse, and a new one must be later than the deletion.
        let after_deletion = deleted_at.map_or(0, |t| t + 1);
        let floor = newest.as_ref().map_or(0, |(e, _)| e.created_at.as_secs() + 1).max(after_deletion);
        let live = newest.filter(|(e, _)| e.created_at.as_secs() >= after_deletion);
        // The first publication's time, kept on edits (and from an interrupted run's event).
        let first = previous
            .map(|p| unix(&p.published_at))
            .or_else(|| live.as_ref().and_then(|(e, _)| event::tag_value(e, "published_at")?.parse().ok()))
            .unwrap_or(now);
        let tags = event::article_tags(
            &d,
            out.title.as_deref().unwrap_or(""),
            out.summary.as_deref(),
            out.image.as_deref(),
            first,
            &out.tags,
        );
        let draft = Draft::new(event::ARTICLE, tags, out.parts[0].content.clone());
        let (ev, had) = match live {
            // This version is out already (an edit or a first publication whose `OK` was lost).
            Some((e, on)) if draft.matches(&e, &[]) && !self.recorded.contains(&e.id.to_hex()) => (e, on),
            Some((e, on)) if previous.is_some_and(|p| p.id == e.id.to_hex()) && draft.matches(&e, &[]) => (e, on),
            // Relays keep the newest version: this one must be later than what is there.
            _ => (self.signer.sign(&draft, now.max(floor)), Vec::new()),
        };
        let relays = self.deliver(&ev, had, job.progress).await.map_err(Failure::new)?;
        let id = ev.id.to_hex();
        Ok(Record {
            url: self.article_url(&d, &id, &relays),
            id,
            cid: None,
            relays,
            published_at: rfc3339(first),
            hash: job.hash.to_owned(),
            parts: Vec::new(),
            d: Some(d),
            deleted_at: None,
        })
    }

    async fn put_notes(&self, job: &Job<'_>, out: &NostrOutput) -> Result<Record, Failure> {
        let now = unix(job.now);
        // Notes link media by URL (NIP-92): a local file needs a public one.
        if let Some(m) = out.parts.iter().flat_map(|p| &p.media).find(|m| m.url.is_none()) {
            return Err(Failure::new(format!(
                "no public URL for {}: set media.base_url in crier.yaml (Nostr notes link media by URL), or publish from GitHub Actions",
                m.path.as_deref().unwrap_or("a media file")
            )));
        }
        let mut ids: Vec<String> = Vec::new();
        let mut holders: Option<Vec<String>> = None;
        let mut first_at = now;
        for (i, part) in out.parts.iter().enumerate() {
            let mut tags = Vec::new();
            if i > 0 {
                tags.extend(event::reply_tags(&ids[0], &ids[i - 1], &self.me));
            }
            tags.extend(out.hashtags(i));
            tags.extend(out.imeta(i));
            let draft = Draft::new(event::NOTE, tags, part.content.clone());
            let (ev, had) = match self.sent_before(&draft, now).await {
                Some(found) => found,
                None => (self.signer.sign(&draft, now.max(self.last_deletion.get() + 1)), Vec::new()),
            };
            if out.parts.len() > 1 {
                (job.progress)(&format!("note {}/{}", i + 1, out.parts.len()));
            }
            let on = self.deliver(&ev, had, job.progress).await.map_err(|message| Failure {
                message,
                published_parts: i,
                ..Failure::default()
            })?;
            if i == 0 {
                first_at = ev.created_at.as_secs();
            }
            holders = Some(match holders {
                None => on,
                Some(h) => h.into_iter().filter(|r| on.contains(r)).collect(),
            });
            ids.push(ev.id.to_hex());
        }
        let relays = holders.unwrap_or_default();
        let parts = if ids.len() > 1 {
            ids.iter().map(|id| PartRecord { id: id.clone(), url: self.note_url(id, &relays), cid: None }).collect()
        } else {
            Vec::new()
        };
        Ok(Record {
            url: self.note_url(&ids[0], &relays),
            id: ids[0].clone(),
            cid: None,
            relays,
            published_at: rfc3339(first_at),
            hash: job.hash.to_owned(),
            parts,
            d: None,
            deleted_at: None,
        })
    }

    /// Sends the recorded events, unchanged (same ids), to the configured relays missing
    /// from the record.
    async fn complete(&self, job: &Job<'_>, previous: &Record) -> Result<Record, Failure> {
        let ids: Vec<String> = if previous.parts.is_empty() {
            vec![previous.id.clone()]
        } else {
            previous.parts.iter().map(|p| p.id.clone()).collect()
        };
        let (found, _) = self.pool.query(&self.holders(previous), &[json!({"ids": ids})]).await;
        let missing: Vec<String> = self.relays.iter().filter(|r| !previous.relays.contains(r)).cloned().collect();
        let mut now_on: Option<Vec<String>> = None;
        for id in &ids {
            let Some((ev, _)) = found.iter().find(|(e, _)| e.id.to_hex() == *id) else {
                return Err(Failure::new(format!(
                    "event {id} is on none of the relays in the record ({}): it cannot be sent to the others",
                    previous.relays.join(", ")
                )));
            };
            let results = self.pool.send(ev, &missing).await;
            let stored: Vec<String> =
                results.iter().filter(|(_, s)| *s == Sent::Stored).map(|(u, _)| u.clone()).collect();
            for (u, s) in results.iter().filter(|(_, s)| *s != Sent::Stored) {
                (job.progress)(&said(u, s));
            }
            now_on = Some(match now_on {
                None => stored,
                Some(prev) => prev.into_iter().filter(|r| stored.contains(r)).collect(),
            });
        }
        let mut relays = previous.relays.clone();
        relays.extend(now_on.unwrap_or_default());
        if relays.len() == previous.relays.len() {
            return Err(Failure::new(format!("no relay of {} took the post's events", missing.join(", "))));
        }
        relays.sort_by_key(|h| self.relays.iter().position(|r| r == h).unwrap_or(usize::MAX));
        Ok(Record { relays, ..previous.clone() })
    }

    /// The relays to ask about a recorded post: those recorded, else all configured.
    fn holders(&self, record: &Record) -> Vec<String> {
        if record.relays.is_empty() { self.relays.clone() } else { record.relays.clone() }
    }
}

#[async_trait::async_trait(?Send)]
impl Session for NostrSession {
    async fn publish(&self, job: &Job<'_>) -> Result<Record, Failure> {
        let out = output(job)?;
        let result = match out.kind {
            NostrKind::Article => self.put_article(job, out, None).await,
            NostrKind::Note => self.put_notes(job, out).await,
        };
        // Every event of this post went out: the next post may start while this one's
        // record is written.
        (job.ordered_done)();
        result
    }

    async fn update(&self, job: &Job<'_>, previous: &Record) -> Result<Record, Failure> {
        let out = output(job)?;
        if previous.hash == job.hash {
            return self.complete(job, previous).await;
        }
        match out.kind {
            NostrKind::Article => self.put_article(job, out, Some(previous)).await,
            NostrKind::Note => Err(Failure::new(
                "Nostr notes cannot be edited: the note is left as published (remove `published.nostr` to publish the changed text as a new note)",
            )),
        }
    }

    async fn delete(&self, target: &Recorded<'_>) -> Result<Deletion, Failure> {
        let ids = target.part_ids();
        let kind = if target.record.d.is_some() { event::ARTICLE } else { event::NOTE };
        let draft = event::deletion(&ids, kind, &self.me, target.record.d.as_deref());
        let holders = self.holders(target.record);
        // A deletion sent before (a rerun after a lost reply) is sent again as is.
        let (found, _) = self
            .pool
            .query(&holders, &[json!({"authors": [self.me], "kinds": [event::DELETION], "#e": [ids[0]]})])
            .await;
        let ev = found
            .into_iter()
            .map(|(e, _)| e)
            .find(|e| draft.matches(e, &[]))
            .unwrap_or_else(|| self.signer.sign(&draft, unix(&chrono::Utc::now().to_rfc3339())));
        let results = self.pool.send(&ev, &holders).await;
        let refused: Vec<String> =
            results.iter().filter(|(_, s)| *s != Sent::Stored).map(|(u, s)| said(u, s)).collect();
        if !refused.is_empty() {
            return Err(Failure::new(format!(
                "the deletion request {} was not accepted everywhere: {}; run `crier delete` again",
                ev.id.to_hex(),
                refused.join("; ")
            )));
        }
        Ok(Deletion {
            deleted: ids.len(),
            already_gone: 0,
            note: Some("Nostr deletion is a request (NIP-09): relays that honour it stop serving the post".to_owned()),
        })
    }

    async fn inspect(&self, target: &Recorded<'_>) -> Result<Remote, Failure> {
        let ids = target.part_ids();
        let holders = self.holders(target.record);
        if let Some(d) = &target.record.d {
            return Ok(match self.article(d, &holders).await {
                None => Remote::Gone("the article is no longer on its relays".to_owned()),
                Some((e, _)) if e.id.to_hex() == target.record.id => Remote::Same,
                Some((e, _)) => Remote::Edited(format!(
                    "a newer version of the article ({}) replaced the recorded one",
                    e.id.to_hex()
                )),
            });
        }
        let (found, failed) = self.pool.query(&holders, &[json!({"ids": ids})]).await;
        if found.is_empty() && failed.len() == holders.len() {
            let why: Vec<String> = failed.iter().map(|(u, e)| format!("{u}: {e}")).collect();
            return Ok(Remote::Unchecked(format!("no relay answered: {}", why.join("; "))));
        }
        let gone: Vec<usize> = ids
            .iter()
            .enumerate()
            .filter(|(_, id)| !found.iter().any(|(e, _)| e.id.to_hex() == **id))
            .map(|(i, _)| i + 1)
            .collect();
        let nouns = PostNouns { one: "the note", part: "note", parts: "notes", place: "on its relays" };
        Ok(Remote::found(ids.len(), &gone, &[], &nouns))
    }

    async fn stats(&self, targets: &[Recorded<'_>]) -> Result<Vec<Engagement>, Failure> {
        let mut out = Vec::with_capacity(targets.len());
        for t in targets {
            let ids: Vec<String> = t.part_ids().iter().map(|s| (*s).to_owned()).collect();
            let holders = self.holders(t.record);
            let filters = [json!({"kinds": [event::REACTION, event::REPOST, event::NOTE], "#e": ids})];
            let (found, failed) = self.pool.query(&holders, &filters).await;
            if found.is_empty() && !failed.is_empty() && failed.len() == holders.len() {
                let why: Vec<String> = failed.iter().map(|(u, e)| format!("{u}: {e}")).collect();
                out.push(Err(format!("no relay answered: {}", why.join("; "))));
                continue;
            }
            out.push(Ok(ids.iter().map(|id| engagement(id, &ids, &found)).collect()));
        }
        Ok(out)
    }

    fn calls(&self) -> u64 {
        self.pool.calls.get()
    }
}

/// Likes (NIP-25 reactions but `-`), reposts (NIP-18) and replies (notes whose last `e`
/// tag, or `reply`/`root` marker, names the part; the chain's own parts do not count) of
/// one part, each event counted once however many relays had it.
fn engagement(id: &str, own: &[String], found: &[(Event, Vec<String>)]) -> Metrics {
    let (mut likes, mut reposts, mut replies) = (0, 0, 0);
    for (e, _) in found {
        if own.contains(&e.id.to_hex()) {
            continue;
        }
        let es: Vec<&[String]> =
            e.tags.iter().map(|t| t.as_slice()).filter(|t| t.first().is_some_and(|n| n == "e")).collect();
        let target = match e.kind.as_u16() {
            event::NOTE => es
                .iter()
                .find(|t| t.get(3).is_some_and(|m| m == "reply"))
                .or_else(|| es.iter().find(|t| t.get(3).is_some_and(|m| m == "root")))
                .or(es.last()),
            _ => es.last(),
        };
        if target.and_then(|t| t.get(1)).is_none_or(|t| t != id) {
            continue;
        }
        match e.kind.as_u16() {
            event::REACTION if e.content.trim() != "-" => likes += 1,
            event::REPOST => reposts += 1,
            event::NOTE => replies += 1,
            _ => {}
        }
    }
    Metrics::default()
        .with(Metric::Likes, Some(likes))
        .with(Metric::Reposts, Some(reposts))
        .with(Metric::Replies, Some(replies))
}
