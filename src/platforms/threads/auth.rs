//! Threads sign-in for `crier auth threads` and `crier auth refresh`: the authorize URL
//! and permissions, the token endpoints (code → short-lived token → long-lived token,
//! refresh) and their error bodies. The flow's shared pieces are in
//! [`crate::platforms::oauth`].
//!
//! Token endpoints live at the API root (`/oauth/access_token`, `/access_token`,
//! `/refresh_access_token`), not under `/v1.0/`. Their errors come either in the flat OAuth
//! shape `{"error_type","code","error_message"}` or in the Graph envelope `{"error":{…}}`;
//! both are read into [`OAuthError::Rejected`].

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::api::{DEFAULT_BASE_URL, HttpOptions, ThreadsClient};
use crate::error::{Error, Result};
use crate::platforms::http::Redactor;
use crate::platforms::oauth::{self, Credentials, OAuthError, Renewal, SignInContext, TokenClient};

/// Where the user approves the app (Meta's docs; not configurable by the API base URL).
pub(super) const AUTHORIZE_URL: &str = "https://threads.net/oauth/authorize";

/// The permissions crier asks for, and what each is for (said when a token lacks one).
pub(super) const PERMISSIONS: &[(&str, &str)] = &[
    ("threads_basic", "every call"),
    ("threads_content_publish", "publishing"),
    ("threads_manage_replies", "replying in its own chains"),
    ("threads_read_replies", "reading replies: resuming a chain, adopting, settling a reply whose answer was lost"),
    ("threads_delete", "`crier delete`"),
    ("threads_manage_insights", "`crier stats`"),
];

/// `.env` keys `crier auth threads` writes.
pub(super) const KEY_TOKEN: &str = "THREADS_ACCESS_TOKEN";
pub(super) const KEY_USER_ID: &str = "THREADS_USER_ID";
pub(super) const KEY_USERNAME: &str = "THREADS_USERNAME";
pub(super) const KEY_EXPIRES_AT: &str = "THREADS_TOKEN_EXPIRES_AT";

/// Long-lived tokens last 60 days; one refreshed less than a day ago cannot be refreshed.
pub(super) const LONG_LIVED: chrono::TimeDelta = chrono::TimeDelta::days(60);

const SERVICE: &str = "Threads";
const HOW_TO: &str = "see \"Getting a Threads token\" in the README";

/// The comma-separated `scope` of the authorize URL.
pub(super) fn scopes() -> String {
    PERMISSIONS.iter().map(|(p, _)| *p).collect::<Vec<_>>().join(",")
}

/// `https://threads.net/oauth/authorize?client_id=…&redirect_uri=…&scope=…&response_type=code&state=…`.
pub(super) fn authorize_url(app_id: &str, redirect_uri: &str, state: &str) -> String {
    format!(
        "{AUTHORIZE_URL}?client_id={}&redirect_uri={}&scope={}&response_type=code&state={}",
        oauth::encode(app_id),
        oauth::encode(redirect_uri),
        scopes(),
        oauth::encode(state)
    )
}

/// The flags of `crier auth threads`.
#[derive(Debug, clap::Args)]
struct ThreadsArgs {
    /// The authorization code, or the whole URL you were redirected to (a trailing `#_` is dropped).
    #[arg(long, value_name = "CODE_OR_URL")]
    code: Option<String>,

    /// The redirect URI registered for the app (default: `THREADS_REDIRECT_URI`).
    #[arg(long, value_name = "URI")]
    redirect_uri: Option<String>,
}

oauth::sign_in!(
    ThreadsSignIn,
    ThreadsArgs,
    "threads",
    "Authorize crier with Threads and get a long-lived (60-day) access token.",
    sign_in,
    refresh,
);

fn env_error(message: String) -> Error {
    Error::Env { message }
}

fn token_client(cx: &SignInContext<'_>) -> std::result::Result<TokenClient, OAuthError> {
    let base = cx.env.get("CRIER_THREADS_API_URL").unwrap_or(DEFAULT_BASE_URL);
    TokenClient::new(SERVICE, base, "CRIER_THREADS_API_URL", oauth::REQUEST_TIMEOUT, read_error)
}

fn date(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

// ---------------------------------------------------------------------------
// auth threads

async fn sign_in(cx: &SignInContext<'_>, args: &ThreadsArgs) -> Result<Option<Credentials>> {
    let dashboard = "App Dashboard > App settings > Basic";
    let keys = [
        ("THREADS_APP_ID", format!("the Threads App ID ({dashboard}; {HOW_TO})")),
        ("THREADS_APP_SECRET", format!("the Threads App secret ({dashboard}; {HOW_TO})")),
        (
            "THREADS_REDIRECT_URI",
            format!(
                "the redirect URI registered for the app (Use cases > Threads API > Settings), or pass --redirect-uri ({HOW_TO})"
            ),
        ),
    ];
    let oauth::App { id: app_id, secret: app_secret, redirect_uri } = cx.app(keys, args.redirect_uri.as_deref())?;
    let flow = oauth::CodeFlow { service: SERVICE, again: "crier auth threads", lifetime: "1 hour" };
    let authorize = |redirect: &str, state: &str| authorize_url(&app_id, redirect, state);
    let Some((code, redirect_uri)) =
        oauth::authorization_code(cx, &flow, args.code.as_deref(), &redirect_uri, &authorize).await?
    else {
        return Ok(None);
    };

    let client = token_client(cx).map_err(|e| Error::usage(e.to_string()))?;
    let short = exchange_code(&client, &app_id, &app_secret, &code, &redirect_uri).await.map_err(|e| {
        env_error(match &e {
            OAuthError::Rejected { .. } => format!(
                "exchanging the code failed: {e}. A code works once and for 1 hour, and the redirect URI must be exactly the one used to authorize (`{redirect_uri}`); run `crier auth threads` again"
            ),
            _ => format!("exchanging the code failed: {e}"),
        })
    })?;
    let long = long_lived(&client, &app_secret, &short.access_token)
        .await
        .map_err(|e| env_error(format!("getting a long-lived token failed: {e}")))?;
    let expires_at = long.expires_at(cx.now);

    let threads = ThreadsClient::new(
        client.base().as_str(),
        long.access_token.clone(),
        HttpOptions { initial_delay: Duration::from_millis(500), ..oauth::check_options() },
    );
    let (user_id, username) = match threads.me().await {
        Ok(me) => (me.id, Some(me.username).filter(|u| !u.is_empty())),
        Err(e) => {
            eprintln!("warning: could not read the profile (`/me`): {e}; THREADS_USERNAME is left out");
            (short.user_id.clone(), None)
        }
    };

    let mut vars = vec![(KEY_TOKEN, long.access_token.expose_secret().to_owned()), (KEY_USER_ID, user_id.clone())];
    if let Some(u) = &username {
        vars.push((KEY_USERNAME, u.clone()));
    }
    vars.push((KEY_EXPIRES_AT, date(expires_at)));
    let account = username.map(|u| format!("@{u} (user id {user_id})")).unwrap_or(format!("user id {user_id}"));
    Ok(Some(Credentials {
        vars,
        account,
        notes: vec![format!(
            "The token expires on {} (60 days). Refresh it before then with `crier auth refresh` (it must be at least 24 hours old).",
            expires_at.format("%Y-%m-%d %H:%M UTC")
        )],
    }))
}

// ---------------------------------------------------------------------------
// auth refresh

async fn refresh(cx: &SignInContext<'_>) -> Renewal {
    let Some(token) = cx.env.get(KEY_TOKEN) else {
        return Renewal::NotSet(format!(
            "{KEY_TOKEN} is not set: the long-lived token to refresh (get one with `crier auth threads`; {HOW_TO})"
        ));
    };
    let token = SecretString::from(token.to_owned());
    let recorded_expiry =
        cx.env.get(KEY_EXPIRES_AT).and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|t| t.to_utc());
    let client = match token_client(cx) {
        Ok(c) => c,
        Err(e) => return Renewal::Failed(e.to_string()),
    };
    match refresh_token(&client, &token).await {
        Ok(long) => {
            let expires_at = long.expires_at(cx.now);
            Renewal::Renewed {
                vars: vec![
                    (KEY_TOKEN, long.access_token.expose_secret().to_owned()),
                    (KEY_EXPIRES_AT, date(expires_at)),
                ],
                token_var: KEY_TOKEN,
                note: format!(
                    "Refreshed the Threads token; the new one expires on {}.",
                    expires_at.format("%Y-%m-%d %H:%M UTC")
                ),
            }
        }
        Err(e) => Renewal::Failed(explain_refresh(&e, recorded_expiry, cx.now)),
    }
}

fn explain_refresh(e: &OAuthError, recorded_expiry: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    if !matches!(e, OAuthError::Rejected { .. }) {
        return format!("refreshing the token failed: {e}");
    }
    match refresh_problem(e, recorded_expiry, now) {
        RefreshProblem::TooEarly => {
            let when = recorded_expiry
                .map(|at| at - LONG_LIVED + chrono::TimeDelta::hours(24))
                .filter(|t| *t > now)
                .map(|t| format!(" after {}", t.format("%Y-%m-%d %H:%M UTC")))
                .unwrap_or_else(|| " tomorrow".to_owned());
            format!(
                "the token cannot be refreshed yet: Threads refreshes a long-lived token only once it is at least 24 hours old ({e}). Nothing is wrong: the current token keeps working; run `crier auth refresh` again{when}"
            )
        }
        RefreshProblem::Expired => format!(
            "the token has expired (or was revoked), and an expired token cannot be refreshed ({e}). Authorize again now with `crier auth threads` ({HOW_TO}) and update {KEY_TOKEN} wherever it is stored (.env, CI secrets); refreshing at least every few weeks (the refresh workflow does it weekly) keeps it from expiring"
        ),
        RefreshProblem::Other => format!(
            "refreshing the token failed: {e}. A long-lived token can be refreshed when it is at least 24 hours old and has not expired (60 days); a short-lived token or one from another app cannot. If it was issued less than a day ago, try again tomorrow; otherwise get a new one with `crier auth threads`"
        ),
    }
}

// ---------------------------------------------------------------------------
// Token endpoints

/// The short-lived token and the user it belongs to.
struct ShortLived {
    access_token: SecretString,
    /// Exactly as sent (the API sends a JSON number above 2^53, or a string).
    user_id: String,
}

/// A long-lived token (from the exchange or a refresh).
struct LongLived {
    access_token: SecretString,
    /// Seconds until expiry (60 days when the API omits it).
    expires_in: u64,
}

impl LongLived {
    fn expires_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + chrono::TimeDelta::seconds(
            i64::try_from(self.expires_in).unwrap_or(i64::MAX / 1000).min(10 * 365 * 86_400),
        )
    }
}

/// `POST /oauth/access_token` (form body): code → short-lived token and user id.
async fn exchange_code(
    client: &TokenClient,
    app_id: &str,
    app_secret: &SecretString,
    code: &str,
    redirect_uri: &str,
) -> std::result::Result<ShortLived, OAuthError> {
    let form = [
        ("client_id", app_id),
        ("client_secret", app_secret.expose_secret()),
        ("code", code),
        ("grant_type", "authorization_code"),
        ("redirect_uri", redirect_uri),
    ];
    let req = client.post("oauth/access_token").form(&form);
    let (v, raw) = client.send(req, &[app_secret.expose_secret(), code]).await?;
    let access_token = SecretString::from(client.field(&v, "access_token")?);
    let user_id = json_id(&v, &raw, "user_id").ok_or_else(|| OAuthError::BadResponse {
        service: SERVICE,
        status: 200,
        detail: "the token reply has no `user_id`".into(),
    })?;
    Ok(ShortLived { access_token, user_id })
}

/// `GET /access_token?grant_type=th_exchange_token`: short-lived → long-lived (60 days).
async fn long_lived(
    client: &TokenClient,
    app_secret: &SecretString,
    short: &SecretString,
) -> std::result::Result<LongLived, OAuthError> {
    let query = [
        ("grant_type", "th_exchange_token"),
        ("client_secret", app_secret.expose_secret()),
        ("access_token", short.expose_secret()),
    ];
    let req = client.get("access_token").query(&query);
    let (v, _) = client.send(req, &[app_secret.expose_secret(), short.expose_secret()]).await?;
    long_lived_of(client, &v)
}

/// `GET /refresh_access_token?grant_type=th_refresh_token`: a new 60-day token.
async fn refresh_token(client: &TokenClient, token: &SecretString) -> std::result::Result<LongLived, OAuthError> {
    let query = [("grant_type", "th_refresh_token"), ("access_token", token.expose_secret())];
    let (v, _) = client.send(client.get("refresh_access_token").query(&query), &[token.expose_secret()]).await?;
    long_lived_of(client, &v)
}

fn long_lived_of(client: &TokenClient, v: &Value) -> std::result::Result<LongLived, OAuthError> {
    let expires_in = match v.get("expires_in") {
        Some(Value::Number(n)) => n.as_u64().or_else(|| n.as_f64().map(|f| f.max(0.0) as u64)),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .unwrap_or(LONG_LIVED.num_seconds() as u64);
    Ok(LongLived { access_token: SecretString::from(client.field(v, "access_token")?), expires_in })
}

/// Reads either Meta shape, flat `{"error_type","code","error_message"}` or
/// `{"error":{…}}`, else the generic OAuth one.
fn read_error(service: &'static str, v: &Value, status: u16, redactor: &Redactor) -> Option<OAuthError> {
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    if let Some(e) = v.get("error").filter(|e| e.is_object()) {
        let mut message = text(e, "message").unwrap_or_else(|| "no message".into());
        if let Some(m) = text(e, "error_user_msg") {
            message.push_str(" — ");
            message.push_str(&m);
        }
        return Some(OAuthError::Rejected {
            service,
            status,
            code: e.get("code").and_then(Value::as_i64),
            subcode: e.get("error_subcode").and_then(Value::as_i64),
            kind: text(e, "type"),
            message: redactor.redact(&message),
        });
    }
    if v.get("error_message").is_some() || v.get("error_type").is_some() {
        return Some(OAuthError::Rejected {
            service,
            status,
            code: v.get("code").and_then(Value::as_i64),
            subcode: None,
            kind: text(v, "error_type"),
            message: redactor.redact(&text(v, "error_message").unwrap_or_else(|| "no message".into())),
        });
    }
    oauth::standard_error(service, v, status, redactor)
}

/// An id sent as a JSON string or number, digit for digit. serde_json (without
/// `arbitrary_precision`) keeps integers up to 2^64 exact; anything it had to read as a
/// float is taken from the raw text instead.
fn json_id(v: &Value, raw: &str, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) if n.is_u64() || n.is_i64() => Some(n.to_string()),
        Value::Number(_) => raw_number(raw, key),
        _ => None,
    }
}

fn raw_number(raw: &str, key: &str) -> Option<String> {
    let needle = format!("\"{key}\"");
    let mut rest = raw;
    while let Some(i) = rest.find(&needle) {
        let after = rest[i + needle.len()..].trim_start();
        if let Some(value) = after.strip_prefix(':') {
            let digits: String = value.trim_start().chars().take_while(char::is_ascii_digit).collect();
            if !digits.is_empty() {
                return Some(digits);
            }
        }
        rest = &rest[i + needle.len()..];
    }
    None
}

// ---------------------------------------------------------------------------
// Why a refresh failed

/// What a failed refresh most likely means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RefreshProblem {
    /// Less than 24 hours old: wait.
    TooEarly,
    /// Expired (or revoked): authorize again.
    Expired,
    /// Something else.
    Other,
}

/// Sorts a refresh failure, from the error and, when `crier auth` recorded it, the expiry.
fn refresh_problem(err: &OAuthError, expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> RefreshProblem {
    if let OAuthError::Rejected { code, subcode, message, .. } = err {
        let m = message.to_ascii_lowercase();
        if ["24 hours", "24h", "too new", "too recent", "not old enough", "too soon", "too early"]
            .iter()
            .any(|w| m.contains(w))
        {
            return RefreshProblem::TooEarly;
        }
        if matches!(subcode, Some(463)) || m.contains("expired") {
            return RefreshProblem::Expired;
        }
        if let Some(at) = expires_at {
            if now >= at {
                return RefreshProblem::Expired;
            }
            if at - now > LONG_LIVED - chrono::TimeDelta::hours(24) {
                return RefreshProblem::TooEarly;
            }
        }
        if *code == Some(190) && (m.contains("session") || m.contains("validating")) {
            return RefreshProblem::Expired;
        }
    }
    RefreshProblem::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_id_above_2_pow_53_survives() {
        let cases = [
            (r#"{"access_token":"THabc","user_id":17841405793187218}"#, "17841405793187218"),
            (r#"{"access_token":"THabc","user_id":"17841405793187218"}"#, "17841405793187218"),
            // Beyond u64: serde_json reads a float, the raw text still has every digit.
            (r#"{"user_id" : 178414057931872180000001}"#, "178414057931872180000001"),
        ];
        for (raw, want) in cases {
            let v: Value = serde_json::from_str(raw).expect("json");
            assert_eq!(json_id(&v, raw, "user_id").as_deref(), Some(want), "{raw}");
        }
    }

    #[test]
    fn both_error_shapes_are_read() {
        let r = Redactor::default();
        let flat: Value = serde_json::from_str(
            r#"{"error_type":"OAuthException","code":400,"error_message":"Matching code was not found or was already used"}"#,
        )
        .expect("json");
        match read_error(SERVICE, &flat, 400, &r) {
            Some(OAuthError::Rejected { code: Some(400), kind: Some(k), message, .. }) => {
                assert_eq!(k, "OAuthException");
                assert!(message.contains("already used"));
            }
            other => panic!("{other:?}"),
        }
        let graph: Value = serde_json::from_str(
            r#"{"error":{"message":"Error validating access token: Session has expired","type":"OAuthException","code":190,"error_subcode":463}}"#,
        )
        .expect("json");
        let e = read_error(SERVICE, &graph, 400, &r).expect("error");
        assert!(matches!(e, OAuthError::Rejected { code: Some(190), subcode: Some(463), .. }));
        assert_eq!(refresh_problem(&e, None, Utc::now()), RefreshProblem::Expired);
    }

    #[test]
    fn authorize_url_asks_for_every_permission_crier_uses() {
        assert_eq!(
            authorize_url("123", "http://localhost:8765/cb", "abc"),
            "https://threads.net/oauth/authorize?client_id=123&redirect_uri=http%3A%2F%2Flocalhost%3A8765%2Fcb&scope=threads_basic,threads_content_publish,threads_manage_replies,threads_read_replies,threads_delete,threads_manage_insights&response_type=code&state=abc"
        );
    }
}
