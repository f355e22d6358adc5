//! What handlers produce ([`Out`]) and what the connection layer sends ([`Reply`]), plus the
//! spec's ErrorResponse body.

use crate::json::push_str_lit;

/// What the connection layer must do.
#[derive(Debug)]
pub(crate) enum Reply {
    Full {
        status: u16,
        content_type: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Drop the connection with a TCP reset, no response.
    Reset,
    /// Send headers with the full `Content-Length`, then only `keep` bytes, then close.
    Cut {
        status: u16,
        content_type: String,
        body: Vec<u8>,
        keep: usize,
    },
}

impl Reply {
    pub(crate) fn json(status: u16, body: String) -> Reply {
        Reply::Full { status, content_type: "application/json".into(), headers: vec![], body: body.into_bytes() }
    }
}

/// A handler's successful or failed answer, before faults.
pub(crate) struct Out {
    pub status: u16,
    pub body: String,
    /// Records in the body (for the request log).
    pub items: usize,
    pub headers: Vec<(String, String)>,
}

impl Out {
    pub(crate) fn ok(body: String, items: usize) -> Out {
        Out { status: 200, body, items, headers: vec![] }
    }

    pub(crate) fn into_reply(self) -> Reply {
        Reply::Full {
            status: self.status,
            content_type: "application/json".into(),
            headers: self.headers,
            body: self.body.into_bytes(),
        }
    }
}

/// The spec's ErrorResponse: `{"errors":[{"type","source","message"}]}`.
pub(crate) fn error_body(typ: &str, source: &str, message: &str) -> String {
    let mut s = String::from("{\"errors\":[{\"type\":");
    push_str_lit(&mut s, typ);
    s.push_str(",\"source\":");
    push_str_lit(&mut s, source);
    s.push_str(",\"message\":");
    push_str_lit(&mut s, message);
    s.push_str("}]}");
    s
}

pub(crate) fn err(status: u16, typ: &str, source: &str, message: &str) -> Out {
    Out { status, body: error_body(typ, source, message), items: 0, headers: vec![] }
}

pub(crate) fn bad_param(source: &str, message: &str) -> Out {
    err(400, "INVALID_PARAMETER", source, message)
}

pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}
