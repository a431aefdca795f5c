//! Route 53 Resolver query logs (JSON lines, as delivered to S3 or CloudWatch).

use crate::cloudtrail::Str;
use serde::Deserialize;
use std::borrow::Cow;

#[derive(Debug, Default, Deserialize)]
pub struct DnsQuery<'a> {
    #[serde(borrow, default)]
    pub account_id: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub region: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub vpc_id: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub query_timestamp: Option<Str<'a>>,
    #[serde(borrow)]
    pub query_name: Cow<'a, str>,
    #[serde(borrow, default)]
    pub query_type: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub rcode: Option<Str<'a>>,
    #[serde(default)]
    pub answers: Answers<'a>,
    #[serde(borrow, default)]
    pub srcaddr: Option<Str<'a>>,
    #[serde(default)]
    pub srcids: Option<SrcIds<'a>>,
}

/// The log writes a list; some exports flatten a single answer to an object.
#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
pub enum Answers<'a> {
    #[default]
    None,
    Many(#[serde(borrow)] Vec<Answer<'a>>),
    One(#[serde(borrow)] Answer<'a>),
}

#[derive(Debug, Default, Deserialize)]
pub struct Answer<'a> {
    #[serde(borrow, default, rename = "Rdata")]
    pub rdata: Option<Str<'a>>,
    #[serde(borrow, default, rename = "Type")]
    pub kind: Option<Str<'a>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct SrcIds<'a> {
    #[serde(borrow, default)]
    pub instance: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub resolver_endpoint: Option<Str<'a>>,
}

impl<'a> DnsQuery<'a> {
    pub fn parse(line: &'a str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(line)
    }
    /// The queried name in lowercase without the trailing dot.
    pub fn name(&self) -> String {
        self.query_name.trim_end_matches('.').to_ascii_lowercase()
    }
    pub fn answers(&self) -> &[Answer<'a>] {
        match &self.answers {
            Answers::None => &[],
            Answers::Many(v) => v,
            Answers::One(a) => std::slice::from_ref(a),
        }
    }
    /// The querying instance, else the source address.
    pub fn source(&self) -> &str {
        self.srcids
            .as_ref()
            .and_then(|s| s.instance.as_deref())
            .or(self.srcaddr.as_deref())
            .unwrap_or("")
    }
    pub fn nxdomain(&self) -> bool {
        self.rcode.as_deref() == Some("NXDOMAIN")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_or_many_answers() {
        let q = DnsQuery::parse(r#"{"query_name":"a.example.","answers":[{"Rdata":"1.2.3.4","Type":"A"}],"srcids":{"instance":"i-1"}}"#).expect("parses");
        assert_eq!(q.answers().len(), 1);
        assert_eq!(q.source(), "i-1");
        assert_eq!(q.name(), "a.example");
        let q = DnsQuery::parse(
            r#"{"query_name":"a.","answers":{"Rdata":"1.2.3.4","Type":"A"},"srcaddr":"10.0.0.1"}"#,
        )
        .expect("parses");
        assert_eq!(q.answers().len(), 1);
        assert_eq!(q.source(), "10.0.0.1");
    }
}
