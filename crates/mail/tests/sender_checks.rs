#![allow(clippy::unwrap_used)]
//! SPF, DKIM and DMARC with real signatures: a key is generated here, a
//! message signed with it, the key published in offline DNS records, and the
//! message verified. No lookup leaves the machine.

use base64::Engine;
use mail_auth::common::crypto::Ed25519Key;
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;
use rampart_mail::intake::{Intake, IntakeConfig, Outcome};
use rampart_mail::rules::ThreadedBy;
use rampart_mail::{DnsRecords, Envelope, SenderChecks, Verdict, files::FileStore};
use rampart_programme::Service;
use rampart_programme::input::ProgrammeInput;
use rampart_store::testkit;

const T0: i64 = 1_800_000_000_000;

struct Signer {
    pkcs8: Vec<u8>,
    public_b64: String,
}

impl Signer {
    fn new() -> Self {
        let pkcs8 = Ed25519Key::generate_pkcs8().unwrap();
        let key = Ed25519Key::from_pkcs8_der(&pkcs8).unwrap();
        let public_b64 = base64::engine::general_purpose::STANDARD.encode(key.public_key());
        Signer { pkcs8, public_b64 }
    }

    fn sign(&self, message: &str) -> String {
        let key = Ed25519Key::from_pkcs8_der(&self.pkcs8).unwrap();
        let sig = DkimSigner::from_key(key)
            .domain("strict.test")
            .selector("mail")
            .headers(["From", "To", "Subject", "Message-ID", "Date"])
            .sign(message.as_bytes())
            .unwrap();
        format!("{}{message}", sig.to_header())
    }
}

fn records(signer: &Signer) -> DnsRecords {
    let dns = DnsRecords::offline();
    dns.add_txt(
        "mail._domainkey.strict.test",
        &format!("v=DKIM1; k=ed25519; p={}", signer.public_b64),
    )
    .unwrap();
    dns.add_txt("_dmarc.strict.test", "v=DMARC1; p=reject")
        .unwrap();
    dns.add_txt("strict.test", "v=spf1 ip4:192.0.2.10 -all")
        .unwrap();
    dns
}

fn message(subject: &str, id: &str, body: &str) -> String {
    format!(
        "From: Dave <dave@strict.test>\r\nTo: security@shop.test\r\nSubject: {subject}\r\n\
         Date: Tue, 1 Dec 2026 10:00:00 +0000\r\nMessage-ID: <{id}>\r\n\r\n{body}\r\n"
    )
}

fn env(ip: &str) -> Envelope {
    Envelope {
        client_ip: Some(ip.parse().unwrap()),
        helo: Some("mx.strict.test".into()),
        mail_from: Some("dave@strict.test".into()),
        receiver: "mx.shop.test".into(),
    }
}

#[tokio::test]
async fn signed_mail_passes_and_tampered_or_forged_mail_fails() {
    let signer = Signer::new();
    let checks = SenderChecks::offline(records(&signer)).unwrap();

    let good = signer.sign(&message("SQLi", "good.1@strict.test", "Details."));
    let r = checks.check(good.as_bytes(), &env("192.0.2.10")).await;
    assert_eq!(
        (r.spf, r.dkim, r.dmarc),
        (Verdict::Pass, Verdict::Pass, Verdict::Pass),
        "{}",
        r.summary()
    );
    assert!(!r.sender_failed());

    // The body changed after signing (as list footers do): mail-auth calls
    // a body-hash mismatch neutral, not a forgery.
    let footer = good.replace("Details.", "Details.\r\n-- \r\nlist footer");
    let r = checks.check(footer.as_bytes(), &env("192.0.2.10")).await;
    assert_eq!(r.dkim, Verdict::Neutral, "{}", r.summary());

    // A signed header changed: DKIM fails; SPF still passes, so DMARC
    // passes on SPF alignment.
    let tampered = good.replace("Subject: SQLi", "Subject: Nothing to see");
    let r = checks.check(tampered.as_bytes(), &env("192.0.2.10")).await;
    assert_eq!(r.dkim, Verdict::Fail, "{}", r.summary());
    assert_eq!(r.dmarc, Verdict::Pass, "{}", r.summary());

    // Tampered and from an address SPF does not allow: DMARC fails.
    let r = checks
        .check(tampered.as_bytes(), &env("198.51.100.7"))
        .await;
    assert_eq!(
        (r.spf, r.dkim, r.dmarc),
        (Verdict::Fail, Verdict::Fail, Verdict::Fail),
        "{}",
        r.summary()
    );
    assert!(r.sender_failed());

    // Unsigned, no client address, a domain that publishes nothing.
    let plain = "From: x@nowhere.test\r\nSubject: hi\r\n\r\nhello\r\n";
    let r = checks.check(plain.as_bytes(), &Envelope::default()).await;
    assert_eq!(
        (r.spf, r.dkim, r.dmarc),
        (Verdict::None, Verdict::None, Verdict::None),
        "{}",
        r.summary()
    );
    assert!(!r.sender_failed());

    // Unsigned mail claiming strict.test, no SMTP details: DMARC fails.
    let forged = message("hi", "forged.1@strict.test", "x");
    let r = checks.check(forged.as_bytes(), &Envelope::default()).await;
    assert_eq!(r.dmarc, Verdict::Fail, "{}", r.summary());
    assert!(r.sender_failed());
}

#[test]
fn records_that_do_not_parse_are_named() {
    let dns = DnsRecords::offline();
    let err = dns
        .add_txt("mail._domainkey.x.test", "v=DKIM1; k=ed25519; p=!!!")
        .unwrap_err();
    assert!(err.to_string().contains("mail._domainkey.x.test"), "{err}");
}

#[tokio::test]
async fn a_forged_from_is_taken_but_never_threaded() {
    let signer = Signer::new();
    for ts in testkit::all().await {
        let store = &ts.store;
        let service = Service::new(store.clone());
        service
            .create_programme(
                &ProgrammeInput {
                    name: "Shop".into(),
                    slug: "shop".into(),
                    visibility: "public".into(),
                    email: Some("security@shop.test".into()),
                    ..Default::default()
                },
                T0,
            )
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let intake = Intake {
            service,
            files: FileStore::new(dir.path()),
            checks: Some(SenderChecks::offline(records(&signer)).unwrap()),
            config: IntakeConfig::default(),
        };
        let ok = env("192.0.2.10");
        let bad = env("198.51.100.7");

        let first = signer.sign(&message("Auth bypass", "d1@strict.test", "Report."));
        let r = intake.take(first.as_bytes(), &ok, T0).await.unwrap();
        let Outcome::NewReport { report_id } = r.outcome else {
            panic!("{}: {:?}", ts.label, r.outcome)
        };
        assert!(r.flags.is_empty(), "{:?}", r.flags);
        let rec = store.mail_intake(r.intake_id).await.unwrap();
        assert_eq!(
            (rec.spf.as_str(), rec.dkim.as_str(), rec.dmarc.as_str()),
            ("pass", "pass", "pass")
        );

        // Someone forges Dave's address with his report's subject token.
        let forged = message(
            &format!("Re: [#{report_id}] Auth bypass"),
            "f1@evil.test",
            "Close it.",
        );
        let r = intake.take(forged.as_bytes(), &bad, T0 + 1).await.unwrap();
        assert!(
            matches!(r.outcome, Outcome::NewReport { report_id: other } if other != report_id),
            "{:?}",
            r.outcome
        );
        assert!(
            r.flags.contains(&"thread_refused_failed_checks".to_owned()),
            "{:?}",
            r.flags
        );
        assert!(r.flags.contains(&"sender_checks_failed".to_owned()));
        let rec = store.mail_intake(r.intake_id).await.unwrap();
        assert_eq!(rec.dmarc, "fail");
        assert!(rec.flags.contains("sender_checks_failed"));
        let forged_report = r.outcome.report_id().unwrap();
        let notes: Vec<_> = store
            .report_events(forged_report, true)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == "note")
            .collect();
        assert!(notes[0].internal);
        assert!(notes[0].body.contains("may be forged"), "{}", notes[0].body);
        assert!(notes[0].body.contains("DMARC fail"), "{}", notes[0].body);

        // Dave's real, signed reply threads.
        let reply = signer.sign(&message(
            &format!("Re: [#{report_id}] Auth bypass"),
            "d2@strict.test",
            "More.",
        ));
        let r = intake.take(reply.as_bytes(), &ok, T0 + 2).await.unwrap();
        assert!(
            matches!(r.outcome, Outcome::Comment { report_id: id, by: ThreadedBy::SubjectToken, .. } if id == report_id),
            "{:?}",
            r.outcome
        );
    }
}
