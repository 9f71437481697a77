"""Clean one text: remove its repeated and near-repeated paragraphs.

The pipeline: paragraphs (exact spans) -> comparison keys -> shingles ->
exact / near (MinHash + LSH, verified by Jaccard) / contained / covered
decisions -> alignment inside repeated blocks -> cleaned text and report data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import TypeVar

import numpy as np

from dedupe.cleaning.blocks import align, corroborate, find_pieces, find_runs, find_short_runs
from dedupe.cleaning.groups import Decision, GroupOptions, KeepPolicy, Unit, find_duplicates
from dedupe.core.forms import Form, form_of, link_only
from dedupe.core.minhash import SignatureOptions
from dedupe.core.normalize import normalize, tokens
from dedupe.core.paragraphs import (
    Paragraph,
    ParagraphMode,
    auto_mode,
    join_kept,
    lines_of_blocks,
    split,
)
from dedupe.core.shingles import ShingleOptions, key_shingle_hashes
from dedupe.core.verify import Method
from dedupe.errors import OptionsError
from dedupe.params import (
    CLEAN_MIN_WORDS,
    NUM_PERM,
    SEED,
    SHINGLE_BATCH_CHARS,
    SHINGLE_SIZE,
    THRESHOLD,
)

# Word triples: a one-word edit costs three shingles, so the tolerance grows
# with length (a 50-word paragraph survives two typos, a 20-word citation
# that names another item does not).


@dataclass(frozen=True, slots=True)
class CleanOptions:
    """Options of :func:`clean`; see its docstring."""

    threshold: float = THRESHOLD
    shingle_size: int = SHINGLE_SIZE
    keep: KeepPolicy = KeepPolicy.ARTICLE
    min_words: int = CLEAN_MIN_WORDS
    mode: ParagraphMode = ParagraphMode.AUTO
    fold_digits: bool = False
    num_perm: int = NUM_PERM
    seed: int = SEED
    use_lsh: bool | None = None

    def __post_init__(self) -> None:
        # Each stage's options check their own ranges; build them once here so
        # a bad value fails before any work, whichever entry point made it.
        self.groups()
        ShingleOptions(size=self.shingle_size)

    def groups(self) -> GroupOptions:
        return GroupOptions(
            threshold=self.threshold,
            min_words=self.min_words,
            keep=self.keep,
            use_lsh=self.use_lsh,
            signature=SignatureOptions(num_perm=self.num_perm, seed=self.seed),
            shingle_size=self.shingle_size,
        )


class KeptBecause(str, Enum):
    """Why the twin of a removed paragraph is the copy that stayed."""

    ARTICLE = "article"
    """The twin reads as the article (its own line of prose); this copy sits in
    a list item, a link, a URL or markup."""
    HOLDS = "holds"
    """The twin, or the twins together, hold this copy's words: a piece, a
    merged copy or a blob goes and the paragraphs stay."""
    FIRST = "first"
    """Between equals, the twin comes first."""
    LONGEST = "longest"
    """``keep="longest"``: the twin is the longer copy."""
    SITE = "site"
    """Site boilerplate learned by an index: no copy of it is kept."""


@dataclass(frozen=True, slots=True)
class Removal:
    """A removed paragraph, the kept paragraph(s) it repeats, and why.

    ``similarity`` is the exact measure that decided it (1.0 for ``EXACT``;
    Jaccard of shingle sets, or rapidfuzz ratio inside a block, for ``NEAR``;
    the share of it found in the twin(s) for ``CONTAINED``/``COVERED``).
    ``in_block``: removed because it sits inside a run of confirmed repeats.
    ``block``: number of the :class:`RepeatedBlock` it belongs to; 0 for site
    boilerplate (``BOILERPLATE``, cut by an index), which has no twins.
    ``kept_because``: why the twin is the copy that stayed.
    """

    paragraph: Paragraph
    twins: tuple[Paragraph, ...]
    method: Method
    similarity: float
    in_block: bool
    block: int
    kept_because: KeptBecause = KeptBecause.FIRST


@dataclass(frozen=True, slots=True)
class RepeatedBlock:
    """A run of consecutive removed paragraphs and the kept paragraphs they repeat.

    Line numbers are 1-based and inclusive, as in the input.
    """

    number: int
    paragraphs: tuple[Paragraph, ...]
    twins: tuple[Paragraph, ...]

    @property
    def line_start(self) -> int:
        return self.paragraphs[0].line_start

    @property
    def line_end(self) -> int:
        return self.paragraphs[-1].line_end

    @property
    def twin_line_start(self) -> int:
        return min(p.line_start for p in self.twins)

    @property
    def twin_line_end(self) -> int:
        return max(p.line_end for p in self.twins)


@dataclass(frozen=True, slots=True)
class CleanResult:
    """The cleaned text and everything needed to explain it."""

    text: str
    original: str
    paragraphs: tuple[Paragraph, ...]
    removed: tuple[Removal, ...]
    blocks: tuple[RepeatedBlock, ...]
    mode: ParagraphMode
    options: CleanOptions = field(default_factory=CleanOptions)
    settled: bool = True
    """False in rare, highly repetitive texts whose removals kept cycling (see
    README): cleaning ``text`` again may then remove more."""

    @property
    def changed(self) -> bool:
        return bool(self.removed)

    @property
    def chars_removed(self) -> int:
        return len(self.original) - len(self.text)


# Characters of keys shingled per batch: the batch path needs about 60 bytes
# a character, so this bounds it near 60 MB whatever the size of the text.


def shingle_sets(keys: Sequence[str], options: ShingleOptions) -> list[frozenset[int]]:
    sets: list[frozenset[int]] = []
    start = 0
    while start < len(keys):
        stop, size = start, 0
        while stop < len(keys) and (stop == start or size + len(keys[stop]) <= SHINGLE_BATCH_CHARS):
            size += len(keys[stop])
            stop += 1
        batch = key_shingle_hashes(keys[start:stop], options)
        counts = np.bincount(batch.owners, minlength=stop - start)
        sets.extend(frozenset(h.tolist()) for h in np.split(batch.hashes, np.cumsum(counts)[:-1]))
        start = stop
    return sets


def _units(paragraphs: tuple[Paragraph, ...], options: CleanOptions) -> list[Unit]:
    # Copies share one key string and one shingle set: a text of many repeated
    # short lines would otherwise hold a set for each line.
    distinct: dict[str, str] = {}
    keys = [
        distinct.setdefault(key, key)
        for key in (normalize(p.text, fold_digits=options.fold_digits) for p in paragraphs)
    ]
    # Shingled in batches: per-call overhead, not hashing, dominates for the
    # short texts paragraphs are.
    shingled = shingle_sets(list(distinct), ShingleOptions(size=options.shingle_size))
    by_key = {
        key: (shingles, len(tokens(key))) for key, shingles in zip(distinct, shingled, strict=True)
    }
    looks: dict[str, tuple[Form, bool]] = {}
    units = []
    for key, p in zip(keys, paragraphs, strict=True):
        look = looks.get(p.text)
        if look is None:
            look = looks[p.text] = (form_of(p.text), link_only(p.text))
        shingles, count = by_key[key]
        units.append(Unit(key, shingles, count, len(p.text), *look))
    return units


def _kept_because(decision: Decision, units: Sequence[Unit], keep: KeepPolicy) -> KeptBecause:
    if decision.method in (Method.CONTAINED, Method.COVERED):
        return KeptBecause.HOLDS
    twin_form = min(units[t].form for t in decision.twins)
    if keep is KeepPolicy.ARTICLE and twin_form < units[decision.index].form:
        return KeptBecause.ARTICLE
    if keep is KeepPolicy.LONGEST:
        return KeptBecause.LONGEST
    return KeptBecause.FIRST


def _result(
    text: str,
    paragraphs: tuple[Paragraph, ...],
    units: Sequence[Unit],
    decisions: dict[int, Decision],
    mode: ParagraphMode,
    options: CleanOptions,
    *,
    settled: bool,
) -> CleanResult:
    blocks: list[RepeatedBlock] = []
    block_of: dict[int, int] = {}
    for number, run in enumerate(find_runs(decisions), start=1):
        twins = sorted({t for i in run.members for t in decisions[i].twins})
        blocks.append(
            RepeatedBlock(
                number=number,
                paragraphs=tuple(paragraphs[i] for i in run.members),
                twins=tuple(paragraphs[t] for t in twins),
            )
        )
        block_of.update(dict.fromkeys(run.members, number))
    removed = tuple(
        Removal(
            paragraph=paragraphs[i],
            twins=tuple(paragraphs[t] for t in d.twins),
            method=d.method,
            similarity=d.similarity,
            in_block=d.in_block,
            block=block_of[i],
            kept_because=_kept_because(d, units, options.keep),
        )
        for i, d in decisions.items()
    )
    return CleanResult(
        text=join_kept(text, paragraphs, decisions),
        original=text,
        paragraphs=paragraphs,
        removed=removed,
        blocks=tuple(blocks),
        mode=mode,
        options=options,
        settled=settled,
    )


def _decide(
    units: Sequence[Unit], comparable: Sequence[Unit], texts: Sequence[str], options: CleanOptions
) -> dict[int, Decision]:
    """One pass of the decision stages over ``units`` (in text order)."""
    decisions = find_duplicates(units, options.groups())
    decisions = corroborate(units, texts, decisions)
    decisions |= find_pieces(
        units, decisions, min_words=options.min_words, shingle_size=options.shingle_size
    )
    decisions |= find_short_runs(units, decisions, min_words=options.min_words)
    return align(comparable, dict(sorted(decisions.items())), threshold=options.threshold)


def _settle(
    units: Sequence[Unit], comparable: Sequence[Unit], texts: Sequence[str], options: CleanOptions
) -> tuple[dict[int, Decision], bool]:
    """Decisions whose kept paragraphs, cleaned again, lose nothing more, and
    whether that state was reached.

    A paragraph can be held back in one pass only because another one named it
    as its twin. Passes over the kept paragraphs repeat until one removes
    nothing, so cleaning the output again changes nothing. When a pass removes
    a twin, its dependents with the same key follow it to the new twin; the
    others are kept, and the next pass looks at them again. In rare, highly
    repetitive texts the passes come back to a set of removals seen before;
    the passes stop there and the result says it did not settle.
    """
    decisions = _decide(units, comparable, texts, options)
    seen = {frozenset(decisions)}
    # A pass that removed nothing would only be repeated on the same paragraphs;
    # the pass count is bounded so that no text can keep it going for long.
    for _ in range(2 * len(units) if decisions else 0):
        kept = [i for i in range(len(units)) if i not in decisions]
        again = _decide(
            [units[i] for i in kept],
            [comparable[i] for i in kept],
            [texts[i] for i in kept],
            options,
        )
        if not again:
            break
        for j, d in again.items():
            k = kept[j]
            new = replace(d, index=k, twins=tuple(kept[t] for t in d.twins))
            decisions[k] = new
            for dep in [i for i, e in decisions.items() if k in e.twins]:
                if comparable[dep].key == comparable[k].key:
                    decisions[dep] = replace(new, index=dep)
                else:
                    del decisions[dep]
        state = frozenset(decisions)
        if state in seen:
            return dict(sorted(decisions.items())), False
        seen.add(state)
    else:
        return dict(sorted(decisions.items())), not decisions
    return dict(sorted(decisions.items())), True


def clean_with(text: str, options: CleanOptions) -> CleanResult:
    """:func:`clean` with its options gathered in a :class:`CleanOptions`."""
    mode, paragraphs = split(text, mode=options.mode)
    units = _units(paragraphs, options)
    comparable = [
        u if u.key else replace(u, key=p.text.strip())
        for u, p in zip(units, paragraphs, strict=True)
    ]
    texts = [p.text for p in paragraphs]
    decisions, settled = _settle(units, comparable, texts, options)
    result = _result(text, paragraphs, units, decisions, mode, options, settled=settled)
    return _blocks_after_lines(result, units, options)


def _blocks_after_lines(
    result: CleanResult, units: Sequence[Unit], options: CleanOptions
) -> CleanResult:
    """``result``, and for an automatic split by lines whose output AUTO splits
    by blocks, those blocks cleaned too, so that cleaning the output again
    changes nothing (see :func:`dedupe.core.paragraphs.split`). Each line of a block
    cut then is a removal with the block's measure and the twin block's lines."""
    if options.mode is not ParagraphMode.AUTO or result.mode is not ParagraphMode.LINE:
        return result
    if not result.changed or auto_mode(result.text) is not ParagraphMode.BLANK_LINE:
        return result
    again = clean_with(result.text, replace(options, mode=ParagraphMode.BLANK_LINE))
    gone = {r.paragraph.index for r in result.removed}
    kept = [p.index for p in result.paragraphs if p.index not in gone]
    lines = lines_of_blocks(result.text, again.paragraphs, kept)
    decisions = {
        r.paragraph.index: Decision(
            r.paragraph.index, tuple(t.index for t in r.twins), r.method, r.similarity, r.in_block
        )
        for r in result.removed
    }
    for r in again.removed:
        twins = tuple(i for t in r.twins for i in lines[t.index])
        decisions |= {
            i: Decision(i, twins, r.method, r.similarity, r.in_block)
            for i in lines[r.paragraph.index]
        }
    settled = result.settled and again.settled
    both = _result(
        result.original,
        result.paragraphs,
        units,
        dict(sorted(decisions.items())),
        ParagraphMode.LINE,
        options,
        settled=settled,
    )
    # Cutting the blocks' lines from the input gives the same text as cutting the blocks.
    return both if both.text == again.text else result


E = TypeVar("E", bound=Enum)


def _choice(kind: type[E], value: E | str, name: str) -> E:
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(repr(member.value) for member in kind)
        raise OptionsError(f"{name} must be one of {choices}, not {value!r}") from None


def clean(
    text: str,
    *,
    threshold: float = THRESHOLD,
    shingle_size: int = SHINGLE_SIZE,
    keep: KeepPolicy | str = KeepPolicy.ARTICLE,
    min_words: int = CLEAN_MIN_WORDS,
    mode: ParagraphMode | str = ParagraphMode.AUTO,
    fold_digits: bool = False,
    num_perm: int = NUM_PERM,
    seed: int = SEED,
    use_lsh: bool | None = None,
) -> CleanResult:
    """Remove repeated and near-repeated paragraphs from ``text``.

    ``threshold``: exact similarity (0-1] a paragraph needs with a kept one to go.
    ``shingle_size``: words per shingle (characters in CJK/Thai text).
    ``keep``: ``"article"`` keeps the copy that reads as the article (its own
    line of prose, not one inside a link, a URL or markup), the earliest
    between equals; ``"first"`` the earliest, ``"longest"`` the longest.
    ``min_words``: paragraphs with fewer words never go as near or contained
    copies on their own; they go as exact repeats (lines of six words or more
    that are no refrain, or links only) or inside repeated blocks (see README,
    "What is removed").
    ``mode``: ``"auto"``, ``"line"`` or ``"blank-line"`` paragraphs.
    ``fold_digits``: compare with every digit as ``0``.
    ``num_perm``/``seed``: MinHash signature length and permutation seed.
    ``use_lsh``: ``None`` uses LSH candidates above a few dozen distinct
    paragraphs and all pairs below; ``True``/``False`` force one path.

    The output is the input with whole paragraphs cut out; every kept byte is
    unchanged, a UTF-8 BOM or CRLF included.
    """
    if not isinstance(text, str):
        # Else a bytes text fails deep inside with "a bytes-like object is
        # required, not 'str'", which reads backwards.
        raise TypeError(f"clean() expected str, not {type(text).__name__} (decode bytes first)")
    keep_policy = _choice(KeepPolicy, keep, "keep")
    paragraph_mode = _choice(ParagraphMode, mode, "mode")
    options = CleanOptions(
        threshold=threshold,
        shingle_size=shingle_size,
        keep=keep_policy,
        min_words=min_words,
        mode=paragraph_mode,
        fold_digits=fold_digits,
        num_perm=num_perm,
        seed=seed,
        use_lsh=use_lsh,
    )
    return clean_with(text, options)
