//! Taking dev.to articles down (`crier delete`) and looking them up (`crier status
//! --remote`).
//!
//! dev.to has no delete for its users: an article is taken down by unpublishing it
//! (`published: false`), which leaves it a draft in the author's dashboard. Looking up many
//! articles costs one listing of the account's articles (drafts included) per run, read
//! once and shared; only an id missing from it is asked for on its own, to tell an
//! article that is gone from one of another account.

use std::time::Duration;

use tokio::sync::OnceCell;

use super::DevtoOptions;
use super::DevtoOutput;
use super::api::{Article, DevtoClient, DevtoError, MAX_PER_PAGE};
use super::publish::WAITER;
use crate::platforms::countdown;
use crate::platforms::{Deletion, Failure, Recorded, Remote, downcast};

/// Said of every article taken down.
pub(super) const UNPUBLISHED_NOTE: &str = "unpublished: dev.to has no delete; the article is a draft in your dashboard";

/// Pages of [`MAX_PER_PAGE`] articles listed at most.
const MAX_PAGES: u32 = 20;

/// The account's articles, listed once per session.
pub(super) struct Articles {
    client: DevtoClient,
    mine: OnceCell<Mine>,
}

struct Mine {
    articles: Vec<Article>,
    /// Every article of the account was listed.
    complete: bool,
}

impl Articles {
    pub(super) fn new(client: DevtoClient) -> Self {
        Self { client, mine: OnceCell::new() }
    }

    /// Unpublishes the article; one that is not there (404) is already gone.
    pub(super) async fn delete(&self, target: &Recorded<'_>) -> Result<Deletion, Failure> {
        let id = article_id(target)?;
        let wait = countdown(target.progress, WAITER);
        let note = Some(UNPUBLISHED_NOTE.to_owned());
        match self.client.unpublish_article(id, &wait).await {
            Ok(_) => Ok(Deletion { deleted: 1, already_gone: 0, note }),
            // dev.to answers 404 both for an article that is gone and for another account's.
            Err(DevtoError::Rejected { status: 404, .. }) => match self.client.get_article(id, &wait).await {
                Err(DevtoError::Rejected { status: 404, .. }) => Ok(Deletion { deleted: 0, already_gone: 1, note }),
                Ok(a) => Err(Failure::new(format!(
                    "dev.to article {id} belongs to {}, not to the owner of DEVTO_API_KEY: crier unpublishes only that account's articles",
                    author(&a)
                ))),
                Err(e) => Err(failure(&e)),
            },
            Err(e) => Err(failure(&e)),
        }
    }

    /// Whether the article is still published as sent.
    pub(super) async fn inspect(&self, target: &Recorded<'_>) -> Result<Remote, Failure> {
        let id = article_id(target)?;
        let wait = countdown(target.progress, WAITER);
        let mine = self.mine(&wait).await?;
        let Some(article) = mine.articles.iter().find(|a| a.id == id) else {
            return match self.client.get_article(id, &wait).await {
                Err(DevtoError::Rejected { status: 404, .. }) => {
                    Ok(Remote::Gone("the article is no longer on dev.to".to_owned()))
                }
                Ok(a) if mine.complete || !same_author(&a, mine) => Ok(Remote::OtherAccount(format!(
                    "the article is {}'s, not of the owner of DEVTO_API_KEY",
                    author(&a)
                ))),
                Ok(a) => Ok(compare(&a, target)),
                Err(e) => Err(failure(&e)),
            };
        };
        Ok(compare(article, target))
    }

    async fn mine(&self, wait: &dyn Fn(Duration)) -> Result<&Mine, Failure> {
        self.mine
            .get_or_try_init(|| async {
                let articles = self.client.list_all_my_articles(MAX_PER_PAGE, MAX_PAGES, wait).await?;
                let complete = articles.len() < (MAX_PER_PAGE * MAX_PAGES) as usize;
                Ok::<_, DevtoError>(Mine { articles, complete })
            })
            .await
            .map_err(|e| failure(&e))
    }
}

/// The article found for a record, against what was sent.
fn compare(a: &Article, target: &Recorded<'_>) -> Remote {
    let out = target.rendered.and_then(downcast::<DevtoOutput>);
    // A post meant as a draft is where it should be as a draft.
    let meant_draft = match out {
        Some(o) => !o.published,
        None => target.post.options.get::<DevtoOptions>().and_then(|d| d.value.published) == Some(false),
    };
    if a.published == Some(false) && !meant_draft {
        return Remote::Gone("unpublished on dev.to: the article is a draft in the dashboard".to_owned());
    }
    let Some(out) = out else { return Remote::Same };
    let mut edits = Vec::new();
    if let Some(title) = out.title.as_deref() {
        if title.trim() != a.title.trim() {
            edits.push(format!("title \"{}\" is \"{}\" on dev.to", excerpt(title), excerpt(&a.title)));
        }
    }
    if let Some(body) = a.body_markdown.as_deref() {
        if normalize(body) != normalize(&out.body_markdown) {
            edits.push(body_difference(&out.body_markdown, body));
        }
    }
    if edits.is_empty() { Remote::Same } else { Remote::Edited(edits.join("; ")) }
}

fn article_id(target: &Recorded<'_>) -> Result<u64, Failure> {
    target
        .record
        .id
        .trim()
        .parse::<u64>()
        .map_err(|_| Failure::new(format!("the recorded dev.to id `{}` is not a number", target.record.id)))
}

fn failure(e: &DevtoError) -> Failure {
    Failure {
        message: e.to_string(),
        fatal: e.is_fatal().then(|| "the dev.to API key was rejected (check DEVTO_API_KEY)".to_owned()),
        published_parts: 0,
    }
}

fn author(a: &Article) -> String {
    match a.user.as_ref().map(|u| u.username.as_str()).filter(|u| !u.is_empty()) {
        Some(u) => format!("@{u}"),
        None => "another account".to_owned(),
    }
}

/// Whether `a` has the same author as the listed articles (unknown when none are listed).
fn same_author(a: &Article, mine: &Mine) -> bool {
    let me = mine.articles.iter().find_map(|m| m.user.as_ref().map(|u| u.username.as_str()));
    match (me, a.user.as_ref()) {
        (Some(me), Some(u)) => me.eq_ignore_ascii_case(&u.username),
        _ => false,
    }
}

/// dev.to keeps the Markdown as sent, give or take line endings and trailing blank space.
fn normalize(s: &str) -> String {
    s.replace("\r\n", "\n").lines().map(str::trim_end).collect::<Vec<_>>().join("\n").trim().to_owned()
}

fn excerpt(s: &str) -> String {
    let one_line = s.trim().replace('\n', " ");
    if one_line.chars().count() > 40 {
        format!("{}…", one_line.chars().take(40).collect::<String>())
    } else {
        one_line
    }
}

/// The first line of the body that differs.
fn body_difference(sent: &str, found: &str) -> String {
    let (a, b) = (normalize(sent), normalize(found));
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let i = la.iter().zip(&lb).take_while(|(x, y)| x == y).count();
    let line = |l: &[&str]| l.get(i).map_or_else(|| "(nothing)".to_owned(), |s| format!("\"{}\"", excerpt(s)));
    format!("body line {}: sent {}, dev.to has {}", i + 1, line(&la), line(&lb))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_difference_names_the_line() {
        let d = body_difference("Intro\n\nSecond paragraph.\n", "Intro\n\nSecond paragraph, edited.\n");
        assert_eq!(d, "body line 3: sent \"Second paragraph.\", dev.to has \"Second paragraph, edited.\"");
    }

    #[test]
    fn line_endings_and_trailing_space_are_not_edits() {
        assert_eq!(normalize("a  \r\nb\n\n"), normalize("a\nb"));
    }
}
