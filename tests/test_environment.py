"""The pins of pyproject.toml and environment.yml must be the same set."""
from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def pyproject_pins() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = set(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        pins |= set(extra)
    return pins


def environment_pins() -> set[str]:
    spec = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(item["pip"] for item in spec["dependencies"] if isinstance(item, dict))
    return {line for line in pip_section if not line.startswith("-e")}


def test_every_dependency_is_pinned_exactly():
    assert all("==" in pin for pin in pyproject_pins())


def test_environment_yml_repeats_the_pins_of_pyproject():
    assert environment_pins() == pyproject_pins()


def test_torch_is_the_cpu_release_on_disk():
    assert "torch==2.13.0" in pyproject_pins()
    assert "jupyter-book==1.0.4.post1" in pyproject_pins()
