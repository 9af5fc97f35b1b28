//! Command-line flags, as HAProxy's (SPEC §1).
//!
//! Parsed by hand: HAProxy's `-sf PID…` / `-st PID…` take a variable number of arguments that end at the next
//! `-option`, which argument-parsing crates do not model well.

use std::path::PathBuf;

/// Parsed command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cli {
    /// `-f FILE` (repeatable, in order).
    pub files: Vec<PathBuf>,
    /// `-c`: check the configuration and exit.
    pub check: bool,
    /// `-D`: daemon mode.
    pub daemon: bool,
    /// `-p FILE`: pidfile.
    pub pidfile: Option<PathBuf>,
    /// `-d`: foreground with debug output.
    pub debug: bool,
    /// `-db`: foreground, no daemon.
    pub foreground: bool,
    /// `-q`: quiet.
    pub quiet: bool,
    /// `-V`: verbose (overrides quiet).
    pub verbose: bool,
    /// `-sf PID…`: ask these processes to finish (SIGUSR1) once we are bound.
    pub soft_finish: Vec<i32>,
    /// `-st PID…`: ask these processes to terminate (SIGTERM) once we are bound.
    pub terminate: Vec<i32>,
    /// `-v`.
    pub version: bool,
    /// `-vv`.
    pub build_options: bool,
    /// `-N N`: default per-proxy maxconn.
    pub default_maxconn: Option<u32>,
    /// `-n N`: global maxconn.
    pub global_maxconn: Option<u32>,
    /// `-m MB`: memory cap.
    pub mem_mb: Option<u64>,
    /// `-dS`: disable splice.
    pub no_splice: bool,
}

/// The usage text printed on a bad command line.
pub const USAGE: &str = "Usage : nbproxy [-f <cfgfile|cfgdir>]* [ -vdVDq ] [ -n <maxconn> ] [ -N <maxpconn> ]
        [ -p <pidfile> ] [ -m <max megs> ] [ -C <dir> ] [-- <cfgfile>*]
        -v displays version ; -vv shows known build options.
        -d enters debug mode ; -db only disables background mode.
        -V enters verbose mode (disables quiet mode)
        -D goes daemon ; -W and -Ws are accepted (master-worker is always on)
        -q quiet mode : don't display messages
        -c check mode : only check config files and exit
        -n sets the maximum total # of connections
        -m limits the usable amount of memory (in MB)
        -N sets the default, per-proxy maximum # of connections
        -p writes pids of all children to this file
        -dS disables splice usage (broken on old kernels)
        -sf/-st [pid ]* finishes/terminates old pids.
";

/// Parse `args` (without the program name).
pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Cli, String> {
    let mut cli = Cli::default();
    let mut it = args.into_iter().peekable();
    let mut after_dashdash = false;
    while let Some(arg) = it.next() {
        if after_dashdash {
            cli.files.push(PathBuf::from(arg));
            continue;
        }
        match arg.as_str() {
            "--" => after_dashdash = true,
            "-f" => cli.files.push(PathBuf::from(value(&mut it, "-f")?)),
            "-c" => cli.check = true,
            "-D" => cli.daemon = true,
            "-p" => cli.pidfile = Some(PathBuf::from(value(&mut it, "-p")?)),
            "-d" => cli.debug = true,
            "-db" => cli.foreground = true,
            "-q" => cli.quiet = true,
            "-V" => cli.verbose = true,
            "-W" | "-Ws" => {}
            "-v" => cli.version = true,
            "-vv" => cli.build_options = true,
            "-dS" => cli.no_splice = true,
            "-de" | "-dp" | "-dk" | "-ds" | "-dr" | "-dV" | "-dW" | "-dM" | "-dG" | "-dK" | "-dD" => {}
            "-N" => cli.default_maxconn = Some(number(&value(&mut it, "-N")?, "-N")?),
            "-n" => cli.global_maxconn = Some(number(&value(&mut it, "-n")?, "-n")?),
            "-m" => cli.mem_mb = Some(number(&value(&mut it, "-m")?, "-m")?),
            "-sf" | "-st" => {
                let list = if arg == "-sf" { &mut cli.soft_finish } else { &mut cli.terminate };
                while let Some(next) = it.peek() {
                    if next.starts_with('-') {
                        break;
                    }
                    let pid: i32 = number(next, &arg)?;
                    if pid <= 0 {
                        return Err(format!("{arg} expects positive pids, got '{next}'"));
                    }
                    list.push(pid);
                    it.next();
                }
            }
            other if other.starts_with("-f") && other.len() > 2 => cli.files.push(PathBuf::from(&other[2..])),
            other => return Err(format!("unknown option '{other}'")),
        }
    }
    Ok(cli)
}

fn value<I: Iterator<Item = String>>(it: &mut I, flag: &str) -> Result<String, String> {
    it.next().ok_or_else(|| format!("option '{flag}' requires an argument"))
}

fn number<T: std::str::FromStr>(s: &str, flag: &str) -> Result<T, String> {
    s.parse().map_err(|_| format!("option '{flag}': '{s}' is not a valid number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Cli, String> {
        parse(s.split_whitespace().map(String::from))
    }

    #[test]
    fn files_in_order_and_flags() {
        let c = p("-f a.cfg -f b.cfg -c -q").expect("parses");
        assert_eq!(c.files, vec![PathBuf::from("a.cfg"), PathBuf::from("b.cfg")]);
        assert!(c.check && c.quiet && !c.daemon);
    }

    #[test]
    fn sf_list_ends_at_next_option() {
        let c = p("-D -p /run/x.pid -sf 12 34 -f x.cfg").expect("parses");
        assert_eq!(c.soft_finish, vec![12, 34]);
        assert_eq!(c.files, vec![PathBuf::from("x.cfg")]);
        assert_eq!(c.pidfile, Some(PathBuf::from("/run/x.pid")));
        let c = p("-f x.cfg -st").expect("empty list is fine");
        assert!(c.terminate.is_empty());
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(p("-f").is_err());
        assert!(p("-sf abc").is_err());
        assert!(p("-sf 0").is_err());
        assert!(p("-Z").is_err());
    }
}
