#!/usr/bin/env python3
"""Benchmark: voipdiag enum-lookup vs kdig (and dig, when installed) for the same lookups,
whole process, in one run, against knot in the lab of tests/lab/dns-lab.sh. Root only;
needs knot, knot-dnsutils (kdig), unbound.

  sudo benches/enum_lookup.py [--runs N] [--write BENCHMARKS.md]

Each tool runs N times, interleaved, in the lab's namespace; the table shows the median wall
time of the whole process. kdig/dig ask one NAPTR query and print raw records; voipdiag asks
the same query and does the whole DDDS (sort, regexps, findings, JSON). For the chained
number voipdiag follows two non-terminal records (three queries) where kdig asks one. Every
run is checked: voipdiag must exit 0 with the expected first URI, kdig must show the records.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402  (shared section writer)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB = os.path.join(ROOT, "tests/lab/dns-lab.sh")
BIN = os.path.join(ROOT, "target/release/voipdiag")
PREFIX = f"vb{os.getpid() % 10000}"
KNOT = "127.0.53.1"
RESOLVER = "127.0.53.2"
NAME = "1.2.3.3.9.7.9.1.3.4.e164.arpa"
CHAIN = "1.0.0.0.5.5.5.1.3.4.e164.arpa"


def run(argv, timeout=30):
    return benchlib.run_in(PREFIX + "d", argv, timeout)


def cases():
    out = [
        ("terminal NAPTRs, authoritative", "kdig",
         ["kdig", f"@{KNOT}", NAME, "NAPTR"], "E2U+sip"),
        ("terminal NAPTRs, authoritative", "voipdiag",
         [BIN, "--json", "enum-lookup", "+4319793321", "--server", KNOT],
         '"uri":"sip:info@example.com"'),
        ("terminal NAPTRs, validating resolver", "kdig",
         ["kdig", f"@{RESOLVER}", "+adflag", NAME, "NAPTR"], "E2U+sip"),
        ("terminal NAPTRs, validating resolver", "voipdiag",
         [BIN, "--json", "enum-lookup", "+4319793321", "--server", RESOLVER],
         '"uri":"sip:info@example.com"'),
        ("chain of 2 non-terminals, authoritative", "kdig (first query only)",
         ["kdig", f"@{KNOT}", CHAIN, "NAPTR"], "chain1"),
        ("chain of 2 non-terminals, authoritative", "voipdiag (3 queries)",
         [BIN, "--json", "enum-lookup", "+4315550001", "--server", KNOT],
         '"uri":"sip:chained@example.com"'),
    ]
    if shutil.which("dig"):
        out.insert(1, ("terminal NAPTRs, authoritative", "dig",
                       ["dig", f"@{KNOT}", NAME, "NAPTR"], "E2U+sip"))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--write", help="replace the enum section of this markdown file")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("benchmark needs root (network namespaces)")
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    subprocess.run([LAB, "up", PREFIX], check=True)
    todo = cases()
    times = {(c, t): [] for c, t, _, _ in todo}
    try:
        for _ in range(a.runs):
            for case, tool, argv, want in todo:
                t, rc, out = run(argv)
                if rc != 0 or want not in out:
                    sys.exit(f"{tool} ({case}) failed (exit {rc}): {out[:400]}")
                times[(case, tool)].append(t)
    finally:
        subprocess.run([LAB, "down", PREFIX])

    lines = ["| lookup | tool | median | ratio vs kdig |", "|---|---|---|---|"]
    summary = []
    for case in dict.fromkeys(c for c, _, _, _ in todo):
        kdig = next(statistics.median(ts) for (c, t), ts in times.items()
                    if c == case and t.startswith("kdig"))
        for (c, tool), ts in times.items():
            if c != case:
                continue
            m = statistics.median(ts)
            lines.append(f"| {case} | `{tool}` | {m*1000:.2f} ms | {m / kdig:.2f} |")
            if tool.startswith("voipdiag"):
                summary.append((case, m / kdig))
    lines.append("")
    for case, r in summary:
        lines.append(f"- {case}: voipdiag / kdig = **{r:.2f}**")
    text = "\n".join(lines)
    print(text)
    if a.write:
        benchlib.write_section(a.write, "enum", f": {a.runs} interleaved runs per tool.", text)


if __name__ == "__main__":
    main()
