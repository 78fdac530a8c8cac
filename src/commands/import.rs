//! `crier import devto`: convert a devto-cli / publish-devto repository's posts.
//!
//! The conversion itself is [`crate::import::devto`] (text edits that keep every other
//! byte). This module finds the files, writes the `published.devto` record of each known
//! article id (its URL read from dev.to when `DEVTO_API_KEY` is set, else left empty for
//! `crier adopt` to fill), moves files with `--into`, points `content_dir` at the posts
//! when they stay where they are, and prints a summary (and a diff with `--dry-run`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::check::print;
use super::{Global, Outcome, open_project};
use crate::cli::{ImportArgs, ImportDevtoArgs, ImportFrom};
use crate::content::{self, FileKind};
use crate::error::{Error, Result};
use crate::import::devto::{Conversion, Converted, convert};
use crate::ledger::{self, Record};
use crate::platforms::http::HttpOptions;
use crate::platforms::{self, Adoption, ConnectContext, Job, PlatformId, Session};
use crate::project::Project;
use crate::publish::{fingerprint, rfc3339};

/// devto-cli's and publish-devto's default.
const DEFAULT_GLOB: &str = "posts/**/*.md";

pub fn execute(g: &Global, args: &ImportArgs) -> Result<Outcome> {
    match &args.from {
        ImportFrom::Devto(a) => devto(g, a),
    }
}

/// One file to write (or show).
struct Planned {
    rel: String,
    dest_rel: String,
    before: String,
    after: String,
    notes: Vec<String>,
}

fn devto(g: &Global, args: &ImportDevtoArgs) -> Result<Outcome> {
    let project = open_project(g)?;
    let globs: Vec<String> = if args.globs.is_empty() { vec![DEFAULT_GLOB.to_owned()] } else { args.globs.clone() };
    let files = matching(&project.root, &globs)?;
    if files.is_empty() {
        return Err(Error::usage(format!("no file matches {}", globs.join(", "))));
    }
    let devto_id = PlatformId::parse("devto").expect("dev.to is a platform");
    let now = rfc3339(g.env.now()?);
    let into = args.into.as_ref().map(|d| rel_dir(&project.root, d));

    let mut out = String::new();
    let mut planned = Vec::new();
    let mut skipped = 0;
    let mut failed = 0;
    let mut lookups: Vec<(usize, Record)> = Vec::new();
    for (rel, base) in &files {
        let abs = project.root.join(rel);
        let kind = FileKind::of(&abs);
        let before = match std::fs::read(&abs).map(String::from_utf8) {
            Ok(Ok(t)) => t,
            Ok(Err(_)) => {
                failed += 1;
                let _ = writeln!(out, "{rel}: not converted: the file is not UTF-8");
                continue;
            }
            Err(e) => {
                failed += 1;
                let _ = writeln!(out, "{rel}: not converted: cannot read it: {e}");
                continue;
            }
        };
        let c: Converted = match convert(&before, kind) {
            Ok(Conversion::Converted(c)) => c,
            Ok(Conversion::Skipped(why)) => {
                skipped += 1;
                let _ = writeln!(out, "{rel}: skipped ({why})");
                if !why.starts_with("already") {
                    let name = Path::new(rel).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                    let _ = writeln!(
                        out,
                        "  crier reads every file of its content folder: rename it to `_{name}` (or move it out) to keep it out"
                    );
                }
                continue;
            }
            Err(e) => {
                failed += 1;
                let _ = writeln!(out, "{rel}: not converted: {e}");
                continue;
            }
        };
        let mut notes = c.changes.clone();
        let mut after = c.text.clone();
        if let Some(id) = &c.id {
            // Without a `date`, left empty: the run that completes the record (adopt, or
            // publish) takes the article's own time from dev.to, not the import's.
            let published_at = c.date.as_deref().and_then(normalize_date).unwrap_or_default();
            let hash = match hash_of(&project, rel, &abs, kind, &c.text, devto_id) {
                Ok(h) => h,
                Err(why) => {
                    failed += 1;
                    let _ = writeln!(out, "{rel}: not converted: the result does not render for dev.to: {why}");
                    continue;
                }
            };
            let record = Record {
                relays: Vec::new(),
                d: None,
                id: id.clone(),
                url: String::new(),
                cid: None,
                published_at,
                hash,
                parts: Vec::new(),
                deleted_at: None,
            };
            match c.with_record(kind, &record) {
                Ok(t) => after = t,
                Err(e) => {
                    failed += 1;
                    let _ = writeln!(out, "{rel}: not converted: {e}");
                    continue;
                }
            }
            lookups.push((planned.len(), record));
        }
        let mut dest_rel = rel.clone();
        if let Some(dir) = &into {
            if c.relative_images {
                notes.push(format!("left in place, not moved to {dir}/: it links images relative to itself"));
            } else {
                let below = Path::new(rel).strip_prefix(base).unwrap_or(Path::new(rel));
                dest_rel = join_rel(dir, below);
                notes.push(format!("moved to {dest_rel}"));
            }
        }
        planned.push(Planned { rel: rel.clone(), dest_rel, before, after, notes });
    }

    // Article URLs, when dev.to can be asked (a dry run asks nothing).
    if !lookups.is_empty() {
        let key_set = g.env.get("DEVTO_API_KEY").is_some_and(|k| !k.trim().is_empty());
        if key_set && !args.dry_run {
            fill_urls(&project, g, devto_id, &now, &mut planned, &lookups, &mut failed);
        } else {
            for (i, _) in &lookups {
                planned[*i]
                    .notes
                    .push("the record's `url` is empty: `crier adopt` fills it in (with DEVTO_API_KEY set)".to_owned());
            }
        }
    }

    // Posts left where they are must be under content_dir for crier to see them.
    let config_edit = content_dir_edit(&project, &planned);

    for p in &planned {
        let _ = writeln!(out, "{}", p.rel);
        for n in &p.notes {
            let _ = writeln!(out, "  {n}");
        }
        if args.dry_run {
            out.push_str(&diff(&p.rel, &p.dest_rel, &p.before, &p.after));
        }
    }
    if let Some((rel, before, after, note)) = &config_edit {
        let _ = writeln!(out, "{rel}\n  {note}");
        if args.dry_run {
            out.push_str(&diff(rel, rel, before, after));
        }
    }

    if !args.dry_run {
        for p in &planned {
            if let Err(e) = write(&project.root, p) {
                failed += 1;
                let _ = writeln!(out, "{}: not written: {e}", p.rel);
            }
        }
        if let Some((rel, _, after, _)) = config_edit.as_ref().filter(|(_, b, a, _)| b != a) {
            if let Err(e) = ledger::write_atomic(&project.root.join(rel), after.as_bytes()) {
                failed += 1;
                let _ = writeln!(out, "{rel}: not written: {e}");
            }
        }
    }
    let verb = if args.dry_run { "would convert" } else { "converted" };
    let _ = writeln!(out, "\n{verb} {}, skipped {skipped}, failed {failed}", planned.len());
    if !args.dry_run && !planned.is_empty() {
        out.push_str(
            "next: `crier check`, then `crier adopt --dry-run` and `crier adopt` to record what is already on your accounts\n",
        );
    }
    print(&out);
    Ok(if failed == 0 { Outcome::Success } else { Outcome::Failure })
}

/// Files under `root` matching any glob (repository-relative, `/`-separated), with the
/// folder each glob starts from, in path order. `.gitignore`d paths are left out.
fn matching(root: &Path, globs: &[String]) -> Result<Vec<(String, String)>> {
    let mut compiled = Vec::new();
    for g in globs {
        let glob = globset::GlobBuilder::new(g.trim_start_matches("./"))
            .literal_separator(true)
            .build()
            .map_err(|e| Error::usage(format!("bad glob `{g}`: {e}")))?;
        compiled.push((glob.compile_matcher(), base_of(g)));
    }
    let walker = ignore::WalkBuilder::new(root)
        .hidden(true)
        .git_ignore(true)
        .git_global(false)
        .require_git(false)
        .sort_by_file_name(|a, b| a.cmp(b))
        .build();
    let mut out = Vec::new();
    for entry in walker.flatten() {
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let rel = content::relative_display(root, entry.path());
        if let Some((_, base)) = compiled.iter().find(|(m, _)| m.is_match(&rel)) {
            out.push((rel, base.clone()));
        }
    }
    out.sort();
    Ok(out)
}

/// The folder a glob starts from: its leading components without glob characters.
fn base_of(glob: &str) -> String {
    let parts: Vec<&str> = glob.trim_start_matches("./").split('/').collect();
    let literal: Vec<&str> = parts[..parts.len().saturating_sub(1)]
        .iter()
        .take_while(|p| !p.contains(['*', '?', '[', '{']))
        .copied()
        .collect();
    literal.join("/")
}

fn rel_dir(root: &Path, dir: &Path) -> String {
    let abs = if dir.is_absolute() { dir.to_path_buf() } else { root.join(dir) };
    content::relative_display(root, &abs).trim_end_matches('/').to_owned()
}

fn join_rel(dir: &str, below: &Path) -> String {
    let below = content::relative_display(Path::new(""), below);
    if dir.is_empty() { below } else { format!("{dir}/{below}") }
}

/// `date` as RFC 3339 (devto-cli writes dev.to's `published_at`, sometimes with
/// milliseconds); kept as written when it is not a date-time.
fn normalize_date(d: &str) -> Option<String> {
    let d = d.trim();
    Some(match chrono::DateTime::parse_from_rfc3339(d) {
        Ok(t) => rfc3339(t.with_timezone(&chrono::Utc)),
        Err(_) => d.to_owned(),
    })
}

/// The fingerprint of what crier would send dev.to for the converted text, so the record
/// says "this is what is there" and an unchanged post is not updated.
fn hash_of(
    project: &Project,
    rel: &str,
    abs: &Path,
    kind: FileKind,
    text: &str,
    id: PlatformId,
) -> Result<String, String> {
    let post = content::parse_text(
        rel.to_owned(),
        abs.to_path_buf(),
        kind,
        text.trim_start_matches('\u{feff}'),
        crate::platforms::catalog(),
    )
    .map_err(|d| d.message)?;
    let rendered = platforms::get(id)
        .render(project, &post, &[id])
        .map_err(|d| d.first().map(|d| d.message.clone()).unwrap_or_default())?;
    Ok(fingerprint(rendered.as_ref()))
}

/// Reads the URL of every recorded article from dev.to (the account's list, once).
fn fill_urls(
    project: &Project,
    g: &Global,
    id: PlatformId,
    now: &str,
    planned: &mut [Planned],
    lookups: &[(usize, Record)],
    failed: &mut usize,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            *failed += 1;
            for (i, _) in lookups {
                planned[*i].notes.push(format!("the record's `url` is empty (cannot start the network runtime: {e})"));
            }
            return;
        }
    };
    runtime.block_on(async {
        let cx = ConnectContext {
            project,
            env: &g.env,
            recorded_ids: Default::default(),
            http: HttpOptions::from_config(&project.config.publish),
        };
        let session: Box<dyn Session> = match platforms::get(id).connect(&cx).await {
            Ok(s) => s,
            Err(f) => {
                for (i, _) in lookups {
                    planned[*i].notes.push(format!("the record's `url` is empty ({}): run `crier adopt`", f.message));
                }
                return;
            }
        };
        for (i, record) in lookups {
            let p = &mut planned[*i];
            let abs = project.root.join(&p.rel);
            let kind = FileKind::of(&abs);
            let Ok(post) = content::parse_text(p.rel.clone(), abs, kind, p.after.trim_start_matches('\u{feff}'), crate::platforms::catalog()) else {
                continue;
            };
            let Ok(rendered) = platforms::get(id).render(project, &post, &[id]) else { continue };
            let quiet = |_: &str| {};
            let job = Job { post: &post, rendered: rendered.as_ref(), hash: &record.hash, now, progress: &quiet, ordered_done: &|| {}, write_ahead: &crate::platforms::no_write_ahead };
            match session.adopt(&job, Some(record)).await {
                Ok(Adoption::Found(full)) => match ledger::set_record(&p.after, kind, id.name(), &full) {
                    Ok(t) => {
                        p.after = t;
                        p.notes.push(format!("dev.to article {}: {}", full.id, full.url));
                    }
                    Err(e) => p.notes.push(format!("the record's `url` is empty ({e})")),
                },
                Ok(_) => p.notes.push(format!(
                    "article {} is not among the account's articles: the record's `url` is empty (check the id, or remove the record to publish it anew)",
                    record.id
                )),
                Err(f) => {
                    *failed += 1;
                    p.notes.push(format!("the record's `url` is empty: {}", f.message));
                    if f.fatal.is_some() {
                        break;
                    }
                }
            }
        }
    });
}

/// The `crier.yaml` change that makes crier see posts left outside `content_dir`:
/// (path, before, after, note).
fn content_dir_edit(project: &Project, planned: &[Planned]) -> Option<(String, String, String, String)> {
    let content = project.config.content_dir.trim_end_matches('/');
    let outside: Vec<&str> =
        planned.iter().map(|p| p.dest_rel.as_str()).filter(|r| !r.starts_with(&format!("{content}/"))).collect();
    let first = outside.first()?;
    let dir = first.rsplit_once('/').map_or("", |(d, _)| d).split('/').next().unwrap_or_default().to_owned();
    // Posts spread over several folders: nothing to point at (`--into` gathers them).
    if dir.is_empty() || outside.iter().any(|r| !r.starts_with(&format!("{dir}/"))) {
        return None;
    }
    let rel = project
        .config_path
        .as_ref()
        .map_or_else(|| crate::config::FILE_NAME.to_owned(), |p| content::relative_display(&project.root, p));
    let before = std::fs::read_to_string(project.root.join(&rel)).unwrap_or_default();
    let has_key =
        ledger::layout(&before, FileKind::Yaml).is_ok_and(|l| l.entries.iter().any(|e| e.key == "content_dir"));
    if has_key {
        let note = format!(
            "warning: crier reads posts from `content_dir: {content}` only, and these stay in {dir}/: use --into {content}"
        );
        return Some((rel, before.clone(), before, note));
    }
    let eol = if before.contains("\r\n") { "\r\n" } else { "\n" };
    let sep = if before.is_empty() || before.ends_with('\n') { "" } else { eol };
    let after = format!("{before}{sep}# Posts imported from devto-cli stay in {dir}/.{eol}content_dir: {dir}{eol}");
    Some((rel, before, after, format!("`content_dir: {dir}` (crier reads the posts where they are)")))
}

fn write(root: &Path, p: &Planned) -> std::io::Result<()> {
    let dest: PathBuf = root.join(&p.dest_rel);
    if p.dest_rel == p.rel {
        return ledger::write_atomic(&dest, p.after.as_bytes());
    }
    if dest.exists() {
        return Err(std::io::Error::new(std::io::ErrorKind::AlreadyExists, format!("{} exists", p.dest_rel)));
    }
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent)?;
    }
    ledger::write_atomic(&dest, p.after.as_bytes())?;
    std::fs::remove_file(root.join(&p.rel))
}

/// A unified diff of one file (`--dry-run`).
fn diff(from: &str, to: &str, before: &str, after: &str) -> String {
    let d = similar::TextDiff::from_lines(before, after);
    let mut out = d.unified_diff().context_radius(3).header(&format!("a/{from}"), &format!("b/{to}")).to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out
}
