"""What a compute backend hands to the exports: per inventory host, its address and,
when the backend knows it, its SSH host key."""

from dataclasses import dataclass

import pulumi


@dataclass(frozen=True)
class HostOutputs:
    address: pulumi.Output[str]
    host_key: pulumi.Output[str] | None  # OpenSSH public line; None: not known to the stack
