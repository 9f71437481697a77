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
  as whole words in the twin paragraph; between two anchors, a short line
  also matches with a small edit (rapidfuzz ratio of ``SHORT_EDIT_RATIO`` or
  more). Aligned paragraphs never anchor further alignment, so a block cannot
  creep through look-alike text.

Two more passes use the same idea, that a block is evidence a lone match is not:

* short runs: lines too short to go on their own (menus, link lists,
  captions with their credits) go when two or more of them repeat, in the
  same order, lines found earlier; a refrain (a run that repeats a line
  within itself, follows its twin back to back, or is plain text that comes
  back three times or more: a song's chorus) is content and stays;
* corroboration: a paragraph that differs from its twin (``NEAR``, or
  ``CONTAINED`` as a whole sentence) loses words when it goes. It goes when it
  reads worse than its twin (inside a link, a URL, markup), when it is a cut
  piece of it (a teaser) or the same words with a short label, or when a
  neighbour repeats the twin's neighbour or another removal lies beside it
  with its twin beside the twin, in the same direction; two paragraphs
  alike but for a number (items of a list) both stay.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Literal

from dedupe.cleaning.groups import REFRAIN_COPIES, Decision, Unit, neighbours_repeat
from dedupe.core.forms import Form, is_fragment
from dedupe.core.normalize import fold_digits
from dedupe.core.verify import Method, jaccard, ratio

Place = Literal["free", "edge", "framed"]

# How many kept paragraphs may separate a paragraph from the anchors around it.
GAP = 3
# A character ratio forgives a changed word as readily as a typo; in a short
# line ("the user team" / "the CPU team") that word is the content.
MIN_RATIO_WORDS = 15
# Between two anchors, a short line at its twin's place may differ by a typo
# or a changed number: the block around it says it is the same line.
SHORT_EDIT_RATIO = 0.9
# How far apart two anchors that agree on the diagonal may frame a stretch.
DIAGONAL_REACH = 32
# Passes of alignment: each may follow a confirmed block further.
ALIGN_ROUNDS = 4
# A lone near copy this alike (rapidfuzz ratio of the keys: a typo or two),
# further than LIST_REACH paragraphs from its twin, goes as an edited copy;
# nearer, alike paragraphs are items of a list ("item 11111", "item 22222").
LONE_NEAR = 0.95
LIST_REACH = 2 * GAP
# Words a label adds to a line it repeats ("Next article", a site's name).
LABEL_WORDS = 4
# Earlier occurrences of a line tried as the start of a repeated run.
RUN_STARTS = 16


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
    unit: Unit, other: Unit, threshold: float, *, allow_contained: bool, place: Place = "free"
) -> tuple[Method, float] | None:
    """How ``unit`` matches ``other``. ``place``: ``"framed"`` when anchors on
    both sides point to ``other`` (a short line may then differ by a small edit
    or in its digits), ``"edge"`` when the anchor on one side does (a short line
    may differ by a typo: rapidfuzz ratio ``SHORT_EDIT_RATIO`` or more),
    ``"free"`` otherwise."""
    if unit.key == other.key:
        return Method.EXACT, 1.0
    if allow_contained and _whole_words_in(unit.key, other.key):
        return Method.CONTAINED, 1.0
    near = jaccard(unit.shingles, other.shingles)
    if unit.tokens >= MIN_RATIO_WORDS:
        near = max(near, ratio(unit.key, other.key))
    elif place == "framed" or (place == "edge" and unit.tokens <= 1):
        # Framed by anchors, or a one-word line (which goes only between
        # removed lines, see _hemmed): a small edit or other digits.
        if fold_digits(unit.key) == fold_digits(other.key):
            return Method.NEAR, 1.0  # the same line up to its digits
        near = max(near, ratio(unit.key, other.key))
    elif place == "edge":
        edited = ratio(unit.key, other.key)
        if edited >= max(threshold, SHORT_EDIT_RATIO):
            near = max(near, edited)
    if near >= threshold:
        return Method.NEAR, near
    return None


class _Anchors:
    """The strong anchors of one round of alignment, asked about in index order.

    A round visits paragraphs in ascending order and adds an anchor only at
    the paragraph it visits, so the nearest anchor after ``g`` is one known
    when the round began, and the nearest before it is the last one met on
    the way: both found without walking the gap (which made alignment cost
    ``DIAGONAL_REACH`` steps a paragraph).
    """

    def __init__(self, strong: dict[int, Decision]) -> None:
        self.decisions = strong
        self._later = sorted(strong)
        self._last: int | None = None
        self._at = 0

    def visit(self, g: int) -> None:
        """Move to paragraph ``g``; call for every paragraph, in ascending order."""
        for j in range(self._at, g):
            if j in self.decisions:
                self._last = j
        self._at = g

    def before(self, g: int, *, reach: int = GAP) -> int | None:
        """The nearest anchor before ``g`` at most ``reach`` paragraphs away."""
        last = self._last
        return last if last is not None and g - last <= reach else None

    def after(self, g: int, *, reach: int = GAP) -> int | None:
        """The nearest anchor after ``g`` at most ``reach`` paragraphs away."""
        k = bisect_right(self._later, g)
        if k < len(self._later) and self._later[k] - g <= reach:
            return self._later[k]
        return None


def _options(
    g: int, units: Sequence[Unit], anchors: _Anchors
) -> tuple[list[tuple[int, bool]], int | None, Place]:
    """Places in the twin run where paragraph ``g`` may repeat (and whether it
    may be a piece of that place), the diagonal place (where the anchors put
    ``g``'s twin) and how it is known: ``"framed"`` by anchors on both sides
    that agree on it, or at the ``"edge"`` of a run."""
    strong = anchors.decisions
    before = anchors.before(g)
    after = anchors.after(g)
    if before is None or after is None:
        # Farther apart, anchors that agree on the diagonal still frame the
        # stretch between them line for line (an edited copy of a list).
        far_before = anchors.before(g, reach=DIAGONAL_REACH)
        far_after = anchors.after(g, reach=DIAGONAL_REACH)
        if far_before is not None and far_after is not None:
            offset = max(strong[far_before].twins) - far_before
            if offset == min(strong[far_after].twins) - far_after:
                return [(g + offset, False)], g + offset, "framed"
    if before is not None and after is not None:
        lo, hi = max(strong[before].twins), min(strong[after].twins)
        diagonal = g + lo - before if lo - before == hi - after else None
        if lo < hi <= lo + (after - before) + GAP:
            places = [(c, True) for c in range(lo, hi + 1) if not before <= c <= after]
            return places, diagonal, "framed"
        return [], None, "free"
    if before is not None:
        twin = max(strong[before].twins)
        # Next to a run, only a line of two words or more may be a piece
        # of the twin: one word found in a paragraph proves nothing.
        place = twin + (g - before)
        # One further when a near twin hid a short paragraph merged into it.
        return [(place, False), (twin, units[g].tokens > 1), (place + 1, False)], place, "edge"
    if after is not None:
        twin = min(strong[after].twins)
        place = twin - (after - g)
        return [(place, False), (twin, units[g].tokens > 1)], place, "edge"
    return [], None, "free"


def _hemmed(
    g: int,
    c: int,
    units: Sequence[Unit],
    removed: dict[int, Decision],
    twins: set[int],
    threshold: float,
) -> bool:
    """Whether the one-word line ``g`` (matching ``c``) lies in a stretch of
    one-word lines equal to the stretch beside ``c``, with removed paragraphs
    on both sides of that stretch, or the text's ends, or twins (a copy that
    follows the run it repeats)."""
    n = len(units)
    for step in (-1, 1):
        j, k = g + step, c + step
        while 0 <= j < n and 0 <= k < n and units[j].tokens <= 1 and j not in removed:
            if not units[j].key or not _alike(units[j].key, units[k].key, threshold):
                return False
            j, k = j + step, k + step
        if 0 <= j < n and j not in removed and j not in twins:
            return False
    return True


def _alike(a: str, b: str, threshold: float) -> bool:
    """Equal keys, equal up to digits, or a small edit apart."""
    return a == b or fold_digits(a) == fold_digits(b) or ratio(a, b) >= threshold


def _joined(
    g: int, units: Sequence[Unit], anchors: _Anchors, removed: dict[int, Decision]
) -> tuple[int, int] | None:
    """Two consecutive paragraphs of the twin run whose keys, joined, are the key
    of ``g``: a merged copy's short line, where the anchors around it put it."""
    n = len(units)
    strong = anchors.decisions
    before = anchors.before(g)
    after = anchors.after(g)
    if before is not None and after is not None:
        lo, hi = min(strong[before].twins), min(strong[after].twins)
        places = range(lo, hi) if lo < hi <= lo + 2 * (after - before) + GAP else range(0)
    elif before is not None:
        places = range(max(strong[before].twins) + 1, max(strong[before].twins) + 2)
    elif after is not None:
        places = range(min(strong[after].twins) - 2, min(strong[after].twins) - 1)
    else:
        return None
    key = units[g].key
    for a in places:
        b = a + 1
        if a < 0 or b >= n or g in (a, b) or a in removed or b in removed:
            continue
        if units[a].key and units[b].key and key == f"{units[a].key} {units[b].key}":
            return a, b
    return None


def align(
    units: Sequence[Unit], anchors: dict[int, Decision], *, threshold: float
) -> dict[int, Decision]:
    """``anchors`` plus the paragraphs aligned with them (``in_block``).

    ``units`` are all paragraphs in text order; a paragraph whose key is empty
    (punctuation only) compares by its stripped text, given as its key. A
    paragraph equal to its place in the twin run (the same key, or between two
    anchors that agree on the place, the same up to its digits) anchors in
    turn, so a confirmed block is followed to its end; nothing else does. A
    short line whose key is two consecutive twins' keys joined goes as
    ``COVERED`` (similarity 1.0: the keys are equal).
    """
    if not anchors:
        return {}
    removed = dict(anchors)
    strong = dict(anchors)
    twins = {t for d in removed.values() for t in d.twins}
    n = len(units)
    for _ in range(ALIGN_ROUNDS):
        grew = False
        near = _Anchors(strong)
        for g in range(n):
            near.visit(g)
            if g in removed or g in twins or not units[g].key:
                continue
            options, diagonal, known = _options(g, units, near)
            best: tuple[int, Method, float] | None = None
            for c, contained_ok in options:
                if not 0 <= c < n or c in removed or c == g:
                    continue
                found = _match(
                    units[g],
                    units[c],
                    threshold,
                    # Only a later piece goes for its container: a copy is cut
                    # up after the text it copies, not before.
                    allow_contained=contained_ok and c < g,
                    place=known if c == diagonal else "free",
                )
                if found and known == "edge" and diagonal is not None and c == diagonal + 1:
                    found = found if found[0] is Method.EXACT else None
                if found and (best is None or found[1] > best[2]):
                    best = (c, found[0], found[1])
            if best is None:
                joined = _joined(g, units, near, removed)
                if joined is not None:
                    removed[g] = strong[g] = Decision(g, joined, Method.COVERED, 1.0, in_block=True)
                    twins.update(joined)
                    grew = True
                continue
            c, method, sim = best
            one_word = units[g].tokens <= 1
            if one_word and not _hemmed(g, c, units, removed, twins, threshold):
                # A number or a lone word proves nothing by itself ("1" of one
                # list and "1" of another): it goes only between removed lines.
                continue
            removed[g] = Decision(g, (c,), method, sim, in_block=True)
            twins.add(c)
            grew = True
            if (method is Method.EXACT or c == diagonal) and not one_word:
                strong[g] = removed[g]
        if not grew:
            break
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


def find_short_runs(
    units: Sequence[Unit], decisions: dict[int, Decision], *, min_words: int
) -> dict[int, Decision]:
    """Decisions (``EXACT``, in a block) for runs of two or more lines that
    repeat, in the same order, lines found earlier, two or more of them too
    short to go on their own. A refrain stays: a run that repeats a line within
    itself, that follows its twin with nothing between, or whose lines are
    plain text and one of them comes ``REFRAIN_COPIES`` times or more."""
    twins = {t for d in decisions.values() for t in d.twins}
    seen: dict[str, list[int]] = defaultdict(list)
    counts = Counter(u.key for u in units)
    found: dict[int, Decision] = {}
    n = len(units)
    i = 0
    while i < n:
        key = units[i].key
        starts = seen[key][-RUN_STARTS:] if key and i not in twins else []
        best, best_len = -1, 1
        for j in starts:
            length = 0
            while (
                i + length < n
                and j + length < i
                and units[i + length].key
                and units[i + length].key == units[j + length].key
                and i + length not in twins
            ):
                length += 1
            if length > best_len:
                best, best_len = j, length
        if best < 0:
            if key:
                seen[key].append(i)
            i += 1
            continue
        members = range(i, i + best_len)
        keys = [units[m].key for m in members]
        new = [m for m in members if m not in decisions and m not in found]
        # A run right after its twin, one with a line twice, or lines of plain
        # text that come back again and again, is a refrain.
        refrain = (
            best + best_len == i
            or len(set(keys)) < len(keys)
            or (
                any(counts[k] >= REFRAIN_COPIES for k in keys)
                and all(units[m].form is Form.PROSE for m in members)
            )
        )
        if not refrain and sum(units[m].tokens < min_words for m in new) >= 2:
            for m in new:
                found[m] = Decision(m, (best + m - i,), Method.EXACT, 1.0, in_block=True)
        for m in members:
            seen[units[m].key].append(m)
        i += best_len
    return found


def corroborate(
    units: Sequence[Unit], texts: Sequence[str], decisions: dict[int, Decision]
) -> dict[int, Decision]:
    """``decisions`` less the removals that would lose words on a lone match:
    a paragraph that differs from its only twin (``NEAR``, or ``CONTAINED``
    as whole sentences) and reads no worse than it, with no neighbour that
    repeats the twin's neighbour and no removal beside it whose twin lies
    beside its twin, in the same direction."""
    kept: dict[int, Decision] = {}
    dropped: list[int] = []
    for i, d in decisions.items():
        if d.method not in (Method.NEAR, Method.CONTAINED) or d.in_block or len(d.twins) != 1:
            kept[i] = d
            continue
        twin = d.twins[0]
        if (
            units[i].form > units[twin].form
            or (
                d.method is Method.CONTAINED
                and is_fragment(texts[i], units[i].key, units[twin].key)
            )
            # One is the other with a label added (a site's name, "Next article").
            or _labelled(units[i].key, units[twin].key)
            or _beside(i, twin, units, decisions)
            # Far from its twin and alike but for a few characters: an edited copy.
            or (
                d.method is Method.NEAR
                and abs(i - twin) > LIST_REACH
                and ratio(units[i].key, units[twin].key) >= LONE_NEAR
            )
        ):
            kept[i] = d
        else:
            dropped.append(i)
    # A paragraph that stays now is the twin of its exact copies again (they
    # had followed it to the twin it lost).
    gone = set(dropped)
    first: dict[str, int] = {}
    for i in sorted(dropped):
        first.setdefault(units[i].key, i)
    for j, d in sorted(decisions.items()):
        i = first.get(units[j].key, j)
        if i < j and d.method is not Method.EXACT and (j in gone or j in kept):
            kept[j] = Decision(j, (i,), Method.EXACT, 1.0)
    return dict(sorted(kept.items()))


def _labelled(a: str, b: str) -> bool:
    """One key is the other with at most ``LABEL_WORDS`` words before or after it."""
    short, long = sorted((a, b), key=len)
    if not (long.startswith(short + " ") or long.endswith(" " + short)):
        return False
    return len(long.split()) - len(short.split()) <= LABEL_WORDS


def _beside(i: int, twin: int, units: Sequence[Unit], decisions: dict[int, Decision]) -> bool:
    if neighbours_repeat(units, i, twin):
        return True
    n = len(units)
    for j in range(max(0, i - GAP - 1), min(n, i + GAP + 2)):
        other = decisions.get(j)
        if j == i or other is None:
            continue
        moved = min(other.twins) - twin
        # A copy of a block lies apart from what it repeats; items of a list
        # follow one another alike, each the twin of the next.
        apart = max(twin, min(other.twins)) < min(i, j)
        if apart and (j - i) * moved > 0 and abs(moved) <= abs(j - i) + GAP:
            return True
    return False
