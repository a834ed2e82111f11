"""Cut an EDIFACT interchange into its messages, keeping each message's exact bytes.

The service string advice (``UNA``) or the defaults give the separators; the syntax
identifier in ``UNB`` gives the character set (UNOA/UNOB: ASCII, UNOC…UNOK: ISO 8859,
UNOW/UNOY: UTF-8). A message is the bytes from its ``UNH`` to its ``UNT`` segment
terminator. Each message's ``UNT`` must count its segments and repeat the ``UNH`` reference,
and ``UNZ`` must count the messages; a message that breaks a rule (or is cut off) is
returned with the reason instead of lines, and the others still come through.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_SERVICE = ":+.? '"  # component, element, decimal mark, release, reserved, terminator
CHARSETS = {
    "UNOA": "ascii",
    "UNOB": "ascii",
    "UNOC": "latin-1",
    "UNOD": "iso8859-2",
    "UNOE": "iso8859-5",
    "UNOF": "iso8859-7",
    "UNOW": "utf-8",
    "UNOY": "utf-8",
}


@dataclass(frozen=True, slots=True)
class MessageBytes:
    index: int  # 1-based, in the interchange
    reference: str  # UNH message reference number
    raw: bytes  # UNH … UNT', exactly as in the file
    error: str | None = None


@dataclass(slots=True)
class Interchange:
    service: str  # the six service characters
    charset: str
    sender: str = ""
    recipient: str = ""
    control: str = ""
    messages: list[MessageBytes] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # interchange-level problems


@dataclass(frozen=True, slots=True)
class _Segment:
    start: int
    end: int  # after the terminator
    tag: str
    text: str  # without the terminator, leading line breaks stripped


def _segments(data: bytes, service: str, start: int) -> list[_Segment]:
    release, terminator = ord(service[3]), ord(service[5])
    segments: list[_Segment] = []
    begin, i = start, start
    while i < len(data):
        byte = data[i]
        if byte == release:
            i += 2
            continue
        if byte == terminator:
            body = data[begin:i].lstrip(b"\r\n\t ")
            text = body.decode("latin-1")
            tag = text.split(service[1], 1)[0].split(service[0], 1)[0]
            segments.append(_Segment(begin, i + 1, tag, text))
            begin = i + 1
        i += 1
    if data[begin:].strip():
        text = data[begin:].strip().decode("latin-1")
        segments.append(_Segment(begin, len(data), text[:3], text))  # unterminated tail
    return segments


def _elements(segment: _Segment, service: str) -> list[str]:
    return segment.text.split(service[1])


def split_interchange(data: bytes) -> Interchange:
    if data.startswith(b"UNA") and len(data) >= 9:
        service, start = data[3:9].decode("latin-1"), 9
    else:
        service, start = DEFAULT_SERVICE, 0
    segments = _segments(data, service, start)
    interchange = Interchange(service=service, charset="utf-8")
    if not segments or segments[0].tag != "UNB":
        interchange.errors.append("the interchange does not start with a UNB segment")
    else:
        unb = _elements(segments[0], service)
        syntax = unb[1].split(service[0])[0] if len(unb) > 1 else ""
        interchange.charset = CHARSETS.get(syntax, "utf-8")
        interchange.sender = unb[2].split(service[0])[0] if len(unb) > 2 else ""
        interchange.recipient = unb[3].split(service[0])[0] if len(unb) > 3 else ""
        interchange.control = unb[5] if len(unb) > 5 else ""
    current: list[_Segment] = []
    for segment in segments:
        if segment.tag == "UNH":
            if current:
                _close(interchange, data, current, service, "no UNT before the next UNH")
            current = [segment]
        elif current:
            current.append(segment)
            if segment.tag == "UNT":
                _close(interchange, data, current, service, None)
                current = []
        elif segment.tag == "UNZ":
            unz = _elements(segment, service)
            declared = unz[1] if len(unz) > 1 else ""
            if declared != str(len(interchange.messages)):
                interchange.errors.append(
                    f"UNZ counts {declared or 'no'} messages, the interchange holds "
                    f"{len(interchange.messages)}"
                )
    if current:
        _close(interchange, data, current, service, "cut off: no UNT (truncated interchange?)")
    return interchange


def message_problem(raw: bytes, service: str) -> str | None:
    """What is wrong with one message's structure (UNH first, UNT last, UNT's segment count
    and reference), or None. The stream checks again what the connector split."""
    segments = _segments(raw, service, 0)
    if not segments or segments[0].tag != "UNH":
        return "the message does not start with UNH"
    if segments[-1].tag != "UNT":
        return "cut off: no UNT (truncated interchange?)"
    probe = Interchange(service=service, charset="")
    _close(probe, raw, segments, service, None)
    return probe.messages[0].error


def _close(
    interchange: Interchange,
    data: bytes,
    segments: list[_Segment],
    service: str,
    error: str | None,
) -> None:
    unh = _elements(segments[0], service)
    reference = unh[1] if len(unh) > 1 else ""
    if error is None:
        unt = _elements(segments[-1], service)
        counted = unt[1] if len(unt) > 1 else ""
        unt_reference = unt[2] if len(unt) > 2 else ""
        if counted != str(len(segments)):
            error = f"UNT counts {counted or 'no'} segments, the message has {len(segments)}"
        elif unt_reference != reference:
            error = f"UNT reference {unt_reference!r} differs from UNH reference {reference!r}"
    raw = data[segments[0].start : segments[-1].end].lstrip(b"\r\n\t ")
    index = len(interchange.messages) + 1
    interchange.messages.append(MessageBytes(index, reference, raw, error))
