//! `rampart secrets …`: the secrets scanner's command line. The engine is
//! `rampart-secrets`; this module parses arguments, picks the input, renders
//! the output and maps the outcome to exit codes CI can use:
//! 0 no new secret, 1 new secrets found, 2 error.

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use rampart_secrets::archive::ArchiveLimits;
use rampart_secrets::baseline::{Baseline, Verdict};
use rampart_secrets::scan::{self, ScanOptions, ScanReport};
use rampart_secrets::validate::{AwsStsValidator, Validator, validate_findings};
use rampart_secrets::{Confidence, ConfigFile, Finding, Scanner, report};
use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const SCAN_HELP: &str = "\
Examples:
  rampart secrets scan                         the current directory (respects .gitignore)
  rampart secrets scan src config.yml          some paths
  git show HEAD:app.env | rampart secrets scan -      standard input
  rampart secrets scan --staged                the lines a commit would add (pre-commit)
  rampart secrets scan --git-history           every blob in every branch, once
  rampart secrets scan --git-history --since v1.4.0   only what came after a tag
  rampart secrets scan --format sarif > secrets.sarif  for GitHub code scanning
  rampart secrets scan --baseline .rampart-baseline.json   only secrets not yet accepted
  rampart secrets scan --archives dist/        inside jars, wheels, zips and tarballs too
  rampart secrets scan --validate              ask AWS whether found keys work (sends them)
  rampart secrets scan --push https://rampart.acme.io --token \"$RAMPART_TOKEN\"

Suppress one line with a `rampart:allow` comment (`pragma: allowlist secret` and
`gitleaks:allow` work too). Exit codes: 0 no new secret, 1 new secrets found, 2 error.";

/// `rampart secrets`.
#[derive(Subcommand, Debug)]
pub enum SecretsCommand {
    /// Find committed passwords, keys and tokens in files, a staged change
    /// or a repository's history.
    #[command(after_help = SCAN_HELP)]
    Scan(ScanArgs),
    /// Accept the findings you have today, so that scans report only new ones.
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// List the detection rules.
    #[command(
        after_help = "Examples:\n  rampart secrets rules\n  rampart secrets rules --format json | jq '.[].id'\n  rampart secrets rules --config acme-rules.toml"
    )]
    Rules(RulesArgs),
    /// Install a git pre-commit hook that refuses commits adding a secret.
    #[command(
        after_help = "Examples:\n  rampart secrets install-hook\n  rampart secrets install-hook --repo ../shop --force\n\nWith the pre-commit framework, use the hook `rampart-secrets` from this\nrepository's .pre-commit-hooks.yaml instead."
    )]
    InstallHook(InstallHookArgs),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum ScanFormat {
    /// For people; coloured on a terminal, secrets masked.
    #[default]
    Text,
    /// One JSON document: findings, skipped files, warnings, statistics.
    Json,
    /// SARIF 2.1.0, for code scanning dashboards.
    Sarif,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum MinConfidence {
    Low,
    Medium,
    High,
}

/// What a scan reads and how.
#[derive(Args, Debug, Clone)]
pub struct InputArgs {
    /// Files or directories to scan, or `-` for standard input [default: .].
    /// With --staged or --git-history: the repository [default: .].
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Scan only the lines added in the git index against HEAD.
    #[arg(long, conflicts_with = "git_history")]
    pub staged: bool,
    /// Scan every blob reachable from any ref, each once.
    #[arg(long)]
    pub git_history: bool,
    /// With --git-history: only commits not reachable from REV.
    #[arg(long, value_name = "REV", requires = "git_history")]
    pub since: Option<String>,
    /// Also scan files that .gitignore, .ignore or .rampartignore exclude.
    #[arg(long)]
    pub no_ignore: bool,
    /// Skip (and report) files larger than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = scan::DEFAULT_MAX_FILE_SIZE)]
    pub max_file_size: u64,
    /// Worker threads [default: one per core].
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Custom rules and allowlists (Rampart or gitleaks TOML); repeatable.
    #[arg(long = "config", value_name = "FILE")]
    pub configs: Vec<PathBuf>,
    /// Look inside zip, jar, war, whl, nupkg, tar, tar.gz and gz files
    /// (nested ones too); findings show as `app.jar!/config/app.properties`.
    #[arg(long)]
    pub archives: bool,
    /// With --archives: how many archives deep to open (an archive inside
    /// an archive is depth 2).
    #[arg(long, value_name = "N", default_value_t = ArchiveLimits::default().max_depth, requires = "archives")]
    pub archive_depth: usize,
    /// With --archives: the most bytes one archive may expand to, all its
    /// entries together; more is reported as a possible zip bomb.
    #[arg(long, value_name = "BYTES", default_value_t = ArchiveLimits::default().max_total_bytes, requires = "archives")]
    pub archive_max_bytes: u64,
}

#[derive(Args, Debug)]
pub struct ScanArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[arg(long, value_enum, default_value_t)]
    pub format: ScanFormat,
    /// Report only findings that are not in this baseline (Rampart's or a
    /// detect-secrets .secrets.baseline).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Drop findings below this confidence.
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub min_confidence: Option<MinConfidence>,
    /// Send the new findings to a Rampart server (needs --token).
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
    /// Asset name for pushed findings [default: the scanned directory's name].
    #[arg(long, value_name = "NAME")]
    pub asset: Option<String>,
    /// Ask each finding's provider whether the credential works (AWS keys:
    /// STS GetCallerIdentity). Sends the secrets to their provider; off by
    /// default. A live credential is reported as critical.
    #[arg(long)]
    pub validate: bool,
    /// With --validate: the STS endpoint to ask [default: AWS's global
    /// endpoint]; for a VPC endpoint, a proxy or a test server.
    #[arg(
        long,
        value_name = "URL",
        env = "RAMPART_VALIDATE_AWS_ENDPOINT",
        requires = "validate"
    )]
    pub validate_aws_endpoint: Option<String>,
    /// Never draw a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// List skipped files and warnings on stderr.
    #[arg(long, short)]
    pub verbose: bool,
}

#[derive(Subcommand, Debug)]
pub enum BaselineCommand {
    /// Scan and write every finding to FILE as accepted (unaudited).
    #[command(
        after_help = "Examples:\n  rampart secrets baseline create .rampart-baseline.json\n  rampart secrets baseline create .rampart-baseline.json --git-history"
    )]
    Create {
        /// The baseline file to write.
        file: PathBuf,
        #[command(flatten)]
        input: InputArgs,
        /// Overwrite FILE if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Rescan: keep verdicts of entries still found, add new findings, drop
    /// entries that are gone. Reads detect-secrets baselines too (converting them).
    #[command(
        after_help = "Examples:\n  rampart secrets baseline update .rampart-baseline.json\n  rampart secrets baseline update .secrets.baseline   (writes Rampart's format)"
    )]
    Update {
        file: PathBuf,
        #[command(flatten)]
        input: InputArgs,
    },
    /// Walk through unaudited entries: true secret, false positive or skip.
    #[command(
        after_help = "Answers: t = true secret, f = false positive, s = skip, q = save and quit.\n\nExamples:\n  rampart secrets baseline audit .rampart-baseline.json"
    )]
    Audit {
        file: PathBuf,
        /// Show entries that already have a verdict, too.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Args, Debug)]
pub struct RulesArgs {
    #[arg(long, value_enum, default_value_t)]
    pub format: crate::cli::OutputFormat,
    #[arg(long = "config", value_name = "FILE")]
    pub configs: Vec<PathBuf>,
}

#[derive(Args, Debug)]
pub struct InstallHookArgs {
    /// The repository [default: .].
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
    /// Replace an existing pre-commit hook that Rampart did not write.
    #[arg(long)]
    pub force: bool,
}

/// Runs a `secrets` subcommand. Errors are printed here, because this
/// command's contract is exit code 2 for errors (1 means "secrets found").
pub fn run(cmd: SecretsCommand) -> Result<ExitCode> {
    let outcome = match cmd {
        SecretsCommand::Scan(args) => run_scan(args),
        SecretsCommand::Baseline(cmd) => run_baseline(cmd),
        SecretsCommand::Rules(args) => run_rules(args),
        SecretsCommand::InstallHook(args) => install_hook(args),
    };
    Ok(match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    })
}

fn load_scanner(configs: &[PathBuf]) -> Result<Scanner> {
    let mut loaded = Vec::new();
    for path in configs {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("could not read the configuration {}", path.display()))?;
        loaded.push(ConfigFile::parse(&text, &path.display().to_string())?);
    }
    Ok(Scanner::new(&loaded)?)
}

fn progress_bar(enabled: bool) -> Option<indicatif::ProgressBar> {
    if !enabled || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} scanned {bytes} ({bytes_per_sec}) {elapsed}",
    ) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(bar)
}

fn collect(input: &InputArgs, show_progress: bool) -> Result<(Scanner, ScanReport)> {
    let scanner = load_scanner(&input.configs)?;
    let opts = ScanOptions {
        no_ignore: input.no_ignore,
        max_file_size: input.max_file_size,
        threads: input.threads,
        archives: input.archives.then(|| ArchiveLimits {
            max_depth: input.archive_depth.max(1),
            max_total_bytes: input.archive_max_bytes,
            ..ArchiveLimits::default()
        }),
    };
    if input.threads > 0 {
        scan::set_global_threads(input.threads);
    }
    let bar = progress_bar(show_progress);
    let tick = |n: u64| {
        if let Some(b) = &bar {
            b.inc(n);
        }
    };
    let repo = || {
        input
            .paths
            .first()
            .cloned()
            .unwrap_or_else(|| PathBuf::from("."))
    };
    let report = if input.staged {
        if input.paths.len() > 1 {
            bail!("--staged takes at most one path: the repository");
        }
        scan::scan_staged(&scanner, &repo())?
    } else if input.git_history {
        if input.paths.len() > 1 {
            bail!("--git-history takes at most one path: the repository");
        }
        scan::scan_history(&scanner, &repo(), input.since.as_deref(), &opts, &tick)?
    } else if input.paths.len() == 1 && input.paths[0] == Path::new("-") {
        let mut data = Vec::new();
        std::io::stdin()
            .take(input.max_file_size + 1)
            .read_to_end(&mut data)
            .context("could not read standard input")?;
        if data.len() as u64 > input.max_file_size {
            bail!(
                "standard input is larger than --max-file-size ({} bytes); raise the limit or scan a file",
                input.max_file_size
            );
        }
        scan::scan_buffer(&scanner, "<stdin>", &data)
    } else {
        if input.paths.iter().any(|p| p == Path::new("-")) {
            bail!("`-` (standard input) cannot be combined with other paths");
        }
        let roots = if input.paths.is_empty() {
            vec![PathBuf::from(".")]
        } else {
            input.paths.clone()
        };
        scan::scan_paths(&scanner, &roots, &opts, &tick)?
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok((scanner, report))
}

fn print_warnings(report: &ScanReport, verbose: bool) {
    let mut err = std::io::stderr().lock();
    for w in &report.warnings {
        let _ = writeln!(
            err,
            "warning: {}: {}",
            if w.path.is_empty() { "<walk>" } else { &w.path },
            w.message
        );
    }
    let too_large: Vec<_> = report
        .skipped
        .iter()
        .filter(|s| matches!(s.reason, scan::SkipReason::TooLarge { .. }))
        .collect();
    for s in &too_large {
        if let scan::SkipReason::TooLarge { size, limit } = s.reason {
            let _ = writeln!(
                err,
                "warning: {}: skipped, {size} bytes is over the {limit}-byte limit (--max-file-size)",
                s.path
            );
        }
    }
    if verbose {
        for s in report
            .skipped
            .iter()
            .filter(|s| s.reason == scan::SkipReason::Binary)
        {
            let _ = writeln!(err, "skipped: {}: binary", s.path);
        }
    }
}

fn run_scan(args: ScanArgs) -> Result<ExitCode> {
    let baseline = match &args.baseline {
        Some(path) => Some(Baseline::load(path).with_context(|| {
            format!(
                "create it first with `rampart secrets baseline create {}`",
                path.display()
            )
        })?),
        None => None,
    };
    let show_progress = !args.no_progress && args.format == ScanFormat::Text;
    let (scanner, report) = collect(&args.input, show_progress)?;
    print_warnings(&report, args.verbose);
    let mut findings = report.findings.clone();
    if let Some(b) = &baseline {
        findings = b.filter_new(findings);
    }
    if args.validate {
        let validators: Vec<Box<dyn Validator>> = vec![Box::new(AwsStsValidator::new(
            args.validate_aws_endpoint.as_deref(),
            None,
        ))];
        validate_findings(&mut findings, &validators);
    }
    if let Some(min) = args.min_confidence {
        let min = match min {
            MinConfidence::Low => Confidence::Low,
            MinConfidence::Medium => Confidence::Medium,
            MinConfidence::High => Confidence::High,
        };
        findings.retain(|f| f.confidence >= min);
    }
    let mut out = std::io::stdout().lock();
    match args.format {
        ScanFormat::Text => {
            let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            write!(out, "{}", report::text(&report, &findings, colour))?;
        }
        ScanFormat::Json => writeln!(out, "{}", report::json(&report, &findings))?,
        ScanFormat::Sarif => writeln!(
            out,
            "{}",
            report::sarif(&findings, scanner.rules(), env!("CARGO_PKG_VERSION"))
        )?,
    }
    out.flush()?;
    if let (Some(url), Some(token)) = (&args.push, &args.token) {
        push(url, token, args.asset.as_deref(), &args.input, &findings)?;
    }
    Ok(if findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn push(
    url: &str,
    token: &str,
    asset: Option<&str>,
    input: &InputArgs,
    findings: &[Finding],
) -> Result<()> {
    let asset = match asset {
        Some(a) => a.to_owned(),
        None => {
            let root = input
                .paths
                .first()
                .cloned()
                .unwrap_or_else(|| PathBuf::from("."));
            let root = std::fs::canonicalize(&root).unwrap_or(root);
            root.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "repository".into())
        }
    };
    let batch: Vec<_> = findings
        .iter()
        .map(|f| f.to_new_finding(Some(&asset)))
        .collect();
    let summary = crate::push::push_findings(url, token, &batch)
        .with_context(|| format!("could not push the findings to {url}"))?;
    eprintln!(
        "pushed {} findings to {url}: {} new, {} seen before",
        batch.len(),
        summary.created,
        summary.updated
    );
    Ok(())
}

fn run_baseline(cmd: BaselineCommand) -> Result<ExitCode> {
    match cmd {
        BaselineCommand::Create { file, input, force } => {
            if file.exists() && !force {
                bail!(
                    "{} exists; use `rampart secrets baseline update {}` to refresh it, or --force to start over",
                    file.display(),
                    file.display()
                );
            }
            let (_, report) = collect(&input, true)?;
            print_warnings(&report, false);
            let baseline = Baseline::from_findings(&report.findings);
            baseline.save(&file)?;
            eprintln!(
                "wrote {} with {} entries; review them with `rampart secrets baseline audit {}`",
                file.display(),
                baseline.entries.len(),
                file.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        BaselineCommand::Update { file, input } => {
            let mut baseline = Baseline::load(&file)?;
            let before = baseline.entries.len();
            let (_, report) = collect(&input, true)?;
            print_warnings(&report, false);
            baseline.update(&report.findings);
            baseline.save(&file)?;
            eprintln!(
                "updated {}: {} entries (was {before})",
                file.display(),
                baseline.entries.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        BaselineCommand::Audit { file, all } => audit(&file, all),
    }
}

/// The line an entry points at, for context while auditing.
fn context_line(path: &str, line: usize) -> Option<String> {
    let text = std::fs::read(path).ok()?;
    let text = String::from_utf8_lossy(&text);
    let l = text.lines().nth(line.checked_sub(1)?)?;
    Some(l.chars().take(160).collect())
}

fn audit(file: &Path, all: bool) -> Result<ExitCode> {
    let mut baseline = Baseline::load(file)?;
    let todo: Vec<usize> = (0..baseline.entries.len())
        .filter(|&i| all || baseline.entries[i].verdict == Verdict::Unaudited)
        .collect();
    if todo.is_empty() {
        eprintln!("nothing to audit in {}", file.display());
        return Ok(ExitCode::SUCCESS);
    }
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let mut changed = 0;
    for (n, &i) in todo.iter().enumerate() {
        let e = &baseline.entries[i];
        println!(
            "\n[{}/{}] {}:{}  {}",
            n + 1,
            todo.len(),
            e.path,
            e.line,
            e.rule_id
        );
        if let Some(m) = &e.masked {
            println!("    secret {m}");
        }
        if let Some(l) = context_line(&e.path, e.line) {
            println!("    > {}", l.trim());
        }
        let verdict = loop {
            print!("Is this a real secret? [t]rue secret / [f]alse positive / [s]kip / [q]uit: ");
            std::io::stdout().flush()?;
            let Some(answer) = lines.next() else {
                break None;
            };
            match answer?.trim().to_ascii_lowercase().as_str() {
                "t" | "true" | "y" | "yes" => break Some(Some(Verdict::TrueSecret)),
                "f" | "false" | "n" | "no" => break Some(Some(Verdict::FalsePositive)),
                "s" | "skip" | "" => break Some(None),
                "q" | "quit" => break None,
                other => println!("{other:?} is not an answer; type t, f, s or q."),
            }
        };
        match verdict {
            None => break,
            Some(Some(v)) => {
                baseline.entries[i].verdict = v;
                changed += 1;
            }
            Some(None) => {}
        }
    }
    baseline.save(file)?;
    println!("\nsaved {changed} verdicts to {}", file.display());
    Ok(ExitCode::SUCCESS)
}

fn run_rules(args: RulesArgs) -> Result<ExitCode> {
    let scanner = load_scanner(&args.configs)?;
    let rules: Vec<_> = scanner.rules().collect();
    let json = serde_json::json!(
        rules
            .iter()
            .map(|r| serde_json::json!({
                "id": r.id,
                "provider": r.provider,
                "description": r.description,
                "severity": r.severity,
                "confidence": r.confidence,
                "keywords": r.keywords,
                "check": r.check,
            }))
            .collect::<Vec<_>>()
    );
    crate::output::emit(args.format, json, || {
        let width = rules.iter().map(|r| r.id.len()).max().unwrap_or(0);
        let mut out = String::new();
        for r in &rules {
            out.push_str(&format!(
                "{:width$}  {:<8}  {} ({})\n",
                r.id,
                r.severity.as_str(),
                r.description,
                r.provider
            ));
        }
        let providers: std::collections::BTreeSet<&str> =
            rules.iter().map(|r| r.provider.as_str()).collect();
        out.push_str(&format!(
            "{} rules for {} providers\n",
            rules.len(),
            providers.len()
        ));
        out
    });
    Ok(ExitCode::SUCCESS)
}

const HOOK_MARKER: &str = "# Installed by `rampart secrets install-hook`";

fn install_hook(args: InstallHookArgs) -> Result<ExitCode> {
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(&args.repo)
        .args(["rev-parse", "--git-path", "hooks"])
        .output()
        .context("could not run git; install git or put it on PATH")?;
    if !output.status.success() {
        bail!(
            "{} is not a git repository: {}",
            args.repo.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let hooks = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    let hooks = if hooks.is_absolute() {
        hooks
    } else {
        args.repo.join(hooks)
    };
    std::fs::create_dir_all(&hooks)
        .with_context(|| format!("could not create {}", hooks.display()))?;
    let hook = hooks.join("pre-commit");
    if let Ok(existing) = std::fs::read_to_string(&hook)
        && !existing.contains(HOOK_MARKER)
        && !args.force
    {
        bail!(
            "{} already exists and was not written by Rampart; add `rampart secrets scan --staged` to it, or use --force to replace it",
            hook.display()
        );
    }
    let exe = std::env::current_exe().context("could not find the rampart executable")?;
    let exe = exe.to_string_lossy().replace('\'', r"'\''");
    let script = format!(
        "#!/bin/sh\n{HOOK_MARKER}: refuses commits that add a secret.\n# Suppress a false positive with a `rampart:allow` comment on its line.\nexec '{exe}' secrets scan --staged --no-progress\n"
    );
    std::fs::write(&hook, script).with_context(|| format!("could not write {}", hook.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("could not make {} executable", hook.display()))?;
    }
    eprintln!("installed {}", hook.display());
    Ok(ExitCode::SUCCESS)
}
