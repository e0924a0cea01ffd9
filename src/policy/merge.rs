//! The one merge: a policy widened by a permission profile's grants. Serves
//! `cordon run --permissions` and `rerun` with `additional` alike.

use super::{PathSpec, PermissionProfile, Policy};
use crate::error::{Error, Result};

/// Returns `base` plus exactly `extra`'s grants: read and write lists are
/// unioned, the network is on if either side turns it on, and the macOS
/// extensions are unioned. Protections are never removed by a grant.
pub fn merge_permissions(base: &Policy, extra: &PermissionProfile) -> Result<Policy> {
    let mut out = base.clone();
    if let Some(read) = &extra.read {
        // An unrestricted base already reads everything; adding paths to it
        // would turn "everything" into a list.
        for g in read {
            out.add_read_or_lift(g.spec.clone(), &g.origin);
        }
    }
    for g in &extra.write {
        out.add_write(g.spec.clone(), &g.origin);
    }
    if let Some(protected) = &extra.protected {
        for name in protected {
            if !out.protected.contains(name) {
                out.protected.push(name.clone());
            }
        }
    }
    for d in &extra.devices {
        out.add_device(d);
    }
    // More denied is never a widening; a grant lifts a deny entry only by
    // naming it or a path inside it (the plan decides, `deny.rs`).
    for e in extra.deny.iter().flatten() {
        out.add_deny(e.clone());
    }
    out.network.enabled |= extra.network.unwrap_or(false);
    out.network.unix_sockets |= extra.unix_sockets.unwrap_or(false);
    for &p in &extra.connect_tcp {
        out.network.add_connect(p);
    }
    for &p in &extra.bind_tcp {
        out.network.add_bind(p);
    }
    for d in &extra.domains {
        out.network.add_domain(d.clone());
    }
    if let Some(m) = &extra.macos {
        out.macos = out.macos.union(m);
    }
    if let Some(e) = &extra.env {
        out.env.widen(e).map_err(Error::new)?;
    }
    if out.writes(&PathSpec::Root) && !base.writes(&PathSpec::Root) {
        out.description = format!("{} (widened to write everywhere)", out.description);
    }
    Ok(out)
}
