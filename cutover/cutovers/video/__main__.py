"""``python -m cutover.cutovers.video transform|verify --merger-dir D --env E``: run by
the video cutover playbooks on the controller.

``transform --fetched DIR --out FILE``: DIR holds ``<province>.tgz`` (each former
province's ``/var/lib/prosody``) and ``merged.tgz``; FILE gets the files to write on the
merged server as JSON (``[{path, content}]``), which cutover_files writes in one call.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

from cutover.cutovers import _cli
from cutover.cutovers.video import migrate
from cutover.verify import video_merged


def read_tar(path: Path) -> dict[str, str]:
    files: dict[str, str] = {}
    with tarfile.open(path) as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.endswith(".dat"):
                handle = tar.extractfile(member)
                if handle is not None:
                    name = member.name.removeprefix("./")
                    files[name] = handle.read().decode("utf-8", "surrogateescape")
    return files


def run() -> int:
    p = _cli.parser(__doc__ or "")
    p.add_argument("--fetched", type=Path)
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    inv = _cli.inventory(args)
    if args.command == "transform":
        old = {
            f.id: read_tar(args.fetched / f"{f.id}.tgz")
            for f in inv.former
            if (args.fetched / f"{f.id}.tgz").is_file()
        }
        result = migrate.migrate(inv, old, read_tar(args.fetched / "merged.tgz"))
        files = [{"path": k, "content": v} for k, v in sorted(result.files.items())]
        args.out.write_text(json.dumps(files, ensure_ascii=False), encoding="utf-8")
        args.out.chmod(0o600)  # stored credentials (SCRAM keys, not passwords)
        return _cli.done(result.summary())
    if args.command == "verify":
        return _cli.verify(inv, video_merged.check)
    p.error(f"unknown command {args.command!r}")
    return 2


if __name__ == "__main__":
    _cli.main(run)
