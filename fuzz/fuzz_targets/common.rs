//! What every target checks: cordon's failures are one-line exit-125 errors,
//! and a policy that parses goes through the next pure stages (resolve,
//! display, both backends' compile) without a panic. Nothing is applied and
//! nothing runs.

use std::ffi::OsString;
use std::path::Path;

use cordon::error::{Error, Result};
use cordon::plan::{self, Env};
use cordon::policy::Policy;

/// A failure must be the contract's error: exit 125, one line.
pub fn check_error(e: &Error) {
    assert_eq!(e.exit, 125, "{e:?}");
    assert!(!e.message.contains('\n'), "multi-line error: {e:?}");
    assert!(!e.message.contains('\r'), "error with a CR: {e:?}");
}

pub fn check<T>(r: &Result<T>) {
    if let Err(e) = r {
        check_error(e);
    }
}

/// Resolves `policy` at `cwd` with no $TMPDIR or $HOME, then prints the plan
/// and compiles it for Seatbelt and for Landlock ABI 7 + seccomp.
pub fn stages(policy: &Policy, cwd: &Path) {
    let _ = format!("{policy:?}");
    let plan = plan::resolve(policy, cwd, &Env::default());
    check(&plan);
    let Ok(plan) = plan else { return };
    let _ = plan.to_string();
    let sb = cordon::seatbelt::compile(&plan);
    check(&sb);
    if let Ok(profile) = sb {
        let _ = profile.to_string();
        let _ = cordon::seatbelt::argv(&profile, &[OsString::from("true")]);
    }
    let art = cordon::linux::compile(&plan, 7);
    check(&art);
    if let Ok(art) = art {
        let _ = art.to_string();
    }
}
