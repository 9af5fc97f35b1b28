//! Fixed-size I/O buffers of `tune.bufsize` bytes from a per-worker pool.
//!
//! A buffer is taken when data is in flight and given back as soon as it is drained, so an idle connection
//! holds no buffer memory. Nothing is allocated per request once the pool is warm; the spare buffers it keeps
//! are bounded by those in use (and a small floor), so a burst does not pin its peak memory for ever.

/// Spare buffers a pool keeps whatever its use.
const SPARE_FLOOR: usize = 64;

/// A pool of equally sized byte buffers.
#[derive(Debug)]
pub struct Pool {
    size: usize,
    free: Vec<Box<[u8]>>,
    /// Buffers taken and not given back.
    out: usize,
}

impl Pool {
    /// A pool of buffers of `size` bytes.
    pub fn new(size: usize) -> Pool {
        Pool { size: size.clamp(1024, 1 << 30), free: Vec::new(), out: 0 }
    }

    /// Take a buffer (allocating one if the pool is empty).
    pub fn take(&mut self) -> Box<[u8]> {
        self.out += 1;
        self.free.pop().unwrap_or_else(|| vec![0u8; self.size].into_boxed_slice())
    }

    /// Give a buffer back (kept for the next taker unless the pool already keeps enough spares).
    pub fn give(&mut self, buf: Box<[u8]>) {
        self.out = self.out.saturating_sub(1);
        if buf.len() == self.size && self.free.len() < self.out.max(SPARE_FLOOR) {
            self.free.push(buf);
        }
    }

    /// Buffers in use now.
    pub fn in_use(&self) -> usize {
        self.out
    }
}

/// One direction's buffer: bytes `[head, tail)` are waiting to be written (offsets as `u32`: a session holds
/// two of these whether busy or idle, and `tune.bufsize` is far below 4 GiB).
#[derive(Debug, Default)]
pub struct Buf {
    data: Option<Box<[u8]>>,
    head: u32,
    tail: u32,
}

impl Buf {
    /// Bytes waiting to be written.
    pub fn pending(&self) -> &[u8] {
        match &self.data {
            Some(d) => &d[self.head as usize..self.tail as usize],
            None => &[],
        }
    }

    /// True when nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.head == self.tail
    }

    /// True when no byte can be appended.
    pub fn is_full(&self) -> bool {
        self.data.as_ref().is_some_and(|d| self.tail as usize == d.len() && self.head == 0)
    }

    /// Free space to read into (taking a buffer from the pool and compacting if needed).
    pub fn space(&mut self, pool: &mut Pool) -> &mut [u8] {
        let data = self.data.get_or_insert_with(|| pool.take());
        if self.head == self.tail {
            self.head = 0;
            self.tail = 0;
        } else if self.tail as usize == data.len() && self.head > 0 {
            data.copy_within(self.head as usize..self.tail as usize, 0);
            self.tail -= self.head;
            self.head = 0;
        }
        &mut data[self.tail as usize..]
    }

    /// Record `n` bytes read into [`Buf::space`].
    pub fn filled(&mut self, n: usize) {
        self.tail += n as u32;
    }

    /// Record `n` bytes written from [`Buf::pending`].
    pub fn consumed(&mut self, n: usize) {
        self.head += n as u32;
    }

    /// Give the buffer back to the pool if it is empty.
    pub fn release_if_empty(&mut self, pool: &mut Pool) {
        if self.head == self.tail {
            if let Some(d) = self.data.take() {
                pool.give(d);
            }
            self.head = 0;
            self.tail = 0;
        }
    }

    /// Give the buffer back whatever it holds (the session is closing).
    pub fn release(&mut self, pool: &mut Pool) {
        self.head = 0;
        self.tail = 0;
        if let Some(d) = self.data.take() {
            pool.give(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_drain_compact_release() {
        let mut pool = Pool::new(1024);
        let mut b = Buf::default();
        let s = b.space(&mut pool);
        assert_eq!(s.len(), 1024);
        s[..4].copy_from_slice(b"abcd");
        b.filled(1024);
        assert!(b.is_full());
        b.consumed(1000);
        assert_eq!(b.pending().len(), 24);
        assert_eq!(b.space(&mut pool).len(), 1000, "compacted");
        b.consumed(24);
        b.release_if_empty(&mut pool);
        assert_eq!(pool.free.len(), 1);
        assert_eq!(pool.in_use(), 0);
    }

    #[test]
    fn spares_are_bounded_by_use() {
        let mut pool = Pool::new(1024);
        let taken: Vec<_> = (0..200).map(|_| pool.take()).collect();
        assert_eq!(pool.in_use(), 200);
        for b in taken {
            pool.give(b);
        }
        assert_eq!(pool.in_use(), 0);
        // Kept while the spares were fewer than the buffers still out, then up to the floor.
        assert!(pool.free.len() >= SPARE_FLOOR && pool.free.len() <= 101, "kept {}", pool.free.len());
    }
}
