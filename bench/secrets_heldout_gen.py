#!/usr/bin/env python3
"""Generate the held-out labelled corpus for the secrets scanner.

The corpus under crates/secrets/tests/data/corpus was written alongside
Rampart's rules, so its score says little about how the rules generalise.
This one was written without reading the rules, the scanner's sources or
that corpus: every token format comes from the providers' public
documentation, and the hard negatives are the things real repositories are
full of (lock-file hashes, digests, placeholders, public keys, test fixtures).

It writes crates/secrets/tests/data/heldout/ and heldout-labels.tsv
(path, first line, last line, provider). Deterministic: a fixed seed makes
every random token the same on every run, so the labels stay valid.

usage: bench/secrets_heldout_gen.py [--out DIR]
Score it with: bench/secrets_score.py --corpus heldout
"""
import argparse
import base64
import collections
import hashlib
import hmac
import json
import os
import random
import re
import shutil
import string
import struct
import sys
import zlib

SEED = 0x5EC12E75
R = random.Random(SEED)

UP = string.ascii_uppercase
LO = string.ascii_lowercase
DG = string.digits
ALNUM = UP + LO + DG
B62 = DG + UP + LO  # GitHub/npm checksum alphabet
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"
BASE32 = UP + "234567"
BCRYPT = "./" + UP + LO + DG
BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


# ---------------------------------------------------------------- primitives

def rs(n, alpha=ALNUM):
    return "".join(R.choice(alpha) for _ in range(n))


def rb(n):
    return R.randbytes(n)


def b64(b):
    return base64.b64encode(b).decode()


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def hexs(n):
    return rs(n, HEX)


def uuid4():
    h = hexs(32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{R.choice('89ab')}{h[17:20]}-{h[20:32]}"


def base62(n, width=6):
    s = ""
    while n:
        n, r = divmod(n, 62)
        s = B62[r] + s
    return s.rjust(width, "0")


def wrap(s, n=64):
    return "\n".join(s[i:i + n] for i in range(0, len(s), n))


def human_password():
    words = ["Kestrel", "Marmot", "Harbor", "Lantern", "Quartz", "Falcon", "Juniper", "Cobalt", "Meadow", "Tundra"]
    return f"{R.choice(words)}{R.randint(10, 99)}{R.choice('!#%&*')}{R.choice(words)}{R.choice('!#%&*')}{R.randint(100, 999)}"


def random_password(n=20):
    return rs(n, ALNUM + "!%^*-_+=")


def url_password(n=22):
    # Characters that need no percent-encoding inside a URL's userinfo.
    return rs(n, ALNUM + "-_.~")


# ---------------------------------------------------------------- true secret formats
# Every format below follows the provider's public documentation or announced token format.

def github(prefix="ghp_"):
    # 30 random base62 characters, then base62(crc32(random part)) padded to 6.
    body = rs(30)
    return prefix + body + base62(zlib.crc32(body.encode()))


def github_bad_checksum(prefix="ghp_"):
    body = rs(30)
    good = base62(zlib.crc32(body.encode()))
    bad = base62((zlib.crc32(body.encode()) + 7919) & 0xFFFFFFFF)
    assert bad != good
    return prefix + body + bad


def github_fine_grained():
    return "github_pat_11" + rs(20, UP + DG) + "_" + rs(59)


def npm_token():
    body = rs(30)
    return "npm_" + body + base62(zlib.crc32(body.encode()))


def aws_key_id(prefix="AKIA"):
    return prefix + rs(16, BASE32)


def aws_secret():
    return rs(40, B64)


def gitlab_pat():
    return "glpat-" + rs(20, B64URL)


def slack_bot():
    return f"xoxb-{R.randint(10**10, 10**12)}-{R.randint(10**11, 10**13)}-{rs(24)}"


def slack_user():
    return f"xoxp-{R.randint(10**10, 10**12)}-{R.randint(10**10, 10**12)}-{R.randint(10**11, 10**13)}-{hexs(32)}"


def slack_app():
    return f"xapp-1-A{rs(10, UP + DG)}-{R.randint(10**12, 10**13)}-{hexs(64)}"


def slack_webhook():
    return f"https://hooks.slack.com/services/T{rs(8, UP + DG)}/B{rs(10, UP + DG)}/{rs(24)}"


def stripe(prefix="sk_live_", n=99):
    return prefix + rs(n)


def twilio_key():
    return "SK" + hexs(32)


def sendgrid():
    return "SG." + rs(22, B64URL) + "." + rs(43, B64URL)


def mailgun():
    return "key-" + hexs(32)


def mailchimp():
    return hexs(32) + f"-us{R.randint(2, 21)}"


def openai_proj():
    return "sk-proj-" + rs(74, B64URL) + "T3BlbkFJ" + rs(74, B64URL)


def openai_legacy():
    return "sk-" + rs(20) + "T3BlbkFJ" + rs(20)


def anthropic():
    return "sk-ant-api03-" + rs(93, B64URL) + "AA"


def huggingface():
    return "hf_" + rs(34, UP + LO)


def google_api():
    return "AIza" + rs(35, B64URL)


def google_oauth_secret():
    return "GOCSPX-" + rs(28, B64URL)


def azure_storage_key():
    return b64(rb(64))


def azure_ad_secret():
    return rs(3, ALNUM) + R.choice(DG) + "Q~" + rs(34, ALNUM + "_~.-")


def azure_devops_pat():
    return rs(52, LO + "234567")


def digitalocean():
    return "dop_v1_" + hexs(64)


def pypi():
    # A macaroon: fixed location header (the index's host name), then identifier and signature.
    return "pypi-AgEIcHlwaS5vcmcCJD" + rs(40, B64URL) + "AAIqWzMsIm" + rs(120, B64URL)


def dockerhub():
    return "dckr_pat_" + rs(27, B64URL)


def shopify(prefix="shpat_"):
    return prefix + hexs(32)


def square_access():
    return "EAAA" + rs(60, B64URL)


def square_secret():
    return "sq0csp-" + rs(43, B64URL)


def braintree():
    return f"access_token$production${rs(16, LO + DG)}${hexs(32)}"


def new_relic():
    return "NRAK-" + rs(27, UP + DG)


def sentry_org():
    claims = {"iat": 1730000000 + R.randint(0, 10**7), "url": "https://sentry.io",
              "region_url": "https://us.sentry.io", "org": "acme-corp"}
    return "sntrys_" + b64(json.dumps(claims, separators=(",", ":")).encode()).rstrip("=") + "_" + rs(43, B64URL)


def sentry_user():
    return "sntryu_" + hexs(64)


def atlassian():
    return "ATATT3xFfGF0" + rs(171, B64URL) + "=" + rs(8, UP[:6] + DG)


def linear():
    return "lin_api_" + rs(40)


def notion_secret():
    return "secret_" + rs(43)


def notion_ntn():
    return "ntn_" + rs(11, DG) + rs(35)


def discord_bot():
    uid = str(R.randint(10**17, 10**19 - 1))
    return b64(uid.encode()).rstrip("=") + "." + rs(6, B64URL) + "." + rs(38, B64URL)


def discord_webhook():
    return f"https://discord.com/api/webhooks/{R.randint(10**17, 10**19 - 1)}/{rs(68, B64URL)}"


def telegram():
    return f"{R.randint(10**8, 10**10 - 1)}:AA{rs(33, B64URL)}"


def doppler():
    return "dp.pt." + rs(43)


def vault_new():
    return "hvs.CAESI" + rs(86, B64URL)


def vault_legacy():
    return "hvs." + rs(24)


def tfc():
    return rs(14, LO + DG) + ".atlasv1." + rs(67, LO + DG + "-_=")


def heroku():
    return "HRKU-AA" + rs(58, B64URL)


def cloudflare_token():
    return rs(40, B64URL)


def groq():
    return "gsk_" + rs(52)


def perplexity():
    return "pplx-" + rs(48)


def replicate():
    return "r8_" + rs(37)


def xai():
    return "xai-" + rs(80)


def grafana():
    return "glsa_" + rs(32) + "_" + hexs(8)


def supabase():
    return "sbp_" + hexs(40)


def databricks():
    return "dapi" + hexs(32)


def pulumi():
    return "pul-" + hexs(40)


def rubygems():
    return "rubygems_" + hexs(48)


def age_key():
    return "AGE-SECRET-KEY-1" + rs(58, BECH32).upper()


def alibaba_id():
    return "LTAI5t" + rs(18)


def sonarqube():
    return "squ_" + hexs(40)


def brevo():
    return "xkeysib-" + hexs(64) + "-" + rs(16)


def mapbox():
    payload = b64u(json.dumps({"u": "acme-maps", "a": rs(25, LO + DG)}, separators=(",", ":")).encode())
    return "sk." + payload + "." + rs(22, B64URL)


def contentful():
    return "CFPAT-" + rs(43, B64URL)


def planetscale():
    return "pscale_tok_" + rs(43, ALNUM + "_")


def artifactory():
    return "AKCp8" + rs(68)


def buildkite():
    return "bkua_" + hexs(40)


def tailscale():
    return "tskey-auth-k" + rs(10) + "CNTRL-" + rs(33)


def langsmith():
    return "lsv2_pt_" + hexs(32) + "_" + hexs(10)


def shippo():
    return "shippo_live_" + hexs(40)


def dynatrace():
    return "dt0c01." + rs(24, UP + DG) + "." + rs(64, UP + DG)


def airtable():
    return "pat" + rs(14) + "." + hexs(64)


def okta():
    return "00" + rs(40, B64URL)


def teams_webhook():
    return (f"https://acmecorp.webhook.office.com/webhookb2/{uuid4()}@{uuid4()}"
            f"/IncomingWebhook/{hexs(32)}/{uuid4()}/V2{rs(43, B64URL)}")


def jwt_hs256(claims, key):
    header = b64u(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = b64u(json.dumps(claims, separators=(",", ":")).encode())
    sig = b64u(hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    return f"{header}.{payload}.{sig}"


def jwt_rs256(claims):
    header = b64u(json.dumps({"alg": "RS256", "kid": rs(43, B64URL)}, separators=(",", ":")).encode())
    payload = b64u(json.dumps(claims, separators=(",", ":")).encode())
    return f"{header}.{payload}.{b64u(rb(256))}"


def basic_auth(user, password):
    return b64(f"{user}:{password}".encode())


# ---------------------------------------------------------------- keys (structure-correct prefixes)

def pem(kind, der):
    return f"-----BEGIN {kind}-----\n{wrap(b64(der))}\n-----END {kind}-----"


def rsa_pkcs1_der():
    return bytes.fromhex("308204a40201000282010100") + rb(1180)


def rsa_private_key():
    return pem("RSA PRIVATE KEY", rsa_pkcs1_der())


def pkcs8_private_key():
    der = bytes.fromhex("308204bd020100300d06092a864886f70d0101010500048204a7308204a30201000282010100") + rb(1170)
    return pem("PRIVATE KEY", der)


def ec_private_key():
    der = (bytes.fromhex("30770201010420") + rb(32) + bytes.fromhex("a00a06082a8648ce3d030107a144034200") + b"\x04" + rb(64))
    return pem("EC PRIVATE KEY", der)


def encrypted_pkcs8():
    der = bytes.fromhex("308205163040") + bytes.fromhex("06092a864886f70d01050d3033301b06092a864886f70d01050c300e0408") + rb(8) + bytes.fromhex("020208003014") + bytes.fromhex("06082a864886f70d030704") + rb(10) + bytes.fromhex("048204d0") + rb(1232)
    return pem("ENCRYPTED PRIVATE KEY", der)


def ssh_string(b):
    return struct.pack(">I", len(b)) + b


def ed25519_pub_blob(pub):
    return ssh_string(b"ssh-ed25519") + ssh_string(pub)


def openssh_private_key(comment=b"deploy@build-01"):
    pub = rb(32)
    check = rb(4)
    priv = check + check + ssh_string(b"ssh-ed25519") + ssh_string(pub) + ssh_string(rb(32) + pub) + ssh_string(comment)
    priv += bytes(range(1, 1 + (8 - len(priv) % 8) % 8))
    blob = (b"openssh-key-v1\x00" + ssh_string(b"none") + ssh_string(b"none") + ssh_string(b"")
            + struct.pack(">I", 1) + ssh_string(ed25519_pub_blob(pub)) + ssh_string(priv))
    return f"-----BEGIN OPENSSH PRIVATE KEY-----\n{wrap(b64(blob), 70)}\n-----END OPENSSH PRIVATE KEY-----", pub


def ssh_public_ed25519(pub=None, comment="ops@laptop"):
    return f"ssh-ed25519 {b64(ed25519_pub_blob(pub or rb(32)))} {comment}"


def ssh_public_rsa(comment="ci@runner"):
    blob = ssh_string(b"ssh-rsa") + ssh_string(b"\x01\x00\x01") + ssh_string(b"\x00" + rb(256))
    return f"ssh-rsa {b64(blob)} {comment}"


def crc24(data):
    crc = 0xB704CE
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def pgp_block(kind, tag):
    body = bytes([tag, 0x03, 0xC6]) + b"\x04" + struct.pack(">I", 1700000000) + b"\x16\x09\x2b\x06\x01\x04\x01\xda\x47\x0f\x01" + rb(900)
    arm = wrap(b64(body), 64)
    check = b64(struct.pack(">I", crc24(body))[1:])
    return f"-----BEGIN PGP {kind} BLOCK-----\n\n{arm}\n={check}\n-----END PGP {kind} BLOCK-----"


def putty_ppk():
    pub = b64(ed25519_pub_blob(rb(32)))
    priv = b64(ssh_string(rb(32)))
    return ("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: deploy@jump-host\n"
            f"Public-Lines: 2\n{pub[:64]}\n{pub[64:]}\nPrivate-Lines: 1\n{priv}\nPrivate-MAC: {hexs(64)}")


def certificate():
    der = bytes.fromhex("3082036d30820255a003020102021449") + rb(860)
    return pem("CERTIFICATE", der)


def public_key_pem():
    der = bytes.fromhex("30820122300d06092a864886f70d01010105000382010f003082010a0282010100") + rb(256) + bytes.fromhex("0203010001")
    return pem("PUBLIC KEY", der)


# ---------------------------------------------------------------- negatives

def sha1():
    return hexs(40)


def sha256():
    return hexs(64)


def sri(alg="sha512", n=64):
    return f"{alg}-{b64(rb(n))}"


def gosum_hash():
    return "h1:" + b64(rb(32))


def bcrypt_hash():
    return "$2b$12$" + rs(53, BCRYPT)


def argon2_hash():
    return f"$argon2id$v=19$m=65536,t=3,p=4${b64(rb(16)).rstrip('=')}${b64(rb(32)).rstrip('=')}"


def png_b64(w=12, h=12):
    raw = b"".join(b"\x00" + rb(w * 3) for _ in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    return b64(png)


def minified_ident():
    return "_" + rs(R.randint(28, 44), ALNUM + "$")


def colour():
    return "#" + rs(6, "0123456789ABCDEF")


# ---------------------------------------------------------------- corpus assembly

class Secret:
    """A value to plant and label. `find` locates it when the file escapes it (JSON)."""

    def __init__(self, value, provider, find=None):
        self.value = value
        self.provider = provider
        self.find = find


FILES = []  # (path, text, labels)
PLACEHOLDER = re.compile(r"@@(\w+)@@")


def emit(path, template, **vals):
    used = set()

    def sub(m):
        name = m.group(1)
        if name not in vals:
            raise KeyError(f"{path}: no value for @@{name}@@")
        used.add(name)
        v = vals[name]
        return v.value if isinstance(v, Secret) else str(v)

    text = PLACEHOLDER.sub(sub, template.lstrip("\n"))
    unused = set(vals) - used
    if unused:
        raise KeyError(f"{path}: values not used: {sorted(unused)}")
    labels = []
    for name in sorted(used):
        v = vals[name]
        if not isinstance(v, Secret):
            continue
        needle = v.find or v.value
        start = 0
        hits = 0
        while True:
            i = text.find(needle, start)
            if i < 0:
                break
            first = text.count("\n", 0, i) + 1
            last = first + needle.count("\n")
            labels.append((first, last, v.provider))
            hits += 1
            start = i + len(needle)
        if not hits:
            raise ValueError(f"{path}: secret @@{name}@@ not found in the rendered text")
    FILES.append((path, text, labels))
    return text


def emit_json(path, doc, marks, indent=2):
    """Write a JSON document; marks are Secret objects whose `find` is searched in the dump."""
    text = json.dumps(doc, indent=indent) + "\n"
    labels = []
    for m in marks:
        needle = m.find or m.value
        hits = [n + 1 for n, line in enumerate(text.split("\n")) if needle in line]
        if not hits:
            raise ValueError(f"{path}: mark {needle[:30]!r} not found")
        for h in hits:
            labels.append((h, h, m.provider))
    FILES.append((path, text, labels))


# ================================================================ Python

def python_files():
    emit("python/acme_portal/settings.py", r'''
"""Django settings for acme_portal (production overrides live in settings_prod.py)."""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# The default key below is only for local runs; production reads DJANGO_SECRET_KEY.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "django-insecure-change-me")

DEBUG = False
ALLOWED_HOSTS = ["portal.acme.example", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "storages",
    "billing",
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "portal",
        "USER": "portal_app",
        "PASSWORD": "@@dbpw@@",
        "HOST": "db-primary.internal",
        "PORT": "5432",
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 3600
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]

# S3 media storage
AWS_STORAGE_BUCKET_NAME = "acme-portal-media"
AWS_S3_REGION_NAME = "eu-west-1"
AWS_ACCESS_KEY_ID = "@@akid@@"
AWS_SECRET_ACCESS_KEY = "@@aksecret@@"
AWS_S3_SIGNATURE_VERSION = "s3v4"

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "smtp.sendgrid.net"
EMAIL_HOST_USER = "apikey"
EMAIL_HOST_PASSWORD = os.environ["SENDGRID_API_KEY"]
EMAIL_PORT = 587

SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = ["https://portal.acme.example"]
''', dbpw=Secret(random_password(22), "Password"), akid=Secret(aws_key_id(), "AWS"),
         aksecret=Secret(aws_secret(), "AWS secret"))

    emit("python/acme_portal/llm/client.py", r'''
import logging
import os
from dataclasses import dataclass

import anthropic
import httpx
from openai import OpenAI

log = logging.getLogger(__name__)

# TODO(jmiller): move these into Vault before the launch
OPENAI_KEY = "@@openai@@"
ANTHROPIC_KEY = "@@anthropic@@"


@dataclass
class Completion:
    text: str
    model: str
    tokens: int


class LLMRouter:
    def __init__(self, prefer: str = "anthropic"):
        self.prefer = prefer
        self.openai = OpenAI(api_key=os.environ.get("OPENAI_API_KEY", OPENAI_KEY))
        self.claude = anthropic.Anthropic(api_key=ANTHROPIC_KEY)
        self.groq = httpx.Client(
            base_url="https://api.groq.com/openai/v1",
            headers={"Authorization": "Bearer @@groq@@"},
            timeout=30,
        )

    def complete(self, prompt: str, max_tokens: int = 512) -> Completion:
        if self.prefer == "anthropic":
            msg = self.claude.messages.create(
                model="claude-sonnet-4-5", max_tokens=max_tokens,
                messages=[{"role": "user", "content": prompt}],
            )
            return Completion(msg.content[0].text, msg.model, msg.usage.output_tokens)
        resp = self.openai.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": prompt}], max_tokens=max_tokens
        )
        log.info("openai request id %s", resp.id)
        return Completion(resp.choices[0].message.content, resp.model, resp.usage.completion_tokens)
''', openai=Secret(openai_proj(), "OpenAI"), anthropic=Secret(anthropic(), "Anthropic"),
         groq=Secret(groq(), "Groq"))

    emit("python/acme_portal/integrations/ai_vendors.py", r'''
"""Clients for the smaller model vendors we benchmark against."""
import requests

PERPLEXITY_API_KEY = '@@pplx@@'
REPLICATE_API_TOKEN = '@@r8@@'
XAI_API_KEY = '@@xai@@'
LEGACY_OPENAI_KEY = '@@oai_legacy@@'  # old org, still used by the nightly eval

EVAL_RUN_ID = "@@runid@@"
MODEL_REVISION = "@@rev@@"


def ask_perplexity(q):
    r = requests.post(
        "https://api.perplexity.ai/chat/completions",
        headers={"Authorization": f"Bearer {PERPLEXITY_API_KEY}"},
        json={"model": "sonar", "messages": [{"role": "user", "content": q}]},
        timeout=60,
    )
    r.raise_for_status()
    return r.json()["choices"][0]["message"]["content"]


def run_replicate(version, inputs):
    r = requests.post(
        "https://api.replicate.com/v1/predictions",
        headers={"Authorization": f"Token {REPLICATE_API_TOKEN}"},
        json={"version": version, "input": inputs},
        timeout=60,
    )
    return r.json()["urls"]["get"]
''', pplx=Secret(perplexity(), "Perplexity"), r8=Secret(replicate(), "Replicate"), xai=Secret(xai(), "xAI"),
         oai_legacy=Secret(openai_legacy(), "OpenAI"), runid=uuid4(), rev=sha1())

    emit("python/scripts/nightly_backup.py", r'''
#!/usr/bin/env python3
"""Dump the reporting database and push it to the backup bucket."""
import datetime
import subprocess

import boto3
import psycopg2

BUCKET = "acme-db-backups"
conn = psycopg2.connect(
    host="reporting-db.internal",
    dbname="reporting",
    user="backup_ro",
    password="@@pgpw@@",
)

session = boto3.session.Session(
    aws_access_key_id="@@akid@@",
    aws_secret_access_key="@@aksecret@@",
    region_name="us-east-1",
)


def main():
    stamp = datetime.datetime.utcnow().strftime("%Y%m%dT%H%M%S")
    out = f"/var/backups/reporting-{stamp}.sql.gz"
    subprocess.run(f"pg_dump -h reporting-db.internal -U backup_ro reporting | gzip > {out}", shell=True, check=True)
    session.client("s3").upload_file(out, BUCKET, f"reporting/{stamp}.sql.gz")
    with conn.cursor() as cur:
        cur.execute("INSERT INTO backup_log (taken_at, object) VALUES (now(), %s)", (out,))
    conn.commit()


if __name__ == "__main__":
    main()
''', pgpw=Secret(human_password(), "Password"), akid=Secret(aws_key_id(), "AWS"),
         aksecret=Secret(aws_secret(), "AWS secret"))

    # Hard negatives only: test fixtures, documented examples, placeholders.
    emit("python/tests/test_auth.py", r'''
import os

import pytest

from acme_portal.auth import hash_password, verify_password, sign_token

# AWS's documented example credentials: safe to commit, used by moto in tests.
AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

BCRYPT_FIXTURE = "@@bcrypt@@"
ARGON2_FIXTURE = "@@argon2@@"
FAKE_GITHUB_TOKEN = "ghp_" + "x" * 36
PLACEHOLDER_TOKEN = "ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
STRIPE_KEY = "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx"


@pytest.fixture
def aws_env(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AWS_ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET_ACCESS_KEY)
    monkeypatch.setenv("DATABASE_PASSWORD", "")


def test_verify_bcrypt():
    assert verify_password("correct horse", BCRYPT_FIXTURE) in (True, False)


def test_hash_roundtrip():
    h = hash_password("hunter2-but-longer")
    assert h.startswith("$argon2id$")
    assert verify_password("hunter2-but-longer", h)


def test_token_uses_env():
    secret = os.environ.get("JWT_SECRET", "test-secret")
    assert sign_token({"sub": "42"}, secret).count(".") == 2


def test_password_policy():
    with pytest.raises(ValueError, match="password must be at least 12 characters"):
        hash_password("short")


@pytest.mark.parametrize("password", ["", None])
def test_empty_password_rejected(password):
    with pytest.raises(ValueError):
        hash_password(password)
''', bcrypt=bcrypt_hash(), argon2=argon2_hash())

    emit("python/acme_portal/config_loader.py", r'''
"""Read service credentials from the environment; nothing secret lives here."""
import configparser
import os

DEFAULTS = {
    "db_password": os.environ.get("DB_PASSWORD", ""),
    "api_key": os.getenv("ACME_API_KEY", "your-api-key"),
    "token": "<YOUR_TOKEN>",
    "smtp_password": "changeme",
}

DSN_TEMPLATE = "postgresql://%(user)s:%(password)s@%(host)s:5432/%(db)s"
REDIS_URL = "redis://:{password}@{host}:6379/0"


def load(path="/etc/acme/portal.ini"):
    cp = configparser.ConfigParser()
    cp.read(path)
    password = cp.get("database", "password", fallback=DEFAULTS["db_password"])
    return DSN_TEMPLATE % {"user": "portal", "password": password, "host": "localhost", "db": "portal"}


def mask(secret: str) -> str:
    return secret[:4] + "*" * (len(secret) - 4) if secret else ""
''')

    emit("python/acme_portal/locale/en/messages.json", r'''
{
  "auth.password.label": "Password",
  "auth.password.placeholder": "Enter your password",
  "auth.password.forgot": "Forgot your password?",
  "auth.password.too_short": "Your password must be at least {min} characters long.",
  "auth.password.mismatch": "The passwords you entered do not match.",
  "auth.token.expired": "Your session token has expired, please sign in again.",
  "auth.api_key.help": "Create an API key under Settings > Developer > API keys.",
  "auth.secret.question": "Secret question",
  "billing.card.cvc": "Security code"
}
''')

    emit("python/requirements.txt", r'''
# pip-compile --generate-hashes requirements.in
boto3==1.35.36 \
    --hash=sha256:@@h1@@ \
    --hash=sha256:@@h2@@
django==5.1.2 \
    --hash=sha256:@@h3@@
psycopg2-binary==2.9.10 \
    --hash=sha256:@@h4@@ \
    --hash=sha256:@@h5@@
requests==2.32.3 \
    --hash=sha256:@@h6@@
''', h1=sha256(), h2=sha256(), h3=sha256(), h4=sha256(), h5=sha256(), h6=sha256())

    # Jupyter notebook: code cells hold secrets as escaped JSON strings, outputs hold PNG data.
    hf = Secret(huggingface(), "Hugging Face")
    wandb_key = Secret(hexs(40), "Weights & Biases")
    jwt_tok = jwt_hs256({"sub": "svc-notebook", "role": "admin", "scope": "datasets:write", "iat": 1733011200,
                         "exp": 1893456000}, rb(32))
    jw = Secret(jwt_tok, "JWT")
    nb = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Churn model exploration\n", "\n",
                                                                  "Pull the features, fit a baseline, plot the ROC curve."]},
            {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [],
             "source": ["import os\n", "import pandas as pd\n", "from huggingface_hub import login\n", "\n",
                        f"HF_TOKEN = \"{hf.value}\"\n", "login(token=HF_TOKEN)\n",
                        f"os.environ[\"WANDB_API_KEY\"] = \"{wandb_key.value}\"\n"]},
            {"cell_type": "code", "execution_count": 2, "metadata": {}, "outputs": [
                {"name": "stdout", "output_type": "stream", "text": ["rows: 184223\n", "churned: 0.137\n"]}],
             "source": ["import requests\n",
                        f"headers = {{\"Authorization\": \"Bearer {jw.value}\"}}\n",
                        "df = pd.DataFrame(requests.get(\"https://features.acme.example/v1/churn\", headers=headers).json())\n",
                        "print('rows:', len(df))\n", "print('churned:', round(df.churned.mean(), 3))\n"]},
            {"cell_type": "code", "execution_count": 3, "metadata": {}, "outputs": [
                {"data": {"image/png": png_b64(24, 24), "text/plain": ["<Figure size 640x480 with 1 Axes>"]},
                 "metadata": {}, "output_type": "display_data"}],
             "source": ["import matplotlib.pyplot as plt\n", "plt.plot(fpr, tpr)\n", "plt.show()\n"]},
            {"cell_type": "code", "execution_count": 4, "metadata": {}, "outputs": [],
             "source": ["# read the password from the environment, never inline it\n",
                        "db_password = os.environ[\"WAREHOUSE_PASSWORD\"]\n"]},
        ],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                     "language_info": {"name": "python", "version": "3.11.7"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    emit_json("python/notebooks/churn_exploration.ipynb", nb,
              [Secret(hf.value, hf.provider), wandb_key, Secret(jw.value, "JWT")], indent=1)


# ================================================================ JavaScript / TypeScript

def js_files():
    emit("node/api/src/server.js", r'''
'use strict';

const express = require('express');
const sgMail = require('@sendgrid/mail');
const Stripe = require('stripe');
const { IncomingWebhook } = require('@slack/webhook');

const app = express();
app.use(express.json({ limit: '1mb' }));

sgMail.setApiKey('@@sendgrid@@');
const stripe = new Stripe(process.env.STRIPE_SECRET_KEY || '@@stripe@@', { apiVersion: '2024-06-20' });
const alerts = new IncomingWebhook('@@slackhook@@');

const STRIPE_PUBLISHABLE_KEY = 'pk_live_@@pk@@';
const REQUEST_ID_HEADER = 'x-request-id';

app.post('/checkout', async (req, res) => {
  const session = await stripe.checkout.sessions.create({
    mode: 'payment',
    line_items: req.body.items,
    success_url: 'https://shop.acme.example/thanks',
    cancel_url: 'https://shop.acme.example/cart',
  });
  res.json({ id: session.id, publishableKey: STRIPE_PUBLISHABLE_KEY });
});

app.post('/webhooks/stripe', express.raw({ type: 'application/json' }), (req, res) => {
  const sig = req.headers['stripe-signature'];
  const event = stripe.webhooks.constructEvent(req.body, sig, '@@whsec@@');
  if (event.type === 'charge.failed') {
    alerts.send({ text: `charge failed: ${event.data.object.id}` });
  }
  res.sendStatus(200);
});

app.post('/contact', async (req, res) => {
  await sgMail.send({ to: 'support@acme.example', from: 'noreply@acme.example', subject: req.body.subject, text: req.body.text });
  res.status(202).end();
});

app.listen(process.env.PORT || 3000, () => console.log('api listening'));
''', sendgrid=Secret(sendgrid(), "SendGrid"), stripe=Secret(stripe(), "Stripe"),
         slackhook=Secret(slack_webhook(), "Slack webhook"), pk=rs(99), whsec=Secret("whsec_" + rs(32), "Stripe"))

    emit("node/api/src/config.mjs", r'''
// Runtime configuration. Everything secret comes from the environment.
export default {
  port: Number(process.env.PORT ?? 3000),
  databaseUrl: process.env.DATABASE_URL,
  redisUrl: process.env.REDIS_URL ?? 'redis://localhost:6379',
  jwtSecret: process.env.JWT_SECRET,
  sentryDsn: process.env.SENTRY_DSN ?? '',
  mailchimp: {
    apiKey: process.env.MAILCHIMP_API_KEY ?? 'your-mailchimp-api-key',
    server: 'us21',
    listId: '@@listid@@',
  },
  brevoApiKey: '@@brevo@@',
  featureFlags: {
    newCheckout: true,
    buildId: '@@build@@',
  },
  theme: ['@@c1@@', '@@c2@@', '@@c3@@', '@@c4@@', '@@c5@@', '@@c6@@'],
};
''', listid=hexs(10), brevo=Secret(brevo(), "Brevo"), build=sha1(),
         c1=colour(), c2=colour(), c3=colour(), c4=colour(), c5=colour(), c6=colour())

    emit("node/api/scripts/sync-audience.js", r'''
#!/usr/bin/env node
// One-off: copy newsletter subscribers from the CRM export into Mailchimp.
const fs = require('fs');
const mailchimp = require('@mailchimp/mailchimp_marketing');

mailchimp.setConfig({
  apiKey: '@@mc@@',
  server: 'us19',
});

const rows = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n').slice(1);
(async () => {
  for (const row of rows) {
    const [email, first, last] = row.split(',');
    await mailchimp.lists.setListMember('@@list@@', email.toLowerCase(), {
      email_address: email, status_if_new: 'subscribed', merge_fields: { FNAME: first, LNAME: last },
    });
  }
  console.log(`synced ${rows.length} contacts`);
})();
''', mc=Secret(mailchimp(), "Mailchimp"), list=hexs(10))

    # package-lock.json: integrity hashes are the classic false positive.
    pkgs = {}
    for name, ver in [("express", "4.21.1"), ("stripe", "16.12.0"), ("@sendgrid/mail", "8.1.4"),
                      ("@slack/webhook", "7.0.3"), ("body-parser", "1.20.3"), ("debug", "2.6.9"),
                      ("qs", "6.13.0"), ("jsonwebtoken", "9.0.2"), ("axios", "1.7.7"), ("ms", "2.0.0")]:
        pkgs[f"node_modules/{name}"] = {"version": ver, "resolved": f"https://npm.pkg.acme.internal/{name}/-/{name.split('/')[-1]}-{ver}.tgz",
                                        "integrity": sri(), "license": "MIT"}
    emit_json("node/api/package-lock.json", {"name": "acme-api", "version": "2.3.0", "lockfileVersion": 3,
                                             "requires": True, "packages": {"": {"name": "acme-api", "version": "2.3.0"}, **pkgs}}, [])

    emit("node/api/yarn.lock", r'''
# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.
# yarn lockfile v1


accepts@~1.3.8:
  version "1.3.8"
  resolved "https://registry.yarnpkg.com/accepts/-/accepts-1.3.8.tgz#@@s1@@"
  integrity @@i1@@

array-flatten@1.1.1:
  version "1.1.1"
  resolved "https://registry.yarnpkg.com/array-flatten/-/array-flatten-1.1.1.tgz#@@s2@@"
  integrity @@i2@@

content-type@~1.0.5:
  version "1.0.5"
  resolved "https://registry.yarnpkg.com/content-type/-/content-type-1.0.5.tgz#@@s3@@"
  integrity @@i3@@
''', s1=sha1(), s2=sha1(), s3=sha1(), i1=sri(), i2=sri(), i3=sri())

    ident = [minified_ident() for _ in range(8)]
    gkey = Secret(google_api(), "Google")
    emit("node/web/dist/app.3f9c2a.min.js", r'''
/*! acme-web v4.2.0 | (c) Acme Corp | build @@build@@ */
!function(e,t){"object"==typeof exports&&"undefined"!=typeof module?module.exports=t():"function"==typeof define&&define.amd?define(t):(e=e||self).AcmeWeb=t()}(this,function(){"use strict";var @@i0@@=function(e){return e&&e.__esModule?e:{default:e}},@@i1@@={apiKey:"@@gkey@@",authDomain:"acme-web-prod.firebaseapp.com",projectId:"acme-web-prod",storageBucket:"acme-web-prod.appspot.com",messagingSenderId:"@@sender@@",appId:"1:@@sender@@:web:@@appid@@"};function @@i2@@(e,t){for(var n=0;n<t.length;n++){var r=t[n];r.enumerable=r.enumerable||!1,r.configurable=!0,"value"in r&&(r.writable=!0),Object.defineProperty(e,r.key,r)}}var @@i3@@="@@sha@@",@@i4@@=["@@c1@@","@@c2@@","@@c3@@"],@@i5@@=function(e){return"sha384-"+e};return{init:function(){return @@i2@@(this,[@@i1@@]),@@i0@@(@@i1@@)},colors:@@i4@@,rev:@@i3@@,sri:@@i5@@}});
//# sourceMappingURL=app.3f9c2a.min.js.map
''', build=sha1()[:12], gkey=gkey, sender=str(R.randint(10**11, 10**12)), appid=hexs(22), sha=sha1(),
         c1=colour(), c2=colour(), c3=colour(), **{f"i{n}": ident[n] for n in range(6)})

    emit("node/bot/src/discord.ts", r'''
import { Client, GatewayIntentBits, Events } from 'discord.js';
import { Telegraf } from 'telegraf';

// Bridge: mirror #announcements from Discord into the Telegram channel.
const DISCORD_TOKEN = '@@discord@@';
const TELEGRAM_TOKEN = '@@telegram@@';
const ANNOUNCE_CHANNEL_ID = '@@chan@@';
const TELEGRAM_CHAT_ID = -1001@@chat@@;

const client = new Client({ intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent] });
const telegram = new Telegraf(TELEGRAM_TOKEN);

client.once(Events.ClientReady, (c) => {
  console.log(`logged in as ${c.user.tag}`);
});

client.on(Events.MessageCreate, async (message) => {
  if (message.channelId !== ANNOUNCE_CHANNEL_ID || message.author.bot) return;
  await telegram.telegram.sendMessage(TELEGRAM_CHAT_ID, `${message.author.username}: ${message.content}`);
});

client.login(DISCORD_TOKEN);
''', discord=Secret(discord_bot(), "Discord"), telegram=Secret(telegram(), "Telegram"),
         chan=str(R.randint(10**17, 10**18)), chat=str(R.randint(10**8, 10**9)))

    emit("node/bot/src/notify.ts", r'''
import axios from 'axios';

export interface Alert {
  title: string;
  severity: 'info' | 'warning' | 'critical';
  url?: string;
}

const DISCORD_WEBHOOK = '@@dhook@@';
const TEAMS_WEBHOOK =
  '@@teams@@';
const LINEAR_API_KEY = process.env.LINEAR_API_KEY ?? '';

export async function notify(alert: Alert): Promise<void> {
  const text = `[${alert.severity.toUpperCase()}] ${alert.title}${alert.url ? ` ${alert.url}` : ''}`;
  await Promise.all([
    axios.post(DISCORD_WEBHOOK, { content: text }),
    axios.post(TEAMS_WEBHOOK, { text }),
  ]);
  if (alert.severity === 'critical' && LINEAR_API_KEY) {
    await axios.post('https://api.linear.app/graphql', { query: 'mutation { issueCreate(input: {title: "x"}) { success } }' },
      { headers: { Authorization: LINEAR_API_KEY } });
  }
}
''', dhook=Secret(discord_webhook(), "Discord"), teams=Secret(teams_webhook(), "Teams webhook"))

    emit("node/web/src/lib/supabase.ts", r'''
import { createClient } from '@supabase/supabase-js';

// The anon key is public by design; the service key must never reach the browser.
export const supabase = createClient(
  import.meta.env.VITE_SUPABASE_URL,
  import.meta.env.VITE_SUPABASE_ANON_KEY,
);

export const SUPABASE_MANAGEMENT_TOKEN = '@@sbp@@'; // used by scripts/migrate.ts only

export const ASSET_DIGEST = 'sha256:@@digest@@';
export const SESSION_ID_EXAMPLE = '@@uuid@@';
''', sbp=Secret(supabase(), "Supabase"), digest=sha256(), uuid=uuid4())


# ================================================================ Go, JVM, Ruby, PHP, .NET, Rust, Swift

def compiled_files():
    emit("go/cmd/deployer/main.go", r'''
package main

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"

	"github.com/digitalocean/godo"
	"github.com/google/go-github/v66/github"
	_ "github.com/lib/pq"
)

const (
	githubToken = "@@ghp@@"
	doToken     = "@@dop@@"
	// Image digest pinned by the release job.
	baseImage = "ghcr.io/acme/deployer@sha256:@@digest@@"
)

var dsn = "host=db.internal port=5432 user=deployer password=@@pgpw@@ dbname=deploys sslmode=require"

func main() {
	ctx := context.Background()
	gh := github.NewClient(nil).WithAuthToken(githubToken)
	do := godo.NewFromToken(doToken)

	db, err := sql.Open("postgres", dsn)
	if err != nil {
		log.Fatalf("open db: %v", err)
	}
	defer db.Close()

	release, _, err := gh.Repositories.GetLatestRelease(ctx, "acme", "storefront")
	if err != nil {
		log.Fatal(err)
	}
	droplets, _, err := do.Droplets.ListByTag(ctx, "storefront", nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range droplets {
		fmt.Printf("deploying %s to %s\n", release.GetTagName(), d.Name)
	}
	if os.Getenv("DRY_RUN") != "" {
		return
	}
	_, err = db.ExecContext(ctx, "INSERT INTO deploys(tag, image) VALUES ($1, $2)", release.GetTagName(), baseImage)
	if err != nil {
		log.Fatal(err)
	}
}
''', ghp=Secret(github("ghp_"), "GitHub"), dop=Secret(digitalocean(), "DigitalOcean"), digest=sha256(),
         pgpw=Secret(random_password(18), "Password"))

    emit("go/internal/secrets/vault.go", r'''
package secrets

import (
	"fmt"
	"os"

	vault "github.com/hashicorp/vault/api"
)

// fallbackToken is the break-glass token for the staging cluster.
const fallbackToken = "@@hvs@@"

// Client reads application secrets from Vault's KV v2 engine.
type Client struct {
	v     *vault.Client
	mount string
}

func New(addr string) (*Client, error) {
	cfg := vault.DefaultConfig()
	cfg.Address = addr
	c, err := vault.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("vault client: %w", err)
	}
	token := os.Getenv("VAULT_TOKEN")
	if token == "" {
		token = fallbackToken
	}
	c.SetToken(token)
	return &Client{v: c, mount: "secret"}, nil
}

func (c *Client) Get(path, key string) (string, error) {
	s, err := c.v.KVv2(c.mount).Get(nil, path)
	if err != nil {
		return "", err
	}
	v, ok := s.Data[key].(string)
	if !ok {
		return "", fmt.Errorf("%s: key %q missing", path, key)
	}
	return v, nil
}
''', hvs=Secret(vault_new(), "Vault"))

    emit("go/internal/secrets/vault_test.go", r'''
package secrets

import "testing"

func TestGetMissing(t *testing.T) {
	// Dev-mode root token of a throwaway container started by the test.
	t.Setenv("VAULT_TOKEN", "root")
	t.Setenv("VAULT_ADDR", "http://127.0.0.1:8200")
	c, err := New("http://127.0.0.1:8200")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get("does/not/exist", "password"); err == nil {
		t.Fatal("expected an error")
	}
	// A token with a broken checksum must not be accepted by the CLI's lint step.
	bad := "@@badghp@@"
	_ = bad
	id := "@@uuid@@"
	_ = id
}
''', badghp=github_bad_checksum(), uuid=uuid4())

    gosum = "\n".join(
        f"{mod} {ver} {gosum_hash()}\n{mod} {ver}/go.mod {gosum_hash()}"
        for mod, ver in [("github.com/digitalocean/godo", "v1.128.0"), ("github.com/google/go-github/v66", "v66.0.0"),
                         ("github.com/hashicorp/vault/api", "v1.15.0"), ("github.com/lib/pq", "v1.10.9"),
                         ("golang.org/x/oauth2", "v0.23.0"), ("golang.org/x/crypto", "v0.28.0"),
                         ("github.com/cenkalti/backoff/v4", "v4.3.0"), ("github.com/go-jose/go-jose/v4", "v4.0.4")])
    emit("go/go.sum", gosum + "\n")

    emit("java/notify/src/main/java/com/acme/notify/SmsSender.java", r'''
package com.acme.notify;

import com.twilio.Twilio;
import com.twilio.rest.api.v2010.account.Message;
import com.twilio.type.PhoneNumber;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

public final class SmsSender {
    private static final Logger LOG = LoggerFactory.getLogger(SmsSender.class);

    // Account SID identifies the account; it is not a credential on its own.
    private static final String ACCOUNT_SID = "AC@@sid@@";
    private static final String API_KEY_SID = "@@sk@@";
    private static final String API_KEY_SECRET = "@@sksecret@@";
    private static final String FROM = "+15017122661";
    private static final long serialVersionUID = 4_872_115_903_201L;

    static {
        Twilio.init(API_KEY_SID, API_KEY_SECRET, ACCOUNT_SID);
    }

    public String send(String to, String body) {
        Message message = Message.creator(new PhoneNumber(to), new PhoneNumber(FROM), body).create();
        LOG.info("sent sms {} status={}", message.getSid(), message.getStatus());
        return message.getSid();
    }
}
''', sid=hexs(32), sk=Secret(twilio_key(), "Twilio"), sksecret=Secret(rs(32), "Twilio"))

    emit("java/notify/src/main/java/com/acme/notify/MailgunClient.java", r'''
package com.acme.notify;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

public class MailgunClient {
    private static final String DOMAIN = "mg.acme.example";
    private static final String API_KEY = "@@mg@@";
    private final HttpClient http = HttpClient.newHttpClient();

    public int send(String to, String subject, String text) throws Exception {
        String auth = Base64.getEncoder().encodeToString(("api:" + API_KEY).getBytes(StandardCharsets.UTF_8));
        String form = "from=noreply@" + DOMAIN + "&to=" + to + "&subject=" + subject + "&text=" + text;
        HttpRequest req = HttpRequest.newBuilder(URI.create("https://api.mailgun.net/v3/" + DOMAIN + "/messages"))
                .header("Authorization", "Basic " + auth)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form))
                .build();
        return http.send(req, HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}
''', mg=Secret(mailgun(), "Mailgun"))

    emit("java/notify/src/main/resources/application.properties", r'''
spring.application.name=notify
server.port=8080
spring.datasource.url=jdbc:postgresql://notify-db.internal:5432/notify
spring.datasource.username=notify
spring.datasource.password=@@dbpw@@
spring.datasource.hikari.maximum-pool-size=10
spring.mail.host=smtp.postmarkapp.com
spring.mail.username=${POSTMARK_USER}
spring.mail.password=${POSTMARK_PASSWORD}
spring.security.user.password=
management.endpoints.web.exposure.include=health,info
acme.newrelic.api-key=@@nr@@
acme.security.password.min-length=12
acme.security.password.require-symbol=true
acme.cache.build-hash=@@sha@@
''', dbpw=Secret(random_password(24), "Password"), nr=Secret(new_relic(), "New Relic"), sha=sha1())

    emit("java/notify/src/main/resources/application-prod.yml", r'''
spring:
  datasource:
    url: jdbc:mysql://orders-db.prod.internal:3306/orders?useSSL=true
    username: orders_svc
    password: ${ORDERS_DB_PASSWORD}
  rabbitmq:
    addresses: amqps://notify:@@amqppw@@@mq.prod.internal:5671/notify
  security:
    oauth2:
      client:
        registration:
          google:
            client-id: @@gcid@@.apps.googleusercontent.com
            client-secret: @@gsecret@@
logging:
  level:
    root: INFO
acme:
  dynatrace:
    api-token: @@dt@@
''', amqppw=Secret(url_password(20), "URL credentials"), gcid=str(R.randint(10**11, 10**12)) + "-" + rs(32, LO + DG),
         gsecret=Secret(google_oauth_secret(), "Google OAuth"), dt=Secret(dynatrace(), "Dynatrace"))

    emit("java/build/settings.xml", r'''
<?xml version="1.0" encoding="UTF-8"?>
<settings xmlns="http://maven.apache.org/SETTINGS/1.2.0"
          xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
          xsi:schemaLocation="http://maven.apache.org/SETTINGS/1.2.0 https://maven.apache.org/xsd/settings-1.2.0.xsd">
  <servers>
    <server>
      <id>github</id>
      <username>acme-ci</username>
      <password>@@ghp@@</password>
    </server>
    <server>
      <id>acme-nexus</id>
      <username>deployer</username>
      <password>@@nexuspw@@</password>
    </server>
    <server>
      <id>artifactory</id>
      <username>ci-bot</username>
      <password>@@af@@</password>
    </server>
    <server>
      <id>ossrh</id>
      <username>${env.OSSRH_USERNAME}</username>
      <password>${env.OSSRH_PASSWORD}</password>
    </server>
  </servers>
  <mirrors>
    <mirror>
      <id>acme-nexus</id>
      <mirrorOf>*</mirrorOf>
      <url>https://nexus.acme.example/repository/maven-public/</url>
    </mirror>
  </mirrors>
</settings>
''', ghp=Secret(github("ghp_"), "GitHub"), nexuspw=Secret(random_password(16), "Password"),
         af=Secret(artifactory(), "Artifactory"))

    emit("java/legacy/src/main/webapp/WEB-INF/applicationContext.xml", r'''
<?xml version="1.0" encoding="UTF-8"?>
<beans xmlns="http://www.springframework.org/schema/beans"
       xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
       xsi:schemaLocation="http://www.springframework.org/schema/beans http://www.springframework.org/schema/beans/spring-beans.xsd">

  <bean id="dataSource" class="org.apache.commons.dbcp2.BasicDataSource" destroy-method="close">
    <property name="driverClassName" value="oracle.jdbc.OracleDriver"/>
    <property name="url" value="jdbc:oracle:thin:@ora-prod.internal:1521/LEDGER"/>
    <property name="username" value="LEDGER_APP"/>
    <property name="password" value="@@orapw@@"/>
  </bean>

  <bean id="reportDataSource" class="org.apache.commons.dbcp2.BasicDataSource">
    <property name="url" value="jdbc:postgresql://reports.internal/reports"/>
    <property name="username" value="reports"/>
    <property name="password" value="${reports.db.password}"/>
  </bean>

  <bean id="ldap" class="org.springframework.ldap.core.support.LdapContextSource">
    <property name="url" value="ldaps://ldap.acme.example:636"/>
    <property name="userDn" value="cn=svc-ledger,ou=services,dc=acme,dc=example"/>
    <property name="password" value="@@ldappw@@"/>
  </bean>
</beans>
''', orapw=Secret(human_password(), "Password"), ldappw=Secret(random_password(20), "Password"))

    emit("kotlin/payments/src/main/kotlin/com/acme/payments/Gateways.kt", r'''
package com.acme.payments

import com.braintreegateway.BraintreeGateway
import com.squareup.square.SquareClient
import com.squareup.square.Environment

object Gateways {
    private const val BRAINTREE_TOKEN = "@@bt@@"
    private const val SQUARE_ACCESS_TOKEN = "@@sq@@"
    private const val SQUARE_APP_SECRET = "@@sqs@@"
    private const val SHIPPO_TOKEN = "@@shippo@@"
    const val IDEMPOTENCY_NAMESPACE = "@@uuid@@"

    val braintree: BraintreeGateway by lazy { BraintreeGateway(BRAINTREE_TOKEN) }

    val square: SquareClient by lazy {
        SquareClient.Builder()
            .environment(Environment.PRODUCTION)
            .accessToken(SQUARE_ACCESS_TOKEN)
            .build()
    }

    fun shippoHeaders(): Map<String, String> = mapOf(
        "Authorization" to "ShippoToken $SHIPPO_TOKEN",
        "Content-Type" to "application/json",
    )

    fun oauthSecret(): String = System.getenv("SQUARE_APP_SECRET") ?: SQUARE_APP_SECRET
}
''', bt=Secret(braintree(), "Braintree"), sq=Secret(square_access(), "Square"), sqs=Secret(square_secret(), "Square"),
         shippo=Secret(shippo(), "Shippo"), uuid=uuid4())

    emit("kotlin/payments/build.gradle.kts", r'''
plugins {
    kotlin("jvm") version "2.0.21"
    application
}

repositories {
    mavenCentral()
    maven {
        url = uri("https://maven.pkg.github.com/acme/shared-libs")
        credentials {
            username = providers.gradleProperty("gpr.user").orNull ?: System.getenv("GITHUB_ACTOR")
            password = providers.gradleProperty("gpr.key").orNull ?: System.getenv("GITHUB_TOKEN")
        }
    }
}

dependencies {
    implementation("com.braintreepayments.gateway:braintree-java:3.34.0")
    implementation("com.squareup:square:42.0.0.20241017")
    testImplementation(kotlin("test"))
}

application { mainClass.set("com.acme.payments.MainKt") }
''')

    emit("scala/analytics/src/main/scala/com/acme/analytics/Settings.scala", r'''
package com.acme.analytics

import com.typesafe.config.ConfigFactory

object Settings {
  private val conf = ConfigFactory.load()

  val datadogApiKey: String = sys.env.getOrElse("DD_API_KEY", "@@ddapi@@")
  val datadogAppKey: String = "@@ddapp@@"
  val databricksHost = "https://adb-@@wsid@@.7.azuredatabricks.net"
  val databricksToken = "@@dapi@@"
  val jiraToken = "@@atl@@"
  val jiraUser = "analytics-bot@acme.example"

  val sparkMaster: String = conf.getString("spark.master")
  val checkpointDir: String = conf.getString("analytics.checkpoint-dir")
  val schemaFingerprint = "@@fp@@"
}
''', ddapi=Secret(hexs(32), "Datadog"), ddapp=Secret(hexs(40), "Datadog"), wsid=str(R.randint(10**15, 10**16)),
         dapi=Secret(databricks(), "Databricks"), atl=Secret(atlassian(), "Atlassian"), fp=sha256())

    emit("scala/analytics/src/main/resources/application.conf", r'''
spark {
  master = "local[*]"
  master = ${?SPARK_MASTER}
}

analytics {
  checkpoint-dir = "s3a://acme-analytics/checkpoints"
  warehouse {
    url = "jdbc:snowflake://acme.eu-central-1.snowflakecomputing.com/?warehouse=ANALYTICS_WH"
    user = "ANALYTICS_SVC"
    password = ${?SNOWFLAKE_PASSWORD}
  }
  clickhouse {
    url = "jdbc:clickhouse://ch.internal:8443/events?ssl=true"
    user = "events_writer"
    password = "@@chpw@@"
  }
}
''', chpw=Secret(random_password(26), "Password"))

    emit("ruby/storefront/config/initializers/shopify.rb", r'''
# frozen_string_literal: true

ShopifyAPI::Context.setup(
  api_key: ENV.fetch("SHOPIFY_API_KEY"),
  api_secret_key: "@@shpss@@",
  host: "https://storefront.acme.example",
  scope: "read_orders,write_products",
  is_embedded: false,
  api_version: "2024-10",
  is_private: true,
  private_shop: "acme-outlet.myshopify.com",
)

ADMIN_ACCESS_TOKEN = "@@shpat@@"

Stripe.api_key = "@@rk@@" # restricted key: charges read, refunds write
Stripe.api_version = "2024-06-20"

Rails.application.config.x.shopify_session = ShopifyAPI::Auth::Session.new(
  shop: "acme-outlet.myshopify.com",
  access_token: ADMIN_ACCESS_TOKEN,
)
''', shpss=Secret(shopify("shpss_"), "Shopify"), shpat=Secret(shopify("shpat_"), "Shopify"),
         rk=Secret(stripe("rk_live_", 24), "Stripe"))

    emit("ruby/storefront/config/database.yml", r'''
default: &default
  adapter: postgresql
  encoding: unicode
  pool: <%= ENV.fetch("RAILS_MAX_THREADS") { 5 } %>

development:
  <<: *default
  database: storefront_development
  username: storefront
  password:

test:
  <<: *default
  database: storefront_test
  password: <%= ENV["TEST_DB_PASSWORD"] %>

production:
  <<: *default
  url: postgres://storefront:@@pgpw@@@storefront-db.prod.internal:5432/storefront
''', pgpw=Secret(url_password(24), "URL credentials"))

    emit("ruby/storefront/Gemfile.lock", r'''
GEM
  remote: https://rubygems.org/
  specs:
    actionpack (7.2.1)
    rack (3.1.8)
    shopify_api (14.7.0)
    stripe (13.0.2)

PLATFORMS
  x86_64-linux

DEPENDENCIES
  rails (~> 7.2)
  shopify_api
  stripe

CHECKSUMS
  actionpack (7.2.1) sha256=@@c1@@
  rack (3.1.8) sha256=@@c2@@
  shopify_api (14.7.0) sha256=@@c3@@
  stripe (13.0.2) sha256=@@c4@@

BUNDLED WITH
   2.5.22
''', c1=sha256(), c2=sha256(), c3=sha256(), c4=sha256())

    emit("ruby/storefront/.gem/credentials", r'''
---
:rubygems_api_key: @@gem@@
''', gem=Secret(rubygems(), "RubyGems"))

    emit("php/shop/config/services.php", r'''
<?php

return [

    'postmark' => [
        'token' => env('POSTMARK_TOKEN', '@@postmark@@'),
    ],

    'mailgun' => [
        'domain' => env('MAILGUN_DOMAIN'),
        'secret' => env('MAILGUN_SECRET'),
        'endpoint' => env('MAILGUN_ENDPOINT', 'api.eu.mailgun.net'),
    ],

    'slack' => [
        'notifications' => [
            'bot_user_oauth_token' => '@@xoxb@@',
            'channel' => '#shop-alerts',
        ],
    ],

    'airtable' => [
        'key' => '@@airtable@@',
        'base' => 'app@@base@@',
    ],

    'recaptcha' => [
        'site_key' => env('RECAPTCHA_SITE_KEY'),
        'secret' => env('RECAPTCHA_SECRET', 'your-recaptcha-secret'),
    ],
];
''', postmark=Secret(uuid4(), "Postmark"), xoxb=Secret(slack_bot(), "Slack"), airtable=Secret(airtable(), "Airtable"),
         base=rs(14))

    emit("php/shop/.env", r'''
APP_NAME=AcmeShop
APP_ENV=production
APP_KEY=base64:@@appkey@@
APP_DEBUG=false
APP_URL=https://shop.acme.example

LOG_CHANNEL=stack

DB_CONNECTION=mysql
DB_HOST=shop-db.internal
DB_PORT=3306
DB_DATABASE=shop
DB_USERNAME=shop
DB_PASSWORD=@@dbpw@@

REDIS_HOST=127.0.0.1
REDIS_PASSWORD=null
REDIS_PORT=6379

MAIL_MAILER=smtp
MAIL_HOST=smtp.mailgun.org
MAIL_USERNAME=postmaster@mg.acme.example
MAIL_PASSWORD=${MAILGUN_SMTP_PASSWORD}

AWS_ACCESS_KEY_ID=
AWS_SECRET_ACCESS_KEY=
AWS_DEFAULT_REGION=eu-central-1
AWS_BUCKET=

PUSHER_APP_ID=
PUSHER_APP_KEY=
PUSHER_APP_SECRET=
''', appkey=Secret(b64(rb(32)), "Generic secret"), dbpw=Secret(random_password(20), "Password"))

    emit("php/blog/wp-config.php", r'''
<?php
/**
 * The base configuration for WordPress
 */

// ** Database settings ** //
define( 'DB_NAME', 'wp_blog' );
define( 'DB_USER', 'wp_blog' );
define( 'DB_PASSWORD', '@@wppw@@' );
define( 'DB_HOST', 'blog-db.internal' );
define( 'DB_CHARSET', 'utf8mb4' );
define( 'DB_COLLATE', '' );

/**#@+
 * Authentication unique keys and salts.
 * Change these to different unique phrases! You can generate these using
 * the {@link https://api.wordpress.org/secret-key/1.1/salt/ WordPress.org secret-key service}.
 */
define( 'AUTH_KEY',         'put your unique phrase here' );
define( 'SECURE_AUTH_KEY',  'put your unique phrase here' );
define( 'LOGGED_IN_KEY',    'put your unique phrase here' );
define( 'NONCE_KEY',        'put your unique phrase here' );
define( 'AUTH_SALT',        'put your unique phrase here' );
define( 'SECURE_AUTH_SALT', 'put your unique phrase here' );
define( 'LOGGED_IN_SALT',   'put your unique phrase here' );
define( 'NONCE_SALT',       'put your unique phrase here' );

$table_prefix = 'wp_';
define( 'WP_DEBUG', false );

if ( ! defined( 'ABSPATH' ) ) {
	define( 'ABSPATH', __DIR__ . '/' );
}
require_once ABSPATH . 'wp-settings.php';
''', wppw=Secret(human_password(), "Password"))

    emit("php/shop/app/Services/SearchClient.php", r'''
<?php

namespace App\Services;

use Illuminate\Support\Facades\Http;

class SearchClient
{
    private string $endpoint = 'https://search.acme.example';

    public function __construct(private ?string $apiKey = null)
    {
        $this->apiKey = $apiKey ?? config('services.search.key', 'YOUR_API_KEY');
    }

    public function query(string $q): array
    {
        $password = request()->input('password');   // never logged
        $hash = password_hash($password ?? '', PASSWORD_BCRYPT);
        return Http::withToken($this->apiKey)
            ->get($this->endpoint . '/v1/search', ['q' => $q, 'trace' => '@@trace@@'])
            ->json();
    }
}
''', trace=hexs(32))

    azkey = azure_storage_key()
    emit("dotnet/Acme.Orders/appsettings.Production.json", r'''
{
  "Logging": {
    "LogLevel": {
      "Default": "Information",
      "Microsoft.AspNetCore": "Warning"
    }
  },
  "ConnectionStrings": {
    "OrdersDb": "Server=tcp:acme-orders.database.windows.net,1433;Initial Catalog=orders;User ID=orders_app;Password=@@sqlpw@@;Encrypt=True;",
    "Blob": "DefaultEndpointsProtocol=https;AccountName=acmeorders;AccountKey=@@azkey@@;EndpointSuffix=core.windows.net",
    "Cache": "acme-orders.redis.cache.windows.net:6380,password=@@redispw@@,ssl=True,abortConnect=False"
  },
  "AzureAd": {
    "Instance": "https://login.microsoftonline.com/",
    "TenantId": "@@tenant@@",
    "ClientId": "@@client@@",
    "ClientSecret": "@@adsecret@@"
  },
  "Features": {
    "ExportEnabled": true,
    "ExportContainerSas": "https://acmeorders.blob.core.windows.net/exports?sv=2022-11-02&ss=b&srt=co&sp=rwdlacx&se=2027-06-30T18:00:00Z&st=2024-11-01T10:00:00Z&spr=https&sig=@@sig@@"
  }
}
''', sqlpw=Secret(random_password(20).replace(";", "x"), "Password"), azkey=Secret(azkey, "Azure storage"),
         redispw=Secret(b64(rb(32)), "Password"), tenant=uuid4(), client=uuid4(),
         adsecret=Secret(azure_ad_secret(), "Azure AD"),
         sig=Secret(b64(rb(32)).replace("+", "%2B").replace("/", "%2F").replace("=", "%3D"), "Azure SAS"))

    emit("dotnet/Acme.Orders/appsettings.Development.json", r'''
{
  "ConnectionStrings": {
    "OrdersDb": "Server=(localdb)\\mssqllocaldb;Database=orders;Trusted_Connection=True;",
    "Blob": "UseDevelopmentStorage=true",
    "Cache": "localhost:6379,password=${REDIS_PASSWORD}"
  },
  "AzureAd": {
    "TenantId": "00000000-0000-0000-0000-000000000000",
    "ClientId": "@@client@@",
    "ClientSecret": "<client-secret>"
  }
}
''', client=uuid4())

    emit("dotnet/LegacyPortal/Web.config", r'''
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <configSections>
    <section name="entityFramework" type="System.Data.Entity.Internal.ConfigFile.EntityFrameworkSection, EntityFramework" />
  </configSections>
  <connectionStrings>
    <add name="PortalDb" connectionString="Data Source=sql01.corp.acme.example;Initial Catalog=Portal;User Id=portal_web;Password=@@sqlpw@@;MultipleActiveResultSets=True" providerName="System.Data.SqlClient" />
    <add name="AuditDb" connectionString="Data Source=sql02;Initial Catalog=Audit;Integrated Security=SSPI" providerName="System.Data.SqlClient" />
  </connectionStrings>
  <appSettings>
    <add key="webpages:Version" value="3.0.0.0" />
    <add key="SmtpUser" value="portal@acme.example" />
    <add key="SmtpPassword" value="@@smtppw@@" />
    <add key="PasswordMinLength" value="10" />
    <add key="PasswordRequiresDigit" value="true" />
    <add key="MachineKeyValidation" value="HMACSHA256" />
  </appSettings>
  <system.web>
    <compilation debug="false" targetFramework="4.8" />
    <machineKey validationKey="@@mkv@@" decryptionKey="@@mkd@@" validation="HMACSHA256" decryption="AES" />
    <membership defaultProvider="SqlProvider">
      <providers>
        <add name="SqlProvider" type="System.Web.Security.SqlMembershipProvider" minRequiredPasswordLength="10" passwordFormat="Hashed" />
      </providers>
    </membership>
  </system.web>
</configuration>
''', sqlpw=Secret(human_password(), "Password"), smtppw=Secret(random_password(18), "Password"),
         mkv=Secret(hexs(128).upper(), "Generic secret"), mkd=hexs(64).upper())

    emit("dotnet/SyncService/App.config", r'''
<?xml version="1.0" encoding="utf-8" ?>
<configuration>
  <startup>
    <supportedRuntime version="v4.0" sku=".NETFramework,Version=v4.7.2" />
  </startup>
  <appSettings>
    <add key="SftpHost" value="sftp.partner.example" />
    <add key="SftpUser" value="acme_sync" />
    <add key="SftpPassword" value="@@sftppw@@" />
    <add key="ApiBaseUrl" value="https://api.partner.example/v2/" />
    <add key="ApiKey" value="@@apikey@@" />
    <add key="ProxyPassword" value="" />
    <add key="RetryCount" value="5" />
  </appSettings>
</configuration>
''', sftppw=Secret(random_password(16), "Password"), apikey=Secret(rs(40, LO + DG), "Generic secret"))

    emit("dotnet/Acme.Orders/Services/BlobArchiver.cs", r'''
using Azure.Storage.Blobs;
using Microsoft.Extensions.Configuration;

namespace Acme.Orders.Services;

public sealed class BlobArchiver
{
    private readonly BlobContainerClient _container;
    // Fallback used by the on-prem installer when no configuration is present.
    private const string FallbackConnection =
        "DefaultEndpointsProtocol=https;AccountName=acmearchive;AccountKey=@@azkey@@;EndpointSuffix=core.windows.net";

    public BlobArchiver(IConfiguration config)
    {
        var cs = config.GetConnectionString("Blob") ?? FallbackConnection;
        _container = new BlobContainerClient(cs, "archive");
    }

    public async Task ArchiveAsync(string orderId, Stream payload, CancellationToken ct)
    {
        var name = $"{DateTime.UtcNow:yyyy/MM/dd}/{orderId}.json";
        await _container.UploadBlobAsync(name, payload, ct);
    }

    // Well-known Azurite development account key; documented by Microsoft, not a secret.
    public const string AzuriteConnection =
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;";
}
''', azkey=Secret(azure_storage_key(), "Azure storage"))

    emit("rust/ops-cli/src/main.rs", r'''
use std::env;

use anyhow::{Context, Result};
use reqwest::blocking::Client;
use serde_json::json;

const LINEAR_KEY: &str = "@@linear@@";
const NOTION_TOKEN: &str = "@@notion@@";
const NOTION_DB: &str = "@@db@@";

fn main() -> Result<()> {
    let title = env::args().nth(1).context("usage: ops-cli TITLE")?;
    let http = Client::new();
    let resp = http
        .post("https://api.linear.app/graphql")
        .header("Authorization", LINEAR_KEY)
        .json(&json!({ "query": "mutation($t: String!) { issueCreate(input: {title: $t, teamId: \"OPS\"}) { success } }", "variables": { "t": title } }))
        .send()?;
    println!("linear: {}", resp.status());

    let token = env::var("NOTION_TOKEN").unwrap_or_else(|_| NOTION_TOKEN.to_string());
    let resp = http
        .post("https://api.notion.com/v1/pages")
        .bearer_auth(token)
        .header("Notion-Version", "2022-06-28")
        .json(&json!({ "parent": { "database_id": NOTION_DB }, "properties": { "Name": { "title": [{ "text": { "content": title } }] } } }))
        .send()?;
    println!("notion: {}", resp.status());
    Ok(())
}
''', linear=Secret(linear(), "Linear"), notion=Secret(notion_ntn(), "Notion"), db=hexs(32))

    emit("rust/ops-cli/src/cloud.rs", r'''
//! Small wrappers around the cloud APIs the on-call rotation uses.

pub struct Cloudflare {
    zone: String,
    token: String,
}

impl Cloudflare {
    pub fn from_env() -> Option<Self> {
        Some(Self { zone: std::env::var("CF_ZONE_ID").ok()?, token: std::env::var("CF_API_TOKEN").ok()? })
    }

    /// The legacy global key still used by the purge job on the old account.
    pub fn legacy() -> Self {
        Self { zone: "@@zone@@".into(), token: "@@cfkey@@".into() }
    }

    pub fn purge_url(&self) -> String {
        format!("https://api.cloudflare.com/client/v4/zones/{}/purge_cache", self.zone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purge_url_has_zone() {
        let cf = Cloudflare { zone: "023e105f4ecef8ad9ca31a8372d0c353".into(), token: "test-token".into() };
        assert!(cf.purge_url().contains("023e105f4ecef8ad9ca31a8372d0c353"));
    }
}
''', zone=hexs(32), cfkey=Secret(cloudflare_token(), "Cloudflare"))

    cargo = []
    for name, ver in [("anyhow", "1.0.93"), ("reqwest", "0.12.9"), ("serde", "1.0.215"), ("serde_json", "1.0.133"),
                      ("tokio", "1.41.1"), ("ring", "0.17.8"), ("base64", "0.22.1")]:
        cargo.append(f'[[package]]\nname = "{name}"\nversion = "{ver}"\nsource = "registry+https://github.com/rust-lang/crates.io-index"\nchecksum = "{sha256()}"\n')
    emit("rust/ops-cli/Cargo.lock", "# This file is automatically @generated by Cargo.\n# It is not intended for manual editing.\nversion = 4\n\n" + "\n".join(cargo))

    emit("swift/AcmeMaps/Sources/AcmeMaps/APIClient.swift", r'''
import Foundation

enum Secrets {
    // Mapbox secret token with downloads:read, used by the SPM build script.
    static let mapboxDownloadsToken = "@@mapbox@@"
    static let algoliaAppID = "@@algoliaapp@@"
}

struct APIClient {
    let base = URL(string: "https://api.acme.example/v3")!
    var session: URLSession = .shared

    func request(_ path: String, token: String) -> URLRequest {
        var req = URLRequest(url: base.appendingPathComponent(path))
        req.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        req.setValue(UUID().uuidString, forHTTPHeaderField: "X-Request-ID")
        return req
    }

    func login(user: String, password: String) async throws -> Data {
        var req = request("session", token: "")
        req.httpMethod = "POST"
        req.httpBody = try JSONEncoder().encode(["user": user, "password": password])
        let (data, _) = try await session.data(for: req)
        return data
    }
}
''', mapbox=Secret(mapbox(), "Mapbox"), algoliaapp=rs(10, UP + DG))


# ================================================================ shell, PowerShell, SQL

def script_files():
    emit("ops/scripts/deploy.sh", r'''
#!/usr/bin/env bash
# Build the storefront image, push it, and roll it out on Heroku.
set -euo pipefail

APP="${APP:-acme-storefront}"
TAG="$(git rev-parse --short HEAD)"
REGISTRY_USER="acmeci"

export HEROKU_API_KEY="@@heroku@@"
DOCKERHUB_TOKEN='@@dckr@@'

echo "$DOCKERHUB_TOKEN" | docker login -u "$REGISTRY_USER" --password-stdin
docker build -t "acme/storefront:${TAG}" .
docker push "acme/storefront:${TAG}"

# Tell the status page we are deploying.
curl -fsS -X POST https://status.acme.example/api/v1/incidents \
  -H "Authorization: Basic @@basic@@" \
  -H 'Content-Type: application/json' \
  -d "{\"name\": \"Deploy ${TAG}\", \"status\": \"investigating\"}"

heroku container:push web --app "$APP"
heroku container:release web --app "$APP"

# The database password is read from the vault, never from here.
DB_PASSWORD="$(vault kv get -field=password secret/storefront/db)"
psql "postgresql://storefront:${DB_PASSWORD}@db.internal/storefront" -c 'select 1'
''', heroku=Secret(heroku(), "Heroku"), dckr=Secret(dockerhub(), "Docker Hub"),
         basic=Secret(basic_auth("statusbot", random_password(18)), "Basic auth"))

    emit("ops/scripts/bootstrap-dev.sh", r'''
#!/bin/sh
# Local development bootstrap. Every value here is a placeholder or a local-only default.
set -e

: "${POSTGRES_PASSWORD:=postgres}"
export DATABASE_URL="postgres://postgres:${POSTGRES_PASSWORD}@localhost:5432/acme_dev"
export REDIS_URL="redis://localhost:6379/0"
export STRIPE_SECRET_KEY="sk_test_your_key_here"
export OPENAI_API_KEY="${OPENAI_API_KEY:-<your-openai-key>}"
export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
export GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
export JWT_SECRET=changeme

docker compose up -d db redis
until pg_isready -h localhost -p 5432 -U postgres; do sleep 1; done
psql "$DATABASE_URL" -f db/schema.sql
echo "commit $(git rev-parse HEAD) ready"
''')

    emit("ops/scripts/rotate-keys.sh", r'''
#!/usr/bin/env bash
# Rotate the CI credentials. Run from a workstation with the vault CLI logged in.
set -euo pipefail

export VAULT_ADDR=https://vault.acme.example:8200
export DOPPLER_TOKEN=@@doppler@@
export PULUMI_ACCESS_TOKEN=@@pulumi@@
export TS_AUTHKEY="@@tskey@@"

old_sha=@@sha@@
new_key=$(openssl rand -hex 32)
doppler secrets set API_SIGNING_KEY="$new_key" --project storefront --config prd
pulumi config set --secret signingKey "$new_key" --stack prod
tailscale up --authkey "$TS_AUTHKEY" --hostname "ci-rotator"
git log --oneline "${old_sha}..HEAD"
''', doppler=Secret(doppler(), "Doppler"), pulumi=Secret(pulumi(), "Pulumi"), tskey=Secret(tailscale(), "Tailscale"),
         sha=sha1())

    emit("ops/windows/Deploy-Functions.ps1", r'''
<#
.SYNOPSIS
  Publish the order functions to Azure and register the DevOps service connection.
#>
param(
    [string]$ResourceGroup = "rg-orders-prod",
    [string]$FunctionApp = "func-orders-prod"
)

$ErrorActionPreference = "Stop"

$tenantId = "@@tenant@@"
$appId = "@@appid@@"
$clientSecret = "@@adsecret@@"
$securePassword = ConvertTo-SecureString $clientSecret -AsPlainText -Force
$credential = New-Object System.Management.Automation.PSCredential($appId, $securePassword)
Connect-AzAccount -ServicePrincipal -Credential $credential -Tenant $tenantId

$env:AZURE_DEVOPS_EXT_PAT = "@@adopat@@"
az devops configure --defaults organization=https://dev.azure.com/acme project=Orders

$sqlAdmin = ConvertTo-SecureString "@@sqlpw@@" -AsPlainText -Force
New-AzSqlServer -ResourceGroupName $ResourceGroup -ServerName "sql-orders-prod" -Location westeurope `
    -SqlAdministratorCredentials (New-Object PSCredential("sqladmin", $sqlAdmin))

# Reads the password at run time; nothing to commit here.
$kvPassword = Read-Host -AsSecureString "Key Vault password"
func azure functionapp publish $FunctionApp --dotnet-isolated
''', tenant=uuid4(), appid=uuid4(), adsecret=Secret(azure_ad_secret(), "Azure AD"),
         adopat=Secret(azure_devops_pat(), "Azure DevOps"), sqlpw=Secret(human_password(), "Password"))

    emit("db/migrations/0042_reporting_roles.sql", r'''
-- Roles for the reporting replica.
BEGIN;

CREATE ROLE reporting_ro LOGIN PASSWORD '@@pw1@@';
GRANT CONNECT ON DATABASE reporting TO reporting_ro;
GRANT USAGE ON SCHEMA public TO reporting_ro;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO reporting_ro;

ALTER ROLE etl_writer WITH PASSWORD '@@pw2@@' VALID UNTIL '2027-01-01';

-- Application users; password_hash holds bcrypt hashes, not passwords.
CREATE TABLE IF NOT EXISTS app_users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    password_changed_at timestamptz,
    api_key_prefix char(8)
);

INSERT INTO app_users (id, email, password_hash) VALUES
    ('@@u1@@', 'alice@acme.example', '@@b1@@'),
    ('@@u2@@', 'bob@acme.example', '@@b2@@'),
    ('@@u3@@', 'carol@acme.example', '@@a1@@');

COMMIT;
''', pw1=Secret(random_password(20).replace("'", "x"), "Password"), pw2=Secret(human_password(), "Password"),
         u1=uuid4(), u2=uuid4(), u3=uuid4(), b1=bcrypt_hash(), b2=bcrypt_hash(), a1=argon2_hash())

    emit("db/mysql/create_users.sql", r'''
CREATE USER IF NOT EXISTS 'shop'@'10.0.%' IDENTIFIED BY '@@pw@@';
GRANT SELECT, INSERT, UPDATE, DELETE ON shop.* TO 'shop'@'10.0.%';
CREATE USER IF NOT EXISTS 'readonly'@'%' IDENTIFIED BY '${READONLY_PASSWORD}';
GRANT SELECT ON shop.* TO 'readonly'@'%';
SET GLOBAL validate_password.length = 14;
SET GLOBAL validate_password.policy = STRONG;
FLUSH PRIVILEGES;
''', pw=Secret(random_password(22).replace("'", "x"), "Password"))


# ================================================================ YAML: k8s, Actions, compose, Helm, GitLab, Ansible

def yaml_files():
    emit("deploy/k8s/storefront/deployment.yaml", r'''
apiVersion: apps/v1
kind: Deployment
metadata:
  name: storefront
  namespace: shop
  labels:
    app: storefront
spec:
  replicas: 3
  selector:
    matchLabels:
      app: storefront
  template:
    metadata:
      labels:
        app: storefront
      annotations:
        checksum/config: @@cfgsum@@
    spec:
      containers:
        - name: web
          image: registry.acme.example/storefront@sha256:@@digest@@
          ports:
            - containerPort: 8080
          env:
            - name: DATABASE_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: storefront-db
                  key: password
            - name: SENTRY_AUTH_TOKEN
              value: "@@sentry@@"
            - name: LOG_LEVEL
              value: info
          resources:
            limits:
              memory: 512Mi
              cpu: "1"
''', cfgsum=sha256(), digest=sha256(), sentry=Secret(sentry_org(), "Sentry"))

    emit("deploy/k8s/storefront/secret.yaml", r'''
apiVersion: v1
kind: Secret
metadata:
  name: storefront-db
  namespace: shop
type: Opaque
stringData:
  username: storefront
  password: "@@pw@@"
  api-token: "@@grafana@@"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: storefront-config
  namespace: shop
data:
  PASSWORD_MIN_LENGTH: "12"
  PASSWORD_RESET_TTL: "3600"
  TOKEN_ISSUER: https://auth.acme.example
  REQUEST_ID_HEADER: X-Request-ID
''', pw=Secret(random_password(24), "Password"), grafana=Secret(grafana(), "Grafana"))

    ca = certificate()
    key_pem = rsa_private_key()
    sa_jwt = jwt_rs256({"iss": "kubernetes/serviceaccount", "kubernetes.io/serviceaccount/namespace": "ci",
                        "kubernetes.io/serviceaccount/secret.name": "deployer-token-x7k2q",
                        "kubernetes.io/serviceaccount/service-account.name": "deployer",
                        "sub": "system:serviceaccount:ci:deployer"})
    emit("deploy/kubeconfig-prod.yaml", r'''
apiVersion: v1
kind: Config
clusters:
  - name: prod-eu
    cluster:
      server: https://k8s-prod-eu.acme.example:6443
      certificate-authority-data: @@ca@@
contexts:
  - name: prod-eu-admin
    context:
      cluster: prod-eu
      user: prod-eu-admin
  - name: prod-eu-deployer
    context:
      cluster: prod-eu
      user: deployer
      namespace: ci
current-context: prod-eu-deployer
users:
  - name: prod-eu-admin
    user:
      client-certificate-data: @@cert@@
      client-key-data: @@key@@
  - name: deployer
    user:
      token: @@sajwt@@
''', ca=b64(ca.encode()), cert=b64(certificate().encode()), key=Secret(b64(key_pem.encode()), "Private key"),
         sajwt=Secret(sa_jwt, "JWT"))

    emit(".github/workflows/release.yml", r'''
name: release

on:
  push:
    tags: ["v*"]

permissions:
  contents: write
  id-token: write

jobs:
  publish:
    runs-on: ubuntu-24.04
    env:
      NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}
      TF_TOKEN_app_terraform_io: @@tfc@@
      BUILDKITE_API_TOKEN: @@bk@@
    steps:
      - uses: actions/checkout@@@checkout_sha@@ # v4.2.2
      - uses: actions/setup-node@@@setup_sha@@ # v4.1.0
        with:
          node-version: 22
          registry-url: https://npm.pkg.acme.internal
      - run: npm ci
      - run: npm publish --provenance
      - name: Plan infrastructure
        run: terraform -chdir=infra plan -input=false
      - name: Notify
        env:
          SLACK_BOT_TOKEN: ${{ secrets.SLACK_BOT_TOKEN }}
          GH_TOKEN: ${{ github.token }}
        run: gh release create "$GITHUB_REF_NAME" --generate-notes
''', tfc=Secret(tfc(), "Terraform Cloud"), bk=Secret(buildkite(), "Buildkite"), checkout_sha=sha1(), setup_sha=sha1())

    emit(".github/workflows/ci.yml", r'''
name: ci
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-24.04
    services:
      postgres:
        image: postgres:16@sha256:@@digest@@
        env:
          POSTGRES_PASSWORD: postgres
        ports: ["5432:5432"]
    env:
      DATABASE_URL: postgres://postgres:postgres@localhost:5432/test
      SONAR_TOKEN: ${{ secrets.SONAR_TOKEN }}
      CODECOV_TOKEN: ${{ secrets.CODECOV_TOKEN }}
    steps:
      - uses: actions/checkout@v4
      - uses: actions/cache@v4
        with:
          path: ~/.cache/pip
          key: pip-${{ hashFiles('requirements.txt') }}
      - run: pip install -r requirements.txt
      - run: pytest -q
''', digest=sha256())

    emit("docker-compose.yml", r'''
services:
  db:
    image: postgres:16.4
    environment:
      POSTGRES_USER: acme
      POSTGRES_PASSWORD: @@pgpw@@
      POSTGRES_DB: acme
    volumes:
      - pgdata:/var/lib/postgresql/data

  mongo:
    image: mongo:7.0
    environment:
      MONGO_INITDB_ROOT_USERNAME: root
      MONGO_INITDB_ROOT_PASSWORD: ${MONGO_ROOT_PASSWORD:?set it in .env}

  worker:
    build: ./worker
    depends_on: [db, mongo, rabbit]
    environment:
      DATABASE_URL: postgresql://acme:@@pgpw2@@@db:5432/acme
      MONGO_URL: mongodb+srv://analytics:@@mongopw@@@cluster0.ab1cd.mongodb.net/events?retryWrites=true&w=majority
      AMQP_URL: amqp://worker:@@amqppw@@@rabbit:5672/%2f
      REDIS_URL: redis://default:@@redispw@@@redis-12345.c1.eu-west-1-2.ec2.cloud.redislabs.com:12345
      OPENAI_API_KEY: ${OPENAI_API_KEY}

  rabbit:
    image: rabbitmq:3.13-management
    environment:
      RABBITMQ_DEFAULT_USER: worker
      RABBITMQ_DEFAULT_PASS: ${RABBITMQ_PASSWORD}

volumes:
  pgdata: {}
''', pgpw=Secret(url_password(20), "Password"), pgpw2=Secret(url_password(22), "URL credentials"),
         mongopw=Secret(url_password(24), "URL credentials"), amqppw=Secret(url_password(18), "URL credentials"),
         redispw=Secret(url_password(32), "URL credentials"))

    emit("deploy/helm/storefront/values.yaml", r'''
replicaCount: 2

image:
  repository: registry.acme.example/storefront
  tag: ""
  digest: sha256:@@digest@@

database:
  host: storefront-db.shop.svc
  user: storefront
  # Supplied at install time: --set database.password=...
  password: ""
  existingSecret: storefront-db

smtp:
  host: smtp.postmarkapp.com
  username: "{{ .Values.smtp.token }}"
  password: "{{ .Values.smtp.token }}"

monitoring:
  newrelic:
    licenseKey: "@@nrlicense@@"
  grafana:
    adminPassword: "@@grafpw@@"

passwordPolicy:
  minLength: 12
  requireUppercase: true
  maxAgeDays: 90
''', digest=sha256(), nrlicense=Secret(hexs(36) + "NRAL", "New Relic"), grafpw=Secret(random_password(20), "Password"))

    emit("deploy/helm/storefront/templates/secret.yaml", r'''
apiVersion: v1
kind: Secret
metadata:
  name: {{ include "storefront.fullname" . }}-smtp
  labels:
    {{- include "storefront.labels" . | nindent 4 }}
type: Opaque
data:
  password: {{ .Values.database.password | b64enc | quote }}
  smtp-token: {{ required "smtp.token is required" .Values.smtp.token | b64enc | quote }}
  api-key: {{ .Values.apiKey | default (randAlphaNum 32) | b64enc | quote }}
''')

    emit(".gitlab-ci.yml", r'''
stages: [build, test, deploy]

variables:
  DOCKER_DRIVER: overlay2
  SONAR_HOST_URL: https://sonar.acme.example
  SONAR_TOKEN: "@@squ@@"
  CI_REGISTRY_PASSWORD: $CI_JOB_TOKEN

build:
  stage: build
  image: docker:27
  script:
    - docker login -u gitlab-ci-token -p "$CI_JOB_TOKEN" "$CI_REGISTRY"
    - docker build -t "$CI_REGISTRY_IMAGE:$CI_COMMIT_SHA" .
    - docker push "$CI_REGISTRY_IMAGE:$CI_COMMIT_SHA"

mirror:
  stage: deploy
  script:
    - git push "https://mirror-bot:@@glpat@@@gitlab.com/acme/storefront-mirror.git" HEAD:main
  only: [main]
''', squ=Secret(sonarqube(), "SonarQube"), glpat=Secret(gitlab_pat(), "GitLab"))

    emit("ops/ansible/group_vars/prod.yml", r'''
---
ansible_user: deploy
ansible_become: true
ansible_become_password: "@@become@@"

postgres_version: 16
postgres_replication_password: !vault |
  $ANSIBLE_VAULT;1.1;AES256
  @@v1@@
  @@v2@@
  @@v3@@
  @@v4@@

app_admin_password: "{{ vault_app_admin_password }}"
app_password_min_length: 14
backup_s3_bucket: acme-prod-backups
''', become=Secret(human_password(), "Password"), v1=hexs(80), v2=hexs(80), v3=hexs(80), v4=hexs(52))

    emit("config/password-policy.yaml", r'''
# Password policy for the identity service (no credentials here).
password:
  min_length: 14
  max_length: 128
  require_uppercase: true
  require_lowercase: true
  require_digit: true
  require_symbol: false
  history: 12
  max_age_days: 365
  lockout:
    attempts: 5
    window_seconds: 900
secret_rotation:
  api_keys_days: 90
  tokens_ttl: 3600
reset:
  token_length: 32
  token_ttl_minutes: 30
''')

    emit("tests/fixtures/users.yml", r'''
# Test users; hashes were generated from throwaway passwords and are not secrets.
- id: @@u1@@
  email: admin@example.com
  password_hash: "@@b1@@"
  api_key: null
- id: @@u2@@
  email: viewer@example.com
  password_hash: "@@a1@@"
  password: ""
- id: @@u3@@
  email: locked@example.com
  password_hash: "@@b2@@"
  reset_token: "REDACTED"
  session_token: "<redacted>"
''', u1=uuid4(), u2=uuid4(), u3=uuid4(), b1=bcrypt_hash(), b2=bcrypt_hash(), a1=argon2_hash())


# ================================================================ config formats: TOML, INI, .env, JSON, Terraform, Docker

def config_files():
    emit("config/ops-bot.toml", r'''
# ops-bot configuration
[server]
listen = "0.0.0.0:8088"
request_timeout_secs = 30

[cloudflare]
zone_id = "@@zone@@"
api_token = "@@cf@@"

[planetscale]
org = "acme"
service_token_id = "@@pstid@@"
service_token = "@@pscale@@"

[contentful]
space = "@@space@@"
management_token = "@@cfpat@@"

[signing]
# HMAC key for webhook payloads
webhook_secret = "@@whsec@@"
algorithm = "sha256"

[cache]
key_prefix = "opsbot:"
build = "@@sha@@"
''', zone=hexs(32), cf=Secret(cloudflare_token(), "Cloudflare"), pstid=rs(12, LO + DG),
         pscale=Secret(planetscale(), "PlanetScale"), space=rs(12, LO + DG), cfpat=Secret(contentful(), "Contentful"),
         whsec=Secret(hexs(64), "Generic secret"), sha=sha1())

    emit("config/pyproject.toml", r'''
[project]
name = "acme-portal"
version = "3.8.1"
requires-python = ">=3.11"
dependencies = ["django>=5.1", "boto3>=1.35", "psycopg2-binary>=2.9"]

[tool.poetry.source]
name = "acme-private"
url = "https://pypi.acme.example/simple/"

[tool.ruff]
line-length = 110

[tool.pytest.ini_options]
env = [
  "DJANGO_SECRET_KEY=test-secret-key-not-for-production",
  "DATABASE_PASSWORD=",
  "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
]
''')

    emit("config/legacy/billing.ini", r'''
; Billing daemon configuration
[general]
log_level = info
pid_file = /run/billing.pid

[database]
host = billing-db.internal
port = 5432
user = billing
password = @@dbpw@@
password_min_length = 12

[smtp]
host = smtp.acme.example
user = billing-notify
password = %(SMTP_PASSWORD)s

[gateway]
merchant_id = 4471902
api_secret = @@gwsecret@@
sandbox_secret =
''', dbpw=Secret(random_password(18), "Password"), gwsecret=Secret(rs(32), "Generic secret"))

    emit("config/alembic.ini", r'''
[alembic]
script_location = migrations
prepend_sys_path = .
sqlalchemy.url = postgresql+psycopg2://%(DB_USER)s:%(DB_PASSWORD)s@%(DB_HOST)s/portal

[loggers]
keys = root,sqlalchemy,alembic

[logger_root]
level = WARN
handlers = console
''')

    emit("node/api/.env.production", r'''
NODE_ENV=production
PORT=3000
DATABASE_URL=postgres://api:@@pgpw@@@api-db.prod.internal:5432/api
REDIS_URL=rediss://:@@redispw@@@cache.prod.internal:6380
JWT_SECRET=@@jwtsecret@@
STRIPE_SECRET_KEY=@@stripe@@
OKTA_API_TOKEN=@@okta@@
LANGSMITH_API_KEY=@@ls@@
ALIBABA_CLOUD_ACCESS_KEY_ID=@@ali@@
ALIBABA_CLOUD_ACCESS_KEY_SECRET=@@alisecret@@
SENTRY_DSN=
FEATURE_FLAGS_CLIENT_KEY=your-client-key
GOOGLE_MAPS_API_KEY=${GOOGLE_MAPS_API_KEY}
''', pgpw=Secret(url_password(24), "URL credentials"), redispw=Secret(url_password(30), "URL credentials"),
         jwtsecret=Secret(b64(rb(48)), "Generic secret"), stripe=Secret(stripe("sk_live_", 24), "Stripe"),
         okta=Secret(okta(), "Okta"), ls=Secret(langsmith(), "LangSmith"), ali=Secret(alibaba_id(), "Alibaba"),
         alisecret=Secret(rs(30), "Alibaba"))

    emit("node/api/.env.example", r'''
# Copy to .env and fill in. Do not commit real values.
NODE_ENV=development
PORT=3000
DATABASE_URL=postgres://api:password@localhost:5432/api
REDIS_URL=redis://localhost:6379
JWT_SECRET=replace-me
STRIPE_SECRET_KEY=sk_live_...
OKTA_API_TOKEN=<okta-api-token>
LANGSMITH_API_KEY=
OPENAI_API_KEY=sk-proj-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX
ANTHROPIC_API_KEY=sk-ant-api03-...
AWS_ACCESS_KEY_ID=AKIAXXXXXXXXXXXXXXXX
AWS_SECRET_ACCESS_KEY=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
''')

    sa_key = pkcs8_private_key()
    sa = {"type": "service_account", "project_id": "acme-data-prod", "private_key_id": sha1(),
          "private_key": sa_key + "\n", "client_email": "etl-runner@acme-data-prod.iam.gserviceaccount.com",
          "client_id": str(R.randint(10**20, 10**21)), "auth_uri": "https://accounts.google.com/o/oauth2/auth",
          "token_uri": "https://oauth2.googleapis.com/token",
          "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
          "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/etl-runner%40acme-data-prod.iam.gserviceaccount.com",
          "universe_domain": "googleapis.com"}
    emit_json("gcp/etl-runner-sa.json", sa, [Secret(sa_key, "GCP service account", find="-----BEGIN PRIVATE KEY-----")])

    emit_json("home/.docker/config.json", {
        "auths": {
            "https://index.docker.io/v1/": {"auth": basic_auth("acmeci", random_password(20))},
            "ghcr.io": {"auth": basic_auth("acme-bot", github("ghp_"))},
            "registry.acme.example": {},
        },
        "credsStore": "desktop",
        "currentContext": "default",
    }, [])
    # The two inline `auth` entries are base64(user:password): label them by value.
    path, text, _ = FILES.pop()
    labels = [(n + 1, n + 1, "Docker config") for n, line in enumerate(text.split("\n")) if '"auth": "' in line]
    FILES.append((path, text, labels))

    emit_json("config/composer/auth.json", {
        "http-basic": {"repo.packagist.com": {"username": "token", "password": rs(40, LO + DG)}},
        "github-oauth": {"github.com": github("gho_")},
        "gitlab-token": {"gitlab.com": gitlab_pat()},
    }, [])
    path, text, _ = FILES.pop()
    labels = []
    for n, line in enumerate(text.split("\n")):
        if '"password"' in line:
            labels.append((n + 1, n + 1, "Password"))
        elif "gho_" in line:
            labels.append((n + 1, n + 1, "GitHub"))
        elif "glpat-" in line:
            labels.append((n + 1, n + 1, "GitLab"))
    FILES.append((path, text, labels))

    emit_json("config/theme/palette.json", {
        "name": "acme-dark",
        "colors": {f"gray-{n}": colour() for n in range(100, 1000, 100)} | {f"brand-{n}": colour() for n in range(1, 7)},
        "fontHash": sha256(), "iconsetId": uuid4(),
    }, [])

    emit_json("web/assets/icons.json", {
        "version": 3,
        "icons": [{"name": n, "mime": "image/png", "data": png_b64(16, 16)} for n in ("logo", "cart", "user", "search")],
    }, [])

    emit("infra/main.tf", r'''
terraform {
  required_version = ">= 1.8"
  required_providers {
    aws     = { source = "hashicorp/aws", version = "~> 5.70" }
    datadog = { source = "DataDog/datadog", version = "~> 3.46" }
  }
  cloud {
    organization = "acme"
    workspaces { name = "storefront-prod" }
  }
}

provider "aws" {
  region     = var.region
  access_key = "@@akid@@"
  secret_key = "@@aksecret@@"
}

provider "datadog" {
  api_key = var.datadog_api_key
  app_key = var.datadog_app_key
}

resource "aws_db_instance" "storefront" {
  identifier          = "storefront-prod"
  engine              = "postgres"
  engine_version      = "16.4"
  instance_class      = "db.t4g.medium"
  allocated_storage   = 100
  username            = "storefront"
  password            = "@@dbpw@@"
  skip_final_snapshot = false
}

resource "aws_secretsmanager_secret_version" "api" {
  secret_id     = aws_secretsmanager_secret.api.id
  secret_string = jsonencode({ password = random_password.api.result })
}

resource "random_password" "api" {
  length  = 32
  special = true
}

variable "region" {
  default = "eu-west-1"
}

variable "datadog_api_key" {
  type      = string
  sensitive = true
}

variable "datadog_app_key" {
  type      = string
  sensitive = true
}
''', akid=Secret(aws_key_id(), "AWS"), aksecret=Secret(aws_secret(), "AWS secret"),
         dbpw=Secret(random_password(24), "Password"))

    emit("infra/prod.auto.tfvars", r'''
region          = "eu-west-1"
datadog_api_key = "@@ddapi@@"
datadog_app_key = "@@ddapp@@"
do_token        = "@@dop@@"
grafana_auth    = "@@glsa@@"
tags = {
  owner       = "platform"
  cost_center = "4410"
}
''', ddapi=Secret(hexs(32), "Datadog"), ddapp=Secret(hexs(40), "Datadog"), dop=Secret(digitalocean(), "DigitalOcean"),
         glsa=Secret(grafana(), "Grafana"))

    emit("infra/.terraform.lock.hcl", r'''
# This file is maintained automatically by "terraform init".
# Manual edits may be lost in future updates.

provider "registry.terraform.io/datadog/datadog" {
  version     = "3.46.0"
  constraints = "~> 3.46"
  hashes = [
    "h1:@@h1@@",
    "zh:@@z1@@",
    "zh:@@z2@@",
  ]
}

provider "registry.terraform.io/hashicorp/aws" {
  version     = "5.72.1"
  constraints = "~> 5.70"
  hashes = [
    "h1:@@h2@@",
    "zh:@@z3@@",
    "zh:@@z4@@",
  ]
}
''', h1=b64(rb(32)), h2=b64(rb(32)), z1=sha256(), z2=sha256(), z3=sha256(), z4=sha256())

    emit("infra/modules/vault/main.tf", r'''
provider "vault" {
  address = "https://vault.acme.example:8200"
  token   = "@@hvs@@"
}

resource "vault_generic_secret" "storefront_db" {
  path = "secret/storefront/db"
  data_json = jsonencode({
    username = "storefront"
    password = var.db_password
  })
}

variable "db_password" {
  type      = string
  sensitive = true
  default   = ""
}
''', hvs=Secret(vault_legacy(), "Vault"))

    emit("docker/api/Dockerfile", r'''
# syntax=docker/dockerfile:1.7
FROM node:22-bookworm-slim@sha256:@@d1@@ AS build
WORKDIR /app
ARG NPM_TOKEN
ENV NPM_CONFIG_LOGLEVEL=warn
COPY package.json package-lock.json ./
RUN echo "//npm.pkg.acme.internal/:_authToken=${NPM_TOKEN}" > .npmrc && npm ci && rm .npmrc
COPY . .
RUN npm run build

FROM gcr.io/distroless/nodejs22-debian12@sha256:@@d2@@
WORKDIR /app
COPY --from=build /app/dist ./dist
ADD --checksum=sha256:@@d3@@ https://github.com/krallin/tini/releases/download/v0.19.0/tini /tini
ENV PGPASSWORD=""
USER 65532
CMD ["dist/server.js"]
''', d1=sha256(), d2=sha256(), d3=sha256())

    emit("docker/worker/Dockerfile", r'''
FROM python:3.12-slim
WORKDIR /srv
ENV PIP_INDEX_URL=https://__token__:@@pypi@@@pypi.acme.example/simple/
ENV REPLICATE_API_TOKEN=@@r8@@
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
CMD ["python", "-m", "worker"]
''', pypi=Secret(pypi(), "PyPI"), r8=Secret(replicate(), "Replicate"))


# ================================================================ dotfiles, keys, docs, web, logs, Postman

def misc_files():
    emit("home/.npmrc", r'''
registry=https://npm.pkg.acme.internal/
@acme:registry=https://npm.pkg.github.com/
//npm.pkg.acme.internal/:_authToken=@@npm@@
//npm.pkg.github.com/:_authToken=${GITHUB_PACKAGES_TOKEN}
save-exact=true
fund=false
''', npm=Secret(npm_token(), "npm"))

    emit("home/.pypirc", r'''
[distutils]
index-servers =
    pypi
    testpypi

[pypi]
username = __token__
password = @@pypi@@

[testpypi]
repository = https://pypi.pkg.acme.internal/legacy/
username = __token__
password = <your-testpypi-token>
''', pypi=Secret(pypi(), "PyPI"))

    emit("home/.netrc", r'''
machine api.heroku.com
  login ops@acme.example
  password @@heroku@@
machine git.heroku.com
  login ops@acme.example
  password @@heroku2@@
machine ftp.partner.example login acme_upload password @@ftppw@@
machine localhost login test password test
''', heroku=Secret(heroku(), "Heroku"), heroku2=Secret(heroku(), "Heroku"), ftppw=Secret(random_password(16), "Password"))

    emit("home/.git-credentials", r'''
https://jmiller:@@ghp@@@github.com
https://oauth2:@@glpat@@@gitlab.com
https://jmiller:@@bbpw@@@bitbucket.org
''', ghp=Secret(github("ghp_"), "GitHub"), glpat=Secret(gitlab_pat(), "GitLab"),
         bbpw=Secret(url_password(24), "URL credentials"))

    emit("home/.config/gh/hosts.yml", r'''
github.com:
    users:
        jmiller:
            oauth_token: @@gho@@
    git_protocol: ssh
    user: jmiller
    oauth_token: @@gho@@
''', gho=Secret(github("gho_"), "GitHub"))

    emit("home/.ssh/config", r'''
Host bastion
  HostName bastion.acme.example
  User ops
  IdentityFile ~/.ssh/id_ed25519
  IdentitiesOnly yes

Host *.internal
  ProxyJump bastion
  User deploy
''')

    key, pub = openssh_private_key()
    emit("home/.ssh/id_ed25519", "@@key@@\n", key=Secret(key, "Private key"))
    emit("home/.ssh/id_ed25519.pub", ssh_public_ed25519(pub, "ops@laptop") + "\n")
    emit("home/.ssh/authorized_keys", "\n".join([ssh_public_rsa("ci@runner-1"), ssh_public_ed25519(None, "jmiller@mbp"),
                                                  ssh_public_rsa("backup@vault")]) + "\n")
    emit("home/.ssh/known_hosts", "\n".join(
        f"|1|{b64(rb(20))}|{b64(rb(20))} ssh-ed25519 {b64(ed25519_pub_blob(rb(32)))}" for _ in range(4)) + "\n")

    emit("deploy/tls/storefront.key", "@@key@@\n", key=Secret(rsa_private_key(), "Private key"))
    emit("deploy/tls/storefront.crt", certificate() + "\n" + certificate() + "\n")
    emit("deploy/tls/jwt-signing.pub.pem", public_key_pem() + "\n")
    emit("deploy/tls/ec-signing.pem", "# P-256 key for webhook signatures\n@@key@@\n", key=Secret(ec_private_key(), "Private key"))
    emit("deploy/tls/legacy-client.p8", "@@key@@\n", key=Secret(encrypted_pkcs8(), "Private key"))
    emit("ops/keys/jump-host.ppk", "@@key@@\n", key=Secret(putty_ppk(), "Private key"))
    emit("ops/keys/release-signing.asc", "@@key@@\n", key=Secret(pgp_block("PRIVATE KEY", 0x95), "Private key"))
    emit("ops/keys/release-signing.pub.asc", pgp_block("PUBLIC KEY", 0x99) + "\n")
    emit("ops/keys/age.key", r'''
# created: 2024-11-02T09:14:55Z
# public key: age1@@pub@@
@@age@@
''', pub=rs(58, BECH32), age=Secret(age_key(), "Age"))

    emit("ops/ci/Jenkinsfile", r'''
pipeline {
  agent { label 'linux' }
  environment {
    SONAR_TOKEN = credentials('sonar-token')
    REGISTRY_CREDS = credentials('registry-acme')
    ARTIFACT_SHA = '@@sha@@'
  }
  stages {
    stage('Build') {
      steps { sh './gradlew build -x test' }
    }
    stage('Scan') {
      steps {
        withCredentials([string(credentialsId: 'snyk', variable: 'SNYK_TOKEN')]) {
          sh 'snyk test --severity-threshold=high'
        }
      }
    }
    stage('Publish') {
      steps {
        sh "curl -u deployer:@@nexus@@ --upload-file build/libs/app.jar https://nexus.acme.example/repository/releases/"
      }
    }
  }
}
''', sha=sha1(), nexus=Secret(random_password(18).replace("^", "x"), "Password"))

    emit("docs/README.md", r'''
# Storefront API

## Quick start

```bash
export STOREFRONT_API_KEY=<your-api-key>
curl -H "Authorization: Bearer $STOREFRONT_API_KEY" https://api.acme.example/v1/products
```

Credentials are read from the environment. For local work use the AWS documentation's example keys:

```ini
[default]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
```

Tokens look like `ghp_` followed by 36 characters (for example `ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx`).
Never paste a real one into an issue.

## Configuration

| Variable | Default | Meaning |
|----------|---------|---------|
| `DATABASE_URL` | `postgres://user:password@localhost/db` | connection string |
| `JWT_SECRET` | *(none)* | HMAC key for session tokens |
| `PASSWORD_MIN_LENGTH` | `12` | password policy |

The release is pinned to commit `@@sha@@`.
''', sha=sha1())

    emit("docs/runbooks/incident-2024-10-payments.md", r'''
# Incident 2024-10-17: payment webhooks failing

**Status:** resolved · **Owner:** payments on-call

## Timeline

- 09:12 alerts fire for `charge.failed` webhooks returning 401.
- 09:20 confirmed the signing secret rotated by the Stripe dashboard change.
- 09:41 hot-fixed the worker with the new key:

```
STRIPE_SECRET_KEY=@@stripe@@
```

- 10:05 rotated the key again after this page was shared in #general (this old key is revoked).
- 10:30 the staging admin could log in with `admin` / `@@pw@@`; password reset.

## Reproduction

```bash
curl https://api.stripe.com/v1/charges -u "@@stripe2@@:"
```

Request id of the failing call: `req_@@reqid@@`, trace `@@trace@@`.
''', stripe=Secret(stripe("sk_live_", 24), "Stripe"), pw=Secret(human_password(), "Password"),
         stripe2=Secret(stripe("rk_live_", 24), "Stripe"), reqid=rs(14), trace=hexs(32))

    emit("docs/api/authentication.md", r'''
# Authentication

Send your key in the `Authorization` header:

    Authorization: Bearer <YOUR_TOKEN>

A session token is a JWT. Its claims look like this (signature elided):

    eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.<payload>.<signature>

Example with placeholders:

```python
import os
client = Client(api_key=os.environ["ACME_API_KEY"])
client.login(username="demo", password="********")
```

Basic auth is accepted for the legacy endpoints: `Authorization: Basic <base64 of user:password>`.
''')

    emit("web/public/index.html", r'''
<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Acme Store Locator</title>
  <link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/bootstrap@5.3.3/dist/css/bootstrap.min.css"
        integrity="@@sri1@@" crossorigin="anonymous">
  <script src="https://cdn.jsdelivr.net/npm/bootstrap@5.3.3/dist/js/bootstrap.bundle.min.js"
          integrity="@@sri2@@" crossorigin="anonymous"></script>
  <style>:root { --brand: @@c1@@; --accent: @@c2@@; --muted: @@c3@@; }</style>
</head>
<body>
  <img alt="logo" src="data:image/png;base64,@@png@@">
  <form id="login" action="/session" method="post">
    <label for="password">Password</label>
    <input type="password" id="password" name="password" placeholder="Password" autocomplete="current-password" value="">
    <input type="hidden" name="csrf_token" value="@@csrf@@">
  </form>
  <div id="map"></div>
  <script async
    src="https://maps.googleapis.com/maps/api/js?key=@@gkey@@&callback=initMap&libraries=places"></script>
</body>
</html>
''', sri1=sri("sha384", 48), sri2=sri("sha384", 48), c1=colour(), c2=colour(), c3=colour(), png=png_b64(16, 16),
         csrf=b64u(rb(32)), gkey=Secret(google_api(), "Google"))

    rows = ["timestamp,level,request_id,trace_id,method,path,status,duration_ms,user_agent"]
    leak_rows = {}
    for n in range(40):
        ts = f"2024-11-0{1 + n // 10}T{8 + n % 10:02d}:{(n * 7) % 60:02d}:{(n * 13) % 60:02d}Z"
        path = R.choice(["/v1/products", "/v1/cart", "/v1/orders", "/healthz", "/v1/session"])
        status = R.choice([200, 200, 200, 201, 204, 304, 401, 404, 500])
        if n == 17:
            path = f"/v1/session?user=ops&password={url_password(16)}"
            leak_rows[len(rows) + 1] = "URL credentials"
        if n == 29:
            path = "/v1/export"
            rows.append(f'{ts},debug,{uuid4()},{hexs(32)},GET,{path},200,{R.randint(5, 900)},"curl/8.5.0 Authorization: Bearer {jwt_hs256({"sub": "admin", "role": "superuser", "exp": 1893456000}, rb(32))}"')
            leak_rows[len(rows)] = "JWT"
            continue
        rows.append(f'{ts},info,{uuid4()},{hexs(32)},GET,{path},{status},{R.randint(5, 900)},"Mozilla/5.0 (X11; Linux x86_64)"')
    FILES.append(("logs/api-access-2024-11.csv", "\n".join(rows) + "\n",
                  [(ln, ln, p) for ln, p in sorted(leak_rows.items())]))

    bearer = Secret(rs(48, ALNUM), "Generic secret")
    pmak = Secret("PMAK-" + hexs(24) + "-" + hexs(34), "Postman")
    basic_pw = Secret(random_password(18), "Password")
    coll = {
        "info": {"_postman_id": uuid4(), "name": "Acme Partner API",
                 "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
        "auth": {"type": "bearer", "bearer": [{"key": "token", "value": bearer.value, "type": "string"}]},
        "item": [
            {"name": "List orders", "request": {"method": "GET", "header": [{"key": "X-Request-ID", "value": uuid4()}],
                                                "url": {"raw": "{{baseUrl}}/v2/orders", "host": ["{{baseUrl}}"], "path": ["v2", "orders"]}}},
            {"name": "Legacy export", "request": {
                "auth": {"type": "basic", "basic": [{"key": "password", "value": basic_pw.value, "type": "string"},
                                                     {"key": "username", "value": "export-bot", "type": "string"}]},
                "method": "GET", "url": {"raw": "{{baseUrl}}/legacy/export"}}},
            {"name": "Login (placeholder)", "request": {
                "method": "POST", "body": {"mode": "raw", "raw": "{\n  \"username\": \"{{user}}\",\n  \"password\": \"{{password}}\"\n}"},
                "url": {"raw": "{{baseUrl}}/session"}}},
        ],
        "variable": [{"key": "baseUrl", "value": "https://partner.acme.example"},
                     {"key": "postmanApiKey", "value": pmak.value},
                     {"key": "password", "value": ""}],
    }
    emit_json("postman/acme-partner.postman_collection.json", coll, [bearer, basic_pw, pmak], indent="\t")

    emit("ops/scripts/jira_sync.py", r'''
"""Copy incident tickets from Jira to the status page. Runs every 5 minutes from cron."""
import base64
import requests

JIRA = "https://acme.atlassian.net"
AUTH = base64.b64encode(b"ops-bot@acme.example:@@atl@@").decode()
HEADERS = {"Authorization": f"Basic {AUTH}", "Accept": "application/json"}
STATUSPAGE_KEY = "@@sp@@"


def incidents():
    r = requests.get(f"{JIRA}/rest/api/3/search", params={"jql": "project = INC AND status != Done"}, headers=HEADERS)
    r.raise_for_status()
    return r.json()["issues"]


if __name__ == "__main__":
    for issue in incidents():
        requests.post("https://api.statuspage.io/v1/pages/acme/incidents",
                      headers={"Authorization": f"OAuth {STATUSPAGE_KEY}"},
                      json={"incident": {"name": issue["fields"]["summary"]}})
''', atl=Secret(atlassian(), "Atlassian"), sp=Secret(hexs(32), "Generic secret"))

    emit("ops/scripts/gh_app_token.rb", r'''
#!/usr/bin/env ruby
# Exchange the GitHub App installation for a token; cache it for 50 minutes.
require "octokit"
require "json"

INSTALLATION_TOKEN = "@@ghs@@" # cached by the last run, expires hourly
REFRESH_TOKEN = "@@ghr@@"
APP_ID = 812_344
WEBHOOK_DELIVERY = "@@uuid@@"

client = Octokit::Client.new(access_token: ENV.fetch("GH_INSTALLATION_TOKEN", INSTALLATION_TOKEN))
puts JSON.pretty_generate(client.rate_limit.to_h)
''', ghs=Secret(github("ghs_"), "GitHub"), ghr=Secret(github("ghr_"), "GitHub"), uuid=uuid4())

    emit("ops/scripts/fine_grained.sh", r'''
#!/usr/bin/env bash
# Mirror release notes with a fine-grained PAT scoped to acme/storefront (contents: read).
set -euo pipefail
GH_TOKEN=@@pat@@ gh release view --repo acme/storefront --json body -q .body > NOTES.md
HF_HUB_TOKEN=@@hf@@ huggingface-cli upload acme/storefront-notes NOTES.md
echo "uploaded $(sha256sum NOTES.md | cut -c1-64)"
''', pat=Secret(github_fine_grained(), "GitHub"), hf=Secret(huggingface(), "Hugging Face"))

    emit("ops/scripts/slack_report.py", r'''
import datetime
from slack_sdk import WebClient

USER_TOKEN = "@@xoxp@@"
APP_TOKEN = "@@xapp@@"  # socket mode
CHANNEL = "C@@chan@@"

client = WebClient(token=USER_TOKEN)
week = datetime.date.today().isocalendar().week
client.chat_postMessage(channel=CHANNEL, text=f"Weekly cost report, week {week}: see the dashboard.")
''', xoxp=Secret(slack_user(), "Slack"), xapp=Secret(slack_app(), "Slack"), chan=rs(10, UP + DG))

    emit("ops/scripts/sentry_release.sh", r'''
#!/usr/bin/env bash
set -euo pipefail
export SENTRY_AUTH_TOKEN=@@sntryu@@
export SENTRY_ORG=acme-corp
VERSION=$(git rev-parse HEAD)
sentry-cli releases new "$VERSION"
sentry-cli releases set-commits "$VERSION" --auto
sentry-cli releases finalize "$VERSION"
''', sntryu=Secret(sentry_user(), "Sentry"))

    emit("ops/scripts/notion_export.go", r'''
package main

import (
	"fmt"
	"net/http"
	"os"
)

// notionKey is the internal integration secret of the "Docs export" integration.
var notionKey = "@@notion@@"

func main() {
	req, _ := http.NewRequest("POST", "https://api.notion.com/v1/search", nil)
	req.Header.Set("Authorization", "Bearer "+notionKey)
	req.Header.Set("Notion-Version", "2022-06-28")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status)
}
''', notion=Secret(notion_secret(), "Notion"))

    emit("ops/scripts/build_and_publish.py", r'''
"""Publish the internal packages. Tokens come from the CI secret store."""
import os
import subprocess

NPM_TOKEN = os.environ["NPM_TOKEN"]
PYPI_TOKEN = os.environ.get("PYPI_TOKEN")
TWINE_PASSWORD = PYPI_TOKEN or ""
MAPBOX_TOKEN = "pk.eyJ1IjoiYWNtZSIsImEiOiJjbGV4YW1wbGUifQ.placeholder"  # public token, browser use

def publish():
    subprocess.run(["npm", "publish"], check=True, env={**os.environ, "NODE_AUTH_TOKEN": NPM_TOKEN})
    subprocess.run(["twine", "upload", "dist/*"], check=True,
                   env={**os.environ, "TWINE_USERNAME": "__token__", "TWINE_PASSWORD": TWINE_PASSWORD})
''')


# ================================================================ output

EXT_KIND = {".py": "Python", ".ipynb": "Jupyter", ".js": "JavaScript", ".mjs": "JavaScript", ".ts": "TypeScript",
            ".go": "Go", ".java": "Java", ".kt": "Kotlin", ".kts": "Kotlin", ".scala": "Scala", ".conf": "HOCON",
            ".rb": "Ruby", ".php": "PHP", ".cs": "C#", ".rs": "Rust", ".swift": "Swift", ".sh": "Shell",
            ".ps1": "PowerShell", ".sql": "SQL", ".yaml": "YAML", ".yml": "YAML", ".json": "JSON", ".toml": "TOML",
            ".ini": "INI", ".properties": ".properties", ".xml": "XML", ".config": "XML", ".tf": "Terraform",
            ".tfvars": "Terraform", ".hcl": "HCL", ".md": "Markdown", ".html": "HTML", ".csv": "CSV", ".lock": "lock file",
            ".sum": "go.sum", ".txt": "requirements.txt", ".key": "PEM", ".crt": "PEM", ".pem": "PEM", ".p8": "PEM",
            ".ppk": "PuTTY", ".asc": "PGP", ".pub": "OpenSSH"}
NAME_KIND = {"Dockerfile": "Dockerfile", ".env": ".env", ".env.production": ".env", ".env.example": ".env",
             ".npmrc": ".npmrc", ".pypirc": ".pypirc", ".netrc": ".netrc", ".git-credentials": ".git-credentials",
             "Jenkinsfile": "Jenkinsfile", "credentials": "gem credentials", "config": "ssh config",
             "id_ed25519": "OpenSSH", "authorized_keys": "OpenSSH", "known_hosts": "OpenSSH", "age.key": "age",
             "kubeconfig-prod.yaml": "kubeconfig", "acme-partner.postman_collection.json": "Postman"}


def kind(path):
    base = os.path.basename(path)
    if base in NAME_KIND:
        return NAME_KIND[base]
    return EXT_KIND.get(os.path.splitext(base)[1], "other")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--out", default=os.path.join(root, "crates", "secrets", "tests", "data", "heldout"))
    args = ap.parse_args()

    python_files()
    js_files()
    compiled_files()
    script_files()
    yaml_files()
    config_files()
    misc_files()

    paths = [p for p, _, _ in FILES]
    dupes = [p for p, c in collections.Counter(paths).items() if c > 1]
    if dupes:
        sys.exit(f"duplicate paths: {dupes}")
    if os.path.isdir(args.out):
        shutil.rmtree(args.out)
    rows = []
    for path, text, labels in FILES:
        full = os.path.join(args.out, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", newline="\n") as f:
            f.write(text)
        nlines = text.count("\n") + (0 if text.endswith("\n") else 1)
        for first, last, provider in sorted(labels):
            assert 1 <= first <= last <= nlines, (path, first, last)
            rows.append((path, first, last, provider))
    rows.sort()
    lines_seen = collections.Counter((p, n) for p, a, b, _ in rows for n in range(a, b + 1))
    overlap = [k for k, c in lines_seen.items() if c > 1]
    if overlap:
        sys.exit(f"two labels on one line: {overlap}")
    with open(args.out + "-labels.tsv", "w") as f:
        f.write("# path\tfirst_line\tlast_line\tprovider\n")
        f.write("# held-out corpus: generated by bench/secrets_heldout_gen.py; do not edit by hand\n")
        for r in rows:
            f.write("\t".join(map(str, r)) + "\n")
    kinds = collections.Counter(kind(p) for p in paths)
    providers = collections.Counter(r[3] for r in rows)
    print(f"{len(FILES)} files ({len(kinds)} languages/formats), {len(rows)} labels, {len(providers)} providers, "
          f"{sum(1 for _, _, l in FILES if not l)} files without secrets")
    print("formats: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    print("providers: " + ", ".join(f"{k} {v}" for k, v in sorted(providers.items())))


if __name__ == "__main__":
    main()
