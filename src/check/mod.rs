//! Health checks: the rise/fall state machine and the probes that feed it.
//!
//! Each worker checks its own servers (the design), staggered by `spread-checks`. The state machine follows
//! HAProxy (`doc/configuration.txt` §5 `rise`/`fall`; 1.4 `checks.c` semantics as summarised in
//! HAPROXY-FACTS §1.7): a checked server starts UP with `health = rise`, so the first failure marks it DOWN;
//! once UP through checks its health is `rise + fall - 1`, so it then takes `fall` failures to go DOWN.

pub mod probe;

use std::time::Duration;

/// Result of one check, with the words HAProxy logs for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub ok: bool,
    /// CSV `check_status`: `L4OK`, `L4CON`, `L4TOUT`, `L7OK`, `L7STS`, …
    pub status: &'static str,
    /// `Layer4 check passed`, `Layer4 connection problem`, `Layer4 timeout`, …
    pub reason: &'static str,
    /// Extra detail, e.g. `Connection refused` (logged as `info: "…"`).
    pub info: Option<String>,
    /// L7 status code, if any.
    pub code: Option<u16>,
    pub duration: Duration,
}

/// A change of a server's state caused by a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Up,
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
        }
    }

    fn max_health(&self) -> u32 {
        self.rise + self.fall - 1
    }

    /// Feed one result; returns the transition it caused, if any.
    pub fn record(&mut self, outcome: Outcome) -> Option<Transition> {
        let ok = outcome.ok;
        self.last = Some(outcome);
        if ok {
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

    /// HAProxy's status text for the stats page: `UP`, `UP 2/3`, `DOWN`, `DOWN 1/2`.
    pub fn status_text(&self) -> String {
        if self.up {
            if self.transitional() {
                format!("UP {}/{}", self.health - self.rise + 1, self.fall)
            } else {
                "UP".into()
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
        Outcome {
            ok,
            status: if ok { "L4OK" } else { "L4CON" },
            reason: "",
            info: None,
            code: None,
            duration: Duration::ZERO,
        }
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
    fn spread_stays_in_range() {
        for r in 0..100 {
            let d = spread(Duration::from_millis(1000), 10, r * 7919);
            assert!(d >= Duration::from_millis(900) && d <= Duration::from_millis(1100));
        }
    }
}
