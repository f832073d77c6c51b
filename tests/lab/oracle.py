#!/usr/bin/env python3
"""Independent check of a lab topology's NAT behaviour, without STUN or coturn.

  oracle.py server          in the server namespace: UDP reflectors on
                            203.0.113.10:5000, 203.0.113.11:5000, 203.0.113.11:5001,
                            203.0.113.10:5001
  oracle.py client          in the client namespace: prints JSON
                            {"mapping", "filtering", "mapped_address", "udp"}

Mapping: one socket sends to .10:5000, .11:5000 and .11:5001, each reflector answers with
the source address it saw. Filtering: a fresh socket asks .10:5000 to have .11:5000
(other IP) and .10:5001 (same IP, other port) send to the address it saw; which of those
arrive tells endpoint-independent / address-dependent / address-and-port-dependent.
Every wait is bounded.
"""
import json
import select
import socket
import sys
import time

A = ("203.0.113.10", 5000)
B = ("203.0.113.11", 5000)
B2 = ("203.0.113.11", 5001)
A2 = ("203.0.113.10", 5001)


def server():
    socks = {}
    for addr in (A, B, B2, A2):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(addr)
        socks[addr] = s
    deadline = time.time() + 600  # bounded: the lab tears us down long before
    while time.time() < deadline:
        ready, _, _ = select.select(list(socks.values()), [], [], 1.0)
        for s in ready:
            data, peer = s.recvfrom(2048)
            seen = f"{peer[0]}:{peer[1]}".encode()
            if data.startswith(b"probe"):
                s.sendto(b"seen " + seen, peer)
            elif data.startswith(b"filter"):
                socks[B].sendto(b"from-other-ip", peer)
                socks[A2].sendto(b"from-other-port", peer)
                s.sendto(b"ack " + seen, peer)


def ask(sock, dest, msg, want, timeout=0.5, tries=3, others=None):
    """Sends msg until a reply starting with want arrives; other datagrams go to others."""
    for _ in range(tries):
        sock.sendto(msg, dest)
        end = time.time() + timeout
        while time.time() < end:
            r, _, _ = select.select([sock], [], [], max(0.0, end - time.time()))
            if not r:
                break
            data, peer = sock.recvfrom(2048)
            if data.startswith(want):
                return data, peer
            if others is not None:
                others.add(data)
    return None, None


def client():
    m = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    m.bind(("0.0.0.0", 0))
    seen = []
    for dest in (A, B, B2):
        data, _ = ask(m, dest, b"probe", b"seen ")
        seen.append(data.split()[1].decode() if data else None)
    out = {"udp": seen[0] is not None, "mapped_address": seen[0]}
    if None in seen:
        out.update(mapping="unknown", filtering="unknown")
        print(json.dumps(out))
        return
    if seen[0] == seen[1]:
        out["mapping"] = "endpoint-independent"
    elif seen[1] == seen[2]:
        out["mapping"] = "address-dependent"
    else:
        out["mapping"] = "address-and-port-dependent"
    f = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    f.bind(("0.0.0.0", 0))
    got = set()
    ack, _ = ask(f, A, b"filter", b"ack ", others=got)
    end = time.time() + 1.0
    while time.time() < end:
        r, _, _ = select.select([f], [], [], max(0.0, end - time.time()))
        if not r:
            break
        data, _ = f.recvfrom(2048)
        got.add(data)
    if ack is None:
        out["filtering"] = "unknown"
    elif b"from-other-ip" in got:
        out["filtering"] = "endpoint-independent"
    elif b"from-other-port" in got:
        out["filtering"] = "address-dependent"
    else:
        out["filtering"] = "address-and-port-dependent"
    print(json.dumps(out))


if __name__ == "__main__":
    {"server": server, "client": client}[sys.argv[1]]()
