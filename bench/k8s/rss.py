#!/usr/bin/python3
"""RSS of the processes whose command line names one of the given paths, grouped by program.

  bench/k8s/rss.py <path> [<path> ...]

Counts each process's VmRSS once (shared pages are counted in every process that maps them, as
`ps` does). The SSH daemons and clients of the hosts and this script are left out."""
import collections
import os
import re
import sys

marks = sys.argv[1:]
groups: dict[str, list[int]] = collections.defaultdict(list)
for p in os.listdir("/proc"):
    if not p.isdigit() or int(p) == os.getpid():
        continue
    try:
        cmd = open(f"/proc/{p}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
        status = open(f"/proc/{p}/status").read()
    except OSError:
        continue
    if not cmd or not any(m in cmd for m in marks):
        continue
    exe = os.path.basename(cmd.split()[0])
    if exe in ("sshd:", "ssh:", "ssh", "python3", "bash", "sh"):
        continue
    m = re.search(r"VmRSS:\s+(\d+)", status)
    groups[exe].append(int(m.group(1)) if m else 0)
total = 0
for exe, kb in sorted(groups.items()):
    total += sum(kb)
    print(f"  {exe:26s} x{len(kb)}  {sum(kb) / 1024:7.1f} MiB  ({', '.join(f'{k / 1024:.0f}' for k in kb)})")
print(f"  {'total':26s}     {total / 1024:7.1f} MiB")
