"""Run reports: one self-contained HTML page with the plots of every stage a run folder holds."""
from cellsort.report.build import Report, build_report, collect

__all__ = ["Report", "build_report", "collect"]
