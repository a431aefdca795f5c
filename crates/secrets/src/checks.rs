//! The judgement calls after a regex matched: entropy, placeholders,
//! checksums and structure. Each function is pure so that the rule examples
//! and unit tests can pin its behaviour.

use base64::Engine as _;
use serde::Deserialize;

/// Structural checks a rule can ask for. A candidate that fails its check is
/// dropped: a GitHub token with a wrong CRC32 is a typo or a fake, not a leak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// GitHub classic tokens and npm tokens: `prefix_` + 30 base62 characters
    /// + 6 base62 characters of CRC32 over those 30.
    Crc32Base62,
    /// `header.payload.signature` whose header is base64url JSON with `alg`.
    Jwt,
    /// The body of a PEM/OpenSSH private key is real base64, not `...`.
    PemBody,
    /// Base64 that decodes to a PEM private key (kubeconfig `client-key-data`).
    Base64Pem,
    /// Base64 that decodes to `user:password` (Docker `auth`, HTTP Basic).
    Base64UserPass,
    /// A generic assignment (`password = "…"`): placeholders, variable
    /// references, code expressions, hashes and UUIDs are refused.
    GenericPassword,
    /// Like `generic-password`, and the value must look random.
    GenericSecret,
    /// Credentials in a URL: the password must not be a placeholder, equal
    /// the user name, or point at an example host.
    UrlPassword,
}

impl Check {
    /// Whether this check makes a match trustworthy on its own (raises
    /// confidence to high when it passes).
    pub fn is_checksum(self) -> bool {
        matches!(self, Check::Crc32Base62)
    }
}

/// Shannon entropy in bits per byte.
pub fn shannon_entropy(s: &[u8]) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in s {
        counts[b as usize] += 1;
    }
    let len = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / len;
            -p * p.log2()
        })
        .sum()
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn base62_decode(s: &[u8]) -> Option<u64> {
    let mut n: u64 = 0;
    for &c in s {
        let digit = BASE62.iter().position(|&b| b == c)? as u64;
        n = n.checked_mul(62)?.checked_add(digit)?;
    }
    Some(n)
}

/// GitHub/npm token checksum: the last six characters are the base62 CRC32
/// (ISO-HDLC, as zlib computes it) of the 30 characters after the prefix.
pub fn crc32_base62_ok(token: &str) -> bool {
    let Some(underscore) = token.rfind('_') else {
        return false;
    };
    let body = &token.as_bytes()[underscore + 1..];
    if body.len() != 36 {
        return false;
    }
    let (random, check) = body.split_at(30);
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(random);
    base62_decode(check) == Some(u64::from(crc))
}

/// Encodes a CRC32 as GitHub does; used by tests to build valid examples.
pub fn crc32_base62_suffix(random: &str) -> String {
    let mut n = u64::from(crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(random.as_bytes()));
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn b64_any(s: &str) -> Option<Vec<u8>> {
    let trimmed = s.trim_end_matches('=');
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(trimmed)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(trimmed))
        .ok()
}

/// A JWT whose header is JSON naming an algorithm.
pub fn jwt_ok(token: &str) -> bool {
    let mut parts = token.split('.');
    let (Some(header), Some(payload)) = (parts.next(), parts.next()) else {
        return false;
    };
    let Some(h) = b64_any(header) else {
        return false;
    };
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&h) else {
        return false;
    };
    json.get("alg").is_some() && b64_any(payload).is_some()
}

/// The body of a private key: at least 40 base64 characters once line
/// breaks, escapes, quotes and PEM headers are removed.
pub fn pem_body_ok(body: &str) -> bool {
    let mut b64 = 0usize;
    for line in body.split(['\n', '\r']).flat_map(|l| l.split("\\n")) {
        let l = line
            .trim()
            .trim_matches(|c| c == '"' || c == '\'' || c == ',' || c == '+');
        let l = l.trim();
        if l.contains(':') || l.is_empty() {
            // Proc-Type:, DEK-Info:, Comment: headers carry no key material.
            continue;
        }
        if l.contains("...") || l.contains('<') || l.contains('*') {
            return false;
        }
        if l.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=')
        {
            b64 += l.len();
        }
    }
    b64 >= 40 && !is_repetitive(body.as_bytes())
}

/// Base64 of a PEM private key.
pub fn base64_pem_ok(s: &str) -> bool {
    b64_any(s).is_some_and(|d| {
        let text = String::from_utf8_lossy(&d);
        text.contains("PRIVATE KEY") && pem_body_ok(&text)
    })
}

/// Base64 of `user:password` with a non-placeholder password.
pub fn base64_user_pass_ok(s: &str) -> bool {
    let Some(d) = b64_any(s) else {
        return false;
    };
    let Ok(text) = std::str::from_utf8(&d) else {
        return false;
    };
    match text.split_once(':') {
        Some((user, pass)) => {
            !user.is_empty()
                && pass.len() >= 4
                && !text.bytes().any(|b| b.is_ascii_control())
                && !is_trivial_password(pass)
        }
        None => false,
    }
}

/// Words that mark a value as an example or a template, never a secret.
const PLACEHOLDER_WORDS: &[&str] = &[
    "example",
    "changeme",
    "change_me",
    "change-me",
    "placeholder",
    "dummy",
    "redacted",
    "your_",
    "your-",
    "yourpass",
    "yoursecret",
    "yourtoken",
    "yourkey",
    "replace_me",
    "replaceme",
    "insert_",
    "xxxx",
    "****",
    "...",
    "<",
    ">",
    "${",
    "#{",
    "{{",
    "}}",
    "fake",
    "sample",
    "notreal",
    "not_real",
    "not-a-real",
    "todo",
    "fixme",
];

/// A value that is obviously a template or example: it contains a marker
/// word, is one character repeated, or counts up (`123456…`, `abcdef…`).
pub fn is_placeholder(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    PLACEHOLDER_WORDS.iter().any(|w| lower.contains(w)) || is_repetitive(value.as_bytes())
}

/// A narrower test for provider tokens, whose random parts can contain
/// short words by chance: only unmistakable markers count.
pub fn is_provider_placeholder(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    [
        "example",
        "xxxxxx",
        "******",
        "<",
        ">",
        "${",
        "{{",
        "placeholder",
        "redacted",
        "your_",
        "1234567890",
        "abcdefghij",
    ]
    .iter()
    .any(|w| lower.contains(w))
        || is_repetitive(value.as_bytes())
}

/// One character repeated, or a run such as `0123456789` / `abcdefgh`, for
/// most of the value.
fn is_repetitive(v: &[u8]) -> bool {
    let core: Vec<u8> = v
        .iter()
        .copied()
        .filter(|b| b.is_ascii_alphanumeric())
        .collect();
    if core.len() < 4 {
        return false;
    }
    let first = core[0];
    if core.iter().filter(|&&b| b == first).count() * 10 >= core.len() * 8 {
        return true;
    }
    let ascending = core
        .windows(2)
        .filter(|w| w[1] == w[0].wrapping_add(1))
        .count();
    ascending * 10 >= (core.len() - 1) * 8
}

/// `8-4-4-4-12` hex.
pub fn is_uuid(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// A digest written as one: `sha256:…`, `sha512-…` (lock-file integrity),
/// or bare hex of a digest length.
pub fn is_hash_like(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    for prefix in [
        "sha1", "sha256", "sha384", "sha512", "md5", "blake2", "sha-256", "sha-1",
    ] {
        if let Some(rest) = lower.strip_prefix(prefix)
            && (rest.starts_with(':') || rest.starts_with('-') || rest.starts_with('='))
        {
            return true;
        }
    }
    lower.starts_with("$2a$")
        || lower.starts_with("$2b$")
        || lower.starts_with("$2y$")
        || lower.starts_with("$argon2")
}

fn is_hex_digest(v: &str) -> bool {
    matches!(v.len(), 32 | 40 | 64 | 128) && v.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Key names that contain a secret word but never hold a secret.
const NON_SECRET_KEY_PARTS: &[&str] = &[
    "type",
    "name",
    "_id",
    "-id",
    "url",
    "uri",
    "path",
    "file",
    "length",
    "_len",
    "size",
    "count",
    "_min",
    "min_",
    "_max",
    "max_",
    "policy",
    // Anti-forgery tokens are made per session and printed into every form.
    "csrf",
    "xsrf",
    "field",
    "label",
    "hint",
    "prompt",
    "regex",
    "pattern",
    "format",
    "expir",
    "ttl",
    "timeout",
    "header",
    "param",
    "endpoint",
    "_var",
    "hash",
    "digest",
    "checksum",
    "fingerprint",
    "public",
    "pubkey",
    "strength",
    "reset",
    "confirm",
    "placeholder",
    "required",
    "validation",
    "error",
    "message",
    "encoding",
    "algorithm",
    "location",
    "prefix",
    "mode",
    "rotation",
    "version",
    "index",
    "limit",
    "_at",
    "column",
    "class",
    "style",
];

/// Values that appear after `password =` and friends without being one.
const NON_SECRET_VALUES: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "none",
    "null",
    "nil",
    "true",
    "false",
    "undefined",
    "required",
    "optional",
    "string",
    "empty",
    "default",
    "hidden",
    "disabled",
    "enabled",
    "bearer",
    "basic",
    "notset",
    "unset",
    "masked",
    "string?",
    "boolean",
    "integer",
    "number",
    "private",
    "public",
    "secure",
    "invalid",
    "unknown",
    "missing",
    "testing",
    "admin",
    "root",
    "postgres",
    "guest",
    "user",
    "username",
    "letmein",
    "secret123",
    "password123",
    "pass",
    "mysecret",
    "supersecret",
    "s3cr3t",
    "hunter2",
    "qwerty",
    "p@ssw0rd",
    "passw0rd",
    "foo",
    "bar",
    "baz",
    "qux",
    "foobar",
    "opensesame",
    "open sesame",
    "tiger",
    "changeit",
    "correcthorsebatterystaple",
    "correct horse battery staple",
    "secret1",
    "abc123",
];

/// Words inside a generic value that mark it as made up for a test or a
/// document (`testPass`, `MyPassword`, `super-secret`).
const MADE_UP_PARTS: &[&str] = &["password", "passwd", "secret", "test"];

/// Extensions of programming languages, where an unquoted right-hand side
/// is an expression (a variable or call), not a literal.
const CODE_EXTENSIONS: &[&str] = &[
    "py", "js", "mjs", "cjs", "ts", "tsx", "jsx", "go", "java", "kt", "kts", "scala", "rb", "rs",
    "cs", "php", "swift", "c", "h", "cc", "cpp", "hpp", "m", "dart", "lua", "pl", "r", "ex", "exs",
    "groovy", "vue", "svelte", "ipynb",
];

/// Whether the path is source code (unquoted values are expressions there).
pub fn is_code_path(path: &str) -> bool {
    extension(path).is_some_and(|ext| CODE_EXTENSIONS.contains(&ext.as_str()))
}

fn extension(path: &str) -> Option<String> {
    let file = path.rsplit(['/', '\\']).next().unwrap_or(path);
    file.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())
}

/// Test fixtures and examples: findings there are reported with lower
/// confidence, because many are deliberate.
pub fn is_test_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let with_slash = format!("/{lower}");
    [
        "/test/",
        "/tests/",
        "/spec/",
        "/fixtures/",
        "/fixture/",
        "/testdata/",
        "/__tests__/",
        "/examples/",
        "/example/",
        "/mocks/",
    ]
    .iter()
    .any(|d| with_slash.contains(d))
        || lower.contains("_test.")
        || lower.contains(".test.")
        || lower.contains(".spec.")
        || lower.contains("test_")
}

/// Values that reference something else: `$VAR`, `os.environ[…]`,
/// `process.env.X`, `self.password`, function calls.
fn is_reference(value: &str) -> bool {
    let v = value.trim();
    v.starts_with('$')
        || v.starts_with('@')
        || v.starts_with('%')
        || v.starts_with('&')
        || v.starts_with('!')
        || v.starts_with("env:")
        || v.starts_with("vault:")
        || v.starts_with("arn:")
        || v.starts_with("secret:")
        || v.starts_with("ENC(")
        || v.contains("process.env")
        || v.contains("os.environ")
        || v.contains("getenv")
        || v.contains("()")
}

fn is_identifier_path(v: &str) -> bool {
    !v.is_empty()
        && !v.starts_with([':', '.'])
        && !v.ends_with([':', '.'])
        && v.split(['.', ':']).filter(|p| !p.is_empty()).all(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

fn char_classes(v: &str) -> usize {
    let lower = v.bytes().any(|b| b.is_ascii_lowercase());
    let upper = v.bytes().any(|b| b.is_ascii_uppercase());
    let digit = v.bytes().any(|b| b.is_ascii_digit());
    let symbol = v.bytes().any(|b| !b.is_ascii_alphanumeric());
    [lower, upper, digit, symbol]
        .into_iter()
        .filter(|&x| x)
        .count()
}

/// The context of a generic assignment match.
pub struct Assignment<'a> {
    pub key: &'a str,
    pub value: &'a str,
    pub quoted: bool,
    pub path: &'a str,
    /// The byte right after the value (`(` makes it a function call).
    pub next: Option<u8>,
}

/// Whether a `password = …` assignment holds a real password.
pub fn generic_password_ok(a: &Assignment<'_>) -> bool {
    common_generic_ok(a) && a.value.len() >= 6
}

/// Whether a `secret/token/api_key = …` assignment holds a random secret.
pub fn generic_secret_ok(a: &Assignment<'_>) -> bool {
    let v = a.value;
    if !common_generic_ok(a) || v.len() < 12 {
        return false;
    }
    // Short hex is an id or a digest prefix; digits are numbers; text that
    // is merely base64/base32-encoded is not a key.
    let hex = v.bytes().all(|b| b.is_ascii_hexdigit());
    if (hex && v.len() < 32) || v.bytes().all(|b| b.is_ascii_digit()) || decodes_to_text(v) {
        return false;
    }
    let entropy = shannon_entropy(a.value.as_bytes());
    entropy >= 3.0 && char_classes(a.value) >= 2 && a.value.bytes().any(|b| b.is_ascii_digit())
}

fn common_generic_ok(a: &Assignment<'_>) -> bool {
    let key = a.key.to_ascii_lowercase();
    if NON_SECRET_KEY_PARTS.iter().any(|p| key.contains(p)) {
        return false;
    }
    let value = a.value;
    let lower = value.to_ascii_lowercase();
    if NON_SECRET_VALUES.contains(&lower.as_str())
        || is_placeholder(value)
        || is_reference(value)
        || is_uuid(value)
        || is_hash_like(value)
        || lower.starts_with("data:")
        || lower.starts_with("http://")
        || lower.starts_with("https://")
        || lower.starts_with("file:")
        || value.starts_with('/')
        || value.starts_with("./")
        || value.contains(' ')
    {
        return false;
    }
    // A value that is (part of) its key is a label.
    if key.contains(&lower) || MADE_UP_PARTS.iter().any(|w| lower.contains(w)) {
        return false;
    }
    // f-strings and templates: `{self.password}`, `{0}`.
    if value.contains('{') && value.contains('}') {
        return false;
    }
    if !a.quoted && a.next == Some(b'(') {
        return false;
    }
    // PowerShell quotes every string; a bare word is a command or a
    // variable (`$pw = Read-Host -AsSecureString`).
    if !a.quoted && extension(a.path).is_some_and(|e| matches!(e.as_str(), "ps1" | "psm1" | "psd1"))
    {
        return false;
    }
    if is_hex_digest(value) && (a.path.ends_with(".lock") || a.path.ends_with(".sum")) {
        return false;
    }
    if !a.quoted && is_code_path(a.path) && is_identifier_path(value) {
        return false;
    }
    // A bare word with nothing but lowercase letters and underscores reads
    // as a symbol (`password: required_field`), not as a password.
    if !a.quoted
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'-')
    {
        return false;
    }
    true
}

/// A password that only ever appears in documentation and defaults.
fn is_trivial_password(pw: &str) -> bool {
    NON_SECRET_VALUES.contains(&pw.to_ascii_lowercase().as_str()) || is_placeholder(pw)
}

/// Base64 or base32 that decodes to readable text (`VGVzdFNlY3JldA==`,
/// `KRSXG5CT…`): an encoded word, where real keys decode to random bytes.
pub fn decodes_to_text(v: &str) -> bool {
    let printable = |d: &[u8]| d.len() >= 6 && d.iter().all(|&b| (0x20..0x7f).contains(&b));
    if (v.len().is_multiple_of(4) || v.ends_with('=')) && b64_any(v).is_some_and(|d| printable(&d))
    {
        return true;
    }
    let b32 = v.trim_end_matches('=');
    if b32.len() >= 16
        && b32
            .bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
    {
        let mut bits: u64 = 0;
        let mut n = 0;
        let mut out = Vec::new();
        for c in b32.bytes() {
            let val = if c.is_ascii_uppercase() {
                c - b'A'
            } else {
                c - b'2' + 26
            };
            bits = (bits << 5) | u64::from(val);
            n += 5;
            if n >= 8 {
                n -= 8;
                out.push((bits >> n) as u8);
            }
        }
        return printable(&out);
    }
    false
}

/// Whether credentials in a URL are real.
pub fn url_password_ok(user: &str, password: &str, host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    let pw = password.to_ascii_lowercase();
    !(password.len() < 6
        || password == user
        || password.contains(['(', ')', '[', ']', '{', '}', '$'])
        || is_placeholder(password)
        || is_reference(password)
        || NON_SECRET_VALUES.contains(&pw.as_str())
        || host.ends_with("example.com")
        || host.ends_with("example.org")
        || host.ends_with("example.net")
        || host == "host"
        || host == "hostname"
        || pw.contains("pass")
        || pw == "pwd"
        || pw == "secret")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn entropy_of_simple_strings() {
        assert_eq!(shannon_entropy(b""), 0.0);
        assert_eq!(shannon_entropy(b"aaaa"), 0.0);
        assert!((shannon_entropy(b"abcd") - 2.0).abs() < 1e-9);
    }

    #[test]
    fn crc32_round_trip() {
        let random = "R4nd0mT0kenB0dyF0rTest1ng12345";
        assert_eq!(random.len(), 30);
        let token = format!("ghp_{random}{}", crc32_base62_suffix(random));
        assert!(crc32_base62_ok(&token));
        let mut broken = token.clone();
        broken.replace_range(10..11, "Z");
        assert!(!crc32_base62_ok(&broken));
        assert!(!crc32_base62_ok("ghp_short"));
    }

    #[test]
    fn placeholders() {
        assert!(is_placeholder("AKIAIOSFODNN7EXAMPLE"));
        assert!(is_placeholder("xxxxxxxxxxxx"));
        assert!(is_placeholder("${DB_PASSWORD}"));
        assert!(is_placeholder("<your-api-key>"));
        assert!(is_placeholder("1234567890"));
        assert!(is_placeholder("aaaaaaaaaa"));
        assert!(!is_placeholder("Tr0ub4dor&3x"));
    }

    #[test]
    fn uuids_and_hashes() {
        assert!(is_uuid("123e4567-e89b-12d3-a456-426614174000"));
        assert!(!is_uuid("123e4567-e89b-12d3-a456-42661417400"));
        assert!(is_hash_like("sha512-abc"));
        assert!(is_hash_like("sha256:deadbeef"));
        assert!(!is_hash_like("s3cr3tvalue"));
    }

    #[test]
    fn generic_password_rules() {
        let ok = |key, value, quoted, path| {
            generic_password_ok(&Assignment {
                key,
                value,
                quoted,
                path,
                next: None,
            })
        };
        assert!(ok("db_password", "Zq8!mW2#rT", true, "app.py"));
        assert!(ok("DB_PASSWORD", "Zq8mW2rTx9", false, ".env"));
        assert!(!ok("password", "os.environ[\"X\"]", false, "app.py"));
        assert!(!ok("password", "settings.db_password", false, "app.py"));
        assert!(!ok("password_field", "Zq8!mW2#rT", true, "app.py"));
        assert!(!ok("password", "changeme", true, "app.py"));
        assert!(!ok(
            "password",
            "${DB_PASSWORD}",
            false,
            "docker-compose.yml"
        ));
        assert!(!ok(
            "password",
            "123e4567-e89b-12d3-a456-426614174000",
            true,
            "a.json"
        ));
    }

    #[test]
    fn encoded_text_is_not_a_key() {
        assert!(decodes_to_text("KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TFOQ"));
        assert!(decodes_to_text("VGhpcyBpcyB0ZXh0"));
        assert!(!decodes_to_text("Zq8mW2rTx9LkP3vB"));
    }

    #[test]
    fn jwt_structure() {
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"sub":"42"}"#);
        assert!(jwt_ok(&format!(
            "{header}.{payload}.c2lnbmF0dXJlc2lnbmF0dXJl"
        )));
        assert!(!jwt_ok("eyJub3Rqc29u.eyJ4Ijo.abc"));
    }

    proptest! {
        #[test]
        fn checks_never_panic(s in ".{0,200}") {
            let _ = crc32_base62_ok(&s);
            let _ = jwt_ok(&s);
            let _ = pem_body_ok(&s);
            let _ = base64_pem_ok(&s);
            let _ = base64_user_pass_ok(&s);
            let _ = is_placeholder(&s);
            let _ = generic_secret_ok(&Assignment { key: &s, value: &s, quoted: false, path: &s, next: None });
            let _ = decodes_to_text(&s);
            let _ = url_password_ok(&s, &s, &s);
        }
    }
}
