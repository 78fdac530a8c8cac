//! `crier auth mastodon --instance URL`: registers crier as an app on the instance
//! (`POST /api/v1/apps`), runs the authorization-code flow (a redirect to this machine, or
//! the out-of-band code the server shows for the user to paste), exchanges the code
//! (`POST /oauth/token`) and checks the token (`GET /api/v1/accounts/verify_credentials`).
//! Mastodon tokens do not expire, so `crier auth refresh` has nothing to renew.

use secrecy::SecretString;
use url::Url;

use super::api::{self, MastodonClient, SCOPES};
use crate::error::{Error, Result};
use crate::platforms::oauth::{self, Credentials, OAuthError, Renewal, SignInContext, TokenClient};

/// The redirect URI that asks the server to show the code instead of redirecting.
const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";
/// Where the redirect to this machine is received (the port is picked when listening).
const LOOPBACK: &str = "http://127.0.0.1:0/callback";
const KEY_INSTANCE: &str = "MASTODON_INSTANCE";
const KEY_TOKEN: &str = "MASTODON_ACCESS_TOKEN";
const SERVICE: &str = "Mastodon";

/// The flags of `crier auth mastodon`.
#[derive(Debug, clap::Args)]
struct MastodonArgs {
    /// The server's address, e.g. `https://mastodon.social` (default: `MASTODON_INSTANCE`).
    #[arg(long, value_name = "URL")]
    instance: Option<String>,

    /// The browser is on another machine: the server shows a code to paste here instead
    /// of redirecting to this one (the default over SSH).
    #[arg(long)]
    oob: bool,
}

oauth::sign_in!(
    MastodonSignIn,
    MastodonArgs,
    "mastodon",
    "Register crier on a Mastodon server and get an access token.",
    sign_in,
    refresh,
);

async fn refresh(cx: &SignInContext<'_>) -> Renewal {
    let get_one = "crier auth mastodon --instance URL";
    Renewal::never_expires(cx, KEY_TOKEN, "Mastodon access tokens", "crier auth mastodon", get_one)
}

async fn sign_in(cx: &SignInContext<'_>, args: &MastodonArgs) -> Result<Credentials> {
    let given = args.instance.as_deref().or_else(|| cx.env.get(KEY_INSTANCE)).ok_or_else(|| {
        Error::usage(format!(
            "pass --instance with your server's address (e.g. https://mastodon.social), or set {KEY_INSTANCE}"
        ))
    })?;
    let instance = api::parse_instance(given)
        .ok_or_else(|| Error::usage(format!("`{given}` is not a server address (e.g. https://mastodon.social)")))?;
    let client =
        TokenClient::new(SERVICE, instance.as_str(), "--instance", oauth::REQUEST_TIMEOUT, oauth::standard_error)?;
    let oob = args.oob || oauth::remote_session(cx.env);
    if oob && !args.oob {
        cx.info("Connected over SSH, so the browser is elsewhere: the server will show a code to paste here.");
    }
    let listening = if oob { None } else { oauth::listen(LOOPBACK).await? };
    let redirect_uri = listening.as_ref().map_or(OOB, |l| l.redirect_uri.as_str()).to_owned();

    let app = register(&client, &redirect_uri)
        .await
        .map_err(|e| Error::Env { message: format!("registering crier on {} failed: {e}", host(&instance)) })?;
    let state = oauth::random_state();
    let url = authorize_url(&instance, &app.client_id, &redirect_uri, &state);
    oauth::show_authorize_url(cx, host(&instance), &url);
    let code = match listening {
        Some(l) => oauth::receive_redirect(cx, l, &state, "crier auth mastodon").await?,
        None => {
            let line = oauth::read_pasted("Then paste the authorization code the server shows:")?;
            oauth::parse_code_input(&line)?.code
        }
    };

    let token = exchange(&client, &app, &code, &redirect_uri).await.map_err(|e| Error::Env {
        message: format!(
            "exchanging the code failed: {}. A code works once and for a few minutes; run `crier auth mastodon` again",
            e.to_string().trim_end_matches('.')
        ),
    })?;
    let account = MastodonClient::new(instance.clone(), SecretString::from(token.clone()), oauth::check_options())
        .verify_credentials(&|_| {})
        .await
        .map_err(|e| Error::Env { message: format!("the new token does not work: {e}") })?;
    let origin = instance.as_str().trim_end_matches('/').to_owned();
    Ok(Credentials {
        vars: vec![(KEY_INSTANCE, origin), (KEY_TOKEN, token)],
        account: format!("@{} on {}", account.acct, host(&instance)),
        notes: vec![
            "The token does not expire. It is listed as “crier” under Preferences → Account → Authorized apps, where it can be revoked."
                .to_owned(),
        ],
    })
}

fn host(instance: &Url) -> &str {
    instance.host_str().unwrap_or("the server")
}

/// `{instance}/oauth/authorize?client_id=…&redirect_uri=…&response_type=code&scope=…&state=…`.
fn authorize_url(instance: &Url, client_id: &str, redirect_uri: &str, state: &str) -> String {
    let base = instance.as_str().trim_end_matches('/');
    format!(
        "{base}/oauth/authorize?client_id={}&redirect_uri={}&response_type=code&scope={}&state={}",
        oauth::encode(client_id),
        oauth::encode(redirect_uri),
        oauth::encode(SCOPES),
        oauth::encode(state)
    )
}

/// The app crier registered on the instance.
struct App {
    client_id: String,
    client_secret: SecretString,
}

/// `POST /api/v1/apps`: crier, with its one redirect URI and the scopes it needs.
async fn register(client: &TokenClient, redirect_uri: &str) -> std::result::Result<App, OAuthError> {
    let form = [
        ("client_name", "crier"),
        ("redirect_uris", redirect_uri),
        ("scopes", SCOPES),
        ("website", env!("CARGO_PKG_HOMEPAGE")),
    ];
    let (v, _) = client.send(client.post("api/v1/apps").form(&form), &[]).await?;
    Ok(App {
        client_id: client.field(&v, "client_id")?,
        client_secret: SecretString::from(client.field(&v, "client_secret")?),
    })
}

/// `POST /oauth/token` (`authorization_code`): the user's access token.
async fn exchange(
    client: &TokenClient,
    app: &App,
    code: &str,
    redirect_uri: &str,
) -> std::result::Result<String, OAuthError> {
    use secrecy::ExposeSecret as _;
    let secret = app.client_secret.expose_secret();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("client_id", app.client_id.as_str()),
        ("client_secret", secret),
        ("redirect_uri", redirect_uri),
        ("scope", SCOPES),
    ];
    let (v, _) = client.send(client.post("oauth/token").form(&form), &[secret, code]).await?;
    client.field(&v, "access_token")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorize_url_asks_for_crier_scopes() {
        let instance = api::parse_instance("social.example").expect("url");
        assert_eq!(
            authorize_url(&instance, "cid", OOB, "s1"),
            "https://social.example/oauth/authorize?client_id=cid&redirect_uri=urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob&response_type=code&scope=write%3Astatuses+write%3Amedia+read%3Aaccounts+read%3Astatuses&state=s1"
        );
    }
}
