#!/usr/bin/env python3
"""Generate a source tree of a given size for bench/secrets.sh.

No public repository can be downloaded here, so the tree is built from the
real source code already on the machine (the Cargo registry's crate sources,
Python's standard library), copied into shards until the size is reached.
Every copy gets a unique first line, so scanners that skip identical
content (by blob hash) still have to read every file. One file in 2,000
gets a planted secret, so every scanner has something to report.

usage: secrets_gen_tree.py OUT_DIR SIZE_MB
"""
import base64
import os
import random
import string
import sys
import zlib

EXTS = {".rs", ".py", ".js", ".ts", ".go", ".java", ".c", ".h", ".cc", ".toml", ".yaml",
        ".yml", ".json", ".md", ".txt", ".html", ".css", ".sh", ".rb", ".xml", ".cfg", ".ini"}
SOURCES = [os.path.expanduser("~/.cargo/registry/src"), "/usr/lib/python3", "/usr/lib/python3.11",
           os.path.join(os.path.dirname(os.__file__))]
B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def corpus():
    seen = set()
    files = []
    for root in SOURCES:
        for d, _, names in os.walk(root):
            for n in names:
                p = os.path.join(d, n)
                if os.path.splitext(n)[1] not in EXTS or p in seen:
                    continue
                try:
                    size = os.path.getsize(p)
                except OSError:
                    continue
                if 0 < size <= 256 * 1024:
                    seen.add(p)
                    files.append(p)
    files.sort()
    return files


def github_token(rng):
    body = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(30))
    n = zlib.crc32(body.encode()) & 0xFFFFFFFF
    check = ""
    for _ in range(6):
        check = B62[n % 62] + check
        n //= 62
    return f"ghp_{body}{check}"


def planted(rng):
    r = lambda alpha, k: "".join(rng.choice(alpha) for _ in range(k))
    kind = rng.randrange(4)
    if kind == 0:
        return "AWS_ACCESS_KEY_ID = 'AKIA" + r("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16) + "'\n"
    if kind == 1:
        return f"GITHUB_TOKEN = '{github_token(rng)}'\n"
    if kind == 2:
        return "stripe_key = 'sk_live_" + r(string.ascii_letters + string.digits, 24) + "'\n"
    body = base64.b64encode(bytes(rng.getrandbits(8) for _ in range(120))).decode()
    return f"KEY = '''-----BEGIN RSA PRIVATE KEY-----\n{body[:64]}\n{body[64:]}\n-----END RSA PRIVATE KEY-----'''\n"


def main():
    out, size_mb = sys.argv[1], int(sys.argv[2])
    target = size_mb * 1024 * 1024
    rng = random.Random(1)
    files = corpus()
    if not files:
        sys.exit("no source files found to copy")
    written = count = plants = 0
    shard = 0
    while written < target:
        for src in files:
            if written >= target:
                break
            try:
                with open(src, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            rel = os.path.relpath(src, "/").replace(os.sep, "_")[-120:]
            dest = os.path.join(out, f"shard{shard:03d}", f"d{count % 97:02d}", rel)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            head = f"# generated copy {shard}-{count}\n".encode()
            extra = b""
            if count % 2000 == 1999:
                extra = planted(rng).encode()
                plants += 1
            with open(dest, "wb") as f:
                f.write(head + data + b"\n" + extra)
            written += len(head) + len(data) + 1 + len(extra)
            count += 1
        shard += 1
    print(f"{out}: {count} files, {written / 1e6:.0f} MB, {plants} planted secrets")


if __name__ == "__main__":
    main()
