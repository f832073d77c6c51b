#!/usr/bin/env python3
"""Benchmark: voipdiag sip-options vs sipsak (one OPTIONS, whole process) and vs sipp
(OPTIONS transactions per second at full rate), against kamailio on loopback in the lab of
tests/lab/sip-lab.sh, in one run. Root only; needs kamailio, sipsak, sip-tester (sipp).

  sudo benches/sip.py [--runs N] [--transactions N] [--write BENCHMARKS.md]

Single OPTIONS: each tool runs N times, interleaved, in the server's namespace against its
loopback address; the table shows the median wall time of the whole process and checks that
every run got 200. Throughput: N OPTIONS transactions (whole process, wall time); sipp runs
with several rate/limit settings and its best is kept. Every run is bounded by a timeout.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402  (shared section writer)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB = os.path.join(ROOT, "tests/lab/sip-lab.sh")
BIN = os.path.join(ROOT, "target/release/voipdiag")
SCENARIO = os.path.join(ROOT, "benches/sipp-options.xml")
PREFIX = f"vq{os.getpid() % 10000}"
SERVER = "198.51.100.10"


def run(argv, timeout=120):
    return benchlib.run_in(PREFIX + "s", argv, timeout)


SINGLE = [
    ("voipdiag sip-options --no-alg-check", [BIN, "sip-options", SERVER, "--no-alg-check"]),
    ("voipdiag sip-options (with ALG check: 2 OPTIONS)", [BIN, "sip-options", SERVER]),
    ("sipsak -s", ["sipsak", "-s", f"sip:{SERVER}"]),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--transactions", type=int, default=20000)
    ap.add_argument("--write", help="replace the sip section of this markdown file")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("benchmark needs root (network namespaces)")
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    subprocess.run([LAB, "up", PREFIX], check=True)
    try:
        times = {name: [] for name, _ in SINGLE}
        for _ in range(a.runs):
            for name, argv in SINGLE:
                t, rc, out = run(argv, timeout=30)
                if rc != 0:
                    sys.exit(f"{name} failed (exit {rc}): {out}")
                times[name].append(t)
        single = [(name, statistics.median(ts)) for name, ts in times.items()]
        sipsak = dict(single)["sipsak -s"]
        for name, t in single:
            print(f"{name:50} {t*1000:7.2f} ms  ratio {t / sipsak:.2f}", flush=True)

        n = a.transactions
        rates = []
        for par in (1, 2, 4):
            argv = [BIN, "--json", "sip-options", SERVER, "--count", str(n), "--interval", "0",
                    "--parallel", str(par), "--no-alg-check"]
            t, rc, out = run(argv)
            ok = rc == 0 and f'"received":{n}' in out.replace(" ", "")
            rates.append((f"voipdiag sip-options --count {n} --interval 0 --parallel {par}", n / t, ok))
        for opts in (["-r", "10000"], ["-r", "20000", "-l", "1000"], ["-r", "100000", "-l", "100"]):
            argv = ["sipp", "-sf", SCENARIO, f"{SERVER}:5060", "-i", SERVER, "-m", str(n),
                    "-nostdin", "-timeout", "60s"] + opts
            t, rc, out = run(argv)
            m = re.search(r"Successful call\s*\|\s*\d+\s*\|\s*(\d+)", out)
            ok = rc == 0 and m is not None and int(m.group(1)) == n
            rates.append((f"sipp {' '.join(opts)}", n / t, ok))
        for name, r, ok in rates:
            print(f"{name:60} {r:9.0f} OPTIONS/s  {'all 200' if ok else 'INCOMPLETE'}", flush=True)
    finally:
        subprocess.run([LAB, "down", PREFIX])

    best_sipp = max(r for name, r, ok in rates if name.startswith("sipp") and ok)
    best_mine = max(r for name, r, ok in rates if name.startswith("voipdiag") and ok)
    lines = ["| single OPTIONS (whole process) | median | ratio vs sipsak |", "|---|---|---|"]
    for name, t in single:
        lines.append(f"| `{name}` | {t*1000:.2f} ms | {t / sipsak:.2f} |")
    lines += ["", "| throughput | OPTIONS/s | all answered 200? |", "|---|---|---|"]
    for name, r, ok in rates:
        lines.append(f"| `{name}` | {r:.0f} | {'yes' if ok else '**no**'} |")
    lines.append("")
    lines.append(f"Best voipdiag / best sipp throughput: **{best_mine / best_sipp:.2f}**.")
    text = "\n".join(lines)
    print("\n" + text)
    if a.write:
        benchlib.write_section(a.write, "sip", f": {a.runs} interleaved runs per single-OPTIONS tool, {n} transactions per throughput run.", text)


if __name__ == "__main__":
    main()
