# -*- coding: utf-8 -*-
# Copyright: greenrace contributors
# Apache-2.0
"""greenrace_jsonl: one JSON object per playbook event, appended to the file named by
GREENRACE_EVENTS_FILE. greenrace reads it while the playbook runs (progress on the terminal)
and after it (per-host recap, failures, task results). Honours no_log: a censored result
never reaches the file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: greenrace_jsonl
type: notification
short_description: JSON-lines event stream for greenrace
description:
  - Appends one JSON object per event (playbook, play, task, per-host result, stats) to a file.
  - Does nothing when GREENRACE_EVENTS_FILE is unset, so playbooks run by hand are unaffected.
  - Results of tasks with no_log are replaced by a marker; only host, task and status are written.
  - Each host result carries C(duration), the seconds from the moment the host started the task
    (all items of a loop) to its result, so the slowest tasks of a run can be found afterwards.
requirements:
  - enable in callbacks_enabled
options:
  events_file:
    description: Path of the JSON-lines file to append to.
    env:
      - name: GREENRACE_EVENTS_FILE
    ini:
      - section: callback_greenrace_jsonl
        key: events_file
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase

# Result keys worth keeping (the rest, e.g. full facts or file diffs, would bloat the stream).
_KEEP = ("msg", "rc", "stdout", "stderr", "changed", "failed", "skipped", "unreachable",
         "exception", "module_stderr", "module_stdout", "reason", "gr_data", "cmd", "elapsed")
_MAX_TEXT = 4000


def _clip(value):
    if isinstance(value, str) and len(value) > _MAX_TEXT:
        return "...[%d chars cut]...%s" % (len(value) - _MAX_TEXT, value[-_MAX_TEXT:])
    return value


def _jsonable(value, depth=0):
    if depth > 6:
        return str(value)
    if isinstance(value, dict):
        return dict((str(k), _jsonable(v, depth + 1)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, depth + 1) for v in value[:200]]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return _clip(value)
    return _clip(str(value))


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "greenrace_jsonl"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super(CallbackModule, self).__init__(display=display)
        self._fh = None
        # (host name, task uuid) -> time.time() when the host started the task (v2_runner_on_start).
        self._started = {}
        self._rescued_tasks = set()

    # -- output -------------------------------------------------------------------------------
    def _file(self):
        if self._fh is None:
            path = None
            try:
                path = self.get_option("events_file")
            except Exception:  # options not loaded (very old cores)
                path = None
            path = path or os.environ.get("GREENRACE_EVENTS_FILE")
            if not path:
                return None
            self._fh = open(path, "a", buffering=1, encoding="utf-8")
        return self._fh

    def _emit(self, event, **fields):
        fh = self._file()
        if fh is None:
            return
        fields["event"] = event
        fields["ts"] = round(time.time(), 3)
        fh.write(json.dumps(_jsonable(fields), sort_keys=True) + "\n")
        fh.flush()

    # -- helpers ------------------------------------------------------------------------------
    @staticmethod
    def _no_log(result):
        task = getattr(result, "_task", None)
        if task is not None and getattr(task, "no_log", False):
            return True
        res = getattr(result, "_result", {}) or {}
        return bool(res.get("_ansible_no_log")) or "censored" in res

    def _host_result(self, result, status, ignored=False):
        host = result._host.get_name()
        task = result._task
        fields = {
            "host": host,
            "status": status,
            "task": task.get_name().strip(),
            "task_uuid": task._uuid,
            "action": task.action,
        }
        delegated = (result._result or {}).get("_ansible_delegated_vars", {}).get("ansible_host")
        if delegated:
            fields["delegated_to"] = delegated
        if ignored:
            fields["ignored"] = True
        began = self._started.pop((host, task._uuid), None)
        if began is not None:
            fields["duration"] = round(time.time() - began, 3)
        if self._no_log(result):
            fields["censored"] = True
            fields["changed"] = bool((result._result or {}).get("changed", False))
            if status in ("failed", "unreachable"):
                fields["msg"] = "the output has been hidden (no_log: true)"
            return fields
        res = result._result or {}
        fields["changed"] = bool(res.get("changed", False))
        kept = dict((k, res[k]) for k in _KEEP if k in res)
        items = res.get("results")
        if isinstance(items, list) and status == "failed":
            # The failed items of a loop, so the message names what went wrong.
            bad = []
            for it in items:
                if isinstance(it, dict) and it.get("failed"):
                    if it.get("_ansible_no_log") or "censored" in it:
                        bad.append({"msg": "the output has been hidden (no_log: true)"})
                    else:
                        one = dict((k, it[k]) for k in ("msg", "rc", "stderr") if k in it)
                        label = it.get("_ansible_item_label", it.get("item"))
                        if label is not None:
                            one["item"] = label
                        bad.append(one)
            if bad:
                kept["failed_items"] = bad[:10]
        fields["result"] = kept
        return fields

    # -- playbook events ----------------------------------------------------------------------
    def v2_playbook_on_start(self, playbook):
        self._emit("playbook_start", playbook=getattr(playbook, "_file_name", None))

    def v2_playbook_on_play_start(self, play):
        hosts = play.hosts if isinstance(play.hosts, list) else [play.hosts]
        self._emit("play_start", name=play.get_name().strip(), pattern=",".join(str(h) for h in hosts))

    def v2_playbook_on_no_hosts_matched(self):
        self._emit("no_hosts")

    def v2_playbook_on_task_start(self, task, is_conditional):
        try:
            if self._rescued(task):
                self._rescued_tasks.add(task._uuid)
        except Exception:  # the flag is a convenience; never break the stream for it
            pass
        self._emit("task_start", name=task.get_name().strip(), uuid=task._uuid, action=task.action,
                   handler=False)

    def v2_playbook_on_handler_task_start(self, task):
        self._emit("task_start", name=task.get_name().strip(), uuid=task._uuid, action=task.action,
                   handler=True)

    def v2_runner_on_start(self, host, task):
        self._started[(host.get_name(), task._uuid)] = time.time()

    def v2_runner_on_ok(self, result):
        self._emit("result", **self._host_result(result, "ok"))

    @staticmethod
    def _rescued(task):
        """True when the task sits in the main part of a block that has a rescue section: its failure
        is handled by the play (the rescue decides whether the play fails). Asked of the task the
        play iterates over (at task start): the copies a result carries have blocks without tasks."""
        child, parent = task, getattr(task, "_parent", None)
        while parent is not None:
            rescue = getattr(parent, "rescue", None)
            if rescue and any(t is child for t in (getattr(parent, "block", None) or [])):
                return True
            child, parent = parent, getattr(parent, "_parent", None)
        return False

    def v2_runner_on_failed(self, result, ignore_errors=False):
        fields = self._host_result(result, "failed", ignored=ignore_errors)
        if not ignore_errors and result._task._uuid in self._rescued_tasks:
            fields["rescued"] = True
        self._emit("result", **fields)

    def v2_runner_on_unreachable(self, result):
        self._emit("result", **self._host_result(result, "unreachable"))

    def v2_runner_on_skipped(self, result):
        self._emit("result", **self._host_result(result, "skipped"))

    def v2_playbook_on_stats(self, stats):
        hosts = {}
        for h in sorted(stats.processed.keys()):
            s = stats.summarize(h)
            hosts[h] = {
                "ok": s.get("ok", 0),
                "changed": s.get("changed", 0),
                "failed": s.get("failures", 0),
                "unreachable": s.get("unreachable", 0),
                "skipped": s.get("skipped", 0),
                "rescued": s.get("rescued", 0),
                "ignored": s.get("ignored", 0),
            }
        custom = getattr(stats, "custom", {}) or {}
        self._emit("stats", hosts=hosts, custom=custom)
        if self._fh is not None:
            self._fh.close()
            self._fh = None
