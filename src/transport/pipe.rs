//! Kernel pipes for splice(2), a per-worker pool of them bounded by `maxpipes`.
//!
//! A direction that splices moves its bytes socket → pipe → socket without entering user space; the pipe is
//! taken when the direction starts splicing and given back when it is empty again. An empty pipe is kept for
//! the next session; one still holding bytes when its session ends is closed (its bytes have nowhere to go).

use std::os::fd::{AsRawFd, OwnedFd};

use nix::fcntl::{FcntlArg, OFlag};

/// A kernel pipe and how many bytes it holds.
#[derive(Debug)]
pub struct Pipe {
    /// The end splice(2) reads from.
    pub rd: OwnedFd,
    /// The end splice(2) writes into.
    pub wr: OwnedFd,
    /// Bytes the pipe holds now.
    pub data: usize,
}

/// The worker's pipes for splicing: at most `max` in use at once, empty ones kept for the next session.
#[derive(Debug)]
pub struct PipePool {
    free: Vec<Pipe>,
    used: usize,
    max: usize,
    /// `tune.pipesize`, applied to each new pipe.
    want_size: Option<usize>,
    /// What a pipe holds at most (learned from the first pipe; the kernel's default is 64 KiB).
    pub cap: usize,
}

impl PipePool {
    /// A pool of at most `max` pipes (`maxpipes`), each sized `size` bytes when given (`tune.pipesize`).
    pub fn new(max: usize, size: Option<usize>) -> PipePool {
        PipePool { free: Vec::new(), used: 0, max, want_size: size, cap: 65536 }
    }

    /// Pipes held by sessions now.
    pub fn used(&self) -> usize {
        self.used
    }

    /// Empty pipes kept for later.
    pub fn free(&self) -> usize {
        self.free.len()
    }

    /// A pipe, unless `maxpipes` are in use or the system refuses a new one (the caller copies instead).
    pub fn take(&mut self) -> Option<Pipe> {
        if self.used >= self.max {
            return None;
        }
        let p = match self.free.pop() {
            Some(p) => p,
            None => self.create()?,
        };
        self.used += 1;
        Some(p)
    }

    fn create(&mut self) -> Option<Pipe> {
        let (rd, wr) = nix::unistd::pipe2(OFlag::O_NONBLOCK | OFlag::O_CLOEXEC).ok()?;
        if let Some(size) = self.want_size {
            // Best effort: above /proc/sys/fs/pipe-max-size an unprivileged worker keeps the default size.
            let _ = nix::fcntl::fcntl(wr.as_raw_fd(), FcntlArg::F_SETPIPE_SZ(size.min(i32::MAX as usize) as i32));
        }
        if let Ok(n) = nix::fcntl::fcntl(wr.as_raw_fd(), FcntlArg::F_GETPIPE_SZ) {
            self.cap = (n as usize).max(4096);
        }
        Some(Pipe { rd, wr, data: 0 })
    }

    /// Take a pipe back: an empty one is kept, one still holding bytes (a session ended early) is closed.
    pub fn give(&mut self, p: Pipe) {
        self.used = self.used.saturating_sub(1);
        if p.data == 0 {
            self.free.push(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipe_pool_bounds_reuses_and_closes_pipes_with_data() {
        let mut pipes = PipePool::new(2, None);
        let a = pipes.take().expect("first pipe");
        let mut b = pipes.take().expect("second pipe");
        assert!(pipes.take().is_none(), "maxpipes reached");
        assert_eq!((pipes.used(), pipes.free()), (2, 0));
        pipes.give(a);
        assert_eq!((pipes.used(), pipes.free()), (1, 1), "an empty pipe is kept");
        b.data = 10;
        pipes.give(b);
        assert_eq!((pipes.used(), pipes.free()), (0, 1), "a pipe with bytes in it is closed");
        assert!(pipes.take().is_some() && pipes.free() == 0, "the kept pipe is reused");
    }

    #[test]
    fn pipesize_is_applied() {
        let mut pipes = PipePool::new(1, Some(1 << 20));
        let _p = pipes.take().expect("pipe");
        // Unprivileged processes are capped by /proc/sys/fs/pipe-max-size (1 MiB by default).
        let max: usize =
            std::fs::read_to_string("/proc/sys/fs/pipe-max-size").ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0);
        if max >= 1 << 20 {
            assert_eq!(pipes.cap, 1 << 20);
        }
    }
}
