#![allow(clippy::unwrap_used)]
//! Users' OpenPGP public keys and the once-an-hour refusal claim, on every
//! backend (migration 0006).

use rampart_core::Role;
use rampart_store::testkit;

const T0: i64 = 1_800_000_000_000;
const HOUR: i64 = 3_600_000;

#[tokio::test]
async fn a_user_keeps_one_key_replaces_and_removes_it() {
    for ts in testkit::all().await {
        let s = &ts.store;
        let alice = s
            .create_user("alice@researchers.test", Role::Researcher, None, T0)
            .await
            .unwrap();
        let bob = s
            .create_user("bob@researchers.test", Role::Researcher, None, T0)
            .await
            .unwrap();
        assert_eq!(
            s.user_pgp_key(alice.id).await.unwrap(),
            None,
            "{}",
            ts.label
        );
        s.set_user_pgp_key(alice.id, "KEY ONE", "AAAA", T0)
            .await
            .unwrap();
        s.set_user_pgp_key(alice.id, "KEY TWO", "BBBB", T0 + 5)
            .await
            .unwrap();
        let k = s.user_pgp_key(alice.id).await.unwrap().unwrap();
        assert_eq!(
            (
                k.user_id,
                k.armored.as_str(),
                k.fingerprint.as_str(),
                k.updated_at
            ),
            (alice.id, "KEY TWO", "BBBB", T0 + 5),
            "{}",
            ts.label
        );
        // Someone else's key is theirs alone.
        assert_eq!(s.user_pgp_key(bob.id).await.unwrap(), None, "{}", ts.label);
        assert!(
            !s.remove_user_pgp_key(bob.id).await.unwrap(),
            "{}",
            ts.label
        );
        assert!(
            s.remove_user_pgp_key(alice.id).await.unwrap(),
            "{}",
            ts.label
        );
        assert!(
            !s.remove_user_pgp_key(alice.id).await.unwrap(),
            "{}",
            ts.label
        );
        assert_eq!(
            s.user_pgp_key(alice.id).await.unwrap(),
            None,
            "{}",
            ts.label
        );
        // No such user: an error, not a dangling key.
        assert!(
            s.set_user_pgp_key(9_999, "K", "F", T0).await.is_err(),
            "{}",
            ts.label
        );
    }
}

#[tokio::test]
async fn one_refusal_per_sender_per_hour() {
    for ts in testkit::all().await {
        let s = &ts.store;
        assert!(
            s.claim_refusal_mail("Robot@Example.test", HOUR, T0)
                .await
                .unwrap()
        );
        // Same address in another case, within the hour: no.
        assert!(
            !s.claim_refusal_mail("robot@example.test", HOUR, T0 + 1)
                .await
                .unwrap()
        );
        assert!(
            !s.claim_refusal_mail("robot@example.test", HOUR, T0 + HOUR - 1)
                .await
                .unwrap()
        );
        // Another sender is not held back.
        assert!(
            s.claim_refusal_mail("other@example.test", HOUR, T0 + 2)
                .await
                .unwrap(),
            "{}",
            ts.label
        );
        // An hour after the last one that went: yes, once.
        assert!(
            s.claim_refusal_mail("robot@example.test", HOUR, T0 + HOUR)
                .await
                .unwrap()
        );
        assert!(
            !s.claim_refusal_mail("robot@example.test", HOUR, T0 + HOUR + 10)
                .await
                .unwrap()
        );
        // Concurrent claims: exactly one wins.
        let tries: Vec<_> = (0..8)
            .map(|_| {
                let s = s.clone();
                tokio::spawn(async move {
                    s.claim_refusal_mail("race@example.test", HOUR, T0)
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut won = 0;
        for t in tries {
            won += usize::from(t.await.unwrap());
        }
        assert_eq!(won, 1, "{}", ts.label);
    }
}
