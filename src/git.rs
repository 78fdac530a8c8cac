//! Committing and pushing the records `publish` wrote back (spec section 7).
//!
//! * [`lock`]: one `publish` at a time per checkout (`<gitdir>/crier-publish.lock`).
//! * [`preflight`]: refuse a detached HEAD or a shallow clone before anything is published.
//! * [`pending_records`]: records an interrupted earlier run wrote but did not commit.
//! * [`commit_and_push`]: commit exactly the records and push the current branch.
//! * [`commit_and_push_appends`]: the same for lines appended to a file (the
//!   `crier stats --record` history), re-appended to the remote's version on a race.
//!
//! The commit is built from HEAD's version of each post file with
//! [`ledger::set_record`] applied, never from the working file, so unrelated
//! uncommitted edits (in that file or any other) are never swept in. When the
//! push is rejected because the remote moved, the same write-back is applied
//! to the remote head's version of each file (not a text merge) and pushed again.
//!
//! Identity: `user.name`/`user.email` from git config, else [`GitOptions::author`],
//! else [`DEFAULT_AUTHOR`] (`crier <crier@users.noreply.github.com>`).
//!
//! Credentials: https with a token (`CRIER_GIT_TOKEN`, else `GITHUB_TOKEN`) as
//! `x-access-token:<token>`, else git's credential helpers; ssh through the
//! agent; local paths need nothing. The token is only handed to libgit2's
//! credential callback: never written to config, remote URLs or messages.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use git2::build::{CheckoutBuilder, TreeUpdateBuilder};
use git2::{
    CheckoutNotificationType, Commit, Cred, CredentialType, ErrorClass, ErrorCode, FetchOptions, FileMode, Oid,
    PushOptions, RemoteCallbacks, Repository, Signature, StatusOptions,
};
use secrecy::{ExposeSecret as _, SecretString};

use crate::content::FileKind;
use crate::ledger::{self, Record};

/// First line of every commit crier makes. `[skip ci]` keeps the push from
/// starting another workflow run.
pub const COMMIT_SUBJECT: &str = "crier: record published posts [skip ci]";
/// First line of the commit `crier delete` makes.
pub const DELETE_SUBJECT: &str = "crier: record deleted posts [skip ci]";
/// First line of the commit `crier stats --record` makes.
pub const STATS_SUBJECT: &str = "crier: record engagement [skip ci]";
/// What every crier commit's subject starts with (to find unpushed ones).
const SUBJECT_PREFIX: &str = "crier: record ";
/// Author and committer when git config has no identity and none is given.
pub const DEFAULT_AUTHOR: (&str, &str) = ("crier", "crier@users.noreply.github.com");
/// The lock file, inside the repository's git directory.
pub const LOCK_FILE: &str = "crier-publish.lock";

/// One record to commit: `published.<platform>` of the post at `rel_path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordChange {
    /// Relative to the `root` passed to this module's functions, `/`-separated
    /// (the same as [`crate::content::Post::path`]).
    pub rel_path: String,
    pub kind: FileKind,
    pub platform: String,
    pub record: Record,
    /// The entry's lost-reply note (`ledger::set_unconfirmed`), when the post was sent but
    /// not confirmed.
    pub unconfirmed: Option<String>,
}

impl RecordChange {
    /// `text` with this change's entry written in.
    pub fn apply(&self, text: &str) -> Result<String, ledger::LedgerError> {
        apply_entry(text, self.kind, &self.platform, &self.record, self.unconfirmed.as_deref())
    }
}

fn apply_entry(
    text: &str,
    kind: FileKind,
    platform: &str,
    record: &Record,
    unconfirmed: Option<&str>,
) -> Result<String, ledger::LedgerError> {
    match unconfirmed {
        Some(note) => ledger::set_unconfirmed(text, kind, platform, record, note),
        None => ledger::set_record(text, kind, platform, record),
    }
}

/// Lines to append to a file (`crier stats --record`'s history), committed like records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Append {
    /// Relative to `root`, `/`-separated.
    pub rel_path: String,
    /// Whole lines, each ending in a newline.
    pub text: String,
}

/// What [`commit_and_push`] may do.
#[derive(Debug, Clone)]
pub struct GitOptions {
    /// Commit at all (false: nothing happens, `NothingToCommit`).
    pub commit: bool,
    /// Push after committing.
    pub push: bool,
    /// Pushes tried in total, re-applying the records after each rejection.
    pub max_push_attempts: u32,
    /// Token for https remotes ([`GitOptions::token_from`]).
    pub token: Option<SecretString>,
    /// `(name, email)` used when git config has no identity.
    pub author: Option<(String, String)>,
}

impl Default for GitOptions {
    fn default() -> Self {
        Self { commit: true, push: true, max_push_attempts: 5, token: None, author: None }
    }
}

impl GitOptions {
    /// `CRIER_GIT_TOKEN`, else `GITHUB_TOKEN` (empty values are ignored).
    pub fn token_from(env: &crate::env::Env) -> Option<SecretString> {
        ["CRIER_GIT_TOKEN", "GITHUB_TOKEN"]
            .iter()
            .filter_map(|k| env.get(k))
            .find(|v| !v.trim().is_empty())
            .map(|v| SecretString::from(v.trim().to_owned()))
    }
}

/// What [`preflight`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepoInfo {
    /// Records are written to the files only; warn that nothing is committed.
    NotARepository,
    Repository {
        workdir: PathBuf,
        /// Current branch (short name).
        branch: String,
        /// Remote the branch is pushed to (None: no remote, pushing will fail).
        remote: Option<String>,
    },
}

/// What [`commit_and_push`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitOutcome {
    NotARepository,
    /// The records are already in HEAD and nothing of crier's is waiting to be pushed.
    NothingToCommit,
    Committed {
        /// The local branch head after the run (the records commit).
        commit: String,
        pushed: bool,
        /// Pushes tried (0 when not pushing).
        attempts: u32,
        /// Things the user should know (files left alone, earlier commits pushed).
        notes: Vec<String>,
        /// Records this run could not commit because the remote's version of the file
        /// records another post for the same platform (both ids named): failures.
        conflicts: Vec<String>,
    },
}

/// What a commit and push tells the user besides the commit.
#[derive(Default)]
struct Notes {
    lines: Vec<String>,
    conflicts: Vec<String>,
}

impl Notes {
    fn push(&mut self, line: String) {
        self.lines.push(line);
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error(
        "another `crier publish` is running in this checkout ({holder}, holding `{}`); wait for it to finish",
        path.display()
    )]
    Locked { holder: String, path: PathBuf },
    #[error(
        "HEAD is detached, so crier cannot commit the records to a branch; check out the branch first: `git switch <branch>`, or in GitHub Actions give `actions/checkout` `ref: ${{{{ github.head_ref || github.ref_name }}}}` (and `fetch-depth: 0`)"
    )]
    DetachedHead,
    #[error(
        "this is a shallow clone, which cannot reliably push the records; fetch the full history with `git fetch --unshallow`, or in GitHub Actions give `actions/checkout` `fetch-depth: 0`"
    )]
    Shallow,
    #[error(
        "branch `{branch}` has no remote to push the records to; add one (`git remote add origin <url>`), or run with `--no-push` to commit without pushing"
    )]
    NoUpstream { branch: String },
    /// The records are committed on the local branch but could not be pushed.
    #[error("{message}")]
    PushFailed { commit: String, message: String },
    #[error("{0}")]
    Other(String),
}

fn other(what: &str, e: impl std::fmt::Display) -> GitError {
    GitError::Other(format!("{what}: {}", redact(&e.to_string(), None)))
}

// ---------------------------------------------------------------------------
// Opening the repository

struct Repo {
    repo: Repository,
    workdir: PathBuf,
    /// `root` relative to the work tree, `/`-separated with a trailing `/` (or empty).
    prefix: String,
}

impl Repo {
    fn open(root: &Path) -> Result<Option<Self>, GitError> {
        let repo = match Repository::discover(root) {
            Ok(r) => r,
            Err(e) if e.code() == ErrorCode::NotFound => return Ok(None),
            Err(e) => return Err(other("cannot open the repository", e)),
        };
        let Some(workdir) = repo.workdir().map(Path::to_path_buf) else { return Ok(None) };
        let canon = |p: &Path| fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        let rel = canon(root).strip_prefix(canon(&workdir)).map(Path::to_path_buf).unwrap_or_default();
        let mut prefix = String::new();
        for c in rel.components() {
            prefix.push_str(&c.as_os_str().to_string_lossy());
            prefix.push('/');
        }
        Ok(Some(Self { repo, workdir, prefix }))
    }

    fn to_repo_path(&self, rel: &str) -> String {
        format!("{}{}", self.prefix, rel.trim_start_matches("./"))
    }

    fn to_root_path<'a>(&self, repo_path: &'a str) -> Option<&'a str> {
        repo_path.strip_prefix(&self.prefix)
    }

    fn head_commit(&self) -> Result<Option<Commit<'_>>, GitError> {
        match self.repo.head() {
            Ok(h) => h.peel_to_commit().map(Some).map_err(|e| other("cannot read HEAD", e)),
            Err(e) if matches!(e.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) => Ok(None),
            Err(e) => Err(other("cannot read HEAD", e)),
        }
    }
}

/// The checked-out branch: `refs/heads/<name>`.
struct Branch {
    refname: String,
    name: String,
}

fn current_branch(repo: &Repository) -> Result<Branch, GitError> {
    let head = repo.find_reference("HEAD").map_err(|e| other("cannot read HEAD", e))?;
    match head.symbolic_target().ok().flatten() {
        Some(t) if t.starts_with("refs/heads/") => {
            Ok(Branch { refname: t.to_owned(), name: t["refs/heads/".len()..].to_owned() })
        }
        _ => Err(GitError::DetachedHead),
    }
}

fn check_head(repo: &Repository) -> Result<Branch, GitError> {
    let branch = current_branch(repo)?;
    if repo.is_shallow() {
        return Err(GitError::Shallow);
    }
    Ok(branch)
}

/// `(remote name, remote ref)` the branch is pushed to: its configured
/// upstream, else `origin` (or the only remote) and the same branch name.
fn upstream(repo: &Repository, branch: &Branch) -> Result<(String, String), GitError> {
    let configured = repo.branch_upstream_remote(&branch.refname).ok().and_then(|b| b.as_str().ok().map(str::to_owned));
    let merge = repo
        .branch_upstream_merge(&branch.refname)
        .ok()
        .and_then(|b| b.as_str().ok().map(str::to_owned))
        .unwrap_or_else(|| branch.refname.clone());
    if let Some(remote) = configured.filter(|r| r != ".") {
        return Ok((remote, merge));
    }
    let remotes = repo.remotes().map_err(|e| other("cannot list remotes", e))?;
    let names: Vec<&str> = remotes.iter().flatten().flatten().collect();
    let name = if names.contains(&"origin") {
        "origin"
    } else if let [only] = names.as_slice() {
        only
    } else {
        return Err(GitError::NoUpstream { branch: branch.name.clone() });
    };
    Ok((name.to_owned(), merge))
}

// ---------------------------------------------------------------------------
// Lock

/// Held while `publish` runs: an exclusive lock the operating system holds on
/// `<gitdir>/crier-publish.lock` (`flock` on Linux and macOS, `LockFileEx` on Windows),
/// so it ends with the process however the process ends; the file only names the holder.
#[derive(Debug)]
pub struct PublishLock {
    path: PathBuf,
    file: fs::File,
}

impl PublishLock {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PublishLock {
    fn drop(&mut self) {
        // The file stays (removing it would race a run that opened it meanwhile); it is
        // emptied and unlocked explicitly: a child process forked by another thread (git,
        // a credential helper) shares the handle until it execs, and would otherwise keep
        // the lock a moment after this handle closes.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

fn hostname() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|p| fs::read_to_string(p).ok())
        .chain(["HOSTNAME", "COMPUTERNAME"].iter().filter_map(|k| std::env::var(k).ok()))
        .map(|h| h.trim().to_owned())
        .find(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".to_owned())
}

/// Who holds the lock, as its file says.
fn describe_holder(text: &str) -> String {
    let field = |name: &str| {
        text.lines().find_map(|l| l.split_once(':').filter(|(k, _)| k.trim() == name).map(|(_, v)| v.trim().to_owned()))
    };
    match field("pid") {
        Some(pid) => format!(
            "pid {pid} on {}, started {}",
            field("host").as_deref().unwrap_or("an unknown host"),
            field("started").as_deref().unwrap_or("at an unknown time")
        ),
        // Windows does not let another process read a locked file.
        None => "the lock file does not say who holds it".to_owned(),
    }
}

/// Takes `<gitdir>/crier-publish.lock` and writes pid, host and start time into it.
/// Outside a repository there is nothing to lock: `Ok(None)`. A lock file left by a
/// process that is gone (killed, crashed, a runner shut down) is not locked any more
/// and is simply taken, on every operating system.
pub fn lock(root: &Path) -> Result<Option<PublishLock>, GitError> {
    let Some(r) = Repo::open(root)? else { return Ok(None) };
    let path = r.repo.path().join(LOCK_FILE);
    let mut file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| other(&format!("cannot open `{}`", path.display()), e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut file, &mut text);
            return Err(GitError::Locked { holder: describe_holder(&text), path });
        }
        Err(fs::TryLockError::Error(e)) => return Err(other(&format!("cannot lock `{}`", path.display()), e)),
    }
    let content = format!(
        "pid: {}\nhost: {}\nstarted: {}\n",
        std::process::id(),
        hostname(),
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    file.set_len(0)
        .and_then(|()| std::io::Seek::rewind(&mut file))
        .and_then(|()| file.write_all(content.as_bytes()))
        .and_then(|()| file.sync_all())
        .map_err(|e| other(&format!("cannot write `{}`", path.display()), e))?;
    Ok(Some(PublishLock { path, file }))
}

// ---------------------------------------------------------------------------
// Preflight and pending records

/// Checks, before anything is published, that the records can be committed
/// and pushed afterwards.
pub fn preflight(root: &Path) -> Result<RepoInfo, GitError> {
    let Some(r) = Repo::open(root)? else { return Ok(RepoInfo::NotARepository) };
    let branch = check_head(&r.repo)?;
    let remote = upstream(&r.repo, &branch).ok().map(|(remote, _)| remote);
    Ok(RepoInfo::Repository { workdir: r.workdir, branch: branch.name, remote })
}

fn is_post_path(path: &str) -> bool {
    [".md", ".yaml", ".yml"].iter().any(|ext| path.ends_with(ext))
}

/// Every platform's entry: its record and lost-reply note.
fn records_of(content: &[u8], kind: FileKind) -> Vec<(&'static str, Record, Option<String>)> {
    let Ok(text) = std::str::from_utf8(content) else { return Vec::new() };
    crate::platform_id::NAMES
        .iter()
        .filter_map(|p| {
            let record = ledger::get_record(text, kind, p).ok().flatten()?;
            Some((*p, record, ledger::unconfirmed(text, kind, p).ok().flatten()))
        })
        .collect()
}

/// Records in the working tree's post files (`.md`/`.yaml`/`.yml` under
/// `root`, tracked or not, ignored files excepted) that HEAD does not have:
/// left by an earlier run that published but did not commit.
pub fn pending_records(root: &Path) -> Result<Vec<RecordChange>, GitError> {
    let Some(r) = Repo::open(root)? else { return Ok(Vec::new()) };
    let head_tree = match r.head_commit()? {
        Some(c) => Some(c.tree().map_err(|e| other("cannot read HEAD", e))?),
        None => None,
    };
    let mut opts = StatusOptions::new();
    opts.include_untracked(true).recurse_untracked_dirs(true).include_ignored(false).exclude_submodules(true);
    let statuses = r.repo.statuses(Some(&mut opts)).map_err(|e| other("cannot read the status", e))?;
    let mut out = Vec::new();
    for entry in statuses.iter() {
        let Ok(path) = entry.path() else { continue };
        let Some(rel) = r.to_root_path(path) else { continue };
        if !is_post_path(path) || entry.status().is_wt_deleted() {
            continue;
        }
        let Ok(working) = fs::read(r.workdir.join(path)) else { continue };
        let kind = FileKind::of(Path::new(path));
        let committed = head_tree
            .as_ref()
            .and_then(|t| t.get_path(Path::new(path)).ok())
            .and_then(|e| r.repo.find_blob(e.id()).ok())
            .map(|b| records_of(b.content(), kind))
            .unwrap_or_default();
        for (platform, record, unconfirmed) in records_of(&working, kind) {
            if !committed.iter().any(|(p, rec, note)| *p == platform && *rec == record && *note == unconfirmed) {
                out.push(RecordChange {
                    rel_path: rel.to_owned(),
                    kind,
                    platform: platform.to_owned(),
                    record,
                    unconfirmed,
                });
            }
        }
    }
    out.sort_by(|a, b| (&a.rel_path, &a.platform).cmp(&(&b.rel_path, &b.platform)));
    Ok(out)
}

// ---------------------------------------------------------------------------
// Committing

/// A record with a repository-relative path.
#[derive(Debug, Clone)]
struct Rec {
    path: String,
    kind: FileKind,
    platform: String,
    record: Record,
    unconfirmed: Option<String>,
}

/// Content (and mode) of a file the parent commit does not have.
type Fallback<'a> = dyn Fn(&str) -> Option<(Vec<u8>, FileMode)> + 'a;

/// One file of a records commit.
struct FileWrite {
    path: String,
    /// Content in the parent commit (None: not there).
    before: Option<Vec<u8>>,
    after: Vec<u8>,
}

fn signature(repo: &Repository, opts: &GitOptions) -> Result<Signature<'static>, GitError> {
    if let Ok(sig) = repo.signature() {
        return Ok(sig);
    }
    let (name, email) = opts.author.clone().unwrap_or((DEFAULT_AUTHOR.0.to_owned(), DEFAULT_AUTHOR.1.to_owned()));
    Signature::now(&name, &email).map_err(|e| other("invalid author", e))
}

/// What a commit records: its subject, and what a failed push tells the user is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Work {
    /// Records of posts published (or adopted).
    Published,
    /// `deleted_at` marks of posts taken down.
    Deleted,
    /// Engagement lines appended to the history.
    Engagement,
    /// Nothing new: only commits an earlier run left unpushed.
    Earlier,
}

impl Work {
    fn of(recs: &[Rec], appends: &[Append]) -> Self {
        if recs.is_empty() {
            if appends.is_empty() { Self::Earlier } else { Self::Engagement }
        } else if recs.iter().all(|r| r.record.deleted_at.is_some()) {
            Self::Deleted
        } else {
            Self::Published
        }
    }

    fn subject(self) -> &'static str {
        match self {
            Self::Engagement => STATS_SUBJECT,
            Self::Deleted => DELETE_SUBJECT,
            Self::Published | Self::Earlier => COMMIT_SUBJECT,
        }
    }

    /// What is already done when only the push failed.
    fn done(self) -> &'static str {
        match self {
            Self::Published => "the posts are published and their records are committed",
            Self::Deleted => "the posts are deleted and their deletion is recorded and committed",
            Self::Engagement => "the engagement numbers are recorded and committed",
            Self::Earlier => "the records an earlier run left unpushed are committed",
        }
    }
}

/// The message is the subject alone, exactly as the contract fixes it (`crier: record
/// published posts [skip ci]`): what went where is in the run's output and the diff.
fn commit_message(recs: &[Rec], appends: &[Append]) -> String {
    format!("{}\n", Work::of(recs, appends).subject())
}

/// Builds (without moving any ref) a commit on `parent` holding `parent`'s
/// version of each file with the records applied. Files missing from
/// `parent` take their content from `fallback` (or are skipped with a note).
/// `known` is the tree the run started from (None: `parent`'s): a record there is one
/// the run replaces on purpose (an edit that changed the id, an entry the user took out
/// to publish again); a record that is in `parent` only was written by another run
/// meanwhile, and is kept. None when `parent` already has every record.
#[allow(clippy::too_many_arguments)]
fn build_commit<'r>(
    repo: &'r Repository,
    parent: Option<&Commit<'r>>,
    known: Option<&git2::Tree<'r>>,
    recs: &[Rec],
    appends: &[Append],
    fallback: &Fallback<'_>,
    sig: &Signature<'_>,
    notes: &mut Notes,
) -> Result<Option<(Oid, Vec<FileWrite>)>, GitError> {
    let base_tree = match parent {
        Some(c) => c.tree().map_err(|e| other("cannot read a tree", e))?,
        None => {
            let empty = repo.treebuilder(None).and_then(|b| b.write()).map_err(|e| other("cannot write a tree", e))?;
            repo.find_tree(empty).map_err(|e| other("cannot read a tree", e))?
        }
    };
    let mut by_file: BTreeMap<&str, Vec<&Rec>> = BTreeMap::new();
    for r in recs {
        by_file.entry(&r.path).or_default().push(r);
    }
    let mut update = TreeUpdateBuilder::new();
    let mut writes = Vec::new();
    for (path, file_recs) in by_file {
        let (before, content, mode) = match base_tree.get_path(Path::new(path)) {
            Ok(entry) => {
                let mode = match entry.filemode() {
                    m if m == i32::from(FileMode::Blob) => FileMode::Blob,
                    m if m == i32::from(FileMode::BlobExecutable) => FileMode::BlobExecutable,
                    _ => {
                        return Err(GitError::Other(format!(
                            "`{path}` is not a regular file in git (a symlink or submodule?); commit its record by hand"
                        )));
                    }
                };
                let blob = repo.find_blob(entry.id()).map_err(|e| other(&format!("cannot read `{path}`"), e))?;
                (Some(blob.content().to_vec()), blob.content().to_vec(), mode)
            }
            Err(_) => match fallback(path) {
                Some((content, mode)) => (None, content, mode),
                None => {
                    notes.push(format!("`{path}` no longer exists, so its record was not committed"));
                    continue;
                }
            },
        };
        let mut text = String::from_utf8(content)
            .map_err(|_| GitError::Other(format!("`{path}` is not UTF-8 text; commit its record by hand")))?;
        for r in file_recs {
            // Another run recorded another post there meanwhile: keep its record, and say
            // both ids (one of the two posts is a duplicate).
            // (An unconfirmed entry is what this run replaces: its id may be unknown.)
            let theirs_unconfirmed = matches!(ledger::unconfirmed(&text, r.kind, &r.platform), Ok(Some(_)));
            if let Ok(Some(theirs)) = ledger::get_record(&text, r.kind, &r.platform) {
                let known_id = || known_record_id(repo, known.unwrap_or(&base_tree), path, r);
                if theirs.id != r.record.id && !theirs_unconfirmed && known_id().as_deref() != Some(theirs.id.as_str())
                {
                    notes.conflicts.push(format!(
                        "`{path}`: the remote records {} post {} ({}), written meanwhile by another run, and this run published {} ({}); the remote's record is kept: delete the duplicate post and keep one record",
                        r.platform, theirs.id, theirs.url, r.record.id, r.record.url
                    ));
                    continue;
                }
            }
            text = apply_entry(&text, r.kind, &r.platform, &r.record, r.unconfirmed.as_deref()).map_err(|e| {
                GitError::Other(format!(
                    "cannot write the {} record into the committed version of `{path}`: {e}; commit it by hand",
                    r.platform
                ))
            })?;
        }
        if before.as_deref() == Some(text.as_bytes()) {
            continue;
        }
        let blob = repo.blob(text.as_bytes()).map_err(|e| other("cannot write a blob", e))?;
        update.upsert(path, blob, mode);
        writes.push(FileWrite { path: path.to_owned(), before, after: text.into_bytes() });
    }
    let mut appended: BTreeMap<&str, String> = BTreeMap::new();
    for a in appends.iter().filter(|a| !a.text.is_empty()) {
        appended.entry(&a.rel_path).or_default().push_str(&a.text);
    }
    for (path, text) in appended {
        // Appended to the parent's version (a file it lacks starts empty), never the working file's.
        let before = base_tree.get_path(Path::new(path)).ok().and_then(|e| repo.find_blob(e.id()).ok());
        let before = before.map(|b| b.content().to_vec());
        let mut after = before.clone().unwrap_or_default();
        if !after.is_empty() && !after.ends_with(b"\n") {
            after.push(b'\n');
        }
        after.extend_from_slice(text.as_bytes());
        let blob = repo.blob(&after).map_err(|e| other("cannot write a blob", e))?;
        update.upsert(path, blob, FileMode::Blob);
        writes.push(FileWrite { path: path.to_owned(), before, after });
    }
    if writes.is_empty() {
        return Ok(None);
    }
    // The message names what this commit changes (a rebuild after a race re-applies
    // records the remote already has).
    let changed = |path: &str| writes.iter().any(|w| w.path == path);
    let recs: Vec<Rec> = recs.iter().filter(|r| changed(&r.path)).cloned().collect();
    let appends: Vec<Append> = appends.iter().filter(|a| changed(&a.rel_path)).cloned().collect();
    let message = commit_message(&recs, &appends);
    let tree_id = update.create_updated(repo, &base_tree).map_err(|e| other("cannot write a tree", e))?;
    let tree = repo.find_tree(tree_id).map_err(|e| other("cannot read a tree", e))?;
    let parents: Vec<&Commit<'_>> = parent.into_iter().collect();
    let oid =
        repo.commit(None, sig, sig, &message, &tree, &parents).map_err(|e| other("cannot create the commit", e))?;
    Ok(Some((oid, writes)))
}

/// The id `path` records for `r`'s platform in `tree`, if any.
fn known_record_id(repo: &Repository, tree: &git2::Tree<'_>, path: &str, r: &Rec) -> Option<String> {
    let blob = repo.find_blob(tree.get_path(Path::new(path)).ok()?.id()).ok()?;
    let text = std::str::from_utf8(blob.content()).ok()?;
    ledger::get_record(text, r.kind, &r.platform).ok().flatten().map(|rec| rec.id)
}

fn move_branch(repo: &Repository, branch: &Branch, to: Oid, from: Option<Oid>) -> Result<(), GitError> {
    let msg = "crier: record published posts";
    let result = match from {
        Some(old) => repo.reference_matching(&branch.refname, to, true, old, msg),
        None => repo.reference(&branch.refname, to, false, msg),
    };
    result.map(drop).map_err(|e| other(&format!("cannot move branch `{}`", branch.name), e))
}

fn worktree_mode(path: &Path) -> FileMode {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0) {
            return FileMode::BlobExecutable;
        }
    }
    let _ = path;
    FileMode::Blob
}

/// After the first commit: the index entry of each committed file follows
/// HEAD unless the file has staged changes of its own; a clean working file
/// that lacks the record gets it. A working file with other edits keeps them.
fn sync_after_commit(r: &Repo, writes: &[FileWrite], notes: &mut Notes) -> Result<(), GitError> {
    let mut index = r.repo.index().map_err(|e| other("cannot read the index", e))?;
    for w in writes {
        let abs = r.workdir.join(&w.path);
        let mut working = fs::read(&abs).ok();
        if working.is_none() && w.before.is_none() {
            // A file this commit creates (the stats history): the working tree gets it too.
            if let Some(dir) = abs.parent() {
                let _ = fs::create_dir_all(dir);
            }
        }
        if working == w.before {
            // Clean file without the record (it was written elsewhere): bring it up to date.
            if ledger::write_atomic(&abs, &w.after).is_ok() {
                working = Some(w.after.clone());
            }
        }
        let entry = index.get_path(Path::new(&w.path), 0);
        let before_id = w.before.as_ref().and_then(|b| Oid::hash_object(git2::ObjectType::Blob, b).ok());
        let staged_elsewhere = match &entry {
            Some(e) => Some(e.id) != before_id,
            None => w.before.is_some(),
        };
        if working.as_deref() == Some(w.after.as_slice()) && !staged_elsewhere {
            index.add_path(Path::new(&w.path)).map_err(|e| other("cannot update the index", e))?;
        } else if staged_elsewhere {
            notes.push(format!(
                "`{}` has staged changes, so its index entry was left alone; `git diff --cached` shows them against the records commit",
                w.path
            ));
        } else if let Some(mut e) = entry {
            // Index = HEAD for this file; the user's edits stay unstaged.
            e.id = Oid::hash_object(git2::ObjectType::Blob, &w.after).map_err(|e| other("cannot hash", e))?;
            e.file_size = u32::try_from(w.after.len()).unwrap_or(u32::MAX);
            e.mtime = git2::IndexTime::new(0, 0);
            e.ctime = git2::IndexTime::new(0, 0);
            index.add(&e).map_err(|e| other("cannot update the index", e))?;
        }
    }
    index.write().map_err(|e| other("cannot write the index", e))
}

/// The records a crier commit added (compared with its first parent), and the lines it
/// appended to other files.
fn records_in_commit(repo: &Repository, commit: &Commit<'_>) -> Result<(Vec<Rec>, Vec<Append>), GitError> {
    let tree = commit.tree().map_err(|e| other("cannot read a tree", e))?;
    let parent_tree = match commit.parent(0) {
        Ok(p) => Some(p.tree().map_err(|e| other("cannot read a tree", e))?),
        Err(_) => None,
    };
    let diff = repo
        .diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), None)
        .map_err(|e| other("cannot diff a commit", e))?;
    let mut out = Vec::new();
    let mut appends = Vec::new();
    for delta in diff.deltas() {
        let Some(path) = delta.new_file().path().and_then(Path::to_str) else { continue };
        if delta.new_file().id().is_zero() {
            continue;
        }
        if !is_post_path(path) {
            let blob = |id: Oid| repo.find_blob(id).map(|b| b.content().to_vec()).unwrap_or_default();
            let old = if delta.old_file().id().is_zero() { Vec::new() } else { blob(delta.old_file().id()) };
            let new = blob(delta.new_file().id());
            if let (Some(tail), true) = (new.get(old.len()..), new.starts_with(&old))
                && let Ok(text) = String::from_utf8(tail.to_vec())
            {
                appends.push(Append { rel_path: path.to_owned(), text });
            }
            continue;
        }
        let kind = FileKind::of(Path::new(path));
        let read = |id: Oid| repo.find_blob(id).map(|b| records_of(b.content(), kind)).unwrap_or_default();
        let old = if delta.old_file().id().is_zero() { Vec::new() } else { read(delta.old_file().id()) };
        for (platform, record, unconfirmed) in read(delta.new_file().id()) {
            if !old.iter().any(|(p, rec, note)| *p == platform && *rec == record && *note == unconfirmed) {
                out.push(Rec { path: path.to_owned(), kind, platform: platform.to_owned(), record, unconfirmed });
            }
        }
    }
    Ok((out, appends))
}

fn is_crier_commit(c: &Commit<'_>) -> bool {
    c.parent_count() == 1 && c.message_bytes().starts_with(SUBJECT_PREFIX.as_bytes())
}

/// Whether the branch holds crier commits its remote-tracking branch does not
/// (a push that failed earlier).
fn has_unpushed_records(repo: &Repository, head: Oid, remote: &str, merge: &str) -> bool {
    let tracking = format!("refs/remotes/{remote}/{}", merge.trim_start_matches("refs/heads/"));
    let Ok(mut walk) = repo.revwalk() else { return false };
    if walk.push(head).is_err() {
        return false;
    }
    if let Ok(id) = repo.refname_to_id(&tracking) {
        let _ = walk.hide(id);
    }
    walk.take(1000).flatten().any(|id| repo.find_commit(id).is_ok_and(|c| is_crier_commit(&c)))
}

/// Commits exactly the given records (see the module docs) and pushes the
/// current branch. Commits left unpushed by an earlier run are pushed too.
pub fn commit_and_push(root: &Path, changes: &[RecordChange], opts: &GitOptions) -> Result<GitOutcome, GitError> {
    commit_and_push_all(root, changes, &[], opts)
}

/// Commits lines appended to files (their committed version plus the lines, never the
/// working file) and pushes, like [`commit_and_push`]: on a race the lines are appended
/// to the remote's version and pushed again. The working file follows when it was clean.
pub fn commit_and_push_appends(root: &Path, appends: &[Append], opts: &GitOptions) -> Result<GitOutcome, GitError> {
    commit_and_push_all(root, &[], appends, opts)
}

fn commit_and_push_all(
    root: &Path,
    changes: &[RecordChange],
    appends: &[Append],
    opts: &GitOptions,
) -> Result<GitOutcome, GitError> {
    let Some(r) = Repo::open(root)? else { return Ok(GitOutcome::NotARepository) };
    if !opts.commit {
        return Ok(GitOutcome::NothingToCommit);
    }
    let branch = check_head(&r.repo)?;
    let sig = signature(&r.repo, opts)?;
    let recs: Vec<Rec> = changes
        .iter()
        .map(|c| Rec {
            path: r.to_repo_path(&c.rel_path),
            kind: c.kind,
            platform: c.platform.clone(),
            record: c.record.clone(),
            unconfirmed: c.unconfirmed.clone(),
        })
        .collect();
    let appends: Vec<Append> =
        appends.iter().map(|a| Append { rel_path: r.to_repo_path(&a.rel_path), text: a.text.clone() }).collect();
    let mut notes = Notes::default();
    let head = r.head_commit()?;
    let old_head = head.as_ref().map(Commit::id);
    let fallback = |path: &str| {
        let abs = r.workdir.join(path);
        fs::read(&abs).ok().map(|c| (c, worktree_mode(&abs)))
    };
    let built = build_commit(&r.repo, head.as_ref(), None, &recs, &appends, &fallback, &sig, &mut notes)?;
    drop(head);
    let committed = built.is_some();
    if let Some((oid, writes)) = built {
        move_branch(&r.repo, &branch, oid, old_head)?;
        // The commit is made and the branch moved: an index that cannot follow (a stale
        // `.git/index.lock`) must not stop the push, but the user must put it right, or
        // their next `git commit` takes the records out again.
        if let Err(e) = sync_after_commit(&r, &writes, &mut notes) {
            let files: Vec<&str> = writes.iter().map(|w| w.path.as_str()).collect();
            notes.push(format!(
                "warning: the records are committed, but git's index could not follow ({e}): if no other git command is running, remove `.git/index.lock` and run `git reset -q -- {}`, or your next `git commit` takes the records out again",
                files.join(" ")
            ));
        }
    }
    let Some(head_id) = r.head_commit()?.map(|c| c.id()) else { return Ok(GitOutcome::NothingToCommit) };
    let commit = head_id.to_string();
    if !opts.push {
        return Ok(if committed {
            GitOutcome::Committed { commit, pushed: false, attempts: 0, notes: notes.lines, conflicts: notes.conflicts }
        } else {
            GitOutcome::NothingToCommit
        });
    }
    let (remote, merge) = match upstream(&r.repo, &branch) {
        Ok(u) => u,
        // Nothing new to push, and nowhere to push it: nothing to say.
        Err(_) if !committed => return Ok(GitOutcome::NothingToCommit),
        Err(e) => return Err(e),
    };
    if !committed {
        if !has_unpushed_records(&r.repo, head_id, &remote, &merge) {
            return Ok(GitOutcome::NothingToCommit);
        }
        notes.push("pushed records committed by an earlier run".to_owned());
    }
    let work = if committed { Work::of(&recs, &appends) } else { Work::Earlier };
    push_loop(&r, &branch, (&remote, &merge), opts, &sig, notes, work)
}

// ---------------------------------------------------------------------------
// Pushing

enum PushError {
    /// The remote refused the update (it moved, or a hook/protection said no).
    Rejected(String),
    Failed {
        message: String,
        transient: bool,
    },
}

fn push_loop(
    r: &Repo,
    branch: &Branch,
    (remote, merge): (&str, &str),
    opts: &GitOptions,
    sig: &Signature<'_>,
    mut notes: Notes,
    work: Work,
) -> Result<GitOutcome, GitError> {
    let token = opts.token.as_ref();
    let max = opts.max_push_attempts.max(1);
    let mut attempts = 0;
    let head_id = || r.repo.refname_to_id(&branch.refname).map_err(|e| other("cannot read the branch", e));
    let failed = |reason: String, head: Oid| GitError::PushFailed {
        commit: head.to_string(),
        message: format!(
            "{done} on `{branch}` as {short}, but pushing to `{remote}` failed: {reason}. \
             Keep that commit; to finish, run `git pull --rebase && git push`, or run `crier publish` again (it pushes records left by an earlier run)",
            done = work.done(),
            branch = branch.name,
            short = &head.to_string()[..10],
            reason = redact(&reason, token),
        ),
    };
    loop {
        attempts += 1;
        let head = head_id()?;
        match push_once(&r.repo, remote, &branch.refname, merge, token) {
            Ok(()) => {
                return Ok(GitOutcome::Committed {
                    commit: head.to_string(),
                    pushed: true,
                    attempts,
                    notes: notes.lines,
                    conflicts: notes.conflicts,
                });
            }
            Err(PushError::Failed { message, transient }) => {
                if !transient || attempts >= max {
                    return Err(failed(message, head));
                }
                std::thread::sleep(Duration::from_millis(500 * u64::from(attempts)));
            }
            Err(PushError::Rejected(reason)) => {
                if attempts >= max {
                    return Err(failed(format!("rejected ({reason}) after {attempts} attempt(s)"), head));
                }
                let remote_head = fetch(&r.repo, remote, merge, token)
                    .map_err(|e| failed(format!("rejected ({reason}), then fetching failed: {e}"), head))?;
                if remote_head == head || r.repo.graph_descendant_of(head, remote_head).unwrap_or(false) {
                    // Not a race: the remote has nothing we lack, it just said no.
                    return Err(failed(format!("rejected: {reason}"), head));
                }
                match reapply(r, branch, remote_head, sig, &mut notes) {
                    Ok(true) => {}
                    Ok(false) => {
                        notes.push(format!("`{remote}` already had these records; the branch now matches it"));
                        return Ok(GitOutcome::Committed {
                            commit: remote_head.to_string(),
                            pushed: true,
                            attempts,
                            notes: notes.lines,
                            conflicts: notes.conflicts,
                        });
                    }
                    Err(e) => return Err(failed(format!("rejected ({reason}), and {e}"), head)),
                }
            }
        }
    }
}

/// Credentials for talking to a remote: the SSH agent, else `token` (once) and the
/// configured credential helper over https; gives up after `max_tries` asks.
pub(crate) fn callbacks<'a>(repo: &Repository, token: Option<&'a SecretString>, max_tries: u32) -> RemoteCallbacks<'a> {
    let config = repo.config().ok();
    let mut tries = 0u32;
    let mut cbs = RemoteCallbacks::new();
    cbs.credentials(move |url, user, allowed| {
        tries += 1;
        if tries > max_tries {
            return Err(git2::Error::from_str("authentication failed"));
        }
        if allowed.contains(CredentialType::SSH_KEY) {
            return Cred::ssh_key_from_agent(user.unwrap_or("git"));
        }
        if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) {
            if let (Some(t), 1) = (token, tries) {
                return Cred::userpass_plaintext("x-access-token", t.expose_secret());
            }
            if let Some(c) = config.as_ref().and_then(|cfg| Cred::credential_helper(cfg, url, user).ok()) {
                return Ok(c);
            }
            return Err(git2::Error::from_str(if token.is_some() {
                "the token was refused (it needs write access: `permissions: contents: write` in GitHub Actions)"
            } else {
                "no credentials for https: set CRIER_GIT_TOKEN (or GITHUB_TOKEN)"
            }));
        }
        if allowed.contains(CredentialType::USERNAME) {
            return Cred::username(user.unwrap_or("git"));
        }
        Cred::default()
    });
    cbs
}

fn push_once(
    repo: &Repository,
    remote: &str,
    local_ref: &str,
    merge: &str,
    token: Option<&SecretString>,
) -> Result<(), PushError> {
    let failed = |e: git2::Error| {
        let msg = e.message().to_ascii_lowercase();
        let transient = matches!(e.class(), ErrorClass::Net | ErrorClass::Http | ErrorClass::Os)
            && ["timed out", "timeout", "connection", "resolve", "reset", "temporar", "early eof", "502", "503", "504"]
                .iter()
                .any(|w| msg.contains(w));
        let url = repo.find_remote(remote).ok().and_then(|r| r.url().ok().map(str::to_owned)).unwrap_or_default();
        PushError::Failed { message: redact(&format!("{} (remote URL `{url}`)", e.message()), token), transient }
    };
    let mut remote = repo.find_remote(remote).map_err(failed)?;
    let rejected = RefCell::new(None::<String>);
    let result = {
        let mut cbs = callbacks(repo, token, 4);
        cbs.push_update_reference(|refname, status| {
            if let Some(s) = status {
                *rejected.borrow_mut() = Some(format!("{refname}: {s}"));
            }
            Ok(())
        });
        let mut proxy = git2::ProxyOptions::new();
        proxy.auto();
        let mut po = PushOptions::new();
        po.remote_callbacks(cbs).proxy_options(proxy);
        remote.push(&[format!("{local_ref}:{merge}")], Some(&mut po))
    };
    match result {
        Err(e) if e.code() == ErrorCode::NotFastForward => Err(PushError::Rejected(redact(e.message(), token))),
        Err(e) => Err(failed(e)),
        Ok(()) => match rejected.into_inner() {
            Some(reason) => Err(PushError::Rejected(redact(&reason, token))),
            None => Ok(()),
        },
    }
}

/// Fetches the branch's remote ref into its remote-tracking ref; returns its commit.
fn fetch(repo: &Repository, remote: &str, merge: &str, token: Option<&SecretString>) -> Result<Oid, String> {
    let tracking = format!("refs/remotes/{remote}/{}", merge.trim_start_matches("refs/heads/"));
    let mut rem = repo.find_remote(remote).map_err(|e| redact(e.message(), token))?;
    let mut proxy = git2::ProxyOptions::new();
    proxy.auto();
    let mut fo = FetchOptions::new();
    fo.remote_callbacks(callbacks(repo, token, 4)).proxy_options(proxy);
    rem.fetch(&[format!("+{merge}:{tracking}")], Some(&mut fo), Some("crier: fetch before re-applying records"))
        .map_err(|e| redact(e.message(), token))?;
    repo.refname_to_id(&tracking).map_err(|e| redact(e.message(), token))
}

/// After a rejected push: rebuilds the crier commits at the top of the branch
/// as one commit on `remote_head` (each file's content there, records
/// applied again), updates the working tree like a fast-forward would (files
/// with local edits are left alone and reported) and moves the branch.
/// Returns false when `remote_head` already has every record (the branch is
/// moved to it).
fn reapply(
    r: &Repo,
    branch: &Branch,
    remote_head: Oid,
    sig: &Signature<'_>,
    notes: &mut Notes,
) -> Result<bool, String> {
    let repo = &r.repo;
    let head = repo.head().and_then(|h| h.peel_to_commit()).map_err(|e| e.message().to_owned())?;
    let mut base = head.clone();
    let mut chain = Vec::new();
    while is_crier_commit(&base) {
        let parent = base.parent(0).map_err(|e| e.message().to_owned())?;
        chain.push(base);
        base = parent;
    }
    if base.id() != remote_head && !repo.graph_descendant_of(remote_head, base.id()).unwrap_or(false) {
        return Err(format!(
            "the local branch has other commits that are not on the remote ({}), so crier did not rebase them",
            &base.id().to_string()[..10]
        ));
    }
    let (mut recs, mut appends) = (Vec::new(), Vec::new());
    for c in chain.iter().rev() {
        let (r, a) = records_in_commit(repo, c).map_err(|e| e.to_string())?;
        recs.extend(r);
        // Records are idempotent; appended lines the remote already has must not come twice.
        if c.id() != remote_head && !repo.graph_descendant_of(remote_head, c.id()).unwrap_or(false) {
            appends.extend(a);
        }
    }
    let remote_commit = repo.find_commit(remote_head).map_err(|e| e.message().to_owned())?;
    // What the run knew: the last commit both sides share (records there are the run's own
    // to replace; a record only the remote has came from another run).
    let known = repo.merge_base(head.id(), remote_head).and_then(|id| repo.find_commit(id)).and_then(|c| c.tree()).ok();
    let head_tree = head.tree().map_err(|e| e.message().to_owned())?;
    let base_tree = base.tree().map_err(|e| e.message().to_owned())?;
    let fallback = |path: &str| {
        if base_tree.get_path(Path::new(path)).is_ok() {
            return None; // deleted on the remote since: do not bring it back
        }
        let entry = head_tree.get_path(Path::new(path)).ok()?;
        let mode = if entry.filemode() == i32::from(FileMode::BlobExecutable) {
            FileMode::BlobExecutable
        } else {
            FileMode::Blob
        };
        Some((repo.find_blob(entry.id()).ok()?.content().to_vec(), mode))
    };
    let built = build_commit(
        repo,
        Some(&remote_commit),
        Some(known.as_ref().unwrap_or(&base_tree)),
        &recs,
        &appends,
        &fallback,
        sig,
        notes,
    )
    .map_err(|e| e.to_string())?;
    let new_head = built.as_ref().map_or(remote_head, |(oid, _)| *oid);
    let target = repo.find_commit(new_head).and_then(|c| c.tree()).map_err(|e| e.message().to_owned())?;

    // Like a fast-forward from HEAD: files whose working copy matches HEAD
    // are updated; files with local edits are left alone and reported.
    let conflicts = RefCell::new(Vec::<String>::new());
    {
        let mut co = CheckoutBuilder::new();
        co.safe().allow_conflicts(true).notify_on(CheckoutNotificationType::CONFLICT).notify(|_, path, _, _, _| {
            if let Some(p) = path {
                conflicts.borrow_mut().push(p.to_string_lossy().replace('\\', "/"));
            }
            true
        });
        repo.checkout_tree(target.as_object(), Some(&mut co)).map_err(|e| e.message().to_owned())?;
    }
    let conflicts = conflicts.into_inner();
    if !conflicts.is_empty() {
        let mut index = repo.index().map_err(|e| e.message().to_owned())?;
        let _ = index.read(false);
        for path in &conflicts {
            let p = Path::new(path);
            let (Some(mut entry), Ok(old), Ok(new)) = (index.get_path(p, 0), head_tree.get_path(p), target.get_path(p))
            else {
                continue;
            };
            if entry.id == old.id() {
                entry.id = new.id();
                entry.mtime = git2::IndexTime::new(0, 0);
                entry.ctime = git2::IndexTime::new(0, 0);
                let _ = index.add(&entry);
            }
        }
        index.write().map_err(|e| e.message().to_owned())?;
        for path in conflicts {
            notes.push(format!(
                "`{path}` has uncommitted edits, so it was not updated with the changes fetched from the remote; `git diff HEAD -- {path}` shows how your copy differs from the pushed version"
            ));
        }
    }
    move_branch(repo, branch, new_head, Some(head.id())).map_err(|e| e.to_string())?;
    Ok(built.is_some())
}

/// Removes `token` and any `user:password@` in URLs from a message.
fn redact(message: &str, token: Option<&SecretString>) -> String {
    let mut out = message.to_owned();
    if let Some(t) = token.map(|t| t.expose_secret()).filter(|t| !t.is_empty()) {
        out = out.replace(t, "***");
    }
    redact_url(&out)
}

/// `https://user:secret@host/x` → `https://***@host/x`.
pub(crate) fn redact_url(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail.find(|c: char| c == '/' || c.is_whitespace() || c == '\'' || c == '"').unwrap_or(tail.len());
        match tail[..end].rfind('@') {
            Some(at) => {
                out.push_str("***@");
                rest = &tail[at + 1..];
            }
            None => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    const POST: &str = "---\ntitle: Hello\nplatforms: [threads]\n---\n\nFirst paragraph.\n\nLast paragraph.\n";
    const OTHER: &str = "---\ntitle: Other\n---\n\nOther body.\n";

    /// Runs the git CLI (with a setup identity, so it works anywhere).
    fn git(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .current_dir(dir)
            .args(["-c", "user.name=Setup", "-c", "user.email=setup@example.com", "-c", "commit.gpgsign=false"])
            .args(args)
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    fn record(n: u32) -> Record {
        Record {
            relays: Vec::new(),
            d: None,
            id: format!("1789000000000000{n}"),
            url: format!("https://www.threads.com/@someone/post/P{n}"),
            cid: None,
            published_at: "2026-11-28T10:00:00Z".into(),
            hash: format!("sha256:{n}"),
            parts: vec![],
            deleted_at: None,
        }
    }

    fn change(path: &str, n: u32) -> RecordChange {
        RecordChange {
            rel_path: path.into(),
            kind: FileKind::of(Path::new(path)),
            platform: "threads".into(),
            record: record(n),
            unconfirmed: None,
        }
    }

    /// What `publish` does: write the record into the working file.
    fn write_back(work: &Path, c: &RecordChange) {
        let path = work.join(&c.rel_path);
        let text = fs::read_to_string(&path).unwrap();
        fs::write(&path, c.apply(&text).unwrap()).unwrap();
    }

    struct Fixture {
        dir: tempfile::TempDir,
        work: PathBuf,
        origin: PathBuf,
    }

    impl Fixture {
        /// A bare `origin` and a clone `work` of it on `main`, with two posts.
        fn new(identity: bool) -> Self {
            let dir = tempfile::tempdir().unwrap();
            let origin = dir.path().join("origin.git");
            let seed = dir.path().join("seed");
            git(dir.path(), &["init", "-q", "--bare", "-b", "main", origin.to_str().unwrap()]);
            git(dir.path(), &["init", "-q", "-b", "main", seed.to_str().unwrap()]);
            fs::create_dir_all(seed.join("content")).unwrap();
            fs::write(seed.join("content/post.md"), POST).unwrap();
            fs::write(seed.join("content/other.md"), OTHER).unwrap();
            fs::write(seed.join("README.md"), "readme\n").unwrap();
            git(&seed, &["add", "-A"]);
            git(&seed, &["commit", "-q", "-m", "initial"]);
            git(&seed, &["push", "-q", origin.to_str().unwrap(), "main"]);
            let work = dir.path().join("work");
            git(dir.path(), &["clone", "-q", origin.to_str().unwrap(), work.to_str().unwrap()]);
            if identity {
                git(&work, &["config", "user.name", "Tester"]);
                git(&work, &["config", "user.email", "tester@example.com"]);
            }
            Self { dir, work, origin }
        }

        fn origin_head(&self) -> Oid {
            Repository::open_bare(&self.origin).unwrap().refname_to_id("refs/heads/main").unwrap()
        }

        fn show(&self, repo: &Path, spec: &str) -> String {
            git(repo, &["show", spec])
        }

        /// Another clone pushes a commit touching `content/post.md`'s body and `content/other.md`.
        fn someone_else_pushes(&self) {
            let other = self.dir.path().join("someone");
            git(self.dir.path(), &["clone", "-q", self.origin.to_str().unwrap(), other.to_str().unwrap()]);
            fs::write(other.join("content/post.md"), format!("{POST}\nA line added by someone else.\n")).unwrap();
            fs::write(other.join("content/other.md"), format!("{OTHER}More.\n")).unwrap();
            git(&other, &["commit", "-q", "-am", "someone else's edit"]);
            git(&other, &["push", "-q", "origin", "main"]);
        }

        /// Another clone pushes a line added to `content/post.md`'s body (its record kept).
        fn someone_else_pushes_after_the_record(&self) {
            let other = self.dir.path().join("someone-later");
            git(self.dir.path(), &["clone", "-q", self.origin.to_str().unwrap(), other.to_str().unwrap()]);
            let text = fs::read_to_string(other.join("content/post.md")).unwrap();
            fs::write(other.join("content/post.md"), format!("{text}\nAnother line.\n")).unwrap();
            git(&other, &["commit", "-q", "-am", "someone else's edit"]);
            git(&other, &["push", "-q", "origin", "main"]);
        }
    }

    fn opts() -> GitOptions {
        GitOptions::default()
    }

    fn status(dir: &Path) -> String {
        git(dir, &["status", "--porcelain"])
    }

    #[test]
    fn commits_exactly_the_records_and_pushes() {
        let f = Fixture::new(true);
        let before = git(&f.work, &["rev-parse", "HEAD"]);
        let c = change("content/post.md", 1);
        write_back(&f.work, &c);
        fs::write(f.work.join("README.md"), "dirty readme\n").unwrap();
        fs::write(f.work.join("notes.txt"), "untracked\n").unwrap();
        let token = GitOptions { token: Some(SecretString::from("ghs_secret_token_value")), ..opts() };

        let out = commit_and_push(&f.work, std::slice::from_ref(&c), &token).unwrap();
        let GitOutcome::Committed { commit, pushed: true, attempts: 1, notes, .. } = out else { panic!("{out:?}") };
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(f.origin_head().to_string(), commit);
        assert_eq!(git(&f.work, &["rev-parse", "HEAD~1"]), before);
        assert_eq!(git(&f.work, &["diff", "--name-only", "HEAD~1", "HEAD"]), "content/post.md\n");
        let message = git(&f.work, &["log", "-1", "--format=%B"]);
        assert_eq!(message, "crier: record published posts [skip ci]\n\n");
        assert_eq!(
            git(&f.work, &["log", "-1", "--format=%an <%ae>|%cn <%ce>"]),
            "Tester <tester@example.com>|Tester <tester@example.com>\n"
        );
        let committed = f.show(&f.work, "HEAD:content/post.md");
        assert_eq!(committed, ledger::set_record(POST, FileKind::Markdown, "threads", &record(1)).unwrap());
        // The dirty and untracked files stay as they were; the post is clean.
        assert_eq!(status(&f.work), " M README.md\n?? notes.txt\n");
        // The token went nowhere.
        let config = fs::read_to_string(f.work.join(".git/config")).unwrap();
        assert!(!config.contains("ghs_secret"));
        // Running again: nothing to do.
        assert_eq!(commit_and_push(&f.work, &[c], &opts()).unwrap(), GitOutcome::NothingToCommit);
    }

    #[test]
    fn unrelated_edit_in_the_post_file_stays_uncommitted() {
        let f = Fixture::new(true);
        let edited = POST.replace("Last paragraph.", "Last paragraph, edited.");
        fs::write(f.work.join("content/post.md"), &edited).unwrap();
        let c = change("content/post.md", 2);
        write_back(&f.work, &c);
        let working = fs::read_to_string(f.work.join("content/post.md")).unwrap();

        let out = commit_and_push(&f.work, &[c], &GitOptions { push: false, ..opts() }).unwrap();
        assert!(matches!(out, GitOutcome::Committed { pushed: false, attempts: 0, .. }), "{out:?}");
        let committed = f.show(&f.work, "HEAD:content/post.md");
        assert_eq!(committed, ledger::set_record(POST, FileKind::Markdown, "threads", &record(2)).unwrap());
        assert!(!committed.contains("edited"));
        assert_eq!(fs::read_to_string(f.work.join("content/post.md")).unwrap(), working);
        // Only the edit is left: unstaged, and the diff has no record in it.
        assert_eq!(status(&f.work), " M content/post.md\n");
        let diff = git(&f.work, &["diff"]);
        let changed: Vec<&str> = diff
            .lines()
            .filter(|l| l.starts_with(['+', '-']) && !l.starts_with("+++") && !l.starts_with("---"))
            .collect();
        assert_eq!(changed, ["-Last paragraph.", "+Last paragraph, edited."], "{diff}");
        assert_eq!(git(&f.work, &["diff", "--cached"]), "");
    }

    #[test]
    fn pending_records_of_an_interrupted_run_are_found_and_committed() {
        let f = Fixture::new(true);
        let a = change("content/post.md", 3);
        write_back(&f.work, &a);
        // An untracked post published from its working content.
        let new = "title: New\nplatforms: [threads]\ntext: hi\n";
        fs::write(f.work.join("content/new.yaml"), new).unwrap();
        let b = change("content/new.yaml", 4);
        write_back(&f.work, &b);
        // A modified post without any record is not pending.
        fs::write(f.work.join("content/other.md"), format!("{OTHER}edit\n")).unwrap();

        let pending = pending_records(&f.work).unwrap();
        assert_eq!(pending, vec![b.clone(), a.clone()]);

        let out = commit_and_push(&f.work, &pending, &opts()).unwrap();
        assert!(matches!(out, GitOutcome::Committed { pushed: true, .. }), "{out:?}");
        assert_eq!(git(&f.work, &["diff", "--name-only", "HEAD~1", "HEAD"]), "content/new.yaml\ncontent/post.md\n");
        assert_eq!(
            f.show(&f.work, "HEAD:content/new.yaml"),
            ledger::set_record(new, FileKind::Yaml, "threads", &record(4)).unwrap()
        );
        assert_eq!(pending_records(&f.work).unwrap(), vec![]);
        assert_eq!(status(&f.work), " M content/other.md\n");
    }

    #[test]
    fn records_of_every_platform_are_pending_and_a_deletion_says_so() {
        let f = Fixture::new(true);
        let mut changes = Vec::new();
        for name in crate::platform_id::NAMES {
            let c = RecordChange { platform: (*name).to_owned(), ..change("content/post.md", 5) };
            write_back(&f.work, &c);
            changes.push(c);
        }
        // An interrupted run's records of every platform are found, not only Threads'.
        let mut pending: Vec<String> = pending_records(&f.work).unwrap().into_iter().map(|c| c.platform).collect();
        pending.sort();
        let mut names: Vec<String> = crate::platform_id::NAMES.iter().map(|n| (*n).to_owned()).collect();
        names.sort();
        assert_eq!(pending, names);
        commit_and_push(&f.work, &changes, &opts()).unwrap();

        // `crier delete` marks the Mastodon record deleted: its own subject.
        let mut deleted = changes.pop().unwrap();
        deleted.record.deleted_at = Some("2026-12-02T12:00:00Z".into());
        write_back(&f.work, &deleted);
        assert_eq!(pending_records(&f.work).unwrap(), vec![deleted.clone()]);
        let out = commit_and_push(&f.work, std::slice::from_ref(&deleted), &opts()).unwrap();
        assert!(matches!(out, GitOutcome::Committed { pushed: true, .. }), "{out:?}");
        let message = git(&f.work, &["log", "-1", "--format=%B"]);
        assert_eq!(message, "crier: record deleted posts [skip ci]\n\n");
        assert_eq!(f.origin_head().to_string(), git(&f.work, &["rev-parse", "HEAD"]).trim());
    }

    #[test]
    fn remote_moving_before_the_push_is_handled() {
        let f = Fixture::new(true);
        let c = change("content/post.md", 5);
        write_back(&f.work, &c);
        fs::write(f.work.join("README.md"), "dirty readme\n").unwrap();
        f.someone_else_pushes();

        let out = commit_and_push(&f.work, &[c], &opts()).unwrap();
        let GitOutcome::Committed { commit, pushed: true, attempts: 2, notes, .. } = out else { panic!("{out:?}") };
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(f.origin_head().to_string(), commit);
        let origin = f.origin.as_path();
        assert_eq!(
            git(origin, &["log", "--format=%s", "main"]),
            "crier: record published posts [skip ci]\nsomeone else's edit\ninitial\n"
        );
        let post = f.show(origin, "main:content/post.md");
        assert!(post.contains("A line added by someone else."), "{post}");
        assert_eq!(ledger::get_record(&post, FileKind::Markdown, "threads").unwrap(), Some(record(5)));
        assert_eq!(git(origin, &["diff", "--name-only", "main~1", "main"]), "content/post.md\n");
        // The local branch and working tree follow, the dirty file is untouched.
        assert_eq!(git(&f.work, &["rev-parse", "HEAD"]).trim(), commit);
        assert_eq!(fs::read_to_string(f.work.join("content/post.md")).unwrap(), post);
        assert!(fs::read_to_string(f.work.join("content/other.md")).unwrap().ends_with("More.\n"));
        assert_eq!(status(&f.work), " M README.md\n");
    }

    #[test]
    fn a_record_another_run_pushed_meanwhile_is_kept_and_both_ids_are_reported() {
        let f = Fixture::new(true);
        // Another run published the same post and pushed its record first.
        let other = f.dir.path().join("other-run");
        git(f.dir.path(), &["clone", "-q", f.origin.to_str().unwrap(), other.to_str().unwrap()]);
        write_back(&other, &change("content/post.md", 7));
        git(&other, &["commit", "-q", "-am", "crier: record published posts [skip ci]"]);
        git(&other, &["push", "-q", "origin", "main"]);
        // This run's record for the same file and platform, another id.
        let ours = change("content/post.md", 5);
        write_back(&f.work, &ours);

        let out = commit_and_push(&f.work, &[ours], &opts()).unwrap();
        let GitOutcome::Committed { conflicts, .. } = out else { panic!("{out:?}") };
        assert_eq!(conflicts.len(), 1, "{conflicts:?}");
        assert!(conflicts[0].contains(&record(7).id) && conflicts[0].contains(&record(5).id), "{conflicts:?}");
        let post = f.show(&f.origin, "main:content/post.md");
        assert_eq!(
            ledger::get_record(&post, FileKind::Markdown, "threads").unwrap(),
            Some(record(7)),
            "the record already on the remote is not replaced"
        );
    }

    #[test]
    fn a_record_that_replaces_the_committed_one_is_committed() {
        // An edit in place that changed the id (a Nostr article), or an entry the user took
        // out to publish again: HEAD records post 1, this run wrote post 2 over it. With the
        // remote untouched, and with someone else's push meanwhile (then rebuilt on it).
        for remote_moved in [false, true] {
            let f = Fixture::new(true);
            write_back(&f.work, &change("content/post.md", 1));
            git(&f.work, &["commit", "-q", "-am", "crier: record published posts [skip ci]"]);
            git(&f.work, &["push", "-q", "origin", "main"]);
            fs::write(f.work.join("content/post.md"), POST).unwrap();
            let ours = change("content/post.md", 2);
            write_back(&f.work, &ours);
            if remote_moved {
                f.someone_else_pushes_after_the_record();
            }

            let out = commit_and_push(&f.work, &[ours], &opts()).unwrap();
            let GitOutcome::Committed { pushed: true, conflicts, .. } = out else { panic!("{out:?}") };
            assert!(conflicts.is_empty(), "{conflicts:?}");
            let post = f.show(&f.origin, "main:content/post.md");
            assert_eq!(ledger::get_record(&post, FileKind::Markdown, "threads").unwrap(), Some(record(2)), "{post}");
            assert_eq!(post.contains("Another line."), remote_moved, "{post}");
            assert_eq!(status(&f.work), "", "remote moved: {remote_moved}");
        }
    }

    /// A stale `.git/index.lock`: the records are committed and pushed all the same, and the
    /// run says how to bring the index back in line (else the next commit takes them out).
    #[test]
    fn a_locked_index_does_not_stop_the_push_and_says_what_to_do() {
        let f = Fixture::new(true);
        let c = change("content/post.md", 3);
        write_back(&f.work, &c);
        fs::write(f.work.join(".git/index.lock"), "").unwrap();
        let out = commit_and_push(&f.work, &[c], &opts()).unwrap();
        let GitOutcome::Committed { commit, pushed: true, notes, .. } = out else { panic!("{out:?}") };
        assert_eq!(f.origin_head().to_string(), commit);
        assert!(
            notes.iter().any(|n| n.contains("remove `.git/index.lock` and run `git reset -q -- content/post.md`")),
            "{notes:?}"
        );
        fs::remove_file(f.work.join(".git/index.lock")).unwrap();
        git(&f.work, &["reset", "-q", "--", "content/post.md"]);
        assert_eq!(status(&f.work), "", "the advice puts the index right");
    }

    #[test]
    fn rejected_push_with_no_attempts_left_fails_with_recovery() {
        let f = Fixture::new(true);
        let c = change("content/post.md", 6);
        write_back(&f.work, &c);
        f.someone_else_pushes();
        let err = commit_and_push(&f.work, &[c], &GitOptions { max_push_attempts: 1, ..opts() }).unwrap_err();
        let GitError::PushFailed { commit, message } = &err else { panic!("{err:?}") };
        assert!(message.contains("rejected"), "{message}");
        assert!(message.contains("git pull --rebase && git push"), "{message}");
        assert_eq!(git(&f.work, &["rev-parse", "HEAD"]).trim(), commit);
        // Rerunning with nothing new pushes the records left behind.
        let out = commit_and_push(&f.work, &[], &opts()).unwrap();
        let GitOutcome::Committed { commit, pushed: true, notes, .. } = out else { panic!("{out:?}") };
        assert_eq!(f.origin_head().to_string(), commit);
        assert!(notes.iter().any(|n| n.contains("earlier run")), "{notes:?}");
        let post = f.show(&f.origin, "main:content/post.md");
        assert!(post.contains("someone else") && post.contains("P6"), "{post}");
    }

    #[test]
    fn push_that_keeps_failing_keeps_the_commit() {
        let f = Fixture::new(true);
        let missing = f.dir.path().join("gone.git");
        git(&f.work, &["remote", "set-url", "origin", missing.to_str().unwrap()]);
        let c = change("content/post.md", 7);
        write_back(&f.work, &c);
        let err = commit_and_push(&f.work, &[c], &opts()).unwrap_err();
        let GitError::PushFailed { commit, message } = &err else { panic!("{err:?}") };
        assert!(message.contains("the posts are published"), "{message}");
        assert!(message.contains("`git pull --rebase && git push`"), "{message}");
        assert!(message.contains("`crier publish` again"), "{message}");
        assert_eq!(git(&f.work, &["rev-parse", "HEAD"]).trim(), commit);
        assert!(f.show(&f.work, "HEAD:content/post.md").contains("P7"));
        assert_eq!(status(&f.work), "");
    }

    #[test]
    fn a_failed_push_says_what_the_command_did() {
        let mut deleted = change("content/post.md", 3);
        deleted.record.deleted_at = Some("2026-12-01T10:00:00Z".into());
        let history = Append { rel_path: ".crier/stats.jsonl".into(), text: "{\"likes\":1}\n".into() };
        type Run = fn(&Path, &RecordChange, &Append) -> Result<GitOutcome, GitError>;
        let cases: [(&str, Run, &str, &str); 2] = [
            (
                "delete",
                |w, c, _| {
                    write_back(w, c);
                    commit_and_push(w, std::slice::from_ref(c), &opts())
                },
                "the posts are deleted",
                "the posts are published",
            ),
            (
                "stats --record",
                |w, _, a| commit_and_push_appends(w, std::slice::from_ref(a), &opts()),
                "the engagement numbers are recorded",
                "posts",
            ),
        ];
        for (command, run, says, never) in cases {
            let f = Fixture::new(true);
            let missing = f.dir.path().join("gone.git");
            git(&f.work, &["remote", "set-url", "origin", missing.to_str().unwrap()]);
            let err = run(&f.work, &deleted, &history).unwrap_err();
            let GitError::PushFailed { message, .. } = &err else { panic!("{command}: {err:?}") };
            assert!(message.starts_with(says), "{command}: {message}");
            assert!(!message.contains(never), "{command}: {message}");
            assert!(message.contains("`git pull --rebase && git push`"), "{command}: {message}");
        }
    }

    #[test]
    fn detached_head_and_shallow_clone_are_refused() {
        let f = Fixture::new(true);
        let info = preflight(&f.work).unwrap();
        assert_eq!(
            info,
            RepoInfo::Repository { workdir: f.work.join(""), branch: "main".into(), remote: Some("origin".into()) }
        );
        git(&f.work, &["checkout", "-q", "--detach"]);
        let err = preflight(&f.work).unwrap_err();
        assert!(matches!(err, GitError::DetachedHead), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains("ref: ${{ github.head_ref || github.ref_name }}") && text.contains("git switch"),
            "{text}"
        );
        let c = change("content/post.md", 8);
        assert!(matches!(commit_and_push(&f.work, &[c], &opts()), Err(GitError::DetachedHead)));

        let shallow = f.dir.path().join("shallow");
        let url = format!("file://{}", f.origin.display());
        git(f.dir.path(), &["clone", "-q", "--depth", "1", &url, shallow.to_str().unwrap()]);
        let err = preflight(&shallow).unwrap_err();
        assert!(matches!(err, GitError::Shallow), "{err:?}");
        assert!(err.to_string().contains("fetch-depth: 0") && err.to_string().contains("git fetch --unshallow"));
    }

    #[test]
    fn no_remote_at_all_is_no_upstream() {
        let f = Fixture::new(true);
        git(&f.work, &["remote", "remove", "origin"]);
        let c = change("content/post.md", 9);
        write_back(&f.work, &c);
        let err = commit_and_push(&f.work, std::slice::from_ref(&c), &opts()).unwrap_err();
        assert!(matches!(err, GitError::NoUpstream { .. }), "{err:?}");
        assert!(err.to_string().contains("git remote add origin"));
        // A later run with nothing new to commit has nothing to push either: no error.
        assert_eq!(commit_and_push(&f.work, &[c], &opts()).unwrap(), GitOutcome::NothingToCommit);
    }

    #[test]
    fn lock_is_exclusive_and_stale_locks_are_taken_over() {
        let f = Fixture::new(true);
        let held = lock(&f.work).unwrap().expect("a repository");
        let path = held.path().to_path_buf();
        assert_eq!(path, f.work.join(".git").join(LOCK_FILE));
        let err = lock(&f.work).unwrap_err();
        assert!(matches!(err, GitError::Locked { .. }), "{err:?}");
        if cfg!(unix) {
            // Windows keeps a locked file from being read by another handle.
            assert!(err.to_string().contains(&format!("pid {}", std::process::id())), "{err}");
        }
        drop(held);
        let again = lock(&f.work).unwrap().expect("free once released");
        drop(again);

        // A lock file left by a process that is gone, here or on another host: no one
        // holds it any more, so it is taken over.
        for holder in
            [format!("pid: 999999999\nhost: {}\nstarted: x\n", hostname()), "pid: 1\nhost: elsewhere\n".into()]
        {
            fs::write(&path, holder).unwrap();
            let taken = lock(&f.work).unwrap().expect("taken over");
            assert!(fs::read_to_string(&path).unwrap().contains(&format!("pid: {}", std::process::id())));
            drop(taken);
        }
    }

    #[test]
    fn outside_a_repository_nothing_happens() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("content")).unwrap();
        fs::write(dir.path().join("content/post.md"), POST).unwrap();
        assert!(lock(dir.path()).unwrap().is_none());
        assert_eq!(preflight(dir.path()).unwrap(), RepoInfo::NotARepository);
        assert_eq!(pending_records(dir.path()).unwrap(), vec![]);
        let out = commit_and_push(dir.path(), &[change("content/post.md", 1)], &opts()).unwrap();
        assert_eq!(out, GitOutcome::NotARepository);
    }

    /// Runs in a child process with an empty HOME, so no global identity exists.
    #[test]
    fn default_author_without_any_identity() {
        let f = Fixture::new(false);
        let home = f.dir.path().join("home");
        fs::create_dir(&home).unwrap();
        let status = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "git::tests::child_commits_without_identity", "--ignored", "--quiet"])
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", &home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("CRIER_TEST_WORK", &f.work)
            .status()
            .unwrap();
        assert!(status.success());
        let who = git(&f.work, &["log", "-1", "--format=%an <%ae>|%cn <%ce>|%s"]);
        assert_eq!(
            who,
            "crier <crier@users.noreply.github.com>|crier <crier@users.noreply.github.com>|crier: record published posts [skip ci]\n"
        );
    }

    #[test]
    #[ignore = "run by default_author_without_any_identity in a child process"]
    fn child_commits_without_identity() {
        let Some(work) = std::env::var_os("CRIER_TEST_WORK") else { return };
        let work = PathBuf::from(work);
        assert!(Repository::open(&work).unwrap().signature().is_err(), "an identity leaked in");
        let c = change("content/post.md", 10);
        write_back(&work, &c);
        let out = commit_and_push(&work, &[c], &GitOptions { push: false, ..opts() }).unwrap();
        assert!(matches!(out, GitOutcome::Committed { .. }), "{out:?}");
    }

    #[test]
    fn redact_hides_tokens_and_url_credentials() {
        let token = SecretString::from("tok123");
        let msg = "failed https://x-access-token:tok123@github.com/o/r.git and tok123 and ssh://git@host/x";
        let out = redact(msg, Some(&token));
        assert_eq!(out, "failed https://***@github.com/o/r.git and *** and ssh://***@host/x");
    }
}
