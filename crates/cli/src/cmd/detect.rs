//! `rampart detect`: threat detection over AWS logs (CloudTrail, VPC Flow
//! Logs, Route 53 Resolver query logs), findings named as GuardDuty names
//! them. The engine is `rampart-detect`; this module reads the inputs, loads
//! lists and rules, prints and pushes.

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use rampart_detect::intel::{AwsRanges, ThreatIntel, TrustedList};
use rampart_detect::s3::{S3Options, S3Source};
use rampart_detect::sigma::RuleSet;
use rampart_detect::suppress::Suppressions;
use rampart_detect::{
    Diagnostic, DiagnosticKind, Engine, EngineConfig, Finding, Format, Input, Report,
};
use std::collections::{BTreeMap, HashMap};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod follow;

const AFTER_HELP: &str =
    "Inputs are files, directories (read recursively), s3://bucket/prefix (every
object under the prefix) or - for standard input. Each file's or object's format
is detected: CloudTrail ({\"Records\":[...]} as delivered to S3, JSON arrays, JSON
lines, CloudTrail Lake and Athena exports), VPC Flow Logs (default or custom
format with its header line) and Route 53 Resolver query logs, each gzipped or
not. A bad record is reported with its file (or object key) and line and skipped.

Examples:
  rampart detect ~/logs/AWSLogs/
  rampart detect cloudtrail.json.gz flows.log.gz --format json > findings.jsonl
  rampart detect AWSLogs/ --threat-list ours.txt --trusted-list scanners.txt
  rampart detect AWSLogs/ --geoip GeoLite2-City.mmdb
  rampart detect AWSLogs/ --sigma sigma/rules/cloud/aws/cloudtrail --suppress mute.yml
  zcat trail.json.gz | rampart detect - --format-hint cloudtrail
  rampart detect AWSLogs/ --push https://rampart.example.com --token \"$RAMPART_TOKEN\"
  rampart detect s3://my-trail-bucket/AWSLogs/ --s3-region eu-west-1
  rampart detect s3://logs/AWSLogs/ AWSLogs/ --follow --state /var/lib/rampart/detect

S3: credentials from the profile --aws-profile NAME if given; else from
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN; else from profile
AWS_PROFILE (or default) of ~/.aws/config and ~/.aws/credentials (static keys,
role_arn with source_profile or credential_source, credential_process; STS at
AWS_ENDPOINT_URL_STS or AWS_ENDPOINT_URL if set); else web identity, container or
instance credentials. Region from
--s3-region, AWS_REGION, AWS_DEFAULT_REGION or the profile; endpoint from
--s3-endpoint, AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL (MinIO, moto, ...).

--follow keeps watching the directories and prefixes, listing them every
--poll-interval seconds, and reads each new file or object once; the checkpoint
in --state DIR (follow.json) makes a restart neither miss nor repeat one.
Ctrl-C or SIGTERM stops after the current file, with exit code 0.

Geolocation (--geoip FILE) turns on UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B:
two successful console logins of one user (root, IAM or federated) within an hour
from places one person cannot be in (over 500 km apart, faster than 1000 km/h; with
country data only, two countries). Rampart ships no geolocation data. Get either
  - MaxMind GeoLite2-City or GeoLite2-Country (.mmdb), free with a MaxMind account
    at maxmind.com (GeoLite2 licence), or DB-IP's lite .mmdb (CC BY 4.0); or
  - a file of the ip-location-db project (github.com/sapics/ip-location-db): the
    CC0 geo-whois-asn-country files (.mmdb or CSV), or dbip-city-ipv4.csv.gz and
    dbip-city-ipv6.csv.gz (CC BY 4.0) for cities.
Private addresses are never located. A missing or damaged file stops the run (exit 2).

List files (--threat-list, --trusted-list): one IP address, CIDR block or domain
per line, # starts a comment. A line `# kind: tor-exit` (or tor-relay, malicious, c2, mining,
blackhole, drop-point, phishing, drive-by, dga, crypto, abused, suspicious) says
what the list holds; without it, matches yield the `.Custom` finding types.

Suppression file (--suppress, YAML):
  rules:
    - reason: Bastion hosts are brute-forced all day
      expires: 2027-06-30
      match: {type: UnauthorizedAccess:EC2/SSHBruteForce, resource: [i-0bastion]}

JSON output: one finding per line, grouped by account (account_id order, worst
severity first within an account), with type, severity, account_id, region, count,
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
    /// Log files, directories or s3://bucket/prefix; `-` reads standard input.
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
    /// A geolocation database, which turns on
    /// UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B (one user's console
    /// logins from distant places within an hour). A MaxMind DB file
    /// (GeoLite2-City.mmdb or GeoLite2-Country.mmdb, free with a MaxMind
    /// account; DB-IP's lite .mmdb) or an ip-location-db file (.mmdb or CSV,
    /// gzipped or not: the CC0 geo-whois-asn-country files, or the CC BY 4.0
    /// dbip-city-ipv4/ipv6 files for city coordinates). City data is
    /// compared by distance and speed, country data by country.
    #[arg(long, value_name = "FILE")]
    pub geoip: Option<PathBuf>,
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
    /// S3-compatible endpoint for s3:// inputs (MinIO, moto, a VPC endpoint);
    /// default AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else AWS's.
    #[arg(long, value_name = "URL")]
    pub s3_endpoint: Option<String>,
    /// Region of the s3:// buckets; default AWS_REGION, AWS_DEFAULT_REGION,
    /// the profile's, else us-east-1.
    #[arg(long, value_name = "REGION")]
    pub s3_region: Option<String>,
    /// The AWS profile (of ~/.aws/config and ~/.aws/credentials) for the
    /// s3:// inputs, as the AWS CLI's --profile: it wins over AWS_PROFILE and
    /// over keys in the environment.
    #[arg(long, value_name = "NAME")]
    pub aws_profile: Option<String>,
    /// Keep watching directories and s3:// prefixes, reading each new file or
    /// object once (needs --state for the checkpoint).
    #[arg(long)]
    pub follow: bool,
    /// With --follow: seconds between listings.
    #[arg(long, value_name = "SECS", default_value_t = 30.0, requires = "follow")]
    pub poll_interval: f64,
    /// With --follow: exit 0 once SECS pass without a new input (tests, batch jobs).
    #[arg(long, value_name = "SECS", hide = true, requires = "follow")]
    pub follow_exit_after_idle: Option<f64>,
}

pub fn run(args: DetectArgs) -> Result<ExitCode> {
    // The command is synchronous but is called inside the binary's tokio
    // runtime; the S3 client and the signal handler start small runtimes
    // of their own, which tokio refuses on a runtime thread. A plain thread
    // keeps them apart.
    let outcome = std::thread::scope(|s| {
        s.spawn(|| detect(&args))
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    });
    match outcome {
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
    // A file given but unusable stops the run (exit 2): the user asked for
    // the detection, and a silent run would look like "nothing found".
    let geoip = match &args.geoip {
        Some(f) => Some(std::sync::Arc::new(rampart_detect::geoip::GeoIp::open(f)?)),
        None => None,
    };
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
        geoip,
    })
}

pub(crate) fn collect(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
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

pub(crate) fn open_s3(args: &DetectArgs, url: &str) -> Result<S3Source> {
    let mut aws_env = rampart_detect::s3::AwsEnvironment::from_process();
    if let Some(p) = &args.aws_profile {
        aws_env = aws_env.with_profile(p);
    }
    Ok(S3Source::open_in(
        url,
        &S3Options {
            endpoint: args.s3_endpoint.clone(),
            region: args.s3_region.clone(),
            credentials: None,
        },
        &aws_env,
    )?)
}

/// The S3 sources of a run and which source and key each object name is.
#[derive(Default)]
struct S3Inputs {
    sources: Vec<S3Source>,
    by_name: HashMap<String, (usize, String)>,
}

impl S3Inputs {
    /// Bytes of a local file or listed object, or why not (a diagnostic).
    fn read(&self, name: &str) -> std::result::Result<Vec<u8>, String> {
        match self.by_name.get(name) {
            Some((i, key)) => self.sources[*i].get(key).map_err(|e| e.to_string()),
            None => std::fs::read(name).map_err(|e| format!("cannot read: {e}")),
        }
    }
}

fn detect(args: &DetectArgs) -> Result<()> {
    if args.follow {
        follow::check_args(args)?;
    }
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
    if args.follow {
        return follow::run(args, engine, sigma_rules);
    }
    let mut files = Vec::new();
    let mut s3 = S3Inputs::default();
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
            let src = open_s3(args, p)?;
            let objects = src.list()?;
            if objects.is_empty() {
                eprintln!(
                    "warning: no objects under {} (a prefix is a folder: s3://b/AWSLogs/1 does not match AWSLogs/123…)",
                    src.url()
                );
            }
            let i = s3.sources.len();
            for o in objects {
                files.push(Input {
                    name: o.name.clone(),
                    size: o.size,
                });
                s3.by_name.insert(o.name, (i, o.key));
            }
            s3.sources.push(src);
            continue;
        }
        let path = Path::new(p);
        if !path.exists() {
            bail!(
                "{p} does not exist (give log files, directories, s3://bucket/prefix, or - for standard input)"
            );
        }
        let mut found = Vec::new();
        collect(path, &mut found).with_context(|| format!("could not list {p}"))?;
        files.extend(found.into_iter().map(|f| Input {
            size: std::fs::metadata(&f).map(|m| m.len()).unwrap_or(0),
            name: f.display().to_string(),
        }));
    }
    // One engine per core; files of one account and region go to the same
    // engine so that its threshold windows see all of that activity.
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    engine.absorb(rampart_detect::run_inputs(
        cfg,
        files,
        workers,
        &|name: &str| s3.read(name),
    ));
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
    for n in &report.notices {
        writeln!(err, "note: {n}")?;
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
            for f in ordered(&report.findings, extra) {
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

/// Findings and the shown suppressed ones in report order
/// ([`Finding::report_order`]).
fn ordered<'a>(findings: &'a [Finding], extra: &'a [Finding]) -> Vec<&'a Finding> {
    let mut v: Vec<&Finding> = findings.iter().chain(extra).collect();
    v.sort_by(|a, b| a.report_order().cmp(&b.report_order()));
    v
}

/// Counts of findings per account and severity (Critical … Info).
#[derive(Default)]
pub(crate) struct Tally(BTreeMap<String, [u64; 5]>);

impl Tally {
    pub(crate) fn add(&mut self, f: &Finding) {
        use rampart_core::Severity;
        let row = self.0.entry(f.account_id.clone()).or_default();
        let i = Severity::ALL
            .iter()
            .position(|s| *s == f.severity)
            .unwrap_or(4);
        row[i] += 1;
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The summary table: one row per account, a total row when there are
    /// several accounts.
    pub(crate) fn table(&self) -> String {
        let mut out = format!(
            "{:<14} {:>8} {:>6} {:>6} {:>6} {:>6} {:>6}\n",
            "ACCOUNT", "CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO", "TOTAL"
        );
        let mut total = [0u64; 5];
        let row = |name: &str, r: &[u64; 5]| {
            format!(
                "{:<14} {:>8} {:>6} {:>6} {:>6} {:>6} {:>6}\n",
                name,
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r.iter().sum::<u64>()
            )
        };
        for (acct, r) in &self.0 {
            let name = if acct.is_empty() { "(unknown)" } else { acct };
            out.push_str(&row(name, r));
            for (t, v) in total.iter_mut().zip(r) {
                *t += v;
            }
        }
        if self.0.len() > 1 {
            out.push_str(&row("all accounts", &total));
        }
        out
    }
}

/// One line per finding (and who, when known); with `headers`, an
/// `Account …` line before each account's findings.
pub(crate) fn finding_lines<'a>(
    findings: impl IntoIterator<Item = &'a Finding>,
    headers: bool,
) -> String {
    let mut out = String::new();
    let mut account: Option<&str> = None;
    for f in findings {
        if headers && account != Some(f.account_id.as_str()) {
            if account.is_some() {
                out.push('\n');
            }
            account = Some(f.account_id.as_str());
            let name = if f.account_id.is_empty() {
                "(unknown)"
            } else {
                &f.account_id
            };
            out.push_str(&format!("Account {name}\n"));
        }
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
    out
}

/// The text report: counts by account and severity, then one line per
/// finding, grouped by account.
pub fn text_report(report: &Report, extra: &[Finding], _color: bool) -> String {
    let mut out = String::new();
    if report.findings.is_empty() && extra.is_empty() {
        out.push_str("No findings.\n");
        return out;
    }
    let mut tally = Tally::default();
    for f in &report.findings {
        tally.add(f);
    }
    out.push_str(&tally.table());
    out.push('\n');
    let list = ordered(&report.findings, extra);
    let accounts = list
        .iter()
        .map(|f| f.account_id.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    out.push_str(&finding_lines(list, accounts > 1));
    if !report.suppressed.is_empty() && extra.is_empty() {
        out.push_str(&format!(
            "\n{} suppressed findings not shown (--show-suppressed lists them)\n",
            report.suppressed.len()
        ));
    }
    out
}
