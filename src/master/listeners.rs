//! Listening sockets: one SO_REUSEPORT socket per `bind` address per worker slot, created by the master and
//! kept for the master's whole life. A respawned or reloaded worker of slot *i* takes the same sockets, so
//! connections waiting in a backlog are never lost (SPEC §2, ★).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use socket2::{Domain, Protocol, Socket, Type};

use crate::config::model::{Config, ListenAddr};

/// Identity of one listening socket: the address, the worker slot, and which occurrence of that address in
/// the config it is (two frontends may name the same address).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub addr: ListenAddr,
    pub slot: usize,
    pub nth: usize,
}

pub use crate::ipc::SlotListener;

/// Every listening socket the master holds.
#[derive(Debug, Default)]
pub struct ListenerSet {
    socks: HashMap<Key, OwnedFd>,
    /// For each slot: (proxy index, key) in config order.
    plan: Vec<Vec<(usize, Key, bool)>>,
    backlogs: HashMap<Key, i32>,
}

fn bind_inet(addr: SocketAddr, backlog: i32, v6only: bool) -> std::io::Result<Socket> {
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    sock.set_reuse_address(true)?;
    sock.set_reuse_port(true)?;
    if addr.is_ipv6() {
        sock.set_only_v6(v6only)?;
    }
    sock.set_nonblocking(true)?;
    sock.bind(&addr.into())?;
    sock.listen(backlog)?;
    Ok(sock)
}

impl ListenerSet {
    /// Make the set match `cfg` for `nbproc` slots: keep sockets whose key is unchanged, bind new ones.
    /// Returns the sockets no longer wanted (the caller closes them once the old workers were told to stop).
    /// On error nothing changes.
    pub fn rebind(&mut self, cfg: &Config, nbproc: usize, default_backlog: u32) -> Result<Vec<OwnedFd>, String> {
        let mut plan: Vec<Vec<(usize, Key, bool)>> = vec![Vec::new(); nbproc];
        let mut fresh: HashMap<Key, OwnedFd> = HashMap::new();
        let mut backlogs = HashMap::new();
        let mut seen: HashMap<ListenAddr, usize> = HashMap::new();
        for (pi, p) in cfg.proxies.iter().enumerate() {
            if !p.kind.has_frontend() || p.disabled {
                continue;
            }
            for b in &p.binds {
                let backlog =
                    b.backlog.or(p.backlog).or(p.maxconn).unwrap_or(default_backlog).min(i32::MAX as u32) as i32;
                for addr in &b.addrs {
                    let nth = {
                        let c = seen.entry(addr.clone()).or_insert(0);
                        *c += 1;
                        *c
                    };
                    for (slot, slot_plan) in plan.iter_mut().enumerate() {
                        let key = Key { addr: addr.clone(), slot, nth };
                        slot_plan.push((pi, key.clone(), b.accept_proxy));
                        backlogs.insert(key.clone(), backlog);
                        if self.socks.contains_key(&key) || fresh.contains_key(&key) {
                            continue;
                        }
                        let fd = match addr {
                            ListenAddr::Inet(sa) => {
                                bind_inet(*sa, backlog, b.v6only).map(OwnedFd::from).map_err(|e| {
                                    format!("{}: cannot bind socket ({e}) [{sa}] for proxy {}", b.pos, p.name)
                                })?
                            }
                            ListenAddr::Fd(n) => {
                                dup_inherited(*n).map_err(|e| format!("{}: cannot use fd@{n}: {e}", b.pos))?
                            }
                            ListenAddr::Unix(path) => {
                                return Err(format!(
                                    "{}: 'unix@{}' listeners are not supported yet",
                                    b.pos,
                                    path.display()
                                ))
                            }
                        };
                        fresh.insert(key, fd);
                    }
                }
            }
        }
        let wanted: std::collections::HashSet<&Key> = plan.iter().flatten().map(|(_, k, _)| k).collect();
        let mut removed = Vec::new();
        let old_keys: Vec<Key> = self.socks.keys().filter(|k| !wanted.contains(k)).cloned().collect();
        for k in old_keys {
            if let Some(fd) = self.socks.remove(&k) {
                removed.push(fd);
            }
        }
        self.socks.extend(fresh);
        self.plan = plan;
        self.backlogs = backlogs;
        Ok(removed)
    }

    /// The sockets of one slot — the fds stay owned by the set.
    pub fn for_slot(&self, slot: usize) -> Vec<SlotListener> {
        let one = |(pi, k, accept_proxy): &(usize, Key, bool)| {
            let fd = self.socks.get(k)?.as_raw_fd();
            Some(SlotListener { proxy: *pi, fd, accept_proxy: *accept_proxy })
        };
        self.plan.get(slot).map(|v| v.iter().filter_map(one).collect()).unwrap_or_default()
    }

    /// Every fd in the set.
    pub fn all_fds(&self) -> Vec<RawFd> {
        self.socks.values().map(|fd| fd.as_raw_fd()).collect()
    }

    /// TTOU: make the kernel refuse new connections while keeping the sockets (HAProxy's pause).
    pub fn pause(&self) {
        for fd in self.socks.values() {
            let _ = nix::sys::socket::shutdown(fd.as_raw_fd(), nix::sys::socket::Shutdown::Read);
        }
    }

    /// TTIN: listen again.
    pub fn resume(&self) {
        for (k, fd) in &self.socks {
            let backlog = self.backlogs.get(k).copied().unwrap_or(1024);
            // SAFETY: listen(2) on a socket we own; no memory is involved.
            let _ = unsafe { libc::listen(fd.as_raw_fd(), backlog) };
        }
    }

    /// Close everything (soft or hard stop).
    pub fn close_all(&mut self) {
        self.socks.clear();
        self.plan.clear();
    }
}

/// `fd@N`: duplicate an inherited listening descriptor so that each slot owns its own number.
fn dup_inherited(n: RawFd) -> std::io::Result<OwnedFd> {
    // SAFETY: fcntl(F_DUPFD_CLOEXEC) only creates a new descriptor; an invalid `n` gives EBADF.
    let fd = unsafe { libc::fcntl(n, libc::F_DUPFD_CLOEXEC, 3) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` was just created by fcntl and is owned by nobody else.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let sock = Socket::from(owned);
    sock.set_nonblocking(true)?;
    Ok(OwnedFd::from(sock))
}
