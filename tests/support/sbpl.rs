#![allow(dead_code)]
//! A checker and evaluator for the Seatbelt profile language (SBPL), written
//! for cordon's tests. Nobody on the project has a Mac, so the profiles cordon
//! generates for `/usr/bin/sandbox-exec -p PROFILE -DKEY=VALUE...` are checked
//! here instead: [`lint`] rejects anything that is not the small, self-contained
//! dialect cordon emits, and [`allows`] answers "would this profile let
//! operation `op` touch path `p`?".
//!
//! Standard library only. Included by integration tests with
//! `#[path = "support/sbpl.rs"] mod sbpl;`.
//!
//! # Syntax accepted by [`parse`]
//!
//! * Lists `( ... )`, symbols (`allow`, `file-write*`, `#t`, `#f`), integers.
//! * Strings `"..."` with the escapes `\"`, `\\`, `\n`, `\t`, `\r`, `\xHH`
//!   (exactly two hex digits) and `\NNN` (one to three octal digits). Any
//!   other escape is a parse error: TinyScheme, on which SBPL is built,
//!   silently turns `\q` into `q`, which is never what a generator meant.
//!   Raw newlines inside a string are accepted by the parser (as in SBPL) and
//!   reported by [`lint`] as control characters.
//! * Raw strings `#"..."`, the SBPL form for regular expressions. No escape is
//!   processed: every character is kept verbatim. A backslash always takes the
//!   character after it along with it, so `\"` does not end the string and
//!   `\\` is a pair; the string ends at the first `"` that is not the second
//!   character of such a pair. `#"a\"b"` is the five characters `a\"b`,
//!   which as a regex matches `a"b`.
//! * Line comments `;` to the end of the line, and block comments `#| ... |#`,
//!   which nest as in R7RS Scheme.
//! * Quote syntax (`'`, `` ` ``, `,`) is rejected: cordon's profiles never
//!   need it.
//!
//! Parse errors carry a 1-based line and column (columns count characters).
//!
//! # Evaluation model of [`allows`]
//!
//! Rules are walked in order starting from "deny"; the last rule whose
//! operation covers the queried operation and whose filters match decides
//! (SBPL's last-match-wins). See [`op_covers`] and [`Filter`] for details.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

// ===========================================================================
// Reviewed vocabularies
// ===========================================================================

/// Operations that may appear in `(allow OP... )` / `(deny OP...)`.
///
/// Reviewed against Apple's profiles in /System/Library/Sandbox/Profiles and
/// the Chromium and Codex Seatbelt policies. A name ending in `*` covers every
/// operation whose name starts with the part before the `*`.
pub const KNOWN_OPERATIONS: &[&str] = &[
    "default",
    // Files.
    "file*",
    "file-chroot",
    "file-clone",
    "file-ioctl",
    "file-issue-extension",
    "file-link",
    "file-map-executable",
    "file-mknod",
    "file-mount",
    "file-mount-update",
    "file-read*",
    "file-read-data",
    "file-read-metadata",
    "file-read-xattr",
    "file-revoke",
    "file-search",
    "file-test-existence",
    "file-unmount",
    "file-write*",
    "file-write-acl",
    "file-write-create",
    "file-write-data",
    "file-write-flags",
    "file-write-mode",
    "file-write-owner",
    "file-write-setugid",
    "file-write-times",
    "file-write-unlink",
    "file-write-xattr",
    // IOKit.
    "iokit*",
    "iokit-get-properties",
    "iokit-open",
    "iokit-open-service",
    "iokit-open-user-client",
    "iokit-set-properties",
    // IPC. `ipc-posix-sem` and `ipc-posix-shm` are the older family names,
    // still accepted by sandbox-exec.
    "ipc*",
    "ipc-posix*",
    "ipc-posix-issue-extension",
    "ipc-posix-sem",
    "ipc-posix-sem*",
    "ipc-posix-sem-create",
    "ipc-posix-sem-open",
    "ipc-posix-sem-post",
    "ipc-posix-sem-unlink",
    "ipc-posix-sem-wait",
    "ipc-posix-shm",
    "ipc-posix-shm*",
    "ipc-posix-shm-read*",
    "ipc-posix-shm-read-data",
    "ipc-posix-shm-read-metadata",
    "ipc-posix-shm-write*",
    "ipc-posix-shm-write-create",
    "ipc-posix-shm-write-data",
    "ipc-posix-shm-write-unlink",
    "ipc-sysv*",
    "ipc-sysv-msg",
    "ipc-sysv-sem",
    "ipc-sysv-shm",
    // Mach.
    "mach*",
    "mach-bootstrap",
    "mach-host*",
    "mach-lookup",
    "mach-per-user-lookup",
    "mach-priv*",
    "mach-priv-host-port",
    "mach-priv-task-port",
    "mach-register",
    "mach-task-name",
    // Network.
    "network*",
    "network-bind",
    "network-inbound",
    "network-outbound",
    // Processes.
    "process*",
    "process-exec",
    "process-exec*",
    "process-exec-interpreter",
    "process-fork",
    "process-info*",
    "process-info-codesignature",
    "process-info-dirtycontrol",
    "process-info-listpids",
    "process-info-pidinfo",
    "process-info-pidfdinfo",
    "process-info-pidfileportinfo",
    "process-info-rusage",
    "process-info-setcontrol",
    "signal",
    // sysctl.
    "sysctl*",
    "sysctl-read",
    "sysctl-write",
    // System.
    "system*",
    "system-acct",
    "system-audit",
    "system-fsctl",
    "system-info",
    "system-mac-syscall",
    "system-privilege",
    "system-sched",
    "system-socket",
    "system-swap",
    // Terminals, preferences, Apple events, miscellany.
    "pseudo-tty",
    "user-preference*",
    "user-preference-read",
    "user-preference-write",
    "appleevent-send",
    "lsopen",
    "job-creation",
    "darwin-notification-post",
    "distributed-notification-post",
    "nvram*",
    "nvram-delete",
    "nvram-get",
    "nvram-set",
];

/// Filters that may appear inside a rule (or inside `require-*`).
pub const KNOWN_FILTERS: &[&str] = &[
    // Path filters: evaluated by `allows`.
    "literal",
    "path",
    "subpath",
    "prefix",
    "regex",
    // Combinators.
    "require-all",
    "require-any",
    "require-not",
    // Non-path filters: never match a file path.
    "target",
    "global-name",
    "global-name-regex",
    "local-name",
    "local-name-regex",
    "remote",
    "local",
    "sysctl-name",
    "sysctl-name-prefix",
    "sysctl-name-regex",
    "preference-domain",
    "appleevent-destination",
    "ipc-posix-name",
    "ipc-posix-name-prefix",
    "ipc-posix-name-regex",
    "iokit-user-client-class",
    "iokit-registry-entry-class",
    "ioctl-command",
    "xattr",
    // Evaluated as "this process holds no sandbox extension": never matches.
    "extension",
    // Depends on the file's type, which a path alone does not tell:
    // `allows` panics if it has to evaluate it.
    "vnode-type",
];

/// String-valued expressions usable wherever a filter takes a string.
pub const KNOWN_STRING_EXPRESSIONS: &[&str] = &["param", "string-append"];

/// Rule modifiers, written `(with NAME ...)`. `no-sandbox` (exec a child
/// outside the sandbox) is deliberately absent.
pub const KNOWN_MODIFIERS: &[&str] = &["report", "no-report", "send-signal", "message"];

/// Values accepted by `(target ...)`.
pub const KNOWN_TARGETS: &[&str] = &["self", "pgrp", "others", "children", "same-sandbox"];

/// Values accepted by `(vnode-type ...)`.
pub const KNOWN_VNODE_TYPES: &[&str] = &[
    "REGULAR-FILE",
    "DIRECTORY",
    "SYMLINK",
    "CHARACTER-DEVICE",
    "BLOCK-DEVICE",
    "FIFO",
    "SOCKET",
    "TTY",
];

/// Address families accepted as the first argument of `(remote ...)` and
/// `(local ...)`.
pub const KNOWN_NETWORK_PROTOCOLS: &[&str] = &[
    "ip",
    "ip4",
    "ip6",
    "tcp",
    "tcp4",
    "tcp6",
    "udp",
    "udp4",
    "udp6",
    "unix",
    "unix-socket",
];

/// Longest string literal (in UTF-8 bytes) that [`lint`] accepts; also
/// applied to `-D` values, which are substituted into filters as literals.
pub const MAX_STRING_BYTES: usize = 900;

// ===========================================================================
// Syntax tree and parser
// ===========================================================================

/// A 1-based source position (column counts characters, not bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.col)
    }
}

/// One parsed s-expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Sexp {
    List(Vec<Sexp>, Pos),
    Symbol(String, Pos),
    Number(i64, Pos),
    /// A `"..."` string, escapes already processed.
    Str(String, Pos),
    /// A `#"..."` raw string, verbatim.
    RawStr(String, Pos),
}

impl Sexp {
    pub fn pos(&self) -> Pos {
        match self {
            Sexp::List(_, p)
            | Sexp::Symbol(_, p)
            | Sexp::Number(_, p)
            | Sexp::Str(_, p)
            | Sexp::RawStr(_, p) => *p,
        }
    }

    pub fn as_symbol(&self) -> Option<&str> {
        match self {
            Sexp::Symbol(s, _) => Some(s),
            _ => None,
        }
    }

    /// The contents of a string or raw string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Sexp::Str(s, _) | Sexp::RawStr(s, _) => Some(s),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Sexp]> {
        match self {
            Sexp::List(items, _) => Some(items),
            _ => None,
        }
    }

    /// For a list whose first element is a symbol: that symbol.
    pub fn head(&self) -> Option<&str> {
        self.as_list()?.first()?.as_symbol()
    }
}

/// A syntax error with its position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.col, self.message
        )
    }
}

impl std::error::Error for ParseError {}

struct Parser {
    chars: Vec<char>,
    i: usize,
    line: usize,
    col: usize,
}

impl Parser {
    fn new(src: &str) -> Self {
        Parser {
            chars: src.chars().collect(),
            i: 0,
            line: 1,
            col: 1,
        }
    }

    fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            col: self.col,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    fn peek_at(&self, off: usize) -> Option<char> {
        self.chars.get(self.i + off).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.get(self.i).copied()?;
        self.i += 1;
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn err<T>(pos: Pos, message: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError {
            line: pos.line,
            col: pos.col,
            message: message.into(),
        })
    }

    /// Skips whitespace and comments.
    fn skip_trivia(&mut self) -> Result<(), ParseError> {
        loop {
            match self.peek() {
                Some(c) if c.is_whitespace() => {
                    self.bump();
                }
                Some(';') => {
                    while let Some(c) = self.peek() {
                        if c == '\n' {
                            break;
                        }
                        self.bump();
                    }
                }
                Some('#') if self.peek_at(1) == Some('|') => {
                    let start = self.pos();
                    self.bump();
                    self.bump();
                    let mut depth = 1usize;
                    while depth > 0 {
                        match (self.peek(), self.peek_at(1)) {
                            (None, _) => {
                                return Self::err(start, "unterminated block comment `#|`");
                            }
                            (Some('|'), Some('#')) => {
                                self.bump();
                                self.bump();
                                depth -= 1;
                            }
                            (Some('#'), Some('|')) => {
                                self.bump();
                                self.bump();
                                depth += 1;
                            }
                            _ => {
                                self.bump();
                            }
                        }
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn parse_all(&mut self) -> Result<Vec<Sexp>, ParseError> {
        let mut out = Vec::new();
        loop {
            self.skip_trivia()?;
            match self.peek() {
                None => return Ok(out),
                Some(')') => {
                    return Self::err(self.pos(), "unbalanced `)`: no list is open");
                }
                Some(_) => out.push(self.parse_one()?),
            }
        }
    }

    fn parse_one(&mut self) -> Result<Sexp, ParseError> {
        let start = self.pos();
        match self.peek() {
            Some('(') => {
                self.bump();
                let mut items = Vec::new();
                loop {
                    self.skip_trivia()?;
                    match self.peek() {
                        None => {
                            return Self::err(start, "unbalanced `(`: list is never closed");
                        }
                        Some(')') => {
                            self.bump();
                            return Ok(Sexp::List(items, start));
                        }
                        Some(_) => items.push(self.parse_one()?),
                    }
                }
            }
            Some('"') => {
                self.bump();
                self.parse_string(start)
            }
            Some('#') if self.peek_at(1) == Some('"') => {
                self.bump();
                self.bump();
                self.parse_raw_string(start)
            }
            Some(c @ ('\'' | '`' | ',')) => Self::err(
                start,
                format!("quote syntax `{c}` is not supported in cordon profiles"),
            ),
            Some(_) => {
                let mut tok = String::new();
                while let Some(c) = self.peek() {
                    if c.is_whitespace() || matches!(c, '(' | ')' | '"' | ';') {
                        break;
                    }
                    tok.push(c);
                    self.bump();
                }
                let digits = tok.strip_prefix('-').unwrap_or(&tok);
                if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
                    match tok.parse::<i64>() {
                        Ok(n) => Ok(Sexp::Number(n, start)),
                        Err(_) => Self::err(start, format!("number out of range: {tok}")),
                    }
                } else {
                    Ok(Sexp::Symbol(tok, start))
                }
            }
            None => Self::err(start, "unexpected end of input"),
        }
    }

    fn parse_string(&mut self, start: Pos) -> Result<Sexp, ParseError> {
        let mut s = String::new();
        loop {
            let here = self.pos();
            match self.bump() {
                None => return Self::err(start, "unterminated string"),
                Some('"') => return Ok(Sexp::Str(s, start)),
                Some('\\') => match self.bump() {
                    None => return Self::err(start, "unterminated string"),
                    Some('"') => s.push('"'),
                    Some('\\') => s.push('\\'),
                    Some('n') => s.push('\n'),
                    Some('t') => s.push('\t'),
                    Some('r') => s.push('\r'),
                    Some('x') => {
                        let mut v = 0u32;
                        for _ in 0..2 {
                            match self.peek().and_then(|c| c.to_digit(16)) {
                                Some(d) => {
                                    v = v * 16 + d;
                                    self.bump();
                                }
                                None => {
                                    return Self::err(
                                        here,
                                        "`\\x` escape needs exactly two hex digits",
                                    );
                                }
                            }
                        }
                        s.push(char::from_u32(v).expect("two hex digits are a valid char"));
                    }
                    Some(d @ '0'..='7') => {
                        let mut v = d.to_digit(8).unwrap();
                        for _ in 0..2 {
                            match self.peek().and_then(|c| c.to_digit(8)) {
                                Some(d) => {
                                    v = v * 8 + d;
                                    self.bump();
                                }
                                None => break,
                            }
                        }
                        s.push(char::from_u32(v).expect("three octal digits are a valid char"));
                    }
                    Some(c) => {
                        return Self::err(
                            here,
                            format!(
                                "unknown string escape `\\{c}` (SBPL would silently read it as `{c}`)"
                            ),
                        );
                    }
                },
                Some(c) => s.push(c),
            }
        }
    }

    fn parse_raw_string(&mut self, start: Pos) -> Result<Sexp, ParseError> {
        let mut s = String::new();
        loop {
            match self.bump() {
                None => return Self::err(start, "unterminated raw string `#\"`"),
                Some('"') => return Ok(Sexp::RawStr(s, start)),
                Some('\\') => {
                    s.push('\\');
                    match self.bump() {
                        None => return Self::err(start, "unterminated raw string `#\"`"),
                        Some(c) => s.push(c),
                    }
                }
                Some(c) => s.push(c),
            }
        }
    }
}

/// Parses a whole profile into its top-level forms.
pub fn parse(src: &str) -> Result<Vec<Sexp>, ParseError> {
    Parser::new(src).parse_all()
}

/// Quotes `s` as an SBPL string literal (escaping only `"` and `\`).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

// ===========================================================================
// Parameters
// ===========================================================================

/// The `-D KEY=VALUE` definitions passed to sandbox-exec.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params {
    map: BTreeMap<String, String>,
}

impl Params {
    /// Builds the map, rejecting duplicate keys and keys that sandbox-exec
    /// could not receive intact (empty, or containing `=` or NUL) and values
    /// containing NUL (which cannot cross `execve`).
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Params, Vec<String>> {
        let mut map = BTreeMap::new();
        let mut errors = Vec::new();
        for (k, v) in pairs {
            let key_ok = !k.is_empty()
                && k.chars().enumerate().all(|(i, c)| {
                    c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())
                });
            if !key_ok {
                errors.push(format!(
                    "-D {k:?}: parameter names must match [A-Za-z_][A-Za-z0-9_]*"
                ));
            }
            if v.contains('\0') {
                errors.push(format!("-D {k}: value contains a NUL byte"));
            }
            if map.insert(k.clone(), v.clone()).is_some() {
                errors.push(format!("-D {k}: defined more than once"));
            }
        }
        if errors.is_empty() {
            Ok(Params { map })
        } else {
            Err(errors)
        }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.map.get(key).map(String::as_str)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The arguments to give sandbox-exec: `-DKEY=VALUE` for each entry.
    pub fn to_args(&self) -> Vec<String> {
        self.map.iter().map(|(k, v)| format!("-D{k}={v}")).collect()
    }
}

// ===========================================================================
// Checked profile
// ===========================================================================

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Allow,
    Deny,
}

/// A string-valued expression: a literal, `(param "K")`, or
/// `(string-append e...)`.
#[derive(Clone, Debug, PartialEq)]
pub enum StrExpr {
    Lit(String),
    Param(String),
    Append(Vec<StrExpr>),
}

impl StrExpr {
    /// Resolves the expression, or names the missing parameter.
    pub fn resolve(&self, params: &Params) -> Result<String, String> {
        match self {
            StrExpr::Lit(s) => Ok(s.clone()),
            StrExpr::Param(k) => params
                .get(k)
                .map(str::to_owned)
                .ok_or_else(|| format!("parameter {k:?} has no -D definition")),
            StrExpr::Append(parts) => {
                let mut out = String::new();
                for p in parts {
                    out.push_str(&p.resolve(params)?);
                }
                Ok(out)
            }
        }
    }

    fn collect_params<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            StrExpr::Lit(_) => {}
            StrExpr::Param(k) => out.push(k),
            StrExpr::Append(parts) => parts.iter().for_each(|p| p.collect_params(out)),
        }
    }
}

/// A rule filter.
///
/// Path semantics used by [`allows`]:
/// * `literal X` / `path X`: the path equals X.
/// * `subpath X`: the path equals X or starts with `X/` (so `/repo` does not
///   cover `/repo2`); `subpath "/"` covers every absolute path.
/// * `prefix X`: plain string prefix (`/repo` does cover `/repo2`).
/// * `regex R`: R matches somewhere in the path (anchor with `^`/`$`); see
///   [`Regex`] for the supported syntax.
/// * `require-all` / `require-any` / `require-not`: AND / OR / NOT.
/// * `extension`: no sandbox extensions are issued, so never matches.
/// * `vnode-type`: cannot be decided from a path; evaluating it panics.
/// * every other filter (`sysctl-name`, `global-name`, `target`, ...):
///   describes something that is not a file path and never matches one.
#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    Literal(StrExpr),
    Subpath(StrExpr),
    Prefix(StrExpr),
    Regex(StrExpr),
    RequireAll(Vec<Filter>),
    RequireAny(Vec<Filter>),
    RequireNot(Box<Filter>),
    Extension(StrExpr),
    VnodeType(Vec<String>),
    /// A filter on something other than a path, e.g. `sysctl-name`.
    NonPath(String),
}

impl Filter {
    fn collect_params<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Filter::Literal(e)
            | Filter::Subpath(e)
            | Filter::Prefix(e)
            | Filter::Regex(e)
            | Filter::Extension(e) => e.collect_params(out),
            Filter::RequireAll(fs) | Filter::RequireAny(fs) => {
                fs.iter().for_each(|f| f.collect_params(out))
            }
            Filter::RequireNot(f) => f.collect_params(out),
            Filter::VnodeType(_) | Filter::NonPath(_) => {}
        }
    }
}

/// One `(allow ...)` or `(deny ...)` form.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub action: Action,
    pub ops: Vec<String>,
    /// Filters directly inside the rule: the rule applies if ANY matches
    /// (or always, when there are none).
    pub filters: Vec<Filter>,
    /// `(with ...)` modifiers, by name.
    pub modifiers: Vec<String>,
    pub pos: Pos,
}

/// A profile that passed [`lint`].
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    pub forms: Vec<Sexp>,
    pub rules: Vec<Rule>,
    /// Every parameter name referenced by `(param ...)`.
    pub params_used: BTreeSet<String>,
}

impl Profile {
    /// Rules that name `op` exactly (not through a wildcard).
    pub fn rules_naming(&self, op: &str) -> Vec<&Rule> {
        self.rules
            .iter()
            .filter(|r| r.ops.iter().any(|o| o == op))
            .collect()
    }
}

// ===========================================================================
// Lint
// ===========================================================================

struct Linter<'p> {
    params: &'p Params,
    errors: Vec<String>,
    used: BTreeSet<String>,
}

impl Linter<'_> {
    fn error(&mut self, pos: Pos, msg: impl fmt::Display) {
        self.errors.push(format!("{pos}: {msg}"));
    }

    fn check_string(&mut self, s: &str, pos: Pos) {
        if let Some(c) = s.chars().find(|c| c.is_control()) {
            self.error(
                pos,
                format!("string contains control character U+{:04X}", c as u32),
            );
        }
        if s.len() > MAX_STRING_BYTES {
            self.error(
                pos,
                format!(
                    "string is {} bytes long; the limit is {MAX_STRING_BYTES}",
                    s.len()
                ),
            );
        }
    }

    /// Checks every string literal anywhere in the tree.
    fn check_all_strings(&mut self, e: &Sexp) {
        match e {
            Sexp::Str(s, p) | Sexp::RawStr(s, p) => self.check_string(s, *p),
            Sexp::List(items, _) => items.iter().for_each(|i| self.check_all_strings(i)),
            Sexp::Symbol(..) | Sexp::Number(..) => {}
        }
    }

    fn str_expr(&mut self, e: &Sexp) -> Option<StrExpr> {
        match e {
            Sexp::Str(s, _) | Sexp::RawStr(s, _) => Some(StrExpr::Lit(s.clone())),
            Sexp::List(items, pos) => match e.head() {
                Some("param") => {
                    if items.len() != 2 {
                        self.error(*pos, "`param` takes exactly one string argument");
                        return None;
                    }
                    let Some(key) = items[1].as_str() else {
                        self.error(items[1].pos(), "`param` name must be a string literal");
                        return None;
                    };
                    if self.params.get(key).is_none() {
                        self.error(
                            *pos,
                            format!("(param {key:?}) has no matching -D {key}=VALUE"),
                        );
                    }
                    self.used.insert(key.to_owned());
                    Some(StrExpr::Param(key.to_owned()))
                }
                Some("string-append") => {
                    if items.len() < 2 {
                        self.error(*pos, "`string-append` needs at least one argument");
                        return None;
                    }
                    let parts: Vec<_> = items[1..].iter().map(|i| self.str_expr(i)).collect();
                    parts
                        .into_iter()
                        .collect::<Option<Vec<_>>>()
                        .map(StrExpr::Append)
                }
                Some(other) => {
                    self.error(
                        *pos,
                        format!("`{other}` is not a string expression (expected a string, `param` or `string-append`)"),
                    );
                    None
                }
                None => {
                    self.error(*pos, "expected a string expression");
                    None
                }
            },
            other => {
                self.error(other.pos(), "expected a string expression");
                None
            }
        }
    }

    /// A filter's single string argument.
    fn one_str_arg(&mut self, name: &str, items: &[Sexp], pos: Pos) -> Option<StrExpr> {
        if items.len() != 2 {
            self.error(pos, format!("`{name}` takes exactly one argument"));
            return None;
        }
        self.str_expr(&items[1])
    }

    /// Checks a path argument that resolves with the lint parameters.
    fn check_path(&mut self, name: &str, e: &StrExpr, pos: Pos) {
        let Ok(p) = e.resolve(self.params) else {
            return; // the missing parameter is already reported
        };
        if !p.starts_with('/') {
            self.error(pos, format!("`{name}` path {p:?} is not absolute"));
            return;
        }
        if p.len() > 1 && p.ends_with('/') && name != "prefix" {
            self.error(pos, format!("`{name}` path {p:?} ends with `/`"));
        }
        let body = if name == "prefix" {
            p.trim_end_matches('/')
        } else {
            &p
        };
        if body.contains("//") || body.split('/').any(|c| c == "." || c == "..") {
            self.error(
                pos,
                format!("`{name}` path {p:?} is not canonical (Seatbelt matches resolved paths)"),
            );
        }
    }

    /// Checks that a regex argument compiles with the lint parameters.
    fn check_regex(&mut self, x: &StrExpr, pos: Pos) {
        let Ok(r) = x.resolve(self.params) else {
            return; // the missing parameter is already reported
        };
        if let Err(msg) = Regex::new(&r) {
            self.error(pos, format!("regex {r:?}: {msg}"));
        }
    }

    fn filter(&mut self, e: &Sexp) -> Option<Filter> {
        let pos = e.pos();
        let Some(items) = e.as_list() else {
            self.error(pos, "expected a filter list such as (subpath \"/x\")");
            return None;
        };
        let Some(name) = e.head() else {
            self.error(pos, "filter list must start with a filter name");
            return None;
        };
        match name {
            "literal" | "path" | "subpath" | "prefix" => {
                let x = self.one_str_arg(name, items, pos)?;
                self.check_path(name, &x, pos);
                Some(match name {
                    "subpath" => Filter::Subpath(x),
                    "prefix" => Filter::Prefix(x),
                    _ => Filter::Literal(x),
                })
            }
            "regex" => {
                let x = self.one_str_arg(name, items, pos)?;
                self.check_regex(&x, pos);
                Some(Filter::Regex(x))
            }
            "require-all" | "require-any" => {
                if items.len() < 2 {
                    self.error(pos, format!("`{name}` needs at least one filter"));
                    return None;
                }
                let fs: Vec<_> = items[1..].iter().map(|i| self.filter(i)).collect();
                let fs = fs.into_iter().collect::<Option<Vec<_>>>()?;
                Some(if name == "require-all" {
                    Filter::RequireAll(fs)
                } else {
                    Filter::RequireAny(fs)
                })
            }
            "require-not" => {
                if items.len() != 2 {
                    self.error(pos, "`require-not` takes exactly one filter");
                    return None;
                }
                Some(Filter::RequireNot(Box::new(self.filter(&items[1])?)))
            }
            "extension" => Some(Filter::Extension(self.one_str_arg(name, items, pos)?)),
            "vnode-type" => {
                if items.len() < 2 {
                    self.error(pos, "`vnode-type` needs at least one type");
                    return None;
                }
                let mut types = Vec::new();
                for t in &items[1..] {
                    match t.as_symbol() {
                        Some(s) if KNOWN_VNODE_TYPES.contains(&s) => types.push(s.to_owned()),
                        _ => self.error(t.pos(), "unknown vnode type"),
                    }
                }
                Some(Filter::VnodeType(types))
            }
            "target" => {
                match items.get(1).and_then(Sexp::as_symbol) {
                    Some(t) if items.len() == 2 && KNOWN_TARGETS.contains(&t) => {}
                    _ => self.error(
                        pos,
                        format!("`target` takes one of {}", KNOWN_TARGETS.join(", ")),
                    ),
                }
                Some(Filter::NonPath(name.to_owned()))
            }
            "ioctl-command" => {
                if !(items.len() == 2 && matches!(items[1], Sexp::Number(n, _) if n >= 0)) {
                    self.error(pos, "`ioctl-command` takes one non-negative decimal number");
                }
                Some(Filter::NonPath(name.to_owned()))
            }
            "remote" | "local" => {
                match items.get(1).and_then(Sexp::as_symbol) {
                    Some(p) if KNOWN_NETWORK_PROTOCOLS.contains(&p) => {}
                    _ => self.error(
                        pos,
                        format!(
                            "`{name}` must start with one of {}",
                            KNOWN_NETWORK_PROTOCOLS.join(", ")
                        ),
                    ),
                }
                if items.len() > 3 {
                    self.error(pos, format!("`{name}` takes at most two arguments"));
                }
                if let Some(arg) = items.get(2) {
                    match arg.head() {
                        Some("path-literal" | "path-prefix" | "path-regex")
                            if arg.as_list().is_some_and(|l| l.len() == 2) =>
                        {
                            let _ = self.str_expr(&arg.as_list().unwrap()[1]);
                        }
                        Some(_) => self.error(
                            arg.pos(),
                            "expected an address string or (path-literal|path-prefix|path-regex X)",
                        ),
                        None => {
                            let _ = self.str_expr(arg);
                        }
                    }
                }
                Some(Filter::NonPath(name.to_owned()))
            }
            "global-name-regex"
            | "local-name-regex"
            | "sysctl-name-regex"
            | "ipc-posix-name-regex" => {
                let x = self.one_str_arg(name, items, pos)?;
                self.check_regex(&x, pos);
                Some(Filter::NonPath(name.to_owned()))
            }
            _ if KNOWN_FILTERS.contains(&name) => {
                self.one_str_arg(name, items, pos)?;
                Some(Filter::NonPath(name.to_owned()))
            }
            "with" => {
                self.error(pos, "`with` modifiers belong directly inside allow/deny");
                None
            }
            "param" | "string-append" => {
                self.error(
                    pos,
                    format!("`{name}` is a string expression, not a filter"),
                );
                None
            }
            _ => {
                self.error(pos, format!("unknown filter `{name}`"));
                None
            }
        }
    }

    fn rule(&mut self, action: Action, items: &[Sexp], pos: Pos) -> Option<Rule> {
        let mut ops = Vec::new();
        let mut filters = Vec::new();
        let mut modifiers = Vec::new();
        let mut ok = true;
        for (i, arg) in items.iter().enumerate().skip(1) {
            match arg {
                Sexp::Symbol(op, p) => {
                    if !filters.is_empty() || !modifiers.is_empty() {
                        self.error(*p, format!("operation `{op}` after a filter"));
                        ok = false;
                    } else if !KNOWN_OPERATIONS.contains(&op.as_str()) {
                        self.error(*p, format!("unknown operation `{op}`"));
                        ok = false;
                    }
                    ops.push(op.clone());
                }
                Sexp::List(..) if arg.head() == Some("with") => {
                    let l = arg.as_list().unwrap();
                    match l.get(1).and_then(Sexp::as_symbol) {
                        Some(m) if KNOWN_MODIFIERS.contains(&m) => modifiers.push(m.to_owned()),
                        _ => {
                            self.error(arg.pos(), "unknown or missing `with` modifier");
                            ok = false;
                        }
                    }
                }
                Sexp::List(..) => match self.filter(arg) {
                    Some(f) => filters.push(f),
                    None => ok = false,
                },
                other => {
                    let what = if i == 1 {
                        "expected an operation name"
                    } else {
                        "expected an operation name or a filter list"
                    };
                    self.error(other.pos(), what);
                    ok = false;
                }
            }
        }
        if ops.is_empty() {
            self.error(pos, "rule names no operation");
            ok = false;
        }
        ok.then_some(Rule {
            action,
            ops,
            filters,
            modifiers,
            pos,
        })
    }
}

/// Checks `profile` against the dialect cordon emits and, if it passes,
/// returns it parsed into rules.
///
/// Errors (all collected, each prefixed with `line L, column C:` where a
/// position exists):
/// * syntax errors, unbalanced parentheses included (only the first is
///   reported);
/// * the first form is not `(version 1)`, or `version` appears again;
/// * a top-level form other than `version`, `allow`, `deny` (`import`,
///   `define`, `debug`, ... are rejected: profiles must be self-contained);
/// * an operation not in [`KNOWN_OPERATIONS`], a filter not in
///   [`KNOWN_FILTERS`], a malformed filter, an unsupported regex;
/// * a `(param "K")` without a `-D K=...`, or a `-D` that nothing uses, or a
///   malformed `-D` (see [`Params::from_pairs`]);
/// * a string literal (or a `-D` value used as a path) with a control
///   character or longer than [`MAX_STRING_BYTES`];
/// * a `literal`/`subpath`/`prefix` path that is not absolute and canonical.
pub fn lint(profile: &str, params: &[(String, String)]) -> Result<Profile, Vec<String>> {
    let forms = match parse(profile) {
        Ok(f) => f,
        Err(e) => return Err(vec![e.to_string()]),
    };
    let params = Params::from_pairs(params)?;
    let mut l = Linter {
        params: &params,
        errors: Vec::new(),
        used: BTreeSet::new(),
    };
    let mut rules = Vec::new();

    match forms.first() {
        None => l
            .errors
            .push("profile is empty; expected (version 1)".to_owned()),
        Some(first) => {
            let is_v1 = first.head() == Some("version")
                && matches!(first.as_list(), Some([_, Sexp::Number(1, _)]));
            if !is_v1 {
                l.error(first.pos(), "the first form must be (version 1)");
            }
        }
    }

    for (idx, form) in forms.iter().enumerate() {
        l.check_all_strings(form);
        let pos = form.pos();
        let Some(items) = form.as_list() else {
            l.error(pos, "top-level forms must be lists");
            continue;
        };
        match form.head() {
            Some("version") => {
                if idx != 0 {
                    l.error(pos, "(version ...) may only appear once, as the first form");
                }
            }
            Some("allow") => {
                if let Some(r) = l.rule(Action::Allow, items, pos) {
                    rules.push(r);
                }
            }
            Some("deny") => {
                if let Some(r) = l.rule(Action::Deny, items, pos) {
                    rules.push(r);
                }
            }
            Some("import") => l.error(
                pos,
                "`import` is not allowed: cordon generates self-contained profiles",
            ),
            Some(other) => l.error(
                pos,
                format!("unsupported top-level form `{other}` (only version, allow, deny)"),
            ),
            None => l.error(pos, "top-level list must start with version, allow or deny"),
        }
    }

    for key in params.keys() {
        if !l.used.contains(key) {
            l.errors.push(format!(
                "-D {key}=... is defined but no (param {key:?}) uses it"
            ));
        }
        let v = params.get(key).unwrap();
        if v.len() > MAX_STRING_BYTES {
            l.errors.push(format!(
                "-D {key}: value is {} bytes long; the limit is {MAX_STRING_BYTES}",
                v.len()
            ));
        }
    }

    if l.errors.is_empty() {
        let used = l.used;
        Ok(Profile {
            forms,
            rules,
            params_used: used,
        })
    } else {
        Err(l.errors)
    }
}

// ===========================================================================
// Evaluation
// ===========================================================================

/// Whether a rule naming `rule_op` applies to a request for `op`.
///
/// * `default` covers everything;
/// * an exact name covers itself;
/// * `NAME*` covers every operation starting with `NAME` (so `file-write*`
///   covers `file-write-data` and `file-write*`, and `file*` covers
///   `file-read-data` and `file-write*`).
///
/// Querying a wildcard (`op = "file-write*"`) therefore asks for a rule that
/// grants the whole family; a rule naming only `file-write-data` does not.
pub fn op_covers(rule_op: &str, op: &str) -> bool {
    if rule_op == "default" || rule_op == op {
        return true;
    }
    match rule_op.strip_suffix('*') {
        Some(prefix) => op.starts_with(prefix),
        None => false,
    }
}

fn filter_matches(f: &Filter, params: &Params, path: &str) -> bool {
    let resolve = |e: &StrExpr| -> String {
        e.resolve(params)
            .unwrap_or_else(|msg| panic!("sbpl::allows: {msg}"))
    };
    match f {
        Filter::Literal(e) => path == resolve(e),
        Filter::Subpath(e) => {
            let root = resolve(e);
            let root = if root.len() > 1 {
                root.trim_end_matches('/')
            } else {
                &root
            };
            if root == "/" {
                path.starts_with('/')
            } else {
                path == root
                    || (path.starts_with(root) && path.as_bytes().get(root.len()) == Some(&b'/'))
            }
        }
        Filter::Prefix(e) => path.starts_with(&resolve(e)),
        Filter::Regex(e) => {
            let src = resolve(e);
            Regex::new(&src)
                .unwrap_or_else(|msg| panic!("sbpl::allows: unsupported regex {src:?}: {msg}"))
                .is_match(path)
        }
        Filter::RequireAll(fs) => fs.iter().all(|f| filter_matches(f, params, path)),
        Filter::RequireAny(fs) => fs.iter().any(|f| filter_matches(f, params, path)),
        Filter::RequireNot(f) => !filter_matches(f, params, path),
        Filter::Extension(_) => false,
        Filter::VnodeType(types) => panic!(
            "sbpl::allows: (vnode-type {}) cannot be evaluated from a path alone",
            types.join(" ")
        ),
        Filter::NonPath(_) => false,
    }
}

/// Whether `rule` applies to `op` on `path`.
pub fn rule_matches(rule: &Rule, params: &Params, op: &str, path: &str) -> bool {
    rule.ops.iter().any(|o| op_covers(o, op))
        && (rule.filters.is_empty() || rule.filters.iter().any(|f| filter_matches(f, params, path)))
}

/// The index in `profile.rules` of the rule that decides `op` on `path`
/// (the last one that matches), or `None` when no rule matches and the
/// implicit deny applies.
///
/// Panics if `op` is not a known operation, if `params` is malformed or lacks
/// a parameter that a consulted filter needs, if a consulted regex is
/// unsupported, or if a consulted filter is `vnode-type`.
pub fn deciding_rule(
    profile: &Profile,
    params: &[(String, String)],
    op: &str,
    path: &str,
) -> Option<usize> {
    assert!(
        KNOWN_OPERATIONS.contains(&op),
        "sbpl::allows: unknown operation {op:?}"
    );
    let params = Params::from_pairs(params)
        .unwrap_or_else(|e| panic!("sbpl::allows: bad parameters: {}", e.join("; ")));
    profile
        .rules
        .iter()
        .rposition(|r| rule_matches(r, &params, op, path))
}

/// Whether `profile` allows `op` (e.g. `file-write-data`, `file-read*`,
/// `network-outbound`) on the absolute path `path`, with `-D` parameters
/// `params`. Last matching rule wins; no matching rule means deny.
/// Non-path filters never match, so for operations on things other than
/// files only unfiltered rules decide. Panics as [`deciding_rule`] does.
pub fn allows(profile: &Profile, params: &[(String, String)], op: &str, path: &str) -> bool {
    match deciding_rule(profile, params, op, path) {
        Some(i) => profile.rules[i].action == Action::Allow,
        None => false,
    }
}

// ===========================================================================
// Regular expressions
// ===========================================================================

/// A small backtracking regex engine for the patterns SBPL profiles use.
///
/// Supported: literal characters; `.`; `^` and `$` anchors (anywhere, as
/// zero-width assertions); `*`, `+`, `?`, `{m}`, `{m,}`, `{m,n}` (greedy);
/// bracket expressions `[abc]`, `[a-z]`, `[^/]` (a `]` first in the set is
/// literal, `\` escapes inside a set); groups `( ... )` with alternation `|`;
/// `\` followed by a punctuation or other non-alphanumeric character, which
/// makes that character literal (`\.`, `\/`, `\$`).
///
/// Unsupported, and reported as errors by [`Regex::new`] (so [`lint`] rejects
/// them and [`allows`] panics on them): `\` before a letter or digit (`\d`,
/// `\w`, `\1`: POSIX ERE gives them no portable meaning), `(?...)` groups,
/// POSIX classes `[[:alpha:]]`. Stacked quantifiers (`a*?`) repeat the
/// quantified atom; only whether a path matches is computed, so greedy and
/// lazy readings agree.
///
/// Matching is unanchored (search), as in SBPL: `#"/\.git$"` matches any
/// path ending in `/.git`.
#[derive(Clone, Debug)]
pub struct Regex {
    alts: Vec<Vec<Node>>,
}

#[derive(Clone, Debug)]
enum Node {
    Char(char),
    Any,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
    Start,
    End,
    Group(Vec<Vec<Node>>),
    Repeat(Box<Node>, usize, Option<usize>),
}

struct RegexParser {
    chars: Vec<char>,
    i: usize,
}

impl RegexParser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    fn alternation(&mut self, depth: usize) -> Result<Vec<Vec<Node>>, String> {
        let mut alts = vec![self.sequence(depth)?];
        while self.peek() == Some('|') {
            self.i += 1;
            alts.push(self.sequence(depth)?);
        }
        Ok(alts)
    }

    fn sequence(&mut self, depth: usize) -> Result<Vec<Node>, String> {
        let mut seq = Vec::new();
        while let Some(c) = self.peek() {
            match c {
                '|' => break,
                ')' if depth > 0 => break,
                ')' => return Err(format!("unbalanced `)` at offset {}", self.i)),
                _ => {}
            }
            let atom = self.atom(depth)?;
            let atom = self.quantifiers(atom)?;
            seq.push(atom);
        }
        Ok(seq)
    }

    fn atom(&mut self, depth: usize) -> Result<Node, String> {
        let at = self.i;
        let c = self.peek().expect("caller checked");
        self.i += 1;
        Ok(match c {
            '.' => Node::Any,
            '^' => Node::Start,
            '$' => Node::End,
            '(' => {
                if self.peek() == Some('?') {
                    return Err(format!("`(?` groups are not supported (offset {at})"));
                }
                let alts = self.alternation(depth + 1)?;
                if self.peek() != Some(')') {
                    return Err(format!("unclosed `(` at offset {at}"));
                }
                self.i += 1;
                Node::Group(alts)
            }
            '[' => self.class(at)?,
            '\\' => Node::Char(self.escape(at)?),
            '*' | '+' | '?' => {
                return Err(format!(
                    "quantifier `{c}` has nothing to repeat (offset {at})"
                ));
            }
            '{' => return Err(format!("`{{` has nothing to repeat (offset {at})")),
            c => Node::Char(c),
        })
    }

    fn escape(&mut self, at: usize) -> Result<char, String> {
        match self.peek() {
            None => Err(format!("trailing `\\` at offset {at}")),
            Some(c) if c.is_ascii_alphanumeric() => Err(format!(
                "escape `\\{c}` is not supported (offset {at}); write the character or a class"
            )),
            Some(c) => {
                self.i += 1;
                Ok(c)
            }
        }
    }

    fn class(&mut self, at: usize) -> Result<Node, String> {
        let mut negated = false;
        if self.peek() == Some('^') {
            negated = true;
            self.i += 1;
        }
        let mut ranges = Vec::new();
        let mut first = true;
        loop {
            let c = match self.peek() {
                None => return Err(format!("unclosed `[` at offset {at}")),
                Some(']') if !first => {
                    self.i += 1;
                    break;
                }
                Some('[') if self.chars.get(self.i + 1) == Some(&':') => {
                    return Err(format!(
                        "POSIX character classes are not supported (offset {})",
                        self.i
                    ));
                }
                Some('\\') => {
                    let here = self.i;
                    self.i += 1;
                    self.escape(here)?
                }
                Some(c) => {
                    self.i += 1;
                    c
                }
            };
            first = false;
            let is_range =
                self.peek() == Some('-') && self.chars.get(self.i + 1).is_some_and(|&n| n != ']');
            if is_range {
                self.i += 1;
                let hi = match self.peek() {
                    Some('\\') => {
                        let here = self.i;
                        self.i += 1;
                        self.escape(here)?
                    }
                    Some(h) => {
                        self.i += 1;
                        h
                    }
                    None => return Err(format!("unclosed `[` at offset {at}")),
                };
                if hi < c {
                    return Err(format!("reversed range {c}-{hi} (offset {at})"));
                }
                ranges.push((c, hi));
            } else {
                ranges.push((c, c));
            }
        }
        Ok(Node::Class { negated, ranges })
    }

    fn number(&mut self) -> Option<usize> {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        if start == self.i {
            return None;
        }
        self.chars[start..self.i]
            .iter()
            .collect::<String>()
            .parse()
            .ok()
    }

    fn quantifiers(&mut self, mut atom: Node) -> Result<Node, String> {
        loop {
            let at = self.i;
            let (min, max) = match self.peek() {
                Some('*') => {
                    self.i += 1;
                    (0, None)
                }
                Some('+') => {
                    self.i += 1;
                    (1, None)
                }
                Some('?') => {
                    self.i += 1;
                    (0, Some(1))
                }
                Some('{') => {
                    self.i += 1;
                    let min = self
                        .number()
                        .ok_or_else(|| format!("bad `{{` repetition at offset {at}"))?;
                    let max = if self.peek() == Some(',') {
                        self.i += 1;
                        self.number()
                    } else {
                        Some(min)
                    };
                    if self.peek() != Some('}') {
                        return Err(format!("bad `{{` repetition at offset {at}"));
                    }
                    self.i += 1;
                    if max.is_some_and(|m| m < min) {
                        return Err(format!("bad `{{` repetition at offset {at}"));
                    }
                    (min, max)
                }
                _ => return Ok(atom),
            };
            if matches!(atom, Node::Start | Node::End) {
                return Err(format!("quantifier after an anchor (offset {at})"));
            }
            atom = Node::Repeat(Box::new(atom), min, max);
        }
    }
}

impl Regex {
    /// Compiles `pattern`, or explains what is unsupported or malformed.
    pub fn new(pattern: &str) -> Result<Regex, String> {
        let mut p = RegexParser {
            chars: pattern.chars().collect(),
            i: 0,
        };
        let alts = p.alternation(0)?;
        if p.i != p.chars.len() {
            return Err(format!("unexpected `{}` at offset {}", p.chars[p.i], p.i));
        }
        Ok(Regex { alts })
    }

    /// Whether the pattern matches anywhere in `s`.
    pub fn is_match(&self, s: &str) -> bool {
        let input: Vec<char> = s.chars().collect();
        let m = Matcher { input: &input };
        (0..=input.len()).any(|start| self.alts.iter().any(|alt| m.seq(alt, start, &mut |_| true)))
    }
}

struct Matcher<'a> {
    input: &'a [char],
}

impl Matcher<'_> {
    fn seq(&self, nodes: &[Node], pos: usize, k: &mut dyn FnMut(usize) -> bool) -> bool {
        match nodes.split_first() {
            None => k(pos),
            Some((first, rest)) => self.node(first, pos, &mut |p| self.seq(rest, p, k)),
        }
    }

    fn node(&self, node: &Node, pos: usize, k: &mut dyn FnMut(usize) -> bool) -> bool {
        match node {
            Node::Char(c) => self.input.get(pos) == Some(c) && k(pos + 1),
            Node::Any => pos < self.input.len() && k(pos + 1),
            Node::Class { negated, ranges } => match self.input.get(pos) {
                Some(&c) => {
                    let inside = ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi);
                    inside != *negated && k(pos + 1)
                }
                None => false,
            },
            Node::Start => pos == 0 && k(pos),
            Node::End => pos == self.input.len() && k(pos),
            Node::Group(alts) => {
                for alt in alts {
                    if self.seq(alt, pos, k) {
                        return true;
                    }
                }
                false
            }
            Node::Repeat(inner, min, max) => self.repeat(inner, *min, *max, 0, pos, k),
        }
    }

    fn repeat(
        &self,
        inner: &Node,
        min: usize,
        max: Option<usize>,
        count: usize,
        pos: usize,
        k: &mut dyn FnMut(usize) -> bool,
    ) -> bool {
        if max.is_none_or(|m| count < m) {
            let more = self.node(inner, pos, &mut |p| {
                // An iteration that consumed nothing cannot lead anywhere new
                // once the minimum is met; stop to avoid looping forever.
                if p == pos && count >= min {
                    return false;
                }
                self.repeat(inner, min, max, count + 1, p, k)
            });
            if more {
                return true;
            }
        }
        count >= min && k(pos)
    }
}
