//! Drift: whether the platforms still show what the files record (`crier status --remote`,
//! `crier doctor`).
//!
//! Every recorded post (not deleted) is looked up on its platform through
//! [`Session::inspect`]: gone (removed in the app), edited there (its text differs from
//! what was sent, where the platform returns text and the file still renders to what was
//! sent, so the record's hash stands for the rendering), or on another account. Read-only.
//! Several lookups per platform are in flight at once, and the platforms run side by side.

use std::collections::{BTreeMap, HashMap};

use futures_util::future::join_all;
use futures_util::stream::{self, StreamExt};

use crate::env::Env;
use crate::ledger;
use crate::pipeline::PostReport;
use crate::platforms::http::HttpOptions;
use crate::platforms::{self, ConnectContext, PlatformId, Recorded, Remote};
use crate::project::Project;
use crate::publish::{PlanEntry, State, fingerprint};

/// Lookups in flight per platform.
const IN_FLIGHT: usize = 4;

/// What was found for one recorded post.
#[derive(Debug, Clone)]
pub struct Finding {
    pub path: String,
    pub platform: PlatformId,
    pub url: String,
    pub remote: Remote,
}

/// The plan entries a drift check looks at: published (deleted ones are gone on purpose)
/// on `only` (every platform when empty).
pub fn recorded<'a>(entries: &'a [PlanEntry], only: &[PlatformId]) -> Vec<&'a PlanEntry> {
    entries
        .iter()
        .filter(|e| matches!(e.state, State::Published { .. }))
        .filter(|e| only.is_empty() || only.contains(&e.platform))
        .collect()
}

/// Looks every entry up on its platform, in the entries' order. A platform that cannot
/// be connected leaves its entries [`Remote::Unchecked`] with the reason.
pub fn inspect(
    project: &Project,
    env: &Env,
    reports: &[PostReport],
    entries: &[&PlanEntry],
    http: HttpOptions,
    progress: &dyn Fn(&str),
) -> Vec<Finding> {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
        return entries
            .iter()
            .map(|e| finding(e, Remote::Unchecked("cannot start the network runtime".into())))
            .collect();
    };
    let mut by_platform: BTreeMap<PlatformId, Vec<(usize, &PlanEntry)>> = BTreeMap::new();
    for (i, e) in entries.iter().enumerate() {
        by_platform.entry(e.platform).or_default().push((i, e));
    }
    let reports: HashMap<&str, &PostReport> = reports.iter().map(|r| (r.path.as_str(), r)).collect();
    let mut out: Vec<Option<Finding>> = vec![None; entries.len()];
    let results = runtime.block_on(join_all(
        by_platform.into_iter().map(|(id, list)| inspect_platform(project, env, &reports, id, list, http, progress)),
    ));
    for (i, f) in results.into_iter().flatten() {
        out[i] = Some(f);
    }
    out.into_iter().flatten().collect()
}

async fn inspect_platform(
    project: &Project,
    env: &Env,
    reports: &HashMap<&str, &PostReport>,
    id: PlatformId,
    list: Vec<(usize, &PlanEntry)>,
    http: HttpOptions,
    progress: &dyn Fn(&str),
) -> Vec<(usize, Finding)> {
    let cx = ConnectContext { project, env, recorded_ids: Default::default(), http };
    let session = match platforms::get(id).connect(&cx).await {
        Ok(s) => s,
        Err(f) => {
            let why = format!("cannot connect: {}", f.fatal.unwrap_or(f.message));
            return list.into_iter().map(|(i, e)| (i, finding(e, Remote::Unchecked(why.clone())))).collect();
        }
    };
    let session = session.as_ref();
    stream::iter(list)
        .map(|(i, e)| async move {
            let remote = inspect_one(reports, e, session, progress).await;
            (i, finding(e, remote))
        })
        .buffered(IN_FLIGHT)
        .collect()
        .await
}

async fn inspect_one(
    reports: &HashMap<&str, &PostReport>,
    e: &PlanEntry,
    session: &dyn platforms::Session,
    progress: &dyn Fn(&str),
) -> Remote {
    let Some(report) = reports.get(e.path.as_str()) else {
        return Remote::Unchecked("the post is not among those read".into());
    };
    let Some(post) = &report.post else {
        return Remote::Unchecked("the post cannot be read (see `crier check`)".into());
    };
    let record = match ledger::get_record(&post.source.text, post.kind, e.platform.name()) {
        Ok(Some(r)) => r,
        Ok(None) => return Remote::Unchecked("no record".into()),
        Err(err) => return Remote::Unchecked(format!("cannot read the record: {err}")),
    };
    // The rendering stands for what was sent only while its fingerprint is the record's hash.
    let rendered = report
        .rendered
        .iter()
        .find(|r| r.platform() == e.platform)
        .filter(|r| fingerprint(r.as_ref()) == record.hash)
        .map(|r| r.as_ref());
    let label = format!("{} → {}", e.path, e.platform);
    let step = |msg: &str| progress(&format!("{label}: {msg}"));
    let target = Recorded { post, record: &record, rendered, progress: &step };
    match session.inspect(&target).await {
        Ok(remote) => remote,
        Err(f) => Remote::Unchecked(f.message),
    }
}

fn finding(e: &PlanEntry, remote: Remote) -> Finding {
    let url = match &e.state {
        State::Published { url, .. } | State::Deleted { url, .. } => url.clone(),
        _ => String::new(),
    };
    Finding { path: e.path.clone(), platform: e.platform, url, remote }
}

/// What the user can do about a finding.
pub fn advice(f: &Finding) -> String {
    let p = f.platform;
    match &f.remote {
        Remote::Gone(_) => format!(
            "record it with `crier delete {} --platform {p}` (a post already gone is not an error), or remove `published.{p}` to publish it again",
            f.path
        ),
        Remote::Edited(_) => {
            "the platform shows other text than crier sent; edit the post to match, or leave it".to_owned()
        }
        Remote::OtherAccount(_) => format!(
            "the credentials are for another account than the one that published it; use that account's, or remove `published.{p}`"
        ),
        Remote::Same | Remote::Unchecked(_) => String::new(),
    }
}
