//! `crier doctor` for Mastodon: which instance, is the token accepted, whose is
//! it, may it read the account's statuses, and the instance's limits.

use secrecy::SecretString;

use super::MastodonConfig;
use super::api::{ClientOptions, MastodonClient, MastodonError, SCOPES};
use crate::checklist::Checklist;
use crate::config::Config;
use crate::platforms::DoctorContext;

pub(super) async fn check(cx: &DoctorContext<'_>, r: &mut Checklist) {
    let Some(token) = cx.env.get("MASTODON_ACCESS_TOKEN") else { return };
    let default_config = Config::default();
    let config = cx.project.map_or(&default_config, |p| &p.config);
    let instance = match super::instance_url(cx.env, config) {
        Ok(u) => u,
        Err(e) => {
            r.fail(&e, "set MASTODON_INSTANCE to your server's address, e.g. https://mastodon.social");
            return;
        }
    };
    let opts = ClientOptions {
        max_total_wait: cx.http.max_total_wait.min(std::time::Duration::from_secs(10)),
        initial_delay: cx.http.initial_delay,
        request_timeout: cx.http.request_timeout,
        ..ClientOptions::default()
    };
    let origin = instance.as_str().trim_end_matches('/').to_owned();
    let client = MastodonClient::new(instance, SecretString::from(token.to_owned()), opts);
    let quiet = |_: std::time::Duration| {};
    let host = client.host();
    let account = match client.verify_credentials(&quiet).await {
        Ok(a) => a,
        Err(e @ MastodonError::Unauthorized { .. }) => {
            r.fail(
                &e.to_string(),
                &format!(
                    "get a new token with `crier auth mastodon --instance {origin} --write-env .env` (or on {host}: Preferences → Development → New application, scopes `{SCOPES}`)"
                ),
            );
            return;
        }
        Err(e) => {
            r.fail(
                &format!("cannot check the token on {host}: {e}"),
                "check MASTODON_INSTANCE and the network connection",
            );
            return;
        }
    };
    match client.instance(&quiet).await {
        Ok(i) => {
            let limits = i.limits(&host);
            let version = if i.version.is_empty() { String::new() } else { format!(", version {}", i.version) };
            r.ok(&format!("token accepted: @{} on {host}{version}", account.acct));
            r.info(&format!(
                "instance limits: {} characters, {} media per status, {} characters per link, alt text {} characters",
                limits.max_characters,
                limits.max_media_attachments,
                limits.characters_reserved_per_url,
                limits.description_limit
            ));
            let offline = super::rules::Limits::from_config(&config.sections.get_or_default::<MastodonConfig>());
            if offline.max_characters > limits.max_characters {
                r.warn(
                    &format!(
                        "`check` counts against {} characters, but {host} allows {}",
                        offline.max_characters, limits.max_characters
                    ),
                    &format!("set `mastodon: {{max_characters: {}}}` in crier.yaml", limits.max_characters),
                );
            }
        }
        Err(e) => r.warn(
            &format!("token accepted: @{} on {host}, but its limits could not be read: {e}", account.acct),
            "publish reads them again; try later",
        ),
    }
    // Reconciliation lists the account's statuses, which needs `read:statuses`.
    match client.account_statuses(&account.id, None, 1, &quiet).await {
        Ok(_) => r.ok("the token may read the account's statuses (how crier avoids double posts)"),
        Err(e) if e.status() == Some(403) => r.fail(
            "the token may not read the account's statuses, which crier needs to avoid double posts",
            &format!("create a new token with the scopes `{SCOPES}`"),
        ),
        Err(e) => r.warn(&format!("could not list the account's statuses: {e}"), "try again later"),
    }
}
