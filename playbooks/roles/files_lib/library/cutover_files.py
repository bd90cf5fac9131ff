#!/usr/bin/python3
"""Write a set of files under one folder in one module call."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cutover_files
short_description: Write many small files under one folder in a single call.
description:
  - Writes each file whose content differs (or, with I(create_only), each file that does
    not exist yet: for data the service owns once created, such as Prosody accounts and
    rooms). Creates missing folders. Optionally removes files under I(root) that are not
    listed (I(prune)). One call instead of one task per file.
options:
  root: {description: The folder., type: path, required: true}
  files: {description: "Dicts with path (relative to root) and content.", type: list, elements: dict, required: true}
  owner: {description: Owner of files and folders., type: str, default: root}
  group: {description: Group of files and folders., type: str, default: root}
  mode: {description: Mode of files (octal string)., type: str, default: "0644"}
  dir_mode: {description: Mode of folders (octal string)., type: str, default: "0755"}
  create_only: {description: Never rewrite an existing file., type: bool, default: false}
  prune: {description: Remove files under root that are not listed., type: bool, default: false}
author: province-cutover
"""

EXAMPLES = r"""
- name: Write the pages.
  cutover_files:
    root: /var/www/site
    files: [{path: index.html, content: "<h1>Hi</h1>"}]
    prune: true
"""

RETURN = r"""
written: {description: Paths written., type: list, returned: always}
removed: {description: Paths removed., type: list, returned: always}
"""

import grp
import os
import pwd

from ansible.module_utils.basic import AnsibleModule


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "root": {"type": "path", "required": True},
            "files": {"type": "list", "elements": "dict", "required": True},
            "owner": {"type": "str", "default": "root"},
            "group": {"type": "str", "default": "root"},
            "mode": {"type": "str", "default": "0644"},
            "dir_mode": {"type": "str", "default": "0755"},
            "create_only": {"type": "bool", "default": False},
            "prune": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    p = module.params
    uid = pwd.getpwnam(p["owner"]).pw_uid
    gid = grp.getgrnam(p["group"]).gr_gid
    mode = int(p["mode"], 8)
    dir_mode = int(p["dir_mode"], 8)
    root = p["root"]
    written, removed, wanted = [], [], set()

    def ensure_dir(path: str) -> None:
        if os.path.isdir(path):
            return
        ensure_dir(os.path.dirname(path))
        if not module.check_mode:
            os.mkdir(path, dir_mode)
            os.chown(path, uid, gid)

    for entry in p["files"]:
        rel = os.path.normpath(entry["path"]).lstrip("/")
        if rel.startswith(".."):
            module.fail_json(msg=f"path outside root: {entry['path']}")
        path = os.path.join(root, rel)
        wanted.add(path)
        data = str(entry["content"]).encode()
        if os.path.exists(path):
            if p["create_only"]:
                continue
            with open(path, "rb") as handle:
                same = handle.read() == data
            st = os.stat(path)
            if same and st.st_uid == uid and st.st_gid == gid and st.st_mode & 0o7777 == mode:
                continue
        written.append(rel)
        if module.check_mode:
            continue
        ensure_dir(os.path.dirname(path))
        tmp = path + ".cutover-tmp"
        with open(tmp, "wb") as handle:
            handle.write(data)
        os.chown(tmp, uid, gid)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    if p["prune"] and os.path.isdir(root):
        for folder, _, names in os.walk(root):
            for name in names:
                path = os.path.join(folder, name)
                if path not in wanted:
                    removed.append(os.path.relpath(path, root))
                    if not module.check_mode:
                        os.remove(path)
    module.exit_json(changed=bool(written or removed), written=written, removed=removed)


if __name__ == "__main__":
    main()
