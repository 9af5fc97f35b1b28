//! The typed, immutable configuration model.
//!
//! `config::load` turns config text into one [`Config`]; everything after that (master, workers, balancers,
//! checks, loggers) reads only these types. No stringly-typed lookups after parsing: every keyword the user wrote
//! has been validated and mapped here, legacy 1.4 spellings included (`contimeout` is `timeouts.connect`).
//!
//! One file per concept: `global.rs`, `proxy.rs`, `server.rs`, `checks.rs`, `rules.rs` (ACLs and rules),
//! `stick.rs`, `logs.rs`, `net.rs` (networks), `userlist.rs`; this one holds [`Config`], [`Pos`] and the one regex
//! compiler every config regex goes through.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use regex::bytes::{Regex, RegexBuilder};

mod checks;
mod global;
mod logs;
mod net;
mod proxy;
mod rules;
mod server;
mod stick;
#[cfg(test)]
mod tests;
mod userlist;

pub use checks::*;
pub use global::*;
pub use logs::*;
pub use net::*;
pub use proxy::*;
pub use rules::*;
pub use server::*;
pub use stick::*;
pub use userlist::*;

/// Where a keyword was written: used in every error and warning (`file:line`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pos {
    /// The config file's path as given on the command line.
    pub file: Arc<str>,
    /// 1-based line number.
    pub line: usize,
}

impl std::fmt::Display for Pos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// The whole configuration: one `global`, the proxies in declaration order, the userlists.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub global: Global,
    /// Frontends, backends and listens, in the order they were declared.
    pub proxies: Vec<Proxy>,
    pub userlists: Vec<Userlist>,
}

impl Config {
    /// The proxy with this name that can act as a backend (a `backend` or a `listen`).
    pub fn backend(&self, name: &str) -> Option<&Proxy> {
        self.proxies.iter().find(|p| p.kind.has_backend() && p.name == name)
    }
    /// Does anything listen? (an enabled frontend or listen with at least one bind, or a `stats socket`, which
    /// HAProxy 2.6 counts as a listener too). HAProxy 2.6's `-c` exits 2 with [`crate::config::NO_LISTENER_MSG`]
    /// when not.
    pub fn has_listeners(&self) -> bool {
        !self.global.stats_sockets.is_empty()
            || self.proxies.iter().any(|p| p.kind.has_frontend() && !p.disabled && !p.binds.is_empty())
    }
    /// Pipes each worker may use for splice(2), for a process whose connection limit is `maxconn` (normally
    /// [`Global::maxconn_or_default`]): `maxpipes`, else a quarter of `maxconn` as HAProxy; 0 under `nosplice` or
    /// when no proxy has an `option splice-*`.
    pub fn maxpipes(&self, maxconn: u32) -> u32 {
        let splicing = self.proxies.iter().any(|p| {
            let o = &p.options;
            o.splice_auto || o.splice_request || o.splice_response
        });
        if self.global.nosplice || !splicing {
            return 0;
        }
        self.global.maxpipes.unwrap_or(maxconn / 4)
    }
    /// Index into `proxies` of the backend named `name`.
    pub fn backend_index(&self, name: &str) -> Option<usize> {
        self.proxies.iter().position(|p| p.kind.has_backend() && p.name == name)
    }
}

/// Compile a regex of the config, as HAProxy would (`-i` = case-insensitive): every regex the config carries
/// (ACL patterns, header rules, check patterns) goes through here, so they share one dialect (the `regex`
/// crate's) and one error text. A `\ ` left by old configs is a space.
pub fn compile_regex(pattern: &str, icase: bool) -> Result<Regex, String> {
    let p = pattern.replace("\\ ", " ");
    RegexBuilder::new(&p).case_insensitive(icase).build().map_err(|e| {
        // The crate's syntax errors span several lines (the pattern, a caret, the reason): keep the reason.
        let full = e.to_string();
        let reason = full.lines().last().map(|l| l.trim_start_matches("error: ")).unwrap_or(&full).to_string();
        format!("invalid regex '{pattern}': {reason}")
    })
}
