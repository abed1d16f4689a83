"""信封: the Chinese standard envelope sizes (GB/T 1416) and the layout the post office expects:
six 邮政编码 boxes top left for the recipient's code, the recipient's address and name in the
middle, the sender's block and 邮政编码 bottom right, a stamp box top right. The default envelope
template is rules/print_defaults.ENVELOPE; the envelope's data (rules/print_data.py) carries each
zip code as zip_boxes(...) so a template never has to slice strings."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from models.printing import Paper


@dataclass(frozen=True)
class EnvelopeSize:
    paper: Paper
    label: object  # a lazy string
    width_mm: int
    height_mm: int


# GB/T 1416-2003: 5号 = DL 220×110, 7号 = C5 229×162 (the same sheets under their ISO names).
SIZES: dict[Paper, EnvelopeSize] = {
    Paper.DL: EnvelopeSize(Paper.DL, _l("DL 信封（220×110 毫米）"), 220, 110),
    Paper.C5: EnvelopeSize(Paper.C5, _l("C5 信封（229×162 毫米）"), 229, 162),
    Paper.NO5: EnvelopeSize(Paper.NO5, _l("5号信封（220×110 毫米）"), 220, 110),
    Paper.NO7: EnvelopeSize(Paper.NO7, _l("7号信封（229×162 毫米）"), 229, 162),
}
ZIP_DIGITS = 6
ENVELOPE_MARGINS = (0, 0, 0, 0)  # the layout places every block itself, in millimetres from the edges


def zip_boxes(zip_code: str | None) -> list[str]:
    """The six characters printed in the 邮政编码 boxes: the code's digits, blanks where it has
    fewer (a foreign or missing code leaves the boxes empty rather than misprinted)."""
    digits = [c for c in (zip_code or "") if c.isdigit()]
    if len(digits) != ZIP_DIGITS:
        return [""] * ZIP_DIGITS
    return digits
