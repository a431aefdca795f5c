#![allow(clippy::unwrap_used)]
//! Mail out to someone with a known OpenPGP key is PGP/MIME (RFC 3156),
//! encrypted to that key: the key is made by GnuPG (installed by
//! scripts/mail-services.sh) as a researcher makes it, saved for the user,
//! a notification is queued and built, and `gpg --decrypt` with the secret
//! key gives back the text. Someone without a key gets plain text. On both
//! engines. Without gpg the tests skip, unless CI or RAMPART_REQUIRE_MAIL
//! is set.

use mail_parser::MimeHeaders;
use rampart_core::Role;
use rampart_mail::outbound::{EmailNotifier, OutboundConfig};
use rampart_mail::pgp::RecipientKey;
use rampart_mail::smtp::build_message;
use rampart_programme::input::{CheckedReport, ProgrammeInput};
use rampart_programme::{Actor, Service};
use rampart_store::{OutboxRow, testkit};
use std::sync::Arc;

#[path = "support/gnupg.rs"]
mod gnupg;
use gnupg::{generate_key, gpg, have_gpg};

const T0: i64 = 1_800_000_000_000;

/// A researcher's key pair in a fresh GnuPG home: (home, armoured public
/// key, fingerprint as gpg prints it).
fn researcher_key(email: &str, algo: &str) -> (tempfile::TempDir, String, String) {
    let home = generate_key(&format!("Alice <{email}>"), algo, "");
    let public = String::from_utf8(gpg(home.path(), &["--armor", "--export", email], b"")).unwrap();
    let listing = String::from_utf8(gpg(
        home.path(),
        &["--with-colons", "--fingerprint", email],
        b"",
    ))
    .unwrap();
    let fpr = listing
        .lines()
        .find_map(|l| l.strip_prefix("fpr:"))
        .unwrap()
        .trim_matches(':')
        .to_owned();
    (home, public, fpr)
}

fn checked(title: &str) -> CheckedReport {
    CheckedReport {
        title: title.into(),
        description: "The admin search concatenates q into SQL.".into(),
        steps: String::new(),
        impact: String::new(),
        asset: None,
        cwe: None,
        cvss_vector: None,
        severity: None,
    }
}

fn part_bytes<'a>(m: &'a mail_parser::Message<'a>, i: usize) -> &'a [u8] {
    m.parts[i].contents()
}

#[tokio::test]
async fn mail_to_a_user_with_a_key_is_pgp_mime_and_gpg_decrypts_it() {
    if !have_gpg() {
        return;
    }
    // GnuPG 2.2's default (RSA 3072) and its modern choice (Ed25519/Cv25519).
    for algo in ["default", "future-default"] {
        for ts in testkit::all().await {
            let label = format!("{} {algo}", ts.label);
            let store = &ts.store;
            let email = EmailNotifier::new(
                store.clone(),
                OutboundConfig {
                    from: "Rampart <security@rampart.test>".into(),
                    public_url: "https://security.rampart.test".into(),
                    site_name: "Rampart".into(),
                },
            );
            let service = Service::new(store.clone()).with_notifier(Arc::new(email));
            let p = service
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
            let alice = store
                .create_user("alice@researchers.test", Role::Researcher, None, T0)
                .await
                .unwrap();
            let bob = store
                .create_user("bob@researchers.test", Role::Researcher, None, T0)
                .await
                .unwrap();
            let triager = store
                .create_user("triage@shop.test", Role::Triager, None, T0)
                .await
                .unwrap();
            let (home, public, fpr) = researcher_key("alice@researchers.test", algo);
            let key = RecipientKey::from_armored(&public).unwrap();
            assert_eq!(key.fingerprint(), fpr, "{label}");
            store
                .set_user_pgp_key(alice.id, &public, key.fingerprint(), T0)
                .await
                .unwrap();

            let title = "SQL injection in the admin search";
            let ra = service
                .submit_report(&p, alice.id, &checked(title), "web", T0)
                .await
                .unwrap();
            let rb = service
                .submit_report(&p, bob.id, &checked("Open redirect"), "web", T0 + 1)
                .await
                .unwrap();
            let actor = Actor {
                user_id: triager.id,
                role: Role::Triager,
            };
            service
                .comment(
                    &ra,
                    actor,
                    "Confirmed: the fix ships on Friday.",
                    false,
                    T0 + 2,
                )
                .await
                .unwrap();

            let rows = store.list_outbox(None, 100).await.unwrap();
            let to = |who: &str| -> Vec<OutboxRow> {
                let mut v: Vec<OutboxRow> =
                    rows.iter().filter(|r| r.target == who).cloned().collect();
                v.sort_by_key(|r| r.id);
                v
            };
            let alice_rows = to("alice@researchers.test");
            assert_eq!(alice_rows.len(), 2, "{label}: acknowledgement and comment");

            let mut ids = Vec::new();
            for (row, want) in alice_rows.iter().zip([
                format!("Report #{}", ra.id),
                "Confirmed: the fix ships on Friday.".to_owned(),
            ]) {
                // Nothing of the report travels in clear: not the title, not the text.
                assert_eq!(
                    row.subject,
                    format!("[#{}] Update on your report", ra.id),
                    "{label}"
                );
                assert!(
                    row.body.starts_with("-----BEGIN PGP MESSAGE-----"),
                    "{label}"
                );
                let raw = build_message(row).unwrap().formatted();
                let text = String::from_utf8_lossy(&raw);
                assert!(
                    !text.contains(title) && !text.contains("Friday"),
                    "{label}: {text}"
                );
                let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
                let ct = m.content_type().unwrap();
                assert_eq!(
                    (ct.ctype(), ct.subtype()),
                    ("multipart", Some("encrypted")),
                    "{label}"
                );
                assert_eq!(ct.attribute("protocol"), Some("application/pgp-encrypted"));
                assert_eq!(m.parts.len(), 3, "{label}: the root and its two parts");
                let v = m.parts[1].content_type().unwrap();
                assert_eq!(
                    (v.ctype(), v.subtype()),
                    ("application", Some("pgp-encrypted"))
                );
                assert!(String::from_utf8_lossy(part_bytes(&m, 1)).contains("Version: 1"));
                let o = m.parts[2].content_type().unwrap();
                assert_eq!(
                    (o.ctype(), o.subtype()),
                    ("application", Some("octet-stream"))
                );
                // Threading is as for clear mail.
                assert_eq!(m.message_id(), row.message_id.as_deref(), "{label}");
                assert!(
                    m.reply_to()
                        .and_then(|a| a.first())
                        .and_then(|a| a.address())
                        .is_some_and(|a| a.starts_with(&format!("security+r{}-", ra.id))),
                    "{label}"
                );
                ids.push((
                    m.message_id().unwrap().to_owned(),
                    m.in_reply_to().as_text().map(str::to_owned),
                ));

                // The researcher's own gpg reads it: a MIME entity with the
                // real subject as a protected header and the text.
                let plain = gpg(home.path(), &["--decrypt"], part_bytes(&m, 2));
                let inner = mail_parser::MessageParser::default().parse(&plain).unwrap();
                assert_eq!(
                    inner.subject(),
                    Some(format!("[#{}] {title}", ra.id).as_str()),
                    "{label}"
                );
                let body = inner.body_text(0).unwrap();
                assert!(body.contains(&want), "{label}: {want:?} not in {body}");
            }
            // The comment is threaded under the acknowledgement.
            assert_eq!(ids[1].1.as_deref(), Some(ids[0].0.as_str()), "{label}");

            // Bob has no key: plain text, the title in the subject.
            let bob_rows = to("bob@researchers.test");
            assert_eq!(bob_rows.len(), 1, "{label}");
            assert_eq!(bob_rows[0].subject, format!("[#{}] Open redirect", rb.id));
            let raw = build_message(&bob_rows[0]).unwrap().formatted();
            let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
            let ct = m.content_type().unwrap();
            assert_eq!(
                (ct.ctype(), ct.subtype()),
                ("text", Some("plain")),
                "{label}"
            );
            assert!(
                m.body_text(0)
                    .unwrap()
                    .contains(&format!("Report #{}", rb.id))
            );

            // Alice removes her key: the next mail is in clear again.
            assert!(store.remove_user_pgp_key(alice.id).await.unwrap());
            service
                .comment(&ra, actor, "Deployed.", false, T0 + 3)
                .await
                .unwrap();
            let last = store
                .list_outbox(None, 100)
                .await
                .unwrap()
                .into_iter()
                .filter(|r| r.target == "alice@researchers.test")
                .max_by_key(|r| r.id)
                .unwrap();
            assert_eq!(last.subject, format!("[#{}] {title}", ra.id), "{label}");
            assert!(last.body.contains("Deployed."), "{label}");
        }
    }
}

#[test]
fn keys_that_cannot_encrypt_or_are_secret_are_refused_with_the_fix() {
    if !have_gpg() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    gpg(
        h,
        &[
            "--passphrase",
            "",
            "--quick-gen-key",
            "Signer <signer@x.test>",
            "ed25519",
            "sign",
            "never",
        ],
        b"",
    );
    let public = String::from_utf8(gpg(h, &["--armor", "--export", "signer@x.test"], b"")).unwrap();
    let e = RecipientKey::from_armored(&public).unwrap_err().to_string();
    assert!(
        e.contains("no part that can encrypt") && e.contains("--quick-add-key"),
        "{e}"
    );
    let secret = String::from_utf8(gpg(
        h,
        &[
            "--passphrase",
            "",
            "--armor",
            "--export-secret-keys",
            "signer@x.test",
        ],
        b"",
    ))
    .unwrap();
    let e = RecipientKey::from_armored(&secret).unwrap_err().to_string();
    assert!(
        e.contains("secret (private) key") && e.contains("gpg --export --armor"),
        "{e}"
    );
    let e = RecipientKey::from_armored("hello").unwrap_err().to_string();
    assert!(e.contains("BEGIN PGP PUBLIC KEY BLOCK"), "{e}");
    // A block that is cut short does not parse.
    let cut = &public[..public.len() / 2];
    let e = RecipientKey::from_armored(cut).unwrap_err().to_string();
    assert!(e.contains("does not parse"), "{e}");
}
