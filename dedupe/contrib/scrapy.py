"""A Scrapy item pipeline: drop near-duplicate items and clean their text.

Install with the ``scrapy`` extra and enable it in the project's settings::

    ITEM_PIPELINES = {"dedupe.contrib.scrapy.DedupePipeline": 300}
    DEDUPE_INDEX = "seen.db"            # or "redis://host:6379/0"; required
    DEDUPE_TEXT_FIELD = "text"          # the item field holding the page text
    DEDUPE_ID_FIELD = "url"             # the document id; a URL's host is its site
    DEDUPE_CLEAN = True                 # clean the text field in place
    DEDUPE_DROP_DUPLICATES = True       # raise DropItem for near-duplicates
    DEDUPE_THRESHOLD = 0.8              # Jaccard similarity of a near-duplicate
    DEDUPE_MIN_DOCS = 3                 # site boilerplate: seen in this many documents
    DEDUPE_MIN_SHARE = 0.5              # ... and in this share of the site's documents

Each item is checked against the index and added to it in one atomic step
(:meth:`~dedupe.index.NearDuplicateIndex.check_and_add`), so several crawl
processes sharing one index never both keep the same article. The site's
paragraph counts are learned from every new item; with ``DEDUPE_CLEAN`` the
text field then loses its in-document repeats and the paragraphs learned to
be the site's boilerplate.

Crawler stats: ``dedupe/items`` (items seen), ``dedupe/duplicates``,
``dedupe/dropped``, ``dedupe/paragraphs_removed`` (in-document repeats),
``dedupe/boilerplate_removed``, ``dedupe/no_text`` (items without a text field).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem, NotConfigured
from xxhash import xxh3_64_hexdigest

from dedupe.core.keys import site_of
from dedupe.index import NearDuplicateIndex
from dedupe.params import INDEX_MIN_DOCS, MIN_SHARE, THRESHOLD

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector
    from typing_extensions import Self

logger = logging.getLogger(__name__)


def item_site(doc_id: str) -> str | None:
    """The site an item's id is counted under in the index: the same host as
    ``dedupe corpus`` gives a record's url (:func:`dedupe.core.keys.site_of`),
    or ``None`` (no site: nothing counted as boilerplate) when it has none."""
    return site_of(doc_id) or None


class DedupePipeline:
    """See the module docstring for the settings and stats."""

    def __init__(
        self,
        index: str,
        *,
        stats: StatsCollector,
        text_field: str = "text",
        id_field: str = "url",
        clean: bool = True,
        drop_duplicates: bool = True,
        threshold: float = THRESHOLD,
        min_docs: int = INDEX_MIN_DOCS,
        min_share: float = MIN_SHARE,
    ) -> None:
        self.index_url = index
        self.stats = stats
        self.text_field = text_field
        self.id_field = id_field
        self.clean = clean
        self.drop_duplicates = drop_duplicates
        self.threshold = threshold
        self.min_docs = min_docs
        self.min_share = min_share
        self._index: NearDuplicateIndex | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        index = settings.get("DEDUPE_INDEX")
        if not index:
            raise NotConfigured("DedupePipeline needs DEDUPE_INDEX (a path or redis:// URL)")
        assert crawler.stats is not None
        return cls(
            str(index),
            stats=crawler.stats,
            text_field=settings.get("DEDUPE_TEXT_FIELD", "text"),
            id_field=settings.get("DEDUPE_ID_FIELD", "url"),
            clean=settings.getbool("DEDUPE_CLEAN", True),
            drop_duplicates=settings.getbool("DEDUPE_DROP_DUPLICATES", True),
            threshold=settings.getfloat("DEDUPE_THRESHOLD", THRESHOLD),
            min_docs=settings.getint("DEDUPE_MIN_DOCS", INDEX_MIN_DOCS),
            min_share=settings.getfloat("DEDUPE_MIN_SHARE", MIN_SHARE),
        )

    @property
    def index(self) -> NearDuplicateIndex:
        """The index, opened on first use."""
        if self._index is None:
            self._index = NearDuplicateIndex(
                self.index_url,
                threshold=self.threshold,
                min_docs=self.min_docs,
                min_share=self.min_share,
            )
        return self._index

    def open_spider(self, spider: Spider | None = None) -> None:
        # Open now, so that a bad index stops the crawl before the first request.
        _ = self.index

    def close_spider(self, spider: Spider | None = None) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        adapter = ItemAdapter(item)
        self.stats.inc_value("dedupe/items")
        text = adapter.get(self.text_field)
        if not isinstance(text, str):
            self.stats.inc_value("dedupe/no_text")
            return item
        raw_id = adapter.get(self.id_field)
        # Without an id the text itself names the document. surrogatepass: scraped
        # JSON may hold a lone surrogate ("\ud800"), which is text all the same.
        if raw_id is None:
            doc_id = f"xxh3:{xxh3_64_hexdigest(text.encode('utf-8', 'surrogatepass'))}"
        else:
            doc_id = str(raw_id)
        site = item_site(doc_id)
        match = self.index.check_and_add(doc_id, text, site=site)
        if match is not None:
            self.stats.inc_value("dedupe/duplicates")
            message = f"near-duplicate of {match.doc_id} (Jaccard {match.similarity:.3f})"
            if self.drop_duplicates:
                self.stats.inc_value("dedupe/dropped")
                raise DropItem(f"{doc_id}: {message}")
            logger.info("%s: %s (kept: DEDUPE_DROP_DUPLICATES is off)", doc_id, message)
        if self.clean:
            result = self.index.clean(text, site=site)
            adapter[self.text_field] = result.text
            self.stats.inc_value("dedupe/paragraphs_removed", len(result.cleaned.removed))
            self.stats.inc_value("dedupe/boilerplate_removed", len(result.boilerplate))
        return item
