//! nbproxy's entry point: parse the command line, load the configuration, hand over to the master.

use std::io::Write;
use std::process::ExitCode;

use nbproxy::{cli, config, master};

fn main() -> ExitCode {
    let args = match cli::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("[ALERT] {e}\n{}", cli::USAGE);
            return ExitCode::from(1);
        }
    };
    if args.version || args.build_options {
        println!("nbproxy version {} - a drop-in replacement for HAProxy", env!("CARGO_PKG_VERSION"));
        if args.build_options {
            println!("Build options : rust, mio event loop (epoll), SO_REUSEPORT listeners, master + nbproc workers");
            println!("Feature list : +EPOLL +REUSEPORT +LINUX_SPLICE +CHROOT +SYSLOG -OPENSSL(TLS not supported yet)");
            println!("Available polling systems :\n      epoll : pref=300,  test result OK");
        }
        return ExitCode::SUCCESS;
    }
    init_logging(&args);
    if args.files.is_empty() {
        eprintln!("[ALERT] No configuration file specified (use -f FILE).\n{}", cli::USAGE);
        return ExitCode::from(1);
    }
    let loaded = match config::load(&args.files) {
        Ok(l) => l,
        Err(diags) => {
            if !args.quiet || args.verbose {
                for d in &diags {
                    eprintln!("{d}");
                }
                eprintln!("[ALERT] Fatal errors found in configuration.");
            }
            return ExitCode::from(1);
        }
    };
    let quiet = (args.quiet || loaded.config.global.quiet) && !args.verbose;
    // Regexes and conditions are compiled once here too, so that `-c` refuses what a worker could not run.
    if let Err(e) = nbproxy::plan::compile_all(&loaded.config) {
        if !quiet {
            eprintln!("[ALERT] {e}\n[ALERT] Fatal errors found in configuration.");
        }
        return ExitCode::from(1);
    }
    if !quiet {
        for w in &loaded.warnings {
            eprintln!("{w}");
        }
    }
    if args.check {
        if !loaded.config.has_listeners() {
            if !quiet {
                eprintln!("Configuration file has no error but will not start (no listener) => exit(2).");
            }
            return ExitCode::from(2);
        }
        if !quiet {
            if !loaded.warnings.is_empty() {
                println!("Warnings were found.");
            }
            println!("Configuration file is valid");
        }
        return ExitCode::SUCCESS;
    }
    let code = master::run(args, loaded);
    ExitCode::from(code.clamp(0, 255) as u8)
}

/// The master's own diagnostics on stderr, HAProxy-style (`[NOTICE]   (pid) : message`); RUST_LOG overrides.
fn init_logging(args: &cli::Cli) {
    let default = if args.debug {
        "debug"
    } else if args.quiet && !args.verbose {
        "error"
    } else {
        "info"
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default))
        .format(|buf, rec| {
            let tag = match rec.level() {
                log::Level::Error => "[ALERT]",
                log::Level::Warn => "[WARNING]",
                log::Level::Info => "[NOTICE]",
                log::Level::Debug | log::Level::Trace => "[DEBUG]",
            };
            writeln!(buf, "{tag:<10} ({}) : {}", std::process::id(), rec.args())
        })
        .init();
}
