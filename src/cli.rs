//! Command-line interface: the four Airbyte protocol commands.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

const EXAMPLES: &str = "\
Examples:
  source-botmaker spec
  source-botmaker check --config secrets/config.json
  source-botmaker discover --config secrets/config.json
  source-botmaker read --config secrets/config.json --catalog catalog/configured_catalog.json
  source-botmaker read --config secrets/config.json --catalog catalog/configured_catalog.json --state state.json

Every command writes Airbyte protocol messages, one JSON object per line, to stdout.";

/// Airbyte source for Botmaker: conversations (chats, messages, sessions, calls, tickets),
/// contacts, agents, channels, intents, WhatsApp, notifications, billing and configuration from
/// the Botmaker REST API v2.0.
#[derive(Debug, Parser)]
#[command(name = "source-botmaker", version, after_help = EXAMPLES)]
pub struct Cli {
    /// Accepted for compatibility with Airbyte's Python entrypoint; has no effect.
    #[arg(long, global = true, hide = true)]
    pub debug: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the connector specification (the configuration form) as a SPEC message.
    #[command(after_help = "Example:\n  source-botmaker spec")]
    Spec,
    /// Validate the configuration and make one authenticated request to Botmaker.
    #[command(
        after_help = "Example:\n  source-botmaker check --config secrets/config.json\n\nExits 0 with CONNECTION_STATUS FAILED when the token or settings are wrong."
    )]
    Check {
        /// Path to the config JSON file.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Print the streams and their schemas as a CATALOG message.
    #[command(after_help = "Example:\n  source-botmaker discover --config secrets/config.json")]
    Discover {
        /// Path to the config JSON file.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Read the streams selected in the configured catalog, resuming from the state if given.
    #[command(
        after_help = "Example:\n  source-botmaker read --config secrets/config.json --catalog catalog/configured_catalog.json --state state.json"
    )]
    Read {
        /// Path to the config JSON file.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Path to the configured catalog JSON file.
        #[arg(long, value_name = "FILE")]
        catalog: PathBuf,
        /// Path to a state JSON file from a previous sync.
        #[arg(long, value_name = "FILE")]
        state: Option<PathBuf>,
    },
}
