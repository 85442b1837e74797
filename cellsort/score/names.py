"""Names of the ``ml_score_???`` features that carry a classifier's scores in RT-DC files.

dclab, Shape-Out and DCscope recognise ``ml_score_`` followed by exactly three lower-case
letters or digits; dclab derives ``ml_class`` (the index of the largest score, in the sorted
order of the feature names) from them.
"""
from __future__ import annotations

import re

from cellsort.errors import ConfigError

_CODE = re.compile(r"^[a-z0-9]{3}$")


def score_code(class_name: str, width: int = 3) -> str:
    """Code of a class name: its letters and digits, lower case, first ``width``, padded with
    ``0`` (``"B"`` → ``b00``, ``"T4"`` → ``t40``, ``"Jurkat G1"`` → ``jur``)."""
    code = re.sub(r"[^a-z0-9]", "", class_name.lower())[:width]
    return code.ljust(width, "0")


def default_codes(class_names: tuple[str, ...]) -> list[str]:
    """:func:`score_code` of every class when those are distinct and sort in class order;
    otherwise the class index and a two-character code (``"0t0"``, ``"1b0"``), which do."""
    codes = [score_code(n) for n in class_names]
    if len(set(codes)) == len(codes) and codes == sorted(codes) or len(class_names) > 10:
        return codes
    return [f"{i}{score_code(n, 2)}" for i, n in enumerate(class_names)]


def score_features(class_names: tuple[str, ...], codes: str | None = None) -> list[str]:
    """``ml_score_???`` feature names, one per class, in class order.

    Parameters
    ----------
    class_names : tuple of str
    codes : str, optional
        Comma-separated three-character codes (default :func:`default_codes`).

    Raises
    ------
    ConfigError
        Codes of the wrong form or count, or two classes with one code; the names must also
        sort in class order, so that dclab's ``ml_class`` is the class index.
    """
    chosen = [c.strip() for c in codes.split(",")] if codes else default_codes(class_names)
    if len(chosen) != len(class_names):
        raise ConfigError(f"--score-names: {len(chosen)} codes for {len(class_names)} classes "
                          f"{list(class_names)}")
    bad = [c for c in chosen if not _CODE.match(c)]
    if bad:
        raise ConfigError(f"--score-names: {bad} are not three lower-case letters or digits")
    if len(set(chosen)) != len(chosen):
        raise ConfigError(f"classes {list(class_names)} give the same score codes {chosen}; "
                          f"choose distinct ones with --score-names")
    if chosen != sorted(chosen):
        raise ConfigError(f"score codes {chosen} must sort in class order {list(class_names)} "
                          f"(dclab numbers ml_class by sorted name); choose them with --score-names")
    return [f"ml_score_{c}" for c in chosen]
