//! The detection engine: feeds each file's records to the rules and gathers
//! what they raise.

use crate::baseline::{self, Baseline};
use crate::cloudtrail::CtEvent;
use crate::dns::DnsQuery;
use crate::finding::{Aggregator, Finding, Signal, SignalKind};
use crate::input::{self, Format};
use crate::intel::{AwsRanges, ThreatIntel, TrustedList};
use crate::rules::cloudtrail::CtRules;
use crate::rules::{Env, Windows, dns, flow};
use crate::sigma::{CorrelationState, Hit, RuleSet};
use crate::suppress::Suppressions;
use crate::{Diagnostic, DiagnosticKind, timefmt};
use serde::Serialize;
use std::sync::Arc;

/// Everything a run is configured with.
pub struct EngineConfig {
    pub intel: ThreatIntel,
    pub trusted: TrustedList,
    pub aws: AwsRanges,
    pub sigma: RuleSet,
    pub suppressions: Suppressions,
    /// Overrides format detection for every file.
    pub format_hint: Option<Format>,
    /// Unix seconds "now", for suppression expiry.
    pub now: i64,
    /// The behavioural baseline learned by earlier runs (`--state`); `None`
    /// turns baselines off.
    pub baseline: Option<Baseline>,
    /// Where addresses are (`--geoip`); `None` turns
    /// `UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B` off.
    pub geoip: Option<Arc<crate::geoip::GeoIp>>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            intel: ThreatIntel::builtin(),
            trusted: TrustedList::default(),
            aws: AwsRanges::builtin(),
            sigma: RuleSet::default(),
            suppressions: Suppressions::default(),
            format_hint: None,
            now: 0,
            baseline: None,
            geoip: None,
        }
    }
}

/// Counts for the summary line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub files: u64,
    pub bytes: u64,
    pub cloudtrail_events: u64,
    pub flow_records: u64,
    pub dns_queries: u64,
    pub malformed_records: u64,
    pub unreadable_files: u64,
    pub findings: u64,
    pub suppressed_findings: u64,
}

/// The outcome of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
    /// Findings a suppression rule matched: archived, kept, counted.
    pub suppressed: Vec<Finding>,
    pub diagnostics: Vec<Diagnostic>,
    pub stats: Stats,
    /// The baseline to keep for the next run (the learned one plus what this
    /// run saw), when baselines are on.
    #[serde(skip)]
    pub baseline: Option<Baseline>,
    /// Things the user should know that are no input problem (a detection
    /// that was off for want of an option), each said once per run.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<String>,
}

/// What an engine remembers across flushes besides the baseline: the
/// threshold windows still open and the run-wide sets. `--follow` keeps it in
/// its checkpoint, so a restart goes on counting where it stopped instead of
/// starting every window from zero.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct WindowState {
    #[serde(default)]
    pub windows: Windows,
    #[serde(default)]
    pub cloudtrail: crate::rules::cloudtrail::CtCarried,
    /// Per principal: never-seen discovery calls so far.
    #[serde(default)]
    pub new_discovery: std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
    /// Sigma correlation windows, matched to the loaded correlations by id
    /// on restore.
    #[serde(default)]
    pub sigma: CorrelationState,
}

pub struct Engine {
    cfg: Arc<EngineConfig>,
    ct: CtRules,
    win: Windows,
    agg: Aggregator,
    diags: Vec<Diagnostic>,
    stats: Stats,
    buf: Vec<Signal>,
    /// Decompression buffer, reused from file to file.
    scratch: Vec<u8>,
    /// What this run saw, for the baseline.
    observed: Baseline,
    /// The baseline as of the last flush (`None`: the configured one). A
    /// long-running engine learns at each flush, as consecutive runs would.
    learned: Option<Arc<Baseline>>,
    /// Per principal: never-seen discovery calls in this run.
    new_discovery: std::collections::HashMap<String, std::collections::HashSet<String>>,
    /// Sigma correlation windows (serializable, for checkpoints).
    corr: CorrelationState,
}

/// What keeps files together when a run is spread over several engines:
/// files of one account and region go to the same engine, so its threshold
/// windows see all of a principal's activity there. Without the S3 layout,
/// the directory stands for the source.
pub fn shard_key(name: &str) -> String {
    let (account, region) = path_hints(name);
    if account.is_empty() && region.is_empty() {
        std::path::Path::new(name)
            .parent()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    } else {
        format!("{account}/{region}")
    }
}

/// Reads and processes `files` on `workers` threads, one engine per thread,
/// with files grouped by [`shard_key`]; returns the merged engine, ready for
/// [`Engine::finish`]. A file that cannot be read becomes a diagnostic.
pub fn run_files(cfg: Arc<EngineConfig>, files: Vec<std::path::PathBuf>, workers: usize) -> Engine {
    let inputs = files
        .into_iter()
        .map(|f| Input {
            size: std::fs::metadata(&f).map(|m| m.len()).unwrap_or(0),
            name: f.display().to_string(),
        })
        .collect();
    run_inputs(cfg, inputs, workers, &|name: &str| {
        std::fs::read(name).map_err(|e| format!("cannot read: {e}"))
    })
}

/// One input of a run: its name (a path, or `s3://bucket/key`) and size,
/// for spreading the work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub name: String,
    pub size: u64,
}

/// As [`run_files`], for inputs that `read` fetches by name (files, S3
/// objects). `read` returns the bytes or why they could not be had; the
/// latter becomes a diagnostic and the run goes on.
pub fn run_inputs<R>(cfg: Arc<EngineConfig>, inputs: Vec<Input>, workers: usize, read: &R) -> Engine
where
    R: Fn(&str) -> Result<Vec<u8>, String> + Sync,
{
    // Whole groups go to the least loaded worker, biggest groups first.
    let mut groups: std::collections::BTreeMap<String, (u64, Vec<Input>)> =
        std::collections::BTreeMap::new();
    for f in inputs {
        let g = groups.entry(shard_key(&f.name)).or_default();
        g.0 += f.size;
        g.1.push(f);
    }
    let workers = workers.max(1).min(groups.len().max(1));
    let mut groups: Vec<(u64, Vec<Input>)> = groups.into_values().collect();
    groups.sort_by_key(|g| std::cmp::Reverse(g.0));
    let mut shards: Vec<(u64, Vec<Input>)> = vec![(0, Vec::new()); workers];
    for (size, fs) in groups {
        let least = shards
            .iter_mut()
            .min_by_key(|s| s.0)
            .expect("at least one worker");
        least.0 += size;
        least.1.extend(fs);
    }
    let shards: Vec<Vec<Input>> = shards.into_iter().map(|s| s.1).collect();
    let done: Vec<Engine> = std::thread::scope(|scope| {
        let handles: Vec<_> = shards
            .into_iter()
            .map(|shard| {
                let cfg = cfg.clone();
                scope.spawn(move || {
                    let mut e = Engine::shared(cfg);
                    let by_name = |f: &Input| read(&f.name);
                    read_ahead(&shard, &by_name, |f, got| {
                        match got {
                            Ok(bytes) => e.process_bytes(&f.name, &bytes),
                            Err(why) => e.add_diagnostic(Diagnostic::new(
                                DiagnosticKind::Io,
                                &f.name,
                                None,
                                why,
                            )),
                        }
                        true
                    });
                    e
                })
            })
            .collect();
        // A worker only panics on a bug; surface it rather than lose its files silently.
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut iter = done.into_iter();
    let mut first = iter.next().unwrap_or_else(|| Engine::shared(cfg));
    for e in iter {
        first.absorb(e);
    }
    first
}

/// Inputs fetched at once per engine thread: an S3 GET waits tens of
/// milliseconds for a few milliseconds of parsing, so one fetch at a time
/// would leave the core idle most of the time.
pub const READ_AHEAD: usize = 4;

/// Calls `each` for every item in order with its bytes, fetched by `read`
/// on up to [`READ_AHEAD`] threads ahead of it; `each` returns false to stop
/// (the fetches under way finish, no new one starts). Lane `j` fetches items
/// `j`, `j + READ_AHEAD`, … and holds at most one finished item, so memory is
/// bounded by `2 × READ_AHEAD` items, whatever the number of items.
pub fn read_ahead<T, R>(
    items: &[T],
    read: &R,
    mut each: impl FnMut(&T, Result<Vec<u8>, String>) -> bool,
) where
    T: Sync,
    R: Fn(&T) -> Result<Vec<u8>, String> + Sync,
{
    if items.len() <= 1 {
        for f in items {
            if !each(f, read(f)) {
                return;
            }
        }
        return;
    }
    let lanes = READ_AHEAD.min(items.len());
    std::thread::scope(|scope| {
        let receivers: Vec<_> = (0..lanes)
            .map(|lane| {
                let (tx, rx) = std::sync::mpsc::sync_channel(1);
                scope.spawn(move || {
                    for f in items.iter().skip(lane).step_by(lanes) {
                        // The receiver is gone when the caller stopped (or
                        // panicked): fetch no more.
                        if tx.send(read(f)).is_err() {
                            return;
                        }
                    }
                });
                rx
            })
            .collect();
        for (i, f) in items.iter().enumerate() {
            let got = receivers[i % lanes]
                .recv()
                .unwrap_or_else(|_| Err("the reader thread stopped".to_owned()));
            if !each(f, got) {
                // Dropping the receivers ends the lanes after their current fetch.
                return;
            }
        }
    });
}

/// Account and region from an S3-style key
/// (`AWSLogs/<account>/<service>/<region>/…`), used where a format lacks them.
fn path_hints(name: &str) -> (String, String) {
    let parts: Vec<&str> = name.split(['/', '\\']).collect();
    for (i, p) in parts.iter().enumerate() {
        if *p == "AWSLogs" {
            let account = parts.get(i + 1).copied().unwrap_or("");
            let account = if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) {
                account
            } else {
                ""
            };
            let region = parts.get(i + 3).copied().unwrap_or("");
            let looks_region = region.matches('-').count() >= 2 && region.len() < 30;
            return (
                account.to_owned(),
                if looks_region {
                    region.to_owned()
                } else {
                    String::new()
                },
            );
        }
    }
    (String::new(), String::new())
}

impl Engine {
    pub fn new(cfg: EngineConfig) -> Self {
        Self::shared(Arc::new(cfg))
    }

    /// An engine for one shard of a run; shards share the configuration and
    /// are merged with [`Engine::absorb`] before [`Engine::finish`].
    pub fn shared(cfg: Arc<EngineConfig>) -> Self {
        Engine {
            ct: CtRules::with_geoip(cfg.geoip.clone()),
            cfg,
            win: Windows::default(),
            agg: Aggregator::default(),
            diags: Vec::new(),
            stats: Stats::default(),
            buf: Vec::new(),
            scratch: Vec::new(),
            observed: Baseline::default(),
            learned: None,
            new_discovery: Default::default(),
            corr: CorrelationState::default(),
        }
    }

    /// The Sigma correlation windows held so far (to checkpoint them).
    pub fn correlation_state(&self) -> &CorrelationState {
        &self.corr
    }

    /// Goes on from saved correlation windows; windows of correlations no
    /// longer loaded are dropped.
    pub fn restore_correlation_state(&mut self, state: CorrelationState) {
        self.corr = self.cfg.sigma.adopt_state(state);
    }

    /// The built-in type names the engine can raise (catalog entries with a rule).
    pub fn builtin_types(&self) -> Vec<&'static str> {
        let mut v = self.ct.type_names();
        v.extend(flow::TYPES);
        v.extend(dns::TYPES);
        v.sort_unstable();
        v.dedup();
        v
    }

    pub fn add_diagnostic(&mut self, d: Diagnostic) {
        if d.kind == DiagnosticKind::Io || d.kind == DiagnosticKind::UnknownFormat {
            self.stats.unreadable_files += 1;
        }
        self.diags.push(d);
    }

    /// Reads one file's bytes (gzip or plain); `name` is used in reports and
    /// for account/region hints from the S3 key layout.
    pub fn process_bytes(&mut self, name: &str, bytes: &[u8]) {
        self.stats.files += 1;
        self.stats.bytes += bytes.len() as u64;
        let mut scratch = std::mem::take(&mut self.scratch);
        let (gzipped, d) = input::decompress_into(name, bytes, &mut scratch);
        if let Some(d) = d {
            self.diags.push(d);
        }
        let raw: &[u8] = if gzipped { &scratch } else { bytes };
        self.process_raw(name, raw);
        if scratch.capacity() <= 1 << 29 {
            self.scratch = scratch;
        }
    }

    fn process_raw(&mut self, name: &str, raw: &[u8]) {
        let (text, d) = input::to_text(name, raw);
        if let Some(d) = d {
            self.diags.push(d);
        }
        let format = match self.cfg.format_hint {
            Some(f) => f,
            None => match input::detect(&text) {
                Ok(f) => f,
                Err(why) => {
                    if text.trim().is_empty() {
                        return;
                    }
                    self.add_diagnostic(Diagnostic::new(
                        DiagnosticKind::UnknownFormat,
                        name,
                        None,
                        format!("unknown format: {why}"),
                    ));
                    return;
                }
            },
        };
        match format {
            Format::CloudTrail => self.cloudtrail_text(name, &text),
            Format::VpcFlow => self.flow_text(name, &text),
            Format::Route53 => self.dns_text(name, &text),
        }
        self.drain();
    }

    fn drain(&mut self) {
        for s in self.buf.drain(..) {
            self.agg.add(s);
        }
    }

    fn cloudtrail_text(&mut self, name: &str, text: &str) {
        let Engine {
            cfg,
            ct,
            win,
            diags,
            stats,
            buf,
            agg,
            observed,
            new_discovery,
            learned,
            corr,
            ..
        } = self;
        let learned = learned.as_deref().or(cfg.baseline.as_ref());
        let env = Env {
            intel: &cfg.intel,
            trusted: &cfg.trusted,
            aws: &cfg.aws,
        };
        let sigma = &cfg.sigma;
        let mut local = Vec::new();
        input::cloudtrail_events(
            name,
            text,
            &mut |_raw, parsed, pos| {
                match parsed {
                    Ok(ev) => {
                        if ev.rec.event_name.is_none() && ev.rec.event_source.is_none() {
                            stats.malformed_records += 1;
                            diags.push(Diagnostic::malformed(
                                name,
                                Some(pos.to_string()),
                                "not a CloudTrail record (no eventName or eventSource)".into(),
                            ));
                            return;
                        }
                        stats.cloudtrail_events += 1;
                        let time = timefmt::parse(ev.event_time()).unwrap_or(0);
                        ct.on_event(&env, ev, time, win, buf);
                        if let Some(learned) = learned {
                            observe_call(learned, observed, new_discovery, ev, time, buf);
                        }
                        if !sigma.is_empty() {
                            // Most runs have no trusted list: skip parsing the address.
                            let trusted = !env.trusted.ips.is_empty()
                                && ev
                                    .source_ip()
                                    .parse()
                                    .ok()
                                    .is_some_and(|ip| env.trusted.ips.get(ip).is_some());
                            if !trusted {
                                sigma.evaluate(ev, time, corr, &mut |hit| {
                                    let meta = match hit {
                                        Hit::Rule(meta) => meta,
                                        Hit::Correlation(s) => return buf.push(*s),
                                    };
                                    if agg.touch(
                                        &meta.type_name,
                                        ev.account_id(),
                                        ev.region(),
                                        ev.actor(),
                                        ev.actor(),
                                        ev.source_ip(),
                                        time,
                                    ) {
                                        return;
                                    }
                                    let s = Signal {
                                        kind: SignalKind::Sigma(meta.clone()),
                                        severity: None,
                                        account_id: ev.account_id().to_owned(),
                                        region: ev.region().to_owned(),
                                        time,
                                        resource_id: ev.actor().to_owned(),
                                        principal: Some(ev.actor().to_owned())
                                            .filter(|p| !p.is_empty()),
                                        address: Some(ev.source_ip().to_owned())
                                            .filter(|p| !p.is_empty()),
                                        events: vec![ev.event_id().to_owned()]
                                            .into_iter()
                                            .filter(|e| !e.is_empty())
                                            .collect(),
                                        targets: Vec::new(),
                                        count: 1,
                                        since: None,
                                        details: vec![(
                                            "api".into(),
                                            format!(
                                                "{}:{}",
                                                ev.event_source()
                                                    .trim_end_matches(".amazonaws.com"),
                                                ev.event_name()
                                            ),
                                        )],
                                    };
                                    buf.push(s);
                                });
                            }
                        }
                    }
                    Err(e) => {
                        stats.malformed_records += 1;
                        diags.push(Diagnostic::malformed(
                            name,
                            Some(pos.to_string()),
                            format!("not a valid CloudTrail record: {e}"),
                        ));
                    }
                }
            },
            &mut local,
        );
        stats.malformed_records += local.len() as u64;
        diags.extend(local);
    }

    fn flow_text(&mut self, name: &str, text: &str) {
        let (account, region) = path_hints(name);
        let Engine {
            cfg,
            win,
            diags,
            stats,
            buf,
            observed,
            learned,
            ..
        } = self;
        let learned = learned.as_deref().or(cfg.baseline.as_ref());
        let env = Env {
            intel: &cfg.intel,
            trusted: &cfg.trusted,
            aws: &cfg.aws,
        };
        let before = diags.len();
        input::flow_records(
            name,
            text,
            |r| {
                stats.flow_records += 1;
                flow::on_record(&env, &r, &account, &region, win, buf);
                if let Some(learned) = learned {
                    flow::on_record_baseline(learned, observed, &r, &account, &region, win, buf);
                }
            },
            diags,
        );
        stats.malformed_records += (diags.len() - before) as u64;
    }

    fn dns_text(&mut self, name: &str, text: &str) {
        let Engine {
            cfg,
            win,
            diags,
            stats,
            buf,
            ..
        } = self;
        let env = Env {
            intel: &cfg.intel,
            trusted: &cfg.trusted,
            aws: &cfg.aws,
        };
        input::json_lines(text, |line, pos| match DnsQuery::parse(line) {
            Ok(q) => {
                stats.dns_queries += 1;
                let time = q
                    .query_timestamp
                    .as_deref()
                    .and_then(timefmt::parse)
                    .unwrap_or(0);
                dns::on_query(&env, &q, time, win, buf);
            }
            Err(e) => {
                stats.malformed_records += 1;
                diags.push(Diagnostic::malformed(
                    name,
                    Some(pos.to_string()),
                    format!("not a valid Route 53 Resolver query log record: {e}"),
                ));
            }
        });
    }

    /// The state to checkpoint after a [`Engine::flush`]; windows that ended
    /// are dropped first, so the checkpoint stays the size of the open ones.
    pub fn window_state(&mut self) -> WindowState {
        self.win.prune();
        WindowState {
            sigma: self.corr.clone(),
            windows: self.win.clone(),
            cloudtrail: self.ct.carried(),
            new_discovery: self
                .new_discovery
                .iter()
                .map(|(k, v)| (k.clone(), v.iter().cloned().collect()))
                .collect(),
        }
    }

    /// Goes on from a checkpointed [`WindowState`] (before any input).
    pub fn restore_window_state(&mut self, state: WindowState) {
        self.corr = self.cfg.sigma.adopt_state(state.sigma);
        self.win = state.windows;
        self.ct.restore(state.cloudtrail);
        for (k, v) in state.new_discovery {
            self.new_discovery.entry(k).or_default().extend(v);
        }
    }

    /// Merges another shard of the same run into this one.
    pub fn absorb(&mut self, other: Engine) {
        self.agg.merge(other.agg);
        self.ct.merge(other.ct);
        self.observed.absorb(other.observed);
        self.corr.absorb(other.corr);
        for (k, v) in other.new_discovery {
            self.new_discovery.entry(k).or_default().extend(v);
        }
        self.diags.extend(other.diags);
        let (a, b) = (&mut self.stats, other.stats);
        a.files += b.files;
        a.bytes += b.bytes;
        a.cloudtrail_events += b.cloudtrail_events;
        a.flow_records += b.flow_records;
        a.dns_queries += b.dns_queries;
        a.malformed_records += b.malformed_records;
        a.unreadable_files += b.unreadable_files;
    }

    /// Ends the run: decisions that need every event, then suppression.
    pub fn finish(mut self) -> Report {
        // Sigma "fewer than" windows still open are decided now.
        self.cfg
            .sigma
            .close_windows(&mut self.corr, true, &mut self.buf);
        self.flush()
    }

    /// Reports what the engine holds so far and goes on (`--follow`): the
    /// findings raised since the last flush (a repeat after a flush is a new
    /// line with the same fingerprint and the count since), the diagnostics
    /// and counts since then, and the baseline to save, which the engine also
    /// goes on from (what a flush learned is known afterwards). Threshold windows and
    /// the run-wide address sets are kept, so activity spanning two flushes
    /// still adds up.
    pub fn flush(&mut self) -> Report {
        self.cfg
            .sigma
            .close_windows(&mut self.corr, false, &mut self.buf);
        // A correlation whose group table filled up says so once.
        for (rule, message) in self.corr.take_unreported_drops() {
            self.diags.push(Diagnostic::new(
                DiagnosticKind::Unsupported,
                &rule,
                None,
                message,
            ));
        }
        self.ct.finish(&mut self.buf);
        self.drain();
        let mut findings = Vec::new();
        let mut suppressed = Vec::new();
        for mut f in std::mem::take(&mut self.agg).into_findings() {
            match self.cfg.suppressions.matching(&f, self.cfg.now) {
                Some(reason) => {
                    f.archived = true;
                    f.suppressed_by = Some(reason.to_owned());
                    suppressed.push(f);
                }
                None => findings.push(f),
            }
        }
        let mut stats = std::mem::take(&mut self.stats);
        stats.findings = findings.len() as u64;
        stats.suppressed_findings = suppressed.len() as u64;
        let baseline = match self.learned.as_deref().or(self.cfg.baseline.as_ref()) {
            None => None,
            Some(before) => {
                let mut b = before.clone();
                b.version = 1;
                b.absorb(std::mem::take(&mut self.observed));
                self.learned = Some(Arc::new(b.clone()));
                Some(b)
            }
        };
        Report {
            findings,
            suppressed,
            diagnostics: std::mem::take(&mut self.diags),
            notices: self.ct.take_notice().into_iter().collect(),
            stats,
            baseline,
        }
    }
}

/// Baseline checks and learning for one CloudTrail event.
fn observe_call(
    learned: &Baseline,
    observed: &mut Baseline,
    new_discovery: &mut std::collections::HashMap<String, std::collections::HashSet<String>>,
    ev: &CtEvent,
    time: i64,
    out: &mut Vec<Signal>,
) {
    observed.note_time(time);
    if !ev.succeeded() || ev.identity_type() == "AWSService" {
        return;
    }
    let key = format!("{}|{}", ev.account_id(), ev.actor());
    let api = format!(
        "{}:{}",
        ev.event_source().trim_end_matches(".amazonaws.com"),
        ev.event_name()
    );
    if learned.mature()
        && let Some(known) = learned.principals.get(&key)
        && !known.apis.contains(&api)
        && let Some(fam) = baseline::family(ev.event_name())
        && let Some(t) = crate::catalog::get(fam)
    {
        let signal = Signal::new(t, ev.account_id(), ev.region(), time, ev.actor())
            .principal(ev.actor())
            .address(ev.source_ip())
            .event(ev.event_id())
            .target(&api)
            .detail(
                "why",
                "the principal never made this call during its learned baseline",
            );
        if fam.starts_with("Discovery:") {
            let seen = new_discovery.entry(key.clone()).or_default();
            seen.insert(api.clone());
            if seen.len() >= baseline::NEW_DISCOVERY_CALLS {
                out.push(signal.detail("new_discovery_calls", seen.len()));
            }
        } else {
            out.push(signal);
        }
    } else if learned.mature()
        && let Some(known) = learned.principals.get(&key)
        && let Some(fam) = baseline::family(ev.event_name())
        // Discovery calls from a new place are everyday (a new laptop, a
        // CI runner); the sensitive families are what GuardDuty weighs.
        && !fam.starts_with("Discovery:")
        && let Some(t) = crate::catalog::get(fam)
    {
        // A call the principal knows, from a network or region it never
        // used during its baseline: GuardDuty's anomaly model weighs the
        // same context (a known credential in a new place).
        let network = baseline::network_of(ev.source_ip());
        let new_network = !known.networks.is_empty() && !known.networks.contains(&network);
        let new_region = !known.regions.is_empty() && !known.regions.contains(ev.region());
        if new_network || new_region {
            let mut signal = Signal::new(t, ev.account_id(), ev.region(), time, ev.actor())
                .principal(ev.actor())
                .address(ev.source_ip())
                .event(ev.event_id())
                .target(&api)
                .detail(
                    "why",
                    "the principal made this call from a network or region it never used during its learned baseline",
                );
            if new_network {
                signal = signal.detail("new_network", &network);
            }
            if new_region {
                signal = signal.detail("new_region", ev.region());
            }
            out.push(signal);
        }
    }
    let seen = observed.principals.entry(key).or_default();
    seen.apis.note(api, time);
    seen.regions.note(ev.region().to_owned(), time);
    seen.networks
        .note(baseline::network_of(ev.source_ip()), time);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_ahead_keeps_the_order_and_passes_failures_on() {
        let inputs: Vec<Input> = (0..23)
            .map(|i| Input {
                name: format!("{i}"),
                size: 0,
            })
            .collect();
        let in_flight = std::sync::atomic::AtomicUsize::new(0);
        let most = std::sync::atomic::AtomicUsize::new(0);
        let read = |name: &str| {
            use std::sync::atomic::Ordering::SeqCst;
            let now = in_flight.fetch_add(1, SeqCst) + 1;
            most.fetch_max(now, SeqCst);
            let n: u64 = name.parse().map_err(|_| "bad".to_owned())?;
            // Later inputs finish first: order must not follow completion.
            std::thread::sleep(std::time::Duration::from_millis(23 - n));
            in_flight.fetch_sub(1, SeqCst);
            if n == 7 {
                Err("gone".to_owned())
            } else {
                Ok(name.as_bytes().to_vec())
            }
        };
        let mut seen = Vec::new();
        let by_name = |f: &Input| read(&f.name);
        read_ahead(&inputs, &by_name, |f, got| {
            seen.push((f.name.clone(), got));
            true
        });
        let names: Vec<&str> = seen.iter().map(|(n, _)| n.as_str()).collect();
        let want: Vec<String> = (0..23).map(|i| i.to_string()).collect();
        assert_eq!(names, want);
        assert_eq!(seen[7].1, Err("gone".to_owned()));
        assert_eq!(seen[8].1, Ok(b"8".to_vec()));
        let most = most.load(std::sync::atomic::Ordering::SeqCst);
        assert!(most > 1 && most <= READ_AHEAD, "{most} fetches at once");
        // Stopping early: no item after the stop is handed over.
        let mut handed = 0;
        read_ahead(&inputs, &by_name, |_, _| {
            handed += 1;
            handed < 5
        });
        assert_eq!(handed, 5);
    }

    #[test]
    fn hints_from_s3_keys() {
        assert_eq!(
            path_hints("s3://b/AWSLogs/123456789012/vpcflowlogs/eu-west-1/2024/01/01/x.log.gz"),
            ("123456789012".into(), "eu-west-1".into())
        );
        assert_eq!(path_hints("/tmp/x.log"), (String::new(), String::new()));
    }

    #[test]
    fn one_bad_record_does_not_lose_the_rest() {
        let mut e = Engine::new(EngineConfig::default());
        let text = "{\"eventName\":\"StopLogging\",\"eventSource\":\"cloudtrail.amazonaws.com\",\"eventTime\":\"2024-01-01T00:00:00Z\",\"requestParameters\":{\"name\":\"t\"},\"recipientAccountId\":\"111122223333\",\"awsRegion\":\"us-east-1\"}\n{oops\n{\"eventName\":\"DeleteTrail\",\"eventSource\":\"cloudtrail.amazonaws.com\",\"eventTime\":\"2024-01-01T00:00:00Z\",\"requestParameters\":{\"name\":\"t\"},\"recipientAccountId\":\"111122223333\",\"awsRegion\":\"us-east-1\"}\n";
        e.process_bytes("a.json", text.as_bytes());
        e.process_bytes("b.bin", b"\x00\x01garbage");
        let r = e.finish();
        assert_eq!(r.stats.cloudtrail_events, 2);
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.findings[0].count, 2);
        assert!(
            r.diagnostics
                .iter()
                .any(|d| d.source == "a.json" && d.location.as_deref() == Some("line 2")),
            "{:?}",
            r.diagnostics
        );
        assert!(
            r.diagnostics
                .iter()
                .any(|d| d.source == "b.bin" && d.kind == DiagnosticKind::UnknownFormat)
        );
    }
}
