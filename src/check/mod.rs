//! Health checks: the rise/fall state machine and the probes that feed it.
//!
//! Each worker checks its own servers (the design), staggered by `spread-checks`. The state machine follows
//! HAProxy (`doc/configuration.txt` §5 `rise`/`fall`; 1.4 `checks.c` semantics as summarised in
//! HAPROXY-FACTS §1.7): a checked server starts UP with `health = rise`, so the first failure marks it DOWN;
//! once UP through checks its health is `rise + fall - 1`, so it then takes `fall` failures to go DOWN.

pub mod expect;
pub mod http;
pub mod ldap;
pub mod mysql;
pub mod pgsql;
pub mod probe;
pub mod redis;
pub mod smtp;
pub mod ssl_hello;
pub mod tcp_check;

use std::fmt::Debug;
use std::time::Duration;

use crate::config::model::CheckKind;

/// Largest response a check keeps (HAProxy's `tune.bufsize` default); a protocol must decide once it is full.
pub const CHECK_BUFSIZE: usize = 16384;

/// Result of one check, with the words HAProxy logs for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The check passed (L4OK, L6OK, L7OK, L7OKC).
    pub ok: bool,
    /// CSV `check_status`: `L4OK`, `L4CON`, `L4TOUT`, `L7OK`, `L7STS`, …
    pub status: &'static str,
    /// `Layer4 check passed`, `Layer4 connection problem`, `Layer4 timeout`, …
    pub reason: &'static str,
    /// Extra detail, e.g. `Connection refused` (logged as `info: "…"`).
    pub info: Option<String>,
    /// L7 status code, if any.
    pub code: Option<u16>,
    /// How long the check took.
    pub duration: Duration,
    /// `http-check disable-on-404` answered 404: the server stays UP but takes no new load-balanced traffic.
    pub nolb: bool,
}

impl Outcome {
    /// The outcome for a CSV `check_status`, with HAProxy's reason text (`L7STS` → `Layer7 wrong status`).
    pub fn of(status: &'static str) -> Outcome {
        let (ok, reason) = match status {
            "L4OK" => (true, "Layer4 check passed"),
            "L4TOUT" => (false, "Layer4 timeout"),
            "L4CON" => (false, "Layer4 connection problem"),
            "L6OK" => (true, "Layer6 check passed"),
            "L6TOUT" => (false, "Layer6 timeout"),
            "L6RSP" => (false, "Layer6 invalid response"),
            "L7OK" => (true, "Layer7 check passed"),
            "L7OKC" => (true, "Layer7 check conditionally passed"),
            "L7TOUT" => (false, "Layer7 timeout"),
            "L7RSP" => (false, "Layer7 invalid response"),
            "L7STS" => (false, "Layer7 wrong status"),
            "SOCKERR" => (false, "Socket error"),
            _ => (false, "Unknown"),
        };
        Outcome { ok, status, reason, info: None, code: None, duration: Duration::ZERO, nolb: false }
    }

    /// With `info: "…"` (control characters replaced, at most 128 characters; an empty text is no info, as
    /// HAProxy leaves `info` out of its log lines then).
    pub fn info(mut self, info: impl AsRef<str>) -> Outcome {
        let clean: String = info.as_ref().chars().map(|c| if c.is_control() { ' ' } else { c }).take(128).collect();
        self.info = (!clean.is_empty()).then_some(clean);
        self
    }

    /// With an L7 status code.
    pub fn code(mut self, code: u16) -> Outcome {
        self.code = Some(code);
        self
    }
}

/// Which layer a protocol works at: decides the timeout and invalid-response statuses after connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// `ssl-hello-chk`: L6TOUT, L6RSP.
    L6,
    /// Everything else: L7TOUT, L7RSP.
    L7,
}

impl Layer {
    /// The outcome when the deadline passes after the connection was established.
    pub fn timeout(self) -> Outcome {
        match self {
            Layer::L6 => Outcome::of("L6TOUT"),
            Layer::L7 => Outcome::of("L7TOUT"),
        }
    }

    /// The outcome for a response that cannot be understood.
    pub fn invalid(self) -> Outcome {
        match self {
            Layer::L6 => Outcome::of("L6RSP"),
            Layer::L7 => Outcome::of("L7RSP"),
        }
    }
}

/// A sans-io protocol probe run over an established check connection.
///
/// The session owns the buffers: `rx` holds what the server sent and not yet consumed (bounded by
/// [`CHECK_BUFSIZE`]), `tx` what is still to be written. A machine may drain `rx` and append to `tx`.
pub trait Machine: Debug {
    /// The connection is established: queue the first bytes to send. `Some` ends the check at once.
    fn start(&mut self, tx: &mut Vec<u8>) -> Option<Outcome>;
    /// New bytes arrived (or `last`: the peer closed or the buffer is full, so nothing more will come).
    /// Must return `Some` when `last` is true.
    fn advance(&mut self, rx: &mut Vec<u8>, last: bool, tx: &mut Vec<u8>) -> Option<Outcome>;
    /// The layer of this protocol (timeout and invalid-response statuses).
    fn layer(&self) -> Layer {
        Layer::L7
    }
    /// Where the protocol was when the deadline passed (`info` of the timeout outcome), if it can say.
    fn timeout_info(&self) -> Option<String> {
        None
    }
}

/// A backend's check protocol, prepared once from the config (patterns compiled), making one [`Machine`] per check.
#[derive(Debug, Clone)]
pub enum Spec {
    /// Plain TCP connect.
    Connect,
    /// `option httpchk`.
    Http(http::HttpSpec),
    /// `option ssl-hello-chk`.
    SslHello,
    /// `option smtpchk`.
    Smtp { verb: String, domain: String },
    /// `option mysql-check [user U]`.
    Mysql { user: Option<String> },
    /// `option redis-check`.
    Redis,
    /// `option ldap-check`.
    Ldap,
    /// `option pgsql-check user U`.
    Pgsql { user: String },
    /// `option tcp-check` (a plain connect when it has no send/expect rules).
    TcpCheck(tcp_check::TcpSpec),
}

impl Spec {
    /// Prepare the protocol of a backend.
    pub fn new(kind: &CheckKind) -> Spec {
        match kind {
            CheckKind::Tcp => Spec::Connect,
            CheckKind::Http(h) => Spec::Http(http::HttpSpec::new(h)),
            CheckKind::SslHello => Spec::SslHello,
            CheckKind::Smtp { verb, domain } => Spec::Smtp { verb: verb.clone(), domain: domain.clone() },
            CheckKind::Mysql { user } => Spec::Mysql { user: user.clone() },
            CheckKind::Redis => Spec::Redis,
            CheckKind::Ldap => Spec::Ldap,
            CheckKind::Pgsql { user } => match user {
                Some(u) => Spec::Pgsql { user: u.clone() },
                None => Spec::Connect,
            },
            CheckKind::TcpCheck(rules) => Spec::TcpCheck(tcp_check::TcpSpec::new(rules)),
        }
    }

    /// `tcp-check connect port N` as the first rule: the port checks connect to.
    pub fn port(&self) -> Option<u16> {
        match self {
            Spec::TcpCheck(t) => t.port(),
            _ => None,
        }
    }

    /// Whether the HTTP check sends `X-Haproxy-Server-State` (`http-check send-state`).
    pub fn wants_state(&self) -> bool {
        matches!(self, Spec::Http(h) if h.send_state())
    }

    /// The machine for one check; `None` for a plain connect check. `state` is the `X-Haproxy-Server-State` value.
    pub fn machine(&self, state: Option<&str>, now_secs: u64) -> Option<Box<dyn Machine>> {
        Some(match self {
            Spec::Connect => return None,
            Spec::Http(h) => Box::new(h.machine(state)),
            Spec::SslHello => Box::new(ssl_hello::SslHello::new(now_secs)),
            Spec::Smtp { verb, domain } => Box::new(smtp::Smtp::new(verb, domain)),
            Spec::Mysql { user } => Box::new(mysql::Mysql::new(user.as_deref())),
            Spec::Redis => Box::new(redis::Redis),
            Spec::Ldap => Box::new(ldap::Ldap),
            Spec::Pgsql { user } => Box::new(pgsql::Pgsql::new(user)),
            Spec::TcpCheck(t) if t.is_connect_only() => return None,
            Spec::TcpCheck(t) => Box::new(t.machine()),
        })
    }
}

/// A change of a server's state caused by a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The server reached `rise` successes and is UP again.
    Up,
    /// The server failed `fall` checks (or the first one at start) and is DOWN.
    Down,
}

/// Per-server check configuration and state.
#[derive(Debug, Clone)]
pub struct CheckState {
    pub rise: u32,
    pub fall: u32,
    pub inter: Duration,
    pub fastinter: Option<Duration>,
    pub downinter: Option<Duration>,
    /// 0 ..= rise + fall - 1; UP iff `up`.
    pub health: u32,
    pub up: bool,
    /// Last outcome (for stats and logs).
    pub last: Option<Outcome>,
    /// Number of UP→DOWN transitions (CSV `chkdown`).
    pub down_transitions: u32,
    /// Failed checks (CSV `chkfail`).
    pub failures: u64,
    /// UP but excluded from load balancing (`http-check disable-on-404` got a 404): HAProxy's NOLB.
    pub nolb: bool,
}

impl CheckState {
    /// A checked server at start: UP with `health = rise` (HAProxy: "up, but will fall down at first failure").
    pub fn new(
        rise: u32,
        fall: u32,
        inter: Duration,
        fastinter: Option<Duration>,
        downinter: Option<Duration>,
    ) -> Self {
        let rise = rise.max(1);
        let fall = fall.max(1);
        CheckState {
            rise,
            fall,
            inter,
            fastinter,
            downinter,
            health: rise,
            up: true,
            last: None,
            down_transitions: 0,
            failures: 0,
            nolb: false,
        }
    }

    fn max_health(&self) -> u32 {
        self.rise + self.fall - 1
    }

    /// Feed one result; returns the transition it caused, if any.
    pub fn record(&mut self, outcome: Outcome) -> Option<Transition> {
        let ok = outcome.ok;
        let nolb = outcome.nolb;
        self.last = Some(outcome);
        if ok {
            self.nolb = nolb;
            if self.up {
                self.health = (self.health + 1).min(self.max_health());
                None
            } else {
                self.health += 1;
                if self.health >= self.rise {
                    self.up = true;
                    self.health = self.max_health();
                    Some(Transition::Up)
                } else {
                    None
                }
            }
        } else {
            self.failures += 1;
            if self.up && self.health > self.rise {
                self.health -= 1;
                None
            } else {
                self.health = 0;
                if self.up {
                    self.up = false;
                    self.nolb = false;
                    self.down_transitions += 1;
                    Some(Transition::Down)
                } else {
                    None
                }
            }
        }
    }

    /// True while the server is between states (UP going down, DOWN going up).
    pub fn transitional(&self) -> bool {
        if self.up {
            self.health < self.max_health()
        } else {
            self.health > 0
        }
    }

    /// Interval before the next check: `inter` when stable UP, `fastinter` in transition, `downinter` when DOWN.
    pub fn interval(&self) -> Duration {
        if self.transitional() {
            self.fastinter.unwrap_or(self.inter)
        } else if !self.up {
            self.downinter.unwrap_or(self.inter)
        } else {
            self.inter
        }
    }

    /// HAProxy's status text for the stats page: `UP`, `UP 2/3`, `NOLB`, `NOLB 1/2`, `DOWN`, `DOWN 1/2`.
    pub fn status_text(&self) -> String {
        if self.up {
            let word = if self.nolb { "NOLB" } else { "UP" };
            if self.transitional() {
                format!("{word} {}/{}", self.health - self.rise + 1, self.fall)
            } else {
                word.into()
            }
        } else if self.transitional() {
            format!("DOWN {}/{}", self.health, self.rise)
        } else {
            "DOWN".into()
        }
    }
}

/// Apply `spread-checks` jitter: `interval ± rand(interval × pct / 100)`.
pub fn spread(interval: Duration, pct: u32, rand: u64) -> Duration {
    if pct == 0 {
        return interval;
    }
    let ms = interval.as_millis() as u64;
    let span = ms * pct.min(50) as u64 / 100;
    if span == 0 {
        return interval;
    }
    let off = rand % (2 * span + 1);
    Duration::from_millis(ms + off - span)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(ok: bool) -> Outcome {
        Outcome::of(if ok { "L4OK" } else { "L4CON" })
    }

    #[test]
    fn first_failure_at_start_marks_down() {
        let mut c = CheckState::new(2, 3, Duration::from_secs(2), None, None);
        assert!(c.up);
        assert_eq!(c.record(res(false)), Some(Transition::Down));
    }

    #[test]
    fn rise_and_fall_counts() {
        let mut c = CheckState::new(2, 3, Duration::from_secs(2), None, None);
        c.record(res(false));
        assert_eq!(c.record(res(true)), None);
        assert_eq!(c.record(res(true)), Some(Transition::Up), "after rise=2 successes");
        assert_eq!(c.record(res(false)), None);
        assert_eq!(c.record(res(false)), None);
        assert_eq!(c.record(res(false)), Some(Transition::Down), "after fall=3 failures");
        assert_eq!(c.down_transitions, 2);
    }

    #[test]
    fn stable_up_needs_fall_failures() {
        let mut c = CheckState::new(2, 2, Duration::from_secs(2), None, None);
        c.record(res(true));
        c.record(res(true));
        assert_eq!(c.record(res(false)), None);
        assert_eq!(c.status_text(), "UP 1/2");
        assert_eq!(c.record(res(false)), Some(Transition::Down));
    }

    #[test]
    fn intervals_follow_state() {
        let mut c = CheckState::new(
            2,
            2,
            Duration::from_secs(2),
            Some(Duration::from_millis(500)),
            Some(Duration::from_secs(5)),
        );
        c.record(res(true));
        assert_eq!(c.interval(), Duration::from_secs(2));
        c.record(res(false));
        assert_eq!(c.interval(), Duration::from_millis(500));
        c.record(res(false));
        assert_eq!(c.interval(), Duration::from_secs(5));
    }

    #[test]
    fn nolb_follows_the_last_success() {
        let mut c = CheckState::new(2, 2, Duration::from_secs(2), None, None);
        let mut o404 = Outcome::of("L7OKC");
        o404.nolb = true;
        assert_eq!(c.record(o404.clone()), None);
        assert!(c.up && c.nolb);
        assert_eq!(c.status_text(), "NOLB");
        c.record(res(false));
        assert_eq!(c.status_text(), "NOLB 1/2");
        c.record(Outcome::of("L7OK"));
        assert!(!c.nolb);
        c.record(o404);
        assert_eq!(c.record(res(false)), None);
        assert_eq!(c.record(res(false)), Some(Transition::Down));
        assert!(!c.nolb, "a DOWN server is not NOLB");
    }

    #[test]
    fn outcome_texts() {
        let o = Outcome::of("L7STS").code(500).info("Internal\r\nServer Error");
        assert_eq!((o.ok, o.reason, o.info.as_deref()), (false, "Layer7 wrong status", Some("Internal  Server Error")));
        assert_eq!(Outcome::of("L7OKC").reason, "Layer7 check conditionally passed");
        assert!(Outcome::of("L6OK").ok);
        assert_eq!(Outcome::of("L4OK").info(""), Outcome::of("L4OK"));
    }

    /// The first backend's check spec of a config text, through the real config loader.
    fn spec_of(body: &str) -> Spec {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "nbproxy-check-spec-{}-{}.cfg",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let text = format!("defaults\n    mode tcp\n\nbackend be\n{body}\n    server s1 127.0.0.1:1 check\n");
        std::fs::write(&path, text).expect("write config");
        let loaded = crate::config::load(std::slice::from_ref(&path));
        let _ = std::fs::remove_file(&path);
        let cfg = loaded.expect("config loads").config;
        let be = cfg.proxies.iter().find(|p| p.name == "be").expect("backend be");
        Spec::new(&be.check)
    }

    fn first_bytes(spec: &Spec) -> Vec<u8> {
        let mut tx = Vec::new();
        let mut m = spec.machine(Some("UP; name=be/s1"), 0).expect("a protocol check");
        assert_eq!(m.start(&mut tx), None);
        tx
    }

    #[test]
    fn specs_from_config_text() {
        let s = spec_of("    option httpchk GET /check HTTP/1.1\\r\\nHost:\\ www.example");
        assert_eq!(first_bytes(&s), b"GET /check HTTP/1.1\r\nHost: www.example\r\n\r\n");
        let s = spec_of("    option httpchk HEAD /check.html HTTP/1.0\n    http-check send-state");
        assert_eq!(
            first_bytes(&s),
            b"HEAD /check.html HTTP/1.0\r\nX-Haproxy-Server-State: UP; name=be/s1\r\n\r\n".to_vec()
        );
        let s = spec_of("    option httpchk");
        assert_eq!(first_bytes(&s), b"OPTIONS / HTTP/1.0\r\n\r\n");
        let s = spec_of("    option tcp-check\n    tcp-check send PING\\r\\n\n    tcp-check expect string +PONG");
        assert_eq!(first_bytes(&s), b"PING\r\n");
        let s = spec_of("    option tcp-check\n    tcp-check connect port 6379");
        assert_eq!(s.port(), Some(6379));
        assert!(s.machine(None, 0).is_none(), "connect-only tcp-check is a plain connect check");
        assert!(spec_of("    option redis-check").machine(None, 0).is_some());
        assert!(spec_of("").machine(None, 0).is_none());
        let s = spec_of("    option smtpchk EHLO lb.example");
        assert!(matches!(&s, Spec::Smtp { verb, domain } if verb == "EHLO" && domain == "lb.example"));
        assert!(matches!(spec_of("    option mysql-check user hc"), Spec::Mysql { user: Some(u) } if u == "hc"));
    }

    #[test]
    fn spread_stays_in_range() {
        for r in 0..100 {
            let d = spread(Duration::from_millis(1000), 10, r * 7919);
            assert!(d >= Duration::from_millis(900) && d <= Duration::from_millis(1100));
        }
    }
}
