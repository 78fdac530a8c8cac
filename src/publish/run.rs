//! The publish run, written once for every platform.
//!
//! Each platform gets its own queue, in plan order (`publish_at`, then path), published
//! one post after another; the platforms progress side by side on one thread, so a run
//! takes as long as its slowest platform, not the sum. A post whose template on one
//! platform links its post on another (`published.<platform>.url`) waits for that
//! platform's outcome in the same run; a cycle of such links is a check error, and
//! because every queue has the same order a wait never blocks a queue on a later post.
//!
//! Records are written back as they arrive, one at a time (a file may get records from
//! several platforms), on the blocking pool so that the next post's calls go on meanwhile.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use futures_util::future::{LocalBoxFuture, join_all};
use futures_util::stream::{self, StreamExt};
use serde_json::Value;
use tokio::sync::Notify;

use super::cancel::{self, Cancel};
use super::{PlanEntry, State, display, fingerprint, record_of, rfc3339};
use crate::content::Post;
use crate::crosslinks::links;
use crate::env::Env;
use crate::error::{Error, Result};
use crate::git::RecordChange;
use crate::ledger;
use crate::pipeline::PostReport;
use crate::platforms::http::HttpOptions;
use crate::platforms::{self, ConnectContext, Failure, Job, PlatformId, Session};
use crate::project::Project;

/// Posts prepared ahead (media uploaded and processed) while earlier ones are published.
const PREPARE_AHEAD: usize = 16;

/// Jobs of one platform in flight at once (see [`Turns`]).
const IN_FLIGHT: usize = 2;

/// What happened to every (post, platform) of the run.
#[derive(Debug, Default)]
pub struct RunSummary {
    pub published: Vec<String>,
    pub deferred: Vec<String>,
    pub failed: Vec<String>,
    /// Records written into files by this run, to commit.
    pub written: Vec<RecordChange>,
    /// What happened in git.
    pub git: Vec<String>,
    /// `{file, platform, url}` of every post published or updated.
    pub urls: Vec<(String, PlatformId, String)>,
    /// Platforms that refused crier's configuration, and why (the run exits 2).
    pub misconfigured: Vec<String>,
    /// What pay-per-use platforms charged for the run (X), one line each.
    pub spent: Vec<String>,
}

impl RunSummary {
    /// Notes the entry `change` wrote, for the commit: in the place of the post's earlier
    /// entry of this run on that platform (the one written ahead of a send), so records
    /// are applied to the committed file in the order they went into the working one.
    pub fn note_written(&mut self, change: RecordChange) {
        match self.written.iter_mut().find(|c| c.rel_path == change.rel_path && c.platform == change.platform) {
            Some(earlier) => *earlier = change,
            None => self.written.push(change),
        }
    }

    /// The post's entry on `platform` was taken out again: nothing of it to commit.
    pub fn forget_written(&mut self, path: &str, platform: PlatformId) {
        self.written.retain(|c| !(c.rel_path == path && c.platform == platform.name()));
    }
}

/// Where the run reports its progress (a terminal spinner, or plain lines).
pub trait Progress {
    /// `label` (`content/x.md → threads`) starts.
    fn start(&self, platform: PlatformId, label: &str);
    /// A step of `label`.
    fn step(&self, platform: PlatformId, label: &str, message: &str);
    /// `label` is done.
    fn finish(&self, platform: PlatformId);
}

/// What looks on while the run goes: the progress display, and the signals that cancel it.
pub struct Watch<'a> {
    pub progress: &'a dyn Progress,
    pub cancel: &'a Cancel,
}

/// How one (post, platform) ended, for posts that wait on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Published,
    NotPublished,
}

struct Shared<'a> {
    project: &'a Project,
    env: &'a Env,
    reports: &'a [PostReport],
    others: &'a [Post],
    now: String,
    now_t: DateTime<Utc>,
    progress: &'a dyn Progress,
    summary: RefCell<RunSummary>,
    outcomes: RefCell<HashMap<(String, PlatformId), Outcome>>,
    changed: Notify,
    /// The platforms each post has work for in this run.
    work_of: HashMap<String, Vec<PlatformId>>,
    /// Index of each post's report.
    by_path: HashMap<String, usize>,
    /// Held while a record is written.
    writer: tokio::sync::Mutex<()>,
    /// Set by SIGINT/SIGTERM: no post starts after it.
    cancel: &'a Cancel,
    /// The posts whose calls are under way, to name them if the grace after a signal runs out.
    in_flight: RefCell<BTreeSet<String>>,
    /// The files (resolved) and platforms this run has started to publish: one file is
    /// published once per platform, however it was named.
    started: RefCell<HashSet<(std::path::PathBuf, PlatformId)>>,
}

impl Shared<'_> {
    fn settle(&self, path: &str, platform: PlatformId, outcome: Outcome) {
        self.outcomes.borrow_mut().insert((path.to_owned(), platform), outcome);
        self.changed.notify_waiters();
    }

    async fn outcome(&self, path: &str, platform: PlatformId) -> Outcome {
        let key = (path.to_owned(), platform);
        loop {
            // Registered before looking, so a settle in between is not missed.
            let changed = self.changed.notified();
            if let Some(o) = self.outcomes.borrow().get(&key) {
                return *o;
            }
            changed.await;
        }
    }

    fn report(&self, path: &str) -> Option<&PostReport> {
        self.by_path.get(path).map(|&i| &self.reports[i])
    }
}

/// The environment variables missing for the platforms `work` needs (exit 2 before
/// anything is sent), every one of them in one error.
pub fn check_credentials(env: &Env, work: &[&PlanEntry]) -> Result<()> {
    let problems = env_problems(env, PlatformId::all().filter(|id| work.iter().any(|e| e.platform == *id)));
    let missing = problems.iter().flat_map(|p| {
        let n = work.iter().filter(|e| e.platform == p.platform).count();
        let due = format!("{n} post{} due for {}", if n == 1 { " is" } else { "s are" }, display(p.platform));
        p.missing.iter().map(move |var| format!("{var} is not set, and {due}"))
    });
    one_env_error(
        missing.collect(),
        &problems,
        ["it", "them"].map(|it| format!("set {it} in the environment or in .env (see the README), or use --dry-run")),
    )
}

/// One platform's trouble with the environment: every required variable it lacks, or
/// (all set) what its own check of the values says.
pub struct EnvProblem {
    pub platform: PlatformId,
    pub missing: Vec<&'static str>,
    pub invalid: Option<String>,
}

/// The problems of `ids` with `env`, in their order.
pub fn env_problems(env: &Env, ids: impl IntoIterator<Item = PlatformId>) -> Vec<EnvProblem> {
    ids.into_iter()
        .filter_map(|id| {
            let platform = platforms::get(id);
            let missing: Vec<&'static str> = platform
                .credentials()
                .iter()
                .filter(|c| c.required && env.get(c.var).is_none())
                .map(|c| c.var)
                .collect();
            let invalid = if missing.is_empty() { platform.check_env(env).err() } else { None };
            (!missing.is_empty() || invalid.is_some()).then_some(EnvProblem { platform: id, missing, invalid })
        })
        .collect()
}

/// Every problem in one environment error (exit 2): the `missing` lines (one per unset
/// variable) and each platform's invalid values. One problem is one sentence (`fix[0]`
/// after a missing variable); several are a list under `fix[1]`.
pub fn one_env_error(missing: Vec<String>, problems: &[EnvProblem], fix: [String; 2]) -> Result<()> {
    let invalid = problems.iter().filter_map(|p| p.invalid.clone());
    let single = missing.len() == 1;
    let mut lines: Vec<String> = missing;
    lines.extend(invalid);
    let message = match lines.as_slice() {
        [] => return Ok(()),
        [one] if single => format!("{one}; {}", fix[0]),
        [one] => one.clone(),
        many => format!(
            "{} credentials are missing or invalid; {}:\n{}",
            many.len(),
            fix[1],
            many.iter().map(|l| format!("  {l}")).collect::<Vec<_>>().join("\n")
        ),
    };
    Err(Error::Env { message })
}

/// Publishes `work` (due posts, and published posts to update in place), writing each
/// record into its file as soon as it is known.
///
/// `others` are the repository's posts outside `reports` (when the run was limited to
/// some files): their records count too, so nothing they record is adopted for a post
/// of this run.
pub fn publish_all(
    project: &Project,
    env: &Env,
    reports: &[PostReport],
    others: &[Post],
    work: &[&PlanEntry],
    now: DateTime<Utc>,
    watch: Watch<'_>,
) -> Result<RunSummary> {
    let Watch { progress, cancel } = watch;
    check_credentials(env, work)?;
    let mut work_of: HashMap<String, Vec<PlatformId>> = HashMap::new();
    let mut queues: BTreeMap<PlatformId, Vec<&PlanEntry>> = BTreeMap::new();
    for e in work {
        work_of.entry(e.path.clone()).or_default().push(e.platform);
        queues.entry(e.platform).or_default().push(e);
    }
    let shared = Shared {
        project,
        env,
        reports,
        others,
        now: rfc3339(now),
        now_t: now,
        progress,
        summary: RefCell::new(RunSummary::default()),
        outcomes: RefCell::new(HashMap::new()),
        changed: Notify::new(),
        work_of,
        by_path: reports.iter().enumerate().map(|(i, r)| (r.path.clone(), i)).collect(),
        writer: tokio::sync::Mutex::new(()),
        started: RefCell::new(HashSet::new()),
        cancel,
        in_flight: RefCell::new(BTreeSet::new()),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the network runtime", e))?;
    let all = join_all(queues.into_iter().map(|(id, queue)| run_platform(&shared, id, queue)));
    // After a signal the calls in flight get a bounded time to finish and be recorded.
    let finished = runtime.block_on(cancel.bounded(all)).is_some();
    let mut summary = shared.summary.into_inner();
    if !finished {
        for label in shared.in_flight.into_inner() {
            // A platform that cannot be searched had its entry written ahead: it is held.
            let held = summary
                .written
                .iter()
                .filter(|c| c.unconfirmed.is_some() && label == written_label(c))
                .find_map(|c| Some((c.rel_path.clone(), PlatformId::parse(&c.platform)?)));
            let next = match held {
                Some((path, platform)) => format!(
                    "its entry is marked unconfirmed, so it is held back: check whether it went out, then {}",
                    super::unconfirmed_hint(&path, platform)
                ),
                None => "the next run finds it if it went out".to_owned(),
            };
            summary.failed.push(format!(
                "{label}: still in flight {}s after {}, abandoned; {next}",
                cancel::GRACE.as_secs(),
                cancel.signal_name()
            ));
        }
    }
    Ok(summary)
}

async fn run_platform(run: &Shared<'_>, id: PlatformId, queue: Vec<&PlanEntry>) {
    let platform = platforms::get(id);
    let cx = ConnectContext {
        project: run.project,
        env: run.env,
        recorded_ids: recorded_ids(run.reports.iter().filter_map(|r| r.post.as_ref()).chain(run.others), id),
        http: HttpOptions::from_config(&run.project.config.publish),
    };
    let session = match platform.connect(&cx).await {
        Ok(s) => s,
        Err(f) => {
            let why = f.fatal.unwrap_or(f.message);
            for e in &queue {
                run.summary.borrow_mut().failed.push(format!("{} → {id}: not attempted: {why}", e.path));
                run.settle(&e.path, id, Outcome::NotPublished);
            }
            return;
        }
    };
    let session = session.as_ref();
    let turns = Turns::default();
    let limits = Limits { budget: RefCell::new(session.budget()), stopped: RefCell::new(None), halt: Notify::new() };
    // Media of the coming posts is processed while earlier ones are published: only of
    // posts this run can publish (within the budget), and only until the platform stops
    // or the run is cancelled.
    let can_go =
        limits.budget.borrow().as_ref().map_or(usize::MAX, |b| usize::try_from(b.remaining).unwrap_or(usize::MAX));
    let due = queue.iter().filter(|e| e.state == State::Due).take(can_go);
    let prepare = stream::iter(due.filter_map(|e| {
        let report = run.report(&e.path)?;
        let rendered = report.rendered.iter().find(|r| r.platform() == id)?;
        // A post waiting for another platform renders for real only once that is done.
        links(run.project, rendered.as_ref(), &report.targets).is_empty().then_some((report, rendered))
    }))
    .for_each_concurrent(PREPARE_AHEAD, |(report, rendered)| async move {
        let Some(post) = &report.post else { return };
        let hash = fingerprint(rendered.as_ref());
        let quiet = |_: &str| {};
        let job = Job {
            post,
            rendered: rendered.as_ref(),
            hash: &hash,
            now: &run.now,
            progress: &quiet,
            ordered_done: &|| {},
            write_ahead: &platforms::no_write_ahead,
        };
        session.prepare(&job).await;
    });
    let prepare = async {
        tokio::select! {
            () = prepare => {},
            () = run.cancel.cancelled() => {},
            () = limits.halted() => {},
        }
    };
    // Two posts in flight: one finishing (reading its permalink) while the next one's
    // publish call goes out; the turns keep the publish calls in plan order.
    let publish = stream::iter(queue.iter().enumerate())
        .map(|(i, entry)| {
            let (turns, limits) = (&turns, &limits);
            async move {
                let turn = Turn { turns, index: i };
                let outcome = publish_one(run, id, session, entry, &turn, limits).await;
                drop(turn);
                run.settle(&entry.path, id, outcome);
            }
        })
        .buffered(IN_FLIGHT)
        .for_each(|()| std::future::ready(()));
    futures_util::future::join(prepare, publish).await;
    if let Some(why) = session.misconfigured() {
        run.summary.borrow_mut().misconfigured.push(format!("{id}: {why}"));
    }
    if let Some(line) = session.spent() {
        run.summary.borrow_mut().spent.push(line);
    }
}

/// What every job of one platform shares: the budget (reserved when a post starts,
/// given back when it fails) and the reason the platform stopped, if it did.
struct Limits {
    budget: RefCell<Option<platforms::Budget>>,
    stopped: RefCell<Option<String>>,
    /// Told when the platform stops.
    halt: Notify,
}

impl Limits {
    fn stop(&self, why: String) {
        *self.stopped.borrow_mut() = Some(why);
        self.halt.notify_waiters();
    }

    /// Resolves once the platform stopped.
    async fn halted(&self) {
        loop {
            let notified = self.halt.notified();
            if self.stopped.borrow().is_some() {
                return;
            }
            notified.await;
        }
    }
}

/// The order of a platform's publish calls: job `i` has its turn once every earlier job
/// is done with its own (or gave it up).
#[derive(Default)]
struct Turns {
    next: Cell<usize>,
    done: RefCell<BTreeSet<usize>>,
    changed: Notify,
}

struct Turn<'a> {
    turns: &'a Turns,
    index: usize,
}

impl Turn<'_> {
    async fn wait(&self) {
        loop {
            let changed = self.turns.changed.notified();
            if self.turns.next.get() >= self.index {
                return;
            }
            changed.await;
        }
    }

    /// The job's ordered part is over (idempotent); the next job may go.
    fn done(&self) {
        let mut done = self.turns.done.borrow_mut();
        if !done.insert(self.index) {
            return;
        }
        let mut next = self.turns.next.get();
        while done.contains(&next) {
            next += 1;
        }
        self.turns.next.set(next);
        self.turns.changed.notify_waiters();
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.done();
    }
}

async fn publish_one(
    run: &Shared<'_>,
    id: PlatformId,
    session: &dyn Session,
    entry: &PlanEntry,
    turn: &Turn<'_>,
    limits: &Limits,
) -> Outcome {
    let platform = platforms::get(id);
    let label = format!("{} → {id}", entry.path);
    let fail = |msg: String| {
        run.summary.borrow_mut().failed.push(format!("{label}: {msg}"));
        Outcome::NotPublished
    };
    let defer = |msg: String| {
        run.summary.borrow_mut().deferred.push(format!("{label}: {msg}"));
        Outcome::NotPublished
    };
    // Wait for the platforms this post's template links, when they publish it in this run.
    let updating = matches!(entry.state, State::Published { .. });
    if let Some(report) = run.report(&entry.path) {
        let rendered = report.rendered.iter().find(|r| r.platform() == id);
        let planned = run.work_of.get(&entry.path).cloned().unwrap_or_default();
        let waits: Vec<PlatformId> = rendered
            .map(|r| links(run.project, r.as_ref(), &report.targets))
            .unwrap_or_default()
            .into_iter()
            .filter(|p| planned.contains(p))
            .collect();
        for other in waits {
            if run.outcome(&entry.path, other).await != Outcome::Published {
                let other = platforms::get(other);
                return defer(format!(
                    "waits for its {} {}, which did not go out in this run; next run",
                    other.display_name(),
                    other.post_noun()
                ));
            }
        }
    }
    turn.wait().await;
    if let Some(why) = limits.stopped.borrow().as_ref() {
        return fail(format!("not attempted: {why}"));
    }
    if run.cancel.is_cancelled() {
        return defer(format!("not started: the run was cancelled ({}); next run", run.cancel.signal_name()));
    }
    // Read the post again: this run may have recorded a platform it links.
    let post = match crate::content::parse_file(&run.project.root, &entry.abs_path, run.project.catalog) {
        Ok(p) => p,
        Err(d) => return fail(format!("cannot read the post again: {}", d.message)),
    };
    // The record as it is now, not as planned: a post is published once per platform. An
    // unconfirmed entry planned as due is one the user asked to send again (`--resend`).
    let resend = entry.state == State::Due;
    if !updating && record_of(&post, id).is_some_and(|r| !resend || ledger::unconfirmed_note(r).is_none()) {
        return defer(format!("already recorded for {}: not published again", display(id)));
    }
    let file = std::fs::canonicalize(&entry.abs_path).unwrap_or_else(|_| entry.abs_path.clone());
    if !run.started.borrow_mut().insert((file, id)) {
        return fail(format!("the same file is already being published on {} in this run", display(id)));
    }
    // Render for real: cross-links only to platforms that are recorded.
    let Ok(rendered) = platform.render(run.project, &post, &[id]) else {
        return defer(
            "waits until the platforms its template links (published.<platform>.url) are published".to_owned(),
        );
    };
    match changed_meanwhile(run, &post, rendered.as_ref(), updating) {
        Some(Held::Waits(why)) => return defer(why),
        Some(Held::Refused(why)) => return fail(why),
        None => {}
    }
    let replies = rendered.replies();
    if !updating {
        // A spending cap (X) defers what would pass it.
        if let Some(why) = session.admit(rendered.as_ref()) {
            return defer(why);
        }
        if let Some(b) = limits.budget.borrow_mut().as_mut() {
            if b.remaining == 0 {
                return defer(b.exhausted.clone());
            }
            if let Some(left) = b.replies.filter(|left| *left < replies) {
                return defer(format!(
                    "its {} parts need {replies} replies and the {} reply quota has {left} left: the whole chain waits for the next run",
                    replies + 1,
                    display(id)
                ));
            }
            b.remaining -= 1;
            b.replies = b.replies.map(|left| left - replies);
        }
    }
    let hash = fingerprint(rendered.as_ref());
    let step = |msg: &str| run.progress.step(id, &label, msg);
    // The ordered part is over once the publish calls went out: the post is out then,
    // whatever fails after (the permalink read), and its budget is spent.
    let went_out = Cell::new(false);
    let ordered_done = || {
        went_out.set(true);
        turn.done();
    };
    // The entry written ahead of a send the platform can neither repeat nor look up: the
    // last one, and the unconfirmed entry a resend started from (put back if nothing went out).
    let ahead: RefCell<Option<platforms::LostReply>> = RefCell::new(None);
    let write_ahead = |lost: platforms::LostReply| -> LocalBoxFuture<'_, Result<(), String>> {
        let (ahead, post) = (&ahead, &post);
        Box::pin(async move {
            let change = change_of(post, id, lost.record.clone(), Some(lost.check.clone()));
            write_change(run, post, id, change.clone(), false).await.map_err(|e| e.to_string())?;
            // Committed with the run's records even if the run stops before the reply: a
            // fresh clone must hold the post back too.
            run.summary.borrow_mut().note_written(change);
            *ahead.borrow_mut() = Some(lost);
            Ok(())
        })
    };
    let job = Job {
        post: &post,
        rendered: rendered.as_ref(),
        hash: &hash,
        now: &run.now,
        progress: &step,
        ordered_done: &ordered_done,
        write_ahead: &write_ahead,
    };
    run.progress.start(id, &label);
    run.in_flight.borrow_mut().insert(label.clone());
    let result = if updating {
        match ledger::get_record(&post.source.text, post.kind, id.name()).ok().flatten() {
            Some(previous) => session.update(&job, &previous).await.map(platforms::Sent::Recorded),
            None => Err(Failure::new("the record could not be read back from the file")),
        }
    } else {
        session.send(&job).await
    };
    run.progress.finish(id);
    let outcome = match result {
        Ok(platforms::Sent::Recorded(record)) => {
            record_written(run, &post, id, Written::Record(record, updating)).await
        }
        Ok(platforms::Sent::ReplyLost(lost)) => record_written(run, &post, id, Written::Lost(lost)).await,
        Err(f) => {
            // Given back only when nothing went out: a part published uses the quota.
            if !updating && f.published_parts == 0 && !went_out.get() {
                if let Some(b) = limits.budget.borrow_mut().as_mut() {
                    b.remaining += 1;
                    b.replies = b.replies.map(|left| left + replies);
                }
            }
            let resume = if f.published_parts > 0 {
                format!(" ({} part(s) are out; the next run resumes after them)", f.published_parts)
            } else {
                String::new()
            };
            if let Some(why) = f.fatal.clone() {
                limits.stop(why);
            }
            match ahead.take() {
                Some(last) => fail(undo_ahead(run, &post, id, last, &f).await),
                None => fail(format!("{}{resume}", f.message)),
            }
        }
    };
    run.in_flight.borrow_mut().remove(&label);
    outcome
}

/// After a failure, the entry written ahead of the sends: taken out (or the unconfirmed
/// entry a resend started from put back) when nothing went out, so the next run sends it;
/// kept as unconfirmed, holding the confirmed parts, when some went out. Returns the
/// failure as the summary says it.
async fn undo_ahead(run: &Shared<'_>, post: &Post, id: PlatformId, last: platforms::LostReply, f: &Failure) -> String {
    let path = &post.path;
    let before = ledger::unconfirmed(&post.source.text, post.kind, id.name()).ok().flatten().and_then(|note| {
        Some(change_of(post, id, ledger::get_record(&post.source.text, post.kind, id.name()).ok()??, Some(note)))
    });
    let (change, said) = if f.published_parts == 0 {
        (before, String::new())
    } else {
        let note =
            format!("{} part(s) went out, then a send failed ({}): check the channel", f.published_parts, f.message);
        let said = format!(
            " ({} part(s) are out and recorded as unconfirmed: {})",
            f.published_parts,
            super::unconfirmed_hint(path, id)
        );
        (Some(change_of(post, id, last.record, Some(note))), said)
    };
    let written = match change {
        Some(change) => write_change(run, post, id, change.clone(), false).await.map(|()| Some(change)),
        None => remove_entry(run, post, id).await.map(|()| None),
    };
    match written {
        Ok(Some(change)) => {
            run.summary.borrow_mut().note_written(change);
            format!("{}{said}", f.message)
        }
        Ok(None) => {
            run.summary.borrow_mut().forget_written(&post.path, id);
            f.message.clone()
        }
        Err(e) => format!(
            "{}; the entry written before sending could not be updated ({e}), so the post is held back: {}",
            f.message,
            super::unconfirmed_hint(path, id)
        ),
    }
}

/// Why the post, read again just before it goes out, must not go out now: it was edited
/// while the run was going into a draft, a later schedule, another platform list, or a
/// post `check` refuses. The next run checks it from the start.
fn changed_meanwhile(run: &Shared<'_>, post: &Post, rendered: &dyn platforms::Output, updating: bool) -> Option<Held> {
    let id = rendered.platform();
    if !updating {
        if post.is_draft() {
            return Some(Held::Waits("marked `draft: true` since the run started: not published".to_owned()));
        }
        if let Some(t) = super::publish_at(post).filter(|t| *t > run.now_t) {
            return Some(Held::Waits(format!("rescheduled to {} since the run started: not published", rfc3339(t))));
        }
    }
    let (targets, errors) = crate::pipeline::recheck(run.project, post, rendered);
    if !targets.contains(&id) {
        return Some(Held::Waits(format!("{id} was taken out of `platforms` since the run started: not published")));
    }
    let first = errors.first()?;
    Some(Held::Refused(format!(
        "edited since the run started, and `crier check` now refuses it ({}: {}): not published",
        first.code, first.message
    )))
}

/// Why a post read again is held back.
enum Held {
    /// Not due any more (a draft, a later schedule, another platform list): deferred.
    Waits(String),
    /// It has errors now: a failure, as `check` would be.
    Refused(String),
}

/// What a run writes into a post's entry.
enum Written {
    /// Published (`true`: updated in place).
    Record(ledger::Record, bool),
    /// Sent, reply lost: written with its `unconfirmed` note.
    Lost(platforms::LostReply),
}

/// Writes the record into the post file and notes it for the commit.
/// One write at a time, on the blocking pool: a post's file may get records from several
/// platforms, and the next post's calls go on while the file is written and synced.
async fn record_written(run: &Shared<'_>, post: &Post, id: PlatformId, what: Written) -> Outcome {
    let label = format!("{} → {id}", post.path);
    let (record, updated, unconfirmed) = match what {
        Written::Record(record, updated) => (record, updated, None),
        Written::Lost(lost) => (lost.record, false, Some(lost.check)),
    };
    let url = record.url.clone();
    let change = change_of(post, id, record, unconfirmed);
    let written = write_change(run, post, id, change.clone(), updated).await;
    let mut summary = run.summary.borrow_mut();
    let hint = super::unconfirmed_hint(&post.path, id);
    match (written, &change.unconfirmed) {
        (Ok(()), None) => {
            summary.published.push(if updated { format!("{label}: updated {url}") } else { format!("{label}: {url}") });
            summary.urls.push((post.path.clone(), id, url));
            summary.note_written(change);
            Outcome::Published
        }
        (Ok(()), Some(check)) => {
            summary.failed.push(format!(
                "{label}: sent, reply lost: {check}; recorded as unconfirmed, so crier will not send it again: {hint}"
            ));
            summary.note_written(change);
            Outcome::NotPublished
        }
        (Err(WriteError::Conflict(e)), _) => {
            summary.failed.push(format!("{label}: published as {url}, but {e}"));
            Outcome::NotPublished
        }
        (Err(WriteError::Io(e)), None) => {
            let adopt = format!("`crier adopt {} --platform {id} --id {}`", post.path, change.record.id);
            // An entry written ahead (a platform that cannot be searched) is still there.
            let ahead = summary.written.iter().any(|c| c.unconfirmed.is_some() && written_label(c) == label);
            summary.failed.push(if ahead {
                format!(
                    "{label}: published as {url}, but the record could not be written ({e}); the entry written before sending holds the post back: record it with {adopt}"
                )
            } else {
                format!(
                    "{label}: published as {url}, but the record could not be written ({e}); the next run will find it on {} and record it (or record it now with {adopt})",
                    display(id)
                )
            });
            Outcome::NotPublished
        }
        (Err(WriteError::Io(e)), Some(check)) => {
            summary.failed.push(format!(
                "{label}: sent, reply lost: {check}; and the file could not be marked ({e}): do not run `crier publish` for this post before you checked; then {hint}"
            ));
            Outcome::NotPublished
        }
    }
}

/// `path → platform`, as the summary names a post on a platform.
fn written_label(c: &RecordChange) -> String {
    format!("{} → {}", c.rel_path, c.platform)
}

fn change_of(post: &Post, id: PlatformId, record: ledger::Record, unconfirmed: Option<String>) -> RecordChange {
    RecordChange { rel_path: post.path.clone(), kind: post.kind, platform: id.name().to_owned(), record, unconfirmed }
}

/// Writes `change` into the post's file: one write at a time, on the blocking pool.
async fn write_change(
    run: &Shared<'_>,
    post: &Post,
    id: PlatformId,
    change: RecordChange,
    updated: bool,
) -> std::result::Result<(), WriteError> {
    let _writer = run.writer.lock().await;
    let path = post.abs_path.clone();
    tokio::task::spawn_blocking(move || write_record(&path, id, &change, updated))
        .await
        .unwrap_or_else(|e| Err(WriteError::Io(format!("the write was interrupted: {e}"))))
}

/// Takes the platform's entry out of the post's file (see [`undo_ahead`]).
async fn remove_entry(run: &Shared<'_>, post: &Post, id: PlatformId) -> std::result::Result<(), WriteError> {
    let _writer = run.writer.lock().await;
    let (path, kind) = (post.abs_path.clone(), post.kind);
    tokio::task::spawn_blocking(move || {
        let io = |e: String| WriteError::Io(e);
        let current = std::fs::read_to_string(&path).map_err(|e| io(format!("cannot read the file: {e}")))?;
        let updated = ledger::remove_record(&current, kind, id.name()).map_err(|e| io(e.to_string()))?;
        ledger::write_atomic(&path, updated.as_bytes()).map_err(|e| io(format!("cannot write the file: {e}")))
    })
    .await
    .unwrap_or_else(|e| Err(WriteError::Io(format!("the write was interrupted: {e}"))))
}

/// `updated`: the change replaces the record an update was given (a Nostr article's new
/// version has a new id).
fn write_record(
    path: &std::path::Path,
    id: PlatformId,
    change: &RecordChange,
    updated: bool,
) -> std::result::Result<(), WriteError> {
    let io = |e: String| WriteError::Io(e);
    let (kind, platform, record) = (change.kind, change.platform.as_str(), &change.record);
    let current = std::fs::read_to_string(path).map_err(|e| io(format!("cannot read the file: {e}")))?;
    // Never replace another post's record: both ids must be kept in sight. An unconfirmed
    // entry is replaced (its id, if any, is only the confirmed beginning).
    let unconfirmed = matches!(ledger::unconfirmed(&current, kind, platform), Ok(Some(_)));
    if let Ok(Some(existing)) = ledger::get_record(&current, kind, platform) {
        if existing.id != record.id && !unconfirmed && !updated {
            return Err(WriteError::Conflict(format!(
                "conflict: the file already records {} post {} ({}), so this one ({}) is not recorded; delete one of the two",
                display(id),
                existing.id,
                existing.url,
                record.url
            )));
        }
    }
    let updated = change.apply(&current).map_err(|e| io(e.to_string()))?;
    ledger::write_atomic(path, updated.as_bytes()).map_err(|e| io(format!("cannot write the file: {e}")))
}

/// Why a record was not written.
enum WriteError {
    /// The file records another post for the platform.
    Conflict(String),
    Io(String),
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Conflict(e) | Self::Io(e) => f.write_str(e),
        }
    }
}

/// Every id (and part id) recorded for `platform` by any post of the repository.
pub fn recorded_ids<'a>(posts: impl Iterator<Item = &'a Post>, platform: PlatformId) -> HashSet<String> {
    let mut ids = HashSet::new();
    for post in posts {
        let Some(rec) = record_of(post, platform) else { continue };
        ids.extend(rec.get("id").and_then(Value::as_str).filter(|id| !id.is_empty()).map(str::to_owned));
        if let Some(parts) = rec.get("parts").and_then(Value::as_array) {
            ids.extend(parts.iter().filter_map(|p| p.get("id").and_then(Value::as_str)).map(str::to_owned));
        }
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str) -> ledger::Record {
        ledger::Record {
            relays: Vec::new(),
            d: None,
            id: id.to_owned(),
            url: format!("https://www.threads.com/@u/post/{id}"),
            cid: None,
            published_at: "2026-11-28T10:00:00Z".to_owned(),
            hash: "sha256:0".to_owned(),
            parts: Vec::new(),
            deleted_at: None,
        }
    }

    /// The records to commit keep the order the entries went into the file: an entry
    /// written ahead of a send is replaced where it stands, one taken out is forgotten.
    #[test]
    fn written_entries_keep_the_files_order() {
        let change = |platform: &str, id: &str, unconfirmed: bool| RecordChange {
            rel_path: "content/a.md".to_owned(),
            kind: crate::content::FileKind::Markdown,
            platform: platform.to_owned(),
            record: record(id),
            unconfirmed: unconfirmed.then(|| "check the channel".to_owned()),
        };
        let mut s = RunSummary::default();
        s.note_written(change("discord", "", true));
        s.note_written(change("devto", "7", false));
        s.note_written(change("discord", "9", false));
        let order: Vec<(&str, &str, bool)> =
            s.written.iter().map(|c| (c.platform.as_str(), c.record.id.as_str(), c.unconfirmed.is_some())).collect();
        assert_eq!(order, [("discord", "9", false), ("devto", "7", false)]);
        s.forget_written("content/a.md", PlatformId::parse("discord").expect("discord"));
        assert_eq!(s.written.iter().map(|c| c.platform.as_str()).collect::<Vec<_>>(), ["devto"]);
    }

    #[test]
    fn a_record_naming_another_id_is_never_replaced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("p.md");
        let threads = PlatformId::parse("threads").expect("threads");
        let kind = crate::content::FileKind::Markdown;
        std::fs::write(&path, "---\nplatforms: [threads]\n---\nHi\n").expect("write");
        // (record written, accepted?) in order: the first, the same again (an update), another.
        let cases = [("1", true), ("1", true), ("2", false)];
        for (id, accepted) in cases {
            let before = std::fs::read_to_string(&path).expect("read");
            let change = RecordChange {
                rel_path: "p.md".to_owned(),
                kind,
                platform: threads.name().to_owned(),
                record: record(id),
                unconfirmed: None,
            };
            match write_record(&path, threads, &change, false) {
                Ok(()) => assert!(accepted, "{id} replaced another record"),
                Err(WriteError::Conflict(message)) => {
                    assert!(!accepted, "{id}: {message}");
                    assert!(message.contains("post/1") && message.contains("post/2"), "both named: {message}");
                    assert_eq!(std::fs::read_to_string(&path).expect("read"), before, "the file is unchanged");
                }
                Err(WriteError::Io(e)) => panic!("{e}"),
            }
        }
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(ledger::get_record(&text, kind, "threads").expect("record").map(|r| r.id).as_deref(), Some("1"));
    }
}
