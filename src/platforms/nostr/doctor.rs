//! `crier doctor` for Nostr: the key (its public half), and for each relay its NIP-11
//! document (limits) and whether it answers a test subscription.

use ::nostr::nips::nip19::ToBech32;
use serde_json::{Value, json};

use super::event::Signer;
use super::relay::Relay;
use crate::checklist::Checklist;
use crate::platforms::DoctorContext;
use crate::platforms::http;

/// The relay's NIP-11 document: `GET` its URL over http(s) with the Nostr media type.
async fn info(url: &str, cx: &DoctorContext<'_>) -> Result<Value, String> {
    let http_url = url.replacen("wss://", "https://", 1).replacen("ws://", "http://", 1);
    let resp = http::client(cx.http.request_timeout)
        .get(&http_url)
        .header("Accept", "application/nostr+json")
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    if status != 200 {
        return Err(format!("HTTP {status}"));
    }
    resp.json::<Value>().await.map_err(|_| "not a NIP-11 JSON document".to_owned())
}

/// The limits worth knowing from a NIP-11 document.
fn limits(doc: &Value) -> String {
    let l = &doc["limitation"];
    let mut out = Vec::new();
    for key in ["max_content_length", "max_message_length", "created_at_lower_limit", "created_at_upper_limit"] {
        if let Some(n) = l[key].as_u64() {
            out.push(format!("{key} {n}"));
        }
    }
    for key in ["auth_required", "payment_required", "restricted_writes"] {
        if l[key].as_bool() == Some(true) {
            out.push(key.to_owned());
        }
    }
    if out.is_empty() { "no limits published".to_owned() } else { out.join(", ") }
}

pub(super) async fn check(cx: &DoctorContext<'_>, r: &mut Checklist) {
    let Some(secret) = cx.env.get("NOSTR_SECRET_KEY") else { return };
    let signer = match Signer::parse(secret) {
        Ok(s) => s,
        Err(e) => {
            r.fail(&e, "set NOSTR_SECRET_KEY to the account's nsec1… key or its 64 hex digits");
            return;
        }
    };
    let npub = signer.public_key().to_bech32().unwrap_or_else(|_| signer.public_key().to_hex());
    r.ok(&format!("NOSTR_SECRET_KEY is a valid key: {npub}"));
    let config = cx.project.map(|p| p.config.clone()).unwrap_or_default();
    let relays = match super::relays(cx.env, &config) {
        Ok(r) => r,
        Err(e) => {
            r.fail(&e, "list the relays to publish to in NOSTR_RELAYS or `nostr.relays`");
            return;
        }
    };
    for url in relays {
        let doc = match info(&url, cx).await {
            Ok(doc) => limits(&doc),
            Err(e) => format!("no NIP-11 document ({e})"),
        };
        let test = async {
            let relay = Relay::connect(&url, cx.http.request_timeout).await?;
            let filter = json!({"authors": [signer.public_key().to_hex()], "kinds": [1], "limit": 1});
            relay.query(std::slice::from_ref(&filter), cx.http.request_timeout).await?;
            Ok::<_, String>(relay.count(&[filter], cx.http.request_timeout).await.is_some())
        };
        match test.await {
            Ok(counts) => {
                let counts = if counts { "counts (NIP-45)" } else { "no NIP-45 counts" };
                r.ok(&format!("{url} answers a test subscription; {counts}; {doc}"))
            }
            Err(e) => r.fail(
                &format!("{url} does not answer a subscription: {e}"),
                "check the URL, or remove the relay from NOSTR_RELAYS / nostr.relays",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nip11_limits_are_summarised() {
        let doc = json!({"limitation": {"max_content_length": 8196, "auth_required": false, "payment_required": true}});
        assert_eq!(limits(&doc), "max_content_length 8196, payment_required");
        assert_eq!(limits(&json!({"name": "x"})), "no limits published");
    }
}
