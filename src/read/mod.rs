//! `read`: runs the selected streams concurrently, writes their records and states in order,
//! and reports how each ended.
//!
//! The layering inside: `plan` (which spans), `state` (what a STATE records), `dedupe`,
//! `pages` (one page, a list of pages), `window`, `months` and `stream` (the readers of each
//! stream shape), `output` (the one thread that writes stdout) and `progress` (what it draws).

mod context;
mod dedupe;
mod events;
mod months;
mod output;
mod pages;
mod plan;
mod progress;
pub(crate) mod state;
mod stream;
mod window;

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use crate::config::Config;
use crate::error::{Error, Failure, FailureType};
use crate::escape::printable;
use crate::http::{ApiClient, SignalFn};
use crate::protocol::catalog::{ConfiguredCatalog, SyncMode};
use crate::protocol::input::shorten;
use crate::protocol::state::InputState;
use crate::protocol::{LogLevel, MessageWriter};
use crate::settings::Settings;
use crate::streams::{self, ReadMode, StreamDef};
use context::{Start, StreamCtx};
use events::{Event, Output};
use output::Emitter;
use progress::Progress;
use state::{list_position, Coverage, StreamState};
use stream::read_stream;

/// One stream of the catalog, as this sync will read it.
struct Selected {
    name: String,
    /// The catalog asks for incremental, but the stream has no cursor.
    incremental_without_cursor: bool,
    /// The stream, or why it cannot be read (unknown name, unreadable state).
    start: std::result::Result<(&'static StreamDef, Start), Error>,
}

impl Selected {
    fn initial_state(&self) -> StreamState {
        match &self.start {
            Ok((_, Start::Windowed(c) | Start::RecentList(c) | Start::Months(c))) => StreamState::Coverage(c.clone()),
            Ok((def, Start::List(next))) if def.is_resumable() => StreamState::List { next_page: next.clone() },
            _ => StreamState::Nothing,
        }
    }
}

/// Runs a sync, writing Airbyte messages to `out`. Fails when a stream failed (after the
/// others finished) or when stdout broke.
pub(crate) fn read<W: Write + Send>(
    config: Config,
    catalog: ConfiguredCatalog,
    state: InputState,
    settings: &Settings,
    out: &mut MessageWriter<W>,
) -> std::result::Result<(), Failure> {
    let started = Instant::now();
    let selected: Vec<Selected> =
        catalog.streams.iter().map(|c| select(c.name.clone(), c.sync_mode, &config, &state)).collect();
    let client = ApiClient::new(&config, settings).map_err(Failure::Error)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("botmaker-read")
        .on_thread_park(crate::allocator::collect_when_idle)
        .build()
        .map_err(|e| Failure::Error(Error::system(format!("Could not start the async runtime: {e}"))))?;
    let (events, receiver) = Output::channel();
    let initial: Vec<(String, StreamState)> = selected.iter().map(|s| (s.name.clone(), s.initial_state())).collect();
    let progress =
        settings.progress.then(|| Progress::for_stderr(&initial.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>()));
    let config = Arc::new(config);
    let summary = std::thread::scope(|scope| {
        let emitter = Emitter::new(out, initial).with_progress(progress);
        let output = std::thread::Builder::new()
            .name("airbyte-output".into())
            .spawn_scoped(scope, move || emitter.run(receiver))
            .map_err(|e| Failure::Error(Error::system(format!("Could not start the output thread: {e}"))))?;
        runtime.block_on(run_streams(&client, &config, selected, &events));
        drop(events);
        match output.join() {
            Ok(result) => result.map_err(Failure::Stdout),
            Err(_) => Err(Failure::Error(Error::system("The output thread stopped unexpectedly."))),
        }
    })?;
    let finished = format!(
        "Read finished in {:.1} s: {} requests ({} with long-term search), {} retries.",
        started.elapsed().as_secs_f64(),
        summary.requests,
        summary.long_term_searches,
        summary.retries
    );
    out.log(LogLevel::Info, &finished).map_err(Failure::Stdout)?;
    if summary.failures.is_empty() {
        return Ok(());
    }
    let kind = [FailureType::Config, FailureType::Transient, FailureType::System]
        .into_iter()
        .find(|k| summary.failures.iter().any(|(_, e)| e.failure_type == *k))
        .unwrap_or(FailureType::System);
    let names: Vec<String> = summary.failures.iter().map(|(n, _)| printable(&shorten(n)).into_owned()).collect();
    let details: Vec<String> =
        summary.failures.iter().map(|(name, e)| format!("{}: {}", printable(&shorten(name)), e.message)).collect();
    let mut headline = format!("These streams did not sync successfully: {}. {}", names.join(", "), details.join(" "));
    if kind == FailureType::Transient {
        // Said here rather than where a request gives up: `check` shares those messages.
        headline.push_str(" The next sync resumes from the last checkpoint.");
    }
    Err(Failure::Error(Error { failure_type: kind, message: headline, internal: None }))
}

/// Resolves one configured stream: which stream it is and where it starts.
fn select(name: String, mode: SyncMode, config: &Config, state: &InputState) -> Selected {
    let Some(def) = streams::find(&name) else {
        let known: Vec<&str> = streams::STREAMS.iter().map(|s| s.name).collect();
        let message = format!(
            "Stream '{}' is in the configured catalog but the Botmaker source has no such stream (it has: {}). Refresh the source schema in Airbyte and remove it.",
            printable(&shorten(&name)),
            known.join(", ")
        );
        return Selected { name, incremental_without_cursor: false, start: Err(Error::config(message)) };
    };
    if def.bi_dashboard && !config.include_bi_dashboards {
        let message = format!(
            "Stream '{}' reads Botmaker's agent dashboards, which Botmaker bills as BI data-source consumption, and include_bi_dashboards is off. Turn on include_bi_dashboards in the source's settings to read it (and accept the cost), or remove the stream from the catalog.",
            def.name
        );
        return Selected { name, incremental_without_cursor: false, start: Err(Error::config(message)) };
    }
    // A full refresh starts from nothing; PyAirbyte asks for incremental on every stream, and
    // like Airbyte's CDK a stream without a cursor is then simply read in full (resuming a
    // list where the previous sync stopped, if it did).
    let incremental = mode == SyncMode::Incremental;
    let blob = state.blob(def.name);
    let start = match def.mode {
        ReadMode::Windowed { cursor, .. } | ReadMode::RecentList { cursor, .. } | ReadMode::Months { cursor, .. } => {
            let coverage = if incremental {
                Coverage::from_saved(def.name, blob, cursor, config.start_date)
            } else {
                Ok(Coverage::fresh(cursor, config.start_date))
            };
            coverage.map(|c| match def.mode {
                ReadMode::Windowed { .. } => Start::Windowed(c),
                ReadMode::Months { .. } => Start::Months(c),
                _ => Start::RecentList(c),
            })
        }
        ReadMode::List { .. } => list_position(def.name, blob).map(Start::List),
        ReadMode::Single => Ok(Start::List(None)),
    };
    let incremental_without_cursor = incremental && def.cursor_field().is_none();
    Selected { name, incremental_without_cursor, start: start.map(|s| (def, s)) }
}

async fn run_streams(client: &Arc<ApiClient>, config: &Arc<Config>, selected: Vec<Selected>, events: &Output) {
    let now = crate::time::now_to_millis();
    let mut tasks = tokio::task::JoinSet::new();
    let mut task_streams = std::collections::HashMap::new();
    for (index, selected) in selected.into_iter().enumerate() {
        let _ = events.send(Event::Started { stream: index });
        if selected.incremental_without_cursor {
            events.log(
                LogLevel::Info,
                format!(
                    "{}: has no cursor, so it is read in full although the catalog asks for incremental.",
                    selected.name
                ),
            );
        }
        let (def, start) = match selected.start {
            Ok(ok) => ok,
            Err(e) => {
                let _ = events.send(Event::Finished { stream: index, result: Err(e) });
                continue;
            }
        };
        if let Some(coverage) = start.coverage().filter(|c| c.cursor > now) {
            // Kept, not moved back (records past it would come again), but not in silence.
            events.log(
                LogLevel::Warn,
                format!(
                    "{}: the saved state's cursor ({} = {}) is later than now, so nothing new is read until that time. If the state was edited by hand or written on a machine whose clock ran ahead, reset the stream in Airbyte.",
                    def.name,
                    coverage.cursor_field,
                    crate::time::format_cursor(coverage.cursor)
                ),
            );
        }
        let signals = events.clone();
        let signal: SignalFn = Arc::new(move |signal| {
            let _ = signals.send(Event::Http { stream: index, signal });
        });
        let endpoint = client.endpoint(def.name, def.path, (def.rate_limit.requests, def.rate_limit.per), signal);
        let ctx = Arc::new(StreamCtx::new(index, def, endpoint, events.clone(), config.clone(), now));
        let handle = tasks.spawn(async move {
            let result = read_stream(ctx.clone(), start).await;
            let _ = ctx.out.send(Event::Finished { stream: index, result });
        });
        task_streams.insert(handle.id(), index);
    }
    while let Some(joined) = tasks.join_next_with_id().await {
        if let Err(e) = joined {
            // A panic in a stream task: report the stream as failed rather than silently done.
            // (Only where panics unwind, as in tests: release builds abort, after main.rs's panic
            // hook has written a system_error TRACE.)
            if let Some(&index) = task_streams.get(&e.id()) {
                let result = Err(Error::system(format!("The stream's reader stopped unexpectedly: {e}")));
                let _ = events.send(Event::Finished { stream: index, result });
            }
        }
    }
}
