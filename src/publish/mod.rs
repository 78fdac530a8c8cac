//! Publishing: the plan (where every post stands on every platform), and the run
//! ([`run`]) that publishes what is due on every platform side by side.

pub mod cancel;
pub mod run;

use std::fmt::Write as _;
use std::path::PathBuf;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::content::Post;
use crate::pipeline::PostReport;
use crate::platforms::{self, Output, PlatformId};

/// Where one post stands on one platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// `draft: true`: never published.
    Draft,
    /// `publish_at` is in the future.
    Scheduled(DateTime<Utc>),
    /// Recorded in the file; `changed` when the post no longer renders to what was sent.
    Published { url: String, changed: bool },
    /// Taken down by `crier delete` at `at` (the record stays: never published again).
    Deleted { url: String, at: String },
    /// Sent, but the reply was lost on a platform that cannot say what it did: held back
    /// until the user records it (`crier adopt --id`) or clears it (`publish --resend`).
    /// `note` says what to check.
    Unconfirmed { note: String },
    /// New and due.
    Due,
    /// The post has errors (see `crier check`).
    Invalid,
}

impl State {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Scheduled(_) => "scheduled",
            Self::Published { changed: false, .. } => "published",
            Self::Published { changed: true, .. } => "changed",
            Self::Deleted { .. } => "deleted",
            Self::Unconfirmed { .. } => "unconfirmed",
            Self::Due => "due",
            Self::Invalid => "invalid",
        }
    }
}

#[derive(Debug, Clone)]
pub struct PlanEntry {
    pub path: String,
    pub abs_path: PathBuf,
    pub platform: PlatformId,
    pub state: State,
    pub publish_at: Option<DateTime<Utc>>,
    /// Fingerprint of what would be sent now.
    pub hash: Option<String>,
}

/// `sha256:<hex>` of what a platform receives.
pub fn fingerprint(rendered: &dyn Output) -> String {
    let digest = Sha256::digest(rendered.to_json().to_string().as_bytes());
    let mut hex = String::with_capacity(71);
    hex.push_str("sha256:");
    for b in digest {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

pub fn publish_at(post: &Post) -> Option<DateTime<Utc>> {
    let raw = post.front.publish_at.as_ref()?;
    DateTime::parse_from_rfc3339(raw.value.trim()).ok().map(|t| t.with_timezone(&Utc))
}

/// The recorded entry of `platform`, if any. An entry that is not a record crier can read
/// counts as none: `check` reports it (`rules::published`), and the post waits for a fix.
pub fn record_of(post: &Post, platform: PlatformId) -> Option<&Value> {
    let entry = post.front.published.as_ref()?.value.get(platform.name())?;
    crate::ledger::entry_problem(entry).is_none().then_some(entry).filter(|v| !v.is_null())
}

/// What a user does about an unconfirmed post: the two commands, for `path` on `platform`.
pub fn unconfirmed_hint(path: &str, platform: PlatformId) -> String {
    format!(
        "once you know, record it (`crier adopt {path} --platform {platform} --id ID`) or send it again (`crier publish --resend {path}`)"
    )
}

/// Every (post, platform) pair and its state, in publishing order: by
/// `publish_at` (posts without one first), then path.
pub fn plan(reports: &[PostReport], now: DateTime<Utc>) -> Vec<PlanEntry> {
    let mut entries = Vec::new();
    for r in reports {
        let Some(post) = &r.post else {
            // Unreadable: it counts once, under the first platform.
            entries.push(PlanEntry {
                path: r.path.clone(),
                abs_path: r.abs_path.clone(),
                platform: PlatformId::all().next().expect("at least one platform"),
                state: State::Invalid,
                publish_at: None,
                hash: None,
            });
            continue;
        };
        let at = publish_at(post);
        for &platform in &r.targets {
            let rendered = r.rendered.iter().find(|x| x.platform() == platform);
            let hash = rendered.map(|r| fingerprint(r.as_ref()));
            let state = if let Some(rec) = record_of(post, platform) {
                recorded_state(rec, hash.as_deref())
            } else if post.is_draft() {
                State::Draft
            } else if r.errors() > 0 || rendered.is_none() {
                // Before the schedule: a scheduled post with errors would fail when due.
                State::Invalid
            } else if let Some(t) = at.filter(|t| *t > now) {
                State::Scheduled(t)
            } else {
                State::Due
            };
            entries.push(PlanEntry {
                path: r.path.clone(),
                abs_path: r.abs_path.clone(),
                platform,
                state,
                publish_at: at,
                hash,
            });
        }
    }
    entries.sort_by(plan_order);
    entries
}

/// The order of [`plan`]. Platforms of one post in registry order: a post that links
/// another platform's post waits for it during the run (see `run`), whatever the order here.
pub fn plan_order(a: &PlanEntry, b: &PlanEntry) -> std::cmp::Ordering {
    a.publish_at.cmp(&b.publish_at).then_with(|| a.path.cmp(&b.path)).then(a.platform.cmp(&b.platform))
}

/// The state a record says, `hash` being the fingerprint of what would be sent now (none:
/// nothing to compare, so not `changed`).
fn recorded_state(rec: &Value, hash: Option<&str>) -> State {
    let url = rec.get("url").and_then(Value::as_str).unwrap_or_default().to_owned();
    let recorded = rec.get("hash").and_then(Value::as_str);
    let changed = matches!((recorded, hash), (Some(a), Some(b)) if a != b);
    match (crate::ledger::unconfirmed_note(rec), rec.get("deleted_at").and_then(Value::as_str)) {
        (Some(note), _) => State::Unconfirmed { note },
        (None, Some(at)) => State::Deleted { url, at: at.to_owned() },
        (None, None) => State::Published { url, changed },
    }
}

/// The records of platforms a post no longer lists in `platforms` (in [`plan`]'s order):
/// still out there, so `status` shows them, but never in [`plan`], so `publish` neither
/// updates nor republishes them.
pub fn unlisted(reports: &[PostReport]) -> Vec<PlanEntry> {
    let mut entries = Vec::new();
    for r in reports {
        let Some(post) = &r.post else { continue };
        for platform in PlatformId::all().filter(|p| !r.targets.contains(p)) {
            let Some(rec) = record_of(post, platform) else { continue };
            entries.push(PlanEntry {
                path: r.path.clone(),
                abs_path: r.abs_path.clone(),
                platform,
                state: recorded_state(rec, None),
                publish_at: publish_at(post),
                hash: None,
            });
        }
    }
    entries.sort_by(plan_order);
    entries
}

/// The display name of a platform ("dev.to").
pub fn display(p: PlatformId) -> &'static str {
    platforms::get(p).display_name()
}

pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn plan_json(entries: &[PlanEntry]) -> Value {
    Value::Array(entries.iter().map(entry_json).collect())
}

/// One entry of [`plan_json`].
pub fn entry_json(e: &PlanEntry) -> Value {
    let mut v = json!({"file": e.path, "platform": e.platform.name(), "state": e.state.name()});
    match &e.state {
        State::Scheduled(t) => v["publish_at"] = json!(rfc3339(*t)),
        State::Published { url, .. } => v["url"] = json!(url),
        State::Deleted { url, at } => {
            v["url"] = json!(url);
            v["deleted_at"] = json!(at);
        }
        State::Unconfirmed { note } => v["unconfirmed"] = json!(note),
        _ => {}
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Env;
    use crate::project::Project;

    fn plan_for(files: &[(&str, &str)], now: &str) -> Vec<(String, &'static str, &'static str)> {
        let dir = tempfile::tempdir().expect("tempdir");
        for (rel, text) in files {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, text).expect("write");
        }
        let project = Project::open(dir.path(), None, Env::default(), crate::platforms::catalog()).expect("open");
        let paths = crate::pipeline::select(&project, &[]).expect("select");
        let reports = crate::pipeline::check_all(&project, &paths);
        let now = DateTime::parse_from_rfc3339(now).expect("now").with_timezone(&Utc);
        plan(&reports, now).into_iter().map(|e| (e.path, e.platform.name(), e.state.name())).collect()
    }

    #[test]
    fn states_and_order() {
        let sent = "---\ntitle: Sent\nplatforms: [threads]\n---\nSame text\n";
        let files = [
            ("content/a-draft.md", "---\ndraft: true\nplatforms: [threads]\n---\nx\n"),
            ("content/b-later.md", "---\nplatforms: [threads]\npublish_at: 2030-01-01T00:00:00Z\n---\nx\n"),
            (
                "content/c-due.md",
                "---\ntitle: T\nplatforms: [threads, devto]\npublish_at: 2020-01-01T00:00:00Z\n---\nx\n",
            ),
            ("content/d-now.md", "---\nplatforms: [threads]\n---\nx\n"),
            ("content/e-bad.md", "---\nplatforms: [threads]\npublish_at: nope\n---\nx\n"),
            ("content/f-sent.md", sent),
            // Scheduled, but dev.to needs a title: invalid now, not when it is due.
            ("content/g-later-bad.md", "---\nplatforms: [devto]\npublish_at: 2030-01-01T00:00:00Z\n---\nx\n"),
        ];
        let got = plan_for(&files, "2026-11-28T10:00:00Z");
        let want = [
            ("content/a-draft.md", "threads", "draft"),
            ("content/d-now.md", "threads", "due"),
            ("content/e-bad.md", "threads", "invalid"),
            ("content/f-sent.md", "threads", "due"),
            // Scheduled posts follow in time order; platforms in registry order.
            ("content/c-due.md", "threads", "due"),
            ("content/c-due.md", "devto", "due"),
            ("content/b-later.md", "threads", "scheduled"),
            ("content/g-later-bad.md", "devto", "invalid"),
        ];
        let got: Vec<(&str, &str, &str)> = got.iter().map(|(p, pl, s)| (p.as_str(), *pl, *s)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn a_record_means_done_and_edits_are_noticed() {
        let body = "---\nplatforms: [threads]\n---\nHello\n";
        // Find the hash crier computes for this post, then record it.
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("content")).expect("mkdir");
        std::fs::write(dir.path().join("content/p.md"), body).expect("write");
        let project = Project::open(dir.path(), None, Env::default(), crate::platforms::catalog()).expect("open");
        let report = crate::pipeline::check_post(&project, &dir.path().join("content/p.md"));
        let hash = fingerprint(report.rendered[0].as_ref());
        let record = |h: &str| {
            format!(
                "---\nplatforms: [threads]\npublished:\n  threads:\n    id: \"1\"\n    url: \"https://www.threads.com/@u/post/A\"\n    published_at: \"2026-01-01T00:00:00Z\"\n    hash: \"{h}\"\n---\nHello\n"
            )
        };
        let same = plan_for(&[("content/p.md", &record(&hash))], "2026-11-28T10:00:00Z");
        assert_eq!(same[0].2, "published");
        let edited =
            plan_for(&[("content/p.md", &record(&hash).replace("Hello", "Hello, edited"))], "2026-11-28T10:00:00Z");
        assert_eq!(edited[0].2, "changed");
        // A record on a draft still counts as published.
        let draft = record(&hash).replace("platforms: [threads]", "platforms: [threads]\ndraft: true");
        assert_eq!(plan_for(&[("content/p.md", &draft)], "2026-11-28T10:00:00Z")[0].2, "published");
    }
}
