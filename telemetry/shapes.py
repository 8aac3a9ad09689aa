"""The response bodies of /v1/captures, declared once (see ``flowtime_site.shapes``)."""

from __future__ import annotations

from typing import Annotated, TypedDict

from flowtime_site.shapes import Doc, IsoDateTime
from runs.shapes import PlanWarning


class CaptureGrid(TypedDict):
    bins: int
    binSize: int
    binUnit: str


class CaptureWindow(TypedDict):
    startTimeUtc: IsoDateTime | None
    durationMinutes: float | None


class CaptureFile(TypedDict):
    path: str
    nodeId: str
    metric: str
    points: int
    hash: str


class CaptureResponse(TypedDict):
    captureId: str
    sourceRunId: str | None
    captureDirectory: Annotated[str, Doc("Relative to <data>/telemetry.")]
    grid: CaptureGrid
    window: CaptureWindow | None
    files: list[CaptureFile]
    warnings: list[PlanWarning]
    createdUtc: IsoDateTime | None


class CaptureListItem(TypedDict):
    captureId: str
    sourceRunId: str | None
    templateId: str | None
    captureDirectory: str
    createdUtc: IsoDateTime | None
    startUtc: IsoDateTime | None
    bins: int
    binSize: int
    binUnit: str
    fileCount: int
    warningCount: int
