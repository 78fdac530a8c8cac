//! One module per subcommand; each exposes `execute`.

pub mod adopt;
pub mod auth;
pub mod check;
pub mod delete;
pub mod doctor;
pub mod import;
pub mod init;
pub mod new;
pub mod publish;
pub mod render;
pub mod schema;
pub mod stats;
pub mod status;
pub mod watch;

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::cli::{Cli, ColorChoice, Command, GlobalArgs};
use crate::diag::Style;
use crate::env::Env;
use crate::error::{Error, Result};

/// How a command ended, when it ran to completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// Content errors, or a post that failed to publish (exit code 1).
    Failure,
    /// Stopped by a signal after finishing what was in flight (exit code 128 + signal).
    Cancelled(u8),
}

/// Global options every command sees.
pub struct Global {
    pub root: PathBuf,
    pub config: Option<PathBuf>,
    pub quiet: bool,
    pub verbose: u8,
    pub style: Style,
    pub env: Env,
    /// The flags it was made from (`crier auth PLATFORM` adds those given after the name).
    pub args: GlobalArgs,
}

impl Global {
    pub fn new(args: &GlobalArgs) -> Result<Global> {
        let root = match &args.dir {
            Some(d) => {
                if !d.is_dir() {
                    return Err(Error::usage(format!("`-C {}`: no such directory", d.display())));
                }
                d.clone()
            }
            None => std::env::current_dir().map_err(|e| Error::io("cannot read the current directory", e))?,
        };
        let root = root.canonicalize().map_err(|e| Error::io(format!("cannot open `{}`", root.display()), e))?;
        let env = Env::load(&root)?;
        let color = match args.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => env.get("NO_COLOR").is_none() && std::io::stdout().is_terminal(),
        };
        Ok(Global {
            root,
            config: args.config.clone(),
            quiet: args.quiet,
            verbose: args.verbose,
            style: Style { color, unicode: color },
            env,
            args: args.clone(),
        })
    }
}

pub fn run(cli: Cli) -> Result<Outcome> {
    let g = Global::new(&cli.global)?;
    match cli.command {
        Command::Check(args) => check::execute(&g, &args),
        Command::Adopt(args) => adopt::execute(&g, &args),
        Command::Import(args) => import::execute(&g, &args),
        Command::Delete(args) => delete::execute(&g, &args),
        Command::Stats(args) => stats::execute(&g, &args),
        Command::Render(args) => render::execute(&g, &args),
        Command::Publish(args) => publish::execute(&g, &args),
        Command::Status(args) => status::execute(&g, &args),
        Command::New(args) => new::execute(&g, &args),
        Command::Init(args) => init::execute(&g, &args),
        Command::Auth(args) => auth::execute(&g, &args),
        Command::Doctor(args) => doctor::execute(&g, &args),
        Command::Watch(args) => watch::execute(&g, &args),
        Command::Schema(args) => schema::execute(&g, &args),
    }
}

/// What a command that writes records holds while it runs (`publish`, `adopt`, `delete`).
pub(crate) struct Recording {
    /// One writer per checkout (released on drop).
    _lock: Option<crate::git::PublishLock>,
    /// What `git::preflight` found (`NotARepository` with `--no-commit`).
    pub(crate) repo: crate::git::RepoInfo,
    /// Records an interrupted earlier run wrote but did not commit.
    pub(crate) pending: Vec<crate::git::RecordChange>,
}

impl Recording {
    /// Takes the lock, refuses checkouts that cannot commit (a detached HEAD, a shallow
    /// clone: exit 2, before anything changes), and finds records left uncommitted. A
    /// branch without a remote is let through: its records are committed, and the push
    /// then says what to do.
    pub(crate) fn begin(root: &std::path::Path, no_commit: bool) -> Result<Self> {
        use crate::git::{self, RepoInfo};
        let env = |e: crate::git::GitError| Error::Env { message: e.to_string() };
        let lock = git::lock(root).map_err(env)?;
        let repo = if no_commit { RepoInfo::NotARepository } else { git::preflight(root).map_err(env)? };
        let pending = match &repo {
            RepoInfo::Repository { .. } => git::pending_records(root).map_err(env)?,
            RepoInfo::NotARepository => Vec::new(),
        };
        Ok(Self { _lock: lock, repo, pending })
    }
}

/// The single-threaded runtime the network commands run on.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the network runtime", e))
}

/// Commits records written back into post files (`publish`, `adopt`), the one way both do it.
pub(crate) struct RecordCommit<'a> {
    /// What `git::preflight` found (`NotARepository` with `--no-commit`).
    pub(crate) repo: &'a crate::git::RepoInfo,
    /// `--no-commit` and `--no-push`.
    pub(crate) flags: &'a crate::cli::CommitArgs,
}

impl RecordCommit<'_> {
    /// Commits `changes` (this run's records and any an interrupted run left) and pushes
    /// them. Returns the lines to show under "git" and the failures. `wrote` says whether
    /// this run wrote records (else there is nothing to warn about).
    pub(crate) fn run(
        &self,
        g: &Global,
        project: &crate::project::Project,
        changes: &[crate::git::RecordChange],
        wrote: bool,
    ) -> (Vec<String>, Vec<String>) {
        use crate::git::{self, GitOptions, GitOutcome, RepoInfo};
        let (mut lines, mut failed) = (Vec::new(), Vec::new());
        if self.flags.no_commit {
            if wrote {
                lines.push("records written to the files; not committed (--no-commit)".to_owned());
            }
        } else if *self.repo == RepoInfo::NotARepository {
            if wrote {
                lines.push(
                    "warning: not a git repository: the records were written to the files, but nothing was committed"
                        .to_owned(),
                );
            }
        } else {
            let opts = GitOptions {
                commit: true,
                push: !self.flags.no_push,
                max_push_attempts: 5,
                token: GitOptions::token_from(&g.env),
                author: project.config.git.author_name.clone().zip(project.config.git.author_email.clone()),
            };
            match git::commit_and_push(&project.root, changes, &opts) {
                Ok(GitOutcome::Committed { commit, pushed, notes, conflicts, .. }) => {
                    let short = &commit[..commit.len().min(8)];
                    lines.push(if pushed {
                        format!("committed the records as {short} and pushed them")
                    } else if self.flags.no_push {
                        format!("committed the records as {short}; not pushed (--no-push)")
                    } else {
                        format!("committed the records as {short}")
                    });
                    lines.extend(notes);
                    failed.extend(conflicts.into_iter().map(|c| format!("git: conflict: {c}")));
                }
                Ok(GitOutcome::NothingToCommit | GitOutcome::NotARepository) => {}
                Err(e) => failed.push(format!("git: {e}")),
            }
        }
        (lines, failed)
    }
}

/// The platforms named by `--platform` (exit 2 for an unknown name).
pub(crate) fn parse_platforms(names: &[String]) -> Result<Vec<crate::platforms::PlatformId>> {
    use crate::platforms::PlatformId;
    names
        .iter()
        .map(|name| {
            PlatformId::parse(name)
                .ok_or_else(|| Error::usage(format!("unknown platform `{name}`: {}", PlatformId::hint_for(name))))
        })
        .collect()
}

/// Exit 2 when a platform of `ids` lacks a required credential: crier cannot `verb` it.
pub(crate) fn require_credentials(g: &Global, ids: &[crate::platforms::PlatformId], verb: &str) -> Result<()> {
    use crate::publish::run::{env_problems, one_env_error};
    let problems = env_problems(&g.env, ids.iter().copied());
    let missing = problems.iter().flat_map(|p| {
        let platform = crate::platforms::get(p.platform);
        let why = format!("crier cannot {verb} {} ({})", platform.display_name(), platform.setup_hint());
        p.missing.iter().map(move |var| format!("{var} is not set: {why}"))
    });
    let fix = [("it", "the platform"), ("them", "those platforms")];
    one_env_error(
        missing.collect(),
        &problems,
        fix.map(|(it, p)| format!("set {it}, or leave {p} out with --platform")),
    )
}

/// One line of the post / platform / result table of `adopt` and `delete`.
pub(crate) struct Row {
    pub post: String,
    pub platform: String,
    pub result: String,
}

impl Row {
    /// The row of a post file that cannot be read (`message` says why).
    pub(crate) fn unreadable(project: &crate::project::Project, abs: &std::path::Path, message: &str) -> Self {
        Self {
            post: crate::content::relative_display(&project.root, abs),
            platform: "-".to_owned(),
            result: format!("failed: cannot read it: {message} (see `crier check`)"),
        }
    }
}

/// What `adopt` and `delete` start from: the project, the run's time (RFC 3339), the
/// platforms asked for with `--platform` and the selected post files.
pub(crate) struct Selection {
    pub project: crate::project::Project,
    pub now: String,
    pub only: Vec<crate::platforms::PlatformId>,
    pub files: Vec<std::path::PathBuf>,
}

pub(crate) fn selection(g: &Global, paths: &[std::path::PathBuf], platforms: &[String]) -> Result<Selection> {
    let project = open_project(g)?;
    let now = crate::publish::rfc3339(g.env.now()?);
    let only = parse_platforms(platforms)?;
    let files = crate::pipeline::select_posts(&project, paths)?;
    Ok(Selection { project, now, only, files })
}

/// The rows as a table with a header, columns as wide as their longest cell; empty when
/// there are no rows.
pub(crate) fn rows_table(rows: &[Row]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    if rows.is_empty() {
        return out;
    }
    let w_post = rows.iter().map(|r| r.post.chars().count()).max().unwrap_or(4).max(4);
    let w_platform = rows.iter().map(|r| r.platform.len()).max().unwrap_or(8).max(8);
    let _ = writeln!(out, "{:w_post$}  {:w_platform$}  result", "post", "platform");
    for r in rows {
        let _ = writeln!(out, "{:w_post$}  {:w_platform$}  {}", r.post, r.platform, r.result);
    }
    out
}

pub(crate) fn open_project(g: &Global) -> Result<crate::project::Project> {
    crate::project::Project::open(&g.root, g.config.as_deref(), g.env.clone(), crate::platforms::catalog())
}
