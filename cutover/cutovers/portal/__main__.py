"""``python -m cutover.cutovers.portal render-map|verify --merger-dir D --env E``: run by
the portal cutover playbooks on the controller."""

from __future__ import annotations

from pathlib import Path

from cutover.cutovers import _cli
from cutover.cutovers.portal import redirects
from cutover.inventory import portal as plan
from cutover.verify import portal_merged


def run() -> int:
    p = _cli.parser(__doc__ or "")
    p.add_argument("--out", type=Path, help="render-map: the map file to write")
    args = p.parse_args()
    inv = _cli.inventory(args)
    if args.command == "render-map":
        info = plan.build(inv)
        rendered = redirects.render(
            inv.url_map,
            {f["domain"]: f["names"] for f in info["former"]},
            {f["domain"]: f["landing"] for f in info["former"]},
        )
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(rendered.text, encoding="utf-8")
        return _cli.done({"entries": rendered.entries, "path": str(args.out)})
    if args.command == "verify":
        return _cli.verify(inv, portal_merged.check)
    p.error(f"unknown command {args.command!r}")
    return 2


if __name__ == "__main__":
    _cli.main(run)
