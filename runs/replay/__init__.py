"""Time-travel replay of published runs (spec 06): pure Python + numpy, no Django.

The DRF views call these functions and render their dicts; errors are ``runs.errors`` exceptions.
"""

from runs.replay.charts import NodeChart, node_charts_svg
from runs.replay.graph import run_graph
from runs.replay.loading import ReplayRun, load_replay_run
from runs.replay.metadata import build_metadata
from runs.replay.metrics import run_warnings
from runs.replay.queries import parse_bin_query, parse_mode_query
from runs.replay.run_files import can_replay, can_replay_dir, index_body, model_bytes, series_csv
from runs.replay.series_cache import configure_series_cache
from runs.replay.state import clear_caches, state_snapshot, state_window

__all__ = [
    "NodeChart",
    "ReplayRun",
    "build_metadata",
    "can_replay",
    "can_replay_dir",
    "clear_caches",
    "configure_series_cache",
    "index_body",
    "load_replay_run",
    "model_bytes",
    "node_charts_svg",
    "parse_bin_query",
    "parse_mode_query",
    "run_graph",
    "run_warnings",
    "series_csv",
    "state_snapshot",
    "state_window",
]
