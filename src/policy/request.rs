//! Escalation requests (contract §3): one JSON document naming a command, its
//! cwd, the sandbox of the turn that asked, and how the approved rerun runs.
//! [`parse_request`] validates all of it up front; [`request_policy`] turns it
//! into the one [`Policy`] the rerun gets. Nothing here depends on where the
//! request was read from, so the same request always gives the same policy.

use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;
use serde_json::Value;

use super::{
    DEFAULT_PROFILE, PermissionProfile, Policy, builtin, macos_from_value, merge_permissions,
    permission_profile_from_value, permission_profile_from_value_as, policy_from_value,
};
use crate::error::{Error, Result};

const EXECUTIONS: &str = r#"use "turn_default", "unsandboxed", {"permissions":{"additional":P}} or {"permissions":{"exact":P}}"#;
const FORMAT_HINT: &str = "see `cordon rerun --help` for the request format";

#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "an escalation request object {\"command\", \"cwd\", \"turn\", \"execution\", \"skill\"}"
)]
struct RawRequest {
    command: Value,
    #[serde(default)]
    cwd: Option<Value>,
    #[serde(default)]
    turn: Option<Value>,
    #[serde(default)]
    execution: Option<Value>,
    #[serde(default)]
    skill: Option<Value>,
    // Codex's shell tool-call fields (`ShellToolCallParams`), so a harness
    // can pass the call's arguments through unchanged.
    #[serde(default)]
    workdir: Option<Value>,
    #[serde(default)]
    sandbox_permissions: Option<Value>,
    #[serde(default)]
    additional_permissions: Option<Value>,
    /// Shown to the user who approved; no effect on the sandbox.
    #[serde(default)]
    #[allow(dead_code)]
    justification: Option<Value>,
    /// A rule Codex may persist; no effect on this run.
    #[serde(default)]
    #[allow(dead_code)]
    prefix_rule: Option<Value>,
    /// Codex enforces it around the sandbox, in the harness that waits for
    /// the command; so does a harness that runs cordon. No effect here.
    #[serde(default, alias = "timeout")]
    #[allow(dead_code)]
    timeout_ms: Option<Value>,
}

/// Codex's `sandbox_permissions` values.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum SandboxPermissions {
    UseDefault,
    RequireEscalated,
    WithAdditionalPermissions,
}

#[derive(Default, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "an object {\"cwd\", \"sandbox_policy\", \"macos\"}"
)]
struct RawTurn {
    /// The turn's working directory, as Codex records it in its turn
    /// context (`TurnContextItem.cwd`): the workspace its `:cwd` names.
    #[serde(default)]
    cwd: Option<Value>,
    #[serde(default)]
    sandbox_policy: Option<Value>,
    #[serde(default)]
    macos: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum RawExecution {
    TurnDefault,
    Unsandboxed,
    Permissions(RawPermissions),
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum RawPermissions {
    Additional(Value),
    Exact(Value),
}

/// How the approved command runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Execution {
    /// The turn's own policy, resolved at rerun time.
    TurnDefault,
    /// No sandbox (refused when the turn restricts reads).
    Unsandboxed,
    /// The turn's policy widened by exactly these grants.
    Additional(PermissionProfile),
    /// Exactly this sandbox; `own_macos` / `own_env` when it names its own
    /// `macos` / `env` (otherwise the turn's are kept).
    Exact {
        policy: Policy,
        own_macos: bool,
        own_env: bool,
    },
}

/// [`Execution`] without its data, for callers that branch on the kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutionKind {
    TurnDefault,
    Unsandboxed,
    Additional,
    Exact,
}

impl ExecutionKind {
    /// `permissions` executions run bounded or not at all: no `--best-effort`,
    /// no gaps, never without a sandbox.
    pub fn bounded(self) -> bool {
        matches!(self, ExecutionKind::Additional | ExecutionKind::Exact)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionKind::TurnDefault => "turn_default",
            ExecutionKind::Unsandboxed => "unsandboxed",
            ExecutionKind::Additional => "permissions.additional",
            ExecutionKind::Exact => "permissions.exact",
        }
    }
}

impl Execution {
    pub fn kind(&self) -> ExecutionKind {
        match self {
            Execution::TurnDefault => ExecutionKind::TurnDefault,
            Execution::Unsandboxed => ExecutionKind::Unsandboxed,
            Execution::Additional(_) => ExecutionKind::Additional,
            Execution::Exact { .. } => ExecutionKind::Exact,
        }
    }
}

/// A validated escalation request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Where it was read from (`request FILE`), for error messages only.
    pub source: String,
    pub command: Vec<String>,
    /// Where the command runs: `cwd` or Codex's `workdir` (absolute, as
    /// given), or `turn.cwd` when neither is given.
    pub cwd: PathBuf,
    /// The field `cwd` came from (`cwd`, `workdir` or `turn.cwd`), for
    /// error messages.
    pub cwd_field: &'static str,
    /// The turn's working directory (`turn.cwd`, absolute, as given): what
    /// `:cwd` names in the turn's policy and in `permissions` grants. Absent,
    /// `cwd` is `:cwd`, bounded by `plan::check_request_cwd`.
    pub turn_cwd: Option<PathBuf>,
    /// The turn's policy, its macOS extensions included. `name` is the turn's
    /// label (`workspace-write`, `permission profile`, ...).
    pub turn: Policy,
    pub execution: Execution,
    /// The skill whose command this is (absolute, as given): its declared
    /// permissions apply, bounded by the execution's policy.
    pub skill: Option<PathBuf>,
}

/// Why a request's `command`, `cwd`, `workdir`, `turn.cwd` or `skill` is
/// refused, `field` as the request names it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum FieldError {
    /// Not of the JSON type the field takes: serde's words, and what to give.
    Shape {
        field: &'static str,
        serde: String,
        want: &'static str,
    },
    EmptyCommand,
    EmptyProgram,
    Nul(String),
    Relative {
        field: &'static str,
        text: String,
        want: &'static str,
    },
    BothCwd,
    NoCwd,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldError::Shape { field, serde, want } => write!(f, "{field}: {serde}; give {want}"),
            FieldError::EmptyCommand => f.write_str(
                "command: is empty; give the program and its arguments, e.g. [\"make\", \"test\"]",
            ),
            FieldError::EmptyProgram => {
                f.write_str("command[0]: the program name is empty; name a program")
            }
            FieldError::Nul(field) => write!(f, "{field}: contains a NUL byte; remove it"),
            FieldError::Relative { field, text, want } => write!(
                f,
                "{field}: `{}` is not an absolute path; give {want}",
                text.escape_debug()
            ),
            FieldError::BothCwd => f.write_str(
                "both cwd and workdir are given; keep one (workdir is Codex's name for cwd)",
            ),
            FieldError::NoCwd => write!(
                f,
                "missing field `cwd`; give {CWD_WANT} (`cwd`, or Codex's `workdir`)"
            ),
        }
    }
}

/// What `cwd` and `workdir` take, and `turn.cwd` and `skill`.
const CWD_WANT: &str = "the absolute directory the command runs in";
const TURN_CWD_WANT: &str = "the absolute directory the turn ran in (its workspace)";
const SKILL_WANT: &str = "the absolute path of the skill's directory";

fn parse_command(value: &Value) -> std::result::Result<Vec<String>, FieldError> {
    let command = Vec::<String>::deserialize(value).map_err(|e| FieldError::Shape {
        field: "command",
        serde: e.to_string(),
        want: "a non-empty array of strings",
    })?;
    match command.first() {
        None => return Err(FieldError::EmptyCommand),
        Some(p) if p.is_empty() => return Err(FieldError::EmptyProgram),
        Some(_) => {}
    }
    if let Some(i) = command.iter().position(|a| a.contains('\0')) {
        return Err(FieldError::Nul(format!("command[{i}]")));
    }
    Ok(command)
}

/// A field that names an absolute path: `want` says which, for the fix.
fn absolute_path(
    value: &Value,
    field: &'static str,
    want: &'static str,
) -> std::result::Result<PathBuf, FieldError> {
    let text = String::deserialize(value).map_err(|e| FieldError::Shape {
        field,
        serde: e.to_string(),
        want,
    })?;
    if text.contains('\0') {
        return Err(FieldError::Nul(field.to_string()));
    }
    let path = PathBuf::from(&text);
    if !path.is_absolute() {
        return Err(FieldError::Relative { field, text, want });
    }
    Ok(path)
}

fn parse_skill(value: Option<&Value>) -> std::result::Result<Option<PathBuf>, FieldError> {
    match value.filter(|v| !v.is_null()) {
        None => Ok(None),
        Some(v) => absolute_path(v, "skill", SKILL_WANT).map(Some),
    }
}

/// The turn: its `sandbox_policy` (default: the default profile) with its
/// `macos` extensions, and its working directory when given.
fn parse_turn(value: Option<&Value>) -> Result<(Policy, Option<PathBuf>)> {
    let raw = match value {
        None | Some(Value::Null) => RawTurn::default(),
        Some(v) => RawTurn::deserialize(v).map_err(|e| Error::new(format!("turn: {e}")))?,
    };
    let cwd = match raw.cwd.as_ref().filter(|v| !v.is_null()) {
        None => None,
        Some(v) => Some(absolute_path(v, "turn.cwd", TURN_CWD_WANT).map_err(Error::new)?),
    };
    let mut policy = match &raw.sandbox_policy {
        None => {
            let mut p = Policy::default_profile()?;
            p.name = format!("{DEFAULT_PROFILE} (default)");
            p
        }
        Some(v) => {
            let mut p = policy_from_value(v, "turn.sandbox_policy")?;
            p.name = v
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("permission profile")
                .to_string();
            p
        }
    };
    if let Some(m) = &raw.macos {
        if raw
            .sandbox_policy
            .as_ref()
            .is_some_and(|v| v.get("macos").is_some())
        {
            return Err(Error::new(
                "turn: both turn.macos and turn.sandbox_policy.macos are given; keep one",
            ));
        }
        policy.macos = macos_from_value(m, "turn")?;
    }
    Ok((policy, cwd))
}

fn parse_execution(value: Option<&Value>) -> Result<Execution> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(Execution::TurnDefault);
    };
    if let Some(p) = value.get("permissions").and_then(Value::as_object)
        && p.len() != 1
    {
        return Err(Error::new(format!(
            "execution.permissions: give exactly one of `additional` or `exact` (found {})",
            p.len()
        )));
    }
    let raw = RawExecution::deserialize(value)
        .map_err(|e| Error::new(format!("execution: {e}; {EXECUTIONS}")))?;
    Ok(match raw {
        RawExecution::TurnDefault => Execution::TurnDefault,
        RawExecution::Unsandboxed => Execution::Unsandboxed,
        RawExecution::Permissions(RawPermissions::Additional(p)) => Execution::Additional(
            permission_profile_from_value(&p, "execution.permissions.additional")?,
        ),
        RawExecution::Permissions(RawPermissions::Exact(p)) => Execution::Exact {
            own_macos: p.get("macos").is_some(),
            own_env: p.get("env").is_some(),
            policy: policy_from_value(&p, "execution.permissions.exact")?,
        },
    })
}

/// The execution of a request that carries Codex's tool-call fields instead
/// of `execution`: `use_default` is `turn_default`, `require_escalated` is
/// `unsandboxed` (refused when the turn restricts reads, as always), and
/// `with_additional_permissions` is `permissions.additional` with
/// `additional_permissions` (Codex-shaped: absolute paths only), bounded.
fn codex_execution(sandbox: Option<&Value>, additional: Option<&Value>) -> Result<Execution> {
    let sandbox = match sandbox.filter(|v| !v.is_null()) {
        None => None,
        Some(v) => Some(SandboxPermissions::deserialize(v).map_err(|e| {
            Error::new(format!(
                "sandbox_permissions: {e}; use \"use_default\", \"require_escalated\" or \"with_additional_permissions\""
            ))
        })?),
    };
    let additional = additional.filter(|v| !v.is_null());
    match (sandbox, additional) {
        (Some(SandboxPermissions::WithAdditionalPermissions), Some(p)) => {
            Ok(Execution::Additional(permission_profile_from_value_as(
                p,
                "additional_permissions",
                true,
            )?))
        }
        (Some(SandboxPermissions::WithAdditionalPermissions), None) => Err(Error::new(
            "sandbox_permissions \"with_additional_permissions\" needs additional_permissions; give the grants, e.g. {\"file_system\":{\"write\":[\"/abs/dir\"]}}",
        )),
        (_, Some(_)) => Err(Error::new(
            "additional_permissions is given without sandbox_permissions \"with_additional_permissions\"; set it, or drop additional_permissions",
        )),
        (Some(SandboxPermissions::RequireEscalated), None) => Ok(Execution::Unsandboxed),
        (Some(SandboxPermissions::UseDefault) | None, None) => Ok(Execution::TurnDefault),
    }
}

/// `cwd` or Codex's `workdir`: at most one, absolute. Neither: the turn's
/// cwd, as Codex runs a call without `workdir` in the turn's directory.
fn request_cwd(
    cwd: Option<&Value>,
    workdir: Option<&Value>,
    turn_cwd: Option<&PathBuf>,
) -> std::result::Result<(PathBuf, &'static str), FieldError> {
    match (cwd, workdir.filter(|v| !v.is_null())) {
        (Some(_), Some(_)) => Err(FieldError::BothCwd),
        (Some(c), None) => Ok((absolute_path(c, "cwd", CWD_WANT)?, "cwd")),
        (None, Some(w)) => Ok((absolute_path(w, "workdir", CWD_WANT)?, "workdir")),
        (None, None) => match turn_cwd {
            Some(t) => Ok((t.clone(), "turn.cwd")),
            None => Err(FieldError::NoCwd),
        },
    }
}

/// Parses one request document. `source` (e.g. `request req.json`) prefixes
/// every error; it is not part of the result's policy.
pub fn parse_request(text: &str, source: &str) -> Result<Request> {
    let prefix = |e: Error| Error::new(format!("{source}: {}", e.message));
    // A request is an object: serde would also read a struct from an array
    // by position, now that `cwd` is optional.
    if text.trim_start().starts_with('[') {
        return Err(Error::new(format!(
            "{source}: invalid request: expected an escalation request object {{\"command\", \"cwd\", \"turn\", \"execution\", \"skill\"}}, not an array; {FORMAT_HINT}"
        )));
    }
    let raw: RawRequest = serde_json::from_str(text).map_err(|e| {
        let what = if e.is_data() {
            "invalid request"
        } else {
            "not valid JSON"
        };
        Error::new(format!("{source}: {what}: {e}; {FORMAT_HINT}"))
    })?;
    let command = parse_command(&raw.command).map_err(|m| prefix(Error::new(m)))?;
    let (turn, turn_cwd) = parse_turn(raw.turn.as_ref()).map_err(prefix)?;
    let (cwd, cwd_field) = request_cwd(raw.cwd.as_ref(), raw.workdir.as_ref(), turn_cwd.as_ref())
        .map_err(|m| prefix(Error::new(m)))?;
    let codex = raw.sandbox_permissions.is_some() || raw.additional_permissions.is_some();
    let execution = if codex {
        if raw.execution.is_some() {
            return Err(prefix(Error::new(
                "both execution and Codex's sandbox_permissions/additional_permissions are given; keep one",
            )));
        }
        codex_execution(
            raw.sandbox_permissions.as_ref(),
            raw.additional_permissions.as_ref(),
        )
        .map_err(prefix)?
    } else {
        parse_execution(raw.execution.as_ref()).map_err(prefix)?
    };
    let skill = parse_skill(raw.skill.as_ref()).map_err(|m| prefix(Error::new(m)))?;
    if skill.is_some() && execution == Execution::Unsandboxed {
        return Err(prefix(Error::new(
            "execution \"unsandboxed\" cannot run a skill: a skill's commands run bounded by its permissions; \
             use \"turn_default\", or {\"permissions\":{\"additional\":...}} with the grants it needs",
        )));
    }
    Ok(Request {
        source: source.to_string(),
        command,
        cwd,
        cwd_field,
        turn_cwd,
        turn,
        execution,
        skill,
    })
}

/// Reads and parses a request from a file, or from stdin for `-`.
pub fn read_request(arg: &str) -> Result<Request> {
    if arg == "-" {
        let source = "request (stdin)";
        let text = std::io::read_to_string(std::io::stdin()).map_err(|e| {
            Error::new(format!(
                "{source}: cannot read: {e}; pipe one JSON request to stdin"
            ))
        })?;
        return parse_request(&text, source);
    }
    let source = format!("request {}", arg.escape_debug());
    let text = std::fs::read_to_string(arg).map_err(|e| {
        Error::new(format!(
            "{source}: cannot read: {e}; give a readable JSON file, or `-` for stdin"
        ))
    })?;
    parse_request(&text, &source)
}

fn read_list(p: &Policy) -> String {
    let items: Vec<_> = p.read.iter().map(|g| g.spec.as_text()).collect();
    items.join(", ")
}

/// The policy the request's execution gets, the directory its `:cwd` names
/// (`turn.cwd`, else the request's `cwd`), and the execution's kind. The
/// command runs in `req.cwd`. Check a request without `turn.cwd` with
/// `plan::check_request_cwd`, then resolve the policy with
/// `plan::resolve(&policy, &cwd, &Env::from_process())` at rerun time, so
/// `$TMPDIR` and `$HOME` are the rerun's.
pub fn request_policy(req: &Request) -> Result<(Policy, PathBuf, ExecutionKind)> {
    let kind = req.execution.kind();
    let fail = |m: String| Error::new(format!("{}: {m}", req.source));
    let mut policy = match &req.execution {
        Execution::TurnDefault => req.turn.clone(),
        Execution::Unsandboxed => {
            if req.turn.restricts_reads() {
                return Err(fail(format!(
                    "execution \"unsandboxed\" would lift the turn's read restriction (reads only {}); \
                     ask for {{\"permissions\":{{\"additional\":...}}}} with the paths it needs instead",
                    read_list(&req.turn)
                )));
            }
            // No sandbox, but the turn's environment: the approval lifts
            // the sandbox, not the variables the turn kept from commands.
            let mut p = builtin::load("full-access")?;
            p.env = req.turn.env.clone();
            p
        }
        Execution::Additional(extra) => {
            merge_permissions(&req.turn, extra).map_err(|e| fail(e.to_string()))?
        }
        Execution::Exact {
            policy,
            own_macos,
            own_env,
        } => {
            let mut p = policy.clone();
            if !own_macos {
                p.macos = req.turn.macos.clone();
            }
            if !own_env {
                p.env = req.turn.env.clone();
            }
            p
        }
    };
    if kind.bounded() && policy.is_full_access() {
        return Err(fail(format!(
            "execution {} leaves no sandbox (write :root with the network on), and a permissions \
             execution runs bounded or not at all; ask for \"unsandboxed\" instead",
            kind.as_str()
        )));
    }
    policy.name = format!("request {} (turn: {})", kind.as_str(), req.turn.name);
    let mut dirs = vec![(req.cwd_field, &req.cwd)];
    if let Some(t) = &req.turn_cwd {
        dirs.push(("turn.cwd", t));
    }
    for (field, dir) in dirs {
        match std::fs::metadata(dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(fail(format!(
                    "{field} {} is not a directory; give an existing directory",
                    dir.display()
                )));
            }
            Err(e) => {
                return Err(fail(format!(
                    "{field} {}: {e}; give an existing directory",
                    dir.display()
                )));
            }
        }
    }
    let at = req.turn_cwd.clone().unwrap_or_else(|| req.cwd.clone());
    Ok((policy, at, kind))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Automation, PathSpec, Preferences};

    fn dir() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    fn request(cwd: &std::path::Path, turn: &str, execution: &str) -> String {
        format!(
            r#"{{"command":["true"],"cwd":{:?},"turn":{turn},"execution":{execution}}}"#,
            cwd.to_str().unwrap()
        )
    }

    fn policy_of(text: &str) -> Result<(Policy, PathBuf, ExecutionKind)> {
        request_policy(&parse_request(text, "request t.json")?)
    }

    fn err(text: &str) -> String {
        match parse_request(text, "request t.json").and_then(|r| request_policy(&r)) {
            Ok(_) => panic!("accepted: {text}"),
            Err(e) => {
                assert_eq!(e.exit, 125);
                assert!(!e.message.contains('\n'), "{}", e.message);
                assert!(e.message.starts_with("request t.json: "), "{}", e.message);
                e.message
            }
        }
    }

    const TURN_MACOS: &str = r#"{"sandbox_policy":{"type":"workspace-write"},"macos":{"preferences":"read-write","automation":["com.apple.Terminal"],"calendar":true}}"#;

    fn turn_macos() -> crate::policy::MacosExtensions {
        crate::policy::MacosExtensions {
            preferences: Preferences::ReadWrite,
            automation: Automation::BundleIds(vec!["com.apple.Terminal".into()]),
            accessibility: false,
            calendar: true,
            ..Default::default()
        }
    }

    #[test]
    fn minimal_request_is_the_default_profile_under_turn_default() {
        let d = dir();
        let text = format!(r#"{{"command":["ls","-l"],"cwd":{:?}}}"#, d.path());
        let req = parse_request(&text, "request t.json").unwrap();
        assert_eq!(req.command, ["ls", "-l"]);
        assert_eq!(req.execution, Execution::TurnDefault);
        let (p, cwd, kind) = request_policy(&req).unwrap();
        assert_eq!(kind, ExecutionKind::TurnDefault);
        assert_eq!(cwd, d.path());
        assert!(p.writes(&PathSpec::Cwd) && p.writes(&PathSpec::Tmpdir));
        assert!(!p.network.enabled);
        assert_eq!(
            p.name,
            "request turn_default (turn: workspace-write (default))"
        );
    }

    #[test]
    fn macos_extensions_survive_turn_default() {
        let d = dir();
        let (p, _, _) = policy_of(&request(d.path(), TURN_MACOS, r#""turn_default""#)).unwrap();
        assert_eq!(p.macos, turn_macos());
    }

    #[test]
    fn macos_extensions_are_unioned_for_additional() {
        let d = dir();
        let (p, _, _) = policy_of(&request(
            d.path(),
            TURN_MACOS,
            r#"{"permissions":{"additional":{"file_system":{"write":["/x"]}}}}"#,
        ))
        .unwrap();
        assert_eq!(p.macos, turn_macos());
        let (p, _, _) = policy_of(&request(
            d.path(),
            TURN_MACOS,
            r#"{"permissions":{"additional":{"macos":{"preferences":"none","automation":["com.apple.Notes"],"accessibility":true}}}}"#,
        ))
        .unwrap();
        assert_eq!(p.macos.preferences, Preferences::ReadWrite);
        assert_eq!(
            p.macos.automation,
            Automation::BundleIds(vec!["com.apple.Notes".into(), "com.apple.Terminal".into()])
        );
        assert!(p.macos.accessibility && p.macos.calendar);
    }

    #[test]
    fn exact_keeps_turn_macos_unless_it_names_its_own() {
        let d = dir();
        for exact in [
            r#"{"permissions":{"exact":{"file_system":{"write":[":cwd"]}}}}"#,
            r#"{"permissions":{"exact":{"type":"read-only"}}}"#,
        ] {
            let (p, _, kind) = policy_of(&request(d.path(), TURN_MACOS, exact)).unwrap();
            assert_eq!(kind, ExecutionKind::Exact);
            assert_eq!(p.macos, turn_macos(), "{exact}");
        }
        let (p, _, _) = policy_of(&request(
            d.path(),
            TURN_MACOS,
            r#"{"permissions":{"exact":{"macos":{"preferences":"none"}}}}"#,
        ))
        .unwrap();
        assert_eq!(
            p.macos,
            crate::policy::MacosExtensions {
                preferences: Preferences::None,
                ..Default::default()
            }
        );
    }

    #[test]
    fn additional_unions_grants_and_network_exact_replaces() {
        let d = dir();
        // An existing root: Codex-shaped JSON skips a missing one.
        let turn = r#"{"sandbox_policy":{"type":"workspace-write","writable_roots":["/tmp"]}}"#;
        let (p, _, kind) = policy_of(&request(
            d.path(),
            turn,
            r#"{"permissions":{"additional":{"file_system":{"write":["/x"]}}}}"#,
        ))
        .unwrap();
        assert_eq!(kind, ExecutionKind::Additional);
        let specs: Vec<_> = p.write.iter().map(|g| g.spec.as_text()).collect();
        assert_eq!(specs, [":cwd", "/tmp", ":tmpdir", ":slash_tmp", "/x"]);
        assert!(!p.network.enabled);
        let (p, _, _) = policy_of(&request(
            d.path(),
            turn,
            r#"{"permissions":{"additional":{"network":{"enabled":true}}}}"#,
        ))
        .unwrap();
        assert!(p.network.enabled);
        // Exact: narrower than the turn.
        let (p, _, _) = policy_of(&request(
            d.path(),
            turn,
            r#"{"permissions":{"exact":{"file_system":{"read":[":minimal"]}}}}"#,
        ))
        .unwrap();
        assert!(p.write.is_empty() && p.restricts_reads() && !p.network.enabled);
    }

    #[test]
    fn unsandboxed_is_full_access_unless_the_turn_restricts_reads() {
        let d = dir();
        let (p, _, kind) = policy_of(&request(d.path(), "{}", r#""unsandboxed""#)).unwrap();
        assert_eq!(kind, ExecutionKind::Unsandboxed);
        assert!(p.is_full_access());
        let m = err(&request(
            d.path(),
            r#"{"sandbox_policy":{"file_system":{"read":[":minimal","/opt"],"write":[":cwd"]}}}"#,
            r#""unsandboxed""#,
        ));
        assert!(
            m.contains("unsandboxed") && m.contains(":minimal, /opt"),
            "{m}"
        );
    }

    #[test]
    fn permissions_that_amount_to_no_sandbox_are_refused() {
        let d = dir();
        for exact in [
            r#"{"type":"danger-full-access"}"#,
            r#"{"type":"disabled"}"#,
            r#"{"type":"managed","file_system":{"type":"unrestricted"},"network":"enabled"}"#,
        ] {
            let m = err(&request(
                d.path(),
                "{}",
                &format!(r#"{{"permissions":{{"exact":{exact}}}}}"#),
            ));
            assert!(m.contains("bounded"), "{exact}: {m}");
        }
        // Codex's external sandbox is never none: the read-only base.
        let (p, _, _) = policy_of(&request(
            d.path(),
            "{}",
            r#"{"permissions":{"exact":{"type":"external-sandbox","network_access":"enabled"}}}"#,
        ))
        .unwrap();
        assert!(!p.is_full_access() && p.write.is_empty() && p.network.enabled);
        let m = err(&request(
            d.path(),
            r#"{"sandbox_policy":{"type":"danger-full-access"}}"#,
            r#"{"permissions":{"additional":{}}}"#,
        ));
        assert!(m.contains("bounded"), "{m}");
        // A full-access turn under turn_default is what the turn is.
        let (p, _, _) = policy_of(&request(
            d.path(),
            r#"{"sandbox_policy":{"type":"danger-full-access"}}"#,
            r#""turn_default""#,
        ))
        .unwrap();
        assert!(p.is_full_access());
    }

    #[test]
    fn malformed_requests_name_the_field() {
        let d = dir();
        let cwd = d.path().to_str().unwrap();
        let mut cases: Vec<(String, &str)> = vec![
            (format!(r#"{{"cwd":"{cwd}"}}"#), "missing field `command`"),
            (r#"{"command":["ls"]}"#.into(), "missing field `cwd`"),
            (
                format!(r#"{{"command":[],"cwd":"{cwd}"}}"#),
                "command: is empty",
            ),
            (
                format!(r#"{{"command":"ls","cwd":"{cwd}"}}"#),
                "command: invalid type",
            ),
            (format!(r#"{{"command":[""],"cwd":"{cwd}"}}"#), "command[0]"),
            (
                r#"{"command":["ls"],"cwd":"rel/dir"}"#.into(),
                "cwd: `rel/dir` is not an absolute path",
            ),
            (
                r#"{"command":["ls"],"cwd":"/no/such/dir/x"}"#.into(),
                "cwd /no/such/dir/x",
            ),
            (
                format!(r#"{{"command":["ls"],"cwd":"{cwd}","extra":1}}"#),
                "unknown field `extra`",
            ),
            (
                format!(r#"{{"command":["ls"],"cwd":"{cwd}""#),
                "not valid JSON",
            ),
            ("".into(), "not valid JSON"),
            ("[1]".into(), "escalation request object"),
        ];
        cases.extend(codex_field_cases(cwd));
        cases.extend(turn_and_execution_cases(cwd));
        for (text, needle) in cases {
            let m = err(&text);
            assert!(m.contains(needle), "{text}\n  gave: {m}\n  want: {needle}");
        }
    }

    /// Codex's tool-call fields standing in for `cwd` and `execution`.
    fn codex_field_cases(cwd: &str) -> Vec<(String, &'static str)> {
        vec![
            (
                format!(r#"{{"command":["ls"],"cwd":"{cwd}","workdir":"{cwd}"}}"#),
                "keep one",
            ),
            (
                r#"{"command":["ls"],"workdir":"rel"}"#.into(),
                "workdir: `rel` is not an absolute path",
            ),
            (
                format!(r#"{{"command":["ls"],"cwd":"{cwd}","sandbox_permissions":"escalate"}}"#),
                "sandbox_permissions: unknown variant `escalate`",
            ),
            (
                format!(
                    r#"{{"command":["ls"],"cwd":"{cwd}","sandbox_permissions":"with_additional_permissions"}}"#
                ),
                "needs additional_permissions",
            ),
            (
                format!(
                    r#"{{"command":["ls"],"cwd":"{cwd}","additional_permissions":{{"network":{{"enabled":true}}}}}}"#
                ),
                "without sandbox_permissions",
            ),
            (
                format!(
                    r#"{{"command":["ls"],"cwd":"{cwd}","sandbox_permissions":"use_default","execution":"turn_default"}}"#
                ),
                "keep one",
            ),
            (
                format!(
                    r#"{{"command":["ls"],"cwd":"{cwd}","sandbox_permissions":"with_additional_permissions","additional_permissions":{{"file_system":{{"write":[":cwd"]}}}}}}"#
                ),
                "additional_permissions: file_system.write: `:cwd` is not an absolute path",
            ),
        ]
    }

    /// The turn's fields and the execution's.
    fn turn_and_execution_cases(cwd: &str) -> Vec<(String, &'static str)> {
        vec![
            (
                format!(r#"{{"command":["ls"],"cwd":"{cwd}","turn":{{"sandbox":1}}}}"#),
                "turn: unknown field `sandbox`",
            ),
            (
                format!(r#"{{"command":["ls"],"cwd":"{cwd}","turn":{{"cwd":"rel"}}}}"#),
                "turn.cwd: `rel` is not an absolute path",
            ),
            (
                format!(r#"{{"command":["ls"],"cwd":"{cwd}","turn":{{"cwd":7}}}}"#),
                "turn.cwd: invalid type",
            ),
            (
                format!(r#"{{"command":["ls"],"cwd":"{cwd}","turn":{{"cwd":"/no/such/dir/x"}}}}"#),
                "turn.cwd /no/such/dir/x",
            ),
            (
                format!(
                    r#"{{"command":["ls"],"cwd":"{cwd}","turn":{{"sandbox_policy":{{"type":"nope"}}}}}}"#
                ),
                "turn.sandbox_policy",
            ),
            (
                format!(r#"{{"command":["ls"],"cwd":"{cwd}","turn":{{"macos":{{"prefs":1}}}}}}"#),
                "turn: macos: unknown field `prefs`",
            ),
            (
                format!(
                    r#"{{"command":["ls"],"cwd":"{cwd}","turn":{{"sandbox_policy":{{"macos":{{}}}},"macos":{{}}}}}}"#
                ),
                "keep one",
            ),
            (
                format!(r#"{{"command":["ls"],"cwd":"{cwd}","execution":"sandboxed"}}"#),
                "execution: unknown variant `sandboxed`",
            ),
            (
                format!(
                    r#"{{"command":["ls"],"cwd":"{cwd}","execution":{{"permissions":{{"extra":{{}}}}}}}}"#
                ),
                "execution: unknown variant `extra`",
            ),
            (
                format!(
                    r#"{{"command":["ls"],"cwd":"{cwd}","execution":{{"permissions":{{"additional":{{}},"exact":{{}}}}}}}}"#
                ),
                "exactly one of `additional` or `exact`",
            ),
            (
                format!(r#"{{"command":["ls"],"cwd":"{cwd}","execution":{{"permissions":{{}}}}}}"#),
                "exactly one of",
            ),
            (
                format!(
                    r#"{{"command":["ls"],"cwd":"{cwd}","execution":{{"permissions":{{"additional":{{"file_sytem":{{}}}}}}}}}}"#
                ),
                "execution.permissions.additional: invalid policy JSON: unknown field `file_sytem`",
            ),
            (
                format!(
                    r#"{{"command":["ls"],"cwd":"{cwd}","execution":{{"permissions":{{"exact":{{"type":"read-only","network":true}}}}}}}}"#
                ),
                "execution.permissions.exact",
            ),
            (
                format!(
                    r#"{{"command":["ls"],"cwd":"{cwd}","execution":{{"permissions":{{"additional":{{"file_system":{{"write":[":bogus"]}}}}}}}}}}"#
                ),
                ":bogus",
            ),
        ]
    }

    #[test]
    fn codex_tool_call_fields_map_onto_the_executions() {
        let d = dir();
        let cwd = d.path().to_str().unwrap();
        let with = |extra: &str| {
            policy_of(&format!(
                r#"{{"command":["ls"],"workdir":"{cwd}","timeout_ms":1000,"justification":"why","prefix_rule":["ls"]{extra}}}"#
            ))
            .unwrap()
        };
        let (_, at, kind) = with("");
        assert_eq!((at.as_path(), kind), (d.path(), ExecutionKind::TurnDefault));
        assert_eq!(
            with(r#","sandbox_permissions":"use_default""#).2,
            ExecutionKind::TurnDefault
        );
        let (p, _, kind) = with(r#","sandbox_permissions":"require_escalated""#);
        assert_eq!(kind, ExecutionKind::Unsandboxed);
        assert!(p.is_full_access());
        let (p, _, kind) = with(&format!(
            r#","sandbox_permissions":"with_additional_permissions","additional_permissions":{{"file_system":{{"write":["{cwd}"]}},"network":{{"enabled":true}},"macos":{{"macos_calendar":true}}}}"#
        ));
        assert_eq!(kind, ExecutionKind::Additional);
        assert!(p.network.enabled && p.macos.calendar);
        assert!(p.writes(&PathSpec::Path(d.path().into())));
        // require_escalated keeps the turn's read restriction in force.
        let m = err(&format!(
            r#"{{"command":["ls"],"workdir":"{cwd}","turn":{{"sandbox_policy":{{"type":"read-only","access":{{"type":"restricted"}}}}}},"sandbox_permissions":"require_escalated"}}"#
        ));
        assert!(m.contains("unsandboxed"), "{m}");
    }

    #[test]
    fn turn_cwd_is_the_policys_cwd_and_the_command_runs_in_its_own() {
        let (ws, run) = (dir(), dir());
        let (ws_s, run_s) = (ws.path().to_str().unwrap(), run.path().to_str().unwrap());
        let text = format!(r#"{{"command":["ls"],"workdir":"{run_s}","turn":{{"cwd":"{ws_s}"}}}}"#);
        let req = parse_request(&text, "request t.json").unwrap();
        assert_eq!((req.cwd.as_path(), req.cwd_field), (run.path(), "workdir"));
        assert_eq!(req.turn_cwd.as_deref(), Some(ws.path()));
        assert_eq!(policy_of(&text).unwrap().1, ws.path());
        // No cwd or workdir: the command runs in turn.cwd.
        let text = format!(r#"{{"command":["ls"],"turn":{{"cwd":"{ws_s}"}}}}"#);
        let req = parse_request(&text, "request t.json").unwrap();
        assert_eq!((req.cwd.as_path(), req.cwd_field), (ws.path(), "turn.cwd"));
    }

    /// The source's name reaches only error messages; that the plans are
    /// equal too is `tests/codex.rs`'s (policy does not reach up to plan).
    #[test]
    fn same_request_gives_equal_policy_wherever_it_was_read_from() {
        let d = dir();
        let text = request(
            d.path(),
            TURN_MACOS,
            r#"{"permissions":{"additional":{"file_system":{"write":[":tmpdir"],"read":["~/x"]},"network":{"enabled":true}}}}"#,
        );
        let a = request_policy(&parse_request(&text, "request a.json").unwrap()).unwrap();
        let b = request_policy(&parse_request(&text, "request (stdin)").unwrap()).unwrap();
        assert_eq!(a, b);
    }
}
