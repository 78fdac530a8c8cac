//! Publishing a rendered post to LinkedIn exactly once, editing its text, deleting it.
//!
//! LinkedIn has no idempotency key and a member token cannot list its own posts, but it
//! refuses an identical post made within its duplicate window (about 10 minutes) with 422
//! `DUPLICATE_POST`, and the refusal names the existing post (`Content is a duplicate of
//! urn:li:share:…`). crier builds on that:
//!
//! - before a create, it writes what it is about to send (the post's path, hash, time and
//!   the exact body) to `.crier/linkedin-pending.json`, and removes the entry once LinkedIn
//!   has answered either way;
//! - a create whose reply is lost is sent again at once, byte for byte (the same image
//!   URNs): a 201 means the first never landed; a duplicate refusal names the post the first
//!   one made, which is recorded;
//! - a run that finds an entry (a crash, or a lost reply twice) sends the stored body again
//!   while the window lasts ([`RESEND_WITHIN`]), with the same outcome; past it, a resend
//!   could publish the post twice, so crier sends nothing and says what to check;
//! - a duplicate refusal on a first attempt (a post made by hand) is adopted, unless another
//!   file of the repository records that URN.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use chrono::DateTime;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use super::LinkedinOutput;
use super::api::{ImageSlot, LinkedinClient, LinkedinError, OnWait};
use crate::ledger::Record;
use crate::platforms::card::Fetcher;
use crate::platforms::{Deletion, Failure, Job};
use crate::rules::media::MediaRef;

/// Who asks for a wait, in the countdown of [`crate::platforms::countdown`].
pub const WAITER: &str = "LinkedIn";

/// How long after a create whose outcome is unknown crier still sends it again: inside
/// LinkedIn's documented 10-minute duplicate window, with room for clocks and retries.
pub const RESEND_WITHIN: Duration = Duration::from_secs(8 * 60);

/// Where the creates whose outcome is not known yet are kept, under the repository root.
pub const PENDING_FILE: &str = ".crier/linkedin-pending.json";

/// The public URL of a post.
pub fn post_url(urn: &str) -> String {
    format!("https://www.linkedin.com/feed/update/{urn}/")
}

/// A create sent (or about to be) whose answer crier has not seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    pub hash: String,
    /// When it was first sent (RFC 3339, the run's time).
    pub at: String,
    /// The exact body, so a resend is identical.
    pub body: Value,
}

/// The pending creates, by post path, kept in [`PENDING_FILE`].
#[derive(Debug)]
pub struct PendingStore {
    file: PathBuf,
    lock: Mutex<()>,
}

impl PendingStore {
    pub fn new(root: &std::path::Path) -> Self {
        Self { file: root.join(PENDING_FILE), lock: Mutex::new(()) }
    }

    fn read(&self) -> BTreeMap<String, Pending> {
        std::fs::read(&self.file).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
    }

    pub fn get(&self, path: &str) -> Option<Pending> {
        let _g = self.lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.read().remove(path)
    }

    /// Sets (or with `None` removes) the entry of `path`; the file goes when empty.
    pub fn set(&self, path: &str, entry: Option<&Pending>) -> Result<(), String> {
        let _g = self.lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut all = self.read();
        match entry {
            Some(e) => all.insert(path.to_owned(), e.clone()),
            None => all.remove(path),
        };
        let write = || -> std::io::Result<()> {
            if all.is_empty() {
                return match std::fs::remove_file(&self.file) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                    _ => Ok(()),
                };
            }
            if let Some(dir) = self.file.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let tmp = self.file.with_extension("json.tmp");
            std::fs::write(&tmp, serde_json::to_vec_pretty(&all).unwrap_or_default())?;
            std::fs::rename(&tmp, &self.file)
        };
        write().map_err(|e| format!("cannot write {PENDING_FILE}: {e}"))
    }
}

/// LinkedIn connected for one run.
pub struct LinkedinPublisher {
    client: LinkedinClient,
    /// `urn:li:person:{sub}`, looked up once.
    author: OnceCell<String>,
    /// URNs recorded by the repository's files or made by this run: never adopted.
    known: Mutex<HashSet<String>>,
    pending: PendingStore,
    fetcher: Fetcher,
    /// Why LinkedIn refused crier's configuration (a sunset `linkedin.version`), once it did.
    misconfigured: Mutex<Option<String>>,
}

/// A failed call as the run reports it: LinkedIn's other posts stop where nothing else can
/// succeed (a refused token, a sunset version, a missing scope, the daily limit).
pub fn failure(e: &LinkedinError) -> Failure {
    let fatal = e.stops_linkedin().then_some(match e {
        LinkedinError::Version { .. } => "LinkedIn does not serve the configured API version (`linkedin.version`)",
        LinkedinError::RateLimited { .. } => "LinkedIn's daily limit is reached (it resets at 00:00 UTC)",
        LinkedinError::Forbidden { .. } => "the LinkedIn token lacks a scope (see the error above)",
        _ => "LinkedIn rejected the token (check LINKEDIN_ACCESS_TOKEN)",
    });
    Failure { fatal: fatal.map(str::to_owned), ..Failure::new(e.to_string()) }
}

impl LinkedinPublisher {
    pub fn new(client: LinkedinClient, root: &std::path::Path, known: HashSet<String>, card_timeout: Duration) -> Self {
        Self {
            client,
            author: OnceCell::new(),
            known: Mutex::new(known),
            pending: PendingStore::new(root),
            fetcher: Fetcher::new(card_timeout),
            misconfigured: Mutex::new(None),
        }
    }

    /// The run's failure for `e`, noting a refused configuration.
    fn fail(&self, e: &LinkedinError) -> Failure {
        if let LinkedinError::Version { version, .. } = e {
            let why = format!(
                "LinkedIn does not serve API version {version}: set `linkedin.version` in crier.yaml to a supported month (YYYYMM)"
            );
            *self.misconfigured.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(why);
        }
        failure(e)
    }

    /// Set once LinkedIn refused the configured API version.
    pub fn misconfigured(&self) -> Option<String> {
        self.misconfigured.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    pub fn client(&self) -> &LinkedinClient {
        &self.client
    }

    fn is_known(&self, urn: &str) -> bool {
        self.known.lock().unwrap_or_else(std::sync::PoisonError::into_inner).contains(urn)
    }

    fn remember(&self, urn: &str) {
        self.known.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(urn.to_owned());
    }

    /// The author URN (`GET /v2/userinfo`, once per run).
    pub async fn author(&self, on_wait: OnWait<'_>) -> Result<&str, LinkedinError> {
        let author = self
            .author
            .get_or_try_init(|| async {
                let info = self.client.userinfo(on_wait).await?;
                match info.get("sub").and_then(Value::as_str).filter(|s| !s.trim().is_empty()) {
                    Some(sub) => Ok(format!("urn:li:person:{}", sub.trim())),
                    None => Err(LinkedinError::BadResponse {
                        status: 200,
                        detail: "`GET /v2/userinfo` has no `sub` (the token needs the scopes `openid profile`)".into(),
                    }),
                }
            })
            .await?;
        Ok(author.as_str())
    }

    /// Publishes the post (or adopts what a lost reply made) and returns its record.
    pub async fn publish(&self, job: &Job<'_>, out: &LinkedinOutput, on_wait: OnWait<'_>) -> Result<Record, Failure> {
        let Job { post, hash, now, progress, .. } = *job;
        let record = |urn: &str| Record {
            relays: Vec::new(),
            d: None,
            id: urn.to_owned(),
            url: post_url(urn),
            cid: None,
            published_at: now.to_owned(),
            hash: hash.to_owned(),
            parts: Vec::new(),
            deleted_at: None,
        };
        if let Some(p) = self.pending.get(&post.path) {
            let urn = self.resume(job, &p, on_wait).await?;
            return Ok(record(&urn));
        }
        let author = self.author(on_wait).await.map_err(|e| self.fail(&e))?.to_owned();
        let content = self.content(&author, out, progress, on_wait).await.map_err(|e| self.fail(&e))?;
        let mut body = json!({
            "author": author,
            "commentary": out.commentary,
            "visibility": out.visibility,
            "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": false,
        });
        if let Some(c) = content {
            body["content"] = c;
        }
        let pending = Pending { hash: hash.to_owned(), at: now.to_owned(), body };
        self.pending.set(&post.path, Some(&pending)).map_err(Failure::new)?;
        let urn = match self.client.create_post(&pending.body, on_wait).await {
            Ok(urn) => urn,
            Err(LinkedinError::Duplicate { urn: Some(urn), message }) => {
                // Nothing of this post was sent before (no pending entry): the same text was
                // posted by hand, or by another file.
                self.settle(&post.path)?;
                if self.is_known(&urn) {
                    return Err(Failure::new(format!(
                        "LinkedIn refused the post as a duplicate of {urn}, which another post of the repository records ({message}); LinkedIn refuses identical text for about 10 minutes: change the text, or publish it later"
                    )));
                }
                progress(&format!("LinkedIn already has this post ({urn}): recording it"));
                self.remember(&urn);
                return Ok(record(&urn));
            }
            Err(LinkedinError::Ambiguous { .. }) => {
                progress("the reply was lost: sending the identical post again to learn whether it went out");
                self.resend(job, &pending, on_wait).await?
            }
            Err(e) => {
                self.settle(&post.path)?;
                return Err(self.fail(&e));
            }
        };
        self.settle(&post.path)?;
        self.remember(&urn);
        Ok(record(&urn))
    }

    /// A pending create found at the start of the post's publish: sent again inside the
    /// window, else left for the user to check.
    async fn resume(&self, job: &Job<'_>, p: &Pending, on_wait: OnWait<'_>) -> Result<String, Failure> {
        let Job { post, hash, now, progress, .. } = *job;
        let age = match (DateTime::parse_from_rfc3339(&p.at), DateTime::parse_from_rfc3339(now)) {
            (Ok(at), Ok(now)) => (now.to_utc() - at.to_utc()).to_std().ok(),
            _ => None,
        };
        match age {
            Some(age) if age < RESEND_WITHIN && p.hash == hash => {
                progress("an earlier run did not learn whether this post went out: sending the identical post again");
                self.resend(job, p, on_wait).await
            }
            _ => {
                let why = if p.hash == hash {
                    "LinkedIn's duplicate window (about 10 minutes) is over, so sending it again could publish it twice, and crier does not"
                } else {
                    "the post has changed since, so LinkedIn could not tell a resend from a new post, and crier does not send it"
                };
                Err(Failure::new(format!(
                    "an earlier run sent this post to LinkedIn at {} and never learned whether it went out; {why}. Look at your LinkedIn activity: if the post is there, record it with `crier adopt {} --platform linkedin --id urn:li:share:…` (the URN is in the post's link); if it is not, remove the entry for `{}` from {PENDING_FILE} and publish again",
                    p.at, post.path, post.path
                )))
            }
        }
    }

    /// Sends `p.body` again: a new URN means the earlier create never landed; a duplicate
    /// refusal names the post it made.
    async fn resend(&self, job: &Job<'_>, p: &Pending, on_wait: OnWait<'_>) -> Result<String, Failure> {
        let Job { post, progress, .. } = *job;
        match self.client.create_post(&p.body, on_wait).await {
            Ok(urn) => {
                self.settle(&post.path)?;
                self.remember(&urn);
                Ok(urn)
            }
            Err(LinkedinError::Duplicate { urn: Some(urn), .. }) if !self.is_known(&urn) => {
                progress(&format!("LinkedIn has the post already ({urn}): recording it"));
                self.settle(&post.path)?;
                self.remember(&urn);
                Ok(urn)
            }
            Err(e @ (LinkedinError::Duplicate { urn: Some(_), .. } | LinkedinError::Rejected { .. })) => {
                // The earlier create was refused alike: a duplicate of another file's post
                // (that file's), or a request LinkedIn does not take.
                self.settle(&post.path)?;
                Err(self.fail(&e))
            }
            Err(e) => {
                // The resend did not land, and says nothing of the earlier create: it stays
                // pending for the next run.
                let f = self.fail(&e);
                Err(Failure {
                    message: format!(
                        "{}; crier could not learn whether the post went out and did not send it again: run `crier publish` again within a few minutes (LinkedIn's duplicate window) to finish",
                        f.message
                    ),
                    ..f
                })
            }
        }
    }

    fn settle(&self, path: &str) -> Result<(), Failure> {
        self.pending.set(path, None).map_err(Failure::new)
    }

    /// `content` of the post: its images, else an article card, else nothing.
    async fn content(
        &self,
        author: &str,
        out: &LinkedinOutput,
        progress: &dyn Fn(&str),
        on_wait: OnWait<'_>,
    ) -> Result<Option<Value>, LinkedinError> {
        if !out.media.is_empty() {
            let urns = self.upload_all(author, &out.media, on_wait).await?;
            let items: Vec<Value> = urns
                .iter()
                .zip(&out.media)
                .map(|(urn, m)| json!({"id": urn, "altText": m.alt.clone().unwrap_or_default()}))
                .collect();
            return Ok(Some(match items.as_slice() {
                [one] => json!({"media": one}),
                _ => json!({"multiImage": {"images": items}}),
            }));
        }
        let Some(url) = &out.card_url else { return Ok(None) };
        let meta = match self.fetcher.page(url).await {
            Ok(m) => m,
            Err(why) => {
                progress(&format!("note: no article card for {url}: {why}"));
                return Ok(None);
            }
        };
        let title = if meta.title.is_empty() { url.clone() } else { meta.title.clone() };
        let mut article = json!({"source": url, "title": title});
        if !meta.description.is_empty() {
            article["description"] = json!(meta.description.chars().take(4084).collect::<String>());
        }
        if let Some(image) = &meta.image {
            match self.fetcher.image(image).await {
                Ok(bytes) => {
                    let slot = self.client.initialize_upload(author, on_wait).await?;
                    self.client.upload_image(&slot, &bytes, on_wait).await?;
                    article["thumbnail"] = json!(slot.image);
                }
                Err(why) => progress(&format!("note: the article card for {url} has no image: {why}")),
            }
        }
        Ok(Some(json!({"article": article})))
    }

    /// Uploads the images side by side; their URNs in order.
    async fn upload_all(
        &self,
        author: &str,
        media: &[MediaRef],
        on_wait: OnWait<'_>,
    ) -> Result<Vec<String>, LinkedinError> {
        let mut files = Vec::with_capacity(media.len());
        for m in media {
            files.push(self.bytes(m).await?);
        }
        let uploads = files.iter().map(|bytes| async move {
            let slot: ImageSlot = self.client.initialize_upload(author, on_wait).await?;
            self.client.upload_image(&slot, bytes, on_wait).await?;
            Ok::<_, LinkedinError>(slot.image)
        });
        futures_util::future::join_all(uploads).await.into_iter().collect()
    }

    /// A medium's bytes: the file, or the URL fetched (bounded).
    async fn bytes(&self, m: &MediaRef) -> Result<Vec<u8>, LinkedinError> {
        let local = |message: String| LinkedinError::Rejected { status: 0, message };
        match (&m.abs, &m.url) {
            (Some(abs), _) => std::fs::read(abs).map_err(|e| local(format!("cannot read {}: {e}", abs.display()))),
            (None, Some(url)) => self.fetcher.image(url).await.map_err(|e| local(format!("cannot fetch {url}: {e}"))),
            (None, None) => Err(local("a media item has neither a file nor a URL".into())),
        }
    }

    /// Sets the recorded post's text to the new commentary (LinkedIn cannot swap images or
    /// a card: said when the post has them).
    pub async fn update(
        &self,
        job: &Job<'_>,
        out: &LinkedinOutput,
        previous: &Record,
        on_wait: OnWait<'_>,
    ) -> Result<Record, Failure> {
        let Job { hash, progress, .. } = *job;
        progress("updating the post's text");
        match self.client.update_commentary(previous.id.trim(), &out.commentary, on_wait).await {
            Ok(()) => {}
            Err(LinkedinError::Rejected { status: 404, .. }) => {
                return Err(Failure::new(format!(
                    "LinkedIn post {} was not found; if it was deleted, remove `published.linkedin` from the post to publish it again",
                    previous.id
                )));
            }
            Err(e) => return Err(self.fail(&e)),
        }
        if !out.media.is_empty() || out.card_url.is_some() {
            progress(
                "note: LinkedIn edits only a post's text: if its images or link card changed, delete it (`crier delete`) and remove `published.linkedin` to publish it anew",
            );
        }
        Ok(Record { hash: hash.to_owned(), deleted_at: None, ..previous.clone() })
    }

    /// `DELETE /rest/posts/{urn}`; a post not there (404) is already gone.
    pub async fn delete(&self, urn: &str, on_wait: OnWait<'_>) -> Result<Deletion, Failure> {
        match self.client.delete_post(urn.trim(), on_wait).await {
            Ok(()) => Ok(Deletion { deleted: 1, ..Deletion::default() }),
            Err(LinkedinError::Rejected { status: 404, .. }) => Ok(Deletion { already_gone: 1, ..Deletion::default() }),
            Err(e) => Err(self.fail(&e)),
        }
    }
}
