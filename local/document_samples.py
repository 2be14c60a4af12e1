"""PDFs and scans the Document AI tests, bench and demo make (reportlab, a dev dependency,
and Pillow): an invoice-like form with "Key: value" lines, a label with its value further
right and one with its value below, check boxes and a ruled table with a spanning cell; a
two-column text page; and scans made by rasterising a page, turning it slightly and adding
noise. Each comes with what a reader should find in it, so tests compare against the truth
they were made from.

Values are drawn from seeded generators (`random`, not for secrets: S311 is off here), so
every seed gives other words than the ones the code was written against.
"""

from __future__ import annotations

import dataclasses
import io
import random

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

WORDS = [
    "alpha",
    "bravo",
    "cobalt",
    "delta",
    "ember",
    "falcon",
    "granite",
    "harbor",
    "island",
    "juniper",
    "kestrel",
    "lantern",
    "meadow",
    "nickel",
    "orchard",
    "pepper",
    "quartz",
    "raven",
    "silver",
    "timber",
    "umber",
    "violet",
    "willow",
    "yonder",
    "zephyr",
    "river",
    "stone",
    "cedar",
    "maple",
    "copper",
    "linen",
    "marble",
    "amber",
]
COMPANIES = ["Acme Tools Ltd", "Northwind Supplies", "Blue Harbor Trading", "Kestrel & Sons",
             "Granite Works GmbH", "Orchard Foods SA"]  # fmt: skip
ITEMS = ["Steel bolts", "Copper wire", "Oak panels", "Paint brushes", "Glass jars",
         "Rubber seals", "Cotton rope", "Brass hinges", "Linen cloth", "Clay tiles"]  # fmt: skip


@dataclasses.dataclass
class Form:
    pdf: bytes
    fields: dict[str, str]  # label (with its colon) -> value
    checkboxes: dict[str, bool]  # name -> filled
    table: list[list[str]]  # rows of cell texts (a spanning cell appears once, at its start)
    spans: dict[tuple[int, int], int]  # (row, col) -> colSpan > 1


def invoice(seed: int) -> Form:
    rng = random.Random(seed)  # noqa: S311
    number = f"INV-{rng.randint(10000, 99999)}"
    date = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    due = f"2027-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    customer = rng.choice(COMPANIES)
    order = f"PO{rng.randint(1000, 9999)}"
    fields = {
        "Invoice number:": number,
        "Invoice date:": date,
        "Due date:": due,
        "Customer:": customer,
        "Order reference:": order,
    }
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    _width, height = A4
    pdf.setFont("Helvetica-Bold", 18)
    pdf.drawString(60, height - 60, "INVOICE")
    pdf.setFont("Helvetica", 11)
    y = height - 100
    for label, value in list(fields.items())[:4]:
        pdf.drawString(60, y, f"{label} {value}")
        y -= 18
    # A label with its value far to its right on the same line.
    pdf.drawString(60, y, "Order reference:")
    pdf.drawString(300, y, order)
    y -= 18
    # A label with its value on the line below.
    pdf.drawString(60, y - 4, "Ship to:")
    address = f"{rng.randint(1, 99)} {rng.choice(WORDS).title()} Street"
    pdf.drawString(60, y - 20, address)
    fields["Ship to:"] = address
    y -= 50
    checkboxes = {}
    for k, name in enumerate(("Paid by card", "Paid by transfer")):
        filled = rng.random() < 0.5 if k == 0 else not checkboxes["Paid by card"]
        box_x = 60 + k * 200
        pdf.rect(box_x, y - 2, 10, 10)
        if filled:
            pdf.line(box_x + 2, y, box_x + 8, y + 6)
            pdf.line(box_x + 2, y + 6, box_x + 8, y)
        pdf.drawString(box_x + 16, y, name)
        checkboxes[name] = filled
    y -= 40

    rows = [["Item", "Quantity", "Unit price", "Amount"]]
    total = 0
    for item in rng.sample(ITEMS, rng.randint(3, 5)):
        qty, price = rng.randint(1, 40), rng.randint(2, 300)
        total += qty * price
        rows.append([item, str(qty), f"{price}.00", f"{qty * price}.00"])
    rows.append(["Total", f"{total}.00"])  # "Total" spans three columns
    col_x = [60, 230, 320, 420, 520]
    row_h = 20
    top = y
    for r, row in enumerate(rows):
        ry = top - r * row_h
        pdf.line(col_x[0], ry, col_x[-1], ry)
        if r < len(rows) - 1:
            for c, text in enumerate(row):
                pdf.drawString(col_x[c] + 4, ry - 14, text)
        else:
            pdf.drawString(col_x[0] + 4, ry - 14, row[0])
            pdf.drawString(col_x[3] + 4, ry - 14, row[1])
    bottom = top - len(rows) * row_h
    pdf.line(col_x[0], bottom, col_x[-1], bottom)
    last_top = top - (len(rows) - 1) * row_h
    for c, x in enumerate(col_x):
        # The inner rules stop above the last row, so its first cell spans three columns.
        spans_last = c in (1, 2)
        pdf.line(x, top, x, last_top if spans_last else bottom)
    pdf.setFont("Helvetica", 9)
    pdf.drawString(60, bottom - 30, "Thank you for your business. Payment within 30 days.")
    pdf.showPage()
    pdf.save()
    return Form(buffer.getvalue(), fields, checkboxes, rows, {(len(rows) - 1, 0): 3})


@dataclasses.dataclass
class Columns:
    pdf: bytes
    left: list[str]  # lines of the left column, top to bottom
    right: list[str]
    title: str


def two_columns(seed: int, lines: int = 14) -> Columns:
    rng = random.Random(seed)  # noqa: S311

    def line() -> str:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 5)))

    left = [line() for _ in range(lines)]
    right = [line() for _ in range(lines)]
    title = " ".join(w.title() for w in rng.sample(WORDS, 3))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    _width, height = A4
    pdf.setFont("Helvetica-Bold", 16)
    pdf.drawString(60, height - 60, title)
    pdf.setFont("Helvetica", 10)
    for k, (a, b) in enumerate(zip(left, right, strict=True)):
        # A paragraph break every 5 lines, at the same height in both columns.
        y = height - 100 - k * 14 - (k // 5) * 10
        pdf.drawString(60, y, a)
        pdf.drawString(320, y, b)
    pdf.showPage()
    pdf.save()
    return Columns(buffer.getvalue(), left, right, title)


def pages_pdf(count: int, seed: int = 0) -> tuple[bytes, list[str]]:
    """A PDF of `count` pages, each with one distinct line of text (returned)."""
    rng = random.Random(seed)  # noqa: S311
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    texts = []
    for number in range(1, count + 1):
        text = f"Page {number} " + " ".join(rng.choice(WORDS) for _ in range(4))
        pdf.setFont("Helvetica", 12)
        pdf.drawString(72, 760, text)
        pdf.showPage()
        texts.append(text)
    pdf.save()
    return buffer.getvalue(), texts


def encrypted_pdf() -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, encrypt="secret-password")
    pdf.drawString(72, 760, "Confidential text behind a password")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def huge_page_pdf() -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(14400 * 1.5, 14400 * 1.5))
    pdf.drawString(72, 72, "A page far larger than any paper")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def scan(pdf: bytes, seed: int, *, dpi: int = 300, angle: float | None = None) -> bytes:
    """The first page of `pdf` as a scanner gives it: rasterised, turned by a small angle,
    with Gaussian and salt-and-pepper noise; PNG bytes."""
    import numpy as np
    import pypdfium2
    from PIL import Image

    rng = random.Random(seed)  # noqa: S311
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=dpi / 72).to_pil().convert("L")
    finally:
        document.close()
    turn = angle if angle is not None else rng.choice([-1, 1]) * rng.uniform(0.8, 2.5)
    image = image.rotate(turn, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    pixels = np.asarray(image, dtype=np.float32)
    noise = np.random.default_rng(seed)
    pixels = pixels + noise.normal(0, 12, pixels.shape)
    speckle = noise.random(pixels.shape)
    pixels[speckle < 0.004] = 0
    pixels[speckle > 0.996] = 255
    out = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    out.save(buffer, format="PNG")
    return buffer.getvalue()


def as_pdf(png: bytes) -> bytes:
    """An image wrapped in a PDF without a text layer (a scanned PDF)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("L").save(buffer, format="PDF", resolution=300)
    return buffer.getvalue()
