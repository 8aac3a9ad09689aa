"""The FlowTime evaluation engine (spec 02): model validation and vectorised evaluation, numpy only."""

from runs.engine.evaluation import Evaluation, evaluate
from runs.engine.expressions import ExpressionSyntaxError, parse_expression
from runs.engine.model import (
    DEFAULT_MAX_BINS,
    Edge,
    Grid,
    Model,
    NodeSpec,
    OutputSpec,
    TopologyNode,
    load_model,
)
from runs.engine.rng import pcg32_doubles, pcg32_next_u32
from runs.engine.sources import read_series_csv, resolve_file_source

__all__ = [
    "DEFAULT_MAX_BINS",
    "Edge",
    "Evaluation",
    "ExpressionSyntaxError",
    "Grid",
    "Model",
    "NodeSpec",
    "OutputSpec",
    "TopologyNode",
    "evaluate",
    "load_model",
    "parse_expression",
    "pcg32_doubles",
    "pcg32_next_u32",
    "read_series_csv",
    "resolve_file_source",
]
