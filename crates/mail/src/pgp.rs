//! OpenPGP for the security@ mailbox: a programme may hold a key pair, whose
//! public half is published (security.txt `Encryption:`, the programme page,
//! `/programs/SLUG/pgp-key.asc`), and mail encrypted to it is decrypted on
//! arrival, so the team reads the plaintext like any other report.
//!
//! Both forms researchers send are understood: PGP/MIME (RFC 3156,
//! `multipart/encrypted; protocol="application/pgp-encrypted"`, whose
//! plaintext is a whole MIME entity, attachments and "protected headers"
//! subject included) and inline PGP (a text body that is one armoured
//! message). The decrypted message keeps the original's headers (Message-ID,
//! From, threading) and gets the original, still encrypted, as an attachment
//! `encrypted-original.txt`, so nothing the researcher sent is lost. Sender
//! checks still run on the original bytes (DKIM signs what was sent).
//!
//! rPGP (`pgp`), pure Rust: sequoia would need nettle or OpenSSL.

use mail_parser::MimeHeaders;
use pgp::composed::{
    ArmorOptions, Deserializable, Message as PgpMessage, MessageBuilder, SignedPublicKey,
    SignedPublicSubKey, SignedSecretKey,
};
use pgp::crypto::sym::SymmetricKeyAlgorithm;
use pgp::types::{KeyDetails, Password};
use std::io::Read;
use std::sync::Arc;

/// The name of the encrypted original kept with the report.
pub const ORIGINAL_NAME: &str = "encrypted-original.txt";

/// The largest plaintext taken from one message when the intake sets no limit.
const MAX_PLAINTEXT: usize = 64 * 1024 * 1024;

/// Why a key could not be loaded or a message decrypted.
#[derive(Debug, thiserror::Error)]
pub enum PgpError {
    #[error(
        "not an OpenPGP secret key ({0}); export it with `gpg --export-secret-keys --armor KEY`"
    )]
    BadKey(String),
    #[error("the OpenPGP key of {programme} has no part that can decrypt")]
    NoEncryptionKey { programme: String },
    #[error("the encrypted part is not an OpenPGP message: {0}")]
    BadMessage(String),
    #[error("no key of this server can decrypt it ({0})")]
    CannotDecrypt(String),
    #[error("the plaintext is larger than {0} bytes")]
    TooLarge(usize),
    #[error("{0}")]
    BadPublicKey(String),
    #[error("could not encrypt to the recipient's key: {0}")]
    Encrypt(String),
}

/// One programme's key pair.
pub struct ProgrammeKey {
    /// The programme's slug.
    pub programme: String,
    /// Unlocked (no passphrase) in memory.
    secret: SignedSecretKey,
    public_armored: String,
    fingerprint: String,
}

impl std::fmt::Debug for ProgrammeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProgrammeKey")
            .field("programme", &self.programme)
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl ProgrammeKey {
    /// An armoured transferable secret key (`gpg --export-secret-keys
    /// --armor`), with its passphrase ("" for none).
    pub fn from_armored(
        programme: &str,
        armored: &str,
        passphrase: &str,
    ) -> Result<Self, PgpError> {
        let (mut secret, _) = SignedSecretKey::from_string(armored.trim())
            .map_err(|e| PgpError::BadKey(e.to_string()))?;
        // Unlocked once, here: a wrong passphrase stops the server at start
        // (not at the first encrypted report), and each message is not
        // charged GnuPG's S2K hashing (about 200 ms) again.
        // (A key without a passphrase is left as it is.)
        let pw = Password::from(passphrase);
        let wrong = |e: pgp::errors::Error| {
            PgpError::BadKey(if passphrase.is_empty() {
                format!("it is protected by a passphrase; give it in passphrase_file ({e})")
            } else {
                format!("the passphrase does not unlock it ({e})")
            })
        };
        secret.primary_key.remove_password(&pw).map_err(wrong)?;
        for sub in &mut secret.secret_subkeys {
            sub.key.remove_password(&pw).map_err(wrong)?;
        }
        secret
            .verify_bindings()
            .map_err(|e| PgpError::BadKey(format!("its self-signatures do not verify: {e}")))?;
        let can_decrypt = secret.primary_key.algorithm().can_encrypt()
            || secret
                .secret_subkeys
                .iter()
                .any(|k| k.key.algorithm().can_encrypt());
        if !can_decrypt {
            return Err(PgpError::NoEncryptionKey {
                programme: programme.to_owned(),
            });
        }
        let public_armored = secret
            .to_public_key()
            .to_armored_string(Default::default())
            .map_err(|e| PgpError::BadKey(e.to_string()))?;
        let fingerprint = hex_upper(secret.fingerprint().as_bytes());
        Ok(ProgrammeKey {
            programme: programme.to_owned(),
            secret,
            public_armored,
            fingerprint,
        })
    }

    /// The public key, armoured, for researchers to encrypt to.
    pub fn public_armored(&self) -> &str {
        &self.public_armored
    }

    /// The primary key's fingerprint, upper-case hex.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

/// Someone's public key that mail to them is encrypted to (a researcher's
/// or team member's own, saved on their account page).
pub struct RecipientKey {
    key: SignedPublicKey,
    fingerprint: String,
}

impl std::fmt::Debug for RecipientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecipientKey")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl RecipientKey {
    /// An armoured transferable public key (`gpg --export --armor KEY`).
    /// Refused: anything else (a secret key above all: whoever pasted it
    /// must not have it stored), a key whose self-signatures do not verify,
    /// or one with no part that can encrypt.
    pub fn from_armored(armored: &str) -> Result<Self, PgpError> {
        let text = armored.trim();
        if text.contains("PRIVATE KEY BLOCK") {
            return Err(PgpError::BadPublicKey(
                "this is a secret (private) key: it must stay with you. Paste the public key \
                 instead, from `gpg --export --armor YOUR-ADDRESS`"
                    .into(),
            ));
        }
        if !text.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----") {
            return Err(PgpError::BadPublicKey(
                "this is not an armoured OpenPGP public key: paste the whole block from \
                 `gpg --export --armor YOUR-ADDRESS`, from -----BEGIN PGP PUBLIC KEY BLOCK----- \
                 to -----END PGP PUBLIC KEY BLOCK-----"
                    .into(),
            ));
        }
        let (key, _) = SignedPublicKey::from_string(text).map_err(|e| {
            PgpError::BadPublicKey(format!(
                "the key block does not parse ({e}); export it again with `gpg --export --armor YOUR-ADDRESS`"
            ))
        })?;
        key.verify_bindings().map_err(|e| {
            PgpError::BadPublicKey(format!("the key's self-signatures do not verify ({e})"))
        })?;
        let fingerprint = hex_upper(key.fingerprint().as_bytes());
        let r = RecipientKey { key, fingerprint };
        if r.encryption_subkey().is_none() && !r.key.primary_key.algorithm().can_encrypt() {
            return Err(PgpError::BadPublicKey(
                "the key has no part that can encrypt (a signing-only key); add an encryption \
                 subkey with `gpg --quick-add-key FINGERPRINT default encr`"
                    .into(),
            ));
        }
        Ok(r)
    }

    /// The primary key's fingerprint, upper-case hex.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The first subkey made for encryption (GnuPG puts it there; the
    /// primary key usually only certifies and signs).
    fn encryption_subkey(&self) -> Option<&SignedPublicSubKey> {
        self.key.public_subkeys.iter().find(|k| {
            k.key.algorithm().can_encrypt()
                && k.signatures.iter().any(|s| {
                    let f = s.key_flags();
                    f.encrypt_comms() || f.encrypt_storage()
                })
        })
    }

    /// `plaintext` encrypted to this key (AES-256, SEIPD v1, which every
    /// OpenPGP implementation reads), armoured.
    pub fn encrypt(&self, plaintext: &[u8]) -> Result<String, PgpError> {
        let mut rng = rand::thread_rng();
        let mut b = MessageBuilder::from_bytes("", plaintext.to_vec())
            .seipd_v1(&mut rng, SymmetricKeyAlgorithm::AES256);
        let e = |e: pgp::errors::Error| PgpError::Encrypt(e.to_string());
        match self.encryption_subkey() {
            Some(sub) => b.encrypt_to_key(&mut rng, sub).map_err(e)?,
            None => b.encrypt_to_key(&mut rng, &self.key).map_err(e)?,
        };
        b.to_armored_string(&mut rng, ArmorOptions::default())
            .map_err(e)
    }
}

/// The MIME entity encrypted in a PGP/MIME mail (RFC 3156: the plaintext is
/// a whole entity): the text, and the real subject as a "protected header"
/// (the outer subject is generic, so the report's title never travels in
/// clear; Thunderbird, K-9 and others show the inner one).
pub fn protected_entity(subject: &str, text: &str) -> Vec<u8> {
    let subject: String = subject
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    // 8bit UTF-8 with CRLF lines: inside the encryption nothing rewrites
    // it, and RFC 3156 asks for canonical line endings.
    let mut out = format!(
        "Content-Type: text/plain; charset=utf-8; protected-headers=\"v1\"\r\n\
         Content-Transfer-Encoding: 8bit\r\nSubject: {}\r\n\r\n",
        encode_header_word(&subject)
    );
    for line in text.lines() {
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.into_bytes()
}

/// RFC 2047 for a header value that is not plain ASCII.
fn encode_header_word(s: &str) -> String {
    if s.is_ascii() {
        return s.to_owned();
    }
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, s.as_bytes());
    format!("=?utf-8?b?{b64}?=")
}

fn hex_upper(b: &[u8]) -> String {
    hex::encode_upper(b)
}

/// Every programme's key; cheap to clone.
#[derive(Clone, Default, Debug)]
pub struct Keyring {
    keys: Arc<Vec<ProgrammeKey>>,
}

/// A message after decryption.
#[derive(Debug)]
pub struct Decrypted {
    /// The message to take instead: the original's headers, the plaintext,
    /// and the original as an attachment.
    pub raw: Vec<u8>,
    /// The programme whose key decrypted it.
    pub programme: String,
}

impl Keyring {
    pub fn new(keys: Vec<ProgrammeKey>) -> Self {
        Keyring {
            keys: Arc::new(keys),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn keys(&self) -> &[ProgrammeKey] {
        &self.keys
    }

    /// The key of one programme.
    pub fn for_programme(&self, slug: &str) -> Option<&ProgrammeKey> {
        self.keys.iter().find(|k| k.programme == slug)
    }

    /// `Ok(None)`: not encrypted. `Ok(Some)`: the decrypted message.
    /// `Err`: encrypted, but not readable here (the caller keeps the
    /// original and says so).
    pub fn decrypt_message(&self, raw: &[u8], limit: usize) -> Result<Option<Decrypted>, PgpError> {
        let Some(found) = find_encrypted(raw) else {
            return Ok(None);
        };
        let limit = if limit == 0 { MAX_PLAINTEXT } else { limit };
        let (plain, programme) = self.decrypt_armored(&found.armored, limit)?;
        let entity = match found.kind {
            Kind::PgpMime => plain,
            // Inline PGP: the plaintext is the text itself, not a MIME entity.
            Kind::Inline => {
                let mut e =
                    b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                        .to_vec();
                e.extend_from_slice(&plain);
                e
            }
        };
        Ok(Some(Decrypted {
            raw: rebuild(raw, Some(&entity), None),
            programme,
        }))
    }

    fn decrypt_armored(&self, armored: &str, limit: usize) -> Result<(Vec<u8>, String), PgpError> {
        if self.keys.is_empty() {
            return Err(PgpError::CannotDecrypt(
                "no programme has an OpenPGP key configured".into(),
            ));
        }
        let mut last = String::new();
        for key in self.keys.iter() {
            let (msg, _) = PgpMessage::from_string(armored)
                .map_err(|e| PgpError::BadMessage(e.to_string()))?;
            let msg = match msg.decrypt(&Password::empty(), &key.secret) {
                Ok(m) => m,
                Err(e) => {
                    last = e.to_string();
                    continue;
                }
            };
            let mut msg = if msg.is_compressed() {
                msg.decompress()
                    .map_err(|e| PgpError::BadMessage(e.to_string()))?
            } else {
                msg
            };
            let mut out = Vec::new();
            let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
            (&mut msg)
                .take(cap)
                .read_to_end(&mut out)
                .map_err(|e| PgpError::BadMessage(e.to_string()))?;
            if out.len() > limit {
                return Err(PgpError::TooLarge(limit));
            }
            return Ok((out, key.programme.clone()));
        }
        Err(PgpError::CannotDecrypt(last))
    }
}

/// A message that could not be decrypted, rebuilt so that the team sees why
/// and keeps the original: `None` when it is not encrypted at all.
pub fn undecryptable(raw: &[u8], why: &PgpError) -> Option<Vec<u8>> {
    find_encrypted(raw)?;
    let text = format!(
        "This message was sent encrypted with OpenPGP and could not be decrypted: {why}. \
         The original is attached as {ORIGINAL_NAME}; ask the researcher to encrypt to the \
         key this programme publishes, or to send it again unencrypted through the web form.\r\n"
    );
    Some(rebuild(raw, None, Some(&text)))
}

enum Kind {
    PgpMime,
    Inline,
}

struct Found {
    kind: Kind,
    armored: String,
}

const BEGIN: &str = "-----BEGIN PGP MESSAGE-----";

/// The armoured message of a PGP/MIME or inline-PGP mail.
fn find_encrypted(raw: &[u8]) -> Option<Found> {
    let msg = mail_parser::MessageParser::default().parse(raw)?;
    let root = msg.root_part().content_type();
    let is_pgp_mime = root.is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("encrypted"))
            && ct
                .attribute("protocol")
                .is_some_and(|p| p.eq_ignore_ascii_case("application/pgp-encrypted"))
    });
    if is_pgp_mime {
        // RFC 3156: the second part, application/octet-stream, holds it.
        return msg.parts.iter().skip(1).find_map(|p| {
            let text = String::from_utf8_lossy(p.contents());
            text.contains(BEGIN).then(|| Found {
                kind: Kind::PgpMime,
                armored: text.into_owned(),
            })
        });
    }
    let body = msg.body_text(0)?;
    let trimmed = body.trim();
    (trimmed.starts_with(BEGIN) && trimmed.ends_with("-----END PGP MESSAGE-----")).then(|| Found {
        kind: Kind::Inline,
        armored: trimmed.to_owned(),
    })
}

/// Header fields of a header block, each with its continuation lines.
fn header_fields(block: &str) -> Vec<&str> {
    let mut fields = Vec::new();
    let mut start = None;
    let mut pos = 0;
    for line in block.split_inclusive('\n') {
        let continuation = line.starts_with([' ', '\t']);
        if !continuation {
            if let Some(s) = start {
                fields.push(&block[s..pos]);
            }
            start = Some(pos);
        }
        pos += line.len();
    }
    if let Some(s) = start {
        fields.push(&block[s..pos]);
    }
    fields
}

fn field_name(field: &str) -> String {
    field
        .split(':')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Header block and body of a message or MIME entity.
fn split(raw: &[u8]) -> (String, &[u8]) {
    let text = raw;
    for (i, w) in text.windows(2).enumerate() {
        if w == b"\n\n" {
            return (
                String::from_utf8_lossy(&text[..=i]).into_owned(),
                &text[i + 2..],
            );
        }
        if w == b"\n\r" && text.get(i + 2) == Some(&b'\n') {
            return (
                String::from_utf8_lossy(&text[..=i]).into_owned(),
                &text[i + 3..],
            );
        }
    }
    (String::from_utf8_lossy(text).into_owned(), &[])
}

fn boundary() -> String {
    let mut b = [0u8; 12];
    // Without randomness the fixed boundary still works: the base64 of the
    // original and an entity's own boundaries never contain it by chance
    // in practice, and this is no security boundary.
    let _ = getrandom::fill(&mut b);
    format!("rampart-pgp-{}", hex::encode(b))
}

/// The original's headers (without its MIME ones; with the protected
/// subject of the plaintext, if it has one), then multipart/mixed with the
/// plaintext entity (or a note) and the original as an attachment.
fn rebuild(raw: &[u8], entity: Option<&[u8]>, note: Option<&str>) -> Vec<u8> {
    let (outer, _) = split(raw);
    let protected_subject = entity.and_then(|e| {
        let (h, _) = split(e);
        header_fields(&h)
            .into_iter()
            .find(|f| field_name(f) == "subject")
            .map(str::to_owned)
    });
    let b = boundary();
    let mut out = String::new();
    for f in header_fields(&outer) {
        let name = field_name(f);
        if matches!(
            name.as_str(),
            "content-type" | "content-transfer-encoding" | "mime-version"
        ) || (name == "subject" && protected_subject.is_some())
        {
            continue;
        }
        out.push_str(f.trim_end_matches(['\r', '\n']));
        out.push_str("\r\n");
    }
    if let Some(s) = &protected_subject {
        out.push_str(s.trim_end_matches(['\r', '\n']));
        out.push_str("\r\n");
    }
    out.push_str(&format!(
        "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"{b}\"\r\n\r\n--{b}\r\n"
    ));
    let mut bytes = out.into_bytes();
    match (entity, note) {
        (Some(e), _) => bytes.extend_from_slice(e),
        (None, Some(n)) => {
            bytes.extend_from_slice(
                b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
            );
            bytes.extend_from_slice(n.as_bytes());
        }
        (None, None) => {}
    }
    let encoded = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, raw);
    let mut tail = format!(
        "\r\n--{b}\r\nContent-Type: text/plain; charset=us-ascii; name=\"{ORIGINAL_NAME}\"\r\n\
         Content-Disposition: attachment; filename=\"{ORIGINAL_NAME}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n"
    );
    for chunk in encoded.as_bytes().chunks(76) {
        tail.push_str(&String::from_utf8_lossy(chunk));
        tail.push_str("\r\n");
    }
    tail.push_str(&format!("--{b}--\r\n"));
    bytes.extend_from_slice(tail.as_bytes());
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields_keep_continuations() {
        let f = header_fields("Subject: a\r\n b\r\nFrom: x@y\r\n");
        assert_eq!(f, ["Subject: a\r\n b\r\n", "From: x@y\r\n"]);
        assert_eq!(field_name(f[0]), "subject");
    }

    #[test]
    fn plain_mail_is_not_encrypted() {
        let raw = b"From: a@b.test\r\nSubject: hi\r\n\r\nhello\r\n";
        assert!(
            Keyring::default()
                .decrypt_message(raw, 0)
                .unwrap()
                .is_none()
        );
        let e = PgpError::CannotDecrypt("x".into());
        assert!(undecryptable(raw, &e).is_none());
    }

    #[test]
    fn an_undecryptable_message_keeps_its_headers_and_the_original() {
        let raw = b"From: a@b.test\r\nMessage-ID: <m1@b.test>\r\nSubject: secret\r\n\
            MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n\
            -----BEGIN PGP MESSAGE-----\r\n\r\nhQEMA\r\n-----END PGP MESSAGE-----\r\n";
        let err = Keyring::default().decrypt_message(raw, 0).unwrap_err();
        assert!(
            err.to_string().contains("no programme has an OpenPGP key"),
            "{err}"
        );
        let rebuilt = undecryptable(raw, &err).unwrap();
        let m = crate::message::parse(&rebuilt).unwrap();
        assert_eq!(m.subject, "secret");
        assert_eq!(m.message_id.as_deref(), Some("m1@b.test"));
        assert!(m.body.contains("could not be decrypted"), "{}", m.body);
        let [a] = &m.attachments[..] else {
            panic!("{:?}", m.attachments)
        };
        assert_eq!(a.filename, ORIGINAL_NAME);
        assert_eq!(a.bytes, raw);
    }

    #[test]
    fn garbage_keys_are_refused_with_the_export_command() {
        let e = ProgrammeKey::from_armored("shop", "not a key", "").unwrap_err();
        assert!(e.to_string().contains("gpg --export-secret-keys"), "{e}");
    }
}
