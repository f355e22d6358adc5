//! source-botmaker: an Airbyte source for the Botmaker REST API v2.0.
//!
//! [`run`] is the single entry the binary and the tests share: every command writes its
//! Airbyte messages to the writer it is given and returns how it ended; only `main` turns
//! that into an exit code.
//!
//! Layers, each using only those before it: `protocol` (messages, input files, state) →
//! `streams` (the stream table, record types, page decoding) → `http` (the client, one
//! endpoint handle per stream) → `read` (plan, partitions, engine, ordered output) → the
//! commands here.
#![warn(unreachable_pub)]

mod allocator;
mod buffers;
pub mod cli;
mod config;
pub mod error;
mod escape;
mod http;
mod protocol;
mod read;
mod schema;
mod settings;
mod streams;
mod time;

#[cfg(test)]
mod tests;

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use cli::Command;
use config::Config;
use error::{Error, FailureType};
pub use error::{Failure, Outcome};
use http::{ApiClient, Origin, Signal};
use protocol::catalog::ConfiguredCatalog;
use protocol::input;
pub use protocol::redact::redact;
use protocol::state::InputState;
pub use protocol::writer::MessageWriter;
pub use protocol::writer::STDOUT_BUFFER_BYTES;
use protocol::LogLevel;
pub use settings::Settings;

/// Runs `command`, writing Airbyte messages to `out` (flushed before returning).
pub fn run<W: Write + Send>(
    command: Command,
    settings: &Settings,
    out: &mut MessageWriter<W>,
) -> Result<Outcome, Failure> {
    let outcome = match command {
        Command::Spec => {
            out.spec(&config::connector_specification()).map(|_| Outcome::Done).map_err(Failure::Stdout)?
        }
        Command::Check { config } => check(&config, settings, out)?,
        Command::Discover { config } => {
            let config = load_config(&config).map_err(Failure::Error)?;
            out.catalog(&streams::catalog(config.include_bi_dashboards)).map_err(Failure::Stdout)?;
            Outcome::Done
        }
        Command::Read { config, catalog, state } => {
            let (config, catalog, state) =
                load_read_inputs(&config, &catalog, state.as_deref()).map_err(Failure::Error)?;
            read::read(config, catalog, state, settings, out)?;
            Outcome::Done
        }
    };
    out.flush().map_err(Failure::Stdout)?;
    Ok(outcome)
}

/// The connector specification `spec` prints.
pub fn specification() -> serde_json::Value {
    config::connector_specification()
}

/// The catalog `discover` prints with `include_bi_dashboards` on: every stream. (Without it,
/// the streams Botmaker bills as BI data-source consumption are left out.)
pub fn catalog() -> serde_json::Value {
    streams::catalog(true)
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

fn load_config(path: &Path) -> error::Result<Config> {
    let value = input::read_json_file(path, "config")?;
    Config::from_value(value, &shown(path))
}

fn load_read_inputs(
    config: &Path,
    catalog: &Path,
    state: Option<&Path>,
) -> error::Result<(Config, ConfiguredCatalog, InputState)> {
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

/// `check`: a FAILED status (exit 0) for anything the user can fix; a TRACE ERROR (exit 1)
/// only when the config file itself cannot be read.
fn check<W: Write>(path: &Path, settings: &Settings, out: &mut MessageWriter<W>) -> Result<Outcome, Failure> {
    let value = input::read_json_file(path, "config").map_err(Failure::Error)?;
    let checked = Config::from_value(value, &shown(path)).and_then(|config| check_connection(&config, settings, out));
    match checked {
        Ok(()) => out.connection_status(true, None).map(|_| Outcome::Done),
        Err(e) => out.connection_status(false, Some(&e.message)).map(|_| Outcome::CheckFailed),
    }
    .map_err(Failure::Stdout)
}

/// One cheap authenticated request: the channels list (one small, unpaginated response),
/// parsed like a real read so a wrong body fails the check.
fn check_connection<W: Write>(config: &Config, settings: &Settings, out: &mut MessageWriter<W>) -> error::Result<()> {
    let channels = streams::find("channels").expect("the channels stream exists");
    let client = ApiClient::new(config, &settings.for_check())?;
    let logs: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = logs.clone();
    let signal: http::SignalFn = Arc::new(move |signal| {
        if let Signal::Retry { what, reason, delay, attempt } = signal {
            let line =
                format!("{what} (channels): {reason}; retrying in {:.1} s (attempt {attempt})", delay.as_secs_f64());
            sink.lock().unwrap_or_else(|e| e.into_inner()).push(line);
        }
    });
    let limit = (channels.rate_limit.requests, channels.rate_limit.per);
    let endpoint = client.endpoint(channels.name, channels.path, limit, signal);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::system(format!("Could not start the async runtime: {e}")))?;
    let codec = channels.codec();
    let url = endpoint.url(&[]);
    let result = runtime.block_on(endpoint.fetch(&url, Origin::Built, &mut |body| codec.decode(body).map(|_| ())));
    for line in logs.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
        let _ = out.log(LogLevel::Warn, &line);
    }
    result.map(|_| ()).map_err(|failed| {
        let e = Error::from(failed);
        match e.failure_type {
            FailureType::Transient => Error::transient(format!(
                "Could not get an answer from Botmaker at {}: {} Check api_url and that this machine can reach it (proxy, firewall).",
                config.api_url, e.message
            )),
            _ => e,
        }
    })
}
