"""The step graph: order, cycles, ancestry and the critical path."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def find_cycle(needs: Mapping[str, Sequence[str]]) -> list[str] | None:
    """One dependency cycle as ``[a, b, ..., a]``, or None. Unknown ids are ignored."""
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(needs, white)
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = grey
        stack.append(node)
        for dep in needs[node]:
            if dep not in colour:
                continue
            if colour[dep] == grey:
                return [*stack[stack.index(dep) :], dep]
            if colour[dep] == white and (found := visit(dep)):
                return found
        stack.pop()
        colour[node] = black
        return None

    for node in needs:
        if colour[node] == white and (found := visit(node)):
            return found
    return None


def topo_order(needs: Mapping[str, Sequence[str]]) -> list[str]:
    """Dependencies first; ties keep plan order (so output is stable). Graph must be acyclic."""
    done: set[str] = set()
    order: list[str] = []
    remaining = list(needs)
    while remaining:
        progress = [n for n in remaining if all(d in done for d in needs[n])]
        if not progress:
            raise ValueError("dependency cycle")
        for node in progress:
            done.add(node)
            order.append(node)
        remaining = [n for n in remaining if n not in done]
    return order


def ancestors(needs: Mapping[str, Sequence[str]], node: str) -> set[str]:
    seen: set[str] = set()
    todo = list(needs[node])
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(needs.get(current, ()))
    return seen


def critical_path(
    needs: Mapping[str, Sequence[str]], weight: Mapping[str, float]
) -> tuple[float, list[str]]:
    """The longest chain by ``weight`` (seconds) and its steps, first to last."""
    finish: dict[str, float] = {}
    via: dict[str, str | None] = {}
    for node in topo_order(needs):
        best: str | None = max(needs[node], key=lambda d: finish[d], default=None)
        finish[node] = (finish[best] if best else 0.0) + weight.get(node, 0.0)
        via[node] = best
    if not finish:
        return 0.0, []
    last: str | None = max(finish, key=lambda n: finish[n])
    total = finish[last] if last else 0.0
    path: list[str] = []
    while last is not None:
        path.append(last)
        last = via[last]
    return total, path[::-1]
