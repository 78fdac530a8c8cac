//! Publishing a rendered post to Bluesky exactly once.
//!
//! Every part of a post is written with `putRecord` under a record key crier
//! chose ([`super::tid::slot`]: a TID from the post's stable anchor time, its
//! path and the part index), with `swapRecord: null` so the server only
//! writes when the key is empty. The key is the same on every run, in any
//! clone; `createdAt` is the time of the run that publishes (the app sorts and
//! labels posts by it), so:
//!
//! - a first attempt costs one call per text part;
//! - a retry in the same run repeats the identical record (a no-op);
//! - a rerun after a lost reply or a crash finds the key taken
//!   (`InvalidSwap`), reads the record there (`getRecord`) and, when no post
//!   file recorded it, takes it as published (uri and cid from the server)
//!   instead of writing again, whatever its `createdAt`;
//! - a key taken by another file's record moves the part to the next key of
//!   its sequence.
//!
//! A chain that failed at part k resumes at part k: parts before it are found
//! at their keys, and each reply points at the real root and parent.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::images::{self, Prepared};
use super::richtext::Feature;
use super::tid;
use super::xrpc::{ClientOptions, StrongRef, XrpcClient, XrpcError};
use super::{BlueskyOutput, BlueskyPart, MAX_THUMB_BYTES};
use crate::platforms::card::Fetcher;

pub const POST_COLLECTION: &str = "app.bsky.feed.post";
/// Keys tried per part before giving up (each step is one more microsecond).
const MAX_KEY_ATTEMPTS: u32 = 8;

/// What crier stores under `published.bluesky`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlueskyRecord {
    /// The AT URI of the first post.
    pub id: String,
    pub url: String,
    pub cid: String,
    pub published_at: String,
    pub hash: String,
    /// Every part, only for a chain of 2+.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<PartRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartRecord {
    pub id: String,
    pub url: String,
    pub cid: String,
}

pub use crate::platforms::parts::PublishFailure;

/// Why part `published_parts` failed: a bad password stops Bluesky only; a write that
/// may have landed is found at its key by the next run.
fn xrpc_failure(e: XrpcError, published_parts: usize) -> PublishFailure {
    PublishFailure {
        fatal: e.is_fatal(),
        ambiguous: e.is_ambiguous(),
        published_parts,
        ..PublishFailure::new(e.to_string())
    }
}

/// Tunables (tests make them small).
#[derive(Debug, Clone, Copy)]
pub struct PublishOptions {
    pub client: ClientOptions,
    /// crier.yaml `bluesky.max_image_bytes`.
    pub max_image_bytes: u64,
    /// Time allowed to fetch a link card's page or image.
    pub card_timeout: Duration,
}

impl Default for PublishOptions {
    fn default() -> Self {
        Self {
            client: ClientOptions::default(),
            max_image_bytes: super::DEFAULT_MAX_IMAGE_BYTES,
            card_timeout: Duration::from_secs(10),
        }
    }
}

/// `createdAt` of part `index` published at `now`: parts a millisecond apart, in chain order.
fn created_at(now: &str, index: usize) -> String {
    let now = DateTime::parse_from_rfc3339(now).map_or_else(|_| Utc::now(), |t| t.to_utc());
    (now + chrono::Duration::milliseconds(index as i64)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// One post to publish.
pub struct Job<'a> {
    pub out: &'a BlueskyOutput,
    /// Repository-relative path (part of every record key).
    pub path: &'a str,
    /// The stable time the keys come from ([`tid::anchor`]).
    pub anchor: DateTime<Utc>,
    pub hash: &'a str,
    /// The time of the run (RFC 3339): recorded, and the posts' `createdAt`.
    pub now: &'a str,
    /// Progress and notes (a card that could not be made, an unresolved mention).
    pub progress: &'a dyn Fn(&str),
}

/// One signed-in session for a run.
pub struct BlueskyPublisher {
    client: XrpcClient,
    fetcher: Fetcher,
    opts: PublishOptions,
    /// AT URIs recorded by any post file, or written by this run: never adopted.
    known: HashSet<String>,
    /// Handle → DID (None: does not resolve), once per run.
    handles: HashMap<String, Option<String>>,
}

impl BlueskyPublisher {
    /// Signs in (`createSession`, once per run).
    pub async fn connect(
        service: &str,
        identifier: &str,
        password: &secrecy::SecretString,
        opts: PublishOptions,
    ) -> Result<Self, PublishFailure> {
        let client = XrpcClient::new(service, opts.client);
        client.sign_in(identifier, password).await.map_err(|e| xrpc_failure(e, 0))?;
        Ok(Self {
            client,
            fetcher: Fetcher::new(opts.card_timeout),
            opts,
            known: HashSet::new(),
            handles: HashMap::new(),
        })
    }

    /// AT URIs (first posts and parts) recorded by the repository's files.
    pub fn exclude(&mut self, ids: impl IntoIterator<Item = String>) {
        self.known.extend(ids);
    }

    pub fn client(&self) -> &XrpcClient {
        &self.client
    }

    pub fn calls(&self) -> u64 {
        self.client.calls()
    }

    /// Publishes every part of the post (or finds the parts an earlier,
    /// interrupted run wrote) and returns the record to write back.
    pub async fn publish(&mut self, job: &Job<'_>) -> Result<BlueskyRecord, PublishFailure> {
        let did = self.client.account().map(|a| a.did).unwrap_or_default();
        let mut refs: Vec<(StrongRef, String)> = Vec::new();
        let n = job.out.parts.len();
        for (i, part) in job.out.parts.iter().enumerate() {
            if n > 1 {
                (job.progress)(&format!("part {}/{n}", i + 1));
            }
            let reply = match (refs.first(), refs.last()) {
                (Some((root, _)), Some((parent, _))) => {
                    Some(json!({"root": root.to_json(), "parent": parent.to_json()}))
                }
                _ => None,
            };
            let record = self.build(job, part, reply).await.map_err(|e| xrpc_failure(e, i))?;
            let (sref, rkey) = self.write(job, i, record).await.map_err(|e| xrpc_failure(e, i))?;
            self.known.insert(sref.uri.clone());
            refs.push((sref, rkey));
        }
        let url = |rkey: &str| format!("https://bsky.app/profile/{did}/post/{rkey}");
        let Some((first, first_key)) = refs.first() else {
            return Err(PublishFailure::new("the post has no parts"));
        };
        let parts = if refs.len() > 1 {
            refs.iter().map(|(r, k)| PartRecord { id: r.uri.clone(), url: url(k), cid: r.cid.clone() }).collect()
        } else {
            Vec::new()
        };
        Ok(BlueskyRecord {
            id: first.uri.clone(),
            url: url(first_key),
            cid: first.cid.clone(),
            published_at: job.now.to_owned(),
            hash: job.hash.to_owned(),
            parts,
        })
    }

    /// Writes part `index` exactly once; returns its strong ref and key.
    async fn write(
        &mut self,
        job: &Job<'_>,
        index: usize,
        mut record: Map<String, Value>,
    ) -> Result<(StrongRef, String), XrpcError> {
        record.insert("createdAt".into(), Value::String(created_at(job.now, index)));
        let value = Value::Object(record);
        for attempt in 0..MAX_KEY_ATTEMPTS {
            let slot = tid::slot(job.anchor, job.path, index, attempt);
            match self.client.put_record(POST_COLLECTION, &slot.rkey, &value, true).await {
                Ok(sref) => return Ok((sref, slot.rkey)),
                Err(e) if e.xrpc_name() == Some("InvalidSwap") || e.is_ambiguous() => {
                    match self.client.get_record(POST_COLLECTION, &slot.rkey).await? {
                        Some(found) if self.is_ours(&found.uri) => {
                            if attempt == 0 {
                                (job.progress)("already on Bluesky (an earlier run was interrupted): recording it");
                            }
                            let cid = found.cid.unwrap_or_default();
                            return Ok((StrongRef { uri: found.uri, cid }, slot.rkey));
                        }
                        // Taken by another post: the next key of this part's sequence.
                        Some(_) => continue,
                        // The lost write never landed: the same key is still free.
                        None if e.is_ambiguous() => {
                            let sref = self.client.put_record(POST_COLLECTION, &slot.rkey, &value, true).await?;
                            return Ok((sref, slot.rkey));
                        }
                        None => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Err(XrpcError::Rejected {
            operation: "write a post",
            status: 400,
            error: "RecordKeysTaken".into(),
            message: format!("the first {MAX_KEY_ATTEMPTS} record keys of this part are all taken by other posts"),
        })
    }

    /// Whether the record at one of this post's keys is this post from an earlier run
    /// (perhaps edited since, and published at another time): any record no file
    /// recorded. The key is a pure function of the post, and another client's TID
    /// would have to hit its microsecond and clock id; `createdAt` is the time of the
    /// run that wrote it, so it says nothing about whose record it is.
    fn is_ours(&self, uri: &str) -> bool {
        !self.known.contains(uri)
    }

    /// The record of one part, without `createdAt` (added when it is written).
    async fn build(
        &mut self,
        job: &Job<'_>,
        part: &BlueskyPart,
        reply: Option<Value>,
    ) -> Result<Map<String, Value>, XrpcError> {
        let mut record = Map::new();
        record.insert("$type".into(), json!(POST_COLLECTION));
        record.insert("text".into(), json!(part.text));
        let facets = self.facets(job, part).await?;
        if !facets.is_empty() {
            record.insert("facets".into(), Value::Array(facets));
        }
        if !job.out.langs.is_empty() {
            record.insert("langs".into(), json!(job.out.langs));
        }
        if let Some(reply) = reply {
            record.insert("reply".into(), reply);
        }
        let images: Vec<_> = part.media.iter().filter(|m| !m.format.is_video()).collect();
        if !images.is_empty() {
            record.insert("embed".into(), self.images_embed(&images).await?);
        } else if job.out.link_card {
            if let Some(uri) = part.rich().first_link() {
                if let Some(card) = self.card(job, uri).await? {
                    record.insert("embed".into(), card);
                }
            }
        }
        Ok(record)
    }

    /// Facets in the lexicon shape, mentions resolved to DIDs (one that does
    /// not resolve stays plain text, with a note).
    async fn facets(&mut self, job: &Job<'_>, part: &BlueskyPart) -> Result<Vec<Value>, XrpcError> {
        let mut out = Vec::with_capacity(part.facets.len());
        for f in &part.facets {
            let did = match &f.feature {
                Feature::Mention(handle) => {
                    let key = handle.to_ascii_lowercase();
                    let did = match self.handles.get(&key) {
                        Some(d) => d.clone(),
                        None => {
                            let d = self.client.resolve_handle(&key).await?;
                            self.handles.insert(key.clone(), d.clone());
                            if d.is_none() {
                                (job.progress)(&format!(
                                    "note: @{handle} is not a Bluesky handle; it stays plain text"
                                ));
                            }
                            d
                        }
                    };
                    match did {
                        Some(d) => Some(d),
                        None => continue,
                    }
                }
                _ => None,
            };
            out.push(f.to_json(did.as_deref()));
        }
        Ok(out)
    }

    /// Uploads the images side by side and builds the images embed.
    async fn images_embed(&self, media: &[&crate::rules::media::MediaRef]) -> Result<Value, XrpcError> {
        let mut prepared: Vec<(Prepared, String)> = Vec::with_capacity(media.len());
        for m in media {
            let bytes = match &m.abs {
                Some(abs) => {
                    std::fs::read(abs).map_err(|e| local_error(&format!("cannot read {}: {e}", display(abs))))?
                }
                None => {
                    let url = m.url.as_deref().unwrap_or_default();
                    self.fetcher
                        .image(url)
                        .await
                        .map_err(|e| local_error(&format!("cannot fetch the image {url}: {e}")))?
                }
            };
            let p = images::prepare(bytes, self.opts.max_image_bytes).map_err(|e| {
                local_error(&format!("image {}: {e}", m.path.as_deref().or(m.url.as_deref()).unwrap_or("?")))
            })?;
            prepared.push((p, m.alt.clone().unwrap_or_default()));
        }
        let mut tasks = tokio::task::JoinSet::new();
        for (i, (p, _)) in prepared.iter().enumerate() {
            let client = self.client.clone();
            let (bytes, mime) = (p.bytes.clone(), p.mime);
            tasks.spawn(async move { (i, client.upload_blob(bytes, mime).await) });
        }
        let mut blobs: Vec<Option<Value>> = vec![None; prepared.len()];
        while let Some(done) = tasks.join_next().await {
            let (i, blob) = done.map_err(|e| local_error(&format!("an upload task failed: {e}")))?;
            blobs[i] = Some(blob?);
        }
        let items: Vec<Value> = prepared
            .iter()
            .zip(blobs)
            .map(|((p, alt), blob)| {
                json!({
                    "image": blob.unwrap_or(Value::Null),
                    "alt": alt,
                    "aspectRatio": {"width": p.width.max(1), "height": p.height.max(1)},
                })
            })
            .collect();
        Ok(json!({"$type": "app.bsky.embed.images", "images": items}))
    }

    /// A link card, or `None` (with a note) when the page cannot be read.
    async fn card(&self, job: &Job<'_>, uri: &str) -> Result<Option<Value>, XrpcError> {
        let meta = match self.fetcher.page(uri).await {
            Ok(m) => m,
            Err(why) => {
                (job.progress)(&format!("note: no link card for {uri}: {why}"));
                return Ok(None);
            }
        };
        let mut external = json!({"uri": uri, "title": meta.title, "description": meta.description});
        if let Some(image) = &meta.image {
            let thumb = match self.fetcher.image(image).await {
                Ok(bytes) => images::prepare(bytes, MAX_THUMB_BYTES),
                Err(e) => Err(e),
            };
            match thumb {
                Ok(p) => external["thumb"] = self.client.upload_blob(p.bytes, p.mime).await?,
                Err(why) => (job.progress)(&format!("note: the link card for {uri} has no image: {why}")),
            }
        }
        Ok(Some(json!({"$type": "app.bsky.embed.external", "external": external})))
    }
}

fn display(p: &Path) -> String {
    p.display().to_string()
}

/// A local problem (a file gone since `check`): the post fails, nothing was sent.
fn local_error(message: &str) -> XrpcError {
    XrpcError::Rejected {
        operation: "prepare the post",
        status: 0,
        error: "LocalFile".into(),
        message: message.to_owned(),
    }
}
