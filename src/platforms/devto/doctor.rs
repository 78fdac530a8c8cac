//! `crier doctor` for dev.to: is the API key accepted, and whose is it.

use secrecy::{ExposeSecret, SecretString};

use crate::checklist::Checklist;
use crate::platforms::DoctorContext;
use crate::platforms::http::{self, Redactor};

const DEFAULT_BASE_URL: &str = "https://dev.to/api";

pub(super) async fn check(cx: &DoctorContext<'_>, r: &mut Checklist) {
    let Some(key) = cx.env.get("DEVTO_API_KEY") else { return };
    let base = cx.env.get("CRIER_DEVTO_API_URL").unwrap_or(DEFAULT_BASE_URL).trim_end_matches('/').to_owned();
    let key = SecretString::from(key.to_owned());
    let redactor = Redactor::new([key.expose_secret()]);
    let result = async {
        let resp = http::client(cx.http.request_timeout)
            .get(format!("{base}/users/me"))
            .header("api-key", key.expose_secret())
            .header("Accept", super::api::ACCEPT_V1)
            .send()
            .await
            .map_err(|e| http::transport_error(e, cx.http.request_timeout, &redactor).0)?;
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap_or_default();
        Ok::<_, String>((status, body))
    }
    .await;
    match result {
        Ok((200, body)) => {
            let user = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("username").and_then(|u| u.as_str()).map(str::to_owned));
            r.ok(&format!("API key accepted{}", user.map(|u| format!(": @{u}")).unwrap_or_default()));
        }
        Ok((401 | 403, _)) => r.fail(
            "dev.to rejected DEVTO_API_KEY",
            "create a new key at https://dev.to/settings/extensions and update DEVTO_API_KEY",
        ),
        Ok((status, _)) => r.fail(
            &format!("dev.to answered HTTP {status} to `GET /users/me`"),
            "try again later; check CRIER_DEVTO_API_URL if it is set",
        ),
        Err(e) => r.fail(
            &format!("cannot reach dev.to: {}", redactor.redact(&e)),
            "check the network connection (and CRIER_DEVTO_API_URL, if set)",
        ),
    }
}
