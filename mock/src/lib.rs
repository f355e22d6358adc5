//! `botmaker-mock`: a faithful mock of the Botmaker REST API v2.0 for the connector's tests,
//! the demo and the benchmarks.
//!
//! [`MockServer::start`] binds a port and serves on a background multi-thread tokio runtime, so
//! plain `#[test]` functions and scripts can use the synchronous facade below. Data is generated
//! lazily from `(seed, stream, index)` — a million records cost almost no memory — and runtime
//! changes (added records, touched chats, finished sessions) live in a small overlay. The
//! ground-truth methods ([`MockServer::expected`] and friends) return exactly the JSON the
//! server sends with every [`Variants`] switch off (the other readings of Botmaker's docs it can
//! serve instead). See `mock/README.md` for the behaviour and its deliberate quirks.

mod api;
mod compare;
mod config;
mod gen;
mod http;
mod json;
mod reshape;
mod rng;
mod store;
mod time;
mod variants;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::Value;

pub use compare::{canonical_timestamp, semantically_equal};
pub use config::{
    AuthOutcome, ExtendedCounts, FaultConfig, Latency, LoggedRequest, MockConfig, RetryAfterMode, Scenario, Stream,
    StreamCounts,
};
pub use gen::AGENT_METRIC_COUNTERS;
pub use variants::{NextPageKey, TimestampShape, Variants};

use api::Shared;
use gen::{Gen, SessOpts};
use store::{Filter, PageSpec, Start, Store};
use time::{now_ms, to_ms};

/// A running mock server. Dropping it stops the server (as does [`MockServer::shutdown`]).
pub struct MockServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    base_url: String,
    shutdown_tx: tokio::sync::watch::Sender<bool>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer").field("base_url", &self.base_url).finish()
    }
}

impl MockServer {
    /// Binds `config.host:config.port` and starts serving. Takes a few milliseconds.
    pub fn start(config: MockConfig) -> anyhow::Result<MockServer> {
        config.variants.check()?;
        let listener = std::net::TcpListener::bind((config.host, config.port))
            .with_context(|| format!("binding {}:{}", config.host, config.port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        // A wildcard bind is reachable under many names: records use 127.0.0.1, nextPage URLs
        // use the name the client connected to (its Host header).
        let unspecified = addr.ip().is_unspecified();
        let shown_ip = if unspecified {
            match addr.ip() {
                IpAddr::V4(_) => "127.0.0.1".to_string(),
                IpAddr::V6(_) => "[::1]".to_string(),
            }
        } else {
            match addr.ip() {
                IpAddr::V4(ip) => ip.to_string(),
                IpAddr::V6(ip) => format!("[{ip}]"),
            }
        };
        let base_url = format!("http://{shown_ip}:{}/v2.0", addr.port());
        let anchor = config.anchor.map(to_ms).unwrap_or_else(now_ms);
        let gen = Gen::new(config.seed, base_url.clone(), anchor, config.span_days, &config.counts_by_index());
        let shared = Arc::new(Shared::new(config, Store::new(gen), base_url.clone(), unspecified));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("botmaker-mock")
            .enable_all()
            .build()
            .context("building the mock's tokio runtime")?;
        let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
        let listener = {
            let _guard = runtime.enter();
            tokio::net::TcpListener::from_std(listener)?
        };
        runtime.spawn(http::serve(listener, shared.clone(), shutdown_rx));
        Ok(MockServer { shared, addr, base_url, shutdown_tx, runtime: Some(runtime) })
    }

    /// `http://127.0.0.1:PORT/v2.0`
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn token(&self) -> String {
        self.shared.cfg.token.clone()
    }

    /// End of the generated data (the server start time unless configured).
    pub fn anchor(&self) -> DateTime<Utc> {
        time::from_ms(self.shared.store.gen.anchor)
    }

    /// Start of the generated data: `anchor - span_days`.
    pub fn data_start(&self) -> DateTime<Utc> {
        time::from_ms(self.shared.store.gen.start)
    }

    /// Every API request so far (control endpoints excluded), in arrival order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.log.entries()
    }

    /// Empties the request log and the `/_mock/requests/summary` counters.
    pub fn clear_requests(&self) {
        self.shared.log.clear();
    }

    pub fn set_faults(&self, f: FaultConfig) {
        self.dynamic(|d| d.faults = f);
    }

    pub fn set_rate_limits(&self, on: bool) {
        self.dynamic(|d| d.rate_limits = on);
    }

    pub fn set_latency(&self, l: Latency) {
        self.dynamic(|d| d.latency = l);
    }

    /// Makes one endpoint misbehave (`None` restores normal behaviour).
    pub fn set_scenario(&self, stream: Stream, scenario: Option<Scenario>) {
        self.dynamic(|d| d.scenarios[stream.idx()] = scenario);
    }

    /// Switches the API readings the server follows from the next request on (see
    /// [`Variants`]); pages already handed out keep their records, in the new shape.
    ///
    /// # Panics
    /// When a switch names an endpoint it does not apply to ([`Variants::check`]): a bug in the
    /// calling test.
    pub fn set_variants(&self, variants: Variants) {
        if let Err(e) = variants.check() {
            panic!("botmaker-mock set_variants: {e}");
        }
        self.dynamic(|d| d.variants = Arc::new(variants));
    }

    /// The API readings in force.
    pub fn variants(&self) -> Variants {
        (*self.shared.dynamic.lock().unwrap_or_else(|e| e.into_inner()).variants).clone()
    }

    fn dynamic(&self, f: impl FnOnce(&mut api::Dynamic)) {
        f(&mut self.shared.dynamic.lock().unwrap_or_else(|e| e.into_inner()));
    }

    fn collect(&self, stream: Stream, lo: i64, hi: i64) -> Vec<Value> {
        let page = self.shared.store.page(&PageSpec {
            stream,
            lo,
            hi,
            start: Start::Begin,
            skip: 0,
            limit: usize::MAX,
            filter: &Filter::default(),
            now: now_ms(),
            include_open: false,
            sess: SessOpts::EXPECTED,
        });
        page.spans.iter().filter_map(|&(a, b)| serde_json::from_str(&page.body[a..b]).ok()).collect()
    }

    /// Ground truth: what a long-term search would return for records whose filter time lies
    /// in `[from, to)` (chats: last activity; sessions: creationTime, finished only, served as
    /// with `timestamp-precision=milliseconds` and no includes; messages/tickets: creationTime;
    /// calls: creationDatetime; agent metrics: sessionCreationTime; agent performance:
    /// checkin; notification results: start; billed conversations: startDatetime), in serving
    /// order: ascending by time then id (notification results: newest first). For full-refresh
    /// streams the range is ignored (same as [`MockServer::expected_all`]). Always the canonical
    /// form, whatever [`Variants`] the server follows.
    pub fn expected(&self, stream: Stream, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Value> {
        if !stream.is_windowed() {
            return self.expected_all(stream);
        }
        let (lo, hi) = Store::key_range(stream, to_ms(from), to_ms(to));
        if lo >= hi {
            return vec![];
        }
        self.collect(stream, lo, hi)
    }

    /// Everything currently visible (sessions: finished only), in serving order (tickets:
    /// ascending, the API serves them newest first).
    pub fn expected_all(&self, stream: Stream) -> Vec<Value> {
        self.collect(stream, i64::MIN, i64::MAX)
    }

    /// `expected(..).len()` without materialising anything: O(log n) plus the overlay
    /// (sessions also scan the last ~2 days for unfinished ones).
    pub fn count(&self, stream: Stream, from: DateTime<Utc>, to: DateTime<Utc>) -> u64 {
        if !stream.is_windowed() {
            return self.count_all(stream);
        }
        let (lo, hi) = Store::key_range(stream, to_ms(from), to_ms(to));
        self.shared.store.count(stream, lo, hi, now_ms())
    }

    pub fn count_all(&self, stream: Stream) -> u64 {
        self.shared.store.count(stream, i64::MIN, i64::MAX, now_ms())
    }

    /// Adds (or replaces, by primary key) explicit records. Their time is read from the JSON
    /// (chats: an optional `_mockLastActivity` key, stripped before serving, else
    /// `lastUserMessageDatetime`, else `creationTime`; calls: `creationDatetime`; others:
    /// `creationTime`). Added sessions count as finished.
    ///
    /// # Panics
    /// When a record lacks its primary key or (windowed streams) a parseable time: that is a
    /// bug in the calling test, better reported loudly.
    pub fn add_records(&self, stream: Stream, records: Vec<Value>) {
        if let Err(e) = self.shared.store.add_records(stream, records) {
            panic!("botmaker-mock add_records: {e}");
        }
    }

    /// Adds `n` realistic records spread over `[from, to)` (ignored for full-refresh streams)
    /// and returns their primary keys. Added sessions are finished.
    pub fn add_generated(&self, stream: Stream, n: u64, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<String> {
        self.shared.store.add_generated(stream, n, to_ms(from), to_ms(to))
    }

    /// Moves a chat's last activity and `lastUserMessageDatetime` to `at`, so it leaves its
    /// old time range. Returns false for an unknown chat id.
    pub fn touch_chat(&self, chat_id: &str, at: DateTime<Utc>) -> bool {
        self.shared.store.touch_chat(chat_id, to_ms(at))
    }

    /// The internal last activity a chat is filtered and ordered on by `/chats` (it is not a
    /// served field; `lastUserMessageDatetime` is at or before it, or absent).
    pub fn chat_last_activity(&self, chat_id: &str) -> Option<DateTime<Utc>> {
        self.shared.store.chat_key(chat_id).map(time::from_ms)
    }

    /// Creates a session starting at `at` that stays open (invisible without
    /// `include-open-sessions=true`) until [`MockServer::finish_session`]. Returns its id.
    pub fn open_session(&self, at: DateTime<Utc>) -> String {
        self.shared.store.open_session(to_ms(at), now_ms())
    }

    /// Finishes a session now: it then appears in listings at its (old) start time. Works for
    /// sessions from [`MockServer::open_session`] and for generated ones still open. Returns
    /// false for an unknown id.
    pub fn finish_session(&self, id: &str) -> bool {
        self.shared.store.finish_session(id, now_ms())
    }

    /// Stops the server and waits briefly for its threads.
    pub fn shutdown(mut self) {
        self.stop(true);
    }

    fn stop(&mut self, wait: bool) {
        let _ = self.shutdown_tx.send(true);
        if let Some(rt) = self.runtime.take() {
            // Blocking inside an async context would panic; let it wind down in the background.
            if wait && tokio::runtime::Handle::try_current().is_err() {
                rt.shutdown_timeout(std::time::Duration::from_millis(500));
            } else {
                rt.shutdown_background();
            }
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.stop(false);
    }
}
