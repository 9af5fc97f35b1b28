//! Daemon mode (`-D`, `daemon`): detach after the listeners are bound, and let the launching process's exit
//! status tell whether start-up worked. Also the pidfile.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use nix::unistd::{fork, setsid, ForkResult};

/// The write end kept by the daemon to report start-up success to the waiting launcher.
#[derive(Debug)]
pub struct StartupReport(Option<std::fs::File>);

impl StartupReport {
    /// Nothing to report to (foreground).
    pub fn none() -> Self {
        StartupReport(None)
    }

    /// Tell the launcher how start-up went; it exits with this code.
    pub fn send(&mut self, code: u8) {
        if let Some(mut f) = self.0.take() {
            let _ = f.write_all(&[code]);
        }
    }
}

/// Double fork + setsid; stdio to /dev/null. Returns in the daemon only; the launcher exits with the status
/// the daemon reports (1 if it dies first).
pub fn detach() -> Result<StartupReport, String> {
    let (rd, wr): (OwnedFd, OwnedFd) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| format!("pipe: {e}"))?;
    // SAFETY: the master is single-threaded at this point (no signal or logger threads before fork).
    match unsafe { fork() }.map_err(|e| format!("fork: {e}"))? {
        ForkResult::Parent { .. } => {
            drop(wr);
            let mut f = std::fs::File::from(rd);
            let mut b = [1u8];
            let code = match f.read(&mut b) {
                Ok(1) => b[0] as i32,
                _ => 1,
            };
            std::process::exit(code);
        }
        ForkResult::Child => {}
    }
    drop(rd);
    setsid().map_err(|e| format!("setsid: {e}"))?;
    // SAFETY: still single-threaded; the intermediate process only exits.
    match unsafe { fork() }.map_err(|e| format!("fork: {e}"))? {
        ForkResult::Parent { .. } => std::process::exit(0),
        ForkResult::Child => {}
    }
    if let Ok(null) = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null") {
        for fd in 0..3 {
            let _ = nix::unistd::dup2(null.as_raw_fd(), fd);
        }
    }
    Ok(StartupReport(Some(std::fs::File::from(wr))))
}

/// Write the pidfile (one line: the master's pid), as HAProxy: unlink, create 0644.
pub fn write_pidfile(path: &Path, pid: u32) -> Result<(), String> {
    let _ = std::fs::remove_file(path);
    std::fs::write(path, format!("{pid}\n"))
        .map_err(|e| format!("[ALERT] cannot create pidfile {}: {e}", path.display()))
}
