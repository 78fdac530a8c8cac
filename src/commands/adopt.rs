//! `crier adopt`: record posts that are already on the accounts, without publishing.
//!
//! For every post without a record on a platform it goes to, the platform's session looks
//! for it the way `publish` reconciles ([`crate::platforms::Session::adopt`]): the same
//! matching, further back. What is found is written back like a publish run's records
//! (atomically, every other byte kept) and committed the same way. Two candidates adopt
//! nothing: the table says which, and the user decides.
//!
//! A post whose template links another platform's post (`published.<p>.url`) is looked
//! for once that platform is recorded, rendered with the real URL, as `publish` sends it.
//! The file's text is carried in memory from one platform to the next, so a dry run
//! renders the same way without writing anything.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::check::print;
use super::{
    Global, Outcome, RecordCommit, Recording, Row, Selection, require_credentials, rows_table, runtime, selection,
};
use crate::cli::AdoptArgs;
use crate::content::{self, Post};
use crate::error::{Error, Result};
use crate::git::RecordChange;
use crate::ledger;
use crate::pipeline;
use crate::platforms::http::HttpOptions;
use crate::platforms::{self, Adoption, ConnectContext, Job, PlatformId, Session};
use crate::project::Project;
use crate::publish::cancel::{self, Cancel};
use crate::publish::{self, fingerprint, record_of};

/// A platform's connection for this run, made on first use.
enum Conn {
    Ready(Box<dyn Session>),
    /// Connecting failed, or the credentials were rejected: why (for the posts not checked).
    Stopped(String),
}

#[derive(Default)]
struct Tally {
    found: usize,
    not_found: usize,
    ambiguous: usize,
    failed: usize,
}

pub fn execute(g: &Global, args: &AdoptArgs) -> Result<Outcome> {
    let Selection { project, now, only, files } = selection(g, &args.paths, &args.platform)?;
    if args.id.is_some() && (only.len() != 1 || files.len() != 1) {
        return Err(crate::error::Error::usage(
            "--id names one post on one platform: give one PATH and one --platform".to_owned(),
        ));
    }
    // Every post of the repository counts for "recorded elsewhere", not only the selected.
    let all: Vec<Post> = pipeline::select(&project, &[])?
        .iter()
        .chain(&files)
        .filter_map(|abs| content::parse_file(&project.root, abs, project.catalog).ok())
        .collect();

    // What to look for: (file, platforms without a record), in path order.
    let mut work: Vec<(Post, Vec<PlatformId>)> = Vec::new();
    let mut rows = Vec::new();
    let mut unreadable = 0;
    for abs in &files {
        let post = match content::parse_file(&project.root, abs, project.catalog) {
            Ok(p) => p,
            Err(d) => {
                rows.push(Row::unreadable(&project, abs, &d.message));
                unreadable += 1;
                continue;
            }
        };
        let mut diags = Vec::new();
        let targets = crate::rules::targets(&post, &project.config, &mut diags);
        let missing: Vec<PlatformId> = targets
            .into_iter()
            .filter(|p| only.is_empty() || only.contains(p))
            .filter(|p| record_of(&post, *p).is_none_or(|r| url_missing(r) || ledger::unconfirmed_note(r).is_some()))
            .collect();
        if !missing.is_empty() {
            let ordered = order_by_links(&project, &post, missing);
            work.push((post, ordered));
        }
    }
    let mut needed: Vec<PlatformId> = work.iter().flat_map(|(_, ps)| ps.iter().copied()).collect();
    needed.sort();
    needed.dedup();
    require_credentials(g, &needed, "look for posts on")?;

    // From here a signal stops the run between posts; what was found is recorded and pushed.
    let cancel = Cancel::on_signals().map_err(|e| Error::io("cannot listen for SIGINT/SIGTERM", e))?;
    // Records are written like publish's: one writer per checkout, into committable files.
    let recording = if args.dry_run { None } else { Some(Recording::begin(&project.root, args.commit.no_commit)?) };
    let runtime = runtime()?;
    let mut written: Vec<RecordChange> = Vec::new();
    let mut tally = Tally { failed: unreadable, ..Tally::default() };
    runtime.block_on(async {
        let mut conns: HashMap<PlatformId, Conn> = HashMap::new();
        for (post, platforms_) in &work {
            let mut text = post.source.text.to_string();
            let original = text.clone();
            let mut changes = Vec::new();
            for &id in platforms_ {
                if cancel.is_cancelled() {
                    let result = format!("not checked: cancelled by {}; run again to finish", cancel.signal_name());
                    rows.push(Row { post: post.path.clone(), platform: id.name().to_owned(), result });
                    continue;
                }
                let conn = match conns.get(&id) {
                    Some(c) => c,
                    None => {
                        let cx = ConnectContext {
                            project: &project,
                            env: &g.env,
                            recorded_ids: publish::run::recorded_ids(all.iter(), id),
                            http: HttpOptions::from_config(&project.config.publish),
                        };
                        let c = match platforms::get(id).connect(&cx).await {
                            Ok(s) => Conn::Ready(s),
                            Err(f) => Conn::Stopped(f.fatal.unwrap_or(f.message)),
                        };
                        conns.entry(id).or_insert(c)
                    }
                };
                let result = match conn {
                    Conn::Stopped(why) => {
                        tally.failed += 1;
                        format!("not checked: {why}")
                    }
                    Conn::Ready(session) => {
                        let at = Looking { now: &now, quiet: g.quiet, id: args.id.as_deref() };
                        let look = look(&project, post, &text, id, session.as_ref(), &at);
                        let outcome = cancel.bounded(look).await.unwrap_or_else(|| Looked::Failed {
                            message: format!(
                                "abandoned {}s after {}: run again to finish",
                                cancel::GRACE.as_secs(),
                                cancel.signal_name()
                            ),
                            fatal: None,
                        });
                        match outcome {
                            Looked::Found(record) => match ledger::set_record(&text, post.kind, id.name(), &record) {
                                Ok(new) => {
                                    text = new;
                                    tally.found += 1;
                                    let url = record.url.clone();
                                    changes.push(RecordChange {
                                        rel_path: post.path.clone(),
                                        kind: post.kind,
                                        platform: id.name().to_owned(),
                                        record,
                                        unconfirmed: None,
                                    });
                                    format!("found {url}")
                                }
                                Err(e) => {
                                    tally.failed += 1;
                                    format!("found {}, but the record cannot be written: {e}", record.url)
                                }
                            },
                            Looked::NotFound(why) => {
                                tally.not_found += 1;
                                why
                            }
                            Looked::Ambiguous(why) => {
                                tally.ambiguous += 1;
                                why
                            }
                            Looked::Failed { message, fatal } => {
                                tally.failed += 1;
                                if let Some(why) = fatal {
                                    conns.insert(id, Conn::Stopped(why));
                                }
                                format!("failed: {message}")
                            }
                        }
                    }
                };
                rows.push(Row { post: post.path.clone(), platform: id.name().to_owned(), result });
            }
            if args.dry_run || text == original {
                continue;
            }
            // The file as read, with the records added: nothing else changes, and a file
            // edited meanwhile is left alone.
            match std::fs::read_to_string(&post.abs_path) {
                Ok(now_text) if now_text.trim_start_matches('\u{feff}') == original => {
                    let bom = if now_text.starts_with('\u{feff}') { "\u{feff}" } else { "" };
                    match ledger::write_atomic(&post.abs_path, format!("{bom}{text}").as_bytes()) {
                        Ok(()) => written.extend(changes),
                        Err(e) => {
                            tally.failed += 1;
                            rows.push(Row {
                                post: post.path.clone(),
                                platform: platforms_[0].name().to_owned(),
                                result: format!("failed: cannot write the file: {e}"),
                            });
                        }
                    }
                }
                _ => {
                    tally.failed += 1;
                    rows.push(Row {
                        post: post.path.clone(),
                        platform: platforms_[0].name().to_owned(),
                        result: "failed: the file changed while crier was looking; run adopt again".to_owned(),
                    });
                }
            }
        }
    });

    let mut git_lines = Vec::new();
    if let Some(recording) = &recording {
        let mut changes = recording.pending.clone();
        changes.extend(written.iter().cloned());
        let commit = RecordCommit { repo: &recording.repo, flags: &args.commit };
        let (lines, failed) = commit.run(g, &project, &changes, !written.is_empty());
        git_lines = lines;
        tally.failed += failed.len();
        git_lines.extend(failed);
    }
    let mut out = table(&rows, &tally, args.dry_run, &git_lines);
    if cancel.is_cancelled() {
        let _ = writeln!(out, "cancelled by {}: no post was looked for after it", cancel.signal_name());
    }
    print(&out);
    Ok(match cancel.code() {
        Some(code) => Outcome::Cancelled(code),
        None if tally.failed == 0 => Outcome::Success,
        None => Outcome::Failure,
    })
}

/// A record with an id but no URL (`crier import` writes them when it cannot ask dev.to).
fn url_missing(record: &serde_json::Value) -> bool {
    record.get("url").and_then(serde_json::Value::as_str).is_none_or(|u| u.trim().is_empty())
}

/// What looking for one post on one platform gave.
enum Looked {
    Found(ledger::Record),
    NotFound(String),
    Ambiguous(String),
    Failed { message: String, fatal: Option<String> },
}

/// How `look` looks: the run's time, quietly or not, and the id the user gave (`--id`).
struct Looking<'a> {
    now: &'a str,
    quiet: bool,
    id: Option<&'a str>,
}

/// Renders the post as `publish` would send it now (cross-links to recorded platforms
/// only) and asks the session whether it is already there (`given_id`: under that id).
#[allow(clippy::too_many_arguments)] // each is a separate input of one look-up
async fn look(
    project: &Project,
    post: &Post,
    text: &str,
    id: PlatformId,
    session: &dyn Session,
    at: &Looking<'_>,
) -> Looked {
    let Looking { now, quiet, id: given } = *at;
    let current = match content::parse_text(
        post.path.clone(),
        post.abs_path.clone(),
        post.kind,
        text,
        crate::platforms::catalog(),
    ) {
        Ok(p) => p,
        Err(d) => return Looked::Failed { message: d.message, fatal: None },
    };
    let platform = platforms::get(id);
    let Ok(rendered) = platform.render(project, &current, &[id]) else {
        let targets = crate::rules::targets(&current, &project.config, &mut Vec::new());
        let linked = linked(project, &current, id, &targets);
        return Looked::NotFound(if linked.is_empty() {
            "not checked: it does not render (see `crier check`)".to_owned()
        } else {
            format!(
                "not checked: its template links its {} post, which is not recorded",
                linked.iter().map(|p| publish::display(*p)).collect::<Vec<_>>().join(" and ")
            )
        });
    };
    let hash = fingerprint(rendered.as_ref());
    let label = format!("{} → {id}", post.path);
    let progress = |msg: &str| {
        if !quiet {
            eprintln!("  {label}: {msg}");
        }
    };
    let job = Job {
        post: &current,
        rendered: rendered.as_ref(),
        hash: &hash,
        now,
        progress: &progress,
        ordered_done: &|| {},
        write_ahead: &platforms::no_write_ahead,
    };
    // What the platform is told to look up: an id without a URL (`crier import`), the
    // confirmed beginning of a post whose reply was lost, or the id the user gave.
    let unconfirmed = matches!(ledger::unconfirmed(text, post.kind, id.name()), Ok(Some(_)));
    let recorded = ledger::get_record(text, post.kind, id.name())
        .ok()
        .flatten()
        .filter(|r| r.url.trim().is_empty() || unconfirmed);
    let incomplete = match given {
        Some(given) => Some(ledger::Record {
            id: given.trim().to_owned(),
            url: String::new(),
            parts: Vec::new(),
            ..recorded.unwrap_or_else(|| ledger::Record {
                relays: Vec::new(),
                d: None,
                id: String::new(),
                url: String::new(),
                cid: None,
                // Unknown: the platform's own time for the post, where it has one, else now.
                published_at: String::new(),
                hash: hash.clone(),
                parts: Vec::new(),
                deleted_at: None,
            })
        }),
        None => recorded,
    };
    match session.adopt(&job, incomplete.as_ref()).await {
        Ok(Adoption::Found(record)) => Looked::Found(record),
        Ok(Adoption::NotFound) => Looked::NotFound(match &incomplete {
            Some(rec) => format!("not found: the recorded id {} is not among the account's posts", rec.id),
            None => "not found".to_owned(),
        }),
        Ok(Adoption::Ambiguous(why)) => Looked::Ambiguous(format!("ambiguous, nothing adopted: {why}")),
        Ok(Adoption::Partial(why)) => Looked::Ambiguous(format!("partly there, nothing adopted: {why}")),
        Ok(Adoption::Unsupported) => Looked::NotFound(match given {
            None => format!(
                "not checked: crier cannot look for existing {} posts; if it is there, record it with `crier adopt {} --platform {id} --id ID` (the id from its link)",
                platform.display_name(),
                post.path
            ),
            Some(_) => format!("not checked: crier cannot look for existing {} posts yet", platform.display_name()),
        }),
        Err(f) => Looked::Failed { message: f.message, fatal: f.fatal },
    }
}

/// The platforms a post's template on `id` links (`published.<p>.url`) among `among`,
/// judged on a rendering with placeholder URLs.
fn linked(project: &Project, post: &Post, id: PlatformId, among: &[PlatformId]) -> Vec<PlatformId> {
    match platforms::get(id).render(project, post, among) {
        Ok(r) => crate::crosslinks::links(project, r.as_ref(), among),
        Err(_) => Vec::new(),
    }
}

/// The platforms of a post, those whose templates link no other platform of the list
/// first, so a linked post is recorded before the post linking it is rendered.
fn order_by_links(project: &Project, post: &Post, mut ids: Vec<PlatformId>) -> Vec<PlatformId> {
    let all = ids.clone();
    ids.sort_by_key(|id| (!linked(project, post, *id, &all).is_empty(), *id));
    ids
}

fn table(rows: &[Row], t: &Tally, dry_run: bool, git: &[String]) -> String {
    let mut out = String::new();
    if dry_run {
        out.push_str("adopt (dry run: nothing is written or committed)\n\n");
    }
    if rows.is_empty() {
        out.push_str("every post is recorded on every platform it goes to: nothing to adopt\n");
        return out;
    }
    out.push_str(&rows_table(rows));
    let verb = if dry_run { "would adopt" } else { "adopted" };
    let _ = writeln!(
        out,
        "\n{verb} {}, not found {}, ambiguous {}, failed {}",
        t.found, t.not_found, t.ambiguous, t.failed
    );
    if !git.is_empty() {
        out.push_str("git:\n");
        for l in git {
            let _ = writeln!(out, "  {l}");
        }
    }
    out
}
