#!/usr/bin/env python3
"""Writes a large synthetic pcap for the pcap-decode benchmark: CALLS concurrent G.711 A-law
calls, each set up by SIP over UDP (INVITE with SDP, 100, 180, 200 with SDP, ACK), RTP both
ways every 20 ms (214-byte frames) with 0-2 ms arrival noise and 0.5 % loss on every tenth
stream, torn down by BYE/200. Deterministic (seeded).

  benches/gen_capture.py OUT.pcap [--calls 300] [--mb 520]
"""
import argparse
import random
import struct

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--calls", type=int, default=300)
ap.add_argument("--mb", type=int, default=520, help="approximate size in MB")
args = ap.parse_args()
rnd = random.Random(7)

FRAME_RTP = 14 + 20 + 8 + 12 + 160
rtp_pps = args.calls * 2 * 50
seconds = int(args.mb * 1e6 / (rtp_pps * (FRAME_RTP + 16))) + 1


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def udp_frame(src, sport, dst, dport, payload):
    ulen = 8 + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, 0, 0x4000, 64, 17, 0, ip4(src), ip4(dst))
    return b"\x00\x00\x5e\x00\x53\x02\x00\x00\x5e\x00\x53\x01\x08\x00" + ip + struct.pack("!HHHH", sport, dport, ulen, 0) + payload


out = open(args.out, "wb", buffering=1 << 22)
out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))


def write(t, frame):
    out.write(struct.pack("<IIII", int(t), int(round((t - int(t)) * 1e6)) % 1000000, len(frame), len(frame)))
    out.write(frame)


def sdp(ip, port):
    return (f"v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
            "a=sendrecv\r\n")


def sip(first, call, cseq, method, a, b, body="", me=None):
    ct = "Content-Type: application/sdp\r\n" if body else ""
    return (f"{first}\r\nVia: SIP/2.0/UDP {a}:5060;branch=z9hG4bK{call}{cseq}{method}\r\n"
            f"From: <sip:a{call}@{a}>;tag=f{call}\r\nTo: <sip:b{call}@{b}>;tag=t{call}\r\n"
            f"Call-ID: bench-{call}@{a}\r\nCSeq: {cseq} {method}\r\nContact: <sip:{call}@{me or a}:5060>\r\n"
            f"{ct}Content-Length: {len(body)}\r\n\r\n{body}").encode()


T0 = 1_700_000_000.0
calls = []
for c in range(args.calls):
    a = f"10.{1 + c // 250}.{c % 250}.1"
    b = f"192.0.2.{1 + c % 250}"
    pa, pb = 20000 + 2 * c, 30000 + 2 * c
    t = T0 + c * 0.01
    steps = [
        (0.0, a, b, sip(f"INVITE sip:b{c}@{b} SIP/2.0", c, 1, "INVITE", a, b, sdp(a, pa))),
        (0.01, b, a, sip("SIP/2.0 100 Trying", c, 1, "INVITE", a, b)),
        (0.05, b, a, sip("SIP/2.0 180 Ringing", c, 1, "INVITE", a, b, me=b)),
        (0.5, b, a, sip("SIP/2.0 200 OK", c, 1, "INVITE", a, b, sdp(b, pb), me=b)),
        (0.51, a, b, sip(f"ACK sip:b{c}@{b} SIP/2.0", c, 1, "ACK", a, b)),
    ]
    for dt, s, d, m in steps:
        write(t + dt, udp_frame(s, 5060, d, 5060, m))
    calls.append((c, a, b, pa, pb, t + 0.6))

payload = bytes([0xD5]) * 160
streams = []
for c, a, b, pa, pb, start in calls:
    for (s, sp, d, dp) in ((a, pa, b, pb), (b, pb, a, pa)):
        head = udp_frame(s, sp, d, dp, b"\x00" * 172)[:42]
        streams.append([head, rnd.getrandbits(32), rnd.getrandbits(16), start, 0.005 if len(streams) % 10 == 0 else 0.0])
ticks = seconds * 50
for i in range(ticks):
    base = calls[0][5] + i * 0.02
    for st in streams:
        head, ssrc, seq0, start, loss = st
        if loss and rnd.random() < loss:
            continue
        rtp = struct.pack("!BBHII", 0x80, 8, (seq0 + i) & 0xFFFF, i * 160 & 0xFFFFFFFF, ssrc)
        write(base + (start - calls[0][5]) + rnd.random() * 0.002, head + rtp + payload)
end = calls[0][5] + ticks * 0.02 + 1
for c, a, b, pa, pb, start in calls:
    write(end + c * 0.01, udp_frame(a, 5060, b, 5060, sip(f"BYE sip:b{c}@{b} SIP/2.0", c, 2, "BYE", a, b)))
    write(end + c * 0.01 + 0.005, udp_frame(b, 5060, a, 5060, sip("SIP/2.0 200 OK", c, 2, "BYE", a, b, me=b)))
out.close()
