//! How a session ended: a typed cause and stage (HAProxy's `SF_ERR_*` and `SF_FINST_*`), turned into the two
//! letters of the log's termination state only when a line is written.
//!
//! The first letter says what ended the session, the second where it stood then (HAProxy's configuration
//! manual, "Session state at disconnection"). Keeping them typed lets the code ask questions of them (was it
//! the client? a timeout? which status does a client that got nothing yet deserve?) instead of comparing bytes.

use std::fmt;

/// What ended the session: the first letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// `-`: normal end, nothing went wrong.
    Normal,
    /// `C`: the client aborted (closed, reset).
    ClientAbort,
    /// `S`: the server aborted, refused or answered something invalid.
    ServerAbort,
    /// `P`: the proxy stopped it (a rule, a protocol violation).
    Proxy,
    /// `L`: the proxy answered locally (stats page, redirect, return).
    Local,
    /// `R`: a resource ran out in the proxy.
    Resource,
    /// `I`: an internal error.
    Internal,
    /// `D`: the server went down (`on-marked-down shutdown-sessions`).
    Down,
    /// `K`: killed by an administrator.
    Killed,
    /// `U`: a backup server came up (`on-marked-up shutdown-backup-sessions`).
    Up,
    /// `c`: `timeout client` (or `http-request`) expired.
    ClientTimeout,
    /// `s`: `timeout server`, `connect` or `queue` expired.
    ServerTimeout,
}

/// Where the session stood: the second letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// `-`: normal end.
    Normal,
    /// `R`: waiting for (or reading) the request.
    Request,
    /// `Q`: waiting in a queue.
    Queue,
    /// `C`: connecting to the server.
    Connect,
    /// `H`: waiting for (or reading) the response headers.
    Headers,
    /// `D`: in the data phase.
    Data,
    /// `L`: sending the last data to the client.
    Last,
    /// `T`: held by `tarpit`.
    Tarpit,
}

/// A termination state: cause and stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term {
    pub cause: Cause,
    pub stage: Stage,
}

impl Cause {
    fn letter(self) -> u8 {
        match self {
            Cause::Normal => b'-',
            Cause::ClientAbort => b'C',
            Cause::ServerAbort => b'S',
            Cause::Proxy => b'P',
            Cause::Local => b'L',
            Cause::Resource => b'R',
            Cause::Internal => b'I',
            Cause::Down => b'D',
            Cause::Killed => b'K',
            Cause::Up => b'U',
            Cause::ClientTimeout => b'c',
            Cause::ServerTimeout => b's',
        }
    }
}

impl Stage {
    fn letter(self) -> u8 {
        match self {
            Stage::Normal => b'-',
            Stage::Request => b'R',
            Stage::Queue => b'Q',
            Stage::Connect => b'C',
            Stage::Headers => b'H',
            Stage::Data => b'D',
            Stage::Last => b'L',
            Stage::Tarpit => b'T',
        }
    }
}

impl Term {
    /// `--`: a normal end.
    pub const NORMAL: Term = Term::new(Cause::Normal, Stage::Normal);
    /// `CC`: the client left while the server connection was being set up.
    pub const CLIENT_CONNECT: Term = Term::new(Cause::ClientAbort, Stage::Connect);
    /// `CD`: the client aborted during the data phase.
    pub const CLIENT_DATA: Term = Term::new(Cause::ClientAbort, Stage::Data);
    /// `CQ`: the client left while queued.
    pub const CLIENT_QUEUE: Term = Term::new(Cause::ClientAbort, Stage::Queue);
    /// `CR`: the client aborted before sending a complete request.
    pub const CLIENT_REQUEST: Term = Term::new(Cause::ClientAbort, Stage::Request);
    /// `LR`: answered by the proxy itself (stats page, redirect, return, service).
    pub const LOCAL_REQUEST: Term = Term::new(Cause::Local, Stage::Request);
    /// `PD`: the proxy refused the data (an invalid body).
    pub const PROXY_DATA: Term = Term::new(Cause::Proxy, Stage::Data);
    /// `PH`: the proxy refused the response headers (invalid, or denied by a rule).
    pub const PROXY_HEADERS: Term = Term::new(Cause::Proxy, Stage::Headers);
    /// `PR`: the proxy refused the request (invalid, or denied by a rule).
    pub const PROXY_REQUEST: Term = Term::new(Cause::Proxy, Stage::Request);
    /// `PT`: the proxy tarpitted the request.
    pub const PROXY_TARPIT: Term = Term::new(Cause::Proxy, Stage::Tarpit);
    /// `SC`: the server refused the connection, or no server could take it.
    pub const SERVER_CONNECT: Term = Term::new(Cause::ServerAbort, Stage::Connect);
    /// `SD`: the server aborted during the data phase.
    pub const SERVER_DATA: Term = Term::new(Cause::ServerAbort, Stage::Data);
    /// `SH`: the server aborted before (or while) sending its response headers.
    pub const SERVER_HEADERS: Term = Term::new(Cause::ServerAbort, Stage::Headers);
    /// `SQ`: the server's queue was full.
    pub const SERVER_QUEUE: Term = Term::new(Cause::ServerAbort, Stage::Queue);
    /// `cD`: `timeout client` expired in the data phase.
    pub const CLIENT_TIMEOUT_DATA: Term = Term::new(Cause::ClientTimeout, Stage::Data);
    /// `cR`: `timeout http-request` expired before a complete request.
    pub const CLIENT_TIMEOUT_REQUEST: Term = Term::new(Cause::ClientTimeout, Stage::Request);
    /// `sC`: `timeout connect` expired.
    pub const SERVER_TIMEOUT_CONNECT: Term = Term::new(Cause::ServerTimeout, Stage::Connect);
    /// `sD`: `timeout server` expired in the data phase.
    pub const SERVER_TIMEOUT_DATA: Term = Term::new(Cause::ServerTimeout, Stage::Data);
    /// `sH`: `timeout server` expired before the response headers.
    pub const SERVER_TIMEOUT_HEADERS: Term = Term::new(Cause::ServerTimeout, Stage::Headers);
    /// `sQ`: `timeout queue` expired.
    pub const SERVER_TIMEOUT_QUEUE: Term = Term::new(Cause::ServerTimeout, Stage::Queue);

    /// A termination state.
    pub const fn new(cause: Cause, stage: Stage) -> Term {
        Term { cause, stage }
    }

    /// The two letters of the log line.
    pub fn letters(self) -> [u8; 2] {
        [self.cause.letter(), self.stage.letter()]
    }

    /// The client ended it (first letter `C`).
    pub fn by_client(self) -> bool {
        self.cause == Cause::ClientAbort
    }

    /// The server ended it (first letter `S`).
    pub fn by_server(self) -> bool {
        self.cause == Cause::ServerAbort
    }

    /// HAProxy's "error" for `dontlog-normal` and `log-separate-errors`: anything but a normal or local end.
    pub fn is_error(self) -> bool {
        !matches!(self.cause, Cause::Normal | Cause::Local)
    }

    /// The status an HTTP client that got no response yet is answered with when a session ends this way
    /// (503 when no server could take it, 504 on `timeout server`, 502 for a server that failed us, 408 on
    /// `timeout http-request`, 400 for a refused request); `None`: close without an answer.
    pub fn http_status(self) -> Option<u16> {
        match self {
            Term::SERVER_CONNECT | Term::SERVER_TIMEOUT_CONNECT | Term::SERVER_TIMEOUT_QUEUE | Term::SERVER_QUEUE => {
                Some(503)
            }
            Term::SERVER_TIMEOUT_HEADERS => Some(504),
            Term::SERVER_HEADERS | Term::PROXY_HEADERS => Some(502),
            Term::CLIENT_TIMEOUT_REQUEST => Some(408),
            Term::PROXY_REQUEST | Term::PROXY_DATA => Some(400),
            _ => None,
        }
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b] = self.letters();
        write!(f, "{}{}", a as char, b as char)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_are_haproxys() {
        let cases = [
            (Term::NORMAL, "--"),
            (Term::CLIENT_CONNECT, "CC"),
            (Term::CLIENT_DATA, "CD"),
            (Term::CLIENT_QUEUE, "CQ"),
            (Term::CLIENT_REQUEST, "CR"),
            (Term::LOCAL_REQUEST, "LR"),
            (Term::PROXY_DATA, "PD"),
            (Term::PROXY_HEADERS, "PH"),
            (Term::PROXY_REQUEST, "PR"),
            (Term::PROXY_TARPIT, "PT"),
            (Term::SERVER_CONNECT, "SC"),
            (Term::SERVER_DATA, "SD"),
            (Term::SERVER_HEADERS, "SH"),
            (Term::SERVER_QUEUE, "SQ"),
            (Term::CLIENT_TIMEOUT_DATA, "cD"),
            (Term::CLIENT_TIMEOUT_REQUEST, "cR"),
            (Term::SERVER_TIMEOUT_CONNECT, "sC"),
            (Term::SERVER_TIMEOUT_DATA, "sD"),
            (Term::SERVER_TIMEOUT_HEADERS, "sH"),
            (Term::SERVER_TIMEOUT_QUEUE, "sQ"),
            (Term::new(Cause::Down, Stage::Data), "DD"),
            (Term::new(Cause::Up, Stage::Data), "UD"),
            (Term::new(Cause::Killed, Stage::Last), "KL"),
            (Term::new(Cause::Resource, Stage::Connect), "RC"),
            (Term::new(Cause::Internal, Stage::Request), "IR"),
        ];
        for (t, s) in cases {
            assert_eq!(t.to_string(), s);
            assert_eq!(&t.letters(), s.as_bytes());
        }
    }

    #[test]
    fn questions() {
        assert!(Term::CLIENT_QUEUE.by_client() && !Term::CLIENT_QUEUE.by_server());
        assert!(Term::SERVER_DATA.by_server() && !Term::CLIENT_TIMEOUT_DATA.by_client());
        assert!(!Term::NORMAL.is_error() && !Term::LOCAL_REQUEST.is_error());
        assert!(Term::PROXY_REQUEST.is_error() && Term::CLIENT_TIMEOUT_REQUEST.is_error());
        assert_eq!(Term::SERVER_TIMEOUT_QUEUE.http_status(), Some(503));
        assert_eq!(Term::SERVER_TIMEOUT_HEADERS.http_status(), Some(504));
        assert_eq!(Term::PROXY_HEADERS.http_status(), Some(502));
        assert_eq!(Term::CLIENT_TIMEOUT_REQUEST.http_status(), Some(408));
        assert_eq!(Term::PROXY_DATA.http_status(), Some(400));
        assert_eq!(Term::CLIENT_DATA.http_status(), None);
        assert_eq!(Term::SERVER_TIMEOUT_DATA.http_status(), None);
    }
}
