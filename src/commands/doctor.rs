//! `crier doctor`: would `crier publish` work here? Checks the configuration, the posts,
//! each platform's credentials (live), the token's expiry when it is known, and the git
//! remote and push access; says what to fix for every failed item.
//!
//! Exit code: 0 when publishing would work (warnings allowed), 1 when an item failed,
//! 2 when the configuration itself is broken.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use std::collections::BTreeMap;

use git2::{Direction, Repository};
use secrecy::{ExposeSecret, SecretString};

use super::check::print;
use super::{Global, Outcome, open_project};
use crate::checklist::Checklist;
use crate::cli::DoctorArgs;
use crate::diag::{Severity, plural};
use crate::drift;
use crate::error::Result;
use crate::git::{self, RepoInfo};
use crate::pipeline;
use crate::platforms::http::HttpOptions;
use crate::platforms::http::Redactor;
use crate::platforms::{self, DoctorContext, PlatformId, Remote};
use crate::publish::{self, State};

const PUSH_CHECK_TIMEOUT: Duration = Duration::from_secs(30);

pub fn execute(g: &Global, _args: &DoctorArgs) -> Result<Outcome> {
    let mut r = Checklist::new(g.style.unicode);
    let now = g.env.now()?;

    // Configuration.
    r.section("configuration");
    let project = match open_project(g) {
        Ok(p) => {
            match &p.config_path {
                Some(path) => r.ok(&format!("{} loaded", rel(&g.root, path))),
                None => r.info("no crier.yaml: the defaults apply"),
            }
            Some(p)
        }
        Err(e) => {
            r.fail(&format!("{e}"), "fix the configuration file (the details follow below)");
            print(&r.out);
            return Err(e);
        }
    };

    // Content.
    r.section("content");
    // Posts still to be published, per platform (absent: unknown, the posts could not be read).
    let mut needs: Option<BTreeMap<PlatformId, usize>> = None;
    // The posts as read, and their plan (for the drift check).
    let mut content: Option<(Vec<pipeline::PostReport>, Vec<publish::PlanEntry>)> = None;
    let mut retry = HttpOptions {
        max_total_wait: Duration::from_secs(10),
        initial_delay: Duration::from_millis(500),
        request_timeout: Duration::from_secs(20),
        ..HttpOptions::default()
    };
    if let Some(project) = &project {
        let p = &project.config.publish;
        retry.initial_delay = Duration::from_millis(p.retry_initial_delay_ms).min(retry.initial_delay);
        retry.request_timeout = Duration::from_secs(p.request_timeout_secs.clamp(1, 20));
        retry.max_total_wait = Duration::from_secs(p.max_retry_wait_secs).min(retry.max_total_wait);
        match pipeline::select(project, &[]) {
            Ok(files) => {
                let reports = pipeline::check_all(project, &files);
                let mut errors = project.templates.diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
                let mut warnings = project.templates.diagnostics.len() - errors;
                for rep in &reports {
                    let e = rep.errors();
                    errors += e;
                    warnings += rep.diagnostics.len() - e;
                }
                let summary = format!(
                    "{} in `{}`: {} error{}, {} warning{}",
                    plural(reports.len(), "post"),
                    project.config.content_dir,
                    errors,
                    if errors == 1 { "" } else { "s" },
                    warnings,
                    if warnings == 1 { "" } else { "s" }
                );
                if errors > 0 {
                    r.fail(&summary, "run `crier check` and fix the errors; `crier publish` publishes nothing while a due post has errors");
                } else {
                    r.ok(&summary);
                }
                let entries = publish::plan(&reports, now);
                let waiting: BTreeMap<PlatformId, usize> = PlatformId::all()
                    .map(|p| {
                        let n = entries
                            .iter()
                            .filter(|e| {
                                e.platform == p && matches!(e.state, State::Due | State::Scheduled(_) | State::Invalid)
                            })
                            .count();
                        (p, n)
                    })
                    .collect();
                let list: Vec<String> =
                    waiting.iter().map(|(p, n)| format!("{n} for {}", publish::display(*p))).collect();
                r.info(&format!("waiting to be published: {}", list.join(", ")));
                needs = Some(waiting);
                content = Some((reports, entries));
            }
            Err(e) => r.fail(&format!("cannot read the posts: {e}"), "check `content_dir` in crier.yaml"),
        }
    }

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| crate::error::Error::io("cannot start the network runtime", e))?;

    let cx = DoctorContext { project: project.as_ref(), env: &g.env, http: retry, now };
    for id in PlatformId::all() {
        let platform = platforms::get(id);
        r.section(&platform.display_name().to_lowercase());
        let waiting = needs.as_ref().and_then(|n| n.get(&id).copied());
        let missing = platform.credentials().iter().find(|c| c.required && g.env.get(c.var).is_none());
        match missing {
            Some(c) if waiting == Some(0) => r.info(&format!(
                "not configured ({} is not set; no post is waiting for {})",
                c.var,
                platform.display_name()
            )),
            Some(c) => r.fail(
                &format!("{} is not set, and {}", c.var, waiting_text(waiting, platform.display_name())),
                platform.setup_hint(),
            ),
            None => {
                let failures = r.failures;
                rt.block_on(platform.doctor(&cx, &mut r));
                if let (Some(project), Some((reports, entries)), true) = (&project, &content, r.failures == failures) {
                    check_drift(g, project, reports, entries, id, retry, &mut r);
                }
            }
        }
    }

    // Git.
    r.section("git");
    check_git(g, &mut r);

    r.out.push('\n');
    if r.failures == 0 {
        let _ = writeln!(
            r.out,
            "Publishing would work{}.",
            if r.warnings > 0 { format!(" ({} to look at)", plural(r.warnings, "warning")) } else { String::new() }
        );
    } else {
        let _ =
            writeln!(r.out, "Publishing would not work: {} to fix (see `fix:` above).", plural(r.failures, "problem"));
    }
    print(&r.annotations);
    print(&r.out);
    Ok(if r.failures == 0 { Outcome::Success } else { Outcome::Failure })
}

/// Recorded posts the drift check of `doctor` looks up per platform: the most recently
/// published (`crier status --remote` looks up every one).
const DRIFT_SAMPLE: usize = 20;

/// Looks up the most recently published posts of `id` and says whether any drifted.
fn check_drift(
    g: &Global,
    project: &crate::project::Project,
    reports: &[pipeline::PostReport],
    entries: &[publish::PlanEntry],
    id: PlatformId,
    http: HttpOptions,
    r: &mut Checklist,
) {
    let mut recorded = drift::recorded(entries, &[id]);
    if recorded.is_empty() {
        return;
    }
    let total = recorded.len();
    let published_at = |e: &publish::PlanEntry| -> String {
        reports
            .iter()
            .find(|rep| rep.path == e.path)
            .and_then(|rep| rep.post.as_ref())
            .and_then(|post| publish::record_of(post, id))
            .and_then(|rec| rec.get("published_at"))
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    recorded.sort_by_cached_key(|e| std::cmp::Reverse(published_at(e)));
    recorded.truncate(DRIFT_SAMPLE);
    let findings = drift::inspect(project, &g.env, reports, &recorded, http, &|_| {});
    let which = if total > recorded.len() {
        format!("the {} most recently published of {total} recorded posts", recorded.len())
    } else {
        plural(total, "recorded post")
    };
    let drifted: Vec<String> = findings
        .iter()
        .filter(|f| f.remote.is_drift())
        .map(|f| {
            let what = match &f.remote {
                Remote::Gone(_) => "is gone",
                Remote::Edited(_) => "was edited there",
                _ => "is on another account",
            };
            format!("{} {what}", f.path)
        })
        .collect();
    let unchecked: Vec<&str> = findings
        .iter()
        .filter_map(|f| match &f.remote {
            Remote::Unchecked(why) => Some(why.as_str()),
            _ => None,
        })
        .collect();
    if !drifted.is_empty() {
        r.warn(
            &format!("drift: of {which}, {} no longer as recorded: {}", drifted.len(), drifted.join(", ")),
            &format!(
                "see every post with `crier status --remote --platform {id}`; record a post removed in the app with `crier delete PATH --platform {id}`"
            ),
        );
    } else if let Some(why) = unchecked.first() {
        r.info(&format!("drift not checked for {} of {which}: {why}", unchecked.len()));
    } else {
        r.ok(&format!("no drift: {which}, all there as recorded"));
    }
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap_or(p).display().to_string()
}

fn waiting_text(n: Option<usize>, platform: &str) -> String {
    match n {
        Some(1) => format!("1 post is waiting for {platform}"),
        Some(n) => format!("{n} posts are waiting for {platform}"),
        None => format!("posts may be waiting for {platform}"),
    }
}

fn check_git(g: &Global, r: &mut Checklist) {
    let info = match git::preflight(&g.root) {
        Ok(i) => i,
        Err(e) => {
            r.fail(&e.to_string(), "see above");
            return;
        }
    };
    let RepoInfo::Repository { branch, remote, .. } = info else {
        r.warn(
            "not a git repository: `crier publish` would write the records into the post files but commit nothing",
            "run crier in a clone of your content repository",
        );
        return;
    };
    let Some(remote) = remote else {
        r.fail(
            &format!("branch `{branch}` has no remote to push the records to"),
            &format!("add one: `git remote add origin <url>` and `git push -u origin {branch}`"),
        );
        return;
    };
    r.ok(&format!("on branch `{branch}`, records are pushed to `{remote}`"));
    let token = git::GitOptions::token_from(&g.env);
    match push_access(&g.root, &remote, token) {
        Ok(url) => r.ok(&format!("push access to `{remote}` ({url})")),
        Err(e) => r.fail(
            &format!("cannot connect to `{remote}` for pushing: {e}"),
            "over https set CRIER_GIT_TOKEN (or GITHUB_TOKEN; in GitHub Actions with `permissions: contents: write`); over ssh, load a key into ssh-agent",
        ),
    }
}

/// Connects to the remote in the push direction (what `git push` does before sending
/// anything), in a thread so a hung network cannot hang the doctor.
fn push_access(root: &Path, remote: &str, token: Option<SecretString>) -> std::result::Result<String, String> {
    let root = root.to_path_buf();
    let remote = remote.to_owned();
    let secret = token.as_ref().map(|t| t.expose_secret().to_owned()).unwrap_or_default();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let result = (|| {
            let repo = Repository::discover(&root).map_err(|e| e.message().to_owned())?;
            let mut remote = repo.find_remote(&remote).map_err(|e| e.message().to_owned())?;
            let url = match remote.pushurl() {
                Ok(Some(u)) => u.to_owned(),
                _ => remote.url().unwrap_or("").to_owned(),
            };
            let cbs = crate::git::callbacks(&repo, token.as_ref(), 3);
            remote.connect_auth(Direction::Push, Some(cbs), None).map_err(|e| e.message().to_owned())?;
            Ok(url)
        })();
        let _ = tx.send(result);
    });
    let redactor = Redactor::new([secret.as_str()]);
    let scrub = |s: String| crate::git::redact_url(&redactor.redact(&s));
    match rx.recv_timeout(PUSH_CHECK_TIMEOUT) {
        Ok(r) => r.map(&scrub).map_err(&scrub),
        Err(_) => Err(format!("no answer within {} s", PUSH_CHECK_TIMEOUT.as_secs())),
    }
}
