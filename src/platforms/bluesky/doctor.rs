//! `crier doctor` for Bluesky: does the app password sign in, and as whom.

use secrecy::SecretString;

use super::DEFAULT_SERVICE;
use super::xrpc::{ClientOptions, XrpcClient};
use crate::checklist::Checklist;
use crate::platforms::DoctorContext;

pub(super) async fn check(cx: &DoctorContext<'_>, r: &mut Checklist) {
    let (Some(identifier), Some(password)) = (cx.env.get("BLUESKY_IDENTIFIER"), cx.env.get("BLUESKY_APP_PASSWORD"))
    else {
        return;
    };
    let service = cx.env.get("CRIER_BLUESKY_URL").unwrap_or(DEFAULT_SERVICE);
    let opts = ClientOptions {
        request_timeout: cx.http.request_timeout,
        max_total_wait: cx.http.max_total_wait.min(std::time::Duration::from_secs(10)),
        initial_delay: cx.http.initial_delay,
        ..ClientOptions::default()
    };
    let client = XrpcClient::new(service, opts);
    match client.sign_in(identifier, &SecretString::from(password.to_owned())).await {
        Ok(account) => {
            let handle = if account.handle.is_empty() { identifier.to_owned() } else { account.handle };
            r.ok(&format!("signed in as @{handle} ({}); posts go to {}", account.did, account.pds.trim_end_matches('/')));
        }
        Err(e) if e.is_fatal() => r.fail(
            &format!("Bluesky refused the sign-in: {}", e.xrpc_name().unwrap_or("error")),
            "check BLUESKY_IDENTIFIER (your handle, e.g. you.bsky.social) and BLUESKY_APP_PASSWORD (an app password from Settings → Privacy and security → App passwords)",
        ),
        Err(e) => r.fail(
            &format!("cannot sign in to Bluesky: {e}"),
            "check the network connection (and CRIER_BLUESKY_URL, if set)",
        ),
    }
}
