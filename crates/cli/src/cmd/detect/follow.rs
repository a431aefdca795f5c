//! `rampart detect --follow`: watches directories and S3 prefixes, reads
//! each new file or object once, and checkpoints what it has read in the
//! state directory.
//!
//! One engine reads everything, so threshold windows span files and polls.
//! After each batch the engine is flushed: findings go to stdout (and
//! `--push`), then the batch's inputs are recorded in `follow.json`. A
//! restart therefore never skips an input, and repeats none whose findings
//! were written. Window state lives in memory only: activity split across a
//! restart counts from zero again (see docs/detect.md).

use super::{DetectArgs, DetectFormat, Tally, finding_lines, ordered};
use anyhow::{Context, Result, bail};
use rampart_detect::engine::read_ahead;
use rampart_detect::follow::{Checkpoint, file_identity};
use rampart_detect::s3::S3Source;
use rampart_detect::{Diagnostic, DiagnosticKind, Engine, Finding, Report};
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// A local file younger than this, whose size or time changed since the last
/// listing, may still be being written: it waits for the next listing.
const SETTLE: Duration = Duration::from_secs(2);
/// Flush at least every this many inputs, so a large backlog shows findings
/// (and checkpoints) as it goes.
const FLUSH_EVERY: usize = 64;

/// Refuses what --follow cannot do, before anything is loaded.
pub(super) fn check_args(args: &DetectArgs) -> Result<()> {
    if args.state.is_none() {
        bail!(
            "--follow needs --state DIR: the state directory keeps the checkpoint of the files and objects already read (follow.json), so that a restart neither misses nor repeats one"
        );
    }
    if args.paths.iter().any(|p| p == "-") {
        bail!(
            "--follow watches directories and s3:// prefixes; standard input (-) cannot be followed (pipe it without --follow)"
        );
    }
    if !(args.poll_interval.is_finite() && args.poll_interval > 0.0) {
        bail!("--poll-interval must be a positive number of seconds");
    }
    Ok(())
}

enum Watch {
    Local(PathBuf),
    S3(Box<S3Source>),
}

struct Source {
    /// Checkpoint key: the canonical directory, or `s3://bucket/prefix`.
    id: String,
    watch: Watch,
}

/// One input found by a listing.
struct Entry {
    source: usize,
    name: String,
    /// S3 key (for S3 sources).
    key: String,
    identity: String,
    /// Whether it is complete: S3 objects always are; a local file once it
    /// is older than [`SETTLE`] or unchanged since the previous listing.
    settled: bool,
}

fn list(src: &Source, i: usize) -> Result<Vec<Entry>> {
    match &src.watch {
        Watch::S3(s3) => Ok(s3
            .list()?
            .into_iter()
            .map(|o| Entry {
                source: i,
                identity: o.identity(),
                name: o.name,
                key: o.key,
                settled: true,
            })
            .collect()),
        Watch::Local(root) => {
            let mut files = Vec::new();
            super::collect(root, &mut files)
                .with_context(|| format!("could not list {}", root.display()))?;
            let now = SystemTime::now();
            let mut out = Vec::new();
            for f in files {
                // Gone between listing and stat: the next listing decides.
                let Ok(meta) = std::fs::metadata(&f) else {
                    continue;
                };
                let old = meta
                    .modified()
                    .ok()
                    .and_then(|m| now.duration_since(m).ok())
                    .is_some_and(|age| age >= SETTLE);
                out.push(Entry {
                    source: i,
                    name: f.display().to_string(),
                    key: String::new(),
                    identity: file_identity(&meta),
                    settled: old,
                });
            }
            Ok(out)
        }
    }
}

/// Ctrl-C and SIGTERM set the flag (the loop stops after the current file);
/// a second signal exits at once.
fn stop_on_signals() -> Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .context("could not set up signal handling")?;
    let seen = flag.clone();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        // Registered here, before returning, so no early signal is lost.
        let (mut term, mut int) = rt
            .block_on(async {
                Ok::<_, std::io::Error>((
                    signal(SignalKind::terminate())?,
                    signal(SignalKind::interrupt())?,
                ))
            })
            .context("could not set up signal handling")?;
        std::thread::spawn(move || {
            rt.block_on(async move {
                loop {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = int.recv() => {}
                    }
                    if seen.swap(true, Ordering::SeqCst) {
                        std::process::exit(130);
                    }
                    eprintln!("stopping after the current file (signal again to stop at once)");
                }
            })
        });
    }
    #[cfg(not(unix))]
    std::thread::spawn(move || {
        rt.block_on(async move {
            loop {
                if tokio::signal::ctrl_c().await.is_err() {
                    return;
                }
                if seen.swap(true, Ordering::SeqCst) {
                    std::process::exit(130);
                }
                eprintln!("stopping after the current file (Ctrl-C again to stop at once)");
            }
        })
    });
    Ok(flag)
}

struct Follower<'a> {
    args: &'a DetectArgs,
    /// The state directory (`--state`), for the baseline.
    state: PathBuf,
    engine: Engine,
    checkpoint: Checkpoint,
    sources: Vec<Source>,
    /// Read since the last flush: (source id, name, identity).
    pending: Vec<(String, String, String)>,
    tally: Tally,
    totals: rampart_detect::Stats,
    problems: u64,
    emitted: u64,
}

impl Follower<'_> {
    /// Writes out what the engine holds, then checkpoints the inputs read.
    fn flush(&mut self) -> Result<()> {
        let report = self.engine.flush();
        self.emit(&report)?;
        if let Some(b) = &report.baseline {
            b.save(&self.state)?;
        }
        for (src, name, identity) in self.pending.drain(..) {
            self.checkpoint.record(&src, &name, &identity);
        }
        // In the same write as the inputs, so the windows count exactly them.
        self.checkpoint.set_windows(self.engine.window_state());
        self.checkpoint.save()?;
        Ok(())
    }

    fn emit(&mut self, report: &Report) -> Result<()> {
        let shown = if self.args.verbose { usize::MAX } else { 20 };
        for d in report.diagnostics.iter().take(shown) {
            eprintln!("warning: {d}");
        }
        for n in &report.notices {
            eprintln!("note: {n}");
        }
        if report.diagnostics.len() > shown {
            eprintln!(
                "warning: … and {} more input problems (use --verbose to see them all)",
                report.diagnostics.len() - shown
            );
        }
        let extra: &[Finding] = if self.args.show_suppressed {
            &report.suppressed
        } else {
            &[]
        };
        let list = ordered(&report.findings, extra);
        {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            match self.args.format {
                DetectFormat::Json => {
                    for f in &list {
                        serde_json::to_writer(&mut out, f)?;
                        out.write_all(b"\n")?;
                    }
                }
                DetectFormat::Text => out.write_all(finding_lines(list, false).as_bytes())?,
            }
            // The checkpoint is written after this: the findings must be out.
            out.flush()?;
        }
        for f in &report.findings {
            self.tally.add(f);
        }
        self.emitted += report.findings.len() as u64;
        self.problems += report.diagnostics.len() as u64;
        let (a, b) = (&mut self.totals, &report.stats);
        a.files += b.files;
        a.cloudtrail_events += b.cloudtrail_events;
        a.flow_records += b.flow_records;
        a.dns_queries += b.dns_queries;
        a.suppressed_findings += b.suppressed_findings;
        if let (Some(url), Some(token)) = (&self.args.push, &self.args.token)
            && !report.findings.is_empty()
        {
            let batch: Vec<_> = report
                .findings
                .iter()
                .map(Finding::to_new_finding)
                .collect();
            // A server outage must not stop the watch: the findings are on
            // stdout; this batch is not pushed again, the next ones are.
            match crate::push::push_findings(url, token, &batch) {
                Ok(s) => eprintln!(
                    "pushed {} findings to {url}: {} new, {} seen before",
                    batch.len(),
                    s.created,
                    s.updated
                ),
                Err(e) => eprintln!("warning: could not push the findings to {url}: {e:#}"),
            }
        }
        Ok(())
    }

    /// Reads `batch` (fetching ahead, in order), flushing every
    /// [`FLUSH_EVERY`] inputs; stops after the current input once `stop` is
    /// set.
    fn read_batch(&mut self, batch: &[Entry], stop: &AtomicBool) -> Result<()> {
        for chunk in batch.chunks(FLUSH_EVERY) {
            let Follower {
                sources,
                engine,
                pending,
                ..
            } = self;
            let sources: &[Source] = sources;
            let fetch = |e: &Entry| match &sources[e.source].watch {
                Watch::S3(s3) => s3.get(&e.key).map_err(|err| err.to_string()),
                Watch::Local(_) => {
                    std::fs::read(&e.name).map_err(|err| format!("cannot read: {err}"))
                }
            };
            read_ahead(chunk, &fetch, |e, got| {
                match got {
                    Ok(b) => {
                        engine.process_bytes(&e.name, &b);
                        pending.push((
                            sources[e.source].id.clone(),
                            e.name.clone(),
                            e.identity.clone(),
                        ));
                    }
                    // Not recorded: the next listing tries again.
                    Err(why) => engine.add_diagnostic(Diagnostic::new(
                        DiagnosticKind::Io,
                        &e.name,
                        None,
                        why,
                    )),
                }
                !stop.load(Ordering::SeqCst)
            });
            self.flush()?;
            if stop.load(Ordering::SeqCst) {
                break;
            }
        }
        Ok(())
    }
}

pub(super) fn run(args: &DetectArgs, engine: Engine, sigma_rules: usize) -> Result<()> {
    let Some(state) = args.state.clone() else {
        bail!("--follow needs --state DIR");
    };
    let mut checkpoint = Checkpoint::load(&state)?;
    let mut engine = engine;
    if let Some(windows) = checkpoint.take_windows() {
        engine.restore_window_state(windows);
    }
    let mut sources = Vec::new();
    for p in &args.paths {
        if p.starts_with("s3://") {
            let s3 = super::open_s3(args, p)?;
            sources.push(Source {
                id: s3.url(),
                watch: Watch::S3(Box::new(s3)),
            });
        } else {
            let path = std::path::Path::new(p);
            if !path.exists() {
                bail!("{p} does not exist (give directories or s3://bucket/prefix to follow)");
            }
            // Canonical, so a restart from another working directory keeps
            // the same checkpoint.
            let root = path
                .canonicalize()
                .with_context(|| format!("could not resolve {p}"))?;
            sources.push(Source {
                id: root.display().to_string(),
                watch: Watch::Local(root),
            });
        }
    }
    let stop = stop_on_signals()?;
    let poll = Duration::from_secs_f64(args.poll_interval);
    let idle_limit = args
        .follow_exit_after_idle
        .map(|s| Duration::from_secs_f64(s.max(0.0)));
    let mut f = Follower {
        args,
        state: state.clone(),
        engine,
        checkpoint,
        sources,
        pending: Vec::new(),
        tally: Tally::default(),
        totals: Default::default(),
        problems: 0,
        emitted: 0,
    };
    eprintln!(
        "following {} (every {:.1}s; checkpoint in {})",
        f.sources
            .iter()
            .map(|s| s.id.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        args.poll_interval,
        state.join("follow.json").display()
    );
    // Identities seen unsettled at the previous listing.
    let mut unsettled: HashMap<String, String> = HashMap::new();
    let mut last_activity = Instant::now();
    // Rule-load diagnostics come out with the first flush.
    f.flush()?;
    'watch: while !stop.load(Ordering::SeqCst) {
        let mut batch = Vec::new();
        let mut waiting = HashMap::new();
        let mut pruned = false;
        for i in 0..f.sources.len() {
            let entries = match list(&f.sources[i], i) {
                Ok(e) => e,
                Err(e) => {
                    // Transient (network, permissions being fixed): try again
                    // at the next poll; the checkpoint is left as it is.
                    eprintln!("warning: {e:#}");
                    continue;
                }
            };
            let id = f.sources[i].id.clone();
            let present: HashSet<&str> = entries.iter().map(|e| e.name.as_str()).collect();
            pruned |= f.checkpoint.retain(&id, &present);
            for e in entries {
                if f.checkpoint.is_done(&id, &e.name, &e.identity) {
                    continue;
                }
                if !e.settled && unsettled.get(&e.name) != Some(&e.identity) {
                    waiting.insert(e.name.clone(), e.identity.clone());
                    continue;
                }
                batch.push(e);
            }
        }
        unsettled = waiting;
        if !batch.is_empty() || !unsettled.is_empty() {
            last_activity = Instant::now();
        }
        if !batch.is_empty() {
            f.read_batch(&batch, &stop)?;
        } else if pruned {
            // Nothing read: rewrite the state only when something was forgotten.
            f.flush()?;
        }
        if idle_limit.is_some_and(|l| last_activity.elapsed() >= l) {
            break;
        }
        let slept = Instant::now();
        while slept.elapsed() < poll {
            if stop.load(Ordering::SeqCst) {
                break 'watch;
            }
            std::thread::sleep(Duration::from_millis(50).min(poll));
        }
    }
    f.flush()?;
    if args.format == DetectFormat::Text && !f.tally.is_empty() {
        print!("\n{}", f.tally.table());
        std::io::stdout().flush()?;
    }
    let s = &f.totals;
    eprintln!(
        "stopped following: {} files, {} CloudTrail events, {} flow records, {} DNS queries ({} Sigma rules); {} findings, {} suppressed; {} input problems",
        s.files,
        s.cloudtrail_events,
        s.flow_records,
        s.dns_queries,
        sigma_rules,
        f.emitted,
        s.suppressed_findings,
        f.problems
    );
    Ok(())
}
