"""Repeated blocks: runs of consecutive repeats, and what sits inside them.

A body scraped twice repeats as a block, and its short lines (a subheading,
"Advertisement", the tail of a re-wrapped paragraph) repeat with it though
they are too short to be removed on their own. Alignment extends the
decisions of the groups stage: a paragraph lying between (or right next to)
confirmed repeats is removed when it matches the paragraph at the same place
in the twin run, by an exact measure: equal keys, rapidfuzz ratio at or above
the threshold, or containment of its key in the twin paragraph.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dedupe.groups import Decision
from dedupe.verify import Method, ratio, segment_containment

# How many kept paragraphs may separate a paragraph from the repeats around it.
GAP = 3


@dataclass(frozen=True, slots=True)
class Run:
    """Removed paragraphs ``members`` (consecutive indexes) repeating ``twins``."""

    members: tuple[int, ...]
    twins: tuple[int, ...]


def _match(
    key: str, other: str, threshold: float, *, allow_contained: bool
) -> tuple[Method, float] | None:
    if key == other:
        return Method.EXACT, 1.0
    best: tuple[Method, float] | None = None
    near = ratio(key, other)
    if near >= threshold:
        best = (Method.NEAR, near)
    if allow_contained:
        inside = segment_containment(key, other)
        if inside >= threshold and (best is None or inside > best[1]):
            best = (Method.CONTAINED, inside)
    return best


def _neighbour(index: int, step: int, removed: dict[int, Decision], n: int) -> int | None:
    j = index + step
    for _ in range(GAP):
        if not 0 <= j < n:
            return None
        if j in removed:
            return j
        j += step
    return None


def align(
    keys: Sequence[str], decisions: dict[int, Decision], *, threshold: float
) -> dict[int, Decision]:
    """``decisions`` plus the paragraphs aligned inside runs of repeats (``in_block``)."""
    removed = dict(decisions)
    twins = {t for d in removed.values() for t in d.twins}
    n = len(keys)
    changed = True
    while changed:
        changed = False
        for g in range(n):
            if g in removed or g in twins or not keys[g]:
                continue
            before = _neighbour(g, -1, removed, n)
            after = _neighbour(g, +1, removed, n)
            options: list[tuple[int, bool]] = []
            if before is not None and after is not None:
                lo, hi = min(removed[before].twins), min(removed[after].twins)
                if lo < hi <= lo + (after - before) + GAP:
                    options = [
                        (c, True)
                        for c in range(lo, hi + 1)
                        if c not in removed and c != g and not before <= c <= after
                    ]
            elif before is not None:
                anchor = min(removed[before].twins)
                options = [(anchor + (g - before), False), (anchor, True)]
            elif after is not None:
                anchor = min(removed[after].twins)
                options = [(anchor - (after - g), False), (anchor, True)]
            best: tuple[int, Method, float] | None = None
            for c, contained_ok in options:
                if not 0 <= c < n or c in removed or c == g:
                    continue
                # A one-word line next to a run must match exactly: containment of
                # a single word in a neighbouring paragraph proves nothing.
                inside = before is not None and after is not None
                allow = contained_ok and (inside or " " in keys[g])
                found = _match(keys[g], keys[c], threshold, allow_contained=allow)
                if found and (best is None or found[1] > best[2]):
                    best = (c, found[0], found[1])
            if best is not None:
                c, method, sim = best
                removed[g] = Decision(g, (c,), method, sim, in_block=True)
                twins.add(c)
                changed = True
    return dict(sorted(removed.items()))


def find_runs(decisions: dict[int, Decision]) -> tuple[Run, ...]:
    """Removed paragraphs grouped into runs: consecutive indexes whose twins never move back."""
    runs: list[Run] = []
    members: list[int] = []
    twins: list[int] = []
    for index in sorted(decisions):
        twin = min(decisions[index].twins)
        if members and (index != members[-1] + 1 or twin < twins[-1]):
            runs.append(Run(tuple(members), tuple(twins)))
            members, twins = [], []
        members.append(index)
        twins.append(twin)
    if members:
        runs.append(Run(tuple(members), tuple(twins)))
    return tuple(runs)
