//! Intake cost per message: parsing, the pure decision, sender checks (a
//! DKIM-signed message, offline DNS) and a whole intake into SQLite (new
//! report with acknowledgement, finding and notifications).
//!
//! cargo bench -p rampart-mail --bench intake

use mail_auth::common::crypto::Ed25519Key;
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;
use rampart_mail::intake::{Intake, IntakeConfig};
use rampart_mail::rules::{Facts, decide};
use rampart_mail::{DnsRecords, Envelope, SenderChecks, files::FileStore, parse};
use rampart_programme::Service;
use rampart_programme::input::ProgrammeInput;
use rampart_store::Store;
use std::sync::atomic::{AtomicI64, Ordering};

fn eml(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/testdata/{name}", env!("CARGO_MANIFEST_DIR")))
        .expect("the corpus ships with the crate")
}

const CORPUS: &[&str] = &[
    "01-new-report.eml",
    "07-bounce.eml",
    "09-html-only.eml",
    "10-attachments.eml",
    "11-oversized.eml",
];

fn main() {
    divan::main();
}

#[divan::bench(args = CORPUS)]
fn parse_message(bencher: divan::Bencher, name: &str) {
    let raw = eml(name);
    bencher.bench(|| parse(divan::black_box(&raw)).expect("corpus parses"));
}

#[divan::bench]
fn decide_new_report(bencher: divan::Bencher) {
    let m = parse(&eml("01-new-report.eml")).expect("parses");
    let facts = Facts {
        max_bytes: 25 << 20,
        recipient_programme: Some(1),
        ..Default::default()
    };
    bencher.bench(|| decide(divan::black_box(&m), divan::black_box(&facts)));
}

#[divan::bench]
fn check_dkim_signed_message(bencher: divan::Bencher) {
    let pkcs8 = Ed25519Key::generate_pkcs8().expect("key");
    let key = Ed25519Key::from_pkcs8_der(&pkcs8).expect("key");
    let public = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(key.public_key())
    };
    let body = String::from_utf8(eml("01-new-report.eml")).expect("utf-8");
    let sig = DkimSigner::from_key(key)
        .domain("researchers.test")
        .selector("s")
        .headers(["From", "To", "Subject", "Message-ID", "Date"])
        .sign(body.as_bytes())
        .expect("signs");
    let signed = format!("{}{body}", sig.to_header());
    let dns = DnsRecords::offline();
    dns.add_txt(
        "s._domainkey.researchers.test",
        &format!("v=DKIM1; k=ed25519; p={public}"),
    )
    .expect("record");
    dns.add_txt("_dmarc.researchers.test", "v=DMARC1; p=reject")
        .expect("record");
    let checks = SenderChecks::offline(dns).expect("checker");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    bencher.bench(|| rt.block_on(checks.check(signed.as_bytes(), &Envelope::default())));
}

#[divan::bench(sample_count = 200, sample_size = 1)]
fn take_new_report_sqlite(bencher: divan::Bencher) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let intake = rt.block_on(async {
        let store = Store::connect(&Store::sqlite_url_for(dir.path()))
            .await
            .expect("sqlite");
        store.migrate().await.expect("migrate");
        let service = Service::new(store);
        service
            .create_programme(
                &ProgrammeInput {
                    name: "Shop".into(),
                    slug: "shop".into(),
                    visibility: "public".into(),
                    email: Some("security@shop.test".into()),
                    ..Default::default()
                },
                0,
            )
            .await
            .expect("programme");
        Intake {
            service,
            files: FileStore::new(dir.path().join("attachments")),
            checks: Some(SenderChecks::offline(DnsRecords::offline()).expect("checker")),
            // One sender sends every message: no per-sender hourly limit.
            config: IntakeConfig {
                max_reports_per_hour: 0,
                ..IntakeConfig::default()
            },
        }
    });
    let template = String::from_utf8(eml("01-new-report.eml")).expect("utf-8");
    let n = AtomicI64::new(0);
    bencher
        .with_inputs(|| {
            let i = n.fetch_add(1, Ordering::Relaxed);
            template.replace("first-report.1@", &format!("bench-{i}@"))
        })
        .bench_values(|raw| {
            rt.block_on(intake.take(raw.as_bytes(), &Envelope::default(), 1_800_000_000_000))
                .expect("taken")
        });
}
