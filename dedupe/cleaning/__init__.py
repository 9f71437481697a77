"""In-document cleaning: the pipeline, duplicate groups, repeated blocks, reports, HTML.

Named ``cleaning`` rather than ``clean`` so that the public function
``dedupe.clean`` is never shadowed by a subpackage of the same name.
"""
