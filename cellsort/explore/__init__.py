"""Design-space search: the accuracy-latency-resource frontier of students for a lab's own
data and board (Optuna; see :mod:`cellsort.explore.study`), shared by workers through a
storage (:mod:`.storage`) and an artifact store (:mod:`.artifacts`).

Owns: the search space, the study and its workers, the Pareto front.
May import: the shared base, data, architecture, student, distill, firmware, sorter.
"""
from cellsort.explore.front import pareto
from cellsort.explore.space import SearchSpace
from cellsort.explore.study import ExploreConfig, explore

__all__ = ["ExploreConfig", "SearchSpace", "explore", "pareto"]
