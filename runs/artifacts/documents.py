"""Tolerant access to the JSON and YAML documents of a run (spec 03 §8)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runs.engine.yaml_loader import load_yaml


def read_json_file(path: Path) -> dict[str, Any]:
    """Parse a JSON object file, accepting a UTF-8 BOM; ``ValueError`` when it is not a JSON object."""
    data = json.loads(path.read_bytes().decode("utf-8-sig"))
    if not isinstance(data, dict):
        raise ValueError(f"{path.name} does not hold a JSON object")
    return data


def get_key(mapping: Mapping[str, Any] | None, key: str, default: Any = None) -> Any:
    """``mapping[key]``, else the first key equal to it ignoring case, else ``default``."""
    if not isinstance(mapping, Mapping):
        return default
    if key in mapping:
        return mapping[key]
    folded = key.casefold()
    for name, value in mapping.items():
        if isinstance(name, str) and name.casefold() == folded:
            return value
    return default


def get_mapping(mapping: Mapping[str, Any] | None, key: str) -> Mapping[str, Any]:
    """``get_key`` for a nested object; anything that is not a mapping reads as ``{}``."""
    value = get_key(mapping, key)
    return value if isinstance(value, Mapping) else {}


def load_model_mapping(source: str | bytes) -> dict[str, Any]:
    """The model document as a mapping (BOM and CRLF accepted); ``{}`` when the root is not a mapping.

    Raises ``YamlLoadError`` (a ``ValueError``) when the text is not YAML we accept.
    """
    data = load_yaml(source)
    return data if isinstance(data, dict) else {}
