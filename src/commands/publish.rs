//! `crier publish`: publish what is new and due, exactly once, and record it. This
//! module reads the flags, prints the plan or the summary, and commits; the run itself
//! is `crate::publish::run`.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::time::Duration;

use super::check::print;
use super::{Global, Outcome, RecordCommit, Recording, open_project};
use crate::cli::PublishArgs;
use crate::diag;
use crate::error::{Error, Result};
use crate::pipeline::{self, PostReport};
use crate::platforms::{self, PlatformId};
use crate::publish::cancel::Cancel;
use crate::publish::run::{self, RunSummary};
use crate::publish::{self, PlanEntry, State};

/// Git problems found before publishing are environment errors (exit 2).
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
    let files = if args.only.is_empty() {
        pipeline::select(&project, &[])?
    } else {
        pipeline::select_posts(&project, &[args.only.as_slice(), args.resend.as_slice()].concat())?
    };
    let reports = pipeline::check_all(&project, &files);
    let mut entries = publish::plan(&reports, now);
    entries.retain(|e| only_platforms.is_empty() || only_platforms.contains(&e.platform));
    resend(&project, &args.resend, &mut entries)?;

    // Any error `check` reports: publish nothing. Every post counts, not only due ones:
    // a post whose only platform is misspelt has no entry in the plan at all.
    let invalid: Vec<&PostReport> = reports.iter().filter(|r| r.errors() > 0).collect();
    if !invalid.is_empty() || !project.templates.diagnostics.is_empty() {
        let sources = pipeline::sources(&project, &reports);
        let mut out = String::new();
        for d in &project.templates.diagnostics {
            out.push_str(&diag::render_human(d, &sources, g.style));
        }
        for r in &invalid {
            for d in r.diagnostics.iter().filter(|d| d.is_error()) {
                out.push_str(&diag::render_human(d, &sources, g.style));
            }
        }
        let _ =
            writeln!(out, "nothing was published: fix the errors above (`crier check` lists them all), then run again");
        eprint!("{out}");
        return Ok(Outcome::Failure);
    }

    let caps = Caps::of(&project, &entries, &reports);
    if args.dry_run {
        print(&dry_run_report(&project, &entries, &reports, &caps));
        return Ok(Outcome::Success);
    }

    // From here a signal lets the run finish what is in flight and record it.
    let cancel = Cancel::on_signals().map_err(|e| Error::io("cannot listen for SIGINT/SIGTERM", e))?;
    // One publish at a time per checkout; refuse checkouts that cannot push.
    let recording = Recording::begin(&project.root, args.commit.no_commit)?;

    let mut summary = RunSummary::default();
    let cap = caps.max_posts;
    for path in &caps.capped {
        summary.deferred.push(format!("{path}: over this run's limit of {cap} posts (publish.max_per_run); next run"));
    }
    let edit_cap = caps.max_edits;
    for (path, platform) in &caps.edits_waiting {
        summary.deferred.push(format!(
            "{path} → {platform}: changed since published, over this run's limit of {edit_cap} edits (publish.max_edits_per_run); next run"
        ));
    }
    // Due posts in order, plus published posts edited since, on platforms that update
    // in place (the others cannot be edited: they are left alone, with a warning).
    let work: Vec<&PlanEntry> = entries
        .iter()
        .filter(|e| (e.state == State::Due && caps.due_posts.contains(&e.path)) || caps.edit_goes(e))
        .collect();
    if !work.is_empty() {
        let others = if args.only.is_empty() { Vec::new() } else { other_posts(&project, &reports)? };
        let progress = Progress::new(g.quiet);
        let done = run::publish_all(
            &project,
            &g.env,
            &reports,
            &others,
            &work,
            now,
            run::Watch { progress: &progress, cancel: &cancel },
        )?;
        summary.published.extend(done.published);
        summary.deferred.extend(done.deferred);
        summary.failed.extend(done.failed);
        summary.written.extend(done.written);
        summary.urls.extend(done.urls);
        summary.misconfigured.extend(done.misconfigured);
        summary.spent.extend(done.spent);
    }

    let mut changes = recording.pending.clone();
    changes.extend(summary.written.iter().cloned());
    let commit = RecordCommit { repo: &recording.repo, flags: &args.commit };
    let (git_lines, git_failed) = commit.run(g, &project, &changes, !summary.written.is_empty());
    summary.git.extend(git_lines);
    summary.failed.extend(git_failed);

    if cancel.is_cancelled() {
        summary.git.push(format!("cancelled by {}: no post started after it", cancel.signal_name()));
    }
    let text = summary_text(&summary, &entries, &reports);
    print(&text);
    if let Some(path) = g.env.get("GITHUB_STEP_SUMMARY") {
        append(path, &format!("## crier publish\n\n```text\n{text}```\n"));
    }
    // A later step of the workflow (and the GitHub Action's `published` output) can use the URLs.
    if let Some(path) = g.env.get("GITHUB_OUTPUT") {
        append(path, &format!("published={}\n", published_json(&summary)));
    }
    if cancel.code().is_none() && !summary.misconfigured.is_empty() {
        // The posts are recorded and committed above; the configuration is what to fix.
        return Err(Error::Env { message: summary.misconfigured.join("\n") });
    }
    Ok(match cancel.code() {
        Some(code) => Outcome::Cancelled(code),
        None if summary.failed.is_empty() => Outcome::Success,
        None => Outcome::Failure,
    })
}

/// `--resend PATH…`: the posts' unconfirmed entries (sent, reply lost) become due again,
/// because the user checked and wants them sent. A path without one is a usage error.
fn resend(project: &crate::project::Project, paths: &[std::path::PathBuf], entries: &mut [PlanEntry]) -> Result<()> {
    if paths.is_empty() {
        return Ok(());
    }
    for abs in pipeline::select(project, paths)? {
        let mut found = false;
        for e in entries.iter_mut().filter(|e| e.abs_path == abs) {
            if matches!(e.state, State::Unconfirmed { .. }) {
                e.state = State::Due;
                found = true;
            }
        }
        if !found {
            let path = crate::content::relative_display(&project.root, &abs);
            return Err(Error::usage(format!(
                "--resend {path}: no platform records it as sent with a lost reply (`unconfirmed`), so there is nothing to send again"
            )));
        }
    }
    Ok(())
}

/// The safety nets: at most `publish.max_per_run` new posts and `publish.max_edits_per_run`
/// edits in place per run (a change to a shared template changes every post that uses
/// it); the rest wait for the next run, in plan order.
struct Caps {
    max_posts: usize,
    /// Due posts that go out in this run, and those over the cap.
    due_posts: Vec<String>,
    capped: Vec<String>,
    max_edits: usize,
    /// Published posts changed since, on platforms that edit in place: updated in this
    /// run, and over the cap.
    edits: Vec<(String, PlatformId)>,
    edits_waiting: Vec<(String, PlatformId)>,
}

impl Caps {
    fn of(project: &crate::project::Project, entries: &[PlanEntry], reports: &[PostReport]) -> Self {
        let max_posts = project.config.publish.max_per_run as usize;
        let max_edits = project.config.publish.max_edits_per_run as usize;
        let mut caps = Self {
            max_posts,
            due_posts: Vec::new(),
            capped: Vec::new(),
            max_edits,
            edits: Vec::new(),
            edits_waiting: Vec::new(),
        };
        for e in entries {
            if e.state == State::Due && !caps.due_posts.contains(&e.path) && !caps.capped.contains(&e.path) {
                let list = if caps.due_posts.len() < max_posts { &mut caps.due_posts } else { &mut caps.capped };
                list.push(e.path.clone());
            }
            let edit = match e.state {
                State::Published { changed: true, .. } => edits_in_place(reports, e),
                State::Published { changed: false, .. } => unfinished(project, reports, e),
                _ => false,
            };
            if edit {
                let list = if caps.edits.len() < max_edits { &mut caps.edits } else { &mut caps.edits_waiting };
                list.push((e.path.clone(), e.platform));
            }
        }
        caps
    }

    fn edit_goes(&self, e: &PlanEntry) -> bool {
        self.edits.iter().any(|(p, id)| *p == e.path && *id == e.platform)
    }
}

/// Whether the entry's post, as it renders now, is updated in place on its platform
/// (a Nostr article is; a Nostr note is not).
fn edits_in_place(reports: &[PostReport], e: &PlanEntry) -> bool {
    let platform = platforms::get(e.platform);
    let rendered =
        reports.iter().find(|r| r.path == e.path).and_then(|r| r.rendered.iter().find(|x| x.platform() == e.platform));
    rendered.map_or_else(|| platform.edits_in_place(), |r| platform.edits_output_in_place(r.as_ref()))
}

/// Whether the entry's unchanged published post has something left to finish.
fn unfinished(project: &crate::project::Project, reports: &[PostReport], e: &PlanEntry) -> bool {
    let post = reports.iter().find(|r| r.path == e.path).and_then(|r| r.post.as_ref());
    let record = post.and_then(|p| crate::ledger::get_record(&p.source.text, p.kind, e.platform.name()).ok().flatten());
    record.is_some_and(|r| platforms::get(e.platform).unfinished(&r, project))
}

/// `[{file, platform, url}]` of every post published or updated by the run (one line).
fn published_json(summary: &RunSummary) -> String {
    let list: Vec<serde_json::Value> = summary
        .urls
        .iter()
        .map(|(file, platform, url)| serde_json::json!({"file": file, "platform": platform.name(), "url": url}))
        .collect();
    serde_json::Value::Array(list).to_string()
}

fn append(path: &str, text: &str) {
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        use std::io::Write as _;
        let _ = f.write_all(text.as_bytes());
    }
}

/// The repository's posts outside `reports` (a run limited with `--only`), parsed for
/// their records only.
fn other_posts(project: &crate::project::Project, reports: &[PostReport]) -> Result<Vec<crate::content::Post>> {
    let all = pipeline::select(project, &[])?;
    Ok(all
        .iter()
        .filter(|abs| !reports.iter().any(|r| r.abs_path == **abs))
        .filter_map(|abs| crate::content::parse_file(&project.root, abs, project.catalog).ok())
        .collect())
}

fn dry_run_report(
    project: &crate::project::Project,
    entries: &[PlanEntry],
    reports: &[PostReport],
    caps: &Caps,
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
    // Parts and sizes, and the platforms it waits for (its template links their posts).
    let summary_of = |e: &PlanEntry| {
        let Some(report) = reports.iter().find(|r| r.path == e.path) else { return String::new() };
        let Some(rendered) = report.rendered.iter().find(|x| x.platform() == e.platform) else { return String::new() };
        let mut text = rendered.summary().split_whitespace().skip(1).collect::<Vec<_>>().join(" ");
        let waits: Vec<String> = crate::crosslinks::links(project, rendered.as_ref(), &report.targets)
            .into_iter()
            .filter(|p| entries.iter().any(|o| o.path == e.path && o.platform == *p && o.state == State::Due))
            .map(|p| publish::display(p).to_owned())
            .collect();
        if !waits.is_empty() {
            let _ = write!(text, "; after {}, whose URL it links", waits.join(" and "));
        }
        text
    };
    let mut publish_lines = Vec::new();
    for e in entries.iter().filter(|e| e.state == State::Due && caps.due_posts.contains(&e.path)) {
        publish_lines.push(format!("{} → {}  ({})", e.path, e.platform, summary_of(e)));
    }
    section(&mut out, "would publish now", publish_lines);
    // What the posts due would cost where the platform charges for them (X).
    let notes: Vec<String> = platforms::REGISTRY
        .iter()
        .filter_map(|p| {
            let due: Vec<&dyn platforms::Output> = entries
                .iter()
                .filter(|e| e.platform == p.id() && e.state == State::Due && caps.due_posts.contains(&e.path))
                .filter_map(|e| {
                    reports.iter().find(|r| r.path == e.path)?.rendered.iter().find(|x| x.platform() == e.platform)
                })
                .map(|r| r.as_ref())
                .collect();
            if due.is_empty() { None } else { p.dry_run_note(project, &due) }
        })
        .collect();
    section(&mut out, "cost", notes);
    section(
        &mut out,
        &format!("deferred to a later run (publish.max_per_run is {})", caps.max_posts),
        caps.capped.iter().map(|p| p.to_string()).collect(),
    );
    let mut sched = Vec::new();
    let mut done = Vec::new();
    let mut changed = Vec::new();
    let mut drafts = Vec::new();
    let mut deleted = Vec::new();
    let mut held = Vec::new();
    for e in entries {
        match &e.state {
            State::Scheduled(t) => sched.push(format!("{} → {} at {}", e.path, e.platform, publish::rfc3339(*t))),
            State::Published { url, changed: false } => done.push(format!("{} → {}  {url}", e.path, e.platform)),
            State::Published { url, changed: true } => changed.push(if caps.edit_goes(e) {
                format!("{} → {}  {url}: changed since it was published: would update it in place", e.path, e.platform)
            } else if edits_in_place(reports, e) {
                format!(
                    "{} → {}  {url}: changed since it was published: waits for a later run (publish.max_edits_per_run is {})",
                    e.path, e.platform, caps.max_edits
                )
            } else {
                left_alone_line(e, url)
            }),
            State::Draft => drafts.push(format!("{} → {}", e.path, e.platform)),
            State::Deleted { url, at } => deleted.push(format!("{} → {}  {url}: deleted at {at}", e.path, e.platform)),
            State::Unconfirmed { note } => held.push(held_line(e, note)),
            State::Due | State::Invalid => {}
        }
    }
    section(&mut out, HELD, held);
    section(&mut out, "scheduled", sched);
    section(&mut out, "changed since published", changed);
    section(&mut out, "already published", done);
    section(&mut out, "drafts (never published while `draft: true`)", drafts);
    section(
        &mut out,
        "deleted (never published again; remove `published.<platform>` from the post to publish it anew)",
        deleted,
    );
    if entries.is_empty() {
        out.push_str("\nno posts\n");
    }
    out
}

/// The title of the posts held back because their reply was lost.
/// A changed post on a platform that cannot edit it (Threads, Bluesky, X, Nostr notes).
fn left_alone_line(e: &PlanEntry, url: &str) -> String {
    format!(
        "{} → {}  {url}: changed since it was published; {} posts cannot be edited, so it is left alone",
        e.path,
        e.platform,
        publish::display(e.platform)
    )
}

const HELD: &str = "held back (sent, reply lost: never sent again on its own)";

fn held_line(e: &PlanEntry, note: &str) -> String {
    format!("{} → {}: {note}; {}", e.path, e.platform, publish::unconfirmed_hint(&e.path, e.platform))
}

fn summary_text(s: &RunSummary, entries: &[PlanEntry], reports: &[PostReport]) -> String {
    let mut out = String::new();
    // Said on every run, as `status` says it, until the post is published anew or restored.
    let left_alone: Vec<String> = entries
        .iter()
        .filter_map(|e| match &e.state {
            State::Published { url, changed: true } if !edits_in_place(reports, e) => Some(left_alone_line(e, url)),
            _ => None,
        })
        .collect();
    // Held posts are listed on every run until the user settles them (not a failure: the
    // run that lost the reply failed).
    let held: Vec<String> = entries
        .iter()
        .filter_map(|e| match &e.state {
            State::Unconfirmed { note } => Some(held_line(e, note)),
            _ => None,
        })
        .collect();
    let scheduled = entries.iter().filter(|e| matches!(e.state, State::Scheduled(_))).count();
    let _ = writeln!(
        out,
        "published {}, deferred {}, failed {}, scheduled later {}",
        s.published.len(),
        s.deferred.len(),
        s.failed.len(),
        scheduled
    );
    for (title, lines) in [
        ("published", &s.published),
        ("deferred", &s.deferred),
        ("failed", &s.failed),
        (HELD, &held),
        ("warning: left alone", &left_alone),
        ("spent", &s.spent),
        ("git", &s.git),
    ] {
        if !lines.is_empty() {
            let _ = writeln!(out, "{title}:");
            for l in lines {
                let _ = writeln!(out, "  {l}");
            }
        }
    }
    out
}

/// Progress on a terminal (a spinner per platform), plain lines on stderr otherwise.
struct Progress {
    multi: Option<indicatif::MultiProgress>,
    bars: RefCell<Vec<(PlatformId, indicatif::ProgressBar)>>,
    quiet: bool,
    /// Plain lines: the last one printed per platform (a countdown without its number),
    /// and when.
    last: RefCell<Vec<(PlatformId, String, std::time::Instant)>>,
}

/// A plain line that only counts on (`… trying again in 41 s`) is printed again at most
/// this often: a log is not a terminal.
const PLAIN_REPEAT: Duration = Duration::from_secs(10);

impl Progress {
    fn new(quiet: bool) -> Self {
        let multi = (!quiet && std::io::stderr().is_terminal()).then(indicatif::MultiProgress::new);
        Self { multi, bars: RefCell::new(Vec::new()), quiet, last: RefCell::new(Vec::new()) }
    }

    fn show(&self, platform: PlatformId, message: String) {
        let Some(multi) = &self.multi else {
            if !self.quiet && self.plain_line_is_news(platform, &message) {
                eprintln!("{message}");
            }
            return;
        };
        let mut bars = self.bars.borrow_mut();
        if let Some((_, bar)) = bars.iter().find(|(p, _)| *p == platform) {
            bar.set_message(message);
        } else {
            let bar = multi.add(indicatif::ProgressBar::new_spinner());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar.set_message(message);
            bars.push((platform, bar));
        }
    }
}

impl Progress {
    /// Whether `message` says more than the last plain line of `platform` (a countdown's
    /// next second does not, until [`PLAIN_REPEAT`] has passed).
    fn plain_line_is_news(&self, platform: PlatformId, message: &str) -> bool {
        // `… 41 s` and `… 40 s` are one line counting down.
        let shape = match message.strip_suffix(" s") {
            Some(rest) => rest.trim_end_matches(|c: char| c.is_ascii_digit()).to_owned(),
            None => message.to_owned(),
        };
        let now = std::time::Instant::now();
        let mut last = self.last.borrow_mut();
        match last.iter_mut().find(|(p, _, _)| *p == platform) {
            Some((_, s, at)) if *s == shape && now.duration_since(*at) < PLAIN_REPEAT => false,
            Some(entry) => {
                *entry = (platform, shape, now);
                true
            }
            None => {
                last.push((platform, shape, now));
                true
            }
        }
    }
}

impl run::Progress for Progress {
    fn start(&self, platform: PlatformId, label: &str) {
        self.show(platform, format!("publishing {label}"));
    }

    fn step(&self, platform: PlatformId, label: &str, message: &str) {
        self.show(platform, format!("  {label}: {message}"));
    }

    fn finish(&self, platform: PlatformId) {
        if let Some((_, bar)) = self.bars.borrow().iter().find(|(p, _)| *p == platform) {
            bar.set_message(String::new());
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        for (_, bar) in self.bars.borrow().iter() {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_progress_prints_a_countdown_once_not_every_second() {
        let p = Progress { multi: None, bars: RefCell::new(Vec::new()), quiet: false, last: RefCell::new(Vec::new()) };
        let (threads, devto) = (PlatformId::parse("threads").unwrap(), PlatformId::parse("devto").unwrap());
        let lines = [
            (threads, "publishing content/p1.md", true),
            (threads, "publishing content/p2.md", true),
            (threads, "  content/p2.md: Threads: trying again in 41 s", true),
            (threads, "  content/p2.md: Threads: trying again in 40 s", false),
            (devto, "  content/p2.md: dev.to: trying again in 40 s", true),
            (threads, "  content/p2.md: Threads: trying again in 39 s", false),
            (threads, "publishing content/p3.md", true),
            (threads, "publishing content/p3.md", false),
        ];
        for (platform, line, news) in lines {
            assert_eq!(p.plain_line_is_news(platform, line), news, "{line}");
        }
    }
}
