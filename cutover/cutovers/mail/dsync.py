"""dsync commands between the old mail servers and the merged one, with the guard that
keeps mail on the old servers.

The old servers run the commands (``doveadm sync``) against a dsync endpoint on the merged
server: a standalone Dovecot instance (own base_dir, state_dir and instance_name) whose
userdb knows every *old* address and points it at the *new* mailbox, so the same user name
works on both ends. Directions:

``to-merged``  ``doveadm sync -1 -u OLD tcp:MERGED``: old -> merged, one-way, and nothing
               that exists only on the merged server (mail delivered there already) is
               removed.
``back``       ``doveadm sync -1 -R -u OLD tcp:MERGED``: merged -> old after a rollback,
               again without removing anything.

``doveadm backup`` makes its destination a mirror of its source: run without ``-R`` from
the merged server against an old one (or with ``-R`` on an old server) it DELETES mail on
the old server (LAB-NOTES). :func:`assert_safe` refuses every command that could do that;
every command this module builds passes through it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cutover.errors import CutoverError

DIRECTIONS = ("to-merged", "back")
CLIENT_CONFIG = "/etc/dovecot/cutover-dsync-client.conf"
ENDPOINT_PORT = 12345
# The endpoint listens on the merged server's loopback only; each old server reaches it
# through one persistent SSH forward of its own (a key made for the sync, admitted only
# from that server's address and only to open this port) to the same port on its own
# loopback. The doveadm protocol itself is never on the network between sites.
LOOPBACK = "127.0.0.1"


class UnsafeSync(CutoverError):
    """A dsync command could delete mail on an old server."""


def assert_safe(argv: Sequence[str], runs_on: str) -> None:
    """Refuse a doveadm command that could remove mail from an old server.

    ``runs_on`` is ``old`` (an old province's server) or ``merged``. Allowed: one-way
    ``sync -1`` in either direction (it never removes anything on its destination), and a
    ``backup`` whose destination is the merged server (``backup -R`` run on the merged
    server pulling from an old one, as the imapc baseline does)."""
    if runs_on not in ("old", "merged"):
        raise UnsafeSync(f"unknown side {runs_on!r}")
    words = list(argv)
    if "backup" in words:
        reverse = "-R" in words[words.index("backup") :]
        destination_old = (runs_on == "old" and reverse) or (runs_on == "merged" and not reverse)
        if destination_old:
            raise UnsafeSync(
                "refused: `doveadm backup` here would make the old server a mirror of the "
                "merged one and delete its mail",
                hint="use `doveadm sync -1` (one-way, deletes nothing)",
            )
        return
    if "sync" in words:
        options = words[words.index("sync") :]
        if "-1" not in options:
            raise UnsafeSync(
                "refused: two-way `doveadm sync` would carry deletions to the old server",
                hint="use `doveadm sync -1`",
            )
        return
    raise UnsafeSync(f"not a dsync command: {' '.join(words)}")


@dataclass(frozen=True)
class Endpoint:
    address: str
    port: int = ENDPOINT_PORT

    @property
    def location(self) -> str:
        return f"tcp:{self.address}:{self.port}"


def command(direction: str, users_file: str, endpoint: Endpoint) -> list[str]:
    """The command an old server runs for the users listed in ``users_file``."""
    if direction not in DIRECTIONS:
        raise UnsafeSync(f"unknown direction {direction!r}", hint=f"one of {DIRECTIONS}")
    argv = ["doveadm", "-c", CLIENT_CONFIG, "sync", "-1"]
    if direction == "back":
        argv.append("-R")
    argv += ["-F", users_file, endpoint.location]
    assert_safe(argv, "old")
    return argv


def chunks(users: Sequence[str], parallel: int) -> list[list[str]]:
    """Users split into at most ``parallel`` lists of near-equal size."""
    parallel = max(1, min(parallel, len(users)))
    return [list(users[i::parallel]) for i in range(parallel)] if users else []
