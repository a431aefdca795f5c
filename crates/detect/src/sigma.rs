//! Sigma rules over CloudTrail, with the semantics of the Sigma specification:
//! field modifiers (`contains`, `startswith`, `endswith`, `all`, `re`, `cidr`,
//! `base64`, `base64offset`, `windash`, `exists`, `gt`/`gte`/`lt`/`lte`,
//! `fieldref`, `cased`), `*`/`?` wildcards, lists as OR and maps as AND,
//! `null` for an absent field, keywords, and conditions with `and`, `or`,
//! `not`, parentheses and `1 of`/`all of` patterns.
//!
//! Equality is case-insensitive unless `cased`; `not` over a missing field is
//! true; dotted field paths reach into nested objects and through arrays; a
//! value modifier applied to an object compares the object's JSON text.
//! Anything else (`near`, placeholders `expand`, UTF-16 modifiers) makes the
//! rule fail to load with a message naming the rule and the construct.
//!
//! A rule file may hold several YAML documents (`---`). Correlation
//! documents (`correlation:`) and legacy aggregations (`sel | count() by f >
//! N` with `timeframe:`) run in [`correlation`]; their references to rules
//! (by `name` or `id`) are resolved against every rule loaded so far, so a
//! correlation may sit in a different file or `--sigma` directory than its
//! rules.

mod correlation;

use crate::cloudtrail::CtEvent;
use crate::{Diagnostic, DiagnosticKind};
use base64::Engine as _;
use ipnet::IpNet;
use rampart_core::Severity;
use serde_json::Value as Json;
use serde_norway::Value as Yaml;
use std::borrow::Cow;
use std::collections::HashSet;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

pub use correlation::{
    Correlation, CorrelationState, CorrelationType, CountCondition, MAX_THRESHOLD,
};

/// What a matched rule contributes to its findings.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleMeta {
    pub id: String,
    pub title: String,
    /// `Sigma:<title>`: the finding type for matches of this rule.
    pub type_name: String,
    pub file: String,
    pub severity: Severity,
    pub description: String,
    pub tactics: Vec<String>,
    pub technique: String,
    pub remediation: String,
}

/// One glob token.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Lit(String),
    Star,
    One,
}

/// A string pattern with `*`/`?` wildcards, compiled.
#[derive(Debug, Clone)]
struct Glob {
    toks: Vec<Tok>,
    cased: bool,
    /// When the pattern has no wildcards: the literal, for a fast comparison.
    literal: Option<String>,
}

impl Glob {
    fn new(toks: Vec<Tok>, cased: bool) -> Self {
        let toks: Vec<Tok> = toks
            .into_iter()
            .map(|t| match t {
                Tok::Lit(s) if !cased => Tok::Lit(s.to_lowercase()),
                other => other,
            })
            .collect();
        let literal = match toks.as_slice() {
            [] => Some(String::new()),
            [Tok::Lit(s)] => Some(s.clone()),
            _ => None,
        };
        Glob {
            toks,
            cased,
            literal,
        }
    }

    /// Sigma value syntax: `*` any run, `?` one character, `\` escapes them.
    fn parse(value: &str, cased: bool) -> Self {
        let mut toks = Vec::new();
        let mut lit = String::new();
        let mut chars = value.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if matches!(chars.peek(), Some('*' | '?' | '\\')) => {
                    lit.push(chars.next().unwrap_or('\\'))
                }
                '*' | '?' => {
                    if !lit.is_empty() {
                        toks.push(Tok::Lit(std::mem::take(&mut lit)));
                    }
                    toks.push(if c == '*' { Tok::Star } else { Tok::One });
                }
                c => lit.push(c),
            }
        }
        if !lit.is_empty() {
            toks.push(Tok::Lit(lit));
        }
        Glob::new(toks, cased)
    }

    fn matches(&self, text: &str) -> bool {
        // CloudTrail values are nearly always ASCII: compare without
        // lower-casing a copy (equality, startswith, endswith, contains).
        if !self.cased && text.is_ascii() {
            if let Some(l) = &self.literal {
                return l.eq_ignore_ascii_case(text);
            }
            match self.toks.as_slice() {
                [Tok::Star, Tok::Lit(l), Tok::Star] => return ascii_contains_ci(text, l),
                [Tok::Lit(l), Tok::Star] => {
                    return text.len() >= l.len()
                        && text.as_bytes()[..l.len()].eq_ignore_ascii_case(l.as_bytes());
                }
                [Tok::Star, Tok::Lit(l)] => {
                    return text.len() >= l.len()
                        && text.as_bytes()[text.len() - l.len()..]
                            .eq_ignore_ascii_case(l.as_bytes());
                }
                _ => {}
            }
        }
        let owned;
        let text = if self.cased {
            text
        } else if text.bytes().any(|b| b.is_ascii_uppercase()) || !text.is_ascii() {
            owned = text.to_lowercase();
            &owned
        } else {
            text
        };
        if let Some(l) = &self.literal {
            return l == text;
        }
        glob_match(&self.toks, text)
    }

    /// A string the pattern matches (for tests and examples).
    fn example(&self) -> String {
        self.toks
            .iter()
            .map(|t| match t {
                Tok::Lit(s) => s.as_str(),
                Tok::Star => "",
                Tok::One => "x",
            })
            .collect()
    }
}

/// Whether ASCII `text` contains `needle` (already lower case), ignoring
/// ASCII case.
fn ascii_contains_ci(text: &str, needle: &str) -> bool {
    let (t, n) = (text.as_bytes(), needle.as_bytes());
    n.is_empty() || (t.len() >= n.len() && t.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n)))
}

fn glob_match(toks: &[Tok], text: &str) -> bool {
    match toks.first() {
        None => text.is_empty(),
        Some(Tok::Lit(l)) => text
            .strip_prefix(l.as_str())
            .is_some_and(|rest| glob_match(&toks[1..], rest)),
        Some(Tok::One) => {
            let mut c = text.chars();
            c.next().is_some() && glob_match(&toks[1..], c.as_str())
        }
        Some(Tok::Star) => {
            let rest = &toks[1..];
            if rest.is_empty() {
                return true;
            }
            // Jump straight to the places where the next literal occurs.
            if let Some(Tok::Lit(l)) = rest.first() {
                let mut from = 0;
                while let Some(p) = text[from..].find(l.as_str()) {
                    let at = from + p;
                    if glob_match(rest, &text[at..]) {
                        return true;
                    }
                    from = at + text[at..].chars().next().map_or(1, char::len_utf8);
                }
                return false;
            }
            text.char_indices()
                .map(|(i, _)| i)
                .chain(std::iter::once(text.len()))
                .any(|i| glob_match(rest, &text[i..]))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Cmp {
    Gt,
    Gte,
    Lt,
    Lte,
}

#[derive(Debug, Clone)]
enum Matcher {
    /// Field absent or null.
    Null,
    Exists(bool),
    Str(Glob),
    /// A `|re` pattern, with a literal every match contains (checked first:
    /// a substring search is far cheaper than starting the regex engine).
    Re(regex::Regex, Option<String>),
    Cidr(IpNet),
    Num(Cmp, f64),
    FieldRef(Vec<String>),
}

#[derive(Debug, Clone)]
struct FieldMatch {
    path: Vec<String>,
    /// `path` when the typed record carries it.
    typed: Option<TypedPath>,
    matchers: Vec<Matcher>,
    /// `|all`: every matcher must match, instead of any.
    all: bool,
    /// Plain equality (no modifier, no wildcard), lower-cased: on
    /// `eventName` it feeds the rule index, on other typed fields a gate.
    plain_values: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
enum Search {
    /// All fields must match.
    Fields(Vec<FieldMatch>),
    /// Any of several maps.
    AnyOf(Vec<Search>),
    /// Keywords: any must occur in the event text.
    Keywords(Vec<Glob>),
}

#[derive(Debug, Clone)]
enum Cond {
    Sel(usize),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
    AnyOf(Vec<usize>),
    AllOf(Vec<usize>),
}

/// A loaded rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub meta: Arc<RuleMeta>,
    /// The rule's `name`, by which correlations may refer to it.
    pub name: Option<String>,
    searches: Vec<Search>,
    cond: Cond,
    /// A legacy aggregation in the condition (`| count() > N`).
    legacy: Option<correlation::Legacy>,
    /// Whether a match is a finding of its own: not when the rule only
    /// feeds correlations (Sigma's `generate: false`, the default) or
    /// carries an aggregation.
    standalone: bool,
    /// The correlations (and their slots) a match counts towards.
    feeds: Vec<(usize, usize)>,
}

/// What a rule set reports for an event.
pub enum Hit<'a> {
    /// A rule matched the event.
    Rule(&'a Arc<RuleMeta>),
    /// A correlation matched, or an event added to its match.
    Correlation(Box<crate::finding::Signal>),
}

/// A plain equality a rule requires on a typed field: `values` are lower
/// case ASCII, compared without regard to ASCII case, as Sigma compares.
#[derive(Debug, Clone, PartialEq)]
struct Gate {
    path: TypedPath,
    values: Vec<String>,
}

impl Gate {
    fn admits(&self, ev: &CtEvent) -> bool {
        typed_value(ev, self.path).is_some_and(|v| {
            if v.is_ascii() {
                self.values.iter().any(|w| w.eq_ignore_ascii_case(v))
            } else {
                // As the rule compares: Unicode lower case, under which some
                // non-ASCII text becomes ASCII (KELVIN SIGN is `k`), so an
                // attacker cannot slip past the gate with look-alikes.
                let lower = v.to_lowercase();
                self.values.contains(&lower)
            }
        })
    }
}

/// The loaded rules with an index from event name to the rules that can match.
#[derive(Debug, Default, Clone)]
pub struct RuleSet {
    rules: Vec<Rule>,
    /// foldhash: looked up for every event, keyed by rule files we load.
    by_event_name: foldhash::HashMap<String, Vec<usize>>,
    /// Rules the name index cannot place, each with the gate that spares
    /// evaluating it when the event cannot match (if it has one).
    unindexed: Vec<(usize, Option<Gate>)>,
    /// Resolved correlations, legacy aggregations first.
    correlations: Vec<Correlation>,
    /// Correlation documents as parsed, resolved again after each load.
    specs: Vec<correlation::Spec>,
    /// Resolution problems reported so far, withdrawn when a later load
    /// resolves them.
    reported: Vec<Diagnostic>,
}

/// What a correlation's reference resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Rule(usize),
    Spec(usize),
}

/// Why a rule did not load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unsupported(pub String);

fn unsupported<T>(msg: impl Into<String>) -> Result<T, Unsupported> {
    Err(Unsupported(msg.into()))
}

fn yaml_str(v: &Yaml) -> Option<String> {
    match v {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn escape_glob(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '\\') {
            o.push('\\');
        }
        o.push(c);
    }
    o
}

fn compile_value(v: &Yaml, mods: &[&str]) -> Result<Vec<Matcher>, Unsupported> {
    let cased = mods.contains(&"cased");
    if matches!(v, Yaml::Null) {
        return Ok(vec![Matcher::Null]);
    }
    if let Some(m) = mods
        .iter()
        .find(|m| matches!(**m, "gt" | "gte" | "lt" | "lte"))
    {
        let n: f64 = yaml_str(v)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| Unsupported(format!("|{m} needs a number")))?;
        let c = match *m {
            "gt" => Cmp::Gt,
            "gte" => Cmp::Gte,
            "lt" => Cmp::Lt,
            _ => Cmp::Lte,
        };
        return Ok(vec![Matcher::Num(c, n)]);
    }
    if mods.contains(&"exists") {
        let b = match v {
            Yaml::Bool(b) => *b,
            _ => return unsupported("|exists needs true or false"),
        };
        return Ok(vec![Matcher::Exists(b)]);
    }
    let s = yaml_str(v).ok_or_else(|| {
        Unsupported("a value that is neither a string, a number, a boolean nor null".into())
    })?;
    if mods.contains(&"fieldref") {
        return Ok(vec![Matcher::FieldRef(
            s.split('.').map(str::to_owned).collect(),
        )]);
    }
    if mods.contains(&"cidr") {
        let net: IpNet = s
            .parse()
            .map_err(|_| Unsupported(format!("|cidr value {s:?} is not a CIDR block")))?;
        return Ok(vec![Matcher::Cidr(net)]);
    }
    if mods.contains(&"re") {
        let mut flags = String::new();
        for (m, f) in [("i", 'i'), ("m", 'm'), ("s", 's')] {
            if mods.contains(&m) {
                flags.push(f);
            }
        }
        let pat = if flags.is_empty() {
            s.clone()
        } else {
            format!("(?{flags}){s}")
        };
        let re = regex::Regex::new(&pat)
            .map_err(|e| Unsupported(format!("|re pattern {s:?} does not compile: {e}")))?;
        let needle = required_literal(&pat);
        return Ok(vec![Matcher::Re(re, needle)]);
    }
    // Value transformations produce literal variants; wildcards in the result
    // are literal characters.
    let mut variants: Vec<(String, bool)> = vec![(s.clone(), false)];
    if mods.contains(&"windash") {
        variants = variants
            .into_iter()
            .flat_map(|(v, lit)| {
                let mut out = vec![(v.clone(), lit)];
                if v.contains('-') {
                    for d in ["/", "\u{2013}", "\u{2014}", "\u{2015}"] {
                        out.push((v.replace('-', d), lit));
                    }
                }
                out
            })
            .collect();
    }
    if mods.contains(&"base64offset") {
        variants = variants
            .into_iter()
            .flat_map(|(v, _)| {
                let b = v.as_bytes().to_vec();
                (0..3usize)
                    .map(|i| {
                        let mut padded = vec![b' '; i];
                        padded.extend_from_slice(&b);
                        let enc = base64::engine::general_purpose::STANDARD.encode(&padded);
                        let start = [0, 2, 3][i];
                        let end_trim = [0, 3, 2][(b.len() + i) % 3];
                        let enc = enc.trim_end_matches('=');
                        let end = enc.len().saturating_sub(if (b.len() + i) % 3 == 0 {
                            0
                        } else {
                            end_trim.min(enc.len())
                        });
                        (
                            enc.get(start..end.max(start)).unwrap_or("").to_owned(),
                            true,
                        )
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
    } else if mods.contains(&"base64") {
        variants = variants
            .into_iter()
            .map(|(v, _)| {
                (
                    base64::engine::general_purpose::STANDARD.encode(v.as_bytes()),
                    true,
                )
            })
            .collect();
    }
    let contains = mods.contains(&"contains") || mods.contains(&"base64offset");
    let starts = mods.contains(&"startswith");
    let ends = mods.contains(&"endswith");
    Ok(variants
        .into_iter()
        .map(|(v, literal)| {
            let body = if literal { escape_glob(&v) } else { v };
            let pat = match (contains, starts, ends) {
                (true, _, _) => format!("*{body}*"),
                (_, true, _) => format!("{body}*"),
                (_, _, true) => format!("*{body}"),
                _ => body,
            };
            Matcher::Str(Glob::parse(&pat, cased))
        })
        .collect())
}

const KNOWN_MODIFIERS: &[&str] = &[
    "contains",
    "startswith",
    "endswith",
    "all",
    "re",
    "i",
    "m",
    "s",
    "cidr",
    "base64",
    "base64offset",
    "windash",
    "exists",
    "gt",
    "gte",
    "lt",
    "lte",
    "fieldref",
    "cased",
];

/// The longest run of literal text that every match of `pattern` contains:
/// consecutive literals at the top level of the pattern's concatenation
/// (case-insensitive parts are classes, not literals, so they never count).
/// `None` when there is no such run of at least 3 bytes.
fn required_literal(pattern: &str) -> Option<String> {
    use regex_syntax::hir::{Hir, HirKind};
    let hir = regex_syntax::parse(pattern).ok()?;
    fn literal(h: &Hir) -> Option<&[u8]> {
        match h.kind() {
            HirKind::Literal(l) => Some(&l.0),
            _ => None,
        }
    }
    let items: Vec<&Hir> = match hir.kind() {
        HirKind::Concat(items) => items.iter().collect(),
        _ => vec![&hir],
    };
    let mut best: Vec<u8> = Vec::new();
    let mut run: Vec<u8> = Vec::new();
    for h in items.into_iter().map(Some).chain([None]) {
        match h.and_then(literal) {
            Some(bytes) => run.extend_from_slice(bytes),
            None => {
                if run.len() > best.len() {
                    best = std::mem::take(&mut run);
                }
                run.clear();
            }
        }
    }
    (best.len() >= 3)
        .then(|| String::from_utf8(best).ok())
        .flatten()
}

fn compile_field(key: &str, value: &Yaml) -> Result<FieldMatch, Unsupported> {
    let mut parts = key.split('|');
    let field = parts.next().unwrap_or("");
    let mods: Vec<&str> = parts.collect();
    for m in &mods {
        if !KNOWN_MODIFIERS.contains(m) {
            return unsupported(format!("field modifier |{m} (on {field})"));
        }
    }
    let values: Vec<&Yaml> = match value {
        Yaml::Sequence(s) => s.iter().collect(),
        other => vec![other],
    };
    let mut matchers = Vec::new();
    for v in &values {
        if matches!(v, Yaml::Mapping(_) | Yaml::Sequence(_)) {
            return unsupported(format!("a nested list or map as the value of {field}"));
        }
        matchers.extend(compile_value(v, &mods)?);
    }
    let plain = mods.is_empty()
        && values
            .iter()
            .all(|v| yaml_str(v).is_some_and(|s| !s.contains(['*', '?', '\\'])));
    let plain_values = plain.then(|| {
        values
            .iter()
            .filter_map(|v| yaml_str(v))
            .map(|s| s.to_lowercase())
            .collect()
    });
    let path = if field.is_empty() {
        Vec::new()
    } else {
        field.split('.').map(str::to_owned).collect()
    };
    if path.is_empty() {
        return unsupported("an empty field name");
    }
    Ok(FieldMatch {
        typed: typed_path(&path),
        path,
        matchers,
        all: mods.contains(&"all"),
        plain_values,
    })
}

fn compile_search(v: &Yaml) -> Result<Search, Unsupported> {
    match v {
        Yaml::Mapping(m) => {
            let mut fields = Vec::new();
            for (k, val) in m {
                let k = yaml_str(k).ok_or_else(|| Unsupported("a non-string field name".into()))?;
                fields.push(compile_field(&k, val)?);
            }
            Ok(Search::Fields(fields))
        }
        Yaml::Sequence(items) => {
            if items.iter().all(|i| matches!(i, Yaml::Mapping(_))) {
                Ok(Search::AnyOf(
                    items.iter().map(compile_search).collect::<Result<_, _>>()?,
                ))
            } else if items.iter().all(|i| yaml_str(i).is_some()) {
                Ok(Search::Keywords(
                    items
                        .iter()
                        .filter_map(yaml_str)
                        .map(|s| Glob::parse(&format!("*{s}*"), false))
                        .collect(),
                ))
            } else {
                unsupported("a list mixing maps and plain values")
            }
        }
        Yaml::String(_) | Yaml::Number(_) => Ok(Search::Keywords(vec![Glob::parse(
            &format!("*{}*", yaml_str(v).unwrap_or_default()),
            false,
        )])),
        _ => unsupported("a detection item that is neither a map, a list nor a keyword"),
    }
}

// ---- conditions ----

#[derive(Debug, Clone, PartialEq)]
enum CTok {
    Word(String),
    LParen,
    RParen,
}

fn lex(cond: &str) -> Result<Vec<CTok>, Unsupported> {
    if let Some(p) = cond.find('|') {
        return unsupported(format!(
            "the aggregation `{}` inside a condition",
            cond[p..].trim()
        ));
    }
    let mut out = Vec::new();
    let mut word = String::new();
    for c in cond.chars() {
        match c {
            '(' | ')' | ' ' | '\t' | '\n' => {
                if !word.is_empty() {
                    out.push(CTok::Word(std::mem::take(&mut word)));
                }
                match c {
                    '(' => out.push(CTok::LParen),
                    ')' => out.push(CTok::RParen),
                    _ => {}
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        out.push(CTok::Word(word));
    }
    Ok(out)
}

struct CondParser<'a> {
    toks: Vec<CTok>,
    pos: usize,
    names: &'a [String],
}

impl CondParser<'_> {
    fn peek_word(&self) -> Option<&str> {
        match self.toks.get(self.pos) {
            Some(CTok::Word(w)) => Some(w.as_str()),
            _ => None,
        }
    }
    fn or(&mut self) -> Result<Cond, Unsupported> {
        let mut left = self.and()?;
        while self.peek_word() == Some("or") {
            self.pos += 1;
            let right = self.and()?;
            left = Cond::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }
    fn and(&mut self) -> Result<Cond, Unsupported> {
        let mut left = self.not()?;
        while self.peek_word() == Some("and") {
            self.pos += 1;
            let right = self.not()?;
            left = Cond::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }
    fn not(&mut self) -> Result<Cond, Unsupported> {
        if self.peek_word() == Some("not") {
            self.pos += 1;
            return Ok(Cond::Not(Box::new(self.not()?)));
        }
        self.atom()
    }
    fn pattern(&self, p: &str) -> Result<Vec<usize>, Unsupported> {
        let g = Glob::parse(p, true);
        let hits: Vec<usize> = self
            .names
            .iter()
            .enumerate()
            .filter(|(_, n)| p == "them" || g.matches(n))
            .map(|(i, _)| i)
            .collect();
        if hits.is_empty() {
            return unsupported(format!(
                "the pattern {p:?} in the condition names no detection item"
            ));
        }
        Ok(hits)
    }
    fn atom(&mut self) -> Result<Cond, Unsupported> {
        match self.toks.get(self.pos).cloned() {
            Some(CTok::LParen) => {
                self.pos += 1;
                let c = self.or()?;
                if self.toks.get(self.pos) != Some(&CTok::RParen) {
                    return unsupported("a missing closing parenthesis in the condition");
                }
                self.pos += 1;
                Ok(c)
            }
            Some(CTok::Word(w)) if w == "1" || w == "all" || w == "any" => {
                if self.toks.get(self.pos + 1) != Some(&CTok::Word("of".into())) {
                    return unsupported(format!("`{w}` without `of` in the condition"));
                }
                let Some(CTok::Word(p)) = self.toks.get(self.pos + 2).cloned() else {
                    return unsupported("`of` without a pattern in the condition");
                };
                self.pos += 3;
                let hits = self.pattern(&p)?;
                Ok(if w == "all" {
                    Cond::AllOf(hits)
                } else {
                    Cond::AnyOf(hits)
                })
            }
            Some(CTok::Word(w)) => {
                self.pos += 1;
                match self.names.iter().position(|n| *n == w) {
                    Some(i) => Ok(Cond::Sel(i)),
                    None if w.parse::<u32>().is_ok() => {
                        unsupported(format!("`{w} of` (only `1 of` and `all of` are supported)"))
                    }
                    None => unsupported(format!(
                        "the condition names {w:?}, which is not a detection item"
                    )),
                }
            }
            _ => unsupported("an incomplete condition"),
        }
    }
}

fn parse_condition(cond: &str, names: &[String]) -> Result<Cond, Unsupported> {
    let mut p = CondParser {
        toks: lex(cond)?,
        pos: 0,
        names,
    };
    let c = p.or()?;
    if p.pos != p.toks.len() {
        return unsupported(format!(
            "unexpected words at the end of the condition {cond:?}"
        ));
    }
    Ok(c)
}

// ---- loading ----

pub(crate) fn level(s: Option<&str>) -> Severity {
    match s.unwrap_or("medium") {
        "critical" => Severity::Critical,
        "high" => Severity::High,
        "low" => Severity::Low,
        "informational" => Severity::Info,
        _ => Severity::Medium,
    }
}

fn tactic_name(tag: &str) -> Option<String> {
    let t = tag.strip_prefix("attack.")?;
    if t.starts_with('t') && t[1..].chars().next().is_some_and(|c| c.is_ascii_digit()) {
        return None;
    }
    if t.starts_with('g') || t.starts_with('s') && t[1..].chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(
        t.split(['-', '_'])
            .map(|w| {
                let mut c = w.chars();
                match c.next() {
                    Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                    None => String::new(),
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
            .replace("And", "and"),
    )
}

/// What a rule or correlation document says about itself: title, id,
/// level, description, MITRE tags and false positives.
pub(crate) fn meta_from(file: &str, y: &Yaml) -> RuleMeta {
    let get = |k: &str| y.get(k);
    let title = get("title")
        .and_then(yaml_str)
        .unwrap_or_else(|| file.to_owned());
    let tags: Vec<String> = get("tags")
        .and_then(Yaml::as_sequence)
        .map(|s| s.iter().filter_map(yaml_str).collect())
        .unwrap_or_default();
    let technique = tags
        .iter()
        .find_map(|t| {
            t.strip_prefix("attack.t")
                .filter(|r| r.starts_with(|c: char| c.is_ascii_digit()))
                .map(|r| format!("T{}", r.to_uppercase()))
        })
        .unwrap_or_default();
    let falsepositives: Vec<String> = get("falsepositives")
        .and_then(Yaml::as_sequence)
        .map(|s| s.iter().filter_map(yaml_str).collect())
        .unwrap_or_default();
    let id = get("id").and_then(yaml_str).unwrap_or_default();
    RuleMeta {
        id,
        type_name: format!("Sigma:{title}"),
        title,
        file: file.to_owned(),
        severity: level(get("level").and_then(yaml_str).as_deref()),
        description: get("description")
            .and_then(yaml_str)
            .unwrap_or_default()
            .trim()
            .to_owned(),
        tactics: tags.iter().filter_map(|t| tactic_name(t)).collect(),
        technique,
        remediation: if falsepositives.is_empty() {
            "Confirm the activity with the principal's owner; if it is not expected, treat the credentials as compromised.".into()
        } else {
            format!(
                "Known false positives: {}. If none applies, treat the credentials as compromised.",
                falsepositives.join("; ")
            )
        },
    }
}

impl Rule {
    /// Parses one rule file's text (a single YAML document).
    pub fn parse(file: &str, text: &str) -> Result<Rule, Unsupported> {
        let y: Yaml =
            serde_norway::from_str(text).map_err(|e| Unsupported(format!("YAML error: {e}")))?;
        Rule::from_yaml(file, &y)
    }

    /// Compiles one rule document.
    pub fn from_yaml(file: &str, y: &Yaml) -> Result<Rule, Unsupported> {
        let get = |k: &str| y.get(k);
        let logsource = get("logsource");
        let product = logsource
            .and_then(|l| l.get("product"))
            .and_then(yaml_str)
            .unwrap_or_default();
        let service = logsource
            .and_then(|l| l.get("service"))
            .and_then(yaml_str)
            .unwrap_or_default();
        if !product.eq_ignore_ascii_case("aws") || !service.eq_ignore_ascii_case("cloudtrail") {
            return unsupported(format!(
                "logsource product {product:?} service {service:?} (only aws/cloudtrail)"
            ));
        }
        let det = get("detection")
            .and_then(Yaml::as_mapping)
            .ok_or_else(|| Unsupported("no detection section".into()))?;
        let mut names = Vec::new();
        let mut searches = Vec::new();
        let mut conditions = Vec::new();
        let mut timeframe = None;
        for (k, v) in det {
            let k = yaml_str(k).unwrap_or_default();
            match k.as_str() {
                "condition" => match v {
                    Yaml::Sequence(list) => conditions.extend(list.iter().filter_map(yaml_str)),
                    other => conditions.extend(yaml_str(other)),
                },
                "timeframe" => timeframe = yaml_str(v),
                _ => {
                    names.push(k.clone());
                    searches.push(
                        compile_search(v).map_err(|e| Unsupported(format!("{} (in {k})", e.0)))?,
                    );
                }
            }
        }
        if conditions.is_empty() {
            return unsupported("no condition");
        }
        let mut cond: Option<Cond> = None;
        let mut legacy = None;
        for c in &conditions {
            let search = match c.split_once('|') {
                Some((search, agg)) => {
                    if conditions.len() > 1 {
                        return unsupported(format!(
                            "the aggregation `|{agg}` in one of several conditions"
                        ));
                    }
                    legacy = Some(correlation::parse_legacy(agg, timeframe.as_deref())?);
                    search
                }
                None => c.as_str(),
            };
            let parsed = parse_condition(search, &names)?;
            cond = Some(match cond {
                None => parsed,
                Some(prev) => Cond::Or(Box::new(prev), Box::new(parsed)),
            });
        }
        Ok(Rule {
            meta: Arc::new(meta_from(file, y)),
            name: get("name").and_then(yaml_str),
            searches,
            cond: cond.ok_or_else(|| Unsupported("no condition".into()))?,
            standalone: legacy.is_none(),
            legacy,
            feeds: Vec::new(),
        })
    }

    /// Whether a match of this rule is a finding of its own (rather than
    /// only counting towards correlations).
    pub fn is_standalone(&self) -> bool {
        self.standalone
    }

    /// The lowercase event names an event must have for the rule to match,
    /// or `None` when the rule can match any event.
    fn required_names(&self) -> Option<HashSet<String>> {
        self.required_values(TypedPath::EventName)
    }

    /// A typed field other than `eventName` whose value the rule needs to be
    /// one of a few plain ASCII strings, for rules the name index cannot
    /// place: checking it first spares evaluating the rule for most events.
    fn gate(&self) -> Option<Gate> {
        let mut candidates: Vec<TypedPath> = Vec::new();
        for s in &self.searches {
            let mut stack = vec![s];
            while let Some(s) = stack.pop() {
                match s {
                    Search::Fields(f) => candidates.extend(
                        f.iter()
                            .filter(|f| f.plain_values.is_some())
                            .filter_map(|f| f.typed)
                            .filter(|t| *t != TypedPath::EventName),
                    ),
                    Search::AnyOf(list) => stack.extend(list),
                    Search::Keywords(_) => {}
                }
            }
        }
        candidates.into_iter().find_map(|path| {
            let values: Vec<String> = self.required_values(path)?.into_iter().collect();
            // Unicode case folding differs from the ASCII comparison below.
            (!values.is_empty() && values.iter().all(|v| v.is_ascii()))
                .then_some(Gate { path, values })
        })
    }

    /// The values `path` must have (one of) for the rule to match, when its
    /// condition requires a plain equality on it; `None` when it does not.
    fn required_values(&self, path: TypedPath) -> Option<HashSet<String>> {
        fn search(s: &Search, path: TypedPath) -> Option<HashSet<String>> {
            match s {
                Search::Fields(f) => f
                    .iter()
                    .filter(|f| f.typed == Some(path))
                    .find_map(|f| f.plain_values.as_ref())
                    .map(|v| v.iter().cloned().collect()),
                Search::AnyOf(list) => {
                    let mut all = HashSet::new();
                    for s in list {
                        all.extend(search(s, path)?);
                    }
                    Some(all)
                }
                Search::Keywords(_) => None,
            }
        }
        fn cond(c: &Cond, r: &Rule, path: TypedPath) -> Option<HashSet<String>> {
            let and = |a: Option<HashSet<String>>, b: Option<HashSet<String>>| match (a, b) {
                (Some(x), Some(y)) => Some(x.intersection(&y).cloned().collect()),
                (x, None) | (None, x) => x,
            };
            let or = |a: Option<HashSet<String>>, b: Option<HashSet<String>>| match (a, b) {
                (Some(mut x), Some(y)) => {
                    x.extend(y);
                    Some(x)
                }
                _ => None,
            };
            match c {
                Cond::Sel(i) => search(&r.searches[*i], path),
                Cond::And(a, b) => and(cond(a, r, path), cond(b, r, path)),
                Cond::Or(a, b) => or(cond(a, r, path), cond(b, r, path)),
                Cond::Not(_) => None,
                Cond::AnyOf(list) => list
                    .iter()
                    .map(|i| search(&r.searches[*i], path))
                    .reduce(or)
                    .flatten(),
                Cond::AllOf(list) => list
                    .iter()
                    .map(|i| search(&r.searches[*i], path))
                    .reduce(and)
                    .flatten(),
            }
        }
        cond(&self.cond, self, path)
    }

    /// Whether the rule matches the event.
    pub fn matches(&self, ev: &CtEvent) -> bool {
        self.eval(&self.cond, ev)
    }

    fn eval(&self, c: &Cond, ev: &CtEvent) -> bool {
        match c {
            Cond::Sel(i) => search_matches(&self.searches[*i], ev),
            Cond::And(a, b) => self.eval(a, ev) && self.eval(b, ev),
            Cond::Or(a, b) => self.eval(a, ev) || self.eval(b, ev),
            Cond::Not(a) => !self.eval(a, ev),
            Cond::AnyOf(l) => l.iter().any(|i| search_matches(&self.searches[*i], ev)),
            Cond::AllOf(l) => l.iter().all(|i| search_matches(&self.searches[*i], ev)),
        }
    }
}

// ---- evaluation ----

/// One value found at a field path.
#[derive(Debug, Clone)]
enum FVal<'a> {
    Str(Cow<'a, str>),
    Num(f64, String),
    Bool(bool),
    Null,
    /// An object or array, as its JSON text.
    Obj(String),
}

impl FVal<'_> {
    fn text(&self) -> Option<Cow<'_, str>> {
        match self {
            FVal::Str(s) => Some(Cow::Borrowed(s)),
            FVal::Num(_, s) | FVal::Obj(s) => Some(Cow::Borrowed(s)),
            FVal::Bool(b) => Some(Cow::Owned(b.to_string())),
            FVal::Null => None,
        }
    }
}

fn collect_json<'a>(v: &'a Json, path: &[String], out: &mut Vec<FVal<'a>>) {
    match (v, path.split_first()) {
        (Json::Array(items), _) => {
            for i in items {
                if path.is_empty() {
                    // A list value: each element is a candidate, and the
                    // list as a whole for object comparisons.
                    collect_json(i, path, out);
                } else {
                    collect_json(i, path, out);
                }
            }
            if path.is_empty() {
                out.push(FVal::Obj(v.to_string()));
            }
        }
        (Json::Object(m), Some((head, rest))) => {
            if let Some(x) = m.get(head.as_str()) {
                collect_json(x, rest, out);
            }
        }
        (_, Some(_)) => {}
        (Json::Object(_), None) => out.push(FVal::Obj(v.to_string())),
        (Json::String(s), None) => out.push(FVal::Str(Cow::Borrowed(s))),
        (Json::Number(n), None) => {
            out.push(FVal::Num(n.as_f64().unwrap_or(f64::NAN), n.to_string()))
        }
        (Json::Bool(b), None) => out.push(FVal::Bool(*b)),
        (Json::Null, None) => out.push(FVal::Null),
    }
}

/// A field path the typed record carries, resolved once when the rule is
/// compiled so that evaluation neither compares path segments nor walks JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TypedPath {
    EventName,
    EventSource,
    AwsRegion,
    SourceIp,
    UserAgent,
    ErrorCode,
    ErrorMessage,
    EventId,
    EventType,
    RecipientAccountId,
    IdentityType,
    IdentityArn,
    IdentityPrincipalId,
    IdentityAccountId,
    IdentityAccessKeyId,
    IdentityUserName,
    IdentityInvokedBy,
    IssuerType,
    IssuerUserName,
    IssuerArn,
    IssuerPrincipalId,
    IssuerAccountId,
}

fn typed_path(path: &[String]) -> Option<TypedPath> {
    use TypedPath::*;
    Some(match path {
        [a] => match a.as_str() {
            "eventName" => EventName,
            "eventSource" => EventSource,
            "awsRegion" => AwsRegion,
            "sourceIPAddress" => SourceIp,
            "userAgent" => UserAgent,
            "errorCode" => ErrorCode,
            "errorMessage" => ErrorMessage,
            "eventID" => EventId,
            "eventType" => EventType,
            "recipientAccountId" => RecipientAccountId,
            _ => return None,
        },
        [u, c, i, f] if u == "userIdentity" && c == "sessionContext" && i == "sessionIssuer" => {
            match f.as_str() {
                "type" => IssuerType,
                "userName" => IssuerUserName,
                "arn" => IssuerArn,
                "principalId" => IssuerPrincipalId,
                "accountId" => IssuerAccountId,
                _ => return None,
            }
        }
        [u, b] if u == "userIdentity" => match b.as_str() {
            "type" => IdentityType,
            "arn" => IdentityArn,
            "principalId" => IdentityPrincipalId,
            "accountId" => IdentityAccountId,
            "accessKeyId" => IdentityAccessKeyId,
            "userName" => IdentityUserName,
            "invokedBy" => IdentityInvokedBy,
            _ => return None,
        },
        _ => return None,
    })
}

fn typed_value<'e>(ev: &'e CtEvent, t: TypedPath) -> Option<&'e str> {
    use TypedPath::*;
    let r = &ev.rec;
    let id = r.user_identity.as_ref();
    let iss = || {
        id.and_then(|x| x.session_context.as_ref())
            .and_then(|c| c.session_issuer.as_ref())
    };
    match t {
        EventName => r.event_name.as_deref(),
        EventSource => r.event_source.as_deref(),
        AwsRegion => r.aws_region.as_deref(),
        SourceIp => r.source_ip_address.as_deref(),
        UserAgent => r.user_agent.as_deref(),
        ErrorCode => r.error_code.as_deref(),
        ErrorMessage => r.error_message.as_deref(),
        EventId => r.event_id.as_deref(),
        EventType => r.event_type.as_deref(),
        RecipientAccountId => r.recipient_account_id.as_deref(),
        IdentityType => id.and_then(|i| i.kind.as_deref()),
        IdentityArn => id.and_then(|i| i.arn.as_deref()),
        IdentityPrincipalId => id.and_then(|i| i.principal_id.as_deref()),
        IdentityAccountId => id.and_then(|i| i.account_id.as_deref()),
        IdentityAccessKeyId => id.and_then(|i| i.access_key_id.as_deref()),
        IdentityUserName => id.and_then(|i| i.user_name.as_deref()),
        IdentityInvokedBy => id.and_then(|i| i.invoked_by.as_deref()),
        IssuerType => iss().and_then(|i| i.kind.as_deref()),
        IssuerUserName => iss().and_then(|i| i.user_name.as_deref()),
        IssuerArn => iss().and_then(|i| i.arn.as_deref()),
        IssuerPrincipalId => iss().and_then(|i| i.principal_id.as_deref()),
        IssuerAccountId => iss().and_then(|i| i.account_id.as_deref()),
    }
}

fn typed<'e>(ev: &'e CtEvent, path: &[String]) -> Option<Option<&'e str>> {
    typed_path(path).map(|t| typed_value(ev, t))
}

fn values<'e>(ev: &'e CtEvent, path: &[String]) -> Vec<FVal<'e>> {
    if let Some(v) = typed(ev, path) {
        return v
            .map(|s| vec![FVal::Str(Cow::Borrowed(s))])
            .unwrap_or_default();
    }
    let mut out = Vec::new();
    let (root, rest) = match path.first().map(String::as_str) {
        Some("requestParameters") => (ev.request(), &path[1..]),
        Some("responseElements") => (ev.response(), &path[1..]),
        Some("additionalEventData") => (ev.additional(), &path[1..]),
        _ => (ev.whole(), path),
    };
    if let Some(root) = root {
        collect_json(root, rest, &mut out);
    } else if path.len() == 1
        && matches!(
            path[0].as_str(),
            "requestParameters" | "responseElements" | "additionalEventData"
        )
    {
        // Present as JSON null (or absent): both read as null.
        out.push(FVal::Null);
    }
    out
}

fn value_matches(m: &Matcher, vals: &[FVal], ev: &CtEvent) -> bool {
    match m {
        Matcher::Null => vals.is_empty() || vals.iter().any(|v| matches!(v, FVal::Null)),
        Matcher::Exists(want) => {
            (!vals.is_empty() && !vals.iter().all(|v| matches!(v, FVal::Null))) == *want
        }
        Matcher::Str(g) => vals.iter().any(|v| v.text().is_some_and(|t| g.matches(&t))),
        Matcher::Re(re, needle) => vals.iter().any(|v| {
            v.text()
                .is_some_and(|t| needle.as_deref().is_none_or(|n| t.contains(n)) && re.is_match(&t))
        }),
        Matcher::Cidr(net) => vals.iter().any(|v| {
            v.text()
                .and_then(|t| t.parse::<IpAddr>().ok())
                .is_some_and(|ip| net.contains(&ip))
        }),
        Matcher::Num(c, n) => vals.iter().any(|v| {
            let x = match v {
                FVal::Num(x, _) => Some(*x),
                FVal::Str(s) => s.parse().ok(),
                _ => None,
            };
            x.is_some_and(|x| match c {
                Cmp::Gt => x > *n,
                Cmp::Gte => x >= *n,
                Cmp::Lt => x < *n,
                Cmp::Lte => x <= *n,
            })
        }),
        Matcher::FieldRef(other) => {
            let o = values(ev, other);
            vals.iter().any(|v| {
                o.iter().any(|w| match (v.text(), w.text()) {
                    (Some(a), Some(b)) => a.eq_ignore_ascii_case(&b),
                    _ => false,
                })
            })
        }
    }
}

fn search_matches(s: &Search, ev: &CtEvent) -> bool {
    match s {
        Search::Fields(fields) => fields.iter().all(|f| {
            // Typed fields (most of SigmaHQ's CloudTrail selections) need
            // no allocation: one borrowed value or none.
            let one;
            let owned;
            let vals: &[FVal] = match f.typed {
                Some(t) => match typed_value(ev, t) {
                    Some(v) => {
                        one = [FVal::Str(Cow::Borrowed(v))];
                        &one
                    }
                    None => &[],
                },
                None => {
                    owned = values(ev, &f.path);
                    &owned
                }
            };
            if f.all {
                f.matchers.iter().all(|m| value_matches(m, vals, ev))
            } else {
                f.matchers.iter().any(|m| value_matches(m, vals, ev))
            }
        }),
        Search::AnyOf(list) => list.iter().any(|s| search_matches(s, ev)),
        Search::Keywords(k) => k.iter().any(|g| g.matches(ev.raw)),
    }
}

impl RuleSet {
    pub fn add(&mut self, rule: Rule) {
        let i = self.rules.len();
        self.rules.push(rule);
        self.index(i);
        if self.rules[i].legacy.is_some() || !self.specs.is_empty() {
            // Its aggregation must run, or a correlation may refer to it:
            // resolve again (cheap: only correlations).
            self.resolve(&mut Vec::new());
        }
    }

    /// Files rule `i` under the event names it needs, or else among the
    /// rules every event meets, with its gate.
    fn index(&mut self, i: usize) {
        let rule = &self.rules[i];
        match rule.required_names() {
            Some(names) if !names.is_empty() => {
                for n in names {
                    self.by_event_name.entry(n).or_default().push(i);
                }
            }
            _ => self.unindexed.push((i, rule.gate())),
        }
    }

    /// How many rules are loaded (correlations not counted).
    pub fn len(&self) -> usize {
        self.rules.len()
    }
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }
    /// The resolved correlations (legacy aggregations included).
    pub fn correlations(&self) -> &[Correlation] {
        &self.correlations
    }
    /// How many rules every event meets, whatever its name.
    pub fn unindexed_len(&self) -> usize {
        self.unindexed.len()
    }

    /// Calls `f` for each rule that matches `ev` and raises findings of its
    /// own; only rules indexed under the event's name (and the few that
    /// cannot be indexed) are evaluated. Correlations are not counted: see
    /// [`RuleSet::evaluate`].
    pub fn matches(&self, ev: &CtEvent, f: &mut dyn FnMut(&Arc<RuleMeta>)) {
        let mut scratch = CorrelationState::default();
        self.evaluate(ev, 0, &mut scratch, &mut |hit| {
            if let Hit::Rule(meta) = hit {
                f(meta)
            }
        });
    }

    /// Evaluates the rules for `ev` (at event time `time`, Unix seconds):
    /// standalone rule matches and correlation matches go to `f`; rules
    /// feeding correlations count in `state`.
    pub fn evaluate(
        &self,
        ev: &CtEvent,
        time: i64,
        state: &mut CorrelationState,
        f: &mut dyn FnMut(Hit),
    ) {
        let name = ev.rec.event_name.as_deref().unwrap_or("");
        // Lowercase into a stack buffer: this runs for every event.
        let mut buf = [0u8; 128];
        let lower;
        // The index holds Unicode lower case; ASCII names (all of AWS's)
        // take the allocation-free path.
        let key = if name.len() <= buf.len() && name.is_ascii() {
            let b = &mut buf[..name.len()];
            b.copy_from_slice(name.as_bytes());
            b.make_ascii_lowercase();
            std::str::from_utf8(b).unwrap_or(name)
        } else {
            lower = name.to_lowercase();
            lower.as_str()
        };
        let indexed = self.by_event_name.get(key).map_or(&[][..], Vec::as_slice);
        let gated = self
            .unindexed
            .iter()
            .filter(|(_, gate)| gate.as_ref().is_none_or(|g| g.admits(ev)))
            .map(|(i, _)| i);
        for &i in indexed.iter().chain(gated) {
            let rule = &self.rules[i];
            if !rule.matches(ev) {
                continue;
            }
            if rule.standalone {
                f(Hit::Rule(&rule.meta));
            }
            if !rule.feeds.is_empty() {
                self.feed(rule, ev, time, state, f);
            }
        }
    }

    /// Counts a match of `rule` in the correlations it feeds. Out of line:
    /// plain rules never get here.
    #[cold]
    fn feed(
        &self,
        rule: &Rule,
        ev: &CtEvent,
        time: i64,
        state: &mut CorrelationState,
        f: &mut dyn FnMut(Hit),
    ) {
        let mut out = Vec::new();
        for &(c, slot) in &rule.feeds {
            if let Some(corr) = self.correlations.get(c) {
                corr.observe(c, slot, ev, time, state, &mut out);
            }
        }
        self.propagate(out, state, &mut |s| f(Hit::Correlation(Box::new(s))));
    }

    /// Hands correlation matches on: to the correlations chained to them
    /// (new matches only) and, for reported correlations, to `sink`.
    fn propagate(
        &self,
        emitted: Vec<correlation::Emitted>,
        state: &mut CorrelationState,
        sink: &mut dyn FnMut(crate::finding::Signal),
    ) {
        let mut queue: std::collections::VecDeque<correlation::Emitted> = emitted.into();
        let mut more = Vec::new();
        while let Some(e) = queue.pop_front() {
            let Some(from) = self.correlations.get(e.from) else {
                continue;
            };
            if e.crossing {
                for &(outer, slot) in &from.feeds {
                    if let Some(o) = self.correlations.get(outer) {
                        o.observe_match(outer, slot, &e, state, &mut more);
                    }
                }
                queue.extend(more.drain(..));
            }
            if from.reported {
                sink(e.signal);
            }
        }
    }

    /// Decides correlation windows the newest event has passed (`all`:
    /// every open window, at the end of a run) and drops dead ones; matches
    /// go to `out`.
    pub fn close_windows(
        &self,
        state: &mut CorrelationState,
        all: bool,
        out: &mut Vec<crate::finding::Signal>,
    ) {
        // Inner correlations come first: what their closing windows match
        // is counted by the outer ones before those are swept.
        for i in 0..self.correlations.len() {
            let mut emitted = Vec::new();
            correlation::close_windows_of(&self.correlations, i, state, all, &mut emitted);
            self.propagate(emitted, state, &mut |s| out.push(s));
        }
    }

    /// Lines a saved correlation state up with the correlations loaded now
    /// (matched by id, else title); windows of other correlations, or
    /// counted in a shape the rule no longer uses, are dropped.
    pub fn adopt_state(&self, saved: CorrelationState) -> CorrelationState {
        correlation::adopt(&self.correlations, saved)
    }

    /// Loads every `.yml`/`.yaml` file under `dir` (recursively). Rules that
    /// use unsupported constructs are reported by name and skipped.
    /// Returns how many rules and correlations loaded.
    pub fn load_dir(&mut self, dir: &Path, diags: &mut Vec<Diagnostic>) -> std::io::Result<usize> {
        let mut files = Vec::new();
        collect_files(dir, &mut files, diags)?;
        files.sort();
        let mut loaded = 0;
        for f in files {
            let name = f.display().to_string();
            match std::fs::read_to_string(&f) {
                Ok(text) => loaded += self.load_documents(&name, &text, diags),
                Err(e) => diags.push(Diagnostic::new(
                    DiagnosticKind::Io,
                    &name,
                    None,
                    format!("cannot read: {e}"),
                )),
            }
        }
        self.resolve(diags);
        Ok(loaded)
    }

    /// Loads the rule and correlation documents of one file's text and
    /// resolves correlations against everything loaded so far.
    pub fn load_str(&mut self, name: &str, text: &str, diags: &mut Vec<Diagnostic>) -> usize {
        let n = self.load_documents(name, text, diags);
        self.resolve(diags);
        n
    }

    fn load_documents(&mut self, name: &str, text: &str, diags: &mut Vec<Diagnostic>) -> usize {
        use serde::Deserialize as _;
        let mut loaded = 0;
        for (i, doc) in serde_norway::Deserializer::from_str(text).enumerate() {
            let location = (i > 0).then(|| format!("document {}", i + 1));
            let y = match Yaml::deserialize(doc) {
                Ok(y) => y,
                Err(e) => {
                    diags.push(Diagnostic::new(
                        DiagnosticKind::Unsupported,
                        name,
                        location,
                        format!("Sigma rule \"\" not loaded: it uses YAML error: {e}"),
                    ));
                    // The parser cannot go on past a broken document.
                    break;
                }
            };
            if matches!(y, Yaml::Null) {
                continue;
            }
            let title = y.get("title").and_then(yaml_str).unwrap_or_default();
            if y.get("correlation").is_some() {
                match correlation::parse_spec(name, &y) {
                    Ok(spec) => {
                        self.specs.push(spec);
                        loaded += 1;
                    }
                    Err(e) => diags.push(Diagnostic::new(
                        DiagnosticKind::Unsupported,
                        name,
                        location,
                        format!("Sigma correlation {title:?} not loaded: it uses {}", e.0),
                    )),
                }
                continue;
            }
            match Rule::from_yaml(name, &y) {
                Ok(r) => {
                    // Not `add`: resolution runs once the file is read.
                    let i = self.rules.len();
                    self.rules.push(r);
                    self.index(i);
                    loaded += 1;
                }
                Err(e) => diags.push(Diagnostic::new(
                    DiagnosticKind::Unsupported,
                    name,
                    location,
                    format!("Sigma rule {title:?} not loaded: it uses {}", e.0),
                )),
            }
        }
        loaded
    }

    /// Resolves every correlation's references against the rules loaded so
    /// far and wires rules to the correlations they feed. A correlation
    /// whose references do not resolve is reported; the report is withdrawn
    /// if a later load resolves it.
    fn resolve(&mut self, diags: &mut Vec<Diagnostic>) {
        for r in &mut self.rules {
            r.standalone = r.legacy.is_none();
            r.feeds.clear();
        }
        let mut correlations = Vec::new();
        for r in &mut self.rules {
            if let Some(l) = &r.legacy {
                let c = correlations.len();
                correlations.push(Correlation::from_legacy(&r.meta, l));
                r.feeds.push((c, 0));
            }
        }
        let mut problems = Vec::new();
        // Rules that some correlation with `generate: true` refers to.
        let mut generated = vec![false; self.rules.len()];
        let mut fed = vec![false; self.rules.len()];
        let built = self.resolve_specs(&mut correlations, &mut problems);
        for (c, spec, slots) in &built {
            let generate = self.specs[*spec].generate;
            for (slot, target) in slots.iter().enumerate() {
                if let Target::Rule(i) = target {
                    self.rules[*i].feeds.push((*c, slot));
                    fed[*i] = true;
                    generated[*i] |= generate;
                }
            }
        }
        for (i, r) in self.rules.iter_mut().enumerate() {
            if fed[i] && !generated[i] {
                r.standalone = false;
            }
        }
        self.correlations = correlations;
        // Withdraw what no longer applies; report what is new.
        for old in &self.reported {
            if !problems.contains(old)
                && let Some(p) = diags.iter().position(|d| d == old)
            {
                diags.remove(p);
            }
        }
        for p in &problems {
            if !self.reported.contains(p) {
                diags.push(p.clone());
            }
        }
        self.reported = problems;
    }

    /// Builds the correlations of the specs whose references resolve,
    /// inner correlations before the ones chained to them; returns each
    /// built correlation's index with its spec's and what its slots refer to.
    fn resolve_specs(
        &self,
        correlations: &mut Vec<Correlation>,
        problems: &mut Vec<Diagnostic>,
    ) -> Vec<(usize, usize, Vec<Target>)> {
        let find = |reference: &str| -> Option<Target> {
            if let Some(i) = self
                .rules
                .iter()
                .position(|r| r.name.as_deref() == Some(reference) || r.meta.id == reference)
            {
                return Some(Target::Rule(i));
            }
            self.specs
                .iter()
                .position(|s| s.name.as_deref() == Some(reference) || s.meta.id == reference)
                .map(Target::Spec)
        };
        let mut targets: Vec<Result<Vec<Target>, String>> = Vec::new();
        for spec in &self.specs {
            let mut slots = Vec::new();
            let mut why = None;
            for reference in &spec.rules {
                match find(reference) {
                    Some(t) if slots.contains(&t) => {
                        why = Some(format!("the rule {reference:?} twice"));
                    }
                    Some(t) => slots.push(t),
                    None => {
                        why = Some(format!(
                            "the rule {reference:?}, which is not the name or id of any loaded rule or correlation"
                        ));
                    }
                }
                if why.is_some() {
                    break;
                }
            }
            targets.push(why.map_or(Ok(slots), Err));
        }
        // Depth first: inner specs are built before the outer ones.
        let n = self.specs.len();
        let mut order = Vec::with_capacity(n);
        let mut mark = vec![0u8; n];
        let mut cyclic = vec![false; n];
        fn visit(
            i: usize,
            targets: &[Result<Vec<Target>, String>],
            mark: &mut [u8],
            cyclic: &mut [bool],
            order: &mut Vec<usize>,
        ) {
            match mark[i] {
                1 => {
                    cyclic[i] = true;
                    return;
                }
                2 => return,
                _ => {}
            }
            mark[i] = 1;
            if let Ok(slots) = &targets[i] {
                for t in slots {
                    if let Target::Spec(j) = t {
                        visit(*j, targets, mark, cyclic, order);
                        if cyclic[*j] && mark[*j] == 1 {
                            cyclic[i] = true;
                        }
                    }
                }
            }
            mark[i] = 2;
            order.push(i);
        }
        for i in 0..n {
            visit(i, &targets, &mut mark, &mut cyclic, &mut order);
        }
        let mut index_of: Vec<Option<usize>> = vec![None; n];
        let mut built = Vec::new();
        // Which built correlations are chained into, and with `generate`.
        let mut inner_fed = Vec::new();
        let mut inner_generated = Vec::new();
        for i in order {
            let spec = &self.specs[i];
            let result = match &targets[i] {
                Err(why) => Err(why.clone()),
                Ok(_) if cyclic[i] => Err("itself, through a cycle of correlations".to_owned()),
                Ok(slots) => {
                    let names: Vec<Option<String>> = slots
                        .iter()
                        .map(|t| match t {
                            Target::Rule(r) => self.rules[*r].name.clone(),
                            Target::Spec(j) => self.specs[*j].name.clone(),
                        })
                        .collect();
                    let mut c = Correlation::from_spec(spec, &names);
                    let mut res = Ok(());
                    for (slot, t) in slots.iter().enumerate() {
                        if let Target::Spec(j) = t {
                            res = match index_of[*j] {
                                None => Err(format!(
                                    "the correlation {:?}, which did not load",
                                    self.specs[*j].meta.title
                                )),
                                Some(inner) => c.chain(
                                    spec,
                                    slot,
                                    &correlations[inner],
                                    self.specs[*j].name.as_deref(),
                                ),
                            };
                            if res.is_err() {
                                break;
                            }
                        }
                    }
                    res.map(|()| (c, slots.clone()))
                }
            };
            match result {
                Err(why) => problems.push(Diagnostic::new(
                    DiagnosticKind::Unsupported,
                    &spec.meta.file,
                    None,
                    format!(
                        "Sigma correlation {:?} not loaded: it refers to {why}",
                        spec.meta.title
                    ),
                )),
                Ok((c, slots)) => {
                    let at = correlations.len();
                    correlations.push(c);
                    inner_fed.resize(correlations.len(), false);
                    inner_generated.resize(correlations.len(), false);
                    for (slot, t) in slots.iter().enumerate() {
                        if let Target::Spec(j) = t
                            && let Some(inner) = index_of[*j]
                        {
                            correlations[inner].feeds.push((at, slot));
                            inner_fed[inner] = true;
                            inner_generated[inner] |= spec.generate;
                        }
                    }
                    index_of[i] = Some(at);
                    built.push((at, i, slots));
                }
            }
        }
        for (i, c) in correlations.iter_mut().enumerate() {
            if inner_fed.get(i).copied().unwrap_or(false) {
                c.reported = inner_generated.get(i).copied().unwrap_or(false);
            }
        }
        built
    }
}

/// The rule files under `dir` (or `dir` itself). Only `dir` failing is an
/// error; a subdirectory that cannot be read is a diagnostic and the rest
/// loads. Symbolic links to directories are not followed (a link loop
/// would never end), links to files are.
fn collect_files(
    dir: &Path,
    out: &mut Vec<std::path::PathBuf>,
    diags: &mut Vec<Diagnostic>,
) -> std::io::Result<()> {
    if dir.is_file() {
        out.push(dir.to_path_buf());
        return Ok(());
    }
    let mut pending = vec![(dir.to_path_buf(), std::fs::read_dir(dir)?)];
    while let Some((at, entries)) = pending.pop() {
        for entry in entries {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    diags.push(Diagnostic::new(
                        DiagnosticKind::Io,
                        &at.display().to_string(),
                        None,
                        format!("cannot list: {e}"),
                    ));
                    continue;
                }
            };
            let p = entry.path();
            let is_real_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            if is_real_dir {
                match std::fs::read_dir(&p) {
                    Ok(sub) => pending.push((p, sub)),
                    Err(e) => diags.push(Diagnostic::new(
                        DiagnosticKind::Io,
                        &p.display().to_string(),
                        None,
                        format!("cannot list: {e}; its rules are not loaded"),
                    )),
                }
            } else if p.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                out.push(p);
            }
        }
    }
    Ok(())
}

/// Builds an event that satisfies a rule, from the rule's own selections (for
/// tests and for `--explain`-style examples). `None` when no simple witness
/// exists.
pub fn witness(rule: &Rule) -> Option<Json> {
    let mut ev = serde_json::json!({});
    fn set(ev: &mut Json, path: &[String], v: Json) {
        let mut cur = ev;
        for (i, p) in path.iter().enumerate() {
            if !cur.is_object() {
                *cur = serde_json::json!({});
            }
            let m = cur.as_object_mut().expect("object");
            if i + 1 == path.len() {
                m.insert(p.clone(), v);
                return;
            }
            cur = m.entry(p.clone()).or_insert_with(|| serde_json::json!({}));
        }
    }
    fn example(m: &Matcher) -> Option<Json> {
        Some(match m {
            Matcher::Null | Matcher::Exists(false) => return None,
            Matcher::Exists(true) => Json::String("present".into()),
            Matcher::Str(g) => Json::String(g.example()),
            Matcher::Re(re, _) => Json::String(
                re.as_str()
                    .replace(".+", "x")
                    .replace(".*", "")
                    .replace("\\.", ".")
                    .trim_start_matches('^')
                    .trim_end_matches('$')
                    .to_owned(),
            ),
            Matcher::Cidr(n) => Json::String(n.network().to_string()),
            Matcher::Num(c, n) => serde_json::json!(match c {
                Cmp::Gt => n + 1.0,
                Cmp::Lt => n - 1.0,
                _ => *n,
            }),
            Matcher::FieldRef(_) => return None,
        })
    }
    fn apply(ev: &mut Json, s: &Search, positive: bool) {
        match s {
            Search::Fields(fields) => {
                for f in fields {
                    if positive {
                        if f.all {
                            let text: Vec<String> = f
                                .matchers
                                .iter()
                                .filter_map(example)
                                .filter_map(|j| j.as_str().map(str::to_owned))
                                .collect();
                            set(ev, &f.path, Json::String(text.join(" ")));
                        } else if let Some(v) = f.matchers.first().and_then(example) {
                            set(ev, &f.path, v);
                        }
                    } else if f.matchers.iter().all(|m| matches!(m, Matcher::Null)) {
                        set(ev, &f.path, Json::String("present".into()));
                    } else if let Some(Matcher::FieldRef(_)) = f.matchers.first() {
                        set(ev, &f.path, Json::String("rampart-differs".into()));
                    }
                }
            }
            Search::AnyOf(list) => {
                if positive {
                    if let Some(first) = list.first() {
                        apply(ev, first, true);
                    }
                } else {
                    list.iter().for_each(|s| apply(ev, s, false));
                }
            }
            Search::Keywords(k) => {
                if positive && let Some(g) = k.first() {
                    set(
                        ev,
                        &["rampartKeyword".to_owned()],
                        Json::String(g.example()),
                    );
                }
            }
        }
    }
    fn walk(ev: &mut Json, r: &Rule, c: &Cond, positive: bool) {
        match c {
            Cond::Sel(i) => apply(ev, &r.searches[*i], positive),
            Cond::And(a, b) if positive => {
                walk(ev, r, a, true);
                walk(ev, r, b, true)
            }
            Cond::Or(a, b) if !positive => {
                walk(ev, r, a, false);
                walk(ev, r, b, false)
            }
            Cond::And(a, _) | Cond::Or(a, _) => walk(ev, r, a, positive),
            Cond::Not(a) => walk(ev, r, a, !positive),
            Cond::AnyOf(l) if positive => walk(ev, r, &Cond::Sel(l[0]), true),
            Cond::AllOf(l) if !positive => walk(ev, r, &Cond::Sel(l[0]), false),
            Cond::AnyOf(l) | Cond::AllOf(l) => {
                l.iter().for_each(|i| apply(ev, &r.searches[*i], positive))
            }
        }
    }
    walk(&mut ev, rule, &rule.cond, true);
    Some(ev)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(det: &str) -> Rule {
        let text = format!(
            "title: t\nid: x\nlogsource: {{product: aws, service: cloudtrail}}\nlevel: high\ntags: [attack.defense-evasion, attack.t1562.008]\ndetection:\n{det}"
        );
        Rule::parse("t.yml", &text).unwrap_or_else(|e| panic!("{e}"))
    }
    fn ev(json: &str) -> CtEvent<'_> {
        CtEvent::parse(json).expect("event")
    }

    #[test]
    fn equality_is_case_insensitive() {
        // SigmaHQ writes 'NO'; CloudTrail writes "No".
        let r = rule(
            "  sel:\n    eventName: ConsoleLogin\n    additionalEventData.MFAUsed: 'NO'\n  condition: sel\n",
        );
        assert!(r.matches(&ev(
            r#"{"eventName":"ConsoleLogin","additionalEventData":{"MFAUsed":"No"}}"#
        )));
        assert!(!r.matches(&ev(
            r#"{"eventName":"ConsoleLogin","additionalEventData":{"MFAUsed":"Yes"}}"#
        )));
        assert_eq!(r.meta.tactics, vec!["Defense Evasion"]);
        assert_eq!(r.meta.technique, "T1562.008");
    }

    #[test]
    fn not_over_missing_field_is_true() {
        let r = rule(
            "  sel:\n    eventName: X\n  filter:\n    userAgent|contains: terraform\n  condition: sel and not filter\n",
        );
        assert!(r.matches(&ev(r#"{"eventName":"X"}"#)));
        assert!(!r.matches(&ev(r#"{"eventName":"X","userAgent":"Terraform/1.5"}"#)));
    }

    #[test]
    fn paths_reach_into_arrays() {
        let r =
            rule("  sel:\n    requestParameters.items.name|startswith: evil\n  condition: sel\n");
        assert!(r.matches(&ev(
            r#"{"requestParameters":{"items":[{"name":"ok"},{"name":"EvilOne"}]}}"#
        )));
        assert!(!r.matches(&ev(r#"{"requestParameters":{"items":[{"name":"ok"}]}}"#)));
    }

    #[test]
    fn modifier_on_object_compares_its_text() {
        let r = rule(
            "  sel:\n    requestParameters|contains|all:\n      - '\"s3:GetObject\"'\n      - '\"Allow\"'\n  condition: sel\n",
        );
        assert!(r.matches(&ev(
            r#"{"requestParameters":{"policy":{"Effect":"Allow","Action":"s3:GetObject"}}}"#
        )));
        assert!(!r.matches(&ev(
            r#"{"requestParameters":{"policy":{"Effect":"Deny","Action":"s3:GetObject"}}}"#
        )));
    }

    #[test]
    fn null_wildcards_lists_and_patterns() {
        let r = rule(
            "  selection_a:\n    eventName: [A, B*]\n    errorCode: null\n  selection_b:\n    eventName: C\n  condition: 1 of selection_*\n",
        );
        assert!(r.matches(&ev(r#"{"eventName":"Bx"}"#)));
        assert!(!r.matches(&ev(r#"{"eventName":"A","errorCode":"AccessDenied"}"#)));
        assert!(r.matches(&ev(r#"{"eventName":"c"}"#)));
        let r = rule(
            "  s1:\n    eventName: A\n  s2:\n    sourceIPAddress|cidr: 10.0.0.0/8\n  condition: all of s*\n",
        );
        assert!(r.matches(&ev(r#"{"eventName":"A","sourceIPAddress":"10.1.2.3"}"#)));
        assert!(!r.matches(&ev(r#"{"eventName":"A","sourceIPAddress":"11.1.2.3"}"#)));
        let r = rule("  s:\n    userIdentity.arn|re: '.+:assumed-role/aws:.+'\n  condition: s\n");
        assert!(r.matches(&ev(
            r#"{"userIdentity":{"arn":"arn:aws:sts::1:assumed-role/aws:ec2-instance/i-1"}}"#
        )));
        let r = rule("  k:\n    - 'evil-string'\n  condition: k\n");
        assert!(r.matches(&ev(
            r#"{"eventName":"A","requestParameters":{"x":"an EVIL-string here"}}"#
        )));
        let r = rule(
            "  s:\n    requestParameters.cmd|base64offset|contains: 'whoami'\n  condition: s\n",
        );
        let enc = base64::engine::general_purpose::STANDARD.encode("run whoami now");
        assert!(r.matches(&ev(&format!(
            r#"{{"requestParameters":{{"cmd":"{enc}"}}}}"#
        ))));
        let r = rule(
            "  s:\n    eventName: UpdateLoginProfile\n  f:\n    userIdentity.arn|fieldref: requestParameters.userName\n  condition: s and not f\n",
        );
        assert!(r.matches(&ev(r#"{"eventName":"UpdateLoginProfile","userIdentity":{"arn":"a"},"requestParameters":{"userName":"b"}}"#)));
        assert!(!r.matches(&ev(r#"{"eventName":"UpdateLoginProfile","userIdentity":{"arn":"a"},"requestParameters":{"userName":"a"}}"#)));
    }

    #[test]
    fn unsupported_constructs_are_named() {
        let text = "title: agg\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel:\n    eventName: A\n  condition: sel | count() > 5\n";
        let e = Rule::parse("a.yml", text).expect_err("aggregation without timeframe");
        assert!(e.0.contains("count()") && e.0.contains("timeframe"), "{e}");
        let text = "title: near\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  a:\n    eventName: A\n  b:\n    eventName: B\n  timeframe: 1m\n  condition: a | near b\n";
        let e = Rule::parse("a.yml", text).expect_err("near");
        assert!(e.0.contains("near"), "{e}");
        let text = "title: exp\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel:\n    ip|expand: '%x%'\n  condition: sel\n";
        assert!(
            Rule::parse("a.yml", text)
                .expect_err("expand")
                .0
                .contains("|expand")
        );
    }

    const BASE: &str = "title: Base\nname: base\nid: 11111111-2222-4333-8444-555555555555\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel:\n    eventName: StopLogging\n  condition: sel\n";

    fn corr(refer: &str, extra: &str) -> String {
        format!(
            "title: Corr\n{extra}correlation:\n  type: event_count\n  rules: [{refer}]\n  group-by: [userIdentity.arn]\n  timespan: 1h\n  condition: {{gte: 2}}\n"
        )
    }

    fn standalone_hits(set: &RuleSet, json: &str) -> usize {
        let mut n = 0;
        set.matches(&ev(json), &mut |_| n += 1);
        n
    }

    #[test]
    fn multi_document_files_and_references_by_name_or_id() {
        let stop = r#"{"eventName":"StopLogging"}"#;
        for (refer, extra, standalone) in [
            ("base", "", 0),
            ("11111111-2222-4333-8444-555555555555", "", 0),
            // The spec puts `generate` beside `correlation`, pySigma inside.
            ("base", "generate: true\n", 1),
        ] {
            let mut set = RuleSet::default();
            let mut diags = Vec::new();
            let text = format!("{BASE}---\n{}", corr(refer, extra));
            assert_eq!(set.load_str("f.yml", &text, &mut diags), 2);
            assert!(diags.is_empty(), "{diags:?}");
            assert_eq!(set.correlations().len(), 1);
            assert_eq!(standalone_hits(&set, stop), standalone, "{refer} {extra}");
        }
        let mut set = RuleSet::default();
        let mut diags = Vec::new();
        let text = format!(
            "{BASE}---\n{}",
            corr("base", "").replace("  timespan: 1h\n", "  timespan: 1h\n  generate: true\n")
        );
        set.load_str("f.yml", &text, &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(standalone_hits(&set, stop), 1);
    }

    #[test]
    fn broken_documents_and_correlations_are_reported_where_they_are() {
        let mut set = RuleSet::default();
        let mut diags = Vec::new();
        let text = format!("{BASE}---\n{}---\ntitle: [unclosed\n", corr("nope", ""));
        assert_eq!(set.load_str("f.yml", &text, &mut diags), 2);
        assert_eq!(diags.len(), 2, "{diags:?}");
        assert_eq!(diags[0].location.as_deref(), Some("document 3"));
        assert!(diags[0].message.contains("YAML error"), "{}", diags[0]);
        assert!(
            diags[1]
                .message
                .starts_with("Sigma correlation \"Corr\" not loaded")
                && diags[1].message.contains("\"nope\""),
            "{}",
            diags[1]
        );
        // Unresolved, the correlation claims nothing: the rule stands alone.
        assert_eq!(standalone_hits(&set, r#"{"eventName":"StopLogging"}"#), 1);
        for (bad, why) in [
            (
                "  type: event_count\n  rules: [base]\n  timespan: 1h\n",
                "without a condition",
            ),
            (
                "  type: value_count\n  rules: [base]\n  timespan: 1h\n  condition: {gte: 2}\n",
                "condition.field",
            ),
            (
                "  type: temporal_ordered\n  rules: [base, base]\n  timespan: 1h\n  condition: {lt: 2}\n",
                "temporal_ordered",
            ),
            (
                "  type: event_count\n  rules: [base]\n  timespan: 1w\n  condition: {gte: 2}\n",
                "timespan",
            ),
            (
                "  type: event_count\n  rules: [base]\n  timespan: 1h\n  condition: {gte: 20000}\n",
                "above",
            ),
            (
                "  type: temporal\n  rules: [base, base]\n  timespan: 1h\n",
                "twice",
            ),
        ] {
            let mut set = RuleSet::default();
            let mut diags = Vec::new();
            set.load_str(
                "f.yml",
                &format!("{BASE}---\ntitle: Bad\ncorrelation:\n{bad}"),
                &mut diags,
            );
            assert_eq!(diags.len(), 1, "{bad}: {diags:?}");
            assert!(
                diags[0].message.contains("\"Bad\"") && diags[0].message.contains(why),
                "{}",
                diags[0]
            );
            assert!(set.correlations().is_empty());
        }
    }

    #[test]
    fn index_by_event_name() {
        let mut set = RuleSet::default();
        set.add(rule(
            "  sel:\n    eventName: [StopLogging, DeleteTrail]\n  condition: sel\n",
        ));
        set.add(rule(
            "  sel:\n    userAgent|contains: kali\n  condition: sel\n",
        ));
        assert_eq!(set.unindexed_len(), 1);
        let mut n = 0;
        set.matches(
            &ev(r#"{"eventName":"stoplogging","userAgent":"kali"}"#),
            &mut |_| n += 1,
        );
        assert_eq!(n, 2);
    }

    #[test]
    fn rules_the_name_index_cannot_place_get_a_gate_that_never_drops_a_match() {
        let root = rule(
            "  user:\n    userIdentity.type: Root\n  svc:\n    eventType: AwsServiceEvent\n  condition: user and not svc\n",
        );
        assert_eq!(
            root.gate(),
            Some(Gate {
                path: TypedPath::IdentityType,
                values: vec!["root".into()]
            })
        );
        // Either of two fields: no single one is required.
        let either = rule(
            "  a:\n    userIdentity.type: Root\n  b:\n    userAgent: TruffleHog\n  condition: a or b\n",
        );
        assert_eq!(either.gate(), None);
        // Only under `not`: not required either.
        let negated = rule("  a:\n    userIdentity.type: Root\n  condition: not a\n");
        assert_eq!(negated.gate(), None);
        // Wildcards, modifiers and non-ASCII values (Unicode case) give none.
        for det in [
            "  a:\n    userAgent: 'Truffle*'\n  condition: a\n",
            "  a:\n    userAgent|contains: Truffle\n  condition: a\n",
            "  a:\n    userAgent: 'Ünïcode'\n  condition: a\n",
        ] {
            assert_eq!(rule(det).gate(), None, "{det}");
        }
        // Through the rule set, the gate keeps Sigma's case-insensitive
        // equality and skips only events that cannot match.
        let mut set = RuleSet::default();
        set.add(root);
        set.add(rule(
            "  sel:\n    userAgent: TruffleHog\n  condition: sel\n",
        ));
        assert_eq!(set.unindexed.iter().filter(|(_, g)| g.is_some()).count(), 2);
        let hits = |json: &str| {
            let mut n = 0;
            set.matches(&ev(json), &mut |_| n += 1);
            n
        };
        assert_eq!(
            hits(r#"{"eventName":"X","userIdentity":{"type":"ROOT"}}"#),
            1
        );
        assert_eq!(
            hits(
                r#"{"eventName":"X","userIdentity":{"type":"Root"},"eventType":"AwsServiceEvent"}"#
            ),
            0
        );
        assert_eq!(
            hits(r#"{"eventName":"X","userIdentity":{"type":"IAMUser"}}"#),
            0
        );
        assert_eq!(hits(r#"{"eventName":"X","userAgent":"trufflehog"}"#), 1);
        // A look-alike that Unicode lower case turns into the value (KELVIN
        // SIGN for `k`) matches the rule, so the gate must let it through.
        let mut kali = RuleSet::default();
        kali.add(rule("  sel:\n    userAgent: kali\n  condition: sel\n"));
        let mut n = 0;
        kali.matches(
            &ev("{\"eventName\":\"X\",\"userAgent\":\"\u{212A}ali\"}"),
            &mut |_| n += 1,
        );
        assert_eq!(n, 1, "the gate must not skip what the rule matches");
        // The name index too: a non-ASCII event name finds its rule.
        let mut named = RuleSet::default();
        named.add(rule("  sel:\n    eventName: ÄNDERN\n  condition: sel\n"));
        let mut n = 0;
        named.matches(&ev(r#"{"eventName":"Ändern"}"#), &mut |_| n += 1);
        assert_eq!(n, 1);
        assert_eq!(hits(r#"{"eventName":"X"}"#), 0);
    }

    #[test]
    fn regex_patterns_are_checked_for_their_required_literal_first() {
        assert_eq!(
            required_literal(".+:assumed-role/aws:.+").as_deref(),
            Some(":assumed-role/aws:")
        );
        assert_eq!(
            required_literal(r"^arn:aws:iam::\d+:user/").as_deref(),
            Some("arn:aws:iam::")
        );
        // Case-insensitive text, alternations and short runs give none.
        for p in ["(?i)assumed-role", "abc|def", "a.b.c", "(foo)bar+"] {
            assert_eq!(required_literal(p), None, "{p}");
        }
        let r =
            rule("  sel:\n    userIdentity.arn|re: '.+:assumed-role/aws:.+'\n  condition: sel\n");
        let with = |arn: &str| {
            r.matches(&ev(&format!(
                r#"{{"eventName":"X","userIdentity":{{"arn":"{arn}"}}}}"#
            )))
        };
        assert!(with("arn:aws:sts::1:assumed-role/aws:ec2-instance/i-1"));
        assert!(!with("arn:aws:sts::1:assumed-role/admin/alice"));
        // The literal is a necessary condition, the regex still decides.
        assert!(!with(":assumed-role/aws:"));
        let ri = rule("  sel:\n    userAgent|re|i: 'trufflehog'\n  condition: sel\n");
        assert!(ri.matches(&ev(r#"{"eventName":"X","userAgent":"TruffleHog/3"}"#)));
    }

    #[test]
    fn a_link_loop_in_a_rules_directory_does_not_stop_the_load() {
        let dir = tempfile::tempdir().expect("tmp");
        let sub = dir.path().join("aws");
        std::fs::create_dir(&sub).expect("mkdir");
        std::fs::write(
            sub.join("r.yml"),
            "title: r\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel:\n    eventName: StopLogging\n  condition: sel\n",
        )
        .expect("write");
        std::os::unix::fs::symlink(dir.path(), sub.join("loop")).expect("symlink");
        let mut set = RuleSet::default();
        let mut diags = Vec::new();
        let loaded = set.load_dir(dir.path(), &mut diags).expect("loads");
        assert_eq!(loaded, 1, "{diags:?}");
    }
}
