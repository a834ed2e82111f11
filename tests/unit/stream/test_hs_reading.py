"""Reading declared codes of any HS vintage, level or shape, and classifying on them."""

import pytest

from schemas.declaration import Declaration
from schemas.rule_data import load_rules
from stream.stages.classify import Classifier
from stream.stages.enrich import Enricher
from stream.stages.hs_reading import HsReader

RULES = load_rules()
READ = HsReader(RULES.hs2022, RULES.hs_correlation)
CLASSIFY = Classifier(RULES)


@pytest.mark.parametrize(
    ("declared", "status", "digits", "version"),
    [
        ("8806.22", "valid", "880622", "HS2022"),
        ("8542 31 900 0", "national", "8542319000", "HS2022"),
        ("8542 31  900 0", "national", "8542319000", "HS2022"),
        ("8525.80/30", "older_version", "85258030", "HS2017"),
        ("8525.80", "older_version", "852580", "HS2017"),
        ("8542", "heading_only", "8542", ""),
        ("93", "chapter_only", "93", ""),
        ("", "missing", "", ""),
        ("N/A", "missing", "", ""),
        ("  -  ", "missing", "", ""),
        ("0", "unreadable", "", ""),
        ("000000", "unreadable", "", ""),
        ("8542.31; 8542.39", "several", "854231", "HS2022"),
        ("123456", "unknown", "123456", ""),
        ("10121", "valid", "010121", "HS2022"),  # a spreadsheet dropped the leading zero
    ],
)
def test_codes_are_read_with_a_status(
    declared: str, status: str, digits: str, version: str
) -> None:
    code = READ(declared)
    assert (code.status, code.digits, code.version) == (status, digits, version)


def test_several_codes_keep_the_others() -> None:
    assert READ("8542.31; 8542.39").others == ("854239",)
    assert READ("6211.33 / 6211.43").others == ("621143",)


def test_an_hs2017_code_that_vanished_is_read_through_the_correlation() -> None:
    code = READ("8525.80.30")
    assert code.status == "older_version"
    assert {"852589", "880621"} <= set(code.read_as)


def test_an_hs2017_drone_code_is_classified_by_the_correlation_and_the_text() -> None:
    found = CLASSIFY(READ("8802.20"), "Unmanned aircraft, quadcopter type, max take-off 1.2 kg")
    assert found.categories == ("uav",)
    assert found.hs_version == "HS2017"
    assert [e.matched for e in found.evidence if e.kind == "hs_correlation"] == ["880220→880610"]


def test_an_hs2017_aeroplane_code_alone_names_no_drone() -> None:
    found = CLASSIFY(READ("8802.20"), "Light aeroplane, two seats, unladen weight 600 kg")
    assert found.categories == ()
    assert found.hs_version is None


def test_a_heading_is_a_weak_code_decided_by_the_text() -> None:
    chips = CLASSIFY(READ("8542"), "Microcontroller 32-bit ARM Cortex-M4, LQFP64")
    assert "microelectronics" in chips.categories
    assert any(e.kind == "hs_heading" and e.matched == "8542" for e in chips.evidence)
    sights = CLASSIFY(READ("9013"), "Riflescope 3-9x40 with illuminated reticle")
    assert "weapon_optics" in sights.categories
    assert CLASSIFY(READ("8542"), "Parts").categories == ()


def test_a_line_without_a_code_is_classified_on_its_text() -> None:
    line = Declaration.model_validate(
        {
            "declaration_id": "B1",
            "line_no": 1,
            "declared_at": "2024-05-01",
            "flow": "import",
            "hs_code": "N/A",
            "description": "Thermal imaging camera 640x512 uncooled microbolometer",
        }
    )
    enriched, _ = Enricher(RULES).line(line)
    assert enriched.hs_code_status == "missing"
    assert "thermal_imaging" in enriched.categories
    assert enriched.flags == []
    no_field = Declaration.model_validate(
        {k: v for k, v in line.model_dump().items() if k != "hs_code"}
    )
    assert no_field.hs_code == ""
    assert Enricher(RULES).line(no_field)[0].hs_code_status == "missing"


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("Aircraft n.e.c., except unmanned aircraft", ()),
        ("Machines for the manufacture of electronic integrated circuits", ()),
        ("МАШИНЫ ДЛЯ ПРОИЗВОДСТВА ПОЛУПРОВОДНИКОВЫХ ПЛАСТИН, ЭЛЕКТРОННЫХ ИНТЕГРАЛЬНЫХ СХЕМ", ()),
        ("Винтовки охотничьи нарезные, кроме ружей для подводной охоты", ("firearms",)),
        ("Quadcopter with thermal camera, except battery", ("uav", "thermal_imaging")),
        ("FPGA field programmable gate array, 100k logic cells", ("microelectronics",)),
        ("USB programmer for EEPROM chips", ()),
        ("СХЕМЫ ЭЛЕКТРОННЫЕ ИНТЕГРАЛЬНЫЕ", ("microelectronics",)),
        ("АППАРАТУРА ПЕРЕДАЮЩАЯ ДЛЯ РАДИОВЕЩАНИЯ ИЛИ ТЕЛЕВИДЕНИЯ, ЦИФРОВЫЕ КАМЕРЫ", ()),
    ],
)
def test_nomenclature_wording_classes(description: str, expected: tuple[str, ...]) -> None:
    """Exclusions and purposes ('except', 'кроме', 'for the manufacture of'), inverted word
    order, stems shared by a negative and a strong term, broadcasting vs radio."""
    assert CLASSIFY(READ(""), description).categories == expected


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        # HS 2022 heading 9303 (WCO wording and the UN Comtrade short form): the head names
        # firearms, 'signal flares' and 'blank ammunition' are only among the examples.
        (
            "Other firearms and similar devices which operate by the firing of an explosive "
            "charge (for example, sporting shotguns and rifles, muzzle-loading firearms, Very "
            "pistols and other devices designed to project only signal flares, pistols and "
            "revolvers for firing blank ammunition, captive-bolt humane killers, line-throwing "
            "guns)",
            ("firearms",),
        ),
        (
            "Firearms; other similar devices (e.g. sporting shotguns and rifles, muzzle-loading "
            "firearms, very pistols, devices for firing flares or blank ammunition, captive bolt "
            "humane killers, line throwing guns)",
            ("firearms",),
        ),
        # Heading 9304: no firearm in the head, or a list that is all its clause says.
        (
            "Other arms (for example, spring, air or gas guns and pistols, truncheons), "
            "excluding those of heading 93.07",
            (),
        ),
        (
            "Firearms; (e.g. spring, air or gas guns and pistols, truncheons), excluding those "
            "of heading no. 9307",
            (),
        ),
        ("Оружие прочее (например, пружинные, пневматические или газовые ружья и пистолеты)", ()),
        # Invented wordings: a negative in an example list vs a negative that is the head.
        ("Sporting rifles, e.g. muzzle-loading rifles and flare-launching pistols", ("firearms",)),
        (
            "Hunting shotguns, including models supplied with a cleaning kit and a carrying case",
            ("firearms",),
        ),
        ("Air rifles (for example, spring-piston and PCP rifles)", ()),
        ("Toy pistols, e.g. cap pistols and water pistols", ()),
        ("Signal pistols (for example, Very pistols for flares)", ()),
        ("Ружья охотничьи (например, гладкоствольные, в том числе в чехле)", ("firearms",)),
        ("Пистолеты сигнальные (например, ракетницы)", ()),
        ("Винтовки пневматические, в том числе для спортивной стрельбы", ()),
        ("Рушниці мисливські (наприклад, гладкоствольні, зокрема в чохлі)", ("firearms",)),
        ("Пістолети сигнальні (наприклад, ракетниці)", ()),
        ("猎枪（例如，附带枪套和清洁工具）", ("firearms",)),
        ("玩具手枪（例如，水枪）", ()),
        (
            "Thermal imaging cameras (for example, handheld units with a thermal paper printer)",
            ("thermal_imaging",),
        ),
        ("Thermal paper rolls (for example, for printers of thermal imaging cameras)", ()),
        ("Motorcycle helmets, including ballistic-looking designs", ()),
        # A negative outside every list still cancels.
        ("Rifles (for example, bolt-action), toy replicas", ()),
    ],
)
def test_a_negative_among_the_examples_does_not_veto_the_head(
    description: str, expected: tuple[str, ...]
) -> None:
    """A negative inside an example list ('for example', 'e.g.', 'including', 'например',
    'в том числе', 'наприклад', 'зокрема', '例如') names one example; it cancels the category
    only when the head names no strong term of it, or the list is all its clause says."""
    assert CLASSIFY(READ(""), description).categories == expected


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        # Infrared wavebands and detector types name thermal imaging next to an infrared word.
        ("Uncooled infrared detector module, spectral band 8-14 µm", ("thermal_imaging",)),
        ("Infrared core 7.5–13.5 μm, vanadium oxide", ("thermal_imaging",)),
        ("红外探测器 工作波段 8～14μm", ("thermal_imaging",)),
        ("ИК-модуль, спектральный диапазон 8–14 мкм", ("thermal_imaging",)),
        ("探测器：非制冷焦平面，像素数640×512", ("thermal_imaging",)),
        ("Infrared thermometer gun, 8-14 µm, -50 to 550 °C", ()),
        ("Dome camera 4MP, IR cut filter, infrared LEDs 30 m", ()),
        # Satellite positioning wording, not satellite TV or satellite communications.
        ("Multi-constellation satellite receiver module, L1/L5", ("gnss",)),
        ("Багатосупутникові та багаточастотні приймачі", ("gnss",)),
        ("Приемник спутниковых сигналов, модуль", ("gnss",)),
        ("Satellite TV receiver DVB-S2, HDMI", ()),
        ("Uplink power controller for earth station satellite receivers", ()),
        # An image intensifier amplifying infrared light is night vision, not thermal.
        ("Image intensifier tube amplifying visible and near infrared light", ("night_vision",)),
        # 'SoC' names the chip inside a receiver; it needs a chip qualifier to be the goods.
        ("RTK receiver based on a dual-core GNSS SoC", ("gnss",)),
        ("Quad-core ARM Cortex-A53 SoC, BGA", ("microelectronics",)),
        # A radio with its antennas; a GPS module's antenna stays GNSS.
        ("Long-range telemetry radios with antennas, 5 km", ("radio_comms",)),
        ("GPS module with ceramic antenna", ("gnss",)),
        ("Bluetooth low energy (BLE 5.0) radio tag", ()),
        # Flight-controller GNSS units named by bus, compass or u-blox engine (third set).
        ("CUAV Neo v2 Pro UAVCAN GPS", ("gnss",)),
        ("Matek M10Q GPS+Compass", ("gnss",)),
        ("Holybro RTK F9P Family", ("gnss",)),
        ("Septentrio AsteRx-mUAS RTK GPS", ("gnss",)),
        ("DJI Matrice 300 RTK", ("uav",)),
        ("Navigational instruments and appliances; direction finding compasses", ()),
        (
            "The receiver turns a dish antenna to television signals from satellites",
            (),
        ),
        ("Portable satphone, a satellite terminal with Inmarsat service", ()),
        # A chip inside a GNSS module is the module's; storage drives are not chips.
        ("GNSS positioning module integrated with the high-performance AT6668 chip", ("gnss",)),
        ("Field Programmable Gate Arrays (FPGAs)", ("microelectronics",)),
        ("LED芯片 贴片", ()),
        ("Solid-state drive: NAND flash memory and a flash controller integrated circuit", ()),
        ("Smart ring with an onboard processor and semiconductor components", ()),
        # Mid-wave infrared and thermal drones.
        (
            "Cooled MWIR modules operate in the 3–5 μm band, long-range performance",
            ("thermal_imaging",),
        ),
        ("Thermal drone for search and rescue", ("uav", "thermal_imaging")),
        ("Dual-camera UAV for simultaneous thermal and color imagery", ("uav", "thermal_imaging")),
        # Latin terms written against Chinese characters; traditional characters.
        ("模块采用U-BLOX NEO-6M模组，体积小巧", ("gnss",)),
        ("ESP跨界WiFi/BLE的MCU", ("microelectronics",)),
        ("碳化矽防彈陶瓷", ("armor_ceramics",)),
        ("熱成像儀 640×512", ("thermal_imaging",)),
        # A short product name whose head noun is GPS is a GPS unit; a car GPS is a sat nav.
        ("CUAV NEO 3 GPS", ("gnss",)),
        ("Car GPS", ()),
        # A ceramic named by what it stops or what backs it.
        ("Ceramic strike face backed by UHMWPE", ("armor_ceramics",)),
        ("Ceramic plates protecting against rifle projectiles", ("armor_ceramics",)),
        ("Ceramic floor tiles, glazed", ()),
        # 'without' / 'без' excludes what follows it, like 'except'.
        ("Квадрокоптер DJI Matrice 30 (без тепловизионной камеры)", ("uav",)),
        ("Drone frame kit without thermal camera", ("uav",)),
        # Infrared as a CCTV camera's light, thermal conductivity: not thermal imaging.
        ("IP camera, IR range 30 m, 4MP imaging", ()),
        ("CCTV camera with infrared night vision up to 30m, imaging sensor 1/2.8 CMOS", ()),
        ("Камера видеонаблюдения с ИК-подсветкой, матрица 1/3", ()),
        ("Thermal conductive pad, 12 W/mK", ()),
        ("Uncooled thermal camera core 640x512, NETD 40 mK", ("thermal_imaging",)),
    ],
)
def test_prose_wording_classes(description: str, expected: tuple[str, ...]) -> None:
    """Wordings of ruling and catalogue prose (issue 15, second real-text set)."""
    assert CLASSIFY(READ(""), description).categories == expected


def test_a_term_in_traditional_characters_points_at_the_original_text() -> None:
    description = "氧化鋁防彈陶瓷片"
    found = CLASSIFY(READ(""), description)
    terms = [e for e in found.evidence if e.kind == "term"]
    assert ("armor_ceramics", "防弹陶瓷", "防彈陶瓷") in {
        (e.target, e.matched, e.text) for e in terms
    }
    for e in terms:
        assert e.start is not None and e.end is not None
        assert description[e.start : e.end] == e.text


def test_a_waveband_is_evidence_named_like_a_term() -> None:
    found = CLASSIFY(READ(""), "Infrared camera core, 8-14 µm")
    bands = [e for e in found.evidence if e.matched == "infrared band"]
    assert [(b.kind, b.language, b.text) for b in bands] == [("term", "pattern", "8-14 µm")]
