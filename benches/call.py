#!/usr/bin/env python3
"""Benchmark: voipdiag call vs sipp (and baresip, sipx-cli when installed) in the lab of
tests/lab/rtp-lab.sh (caller a, router r, callee b; the callee's media port is 6100, which the
router's loss rule does not touch), in one run. Root only; needs sip-tester (sipp).

  sudo benches/call.py [--runs N] [--write BENCHMARKS.md]

Rows (median wall time of the whole process over N runs, and whether each run did what it
should):
  - a call that is answered and hung up at once (voipdiag --duration 0, sipp uac -d 0);
  - a 3 s call with G.711 both ways against sipp -rtp_echo (voipdiag --echo --duration 3s,
    sipp playing 3 s from a pcap, baresip -t 4);
  - time to a verdict on a closed port (ICMP) and on a silent host (2 s timeout);
  - the jitter of each sender's schedule as the far end measures it (a voipdiag --answer in
    b, RFC 3550 interarrival jitter, mean);
  - peak memory (maximum RSS) of the 3 s call.
"""
import argparse
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB = os.path.join(ROOT, "tests/lab/rtp-lab.sh")
BIN = os.path.join(ROOT, "target/release/voipdiag")
SCENARIO_3S = os.path.join(ROOT, "benches/sipp-uac-3s.xml")
PCAP_3S = "/tmp/voipdiag-bench-3s.pcap"
PREFIX = f"vb{os.getpid() % 10000}"
CALLEE = "10.79.2.2"
CALLER = "10.79.1.2"


def ns(role):
    return PREFIX + role


def run(role, argv, timeout=60):
    return benchlib.run_in(ns(role), argv, timeout)


def write_pcap_3s(path):
    """150 G.711 µ-law packets of 20 ms (silence), Ethernet/IPv4/UDP, for sipp's
    play_pcap_audio (it keeps the timing and payloads, and rewrites the addresses)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for k in range(150):
            rtp = struct.pack("!BBHII", 0x80, 0, k, k * 160, 0x5EED) + b"\xff" * 160
            udp = struct.pack("!HHHH", 6000, 6100, 8 + len(rtp), 0) + rtp
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), k, 0, 64, 17, 0,
                             bytes([10, 79, 1, 2]), bytes([10, 79, 2, 2])) + udp
            frame = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00" + ip
            t = k * 20_000
            f.write(struct.pack("<IIII", t // 1_000_000, t % 1_000_000, len(frame), len(frame)))
            f.write(frame)


def baresip_config(d):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config"), "w") as f:
        f.write(f"""sip_listen {CALLER}:5080
module_path /usr/lib/baresip/modules
module g711.so
module ausine.so
module aufile.so
module menu.so
module account.so
module rtcpsummary.so
audio_source ausine,1000
audio_player aufile,/tmp/voipdiag-bench-baresip.wav
ausrc_srate 48000
auplay_srate 48000
ausrc_channels 2
auplay_channels 2
""")
    with open(os.path.join(d, "accounts"), "w") as f:
        f.write(f"<sip:bench@{CALLER}>;regint=0\n")


def uas(extra=()):
    """sipp as the callee in b, echoing RTP, for as many calls as come."""
    argv = ["ip", "netns", "exec", ns("b"), "sipp", "-sn", "uas", "-i", CALLEE, "-mi", CALLEE,
            "-mp", "6100", "-rtp_echo", "-nostdin"] + list(extra)
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/tmp")
    time.sleep(0.5)
    return p


def answerer(seconds):
    """voipdiag --answer in b (media on 6100): its report says what it measured of the
    caller's RTP."""
    argv = ["ip", "netns", "exec", ns("b"), BIN, "--json", "call", "--answer", "--listen",
            CALLEE, "--rtp-port", "6100", "--wait", f"{seconds}s"]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd="/tmp",
                         text=True)
    time.sleep(0.4)
    return p


def median_ms(ts):
    return statistics.median(ts) * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--write", help="replace the call section of this markdown file")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("benchmark needs root (network namespaces)")
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    write_pcap_3s(PCAP_3S)
    subprocess.run([LAB, "up", PREFIX], check=True)
    rows = []
    try:
        # The silent host: the router drops SIP to port 5070.
        subprocess.run(["ip", "netns", "exec", ns("r"), "nft", "add rule inet loss forward udp dport 5070 drop"], check=True)
        callee = uas()
        cases = [
            ("answered, hung up at once", "voipdiag call --duration 0",
             [BIN, "--json", "call", f"sip:service@{CALLEE}", "--duration", "0"],
             lambda rc, out: rc == 0 and '"outcome":"answered"' in out),
            ("answered, hung up at once", "sipp -sn uac -d 0 -m 1",
             ["sipp", "-sn", "uac", f"{CALLEE}:5060", "-i", CALLER, "-m", "1", "-d", "0", "-nostdin"],
             lambda rc, out: rc == 0),
            ("3 s call, G.711 both ways", "voipdiag call --echo --duration 3s",
             [BIN, "--json", "call", f"sip:service@{CALLEE}", "--echo", "--duration", "3s"],
             lambda rc, out: rc == 0 and '"returned":150' in out),
            ("3 s call, G.711 both ways", "sipp -sf uac-3s (play_pcap_audio)",
             ["sipp", "-sf", SCENARIO_3S, f"{CALLEE}:5060", "-i", CALLER, "-m", "1", "-nostdin"],
             lambda rc, out: rc == 0),
            ("closed port (ICMP)", "voipdiag call --timeout 5s",
             [BIN, "--json", "--timeout", "5s", "call", f"sip:x@{CALLEE}:5999"],
             lambda rc, out: rc == 3 and '"outcome":"unreachable"' in out),
            ("closed port (ICMP)", "sipp -sn uac -recv_timeout 5000",
             ["sipp", "-sn", "uac", f"{CALLEE}:5999", "-i", CALLER, "-m", "1", "-nostdin",
              "-recv_timeout", "5000", "-timeout", "10s"],
             lambda rc, out: rc != 0),
            ("silent host", "voipdiag call --timeout 2s",
             [BIN, "--json", "--timeout", "2s", "call", f"sip:x@{CALLEE}:5070"],
             lambda rc, out: rc == 3 and '"outcome":"no-answer"' in out),
            ("silent host", "sipp -sn uac -recv_timeout 2000",
             ["sipp", "-sn", "uac", f"{CALLEE}:5070", "-i", CALLER, "-m", "1", "-nostdin",
              "-recv_timeout", "2000", "-timeout", "10s"],
             lambda rc, out: rc != 0),
        ]
        sipx = shutil.which("sipx") or os.path.expanduser("~/.cargo/bin/sipx")
        if os.path.exists(sipx):
            null = ["--audio-input", "null", "--audio-output", "null", "--local", f"{CALLER}:0",
                    "--allow-media-range-overlap"]
            cases += [
                ("answered, hung up at once", "sipx dial --duration 0",
                 [sipx, "--json", "dial", f"sip:service@{CALLEE}", "--duration", "0"] + null,
                 lambda rc, out: rc == 0 and '"answered"' in out),
                ("3 s call, G.711 both ways", "sipx dial --duration 3 (no RTP counts)",
                 [sipx, "--json", "dial", f"sip:service@{CALLEE}", "--duration", "3"] + null,
                 lambda rc, out: rc == 0 and '"answered"' in out),
                ("closed port (ICMP)", "sipx dial --timeout 5",
                 [sipx, "--json", "dial", f"sip:x@{CALLEE}:5999", "--timeout", "5"] + null,
                 lambda rc, out: rc != 0),
                ("silent host", "sipx dial --timeout 2",
                 [sipx, "--json", "dial", f"sip:x@{CALLEE}:5070", "--timeout", "2"] + null,
                 lambda rc, out: rc != 0),
            ]
        if shutil.which("baresip"):
            cfg = "/tmp/voipdiag-bench-baresip"
            baresip_config(cfg)
            cases.append(("3 s call, G.711 both ways", "baresip -e /dial -t 4 (no report)",
                          ["baresip", "-f", cfg, "-e", f"/dial sip:service@{CALLEE}", "-t", "4"],
                          lambda rc, out: "Call established" in out))
        times = {c[1]: [] for c in cases}
        ok = {c[1]: True for c in cases}
        for _ in range(a.runs):
            for kind, name, argv, check in cases:
                t, rc, out = run("a", argv, timeout=30)
                times[name].append(t)
                if rc is None or not check(rc, out):
                    ok[name] = False
        # Peak memory of the 3 s call.
        mem = {}
        for name, argv in [("voipdiag call --echo --duration 3s", cases[2][2]),
                           ("sipp -sf uac-3s (play_pcap_audio)", cases[3][2])]:
            _, _, out = run("a", ["/usr/bin/time", "-f", "MAXRSS %M"] + argv, timeout=30)
            kb = [int(line.split()[1]) for line in out.splitlines() if line.startswith("MAXRSS")]
            mem[name] = kb[-1] if kb else None
        callee.terminate()
        callee.wait()
        # The send schedule as the far end measures it.
        jitter = {}
        for name, argv in [
            ("voipdiag call (10 s)", [BIN, "call", f"sip:x@{CALLEE}", "--duration", "10s"]),
            ("sipp play_pcap_audio (3 s)", ["sipp", "-sf", SCENARIO_3S, f"{CALLEE}:5060", "-i",
                                            CALLER, "-m", "1", "-nostdin"]),
        ]:
            b = answerer(20)
            run("a", argv, timeout=30)
            out, _ = b.communicate(timeout=30)
            try:
                m = json.loads(out)["result"]["media"]["inbound"]
                jitter[name] = (m["jitter_mean_ms"], m["jitter_max_ms"], m["packets"])
            except (ValueError, KeyError, TypeError):
                jitter[name] = None
    finally:
        subprocess.run([LAB, "down", PREFIX])

    kinds = []
    for c in cases:
        if c[0] not in kinds:
            kinds.append(c[0])
    lines = ["| case | tool | every run right? | median time | ratio vs fastest right other tool |",
             "|---|---|---|---|---|"]
    for kind in kinds:
        of = [c[1] for c in cases if c[0] == kind]
        ours = [n for n in of if n.startswith("voipdiag")][0]
        others = [n for n in of if not n.startswith("voipdiag")]
        best = min((median_ms(times[n]) for n in others if ok[n]), default=None)
        for n in of:
            ratio = f"{median_ms(times[n]) / best:.3f}" if n == ours and best else ""
            lines.append(f"| {kind} | {n} | {'yes' if ok[n] else '**no**'} | "
                         f"{median_ms(times[n]):.0f} ms | {ratio} |")
    lines.append("")
    lines.append("| sender | far end's mean / max jitter | packets |")
    lines.append("|---|---|---|")
    for name, j in jitter.items():
        lines.append(f"| {name} | " + (f"{j[0]:.3f} / {j[1]:.3f} ms | {j[2]} |" if j else "no report | |"))
    lines.append("")
    lines.append("| 3 s call | peak memory (max RSS) |")
    lines.append("|---|---|")
    for name, kb in mem.items():
        lines.append(f"| {name} | {kb / 1024:.1f} MiB |" if kb else f"| {name} | ? |")
    text = "\n".join(lines)
    print(text)
    if a.write:
        benchlib.write_section(a.write, "call", f", {a.runs} runs per tool, median wall time of the whole process", text)


if __name__ == "__main__":
    main()
