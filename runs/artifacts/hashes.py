"""The hashes a run records: modelHash, scenarioHash and inputHash (spec 03 §4)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runs.canonical import canonical_json, sha256_prefixed


def model_hash(model_bytes: bytes) -> str:
    """``sha256:`` over the exact model.yaml bytes on disk."""
    return sha256_prefixed(model_bytes)


def scenario_hash(model_text: str, run_seed: int | None) -> str:
    """``sha256:`` over ``S.strip() + "\\n" + seed + "\\n" + "null"`` (seed = run-level seed or ``null``)."""
    seed = "null" if run_seed is None else str(int(run_seed))
    return sha256_prefixed(f"{model_text.strip()}\n{seed}\nnull".encode())


def input_hash_document(
    *,
    template_id: str,
    template_version: str,
    mode: str,
    parameters: Mapping[str, Any],
    telemetry: Mapping[str, Any] | None,
    rng_seed: int | None,
    model: str | None,
) -> dict[str, Any]:
    """The document D whose canonical JSON gives the inputHash (spec 03 §4.1)."""
    return {
        "templateId": template_id,
        "templateVersion": template_version,
        "mode": mode,
        "parameters": dict(parameters),
        "telemetry": None if telemetry is None else dict(telemetry),
        "rngSeed": rng_seed,
        "model": model,
    }


def input_hash(
    *,
    template_id: str,
    template_version: str,
    mode: str,
    parameters: Mapping[str, Any],
    telemetry: Mapping[str, Any] | None,
    rng_seed: int | None,
    model: str | None,
) -> str:
    """``sha256:`` of the canonical JSON of D; raises ``ValueError`` for values JSON cannot hold."""
    document = input_hash_document(
        template_id=template_id,
        template_version=template_version,
        mode=mode,
        parameters=parameters,
        telemetry=telemetry,
        rng_seed=rng_seed,
        model=model,
    )
    return sha256_prefixed(canonical_json(document))
