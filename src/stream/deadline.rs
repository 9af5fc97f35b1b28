//! A session's deadlines as a pure function: given where the session stands ([`Clock`], read off the session
//! by the worker) and its frontend's and backend's timeouts, when does it expire, and with which termination
//! state when it does.
//!
//! Which timeout applies follows HAProxy: `timeout queue` (else `connect`) while queued, `timeout connect`
//! while connecting, `timeout http-keep-alive` (else `http-request`) between two requests, `timeout
//! http-request` (else `client`) while a request head is awaited, `timeout server` while a response head is,
//! `timeout tunnel` for TCP sessions and upgraded connections (else the client and server timeouts), and
//! `timeout client-fin` / `server-fin` instead of them on a side closed in one direction.

use std::time::{Duration, Instant};

use super::phase::Phase;
use super::term::Term;
use crate::config::model::Timeouts;

/// What a session's deadline depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    pub phase: Phase,
    /// When the current phase began.
    pub phase_since: Instant,
    /// Last I/O on the client connection.
    pub client_io: Instant,
    /// Last I/O on the server connection, when there is one.
    pub server_io: Option<Instant>,
    /// The client connection is closed in one direction (read the end, or shut our side).
    pub client_half: bool,
    /// The same for the server connection.
    pub server_half: bool,
    /// HTTP sessions only.
    pub http: Option<HttpClock>,
}

/// What an HTTP session adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpClock {
    /// A keep-alive connection between two requests, nothing of the next one received.
    pub idle: bool,
    /// When the current request began (its first byte, or the end of the previous exchange).
    pub started: Instant,
    /// The request went out whole and its response head is awaited.
    pub awaiting_response: bool,
    /// The connection was upgraded to a tunnel.
    pub tunnel: bool,
}

fn at(since: Instant, d: Option<Duration>) -> Option<Instant> {
    d.map(|d| since + d)
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// `timeout client-fin` / `server-fin`, each when it is set and its side is half-closed.
fn fins(c: &Clock, fe: &Timeouts, be: Option<&Timeouts>) -> (Option<Duration>, Option<Duration>) {
    let client_fin = fe.client_fin.filter(|_| c.client_half);
    let server_fin = be.and_then(|t| t.server_fin).filter(|_| c.server_half);
    (client_fin, server_fin)
}

/// When the session expires (`None`: no timeout applies).
pub fn deadline(c: &Clock, fe: &Timeouts, be: Option<&Timeouts>) -> Option<Instant> {
    match c.phase {
        Phase::Queued => at(c.phase_since, be.and_then(Timeouts::queue_or_connect)),
        Phase::Connecting => at(c.phase_since, be.and_then(|t| t.connect)),
        Phase::TurnAround(when) | Phase::Tarpit(when) => Some(when),
        Phase::Request => {
            let h = c.http?;
            let t = if h.idle { fe.http_keep_alive.or(fe.http_request) } else { fe.http_request };
            at(h.started, t.or(fe.client))
        }
        Phase::Established if c.http.is_some_and(|h| h.awaiting_response) => {
            // The request is out: only the server's answer is awaited (`timeout server`).
            at(c.server_io.unwrap_or(c.phase_since), be.and_then(|t| t.server))
        }
        Phase::Established => {
            // `timeout tunnel` applies to TCP sessions and to HTTP sessions once upgraded, not to exchanges.
            let exchange = c.http.is_some_and(|h| !h.tunnel);
            let tunnel = if exchange { None } else { be.and_then(|t| t.tunnel).or(fe.tunnel) };
            let server_side = c.server_io.unwrap_or(c.phase_since);
            let (client_fin, server_fin) = fins(c, fe, be);
            // A half-closed side waits on its `-fin` timeout instead of the client/server (and tunnel) one.
            let fin = earliest(at(c.client_io, client_fin), at(server_side, server_fin));
            match tunnel {
                Some(t) => earliest(Some(c.client_io.max(server_side) + t), fin),
                None => earliest(
                    at(c.client_io, client_fin.or(fe.client)),
                    at(server_side, server_fin.or(be.and_then(|t| t.server))),
                ),
            }
        }
    }
}

/// The termination state of an established session whose deadline passed at `now`: `sH` while a response
/// head was awaited, `cD` when the client side was the one idle too long, `sD` otherwise.
pub fn expired(c: &Clock, fe: &Timeouts, now: Instant) -> Term {
    if c.http.is_some_and(|h| h.awaiting_response) {
        return Term::SERVER_TIMEOUT_HEADERS;
    }
    let client_fin = fe.client_fin.filter(|_| c.client_half);
    let client_expired = client_fin.or(fe.client).is_some_and(|d| c.client_io + d <= now);
    if client_expired {
        Term::CLIENT_TIMEOUT_DATA
    } else {
        Term::SERVER_TIMEOUT_DATA
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(n: u64) -> Option<Duration> {
        Some(Duration::from_secs(n))
    }

    fn clock(t0: Instant, phase: Phase) -> Clock {
        Clock {
            phase,
            phase_since: t0,
            client_io: t0,
            server_io: None,
            client_half: false,
            server_half: false,
            http: None,
        }
    }

    fn http(t0: Instant) -> HttpClock {
        HttpClock { idle: false, started: t0, awaiting_response: false, tunnel: false }
    }

    fn timeouts() -> Timeouts {
        Timeouts { connect: secs(5), client: secs(30), server: secs(40), ..Timeouts::default() }
    }

    #[test]
    fn queue_and_connect() {
        let t0 = Instant::now();
        let (fe, mut be) = (timeouts(), timeouts());
        assert_eq!(deadline(&clock(t0, Phase::Connecting), &fe, Some(&be)), Some(t0 + Duration::from_secs(5)));
        assert_eq!(
            deadline(&clock(t0, Phase::Queued), &fe, Some(&be)),
            Some(t0 + Duration::from_secs(5)),
            "timeout queue falls back to connect"
        );
        be.queue = secs(2);
        assert_eq!(deadline(&clock(t0, Phase::Queued), &fe, Some(&be)), Some(t0 + Duration::from_secs(2)));
        assert_eq!(deadline(&clock(t0, Phase::Queued), &fe, None), None, "no backend: nothing applies");
        let later = t0 + Duration::from_millis(700);
        assert_eq!(deadline(&clock(t0, Phase::TurnAround(later)), &fe, Some(&be)), Some(later));
        assert_eq!(deadline(&clock(t0, Phase::Tarpit(later)), &fe, Some(&be)), Some(later));
    }

    #[test]
    fn request_head_and_keep_alive() {
        let t0 = Instant::now();
        let mut fe = timeouts();
        let mut c = clock(t0, Phase::Request);
        assert_eq!(deadline(&c, &fe, None), None, "a TCP session is never waiting for a request");
        c.http = Some(http(t0));
        assert_eq!(deadline(&c, &fe, None), Some(t0 + Duration::from_secs(30)), "no http-request: client");
        fe.http_request = secs(10);
        assert_eq!(deadline(&c, &fe, None), Some(t0 + Duration::from_secs(10)));
        c.http = Some(HttpClock { idle: true, ..http(t0) });
        assert_eq!(deadline(&c, &fe, None), Some(t0 + Duration::from_secs(10)), "keep-alive falls back");
        fe.http_keep_alive = secs(3);
        assert_eq!(deadline(&c, &fe, None), Some(t0 + Duration::from_secs(3)));
        c.http = Some(http(t0));
        assert_eq!(deadline(&c, &fe, None), Some(t0 + Duration::from_secs(10)), "a request begun: not idle");
    }

    #[test]
    fn waiting_for_the_response_head() {
        let t0 = Instant::now();
        let (fe, be) = (timeouts(), timeouts());
        let sent = t0 + Duration::from_secs(1);
        let c = Clock {
            server_io: Some(sent),
            http: Some(HttpClock { awaiting_response: true, ..http(t0) }),
            ..clock(t0, Phase::Established)
        };
        assert_eq!(deadline(&c, &fe, Some(&be)), Some(sent + Duration::from_secs(40)), "timeout server only");
        assert_eq!(expired(&c, &fe, sent + Duration::from_secs(40)), Term::SERVER_TIMEOUT_HEADERS);
    }

    #[test]
    fn data_phase_client_and_server() {
        let t0 = Instant::now();
        let (fe, be) = (timeouts(), timeouts());
        let c = Clock { server_io: Some(t0 + Duration::from_secs(20)), ..clock(t0, Phase::Established) };
        assert_eq!(deadline(&c, &fe, Some(&be)), Some(t0 + Duration::from_secs(30)), "the client side first");
        assert_eq!(expired(&c, &fe, t0 + Duration::from_secs(30)), Term::CLIENT_TIMEOUT_DATA);
        let c = Clock { client_io: t0 + Duration::from_secs(50), ..c };
        assert_eq!(deadline(&c, &fe, Some(&be)), Some(t0 + Duration::from_secs(60)), "then the server side");
        assert_eq!(expired(&c, &fe, t0 + Duration::from_secs(60)), Term::SERVER_TIMEOUT_DATA);
    }

    #[test]
    fn tunnel_replaces_client_and_server_for_tcp_and_upgrades_only() {
        let t0 = Instant::now();
        let fe = timeouts();
        let be = Timeouts { tunnel: secs(3600), ..timeouts() };
        let tcp = Clock { server_io: Some(t0), ..clock(t0, Phase::Established) };
        assert_eq!(deadline(&tcp, &fe, Some(&be)), Some(t0 + Duration::from_secs(3600)));
        let exchange = Clock { http: Some(http(t0)), ..tcp };
        assert_eq!(deadline(&exchange, &fe, Some(&be)), Some(t0 + Duration::from_secs(30)), "not in an exchange");
        let upgraded = Clock { http: Some(HttpClock { tunnel: true, ..http(t0) }), ..tcp };
        assert_eq!(deadline(&upgraded, &fe, Some(&be)), Some(t0 + Duration::from_secs(3600)));
        let fe_tunnel = Timeouts { tunnel: secs(99), ..timeouts() };
        assert_eq!(deadline(&tcp, &fe_tunnel, Some(&timeouts())), Some(t0 + Duration::from_secs(99)), "frontend's");
    }

    #[test]
    fn half_closed_sides_wait_on_their_fin_timeouts() {
        let t0 = Instant::now();
        let fe = Timeouts { client_fin: secs(1), ..timeouts() };
        let be = Timeouts { server_fin: secs(2), tunnel: secs(3600), ..timeouts() };
        let c = Clock { server_io: Some(t0), ..clock(t0, Phase::Established) };
        assert_eq!(deadline(&c, &fe, Some(&be)), Some(t0 + Duration::from_secs(3600)), "not half-closed");
        let client_half = Clock { client_half: true, ..c };
        assert_eq!(deadline(&client_half, &fe, Some(&be)), Some(t0 + Duration::from_secs(1)));
        assert_eq!(expired(&client_half, &fe, t0 + Duration::from_secs(1)), Term::CLIENT_TIMEOUT_DATA);
        let server_half = Clock { server_half: true, ..c };
        assert_eq!(deadline(&server_half, &fe, Some(&be)), Some(t0 + Duration::from_secs(2)));
        let http_server_half = Clock { http: Some(http(t0)), ..server_half };
        assert_eq!(deadline(&http_server_half, &fe, Some(&be)), Some(t0 + Duration::from_secs(2)));
    }
}
