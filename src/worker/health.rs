//! Scheduling health checks in the worker's loop and acting on their results: logging state changes in
//! HAProxy's words and letting queued sessions go when a server comes back.

use std::time::Instant;

use mio::Interest;

use super::{TimerKey, Worker, CHECK_BASE};
use crate::check::probe::{self, Probe};
use crate::check::{spread, Outcome, Transition};
use crate::config::model::Level;

impl Worker {
    /// Stagger the first check of every checked server over one `inter`, so N servers (and N workers, thanks to
    /// `spread-checks` and the random offset) do not check in lock-step.
    pub(super) fn schedule_first_checks(&mut self) {
        let now = Instant::now();
        let checked: Vec<usize> = (0..self.rt.servers.len()).filter(|&i| self.rt.servers[i].check.is_some()).collect();
        let n = checked.len().max(1) as u32;
        for (k, si) in checked.into_iter().enumerate() {
            let r = self.random();
            let Some(c) = self.rt.servers[si].check.as_mut() else { continue };
            let inter = c.state.inter;
            let offset = inter * k as u32 / n + std::time::Duration::from_millis(r % 50);
            let at = now + offset.min(inter);
            c.next_at = at;
            self.timers.arm(at, TimerKey::Check(si));
        }
    }

    /// Drop every in-flight probe (soft stop).
    pub(super) fn stop_checks(&mut self) {
        for s in &mut self.rt.servers {
            if let Some(c) = s.check.as_mut() {
                if let Some(mut p) = c.probe.take() {
                    let _ = self.poll.registry().deregister(&mut p.sock);
                }
                c.stopped = true;
            }
        }
    }

    pub(super) fn on_check_timer(&mut self, si: usize, now: Instant) {
        let Some(c) = self.rt.servers.get_mut(si).and_then(|s| s.check.as_mut()) else { return };
        if c.stopped {
            return;
        }
        if let Some(p) = &c.probe {
            if now >= p.deadline {
                let outcome = p.timed_out();
                return self.check_done(si, outcome, now);
            }
            return;
        }
        if now < c.next_at {
            return;
        }
        match Probe::start(c.addr, c.timeout) {
            Ok(mut p) => {
                let deadline = p.deadline;
                match self.poll.registry().register(&mut p.sock, mio::Token(CHECK_BASE + si), Interest::WRITABLE) {
                    Ok(()) => {
                        c.probe = Some(p);
                        self.timers.arm(deadline, TimerKey::Check(si));
                    }
                    Err(e) => self.check_done(si, probe::failed(&e, now), now),
                }
            }
            Err(e) => self.check_done(si, probe::failed(&e, now), now),
        }
    }

    pub(super) fn on_check_event(&mut self, si: usize) {
        let Some(c) = self.rt.servers.get_mut(si).and_then(|s| s.check.as_mut()) else { return };
        let Some(outcome) = c.probe.as_ref().and_then(|p| p.poll()) else { return };
        self.check_done(si, outcome, Instant::now());
    }

    fn check_done(&mut self, si: usize, outcome: Outcome, now: Instant) {
        let r = self.random();
        let spread_pct = self.cfg.global.spread_checks;
        let Some(c) = self.rt.servers.get_mut(si).and_then(|s| s.check.as_mut()) else { return };
        if let Some(mut p) = c.probe.take() {
            let _ = self.poll.registry().deregister(&mut p.sock);
        }
        let was_up = c.state.up;
        let detail = describe(&outcome);
        let transition = c.state.record(outcome);
        let next = now + spread(c.state.interval(), spread_pct, r);
        c.next_at = next;
        let status = c.state.status_text();
        self.timers.arm(next, TimerKey::Check(si));
        let be = self.rt.servers[si].backend;
        let (act, bck) = self.rt.usable_counts(be);
        let b = &self.rt.backends[be];
        let s = &self.rt.servers[si];
        let qlen = b.queue.len();
        match transition {
            Some(Transition::Down) => {
                b.logger.log(
                    Level::Alert,
                    &format!(
                        "Server {}/{} is DOWN, reason: {detail}. {act} active and {bck} backup servers left. {} sessions active, 0 requeued, {qlen} remaining in queue.",
                        b.name, s.name, s.cur
                    ),
                );
                log::warn!("Server {}/{} is DOWN, reason: {detail}.", b.name, s.name);
                if act + bck == 0 {
                    b.logger.log(Level::Emerg, &format!("backend {} has no server available!", b.name));
                    log::error!("backend {} has no server available!", b.name);
                }
                // Queued sessions must not wait for a server that is gone: re-run balancing for them.
                self.dequeue_soon(be);
            }
            Some(Transition::Up) => {
                b.logger.log(
                    Level::Notice,
                    &format!(
                        "Server {}/{} is UP, reason: {detail}. {act} active and {bck} backup servers online. 0 sessions requeued, {qlen} total in queue.",
                        b.name, s.name
                    ),
                );
                log::warn!("Server {}/{} is UP, reason: {detail}.", b.name, s.name);
                self.dequeue_soon(be);
            }
            None if b.log_health_checks && (was_up != status.starts_with("UP") || status.contains('/')) => {
                b.logger.log(
                    Level::Notice,
                    &format!("Health check for server {}/{} {detail}, status: {status}.", b.name, s.name),
                );
            }
            None => {}
        }
    }
}

/// `Layer4 connection problem, info: "Connection refused", check duration: 0ms`.
fn describe(o: &Outcome) -> String {
    let mut s = o.reason.to_string();
    if let Some(info) = &o.info {
        s.push_str(&format!(", info: \"{info}\""));
    }
    if let Some(code) = o.code {
        s.push_str(&format!(", code: {code}"));
    }
    s.push_str(&format!(", check duration: {}ms", o.duration.as_millis()));
    s
}
