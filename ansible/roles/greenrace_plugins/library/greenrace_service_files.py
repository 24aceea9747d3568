#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: greenrace contributors
# Apache-2.0
"""greenrace_service_files: a service's folders, links and small text files on a host in ONE module run.

The roles render their templates on the controller (lookup('ansible.builtin.template', ...)) and
hand the texts here. Measured on 3 namespace hosts: a file, copy and template task per file costs
one to three module runs per host each (stat, then file or copy), 2-10 s per role on a loaded
2-core controller; this costs one run per host for all of a role's files."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: greenrace_service_files
short_description: Folders, symbolic links and small text files of a service, in one module run
description:
  - Creates folders (with parents) and enforces their mode.
  - Creates or repoints symbolic links.
  - Writes text files whose content differs (atomically, temporary file in the same folder and
    rename), or whose mode differs; a file with C(force=false) is only created when missing.
  - Runs a file's C(validate) command on the new content before it replaces the old (C(%s) is the
    temporary file); a failed check leaves the old file and fails the task.
  - Supports check mode.
options:
  dirs:
    description: Folders, as paths or as dicts with C(path) and C(mode) (default 0755).
    type: list
    elements: raw
    default: []
  links:
    description: Symbolic links, dicts with C(src) (where it points) and C(dest).
    type: list
    elements: dict
    default: []
  files:
    description:
      - Text files, dicts with C(path), C(content) (or C(content_b64), base64, for text that Ansible's
        templating would otherwise turn into a list or dict, such as JSON), C(mode) (default 0644),
        C(force) (default true) and C(validate) (a command with C(%s), optional).
    type: list
    elements: dict
    default: []
author: greenrace contributors
"""

EXAMPLES = r"""
- name: Write the exporter's files
  greenrace_service_files:
    dirs: [/srv/exp/host1/exporter]
    files:
      - path: /srv/exp/host1/exporter/exporter.cmdline
        content: "/usr/bin/exporter --port 9100\n"
      - path: /srv/exp/host1/exporter/config.yml
        content: "{{ lookup('ansible.builtin.template', 'config.yml.j2') }}"
        validate: /usr/bin/checker %s
  register: files

- name: Restart when its command line changed
  ansible.builtin.debug:
    msg: restart
  when: "'/srv/exp/host1/exporter/exporter.cmdline' in files.changed_paths"
"""

RETURN = r"""
changed_paths:
  description: The folders, links and files this run created or changed (or would, in check mode).
  returned: always
  type: list
  elements: str
written:
  description: The files among them (content or mode).
  returned: always
  type: list
  elements: str
"""

import base64
import os
import shlex
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native


def _mode(value, default):
    if value is None or value == "":
        return default
    if isinstance(value, int):
        return value
    return int(str(value), 8)


def _ensure_dir(module, path, mode, changed):
    if not path or not os.path.isabs(path):
        module.fail_json(msg="dirs: every entry needs an absolute path (got %r)" % (path,))
    b_path = to_bytes(path)
    if not os.path.isdir(b_path):
        if os.path.lexists(b_path):
            module.fail_json(msg="%s exists and is not a folder" % path)
        changed.append(path)
        if not module.check_mode:
            os.makedirs(b_path, mode)
            os.chmod(b_path, mode)
        return
    if stat.S_IMODE(os.stat(b_path).st_mode) != mode:
        changed.append(path)
        if not module.check_mode:
            os.chmod(b_path, mode)


def _ensure_link(module, src, dest, changed):
    if not src or not dest or not os.path.isabs(dest):
        module.fail_json(msg="links: every entry needs src and an absolute dest (got %r -> %r)" % (src, dest))
    b_dest = to_bytes(dest)
    if os.path.islink(b_dest) and os.readlink(b_dest) == to_bytes(src):
        return
    if os.path.lexists(b_dest) and not os.path.islink(b_dest):
        module.fail_json(msg="%s exists and is not a symbolic link" % dest)
    changed.append(dest)
    if module.check_mode:
        return
    folder = os.path.dirname(b_dest)
    if not os.path.isdir(folder):
        os.makedirs(folder, 0o755)
    tmp = b_dest + b".gr-link-tmp"
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(to_bytes(src), tmp)
    os.rename(tmp, b_dest)


def _write_file(module, spec, changed):
    if not isinstance(spec, dict):
        module.fail_json(msg="files: every entry is a dict with path and content, got %r" % (spec,))
    path = spec.get("path")
    if not path or not os.path.isabs(path):
        module.fail_json(msg="files: every entry needs an absolute path (got %r)" % (path,))
    if spec.get("content_b64") is not None:
        data = base64.b64decode(spec["content_b64"])
    elif spec.get("content") is not None:
        data = to_bytes(spec["content"], errors="surrogate_or_strict")
    else:
        module.fail_json(msg="files: %s has no content" % path)
    mode = _mode(spec.get("mode"), 0o644)
    b_path = to_bytes(path)
    exists = os.path.lexists(b_path)
    if exists and os.path.islink(b_path):
        module.fail_json(msg="%s is a symbolic link; greenrace_service_files writes regular files only" % path)
    if exists and spec.get("force", True) is False:
        return
    old = None
    if exists:
        with open(b_path, "rb") as fh:
            old = fh.read()
    if old == data:
        if stat.S_IMODE(os.stat(b_path).st_mode) != mode:
            changed.append(path)
            if not module.check_mode:
                os.chmod(b_path, mode)
        return
    changed.append(path)
    if module.check_mode:
        return
    folder = os.path.dirname(b_path)
    if not os.path.isdir(folder):
        os.makedirs(folder, 0o755)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=b".gr-", suffix=b".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        check = spec.get("validate")
        if check:
            if "%s" not in check:
                module.fail_json(msg="files: the validate command of %s must contain %%s" % path)
            argv = [a.replace("%s", to_native(tmp)) for a in shlex.split(check)]
            rc, out, err = module.run_command(argv)
            if rc != 0:
                module.fail_json(msg="the new %s failed its check (%s): %s" % (path, check, (err or out).strip()),
                                 rc=rc, stdout=out, stderr=err)
        os.rename(tmp, b_path)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dirs=dict(type="list", elements="raw", default=[]),
            links=dict(type="list", elements="dict", default=[]),
            files=dict(type="list", elements="dict", default=[]),
        ),
        supports_check_mode=True,
    )
    changed = []
    for d in module.params["dirs"]:
        if isinstance(d, dict):
            _ensure_dir(module, d.get("path"), _mode(d.get("mode"), 0o755), changed)
        else:
            _ensure_dir(module, str(d), 0o755, changed)
    for link in module.params["links"]:
        _ensure_link(module, link.get("src"), link.get("dest"), changed)
    dirs_links = len(changed)
    for spec in module.params["files"]:
        _write_file(module, spec, changed)
    module.exit_json(changed=bool(changed), changed_paths=changed, written=changed[dirs_links:])


if __name__ == "__main__":
    main()
