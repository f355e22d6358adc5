//! `botmaker-mock` command line: runs the mock until SIGINT/SIGTERM.
//!
//! The first stdout line is `botmaker-mock listening on <base URL>` (flushed), which scripts
//! parse; everything else goes to stderr.

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use botmaker_mock::{
    FaultConfig, Latency, MockConfig, MockServer, NextPageKey, RetryAfterMode, Stream, TimestampShape, Variants,
};
use chrono::{DateTime, Utc};
use clap::Parser;

const AFTER_HELP: &str = "\
Endpoints (GET, header `access-token: <token>`; `Bearer <token>` is rejected with 401):
  /v2.0/chats     250/page, 3 rps,  from < lastActivity < to, 7-day window without long-term-search
  /v2.0/messages  limit 250..1500 (1000), 5 rps, from <= t <= to, 400 beyond 3 days without LTS
  /v2.0/sessions  500/page, 5 rps, from <= t < to, finished only unless include-open-sessions
  /v2.0/calls     250/page, 5 rps, from < t <= to, 7-day window without LTS
  /v2.0/contacts  100/page, 3 rps, nextPage is a token sent back as next-page-token
  /v2.0/agents 100/page 200 rps, /v2.0/intents 200/page 1 rps, /v2.0/channels unpaginated 1 rps
  /v2.0/tickets   {total, tickets}, limit 1..500 (50), offset, daysBeforeNow (60), 60/min
  /v2.0/dashboards/agent-metrics  session-status open|closed required, from <= t < to, 5000/page, 1 rps
  /v2.0/dashboards/agent-performance  from <= checkin < to, 5000/page, 1 rps
  /v2.0/notifications/sent-results  from (<= 3 months back) <= start <= to, newest first, 500/page, 30 rps
  /v2.0/billing/whatsapp/billed-conversations  billingPeriod=yyyy-MM, 2500/page, 1 rps
  /v2.0/notifications/campaigns 250/page 5 rps, /v2.0/roles 50/page 1 rps,
  /v2.0/notifications/contacts-blacklist {contacts: [\"549…\"]} 1000/page 30 rps
  /v2.0/whatsapp/templates, /v2.0/whatsapp/accounts, /v2.0/webhooks {items}, /v2.0/variables
  {variables}, /v2.0/typifications {typifications}: one response, 1 rps;
  /v2.0/tickets/field-definitions one object (a list with --field-definitions-list), 60/min
Windows longer than one calendar month answer 400 INVALID_DATETIME_INTERVAL (not sent-results).
Other readings of the docs (--empty-pages-every, --next-page-key, --numbers-as-strings,
--strings-as-numbers, --timestamps, --lts-required, --no-recent-window, --field-definitions-list)
are off by default.
Control (no auth): /_mock/health, /_mock/counts, /_mock/requests/summary.
Exit: SIGINT or SIGTERM. See mock/README.md for every quirk.";

/// A faithful mock of the Botmaker REST API v2.0 (GET endpoints /chats, /messages, /sessions,
/// /calls, /contacts, /agents, /channels, /intents, /tickets and 13 more: dashboards,
/// notifications, WhatsApp templates and accounts, billing, roles, variables, typifications,
/// ticket field definitions, webhooks), with deterministic generated data, the real API's
/// per-endpoint quirks, rate limits and optional fault injection.
///
/// Control endpoints (no auth): GET /_mock/health, /_mock/counts, /_mock/requests/summary.
#[derive(Parser, Debug)]
#[command(name = "botmaker-mock", version, after_help = AFTER_HELP)]
struct Cli {
    /// Address to bind. With 0.0.0.0 the nextPage URLs use the client's Host header.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port to bind (0 = an ephemeral port; the chosen one is printed).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Records per windowed stream, contacts and agent metrics; agents = clamp(N/100, 3, 300),
    /// intents = clamp(N/50, 3, 2000), channels = 6, the other endpoints smaller shares (all 0
    /// when N = 0; see mock/README.md).
    #[arg(long, default_value_t = 1000)]
    scale: u64,
    /// Override one stream's record count, e.g. `--count messages=1000000` or
    /// `--count notification_results=50` (repeatable).
    #[arg(long = "count", value_name = "STREAM=N", value_parser = parse_count)]
    counts: Vec<(Stream, u64)>,
    /// Seed of all generated data and fault draws.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Generated data covers [anchor - span_days, anchor).
    #[arg(long, default_value_t = 30)]
    span_days: u32,
    /// End of the generated data (RFC 3339); default: the start time.
    #[arg(long, value_parser = parse_anchor)]
    anchor: Option<DateTime<Utc>>,
    /// The only accepted `access-token` header value.
    #[arg(long, default_value = "mock-token-0123456789")]
    token: String,
    /// Disable the per-endpoint rate limits (chats 3/s, messages 5/s, ..., tickets 60/min).
    #[arg(long)]
    no_rate_limits: bool,
    /// Send `Retry-After` (seconds) on rate-limit 429s.
    #[arg(long)]
    rate_limit_retry_after: bool,
    /// Base latency added to every API response, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Extra uniform random latency 0..=Y ms.
    #[arg(long, default_value_t = 0)]
    jitter_ms: u64,
    /// Probability of an injected 429.
    #[arg(long, default_value_t = 0.0, value_parser = parse_prob)]
    fault_429: f64,
    /// Retry-After on injected 429s: none | seconds | http-date | mixed.
    #[arg(long, default_value = "none")]
    retry_after: RetryAfterMode,
    /// Probability of a 500/502/503/504 (HTML or JSON body).
    #[arg(long = "fault-5xx", default_value_t = 0.0, value_parser = parse_prob)]
    fault_5xx: f64,
    /// Probability of a connection reset without response.
    #[arg(long, default_value_t = 0.0, value_parser = parse_prob)]
    fault_reset: f64,
    /// Probability of a 200 with a broken body (truncated JSON, HTML, wrong envelope).
    #[arg(long, default_value_t = 0.0, value_parser = parse_prob)]
    fault_malformed: f64,
    /// Probability of a body cut short of its Content-Length.
    #[arg(long, default_value_t = 0.0, value_parser = parse_prob)]
    fault_body_cut: f64,
    /// Probability of an extra `--slow-ms` delay.
    #[arg(long, default_value_t = 0.0, value_parser = parse_prob)]
    fault_slow: f64,
    /// Delay of a slow response, in milliseconds.
    #[arg(long, default_value_t = 1500)]
    slow_ms: u64,
    /// Also write the base URL to this file (for scripts).
    #[arg(long)]
    url_file: Option<PathBuf>,
    /// API reading: every Nth page boundary serves an extra `"items": []` page that links on
    /// (0 = off).
    #[arg(long, value_name = "N", default_value_t = 0)]
    empty_pages_every: u32,
    /// API reading: the envelope key of next-page links: nextPage | nextPageURL | nextPageUrl.
    #[arg(long, value_name = "KEY", default_value = "nextPage")]
    next_page_key: NextPageKey,
    /// API reading: one endpoint's next-page key, e.g. `--next-page-key-for intents=nextPageURL`
    /// (repeatable; wins over --next-page-key).
    #[arg(long = "next-page-key-for", value_name = "STREAM=KEY", value_parser = parse_key_for)]
    next_page_key_for: Vec<(Stream, NextPageKey)>,
    /// API reading: integer fields (tickets companyId, authorId, followBy; agents slots;
    /// channels daysToExpire) arrive as JSON strings.
    #[arg(long)]
    numbers_as_strings: bool,
    /// API reading: string fields holding canonical integers (contactId, wabaId, …) arrive as
    /// JSON numbers.
    #[arg(long)]
    strings_as_numbers: bool,
    /// API reading: record timestamps of the windowed endpoints and tickets as
    /// rfc3339 | epoch-millis | epoch-seconds | zone-less | space | mixed.
    #[arg(long, value_name = "SHAPE", default_value = "rfc3339")]
    timestamps: TimestampShape,
    /// API reading: these endpoints answer 400 LONG_TERM_SEARCH_PARAM_REQUIRED to any request
    /// without long-term-search=true (comma list; without a value: chats,sessions).
    #[arg(long, value_name = "STREAMS", num_args = 0..=1, default_missing_value = "chats,sessions")]
    lts_required: Option<StreamList>,
    /// API reading: these endpoints serve their whole history without long-term-search
    /// (comma list; without a value: calls).
    #[arg(long, value_name = "STREAMS", num_args = 0..=1, default_missing_value = "calls")]
    no_recent_window: Option<StreamList>,
    /// API reading: /tickets/field-definitions answers a list of every definition instead of the
    /// spec's single object.
    #[arg(long)]
    field_definitions_list: bool,
}

/// A comma-separated list of stream names.
#[derive(Clone, Debug)]
struct StreamList(Vec<Stream>);

impl std::str::FromStr for StreamList {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.split(',').filter(|x| !x.trim().is_empty()).map(str::parse).collect::<Result<_, _>>().map(StreamList)
    }
}

fn parse_key_for(s: &str) -> Result<(Stream, NextPageKey), String> {
    let (k, v) = s.split_once('=').ok_or_else(|| format!("expected STREAM=KEY, got {s:?}"))?;
    let stream: Stream = k.parse().map_err(|e: anyhow::Error| e.to_string())?;
    let key: NextPageKey = v.parse().map_err(|e: anyhow::Error| e.to_string())?;
    Ok((stream, key))
}

fn parse_count(s: &str) -> Result<(Stream, u64), String> {
    let (k, v) = s.split_once('=').ok_or_else(|| format!("expected STREAM=N, got {s:?}"))?;
    let stream: Stream = k.parse().map_err(|e: anyhow::Error| e.to_string())?;
    let n: u64 = v.trim().parse().map_err(|_| format!("not a count: {v:?}"))?;
    Ok((stream, n))
}

fn parse_prob(s: &str) -> Result<f64, String> {
    let p: f64 = s.parse().map_err(|_| format!("not a number: {s:?}"))?;
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(format!("probability must be within 0..=1, got {p}"))
    }
}

fn parse_anchor(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("not an RFC 3339 datetime ({e}): {s:?}"))
}

impl Cli {
    fn config(&self) -> MockConfig {
        let mut counts = MockConfig::with_scale(self.scale);
        for (s, n) in &self.counts {
            counts.set_count(*s, *n);
        }
        MockConfig {
            seed: self.seed,
            counts: counts.counts,
            extended_counts: counts.extended_counts,
            span_days: self.span_days,
            anchor: self.anchor,
            token: self.token.clone(),
            host: self.host,
            port: self.port,
            rate_limits: !self.no_rate_limits,
            rate_limit_retry_after: self.rate_limit_retry_after,
            latency: Latency { base_ms: self.latency_ms, jitter_ms: self.jitter_ms },
            faults: FaultConfig {
                p_429: self.fault_429,
                retry_after: self.retry_after,
                p_5xx: self.fault_5xx,
                p_reset: self.fault_reset,
                p_malformed: self.fault_malformed,
                p_body_cut: self.fault_body_cut,
                p_slow: self.fault_slow,
                slow_ms: self.slow_ms,
            },
            variants: self.variants(),
        }
    }

    fn variants(&self) -> Variants {
        Variants {
            empty_pages_every: self.empty_pages_every,
            next_page_key: self.next_page_key,
            next_page_key_for: self.next_page_key_for.clone(),
            numbers_as_strings: self.numbers_as_strings,
            strings_as_numbers: self.strings_as_numbers,
            timestamps: self.timestamps,
            lts_required: self.lts_required.clone().map(|l| l.0).unwrap_or_default(),
            no_recent_window: self.no_recent_window.clone().map(|l| l.0).unwrap_or_default(),
            field_definitions_list: self.field_definitions_list,
        }
    }
}

/// Tells scripts where the mock listens: the URL file first (written atomically), then the
/// stdout line, so whichever a script waits for, both are in place once it appears.
fn announce(url: &str, url_file: Option<&Path>) -> anyhow::Result<()> {
    if let Some(path) = url_file {
        let tmp = path.with_extension("tmp-botmaker-mock");
        std::fs::write(&tmp, format!("{url}\n"))
            .and_then(|()| std::fs::rename(&tmp, path))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "botmaker-mock listening on {url}")?;
    out.flush()?;
    Ok(())
}

/// SIGINT and SIGTERM, listened for from before the mock announces itself: a script that
/// signals right after reading the URL line stops it cleanly instead of killing it.
struct Shutdown {
    rt: tokio::runtime::Runtime,
    #[cfg(unix)]
    signals: [tokio::signal::unix::Signal; 2],
}

impl Shutdown {
    fn listen() -> anyhow::Result<Shutdown> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        #[cfg(unix)]
        let signals = {
            use tokio::signal::unix::{signal, SignalKind};
            let _guard = rt.enter();
            [signal(SignalKind::interrupt())?, signal(SignalKind::terminate())?]
        };
        Ok(Shutdown {
            rt,
            #[cfg(unix)]
            signals,
        })
    }

    /// Blocks until one of the signals arrives.
    fn wait(self) -> anyhow::Result<()> {
        #[cfg(unix)]
        {
            let [mut int, mut term] = self.signals;
            self.rt.block_on(async {
                tokio::select! {
                    _ = int.recv() => {},
                    _ = term.recv() => {},
                }
            });
        }
        #[cfg(not(unix))]
        self.rt.block_on(tokio::signal::ctrl_c())?;
        Ok(())
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = cli.config();
    let shutdown = Shutdown::listen()?;
    let server = MockServer::start(config.clone())?;
    announce(&server.base_url(), cli.url_file.as_deref())?;
    eprintln!(
        "botmaker-mock: seed {} span {} days anchor {} token {:?} rate limits {}",
        config.seed,
        config.span_days,
        server.anchor().to_rfc3339(),
        config.token,
        if config.rate_limits { "on" } else { "off" },
    );
    for s in Stream::EVERY {
        eprintln!("  {:<24} {}", s.name(), server.count_all(s));
    }
    if config.variants != Variants::default() {
        eprintln!("  API readings: {:?}", config.variants);
    }
    shutdown.wait()?;
    eprintln!("botmaker-mock: shutting down");
    server.shutdown();
    // Give in-flight responses a moment (the runtime is already told to stop).
    std::thread::sleep(Duration::from_millis(10));
    Ok(())
}
