//! The `source-botmaker` binary: settings from the environment, argument parsing, and the one
//! place where how a command ended becomes an exit code.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use clap::Parser;
use source_botmaker::cli::Cli;
use source_botmaker::error::Error;
use source_botmaker::{Failure, Settings};
use source_botmaker::{MessageWriter, STDOUT_BUFFER_BYTES};

/// Faster `memcpy`/`memmove` than musl's, for the static image binary (optimised musl builds;
/// tested everywhere).
#[cfg(all(target_arch = "x86_64", any(test, all(target_env = "musl", not(debug_assertions)))))]
mod memcpy;

/// mimalloc, in every build: musl's allocator (the static image binary) doubled the CPU per
/// record, and using one allocator everywhere makes the benchmarked binary behave like the
/// shipped one. See [`tune_allocator`], and the library's `allocator` module, which returns freed
/// memory while the read's workers are idle.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    tune_allocator();
    install_panic_hook();
    let settings = Settings::from_env();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let mut out = MessageWriter::new(BufWriter::with_capacity(STDOUT_BUFFER_BYTES, std::io::stdout()));
    match source_botmaker::run(cli.command, &settings, &mut out) {
        Ok(_) => ExitCode::SUCCESS,
        Err(Failure::Error(error)) => {
            let written = out.error(&error, None).and_then(|_| out.flush());
            if let Err(e) = written {
                eprintln!("source-botmaker: writing to stdout failed: {e}");
            }
            ExitCode::from(1)
        }
        Err(Failure::Stdout(e)) => {
            eprintln!("source-botmaker: writing to stdout failed: {e}");
            ExitCode::from(1)
        }
    }
}

/// Freed memory goes back to the system at once rather than after a delay, and arenas are
/// committed as they are used: with mimalloc's defaults a sync's resident memory doubles. Set
/// by the program, not in the environment, so the binary behaves the same inside the image and
/// out of it. (mimalloc 2 rather than 3: with the same settings, version 3 kept half as much
/// memory again, about 23 MB instead of 16, for the same sync.)
///
/// On Linux this runs before `main`, from [`TUNE_ALLOCATOR_FIRST`]: mimalloc starts, and
/// reserves its first arena, before `main` runs, and a glibc build whose options were set in
/// `main` peaked at about 30 MB instead of 13 for a 10k-record sync. `main` calls it again for
/// other platforms; setting an option twice is harmless.
fn tune_allocator() {
    use libmimalloc_sys::mi_option_set;
    // SAFETY: setting options is always allowed; they take effect for later allocations.
    unsafe {
        mi_option_set(MI_OPTION_PURGE_DELAY, 0);
        mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0);
    }
}

/// Puts [`tune_allocator`] among the constructors that run before `main`, ahead of mimalloc's
/// own (constructors with a priority, `.init_array.NNNNN`, run before those without, in order).
/// Not in unit tests, which check mimalloc's defaults.
#[cfg(all(target_os = "linux", not(test)))]
#[used]
#[link_section = ".init_array.00200"]
static TUNE_ALLOCATOR_FIRST: extern "C" fn() = {
    extern "C" fn before_main() {
        tune_allocator();
    }
    before_main
};

/// mimalloc's option numbers (`mi_option_purge_delay`, `mi_option_arena_eager_commit` in
/// mimalloc.h), which its Rust binding does not name; a test checks them by their defaults.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;

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
        eprintln!("source-botmaker: internal error{location}: {}", source_botmaker::redact(&payload));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocator_option_numbers_name_the_options_we_mean() {
        // mimalloc 2's defaults (options.c): purge_delay 10 ms, arena_eager_commit 2.
        // SAFETY: reading options is always allowed.
        let (purge, eager) = unsafe {
            (
                libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY),
                libmimalloc_sys::mi_option_get(MI_OPTION_ARENA_EAGER_COMMIT),
            )
        };
        assert_eq!((purge, eager), (10, 2), "mimalloc's option numbering changed; update the constants");
        tune_allocator();
        // SAFETY: as above.
        let purge = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert_eq!(purge, 0);
    }
}
