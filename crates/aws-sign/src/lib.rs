//! AWS Signature Version 4, for the few AWS calls Rampart makes itself
//! (STS `GetCallerIdentity` in the secrets scanner, STS `AssumeRole` in the
//! detection module's S3 input), plus the small helpers those calls share:
//! the `X-Amz-Date` of now, the `Host` of an endpoint URL, and reading a
//! field of a query-API answer. A whole SDK would be far slower to build
//! for two requests.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The content type of AWS query-API requests (STS, IAM).
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// What a Signature Version 4 signature covers, for a request whose signed
/// headers are content-type, host, x-amz-date and, with temporary
/// credentials, x-amz-security-token.
#[derive(Debug, Clone, Copy)]
pub struct SigningInput<'a> {
    pub method: &'a str,
    /// `host[:port]`, as the `Host` header carries it.
    pub host: &'a str,
    pub path: &'a str,
    /// Already in canonical form (sorted, encoded).
    pub query: &'a str,
    pub content_type: &'a str,
    /// `YYYYMMDDTHHMMSSZ`, as sent in `X-Amz-Date`.
    pub amz_date: &'a str,
    pub payload: &'a [u8],
    pub service: &'a str,
    pub region: &'a str,
    pub key_id: &'a str,
    pub secret: &'a str,
    /// The session token of temporary credentials; the request must then
    /// carry it in `X-Amz-Security-Token`, and it is signed.
    pub session_token: Option<&'a str>,
}

/// The `Authorization` header of AWS Signature Version 4.
pub fn sign_v4(r: &SigningInput<'_>) -> String {
    let date = r.amz_date.get(..8).unwrap_or(r.amz_date);
    let (signed_headers, token_line) = match r.session_token {
        Some(token) => (
            "content-type;host;x-amz-date;x-amz-security-token",
            format!("x-amz-security-token:{}\n", token.trim()),
        ),
        None => ("content-type;host;x-amz-date", String::new()),
    };
    let canonical = format!(
        "{}\n{}\n{}\ncontent-type:{}\nhost:{}\nx-amz-date:{}\n{token_line}\n{signed_headers}\n{}",
        r.method,
        r.path,
        r.query,
        r.content_type,
        r.host,
        r.amz_date,
        hex::encode(Sha256::digest(r.payload))
    );
    let scope = format!("{date}/{}/{}/aws4_request", r.region, r.service);
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{}\n{scope}\n{}",
        r.amz_date,
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let k_date = hmac_sha256(format!("AWS4{}", r.secret).as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, r.region.as_bytes());
    let k_service = hmac_sha256(&k_region, r.service.as_bytes());
    let k_signing = hmac_sha256(&k_service, b"aws4_request");
    let signature = hex::encode(hmac_sha256(&k_signing, to_sign.as_bytes()));
    format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        r.key_id
    )
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    };
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// Now, as `X-Amz-Date` wants it: `YYYYMMDDTHHMMSSZ` in UTC.
pub fn amz_date_now() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

/// The authority of an http(s) URL (`user@host:port`) and what follows it.
fn split_authority(url: &str) -> Option<(&str, &str)> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some((rest.get(..end)?, rest.get(end..)?))
}

/// `host[:port]` of an http(s) URL, as the Host header carries it: a
/// `user:password@` part is not sent in Host, so it is not signed either.
pub fn host_of(url: &str) -> Option<String> {
    let (authority, _) = split_authority(url)?;
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    (!host.is_empty()).then(|| host.to_owned())
}

/// The path of an http(s) URL as the request line carries it (`/` when
/// the URL has none), without query or fragment.
pub fn path_of(url: &str) -> Option<String> {
    let (_, rest) = split_authority(url)?;
    let path = rest.split(['?', '#']).next().unwrap_or_default();
    Some(if path.is_empty() {
        "/".to_owned()
    } else {
        path.to_owned()
    })
}

/// The canonical URI of SigV4 for services other than S3: each segment of
/// the path as sent, URI-encoded once more (botocore quotes the already
/// quoted path, so `%20` is signed as `%2520`).
pub fn canonical_path(path: &str) -> String {
    let encoded: Vec<String> = path.split('/').map(form_encode).collect();
    let joined = encoded.join("/");
    if joined.starts_with('/') {
        joined
    } else {
        format!("/{joined}")
    }
}

/// The text of the first `<tag>…</tag>` in an AWS query-API answer, with
/// XML's five entities undone. STS answers are small, flat and fixed in
/// shape; this reads their fields without an XML parser.
pub fn xml_text(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml.get(start..)?.find(&format!("</{tag}>"))? + start;
    let raw = xml.get(start..end)?.trim();
    Some(
        raw.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

/// `application/x-www-form-urlencoded` encoding of one value, as AWS's
/// query APIs canonicalise it (RFC 3986 unreserved characters kept,
/// everything else `%XX`).
pub fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
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

    fn example(
        payload: &'static [u8],
        session_token: Option<&'static str>,
    ) -> SigningInput<'static> {
        SigningInput {
            method: "POST",
            host: "127.0.0.1:5055",
            path: "/",
            query: "",
            content_type: FORM_CONTENT_TYPE,
            amz_date: "20150830T123600Z",
            payload,
            service: "sts",
            region: "us-east-1",
            key_id: "AKIDEXAMPLE",
            secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            session_token,
        }
    }

    #[test]
    fn signature_matches_botocore_for_the_same_request() {
        // Computed with botocore's SigV4Auth for this exact request (the
        // key pair is AWS's documentation example).
        let auth = sign_v4(&example(
            b"Action=GetCallerIdentity&Version=2011-06-15",
            None,
        ));
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, \
             Signature=4fa641a2b1ca659cfc09d0d05543b76a38a35269c89d9a9b964fd8cf6a32868f"
        );
    }

    #[test]
    fn a_session_token_is_signed_as_botocore_signs_it() {
        // botocore 1.43 SigV4Auth with the same key pair and a session token.
        let auth = sign_v4(&example(
            b"Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Freader&RoleSessionName=s&Version=2011-06-15",
            Some("IQoJb3JpZ2luX2VjEXAMPLETOKEN"),
        ));
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, \
             Signature=898782fd5892501ad7845c8555d66a6f379c245ecda08978a3167bf300745f4c"
        );
    }

    #[test]
    fn reads_query_api_answers() {
        let ok = "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/ci</Arn><UserId>AIDA</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>";
        assert_eq!(
            xml_text(ok, "Arn").as_deref(),
            Some("arn:aws:iam::123456789012:user/ci")
        );
        assert_eq!(xml_text(ok, "Account").as_deref(), Some("123456789012"));
        assert_eq!(xml_text("<a><Code>x", "Code"), None);
        assert_eq!(
            xml_text("<Message>a &lt;b&gt; &amp;amp;</Message>", "Message").as_deref(),
            Some("a <b> &amp;")
        );
        assert_eq!(
            host_of("http://127.0.0.1:5055/x").as_deref(),
            Some("127.0.0.1:5055")
        );
        assert_eq!(
            host_of("https://sts.amazonaws.com").as_deref(),
            Some("sts.amazonaws.com")
        );
        assert_eq!(host_of("ftp://x"), None);
        assert_eq!(host_of("http://"), None);
    }

    #[test]
    fn userinfo_is_not_part_of_the_host() {
        assert_eq!(
            host_of("http://user:pa@ss@proxy:4566/sts").as_deref(),
            Some("proxy:4566")
        );
        assert_eq!(
            host_of("https://user@sts.amazonaws.com").as_deref(),
            Some("sts.amazonaws.com")
        );
        assert_eq!(host_of("http://user@/x"), None);
        assert_eq!(host_of("http://proxy?a=b@c").as_deref(), Some("proxy"));
    }

    #[test]
    fn paths_are_read_and_canonicalised_as_sent() {
        assert_eq!(path_of("http://proxy:4566/sts/").as_deref(), Some("/sts/"));
        assert_eq!(
            path_of("http://u@proxy:4566/a/b?x=1#f").as_deref(),
            Some("/a/b")
        );
        assert_eq!(path_of("https://sts.amazonaws.com").as_deref(), Some("/"));
        assert_eq!(path_of("https://sts.amazonaws.com?x").as_deref(), Some("/"));
        assert_eq!(path_of("ftp://x/y"), None);
        assert_eq!(canonical_path("/"), "/");
        assert_eq!(canonical_path("/sts/"), "/sts/");
        assert_eq!(canonical_path("/my%20proxy/a b"), "/my%2520proxy/a%20b");
        assert_eq!(canonical_path("x"), "/x");
    }

    #[test]
    fn an_endpoint_path_is_signed_as_botocore_signs_it() {
        // botocore 1.43 SigV4Auth, POST to http://127.0.0.1:5055/ and to
        // http://127.0.0.1:5055/sts/ at 20261201T224026Z.
        let mut r = example(b"Action=GetCallerIdentity&Version=2011-06-15", None);
        r.amz_date = "20261201T224026Z";
        let root = sign_v4(&r);
        assert!(
            root.ends_with(
                "Signature=e01f61a129347caefcac67d64c50fec640f8cdc79f76b564e0d3f7e2acc6dcce"
            ),
            "{root}"
        );
        let path = canonical_path(&path_of("http://127.0.0.1:5055/sts/").unwrap_or_default());
        r.path = &path;
        let under_sts = sign_v4(&r);
        assert!(
            under_sts.ends_with(
                "Signature=10064b8496a705de6c75af414a0a454d48a10bb532cf0bf677f065689ca6bda0"
            ),
            "{under_sts}"
        );
    }

    #[test]
    fn form_values_are_encoded_as_aws_canonicalises_them() {
        assert_eq!(
            form_encode("arn:aws:iam::1:role/a b+c~d"),
            "arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fa%20b%2Bc~d"
        );
        assert_eq!(form_encode("é"), "%C3%A9");
        assert_eq!(amz_date_now().len(), 16);
    }
}
