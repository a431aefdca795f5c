#![allow(clippy::unwrap_used)]
//! PGP-encrypted reports, made the way researchers make them: GnuPG (the
//! `gpg` binary, installed by scripts/mail-services.sh) generates the
//! programme's key and encrypts to it; Rampart decrypts with rPGP and the
//! team reads the plaintext. Without gpg the tests skip, unless CI or
//! RAMPART_REQUIRE_MAIL is set.

use rampart_mail::intake::{Intake, IntakeConfig, Outcome};
use rampart_mail::pgp::{Keyring, ORIGINAL_NAME, ProgrammeKey};
use rampart_mail::{Envelope, files::FileStore};
use rampart_programme::Service;
use rampart_programme::input::ProgrammeInput;
use rampart_store::testkit;

#[path = "support/gnupg.rs"]
mod gnupg;
use gnupg::{encrypt, gpg, have_gpg, new_key};

const T0: i64 = 1_800_000_000_000;

fn pgp_mime(armored: &str, message_id: &str) -> String {
    format!(
        "From: Alice <alice@researchers.test>\r\nTo: security@shop.test\r\nSubject: ...\r\n\
         Message-ID: <{message_id}>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"enc\"\r\n\r\n\
         This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\n--enc\r\n\
         Content-Type: application/pgp-encrypted\r\nContent-Description: PGP/MIME version identification\r\n\r\n\
         Version: 1\r\n\r\n--enc\r\n\
         Content-Type: application/octet-stream; name=\"encrypted.asc\"\r\n\
         Content-Disposition: inline; filename=\"encrypted.asc\"\r\n\r\n{armored}\r\n--enc--\r\n"
    )
}

/// The plaintext a PGP/MIME client encrypts: a MIME entity with the real
/// subject as a protected header, the text and an attachment.
const ENTITY: &str = "Content-Type: multipart/mixed; boundary=\"inner\"; protected-headers=\"v1\"\r\n\
Subject: Admin panel reachable without login\r\n\r\n--inner\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\n\
https://shop.test/admin answers 200 without a session; the user list is readable.\r\n\
--inner\r\nContent-Type: text/plain; name=\"request.txt\"\r\n\
Content-Disposition: attachment; filename=\"request.txt\"\r\n\r\nGET /admin HTTP/1.1\r\n--inner--\r\n";

struct Setup {
    store: testkit::TestStore,
    intake: Intake,
    _files: tempfile::TempDir,
}

async fn setup(keys: Vec<ProgrammeKey>) -> Setup {
    let store = testkit::sqlite().await;
    let service = Service::new(store.store.clone());
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
    let files = tempfile::tempdir().unwrap();
    let intake = Intake {
        service,
        files: FileStore::new(files.path()),
        checks: None,
        config: IntakeConfig {
            pgp: Keyring::new(keys),
            ..Default::default()
        },
    };
    Setup {
        store,
        intake,
        _files: files,
    }
}

async fn attachment_names(store: &rampart_store::Store, report_id: i64) -> Vec<String> {
    let mut names: Vec<String> = store
        .report_attachments(report_id, true)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.filename)
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_pgp_mime_report_is_read_in_plaintext() {
    if !have_gpg() {
        return;
    }
    // GnuPG 2.2's default (RSA 3072) and its modern choice (Ed25519/Cv25519).
    for (algo, passphrase) in [("default", ""), ("future-default", "correct horse")] {
        let (home, secret) = new_key("Shop Security <security@shop.test>", algo, passphrase);
        let key = ProgrammeKey::from_armored("shop", &secret, passphrase).unwrap();
        if !passphrase.is_empty() {
            let e = ProgrammeKey::from_armored("shop", &secret, "wrong").unwrap_err();
            assert!(e.to_string().contains("passphrase does not unlock"), "{e}");
            let e = ProgrammeKey::from_armored("shop", &secret, "").unwrap_err();
            assert!(e.to_string().contains("give it in passphrase_file"), "{e}");
        }
        assert_eq!(key.fingerprint().len(), 40, "{algo}");
        assert!(
            key.public_armored()
                .starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----")
        );
        // What the programme publishes is what GnuPG encrypts to.
        gpg(home.path(), &["--import"], key.public_armored().as_bytes());

        let s = setup(vec![key]).await;
        let armored = encrypt(home.path(), "security@shop.test", ENTITY.as_bytes());
        let raw = pgp_mime(&armored, &format!("pgp-{algo}@researchers.test"));
        let started = std::time::Instant::now();
        let r = s
            .intake
            .take(raw.as_bytes(), &Envelope::default(), T0)
            .await
            .unwrap();
        eprintln!("{algo}: PGP/MIME report taken in {:?}", started.elapsed());
        let Outcome::NewReport { report_id } = r.outcome else {
            panic!("{algo}: {:?}", r.outcome)
        };
        assert!(
            r.flags.contains(&"pgp_decrypted".to_owned()),
            "{:?}",
            r.flags
        );
        let report = s.store.report(report_id).await.unwrap();
        assert_eq!(
            report.title, "Admin panel reachable without login",
            "protected subject"
        );
        assert!(
            report.description.contains("answers 200 without a session"),
            "{algo}: {}",
            report.description
        );
        assert!(!report.description.contains("BEGIN PGP"));
        assert_eq!(
            attachment_names(&s.store, report_id).await,
            [ORIGINAL_NAME, "request.txt"],
            "the inner attachment, and the original kept"
        );
        // The note the team sees says it came encrypted.
        let notes = s.store.report_events(report_id, true).await.unwrap();
        assert!(
            notes.iter().any(|e| e.body.contains("pgp_decrypted")),
            "{notes:?}"
        );
    }
}

#[tokio::test]
async fn inline_pgp_and_mail_to_an_unknown_key() {
    if !have_gpg() {
        return;
    }
    let (home, secret) = new_key("Shop Security <security@shop.test>", "future-default", "");
    let s = setup(vec![
        ProgrammeKey::from_armored("shop", &secret, "").unwrap(),
    ])
    .await;

    // Inline: the body is one armoured message.
    let armored = encrypt(
        home.path(),
        "security@shop.test",
        "SQL injection in ?sort= on /api/orders".as_bytes(),
    );
    let raw = format!(
        "From: bob@researchers.test\r\nTo: security@shop.test\r\nSubject: SQLi\r\n\
         Message-ID: <inline-1@researchers.test>\r\n\r\n{armored}"
    );
    let r = s
        .intake
        .take(raw.as_bytes(), &Envelope::default(), T0)
        .await
        .unwrap();
    let id = r.outcome.report_id().unwrap();
    let report = s.store.report(id).await.unwrap();
    assert_eq!(report.title, "SQLi");
    assert!(
        report.description.contains("SQL injection in ?sort="),
        "{}",
        report.description
    );
    assert!(r.flags.contains(&"pgp_decrypted".to_owned()));

    // Encrypted to a key this server does not hold: still a report (nothing
    // is lost), saying why, with the original attached and flagged.
    let (other, _) = new_key("Someone Else <else@elsewhere.test>", "future-default", "");
    let armored = encrypt(other.path(), "else@elsewhere.test", ENTITY.as_bytes());
    let raw = pgp_mime(&armored, "wrong-key@researchers.test");
    let r = s
        .intake
        .take(raw.as_bytes(), &Envelope::default(), T0)
        .await
        .unwrap();
    let Outcome::NewReport { report_id } = r.outcome else {
        panic!("{:?}", r.outcome)
    };
    assert!(
        r.flags.contains(&"pgp_undecryptable".to_owned()),
        "{:?}",
        r.flags
    );
    let report = s.store.report(report_id).await.unwrap();
    assert!(
        report.description.contains("could not be decrypted"),
        "{}",
        report.description
    );
    assert_eq!(attachment_names(&s.store, report_id).await, [ORIGINAL_NAME]);
    let kept = s.store.report_attachments(report_id, true).await.unwrap();
    let bytes = s.intake.files.get(&kept[0].sha256).await.unwrap();
    assert_eq!(bytes, raw.as_bytes(), "the original, byte for byte");
}
