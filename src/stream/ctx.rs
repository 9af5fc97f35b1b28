//! What the ACL engine sees of a session: its addresses, its request (and response) when there is one, the
//! proxy whose rules run, and its sticky counters — the [`crate::acl::Context`] every rule, `use_backend`,
//! `use-server` and `track-scN` is evaluated against.

use std::net::SocketAddr;

use crate::acl::fetch::Counter;
use crate::acl::{self, Sample};
use crate::stick::{Event, TableAction, TrackLevel, Tracks};
use crate::stream::runtime::Runtime;

/// Layer-4 view of a session for ACLs.
pub struct L4<'a> {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub rt: &'a Runtime,
    /// The request, for HTTP fetches (`None` in TCP mode).
    pub http: Option<acl::HttpView<'a>>,
    /// Config index of the proxy whose rules run (its stick table is the default one).
    pub px: usize,
    /// The session's sticky counters (`None`: no tracking here).
    pub tracks: Option<&'a Tracks>,
    /// What a `track-scN` run through this context sets.
    pub level: TrackLevel,
}

impl acl::Context for L4<'_> {
    fn src(&self) -> SocketAddr {
        self.src
    }
    fn http(&self) -> Option<acl::HttpView<'_>> {
        self.http
    }
    fn dst(&self) -> SocketAddr {
        self.dst
    }
    fn table_fetch(&self, f: &crate::stick::TableFetch) -> Option<Sample> {
        use crate::stick::{Scope, What};
        let tables = &self.rt.tables;
        let explicit = match (&f.table, f.table_proxy) {
            (None, _) => None,
            (Some(_), Some(pi)) => Some(tables.of_proxy(pi)?),
            (Some(_), None) => return None,
        };
        match f.scope {
            Scope::Sc(n) => match self.tracks.and_then(|t| t.get(n as usize)) {
                Some(r) => tables.fetch_tracked(r, explicit, f.what),
                None if f.what == What::Tracked => Some(Sample::Bool(false)),
                None => None,
            },
            Scope::Src => {
                let t = explicit.or_else(|| tables.of_proxy(self.px))?;
                tables.fetch_key(t, &acl::Val::Ip(self.src.ip()), f.what)
            }
            Scope::Table => {
                let (cnt, avl) = tables.fill(explicit.or_else(|| tables.of_proxy(self.px))?)?;
                Some(Sample::Int(if f.what == What::Cnt { cnt } else { avl } as i64))
            }
        }
    }
    fn table_action(&self, a: TableAction<'_>) {
        let Some(tracks) = self.tracks else { return };
        let tables = &self.rt.tables;
        match a {
            TableAction::Track { sc, table, key } => {
                let cell = if self.level == TrackLevel::Conn { &tracks.conn } else { &tracks.req };
                let mut set = cell.get();
                let Some(slot) = set.get_mut(sc as usize) else { return };
                if tracks.get(sc as usize).is_some() {
                    return; // the first tracking of a counter wins (a connection-level one for every request)
                }
                let Some(t) = tables.of_proxy_or(table, self.px) else { return };
                if let Some(r) = tables.track(t, &key) {
                    *slot = Some(r);
                    cell.set(set);
                    if self.level == TrackLevel::Http {
                        // Tracked from `http-request`: this request counts at once (as HAProxy).
                        tables.count(r, Event::HttpReq);
                    }
                }
            }
            TableAction::IncGpc0(sc) => {
                if let Some(r) = tracks.get(sc as usize) {
                    tables.count(r, Event::Gpc0);
                }
            }
            TableAction::SetGpt0(sc, v) => {
                if let Some(r) = tracks.get(sc as usize) {
                    tables.set_gpt0(r, v);
                }
            }
        }
    }
    fn counter(&self, c: &Counter) -> Option<Sample> {
        // A backend named by config proxy index; none named: the proxy whose rules run.
        let backend = |named: &Option<usize>| self.rt.be_of_proxy.get(named.unwrap_or(self.px)).copied().flatten();
        match c {
            // Basic credentials checked against a userlist's users (`insecure-password` as text, `password` as
            // a crypt(3) hash); `http_auth_group` gives the user's groups.
            Counter::HttpAuth { userlist, groups } => {
                let view = self.http?;
                let list = self.rt.userlists.get(*userlist)?;
                let creds = view.basic_credentials()?;
                let (user, pass) = creds.split_once(':')?;
                let entry = list
                    .users
                    .iter()
                    .find(|u| u.name == user && crate::auth::password_matches(pass, &u.password, u.insecure));
                Some(match (groups, entry) {
                    (false, e) => Sample::Bool(e.is_some()),
                    (true, Some(e)) => {
                        // The user's groups: its own `groups` plus the groups listing it.
                        let mut groups = e.groups.clone();
                        groups.extend(
                            list.groups.iter().filter(|(_, m)| m.iter().any(|x| x == user)).map(|(g, _)| g.clone()),
                        );
                        Sample::Str(groups.join(","))
                    }
                    (true, None) => return None,
                })
            }
            Counter::NbSrv(b) => {
                let (a, b) = self.rt.usable_counts(backend(b)?);
                Some(Sample::Int((a + b) as i64))
            }
            Counter::BeConn(b) => Some(Sample::Int(self.rt.backends[backend(b)?].cur as i64)),
            Counter::ConnSlots(b) => {
                let be = backend(b)?;
                let mut n = 0i64;
                for &si in &self.rt.backends[be].servers {
                    let s = &self.rt.servers[si];
                    if !s.usable() {
                        continue;
                    }
                    if s.maxconn == 0 {
                        return None; // unlimited: HAProxy answers no sample
                    }
                    n += s.maxconn.saturating_sub(s.cur) as i64;
                }
                Some(Sample::Int(n))
            }
        }
    }
}
