//! Integration tests: the real `source-botmaker` binary, run against the project's Botmaker
//! mock (`botmaker-mock`) on 127.0.0.1, as a user or the Airbyte platform would run it. One
//! test binary, so the suite links once.

mod common;

mod checkpoint_cadence;
mod cli;
mod docs_page;
mod hostile;
mod hostile_http;
mod incremental;
mod metadata;
mod new_streams;
mod pyproject;
mod rate_limit_status;
mod read;
mod readings;
mod resilience;
mod resumable_lists;
mod snapshots;
