//! The matching engine. One Aho-Corasick pass over the input finds every
//! rule keyword (each byte is read once); only the rules whose keywords
//! occurred run their regex, and only on the lines around the hits. Most
//! files wake no rule at all, so the cost of a scan is close to the cost of
//! the keyword pass.

use crate::Error;
use crate::checks::{self, Assignment, Check};
use crate::config::{AllowlistSpec, ConfigFile};
use crate::finding::{Finding, fingerprint, mask};
use crate::rules::{Confidence, Rule, RuleSpec, build_regex, builtin_specs};
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use memchr::memmem;
use regex::bytes::Regex;
use std::collections::{HashMap, HashSet};

/// Comments that suppress a finding on their line (ours, detect-secrets',
/// gitleaks').
const INLINE_ALLOW: &[&[u8]] = &[
    b"rampart:allow",
    b"pragma: allowlist secret",
    b"gitleaks:allow",
];
/// detect-secrets' comment that suppresses the next line.
const NEXT_LINE_ALLOW: &[u8] = b"pragma: allowlist nextline secret";

/// Longest stretch of a line (each side of a keyword) the regex sees; keeps
/// minified one-line files from turning every hit into a full-file search.
const LINE_CAP: usize = 4096;
/// Longest window around a keyword for multi-line rules (private keys).
const WINDOW_CAP: usize = 64 * 1024;

/// Files that are never checked: lock files hold integrity hashes, and
/// baselines hold fingerprints, both of which look random by design.
const DEFAULT_ALLOW_PATHS: &[&str] = &[
    r"(^|/)(package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|Cargo\.lock|go\.sum|poetry\.lock|Pipfile\.lock|composer\.lock|Gemfile\.lock|packages\.lock\.json|gradle\.lockfile|flake\.lock|uv\.lock)$",
    r"(^|/)(\.secrets\.baseline|\.rampart-baseline\.json)$",
    r"(^|/)\.git/",
];

/// Global allowlist: paths, secret regexes, stop words.
#[derive(Debug, Default)]
pub struct Allowlist {
    paths: Vec<Regex>,
    regexes: Vec<Regex>,
    stopwords: Vec<String>,
}

impl Allowlist {
    fn extend(&mut self, spec: &AllowlistSpec, origin: &str) -> Result<(), Error> {
        let compile = |p: &String| {
            build_regex(p).map_err(|e| Error::Config {
                origin: origin.to_owned(),
                message: format!("allowlist regex {p:?}: {e}"),
            })
        };
        for p in &spec.paths {
            self.paths.push(compile(p)?);
        }
        for p in &spec.regexes {
            self.regexes.push(compile(p)?);
        }
        self.stopwords
            .extend(spec.stopwords.iter().map(|s| s.to_ascii_lowercase()));
        Ok(())
    }

    /// Whether a path is excluded from scanning.
    pub fn path_allowed(&self, path: &str) -> bool {
        self.paths.iter().any(|r| r.is_match(path.as_bytes()))
    }

    fn secret_allowed(&self, secret: &str) -> bool {
        let lower = secret.to_ascii_lowercase();
        self.regexes.iter().any(|r| r.is_match(secret.as_bytes()))
            || self.stopwords.iter().any(|w| lower.contains(w.as_str()))
    }
}

/// A compiled rule set, ready to scan any number of inputs in parallel.
#[derive(Debug)]
pub struct Scanner {
    rules: Vec<Rule>,
    keywords: Option<AhoCorasick>,
    /// The same keywords as a bare DFA, for the skim over the whole input.
    skim: Option<aho_corasick::dfa::DFA>,
    /// For each keyword pattern, the rules it wakes, and for each of those
    /// rules whether the hit must match the keyword's case exactly.
    keyword_rules: Vec<Vec<(usize, Option<Vec<u8>>)>>,
    /// Rules without keywords: their regex runs on every input.
    always: Vec<usize>,
    allowlist: Allowlist,
}

impl Scanner {
    /// The built-in rules and default allowlist.
    pub fn builtin() -> Result<Scanner, Error> {
        Scanner::new(&[])
    }

    /// Built-in rules plus each configuration (custom rules, allowlists,
    /// disabled rules), applied in order.
    pub fn new(configs: &[ConfigFile]) -> Result<Scanner, Error> {
        let disabled: HashSet<&str> = configs
            .iter()
            .flat_map(|c| c.disable.iter().map(String::as_str))
            .collect();
        let mut rules = Vec::new();
        for spec in builtin_specs()? {
            if !disabled.contains(spec.id.as_str()) {
                rules.push(Rule::new(spec, "built-in rules", false)?);
            }
        }
        let mut allowlist = Allowlist::default();
        allowlist.extend(
            &AllowlistSpec {
                paths: DEFAULT_ALLOW_PATHS
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect(),
                ..AllowlistSpec::default()
            },
            "default allowlist",
        )?;
        for config in configs {
            allowlist.extend(&config.allowlist, &config.origin)?;
            for spec in &config.rules {
                // A custom rule with a built-in id replaces the built-in.
                rules.retain(|r| r.spec.id != spec.id);
                rules.push(Rule::new(spec.clone(), &config.origin, true)?);
            }
        }
        Scanner::assemble(rules, allowlist)
    }

    /// A scanner over exactly these rules (no built-ins), for tests and tools.
    pub fn from_specs(specs: Vec<RuleSpec>) -> Result<Scanner, Error> {
        let rules = specs
            .into_iter()
            .map(|s| Rule::new(s, "rules", true))
            .collect::<Result<Vec<_>, _>>()?;
        Scanner::assemble(rules, Allowlist::default())
    }

    fn assemble(rules: Vec<Rule>, allowlist: Allowlist) -> Result<Scanner, Error> {
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut keyword_rules: Vec<Vec<(usize, Option<Vec<u8>>)>> = Vec::new();
        let mut always = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            if rule.spec.keywords.is_empty() {
                always.push(i);
            }
            // A keyword that is a literal part of a case-sensitive regex
            // (`AKIA`, `SG.`) can only lead to a match in its exact case, so
            // hits in another case (`msg.`, `general` for `NRAL`) are
            // dropped before any window is cut. Context words (`twilio`)
            // and keywords of `(?i)` regexes match in any case.
            let insensitive = rule.spec.regex.starts_with("(?i)");
            let literal_source = rule.spec.regex.replace('\\', "");
            for kw in &rule.spec.keywords {
                let exact = (!insensitive && literal_source.contains(kw.as_str()))
                    .then(|| kw.as_bytes().to_vec());
                let key = kw.to_ascii_lowercase().into_bytes();
                let slot = *index.entry(key.clone()).or_insert_with(|| {
                    patterns.push(key);
                    keyword_rules.push(Vec::new());
                    patterns.len() - 1
                });
                if !keyword_rules[slot].iter().any(|(r, _)| *r == i) {
                    keyword_rules[slot].push((i, exact));
                }
            }
        }
        let skim = if patterns.is_empty() {
            None
        } else {
            Some(
                aho_corasick::dfa::DFA::builder()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .prefilter(false)
                    .build(&patterns)
                    .map_err(|e| Error::Config {
                        origin: "keywords".into(),
                        message: e.to_string(),
                    })?,
            )
        };
        let keywords = if patterns.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .kind(Some(AhoCorasickKind::DFA))
                    .build(&patterns)
                    .map_err(|e| Error::Config {
                        origin: "keywords".into(),
                        message: e.to_string(),
                    })?,
            )
        };
        Ok(Scanner {
            rules,
            keywords,
            skim,
            keyword_rules,
            always,
            allowlist,
        })
    }

    /// The rules in use.
    pub fn rules(&self) -> impl Iterator<Item = &RuleSpec> {
        self.rules.iter().map(|r| &r.spec)
    }

    /// Whether a path is excluded by an allowlist.
    pub fn path_allowed(&self, path: &str) -> bool {
        self.allowlist.path_allowed(path)
    }

    /// Finds the secrets in one input. `path` is used for reporting, for
    /// path allowlists and for file-type heuristics; the data may be any
    /// bytes (invalid UTF-8 is matched as bytes).
    pub fn scan(&self, path: &str, data: &[u8]) -> Vec<Finding> {
        if self.allowlist.path_allowed(path) {
            return Vec::new();
        }
        let windows = self.windows(data);
        if windows.is_empty() {
            return Vec::new();
        }
        let mut candidates: Vec<Candidate> = Vec::new();
        let mut seen: HashSet<(usize, usize)> = HashSet::new();
        // Spans a provider rule matched but refused (bad checksum,
        // placeholder): a generic rule must not report them either.
        let mut rejected: Vec<(usize, usize)> = Vec::new();
        for (rule_idx, start, end) in windows {
            let rule = &self.rules[rule_idx];
            if rule.allow_paths.iter().any(|r| r.is_match(path.as_bytes())) {
                continue;
            }
            let Some(regex) = rule.regex() else { continue };
            for caps in regex.captures_iter(&data[start..end]) {
                match self.judge(rule, rule_idx, &caps, start, data, path) {
                    Judged::Keep(c) if seen.insert((rule_idx, c.start)) => candidates.push(c),
                    Judged::Rejected(span) if !is_generic_rule(&rule.spec) => rejected.push(span),
                    _ => {}
                }
            }
        }
        drop_generic_overlaps(&mut candidates, &self.rules, &rejected);
        candidates.sort_by_key(|c| (c.start, c.rule));
        let mut locator = Locator::new(data);
        candidates
            .into_iter()
            .filter_map(|c| {
                let (line, column, line_start) = locator.locate(c.start);
                if suppressed(data, line_start) {
                    return None;
                }
                let (end_line, end_column, _) = locator.peek(c.end);
                let rule = &self.rules[c.rule].spec;
                let entropy =
                    (checks::shannon_entropy(c.secret.as_bytes()) * 100.0).round() / 100.0;
                let mut confidence = c.confidence;
                if checks::is_test_path(path) {
                    confidence = confidence.lower();
                }
                Some(Finding {
                    rule_id: rule.id.clone(),
                    provider: rule.provider.clone(),
                    description: rule.description.clone(),
                    severity: rule.severity,
                    confidence,
                    path: path.to_owned(),
                    line,
                    column,
                    end_line,
                    end_column,
                    masked: mask(&c.secret),
                    entropy,
                    fingerprint: fingerprint(&rule.id, path, &c.secret),
                    commit: None,
                    blob: None,
                    validation: None,
                    secret: c.secret,
                })
            })
            .collect()
    }

    /// (rule, window start, window end) for every rule a keyword woke,
    /// with each rule's overlapping windows merged.
    fn windows(&self, data: &[u8]) -> Vec<(usize, usize, usize)> {
        let mut out: Vec<(usize, usize, usize)> = Vec::new();
        for &r in &self.always {
            out.push((r, 0, data.len()));
        }
        let Some(ac) = &self.keywords else { return out };
        // Per rule, the end of its last window, to skip hits already covered.
        let mut last_end: HashMap<usize, usize> = HashMap::new();
        // The skim finds where keywords end (see `keyword_ends`); on each
        // line with a hit, an overlapping search lists every keyword of the
        // line, since keywords can overlap (`secret` inside
        // `aws_secret_access_key`).
        let ends = match &self.skim {
            Some(dfa) => keyword_ends(dfa, data),
            None => Vec::new(),
        };
        let mut done_to = 0;
        for end in ends {
            if end < done_to {
                continue;
            }
            let line_start =
                memchr::memrchr(b'\n', &data[done_to..end]).map_or(done_to, |i| done_to + i + 1);
            let line_end = memchr::memchr(b'\n', &data[end..]).map_or(data.len(), |i| end + i + 1);
            done_to = line_end;
            for m in
                ac.find_overlapping_iter(aho_corasick::Input::new(data).span(line_start..line_end))
            {
                for (r, exact) in &self.keyword_rules[m.pattern().as_usize()] {
                    let r = *r;
                    if self.always.contains(&r)
                        || exact
                            .as_ref()
                            .is_some_and(|k| &data[m.start()..m.end()] != k.as_slice())
                    {
                        continue;
                    }
                    if let Some(&end) = last_end.get(&r)
                        && m.end() <= end
                    {
                        continue;
                    }
                    let ctx = self.rules[r].spec.context_lines;
                    let (ws, we) = window(data, m.start(), m.end(), ctx);
                    last_end.insert(r, we);
                    out.push((r, ws, we));
                }
            }
        }
        out
    }

    /// Applies a rule's checks to one regex match; `None` drops it.
    fn judge(
        &self,
        rule: &Rule,
        rule_idx: usize,
        caps: &regex::bytes::Captures<'_>,
        offset: usize,
        data: &[u8],
        path: &str,
    ) -> Judged {
        match self.judge_inner(rule, rule_idx, caps, offset, data, path) {
            Ok(c) => Judged::Keep(c),
            Err(Some(span)) => Judged::Rejected(span),
            Err(None) => Judged::Skip,
        }
    }

    /// `Err(Some(span))`: the rule matched these bytes and refused them.
    fn judge_inner(
        &self,
        rule: &Rule,
        rule_idx: usize,
        caps: &regex::bytes::Captures<'_>,
        offset: usize,
        data: &[u8],
        path: &str,
    ) -> Result<Candidate, Option<(usize, usize)>> {
        let spec = &rule.spec;
        let names: Vec<Option<&str>> = rule.regex().ok_or(None)?.capture_names().collect();
        let secret_match = match spec.secret_group {
            Some(g) => caps.get(g),
            None => caps
                .name("secret")
                .or_else(|| {
                    (1..caps.len())
                        .filter(|&i| !matches!(names.get(i), Some(Some("key" | "user" | "host"))))
                        .find_map(|i| caps.get(i))
                })
                .or_else(|| caps.get(0)),
        }
        .ok_or(None)?;
        let secret = String::from_utf8_lossy(secret_match.as_bytes()).into_owned();
        if secret.is_empty() {
            return Err(None);
        }
        let start = offset + secret_match.start();
        let end = offset + secret_match.end();
        let refuse = Err(Some((start, end)));
        let mut confidence = spec.confidence;
        let group_str = |name: &str| {
            caps.name(name)
                .map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned())
        };
        match spec.check {
            Some(Check::Crc32Base62) => {
                if !checks::crc32_base62_ok(&secret) {
                    return refuse;
                }
                confidence = Confidence::High;
            }
            Some(Check::Jwt) if !checks::jwt_ok(&secret) => return refuse,
            Some(Check::PemBody) if !checks::pem_body_ok(&secret) => return refuse,
            Some(Check::Base64Pem) if !checks::base64_pem_ok(&secret) => return refuse,
            Some(Check::Base64UserPass) if !checks::base64_user_pass_ok(&secret) => return refuse,
            Some(kind @ (Check::GenericPassword | Check::GenericSecret)) => {
                let key = group_str("key").unwrap_or_default();
                let quoted = start > 0 && matches!(data[start - 1], b'"' | b'\'' | b'`');
                let assignment = Assignment {
                    key: &key,
                    value: &secret,
                    quoted,
                    path,
                    next: data.get(end).copied(),
                };
                let ok = if kind == Check::GenericPassword {
                    checks::generic_password_ok(&assignment)
                } else {
                    checks::generic_secret_ok(&assignment)
                };
                if !ok {
                    return refuse;
                }
                if checks::shannon_entropy(secret.as_bytes()) >= 3.5 && char_mix(&secret) {
                    confidence = confidence.max(Confidence::Medium);
                }
            }
            Some(Check::UrlPassword) => {
                let user = group_str("user").unwrap_or_default();
                let host = group_str("host").unwrap_or_default();
                if !checks::url_password_ok(&user, &secret, &host) {
                    return refuse;
                }
            }
            _ => {
                if checks::is_provider_placeholder(&secret) {
                    return refuse;
                }
            }
        }
        if let Some(min) = spec.min_entropy
            && checks::shannon_entropy(secret.as_bytes()) < min
        {
            return refuse;
        }
        if rule.allow.iter().any(|r| r.is_match(secret.as_bytes()))
            || self.allowlist.secret_allowed(&secret)
        {
            return refuse;
        }
        Ok(Candidate {
            rule: rule_idx,
            start,
            end,
            secret,
            confidence,
        })
    }
}

fn char_mix(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_digit()) && s.bytes().any(|b| b.is_ascii_alphabetic())
}

enum Judged {
    Keep(Candidate),
    Rejected((usize, usize)),
    Skip,
}

fn is_generic_rule(spec: &RuleSpec) -> bool {
    matches!(
        spec.check,
        Some(Check::GenericPassword | Check::GenericSecret | Check::UrlPassword)
    ) || spec.provider == "Generic"
}

struct Candidate {
    rule: usize,
    start: usize,
    end: usize,
    secret: String,
    confidence: Confidence,
}

/// Offsets just before which a keyword ends (sorted, possibly repeated).
///
/// The keyword DFA is walked over four parts of the input at once: each
/// step depends on the previous state, so a single walk leaves the CPU
/// waiting on every table load, and independent walks fill those gaps.
/// Each part but the last runs on into the next by the longest keyword, so
/// a keyword that straddles a boundary is still seen.
fn keyword_ends(dfa: &aho_corasick::dfa::DFA, data: &[u8]) -> Vec<usize> {
    use aho_corasick::Anchored;
    use aho_corasick::automaton::Automaton;
    const WALKS: usize = 4;
    let mut ends = Vec::new();
    let Ok(start) = dfa.start_state(Anchored::No) else {
        return ends;
    };
    let step = |sid, byte, at: usize, ends: &mut Vec<usize>| {
        let next = dfa.next_state(Anchored::No, sid, byte);
        if dfa.is_special(next) && dfa.is_match(next) {
            ends.push(at + 1);
        }
        next
    };
    let n = data.len();
    let part = n / WALKS;
    let overlap = dfa.max_pattern_len();
    if n < 1024 || part <= overlap {
        let mut sid = start;
        for (i, &b) in data.iter().enumerate() {
            sid = step(sid, b, i, &mut ends);
        }
        return ends;
    }
    // Part k covers [k·part, (k+1)·part + overlap), the last one to the end.
    let bounds: [(usize, usize); WALKS] = std::array::from_fn(|k| {
        (
            k * part,
            if k == WALKS - 1 {
                n
            } else {
                ((k + 1) * part + overlap).min(n)
            },
        )
    });
    let common = bounds.iter().map(|(s, e)| e - s).min().unwrap_or(0);
    let mut sids = [start; WALKS];
    let (p0, p1, p2, p3) = (
        &data[bounds[0].0..bounds[0].0 + common],
        &data[bounds[1].0..bounds[1].0 + common],
        &data[bounds[2].0..bounds[2].0 + common],
        &data[bounds[3].0..bounds[3].0 + common],
    );
    for i in 0..common {
        sids[0] = step(sids[0], p0[i], bounds[0].0 + i, &mut ends);
        sids[1] = step(sids[1], p1[i], bounds[1].0 + i, &mut ends);
        sids[2] = step(sids[2], p2[i], bounds[2].0 + i, &mut ends);
        sids[3] = step(sids[3], p3[i], bounds[3].0 + i, &mut ends);
    }
    for (k, &(s, e)) in bounds.iter().enumerate() {
        let mut sid = sids[k];
        for (i, &b) in data[s + common..e].iter().enumerate() {
            sid = step(sid, b, s + common + i, &mut ends);
        }
    }
    ends.sort_unstable();
    ends
}

/// One finding per secret: a generic rule (`password = …`) that matched
/// the same bytes as a provider rule adds nothing, and two rules that
/// matched exactly the same span report it once (the first rule wins).
fn drop_generic_overlaps(
    candidates: &mut Vec<Candidate>,
    rules: &[Rule],
    rejected: &[(usize, usize)],
) {
    let is_generic = |c: &Candidate| is_generic_rule(&rules[c.rule].spec);
    // Specific rules first, then by rule order, so the survivors are the
    // most precise description of each secret.
    candidates.sort_by_key(|c| (is_generic(c), c.rule, c.start));
    let mut kept: Vec<Candidate> = Vec::with_capacity(candidates.len());
    for c in candidates.drain(..) {
        let clash = kept.iter().any(|k| {
            let same = k.start == c.start && k.end == c.end;
            let overlap = c.start < k.end && k.start < c.end;
            same || (overlap && is_generic(&c))
        }) || (is_generic(&c)
            && rejected.iter().any(|&(s, e)| c.start < e && s < c.end));
        if !clash {
            kept.push(c);
        }
    }
    *candidates = kept;
}

/// The window a rule's regex sees around a keyword hit: the hit's line plus
/// `context` lines each side, capped.
fn window(data: &[u8], start: usize, end: usize, context: usize) -> (usize, usize) {
    let cap = if context == 0 { LINE_CAP } else { WINDOW_CAP };
    let floor = start.saturating_sub(cap);
    let ceil = end.saturating_add(cap).min(data.len());
    let line_begin =
        |pos: usize| memchr::memrchr(b'\n', &data[floor..pos]).map_or(floor, |i| floor + i + 1);
    let line_end =
        |pos: usize| memchr::memchr(b'\n', &data[pos..ceil]).map_or(ceil, |i| pos + i + 1);
    let mut ws = line_begin(start);
    for _ in 0..context {
        if ws <= floor {
            break;
        }
        ws = line_begin(ws - 1);
    }
    let mut we = line_end(end.min(ceil));
    for _ in 0..context {
        if we >= ceil {
            break;
        }
        we = line_end(we);
    }
    (ws, we)
}

/// Whether the finding's line carries an allow comment, or the line before
/// it carries detect-secrets' "next line" comment.
fn suppressed(data: &[u8], line_start: usize) -> bool {
    let line_end =
        memchr::memchr(b'\n', &data[line_start..]).map_or(data.len(), |i| line_start + i);
    let line = &data[line_start..line_end];
    if INLINE_ALLOW.iter().any(|m| memmem::find(line, m).is_some()) {
        return true;
    }
    if line_start > 0 {
        let prev_start = memchr::memrchr(b'\n', &data[..line_start - 1]).map_or(0, |i| i + 1);
        if memmem::find(&data[prev_start..line_start - 1], NEXT_LINE_ALLOW).is_some() {
            return true;
        }
    }
    false
}

/// Turns byte offsets into line and column, counting newlines once for all
/// findings of a file (they arrive sorted).
struct Locator<'a> {
    data: &'a [u8],
    pos: usize,
    line: usize,
    line_start: usize,
}

impl<'a> Locator<'a> {
    fn new(data: &'a [u8]) -> Self {
        Locator {
            data,
            pos: 0,
            line: 1,
            line_start: 0,
        }
    }

    /// (line, column, line start) of `offset`, advancing the cursor.
    fn locate(&mut self, offset: usize) -> (usize, usize, usize) {
        let offset = offset.min(self.data.len());
        if offset < self.pos {
            *self = Locator::new(self.data);
        }
        for i in memchr::memchr_iter(b'\n', &self.data[self.pos..offset]) {
            self.line += 1;
            self.line_start = self.pos + i + 1;
        }
        self.pos = offset;
        let column = 1 + self.data[self.line_start..offset]
            .iter()
            .filter(|&&b| (b & 0xC0) != 0x80)
            .count();
        (self.line, column, self.line_start)
    }

    /// Like `locate` without moving the cursor.
    fn peek(&self, offset: usize) -> (usize, usize, usize) {
        let mut copy = Locator {
            data: self.data,
            pos: self.pos,
            line: self.line,
            line_start: self.line_start,
        };
        copy.locate(offset)
    }
}

/// A quick binary test: a NUL byte in the first 8 KiB, as git does.
pub fn looks_binary(data: &[u8]) -> bool {
    memchr::memchr(0, &data[..data.len().min(8192)]).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_ends_agree_with_a_plain_search() {
        let dfa = aho_corasick::dfa::DFA::builder()
            .ascii_case_insensitive(true)
            .prefilter(false)
            .build(["akia", "secret", "ghp_"])
            .unwrap();
        let ac = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(["akia", "secret", "ghp_"])
            .unwrap();
        let mut text = Vec::new();
        for i in 0..400 {
            text.extend_from_slice(format!("line {i} x").as_bytes());
            if i % 7 == 0 {
                text.extend_from_slice(b" AKIA ");
            }
            if i % 11 == 0 {
                text.extend_from_slice(b" my_SECRET ghp_");
            }
            text.push(b'\n');
        }
        for cut in [
            0,
            1,
            255,
            1023,
            1024,
            1500,
            text.len() / 2 - 3,
            text.len() - 1,
            text.len(),
        ] {
            let data = &text[..cut];
            let mut want: Vec<usize> = ac.find_overlapping_iter(data).map(|m| m.end()).collect();
            want.sort_unstable();
            let mut got = keyword_ends(&dfa, data);
            got.dedup();
            assert_eq!(got, want, "cut at {cut}");
        }
    }

    #[test]
    fn window_is_the_line() {
        let data = b"one\ntwo KEY two\nthree";
        let (s, e) = window(data, 8, 11, 0);
        assert_eq!(&data[s..e], b"two KEY two\n");
        let (s, e) = window(data, 8, 11, 1);
        assert_eq!(&data[s..e], &data[..]);
        let (s, e) = window(b"KEY", 0, 3, 0);
        assert_eq!((s, e), (0, 3));
    }

    #[test]
    fn locator_counts_lines_and_characters() {
        let data = "a\nbé c\nd".as_bytes();
        let mut l = Locator::new(data);
        assert_eq!(l.locate(0), (1, 1, 0));
        let c = data.iter().position(|&b| b == b'c').unwrap();
        assert_eq!(l.locate(c), (2, 4, 2));
        assert_eq!(l.locate(data.len()), (3, 2, data.len() - 1));
    }

    #[test]
    fn suppression_comments() {
        let data =
            b"x\nkey = 1 # rampart:allow\n# pragma: allowlist nextline secret\nkey = 2\nkey = 3";
        assert!(suppressed(data, 2));
        let l4 = data.windows(7).position(|w| w == b"key = 2").unwrap();
        assert!(suppressed(data, l4));
        let l5 = data.windows(7).position(|w| w == b"key = 3").unwrap();
        assert!(!suppressed(data, l5));
    }
}
