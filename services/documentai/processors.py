"""The processors a deployment offers: configured, not created through the API (`id ->
type, display name` in `DOCUMENTAI_PROCESSORS` and the topology), so a user discovers them
with `list_processors` and `list_processor_types` as on Google Cloud.

Processor types offered, and why only these: the local engines can honestly do OCR (text,
layout, languages), form parsing (key/value pairs found by layout, ruled tables), layout
parsing (blocks, headings by size, tables, chunks), and an invoice parser whose entities come
only from labelled fields and line-item tables found by layout. The other specialised
extractors (expenses, IDs, custom extractors) would need models that do not ship offline;
they are not offered, so a configuration naming them is refused at start. With
`ML_BACKEND=cloud`, any type Google offers may be configured, and requests go to Google's
processor of that id.
"""

from __future__ import annotations

import dataclasses

from shared.errors import ApiError, Code
from shared.gapictypes import message_types

documentai = message_types("google.cloud.documentai_v1")

# Google's page limits (document-ai/limits): online, and per document in a batch.
ONLINE_PAGES = 15
ONLINE_PAGES_IMAGELESS = 30


@dataclasses.dataclass(frozen=True)
class ProcessorType:
    type: str
    category: str
    batch_pages: int  # per document, in batchProcess


LOCAL_TYPES = {
    "OCR_PROCESSOR": ProcessorType("OCR_PROCESSOR", "GENERAL", 500),
    "FORM_PARSER_PROCESSOR": ProcessorType("FORM_PARSER_PROCESSOR", "GENERAL", 100),
    # Entities only where a labelled field or a line-item table says so (local/entities.py).
    "INVOICE_PROCESSOR": ProcessorType("INVOICE_PROCESSOR", "SPECIALIZED", 200),
    # Blocks, headings by size, tables, chunks (local/layoutparser.py).
    "LAYOUT_PARSER_PROCESSOR": ProcessorType("LAYOUT_PARSER_PROCESSOR", "GENERAL", 500),
}
# Types a `cloud` deployment may configure beyond those (their batch page limits).
CLOUD_TYPES = {
    **LOCAL_TYPES,
    "EXPENSE_PROCESSOR": ProcessorType("EXPENSE_PROCESSOR", "SPECIALIZED", 200),
    "CUSTOM_EXTRACTION_PROCESSOR": ProcessorType("CUSTOM_EXTRACTION_PROCESSOR", "CUSTOM", 200),
}

# The version every local processor reports (and `processorVersions/{v}` may name).
DEFAULT_VERSION = "pretrained"
VERSION_ALIASES = ("pretrained", "stable", "rc", "pretrained-local-v1")


@dataclasses.dataclass(frozen=True)
class ProcessorConfig:
    id: str
    type: str
    display_name: str


def parse_processor(entry: str) -> ProcessorConfig:
    """`id=TYPE:display name` -> ProcessorConfig; ValueError naming what is wrong."""
    pid, sep, rest = entry.partition("=")
    kind, _, display = rest.partition(":")
    pid, kind = pid.strip(), kind.strip()
    if not sep or not pid or not kind:
        raise ValueError(f"processor {entry!r}: write it as id=TYPE:display name")
    if not all(c.isalnum() or c in "-_" for c in pid):
        raise ValueError(f"processor id {pid!r}: letters, digits, '-' and '_' only")
    if kind not in CLOUD_TYPES:
        raise ValueError(f"processor {pid!r}: unknown type {kind!r}; known: {sorted(CLOUD_TYPES)}")
    return ProcessorConfig(pid, kind, display.strip() or pid)


class Processors:
    """The configured processors of one deployment."""

    def __init__(self, entries: list[str], *, local: bool) -> None:
        self._local = local
        self._by_id: dict[str, ProcessorConfig] = {}
        for entry in entries:
            config = parse_processor(entry)
            if local and config.type not in LOCAL_TYPES:
                raise ValueError(
                    f"processor {config.id!r}: {config.type} has no offline engine; the local "
                    f"backend offers {sorted(LOCAL_TYPES)} (or set ML_BACKEND=cloud)"
                )
            self._by_id[config.id] = config

    @property
    def types(self) -> dict[str, ProcessorType]:
        return LOCAL_TYPES if self._local else CLOUD_TYPES

    def get(self, project: str, location: str, processor_id: str) -> ProcessorConfig:
        config = self._by_id.get(processor_id)
        if config is None:
            raise ApiError(
                Code.NOT_FOUND,
                f"Processor 'projects/{project}/locations/{location}/processors/"
                f"{processor_id}' not found. Configured processors: "
                f"{', '.join(sorted(self._by_id))} (DOCUMENTAI_PROCESSORS).",
            )
        return config

    def check_version(self, version: str | None) -> None:
        if version is not None and self._local and version not in VERSION_ALIASES:
            raise ApiError(
                Code.NOT_FOUND,
                f"Processor version {version!r} not found; the local processors have "
                f"{', '.join(VERSION_ALIASES)}.",
            )

    def processor(self, parent: str, config: ProcessorConfig) -> documentai.Processor:
        name = f"{parent}/processors/{config.id}"
        return documentai.Processor(
            name=name,
            type_=config.type,
            display_name=config.display_name,
            state=documentai.Processor.State.ENABLED,
            default_processor_version=f"{name}/processorVersions/{DEFAULT_VERSION}",
            process_endpoint=f"/v1/{name}:process",
        )

    def list(self, parent: str) -> list[documentai.Processor]:
        return [self.processor(parent, c) for c in self._by_id.values()]

    def processor_types(self, parent: str) -> list[documentai.ProcessorType]:
        location = parent.rsplit("/", 1)[-1]
        return [
            documentai.ProcessorType(
                name=f"{parent}/processorTypes/{kind.type}",
                type_=kind.type,
                category=kind.category,
                available_locations=[documentai.ProcessorType.LocationInfo(location_id=location)],
                allow_creation=False,
                launch_stage="GA",
            )
            for kind in self.types.values()
        ]
