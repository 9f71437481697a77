"""Old import path of the Dask executor, kept because earlier READMEs showed it.

New code imports from :mod:`dedupe.corpus.dask`.
"""

from dedupe.corpus.dask import DaskExecutor, dask_executor, local_cluster

__all__ = ["DaskExecutor", "dask_executor", "local_cluster"]
