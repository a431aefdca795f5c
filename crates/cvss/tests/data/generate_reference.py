#!/usr/bin/env python3
"""Regenerate reference_v3.tsv and reference_v4.tsv: random vectors scored by an
independent implementation, Red Hat's `cvss` package from PyPI (a port of FIRST's
calculators; its CVSS 4.0 code follows FIRST's cvss_score.js).

    python3 -m venv /tmp/cvss-venv && /tmp/cvss-venv/bin/pip install cvss==3.6
    /tmp/cvss-venv/bin/python crates/cvss/tests/data/generate_reference.py

The seed is fixed, so the same package version writes the same files.

With --all-base it prints every base vector (104,976 of CVSS 4.0, 2,592 each of 3.1 and
3.0) with its reference score
instead, for the ignored full-sweep test in tests/reference.rs:

    /tmp/cvss-venv/bin/python crates/cvss/tests/data/generate_reference.py --all-base > /tmp/cvss-sweep.tsv
    RAMPART_CVSS_SWEEP=/tmp/cvss-sweep.tsv cargo test -p rampart-cvss --test reference -- --ignored
    node crates/cvss/tests/js/agree.js   # (agree.js reads RAMPART_CVSS_SWEEP too)
"""

import itertools
import pathlib
import random
import sys

from cvss import CVSS3, CVSS4

HERE = pathlib.Path(__file__).resolve().parent

V3 = [
    ("AV", "NALP", True), ("AC", "LH", True), ("PR", "NLH", True), ("UI", "NR", True),
    ("S", "UC", True), ("C", "HLN", True), ("I", "HLN", True), ("A", "HLN", True),
    ("E", "XHFPU", False), ("RL", "XUWTO", False), ("RC", "XCRU", False),
    ("CR", "XHML", False), ("IR", "XHML", False), ("AR", "XHML", False),
    ("MAV", "XNALP", False), ("MAC", "XLH", False), ("MPR", "XNLH", False),
    ("MUI", "XNR", False), ("MS", "XUC", False), ("MC", "XHLN", False),
    ("MI", "XHLN", False), ("MA", "XHLN", False),
]

V4 = [
    ("AV", "NALP", True), ("AC", "LH", True), ("AT", "NP", True), ("PR", "NLH", True),
    ("UI", "NPA", True), ("VC", "HLN", True), ("VI", "HLN", True), ("VA", "HLN", True),
    ("SC", "HLN", True), ("SI", "HLN", True), ("SA", "HLN", True),
    ("E", "XAPU", False),
    ("CR", "XHML", False), ("IR", "XHML", False), ("AR", "XHML", False),
    ("MAV", "XNALP", False), ("MAC", "XLH", False), ("MAT", "XNP", False),
    ("MPR", "XNLH", False), ("MUI", "XNPA", False), ("MVC", "XHLN", False),
    ("MVI", "XHLN", False), ("MVA", "XHLN", False), ("MSC", "XHLN", False),
    ("MSI", "XSHLN", False), ("MSA", "XSHLN", False),
    ("S", "XNP", False), ("AU", "XNY", False), ("R", "XAUI", False), ("V", "XDC", False),
    ("RE", "XLMH", False), ("U", ["X", "Clear", "Green", "Amber", "Red"], False),
]


def vector(rng, prefix, table, optional_chance):
    parts = [prefix]
    for name, values, mandatory in table:
        if mandatory or rng.random() < optional_chance:
            parts.append(f"{name}:{rng.choice(list(values))}")
    return "/".join(parts)


def all_base():
    for prefix, table, score in [
        ("CVSS:4.0", V4, lambda v: CVSS4(v).base_score),
        ("CVSS:3.1", V3, lambda v: CVSS3(v).scores()[0]),
        ("CVSS:3.0", V3, lambda v: CVSS3(v).scores()[0]),
    ]:
        base = [(name, values) for name, values, mandatory in table if mandatory]
        for combo in itertools.product(*[values for _, values in base]):
            v = prefix + "/" + "/".join(f"{n}:{value}" for (n, _), value in zip(base, combo))
            print(f"{v}\t{score(v)}")


def main():
    if "--all-base" in sys.argv:
        all_base()
        return
    rng = random.Random(20261201)
    with (HERE / "reference_v3.tsv").open("w") as out:
        out.write("# vector\tbase\ttemporal\tenvironmental (Red Hat cvss 3.6)\n")
        for i in range(2000):
            prefix = "CVSS:3.0" if i % 4 == 0 else "CVSS:3.1"
            v = vector(rng, prefix, V3, 0.0 if i % 10 == 0 else 0.4)
            base, temporal, environmental = CVSS3(v).scores()
            out.write(f"{v}\t{base}\t{temporal}\t{environmental}\n")
    with (HERE / "reference_v4.tsv").open("w") as out:
        out.write("# vector\tscore (Red Hat cvss 3.6)\n")
        for i in range(2000):
            v = vector(rng, "CVSS:4.0", V4, 0.0 if i % 5 == 0 else 0.3)
            out.write(f"{v}\t{CVSS4(v).base_score}\n")


if __name__ == "__main__":
    main()
