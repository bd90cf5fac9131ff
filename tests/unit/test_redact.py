"""Redactor.text: every occurrence of every secret masked, through either of its ways
(substring searches for a few secrets, the prefix index for thousands)."""

from __future__ import annotations

import random

import pytest

from cutover import redact
from cutover.redact import MASK, Redactor


@pytest.fixture(params=["search", "index"])
def way(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(redact, "SEARCH_LIMIT", 10**9 if request.param == "search" else 0)
    return str(request.param)


def test_every_occurrence_is_masked(way: str) -> None:
    r = Redactor(["hunter2-key", "s3cret-pw"])
    assert r.text("a hunter2-key b s3cret-pw c hunter2-key") == f"a {MASK} b {MASK} c {MASK}"


def test_overlapping_and_nested_secrets_leave_no_part(way: str) -> None:
    r = Redactor(["abcdef", "defghi", "bcd"])
    out = r.text("x abcdefghi y")
    assert out == f"x {MASK} y"
    for part in ("abc", "def", "ghi"):
        assert part not in out


def test_short_values_are_not_secrets(way: str) -> None:
    r = Redactor(["abc", "long-enough"])
    assert r.text("abc long-enough") == f"abc {MASK}"


def test_both_ways_agree_on_random_text(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(19)
    alphabet = "abcd"  # a small alphabet: many overlaps and near misses
    secrets = ["".join(rng.choice(alphabet) for _ in range(rng.randint(4, 7))) for _ in range(40)]
    texts = ["".join(rng.choice(alphabet + " ") for _ in range(120)) for _ in range(200)]
    results = {}
    for limit in (10**9, 0):
        monkeypatch.setattr(redact, "SEARCH_LIMIT", limit)
        r = Redactor(secrets)
        results[limit] = [r.text(t) for t in texts]
    assert results[10**9] == results[0]
    assert any(MASK in t for t in results[0])
    for masked in results[0]:
        for secret in secrets:
            assert secret not in masked.replace(MASK, " ")
