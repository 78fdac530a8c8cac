//! `crier doctor` for LinkedIn: is the token accepted and whose is it (`GET /v2/userinfo`),
//! which API version is configured, and when the token expires (LINKEDIN_TOKEN_EXPIRES_AT,
//! written by `crier auth linkedin`; self-serve apps get no refresh token).

use chrono::{DateTime, Datelike, TimeDelta, Utc};
use secrecy::SecretString;
use serde_json::Value;

use super::api::{DEFAULT_BASE_URL, LinkedinClient, RENEW_HINT};
use super::options::LinkedinConfig;
use crate::checklist::Checklist;
use crate::platforms::DoctorContext;

/// Where `crier auth linkedin` records the token's end.
pub(super) const KEY_EXPIRES_AT: &str = "LINKEDIN_TOKEN_EXPIRES_AT";
/// Warned this long before the token's 60 days end.
pub(super) const EXPIRY_WARNING_DAYS: i64 = 14;
/// A configured `LinkedIn-Version` this many months old is warned: LinkedIn sunsets a version
/// about 12 months after its release (reference §6.2), so this leaves two months to move on.
pub(super) const VERSION_WARNING_MONTHS: i32 = 10;

pub(super) async fn check(cx: &DoctorContext<'_>, r: &mut Checklist) {
    let Some(token) = cx.env.get("LINKEDIN_ACCESS_TOKEN") else { return };
    let base = cx.env.get("CRIER_LINKEDIN_API_URL").unwrap_or(DEFAULT_BASE_URL);
    let version = cx.project.map_or_else(
        || LinkedinConfig::default().version,
        |p| p.config.sections.get_or_default::<LinkedinConfig>().version.clone(),
    );
    let client = LinkedinClient::new(base, &SecretString::from(token.trim().to_owned()), &version, cx.http);
    let quiet = |_| {};
    match client.userinfo(&quiet).await {
        Ok(info) => {
            let name = info.get("name").and_then(Value::as_str).unwrap_or("");
            let sub = info.get("sub").and_then(Value::as_str).unwrap_or("?");
            r.ok(&format!("token accepted: {name} (urn:li:person:{sub})"));
        }
        Err(e) => r.fail(&e.to_string(), RENEW_HINT),
    }
    match version_warning(&version, cx.now) {
        Some(warning) => r.warn(
            &warning,
            "set `linkedin: {version: \"YYYYMM\"}` in crier.yaml to a recent month LinkedIn lists as supported",
        ),
        None => r.info(&format!("API version: {version} (`linkedin.version` in crier.yaml)")),
    }
    expiry(cx.env.get(KEY_EXPIRES_AT), cx.now, r);
}

/// What the recorded expiry says, as a check line.
fn expiry(recorded: Option<&str>, now: DateTime<Utc>, r: &mut Checklist) {
    match expiry_warning(recorded, now) {
        Expiry::Unknown => r.info(&format!(
            "token expiry: unknown; `crier auth linkedin --write-env .env` records it as {KEY_EXPIRES_AT} (tokens last 60 days)"
        )),
        Expiry::Unreadable => r.warn(&format!("{KEY_EXPIRES_AT} is not an RFC 3339 date-time"), RENEW_HINT),
        Expiry::Expired(date) => r.fail(&format!("the LinkedIn token expired on {date}"), RENEW_HINT),
        Expiry::Soon(msg) => r.warn(&msg, RENEW_HINT),
        Expiry::Fine(date) => r.ok(&format!("the token expires on {date}")),
    }
}

/// What a recorded expiry means now.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Expiry {
    Unknown,
    Unreadable,
    Expired(String),
    /// Within [`EXPIRY_WARNING_DAYS`]: the warning.
    Soon(String),
    Fine(String),
}

/// Why the configured `LinkedIn-Version` needs attention now, if it does: not a `YYYYMM`
/// month, or [`VERSION_WARNING_MONTHS`] or more months old (about to be sunset, or already).
pub(super) fn version_warning(version: &str, now: DateTime<Utc>) -> Option<String> {
    let month = |v: &str| -> Option<i32> {
        if v.len() != 6 || !v.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (year, month) = (v[..4].parse::<i32>().ok()?, v[4..].parse::<i32>().ok()?);
        (1..=12).contains(&month).then_some(year * 12 + month - 1)
    };
    let Some(configured) = month(version.trim()) else {
        return Some(format!("`linkedin.version` {version:?} is not a YYYYMM month"));
    };
    let age = now.year() * 12 + now.month0() as i32 - configured;
    (age >= VERSION_WARNING_MONTHS).then(|| {
        format!(
            "`linkedin.version` {version} is {age} months old; LinkedIn sunsets a version about a year after its release, then every call fails (HTTP 426)"
        )
    })
}

pub(super) fn expiry_warning(recorded: Option<&str>, now: DateTime<Utc>) -> Expiry {
    let Some(s) = recorded else { return Expiry::Unknown };
    let Ok(at) = DateTime::parse_from_rfc3339(s.trim()) else { return Expiry::Unreadable };
    let date = at.format("%Y-%m-%d").to_string();
    let left = at.to_utc() - now;
    if left <= TimeDelta::zero() {
        Expiry::Expired(date)
    } else if left < TimeDelta::days(EXPIRY_WARNING_DAYS) {
        Expiry::Soon(format!(
            "the LinkedIn token expires on {date}, in {} day(s); LinkedIn gives self-serve apps no refresh token",
            left.num_days()
        ))
    } else {
        Expiry::Fine(date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_warned_fourteen_days_ahead() {
        let now = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z").map(|t| t.to_utc()).unwrap_or_default();
        let cases = [
            (None, "Unknown"),
            (Some("soon"), "Unreadable"),
            (Some("2026-11-30T00:00:00Z"), "Expired"),
            (Some("2026-12-14T23:00:00Z"), "Soon"),
            (Some("2026-12-15T00:00:01Z"), "Fine"),
        ];
        for (recorded, want) in cases {
            let got = format!("{:?}", expiry_warning(recorded, now));
            assert!(got.starts_with(want), "{recorded:?}: {got}");
        }
    }

    #[test]
    fn a_version_ten_months_old_is_warned() {
        let now = DateTime::parse_from_rfc3339("2026-12-08T00:00:00Z").map(|t| t.to_utc()).unwrap_or_default();
        let cases = [
            (super::super::options::DEFAULT_VERSION, false),
            ("202611", false),
            ("202603", false),
            ("202602", true),
            ("202510", true),
            ("202401", true),
            ("2026-11", true),
            ("202613", true),
        ];
        for (version, warned) in cases {
            assert_eq!(
                version_warning(version, now).is_some(),
                warned,
                "{version}: {:?}",
                version_warning(version, now)
            );
        }
    }
}
