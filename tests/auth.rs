//! `crier auth threads`, `crier auth mastodon`, `crier auth refresh` and `crier doctor` end
//! to end: the real binary against the fake Threads and Mastodon servers (their OAuth
//! endpoints included), in a scrubbed environment.
//! Every run is checked for leaking a secret: no token, code or app secret on stderr, and
//! on stdout only where `auth` hands the credentials over by design.

#[path = "support/common.rs"]
mod common;
#[path = "support/fake_devto.rs"]
mod fake_devto;
#[path = "support/fake_mastodon.rs"]
mod fake_mastodon;
#[path = "support/fake_threads.rs"]
mod fake_threads;

use common::{Crier, Fixture, Run};
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::Path;
use std::process::{Child, ChildStderr, Stdio};
use std::time::Duration;

use fake_mastodon::FakeMastodon;
use fake_threads::{FakeConfig, FakeThreads};

/// NOW + 60 days.
const EXPIRES: &str = "2027-01-27T10:00:00Z";
const REDIRECT: &str = "https://example.com/threads/callback";
const SCOPES: &str = "threads_basic,threads_content_publish,threads_manage_replies,threads_read_replies,threads_delete,threads_manage_insights";
const BIG_USER_ID: &str = "17841405793187218";

struct World {
    // The fakes (their server tasks) go before the runtime.
    fake: FakeThreads,
    mastodon: FakeMastodon,
    rt: tokio::runtime::Runtime,
    dir: Fixture,
}

common::fixture_world!(World, dir);

impl Run {
    /// `KEY=value` from stdout.
    fn value(&self, key: &str) -> Option<String> {
        self.stdout.lines().find_map(|l| l.strip_prefix(&format!("{key}=")).map(str::to_owned))
    }
}

impl World {
    fn new() -> Self {
        Self::with(FakeConfig { user_id: BIG_USER_ID.into(), ..FakeConfig::default() })
    }

    fn with(cfg: FakeConfig) -> Self {
        let rt = common::runtime(2);
        let fake = rt.block_on(FakeThreads::start(cfg));
        let mastodon = rt.block_on(FakeMastodon::start(fake_mastodon::FakeConfig::default()));
        let dir = Fixture::new("crier-auth-");
        Self { fake, mastodon, rt, dir }
    }

    /// `crier -C <dir> --color never ARGS…` with the app settings and the fake's URL; `env`
    /// adds variables (an empty value leaves one out).
    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Crier {
        let mut crier = self
            .dir
            .crier()
            .env("CRIER_THREADS_API_URL", self.fake.base_url())
            .env("THREADS_APP_ID", self.fake.app_id())
            .env("THREADS_APP_SECRET", self.fake.app_secret())
            .args(args);
        for (k, v) in env {
            crier = if v.is_empty() { crier.env_remove(k) } else { crier.env(k, v) };
        }
        crier
    }

    /// Runs crier; `token_on_stdout`: whether stdout may carry a token (auth's job).
    fn run(&self, args: &[&str], env: &[(&str, &str)], token_on_stdout: bool) -> Run {
        let run = self.command(args, env).run();
        self.check_no_leak(&run, token_on_stdout);
        run
    }

    fn auth(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut all = vec!["auth"];
        all.extend_from_slice(args);
        self.run(&all, env, true)
    }

    #[track_caller]
    fn check_no_leak(&self, run: &Run, token_on_stdout: bool) {
        let mut secrets = self.fake.issued_tokens();
        secrets.push(self.fake.app_secret());
        secrets.extend(self.mastodon.secrets());
        for s in &secrets {
            assert!(!run.stderr.contains(s.as_str()), "a secret leaked on stderr\n{run}");
            if !token_on_stdout {
                assert!(!run.stdout.contains(s.as_str()), "a secret leaked on stdout\n{run}");
            }
        }
        assert!(!run.stdout.contains(&self.fake.app_secret()), "the app secret is never printed\n{run}");
    }

    /// Starts crier and reads its stderr up to the line that holds `needle` (the
    /// authorize URL it prints before waiting); returns the URL from there on.
    fn spawn_until(&self, args: &[&str], env: &[(&str, &str)], needle: &str) -> Waiting {
        let mut child = self.command(args, env).spawn_with(Stdio::piped()).expect("spawn crier");
        let mut err = BufReader::new(child.stderr.take().expect("stderr"));
        let mut seen = String::new();
        let found = loop {
            let mut line = String::new();
            if err.read_line(&mut line).unwrap_or(0) == 0 {
                break None;
            }
            seen.push_str(&line);
            if let Some(i) = line.find(needle) {
                break url::Url::parse(line[i..].trim()).ok();
            }
        };
        match found {
            Some(url) => Waiting { child, err, seen, url },
            None => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("crier printed no authorization URL:\n{seen}");
            }
        }
    }

    fn code(&self, redirect: &str) -> String {
        self.fake.authorize(redirect, SCOPES).expect("authorize")
    }

    /// The whole `--code` flow with `--write-env .env`; returns the long-lived token.
    fn authorize_into_env(&self) -> String {
        let code = self.code(REDIRECT);
        self.auth(&["threads", "--code", &code, "--write-env", ".env"], &[("THREADS_REDIRECT_URI", REDIRECT)]).code(0);
        let env = self.read(".env");
        env.lines().find_map(|l| l.strip_prefix("THREADS_ACCESS_TOKEN=")).expect("token in .env").to_owned()
    }
}

/// crier waiting for the browser (or a paste), and what it printed so far.
struct Waiting {
    child: Child,
    err: BufReader<ChildStderr>,
    seen: String,
    /// The authorize URL it printed.
    url: url::Url,
}

impl Waiting {
    fn query(&self, key: &str) -> String {
        self.url.query_pairs().find(|(k, _)| k == key).map(|(_, v)| v.into_owned()).unwrap_or_default()
    }

    /// Types `line` where crier asks for a paste.
    fn paste(&mut self, line: &str) {
        let mut stdin = self.child.stdin.take().expect("stdin");
        writeln!(stdin, "{line}").expect("paste");
    }

    /// Waits for crier to end; checks it leaked nothing.
    fn finish(mut self, w: &World) -> Run {
        let mut rest = String::new();
        self.err.read_to_string(&mut rest).expect("stderr");
        self.seen.push_str(&rest);
        let mut stdout = String::new();
        self.child.stdout.take().expect("stdout").read_to_string(&mut stdout).expect("stdout");
        let status = self.child.wait().expect("wait");
        let run = Run { code: status.code().unwrap_or(-1), stdout, stderr: self.seen };
        w.check_no_leak(&run, true);
        run
    }
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

// ---------------------------------------------------------------- auth threads --code

#[test]
fn bare_code_with_trailing_fragment_gives_a_long_lived_token() {
    let w = World::new();
    let code = w.code(REDIRECT);
    let run = w.auth(&["threads", "--code", &format!("{code}#_")], &[("THREADS_REDIRECT_URI", REDIRECT)]);
    run.code(0)
        .stdout_has(&format!("THREADS_USER_ID={BIG_USER_ID}\n"))
        .stdout_has("THREADS_USERNAME=crier_tester\n")
        .stdout_has(&format!("THREADS_TOKEN_EXPIRES_AT={EXPIRES}\n"))
        .stderr_has("expires on 2027-01-27");
    let token = run.value("THREADS_ACCESS_TOKEN").expect("token line");
    let left = w.fake.token_expires_in(&token).expect("a token the fake issued");
    assert!(left > 59 * 86_400, "long-lived, not the 1-hour token: {left}");
    assert!(!run.stderr.contains(&code), "the code is a secret too\n{run}");
}

#[test]
fn global_flags_after_the_platform_name_apply() {
    let w = World::new();
    let code = w.code(REDIRECT);
    // `-q` after the platform's name: the credentials still go to stdout, the rest is quiet.
    let run = w.auth(&["threads", "--code", &code, "-q"], &[("THREADS_REDIRECT_URI", REDIRECT)]);
    run.code(0).stdout_has("THREADS_USERNAME=crier_tester\n");
    assert!(!run.stderr.contains("Authorized"), "-q keeps stderr quiet\n{run}");
    w.auth(&["threads", "-C", "/no/such/dir"], &[]).code(2).stderr_has("`-C /no/such/dir`: no such directory");
    w.auth(&["threads", "--code", "x", "-q", "-v"], &[]).code(2).stderr_has("cannot be used with");
}

#[test]
fn full_redirect_url_and_user_id_as_string() {
    let w = World::with(FakeConfig { user_id: BIG_USER_ID.into(), user_id_as_string: true, ..FakeConfig::default() });
    let code = w.code(REDIRECT);
    let url = w.fake.redirect_url(REDIRECT, &code, "some-state");
    assert!(url.ends_with("#_"));
    // The redirect URI from the flag instead of the environment.
    let run = w.auth(&["threads", "--code", &url, "--redirect-uri", REDIRECT], &[]);
    run.code(0).stdout_has(&format!("THREADS_USER_ID={BIG_USER_ID}\n"));
    assert!(w.fake.token_expires_in(&run.value("THREADS_ACCESS_TOKEN").expect("token")).is_some());
}

#[test]
fn a_code_works_once() {
    let w = World::new();
    let code = w.code(REDIRECT);
    w.auth(&["threads", "--code", &code], &[("THREADS_REDIRECT_URI", REDIRECT)]).code(0);
    let run = w.auth(&["threads", "--code", &code], &[("THREADS_REDIRECT_URI", REDIRECT)]);
    run.code(2).stderr_has("Matching code was not found or was already used").stderr_has("works once");
    assert!(run.stdout.is_empty(), "{run}");
}

#[test]
fn the_redirect_uri_must_be_the_one_authorized() {
    let w = World::new();
    let code = w.code(REDIRECT);
    let other = format!("{REDIRECT}/");
    w.auth(&["threads", "--code", &code], &[("THREADS_REDIRECT_URI", &other)])
        .code(2)
        .stderr_has("redirect_uri is identical");
}

#[test]
fn missing_app_settings_are_named() {
    let w = World::new();
    let cases = [
        ("THREADS_APP_ID", vec![("THREADS_APP_ID", ""), ("THREADS_REDIRECT_URI", REDIRECT)]),
        ("THREADS_APP_SECRET", vec![("THREADS_APP_SECRET", ""), ("THREADS_REDIRECT_URI", REDIRECT)]),
        ("THREADS_REDIRECT_URI", vec![]),
    ];
    for (name, env) in cases {
        w.auth(&["threads", "--code", "AQBabc"], &env).code(2).stderr_has(&format!("{name} is not set"));
    }
}

// ---------------------------------------------------------------- --write-env

#[test]
fn write_env_updates_only_its_keys_and_keeps_the_mode() {
    let w = World::new();
    let before = "# crier settings\nDEVTO_API_KEY=devto-key # keep\n\nexport THREADS_ACCESS_TOKEN=old-token\nTHREADS_USERNAME=someone_else\nLAST=1\n";
    w.file(".env", before);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(w.root().join(".env"), std::fs::Permissions::from_mode(0o640)).expect("chmod");
    }
    let code = w.code(REDIRECT);
    let run = w.auth(&["threads", "--code", &code, "--write-env", ".env"], &[("THREADS_REDIRECT_URI", REDIRECT)]);
    run.code(0).stderr_has("Wrote THREADS_ACCESS_TOKEN");
    // With --write-env the token goes into the file only.
    w.check_no_leak(&run, false);
    #[cfg(unix)]
    {
        assert_eq!(mode(&w.root().join(".env")), 0o640, "an existing file keeps its mode");
        run.stderr_has("other users can read it").stderr_has("chmod 600");
    }
    let after = w.read(".env");
    let lines: Vec<&str> = after.lines().collect();
    assert_eq!(lines[..3], ["# crier settings", "DEVTO_API_KEY=devto-key # keep", ""], "{after}");
    assert!(lines[3].starts_with("export THREADS_ACCESS_TOKEN=TH") && !lines[3].contains("old-token"), "{after}");
    assert_eq!(lines[4], "THREADS_USERNAME=crier_tester");
    assert_eq!(lines[5], "LAST=1");
    assert_eq!(lines[6..], [format!("THREADS_USER_ID={BIG_USER_ID}"), format!("THREADS_TOKEN_EXPIRES_AT={EXPIRES}")]);
}

#[test]
fn write_env_creates_the_file_private() {
    let w = World::new();
    let code = w.code(REDIRECT);
    w.auth(&["threads", "--code", &code, "--write-env", "secrets/threads.env"], &[("THREADS_REDIRECT_URI", REDIRECT)])
        .code(2)
        .stderr_has("cannot write");
    std::fs::create_dir(w.root().join("secrets")).expect("mkdir");
    let code = w.code(REDIRECT);
    let run = w.auth(
        &["threads", "--code", &code, "--write-env", "secrets/threads.env"],
        &[("THREADS_REDIRECT_URI", REDIRECT)],
    );
    run.code(0);
    assert!(!run.stderr.contains("other users can read"), "{run}");
    #[cfg(unix)]
    assert_eq!(mode(&w.root().join("secrets/threads.env")), 0o600);
    let text = w.read("secrets/threads.env");
    assert!(text.starts_with("THREADS_ACCESS_TOKEN=TH") && text.contains("THREADS_USERNAME=crier_tester\n"), "{text}");
}

// ---------------------------------------------------------------- auth threads on localhost

/// Sends `GET target` to `127.0.0.1:port` as a browser would; returns the status code.
fn browser_get(port: u16, target: &str) -> u16 {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect to crier");
    s.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
    write!(
        s,
        "GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: test-browser\r\nAccept: text/html\r\n\r\n"
    )
    .expect("send");
    let mut reply = String::new();
    let _ = s.read_to_string(&mut reply);
    reply.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
}

#[test]
fn localhost_redirect_is_received_and_state_checked() {
    let w = World::new();
    let waiting = w.spawn_until(
        &["auth", "threads", "--timeout", "60"],
        &[("THREADS_REDIRECT_URI", "http://127.0.0.1:0/callback")],
        "https://threads.net/oauth/authorize?",
    );
    assert_eq!(waiting.query("client_id"), w.fake.app_id());
    assert_eq!(waiting.query("scope"), SCOPES, "every permission crier uses, threads_read_replies included");
    assert_eq!(waiting.query("response_type"), "code");
    assert!(waiting.url.as_str().contains(&format!("scope={SCOPES}&")), "{}", waiting.url);
    let redirect = waiting.query("redirect_uri");
    let state = waiting.query("state");
    assert!(state.len() >= 16);
    let port = url::Url::parse(&redirect).expect("redirect").port().expect("port");
    assert_ne!(port, 0);

    let code = w.fake.authorize(&redirect, &waiting.query("scope")).expect("authorize");
    assert_eq!(browser_get(port, "/favicon.ico"), 404);
    assert_eq!(browser_get(port, &format!("/callback?code={code}&state=not-{state}")), 400, "wrong state");
    assert_eq!(browser_get(port, &format!("/callback?code={code}&state={state}")), 200);

    let run = waiting.finish(&w);
    run.code(0).stderr_has("does not match").stdout_has(&format!("THREADS_USER_ID={BIG_USER_ID}\n"));
    assert!(!run.stderr.contains(&code), "{run}");
    assert!(w.fake.token_expires_in(&run.value("THREADS_ACCESS_TOKEN").expect("token")).is_some());
}

#[test]
fn without_code_or_localhost_the_url_and_next_step_are_printed() {
    let w = World::new();
    w.auth(&["threads"], &[("THREADS_REDIRECT_URI", REDIRECT)])
        .code(0)
        .stderr_has("https://threads.net/oauth/authorize?client_id=")
        .stderr_has("crier auth threads --code");
}

// ---------------------------------------------------------------- auth refresh

const DAY: Duration = Duration::from_secs(24 * 3600);

#[test]
fn refresh_too_early_then_in_time_then_too_late() {
    let w = World::new();
    let first = w.authorize_into_env();
    w.file(".env", format!("# mine\n{}OTHER=kept\n", w.read(".env")));

    // Less than 24 hours old.
    let run = w.auth(&["refresh"], &[]);
    run.code(2).stderr_has("at least 24 hours old").stderr_has("keeps working").stderr_has("again after 2026-11-29");
    assert!(w.read(".env").contains(&first));

    // A day later: --print-token prints the new token and nothing else, writes nothing.
    w.fake.advance_clock(DAY + Duration::from_secs(3600));
    let run = w.auth(&["refresh", "--print-token"], &[]);
    run.code(0);
    let second = run.stdout.trim_end().to_owned();
    assert_eq!(run.stdout, format!("{second}\n"), "only the token");
    assert!(second.starts_with("TH") && second != first);
    assert!(w.fake.token_expires_in(&second).expect("issued") > 59 * 86_400);
    assert!(w.read(".env").contains(&first), "--print-token writes no file");

    // Without --print-token the .env is updated in place.
    w.fake.advance_clock(DAY);
    let run = w.run(&["auth", "refresh"], &[], false);
    run.code(0).stderr_has("Wrote the new THREADS_ACCESS_TOKEN");
    let env = w.read(".env");
    assert!(env.starts_with("# mine\n") && env.ends_with("OTHER=kept\n"), "{env}");
    assert!(!env.contains(&first) && env.contains(&format!("THREADS_TOKEN_EXPIRES_AT={EXPIRES}")), "{env}");
    #[cfg(unix)]
    assert_eq!(mode(&w.root().join(".env")), 0o600);

    // Two months without refreshing: expired, cannot be refreshed.
    w.fake.advance_clock(61 * DAY);
    w.auth(&["refresh"], &[])
        .code(2)
        .stderr_has("has expired")
        .stderr_has("crier auth threads")
        .stderr_has("cannot be refreshed");
}

#[test]
fn refresh_needs_a_token() {
    let w = World::new();
    w.auth(&["refresh", "--print-token"], &[]).code(2).stderr_has("THREADS_ACCESS_TOKEN is not set");
}

// ---------------------------------------------------------------- the fake's token endpoints

#[test]
fn fake_token_endpoints_follow_the_contract() {
    let w = World::new();
    let base = w.fake.base_url();
    let http = reqwest::Client::new();
    let secret = w.fake.app_secret();
    let app = w.fake.app_id();
    let post = |code: String, redirect: &str| {
        let form = [
            ("client_id", app.clone()),
            ("client_secret", secret.clone()),
            ("code", code),
            ("grant_type", "authorization_code".to_owned()),
            ("redirect_uri", redirect.to_owned()),
        ];
        let req = http.post(format!("{base}/oauth/access_token")).form(&form);
        w.rt.block_on(async { req.send().await.expect("send").text().await.expect("body") })
    };
    let code = w.code(REDIRECT);
    let flat = r#"{"code":400,"error_message":"Matching code was not found or was already used","error_type":"OAuthException"}"#;
    assert_eq!(post(format!("{code}#_"), REDIRECT), flat, "a code with #_ is not a code");
    assert!(post(code.clone(), "https://example.com/other").contains("redirect_uri is identical"));
    let ok = post(code.clone(), REDIRECT);
    assert!(ok.contains(&format!(r#""user_id":{BIG_USER_ID}}}"#)), "a bare number: {ok}");
    assert_eq!(post(code, REDIRECT), flat, "single use");
    // An old code has expired.
    let stale = w.code(REDIRECT);
    w.fake.advance_clock(Duration::from_secs(3601));
    assert_eq!(post(stale, REDIRECT), flat);
    assert!(w.fake.authorize(REDIRECT, "threads_basic,threads_publish").is_err(), "no such scope");

    let get = |path: &str, q: &[(&str, &str)]| {
        let req = http.get(format!("{base}{path}")).query(q);
        w.rt.block_on(async {
            let r = req.send().await.expect("send");
            (r.status().as_u16(), r.text().await.expect("body"))
        })
    };
    let v: serde_json::Value = serde_json::from_str(&post(w.code(REDIRECT), REDIRECT)).expect("json");
    let short = v["access_token"].as_str().expect("token").to_owned();
    let (status, _) = get(
        "/access_token",
        &[("grant_type", "ig_exchange_token"), ("client_secret", &secret), ("access_token", &short)],
    );
    assert_eq!(status, 400);
    let (status, body) = get(
        "/access_token",
        &[("grant_type", "th_exchange_token"), ("client_secret", &secret), ("access_token", &short)],
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""expires_in":5184000"#) && body.contains(r#""token_type":"bearer""#), "{body}");
    let (status, _) = get("/refresh_access_token", &[("grant_type", "th_refresh_token"), ("access_token", &short)]);
    assert_eq!(status, 400, "a short-lived token cannot be refreshed");
    // The short-lived token expires after an hour and can then not be exchanged.
    w.fake.advance_clock(Duration::from_secs(3601));
    let (status, body) = get(
        "/access_token",
        &[("grant_type", "th_exchange_token"), ("client_secret", &secret), ("access_token", &short)],
    );
    assert_eq!(status, 400);
    assert!(body.contains(r#""code":190"#), "{body}");
}

// ---------------------------------------------------------------- doctor

const POST: &str = "---\nplatforms: [threads]\n---\n\nHello from crier.\n";

/// A content repository with a due Threads post, committed; `origin` when asked.
fn repo(w: &World, with_origin: bool) -> Option<tempfile::TempDir> {
    w.file("crier.yaml", "publish:\n  request_timeout_secs: 5\n  max_retry_wait_secs: 1\n");
    w.file("content/hello.md", POST);
    if with_origin {
        return Some(common::push_to_new_origin(w.root()));
    }
    common::commit_all(w.root());
    None
}

#[test]
fn doctor_green() {
    let w = World::new();
    let _origin = repo(&w, true);
    let devto = w.rt.block_on(fake_devto::FakeDevto::start(fake_devto::FakeConfig {
        api_key: "devto-secret-key-123".into(),
        username: "devto_tester".into(),
        ..fake_devto::FakeConfig::default()
    }));
    let devto_url = devto.base_url();
    let token = w.fake.token();
    let run = w.run(
        &["doctor"],
        &[
            ("THREADS_ACCESS_TOKEN", &token),
            ("THREADS_TOKEN_EXPIRES_AT", "2026-12-01T10:00:00Z"),
            ("GITHUB_ACTIONS", "true"),
            ("DEVTO_API_KEY", "devto-secret-key-123"),
            ("CRIER_DEVTO_API_URL", &devto_url),
        ],
        false,
    );
    run.code(0)
        .stdout_has("crier.yaml loaded")
        .stdout_has("1 post in `content`: 0 errors, 0 warnings")
        .stdout_has("token accepted: @crier_tester")
        .stdout_has("permissions: every one crier uses")
        .stdout_has("publishing quota: 0 of 250")
        .stdout_has("API key accepted: @devto_tester")
        .stdout_has("push access to `origin`")
        .stdout_has("::warning title=Threads token expires soon::")
        .stdout_has("the token expires in 3 days")
        .stdout_has("Publishing would work");
    assert!(!run.stdout.contains("devto-secret-key-123"), "{run}");
}

#[test]
fn doctor_after_auth_knows_the_expiry() {
    let w = World::new();
    let _origin = repo(&w, true);
    w.authorize_into_env();
    w.run(&["doctor"], &[], false).code(0).stdout_has("the token expires on 2027-01-27").stdout_has("(in 60 days)");
}

#[test]
fn doctor_red_bad_token() {
    let w = World::new();
    let _origin = repo(&w, true);
    let run = w.run(&["doctor"], &[("THREADS_ACCESS_TOKEN", "THbogusToken0000000000000000")], false);
    run.code(1)
        .stdout_has("rejected the access token")
        .stdout_has("fix: get a new token with `crier auth threads")
        .stdout_has("token expiry: unknown")
        .stdout_has("Publishing would not work");
    assert!(!run.stdout.contains("THbogusToken0000000000000000") && !run.stderr.contains("THbogusToken"), "{run}");
}

#[test]
fn doctor_red_missing_token() {
    let w = World::new();
    let _origin = repo(&w, true);
    w.run(&["doctor"], &[], false)
        .code(1)
        .stdout_has("THREADS_ACCESS_TOKEN is not set, and 1 post is waiting for Threads")
        .stdout_has("crier auth threads --write-env .env");
}

#[test]
fn doctor_red_no_git_remote() {
    let w = World::new();
    repo(&w, false);
    let token = w.fake.token();
    w.run(&["doctor"], &[("THREADS_ACCESS_TOKEN", &token)], false)
        .code(1)
        .stdout_has("token accepted")
        .stdout_has("branch `main` has no remote")
        .stdout_has("git remote add origin");
}

#[test]
fn doctor_broken_config_exits_2() {
    let w = World::new();
    w.file("crier.yaml", "publish:\n  max_per_run: lots\n");
    w.run(&["doctor"], &[], false).code(2).stdout_has("invalid configuration");
}

// ---------------------------------------------------------------- permissions

/// A token for `scopes` through `auth threads --code` into `.env`.
fn token_with(w: &World, scopes: &str) -> String {
    let code = w.fake.authorize(REDIRECT, scopes).expect("authorize");
    w.auth(&["threads", "--code", &code, "--write-env", ".env"], &[("THREADS_REDIRECT_URI", REDIRECT)]).code(0);
    w.read(".env").lines().find_map(|l| l.strip_prefix("THREADS_ACCESS_TOKEN=")).expect("token").to_owned()
}

#[test]
fn doctor_names_the_permissions_a_token_lacks() {
    let cases = [
        // (granted, marks, what doctor says, whether publishing would work)
        (SCOPES, "permissions: every one crier uses", None, true),
        (
            "threads_basic,threads_content_publish,threads_manage_replies,threads_delete",
            "the token lacks the permissions threads_read_replies (for reading replies",
            Some("threads_manage_insights (for `crier stats`)"),
            true,
        ),
        ("threads_basic", "the token lacks the permissions threads_content_publish (for publishing)", None, false),
    ];
    for (granted, says, also, works) in cases {
        let w = World::new();
        let _origin = repo(&w, true);
        token_with(&w, granted);
        let run = w.run(&["doctor"], &[], false);
        run.code(if works { 0 } else { 1 }).stdout_has(says);
        if let Some(more) = also {
            run.stdout_has(more);
        }
        if granted != SCOPES {
            run.stdout_has("run `crier auth threads --write-env .env`: it asks for every permission crier uses");
        }
    }
}

#[test]
fn fake_refuses_reply_reads_without_threads_read_replies() {
    let w = World::new();
    let http = reqwest::Client::new();
    let base = w.fake.base_url();
    let get = |path: &str, token: &str| {
        let req = http.get(format!("{base}{path}")).query(&[("access_token", token), ("fields", "id,text")]);
        w.rt.block_on(async {
            let r = req.send().await.expect("send");
            (r.status().as_u16(), r.text().await.expect("body"))
        })
    };
    let full = token_with(&w, SCOPES);
    let without = token_with(&w, "threads_basic,threads_content_publish,threads_manage_replies");
    let post = w.fake.seed_foreign_post("17841400000000777", "someone", "a post with replies");
    for path in ["/v1.0/me/replies".to_owned(), format!("/v1.0/{post}/conversation"), format!("/v1.0/{post}/replies")] {
        let (status, body) = get(&path, &full);
        assert_eq!(status, 200, "{path}: {body}");
        let (status, body) = get(&path, &without);
        assert_eq!(status, 400, "{path}: {body}");
        let v: serde_json::Value = serde_json::from_str(&body).expect("json");
        assert_eq!(v["error"]["code"], 10, "{body}");
        assert_eq!(v["error"]["type"], "OAuthException", "{body}");
        assert!(v["error"]["fbtrace_id"].is_string(), "Meta's error shape: {body}");
    }
    // What the token debugger says of each.
    let (status, body) = get(&format!("/v1.0/debug_token?input_token={without}"), &without);
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains(r#""scopes":["threads_basic","threads_content_publish","threads_manage_replies"]"#),
        "{body}"
    );
}

// ---------------------------------------------------------------- auth PLATFORM

#[test]
fn platforms_without_a_sign_in_say_what_to_do_instead() {
    let w = World::new();
    let cases = [
        (vec!["devto"], "dev.to has no sign-in in crier; instead, create an API key"),
        (vec!["bluesky"], "BLUESKY_APP_PASSWORD"),
        (vec!["mastdon"], "unknown platform `mastdon`: did you mean `mastodon`?"),
        (vec!["refresh", "devto"], "crier renews no dev.to credentials"),
        (vec!["threads", "--instance", "x"], "unexpected argument '--instance'"),
    ];
    for (args, says) in cases {
        w.auth(&args, &[]).code(2).stderr_has(says);
    }
    w.auth(&["--help"], &[]).code(0).stdout_has("Platforms with a sign-in: threads, mastodon, linkedin, x.");
    w.auth(&["mastodon", "--help"], &[])
        .code(0)
        .stdout_has("Register crier on a Mastodon server")
        .stdout_has("crier auth mastodon")
        .stdout_has("--instance <URL>")
        .stdout_has("--oob")
        .stdout_has("--write-env <FILE>");
}

// ---------------------------------------------------------------- auth mastodon

const MASTODON_SCOPES: &str = "write:statuses write:media read:accounts read:statuses";

#[test]
fn mastodon_sign_in_through_the_redirect_to_this_machine() {
    let w = World::new();
    w.file(".env", "# mine\nDEVTO_API_KEY=kept\n");
    let instance = w.mastodon.base_url();
    let waiting = w.spawn_until(
        &["auth", "mastodon", "--instance", &instance, "--write-env", ".env", "--timeout", "60"],
        &[],
        &format!("{instance}/oauth/authorize?"),
    );
    assert_eq!(waiting.query("scope"), MASTODON_SCOPES);
    assert_eq!(w.mastodon.apps(), 1, "crier registered itself");
    let redirect = waiting.query("redirect_uri");
    let port = url::Url::parse(&redirect).expect("redirect").port().expect("port");
    let location = w.mastodon.approve(waiting.url.as_str()).expect("approve");
    let target = location.strip_prefix(&format!("http://127.0.0.1:{port}")).expect("to this machine");
    assert_eq!(browser_get(port, target), 200);

    let run = waiting.finish(&w);
    run.code(0).stderr_has("Authorized @crier_tester on 127.0.0.1").stderr_has("does not expire");
    assert!(run.stdout.is_empty(), "with --write-env the token goes into the file only\n{run}");
    let env = w.read(".env");
    assert!(env.starts_with("# mine\nDEVTO_API_KEY=kept\n"), "{env}");
    assert!(env.contains(&format!("\nMASTODON_INSTANCE={instance}\n")), "{env}");
    let token = env.lines().find_map(|l| l.strip_prefix("MASTODON_ACCESS_TOKEN=")).expect("token").to_owned();
    assert_eq!(w.mastodon.token_scopes(&token).expect("a token the server issued").join(" "), MASTODON_SCOPES);

    // It publishes with what it wrote (`.env` is read by the next run).
    w.run(&["auth", "refresh", "mastodon"], &[], false).code(0).stderr_has("do not expire");
}

#[test]
fn mastodon_out_of_band_code_is_pasted() {
    let w = World::new();
    let instance = w.mastodon.base_url();
    let authorize = format!("{instance}/oauth/authorize?");
    let mut waiting = w.spawn_until(&["auth", "mastodon", "--oob"], &[("MASTODON_INSTANCE", &instance)], &authorize);
    assert_eq!(waiting.query("redirect_uri"), "urn:ietf:wg:oauth:2.0:oob");
    let code = w.mastodon.approve(waiting.url.as_str()).expect("approve");
    waiting.paste(&code);
    let run = waiting.finish(&w);
    run.code(0).stdout_has(&format!("MASTODON_INSTANCE={instance}\n")).stderr_has("paste the authorization code");
    let token = run.value("MASTODON_ACCESS_TOKEN").expect("token line");
    assert!(w.mastodon.token_scopes(&token).is_some(), "{run}");
    assert!(!run.stderr.contains(&code), "{run}");

    // A code works once.
    let mut again = w.spawn_until(&["auth", "mastodon", "--oob"], &[("MASTODON_INSTANCE", &instance)], &authorize);
    again.paste(&code);
    let run = again.finish(&w);
    run.code(2).stderr_has("invalid_grant").stderr_has("run `crier auth mastodon` again");
    assert!(run.stdout.is_empty(), "{run}");
}

#[test]
fn mastodon_sign_in_needs_a_server() {
    let w = World::new();
    w.auth(&["mastodon"], &[]).code(2).stderr_has("pass --instance");
    w.auth(&["mastodon", "--instance", "http://127.0.0.1:9", "--oob"], &[])
        .code(2)
        .stderr_has("registering crier on 127.0.0.1 failed: could not reach Mastodon");
}

#[test]
fn fake_mastodon_sign_in_endpoints_follow_the_api() {
    let w = World::new();
    let base = w.mastodon.base_url();
    let http = reqwest::Client::new();
    let post = |path: &str, form: &[(&str, &str)]| {
        let req = http.post(format!("{base}{path}")).form(form);
        w.rt.block_on(async {
            let r = req.send().await.expect("send");
            let status = r.status().as_u16();
            (status, serde_json::from_str::<serde_json::Value>(&r.text().await.expect("body")).expect("json"))
        })
    };
    let redirect = "http://127.0.0.1:9/cb";
    let (status, v) = post("/api/v1/apps", &[("client_name", "crier"), ("scopes", MASTODON_SCOPES)]);
    assert_eq!((status, v["error"].as_str()), (422, Some("Validation failed: Redirect URI can't be blank")));
    let (status, app) =
        post("/api/v1/apps", &[("client_name", "crier"), ("redirect_uris", redirect), ("scopes", MASTODON_SCOPES)]);
    assert_eq!(status, 200, "{app}");
    let (id, secret) = (app["client_id"].as_str().expect("id"), app["client_secret"].as_str().expect("secret"));
    let authorize = |uri: &str, scope: &str| {
        w.mastodon.approve(&format!(
            "{base}/oauth/authorize?client_id={id}&redirect_uri={}&response_type=code&scope={}",
            url::form_urlencoded::byte_serialize(uri.as_bytes()).collect::<String>(),
            url::form_urlencoded::byte_serialize(scope.as_bytes()).collect::<String>()
        ))
    };
    assert_eq!(authorize("http://127.0.0.1:8/cb", MASTODON_SCOPES).unwrap_err(), "invalid_redirect_uri");
    assert_eq!(authorize(redirect, "read write").unwrap_err(), "invalid_scope");
    let location = authorize(redirect, MASTODON_SCOPES).expect("approved");
    let code = location.split("code=").nth(1).expect("code").to_owned();
    let token = |secret: &str, uri: &str| {
        post(
            "/oauth/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", id),
                ("client_secret", secret),
                ("redirect_uri", uri),
            ],
        )
    };
    let (status, v) = token("wrong", redirect);
    assert_eq!((status, v["error"].as_str()), (401, Some("invalid_client")));
    let (status, v) = token(secret, "http://127.0.0.1:9/other");
    assert_eq!((status, v["error"].as_str()), (400, Some("invalid_grant")));
    let (status, v) = token(secret, redirect);
    assert_eq!((status, v["scope"].as_str()), (200, Some(MASTODON_SCOPES)), "{v}");
    let (status, v) = token(secret, redirect);
    assert_eq!((status, v["error"].as_str()), (400, Some("invalid_grant")), "a code works once");
}
