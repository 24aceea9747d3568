#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: greenrace contributors
# Apache-2.0
"""greenrace_supervise: start, restart, stop or wait for a long-running program supervised by a
pidfile (the supervise role's process mode: hosts without systemd as PID 1, namespace hosts on a
shared filesystem), in one module run per host: stop-if-asked, start-if-not-running, then wait
for its port and for a new "started" line in its log."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: greenrace_supervise
short_description: A program supervised by a pidfile, started with setsid, and its readiness
description:
  - C(state=started) starts the program (C(bash -c 'exec CMD') in a new session, output appended to
    C(DIR/NAME.log), pid in C(DIR/NAME.pid)) unless it is running; C(restart=true) stops a running
    one first. It fails at once, with the log's last lines, when the program exits within 0.3 s.
  - Unless C(wait=false), it then waits for C(port) on C(host) to accept connections and, when the
    program was started now and C(ready_log) is set, for one more line containing C(ready_pattern)
    in that log than before the start; the program dying meanwhile fails the wait at once.
  - With C(wait=false) the count before the start is kept in C(DIR/NAME.starting), and a later
    C(state=ready) does the waiting (so several programs can start while other work goes on).
  - C(state=ready) waits as above, for a program started by any means (systemd too); C(state=mark)
    only records the log count before something else starts the program.
  - C(state=stopped) sends SIGTERM, then SIGKILL after C(stop_timeout) seconds, and removes the pidfile.
options:
  name: {description: Short name (NAME.pid, NAME.log)., type: str, required: true}
  dir: {description: Per-host folder of the pidfile and the log (working directory)., type: path, required: true}
  cmd: {description: Command line (a bash command; absolute program path); needed to start., type: str}
  env: {description: Environment variables for the program., type: dict, default: {}}
  state:
    description: What to do.
    type: str
    choices: [started, stopped, ready, mark]
    default: started
  restart: {description: Stop a running program before starting it again., type: bool, default: false}
  wait: {description: Wait for readiness after starting., type: bool, default: true}
  port: {description: TCP port to wait for (0 = none)., type: int, default: 0}
  host: {description: Address the port is checked on., type: str, default: 127.0.0.1}
  wait_timeout: {description: Seconds to wait for readiness., type: int, default: 60}
  stop_timeout: {description: Seconds between SIGTERM and SIGKILL., type: int, default: 15}
  ready_log: {description: A log file that gets a line with ready_pattern once the program is ready., type: path}
  ready_pattern: {description: Fixed text of that line., type: str}
author: greenrace contributors
"""

EXAMPLES = r"""
- name: Start the exporter and wait for its port
  greenrace_supervise:
    name: node_exporter
    dir: /srv/exp/host1/node_exporter
    cmd: /usr/bin/prometheus-node-exporter --web.listen-address=10.0.0.11:9100
    port: 9100
    host: 10.0.0.11
"""

RETURN = r"""
status:
  description: running (left alone), started, restarted, stopped, absent (nothing to stop), ready or marked.
  returned: always
  type: str
pid:
  description: The program's process id, when it runs.
  returned: when running
  type: int
waited:
  description: Seconds spent waiting for readiness.
  returned: always
  type: float
"""

import json
import os
import signal
import socket
import subprocess
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native


def _alive(pid):
    if not pid:
        return False
    try:
        with open("/proc/%d/status" % pid) as fh:
            for line in fh:
                if line.startswith("State:"):
                    return "Z" not in line.split(":", 1)[1].split()[0]
    except (IOError, OSError):
        return False
    return True


def _read_pid(pidfile):
    try:
        with open(pidfile) as fh:
            return int(fh.read().strip() or 0)
    except (IOError, OSError, ValueError):
        return 0


def _tail(path, n=20):
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 16384))
            return [to_native(x, errors="surrogate_or_replace") for x in fh.read().splitlines()[-n:]]
    except (IOError, OSError):
        return []


def _count(path, pattern):
    if not path or not pattern:
        return 0
    try:
        with open(path, "rb") as fh:
            return fh.read().count(pattern.encode("utf-8"))
    except (IOError, OSError):
        return 0


def _port_open(host, port):
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except (OSError, socket.error):
        return False


class Supervised(object):
    def __init__(self, module):
        self.m = module
        p = module.params
        self.name = p["name"]
        self.dir = p["dir"]
        self.pidfile = os.path.join(self.dir, self.name + ".pid")
        self.log = os.path.join(self.dir, self.name + ".log")
        self.marker = os.path.join(self.dir, self.name + ".starting")

    def fail(self, msg, **extra):
        logs = {"log_tail": _tail(self.log)}
        if self.m.params["ready_log"]:
            logs["ready_log_tail"] = _tail(self.m.params["ready_log"])
        lines = [msg]
        for key, label in (("log_tail", self.log), ("ready_log_tail", self.m.params["ready_log"])):
            if logs.get(key):
                lines.append("last lines of %s:" % label)
                lines.extend(logs[key][-10:])
        self.m.fail_json(msg="\n".join(lines), **dict(logs, **extra))

    def stop(self):
        if not os.path.exists(self.pidfile):
            return "absent"
        pid = _read_pid(self.pidfile)
        if self.m.check_mode:
            return "stopped"
        if _alive(pid):
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
            deadline = time.time() + self.m.params["stop_timeout"]
            while _alive(pid) and time.time() < deadline:
                time.sleep(0.1)
            if _alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        os.unlink(self.pidfile)
        return "stopped"

    def start(self):
        cmd = self.m.params["cmd"]
        if not cmd:
            self.m.fail_json(msg="greenrace_supervise %s: cmd is required to start it" % self.name)
        if not os.path.isdir(self.dir):
            os.makedirs(self.dir, 0o755)
        before = _count(self.m.params["ready_log"], self.m.params["ready_pattern"])
        env = dict(os.environ)
        env.update(dict((str(k), str(v)) for k, v in self.m.params["env"].items()))
        with open(os.devnull, "rb") as devnull, open(self.log, "ab") as out:
            child = subprocess.Popen(["/bin/bash", "-c", "exec " + cmd], cwd=self.dir, env=env, stdin=devnull,
                                     stdout=out, stderr=subprocess.STDOUT, close_fds=True, start_new_session=True)
        with open(self.pidfile, "w") as fh:
            fh.write("%d\n" % child.pid)
        deadline = time.time() + 0.3
        while time.time() < deadline:
            if child.poll() is not None:
                break
            time.sleep(0.05)
        if child.poll() is not None:
            os.unlink(self.pidfile)
            self.fail("%s exited at once (code %s)" % (self.name, child.returncode))
        # Never waited for: once this module exits, init adopts the program (and Popen must not
        # try to reap it, or warn that it still runs).
        child.returncode = 0
        return child.pid, before

    def wait_ready(self, before, pid):
        p = self.m.params
        started = time.time()
        deadline = started + p["wait_timeout"]
        need_log = before is not None and p["ready_log"] and p["ready_pattern"]
        port_ok = p["port"] <= 0
        while True:
            if pid and not _alive(pid):
                self.fail("%s exited while starting" % self.name)
            if not port_ok:
                port_ok = _port_open(p["host"], p["port"])
            log_ok = not need_log or _count(p["ready_log"], p["ready_pattern"]) > before
            if port_ok and log_ok:
                return round(time.time() - started, 2)
            if time.time() >= deadline:
                missing = []
                if not port_ok:
                    missing.append("port %s:%d" % (p["host"], p["port"]))
                if not log_ok:
                    missing.append("a new '%s' in %s" % (p["ready_pattern"], p["ready_log"]))
                self.fail("%s is not ready after %d s: no %s" % (self.name, p["wait_timeout"], " and no ".join(missing)))
            time.sleep(0.1 if time.time() - started < 5 else 0.25)

    def read_marker(self):
        try:
            with open(self.marker) as fh:
                return int(json.load(fh).get("log_count", 0))
        except (IOError, OSError, ValueError):
            return None

    def write_marker(self, count):
        with open(self.marker, "w") as fh:
            json.dump({"log_count": count}, fh)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            dir=dict(type="path", required=True),
            cmd=dict(type="str"),
            env=dict(type="dict", default={}),
            state=dict(type="str", default="started", choices=["started", "stopped", "ready", "mark"]),
            restart=dict(type="bool", default=False),
            wait=dict(type="bool", default=True),
            port=dict(type="int", default=0),
            host=dict(type="str", default="127.0.0.1"),
            wait_timeout=dict(type="int", default=60),
            stop_timeout=dict(type="int", default=15),
            ready_log=dict(type="path"),
            ready_pattern=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    s = Supervised(module)
    state = module.params["state"]
    if state == "stopped":
        status = s.stop()
        if os.path.exists(s.marker) and not module.check_mode:
            os.unlink(s.marker)
        module.exit_json(changed=status == "stopped", status=status, waited=0.0)

    if state == "mark":
        if not module.check_mode:
            if not os.path.isdir(s.dir):
                os.makedirs(s.dir, 0o755)
            s.write_marker(_count(module.params["ready_log"], module.params["ready_pattern"]))
        module.exit_json(changed=False, status="marked", waited=0.0)

    if state == "ready":
        pid = _read_pid(s.pidfile) if os.path.exists(s.pidfile) else 0
        before = s.read_marker()
        waited = 0.0 if module.check_mode else s.wait_ready(before, pid)
        if before is not None and not module.check_mode:
            os.unlink(s.marker)
        module.exit_json(changed=False, status="ready", waited=waited, **({"pid": pid} if pid else {}))

    pid = _read_pid(s.pidfile)
    running = _alive(pid)
    status = "running"
    if running and module.params["restart"]:
        s.stop()
        running = False
        status = "restarted"
    elif not running:
        status = "started"
    if module.check_mode:
        module.exit_json(changed=status != "running", status=status, waited=0.0)
    before = None
    if not running:
        pid, before = s.start()
        if not module.params["wait"]:
            s.write_marker(before)
            module.exit_json(changed=True, status=status, pid=pid, waited=0.0)
    waited = s.wait_ready(before, pid)
    module.exit_json(changed=status != "running", status=status, pid=pid, waited=waited)


if __name__ == "__main__":
    main()
