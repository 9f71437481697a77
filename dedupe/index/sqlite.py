"""The SQLite backend: one file, safe with several processes writing.

The database runs in WAL mode with ``synchronous=NORMAL``: a process killed
mid-write loses at most its unfinished transaction and never corrupts the
file (a power cut may lose the last transactions, still without corruption).
Every add is one transaction; ``check_and_add`` takes the write lock
(``BEGIN IMMEDIATE``) before it looks for candidates, so two processes adding
the same near-duplicate are serialised and only one is told it is new.
Writers wait for each other up to ``timeout`` seconds.

Every transaction first checks that the path still names the file that was
opened and that its parameters are unchanged (:class:`IndexLostError` if
not: a file deleted or replaced while open would otherwise swallow every
later write), and every stored blob is checked before it is used (a damaged
row is an :class:`IndexStoreError` naming the file and the document).

Tables::

    dedupe_meta(key, value)             format marker and the IndexParams as JSON
    docs(n, id, site, shingles, paragraphs, bands)
                                        n: insertion order; blobs of little-endian
                                        uint64 (shingles) / int64 (paragraphs, bands)
    bands(band, key, doc)               LSH buckets, WITHOUT ROWID, primary key in that order
    sites(n, name, docs)                documents per site
    site_paragraphs(site, key, docs)    documents of the site holding the paragraph
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

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

_HEADER = b"SQLite format 3\x00"
_IN_CHUNK = 500
_COMPOUND_MAX = 250  # SQLite allows 500 terms in a compound SELECT

_SCHEMA = """
CREATE TABLE IF NOT EXISTS dedupe_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs(
    n INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    site INTEGER,
    shingles BLOB NOT NULL,
    paragraphs BLOB NOT NULL,
    bands BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS bands(
    band INTEGER NOT NULL, key INTEGER NOT NULL, doc INTEGER NOT NULL,
    PRIMARY KEY(band, key, doc)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sites(
    n INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, docs INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS site_paragraphs(
    site INTEGER NOT NULL, key INTEGER NOT NULL, docs INTEGER NOT NULL,
    PRIMARY KEY(site, key)
) WITHOUT ROWID;
"""


class SQLiteStore:
    """An index in the SQLite file at ``path``."""

    backend = "sqlite"

    def __init__(self, path: str | Path, *, timeout: float = 60.0) -> None:
        self.path = Path(path)
        self.location = str(self.path)
        self.timeout = timeout
        self._db: sqlite3.Connection | None = None
        self._identity: tuple[int, int] | None = None
        self._params = ""

    # -- connection and errors -------------------------------------------------

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise IndexStoreError(
                    f"{self.location}: still locked by another writer after {self.timeout:g} s"
                ) from None
            if "decode" in str(exc):  # a TEXT value that is not UTF-8: a damaged page
                raise IndexStoreError(f"{self.location} is corrupt ({exc})") from None
            raise IndexStoreError(f"{self.location}: {exc}") from None
        except sqlite3.DatabaseError as exc:
            raise IndexStoreError(
                f"{self.location} is corrupt or not a dedupe index ({exc})"
            ) from None
        except UnicodeDecodeError:
            # sqlite3 decodes TEXT columns as it fetches them: a damaged page.
            raise IndexStoreError(
                f"{self.location} is corrupt (a text column is not UTF-8)"
            ) from None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise IndexStoreError(f"{self.location}: the index is closed")
        return self._db

    def _file_identity(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise IndexStoreError(f"cannot read {self.location}: {exc.strerror}") from None
        return st.st_dev, st.st_ino

    def _check_still_there(self, cur: sqlite3.Cursor) -> None:
        """:class:`IndexLostError` unless the path still names the opened index."""
        if not self._params:  # still being opened
            return
        identity = self._file_identity()
        if identity is None:
            raise IndexLostError(
                f"{self.location} was deleted while open: nothing more is answered or "
                "written; reopen the index"
            )
        if identity != self._identity:
            raise IndexLostError(
                f"{self.location} was replaced by another file while open: reopen the index"
            )
        row = cur.execute("SELECT value FROM dedupe_meta WHERE key = 'params'").fetchone()
        if row is None or row[0] != self._params:
            raise IndexLostError(
                f"{self.location}: the index parameters were removed or changed while "
                "open: reopen the index"
            )

    @contextmanager
    def _transaction(self, kind: str = "") -> Iterator[sqlite3.Cursor]:
        with self._errors():
            cur = self.db.cursor()
            cur.execute(f"BEGIN {kind}")
            try:
                self._check_still_there(cur)
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    def _check_file(self, *, create: bool) -> None:
        if self.path.is_dir():
            raise IndexStoreError(f"{self.location} is a directory, not an index file")
        if not self.path.exists():
            if not create:
                raise IndexStoreError(f"no index at {self.location}")
            if not self.path.parent.is_dir():
                raise IndexStoreError(f"{self.location}: no directory {self.path.parent}")
            return
        try:
            with self.path.open("rb") as fh:
                header = fh.read(len(_HEADER))
        except OSError as exc:
            raise IndexStoreError(f"cannot read {self.location}: {exc.strerror}") from None
        if header and header != _HEADER:
            raise IndexStoreError(f"{self.location} is not a dedupe index (not an SQLite file)")

    def open(self, params: IndexParams | None, *, create: IndexParams | None) -> IndexParams:
        self._check_file(create=create is not None)
        with self._errors():
            self._db = sqlite3.connect(
                self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
            )
            self._db.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            tables = {
                row[0]
                for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
        # The file exists from that first read on.
        self._identity = self._file_identity()
        try:
            if tables and "dedupe_meta" not in tables:
                raise IndexStoreError(
                    f"{self.location} is an SQLite database but not a dedupe index "
                    f"(tables: {', '.join(sorted(tables)[:5])})"
                )
            if not tables:
                if create is None:
                    raise IndexStoreError(f"no index at {self.location} (an empty file)")
                self._create(create)
            return self._read_params(params)
        except IndexStoreError:
            self.close()
            raise

    def _create(self, params: IndexParams) -> None:
        with self._errors():
            # WAL is a property of the file; set it before the first write.
            self.db.execute("PRAGMA journal_mode = WAL")
            # Another process may be creating it too: IF NOT EXISTS, OR IGNORE,
            # and both then read back the parameters that won.
            with self._transaction("IMMEDIATE") as cur:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        cur.execute(statement)
                cur.executemany(
                    "INSERT OR IGNORE INTO dedupe_meta(key, value) VALUES (?, ?)",
                    [("format", FORMAT), ("params", params.to_json())],
                )

    def _read_params(self, params: IndexParams | None) -> IndexParams:
        with self._errors():
            self.db.execute("PRAGMA synchronous = NORMAL")
            meta = dict(self.db.execute("SELECT key, value FROM dedupe_meta").fetchall())
        if meta.get("format") != FORMAT or "params" not in meta:
            raise IndexStoreError(f"{self.location} is not a dedupe index (no format marker)")
        stored = IndexParams.from_json(meta["params"], where=self.location)
        checked = check_params(stored, params, where=self.location)
        self._params = meta["params"]
        return checked

    def close(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            db.close()

    # -- reading -----------------------------------------------------------------

    def _candidates(self, cur: sqlite3.Cursor, bands: Sequence[int]) -> list[tuple[str, bytes]]:
        # One statement: a UNION of primary-key lookups, one per band (a row-value
        # IN list would scan the table instead).
        found: dict[int, tuple[str, bytes]] = {}
        numbered = list(enumerate(bands))
        for i in range(0, len(numbered), _COMPOUND_MAX):
            chunk = numbered[i : i + _COMPOUND_MAX]
            lookups = " UNION ".join(
                ["SELECT doc FROM bands WHERE band = ? AND key = ?"] * len(chunk)
            )
            rows = cur.execute(
                f"SELECT n, id, shingles FROM docs WHERE n IN ({lookups})",
                [v for pair in chunk for v in pair],
            )
            for n, doc_id, blob in rows:
                found[n] = (doc_id, checked_shingles(blob, where=self._row(doc_id, n)))
        return [found[n] for n in sorted(found)]

    def _row(self, doc_id: object, n: object) -> str:
        return f"{self.location}: document {doc_id!r} (docs row n={n})"

    def contains(self, doc_id: str) -> bool:
        with self._transaction() as cur:
            row = cur.execute("SELECT 1 FROM docs WHERE id = ?", (doc_id,)).fetchone()
        return row is not None

    def candidates(self, bands: Sequence[int]) -> list[tuple[str, bytes]]:
        if not bands:
            return []
        with self._transaction() as cur:
            return self._candidates(cur, bands)

    def count(self) -> int:
        with self._transaction() as cur:
            row = cur.execute("SELECT count(*) FROM docs").fetchone()
        return int(row[0])

    def site_counts(self, site: str, paragraphs: Sequence[int]) -> tuple[int, dict[int, int]]:
        counts: dict[int, int] = {}
        with self._transaction() as cur:
            row = cur.execute("SELECT n, docs FROM sites WHERE name = ?", (site,)).fetchone()
            if row is None:
                return 0, counts
            site_n, docs = row
            for i in range(0, len(paragraphs), _IN_CHUNK):
                chunk = list(paragraphs[i : i + _IN_CHUNK])
                marks = ",".join("?" * len(chunk))
                counts.update(
                    cur.execute(
                        "SELECT key, docs FROM site_paragraphs "
                        f"WHERE site = ? AND key IN ({marks})",
                        [site_n, *chunk],
                    ).fetchall()
                )
        return int(docs), counts

    def stats(self, params: IndexParams) -> IndexStats:
        with self._transaction() as cur:
            documents = cur.execute("SELECT count(*) FROM docs").fetchone()[0]
            sites = cur.execute("SELECT count(*) FROM sites").fetchone()[0]
            paragraphs = cur.execute("SELECT count(*) FROM site_paragraphs").fetchone()[0]
        size = sum(
            p.stat().st_size
            for p in (self.path, self.path.with_name(self.path.name + "-wal"))
            if p.exists()
        )
        return IndexStats(
            location=self.location,
            backend=self.backend,
            params=params,
            documents=int(documents),
            sites=int(sites),
            site_paragraphs=int(paragraphs),
            size_bytes=size,
        )

    # -- writing -----------------------------------------------------------------

    def _delete(self, cur: sqlite3.Cursor, doc_id: str) -> bool:
        row = cur.execute(
            "SELECT n, site, paragraphs, bands FROM docs WHERE id = ?", (doc_id,)
        ).fetchone()
        if row is None:
            return False
        n, site, paragraphs, bands = row
        where = self._row(doc_id, n)
        band_keys = checked_ints(bands, where=where, what="blob of band keys")
        cur.executemany(
            "DELETE FROM bands WHERE band = ? AND key = ? AND doc = ?",
            [(band, key, n) for band, key in enumerate(band_keys)],
        )
        if site is not None:
            keys = [
                (site, key)
                for key in checked_ints(paragraphs, where=where, what="blob of paragraph hashes")
            ]
            cur.executemany(
                "UPDATE site_paragraphs SET docs = docs - 1 WHERE site = ? AND key = ?", keys
            )
            cur.executemany(
                "DELETE FROM site_paragraphs WHERE site = ? AND key = ? AND docs <= 0", keys
            )
            cur.execute("UPDATE sites SET docs = docs - 1 WHERE n = ?", (site,))
        cur.execute("DELETE FROM docs WHERE n = ?", (n,))
        return True

    def _insert(self, cur: sqlite3.Cursor, entry: Entry) -> None:
        self._delete(cur, entry.doc_id)
        site_n: int | None = None
        if entry.site is not None:
            cur.execute(
                "INSERT INTO sites(name, docs) VALUES (?, 1) "
                "ON CONFLICT(name) DO UPDATE SET docs = docs + 1",
                (entry.site,),
            )
            site_n = cur.execute("SELECT n FROM sites WHERE name = ?", (entry.site,)).fetchone()[0]
            cur.executemany(
                "INSERT INTO site_paragraphs(site, key, docs) VALUES (?, ?, 1) "
                "ON CONFLICT(site, key) DO UPDATE SET docs = docs + 1",
                [(site_n, key) for key in entry.paragraphs],
            )
        cur.execute(
            "INSERT INTO docs(id, site, shingles, paragraphs, bands) VALUES (?, ?, ?, ?, ?)",
            (
                entry.doc_id,
                site_n,
                entry.shingles,
                int_blob(entry.paragraphs),
                int_blob(entry.bands),
            ),
        )
        n = cur.lastrowid
        cur.executemany(
            "INSERT OR IGNORE INTO bands(band, key, doc) VALUES (?, ?, ?)",
            [(band, key, n) for band, key in enumerate(entry.bands)],
        )

    def check_and_add(self, entry: Entry, verify: Verifier | None) -> IndexMatch | None:
        with self._transaction("IMMEDIATE") as cur:
            if verify is not None and entry.bands:
                match = verify(self._candidates(cur, entry.bands))
                if match is not None:
                    return match
            self._insert(cur, entry)
        return None

    def remove(self, doc_id: str) -> bool:
        with self._transaction("IMMEDIATE") as cur:
            return self._delete(cur, doc_id)
