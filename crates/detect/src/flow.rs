//! VPC Flow Logs in the space-separated text format: the default version 2
//! layout, or any custom layout (versions 3 to 5 fields) named by the header
//! line that S3 delivery writes first.

use std::net::IpAddr;

/// Flow-log fields Rampart reads; others are skipped by position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowField {
    Version,
    AccountId,
    InterfaceId,
    SrcAddr,
    DstAddr,
    SrcPort,
    DstPort,
    Protocol,
    Packets,
    Bytes,
    Start,
    End,
    Action,
    LogStatus,
    VpcId,
    InstanceId,
    Region,
    FlowDirection,
    PktSrcAddr,
    PktDstAddr,
    Other,
}

impl FlowField {
    fn from_name(name: &str) -> Option<FlowField> {
        // `${srcaddr}` in a configured format, `srcaddr` in the file header;
        // underscores appear in some exports (Athena, Firehose).
        let n = name
            .trim()
            .trim_start_matches("${")
            .trim_end_matches('}')
            .replace('_', "-");
        use FlowField::*;
        Some(match n.as_str() {
            "version" => Version,
            "account-id" => AccountId,
            "interface-id" => InterfaceId,
            "srcaddr" => SrcAddr,
            "dstaddr" => DstAddr,
            "srcport" => SrcPort,
            "dstport" => DstPort,
            "protocol" => Protocol,
            "packets" => Packets,
            "bytes" => Bytes,
            "start" => Start,
            "end" => End,
            "action" => Action,
            "log-status" => LogStatus,
            "vpc-id" => VpcId,
            "instance-id" => InstanceId,
            "region" => Region,
            "flow-direction" => FlowDirection,
            "pkt-srcaddr" => PktSrcAddr,
            "pkt-dstaddr" => PktDstAddr,
            "subnet-id"
            | "tcp-flags"
            | "type"
            | "az-id"
            | "sublocation-type"
            | "sublocation-id"
            | "pkt-src-aws-service"
            | "pkt-dst-aws-service"
            | "traffic-path"
            | "ecs-cluster-arn"
            | "ecs-cluster-name"
            | "ecs-container-instance-arn"
            | "ecs-container-instance-id"
            | "ecs-container-id"
            | "ecs-second-container-id"
            | "ecs-service-name"
            | "ecs-task-definition-arn"
            | "ecs-task-arn"
            | "ecs-task-id"
            | "reject-reason"
            | "resource-id"
            | "encryption-status" => Other,
            _ => return None,
        })
    }
}

/// The order of fields in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowLayout {
    pub fields: Vec<FlowField>,
}

impl FlowLayout {
    /// The default version 2 format.
    pub fn default_v2() -> Self {
        use FlowField::*;
        FlowLayout {
            fields: vec![
                Version,
                AccountId,
                InterfaceId,
                SrcAddr,
                DstAddr,
                SrcPort,
                DstPort,
                Protocol,
                Packets,
                Bytes,
                Start,
                End,
                Action,
                LogStatus,
            ],
        }
    }

    /// Reads a header line such as `version account-id interface-id srcaddr …`.
    /// `None` when the line is not a header (some name is unknown, or the
    /// addresses are missing).
    pub fn from_header(line: &str) -> Option<Self> {
        let fields: Option<Vec<FlowField>> = line
            .split_ascii_whitespace()
            .map(FlowField::from_name)
            .collect();
        let fields = fields?;
        let has = |f| fields.contains(&f);
        (has(FlowField::SrcAddr) && has(FlowField::DstAddr)).then_some(FlowLayout { fields })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowAction {
    Accept,
    Reject,
    Unknown,
}

/// One flow record. Addresses are those of the packets when the format has
/// `pkt-srcaddr`/`pkt-dstaddr` (behind NAT or a load balancer they differ).
#[derive(Debug, Clone, PartialEq)]
pub struct FlowRecord<'a> {
    pub account_id: &'a str,
    pub interface_id: &'a str,
    pub instance_id: &'a str,
    pub vpc_id: &'a str,
    pub region: &'a str,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub src_port: u16,
    pub dst_port: u16,
    pub protocol: u8,
    pub packets: u64,
    pub bytes: u64,
    pub start: i64,
    pub end: i64,
    pub action: FlowAction,
    /// `ingress` / `egress` (version 5), empty when absent.
    pub direction: &'a str,
}

/// Why a line is not a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowSkip {
    /// NODATA / SKIPDATA status lines, or records without addresses.
    NoData,
    Malformed(String),
}

fn num<T: std::str::FromStr>(v: &str, what: &str) -> Result<T, FlowSkip> {
    if v == "-" {
        return Err(FlowSkip::NoData);
    }
    v.parse()
        .map_err(|_| FlowSkip::Malformed(format!("{what} {v:?} is not a number")))
}

/// Parses one line with the given layout.
pub fn parse_line<'a>(layout: &FlowLayout, line: &'a str) -> Result<FlowRecord<'a>, FlowSkip> {
    let mut rec = FlowRecord {
        account_id: "",
        interface_id: "",
        instance_id: "",
        vpc_id: "",
        region: "",
        src: IpAddr::from([0, 0, 0, 0]),
        dst: IpAddr::from([0, 0, 0, 0]),
        src_port: 0,
        dst_port: 0,
        protocol: 0,
        packets: 0,
        bytes: 0,
        start: 0,
        end: 0,
        action: FlowAction::Unknown,
        direction: "",
    };
    let mut have_src = false;
    let mut have_dst = false;
    let mut pkt_src = None;
    let mut pkt_dst = None;
    let mut n = 0;
    for (i, value) in line.split_ascii_whitespace().enumerate() {
        n = i + 1;
        let Some(field) = layout.fields.get(i) else {
            return Err(FlowSkip::Malformed(format!(
                "{} fields, but the format has {}",
                line.split_ascii_whitespace().count(),
                layout.fields.len()
            )));
        };
        use FlowField::*;
        match field {
            LogStatus if value == "NODATA" || value == "SKIPDATA" => return Err(FlowSkip::NoData),
            AccountId => rec.account_id = value,
            InterfaceId => rec.interface_id = value,
            InstanceId => rec.instance_id = if value == "-" { "" } else { value },
            VpcId => rec.vpc_id = if value == "-" { "" } else { value },
            Region => rec.region = if value == "-" { "" } else { value },
            FlowDirection => rec.direction = if value == "-" { "" } else { value },
            SrcAddr | DstAddr | PktSrcAddr | PktDstAddr => {
                if value == "-" {
                    continue;
                }
                let ip: IpAddr = value.parse().map_err(|_| {
                    FlowSkip::Malformed(format!("address {value:?} is not an IP address"))
                })?;
                match field {
                    SrcAddr => {
                        rec.src = ip;
                        have_src = true
                    }
                    DstAddr => {
                        rec.dst = ip;
                        have_dst = true
                    }
                    PktSrcAddr => pkt_src = Some(ip),
                    _ => pkt_dst = Some(ip),
                }
            }
            SrcPort => rec.src_port = num(value, "srcport").unwrap_or(0),
            DstPort => rec.dst_port = num(value, "dstport").unwrap_or(0),
            Protocol => rec.protocol = num(value, "protocol").unwrap_or(0),
            Packets => rec.packets = num(value, "packets").unwrap_or(0),
            Bytes => rec.bytes = num(value, "bytes").unwrap_or(0),
            Start => rec.start = num(value, "start")?,
            End => rec.end = num(value, "end")?,
            Action => {
                rec.action = match value {
                    "ACCEPT" => FlowAction::Accept,
                    "REJECT" => FlowAction::Reject,
                    _ => FlowAction::Unknown,
                }
            }
            Version => {
                num::<u8>(value, "version")?;
            }
            LogStatus | Other => {}
        }
    }
    if n < layout.fields.len() {
        return Err(FlowSkip::Malformed(format!(
            "{n} fields, but the format has {}",
            layout.fields.len()
        )));
    }
    if let Some(p) = pkt_src {
        rec.src = p;
        have_src = true;
    }
    if let Some(p) = pkt_dst {
        rec.dst = p;
        have_dst = true;
    }
    if !have_src || !have_dst {
        return Err(FlowSkip::NoData);
    }
    Ok(rec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_format() {
        let l = FlowLayout::default_v2();
        let r = parse_line(&l, "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK").expect("parses");
        assert_eq!(r.dst_port, 22);
        assert_eq!(r.action, FlowAction::Accept);
        assert_eq!(
            parse_line(
                &l,
                "2 123456789010 eni-1 - - - - - - - 1431280876 1431280934 - NODATA"
            ),
            Err(FlowSkip::NoData)
        );
        assert!(matches!(
            parse_line(&l, "2 1 eni-1 nope 1.2.3.4 1 2 6 1 1 1 1 ACCEPT OK"),
            Err(FlowSkip::Malformed(_))
        ));
        assert!(matches!(
            parse_line(&l, "2 1 eni-1"),
            Err(FlowSkip::Malformed(_))
        ));
    }

    #[test]
    fn custom_header() {
        let l = FlowLayout::from_header("version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport dstport pkt-srcaddr pkt-dstaddr protocol bytes packets start end action tcp-flags log-status region flow-direction").expect("header");
        let r = parse_line(&l, "5 vpc-1 subnet-1 i-0abc eni-1 111122223333 IPv4 10.0.0.5 10.0.0.9 443 5555 203.0.113.7 10.0.0.9 6 100 2 1 2 ACCEPT 2 OK us-east-1 ingress").expect("parses");
        assert_eq!(r.src.to_string(), "203.0.113.7");
        assert_eq!(r.instance_id, "i-0abc");
        assert_eq!(r.region, "us-east-1");
        assert!(FlowLayout::from_header("2 123 eni-1 1.2.3.4").is_none());
    }
}
