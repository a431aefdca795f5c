//! Flow-log detections: threat-listed peers, brute force, scans, sweeps, spam
//! and denial-of-service volumes, each counted per instance in time windows.

use super::{Env, Windows};
use crate::baseline::Baseline;
use crate::catalog::{self, FindingType};
use crate::finding::Signal;
use crate::flow::{FlowAction, FlowRecord};
use crate::intel::{ListKind, is_public};
use rampart_core::Severity;
use std::net::IpAddr;

/// Window lengths and thresholds. Brute force and scans count distinct
/// connections, so one long session never looks like many attempts.
pub const BRUTE_FORCE_WINDOW: i64 = 3600;
pub const BRUTE_FORCE_ATTEMPTS: usize = 20;
/// Attempts carry few packets; a git pull over SSH does not.
pub const BRUTE_FORCE_MAX_PACKETS: u64 = 30;
pub const PORTSCAN_WINDOW: i64 = 600;
pub const PORTSCAN_PORTS: usize = 25;
pub const PROBE_WINDOW: i64 = 3600;
pub const PROBE_PORTS: usize = 10;
pub const SWEEP_WINDOW: i64 = 3600;
pub const SWEEP_HOSTS: usize = 50;
pub const SPAM_WINDOW: i64 = 3600;
pub const SPAM_HOSTS: usize = 20;
pub const DOS_WINDOW: i64 = 600;
pub const DOS_PACKETS: u64 = 500_000;
/// Floods use small packets; a bulk upload uses full ones.
pub const DOS_TCP_MAX_BYTES_PER_PACKET: u64 = 120;

const EMR_PORTS: &[u16] = &[8088, 8042, 8890, 18080, 20888, 50070, 9870, 4040];
const TCP_SERVICE_PORTS: &[u16] = &[
    21, 22, 23, 25, 80, 110, 143, 443, 445, 993, 995, 1433, 3306, 3389, 5432, 8080, 8443,
];
const COMMON_WEB_PORTS: &[u16] = &[53, 80, 123, 443];

fn t(name: &str) -> &'static FindingType {
    catalog::get(name)
        .unwrap_or_else(|| panic!("flow rule refers to {name}, which the catalog lacks"))
}

/// The type names flow rules can raise.
pub const TYPES: &[&str] = &[
    "Backdoor:EC2/C&CActivity.B",
    "Backdoor:EC2/DenialOfService.Dns",
    "Backdoor:EC2/DenialOfService.Tcp",
    "Backdoor:EC2/DenialOfService.Udp",
    "Backdoor:EC2/DenialOfService.UdpOnTcpPorts",
    "Backdoor:EC2/DenialOfService.UnusualProtocol",
    "Backdoor:EC2/Spambot",
    "CryptoCurrency:EC2/BitcoinTool.B",
    "Impact:EC2/PortSweep",
    "Impact:EC2/WinRMBruteForce",
    "Recon:EC2/PortProbeEMRUnprotectedPort",
    "Recon:EC2/PortProbeUnprotectedPort",
    "Recon:EC2/Portscan",
    "Trojan:EC2/BlackholeTraffic",
    "Trojan:EC2/DropPoint",
    "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom",
    "UnauthorizedAccess:EC2/RDPBruteForce",
    "UnauthorizedAccess:EC2/SSHBruteForce",
    "UnauthorizedAccess:EC2/TorClient",
    "UnauthorizedAccess:EC2/TorRelay",
];

struct Sides {
    local: IpAddr,
    local_port: u16,
    remote: IpAddr,
    remote_port: u16,
    outbound: bool,
    internal: bool,
}

fn orient(r: &FlowRecord) -> Option<Sides> {
    let out = |internal| Sides {
        local: r.src,
        local_port: r.src_port,
        remote: r.dst,
        remote_port: r.dst_port,
        outbound: true,
        internal,
    };
    let inb = Sides {
        local: r.dst,
        local_port: r.dst_port,
        remote: r.src,
        remote_port: r.src_port,
        outbound: false,
        internal: false,
    };
    match r.direction {
        "egress" => return Some(out(!is_public(r.dst))),
        "ingress" => return Some(inb),
        _ => {}
    }
    match (is_public(r.src), is_public(r.dst)) {
        (false, true) => Some(out(false)),
        (true, false) => Some(inb),
        (false, false) => Some(out(true)),
        (true, true) => None,
    }
}

/// Baseline checks and learning for one record: remote ports an instance
/// never used, and hourly volume far above its learned maximum.
pub fn on_record_baseline(
    learned: &Baseline,
    observed: &mut Baseline,
    r: &FlowRecord,
    account: &str,
    region: &str,
    win: &mut Windows,
    out: &mut Vec<Signal>,
) {
    let Some(s) = orient(r) else { return };
    if !s.outbound || s.internal || r.action != FlowAction::Accept {
        return;
    }
    let resource = if !r.instance_id.is_empty() {
        r.instance_id.to_owned()
    } else if !r.interface_id.is_empty() {
        r.interface_id.to_owned()
    } else {
        s.local.to_string()
    };
    let account = if r.account_id.is_empty() {
        account
    } else {
        r.account_id
    };
    let region = if r.region.is_empty() {
        region
    } else {
        r.region
    };
    observed.note_time(r.start);
    let key = format!("{account}|{resource}");
    let tally = win.tally(format!("vol|{key}|{}", s.remote), r.start, 3600);
    tally.note(None, r.bytes, None);
    let hourly = tally.sum;
    let remote = s.remote.to_string();
    if learned.mature()
        && let Some(known) = learned.instances.get(&key)
    {
        // Ports at or above 32768 are clients' ephemeral ports, not services.
        if s.remote_port < 32768 && !known.ports.contains(&s.remote_port) {
            out.push(
                Signal::new(
                    t("Behavior:EC2/NetworkPortUnusual"),
                    account,
                    region,
                    r.start,
                    &resource,
                )
                .address(&remote)
                .detail("port", s.remote_port)
                .detail(
                    "why",
                    "the instance never used this remote port during its learned baseline",
                ),
            );
        }
        let limit = known
            .max_hourly_bytes
            .saturating_mul(crate::baseline::VOLUME_FACTOR)
            .max(crate::baseline::VOLUME_FLOOR);
        if hourly > limit && !tally.fired {
            tally.fired = true;
            out.push(
                Signal::new(
                    t("Behavior:EC2/TrafficVolumeUnusual"),
                    account,
                    region,
                    r.start,
                    &resource,
                )
                .address(&remote)
                .detail("bytes_in_hour", hourly)
                .detail("learned_max_hourly_bytes", known.max_hourly_bytes),
            );
        }
    }
    let e = observed.instances.entry(key).or_default();
    if s.remote_port < 32768 {
        e.ports.note(s.remote_port, r.start);
    }
    e.max_hourly_bytes = e.max_hourly_bytes.max(hourly);
    e.last_seen = e.last_seen.max(r.start);
}

/// Runs the flow rules over one record.
pub fn on_record(
    env: &Env,
    r: &FlowRecord,
    account: &str,
    region: &str,
    win: &mut Windows,
    out: &mut Vec<Signal>,
) {
    let Some(s) = orient(r) else { return };
    if env.trusted.ips.get(s.remote).is_some() {
        return;
    }
    let resource = if !r.instance_id.is_empty() {
        r.instance_id.to_owned()
    } else if !r.interface_id.is_empty() {
        r.interface_id.to_owned()
    } else {
        s.local.to_string()
    };
    let account = if r.account_id.is_empty() {
        account
    } else {
        r.account_id
    };
    let region = if r.region.is_empty() {
        region
    } else {
        r.region
    };
    let time = r.start;
    let remote = s.remote.to_string();
    let sig = |ty: &'static FindingType| {
        Signal::new(ty, account, region, time, &resource)
            .address(&remote)
            .detail("local_address", s.local)
            .detail("direction", if s.outbound { "outbound" } else { "inbound" })
    };
    let accepted = r.action == FlowAction::Accept;

    // Threat-listed peers.
    if !s.internal
        && let Some(hit) = env.intel.ips.get(s.remote)
    {
        let ty = match hit.kind {
            ListKind::TorExit | ListKind::TorRelay if s.outbound => {
                Some("UnauthorizedAccess:EC2/TorClient")
            }
            ListKind::TorExit | ListKind::TorRelay
                if accepted && [9001, 9030].contains(&s.local_port) =>
            {
                Some("UnauthorizedAccess:EC2/TorRelay")
            }
            ListKind::Custom | ListKind::Malicious if s.outbound => {
                Some("UnauthorizedAccess:EC2/MaliciousIPCaller.Custom")
            }
            ListKind::Custom | ListKind::Malicious if accepted => {
                Some(if EMR_PORTS.contains(&s.local_port) {
                    "Recon:EC2/PortProbeEMRUnprotectedPort"
                } else {
                    "Recon:EC2/PortProbeUnprotectedPort"
                })
            }
            ListKind::CommandAndControl if s.outbound || accepted => {
                Some("Backdoor:EC2/C&CActivity.B")
            }
            ListKind::Mining if s.outbound || accepted => Some("CryptoCurrency:EC2/BitcoinTool.B"),
            ListKind::Blackhole if s.outbound => Some("Trojan:EC2/BlackholeTraffic"),
            ListKind::DropPoint if s.outbound || accepted => Some("Trojan:EC2/DropPoint"),
            _ => None,
        };
        if let Some(ty) = ty {
            out.push(
                sig(t(ty))
                    .detail("threat_list", &hit.list)
                    .detail("threat_list_entry", &hit.entry)
                    .detail(
                        "port",
                        if s.outbound {
                            s.remote_port
                        } else {
                            s.local_port
                        },
                    ),
            );
        }
    }

    // Brute force against (or from) SSH, RDP and WinRM.
    let service_port = if s.outbound {
        s.remote_port
    } else {
        s.local_port
    };
    let brute = match service_port {
        22 => Some("UnauthorizedAccess:EC2/SSHBruteForce"),
        3389 => Some("UnauthorizedAccess:EC2/RDPBruteForce"),
        5985 | 5986 => Some("Impact:EC2/WinRMBruteForce"),
        _ => None,
    };
    if let Some(ty) = brute
        && r.protocol == 6
        && r.packets <= BRUTE_FORCE_MAX_PACKETS
    {
        let client_port = if s.outbound {
            s.local_port
        } else {
            s.remote_port
        };
        let tally = win.tally(
            format!("bf|{ty}|{}|{}", s.local, s.remote),
            time,
            BRUTE_FORCE_WINDOW,
        );
        tally.note(Some(&client_port.to_string()), r.packets, None);
        if tally.distinct.len() >= BRUTE_FORCE_ATTEMPTS {
            let mut x = sig(t(ty))
                .detail("port", service_port)
                .detail("attempts_in_window", tally.distinct.len());
            if !tally.fired {
                tally.fired = true;
                x = x.count(tally.count);
                x.since = Some(tally.first);
            }
            if s.outbound {
                x = x
                    .severity(Severity::High)
                    .detail("role", "the instance is the source of the attack");
            } else {
                x = x.detail("role", "the instance is the target");
            }
            out.push(x);
        }
    }

    if s.outbound {
        // Outbound port scan of one host.
        let tally = win.tally(
            format!("ps|{}|{}", s.local, s.remote),
            time,
            PORTSCAN_WINDOW,
        );
        tally.note(Some(&s.remote_port.to_string()), 0, None);
        if tally.distinct.len() >= PORTSCAN_PORTS {
            let mut x =
                sig(t("Recon:EC2/Portscan")).detail("ports_in_window", tally.distinct.len());
            if !tally.fired {
                tally.fired = true;
                x = x.count(tally.count);
                x.since = Some(tally.first);
            }
            out.push(x);
        }
        if !s.internal {
            // One port across many public hosts.
            if !COMMON_WEB_PORTS.contains(&s.remote_port) && r.packets <= 5 {
                let tally = win.tally(
                    format!("sw|{}|{}", s.local, s.remote_port),
                    time,
                    SWEEP_WINDOW,
                );
                tally.note(Some(&remote), 0, None);
                if tally.distinct.len() >= SWEEP_HOSTS {
                    let mut x =
                        Signal::new(t("Impact:EC2/PortSweep"), account, region, time, &resource)
                            .detail("port", s.remote_port)
                            .detail("hosts_in_window", tally.distinct.len());
                    if !tally.fired {
                        tally.fired = true;
                        x = x.count(tally.count);
                        x.since = Some(tally.first);
                    }
                    out.push(x);
                }
            }
            if s.remote_port == 25 && r.protocol == 6 {
                let tally = win.tally(format!("sp|{}", s.local), time, SPAM_WINDOW);
                tally.note(Some(&remote), 0, None);
                if tally.distinct.len() >= SPAM_HOSTS {
                    let mut x =
                        Signal::new(t("Backdoor:EC2/Spambot"), account, region, time, &resource)
                            .detail("smtp_hosts_in_window", tally.distinct.len());
                    if !tally.fired {
                        tally.fired = true;
                        x = x.count(tally.count);
                        x.since = Some(tally.first);
                    }
                    out.push(x);
                }
            }
            // Denial-of-service volumes towards one host.
            let class = match r.protocol {
                17 if s.remote_port == 53 => Some("Backdoor:EC2/DenialOfService.Dns"),
                17 if TCP_SERVICE_PORTS.contains(&s.remote_port) => {
                    Some("Backdoor:EC2/DenialOfService.UdpOnTcpPorts")
                }
                17 => Some("Backdoor:EC2/DenialOfService.Udp"),
                6 if r.packets > 0 && r.bytes / r.packets <= DOS_TCP_MAX_BYTES_PER_PACKET => {
                    Some("Backdoor:EC2/DenialOfService.Tcp")
                }
                1 | 6 | 58 | 50 | 47 => None,
                _ => Some("Backdoor:EC2/DenialOfService.UnusualProtocol"),
            };
            if let Some(ty) = class {
                let tally = win.tally(
                    format!("dos|{ty}|{}|{}", s.local, s.remote),
                    time,
                    DOS_WINDOW,
                );
                tally.note(None, r.packets, None);
                if tally.sum >= DOS_PACKETS {
                    let mut x = sig(t(ty))
                        .detail("packets_in_window", tally.sum)
                        .detail("protocol", r.protocol)
                        .detail("port", s.remote_port);
                    if !tally.fired {
                        tally.fired = true;
                        x = x.count(tally.count);
                        x.since = Some(tally.first);
                    }
                    out.push(x);
                }
            }
        }
    } else {
        // Inbound probing from one host; a finding only for ports that let it in.
        let tally = win.tally(format!("pp|{}|{}", s.remote, s.local), time, PROBE_WINDOW);
        tally.note(Some(&s.local_port.to_string()), 0, None);
        let port = s.local_port.to_string();
        let newly_open = accepted && !tally.marks.contains(&port);
        if accepted {
            tally.mark(&port);
        }
        if tally.distinct.len() >= PROBE_PORTS {
            let mut ports: Vec<u16> = if !tally.fired {
                tally.marks.iter().filter_map(|p| p.parse().ok()).collect()
            } else if newly_open {
                vec![s.local_port]
            } else {
                Vec::new()
            };
            ports.sort_unstable();
            let ports_probed = tally.distinct.len();
            tally.fired = true;
            for p in ports {
                let ty = if EMR_PORTS.contains(&p) {
                    "Recon:EC2/PortProbeEMRUnprotectedPort"
                } else {
                    "Recon:EC2/PortProbeUnprotectedPort"
                };
                let mut x = sig(t(ty))
                    .detail("port", p)
                    .detail("ports_probed_in_window", ports_probed);
                if p == 22 || p == 3389 {
                    x = x.severity(Severity::High);
                }
                out.push(x);
            }
        }
    }
}
