//! The publish run: plan what is due, validate it, publish it platform by
//! platform, and write each record back into its post file right away.

use std::fmt::Write as _;
use std::path::PathBuf;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::content::Post;
use crate::pipeline::PostReport;
use crate::platforms::{PlatformId, Rendered};

/// Where one post stands on one platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// `draft: true`: never published.
    Draft,
    /// `publish_at` is in the future.
    Scheduled(DateTime<Utc>),
    /// Recorded in the file; `changed` when the post no longer renders to what was sent.
    Published { url: String, changed: bool },
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
pub fn fingerprint(rendered: &Rendered) -> String {
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

/// The recorded entry of `platform`, if any.
pub fn record_of(post: &Post, platform: PlatformId) -> Option<&Value> {
    post.front.published.as_ref()?.get(platform.name()).filter(|v| !v.is_null())
}

/// Every (post, platform) pair and its state, in publishing order: by
/// `publish_at` (posts without one first), then path.
pub fn plan(reports: &[PostReport], now: DateTime<Utc>) -> Vec<PlanEntry> {
    let mut entries = Vec::new();
    for r in reports {
        let Some(post) = &r.post else {
            entries.push(PlanEntry {
                path: r.path.clone(),
                abs_path: r.abs_path.clone(),
                platform: PlatformId::Threads,
                state: State::Invalid,
                publish_at: None,
                hash: None,
            });
            continue;
        };
        let at = publish_at(post);
        for &platform in &r.targets {
            let rendered = r.rendered.iter().find(|x| x.platform() == platform);
            let hash = rendered.map(fingerprint);
            let state = if let Some(rec) = record_of(post, platform) {
                let url = rec.get("url").and_then(Value::as_str).unwrap_or_default().to_owned();
                let recorded = rec.get("hash").and_then(Value::as_str);
                let changed = matches!((recorded, &hash), (Some(a), Some(b)) if a != b);
                State::Published { url, changed }
            } else if post.is_draft() {
                State::Draft
            } else if let Some(t) = at.filter(|t| *t > now) {
                State::Scheduled(t)
            } else if r.errors() > 0 || rendered.is_none() {
                State::Invalid
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
    // dev.to first: a Threads teaser may link the article (`published.devto.url`).
    let rank = |p: PlatformId| match p {
        PlatformId::Devto => 0,
        PlatformId::Threads => 1,
    };
    entries.sort_by(|a, b| {
        a.publish_at.cmp(&b.publish_at).then_with(|| a.path.cmp(&b.path)).then(rank(a.platform).cmp(&rank(b.platform)))
    });
    entries
}

pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn plan_json(entries: &[PlanEntry]) -> Value {
    Value::Array(
        entries
            .iter()
            .map(|e| {
                let mut v = json!({"file": e.path, "platform": e.platform.name(), "state": e.state.name()});
                match &e.state {
                    State::Scheduled(t) => v["publish_at"] = json!(rfc3339(*t)),
                    State::Published { url, .. } => v["url"] = json!(url),
                    _ => {}
                }
                v
            })
            .collect(),
    )
}
