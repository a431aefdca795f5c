#!/usr/bin/env python3
"""Generates realistic gzipped CloudTrail for the detection benchmark.

Writes AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.json.gz objects,
each {"Records": [...]} as CloudTrail delivers them, until the uncompressed
JSON reaches --gb gigabytes. The mix is mostly ordinary reads and writes by
instance roles, CI roles and people, with a sprinkle of the calls rules look
at (IAM changes, console logins, security-group edits), so lazy parsing and
the rule index are exercised the way real trails exercise them.

usage: bench/detect_gen.py OUT_DIR [--gb 1.0] [--accounts 4] [--regions 2] [--seed 1]
"""
import argparse, gzip, json, os, random, uuid

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--gb", type=float, default=1.0)
p.add_argument("--accounts", type=int, default=4)
p.add_argument("--regions", type=int, default=2)
p.add_argument("--per-file", type=int, default=2000)
p.add_argument("--seed", type=int, default=1)
a = p.parse_args()
rnd = random.Random(a.seed)
accounts = [f"{100000000000 + i * 7919:012d}" for i in range(a.accounts)]
regions = ["eu-west-1", "us-east-1", "eu-central-1", "us-west-2"][: a.regions]
UAS = ["aws-sdk-go/1.44.298 (go1.21.5; linux; amd64)", "aws-cli/2.15.10 Python/3.11.6 Linux/6.1.0-17-cloud-amd64 exe/x86_64.debian.12",
       "Boto3/1.34.11 md/Botocore#1.34.11 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.6", "console.amazonaws.com",
       "aws-sdk-java/2.21.29 Linux/5.10.205-195.807.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.9+8-LTS", "terraform-provider-aws/5.31.0"]

def ident(acct, kind, name):
    if kind == "user":
        return {"type": "IAMUser", "principalId": "AIDA" + name.upper()[:16].ljust(16, "X"), "arn": f"arn:aws:iam::{acct}:user/{name}",
                "accountId": acct, "accessKeyId": "AKIA" + name.upper()[:16].ljust(16, "K"), "userName": name}
    sess = name if kind == "instance" else f"{name}-{rnd.randrange(10**6)}"
    role = "app" if kind == "instance" else name
    return {"type": "AssumedRole", "principalId": f"AROA{role.upper()[:12]:X<12}:{sess}", "arn": f"arn:aws:sts::{acct}:assumed-role/{role}/{sess}",
            "accountId": acct, "accessKeyId": "ASIA" + uuid.UUID(int=rnd.getrandbits(128)).hex[:16].upper(),
            "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": f"AROA{role.upper()[:12]:X<12}", "arn": f"arn:aws:iam::{acct}:role/{role}",
                                                 "accountId": acct, "userName": role},
                               "attributes": {"creationDate": "2024-05-01T09:00:00Z", "mfaAuthenticated": "false"}}}

def event(acct, region, t):
    r = rnd.random()
    inst = f"i-0{rnd.randrange(16**15):015x}"
    if r < 0.30:
        who, src, name, ip = ident(acct, "instance", inst), "s3", "GetObject", f"10.{rnd.randrange(4)}.{rnd.randrange(256)}.{rnd.randrange(256)}"
        req = {"bucketName": f"app-data-{acct[-4:]}", "key": f"objects/{rnd.randrange(10**6)}.json", "Host": f"app-data.s3.{region}.amazonaws.com"}
    elif r < 0.45:
        who, src, name, ip = ident(acct, "instance", inst), "s3", "PutObject", "10.1.2.3"
        req = {"bucketName": f"app-uploads-{acct[-4:]}", "key": f"u/{uuid.UUID(int=rnd.getrandbits(128))}", "x-amz-server-side-encryption": "aws:kms"}
    elif r < 0.58:
        who, src, name, ip = ident(acct, "role", "deploy"), "ec2", rnd.choice(["DescribeInstances", "DescribeSecurityGroups", "DescribeSubnets", "DescribeVpcs"]), "54.240.197.9"
        req = {"maxResults": 1000, "filterSet": {"items": [{"name": "tag:env", "valueSet": {"items": [{"value": "prod"}]}}]}}
    elif r < 0.68:
        who, src, name, ip = ident(acct, "instance", inst), "sts", "AssumeRole", "10.0.3.4"
        req = {"roleArn": f"arn:aws:iam::{acct}:role/worker", "roleSessionName": f"s-{rnd.randrange(10**9)}", "durationSeconds": 3600}
    elif r < 0.76:
        who, src, name, ip = ident(acct, "instance", inst), "kms", rnd.choice(["Decrypt", "GenerateDataKey"]), "10.0.3.5"
        req = {"keyId": f"arn:aws:kms:{region}:{acct}:key/{uuid.UUID(int=rnd.getrandbits(128))}", "encryptionAlgorithm": "SYMMETRIC_DEFAULT"}
    elif r < 0.84:
        who, src, name, ip = ident(acct, "instance", inst), "logs", rnd.choice(["CreateLogStream", "PutLogEvents"]), "10.0.4.4"
        req = {"logGroupName": f"/app/{rnd.choice(['api', 'worker', 'cron'])}", "logStreamName": inst}
    elif r < 0.90:
        who, src, name, ip = ident(acct, "instance", inst), "secretsmanager", "GetSecretValue", "10.0.4.5"
        req = {"secretId": f"prod/{rnd.choice(['db', 'api', 'smtp'])}"}
    elif r < 0.95:
        who, src, name, ip = ident(acct, "user", rnd.choice(["alice", "bob", "carol"])), "iam", rnd.choice(["ListUsers", "GetRole", "ListRoles", "ListAttachedRolePolicies"]), f"198.51.100.{rnd.randrange(1, 40)}"
        req = {"roleName": "app"} if rnd.random() < 0.5 else None
    elif r < 0.97:
        who, src, name, ip = ident(acct, "role", "deploy"), "lambda", "UpdateFunctionCode20150331v2", "54.240.197.9"
        req = {"functionName": f"api-{rnd.randrange(20)}", "publish": True, "s3Bucket": "artifacts", "s3Key": f"api/{rnd.randrange(10**5)}.zip"}
    elif r < 0.985:
        who, src, name, ip = ident(acct, "role", "deploy"), "ec2", "AuthorizeSecurityGroupIngress", "54.240.197.9"
        req = {"groupId": f"sg-{rnd.randrange(16**8):08x}", "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 443, "toPort": 443,
               "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}}
    else:
        who, src, name, ip = ident(acct, "user", rnd.choice(["alice", "bob", "carol"])), "signin", "ConsoleLogin", f"198.51.100.{rnd.randrange(1, 40)}"
        req = None
    e = {"eventVersion": "1.09", "userIdentity": who, "eventTime": t, "eventSource": f"{src}.amazonaws.com", "eventName": name, "awsRegion": region,
         "sourceIPAddress": ip, "userAgent": rnd.choice(UAS), "requestParameters": req,
         "responseElements": {"credentials": {"accessKeyId": "ASIAEXAMPLE", "expiration": "May 1, 2024, 11:00:00 AM", "sessionToken": "x" * 40}} if name == "AssumeRole" else None,
         "requestID": str(uuid.UUID(int=rnd.getrandbits(128))), "eventID": str(uuid.UUID(int=rnd.getrandbits(128))), "readOnly": name.startswith(("Get", "Describe", "List")),
         "resources": [{"accountId": acct, "type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{req['bucketName']}/{req['key']}"}] if src == "s3" else None,
         "eventType": "AwsApiCall" if src != "signin" else "AwsConsoleSignIn", "managementEvent": src != "s3", "recipientAccountId": acct,
         "eventCategory": "Data" if src == "s3" else "Management",
         "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": f"{src}.{region}.amazonaws.com"}}
    if src == "signin":
        e["responseElements"] = {"ConsoleLogin": "Success"}
        e["additionalEventData"] = {"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": "Yes"}
    return {k: v for k, v in e.items() if v is not None or k in ("requestParameters", "responseElements")}

target = int(a.gb * 1e9)
written = events = files = 0
sec = 1714550400
while written < target:
    acct = accounts[files % len(accounts)]
    region = regions[(files // len(accounts)) % len(regions)]
    recs = []
    for _ in range(a.per_file):
        sec += 1
        t = f"2024-05-{1 + (sec - 1714550400) // 86400 % 28:02d}T{(sec // 3600) % 24:02d}:{(sec // 60) % 60:02d}:{sec % 60:02d}Z"
        recs.append(event(acct, region, t))
    body = json.dumps({"Records": recs}, separators=(",", ":")).encode()
    d = os.path.join(a.out, "AWSLogs", acct, "CloudTrail", region, "2024", "05", "01")
    os.makedirs(d, exist_ok=True)
    with gzip.open(os.path.join(d, f"{acct}_CloudTrail_{region}_20240501T0000Z_{files:06d}.json.gz"), "wb", compresslevel=6) as f:
        f.write(body)
    written += len(body)
    events += len(recs)
    files += 1
print(json.dumps({"files": files, "events": events, "json_bytes": written}))
