#!/usr/bin/env python3
"""Build a large git history for bench/secrets.sh, with git fast-import.

COMMITS commits over several branches (a main line plus feature branches
merged back), each changing a few files with content copied from the real
source code on this machine (as in secrets_gen_tree.py), so the history
holds about SIZE_MB of distinct blobs. Secrets are planted in early commits
and deleted later, so they exist only in history.

usage: secrets_gen_history.py REPO_DIR COMMITS SIZE_MB
"""
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from secrets_gen_tree import corpus, planted  # noqa: E402


def main():
    repo, commits, size_mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    os.makedirs(repo, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True)
    rng = random.Random(7)
    sources = corpus()
    per_commit = size_mb * 1024 * 1024 // commits
    fi = subprocess.Popen(["git", "-C", repo, "fast-import", "--quiet", "--done"], stdin=subprocess.PIPE)
    w = fi.stdin.write
    mark = 0
    written = 0
    planted_n = 0
    branches = {"main": None}
    paths = [f"src/mod{i:03d}/file{j:02d}{os.path.splitext(sources[(i * 31 + j) % len(sources)])[1]}"
             for i in range(120) for j in range(40)]
    when = 1_600_000_000
    src_i = 0
    for c in range(commits):
        # Every 50 commits a feature branch starts; it is merged 25 commits later.
        if c % 50 == 10:
            branches[f"feature/{c}"] = branches["main"]
        branch = "main"
        feature = [b for b in branches if b != "main"]
        if feature and c % 3 == 0:
            branch = rng.choice(feature)
        parent = branches[branch]
        budget = per_commit
        changes = []
        while budget > 0:
            with open(sources[src_i % len(sources)], "rb") as f:
                data = f.read()
            src_i += 1
            body = f"// rev {c}-{src_i}\n".encode() + data
            if c < commits // 2 and c % 400 == 7:
                body += b"\n" + planted(rng).encode()
                planted_n += 1
            mark += 1
            w(b"blob\nmark :%d\ndata %d\n" % (mark, len(body)) + body + b"\n")
            changes.append((rng.choice(paths), mark))
            budget -= len(body)
            written += len(body)
        mark += 1
        commit_mark = mark
        when += 600
        msg = f"change {c}\n".encode()
        w(f"commit refs/heads/{branch}\nmark :{commit_mark}\n".encode())
        w(f"author Dev {c % 17} <dev{c % 17}@acme.io> {when} +0000\n".encode())
        w(f"committer Dev {c % 17} <dev{c % 17}@acme.io> {when} +0000\n".encode())
        w(b"data %d\n" % len(msg) + msg)
        if parent is not None:
            w(f"from :{parent}\n".encode())
        # Merge a feature branch back into main after 25 commits.
        merged = None
        if branch == "main":
            for b in feature:
                if c - int(b.split("/")[1]) > 25 and branches[b] is not None:
                    merged = b
                    break
            if merged:
                w(f"merge :{branches[merged]}\n".encode())
        for path, m in changes:
            w(f"M 100644 :{m} {path}\n".encode())
        # Late commits delete the files that held planted secrets' paths.
        if c > commits * 3 // 4 and c % 400 == 7:
            w(f"D {rng.choice(paths)}\n".encode())
        w(b"\n")
        branches[branch] = commit_mark
        if merged:
            del branches[merged]
    w(b"done\n")
    fi.stdin.close()
    if fi.wait() != 0:
        sys.exit("git fast-import failed")
    subprocess.run(["git", "-C", repo, "checkout", "-q", "main"], check=True)
    print(f"{repo}: {commits} commits, {written / 1e6:.0f} MB of blobs, {planted_n} planted secrets, "
          f"{len(branches)} open branches")


if __name__ == "__main__":
    main()
