//! `cordon run`: policy -> plan -> launch.

use std::ffi::OsString;

use serde::Serialize;

use std::path::Path;

use super::{RunArgs, SkillArgs, print_json};
use crate::error::{Error, Result};
use crate::plan::{self, Env, Plan};
use crate::sandbox::{self, Launch};
use crate::skill;
use crate::stdio::{Process, Stdio};
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
    let view = platform_view(plan, platform, args.launch.abi.landlock_abi)?;
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
    launch(args, None)
}

/// `cordon skill [POLICY] SKILL_DIR -- CMD`.
pub fn skill(args: SkillArgs) -> Result<i32> {
    if !args.run.skills.is_empty() {
        return Err(Error::new(
            "--skills is for `cordon run`; `cordon skill` runs the skill SKILL_DIR names",
        ));
    }
    launch(args.run, Some(args.skill_dir))
}

/// The plan for `run` (the skill the command matches, if any) or `skill`
/// (the named one), and whether it is bounded (a skill's declared block).
pub(super) fn plan_for(
    policy: &crate::policy::Policy,
    cwd: &Path,
    env: &Env,
    skill_dir: Option<&Path>,
    skills: &[std::path::PathBuf],
    command: &[OsString],
) -> Result<(Plan, bool)> {
    if let Some(dir) = skill_dir {
        let skill = skill::load(dir)?;
        return skill::bounded_plan(policy, &skill, cwd, env, None);
    }
    match skill::find(command, cwd, skills, env.home.as_deref()) {
        Some(m) => {
            let skill = skill::load(&m.dir)?;
            skill::bounded_plan(policy, &skill, cwd, env, Some(m.why))
        }
        None => Ok((plan::resolve(policy, cwd, env)?, false)),
    }
}

fn launch(args: RunArgs, skill_dir: Option<std::path::PathBuf>) -> Result<i32> {
    if args.command.is_empty() && !args.dry_run {
        return Err(Error::new(
            "no command given; put it after `--`, e.g. `cordon run -- ls`",
        ));
    }
    // First: whether the named descriptors are open is the caller's state,
    // before cordon opens anything of its own.
    let stdio = args.launch.stdio()?;
    let policy = args.policy.policy()?;
    let cwd = args.policy.cwd()?;
    let env = Env::from_process();
    let (mut plan, bounded) = plan_for(
        &policy,
        &cwd,
        &env,
        skill_dir.as_deref(),
        &args.skills,
        &args.command,
    )?;
    plan.kill_leftovers = !args.launch.keep_leftovers;
    if bounded && args.launch.best_effort {
        return Err(Error::new(format!(
            "--best-effort does not apply to {}: a skill's declared sandbox runs bounded or not at all; remove --best-effort",
            plan.policy_name
        )));
    }
    if args.dry_run {
        return dry_run(&plan, &stdio, &args);
    }
    sandbox::launch(
        &plan,
        &args.command,
        &Launch {
            dry_run: args.dry_run,
            best_effort: args.launch.best_effort,
            landlock_abi: args.launch.abi.landlock_abi,
            chdir: args.policy.cwd.is_some().then(|| plan.cwd.clone()),
            bounded,
            stdio,
            proxy_log: args.proxy_log.clone(),
        },
    )
}
