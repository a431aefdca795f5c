//! Inputs: directory trees and files (parallel, `.gitignore`-aware), one
//! buffer (stdin), the staged change of a git repository, and a git
//! repository's whole history (each distinct blob once).
//!
//! Git is driven through its plumbing (`git diff --cached`, `git log --raw`,
//! `git cat-file --batch`): it is on every machine that has a repository,
//! and its object store is faster read by git itself than re-implemented.

use crate::Error;
use crate::archive::{self, ArchiveLimits};
use crate::engine::{Scanner, looks_binary};
use crate::finding::{CommitInfo, Finding};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Default largest file scanned: larger files are reported and skipped.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

/// How to walk and read.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Scan what `.gitignore`/`.ignore`/`.rampartignore` exclude, too.
    pub no_ignore: bool,
    pub max_file_size: u64,
    /// Worker threads; 0 picks one per core.
    pub threads: usize,
    /// Look inside zip/jar/tar/gzip files (`--archives`), within these
    /// limits; `None` skips archives as binary files.
    pub archives: Option<ArchiveLimits>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            no_ignore: false,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            threads: 0,
            archives: None,
        }
    }
}

/// Why a file was not scanned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum SkipReason {
    Binary,
    TooLarge { size: u64, limit: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub path: String,
    #[serde(flatten)]
    pub reason: SkipReason,
}

/// A problem that did not stop the scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub path: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stats {
    pub files: u64,
    pub bytes: u64,
    /// Commits read (`--git-history`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commits: Option<u64>,
    pub elapsed_ms: u64,
}

/// Everything a scan produced.
#[derive(Debug, Default, Serialize)]
pub struct ScanReport {
    pub findings: Vec<Finding>,
    pub skipped: Vec<Skipped>,
    pub warnings: Vec<Warning>,
    pub stats: Stats,
}

impl ScanReport {
    fn sort(&mut self) {
        self.findings.sort_by(|a, b| {
            (&a.path, a.line, a.column, &a.rule_id).cmp(&(&b.path, b.line, b.column, &b.rule_id))
        });
        self.skipped.sort_by(|a, b| a.path.cmp(&b.path));
        self.warnings.sort_by(|a, b| a.path.cmp(&b.path));
    }
}

/// Sets the worker count for history and staged scans (the rayon pool).
/// Only the first call in a process takes effect.
pub fn set_global_threads(n: usize) {
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global();
}

/// Called with the number of bytes just scanned (for progress bars).
pub type Progress<'a> = &'a (dyn Fn(u64) + Sync);

#[derive(Default)]
struct Collector {
    findings: Mutex<Vec<Finding>>,
    skipped: Mutex<Vec<Skipped>>,
    warnings: Mutex<Vec<Warning>>,
    files: AtomicU64,
    bytes: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic in another worker leaves the data intact; keep collecting.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Collector {
    fn warn(&self, path: &str, message: String) {
        lock(&self.warnings).push(Warning {
            path: path.to_owned(),
            message,
        });
    }
    fn skip(&self, path: &str, reason: SkipReason) {
        lock(&self.skipped).push(Skipped {
            path: path.to_owned(),
            reason,
        });
    }
    fn found(&self, mut f: Vec<Finding>) {
        if !f.is_empty() {
            lock(&self.findings).append(&mut f);
        }
    }
    fn into_report(self, started: Instant) -> ScanReport {
        let mut report = ScanReport {
            findings: self
                .findings
                .into_inner()
                .unwrap_or_else(|p| p.into_inner()),
            skipped: self.skipped.into_inner().unwrap_or_else(|p| p.into_inner()),
            warnings: self
                .warnings
                .into_inner()
                .unwrap_or_else(|p| p.into_inner()),
            stats: Stats {
                files: self.files.into_inner(),
                bytes: self.bytes.into_inner(),
                commits: None,
                elapsed_ms: started.elapsed().as_millis() as u64,
            },
        };
        report.sort();
        report
    }
}

/// Scans one in-memory input (stdin, a test string).
pub fn scan_buffer(scanner: &Scanner, path: &str, data: &[u8]) -> ScanReport {
    let started = Instant::now();
    let c = Collector::default();
    c.files.store(1, Ordering::Relaxed);
    c.bytes.store(data.len() as u64, Ordering::Relaxed);
    if looks_binary(data) {
        c.warn(path, "contains NUL bytes; scanned as bytes".into());
    }
    scan_text(scanner, path, data, &c);
    c.into_report(started)
}

/// Forward slashes, no leading `./`.
fn display_path(p: &Path) -> String {
    let s = p.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_owned).unwrap_or(s)
}

/// Scans files and directory trees in parallel.
pub fn scan_paths(
    scanner: &Scanner,
    roots: &[PathBuf],
    opts: &ScanOptions,
    progress: Progress<'_>,
) -> Result<ScanReport, Error> {
    let started = Instant::now();
    let Some((first, rest)) = roots.split_first() else {
        return Ok(ScanReport::default());
    };
    for root in roots {
        if !root.exists() {
            return Err(Error::Input {
                path: display_path(root),
                message: "no such file or directory".into(),
            });
        }
    }
    // With a single directory, paths are reported relative to it, so a
    // baseline made with `scan /ci/checkout` matches one made with `scan .`.
    let strip: Option<PathBuf> = (roots.len() == 1 && first.is_dir()).then(|| first.clone());
    let mut builder = ignore::WalkBuilder::new(first);
    for r in rest {
        builder.add(r);
    }
    let use_ignore = !opts.no_ignore;
    builder
        .hidden(false)
        .git_ignore(use_ignore)
        .git_global(use_ignore)
        .git_exclude(use_ignore)
        .ignore(use_ignore)
        .parents(use_ignore)
        .require_git(false)
        .follow_links(false)
        .threads(opts.threads)
        .filter_entry(|e| e.file_name() != ".git");
    if use_ignore {
        builder.add_custom_ignore_filename(".rampartignore");
    }
    let collector = Collector::default();
    let limits = FileLimits {
        max_file_size: opts.max_file_size,
        archives: opts.archives,
    };
    builder.build_parallel().run(|| {
        let collector = &collector;
        let strip = strip.clone();
        let mut buf: Vec<u8> = Vec::new();
        Box::new(move |entry| {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    collector.warn("", format!("could not walk: {e}"));
                    return ignore::WalkState::Continue;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return ignore::WalkState::Continue;
            }
            let shown = match &strip {
                Some(root) => entry.path().strip_prefix(root).unwrap_or(entry.path()),
                None => entry.path(),
            };
            let shown = display_path(shown);
            if scanner.path_allowed(&shown) {
                return ignore::WalkState::Continue;
            }
            scan_file(
                scanner,
                entry.path(),
                &shown,
                limits,
                &mut buf,
                collector,
                progress,
            );
            ignore::WalkState::Continue
        })
    });
    Ok(collector.into_report(started))
}

#[derive(Debug, Clone, Copy)]
struct FileLimits {
    max_file_size: u64,
    archives: Option<ArchiveLimits>,
}

/// Names that may be archives: with `--archives` they may be as large as
/// the archive budget rather than the per-file limit.
fn archive_name(path: &str) -> bool {
    const EXTENSIONS: &[&str] = &[
        ".zip", ".jar", ".war", ".ear", ".apk", ".aar", ".whl", ".egg", ".nupkg", ".vsix", ".xpi",
        ".tar", ".tgz", ".gz",
    ];
    let lower = path.to_ascii_lowercase();
    EXTENSIONS.iter().any(|e| lower.ends_with(e))
}

fn scan_file(
    scanner: &Scanner,
    path: &Path,
    shown: &str,
    limits: FileLimits,
    buf: &mut Vec<u8>,
    c: &Collector,
    progress: Progress<'_>,
) {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return c.warn(shown, format!("could not open: {e}")),
    };
    let max = match limits.archives {
        Some(a) if archive_name(shown) => limits.max_file_size.max(a.max_total_bytes),
        _ => limits.max_file_size,
    };
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size > max {
        return c.skip(shown, SkipReason::TooLarge { size, limit: max });
    }
    buf.clear();
    // `take` bounds memory even if the file grows while we read it.
    if let Err(e) = (&mut file).take(max + 1).read_to_end(buf) {
        return c.warn(shown, format!("could not read: {e}"));
    }
    if buf.len() as u64 > max {
        return c.skip(
            shown,
            SkipReason::TooLarge {
                size: buf.len() as u64,
                limit: max,
            },
        );
    }
    c.files.fetch_add(1, Ordering::Relaxed);
    c.bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
    progress(buf.len() as u64);
    if let Some(archive_limits) = limits.archives
        && let Some(kind) = archive::archive_kind(buf)
    {
        let mut sink = ArchiveSink { scanner, c };
        return archive::expand(
            shown,
            buf,
            kind,
            archive_limits,
            limits.max_file_size,
            &mut sink,
        );
    }
    if buf.len() as u64 > limits.max_file_size {
        // Only archives may exceed the per-file limit.
        return c.skip(
            shown,
            SkipReason::TooLarge {
                size: buf.len() as u64,
                limit: limits.max_file_size,
            },
        );
    }
    if looks_binary(buf) {
        return c.skip(shown, SkipReason::Binary);
    }
    scan_text(scanner, shown, buf, c);
}

/// Scans one text input, warning when it is not UTF-8: the scan still runs
/// on its bytes, but a secret in another encoding (UTF-16) can be missed,
/// and the warning says which file to look at.
fn scan_text(scanner: &Scanner, shown: &str, data: &[u8], c: &Collector) {
    if let Err(e) = std::str::from_utf8(data) {
        c.warn(
            shown,
            format!(
                "not valid UTF-8 (first bad byte at offset {}); scanned as bytes",
                e.valid_up_to()
            ),
        );
    }
    c.found(scanner.scan(shown, data));
}

/// Files found inside an archive go through the same path checks and scan
/// as files on disk; binary members (classes, images) are passed over
/// without a skip entry each, since a jar holds thousands.
struct ArchiveSink<'a> {
    scanner: &'a Scanner,
    c: &'a Collector,
}

impl archive::Sink for ArchiveSink<'_> {
    fn entry(&mut self, entry: archive::Entry<'_>) {
        self.c.files.fetch_add(1, Ordering::Relaxed);
        if self.scanner.path_allowed(entry.path) || looks_binary(entry.data) {
            return;
        }
        scan_text(self.scanner, entry.path, entry.data, self.c);
    }
    fn warn(&mut self, path: &str, message: String) {
        self.c.warn(path, message);
    }
    fn too_large(&mut self, path: &str, size: u64, limit: u64) {
        self.c.skip(path, SkipReason::TooLarge { size, limit });
    }
}

fn git(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(dir)
        .args(["-c", "core.quotepath=off", "-c", "diff.noprefix=false"])
        // git maps pack files in windows of up to 1 GiB by default; smaller
        // windows keep the resident memory of a history scan bounded
        // whatever the size of the repository.
        .args([
            "-c",
            "core.packedGitWindowSize=32m",
            "-c",
            "core.packedGitLimit=192m",
        ])
        .args(["-c", "core.deltaBaseCacheLimit=64m"])
        .stdin(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

fn git_failed(what: &str, output: &std::process::Output) -> Error {
    Error::Git {
        message: format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ),
    }
}

fn spawn_error(e: std::io::Error) -> Error {
    Error::Git {
        message: format!("could not run git ({e}); install git or put it on PATH"),
    }
}

/// Undoes git's C-style quoting of unusual path names.
fn unquote(path: &str) -> String {
    let Some(inner) = path.strip_prefix('"').and_then(|p| p.strip_suffix('"')) else {
        return path.to_owned();
    };
    let bytes = inner.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 1 < bytes.len() {
            let next = bytes[i + 1];
            if next.is_ascii_digit() && i + 3 < bytes.len() + 1 && i + 4 <= bytes.len() {
                let oct = std::str::from_utf8(&bytes[i + 1..i + 4])
                    .ok()
                    .and_then(|o| u8::from_str_radix(o, 8).ok());
                if let Some(b) = oct {
                    out.push(b);
                    i += 4;
                    continue;
                }
            }
            out.push(match next {
                b'n' => b'\n',
                b't' => b'\t',
                b'r' => b'\r',
                other => other,
            });
            i += 2;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The lines a staged change adds, per file, with their line numbers.
#[derive(Debug, Default, PartialEq)]
pub struct AddedLines {
    pub path: String,
    pub lines: Vec<(usize, Vec<u8>)>,
}

/// Parses `git diff --cached --unified=0` output.
pub fn parse_added_lines(diff: &[u8]) -> Vec<AddedLines> {
    let mut files: Vec<AddedLines> = Vec::new();
    let mut current: Option<AddedLines> = None;
    let mut in_hunk = false;
    let mut line_no = 0usize;
    for raw in diff.split(|&b| b == b'\n') {
        if raw.starts_with(b"diff --git ") {
            if let Some(f) = current.take() {
                files.push(f);
            }
            in_hunk = false;
            continue;
        }
        if !in_hunk && let Some(rest) = raw.strip_prefix(b"+++ ") {
            let name = String::from_utf8_lossy(rest);
            let name = unquote(name.trim_end_matches('\r'));
            current = name.strip_prefix("b/").map(|p| AddedLines {
                path: p.to_owned(),
                lines: Vec::new(),
            });
            continue;
        }
        if let Some(rest) = raw.strip_prefix(b"@@ ") {
            in_hunk = true;
            // "@@ -a,b +c,d @@": the added side starts at line c.
            let text = String::from_utf8_lossy(rest);
            line_no = text
                .split_whitespace()
                .find_map(|t| t.strip_prefix('+'))
                .and_then(|t| t.split(',').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            continue;
        }
        if !in_hunk {
            continue;
        }
        if let Some(added) = raw.strip_prefix(b"+") {
            if let Some(f) = current.as_mut() {
                f.lines.push((line_no, added.to_vec()));
            }
            line_no += 1;
        } else if raw.starts_with(b" ") {
            line_no += 1;
        }
    }
    if let Some(f) = current.take() {
        files.push(f);
    }
    files.retain(|f| !f.lines.is_empty());
    files
}

/// Scans only the lines added in the index against HEAD (pre-commit).
pub fn scan_staged(scanner: &Scanner, repo: &Path) -> Result<ScanReport, Error> {
    let started = Instant::now();
    let output = git(repo)
        .args([
            "diff",
            "--cached",
            "--unified=0",
            "--no-color",
            "--no-ext-diff",
            "--no-renames",
            "--diff-filter=ACMRT",
            "--src-prefix=a/",
            "--dst-prefix=b/",
        ])
        .output()
        .map_err(spawn_error)?;
    if !output.status.success() {
        return Err(git_failed("git diff --cached", &output));
    }
    let collector = Collector::default();
    let files = parse_added_lines(&output.stdout);
    files.par_iter().for_each(|f| {
        if scanner.path_allowed(&f.path) {
            return;
        }
        let mut buf = Vec::new();
        for (_, l) in &f.lines {
            buf.extend_from_slice(l);
            buf.push(b'\n');
        }
        collector.files.fetch_add(1, Ordering::Relaxed);
        collector
            .bytes
            .fetch_add(buf.len() as u64, Ordering::Relaxed);
        let mut found = scanner.scan(&f.path, &buf);
        for finding in &mut found {
            // Map positions in the joined buffer back to the file's lines.
            let real = |n: usize| f.lines.get(n.saturating_sub(1)).map_or(n, |(l, _)| *l);
            finding.line = real(finding.line);
            finding.end_line = real(finding.end_line);
        }
        collector.found(found);
    });
    Ok(collector.into_report(started))
}

/// Where a blob was first seen.
struct BlobOrigin {
    commit: usize,
    path: String,
}

/// Scans every blob reachable from all refs (or added after `since`),
/// each distinct blob once, attributing findings to the first commit, in
/// topological order, that introduced the blob.
pub fn scan_history(
    scanner: &Scanner,
    repo: &Path,
    since: Option<&str>,
    opts: &ScanOptions,
    progress: Progress<'_>,
) -> Result<ScanReport, Error> {
    let started = Instant::now();
    let mut log = git(repo);
    log.args([
        "log",
        "--all",
        "--topo-order",
        "--reverse",
        "--no-renames",
        "--raw",
        "--no-abbrev",
        "--diff-merges=first-parent",
        "--format=%x01%H%x00%an%x00%ae%x00%aI",
    ]);
    if let Some(rev) = since {
        if rev.starts_with('-') {
            return Err(Error::Git {
                message: format!("--since must name a revision, not an option: {rev}"),
            });
        }
        log.arg(format!("^{rev}"));
    }
    log.stdout(Stdio::piped());
    let mut child = log.spawn().map_err(spawn_error)?;
    let stdout = child.stdout.take().ok_or_else(|| Error::Git {
        message: "git log produced no output stream".into(),
    })?;
    let mut commits: Vec<CommitInfo> = Vec::new();
    let mut blobs: HashMap<String, BlobOrigin> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    for line in BufReader::new(stdout).split(b'\n') {
        let line = line.map_err(|e| Error::Git {
            message: format!("reading git log: {e}"),
        })?;
        if let Some(header) = line.strip_prefix(b"\x01") {
            let text = String::from_utf8_lossy(header);
            let mut parts = text.split('\0');
            commits.push(CommitInfo {
                commit: parts.next().unwrap_or_default().to_owned(),
                author: parts.next().unwrap_or_default().to_owned(),
                email: parts.next().unwrap_or_default().to_owned(),
                date: parts.next().unwrap_or_default().to_owned(),
            });
        } else if line.starts_with(b":") && !commits.is_empty() {
            // ":100644 100644 <old> <new> M\tpath"
            let text = String::from_utf8_lossy(&line);
            let Some((meta, path)) = text.split_once('\t') else {
                continue;
            };
            let fields: Vec<&str> = meta.split(' ').collect();
            if fields.len() < 5 {
                continue;
            }
            let (mode, oid, status) = (fields[1], fields[3], fields[4]);
            let is_file = mode.starts_with("100");
            if !is_file || status.starts_with('D') || oid.bytes().all(|b| b == b'0') {
                continue;
            }
            if !blobs.contains_key(oid) {
                blobs.insert(
                    oid.to_owned(),
                    BlobOrigin {
                        commit: commits.len() - 1,
                        path: unquote(path),
                    },
                );
                order.push(oid.to_owned());
            }
        }
    }
    let status = child.wait().map_err(spawn_error)?;
    if !status.success() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        return Err(Error::Git {
            message: format!("git log failed: {}", err.trim()),
        });
    }
    let collector = Collector::default();
    read_blobs(repo, &order, opts.max_file_size, |oid, data| {
        let Some(origin) = blobs.get(oid) else { return };
        let shown = &origin.path;
        match data {
            BlobData::Missing => {
                collector.warn(shown, format!("git object {oid} is missing or broken"))
            }
            BlobData::TooLarge(size) => collector.skip(
                shown,
                SkipReason::TooLarge {
                    size,
                    limit: opts.max_file_size,
                },
            ),
            BlobData::Bytes(bytes) => {
                collector.files.fetch_add(1, Ordering::Relaxed);
                collector
                    .bytes
                    .fetch_add(bytes.len() as u64, Ordering::Relaxed);
                progress(bytes.len() as u64);
                if looks_binary(&bytes) || scanner.path_allowed(shown) {
                    return;
                }
                let mut found = scanner.scan(shown, &bytes);
                for f in &mut found {
                    f.commit = commits.get(origin.commit).cloned();
                    f.blob = Some(oid.to_owned());
                }
                collector.found(found);
            }
        }
    })?;
    let mut report = collector.into_report(started);
    report.stats.commits = Some(commits.len() as u64);
    // The same secret in several versions of a file: report it once, where
    // it first appeared.
    let rank: HashMap<&str, usize> = commits
        .iter()
        .enumerate()
        .map(|(i, c)| (c.commit.as_str(), i))
        .collect();
    report.findings.sort_by_key(|f| {
        f.commit
            .as_ref()
            .and_then(|c| rank.get(c.commit.as_str()).copied())
            .unwrap_or(usize::MAX)
    });
    let mut seen = std::collections::HashSet::new();
    report
        .findings
        .retain(|f| seen.insert(f.fingerprint.clone()));
    report.sort();
    Ok(report)
}

enum BlobData {
    Bytes(Vec<u8>),
    TooLarge(u64),
    Missing,
}

/// Streams blobs out of `git cat-file --batch` into a bounded channel and
/// scans them on the rayon pool as they arrive, so memory stays at a few
/// blobs per worker whatever the size of the history.
fn read_blobs(
    repo: &Path,
    oids: &[String],
    max: u64,
    each: impl Fn(&str, BlobData) + Sync,
) -> Result<(), Error> {
    let mut child = git(repo)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(spawn_error)?;
    let mut stdin = child.stdin.take().ok_or_else(|| Error::Git {
        message: "git cat-file has no input stream".into(),
    })?;
    let stdout = child.stdout.take().ok_or_else(|| Error::Git {
        message: "git cat-file has no output stream".into(),
    })?;
    let workers = rayon::current_num_threads().max(1);
    let (tx, rx) = std::sync::mpsc::sync_channel::<(String, BlobData)>(workers * 2);
    let result = std::thread::scope(|s| {
        let writer = s.spawn(move || -> std::io::Result<()> {
            let mut w = std::io::BufWriter::new(&mut stdin);
            for oid in oids {
                w.write_all(oid.as_bytes())?;
                w.write_all(b"\n")?;
            }
            w.flush()?;
            drop(w);
            drop(stdin);
            Ok(())
        });
        let reader = s.spawn(move || -> Result<(), Error> {
            let mut r = BufReader::with_capacity(1 << 20, stdout);
            let mut header = Vec::new();
            loop {
                header.clear();
                let n = r.read_until(b'\n', &mut header).map_err(|e| Error::Git {
                    message: format!("reading git cat-file: {e}"),
                })?;
                if n == 0 {
                    break;
                }
                let text = String::from_utf8_lossy(&header);
                let parts: Vec<&str> = text.split_whitespace().collect();
                let oid = parts.first().copied().unwrap_or_default().to_owned();
                if parts.get(1) == Some(&"missing") || parts.len() < 3 {
                    if tx.send((oid, BlobData::Missing)).is_err() {
                        break;
                    }
                    continue;
                }
                let size: u64 = parts[2].parse().unwrap_or(0);
                let data = if size > max {
                    std::io::copy(&mut (&mut r).take(size), &mut std::io::sink()).map_err(|e| {
                        Error::Git {
                            message: format!("reading git cat-file: {e}"),
                        }
                    })?;
                    BlobData::TooLarge(size)
                } else {
                    let mut bytes = Vec::with_capacity(size as usize);
                    (&mut r)
                        .take(size)
                        .read_to_end(&mut bytes)
                        .map_err(|e| Error::Git {
                            message: format!("reading git cat-file: {e}"),
                        })?;
                    BlobData::Bytes(bytes)
                };
                // The newline after each object.
                let mut nl = [0u8; 1];
                let _ = r.read_exact(&mut nl);
                if tx.send((oid, data)).is_err() {
                    break;
                }
            }
            Ok(())
        });
        rx.into_iter()
            .par_bridge()
            .for_each(|(oid, data)| each(&oid, data));
        let w = writer.join();
        let r = reader.join();
        match (w, r) {
            (Ok(Ok(())), Ok(Ok(()))) => Ok(()),
            (_, Ok(Err(e))) => Err(e),
            (Ok(Err(e)), _) => Err(Error::Git {
                message: format!("writing to git cat-file: {e}"),
            }),
            _ => Err(Error::Git {
                message: "a git reader thread stopped unexpectedly".into(),
            }),
        }
    });
    let _ = child.wait();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_added_lines_with_numbers() {
        let diff = b"diff --git a/x.env b/x.env\nnew file mode 100644\nindex 0000000..1111111\n--- /dev/null\n+++ b/x.env\n@@ -0,0 +1,2 @@\n+A=1\n+B=2\ndiff --git a/y.py b/y.py\n--- a/y.py\n+++ b/y.py\n@@ -10,0 +11 @@ def f():\n+    token = 'x'\n@@ -20 +21,0 @@\n-gone\ndiff --git a/z b/z\ndeleted file mode 100644\n--- a/z\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n";
        let files = parse_added_lines(diff);
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].path, "x.env");
        assert_eq!(
            files[0].lines,
            vec![(1, b"A=1".to_vec()), (2, b"B=2".to_vec())]
        );
        assert_eq!(files[1].path, "y.py");
        assert_eq!(files[1].lines, vec![(11, b"    token = 'x'".to_vec())]);
    }

    #[test]
    fn unquotes_git_paths() {
        assert_eq!(unquote("plain.txt"), "plain.txt");
        assert_eq!(unquote("\"b/caf\\303\\251.txt\""), "b/café.txt");
        assert_eq!(unquote("\"a\\\"b\""), "a\"b");
    }
}
