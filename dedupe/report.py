"""Old import path of the clean report, kept because docs/report-json.md showed it.

New code imports from :mod:`dedupe.cleaning.report`.
"""

from dedupe.cleaning.report import (
    SCHEMA,
    format_diff,
    format_html,
    format_json,
    format_text,
    report_data,
)

__all__ = ["SCHEMA", "format_diff", "format_html", "format_json", "format_text", "report_data"]
