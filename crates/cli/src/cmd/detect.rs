//! `rampart detect`: threat detection over AWS logs (CloudTrail, VPC Flow
//! Logs, Route 53 Resolver query logs), findings named as GuardDuty names
//! them. The engine is `rampart-detect`; this module reads the inputs, loads
//! lists and rules, prints and pushes.

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use rampart_detect::intel::{AwsRanges, ThreatIntel, TrustedList};
use rampart_detect::sigma::RuleSet;
use rampart_detect::suppress::Suppressions;
use rampart_detect::{Diagnostic, DiagnosticKind, Engine, EngineConfig, Finding, Format, Report};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const AFTER_HELP: &str =
    "Inputs are files, directories (read recursively) or - for standard input. Each
file's format is detected: CloudTrail ({\"Records\":[...]} as delivered to S3, JSON
arrays, JSON lines, CloudTrail Lake and Athena exports), VPC Flow Logs (default
or custom format with its header line) and Route 53 Resolver query logs, each
gzipped or not. A bad record is reported with its file and line and skipped.

Examples:
  rampart detect ~/logs/AWSLogs/
  rampart detect cloudtrail.json.gz flows.log.gz --format json > findings.jsonl
  rampart detect AWSLogs/ --threat-list ours.txt --trusted-list scanners.txt
  rampart detect AWSLogs/ --sigma sigma/rules/cloud/aws/cloudtrail --suppress mute.yml
  zcat trail.json.gz | rampart detect - --format-hint cloudtrail
  rampart detect AWSLogs/ --push https://rampart.example.com --token \"$RAMPART_TOKEN\"

List files (--threat-list, --trusted-list): one IP address, CIDR block or domain
per line, # starts a comment. A line `# kind: tor-exit` (or malicious, c2, mining,
blackhole, drop-point, phishing, drive-by, dga, crypto, abused, suspicious) says
what the list holds; without it, matches yield the `.Custom` finding types.

Suppression file (--suppress, YAML):
  rules:
    - reason: Bastion hosts are brute-forced all day
      expires: 2027-06-30
      match: {type: UnauthorizedAccess:EC2/SSHBruteForce, resource: [i-0bastion]}

JSON output: one finding per line with type, severity, account_id, region, count,
first_seen, last_seen, resource {type, id}, evidence {event_ids, principals,
addresses, details}, mitre, remediation, fingerprint. Exit code: 0 whether or
not there are findings, 2 on errors (unreadable input, bad options or rule files).";

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum DetectFormat {
    /// Summary by severity and account, then one line per finding.
    #[default]
    Text,
    /// One finding per line (JSON lines) on stdout.
    Json,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatHint {
    Cloudtrail,
    Vpcflow,
    Route53,
}

/// Arguments of `rampart detect`.
#[derive(Args, Debug)]
#[command(after_help = AFTER_HELP)]
pub struct DetectArgs {
    /// Log files or directories; `-` reads standard input.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<String>,
    /// A threat list (IPs, CIDRs, domains); may be given several times.
    #[arg(long = "threat-list", value_name = "FILE")]
    pub threat_lists: Vec<PathBuf>,
    /// A trusted list: activity from these addresses raises nothing.
    #[arg(long = "trusted-list", value_name = "FILE")]
    pub trusted_lists: Vec<PathBuf>,
    /// A directory (or file) of Sigma rules for CloudTrail; may repeat.
    #[arg(long = "sigma", value_name = "DIR")]
    pub sigma: Vec<PathBuf>,
    /// Suppression rules (YAML): matching findings are archived and counted.
    #[arg(long, value_name = "FILE")]
    pub suppress: Option<PathBuf>,
    /// State directory for behavioural baselines (learned API calls per
    /// principal, ports and volumes per instance); silent while learning.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    pub format: DetectFormat,
    /// Read every input as this format instead of detecting it.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format_hint: Option<FormatHint>,
    /// AWS's ip-ranges.json, to refresh the built-in AWS address ranges.
    #[arg(long, value_name = "FILE")]
    pub aws_ip_ranges: Option<PathBuf>,
    /// Also print suppressed (archived) findings.
    #[arg(long)]
    pub show_suppressed: bool,
    /// Send the findings to a Rampart server (needs --token).
    #[arg(long, value_name = "URL", requires = "token")]
    pub push: Option<String>,
    /// API token with the findings:write scope, for --push.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "RAMPART_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// Print every input problem, not only the first 20.
    #[arg(long, short)]
    pub verbose: bool,
}

pub fn run(args: DetectArgs) -> Result<ExitCode> {
    match detect(&args) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("error: {e:#}");
            Ok(ExitCode::from(2))
        }
    }
}

fn read(path: &Path, what: &str) -> Result<String> {
    std::fs::read_to_string(path)
        .with_context(|| format!("could not read the {what} {}", path.display()))
}

fn config(args: &DetectArgs, load_diags: &mut Vec<Diagnostic>) -> Result<EngineConfig> {
    let mut intel = ThreatIntel::builtin();
    for f in &args.threat_lists {
        intel.add_list(
            &f.display().to_string(),
            &read(f, "threat list")?,
            load_diags,
        );
    }
    let mut trusted = TrustedList::default();
    for f in &args.trusted_lists {
        trusted.add_list(
            &f.display().to_string(),
            &read(f, "trusted list")?,
            load_diags,
        );
    }
    let aws = match &args.aws_ip_ranges {
        Some(f) => AwsRanges::from_ip_ranges_json(&read(f, "AWS ip-ranges file")?)
            .with_context(|| format!("{} is not AWS's ip-ranges.json", f.display()))?,
        None => AwsRanges::builtin(),
    };
    let mut sigma = RuleSet::default();
    for dir in &args.sigma {
        sigma
            .load_dir(dir, load_diags)
            .with_context(|| format!("could not read the Sigma rules in {}", dir.display()))?;
    }
    let suppressions = match &args.suppress {
        Some(f) => Suppressions::load(&f.display().to_string(), &read(f, "suppression file")?)?,
        None => Suppressions::default(),
    };
    let format_hint = args.format_hint.map(|h| match h {
        FormatHint::Cloudtrail => Format::CloudTrail,
        FormatHint::Vpcflow => Format::VpcFlow,
        FormatHint::Route53 => Format::Route53,
    });
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    Ok(EngineConfig {
        intel,
        trusted,
        aws,
        sigma,
        suppressions,
        format_hint,
        now,
        baseline: None,
    })
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        entries.sort();
        for e in entries {
            collect(&e, out)?;
        }
    } else {
        out.push(path.to_path_buf());
    }
    Ok(())
}

fn detect(args: &DetectArgs) -> Result<()> {
    let mut load_diags = Vec::new();
    let mut cfg = config(args, &mut load_diags)?;
    if let Some(dir) = &args.state {
        cfg.baseline = Some(rampart_detect::baseline::Baseline::load(dir)?);
    }
    let sigma_rules = cfg.sigma.len();
    let cfg = std::sync::Arc::new(cfg);
    let mut engine = Engine::shared(cfg.clone());
    for d in load_diags {
        engine.add_diagnostic(d);
    }
    let mut files = Vec::new();
    for p in &args.paths {
        if p == "-" {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .context("could not read standard input")?;
            engine.process_bytes("<stdin>", &buf);
            continue;
        }
        if p.starts_with("s3://") {
            bail!(
                "S3 input ({p}) is not supported in this build yet; copy the objects first (aws s3 sync {p} ./logs) and pass the directory"
            );
        }
        let path = Path::new(p);
        if !path.exists() {
            bail!("{p} does not exist (give log files, directories, or - for standard input)");
        }
        collect(path, &mut files).with_context(|| format!("could not list {p}"))?;
    }
    // One engine per core; files of one account and region go to the same
    // engine so that its threshold windows see all of that activity.
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    engine.absorb(rampart_detect::run_files(cfg, files, workers));
    let report = engine.finish();
    print_report(args, &report, sigma_rules)?;
    if let (Some(dir), Some(b)) = (&args.state, &report.baseline) {
        b.save(dir)?;
        let days = match (b.first_event, b.last_event) {
            (Some(a), Some(z)) => (z - a) as f64 / 86_400.0,
            _ => 0.0,
        };
        if b.mature() {
            eprintln!(
                "baseline in {}: {} principals, {} instances, {days:.1} days of activity",
                dir.display(),
                b.principals.len(),
                b.instances.len()
            );
        } else {
            eprintln!(
                "baseline in {}: learning ({days:.1} of {} days of activity seen; anomaly findings start after that)",
                dir.display(),
                rampart_detect::baseline::LEARNING_SECS / 86_400
            );
        }
    }
    if let (Some(url), Some(token)) = (&args.push, &args.token) {
        let batch: Vec<_> = report
            .findings
            .iter()
            .map(Finding::to_new_finding)
            .collect();
        let summary = crate::push::push_findings(url, token, &batch)
            .with_context(|| format!("could not push the findings to {url}"))?;
        eprintln!(
            "pushed {} findings to {url}: {} new, {} seen before",
            batch.len(),
            summary.created,
            summary.updated
        );
    }
    let unsupported = report
        .diagnostics
        .iter()
        .any(|d| d.kind == DiagnosticKind::Unsupported);
    if report.stats.files > 0 && report.stats.unreadable_files == report.stats.files {
        bail!(
            "none of the {} input files could be read",
            report.stats.files
        );
    }
    if unsupported {
        eprintln!("warning: some Sigma rules were not loaded (listed above)");
    }
    Ok(())
}

fn print_report(args: &DetectArgs, report: &Report, sigma_rules: usize) -> Result<()> {
    let stderr = std::io::stderr();
    let mut err = stderr.lock();
    let shown = if args.verbose { usize::MAX } else { 20 };
    for d in report.diagnostics.iter().take(shown) {
        writeln!(err, "warning: {d}")?;
    }
    if report.diagnostics.len() > shown {
        writeln!(
            err,
            "warning: … and {} more input problems (use --verbose to see them all)",
            report.diagnostics.len() - shown
        )?;
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let extra: &[Finding] = if args.show_suppressed {
        &report.suppressed
    } else {
        &[]
    };
    match args.format {
        DetectFormat::Json => {
            for f in report.findings.iter().chain(extra) {
                serde_json::to_writer(&mut out, f)?;
                out.write_all(b"\n")?;
            }
        }
        DetectFormat::Text => write!(
            out,
            "{}",
            text_report(report, extra, std::io::stdout().is_terminal())
        )?,
    }
    out.flush()?;
    let s = &report.stats;
    writeln!(
        err,
        "{} files, {} CloudTrail events, {} flow records, {} DNS queries ({} Sigma rules); {} findings, {} suppressed; {} input problems",
        s.files,
        s.cloudtrail_events,
        s.flow_records,
        s.dns_queries,
        sigma_rules,
        s.findings,
        s.suppressed_findings,
        report.diagnostics.len()
    )?;
    Ok(())
}

/// The text report: counts by account and severity, then one line per finding.
pub fn text_report(report: &Report, extra: &[Finding], _color: bool) -> String {
    use rampart_core::Severity;
    let mut out = String::new();
    if report.findings.is_empty() && extra.is_empty() {
        out.push_str("No findings.\n");
        return out;
    }
    let mut by_account: BTreeMap<&str, [u64; 5]> = BTreeMap::new();
    for f in &report.findings {
        let row = by_account.entry(f.account_id.as_str()).or_default();
        let i = Severity::ALL
            .iter()
            .position(|s| *s == f.severity)
            .unwrap_or(4);
        row[i] += 1;
    }
    out.push_str(&format!(
        "{:<14} {:>8} {:>6} {:>6} {:>6} {:>6}\n",
        "ACCOUNT", "CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"
    ));
    for (acct, row) in &by_account {
        let name = if acct.is_empty() { "(unknown)" } else { acct };
        out.push_str(&format!(
            "{:<14} {:>8} {:>6} {:>6} {:>6} {:>6}\n",
            name, row[0], row[1], row[2], row[3], row[4]
        ));
    }
    out.push('\n');
    for f in report.findings.iter().chain(extra) {
        out.push_str(&format!(
            "{:<8} {} {} {}/{} ×{} {}…{}{}\n",
            f.severity.as_str().to_uppercase(),
            f.type_name,
            f.resource.id,
            if f.account_id.is_empty() {
                "-"
            } else {
                &f.account_id
            },
            if f.region.is_empty() { "-" } else { &f.region },
            f.count,
            f.first_seen,
            f.last_seen,
            f.suppressed_by
                .as_ref()
                .map(|r| format!(" [suppressed: {r}]"))
                .unwrap_or_default(),
        ));
        let who: Vec<&str> = f
            .evidence
            .principals
            .iter()
            .chain(&f.evidence.addresses)
            .map(String::as_str)
            .take(3)
            .collect();
        if !who.is_empty() {
            out.push_str(&format!("         by {}\n", who.join(", ")));
        }
    }
    if !report.suppressed.is_empty() && extra.is_empty() {
        out.push_str(&format!(
            "\n{} suppressed findings not shown (--show-suppressed lists them)\n",
            report.suppressed.len()
        ));
    }
    out
}
