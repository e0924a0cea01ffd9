//! `cordon rerun --request FILE|-`: an approved escalation request (contract
//! §3) -> policy -> plan (resolved now, in the rerun's environment) -> launch.

use clap::Args;

use super::request::RequestPlan;
use super::{AbiArg, SessionArgs};
use crate::error::{EXIT_CORDON, Error, Result};
use crate::plan;
use crate::sandbox::{self, Launch};
use crate::stdio::Stdio;

#[derive(Args)]
pub struct RerunArgs {
    /// The escalation request: a JSON file, or `-` to read it from stdin.
    #[arg(long, value_name = "FILE|-")]
    pub request: String,
    /// Print the plan and the compiled sandbox; run nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// For "turn_default" only: run even where this host cannot enforce part
    /// of the turn's policy, with one warning per gap. Refused for
    /// `permissions` executions, which run bounded or not at all.
    #[arg(long)]
    pub best_effort: bool,
    #[command(flatten)]
    pub abi: AbiArg,
    #[command(flatten)]
    pub session: SessionArgs,
}

pub const LONG_ABOUT: &str = r#"Rerun an approved command from an escalation request (JSON), under exactly the sandbox it asks for.

The request:
  {
    "command": ["make", "deploy"],            required, non-empty
    "cwd": "/repo/sub",                       required unless turn.cwd is given; absolute
    "turn": {                                 optional; default: the workspace-write profile
      "cwd": "/repo",                         the turn's workspace: what :cwd names (the command
                                              still runs in "cwd"); without it "cwd" is :cwd, and
                                              is refused when it is /, $HOME or above, or a symlink
      "sandbox_policy": {"type": "workspace-write", ...} or a permission profile,
      "macos": {"preferences": "read-only", ...}
    },
    "execution": ...,                         optional; default "turn_default"
    "skill": "/repo/.agents/skills/deploy"    optional: the skill's declared permissions
  }                                           apply, bounded by the execution's policy

execution:
  "turn_default"                          the turn's policy, resolved now (cwd, $TMPDIR of this rerun)
  {"permissions": {"additional": P}}      the turn's policy plus exactly P's grants
  {"permissions": {"exact": P}}           exactly P (a permission profile or {"type": ...})
  "unsandboxed"                           no sandbox; refused when the turn restricts reads

Codex's shell tool-call fields may stand in for cwd and execution:
  "workdir": "/repo"                      cwd (give turn.cwd: the model chooses workdir)
  "sandbox_permissions": "use_default"    "turn_default" (also when absent)
  "sandbox_permissions": "require_escalated"             "unsandboxed"
  "sandbox_permissions": "with_additional_permissions",
  "additional_permissions": P             {"permissions": {"additional": P}}, P's paths absolute
  "justification", "prefix_rule", "timeout_ms"           accepted, no effect

A permissions execution runs bounded or not at all: if this host cannot enforce
its whole sandbox, cordon exits 125 and runs nothing (--best-effort is refused).
Unknown fields are errors.

Descriptors above 2 are closed at exec, with no --keep-fd: what the calling
process has open is not part of an approved request."#;

pub fn rerun(args: RerunArgs) -> Result<i32> {
    // A request names no descriptors: what the caller has open is not part
    // of what was approved, so none is kept.
    let session = args.session.flag();
    let stdio = Stdio::new(&[], session)?;
    let RequestPlan {
        plan,
        argv,
        req,
        kind,
        bounded,
    } = RequestPlan::read(&args.request)?;
    if bounded && args.best_effort {
        let what = if kind.bounded() {
            format!("execution {}", kind.as_str())
        } else {
            "a skill's declared permissions".to_string()
        };
        return Err(Error::new(format!(
            "{}: --best-effort does not apply to {what}: it runs bounded or not at all; remove --best-effort",
            req.source
        )));
    }
    // cordon's own failures name the request; the command's 126/127 do not.
    let named = |e: Error| match e.exit {
        EXIT_CORDON => Error::new(format!("{}: {}", req.source, e.message)),
        _ => e,
    };
    let status = sandbox::launch(
        &plan,
        &argv,
        &Launch {
            dry_run: args.dry_run,
            best_effort: args.best_effort,
            landlock_abi: args.abi.landlock_abi,
            // The request's own directory; with `turn.cwd` it is not the
            // plan's cwd (the turn's workspace, what `:cwd` names).
            chdir: Some(match req.turn_cwd {
                Some(_) => req.cwd.clone(),
                None => plan.cwd.clone(),
            }),
            bounded,
            stdio,
            proxy_log: None,
        },
    )
    .map_err(named)?;
    if args.dry_run && req.turn_cwd.is_some() {
        println!(
            "runs in: {} ({}; `:cwd` is turn.cwd {})",
            plan::shown(&req.cwd),
            req.cwd_field,
            plan::shown(&plan.cwd)
        );
    }
    Ok(status)
}
