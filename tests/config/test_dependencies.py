"""Pins that matter for safety, checked against what is really installed."""

import re
import tomllib
from importlib.metadata import version

from tests.support.processes import ROOT


def pinned(name: str) -> str:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for requirement in dependencies:
        match = re.fullmatch(rf"{name}(?:\[[^\]]*\])?==([0-9.]+)", requirement)
        if match:
            return match.group(1)
    raise AssertionError(f"{name} is not pinned exactly in pyproject.toml")


def test_urllib3_is_pinned_at_2_6_or_later_and_installed_as_pinned():
    pin = pinned("urllib3")
    assert tuple(int(part) for part in pin.split(".")[:2]) >= (2, 6)
    assert version("urllib3") == pin
