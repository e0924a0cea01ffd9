//! git's config format, read the way git 2.47 reads it (`config.c`), so the
//! plan sees the settings git will see: sections, `[section "sub"]` and the
//! old `[section.sub]`, case rules, quotes and escapes, `#`/`;` comments,
//! `\` continuations, bare keys (boolean true), and `include.path` /
//! `includeIf.<condition>.path` with git's conditions and depth limit.
//!
//! Pure: files, HEAD and home directories come through [`World`], so tests
//! need no filesystem and `git.rs` can record every file it reads.
//!
//! Where git would stop with a fatal error (a bad line, an include too
//! deep) git runs nothing, so any answer is safe; this parser records the
//! error and carries on with the next line, which can only find more.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// git dies when includes nest deeper than this (`MAX_INCLUDE_DEPTH`).
pub const MAX_INCLUDE_DEPTH: usize = 10;

/// One `key = value` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Lower-cased (section names are case-insensitive).
    pub section: String,
    /// Case kept for `[s "Sub"]`; lower-cased for the old `[s.Sub]`, as git
    /// does. Any bytes but NUL and newline.
    pub subsection: Option<Vec<u8>>,
    /// Lower-cased.
    pub key: String,
    /// `None` for a bare `key` line, which means boolean true.
    pub value: Option<Vec<u8>>,
    /// 1-based line the key is on.
    pub line: usize,
}

impl Entry {
    /// `section.key`, no subsection (names given lower-case).
    pub fn is(&self, section: &str, key: &str) -> bool {
        self.subsection.is_none() && self.section == section && self.key == key
    }

    /// The subsection of `section.<sub>.key`.
    pub fn sub_of(&self, section: &str, key: &str) -> Option<&[u8]> {
        match &self.subsection {
            Some(s) if self.section == section && self.key == key => Some(s),
            _ => None,
        }
    }

    /// `section.sub.key` for messages (lossy, control characters escaped).
    pub fn name(&self) -> String {
        let mut s = self.section.clone();
        if let Some(sub) = &self.subsection {
            s.push('.');
            s.push_str(&String::from_utf8_lossy(sub));
        }
        s.push('.');
        s.push_str(&self.key);
        s.escape_debug().to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub what: BadLine,
}

/// Why git rejects a config line; shown in "bad config line N in FILE
/// (WHY)".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadLine {
    HeaderNotClosed,
    BadSectionChar,
    EmptySection,
    HeaderSpansLines,
    SubsectionNotQuoted,
    NoBracketAfterSubsection,
    UnterminatedQuote,
    UnknownEscape,
    NoEquals,
    BadStart,
}

impl std::fmt::Display for BadLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BadLine::HeaderNotClosed => "section header not closed",
            BadLine::BadSectionChar => "bad character in a section name",
            BadLine::EmptySection => "empty section name",
            BadLine::HeaderSpansLines => "section header spans lines",
            BadLine::SubsectionNotQuoted => "subsection name not in double quotes",
            BadLine::NoBracketAfterSubsection => "expected ] after the subsection name",
            BadLine::UnterminatedQuote => "unterminated double quote",
            BadLine::UnknownEscape => "unknown escape sequence",
            BadLine::NoEquals => "expected = after a key",
            BadLine::BadStart => "a line must start with [, a key, # or ;",
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub entries: Vec<Entry>,
    /// Lines git would stop at ("bad config line N"); parsing went on after
    /// each, which can only report more settings than git would use.
    pub errors: Vec<ParseError>,
}

/// git's `isspace` (its own ctype: no `\v`, no `\f`).
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

fn is_keychar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-'
}

/// Characters the way `get_next_char` hands them out: CRLF is one `\n`, and
/// the end of the text is an endless run of `\n` with `eof` set.
struct Reader<'a> {
    s: &'a [u8],
    pos: usize,
    line: usize,
    eof: bool,
    last: u8,
}

impl Reader<'_> {
    fn next(&mut self) -> u8 {
        let Some(&c) = self.s.get(self.pos) else {
            self.eof = true;
            self.last = b'\n';
            return b'\n';
        };
        self.pos += 1;
        let c = if c == b'\r' && self.s.get(self.pos) == Some(&b'\n') {
            self.pos += 1;
            b'\n'
        } else {
            c
        };
        if c == b'\n' {
            self.line += 1;
        }
        self.last = c;
        c
    }

    /// After an error: on to the start of the next line.
    fn skip_line(&mut self) {
        while self.last != b'\n' {
            self.next();
        }
    }
}

type Section = (String, Option<Vec<u8>>);

/// Splits git's flat `section.sub` stem: the section ends at the first dot.
fn split_stem(stem: &[u8], sub: Option<Vec<u8>>) -> Section {
    let (section, rest) = match stem.iter().position(|&c| c == b'.') {
        Some(i) => (&stem[..i], Some(&stem[i + 1..])),
        None => (stem, None),
    };
    let section = String::from_utf8_lossy(section).into_owned();
    let sub = match (rest, sub) {
        (None, sub) => sub,
        (Some(r), None) => Some(r.to_vec()),
        (Some(r), Some(s)) => {
            let mut v = r.to_vec();
            v.push(b'.');
            v.extend_from_slice(&s);
            Some(v)
        }
    };
    (section, sub)
}

/// After `[`: `get_base_var` and `get_extended_base_var`.
fn header(r: &mut Reader) -> Result<Section, BadLine> {
    let mut stem = Vec::new();
    loop {
        let c = r.next();
        if r.eof {
            return Err(BadLine::HeaderNotClosed);
        }
        if c == b']' {
            break;
        }
        if is_space(c) {
            return extended_header(r, &stem, c);
        }
        if !is_keychar(c) && c != b'.' {
            return Err(BadLine::BadSectionChar);
        }
        stem.push(c.to_ascii_lowercase());
    }
    if stem.is_empty() {
        return Err(BadLine::EmptySection);
    }
    Ok(split_stem(&stem, None))
}

fn extended_header(r: &mut Reader, stem: &[u8], first: u8) -> Result<Section, BadLine> {
    let mut c = first;
    loop {
        if c == b'\n' {
            return Err(BadLine::HeaderSpansLines);
        }
        c = r.next();
        if !is_space(c) {
            break;
        }
    }
    if c != b'"' {
        return Err(BadLine::SubsectionNotQuoted);
    }
    let mut sub = Vec::new();
    loop {
        let mut c = r.next();
        if c == b'\n' {
            return Err(BadLine::HeaderSpansLines);
        }
        if c == b'"' {
            break;
        }
        // Any escaped character stands for itself (`\t` is `t`).
        if c == b'\\' {
            c = r.next();
            if c == b'\n' {
                return Err(BadLine::HeaderSpansLines);
            }
        }
        sub.push(c);
    }
    if r.next() != b']' {
        return Err(BadLine::NoBracketAfterSubsection);
    }
    Ok(split_stem(stem, Some(sub)))
}

/// After `=`: quotes, escapes, comments, continuations and trimming, as
/// git's `parse_value`.
fn parse_value(r: &mut Reader) -> Result<Vec<u8>, BadLine> {
    let mut value = Vec::new();
    let (mut quote, mut comment) = (false, false);
    // Length to cut back to at the end of the line: set by the first
    // unquoted blank after content, cleared by anything else.
    let mut trim_len = 0;
    loop {
        let c = r.next();
        if c == b'\n' {
            if quote {
                return Err(BadLine::UnterminatedQuote);
            }
            if trim_len != 0 {
                value.truncate(trim_len);
            }
            return Ok(value);
        }
        if comment {
            continue;
        }
        if is_space(c) && !quote {
            if trim_len == 0 {
                trim_len = value.len();
            }
            if !value.is_empty() {
                value.push(c);
            }
            continue;
        }
        if !quote && (c == b';' || c == b'#') {
            comment = true;
            continue;
        }
        trim_len = 0;
        if c == b'\\' {
            let e = r.next();
            let out = match e {
                b'\n' => continue,
                b't' => b'\t',
                b'b' => 0x08,
                b'n' => b'\n',
                b'\\' | b'"' => e,
                _ => return Err(BadLine::UnknownEscape),
            };
            value.push(out);
            continue;
        }
        if c == b'"' {
            quote = !quote;
            continue;
        }
        value.push(c);
    }
}

/// The key after its first letter, then the value (`get_value`).
fn key_value(r: &mut Reader, first: u8) -> Result<(String, Option<Vec<u8>>), BadLine> {
    let mut key = String::new();
    key.push(first.to_ascii_lowercase() as char);
    let mut c;
    loop {
        c = r.next();
        if r.eof || !is_keychar(c) {
            break;
        }
        key.push(c.to_ascii_lowercase() as char);
    }
    while c == b' ' || c == b'\t' {
        c = r.next();
    }
    if c == b'\n' {
        return Ok((key, None));
    }
    if c != b'=' {
        return Err(BadLine::NoEquals);
    }
    parse_value(r).map(|v| (key, Some(v)))
}

/// Parses config text. Never fails: lines git would reject are listed in
/// `errors` and skipped.
pub fn parse(text: &[u8]) -> Parsed {
    // git skips a UTF-8 byte order mark (and rejects a partial one, which
    // here becomes a bad first line).
    let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
    let mut r = Reader {
        s: text,
        pos: 0,
        line: 1,
        eof: false,
        last: b'\n',
    };
    let mut out = Parsed::default();
    // Keys before any header (or after a bad one) have no section, so no
    // lookup ever matches them; git would have stopped there anyway.
    let mut section: Section = (String::new(), None);
    let mut comment = false;
    loop {
        let start = r.line;
        let c = r.next();
        if c == b'\n' {
            if r.eof {
                break;
            }
            comment = false;
            continue;
        }
        if comment || is_space(c) {
            continue;
        }
        if c == b'#' || c == b';' {
            comment = true;
            continue;
        }
        let result = if c == b'[' {
            header(&mut r).map(|s| section = s)
        } else if c.is_ascii_alphabetic() {
            key_value(&mut r, c).map(|(key, value)| {
                out.entries.push(Entry {
                    section: section.0.clone(),
                    subsection: section.1.clone(),
                    key,
                    value,
                    line: start,
                })
            })
        } else {
            Err(BadLine::BadStart)
        };
        if let Err(what) = result {
            if c == b'[' {
                section = (String::new(), None);
            }
            out.errors.push(ParseError { line: start, what });
            r.skip_line();
        }
    }
    out
}

/// git's `git_parse_maybe_bool`: `None` when the value is not a boolean
/// (so it is a command or a path).
pub fn parse_bool(value: Option<&[u8]>) -> Option<bool> {
    let Some(v) = value else { return Some(true) };
    let lower = v.to_ascii_lowercase();
    match lower.as_slice() {
        b"true" | b"yes" | b"on" => return Some(true),
        b"false" | b"no" | b"off" | b"" => return Some(false),
        _ => {}
    }
    // An integer (with git's k/m/g unit suffixes) is a boolean too.
    let digits = lower
        .strip_suffix(b"k")
        .or_else(|| lower.strip_suffix(b"m"))
        .or_else(|| lower.strip_suffix(b"g"))
        .unwrap_or(&lower);
    let digits = digits
        .strip_prefix(b"-")
        .or_else(|| digits.strip_prefix(b"+"))
        .unwrap_or(digits);
    if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) {
        return Some(digits.iter().any(|&d| d != b'0'));
    }
    None
}

// ---------------------------------------------------------------------------
// wildmatch: git's glob (wildmatch.c), used by the include conditions.

/// `dowild`'s answers: git's `WM_MATCH`, `WM_NOMATCH`, `WM_ABORT_ALL`
/// (no later position of an enclosing star can match either) and
/// `WM_ABORT_TO_STARSTAR` (only an enclosing `**` may go on trying).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wm {
    Match,
    NoMatch,
    AbortAll,
    AbortToStarstar,
}

/// Recursion bound: each `*` recurses once. Past it the answer is "match",
/// which for an include condition means the include is taken (the safe side).
const WM_MAX_DEPTH: usize = 256;

#[derive(Clone, Copy)]
struct WmFlags {
    pathname: bool,
    casefold: bool,
}

fn upper(c: u8) -> bool {
    c.is_ascii_uppercase()
}

fn fold(c: u8, f: WmFlags) -> u8 {
    if f.casefold && upper(c) {
        c.to_ascii_lowercase()
    } else {
        c
    }
}

/// `*` `?` `[` `\`: git's `is_glob_special`.
fn glob_special(c: u8) -> bool {
    matches!(c, b'*' | b'?' | b'[' | b'\\')
}

fn class_matches(name: &[u8], t: u8, f: WmFlags) -> Option<bool> {
    Some(match name {
        b"alnum" => t.is_ascii_alphanumeric(),
        b"alpha" => t.is_ascii_alphabetic(),
        b"blank" => t == b' ' || t == b'\t',
        b"cntrl" => t.is_ascii_control(),
        b"digit" => t.is_ascii_digit(),
        b"graph" => t.is_ascii_graphic(),
        b"lower" => t.is_ascii_lowercase(),
        b"print" => (0x20..0x7f).contains(&t),
        b"punct" => t.is_ascii_punctuation(),
        b"space" => is_space(t),
        b"upper" => upper(t) || (f.casefold && t.is_ascii_lowercase()),
        b"xdigit" => t.is_ascii_hexdigit(),
        _ => return None,
    })
}

/// `dowild` from git, index for pointer. `p`/`t` end at their first NUL,
/// as C strings do; reads past the end give 0 like the terminator.
fn dowild(p: &[u8], start: usize, t: &[u8], ti: usize, f: WmFlags, depth: usize) -> Wm {
    Wild { p, t, f }.dowild(start, ti, depth)
}

/// A pattern and a text being matched: git's `dowild` split at its cases
/// (`*`, `[...]`), each a method, with the same steps in the same order.
struct Wild<'a> {
    p: &'a [u8],
    t: &'a [u8],
    f: WmFlags,
}

/// What a run of stars leaves to do: the answer, or matching resumed at
/// these pattern and text indexes (a `*/` skipped a directory name).
enum Star {
    Done(Wm),
    Resume(usize, usize),
}

/// One item of a `[...]` set: where it ends, the character a following
/// `-` ranges from (0 after a range or a class: neither starts one), and
/// whether the text's character is in it.
struct Item {
    end: usize,
    last: u8,
    hit: bool,
}

impl Wild<'_> {
    fn pat(&self, i: usize) -> u8 {
        self.p.get(i).copied().unwrap_or(0)
    }

    fn txt(&self, i: usize) -> u8 {
        self.t.get(i).copied().unwrap_or(0)
    }

    fn dowild(&self, start: usize, mut ti: usize, depth: usize) -> Wm {
        if depth > WM_MAX_DEPTH {
            return Wm::Match;
        }
        let f = self.f;
        let mut pi = start;
        while self.pat(pi) != 0 {
            let p_ch = self.pat(pi);
            let t_ch = self.txt(ti);
            if t_ch == 0 && p_ch != b'*' {
                return Wm::AbortAll;
            }
            let t_ch = fold(t_ch, f);
            match fold(p_ch, f) {
                b'?' => {
                    if f.pathname && t_ch == b'/' {
                        return Wm::NoMatch;
                    }
                }
                b'*' => match self.star(start, pi, ti, t_ch, depth) {
                    Star::Done(r) => return r,
                    Star::Resume(p_at, t_at) => {
                        (pi, ti) = (p_at, t_at);
                        continue;
                    }
                },
                b'[' => match self.bracket(pi, t_ch) {
                    Ok(end) => pi = end,
                    Err(r) => return r,
                },
                mut p_ch => {
                    // `\x` is a literal x (compared unfolded, as git does).
                    if p_ch == b'\\' {
                        pi += 1;
                        p_ch = self.pat(pi);
                    }
                    if t_ch != p_ch {
                        return Wm::NoMatch;
                    }
                }
            }
            ti += 1;
            pi += 1;
        }
        if self.txt(ti) != 0 {
            Wm::NoMatch
        } else {
            Wm::Match
        }
    }

    /// The stars at `pi` against the text from `ti` (`t_ch`, folded).
    fn star(&self, start: usize, pi: usize, ti: usize, t_ch: u8, depth: usize) -> Star {
        let (pi, match_slash) = match self.stars(start, pi, ti, depth) {
            Ok(run) => run,
            Err(r) => return Star::Done(r),
        };
        let rest = &self.t[ti.min(self.t.len())..];
        if self.pat(pi) == 0 {
            // A trailing `**` matches everything, a trailing `*`
            // only what has no more slashes.
            if !match_slash && rest.contains(&b'/') {
                return Star::Done(Wm::AbortToStarstar);
            }
            return Star::Done(Wm::Match);
        } else if !match_slash && self.pat(pi) == b'/' {
            // One `*` then `/`: the rest of this directory name, and the
            // slash (both sides) consumed here.
            return match rest.iter().position(|&c| c == b'/') {
                None => Star::Done(Wm::AbortAll),
                Some(off) => Star::Resume(pi + 1, ti + off + 1),
            };
        }
        Star::Done(self.star_scan(pi, ti, t_ch, match_slash, depth))
    }

    /// Past the run of stars at `pi`: where the pattern goes on, and
    /// whether the run crosses slashes (`**` between slashes does under
    /// WM_PATHNAME). `Err(Wm::Match)` when a `**/` matching no directory at
    /// all already matched.
    fn stars(&self, start: usize, pi: usize, ti: usize, depth: usize) -> Result<(usize, bool), Wm> {
        let mut pi = pi + 1;
        if self.pat(pi) != b'*' {
            return Ok((pi, !self.f.pathname));
        }
        let prev_p = pi;
        pi += 1;
        while self.pat(pi) == b'*' {
            pi += 1;
        }
        if !self.f.pathname {
            return Ok((pi, true));
        }
        let at = self.pat(pi);
        if (prev_p - start < 2 || self.pat(prev_p - 2) == b'/')
            && (at == 0 || at == b'/' || (at == b'\\' && self.pat(pi + 1) == b'/'))
        {
            // `**/` may match no directory at all: try the rest of the
            // pattern right here first.
            if at == b'/' && self.dowild(pi + 1, ti, depth + 1) == Wm::Match {
                return Err(Wm::Match);
            }
            return Ok((pi, true));
        }
        Ok((pi, false))
    }

    /// The rest of the pattern (from `pi`) tried at each text position the
    /// stars can reach, from `ti` on.
    fn star_scan(
        &self,
        pi: usize,
        mut ti: usize,
        mut t_ch: u8,
        match_slash: bool,
        depth: usize,
    ) -> Wm {
        let f = self.f;
        while t_ch != 0 {
            if !glob_special(self.pat(pi)) {
                // Skip ahead to the literal that follows the star.
                let want = fold(self.pat(pi), f);
                loop {
                    t_ch = self.txt(ti);
                    if t_ch == 0 || (!match_slash && t_ch == b'/') {
                        break;
                    }
                    t_ch = fold(t_ch, f);
                    if t_ch == want {
                        break;
                    }
                    ti += 1;
                }
                if t_ch != want {
                    return if match_slash {
                        Wm::AbortAll
                    } else {
                        Wm::AbortToStarstar
                    };
                }
            }
            let matched = self.dowild(pi, ti, depth + 1);
            if matched != Wm::NoMatch {
                if !match_slash || matched != Wm::AbortToStarstar {
                    return matched;
                }
            } else if !match_slash && t_ch == b'/' {
                return Wm::AbortToStarstar;
            }
            ti += 1;
            t_ch = self.txt(ti);
        }
        Wm::AbortAll
    }

    /// The set `[...]` at `pi` against `t_ch` (folded): `Ok` with the index
    /// of its closing `]` when `t_ch` is in it (out of it, negated), else
    /// what `dowild` answers.
    fn bracket(&self, pi: usize, t_ch: u8) -> Result<usize, Wm> {
        let mut pi = pi + 1;
        let mut p_ch = self.pat(pi);
        if p_ch == b'^' {
            p_ch = b'!';
        }
        let negated = p_ch == b'!';
        if negated {
            pi += 1;
            p_ch = self.pat(pi);
        }
        let mut prev_ch = 0u8;
        let mut matched = false;
        loop {
            let item = self.set_item(pi, p_ch, prev_ch, t_ch)?;
            matched |= item.hit;
            prev_ch = item.last;
            pi = item.end + 1;
            p_ch = self.pat(pi);
            if p_ch == b']' {
                break;
            }
        }
        if matched == negated || (self.f.pathname && t_ch == b'/') {
            return Err(Wm::NoMatch);
        }
        Ok(pi)
    }

    /// The set item at `pi` (`p_ch` is `pat(pi)`; `prev_ch` the previous
    /// item's `last`): an escaped character, a range, a class or a
    /// character.
    fn set_item(&self, pi: usize, p_ch: u8, prev_ch: u8, t_ch: u8) -> Result<Item, Wm> {
        if p_ch == 0 {
            return Err(Wm::AbortAll);
        }
        let next = self.pat(pi + 1);
        if p_ch == b'\\' {
            if next == 0 {
                return Err(Wm::AbortAll);
            }
            let hit = t_ch == next;
            return Ok(Item {
                end: pi + 1,
                last: next,
                hit,
            });
        }
        if p_ch == b'-' && prev_ch != 0 && next != 0 && next != b']' {
            return self.range(pi + 1, prev_ch, t_ch);
        }
        if p_ch == b'[' && next == b':' {
            return self.class(pi + 2, t_ch);
        }
        Ok(Item {
            end: pi,
            last: p_ch,
            hit: t_ch == p_ch,
        })
    }

    /// `prev_ch-X`, `X` (maybe escaped) at `pi`.
    fn range(&self, mut pi: usize, prev_ch: u8, t_ch: u8) -> Result<Item, Wm> {
        let mut p_ch = self.pat(pi);
        if p_ch == b'\\' {
            pi += 1;
            p_ch = self.pat(pi);
            if p_ch == 0 {
                return Err(Wm::AbortAll);
            }
        }
        let mut hit = t_ch <= p_ch && t_ch >= prev_ch;
        if !hit && self.f.casefold && t_ch.is_ascii_lowercase() {
            let up = t_ch.to_ascii_uppercase();
            hit = up <= p_ch && up >= prev_ch;
        }
        Ok(Item {
            end: pi,
            last: 0,
            hit,
        })
    }

    /// `[:name:]`, its name starting at `s`; without the closing `:]`, the
    /// `[` is a plain character of the set.
    fn class(&self, s: usize, t_ch: u8) -> Result<Item, Wm> {
        let mut pi = s;
        let mut p_ch;
        loop {
            p_ch = self.pat(pi);
            if p_ch == 0 || p_ch == b']' {
                break;
            }
            pi += 1;
        }
        if p_ch == 0 {
            return Err(Wm::AbortAll);
        }
        if pi < s + 1 || self.pat(pi - 1) != b':' {
            return Ok(Item {
                end: s - 2,
                last: b'[',
                hit: t_ch == b'[',
            });
        }
        match class_matches(&self.p[s..pi - 1], t_ch, self.f) {
            Some(hit) => Ok(Item {
                end: pi,
                last: 0,
                hit,
            }),
            None => Err(Wm::AbortAll),
        }
    }
}

fn until_nul(s: &[u8]) -> &[u8] {
    match s.iter().position(|&c| c == 0) {
        Some(i) => &s[..i],
        None => s,
    }
}

/// git's `wildmatch(pattern, text, WM_PATHNAME | (casefold ? WM_CASEFOLD : 0))`.
pub fn wildmatch(pattern: &[u8], text: &[u8], casefold: bool) -> bool {
    let f = WmFlags {
        pathname: true,
        casefold,
    };
    dowild(until_nul(pattern), 0, until_nul(text), 0, f, 0) == Wm::Match
}

// ---------------------------------------------------------------------------
// Includes.

/// Which of git's configuration files a setting comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    System,
    Global,
    Local,
    Worktree,
    /// `GIT_CONFIG_COUNT`/`git -c`: no file.
    Command,
}

/// A config file git reads for the repository at hand, in git's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub path: PathBuf,
    pub scope: Scope,
}

/// What [`World::load`] found.
#[derive(Debug, Clone)]
pub enum Load {
    Text(Rc<[u8]>),
    Missing,
    /// Exists but could not be read (git would stop with an error).
    Failed(String),
}

/// The current branch, for `onbranch:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Head {
    /// `refs/heads/<name>` checked out.
    Branch(Vec<u8>),
    Detached,
    /// Cannot tell cheaply (no HEAD, a reftable repository).
    Unknown,
}

/// Everything expansion reads.
pub trait World {
    fn load(&mut self, path: &Path) -> Load;
    /// HEAD of the repository the config is read for.
    fn head(&mut self) -> Head;
    /// `~user`'s home directory.
    fn user_home(&mut self, user: &[u8]) -> Option<PathBuf>;
    /// `realpath`, or `None` when the path cannot be resolved.
    fn realpath(&mut self, path: &Path) -> Option<PathBuf>;
}

/// What include conditions are decided against.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The repository's git directory: where `.git` leads after pointer
    /// files (a linked worktree's own, a submodule's under `modules/`).
    /// `None`: no repository in particular, so with `follow_mutable` a
    /// `gitdir:` condition may hold (for a repository git runs in later).
    pub git_dir: Option<PathBuf>,
    /// `$HOME`, for `~` (git uses it as set, and its realpath in patterns).
    pub home: Option<PathBuf>,
    /// Also read includes whose condition is false now but can turn true
    /// while the config stays as it is: `onbranch:` (a checkout), `hasconfig:`
    /// (a new remote), and conditions git 2.47 does not know (a newer git
    /// may). Their settings come out with `active == false`. A plan that pins
    /// files for later git runs wants this; a question about what git reads
    /// right now does not.
    pub follow_mutable: bool,
}

/// Where a setting was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    File { path: Rc<Path>, line: usize },
    Command,
}

impl Origin {
    pub fn file(&self) -> Option<&Path> {
        match self {
            Origin::File { path, .. } => Some(path),
            Origin::Command => None,
        }
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::File { path, line } => write!(f, "{}:{line}", super::shown(&**path)),
            Origin::Command => write!(f, "GIT_CONFIG_COUNT"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub entry: Entry,
    pub origin: Origin,
    pub scope: Scope,
    /// False when read through an include that is not taken right now but
    /// may be later (see [`Context::follow_mutable`]).
    pub active: bool,
}

/// One file git opens while reading the config: a source, or an include
/// target (taken, or followed as mutable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRead {
    pub path: PathBuf,
    pub scope: Scope,
    /// The include line that named it (`None` for a source).
    pub included_by: Option<(Origin, String)>,
    pub exists: bool,
    pub active: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expanded {
    pub settings: Vec<Setting>,
    pub files: Vec<FileRead>,
    /// Where git would stop with an error, and includes that cannot be
    /// resolved (`~user` unknown, `%(prefix)`).
    pub errors: Vec<String>,
}

/// git's `interpolate_path`: `~`, `~/x`, `~user/x`; `None` where git fails
/// (no `$HOME`, unknown user, `%(prefix)/`, whose install prefix the plan
/// does not know).
pub fn interpolate(value: &[u8], home: Option<&Path>, world: &mut dyn World) -> Option<PathBuf> {
    let value = until_nul(value);
    if value.starts_with(b"%(prefix)/") {
        return None;
    }
    let Some(rest) = value.strip_prefix(b"~") else {
        return Some(PathBuf::from(OsStr::from_bytes(value)));
    };
    let slash = rest.iter().position(|&c| c == b'/').unwrap_or(rest.len());
    let (user, tail) = rest.split_at(slash);
    let base = if user.is_empty() {
        home?.to_path_buf()
    } else {
        world.user_home(user)?
    };
    let mut out = base.into_os_string().into_vec();
    out.extend_from_slice(tail);
    Some(PathBuf::from(OsString::from_vec(out)))
}

/// How an include condition stands.
enum Cond {
    True,
    False,
    /// False (or unknown) now, but may become true without a config change.
    Mutable,
}

struct Expander<'a> {
    ctx: &'a Context,
    world: &'a mut dyn World,
    /// `None` on the first pass: every `hasconfig:` is taken, as git's own
    /// scan for remote URLs does.
    urls: Option<Vec<Vec<u8>>>,
    saw_hasconfig: bool,
    out: Expanded,
}

fn join_bytes(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut v = a.to_vec();
    v.extend_from_slice(b);
    v
}

impl Expander<'_> {
    fn source(&mut self, path: &Path, scope: Scope) {
        self.file(path.to_path_buf(), scope, None, 0, true);
    }

    fn file(
        &mut self,
        path: PathBuf,
        scope: Scope,
        included_by: Option<(Origin, String)>,
        depth: usize,
        active: bool,
    ) {
        let load = self.world.load(&path);
        let exists = !matches!(load, Load::Missing);
        self.out.files.push(FileRead {
            path: path.clone(),
            scope,
            included_by,
            exists,
            active,
        });
        let text = match load {
            Load::Text(t) => t,
            Load::Missing => return,
            Load::Failed(e) => {
                self.out
                    .errors
                    .push(format!("cannot read {}: {e}", super::shown(&path)));
                return;
            }
        };
        let parsed = parse(&text);
        let rc: Rc<Path> = Rc::from(path.as_path());
        for e in &parsed.errors {
            self.out.errors.push(format!(
                "bad config line {} in {} ({}); git stops there",
                e.line,
                super::shown(&path),
                e.what
            ));
        }
        for entry in parsed.entries {
            let origin = Origin::File {
                path: rc.clone(),
                line: entry.line,
            };
            self.setting(entry, origin, scope, depth, active);
        }
    }

    fn setting(&mut self, entry: Entry, origin: Origin, scope: Scope, depth: usize, active: bool) {
        let include = entry.is("include", "path");
        let cond = entry.sub_of("includeif", "path").map(<[u8]>::to_vec);
        if !include && cond.is_none() {
            self.out.settings.push(Setting {
                entry,
                origin,
                scope,
                active,
            });
            return;
        }
        // git passes include lines on too (`git config --list` shows them).
        let value = entry.value.clone();
        let name = entry.name();
        self.out.settings.push(Setting {
            entry,
            origin: origin.clone(),
            scope,
            active,
        });
        if include {
            self.include(value.as_deref(), &origin, &name, scope, depth, active);
        } else if let Some(cond) = cond {
            match self.condition(&cond, &origin) {
                Cond::True => self.include(value.as_deref(), &origin, &name, scope, depth, active),
                Cond::Mutable if self.ctx.follow_mutable => {
                    self.include(value.as_deref(), &origin, &name, scope, depth, false)
                }
                _ => {}
            }
        }
    }

    fn include(
        &mut self,
        value: Option<&[u8]>,
        origin: &Origin,
        name: &str,
        scope: Scope,
        depth: usize,
        active: bool,
    ) {
        let Some(value) = value else {
            self.out
                .errors
                .push(format!("{name} at {origin} has no value; git stops there"));
            return;
        };
        let Some(path) = interpolate(value, self.ctx.home.as_deref(), self.world) else {
            self.out.errors.push(format!(
                "{name} at {origin}: cannot expand {}",
                String::from_utf8_lossy(value).escape_debug()
            ));
            return;
        };
        let path = if path.is_absolute() {
            path
        } else {
            // Relative to the including file's directory (as spelled).
            match origin.file().and_then(Path::parent) {
                Some(dir) => dir.join(path),
                None => {
                    self.out.errors.push(format!(
                        "{name} from {origin} is relative; git only takes relative includes from files"
                    ));
                    return;
                }
            }
        };
        if depth + 1 > MAX_INCLUDE_DEPTH {
            self.out.errors.push(format!(
                "{name} at {origin}: includes nest deeper than {MAX_INCLUDE_DEPTH}; git stops there"
            ));
            return;
        }
        let by = Some((origin.clone(), name.to_string()));
        self.file(path, scope, by, depth + 1, active);
    }

    fn condition(&mut self, cond: &[u8], origin: &Origin) -> Cond {
        if let Some(p) = cond.strip_prefix(b"gitdir:") {
            self.gitdir(p, false, origin)
        } else if let Some(p) = cond.strip_prefix(b"gitdir/i:") {
            self.gitdir(p, true, origin)
        } else if let Some(p) = cond.strip_prefix(b"onbranch:") {
            self.onbranch(p)
        } else if let Some(p) = cond.strip_prefix(b"hasconfig:remote.*.url:") {
            self.saw_hasconfig = true;
            match &self.urls {
                None => Cond::True,
                Some(urls) if urls.iter().any(|u| wildmatch(p, u, false)) => Cond::True,
                Some(_) => Cond::Mutable,
            }
        } else {
            // git 2.47 takes unknown conditions as false; a newer git may
            // know them.
            Cond::Mutable
        }
    }

    /// `include_by_gitdir` with `prepare_include_condition_pattern`.
    fn gitdir(&mut self, pat: &[u8], icase: bool, origin: &Origin) -> Cond {
        let ctx = self.ctx;
        let Some(git_dir) = ctx.git_dir.clone() else {
            // Read for no repository in particular: some repository git
            // runs in later may match.
            return if ctx.follow_mutable {
                Cond::Mutable
            } else {
                Cond::False
            };
        };
        let home = ctx
            .home
            .as_deref()
            .map(|h| self.world.realpath(h).unwrap_or_else(|| h.to_path_buf()));
        let mut pattern = match interpolate(pat, home.as_deref(), self.world) {
            Some(p) => p.into_os_string().into_vec(),
            None => pat.to_vec(),
        };
        let mut prefix = 0;
        if pattern.starts_with(b"./") {
            // Relative to the directory of the (real) including file.
            let Some(file) = origin.file() else {
                return Cond::False;
            };
            let real = self
                .world
                .realpath(file)
                .unwrap_or_else(|| file.to_path_buf());
            let dir = real.parent().unwrap_or(Path::new("/"));
            let dir = dir.as_os_str().as_bytes();
            pattern = join_bytes(dir, &pattern[1..]);
            prefix = dir.len() + 1;
        } else if !pattern.starts_with(b"/") {
            pattern = join_bytes(b"**/", &pattern);
        }
        if pattern.ends_with(b"/") {
            pattern.extend_from_slice(b"**");
        }
        // The realpath first, then the path as found.
        let real = self.world.realpath(&git_dir).unwrap_or(git_dir.clone());
        for text in [real.as_os_str().as_bytes(), git_dir.as_os_str().as_bytes()] {
            if prefix > 0 {
                if text.len() < prefix {
                    continue;
                }
                let same = if icase {
                    pattern[..prefix].eq_ignore_ascii_case(&text[..prefix])
                } else {
                    pattern[..prefix] == text[..prefix]
                };
                if !same {
                    continue;
                }
            }
            if wildmatch(&pattern[prefix..], &text[prefix..], icase) {
                return Cond::True;
            }
        }
        Cond::False
    }

    fn onbranch(&mut self, pat: &[u8]) -> Cond {
        let mut pattern = pat.to_vec();
        if pattern.ends_with(b"/") {
            pattern.extend_from_slice(b"**");
        }
        match self.world.head() {
            Head::Branch(b) if wildmatch(&pattern, &b, false) => Cond::True,
            // Another branch, detached, or unknown: a checkout changes it.
            _ => Cond::Mutable,
        }
    }
}

/// Reads `sources` in order, with every include git takes (and, with
/// `follow_mutable`, every one it may take later), then `command` settings.
pub fn expand(
    sources: &[Source],
    command: &[Entry],
    ctx: &Context,
    world: &mut dyn World,
) -> Expanded {
    let (first, saw_hasconfig) = expand_pass(sources, command, ctx, world, None);
    if !saw_hasconfig {
        return first;
    }
    // `hasconfig:remote.*.url:` looks at every remote URL of the whole
    // config, so it is decided on a second pass (the world caches loads,
    // so this reads nothing twice).
    let urls = first
        .settings
        .iter()
        .filter(|s| s.entry.sub_of("remote", "url").is_some())
        .filter_map(|s| s.entry.value.clone())
        .collect();
    expand_pass(sources, command, ctx, world, Some(urls)).0
}

fn expand_pass(
    sources: &[Source],
    command: &[Entry],
    ctx: &Context,
    world: &mut dyn World,
    urls: Option<Vec<Vec<u8>>>,
) -> (Expanded, bool) {
    let mut x = Expander {
        ctx,
        world,
        urls,
        saw_hasconfig: false,
        out: Expanded::default(),
    };
    for s in sources {
        x.source(&s.path, s.scope);
    }
    for e in command {
        x.setting(e.clone(), Origin::Command, Scope::Command, 0, true);
    }
    (x.out, x.saw_hasconfig)
}

/// Parses `GIT_CONFIG_KEY_n`-style `section.sub.key` names (git's
/// `git_config_parse_key`): section and key lower-cased, subsection kept.
pub fn parse_key(name: &[u8]) -> Option<(String, Option<Vec<u8>>, String)> {
    let first = name.iter().position(|&c| c == b'.')?;
    let last = name.iter().rposition(|&c| c == b'.')?;
    let section = &name[..first];
    let key = &name[last + 1..];
    if section.is_empty()
        || key.is_empty()
        || !key[0].is_ascii_alphabetic()
        || !key.iter().all(|&c| is_keychar(c))
        || !section.iter().all(|&c| is_keychar(c))
    {
        return None;
    }
    let sub = (first != last).then(|| name[first + 1..last].to_vec());
    Some((
        String::from_utf8_lossy(section).to_ascii_lowercase(),
        sub,
        String::from_utf8_lossy(key).to_ascii_lowercase(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn one(text: &str) -> Vec<(String, Option<String>, String, Option<String>)> {
        let p = parse(text.as_bytes());
        assert!(p.errors.is_empty(), "{text:?}: {:?}", p.errors);
        p.entries
            .into_iter()
            .map(|e| {
                (
                    e.section,
                    e.subsection
                        .map(|s| String::from_utf8_lossy(&s).into_owned()),
                    e.key,
                    e.value.map(|v| String::from_utf8_lossy(&v).into_owned()),
                )
            })
            .collect()
    }

    fn kv(
        s: &str,
        sub: Option<&str>,
        k: &str,
        v: Option<&str>,
    ) -> (String, Option<String>, String, Option<String>) {
        (s.into(), sub.map(Into::into), k.into(), v.map(Into::into))
    }

    #[test]
    fn sections_subsections_and_case() {
        let got = one(
            "[Core]\n\tHooksPath = .husky/_\n[Filter \"LFS\"]\n\tSmudge = git-lfs smudge -- %f\n\
             [Old.Style]\nKey = v\n[a.b \"C\"]\nx = 1\n[core] bare\n",
        );
        assert_eq!(
            got,
            vec![
                kv("core", None, "hookspath", Some(".husky/_")),
                kv(
                    "filter",
                    Some("LFS"),
                    "smudge",
                    Some("git-lfs smudge -- %f")
                ),
                // The old form lower-cases its subsection.
                kv("old", Some("style"), "key", Some("v")),
                kv("a", Some("b.C"), "x", Some("1")),
                kv("core", None, "bare", None),
            ]
        );
    }

    #[test]
    fn values_quotes_escapes_comments_and_continuations() {
        let got = one(concat!(
            "[s]\n",
            "a = one two  ; comment\n",
            "b = \"  padded # not a comment \"\n",
            "c = x\\\n  y\n",
            "d = tab\\there\\nnl \\\"q\\\" back\\\\slash\n",
            "e =\n",
            "f = mid\"quoted  part\"end   \n",
            "g=no-spaces#c\n",
            "h = \"\"\n",
            "i = a\"\"  \n",
        ));
        let v: Vec<Option<String>> = got.into_iter().map(|e| e.3).collect();
        assert_eq!(
            v,
            vec![
                Some("one two".into()),
                Some("  padded # not a comment ".into()),
                Some("x  y".into()),
                Some("tab\there\nnl \"q\" back\\slash".into()),
                Some("".into()),
                Some("midquoted  partend".into()),
                Some("no-spaces".into()),
                Some("".into()),
                Some("a".into()),
            ]
        );
    }

    #[test]
    fn subsection_escapes_and_crlf_and_bom() {
        let got = one("\u{feff}[s \"a\\\"b\\\\c\\t\"]\r\nk = v\r\n");
        assert_eq!(got, vec![kv("s", Some("a\"b\\ct"), "k", Some("v"))]);
    }

    #[test]
    fn lines_are_counted_across_continuations() {
        let p = parse(b"[a]\nx = 1\\\n2\ny = 3\n\n[b]\nz\n");
        let lines: Vec<usize> = p.entries.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 4, 7]);
    }

    #[test]
    fn bad_lines_are_reported_and_skipped() {
        let p = parse(b"[core]\nbare # c\n%junk\nok = 1\n[bad\nk = \"open\nafter = 2\n[s \"x\"] t = \\q\nlast = 3\n");
        let errs: Vec<usize> = p.errors.iter().map(|e| e.line).collect();
        assert_eq!(errs, vec![2, 3, 5, 6, 8], "{:?}", p.errors);
        let keys: Vec<String> = p.entries.iter().map(|e| e.name()).collect();
        // After the bad header, keys have no section (git stopped anyway).
        assert_eq!(keys, vec!["core.ok", ".after", "s.x.last"]);
    }

    #[test]
    fn garbage_never_panics() {
        // A small deterministic generator (no rand dependency): bytes biased
        // towards the syntax characters.
        let alphabet = b"[]\"\\=#; \t\r\n.abcXYZ-09~/\x00\xff\xef\xbb\xbf*?!^:";
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        for round in 0..3000 {
            let len = (round % 97) + 1;
            let mut s = Vec::with_capacity(len);
            for _ in 0..len {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                s.push(alphabet[(seed % alphabet.len() as u64) as usize]);
            }
            let p = parse(&s);
            for e in &p.entries {
                let _ = e.name();
            }
            let _ = wildmatch(&s, &s[s.len() / 2..], round % 2 == 0);
            let _ = parse_key(&s);
            let _ = parse_bool(Some(&s));
        }
        // Huge and pathological inputs.
        let _ = parse(&vec![b'['; 100_000]);
        let _ = parse(&vec![b'\\'; 100_000]);
        let _ = parse(&[b"[s]\nk = \"".as_slice(), &vec![b'x'; 100_000]].concat());
        let stars = "*a".repeat(5000);
        assert!(!wildmatch(
            stars.as_bytes(),
            "b".repeat(300).as_bytes(),
            false
        ));
    }

    /// `git config --file F --list -z --no-includes`: Ok(name[=value]...)
    /// or Err(line git stops at).
    fn git_lists(path: &Path) -> Result<Vec<Vec<u8>>, usize> {
        let out = std::process::Command::new("git")
            .args(["config", "--no-includes", "--list", "-z", "--file"])
            .arg(path)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap_or_else(|e| {
                panic!("this test needs the git binary (apt-get install git): running git: {e}")
            });
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let line = err
                .split("bad config line ")
                .nth(1)
                .and_then(|r| r.split_whitespace().next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("unexpected git error: {err}"));
            return Err(line);
        }
        Ok(out
            .stdout
            .split(|&c| c == 0)
            .filter(|e| !e.is_empty())
            .map(|e| match e.iter().position(|&c| c == b'\n') {
                Some(i) => [&e[..i], b"=", &e[i + 1..]].concat(),
                None => e.to_vec(),
            })
            .collect())
    }

    fn ours(text: &[u8]) -> Result<Vec<Vec<u8>>, usize> {
        let p = parse(text);
        if let Some(e) = p.errors.first() {
            return Err(e.line);
        }
        Ok(p.entries
            .iter()
            .map(|e| {
                let mut name = e.section.as_bytes().to_vec();
                if let Some(sub) = &e.subsection {
                    name.push(b'.');
                    name.extend_from_slice(sub);
                }
                // A key before any section header has no dot at all.
                if !name.is_empty() {
                    name.push(b'.');
                }
                name.extend_from_slice(e.key.as_bytes());
                if let Some(v) = &e.value {
                    name.push(b'=');
                    name.extend_from_slice(v);
                }
                name
            })
            .collect())
    }

    #[test]
    fn the_parser_agrees_with_git_config_list() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        let mut cases: Vec<Vec<u8>> = [
            "[core]\n\thooksPath = .husky/_\n",
            "[Sec \"Sub Sec\"]\n Key=\"a\\\"b\" ; c\n[a.B.c]\nk\n",
            "[ s \"x\"]\nk = v\n",
            "[s]k=v\n[t] u = \"  w  \"  # x\n",
            "[s]\nk = a\\\n  b\\\n\n",
            "[s]\nk = \\t\\n\\b\\\\\n",
            "\u{feff}[s]\r\nk = v\r\n",
            "[s]\nk = v\rw\n",
            "[s]\n k = v \t \n",
            "k = before any section\n",
            "[s]\nk = \"unterminated\n",
            "[s]\nk = \\q\n",
            "[s \"a\nb\"]\n",
            "[s]\nbare # comment\n",
            "[]\nk = v\n",
            "[s]\n1k = v\n",
            "[s.x \"y\"]\nk=1\n",
            "[s \"x\" ]\nk=1\n",
            "[s]\nk=\"\"\"\"x\n",
            "[s]\nk=a\"#\"b#c\n",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        // Generated files: mostly valid lines, some broken ones.
        let pieces: [&[u8]; 24] = [
            b"[core]",
            b"[Sec \"Sub\"]",
            b"[a.B]",
            b"[x \"q\\\"u\"]",
            b"[bad",
            b"key",
            b"Key-2 = v",
            b"k = \"quoted ; # x\"",
            b"k = a ; c",
            b"k = a\\\n b",
            b"k = \\n\\t",
            b"k =   spaced   ",
            b"k = \"un",
            b"k = \\z",
            b"# comment",
            b"; comment",
            b"",
            b"\tk = tab",
            b"k=\"\"",
            b"9 = x",
            b"k = x\"y\"z",
            b"[s] k = 1",
            b"k = v\r",
            b"k",
        ];
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..300 {
            let mut text = Vec::new();
            for _ in 0..(seed % 8 + 1) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                text.extend_from_slice(pieces[(seed % pieces.len() as u64) as usize]);
                text.push(b'\n');
            }
            cases.push(text);
        }
        for text in cases {
            std::fs::write(&path, &text).unwrap();
            assert_eq!(
                ours(&text),
                git_lists(&path),
                "{:?}",
                String::from_utf8_lossy(&text)
            );
        }
    }

    #[test]
    fn booleans() {
        for t in ["true", "YES", "on", "1", "-3", "2k"] {
            assert_eq!(parse_bool(Some(t.as_bytes())), Some(true), "{t}");
        }
        for f in ["false", "No", "off", "0", ""] {
            assert_eq!(parse_bool(Some(f.as_bytes())), Some(false), "{f}");
        }
        assert_eq!(parse_bool(None), Some(true));
        assert_eq!(parse_bool(Some(b".git/hooks/fsmonitor-watchman")), None);
    }

    #[test]
    fn wildmatch_agrees_with_git() {
        let yes = [
            ("**/foo/bar", "/x/y/foo/bar"),
            ("/a/**", "/a/b/c"),
            ("/a/**/c", "/a/c"),
            ("/a/**/c", "/a/b/b/c"),
            ("/a/*/c", "/a/b/c"),
            ("feature/*", "feature/x"),
            ("f[a-c]o", "fbo"),
            ("f[!x]o", "fbo"),
            ("[[:upper:]]*", "Main"),
            ("a\\*b", "a*b"),
            ("https://example.com/**", "https://example.com/org/repo.git"),
            ("**/.git", "/repo/.git"),
        ];
        for (p, t) in yes {
            assert!(wildmatch(p.as_bytes(), t.as_bytes(), false), "{p} vs {t}");
        }
        let no = [
            ("/a/*", "/a/b/c"),
            ("/a/*/c", "/a/b/b/c"),
            ("f?o", "f/o"),
            ("feature/*", "feature/x/y"),
            ("[[:bogus:]]", "a"),
            ("/A/**", "/a/b"),
        ];
        for (p, t) in no {
            assert!(!wildmatch(p.as_bytes(), t.as_bytes(), false), "{p} vs {t}");
        }
        assert!(wildmatch(b"/A/**", b"/a/b", true));
    }

    /// git's own wildmatch table (t/t3070-wildmatch.sh, the test-tool
    /// columns): per case, whether it matches under WM_PATHNAME, under
    /// WM_PATHNAME | WM_CASEFOLD, with no flag, and under WM_CASEFOLD; then
    /// the text and the pattern. Pins `dowild` as a whole, through splits.
    const T3070: &[(&str, &str, &str)] = &[
        ("1111", "foo", "foo"),
        ("0000", "foo", "bar"),
        ("1111", "", ""),
        ("1111", "foo", "???"),
        ("0000", "foo", "??"),
        ("1111", "foo", "*"),
        ("1111", "foo", "f*"),
        ("0000", "foo", "*f"),
        ("1111", "foo", "*foo*"),
        ("1111", "foobar", "*ob*a*r*"),
        ("1111", "aaaaaaabababab", "*ab"),
        ("1111", "foo*", r#"foo\*"#),
        ("0000", "foobar", r#"foo\*bar"#),
        ("1111", r#"f\oo"#, r#"f\\oo"#),
        ("1111", "ball", "*[al]?"),
        ("0000", "ten", "[ten]"),
        ("1111", "ten", "**[!te]"),
        ("0000", "ten", "**[!ten]"),
        ("1111", "ten", "t[a-g]n"),
        ("0000", "ten", "t[!a-g]n"),
        ("1111", "ton", "t[!a-g]n"),
        ("1111", "ton", "t[^a-g]n"),
        ("1111", "a]b", "a[]]b"),
        ("1111", "a-b", "a[]-]b"),
        ("1111", "a]b", "a[]-]b"),
        ("0000", "aab", "a[]-]b"),
        ("1111", "aab", "a[]a-]b"),
        ("1111", "]", "]"),
        ("0011", "foo/baz/bar", "foo*bar"),
        ("0011", "foo/baz/bar", "foo**bar"),
        ("1111", "foobazbar", "foo**bar"),
        ("1111", "foo/baz/bar", "foo/**/bar"),
        ("1100", "foo/baz/bar", "foo/**/**/bar"),
        ("1111", "foo/b/a/z/bar", "foo/**/bar"),
        ("1111", "foo/b/a/z/bar", "foo/**/**/bar"),
        ("1100", "foo/bar", "foo/**/bar"),
        ("1100", "foo/bar", "foo/**/**/bar"),
        ("0011", "foo/bar", "foo?bar"),
        ("0011", "foo/bar", "foo[/]bar"),
        ("0011", "foo/bar", "foo[^a-z]bar"),
        ("0011", "foo/bar", "f[^eiu][^eiu][^eiu][^eiu][^eiu]r"),
        ("1111", "foo-bar", "f[^eiu][^eiu][^eiu][^eiu][^eiu]r"),
        ("1100", "foo", "**/foo"),
        ("1111", "XXX/foo", "**/foo"),
        ("1111", "bar/baz/foo", "**/foo"),
        ("0011", "bar/baz/foo", "*/foo"),
        ("0011", "foo/bar/baz", "**/bar*"),
        ("1111", "deep/foo/bar/baz", "**/bar/*"),
        ("0011", "deep/foo/bar/baz/", "**/bar/*"),
        ("1111", "deep/foo/bar/baz/", "**/bar/**"),
        ("0000", "deep/foo/bar", "**/bar/*"),
        ("1111", "deep/foo/bar/", "**/bar/**"),
        ("0011", "foo/bar/baz", "**/bar**"),
        ("1111", "foo/bar/baz/x", "*/bar/**"),
        ("0011", "deep/foo/bar/baz/x", "*/bar/**"),
        ("1111", "deep/foo/bar/baz/x", "**/bar/*/*"),
        ("0000", "acrt", "a[c-c]st"),
        ("1111", "acrt", "a[c-c]rt"),
        ("0000", "]", "[!]-]"),
        ("1111", "a", "[!]-]"),
        ("0000", "", r#"\"#),
        ("0000", r#"\"#, r#"\"#),
        ("0000", r#"XXX/\"#, r#"*/\"#),
        ("1111", r#"XXX/\"#, r#"*/\\"#),
        ("1111", "foo", "foo"),
        ("1111", "@foo", "@foo"),
        ("0000", "foo", "@foo"),
        ("1111", "[ab]", r#"\[ab]"#),
        ("1111", "[ab]", "[[]ab]"),
        ("1111", "[ab]", "[[:]ab]"),
        ("0000", "[ab]", "[[::]ab]"),
        ("1111", "[ab]", "[[:digit]ab]"),
        ("1111", "[ab]", r#"[\[:]ab]"#),
        ("1111", "?a?b", r#"\??\?b"#),
        ("1111", "abc", r#"\a\b\c"#),
        ("0000", "foo", ""),
        ("1111", "foo/bar/baz/to", "**/t[o]"),
        ("1111", "a1B", "[[:alpha:]][[:digit:]][[:upper:]]"),
        ("0101", "a", "[[:digit:][:upper:][:space:]]"),
        ("1111", "A", "[[:digit:][:upper:][:space:]]"),
        ("1111", "1", "[[:digit:][:upper:][:space:]]"),
        ("0000", "1", "[[:digit:][:upper:][:spaci:]]"),
        ("1111", " ", "[[:digit:][:upper:][:space:]]"),
        ("0000", ".", "[[:digit:][:upper:][:space:]]"),
        ("1111", ".", "[[:digit:][:punct:][:space:]]"),
        ("1111", "5", "[[:xdigit:]]"),
        ("1111", "f", "[[:xdigit:]]"),
        ("1111", "D", "[[:xdigit:]]"),
        (
            "1111",
            "_",
            "[[:alnum:][:alpha:][:blank:][:cntrl:][:digit:][:graph:][:lower:][:print:][:punct:][:space:][:upper:][:xdigit:]]",
        ),
        (
            "1111",
            ".",
            "[^[:alnum:][:alpha:][:blank:][:cntrl:][:digit:][:lower:][:space:][:upper:][:xdigit:]]",
        ),
        ("1111", "5", "[a-c[:digit:]x-z]"),
        ("1111", "b", "[a-c[:digit:]x-z]"),
        ("1111", "y", "[a-c[:digit:]x-z]"),
        ("0000", "q", "[a-c[:digit:]x-z]"),
        ("1111", "]", r#"[\\-^]"#),
        ("0000", "[", r#"[\\-^]"#),
        ("1111", "-", r#"[\-_]"#),
        ("1111", "]", r#"[\]]"#),
        ("0000", r#"\]"#, r#"[\]]"#),
        ("0000", r#"\"#, r#"[\]]"#),
        ("0000", "ab", "a[]b"),
        ("0000", "a[]b", "a[]b"),
        ("0000", "ab[", "ab["),
        ("0000", "ab", "[!"),
        ("0000", "ab", "[-"),
        ("1111", "-", "[-]"),
        ("0000", "-", "[a-"),
        ("0000", "-", "[!a-"),
        ("1111", "-", "[--A]"),
        ("1111", "5", "[--A]"),
        ("1111", " ", "[ --]"),
        ("1111", "$", "[ --]"),
        ("1111", "-", "[ --]"),
        ("0000", "0", "[ --]"),
        ("1111", "-", "[---]"),
        ("1111", "-", "[------]"),
        ("0000", "j", "[a-e-n]"),
        ("1111", "-", "[a-e-n]"),
        ("1111", "a", "[!------]"),
        ("0000", "[", "[]-a]"),
        ("1111", "^", "[]-a]"),
        ("0000", "^", "[!]-a]"),
        ("1111", "[", "[!]-a]"),
        ("1111", "^", "[a^bc]"),
        ("1111", "-b]", "[a-]b]"),
        ("0000", r#"\"#, r#"[\]"#),
        ("1111", r#"\"#, r#"[\\]"#),
        ("0000", r#"\"#, r#"[!\\]"#),
        ("1111", "G", r#"[A-\\]"#),
        ("0000", "aaabbb", "b*a"),
        ("0000", "aabcaa", "*ba*"),
        ("1111", ",", "[,]"),
        ("1111", ",", r#"[\\,]"#),
        ("1111", r#"\"#, r#"[\\,]"#),
        ("1111", "-", "[,-.]"),
        ("0000", "+", "[,-.]"),
        ("0000", "-.]", "[,-.]"),
        ("1111", "2", r#"[\1-\3]"#),
        ("1111", "3", r#"[\1-\3]"#),
        ("0000", "4", r#"[\1-\3]"#),
        ("1111", r#"\"#, r#"[[-\]]"#),
        ("1111", "[", r#"[[-\]]"#),
        ("1111", "]", r#"[[-\]]"#),
        ("0000", "-", r#"[[-\]]"#),
        (
            "1111",
            "-adobe-courier-bold-o-normal--12-120-75-75-m-70-iso8859-1",
            "-*-*-*-*-*-*-12-*-*-*-m-*-*-*",
        ),
        (
            "0000",
            "-adobe-courier-bold-o-normal--12-120-75-75-X-70-iso8859-1",
            "-*-*-*-*-*-*-12-*-*-*-m-*-*-*",
        ),
        (
            "0000",
            "-adobe-courier-bold-o-normal--12-120-75-75-/-70-iso8859-1",
            "-*-*-*-*-*-*-12-*-*-*-m-*-*-*",
        ),
        (
            "1111",
            "XXX/adobe/courier/bold/o/normal//12/120/75/75/m/70/iso8859/1",
            "XXX/*/*/*/*/*/*/12/*/*/*/m/*/*/*",
        ),
        (
            "0000",
            "XXX/adobe/courier/bold/o/normal//12/120/75/75/X/70/iso8859/1",
            "XXX/*/*/*/*/*/*/12/*/*/*/m/*/*/*",
        ),
        (
            "1111",
            "abcd/abcdefg/abcdefghijk/abcdefghijklmnop.txt",
            "**/*a*b*g*n*t",
        ),
        (
            "0000",
            "abcd/abcdefg/abcdefghijk/abcdefghijklmnop.txtz",
            "**/*a*b*g*n*t",
        ),
        ("0000", "foo", "*/*/*"),
        ("0000", "foo/bar", "*/*/*"),
        ("1111", "foo/bba/arr", "*/*/*"),
        ("0011", "foo/bb/aa/rr", "*/*/*"),
        ("1111", "foo/bb/aa/rr", "**/**/**"),
        ("1111", "abcXdefXghi", "*X*i"),
        ("0011", "ab/cXd/efXg/hi", "*X*i"),
        ("1111", "ab/cXd/efXg/hi", "*/*X*/*/*i"),
        ("1111", "ab/cXd/efXg/hi", "**/*X*/**/*i"),
        ("0000", "foo", "fo"),
        ("1111", "foo/bar", "foo/bar"),
        ("1111", "foo/bar", "foo/*"),
        ("0011", "foo/bba/arr", "foo/*"),
        ("1111", "foo/bba/arr", "foo/**"),
        ("0011", "foo/bba/arr", "foo*"),
        ("0011", "foo/bba/arr", "foo**"),
        ("0011", "foo/bba/arr", "foo/*arr"),
        ("0011", "foo/bba/arr", "foo/**arr"),
        ("0000", "foo/bba/arr", "foo/*z"),
        ("0000", "foo/bba/arr", "foo/**z"),
        ("0011", "foo/bar", "foo?bar"),
        ("0011", "foo/bar", "foo[/]bar"),
        ("0011", "foo/bar", "foo[^a-z]bar"),
        ("0011", "ab/cXd/efXg/hi", "*Xg*i"),
        ("0101", "a", "[A-Z]"),
        ("1111", "A", "[A-Z]"),
        ("0101", "A", "[a-z]"),
        ("1111", "a", "[a-z]"),
        ("0101", "a", "[[:upper:]]"),
        ("1111", "A", "[[:upper:]]"),
        ("0101", "A", "[[:lower:]]"),
        ("1111", "a", "[[:lower:]]"),
        ("0101", "A", "[B-Za]"),
        ("1111", "a", "[B-Za]"),
        ("0101", "A", "[B-a]"),
        ("1111", "a", "[B-a]"),
        ("0101", "z", "[Z-y]"),
        ("1111", "Z", "[Z-y]"),
    ];

    #[test]
    fn dowild_agrees_with_gits_wildmatch_table() {
        let modes = [(true, false), (true, true), (false, false), (false, true)];
        for (want, text, pat) in T3070 {
            for (i, (pathname, casefold)) in modes.into_iter().enumerate() {
                let f = WmFlags { pathname, casefold };
                let got = dowild(pat.as_bytes(), 0, text.as_bytes(), 0, f, 0) == Wm::Match;
                let expect = want.as_bytes()[i] == b'1';
                assert_eq!(
                    got, expect,
                    "{pat:?} vs {text:?}, pathname={pathname} casefold={casefold}"
                );
            }
        }
    }

    /// An in-memory world.
    #[derive(Default)]
    struct Mem {
        files: HashMap<PathBuf, Vec<u8>>,
        head: Option<Head>,
        reads: usize,
    }

    impl World for Mem {
        fn load(&mut self, path: &Path) -> Load {
            self.reads += 1;
            match self.files.get(path) {
                Some(t) => Load::Text(Rc::from(t.as_slice())),
                None => Load::Missing,
            }
        }
        fn head(&mut self) -> Head {
            self.head.clone().unwrap_or(Head::Unknown)
        }
        fn user_home(&mut self, user: &[u8]) -> Option<PathBuf> {
            (user == b"alice").then(|| PathBuf::from("/home/alice"))
        }
        fn realpath(&mut self, path: &Path) -> Option<PathBuf> {
            Some(path.to_path_buf())
        }
    }

    fn mem(files: &[(&str, &str)]) -> Mem {
        Mem {
            files: files
                .iter()
                .map(|(p, t)| (PathBuf::from(p), t.as_bytes().to_vec()))
                .collect(),
            ..Mem::default()
        }
    }

    fn ctx(git_dir: &str, follow: bool) -> Context {
        Context {
            git_dir: Some(git_dir.into()),
            home: Some("/home/u".into()),
            follow_mutable: follow,
        }
    }

    fn local(path: &str) -> Vec<Source> {
        vec![Source {
            path: path.into(),
            scope: Scope::Local,
        }]
    }

    fn values(x: &Expanded, name: &str) -> Vec<(String, bool)> {
        x.settings
            .iter()
            .filter(|s| s.entry.name() == name)
            .map(|s| {
                (
                    String::from_utf8_lossy(s.entry.value.as_deref().unwrap_or_default())
                        .into_owned(),
                    s.active,
                )
            })
            .collect()
    }

    #[test]
    fn includes_relative_tilde_and_user() {
        let mut w = mem(&[
            (
                "/r/.git/config",
                "[include]\n path = inc/a\n path = ~/b\n path = ~alice/c\n path = ~nobody/d\n",
            ),
            (
                "/r/.git/inc/a",
                "[core]\n editor = a\n[include]\n path = ../sib\n",
            ),
            ("/r/.git/inc/../sib", "[core]\n pager = sib\n"),
            ("/home/u/b", "[core]\n editor = b\n"),
        ]);
        let x = expand(
            &local("/r/.git/config"),
            &[],
            &ctx("/r/.git", false),
            &mut w,
        );
        assert_eq!(
            values(&x, "core.editor"),
            vec![("a".into(), true), ("b".into(), true)]
        );
        assert_eq!(values(&x, "core.pager"), vec![("sib".into(), true)]);
        let files: Vec<(String, bool)> = x
            .files
            .iter()
            .map(|f| (f.path.display().to_string(), f.exists))
            .collect();
        assert_eq!(
            files,
            vec![
                ("/r/.git/config".into(), true),
                ("/r/.git/inc/a".into(), true),
                ("/r/.git/inc/../sib".into(), true),
                ("/home/u/b".into(), true),
                // A missing include is not an error for git, but it is a
                // file someone could create.
                ("/home/alice/c".into(), false),
            ]
        );
        assert_eq!(x.errors.len(), 1, "{:?}", x.errors);
        assert!(x.errors[0].contains("~nobody"), "{:?}", x.errors);
    }

    #[test]
    fn include_depth_is_bounded_like_git() {
        // A file that includes itself: git dies past depth 10.
        let mut w = mem(&[("/c", "[include]\npath = /c\n[k]\nv = 1\n")]);
        let x = expand(&local("/c"), &[], &ctx("/r/.git", false), &mut w);
        assert_eq!(x.files.len(), MAX_INCLUDE_DEPTH + 1);
        assert!(x.errors[0].contains("deeper than 10"), "{:?}", x.errors);
    }

    #[test]
    fn gitdir_conditions() {
        let conf = concat!(
            "[includeIf \"gitdir:/r/\"]\n path = /yes1\n",
            "[includeIf \"gitdir:/r/.git\"]\n path = /yes2\n",
            "[includeIf \"gitdir:r/\"]\n path = /yes3\n",
            "[includeIf \"gitdir:/R/\"]\n path = /no1\n",
            "[includeIf \"gitdir/i:/R/\"]\n path = /yes4\n",
            "[includeIf \"gitdir:~/\"]\n path = /no2\n",
            "[includeIf \"gitdir:/other/\"]\n path = /no3\n",
            "[includeIf \"gitdir:/r/*/x\"]\n path = /no4\n",
        );
        // `./` is the including file's directory: /r/ for /r/shared, but
        // /r/.git/ (which /r/.git itself is not inside) for .git/config.
        let dot = "[includeIf \"gitdir:./\"]\n path = /yes5\n";
        let both = format!("{conf}{dot}");
        let mut w = mem(&[("/r/.git/config", both.as_str()), ("/r/shared", dot)]);
        let mut sources = local("/r/.git/config");
        sources.push(Source {
            path: "/r/shared".into(),
            scope: Scope::Global,
        });
        let x = expand(&sources, &[], &ctx("/r/.git", true), &mut w);
        let read: Vec<String> = x
            .files
            .iter()
            .map(|f| f.path.display().to_string())
            .collect();
        assert_eq!(
            read,
            vec![
                "/r/.git/config",
                "/yes1",
                "/yes2",
                "/yes3",
                "/yes4",
                "/r/shared",
                "/yes5"
            ]
        );
    }

    #[test]
    fn onbranch_follows_head_and_mutable_includes_come_out_inactive() {
        let conf = "[includeIf \"onbranch:main\"]\n path = /main\n[includeIf \"onbranch:rel/\"]\n path = /rel\n";
        let files = [
            ("/r/.git/config", conf),
            ("/main", "[core]\n hooksPath = m\n"),
            ("/rel", "[core]\n hooksPath = r\n"),
        ];
        // As git reads it now: only the branch checked out.
        let mut w = mem(&files);
        w.head = Some(Head::Branch(b"main".to_vec()));
        let x = expand(
            &local("/r/.git/config"),
            &[],
            &ctx("/r/.git", false),
            &mut w,
        );
        assert_eq!(values(&x, "core.hookspath"), vec![("m".into(), true)]);
        // For pinning: the other branch's include too, marked inactive.
        let x = expand(&local("/r/.git/config"), &[], &ctx("/r/.git", true), &mut w);
        assert_eq!(
            values(&x, "core.hookspath"),
            vec![("m".into(), true), ("r".into(), false)]
        );
        w.head = Some(Head::Branch(b"rel/1.0".to_vec()));
        let x = expand(
            &local("/r/.git/config"),
            &[],
            &ctx("/r/.git", false),
            &mut w,
        );
        assert_eq!(values(&x, "core.hookspath"), vec![("r".into(), true)]);
    }

    #[test]
    fn hasconfig_sees_urls_from_later_files() {
        let global = "[includeIf \"hasconfig:remote.*.url:https://example.com/**\"]\n path = /work.inc\n\
                      [includeIf \"hasconfig:remote.*.url:git@other:*/**\"]\n path = /other.inc\n";
        let mut w = mem(&[
            ("/home/u/.gitconfig", global),
            (
                "/r/.git/config",
                "[remote \"origin\"]\n url = https://example.com/org/repo\n",
            ),
            ("/work.inc", "[core]\n sshCommand = ./ssh-wrapper\n"),
            ("/other.inc", "[core]\n sshCommand = ./other\n"),
        ]);
        let sources = vec![
            Source {
                path: "/home/u/.gitconfig".into(),
                scope: Scope::Global,
            },
            Source {
                path: "/r/.git/config".into(),
                scope: Scope::Local,
            },
        ];
        let x = expand(&sources, &[], &ctx("/r/.git", false), &mut w);
        assert_eq!(
            values(&x, "core.sshcommand"),
            vec![("./ssh-wrapper".into(), true)]
        );
        let x = expand(&sources, &[], &ctx("/r/.git", true), &mut w);
        assert_eq!(
            values(&x, "core.sshcommand"),
            vec![("./ssh-wrapper".into(), true), ("./other".into(), false)]
        );
    }

    #[test]
    fn unknown_conditions_and_command_scope() {
        let mut w = mem(&[
            (
                "/r/.git/config",
                "[includeIf \"future:x\"]\n path = /future\n",
            ),
            ("/future", "[core]\n pager = f\n"),
            ("/abs", "[core]\n editor = e\n"),
        ]);
        let command = vec![
            Entry {
                section: "include".into(),
                subsection: None,
                key: "path".into(),
                value: Some(b"/abs".to_vec()),
                line: 0,
            },
            Entry {
                section: "include".into(),
                subsection: None,
                key: "path".into(),
                value: Some(b"rel".to_vec()),
                line: 0,
            },
        ];
        let x = expand(
            &local("/r/.git/config"),
            &command,
            &ctx("/r/.git", false),
            &mut w,
        );
        assert!(values(&x, "core.pager").is_empty());
        assert_eq!(values(&x, "core.editor"), vec![("e".into(), true)]);
        assert!(
            x.errors.iter().any(|e| e.contains("relative")),
            "{:?}",
            x.errors
        );
        let x = expand(&local("/r/.git/config"), &[], &ctx("/r/.git", true), &mut w);
        assert_eq!(values(&x, "core.pager"), vec![("f".into(), false)]);
    }

    #[test]
    fn config_keys_from_the_command_line() {
        assert_eq!(
            parse_key(b"Core.HooksPath"),
            Some(("core".into(), None, "hookspath".into()))
        );
        assert_eq!(
            parse_key(b"filter.My.Driver.clean"),
            Some(("filter".into(), Some(b"My.Driver".to_vec()), "clean".into()))
        );
        assert_eq!(parse_key(b"nodot"), None);
        assert_eq!(parse_key(b"a.1b"), None);
    }
}
