import shutil
from pathlib import Path

import pytest
import yaml

from schemas.errors import InvalidRuleData
from schemas.rule_data import RULES_DIR, load_rules


def test_packaged_rules_load() -> None:
    rules = load_rules()
    assert len(rules.chpl) == 50
    tiers = [e.tier for e in rules.chpl.values()]
    assert tiers.count("1") == 4 and tiers.count("2") == 5
    assert rules.chpl["854231"].tier == "1"
    assert rules.chpl["901310"].tier == "3B"
    assert {"RU", "BY", "UA-43"} <= rules.alerts.restricted_destinations
    assert {"HK", "AE", "TR", "KZ"} <= rules.alerts.high_risk_third_countries
    assert "NO" in rules.alerts.partner_countries  # quoted in YAML, or it reads as false


def test_every_rule_file_is_in_the_manifest_with_a_source() -> None:
    manifest = yaml.safe_load((RULES_DIR / "manifest.yaml").read_text())
    data_files = {p.name for p in RULES_DIR.iterdir() if p.name != "manifest.yaml"}
    assert data_files == set(manifest["files"])
    for name, meta in manifest["files"].items():
        assert meta["source"] and meta["source_url"].startswith("http"), name


def _copy_rules(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(RULES_DIR, target)
    return target


def test_unknown_tier_is_refused(tmp_path: Path) -> None:
    rules_dir = _copy_rules(tmp_path)
    chpl = rules_dir / "chpl.csv"
    chpl.write_text(chpl.read_text().replace("Tier 1", "Tier 9", 1))
    with pytest.raises(InvalidRuleData, match="unknown tier"):
        load_rules(rules_dir)


def test_file_without_source_in_manifest_is_refused(tmp_path: Path) -> None:
    rules_dir = _copy_rules(tmp_path)
    manifest = yaml.safe_load((rules_dir / "manifest.yaml").read_text())
    del manifest["files"]["hs_categories.yaml"]
    (rules_dir / "manifest.yaml").write_text(yaml.safe_dump(manifest))
    with pytest.raises(InvalidRuleData, match=r"hs_categories\.yaml"):
        load_rules(rules_dir)


def test_bad_prefix_is_refused(tmp_path: Path) -> None:
    rules_dir = _copy_rules(tmp_path)
    path = rules_dir / "hs_categories.yaml"
    path.write_text(path.read_text().replace('prefix: "8806"', 'prefix: "88x6"'))
    with pytest.raises(InvalidRuleData):
        load_rules(rules_dir)
