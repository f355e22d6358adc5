//! Error kinds and how they reach the user.
//!
//! Every failure the connector can report carries an Airbyte `failure_type`, because the platform
//! decides on it whether to retry a sync (`transient_error`), ask the user to fix something
//! (`config_error`) or flag a connector bug (`system_error`). The message is written for the data
//! engineer who reads it at the end of a failed sync: it says what happened and what to do next.

use std::fmt;

/// Airbyte's `failure_type` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureType {
    /// The user must change something: token, dates, catalog, state, `api_url`.
    Config,
    /// Worth retrying later: the API kept failing after every retry.
    Transient,
    /// A bug or an unexpected situation in the connector.
    System,
}

impl FailureType {
    /// The protocol's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureType::Config => "config_error",
            FailureType::Transient => "transient_error",
            FailureType::System => "system_error",
        }
    }
}

/// A failure with its kind, a user-facing message and optional technical detail.
#[derive(Debug, Clone)]
pub struct Error {
    pub failure_type: FailureType,
    /// One or two sentences for a person: what went wrong and what to do.
    pub message: String,
    /// Extra technical detail (status codes, parser positions) for support.
    pub internal: Option<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn config(message: impl Into<String>) -> Self {
        Error { failure_type: FailureType::Config, message: message.into(), internal: None }
    }

    pub fn transient(message: impl Into<String>) -> Self {
        Error { failure_type: FailureType::Transient, message: message.into(), internal: None }
    }

    pub fn system(message: impl Into<String>) -> Self {
        Error { failure_type: FailureType::System, message: message.into(), internal: None }
    }

    /// Adds technical detail without changing the user-facing message.
    pub fn with_internal(mut self, internal: impl Into<String>) -> Self {
        self.internal = Some(internal.into());
        self
    }

    pub fn is_config(&self) -> bool {
        self.failure_type == FailureType::Config
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// How a command that ran to its end went. Both mean exit code 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything asked for was done.
    Done,
    /// `check` found a problem and reported it as a FAILED connection status, which the
    /// protocol wants with exit code 0.
    CheckFailed,
}

/// Why a command did not run to its end.
#[derive(Debug)]
pub enum Failure {
    /// To be reported as a TRACE ERROR (exit code 1).
    Error(Error),
    /// stdout could not be written; there is nowhere left to report anything but stderr.
    Stdout(std::io::Error),
}
