//! Who the command runs as. The caller is judged from every id and every
//! capability set, not just the effective ones: a process with real uid 0
//! and effective uid 65534 (`setpriv --euid=65534`, a daemon that called
//! seteuid) can call `setresuid(0, 0, 0)` and have every capability back.
//!
//! [`Caller`] is what the kernel says now (read with four syscalls);
//! [`Identity`] is what the command will run as once [`settle`] has run:
//! - real and saved ids collapse to the effective ones, so there is no uid
//!   or gid left to switch back to;
//! - a command that does not run as uid 0 holds no capability at all;
//! - a command that runs as uid 0 keeps Docker's set (`caps.rs`);
//! - supplementary group 0 goes when the uid is not 0 and the caller can
//!   still drop it.
//!
//! `settle` clears the capability sets explicitly rather than trusting the
//! kernel's setuid fix-up, which the securebits (`SECBIT_NO_SETUID_FIXUP`,
//! `SECBIT_KEEP_CAPS`) can switch off. The ambient set is a subset of both
//! the permitted and the inheritable sets (a kernel invariant), so reading
//! those two covers it.

use std::fmt;

use serde::Serialize;

use super::caps::{CAP_SYS_ADMIN, Keep};

/// Real, effective and saved ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Ids {
    pub real: u32,
    pub effective: u32,
    pub saved: u32,
}

impl Ids {
    pub const fn same(id: u32) -> Ids {
        Ids {
            real: id,
            effective: id,
            saved: id,
        }
    }

    fn uniform(self) -> bool {
        self.real == self.effective && self.saved == self.effective
    }

    fn any_zero(self) -> bool {
        self.real == 0 || self.effective == 0 || self.saved == 0
    }
}

/// The caller as the kernel describes it before cordon changes anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub uid: Ids,
    pub gid: Ids,
    /// Group 0 among the supplementary groups.
    pub group_root: bool,
    pub effective_caps: u64,
    pub permitted_caps: u64,
    pub inheritable_caps: u64,
}

impl Caller {
    /// An ordinary caller: `id` everywhere, no capability.
    pub const fn plain(id: u32) -> Caller {
        Caller {
            uid: Ids::same(id),
            gid: Ids::same(id),
            group_root: false,
            effective_caps: 0,
            permitted_caps: 0,
            inheritable_caps: 0,
        }
    }

    /// Root as a login shell has it: uid 0 everywhere, every capability.
    pub const fn root() -> Caller {
        Caller {
            effective_caps: u64::MAX >> 23,
            permitted_caps: u64::MAX >> 23,
            group_root: true,
            ..Caller::plain(0)
        }
    }

    fn any_caps(&self) -> bool {
        (self.effective_caps | self.permitted_caps | self.inheritable_caps) != 0
    }

    /// What the command will run as after [`settle`] (pure).
    pub fn identity(&self) -> Identity {
        let uid = self.uid.effective;
        let root = uid == 0;
        Identity {
            uid,
            gid: self.gid.effective,
            privileged: self.uid.any_zero() || self.any_caps(),
            sys_admin: root && self.permitted_caps & (1 << CAP_SYS_ADMIN) != 0,
            keeps_caps: root,
            collapsed: !(self.uid.uniform() && self.gid.uniform()),
            caps_cleared: !root && self.any_caps(),
            group_root: self.group_root,
            caller: *self,
        }
    }
}

/// Who the command runs as, and why cordon treats it as it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    /// The uid and gid the command runs as (the caller's effective ones).
    pub uid: u32,
    pub gid: u32,
    /// Uid 0 among the real, effective or saved uids, or any capability in
    /// any set. Such a caller could change metadata of files it does not
    /// own, which Landlock does not check: it always gets the read-only world.
    pub privileged: bool,
    /// The command runs as uid 0 with CAP_SYS_ADMIN: a mount namespace
    /// alone suffices; otherwise cordon needs a user namespace to get one.
    pub sys_admin: bool,
    /// The command runs as uid 0 and keeps Docker's capability set; anyone
    /// else keeps none.
    pub keeps_caps: bool,
    /// Real or saved ids differ from the effective ones and are collapsed.
    pub collapsed: bool,
    /// A caller that will not run as uid 0 had capabilities; they are cleared.
    pub caps_cleared: bool,
    /// Group 0 is a supplementary group.
    pub group_root: bool,
    pub caller: Caller,
}

impl Identity {
    /// The capabilities the command keeps (`None`: none to keep or drop).
    pub fn keep(&self) -> Option<Keep> {
        (self.keeps_caps || self.caps_cleared).then(|| {
            if self.keeps_caps {
                Keep::docker()
            } else {
                Keep(0)
            }
        })
    }
}

/// `uid 65534 (real 0, saved 0: collapsed), capabilities cleared`, as
/// `--dry-run` and `explain` print it.
impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.caller;
        write!(f, "identity: uid {} gid {}", self.uid, self.gid)?;
        if self.collapsed {
            write!(
                f,
                " (was uid {}/{}/{}, gid {}/{}/{} real/effective/saved: all collapsed to the effective ids)",
                c.uid.real, c.uid.effective, c.uid.saved, c.gid.real, c.gid.effective, c.gid.saved
            )?;
        }
        if self.caps_cleared {
            write!(f, "; every capability cleared (not uid 0)")?;
        }
        if self.group_root && self.uid != 0 {
            write!(
                f,
                "; supplementary group 0 dropped where the caller may (CAP_SETGID)"
            )?;
        }
        if self.privileged {
            write!(f, "; privileged")?;
        }
        writeln!(f)
    }
}

impl Serialize for Identity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Identity", 6)?;
        st.serialize_field("uid", &self.caller.uid)?;
        st.serialize_field("gid", &self.caller.gid)?;
        st.serialize_field("runs_as", &(self.uid, self.gid))?;
        st.serialize_field("privileged", &self.privileged)?;
        st.serialize_field("keeps_capabilities", &self.keeps_caps)?;
        st.serialize_field("capabilities_cleared", &self.caps_cleared)?;
        st.end()
    }
}

/// The caller as this process is now.
#[cfg(target_os = "linux")]
pub fn caller() -> Caller {
    let (mut ru, mut eu, mut su) = (0, 0, 0);
    let (mut rg, mut eg, mut sg) = (0, 0, 0);
    // SAFETY: the getters write three ids each into valid locations.
    unsafe {
        libc::getresuid(&mut ru, &mut eu, &mut su);
        libc::getresgid(&mut rg, &mut eg, &mut sg);
    }
    // Unknown capability sets count as full: that only adds protection.
    let sets = super::caps::sets().unwrap_or(super::caps::Sets {
        effective: u64::MAX,
        permitted: u64::MAX,
        inheritable: u64::MAX,
    });
    Caller {
        uid: Ids {
            real: ru,
            effective: eu,
            saved: su,
        },
        gid: Ids {
            real: rg,
            effective: eg,
            saved: sg,
        },
        group_root: groups().contains(&0),
        effective_caps: sets.effective,
        permitted_caps: sets.permitted,
        inheritable_caps: sets.inheritable,
    }
}

#[cfg(not(target_os = "linux"))]
pub fn caller() -> Caller {
    Caller::plain(0)
}

#[cfg(target_os = "linux")]
fn groups() -> Vec<libc::gid_t> {
    let mut buf = vec![0; 64];
    loop {
        // SAFETY: getgroups writes at most buf.len() ids.
        let n = unsafe { libc::getgroups(buf.len() as libc::c_int, buf.as_mut_ptr()) };
        if n >= 0 {
            buf.truncate(n as usize);
            return buf;
        }
        if buf.len() > 1 << 16 {
            return vec![0]; // unreadable: assume the worst
        }
        let len = buf.len() * 4;
        buf.resize(len, 0);
    }
}

/// Makes [`Caller::identity`] true for this process: collapses the ids,
/// drops supplementary group 0 from a caller that will not be uid 0, and
/// clears every capability of such a caller. Root keeps its capabilities
/// here; `caps::restrict` cuts them to Docker's set later. Irreversible.
#[cfg(target_os = "linux")]
pub fn settle(id: &Identity) -> std::io::Result<()> {
    let err = std::io::Error::last_os_error;
    let c = &id.caller;
    let root = id.uid == 0;
    if !id.collapsed && !id.caps_cleared && (!id.group_root || root) {
        return Ok(());
    }
    // CAP_SETGID (for setgroups) and CAP_SETPCAP (for the bounding set)
    // work only when effective; a caller with effective uid 65534 and real
    // uid 0 holds them as permitted only.
    if c.permitted_caps & !c.effective_caps != 0 {
        super::caps::raise_effective()?;
    }
    if id.group_root && !root {
        let rest: Vec<libc::gid_t> = groups().into_iter().filter(|g| *g != 0).collect();
        // SAFETY: a valid list of gids. Without CAP_SETGID this fails with
        // EPERM and group 0 stays (explain says so): it is a group, not a
        // privilege, and Landlock still confines it.
        unsafe { libc::setgroups(rest.len(), rest.as_ptr()) };
    }
    if id.collapsed {
        // Group first: changing gids needs no capability when the target is
        // one of the current ids, and the uid change may clear them.
        // SAFETY: plain syscalls.
        if unsafe { libc::setresgid(id.gid, id.gid, id.gid) } != 0 {
            return Err(err());
        }
        if unsafe { libc::setresuid(id.uid, id.uid, id.uid) } != 0 {
            return Err(err());
        }
    }
    if id.caps_cleared {
        super::caps::restrict(Keep(0))?;
    }
    if id.collapsed {
        // Changing ids made this process undumpable, which makes
        // /proc/self root's: the user namespace's id maps could not be
        // written. With one uid left and no capability, dumpable is what
        // any process of that uid is.
        // SAFETY: plain prctl.
        if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 1, 0, 0, 0) } != 0 {
            return Err(err());
        }
    }
    Ok(())
}

/// Whether this program was started through its setuid or setgid bit:
/// cordon is not made for that, and would hand the file owner's ids to
/// whoever runs it. `AT_SECURE` alone does not tell: the kernel also sets it
/// for a caller whose real and effective ids differ (`setpriv --euid`), which
/// cordon handles by collapsing them; so only then is the file's mode asked.
#[cfg(target_os = "linux")]
pub fn secure_exec() -> bool {
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: getauxval has no preconditions.
    if unsafe { libc::getauxval(libc::AT_SECURE) } == 0 {
        return false;
    }
    std::fs::metadata("/proc/self/exe").map_or(true, |m| {
        m.permissions().mode() & (libc::S_ISUID | libc::S_ISGID) != 0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_uid_and_capability_set_counts() {
        assert!(!Caller::plain(1000).identity().privileged);
        assert!(Caller::root().identity().privileged);
        // setpriv --euid=65534: real and saved uid 0.
        let euid_only = Caller {
            uid: Ids {
                real: 0,
                effective: 65534,
                saved: 0,
            },
            permitted_caps: Caller::root().permitted_caps,
            ..Caller::plain(65534)
        };
        let id = euid_only.identity();
        assert!(id.privileged && id.collapsed && id.caps_cleared);
        assert!(!id.keeps_caps && !id.sys_admin);
        assert_eq!((id.uid, id.keep()), (65534, Some(Keep(0))));
        // Only an inheritable capability (ambient is a subset of it).
        let inh = Caller {
            inheritable_caps: 1 << 12,
            ..Caller::plain(1000)
        };
        assert!(inh.identity().privileged && inh.identity().caps_cleared);
        // A saved gid of 0 alone: collapsed, not privileged.
        let sgid = Caller {
            gid: Ids {
                real: 1000,
                effective: 1000,
                saved: 0,
            },
            ..Caller::plain(1000)
        };
        assert!(sgid.identity().collapsed && !sgid.identity().privileged);
        // Root keeps Docker's set and gets the namespace directly.
        let root = Caller::root().identity();
        assert!(root.sys_admin && root.keeps_caps && root.keep() == Some(Keep::docker()));
    }
}
