//! The worker's side of statistics: counters in its slot of the shared segment, admin actions decided
//! elsewhere (stats socket, stats page of any worker) applied to its servers, and the stats page itself.

use crate::acl::HttpView;
use crate::config::model::StatsConf;
use crate::http::errors;
use std::net::SocketAddr;

use crate::stats::counters::{AdminState, CheckStatus, Counters, OpState};
use crate::stats::errors::{CaptureInput, Direction};
use crate::stats::html::{self, PageOptions};
use crate::stats::snapshot::Snapshot;
use crate::stats::{csv, ProcessInfo};

use super::Worker;

/// Whom a refused message concerns, for `show errors` (worker indexes, as a session holds them).
#[derive(Debug, Clone, Copy)]
pub(super) struct Culprit {
    /// The frontend the client came in by.
    pub fe: usize,
    /// The backend, once chosen.
    pub be: Option<usize>,
    /// The server (worker-global index), once chosen.
    pub srv: Option<usize>,
    /// The client's address.
    pub src: SocketAddr,
}

impl Worker {
    /// Capture a refused message for `show errors`: an invalid request in its frontend's area, an invalid
    /// response in its backend's. `buf` holds the message from its first byte; `err_pos` is where it goes wrong.
    pub(super) fn st_capture(&self, dir: Direction, who: Culprit, buf: &[u8], err_pos: usize, reason: &str) {
        // A refused message is also an error in the counters: `ereq` of the frontend, `eresp` of the backend and
        // server.
        match dir {
            Direction::Request => {
                if let Some(c) = self.st_fe(who.fe) {
                    c.inc(&c.failed_req);
                }
            }
            Direction::Response => {
                let be = who.be.and_then(|b| self.st_be(b));
                let srv = who.srv.and_then(|si| self.st_srv(si));
                for c in [be, srv].into_iter().flatten() {
                    c.inc(&c.failed_resp);
                }
            }
        }
        let Some(w) = self.stats.as_ref() else { return };
        let Some(f) = self.rt.frontends.get(who.fe) else { return };
        let be_proxy = |b: usize| self.rt.backends.get(b).map(|b| b.proxy);
        let server = who.srv.and_then(|si| {
            let s = self.rt.servers.get(si)?;
            w.segment().layout().server_index(be_proxy(s.backend)?, s.index)
        });
        let (proxy, other) = match dir {
            // Before a backend is chosen, a listen's own backend side is the other end (as in HAProxy).
            Direction::Request => (f.proxy, who.be.or(f.own_backend).and_then(be_proxy)),
            Direction::Response => match who.be.and_then(be_proxy) {
                Some(p) => (p, Some(f.proxy)),
                None => return,
            },
        };
        let input = CaptureInput {
            other,
            server,
            src: Some(who.src),
            buf,
            err_pos,
            buf_size: self.cfg.global.bufsize,
            reason,
            when_ms: self.now_ms,
        };
        w.capture_error(dir, proxy, &input);
    }

    /// Counters of frontend `fe` in this worker's slot.
    pub(super) fn st_fe(&self, fe: usize) -> Option<&Counters> {
        self.stats.as_ref()?.frontend(self.rt.frontends.get(fe)?.proxy)
    }

    /// Counters of backend `be`.
    pub(super) fn st_be(&self, be: usize) -> Option<&Counters> {
        self.stats.as_ref()?.backend(self.rt.backends.get(be)?.proxy)
    }

    /// Counters of server `si` (worker-global index).
    pub(super) fn st_srv(&self, si: usize) -> Option<&Counters> {
        let s = self.rt.servers.get(si)?;
        self.stats.as_ref()?.server(self.rt.backends[s.backend].proxy, s.index)
    }

    /// Record a server's state as this worker sees it (after a check or an admin change).
    pub(super) fn st_server_state(&self, si: usize) {
        let Some(c) = self.st_srv(si) else { return };
        let s = &self.rt.servers[si];
        let (op, health) = match &s.check {
            Some(ck) if ck.state.up && ck.state.nolb => (OpState::Nolb, ck.state.health),
            Some(ck) if ck.state.up => (OpState::Up, ck.state.health),
            Some(ck) => (OpState::Down, ck.state.health),
            None if s.track_down => (OpState::Down, 0),
            None if s.tracks.is_some() => (OpState::Up, 0),
            None => (OpState::NoCheck, 0),
        };
        c.set_state(op, health, self.now_ms);
    }

    /// A check finished: its status for the CSV's `check_status`/`check_code`/`check_duration`.
    pub(super) fn st_check(&self, si: usize, status: &str, code: Option<u16>, duration_ms: u64, failed: bool) {
        if let Some(c) = self.st_srv(si) {
            c.check_done(check_status(status), code.unwrap_or(0), duration_ms, failed);
        }
        self.st_server_state(si);
    }

    /// Apply admin states and weights written into the segment by the socket or a stats page (any worker).
    pub(super) fn poll_admin(&mut self) {
        let Some(w) = self.stats.as_ref() else { return };
        let generation = w.admin_generation();
        if generation == self.admin_seen {
            return;
        }
        self.admin_seen = generation;
        let mut changed = Vec::new();
        for si in 0..self.rt.servers.len() {
            let s = &self.rt.servers[si];
            if s.index == usize::MAX {
                continue;
            }
            let Some((state, weight)) = w.server_admin(self.rt.backends[s.backend].proxy, s.index) else { continue };
            let s = &mut self.rt.servers[si];
            let maint = state == AdminState::Maint;
            let drain = state == AdminState::Drain;
            if s.maint != maint || s.drain != drain || s.weight != weight {
                let to_maint = maint && !s.maint;
                s.maint = maint;
                s.drain = drain;
                s.weight = weight;
                changed.push((si, s.backend, to_maint));
            }
        }
        for (si, be, to_maint) in changed {
            self.st_server_state(si);
            // Maintenance is DOWN for the sessions waiting for this server (drain keeps serving them).
            if to_maint {
                self.redistribute(si);
            }
            // Sessions queued for this backend may now have (or have lost) a server.
            self.dequeue_soon(be);
        }
    }

    /// Publish the splice pipes in use and kept, when they changed (once per turn of the loop).
    pub(super) fn st_pipes(&mut self) {
        let now = (self.pipes.used(), self.pipes.free());
        if now != self.pipes_shown {
            self.pipes_shown = now;
            if let Some(w) = self.stats.as_ref() {
                w.set_pipes(now.0 as u64, now.1 as u64);
            }
        }
    }

    /// Publish every server's initial state so the page is right before the first check.
    pub(super) fn st_init(&mut self) {
        for si in 0..self.rt.servers.len() {
            self.st_server_state(si);
        }
        self.admin_seen = u64::MAX;
        self.poll_admin();
    }

    /// Serve the stats page for a request under `stats uri` (HTML, `;csv`), with `stats auth`. Returns the
    /// response bytes and status.
    pub(super) fn stats_page(
        &self,
        conf: &StatsConf,
        view: &HttpView<'_>,
        admin: bool,
        post: Option<&[u8]>,
    ) -> (Vec<u8>, u16) {
        if !conf.auth.is_empty() && !authorized(conf, view) {
            return (errors::auth_page(&conf.realm, false), 401);
        }
        let Some(w) = self.stats.as_ref() else {
            return (errors::default_page(503).to_vec(), 503);
        };
        let seg = w.segment();
        let uri = String::from_utf8_lossy(view.start_line().uri).into_owned();
        let rest = uri.strip_prefix(conf.uri.as_str()).unwrap_or("");
        let flags = html::parse_uri_flags(rest);
        let snap = Snapshot::read(seg, &self.cfg, &seg.live_slots());
        if view.start_line().method == b"POST" {
            // Admin form (`stats admin if …`): apply to the segment, then 303 to `URI;st=CODE` as 2.x does.
            let result = match (admin, post) {
                (false, _) => html::AdminResult::Deny,
                (true, None) => html::AdminResult::Excd,
                (true, Some(body)) => match html::parse_admin_post(body, self.cfg.global.bufsize) {
                    Ok(action) => action.apply(seg, &snap),
                    Err(r) => r,
                },
            };
            let base = uri.split(';').next().unwrap_or(&uri);
            let location = format!("{base};st={}", result.code());
            return (errors::redirect(303, &location, &[]), 303);
        }
        let info = ProcessInfo::from_config(&self.cfg, std::process::id(), self.started_unix);
        if flags.csv {
            let body = csv::render(&snap, &csv::StatFilter { typed: flags.typed, ..Default::default() });
            return (
                errors::simple_response(
                    200,
                    "OK",
                    Some("text/plain"),
                    body.as_bytes(),
                    &[("cache-control", "no-cache")],
                ),
                200,
            );
        }
        let node = conf.show_node.clone().or_else(|| self.cfg.global.node.clone()).unwrap_or_default();
        let desc = conf.show_desc.clone().or_else(|| self.cfg.global.description.clone()).unwrap_or_default();
        let opts = PageOptions::from_conf(conf, flags, admin, &node, &desc);
        let body = html::render_page(&snap, &info, &opts);
        let refresh = opts.refresh_header().map(|n| n.to_string());
        let mut headers: Vec<(&str, &str)> = vec![("cache-control", "no-cache")];
        if let Some(r) = refresh.as_deref() {
            headers.push(("refresh", r));
        }
        (errors::simple_response(200, "OK", Some("text/html"), body.as_bytes(), &headers), 200)
    }
}

impl Worker {
    /// A built-in service (`http-request use-service NAME`): `prometheus-exporter` renders the whole daemon's
    /// counters in Prometheus' text format.
    pub(super) fn service(&self, service: crate::rules::Service) -> (Vec<u8>, u16) {
        let crate::rules::Service::PrometheusExporter = service;
        let Some(w) = self.stats.as_ref() else { return (errors::default_page(503).to_vec(), 503) };
        let seg = w.segment();
        let snap = Snapshot::read(seg, &self.cfg, &seg.live_slots());
        let info = ProcessInfo::from_config(&self.cfg, std::process::id(), self.started_unix);
        let body = crate::stats::prometheus::render(&snap, &info);
        (errors::simple_response(200, "OK", Some(crate::stats::prometheus::CONTENT_TYPE), body.as_bytes(), &[]), 200)
    }
}

/// `Authorization: Basic …` matches one of `stats auth user:password`.
fn authorized(conf: &StatsConf, view: &HttpView<'_>) -> bool {
    let Some(decoded) = view.basic_credentials().map(String::into_bytes) else { return false };
    conf.auth.iter().any(|(u, p)| {
        let mut want = Vec::with_capacity(u.len() + p.len() + 1);
        want.extend_from_slice(u.as_bytes());
        want.push(b':');
        want.extend_from_slice(p.as_bytes());
        want == decoded
    })
}

fn check_status(s: &str) -> CheckStatus {
    match s {
        "L4OK" => CheckStatus::L4Ok,
        "L4TOUT" => CheckStatus::L4Tout,
        "L4CON" => CheckStatus::L4Con,
        "L6OK" => CheckStatus::L6Ok,
        "L6TOUT" => CheckStatus::L6Tout,
        "L6RSP" => CheckStatus::L6Rsp,
        "L7TOUT" => CheckStatus::L7Tout,
        "L7RSP" => CheckStatus::L7Rsp,
        "L7OK" => CheckStatus::L7Ok,
        "L7OKC" => CheckStatus::L7Okc,
        "L7STS" => CheckStatus::L7Sts,
        "SOCKERR" => CheckStatus::SockErr,
        _ => CheckStatus::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use crate::auth::base64_decode;

    #[test]
    fn base64() {
        assert_eq!(base64_decode(b"cHJveHk6b2xkYm95").as_deref(), Some(&b"proxy:oldboy"[..]));
        assert_eq!(base64_decode(b"YQ==").as_deref(), Some(&b"a"[..]));
        assert_eq!(base64_decode(b"!!"), None);
    }
}

/// HAProxy's short durations: `0s`, `42s`, `3m5s`, `2h10m`, `1d4h`.
fn human_age(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m{s}s"),
        (0, _, _) => format!("{h}h{m}m"),
        _ => format!("{d}d{h}h"),
    }
}

impl Worker {
    /// `show sess`: one line per session of this worker, written back to the master on the control channel and
    /// ended by a NUL byte. The write is bounded by a second (the master reads as we write); past that the
    /// answer is cut and the master drops it.
    pub(super) fn send_sessions(&mut self) {
        use std::fmt::Write as _;
        use std::io::Write as _;
        let pid = u64::from(self.pid);
        let now = std::time::Instant::now();
        let mut out = String::new();
        for s in self.sessions.iter().flatten() {
            let proto = if s.client_addr.is_ipv4() { "tcpv4" } else { "tcpv6" };
            let fe = &self.rt.frontends[s.fe].name;
            let be = s.be.map_or("<NONE>", |b| self.rt.backends[b].name.as_str());
            let srv = s.srv.or(s.kept_srv).map_or("<none>", |si| self.rt.servers[si].name.as_str());
            let age = human_age(now.saturating_duration_since(s.accept_at).as_secs());
            let id = (pid << 32) | (s.uid & 0xffff_ffff);
            let src = crate::acl::fetch::ip_text(s.client_addr.ip());
            let _ = writeln!(
                out,
                "0x{id:x}: proto={proto} src={src}:{} fe={fe} be={be} srv={srv} ts=00 age={age} calls=0 \
                 rq[i={}] rp[i={}] phase={:?} pid={pid}",
                s.client_addr.port(),
                s.stream.c2s.pending().len(),
                s.stream.s2c.pending().len(),
                s.phase,
            );
        }
        out.push('\0');
        let deadline = now + std::time::Duration::from_secs(1);
        let mut data = out.as_bytes();
        while !data.is_empty() && std::time::Instant::now() < deadline {
            match self.control.write(data) {
                Ok(0) => return,
                Ok(n) => data = &data[n..],
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    let fd = std::os::fd::AsFd::as_fd(&self.control);
                    let mut fds = [nix::poll::PollFd::new(fd, nix::poll::PollFlags::POLLOUT)];
                    let _ = nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(100u16));
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }
}

#[cfg(test)]
mod age_tests {
    #[test]
    fn human_ages() {
        assert_eq!(super::human_age(0), "0s");
        assert_eq!(super::human_age(59), "59s");
        assert_eq!(super::human_age(185), "3m5s");
        assert_eq!(super::human_age(7800), "2h10m");
        assert_eq!(super::human_age(100_800), "1d4h");
    }
}
