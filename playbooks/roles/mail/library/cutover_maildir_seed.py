#!/usr/bin/python3
"""Seed Maildir mailboxes with a few messages each, idempotently."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cutover_maildir_seed
short_description: Seed Maildir mailboxes with messages, each with its own Message-ID.
description:
  - Creates C(<root>/<domain>/<local>/Maildir/{cur,new,tmp}) for each mailbox and drops
    I(count) messages into C(new/), as a delivery agent would. A message already there
    (in C(new/) or, once read, in C(cur/)) is never written again, so a second run changes
    nothing and messages a client has read or moved are not resurrected.
options:
  root: {description: Mailbox root., type: path, required: true}
  mailboxes: {description: "Mailboxes: dicts with address and name.", type: list, elements: dict, required: true}
  count: {description: Messages per mailbox., type: int, default: 3}
  uid: {description: Owner of the files., type: int, required: true}
  gid: {description: Group of the files., type: int, required: true}
author: province-cutover
"""

EXAMPLES = r"""
- name: Seed the mailboxes.
  cutover_maildir_seed:
    root: /var/vmail
    mailboxes: [{address: annv@kontum.gov.vn, name: "Nguyễn Văn An"}]
    count: 3
    uid: 5000
    gid: 5000
"""

RETURN = r"""
seeded: {description: Number of messages written., type: int, returned: always}
"""

import os
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import default

from ansible.module_utils.basic import AnsibleModule

STAMP = 1751328000  # 2025-07-01: the fixed Maildir time of seeded messages
SUBJECTS = (
    "Thông báo lịch giao ban tuần",
    "Báo cáo tiến độ chuyển đổi số",
    "Giấy mời họp về sắp xếp đơn vị hành chính",
    "Kế hoạch triển khai hệ thống thông tin",
    "Công văn đề nghị phối hợp",
)


def message(address: str, name: str, n: int) -> bytes:
    local, domain = address.split("@")
    msg = EmailMessage()
    msg["From"] = Address("Văn phòng UBND tỉnh", addr_spec=f"vanphong@{domain}")
    msg["To"] = Address(name, addr_spec=address)
    msg["Subject"] = f"{SUBJECTS[(n - 1) % len(SUBJECTS)]} (số {n})"
    msg["Date"] = "Mon, 30 Jun 2025 08:00:00 +0700"
    msg["Message-ID"] = f"<seed-{n}.{local}.{domain}@cutover.lab>"
    msg.set_content(f"Kính gửi {name},\n\nĐây là thư số {n} trong hộp thư {address}.\n")
    # Not folded: Python's folding drops the quotes around a display name holding
    # specials (a name with "(" or "<" came back as another name); names are at most 200
    # characters, so the line stays far below the 998 of RFC 5322.
    return msg.as_bytes(policy=default.clone(max_line_length=None))


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "root": {"type": "path", "required": True},
            "mailboxes": {"type": "list", "elements": "dict", "required": True},
            "count": {"type": "int", "default": 3},
            "uid": {"type": "int", "required": True},
            "gid": {"type": "int", "required": True},
        },
        supports_check_mode=True,
    )
    p = module.params
    seeded = 0
    for box in p["mailboxes"]:
        local, domain = box["address"].split("@")
        maildir = os.path.join(p["root"], domain, local, "Maildir")
        existing = set()
        for sub in ("new", "cur"):
            folder = os.path.join(maildir, sub)
            if os.path.isdir(folder):
                existing.update(name.split(":")[0] for name in os.listdir(folder))
        for n in range(1, p["count"] + 1):
            base = f"{STAMP}.cutover-seed-{n}.lab"
            if base in existing:
                continue
            seeded += 1
            if module.check_mode:
                continue
            for path in (os.path.join(p["root"], domain), os.path.dirname(maildir), maildir):
                if not os.path.isdir(path):
                    os.mkdir(path, 0o700)
                    os.chown(path, p["uid"], p["gid"])
            for sub in ("cur", "new", "tmp"):
                path = os.path.join(maildir, sub)
                if not os.path.isdir(path):
                    os.mkdir(path, 0o700)
                    os.chown(path, p["uid"], p["gid"])
            tmp = os.path.join(maildir, "tmp", base)
            with open(tmp, "wb") as handle:
                handle.write(message(box["address"], box["name"], n))
            os.chown(tmp, p["uid"], p["gid"])
            os.chmod(tmp, 0o600)
            os.rename(tmp, os.path.join(maildir, "new", base))
    module.exit_json(changed=seeded > 0, seeded=seeded)


if __name__ == "__main__":
    main()
