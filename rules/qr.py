"""二维码: a contact's 名片 (vCard) and a quote's share link as QR codes, drawn here with the qrcode
package (no service on the internet sees the data). Text is encoded as UTF-8, which the phone
cameras and WeChat's scanner read as such, so Chinese names survive."""
from __future__ import annotations

import io
from typing import Any

import qrcode
from qrcode.constants import ERROR_CORRECT_M

from rules import phones

PNG_TYPE = "image/png"
VCARD_TYPE = "text/vcard; charset=utf-8"


def png(text: str, *, box_size: int = 6) -> bytes:
    """The QR code of `text` as a PNG (medium error correction: a printed card survives a
    smudge)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=2)
    code.add_data(text.encode("utf-8"))
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image().save(out, format="PNG")
    return out.getvalue()


def _escape(value: Any) -> str:
    """A vCard text value (RFC 6350 §3.4): backslash, comma, semicolon and line breaks escaped."""
    text = str(value or "").strip()
    for raw, escaped in (("\\", "\\\\"), (",", "\\,"), (";", "\\;"), ("\r\n", "\\n"), ("\n", "\\n")):
        text = text.replace(raw, escaped)
    return text


def _dialable(value: Any) -> str:
    """A number as a phone dials it: the stored canonical form, an extension after a comma."""
    text = phones.canonical(value) if value else ""
    number, _sep, extension = text.partition("-") if not text.startswith("0") else (text, "", "")
    return number + ("," + extension if extension else "")


def vcard(*, name: str, company: str | None = None, position: str | None = None, mobile: str | None = None,
          phone: str | None = None, email: str | None = None) -> str:
    """A vCard 3.0 (the version every phone's contacts app imports) with CRLF line ends."""
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"N:{_escape(name)};;;;", f"FN:{_escape(name)}"]
    if company:
        lines.append(f"ORG:{_escape(company)}")
    if position:
        lines.append(f"TITLE:{_escape(position)}")
    if mobile:
        lines.append(f"TEL;TYPE=CELL:{_dialable(mobile)}")
    if phone:
        lines.append(f"TEL;TYPE=WORK,VOICE:{_escape(phones.canonical(phone))}")
    if email:
        lines.append(f"EMAIL;TYPE=INTERNET:{_escape(email)}")
    lines.append("END:VCARD")
    return "\r\n".join(lines) + "\r\n"


def contact_vcard(contact: Any) -> str:
    """The 名片 of a contact: its name, its customer's name as the company, title and numbers."""
    return vcard(name=contact.name, company=contact.customer.name if contact.customer else None,
                 position=contact.position, mobile=contact.mobile, phone=contact.phone, email=contact.email)
