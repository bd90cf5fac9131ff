"""The redirect map of the old portals, rendered as one nginx ``map`` file.

nginx looks ``map`` strings up in a hash (matched ignoring case), so 100,000 entries cost
what 1,000 do at request time (LAB-NOTES: ~110k req/s either way); the file is rendered
here in one pass and copied as one file, never one task per URL.

Three maps, all at ``http`` level (``conf.d/``):
- ``$host`` -> the old portal's domain (``www.kontum.gov.vn`` -> ``kontum.gov.vn``);
- that domain -> its landing page on the merged portal, for paths not in the map
  (a 301 to a sensible page, never a 404 for a path that existed before);
- ``<domain><path>`` -> the new URL, defaulting to the landing page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote

from cutover.errors import ConfigError
from cutover.inventory.portal import split

HOST_VAR = "$cutover_old_portal"
FALLBACK_VAR = "$cutover_old_landing"
TARGET_VAR = "$cutover_redirect"
# Characters kept as they are inside a quoted nginx string; everything else is
# percent-encoded ($ would start a variable, quotes and backslashes end the string).
_SAFE = "/:@!&'()*+,;=-._~%?"
_PLAIN = re.compile(r"^[A-Za-z0-9/:@!&'()*+,;=._~%?-]*$")


@dataclass(frozen=True)
class RedirectMap:
    text: str
    entries: int
    max_key: int


def _safe(text: str) -> str:
    """``text`` as it may stand in a quoted nginx string (percent-encoded if needed)."""
    return text if _PLAIN.match(text) else quote(text, safe=_SAFE)


def hash_sizes(entries: int, max_key: int) -> tuple[int, int]:
    """``map_hash_max_size`` and ``map_hash_bucket_size`` that fit the map at once
    (nginx refuses to start rather than grow them itself)."""
    max_size = 1 << max(11, (entries * 2).bit_length())
    bucket = 64
    while bucket < max_key + 16:
        bucket *= 2
    return max_size, bucket


def render(
    url_map: Mapping[str, str],
    hosts: Mapping[str, Iterable[str]],
    landing: Mapping[str, str],
) -> RedirectMap:
    """The map file.

    ``url_map``: old URL -> new URL; ``hosts``: old domain -> the names it is served
    under (``kontum.gov.vn``, ``www.kontum.gov.vn``); ``landing``: old domain -> where
    its unmapped paths go.
    """
    body, max_key = _entries(url_map, hosts)
    max_size, bucket = hash_sizes(len(body), max_key)
    lines = [
        "# Rendered by the portal cutover from the inventory's URL map: do not edit.",
        f"map_hash_max_size {max_size};",
        f"map_hash_bucket_size {bucket};",
        f"map $host {HOST_VAR} {{",
        '    default "";',
    ]
    for domain, names in sorted(hosts.items()):
        for name in dict.fromkeys(names):
            lines.append(f'    "{_safe(name.lower())}" "{_safe(domain)}";')
    lines.append("}")
    lines += [f"map {HOST_VAR} {FALLBACK_VAR} {{", '    default "";']
    for domain, url in sorted(landing.items()):
        lines.append(f'    "{_safe(domain)}" "{_safe(url)}";')
    lines.append("}")
    lines += [f'map "{HOST_VAR}$uri" {TARGET_VAR} {{', f"    default {FALLBACK_VAR};", *body]
    lines += ["}", ""]
    return RedirectMap("\n".join(lines), len(body), max_key)


def _entries(
    url_map: Mapping[str, str], hosts: Mapping[str, Iterable[str]]
) -> tuple[list[str], int]:
    body: list[str] = []
    seen: dict[str, str] = {}
    max_key = 0
    for old, new in url_map.items():
        domain, path = split(old)
        if domain not in hosts:
            raise ConfigError(f"URL map entry {old!r}: {domain} is no old portal being moved")
        key = _safe(domain + path)
        folded = key.lower()  # nginx matches map strings ignoring case
        if folded in seen:
            if seen[folded] == new:
                continue
            raise ConfigError(
                f"URL map entries {old!r} and another differ only by case "
                f"and go to different pages ({seen[folded]!r}, {new!r})",
                hint="nginx matches paths ignoring case: keep one of them",
            )
        seen[folded] = new
        max_key = max(max_key, len(key))
        body.append(f'    "{key}" "{_safe(new)}";')
    return body, max_key
