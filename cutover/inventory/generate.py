"""Seeded, deterministic generators for the bulk data of an inventory.

Large data (thousands of mailboxes, portal pages, accounts) is generated at load from a
seed instead of being committed. The same seed and counts give the same data on every
machine: each province draws from its own ``random.Random`` seeded by a string, which
Python hashes deterministically (unlike ``hash()``).

Names follow Vietnamese usage, with family names weighted as in the population (Nguyen
is about four in ten), so local parts such as ``annv`` (An, Nguyen Van) recur across
provinces: the collisions a real merger of mail systems has to resolve.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

# (ASCII form, display form, weight in percent)
FAMILY = (
    ("nguyen", "Nguyễn", 38),
    ("tran", "Trần", 11),
    ("le", "Lê", 9),
    ("pham", "Phạm", 7),
    ("hoang", "Hoàng", 5),
    ("huynh", "Huỳnh", 5),
    ("phan", "Phan", 4),
    ("vo", "Võ", 4),
    ("dang", "Đặng", 2),
    ("bui", "Bùi", 2),
    ("do", "Đỗ", 2),
    ("ho", "Hồ", 2),
    ("ngo", "Ngô", 2),
    ("duong", "Dương", 1),
)
MIDDLE = (("van", "Văn", 40), ("thi", "Thị", 35), ("minh", "Minh", 8), ("ngoc", "Ngọc", 7),
          ("duc", "Đức", 5), ("thanh", "Thanh", 5))  # fmt: skip
GIVEN = (
    ("an", "An"), ("binh", "Bình"), ("cuong", "Cường"), ("dung", "Dũng"), ("giang", "Giang"),
    ("ha", "Hà"), ("hai", "Hải"), ("hung", "Hùng"), ("huong", "Hương"), ("lan", "Lan"),
    ("linh", "Linh"), ("long", "Long"), ("mai", "Mai"), ("nam", "Nam"), ("phong", "Phong"),
    ("phuong", "Phương"), ("quan", "Quân"), ("son", "Sơn"), ("tam", "Tâm"), ("thao", "Thảo"),
    ("trang", "Trang"), ("tuan", "Tuấn"), ("vy", "Vy"), ("yen", "Yến"),
)  # fmt: skip

TOPICS = (
    "hoi-nghi-giao-ban", "chuyen-doi-so", "cai-cach-hanh-chinh", "phong-chong-thien-tai",
    "dau-tu-cong", "giao-duc", "y-te", "nong-nghiep", "du-lich", "an-sinh-xa-hoi",
)  # fmt: skip


@dataclass(frozen=True)
class Person:
    local: str
    name: str


def _weighted(rng: random.Random, table: tuple[tuple[str, str, int], ...]) -> tuple[str, str]:
    ascii_form, display, _ = rng.choices(table, weights=[w for *_, w in table])[0]
    return ascii_form, display


def people(seed: int, province: str, count: int) -> list[Person]:
    """``count`` staff of one province, with local parts unique within the province
    (a second ``annv`` becomes ``annv2``, as mail administrators do)."""
    rng = random.Random(f"{seed}:{province}:people")  # noqa: S311 -- test data, not secrets
    seen: dict[str, int] = {}
    result: list[Person] = []
    for _ in range(count):
        fam, fam_d = _weighted(rng, FAMILY)
        mid, mid_d = _weighted(rng, MIDDLE)
        giv, giv_d = rng.choice(GIVEN)
        base = f"{giv}{fam[0]}{mid[0]}"
        seen[base] = seen.get(base, 0) + 1
        local = base if seen[base] == 1 else f"{base}{seen[base]}"
        result.append(Person(local, f"{fam_d} {mid_d} {giv_d}"))
    return result


def page_paths(seed: int, province: str, sections: list[str], per_section: int) -> Iterator[str]:
    """The paths of one province's portal: the home page, then ``per_section`` articles
    per section, named like the provinces' CMSs name them (``/<section>/<slug>-<id>.html``)."""
    rng = random.Random(f"{seed}:{province}:pages")  # noqa: S311 -- test data, not secrets
    yield "/"
    for section in sections:
        yield f"/{section}/"
        seen: set[int] = set()
        while len(seen) < per_section:
            article = rng.randrange(100_000, 999_999)
            if article not in seen:  # ids are unique within a section, as in a CMS
                seen.add(article)
                yield f"/{section}/{rng.choice(TOPICS)}-{article}.html"
