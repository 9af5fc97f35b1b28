//! Limits and privilege drop: RLIMIT_NOFILE from maxconn, and in each worker `chroot` → `chdir /` →
//! `setgroups` → `setgid` → `setuid`, then a check that root cannot be regained (SPEC §2).

use std::path::PathBuf;

use nix::unistd::{Gid, Group, Uid, User};

use crate::config::model::{Global, UserSpec};

/// Who a worker becomes, resolved by the master before forking (name lookups do not work in a chroot).
#[derive(Debug, Clone, Default)]
pub struct Identity {
    pub uid: Option<Uid>,
    pub gid: Option<Gid>,
    pub chroot: Option<PathBuf>,
}

/// Resolve `user`/`uid`, `group`/`gid` and `chroot` from the global section.
pub fn resolve(g: &Global) -> Result<Identity, String> {
    let uid = match &g.user {
        None => None,
        Some(UserSpec::Id(n)) => Some(Uid::from_raw(*n)),
        Some(UserSpec::Name(name)) => match User::from_name(name) {
            Ok(Some(u)) => Some(u.uid),
            _ => return Err(format!("[{}] : cannot find user id for '{name}'", g.pos)),
        },
    };
    let gid = match &g.group {
        None => None,
        Some(UserSpec::Id(n)) => Some(Gid::from_raw(*n)),
        Some(UserSpec::Name(name)) => match Group::from_name(name) {
            Ok(Some(gr)) => Some(gr.gid),
            _ => return Err(format!("[{}] : cannot find group id for '{name}'", g.pos)),
        },
    };
    Ok(Identity { uid, gid, chroot: g.chroot.clone() })
}

/// Drop privileges in a freshly forked worker. Any failure is fatal for the worker.
pub fn drop_privileges(id: &Identity) -> Result<(), String> {
    if let Some(dir) = &id.chroot {
        nix::unistd::chroot(dir).map_err(|e| format!("Cannot chroot({}): {e}", dir.display()))?;
        nix::unistd::chdir("/").map_err(|e| format!("Cannot chdir(/) after chroot: {e}"))?;
    }
    if let Some(gid) = id.gid {
        if Uid::effective().is_root() {
            nix::unistd::setgroups(&[gid]).map_err(|e| format!("Cannot set supplementary groups: {e}"))?;
        }
        nix::unistd::setgid(gid).map_err(|e| format!("Cannot set gid {gid}: {e}"))?;
    }
    if let Some(uid) = id.uid {
        nix::unistd::setuid(uid).map_err(|e| format!("Cannot set uid {uid}: {e}"))?;
        if !uid.is_root() && nix::unistd::setuid(Uid::from_raw(0)).is_ok() {
            return Err("privileges could be regained after setuid: refusing to run".into());
        }
    }
    Ok(())
}

/// Raise RLIMIT_NOFILE to `want` (or as close as the hard limit allows when not root). Returns the new soft
/// limit.
pub fn raise_nofile(want: u64) -> u64 {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else { return 1024 };
    if soft >= want {
        return soft;
    }
    if setrlimit(Resource::RLIMIT_NOFILE, want, want.max(hard)).is_ok() {
        return want;
    }
    let capped = want.min(hard);
    if setrlimit(Resource::RLIMIT_NOFILE, capped, hard).is_ok() {
        if capped < want {
            log::warn!("[WARNING] Cannot raise FD limit to {want}, limit is {capped}.");
        }
        return capped;
    }
    soft
}
