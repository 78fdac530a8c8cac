//! Publishing a rendered post to X exactly once.
//!
//! X has no idempotency key, so the account's own posts are the ledger of last resort:
//! before the first create of a run, crier reads the account's most recent posts once
//! (`GET /2/users/:id/tweets`, 100 a page: owned reads, $0.001 a post) and keeps them for
//! the run. A part is adopted instead of created when a post there has its exact text (X
//! shortens links to t.co and escapes `&`, `<`, `>`, so links are compared as links and
//! entities decoded) and, for a later part of a chain, replies to the part before. Posts
//! recorded by any file of the repository, or made by this run, are never adopted.
//!
//! A create whose reply was lost, or that X refuses as "duplicate content" (a 403 that
//! names no id), is a reason to read the timeline again and look: the post found is
//! recorded; when it is not there, nothing is sent again and the post fails, for the next
//! run to reconcile. A chain X stops part-way (its reply rules refuse a part) fails with
//! the parts out so far; the next run finds them and resumes at the part refused.

use std::collections::HashSet;
use std::rc::Rc;

use super::api::{NewMedia, NewTweet, OnWait, ReplyTo, Tweet, Upload, User, XClient, XError};
use super::cost::{self, Meter};
use super::{XOutput, XPart, XPrices, count};
use crate::ledger::{PartRecord, Record};
use crate::media_probe::MediaFormat;
use crate::platforms::{Adoption, Job, parts};
use crate::rules::media::MediaRef;

/// Tunables (tests make them small).
#[derive(Debug, Clone, Copy)]
pub struct PublishOptions {
    /// Posts per page of the account's timeline (5..=100).
    pub page: usize,
    /// Pages read when looking for a post (the newest first).
    pub pages: usize,
}

impl Default for PublishOptions {
    fn default() -> Self {
        Self { page: super::api::MAX_PAGE, pages: 1 }
    }
}

/// Why one post failed.
#[derive(Debug, Clone)]
pub struct PublishFailure {
    pub message: String,
    /// Nothing else can succeed on X in this run (credentials, plan).
    pub fatal: Option<String>,
    pub published_parts: usize,
}

impl PublishFailure {
    fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), fatal: None, published_parts: 0 }
    }
}

impl From<XError> for PublishFailure {
    fn from(e: XError) -> Self {
        let fatal = match &e {
            XError::Unauthorized { .. } => Some("X rejected the credentials (run `crier auth x`)".to_owned()),
            XError::Plan { .. } => Some("X refused the account's plan or credits (see console.x.com)".to_owned()),
            _ => None,
        };
        Self { fatal, ..Self::new(e.to_string()) }
    }
}

pub struct XPublisher {
    client: XClient,
    opts: PublishOptions,
    prices: XPrices,
    meter: Rc<Meter>,
    me: Option<User>,
    /// The account's recent posts, read once per run (newest first).
    mine: Option<Vec<Tweet>>,
    /// Post ids recorded in the repository or made by this run: never adopted.
    known: HashSet<String>,
}

impl XPublisher {
    pub fn new(client: XClient, opts: PublishOptions, prices: XPrices, meter: Rc<Meter>) -> Self {
        Self { client, opts, prices, meter, me: None, mine: None, known: HashSet::new() }
    }

    pub fn exclude(&mut self, ids: impl IntoIterator<Item = String>) {
        self.known.extend(ids.into_iter().map(|id| id.trim().to_owned()).filter(|id| !id.is_empty()));
    }

    /// The account (`GET /2/users/me`, once).
    pub async fn me(&mut self, on_wait: OnWait<'_>) -> Result<User, XError> {
        if self.me.is_none() {
            let user = self.client.me(on_wait).await?;
            self.meter.add(cost::micros(self.prices.user_read));
            self.me = Some(user);
        }
        Ok(self.me.clone().expect("set above"))
    }

    /// Publishes `out` (adopting what an interrupted earlier run made) and returns the
    /// record to write back.
    pub async fn publish(
        &mut self,
        job: &Job<'_>,
        out: &XOutput,
        on_wait: OnWait<'_>,
    ) -> Result<Record, PublishFailure> {
        let Job { hash, now, progress, .. } = *job;
        let me = self.me(on_wait).await?;
        let n = out.parts.len();
        let mut made: Vec<String> = Vec::with_capacity(n);
        for (i, part) in out.parts.iter().enumerate() {
            let fail = |e: PublishFailure| PublishFailure { published_parts: i, ..e };
            let reply_to = made.last().cloned();
            if let Some(found) =
                self.find(&me, part, reply_to.as_deref(), false, on_wait).await.map_err(|e| fail(e.into()))?
            {
                progress(&if n > 1 {
                    format!("post {} of {n} is already on X (an earlier run was interrupted): recording it", i + 1)
                } else {
                    "already on X (an earlier run was interrupted): recording it".to_owned()
                });
                self.known.insert(found.clone());
                made.push(found);
                continue;
            }
            if n > 1 {
                progress(&format!("post {} of {n}", i + 1));
            }
            let media_ids = self.upload_all(&part.media, progress, on_wait).await.map_err(fail)?;
            let tweet = NewTweet {
                text: part.text.clone(),
                reply: reply_to.clone().map(|id| ReplyTo { in_reply_to_tweet_id: id }),
                poll: if i == 0 { out.poll.clone() } else { None },
                reply_settings: out.reply_settings.clone(),
                media: (!media_ids.is_empty()).then_some(NewMedia { media_ids }),
            };
            let price = cost::of_post(&part.text, &self.prices);
            let id = match self.client.create(&tweet, on_wait).await {
                Ok(t) => {
                    self.meter.post(price);
                    t.id
                }
                Err(e @ (XError::Ambiguous { .. } | XError::Duplicate { .. })) => {
                    if e.is_ambiguous() {
                        // It may have gone out (and been billed).
                        self.meter.post(price);
                        progress("the reply was lost: checking whether the post was created");
                    } else {
                        progress("X says this text is already posted: looking for it on the account");
                    }
                    match self.find(&me, part, reply_to.as_deref(), true, on_wait).await.map_err(|e| fail(e.into()))? {
                        Some(found) => found,
                        None => {
                            return Err(fail(PublishFailure::new(format!(
                                "{e}; it is not among the account's {} most recent posts, so crier did not send it again: check https://x.com/{} and run publish again (a post found there is recorded)",
                                self.opts.page * self.opts.pages,
                                me.username
                            ))));
                        }
                    }
                }
                Err(e) if i > 0 && e.is_reply_refused() => {
                    return Err(fail(PublishFailure::new(format!(
                        "X refused part {} of {n} as a reply ({e}): the chain stopped at part {i}; the next run resumes at part {}",
                        i + 1,
                        i + 1
                    ))));
                }
                Err(e) => return Err(fail(e.into())),
            };
            self.known.insert(id.clone());
            made.push(id);
        }
        Ok(record(&me.username, &made, now, hash))
    }

    /// Uploads a part's media in order (images in one request, GIFs and videos in chunks,
    /// waiting for X to process them) and sets their alt texts; their ids.
    async fn upload_all(
        &self,
        media: &[MediaRef],
        progress: &dyn Fn(&str),
        on_wait: OnWait<'_>,
    ) -> Result<Vec<String>, PublishFailure> {
        let mut ids = Vec::with_capacity(media.len());
        for m in media {
            let upload = Upload::read(m, "X").map_err(PublishFailure::new)?;
            let rel = m.path.as_deref().unwrap_or("");
            progress(&format!("uploading {rel}"));
            let uploaded = match m.format {
                MediaFormat::Gif => self.client.upload_chunked(&upload, "tweet_gif", on_wait).await?,
                f if f.is_video() => self.client.upload_chunked(&upload, "tweet_video", on_wait).await?,
                _ => self.client.upload_image(&upload, on_wait).await?,
            };
            if let Some(alt) = upload.description.as_deref().map(str::trim) {
                self.client.set_alt_text(&uploaded.id, alt, on_wait).await?;
                self.meter.add(cost::micros(self.prices.media_metadata));
            }
            ids.push(uploaded.id);
        }
        Ok(ids)
    }

    /// The id of a post of the account that is `part` (see the module docs). `fresh` reads
    /// the timeline again (after a write whose outcome is unknown).
    async fn find(
        &mut self,
        me: &User,
        part: &XPart,
        reply_to: Option<&str>,
        fresh: bool,
        on_wait: OnWait<'_>,
    ) -> Result<Option<String>, XError> {
        if fresh {
            self.mine = None;
        }
        if self.mine.is_none() {
            let mut all = Vec::new();
            let mut token: Option<String> = None;
            for _ in 0..self.opts.pages.max(1) {
                let page = self.client.timeline(&me.id, self.opts.page, token.as_deref(), on_wait).await?;
                self.meter.read(page.data.len() as u64, self.prices.owned_read);
                all.extend(page.data);
                token = page.meta.next_token;
                if token.is_none() {
                    break;
                }
            }
            self.mine = Some(all);
        }
        Ok(self.candidates(part, reply_to).into_iter().next())
    }

    /// Every post read from the account that is `part`, newest first.
    fn candidates(&self, part: &XPart, reply_to: Option<&str>) -> Vec<String> {
        let want = comparable(&part.text);
        let media = !part.media.is_empty();
        self.mine
            .as_deref()
            .unwrap_or_default()
            .iter()
            .filter(|t| !self.known.contains(&t.id) && t.replied_to() == reply_to && same_text(&t.text, &want, media))
            .map(|t| t.id.clone())
            .collect()
    }

    /// `crier adopt`: the post's parts on the account, found the way [`Self::publish`]
    /// reconciles, as a record; nothing is posted.
    pub async fn adopt(
        &mut self,
        job: &Job<'_>,
        out: &XOutput,
        on_wait: OnWait<'_>,
    ) -> Result<Adoption, PublishFailure> {
        let Job { hash, now, .. } = *job;
        let me = self.me(on_wait).await?;
        let n = out.parts.len();
        let mut made: Vec<String> = Vec::with_capacity(n);
        for (i, part) in out.parts.iter().enumerate() {
            let reply_to = made.last().cloned();
            self.find(&me, part, reply_to.as_deref(), false, on_wait).await?;
            let found = self.candidates(part, reply_to.as_deref());
            match parts::adopt_candidate((i, n), &found, |id| post_url(&me.username, id), "posts", "on X") {
                Ok(first) => {
                    self.known.insert(first.clone());
                    made.push(first.clone());
                }
                Err(verdict) => return Ok(verdict),
            }
        }
        Ok(Adoption::Found(record(&me.username, &made, now, hash)))
    }
}

/// Text as X returns it and as crier sends it, made comparable: entities decoded, every
/// link one placeholder (X returns t.co links), NFC, outer space trimmed.
pub fn comparable(text: &str) -> String {
    let decoded = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
    let normalized = count::normalize(&decoded);
    let mut out = String::with_capacity(normalized.len());
    let mut at = 0;
    for url in crate::render::text::find_urls(&normalized) {
        out.push_str(&normalized[at..url.start]);
        out.push('\u{1}');
        at = url.end;
    }
    out.push_str(&normalized[at..]);
    out.trim().to_owned()
}

/// Whether X's `text` of a post is `want` (made [`comparable`]); a post with media ends
/// in the media's t.co link, which X adds.
pub fn same_text(text: &str, want: &str, media: bool) -> bool {
    let got = comparable(text);
    got == want || (media && got.strip_suffix('\u{1}').map(str::trim_end) == Some(want))
}

/// `https://x.com/<username>/status/<id>`.
pub fn post_url(username: &str, id: &str) -> String {
    format!("https://x.com/{username}/status/{id}")
}

fn record(username: &str, made: &[String], now: &str, hash: &str) -> Record {
    Record {
        id: made[0].clone(),
        url: post_url(username, &made[0]),
        cid: None,
        published_at: now.to_owned(),
        hash: hash.to_owned(),
        parts: if made.len() > 1 {
            made.iter().map(|id| PartRecord { id: id.clone(), url: post_url(username, id), cid: None }).collect()
        } else {
            Vec::new()
        },
        deleted_at: None,
        relays: Vec::new(),
        d: None,
    }
}

/// Who asks for a wait, in the countdown of [`crate::platforms::countdown`].
pub const WAITER: &str = "X";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_compares_as_x_returns_it() {
        for (sent, returned, same) in [
            ("Tom & Jerry <3", "Tom &amp; Jerry &lt;3", true),
            ("Read https://example.com/a-long-post now", "Read https://t.co/abc123XYZ now", true),
            ("cafe\u{301}", "café", true),
            ("one text", "another text", false),
            ("Read https://example.com/a", "Read https://t.co/x and https://t.co/y", false),
        ] {
            assert_eq!(same_text(returned, &comparable(sent), false), same, "{sent:?} / {returned:?}");
        }
        // A post with media ends in the media's link.
        assert!(same_text("Look https://t.co/media1", &comparable("Look"), true));
        assert!(!same_text("Look https://t.co/media1", &comparable("Look"), false));
    }

    #[test]
    fn records_name_the_account() {
        let r = record("someone", &["1".into(), "2".into()], "2026-12-07T00:00:00Z", "sha256:x");
        assert_eq!(r.url, "https://x.com/someone/status/1");
        assert_eq!(r.parts[1].url, "https://x.com/someone/status/2");
        assert!(record("someone", &["1".into()], "t", "h").parts.is_empty());
    }
}
