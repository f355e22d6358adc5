//! source-botmaker: an Airbyte source for the Botmaker REST API v2.0.
//!
//! [`run`] is the single entry the binary and the tests share: every command writes its
//! Airbyte messages to the writer it is given, so tests see exactly the bytes a user sees.

pub mod buffers;
pub mod cli;
pub mod config;
pub mod error;
pub mod escape;
pub mod http;
pub mod input;
pub mod protocol;
pub mod read;
pub mod schema;
pub mod state;
pub mod streams;
pub mod time;

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cli::Command;
use config::Config;
use error::{Error, Result};
use http::retry::RetryPolicy;
use protocol::catalog::ConfiguredCatalog;
use protocol::{LogLevel, MessageWriter};
use state::InputState;

/// Exit code for success, and for `check` reporting a FAILED connection.
pub const EXIT_OK: i32 = 0;
/// Exit code when the command failed; a TRACE ERROR says why.
pub const EXIT_FAILED: i32 = 1;

/// Runs `command`, writing Airbyte messages to `out` (flushed before returning). Returns the
/// process exit code.
pub fn run<W: Write + Send + 'static>(command: Command, out: W) -> i32 {
    let mut writer = MessageWriter::new(out);
    match command {
        Command::Spec => write_or_fail(&mut writer, |w| w.spec(&config::connector_specification())),
        Command::Check { config } => check(&config, &mut writer),
        Command::Discover { config } => match load_config(&config) {
            Ok(_) => write_or_fail(&mut writer, |w| w.catalog(&streams::catalog())),
            Err(e) => fail(&mut writer, &e),
        },
        Command::Read { config, catalog, state } => match load_read_inputs(&config, &catalog, state.as_deref()) {
            Ok((config, catalog, state)) => read::run(config, catalog, state, writer),
            Err(e) => fail(&mut writer, &e),
        },
    }
}

fn write_or_fail<W: Write>(
    writer: &mut MessageWriter<W>,
    f: impl FnOnce(&mut MessageWriter<W>) -> std::io::Result<()>,
) -> i32 {
    match f(writer).and_then(|_| writer.flush()) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("source-botmaker: writing to stdout failed: {e}");
            EXIT_FAILED
        }
    }
}

/// Writes a TRACE ERROR and returns the failure exit code.
fn fail<W: Write>(writer: &mut MessageWriter<W>, error: &Error) -> i32 {
    let _ = writer.error(error, None);
    let _ = writer.flush();
    EXIT_FAILED
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

/// Reads and validates the config file.
pub fn load_config(path: &Path) -> Result<Config> {
    let value = input::read_json_file(path, "config")?;
    Config::from_value(value, &shown(path))
}

fn load_read_inputs(
    config: &Path,
    catalog: &Path,
    state: Option<&Path>,
) -> Result<(Config, ConfiguredCatalog, InputState)> {
    let config = load_config(config)?;
    let catalog = ConfiguredCatalog::from_value(input::read_json_file(catalog, "catalog")?, &shown(catalog))?;
    let state = match state {
        None => InputState::default(),
        Some(path) => match input::read_state_file(path)? {
            Some(value) => InputState::from_value(value, &shown(path))?,
            None => InputState::default(),
        },
    };
    Ok((config, catalog, state))
}

/// `check`: a FAILED status (exit 0) for anything the user can fix; a TRACE ERROR (exit 1) only
/// when the config file itself cannot be read.
fn check<W: Write>(path: &Path, writer: &mut MessageWriter<W>) -> i32 {
    let value = match input::read_json_file(path, "config") {
        Ok(v) => v,
        Err(e) => return fail(writer, &e),
    };
    let outcome = Config::from_value(value, &shown(path)).and_then(|config| check_connection(&config, writer));
    let result = match outcome {
        Ok(()) => writer.connection_status(true, None),
        Err(e) => writer.connection_status(false, Some(&e.message)),
    };
    match result.and_then(|_| writer.flush()) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("source-botmaker: writing to stdout failed: {e}");
            EXIT_FAILED
        }
    }
}

/// One cheap authenticated request: the channels list (one small, unpaginated response).
fn check_connection<W: Write>(config: &Config, writer: &mut MessageWriter<W>) -> Result<()> {
    let channels = streams::find("channels").expect("the channels stream exists");
    let logs: Arc<Mutex<Vec<(LogLevel, String)>>> = Arc::default();
    let sink = logs.clone();
    let mut client = http::ApiClient::new(
        config,
        &[channels],
        Arc::new(move |level, msg| sink.lock().unwrap_or_else(|e| e.into_inner()).push((level, msg))),
    )?;
    // A connection test should answer within seconds, not retry for a quarter of an hour.
    let policy = RetryPolicy::from_env();
    client.set_retry_policy(RetryPolicy { max_elapsed: policy.max_elapsed.min(Duration::from_secs(20)), ..policy });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::system(format!("Could not start the async runtime: {e}")))?;
    let url = client.endpoint_url(channels, &[]);
    // The answer is parsed like a real read (so a wrong body fails the check) and discarded.
    let encoder = protocol::RecordEncoder::new(channels.name);
    let mut scratch = Vec::new();
    let mut dedupe = read::sink::Deduper::adjacent();
    let mut decode = |body: &[u8]| {
        scratch.clear();
        let suffix = protocol::RecordSuffix::new(0);
        let mut sink = read::sink::RecordSink::new(&encoder, &mut scratch, &suffix, None, dedupe.begin_page());
        channels.codec.decode_into(body, &mut sink).map(|_| ())
    };
    let result = runtime.block_on(client.fetch_page(channels, &url, http::Page::First, &mut decode)).map(|_| ());
    for (level, message) in logs.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
        let _ = writer.log(level, &message);
    }
    result.map_err(|e| match e.failure_type {
        error::FailureType::Transient => Error::transient(format!(
            "Could not get an answer from Botmaker at {}: {} Check api_url and that this machine can reach it (proxy, firewall).",
            config.api_url, e.message
        )),
        _ => e,
    })
}
