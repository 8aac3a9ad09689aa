"""The response bodies of /v1/runs and its sub-routes, declared once (see ``flowtime_site.shapes``).

The builders in ``runs.serializers``, ``runs.selectors`` and ``runs.replay`` return these types, and
``runs.openapi`` publishes them; keys are listed in the order the bodies carry them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired, TypedDict

import orjson

from flowtime_site.shapes import Doc, IsoDateTime, Minimum, PublishedAs
from templates_catalog.shapes import ParameterType

RunMode = Literal["simulation", "telemetry"]
EdgeQuality = Literal["exact", "missing"]
Color = Literal["gray", "green", "yellow", "red"]

NumberArray = Annotated[list[float | None] | orjson.Fragment, PublishedAs(list[float | None])]
"""A series of numbers, ``null`` where a value is missing or not finite; written as pre-rendered JSON
text (``orjson.Fragment``) by the window builders, or as a list."""

TimestampArray = Annotated[list[str] | orjson.Fragment, PublishedAs(list[IsoDateTime])]


# --- a run (spec 05 §2) ------------------------------------------------------------------------------


class SchemaInfo(TypedDict):
    id: str
    version: str
    hash: str


class StorageInfo(TypedDict):
    modelPath: str
    metadataPath: str
    provenancePath: str | None


class RunMetadata(TypedDict):
    runId: str
    templateId: str
    templateTitle: str
    templateVersion: str
    mode: RunMode
    provenanceHash: str
    telemetrySourcesResolved: bool
    schema: SchemaInfo
    storage: StorageInfo
    edgeQuality: Annotated[EdgeQuality, Doc("exact when the model has a flow edge (spec 07 §5.5)")]


class RunWarning(TypedDict):
    code: str
    message: str
    severity: str
    nodeId: str | None


class RunGrid(TypedDict):
    bins: int
    binSize: int
    binUnit: str
    startUtc: IsoDateTime | None


class RunRng(TypedDict):
    seed: Annotated[int | None, Doc("The seed the engine used (manifest.json rng.seed).")]


class RunLinks(TypedDict):
    self: str
    state: str
    stateWindow: str
    index: str
    model: str


class PlanFile(TypedDict):
    nodeId: str
    metric: str
    path: str


class PlanWarning(TypedDict):
    """A warning of the capture manifest, as the manifest has it (null where it has no value)."""

    code: str | None
    message: str | None
    nodeId: str | None
    bins: list[int] | None


class RunPlan(TypedDict):
    templateId: str
    mode: str
    outputRoot: str
    captureDirectory: str | None
    sourceRunId: Annotated[str | None, Doc("The run captured on demand, if any.")]
    deterministicRunId: bool
    requestedRunId: str | None
    predictedRunId: str | None
    parameters: dict[str, Any]
    telemetryBindings: dict[str, str]
    files: list[PlanFile]
    warnings: list[PlanWarning]
    operations: list[str]


class RunResponse(TypedDict):
    """A run (201, or 200 when reused) or, with ``isDryRun``, the plan of one (spec 05 §2, §3)."""

    isDryRun: bool
    metadata: RunMetadata | None
    plan: RunPlan | None
    warnings: list[RunWarning]
    canReplay: bool
    wasReused: Annotated[bool, Doc("false for a new run and for every dry run")]
    createdUtc: NotRequired[IsoDateTime | None]
    inputHash: NotRequired[str | None]
    grid: NotRequired[RunGrid]
    parameters: NotRequired[
        Annotated[
            dict[str, Any],
            Doc(
                "(ours) The template parameters the run was made with, defaults applied "
                "(model/metadata.json)."
            ),
        ]
    ]
    rng: NotRequired[RunRng]
    links: NotRequired[RunLinks]


# --- the list (spec 05 §4) ------------------------------------------------------------------------


class RunListItem(TypedDict):
    runId: str
    templateId: str
    templateTitle: str
    templateVersion: str
    mode: str
    createdUtc: IsoDateTime | None
    warningCount: int
    startUtc: IsoDateTime | None
    duration: Annotated[str | None, Doc("ISO-8601 duration, e.g. PT6H")]
    bins: int
    canReplay: bool


class RunCursorPage(TypedDict):
    """A page read with ``cursor``: no totalCount (counting would cost what keyset paging saves)."""

    items: list[RunListItem]
    pageSize: Annotated[int, Minimum(1)]
    nextCursor: str | None
    prevCursor: str | None


# --- /state and /state_window (spec 06 §5, §6; edges spec 07 §5) -----------------------------------


class StateMetrics(TypedDict):
    arrivals: float | None
    served: float | None
    errors: float | None
    queue: float | None
    capacity: float | None
    externalDemand: float | None


class StateDerived(TypedDict):
    utilization: float | None
    latencyMinutes: float | None
    throughputRatio: float | None
    color: Color


class NodeWarning(TypedDict):
    code: str
    message: str
    severity: str


class NodeTelemetry(TypedDict):
    sources: list[str]
    warnings: list[NodeWarning]


class StateNode(TypedDict):
    id: str
    kind: str
    metrics: StateMetrics
    derived: StateDerived
    telemetry: NodeTelemetry


class StateBin(TypedDict):
    index: int
    startUtc: IsoDateTime | None
    endUtc: IsoDateTime | None
    durationMinutes: float


class EdgeFlowSeries(TypedDict):
    flowVolume: NumberArray


# ``from`` is a Python keyword: the keys both edge shapes start with are declared in the functional form.
EdgeHead = TypedDict(
    "EdgeHead",
    {
        "id": str,
        "from": Annotated[str, Doc("Node id without port.")],
        "to": Annotated[str, Doc("Node id without port.")],
        "edgeType": str,
        "weight": float,
    },
)


class StateEdge(EdgeHead):
    """A flow edge (spec 07 §5.3): the source's served split by weight."""

    series: EdgeFlowSeries


class SnapshotEdge(EdgeHead):
    """A flow edge at one bin: ``flowVolume`` is the value, ``series`` holds it alone."""

    flowVolume: Annotated[float | None, Doc("/state only: the value at binIndex.")]
    series: EdgeFlowSeries


EdgeWarnings = Annotated[
    dict[str, list[dict[str, Any]]],
    Doc("Edge id → StateWarning[]; always {} in this project (spec 07 §5.4)."),
]


class StateSnapshot(TypedDict):
    metadata: RunMetadata
    bin: StateBin
    nodes: list[StateNode]
    edges: list[SnapshotEdge]
    edgeWarnings: EdgeWarnings
    warnings: list[RunWarning]


class WindowInfo(TypedDict):
    startBin: int
    endBin: int
    binCount: int


class WindowNode(TypedDict):
    id: str
    kind: str
    series: Annotated[
        dict[str, NumberArray],
        Doc("arrivals, served, errors, throughputRatio always; others when present (spec 06 §6)"),
    ]
    telemetry: NodeTelemetry


class StateWindow(TypedDict):
    metadata: RunMetadata
    window: WindowInfo
    timestampsUtc: TimestampArray | None
    nodes: list[WindowNode]
    edges: list[StateEdge]
    edgeWarnings: EdgeWarnings
    warnings: list[RunWarning]


# --- /index (spec 03 §3.5) and /graph (spec 07 §4) -------------------------------------------------

SeriesIndexEntry = TypedDict(
    "SeriesIndexEntry",
    {
        "id": str | None,
        "kind": str | None,
        "path": str | None,
        "unit": str | None,
        "componentId": str | None,
        "class": Annotated[str | None, Doc("The series class (DEFAULT when the run has no classes).")],
        "points": int | None,
        "hash": str | None,
    },
)
SeriesIndexEntry.__doc__ = (
    "One entry of ``series/index.json`` as stored (spec 03 §3.5); null where the file lacks a key."
)


class SeriesIndexGrid(TypedDict):
    bins: int
    binSize: int
    binUnit: str
    timezone: str
    align: str
    binMinutes: float


class SeriesIndex(TypedDict):
    schemaVersion: int
    grid: SeriesIndexGrid
    series: list[SeriesIndexEntry]


class GraphNodeSemantics(TypedDict):
    arrivals: str | None
    served: str | None
    errors: str | None
    queue: str | None
    capacity: str | None
    externalDemand: str | None
    slaMin: float | None


class GraphNodeUi(TypedDict):
    x: float | None
    y: float | None


class GraphNode(TypedDict):
    id: str
    kind: str
    semantics: GraphNodeSemantics | None
    ui: GraphNodeUi | None


GraphEdge = TypedDict(
    "GraphEdge",
    {
        "id": str,
        "from": Annotated[str, Doc("Authored endpoint, port kept.")],
        "to": Annotated[str, Doc("Authored endpoint, port kept.")],
        "weight": float,
        "edgeType": Annotated[str, Doc("topology, the authored type, or dependency")],
        "field": str | None,
    },
)


class RunGraph(TypedDict):
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    order: list[str]


# --- the FlowTime UI facade (/api/v1, spec 07 §3) --------------------------------------------------


class UiTemplateSummary(TypedDict):
    id: str
    title: str
    description: str
    narrative: Annotated[str | None, Doc("Always null.")]
    category: Annotated[str, Doc("Always general.")]
    tags: list[str]
    version: str
    captureKey: Annotated[str | None, Doc("Always null.")]


class UiTemplateCategories(TypedDict):
    categories: list[str]


class UiTemplateParameter(TypedDict):
    name: str
    type: ParameterType
    title: str
    description: str
    defaultValue: Any | None
    min: float | None
    max: float | None


class UiTemplateDetail(UiTemplateSummary):
    parameters: list[UiTemplateParameter]
