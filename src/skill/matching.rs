//! Which skill a command belongs to (`run --skills DIR`), as Codex matches
//! skills for its shell tool: the command's program, a path among its
//! arguments, a path in the script of `sh -c '...'` / `bash -lc '...'`, or
//! the working directory lying inside a skill directory under a skill root.
//! The skill roots are each `--skills DIR`, the `.agents/skills` of the
//! directories from the repository's root down to the working directory,
//! and `~/.agents/skills`. The most specific (deepest) skill directory wins.
//!
//! `cordon run` wraps every command an agent runs, so the first pass is
//! string work only: a token can be in a skill only if, made absolute
//! lexically, it has the components `.agents/skills` or starts with a
//! `--skills` root. Only a token that passes is looked up on disk.

use std::ffi::{OsStr, OsString};
use std::path::{Component, Path, PathBuf};

use super::manifest::SKILL_FILE;
use crate::plan::fs::lexical;

/// A command's skill: its directory (canonical) and why it matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    pub dir: PathBuf,
    pub why: String,
}

/// Shells whose `-c SCRIPT` is searched for paths too.
const SHELLS: [&str; 7] = ["sh", "bash", "zsh", "dash", "ksh", "mksh", "ash"];

/// One place a path came from, for the account of the match.
struct Token {
    text: String,
    what: String,
}

/// The skill `argv` run in `cwd` belongs to, if any. `roots` are the
/// `--skills` directories as given (relative to `cwd`); `home` is `$HOME`.
pub fn find(
    argv: &[OsString],
    cwd: &Path,
    roots: &[PathBuf],
    home: Option<&OsStr>,
) -> Option<Match> {
    let tokens = tokens(argv);
    let explicit: Vec<PathBuf> = roots.iter().map(|r| lexical(&cwd.join(r))).collect();
    let mut candidates: Vec<(PathBuf, String)> = Vec::new();
    let mut consider = |abs: PathBuf, what: String| {
        if could_be_in_a_skill(&abs, &explicit) {
            candidates.push((abs, what));
        }
    };
    consider(
        lexical(cwd),
        format!("the working directory {}", cwd.display()),
    );
    for t in &tokens {
        let Some(abs) = absolute(&t.text, cwd, home) else {
            continue;
        };
        consider(abs, format!("{} `{}`", t.what, t.text.escape_debug()));
    }
    if candidates.is_empty() {
        return None;
    }
    // Only now the filesystem: canonical roots, the repository, SKILL.md.
    let canon_explicit: Vec<(PathBuf, String)> = roots
        .iter()
        .zip(&explicit)
        .filter_map(|(given, abs)| {
            std::fs::canonicalize(abs)
                .ok()
                .map(|c| (c, format!("--skills {}", given.display())))
        })
        .collect();
    let cwd_canon = std::fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    let repo = repo_root(&cwd_canon);
    let home_root =
        home.and_then(|h| std::fs::canonicalize(Path::new(h).join(".agents/skills")).ok());
    let mut best: Option<(usize, Match)> = None;
    for (abs, what) in candidates {
        let Some(path) = canonical_prefix(&abs) else {
            continue;
        };
        let Some((root, root_why)) = skill_root(
            &path,
            &canon_explicit,
            &cwd_canon,
            repo.as_deref(),
            home_root.as_deref(),
        ) else {
            continue;
        };
        let Some(dir) = skill_dir(&path, &root) else {
            continue;
        };
        let depth = dir.components().count();
        if best.as_ref().is_some_and(|(d, _)| *d >= depth) {
            continue;
        }
        let why = format!(
            "{what} lies in the skill {} under the skill root {} ({root_why})",
            dir.display(),
            root.display()
        );
        best = Some((depth, Match { dir, why }));
    }
    best.map(|(_, m)| m)
}

/// The program, its arguments, and the words of a shell's `-c` script,
/// each with where it came from. Values of `--opt=VALUE` and `NAME=VALUE`
/// count as tokens too.
fn tokens(argv: &[OsString]) -> Vec<Token> {
    let args: Vec<&str> = argv.iter().filter_map(|a| a.to_str()).collect();
    let script = shell_script(&args);
    let mut out = Vec::new();
    for (i, a) in args.iter().enumerate() {
        if script.is_some_and(|(at, _)| at == i) {
            // The script is split into words below, not one path.
            continue;
        }
        let what = if i == 0 {
            "the program".to_string()
        } else {
            format!("argument {i}")
        };
        push_word(&mut out, a, &what);
    }
    if let Some((_, script)) = script {
        for word in shell_words(script) {
            push_word(&mut out, &word, "a path in the shell script");
        }
    }
    out
}

fn push_word(out: &mut Vec<Token>, word: &str, what: &str) {
    let word = word.trim();
    if word.is_empty() || word.contains("://") {
        return;
    }
    let value = match word.split_once('=') {
        Some((k, v)) if k.starts_with('-') || (!k.is_empty() && !k.contains('/')) => v,
        _ => word,
    };
    if value.starts_with('-') {
        return;
    }
    if value.starts_with('.') || value.starts_with('~') || value.contains('/') {
        out.push(Token {
            text: value.to_string(),
            what: what.to_string(),
        });
    }
}

/// The script of `sh -c SCRIPT`, `bash -lc SCRIPT`, `bash -e -c SCRIPT`,
/// and its index in `args`.
fn shell_script<'a>(args: &[&'a str]) -> Option<(usize, &'a str)> {
    let prog = Path::new(args.first()?).file_name()?.to_str()?;
    if !SHELLS.contains(&prog) {
        return None;
    }
    for (i, a) in args.iter().enumerate().skip(1) {
        if !a.starts_with('-') || a.starts_with("--") {
            return None;
        }
        if a.contains('c') {
            return args.get(i + 1).map(|s| (i + 1, *s));
        }
    }
    None
}

/// The words of a shell script, roughly as the shell splits them: quotes
/// and backslashes taken, operators and newlines separating words. Good
/// enough to find paths; it runs nothing and expands nothing.
fn shell_words(script: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut chars = script.chars().peekable();
    let flush = |word: &mut String, out: &mut Vec<String>| {
        if !word.is_empty() {
            out.push(std::mem::take(word));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    word.push(c);
                }
            }
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => {
                            if let Some(n) = chars.next() {
                                word.push(n);
                            }
                        }
                        c => word.push(c),
                    }
                }
            }
            '\\' => {
                if let Some(n) = chars.next() {
                    word.push(n);
                }
            }
            c if c.is_whitespace() || ";|&()<>`".contains(c) => flush(&mut word, &mut out),
            c => word.push(c),
        }
    }
    flush(&mut word, &mut out);
    out
}

/// `token` made absolute: `~/` from `$HOME`, relative from `cwd`, `.` and
/// `..` taken lexically. No filesystem access.
fn absolute(token: &str, cwd: &Path, home: Option<&OsStr>) -> Option<PathBuf> {
    let p = Path::new(token);
    let abs = if let Ok(rest) = p.strip_prefix("~") {
        Path::new(home?).join(rest)
    } else {
        cwd.join(p)
    };
    Some(lexical(&abs))
}

/// The string test of the hot path: the path has the components
/// `.agents/skills`, or starts with a `--skills` root.
fn could_be_in_a_skill(path: &Path, explicit: &[PathBuf]) -> bool {
    if explicit.iter().any(|r| path.starts_with(r)) {
        return true;
    }
    let mut prev: Option<Component> = None;
    for c in path.components() {
        if c.as_os_str() == "skills" && prev.is_some_and(|p| p.as_os_str() == ".agents") {
            return true;
        }
        prev = Some(c);
    }
    false
}

/// The canonical form of `path`, or of its deepest existing ancestor (a
/// file the command will create inside a skill is in the skill too).
fn canonical_prefix(path: &Path) -> Option<PathBuf> {
    path.ancestors().find_map(|a| std::fs::canonicalize(a).ok())
}

/// The repository holding `cwd`: its nearest ancestor with a `.git`.
fn repo_root(cwd: &Path) -> Option<PathBuf> {
    cwd.ancestors()
        .find(|a| std::fs::symlink_metadata(a.join(".git")).is_ok())
        .map(Path::to_path_buf)
}

/// The skill root `path` lies under, and which rule makes it one.
fn skill_root(
    path: &Path,
    explicit: &[(PathBuf, String)],
    cwd: &Path,
    repo: Option<&Path>,
    home_root: Option<&Path>,
) -> Option<(PathBuf, String)> {
    let mut found: Option<(PathBuf, String)> = None;
    let mut keep = |root: &Path, why: String| {
        // The innermost root wins: a skill is named by its nearest root.
        if path.starts_with(root)
            && path != root
            && found
                .as_ref()
                .is_none_or(|(r, _)| root.components().count() > r.components().count())
        {
            found = Some((root.to_path_buf(), why));
        }
    };
    for (root, why) in explicit {
        keep(root, why.clone());
    }
    if let Some(h) = home_root {
        keep(h, "~/.agents/skills".into());
    }
    // `X/.agents/skills` for X from the repository root down to cwd (cwd
    // alone outside a repository).
    for a in path.ancestors() {
        if a.ends_with(".agents/skills")
            && let Some(x) = a.parent().and_then(Path::parent)
            && cwd.starts_with(x)
            && repo.map_or(x == cwd, |r| x.starts_with(r))
        {
            let why = match repo {
                Some(r) if r == x => format!(".agents/skills of the repository {}", r.display()),
                _ => format!(".agents/skills of {}", x.display()),
            };
            keep(a, why);
        }
    }
    found
}

/// The deepest directory holding `SKILL.md` on the way from `path` up to
/// (not including) `root`.
fn skill_dir(path: &Path, root: &Path) -> Option<PathBuf> {
    path.ancestors()
        .take_while(|a| *a != root && a.starts_with(root))
        .find(|a| a.join(SKILL_FILE).is_file())
        .map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn shell_words_take_quotes_and_operators() {
        assert_eq!(
            shell_words(r#"cd /x && "./a b.sh" --out=y|tee 'z q';echo \$HOME"#),
            [
                "cd", "/x", "./a b.sh", "--out=y", "tee", "z q", "echo", "$HOME"
            ]
        );
    }

    #[test]
    fn scripts_of_shells_only() {
        assert_eq!(shell_script(&["sh", "-c", "x"]), Some((2, "x")));
        assert_eq!(shell_script(&["/bin/bash", "-lc", "x"]), Some((2, "x")));
        assert_eq!(shell_script(&["bash", "-e", "-c", "x"]), Some((3, "x")));
        assert_eq!(shell_script(&["python3", "-c", "x"]), None);
        assert_eq!(shell_script(&["sh", "script.sh"]), None);
    }

    #[test]
    fn no_filesystem_unless_a_token_can_be_in_a_skill() {
        // A cwd and tokens that cannot be in a skill root: answered by
        // string tests alone (the paths do not exist).
        let cwd = Path::new("/nonexistent/repo");
        assert_eq!(find(&os(&["ls", "-l", "src/x"]), cwd, &[], None), None);
        assert!(could_be_in_a_skill(
            Path::new("/r/.agents/skills/x/run.sh"),
            &[]
        ));
        assert!(!could_be_in_a_skill(
            Path::new("/r/.agents/skillsx/run.sh"),
            &[]
        ));
        assert!(!could_be_in_a_skill(
            Path::new("/r/agents/skills/run.sh"),
            &[]
        ));
        assert!(could_be_in_a_skill(
            Path::new("/s/x"),
            &[PathBuf::from("/s")]
        ));
    }

    #[test]
    fn program_argument_and_script_paths_match_the_deepest_skill() {
        let d = tempfile::tempdir().unwrap();
        let repo = std::fs::canonicalize(d.path()).unwrap();
        std::fs::create_dir(repo.join(".git")).unwrap();
        let outer = repo.join(".agents/skills/outer");
        let inner = outer.join("nested");
        std::fs::create_dir_all(inner.join("scripts")).unwrap();
        std::fs::write(outer.join("SKILL.md"), "x").unwrap();
        std::fs::write(inner.join("SKILL.md"), "x").unwrap();
        std::fs::write(inner.join("scripts/run.sh"), "x").unwrap();
        let sub = repo.join("src");
        std::fs::create_dir(&sub).unwrap();

        let m = find(
            &os(&["../.agents/skills/outer/nested/scripts/run.sh"]),
            &sub,
            &[],
            None,
        )
        .unwrap();
        assert_eq!(m.dir, inner);
        assert!(m.why.contains("the program"), "{}", m.why);
        assert!(m.why.contains("of the repository"), "{}", m.why);

        let m = find(
            &os(&["sh", "-c", "cd /tmp; sh .agents/skills/outer/x.sh"]),
            &repo,
            &[],
            None,
        )
        .unwrap();
        assert_eq!(m.dir, outer);
        assert!(m.why.contains("shell script"), "{}", m.why);

        let script = inner.join("scripts/run.sh");
        let m = find(
            &os(&[
                "bash",
                "-lc",
                &format!("cat {}/SKILL.md; {}", outer.display(), script.display()),
            ]),
            &repo,
            &[],
            None,
        )
        .unwrap();
        assert_eq!(m.dir, inner, "the most specific skill wins");

        // Outside the repository's roots and without --skills: no match.
        let other = tempfile::tempdir().unwrap();
        assert_eq!(
            find(&os(&[script.to_str().unwrap()]), other.path(), &[], None),
            None
        );
        // With --skills naming the root, it matches from anywhere.
        let m = find(
            &os(&[script.to_str().unwrap()]),
            other.path(),
            &[repo.join(".agents/skills")],
            None,
        )
        .unwrap();
        assert_eq!(m.dir, inner);
        assert!(m.why.contains("--skills"), "{}", m.why);
    }

    #[test]
    fn explicit_roots_need_no_agents_component() {
        let d = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(d.path()).unwrap();
        std::fs::create_dir_all(root.join("tool/bin")).unwrap();
        std::fs::write(root.join("tool/SKILL.md"), "x").unwrap();
        let m = find(
            &os(&["./tool/bin/x", "--flag"]),
            &root,
            &[PathBuf::from(".")],
            None,
        )
        .unwrap();
        assert_eq!(m.dir, root.join("tool"));
        // The root itself is not a skill.
        std::fs::write(root.join("SKILL.md"), "x").unwrap();
        let m = find(&os(&["./tool/bin/x"]), &root, &[PathBuf::from(".")], None).unwrap();
        assert_eq!(m.dir, root.join("tool"));
    }
}
