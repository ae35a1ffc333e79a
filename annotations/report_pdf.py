"""The printable report a registrar files: a PDF made with reportlab.

What it holds, in order: the object's identification; the check (date, method, reason,
who observed and who recorded, environment, overall condition, completeness, hazards,
priority, next check) or the loan handover or the treatment; the texts; each image with
the damage regions outlined and numbered; the legend of numbered damage entries with their
terms (and AAT ids), extent, severity and activity; a cropped detail of each damage
region; treatment steps and analyses; the object's requirements; and the signatures with
their dates, the signing key's fingerprint and the history head the record is tied to.

Pure: images come in as bytes (the server fetches them from IIIF image services), the PDF
goes out as bytes. reportlab passes JPEG data through without decoding it, which keeps a
report of 50 entries and 10 images well under a second of work.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from .damage_terms import ATTRIBUTION
from .reports import Report
from .vocabularies import (
    ACTIVITY,
    CHECK_METHODS,
    COMPLETENESS,
    CONDITION_GRADES,
    EXTENT_UNITS,
    HANDOVERS,
    LIGHTING,
    PRIORITIES,
    REPORT_REASONS,
    REPORT_STATUSES,
    REPORT_TYPES,
    SEVERITIES,
    Vocabulary,
)

# Image streams as binary, not ASCII85: without reportlab's C accelerator the encoding is
# pure Python and was most of the time of a PDF with many images.
rl_config.useA85 = 0

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 16 * mm
FRAME_WIDTH = PAGE_WIDTH - 2 * MARGIN
MARK = colors.Color(0.85, 0.1, 0.1)


@dataclass
class Mark:
    """A numbered damage region on a figure, in the image's pixel coordinates."""

    number: int
    x: float
    y: float
    w: float = 0.0  # 0 and 0: a point
    h: float = 0.0


@dataclass
class Figure:
    """One image of the object (a canvas, a photograph) with the damage regions on it."""

    title: str
    image: bytes
    width: float  # the coordinate space of the marks (the canvas's size)
    height: float
    marks: list[Mark] = field(default_factory=list)


@dataclass
class Detail:
    """The cropped region of one damage entry."""

    number: int
    image: bytes
    caption: str


@dataclass
class Signing:
    """What the PDF says about the signature: the fingerprint and the history head."""

    key_id: str
    fingerprint: str
    seq: int
    head: str
    signed_at: str


def _fonts() -> tuple[str, str]:
    # DejaVu (Debian's fonts-dejavu-core) covers the labels of every language we ship;
    # Vera, which reportlab carries, is the fallback.
    candidates = [
        (
            Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
            Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
        ),
    ]
    import reportlab

    bundled = Path(reportlab.__file__).parent / "fonts"
    candidates.append((bundled / "Vera.ttf", bundled / "VeraBd.ttf"))
    for regular, bold in candidates:
        if regular.exists() and bold.exists():
            if "SinopiaSans" not in pdfmetrics.getRegisteredFontNames():
                pdfmetrics.registerFont(TTFont("SinopiaSans", str(regular)))
                pdfmetrics.registerFont(TTFont("SinopiaSans-Bold", str(bold)))
            return "SinopiaSans", "SinopiaSans-Bold"
    return "Helvetica", "Helvetica-Bold"


class _Styles:
    def __init__(self) -> None:
        regular, bold = _fonts()
        base = getSampleStyleSheet()
        self.body = ParagraphStyle(
            "body", parent=base["BodyText"], fontName=regular, fontSize=9, leading=11.5
        )
        self.small = ParagraphStyle("small", parent=self.body, fontSize=7.5, leading=9)
        self.cell = ParagraphStyle("cell", parent=self.body, fontSize=8, leading=10)
        self.head = ParagraphStyle("head", parent=self.cell, fontName=bold)
        self.title = ParagraphStyle(
            "title",
            parent=base["Title"],
            fontName=bold,
            fontSize=16,
            leading=19,
            alignment=0,
            spaceAfter=2,
        )
        self.h2 = ParagraphStyle(
            "h2",
            parent=base["Heading2"],
            fontName=bold,
            fontSize=11.5,
            leading=14,
            spaceBefore=8,
            spaceAfter=4,
        )
        self.regular, self.bold = regular, bold


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)


class _Jpeg(ImageReader):
    """An image whose JPEG data goes into the PDF as it is: reportlab would otherwise
    decode every image to pixels only to name it (a digest of the pixels)."""

    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data))
        self._raw = data
        self._dataA = None

    def getRGBData(self) -> bytes:
        if self.jpeg_fh() is not None:
            return self._raw  # only named by it: the JPEG itself is embedded
        data: bytes = super().getRGBData()
        return data


class _Marked(Flowable):
    """An image scaled to a box, with numbered outlines drawn over it (vector marks)."""

    def __init__(
        self,
        figure: Figure,
        max_width: float,
        max_height: float,
        font: str,
        reader: _Jpeg | None = None,
    ) -> None:
        super().__init__()
        self.figure = figure
        self.font = font
        self.reader = reader or _Jpeg(figure.image)
        pixel_w, pixel_h = self.reader.getSize()
        scale = min(max_width / pixel_w, max_height / pixel_h)
        self.width, self.height = pixel_w * scale, pixel_h * scale

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        canvas = self.canv
        canvas.drawImage(self.reader, 0, 0, self.width, self.height)
        sx = self.width / self.figure.width
        sy = self.height / self.figure.height
        canvas.setStrokeColor(MARK)
        canvas.setLineWidth(1.2)
        for mark in self.figure.marks:
            x = mark.x * sx
            top = self.height - mark.y * sy
            if mark.w or mark.h:
                canvas.rect(x, top - mark.h * sy, mark.w * sx, mark.h * sy, stroke=1, fill=0)
            else:
                canvas.circle(x, top, 4, stroke=1, fill=0)
            label = str(mark.number)
            canvas.setFillColor(MARK)
            box = 6 + 4.5 * len(label)
            canvas.rect(x, top, box, 10, stroke=0, fill=1)
            canvas.setFillColor(colors.white)
            canvas.setFont(self.font, 7.5)
            canvas.drawString(x + 3, top + 2.5, label)


def _table(rows: list[list[Any]], widths: list[float], header: bool = True) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    style = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.Color(0.75, 0.75, 0.75)),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.92, 0.92, 0.92)))
    table.setStyle(TableStyle(style))
    return table


def _fields(pairs: list[tuple[str, Any]], s: _Styles) -> Table | None:
    rows = [[_p(k, s.head), _p(v, s.cell)] for k, v in pairs if v not in (None, "", [])]
    if not rows:
        return None
    return _table(rows, [42 * mm, FRAME_WIDTH - 42 * mm], header=False)


def _agent(agent: Any) -> str:
    if agent is None:
        return ""
    return str(agent.name or agent.id or "")


def render(
    report: Report,
    *,
    document: str,
    figures: list[Figure],
    details: list[Detail],
    terms: Vocabulary,
    signing: Signing | None = None,
    generated: datetime | None = None,
    notes: list[str] | None = None,
) -> bytes:
    """The PDF of a report. `notes`: what could not be included (an image that did not
    load), printed so that the reader knows the file is incomplete."""
    s = _Styles()
    story: list[Flowable] = []
    kind = REPORT_TYPES.label(report.type)
    story.append(_p(report.title or kind, s.title))
    status = REPORT_STATUSES.label(report.status)
    story.append(_p(f"{kind} · {status} · {document}", s.small))
    story.append(Spacer(1, 4 * mm))

    info = report.object_info
    story.append(_p("Object", s.h2))
    table = _fields(
        [
            ("Object number", info.identifier if info else ""),
            ("Title", info.title if info else ""),
            ("Maker", info.maker if info else ""),
            ("Date", info.date if info else ""),
            ("Materials", info.materials if info else ""),
            ("Dimensions", info.dimensions if info else ""),
        ],
        s,
    )
    story.append(table or _p("Not identified yet.", s.body))

    env = report.environment
    env_text = ""
    if env is not None:
        parts = [
            f"{v:g} {u}"
            for v, u in (
                (env.temperature, "°C"),
                (env.humidity, "% RH"),
                (env.light, "lux"),
                (env.uv, "µW/lm"),
            )
            if v is not None
        ]
        env_text = ", ".join(parts) + (f". {env.notes}" if env.notes else "")
    story.append(_p("Check" if report.type != "treatment" else "Record", s.h2))
    pairs: list[tuple[str, Any]] = [
        ("Reference number", report.reference),
        ("Date", report.date.isoformat() if report.date else ""),
        ("Method", CHECK_METHODS.label(report.method) if report.method else ""),
        ("Reason", REPORT_REASONS.label(report.reason)),
        ("Observed by", _agent(report.checker)),
        ("Recorded by", _agent(report.recorder)),
        ("Overall condition", CONDITION_GRADES.label(report.condition or "")),
        ("Completeness", COMPLETENESS.label(report.completeness or "")),
        ("Hazards", "; ".join(report.hazards)),
        ("Environment", env_text),
        ("Treatment priority", PRIORITIES.label(report.priority or "")),
        ("Next check", report.next_check.isoformat() if report.next_check else ""),
    ]
    if report.loan is not None:
        loan = report.loan
        pairs += [
            ("Handover", HANDOVERS.label(loan.handover)),
            ("Loan number", loan.number),
            ("Lender", loan.lender),
            ("Borrower", loan.borrower),
            ("Venue", loan.venue),
            ("Courier", _agent(loan.courier)),
            ("Registrar", _agent(loan.registrar)),
        ]
    if report.type == "treatment":
        pairs += [
            ("Purpose", report.treatment_purpose),
            ("Conservators", ", ".join(_agent(c) for c in report.conservators)),
        ]
    story.append(_fields(pairs, s) or Spacer(1, 1))

    for label, text in (
        ("Summary", report.summary),
        ("Technical assessment", report.assessment),
        ("Recommendations", report.recommendations),
        ("Treatment proposal", report.proposal),
        ("Treatment notes", report.treatment),
    ):
        if text.strip():
            story.append(_p(label, s.h2))
            story.append(_p(text, s.body))

    for figure in figures:
        story.append(
            KeepTogether(
                [
                    _p(figure.title, s.h2),
                    _Marked(figure, FRAME_WIDTH, 105 * mm, s.regular),
                ]
            )
        )

    if report.damage:
        story.append(_p("Damage", s.h2))
        rows: list[list[Any]] = [
            [
                _p(h, s.head)
                for h in ("No.", "Term", "Location", "Extent", "Severity", "Activity", "Note")
            ]
        ]
        for number, entry in enumerate(report.damage, start=1):
            term = terms.get(entry.term)
            name = terms.label(entry.term)
            if term is not None and term.aat:
                name += f" (AAT {term.aat}{', to check' if term.curator_check else ''})"
            extent = (
                f"{entry.extent.value:g} {EXTENT_UNITS.label(entry.extent.unit)}"
                if entry.extent
                else ""
            )
            rows.append(
                [
                    _p(number, s.cell),
                    _p(name, s.cell),
                    _p(entry.location, s.cell),
                    _p(extent, s.cell),
                    _p(SEVERITIES.label(entry.severity), s.cell),
                    _p(ACTIVITY.label(entry.activity), s.cell),
                    _p(entry.note, s.cell),
                ]
            )
        widths = [9 * mm, 36 * mm, 30 * mm, 16 * mm, 16 * mm, 21 * mm]
        story.append(_table(rows, [*widths, FRAME_WIDTH - sum(widths)]))

    if details:
        story.append(_p("Details", s.h2))
        cells: list[Any] = []
        size = (FRAME_WIDTH - 6 * mm) / 3
        for detail in details:
            reader = _Jpeg(detail.image)
            width, height = reader.getSize()
            picture = Figure("", detail.image, width, height)
            cells.append(
                [
                    _Marked(picture, size, 45 * mm, s.regular, reader),
                    _p(f"{detail.number}. {detail.caption}", s.small),
                ]
            )
        grid = [cells[i : i + 3] for i in range(0, len(cells), 3)]
        grid[-1] += [""] * (3 - len(grid[-1]))
        table = Table(grid, colWidths=[size + 2 * mm] * 3)
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story.append(table)

    if report.steps:
        story.append(_p("Treatment steps", s.h2))
        rows = [
            [
                _p(h, s.head)
                for h in (
                    "Date",
                    "What was done",
                    "Methods",
                    "Materials added",
                    "Materials removed",
                    "By",
                )
            ]
        ]
        for step in report.steps:
            rows.append(
                [
                    _p(step.date.isoformat(), s.cell),
                    _p(step.description, s.cell),
                    _p(", ".join(step.methods), s.cell),
                    _p(", ".join(step.materials_added), s.cell),
                    _p(", ".join(step.materials_removed), s.cell),
                    _p(_agent(step.by), s.cell),
                ]
            )
        widths = [20 * mm, 50 * mm, 28 * mm, 28 * mm, 28 * mm]
        story.append(_table(rows, [*widths, FRAME_WIDTH - sum(widths)]))
    if report.analyses:
        story.append(_p("Analyses and samples", s.h2))
        rows = [[_p(h, s.head) for h in ("Kind", "Date", "Method", "Where", "Sample", "Result")]]
        for analysis in report.analyses:
            rows.append(
                [
                    _p(analysis.kind, s.cell),
                    _p(analysis.date.isoformat() if analysis.date else "", s.cell),
                    _p(analysis.method, s.cell),
                    _p(analysis.location, s.cell),
                    _p(analysis.sample, s.cell),
                    _p(analysis.result, s.cell),
                ]
            )
        widths = [18 * mm, 20 * mm, 28 * mm, 30 * mm, 20 * mm]
        story.append(_table(rows, [*widths, FRAME_WIDTH - sum(widths)]))

    req = report.requirements
    if req is not None:
        table = _fields(
            [
                ("Display", req.display),
                ("Environmental", req.environmental),
                ("Handling", req.handling),
                ("Packing", req.packing),
                ("Security", req.security),
                ("Storage", req.storage),
                ("Special", req.special),
            ],
            s,
        )
        if table is not None:
            story += [_p("Requirements", s.h2), table]

    signatures: list[Flowable] = [_p("Signatures", s.h2)]
    rows = [[_p(h, s.head) for h in ("Step", "By", "Role", "Date", "Note")]]
    for approval in report.approvals:
        rows.append(
            [
                _p(approval.action, s.cell),
                _p(_agent(approval.agent), s.cell),
                _p(approval.role or "", s.cell),
                _p(approval.at.strftime("%Y-%m-%d %H:%M UTC"), s.cell),
                _p(approval.note, s.cell),
            ]
        )
    if len(rows) > 1:
        widths = [26 * mm, 38 * mm, 16 * mm, 36 * mm]
        signatures.append(_table(rows, [*widths, FRAME_WIDTH - sum(widths)]))
    if signing is not None:
        signatures.append(Spacer(1, 2 * mm))
        signatures.append(
            _p(
                f"Signed {signing.signed_at} with the Ed25519 key {signing.key_id} "
                f"(fingerprint SHA-256 {signing.fingerprint}), over the record at entry "
                f"{signing.seq} of the document's history (head {signing.head}). "
                "Check the signed record with: sinopia report verify FILE",
                s.body,
            )
        )
    else:
        signatures.append(_p("Not signed: this is not an approved record.", s.body))
    story.append(KeepTogether(signatures))
    for note in notes or []:
        story.append(_p(f"Not included: {note}", s.small))
    for photo_lighting in sorted({p.lighting for e in report.damage for p in e.photographs}):
        story.append(_p(f"Photographs in {LIGHTING.label(photo_lighting).lower()}.", s.small))
    story.append(Spacer(1, 3 * mm))
    story.append(_p(ATTRIBUTION, s.small))

    when = (generated or datetime.now()).strftime("%Y-%m-%d %H:%M")
    footer = f"{report.title or kind} · {document} · printed {when}"

    def on_page(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(s.regular, 7)
        canvas.setFillColor(colors.Color(0.35, 0.35, 0.35))
        canvas.drawString(MARGIN, 10 * mm, footer[:140])
        canvas.drawRightString(PAGE_WIDTH - MARGIN, 10 * mm, f"page {doc.page}")
        canvas.restoreState()

    out = io.BytesIO()
    pdf = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=18 * mm,
        title=report.title or kind,
        author=_agent(report.recorder) or _agent(report.checker),
        subject=document,
        creator="Sinopia",
    )
    pdf.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return out.getvalue()
