//! `crier stats`: how the recorded posts did, read from every platform side by side
//! ([`collect`]), kept as history in git ([`history`]), shown as a table, CSV or JSON
//! ([`table`]) and drawn as charts ([`html`]). Read-only towards the platforms.
//!
//! A metric a platform does not report is absent, never 0 (contract section 4). A chain's
//! numbers are its parts' summed; the first part's are kept beside them.

pub mod history;
pub mod html;
pub mod table;

use std::collections::BTreeMap;

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::env::Env;
use crate::ledger::{self, Record};
use crate::pipeline::PostReport;
use crate::platforms::http::HttpOptions;
use crate::platforms::metrics::{Engagement, Metrics};
use crate::platforms::{self, ConnectContext, PlatformId, Recorded};
use crate::project::Project;

/// One recorded post on one platform, and its numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The post file, repository-relative.
    pub file: String,
    pub platform: PlatformId,
    /// The recorded id (the first part's, for a chain).
    pub id: String,
    pub url: String,
    pub published_at: String,
    /// The whole post: every part's numbers summed.
    pub metrics: Metrics,
    /// The first part's numbers, for a chain of several parts.
    pub first: Option<Metrics>,
}

/// A platform, or one post on it, that could not be read: why, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable {
    pub platform: PlatformId,
    pub reason: String,
}

/// What [`collect`] read.
#[derive(Debug, Default)]
pub struct Collected {
    pub rows: Vec<Row>,
    pub unavailable: Vec<Unavailable>,
    /// HTTP requests sent, all platforms together.
    pub calls: u64,
    /// What pay-per-use platforms charged for the reads ([`platforms::Session::spent`]).
    pub spent: Vec<String>,
}

impl Collected {
    /// `crier stats --format json` (contract section 4). Chains add `first_part`.
    pub fn to_json(&self) -> Value {
        let posts: Vec<Value> = self
            .rows
            .iter()
            .map(|r| {
                let mut v = json!({
                    "file": r.file,
                    "platform": r.platform.name(),
                    "url": r.url,
                    "published_at": r.published_at,
                    "metrics": r.metrics.to_json(),
                });
                if let Some(first) = &r.first {
                    v["first_part"] = first.to_json();
                }
                v
            })
            .collect();
        let unavailable: Vec<Value> =
            self.unavailable.iter().map(|u| json!({ "platform": u.platform.name(), "reason": u.reason })).collect();
        json!({ "posts": posts, "unavailable": unavailable })
    }
}

/// What looks on while [`collect`] reads: told how many posts there are to read, each
/// platform's steps, and when a platform is done.
pub trait Progress {
    /// Before any request: the posts (one per post and platform) to read.
    fn start(&self, posts: u64);
    fn step(&self, platform: PlatformId, message: &str);
    /// A platform's `posts` are read (or could not be).
    fn done(&self, platform: PlatformId, posts: u64);
}

/// A post's record on one platform, to read.
struct Target<'a> {
    report: &'a PostReport,
    record: Record,
}

/// Reads the numbers of every recorded, not deleted post of `reports` on `only` (every
/// platform when empty), the platforms side by side. A platform without its credentials,
/// or that fails, is listed as unavailable; the others still report.
pub async fn collect(
    project: &Project,
    env: &Env,
    reports: &[PostReport],
    only: &[PlatformId],
    http: HttpOptions,
    progress: &dyn Progress,
) -> Collected {
    let mut by_platform: BTreeMap<PlatformId, Vec<Target<'_>>> = BTreeMap::new();
    for report in reports {
        let Some(post) = &report.post else { continue };
        for id in PlatformId::all().filter(|p| only.is_empty() || only.contains(p)) {
            // An unconfirmed entry (sent, reply lost) has nothing to read yet.
            if let Ok(Some(record)) = ledger::get_record(&post.source.text, post.kind, id.name())
                && record.deleted_at.is_none()
                && !matches!(ledger::unconfirmed(&post.source.text, post.kind, id.name()), Ok(Some(_)))
            {
                by_platform.entry(id).or_default().push(Target { report, record });
            }
        }
    }
    progress.start(by_platform.values().map(|t| t.len() as u64).sum());
    let results = join_all(by_platform.iter().map(|(&id, targets)| async move {
        let read = read_platform(project, env, id, targets, http, progress).await;
        progress.done(id, targets.len() as u64);
        read
    }))
    .await;
    let mut out = Collected::default();
    for ((id, targets), (read, calls, spent)) in by_platform.iter().zip(results) {
        out.calls += calls;
        out.spent.extend(spent);
        match read {
            Err(reason) => out.unavailable.push(Unavailable { platform: *id, reason }),
            Ok(list) => {
                for (t, engagement) in targets.iter().zip(list) {
                    match engagement {
                        Ok(parts) => out.rows.push(row(t, *id, &parts)),
                        Err(why) => out
                            .unavailable
                            .push(Unavailable { platform: *id, reason: format!("{}: {why}", t.report.path) }),
                    }
                }
            }
        }
    }
    out
}

/// One platform's numbers (or why there are none), the calls it took and what it spent.
async fn read_platform(
    project: &Project,
    env: &Env,
    id: PlatformId,
    targets: &[Target<'_>],
    http: HttpOptions,
    progress: &dyn Progress,
) -> (Result<Vec<Engagement>, String>, u64, Option<String>) {
    let platform = platforms::get(id);
    if let Some(c) = platform.credentials().iter().find(|c| c.required && env.get(c.var).is_none()) {
        return (Err(format!("{} is not set ({})", c.var, platform.setup_hint())), 0, None);
    }
    let cx = ConnectContext { project, env, recorded_ids: Default::default(), http };
    let session = match platform.connect(&cx).await {
        Ok(s) => s,
        Err(f) => return (Err(format!("cannot connect: {}", f.fatal.unwrap_or(f.message))), 0, None),
    };
    progress.step(id, &format!("reading {} post(s)", targets.len()));
    let step = |msg: &str| progress.step(id, msg);
    let recorded: Vec<Recorded<'_>> = targets
        .iter()
        .filter_map(|t| {
            Some(Recorded { post: t.report.post.as_ref()?, record: &t.record, rendered: None, progress: &step })
        })
        .collect();
    let read = session.stats(&recorded).await.map_err(|f| f.message);
    (read, session.calls(), session.spent())
}

fn row(t: &Target<'_>, platform: PlatformId, parts: &[Metrics]) -> Row {
    let mut total = Metrics::default();
    for p in parts {
        total.add(p);
    }
    Row {
        file: t.report.path.clone(),
        platform,
        id: t.record.id.clone(),
        url: t.record.url.clone(),
        published_at: t.record.published_at.clone(),
        metrics: total,
        first: parts.first().copied().filter(|_| parts.len() > 1),
    }
}
