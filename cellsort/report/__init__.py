"""Run reports: one self-contained HTML page with the plots of every stage a run folder holds.

Owns: section rules, figures, the template.
May import: every package but the demo and the command line.
"""
from cellsort.report.build import Report, build_report, collect

__all__ = ["Report", "build_report", "collect"]
