//! The `source-botmaker` binary: argument parsing and exit codes; everything else is in the
//! library.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use clap::Parser;
use source_botmaker::cli::Cli;
use source_botmaker::error::Error;
use source_botmaker::protocol::writer::STDOUT_BUFFER_BYTES;
use source_botmaker::protocol::MessageWriter;

fn main() -> ExitCode {
    tune_allocator();
    install_panic_hook();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let stdout = BufWriter::with_capacity(STDOUT_BUFFER_BYTES, std::io::stdout());
    ExitCode::from(source_botmaker::run(cli.command, stdout) as u8)
}

/// glibc's allocator keeps freed page-sized buffers for reuse per thread and raises its mmap
/// threshold as they come and go, so a sync's resident memory would creep up with the amount of
/// data read. Page buffers (hundreds of KiB) are instead always mapped and returned whole, and
/// two arenas suffice for two runtime threads. (musl, used for the static image, needs none of it.)
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_allocator() {
    // SAFETY: mallopt only adjusts allocator parameters; it is called before any other thread
    // exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}

/// `--help`/`--version` print and succeed; anything else is a usage error that is also reported
/// as a TRACE ERROR, so the platform shows it.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        };
    }
    let _ = e.print();
    let first_line =
        e.render().to_string().lines().next().unwrap_or("invalid arguments").trim_start_matches("error: ").to_string();
    let mut writer = MessageWriter::new(std::io::stdout().lock());
    let _ = writer.error(
        &Error::config(format!("Invalid command line: {first_line}. Run `source-botmaker --help` for usage.")),
        None,
    );
    let _ = writer.flush();
    ExitCode::from(2)
}

/// A panic is a bug; report it as a system_error TRACE on stdout (the platform shows it) and the
/// details on stderr, never a bare Rust backtrace on stdout.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        eprintln!("source-botmaker: internal error{location}: {}", source_botmaker::protocol::redact::redact(&payload));
        let mut stdout = std::io::stdout().lock();
        // Start on a fresh line in case buffered output ended mid-line.
        let _ = stdout.write_all(b"\n");
        let mut writer = MessageWriter::new(&mut stdout);
        let error = Error::system("The connector hit an internal error and stopped. Please report it with the log; the next sync resumes from the last checkpoint.")
            .with_internal(format!("panic{location}: {payload}"));
        let _ = writer.error(&error, None);
        let _ = writer.flush();
    }));
}

/// musl's allocator, which the static image uses, halved the connector's throughput in the
/// benchmark (twice the CPU per record); mimalloc brings it back to the glibc build's. Its
/// memory settings (return freed memory at once) come from the image's environment, see the
/// Dockerfile.
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
