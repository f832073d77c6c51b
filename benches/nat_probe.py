#!/usr/bin/env python3
"""Benchmark: time to a verdict and its correctness, voipdiag nat-probe vs coturn's
turnutils_natdiscovery (-m -f) vs stun-client's `stun`, in the lab topologies of
tests/lab/nat-lab.sh, in one run. Root only; needs coturn, stun-client, nftables.

  sudo benches/nat_probe.py [--runs N] [--write BENCHMARKS.md]

Each tool runs N times per topology (whole process, wall time); the table shows the median
and whether the verdict matched the topology's real mapping/filtering (checked by the lab
tests with an independent oracle). Every run is bounded by a 60 s timeout.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402  (shared section writer)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB = os.path.join(ROOT, "tests/lab/nat-lab.sh")
BIN = os.path.join(ROOT, "target/release/voipdiag")
PREFIX = f"vb{os.getpid() % 10000}"

EIM, ADM, APDM = "endpoint-independent", "address-dependent", "address-and-port-dependent"
TRUTH = {  # topology: (mapping, filtering); None = UDP blocked
    "open": (EIM, EIM),
    "firewall": (EIM, APDM),
    "full-cone": (EIM, EIM),
    "restricted-cone": (EIM, ADM),
    "port-restricted": (EIM, APDM),
    "symmetric": (APDM, APDM),
    "double-nat": (EIM, APDM),
    "udp-blocked": None,
}


def run(ns, argv, timeout=60):
    t, _, out = benchlib.run_in(ns, argv, timeout)
    return t, out


def verdict_voipdiag(out):
    try:
        r = json.loads(out.splitlines()[0])["result"]
    except Exception:
        return "unparsable"
    if r.get("udp_blocked"):
        return "udp-blocked"
    return (r["mapping"], r["filtering"])


def verdict_natdiscovery(out):
    def find(kind):
        for name, term in (("Endpoint Independent", EIM), ("Address and Port Dependent", APDM), ("Address Dependent", ADM)):
            if re.search(rf"{name} {kind}", out, re.I):
                return term
        return None
    m, f = find("Mapping"), find("Filtering")
    if m is None and f is None:
        return "no verdict"
    # natdiscovery prints "No NAT" style lines for open hosts; treat missing parts as unknown.
    return (m or "unknown", f or "unknown")


def verdict_stun(out):
    line = next((l for l in out.splitlines() if l.startswith("Primary:")), "")
    if not line:
        return "no verdict"
    if re.search(r"blocked|fail", line, re.I):
        return "udp-blocked"
    if "Open" in line:
        return (EIM, EIM)
    m = EIM if "Independent Mapping" in line else (APDM if "Dependent Mapping" in line else "unknown")
    if "Independent Filter" in line:
        f = EIM
    elif "Address Dependent Filter" in line:
        f = ADM
    elif "Port Dependent Filter" in line:
        f = APDM
    elif "Firewall" in line:
        f = APDM
    else:
        f = "unknown"
    return (m, f)


TOOLS = [
    ("voipdiag nat-probe", [BIN, "nat-probe", "--json", "--server", "203.0.113.10"], verdict_voipdiag),
    ("turnutils_natdiscovery -m -f", ["turnutils_natdiscovery", "-m", "-f", "203.0.113.10"], verdict_natdiscovery),
    ("stun (stun-client)", ["stun", "203.0.113.10"], verdict_stun),
]


def correct(topology, verdict):
    truth = TRUTH[topology]
    if truth is None:
        return verdict == "udp-blocked"
    return verdict == truth


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--write", help="replace the nat-probe section of this markdown file")
    ap.add_argument("--topologies", default=",".join(TRUTH))
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("benchmark needs root (network namespaces)")
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    rows = []
    for topo in a.topologies.split(","):
        subprocess.run([LAB, "up", PREFIX, topo], check=True)
        try:
            for name, argv, parse in TOOLS:
                times, verdicts = [], []
                for _ in range(a.runs):
                    t, out = run(PREFIX + "c", argv)
                    times.append(t)
                    verdicts.append(parse(out))
                ok = all(correct(topo, v) for v in verdicts)
                rows.append((topo, name, statistics.median(times), ok, verdicts[0]))
                print(f"{topo:16} {name:30} {statistics.median(times)*1000:9.0f} ms  {'right' if ok else 'WRONG'}  {verdicts[0]}", flush=True)
        finally:
            subprocess.run([LAB, "down", PREFIX])
    table = ["| topology | truth (mapping / filtering) | tool | verdict | right? | median time | ratio vs fastest right other tool |",
             "|---|---|---|---|---|---|---|"]
    for topo in a.topologies.split(","):
        mine = [r for r in rows if r[0] == topo]
        others = [r for r in mine if not r[1].startswith("voipdiag") and r[3]]
        fastest = min((r[2] for r in others), default=None)
        truth = TRUTH[topo]
        truth_s = "UDP blocked" if truth is None else f"{truth[0]} / {truth[1]}"
        for r in mine:
            verdict = r[4] if isinstance(r[4], str) else f"{r[4][0]} / {r[4][1]}"
            ratio = ""
            if r[1].startswith("voipdiag"):
                ratio = f"{r[2] / fastest:.3f}" if fastest else "no other tool right"
            table.append(f"| {topo} | {truth_s} | {r[1]} | {verdict} | {'yes' if r[3] else '**no**'} | {r[2]*1000:.0f} ms | {ratio} |")
    text = "\n".join(table)
    print("\n" + text)
    if a.write:
        benchlib.write_section(a.write, "nat-probe", f", {a.runs} runs per tool and topology, median wall time of the whole process.", text)


if __name__ == "__main__":
    main()
