//! Last line of defence for secrets: every human-readable text the connector writes (logs,
//! error traces, connection status, stderr) passes through [`redact`]. The access token is
//! registered as soon as it is read from the config file, before the config is even validated,
//! so not even an error about the config itself can echo it.

use std::borrow::Cow;
use std::sync::RwLock;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Secrets shorter than this are not redacted: replacing every "a" in a message would destroy it
/// and a one-character token is not a secret worth hiding.
const MIN_SECRET_LEN: usize = 4;

/// Registers a secret so that it is masked in every message written from now on. The forms it
/// takes inside other text are registered too: percent-encoded (URLs), JSON-escaped and
/// Rust-escaped (`{:?}`, used when a message quotes a value).
pub fn register_secret(secret: &str) {
    let secret = secret.trim();
    if secret.len() < MIN_SECRET_LEN {
        return;
    }
    let json = serde_json::to_string(secret).unwrap_or_default();
    let debug = format!("{secret:?}");
    let variants = [
        secret.to_string(),
        percent_encode(secret),
        json.trim_matches('"').to_string(),
        debug.trim_matches('"').to_string(),
    ];
    let mut secrets = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    for variant in variants {
        if !secrets.contains(&variant) {
            secrets.push(variant);
        }
    }
    // Longest first, so that a secret containing another one is masked whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// Returns `text` with every registered secret replaced by `****`.
pub fn redact(text: &str) -> Cow<'_, str> {
    let secrets = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    if !secrets.iter().any(|s| text.contains(s.as_str())) {
        return Cow::Borrowed(text);
    }
    let mut out = text.to_string();
    for secret in secrets.iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), "****");
        }
    }
    Cow::Owned(out)
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_registered_secrets_and_their_url_form() {
        register_secret("s3cr3t token/+");
        assert_eq!(redact("token is s3cr3t token/+ ok"), "token is **** ok");
        assert_eq!(redact("url ?t=s3cr3t%20token%2F%2B"), "url ?t=****");
        assert_eq!(redact("nothing here"), "nothing here");
    }

    #[test]
    fn masks_escaped_forms_too() {
        register_secret(r#"q"uo\te-tok3n"#);
        assert_eq!(redact(&format!("got {:?}", r#"q"uo\te-tok3n"#)), "got \"****\"");
        assert_eq!(redact(&serde_json::to_string(r#"q"uo\te-tok3n"#).unwrap()), "\"****\"");
    }

    #[test]
    fn ignores_tiny_secrets() {
        register_secret("ab");
        assert_eq!(redact("abc"), "abc");
    }
}
