//! `rampart mailgate`: one message on standard input into the database (or
//! handed to a running server with `--url`), for an MTA's pipe transport
//! (Postfix `pipe`, Exim `pipe`, a `.forward` or procmail rule); or mail taken
//! from an IMAP mailbox with `--imap`. The exit status speaks sysexits(3), the language MTAs
//! understand: 0 taken (or deliberately ignored), 65 not a message, 69
//! refused (the explanation is on stdout, for the bounce), 75 try later.

use crate::cli::{DataOptions, OutputFormat};
use crate::cmd::open_store;
use crate::output::{emit, now_ms};
use crate::settings::Settings;
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use rampart_mail::imap::{self, ImapConfig, MessageResult, PassItem, PassSummary, TlsMode};
use rampart_mail::intake::{Intake, IntakeConfig, IntakeReport, Outcome};
use rampart_mail::{DnsRecords, Envelope, SenderChecks, files::FileStore};
use rampart_programme::Service;
use rampart_store::Store;
use serde_json::json;
use std::io::Read;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// sysexits(3): the message is not one (permanent).
const EX_DATAERR: u8 = 65;
/// sysexits(3): refused (permanent; the MTA bounces with our text).
const EX_UNAVAILABLE: u8 = 69;
/// sysexits(3): a temporary failure (database down); the MTA retries.
const EX_TEMPFAIL: u8 = 75;

/// How SPF, DKIM and DMARC are evaluated.
#[derive(ValueEnum, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SenderCheckMode {
    /// Look records up with the system resolver (/etc/resolv.conf).
    #[default]
    Dns,
    /// Evaluate with no DNS at all: every record is "not found".
    Offline,
    /// Do not evaluate (results are recorded as "none").
    Off,
}

/// Arguments of `rampart mailgate`.
#[derive(Args, Debug)]
#[command(
    after_help = "Reads one RFC 5322 message on standard input (or --file) and takes it: a new report, \
a comment on the report it answers, or nothing for auto-replies, bounces, loops and a Message-ID seen \
before. Three ways in: straight into the database (--data-dir / --database-url), handed to a running \
server (--url and a triager's or admin's token), or taken from an IMAP mailbox (--imap).\n\n\
Exit status (sysexits, as MTAs expect): 0 taken or ignored, 65 not a message, 69 refused \
(too large, too many reports from one sender in an hour, no programme; the explanation is printed for the bounce), 75 temporary failure \
(the MTA should try again), 2 usage error.\n\n\
Examples:\n  rampart mailgate --data-dir /var/lib/rampart < message.eml\n  \
rampart mailgate --database-url postgres://rampart@db/rampart --default-programme shop --format json < message.eml\n  \
rampart mailgate --url https://security.example.com --token-file /etc/rampart/mailgate-token < message.eml\n  \
rampart mailgate --imap imaps://security%40example.com@imap.example.com/INBOX --imap-password-file /etc/rampart/imap-password --once\n\n\
Postfix (master.cf), passing the SMTP client for SPF:\n  \
rampart unix - n n - - pipe flags=Rq user=rampart argv=/usr/local/bin/rampart mailgate\n    \
--data-dir /var/lib/rampart --client-ip ${client_address} --helo ${client_helo} --sender ${sender}"
)]
pub struct MailgateArgs {
    #[command(flatten)]
    pub data: DataOptions,
    /// Read the message from this file instead of standard input.
    #[arg(long, value_name = "FILE", conflicts_with = "imap")]
    pub file: Option<PathBuf>,
    /// Largest message taken, in bytes; larger ones are refused with a polite explanation (0: no limit) [default: mail.max_message_bytes, 26214400].
    #[arg(long, value_name = "BYTES")]
    pub max_bytes: Option<usize>,
    /// Programme (slug) for mail to an address no programme has [default: mail.default_programme, else the only programme, if there is one].
    #[arg(long, value_name = "SLUG")]
    pub default_programme: Option<String>,
    /// The SMTP client's address, for SPF (Postfix: ${client_address}).
    #[arg(long, value_name = "IP")]
    pub client_ip: Option<String>,
    /// The SMTP client's HELO name, for SPF (Postfix: ${client_helo}).
    #[arg(long, value_name = "NAME")]
    pub helo: Option<String>,
    /// The SMTP envelope sender, MAIL FROM (Postfix: ${sender}).
    #[arg(long, value_name = "ADDRESS")]
    pub sender: Option<String>,
    /// How sender checks (SPF, DKIM, DMARC) are evaluated [default: mail.sender_checks, dns].
    #[arg(long, value_enum)]
    pub sender_checks: Option<SenderCheckMode>,
    /// Hand the message to the Rampart server at this URL (POST /api/v1/mail/inbound) instead of writing to the database.
    #[arg(long, value_name = "URL", conflicts_with = "imap")]
    pub url: Option<String>,
    /// With --url: a triager's or admin's API token with reports:write (prefer --token-file: arguments show in process lists).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "RAMPART_MAILGATE_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// With --url: read the token from this file.
    #[arg(long, value_name = "FILE", conflicts_with = "token")]
    pub token_file: Option<PathBuf>,
    /// Take mail from an IMAP mailbox: imaps://USER@HOST[:PORT]/FOLDER (TLS) or imap://… (STARTTLS);
    /// without a value, the [mail.imap] settings.
    #[arg(long, value_name = "URL", num_args = 0..=1, default_missing_value = "")]
    pub imap: Option<String>,
    /// With --imap URL: the password file (else RAMPART_IMAP_PASSWORD).
    #[arg(long, value_name = "FILE", requires = "imap")]
    pub imap_password_file: Option<PathBuf>,
    /// With --imap: imaps, starttls or none-loopback-only (overrides the URL's scheme).
    #[arg(long, value_name = "MODE", requires = "imap")]
    pub imap_tls: Option<String>,
    /// With --imap: what happens to a taken message: flag (\Seen and $RampartTaken), move:FOLDER or delete [default: flag].
    #[arg(long, value_name = "ACTION", requires = "imap")]
    pub imap_after: Option<String>,
    /// With --imap: extra CA certificates (PEM) to trust for the server.
    #[arg(long, value_name = "FILE", requires = "imap")]
    pub imap_ca: Option<PathBuf>,
    /// With --imap: one pass over the folder, then exit (75 if a message had to be left for later).
    /// Without it, keep taking mail: IDLE where the server offers it, else a pass every --poll-seconds.
    #[arg(long, requires = "imap")]
    pub once: bool,
    /// With --imap: seconds between passes without IDLE, and the longest an IDLE waits [default: 60].
    #[arg(long, value_name = "SECONDS", requires = "imap")]
    pub poll_seconds: Option<u64>,
    #[arg(long, value_enum, default_value_t)]
    pub format: OutputFormat,
}

/// Reads at most `limit` bytes (all with limit 0) and counts the rest.
fn read_message(mut input: impl Read, limit: usize) -> std::io::Result<(Vec<u8>, usize)> {
    let mut raw = Vec::new();
    if limit == 0 {
        input.read_to_end(&mut raw)?;
        let n = raw.len();
        return Ok((raw, n));
    }
    // One byte past the limit tells "at the limit" from "over it".
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    (&mut input).take(cap).read_to_end(&mut raw)?;
    let rest = std::io::copy(&mut input, &mut std::io::sink())?;
    let total = raw.len() + usize::try_from(rest).unwrap_or(usize::MAX);
    Ok((raw, total))
}

fn fail(format: OutputFormat, code: u8, kind: &str, message: &str) -> ExitCode {
    match format {
        OutputFormat::Json => println!(
            "{}",
            json!({"outcome": "error", "error": kind, "message": message})
        ),
        OutputFormat::Text => eprintln!("error: {message}"),
    }
    ExitCode::from(code)
}

/// The sender checks a `mode` asks for.
pub(crate) fn sender_checks(mode: SenderCheckMode) -> Result<Option<SenderChecks>> {
    Ok(match mode {
        SenderCheckMode::Dns => Some(SenderChecks::system()?),
        SenderCheckMode::Offline => Some(SenderChecks::offline(DnsRecords::offline())?),
        SenderCheckMode::Off => None,
    })
}

/// `[mail] sender_checks`.
pub(crate) fn settings_check_mode(settings: &Settings) -> Result<SenderCheckMode> {
    SenderCheckMode::from_str(settings.mail.sender_checks.trim(), true).map_err(|_| {
        anyhow::anyhow!(
            "mail.sender_checks must be dns, offline or off, not {:?}",
            settings.mail.sender_checks
        )
    })
}

fn intake_for(args: &MailgateArgs, settings: &Settings, store: &Store) -> Result<Intake> {
    let mode = match args.sender_checks {
        Some(m) => m,
        None => settings_check_mode(settings)?,
    };
    let default_programme = args.default_programme.clone().or_else(|| {
        let d = settings.mail.default_programme.trim();
        (!d.is_empty()).then(|| d.to_owned())
    });
    // The same mail-out channels as `rampart serve`: the acknowledgement and
    // team notices are queued in the outbox here, and the server's delivery
    // worker sends them (this process does not wait for SMTP).
    let outbound = crate::cmd::outbound::setup(settings, store)?;
    Ok(Intake {
        service: outbound.attach(Service::new(store.clone())),
        files: FileStore::new(settings.data_dir.join("attachments")),
        checks: sender_checks(mode)?,
        config: IntakeConfig {
            max_message_bytes: args.max_bytes.unwrap_or(settings.mail.max_message_bytes),
            max_attachment_bytes: settings.http.max_attachment_bytes,
            default_programme,
            max_reports_per_hour: settings.rate_limits.reports_per_hour,
            pgp: settings.pgp_keyring()?,
            // The pipe's MTA bounces a refusal itself; `--imap` has no MTA
            // to do it, so its refusals are mailed through the outbox.
            refusals: args
                .imap
                .is_some()
                .then(|| outbound.email.clone())
                .flatten()
                .map(|mailer| rampart_mail::refusal::RefusalMail { mailer }),
        },
    })
}

pub async fn run(args: MailgateArgs) -> Result<ExitCode> {
    if args.imap.is_some() {
        return run_imap(args).await;
    }
    if args.url.is_some() {
        return run_http(args).await;
    }
    // Without a store the settings still give the size limit.
    let limit = match args.max_bytes {
        Some(b) => b,
        None => Settings::load(&args.data)
            .map(|s| s.mail.max_message_bytes)
            .unwrap_or(rampart_mail::intake::DEFAULT_MAX_MESSAGE_BYTES),
    };
    let (raw, total) = match read_input(&args, limit) {
        Ok(r) => r,
        Err(e) => return Ok(fail(args.format, EX_TEMPFAIL, "read", &format!("{e:#}"))),
    };
    let client_ip = match args.client_ip.as_deref().map(str::trim) {
        None | Some("") | Some("unknown") => None,
        Some(ip) => Some(ip.parse::<IpAddr>().with_context(|| {
            format!("--client-ip {ip:?} is not an IP address (Postfix passes ${{client_address}})")
        })?),
    };
    let (settings, store) = match open_store(&args.data).await {
        Ok(s) => s,
        Err(e) => {
            return Ok(fail(
                args.format,
                EX_TEMPFAIL,
                "database",
                &format!("{e:#}"),
            ));
        }
    };
    let mut intake = intake_for(&args, &settings, &store)?;
    intake.config.max_message_bytes = limit;
    let env = Envelope {
        client_ip,
        helo: args.helo.clone().filter(|h| !h.trim().is_empty()),
        mail_from: args.sender.clone(),
        receiver: receiver(&settings),
    };
    let result = intake.take_sized(&raw, total, &env, now_ms()).await;
    store.close().await;
    let report = match result {
        Ok(r) => r,
        Err(e) if e.is_temporary() => {
            return Ok(fail(
                args.format,
                EX_TEMPFAIL,
                "temporary",
                &format!("{e}; the message was not stored, deliver it again later"),
            ));
        }
        Err(e) => {
            return Ok(fail(
                args.format,
                EX_DATAERR,
                "not_a_message",
                &e.to_string(),
            ));
        }
    };
    let code = match report.outcome {
        Outcome::Refused { .. } => ExitCode::from(EX_UNAVAILABLE),
        _ => ExitCode::SUCCESS,
    };
    emit(args.format, to_json(&report), || to_text(&report));
    Ok(code)
}

fn read_input(args: &MailgateArgs, limit: usize) -> Result<(Vec<u8>, usize)> {
    match &args.file {
        Some(path) => std::fs::File::open(path)
            .and_then(|f| read_message(f, limit))
            .with_context(|| format!("could not read {}", path.display())),
        None => read_message(std::io::stdin().lock(), limit)
            .context("could not read the message from standard input"),
    }
}

/// This host's name for SPF macros: the public URL's.
fn receiver(settings: &Settings) -> String {
    url::Url::parse(&settings.public_url())
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "localhost".into())
}

// --- --url: hand the message to a running server ------------------------------------------

async fn run_http(args: MailgateArgs) -> Result<ExitCode> {
    let base = args.url.clone().unwrap_or_default();
    let endpoint = inbound_endpoint(&base)?;
    let token = match (&args.token, &args.token_file) {
        (_, Some(path)) => std::fs::read_to_string(path)
            .with_context(|| format!("could not read the token file {}", path.display()))?
            .trim()
            .to_owned(),
        (Some(t), None) => t.trim().to_owned(),
        (None, None) => anyhow::bail!(
            "--url needs a token: --token-file FILE (or --token, or RAMPART_MAILGATE_TOKEN) with a \
             triager's or admin's token (`rampart token create --user TRIAGER --scope reports:write`)"
        ),
    };
    let limit = args
        .max_bytes
        .unwrap_or(rampart_mail::intake::DEFAULT_MAX_MESSAGE_BYTES);
    let (raw, total) = match read_input(&args, limit) {
        Ok(r) => r,
        Err(e) => return Ok(fail(args.format, EX_TEMPFAIL, "read", &format!("{e:#}"))),
    };
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("client_ip", &args.client_ip),
        ("helo", &args.helo),
        ("sender", &args.sender),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.trim().is_empty()) {
            query.append_pair(k, v);
        }
    }
    if total > raw.len() {
        // Only the beginning was read: the server decides on the headers and
        // needs the whole size for the refusal.
        query.append_pair("size", &total.to_string());
    }
    let query = query.finish();
    let target = if query.is_empty() {
        endpoint.clone()
    } else {
        format!("{endpoint}?{query}")
    };
    let format = args.format;
    // ureq blocks; keep it off the async threads.
    let answer = tokio::task::spawn_blocking(move || post_message(&target, &token, &raw))
        .await
        .context("the upload thread stopped")?;
    let (status, text) = match answer {
        Ok(a) => a,
        Err(e) => {
            return Ok(fail(
                format,
                EX_TEMPFAIL,
                "unreachable",
                &format!(
                    "could not reach {endpoint}: {e}; the MTA will deliver the message again later"
                ),
            ));
        }
    };
    let message = || server_message(&text);
    match status {
        200 => {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
                return Ok(fail(
                    format,
                    EX_TEMPFAIL,
                    "bad_answer",
                    &format!(
                        "{endpoint} answered 200 but not with Rampart's mail outcome; is --url the address of a Rampart server?"
                    ),
                ));
            };
            if v["outcome"] == "not_a_message" {
                let why = v["reason"].as_str().unwrap_or("not an RFC 5322 message");
                return Ok(fail(format, EX_DATAERR, "not_a_message", why));
            }
            let code = if v["outcome"] == "refused" {
                ExitCode::from(EX_UNAVAILABLE)
            } else {
                ExitCode::SUCCESS
            };
            emit(format, v.clone(), || text_from_json(&v));
            Ok(code)
        }
        // A bad envelope parameter: retrying with the same arguments cannot help.
        400 => Ok(fail(format, EX_DATAERR, "bad_request", &message())),
        401 => Ok(fail(
            format,
            EX_TEMPFAIL,
            "token",
            &format!(
                "the server refused the token (401): {}; the MTA keeps the message and retries",
                message()
            ),
        )),
        403 => Ok(fail(
            format,
            EX_TEMPFAIL,
            "token",
            &format!("{} (403); the MTA keeps the message and retries", message()),
        )),
        404 => Ok(fail(
            format,
            EX_TEMPFAIL,
            "not_found",
            &format!("{endpoint} does not exist (404); is --url the address of a Rampart server?"),
        )),
        _ => Ok(fail(
            format,
            EX_TEMPFAIL,
            "temporary",
            &format!(
                "{endpoint} answered {status}: {}; deliver the message again later",
                message()
            ),
        )),
    }
}

/// `https://host/` → `https://host/api/v1/mail/inbound`.
fn inbound_endpoint(base: &str) -> Result<String> {
    let u = url::Url::parse(base.trim()).with_context(|| {
        format!("--url {base:?} is not a URL; give the server's address, e.g. https://security.example.com")
    })?;
    if !matches!(u.scheme(), "http" | "https") {
        anyhow::bail!("--url must be an http:// or https:// address, not {base:?}");
    }
    Ok(format!(
        "{}/api/v1/mail/inbound",
        u.as_str().trim_end_matches('/')
    ))
}

fn post_message(target: &str, token: &str, raw: &[u8]) -> Result<(u16, String), ureq::Error> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(120)))
        .user_agent(concat!("rampart-mailgate/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let mut response = agent
        .post(target)
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "message/rfc822")
        .send(raw)?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .with_config()
        .limit(1 << 20)
        .read_to_string()
        .unwrap_or_default();
    Ok((status, text))
}

/// The API's `{"error": "..."}` message, or the start of whatever came back.
fn server_message(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
        .unwrap_or_else(|| text.chars().take(200).collect())
}

/// The text line for an outcome the server sent (the same as for a local intake).
fn text_from_json(v: &serde_json::Value) -> String {
    let s = |k: &str| v[k].as_str().unwrap_or("").to_owned();
    let checks = format!("SPF {}, DKIM {}, DMARC {}", s("spf"), s("dkim"), s("dmarc"));
    let flags = match v["flags"].as_array() {
        Some(f) if !f.is_empty() => format!(
            " [{}]",
            f.iter()
                .filter_map(|x| x.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => String::new(),
    };
    let id = v["report_id"].as_i64().unwrap_or(0);
    match v["outcome"].as_str().unwrap_or("") {
        "new_report" => format!("new report #{id} ({checks}){flags}\n"),
        "comment" => format!(
            "comment on report #{id} by {} ({checks}){flags}\n",
            s("threaded_by")
        ),
        "ignored" => format!("ignored: {}\n", s("reason")),
        "refused" => format!("{}\n", s("bounce")),
        "duplicate" => format!(
            "duplicate: Message-ID {} was taken before ({})\n",
            s("message_id"),
            s("previous_outcome")
        ),
        other => format!("{other}\n"),
    }
}

// --- --imap: take mail from a mailbox ----------------------------------------------------------

fn imap_config(args: &MailgateArgs, settings: &Settings) -> Result<ImapConfig> {
    let mut cfg = match args.imap.as_deref() {
        Some("") | None => settings
            .mail
            .imap
            .as_ref()
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "--imap without a URL uses the [mail.imap] settings, and there are none; \
                     give --imap imaps://USER@HOST/FOLDER or add [mail.imap] (see `rampart config example`)"
                )
            })?
            .to_config()?,
        Some(url) => {
            let password = match &args.imap_password_file {
                Some(path) => std::fs::read_to_string(path)
                    .with_context(|| format!("could not read {}", path.display()))?
                    .trim_end_matches(['\r', '\n'])
                    .to_owned(),
                None => std::env::var("RAMPART_IMAP_PASSWORD").map_err(|_| {
                    anyhow::anyhow!(
                        "--imap URL needs the password: --imap-password-file FILE or RAMPART_IMAP_PASSWORD"
                    )
                })?,
            };
            ImapConfig::from_url(url, &password)?
        }
    };
    if let Some(t) = &args.imap_tls {
        cfg.tls = t.parse::<TlsMode>()?;
    }
    if let Some(a) = &args.imap_after {
        cfg.after = a.parse()?;
    }
    if let Some(ca) = &args.imap_ca {
        cfg.ca_pem =
            Some(std::fs::read(ca).with_context(|| format!("could not read {}", ca.display()))?);
    }
    if let Some(p) = args.poll_seconds {
        cfg.poll_interval = std::time::Duration::from_secs(p.max(1));
    }
    Ok(cfg)
}

fn item_json(item: &PassItem) -> serde_json::Value {
    let mut v = match &item.result {
        MessageResult::Taken(r) => to_json(r),
        MessageResult::NotMail(e) => json!({"outcome": "not_a_message", "error": e}),
        MessageResult::Left(e) => json!({"outcome": "left", "error": e}),
    };
    v["uid"] = json!(item.uid);
    v["size"] = json!(item.size);
    v
}

fn item_text(item: &PassItem) -> String {
    let what = match &item.result {
        MessageResult::Taken(r) => to_text(r),
        MessageResult::NotMail(e) => format!("not a message, marked taken: {e}\n"),
        MessageResult::Left(e) => format!("left for the next pass: {e}\n"),
    };
    format!("UID {}: {what}", item.uid)
}

/// Logs one pass of the IMAP worker in `rampart serve`.
pub(crate) fn log_pass(summary: &PassSummary) {
    for item in &summary.items {
        match &item.result {
            MessageResult::Taken(r) => tracing::info!(
                uid = item.uid,
                outcome = r.outcome.as_str(),
                report_id = r.outcome.report_id(),
                message_id = %r.message_key,
                "Mail taken from IMAP"
            ),
            MessageResult::NotMail(e) => {
                tracing::warn!(uid = item.uid, error = %e, "Not a message; marked taken")
            }
            MessageResult::Left(e) => {
                tracing::warn!(uid = item.uid, error = %e, "Mail left for the next pass")
            }
        }
    }
}

async fn run_imap(args: MailgateArgs) -> Result<ExitCode> {
    let (settings, store) = match open_store(&args.data).await {
        Ok(s) => s,
        Err(e) => {
            return Ok(fail(
                args.format,
                EX_TEMPFAIL,
                "database",
                &format!("{e:#}"),
            ));
        }
    };
    let cfg = imap_config(&args, &settings)?;
    let intake = intake_for(&args, &settings, &store)?;
    let format = args.format;
    if args.once {
        let result = imap::run_once(&intake, &cfg).await;
        store.close().await;
        let summary = match result {
            Ok(s) => s,
            Err(imap::ImapError::Config(m)) => anyhow::bail!("IMAP settings: {m}"),
            Err(e) => return Ok(fail(format, EX_TEMPFAIL, "imap", &e.to_string())),
        };
        let left = summary.left();
        let taken = summary.items.len() - left;
        emit(
            format,
            json!({
                "mailbox": format!("{}@{}:{}/{}", cfg.username, cfg.host, cfg.port, cfg.folder),
                "taken": taken,
                "left": left,
                "messages": summary.items.iter().map(item_json).collect::<Vec<_>>(),
            }),
            || {
                let mut t: String = summary.items.iter().map(item_text).collect();
                t.push_str(&format!("{taken} taken, {left} left for the next pass\n"));
                t
            },
        );
        return Ok(if left > 0 {
            ExitCode::from(EX_TEMPFAIL)
        } else {
            ExitCode::SUCCESS
        });
    }
    eprintln!(
        "Taking mail from {}@{}:{}/{} (IDLE where offered, else every {} s). Press Ctrl+C to stop.",
        cfg.username,
        cfg.host,
        cfg.port,
        cfg.folder,
        cfg.poll_interval.as_secs()
    );
    imap::watch(
        &intake,
        &cfg,
        crate::cmd::serve::shutdown_signal(),
        |summary| {
            for item in &summary.items {
                match format {
                    OutputFormat::Json => println!("{}", item_json(item)),
                    OutputFormat::Text => print!("{}", item_text(item)),
                }
            }
        },
    )
    .await;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

fn to_json(r: &IntakeReport) -> serde_json::Value {
    let mut v = json!({
        "outcome": r.outcome.as_str(),
        "intake_id": r.intake_id,
        "message_id": r.message_key,
        "report_id": r.outcome.report_id(),
        "spf": r.auth.spf.as_str(),
        "dkim": r.auth.dkim.as_str(),
        "dmarc": r.auth.dmarc.as_str(),
        "flags": r.flags,
        "attachments_kept": r.attachments_kept,
        "attachments_refused": r.attachments_refused,
    });
    match &r.outcome {
        Outcome::Comment { event_id, by, .. } => {
            v["event_id"] = json!(event_id);
            v["threaded_by"] = json!(by.as_str());
        }
        Outcome::Ignored { reason } => v["reason"] = json!(reason),
        Outcome::Refused { reason, bounce } => {
            v["reason"] = json!(reason);
            v["bounce"] = json!(bounce);
        }
        Outcome::Duplicate { previous } => v["previous_outcome"] = json!(previous.outcome),
        Outcome::NewReport { .. } => {}
    }
    v
}

fn to_text(r: &IntakeReport) -> String {
    let checks = r.auth.summary();
    let flags = if r.flags.is_empty() {
        String::new()
    } else {
        format!(" [{}]", r.flags.join(", "))
    };
    match &r.outcome {
        Outcome::NewReport { report_id } => {
            format!("new report #{report_id} ({checks}){flags}\n")
        }
        Outcome::Comment { report_id, by, .. } => {
            format!(
                "comment on report #{report_id} by {} ({checks}){flags}\n",
                by.as_str()
            )
        }
        Outcome::Ignored { reason } => format!("ignored: {reason}\n"),
        Outcome::Refused { bounce, .. } => format!("{bounce}\n"),
        Outcome::Duplicate { previous } => format!(
            "duplicate: Message-ID {} was taken before ({})\n",
            previous.message_id, previous.outcome
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_stops_at_the_limit_but_counts_everything() {
        let data = vec![b'x'; 1000];
        let (raw, total) = read_message(&data[..], 100).unwrap();
        assert_eq!((raw.len(), total), (101, 1000));
        let (raw, total) = read_message(&data[..], 0).unwrap();
        assert_eq!((raw.len(), total), (1000, 1000));
        let (raw, total) = read_message(&data[..], 5000).unwrap();
        assert_eq!((raw.len(), total), (1000, 1000));
    }
}
