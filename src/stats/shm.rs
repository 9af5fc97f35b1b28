//! The shared statistics segment: one anonymous shared mapping made by the master before it forks.
//!
//! Layout (all 8-byte aligned, zero-initialised by the kernel, every field an atomic):
//!
//! ```text
//! Header | ServerAdmin × servers | SlotHeader × slots | Counters × blocks × (slots + 1)
//!        | CaptureArea × proxy blocks × slots
//! ```
//!
//! The last counter area (index `slots`) is the *retired* accumulator: when a generation of workers has gone,
//! the master folds its slots into it ([`Segment::retire_slot`]) so totals survive reloads. Each worker writes
//! only its own slot, with `Relaxed` atomics and no lock; the master reads every slot and writes the admin area.
//!
//! A *block* is one [`Counters`] record: one per frontend, one per backend and one per server, numbered by
//! [`Layout`] in config order.
//!
//! Each slot also has one [`CaptureArea`] per frontend and backend block (numbered like the blocks): the last
//! invalid request a frontend refused, the last invalid response a backend refused, for `show errors`
//! ([`super::errors`] describes the seqlock that keeps their reads whole).

use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

pub use super::counters::{AdminState, CheckStatus, Counters, FreqCtr, OpState};
use super::errors::{CaptureArea, CaptureInput, Direction, ErrorCapture, Errors};

use crate::config::model::Config;

/// First word of the segment, to recognise it in a core dump.
const MAGIC: u64 = 0x6e62_7072_6f78_7931; // "nbproxy1"

/// Number of worker slots for `nbproc` workers: twice as many, so a reload's new generation writes fresh slots
/// while the old generation drains.
pub fn slot_count(nbproc: usize) -> usize {
    nbproc.max(1) * 2
}

/// The slot a worker of `generation` (1-based, as the master counts them) with index `worker_index`
/// (0-based, `< nbproc`) writes. Generations alternate between the two halves; a respawned worker keeps its
/// generation and index, so it gets the same slot back and its counters survive.
pub fn slot_for(generation: u32, worker_index: usize, nbproc: usize) -> usize {
    let nbproc = nbproc.max(1);
    (generation as usize % 2) * nbproc + worker_index % nbproc
}

/// Current wall-clock time in milliseconds since the epoch, the clock every counter method takes.
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// Per-server admin record, written by the master, read by workers.
#[repr(C)]
#[derive(Debug, Default)]
pub struct ServerAdmin {
    /// [`AdminState`].
    pub state: AtomicU64,
    /// Current user weight (`set weight`), initialised from the config.
    pub weight: AtomicU64,
    /// The config weight (`get weight` prints `(initial N)`).
    pub initial_weight: AtomicU64,
}

/// Per-slot bookkeeping, written by the master.
#[repr(C)]
#[derive(Debug, Default)]
pub struct SlotHeader {
    /// Pid of the worker writing this slot (0 = none).
    pub pid: AtomicU64,
    /// Generation of that worker.
    pub generation: AtomicU64,
    /// 1 while a worker owns the slot.
    pub live: AtomicU64,
    /// Unix time (s) the slot's worker started.
    pub started: AtomicU64,
    /// Splice pipes held by the worker's sessions now (written by the worker).
    pub pipes_used: AtomicU64,
    /// Empty splice pipes the worker keeps for later (written by the worker).
    pub pipes_free: AtomicU64,
}

#[repr(C)]
#[derive(Debug, Default)]
struct Header {
    magic: AtomicU64,
    slots: AtomicU64,
    blocks: AtomicU64,
    servers: AtomicU64,
    /// Bumped by the master after every admin change; workers compare it each loop turn.
    admin_gen: AtomicU64,
    /// Protocol errors captured so far by all workers (the next capture's event number).
    error_events: AtomicU64,
}

/// Where one proxy's blocks are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyBlocks {
    /// The proxy's name.
    pub name: String,
    /// Block of its frontend side (frontends and listens).
    pub fe: Option<usize>,
    /// Block of its backend side (backends and listens).
    pub be: Option<usize>,
    /// Global server index of its first server (servers are numbered across all proxies).
    pub first_server: usize,
    /// Its servers' names, in config order.
    pub servers: Vec<String>,
}

/// How blocks map to the config: built from a [`Config`], identical for every process that uses the segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// One entry per proxy, in config order (same index as `Config::proxies`).
    pub proxies: Vec<ProxyBlocks>,
    /// Frontend and backend blocks; server blocks follow them.
    pub proxy_blocks: usize,
    /// Servers across all proxies.
    pub servers: usize,
}

impl Layout {
    /// Number the blocks of `cfg`: per proxy in config order its frontend, then its backend; all servers after.
    pub fn from_config(cfg: &Config) -> Layout {
        let mut proxies = Vec::with_capacity(cfg.proxies.len());
        let mut b = 0;
        let mut s = 0;
        for p in &cfg.proxies {
            let fe = p.kind.has_frontend().then(|| {
                b += 1;
                b - 1
            });
            let be = p.kind.has_backend().then(|| {
                b += 1;
                b - 1
            });
            let servers: Vec<String> =
                if p.kind.has_backend() { p.servers.iter().map(|s| s.name.clone()).collect() } else { Vec::new() };
            proxies.push(ProxyBlocks { name: p.name.clone(), fe, be, first_server: s, servers: servers.clone() });
            s += servers.len();
        }
        Layout { proxies, proxy_blocks: b, servers: s }
    }
    /// Total blocks per slot.
    pub fn blocks(&self) -> usize {
        self.proxy_blocks + self.servers
    }
    /// Global server index of server `srv` of proxy `proxy` (config indexes).
    pub fn server_index(&self, proxy: usize, srv: usize) -> Option<usize> {
        let p = self.proxies.get(proxy)?;
        (srv < p.servers.len()).then_some(p.first_server + srv)
    }
    /// Block of server `srv` of proxy `proxy`.
    pub fn server_block(&self, proxy: usize, srv: usize) -> Option<usize> {
        self.server_index(proxy, srv).map(|i| self.proxy_blocks + i)
    }
    /// (proxy index, server index) of a backend/server pair by name; backends are proxies with a backend side.
    pub fn find_server(&self, backend: &str, server: &str) -> Option<(usize, usize)> {
        let pi = self.proxies.iter().position(|p| p.be.is_some() && p.name == backend)?;
        let si = self.proxies[pi].servers.iter().position(|s| s == server)?;
        Some((pi, si))
    }
}

struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is only ever accessed through atomics (`AtomicU64` fields), which are `Sync`.
unsafe impl Send for Mapping {}
// SAFETY: as above.
unsafe impl Sync for Mapping {}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` come from a successful mmap and are unmapped once, here. Other processes that
        // inherited the mapping keep their own copy of it.
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.len);
        }
    }
}

/// The shared statistics segment. Cheap to clone (reference-counted); survives `fork` at the same address.
#[derive(Clone)]
pub struct Segment {
    map: Arc<Mapping>,
    layout: Arc<Layout>,
    slots: usize,
    nbproc: usize,
}

impl std::fmt::Debug for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segment").field("len", &self.map.len).field("slots", &self.slots).finish()
    }
}

const W: usize = 8;

impl Segment {
    /// Create the segment for `cfg` (master, before forking): `slot_count(nbproc)` slots, admin states and
    /// weights initialised from the config (`disabled` servers start in MAINT).
    pub fn create(cfg: &Config) -> std::io::Result<Segment> {
        let nbproc = cfg.global.nbproc.max(1);
        let layout = Layout::from_config(cfg);
        let seg = Segment::create_raw(layout, nbproc)?;
        for (pi, p) in cfg.proxies.iter().enumerate() {
            if !p.kind.has_backend() {
                continue;
            }
            for (si, s) in p.servers.iter().enumerate() {
                if let Some(a) = seg.layout.server_index(pi, si).and_then(|i| seg.admin(i)) {
                    a.weight.store(s.weight as u64, Relaxed);
                    a.initial_weight.store(s.weight as u64, Relaxed);
                    let st = if s.disabled { AdminState::Maint } else { AdminState::Ready };
                    a.state.store(st as u64, Relaxed);
                }
            }
        }
        Ok(seg)
    }

    /// Create an empty segment for an explicit layout (weights 0, all READY).
    pub fn create_raw(layout: Layout, nbproc: usize) -> std::io::Result<Segment> {
        let slots = slot_count(nbproc);
        let len = Self::size_for(&layout, slots);
        // SAFETY: anonymous shared mapping of `len` (> 0) bytes, no fd; we check for MAP_FAILED. The kernel
        // zero-fills it, and all-zero bytes are valid `AtomicU64`s.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        let ptr = NonNull::new(ptr.cast::<u8>()).ok_or_else(|| std::io::Error::other("mmap returned null"))?;
        let seg = Segment { map: Arc::new(Mapping { ptr, len }), layout: Arc::new(layout), slots, nbproc };
        let h = seg.header();
        h.magic.store(MAGIC, Relaxed);
        h.slots.store(slots as u64, Relaxed);
        h.blocks.store(seg.layout.blocks() as u64, Relaxed);
        h.servers.store(seg.layout.servers as u64, Relaxed);
        Ok(seg)
    }

    /// Bytes needed for `layout` with `slots` slots.
    pub fn size_for(layout: &Layout, slots: usize) -> usize {
        std::mem::size_of::<Header>()
            + layout.servers * std::mem::size_of::<ServerAdmin>()
            + slots * std::mem::size_of::<SlotHeader>()
            + (slots + 1) * layout.blocks().max(1) * std::mem::size_of::<Counters>()
            + slots * layout.proxy_blocks * std::mem::size_of::<CaptureArea>()
    }

    /// The layout the segment was made for.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }
    /// Number of worker slots.
    pub fn slots(&self) -> usize {
        self.slots
    }
    /// The `nbproc` the segment was made for.
    pub fn nbproc(&self) -> usize {
        self.nbproc
    }

    /// Pointer to the `T` at byte offset `off`, after checking it fits.
    fn at<T>(&self, off: usize) -> &T {
        assert!(
            off.is_multiple_of(W) && off + std::mem::size_of::<T>() <= self.map.len,
            "stats segment offset out of range"
        );
        // SAFETY: in bounds and 8-byte aligned (checked above; the mapping is page-aligned), `T` is one of our
        // `repr(C)` all-`AtomicU64` structs, valid for any bit pattern and only accessed atomically.
        unsafe { &*self.map.ptr.as_ptr().add(off).cast::<T>() }
    }

    fn header(&self) -> &Header {
        self.at(0)
    }

    /// The admin record of global server `i`.
    pub fn admin(&self, i: usize) -> Option<&ServerAdmin> {
        (i < self.layout.servers)
            .then(|| self.at(std::mem::size_of::<Header>() + i * std::mem::size_of::<ServerAdmin>()))
    }

    /// The bookkeeping of `slot`.
    pub fn slot_header(&self, slot: usize) -> Option<&SlotHeader> {
        (slot < self.slots).then(|| {
            self.at(std::mem::size_of::<Header>()
                + self.layout.servers * std::mem::size_of::<ServerAdmin>()
                + slot * std::mem::size_of::<SlotHeader>())
        })
    }

    /// Counters of `block` in `slot`; `slot == slots()` is the retired accumulator.
    pub fn block(&self, slot: usize, block: usize) -> Option<&Counters> {
        if slot > self.slots || block >= self.layout.blocks() {
            return None;
        }
        let base = std::mem::size_of::<Header>()
            + self.layout.servers * std::mem::size_of::<ServerAdmin>()
            + self.slots * std::mem::size_of::<SlotHeader>();
        let idx = slot * self.layout.blocks().max(1) + block;
        Some(self.at(base + idx * std::mem::size_of::<Counters>()))
    }

    /// The error capture area of proxy block `block` (a frontend or backend block) in `slot`.
    pub fn capture_area(&self, slot: usize, block: usize) -> Option<&CaptureArea> {
        if slot >= self.slots || block >= self.layout.proxy_blocks {
            return None;
        }
        let base = std::mem::size_of::<Header>()
            + self.layout.servers * std::mem::size_of::<ServerAdmin>()
            + self.slots * std::mem::size_of::<SlotHeader>()
            + (self.slots + 1) * self.layout.blocks().max(1) * std::mem::size_of::<Counters>();
        let idx = slot * self.layout.proxy_blocks + block;
        Some(self.at(base + idx * std::mem::size_of::<CaptureArea>()))
    }

    /// `show errors`: the event count and, over `slots` (the live ones), the newest capture per proxy and
    /// direction, in config order (a proxy's request capture before its response capture).
    pub fn errors(&self, slots: &[usize]) -> Errors {
        let mut captures = Vec::new();
        let server = |g: usize| {
            let pi = self
                .layout
                .proxies
                .iter()
                .position(|p| (p.first_server..p.first_server + p.servers.len()).contains(&g))?;
            Some((pi, g - self.layout.proxies[pi].first_server))
        };
        for (pi, p) in self.layout.proxies.iter().enumerate() {
            for (dir, block) in [(Direction::Request, p.fe), (Direction::Response, p.be)] {
                let Some(block) = block else { continue };
                let newest = slots
                    .iter()
                    .filter_map(|&s| self.capture_area(s, block)?.read(dir, pi, server))
                    .max_by_key(|c: &ErrorCapture| (c.when_ms, c.event));
                captures.extend(newest);
            }
        }
        Errors { total: self.header().error_events.load(Relaxed), captures }
    }

    /// The retired accumulator's block.
    pub fn retired(&self, block: usize) -> Option<&Counters> {
        self.block(self.slots, block)
    }

    /// Master, just after forking a worker into `slot`: record it as live. If the slot's previous owner was of
    /// the same generation (a respawn), its counters are kept and only its gauges are zeroed.
    pub fn claim_slot(&self, slot: usize, pid: u32, generation: u32) {
        let Some(h) = self.slot_header(slot) else { return };
        let prev_gen = h.generation.load(Relaxed);
        if h.live.load(Relaxed) == 1 && prev_gen != generation as u64 {
            // A slot still owned by another generation: fold it first so nothing is lost.
            self.retire_slot(slot);
        }
        for b in 0..self.layout.blocks() {
            if let Some(c) = self.block(slot, b) {
                c.zero_gauges();
            }
        }
        for b in 0..self.layout.proxy_blocks {
            if let Some(a) = self.capture_area(slot, b) {
                a.reset_if_torn();
            }
        }
        h.pid.store(pid as u64, Relaxed);
        h.pipes_used.store(0, Relaxed);
        h.pipes_free.store(0, Relaxed);
        h.generation.store(generation as u64, Relaxed);
        h.started.store(unix_ms() / 1000, Relaxed);
        h.live.store(1, Relaxed);
    }

    /// Master, when the worker of `slot` has gone for good (its generation was replaced): fold its counters
    /// into the retired accumulator and zero the slot for the generation after next.
    pub fn retire_slot(&self, slot: usize) {
        if slot >= self.slots {
            return;
        }
        for b in 0..self.layout.blocks() {
            if let (Some(r), Some(c)) = (self.retired(b), self.block(slot, b)) {
                r.absorb(c);
                c.reset();
            }
        }
        // Captures are not carried: like a reloaded HAProxy, the new generation starts without any.
        for b in 0..self.layout.proxy_blocks {
            if let Some(a) = self.capture_area(slot, b) {
                a.clear();
            }
        }
        if let Some(h) = self.slot_header(slot) {
            h.live.store(0, Relaxed);
            h.pid.store(0, Relaxed);
            h.pipes_used.store(0, Relaxed);
            h.pipes_free.store(0, Relaxed);
        }
    }

    /// Slots whose worker is alive (as recorded by [`Segment::claim_slot`] / [`Segment::retire_slot`]).
    pub fn live_slots(&self) -> Vec<usize> {
        (0..self.slots).filter(|&s| self.slot_header(s).is_some_and(|h| h.live.load(Relaxed) == 1)).collect()
    }

    /// Splice pipes (used, free) summed over `slots`.
    pub fn pipes(&self, slots: &[usize]) -> (u64, u64) {
        slots
            .iter()
            .filter_map(|&s| self.slot_header(s))
            .fold((0, 0), |(u, f), h| (u + h.pipes_used.load(Relaxed), f + h.pipes_free.load(Relaxed)))
    }

    /// A worker's write handle for `slot`.
    pub fn writer(&self, slot: usize) -> SlotWriter {
        SlotWriter { seg: self.clone(), slot: slot.min(self.slots.saturating_sub(1)) }
    }

    /// Admin generation: changes whenever an admin state or weight changes.
    pub fn admin_generation(&self) -> u64 {
        // Acquire: pairs with the writers' Release, so the admin states written before are seen with it.
        self.header().admin_gen.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Master: set a server's admin state (every worker applies it on its next loop turn).
    pub fn set_admin_state(&self, server: usize, state: AdminState) -> bool {
        let Some(a) = self.admin(server) else { return false };
        a.state.store(state as u64, Relaxed);
        self.header().admin_gen.fetch_add(1, std::sync::atomic::Ordering::Release);
        true
    }

    /// Master: set a server's user weight, capped at HAProxy's maximum (256): every worker's balancer takes it
    /// as it is (a static-rr/map-based table has one slot per unit of weight).
    pub fn set_weight(&self, server: usize, weight: u32) -> bool {
        let Some(a) = self.admin(server) else { return false };
        a.weight.store(u64::from(weight.min(256)), Relaxed);
        self.header().admin_gen.fetch_add(1, std::sync::atomic::Ordering::Release);
        true
    }

    /// `clear counters [all]` over every slot and the retired accumulator.
    pub fn clear_counters(&self, all: bool) {
        for slot in 0..=self.slots {
            for b in 0..self.layout.blocks() {
                if let Some(c) = self.block(slot, b) {
                    c.clear(all);
                }
            }
        }
    }

    /// After a reload whose config changed the layout: the master creates a new segment and calls this to carry
    /// the old one's retired totals, live slots' totals and admin states over, matching proxies and servers by
    /// name. (Call it once the old generation has been retired in `old`, or accept that the old generation's
    /// counters after this point are not carried.)
    pub fn carry_over_from(&self, old: &Segment) {
        let ol = old.layout();
        for p in &self.layout.proxies {
            let Some(op) = ol.proxies.iter().find(|q| q.name == p.name) else { continue };
            for (mine, theirs) in [(p.fe, op.fe), (p.be, op.be)] {
                if let (Some(m), Some(t)) = (mine, theirs) {
                    self.fold_block(old, m, t);
                }
            }
            for (si, sname) in p.servers.iter().enumerate() {
                let Some(osi) = op.servers.iter().position(|n| n == sname) else { continue };
                let (Some(m), Some(t)) = (
                    Some(self.layout.proxy_blocks + p.first_server + si),
                    Some(ol.proxy_blocks + op.first_server + osi),
                ) else {
                    continue;
                };
                self.fold_block(old, m, t);
                if let (Some(a), Some(oa)) = (self.admin(p.first_server + si), old.admin(op.first_server + osi)) {
                    a.state.store(oa.state.load(Relaxed), Relaxed);
                }
            }
        }
    }

    fn fold_block(&self, old: &Segment, mine: usize, theirs: usize) {
        let Some(r) = self.retired(mine) else { return };
        for slot in 0..=old.slots {
            if let Some(c) = old.block(slot, theirs) {
                r.absorb(c);
            }
        }
    }
}

/// A worker's handle on its own slot. All methods are lock-free and cheap.
#[derive(Clone, Debug)]
pub struct SlotWriter {
    seg: Segment,
    slot: usize,
}

impl SlotWriter {
    /// Publish the worker's splice pipes (used, free) for `show info`.
    pub fn set_pipes(&self, used: u64, free: u64) {
        if let Some(h) = self.seg.slot_header(self.slot) {
            h.pipes_used.store(used, Relaxed);
            h.pipes_free.store(free, Relaxed);
        }
    }

    /// The slot this writer owns.
    pub fn slot(&self) -> usize {
        self.slot
    }
    /// The segment.
    pub fn segment(&self) -> &Segment {
        &self.seg
    }
    /// Counters of the frontend side of proxy `proxy` (config index).
    pub fn frontend(&self, proxy: usize) -> Option<&Counters> {
        let b = self.seg.layout.proxies.get(proxy)?.fe?;
        self.seg.block(self.slot, b)
    }
    /// Counters of the backend side of proxy `proxy`.
    pub fn backend(&self, proxy: usize) -> Option<&Counters> {
        let b = self.seg.layout.proxies.get(proxy)?.be?;
        self.seg.block(self.slot, b)
    }
    /// Counters of server `srv` of proxy `proxy`.
    pub fn server(&self, proxy: usize, srv: usize) -> Option<&Counters> {
        let b = self.seg.layout.server_block(proxy, srv)?;
        self.seg.block(self.slot, b)
    }
    /// Counters by block number (workers may cache block numbers from [`Layout`]).
    pub fn block(&self, block: usize) -> Option<&Counters> {
        self.seg.block(self.slot, block)
    }
    /// Compare with the last value seen to know whether admin states changed.
    pub fn admin_generation(&self) -> u64 {
        self.seg.admin_generation()
    }
    /// Record that this worker refused an invalid message: a request seen by the frontend of proxy `proxy`, or a
    /// response seen by its backend. Overwrites that proxy's previous capture in this slot. Lock-free (a seqlock
    /// write, see [`super::errors`]); copies at most [`super::errors::CAPTURE_BYTES`] of the buffer.
    pub fn capture_error(&self, direction: Direction, proxy: usize, input: &CaptureInput<'_>) {
        let Some(p) = self.seg.layout.proxies.get(proxy) else { return };
        let block = match direction {
            Direction::Request => p.fe,
            Direction::Response => p.be,
        };
        let Some(area) = block.and_then(|b| self.seg.capture_area(self.slot, b)) else { return };
        let event = self.seg.header().error_events.fetch_add(1, Relaxed);
        area.write(event, input);
    }
    /// Admin state and current user weight of server `srv` of proxy `proxy`.
    pub fn server_admin(&self, proxy: usize, srv: usize) -> Option<(AdminState, u32)> {
        let a = self.seg.admin(self.seg.layout.server_index(proxy, srv)?)?;
        Some((AdminState::from_u64(a.state.load(Relaxed)), a.weight.load(Relaxed) as u32))
    }
}
