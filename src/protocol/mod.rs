//! The Airbyte protocol: the messages this source writes and the inputs it reads.
//!
//! Outgoing messages are serialised straight from borrowed data (no intermediate `Value`), one
//! JSON object per line. Incoming files (configured catalog, state) are parsed leniently: unknown
//! fields are accepted because the platform and PyAirbyte add their own.

pub mod catalog;
pub(crate) mod input;
pub mod messages;
pub mod redact;
pub(crate) mod state;
pub mod writer;

pub use messages::{LogLevel, StreamStatus};
pub use writer::{now_millis, MessageWriter, RecordEncoder, RecordSuffix};
