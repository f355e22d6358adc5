//! The Airbyte protocol: the messages this source writes and the inputs it reads.
//!
//! Outgoing messages are serialised straight from borrowed data (no intermediate `Value`), one
//! JSON object per line. Incoming files (configured catalog, state) are parsed leniently: unknown
//! fields are accepted because the platform and PyAirbyte add their own.

pub(crate) mod catalog;
pub(crate) mod input;
pub(crate) mod messages;
pub(crate) mod redact;
pub(crate) mod state;
pub(crate) mod writer;

pub(crate) use messages::{LogLevel, StreamStatus};
pub(crate) use writer::{now_millis, MessageWriter, RecordEncoder, RecordSuffix};
