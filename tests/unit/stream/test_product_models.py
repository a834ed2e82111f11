"""Product models whose name carries a capability (schemas/rules/product_models.yaml)."""

import pytest

from schemas.rule_data import load_rules
from stream.stages.classify import Classifier
from stream.stages.hs_reading import HsReader

RULES = load_rules()
CLASSIFY = Classifier(RULES)
READ = HsReader(RULES.hs2022, RULES.hs_correlation)


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        # Thermal variants of drones and gimbal cameras: a drone and thermal imaging.
        ("DJI Mavic 3T", ("uav", "thermal_imaging")),
        ("Квадрокоптер DJI Mavic 3T Enterprise", ("uav", "thermal_imaging")),
        ("Mavic 3E/3T", ("uav", "thermal_imaging")),
        ("DJI M30T combo", ("uav", "thermal_imaging")),
        ("DJI Matrice 4T", ("uav", "thermal_imaging")),
        ("Mavic 2 Enterprise Advanced", ("uav", "thermal_imaging")),
        ("Zenmuse H20T", ("thermal_imaging",)),
        ("DJI Zenmuse XT2 19mm", ("thermal_imaging",)),
        ("Autel EVO II Dual 640T V3", ("uav", "thermal_imaging")),
        ("FLIR Boson 640 core", ("thermal_imaging",)),
        # Thermal scopes, monoculars and clip-ons by line and sensor code.
        ("Pulsar Thermion 2 LRF XG50", ("thermal_imaging", "weapon_optics")),
        ("Helion 2 XP50 Pro", ("thermal_imaging",)),
        ("Krypton 2 FXG50", ("thermal_imaging", "weapon_optics")),
        ("HIKMICRO Stellar SH50 2.0", ("thermal_imaging", "weapon_optics")),
        ("HIKMICRO Falcon FQ35", ("thermal_imaging",)),
        ("InfiRay Tube TH35", ("thermal_imaging", "weapon_optics")),
        ("ATN ThOR LT 320", ("thermal_imaging", "weapon_optics")),
        ("Pulsar Digex C50", ("night_vision", "weapon_optics")),
        # Their siblings without the thermal sensor, and look-alike words.
        ("DJI Mavic 3 Classic", ("uav",)),
        ("DJI Mavic 3 Pro Fly More Combo", ("uav",)),
        ("DJI Mavic 3E", ("uav",)),
        ("DJI Matrice 30 drone", ("uav",)),
        ("Zenmuse H20 zoom camera", ()),
        ("Zenmuse P1 full-frame camera", ()),
        ("Trail camera 24MP, 940 nm", ()),
        ("Apex Legends poster", ()),
        ("Intel Core i7 processor", ()),
    ],
)
def test_a_model_name_carries_its_capability(description: str, expected: tuple[str, ...]) -> None:
    assert CLASSIFY(READ(""), description).categories == expected


def test_no_negative_term_cancels_a_model() -> None:
    # 'remote control' cancels thermal imaging (an IR remote), but not a named thermal drone.
    assert CLASSIFY(READ(""), "IR remote control for TV").categories == ()
    found = CLASSIFY(READ(""), "DJI Mavic 3T with remote controller")
    assert found.categories == ("uav", "thermal_imaging")


def test_evidence_says_the_model_decided() -> None:
    description = "Квадрокоптер DJI Mavic 3T Enterprise"
    found = CLASSIFY(READ(""), description)
    models = [e for e in found.evidence if e.language == "model"]
    assert {e.target for e in models} == {"uav", "thermal_imaging"}
    for e in models:
        assert e.kind == "term"
        assert e.matched.startswith("DJI Mavic 3T")
        assert e.start is not None and e.end is not None
        assert description[e.start : e.end] == e.text == "Mavic 3T"


def test_every_model_names_its_source_and_reads_its_examples() -> None:
    assert len(RULES.product_models) >= 15
    for model in RULES.product_models:
        assert model.source.startswith("https://"), model.name
        assert set(model.categories) <= set(RULES.categories), model.name
        assert model.seen_in, model.name
        for example in model.examples:
            # Each example must be found whatever the other terms of the text say, and the
            # pattern's cheap pre-check (a required string in the text) must let it through.
            found = CLASSIFY(READ(""), example)
            assert set(model.categories) <= set(found.categories), (model.name, example)
            assert model.name in {e.matched for e in found.evidence if e.language == "model"}
