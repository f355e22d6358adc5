//! What an answer other than a good page means, and how to say it.

use std::time::Duration;

use reqwest::{StatusCode, Url};
use serde::Deserialize;

use crate::error::Error;
use crate::protocol::redact;

/// How many characters of an unexpected body an error message quotes.
const BODY_EXCERPT: usize = 160;
/// How much of the API's own error text a message quotes.
const API_MESSAGE: usize = 1000;

/// Who produced a page's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The connector built it from the config and the stream's rules.
    Built,
    /// Botmaker handed it over as a next-page link (or the state saved one).
    Link,
}

/// One request, for decisions and messages.
pub(crate) struct Call<'a> {
    pub(crate) stream: &'a str,
    pub(crate) url: &'a Url,
    /// "GET /v2.0/chats".
    pub(crate) what: &'a str,
    pub(crate) origin: Origin,
    pub(crate) long_term_search: bool,
}

/// A response other than a good page.
pub(crate) struct Answer<'a> {
    pub(crate) status: StatusCode,
    pub(crate) body: &'a [u8],
    pub(crate) retry_after: Option<Duration>,
    pub(crate) location: Option<&'a str>,
}

/// What a failed attempt means.
pub(crate) enum Verdict {
    /// Worth another try, after `retry_after` if the server said so.
    Retry {
        reason: String,
        retry_after: Option<Duration>,
        rate_limited: bool,
    },
    /// Botmaker wants `long-term-search=true` on a request sent without it.
    LongTermSearchRequired(Error),
    /// Botmaker refused a link it had handed out; `answer` is what it said ("HTTP 400: …").
    StaleLink {
        error: Error,
        answer: String,
    },
    Fatal(Error),
}

#[derive(Deserialize)]
struct ApiErrors {
    #[serde(default)]
    errors: Vec<ApiErrorItem>,
}

#[derive(Deserialize)]
struct ApiErrorItem {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// Decides what a non-200 response means.
pub(crate) fn classify(call: &Call<'_>, answer: &Answer<'_>, base: &Url) -> Verdict {
    let (status, what, stream) = (answer.status, call.what, call.stream);
    let api_message = api_error_text(answer.body);
    let code = status.as_u16();
    // What a 400 says: the API's text, or else the start of the body.
    let detail_400 = (code == 400).then(|| {
        let detail =
            api_message.clone().unwrap_or_else(|| format!("no details; the body starts with {}", excerpt(answer.body)));
        detail.trim_end_matches('.').to_string()
    });
    let detail_400 = detail_400.as_deref().unwrap_or_default();
    match code {
        // Before the refused-link rule: a window's later page can be refused for want of
        // long-term search too (the window aged out of the recent window while it was read).
        400 if !call.long_term_search && detail_400.contains("LONG_TERM_SEARCH_PARAM_REQUIRED") => {
            Verdict::LongTermSearchRequired(Error::config(format!(
                "Botmaker refused {what} for stream '{stream}' without long-term search (HTTP 400: {detail_400}). Enable long_term_search to read it (Botmaker bills long-term searches)."
            )))
        }
        429 => Verdict::Retry {
            reason: format!("HTTP 429 rate limited{}", suffix(&api_message)),
            retry_after: answer.retry_after,
            rate_limited: true,
        },
        500..=599 => Verdict::Retry {
            reason: format!("HTTP {status}{}", suffix(&api_message)),
            retry_after: answer.retry_after,
            rate_limited: false,
        },
        401 | 403 => Verdict::Fatal(Error::config(format!(
            "Botmaker rejected the access token (HTTP {code} on {what}): regenerate it in Botmaker under Configuration → Integrations → API and update the source's access_token."
        ))),
        400 | 404 | 410 if call.origin == Origin::Link => {
            let answer = format!("HTTP {code}: {}", api_message.as_deref().unwrap_or("no details").trim_end_matches('.'));
            Verdict::StaleLink {
                error: Error::system(format!(
                    "Botmaker refused the next page of stream '{stream}' ({answer}), an address it had returned itself. Retry the sync later; if it persists, report it to Botmaker support."
                )),
                answer,
            }
        }
        400 => Verdict::Fatal(Error::config(format!(
            "Botmaker refused {what} for stream '{stream}' (HTTP 400): {detail_400}."
        ))),
        404 => Verdict::Fatal(Error::config(format!(
            "{what} returned 404 Not Found: the list endpoint of stream '{stream}' does not exist at {}. Check that api_url points at Botmaker's API v2.0 (default {}).",
            describe_url(base),
            crate::config::DEFAULT_API_URL
        ))),
        300..=399 => Verdict::Fatal(Error::config(format!(
            "{what} was redirected (HTTP {code}) to {}. The connector only follows redirects within api_url's host, so the access token never leaves it; check api_url.",
            answer.location.and_then(|l| Url::parse(l).ok()).map(|u| describe_origin(&u)).unwrap_or_else(|| "another location".into())
        ))),
        _ => Verdict::Fatal(Error::system(format!(
            "Botmaker answered {what} for stream '{stream}' with HTTP {status}{}.",
            suffix(&api_message)
        ))),
    }
}

/// The API's own error text (`errors[].type` and `errors[].message`), masked and shortened.
fn api_error_text(body: &[u8]) -> Option<String> {
    let parsed: ApiErrors = serde_json::from_slice(body).ok()?;
    let parts: Vec<String> = parsed
        .errors
        .into_iter()
        .filter_map(|e| match (e.kind, e.message) {
            (Some(k), Some(m)) => Some(format!("{k}: {m}")),
            (Some(k), None) => Some(k),
            (None, Some(m)) => Some(m),
            (None, None) => None,
        })
        .collect();
    (!parts.is_empty()).then(|| redact::excerpt(&parts.join("; "), API_MESSAGE))
}

fn suffix(message: &Option<String>) -> String {
    message.as_ref().map(|m| format!(" ({m})")).unwrap_or_default()
}

/// The first characters of a body, masked, printable and quoted, for error messages.
pub(crate) fn excerpt(body: &[u8]) -> String {
    if body.is_empty() {
        return "(empty body)".into();
    }
    // Masked before it is cut (`redact::excerpt`), so no piece of a secret survives the cut;
    // the prefix is long enough that any secret starting in the part shown ends inside it.
    let prefix = &body[..body.len().min(BODY_EXCERPT * 4 + 8192)];
    let text: String = String::from_utf8_lossy(prefix).chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    format!("{:?}", redact::excerpt(&text, BODY_EXCERPT))
}

/// "https://host:port" of a URL, never its path or query.
pub(crate) fn describe_origin(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{}://{h}:{p}", url.scheme()),
        (Some(h), None) => format!("{}://{h}", url.scheme()),
        _ => url.scheme().to_string(),
    }
}

/// A URL without its query string (which may carry page tokens).
fn describe_url(url: &Url) -> String {
    format!("{}{}", describe_origin(url), url.path())
}

/// What went wrong on the wire, in words.
pub(crate) fn describe_transport_error(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "connection broke while reading the body"
    } else if e.is_request() {
        "request failed"
    } else {
        "network error"
    };
    // The source chain says what exactly (reset, refused, DNS); URLs in it carry no token.
    let mut detail = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {}", redact::excerpt(&detail, API_MESSAGE))
    }
}

/// "64 MiB", "16 KiB", "1500 bytes": exact, in the largest unit that divides it.
pub(crate) fn human_bytes(bytes: u64) -> String {
    match bytes {
        0 => "0 bytes".into(),
        b if b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// "3 min 5 s", "12.0 s".
pub(crate) fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs >= 3600 * 24 * 365 {
        "more than a year".into()
    } else if secs >= 60 {
        format!("{} min {} s", secs / 60, secs % 60)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_short_printable_and_masked() {
        crate::protocol::redact::register_secret("excerpt-secret-token-123456789");
        let body = format!("<html>\n{}excerpt-secret-token-123456789{}", "x".repeat(150), "y".repeat(500));
        let shown = excerpt(body.as_bytes());
        assert!(!shown.contains('\n') && !shown.contains("excerpt-secret"), "{shown}");
        assert!(shown.chars().count() < 200, "{shown}");
        assert_eq!(excerpt(b""), "(empty body)");
    }

    #[test]
    fn api_messages_are_cut_to_a_kilobyte() {
        let body = serde_json::json!({"errors": [{"type": "X", "message": "m".repeat(20_000_000 / 1000)}]});
        let text = api_error_text(body.to_string().as_bytes()).unwrap();
        assert!(text.chars().count() <= API_MESSAGE + 1, "{}", text.len());
    }

    #[test]
    fn a_request_refused_for_want_of_long_term_search_says_so_even_on_a_next_page_link() {
        let url = Url::parse("https://api.botmaker.com/v2.0/messages?next=abc").unwrap();
        let base = Url::parse("https://api.botmaker.com/v2.0").unwrap();
        let body = br#"{"errors":[{"type":"LONG_TERM_SEARCH_PARAM_REQUIRED","message":"send long-term-search"}]}"#;
        let answer = Answer { status: StatusCode::BAD_REQUEST, body, retry_after: None, location: None };
        for (origin, long_term_search, lts_required) in [
            (Origin::Built, false, true),
            (Origin::Link, false, true),
            (Origin::Link, true, false),
            (Origin::Built, true, false),
        ] {
            let call = Call { stream: "messages", url: &url, what: "GET /v2.0/messages", origin, long_term_search };
            let verdict = classify(&call, &answer, &base);
            assert_eq!(
                matches!(verdict, Verdict::LongTermSearchRequired(_)),
                lts_required,
                "{origin:?}, sent with long-term search: {long_term_search}"
            );
        }
    }

    #[test]
    fn sizes_are_exact() {
        assert_eq!(human_bytes(64 << 20), "64 MiB");
        assert_eq!(human_bytes(8 << 10), "8 KiB");
        assert_eq!(human_bytes(1500), "1500 bytes");
        assert_eq!(human_bytes((1 << 20) + 1), "1048577 bytes");
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(Duration::from_secs(185)), "3 min 5 s");
        assert_eq!(human_duration(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(human_duration(Duration::MAX), "more than a year");
    }
}
