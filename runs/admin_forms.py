"""The admin's "Create run" form, generated from a template's parameter schema (spec 01 §2).

The form only turns text into JSON-like values; every rule about them (types, ranges, array lengths)
is the orchestration service's, so the admin, the API and the CLI answer the same input alike.
"""

from __future__ import annotations

from typing import Any

from django import forms

from runs.canonical import format_number
from runs.errors import FlowtimeError
from runs.orchestration import RunRequest
from templates_catalog.documents import Template
from templates_catalog.parameters import ParameterSpec

PARAMETER_PREFIX = "param_"


def _limits(spec: ParameterSpec) -> str:
    parts = []
    if spec.minimum is not None:
        parts.append(f"≥ {format_number(spec.minimum)}")
    if spec.maximum is not None:
        parts.append(f"≤ {format_number(spec.maximum)}")
    return " and ".join(parts)


def _array_text(values: list[Any]) -> str:
    return ", ".join(format_number(v) for v in values)


def parameter_help(spec: ParameterSpec) -> str:
    """The line under a field: what it is, its type and limits, its default."""
    text = (spec.description or spec.title or "").strip()
    parts = [text if not text or text.endswith((".", "!", "?")) else text + "."]
    kind: str = spec.type
    if kind == "array":
        length = f"{len(spec.default)} " if isinstance(spec.default, list) else ""
        kind = f"array of {length}numbers, comma-separated (one per bin)"
    limits = _limits(spec)
    parts.append(
        f"Type: {kind}{'; each ' if spec.type == 'array' and limits else '; ' if limits else ''}{limits}."
    )
    if spec.default is not None:
        default = _array_text(spec.default) if isinstance(spec.default, list) else spec.default
        parts.append(f"Default: {default!s}." if default != "" else "Default: empty.")
    return " ".join(p for p in parts if p)


def _parameter_field(spec: ParameterSpec) -> forms.Field:
    label = f"{spec.title or spec.name} ({spec.name})"
    common: dict[str, Any] = {"label": label, "help_text": parameter_help(spec), "required": spec.required}
    if spec.type == "integer":
        return forms.IntegerField(
            initial=spec.default,
            min_value=None if spec.minimum is None else int(spec.minimum),
            max_value=None if spec.maximum is None else int(spec.maximum),
            **common,
        )
    if spec.type == "number":
        return forms.FloatField(
            initial=spec.default, min_value=spec.minimum, max_value=spec.maximum, **common
        )
    if spec.type == "boolean":
        common["required"] = False
        return forms.BooleanField(initial=bool(spec.default), **common)
    if spec.type == "array":
        initial = _array_text(spec.default) if isinstance(spec.default, list) else ""
        return forms.CharField(initial=initial, widget=forms.TextInput(attrs={"size": 60}), **common)
    return forms.CharField(initial=spec.default, **common)


def _array_value(text: str) -> list[float] | str:
    """Comma- or space-separated numbers; anything unreadable is passed on as text so the service
    reports it with its own code (``parameter_invalid`` / ``type``)."""
    items = [item for item in text.replace(",", " ").split() if item]
    try:
        return [float(item) if "." in item or "e" in item.lower() else int(item) for item in items]
    except ValueError:
        return text


class CreateRunForm(forms.Form):
    """Fixed options first, then one field per (non-telemetry-bindable) template parameter."""

    template_id = forms.CharField(widget=forms.HiddenInput)
    seed = forms.IntegerField(
        required=False, min_value=0, label="Seed", help_text="RNG seed (integer ≥ 0); empty: the model's."
    )
    deterministic_run_id = forms.BooleanField(
        required=False,
        initial=True,
        label="Deterministic run id",
        help_text="The id is derived from the inputs: the same inputs give the same run (reused).",
    )
    run_id = forms.CharField(
        required=False,
        label="Run id",
        help_text="Optional explicit id (^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$); not with a deterministic id.",
    )
    overwrite = forms.BooleanField(
        required=False, label="Overwrite", help_text="Replace an existing run with this id."
    )

    def __init__(self, *args: Any, template: Template, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.template = template
        self.fields["template_id"].initial = template.id
        self.parameter_specs = [spec for spec in template.parameters if not spec.telemetry_bindable]
        for spec in self.parameter_specs:
            self.fields[PARAMETER_PREFIX + spec.name] = _parameter_field(spec)

    def parameter_fields(self) -> list[forms.BoundField]:
        return [self[PARAMETER_PREFIX + spec.name] for spec in self.parameter_specs]

    def option_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("seed", "deterministic_run_id", "run_id", "overwrite")]

    def run_request(self, *, dry_run: bool) -> RunRequest:
        """The request for the orchestration service; call after ``is_valid()``."""
        data = self.cleaned_data
        parameters: dict[str, Any] = {}
        for spec in self.parameter_specs:
            value = data.get(PARAMETER_PREFIX + spec.name)
            if value is None or (value == "" and spec.type != "string"):
                continue
            parameters[spec.name] = _array_value(value) if spec.type == "array" else value
        run_id = (data.get("run_id") or "").strip() or None
        return RunRequest(
            template_id=self.template.id,
            mode="simulation",
            parameters=parameters,
            deterministic_run_id=bool(data.get("deterministic_run_id")) and run_id is None,
            run_id=run_id,
            overwrite=bool(data.get("overwrite")),
            seed=data.get("seed"),
            dry_run=dry_run,
        )

    def add_service_error(self, error: FlowtimeError) -> None:
        """Put each issue of ``error`` under its field (``parameters.x[2]`` → the x field), with its code."""
        for issue in error.errors:
            item = issue.as_error_item()
            field = str(item["field"])
            name = field.removeprefix("parameters.").split("[", 1)[0]
            target = PARAMETER_PREFIX + name if field.startswith("parameters.") else None
            if field == "rng.seed":
                target = "seed"
            elif field == "options.runId":
                target = "run_id"
            message = f"{item['code']}: {field}: {item['message']}"
            if target in self.fields:
                self.add_error(target, message)
        self.add_error(None, f"{error.code}: {error.detail}")
