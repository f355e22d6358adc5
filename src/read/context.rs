//! What one stream's tasks share while it is read.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};

use super::events::Output;
use super::state::Coverage;
use crate::config::Config;
use crate::http::Endpoint;
use crate::streams::codec::Codec;
use crate::streams::shape::Report;
use crate::streams::{ReadMode, StreamDef};

/// Everything a stream's tasks share.
pub(crate) struct StreamCtx {
    /// The stream's position in the catalog (events use it).
    pub(crate) index: usize,
    pub(crate) def: &'static StreamDef,
    pub(crate) endpoint: Endpoint,
    pub(crate) codec: Codec,
    pub(crate) out: Output,
    pub(crate) config: Arc<Config>,
    /// The sync's start; every stream plans against the same instant.
    pub(crate) now: DateTime<Utc>,
    report: Mutex<Report>,
}

/// Where a stream starts, from its saved state.
#[derive(Debug, Clone)]
pub(crate) enum Start {
    Windowed(Coverage),
    RecentList(Coverage),
    Months(Coverage),
    /// A list, resumed at the saved next page if there is one.
    List(Option<String>),
}

impl Start {
    /// The saved coverage, for the streams that have one.
    pub(crate) fn coverage(&self) -> Option<&Coverage> {
        match self {
            Start::Windowed(c) | Start::RecentList(c) | Start::Months(c) => Some(c),
            Start::List(_) => None,
        }
    }
}

impl StreamCtx {
    pub(crate) fn new(
        index: usize,
        def: &'static StreamDef,
        endpoint: Endpoint,
        out: Output,
        config: Arc<Config>,
        now: DateTime<Utc>,
    ) -> StreamCtx {
        StreamCtx { index, def, endpoint, codec: def.codec(), out, config, now, report: Mutex::default() }
    }

    pub(crate) fn token_param(&self) -> Option<&'static str> {
        match self.def.mode {
            ReadMode::List { token_param } => token_param,
            _ => None,
        }
    }

    pub(crate) fn lookback(&self) -> TimeDelta {
        TimeDelta::days(i64::from((self.def.lookback_days)(&self.config)))
    }

    /// Adds a page's notes on values that did not fit the schema.
    pub(crate) fn add_report(&self, report: Report) {
        if !report.is_empty() {
            self.report.lock().unwrap_or_else(|e| e.into_inner()).merge(report);
        }
    }

    pub(crate) fn take_report(&self) -> Report {
        std::mem::take(&mut *self.report.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub(crate) fn params(&self) -> Vec<(&'static str, String)> {
        (self.def.params)(&self.config)
    }
}
