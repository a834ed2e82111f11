import codecs
import random

import pytest

from ingest.formats.tabular import detect_encoding
from tests.unit.mappings.helpers import SAMPLES

RU_BYTES = (SAMPLES / "ru_declarations_cp1251.csv").read_bytes()
CN_BYTES = (SAMPLES / "cn_exports_gb18030.csv").read_bytes()
RU_TEXT = RU_BYTES.decode("cp1251")
CN_TEXT = CN_BYTES.decode("gb18030")


def test_samples_are_a_few_kilobytes_of_real_text() -> None:
    assert len(RU_BYTES) > 3000 and len(CN_BYTES) > 1500
    assert "Беспилотные летательные аппараты" in RU_TEXT
    assert "无人驾驶航空飞行器" in CN_TEXT


def test_cp1251_russian_is_told_from_utf8() -> None:
    assert detect_encoding(RU_BYTES) == "cp1251"
    assert detect_encoding(RU_TEXT.encode("utf-8")) == "utf-8"


def test_gb18030_and_gbk_chinese_are_told_from_utf8() -> None:
    assert detect_encoding(CN_BYTES) == "gb18030"
    assert detect_encoding(CN_TEXT.encode("gbk")) == "gb18030"  # widened: same bytes, more chars
    assert detect_encoding(CN_TEXT.encode("utf-8")) == "utf-8"


@pytest.mark.parametrize("size", [500, 777, 1024, 1501, 2048])
def test_a_prefix_cut_mid_character_is_still_recognised(size: int) -> None:
    assert detect_encoding(RU_BYTES[:size]) == "cp1251"
    assert detect_encoding(CN_BYTES[:size]) == "gb18030"
    assert detect_encoding(CN_TEXT.encode("utf-8")[:size]) == "utf-8"


def test_byte_order_marks() -> None:
    assert detect_encoding(codecs.BOM_UTF8 + RU_TEXT.encode("utf-8")) == "utf-8-sig"
    assert detect_encoding(codecs.BOM_UTF16_LE + "Номер ДТ".encode("utf-16-le")) == "utf-16-le"
    assert detect_encoding(codecs.BOM_UTF16_BE + "Номер ДТ".encode("utf-16-be")) == "utf-16-be"
    assert detect_encoding(codecs.BOM_UTF32_LE + "ДТ".encode("utf-32-le")) == "utf-32-le"


def test_override_wins() -> None:
    assert detect_encoding(RU_BYTES, override="koi8-r") == "koi8-r"
    assert detect_encoding(CN_TEXT.encode("utf-8"), override="GB18030") == "gb18030"
    assert detect_encoding(RU_BYTES, override="windows-1251") == "cp1251"  # canonical name
    assert detect_encoding(codecs.BOM_UTF8 + b"a;b", override="UTF8") == "utf-8-sig"


def test_unknown_override_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown encoding 'cp9999'"):
        detect_encoding(RU_BYTES, override="cp9999")


def test_bytes_no_encoding_fits_are_refused() -> None:
    noise = random.Random(7).randbytes(4096)
    with pytest.raises(ValueError, match=r"no text encoding fits these bytes.*encoding override"):
        detect_encoding(noise)


def test_ascii_and_empty_are_utf8() -> None:
    assert detect_encoding(b"Bill of Lading Number,Arrival Date\n") == "utf-8"
    assert detect_encoding(b"") == "utf-8"
