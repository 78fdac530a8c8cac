//! `crier auth x`: the OAuth 1.0a PIN flow (out-of-band). With the app's key and secret
//! (`X_API_KEY`, `X_API_SECRET`), crier asks for a request token (`POST
//! /oauth/request_token`, `oauth_callback=oob`), the user allows crier on X's page and
//! pastes the PIN it shows, and crier exchanges it for the account's access token and
//! secret (`POST /oauth/access_token`), checks them (`GET /2/users/me`) and hands over the
//! four values. The tokens do not expire, so `crier auth refresh` has nothing to renew.
//!
//! The PIN flow needs no callback registered with the app and works over SSH and in CI.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use secrecy::SecretString;

use super::api::XClient;
use super::oauth1::{self, Signed};
use crate::error::{Error, Result};
use crate::platforms::http::{self, Redactor};
use crate::platforms::oauth::{self, Credentials, Renewal, SignInContext};

/// The flags of `crier auth x` (none of its own yet).
#[derive(Debug, clap::Args)]
struct XArgs {}

oauth::sign_in!(
    XSignIn,
    XArgs,
    "x",
    "Get an X access token and secret for your account with the PIN flow (needs X_API_KEY and X_API_SECRET of your app).",
    sign_in,
    refresh,
);

async fn refresh(cx: &SignInContext<'_>) -> Renewal {
    Renewal::never_expires(cx, super::KEY_VARS[2], "X's OAuth 1.0a access tokens", "crier auth x", "crier auth x")
}

async fn sign_in(cx: &SignInContext<'_>, _args: &XArgs) -> Result<Credentials> {
    let what = "the API key and secret of your app in the X developer console (console.x.com)";
    let key = cx.required(super::KEY_VARS[0], what)?.to_owned();
    let secret = cx.required(super::KEY_VARS[1], what)?.to_owned();
    let base = http::base_url(super::base_url(cx.env), super::api::DEFAULT_BASE_URL);
    let redactor = Redactor::new([key.as_str(), secret.as_str()]);
    let client = http::client(oauth::REQUEST_TIMEOUT);

    let url = http::join(&base, &["oauth", "request_token"]);
    let request = Signed {
        method: "POST",
        url: &url,
        form: &[],
        oauth: &[("oauth_callback", "oob")],
        nonce: &oauth1::nonce(),
        timestamp: now(),
    };
    let reply = post(&client, &url, &request.header(&key, &secret, None), &redactor).await?;
    let (Some(request_token), Some(request_secret)) = (reply.get("oauth_token"), reply.get("oauth_token_secret"))
    else {
        return Err(Error::Env { message: "X's request_token reply has no oauth_token".to_owned() });
    };
    let redactor = redactor.with(&[request_secret.as_str()]);

    let authorize =
        format!("{}/oauth/authorize?oauth_token={}", base.as_str().trim_end_matches('/'), oauth::encode(request_token));
    oauth::show_authorize_url(cx, "X", &authorize);
    let pin = oauth::read_pasted("Then paste the PIN X shows:")?;
    if pin.is_empty() {
        return Err(Error::usage("no PIN was pasted; run `crier auth x` again"));
    }

    let url = http::join(&base, &["oauth", "access_token"]);
    let request = Signed {
        method: "POST",
        url: &url,
        form: &[],
        oauth: &[("oauth_verifier", &pin)],
        nonce: &oauth1::nonce(),
        timestamp: now(),
    };
    let header = request.header(&key, &secret, Some((request_token, request_secret)));
    let reply = post(&client, &url, &header, &redactor).await.map_err(|e| Error::Env {
        message: format!("{e}. A PIN works once and for a few minutes; run `crier auth x` again"),
    })?;
    let (Some(token), Some(token_secret)) = (reply.get("oauth_token"), reply.get("oauth_token_secret")) else {
        return Err(Error::Env { message: "X's access_token reply has no oauth_token".to_owned() });
    };

    let credentials = oauth1::Credentials {
        consumer_key: SecretString::from(key.clone()),
        consumer_secret: SecretString::from(secret.clone()),
        token: SecretString::from(token.clone()),
        token_secret: SecretString::from(token_secret.clone()),
    };
    let user = XClient::new(base.as_str(), credentials, oauth::check_options())
        .me(&http::quiet)
        .await
        .map_err(|e| Error::Env { message: format!("the new token does not work: {e}") })?;
    Ok(Credentials {
        vars: vec![
            (super::KEY_VARS[0], key),
            (super::KEY_VARS[1], secret),
            (super::KEY_VARS[2], token.clone()),
            (super::KEY_VARS[3], token_secret.clone()),
        ],
        account: format!("@{} (user id {})", user.username, user.id),
        notes: vec![
            "The access token does not expire; it is revoked under Settings → Security and account access → Apps and sessions on X."
                .to_owned(),
        ],
    })
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A signed `POST` whose reply is a form (`a=1&b=2`), read into a map.
async fn post(
    client: &reqwest::Client,
    url: &url::Url,
    authorization: &str,
    redactor: &Redactor,
) -> Result<HashMap<String, String>> {
    let mut req = client.post(url.clone());
    if let Some(h) = http::secret_header(authorization) {
        req = req.header(reqwest::header::AUTHORIZATION, h);
    }
    let resp = req.send().await.map_err(|e| Error::Env {
        message: format!("cannot reach X: {}", http::transport_error(e, oauth::REQUEST_TIMEOUT, redactor).0),
    })?;
    let status = resp.status().as_u16();
    let body = resp.bytes().await.unwrap_or_default();
    if !(200..300).contains(&status) {
        let words =
            super::api::error_text(&body).map_or_else(|| http::describe_body(&body, redactor), |w| redactor.redact(&w));
        return Err(Error::Env { message: format!("X refused `{}` (HTTP {status}): {words}", url.path()) });
    }
    Ok(url::form_urlencoded::parse(&body).into_owned().collect())
}
