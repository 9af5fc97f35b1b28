//! Scheduling health checks in the worker's loop (one [`Probe`] per checked server, running the backend's protocol
//! from [`crate::check::Spec`]) and acting on their results: logging state changes in
//! HAProxy's words and letting queued sessions go when a server comes back.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use mio::Interest;

use super::session::Phase;
use super::{TimerKey, Worker, CHECK_BASE};
use crate::check::probe::{self, Probe};
use crate::check::{spread, Outcome, Transition};
use crate::config::model::Level;
use crate::stream::term::{Cause, Stage, Term};

impl Worker {
    /// Stagger the first check of every checked server over one `inter`, so N servers (and N workers, thanks to
    /// `spread-checks` and the random offset) do not check in lock-step.
    pub(super) fn schedule_first_checks(&mut self) {
        let now = self.now;
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
        let state = c.spec.wants_state().then(|| self.state_header(si));
        let Some(c) = self.rt.servers.get_mut(si).and_then(|s| s.check.as_mut()) else { return };
        let now_secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let machine = c.spec.machine(state.as_deref(), now_secs);
        let prefix = c.send_proxy.map(crate::proxy_proto::local_header).unwrap_or_default();
        let source = self.rt.servers[si].source;
        let Some(c) = self.rt.servers.get_mut(si).and_then(|s| s.check.as_mut()) else { return };
        match Probe::start(c.addr, c.timeout, machine, prefix, source) {
            Ok(mut p) => {
                let deadline = p.deadline;
                let interest = Interest::READABLE | Interest::WRITABLE;
                match self.poll.registry().register(&mut p.sock, mio::Token(CHECK_BASE + si), interest) {
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
        let Some(outcome) = c.probe.as_mut().and_then(|p| p.poll()) else { return };
        self.check_done(si, outcome, self.now);
    }

    /// `UP 2/3; name=be/srv; node=lb1; weight=1/2; scur=0/1; qcur=0` for `http-check send-state`.
    fn state_header(&self, si: usize) -> String {
        let s = &self.rt.servers[si];
        let b = &self.rt.backends[s.backend];
        let status = s.check.as_ref().map_or_else(|| "UP".to_string(), |c| c.state.status_text());
        let total_weight: u32 = b
            .servers
            .iter()
            .map(|&i| &self.rt.servers[i])
            .filter(|o| o.usable() && o.backup == s.backup)
            .map(|o| o.weight)
            .sum();
        let node = self.cfg.global.node.clone().unwrap_or_else(crate::log::hostname);
        format!(
            "{status}; name={}/{}; node={node}; weight={}/{total_weight}; scur={}/{}; qcur={}",
            b.name,
            s.name,
            s.weight,
            s.cur,
            b.cur,
            s.queue.len()
        )
    }

    fn check_done(&mut self, si: usize, outcome: Outcome, now: Instant) {
        let r = self.random();
        let spread_pct = self.cfg.global.spread_checks;
        let Some(c) = self.rt.servers.get_mut(si).and_then(|s| s.check.as_mut()) else { return };
        if let Some(mut p) = c.probe.take() {
            let _ = self.poll.registry().deregister(&mut p.sock);
        }
        let was_nolb = c.state.nolb;
        let prev_status = c.state.last.as_ref().map(|o| o.status);
        let prev_health = c.state.health;
        let max_health = c.state.rise + c.state.fall - 1;
        let detail = describe(&outcome);
        let (st_status, st_code, st_ms, st_failed) =
            (outcome.status, outcome.code, outcome.duration.as_millis() as u64, !outcome.ok);
        // HAProxy's log-health-checks rule: log when the status changes, or a failure while health is not yet 0,
        // or a success while health is not yet full.
        let worth_logging = prev_status != Some(outcome.status)
            || (!outcome.ok && prev_health != 0)
            || (outcome.ok && prev_health != max_health);
        let verdict = match (outcome.ok, outcome.status) {
            (true, "L7OKC") => "conditionally succeeded",
            (true, _) => "succeeded",
            (false, _) => "failed",
        };
        let transition = c.state.record(outcome);
        let next = now + spread(c.state.interval(), spread_pct, r);
        c.next_at = next;
        let (up, nolb, health, rise, fall) = (c.state.up, c.state.nolb, c.state.health, c.state.rise, c.state.fall);
        self.st_check(si, st_status, st_code, st_ms, st_failed);
        self.timers.arm(next, TimerKey::Check(si));
        let be = self.rt.servers[si].backend;
        // Sessions waiting for this server move before the message is written, so that it tells what happened to
        // them (HAProxy: `pendconn_redistribute` when leaving, `pendconn_grab_from_px` when coming back).
        let moved = match transition {
            Some(Transition::Down) => self.redistribute(si),
            None if up && nolb && !was_nolb => self.redistribute(si),
            Some(Transition::Up) => self.serve_queues(si),
            None if up && !nolb && was_nolb => self.serve_queues(si),
            None => 0,
        };
        let (act, bck) = self.rt.usable_counts(be);
        let b = &self.rt.backends[be];
        let s = &self.rt.servers[si];
        let qlen = s.queue.len();
        let on_backup = if act == 0 && bck > 0 { " Running on backup." } else { "" };
        let who = format!("{}Server {}/{}", if s.backup { "Backup " } else { "" }, b.name, s.name);
        if b.log_health_checks && worth_logging {
            let (h, of, word) = if up { (health + 1 - rise, fall, "UP") } else { (health, rise, "DOWN") };
            b.logger.log(
                Level::Notice,
                &format!(
                    "Health check for {}server {}/{} {verdict}, reason: {detail}, status: {h}/{of} {word}.",
                    if s.backup { "backup " } else { "" },
                    b.name,
                    s.name
                ),
            );
        }
        let online = format!(
            "{act} active and {bck} backup servers online.{on_backup} {moved} sessions requeued, {qlen} total in queue."
        );
        match transition {
            Some(Transition::Down) => {
                // A server in NOLB that fails is reported as a notice, not an alert (HAProxy's disable-on-404 doc).
                let level = if was_nolb { Level::Notice } else { Level::Alert };
                b.logger.log(
                    level,
                    &format!(
                        "{who} is DOWN, reason: {detail}. {act} active and {bck} backup servers left.{on_backup} {} sessions active, {moved} requeued, {qlen} remaining in queue.",
                        s.cur
                    ),
                );
                log::warn!("{who} is DOWN, reason: {detail}.");
                if act + bck == 0 {
                    b.logger.log(Level::Emerg, &format!("backend {} has no server available!", b.name));
                    log::error!("backend {} has no server available!", b.name);
                }
                if self.rt.servers[si].shutdown_on_down {
                    self.shutdown_sessions(Cause::Down, |s| s == si);
                }
                // Sessions in the backend's queue must not wait for servers that are all gone.
                self.dequeue_soon(be);
            }
            Some(Transition::Up) => {
                if self.rt.servers[si].slowstart.is_some() {
                    self.rt.servers[si].warming_since = Some(now);
                }
                let word = if nolb { "stopping" } else { "UP" };
                b.logger.log(Level::Notice, &format!("{who} is {word}, reason: {detail}. {online}"));
                log::warn!("{who} is {word}, reason: {detail}.");
                let s = &self.rt.servers[si];
                if s.shutdown_backup_on_up && !s.backup && !nolb {
                    let backups: Vec<usize> =
                        self.rt.backends[be].servers.iter().copied().filter(|&x| self.rt.servers[x].backup).collect();
                    self.shutdown_sessions(Cause::Up, |s| backups.contains(&s));
                }
                self.dequeue_soon(be);
            }
            None if up && nolb && !was_nolb => {
                b.logger.log(Level::Notice, &format!("{who} is stopping, reason: {detail}. {online}"));
                log::warn!("{who} is stopping, reason: {detail}.");
                if act + bck == 0 {
                    b.logger.log(Level::Emerg, &format!("backend {} has no server available!", b.name));
                }
                self.dequeue_soon(be);
            }
            None if up && !nolb && was_nolb => {
                b.logger.log(Level::Notice, &format!("{who} is UP, reason: {detail}. {online}"));
                log::warn!("{who} is UP, reason: {detail}.");
                self.dequeue_soon(be);
            }
            None => {}
        }
        match transition {
            Some(Transition::Down) => self.propagate_track(si, true),
            Some(Transition::Up) => self.propagate_track(si, false),
            None => {}
        }
    }

    /// `track`: servers following `si` (and those following them) go DOWN or UP with it, logged as HAProxy does
    /// (`Server B/S is DOWN via B2/S2. …`).
    fn propagate_track(&mut self, si: usize, down: bool) {
        let via = {
            let s = &self.rt.servers[si];
            format!("{}/{}", self.rt.backends[s.backend].name, s.name)
        };
        let mut todo = self.rt.servers[si].trackers.clone();
        // Bounded: a chain can't be longer than the server list (cycles are refused by the config check).
        let mut budget = self.rt.servers.len();
        while let Some(t) = todo.pop() {
            if budget == 0 {
                break;
            }
            budget -= 1;
            if self.rt.servers[t].track_down == down {
                continue;
            }
            self.rt.servers[t].track_down = down;
            self.st_server_state(t);
            let moved = if down { self.redistribute(t) } else { self.serve_queues(t) };
            let be = self.rt.servers[t].backend;
            let (act, bck) = self.rt.usable_counts(be);
            let b = &self.rt.backends[be];
            let s = &self.rt.servers[t];
            let who = format!("{}Server {}/{}", if s.backup { "Backup " } else { "" }, b.name, s.name);
            let qlen = s.queue.len();
            if down {
                b.logger.log(
                    Level::Alert,
                    &format!(
                        "{who} is DOWN via {via}. {act} active and {bck} backup servers left. {} sessions active, {moved} requeued, {qlen} remaining in queue.",
                        s.cur
                    ),
                );
                if act + bck == 0 {
                    b.logger.log(Level::Emerg, &format!("backend {} has no server available!", b.name));
                }
                if s.shutdown_on_down {
                    self.shutdown_sessions(Cause::Down, |x| x == t);
                }
            } else {
                b.logger.log(
                    Level::Notice,
                    &format!(
                        "{who} is UP via {via}. {act} active and {bck} backup servers online. {moved} sessions requeued, {qlen} total in queue."
                    ),
                );
            }
            self.dequeue_soon(be);
            todo.extend(self.rt.servers[t].trackers.iter().copied());
        }
    }
}

impl Worker {
    /// `on-marked-down shutdown-sessions` / `on-marked-up shutdown-backup-sessions`: end at once every session
    /// connected (or connecting) to a server `kill` selects, logged with `cause` as the first termination letter
    /// (`D` for a server marked down, `U` for a backup server when an active one came up, as HAProxy); a
    /// keep-alive client's idle connection to such a server is closed, the client stays.
    fn shutdown_sessions(&mut self, cause: Cause, kill: impl Fn(usize) -> bool) {
        let now = self.now;
        for idx in 0..self.sessions.len() {
            let Some(sess) = self.sessions[idx].as_mut() else { continue };
            if sess.kept_srv.is_some_and(&kill) && sess.srv.is_none() {
                sess.kept_srv = None;
                let mut sess = match self.sessions[idx].take() {
                    Some(s) => s,
                    None => continue,
                };
                self.drop_server(&mut sess);
                if let Some(h) = sess.http.as_mut() {
                    h.reused = false;
                }
                self.store(idx, sess, now);
                continue;
            }
            if !sess.srv.is_some_and(&kill) || !matches!(sess.phase, Phase::Established | Phase::Connecting) {
                continue;
            }
            let Some(sess) = self.sessions[idx].take() else { continue };
            let stage = match sess.phase {
                Phase::Connecting => Stage::Connect,
                _ if sess.http.as_ref().is_some_and(|h| h.awaiting_response()) => Stage::Headers,
                _ => Stage::Data,
            };
            self.finish(idx, sess, Term::new(cause, stage), now);
        }
    }
}

/// `Layer7 wrong status, code: 500, info: "Internal Server Error", check duration: 1ms` (HAProxy's order).
fn describe(o: &Outcome) -> String {
    let mut s = o.reason.to_string();
    if let Some(code) = o.code {
        s.push_str(&format!(", code: {code}"));
    }
    if let Some(info) = &o.info {
        s.push_str(&format!(", info: \"{info}\""));
    }
    s.push_str(&format!(", check duration: {}ms", o.duration.as_millis()));
    s
}
