"""Typed configuration: strict pydantic models loaded from YAML or JSON with clear errors."""
from __future__ import annotations

import json
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError
from yaml.constructor import ConstructorError

from cellsort.errors import ConfigError

T = TypeVar("T", bound="StrictModel")


class StrictModel(BaseModel):
    """Base of every cellsort config: unknown keys are errors, values are validated."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True,
                              allow_inf_nan=False)


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML safe loader that refuses a key given twice in one mapping (instead of keeping
    the last value silently)."""

    def construct_mapping(self, node, deep=False):
        keys = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in keys:
                raise ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            keys.add(key)
        return super().construct_mapping(node, deep)


def _unique_keys(pairs: list[tuple]) -> dict:
    """JSON object hook refusing duplicate keys."""
    keys = [k for k, _ in pairs]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    if dup:
        raise ValueError(f"duplicate key {dup[0]!r}")
    return dict(pairs)


def load_config(cls: type[T], path: str | Path | None = None, **overrides) -> T:
    """Load ``cls`` from a YAML/JSON file (optional) with keyword overrides on top.

    Parameters
    ----------
    cls : type of StrictModel
        The config class.
    path : path-like, optional
        A ``.yaml``/``.yml``/``.json`` file holding a mapping of fields.
    **overrides
        Field values that replace those of the file; ``None`` values are ignored.

    Raises
    ------
    ConfigError
        If the file cannot be read or parsed, or a field is unknown or invalid.
    """
    data: dict = {}
    if path is not None:
        path = Path(path)
        try:
            text = path.read_text()
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read config file ({exc.strerror})") from exc
        try:
            data = (json.loads(text, object_pairs_hook=_unique_keys) if path.suffix == ".json"
                    else yaml.load(text, Loader=_UniqueKeyLoader))
        except (json.JSONDecodeError, yaml.YAMLError, ValueError) as exc:
            raise ConfigError(f"{path}: not valid {path.suffix.lstrip('.') or 'YAML'}: {exc}") from exc
        data = data or {}
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected a mapping of config fields, got {type(data).__name__}")
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        where = str(path) if path is not None else cls.__name__
        raise ConfigError(f"{where}: invalid {cls.__name__}: {validation_problems(exc)}") from exc


def validation_problems(exc: ValidationError) -> str:
    """A pydantic validation error as ``field.path: problem; ...`` on one line."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg'].removeprefix('Value error, ')}"
                     for e in exc.errors())
