"""Decide which texts are duplicates of which kept ones.

Texts are visited in keep order (``article``: the copy that reads as the
article first, see :mod:`dedupe.core.forms`, then input order; ``first``: input
order; ``longest``: longest first, then input order). A text is removed only
when an exact measure ties it to a text that stays kept, so chains A~B~C never
remove a C unlike A: each decision names a kept twin and the similarity
measured against that twin.

1. exact: equal comparison keys (texts shorter than ``min_words`` take part
   only when they are links and markup alone, a repeated menu item, or lines
   of ``LINE_WORDS`` words or more that are not a refrain, see
   :meth:`_Decider.lone_repeat`);
2. near: Jaccard of shingle sets >= threshold, among LSH candidates (or all
   pairs for small inputs);
3. contained / covered: longest first. A text whose shingles lie (>= the
   threshold and >= MIN_CONTAINMENT) in the union of several kept texts goes,
   however long it is (a blob holding the body, a merged copy): the texts
   that cover it come before it in keep order or are paragraphs in their own
   right (``min_words`` or more). Otherwise a text that lies in one longer
   kept text goes, unless that container reads worse than it does (a share
   link or a blob holding the article's line keeps nothing from it).
   Candidates come from postings of the shingles, so no qualifying container
   is ever missed.

Units are given in text order: "adjacent" means consecutive indexes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from itertools import chain

from dedupe.core.candidates import Pairs, all_pairs, candidate_pairs, choose_bands
from dedupe.core.forms import Form
from dedupe.core.minhash import SignatureOptions, sign_hashes
from dedupe.core.shingles import ShingleOptions, as_array, hash_array, shingle_strings
from dedupe.core.verify import Method, containment, cover, jaccard
from dedupe.errors import OptionsError
from dedupe.params import CLEAN_MAX_MISS, GROUP_MIN_WORDS, SHINGLE_SIZE, THRESHOLD

# Up to this many distinct texts, candidates are all pairs rather than LSH.
ALL_PAIRS_MAX = 64
# Removing a contained text deletes whatever of it is not in its container(s),
# so containment asks for more than the similarity threshold.
MIN_CONTAINMENT = 0.95
# Words a line needs to go as an exact repeat on its own: fewer ("Share",
# "Comments", a number) is too little to say it is the same line.
LINE_WORDS = 6
# A line of plain text seen this often is sung or chanted, not navigated.
REFRAIN_COPIES = 3
# Shingles a part of a cover must add: one shared word triple is a phrase, not a copy.
MIN_PART = 3
# Share of what a part holds of a text that no earlier part holds.
PART_NEW = 0.5
# Texts holding one shingle above which it is not counted when looking for containers.
MAX_POSTINGS = 256


class KeepPolicy(str, Enum):
    """Which of a group of duplicates stays: the one that reads as the article
    (then the first), the first in input order, or the longest."""

    ARTICLE = "article"
    FIRST = "first"
    LONGEST = "longest"


@dataclass(frozen=True, slots=True)
class Unit:
    """A text as the decision stages see it: its key, shingles, token count and
    length; ``form``: how its raw text reads; ``noise``: links and markup only."""

    key: str
    shingles: frozenset[int]
    tokens: int
    length: int
    form: Form = Form.PROSE
    noise: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    """Unit ``index`` is removed as a repeat of the kept ``twins`` (one, or two or
    three for ``COVERED``), with the exact ``similarity`` measured by ``method``.
    ``in_block``: decided only because it sits inside a run of confirmed repeats."""

    index: int
    twins: tuple[int, ...]
    method: Method
    similarity: float
    in_block: bool = False


@dataclass(frozen=True, slots=True)
class GroupOptions:
    """``threshold``: similarity needed to remove; ``min_words``: fewer tokens than
    this and a text is never removed on its own; ``use_lsh``: ``None`` picks by
    size, ``True``/``False`` force the LSH or the all-pairs path."""

    threshold: float = THRESHOLD
    min_words: int = GROUP_MIN_WORDS
    keep: KeepPolicy = KeepPolicy.FIRST
    use_lsh: bool | None = None
    signature: SignatureOptions = field(default_factory=SignatureOptions)
    shingle_size: int = SHINGLE_SIZE
    """Words a shingle spans: where paragraphs were joined, ``shingle_size - 1``
    shingles straddle the join and lie in none of them."""

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise OptionsError(f"threshold must be in (0, 1], not {self.threshold}")
        if self.min_words < 0:
            raise OptionsError(f"min_words must be 0 or more, not {self.min_words}")


def neighbours_repeat(units: Sequence[Unit], i: int, twin: int) -> bool:
    """Whether a neighbour of text ``i`` repeats the same neighbour of ``twin``:
    then both sit in runs that repeat (a copy of a block, a chorus, a list
    shown twice). Units are in text order."""
    n = len(units)
    for step in (-1, 1):
        a, b = i + step, twin + step
        if 0 <= a < n and 0 <= b < n and b != i and units[a].key and units[a].key == units[b].key:
            return True
    return False


def keep_order(units: Sequence[Unit], policy: KeepPolicy) -> list[int]:
    """Indexes in the order in which units claim to be kept."""
    if policy is KeepPolicy.LONGEST:
        return sorted(range(len(units)), key=lambda i: (-units[i].length, i))
    if policy is KeepPolicy.ARTICLE:
        return sorted(range(len(units)), key=lambda i: (units[i].form, i))
    return list(range(len(units)))


def _candidates(units: Sequence[Unit], reps: Sequence[int], options: GroupOptions) -> Pairs:
    use_lsh = options.use_lsh if options.use_lsh is not None else len(reps) > ALL_PAIRS_MAX
    if not use_lsh:
        return all_pairs(len(reps))
    signatures = sign_hashes([as_array(units[i].shingles) for i in reps], options.signature)
    choice = choose_bands(options.threshold, options.signature.num_perm, max_miss=CLEAN_MAX_MISS)
    return candidate_pairs(signatures, choice)


class _Decider:
    def __init__(self, units: Sequence[Unit], options: GroupOptions) -> None:
        self.units = units
        self.options = options
        self.order = keep_order(units, options.keep)
        self.rank = {i: r for r, i in enumerate(self.order)}
        self.decisions: dict[int, Decision] = {}
        self.dependents: dict[int, list[int]] = defaultdict(list)

    def remove(self, index: int, twins: tuple[int, ...], method: Method, similarity: float) -> None:
        self.decisions[index] = Decision(index, twins, method, similarity)
        for twin in twins:
            self.dependents[twin].append(index)

    def repoint(self, old: int, twins: tuple[int, ...], method: Method) -> bool:
        """Move the dependents of ``old`` onto ``twins`` if each still verifies
        (by the threshold of ``method``)."""
        deps = self.dependents.get(old, [])
        measured: list[tuple[int, float]] = []
        for dep in deps:
            shingles = self.units[dep].shingles
            if len(twins) == 1:
                twin = self.units[twins[0]].shingles
                measure = jaccard if method is Method.NEAR else containment
                sim = measure(shingles, twin)
            else:
                sim = cover(shingles, [self.units[t].shingles for t in twins], min_gain=0.0)
            needed = self.options.threshold
            if method is not Method.NEAR:
                needed = max(needed, MIN_CONTAINMENT)
            if sim < needed:
                return False
            measured.append((dep, sim))
        for dep, sim in measured:
            self.remove(dep, twins, method, sim)
        self.dependents.pop(old, None)
        return True

    def lone_repeat(self, unit: Unit, copies: int) -> bool:
        """Whether a text shorter than ``min_words`` may go as an exact repeat on
        its own: links and markup alone (a menu item), or a line of
        ``LINE_WORDS`` words or more seen twice (a headline in a second list),
        not plain text that comes back ``REFRAIN_COPIES`` times (a chorus)."""
        if unit.noise:
            return True
        if unit.tokens < min(self.options.min_words, LINE_WORDS):
            return False
        return copies < REFRAIN_COPIES or unit.form is not Form.PROSE

    def exact_and_near(self) -> list[int]:
        units, options = self.units, self.options
        first_by_key: dict[str, int] = {}
        reps: list[int] = []
        copies = Counter(u.key for u in units)
        for i in self.order:
            unit = units[i]
            short = unit.tokens < options.min_words
            if (short and not self.lone_repeat(unit, copies[unit.key])) or not unit.key:
                continue
            rep = first_by_key.setdefault(unit.key, i)
            if rep != i and short and not unit.noise and neighbours_repeat(units, i, rep):
                continue  # part of a repeated run: the runs stage judges it whole
            if rep != i:
                self.remove(i, (rep,), Method.EXACT, 1.0)
            elif not short and unit.shingles:
                # Short noise repeats go only when exact: near, one changed
                # word is all there is to tell two menu items apart.
                reps.append(i)
        neighbours: dict[int, list[int]] = defaultdict(list)
        for a, b in _candidates(units, reps, options).tolist():
            neighbours[reps[a]].append(reps[b])
            neighbours[reps[b]].append(reps[a])
        for p in reps:
            best, best_sim = -1, -1.0
            for q in sorted(neighbours.get(p, ()), key=self.rank.__getitem__):
                if self.rank[q] >= self.rank[p] or q in self.decisions:
                    continue
                sim = jaccard(units[p].shingles, units[q].shingles)
                if sim > best_sim:
                    best, best_sim = q, sim
            if best_sim >= options.threshold and self.repoint(p, (best,), Method.NEAR):
                self.remove(p, (best,), Method.NEAR, best_sim)
        return [i for i in reps if i not in self.decisions]

    def contained_and_covered(self, kept: Sequence[int]) -> None:
        units = self.units
        threshold = max(self.options.threshold, MIN_CONTAINMENT)
        # Any text still kept may hold part of another, short ones included
        # (a merged copy joins a one-line paragraph to the next).
        live = [i for i in range(len(units)) if i not in self.decisions]
        holders = Counter(chain.from_iterable(units[i].shingles for i in live))
        if not holders or max(holders.values()) < 2:
            return  # no two texts share a shingle: nothing lies in another
        # Postings only of the shingles that can name a container: those of the
        # kept texts (a short text goes only as a merged copy, found by key),
        # and of those only the ones held by more than the text itself and
        # not by so many that they are not counted.
        wanted = {
            h
            for h in chain.from_iterable(units[i].shingles for i in kept)
            if 1 < holders[h] <= MAX_POSTINGS
        }
        postings: dict[int, list[int]] = defaultdict(list)
        if wanted:
            for i in live:
                for h in wanted.intersection(units[i].shingles):
                    postings[h].append(i)

        def longer(q: int, p: int) -> bool:
            return (units[q].tokens, -self.rank[q]) > (units[p].tokens, -self.rank[p])

        # A short text goes only as a merged copy: whole paragraphs joined.
        merged_only = {
            i for i in live if units[i].tokens < self.options.min_words and units[i].shingles
        }
        candidates = set(kept) | merged_only
        by_length = sorted(candidates, key=lambda i: (-units[i].tokens, self.rank[i]))
        first_of_key: dict[str, int] = {}
        for i in live:
            if units[i].key:
                first_of_key.setdefault(units[i].key, i)
        for p in by_length:
            if p in self.decisions or any(
                self.decisions[d].method is Method.COVERED for d in self.dependents.get(p, ())
            ):
                continue
            if p in merged_only:
                self.merged_line(p, first_of_key)
                continue
            # Neither a container nor a cover can hold more of ``p`` than the
            # shingles it shares with some other text: most texts share few.
            own = units[p].shingles
            held = sum(1 for h in own if holders[h] > 1)
            if held < self.options.threshold * len(own):
                continue
            # A shingle held by very many texts says little about which of them
            # holds this one; counting it would make long texts quadratic.
            shared: Counter[int] = Counter(
                q for h in own for q in postings.get(h, ()) if q != p and q not in self.decisions
            )
            if not shared:
                continue
            twins, covered = self.best_cover(p, shared)
            if (
                len(twins) > 1
                and covered >= self.options.threshold
                and covered + self.straddling(p, twins) >= threshold
            ):
                if self.repoint(p, twins, Method.COVERED):
                    self.remove(p, twins, Method.COVERED, covered)
                continue
            size = len(units[p].shingles)
            best, best_sim = -1, -1.0
            for q in sorted(shared, key=self.rank.__getitem__):
                if shared[q] * 2 < size or not longer(q, p) or units[q].form > units[p].form:
                    continue
                sim = containment(units[p].shingles, units[q].shingles)
                if sim > best_sim:
                    best, best_sim = q, sim
            if best_sim >= threshold and self.repoint(p, (best,), Method.CONTAINED):
                self.remove(p, (best,), Method.CONTAINED, best_sim)

    def merged_line(self, p: int, first_of_key: dict[str, int]) -> None:
        """Remove the short text ``p`` if its key is the keys of two kept texts
        joined, in order (a merged copy of two short paragraphs), and they hold
        at least ``threshold`` of its shingles."""
        units, words = self.units, self.units[p].key.split()
        for cut in range(1, len(words)):
            a = first_of_key.get(" ".join(words[:cut]))
            b = first_of_key.get(" ".join(words[cut:]))
            if a is None or b is None or p in (a, b) or a == b:
                continue
            if a in self.decisions or b in self.decisions:
                continue
            if self.rank[a] > self.rank[p] or self.rank[b] > self.rank[p]:
                continue
            twins = tuple(sorted((a, b)))
            covered = cover(units[p].shingles, [units[t].shingles for t in twins], min_gain=0.0)
            if covered >= self.options.threshold and self.repoint(p, twins, Method.COVERED):
                self.remove(p, twins, Method.COVERED, covered)
                return

    def straddling(self, p: int, twins: Sequence[int]) -> float:
        """The share of ``p``'s shingles that straddle a join of two parts: runs of
        at most ``shingle_size - 1`` shingles in a row that no part holds, one
        run for each join at most. A merged copy is whole though these are in
        none of its parts."""
        union = frozenset().union(*(self.units[t].shingles for t in twins))
        strings = shingle_strings(self.units[p].key, ShingleOptions(self.options.shingle_size))
        runs: list[int] = []
        run = 0
        for h in [*hash_array(strings).tolist(), None]:
            if h is not None and h not in union:
                run += 1
                continue
            if 0 < run < self.options.shingle_size:
                runs.append(run)
            run = 0
        allowed = sorted(runs)[: len(twins) - 1]
        return sum(allowed) / len(self.units[p].shingles)

    def best_cover(self, p: int, shared: Counter[int]) -> tuple[tuple[int, ...], float]:
        """The kept units that together hold most of ``p`` (greedy set cover),
        and the share of ``p`` they hold; ``shared``: shingles each unit shares
        with ``p``.

        A part lies in ``p`` (at least ``threshold`` of it: a merged copy or a
        blob is made of whole paragraphs, while a sentence pieced together
        from phrases of other sentences is new text), and comes before ``p``
        in keep order or is a paragraph in its own right (``min_words`` or
        more), so the article's own paragraph is never cut for lines that
        re-wrap it.
        Each part adds at least ``MIN_PART`` shingles (or all of its own, when it
        has fewer) the parts before it did
        not, so no part is there for a stray shared phrase.
        """
        units = self.units
        own = units[p].shingles
        parts = [
            q
            for q in sorted(shared, key=lambda q: (-shared[q], self.rank[q]))
            if shared[q] >= min(MIN_PART, len(units[q].shingles))
            and (self.rank[q] < self.rank[p] or units[q].tokens >= self.options.min_words)
            and containment(units[q].shingles, own) >= self.options.threshold
            # A near copy of ``p`` is its twin, not a part of it.
            and jaccard(units[q].shingles, own) < self.options.threshold
        ]
        left = set(own)
        chosen: list[int] = []
        while parts and left:
            gains = [(len(left.intersection(units[q].shingles)), -self.rank[q], q) for q in parts]
            gain, _, q = max(gains)
            if gain < min(MIN_PART, len(units[q].shingles)):
                break
            if gain < PART_NEW * len(own.intersection(units[q].shingles)):
                # Parts of a merged copy hold different stretches of it; a text
                # sharing mostly what another part holds is a look-alike.
                parts.remove(q)
                continue
            chosen.append(q)
            left.difference_update(units[q].shingles)
            parts.remove(q)
        return tuple(sorted(chosen)), (len(own) - len(left)) / len(own)


def find_duplicates(
    units: Sequence[Unit], options: GroupOptions | None = None
) -> dict[int, Decision]:
    """Decisions for every unit removed on its own (not by block alignment), by index."""
    decider = _Decider(units, options or GroupOptions())
    kept = decider.exact_and_near()
    decider.contained_and_covered(kept)
    return dict(sorted(decider.decisions.items()))
