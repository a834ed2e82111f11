"""Which text encoding a tabular export is in: an override, a BOM, UTF-8, or a detector's guess.

Russian exports come in cp1251 as often as in UTF-8, Chinese ones in GB18030/GBK. Valid
UTF-8 is taken as UTF-8 (other encodings of real text almost never are valid UTF-8);
anything else goes to charset-normalizer, and a GB2312/GBK guess is widened to GB18030,
which decodes the same bytes and every character besides.
"""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes

_BOMS = (  # UTF-16/32 by byte order: decoding keeps the BOM, so text re-encodes to the same bytes
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE, whose BOM it starts with
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_WIDER = {"ascii": "utf-8", "gb2312": "gb18030", "gbk": "gb18030"}


def codec_name(encoding: str) -> str:
    """Python's canonical name of an encoding (``windows-1251`` → ``cp1251``)."""
    try:
        return codecs.lookup(encoding).name
    except LookupError as exc:
        raise ValueError(f"unknown encoding {encoding!r}") from exc


def _is_utf8(sample: bytes) -> bool:
    if b"\x00" in sample:  # UTF-16 without a BOM is valid UTF-8 byte for byte
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)  # may end mid-char
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(sample: bytes, override: str | None = None) -> str:
    """The encoding to decode ``sample`` (the start of a file, or all of it) with.

    ``override`` wins (a UTF-8 override on bytes with a BOM gives ``utf-8-sig``); then a
    byte-order mark; then UTF-8 if the bytes are valid UTF-8; then charset-normalizer.
    Raises ValueError when the override is unknown or no encoding fits.
    """
    if override:
        name = codec_name(override)
        return "utf-8-sig" if name == "utf-8" and sample.startswith(codecs.BOM_UTF8) else name
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name
    if _is_utf8(sample):
        return "utf-8"
    best = from_bytes(sample).best()
    cut = sample.rfind(b"\n") + 1  # a sample cut mid-character may fit nothing: retry whole lines
    if best is None and 0 < cut < len(sample):
        best = from_bytes(sample[:cut]).best()
    if best is None:
        raise ValueError(
            "no text encoding fits these bytes (not UTF-8, and charset-normalizer found no "
            "candidate); pass an encoding override"
        )
    name = codec_name(best.encoding)
    return _WIDER.get(name, name)
