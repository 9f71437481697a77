"""The Redis backend, for crawl processes on many machines (extra ``redis``).

Keys, all under the prefix ``dedupe:`` of the URL's database::

    dedupe:meta                  hash: format marker, IndexParams as JSON, and a
                                 random instance id made when the index is created
    dedupe:seq                   counter: insertion order of documents
    dedupe:count                 counter: documents indexed
    dedupe:doc:<id>              hash: seq, shingles, bands, site, paragraphs
                                 (blobs as in the SQLite backend)
    dedupe:band:<band>:<key>     set of document ids: one LSH bucket
    dedupe:sites                 hash: site -> documents
    dedupe:site:<site>           hash: paragraph hash -> documents of the site holding it

``check_and_add`` is optimistic: it WATCHes the document's own key, every
bucket it would join and every key it would change, reads the candidates,
verifies them, and writes in MULTI/EXEC; if another client touched any of
those keys meanwhile, EXEC fails and it starts again. A near-duplicate written
by another process always shares a bucket (else neither could find the
other), so two processes adding the same near-duplicate at once never both
hear "new".

Redis does not roll back a MULTI/EXEC whose commands fail half-way, so
before it writes, every call checks, under the same WATCH, that the index is
still the one it opened (``dedupe:meta`` with the same instance id and
parameters: :class:`IndexLostError` if the server was flushed or restarted
empty) and that every key it will touch is absent or of the type and content
dedupe writes there (:class:`IndexStoreError` naming the key if not).
Reads check ``dedupe:meta`` in the same MULTI as what they read.

A server that goes away raises :class:`IndexStoreError` (after redis-py's
own retries), never a silent "new".
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from dedupe.errors import IndexLostError, IndexStoreError
from dedupe.index.base import (
    FORMAT,
    Entry,
    IndexMatch,
    IndexParams,
    IndexStats,
    Verifier,
    check_params,
    checked_ints,
    checked_shingles,
    int_blob,
)

_PREFIX = "dedupe:"
_META = f"{_PREFIX}meta"
_SEQ = f"{_PREFIX}seq"
_COUNT = f"{_PREFIX}count"
_SITES = f"{_PREFIX}sites"
_META_FIELDS = ("format", "params", "instance")
_TIMEOUT = 10.0
# What INCR/HINCRBY accept: a signed 64-bit decimal, no sign or space padding.
_INTEGER = re.compile(rb"-?(0|[1-9][0-9]{0,18})")

Key = str | bytes


def _shown(value: Key) -> str:
    return value.decode("utf-8", "backslashreplace") if isinstance(value, bytes) else value


def _integer(value: object) -> int | None:
    """``value`` as Redis stores a counter, or None if it cannot be one."""
    if isinstance(value, bytes) and _INTEGER.fullmatch(value):
        number = int(value)
        if -(1 << 63) <= number < 1 << 63:
            return number
    return None


@dataclass(frozen=True, slots=True)
class _Guard:
    """What a call checks before it reads or writes, queued in front of its own
    commands: the index metadata, and keys that must be absent or hold
    ``sets``/``hashes``/integer ``counters``, and hash ``fields`` (key, names)
    that must be absent or integers."""

    sets: Sequence[Key] = ()
    hashes: Sequence[Key] = ()
    counters: Sequence[Key] = ()
    fields: Sequence[tuple[Key, Sequence[Key]]] = ()

    @property
    def typed(self) -> list[tuple[Key, str]]:
        return [
            *((k, "set") for k in self.sets),
            *((k, "hash") for k in self.hashes),
            *((k, "string") for k in self.counters),
        ]

    @property
    def size(self) -> int:
        """Replies it queues."""
        return 1 + len(self.typed) + len(self.counters) + sum(bool(f) for _, f in self.fields)

    def queue(self, pipe: Any) -> None:
        pipe.hmget(_META, list(_META_FIELDS))
        for key, _ in self.typed:
            pipe.type(key)
        for key in self.counters:
            pipe.get(key)
        for key, names in self.fields:
            if names:
                pipe.hmget(key, list(names))


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
        # What dedupe:meta held when the index was opened (format, params, instance).
        self._meta: list[bytes] = []
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
    def _doc(doc_id: Key) -> Key:
        if isinstance(doc_id, bytes):
            return f"{_PREFIX}doc:".encode() + doc_id
        return f"{_PREFIX}doc:{doc_id}"

    @staticmethod
    def _band(band: int, key: int) -> str:
        return f"{_PREFIX}band:{band}:{key}"

    @staticmethod
    def _site(site: Key) -> Key:
        if isinstance(site, bytes):
            return f"{_PREFIX}site:".encode() + site
        return f"{_PREFIX}site:{site}"

    # -- opening and checking ---------------------------------------------------

    def open(self, params: IndexParams | None, *, create: IndexParams | None) -> IndexParams:
        with self._errors():
            self._client.ping()
            if self._client.type(_META) not in {b"hash", b"none"}:
                raise IndexStoreError(f"{self.location}: {_META} is not a dedupe index")
            if not self._client.exists(_META):
                if create is None:
                    raise IndexStoreError(f"no index at {self.location}")
                # HSETNX: of two processes creating the index, the first one wins.
                self._client.hsetnx(_META, "format", FORMAT)
                self._client.hsetnx(_META, "params", create.to_json())
                self._client.hsetnx(_META, "instance", uuid.uuid4().hex)
            meta = self._client.hmget(_META, list(_META_FIELDS))
            if meta[0] != FORMAT.encode() or meta[1] is None:
                raise IndexStoreError(f"{self.location}: {_META} is not a dedupe index")
            if meta[2] is None:  # made before the instance id: it gets one now
                self._client.hsetnx(_META, "instance", uuid.uuid4().hex)
                meta = self._client.hmget(_META, list(_META_FIELDS))
        stored = IndexParams.from_json(meta[1].decode(), where=self.location)
        checked = check_params(stored, params, where=self.location)
        self._meta = meta
        with self._errors():
            self._run_guard(_Guard(counters=(_COUNT, _SEQ), hashes=(_SITES,)))
        return checked

    def close(self) -> None:
        self._client.close()

    def _run_guard(self, guard: _Guard) -> list[list[int | None]]:
        pipe = self._client.pipeline(transaction=True)
        guard.queue(pipe)
        return self._check(guard, pipe.execute(raise_on_error=False))

    def _check(self, guard: _Guard, replies: list[Any]) -> list[list[int | None]]:
        """Raise unless the replies of ``guard`` show the opened index and sound
        keys; the values of its ``fields``, as integers (None where absent)."""
        meta, replies = replies[0], replies[1:]
        if meta != self._meta:
            if isinstance(meta, list) and meta[1] is None:
                raise IndexLostError(
                    f"{self.location}: the index is gone ({_META} vanished: the server was "
                    "flushed or restarted without persistence); nothing more is answered "
                    "or written: reopen the index and add again what it must know"
                )
            raise IndexLostError(
                f"{self.location}: the index was deleted and made again (or its {_META} "
                "changed) since it was opened: reopen the index"
            )
        typed = guard.typed
        for (key, want), got in zip(typed, replies, strict=False):
            if got not in {want.encode(), b"none"}:
                kind = got.decode() if isinstance(got, bytes) else "unreadable value"
                what = "a number" if want == "string" else f"a {want}"
                raise IndexStoreError(
                    f"{self.location}: {_shown(key)} holds a {kind}, not {what} as in a "
                    "dedupe index (another program writes into this database); nothing "
                    "was changed"
                )
        replies = replies[len(typed) :]
        for key, value in zip(guard.counters, replies, strict=False):
            if value is not None and _integer(value) is None:
                raise IndexStoreError(
                    f"{self.location}: {_shown(key)} holds {_shown(value)[:40]!r}, not a "
                    "number as in a dedupe index; nothing was changed"
                )
        replies = replies[len(guard.counters) :]
        values: list[list[int | None]] = []
        asked = [(key, names) for key, names in guard.fields if names]
        for (key, names), got in zip(asked, replies, strict=True):
            if not isinstance(got, list):
                raise IndexStoreError(
                    f"{self.location}: {_shown(key)} is not a hash as in a dedupe index; "
                    "nothing was changed"
                )
            numbers = [None if v is None else _integer(v) for v in got]
            for name, value, number in zip(names, got, numbers, strict=True):
                if value is not None and number is None:
                    raise IndexStoreError(
                        f"{self.location}: field {_shown(name)!r} of {_shown(key)} holds "
                        f"{_shown(value)[:40]!r}, not a number as in a dedupe index; "
                        "nothing was changed"
                    )
            values.append(numbers)
        return values

    def _record(self, doc_key: Key, record: dict[bytes, bytes]) -> _Old:
        """A document's stored record, checked."""
        where = f"{self.location}: {_shown(doc_key)}"
        if _integer(record.get(b"seq")) is None:
            raise IndexStoreError(f"{where} has no valid seq field: the index is damaged")
        paragraphs = checked_ints(
            record.get(b"paragraphs"), where=where, what="blob of paragraph hashes"
        )
        return _Old(
            bands=checked_ints(record.get(b"bands"), where=where, what="blob of band keys"),
            site=record.get(b"site"),
            paragraphs=paragraphs,
        )

    def _old_guard(self, old: _Old) -> _Guard:
        """The keys that forgetting ``old`` changes."""
        bands = [self._band(b, k) for b, k in enumerate(old.bands)]
        if old.site is None:
            return _Guard(sets=bands)
        site_key = self._site(old.site)
        return _Guard(
            sets=bands,
            hashes=(_SITES, site_key),
            fields=((_SITES, [old.site]), (site_key, [str(p) for p in old.paragraphs])),
        )

    # -- reading -----------------------------------------------------------------

    def _candidates(self, bands: Sequence[int]) -> list[tuple[str, bytes]]:
        keys = [self._band(band, key) for band, key in enumerate(bands)]
        guard = _Guard(sets=keys)
        pipe = self._client.pipeline(transaction=True)
        guard.queue(pipe)
        for key in keys:
            pipe.smembers(key)
        replies = pipe.execute(raise_on_error=False)
        self._check(guard, replies[: guard.size])
        ids = sorted({m for members in replies[guard.size :] for m in members})
        if not ids:
            return []
        doc_keys = [self._doc(doc_id) for doc_id in ids]
        guard = _Guard(hashes=doc_keys)
        guard.queue(pipe)
        for doc_key in doc_keys:
            pipe.hmget(doc_key, "seq", "shingles")
        replies = pipe.execute(raise_on_error=False)
        self._check(guard, replies[: guard.size])
        found = []
        for doc_id, doc_key, (seq, blob) in zip(ids, doc_keys, replies[guard.size :], strict=True):
            if seq is None:  # removed since the bucket was read
                continue
            where = f"{self.location}: {_shown(doc_key)}"
            number = _integer(seq)
            if number is None:
                raise IndexStoreError(f"{where} has no valid seq field: the index is damaged")
            try:
                name = doc_id.decode()
            except UnicodeDecodeError:
                raise IndexStoreError(f"{where}: the document id is not UTF-8") from None
            found.append((number, name, checked_shingles(blob, where=where)))
        return [(doc_id, blob) for _, doc_id, blob in sorted(found)]

    def candidates(self, bands: Sequence[int]) -> list[tuple[str, bytes]]:
        with self._errors():
            return self._candidates(bands)

    def contains(self, doc_id: str) -> bool:
        doc_key = self._doc(doc_id)
        guard = _Guard(hashes=(doc_key,))
        with self._errors():
            pipe = self._client.pipeline(transaction=True)
            guard.queue(pipe)
            pipe.hexists(doc_key, "seq")
            replies = pipe.execute(raise_on_error=False)
        self._check(guard, replies[: guard.size])
        return bool(replies[-1])

    def count(self) -> int:
        with self._errors():
            pipe = self._client.pipeline(transaction=True)
            guard = _Guard(counters=(_COUNT,))
            guard.queue(pipe)
            pipe.get(_COUNT)
            replies = pipe.execute(raise_on_error=False)
        self._check(guard, replies[: guard.size])
        return _integer(replies[-1]) or 0

    def site_counts(self, site: str, paragraphs: Sequence[int]) -> tuple[int, dict[int, int]]:
        site_key = self._site(site)
        guard = _Guard(
            hashes=(_SITES, site_key),
            fields=((_SITES, [site]), (site_key, [str(p) for p in paragraphs])),
        )
        with self._errors():
            values = self._run_guard(guard)
        docs = values[0][0] or 0
        counts = {}
        if paragraphs:
            counts = {p: c for p, c in zip(paragraphs, values[1], strict=True) if c}
        return docs, counts

    def stats(self, params: IndexParams) -> IndexStats:
        with self._errors():
            pipe = self._client.pipeline(transaction=True)
            guard = _Guard(counters=(_COUNT,), hashes=(_SITES,))
            guard.queue(pipe)
            pipe.get(_COUNT)
            pipe.hgetall(_SITES)
            replies = pipe.execute(raise_on_error=False)
            self._check(guard, replies[: guard.size])
            documents = _integer(replies[-2]) or 0
            sites: dict[bytes, bytes] = replies[-1]
            site_keys = [self._site(s) for s in sorted(sites)]
            guard = _Guard(hashes=site_keys, fields=((_SITES, sorted(sites)),))
            guard.queue(pipe)
            for key in site_keys:
                pipe.hlen(key)
            replies = pipe.execute(raise_on_error=False)
            self._check(guard, replies[: guard.size])
            paragraphs = sum(replies[guard.size :])
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

    # -- writing -----------------------------------------------------------------

    def _unlink(self, pipe: Any, doc_id: str, old: _Old) -> None:
        """Queue the removal of a document whose record ``old`` was read under WATCH."""
        for band, key in enumerate(old.bands):
            pipe.srem(self._band(band, key), doc_id)
        if old.site is not None:
            for key in old.paragraphs:
                pipe.hincrby(self._site(old.site), str(key), -1)
            pipe.hincrby(_SITES, old.site, -1)
        pipe.delete(self._doc(doc_id))
        pipe.decr(_COUNT)

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
            pipe.hincrby(_SITES, entry.site, 1)
        pipe.hset(self._doc(entry.doc_id), mapping=record)
        for band, key in enumerate(entry.bands):
            pipe.sadd(self._band(band, key), entry.doc_id)
        pipe.incr(_COUNT)

    def _watch_old(self, pipe: Any, doc_key: Key) -> _Old | None:
        """The document's record, read under WATCH; its own keys watched and checked too."""
        record = pipe.hgetall(doc_key)
        if not record:
            return None
        old = self._record(doc_key, record)
        guard = self._old_guard(old)
        pipe.watch(*(key for key, _ in guard.typed))
        self._run_guard(guard)
        return old

    def check_and_add(self, entry: Entry, verify: Verifier | None) -> IndexMatch | None:
        doc_key = self._doc(entry.doc_id)
        bands = [self._band(b, k) for b, k in enumerate(entry.bands)]
        if entry.site is None:
            guard = _Guard(sets=bands, hashes=(doc_key, _SITES), counters=(_COUNT, _SEQ))
        else:
            site_key = self._site(entry.site)
            guard = _Guard(
                sets=bands,
                hashes=(doc_key, _SITES, site_key),
                counters=(_COUNT, _SEQ),
                fields=((_SITES, [entry.site]), (site_key, [str(p) for p in entry.paragraphs])),
            )
        # dedupe:seq is not watched: this very call increments it before EXEC.
        watched = [_META, *(key for key, _ in guard.typed if key != _SEQ)]
        with self._errors():
            while True:
                with self._client.pipeline(transaction=True) as pipe:
                    try:
                        pipe.watch(*watched)
                        self._run_guard(guard)
                        if verify is not None and entry.bands:
                            match = verify(self._candidates(entry.bands))
                            if match is not None:
                                pipe.unwatch()
                                return match
                        old = self._watch_old(pipe, doc_key)
                        seq = int(self._client.incr(_SEQ))
                        pipe.multi()
                        if old is not None:
                            self._unlink(pipe, entry.doc_id, old)
                        self._link(pipe, entry, seq)
                        pipe.execute()
                        return None
                    except self._redis.exceptions.WatchError:
                        continue

    def remove(self, doc_id: str) -> bool:
        doc_key = self._doc(doc_id)
        guard = _Guard(hashes=(doc_key, _SITES), counters=(_COUNT,))
        with self._errors():
            while True:
                with self._client.pipeline(transaction=True) as pipe:
                    try:
                        pipe.watch(_META, doc_key, _SITES, _COUNT)
                        self._run_guard(guard)
                        old = self._watch_old(pipe, doc_key)
                        if old is None:
                            pipe.unwatch()
                            return False
                        pipe.multi()
                        self._unlink(pipe, doc_id, old)
                        pipe.execute()
                        return True
                    except self._redis.exceptions.WatchError:
                        continue


@dataclass(frozen=True, slots=True)
class _Old:
    """A stored document's record, as forgetting it needs it."""

    bands: list[int]
    site: bytes | None
    paragraphs: list[int]
