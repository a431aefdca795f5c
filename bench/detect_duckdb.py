#!/usr/bin/env python3
"""bench/detect.sh's DuckDB peer: Sigma rules converted to SQL by pySigma's
DuckDB backend (PyPI pysigma-backend-duckdb), run by DuckDB over the same
gzipped CloudTrail files ({"Records": [...]}) that `rampart detect` reads.

  detect_duckdb.py convert SIGMA_DIR OUT.json
      Converts every rule (one query per rule); prints each rule that fails to
      convert, with the reason, on stderr, and a JSON summary on stdout.
  detect_duckdb.py run OUT.json DATA_DIR THREADS
      Runs the converted rules over every file under DATA_DIR with DuckDB's
      `threads` setting = THREADS; prints a JSON summary (events, matches per
      rule, query seconds). This step is what the benchmark times.

How the queries meet the files. The backend writes `SELECT * FROM logs WHERE
<condition>`, with dotted Sigma field names as quoted column names
("userIdentity.type"). `logs` is a view over read_json_objects (each file's
object as JSON) typed by from_json with an explicit structure (so DuckDB keeps
only the fields rules use and does not infer a schema from the whole of
CloudTrail): each record is unnested from Records, each field the rules
reference is one column. Fixed-shape objects (userIdentity,
tlsDetails, ...) are typed STRUCTs with VARCHAR leaves; the free-form objects
(requestParameters, responseElements, additionalEventData, serviceEventDetails)
and any object a rule compares as a whole are read as JSON, their sub-fields
taken with ->> (JSON path) and the whole as its JSON text.

All rules run in ONE scan (`count_if(<condition>)` per rule in a single
SELECT), not one scan per rule: that is the fastest way to run many rules over
files in DuckDB; running the 57 `SELECT *` queries one by one would read the
input 57 times.

Semantics are SQL's, not Sigma's (expected differences, noted in the output):
equality is case-sensitive (`=`), `NOT` over a missing field is NULL (not
true), paths do not reach into arrays, and comparisons against JSON objects
use DuckDB's minified JSON text.
"""

import json
import os
import pathlib
import sys
import time

FREE_FORM = {"requestParameters", "responseElements", "additionalEventData", "serviceEventDetails"}


def rule_fields(rule):
    """Every field name a rule's detection items (and field references) use."""
    from sigma.rule import SigmaDetection, SigmaDetectionItem
    from sigma.types import SigmaFieldReference

    out = set()

    def walk(d):
        if isinstance(d, SigmaDetection):
            for i in d.detection_items:
                walk(i)
        elif isinstance(d, SigmaDetectionItem):
            if d.field:
                out.add(d.field)
            for v in d.value:
                if isinstance(v, SigmaFieldReference):
                    out.add(v.field)

    for det in rule.detection.detections.values():
        walk(det)
    return out


def convert(sigma_dir, out_path):
    from sigma.collection import SigmaCollection
    from sigma_backend_duckdb import DuckDBBackend

    backend = DuckDBBackend()
    rules, failures = [], []
    paths = sorted(p for p in pathlib.Path(sigma_dir).rglob("*") if p.suffix in (".yml", ".yaml"))
    prefix = "SELECT * FROM logs WHERE "
    for p in paths:
        name = str(p.relative_to(sigma_dir))
        try:
            coll = SigmaCollection.from_yaml(p.read_text())
            for rule in coll.rules:
                queries = backend.convert_rule(rule)
                for q in queries:
                    if not isinstance(q, str) or not q.startswith(prefix):
                        raise ValueError(f"unexpected query shape: {q!r:.120}")
                    rules.append(
                        {
                            "file": name,
                            "title": rule.title,
                            "condition": q[len(prefix):],
                            "fields": sorted(rule_fields(rule)),
                        }
                    )
        except Exception as e:  # pySigma raises many types; each is a conversion failure
            reason = f"{type(e).__name__}: {e}".replace("\n", " ")
            failures.append({"file": name, "reason": reason})
            print(f"duckdb: {name}: not converted: {reason}", file=sys.stderr)
    with open(out_path, "w") as f:
        json.dump({"rules": rules, "failures": failures}, f, indent=1)
    print(json.dumps({"rule_files": len(paths), "queries": len(rules), "failed": len(failures)}))


def sql_str(s):
    return "'" + s.replace("'", "''") + "'"


def ident(s):
    return '"' + s.replace('"', '""') + '"'


def build_view(fields, files):
    """The `logs` view: one row per record, one column per referenced field."""
    whole = {f for f in fields if "." not in f}
    tree = {}  # top-level key -> nested dict of sub-paths (typed STRUCT parts)
    json_tops = set()
    for f in fields:
        top, _, rest = f.partition(".")
        if top in FREE_FORM or (rest and top in whole):
            json_tops.add(top)
        elif rest:
            node = tree.setdefault(top, {})
            parts = rest.split(".")
            for part in parts:
                node = node.setdefault(part, {})
        else:
            tree.setdefault(top, {})

    # from_json's structure argument: a JSON document whose leaves are type names.
    def structure(node):
        return {k: structure(v) for k, v in node.items()} if node else "VARCHAR"

    record = {k: structure(v) for k, v in sorted(tree.items()) if k not in json_tops}
    record.update({k: "JSON" for k in sorted(json_tops)})
    shape = json.dumps({"Records": [record]}, separators=(",", ":"))
    cols = []
    for f in sorted(fields):
        top, _, rest = f.partition(".")
        if top in json_tops:
            if rest:
                path = "$." + ".".join(ident(p) for p in rest.split("."))
                cols.append(f"r.{ident(top)}->>{sql_str(path)} AS {ident(f)}")
            else:
                cols.append(f"CAST(r.{ident(top)} AS VARCHAR) AS {ident(f)}")
        else:
            cols.append("r." + ".".join(ident(p) for p in f.split(".")) + f" AS {ident(f)}")
    file_list = "[" + ", ".join(sql_str(str(p)) for p in files) + "]"
    # read_json_objects hands each file's one object over as JSON text and
    # from_json types it in one go; read_json(..., columns = {Records: STRUCT[]})
    # gives the same rows but took 13x as long on these files (DuckDB 2.0.1).
    source = (
        f"read_json_objects({file_list}, format = 'auto', compression = 'gzip', "
        "maximum_object_size = 268435456) AS t(j)"
    )
    return (
        f"SELECT {', '.join(cols)} FROM "
        f"(SELECT unnest(from_json(j, {sql_str(shape)}).Records) AS r FROM {source})"
    )


def run(conv_path, data_dir, threads):
    import duckdb

    with open(conv_path) as f:
        conv = json.load(f)
    rules = conv["rules"]
    files = sorted(p for p in pathlib.Path(data_dir).rglob("*") if p.is_file())
    fields = set()
    for r in rules:
        fields.update(r["fields"])
    view = build_view(fields, files)
    aggs = ["count(*) AS events"]
    aggs += [f"count_if({r['condition']}) AS r{i}" for i, r in enumerate(rules)]
    aggs.append("count_if(" + " OR ".join(f"({r['condition']})" for r in rules) + ") AS matched_events")
    query = f"WITH logs AS ({view}) SELECT {', '.join(aggs)} FROM logs"
    con = duckdb.connect(config={"threads": threads, "preserve_insertion_order": False})
    started = time.perf_counter()
    row = con.execute(query).fetchall()[0]
    secs = time.perf_counter() - started
    per_rule = {}
    for i, r in enumerate(rules):
        if row[1 + i]:
            per_rule[r["title"]] = per_rule.get(r["title"], 0) + row[1 + i]
    events = row[0]
    print(
        json.dumps(
            {
                "tool": "duckdb",
                "duckdb": duckdb.__version__,
                "threads": threads,
                "rules_loaded": len(rules),
                "rules_failed": len(conv["failures"]),
                "files": len(files),
                "events": events,
                "matches": sum(per_rule.values()),
                "matched_events": row[-1],
                "rules_matching": len(per_rule),
                "per_rule": dict(sorted(per_rule.items())),
                "seconds": secs,
                "events_per_sec": events / secs if secs else 0,
            }
        )
    )
    if os.environ.get("DETECT_DUCKDB_SHOW_SQL"):
        print(query, file=sys.stderr)


def main(argv):
    if len(argv) == 4 and argv[1] == "convert":
        convert(argv[2], argv[3])
    elif len(argv) == 5 and argv[1] == "run" and argv[4].isdigit() and int(argv[4]) > 0:
        run(argv[2], argv[3], int(argv[4]))
    else:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
