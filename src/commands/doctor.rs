//! `crier doctor`: would `crier publish` work here? Checks the configuration, the posts,
//! each platform's credentials (live), the token's expiry when it is known, and the git
//! remote and push access; says what to fix for every failed item.
//!
//! Exit code: 0 when publishing would work (warnings allowed), 1 when an item failed,
//! 2 when the configuration itself is broken.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use git2::{CredentialType, Direction, RemoteCallbacks, Repository};
use secrecy::{ExposeSecret, SecretString};

use super::check::print;
use super::{Global, Outcome, open_project};
use crate::auth::{KEY_EXPIRES_AT, KEY_TOKEN, KEY_USER_ID, redact};
use crate::cli::DoctorArgs;
use crate::diag::Severity;
use crate::error::Result;
use crate::git::{self, RepoInfo};
use crate::pipeline;
use crate::platforms::PlatformId;
use crate::platforms::threads::api::{DEFAULT_BASE_URL, RetryOptions, ThreadsClient, ThreadsError};
use crate::publish::{self, State};

const DEVTO_DEFAULT_URL: &str = "https://dev.to/api";
const EXPIRY_WARNING_DAYS: i64 = 7;
const PUSH_CHECK_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    Ok,
    Warn,
    Fail,
    Info,
}

struct Report {
    out: String,
    unicode: bool,
    failures: usize,
    warnings: usize,
}

impl Report {
    fn section(&mut self, name: &str) {
        if !self.out.is_empty() {
            self.out.push('\n');
        }
        let _ = writeln!(self.out, "{name}");
    }

    fn item(&mut self, mark: Mark, msg: &str, fix: Option<&str>) {
        let sym = match (mark, self.unicode) {
            (Mark::Ok, true) => "✓",
            (Mark::Warn, true) => "!",
            (Mark::Fail, true) => "✗",
            (Mark::Info, true) => "·",
            (Mark::Ok, false) => "ok  ",
            (Mark::Warn, false) => "warn",
            (Mark::Fail, false) => "FAIL",
            (Mark::Info, false) => "-   ",
        };
        match mark {
            Mark::Fail => self.failures += 1,
            Mark::Warn => self.warnings += 1,
            _ => {}
        }
        let _ = writeln!(self.out, "  {sym} {msg}");
        if let Some(fix) = fix {
            let _ = writeln!(self.out, "      fix: {fix}");
        }
    }

    fn ok(&mut self, msg: &str) {
        self.item(Mark::Ok, msg, None);
    }

    fn info(&mut self, msg: &str) {
        self.item(Mark::Info, msg, None);
    }

    fn warn(&mut self, msg: &str, fix: &str) {
        self.item(Mark::Warn, msg, Some(fix));
    }

    fn fail(&mut self, msg: &str, fix: &str) {
        self.item(Mark::Fail, msg, Some(fix));
    }
}

/// Posts still to be published, per platform (None: unknown, the posts could not be read).
struct Needs {
    threads: Option<usize>,
    devto: Option<usize>,
}

pub fn execute(g: &Global, _args: &DoctorArgs) -> Result<Outcome> {
    let mut r = Report { out: String::new(), unicode: g.style.unicode, failures: 0, warnings: 0 };
    let mut annotations = String::new();
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
    let mut needs = Needs { threads: None, devto: None };
    let mut retry = RetryOptions {
        max_total_wait: Duration::from_secs(10),
        initial_delay: Duration::from_millis(500),
        request_timeout: Duration::from_secs(20),
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
                let waiting = |p: PlatformId| {
                    entries
                        .iter()
                        .filter(|e| {
                            e.platform == p && matches!(e.state, State::Due | State::Scheduled(_) | State::Invalid)
                        })
                        .count()
                };
                needs = Needs { threads: Some(waiting(PlatformId::Threads)), devto: Some(waiting(PlatformId::Devto)) };
                if let (Some(t), Some(d)) = (needs.threads, needs.devto) {
                    r.info(&format!("waiting to be published: {t} for Threads, {d} for dev.to"));
                }
            }
            Err(e) => r.fail(&format!("cannot read the posts: {e}"), "check `content_dir` in crier.yaml"),
        }
    }

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| crate::error::Error::io("cannot start the network runtime", e))?;

    // Threads.
    r.section("threads");
    check_threads(g, &rt, retry, &needs, now, &mut r, &mut annotations);

    // dev.to.
    r.section("dev.to");
    check_devto(g, &rt, retry.request_timeout, &needs, &mut r);

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
    print(&annotations);
    print(&r.out);
    Ok(if r.failures == 0 { Outcome::Success } else { Outcome::Failure })
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
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

fn check_threads(
    g: &Global,
    rt: &tokio::runtime::Runtime,
    retry: RetryOptions,
    needs: &Needs,
    now: DateTime<Utc>,
    r: &mut Report,
    annotations: &mut String,
) {
    let Some(token) = g.env.get(KEY_TOKEN) else {
        if needs.threads == Some(0) {
            r.info("not configured (THREADS_ACCESS_TOKEN is not set; no post is waiting for Threads)");
        } else {
            r.fail(
                &format!("THREADS_ACCESS_TOKEN is not set, and {}", waiting_text(needs.threads, "Threads")),
                "get a token with `crier auth threads --write-env .env` (locally), and add it as the repository secret THREADS_ACCESS_TOKEN for GitHub Actions",
            );
        }
        return;
    };
    let base = g.env.get("CRIER_THREADS_API_URL").unwrap_or(DEFAULT_BASE_URL);
    let client = ThreadsClient::new(base, SecretString::from(token.to_owned()), retry);
    let accepted = match rt.block_on(client.me()) {
        Ok(me) => {
            let who = if me.username.is_empty() { String::new() } else { format!("@{} ", me.username) };
            r.ok(&format!("token accepted: {who}(user id {})", me.id));
            if let Some(configured) = g.env.get(KEY_USER_ID).filter(|u| *u != me.id) {
                r.fail(
                    &format!("THREADS_USER_ID is {configured}, but the token belongs to user {}", me.id),
                    &format!("set THREADS_USER_ID={} (or remove it: crier looks it up)", me.id),
                );
            }
            match rt.block_on(client.publishing_limit(&me.id)) {
                Ok(q) if q.used >= q.total => r.warn(
                    &format!("publishing quota used up: {} of {} posts in the last 24 hours", q.used, q.total),
                    "nothing to do: posts wait for the next run once the 24-hour window moves on",
                ),
                Ok(q) => r.ok(&format!("publishing quota: {} of {} posts used in the last 24 hours", q.used, q.total)),
                Err(e) => r.fail(&format!("cannot read the publishing quota: {e}"), threads_fix(&e)),
            }
            true
        }
        Err(e) => {
            r.fail(&format!("{e}"), threads_fix(&e));
            false
        }
    };

    // Expiry: Threads tells it only through `debug_token`, which needs an app token.
    let recorded = g.env.get(KEY_EXPIRES_AT);
    match recorded.map(|s| DateTime::parse_from_rfc3339(s).map(|t| t.to_utc())) {
        None => r.info(
            "token expiry: unknown (Threads only tells with an app token); `crier auth threads --write-env .env` and `crier auth refresh` record it as THREADS_TOKEN_EXPIRES_AT",
        ),
        Some(Err(_)) => r.warn(
            &format!("THREADS_TOKEN_EXPIRES_AT `{}` is not an RFC 3339 date-time", recorded.unwrap_or_default()),
            "run `crier auth refresh` to rewrite it",
        ),
        Some(Ok(at)) => {
            let date = at.format("%Y-%m-%d %H:%M UTC");
            let left = at - now;
            if left <= chrono::TimeDelta::zero() {
                if accepted {
                    r.warn(
                        &format!("THREADS_TOKEN_EXPIRES_AT says the token expired on {date}, yet Threads accepted it"),
                        "the recorded date is stale: run `crier auth refresh` to renew the token and the date",
                    );
                } else {
                    r.fail(
                        &format!("the token expired on {date}"),
                        "an expired token cannot be refreshed: get a new one with `crier auth threads`",
                    );
                }
            } else if left < chrono::TimeDelta::days(EXPIRY_WARNING_DAYS) {
                let msg = format!("the token expires in {} ({date})", human_duration(left));
                r.warn(&msg, "run `crier auth refresh` (and update the THREADS_ACCESS_TOKEN secret), or enable the refresh-threads-token workflow");
                if g.env.in_github_actions() {
                    let _ = writeln!(
                        annotations,
                        "::warning title=Threads token expires soon::The Threads access token expires on {date}; run `crier auth refresh` and update the THREADS_ACCESS_TOKEN secret"
                    );
                }
            } else {
                r.ok(&format!("the token expires on {date} (in {})", human_duration(left)));
            }
        }
    }
}

fn human_duration(d: chrono::TimeDelta) -> String {
    let days = d.num_days();
    if days >= 2 { format!("{days} days") } else { plural(d.num_hours().max(0) as usize, "hour") }
}

fn threads_fix(e: &ThreadsError) -> &'static str {
    match e {
        ThreadsError::TokenInvalid { .. } => {
            "get a new token with `crier auth threads --write-env .env` (an expired token cannot be refreshed), then update THREADS_ACCESS_TOKEN wherever it is stored"
        }
        ThreadsError::Transient { .. } | ThreadsError::BadResponse { .. } => {
            "check the network connection (and CRIER_THREADS_API_URL, if set), then run `crier doctor` again"
        }
        _ => {
            "check that the token was issued for this app with the threads_basic and threads_content_publish permissions"
        }
    }
}

fn check_devto(g: &Global, rt: &tokio::runtime::Runtime, timeout: Duration, needs: &Needs, r: &mut Report) {
    let Some(key) = g.env.get("DEVTO_API_KEY") else {
        if needs.devto.unwrap_or(0) == 0 {
            r.info("not configured (DEVTO_API_KEY is not set; no post is waiting for dev.to)");
        } else {
            r.fail(
                &format!("DEVTO_API_KEY is not set, and {}", waiting_text(needs.devto, "dev.to")),
                "create an API key at https://dev.to/settings/extensions and set DEVTO_API_KEY (in .env, or as a repository secret)",
            );
        }
        return;
    };
    let base = g.env.get("CRIER_DEVTO_API_URL").unwrap_or(DEVTO_DEFAULT_URL).trim_end_matches('/').to_owned();
    let key = SecretString::from(key.to_owned());
    let secret = key.expose_secret();
    let result = rt.block_on(async {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("crier/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        let resp = http
            .get(format!("{base}/users/me"))
            .header("api-key", secret)
            .header("Accept", "application/vnd.forem.api-v1+json")
            .send()
            .await
            .map_err(|e| e.without_url().to_string())?;
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap_or_default();
        Ok::<_, String>((status, body))
    });
    match result {
        Ok((200, body)) => {
            let user = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("username").and_then(|u| u.as_str()).map(str::to_owned));
            r.ok(&format!("API key accepted{}", user.map(|u| format!(": @{u}")).unwrap_or_default()));
        }
        Ok((401 | 403, _)) => r.fail(
            "dev.to rejected DEVTO_API_KEY",
            "create a new key at https://dev.to/settings/extensions and update DEVTO_API_KEY",
        ),
        Ok((status, _)) => r.fail(
            &format!("dev.to answered HTTP {status} to `GET /users/me`"),
            "try again later; check CRIER_DEVTO_API_URL if it is set",
        ),
        Err(e) => r.fail(
            &format!("cannot reach dev.to: {}", redact(&e, &[secret])),
            "check the network connection (and CRIER_DEVTO_API_URL, if set)",
        ),
    }
}

fn check_git(g: &Global, r: &mut Report) {
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
            let config = repo.config().ok();
            let mut tries = 0u32;
            let mut cbs = RemoteCallbacks::new();
            cbs.credentials(move |url, user, allowed| {
                tries += 1;
                if tries > 3 {
                    return Err(git2::Error::from_str("authentication failed"));
                }
                if allowed.contains(CredentialType::SSH_KEY) {
                    return git2::Cred::ssh_key_from_agent(user.unwrap_or("git"));
                }
                if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) {
                    if let (Some(t), 1) = (token.as_ref(), tries) {
                        return git2::Cred::userpass_plaintext("x-access-token", t.expose_secret());
                    }
                    if let Some(c) = config.as_ref().and_then(|cfg| git2::Cred::credential_helper(cfg, url, user).ok())
                    {
                        return Ok(c);
                    }
                    return Err(git2::Error::from_str(if token.is_some() {
                        "the token was refused (it needs write access)"
                    } else {
                        "no credentials for https: set CRIER_GIT_TOKEN (or GITHUB_TOKEN)"
                    }));
                }
                if allowed.contains(CredentialType::USERNAME) {
                    return git2::Cred::username(user.unwrap_or("git"));
                }
                git2::Cred::default()
            });
            remote.connect_auth(Direction::Push, Some(cbs), None).map_err(|e| e.message().to_owned())?;
            Ok(url)
        })();
        let _ = tx.send(result);
    });
    let scrub = |s: String| redact_url(&redact(&s, &[secret.as_str()]));
    match rx.recv_timeout(PUSH_CHECK_TIMEOUT) {
        Ok(r) => r.map(&scrub).map_err(&scrub),
        Err(_) => Err(format!("no answer within {} s", PUSH_CHECK_TIMEOUT.as_secs())),
    }
}

/// `https://user:secret@host/x` → `https://***@host/x`.
fn redact_url(s: &str) -> String {
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
