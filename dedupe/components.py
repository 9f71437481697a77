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

Everything depends only on the edges, their similarities and the keep order,
never on chunking or the number of workers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dedupe.candidates import Pairs

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


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
    similarity of further pairs (each member against its component's first)."""
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

    # Adjacency over local node numbers (both directions), for the keeper check.
    local_edges = np.searchsorted(nodes, edges)
    src = np.concatenate([local_edges[:, 0], local_edges[:, 1]])
    dst = np.concatenate([local_edges[:, 1], local_edges[:, 0]])
    weight = np.concatenate([sims, sims])
    by_src = np.argsort(src, kind="stable")
    src, dst, weight = src[by_src], dst[by_src], weight[by_src]
    adj_start = np.searchsorted(src, np.arange(len(nodes) + 1))
    node_rank = rank[nodes]

    keeper = np.full(len(nodes), -1, dtype=np.int64)
    sim_out = np.ones(len(nodes), dtype=np.float64)
    order_list = order.tolist()
    leader_list = leader.tolist()
    to_leader_list = to_leader.tolist()
    for k, node in enumerate(order_list):
        lead = leader_list[k]
        if node == lead:
            keeper[node] = node
            continue
        best, best_rank, best_sim = -1, -1, 0.0
        if to_leader_list[k] >= threshold:
            best, best_rank, best_sim = lead, int(node_rank[lead]), to_leader_list[k]
        lo, hi = adj_start[node], adj_start[node + 1]
        for other, w in zip(dst[lo:hi].tolist(), weight[lo:hi].tolist(), strict=True):
            if keeper[other] == other and (best < 0 or node_rank[other] < best_rank):
                best, best_rank, best_sim = other, int(node_rank[other]), w
        if best < 0:
            keeper[node] = node
        else:
            keeper[node] = best
            sim_out[node] = best_sim

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
