//! Routing steps: `tcp-request` rules (accept, reject, track), the backend a request or connection goes to
//! (`use_backend`, `default_backend`), and `use-server`. Evaluated against the session's [`L4`] view; no I/O.

use std::net::SocketAddr;

use crate::acl;
use crate::plan::{TcpAction, TcpRule};
use crate::stick::{TableAction, TrackLevel, Tracks};
use crate::stream::ctx::L4;
use crate::stream::runtime::Runtime;

impl Runtime {
    /// Run `tcp-request` rules in order: `Some(())` when a `reject` applies, `None` when an `accept` applies first
    /// or no rule does. `track-scN` rules set `tracks` at `level`.
    #[allow(clippy::too_many_arguments)]
    pub fn tcp_rejects(
        &self,
        rules: &[TcpRule],
        fe: usize,
        src: SocketAddr,
        dst: SocketAddr,
        http: Option<acl::HttpView<'_>>,
        tracks: &Tracks,
        level: TrackLevel,
    ) -> Option<()> {
        let f = &self.frontends[fe];
        let acls = f.rules.acls();
        let ctx = L4 { src, dst, rt: self, http, px: f.proxy, tracks: Some(tracks), level };
        for r in rules {
            if !r.cond.as_ref().is_none_or(|c| acls.eval(c, &ctx)) {
                continue;
            }
            match &r.action {
                TcpAction::Accept => return None,
                TcpAction::Reject => return Some(()),
                TcpAction::Track { sc, key, table } => {
                    acl::fetch::each(key, &ctx, false, &mut |v| {
                        acl::Context::table_action(&ctx, TableAction::Track { sc: *sc, table: *table, key: v });
                        true
                    });
                }
                TcpAction::IncGpc0(sc) => acl::Context::table_action(&ctx, TableAction::IncGpc0(*sc)),
                TcpAction::Pass => {}
            }
        }
        None
    }

    /// The first `use_backend` whose condition holds, else `default_backend` (or the listen's own servers).
    pub fn choose_backend(
        &self,
        fe: usize,
        src: SocketAddr,
        dst: SocketAddr,
        http: Option<acl::HttpView<'_>>,
        tracks: &Tracks,
    ) -> Option<usize> {
        let f = &self.frontends[fe];
        let ctx = L4 { src, dst, rt: self, http, px: f.proxy, tracks: Some(tracks), level: TrackLevel::Http };
        for (cond, be) in &f.use_backends {
            if cond.as_ref().is_none_or(|c| f.rules.acls().eval(c, &ctx)) {
                return Some(*be);
            }
        }
        f.default_backend
    }

    /// `use-server`: the first rule of backend `be` whose condition holds names the server, if it can take
    /// traffic (a DOWN one only with `option persist`); it wins over persistence, as in HAProxy.
    pub fn use_server(&self, be: usize, ctx: &L4<'_>) -> Option<usize> {
        let b = &self.backends[be];
        let (si, _) = b.use_servers.iter().find(|(_, c)| c.as_ref().is_none_or(|c| b.rules.acls().eval(c, ctx)))?;
        let s = &self.servers[*si];
        (s.usable() || b.persist).then_some(*si)
    }
}
