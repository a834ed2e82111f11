"""Hostile files built in the tests: a truncated workbook, one declaring a huge dimension,
zip entries declaring a huge size or inflating a thousand times."""

from __future__ import annotations

import io
import re
import struct
import zipfile
from collections.abc import Callable

from openpyxl import Workbook

SHEET = "xl/worksheets/sheet1.xml"
ROWS: list[list[object]] = [
    ["Declaration No.", "Date", "HS Code", "Description", "Value"],
    ["D1", "01.02.2024", "8806", "Drone", "10"],
]


def workbook(rows: list[list[object]] | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows or ROWS:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _rezip(data: bytes, change: Callable[[str, bytes], bytes]) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            dst.writestr(info.filename, change(info.filename, src.read(info.filename)))
    return out.getvalue()


def truncated_sheet() -> bytes:
    """A valid zip whose sheet XML stops halfway: openpyxl raises ParseError reading rows."""
    return _rezip(workbook(), lambda name, body: body[: len(body) // 2] if name == SHEET else body)


def huge_dimension() -> bytes:
    """A few KB declaring ``A1:XFD1048576``: openpyxl would pad to 16384 × 1048576 cells."""

    def change(name: str, body: bytes) -> bytes:
        if name != SHEET:
            return body
        return re.sub(rb'<dimension ref="[^"]*" ?/>', b'<dimension ref="A1:XFD1048576"/>', body)

    return _rezip(workbook(), change)


def inflating(size: int = 4 << 20) -> bytes:
    """A workbook with an extra entry of ``size`` zero bytes: inflates over a thousand times."""
    out = io.BytesIO(workbook())
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", b"\0" * size)
    return out.getvalue()


def declaring(size: int = 0xFFFF_FFF0) -> bytes:
    """A workbook whose sheet entry declares ``size`` bytes uncompressed (headers patched)."""
    data = bytearray(workbook())
    name = SHEET.encode()
    local = data.find(b"PK\x03\x04")
    while local >= 0:
        name_len = struct.unpack_from("<H", data, local + 26)[0]
        if bytes(data[local + 30 : local + 30 + name_len]) == name:
            struct.pack_into("<I", data, local + 22, size)
        local = data.find(b"PK\x03\x04", local + 4)
    central = data.find(b"PK\x01\x02")
    while central >= 0:
        name_len = struct.unpack_from("<H", data, central + 28)[0]
        if bytes(data[central + 46 : central + 46 + name_len]) == name:
            struct.pack_into("<I", data, central + 24, size)
        central = data.find(b"PK\x01\x02", central + 4)
    return bytes(data)
