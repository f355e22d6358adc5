//! `bench-tool`: small helpers for bench/run.sh, so the script needs neither jq nor python.
//!
//! - `count`: reads a connector's Airbyte output on stdin and prints `key=value` lines:
//!   `bytes`, `lines`, `records`, `states`, `trace_errors`, `warn_logs`, `stream.NAME.records`.
//!   It scans bytes (no JSON parsing), so it costs far less CPU than the connector it counts.
//! - `ceiling --counts F --summary F [--overlap N]`: the rate-limit ceiling of a sync from the
//!   mock's `/_mock/counts` and `/_mock/requests/summary`; prints a markdown table per stream
//!   and `key=value` totals.
//! - `summary --summary F`: `key=value` lines of a `/_mock/requests/summary` document.
//! - `spawn-time --runs N -- CMD ARGS...`: runs CMD N times (stdout/stderr to /dev/null) and
//!   prints `mean_ms`, `min_ms`, `median_ms`, `max_ms` of spawn-to-exit wall time.

use std::collections::BTreeMap;
use std::io::{BufRead, Read};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use serde_json::Value;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("count") => count(),
        Some("ceiling") => ceiling(&args[1..]),
        Some("summary") => summary(&args[1..]),
        Some("spawn-time") => spawn_time(&args[1..]),
        _ => Err("usage: bench-tool count | ceiling --counts F --summary F [--overlap N] | summary --summary F | spawn-time --runs N -- CMD...".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-tool: {e}");
            ExitCode::FAILURE
        }
    }
}

fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(String::as_str)
}

fn read_json(path: &str) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("{path}: not JSON: {e}"))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn count() -> Result<(), String> {
    const RECORD: &[u8] = b"{\"type\":\"RECORD\",\"record\":{\"stream\":\"";
    let mut input = std::io::stdin().lock();
    let mut line = Vec::with_capacity(64 * 1024);
    let (mut bytes, mut lines, mut records, mut states, mut trace_errors, mut warn_logs, mut other) =
        (0u64, 0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
    let mut per_stream: BTreeMap<String, u64> = BTreeMap::new();
    loop {
        line.clear();
        let n = input.read_until(b'\n', &mut line).map_err(|e| format!("reading stdin: {e}"))?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        lines += 1;
        if let Some(rest) = line.strip_prefix(RECORD) {
            records += 1;
            let end = rest.iter().position(|&b| b == b'"').unwrap_or(0);
            let name = &rest[..end];
            match per_stream.get_mut(std::str::from_utf8(name).unwrap_or("?")) {
                Some(c) => *c += 1,
                None => {
                    per_stream.insert(String::from_utf8_lossy(name).into_owned(), 1);
                }
            }
        } else if line.starts_with(b"{\"type\":\"STATE\"") {
            states += 1;
        } else if line.starts_with(b"{\"type\":\"TRACE\"") && find(&line, b"\"type\":\"ERROR\"").is_some() {
            trace_errors += 1;
        } else if line.starts_with(b"{\"type\":\"LOG\"")
            && (find(&line, b"\"level\":\"WARN\"").is_some() || find(&line, b"\"level\":\"ERROR\"").is_some())
        {
            warn_logs += 1;
            eprintln!("bench-tool count: connector said: {}", String::from_utf8_lossy(&line[..line.len().min(400)]).trim_end());
        } else {
            other += 1;
        }
    }
    // Drain anything after a last line without a newline (read_until already returned it).
    let _ = input.read_to_end(&mut Vec::new());
    println!("bytes={bytes}");
    println!("lines={lines}");
    println!("records={records}");
    println!("states={states}");
    println!("trace_errors={trace_errors}");
    println!("warn_logs={warn_logs}");
    println!("other_lines={other}");
    for (s, n) in per_stream {
        println!("stream.{s}.records={n}");
    }
    Ok(())
}

/// Page size the connector asks for, and the documented rate in requests per second.
fn limits(stream: &str) -> Option<(u64, f64)> {
    Some(match stream {
        "chats" => (250, 3.0),
        "messages" => (1500, 5.0),
        "sessions" => (500, 5.0),
        "calls" => (250, 5.0),
        "contacts" => (100, 3.0),
        "agents" => (100, 200.0),
        "channels" => (u64::MAX, 1.0),
        "intents" => (200, 1.0),
        "tickets" => (500, 1.0),
        _ => return None,
    })
}

fn summary(args: &[String]) -> Result<(), String> {
    let s = read_json(flag(args, "--summary").ok_or("--summary F is required")?)?;
    println!("total={}", s["total"].as_u64().unwrap_or(0));
    println!("rate_limited={}", s["rate_limited"].as_u64().unwrap_or(0));
    println!("long_term_search={}", s["long_term_search"].as_u64().unwrap_or(0));
    if let Some(m) = s["by_status"].as_object() {
        for (k, v) in m {
            println!("status.{k}={}", v.as_u64().unwrap_or(0));
        }
    }
    if let Some(m) = s["by_endpoint"].as_object() {
        for (k, v) in m {
            println!("endpoint.{k}={}", v.as_u64().unwrap_or(0));
        }
    }
    Ok(())
}

fn ceiling(args: &[String]) -> Result<(), String> {
    let counts = read_json(flag(args, "--counts").ok_or("--counts F is required")?)?;
    let summ = read_json(flag(args, "--summary").ok_or("--summary F is required")?)?;
    let overlap: u64 = flag(args, "--overlap").unwrap_or("10").parse().map_err(|_| "bad --overlap")?;
    let made = |s: &str| summ["by_endpoint"][s].as_u64().unwrap_or(0);
    let mut worst = (0.0f64, String::new());
    let mut worst_overlap = (0.0f64, String::new());
    let mut worst_actual = (0.0f64, String::new());
    println!("| stream | records | page | limit (req/s) | min requests | requests made | extra | ceiling (s) | time at made requests (s) |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let streams = ["chats", "messages", "sessions", "calls", "contacts", "agents", "channels", "intents", "tickets"];
    let mut kv = Vec::new();
    for s in streams {
        let (page, rate) = limits(s).expect("known stream");
        let records = counts[s].as_u64().unwrap_or(0);
        let min = if page == u64::MAX { 1 } else { records.div_ceil(page).max(1) };
        // Tickets: pages overlap by `overlap` items, so each page after the first brings
        // page - overlap new ones.
        let min_overlap = if s == "tickets" && records > page {
            1 + (records - page).div_ceil(page - overlap)
        } else {
            min
        };
        let actual = made(s);
        let t = min as f64 / rate;
        let t_overlap = min_overlap as f64 / rate;
        let t_actual = actual as f64 / rate;
        if t > worst.0 {
            worst = (t, s.to_string());
        }
        if t_overlap > worst_overlap.0 {
            worst_overlap = (t_overlap, s.to_string());
        }
        if t_actual > worst_actual.0 {
            worst_actual = (t_actual, s.to_string());
        }
        let min_shown =
            if min_overlap != min { format!("{min} ({min_overlap} with {overlap}-item overlap)") } else { min.to_string() };
        let extra = actual as i64 - min_overlap as i64;
        let page_shown = if page == u64::MAX { "all".to_string() } else { page.to_string() };
        let t_shown = if min_overlap != min { format!("{t:.1} ({t_overlap:.1})") } else { format!("{t:.1}") };
        println!(
            "| {s} | {records} | {page_shown} | {rate} | {min_shown} | {actual} | {extra:+} | {t_shown} | {t_actual:.1} |"
        );
        kv.push(format!("stream.{s}.min_requests={min_overlap}"));
        kv.push(format!("stream.{s}.requests={actual}"));
    }
    println!();
    for line in kv {
        println!("{line}");
    }
    println!("ceiling_s={:.2}", worst.0);
    println!("ceiling_stream={}", worst.1);
    println!("ceiling_overlap_s={:.2}", worst_overlap.0);
    println!("ceiling_overlap_stream={}", worst_overlap.1);
    println!("ceiling_at_made_requests_s={:.2}", worst_actual.0);
    println!("ceiling_at_made_requests_stream={}", worst_actual.1);
    println!("rate_limited={}", summ["rate_limited"].as_u64().unwrap_or(0));
    println!("status_429={}", summ["by_status"]["429"].as_u64().unwrap_or(0));
    println!("requests_total={}", summ["total"].as_u64().unwrap_or(0));
    Ok(())
}

fn spawn_time(args: &[String]) -> Result<(), String> {
    let runs: usize = flag(args, "--runs").unwrap_or("100").parse().map_err(|_| "bad --runs")?;
    let cmd_at = args.iter().position(|a| a == "--").ok_or("spawn-time needs -- CMD ARGS")? + 1;
    let cmd = args.get(cmd_at).ok_or("spawn-time needs a command")?;
    let rest = &args[cmd_at + 1..];
    let mut times = Vec::with_capacity(runs);
    // A few warm-up runs: page cache and dynamic loader, as hyperfine's --warmup.
    for i in 0..runs + 3 {
        let t = Instant::now();
        let status = Command::new(cmd)
            .args(rest)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| format!("{cmd}: {e}"))?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        if !status.success() {
            return Err(format!("{cmd} exited with {status}"));
        }
        if i >= 3 {
            times.push(ms);
        }
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    println!("runs={runs}");
    println!("mean_ms={mean:.3}");
    println!("min_ms={:.3}", times[0]);
    println!("median_ms={:.3}", times[times.len() / 2]);
    println!("max_ms={:.3}", times[times.len() - 1]);
    Ok(())
}
