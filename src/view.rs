//! A plan as one platform's backend would enforce it: the compiled
//! artifacts, each feature with its mechanism, the child's environment, and
//! per-path verdicts. `explain` and `run --dry-run` print this; `doctor`
//! reads the same compile. Pure apart from asking the kernel its Landlock
//! ABI, so every OS can show every platform's view.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;

use serde::Serialize;

use crate::enforcement::{Feature, Gap, Kind};
use crate::error::Result;
use crate::exec::sandbox_vars;
use crate::linux::{self, Artifacts};
use crate::plan::{Lookup, PathVerdict, Plan};
use crate::stdio::Process;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Linux,
    Macos,
}

impl Platform {
    /// The platform cordon runs on.
    pub fn host() -> Platform {
        if cfg!(target_os = "macos") {
            Platform::Macos
        } else {
            Platform::Linux
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct LinuxView {
    /// `host`: compiled for this kernel's Landlock ABI (capped by
    /// `--landlock-abi`); `assumed`: not on Linux, so that ABI is assumed.
    pub abi_from: &'static str,
    /// `None` when the plan runs unsandboxed (full access).
    pub artifacts: Option<Artifacts>,
    /// Why this host cannot give the private mount namespace; `None` when
    /// it can (tried in a throw-away child) or nothing is sandboxed.
    pub namespace_unavailable: Option<String>,
    pub features: Vec<Feature>,
    /// The variables cordon sets for the command.
    pub env: BTreeMap<&'static str, &'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MacosView {
    /// The SBPL profile `sandbox-exec -p` gets; `None` when unsandboxed.
    pub sbpl: Option<String>,
    /// Its `-D KEY=VALUE` parameters, in emission order.
    pub params: Vec<(String, String)>,
    /// What enforces it, and what this view cannot show.
    pub note: String,
    pub env: BTreeMap<&'static str, &'static str>,
}

// One view is built per command and never copied around: boxing the larger
// variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "platform", rename_all = "lowercase")]
pub enum View {
    Linux(LinuxView),
    Macos(MacosView),
}

const SEATBELT_NOTE: &str = "Seatbelt (sandbox-exec) enforces the profile below; per-path \
     verdicts are Seatbelt's own at run time and are not evaluated here";

fn env(plan: &Plan, kind: &'static str) -> BTreeMap<&'static str, &'static str> {
    let network_off = plan.sandboxed && plan.network.fully_off();
    let mut env: BTreeMap<_, _> = sandbox_vars(kind, network_off).into_iter().collect();
    if plan.sandboxed && plan.network.proxied() && !plan.network.enabled {
        for name in crate::proxy::ENV_NAMES {
            let value = if name.eq_ignore_ascii_case("no_proxy") {
                ""
            } else {
                "http://127.0.0.1:PORT (the proxy's port, chosen at run time)"
            };
            env.insert(name, value);
        }
    }
    env
}

/// The hook every printer goes through: `plan` compiled for `platform`.
/// `landlock_abi` caps the Landlock ABI as `run --landlock-abi` does.
pub fn platform_view(plan: &Plan, platform: Platform, landlock_abi: Option<u8>) -> Result<View> {
    Ok(match platform {
        Platform::Linux => {
            let on_linux = cfg!(target_os = "linux");
            let abi = if on_linux {
                linux::host_abi(landlock_abi)
            } else {
                landlock_abi.unwrap_or(linux::landlock::MAX_ABI)
            };
            let artifacts = if plan.sandboxed {
                Some(linux::compile(plan, abi)?)
            } else {
                None
            };
            let namespace_unavailable = artifacts.as_ref().and_then(|art| {
                linux::namespace_available(&art.mounts)
                    .err()
                    .map(|e| e.to_string())
            });
            let namespace = namespace_unavailable.is_none();
            let (features, kind) = match &artifacts {
                Some(art) => (linux::features(plan, art, namespace), art.sandbox_kind()),
                None => (Vec::new(), "none"),
            };
            View::Linux(LinuxView {
                abi_from: if on_linux { "host" } else { "assumed" },
                env: env(plan, kind),
                artifacts,
                namespace_unavailable,
                features,
            })
        }
        Platform::Macos => {
            let profile = if plan.sandboxed {
                Some(crate::seatbelt::compile(plan)?)
            } else {
                None
            };
            View::Macos(MacosView {
                params: profile
                    .as_ref()
                    .map(|p| p.params.clone())
                    .unwrap_or_default(),
                sbpl: profile.map(|p| p.text),
                note: SEATBELT_NOTE.into(),
                env: env(plan, if plan.sandboxed { "seatbelt" } else { "none" }),
            })
        }
    })
}

impl View {
    /// What this platform's compiled sandbox cannot enforce on this host.
    pub fn gaps(&self) -> &[Gap] {
        match self {
            View::Linux(LinuxView {
                artifacts: Some(a), ..
            }) => &a.gaps,
            _ => &[],
        }
    }

    pub fn platform(&self) -> Platform {
        match self {
            View::Linux(_) => Platform::Linux,
            View::Macos(_) => Platform::Macos,
        }
    }

    /// The verdict for one path, when this platform's backend can give one.
    pub fn verdict(&self, plan: &Plan, l: &Lookup) -> Option<PathVerdict> {
        match self {
            View::Linux(v) => {
                let mut verdict = linux::verdict(
                    plan,
                    v.artifacts.as_ref(),
                    l,
                    v.namespace_unavailable.is_none(),
                );
                crate::plan::fix::annotate(plan, &mut verdict);
                Some(verdict)
            }
            View::Macos(_) => None,
        }
    }

    /// The compiled sandbox as `--dry-run` prints it (after the plan), then
    /// the protected paths it leaves writable (the plan lists them as
    /// read-only; this says what is actually enforced).
    pub fn artifacts_text(&self) -> String {
        let mut out = String::new();
        self.write_artifacts(&mut out);
        out
    }

    /// [`Self::artifacts_text`], appended to `out`.
    fn write_artifacts(&self, out: &mut String) {
        match self {
            View::Linux(v) => {
                if let Some(a) = &v.artifacts {
                    let _ = write!(out, "{a}");
                }
                for f in v
                    .features
                    .iter()
                    .filter(|f| f.kind == Kind::Protected && !f.enforced)
                {
                    let _ = writeln!(out, "not enforced: {}: {}", f.feature, f.mechanism);
                }
            }
            View::Macos(v) => match &v.sbpl {
                None => out.push_str("seatbelt: none (the command runs unsandboxed)\n"),
                Some(text) => {
                    let _ = write!(out, "seatbelt:\n{text}");
                    for (k, val) in &v.params {
                        let _ = writeln!(out, ";; -D{k}={val}");
                    }
                }
            },
        }
    }

    /// `--dry-run`'s stable text: the plan, the compiled sandbox, what the
    /// command inherits, the command.
    pub fn dry_run_text(&self, plan: &Plan, process: &Process, argv: &[OsString]) -> String {
        let cmd: Vec<_> = argv.iter().map(|a| a.to_string_lossy()).collect();
        // One buffer, not the compiled part built apart and copied in: with
        // 10,000 roots the text is some 8 MB. The compiled part runs to
        // about three times the plan's length, so room for it is made once.
        let mut out = String::with_capacity(64 * 1024);
        let _ = write!(out, "{plan}");
        out.reserve(3 * out.len());
        self.write_artifacts(&mut out);
        let _ = writeln!(out, "{process}command: {}", cmd.join(" "));
        out
    }

    /// Each feature and its mechanism, then the child's environment.
    pub fn enforcement_text(&self) -> String {
        let mut out = String::new();
        let env = match self {
            View::Linux(v) => {
                let abi = match &v.artifacts {
                    Some(a) => format!(" (Landlock ABI {}, {})", a.abi, v.abi_from),
                    None => String::new(),
                };
                let _ = writeln!(out, "enforcement on linux{abi}:");
                if v.artifacts.is_none() {
                    let _ = writeln!(out, "  nothing: the command runs unsandboxed");
                }
                for f in &v.features {
                    let state = if f.enforced { "" } else { "NOT ENFORCED: " };
                    let _ = writeln!(out, "  {}: {state}{}", f.feature, f.mechanism);
                }
                &v.env
            }
            View::Macos(v) => {
                let _ = writeln!(out, "enforcement on macos: {}", v.note);
                &v.env
            }
        };
        let vars: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(out, "env: {}", vars.join(" "));
        out
    }
}
