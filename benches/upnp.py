#!/usr/bin/env python3
"""Benchmark: voipdiag upnp-map vs miniupnpc's upnpc and natpmpc, whole process, in one run,
against miniupnpd in the lab of tests/lab/upnp-lab.sh. Root only; needs miniupnpd-iptables,
miniupnpc, natpmpc, coturn.

  sudo benches/upnp.py [--runs N] [--write BENCHMARKS.md]

Gateway present (variant single): discovery + listing (`upnpc -i -l`, -i because miniupnpc
2.2 calls a gateway with a documentation-range WAN address "not connected") against
`voipdiag upnp-map list` (UPnP alone, and all three protocols at once); the external address
by NAT-PMP (`natpmpc -g`) against `voipdiag upnp-map --protocol natpmp`. N interleaved runs,
median. Silent LAN (variant none: the router drops SSDP and NAT-PMP without ICMP): each tool
once, bounded by `timeout`.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402  (shared section writer)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB = os.path.join(ROOT, "tests/lab/upnp-lab.sh")
BIN = os.path.join(ROOT, "target/release/voipdiag")
PREFIX = f"vb{os.getpid() % 10000}"
GW = "192.168.80.1"


def run(argv, timeout=200):
    return benchlib.run_in(PREFIX + "c", argv, timeout)


PRESENT = [
    ("discovery + list", "upnpc -i -l", ["upnpc", "-i", "-l"], "ExternalIPAddress = 203.0.113.1"),
    ("discovery + list", "voipdiag upnp-map list --protocol upnp",
     [BIN, "--json", "upnp-map", "list", "--protocol", "upnp"], '"external_address":"203.0.113.1"'),
    ("discovery + list", "voipdiag upnp-map list (UPnP, NAT-PMP, PCP at once)",
     [BIN, "--json", "upnp-map", "list"], '"external_address":"203.0.113.1"'),
    ("NAT-PMP external address", "natpmpc -g", ["natpmpc", "-g", GW], "Public IP address : 203.0.113.1"),
    ("NAT-PMP external address", "voipdiag upnp-map --protocol natpmp",
     [BIN, "--json", "upnp-map", "--protocol", "natpmp", "--gateway", GW],
     '"external_address":"203.0.113.1"'),
]

SILENT = [
    ("upnpc -i -l", ["upnpc", "-i", "-l"]),
    ("natpmpc -g", ["natpmpc", "-g", GW]),
    ("voipdiag upnp-map (--timeout 3s, the default)", [BIN, "--json", "upnp-map"]),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--write", help="replace the upnp section of this markdown file")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("benchmark needs root (network namespaces)")
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    times = {(c, t): [] for c, t, _, _ in PRESENT}
    subprocess.run([LAB, "up", PREFIX, "single"], check=True)
    try:
        time.sleep(4)  # miniupnpd's STUN check of its WAN address
        for _ in range(a.runs):
            for case, tool, argv, want in PRESENT:
                t, rc, out = run(argv, timeout=30)
                if want not in out:
                    sys.exit(f"{tool} failed (exit {rc}): {out[:500]}")
                times[(case, tool)].append(t)
    finally:
        subprocess.run([LAB, "down", PREFIX])
    silent = []
    subprocess.run([LAB, "up", PREFIX, "none"], check=True)
    try:
        for tool, argv in SILENT:
            t, rc, out = run(argv, timeout=200)
            silent.append((tool, t, rc))
            print(f"silent LAN: {tool}: {t:.2f} s (exit {rc})", flush=True)
    finally:
        subprocess.run([LAB, "down", PREFIX])

    lines = ["| gateway present | tool | median | ratio vs the other tool |", "|---|---|---|---|"]
    for case in dict.fromkeys(c for c, _, _, _ in PRESENT):
        base = next(statistics.median(ts) for (c, t), ts in times.items()
                    if c == case and not t.startswith("voipdiag"))
        for (c, tool), ts in times.items():
            if c == case:
                m = statistics.median(ts)
                lines.append(f"| {case} | `{tool}` | {m*1000:.1f} ms | {m / base:.3f} |")
    lines += ["", "| silent LAN (no gateway answers) | time | exit |", "|---|---|---|"]
    for tool, t, rc in silent:
        lines.append(f"| `{tool}` | {t:.2f} s | {rc if rc is not None else 'killed at 200 s'} |")
    text = "\n".join(lines)
    print(text)
    if a.write:
        benchlib.write_section(a.write, "upnp", f": {a.runs} interleaved runs per tool.", text)


if __name__ == "__main__":
    main()
