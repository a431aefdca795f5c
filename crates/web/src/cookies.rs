//! Reading and writing the two cookies Rampart sets: the session and the
//! pre-login CSRF token. Both are HttpOnly and SameSite=Lax; with TLS they are
//! `Secure` and carry the `__Host-` prefix, which pins them to this origin.

use axum::http::{HeaderMap, HeaderValue, header};

pub(crate) fn session_name(secure: bool) -> &'static str {
    if secure {
        "__Host-rampart_session"
    } else {
        "rampart_session"
    }
}

pub(crate) fn csrf_name(secure: bool) -> &'static str {
    if secure {
        "__Host-rampart_csrf"
    } else {
        "rampart_csrf"
    }
}

/// The value of cookie `name`, if the request sent it.
pub(crate) fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value. `max_age_s` of 0 deletes the cookie.
pub(crate) fn set(name: &str, value: &str, secure: bool, max_age_s: i64) -> HeaderValue {
    let secure_attr = if secure { "; Secure" } else { "" };
    let s =
        format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_s}{secure_attr}");
    // Names and values are hex or fixed ASCII: always a valid header.
    HeaderValue::from_str(&s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_among_several_cookies() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; rampart_session=abc; b=2"),
        );
        assert_eq!(get(&h, "rampart_session"), Some("abc"));
        assert_eq!(get(&h, "missing"), None);
    }

    #[test]
    fn secure_cookies_use_host_prefix() {
        let v = set(session_name(true), "x", true, 10);
        let s = v.to_str().unwrap();
        assert!(s.starts_with("__Host-rampart_session=x; Path=/; HttpOnly; SameSite=Lax"));
        assert!(s.ends_with("; Secure"));
    }
}
