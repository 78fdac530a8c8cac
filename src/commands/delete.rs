//! `crier delete`: take published posts down and keep the repository's record true.
//!
//! For every recorded platform of the given posts (or those of `--platform`), the
//! platform's session deletes every part of the post ([`crate::platforms::Session::delete`]):
//! a part already gone counts as deleted, so a run after a lost reply or a crash finishes
//! the job without harm. Each success is written back at once as `deleted_at` in the
//! post's record (atomically, every other byte kept); the entry stays, so `publish` never
//! publishes the post again until the user removes it. The records are committed like
//! `publish`'s, with their own subject.
//!
//! Deleting cannot be undone, so crier asks on a terminal and refuses to run without
//! `--yes` anywhere else (CI included).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{BufRead as _, IsTerminal as _, Write as _};

use super::check::print;
use super::{
    Global, Outcome, RecordCommit, Recording, Row, Selection, require_credentials, rows_table, runtime, selection,
};
use crate::cli::DeleteArgs;
use crate::content::{self, Post};
use crate::error::{Error, Result};
use crate::git::RecordChange;
use crate::ledger::{self, Record};
use crate::platform_id::NAMES;
use crate::platforms::http::HttpOptions;
use crate::platforms::{self, ConnectContext, PlatformId, Recorded, Session};
use crate::publish;
use crate::publish::cancel::{self, Cancel};

/// One post on one platform to take down.
struct Target {
    post: Post,
    platform: PlatformId,
    record: Record,
}

impl Target {
    fn parts(&self) -> usize {
        self.record.parts.len().max(1)
    }

    fn label(&self) -> String {
        let parts =
            if self.record.parts.len() > 1 { format!(" ({} parts)", self.record.parts.len()) } else { String::new() };
        format!("{} → {}  {}{parts}", self.post.path, self.platform, self.record.url)
    }
}

/// A platform's connection for this run, made on first use.
enum Conn {
    Ready {
        session: Box<dyn Session>,
        budget: Option<platforms::Budget>,
    },
    /// Connecting failed, or the credentials were rejected: why (for the posts not deleted).
    Stopped(String),
}

#[derive(Default)]
struct Tally {
    deleted: usize,
    failed: usize,
}

pub fn execute(g: &Global, args: &DeleteArgs) -> Result<Outcome> {
    let Selection { project, now, only, files } = selection(g, &args.paths, &args.platform)?;
    if files.is_empty() {
        return Err(Error::usage("no post files at the given paths"));
    }

    let mut targets: Vec<Target> = Vec::new();
    let mut rows: Vec<Row> = Vec::new();
    let mut tally = Tally::default();
    for abs in &files {
        let post = match content::parse_file(&project.root, abs, project.catalog) {
            Ok(p) => p,
            Err(d) => {
                rows.push(Row::unreadable(&project, abs, &d.message));
                tally.failed += 1;
                continue;
            }
        };
        let mut any = false;
        for name in NAMES {
            let Some(id) = PlatformId::parse(name) else { continue };
            if !only.is_empty() && !only.contains(&id) {
                continue;
            }
            let record = match ledger::get_record(&post.source.text, post.kind, name) {
                Ok(Some(r)) => r,
                Ok(None) => continue,
                Err(e) => {
                    any = true;
                    tally.failed += 1;
                    rows.push(Row {
                        post: post.path.clone(),
                        platform: name.to_string(),
                        result: format!("failed: cannot read the record: {e}"),
                    });
                    continue;
                }
            };
            any = true;
            if let Some(at) = &record.deleted_at {
                rows.push(Row {
                    post: post.path.clone(),
                    platform: name.to_string(),
                    result: format!("already deleted at {at}"),
                });
            } else if let Ok(Some(note)) = ledger::unconfirmed(&post.source.text, post.kind, name) {
                tally.failed += 1;
                rows.push(Row {
                    post: post.path.clone(),
                    platform: name.to_string(),
                    result: format!(
                        "failed: sent, reply lost ({note}), so crier does not know what to delete; record it first with `crier adopt {} --platform {name} --id ID`",
                        post.path
                    ),
                });
            } else if record.id.trim().is_empty() {
                tally.failed += 1;
                rows.push(Row {
                    post: post.path.clone(),
                    platform: name.to_string(),
                    result: "failed: the record has no id, so crier cannot tell which post to delete".to_owned(),
                });
            } else {
                targets.push(Target { post: post.clone(), platform: id, record });
            }
        }
        if !any {
            let on = if only.is_empty() {
                String::new()
            } else {
                format!(" on {}", only.iter().map(|p| publish::display(*p)).collect::<Vec<_>>().join(" or "))
            };
            rows.push(Row {
                post: post.path.clone(),
                platform: "-".to_owned(),
                result: format!("not published{on}: nothing to delete"),
            });
        }
    }

    let plan = plan_text(&targets);
    if args.dry_run || targets.is_empty() {
        let mut out = String::new();
        if args.dry_run {
            out.push_str("delete (dry run: nothing is deleted, written or committed)\n\n");
        }
        out.push_str(&plan);
        if !rows.is_empty() {
            out.push('\n');
            out.push_str(&rows_table(&rows));
        }
        print(&out);
        return Ok(if tally.failed == 0 { Outcome::Success } else { Outcome::Failure });
    }

    let mut needed: Vec<PlatformId> = targets.iter().map(|t| t.platform).collect();
    needed.sort();
    needed.dedup();
    require_credentials(g, &needed, "delete posts on")?;
    if !confirm(g, args, &plan, &targets)? {
        print("nothing deleted: not confirmed\n");
        return Ok(Outcome::Failure);
    }

    // From here a signal stops the run between posts; what is deleted is recorded and pushed.
    let cancel = Cancel::on_signals().map_err(|e| Error::io("cannot listen for SIGINT/SIGTERM", e))?;
    // Records are written like publish's: one writer per checkout, into committable files.
    let recording = Recording::begin(&project.root, args.commit.no_commit)?;
    let runtime = runtime()?;
    let mut written: Vec<RecordChange> = Vec::new();
    runtime.block_on(async {
        let mut conns: HashMap<PlatformId, Conn> = HashMap::new();
        for t in &targets {
            let id = t.platform;
            if cancel.is_cancelled() {
                let result = format!("not deleted: cancelled by {}; run again to finish", cancel.signal_name());
                rows.push(Row { post: t.post.path.clone(), platform: id.name().to_owned(), result });
                continue;
            }
            if let std::collections::hash_map::Entry::Vacant(slot) = conns.entry(id) {
                slot.insert(connect(&project, g, id).await);
            }
            let result = match conns.get_mut(&id) {
                Some(Conn::Stopped(why)) => {
                    tally.failed += 1;
                    format!("not deleted: {why}")
                }
                Some(Conn::Ready { budget: Some(b), .. }) if (b.remaining as usize) < t.parts() => {
                    tally.failed += 1;
                    format!("not deleted: {}", b.exhausted)
                }
                Some(Conn::Ready { session, budget }) => {
                    let label = format!("{} → {id}", t.post.path);
                    let progress = |msg: &str| {
                        if !g.quiet {
                            eprintln!("  {label}: {msg}");
                        }
                    };
                    let target = Recorded { post: &t.post, record: &t.record, rendered: None, progress: &progress };
                    match cancel.bounded(session.delete(&target)).await {
                        None => {
                            tally.failed += 1;
                            format!(
                                "abandoned {}s after {}: run again to finish (a post already gone is not an error)",
                                cancel::GRACE.as_secs(),
                                cancel.signal_name()
                            )
                        }
                        Some(Ok(done)) => {
                            if let Some(b) = budget {
                                b.remaining = b.remaining.saturating_sub(done.deleted as u64);
                            }
                            let mut record = t.record.clone();
                            record.deleted_at = Some(now.clone());
                            match write_back(t, &record) {
                                Ok(()) => {
                                    tally.deleted += 1;
                                    written.push(RecordChange {
                                        rel_path: t.post.path.clone(),
                                        kind: t.post.kind,
                                        platform: id.name().to_owned(),
                                        record,
                                        unconfirmed: None,
                                    });
                                    deleted_text(t, &done)
                                }
                                Err(e) => {
                                    tally.failed += 1;
                                    format!(
                                        "deleted, but the record cannot be written: {e}; add `deleted_at: \"{now}\"` under `published.{id}` by hand"
                                    )
                                }
                            }
                        }
                        Some(Err(f)) => {
                            tally.failed += 1;
                            let gone = if f.published_parts > 0 {
                                format!(" ({} of {} parts were deleted; run again to finish)", f.published_parts, t.parts())
                            } else {
                                String::new()
                            };
                            let line = format!("failed: {}{gone}", f.message);
                            if let Some(why) = f.fatal {
                                conns.insert(id, Conn::Stopped(why));
                            }
                            line
                        }
                    }
                }
                None => unreachable!("connected above"),
            };
            rows.push(Row { post: t.post.path.clone(), platform: id.name().to_owned(), result });
        }
    });

    let mut changes = recording.pending.clone();
    changes.extend(written.iter().cloned());
    let commit = RecordCommit { repo: &recording.repo, flags: &args.commit };
    let (git_lines, git_failed) = commit.run(g, &project, &changes, !written.is_empty());
    tally.failed += git_failed.len();
    let mut out = rows_table(&rows);
    let _ = writeln!(out, "\ndeleted {}, failed {}", tally.deleted, tally.failed);
    if !git_lines.is_empty() || !git_failed.is_empty() {
        out.push_str("git:\n");
        for l in git_lines.iter().chain(&git_failed) {
            let _ = writeln!(out, "  {l}");
        }
    }
    if let Some(name) = cancel.code().map(|_| cancel.signal_name()) {
        let _ = writeln!(out, "cancelled by {name}: no post started after it");
    }
    if tally.failed > 0 || cancel.is_cancelled() {
        out.push_str("\nrun the same `crier delete` again to retry: what is already deleted is recorded, and a post already gone is not an error\n");
    }
    print(&out);
    Ok(match cancel.code() {
        Some(code) => Outcome::Cancelled(code),
        None if tally.failed == 0 => Outcome::Success,
        None => Outcome::Failure,
    })
}

/// Connects `id` and reads its delete budget.
async fn connect(project: &crate::project::Project, g: &Global, id: PlatformId) -> Conn {
    let cx = ConnectContext {
        project,
        env: &g.env,
        recorded_ids: Default::default(),
        http: HttpOptions::from_config(&project.config.publish),
    };
    let session = match platforms::get(id).connect(&cx).await {
        Ok(s) => s,
        Err(f) => return Conn::Stopped(f.fatal.unwrap_or(f.message)),
    };
    match session.delete_budget().await {
        Ok(budget) => Conn::Ready { session, budget },
        Err(f) => Conn::Stopped(f.fatal.unwrap_or(f.message)),
    }
}

/// The table line of a post taken down.
fn deleted_text(t: &Target, done: &platforms::Deletion) -> String {
    let mut s = match (t.parts(), done.already_gone) {
        (1, 0) => "deleted".to_owned(),
        (1, _) => "deleted (it was already gone)".to_owned(),
        (n, 0) => format!("deleted, {n} parts"),
        (n, g) => format!("deleted, {n} parts ({g} already gone)"),
    };
    if let Some(note) = &done.note {
        let _ = write!(s, ": {note}");
    }
    s
}

/// Writes `record` (the target's record, now with `deleted_at`) into the post file as it
/// is now: a file edited meanwhile keeps its edits, but a record that changed is not
/// overwritten.
fn write_back(t: &Target, record: &Record) -> std::result::Result<(), String> {
    let text = std::fs::read_to_string(&t.post.abs_path).map_err(|e| format!("cannot read the file: {e}"))?;
    let current = ledger::get_record(&text, t.post.kind, t.platform.name()).map_err(|e| e.to_string())?;
    if current.as_ref() != Some(&t.record) {
        return Err(format!("`published.{}` changed in the file while crier was deleting", t.platform));
    }
    let new = ledger::set_record(&text, t.post.kind, t.platform.name(), record).map_err(|e| e.to_string())?;
    ledger::write_atomic(&t.post.abs_path, new.as_bytes()).map_err(|e| format!("cannot write the file: {e}"))
}

/// What would go, one line per post and platform.
fn plan_text(targets: &[Target]) -> String {
    if targets.is_empty() {
        return "nothing to delete\n".to_owned();
    }
    let mut out = String::from("would delete:\n");
    for t in targets {
        let _ = writeln!(out, "  {}", t.label());
    }
    out
}

/// Asks on a terminal (true: go ahead); refuses elsewhere without `--yes`.
fn confirm(g: &Global, args: &DeleteArgs, plan: &str, targets: &[Target]) -> Result<bool> {
    if args.yes {
        return Ok(true);
    }
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if g.env.in_ci() || !interactive {
        let place = if g.env.in_ci() { "in CI" } else { "without a terminal" };
        return Err(Error::usage(format!(
            "`crier delete` takes posts down for good and does not ask {place}: pass --yes to confirm, or --dry-run to see what would go"
        )));
    }
    let mut err = std::io::stderr();
    let what = if targets.len() == 1 { "1 post".to_owned() } else { format!("these {} posts", targets.len()) };
    let _ = write!(err, "{plan}Delete {what}? This cannot be undone. [y/N] ");
    let _ = err.flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).map_err(|e| Error::io("cannot read the answer", e))?;
    Ok(matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
}
