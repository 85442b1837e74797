"""Scores for RT-DC users: classify every event of a recording and write ``ml_score_???``.

Owns: score feature names and scored recordings.
May import: the shared base, data, architecture, student, firmware, sorter.
"""
from cellsort.score.names import default_codes, score_code, score_features
from cellsort.score.recording import USERDEF, classify_recording, score_recording

__all__ = ["default_codes", "score_code", "score_features", "USERDEF", "classify_recording",
           "score_recording"]
