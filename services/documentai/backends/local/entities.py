"""INVOICE_PROCESSOR's entities, taken only from evidence on the page: a form field whose
label names an invoice field ("Invoice number:", "Due date:", "Total:"...), or a ruled
table whose header names line-item columns (and its "Total" row). Nothing is guessed from
free text: a value with no label found by layout gives no entity, so an invoice laid out
without labels gets few entities rather than invented ones.

Types are Google's Invoice Parser names (`invoice_id`, `invoice_date`, `due_date`,
`purchase_order`, `receiver_name`, `ship_to_address`, `supplier_name`, `total_amount`,
`net_amount`, `total_tax_amount`, `line_item` with `line_item/description`, `/quantity`,
`/unit_price`, `/amount`). `normalizedValue` is given for dates (`dateValue`, and the ISO
date as `text`) written unambiguously (ISO, "12 March 2026", "March 12, 2026", or
day/month/year with a day past 12), and for money (`moneyValue`; the currency only when a
symbol or code is printed).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator

from google.type import date_pb2, money_pb2

from shared.gapictypes import message_types

documentai = message_types("google.cloud.documentai_v1")

Document = documentai.Document
Entity = Document.Entity

LABELS = {
    "invoice_id": ("invoice number", "invoice no", "invoice no.", "invoice #", "invoice id"),
    "invoice_date": ("invoice date", "date of issue", "issue date", "date"),
    "due_date": ("due date", "payment due", "due"),
    "purchase_order": ("order reference", "purchase order", "po number", "order number", "po"),
    "receiver_name": ("customer", "bill to", "billed to", "client"),
    "ship_to_address": ("ship to", "delivery address", "shipping address"),
    "supplier_name": ("supplier", "vendor", "seller"),
    "total_amount": ("total", "amount due", "total due", "grand total", "balance due"),
    "net_amount": ("subtotal", "net amount", "net total"),
    "total_tax_amount": ("tax", "vat", "sales tax", "tax amount"),
}
_BY_LABEL = {label: kind for kind, labels in LABELS.items() for label in labels}
DATES = frozenset({"invoice_date", "due_date"})
MONEY = frozenset({"total_amount", "net_amount", "total_tax_amount"})
COLUMNS = {
    "line_item/description": ("item", "description", "product", "service"),
    "line_item/quantity": ("quantity", "qty"),
    "line_item/unit_price": ("unit price", "price", "rate", "unit cost"),
    "line_item/amount": ("amount", "line total", "total"),
}
_COLUMN = {label: kind for kind, labels in COLUMNS.items() for label in labels}
_CURRENCIES = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
_CODES = frozenset({"USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "SEK", "NOK", "DKK"})
_MONTH_NAMES = (
    ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
    ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
    ("oct", "october"), ("nov", "november"), ("dec", "december"),
)  # fmt: skip
_MONTHS = {name: number for number, names in enumerate(_MONTH_NAMES, 1) for name in names}


def _text(doc: Document, layout) -> str:
    return "".join(
        doc.text[int(s.start_index) : int(s.end_index)] for s in layout.text_anchor.text_segments
    ).strip()


def _key(label: str) -> str:
    return re.sub(r"\s+", " ", label.strip().rstrip(":").strip().lower())


def extract(doc: Document) -> list[Entity]:
    return list(_entities(doc))


def _entities(doc: Document) -> Iterator[Entity]:
    seen: set[str] = set()
    for index, page in enumerate(doc.pages):
        for field in page.form_fields:
            if field.value_type:
                continue
            kind = _BY_LABEL.get(_key(_text(doc, field.field_name)))
            if kind is None or kind in seen or not _text(doc, field.field_value):
                continue
            seen.add(kind)
            yield _entity(doc, kind, field.field_value, index)
        for table in page.tables:
            yield from _line_items(doc, table, index, seen)


def _line_items(doc: Document, table, index: int, seen: set[str]) -> Iterator[Entity]:
    if not table.header_rows:
        return
    header = table.header_rows[-1]
    columns: list[str | None] = []
    for cell in header.cells:
        kind = _COLUMN.get(_key(_text(doc, cell.layout)))
        columns.extend([kind] * max(cell.col_span, 1))
    if "line_item/description" not in columns and "line_item/amount" not in columns:
        return
    for row in table.body_rows:
        cells, position = [], 0
        for cell in row.cells:
            cells.append((position, cell))
            position += max(cell.col_span, 1)
        first = _key(_text(doc, cells[0][1].layout)) if cells else ""
        if _BY_LABEL.get(first) in MONEY:
            kind = _BY_LABEL[first]
            amounts = [c for _, c in cells[1:] if _text(doc, c.layout)]
            if amounts and kind not in seen:
                seen.add(kind)
                yield _entity(doc, kind, amounts[-1].layout, index)
            continue
        properties = []
        for position, cell in cells:
            kind = columns[position] if position < len(columns) else None
            if kind and _text(doc, cell.layout):
                properties.append(_entity(doc, kind, cell.layout, index))
        if properties:
            item = _entity(doc, "line_item", None, index, parts=[c for _, c in cells])
            item.properties = properties
            yield item


def _entity(doc: Document, kind: str, layout, page: int, parts=None) -> Entity:
    layouts = [layout] if layout is not None else [p.layout for p in parts or []]
    segments = [s for lay in layouts for s in lay.text_anchor.text_segments]
    mention = " ".join(t for t in (_text(doc, lay) for lay in layouts) if t)
    confidence = min((lay.confidence for lay in layouts), default=0.0)
    entity = Entity(
        type_=kind,
        mention_text=mention,
        confidence=confidence,
        text_anchor=Document.TextAnchor(text_segments=segments, content=mention),
        page_anchor=Document.PageAnchor(
            page_refs=[
                Document.PageAnchor.PageRef(
                    page=page, bounding_poly=_around([lay.bounding_poly for lay in layouts])
                )
            ]
        ),
    )
    if kind in DATES or kind.endswith("_date"):
        date = parse_date(mention)
        if date is not None:
            entity.normalized_value = Entity.NormalizedValue(
                date_value=date_pb2.Date(year=date.year, month=date.month, day=date.day),
                text=date.isoformat(),
            )
    elif kind in MONEY or kind in ("line_item/unit_price", "line_item/amount"):
        money = parse_money(mention)
        if money is not None:
            entity.normalized_value = Entity.NormalizedValue(money_value=money[0], text=money[1])
    return entity


def _around(polys) -> documentai.BoundingPoly:
    points = [(v.x, v.y) for poly in polys for v in poly.normalized_vertices]
    if not points:
        return documentai.BoundingPoly()
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    corners = [(min(xs), min(ys)), (max(xs), min(ys)), (max(xs), max(ys)), (min(xs), max(ys))]
    return documentai.BoundingPoly(
        normalized_vertices=[documentai.NormalizedVertex(x=x, y=y) for x, y in corners]
    )


def parse_date(text: str) -> datetime.date | None:
    """A date written unambiguously, else None."""
    cleaned = text.strip().rstrip(".").lower().replace(",", " ")
    try:
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", cleaned):
            return datetime.date(int(m[1]), int(m[2]), int(m[3]))
        if m := re.fullmatch(r"(\d{1,2})\s+([a-z]+)\.?\s+(\d{4})", cleaned):
            month = _MONTHS.get(m[2])
            return datetime.date(int(m[3]), month, int(m[1])) if month else None
        if m := re.fullmatch(r"([a-z]+)\.?\s+(\d{1,2})\s+(\d{4})", cleaned):
            month = _MONTHS.get(m[1])
            return datetime.date(int(m[3]), month, int(m[2])) if month else None
        if m := re.fullmatch(r"(\d{1,2})[./](\d{1,2})[./](\d{4})", cleaned):
            first, second = int(m[1]), int(m[2])
            if first > 12 >= second:  # day first, the only reading
                return datetime.date(int(m[3]), second, first)
            if second > 12 >= first:  # month first (US), the only reading
                return datetime.date(int(m[3]), first, second)
    except ValueError:
        return None
    return None


def parse_money(text: str) -> tuple[money_pb2.Money, str] | None:
    """An amount ("$1,234.50", "1.234,50 EUR", "9593.00") as Money and its plain text."""
    raw = text.strip()
    currency = ""
    for symbol, code in _CURRENCIES.items():
        if symbol in raw:
            currency, raw = code, raw.replace(symbol, "")
    for code in _CODES:
        if re.search(rf"\b{code}\b", raw.upper()):
            currency, raw = code, re.sub(rf"(?i)\b{code}\b", "", raw)
    raw = raw.strip()
    if not re.fullmatch(r"-?[\d.,' ]*\d", raw):
        return None
    digits = raw.replace(" ", "").replace("'", "")
    # The last separator followed by exactly two digits is the decimal one.
    if m := re.fullmatch(r"(-?[\d.,]*?)[.,](\d{2})", digits):
        whole, cents = re.sub(r"[.,]", "", m[1]) or "0", m[2]
    else:
        whole, cents = re.sub(r"[.,]", "", digits), "00"
    units = int(whole)
    nanos = int(cents) * 10_000_000 * (-1 if units < 0 or whole.startswith("-") else 1)
    money = money_pb2.Money(currency_code=currency, units=units, nanos=nanos)
    return money, f"{units}.{cents}"
