//! Integration tests of `botmaker-mock`, in one test binary: each module covers one area of
//! the mock's behaviour, against a real server on 127.0.0.1 through a tiny HTTP client
//! (`common`) that shows exactly what was sent (resets, short bodies, non-JSON).

mod auth_limits;
#[cfg(unix)]
mod cli;
mod common;
mod extended;
mod faults;
mod overlay;
mod pagination;
mod params;
mod robustness;
mod scale;
mod schema;
mod variants;
