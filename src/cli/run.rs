//! `cordon run`: policy -> plan -> launch.

use std::ffi::OsString;

use serde::Serialize;

use super::{RunArgs, print_json};
use crate::error::{Error, Result};
use crate::plan::{self, Env, Plan};
use crate::sandbox::{self, Launch};
use crate::stdio::{Process, SessionFlag, Stdio};
use crate::view::{Platform, View, platform_view};

/// `run --dry-run --json`.
#[derive(Serialize)]
struct DryRun<'a> {
    plan: &'a Plan,
    sandbox: &'a View,
    process: &'a Process,
    command: Vec<String>,
}

fn dry_run(plan: &Plan, stdio: &Stdio, args: &RunArgs) -> Result<i32> {
    let platform = args.platform.unwrap_or_else(Platform::host);
    let view = platform_view(plan, platform, args.landlock_abi)?;
    let process = stdio.describe();
    if args.json {
        let command = args
            .command
            .iter()
            .map(|a: &OsString| a.to_string_lossy().into_owned())
            .collect();
        print_json(&DryRun {
            plan,
            sandbox: &view,
            process: &process,
            command,
        })?;
    } else {
        print!("{}", view.dry_run_text(plan, &process, &args.command));
    }
    Ok(0)
}

pub fn run(args: RunArgs) -> Result<i32> {
    if args.command.is_empty() && !args.dry_run {
        return Err(Error::new(
            "no command given; put it after `--`, e.g. `cordon run -- ls`",
        ));
    }
    // First: whether the named descriptors are open is the caller's state,
    // before cordon opens anything of its own.
    let session = SessionFlag::from_flags(args.new_session, args.no_new_session);
    let stdio = Stdio::new(&args.keep_fd, session)?;
    let policy = args.policy.policy()?;
    let cwd = args.policy.cwd()?;
    let mut plan = plan::resolve(&policy, &cwd, &Env::from_process())?;
    plan.kill_leftovers = !args.keep_leftovers;
    if args.dry_run {
        return dry_run(&plan, &stdio, &args);
    }
    sandbox::launch(
        &plan,
        &args.command,
        &Launch {
            dry_run: args.dry_run,
            best_effort: args.best_effort,
            landlock_abi: args.landlock_abi,
            chdir: args.policy.cwd.is_some().then(|| plan.cwd.clone()),
            bounded: false,
            stdio,
        },
    )
}
