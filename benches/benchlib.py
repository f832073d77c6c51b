"""Shared by the benchmark scripts: replacing one marked section of BENCHMARKS.md."""
import os
import time


def write_section(path, tag, note, text):
    """Replaces what lies between `<!-- TAG:begin -->` and `<!-- TAG:end -->` in the markdown
    file at `path` (appending the markers when absent) with the date, `note` and `text`."""
    start, end = f"<!-- {tag}:begin -->", f"<!-- {tag}:end -->"
    doc = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    if start not in doc:
        doc += f"\n{start}\n{end}\n"
    head, _, rest = doc.partition(start)
    _, _, tail = rest.partition(end)
    stamp = time.strftime("%Y-%m-%d")
    body = f"{start}\nMeasured {stamp}{note}\n\n{text}\n{end}"
    with open(path, "w") as f:
        f.write(head + body + tail)


def run_in(ns, argv, timeout):
    """Runs `argv` in network namespace `ns` (cwd /tmp): (wall seconds, exit code or None
    when killed at `timeout`, stdout + stderr)."""
    import subprocess
    t0 = time.monotonic()
    try:
        p = subprocess.run(["ip", "netns", "exec", ns] + argv, capture_output=True,
                           text=True, timeout=timeout, cwd="/tmp")
        return time.monotonic() - t0, p.returncode, p.stdout + p.stderr
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        return time.monotonic() - t0, None, out
