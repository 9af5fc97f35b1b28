//! ★ `file@PATH` targets: append-mode files written by the master, reopened on SIGHUP.
//!
//! Workers forward their lines to the master as one datagram per line: `PATH` `\0` `LINE` (the line ends with
//! `\n`). [`FileWriter::handle_datagram`] decodes that and appends the line.

use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Mode of log files we create.
const FILE_MODE: u32 = 0o640;

/// Encodes one forwarded line (`PATH\0LINE`) into `out` (cleared first). Returns false if `path` cannot be
/// encoded (it contains a NUL byte).
pub(crate) fn encode_forward(out: &mut Vec<u8>, path: &Path, line: &[u8]) -> bool {
    let p = path.as_os_str().as_bytes();
    if p.contains(&0) {
        return false;
    }
    out.clear();
    out.reserve(p.len() + 1 + line.len());
    out.extend_from_slice(p);
    out.push(0);
    out.extend_from_slice(line);
    true
}

/// Splits a forwarded datagram into its path and line; `None` if malformed.
pub(crate) fn decode_forward(data: &[u8]) -> Option<(&Path, &[u8])> {
    let nul = data.iter().position(|&b| b == 0)?;
    let (p, rest) = data.split_at(nul);
    if p.is_empty() {
        return None;
    }
    Some((Path::new(OsStr::from_bytes(p)), &rest[1..]))
}

/// One append-mode file, opened lazily, reopened on demand. I/O errors are reported once (until the next
/// success) via `log::warn!` and never panic.
#[derive(Debug)]
pub(crate) struct AppendFile {
    path: PathBuf,
    file: Option<File>,
    warned: bool,
    scratch: Vec<u8>,
}

impl AppendFile {
    pub(crate) fn new(path: PathBuf) -> AppendFile {
        AppendFile { path, file: None, warned: false, scratch: Vec::new() }
    }

    fn open(&mut self) -> std::io::Result<&mut File> {
        if self.file.is_none() {
            let f = OpenOptions::new().append(true).create(true).mode(FILE_MODE).open(&self.path)?;
            self.file = Some(f);
        }
        match self.file.as_mut() {
            Some(f) => Ok(f),
            None => Err(std::io::Error::other("file not open")),
        }
    }

    fn warn(&mut self, what: &str, e: &std::io::Error) {
        if !self.warned {
            self.warned = true;
            ::log::warn!("log file {}: {what}: {e}", self.path.display());
        }
    }

    /// Opens the file now (used after a reopen so the new file exists even before the next line).
    pub(crate) fn ensure_open(&mut self) {
        if let Err(e) = self.open().map(|_| ()) {
            self.warn("cannot open", &e);
        }
    }

    /// Appends `line` with one `write(2)`, adding a final `\n` if missing. Returns false on error.
    pub(crate) fn write_line(&mut self, line: &[u8]) -> bool {
        let mut scratch = std::mem::take(&mut self.scratch);
        let data: &[u8] = if line.last() == Some(&b'\n') {
            line
        } else {
            scratch.clear();
            scratch.extend_from_slice(line);
            scratch.push(b'\n');
            &scratch
        };
        let res = match self.open() {
            Ok(f) => f.write_all(data).map_err(|e| ("cannot write", e)),
            Err(e) => Err(("cannot open", e)),
        };
        self.scratch = scratch;
        match res {
            Ok(()) => {
                self.warned = false;
                true
            }
            Err((what, e)) => {
                self.warn(what, &e);
                if what == "cannot write" {
                    // Drop the descriptor: the next line reopens (e.g. the file was on a remounted volume).
                    self.file = None;
                }
                false
            }
        }
    }

    /// Closes and reopens the file (logrotate renamed it: new lines go to a fresh file at the same path).
    pub(crate) fn reopen(&mut self) {
        self.file = None;
        self.warned = false;
        self.ensure_open();
    }
}

/// The master's writer for `file@` targets: receives the lines workers forward and its own, appends, reopens.
#[derive(Debug, Default)]
pub struct FileWriter {
    files: HashMap<PathBuf, AppendFile>,
    /// When set, only these paths may be written (workers cannot make the master append elsewhere).
    allowed: Option<HashSet<PathBuf>>,
    rejected_warned: bool,
}

impl FileWriter {
    /// A writer that accepts only the given paths (the `file@` targets of the configuration); lines for any
    /// other path are dropped. [`FileWriter::default`] accepts every path.
    pub fn with_allowed<I: IntoIterator<Item = PathBuf>>(paths: I) -> FileWriter {
        FileWriter { allowed: Some(paths.into_iter().collect()), ..FileWriter::default() }
    }

    /// A forwarded datagram from a worker (the format [`super::FileSink::Forward`] sends: `PATH\0LINE`).
    /// Malformed datagrams are dropped.
    pub fn handle_datagram(&mut self, data: &[u8]) {
        match decode_forward(data) {
            Some((path, line)) => self.write_line(path, line),
            None => {
                if !self.rejected_warned {
                    self.rejected_warned = true;
                    ::log::warn!("dropping malformed forwarded log datagram ({} bytes)", data.len());
                }
            }
        }
    }

    /// Appends `line` (a final `\n` is added if missing) to the file at `path`, opening it in append mode
    /// (created 0640) on first use.
    pub fn write_line(&mut self, path: &Path, line: &[u8]) {
        if let Some(allowed) = &self.allowed {
            if !allowed.contains(path) {
                if !self.rejected_warned {
                    self.rejected_warned = true;
                    ::log::warn!("dropping log line for unconfigured file {}", path.display());
                }
                return;
            }
        }
        if let Some(f) = self.files.get_mut(path) {
            f.write_line(line);
            return;
        }
        let mut f = AppendFile::new(path.to_path_buf());
        f.write_line(line);
        self.files.insert(path.to_path_buf(), f);
    }

    /// Reopen every file (SIGHUP, after logrotate renamed them).
    pub fn reopen(&mut self) {
        for f in self.files.values_mut() {
            f.reopen();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn tmpdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("nbproxy-log-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn forward_roundtrip() {
        let mut buf = Vec::new();
        assert!(encode_forward(&mut buf, Path::new("/var/log/x.log"), b"Nov 25 a b[1]: m\n"));
        let (p, l) = decode_forward(&buf).unwrap();
        assert_eq!(p, Path::new("/var/log/x.log"));
        assert_eq!(l, b"Nov 25 a b[1]: m\n");
        assert!(decode_forward(b"no-nul").is_none());
        assert!(decode_forward(b"\0line").is_none());
        assert!(!encode_forward(&mut buf, Path::new("a\0b"), b"x"));
    }

    #[test]
    fn append_rename_reopen_loses_nothing() {
        use std::os::unix::fs::PermissionsExt;
        let d = tmpdir("rotate");
        let path = d.join("haproxy.log");
        let rotated = d.join("haproxy.log.1");
        let mut w = FileWriter::default();
        let mut dg = Vec::new();
        encode_forward(&mut dg, &path, b"one\n");
        w.handle_datagram(&dg);
        w.write_line(&path, b"two");
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & !0o640, 0, "mode {mode:o}");
        fs::rename(&path, &rotated).unwrap();
        // Before SIGHUP, lines still go to the renamed file (same descriptor).
        w.write_line(&path, b"three\n");
        w.reopen();
        assert!(path.exists(), "reopen creates the new file");
        encode_forward(&mut dg, &path, b"four\n");
        w.handle_datagram(&dg);
        assert_eq!(fs::read_to_string(&rotated).unwrap(), "one\ntwo\nthree\n");
        assert_eq!(fs::read_to_string(&path).unwrap(), "four\n");
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn errors_do_not_panic_and_allowlist_filters() {
        let d = tmpdir("errors");
        let mut w = FileWriter::default();
        w.write_line(&d.join("missing/dir/x.log"), b"x\n");
        w.write_line(&d.join("missing/dir/x.log"), b"y\n");
        w.reopen();
        w.handle_datagram(b"garbage");
        let ok = d.join("ok.log");
        let mut w = FileWriter::with_allowed([ok.clone()]);
        w.write_line(&d.join("other.log"), b"no\n");
        w.write_line(&ok, b"yes\n");
        assert!(!d.join("other.log").exists());
        assert_eq!(fs::read_to_string(&ok).unwrap(), "yes\n");
        let _ = fs::remove_dir_all(&d);
    }
}
