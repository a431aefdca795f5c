//! Structured signals pulled out of a report's free text: the hosts, endpoints and parameter
//! names it talks about.
//!
//! Two researchers rarely paste the same URL. One writes
//! `https://WWW.Shop.example/api/v2/orders/1841/invoice?format=pdf`, the other
//! `GET /api/v2/orders/9907/invoice HTTP/1.1` with `Host: shop.example`. Normalising both to the
//! endpoint `/api/v2/orders/{id}/invoice` (host `shop.example`, parameter `format`) is what lets
//! the scorer see they are about the same place even when their prose shares few words.

use std::collections::BTreeSet;

/// What a report's text says about where the bug is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Signals {
    /// Lower-cased hosts without `www.` or a port, e.g. `shop.example`.
    pub hosts: BTreeSet<String>,
    /// Host-less normalised paths, e.g. `/api/v2/orders/{id}/invoice`.
    pub endpoints: BTreeSet<String>,
    /// Lower-cased parameter names from query strings, form bodies, JSON keys and prose.
    pub params: BTreeSet<String>,
}

/// Hosts that appear in payloads rather than as the target: cloud metadata services, loopback
/// and the usual attacker-controlled callback domains. Matching on them would make every SSRF
/// or open-redirect report look like a duplicate of every other.
const PAYLOAD_HOSTS: &[&str] = &[
    "169.254.169.254",
    "metadata.google.internal",
    "metadata",
    "localhost",
    "127.0.0.1",
    "0.0.0.0",
    "[::1]",
    "evil.com",
    "example.org",
];

const PAYLOAD_HOST_PARTS: &[&str] = &[
    "attacker",
    "evil",
    "burpcollaborator",
    "oastify",
    "oast.",
    "interact.sh",
    "interactsh",
    "requestbin",
    "webhook.site",
    "ngrok",
    "pipedream",
    "canarytoken",
    "xss.ht",
    "bxss",
];

/// Paths that are payload targets (file reads, metadata paths), not application endpoints.
const PAYLOAD_PATHS: &[&str] = &[
    "/etc/passwd",
    "/etc/hosts",
    "/etc/shadow",
    "/proc/self/environ",
    "/windows/win.ini",
    "/latest/meta-data",
    "/computemetadata/v1",
];

const HTTP_METHODS: &[&str] = &[
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT",
];

/// Words after which a quoted identifier names a parameter ("the `next` parameter",
/// "parameter `q`", "the `email` field").
const PARAM_WORDS: &[&str] = &[
    "parameter",
    "parameters",
    "param",
    "params",
    "field",
    "argument",
    "header",
    "cookie",
    "key",
];

/// At most this many endpoints, hosts and parameters are kept per document, first seen first:
/// a pasted access log of a thousand URLs would otherwise make every suggestion compare
/// thousands of paths, and the first ones a researcher names are the ones that matter.
const MAX_PER_KIND: usize = 32;

/// Longest text considered, in bytes: a report pasting megabytes of logs gains nothing past
/// this and would only slow every suggestion down.
const MAX_SCAN_BYTES: usize = 256 * 1024;

impl Signals {
    /// Endpoints and hosts together: the places a report points at. A host alone is what a
    /// subdomain-takeover report names; the shared main host of a programme weighs little
    /// because almost every report names it.
    pub fn locations(&self) -> BTreeSet<String> {
        self.endpoints.union(&self.hosts).cloned().collect()
    }

    /// Extracts the signals from a report's title and Markdown description.
    pub fn from_text(text: &str) -> Signals {
        let text = truncate_at_char_boundary(text, MAX_SCAN_BYTES);
        let mut signals = Signals::default();
        let tokens: Vec<&str> = text
            .split(|c: char| c.is_whitespace() || matches!(c, '`' | '<' | '>' | '"' | '|'))
            .filter(|t| !t.is_empty())
            .collect();

        for (i, raw) in tokens.iter().enumerate() {
            let token = trim_punctuation(raw);
            if token.is_empty() {
                continue;
            }
            if let Some(pos) = find_scheme(token) {
                signals.add_url(&token[pos..]);
            } else if token.starts_with('/') && !token.starts_with("//") {
                signals.add_path_and_query(token);
            } else if raw.eq_ignore_ascii_case("host:") {
                if let Some(next) = tokens.get(i + 1) {
                    signals.add_host(trim_punctuation(next));
                }
            } else if let Some(rest) = strip_prefix_ignore_case(token, "host:") {
                signals.add_host(rest);
            }
            if token.contains('=') && !token.contains("://") {
                signals.add_form_pairs(token);
            }
        }
        for key in json_keys(text) {
            signals.insert_param(key);
        }
        signals.add_prose_params(text);
        signals
    }

    fn add_url(&mut self, candidate: &str) {
        let Ok(parsed) = url::Url::parse(candidate) else {
            return;
        };
        if !matches!(parsed.scheme(), "http" | "https" | "ws" | "wss") {
            return;
        }
        let Some(host) = parsed.host_str().map(normalise_host) else {
            return;
        };
        if is_payload_host(&host) {
            return;
        }
        insert_capped(&mut self.hosts, host);
        if let Some(endpoint) = normalise_path(parsed.path()) {
            insert_capped(&mut self.endpoints, endpoint);
        }
        for (name, _) in parsed.query_pairs() {
            self.insert_param(&name);
        }
    }

    fn add_path_and_query(&mut self, token: &str) {
        let (path, query) = match token.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (token, None),
        };
        if let Some(endpoint) = normalise_path(path) {
            insert_capped(&mut self.endpoints, endpoint);
        }
        if let Some(query) = query {
            for (name, _) in form_urlencoded_pairs(query) {
                self.insert_param(&name);
            }
        }
    }

    fn add_host(&mut self, raw: &str) {
        let host = normalise_host(raw.split(':').next().unwrap_or(raw));
        if host.contains('.') && !is_payload_host(&host) && host.len() <= 253 {
            insert_capped(&mut self.hosts, host);
        }
    }

    fn add_form_pairs(&mut self, token: &str) {
        // `email=a%40b.c&role=admin` in a request body, or `?next=` alone in prose.
        let body = token.trim_start_matches('?');
        for pair in body.split('&') {
            if let Some((name, _)) = pair.split_once('=')
                && is_identifier(name)
            {
                self.insert_param(name);
            }
        }
    }

    fn add_prose_params(&mut self, text: &str) {
        // Quoted or back-ticked identifiers next to a word such as "parameter".
        let words: Vec<&str> = text.split_whitespace().collect();
        for (i, word) in words.iter().enumerate() {
            let bare = trim_punctuation(word).to_ascii_lowercase();
            if !PARAM_WORDS.contains(&bare.as_str()) {
                continue;
            }
            for neighbour in [i.checked_sub(1), Some(i + 1)].into_iter().flatten() {
                if let Some(candidate) = words.get(neighbour)
                    && let Some(name) = quoted_identifier(candidate)
                {
                    self.insert_param(&name);
                }
            }
        }
    }

    fn insert_param(&mut self, name: &str) {
        let name = name.trim().trim_end_matches("[]").to_ascii_lowercase();
        if !name.is_empty() && name.len() <= 64 && is_identifier(&name) {
            insert_capped(&mut self.params, name);
        }
    }
}

fn insert_capped(set: &mut BTreeSet<String>, value: String) {
    if set.len() < MAX_PER_KIND {
        set.insert(value);
    }
}

fn truncate_at_char_boundary(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn trim_punctuation(token: &str) -> &str {
    token
        .trim_start_matches(['(', '[', '{', '\'', '*', '_', ','])
        .trim_end_matches([')', ']', '}', '\'', '.', ',', ';', ':', '!', '*', '_'])
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
        .filter(|rest| !rest.is_empty())
}

fn find_scheme(token: &str) -> Option<usize> {
    let lower = token.to_ascii_lowercase();
    ["https://", "http://", "wss://", "ws://"]
        .iter()
        .filter_map(|scheme| lower.find(scheme))
        .min()
}

fn normalise_host(host: &str) -> String {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host.strip_prefix("www.").map(str::to_owned).unwrap_or(host)
}

fn is_payload_host(host: &str) -> bool {
    PAYLOAD_HOSTS.contains(&host) || PAYLOAD_HOST_PARTS.iter().any(|part| host.contains(part))
}

/// Normalises a path to an endpoint key: lower case, no trailing slash, no locale prefix, and
/// identifiers (numbers, UUIDs, hashes, e-mail addresses, payloads) replaced by `{id}`.
/// Returns `None` for paths that say nothing (`/`, payload paths, one-character noise).
pub fn normalise_path(path: &str) -> Option<String> {
    let path = path.split(['#', ';']).next().unwrap_or(path);
    let lower = percent_decode_lossy(path).to_lowercase();
    let mut segments: Vec<String> = Vec::new();
    for segment in lower.split('/').filter(|s| !s.is_empty()) {
        if segment == "." {
            continue;
        }
        if segment == ".." {
            // Traversal payloads are not endpoints.
            return None;
        }
        segments.push(normalise_segment(segment));
        if segments.len() >= 12 {
            break;
        }
    }
    if segments.first().is_some_and(|s| is_locale(s)) {
        segments.remove(0);
    }
    if segments.is_empty() || segments.iter().all(|s| s == "{id}") {
        return None;
    }
    let joined = format!("/{}", segments.join("/"));
    if joined.len() < 3 || PAYLOAD_PATHS.iter().any(|p| joined.starts_with(p)) {
        return None;
    }
    Some(joined)
}

fn normalise_segment(segment: &str) -> String {
    let looks_like_payload = segment.chars().any(|c| {
        matches!(
            c,
            '<' | '>' | '\'' | '"' | '(' | ')' | '{' | '}' | '$' | '@'
        )
    });
    // `:id` and `{orderId}` are how researchers write placeholders.
    let placeholder = segment.starts_with(':') || segment.starts_with('{');
    if placeholder || looks_like_payload || is_identifier_value(segment) {
        return "{id}".to_owned();
    }
    segment.to_owned()
}

/// Whether a path segment is a value (an id) rather than a name.
fn is_identifier_value(segment: &str) -> bool {
    let digits = segment.chars().filter(char::is_ascii_digit).count();
    let hex = segment.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    let len = segment.chars().count();
    if digits == len {
        return true;
    }
    // UUIDs and hashes: long runs of hex with at least a digit.
    if hex && len >= 8 && digits > 0 {
        return true;
    }
    // Opaque tokens such as `a8Fk3q0ZxT`: long, mostly alphanumeric, with digits mixed in.
    len >= 10
        && digits >= 2
        && segment
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

fn is_locale(segment: &str) -> bool {
    let bytes = segment.as_bytes();
    let letters = |b: &[u8]| b.iter().all(u8::is_ascii_lowercase);
    match bytes.len() {
        2 => letters(bytes) && !matches!(segment, "v1" | "v2" | "js" | "ui" | "db" | "me" | "go"),
        5 => (bytes[2] == b'-' || bytes[2] == b'_') && letters(&bytes[..2]) && letters(&bytes[3..]),
        _ => false,
    }
}

fn percent_decode_lossy(text: &str) -> String {
    let decoded: Vec<u8> = form_urlencoded_bytes(text.as_bytes());
    String::from_utf8_lossy(&decoded).into_owned()
}

/// Percent-decoding without treating `+` as a space (paths are not forms).
fn form_urlencoded_bytes(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i] == b'%' && i + 2 < input.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(input[i + 1]), hex(input[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(input[i]);
        i += 1;
    }
    out
}

fn form_urlencoded_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query.split('&').filter_map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        (!name.is_empty()).then(|| (percent_decode_lossy(name), value.to_owned()))
    })
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '[' | ']'))
}

/// `"email":` in a JSON body names a parameter.
fn json_keys(text: &str) -> impl Iterator<Item = &str> {
    text.split('"').enumerate().filter_map(move |(i, piece)| {
        // Odd pieces are inside quotes; the key must be followed by a colon.
        if i % 2 == 0 || !is_identifier(piece) || piece.len() > 64 {
            return None;
        }
        let offset = piece.as_ptr() as usize - text.as_ptr() as usize + piece.len() + 1;
        let rest = text.get(offset..)?;
        rest.trim_start_matches([' ', '\t'])
            .starts_with(':')
            .then_some(piece)
    })
}

fn quoted_identifier(word: &str) -> Option<String> {
    let trimmed = word.trim_end_matches([',', '.', ';', ':', ')']);
    let trimmed = trimmed.trim_start_matches('(');
    let quotes = ['`', '"', '\'', '*'];
    let first = trimmed.chars().next()?;
    if !quotes.contains(&first) {
        return None;
    }
    let inner = trimmed.trim_matches(&quotes[..]);
    let inner = inner.trim_end_matches('=');
    (is_identifier(inner) && !HTTP_METHODS.contains(&inner)).then(|| inner.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn absolute_url_and_request_line_give_the_same_endpoint() {
        let a = Signals::from_text(
            "Open https://WWW.Shop.example/api/v2/orders/1841/invoice?format=pdf in a browser.",
        );
        let b = Signals::from_text(
            "```\nGET /api/v2/orders/9907/invoice HTTP/1.1\nHost: shop.example\n```",
        );
        assert_eq!(a.endpoints, set(&["/api/v2/orders/{id}/invoice"]));
        assert_eq!(a.endpoints, b.endpoints);
        assert_eq!(a.hosts, b.hosts);
        assert_eq!(a.params, set(&["format"]));
    }

    #[test]
    fn ids_uuids_and_locales_are_normalised() {
        assert_eq!(
            normalise_path("/en-US/users/3f2b9c1e-8a7d-4c55-9e0b-1a2b3c4d5e6f/Settings/"),
            Some("/users/{id}/settings".to_owned())
        );
        assert_eq!(normalise_path("/"), None);
        assert_eq!(normalise_path("/12345"), None);
        assert_eq!(normalise_path("/../../etc/passwd"), None);
        assert_eq!(normalise_path("/etc/passwd"), None);
        assert_eq!(
            normalise_path("/search/%3Cscript%3Ealert(1)"),
            Some("/search/{id}".to_owned())
        );
    }

    #[test]
    fn payload_hosts_are_not_targets() {
        let s = Signals::from_text(
            "The `url` parameter fetches http://169.254.169.254/latest/meta-data/ and \
             https://attacker.oastify.com/x from https://app.example.com/api/fetch?url=x",
        );
        assert_eq!(s.hosts, set(&["app.example.com"]));
        assert_eq!(s.endpoints, set(&["/api/fetch"]));
        assert_eq!(s.params, set(&["url"]));
    }

    #[test]
    fn a_pasted_log_keeps_the_first_endpoints_only() {
        let mut text =
            String::from("The bug is in https://app.example.com/api/export?format=csv\n");
        for i in 0..500 {
            text.push_str(&format!("GET /static/chunk-{i}x.js?v{i}=1 200\n"));
        }
        let s = Signals::from_text(&text);
        assert_eq!(s.endpoints.len(), MAX_PER_KIND);
        assert!(s.endpoints.contains("/api/export"));
        assert!(s.params.contains("format"));
        assert_eq!(s.params.len(), MAX_PER_KIND);
    }

    #[test]
    fn nested_redirect_target_is_a_value_not_an_endpoint() {
        let s = Signals::from_text("https://id.example.com/logout?next=https://evil.com/phish");
        assert_eq!(s.endpoints, set(&["/logout"]));
        assert_eq!(s.params, set(&["next"]));
    }

    #[test]
    fn parameters_from_bodies_json_and_prose() {
        let s = Signals::from_text(
            "POST /account/email\n\nemail=x%40y.z&csrf_token=&confirm=1\n\n\
             {\"userId\": 5, \"role\": \"admin\"}\nThe `redirect_uri` parameter is not checked.",
        );
        assert_eq!(
            s.params,
            set(&[
                "confirm",
                "csrf_token",
                "email",
                "redirect_uri",
                "role",
                "userid"
            ])
        );
        assert_eq!(s.endpoints, set(&["/account/email"]));
    }
}
