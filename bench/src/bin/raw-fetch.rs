//! `raw-fetch`: the benchmark's raw baseline.
//!
//! The least a client can do to read a Botmaker account: fetch every page of the nine
//! endpoints from the same server and data the connector reads, parse each body once with
//! `serde_json::from_slice::<serde_json::Value>`, count its items, follow its paging and
//! discard it. No typed records, no filtering, no deduplication, no output, no client-side
//! rate limiting, no retries beyond a plain "try again" on a non-200.
//!
//! Windowed endpoints (chats, messages, sessions, calls) are read in fixed date windows
//! (`--window-hours`, default 24) with `long-term-search=true`, following `nextPage`; contacts
//! follows `next-page-token`; agents and intents follow `nextPage`; channels is one request;
//! tickets pages by `limit=500`/`offset` (no overlap). All chains run on one tokio runtime,
//! at most `--concurrency` requests in flight, longest chains first.
//!
//! Output: `key=value` lines on stdout (`records`, `requests`, `bytes`, `wall_s`,
//! `records_per_s`, and `stream.NAME.records` / `stream.NAME.requests`).

use std::collections::{BTreeMap, VecDeque};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::Url;
use serde_json::Value;

#[derive(Clone, Copy, Debug)]
enum Paging {
    /// `nextPage` is an absolute URL.
    NextUrl,
    /// `nextPage` is a token, sent back in this query parameter.
    NextToken(&'static str),
    /// `limit`/`offset` until `offset >= total`.
    Offset { limit: u64 },
    /// One response.
    Single,
}

#[derive(Clone, Debug)]
struct Job {
    stream: &'static str,
    first: Url,
    paging: Paging,
}

#[derive(Default, Clone, Copy)]
struct Tally {
    records: u64,
    requests: u64,
    bytes: u64,
    retries: u64,
}

struct Args {
    url: String,
    token: String,
    start_ms: i64,
    end_ms: i64,
    concurrency: usize,
    window_hours: f64,
    streams: Vec<String>,
}

const ALL: [&str; 9] = ["chats", "messages", "sessions", "calls", "contacts", "agents", "channels", "intents", "tickets"];

fn usage() -> &'static str {
    "usage: raw-fetch --url BASE_URL [--token T] --start DATE [--end DATE] [--concurrency N] \
     [--window-hours H] [--streams a,b,...]\n  DATE: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS[.fff]Z; --end defaults to now - 2 min"
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        url: String::new(),
        token: "mock-token-0123456789".into(),
        start_ms: i64::MIN,
        end_ms: now_ms() - 120_000,
        concurrency: 8,
        window_hours: 24.0,
        streams: ALL.iter().map(|s| s.to_string()).collect(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            println!("{}", usage());
            std::process::exit(0);
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--url" => a.url = value.trim_end_matches('/').to_string(),
            "--token" => a.token = value,
            "--start" => a.start_ms = parse_date(&value).ok_or_else(|| format!("bad --start {value:?}"))?,
            "--end" => a.end_ms = parse_date(&value).ok_or_else(|| format!("bad --end {value:?}"))?,
            "--concurrency" => a.concurrency = value.parse().map_err(|_| format!("bad --concurrency {value:?}"))?,
            "--window-hours" => a.window_hours = value.parse().map_err(|_| format!("bad --window-hours {value:?}"))?,
            "--streams" => a.streams = value.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if a.url.is_empty() || a.start_ms == i64::MIN {
        return Err("--url and --start are required".into());
    }
    if a.concurrency == 0 || !(a.window_hours > 0.0) || a.window_hours > 27.0 * 24.0 {
        return Err("--concurrency must be >= 1 and --window-hours within (0, 648]".into());
    }
    if let Some(s) = a.streams.iter().find(|s| !ALL.contains(&s.as_str())) {
        return Err(format!("unknown stream {s:?}"));
    }
    Ok(a)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("raw-fetch: {e}\n{}", usage());
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("raw-fetch: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let started = Instant::now();
    let jobs = plan(&args)?;
    let client = reqwest::Client::builder()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(args.concurrency)
        .timeout(Duration::from_secs(120))
        .build()
        .map_err(|e| e.to_string())?;
    let queue = Arc::new(Mutex::new(VecDeque::from(jobs)));
    let tallies: Arc<Mutex<BTreeMap<&'static str, Tally>>> = Arc::default();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..args.concurrency {
        let (queue, tallies, client, token) = (queue.clone(), tallies.clone(), client.clone(), args.token.clone());
        workers.spawn(async move {
            loop {
                let Some(job) = queue.lock().unwrap().pop_front() else { return Ok::<(), String>(()) };
                let t = walk(&client, &token, &job).await?;
                let mut all = tallies.lock().unwrap();
                let e = all.entry(job.stream).or_default();
                e.records += t.records;
                e.requests += t.requests;
                e.bytes += t.bytes;
                e.retries += t.retries;
            }
        });
    }
    while let Some(r) = workers.join_next().await {
        r.map_err(|e| format!("worker stopped: {e}"))??;
    }
    let wall = started.elapsed().as_secs_f64();
    let all = tallies.lock().unwrap();
    let total = all.values().fold(Tally::default(), |a, t| Tally {
        records: a.records + t.records,
        requests: a.requests + t.requests,
        bytes: a.bytes + t.bytes,
        retries: a.retries + t.retries,
    });
    println!("records={}", total.records);
    println!("requests={}", total.requests);
    println!("retries={}", total.retries);
    println!("bytes={}", total.bytes);
    println!("wall_s={wall:.3}");
    println!("records_per_s={:.0}", total.records as f64 / wall.max(1e-9));
    for (s, t) in all.iter() {
        println!("stream.{s}.records={}", t.records);
        println!("stream.{s}.requests={}", t.requests);
    }
    Ok(())
}

/// Every page chain to walk, the ones expected to be longest first.
fn plan(a: &Args) -> Result<Vec<Job>, String> {
    let base = |path: &str, params: &[(&str, String)]| -> Result<Url, String> {
        let mut u = Url::parse(&format!("{}/{path}", a.url)).map_err(|e| format!("bad --url: {e}"))?;
        if !params.is_empty() {
            u.query_pairs_mut().extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())));
        }
        Ok(u)
    };
    let want = |s: &str| a.streams.iter().any(|x| x == s);
    let mut jobs = Vec::new();
    // Single chains first (they cannot be split), then the windows.
    if want("contacts") {
        jobs.push(Job { stream: "contacts", first: base("contacts", &[])?, paging: Paging::NextToken("next-page-token") });
    }
    if want("tickets") {
        let days = ((now_ms() - a.start_ms) as f64 / 86_400_000.0).ceil() as i64 + 1;
        let first = base("tickets", &[("limit", "500".into()), ("daysBeforeNow", days.max(1).to_string())])?;
        jobs.push(Job { stream: "tickets", first, paging: Paging::Offset { limit: 500 } });
    }
    let step = (a.window_hours * 3_600_000.0) as i64;
    for s in ["messages", "sessions", "calls", "chats"] {
        if !want(s) {
            continue;
        }
        let mut from = a.start_ms;
        while from < a.end_ms {
            let to = (from + step).min(a.end_ms);
            let mut params: Vec<(&str, String)> = match s {
                "messages" => vec![("limit", "1500".into())],
                "sessions" => vec![("timestamp-precision", "milliseconds".into())],
                _ => vec![],
            };
            params.push(("from", fmt_ms(from)));
            params.push(("to", fmt_ms(to)));
            params.push(("long-term-search", "true".into()));
            jobs.push(Job { stream: s, first: base(s, &params)?, paging: Paging::NextUrl });
            from = to;
        }
    }
    for (s, paging) in [("intents", Paging::NextUrl), ("agents", Paging::NextUrl), ("channels", Paging::Single)] {
        if want(s) {
            jobs.push(Job { stream: s, first: base(s, &[])?, paging });
        }
    }
    Ok(jobs)
}

/// Fetches one chain of pages to its end.
async fn walk(client: &reqwest::Client, token: &str, job: &Job) -> Result<Tally, String> {
    let mut t = Tally::default();
    let mut url = job.first.clone();
    let mut offset = 0u64;
    if let Paging::Offset { limit } = job.paging {
        url = with_param(&job.first, "limit", &limit.to_string());
        url = with_param(&url, "offset", "0");
    }
    loop {
        let body = get(client, token, &url, &mut t).await?;
        t.requests += 1;
        t.bytes += body.len() as u64;
        let v: Value = serde_json::from_slice(&body)
            .map_err(|e| format!("{}: body is not JSON ({e}): {:?}", job.stream, excerpt(&body)))?;
        let items = v.get("items").or_else(|| v.get("tickets")).and_then(Value::as_array).map_or(0, Vec::len) as u64;
        t.records += items;
        let next = v.get("nextPage").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
        let total = v.get("total").and_then(Value::as_u64);
        drop(v);
        url = match job.paging {
            Paging::Single => return Ok(t),
            Paging::NextUrl => match next {
                Some(n) => Url::parse(&n).map_err(|e| format!("{}: nextPage {n:?}: {e}", job.stream))?,
                None => return Ok(t),
            },
            Paging::NextToken(param) => match next {
                Some(n) => with_param(&job.first, param, &n),
                None => return Ok(t),
            },
            Paging::Offset { .. } => {
                offset += items;
                if items == 0 || total.is_none_or(|total| offset >= total) {
                    return Ok(t);
                }
                with_param(&url, "offset", &offset.to_string())
            }
        };
        if items == 0 {
            return Ok(t);
        }
    }
}

async fn get(client: &reqwest::Client, token: &str, url: &Url, t: &mut Tally) -> Result<bytes::Bytes, String> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let sent = client.get(url.clone()).header("access-token", token).header("accept", "application/json").send().await;
        let why = match sent {
            Ok(r) if r.status().as_u16() == 200 => match r.bytes().await {
                Ok(b) => return Ok(b),
                Err(e) => format!("body: {e}"),
            },
            Ok(r) => format!("HTTP {}", r.status()),
            Err(e) => format!("{e}"),
        };
        if attempt >= 20 {
            return Err(format!("GET {url} failed {attempt} times, last: {why}"));
        }
        t.retries += 1;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn with_param(url: &Url, key: &str, value: &str) -> Url {
    let pairs: Vec<(String, String)> = url.query_pairs().filter(|(k, _)| k != key).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let mut u = url.clone();
    u.query_pairs_mut().clear().extend_pairs(pairs).append_pair(key, value);
    u
}

fn excerpt(b: &[u8]) -> String {
    String::from_utf8_lossy(&b[..b.len().min(120)]).into_owned()
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

// ------------------------------------------------------------------ dates without chrono

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SS[.fff]Z` (UTC only).
fn parse_date(s: &str) -> Option<i64> {
    let s = s.trim();
    let num = |a: usize, b: usize| s.get(a..b)?.parse::<i64>().ok();
    let days = days_from_civil(num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let mut ms = days * 86_400_000;
    if s.len() > 10 {
        let rest = s.strip_suffix('Z')?;
        ms += num(11, 13)? * 3_600_000 + num(14, 16)? * 60_000 + num(17, 19)? * 1000;
        if let Some(frac) = rest.get(20..).filter(|f| !f.is_empty()) {
            let f: String = frac.chars().chain("000".chars()).take(3).collect();
            ms += f.parse::<i64>().ok()?;
        }
    }
    Some(ms)
}

fn fmt_ms(ms: i64) -> String {
    let (days, rem) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (y, m, d) = civil_from_days(days);
    let (h, mi, s, f) = (rem / 3_600_000, rem / 60_000 % 60, rem / 1000 % 60, rem % 1000);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{f:03}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        let ms = parse_date("2024-02-29T23:59:58.5Z").unwrap();
        assert_eq!(fmt_ms(ms), "2024-02-29T23:59:58.500Z");
        assert_eq!(fmt_ms(parse_date("1970-01-02").unwrap()), "1970-01-02T00:00:00.000Z");
    }
}
