//! `crier doctor` for X: are the four OAuth 1.0a values accepted, and whose account are
//! they (`GET /2/users/me`, a user read: $0.01).

use super::api::{ClientOptions, XClient, XError};
use crate::checklist::Checklist;
use crate::platforms::DoctorContext;

pub(super) async fn check(cx: &DoctorContext<'_>, r: &mut Checklist) {
    let Some(credentials) = super::credentials(cx.env) else { return };
    let opts = ClientOptions {
        max_total_wait: cx.http.max_total_wait.min(std::time::Duration::from_secs(10)),
        initial_delay: cx.http.initial_delay,
        request_timeout: cx.http.request_timeout,
        ..ClientOptions::default()
    };
    let client = XClient::new(super::base_url(cx.env), credentials, opts);
    match client.me(&crate::platforms::http::quiet).await {
        Ok(user) => r.ok(&format!("X credentials accepted: @{} ({})", user.username, user.name)),
        Err(e @ XError::Unauthorized { .. }) => r.fail(
            &e.to_string(),
            "run `crier auth x`, or generate a new access token and secret for your app in the X developer console and update X_ACCESS_TOKEN and X_ACCESS_TOKEN_SECRET",
        ),
        Err(e @ XError::Plan { .. }) => r.fail(&e.to_string(), "add credits or raise the spending limit at console.x.com"),
        Err(e) => r.fail(
            &format!("cannot check the X credentials: {e}"),
            "check the network connection (and CRIER_X_API_URL, if set)",
        ),
    }
}
