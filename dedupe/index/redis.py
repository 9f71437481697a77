"""The Redis backend, for crawl processes on many machines (extra ``redis``).

Keys, all under the prefix ``dedupe:`` of the URL's database::

    dedupe:meta                  hash: format marker, IndexParams as JSON
    dedupe:seq                   counter: insertion order of documents
    dedupe:count                 counter: documents indexed
    dedupe:doc:<id>              hash: seq, shingles, bands, site, paragraphs
                                 (blobs as in the SQLite backend)
    dedupe:band:<band>:<key>     set of document ids: one LSH bucket
    dedupe:sites                 hash: site -> documents
    dedupe:site:<site>           hash: paragraph hash -> documents of the site holding it

``check_and_add`` is optimistic: it WATCHes the document's own key and every
bucket it would join, reads the candidates, verifies them, and writes in
MULTI/EXEC; if another client touched any of those keys meanwhile, EXEC fails
and it starts again. A near-duplicate written by another process always
shares a bucket (else neither could find the other), so two processes adding
the same near-duplicate at once never both hear "new".

A server that goes away raises :class:`IndexStoreError` (after redis-py's
own retries), never a silent "new".
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from dedupe.errors import IndexStoreError
from dedupe.index.base import (
    FORMAT,
    Entry,
    IndexMatch,
    IndexParams,
    IndexStats,
    Verifier,
    blob_ints,
    check_params,
    int_blob,
)

_PREFIX = "dedupe:"
_TIMEOUT = 10.0


class RedisStore:
    """An index in the Redis database at ``url`` (``redis://host:port/db``)."""

    backend = "redis"

    def __init__(self, url: str, *, timeout: float = _TIMEOUT) -> None:
        try:
            import redis
        except ImportError:
            raise IndexStoreError(
                "a redis:// index needs the redis client: pip install 'dedupe-text[redis]'"
            ) from None
        self._redis = redis
        self.location = url
        try:
            self._client: Any = redis.Redis.from_url(
                url, socket_timeout=timeout, socket_connect_timeout=timeout
            )
        except ValueError as exc:
            raise IndexStoreError(f"bad Redis URL {url}: {exc}") from None

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except self._redis.exceptions.ConnectionError as exc:
            raise IndexStoreError(f"Redis at {self.location} is unreachable: {exc}") from None
        except self._redis.exceptions.RedisError as exc:
            raise IndexStoreError(f"Redis at {self.location}: {exc}") from None

    @staticmethod
    def _doc(doc_id: str) -> str:
        return f"{_PREFIX}doc:{doc_id}"

    @staticmethod
    def _band(band: int, key: int) -> str:
        return f"{_PREFIX}band:{band}:{key}"

    @staticmethod
    def _site(site: str) -> str:
        return f"{_PREFIX}site:{site}"

    def open(self, params: IndexParams | None, *, create: IndexParams | None) -> IndexParams:
        meta_key = f"{_PREFIX}meta"
        with self._errors():
            self._client.ping()
            meta = self._client.hgetall(meta_key)
            if not meta:
                if create is None:
                    raise IndexStoreError(f"no index at {self.location}")
                # HSETNX: of two processes creating the index, the first one wins.
                self._client.hsetnx(meta_key, "format", FORMAT)
                self._client.hsetnx(meta_key, "params", create.to_json())
                meta = self._client.hgetall(meta_key)
        if meta.get(b"format") != FORMAT.encode() or b"params" not in meta:
            raise IndexStoreError(f"{self.location}: {meta_key} is not a dedupe index")
        stored = IndexParams.from_json(meta[b"params"].decode(), where=self.location)
        return check_params(stored, params, where=self.location)

    def close(self) -> None:
        self._client.close()

    def _candidates(self, bands: Sequence[int]) -> list[tuple[str, bytes]]:
        pipe = self._client.pipeline(transaction=False)
        for band, key in enumerate(bands):
            pipe.smembers(self._band(band, key))
        ids = sorted({m.decode() for members in pipe.execute() for m in members})
        if not ids:
            return []
        for doc_id in ids:
            pipe.hmget(self._doc(doc_id), "seq", "shingles")
        found = [
            (int(seq), doc_id, blob)
            for doc_id, (seq, blob) in zip(ids, pipe.execute(), strict=True)
            if seq is not None  # removed since the bucket was read
        ]
        return [(doc_id, blob) for _, doc_id, blob in sorted(found)]

    def candidates(self, bands: Sequence[int]) -> list[tuple[str, bytes]]:
        with self._errors():
            return self._candidates(bands)

    def count(self) -> int:
        with self._errors():
            return int(self._client.get(f"{_PREFIX}count") or 0)

    def site_counts(self, site: str, paragraphs: Sequence[int]) -> tuple[int, dict[int, int]]:
        with self._errors():
            pipe = self._client.pipeline(transaction=True)
            pipe.hget(f"{_PREFIX}sites", site)
            if paragraphs:
                pipe.hmget(self._site(site), [str(p) for p in paragraphs])
            replies = pipe.execute()
        docs = int(replies[0] or 0)
        counts = {}
        if paragraphs:
            counts = {p: int(c) for p, c in zip(paragraphs, replies[1], strict=True) if c}
        return docs, counts

    def stats(self, params: IndexParams) -> IndexStats:
        with self._errors():
            documents = int(self._client.get(f"{_PREFIX}count") or 0)
            sites = self._client.hgetall(f"{_PREFIX}sites")
            paragraphs = sum(self._client.hlen(self._site(s.decode())) for s in sites)
            memory = int(self._client.info("memory")["used_memory"])
        return IndexStats(
            location=self.location,
            backend=self.backend,
            params=params,
            documents=documents,
            sites=len(sites),
            site_paragraphs=paragraphs,
            size_bytes=memory,
        )

    def _unlink(self, pipe: Any, doc_id: str, old: dict[bytes, bytes]) -> None:
        """Queue the removal of a document whose record ``old`` was read under WATCH."""
        for band, key in enumerate(blob_ints(old[b"bands"])):
            pipe.srem(self._band(band, key), doc_id)
        if b"site" in old:
            site = old[b"site"].decode()
            for key in blob_ints(old[b"paragraphs"]):
                pipe.hincrby(self._site(site), str(key), -1)
            pipe.hincrby(f"{_PREFIX}sites", site, -1)
        pipe.delete(self._doc(doc_id))
        pipe.decr(f"{_PREFIX}count")

    def _link(self, pipe: Any, entry: Entry, seq: int) -> None:
        record: dict[str, bytes | str | int] = {
            "seq": seq,
            "shingles": entry.shingles,
            "bands": int_blob(entry.bands),
            "paragraphs": int_blob(entry.paragraphs),
        }
        if entry.site is not None:
            record["site"] = entry.site
            for key in entry.paragraphs:
                pipe.hincrby(self._site(entry.site), str(key), 1)
            pipe.hincrby(f"{_PREFIX}sites", entry.site, 1)
        pipe.hset(self._doc(entry.doc_id), mapping=record)
        for band, key in enumerate(entry.bands):
            pipe.sadd(self._band(band, key), entry.doc_id)
        pipe.incr(f"{_PREFIX}count")

    def check_and_add(self, entry: Entry, verify: Verifier | None) -> IndexMatch | None:
        doc_key = self._doc(entry.doc_id)
        watched = [doc_key, *(self._band(b, k) for b, k in enumerate(entry.bands))]
        with self._errors():
            while True:
                with self._client.pipeline(transaction=True) as pipe:
                    try:
                        pipe.watch(*watched)
                        if verify is not None and entry.bands:
                            match = verify(self._candidates(entry.bands))
                            if match is not None:
                                pipe.unwatch()
                                return match
                        old = pipe.hgetall(doc_key)
                        seq = int(self._client.incr(f"{_PREFIX}seq"))
                        pipe.multi()
                        if old:
                            self._unlink(pipe, entry.doc_id, old)
                        self._link(pipe, entry, seq)
                        pipe.execute()
                        return None
                    except self._redis.exceptions.WatchError:
                        continue

    def remove(self, doc_id: str) -> bool:
        doc_key = self._doc(doc_id)
        with self._errors():
            while True:
                with self._client.pipeline(transaction=True) as pipe:
                    try:
                        pipe.watch(doc_key)
                        old = pipe.hgetall(doc_key)
                        if not old:
                            pipe.unwatch()
                            return False
                        # The buckets are not watched: removal only shrinks them.
                        pipe.multi()
                        self._unlink(pipe, doc_id, old)
                        pipe.execute()
                        return True
                    except self._redis.exceptions.WatchError:
                        continue
