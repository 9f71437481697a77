"""Clusters of near-duplicate documents, each checked against its kept document.

1. Components: connected components of the verified edges (candidate pairs
   whose exact Jaccard similarity is at or above the threshold), by min-label
   hooking and pointer jumping over edge arrays (no per-node Python objects,
   the same rounds a cluster backend runs as joins).
2. Keepers: within a component, documents are visited in keep order
   (``first``: input order; ``longest``: longest text first; a field: its
   largest value first; ties by input order). The first is kept. Each later
   document is dropped as a duplicate of the first kept document, in keep
   order, to which it is verified at or above the threshold, looking at the
   component's first kept document and the kept documents it has a verified
   edge to; if there is none, it is kept and later documents may join it.
   So a chain A~B~C with C unlike A keeps A and C (dropping B for A), and a
   document is never dropped unless it is similar to the document kept for it.
3. Second looks: candidates link each member of an LSH bucket to the bucket's
   first member only (star edges), so a document may be similar to an
   earlier kept one without an edge to it. For up to three rounds, every
   document kept in step 2 (but not first in its component) is measured
   against up to eight earlier kept documents two verified edges away (the
   earliest in keep order, among the first 64 neighbours of each neighbour),
   and step 2 is redone with the edges found. The extra work is at most
   eight measurements per kept document per round.

Everything depends only on the edges, their similarities and the keep order,
never on chunking or the number of workers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dedupe.core.candidates import Pairs

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

# Rounds of extra measurements against kept documents two verified edges away.
_ROUNDS = 3
_PROPOSALS = 8
_SCAN = 64


def connected_components(edges: Pairs, nodes: int) -> Ints:
    """``labels[i]``: the smallest node of ``i``'s component (``i`` itself when alone)."""
    labels = np.arange(nodes, dtype=np.int64)
    if not len(edges):
        return labels
    u, v = edges[:, 0], edges[:, 1]
    while True:
        lu, lv = labels[u], labels[v]
        low = np.minimum(lu, lv)
        hooked = labels.copy()
        # Hook each root onto the smallest root it touches, then jump pointers to roots.
        np.minimum.at(hooked, lu, low)
        np.minimum.at(hooked, lv, low)
        while True:
            jumped = hooked[hooked]
            if np.array_equal(jumped, hooked):
                break
            hooked = jumped
        if np.array_equal(hooked, labels):
            return labels
        labels = hooked


@dataclass(frozen=True, slots=True)
class Clusters:
    """Documents in clusters of two or more, sorted by document number.

    ``kept[k]`` is the kept document of ``documents[k]`` (itself when it is
    kept) and ``similarity[k]`` the exact Jaccard similarity between them
    (1.0 for the kept document). ``cluster[k]`` numbers clusters from 0 in the
    input order of their kept documents.
    """

    documents: Ints
    kept: Ints
    similarity: Floats
    cluster: Ints

    @property
    def dropped(self) -> Ints:
        dropped: Ints = self.documents[self.kept != self.documents]
        return dropped

    @property
    def count(self) -> int:
        return int(self.cluster.max(initial=-1)) + 1


def _pair_codes(pairs: Pairs, n: int) -> Ints:
    low = np.minimum(pairs[:, 0], pairs[:, 1])
    high = np.maximum(pairs[:, 0], pairs[:, 1])
    codes: Ints = low * np.int64(n) + high
    return codes


class _Graph:
    """Verified edges over local node numbers, each node's neighbours kept in keep order."""

    def __init__(self, nodes: int, rank: Ints) -> None:
        self.rank = rank.tolist()
        self.neighbours: list[list[tuple[int, float]]] = [[] for _ in range(nodes)]

    def add(self, edges: list[list[int]], sims: list[float]) -> None:
        touched: set[int] = set()
        for (a, b), sim in zip(edges, sims, strict=True):
            self.neighbours[a].append((b, sim))
            self.neighbours[b].append((a, sim))
            touched.update((a, b))
        for node in touched:
            self.neighbours[node].sort(key=lambda item: self.rank[item[0]])

    def assign(
        self, order: list[int], leader: list[int], to_leader: list[float], threshold: float
    ) -> tuple[Ints, Floats]:
        """Each node's kept node (itself when kept) and the similarity to it."""
        keeper = np.full(len(self.neighbours), -1, dtype=np.int64)
        similarity = np.ones(len(self.neighbours), dtype=np.float64)
        for k, node in enumerate(order):
            lead = leader[k]
            if node == lead:
                keeper[node] = node
                continue
            best, best_sim = -1, 0.0
            if to_leader[k] >= threshold:
                best, best_sim = lead, to_leader[k]
            else:
                # Neighbours come in keep order: the first kept one is the one to join.
                for other, sim in self.neighbours[node]:
                    if keeper[other] == other:
                        best, best_sim = other, sim
                        break
            keeper[node] = node if best < 0 else best
            if best >= 0:
                similarity[node] = best_sim
        return keeper, similarity

    def proposals(
        self,
        order: list[int],
        leader: list[int],
        keeper: Ints,
        nodes: Ints,
        n: int,
        measured: set[int],
    ) -> list[tuple[int, int]]:
        """Pairs worth measuring: a kept node (other than its component's first)
        against earlier kept nodes two verified edges away, at most
        ``_PROPOSALS`` each, looking at ``_SCAN`` neighbours of each neighbour."""
        out: list[tuple[int, int]] = []
        for k, node in enumerate(order):
            if node == leader[k] or keeper[node] != node:
                continue
            found: list[int] = []
            for middle, _ in self.neighbours[node]:
                for other, _ in self.neighbours[middle][:_SCAN]:
                    if other == node or keeper[other] != other or other in found:
                        continue
                    if self.rank[other] > self.rank[node]:
                        break
                    low, high = sorted((int(nodes[other]), int(nodes[node])))
                    if low * n + high not in measured:
                        found.append(other)
            found.sort(key=self.rank.__getitem__)
            out.extend((int(nodes[other]), int(nodes[node])) for other in found[:_PROPOSALS])
        return out


def resolve_clusters(
    pairs: Pairs,
    similarity: Floats,
    rank: Ints,
    *,
    threshold: float,
    measure: Callable[[Pairs], Floats],
) -> Clusters:
    """Clusters from verified candidate ``pairs`` (document numbers) with
    their exact ``similarity``; ``rank[d]`` is document ``d``'s place in keep
    order (a permutation of ``range(len(rank))``); ``measure`` returns the exact
    similarity of further pairs (each member against its component's first,
    and kept documents against earlier kept ones two edges away)."""
    empty = Clusters(
        np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64), np.empty(0, np.int64)
    )
    good = similarity >= threshold
    edges, sims = pairs[good], similarity[good]
    if not len(edges):
        return empty
    n = len(rank)
    nodes = np.unique(edges)
    local = np.searchsorted(nodes, edges)
    labels = connected_components(local, len(nodes))
    # Members of each component in keep order: sort by (component, rank).
    order = np.lexsort((rank[nodes], labels))
    comp = labels[order]
    starts = np.flatnonzero(np.diff(comp, prepend=-1))
    sizes = np.diff(np.append(starts, len(order)))
    leader = np.repeat(order[starts], sizes)
    # Similarity of every member to its component's first, measured or known.
    codes = _pair_codes(edges, n)
    code_order = np.argsort(codes)
    codes, sims = codes[code_order], sims[code_order]
    edges = edges[code_order]
    is_leader = leader == order
    to_leader = np.ones(len(order), dtype=np.float64)
    asked = np.stack([nodes[leader[~is_leader]], nodes[order[~is_leader]]], axis=1)
    asked_codes = _pair_codes(asked, n)
    at = np.minimum(np.searchsorted(codes, asked_codes), len(codes) - 1)
    known = codes[at] == asked_codes
    measured = sims[at]
    if not known.all():
        measured[~known] = measure(asked[~known])
    to_leader[~is_leader] = measured

    local_edges = np.searchsorted(nodes, edges)
    graph = _Graph(len(nodes), rank[nodes])
    graph.add(local_edges.tolist(), sims.tolist())
    order_list, leader_list = order.tolist(), leader.tolist()
    to_leader_list = to_leader.tolist()
    asked_before = set(asked_codes.tolist()) | set(_pair_codes(pairs, n).tolist())
    for _ in range(_ROUNDS):
        keeper, sim_out = graph.assign(order_list, leader_list, to_leader_list, threshold)
        asked_pairs = graph.proposals(order_list, leader_list, keeper, nodes, n, asked_before)
        if not asked_pairs:
            break
        more = np.array(asked_pairs, dtype=np.int64)
        more_sims = measure(more)
        asked_before.update(_pair_codes(more, n).tolist())
        good_more = more_sims >= threshold
        graph.add(np.searchsorted(nodes, more[good_more]).tolist(), more_sims[good_more].tolist())
    keeper, sim_out = graph.assign(order_list, leader_list, to_leader_list, threshold)

    kept_docs = nodes[keeper]
    has_members = np.zeros(len(nodes), dtype=bool)
    has_members[keeper[keeper != np.arange(len(nodes))]] = True
    in_cluster = has_members | (keeper != np.arange(len(nodes)))
    documents = nodes[in_cluster]
    kept = kept_docs[in_cluster]
    heads = np.unique(kept)
    return Clusters(
        documents=documents,
        kept=kept,
        similarity=sim_out[in_cluster],
        cluster=np.searchsorted(heads, kept),
    )
