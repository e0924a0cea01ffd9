//! An escalation request's sandbox, resolved now in this process's
//! environment: what `rerun` runs and what `explain --request` and
//! `seatbelt --request` show.

use std::ffi::OsString;

use crate::error::{Error, Result};
use crate::plan::{self, Env, Plan};
use crate::policy::{ExecutionKind, Request, read_request, request_policy};
use crate::skill;

pub(super) struct RequestPlan {
    pub plan: Plan,
    /// The request's command.
    pub argv: Vec<OsString>,
    pub req: Request,
    pub kind: ExecutionKind,
    /// Runs whole or not at all: a `permissions` execution, or a skill's
    /// declared permissions.
    pub bounded: bool,
}

impl RequestPlan {
    /// Reads the request in `arg` (a file, or `-` for stdin) and resolves
    /// its plan; cordon's errors name the request.
    pub fn read(arg: &str) -> Result<RequestPlan> {
        let req = read_request(arg)?;
        let (policy, cwd, kind) = request_policy(&req)?;
        let named = |e: Error| Error::new(format!("{}: {}", req.source, e.message));
        let env = Env::from_process();
        let (plan, bounded) = match &req.skill {
            // The skill's declared permissions, bounded by the policy the
            // execution gives (the turn's, or the turn's widened by an approved
            // `additional`): the same bounds as `cordon skill`.
            Some(dir) => {
                let skill = skill::load(dir).map_err(named)?;
                let why = format!(
                    "named by the request's \"skill\" (execution {})",
                    kind.as_str()
                );
                skill::bounded_plan(&policy, &skill, &cwd, &env, Some(why)).map_err(named)?
            }
            None => (plan::resolve(&policy, &cwd, &env).map_err(named)?, false),
        };
        // Checked on the resolved cwd, which the launch holds and enters.
        if req.turn_cwd.is_none() {
            plan::check_request_cwd(&req.cwd, &plan.cwd, req.cwd_field, &policy, &env)
                .map_err(named)?;
        }
        let argv: Vec<OsString> = req.command.iter().map(OsString::from).collect();
        Ok(RequestPlan {
            plan,
            argv,
            req,
            kind,
            bounded: bounded || kind.bounded(),
        })
    }
}
