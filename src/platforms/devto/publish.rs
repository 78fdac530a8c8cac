//! Publishing a rendered post to dev.to exactly once, and updating it in place.
//!
//! A create whose reply is lost, or a process killed between creating and writing the
//! record, must never produce a second article on the next run, even from a fresh clone.
//! So before creating an article for a post without a record, crier looks for it on the
//! account: the key owner's articles, drafts included (`/articles/me/all`), are listed once
//! per run and matched by `canonical_url` when the post has one (dev.to keeps it unique
//! across the site), else by title (preferring an article whose Markdown body is the same).
//! A create whose reply was lost is resolved by listing again and matching the same way; when
//! the article is not there, crier reports the post as failed instead of creating again
//! (the request may still be in flight), and the next run reconciles. Articles already
//! recorded by any file of the repository are never adopted, so a new post repeating an old
//! one's title is published.

use std::collections::HashSet;

use secrecy::SecretString;

use super::DevtoOutput;
use super::api::{
    Article, ArticleInput, ClientOptions, DevtoClient, DevtoError, MAX_PER_PAGE, OnWait, default_options,
};
use crate::ledger::Record;
use crate::platforms::{Adoption, Job};

/// Tunables (tests make them small).
#[derive(Debug, Clone, Copy)]
pub struct PublishOptions {
    pub client: ClientOptions,
    /// Page size when listing the account's articles for reconciliation (1..=1000).
    pub list_per_page: u32,
    /// At most this many pages are listed.
    pub max_list_pages: u32,
}

impl Default for PublishOptions {
    fn default() -> Self {
        Self { client: default_options(), list_per_page: MAX_PER_PAGE, max_list_pages: 20 }
    }
}

/// Why one post failed.
#[derive(Debug, Clone)]
pub struct PublishFailure {
    pub message: String,
    /// The key is bad: the whole run must stop.
    pub fatal: bool,
    /// A create may have taken effect but the article was not found: the next run
    /// reconciles before creating anything.
    pub ambiguous: bool,
}

impl From<DevtoError> for PublishFailure {
    fn from(e: DevtoError) -> Self {
        Self { fatal: e.is_fatal(), ambiguous: e.is_ambiguous(), message: e.to_string() }
    }
}

/// What a step reports, for progress display.
pub type Progress<'a> = &'a dyn Fn(&str);

pub struct DevtoPublisher {
    client: DevtoClient,
    opts: PublishOptions,
    /// The account's articles, listed once per run for reconciliation.
    mine: Option<Vec<Article>>,
    /// Article ids recorded in the repository (or published by this run): never adopted
    /// for another post.
    known: HashSet<u64>,
}

impl DevtoPublisher {
    /// A publisher for `base_url` (e.g. [`super::api::DEFAULT_BASE_URL`]).
    pub fn new(base_url: &str, api_key: SecretString, opts: PublishOptions) -> Self {
        Self { client: DevtoClient::new(base_url, api_key, opts.client), opts, mine: None, known: HashSet::new() }
    }

    /// Ids already recorded by posts of the repository (non-numeric ids are ignored).
    pub fn exclude(&mut self, ids: impl IntoIterator<Item = String>) {
        self.known.extend(ids.into_iter().filter_map(|id| id.trim().parse::<u64>().ok()));
    }

    /// HTTP requests sent so far.
    pub fn calls(&self) -> u64 {
        self.client.calls()
    }

    /// The underlying client.
    pub fn client(&self) -> &DevtoClient {
        &self.client
    }

    /// Publishes `out` (or adopts the article an earlier, interrupted run created) and
    /// returns the record to write back: id, URL, `now` and `hash`.
    pub async fn publish(
        &mut self,
        out: &DevtoOutput,
        hash: &str,
        now: &str,
        progress: Progress<'_>,
        on_wait: OnWait<'_>,
    ) -> Result<Record, PublishFailure> {
        let input = ArticleInput::from(out);
        if let Some(found) = self.find_existing(out, on_wait).await? {
            progress("found already on dev.to (an earlier run was interrupted): recording it");
            let article = self.bring_in_line(found, out, &input, on_wait).await?;
            return Ok(self.record(&article, now, hash));
        }
        let article = match self.client.create_article(&input, on_wait).await {
            Ok(a) => a,
            Err(DevtoError::Ambiguous { operation, message }) => {
                progress("the reply was lost: checking whether the article was created");
                // The cached list predates the create.
                self.mine = None;
                match self.find_existing(out, on_wait).await? {
                    Some(found) => self.bring_in_line(found, out, &input, on_wait).await?,
                    None => {
                        return Err(PublishFailure {
                            message: format!(
                                "{}; it is not among the account's articles yet, so crier did not send it again: run publish again to check and finish",
                                DevtoError::Ambiguous { operation, message }
                            ),
                            fatal: false,
                            ambiguous: true,
                        });
                    }
                }
            }
            Err(e) => return Err(e.into()),
        };
        Ok(self.record(&article, now, hash))
    }

    /// Updates the recorded article in place (`PUT`) and returns the record with the new
    /// hash; the id and first publication time stay, the URL is the one dev.to reports.
    pub async fn update(
        &mut self,
        previous: &Record,
        out: &DevtoOutput,
        hash: &str,
        on_wait: OnWait<'_>,
    ) -> Result<Record, PublishFailure> {
        let Ok(id) = previous.id.trim().parse::<u64>() else {
            return Err(PublishFailure {
                message: format!("the recorded dev.to id `{}` is not a number", previous.id),
                fatal: false,
                ambiguous: false,
            });
        };
        let input = ArticleInput { clear_missing: true, ..ArticleInput::from(out) };
        let article = match self.client.update_article(id, &input, on_wait).await {
            Ok(a) => a,
            Err(DevtoError::Rejected { status: 404, message }) => {
                return Err(PublishFailure {
                    message: format!(
                        "dev.to article {id} was not found for this API key (HTTP 404: {message}); if it was deleted, remove `published.devto` from the post to publish it again"
                    ),
                    fatal: false,
                    ambiguous: false,
                });
            }
            Err(e) => return Err(e.into()),
        };
        self.known.insert(id);
        let url = Some(article.url_or_path()).filter(|u| !u.is_empty()).unwrap_or_else(|| previous.url.clone());
        Ok(Record {
            relays: Vec::new(),
            d: None,
            id: previous.id.clone(),
            url,
            cid: None,
            published_at: previous.published_at.clone(),
            hash: hash.to_owned(),
            parts: Vec::new(),
            deleted_at: None,
        })
    }

    fn record(&mut self, a: &Article, now: &str, hash: &str) -> Record {
        self.known.insert(a.id);
        Record {
            relays: Vec::new(),
            d: None,
            id: a.id_string(),
            url: a.url_or_path(),
            cid: None,
            published_at: now.to_owned(),
            hash: hash.to_owned(),
            parts: Vec::new(),
            deleted_at: None,
        }
    }

    /// Brings an adopted article in line with `out` when its title, body or published state
    /// differ (it came from an older version of the post, or the run died half-way).
    async fn bring_in_line(
        &mut self,
        found: Article,
        out: &DevtoOutput,
        input: &ArticleInput,
        on_wait: OnWait<'_>,
    ) -> Result<Article, PublishFailure> {
        let same = out.title.as_deref().is_none_or(|t| t.trim() == found.title.trim())
            && found.body_markdown.as_deref().is_none_or(|b| b == out.body_markdown)
            && found.published.is_none_or(|p| p == out.published);
        if same {
            return Ok(found);
        }
        let input = ArticleInput { clear_missing: true, ..input.clone() };
        let updated = self.client.update_article(found.id, &input, on_wait).await?;
        Ok(if updated.url.is_empty() && updated.path.is_none() { found } else { updated })
    }

    /// An article of the account that is this post (the best of [`candidates`]).
    async fn find_existing(&mut self, out: &DevtoOutput, on_wait: OnWait<'_>) -> Result<Option<Article>, DevtoError> {
        Ok(self.candidates(out, on_wait).await?.into_iter().next())
    }

    /// `crier adopt`: the article of the account that is this post, matched as
    /// [`Self::publish`] matches, recorded as it is: nothing is created or updated. Two
    /// equally good candidates adopt nothing. An `incomplete` record (an id without a URL,
    /// as `crier import` writes them) is looked up by its id among the account's articles.
    pub async fn adopt(
        &mut self,
        job: &Job<'_>,
        out: &DevtoOutput,
        incomplete: Option<&Record>,
        on_wait: OnWait<'_>,
    ) -> Result<Adoption, PublishFailure> {
        let Job { hash, now, .. } = *job;
        if let Some(rec) = incomplete {
            let Ok(id) = rec.id.trim().parse::<u64>() else { return Ok(Adoption::NotFound) };
            let mine = self.mine(on_wait).await?;
            let Some(article) = mine.iter().find(|a| a.id == id) else { return Ok(Adoption::NotFound) };
            let url = article.url_or_path();
            let published_at = if rec.published_at.is_empty() {
                article.published_at.clone().unwrap_or_else(|| now.to_owned())
            } else {
                rec.published_at.clone()
            };
            return Ok(Adoption::Found(Record { url, published_at, hash: hash.to_owned(), ..rec.clone() }));
        }
        let found = self.candidates(out, on_wait).await?;
        match found.as_slice() {
            [] => Ok(Adoption::NotFound),
            [one] => {
                let mut record = self.record(one, now, hash);
                if let Some(at) = one.published_at.as_deref().filter(|t| !t.is_empty()) {
                    at.clone_into(&mut record.published_at);
                }
                Ok(Adoption::Found(record))
            }
            many => {
                let by = if out.canonical_url.as_deref().is_some_and(|c| !c.trim().is_empty()) {
                    "this canonical_url"
                } else {
                    "this title"
                };
                let urls: Vec<String> = many.iter().map(Article::url_or_path).collect();
                Ok(Adoption::Ambiguous(format!("{} articles have {by}: {}", many.len(), urls.join(", "))))
            }
        }
    }

    /// The account's articles listed once per run (drafts included), then [`candidates`].
    async fn candidates(&mut self, out: &DevtoOutput, on_wait: OnWait<'_>) -> Result<Vec<Article>, DevtoError> {
        if identity(out).is_none() {
            return Ok(Vec::new());
        }
        self.mine(on_wait).await?;
        let mine = self.mine.as_deref().unwrap_or_default();
        Ok(candidates(mine, out, &self.known).into_iter().cloned().collect())
    }

    /// The account's articles, drafts included, listed once per run.
    async fn mine(&mut self, on_wait: OnWait<'_>) -> Result<&[Article], DevtoError> {
        if self.mine.is_none() {
            let all =
                self.client.list_all_my_articles(self.opts.list_per_page, self.opts.max_list_pages, on_wait).await?;
            self.mine = Some(all);
        }
        Ok(self.mine.as_deref().unwrap_or_default())
    }
}

/// How a post is recognised on dev.to: its canonical URL, else its title.
enum Identity<'a> {
    Canonical(&'a str),
    Title(&'a str),
}

fn identity(out: &DevtoOutput) -> Option<Identity<'_>> {
    let canonical = out.canonical_url.as_deref().map(str::trim).filter(|c| !c.is_empty());
    let title = out.title.as_deref().map(str::trim).filter(|t| !t.is_empty());
    canonical.map(Identity::Canonical).or(title.map(Identity::Title))
}

/// The articles that are this post, equally good, in the account's order (newest first):
/// the same canonical URL when the post has one (dev.to keeps it unique across the site),
/// else the same title, narrowed to those with the same Markdown body when there are any.
/// Articles recorded by another file (`known`) never match. The one matching rule of
/// publish (which takes the first) and adopt (which wants exactly one).
fn candidates<'a>(mine: &'a [Article], out: &DevtoOutput, known: &HashSet<u64>) -> Vec<&'a Article> {
    let free = mine.iter().filter(|a| !known.contains(&a.id));
    match identity(out) {
        None => Vec::new(),
        Some(Identity::Canonical(c)) => {
            free.filter(|a| a.canonical_url.as_deref().is_some_and(|u| same_url(u, c))).collect()
        }
        Some(Identity::Title(t)) => {
            let titled: Vec<&Article> = free.filter(|a| a.title.trim() == t).collect();
            let same_body: Vec<&Article> = titled
                .iter()
                .copied()
                .filter(|a| a.body_markdown.as_deref() == Some(out.body_markdown.as_str()))
                .collect();
            if same_body.is_empty() { titled } else { same_body }
        }
    }
}

fn same_url(a: &str, b: &str) -> bool {
    a.trim().trim_end_matches('/') == b.trim().trim_end_matches('/')
}

/// Who asks for a wait, in the countdown of [`crate::platforms::countdown`].
pub const WAITER: &str = "dev.to";
