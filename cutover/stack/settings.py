"""Where stack state lives and how its secrets are encrypted.

Default: the local file backend under ``.state/pulumi`` and the passphrase secrets
provider with a passphrase generated on first use into ``.state/pulumi-passphrase``
(mode 0600, never committed). A real site overrides them with the usual Pulumi
variables: ``PULUMI_BACKEND_URL`` (e.g. ``s3://bucket?endpoint=...`` for an
S3-compatible store), ``PULUMI_CONFIG_PASSPHRASE`` or ``PULUMI_CONFIG_PASSPHRASE_FILE``,
and ``CUTOVER_SECRETS_PROVIDER`` (e.g. ``awskms://...`` or ``hashivault://...``).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cutover.paths import state_dir


def _passphrase_file() -> Path:
    path = state_dir() / "pulumi-passphrase"
    if not path.exists():
        # O_EXCL: two first runs at once must not each write a different passphrase.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
    return path


@dataclass(frozen=True)
class StackSettings:
    backend_url: str
    secrets_provider: str
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_environment(cls) -> StackSettings:
        backend = os.environ.get("PULUMI_BACKEND_URL")
        if not backend:
            folder = state_dir() / "pulumi"
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            backend = folder.as_uri()
        provider = os.environ.get("CUTOVER_SECRETS_PROVIDER", "passphrase")
        env = {"PULUMI_BACKEND_URL": backend, "PULUMI_SKIP_UPDATE_CHECK": "true"}
        if provider == "passphrase" and not (
            os.environ.get("PULUMI_CONFIG_PASSPHRASE")
            or os.environ.get("PULUMI_CONFIG_PASSPHRASE_FILE")
        ):
            env["PULUMI_CONFIG_PASSPHRASE_FILE"] = str(_passphrase_file())
        return cls(backend_url=backend, secrets_provider=provider, env=env)
