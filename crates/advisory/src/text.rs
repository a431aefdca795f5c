//! Turning free text, times and links into values both formats accept. The schemas are
//! strict in places a person would not expect (CSAF's tracking id may not start or end with
//! white space, OSV timestamps need four-digit years, `format: uri` is RFC 3986 to the
//! letter), so every value goes through one of these before it is written.

use time::OffsetDateTime;

/// Characters treated as white space: everything Rust and ECMAScript regular expressions
/// call white space (ECMAScript adds U+FEFF), plus control characters, which have no
/// place in a one-line value.
fn is_space_like(c: char) -> bool {
    c.is_whitespace() || c.is_control() || c == '\u{feff}'
}

/// The text on one line: runs of white space and control characters become one space,
/// and the ends are trimmed.
pub(crate) fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        if is_space_like(c) {
            pending_space = !out.is_empty();
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
    out
}

/// `Some(text)` unchanged when it has something other than white space in it. Markdown is
/// carried verbatim: the formats hold text, and rendering it safely is the reader's job.
pub(crate) fn non_blank(text: &str) -> Option<&str> {
    text.chars().any(|c| !is_space_like(c)).then_some(text)
}

/// A one-line value, or `None` when nothing is left.
pub(crate) fn one_line_opt(text: &str) -> Option<String> {
    let line = one_line(text);
    (!line.is_empty()).then_some(line)
}

/// The latest instant both formats can write: 9999-12-31T23:59:59.999Z.
const MAX_MS: i64 = 253_402_300_799_999;

/// A Unix-millisecond time as RFC 3339 in UTC (`2026-03-02T09:30:00Z`, with milliseconds
/// only when there are any), and whether it had to be clamped into 1970..=9999.
pub(crate) fn timestamp(ms: i64) -> (String, bool) {
    let clamped = ms.clamp(0, MAX_MS);
    let seconds = clamped.div_euclid(1000);
    let millis = clamped.rem_euclid(1000);
    let Ok(at) = OffsetDateTime::from_unix_timestamp(seconds) else {
        // Unreachable for the clamped range; the epoch keeps the output valid regardless.
        return ("1970-01-01T00:00:00Z".to_owned(), true);
    };
    let mut out = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    );
    if millis != 0 {
        out.push_str(&format!(".{millis:03}"));
    }
    out.push('Z');
    (out, clamped != ms)
}

/// Bytes RFC 3986 allows literally in a path, query or fragment: unreserved, sub-delims,
/// `:` and `@`, and `/` and `?`.
fn is_uri_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
                | b'/'
                | b'?'
        )
}

/// Percent-encodes what RFC 3986 does not allow, keeping existing `%XX` escapes.
fn encode_uri_part(part: &str, out: &mut String) {
    let bytes = part.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let escape = b == b'%'
            && bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
        if is_uri_char(b) || escape {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
        i += 1;
    }
}

/// Which URL schemes a link may use.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Schemes {
    /// `http` and `https`: references.
    Web,
    /// `http`, `https` and `mailto`: how to reach a credited person.
    Contact,
}

/// A link as an absolute RFC 3986 URI, or `None` when it is not one of the allowed
/// schemes or cannot be read. User names and passwords in the link are dropped: they have
/// no place in a published advisory.
pub(crate) fn link(text: &str, schemes: Schemes) -> Option<String> {
    let url = url::Url::parse(text.trim()).ok()?;
    let scheme = url.scheme();
    let web = matches!(scheme, "http" | "https");
    if !(web || (schemes == Schemes::Contact && scheme == "mailto")) {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 8);
    out.push_str(scheme);
    out.push(':');
    if web {
        // The url crate gives hosts in ASCII (punycode) and IPv6 literals in brackets.
        let host = url.host_str()?;
        out.push_str("//");
        out.push_str(host);
        if let Some(port) = url.port() {
            out.push_str(&format!(":{port}"));
        }
    }
    encode_uri_part(url.path(), &mut out);
    if let Some(query) = url.query() {
        out.push('?');
        encode_uri_part(query, &mut out);
    }
    if let Some(fragment) = url.fragment() {
        out.push('#');
        encode_uri_part(fragment, &mut out);
    }
    Some(out)
}

/// A package URL both formats accept (`pkg:type/name...`, RFC 3986 characters only), or
/// `None`.
pub(crate) fn purl(text: &str) -> Option<String> {
    let text = text.trim();
    let rest = text.strip_prefix("pkg:")?;
    let (kind, name) = rest.split_once('/')?;
    let mut kind_chars = kind.chars();
    let kind_ok = kind_chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '.' | '-' | '+'))
        && kind_chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'));
    if !kind_ok || name.is_empty() {
        return None;
    }
    // `#` may appear once, as the subpath separator.
    let (before, subpath) = match name.split_once('#') {
        Some((b, s)) => (b, Some(s)),
        None => (name, None),
    };
    let mut encoded = format!("pkg:{kind}/");
    encode_uri_part(before, &mut encoded);
    if let Some(subpath) = subpath {
        encoded.push('#');
        encode_uri_part(subpath, &mut encoded);
    }
    Some(encoded)
}

/// Percent-encodes a version for a `vers:` range: everything but letters, digits and
/// `.-_~+` (the range syntax uses `|`, `<`, `>`, `=` and `!`).
pub(crate) fn vers_escape(version: &str) -> String {
    let mut out = String::with_capacity(version.len());
    for b in version.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~' | b'+') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_collapses_and_trims() {
        assert_eq!(one_line("  a\n\tb \u{feff} c\u{2028}"), "a b c");
        assert_eq!(one_line("\u{0}\u{7}"), "");
        assert_eq!(one_line_opt(" \n "), None);
    }

    #[test]
    fn non_blank_keeps_markdown_verbatim() {
        let md = "  <script>alert(1)</script>\n\n**bold**\n";
        assert_eq!(non_blank(md), Some(md));
        assert_eq!(non_blank("\u{feff} \n"), None);
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(
            timestamp(1_772_443_800_000),
            ("2026-03-02T09:30:00Z".into(), false)
        );
        assert_eq!(
            timestamp(1_772_443_800_250),
            ("2026-03-02T09:30:00.250Z".into(), false)
        );
        assert_eq!(timestamp(-5), ("1970-01-01T00:00:00Z".into(), true));
        assert_eq!(
            timestamp(i64::MAX),
            ("9999-12-31T23:59:59.999Z".into(), true)
        );
    }

    #[test]
    fn links_become_rfc3986() {
        assert_eq!(
            link("https://shop.acme.example/a b|c?q=<x>#f g", Schemes::Web).as_deref(),
            Some("https://shop.acme.example/a%20b%7Cc?q=%3Cx%3E#f%20g")
        );
        assert_eq!(
            link("https://user:pw@bücher.example:8443/", Schemes::Web).as_deref(),
            Some("https://xn--bcher-kva.example:8443/")
        );
        assert_eq!(link("javascript:alert(1)", Schemes::Web), None);
        assert_eq!(link("mailto:a@b.example", Schemes::Web), None);
        assert_eq!(
            link("mailto:a@b.example", Schemes::Contact).as_deref(),
            Some("mailto:a@b.example")
        );
        assert_eq!(link("not a url", Schemes::Web), None);
        assert_eq!(
            link("https://[::1]:443/x", Schemes::Web).as_deref(),
            Some("https://[::1]/x")
        );
        assert_eq!(
            link("http://[::1]:8080/x", Schemes::Web).as_deref(),
            Some("http://[::1]:8080/x")
        );
    }

    #[test]
    fn purls_are_checked_and_encoded() {
        assert_eq!(
            purl("pkg:npm/%40acme/shop@1.2.3").as_deref(),
            Some("pkg:npm/%40acme/shop@1.2.3")
        );
        assert_eq!(purl("pkg:npm/a b").as_deref(), Some("pkg:npm/a%20b"));
        assert_eq!(purl("pkg:/x"), None);
        assert_eq!(purl("npm/x"), None);
        assert_eq!(purl("pkg:1npm/x"), None);
    }

    #[test]
    fn vers_escapes_range_syntax() {
        assert_eq!(vers_escape("1.2.3-rc.1+b"), "1.2.3-rc.1+b");
        assert_eq!(vers_escape("1|2 <3"), "1%7C2%20%3C3");
    }
}
