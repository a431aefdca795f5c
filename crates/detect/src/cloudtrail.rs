//! CloudTrail events: a typed, borrowing view of the fields rules read, with
//! the free-form parts (`requestParameters`, `responseElements`,
//! `additionalEventData`) kept as raw JSON and parsed only when a rule asks.

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::cell::OnceCell;

/// A string borrowed from the input when it has no escapes, owned otherwise.
/// (serde borrows `Cow` only as a direct field, never inside `Option`; this
/// type borrows in both places.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Str<'a>(pub Cow<'a, str>);

impl std::ops::Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v)))
            }
            // Athena and Lake exports sometimes write numbers and booleans
            // where CloudTrail writes strings.
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_string())))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_string())))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_any(V).map(|s| {
            Str(match s.0 {
                Cow::Borrowed(b) => Cow::Borrowed(b),
                Cow::Owned(o) => Cow::Owned(o),
            })
        })
    }
}

type S<'a> = Option<Str<'a>>;

/// The fields of a CloudTrail record that detections read. Names also accept
/// the lowercase spelling Athena and CloudTrail Lake exports use.
#[derive(Debug, Default, Deserialize)]
pub struct CloudTrailRecord<'a> {
    #[serde(borrow, default, rename = "eventVersion", alias = "eventversion")]
    pub event_version: S<'a>,
    #[serde(borrow, default, rename = "userIdentity", alias = "useridentity")]
    pub user_identity: Option<UserIdentity<'a>>,
    #[serde(borrow, default, rename = "eventTime", alias = "eventtime")]
    pub event_time: S<'a>,
    #[serde(borrow, default, rename = "eventSource", alias = "eventsource")]
    pub event_source: S<'a>,
    #[serde(borrow, default, rename = "eventName", alias = "eventname")]
    pub event_name: S<'a>,
    #[serde(borrow, default, rename = "awsRegion", alias = "awsregion")]
    pub aws_region: S<'a>,
    #[serde(borrow, default, rename = "sourceIPAddress", alias = "sourceipaddress")]
    pub source_ip_address: S<'a>,
    #[serde(borrow, default, rename = "userAgent", alias = "useragent")]
    pub user_agent: S<'a>,
    #[serde(borrow, default, rename = "errorCode", alias = "errorcode")]
    pub error_code: S<'a>,
    #[serde(borrow, default, rename = "errorMessage", alias = "errormessage")]
    pub error_message: S<'a>,
    #[serde(
        borrow,
        default,
        rename = "requestParameters",
        alias = "requestparameters"
    )]
    pub request_parameters: Option<&'a RawValue>,
    #[serde(
        borrow,
        default,
        rename = "responseElements",
        alias = "responseelements"
    )]
    pub response_elements: Option<&'a RawValue>,
    #[serde(
        borrow,
        default,
        rename = "additionalEventData",
        alias = "additionaleventdata"
    )]
    pub additional_event_data: Option<&'a RawValue>,
    #[serde(borrow, default, rename = "eventID", alias = "eventid")]
    pub event_id: S<'a>,
    #[serde(borrow, default, rename = "eventType", alias = "eventtype")]
    pub event_type: S<'a>,
    #[serde(
        borrow,
        default,
        rename = "recipientAccountId",
        alias = "recipientaccountid"
    )]
    pub recipient_account_id: S<'a>,
    #[serde(borrow, default, rename = "vpcEndpointId", alias = "vpcendpointid")]
    pub vpc_endpoint_id: S<'a>,
    #[serde(
        borrow,
        default,
        rename = "vpcEndpointAccountId",
        alias = "vpcendpointaccountid"
    )]
    pub vpc_endpoint_account_id: S<'a>,
}

#[derive(Debug, Default, Deserialize)]
pub struct UserIdentity<'a> {
    #[serde(borrow, default, rename = "type")]
    pub kind: S<'a>,
    #[serde(borrow, default, rename = "principalId", alias = "principalid")]
    pub principal_id: S<'a>,
    #[serde(borrow, default)]
    pub arn: S<'a>,
    #[serde(borrow, default, rename = "accountId", alias = "accountid")]
    pub account_id: S<'a>,
    #[serde(borrow, default, rename = "accessKeyId", alias = "accesskeyid")]
    pub access_key_id: S<'a>,
    #[serde(borrow, default, rename = "userName", alias = "username")]
    pub user_name: S<'a>,
    #[serde(borrow, default, rename = "invokedBy", alias = "invokedby")]
    pub invoked_by: S<'a>,
    #[serde(borrow, default, rename = "sessionContext", alias = "sessioncontext")]
    pub session_context: Option<SessionContext<'a>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct SessionContext<'a> {
    #[serde(borrow, default, rename = "sessionIssuer", alias = "sessionissuer")]
    pub session_issuer: Option<SessionIssuer<'a>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct SessionIssuer<'a> {
    #[serde(borrow, default, rename = "type")]
    pub kind: S<'a>,
    #[serde(borrow, default, rename = "userName", alias = "username")]
    pub user_name: S<'a>,
    #[serde(borrow, default)]
    pub arn: S<'a>,
    #[serde(borrow, default, rename = "principalId", alias = "principalid")]
    pub principal_id: S<'a>,
    #[serde(borrow, default, rename = "accountId", alias = "accountid")]
    pub account_id: S<'a>,
}

fn s<'x>(v: &'x S<'_>) -> &'x str {
    v.as_deref().unwrap_or("")
}

/// One event ready for rules: the typed record plus lazily parsed JSON.
pub struct CtEvent<'a> {
    pub rec: CloudTrailRecord<'a>,
    /// The whole record's JSON text, for keyword search and paths the typed
    /// record does not carry.
    pub raw: &'a str,
    /// Length of `eventName` without the API-version suffix some services
    /// add (`UpdateFunctionCode20150331v2` becomes `UpdateFunctionCode`).
    name_len: usize,
    whole: OnceCell<Option<Value>>,
    request: OnceCell<Option<Value>>,
    response: OnceCell<Option<Value>>,
    additional: OnceCell<Option<Value>>,
}

/// Strips a trailing `YYYYMMDD` or `YYYYMMDDvN` API-version suffix.
pub fn base_event_name(name: &str) -> &str {
    let b = name.as_bytes();
    let mut end = b.len();
    // optional vN
    let mut i = end;
    while i > 0 && b[i - 1].is_ascii_digit() {
        i -= 1;
    }
    if i < end && i > 0 && b[i - 1] == b'v' {
        end = i - 1;
    }
    let mut j = end;
    while j > 0 && b[j - 1].is_ascii_digit() {
        j -= 1;
    }
    if end - j == 8 && j > 0 && b[j - 1].is_ascii_alphabetic() {
        &name[..j]
    } else {
        name
    }
}

/// Parses raw JSON; a JSON string holding JSON (as Athena exports write
/// `requestparameters`) is unwrapped once.
fn parse_lazy(raw: Option<&RawValue>) -> Option<Value> {
    let raw = raw?;
    let v: Value = serde_json::from_str(raw.get()).ok()?;
    match v {
        Value::String(s) if s.starts_with('{') || s.starts_with('[') => {
            serde_json::from_str(&s).ok()
        }
        Value::Null => None,
        other => Some(other),
    }
}

impl<'a> CtEvent<'a> {
    /// Parses one record's JSON text.
    pub fn parse(raw: &'a str) -> Result<Self, serde_json::Error> {
        let rec: CloudTrailRecord<'a> = serde_json::from_str(raw)?;
        Ok(Self::from_record(rec, raw))
    }

    /// An event from a record already parsed out of `raw`, its JSON text.
    pub fn from_record(rec: CloudTrailRecord<'a>, raw: &'a str) -> Self {
        let name_len = rec
            .event_name
            .as_deref()
            .map(|n| base_event_name(n).len())
            .unwrap_or(0);
        CtEvent {
            rec,
            raw,
            name_len,
            whole: OnceCell::new(),
            request: OnceCell::new(),
            response: OnceCell::new(),
            additional: OnceCell::new(),
        }
    }

    /// The event name without a version suffix.
    pub fn event_name(&self) -> &str {
        &s(&self.rec.event_name)[..self.name_len]
    }
    pub fn event_source(&self) -> &str {
        s(&self.rec.event_source)
    }
    pub fn event_id(&self) -> &str {
        s(&self.rec.event_id)
    }
    pub fn event_time(&self) -> &str {
        s(&self.rec.event_time)
    }
    pub fn region(&self) -> &str {
        s(&self.rec.aws_region)
    }
    pub fn source_ip(&self) -> &str {
        s(&self.rec.source_ip_address)
    }
    pub fn user_agent(&self) -> &str {
        s(&self.rec.user_agent)
    }
    pub fn error_code(&self) -> Option<&str> {
        self.rec.error_code.as_deref().filter(|c| !c.is_empty())
    }
    pub fn succeeded(&self) -> bool {
        self.error_code().is_none()
    }
    fn identity(&self) -> Option<&UserIdentity<'a>> {
        self.rec.user_identity.as_ref()
    }
    pub fn identity_type(&self) -> &str {
        self.identity().map(|i| s(&i.kind)).unwrap_or("")
    }
    pub fn arn(&self) -> &str {
        self.identity().map(|i| s(&i.arn)).unwrap_or("")
    }
    pub fn principal_id(&self) -> &str {
        self.identity().map(|i| s(&i.principal_id)).unwrap_or("")
    }
    pub fn access_key_id(&self) -> &str {
        self.identity().map(|i| s(&i.access_key_id)).unwrap_or("")
    }
    pub fn user_name(&self) -> &str {
        self.identity().map(|i| s(&i.user_name)).unwrap_or("")
    }
    pub fn invoked_by(&self) -> &str {
        self.identity().map(|i| s(&i.invoked_by)).unwrap_or("")
    }
    pub fn issuer(&self) -> Option<&SessionIssuer<'a>> {
        self.identity()
            .and_then(|i| i.session_context.as_ref())
            .and_then(|c| c.session_issuer.as_ref())
    }
    pub fn issuer_type(&self) -> &str {
        self.issuer().map(|x| s(&x.kind)).unwrap_or("")
    }
    /// The stable identity behind the call, used to aggregate findings: the
    /// role for role sessions (session names change with every session),
    /// the ARN otherwise.
    pub fn actor(&self) -> &str {
        if self.identity_type() == "AssumedRole"
            && let Some(arn) = self.issuer().map(|x| s(&x.arn)).filter(|a| !a.is_empty())
        {
            return arn;
        }
        self.principal()
    }
    /// The account the event belongs to: the recipient account, else the
    /// caller's own.
    pub fn account_id(&self) -> &str {
        let r = s(&self.rec.recipient_account_id);
        if !r.is_empty() {
            return r;
        }
        self.identity().map(|i| s(&i.account_id)).unwrap_or("")
    }
    pub fn caller_account_id(&self) -> &str {
        self.identity().map(|i| s(&i.account_id)).unwrap_or("")
    }
    /// A readable principal: the ARN, else the principal id, else the type.
    pub fn principal(&self) -> &str {
        let arn = self.arn();
        if !arn.is_empty() {
            return arn;
        }
        let pid = self.principal_id();
        if !pid.is_empty() {
            return pid;
        }
        self.identity_type()
    }
    /// For `assumed-role/<role>/i-…` sessions, the instance id.
    pub fn instance_session(&self) -> Option<&str> {
        if self.identity_type() != "AssumedRole" {
            return None;
        }
        let session = self.arn().rsplit('/').next()?;
        let id = session.strip_prefix("i-")?;
        (id.len() >= 8 && id.bytes().all(|b| b.is_ascii_hexdigit())).then_some(session)
    }

    pub fn request(&self) -> Option<&Value> {
        self.request
            .get_or_init(|| parse_lazy(self.rec.request_parameters))
            .as_ref()
    }
    pub fn response(&self) -> Option<&Value> {
        self.response
            .get_or_init(|| parse_lazy(self.rec.response_elements))
            .as_ref()
    }
    pub fn additional(&self) -> Option<&Value> {
        self.additional
            .get_or_init(|| parse_lazy(self.rec.additional_event_data))
            .as_ref()
    }
    /// The whole record as a JSON tree, parsed once on first use.
    pub fn whole(&self) -> Option<&Value> {
        self.whole
            .get_or_init(|| serde_json::from_str(self.raw).ok())
            .as_ref()
    }

    /// A string field of `requestParameters`.
    pub fn req_str(&self, key: &str) -> Option<&str> {
        self.request()?.get(key)?.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_suffixes_are_stripped() {
        assert_eq!(
            base_event_name("UpdateFunctionCode20150331v2"),
            "UpdateFunctionCode"
        );
        assert_eq!(base_event_name("AddPermission20150331"), "AddPermission");
        assert_eq!(base_event_name("GetObject"), "GetObject");
        assert_eq!(base_event_name("Foo123"), "Foo123");
        assert_eq!(base_event_name("20150331"), "20150331");
    }

    #[test]
    fn athena_lowercase_and_string_parameters() {
        let raw = r#"{"eventname":"PutBucketPolicy","eventsource":"s3.amazonaws.com","useridentity":{"type":"Root","arn":"arn:aws:iam::1:root"},"requestparameters":"{\"bucketName\":\"b\"}"}"#;
        let ev = CtEvent::parse(raw).expect("parses");
        assert_eq!(ev.event_name(), "PutBucketPolicy");
        assert_eq!(ev.identity_type(), "Root");
        assert_eq!(ev.req_str("bucketName"), Some("b"));
    }

    #[test]
    fn instance_sessions() {
        let raw = r#"{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/r/i-786a3A8B5C0d92eF4"}}"#;
        assert_eq!(
            CtEvent::parse(raw).expect("parses").instance_session(),
            Some("i-786a3A8B5C0d92eF4")
        );
        let raw = r#"{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/r/alice"}}"#;
        assert_eq!(
            CtEvent::parse(raw).expect("parses").instance_session(),
            None
        );
    }
}
