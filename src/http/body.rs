//! Body framing: content-length, chunked and until-close bodies passed through unchanged while their end is
//! tracked, with bounded memory (no body is ever buffered whole).
//!
//! [`BodyTracker::advance`] is told about the bytes that follow the head (or the previous call's consumed
//! bytes) and answers how many of them belong to the body; the caller forwards exactly those. Whatever is left
//! after the body's end is the next message (pipelining). Chunked bodies are checked byte by byte (sizes, CRLFs,
//! trailers) except chunk data, which is skipped in one step; the state survives any split of the input.

use super::head::Framing;

/// Largest chunk size accepted: 2^63 - 1 (HAProxy 2.x bound; larger is a smuggling attempt or garbage).
const MAX_CHUNK: u64 = (1 << 63) - 1;

/// Why a body was rejected. The worker answers 400 for a request body, 502 for a response body (state `PD`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// A chunk-size line without hex digits or with a character that is not hex, `;`, space/tab or CRLF.
    BadChunkSize,
    /// A chunk size above 2^63 - 1.
    ChunkSizeOverflow,
    /// A CR not followed by LF, a bare LF, or chunk data not followed by CRLF.
    MissingCrlf,
    /// A control character in a chunk extension or a trailer line.
    BadTrailer,
    /// The peer closed before the body's announced end ([`BodyTracker::finish_eof`]).
    Truncated,
}

impl BodyError {
    /// Short description for logs.
    pub fn as_str(&self) -> &'static str {
        match self {
            BodyError::BadChunkSize => "invalid chunk size",
            BodyError::ChunkSizeOverflow => "chunk size too large",
            BodyError::MissingCrlf => "missing CRLF in chunked body",
            BodyError::BadTrailer => "invalid chunk extension or trailer",
            BodyError::Truncated => "body truncated by close",
        }
    }
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::error::Error for BodyError {}

/// Where a chunked body's parser stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// In the hex size; `digits` read so far.
    Size { digits: u8 },
    /// Spaces/tabs after the size (before `;` or CR).
    SizeWs,
    /// In a chunk extension, up to CR.
    Ext,
    /// Got CR after the size line, expecting LF.
    SizeLf,
    /// Chunk data, `remaining` bytes left.
    Data,
    /// Expecting the CR after the chunk data.
    DataCr,
    /// Expecting the LF after the chunk data.
    DataLf,
    /// At the start of a trailer line (or of the final empty line).
    TrailerStart,
    /// Inside a trailer line.
    Trailer,
    /// Got CR inside the trailer section, expecting LF; `last` when it ends the final empty line.
    TrailerLf { last: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Length,
    Chunked(Chunk),
    UntilClose,
    Done,
}

/// Tracks where one message body ends. Allocation-free; `Copy`, so a session can embed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyTracker {
    state: State,
    /// Bytes left: of the whole body (content-length) or of the current chunk's data (chunked); for chunked the
    /// size being parsed while in `Chunk::Size`.
    remaining: u64,
    /// Body bytes seen so far (everything `advance` consumed, chunk framing included).
    total: u64,
}

impl BodyTracker {
    /// A tracker for a body framed as `framing`. `Framing::None` and `ContentLength(0)` are done at once.
    pub fn new(framing: Framing) -> BodyTracker {
        let (state, remaining) = match framing {
            Framing::None | Framing::ContentLength(0) => (State::Done, 0),
            Framing::ContentLength(n) => (State::Length, n),
            Framing::Chunked => (State::Chunked(Chunk::Size { digits: 0 }), 0),
            Framing::UntilClose => (State::UntilClose, 0),
        };
        BodyTracker { state, remaining, total: 0 }
    }

    /// True once the whole body (for chunked: up to the end of the trailers) has been consumed.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Body bytes consumed so far.
    pub fn consumed(&self) -> u64 {
        self.total
    }

    /// For a content-length body, the bytes still expected; for a chunked body, those of the current chunk's
    /// data (0 between chunks). `None` for until-close bodies. Useful to size splice(2) calls.
    pub fn remaining(&self) -> Option<u64> {
        match self.state {
            State::Length | State::Chunked(Chunk::Data) => Some(self.remaining),
            State::Chunked(_) | State::Done => Some(0),
            State::UntilClose => None,
        }
    }

    /// Consumes the body bytes at the start of `data` and returns how many there were (`data.len()` unless the
    /// body ends inside `data`). After an error the tracker must not be used again.
    pub fn advance(&mut self, data: &[u8]) -> Result<usize, BodyError> {
        let used = match self.state {
            State::Done => 0,
            State::UntilClose => data.len(),
            State::Length => {
                let n = take(self.remaining, data.len());
                self.remaining -= n as u64;
                if self.remaining == 0 {
                    self.state = State::Done;
                }
                n
            }
            State::Chunked(c) => self.advance_chunked(c, data)?,
        };
        self.total += used as u64;
        Ok(used)
    }

    /// Where in `data` a tracker in this state fails (`advance` returned an error on `data`): fed one byte at a
    /// time to a copy, so only for error reporting (`show errors`). `data.len()` if it does not fail.
    pub fn error_offset(&self, data: &[u8]) -> usize {
        let mut t = *self;
        for (i, b) in data.iter().enumerate() {
            if t.advance(std::slice::from_ref(b)).is_err() {
                return i;
            }
        }
        data.len()
    }

    /// The peer closed its side: an until-close body ends here; any other unfinished body was truncated.
    pub fn finish_eof(&mut self) -> Result<(), BodyError> {
        match self.state {
            State::Done => Ok(()),
            State::UntilClose => {
                self.state = State::Done;
                Ok(())
            }
            _ => Err(BodyError::Truncated),
        }
    }

    fn advance_chunked(&mut self, mut c: Chunk, data: &[u8]) -> Result<usize, BodyError> {
        let mut i = 0;
        while i < data.len() {
            if c == Chunk::Data {
                let n = take(self.remaining, data.len() - i);
                self.remaining -= n as u64;
                i += n;
                if self.remaining == 0 {
                    c = Chunk::DataCr;
                }
                continue;
            }
            let b = data[i];
            i += 1;
            c = match c {
                Chunk::Size { digits } => match hex(b) {
                    Some(d) => {
                        // Reject before the shift would go past 2^63 - 1.
                        if self.remaining > MAX_CHUNK >> 4 {
                            return Err(BodyError::ChunkSizeOverflow);
                        }
                        self.remaining = (self.remaining << 4) | u64::from(d);
                        Chunk::Size { digits: digits.saturating_add(1) }
                    }
                    None if digits == 0 => return Err(BodyError::BadChunkSize),
                    None => match b {
                        b'\r' => Chunk::SizeLf,
                        b';' => Chunk::Ext,
                        b' ' | b'\t' => Chunk::SizeWs,
                        b'\n' => return Err(BodyError::MissingCrlf),
                        _ => return Err(BodyError::BadChunkSize),
                    },
                },
                Chunk::SizeWs => match b {
                    b' ' | b'\t' => Chunk::SizeWs,
                    b';' => Chunk::Ext,
                    b'\r' => Chunk::SizeLf,
                    b'\n' => return Err(BodyError::MissingCrlf),
                    _ => return Err(BodyError::BadChunkSize),
                },
                Chunk::Ext => match b {
                    b'\r' => Chunk::SizeLf,
                    b'\n' => return Err(BodyError::MissingCrlf),
                    b'\t' => Chunk::Ext,
                    0..=31 | 127 => return Err(BodyError::BadTrailer),
                    _ => Chunk::Ext,
                },
                Chunk::SizeLf => match b {
                    b'\n' if self.remaining == 0 => Chunk::TrailerStart,
                    b'\n' => Chunk::Data,
                    _ => return Err(BodyError::MissingCrlf),
                },
                Chunk::Data => {
                    // Not reached (data is skipped in bulk above); give the byte back if it ever is.
                    i -= 1;
                    Chunk::Data
                }
                Chunk::DataCr => match b {
                    b'\r' => Chunk::DataLf,
                    _ => return Err(BodyError::MissingCrlf),
                },
                Chunk::DataLf => match b {
                    b'\n' => Chunk::Size { digits: 0 },
                    _ => return Err(BodyError::MissingCrlf),
                },
                Chunk::TrailerStart => match b {
                    b'\r' => Chunk::TrailerLf { last: true },
                    b'\n' => return Err(BodyError::MissingCrlf),
                    // Obsolete line folding is refused in trailers as in heads.
                    b' ' | b'\t' => return Err(BodyError::BadTrailer),
                    0..=31 | 127 => return Err(BodyError::BadTrailer),
                    _ => Chunk::Trailer,
                },
                Chunk::Trailer => match b {
                    b'\r' => Chunk::TrailerLf { last: false },
                    b'\n' => return Err(BodyError::MissingCrlf),
                    b'\t' => Chunk::Trailer,
                    0..=31 | 127 => return Err(BodyError::BadTrailer),
                    _ => Chunk::Trailer,
                },
                Chunk::TrailerLf { last } => match b {
                    b'\n' if last => {
                        self.state = State::Done;
                        return Ok(i);
                    }
                    b'\n' => Chunk::TrailerStart,
                    _ => return Err(BodyError::MissingCrlf),
                },
            };
        }
        self.state = State::Chunked(c);
        Ok(i)
    }
}

/// min(remaining, avail) as usize.
fn take(remaining: u64, avail: usize) -> usize {
    usize::try_from(remaining).map_or(avail, |r| r.min(avail))
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `parts` in order the way a session does: each call sees the unconsumed rest of the current read.
    /// Returns the total consumed, or the error.
    fn feed(framing: Framing, parts: &[&[u8]]) -> Result<(usize, BodyTracker), BodyError> {
        let mut t = BodyTracker::new(framing);
        let mut total = 0;
        for p in parts {
            let n = t.advance(p)?;
            assert!(n <= p.len());
            total += n;
            if n < p.len() {
                assert!(t.is_done(), "stopped early without being done");
                break;
            }
        }
        Ok((total, t))
    }

    const CHUNKED: &[&[u8]] = &[
        b"0\r\n\r\n",
        b"5\r\nhello\r\n0\r\n\r\n",
        b"5;name=val;q=\"x y\"\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n",
        b"3 \t;ext\r\nabc\r\n0\r\nTrailer-A: 1\r\nTrailer-B:\tx y\r\n\r\n",
        b"000a\r\n0123456789\r\n0000\r\n\r\n",
        b"1\r\n\r\r\n1\r\n\n\r\n0;last\r\n\r\n",
    ];

    #[test]
    fn chunked_every_split() {
        for body in CHUNKED {
            let mut with_next = body.to_vec();
            with_next.extend_from_slice(b"GET /next HTTP/1.1\r\n\r\n");
            // Whole, with the next message behind it.
            let (n, t) = feed(Framing::Chunked, &[&with_next]).unwrap();
            assert_eq!((n, t.is_done()), (body.len(), true), "{:?}", String::from_utf8_lossy(body));
            assert_eq!(t.consumed(), body.len() as u64);
            // Every split in two.
            for k in 0..=with_next.len() {
                let (a, b) = with_next.split_at(k);
                let (n, t) = feed(Framing::Chunked, &[a, b]).unwrap();
                assert_eq!((n, t.is_done()), (body.len(), true), "split at {k}");
            }
            // Byte by byte: never done before the last byte.
            let mut t = BodyTracker::new(Framing::Chunked);
            for (i, b) in body.iter().enumerate() {
                assert!(!t.is_done());
                assert_eq!(t.advance(std::slice::from_ref(b)), Ok(1), "byte {i}");
            }
            assert!(t.is_done());
            assert_eq!(t.advance(b"GET"), Ok(0));
        }
    }

    #[test]
    fn chunked_every_three_way_split() {
        let body = CHUNKED[3];
        for i in 0..=body.len() {
            for j in i..=body.len() {
                let (n, t) = feed(Framing::Chunked, &[&body[..i], &body[i..j], &body[j..]]).unwrap();
                assert_eq!((n, t.is_done()), (body.len(), true), "splits {i} {j}");
            }
        }
    }

    #[test]
    fn chunked_errors() {
        let cases: &[(&[u8], BodyError)] = &[
            (b"g\r\n", BodyError::BadChunkSize),
            (b"\r\n", BodyError::BadChunkSize),
            (b";ext\r\n", BodyError::BadChunkSize),
            (b"-5\r\n", BodyError::BadChunkSize),
            (b"0x5\r\n", BodyError::BadChunkSize),
            (b"5 5\r\n", BodyError::BadChunkSize),
            (b"5\nhello\r\n", BodyError::MissingCrlf),
            (b"5\r\rhello", BodyError::MissingCrlf),
            (b"5\r\nhelloX\r\n", BodyError::MissingCrlf),
            (b"5\r\nhello\rX", BodyError::MissingCrlf),
            (b"5\r\nhello\n0\r\n\r\n", BodyError::MissingCrlf),
            (b"10000000000000000\r\n", BodyError::ChunkSizeOverflow),
            (b"8000000000000000\r\n", BodyError::ChunkSizeOverflow),
            (b"0\r\nT: v\n\r\n", BodyError::MissingCrlf),
            (b"0\r\n\n", BodyError::MissingCrlf),
            (b"0\r\nT: v\r\n folded\r\n\r\n", BodyError::BadTrailer),
            (b"0\r\nT: a\x00b\r\n\r\n", BodyError::BadTrailer),
            (b"1;a\x01b\r\nx\r\n", BodyError::BadTrailer),
            (b"1;ext\nx\r\n", BodyError::MissingCrlf),
        ];
        for (body, err) in cases {
            assert_eq!(feed(Framing::Chunked, &[body]).map(|r| r.0), Err(*err), "{:?}", String::from_utf8_lossy(body));
            // The same error byte by byte.
            let mut t = BodyTracker::new(Framing::Chunked);
            let got = body.iter().map(|b| t.advance(std::slice::from_ref(b))).find(Result::is_err);
            assert_eq!(got, Some(Err(*err)));
        }
        // Where it fails, for `show errors`.
        let t = BodyTracker::new(Framing::Chunked);
        assert_eq!(t.error_offset(b"5\r\nhelloX\r\n"), 8);
        assert_eq!(t.error_offset(b"zz"), 0);
        assert_eq!(t.error_offset(b"5\r\nhel"), 6, "no error: the whole input");
        // The largest chunk size accepted.
        let (n, t) = feed(Framing::Chunked, &[b"7fffffffffffffff\r\nabc"]).unwrap();
        assert_eq!((n, t.is_done(), t.remaining()), (21, false, Some((1u64 << 63) - 4)));
    }

    #[test]
    fn content_length_counts_down() {
        let (n, t) = feed(Framing::ContentLength(5), &[b"he", b"l", b"loGET / HTTP/1.1"]).unwrap();
        assert_eq!((n, t.is_done(), t.consumed()), (5, true, 5));
        let mut t = BodyTracker::new(Framing::ContentLength(10));
        assert_eq!(t.advance(b"0123"), Ok(4));
        assert_eq!(t.remaining(), Some(6));
        assert_eq!(t.finish_eof(), Err(BodyError::Truncated));
        let mut t = BodyTracker::new(Framing::ContentLength(0));
        assert!(t.is_done());
        assert_eq!(t.advance(b"next"), Ok(0));
        let mut t = BodyTracker::new(Framing::ContentLength(u64::MAX));
        assert_eq!(t.advance(&[0; 1000]), Ok(1000));
        assert!(!t.is_done());
    }

    #[test]
    fn none_and_until_close() {
        let mut t = BodyTracker::new(Framing::None);
        assert!(t.is_done());
        assert_eq!(t.advance(b"GET / HTTP/1.1"), Ok(0));
        assert_eq!(t.finish_eof(), Ok(()));

        let mut t = BodyTracker::new(Framing::UntilClose);
        assert_eq!(t.advance(b"abc"), Ok(3));
        assert_eq!(t.advance(b""), Ok(0));
        assert!(!t.is_done());
        assert_eq!(t.remaining(), None);
        assert_eq!(t.finish_eof(), Ok(()));
        assert!(t.is_done());
        assert_eq!(t.consumed(), 3);

        let mut t = BodyTracker::new(Framing::Chunked);
        assert_eq!(t.advance(b"5\r\nhel"), Ok(6));
        assert_eq!(t.remaining(), Some(2));
        assert_eq!(t.finish_eof(), Err(BodyError::Truncated));
    }
}
