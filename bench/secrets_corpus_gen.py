#!/usr/bin/env python3
"""Build the labelled secrets corpus (crates/secrets/tests/data/corpus).

Realistic files in many languages and formats. Lines holding a true secret
are listed in labels.tsv (path, first line, last line, provider); every other
line is a negative, including the hard ones: placeholders and examples,
lock-file hashes, UUIDs, digests, encoded images, public keys and
certificates, tokens with a wrong checksum, variable references.

The secrets are random, shaped like each provider's documented format, and
belong to nobody. Deterministic: the same seed gives the same corpus.

usage: secrets_corpus_gen.py [OUT_DIR]
"""
import base64
import json
import os
import random
import shutil
import string
import sys
import zlib

rng = random.Random(42)
B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"


def r(alpha, n):
    while True:
        s = "".join(rng.choice(alpha) for _ in range(n))
        low = s.lower()
        if not any(w in low for w in ("example", "xxxx", "test", "1234", "abcd", "fake")):
            return s


def crc6(body):
    n = zlib.crc32(body.encode()) & 0xFFFFFFFF
    out = ""
    for _ in range(6):
        out = B62[n % 62] + out
        n //= 62
    return out


def gh(prefix="ghp"):
    body = r(ALNUM, 30)
    return f"{prefix}_{body}{crc6(body)}"


def b64url(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def pem(label="RSA PRIVATE KEY", nbytes=600):
    body = base64.b64encode(bytes(rng.getrandbits(8) for _ in range(nbytes))).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return [f"-----BEGIN {label}-----", *lines, f"-----END {label}-----"]


def jwt():
    h = b64url(b'{"alg":"HS256","typ":"JWT"}')
    p = b64url(json.dumps({"sub": r(string.digits, 9), "role": "service", "iat": 1764000000}).encode())
    return f"{h}.{p}.{b64url(bytes(rng.getrandbits(8) for _ in range(32)))}"


def pw():
    return r(ALNUM, 5) + rng.choice("!#%^&*-_") + r(ALNUM, 4) + rng.choice("!#%^&*") + r(string.digits, 2)


def uuid():
    h = r(HEX, 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# provider -> generator of a bare secret
SECRETS = {
    "AWS": lambda: "AKIA" + r("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16),
    "AWS secret": lambda: r(ALNUM + "+/", 40),
    "GitHub": lambda: gh("ghp"),
    "GitHub OAuth": lambda: gh("gho"),
    "GitHub fine-grained": lambda: f"github_pat_{r(ALNUM, 22)}_{r(ALNUM, 59)}",
    "GitLab": lambda: "glpat-" + r(ALNUM + "-_", 20),
    "Slack": lambda: f"xoxb-{r(string.digits, 12)}-{r(string.digits, 13)}-{r(ALNUM, 24)}",
    "Slack webhook": lambda: f"https://hooks.slack.com/services/T{r(string.ascii_uppercase + string.digits, 10)}/B{r(string.ascii_uppercase + string.digits, 10)}/{r(ALNUM, 24)}",
    "Stripe": lambda: "sk_live_" + r(ALNUM, 24),
    "Google": lambda: "AIza" + r(ALNUM + "-_", 35),
    "npm": lambda: gh("npm"),
    "PyPI": lambda: "pypi-AgEIcHlwaS5vcmc" + r(ALNUM + "-_", 70),
    "SendGrid": lambda: f"SG.{r(ALNUM + '-_', 22)}.{r(ALNUM + '-_', 43)}",
    "Azure storage": lambda: r(ALNUM + "+/", 86) + "==",
    "Azure AD": lambda: r(ALNUM, 3) + "8Q~" + r(ALNUM + "~_.-", 34),
    "OpenAI": lambda: f"sk-proj-{r(ALNUM + '-_', 58)}T3BlbkFJ{r(ALNUM + '-_', 58)}",
    "Anthropic": lambda: f"sk-ant-api03-{r(ALNUM + '-_', 93)}AA",
    "Hugging Face": lambda: "hf_" + r(string.ascii_letters, 34),
    "DigitalOcean": lambda: "dop_v1_" + r(HEX, 64),
    "Shopify": lambda: "shpat_" + r(HEX, 32),
    "Mailchimp": lambda: r(HEX, 32) + "-us14",
    "Square": lambda: "EAAA" + r(ALNUM + "-_", 60),
    "Discord": lambda: f"https://discord.com/api/webhooks/{r(string.digits, 18)}/{r(ALNUM + '-_', 68)}",
    "Telegram": lambda: f"{r(string.digits, 10)}:AA{r(ALNUM + '-_', 33)}",
    "Postman": lambda: f"PMAK-{r(HEX, 24)}-{r(HEX, 34)}",
    "Databricks": lambda: "dapi" + r(HEX, 32),
    "Doppler": lambda: "dp.st." + r(ALNUM, 43),
    "age": lambda: "AGE-SECRET-KEY-1" + r("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58),
    "Vault": lambda: "hvs." + r(ALNUM + "-_", 90),
    "Terraform Cloud": lambda: f"{r(ALNUM, 14)}.atlasv1.{r(ALNUM + '-_', 67)}",
    "Pulumi": lambda: "pul-" + r(HEX, 40),
    "Docker Hub": lambda: "dckr_pat_" + r(ALNUM + "-_", 27),
    "Grafana": lambda: f"glsa_{r(ALNUM, 32)}_{r(HEX, 8)}",
    "New Relic": lambda: "NRAK-" + r(string.ascii_uppercase + string.digits, 27),
    "Sentry": lambda: "sntryu_" + r(HEX, 64),
    "Linear": lambda: "lin_api_" + r(ALNUM, 40),
    "Notion": lambda: "ntn_" + r(string.digits, 11) + r(ALNUM, 35),
    "SonarQube": lambda: "sqp_" + r(HEX, 40),
    "Atlassian": lambda: "ATATT3xFfGF0" + r(ALNUM + "-_", 180),
    "Heroku": lambda: "HRKU-AA" + r(ALNUM + "-_", 58),
    "Netlify": lambda: "nfp_" + r(ALNUM, 36),
    "Groq": lambda: "gsk_" + r(ALNUM, 52),
    "Twilio": lambda: "SK" + r(HEX, 32),
    "Mailgun": lambda: "key-" + r(HEX, 32),
    "Datadog": lambda: r(HEX, 32),
    "JWT": jwt,
    "Password": pw,
    "Generic API key": lambda: r(ALNUM, 40),
}

labels = []  # (path, first, last, provider)
files = {}


def add(path, lines):
    """lines: str, or (provider, text) for a secret; text may span lines."""
    out = []
    for item in lines:
        if isinstance(item, tuple):
            provider, text = item
            parts = text.split("\n")
            labels.append((path, len(out) + 1, len(out) + len(parts), provider))
            out.extend(parts)
        else:
            out.extend(item.split("\n"))
    files[path] = "\n".join(out) + "\n"


S = lambda p: SECRETS[p]()

# ---------------------------------------------------------------- code
add("python/settings.py", [
    "import os", "from pathlib import Path", "", "BASE_DIR = Path(__file__).resolve().parent.parent",
    "DEBUG = os.environ.get('DEBUG') == '1'", "SECRET_KEY = os.environ['DJANGO_SECRET_KEY']",
    ("AWS", f"AWS_ACCESS_KEY_ID = '{S('AWS')}'"), ("AWS secret", f"AWS_SECRET_ACCESS_KEY = '{S('AWS secret')}'"),
    "AWS_STORAGE_BUCKET_NAME = 'acme-media'", "DATABASES = {", "    'default': {", "        'ENGINE': 'django.db.backends.postgresql',",
    "        'NAME': 'shop',", ("Password", f"        'PASSWORD': '{S('Password')}',"), "        'HOST': 'db.internal',", "    }", "}",
])
add("python/payments.py", [
    "import stripe", "import logging", "", "log = logging.getLogger(__name__)", "",
    ("Stripe", f"stripe.api_key = \"{S('Stripe')}\""), "", "def charge(customer_id: str, cents: int) -> str:",
    "    intent = stripe.PaymentIntent.create(amount=cents, currency='eur', customer=customer_id)",
    "    log.info('charged %s', customer_id)", "    return intent.id",
])
add("python/clients.py", [
    "from openai import OpenAI", "from anthropic import Anthropic", "",
    ("OpenAI", f"openai_client = OpenAI(api_key=\"{S('OpenAI')}\")"),
    ("Anthropic", f"claude = Anthropic(api_key='{S('Anthropic')}')"),
    ("Hugging Face", f"HF_TOKEN = \"{S('Hugging Face')}\""),
    ("Groq", f"GROQ_API_KEY = '{S('Groq')}'"),
    "def password_ok(password: str) -> bool:", "    return len(password) >= 12",
    "token = request.headers.get('Authorization')", "api_key = os.getenv('API_KEY')",
])
add("python/test_auth.py", [
    "import pytest", "", "# Fixtures use obviously fake values.", "FAKE_PASSWORD = 'changeme'",
    "EXAMPLE_KEY = 'AKIAIOSFODNN7EXAMPLE'", "EXAMPLE_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'",
    f"BAD_CHECKSUM = 'ghp_{r(ALNUM, 36)}'", "", "def test_login(client):",
    "    resp = client.post('/login', data={'password': 'hunter2'})", "    assert resp.status_code == 302",
])
add("javascript/server.js", [
    "const express = require('express');", "const app = express();", "",
    ("SendGrid", f"const SENDGRID_API_KEY = '{S('SendGrid')}';"),
    ("Slack webhook", f"const slackHook = \"{S('Slack webhook')}\";"),
    "const dbPassword = process.env.DB_PASSWORD;", "const port = process.env.PORT || 3000;",
    "app.get('/health', (req, res) => res.send('ok'));", "app.listen(port);",
])
add("javascript/config.mjs", [
    "export default {", ("Google", f"  mapsKey: '{S('Google')}',"),
    ("Mailchimp", f"  mailchimpApiKey: '{S('Mailchimp')}',"), "  requestId: '" + uuid() + "',",
    "  apiKey: '<your-api-key>',", "  sessionSecret: process.env.SESSION_SECRET,", "};",
])
add("typescript/discord.ts", [
    "import { WebhookClient } from 'discord.js';", "",
    ("Discord", f"const hook = new WebhookClient({{ url: '{S('Discord')}' }});"),
    ("Telegram", f"const TELEGRAM_BOT_TOKEN: string = \"{S('Telegram')}\";"),
    "export async function notify(text: string): Promise<void> {", "  await hook.send({ content: text });", "}",
    "const password: string = getPasswordFromVault();",
])
add("go/main.go", [
    "package main", "", "import (", "\t\"database/sql\"", "\t\"log\"", ")", "",
    ("GitHub", f"const githubToken = \"{S('GitHub')}\""),
    ("DigitalOcean", f"var doToken = \"{S('DigitalOcean')}\""),
    "func main() {", ("Password", f"\tdb, err := sql.Open(\"postgres\", \"postgres://app:{S('Password')}@db.internal:5432/app\")"),
    "\tif err != nil {", "\t\tlog.Fatal(err)", "\t}", "\tdefer db.Close()", "}",
])
add("go/go.sum", [f"github.com/lib/pq v1.10.{i} h1:{base64.b64encode(bytes(rng.getrandbits(8) for _ in range(32))).decode()}" for i in range(8)])
add("java/src/main/java/com/acme/Mail.java", [
    "package com.acme;", "", "import com.twilio.Twilio;", "", "public class Mail {",
    ("Twilio", f"    private static final String TWILIO_API_KEY = \"{S('Twilio')}\";"),
    ("Mailgun", f"    private static final String MAILGUN_API_KEY = \"{S('Mailgun')}\";"),
    "    private static final String PASSWORD_FIELD = \"password\";",
    "    public String password() { return System.getenv(\"MAIL_PASSWORD\"); }", "}",
])
add("java/src/main/resources/application.properties", [
    "spring.application.name=shop", "spring.datasource.url=jdbc:postgresql://db:5432/shop",
    "spring.datasource.username=shop", ("Password", f"spring.datasource.password={S('Password')}"),
    "spring.jpa.hibernate.ddl-auto=validate", "management.endpoints.web.exposure.include=health",
    "app.jwt.secret=${JWT_SECRET}",
])
add("ruby/config/initializers/shopify.rb", [
    "ShopifyAPI::Context.setup(", ("Shopify", f"  api_key: \"{S('Shopify')}\","),
    "  api_secret_key: ENV.fetch('SHOPIFY_API_SECRET'),", "  host: 'https://shop.acme.io',", ")",
    ("Square", f"SQUARE_ACCESS_TOKEN = '{S('Square')}'"),
])
add("php/config.php", [
    "<?php", "return [", ("Password", f"    'db_password' => '{S('Password')}',"),
    ("Postman", f"    'postman_key' => '{S('Postman')}',"), "    'db_user' => 'shop',",
    "    'mail_password' => getenv('MAIL_PASSWORD'),", "];",
])
add("csharp/Startup.cs", [
    "using Microsoft.Extensions.Configuration;", "", "public class Startup", "{",
    ("Azure storage", f"    const string Storage = \"DefaultEndpointsProtocol=https;AccountName=acmeprod;AccountKey={S('Azure storage')};EndpointSuffix=core.windows.net\";"),
    ("Azure AD", f"    const string ClientSecret = \"{S('Azure AD')}\";"),
    "    const string Emulator = \"UseDevelopmentStorage=true\";", "}",
])
add("rust/src/config.rs", [
    "use std::env;", "", "pub struct Config {", "    pub token: String,", "}", "",
    ("Sentry", f"const SENTRY_TOKEN: &str = \"{S('Sentry')}\";"),
    ("Linear", f"const LINEAR_KEY: &str = \"{S('Linear')}\";"),
    "pub fn load() -> Config {", "    let token = env::var(\"API_TOKEN\").expect(\"API_TOKEN\");", "    Config { token }", "}",
])
add("kotlin/App.kt", [
    "package io.acme", "", ("Notion", f"val notionToken = \"{S('Notion')}\""),
    ("SonarQube", f"const val SONAR_TOKEN = \"{S('SonarQube')}\""), "fun main() = println(\"hi\")",
])
add("shell/deploy.sh", [
    "#!/usr/bin/env bash", "set -euo pipefail", ("Heroku", f"export HEROKU_API_KEY={S('Heroku')}"),
    ("Netlify", f"export NETLIFY_AUTH_TOKEN={S('Netlify')}"), "export DEPLOY_ENV=production",
    "docker login -u ci -p \"$DOCKER_PASSWORD\" registry.acme.io",
    ("Docker Hub", f"echo {S('Docker Hub')} | docker login -u acmeci --password-stdin"),
    "curl -sf https://api.acme.io/health",
])
add("shell/backup.sh", [
    "#!/bin/sh", ("Password", f"PGPASSWORD='{S('Password')}' pg_dump -h db.internal shop > shop.sql"),
    "aws s3 cp shop.sql s3://acme-backups/$(date +%F).sql",
])

# ---------------------------------------------------------------- config
add("config/.env", [
    "APP_ENV=production", "APP_URL=https://shop.acme.io", ("Password", f"DB_PASSWORD={S('Password')}"),
    ("GitLab", f"GITLAB_TOKEN={S('GitLab')}"), ("Slack", f"SLACK_BOT_TOKEN={S('Slack')}"),
    ("Datadog", f"DD_API_KEY={S('Datadog')}"), "REDIS_URL=redis://redis:6379/0", "LOG_LEVEL=info",
])
add("config/.env.example", [
    "APP_ENV=development", "DB_PASSWORD=changeme", "GITLAB_TOKEN=glpat-xxxxxxxxxxxxxxxxxxxx",
    "SLACK_BOT_TOKEN=xoxb-your-token-here", "STRIPE_SECRET_KEY=sk_live_<your-key>", "DD_API_KEY=<datadog-api-key>",
    "AWS_ACCESS_KEY_ID=AKIAXXXXXXXXXXXXXXXX",
])
add("config/docker-compose.yml", [
    "services:", "  db:", "    image: postgres:16@sha256:" + r(HEX, 64), "    environment:",
    "      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}", "      POSTGRES_USER: shop", "  app:", "    image: acme/shop:1.4",
    "    environment:", ("Password", f"      DATABASE_URL: postgres://shop:{S('Password')}@db:5432/shop"),
    ("Doppler", f"      DOPPLER_TOKEN: {S('Doppler')}"),
])
add("config/k8s/secret.yaml", [
    "apiVersion: v1", "kind: Secret", "metadata:", "  name: shop", "type: Opaque", "stringData:",
    ("Vault", f"  VAULT_TOKEN: {S('Vault')}"), ("Pulumi", f"  PULUMI_ACCESS_TOKEN: {S('Pulumi')}"),
    "  TENANT_ID: " + uuid(),
])
add("config/k8s/kubeconfig", [
    "apiVersion: v1", "kind: Config", "clusters:", "- cluster:",
    "    certificate-authority-data: " + base64.b64encode("\n".join(pem("CERTIFICATE", 300)).encode()).decode(),
    "    server: https://k8s.acme.internal:6443", "  name: prod", "users:", "- name: admin", "  user:",
    "    client-certificate-data: " + base64.b64encode("\n".join(pem("CERTIFICATE", 300)).encode()).decode(),
    ("Private key", "    client-key-data: " + base64.b64encode("\n".join(pem("RSA PRIVATE KEY", 300)).encode()).decode()),
])
add("config/ci/.github/workflows/deploy.yml", [
    "name: deploy", "on: push", "jobs:", "  deploy:", "    runs-on: ubuntu-latest", "    env:",
    "      GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}", "      NPM_TOKEN: ${{ secrets.NPM_TOKEN }}", "    steps:",
    "      - uses: actions/checkout@v4", ("GitHub OAuth", f"      - run: gh auth login --with-token <<< {S('GitHub OAuth')}"),
])
add("config/ci/.gitlab-ci.yml", [
    "stages: [test, deploy]", "variables:", ("Databricks", f"  DATABRICKS_TOKEN: {S('Databricks')}"),
    "  DOCKER_DRIVER: overlay2", "deploy:", "  script:", "    - ./deploy.sh",
])
add("config/app.toml", [
    "[server]", "port = 8080", "", "[database]", "url = \"postgres://shop@db/shop\"",
    ("Password", f"password = \"{S('Password')}\""), "", "[telemetry]", ("New Relic", f"api_key = \"{S('New Relic')}\""),
    "sample_rate = 0.1",
])
add("config/settings.ini", [
    "[smtp]", "host = smtp.acme.io", "user = mailer", ("Password", f"password = {S('Password')}"),
    "[grafana]", ("Grafana", f"token = {S('Grafana')}"),
])
add("config/.npmrc", [
    "registry=https://npm.pkg.acme.internal/", ("npm", f"//npm.pkg.acme.internal/:_authToken={S('npm')}"),
    "//npm.pkg.github.com/:_authToken=${GITHUB_TOKEN}",
])
add("config/.pypirc", [
    "[distutils]", "index-servers = pypi", "", "[pypi]", "username = __token__", ("PyPI", f"password = {S('PyPI')}"),
])
add("config/docker/config.json", [
    "{", "  \"auths\": {", "    \"registry.acme.io\": {",
    ("Docker registry", "      \"auth\": \"" + base64.b64encode(f"deploy:{pw()}".encode()).decode() + "\""),
    "    }", "  }", "}",
])
add("config/terraform/main.tf", [
    "terraform {", "  cloud {", "    organization = \"acme\"", "  }", "}", "", "provider \"aws\" {",
    "  region = \"eu-west-1\"", ("AWS", f"  access_key = \"{S('AWS')}\""), ("AWS secret", f"  secret_key = \"{S('AWS secret')}\""), "}",
    "variable \"db_password\" {", "  type      = string", "  sensitive = true", "}",
])
add("config/terraform/.terraformrc", [
    "credentials \"app.terraform.io\" {", ("Terraform Cloud", f"  token = \"{S('Terraform Cloud')}\""), "}",
])
add("config/Dockerfile", [
    "FROM python:3.12-slim@sha256:" + r(HEX, 64), "WORKDIR /app", "COPY . .",
    ("Atlassian", f"ENV JIRA_API_TOKEN={S('Atlassian')}"), "ENV PYTHONUNBUFFERED=1", "RUN pip install -r requirements.txt",
    "CMD [\"gunicorn\", \"app:app\"]",
])
add("config/web.config", [
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>", "<configuration>", "  <appSettings>",
    ("Password", f"    <add key=\"SmtpPassword\" value=\"{S('Password')}\" />"), "    <add key=\"Theme\" value=\"dark\" />",
    "  </appSettings>", "  <connectionStrings>",
    ("Password", f"    <add name=\"Shop\" connectionString=\"Server=tcp:acme.database.windows.net;Database=shop;User ID=app;Password={S('Password')};\" />"),
    "  </connectionStrings>", "</configuration>",
])
add("config/maven/settings.xml", [
    "<settings>", "  <servers>", "    <server>", "      <id>acme-releases</id>", "      <username>deploy</username>",
    ("Password", f"      <password>{S('Password')}</password>"), "    </server>", "    <server>", "      <id>central</id>",
    "      <password>${env.CENTRAL_PASSWORD}</password>", "    </server>", "  </servers>", "</settings>",
])
add("config/gcp/service-account.json", [
    "{", "  \"type\": \"service_account\",", "  \"project_id\": \"acme-prod\",", "  \"private_key_id\": \"" + r(HEX, 40) + "\",",
    ("Private key", "  \"private_key\": \"" + "\\n".join(pem("PRIVATE KEY", 600)) + "\\n\","),
    "  \"client_email\": \"deploy@acme-prod.iam.gserviceaccount.com\",", "  \"client_id\": \"" + r(string.digits, 21) + "\"", "}",
])

# ---------------------------------------------------------------- keys, docs, notebooks, data
add("keys/id_rsa", [("Private key", "\n".join(pem("RSA PRIVATE KEY", 1190)))])
add("keys/id_ed25519", [("Private key", "\n".join(pem("OPENSSH PRIVATE KEY", 300)))])
add("keys/id_ed25519.pub", ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + r(ALNUM + "+/", 43) + " deploy@acme"])
add("keys/server.crt", pem("CERTIFICATE", 700))
add("keys/age.txt", ["# created: 2026-05-01T10:00:00Z", "# public key: age1" + r("qpzry9x8gf2tvdw0s3jn54khce6mua7l", 58), ("age", S("age"))])
add("notebooks/analysis.ipynb", json.dumps({
    "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Sales analysis\n", "Set your key in the environment.\n"]},
        {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [],
         "source": ["import os\n", "import pandas as pd\n", "OPENAI_KEY = os.environ['OPENAI_KEY']\n"]},
        {"cell_type": "code", "execution_count": 2, "metadata": {}, "outputs": [],
         "source": ["import requests\n", "HEADERS = {'Authorization': 'Bearer " + "@@JWT@@" + "'}\n"]},
        {"cell_type": "code", "execution_count": 3, "metadata": {}, "outputs": [],
         "source": ["db_password = \"" + "@@PW@@" + "\"\n"]},
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}}, "nbformat": 4, "nbformat_minor": 5}, indent=1).split("\n"))
# the notebook's secret lines, labelled by content
nb = files["notebooks/analysis.ipynb"].split("\n")
for i, line in enumerate(nb):
    if "@@JWT@@" in line:
        nb[i] = line.replace("@@JWT@@", jwt())
        labels.append(("notebooks/analysis.ipynb", i + 1, i + 1, "JWT"))
    if "@@PW@@" in line:
        nb[i] = line.replace("@@PW@@", pw())
        labels.append(("notebooks/analysis.ipynb", i + 1, i + 1, "Password"))
files["notebooks/analysis.ipynb"] = "\n".join(nb)
add("docs/setup.md", [
    "# Setup", "", "Export your credentials before running the tools:", "", "```sh",
    "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "export GITHUB_TOKEN=ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "export STRIPE_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx", "```", "",
    "Connect with `psql postgres://user:password@localhost/shop`.", "", "The header looks like `Authorization: Bearer <token>`.",
])
add("docs/incident-2026-03.md", [
    "# Incident 2026-03: leaked token", "", "The token below was pasted into a ticket and has been revoked:", "",
    ("Generic API key", f"    api_key: {S('Generic API key')}"), "", "Request id " + uuid() + " shows the first use.",
])
add("data/users.sql", [
    "INSERT INTO users (email, password_hash) VALUES", "  ('ada@acme.io', '$2b$12$" + r(ALNUM + "./", 53) + "'),",
    "  ('bob@acme.io', '$2b$12$" + r(ALNUM + "./", 53) + "');",
    ("Password", f"CREATE USER reporting WITH PASSWORD '{S('Password')}';"),
])
add("web/styles.css", [
    ".logo {", "  background-image: url(data:image/png;base64," + base64.b64encode(bytes(rng.getrandbits(8) for _ in range(600))).decode() + ");", "}",
])
add("web/index.html", [
    "<!doctype html>", "<html>", "<head>",
    "<script src=\"https://cdn.acme.io/app.js\" integrity=\"sha384-" + base64.b64encode(bytes(rng.getrandbits(8) for _ in range(48))).decode() + "\" crossorigin=\"anonymous\"></script>",
    "<meta name=\"csrf-token\" content=\"{{ csrf_token }}\">", "</head>", "<body>",
    "<input type=\"password\" name=\"password\" placeholder=\"Password\">", "</body>", "</html>",
])
add("web/package-lock.json", [
    "{", "  \"name\": \"web\",", "  \"lockfileVersion\": 3,", "  \"packages\": {",
    *[f"    \"node_modules/pkg{i}\": {{ \"version\": \"1.0.{i}\", \"integrity\": \"sha512-{base64.b64encode(bytes(rng.getrandbits(8) for _ in range(64))).decode()}\" }}," for i in range(6)],
    "    \"node_modules/last\": { \"version\": \"2.0.0\" }", "  }", "}",
])
add("web/yarn.lock", [
    *[f"pkg{i}@^1.0.0:\n  version \"1.0.{i}\"\n  resolved \"https://registry.yarnpkg.com/pkg{i}/-/pkg{i}-1.0.{i}.tgz#{r(HEX, 40)}\"\n  integrity sha512-{base64.b64encode(bytes(rng.getrandbits(8) for _ in range(64))).decode()}\n" for i in range(4)],
])
add("data/fixtures.json", [
    "{", "  \"ids\": [\"" + uuid() + "\", \"" + uuid() + "\"],", "  \"commit\": \"" + r(HEX, 40) + "\",",
    "  \"checksum\": \"sha256:" + r(HEX, 64) + "\",", "  \"token_type\": \"bearer\",", "  \"api_key\": \"${API_KEY}\",",
    f"  \"github\": \"ghp_{r(ALNUM, 36)}\",", "  \"nonce\": \"" + r(HEX, 32) + "\"", "}",
])
add("data/http-requests.http", [
    "GET https://api.acme.io/v1/orders", ("Basic auth", "Authorization: Basic " + base64.b64encode(f"reporting:{pw()}".encode()).decode()),
    "", "###", "GET https://api.acme.io/v1/me", "Authorization: Bearer {{token}}",
])
add("data/netrc", [("Password", f"machine api.acme.io login deploy password {pw()}")])

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "crates", "secrets", "tests", "data", "corpus")
out = os.path.abspath(out)
if os.path.isdir(out):
    shutil.rmtree(out)
for path, text in files.items():
    full = os.path.join(out, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write(text)
with open(out.rstrip("/") + "-labels.tsv", "w") as f:
    f.write("# path\tfirst_line\tlast_line\tprovider\n")
    for path, first, last, provider in labels:
        f.write(f"{path}\t{first}\t{last}\t{provider}\n")
providers = sorted({p for *_, p in labels})
exts = sorted({os.path.splitext(p)[1] or os.path.basename(p) for p in files})
print(f"{out}: {len(files)} files, {len(labels)} labelled secrets, {len(providers)} providers, {len(exts)} file types")
