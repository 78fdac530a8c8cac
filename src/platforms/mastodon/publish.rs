//! Publishing a rendered post to Mastodon exactly once, and editing it in place.
//!
//! Before anything is sent, the post is checked against the instance's real
//! limits (read once per run from `GET /api/v2/instance`), so a post the
//! instance would refuse fails with a diagnostic pointing into the file, not
//! with an HTTP 422.
//!
//! Exactly once, in two layers:
//! - every create carries an `Idempotency-Key` derived from the post's path,
//!   the part's position and what is sent (stable across reruns and clones);
//!   Mastodon answers a repeated key with the status it already made, for an
//!   hour;
//! - keys expire and some servers ignore them (GoToSocial), so before the
//!   first create of a run crier lists the account's recent statuses once
//!   (`verify_credentials`, then `GET /api/v1/accounts/:id/statuses`) and
//!   adopts a status that is this part: the same text (servers return HTML,
//!   so the HTML is turned back into text and compared with what crier
//!   sent), the same content warning and alt texts, and for a later part of a
//!   chain a reply to the part before. A create whose reply is lost is
//!   resolved the same way, listing again; when the status is not there, the
//!   post fails as "ambiguous" instead of being sent again, and the next run
//!   reconciles. Statuses recorded by any file of the repository (or made by
//!   this run) are never adopted.
//!
//! A chain that failed at part k resumes at part k: the parts before are
//! found on the account and adopted.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use secrecy::SecretString;
use sha2::{Digest, Sha256};
use url::Url;

use super::api::{
    Account, Attachment, ClientOptions, Instance, MAX_PAGE, MastodonClient, MastodonError, MediaAttribute, NewStatus,
    OnWait, Status, StatusEdit, Upload,
};
use super::rules::{self, Limits};
use super::{MastodonOutput, MastodonPart, html};
use crate::content::Post;
use crate::diag::Diagnostic;
use crate::ledger::{PartRecord, Record};
use crate::platforms::Adoption;
use crate::platforms::parts;
pub use crate::platforms::parts::PublishFailure;
use crate::rules::media::MediaRef;

/// Tunables (tests make them small).
#[derive(Debug, Clone, Copy)]
pub struct PublishOptions {
    pub client: ClientOptions,
    /// Page size when listing the account's statuses (1..=40).
    pub list_page: u32,
    /// At most this many pages are listed for reconciliation.
    pub max_list_pages: u32,
}

impl Default for PublishOptions {
    fn default() -> Self {
        Self { client: ClientOptions::default(), list_page: MAX_PAGE, max_list_pages: 5 }
    }
}

/// A failure to read the account's statuses: without them nothing can be
/// posted safely, and a token lacking `read:statuses` fails every post alike.
fn listing_failure(e: MastodonError) -> PublishFailure {
    if e.status() == Some(403) {
        return PublishFailure {
            fatal: true,
            ..PublishFailure::new(format!(
                "{e}; crier reads the account's own statuses to make sure nothing is posted twice, so the token also needs `read:statuses`: create a new one with `{}`",
                super::api::SCOPES
            ))
        };
    }
    e.into()
}

impl From<MastodonError> for PublishFailure {
    fn from(e: MastodonError) -> Self {
        Self { fatal: e.is_fatal(), ambiguous: e.is_ambiguous(), ..Self::new(e.to_string()) }
    }
}

/// What a step reports, for progress display.
pub type Progress<'a> = &'a dyn Fn(&str);

pub struct MastodonPublisher {
    client: MastodonClient,
    opts: PublishOptions,
    /// The instance and its limits, read once.
    instance: Option<(Instance, Limits)>,
    account: Option<Account>,
    /// The account's recent statuses, listed once per run (newest first).
    mine: Option<Vec<Status>>,
    /// Status ids recorded in the repository or made by this run: never adopted.
    known: HashSet<String>,
    /// Media uploaded ahead by a [`Preparer`], by [`media_key`]; each is used once.
    prepared: Prepared,
}

/// Attachments uploaded ahead of their post, shared with the [`Preparer`].
type Prepared = Arc<Mutex<HashMap<String, String>>>;

/// Uploads the media of coming posts while earlier ones are published. An
/// upload that is never attached is harmless: servers delete unattached media.
#[derive(Clone)]
pub struct Preparer {
    client: MastodonClient,
    prepared: Prepared,
}

impl Preparer {
    /// Uploads every medium of `out` not uploaded yet (errors are left for `publish`).
    pub async fn prepare(&self, out: &MastodonOutput) {
        let wanted: Vec<&MediaRef> = {
            let mut prepared = lock(&self.prepared);
            let mut wanted = Vec::new();
            for m in out.parts.iter().flat_map(|p| &p.media) {
                if let std::collections::hash_map::Entry::Vacant(e) = prepared.entry(media_key(m)) {
                    // In flight: `publish` waits for it instead of uploading it again.
                    e.insert(String::new());
                    wanted.push(m);
                }
            }
            wanted
        };
        let results = match read_uploads(&wanted) {
            Ok(uploads) => {
                let quiet = |_: Duration| {};
                join_all(uploads.iter().map(|u| self.client.upload_media(u, &quiet)).collect()).await
            }
            Err(_) => Vec::new(),
        };
        let mut prepared = lock(&self.prepared);
        for (i, m) in wanted.iter().enumerate() {
            match results.get(i) {
                Some(Ok(a)) => prepared.insert(media_key(m), a.id.clone()),
                // Left to `publish`, which reports the error.
                _ => prepared.remove(&media_key(m)),
            };
        }
    }
}

fn lock(p: &Prepared) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
    p.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What identifies an upload: the file and its alt text.
fn media_key(m: &MediaRef) -> String {
    format!("{}\0{}", m.path.as_deref().unwrap_or(""), m.alt.as_deref().unwrap_or(""))
}

fn read_uploads(media: &[&MediaRef]) -> Result<Vec<Upload>, PublishFailure> {
    media.iter().map(|m| Upload::read(m, "Mastodon").map_err(PublishFailure::new)).collect()
}

impl MastodonPublisher {
    pub fn new(instance: Url, token: SecretString, opts: PublishOptions) -> Self {
        Self {
            client: MastodonClient::new(instance, token, opts.client),
            opts,
            instance: None,
            account: None,
            mine: None,
            known: HashSet::new(),
            prepared: Prepared::default(),
        }
    }

    /// A handle that uploads media ahead (see [`Preparer`]).
    pub fn preparer(&self) -> Preparer {
        Preparer { client: self.client.clone(), prepared: self.prepared.clone() }
    }

    /// Ids already recorded by posts of the repository (parts included).
    pub fn exclude(&mut self, ids: impl IntoIterator<Item = String>) {
        self.known.extend(ids.into_iter().map(|id| id.trim().to_owned()).filter(|id| !id.is_empty()));
    }

    /// HTTP requests sent so far.
    pub fn calls(&self) -> u64 {
        self.client.calls()
    }

    pub fn client(&self) -> &MastodonClient {
        &self.client
    }

    /// The instance's limits (read on first use).
    pub async fn limits(&mut self, on_wait: OnWait<'_>) -> Result<Limits, MastodonError> {
        if self.instance.is_none() {
            let instance = self.client.instance(on_wait).await?;
            let limits = instance.limits(&self.client.host());
            self.instance = Some((instance, limits));
        }
        Ok(self.instance.as_ref().map(|(_, l)| l.clone()).unwrap_or_default())
    }

    /// The token's account and the instance (for `doctor`).
    pub async fn whoami(&mut self, on_wait: OnWait<'_>) -> Result<(Account, Instance), MastodonError> {
        let account = self.account(on_wait).await?;
        self.limits(on_wait).await?;
        let instance = self.instance.as_ref().map(|(i, _)| i.clone()).unwrap_or_default();
        Ok((account, instance))
    }

    async fn account(&mut self, on_wait: OnWait<'_>) -> Result<Account, MastodonError> {
        if self.account.is_none() {
            self.account = Some(self.client.verify_credentials(on_wait).await?);
        }
        Ok(self.account.clone().expect("set above"))
    }

    /// Refuses, before sending anything, a post the instance would refuse.
    async fn check_limits(
        &mut self,
        post: &Post,
        out: &MastodonOutput,
        on_wait: OnWait<'_>,
    ) -> Result<(), PublishFailure> {
        let limits = self.limits(on_wait).await?;
        let errors: Vec<Diagnostic> =
            rules::validate(post, out, &limits).into_iter().filter(Diagnostic::is_error).collect();
        if errors.is_empty() {
            return Ok(());
        }
        let lines: Vec<String> =
            errors.iter().map(|d| format!("{}:{}:{}: {} [{}]", d.file, d.line, d.column, d.message, d.code)).collect();
        Err(PublishFailure {
            diagnostics: errors,
            ..PublishFailure::new(format!(
                "{} would refuse this post, so nothing was sent:\n  {}",
                self.client.host(),
                lines.join("\n  ")
            ))
        })
    }

    /// Publishes `out` (adopting what an interrupted earlier run made) and
    /// returns the record to write back.
    pub async fn publish(
        &mut self,
        post: &Post,
        out: &MastodonOutput,
        hash: &str,
        now: &str,
        progress: Progress<'_>,
        on_wait: OnWait<'_>,
    ) -> Result<Record, PublishFailure> {
        self.check_limits(post, out, on_wait).await?;
        let n = out.parts.len();
        let mut made: Vec<Status> = Vec::with_capacity(n);
        for (i, part) in out.parts.iter().enumerate() {
            let reply_to = made.last().map(|s| s.id.clone());
            let fail = |e: PublishFailure| PublishFailure { published_parts: i, ..e };
            if let Some(found) = self
                .find_existing(out, part, reply_to.as_deref(), on_wait)
                .await
                .map_err(|e| fail(listing_failure(e)))?
            {
                progress(&if n > 1 {
                    format!(
                        "status {} of {n} is already on the instance (an earlier run was interrupted): recording it",
                        i + 1
                    )
                } else {
                    "already on the instance (an earlier run was interrupted): recording it".to_owned()
                });
                self.known.insert(found.id.clone());
                made.push(found);
                continue;
            }
            if n > 1 {
                progress(&format!("status {} of {n}", i + 1));
            }
            let media_ids = self.upload_all(&part.media, on_wait).await.map_err(fail)?;
            let input = NewStatus {
                status: part.text.clone(),
                media_ids,
                in_reply_to_id: reply_to.clone(),
                sensitive: out.sensitive,
                spoiler_text: out.spoiler_text.clone(),
                visibility: out.visibility.clone(),
                language: out.language.clone(),
            };
            let key = idempotency_key(&post.path, i, out, part);
            let status = match self.client.create_status(&input, &key, on_wait).await {
                Ok(s) => s,
                Err(MastodonError::Ambiguous { operation, message }) => {
                    progress("the reply was lost: checking whether the status was created");
                    // The cached list predates the create.
                    self.mine = None;
                    match self
                        .find_existing(out, part, reply_to.as_deref(), on_wait)
                        .await
                        .map_err(|e| fail(listing_failure(e)))?
                    {
                        Some(found) => found,
                        None => {
                            return Err(fail(PublishFailure {
                                ambiguous: true,
                                ..PublishFailure::new(format!(
                                    "{}; it is not among the account's statuses yet, so crier did not send it again: run publish again to check and finish",
                                    MastodonError::Ambiguous { operation, message }
                                ))
                            }));
                        }
                    }
                }
                Err(e) => return Err(fail(e.into())),
            };
            self.known.insert(status.id.clone());
            made.push(status);
        }
        Ok(record(&made, now, hash))
    }

    /// Edits the recorded statuses whose text, content warning, alt text or
    /// media changed (`PUT`, one per changed part) and returns the record with
    /// the new hash. A chain whose number of parts changed is left alone.
    pub async fn update(
        &mut self,
        post: &Post,
        out: &MastodonOutput,
        previous: &Record,
        hash: &str,
        progress: Progress<'_>,
        on_wait: OnWait<'_>,
    ) -> Result<Record, PublishFailure> {
        let ids: Vec<String> = if previous.parts.is_empty() {
            vec![previous.id.clone()]
        } else {
            previous.parts.iter().map(|p| p.id.clone()).collect()
        };
        if ids.len() != out.parts.len() {
            return Err(PublishFailure::new(format!(
                "the post now makes {} status{} but {} {} published; Mastodon can edit a status but not add one to or remove one from a chain, so crier leaves it as it is (delete `published.mastodon` to publish it again as a new chain)",
                out.parts.len(),
                if out.parts.len() == 1 { "" } else { "es" },
                ids.len(),
                if ids.len() == 1 { "was" } else { "were" },
            )));
        }
        self.check_limits(post, out, on_wait).await?;
        let mut links: Vec<String> = Vec::with_capacity(ids.len());
        for (i, (id, part)) in ids.iter().zip(&out.parts).enumerate() {
            let current = match self.client.get_status(id, on_wait).await {
                Ok(s) => s,
                Err(MastodonError::Rejected { status: 404, .. }) => {
                    return Err(PublishFailure::new(format!(
                        "status {id} was not found on {}; if it was deleted, remove `published.mastodon` from the post to publish it again",
                        self.client.host()
                    )));
                }
                Err(e) => return Err(e.into()),
            };
            let media_same = same_media(&current.media_attachments, &part.media);
            if html::same_text(&current.content, &part.text)
                && current.spoiler_text.trim() == out.spoiler_text.as_deref().unwrap_or("")
                && current.sensitive == out.sensitive
                && (out.language.is_none() || current.language == out.language)
                && media_same == MediaDiff::Same
            {
                links.push(current.link());
                continue;
            }
            progress(&if ids.len() > 1 {
                format!("editing status {} of {}", i + 1, ids.len())
            } else {
                "editing the status".to_owned()
            });
            let (media_ids, media_attributes) = match media_same {
                MediaDiff::Same => (current.media_attachments.iter().map(|a| a.id.clone()).collect(), Vec::new()),
                MediaDiff::Descriptions => (
                    current.media_attachments.iter().map(|a| a.id.clone()).collect(),
                    current
                        .media_attachments
                        .iter()
                        .zip(&part.media)
                        .map(|(a, m)| MediaAttribute {
                            id: a.id.clone(),
                            description: m.alt.clone().unwrap_or_default(),
                        })
                        .collect(),
                ),
                MediaDiff::Files => (self.upload_all(&part.media, on_wait).await?, Vec::new()),
            };
            let edit = StatusEdit {
                status: part.text.clone(),
                spoiler_text: out.spoiler_text.clone().unwrap_or_default(),
                sensitive: out.sensitive,
                language: out.language.clone(),
                media_ids,
                media_attributes,
            };
            let edited = self.client.edit_status(id, &edit, on_wait).await?;
            links.push(edited.link());
        }
        let url_of = |i: usize, fallback: &str| {
            links.get(i).filter(|u| !u.is_empty()).cloned().unwrap_or_else(|| fallback.to_owned())
        };
        Ok(Record {
            relays: Vec::new(),
            d: None,
            id: previous.id.clone(),
            url: url_of(0, &previous.url),
            cid: None,
            published_at: previous.published_at.clone(),
            hash: hash.to_owned(),
            parts: previous
                .parts
                .iter()
                .enumerate()
                .map(|(i, p)| PartRecord { id: p.id.clone(), url: url_of(i, &p.url), cid: None })
                .collect(),
            deleted_at: None,
        })
    }

    /// Uploads a part's media side by side, in order, with their alt texts
    /// (taking what a [`Preparer`] uploaded ahead).
    async fn upload_all(&self, media: &[MediaRef], on_wait: OnWait<'_>) -> Result<Vec<String>, PublishFailure> {
        // Wait for uploads a `Preparer` has in flight (bounded by the processing timeout).
        let deadline = tokio::time::Instant::now() + self.opts.client.processing_timeout;
        while media.iter().any(|m| lock(&self.prepared).get(&media_key(m)).is_some_and(String::is_empty))
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let mut ids: Vec<Option<String>> = {
            let mut prepared = lock(&self.prepared);
            media.iter().map(|m| prepared.remove(&media_key(m)).filter(|id| !id.is_empty())).collect()
        };
        let missing: Vec<&MediaRef> = media.iter().zip(&ids).filter(|(_, id)| id.is_none()).map(|(m, _)| m).collect();
        let uploads = read_uploads(&missing)?;
        let client = &self.client;
        let results = join_all(uploads.iter().map(|u| client.upload_media(u, on_wait)).collect()).await;
        let mut fresh = results.into_iter();
        for id in ids.iter_mut().filter(|id| id.is_none()) {
            let r: Result<Attachment, MastodonError> = fresh.next().unwrap_or_else(|| {
                Err(MastodonError::Processing { message: "internal: an upload went missing".into() })
            });
            *id = Some(r.map_err(PublishFailure::from)?.id);
        }
        Ok(ids.into_iter().flatten().collect())
    }

    /// `crier adopt`: the post's statuses on the account, found the way
    /// [`Self::publish`] reconciles, as a record; nothing is posted or changed.
    /// `incomplete` (a record with an id but no URL) names the first status.
    pub async fn adopt(
        &mut self,
        out: &MastodonOutput,
        hash: &str,
        now: &str,
        incomplete: Option<&Record>,
        on_wait: OnWait<'_>,
    ) -> Result<Adoption, PublishFailure> {
        let n = out.parts.len();
        let mut made: Vec<Status> = Vec::with_capacity(n);
        if let Some(rec) = incomplete {
            match self.client.get_status(rec.id.trim(), on_wait).await {
                Ok(s) => made.push(s),
                Err(MastodonError::Rejected { status: 404, .. }) => return Ok(Adoption::NotFound),
                Err(e) => return Err(e.into()),
            }
        }
        while made.len() < n {
            let i = made.len();
            let reply_to = made.last().map(|s| s.id.clone());
            let found =
                self.candidates(out, &out.parts[i], reply_to.as_deref(), on_wait).await.map_err(listing_failure)?;
            match parts::adopt_candidate((i, n), &found, Status::link, "statuses", "on the instance") {
                Ok(first) => {
                    self.known.insert(first.id.clone());
                    made.push(first.clone());
                }
                Err(verdict) => return Ok(verdict),
            }
        }
        let mut rec = record(&made, now, hash);
        if let Some(at) = made.first().map(|s| s.created_at.clone()).filter(|t| !t.is_empty()) {
            rec.published_at = at;
        }
        if let Some(prev) = incomplete.filter(|r| !r.published_at.is_empty()) {
            rec.published_at.clone_from(&prev.published_at);
        }
        Ok(Adoption::Found(rec))
    }

    /// A status on the account that is `part` (see the module docs).
    async fn find_existing(
        &mut self,
        out: &MastodonOutput,
        part: &MastodonPart,
        reply_to: Option<&str>,
        on_wait: OnWait<'_>,
    ) -> Result<Option<Status>, MastodonError> {
        Ok(self.candidates(out, part, reply_to, on_wait).await?.into_iter().next())
    }

    /// Every status on the account that is `part`, newest first.
    async fn candidates(
        &mut self,
        out: &MastodonOutput,
        part: &MastodonPart,
        reply_to: Option<&str>,
        on_wait: OnWait<'_>,
    ) -> Result<Vec<Status>, MastodonError> {
        if self.mine.is_none() {
            let account = self.account(on_wait).await?;
            let mut all: Vec<Status> = Vec::new();
            let mut max_id: Option<String> = None;
            for _ in 0..self.opts.max_list_pages.max(1) {
                let page =
                    self.client.account_statuses(&account.id, max_id.as_deref(), self.opts.list_page, on_wait).await?;
                let n = page.len();
                max_id = page.last().map(|s| s.id.clone());
                all.extend(page);
                if n < self.opts.list_page.clamp(1, MAX_PAGE) as usize || max_id.is_none() {
                    break;
                }
            }
            self.mine = Some(all);
        }
        let cw = out.spoiler_text.as_deref().unwrap_or("");
        let found = self.mine.as_deref().unwrap_or_default().iter().filter(|s| {
            !self.known.contains(&s.id)
                && s.reblog.is_none()
                && s.in_reply_to_id.as_deref() == reply_to
                && s.spoiler_text.trim() == cw
                && html::same_text(&s.content, &part.text)
                && same_media(&s.media_attachments, &part.media) == MediaDiff::Same
        });
        Ok(found.cloned().collect())
    }
}

#[derive(Debug, PartialEq, Eq)]
enum MediaDiff {
    Same,
    /// The same number of attachments, other alt texts.
    Descriptions,
    /// Another number of attachments.
    Files,
}

fn same_media(attached: &[Attachment], wanted: &[MediaRef]) -> MediaDiff {
    if attached.len() != wanted.len() {
        return MediaDiff::Files;
    }
    let same = attached
        .iter()
        .zip(wanted)
        .all(|(a, m)| a.description.as_deref().unwrap_or("").trim() == m.alt.as_deref().unwrap_or("").trim());
    if same { MediaDiff::Same } else { MediaDiff::Descriptions }
}

/// The `Idempotency-Key` of part `index` of the post at `path`: what identifies
/// the part (where it is) and what is sent, so a rerun or a fresh clone sends
/// the same key, and an edited part a new one.
pub fn idempotency_key(path: &str, index: usize, out: &MastodonOutput, part: &MastodonPart) -> String {
    let mut h = Sha256::new();
    for field in [
        "crier-mastodon-v1",
        path,
        &index.to_string(),
        &part.text,
        out.spoiler_text.as_deref().unwrap_or(""),
        &out.visibility,
    ] {
        h.update(field.as_bytes());
        h.update([0]);
    }
    for m in &part.media {
        h.update(m.path.as_deref().or(m.url.as_deref()).unwrap_or("").as_bytes());
        h.update([0]);
        h.update(m.alt.as_deref().unwrap_or("").as_bytes());
        h.update([0]);
    }
    let digest = h.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("crier-{}", &hex[..40])
}

fn record(made: &[Status], now: &str, hash: &str) -> Record {
    let first = &made[0];
    Record {
        relays: Vec::new(),
        d: None,
        id: first.id.clone(),
        url: first.link(),
        cid: None,
        published_at: now.to_owned(),
        hash: hash.to_owned(),
        parts: if made.len() > 1 {
            made.iter().map(|s| PartRecord { id: s.id.clone(), url: s.link(), cid: None }).collect()
        } else {
            Vec::new()
        },
        deleted_at: None,
    }
}

/// Runs futures side by side on the current task and returns their outputs in order.
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in futures.iter_mut().zip(outputs.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => *slot = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending { Poll::Pending } else { Poll::Ready(()) }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

/// Who asks for a wait, in the countdown of [`crate::platforms::countdown`].
pub const WAITER: &str = "the Mastodon instance";
