//! `crier auth linkedin`: LinkedIn's 3-legged authorization-code flow with the scopes
//! `openid profile w_member_social` in one grant (asking for other scopes later would void
//! the earlier tokens), the code read from a redirect to this machine, a pasted URL or
//! `--code`; the code is exchanged at `/oauth/v2/accessToken` and the token checked with
//! `GET /v2/userinfo`. Self-serve apps get no refresh token: the token's end (60 days) is
//! written as LINKEDIN_TOKEN_EXPIRES_AT, and `crier auth refresh` says when to sign in again.

use chrono::{DateTime, SecondsFormat, TimeDelta};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::Value;

use super::api::{DEFAULT_BASE_URL, LinkedinClient, SCOPES};
use super::doctor::{Expiry, KEY_EXPIRES_AT, expiry_warning};
use super::options::DEFAULT_VERSION;
use crate::error::{Error, Result};
use crate::platforms::oauth::{self, Credentials, OAuthError, Renewal, SignInContext, TokenClient};

/// Where LinkedIn's OAuth endpoints are (`CRIER_LINKEDIN_OAUTH_URL` moves them, for tests).
const DEFAULT_OAUTH_URL: &str = "https://www.linkedin.com/oauth/v2";
const KEY_TOKEN: &str = "LINKEDIN_ACCESS_TOKEN";
const SERVICE: &str = "LinkedIn";
const HOW_TO: &str = "see \"LinkedIn\" in the README";
/// A token's life when the reply does not say (`expires_in` is 5184000 s).
const DEFAULT_LIFETIME: TimeDelta = TimeDelta::days(60);

/// The flags of `crier auth linkedin`.
#[derive(Debug, clap::Args)]
struct LinkedinArgs {
    /// The authorization code, or the whole URL you were redirected to.
    #[arg(long, value_name = "CODE_OR_URL")]
    code: Option<String>,

    /// The redirect URI registered for the app (default: `LINKEDIN_REDIRECT_URI`).
    #[arg(long, value_name = "URI")]
    redirect_uri: Option<String>,
}

oauth::sign_in!(
    LinkedinSignIn,
    LinkedinArgs,
    "linkedin",
    "Authorize crier with LinkedIn and get a member access token (valid 60 days).",
    sign_in,
    refresh,
);

async fn refresh(cx: &SignInContext<'_>) -> Renewal {
    if cx.env.get(KEY_TOKEN).is_none() {
        return Renewal::NotSet(format!("{KEY_TOKEN} is not set (get one with `crier auth linkedin`; {HOW_TO})"));
    }
    let again = "LinkedIn gives self-serve apps no refresh token: run `crier auth linkedin` again";
    match expiry_warning(cx.env.get(KEY_EXPIRES_AT), cx.now) {
        Expiry::Fine(date) => Renewal::NotNeeded(format!(
            "The LinkedIn token is valid until {date}; {again} before then (crier warns 14 days ahead)."
        )),
        Expiry::Soon(m) => Renewal::Failed(format!("{m}: {again}")),
        Expiry::Expired(date) => Renewal::Failed(format!("the LinkedIn token expired on {date}: {again}")),
        Expiry::Unknown | Expiry::Unreadable => Renewal::Failed(format!(
            "the LinkedIn token's end is not known ({KEY_EXPIRES_AT}); {again} within 60 days of getting it"
        )),
    }
}

/// `{oauth}/authorization?response_type=code&client_id=…&redirect_uri=…&state=…&scope=…`.
fn authorize_url(oauth_base: &str, client_id: &str, redirect_uri: &str, state: &str) -> String {
    format!(
        "{}/authorization?response_type=code&client_id={}&redirect_uri={}&state={}&scope={}",
        oauth_base.trim_end_matches('/'),
        oauth::encode(client_id),
        oauth::encode(redirect_uri),
        oauth::encode(state),
        // Space-separated, as LinkedIn's examples write them (`%20`).
        SCOPES.split(' ').map(oauth::encode).collect::<Vec<_>>().join("%20")
    )
}

async fn sign_in(cx: &SignInContext<'_>, args: &LinkedinArgs) -> Result<Option<Credentials>> {
    let portal = "Developer Portal > your app > Auth";
    let keys = [
        ("LINKEDIN_CLIENT_ID", format!("the app's Client ID ({portal}; {HOW_TO})")),
        ("LINKEDIN_CLIENT_SECRET", format!("the app's Primary Client Secret ({portal}; {HOW_TO})")),
        (
            "LINKEDIN_REDIRECT_URI",
            format!("a redirect URL registered for the app ({portal}), or pass --redirect-uri ({HOW_TO})"),
        ),
    ];
    let oauth::App { id: client_id, secret, redirect_uri } = cx.app(keys, args.redirect_uri.as_deref())?;
    let oauth_base = cx.env.get("CRIER_LINKEDIN_OAUTH_URL").unwrap_or(DEFAULT_OAUTH_URL).to_owned();
    let flow = oauth::CodeFlow { service: SERVICE, again: "crier auth linkedin", lifetime: "30 minutes" };
    let authorize = |redirect: &str, state: &str| authorize_url(&oauth_base, &client_id, redirect, state);
    let Some((code, redirect_uri)) =
        oauth::authorization_code(cx, &flow, args.code.as_deref(), &redirect_uri, &authorize).await?
    else {
        return Ok(None);
    };

    let client = TokenClient::new(
        SERVICE,
        &oauth_base,
        "CRIER_LINKEDIN_OAUTH_URL",
        oauth::REQUEST_TIMEOUT,
        oauth::standard_error,
    )
    .map_err(|e| Error::usage(e.to_string()))?;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect_uri.as_str()),
        ("client_id", client_id.as_str()),
        ("client_secret", secret.expose_secret()),
    ];
    let reply = client.send(client.post("accessToken").form(&form), &[secret.expose_secret(), &code]).await;
    let (v, _) = reply.map_err(|e| Error::Env {
        message: match &e {
            OAuthError::Rejected { .. } => format!(
                "exchanging the code failed: {e}. A code works once and for 30 minutes, and the redirect URI must be exactly the one used to authorize (`{redirect_uri}`); run `crier auth linkedin` again"
            ),
            _ => format!("exchanging the code failed: {e}"),
        },
    })?;
    let token = client.field(&v, "access_token").map_err(|e| Error::Env { message: e.to_string() })?;
    let lifetime = v.get("expires_in").and_then(Value::as_i64).map_or(DEFAULT_LIFETIME, TimeDelta::seconds);
    let expires_at = cx.now + lifetime;

    let api = cx.env.get("CRIER_LINKEDIN_API_URL").unwrap_or(DEFAULT_BASE_URL);
    let info = LinkedinClient::new(api, &SecretString::from(token.clone()), DEFAULT_VERSION, oauth::check_options())
        .userinfo(&|_| {})
        .await
        .map_err(|e| Error::Env { message: format!("the new token does not work: {e}") })?;
    let name = info.get("name").and_then(Value::as_str).unwrap_or("the member");
    let sub = info.get("sub").and_then(Value::as_str).unwrap_or("?");
    let date: DateTime<chrono::Utc> = expires_at;
    Ok(Some(Credentials {
        vars: vec![(KEY_TOKEN, token), (KEY_EXPIRES_AT, date.to_rfc3339_opts(SecondsFormat::Secs, true))],
        account: format!("{name} (urn:li:person:{sub})"),
        notes: vec![format!(
            "The token expires on {} (LinkedIn gives self-serve apps no refresh token): run `crier auth linkedin` again before then; crier warns 14 days ahead.",
            date.format("%Y-%m-%d")
        )],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorize_url_asks_for_every_scope_in_one_grant() {
        assert_eq!(
            authorize_url(DEFAULT_OAUTH_URL, "cid", "http://127.0.0.1:8765/callback", "s1"),
            "https://www.linkedin.com/oauth/v2/authorization?response_type=code&client_id=cid&redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcallback&state=s1&scope=openid%20profile%20w_member_social"
        );
    }
}
