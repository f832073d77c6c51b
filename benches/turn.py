#!/usr/bin/env python3
"""Benchmark: the TURN relay test, voipdiag nat-probe --turn vs coturn's turnutils_uclient -y
(client-to-client traffic through the relay), in the TURN lab (tests/lab/turn-lab.sh: coturn
behind a real symmetric NAT, network namespaces), in one run; and the time to a verdict on a
silent server. Root only; needs coturn, nftables, openssl, conntrack.

  sudo benches/turn.py [--runs N] [--write BENCHMARKS.md]

Each tool runs N times (whole process, wall time); the table shows the median and whether
the run proved media both ways without loss. Every run is bounded by a 60 s timeout (30 s
against the silent server).
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB = os.path.join(ROOT, "tests/lab/turn-lab.sh")
BIN = os.path.join(ROOT, "target/release/voipdiag")
PREFIX = f"vq{os.getpid() % 10000}"
SERVER = "203.0.113.10"
SILENT = "203.0.113.18"  # its packets are dropped at the router: nothing answers, no ICMP


def voipdiag(server, extra=()):
    return [BIN, "nat-probe", "--json", "--turn-only", "--turn", f"turn:{server}",
            "--turn-user", "alice", "--turn-password", "secret-pw", *extra]


def uclient(server):
    # -y: client-to-client through two allocations; 10 messages of 172 bytes (RTP-sized).
    return ["turnutils_uclient", "-y", "-u", "alice", "-w", "secret-pw", "-n", "10", "-l",
            "172", "-m", "1", server]


def ok_voipdiag(out):
    try:
        r = json.loads(out[out.index("{"):].splitlines()[0])["result"]["turn"][0]
    except Exception:
        return False, "unparsable"
    m = r.get("media") or {}
    good = r["status"] == "works" and m.get("loss_pct") == 0.0
    return good, f"{r['status']}, in {m.get('inbound', {}).get('received')}/{m.get('inbound', {}).get('sent')}, out {m.get('outbound', {}).get('received')}/{m.get('outbound', {}).get('sent')}"


def ok_uclient(out):
    sent = re.findall(r"tot_send_msgs=(\d+), tot_recv_msgs=(\d+)", out)
    lost = re.search(r"Total lost packets (\d+)", out)
    if not sent or not lost:
        return False, "no result"
    s, r = map(int, sent[-1])
    return s > 0 and s == r and lost.group(1) == "0", f"sent {s}, received {r}"


def verdict_silent_voipdiag(out):
    try:
        v = json.loads(out[out.index("{"):].splitlines()[0])
    except Exception:
        return False, "unparsable"
    codes = [f["code"] for f in v["findings"]]
    return "TURN_SERVER_UNREACHABLE" in codes, f"{v['status']}: TURN_SERVER_UNREACHABLE"


def verdict_silent_uclient(out, code):
    if code is None:
        return False, "still running at the bound"
    return code != 0, f"exit {code}"


def measure(ns, argv, runs, parse, timeout=60):
    times, verdicts = [], []
    for _ in range(runs):
        t, code, out = benchlib.run_in(ns, argv, timeout)
        times.append(t)
        verdicts.append(parse(out) if parse.__code__.co_argcount == 1 else parse(out, code))
    return statistics.median(times), all(v[0] for v in verdicts), verdicts[0][1], max(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--write", help="replace the turn section of this markdown file")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("benchmark needs root (network namespaces)")
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    subprocess.run([LAB, "up", PREFIX, "symmetric"], check=True)
    ns = PREFIX + "c"
    rows = []
    try:
        subprocess.run(["ip", "netns", "exec", PREFIX + "r", "nft", "-f", "-"], check=True,
                       input=f"table ip silent {{\n chain silent_drop {{\n  type filter hook forward priority 0;\n  ip daddr {SILENT} drop\n }}\n}}\n",
                       text=True)
        cases = [
            ("relay test, 10 packets each way per mechanism", [
                ("voipdiag nat-probe --turn (self: indications + channel, 2 × 10 each way)", voipdiag(SERVER), ok_voipdiag, 60),
                ("voipdiag nat-probe --turn --turn-count 1 (protocol only)", voipdiag(SERVER, ["--turn-count", "1"]), ok_voipdiag, 60),
                ("turnutils_uclient -y -n 10 -l 172 -m 1", uclient(SERVER), ok_uclient, 60),
            ]),
            ("silent server (packets dropped, no ICMP)", [
                ("voipdiag nat-probe --turn (--timeout 3s, the default)", voipdiag(SILENT), verdict_silent_voipdiag, 30),
                ("turnutils_uclient -y", uclient(SILENT), verdict_silent_uclient, 30),
            ]),
        ]
        for case, tools in cases:
            results = []
            for name, argv, parse, timeout in tools:
                med, good, verdict, worst = measure(ns, argv, a.runs, parse, timeout)
                results.append((name, med, good, verdict, worst, timeout))
            best_other = min((r[1] for r in results if not r[0].startswith("voipdiag") and r[2]), default=None)
            for name, med, good, verdict, worst, timeout in results:
                ratio = ""
                if name.startswith("voipdiag") and best_other:
                    ratio = f"{med / best_other:.3f}"
                shown = f"{med * 1000:.0f} ms" if worst < timeout else f"> {timeout} s (killed)"
                rows.append(f"| {case} | {name} | {verdict} | {'yes' if good else '**no**'} | {shown} | {ratio} |")
                print(rows[-1], flush=True)
    finally:
        subprocess.run([LAB, "down", PREFIX], check=False)
    table = ("| case | tool | result | right? | median time | ratio vs the other tool |\n"
             "|---|---|---|---|---|---|\n" + "\n".join(rows))
    if a.write:
        benchlib.write_section(a.write, "turn", f", {a.runs} runs per tool, median wall time of the whole process.", table)
    else:
        print(table)


if __name__ == "__main__":
    main()
