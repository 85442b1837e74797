"""Design-space search: the accuracy-latency-resource frontier of students for a lab's own
data and board (Optuna, NSGA-II; see :mod:`cellsort.explore.study`)."""
from cellsort.explore.front import pareto
from cellsort.explore.space import SearchSpace
from cellsort.explore.study import ExploreConfig, explore

__all__ = ["ExploreConfig", "SearchSpace", "explore", "pareto"]
