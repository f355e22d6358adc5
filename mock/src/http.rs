//! A small HTTP/1.1 server on raw tokio sockets.
//!
//! Hand-rolled (with `httparse` for the request head) rather than hyper because the fault
//! injection needs byte-level control: a reset is `SO_LINGER 0` + close, a cut body is a
//! `Content-Length` larger than what is written before the close. Keep-alive and pipelining
//! are supported; request bodies (unexpected on GET) are read and discarded.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::api::{error_body, reason, Reply, Req, Shared};

/// Largest request head accepted (431 beyond).
const MAX_HEAD: usize = 64 * 1024;
/// Largest request body read and discarded (413 beyond).
const MAX_BODY: usize = 1024 * 1024;
/// Idle keep-alive connections are closed after this long.
const IDLE: Duration = Duration::from_secs(120);

pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, _)) => {
                    tokio::spawn(connection(stream, shared.clone()));
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
            _ = shutdown.changed() => break,
        }
    }
}

enum Head {
    Req(Req, bool /* keep-alive */, usize /* body length */),
    Bad(u16, &'static str),
}

fn parse_head(buf: &[u8]) -> Option<(Head, usize)> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    let n = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return None,
        Err(httparse::Error::TooManyHeaders) => return Some((Head::Bad(431, "too many headers"), buf.len())),
        Err(_) => return Some((Head::Bad(400, "malformed request"), buf.len())),
    };
    let version = req.version.unwrap_or(1);
    let mut keep_alive = version >= 1;
    let mut token = None;
    let mut host = None;
    let mut body_len = 0usize;
    for h in req.headers.iter() {
        let value = String::from_utf8_lossy(h.value).trim().to_string();
        if h.name.eq_ignore_ascii_case("access-token") {
            if token.is_none() {
                token = Some(value);
            }
        } else if h.name.eq_ignore_ascii_case("host") {
            host = Some(value);
        } else if h.name.eq_ignore_ascii_case("connection") {
            let v = value.to_ascii_lowercase();
            if v.contains("close") {
                keep_alive = false;
            } else if v.contains("keep-alive") {
                keep_alive = true;
            }
        } else if h.name.eq_ignore_ascii_case("content-length") {
            match value.parse::<usize>() {
                Ok(n) => body_len = n,
                Err(_) => return Some((Head::Bad(400, "bad content-length"), n)),
            }
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            return Some((Head::Bad(501, "request bodies with transfer-encoding are not supported"), n));
        }
    }
    if body_len > MAX_BODY {
        return Some((Head::Bad(413, "request body too large"), n));
    }
    let r = Req {
        method: req.method.unwrap_or("GET").to_string(),
        target: req.path.unwrap_or("/").to_string(),
        token,
        host,
    };
    Some((Head::Req(r, keep_alive, body_len), n))
}

/// Reads more bytes; false on EOF, error or idle timeout.
async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 16 * 1024];
    match tokio::time::timeout(IDLE, stream.read(&mut chunk)).await {
        Ok(Ok(n)) if n > 0 => {
            buf.extend_from_slice(&chunk[..n]);
            true
        }
        _ => false,
    }
}

fn head_bytes(status: u16, content_type: &str, len: usize, headers: &[(String, String)], close: bool) -> Vec<u8> {
    let mut h = format!(
        "HTTP/1.1 {status} {}\r\nServer: botmaker-mock\r\nContent-Type: {content_type}\r\nContent-Length: {len}\r\n",
        reason(status)
    );
    for (k, v) in headers {
        // Header values come from config/scenarios: strip anything that would split lines.
        let v: String = v.chars().filter(|c| *c != '\r' && *c != '\n').collect();
        h.push_str(k);
        h.push_str(": ");
        h.push_str(&v);
        h.push_str("\r\n");
    }
    if close {
        h.push_str("Connection: close\r\n");
    }
    h.push_str("\r\n");
    h.into_bytes()
}

async fn write_simple(stream: &mut TcpStream, status: u16, msg: &str) {
    let body = error_body("BAD_REQUEST", "http", msg);
    let mut out = head_bytes(status, "application/json", body.len(), &[], true);
    out.extend_from_slice(body.as_bytes());
    let _ = stream.write_all(&out).await;
    let _ = stream.shutdown().await;
}

/// Reads the next request (head, then any body, which is discarded). `None` when the
/// connection is done: closed, idle, or answered with an error here.
async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<(Req, bool)> {
    let (head, used) = loop {
        if let Some(x) = parse_head(buf) {
            break x;
        }
        if buf.len() > MAX_HEAD {
            write_simple(stream, 431, "request head too large").await;
            return None;
        }
        if !fill(stream, buf).await {
            return None;
        }
    };
    buf.drain(..used.min(buf.len()));
    let (req, keep_alive, body_len) = match head {
        Head::Req(r, k, b) => (r, k, b),
        Head::Bad(status, msg) => {
            write_simple(stream, status, msg).await;
            return None;
        }
    };
    while buf.len() < body_len {
        if !fill(stream, buf).await {
            return None;
        }
    }
    buf.drain(..body_len);
    Some((req, keep_alive))
}

/// Sends a reply; false when the connection must be closed afterwards.
async fn send(stream: &mut TcpStream, reply: Reply, keep_alive: bool) -> bool {
    match reply {
        Reply::Full { status, content_type, headers, body } => {
            let head = head_bytes(status, &content_type, body.len(), &headers, !keep_alive);
            // Small bodies in one write; large ones without copying them again.
            let sent = if body.len() < 16 * 1024 {
                let mut out = head;
                out.extend_from_slice(&body);
                stream.write_all(&out).await
            } else {
                match stream.write_all(&head).await {
                    Ok(()) => stream.write_all(&body).await,
                    Err(e) => Err(e),
                }
            };
            if sent.is_err() {
                return false;
            }
            if !keep_alive {
                let _ = stream.shutdown().await;
                return false;
            }
            true
        }
        Reply::Reset => {
            // SO_LINGER 0 turns the close into an RST: the client sees "connection reset".
            let _ = stream.set_zero_linger();
            false
        }
        Reply::Cut { status, content_type, body, keep } => {
            let mut out = head_bytes(status, &content_type, body.len(), &[], false);
            out.extend_from_slice(&body[..keep.min(body.len())]);
            let _ = stream.write_all(&out).await;
            let _ = stream.flush().await;
            let _ = stream.shutdown().await;
            false
        }
    }
}

async fn connection(mut stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    while let Some((req, keep_alive)) = read_request(&mut stream, &mut buf).await {
        let reply = shared.handle(req).await;
        if !send(&mut stream, reply, keep_alive).await {
            return;
        }
    }
}
