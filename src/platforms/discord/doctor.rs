//! `crier doctor` for Discord: is `DISCORD_WEBHOOK_URL` a webhook URL, does the webhook
//! still exist, and where does it post (`GET {webhook}`, which sends nothing).

use super::WEBHOOK_VAR;
use super::api::{ClientOptions, DiscordError};
use crate::checklist::Checklist;
use crate::platforms::DoctorContext;

pub(super) async fn check(cx: &DoctorContext<'_>, r: &mut Checklist) {
    let Some(given) = cx.env.get(WEBHOOK_VAR) else { return };
    let opts = ClientOptions {
        max_total_wait: cx.http.max_total_wait.min(std::time::Duration::from_secs(10)),
        initial_delay: cx.http.initial_delay,
        request_timeout: cx.http.request_timeout,
        ..ClientOptions::default()
    };
    let client = match super::session::client(given, opts) {
        Ok(c) => c,
        Err(e) => {
            r.fail(&e, "copy the URL from the channel's Settings → Integrations → Webhooks → Copy Webhook URL");
            return;
        }
    };
    match client.webhook(&|_| {}).await {
        Ok(hook) => {
            let name = hook.name.map(|n| format!(" “{n}”")).unwrap_or_default();
            let channel = hook.channel_id.unwrap_or_else(|| "?".to_owned());
            r.ok(&format!("webhook{name} accepted: it posts to channel {channel}"));
            r.info("a Discord message whose reply is lost is never sent again: crier says which one to check in the channel");
        }
        Err(e @ DiscordError::Unauthorized { .. }) => {
            r.fail(&e.to_string(), "create a new webhook and update DISCORD_WEBHOOK_URL")
        }
        Err(e) => r.fail(&format!("cannot check the webhook: {e}"), "check the network connection and try again"),
    }
}
