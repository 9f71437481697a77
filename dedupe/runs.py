"""Repeated blocks: runs of consecutive repeats, and what sits inside them.

A body scraped twice repeats as a block, and its short lines (a subheading,
"Advertisement", the tail of a re-wrapped paragraph) repeat with it though
they are too short to be removed on their own. Two passes extend the
decisions of the groups stage, each by an exact measure:

* pieces: a run of short lines that are whole-word pieces of longer kept
  paragraphs, in order, two or more from the same paragraph, together at
  least ``min_words`` long (a copy re-wrapped into shorter lines);
* alignment: a paragraph within ``GAP`` paragraphs of an anchor (a paragraph
  removed on its own, or a piece) is removed when it matches the paragraph at
  the same place in the twin run: equal keys, Jaccard of shingle sets at or
  above the threshold, rapidfuzz ratio at or above it (keys of
  ``MIN_RATIO_WORDS`` words or more: typos cost little there), or its key found
  as whole words in the twin paragraph. Aligned paragraphs never anchor further
  alignment, so a block cannot creep through look-alike text.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain

from dedupe.groups import Decision, Unit
from dedupe.verify import Method, jaccard, ratio

# How many kept paragraphs may separate a paragraph from the anchors around it.
GAP = 3
# A character ratio forgives a changed word as readily as a typo; in a short
# line ("the user team" / "the CPU team") that word is the content.
MIN_RATIO_WORDS = 15


@dataclass(frozen=True, slots=True)
class Run:
    """Removed paragraphs ``members`` (consecutive indexes) repeating ``twins``."""

    members: tuple[int, ...]
    twins: tuple[int, ...]


def _whole_words_in(short: str, long: str) -> bool:
    return bool(short) and len(short) < len(long) and f" {short} " in f" {long} "


def find_pieces(
    units: Sequence[Unit], decisions: dict[int, Decision], *, min_words: int, shingle_size: int
) -> dict[int, Decision]:
    """Decisions for short lines that re-wrap kept paragraphs (``CONTAINED``, in a block)."""
    # A twin of a removed paragraph stays, whatever else it repeats.
    twins = {t for d in decisions.values() for t in d.twins}
    short = [
        i
        for i, u in enumerate(units)
        if i not in decisions and i not in twins and shingle_size <= u.tokens < min_words
    ]
    if not short:
        return {}
    wanted = set(chain.from_iterable(units[i].shingles for i in short))
    postings: dict[int, list[int]] = defaultdict(list)
    for i, unit in enumerate(units):
        if i not in decisions and unit.tokens >= max(min_words, 1):
            for h in wanted.intersection(unit.shingles):
                postings[h].append(i)
    piece_of: dict[int, int] = {}
    for i in short:
        unit = units[i]
        # Every word n-gram of a whole-word piece is in its paragraph: the
        # rarest one's postings hold every candidate.
        rarest = min(unit.shingles, key=lambda h: (len(postings.get(h, ())), h))
        for t in postings.get(rarest, ()):
            if t != i and _whole_words_in(unit.key, units[t].key):
                piece_of[i] = t
                break
    found: dict[int, Decision] = {}
    run: list[int] = []
    for i in [*sorted(piece_of), -1]:
        if run and (i != run[-1] + 1 or piece_of[i] < piece_of[run[-1]]):
            wrapped = [piece_of[j] for j in run]
            split = len(set(wrapped)) < len(wrapped)
            if split and sum(units[j].tokens for j in run) >= min_words:
                found.update(
                    {j: Decision(j, (piece_of[j],), Method.CONTAINED, 1.0, True) for j in run}
                )
            run = []
        if i >= 0:
            run.append(i)
    return found


def _match(
    unit: Unit, other: Unit, threshold: float, *, allow_contained: bool
) -> tuple[Method, float] | None:
    if unit.key == other.key:
        return Method.EXACT, 1.0
    if allow_contained and _whole_words_in(unit.key, other.key):
        return Method.CONTAINED, 1.0
    near = jaccard(unit.shingles, other.shingles)
    if unit.tokens >= MIN_RATIO_WORDS:
        near = max(near, ratio(unit.key, other.key))
    if near >= threshold:
        return Method.NEAR, near
    return None


def _anchor(index: int, step: int, anchors: dict[int, Decision], n: int) -> int | None:
    j = index + step
    for _ in range(GAP):
        if not 0 <= j < n:
            return None
        if j in anchors:
            return j
        j += step
    return None


def align(
    units: Sequence[Unit], anchors: dict[int, Decision], *, threshold: float
) -> dict[int, Decision]:
    """``anchors`` plus the paragraphs aligned with them (``in_block``).

    ``units`` are all paragraphs in text order; a paragraph whose key is empty
    (punctuation only) compares by its stripped text, given as its key.
    """
    if not anchors:
        return {}
    removed = dict(anchors)
    twins = {t for d in removed.values() for t in d.twins}
    n = len(units)
    for g in range(n):
        if g in removed or g in twins or not units[g].key:
            continue
        before = _anchor(g, -1, anchors, n)
        after = _anchor(g, +1, anchors, n)
        options: list[tuple[int, bool]] = []
        if before is not None and after is not None:
            lo, hi = min(anchors[before].twins), min(anchors[after].twins)
            if lo < hi <= lo + (after - before) + GAP:
                options = [(c, True) for c in range(lo, hi + 1) if not before <= c <= after]
        elif before is not None:
            twin = min(anchors[before].twins)
            # Next to a run, only a line of two words or more may be a piece
            # of the twin: one word found in a paragraph proves nothing.
            options = [(twin + (g - before), False), (twin, units[g].tokens > 1)]
        elif after is not None:
            twin = min(anchors[after].twins)
            options = [(twin - (after - g), False), (twin, units[g].tokens > 1)]
        best: tuple[int, Method, float] | None = None
        for c, contained_ok in options:
            if not 0 <= c < n or c in removed or c == g:
                continue
            found = _match(units[g], units[c], threshold, allow_contained=contained_ok)
            if found and (best is None or found[1] > best[2]):
                best = (c, found[0], found[1])
        if best is not None:
            c, method, sim = best
            removed[g] = Decision(g, (c,), method, sim, in_block=True)
            twins.add(c)
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
