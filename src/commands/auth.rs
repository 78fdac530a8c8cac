//! `crier auth threads` (authorize, exchange the code, get a long-lived token) and
//! `crier auth refresh` (a new 60-day token). The only commands that output a secret: the
//! credentials go to stdout or into the `.env` file the user names, nowhere else.

use std::io::{BufRead as _, IsTerminal as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use secrecy::{ExposeSecret, SecretString};

use super::check::print;
use super::{Global, Outcome};
use crate::auth::{self, AuthError, KEY_EXPIRES_AT, KEY_TOKEN, KEY_USER_ID, KEY_USERNAME, OAuthClient, RefreshProblem};
use crate::cli::{AuthArgs, AuthCommand, AuthRefreshArgs, AuthThreadsArgs};
use crate::error::{Error, Result};
use crate::platforms::threads::api::{DEFAULT_BASE_URL, HttpOptions, ThreadsClient};

const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

pub fn execute(g: &Global, args: &AuthArgs) -> Result<Outcome> {
    match &args.command {
        AuthCommand::Threads(a) => threads(g, a),
        AuthCommand::Refresh(a) => refresh(g, a),
    }
}

fn info(g: &Global, msg: &str) {
    if !g.quiet {
        eprintln!("{msg}");
    }
}

fn required<'a>(g: &'a Global, key: &str, what: &str) -> Result<&'a str> {
    g.env.get(key).ok_or_else(|| Error::Env {
        message: format!(
            "{key} is not set: {what} (in the environment or in .env; see \"Getting a Threads token\" in the README)"
        ),
    })
}

fn base_url(g: &Global) -> String {
    g.env.get("CRIER_THREADS_API_URL").unwrap_or(DEFAULT_BASE_URL).to_owned()
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the network runtime", e))
}

fn env_error(message: String) -> Error {
    Error::Env { message }
}

fn date(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn resolve(g: &Global, p: &Path) -> PathBuf {
    if p.is_absolute() { p.to_path_buf() } else { g.root.join(p) }
}

// ---------------------------------------------------------------------------
// auth threads

fn threads(g: &Global, args: &AuthThreadsArgs) -> Result<Outcome> {
    let app_id = required(g, "THREADS_APP_ID", "the Threads App ID (App Dashboard > App settings > Basic)")?;
    let app_secret = SecretString::from(
        required(g, "THREADS_APP_SECRET", "the Threads App secret (App Dashboard > App settings > Basic)")?.to_owned(),
    );
    let mut redirect_uri = match args.redirect_uri.as_deref().filter(|s| !s.is_empty()) {
        Some(r) => r.to_owned(),
        None => required(
            g,
            "THREADS_REDIRECT_URI",
            "the redirect URI registered for the app (Use cases > Threads API > Settings), or pass --redirect-uri",
        )?
        .to_owned(),
    };
    if url::Url::parse(&redirect_uri).is_err() {
        return Err(Error::usage(format!("the redirect URI `{redirect_uri}` is not an absolute URL")));
    }
    let now = g.env.now()?;
    let rt = runtime()?;
    let state = auth::random_state();

    let code = if let Some(input) = &args.code {
        auth::parse_code_input(input).map_err(|e| env_error(e.to_string()))?.code
    } else if let Some(lb) = auth::loopback(&redirect_uri) {
        let listener = rt
            .block_on(tokio::net::TcpListener::bind((lb.bind.as_str(), lb.port)))
            .map_err(|e| Error::io(format!("cannot listen on {}:{} for the redirect", lb.bind, lb.port), e))?;
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(lb.port);
        if lb.port == 0 {
            redirect_uri = auth::with_port(&redirect_uri, port);
        }
        let url = auth::authorize_url(app_id, &redirect_uri, &state);
        eprintln!("Open this URL in a browser, log in to Threads and allow crier:\n\n  {url}\n");
        eprintln!("Waiting for the redirect to {redirect_uri} (port {port}; Ctrl-C to stop)…");
        let timeout = Duration::from_secs(args.timeout.max(1));
        rt.block_on(auth::receive_redirect(listener, &lb.path, &state, timeout, || {
            eprintln!(
                "warning: ignored a redirect whose `state` does not match this run (open the URL printed above, not an older one)"
            );
        }))
        .map_err(|e| env_error(e.to_string()))?
    } else {
        let url = auth::authorize_url(app_id, &redirect_uri, &state);
        eprintln!("Open this URL in a browser, log in to Threads and allow crier:\n\n  {url}\n");
        if !std::io::stdin().is_terminal() {
            eprintln!(
                "Threads then sends the browser to {redirect_uri}?code=…#_. Copy that whole URL from the address bar and run:\n\n  crier auth threads --code '<the URL>'\n\n(The code is valid for 1 hour and works once.)"
            );
            return Ok(Outcome::Success);
        }
        eprintln!("Then paste the URL the browser was sent to (it starts with {redirect_uri}?code=):");
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(|e| Error::io("cannot read the pasted URL", e))?;
        let input = auth::parse_code_input(&line).map_err(|e| env_error(e.to_string()))?;
        if input.state.as_deref().is_some_and(|s| s != state) {
            return Err(env_error(
                "the pasted URL's `state` does not match this run; open the URL printed above (not an older one) and paste its redirect".into(),
            ));
        }
        input.code
    };

    let client = OAuthClient::new(&base_url(g), REQUEST_TIMEOUT).map_err(|e| Error::usage(e.to_string()))?;
    let short = rt.block_on(client.exchange_code(app_id, &app_secret, &code, &redirect_uri)).map_err(|e| {
        env_error(match &e {
            AuthError::Rejected { .. } => format!(
                "exchanging the code failed: {e}. A code works once and for 1 hour, and the redirect URI must be exactly the one used to authorize (`{redirect_uri}`); run `crier auth threads` again"
            ),
            _ => format!("exchanging the code failed: {e}"),
        })
    })?;
    let long = rt
        .block_on(client.long_lived(&app_secret, &short.access_token))
        .map_err(|e| env_error(format!("getting a long-lived token failed: {e}")))?;
    let expires_at = long.expires_at(now);

    let threads = ThreadsClient::new(
        &base_url(g),
        long.access_token.clone(),
        HttpOptions {
            max_total_wait: Duration::from_secs(10),
            initial_delay: Duration::from_millis(500),
            request_timeout: REQUEST_TIMEOUT,
        },
    );
    let (user_id, username) = match rt.block_on(threads.me()) {
        Ok(me) => (me.id, Some(me.username).filter(|u| !u.is_empty())),
        Err(e) => {
            eprintln!("warning: could not read the profile (`/me`): {e}; THREADS_USERNAME is left out");
            (short.user_id.clone(), None)
        }
    };

    let token = long.access_token.expose_secret();
    let expiry = date(expires_at);
    let mut pairs: Vec<(&str, &str)> = vec![(KEY_TOKEN, token), (KEY_USER_ID, &user_id)];
    if let Some(u) = &username {
        pairs.push((KEY_USERNAME, u));
    }
    pairs.push((KEY_EXPIRES_AT, &expiry));

    let who = username.as_deref().map(|u| format!("@{u} (user id {user_id})")).unwrap_or(format!("user id {user_id}"));
    if let Some(file) = &args.write_env {
        let path = resolve(g, file);
        write_env(g, &path, &pairs)?;
        info(g, &format!("Authorized {who}. Wrote {} to {}.", keys(&pairs), path.display()));
    } else {
        let mut out = String::new();
        for (k, v) in &pairs {
            out.push_str(&format!("{k}={v}\n"));
        }
        print(&out);
        info(g, &format!("Authorized {who}. Put these lines in .env or in your CI secrets (or use --write-env .env)."));
    }
    info(
        g,
        &format!(
            "The token expires on {} (60 days). Refresh it before then with `crier auth refresh` (it must be at least 24 hours old).",
            expires_at.format("%Y-%m-%d %H:%M UTC")
        ),
    );
    Ok(Outcome::Success)
}

fn keys(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
}

fn write_env(g: &Global, path: &Path, pairs: &[(&str, &str)]) -> Result<()> {
    let w =
        auth::update_env_file(path, pairs).map_err(|e| Error::io(format!("cannot write `{}`", path.display()), e))?;
    if let Some(mode) = w.readable_by_others {
        eprintln!(
            "warning: `{}` holds secrets but other users can read it (mode {mode:o}); run `chmod 600 {}`",
            path.display(),
            path.display()
        );
    }
    if w.created {
        info(g, &format!("Created `{}` (mode 600).", path.display()));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// auth refresh

fn refresh(g: &Global, args: &AuthRefreshArgs) -> Result<Outcome> {
    let token = SecretString::from(
        required(g, KEY_TOKEN, "the long-lived token to refresh (get one with `crier auth threads`)")?.to_owned(),
    );
    let now = g.env.now()?;
    let recorded_expiry =
        g.env.get(KEY_EXPIRES_AT).and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|t| t.to_utc());
    let rt = runtime()?;
    let client = OAuthClient::new(&base_url(g), REQUEST_TIMEOUT).map_err(|e| Error::usage(e.to_string()))?;
    let long = rt.block_on(client.refresh(&token)).map_err(|e| env_error(explain_refresh(&e, recorded_expiry, now)))?;
    let expires_at = long.expires_at(now);
    let expiry = date(expires_at);
    let new_token = long.access_token.expose_secret();
    let pairs = [(KEY_TOKEN, new_token), (KEY_EXPIRES_AT, expiry.as_str())];

    if args.print_token {
        print(&format!("{new_token}\n"));
        if let Some(file) = &args.write_env {
            write_env(g, &resolve(g, file), &pairs)?;
        }
    } else {
        let path = resolve(g, args.write_env.as_deref().unwrap_or(Path::new(".env")));
        write_env(g, &path, &pairs)?;
        info(g, &format!("Wrote the new {KEY_TOKEN} and {KEY_EXPIRES_AT} to {}.", path.display()));
        if std::env::var_os(KEY_TOKEN).is_some_and(|v| !v.is_empty()) {
            eprintln!(
                "warning: {KEY_TOKEN} is also set in the environment, which wins over .env; update it there too (the old token keeps working until it expires)"
            );
        }
    }
    info(
        g,
        &format!("Refreshed the Threads token; the new one expires on {}.", expires_at.format("%Y-%m-%d %H:%M UTC")),
    );
    Ok(Outcome::Success)
}

fn explain_refresh(e: &AuthError, recorded_expiry: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    if !matches!(e, AuthError::Rejected { .. }) {
        return format!("refreshing the token failed: {e}");
    }
    match auth::refresh_problem(e, recorded_expiry, now) {
        RefreshProblem::TooEarly => {
            let when = recorded_expiry
                .map(|at| at - auth::LONG_LIVED + chrono::TimeDelta::hours(24))
                .filter(|t| *t > now)
                .map(|t| format!(" after {}", t.format("%Y-%m-%d %H:%M UTC")))
                .unwrap_or_else(|| " tomorrow".to_owned());
            format!(
                "the token cannot be refreshed yet: Threads refreshes a long-lived token only once it is at least 24 hours old ({e}). Nothing is wrong: the current token keeps working; run `crier auth refresh` again{when}"
            )
        }
        RefreshProblem::Expired => format!(
            "the token has expired (or was revoked), and an expired token cannot be refreshed ({e}). Get a new one with `crier auth threads` (see \"Getting a Threads token\" in the README) and update THREADS_ACCESS_TOKEN wherever it is stored (.env, CI secrets); refreshing at least every few weeks (the refresh workflow does it weekly) keeps it from expiring"
        ),
        RefreshProblem::Other => format!(
            "refreshing the token failed: {e}. A long-lived token can be refreshed when it is at least 24 hours old and has not expired (60 days); a short-lived token or one from another app cannot. If it was issued less than a day ago, try again tomorrow; otherwise get a new one with `crier auth threads`"
        ),
    }
}
