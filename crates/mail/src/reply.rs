//! Per-report reply addresses and the Message-IDs Rampart sends.
//!
//! A reply address is `LOCAL+r<ID>-<TOKEN>@DOMAIN`, built from a programme's
//! security@ address. `TOKEN` is the first 80 bits of
//! `HMAC-SHA256(key, "rampart-reply-v1:" || ID)`, written in lower-case
//! base32 (16 characters; mail systems may change the case of a local part,
//! base32's alphabet survives that). The key is 32 random bytes generated on
//! first use and kept in the database (`mail_secrets`), so every Rampart
//! process on the same database agrees without configuration. Knowing the
//! report id alone gives nothing: 2^80 guesses are needed for a token, and
//! tokens of other reports reveal nothing about it. Rotating the key (deleting
//! the row) invalidates every reply address already handed out; replies then
//! fall back to the subject-token rule.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Name of the reply-address key in `mail_secrets`.
pub const REPLY_KEY_NAME: &str = "reply-address-key-v1";

const TOKEN_BYTES: usize = 10;
const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// Signs and checks reply-address tokens with one server key.
#[derive(Clone)]
pub struct ReplyKey {
    key: Vec<u8>,
}

impl std::fmt::Debug for ReplyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReplyKey(…)")
    }
}

fn base32(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut buf: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        buf = (buf << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buf >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buf << (5 - bits)) & 31) as usize]));
    }
    out
}

fn unbase32(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf: u32 = 0;
    let mut bits = 0;
    for c in s.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c.to_ascii_lowercase())? as u32;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    Some(out)
}

/// A fresh random key, hex-encoded for storage.
pub fn generate_key_hex() -> Result<String, getrandom::Error> {
    let mut k = [0u8; 32];
    getrandom::fill(&mut k)?;
    Ok(hex::encode(k))
}

/// A fresh random hex string of `n` bytes (for Message-IDs).
pub fn random_hex(n: usize) -> Result<String, getrandom::Error> {
    let mut k = vec![0u8; n];
    getrandom::fill(&mut k)?;
    Ok(hex::encode(k))
}

impl ReplyKey {
    pub fn new(key: &[u8]) -> Self {
        ReplyKey { key: key.to_vec() }
    }

    /// From the stored hex form; a value that is not hex is used as bytes.
    pub fn from_stored(stored: &str) -> Self {
        ReplyKey::new(&hex::decode(stored).unwrap_or_else(|_| stored.as_bytes().to_vec()))
    }

    fn mac(&self, report_id: i64) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .expect("HMAC takes a key of any length");
        mac.update(b"rampart-reply-v1:");
        mac.update(report_id.to_string().as_bytes());
        mac
    }

    /// The token for a report.
    pub fn token(&self, report_id: i64) -> String {
        let tag = self.mac(report_id).finalize().into_bytes();
        base32(&tag[..TOKEN_BYTES])
    }

    /// Whether `token` is the report's (in constant time).
    pub fn verify(&self, report_id: i64, token: &str) -> bool {
        if token.len() != 16 {
            return false;
        }
        match unbase32(token) {
            Some(bytes) if bytes.len() == TOKEN_BYTES => {
                self.mac(report_id).verify_truncated_left(&bytes).is_ok()
            }
            _ => false,
        }
    }

    /// The reply address of a report, built on a programme's address
    /// (`security@shop.test` → `security+r42-abcd…@shop.test`).
    pub fn reply_address(&self, base: &str, report_id: i64) -> Option<String> {
        let (local, domain) = base.trim().rsplit_once('@')?;
        let local = local.split('+').next().unwrap_or(local);
        Some(format!(
            "{local}+r{report_id}-{}@{domain}",
            self.token(report_id)
        ))
    }
}

/// A reply address as found among a message's recipients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyAddress {
    /// The address without its `+r…` part.
    pub base: String,
    pub report_id: i64,
    pub token: String,
}

/// Splits `local+r<ID>-<TOKEN>@domain`; `None` for any other address.
pub fn parse_reply_address(address: &str) -> Option<ReplyAddress> {
    let (local, domain) = address.trim().rsplit_once('@')?;
    let (base_local, tag) = local.split_once('+')?;
    let rest = tag.strip_prefix('r').or_else(|| tag.strip_prefix('R'))?;
    let (id, token) = rest.split_once('-')?;
    if id.is_empty() || id.len() > 19 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(ReplyAddress {
        base: format!("{base_local}@{domain}").to_lowercase(),
        report_id: id.parse().ok()?,
        token: token.to_lowercase(),
    })
}

/// A Message-ID for mail about a report: `r<ID>.<random>@<domain>`
/// (stored in `mail_sent`, so replies quoting it thread).
pub fn new_message_id(report_id: i64, domain: &str) -> Result<String, getrandom::Error> {
    Ok(format!("r{report_id}.{}@{domain}", random_hex(12)?).to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_address_parses_without_panicking(a in "\\PC{0,80}") {
            let _ = parse_reply_address(&a);
        }

        #[test]
        fn built_addresses_read_back(id in 1i64..i64::MAX, key in proptest::collection::vec(any::<u8>(), 1..64),
                                     local in "[a-z][a-z0-9.]{0,20}", domain in "[a-z]{1,10}\\.[a-z]{2,5}") {
            let k = ReplyKey::new(&key);
            let a = k.reply_address(&format!("{local}@{domain}"), id).expect("address");
            let p = parse_reply_address(&a).expect("parses");
            prop_assert_eq!(p.report_id, id);
            prop_assert!(k.verify(id, &p.token));
            let other = if id > 1 { id - 1 } else { id + 1 };
            prop_assert!(!k.verify(other, &p.token));
        }

        #[test]
        fn random_tokens_do_not_verify(id in 1i64..1_000_000, token in "[a-z2-7]{16}") {
            let k = ReplyKey::new(b"fixed key");
            prop_assume!(token != k.token(id));
            prop_assert!(!k.verify(id, &token));
        }
    }

    #[test]
    fn tokens_verify_only_for_their_report_and_key() {
        let k = ReplyKey::new(b"server secret one");
        let t = k.token(42);
        assert_eq!(t.len(), 16);
        assert!(t.bytes().all(|b| ALPHABET.contains(&b)));
        assert!(k.verify(42, &t));
        assert!(k.verify(42, &t.to_uppercase()), "case-insensitive");
        assert!(!k.verify(43, &t));
        assert!(!ReplyKey::new(b"another key").verify(42, &t));
        assert!(!k.verify(42, &t[..15]));
        assert!(!k.verify(42, "0000000000000000"), "not base32");
        assert_ne!(k.token(1), k.token(2));
    }

    #[test]
    fn base32_round_trips() {
        for bytes in [&b""[..], b"a", b"hello world", &[0xff; 10]] {
            assert_eq!(unbase32(&base32(bytes)).as_deref(), Some(bytes));
        }
    }

    #[test]
    fn reply_addresses_are_built_and_read_back() {
        let k = ReplyKey::new(b"k");
        let a = k
            .reply_address("Security@Shop.test", 7)
            .expect("an address");
        let parsed = parse_reply_address(&a).expect("parses");
        assert_eq!(parsed.report_id, 7);
        assert_eq!(parsed.base, "security@shop.test");
        assert!(k.verify(7, &parsed.token));
        // A programme address that already has a +tag keeps its base.
        let b = k.reply_address("security+shop@x.test", 7).expect("address");
        assert!(b.starts_with("security+r7-"), "{b}");
    }

    #[test]
    fn other_plus_addresses_are_not_reply_addresses() {
        for a in [
            "security@shop.test",
            "security+shop@shop.test",
            "security+r@shop.test",
            "security+rx1-abc@shop.test",
            "security+r1@shop.test",
            "security+r99999999999999999999-abc@shop.test",
        ] {
            assert_eq!(parse_reply_address(a), None, "{a}");
        }
    }

    #[test]
    fn message_ids_name_the_report_and_differ() {
        let a = new_message_id(5, "rampart.shop.test").expect("random");
        let b = new_message_id(5, "rampart.shop.test").expect("random");
        assert!(a.starts_with("r5.") && a.ends_with("@rampart.shop.test"));
        assert_ne!(a, b);
    }
}
