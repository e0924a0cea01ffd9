//! The environment flags shared by every subcommand that takes a policy
//! (`--env-inherit`, `--setenv`, `--unsetenv`, `--keepenv`): they layer on
//! top of the profile's `[env]` (`policy/env.rs` has the rules' order).

use clap::Args;

use crate::error::{Error, Result};
use crate::policy::{EnvPolicy, Inherit, Pattern, SetVar};

#[derive(Args, Debug, Clone, Default)]
pub struct EnvArgs {
    /// Which of the caller's variables the command starts from: all, core
    /// (HOME LOGNAME PATH SHELL USER USERNAME TMPDIR TEMP TMP LANG LC_* TERM
    /// TZ) or none.
    #[arg(long, value_name = "all|core|none")]
    pub env_inherit: Option<String>,
    /// Set NAME to VALUE for the command, over every other rule
    /// (repeatable). The value is never printed, but it is on cordon's
    /// command line: put secrets in a profile's [env] set instead.
    #[arg(long, value_name = "NAME=VALUE")]
    pub setenv: Vec<String>,
    /// Drop the variables whose names match PATTERN (case-insensitive; `*`
    /// and `?`; repeatable), in addition to the profile's exclude list.
    #[arg(long, value_name = "PATTERN")]
    pub unsetenv: Vec<String>,
    /// Keep the variables whose names match PATTERN although an exclude
    /// pattern or --env-inherit would drop them (repeatable).
    #[arg(long, value_name = "PATTERN")]
    pub keepenv: Vec<String>,
}

impl EnvArgs {
    /// Layers the flags on `env`. Errors name the flag and the variable,
    /// never a value.
    pub fn apply(&self, env: &mut EnvPolicy) -> Result<()> {
        if let Some(text) = &self.env_inherit {
            env.inherit = Inherit::parse(text).ok_or_else(|| {
                Error::new(format!(
                    "--env-inherit {}: use all, core or none",
                    text.escape_debug()
                ))
            })?;
            env.inherit_origin = "--env-inherit".into();
        }
        for text in &self.unsetenv {
            let p = Pattern::new(text, "--unsetenv")
                .map_err(|e| Error::new(format!("--unsetenv: {e}")))?;
            env.add_exclude(p);
        }
        for text in &self.keepenv {
            let p = Pattern::new(text, "--keepenv")
                .map_err(|e| Error::new(format!("--keepenv: {e}")))?;
            env.add_keep(p);
        }
        for arg in &self.setenv {
            let Some((name, value)) = arg.split_once('=') else {
                return Err(Error::new(format!(
                    "--setenv {}: give NAME=VALUE (NAME= for an empty value)",
                    arg.escape_debug()
                )));
            };
            let v = SetVar::new(name, value, "--setenv")
                .map_err(|e| Error::new(format!("--setenv: {e}")))?;
            env.set_var(v);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(args: EnvArgs) -> Result<EnvPolicy> {
        let mut env = EnvPolicy::defaults("profile t");
        args.apply(&mut env).map(|()| env)
    }

    #[test]
    fn flags_layer_on_the_profile() {
        let env = apply(EnvArgs {
            env_inherit: Some("core".into()),
            setenv: vec!["A=1=2".into(), "B=".into(), "A=3".into()],
            unsetenv: vec!["*PASSWORD*".into()],
            keepenv: vec!["GITHUB_TOKEN".into()],
        })
        .unwrap();
        assert_eq!(env.inherit, Inherit::Core);
        assert_eq!(env.inherit_origin, "--env-inherit");
        assert_eq!(env.set_value("A"), Some("3"));
        assert_eq!(env.set_value("B"), Some(""));
        assert_eq!(env.exclude.len(), 4);
        assert_eq!(env.keep[0].origin, "--keepenv");
    }

    #[test]
    fn bad_flags_name_the_flag_and_never_the_value() {
        let cases: [(EnvArgs, &str); 7] = [
            (
                EnvArgs {
                    env_inherit: Some("some".into()),
                    ..Default::default()
                },
                "--env-inherit some: use all, core or none",
            ),
            (
                EnvArgs {
                    setenv: vec!["NOVALUE".into()],
                    ..Default::default()
                },
                "--setenv NOVALUE: give NAME=VALUE",
            ),
            (
                EnvArgs {
                    setenv: vec!["=marker".into()],
                    ..Default::default()
                },
                "--setenv: an empty variable name",
            ),
            (
                EnvArgs {
                    setenv: vec!["CORDON_SANDBOX=marker".into()],
                    ..Default::default()
                },
                "--setenv: `CORDON_SANDBOX` is set by cordon itself",
            ),
            (
                EnvArgs {
                    unsetenv: vec!["".into()],
                    ..Default::default()
                },
                "--unsetenv: an empty pattern",
            ),
            (
                EnvArgs {
                    keepenv: vec!["".into()],
                    ..Default::default()
                },
                "--keepenv: an empty pattern",
            ),
            (
                EnvArgs {
                    unsetenv: vec!["A=marker".into()],
                    ..Default::default()
                },
                "--unsetenv: pattern `A=...` contains `=`",
            ),
        ];
        for (args, want) in cases {
            let setenv = !args.setenv.is_empty();
            let e = apply(args).unwrap_err().message;
            assert!(e.starts_with(want), "{e}\n want: {want}");
            if setenv {
                assert!(!e.contains("marker"), "{e}");
            }
        }
    }
}
