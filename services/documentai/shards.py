"""A Document cut into shards of at most N pages, as Google writes large batch output: each
shard is a whole Document of its pages, its text only theirs (anchors relative to it), with
`shardInfo` (`shardIndex`, `shardCount`, `textOffset`: where its text starts in the whole)."""

from __future__ import annotations

from collections.abc import Iterator

from shared.gapictypes import message_types
from shared.protojson import to_json as proto_to_json

documentai = message_types("google.cloud.documentai_v1")


def split(
    doc: documentai.Document, pages_per_shard: int
) -> Iterator[tuple[documentai.Document, int]]:
    pages = list(doc.pages)
    if len(pages) <= pages_per_shard:
        shard = documentai.Document(doc)
        shard.shard_info = documentai.Document.ShardInfo(shard_index=0, shard_count=1)
        yield shard, 1
        return
    groups = [pages[i : i + pages_per_shard] for i in range(0, len(pages), pages_per_shard)]
    for index, group in enumerate(groups):
        start = _start(group[0])
        end = _end(group[-1], len(doc.text))
        shard = documentai.Document(mime_type=doc.mime_type, text=doc.text[start:end])
        for page in group:
            copy = documentai.Document.Page(page)
            _shift(documentai.Document.Page.pb(copy), -start)
            shard.pages.append(copy)
        shard.shard_info = documentai.Document.ShardInfo(
            shard_index=index, shard_count=len(groups), text_offset=start
        )
        yield shard, len(groups)


def _start(page: documentai.Document.Page) -> int:
    segments = page.layout.text_anchor.text_segments
    return int(segments[0].start_index) if segments else 0


def _end(page: documentai.Document.Page, default: int) -> int:
    segments = page.layout.text_anchor.text_segments
    return int(segments[-1].end_index) if segments else default


def _shift(message, delta: int) -> None:
    """Every text segment under `message` moved by `delta`."""
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if (
            field.message_type.full_name
            == "google.cloud.documentai.v1.Document.TextAnchor.TextSegment"
        ):
            for segment in value:
                segment.start_index += delta
                segment.end_index += delta
            continue
        if field.is_repeated:
            for element in value:
                _shift(element, delta)
        else:
            _shift(value, delta)


def to_json(doc: documentai.Document) -> str:
    return proto_to_json(doc)
