//! OAuth 1.0a request signing (RFC 5849, HMAC-SHA1), as X's user context wants it.
//!
//! The HMAC and SHA-1 are RustCrypto's `hmac` and `sha1` crates; what is left is the
//! signature base string and the header, small enough to keep here (the OAuth 1.0a
//! crates on crates.io are tied to old `reqwest` versions). Only query parameters and the
//! `oauth_*` parameters are signed: X v2 sends JSON bodies, which OAuth 1.0a leaves out of
//! the signature (RFC 5849 §3.4.1.3), and multipart uploads likewise.

use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use secrecy::{ExposeSecret, SecretString};
use sha1::Sha1;

/// Everything but RFC 3986's unreserved characters is percent-encoded (RFC 5849 §3.6).
const RESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The four values of X's OAuth 1.0a user context (`X_API_KEY`, `X_API_SECRET`,
/// `X_ACCESS_TOKEN`, `X_ACCESS_TOKEN_SECRET`).
#[derive(Clone)]
pub struct Credentials {
    pub consumer_key: SecretString,
    pub consumer_secret: SecretString,
    pub token: SecretString,
    pub token_secret: SecretString,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials([REDACTED])")
    }
}

impl Credentials {
    /// Every secret, for redaction.
    pub fn secrets(&self) -> [&str; 4] {
        [
            self.consumer_key.expose_secret(),
            self.consumer_secret.expose_secret(),
            self.token.expose_secret(),
            self.token_secret.expose_secret(),
        ]
    }

    /// The `Authorization` header of a request: `method` on `url` (its query is signed),
    /// with the given nonce and timestamp.
    pub fn authorization(&self, method: &str, url: &url::Url, nonce: &str, timestamp: u64) -> String {
        self.authorization_with(method, url, &[], nonce, timestamp)
    }

    /// As [`Self::authorization`], also signing form parameters of the body.
    pub fn authorization_with(
        &self,
        method: &str,
        url: &url::Url,
        form: &[(&str, &str)],
        nonce: &str,
        timestamp: u64,
    ) -> String {
        let request = Signed { method, url, form, oauth: &[], nonce, timestamp };
        let token = Some((self.token.expose_secret(), self.token_secret.expose_secret()));
        request.header(self.consumer_key.expose_secret(), self.consumer_secret.expose_secret(), token)
    }
}

/// One request to sign (RFC 5849 §3.4.1): what is signed besides the `oauth_*` basics.
pub struct Signed<'a> {
    pub method: &'a str,
    /// Its query is signed.
    pub url: &'a url::Url,
    /// Form parameters of the body.
    pub form: &'a [(&'a str, &'a str)],
    /// More `oauth_*` parameters (`oauth_callback`, `oauth_verifier`).
    pub oauth: &'a [(&'a str, &'a str)],
    pub nonce: &'a str,
    pub timestamp: u64,
}

impl Signed<'_> {
    /// The `Authorization` header, signed with the consumer secret and, when there is one
    /// yet, the token's secret.
    pub fn header(&self, consumer_key: &str, consumer_secret: &str, token: Option<(&str, &str)>) -> String {
        let timestamp = self.timestamp.to_string();
        let mut oauth = vec![
            ("oauth_consumer_key", consumer_key),
            ("oauth_nonce", self.nonce),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", timestamp.as_str()),
        ];
        if let Some((t, _)) = token {
            oauth.push(("oauth_token", t));
        }
        oauth.push(("oauth_version", "1.0"));
        oauth.extend_from_slice(self.oauth);
        let query: Vec<(String, String)> =
            self.url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        let mut params: Vec<(String, String)> = oauth
            .iter()
            .copied()
            .chain(self.form.iter().copied())
            .chain(query.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .map(|(k, v)| (encode(k), encode(v)))
            .collect();
        params.sort();
        let normalized: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut base_url = self.url.clone();
        base_url.set_query(None);
        base_url.set_fragment(None);
        let base = format!(
            "{}&{}&{}",
            self.method.to_ascii_uppercase(),
            encode(base_url.as_str()),
            encode(&normalized.join("&"))
        );
        let key = format!("{}&{}", encode(consumer_secret), encode(token.map_or("", |(_, s)| s)));
        let signature = sign(key.as_bytes(), base.as_bytes());
        let header: Vec<String> = oauth
            .iter()
            .copied()
            .chain([("oauth_signature", signature.as_str())])
            .map(|(k, v)| format!("{}=\"{}\"", encode(k), encode(v)))
            .collect();
        format!("OAuth {}", header.join(", "))
    }
}

/// A fresh nonce: 32 random alphanumerics.
pub fn nonce() -> String {
    use rand::Rng;
    use rand::distr::Alphanumeric;
    rand::rng().sample_iter(&Alphanumeric).take(32).map(char::from).collect()
}

fn encode(s: &str) -> String {
    utf8_percent_encode(s, RESERVED).to_string()
}

fn sign(key: &[u8], data: &[u8]) -> String {
    use base64::Engine;
    // HMAC accepts keys of any length.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(key) else { return String::new() };
    mac.update(data);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(ck: &str, cs: &str, t: &str, ts: &str) -> Credentials {
        Credentials {
            consumer_key: SecretString::from(ck.to_owned()),
            consumer_secret: SecretString::from(cs.to_owned()),
            token: SecretString::from(t.to_owned()),
            token_secret: SecretString::from(ts.to_owned()),
        }
    }

    fn signature(header: &str) -> String {
        let at = header.find("oauth_signature=\"").expect("signed") + "oauth_signature=\"".len();
        let end = header[at..].find('"').expect("closed") + at;
        percent_encoding::percent_decode_str(&header[at..end]).decode_utf8_lossy().into_owned()
    }

    #[test]
    fn the_published_examples_sign_alike() {
        // X's "Creating a signature" page (form body parameters are signed there).
        let x = creds(
            "xvz1evFS4wEEPTGEFPHBog",
            "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
            "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
            "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
        );
        let url = url::Url::parse("https://api.twitter.com/1.1/statuses/update.json?include_entities=true").unwrap();
        let header = x.authorization_with(
            "post",
            &url,
            &[("status", "Hello Ladies + Gentlemen, a signed OAuth request!")],
            "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg",
            1_318_622_958,
        );
        assert_eq!(signature(&header), "hCtSmYh+iHYCEqBWrE7C7hYmtUk=");
        assert!(header.starts_with("OAuth oauth_consumer_key=\"xvz1evFS4wEEPTGEFPHBog\", oauth_nonce="));

        // OAuth Core 1.0 appendix A.5 (the photos example).
        let photos = creds("dpf43f3p2l4k3l03", "kd94hf93k423kf44", "nnch734d00sl2jdk", "pfkkdhi9sl3r4s00");
        let url = url::Url::parse("http://photos.example.net/photos?file=vacation.jpg&size=original").unwrap();
        let header = photos.authorization("GET", &url, "kllo9940pd9333jh", 1_191_242_096);
        assert_eq!(signature(&header), "tR3+Ty81lMeYAr/Fid0kMTYa/WM=");
    }

    #[test]
    fn encoding_keeps_only_unreserved_characters() {
        for (raw, want) in [("a-b.c_d~e", "a-b.c_d~e"), ("a b+c", "a%20b%2Bc"), ("é!*", "%C3%A9%21%2A")] {
            assert_eq!(encode(raw), want);
        }
    }

    #[test]
    fn debug_shows_no_secret() {
        let c = creds("key", "secret", "token", "tsecret");
        assert_eq!(format!("{c:?}"), "Credentials([REDACTED])");
        assert_eq!(nonce().len(), 32);
    }
}
