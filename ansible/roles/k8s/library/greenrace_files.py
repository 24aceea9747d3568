#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: greenrace contributors
# Apache-2.0
"""greenrace_files: write a host's configuration files in one module run."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: greenrace_files
short_description: Write several files in one module run, each only when its content or mode differs
description:
  - A node of the k8s role has about ten small files (configurations, kubeconfigs, recorded command
    lines). One template task per file costs a module round trip each (measured on namespace hosts:
    50 s of a 140 s deploy on a loaded 2-core controller); this writes them all at once.
  - Writes are atomic (temporary file in the same folder, then rename). The folders must exist.
options:
  files:
    description: The files, each C({path, content_b64, mode}); content is base64 so that JSON-looking text stays text.
    type: list
    required: true
"""

RETURN = r"""
written:
  description: Paths whose content or mode was changed (or would be, in check mode).
  type: list
  returned: always
"""

import base64
import os
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec=dict(files=dict(type="list", required=True)), supports_check_mode=True)
    changed = []
    for spec in module.params["files"]:
        if not isinstance(spec, dict):
            module.fail_json(msg="greenrace_files: every file is a dict {path, content_b64, mode}, got %r" % (spec,))
        path = spec.get("path")
        if not path or not os.path.isabs(path):
            module.fail_json(msg="greenrace_files: every file needs an absolute path, got %r" % (path,))
        data = base64.b64decode(spec.get("content_b64", ""))
        mode = int(str(spec.get("mode", "0644")), 8)
        try:
            with open(path, "rb") as f:
                same = f.read() == data
            same = same and stat.S_IMODE(os.stat(path).st_mode) == mode
        except FileNotFoundError:
            same = False
        if same:
            continue
        changed.append(path)
        if module.check_mode:
            continue
        folder = os.path.dirname(path)
        fd, tmp = tempfile.mkstemp(prefix=".greenrace-", dir=folder)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.chmod(tmp, mode)
            os.replace(tmp, path)
        except OSError as e:
            if os.path.exists(tmp):
                os.unlink(tmp)
            module.fail_json(msg="greenrace_files: cannot write %s: %s" % (path, e))
    module.exit_json(changed=bool(changed), written=changed)


if __name__ == "__main__":
    main()
