//! Shared by the integration tests: run the built `cordon` and `cordon-probe`
//! as root and as an unprivileged user, in throw-away workspaces, and read
//! the probe's one-line JSON verdict.
#![allow(dead_code)]

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

pub const NOBODY: u32 = 65534;

/// Who runs the command under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum User {
    Root,
    Nobody,
}

impl User {
    pub fn uid(self) -> u32 {
        match self {
            User::Root => 0,
            User::Nobody => NOBODY,
        }
    }
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Root and an unprivileged user when we are root (root hides bugs, so both
/// run); as an ordinary user, the tests run as that user only.
pub fn users() -> Vec<User> {
    if is_root() {
        vec![User::Root, User::Nobody]
    } else {
        eprintln!("note: not root, so the root half of this test is skipped");
        vec![User::Nobody]
    }
}

/// The binaries, where an unprivileged user can run them: in place when
/// every directory above them is world-searchable, else copies in a
/// world-readable temp dir.
struct Bins {
    _dir: Option<tempfile::TempDir>,
    cordon: PathBuf,
    probe: PathBuf,
}

/// Others may run `path`: it and every directory above it allow them.
pub fn world_runnable(path: &Path) -> bool {
    let mode = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| m.permissions().mode())
            .unwrap_or(0)
    };
    mode(path) & 0o005 == 0o005 && path.ancestors().skip(1).all(|d| mode(d) & 0o001 != 0)
}

fn bins() -> &'static Bins {
    static BINS: OnceLock<Bins> = OnceLock::new();
    BINS.get_or_init(|| {
        let (cordon, probe) = (
            Path::new(env!("CARGO_BIN_EXE_cordon")),
            Path::new(env!("CARGO_BIN_EXE_cordon-probe")),
        );
        if world_runnable(cordon) && world_runnable(probe) {
            return Bins {
                _dir: None,
                cordon: cordon.to_path_buf(),
                probe: probe.to_path_buf(),
            };
        }
        let dir = tempfile::Builder::new()
            .prefix("cordon-bins-")
            .tempdir()
            .expect("tempdir");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let copy = |src: &Path, name: &str| {
            let dst = dir.path().join(name);
            std::fs::copy(src, &dst).expect("copy binary");
            std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(0o755)).unwrap();
            dst
        };
        let cordon = copy(cordon, "cordon");
        let probe = copy(probe, "cordon-probe");
        // A child another test thread forked during the copy holds the write
        // fd until its exec (microseconds); executing the copy meanwhile
        // fails with ETXTBSY. Let those execs happen first.
        std::thread::sleep(std::time::Duration::from_millis(100));
        Bins {
            _dir: Some(dir),
            cordon,
            probe,
        }
    })
}

/// A copy of `path` anyone can run (the build directory may not be
/// searchable by the unprivileged user), made once per path.
pub fn copy_for_others(path: &Path) -> PathBuf {
    if world_runnable(path) {
        return path.to_path_buf();
    }
    let dir = bins().cordon.parent().unwrap();
    let dst = dir.join(path.file_name().unwrap());
    if !dst.exists() {
        std::fs::copy(path, &dst).expect("copy binary");
        std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    dst
}

pub fn cordon_bin() -> &'static Path {
    &bins().cordon
}

pub fn probe_bin() -> &'static Path {
    &bins().probe
}

/// A temporary directory owned by `user` with `work/` (the cwd: the
/// workspace), `tmp/` (TMPDIR), `home/` (HOME) and `outside/` (writable by the
/// user, but in no writable root of any profile), side by side.
pub struct Ws {
    dir: tempfile::TempDir,
    pub user: User,
}

impl Ws {
    pub fn new(user: User) -> Ws {
        let dir = tempfile::Builder::new()
            .prefix("cordon-ws-")
            .tempdir_in(scratch_root())
            .expect("tempdir");
        let ws = Ws { dir, user };
        std::fs::set_permissions(ws.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        for d in ["work", "tmp", "home", "outside"] {
            ws.mkdir(d);
        }
        ws
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The workspace: commands run here.
    pub fn work(&self) -> PathBuf {
        self.join("work")
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.path().join(rel)
    }

    pub fn s(&self, rel: &str) -> String {
        self.join(rel).to_str().unwrap().to_string()
    }

    /// Creates a directory owned by the workspace's user.
    pub fn mkdir(&self, rel: &str) -> PathBuf {
        let p = self.join(rel);
        std::fs::create_dir_all(&p).unwrap();
        self.chown_tree(&p);
        p
    }

    /// Writes a file owned by the workspace's user.
    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, text).unwrap();
        // The file and the directories made for it, not the whole
        // workspace: the sentinel of an earlier run may be removing its
        // placeholders there right now.
        for a in p.ancestors().take_while(|a| *a != self.path()) {
            self.chown(a);
        }
        p
    }

    /// Gives `p` (not recursively) to the workspace's user.
    pub fn chown(&self, p: &Path) {
        if self.user == User::Nobody && is_root() {
            std::os::unix::fs::lchown(p, Some(NOBODY), Some(NOBODY)).unwrap();
        }
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.join(rel)).unwrap_or_default()
    }

    /// Gives `p` (recursively) to the workspace's user.
    pub fn chown_tree(&self, p: &Path) {
        if self.user == User::Nobody && is_root() {
            let status = Command::new("chown")
                .args(["-R", &format!("{NOBODY}:{NOBODY}")])
                .arg(p)
                .status()
                .unwrap();
            assert!(status.success());
        }
    }

    /// The environment every test command gets: nothing inherited.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            (
                "PATH".into(),
                "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin".into(),
            ),
            ("HOME".into(), self.s("home")),
            ("TMPDIR".into(), self.s("tmp")),
            ("LANG".into(), "C".into()),
        ]
    }
}

/// The errno of a write outside every writable root, in a workspace with no
/// protected path to pin. As root cordon always makes the rest of the
/// filesystem read-only in a private mount namespace (Landlock does not stop
/// root's chmod or chown), and the kernel checks the read-only mount before
/// Landlock: EROFS. Otherwise Landlock denies it: EACCES, unless this host
/// has a daemon socket to mask, which takes the namespace too.
pub fn denied_write(user: User) -> &'static str {
    match user {
        User::Root => "EROFS",
        User::Nobody if nobody_gets_a_namespace() => "EROFS",
        User::Nobody => "EACCES",
    }
}

/// Whether an unprivileged caller with nothing to pin still gets the mount
/// namespace here (a host daemon socket it could reach is masked): asked of
/// `--dry-run` once.
pub fn nobody_gets_a_namespace() -> bool {
    static ANSWER: OnceLock<bool> = OnceLock::new();
    *ANSWER.get_or_init(|| {
        let ws = Ws::new(User::Nobody);
        let out = cordon(&ws, &["run", "--dry-run", "--", "true"]);
        assert_eq!(out.status, 0, "{out:?}");
        !out.stdout.contains("mounts: none")
    })
}

/// Where workspaces live: not under /tmp, which the default profile makes
/// writable and would hide denials. `CORDON_TEST_SCRATCH` overrides.
pub fn scratch_root() -> PathBuf {
    let root = std::env::var_os("CORDON_TEST_SCRATCH")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/cordon-tests"));
    std::fs::create_dir_all(&root).unwrap();
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
    root
}

/// Waits (up to 5 s) until the sentinel of the runs before has removed
/// the placeholders they made in the workspace's `work/`, `tmp/` and
/// `home/`: it does so a second after their sandbox is empty (the grace in
/// which the next run would take them over). Each directory is removed in
/// turn, so a wait that skipped `home/` raced its removal on a slow host.
pub fn wait_for_placeholders(ws: &Ws) {
    let is_placeholder = |p: &Path| {
        std::fs::symlink_metadata(p)
            .is_ok_and(|m| m.permissions().mode() & 0o7777 == 0o444 && (m.is_dir() || m.len() == 0))
    };
    let left = || -> Vec<PathBuf> {
        ["work", "tmp", "home"]
            .iter()
            .flat_map(|d| {
                std::fs::read_dir(ws.join(d))
                    .into_iter()
                    .flatten()
                    .flatten()
            })
            .map(|e| e.path())
            .filter(|p| is_placeholder(p))
            .collect()
    };
    for _ in 0..500 {
        if left().is_empty() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("placeholders left: {:?}", left());
}

/// What a command did.
#[derive(Debug)]
pub struct Outcome {
    /// Exit status, or 128+N after death by signal N (as a shell reports it).
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// The probe's JSON line (the last non-empty stdout line).
    pub fn json(&self) -> serde_json::Value {
        let line = self.stdout.lines().rev().find(|l| !l.trim().is_empty());
        line.and_then(|l| serde_json::from_str(l).ok())
            .unwrap_or_else(|| panic!("no probe JSON in output: {self:?}"))
    }

    pub fn errno(&self) -> Option<String> {
        self.json()["error"].as_str().map(String::from)
    }

    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        let j = self.json();
        assert_eq!(j["ok"], true, "expected success: {self:?}");
        assert_eq!(self.status, 0, "{self:?}");
        self
    }

    #[track_caller]
    pub fn assert_errno(&self, errno: &str) -> &Self {
        let j = self.json();
        assert_eq!(j["ok"], false, "expected {errno}: {self:?}");
        assert_eq!(j["error"].as_str(), Some(errno), "{self:?}");
        self
    }

    #[track_caller]
    pub fn assert_errno_in(&self, errnos: &[&str]) -> &Self {
        let j = self.json();
        assert_eq!(j["ok"], false, "expected one of {errnos:?}: {self:?}");
        let e = j["error"].as_str().unwrap_or("");
        assert!(errnos.contains(&e), "expected one of {errnos:?}: {self:?}");
        self
    }

    /// A cordon failure: exit 125 and exactly one `cordon: ` line naming `needle`.
    #[track_caller]
    pub fn assert_refused(&self, needle: &str) -> &Self {
        assert_eq!(self.status, 125, "{self:?}");
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "want one stderr line: {self:?}");
        assert!(lines[0].starts_with("cordon: "), "{self:?}");
        assert!(
            lines[0].contains(needle),
            "stderr should name {needle:?}: {self:?}"
        );
        self
    }
}

/// Runs `argv` as `user` in `cwd` with exactly `env`.
pub fn run_as(user: User, cwd: &Path, env: &[(String, String)], argv: &[&str]) -> Outcome {
    let env: Vec<(OsString, OsString)> = env.iter().map(|(k, v)| (k.into(), v.into())).collect();
    let argv: Vec<OsString> = argv.iter().map(OsString::from).collect();
    run_as_os(user, cwd, &env, &argv)
}

/// [`run_as`] with arguments and environment that need not be UTF-8.
/// `argv` as `user` (through setpriv for the unprivileged user, when we are
/// root) in `cwd`, with exactly `env`; not yet spawned.
pub fn command_as<S, K, V>(user: User, cwd: &Path, env: &[(K, V)], argv: &[S]) -> Command
where
    S: AsRef<std::ffi::OsStr>,
    K: AsRef<std::ffi::OsStr>,
    V: AsRef<std::ffi::OsStr>,
{
    let mut cmd = if user == User::Nobody && is_root() {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]);
        c.args(argv);
        c
    } else {
        let mut c = Command::new(&argv[0]);
        c.args(&argv[1..]);
        c
    };
    cmd.current_dir(cwd)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)));
    cmd
}

/// A probe run as the workspace's user outside any sandbox (a listener, or
/// a victim an attack goes after), once it has announced itself with its
/// first JSON line. Killed on drop.
pub struct Background {
    pub child: std::process::Child,
    pub pid: String,
    /// The announcement (`{"ok":true,"port":...,"pid":...}`).
    pub line: serde_json::Value,
}

impl Background {
    pub fn start(ws: &Ws, cwd: &Path, extra_env: &[(&str, &str)], op: &[&str]) -> Background {
        use std::io::{BufRead, BufReader};
        let mut env = ws.env();
        env.extend(
            extra_env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        let mut argv = vec![probe_bin().to_str().unwrap()];
        argv.extend_from_slice(op);
        let mut child = command_as(ws.user, cwd, &env, &argv)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id().to_string();
        // The announcement also means setpriv has switched users and exec'd:
        // before it, a signal from the user would get EPERM.
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let line: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("probe {op:?}: {e}: {line:?}"));
        assert_eq!(line["ok"], true, "probe {op:?}: {line}");
        Background { child, pid, line }
    }

    pub fn port(&self) -> String {
        self.line["port"].to_string()
    }

    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `cordon-probe sleep 30` in `outside/`, with `extra_env`: a process of the
/// same user that an attack goes after.
pub fn victim(ws: &Ws, extra_env: &[(&str, &str)]) -> Background {
    Background::start(ws, &ws.join("outside"), extra_env, &["sleep", "30"])
}

/// A probe listener (`listen-tcp HOST 0 30`, ...) in the workspace.
pub fn listener(ws: &Ws, op: &[&str]) -> Background {
    Background::start(ws, &ws.work(), &[], op)
}

/// `cordon run FLAGS -- sh -c SCRIPT`, with `$P` the probe.
pub fn sandboxed_sh(ws: &Ws, flags: &[&str], script: &str) -> Outcome {
    let mut args = vec!["run"];
    args.extend_from_slice(flags);
    let script = format!("P={}; {script}", probe_bin().display());
    args.extend(["--", "sh", "-c", &script]);
    cordon(ws, &args)
}

pub fn run_as_os(
    user: User,
    cwd: &Path,
    env: &[(OsString, OsString)],
    argv: &[OsString],
) -> Outcome {
    let mut cmd = command_as(user, cwd, env, argv);
    cmd.stdin(Stdio::null());
    // ETXTBSY: a test thread forked while another was still writing the
    // binaries' copies, and that child holds the write fd until its exec.
    // It passes in microseconds; retry rather than fail.
    let mut tries = 0;
    let out = loop {
        match cmd.output() {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && tries < 100 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            other => break other.expect("spawn"),
        }
    };
    use std::os::unix::process::ExitStatusExt;
    let status = out
        .status
        .code()
        .unwrap_or_else(|| 128 + out.status.signal().unwrap_or(0));
    Outcome {
        status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `cordon ARGS...` as the workspace's user, in the workspace.
pub fn cordon(ws: &Ws, args: &[&str]) -> Outcome {
    let mut argv = vec![cordon_bin().to_str().unwrap()];
    argv.extend_from_slice(args);
    run_as(ws.user, &ws.work(), &ws.env(), &argv)
}

/// The probe without a sandbox: the control run.
pub fn control(ws: &Ws, op: &[&str]) -> Outcome {
    let mut argv = vec![probe_bin().to_str().unwrap()];
    argv.extend_from_slice(op);
    run_as(ws.user, &ws.work(), &ws.env(), &argv)
}

/// The probe under `cordon run FLAGS... -- cordon-probe OP...`.
pub fn sandboxed(ws: &Ws, flags: &[&str], op: &[&str]) -> Outcome {
    let mut argv = vec![cordon_bin().to_str().unwrap(), "run"];
    argv.extend_from_slice(flags);
    argv.push("--");
    argv.push(probe_bin().to_str().unwrap());
    argv.extend_from_slice(op);
    run_as(ws.user, &ws.work(), &ws.env(), &argv)
}

/// The golden files a test compares, all of them before it fails: one
/// helper for every golden comparison. `check` compares `actual` with
/// `tests/golden/REL`, or, with `CORDON_BLESS=1`, rewrites the file;
/// `assert_all` then fails with every difference at once.
#[derive(Default)]
pub struct Goldens {
    diffs: Vec<String>,
}

impl Goldens {
    pub fn check(&mut self, rel: &str, actual: &str) {
        self.diffs.extend(golden_diff(rel, actual));
    }

    #[track_caller]
    pub fn assert_all(self) {
        assert!(self.diffs.is_empty(), "{}", self.diffs.join("\n"));
    }
}

/// One golden file, compared at once (see [`Goldens`]).
#[track_caller]
pub fn golden(rel: &str, actual: &str) {
    let mut g = Goldens::default();
    g.check(rel, actual);
    g.assert_all();
}

/// The comparison behind [`Goldens`]: `None` when `actual` is the golden
/// (or was just blessed into it), else the difference to report.
fn golden_diff(rel: &str, actual: &str) -> Option<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(rel);
    if std::env::var_os("CORDON_BLESS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return None;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with CORDON_BLESS=1 to create it",
            path.display()
        )
    });
    if want == actual {
        return None;
    }
    let line = want
        .lines()
        .zip(actual.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| want.lines().count().min(actual.lines().count()));
    Some(format!(
        "{} differs at line {}:\n  golden:    {:?}\n  generated: {:?}\n\
         review the change, then rerun with CORDON_BLESS=1\n--- generated ---\n{actual}",
        path.display(),
        line + 1,
        want.lines().nth(line),
        actual.lines().nth(line)
    ))
}

/// A `--dry-run` or `explain` text as the goldens hold it: the workspace
/// as `$WS`, and without what differs from host to host (daemon sockets
/// masked when present; the stores in root's own home, which `:secrets`
/// covers too).
pub fn golden_text(ws: &Ws, stdout: &str) -> String {
    stdout
        .replace(ws.path().to_str().unwrap(), "$WS")
        .lines()
        .filter(|l| {
            !l.contains("daemon socket") && !l.contains("/root/.") && !l.starts_with("deny: ")
        })
        .map(|l| format!("{}\n", unnumbered_deny_param(l)))
        .collect()
}

/// `;; -DD7=PATH` as `;; -DD#=PATH`: Seatbelt's deny parameters are
/// numbered in path order, so the stores in root's own home (left out
/// above) shift the numbers of the rest.
fn unnumbered_deny_param(line: &str) -> String {
    match line
        .strip_prefix(";; -DD")
        .and_then(|rest| rest.split_once('='))
    {
        Some((n, path)) if n.bytes().all(|b| b.is_ascii_digit()) => format!(";; -DD#={path}"),
        _ => line.to_string(),
    }
}

/// An escalation request (docs/rerun.md) that runs the probe with `op` in
/// the workspace, under a `workspace-write` turn.
pub fn probe_request(ws: &Ws, execution: serde_json::Value, op: &[&str]) -> serde_json::Value {
    let mut command = vec![probe_bin().to_str().unwrap()];
    command.extend_from_slice(op);
    serde_json::json!({
        "command": command,
        "cwd": ws.s("work"),
        "turn": {"sandbox_policy": {"type": "workspace-write"}},
        "execution": execution,
    })
}

/// The identity every test's git commits with (`git -c ...`).
pub const GIT_ID: [&str; 4] = [
    "-c",
    "user.name=cordon",
    "-c",
    "user.email=cordon@example.invalid",
];

/// `git ARGS` as the workspace's user in `dir`, with a fixed identity (and
/// file-protocol submodules allowed); asserts that git succeeded.
pub fn git(ws: &Ws, dir: &Path, args: &[&str]) -> Outcome {
    let mut argv = vec!["git"];
    argv.extend(GIT_ID);
    argv.extend([
        "-c",
        "init.defaultBranch=main",
        "-c",
        "protocol.file.allow=always",
    ]);
    argv.extend_from_slice(args);
    let out = run_as(ws.user, dir, &ws.env(), &argv);
    assert_eq!(out.status, 0, "git {args:?}: {out:?}");
    out
}
