//! Temporary driver for the config loader: `cargo run --example check -- -c -f FILE [-f FILE…]`.
//! Prints every diagnostic, then `Configuration file is valid`; exits 0 (valid), 1 (errors) or 2 (no listener),
//! like `nbproxy -c`. With `NBPROXY_DUMP=1` set, also prints the resolved model.

use std::path::PathBuf;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut files = Vec::new();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-f" => {
                if let Some(f) = args.get(i + 1) {
                    files.push(PathBuf::from(f));
                }
                i += 1;
            }
            "-c" | "-q" => {}
            o => {
                eprintln!("usage: check -c -f FILE (unexpected '{o}')");
                std::process::exit(1);
            }
        }
        i += 1;
    }
    match nbproxy::config::load(&files) {
        Ok(l) => {
            for w in &l.warnings {
                eprintln!("{w}");
            }
            if !l.config.has_listeners() {
                eprintln!("[ALERT] {}", nbproxy::config::NO_LISTENER_MSG);
                std::process::exit(2);
            }
            if std::env::var_os("NBPROXY_DUMP").is_some() {
                println!("{:#?}", l.config);
            }
            println!("Configuration file is valid");
        }
        Err(diags) => {
            for d in &diags {
                eprintln!("{d}");
            }
            std::process::exit(1);
        }
    }
}
