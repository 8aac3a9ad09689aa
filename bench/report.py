"""The results table (terminal and markdown), the machine it ran on, and docs/performance.md."""

from __future__ import annotations

import os
import platform
import re
import shutil
import textwrap
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from bench.harness import PROJECT_DIR, Figure

DOC = PROJECT_DIR / "docs" / "performance.md"
BEGIN = "<!-- bench:begin (written by `python -m bench`; edit outside these markers) -->"
END = "<!-- bench:end -->"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.processor() or "unknown"
    found = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return found.group(1).strip() if found else platform.processor() or "unknown"


def machine_info() -> dict[str, str]:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0
    info = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": str(cores),
        "cpu": _cpu_model(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": _version("numpy"),
        "django": _version("django"),
        "djangorestframework": _version("djangorestframework"),
        "pyyaml": _version("pyyaml"),
        "gunicorn": _version("gunicorn"),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "unset"),
    }
    info["summary"] = f"{cores} cores, {info['cpu']}, Python {info['python']}"
    return info


def text_table(figures: Sequence[Figure]) -> str:
    width = max(60, min(110, shutil.get_terminal_size((140, 20)).columns - 40))
    rows = [("id", "figure", "target", "result")]
    for f in figures:
        rows.append((f.id, f.figure, f.target, "PASS" if f.passed else "FAIL"))
    id_w = max(len(r[0]) for r in rows)
    target_w = max(len(r[2]) for r in rows)
    lines: list[str] = []
    for n, (fid, figure, target, result) in enumerate(rows):
        wrapped = textwrap.wrap(figure, width) or [""]
        lines.append(f"{fid:<{id_w}}  {wrapped[0]:<{width}}  {target:<{target_w}}  {result}")
        lines.extend(f"{'':<{id_w}}  {more}" for more in wrapped[1:])
        if n == 0:
            lines.append("-" * (id_w + width + target_w + 12))
    return "\n".join(lines)


def markdown_table(figures: Sequence[Figure]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| id | figure (ratio vs its baseline, same run) | target | result |", "|---|---|---|---|"]
    for f in figures:
        result = "**PASS**" if f.passed else "**FAIL**"
        lines.append(f"| {f.id} | {cell(f.figure)} | {cell(f.target)} | {result} |")
    notes = [f"- {f.id}: {f.note}" for f in figures if f.note]
    if notes:
        lines += ["", *notes]
    return "\n".join(lines)


def write_performance_doc(table: str, machine: dict[str, str], *, total_seconds: float, command: str) -> Path:
    """Replace the generated section of docs/performance.md (the rest of the file is kept)."""
    keys = ("date", "cores", "cpu", "os", "python", "numpy", "django", "djangorestframework", "pyyaml")
    machine_lines = [f"- {key}: {machine[key]}" for key in keys]
    machine_lines.append(
        f"- gunicorn: {machine['gunicorn']}; OPENBLAS_CORETYPE: {machine['OPENBLAS_CORETYPE']}"
    )
    section = "\n".join(
        [
            BEGIN,
            "",
            f"Produced by `{command}` in {total_seconds:.0f} s.",
            "",
            table,
            "",
            "Machine:",
            "",
            *machine_lines,
            "",
            END,
        ]
    )
    if DOC.exists():
        current = DOC.read_text(encoding="utf-8")
        if BEGIN in current and END in current:
            head, _, rest = current.partition(BEGIN)
            _, _, tail = rest.partition(END)
            DOC.write_text(head + section + tail, encoding="utf-8")
            return DOC
    DOC.write_text("# Performance\n\n## Latest results\n\n" + section + "\n", encoding="utf-8")
    return DOC
