//! Attack scenarios generated into CloudTrail, flow and DNS logs, one per
//! built-in detection, each hidden in a realistic benign mix; the benign mix
//! alone must raise nothing.

use crate::run_files;
use rampart_detect::intel::{ThreatIntel, TrustedList};
use rampart_detect::{Engine, EngineConfig};
use serde_json::{Value, json};
use std::collections::BTreeSet;

const ACCOUNT: &str = "111122223333";
const T0: i64 = 1_714_557_600; // 2024-05-01T10:00:00Z

fn alice() -> Value {
    json!({"type":"IAMUser","principalId":"AIDAALICE","arn":format!("arn:aws:iam::{ACCOUNT}:user/alice"),"accountId":ACCOUNT,"accessKeyId":"AKIAALICEKEY","userName":"alice"})
}
fn deploy_role() -> Value {
    json!({"type":"AssumedRole","principalId":"AROADEPLOY:ci","arn":format!("arn:aws:sts::{ACCOUNT}:assumed-role/deploy/ci-run-42"),"accountId":ACCOUNT,"accessKeyId":"ASIADEPLOY","sessionContext":{"sessionIssuer":{"type":"Role","userName":"deploy","arn":format!("arn:aws:iam::{ACCOUNT}:role/deploy")}}})
}
fn instance_role(instance: &str) -> Value {
    json!({"type":"AssumedRole","principalId":format!("AROAAPP:{instance}"),"arn":format!("arn:aws:sts::{ACCOUNT}:assumed-role/app/{instance}"),"accountId":ACCOUNT,"accessKeyId":"ASIAAPP","sessionContext":{"ec2RoleDelivery":"2.0","sessionIssuer":{"type":"Role","userName":"app","arn":format!("arn:aws:iam::{ACCOUNT}:role/app")}}})
}
fn root() -> Value {
    json!({"type":"Root","principalId":ACCOUNT,"arn":format!("arn:aws:iam::{ACCOUNT}:root"),"accountId":ACCOUNT})
}

fn time(offset: i64) -> String {
    time_fmt(T0 + offset)
}
fn time_fmt(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // 2024-05-01 is day 19844 since the epoch; scenarios stay within May 2024.
    let day = days - 19_844 + 1;
    format!(
        "2024-05-{:02}T{:02}:{:02}:{:02}Z",
        day,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

struct Ct {
    n: u64,
}

impl Ct {
    fn ev(
        &mut self,
        source: &str,
        name: &str,
        who: Value,
        ip: &str,
        req: Value,
        offset: i64,
    ) -> Value {
        self.n += 1;
        json!({
            "eventVersion":"1.09","userIdentity":who,"eventTime":time(offset),"eventSource":format!("{source}.amazonaws.com"),
            "eventName":name,"awsRegion":"eu-west-1","sourceIPAddress":ip,"userAgent":"aws-cli/2.15.0 Python/3.11.6 Linux/6.1.0 exe/x86_64",
            "requestParameters":req,"responseElements":null,"requestID":format!("req-{}", self.n),"eventID":format!("ev-{}", self.n),
            "readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":ACCOUNT,"eventCategory":"Management"
        })
    }
}

fn records(events: Vec<Value>) -> Vec<u8> {
    json!({"Records": events}).to_string().into_bytes()
}

/// A small deterministic generator, so the benign mix is the same every run.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn benign_cloudtrail() -> Vec<u8> {
    let mut ct = Ct { n: 0 };
    let mut r = Lcg(7);
    let mut v = Vec::new();
    for i in 0..1500i64 {
        let off = i * 7;
        let inst = format!("i-0a{:014x}", r.below(4));
        let e = match r.below(14) {
            0 => ct.ev("s3", "GetObject", instance_role(&inst), &format!("10.0.1.{}", 10 + r.below(20)), json!({"bucketName":"app-assets","key":format!("img/{}.png", r.below(500))}), off),
            1 => ct.ev("s3", "PutObject", instance_role(&inst), "10.0.1.11", json!({"bucketName":"app-uploads","key":format!("u/{}", r.below(9999))}), off),
            2 => ct.ev("secretsmanager", "GetSecretValue", instance_role(&inst), "10.0.1.12", json!({"secretId":format!("prod/db-{}", r.below(2))}), off),
            3 => ct.ev("ec2", "DescribeInstances", alice(), "198.51.100.20", json!({"instancesSet":{}}), off),
            4 => ct.ev("s3", "ListBuckets", alice(), "198.51.100.20", json!({}), off),
            5 => {
                let mut e = ct.ev("signin", "ConsoleLogin", alice(), "198.51.100.20", Value::Null, off);
                e["responseElements"] = json!({"ConsoleLogin":"Success"});
                e["additionalEventData"] = json!({"MFAUsed":"Yes","LoginTo":"https://console.aws.amazon.com/"});
                e
            }
            6 => ct.ev("lambda", "UpdateFunctionCode20150331v2", deploy_role(), "54.240.196.10", json!({"functionName":"api","publish":true}), off),
            7 => ct.ev("ec2", "RunInstances", deploy_role(), "54.240.196.10", json!({"instanceType":"t3.micro","instancesSet":{"items":[{"imageId":"ami-1","minCount":1,"maxCount":1}]}}), off),
            8 => ct.ev("ec2", "AuthorizeSecurityGroupIngress", deploy_role(), "54.240.196.10", json!({"groupId":"sg-web","ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":443,"toPort":443,"ipRanges":{"items":[{"cidrIp":"0.0.0.0/0"}]}}]}}), off),
            9 => ct.ev("iam", "CreateAccessKey", alice(), "198.51.100.20", json!({"userName":"alice"}), off),
            10 => ct.ev("ssm", "GetParameters", instance_role(&inst), "10.0.1.13", json!({"names":["/app/db/password","/app/api/key"],"withDecryption":true}), off),
            11 => ct.ev("s3", "PutBucketPolicy", deploy_role(), "54.240.196.10", json!({"bucketName":"app-assets","bucketPolicy":{"Statement":[{"Effect":"Allow","Principal":{"AWS":format!("arn:aws:iam::{ACCOUNT}:root")},"Action":"s3:GetObject","Resource":"arn:aws:s3:::app-assets/*"}]}}), off),
            12 => ct.ev("ssm", "StartSession", alice(), "198.51.100.20", json!({"target":"i-0a00000000000001"}), off),
            _ => ct.ev("sts", "GetCallerIdentity", alice(), "198.51.100.20", json!({}), off),
        };
        v.push(e);
    }
    records(v)
}

#[allow(clippy::too_many_arguments)] // one argument per flow-log field
fn flow_line(
    src: &str,
    dst: &str,
    sport: u32,
    dport: u32,
    proto: u32,
    packets: u64,
    bytes: u64,
    offset: i64,
    action: &str,
) -> String {
    format!(
        "2 {ACCOUNT} eni-0web {src} {dst} {sport} {dport} {proto} {packets} {bytes} {} {} {action} OK\n",
        T0 + offset,
        T0 + offset + 60
    )
}

fn benign_flows() -> Vec<u8> {
    let mut r = Lcg(11);
    let mut s = String::from(
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n",
    );
    for i in 0..3000i64 {
        let off = i * 2;
        let line = match r.below(7) {
            0 => flow_line(
                &format!("198.19.{}.{}", r.below(50), 1 + r.below(200)),
                "10.0.1.10",
                30000 + r.below(30000) as u32,
                443,
                6,
                12,
                4200,
                off,
                "ACCEPT",
            ),
            1 => flow_line(
                "10.0.1.10",
                &format!("52.94.{}.{}", r.below(3), 1 + r.below(10)),
                40000 + r.below(20000) as u32,
                443,
                6,
                40,
                30000,
                off,
                "ACCEPT",
            ),
            2 => flow_line(
                "10.0.1.10",
                "10.0.2.20",
                40000 + r.below(20000) as u32,
                5432,
                6,
                30,
                9000,
                off,
                "ACCEPT",
            ),
            3 => flow_line(
                "10.0.1.10",
                "10.0.0.2",
                50000 + r.below(10000) as u32,
                53,
                17,
                2,
                160,
                off,
                "ACCEPT",
            ),
            4 => flow_line(
                "198.51.100.20",
                "10.0.1.10",
                51000,
                22,
                6,
                900,
                120000,
                off,
                "ACCEPT",
            ),
            5 => flow_line(
                &format!("192.0.2.{}", 100 + r.below(50)),
                "10.0.1.10",
                40000 + r.below(9999) as u32,
                [23, 445, 3389][r.below(3) as usize],
                6,
                1,
                40,
                off,
                "REJECT",
            ),
            _ => flow_line(
                "10.0.1.10",
                "169.254.169.123",
                123,
                123,
                17,
                1,
                76,
                off,
                "ACCEPT",
            ),
        };
        s.push_str(&line);
    }
    s.push_str(&format!(
        "2 {ACCOUNT} eni-0web - - - - - - - {T0} {} - NODATA\n",
        T0 + 60
    ));
    s.into_bytes()
}

fn dns_line(name: &str, answers: Value, rcode: &str, offset: i64) -> String {
    json!({"version":"1.100000","account_id":ACCOUNT,"region":"eu-west-1","vpc_id":"vpc-0app","query_timestamp":time(offset),"query_name":format!("{name}."),"query_type":"A","query_class":"IN","rcode":rcode,"answers":answers,"srcaddr":"10.0.1.10","srcport":"41234","transport":"UDP","srcids":{"instance":"i-0web"}}).to_string() + "\n"
}

fn benign_dns() -> Vec<u8> {
    let names = [
        "s3.eu-west-1.amazonaws.com",
        "sts.eu-west-1.amazonaws.com",
        "secretsmanager.eu-west-1.amazonaws.com",
        "github.com",
        "api.github.com",
        "ecr.eu-west-1.amazonaws.com",
        "logs.eu-west-1.amazonaws.com",
        "api.stripe.com",
        "api.twilio.com",
        "fonts.gstatic.com",
        "www.google.com",
        "sentry.io",
        "o123456.ingest.sentry.io",
        "d1a2b3c4d5e6f7.cloudfront.net",
        "10.1.0.10.in-addr.arpa",
        "ip-10-0-1-10.eu-west-1.compute.internal",
        "stackoverflow.com",
        "docs.rs",
        "api.datadoghq.eu",
        "status.atlassian.com",
        "login.microsoftonline.com",
        "hooks.slack.com",
    ];
    let mut r = Lcg(13);
    let mut s = String::new();
    for i in 0..1000i64 {
        let n = names[r.below(names.len() as u64) as usize];
        s.push_str(&dns_line(
            n,
            json!([{"Rdata":"52.94.1.1","Type":"A","Class":"IN"}]),
            "NOERROR",
            i * 3,
        ));
    }
    s.into_bytes()
}

fn config() -> EngineConfig {
    let mut intel = ThreatIntel::builtin();
    let mut d = Vec::new();
    intel.add_list(
        "custom.txt",
        "# our incident list\n203.0.113.66\nbad-actor.example\n",
        &mut d,
    );
    intel.add_list("tor.txt", "# kind: tor-exit\n192.0.2.66\n", &mut d);
    intel.add_list(
        "malicious.txt",
        "# kind: malicious\n203.0.113.77\nmalware-host.example\n",
        &mut d,
    );
    intel.add_list(
        "c2.txt",
        "# kind: c2\n198.51.100.66\nc2-panel.example\n",
        &mut d,
    );
    intel.add_list("mining.txt", "# kind: mining\n198.51.100.77\n", &mut d);
    intel.add_list(
        "blackhole.txt",
        "# kind: blackhole\n198.51.100.88\nsinkholed.example\n",
        &mut d,
    );
    intel.add_list(
        "drop.txt",
        "# kind: drop-point\n198.51.100.99\ndrop-box.example\n",
        &mut d,
    );
    intel.add_list(
        "phish.txt",
        "# kind: phishing\nlogin-micros0ft.example\n",
        &mut d,
    );
    intel.add_list(
        "driveby.txt",
        "# kind: drive-by\nexploit-kit.example\n",
        &mut d,
    );
    intel.add_list("dga.txt", "# kind: dga\nknown-dga-name.example\n", &mut d);
    intel.add_list("crypto.txt", "# kind: crypto\ncoin-mixer.example\n", &mut d);
    intel.add_list(
        "suspicious.txt",
        "# kind: suspicious\nodd-tld.example\n",
        &mut d,
    );
    assert!(d.is_empty(), "{d:?}");
    EngineConfig {
        intel,
        trusted: TrustedList::default(),
        ..EngineConfig::default()
    }
}

/// One scenario: the type it must raise and the attack records.
struct Scenario {
    type_name: &'static str,
    ct: Vec<Value>,
    flows: String,
    dns: String,
}

fn s(type_name: &'static str) -> Scenario {
    Scenario {
        type_name,
        ct: Vec::new(),
        flows: String::new(),
        dns: String::new(),
    }
}

fn scenarios() -> Vec<Scenario> {
    let mut ct = Ct { n: 100_000 };
    let mut v = Vec::new();
    let attacker = "203.0.113.50";
    macro_rules! one {
        ($t:expr, $src:expr, $name:expr, $who:expr, $req:expr) => {{
            let mut x = s($t);
            x.ct.push(ct.ev($src, $name, $who, attacker, $req, 5000));
            v.push(x);
        }};
    }
    one!(
        "Stealth:IAMUser/CloudTrailLoggingDisabled",
        "cloudtrail",
        "StopLogging",
        alice(),
        json!({"name":"org-trail"})
    );
    one!(
        "Stealth:IAMUser/PasswordPolicyChange",
        "iam",
        "DeleteAccountPasswordPolicy",
        alice(),
        json!({})
    );
    one!(
        "Stealth:S3/ServerAccessLoggingDisabled",
        "s3",
        "PutBucketLogging",
        alice(),
        json!({"bucketName":"app-assets","BucketLoggingStatus":{"xmlns":"http://s3.amazonaws.com/doc/2006-03-01/"}})
    );
    one!(
        "Policy:S3/AccountBlockPublicAccessDisabled",
        "s3",
        "PutAccountPublicAccessBlock",
        alice(),
        json!({"PublicAccessBlockConfiguration":{"BlockPublicAcls":false,"IgnorePublicAcls":false,"BlockPublicPolicy":false,"RestrictPublicBuckets":false}})
    );
    one!(
        "Policy:S3/BucketBlockPublicAccessDisabled",
        "s3",
        "DeleteBucketPublicAccessBlock",
        alice(),
        json!({"bucketName":"app-assets"})
    );
    one!(
        "Policy:S3/BucketAnonymousAccessGranted",
        "s3",
        "PutBucketPolicy",
        alice(),
        json!({"bucketName":"app-assets","bucketPolicy":{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::app-assets/*"}]}})
    );
    one!(
        "Policy:S3/BucketPublicAccessGranted",
        "s3",
        "PutBucketAcl",
        alice(),
        json!({"bucketName":"app-assets","AccessControlPolicy":{"AccessControlList":{"Grant":[{"Grantee":{"URI":"http://acs.amazonaws.com/groups/global/AuthenticatedUsers"},"Permission":"READ"}]}}})
    );
    one!(
        "CredentialAccess:EC2/UnsecuredCredentials",
        "ec2",
        "GetPasswordData",
        alice(),
        json!({"instanceId":"i-0win"})
    );
    one!(
        "DefenseImpairment:EC2/DisableOrModifyTools",
        "ec2",
        "DeleteFlowLogs",
        alice(),
        json!({"DeleteFlowLogsRequest":{"FlowLogId":{"content":"fl-1"}}})
    );
    one!(
        "DefenseImpairment:Organizations/ModifyCloudResourceHierarchy",
        "organizations",
        "LeaveOrganization",
        alice(),
        Value::Null
    );
    one!(
        "DefenseImpairment:GuardDuty/DetectorModified",
        "guardduty",
        "DeleteDetector",
        alice(),
        json!({"detectorId":"d-1"})
    );
    one!(
        "CredentialAccess:SecretsManager/BulkSecretRetrieval",
        "secretsmanager",
        "BatchGetSecretValue",
        alice(),
        json!({"filters":[{"key":"name","values":["prod"]}]})
    );
    one!(
        "Execution:EC2/UnusualInstanceLaunch",
        "ec2",
        "RunInstances",
        alice(),
        json!({"instanceType":"p3.8xlarge","instancesSet":{"items":[{"imageId":"ami-1","minCount":1,"maxCount":20}]}})
    );
    one!(
        "Execution:EC2/UserDataModified",
        "ec2",
        "ModifyInstanceAttribute",
        alice(),
        json!({"instanceId":"i-0app","userData":"<sensitiveDataRemoved>"})
    );
    one!(
        "Execution:SSM/SendCommandMultipleInstances",
        "ssm",
        "SendCommand",
        alice(),
        json!({"documentName":"AWS-RunShellScript","instanceIds":["i-1","i-2","i-3"]})
    );
    one!(
        "DefenseImpairment:EC2/SecurityGroupOpenToInternet",
        "ec2",
        "AuthorizeSecurityGroupIngress",
        alice(),
        json!({"groupId":"sg-db","ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":3389,"toPort":3389,"ipRanges":{"items":[{"cidrIp":"0.0.0.0/0"}]}}]}})
    );
    one!(
        "Exfiltration:EC2/AMISharedExternally",
        "ec2",
        "ModifyImageAttribute",
        alice(),
        json!({"imageId":"ami-1","attributeType":"launchPermission","launchPermission":{"add":{"items":[{"userId":"999988887777"}]}}})
    );
    one!(
        "Exfiltration:EC2/SnapshotSharedExternally",
        "ec2",
        "ModifySnapshotAttribute",
        alice(),
        json!({"snapshotId":"snap-1","createVolumePermission":{"add":{"items":[{"group":"all"}]}}})
    );
    one!(
        "Exfiltration:RDS/SnapshotSharedExternally",
        "rds",
        "ModifyDBSnapshotAttribute",
        alice(),
        json!({"dBSnapshotIdentifier":"prod","attributeName":"restore","valuesToAdd":["999988887777"]})
    );
    one!(
        "Impact:Bedrock/ModelAccessEnabled",
        "bedrock",
        "PutUseCaseForModelAccess",
        alice(),
        json!({})
    );
    {
        let mut x = s("InitialAccess:IAMUser/ConsoleLoginWithoutMFA");
        let mut e = ct.ev(
            "signin",
            "ConsoleLogin",
            alice(),
            attacker,
            Value::Null,
            5000,
        );
        e["responseElements"] = json!({"ConsoleLogin":"Success"});
        e["additionalEventData"] = json!({"MFAUsed":"No"});
        x.ct.push(e);
        v.push(x);
    }
    one!(
        "LateralMovement:EC2/InstanceConnectKeyPushed",
        "ec2-instance-connect",
        "SendSSHPublicKey",
        alice(),
        json!({"instanceId":"i-0app","instanceOSUser":"ec2-user"})
    );
    one!(
        "LateralMovement:EC2/SerialConsoleKeyPushed",
        "ec2",
        "EnableSerialConsoleAccess",
        alice(),
        json!({})
    );
    one!(
        "Persistence:IAMRole/CrossAccountTrust",
        "iam",
        "UpdateAssumeRolePolicy",
        alice(),
        json!({"roleName":"admin","policyDocument":"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::999988887777:root\"},\"Action\":\"sts:AssumeRole\"}]}"})
    );
    one!(
        "Persistence:IAMUser/AccessKeyCreatedForOtherUser",
        "iam",
        "CreateAccessKey",
        alice(),
        json!({"userName":"bob"})
    );
    one!(
        "Persistence:IAM/AdministratorPolicyAttached",
        "iam",
        "AttachUserPolicy",
        alice(),
        json!({"userName":"mallory","policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"})
    );
    one!(
        "Persistence:IAMUser/LoginProfileCreated",
        "iam",
        "CreateLoginProfile",
        alice(),
        json!({"userName":"bob","passwordResetRequired":false})
    );
    one!(
        "PrivilegeEscalation:IAMUser/LoginProfileUpdated",
        "iam",
        "UpdateLoginProfile",
        alice(),
        json!({"userName":"bob"})
    );
    one!(
        "Persistence:Lambda/ResourcePolicyOpened",
        "lambda",
        "AddPermission20150331v2",
        alice(),
        json!({"functionName":"api","principal":"*","action":"lambda:InvokeFunction","statementId":"x"})
    );
    one!(
        "Persistence:Lambda/LayerAttached",
        "lambda",
        "UpdateFunctionConfiguration20150331v2",
        deploy_role(),
        json!({"functionName":"api","layers":["arn:aws:lambda:eu-west-1:999988887777:layer:ext:1"]})
    );
    one!(
        "Persistence:Lambda/FunctionCodeUpdated",
        "lambda",
        "UpdateFunctionCode20150331v2",
        alice(),
        json!({"functionName":"api"})
    );
    one!(
        "Persistence:IAMRolesAnywhere/TrustAnchorCreated",
        "rolesanywhere",
        "CreateTrustAnchor",
        alice(),
        json!({"name":"ta"})
    );
    one!(
        "Persistence:IAMUser/FederationTokenIssued",
        "sts",
        "GetFederationToken",
        alice(),
        json!({"name":"x"})
    );
    one!(
        "Policy:IAMUser/RootCredentialUsage",
        "s3",
        "ListBuckets",
        root(),
        json!({})
    );
    one!(
        "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
        "ec2",
        "DescribeInstances",
        instance_role("i-0a00000000000001"),
        json!({})
    );
    {
        let mut x = s("UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS");
        x.ct.push(ct.ev(
            "sts",
            "GetCallerIdentity",
            instance_role("i-0a00000000000002"),
            "54.240.199.7",
            json!({}),
            5000,
        ));
        x.ct.push(ct.ev(
            "ssm",
            "SendCommand",
            alice(),
            "54.240.199.7",
            json!({"instanceIds":["i-0a00000000000002"]}),
            4000,
        ));
        v.push(x);
    }
    for (t, ua, src, name) in [
        (
            "PenTest:IAMUser/KaliLinux",
            "Boto3/1.26 Python/3.11 Linux/6.1.0-kali7-amd64",
            "iam",
            "ListUsers",
        ),
        (
            "PenTest:IAMUser/ParrotLinux",
            "aws-cli/2.9 Python/3.9 Linux/5.16-parrot1-amd64",
            "iam",
            "ListUsers",
        ),
        (
            "PenTest:IAMUser/PentooLinux",
            "aws-cli/2.9 Python/3.9 Linux/6.1-pentoo",
            "iam",
            "ListUsers",
        ),
        (
            "PenTest:S3/KaliLinux",
            "Boto3/1.26 Linux/6.1.0-kali7-amd64",
            "s3",
            "ListObjects",
        ),
        (
            "PenTest:S3/ParrotLinux",
            "Boto3/1.26 Linux/5.16-parrot1",
            "s3",
            "ListObjects",
        ),
        (
            "PenTest:S3/PentooLinux",
            "Boto3/1.26 Linux/6.1-pentoo",
            "s3",
            "ListObjects",
        ),
    ] {
        let mut x = s(t);
        let mut e = ct.ev(
            src,
            name,
            alice(),
            attacker,
            json!({"bucketName":"app-assets"}),
            5000,
        );
        e["userAgent"] = json!(ua);
        x.ct.push(e);
        v.push(x);
    }
    for (t, ip, src, name) in [
        (
            "Discovery:S3/MaliciousIPCaller",
            "203.0.113.77",
            "s3",
            "ListObjects",
        ),
        (
            "Discovery:S3/MaliciousIPCaller.Custom",
            "203.0.113.66",
            "s3",
            "ListObjects",
        ),
        (
            "Discovery:S3/TorIPCaller",
            "192.0.2.66",
            "s3",
            "GetBucketAcl",
        ),
        (
            "Exfiltration:S3/MaliciousIPCaller",
            "203.0.113.77",
            "s3",
            "GetObject",
        ),
        (
            "Impact:S3/MaliciousIPCaller",
            "203.0.113.77",
            "s3",
            "DeleteObject",
        ),
        (
            "Recon:IAMUser/MaliciousIPCaller",
            "203.0.113.77",
            "iam",
            "ListUsers",
        ),
        (
            "Recon:IAMUser/MaliciousIPCaller.Custom",
            "203.0.113.66",
            "ec2",
            "DescribeInstances",
        ),
        (
            "Recon:IAMUser/TorIPCaller",
            "192.0.2.66",
            "iam",
            "GetAccountAuthorizationDetails",
        ),
        (
            "UnauthorizedAccess:IAMUser/MaliciousIPCaller",
            "203.0.113.77",
            "iam",
            "CreateUser",
        ),
        (
            "UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom",
            "203.0.113.66",
            "ec2",
            "TerminateInstances",
        ),
        (
            "UnauthorizedAccess:IAMUser/TorIPCaller",
            "192.0.2.66",
            "iam",
            "CreateUser",
        ),
        (
            "UnauthorizedAccess:S3/MaliciousIPCaller.Custom",
            "203.0.113.66",
            "s3",
            "PutObject",
        ),
        (
            "UnauthorizedAccess:S3/TorIPCaller",
            "192.0.2.66",
            "s3",
            "PutObject",
        ),
    ] {
        let mut x = s(t);
        x.ct.push(ct.ev(
            src,
            name,
            alice(),
            ip,
            json!({"bucketName":"app-assets"}),
            5000,
        ));
        v.push(x);
    }
    {
        let mut x = s("CredentialAccess:SecretsManager/BulkSecretRetrieval");
        for i in 0..12 {
            x.ct.push(ct.ev(
                "secretsmanager",
                "GetSecretValue",
                alice(),
                attacker,
                json!({"secretId":format!("prod/s{i}")}),
                5000 + i,
            ));
        }
        v.push(x);
        let mut x = s("CredentialAccess:SSM/BulkParameterDecryption");
        let names: Vec<String> = (0..12).map(|i| format!("/prod/p{i}")).collect();
        x.ct.push(ct.ev(
            "ssm",
            "GetParameters",
            alice(),
            attacker,
            json!({"names":names,"withDecryption":true}),
            5000,
        ));
        v.push(x);
        let mut x = s("Discovery:EC2/UserDataRetrieval");
        for i in 0..6 {
            x.ct.push(ct.ev(
                "ec2",
                "DescribeInstanceAttribute",
                alice(),
                attacker,
                json!({"attribute":"userData","instanceId":format!("i-{i}")}),
                5000 + i,
            ));
        }
        v.push(x);
        let mut x = s("Execution:SSM/StartSessionMultipleInstances");
        for i in 0..3 {
            x.ct.push(ct.ev(
                "ssm",
                "StartSession",
                alice(),
                attacker,
                json!({"target":format!("i-0b{i}")}),
                5000 + i,
            ));
        }
        v.push(x);
    }

    // ---- flow logs ----
    let inst = "10.0.1.10";
    let mut flows = |t: &'static str, lines: String| {
        let mut x = s(t);
        x.flows = lines;
        v.push(x);
    };
    let brute = |port: u32| {
        (0..25)
            .map(|i| {
                flow_line(
                    "198.51.100.200",
                    inst,
                    40000 + i,
                    port,
                    6,
                    8,
                    900,
                    100 + i as i64 * 10,
                    "ACCEPT",
                )
            })
            .collect::<String>()
    };
    flows("UnauthorizedAccess:EC2/SSHBruteForce", brute(22));
    flows("UnauthorizedAccess:EC2/RDPBruteForce", brute(3389));
    flows("Impact:EC2/WinRMBruteForce", brute(5985));
    flows(
        "Recon:EC2/Portscan",
        (1..40)
            .map(|p| {
                flow_line(
                    inst,
                    "10.0.2.30",
                    45000,
                    p,
                    6,
                    1,
                    44,
                    200 + p as i64,
                    "REJECT",
                )
            })
            .collect(),
    );
    flows(
        "Impact:EC2/PortSweep",
        (0..60)
            .map(|i| {
                flow_line(
                    inst,
                    &format!("198.18.{}.{}", i / 200, 1 + i % 200),
                    45000 + i,
                    6379,
                    6,
                    1,
                    44,
                    300 + i as i64,
                    "REJECT",
                )
            })
            .collect(),
    );
    flows(
        "Backdoor:EC2/Spambot",
        (0..25)
            .map(|i| {
                flow_line(
                    inst,
                    &format!("198.18.9.{}", 1 + i),
                    45000 + i,
                    25,
                    6,
                    12,
                    4000,
                    300 + i as i64,
                    "ACCEPT",
                )
            })
            .collect(),
    );
    flows(
        "Backdoor:EC2/DenialOfService.Dns",
        flow_line(
            inst,
            "198.18.5.5",
            5353,
            53,
            17,
            700_000,
            49_000_000,
            400,
            "ACCEPT",
        ),
    );
    flows(
        "Backdoor:EC2/DenialOfService.Udp",
        flow_line(
            inst,
            "198.18.5.5",
            5353,
            9999,
            17,
            700_000,
            49_000_000,
            400,
            "ACCEPT",
        ),
    );
    flows(
        "Backdoor:EC2/DenialOfService.UdpOnTcpPorts",
        flow_line(
            inst,
            "198.18.5.5",
            5353,
            80,
            17,
            700_000,
            49_000_000,
            400,
            "ACCEPT",
        ),
    );
    flows(
        "Backdoor:EC2/DenialOfService.Tcp",
        flow_line(
            inst,
            "198.18.5.5",
            5353,
            80,
            6,
            700_000,
            42_000_000,
            400,
            "ACCEPT",
        ),
    );
    flows(
        "Backdoor:EC2/DenialOfService.UnusualProtocol",
        flow_line(
            inst,
            "198.18.5.5",
            0,
            0,
            2,
            700_000,
            42_000_000,
            400,
            "ACCEPT",
        ),
    );
    let probe = |open: u32| {
        (1..13)
            .map(|p| {
                let port = if p == 12 { open } else { 1000 + p };
                flow_line(
                    "198.51.100.201",
                    inst,
                    40000,
                    port,
                    6,
                    1,
                    44,
                    500 + p as i64,
                    if p == 12 { "ACCEPT" } else { "REJECT" },
                )
            })
            .collect::<String>()
    };
    flows("Recon:EC2/PortProbeUnprotectedPort", probe(22));
    flows("Recon:EC2/PortProbeEMRUnprotectedPort", probe(8088));
    flows(
        "Backdoor:EC2/C&CActivity.B",
        flow_line(
            inst,
            "198.51.100.66",
            45000,
            443,
            6,
            10,
            2000,
            600,
            "ACCEPT",
        ),
    );
    flows(
        "CryptoCurrency:EC2/BitcoinTool.B",
        flow_line(
            inst,
            "198.51.100.77",
            45000,
            3333,
            6,
            10,
            2000,
            600,
            "ACCEPT",
        ),
    );
    flows(
        "Trojan:EC2/BlackholeTraffic",
        flow_line(inst, "198.51.100.88", 45000, 80, 6, 2, 120, 600, "REJECT"),
    );
    flows(
        "Trojan:EC2/DropPoint",
        flow_line(
            inst,
            "198.51.100.99",
            45000,
            443,
            6,
            10,
            2000,
            600,
            "ACCEPT",
        ),
    );
    flows(
        "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom",
        flow_line(inst, "203.0.113.66", 45000, 443, 6, 10, 2000, 600, "ACCEPT"),
    );
    flows(
        "UnauthorizedAccess:EC2/TorClient",
        flow_line(inst, "192.0.2.66", 45000, 9001, 6, 10, 2000, 600, "ACCEPT"),
    );
    flows(
        "UnauthorizedAccess:EC2/TorRelay",
        flow_line("192.0.2.66", inst, 45000, 9001, 6, 10, 2000, 600, "ACCEPT"),
    );

    // ---- DNS ----
    let a = |ip: &str| json!([{"Rdata":ip,"Type":"A","Class":"IN"}]);
    let mut dns = |t: &'static str, lines: String| {
        let mut x = s(t);
        x.dns = lines;
        v.push(x);
    };
    dns(
        "UnauthorizedAccess:EC2/MetadataDNSRebind",
        dns_line(
            "rebind.attacker.example",
            a("169.254.169.254"),
            "NOERROR",
            700,
        ),
    );
    dns(
        "CryptoCurrency:EC2/BitcoinTool.B!DNS",
        dns_line("gulf.moneroocean.stream", a("198.18.1.1"), "NOERROR", 700),
    );
    dns(
        "Impact:EC2/AbusedDomainRequest.Reputation",
        dns_line("x7.duckdns.org", a("198.18.1.1"), "NOERROR", 700),
    );
    for (t, n) in [
        ("Backdoor:EC2/C&CActivity.B!DNS", "c2-panel.example"),
        ("Trojan:EC2/BlackholeTraffic!DNS", "sinkholed.example"),
        ("Trojan:EC2/DropPoint!DNS", "drop-box.example"),
        (
            "Trojan:EC2/PhishingDomainRequest!DNS",
            "login-micros0ft.example",
        ),
        (
            "Trojan:EC2/DriveBySourceTraffic!DNS",
            "cdn.exploit-kit.example",
        ),
        (
            "Trojan:EC2/DGADomainRequest.C!DNS",
            "known-dga-name.example",
        ),
        (
            "Impact:EC2/BitcoinDomainRequest.Reputation",
            "coin-mixer.example",
        ),
        (
            "Impact:EC2/SuspiciousDomainRequest.Reputation",
            "odd-tld.example",
        ),
        (
            "Impact:EC2/MaliciousDomainRequest.Reputation",
            "malware-host.example",
        ),
    ] {
        dns(t, dns_line(n, a("198.18.1.1"), "NOERROR", 700));
    }
    dns(
        "Trojan:EC2/DGADomainRequest.B",
        [
            "xjwqpzkvnbtyr",
            "qmxkzvtrplhw",
            "a8f3k29dk4m1x",
            "bcdfghjklmnpq",
            "zxcvbnmqwrtp",
            "pkdjw7r2m9xq",
        ]
        .iter()
        .enumerate()
        .map(|(i, l)| dns_line(&format!("{l}.net"), json!([]), "NXDOMAIN", 800 + i as i64))
        .collect(),
    );
    dns(
        "Trojan:EC2/DNSDataExfiltration",
        (0..12)
            .map(|i| {
                dns_line(
                    &format!(
                        "{:x}f3a9c1e07b5d2648a9e1c3f5b7d90{i:02}.tunnel.exfil-domain.example",
                        0x4a6f686e20u64 + i * 7919
                    ),
                    json!([]),
                    "NOERROR",
                    900 + i as i64,
                )
            })
            .collect(),
    );
    v
}

fn files_for(sc: Option<&Scenario>) -> Vec<(&'static str, Vec<u8>)> {
    let mut files = vec![
        (
            "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/05/01/benign.json",
            benign_cloudtrail(),
        ),
        (
            "AWSLogs/111122223333/vpcflowlogs/eu-west-1/2024/05/01/benign.log",
            benign_flows(),
        ),
        (
            "AWSLogs/111122223333/route53/eu-west-1/2024/05/01/benign-dns.log",
            benign_dns(),
        ),
    ];
    if let Some(sc) = sc {
        if !sc.ct.is_empty() {
            files.push((
                "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/05/01/attack.json",
                records(sc.ct.clone()),
            ));
        }
        if !sc.flows.is_empty() {
            files.push((
                "AWSLogs/111122223333/vpcflowlogs/eu-west-1/2024/05/01/attack.log",
                sc.flows.clone().into_bytes(),
            ));
        }
        if !sc.dns.is_empty() {
            files.push((
                "AWSLogs/111122223333/route53/eu-west-1/2024/05/01/attack-dns.log",
                sc.dns.clone().into_bytes(),
            ));
        }
    }
    files
}

#[test]
fn benign_mix_raises_nothing() {
    let report = run_files(config(), &files_for(None));
    assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
    assert!(
        report.stats.cloudtrail_events >= 1500
            && report.stats.flow_records >= 3000
            && report.stats.dns_queries >= 1000,
        "{:?}",
        report.stats
    );
    let names: Vec<_> = report
        .findings
        .iter()
        .map(|f| {
            format!(
                "{} on {} ({:?})",
                f.type_name, f.resource.id, f.evidence.details
            )
        })
        .collect();
    assert!(
        names.is_empty(),
        "false positives on benign traffic:\n{}",
        names.join("\n")
    );
}

#[test]
fn every_builtin_detection_fires_on_its_scenario() {
    let all = scenarios();
    let mut failures = Vec::new();
    for sc in &all {
        let report = run_files(config(), &files_for(Some(sc)));
        let found = report.findings.iter().find(|f| f.type_name == sc.type_name);
        match found {
            None => failures.push(format!(
                "{}: not raised; got {:?}",
                sc.type_name,
                report
                    .findings
                    .iter()
                    .map(|f| &f.type_name)
                    .collect::<Vec<_>>()
            )),
            Some(f) => {
                if f.account_id != ACCOUNT || f.region != "eu-west-1" {
                    failures.push(format!(
                        "{}: account/region {}/{}",
                        sc.type_name, f.account_id, f.region
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let covered: BTreeSet<&str> = all.iter().map(|s| s.type_name).collect();
    let engine = Engine::new(config());
    let missing: Vec<_> = engine
        .builtin_types()
        .into_iter()
        .filter(|t| !covered.contains(t))
        .collect();
    assert!(
        missing.is_empty(),
        "built-in types without a scenario: {missing:?}"
    );
}

#[test]
fn repeats_aggregate_into_one_finding() {
    let mut sc = s("UnauthorizedAccess:EC2/SSHBruteForce");
    sc.flows = (0..200)
        .map(|i| {
            flow_line(
                "198.51.100.200",
                "10.0.1.10",
                30000 + i,
                22,
                6,
                8,
                900,
                i as i64 * 5,
                "REJECT",
            )
        })
        .collect();
    let report = run_files(config(), &files_for(Some(&sc)));
    let f: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.type_name == sc.type_name)
        .collect();
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].count, 200);
    assert_eq!(f[0].first_seen, "2024-05-01T10:00:00Z");
    assert_eq!(f[0].last_seen, "2024-05-01T10:16:35Z");
    assert!(f[0].evidence.addresses.contains("198.51.100.200"));
}

#[test]
fn trusted_addresses_raise_nothing() {
    let mut cfg = config();
    let mut d = Vec::new();
    cfg.trusted
        .add_list("trusted.txt", "198.51.100.0/24 # our scanners\n", &mut d);
    let mut sc = s("UnauthorizedAccess:EC2/SSHBruteForce");
    sc.flows = (0..30)
        .map(|i| {
            flow_line(
                "198.51.100.200",
                "10.0.1.10",
                30000 + i,
                22,
                6,
                8,
                900,
                i as i64,
                "REJECT",
            )
        })
        .collect();
    let report = run_files(cfg, &files_for(Some(&sc)));
    assert!(report.findings.is_empty(), "{:?}", report.findings);
}

#[test]
fn time_helper() {
    assert_eq!(time_fmt(T0), "2024-05-01T10:00:00Z");
    assert_eq!(time_fmt(T0 + 86_400 + 61), "2024-05-02T10:01:01Z");
}

// UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B needs --geoip, so it is
// off in `config()` and its scenarios run with a real (generated) MaxMind DB
// in which the benign mix's 198.51.100.0/24 is Paris.

#[path = "../support/mmdb_writer.rs"]
mod mmdb_writer;

const IMPOSSIBLE_TRAVEL: &str = "UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B";

fn geo_config() -> EngineConfig {
    let db =
        rampart_detect::geoip::GeoIp::from_bytes("test-city.mmdb", mmdb_writer::test_city_db())
            .expect("the generated database opens");
    EngineConfig {
        geoip: Some(std::sync::Arc::new(db)),
        ..config()
    }
}

/// A successful console login of alice from `ip`, `offset` seconds after T0.
fn alice_login(ct: &mut Ct, ip: &str, offset: i64) -> Value {
    let mut e = ct.ev("signin", "ConsoleLogin", alice(), ip, Value::Null, offset);
    e["responseElements"] = json!({"ConsoleLogin":"Success"});
    e["additionalEventData"] = json!({"MFAUsed":"Yes","LoginTo":"https://console.aws.amazon.com/"});
    e["userAgent"] =
        json!("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0");
    e
}

fn console_logins(logins: &[(&str, i64)]) -> Scenario {
    let mut ct = Ct { n: 200_000 };
    let mut sc = s(IMPOSSIBLE_TRAVEL);
    sc.ct = logins
        .iter()
        .map(|(ip, off)| alice_login(&mut ct, ip, *off))
        .collect();
    sc
}

fn raised(report: &rampart_detect::Report) -> Vec<&rampart_detect::Finding> {
    report
        .findings
        .iter()
        .filter(|f| f.type_name == IMPOSSIBLE_TRAVEL)
        .collect()
}

#[test]
fn console_login_from_paris_and_sydney_within_the_hour_fires() {
    assert!(
        Engine::new(geo_config())
            .builtin_types()
            .contains(&IMPOSSIBLE_TRAVEL)
    );
    // The benign mix has alice signing in from Paris all along; Sydney at
    // 5000 s falls among those logins.
    let benign = run_files(geo_config(), &files_for(None));
    assert!(raised(&benign).is_empty(), "{:?}", raised(&benign));
    let sc = console_logins(&[("203.0.113.50", 5000)]);
    let report = run_files(geo_config(), &files_for(Some(&sc)));
    let found = raised(&report);
    assert_eq!(found.len(), 1, "{:?}", report.findings);
    let f = found[0];
    assert_eq!(
        (
            f.account_id.as_str(),
            f.region.as_str(),
            f.severity.as_str()
        ),
        (ACCOUNT, "eu-west-1", "medium")
    );
    assert_eq!(f.resource.id, format!("arn:aws:iam::{ACCOUNT}:user/alice"));
    assert_eq!(f.mitre.technique, "T1078.004");
    let d = &f.evidence.details;
    assert_eq!(d["first_login_ip"], "198.51.100.20");
    assert_eq!(d["first_login_location"], "Paris, FR");
    assert_eq!(d["second_login_ip"], "203.0.113.50");
    assert_eq!(d["second_login_location"], "Sydney, AU");
    let km: f64 = d["distance_km"].parse().expect("a number");
    assert!((km - 16_960.0).abs() < 100.0, "{km}");
    let hours: f64 = d["hours_apart"].parse().expect("a number");
    assert!(hours < 1.0, "{hours}");
    assert!(d["user_agent"].contains("Firefox"), "{d:?}");
    assert!(d["first_user_agent"].contains("aws-cli"), "{d:?}");
    assert!(
        f.evidence.event_ids.len() >= 2,
        "{:?}",
        f.evidence.event_ids
    );
    assert!(f.evidence.event_ids.contains("ev-200001"));
    assert!(report.notices.is_empty(), "{:?}", report.notices);
}

#[test]
fn console_logins_that_one_person_could_make_do_not_fire() {
    for (what, logins) in [
        // Another Paris address, twice.
        (
            "one city",
            vec![("198.51.100.21", 5000), ("198.51.100.21", 5100)],
        ),
        // Lyon is 390 km from Paris: too near, however soon.
        ("Lyon", vec![("192.0.2.10", 5000)]),
        // New York ten hours after the last Paris login (10,493 s).
        ("New York 10 h later", vec![("45.33.1.1", 10_493 + 36_000)]),
        // A private address is not placed anywhere.
        ("private", vec![("10.9.9.9", 5000)]),
    ] {
        let sc = console_logins(&logins);
        let report = run_files(geo_config(), &files_for(Some(&sc)));
        assert!(raised(&report).is_empty(), "{what}: {:?}", raised(&report));
    }
}

#[test]
fn console_logins_split_over_two_regions_are_compared() {
    // Paris in eu-west-1, Sydney in ap-southeast-2: separate shards of the
    // run, so only the merge can see the pair.
    let mut ct = Ct { n: 300_000 };
    let paris = records(vec![alice_login(&mut ct, "198.51.100.20", 0)]);
    let mut sydney = alice_login(&mut ct, "203.0.113.50", 900);
    sydney["awsRegion"] = json!("ap-southeast-2");
    let sydney = records(vec![sydney]);
    let files: Vec<(String, Vec<u8>)> = vec![
        (
            "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/05/01/a.json".into(),
            paris,
        ),
        (
            "AWSLogs/111122223333/CloudTrail/ap-southeast-2/2024/05/01/b.json".into(),
            sydney,
        ),
    ];
    let inputs = files
        .iter()
        .map(|(name, b)| rampart_detect::Input {
            name: name.clone(),
            size: b.len() as u64,
        })
        .collect();
    let read = |name: &str| {
        files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.clone())
            .ok_or_else(|| "no such input".to_owned())
    };
    let report =
        rampart_detect::run_inputs(std::sync::Arc::new(geo_config()), inputs, 2, &read).finish();
    let found = raised(&report);
    assert_eq!(found.len(), 1, "{:?}", report.findings);
    assert_eq!(found[0].region, "ap-southeast-2");
    assert_eq!(found[0].evidence.details["hours_apart"], "0.25");
}

#[test]
fn without_geoip_the_type_is_off_and_the_run_says_so_once() {
    assert!(
        !Engine::new(config())
            .builtin_types()
            .contains(&IMPOSSIBLE_TRAVEL)
    );
    let sc = console_logins(&[("203.0.113.50", 5000)]);
    let report = run_files(config(), &files_for(Some(&sc)));
    assert!(raised(&report).is_empty());
    assert_eq!(report.notices.len(), 1, "{:?}", report.notices);
    assert!(
        report.notices[0].contains("--geoip"),
        "{}",
        report.notices[0]
    );
    // Input problems are another matter: none here.
    assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
}

#[test]
fn role_sessions_are_not_judged() {
    // GuardDuty raises the type for root, IAM and federated users only: a
    // role is shared, so two places at once is normal for it.
    let mut ct = Ct { n: 400_000 };
    let mut v = Vec::new();
    for (ip, off) in [("198.51.100.20", 0), ("203.0.113.50", 600)] {
        let mut e = alice_login(&mut ct, ip, off);
        e["userIdentity"] = deploy_role();
        v.push(e);
    }
    let mut sc = s(IMPOSSIBLE_TRAVEL);
    sc.ct = v;
    let report = run_files(geo_config(), &files_for(Some(&sc)));
    assert!(raised(&report).is_empty(), "{:?}", raised(&report));
}

#[test]
fn console_logins_split_by_a_follow_restart_are_compared() {
    // Paris before the checkpoint, Sydney after the restart: the logins
    // travel in the checkpointed window state, as `--follow` saves it.
    let mut ct = Ct { n: 400_000 };
    let paris = records(vec![alice_login(&mut ct, "198.51.100.20", 0)]);
    let sydney = records(vec![alice_login(&mut ct, "203.0.113.50", 900)]);
    let name = "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/05/01/a.json";
    let mut before = Engine::new(geo_config());
    before.process_bytes(name, &paris);
    assert!(raised(&before.flush()).is_empty());
    let saved = serde_json::to_string(&before.window_state()).expect("serialise");
    let mut after = Engine::new(geo_config());
    after.restore_window_state(serde_json::from_str(&saved).expect("read back"));
    after.process_bytes(name, &sydney);
    let report = after.finish();
    let found = raised(&report);
    assert_eq!(found.len(), 1, "{:?}", report.findings);
    assert_eq!(found[0].evidence.details["hours_apart"], "0.25");
    // Without the saved state the restart sees Sydney alone.
    let mut fresh = Engine::new(geo_config());
    fresh.process_bytes(name, &sydney);
    assert!(raised(&fresh.finish()).is_empty());
}
