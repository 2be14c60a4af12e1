"""Which pages a request reads (`processOptions`), and Google's page limits. Pure functions.

`individualPageSelector.pages` are 1-based page numbers, kept in document order; `fromStart`
N is the first N pages, `fromEnd` N the last N (fewer when the document is shorter, as
Google does). Online limits count the pages that will be read.
"""

from __future__ import annotations

from services.documentai.processors import ONLINE_PAGES, ONLINE_PAGES_IMAGELESS
from shared.errors import invalid_argument
from shared.gapictypes import message_types

documentai = message_types("google.cloud.documentai_v1")


def select(options: documentai.ProcessOptions | None, total: int) -> list[int]:
    if options is None:
        return list(range(1, total + 1))
    which = documentai.ProcessOptions.pb(options).WhichOneof("page_range")
    if which == "individual_page_selector":
        requested = list(options.individual_page_selector.pages)
        if not requested:
            raise invalid_argument("processOptions.individualPageSelector.pages is empty.")
        bad = [p for p in requested if not 1 <= p <= total]
        if bad:
            raise invalid_argument(
                f"Invalid page number {bad[0]} in processOptions.individualPageSelector: the "
                f"document has {total} page{'s' if total != 1 else ''} (pages are numbered "
                "from 1)."
            )
        return sorted(set(requested))
    if which == "from_start":
        count = options.from_start
        if count <= 0:
            raise invalid_argument("processOptions.fromStart must be a positive number of pages.")
        return list(range(1, min(count, total) + 1))
    if which == "from_end":
        count = options.from_end
        if count <= 0:
            raise invalid_argument("processOptions.fromEnd must be a positive number of pages.")
        return list(range(max(total - count, 0) + 1, total + 1))
    return list(range(1, total + 1))


def check_online(count: int, imageless: bool) -> None:
    if imageless:
        if count > ONLINE_PAGES_IMAGELESS:
            raise invalid_argument(
                f"Document pages in imageless mode exceed the limit: "
                f"{ONLINE_PAGES_IMAGELESS} got {count}. Use batchProcess for longer documents."
            )
        return
    if count > ONLINE_PAGES:
        raise invalid_argument(
            f"Document pages in non-imageless mode exceed the limit: {ONLINE_PAGES} got "
            f"{count}. Try using imageless mode to increase the limit to "
            f"{ONLINE_PAGES_IMAGELESS}."
        )


def check_batch(count: int, limit: int, processor_type: str) -> None:
    if count > limit:
        raise invalid_argument(
            f"Document pages exceed the limit: {limit} got {count} ({processor_type} reads at "
            f"most {limit} pages a document in batchProcess)."
        )
