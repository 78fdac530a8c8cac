//! `crier publish`: publish what is new and due, exactly once, and record it.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::time::Duration;

use secrecy::SecretString;

use super::check::print;
use super::{Global, Outcome, open_project};
use crate::cli::PublishArgs;
use crate::diag;
use crate::error::{Error, Result};
use crate::git::{self, GitError, GitOptions, GitOutcome, RecordChange, RepoInfo};
use crate::ledger;
use crate::pipeline::{self, PostReport};
use crate::platforms::devto::publish::{DevtoPublisher, PublishOptions as DevtoOptions, describe_wait};
use crate::platforms::threads::api::RetryOptions;
use crate::platforms::threads::publish::{PublishOptions, ThreadsPublisher};
use crate::platforms::{PlatformId, Rendered};
use crate::project::Project;
use crate::publish::{self, PlanEntry, State};

const DEFAULT_THREADS_API: &str = "https://graph.threads.net";
const DEFAULT_DEVTO_API: &str = "https://dev.to/api";

/// What happened to one (post, platform) in this run.
#[derive(Debug, Default)]
struct RunSummary {
    published: Vec<String>,
    deferred: Vec<String>,
    failed: Vec<String>,
    /// Records written into files this run, to commit.
    written: Vec<RecordChange>,
    /// What happened in git.
    git: Vec<String>,
}

/// Git problems found before publishing are environment errors (exit 2).
fn before_publishing(e: GitError) -> Error {
    Error::Env { message: e.to_string() }
}

pub fn execute(g: &Global, args: &PublishArgs) -> Result<Outcome> {
    let project = open_project(g)?;
    let now = g.env.now()?;
    let mut only_platforms = Vec::new();
    for name in &args.platform {
        only_platforms.push(
            PlatformId::parse(name)
                .ok_or_else(|| Error::usage(format!("unknown platform `{name}`: {}", PlatformId::hint_for(name))))?,
        );
    }
    let files =
        if args.only.is_empty() { pipeline::select(&project, &[])? } else { pipeline::select(&project, &args.only)? };
    let reports = pipeline::check_all(&project, &files);
    let mut entries = publish::plan(&reports, now);
    entries.retain(|e| only_platforms.is_empty() || only_platforms.contains(&e.platform));

    // Any error in a due post: publish nothing.
    let invalid: Vec<&PlanEntry> = entries.iter().filter(|e| e.state == State::Invalid).collect();
    if !invalid.is_empty() || !project.templates.diagnostics.is_empty() {
        let sources = pipeline::sources(&project, &reports);
        let mut out = String::new();
        for d in &project.templates.diagnostics {
            out.push_str(&diag::render_human(d, &sources, g.style));
        }
        let mut seen = std::collections::BTreeSet::new();
        for e in &invalid {
            if let Some(r) = reports.iter().find(|r| r.path == e.path).filter(|_| seen.insert(e.path.clone())) {
                for d in r.diagnostics.iter().filter(|d| d.is_error()) {
                    out.push_str(&diag::render_human(d, &sources, g.style));
                }
            }
        }
        let _ =
            writeln!(out, "nothing was published: fix the errors above (`crier check` lists them all), then run again");
        eprint!("{out}");
        return Ok(Outcome::Failure);
    }

    // The safety net: at most `max_per_run` posts per run.
    let cap = project.config.publish.max_per_run as usize;
    let mut due_posts: Vec<String> = Vec::new();
    let mut capped = Vec::new();
    for e in entries.iter().filter(|e| e.state == State::Due) {
        if !due_posts.contains(&e.path) {
            if due_posts.len() >= cap {
                capped.push(e.path.clone());
                continue;
            }
            due_posts.push(e.path.clone());
        }
    }

    if args.dry_run {
        print(&dry_run_report(&entries, &reports, &due_posts, &capped, cap));
        return Ok(Outcome::Success);
    }

    // One publish at a time per checkout; refuse checkouts that cannot push.
    let _lock = git::lock(&project.root).map_err(before_publishing)?;
    let repo = if args.no_commit {
        RepoInfo::NotARepository
    } else {
        git::preflight(&project.root).map_err(before_publishing)?
    };
    let pending = match &repo {
        RepoInfo::Repository { .. } => git::pending_records(&project.root).map_err(before_publishing)?,
        RepoInfo::NotARepository => Vec::new(),
    };

    let mut summary = RunSummary::default();
    for path in &capped {
        summary.deferred.push(format!("{path}: over this run's limit of {cap} posts (publish.max_per_run); next run"));
    }
    // Due posts in order, plus dev.to articles edited since they were published
    // (updated in place; Threads posts cannot be edited and are left alone).
    let work: Vec<&PlanEntry> = entries
        .iter()
        .filter(|e| {
            (e.state == State::Due && due_posts.contains(&e.path))
                || (e.platform == PlatformId::Devto && matches!(e.state, State::Published { changed: true, .. }))
        })
        .collect();
    if !work.is_empty() {
        publish_all(g, &project, &reports, &work, now, &mut summary)?;
    }

    if args.no_commit {
        summary.git.push("records written to the files; not committed (--no-commit)".to_owned());
    } else if repo == RepoInfo::NotARepository {
        if !summary.written.is_empty() {
            summary.git.push(
                "warning: not a git repository: the records were written to the files, but nothing was committed"
                    .to_owned(),
            );
        }
    } else {
        let mut changes = pending;
        changes.extend(summary.written.iter().cloned());
        let opts = GitOptions {
            commit: true,
            push: !args.no_push,
            max_push_attempts: 5,
            token: GitOptions::token_from(&g.env),
            author: project.config.git.author_name.clone().zip(project.config.git.author_email.clone()),
        };
        match git::commit_and_push(&project.root, &changes, &opts) {
            Ok(GitOutcome::Committed { commit, pushed, notes, .. }) => {
                let short = &commit[..commit.len().min(8)];
                summary.git.push(if pushed {
                    format!("committed the records as {short} and pushed them")
                } else if args.no_push {
                    format!("committed the records as {short}; not pushed (--no-push)")
                } else {
                    format!("committed the records as {short}")
                });
                summary.git.extend(notes);
            }
            Ok(GitOutcome::NothingToCommit | GitOutcome::NotARepository) => {}
            Err(e) => {
                summary.failed.push(format!("git: {e}"));
            }
        }
    }

    let text = summary_text(&summary, &entries);
    print(&text);
    if let Some(path) = g.env.get("GITHUB_STEP_SUMMARY") {
        let md = format!("## crier publish\n\n```text\n{text}```\n");
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            use std::io::Write as _;
            let _ = f.write_all(md.as_bytes());
        }
    }
    Ok(if summary.failed.is_empty() { Outcome::Success } else { Outcome::Failure })
}

fn publish_options(project: &Project) -> PublishOptions {
    let p = &project.config.publish;
    PublishOptions {
        retry: RetryOptions {
            max_total_wait: Duration::from_secs(p.max_retry_wait_secs),
            initial_delay: Duration::from_millis(p.retry_initial_delay_ms),
            request_timeout: Duration::from_secs(p.request_timeout_secs.max(1)),
        },
        max_processing: Duration::from_secs(p.processing_timeout_secs),
        poll_interval: Duration::from_millis(p.poll_interval_ms.max(1)),
        reconcile_pages: 5,
    }
}

/// Publishes `work` in order (dev.to before Threads for the same post, so a
/// Threads teaser can link the article), writing each record right away.
fn publish_all(
    g: &Global,
    project: &Project,
    reports: &[PostReport],
    work: &[&PlanEntry],
    now: chrono::DateTime<chrono::Utc>,
    summary: &mut RunSummary,
) -> Result<()> {
    let count = |p: PlatformId| work.iter().filter(|e| e.platform == p).count();
    let missing = |var: &str, n: usize, platform: &str| Error::Env {
        message: format!(
            "{var} is not set, and {n} post{} due for {platform}; set it in the environment or in .env (see the README), or use --dry-run",
            if n == 1 { " is" } else { "s are" }
        ),
    };
    let threads_token = match count(PlatformId::Threads) {
        0 => None,
        n => Some(SecretString::from(
            g.env.get("THREADS_ACCESS_TOKEN").ok_or_else(|| missing("THREADS_ACCESS_TOKEN", n, "Threads"))?.to_owned(),
        )),
    };
    let devto_key = match count(PlatformId::Devto) {
        0 => None,
        n => Some(SecretString::from(
            g.env.get("DEVTO_API_KEY").ok_or_else(|| missing("DEVTO_API_KEY", n, "dev.to"))?.to_owned(),
        )),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the network runtime", e))?;
    let progress = Progress::new(g.quiet);
    let posts = || reports.iter().filter_map(|r| r.post.as_ref());
    runtime.block_on(async {
        let mut devto = devto_key.map(|key| {
            let base = g.env.get("CRIER_DEVTO_API_URL").unwrap_or(DEFAULT_DEVTO_API);
            let mut p = DevtoPublisher::new(base, key, devto_options(project));
            p.exclude(posts().flat_map(|post| recorded_ids(post, PlatformId::Devto)));
            p
        });
        let mut threads: Option<Result<(ThreadsPublisher, u64), String>> = None;
        let mut devto_failed: Vec<&str> = Vec::new();
        let mut stop: Vec<(PlatformId, String)> = Vec::new();
        for entry in work {
            let label = format!("{} → {}", entry.path, entry.platform);
            if let Some((_, why)) = stop.iter().find(|(p, _)| *p == entry.platform) {
                summary.failed.push(format!("{label}: not attempted: {why}"));
                continue;
            }
            // Read the post again: an earlier step of this run may have recorded a platform it links.
            let post = match crate::content::parse_file(&project.root, &entry.abs_path) {
                Ok(p) => p,
                Err(d) => {
                    summary.failed.push(format!("{label}: cannot read the post again: {}", d.message));
                    continue;
                }
            };
            match entry.platform {
                PlatformId::Devto => {
                    let Some(publisher) = devto.as_mut() else { continue };
                    let out = match PlatformId::Devto.platform().render(project, &post, &[PlatformId::Devto]) {
                        Ok(Rendered::Devto(d)) => d,
                        Ok(_) | Err(_) => {
                            summary.deferred.push(format!(
                                "{label}: waits until the platforms its template links (published.<platform>.url) are published"
                            ));
                            devto_failed.push(&entry.path);
                            continue;
                        }
                    };
                    let hash = publish::fingerprint(&Rendered::Devto(out.clone()));
                    progress.start(&label);
                    let step = |msg: &str| progress.step(msg);
                    let wait = |left: Duration| progress.step(&describe_wait(left));
                    let previous = ledger::get_record(&post.source.text, post.kind, "devto").ok().flatten();
                    let updating = matches!(entry.state, State::Published { .. });
                    let result = match (&previous, updating) {
                        (Some(prev), true) => publisher.update(prev, &out, &hash, &wait).await,
                        _ => publisher.publish(&out, &hash, &publish::rfc3339(now), &step, &wait).await,
                    };
                    progress.finish();
                    match result {
                        Ok(record) => record_written(summary, &post, PlatformId::Devto, record, updating),
                        Err(f) => {
                            devto_failed.push(&entry.path);
                            summary.failed.push(format!("{label}: {}", f.message));
                            if f.fatal {
                                stop.push((PlatformId::Devto, "the dev.to API key was rejected (check DEVTO_API_KEY)".to_owned()));
                            }
                        }
                    }
                }
                PlatformId::Threads => {
                    if devto_failed.contains(&entry.path.as_str()) {
                        summary.deferred.push(format!(
                            "{label}: waits for its dev.to article, which did not go out in this run; next run"
                        ));
                        continue;
                    }
                    if threads.is_none() {
                        threads = Some(connect_threads(g, project, threads_token.clone(), &posts().collect::<Vec<_>>()).await);
                    }
                    let (publisher, budget) = match threads.as_mut() {
                        Some(Ok(pair)) => pair,
                        Some(Err(why)) => {
                            summary.failed.push(format!("{label}: not attempted: {why}"));
                            continue;
                        }
                        None => continue,
                    };
                    if *budget == 0 {
                        summary.deferred.push(format!(
                            "{label}: the Threads publishing quota (250 posts per 24 hours) is used up; next run"
                        ));
                        continue;
                    }
                    // Render for real: cross-links only to platforms that are recorded.
                    let rendered = match PlatformId::Threads.platform().render(project, &post, &[PlatformId::Threads]) {
                        Ok(Rendered::Threads(t)) => t,
                        Ok(_) | Err(_) => {
                            summary.deferred.push(format!(
                                "{label}: waits until the platforms its template links (published.<platform>.url) are published"
                            ));
                            continue;
                        }
                    };
                    let missing_url: Vec<&str> = rendered
                        .parts
                        .iter()
                        .flat_map(|p| &p.media)
                        .filter(|m| m.url.is_none())
                        .filter_map(|m| m.path.as_deref())
                        .collect();
                    if !missing_url.is_empty() {
                        summary.failed.push(format!(
                            "{label}: no public URL for {}: set media.base_url in crier.yaml (Threads fetches media by URL), or publish from GitHub Actions",
                            missing_url.join(", ")
                        ));
                        continue;
                    }
                    let hash = publish::fingerprint(&Rendered::Threads(rendered.clone()));
                    progress.start(&label);
                    let step = |msg: &str| progress.step(msg);
                    let result = publisher.publish(&post, &rendered, &hash, &publish::rfc3339(now), &step).await;
                    progress.finish();
                    match result {
                        Ok(record) => {
                            record_written(summary, &post, PlatformId::Threads, record, false);
                            *budget -= 1;
                        }
                        Err(f) => {
                            let resume = if f.published_parts > 0 {
                                format!(" ({} part(s) are out; the next run resumes after them)", f.published_parts)
                            } else {
                                String::new()
                            };
                            summary.failed.push(format!("{label}: {}{resume}", f.message));
                            if f.fatal {
                                stop.push((
                                    PlatformId::Threads,
                                    "the run stopped: the Threads token was rejected (run `crier auth refresh`)".to_owned(),
                                ));
                            }
                        }
                    }
                }
            }
        }
    });
    Ok(())
}

/// Connects to Threads and reads the remaining quota, or says why not.
async fn connect_threads(
    g: &Global,
    project: &Project,
    token: Option<SecretString>,
    posts: &[&crate::content::Post],
) -> std::result::Result<(ThreadsPublisher, u64), String> {
    let token = token.ok_or_else(|| "THREADS_ACCESS_TOKEN is not set".to_owned())?;
    let base = g.env.get("CRIER_THREADS_API_URL").unwrap_or(DEFAULT_THREADS_API);
    let mut publisher = ThreadsPublisher::connect(
        base,
        token,
        g.env.get("THREADS_USER_ID"),
        g.env.get("THREADS_USERNAME"),
        publish_options(project),
    )
    .await
    .map_err(|e| e.to_string())?;
    // Posts recorded anywhere in the repository are never adopted for another.
    publisher.exclude(posts.iter().flat_map(|post| recorded_ids(post, PlatformId::Threads)));
    let remaining = publisher.remaining_quota().await.map_err(|e| format!("cannot read the publishing quota: {e}"))?;
    Ok((publisher, remaining))
}

fn devto_options(project: &Project) -> DevtoOptions {
    let p = &project.config.publish;
    let mut opts = DevtoOptions::default();
    opts.client.max_total_wait = Duration::from_secs(p.max_retry_wait_secs.max(360));
    opts.client.initial_delay = Duration::from_millis(p.retry_initial_delay_ms);
    opts.client.request_timeout = Duration::from_secs(p.request_timeout_secs.max(1));
    opts.client.min_write_interval = Duration::from_millis(p.write_interval_ms);
    opts
}

/// Writes the record into the post file and notes it for the commit.
fn record_written(
    summary: &mut RunSummary,
    post: &crate::content::Post,
    platform: PlatformId,
    record: ledger::Record,
    updated: bool,
) {
    let label = format!("{} → {platform}", post.path);
    let url = record.url.clone();
    match write_record(post, platform, &record) {
        Ok(()) => {
            summary.published.push(if updated { format!("{label}: updated {url}") } else { format!("{label}: {url}") });
            summary.written.push(RecordChange {
                rel_path: post.path.clone(),
                kind: post.kind,
                platform: platform.name().to_owned(),
                record,
            });
        }
        Err(e) => summary.failed.push(format!(
            "{label}: published as {url}, but the record could not be written ({e}); the next run will find it on {platform} and record it"
        )),
    }
}

fn recorded_ids(post: &crate::content::Post, platform: PlatformId) -> Vec<String> {
    let Some(rec) = publish::record_of(post, platform) else { return Vec::new() };
    let mut ids: Vec<String> =
        rec.get("id").and_then(serde_json::Value::as_str).map(str::to_owned).into_iter().collect();
    if let Some(parts) = rec.get("parts").and_then(serde_json::Value::as_array) {
        ids.extend(parts.iter().filter_map(|p| p.get("id").and_then(serde_json::Value::as_str)).map(str::to_owned));
    }
    ids
}

fn write_record(
    post: &crate::content::Post,
    platform: PlatformId,
    record: &ledger::Record,
) -> std::result::Result<(), String> {
    let current = std::fs::read_to_string(&post.abs_path).map_err(|e| format!("cannot read the file: {e}"))?;
    let updated = ledger::set_record(&current, post.kind, platform.name(), record).map_err(|e| e.to_string())?;
    ledger::write_atomic(&post.abs_path, updated.as_bytes()).map_err(|e| format!("cannot write the file: {e}"))
}

fn dry_run_report(
    entries: &[PlanEntry],
    reports: &[PostReport],
    due_posts: &[String],
    capped: &[String],
    cap: usize,
) -> String {
    let mut out = String::from("publish plan (dry run: nothing is sent, written or committed)\n");
    let section = |out: &mut String, title: &str, lines: Vec<String>| {
        if !lines.is_empty() {
            let _ = writeln!(out, "\n{title}:");
            for l in lines {
                let _ = writeln!(out, "  {l}");
            }
        }
    };
    let summary_of = |e: &PlanEntry| {
        reports
            .iter()
            .find(|r| r.path == e.path)
            .and_then(|r| r.rendered.iter().find(|x| x.platform() == e.platform))
            .map(|r| r.summary().split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    };
    let mut publish_lines = Vec::new();
    for e in entries.iter().filter(|e| e.state == State::Due && due_posts.contains(&e.path)) {
        publish_lines.push(format!("{} → {}  ({})", e.path, e.platform, summary_of(e)));
    }
    section(&mut out, "would publish now", publish_lines);
    section(
        &mut out,
        &format!("deferred to a later run (publish.max_per_run is {cap})"),
        capped.iter().map(|p| p.to_string()).collect(),
    );
    let mut sched = Vec::new();
    let mut done = Vec::new();
    let mut changed = Vec::new();
    let mut drafts = Vec::new();
    for e in entries {
        match &e.state {
            State::Scheduled(t) => sched.push(format!("{} → {} at {}", e.path, e.platform, publish::rfc3339(*t))),
            State::Published { url, changed: false } => done.push(format!("{} → {}  {url}", e.path, e.platform)),
            State::Published { url, changed: true } => changed.push(match e.platform {
                PlatformId::Threads => format!(
                    "{} → threads  {url}: changed since it was published; Threads posts cannot be edited, so it is left alone",
                    e.path
                ),
                PlatformId::Devto => format!("{} → devto  {url}: changed since it was published: would update it in place", e.path),
            }),
            State::Draft => drafts.push(format!("{} → {}", e.path, e.platform)),
            State::Due | State::Invalid => {}
        }
    }
    section(&mut out, "scheduled", sched);
    section(&mut out, "changed since published", changed);
    section(&mut out, "already published", done);
    section(&mut out, "drafts (never published while `draft: true`)", drafts);
    if entries.is_empty() {
        out.push_str("\nno posts\n");
    }
    out
}

fn summary_text(s: &RunSummary, entries: &[PlanEntry]) -> String {
    let mut out = String::new();
    let scheduled = entries.iter().filter(|e| matches!(e.state, State::Scheduled(_))).count();
    let _ = writeln!(
        out,
        "published {}, deferred {}, failed {}, scheduled later {}",
        s.published.len(),
        s.deferred.len(),
        s.failed.len(),
        scheduled
    );
    for (title, lines) in
        [("published", &s.published), ("deferred", &s.deferred), ("failed", &s.failed), ("git", &s.git)]
    {
        if !lines.is_empty() {
            let _ = writeln!(out, "{title}:");
            for l in lines {
                let _ = writeln!(out, "  {l}");
            }
        }
    }
    out
}

/// Progress on a terminal (a spinner), plain lines on stderr otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    quiet: bool,
    current: std::sync::Mutex<String>,
}

impl Progress {
    fn new(quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let b = indicatif::ProgressBar::new_spinner();
            b.enable_steady_tick(Duration::from_millis(120));
            b
        });
        Self { bar, quiet, current: std::sync::Mutex::new(String::new()) }
    }

    fn start(&self, what: &str) {
        if let Ok(mut c) = self.current.lock() {
            what.clone_into(&mut c);
        }
        match &self.bar {
            Some(b) => b.set_message(format!("publishing {what}")),
            None if !self.quiet => eprintln!("publishing {what}"),
            None => {}
        }
    }

    fn step(&self, msg: &str) {
        let current = self.current.lock().map(|c| c.clone()).unwrap_or_default();
        match &self.bar {
            Some(b) => b.set_message(format!("{current}: {msg}")),
            None if !self.quiet => eprintln!("  {current}: {msg}"),
            None => {}
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.set_message(String::new());
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
