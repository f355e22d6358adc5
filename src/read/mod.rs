//! `read`: runs the selected streams concurrently and reports how each ended.

pub mod emitter;
pub mod plan;
pub mod progress;
pub mod sink;
pub mod stream;

use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;

use crate::buffers::ChunkPool;
use crate::config::Config;
use crate::error::{Error, FailureType};
use crate::http::ApiClient;
use crate::protocol::catalog::{ConfiguredCatalog, SyncMode};
use crate::protocol::{LogLevel, MessageWriter};
use crate::state::InputState;
use crate::streams::{self, StreamDef};
use emitter::{Emitter, Event, Events};
use progress::Progress;
use stream::{read_stream, StreamJob, SyncContext};

/// What a stream of the catalog turned out to be.
enum Selected {
    Known { def: &'static StreamDef, incremental: bool },
    Unknown,
}

/// Runs a sync, writing Airbyte messages to `out`. Returns the process exit code.
pub fn run<W: Write + Send + 'static>(
    config: Config,
    catalog: ConfiguredCatalog,
    state: InputState,
    out: MessageWriter<W>,
) -> i32 {
    let started = Instant::now();
    let selected: Vec<(String, Selected)> = catalog
        .streams
        .iter()
        .map(|c| {
            let sel = match streams::find(&c.name) {
                Some(def) => Selected::Known { def, incremental: c.sync_mode == SyncMode::Incremental },
                None => Selected::Unknown,
            };
            (c.name.clone(), sel)
        })
        .collect();
    // Every stream (known or not) gets an output slot, so statuses can be reported for all.
    let names: Vec<(&str, Option<&'static str>)> = selected
        .iter()
        .map(|(name, sel)| match sel {
            Selected::Known { def, .. } => (def.name, def.cursor_field),
            Selected::Unknown => (name.as_str(), None),
        })
        .collect();
    let (events, receiver) = Events::channel();
    let known: Vec<&'static StreamDef> = selected
        .iter()
        .filter_map(|(_, s)| match s {
            Selected::Known { def, .. } => Some(*def),
            Selected::Unknown => None,
        })
        .collect();

    let log_events = events.clone();
    let client = ApiClient::new(&config, &known, Arc::new(move |level, message| log_events.log(level, message)));
    let mut emitter = Emitter::new(out, &names);
    let chunks = ChunkPool::new(stream::CHUNKS_IN_MEMORY, stream::CHUNK_CAPACITY);
    if let Ok(client) = &client {
        let rows: Vec<_> = names.iter().map(|(name, _)| (name.to_string(), client.stats_for(name))).collect();
        if let Some(progress) = Progress::for_stderr(&rows) {
            emitter = emitter.with_progress(progress);
        }
    }
    let output = emitter::spawn(emitter, receiver);
    let mut setup_error = None;
    match client {
        Err(e) => setup_error = Some(e),
        Ok(client) => {
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().thread_name("botmaker-read").build();
            match runtime {
                Err(e) => setup_error = Some(Error::system(format!("Could not start the async runtime: {e}"))),
                Ok(runtime) => {
                    let ctx = Arc::new(SyncContext { config, client, events: events.clone(), chunks, now: Utc::now() });
                    runtime.block_on(run_streams(ctx.clone(), &selected, &state));
                    let stats = ctx.client.totals();
                    events.log(
                        LogLevel::Info,
                        format!(
                            "Read finished in {:.1} s: {} requests ({} with long-term search), {} retries.",
                            started.elapsed().as_secs_f64(),
                            stats.requests.load(Ordering::Relaxed),
                            stats.long_term_searches.load(Ordering::Relaxed),
                            stats.retries.load(Ordering::Relaxed),
                        ),
                    );
                }
            }
        }
    }
    drop(events);
    let (summary, mut writer) = match output.join() {
        Ok(Ok(done)) => done,
        Ok(Err(io)) => {
            // stdout is gone; stderr is all that is left to say why.
            eprintln!("source-botmaker: writing to stdout failed: {io}");
            return crate::EXIT_FAILED;
        }
        Err(_) => {
            eprintln!("source-botmaker: the output thread stopped unexpectedly");
            return crate::EXIT_FAILED;
        }
    };
    let failures = summary.failures;
    if let Some(e) = setup_error {
        let _ = writer.error(&e, None);
        let _ = writer.flush();
        return crate::EXIT_FAILED;
    }
    if failures.is_empty() {
        return match writer.flush() {
            Ok(()) => crate::EXIT_OK,
            Err(e) => {
                eprintln!("source-botmaker: writing to stdout failed: {e}");
                crate::EXIT_FAILED
            }
        };
    }
    let kind = [FailureType::Config, FailureType::Transient, FailureType::System]
        .into_iter()
        .find(|k| failures.iter().any(|(_, e)| e.failure_type == *k))
        .unwrap_or(FailureType::System);
    let details: Vec<String> = failures.iter().map(|(name, e)| format!("{name}: {}", e.message)).collect();
    let names: Vec<&str> = failures.iter().map(|(n, _)| n.as_str()).collect();
    let headline = format!("These streams did not sync successfully: {}. {}", names.join(", "), details.join(" "));
    let _ = writer.error(&Error { failure_type: kind, message: headline, internal: None }, None);
    let _ = writer.flush();
    crate::EXIT_FAILED
}

async fn run_streams(ctx: Arc<SyncContext>, selected: &[(String, Selected)], state: &InputState) {
    let mut tasks = tokio::task::JoinSet::new();
    let mut task_streams = std::collections::HashMap::new();
    for (index, (name, sel)) in selected.iter().enumerate() {
        let Selected::Known { def, incremental } = *sel else {
            let _ = ctx.events.send(Event::Started { stream: index });
            let _ = ctx.events.send(Event::Finished {
                stream: index,
                result: Err(Error::config(format!(
                    "Stream '{name}' is in the configured catalog but the Botmaker source has no such stream (it has: {}). Refresh the source schema in Airbyte and remove it.",
                    streams::STREAMS.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
                ))),
            });
            continue;
        };
        let events = ctx.events.clone();
        let _ = events.send(Event::Started { stream: index });
        if incremental && !def.supports_incremental() {
            // PyAirbyte asks for incremental on every stream; like Airbyte's CDK, a stream without
            // a cursor is then simply read in full.
            ctx.events.log(
                LogLevel::Info,
                format!(
                    "{}: has no cursor, so it is read in full although the catalog asks for incremental.",
                    def.name
                ),
            );
        }
        let cursor = match (incremental, def.cursor_field) {
            (true, Some(field)) => state.cursor(def.name, field),
            _ => Ok(None),
        };
        let cursor = match cursor {
            Ok(c) => c,
            Err(e) => {
                let _ = events.send(Event::Finished { stream: index, result: Err(e) });
                continue;
            }
        };
        let job = StreamJob { index, def, cursor };
        let ctx = ctx.clone();
        let handle = tasks.spawn(async move {
            let result = read_stream(ctx.clone(), job).await;
            let _ = ctx.events.send(Event::Finished { stream: index, result });
        });
        task_streams.insert(handle.id(), index);
    }
    while let Some(joined) = tasks.join_next_with_id().await {
        if let Err(e) = joined {
            // A panic in a stream task: report the stream as failed rather than silently done.
            if let Some(&index) = task_streams.get(&e.id()) {
                let _ = ctx.events.send(Event::Finished {
                    stream: index,
                    result: Err(Error::system(format!("The stream's reader stopped unexpectedly: {e}"))),
                });
            }
        }
    }
}
