//! Sigma correlation rules (`correlation:` documents, Sigma correlation
//! specification 2.0) and the legacy aggregation conditions
//! (`sel | count() by f > N`) mapped onto them.
//!
//! Types: `event_count`, `value_count` (`condition.field`), `temporal` and
//! `temporal_ordered`, with `group-by`, `timespan` (`30s`, `5m`, `1h`, `2d`),
//! `condition` (`gt`, `gte`, `lt`, `lte`, `eq`, `neq`, several at once for a
//! range), `aliases` and `generate`. Events are grouped by the values of the
//! `group-by` fields (resolved as rule selections resolve them) and, always,
//! by account and region: a run is sharded by account and region, so a
//! correlation sees the same groups however the run is spread over threads.
//!
//! Windows slide on event time (`eventTime`). A condition with only lower
//! bounds (`gt`, `gte`) is decided as events arrive: per group the events
//! or values of the last two timespans before its newest event are kept
//! (so a late event still completes a window), or one event per rule, and
//! at most [`MAX_GROUPS`] groups are held; a match then
//! opens an episode that lasts while the group's events keep coming within
//! the timespan; its later events add to the same finding. A condition with
//! an upper bound (`lt`, `lte`, `eq`, `neq`, a range) can only be decided
//! once the window is over: such a window starts at a group's first event,
//! lasts the timespan, and is decided when an event of the group falls after
//! it, when the engine flushes after the newest event it saw has passed the
//! window's end, or at the end of the run. A group with no event at all is
//! never seen, so `lt: 5` means "one to four events".
//!
//! Correlations chain: a correlation may name another correlation among its
//! rules, and counts that correlation's new matches (at the match's last
//! event time, with its group-by values: the outer correlation may only
//! group by, or count, fields the inner one groups by). An inner
//! correlation raises no finding of its own unless the outer one says
//! `generate: true`. Anything Rampart does not run is reported at load time.

use super::{RuleMeta, Unsupported, level, meta_from, values, yaml_str};
use crate::cloudtrail::CtEvent;
use crate::finding::{EVIDENCE_CAP, Signal, SignalKind};
use serde::{Deserialize, Serialize};
use serde_norway::Value as Yaml;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// Largest count a condition may name: the state per group holds up to that
/// many events or values.
pub const MAX_THRESHOLD: u64 = 10_000;
/// Most rules a temporal correlation may refer to (a bit mask each).
const MAX_TEMPORAL_RULES: usize = 64;
/// A value longer than this is cut before it is remembered.
const VALUE_LEN_CAP: usize = 512;
/// Groups held per correlation before dead windows are swept out.
const SWEEP_AT: usize = 4096;
/// Most groups one correlation holds: group-by values are often attacker
/// controlled (`sourceIPAddress`, `userAgent`), and a flood of distinct ones
/// within a long timespan must not grow memory (and the `--follow`
/// checkpoint) without bound. A new group beyond it is not counted.
pub const MAX_GROUPS: usize = 100_000;
/// Longest timespan a correlation may have, in seconds (365 days): longer
/// ones are reported at load time.
pub const MAX_TIMESPAN: i64 = 365 * 86_400;
/// Most entries an online tally keeps, whatever its threshold (as
/// [`Group::merge`] keeps).
const TALLY_CAP: usize = 2 * MAX_THRESHOLD as usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorrelationType {
    EventCount,
    ValueCount,
    Temporal,
    TemporalOrdered,
}

impl CorrelationType {
    fn as_str(self) -> &'static str {
        match self {
            CorrelationType::EventCount => "event_count",
            CorrelationType::ValueCount => "value_count",
            CorrelationType::Temporal => "temporal",
            CorrelationType::TemporalOrdered => "temporal_ordered",
        }
    }
}

/// A correlation condition as bounds on the count: `gt: 4` is `min 5`,
/// `lte: 3` is `max 3`, `eq: 2` is both, `neq` excludes one count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CountCondition {
    pub min: Option<u64>,
    pub max: Option<u64>,
    pub ne: Option<u64>,
}

impl CountCondition {
    pub fn holds(&self, n: u64) -> bool {
        self.min.is_none_or(|m| n >= m)
            && self.max.is_none_or(|m| n <= m)
            && self.ne.is_none_or(|m| n != m)
    }
    /// Whether the condition needs the whole window ("fewer than").
    pub fn at_close(&self) -> bool {
        self.max.is_some() || self.ne.is_some()
    }
    /// The threshold an arriving count must reach (online conditions).
    fn need(&self) -> u64 {
        self.min.unwrap_or(1).max(1)
    }
    fn add(&mut self, op: &str, n: u64) -> Result<(), Unsupported> {
        let set = |slot: &mut Option<u64>, v: u64, pick: fn(u64, u64) -> u64| {
            *slot = Some(slot.map_or(v, |o| pick(o, v)));
        };
        match op {
            "gt" => set(&mut self.min, n.saturating_add(1), u64::max),
            "gte" => set(&mut self.min, n, u64::max),
            "lt" => {
                if n == 0 {
                    return Err(Unsupported(
                        "the condition `lt: 0`, which no count meets".into(),
                    ));
                }
                set(&mut self.max, n - 1, u64::min)
            }
            "lte" => set(&mut self.max, n, u64::min),
            "eq" => {
                set(&mut self.min, n, u64::max);
                set(&mut self.max, n, u64::min);
            }
            "neq" => self.ne = Some(n),
            other => {
                return Err(Unsupported(format!(
                    "the correlation condition operator {other:?} (gt, gte, lt, lte, eq and neq are supported)"
                )));
            }
        }
        if self
            .min
            .into_iter()
            .chain(self.max)
            .chain(self.ne)
            .any(|v| v > MAX_THRESHOLD)
        {
            return Err(Unsupported(format!(
                "a correlation condition above {MAX_THRESHOLD}"
            )));
        }
        Ok(())
    }
}

/// `30s`, `5m`, `1h`, `2d` in seconds.
pub fn parse_timespan(s: &str) -> Result<i64, Unsupported> {
    let s = s.trim();
    let bad = || {
        Unsupported(format!(
            "the timespan {s:?} (a number and s, m, h or d, such as 10m)"
        ))
    };
    let unit = s.chars().last().ok_or_else(bad)?;
    let n: i64 = s[..s.len() - unit.len_utf8()].parse().map_err(|_| bad())?;
    let mult = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return Err(bad()),
    };
    if n <= 0 {
        return Err(bad());
    }
    let seconds = n.checked_mul(mult).ok_or_else(bad)?;
    if seconds > MAX_TIMESPAN {
        return Err(Unsupported(format!(
            "the timespan {s:?}, longer than 365 days"
        )));
    }
    Ok(seconds)
}

/// Cuts `text` to at most `cap` bytes, on a character boundary.
fn cut_to(text: &mut String, cap: usize) {
    if text.len() > cap {
        let mut at = cap;
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        text.truncate(at);
    }
}

/// A correlation document as written, before its references are resolved.
#[derive(Debug, Clone)]
pub(super) struct Spec {
    pub meta: RuleMeta,
    pub name: Option<String>,
    pub kind: CorrelationType,
    pub rules: Vec<String>,
    pub group_by: Vec<String>,
    /// Alias name to (rule name, field) pairs.
    pub aliases: Vec<(String, Vec<(String, String)>)>,
    pub timespan: i64,
    pub timespan_text: String,
    pub cond: CountCondition,
    /// `value_count`'s field(s).
    pub fields: Vec<String>,
    pub generate: bool,
}

fn str_list(v: Option<&Yaml>, what: &str) -> Result<Vec<String>, Unsupported> {
    match v {
        None | Some(Yaml::Null) => Ok(Vec::new()),
        Some(Yaml::Sequence(items)) => items
            .iter()
            .map(|i| {
                yaml_str(i).ok_or_else(|| Unsupported(format!("a {what} that is not a string")))
            })
            .collect(),
        Some(other) => yaml_str(other)
            .map(|s| vec![s])
            .ok_or_else(|| Unsupported(format!("a {what} that is neither a string nor a list"))),
    }
}

const KNOWN_KEYS: &[&str] = &[
    "type",
    "rules",
    "group-by",
    "timespan",
    "timeframe",
    "condition",
    "aliases",
    "generate",
];

/// Parses a `correlation:` document.
pub(super) fn parse_spec(file: &str, y: &Yaml) -> Result<Spec, Unsupported> {
    let c = y
        .get("correlation")
        .and_then(Yaml::as_mapping)
        .ok_or_else(|| Unsupported("a `correlation` that is not a map".into()))?;
    for k in c.keys() {
        let k = yaml_str(k).unwrap_or_default();
        if !KNOWN_KEYS.contains(&k.as_str()) {
            return Err(Unsupported(format!("the correlation field {k:?}")));
        }
    }
    let get = |k: &str| y.get("correlation").and_then(|c| c.get(k));
    let kind = match get("type").and_then(yaml_str).as_deref() {
        Some("event_count") => CorrelationType::EventCount,
        Some("value_count") => CorrelationType::ValueCount,
        Some("temporal") => CorrelationType::Temporal,
        Some("temporal_ordered") => CorrelationType::TemporalOrdered,
        Some(other) => {
            return Err(Unsupported(format!(
                "the correlation type {other:?} (event_count, value_count, temporal and temporal_ordered are supported)"
            )));
        }
        None => return Err(Unsupported("a correlation without a `type`".into())),
    };
    let rules = str_list(get("rules"), "rule reference")?;
    if rules.is_empty() {
        return Err(Unsupported("a correlation without `rules`".into()));
    }
    let group_by = str_list(get("group-by"), "group-by field")?;
    // `timeframe` is the older spelling some converters still accept.
    let timespan_text = get("timespan")
        .or_else(|| get("timeframe"))
        .and_then(yaml_str)
        .ok_or_else(|| Unsupported("a correlation without a `timespan`".into()))?;
    let timespan = parse_timespan(&timespan_text)?;
    let mut cond = CountCondition::default();
    let mut fields = Vec::new();
    match get("condition") {
        None | Some(Yaml::Null) => {}
        Some(Yaml::Mapping(m)) => {
            for (k, v) in m {
                let k = yaml_str(k).unwrap_or_default();
                if k == "field" {
                    fields = str_list(Some(v), "condition field")?;
                    continue;
                }
                let n: u64 = yaml_str(v).and_then(|s| s.parse().ok()).ok_or_else(|| {
                    Unsupported(format!("the condition `{k}` without a whole number"))
                })?;
                cond.add(&k, n)?;
            }
        }
        Some(_) => {
            return Err(Unsupported(
                "a correlation condition that is not a map".into(),
            ));
        }
    }
    let bounded = cond.min.is_some() || cond.at_close();
    match kind {
        CorrelationType::EventCount | CorrelationType::ValueCount if !bounded => {
            return Err(Unsupported(format!(
                "a {} correlation without a condition",
                kind.as_str()
            )));
        }
        CorrelationType::ValueCount if fields.is_empty() => {
            return Err(Unsupported(
                "a value_count correlation without `condition.field`".into(),
            ));
        }
        CorrelationType::EventCount
        | CorrelationType::Temporal
        | CorrelationType::TemporalOrdered
            if !fields.is_empty() =>
        {
            return Err(Unsupported(format!(
                "`condition.field` in a {} correlation",
                kind.as_str()
            )));
        }
        CorrelationType::Temporal | CorrelationType::TemporalOrdered
            if rules.len() > MAX_TEMPORAL_RULES =>
        {
            return Err(Unsupported(format!(
                "a temporal correlation over more than {MAX_TEMPORAL_RULES} rules"
            )));
        }
        CorrelationType::TemporalOrdered if bounded && cond != all_rules(rules.len()) => {
            return Err(Unsupported(
                "a temporal_ordered correlation with a condition other than all its rules".into(),
            ));
        }
        _ => {}
    }
    if matches!(
        kind,
        CorrelationType::Temporal | CorrelationType::TemporalOrdered
    ) && !bounded
    {
        // The spec's default: every referred rule within the timespan.
        cond = all_rules(rules.len());
    }
    let mut aliases = Vec::new();
    match get("aliases") {
        None | Some(Yaml::Null) => {}
        Some(Yaml::Mapping(m)) => {
            for (alias, per_rule) in m {
                let alias = yaml_str(alias).unwrap_or_default();
                let Some(per_rule) = per_rule.as_mapping() else {
                    return Err(Unsupported(format!(
                        "the alias {alias:?}, which is not a map of rule names to fields"
                    )));
                };
                let mut pairs = Vec::new();
                for (r, f) in per_rule {
                    match (yaml_str(r), yaml_str(f)) {
                        (Some(r), Some(f)) => pairs.push((r, f)),
                        _ => {
                            return Err(Unsupported(format!(
                                "the alias {alias:?}, which is not a map of rule names to fields"
                            )));
                        }
                    }
                }
                aliases.push((alias, pairs));
            }
        }
        Some(_) => return Err(Unsupported("`aliases` that are not a map".into())),
    }
    // The spec puts `generate` beside `correlation`; pySigma reads it inside.
    let generate = [y.get("generate"), get("generate")]
        .into_iter()
        .flatten()
        .any(|g| matches!(g, Yaml::Bool(true)));
    let mut meta = meta_from(file, y);
    meta.severity = level(y.get("level").and_then(yaml_str).as_deref());
    Ok(Spec {
        meta,
        name: y.get("name").and_then(yaml_str),
        kind,
        rules,
        group_by,
        aliases,
        timespan,
        timespan_text,
        cond,
        fields,
        generate,
    })
}

fn all_rules(n: usize) -> CountCondition {
    CountCondition {
        min: Some(n as u64),
        ..CountCondition::default()
    }
}

/// A legacy aggregation (`| count(field) by group > N`) with the rule's
/// `timeframe`, as a correlation over the rule itself.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Legacy {
    pub text: String,
    pub field: Option<String>,
    pub group_by: Vec<String>,
    pub cond: CountCondition,
    pub timespan: i64,
    pub timespan_text: String,
}

/// Parses what follows the `|` of a legacy condition.
pub(super) fn parse_legacy(agg: &str, timeframe: Option<&str>) -> Result<Legacy, Unsupported> {
    let agg = agg.trim();
    // `function(field) [by a, b] op N`, compiled once per process.
    static PATTERN: std::sync::LazyLock<Result<regex::Regex, regex::Error>> =
        std::sync::LazyLock::new(|| {
            regex::Regex::new(
                r"^(\w+)\s*\(\s*([\w.]*)\s*\)\s*(?:by\s+([\w.]+(?:\s*,\s*[\w.]+)*)\s*)?(<=|>=|==|!=|<|>|=)\s*(\d+)$",
            )
        });
    let re = PATTERN
        .as_ref()
        .map_err(|e| Unsupported(format!("an aggregation pattern that does not compile: {e}")))?;
    let Some(caps) = re.captures(agg) else {
        return Err(Unsupported(format!(
            "the aggregation `| {agg}` (only `count([field]) [by field] <op> N` is supported)"
        )));
    };
    let func = caps.get(1).map_or("", |m| m.as_str());
    if func != "count" {
        return Err(Unsupported(format!(
            "the aggregation `| {agg}` (only count() is supported)"
        )));
    }
    let field = caps
        .get(2)
        .map(|m| m.as_str().to_owned())
        .filter(|f| !f.is_empty());
    let group_by = caps
        .get(3)
        .map(|m| m.as_str().split(',').map(|s| s.trim().to_owned()).collect())
        .unwrap_or_default();
    let n: u64 = caps
        .get(5)
        .and_then(|m| m.as_str().parse().ok())
        .ok_or_else(|| Unsupported(format!("the aggregation `| {agg}` without a count")))?;
    let op = match caps.get(4).map_or("", |m| m.as_str()) {
        ">" => "gt",
        ">=" => "gte",
        "<" => "lt",
        "<=" => "lte",
        "!=" => "neq",
        _ => "eq",
    };
    let mut cond = CountCondition::default();
    cond.add(op, n)?;
    let Some(timeframe) = timeframe else {
        return Err(Unsupported(format!(
            "the aggregation `| {agg}` without a `timeframe`"
        )));
    };
    Ok(Legacy {
        text: agg.to_owned(),
        field,
        group_by,
        cond,
        timespan: parse_timespan(timeframe)?,
        timespan_text: timeframe.trim().to_owned(),
    })
}

/// A correlation ready to run.
#[derive(Debug, Clone)]
pub struct Correlation {
    pub meta: Arc<RuleMeta>,
    pub kind: CorrelationType,
    /// The group-by names as written (aliases, for temporal rules).
    group_by: Vec<String>,
    /// Per slot (referred rule, in order): the field paths of the group-by
    /// entries, aliases applied.
    group_paths: Vec<Vec<Vec<String>>>,
    /// `value_count`'s field paths.
    value_paths: Vec<Vec<String>>,
    timespan: i64,
    timespan_text: String,
    cond: CountCondition,
    slots: usize,
    /// Per slot: what the slot counts (a rule's events, or a chained
    /// correlation's matches).
    inputs: Vec<SlotInput>,
    /// The correlations this one's matches count towards, with their slots.
    pub(super) feeds: Vec<(usize, usize)>,
    /// Whether its matches are findings (not when it only feeds another
    /// correlation that does not say `generate: true`).
    pub(super) reported: bool,
}

/// What a correlation's slot counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SlotInput {
    /// Events a rule matched: fields are read from the event.
    Rule,
    /// Matches of an inner correlation: the group-by values (and the
    /// counted fields) are positions in its group-by values.
    Match {
        group: Vec<usize>,
        value: Vec<usize>,
    },
}

/// A correlation match as it leaves [`Correlation::observe`]: the signal,
/// and what a chained correlation needs to count it.
#[derive(Debug, Clone)]
pub(super) struct Emitted {
    pub signal: Signal,
    /// The correlation that matched (its index).
    pub from: usize,
    /// Its group-by values, in its group-by order.
    pub group: Vec<String>,
    /// A new match (not a later event added to one).
    pub crossing: bool,
}

/// One thing to count, from an event or from an inner match.
struct Obs<'a> {
    time: i64,
    account: &'a str,
    region: &'a str,
    key: String,
    shown: String,
    values: Vec<String>,
    value: Option<String>,
    actor: Option<&'a str>,
    address: Option<&'a str>,
    id: &'a str,
    /// An inner match's event ids.
    extra: &'a [String],
}

fn path(field: &str) -> Vec<String> {
    field.split('.').map(str::to_owned).collect()
}

impl Correlation {
    /// From a spec whose `rules` resolved; `slot_names` are the referred
    /// rules' `name`s (for aliases).
    pub(super) fn from_spec(spec: &Spec, slot_names: &[Option<String>]) -> Self {
        let group_paths = slot_names
            .iter()
            .map(|name| {
                spec.group_by
                    .iter()
                    .map(|g| path(Self::slot_field(spec, g, name.as_deref())))
                    .collect()
            })
            .collect();
        Correlation {
            meta: Arc::new(spec.meta.clone()),
            kind: spec.kind,
            group_by: spec.group_by.clone(),
            group_paths,
            value_paths: spec.fields.iter().map(|f| path(f)).collect(),
            timespan: spec.timespan,
            timespan_text: spec.timespan_text.clone(),
            cond: spec.cond,
            slots: slot_names.len(),
            inputs: vec![SlotInput::Rule; slot_names.len()],
            feeds: Vec::new(),
            reported: true,
        }
    }

    /// The aliased field name the group-by entry `g` has in slot `slot`.
    pub(super) fn slot_field<'s>(spec: &'s Spec, g: &'s str, slot_name: Option<&str>) -> &'s str {
        spec.aliases
            .iter()
            .find(|(a, _)| a == g)
            .and_then(|(_, pairs)| {
                pairs
                    .iter()
                    .find(|(r, _)| Some(r.as_str()) == slot_name)
                    .map(|(_, f)| f.as_str())
            })
            .unwrap_or(g)
    }

    /// Makes `slot` count the matches of `inner`: every group-by entry
    /// (and counted field) must be one `inner` groups by.
    pub(super) fn chain(
        &mut self,
        spec: &Spec,
        slot: usize,
        inner: &Correlation,
        inner_name: Option<&str>,
    ) -> Result<(), String> {
        let position = |field: &str| {
            inner
                .group_by
                .iter()
                .position(|g| g == field)
                .ok_or_else(|| {
                    format!(
                        "the field {field:?} of the correlation {:?}, which does not group by it",
                        inner.meta.title
                    )
                })
        };
        let group = spec
            .group_by
            .iter()
            .map(|g| position(Self::slot_field(spec, g, inner_name)))
            .collect::<Result<Vec<_>, _>>()?;
        let value = spec
            .fields
            .iter()
            .map(|f| position(f))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(i) = self.inputs.get_mut(slot) {
            *i = SlotInput::Match { group, value };
        }
        Ok(())
    }

    /// The correlation a legacy aggregation stands for, over its own rule.
    pub(super) fn from_legacy(meta: &RuleMeta, l: &Legacy) -> Self {
        let kind = if l.field.is_some() {
            CorrelationType::ValueCount
        } else {
            CorrelationType::EventCount
        };
        Correlation {
            meta: Arc::new(meta.clone()),
            kind,
            group_by: l.group_by.clone(),
            group_paths: vec![l.group_by.iter().map(|g| path(g)).collect()],
            value_paths: l.field.iter().map(|f| path(f)).collect(),
            timespan: l.timespan,
            timespan_text: l.timespan_text.clone(),
            cond: l.cond,
            slots: 1,
            inputs: vec![SlotInput::Rule],
            feeds: Vec::new(),
            reported: true,
        }
    }

    fn identity(&self) -> String {
        if self.meta.id.is_empty() {
            self.meta.title.clone()
        } else {
            self.meta.id.clone()
        }
    }

    /// Counts one event that the rule in `slot` matched; a match of the
    /// correlation goes to `out`.
    pub(super) fn observe(
        &self,
        index: usize,
        slot: usize,
        ev: &CtEvent,
        time: i64,
        state: &mut CorrelationState,
        out: &mut Vec<Emitted>,
    ) {
        let value = if self.kind == CorrelationType::ValueCount {
            match self.value_of(ev) {
                Some(v) => Some(v),
                // Like COUNT(DISTINCT f): an event without the field adds no value.
                None => return,
            }
        } else {
            None
        };
        let (key, shown, values) = self.group_key(slot, ev);
        let obs = Obs {
            time,
            account: ev.account_id(),
            region: ev.region(),
            key,
            shown,
            values,
            value,
            actor: Some(ev.actor()),
            address: Some(ev.source_ip()),
            id: ev.event_id(),
            extra: &[],
        };
        self.count(index, slot, obs, state, out);
    }

    /// Counts a match of the inner correlation that `slot` chains to.
    pub(super) fn observe_match(
        &self,
        index: usize,
        slot: usize,
        m: &Emitted,
        state: &mut CorrelationState,
        out: &mut Vec<Emitted>,
    ) {
        let Some(SlotInput::Match { group, value }) = self.inputs.get(slot) else {
            return;
        };
        let at = |i: &usize| m.group.get(*i).map_or("", String::as_str);
        let mut key = format!("{}\u{1f}{}", m.signal.account_id, m.signal.region);
        let mut shown = String::new();
        let mut values = Vec::with_capacity(group.len());
        for (name, i) in self.group_by.iter().zip(group) {
            // The inner correlation cut its values already; cut again in
            // case a saved state holds longer ones.
            let mut end = at(i).len().min(VALUE_LEN_CAP);
            while !at(i).is_char_boundary(end) {
                end -= 1;
            }
            let v = at(i).get(..end).unwrap_or_default();
            key.push('\u{1f}');
            key.push_str(v);
            if !shown.is_empty() {
                shown.push_str(", ");
            }
            shown.push_str(name);
            shown.push('=');
            shown.push_str(v);
            values.push(v.to_owned());
        }
        let value = (self.kind == CorrelationType::ValueCount)
            .then(|| value.iter().map(at).collect::<Vec<_>>().join("\u{1f}"));
        let obs = Obs {
            time: m.signal.time,
            account: &m.signal.account_id,
            region: &m.signal.region,
            key,
            shown,
            values,
            value,
            actor: m.signal.principal.as_deref(),
            address: m.signal.address.as_deref(),
            id: "",
            extra: &m.signal.events,
        };
        self.count(index, slot, obs, state, out);
    }

    fn count(
        &self,
        index: usize,
        slot: usize,
        obs: Obs,
        state: &mut CorrelationState,
        out: &mut Vec<Emitted>,
    ) {
        let time = obs.time;
        state.watermark = state.watermark.max(time);
        if state.windows.len() <= index {
            state
                .windows
                .resize_with(index + 1, CorrelationWindows::default);
        }
        let watermark = state.watermark;
        let windows = &mut state.windows[index];
        if windows.rule.is_empty() {
            windows.rule = self.identity();
        }
        let value = obs.value;
        if windows.groups.len() >= windows.next_sweep.max(SWEEP_AT) {
            self.sweep(index, windows, watermark, false, out);
            windows.next_sweep = (windows.groups.len() * 2).max(SWEEP_AT);
        }
        if windows.groups.len() >= MAX_GROUPS && !windows.groups.contains_key(&obs.key) {
            // Full: sweep out ended windows, at most once per second of
            // event time, so that a flood of new groups against a table of
            // live ones does not sweep on every event.
            if watermark > windows.full_sweep_at {
                windows.full_sweep_at = watermark;
                self.sweep(index, windows, watermark, false, out);
            }
            if windows.groups.len() >= MAX_GROUPS {
                windows.dropped_groups = windows.dropped_groups.saturating_add(1);
                return;
            }
        }
        let group = windows.groups.entry(obs.key).or_insert_with(|| Group {
            account: obs.account.to_owned(),
            region: obs.region.to_owned(),
            shown: obs.shown,
            values: obs.values,
            actor: Who::None,
            address: Who::None,
            first: time,
            last: time,
            fired: false,
            tally: self.fresh_tally(),
            chained: Vec::new(),
        });
        let id = obs.id;
        let note = |g: &mut Group| {
            if let Some(a) = obs.actor {
                g.actor.note(a);
            }
            if let Some(a) = obs.address {
                g.address.note(a);
            }
            for e in obs.extra {
                if g.chained.len() < EVIDENCE_CAP && !g.chained.contains(e) {
                    g.chained.push(e.clone());
                }
            }
        };
        if self.cond.at_close() {
            if time > group.first.saturating_add(self.timespan) {
                self.close(index, group, out);
                group.restart(time, self.fresh_tally());
            }
            note(group);
            group.first = group.first.min(time);
            group.last = group.last.max(time);
            if let Tally::Closing {
                count,
                values,
                mask,
                events,
            } = &mut group.tally
            {
                *count += 1;
                if events.len() < EVIDENCE_CAP && !id.is_empty() {
                    events.push(id.to_owned());
                }
                // One more than the largest bound decides the condition:
                // beyond it, more values change nothing.
                let bound = [self.cond.min, self.cond.max, self.cond.ne]
                    .into_iter()
                    .flatten()
                    .max()
                    .unwrap_or(0) as usize
                    + 1;
                if let Some(v) = value
                    && values.len() < bound
                {
                    values.insert(v);
                }
                if slot < MAX_TEMPORAL_RULES {
                    *mask |= 1 << slot;
                }
            }
            return;
        }
        if group.fired {
            if time < group.first.saturating_sub(self.timespan) {
                // Long before the match: its window is gone, and starting
                // one would end the episode that is going on.
                return;
            }
            if time <= group.last.saturating_add(self.timespan) {
                // The episode goes on: the event adds to the match's
                // finding (with the principal and address it was raised
                // with, so that it aggregates there).
                group.last = group.last.max(time);
                let mut events = event_list(id);
                events.extend(obs.extra.iter().cloned());
                let signal = self.signal(group, time, None, 1, events, None);
                out.push(self.emitted(index, group, signal, false));
                return;
            }
            group.restart(time, self.fresh_tally());
        }
        note(group);
        let need = self.cond.need() as usize;
        let span = self.timespan;
        let hit: Option<(i64, u64, Vec<String>, u64)> = match &mut group.tally {
            Tally::Events(list) => {
                let p = list.partition_point(|(t, _)| *t <= time);
                list.insert(p, (time, id.to_owned()));
                // Pruned by time, not position: an event may arrive late
                // (up to a timespan behind the group's newest) and still
                // complete a window with the events around it.
                let newest = list.last().map_or(time, |(t, _)| *t);
                let horizon = newest.saturating_sub(span.saturating_mul(2));
                let old = list.partition_point(|(t, _)| *t < horizon);
                let extra = list.len().saturating_sub(TALLY_CAP).max(old);
                list.drain(..extra);
                // Only windows holding the new event can newly match (any
                // other would have matched when its last event came), and
                // they hold at most need - 1 events on either side of it.
                if p < extra {
                    None
                } else {
                    let p = p - extra;
                    let lo = p.saturating_sub(need - 1);
                    let hi = (p + need).min(list.len());
                    let near = list.get(lo..hi).unwrap_or_default();
                    window_of(near.iter().map(|(t, _)| *t), need, span).map(|(a, b)| {
                        let events: Vec<String> =
                            near[a..=b].iter().map(|(_, e)| e.clone()).collect();
                        (near[a].0, (b - a + 1) as u64, events, (b - a + 1) as u64)
                    })
                }
            }
            Tally::Values(map) => {
                if let Some(v) = value {
                    let entry = map.entry(v).or_insert((time, String::new()));
                    if time >= entry.0 || entry.1.is_empty() {
                        *entry = (time, id.to_owned());
                    }
                }
                // As for events: values last seen more than a timespan
                // before the window the newest could be in go, and at most
                // TALLY_CAP stay (the oldest go first).
                let newest = map.values().map(|(t, _)| *t).max().unwrap_or(time);
                let horizon = newest.saturating_sub(span.saturating_mul(2));
                map.retain(|_, (t, _)| *t >= horizon);
                if map.len() > TALLY_CAP {
                    let mut by_age: Vec<(i64, String)> =
                        map.iter().map(|(k, (t, _))| (*t, k.clone())).collect();
                    by_age.sort();
                    let extra = map.len() - TALLY_CAP;
                    for (_, k) in by_age.into_iter().take(extra) {
                        map.remove(&k);
                    }
                }
                let mut times: Vec<(i64, &String)> = map.values().map(|(t, e)| (*t, e)).collect();
                times.sort();
                matched_window(&times, need, span)
            }
            Tally::Rules(slots) => {
                if let Some(s) = slots.get_mut(slot)
                    && s.as_ref().is_none_or(|(t, _)| time >= *t)
                {
                    *s = Some((time, id.to_owned()));
                }
                let mut times: Vec<(i64, &String)> = slots
                    .iter()
                    .flatten()
                    .filter(|(t, _)| t.abs_diff(time) <= span.unsigned_abs())
                    .map(|(t, e)| (*t, e))
                    .collect();
                times.sort();
                matched_window(&times, need, span)
            }
            Tally::Chain(links) => {
                for l in links.iter_mut() {
                    if l.as_ref()
                        .is_some_and(|l| l.start < time.saturating_sub(span))
                    {
                        *l = None;
                    }
                }
                let candidate = if slot == 0 {
                    Some(Link {
                        start: time,
                        end: time,
                        events: event_list(id),
                    })
                } else {
                    links
                        .get(slot - 1)
                        .and_then(Option::as_ref)
                        .and_then(|prev| {
                            (prev.end <= time && time.saturating_sub(prev.start) <= span).then(
                                || {
                                    let mut events = prev.events.clone();
                                    if !id.is_empty() && events.len() < EVIDENCE_CAP {
                                        events.push(id.to_owned());
                                    }
                                    Link {
                                        start: prev.start,
                                        end: time,
                                        events,
                                    }
                                },
                            )
                        })
                };
                if let Some(c) = candidate
                    && let Some(l) = links.get_mut(slot)
                    && l.as_ref().is_none_or(|old| c.start >= old.start)
                {
                    *l = Some(c);
                }
                links.last().and_then(Option::as_ref).map(|l| {
                    (
                        l.start,
                        l.events.len() as u64,
                        l.events.clone(),
                        self.slots as u64,
                    )
                })
            }
            Tally::Closing { .. } | Tally::Fired => None,
        };
        if let Some((since, count, events, measured)) = hit {
            group.fired = true;
            group.first = since;
            group.last = time;
            group.tally = Tally::Fired;
            let signal = self.signal(group, time, Some(since), count, events, Some(measured));
            out.push(self.emitted(index, group, signal, true));
        } else {
            group.first = group.first.min(time);
            group.last = group.last.max(time);
        }
    }

    /// Whether a (saved) tally has the shape this correlation counts in.
    fn fits(&self, t: &Tally) -> bool {
        match t {
            Tally::Fired => !self.cond.at_close(),
            Tally::Closing { .. } => self.cond.at_close(),
            Tally::Events(_) => !self.cond.at_close() && self.kind == CorrelationType::EventCount,
            Tally::Values(_) => !self.cond.at_close() && self.kind == CorrelationType::ValueCount,
            Tally::Rules(r) => {
                !self.cond.at_close()
                    && self.kind == CorrelationType::Temporal
                    && r.len() == self.slots
            }
            Tally::Chain(c) => {
                self.kind == CorrelationType::TemporalOrdered && c.len() == self.slots
            }
        }
    }

    fn fresh_tally(&self) -> Tally {
        if self.cond.at_close() {
            return Tally::Closing {
                count: 0,
                values: BTreeSet::new(),
                mask: 0,
                events: Vec::new(),
            };
        }
        match self.kind {
            CorrelationType::EventCount => Tally::Events(Vec::new()),
            CorrelationType::ValueCount => Tally::Values(BTreeMap::new()),
            CorrelationType::Temporal => Tally::Rules(vec![None; self.slots]),
            CorrelationType::TemporalOrdered => Tally::Chain(vec![None; self.slots]),
        }
    }

    fn value_of(&self, ev: &CtEvent) -> Option<String> {
        let mut out = String::new();
        for (i, p) in self.value_paths.iter().enumerate() {
            let vals = values(ev, p);
            let text = vals.iter().find_map(|v| v.text())?;
            if i > 0 {
                out.push('\u{1f}');
            }
            out.push_str(&text);
        }
        cut_to(&mut out, VALUE_LEN_CAP);
        Some(out)
    }

    /// The group's key (account, region and the group-by values), how the
    /// group reads in a finding, and the group-by values.
    fn group_key(&self, slot: usize, ev: &CtEvent) -> (String, String, Vec<String>) {
        let mut key = String::new();
        key.push_str(ev.account_id());
        key.push('\u{1f}');
        key.push_str(ev.region());
        let mut shown = String::new();
        let mut group = Vec::with_capacity(self.group_by.len());
        let paths = self.group_paths.get(slot).map_or(&[][..], Vec::as_slice);
        for (name, p) in self.group_by.iter().zip(paths) {
            let vals = values(ev, p);
            let mut text = vals
                .iter()
                .find_map(|v| v.text())
                .unwrap_or_default()
                .into_owned();
            // Long values (attacker-chosen user agents, parameters) are cut
            // so that a group costs a bounded amount.
            cut_to(&mut text, VALUE_LEN_CAP);
            key.push('\u{1f}');
            key.push_str(&text);
            if !shown.is_empty() {
                shown.push_str(", ");
            }
            shown.push_str(name);
            shown.push('=');
            shown.push_str(&text);
            group.push(text);
        }
        (key, shown, group)
    }

    fn emitted(&self, index: usize, g: &Group, signal: Signal, crossing: bool) -> Emitted {
        Emitted {
            signal,
            from: index,
            group: if crossing && !self.feeds.is_empty() {
                g.values.clone()
            } else {
                Vec::new()
            },
            crossing,
        }
    }

    /// Decides a closed ("fewer than") window.
    fn close(&self, index: usize, g: &Group, out: &mut Vec<Emitted>) {
        let Tally::Closing {
            count,
            values,
            mask,
            events,
        } = &g.tally
        else {
            return;
        };
        if *count == 0 {
            return;
        }
        let measured = match self.kind {
            CorrelationType::EventCount => *count,
            CorrelationType::ValueCount => values.len() as u64,
            CorrelationType::Temporal | CorrelationType::TemporalOrdered => {
                u64::from(mask.count_ones())
            }
        };
        if self.cond.holds(measured) {
            let signal = self.signal(
                g,
                g.last,
                Some(g.first),
                *count,
                events.clone(),
                Some(measured),
            );
            out.push(self.emitted(index, g, signal, true));
        }
    }

    /// Drops windows that can no longer match; `all` (the end of the run)
    /// also decides every open "fewer than" window.
    fn sweep(
        &self,
        index: usize,
        w: &mut CorrelationWindows,
        watermark: i64,
        all: bool,
        out: &mut Vec<Emitted>,
    ) {
        let span = self.timespan;
        w.groups.retain(|_, g| {
            if self.cond.at_close() {
                if all || g.first.saturating_add(span) < watermark {
                    self.close(index, g, out);
                    return false;
                }
                true
            } else {
                // Online matches were raised as events came: nothing to decide.
                !all && g.last.saturating_add(span) >= watermark
            }
        });
    }

    fn signal(
        &self,
        g: &Group,
        time: i64,
        since: Option<i64>,
        count: u64,
        events: Vec<String>,
        measured: Option<u64>,
    ) -> Signal {
        let resource = if g.shown.is_empty() {
            g.account.clone()
        } else {
            g.shown.clone()
        };
        let mut details = Vec::new();
        if let Some(m) = measured {
            let label = match self.kind {
                CorrelationType::EventCount => "events_in_timespan",
                CorrelationType::ValueCount => "distinct_values_in_timespan",
                CorrelationType::Temporal | CorrelationType::TemporalOrdered => {
                    "rules_matched_in_timespan"
                }
            };
            details.push(("correlation".to_owned(), self.kind.as_str().to_owned()));
            details.push(("timespan".to_owned(), self.timespan_text.clone()));
            details.push((label.to_owned(), m.to_string()));
            if !g.shown.is_empty() {
                details.push(("group_by".to_owned(), g.shown.clone()));
            }
            if !self.value_paths.is_empty() {
                let f: Vec<String> = self.value_paths.iter().map(|p| p.join(".")).collect();
                details.push(("counted_field".to_owned(), f.join(", ")));
            }
        }
        Signal {
            kind: SignalKind::Sigma(self.meta.clone()),
            severity: None,
            account_id: g.account.clone(),
            region: g.region.clone(),
            time,
            resource_id: resource,
            principal: g.actor.one(),
            address: g.address.one(),
            events: events
                .into_iter()
                .chain(g.chained.iter().cloned())
                .filter(|e| !e.is_empty())
                .take(EVIDENCE_CAP)
                .collect(),
            targets: Vec::new(),
            count: count.max(1),
            since,
            details,
        }
    }
}

fn event_list(id: &str) -> Vec<String> {
    if id.is_empty() {
        Vec::new()
    } else {
        vec![id.to_owned()]
    }
}

/// In sorted `times`, the first `need` consecutive entries spanning at most
/// `span` seconds: their first and last positions.
/// The earliest window of `need` of the sorted `times` within `span`, as a
/// hit: its start, the events it counts, their ids, and the measured value
/// (the same count: one time per value or rule slot).
fn matched_window(
    times: &[(i64, &String)],
    need: usize,
    span: i64,
) -> Option<(i64, u64, Vec<String>, u64)> {
    window_of(times.iter().map(|(t, _)| *t), need, span).map(|(a, b)| {
        let events = times[a..=b]
            .iter()
            .filter(|(_, e)| !e.is_empty())
            .map(|(_, e)| (*e).clone())
            .collect();
        (times[a].0, (b - a + 1) as u64, events, (b - a + 1) as u64)
    })
}

fn window_of(times: impl Iterator<Item = i64>, need: usize, span: i64) -> Option<(usize, usize)> {
    let times: Vec<i64> = times.collect();
    if need == 0 || times.len() < need {
        return None;
    }
    (0..=times.len() - need)
        .find(|&i| times[i + need - 1].saturating_sub(times[i]) <= span)
        .map(|i| (i, i + need - 1))
}

/// The window state of every correlation, owned by the engine. Serializable
/// so that a long-running engine can checkpoint it; shards of one run merge
/// with [`CorrelationState::absorb`].
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorrelationState {
    /// Per loaded correlation, in load order.
    windows: Vec<CorrelationWindows>,
    /// The newest event time seen.
    watermark: i64,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
struct CorrelationWindows {
    /// The correlation's id (or title), to match a saved state to its rule.
    rule: String,
    groups: HashMap<String, Group>,
    #[serde(default)]
    next_sweep: usize,
    /// The watermark at the last sweep made because the table was full.
    #[serde(default)]
    full_sweep_at: i64,
    /// Events not counted because they would have started a group beyond
    /// [`MAX_GROUPS`].
    #[serde(default)]
    dropped_groups: u64,
    /// Whether the drops were reported (they are, once per correlation).
    #[serde(default)]
    drops_reported: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Group {
    account: String,
    region: String,
    /// `field=value, …` of the group-by fields.
    shown: String,
    /// The group-by values, for correlations chained to this one.
    #[serde(default)]
    values: Vec<String>,
    actor: Who,
    address: Who,
    /// The window's (or the match episode's) first and last event time.
    first: i64,
    last: i64,
    /// A match was raised and its episode goes on.
    fired: bool,
    tally: Tally,
    /// Event ids of the inner matches counted (chained correlations).
    #[serde(default)]
    chained: Vec<String>,
}

/// Whether every event of a group came from one principal (or address).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Who {
    None,
    One(String),
    Many,
}

impl Who {
    fn note(&mut self, v: &str) {
        if v.is_empty() {
            return;
        }
        match self {
            Who::None => *self = Who::One(v.to_owned()),
            Who::One(o) if o != v => *self = Who::Many,
            _ => {}
        }
    }
    fn one(&self) -> Option<String> {
        match self {
            Who::One(v) => Some(v.clone()),
            _ => None,
        }
    }
    fn merge(&mut self, o: Who) {
        match o {
            Who::None => {}
            Who::One(v) => self.note(&v),
            Who::Many => *self = Who::Many,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Tally {
    /// event_count: (time, event id), sorted by time.
    Events(Vec<(i64, String)>),
    /// value_count: value to the (time, event id) it was last seen at.
    Values(BTreeMap<String, (i64, String)>),
    /// temporal: per referred rule, its latest (time, event id).
    Rules(Vec<Option<(i64, String)>>),
    /// temporal_ordered: per referred rule, the latest-starting chain of
    /// the rules before it ending with it.
    Chain(Vec<Option<Link>>),
    /// A "fewer than" window: what it counted so far.
    Closing {
        count: u64,
        values: BTreeSet<String>,
        mask: u64,
        events: Vec<String>,
    },
    /// A match episode: nothing more to count.
    Fired,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Link {
    start: i64,
    end: i64,
    events: Vec<String>,
}

impl CorrelationState {
    /// The newest event time the correlations saw.
    pub fn watermark(&self) -> i64 {
        self.watermark
    }

    /// How many groups are held, over all correlations.
    pub fn groups(&self) -> usize {
        self.windows.iter().map(|w| w.groups.len()).sum()
    }

    /// Per correlation that dropped any: its id (or title) and how many
    /// events it did not count because they would have started a group
    /// beyond [`MAX_GROUPS`].
    pub fn dropped_groups(&self) -> Vec<(&str, u64)> {
        self.windows
            .iter()
            .filter(|w| w.dropped_groups > 0)
            .map(|w| (w.rule.as_str(), w.dropped_groups))
            .collect()
    }

    /// The correlations that dropped groups and were not reported yet: the
    /// id (or title) and what to report; each is returned once.
    pub fn take_unreported_drops(&mut self) -> Vec<(String, String)> {
        self.windows
            .iter_mut()
            .filter(|w| w.dropped_groups > 0 && !w.drops_reported)
            .map(|w| {
                w.drops_reported = true;
                let message = format!(
                    "the Sigma correlation held its most groups ({MAX_GROUPS}): {} events that would have started a new group were not counted",
                    w.dropped_groups
                );
                (w.rule.clone(), message)
            })
            .collect()
    }

    /// Merges another shard's state. Shards split by account and region
    /// hold different groups; a group both hold keeps the union of what they
    /// counted.
    pub fn absorb(&mut self, other: CorrelationState) {
        self.watermark = self.watermark.max(other.watermark);
        if self.windows.len() < other.windows.len() {
            self.windows
                .resize_with(other.windows.len(), CorrelationWindows::default);
        }
        for (mine, theirs) in self.windows.iter_mut().zip(other.windows) {
            if mine.rule.is_empty() {
                mine.rule = theirs.rule;
            }
            mine.dropped_groups = mine.dropped_groups.saturating_add(theirs.dropped_groups);
            mine.drops_reported |= theirs.drops_reported;
            for (k, g) in theirs.groups {
                match mine.groups.get_mut(&k) {
                    None => {
                        mine.groups.insert(k, g);
                    }
                    Some(m) => m.merge(g),
                }
            }
        }
    }
}

impl Group {
    /// Starts a new window (or ends an episode) at `time`.
    fn restart(&mut self, time: i64, tally: Tally) {
        self.first = time;
        self.last = time;
        self.fired = false;
        self.actor = Who::None;
        self.address = Who::None;
        self.tally = tally;
        self.chained.clear();
    }

    fn merge(&mut self, o: Group) {
        self.first = self.first.min(o.first);
        self.last = self.last.max(o.last);
        self.actor.merge(o.actor);
        self.address.merge(o.address);
        for e in o.chained {
            if self.chained.len() < EVIDENCE_CAP && !self.chained.contains(&e) {
                self.chained.push(e);
            }
        }
        if o.fired || self.fired {
            self.fired = true;
            self.tally = Tally::Fired;
            return;
        }
        let cap = 2 * MAX_THRESHOLD as usize;
        match (&mut self.tally, o.tally) {
            (Tally::Events(a), Tally::Events(b)) => {
                a.extend(b);
                a.sort();
                a.dedup();
                let extra = a.len().saturating_sub(cap);
                a.drain(..extra);
            }
            (Tally::Values(a), Tally::Values(b)) => {
                for (k, v) in b {
                    let e = a.entry(k).or_insert(v.clone());
                    if v.0 > e.0 {
                        *e = v;
                    }
                }
            }
            (Tally::Rules(a), Tally::Rules(b)) => {
                for (x, y) in a.iter_mut().zip(b) {
                    if let Some(y) = y
                        && x.as_ref().is_none_or(|x| y.0 > x.0)
                    {
                        *x = Some(y);
                    }
                }
            }
            (Tally::Chain(a), Tally::Chain(b)) => {
                for (x, y) in a.iter_mut().zip(b) {
                    if let Some(y) = y
                        && x.as_ref().is_none_or(|x| y.start > x.start)
                    {
                        *x = Some(y);
                    }
                }
            }
            (
                Tally::Closing {
                    count,
                    values,
                    mask,
                    events,
                },
                Tally::Closing {
                    count: c2,
                    values: v2,
                    mask: m2,
                    events: e2,
                },
            ) => {
                *count += c2;
                for v in v2 {
                    if values.len() < cap {
                        values.insert(v);
                    }
                }
                *mask |= m2;
                for e in e2 {
                    if events.len() < EVIDENCE_CAP {
                        events.push(e);
                    }
                }
            }
            (mine, theirs) => {
                // Different shapes: a state saved under other rules. Keep ours.
                let _ = (mine, theirs);
            }
        }
    }
}

/// A saved state lined up with the loaded correlations: windows are matched
/// by the correlation's id (or title); those of correlations no longer
/// loaded, and groups counted in another shape (the rule changed), go.
pub(super) fn adopt(correlations: &[Correlation], saved: CorrelationState) -> CorrelationState {
    let mut by_rule: Vec<Option<CorrelationWindows>> =
        saved.windows.into_iter().map(Some).collect();
    let windows = correlations
        .iter()
        .map(|c| {
            let id = c.identity();
            let found = by_rule
                .iter_mut()
                .find(|w| w.as_ref().is_some_and(|w| w.rule == id))
                .and_then(Option::take);
            let mut w = found.unwrap_or_else(|| CorrelationWindows {
                rule: id,
                ..CorrelationWindows::default()
            });
            w.groups.retain(|_, g| c.fits(&g.tally));
            w
        })
        .collect();
    CorrelationState {
        windows,
        watermark: saved.watermark,
    }
}

/// Sweeps one correlation's windows (see [`RuleSet::close_windows`]).
///
/// [`RuleSet::close_windows`]: super::RuleSet::close_windows
pub(super) fn close_windows_of(
    correlations: &[Correlation],
    index: usize,
    state: &mut CorrelationState,
    all: bool,
    out: &mut Vec<Emitted>,
) {
    let watermark = state.watermark;
    if let (Some(c), Some(w)) = (correlations.get(index), state.windows.get_mut(index)) {
        c.sweep(index, w, watermark, all, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespans() {
        assert_eq!(parse_timespan("30s"), Ok(30));
        assert_eq!(parse_timespan("5m"), Ok(300));
        assert_eq!(parse_timespan("1h"), Ok(3600));
        assert_eq!(parse_timespan("2d"), Ok(172_800));
        assert_eq!(parse_timespan("365d"), Ok(MAX_TIMESPAN));
        assert_eq!(parse_timespan("8760h"), Ok(MAX_TIMESPAN));
        let e = parse_timespan("366d").expect_err("a year and a day");
        assert!(e.0.contains("365 days"), "{e}");
        for bad in [
            "",
            "m",
            "5",
            "5w",
            "-1m",
            "0s",
            "1.5h",
            "99999999999999999d",
            "9223372036854775807s",
            "31536001s",
        ] {
            assert!(parse_timespan(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn conditions_become_bounds() {
        let mut c = CountCondition::default();
        c.add("gt", 100).expect("gt");
        c.add("lte", 200).expect("lte");
        assert!(!c.holds(100) && c.holds(101) && c.holds(200) && !c.holds(201));
        assert!(c.at_close());
        let mut c = CountCondition::default();
        c.add("gte", 5).expect("gte");
        assert!(!c.at_close() && c.need() == 5);
        let mut c = CountCondition::default();
        c.add("neq", 3).expect("neq");
        assert!(c.holds(2) && !c.holds(3) && c.at_close());
        let mut c = CountCondition::default();
        c.add("eq", 2).expect("eq");
        assert!(!c.holds(1) && c.holds(2) && !c.holds(3));
        assert!(
            CountCondition::default()
                .add("gte", MAX_THRESHOLD + 1)
                .is_err()
        );
        assert!(CountCondition::default().add("lt", 0).is_err());
        assert!(CountCondition::default().add("between", 3).is_err());
    }

    #[test]
    fn legacy_aggregations() {
        let l = parse_legacy(" count() by sourceIPAddress > 5", Some("10m")).expect("count");
        assert_eq!(l.group_by, vec!["sourceIPAddress"]);
        assert_eq!(l.field, None);
        assert_eq!(l.cond.min, Some(6));
        assert_eq!(l.timespan, 600);
        let l = parse_legacy("count(eventName) by userIdentity.arn >= 3", Some("1h")).expect("v");
        assert_eq!(l.field.as_deref(), Some("eventName"));
        assert_eq!(l.cond.min, Some(3));
        let l = parse_legacy("count() < 3", Some("1d")).expect("lt");
        assert_eq!(l.cond.max, Some(2));
        let e = parse_legacy("count() > 5", None).expect_err("no timeframe");
        assert!(e.0.contains("timeframe") && e.0.contains("count()"), "{e}");
        let e = parse_legacy("near selection2", Some("1m")).expect_err("near");
        assert!(e.0.contains("near"), "{e}");
        let e = parse_legacy("max(bytes) > 5", Some("1m")).expect_err("max");
        assert!(e.0.contains("only count()"), "{e}");
    }

    use super::super::{Hit, RuleSet};

    const BASE: &str = "title: Failed login\nname: failed\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel:\n    eventName: ConsoleLogin\n  condition: sel\n";

    fn set_with(correlation: &str) -> RuleSet {
        let mut set = RuleSet::default();
        let mut diags = Vec::new();
        set.load_str("c.yml", &format!("{BASE}---\n{correlation}"), &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(set.correlations().len(), 1);
        set
    }

    fn login(ip: &str, id: &str) -> String {
        format!(
            r#"{{"eventName":"ConsoleLogin","eventSource":"signin.amazonaws.com","sourceIPAddress":"{ip}","eventID":"{id}","recipientAccountId":"111122223333","awsRegion":"us-east-1","userIdentity":{{"arn":"arn:aws:iam::111122223333:user/u{id}"}}}}"#
        )
    }

    /// Feeds (ip, time) logins; returns the correlation signals raised, the
    /// end-of-run ones included.
    fn feed(set: &RuleSet, state: &mut CorrelationState, events: &[(&str, i64)]) -> Vec<Signal> {
        let mut out = Vec::new();
        for (n, (ip, t)) in events.iter().enumerate() {
            let text = login(ip, &format!("e{n}"));
            let ev = CtEvent::parse(&text).expect("event");
            set.evaluate(&ev, *t, state, &mut |hit| match hit {
                Hit::Correlation(s) => out.push(*s),
                Hit::Rule(m) => panic!("{} is only a correlation's base rule", m.title),
            });
        }
        out
    }

    fn count_of(s: &Signal) -> u64 {
        s.count
    }

    const BURST: &str = "title: Burst\ncorrelation:\n  type: event_count\n  rules: [failed]\n  group-by: [sourceIPAddress]\n  timespan: 10m\n  condition: {gte: 5}\n";

    #[test]
    fn events_out_of_order_still_match_and_state_stays_small() {
        let set = set_with(BURST);
        let mut state = CorrelationState::default();
        // Newest first, as `lookup-events` writes them.
        let hits = feed(
            &set,
            &mut state,
            &[("a", 240), ("a", 180), ("a", 120), ("a", 60), ("a", 0)],
        );
        assert_eq!(hits.len(), 1);
        assert_eq!(
            (hits[0].since, hits[0].time, count_of(&hits[0])),
            (Some(0), 0, 5)
        );
        // A straggler from long before neither matches with nor wipes the
        // recent events.
        let mut state = CorrelationState::default();
        let mixed = [("c", 600), ("c", 660), ("c", 720), ("c", 780), ("c", 0)];
        assert!(feed(&set, &mut state, &mixed).is_empty());
        let hits = feed(&set, &mut state, &[("c", 900)]);
        assert_eq!(hits.len(), 1);
        assert_eq!((hits[0].since, count_of(&hits[0])), (Some(600), 5));
        // A steady trickle below the rate keeps only the timestamps of the
        // last two timespans (1,200 s at one per 200 s: seven).
        let mut state = CorrelationState::default();
        let trickle: Vec<(&str, i64)> = (0..1000).map(|i| ("b", i * 200)).collect();
        assert!(feed(&set, &mut state, &trickle).is_empty());
        let g = state.windows[0].groups.values().next().expect("group");
        match &g.tally {
            Tally::Events(list) => assert_eq!(list.len(), 7),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_late_event_completes_a_window_despite_newer_events() {
        let set = set_with(BURST);
        let mut state = CorrelationState::default();
        let newer = [
            ("d", 0),
            ("d", 10),
            ("d", 20),
            ("d", 30),
            ("d", 1000),
            ("d", 1010),
            ("d", 1020),
            ("d", 1030),
        ];
        assert!(feed(&set, &mut state, &newer).is_empty());
        // 0, 10, 20, 30 and the late 40 are five within ten minutes.
        let hits = feed(&set, &mut state, &[("d", 40)]);
        assert_eq!(hits.len(), 1);
        assert_eq!((hits[0].since, count_of(&hits[0])), (Some(0), 5));
        // More than two timespans behind the newest event, a late event is
        // no longer counted: 1030 - 1200 leaves nothing before -170.
        let mut state = CorrelationState::default();
        let far = [("f", 1000), ("f", 1010), ("f", 1020), ("f", 1030)];
        assert!(feed(&set, &mut state, &far).is_empty());
        assert!(feed(&set, &mut state, &[("f", -200), ("f", -190), ("f", -180)]).is_empty());
        assert!(feed(&set, &mut state, &[("f", -170), ("f", -160)]).is_empty());
        let g = state.windows[0].groups.values().next().expect("group");
        match &g.tally {
            Tally::Events(list) => assert_eq!(list.len(), 6, "{list:?}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn value_count_with_not_equal_and_a_larger_lower_bound_fires() {
        let set = set_with(
            "title: Ten users\ncorrelation:\n  type: value_count\n  rules: [failed]\n  group-by: [sourceIPAddress]\n  timespan: 1h\n  condition: {field: userName, gte: 10, neq: 3}\n",
        );
        let mut state = CorrelationState::default();
        let feed_user = |user: &str, t: i64, state: &mut CorrelationState| {
            let text = format!(
                r#"{{"eventName":"ConsoleLogin","eventSource":"signin.amazonaws.com","sourceIPAddress":"v","eventID":"{user}","userName":"{user}","recipientAccountId":"111122223333","awsRegion":"us-east-1"}}"#
            );
            let ev = CtEvent::parse(&text).expect("event");
            set.evaluate(&ev, t, state, &mut |_| {});
        };
        for n in 0..10 {
            feed_user(&format!("user{n}"), n, &mut state);
        }
        let mut out = Vec::new();
        set.close_windows(&mut state, true, &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        let distinct = out[0]
            .details
            .iter()
            .find(|(k, _)| k == "distinct_values_in_timespan")
            .map(|(_, v)| v.as_str());
        assert_eq!(distinct, Some("10"));
        // Nine distinct values stay below the lower bound.
        let mut state = CorrelationState::default();
        for n in 0..9 {
            feed_user(&format!("user{n}"), n, &mut state);
        }
        let mut out = Vec::new();
        set.close_windows(&mut state, true, &mut out);
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn groups_beyond_the_cap_are_dropped_and_counted() {
        let set = set_with(BURST);
        let mut state = CorrelationState::default();
        assert!(feed(&set, &mut state, &[("seed", 100)]).is_empty());
        // Fill the table with live groups (copies of the seed's).
        let (key, seed) = state.windows[0]
            .groups
            .iter()
            .next()
            .map(|(k, g)| (k.clone(), g.clone()))
            .expect("seed group");
        for n in 1..MAX_GROUPS {
            state.windows[0]
                .groups
                .insert(format!("{key}-{n}"), seed.clone());
        }
        assert_eq!(state.groups(), MAX_GROUPS);
        // A new address within the live windows is not counted...
        assert!(feed(&set, &mut state, &[("new", 200), ("new", 201)]).is_empty());
        assert_eq!(state.groups(), MAX_GROUPS);
        assert_eq!(state.dropped_groups(), vec![("Burst", 2)]);
        // ...while a group already held still counts.
        let hits = feed(
            &set,
            &mut state,
            &[("seed", 101), ("seed", 102), ("seed", 103), ("seed", 104)],
        );
        assert_eq!(hits.len(), 1);
        // Once the windows have ended, a sweep makes room.
        assert!(feed(&set, &mut state, &[("later", 5000)]).is_empty());
        assert_eq!(state.groups(), 1);
        assert_eq!(state.dropped_groups(), vec![("Burst", 2)]);
        // The count survives a checkpoint and adds up over shards.
        let text = serde_json::to_string(&state).expect("serialize");
        let back: CorrelationState = serde_json::from_str(&text).expect("deserialize");
        let mut merged = back.clone();
        merged.absorb(back);
        assert_eq!(merged.dropped_groups(), vec![("Burst", 4)]);
        let reported = merged.take_unreported_drops();
        assert_eq!(reported.len(), 1);
        assert_eq!(reported[0].0, "Burst");
        assert!(reported[0].1.contains("4 events"), "{}", reported[0].1);
        assert!(merged.take_unreported_drops().is_empty());
    }

    #[test]
    fn long_group_by_values_are_cut() {
        let set = set_with(BURST);
        let mut state = CorrelationState::default();
        let long_a = format!("{}a", "x".repeat(3 * VALUE_LEN_CAP));
        let long_b = format!("{}b", "x".repeat(3 * VALUE_LEN_CAP));
        let times = [
            (long_a.as_str(), 0),
            (long_b.as_str(), 1),
            (long_a.as_str(), 2),
            (long_b.as_str(), 3),
            (long_a.as_str(), 4),
        ];
        // The two values share their first 512 bytes: one group.
        let hits = feed(&set, &mut state, &times);
        assert_eq!(hits.len(), 1);
        let shown = &hits[0].resource_id;
        assert_eq!(shown.len(), "sourceIPAddress=".len() + VALUE_LEN_CAP);
        assert_eq!(state.groups(), 1);
        let key = state.windows[0].groups.keys().next().expect("key");
        assert!(key.len() < VALUE_LEN_CAP + 64, "{}", key.len());
    }

    #[test]
    fn dead_groups_are_swept() {
        let set = set_with(BURST);
        let mut state = CorrelationState::default();
        let ips: Vec<String> = (0..3 * SWEEP_AT)
            .map(|i| format!("10.0.{}.{}", i / 256, i % 256))
            .collect();
        // One login per address, a minute apart: each group dies 10 minutes on.
        let events: Vec<(&str, i64)> = ips
            .iter()
            .enumerate()
            .map(|(i, ip)| (ip.as_str(), i as i64 * 60))
            .collect();
        assert!(feed(&set, &mut state, &events).is_empty());
        assert!(state.groups() <= SWEEP_AT + 1, "{}", state.groups());
        let mut out = Vec::new();
        set.close_windows(&mut state, false, &mut out);
        assert!(state.groups() <= 11, "{}", state.groups());
        assert!(out.is_empty());
    }

    #[test]
    fn not_equal_and_merging_closed_windows() {
        let set = set_with(
            "title: Not three\ncorrelation:\n  type: event_count\n  rules: [failed]\n  group-by: [sourceIPAddress]\n  timespan: 1h\n  condition: {neq: 3}\n",
        );
        // Two shards each saw part of one group: 2 + 1 = 3, no match.
        let mut a = CorrelationState::default();
        let mut b = CorrelationState::default();
        assert!(feed(&set, &mut a, &[("x", 0), ("x", 60), ("y", 0)]).is_empty());
        assert!(feed(&set, &mut b, &[("x", 120)]).is_empty());
        a.absorb(b);
        let mut out = Vec::new();
        set.close_windows(&mut a, true, &mut out);
        let groups: Vec<&str> = out.iter().map(|s| s.resource_id.as_str()).collect();
        assert_eq!(groups, ["sourceIPAddress=y"]);
        assert_eq!(a.groups(), 0);
    }

    #[test]
    fn value_count_caps_what_it_remembers() {
        let set = set_with(
            "title: Many users\ncorrelation:\n  type: value_count\n  rules: [failed]\n  group-by: [sourceIPAddress]\n  timespan: 10m\n  condition: {gte: 3, field: userIdentity.arn}\n",
        );
        let mut state = CorrelationState::default();
        // The same user over and over: one value, never a match.
        let mut out = Vec::new();
        for t in 0..50 {
            let text = login("z", "same");
            let ev = CtEvent::parse(&text).expect("event");
            set.evaluate(&ev, t, &mut state, &mut |h| {
                if let Hit::Correlation(s) = h {
                    out.push(*s)
                }
            });
        }
        assert!(out.is_empty());
        // Distinct users (login() names the user after the event id): a match.
        let hits = feed(&set, &mut state, &[("z", 60), ("z", 61)]);
        assert_eq!(hits.len(), 1);
        assert_eq!(
            hits[0]
                .details
                .iter()
                .find(|(k, _)| k == "distinct_values_in_timespan")
                .map(|(_, v)| v.as_str()),
            Some("3")
        );
    }

    #[test]
    fn a_saved_state_is_lined_up_with_the_rules_loaded_now() {
        let set = set_with(BURST);
        let mut state = CorrelationState::default();
        feed(&set, &mut state, &[("a", 0), ("a", 1), ("a", 2), ("a", 3)]);
        // Another correlation now loads first: the saved windows follow "Burst".
        let mut two = RuleSet::default();
        let mut diags = Vec::new();
        let other = BURST.replace("title: Burst", "title: Other");
        two.load_str(
            "c.yml",
            &format!("{BASE}---\n{other}---\n{BURST}"),
            &mut diags,
        );
        assert!(diags.is_empty(), "{diags:?}");
        let mut adopted = two.adopt_state(state.clone());
        assert_eq!(adopted.windows.len(), 2);
        assert_eq!(adopted.windows[0].groups.len(), 0);
        assert_eq!(adopted.windows[1].groups.len(), 1);
        // The fifth login completes "Burst" only (Other starts from one).
        let hits = feed(&two, &mut adopted, &[("a", 4)]);
        let titles: Vec<&str> = hits
            .iter()
            .map(|s| match &s.kind {
                SignalKind::Sigma(m) => m.title.as_str(),
                SignalKind::Builtin(t) => t.name,
            })
            .collect();
        assert_eq!(titles, ["Burst"]);
        // "Burst" rewritten as a "fewer than" rule: its old counts go.
        let changed = set_with(&BURST.replace("{gte: 5}", "{lt: 5}"));
        assert_eq!(changed.adopt_state(state).groups(), 0);
    }

    #[test]
    fn state_round_trips_through_json() {
        let set = set_with(BURST);
        let mut state = CorrelationState::default();
        feed(&set, &mut state, &[("a", 0), ("a", 1)]);
        let text = serde_json::to_string(&state).expect("serialize");
        let back: CorrelationState = serde_json::from_str(&text).expect("deserialize");
        assert_eq!(back, state);
        assert_eq!(back.watermark(), 1);
    }

    #[test]
    fn windows_of_sorted_times() {
        assert_eq!(window_of([0, 1, 2].into_iter(), 3, 2), Some((0, 2)));
        assert_eq!(window_of([0, 1, 5].into_iter(), 3, 2), None);
        assert_eq!(window_of([0, 10, 11, 12].into_iter(), 3, 2), Some((1, 3)));
        assert_eq!(window_of([0].into_iter(), 2, 2), None);
    }
}
