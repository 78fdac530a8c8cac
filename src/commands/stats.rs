//! `crier stats`: how the recorded posts did on every platform (see [`crate::stats`]). This
//! module reads the flags, prints, records the history and writes the chart page.

use std::io::Write as _;

use super::check::print;
use super::{Global, Outcome, Recording, open_project, parse_platforms, runtime};
use crate::cli::{StatsArgs, StatsFormat};
use crate::error::{Error, Result};
use crate::git::{self, Append, GitOptions, GitOutcome, RepoInfo};
use crate::pipeline;
use crate::platforms::PlatformId;
use crate::platforms::http::HttpOptions;
use crate::platforms::metrics::Metric;
use crate::publish::rfc3339;
use crate::stats::{self, history, html, table};

/// Posts in the GitHub Actions job summary.
const SUMMARY_TOP: usize = 10;

pub fn execute(g: &Global, args: &StatsArgs) -> Result<Outcome> {
    let project = open_project(g)?;
    let now = rfc3339(g.env.now()?);
    let only = parse_platforms(&args.platform)?;
    let metric = Metric::parse(&args.sort).ok_or_else(|| Error::usage(format!("unknown metric `{}`", args.sort)))?;
    // Before any request: the lock, and a checkout that can commit (exit 2 otherwise).
    let recording = if args.record { Some(Recording::begin(&project.root, false)?) } else { None };
    let files = pipeline::select(&project, &args.paths)?;
    let reports = pipeline::check_all(&project, &files);

    let quiet = g.quiet || args.format != StatsFormat::Human;
    let progress = Progress::new(g, quiet);
    let http = HttpOptions::for_reading(&project.config.publish);
    let mut collected = runtime()?.block_on(stats::collect(&project, &g.env, &reports, &only, http, &progress));
    drop(progress);
    table::sort(&mut collected.rows, metric);

    let history_path = project.root.join(&project.config.stats.file);
    let entries = history::read(&history_path)
        .map_err(|e| Error::io(format!("cannot read `{}`", project.config.stats.file), e))?;
    let previous = history::latest(&entries);
    // No post has a live record (of these platforms): not a failure, there is just nothing yet.
    let nothing_published = collected.rows.is_empty() && collected.unavailable.is_empty();

    match args.format {
        StatsFormat::Json => print(&format!("{}\n", collected.to_json())),
        StatsFormat::Csv => print(&table::csv(&collected.rows)),
        StatsFormat::Human if nothing_published => print(&nothing_published_text(&only)),
        StatsFormat::Human => {
            print(&table::human(&collected.rows, &collected.unavailable, &previous, g.style.color));
        }
    }
    // A note on stderr, like the publish summary's `spent:` (stdout stays the table).
    if !g.quiet {
        for line in &collected.spent {
            eprintln!("spent: {line}");
        }
    }
    if let Some(path) = g.env.get("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
        let md = table::summary(&collected.rows, metric, SUMMARY_TOP);
        let appended = std::fs::OpenOptions::new().create(true).append(true).open(path);
        if appended.and_then(|mut f| f.write_all(format!("{md}\n").as_bytes())).is_err() {
            eprintln!("warning: cannot write the job summary to GITHUB_STEP_SUMMARY");
        }
    }

    let lines = history::new_lines(&collected.rows, &now);
    let mut failed = false;
    if let Some(recording) = recording.as_ref().filter(|_| !nothing_published) {
        failed |= !record(g, &project, &recording.repo, &lines);
    }
    if let Some(out) = &args.html {
        // The page shows this run too, recorded or not.
        let mut all = entries;
        if recording.is_none() {
            all.extend(history::parse(&lines));
        } else {
            all = history::read(&history_path).unwrap_or(all);
        }
        let path = if out.is_absolute() { out.clone() } else { g.root.join(out) };
        std::fs::write(&path, html::page(&all, metric))
            .map_err(|e| Error::io(format!("cannot write `{}`", out.display()), e))?;
        if !g.quiet {
            eprintln!("wrote the chart page to {}", out.display());
        }
    }
    let nothing_read = collected.rows.is_empty() && !collected.unavailable.is_empty();
    Ok(if nothing_read || failed { Outcome::Failure } else { Outcome::Success })
}

/// Appends `lines` to the history and commits and pushes it; false when git failed.
fn record(g: &Global, project: &crate::project::Project, repo: &RepoInfo, lines: &str) -> bool {
    let rel = &project.config.stats.file;
    let say = |msg: &str| {
        if !g.quiet {
            eprintln!("{msg}");
        }
    };
    let rows = lines.lines().count();
    if rows == 0 {
        say(&format!("no post's numbers could be read: nothing recorded in {rel}"));
        return true;
    }
    if *repo == RepoInfo::NotARepository {
        let path = project.root.join(rel);
        let written = path.parent().map_or(Ok(()), std::fs::create_dir_all).and_then(|()| {
            std::fs::OpenOptions::new().create(true).append(true).open(&path)?.write_all(lines.as_bytes())
        });
        if let Err(e) = written {
            eprintln!("error: cannot write `{rel}`: {e}");
            return false;
        }
        say(&format!("recorded {rows} row(s) in {rel}; not a git repository, so nothing was committed"));
        return true;
    }
    // A checkout without a remote (a local trial) keeps the commit local.
    let push = matches!(repo, RepoInfo::Repository { remote: Some(_), .. });
    let opts = GitOptions {
        push,
        token: GitOptions::token_from(&g.env),
        author: project.config.git.author_name.clone().zip(project.config.git.author_email.clone()),
        ..GitOptions::default()
    };
    let append = Append { rel_path: rel.clone(), text: lines.to_owned() };
    match git::commit_and_push_appends(&project.root, &[append], &opts) {
        Ok(GitOutcome::Committed { commit, pushed, notes, .. }) => {
            let short = &commit[..commit.len().min(8)];
            let pushed = match (pushed, push) {
                (true, _) => " and pushed it",
                (false, false) => "; not pushed (the branch has no remote)",
                (false, true) => "",
            };
            say(&format!("recorded {rows} row(s) in {rel}: committed as {short}{pushed}"));
            for n in notes {
                say(&format!("  {n}"));
            }
            true
        }
        Ok(GitOutcome::NothingToCommit | GitOutcome::NotARepository) => true,
        Err(e) => {
            eprintln!("error: git: {e}");
            false
        }
    }
}

/// What `crier stats` says when no post has a record to read (exit 0).
fn nothing_published_text(only: &[PlatformId]) -> String {
    let on = if only.is_empty() {
        String::new()
    } else {
        format!(" on {}", only.iter().map(|p| crate::publish::display(*p)).collect::<Vec<_>>().join(" or "))
    };
    format!(
        "nothing published{on} yet: no post has a `published` record to read numbers for \
         (posts deleted with `crier delete` are not read); run `crier publish` first\n"
    )
}

/// A bar of the posts read so far, on a terminal only (not in CI, nor with `--quiet` or a
/// machine format, whose readers want stdout alone); elsewhere the steps as lines with `-v`.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    lines: bool,
}

impl Progress {
    fn new(g: &Global, quiet: bool) -> Self {
        use std::io::IsTerminal as _;
        let shown = !quiet && !g.env.in_ci() && std::io::stderr().is_terminal();
        let bar = shown.then(|| {
            let bar = indicatif::ProgressBar::new(0);
            let style =
                indicatif::ProgressStyle::with_template("reading engagement [{bar:30}] {pos}/{len} posts  {wide_msg}")
                    .map(|s| s.progress_chars("=> "));
            if let Ok(style) = style {
                bar.set_style(style);
            }
            bar
        });
        Self { bar, lines: !quiet && g.verbose > 0 }
    }
}

impl stats::Progress for Progress {
    fn start(&self, posts: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(posts);
            // Drawn at once, not at the first tick: a quick run shows it too.
            bar.tick();
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
        }
    }

    fn step(&self, platform: PlatformId, message: &str) {
        match &self.bar {
            Some(bar) => bar.set_message(format!("{platform}: {message}")),
            None if self.lines => eprintln!("  {platform}: {message}"),
            None => {}
        }
    }

    fn done(&self, _: PlatformId, posts: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(posts);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
