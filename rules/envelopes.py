"""信封: the Chinese standard envelope sizes (GB/T 1416) and the layout the post office expects:
six 邮政编码 boxes top left for the recipient's code, the recipient's address and name in the
middle, the sender's block and 邮政编码 bottom right, a stamp box top right. The default envelope
template (rules/print_templates.py) is ENVELOPE_BODY over ENVELOPE_CSS; the envelope's data
carries each zip code as zip_boxes(...) so a template never has to slice strings."""
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


# Box geometry per the standard: 8×10 mm boxes, 2 mm apart, 20 mm from the left edge and 10 mm
# from the top; the sender's block ends 10 mm above the bottom edge and 15 mm from the right.
ENVELOPE_CSS = """
.kechi-envelope { position: relative; width: 100%; height: 100vh; overflow: hidden; font-size: 12pt;
  page-break-inside: avoid; }
.kechi-envelope .env-zip { position: absolute; left: 20mm; top: 10mm; white-space: nowrap; }
.kechi-envelope .env-zip-box { display: inline-block; box-sizing: border-box; width: 8mm; height: 10mm;
  margin-right: 2mm; border: 0.4mm solid #c00; text-align: center; line-height: 9.2mm; font-size: 14pt;
  vertical-align: top; }
.kechi-envelope .env-stamp { position: absolute; right: 10mm; top: 10mm; width: 20mm; height: 24mm;
  border: 0.3mm dashed #999; color: #999; font-size: 8pt; text-align: center; line-height: 24mm; }
.kechi-envelope .env-recipient { position: absolute; left: 25mm; right: 35mm; top: 36%; }
.kechi-envelope .env-address { font-size: 13pt; margin-bottom: 3mm; }
.kechi-envelope .env-company { font-size: 13pt; margin-bottom: 2mm; }
.kechi-envelope .env-name { font-size: 18pt; font-weight: bold; }
.kechi-envelope .env-sender { position: absolute; right: 15mm; bottom: 10mm; max-width: 60%; text-align: right;
  font-size: 10pt; line-height: 1.5; }
.kechi-envelope .env-sender-zip { letter-spacing: 0.5mm; }
"""

# The default envelope body (Jinja, rendered in the print sandbox over the envelope's data).
ENVELOPE_BODY = """<div class="kechi-envelope">
<div class="env-zip">{% for c in recipient.zip_boxes %}<span class="env-zip-box">{{ c }}</span>{% endfor %}</div>
<div class="env-stamp">贴邮票处</div>
<div class="env-recipient">
<div class="env-address">{{ recipient.address }}</div>
<div class="env-company">{{ recipient.name }}</div>
<div class="env-name">{{ recipient.contact }} 收</div>
</div>
<div class="env-sender">
<div>{{ sender.address }}</div>
<div>{{ sender.name }}</div>
<div class="env-sender-zip">邮政编码：{{ sender.zip }}</div>
</div>
</div>
"""
