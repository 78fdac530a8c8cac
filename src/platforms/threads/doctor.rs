//! `crier doctor` for Threads: the token (and whose it is), the permissions it lacks,
//! the publishing quota, and the token's expiry when it is known.

use chrono::DateTime;
use secrecy::SecretString;

use super::api::{DEFAULT_BASE_URL, ThreadsClient, ThreadsError};
use super::auth::{KEY_EXPIRES_AT, KEY_TOKEN, KEY_USER_ID, PERMISSIONS};
use crate::checklist::Checklist;
use crate::platforms::DoctorContext;

const EXPIRY_WARNING_DAYS: i64 = 7;

pub(super) async fn check(cx: &DoctorContext<'_>, r: &mut Checklist) {
    let Some(token) = cx.env.get(KEY_TOKEN) else { return };
    let now = cx.now;
    let base = cx.env.get("CRIER_THREADS_API_URL").unwrap_or(DEFAULT_BASE_URL);
    let client = ThreadsClient::new(base, SecretString::from(token.to_owned()), cx.http);
    let accepted = match client.me().await {
        Ok(me) => {
            let who = if me.username.is_empty() { String::new() } else { format!("@{} ", me.username) };
            r.ok(&format!("token accepted: {who}(user id {})", me.id));
            if let Some(configured) = cx.env.get(KEY_USER_ID).filter(|u| *u != me.id) {
                r.fail(
                    &format!("THREADS_USER_ID is {configured}, but the token belongs to user {}", me.id),
                    &format!("set THREADS_USER_ID={} (or remove it: crier looks it up)", me.id),
                );
            }
            permissions(&client, r).await;
            match client.publishing_limit(&me.id).await {
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
    let recorded = cx.env.get(KEY_EXPIRES_AT);
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
                if cx.env.in_github_actions() {
                    r.annotate(&format!(
                        "::warning title=Threads token expires soon::The Threads access token expires on {date}; run `crier auth refresh` and update the THREADS_ACCESS_TOKEN secret"
                    ));
                }
            } else {
                r.ok(&format!("the token expires on {date} (in {})", human_duration(left)));
            }
        }
    }
}

/// Which of the permissions crier asks for the token lacks, and what fails without them.
async fn permissions(client: &ThreadsClient, r: &mut Checklist) {
    let granted = match client.granted_scopes().await {
        Ok(g) => g,
        Err(e) => {
            r.info(&format!("permissions: unknown, Threads did not say ({e})"));
            return;
        }
    };
    let missing: Vec<&(&str, &str)> = PERMISSIONS.iter().filter(|(p, _)| !granted.iter().any(|g| g == p)).collect();
    if missing.is_empty() {
        r.ok("permissions: every one crier uses");
        return;
    }
    let list: Vec<String> = missing.iter().map(|(p, why)| format!("{p} (for {why})")).collect();
    let msg =
        format!("the token lacks the permission{} {}", if missing.len() == 1 { "" } else { "s" }, list.join(", "));
    let fix = "run `crier auth threads --write-env .env`: it asks for every permission crier uses (then update THREADS_ACCESS_TOKEN wherever it is stored)";
    // Without these two nothing can be published; the others fail single features.
    if missing.iter().any(|(p, _)| matches!(*p, "threads_basic" | "threads_content_publish")) {
        r.fail(&msg, fix);
    } else {
        r.warn(&msg, fix);
    }
}

fn human_duration(d: chrono::TimeDelta) -> String {
    let days = d.num_days();
    if days >= 2 {
        format!("{days} days")
    } else {
        match d.num_hours().max(0) {
            1 => "1 hour".to_owned(),
            h => format!("{h} hours"),
        }
    }
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
