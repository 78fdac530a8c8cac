//! Publishing a rendered post to Threads exactly once.
//!
//! A publish call whose reply is lost, or a process killed between publishing
//! and writing the record, must never produce a second copy on the next run,
//! even from a fresh clone. So before creating anything for a post without a
//! record, crier looks for it on the account: the newest top-level posts are
//! listed once per run and matched by text; when the first part is found, the
//! chain's conversation is read and the parts already there are adopted, so a
//! chain that failed at part k resumes at part k. A publish whose reply was
//! lost is resolved through the container's status (`PUBLISHED` or not) and
//! the same text match. A post without text is identified by the alt text of
//! its media. Posts already recorded by any file of the repository are never
//! adopted, so a new post repeating an old one's text is published.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::time::Duration;

use futures_util::future::{FutureExt, LocalBoxFuture, Shared, try_join_all};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use secrecy::SecretString;

use super::api::{
    ContainerId, ContainerRequest, HttpOptions, Media, MediaId, MediaType, Poll, Reconciled, ReplyControl,
    TextAttachment, ThreadsClient, ThreadsError,
};
use super::{ThreadsOptions, ThreadsOutput, ThreadsPart};
use crate::content::Post;
use crate::ledger::{PartRecord, Record};
use crate::platforms::Adoption;
use crate::rules::media::MediaRef;

/// Tunables, from `crier.yaml` `publish:` (tests make them small).
#[derive(Debug, Clone, Copy)]
pub struct PublishOptions {
    pub retry: HttpOptions,
    /// How long to wait for a container to finish processing.
    pub max_processing: Duration,
    pub poll_interval: Duration,
    /// How many pages of 100 recent posts to scan when reconciling.
    pub reconcile_pages: u32,
}

impl Default for PublishOptions {
    fn default() -> Self {
        Self {
            retry: HttpOptions::default(),
            max_processing: Duration::from_secs(300),
            poll_interval: Duration::from_secs(5),
            reconcile_pages: 5,
        }
    }
}

/// Why one post failed.
#[derive(Debug)]
pub struct PostFailure {
    pub message: String,
    /// The token is bad: the whole run must stop.
    pub fatal: bool,
    /// Parts that went out before the failure (the next run resumes after them).
    pub published_parts: usize,
}

/// The parts of a post that are on Threads, in order, with their URLs where known.
#[derive(Debug)]
pub struct PublishedParts(Vec<(MediaId, Option<String>)>);

fn failure(e: ThreadsError, published_parts: usize) -> PostFailure {
    PostFailure { fatal: e.is_fatal(), message: e.to_string(), published_parts }
}

/// Turns [`PublishedParts`] into the record: reads the permalinks still missing.
pub struct Finisher {
    client: ThreadsClient,
    username: String,
}

impl Finisher {
    pub async fn finish(&self, parts: PublishedParts, hash: &str, now: &str) -> Result<Record, PostFailure> {
        let count = parts.0.len();
        let mut done = Vec::with_capacity(count);
        for (id, url) in parts.0 {
            let url = match url {
                Some(u) => u,
                None => self.client.permalink(&id, &self.username).await.map_err(|e| failure(e, count))?,
            };
            done.push((id, url));
        }
        let (id, url) = done.first().cloned().unwrap_or((MediaId(String::new()), String::new()));
        let parts = if done.len() > 1 {
            done.iter().map(|(id, url)| PartRecord { id: id.0.clone(), url: url.clone(), cid: None }).collect()
        } else {
            Vec::new()
        };
        Ok(Record {
            relays: Vec::new(),
            d: None,
            id: id.0,
            url,
            cid: None,
            published_at: now.to_owned(),
            hash: hash.to_owned(),
            parts,
            deleted_at: None,
        })
    }
}

pub struct ThreadsPublisher {
    client: ThreadsClient,
    user: String,
    username: String,
    opts: PublishOptions,
    /// Newest top-level posts, listed once per run for reconciliation.
    recent: Option<History>,
    /// Media ids recorded in the repository (or published by this run):
    /// never adopted for another post.
    known: HashSet<String>,
    prepared: Prepared,
}

/// Pages of 100 top-level posts `crier adopt` reads (a publish run reads
/// [`PublishOptions::reconcile_pages`]): years of daily posts, and still a bounded read.
pub const ADOPT_PAGES: u32 = 50;

/// The account's top-level posts read so far, newest first.
#[derive(Default)]
struct History {
    posts: Vec<Media>,
    pages: u32,
    after: Option<String>,
    /// The last page was read.
    complete: bool,
}

/// What a step reports, for progress display.
pub type Progress<'a> = &'a dyn Fn(&str);

/// Carousel items created at the same time.
const PARALLEL_CONTAINERS: usize = 4;

type ContainerFuture = Shared<LocalBoxFuture<'static, Result<ContainerId, ThreadsError>>>;

/// First-part media containers created ahead of publishing, by post path: an
/// unpublished container is harmless (it expires), so the slow processing of the
/// next posts' media overlaps the publishing of the current one.
#[derive(Clone)]
pub struct Prepared {
    client: ThreadsClient,
    user: String,
    opts: PublishOptions,
    slots: Rc<RefCell<HashMap<String, Slot>>>,
}

struct Slot {
    /// The part and options it was made for ([`slot_key`]): used only if every one of
    /// them is still the same (text, media, alt text, topic tag, reply control, …).
    key: String,
    container: ContainerFuture,
}

/// Everything that goes into a first-part container.
fn slot_key(options: &PartOptions, part: &super::ThreadsPart) -> String {
    format!("{options:?}\n{part:?}")
}

impl Prepared {
    /// Creates the post's first-part container and waits until Threads has processed it
    /// (media posts only: text containers are ready at once).
    pub async fn prepare(&self, post: &Post, out: &ThreadsOutput) {
        let Some(part) = out.parts.first().filter(|p| !p.media.is_empty()) else { return };
        let options = PartOptions::of(post, out);
        let key = slot_key(&options, part);
        let (client, user, opts) = (self.client.clone(), self.user.clone(), self.opts);
        let p = part.clone();
        let container = async move {
            let mut req = container_for(&client, &user, opts, &p.media, &p.text, &|_: &str| {}).await?;
            options.apply(&mut req, true, &p);
            let id = client.create_container(&user, &req).await?;
            client.wait_until_finished(&id, opts.max_processing, opts.poll_interval).await?;
            Ok(id)
        }
        .boxed_local()
        .shared();
        let slot = Slot { key, container: container.clone() };
        self.slots.borrow_mut().insert(post.path.clone(), slot);
        // A failure is not reported here: publishing creates the container again, and reports.
        let _ = container.await;
    }

    /// The container prepared for this part of `post`, if any: ready, or failed for a
    /// reason that creating it again would meet too (the media itself was refused).
    async fn take(&self, post: &Post, key: &str) -> Option<Result<ContainerId, ThreadsError>> {
        let slot = self.slots.borrow_mut().remove(&post.path)?;
        if slot.key != key {
            return None;
        }
        match slot.container.await {
            Ok(id) => Some(Ok(id)),
            Err(
                e @ (ThreadsError::ContainerFailed { .. }
                | ThreadsError::Rejected { .. }
                | ThreadsError::TokenInvalid { .. }),
            ) => Some(Err(e)),
            // Temporary trouble: publishing tries again from the start.
            Err(_) => None,
        }
    }

    pub fn calls(&self) -> u64 {
        self.client.calls()
    }
}

/// The post's `threads:` options that go into its containers.
#[derive(Debug, Clone, Default)]
struct PartOptions {
    reply_control: Option<ReplyControl>,
    topic_tag: Option<String>,
    quote_post_id: Option<MediaId>,
    link_attachment: Option<String>,
    poll: Option<Poll>,
    text_attachment: Option<TextAttachment>,
    spoiler_media: bool,
    ghost: bool,
}

impl PartOptions {
    fn of(post: &Post, out: &ThreadsOutput) -> Self {
        let Some(o) = post.options.get::<ThreadsOptions>().map(|t| &t.value) else { return Self::default() };
        Self {
            text_attachment: out.attachment.as_ref().map(super::Attachment::request),
            spoiler_media: o.spoiler_media.as_ref().is_some_and(|s| s.value),
            ghost: o.ghost.as_ref().is_some_and(|g| g.value),
            reply_control: o.reply_control.as_ref().and_then(|r| reply_control(&r.value)),
            topic_tag: o.topic_tag.as_ref().map(|t| t.value.clone()),
            quote_post_id: o.quote_post_id.as_ref().map(|q| MediaId(q.value.clone())),
            link_attachment: o.link_attachment.as_ref().map(|l| l.value.clone()),
            poll: o.poll.as_ref().map(|p| poll(&p.value.options.value)),
        }
    }

    /// Every part gets `reply_control` and its spoilers, and when it has media, the
    /// spoiler-media mark; the first also the topic and quote, and when it has no media,
    /// the link attachment, poll, text attachment and ghost mark.
    fn apply(&self, req: &mut ContainerRequest, first: bool, part: &ThreadsPart) {
        if let Some(rc) = self.reply_control {
            req.reply_control = Some(rc);
        }
        req.text_entities = part.spoiler_entities();
        req.is_spoiler_media = self.spoiler_media && req.media_type != MediaType::Text;
        if first {
            req.topic_tag.clone_from(&self.topic_tag);
            req.quote_post_id.clone_from(&self.quote_post_id);
            if req.media_type == MediaType::Text {
                req.link_attachment.clone_from(&self.link_attachment);
                req.poll_attachment.clone_from(&self.poll);
                req.text_attachment.clone_from(&self.text_attachment);
                req.is_ghost_post = self.ghost;
            }
        }
    }
}

/// Builds the container request for a part's media, creating (and waiting for) carousel
/// items first, several at a time.
async fn container_for(
    client: &ThreadsClient,
    user: &str,
    opts: PublishOptions,
    media: &[MediaRef],
    text: &str,
    progress: Progress<'_>,
) -> Result<ContainerRequest, ThreadsError> {
    let with_text = |req: ContainerRequest| if text.is_empty() { req } else { req.with_text(text) };
    match media {
        [] => Ok(ContainerRequest::text(text)),
        [one] => Ok(with_text(single(one, false))),
        many => {
            // Created a few at a time, then processed and polled all together.
            progress(&format!("{} carousel items", many.len()));
            let children: Vec<ContainerId> =
                stream::iter(many.iter().map(|m| async move { client.create_container(user, &single(m, true)).await }))
                    .buffered(PARALLEL_CONTAINERS)
                    .try_collect()
                    .await?;
            try_join_all(
                children.iter().map(|id| client.wait_until_finished(id, opts.max_processing, opts.poll_interval)),
            )
            .await?;
            Ok(with_text(ContainerRequest::carousel(children)))
        }
    }
}

impl ThreadsPublisher {
    /// Connects with the token; looks the user up with `/me` when no id is given.
    pub async fn connect(
        base_url: &str,
        token: SecretString,
        user_id: Option<&str>,
        username: Option<&str>,
        opts: PublishOptions,
    ) -> Result<Self, ThreadsError> {
        let client = ThreadsClient::new(base_url, token, opts.retry);
        let (user, name) = match (user_id, username) {
            (Some(id), Some(name)) => (id.to_owned(), name.to_owned()),
            _ => {
                let me = client.me().await?;
                (user_id.map_or(me.id, str::to_owned), username.map_or(me.username, str::to_owned))
            }
        };
        let prepared =
            Prepared { client: client.clone(), user: user.clone(), opts, slots: Rc::new(RefCell::new(HashMap::new())) };
        Ok(Self { client, user, username: name, opts, recent: None, known: HashSet::new(), prepared })
    }

    /// The client, the user id and the username (for deleting and looking posts up).
    pub fn account(&self) -> (ThreadsClient, String, String) {
        (self.client.clone(), self.user.clone(), self.username.clone())
    }

    /// A handle that prepares containers beside publishing (sharing the client).
    pub fn prepared(&self) -> Prepared {
        self.prepared.clone()
    }

    /// Ids already recorded by posts of the repository.
    pub fn exclude(&mut self, ids: impl IntoIterator<Item = String>) {
        self.known.extend(ids);
    }

    /// Posts that may still be published in the current 24-hour window.
    /// Posts and replies left in Threads' moving 24-hour window.
    pub async fn remaining_quota(&self) -> Result<(u64, u64), ThreadsError> {
        let q = self.client.publishing_limit(&self.user).await?;
        Ok((q.total.saturating_sub(q.used), q.reply_total.saturating_sub(q.reply_used)))
    }

    pub fn calls(&self) -> u64 {
        self.client.calls()
    }

    /// Publishes (or adopts what is already there) every part of `out`.
    pub async fn publish(
        &mut self,
        post: &Post,
        out: &ThreadsOutput,
        hash: &str,
        now: &str,
        progress: Progress<'_>,
    ) -> Result<Record, PostFailure> {
        let parts = self.publish_parts(post, out, progress).await?;
        self.finisher().finish(parts, hash, now).await
    }

    /// The order-sensitive half of [`Self::publish`]: every publish call of the post. The
    /// permalinks of the parts it published are read by [`Finisher::finish`], which may
    /// run while the next post is being published.
    pub async fn publish_parts(
        &mut self,
        post: &Post,
        out: &ThreadsOutput,
        progress: Progress<'_>,
    ) -> Result<PublishedParts, PostFailure> {
        let mut done: Vec<(MediaId, Option<String>)> = Vec::new();

        // Reconcile: is the chain (or its beginning) already on the account? The newest
        // match is taken: a repeated text would have been recorded, so it is not in `known`.
        let (text, alt) = identity(out);
        let found = self.candidates(text, alt, self.opts.reconcile_pages).await.map_err(|e| failure(e, 0))?;
        if let Some(root) = found.into_iter().next() {
            progress("found already on Threads (an earlier run was interrupted): recording it");
            done = self.chain_from(&root, out).await.map_err(|(e, n)| failure(e, n))?;
        }

        let options = PartOptions::of(post, out);
        for i in done.len()..out.parts.len() {
            let part = &out.parts[i];
            let n = out.parts.len();
            if n > 1 {
                progress(&format!("part {}/{n}", i + 1));
            }
            let prepared = if i == 0 { self.prepared.take(post, &slot_key(&options, part)).await } else { None };
            let media = match prepared {
                Some(Ok(container)) => self.publish_container(&container, &part.text, false).await,
                Some(Err(e)) => Err(e),
                None => {
                    let mut req = container_for(&self.client, &self.user, self.opts, &part.media, &part.text, progress)
                        .await
                        .map_err(|e| failure(e, done.len()))?;
                    options.apply(&mut req, i == 0, part);
                    if let Some((prev, _)) = done.last() {
                        req.reply_to_id = Some(prev.clone());
                    }
                    self.create_and_publish(req, &part.text, i > 0, progress).await
                }
            }
            .map_err(|e| failure(e, done.len()))?;
            done.push((media, None));
        }
        self.known.extend(done.iter().map(|(id, _)| id.0.clone()));
        Ok(PublishedParts(done))
    }

    /// Reads what [`Self::publish_parts`] left to read, without the publisher.
    pub fn finisher(&self) -> Finisher {
        Finisher { client: self.client.clone(), username: self.username.clone() }
    }

    async fn create_and_publish(
        &mut self,
        mut req: ContainerRequest,
        text: &str,
        is_reply: bool,
        progress: Progress<'_>,
    ) -> Result<MediaId, ThreadsError> {
        let mut link_retry = true;
        loop {
            let container = match self.client.create_container(&self.user, &req).await {
                Err(ThreadsError::LinkPreview { .. }) if link_retry && req.link_attachment.is_some() => {
                    // Link previews fail often; the URL stays in the text.
                    progress("link preview failed: retrying without link_attachment");
                    req.link_attachment = None;
                    link_retry = false;
                    continue;
                }
                other => other?,
            };
            // Text containers are ready almost at once: publish directly (a
            // "not ready yet" reply is waited out and retried by the client),
            // which saves a status call per post. Media must finish processing.
            if req.media_type != MediaType::Text {
                progress("waiting for Threads to process the media");
                self.client.wait_until_finished(&container, self.opts.max_processing, self.opts.poll_interval).await?;
            }
            match self.publish_container(&container, text, is_reply).await {
                Err(ThreadsError::LinkPreview { .. }) if link_retry && req.link_attachment.is_some() => {
                    progress("link preview failed: retrying without link_attachment");
                    req.link_attachment = None;
                    link_retry = false;
                }
                other => return other,
            }
        }
    }

    /// Publishes; a lost reply is resolved by asking Threads what happened.
    async fn publish_container(
        &mut self,
        container: &ContainerId,
        text: &str,
        is_reply: bool,
    ) -> Result<MediaId, ThreadsError> {
        match self.client.publish(&self.user, container).await {
            Ok(id) => Ok(id),
            Err(ThreadsError::Ambiguous { operation, message }) => {
                let text = (!text.is_empty()).then_some(text);
                match self.client.reconcile_publish(&self.user, container, text, is_reply, 4).await? {
                    Reconciled::Published(m) => Ok(MediaId(m.id)),
                    // Not published: publishing the same container again cannot duplicate.
                    Reconciled::NotPublished(_) => self.client.publish(&self.user, container).await,
                    Reconciled::PublishedButNotFound => Err(ThreadsError::Ambiguous {
                        operation,
                        message: format!(
                            "{message}; Threads reports container {} as published but crier could not find the post: check the profile, then record it in the post's `published.threads` by hand",
                            container.as_str()
                        ),
                    }),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// `crier adopt`: finds the post among the account's top-level posts (up to
    /// [`ADOPT_PAGES`] pages, further back than a publish run looks) with the same matching
    /// as [`Self::publish`], and returns its record without publishing anything. Two
    /// candidates, or a chain only partly there, adopt nothing. An `incomplete` record
    /// (an id without a URL) gets its permalink.
    pub async fn adopt(
        &mut self,
        out: &ThreadsOutput,
        hash: &str,
        now: &str,
        incomplete: Option<&Record>,
    ) -> Result<Adoption, PostFailure> {
        if let Some(rec) = incomplete {
            // The id is known: only its permalink is missing.
            let url =
                self.client.permalink(&MediaId(rec.id.clone()), &self.username).await.map_err(|e| failure(e, 0))?;
            let published_at = if rec.published_at.is_empty() { now.to_owned() } else { rec.published_at.clone() };
            return Ok(Adoption::Found(Record { url, published_at, hash: hash.to_owned(), ..rec.clone() }));
        }
        let (text, alt) = identity(out);
        let found = self.candidates(text, alt, ADOPT_PAGES).await.map_err(|e| failure(e, 0))?;
        let root = match found.as_slice() {
            [] => return Ok(Adoption::NotFound),
            [one] => one.clone(),
            many => {
                let urls: Vec<String> = many
                    .iter()
                    .map(|m| m.permalink_or_fallback(&self.username).unwrap_or_else(|| m.id.clone()))
                    .collect();
                return Ok(Adoption::Ambiguous(format!(
                    "{} posts on the account have this text: {}",
                    many.len(),
                    urls.join(", ")
                )));
            }
        };
        let done = self.chain_from(&root, out).await.map_err(|(e, n)| failure(e, n))?;
        if done.len() < out.parts.len() {
            let first = done[0].1.clone().unwrap_or_else(|| root.id.clone());
            return Ok(Adoption::Partial(format!(
                "only parts 1–{} of {} are on Threads ({first}); `crier publish` adopts them and posts the rest while the first part is among the account's {} newest posts",
                done.len(),
                out.parts.len(),
                self.opts.reconcile_pages * 100
            )));
        }
        self.known.extend(done.iter().map(|(id, _)| id.0.clone()));
        let mut record = self.finisher().finish(PublishedParts(done), hash, now).await?;
        if let Some(at) = root.timestamp.as_deref().and_then(rfc3339) {
            record.published_at = at;
        }
        Ok(Adoption::Found(record))
    }

    /// The account's top-level posts that are this post (see [`same_post`]), newest first,
    /// among the newest `pages` pages of 100. The list is read once per run and extended
    /// when a later call looks further back.
    async fn candidates(&mut self, text: &str, alt: &str, pages: u32) -> Result<Vec<Media>, ThreadsError> {
        if text.trim().is_empty() && alt.trim().is_empty() {
            return Ok(Vec::new());
        }
        let mut h = self.recent.take().unwrap_or_default();
        while !h.complete && h.pages < pages.max(1) {
            let page = match self.client.list_threads(&self.user, 100, h.after.as_deref()).await {
                Ok(p) => p,
                Err(e) => {
                    self.recent = Some(h);
                    return Err(e);
                }
            };
            h.posts.extend(page.data);
            h.pages += 1;
            match page.after {
                Some(a) => h.after = Some(a),
                None => h.complete = true,
            }
        }
        let found = h.posts.iter().filter(|m| same_post(m, text, alt, &self.known)).cloned().collect();
        self.recent = Some(h);
        Ok(found)
    }

    /// `root` (the first part) and the parts of `out` that follow it in its conversation,
    /// in order, up to the first one missing, with their permalinks where the listing has
    /// them. An error says how many parts were found.
    async fn chain_from(
        &self,
        root: &Media,
        out: &ThreadsOutput,
    ) -> Result<Vec<(MediaId, Option<String>)>, (ThreadsError, usize)> {
        let mut done = vec![(MediaId(root.id.clone()), root.permalink_or_fallback(&self.username))];
        if out.parts.len() > 1 {
            let mut replies = self.conversation(&done[0].0).await.map_err(|e| (e, 1))?;
            // Reply endpoints do not give `alt_text`: a part without text is matched on the
            // alt text read from each text-less reply itself.
            if out.parts[1..].iter().any(|p| p.text.trim().is_empty()) {
                for m in replies.iter_mut().filter(|m| m.text.as_deref().is_none_or(|t| t.trim().is_empty())) {
                    m.alt_text = self.client.media(&MediaId(m.id.clone())).await.map_err(|e| (e, 1))?.alt_text;
                }
            }
            for part in &out.parts[1..] {
                let alt = part.media.first().and_then(|m| m.alt.as_deref()).unwrap_or_default();
                let Some(m) = replies.iter().find(|m| same_post(m, &part.text, alt, &self.known)) else { break };
                done.push((MediaId(m.id.clone()), m.permalink_or_fallback(&self.username)));
            }
        }
        Ok(done)
    }

    async fn conversation(&self, root: &MediaId) -> Result<Vec<Media>, ThreadsError> {
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..10 {
            let page = self.client.conversation(root, 100, after.as_deref()).await?;
            all.extend(page.data);
            match page.after {
                Some(a) => after = Some(a),
                None => break,
            }
        }
        Ok(all)
    }
}

/// The text that identifies a post on the account: its first part's text, and for a part
/// without text, the alt text of its first media.
fn identity(out: &ThreadsOutput) -> (&str, &str) {
    let first = out.parts.first();
    let text = first.map(|p| p.text.as_str()).unwrap_or_default();
    let alt = first.and_then(|p| p.media.first()).and_then(|m| m.alt.as_deref()).unwrap_or_default();
    (text, alt)
}

/// Whether `m` is the post (or part) with this text (for a post without text, this alt
/// text): the one matching rule of publish and adopt. Posts recorded by another file
/// (`known`) never match.
fn same_post(m: &Media, text: &str, alt: &str, known: &HashSet<String>) -> bool {
    if known.contains(&m.id) {
        return false;
    }
    if text.trim().is_empty() {
        !alt.trim().is_empty()
            && m.text.as_deref().is_none_or(|t| t.trim().is_empty())
            && same_text(m.alt_text.as_deref(), alt)
    } else {
        same_text(m.text.as_deref(), text)
    }
}

/// Threads' `2026-11-28T10:00:00+0000` as RFC 3339 (`2026-11-28T10:00:00Z`).
fn rfc3339(ts: &str) -> Option<String> {
    let t = chrono::DateTime::parse_from_str(ts, "%Y-%m-%dT%H:%M:%S%z").ok()?;
    Some(t.with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

fn same_text(found: Option<&str>, wanted: &str) -> bool {
    found.is_some_and(|f| f.trim() == wanted.trim())
}

fn single(m: &MediaRef, carousel_item: bool) -> ContainerRequest {
    let url = m.url.clone().unwrap_or_default();
    let mut req = if m.format.is_video() { ContainerRequest::video(url) } else { ContainerRequest::image(url) };
    if carousel_item {
        req = req.carousel_item();
    }
    req.alt_text = m.alt.clone();
    req
}

fn reply_control(s: &str) -> Option<ReplyControl> {
    Some(match s {
        "everyone" => ReplyControl::Everyone,
        "accounts_you_follow" => ReplyControl::AccountsYouFollow,
        "mentioned_only" => ReplyControl::MentionedOnly,
        "parent_post_author_only" => ReplyControl::ParentPostAuthorOnly,
        "followers_only" => ReplyControl::FollowersOnly,
        _ => return None,
    })
}

fn poll(options: &[serde_saphyr::Spanned<String>]) -> Poll {
    let get = |i: usize| options.get(i).map(|o| o.value.clone());
    Poll {
        option_a: get(0).unwrap_or_default(),
        option_b: get(1).unwrap_or_default(),
        option_c: get(2),
        option_d: get(3),
    }
}
