//! `rampart mailgate`: one message on standard input into the database, for
//! an MTA's pipe transport (Postfix `pipe`, Exim `pipe`, a `.forward` or
//! procmail rule). The exit status speaks sysexits(3), the language MTAs
//! understand: 0 taken (or deliberately ignored), 65 not a message, 69
//! refused (the explanation is on stdout, for the bounce), 75 try later.

use crate::cli::{DataOptions, OutputFormat};
use crate::cmd::open_store;
use crate::output::{emit, now_ms};
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use rampart_mail::intake::{Intake, IntakeConfig, IntakeReport, Outcome};
use rampart_mail::{DnsRecords, Envelope, SenderChecks, files::FileStore};
use rampart_programme::Service;
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
    after_help = "Reads one RFC 5322 message on standard input (or --file) and takes it into the \
database: a new report, a comment on the report it answers, or nothing for auto-replies, bounces, \
loops and a Message-ID seen before.\n\n\
Exit status (sysexits, as MTAs expect): 0 taken or ignored, 65 not a message, 69 refused \
(too large, too many reports from one sender in an hour, no programme; the explanation is printed for the bounce), 75 temporary failure \
(the MTA should try again), 2 usage error.\n\n\
Examples:\n  rampart mailgate --data-dir /var/lib/rampart < message.eml\n  \
rampart mailgate --database-url postgres://rampart@db/rampart --default-programme shop --format json < message.eml\n\n\
Postfix (master.cf), passing the SMTP client for SPF:\n  \
rampart unix - n n - - pipe flags=Rq user=rampart argv=/usr/local/bin/rampart mailgate\n    \
--data-dir /var/lib/rampart --client-ip ${client_address} --helo ${client_helo} --sender ${sender}"
)]
pub struct MailgateArgs {
    #[command(flatten)]
    pub data: DataOptions,
    /// Read the message from this file instead of standard input.
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Largest message taken, in bytes; larger ones are refused with a polite explanation (0: no limit).
    #[arg(long, value_name = "BYTES", default_value_t = rampart_mail::intake::DEFAULT_MAX_MESSAGE_BYTES)]
    pub max_bytes: usize,
    /// Programme (slug) for mail to an address no programme has [default: the only programme, if there is one].
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
    /// How sender checks (SPF, DKIM, DMARC) are evaluated.
    #[arg(long, value_enum, default_value_t)]
    pub sender_checks: SenderCheckMode,
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

pub async fn run(args: MailgateArgs) -> Result<ExitCode> {
    let read = match &args.file {
        Some(path) => std::fs::File::open(path)
            .and_then(|f| read_message(f, args.max_bytes))
            .with_context(|| format!("could not read {}", path.display())),
        None => read_message(std::io::stdin().lock(), args.max_bytes)
            .context("could not read the message from standard input"),
    };
    let (raw, total) = match read {
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
    let checks = match args.sender_checks {
        SenderCheckMode::Dns => Some(SenderChecks::system()?),
        SenderCheckMode::Offline => Some(SenderChecks::offline(DnsRecords::offline())?),
        SenderCheckMode::Off => None,
    };
    let receiver = url::Url::parse(&settings.public_url())
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "localhost".into());
    let intake = Intake {
        service: Service::new(store.clone()),
        files: FileStore::new(settings.data_dir.join("attachments")),
        checks,
        config: IntakeConfig {
            max_message_bytes: args.max_bytes,
            max_attachment_bytes: settings.http.max_attachment_bytes,
            default_programme: args.default_programme.clone(),
            max_reports_per_hour: settings.rate_limits.reports_per_hour,
        },
    };
    let env = Envelope {
        client_ip,
        helo: args.helo.clone().filter(|h| !h.trim().is_empty()),
        mail_from: args.sender.clone(),
        receiver,
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
