//! Configuration: HAProxy's config language → the typed [`model::Config`].
//!
//! Two layers, as ripgrep does it: `preprocess` + `grammar` keep what the user wrote with `file:line` for every
//! keyword; `resolve` applies `defaults` inheritance, legacy mappings and validation, and yields one immutable
//! model. This module knows nothing of processes or sockets.

pub mod grammar;
pub mod model;
pub mod preprocess;
pub mod resolve;
pub mod units;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use model::*;

/// Severity of a config diagnostic, printed as HAProxy prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiagLevel {
    Alert,
    Warning,
    Notice,
}

/// What `-c` prints (exit status 2) when the configuration is valid but nothing listens; see
/// [`Config::has_listeners`].
pub const NO_LISTENER_MSG: &str = "Configuration file has no error but will not start (no listener) => exit(2).";

/// One message about the configuration: `[ALERT] file:line: message`.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub level: DiagLevel,
    pub pos: Option<Pos>,
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tag = match self.level {
            DiagLevel::Alert => "[ALERT]",
            DiagLevel::Warning => "[WARNING]",
            DiagLevel::Notice => "[NOTICE]",
        };
        match &self.pos {
            Some(p) => write!(f, "{tag} {p}: {}", self.message),
            None => write!(f, "{tag} {}", self.message),
        }
    }
}

/// A successfully loaded configuration and the warnings met on the way.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<Diagnostic>,
}

/// Read, preprocess, parse and resolve the config files (a directory stands for its `*.cfg` files in lexical
/// order). On error returns every diagnostic found (alerts and warnings), never just the first.
///
/// A valid configuration with no listener is returned as `Ok`: the caller checks [`Config::has_listeners`] and
/// exits with status 2 and [`NO_LISTENER_MSG`], as HAProxy 2.6 does.
pub fn load(files: &[PathBuf]) -> Result<Loaded, Vec<Diagnostic>> {
    load_with_env(files, &grammar::process_env)
}

/// [`load`] with an explicit environment lookup (for tests).
pub fn load_with_env(files: &[PathBuf], env: &dyn Fn(&str) -> Option<String>) -> Result<Loaded, Vec<Diagnostic>> {
    let alert = |m: String| Diagnostic { level: DiagLevel::Alert, pos: None, message: m };
    if files.is_empty() {
        return Err(vec![alert("No configuration file specified (use -f FILE).".into())]);
    }
    let mut diags = Vec::new();
    let mut lines = Vec::new();
    for f in files {
        for path in expand_path(f).map_err(|m| vec![alert(m)])? {
            let text = match std::fs::read(&path) {
                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                Err(e) => {
                    diags.push(alert(format!(
                        "Cannot open configuration file/directory {} : {}",
                        path.display(),
                        io_reason(&e)
                    )));
                    continue;
                }
            };
            let name: Arc<str> = Arc::from(path.display().to_string());
            match grammar::tokenize(&name, &text, env) {
                Ok(mut l) => lines.append(&mut l),
                Err((pos, m)) => diags.push(Diagnostic { level: DiagLevel::Alert, pos: Some(pos), message: m }),
            }
        }
    }
    let lines = preprocess::preprocess(lines, &mut diags, env);
    let config = resolve::resolve(lines, &mut diags);
    if diags.iter().any(|d| d.level == DiagLevel::Alert) {
        return Err(diags);
    }
    Ok(Loaded { config, warnings: diags })
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "No such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "Permission denied".into(),
        _ => e.to_string(),
    }
}

/// A file stands for itself; a directory for its `*.cfg` files in lexical order.
fn expand_path(p: &Path) -> Result<Vec<PathBuf>, String> {
    let meta = std::fs::metadata(p)
        .map_err(|e| format!("Cannot open configuration file/directory {} : {}", p.display(), io_reason(&e)))?;
    if !meta.is_dir() {
        return Ok(vec![p.to_path_buf()]);
    }
    let rd = std::fs::read_dir(p)
        .map_err(|e| format!("Cannot open configuration file/directory {} : {}", p.display(), io_reason(&e)))?;
    let mut v: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|x| x.extension().is_some_and(|e| e == "cfg") && x.is_file())
        .collect();
    v.sort();
    Ok(v)
}

#[cfg(test)]
mod tests;
