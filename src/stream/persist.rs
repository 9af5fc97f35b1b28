//! Persistence: the server a session must go to, before any balancing — a cookie or `use-server` naming one,
//! `stick on src` remembering where a client went, `option prefer-last-server` — and the key a hashing
//! balancer uses. A server of another backend is never named; a DOWN one only under `option persist`.

use std::net::IpAddr;

use crate::acl::Val;
use crate::config::model::Balance;
use crate::stream::runtime::Runtime;

impl Runtime {
    /// The server persistence names for a session of backend `be`, if it may take it: `named` (a persistence
    /// cookie, `use-server`); else, on a first attempt, the server `stick on src` recorded for `client`; else,
    /// under `option prefer-last-server`, `last` (the server of the client's kept connection).
    pub fn persistent_server(
        &self,
        be: usize,
        named: Option<usize>,
        first_attempt: bool,
        client: IpAddr,
        last: Option<usize>,
    ) -> Option<usize> {
        let b = &self.backends[be];
        let mut forced = named;
        if forced.is_none() && first_attempt {
            if let Some(t) = b.stick {
                // `server_id` holds the worker-global server index + 1.
                let id = self.tables.server_of(t, &Val::Ip(client));
                forced = id.and_then(|v| usize::try_from(v - 1).ok()).filter(|&si| si < self.servers.len());
            }
        }
        if forced.is_none() && b.prefer_last_server {
            forced = last;
        }
        forced.filter(|&si| {
            let s = &self.servers[si];
            s.backend == be && (s.usable() || b.persist)
        })
    }

    /// `stick on src`: remember that `client` went to server `si` of backend `be`.
    pub fn stick_to(&self, be: usize, client: IpAddr, si: usize) {
        if let Some(t) = self.backends[be].stick {
            self.tables.set_server(t, &Val::Ip(client), si as i64 + 1);
        }
    }

    /// The hashing key of a session for backend `be`: the source address for `balance source`, else the
    /// request's (uri, url_param, hdr) when the request gave one; `None` makes a hashing balancer round-robin,
    /// as HAProxy does when the key is missing.
    pub fn balance_key(&self, be: usize, client: IpAddr, request_key: Option<u32>) -> Option<u32> {
        match self.backends[be].balancer.algo() {
            Balance::Source => Some(crate::balance::source_hash(client)),
            _ => request_key,
        }
    }
}
