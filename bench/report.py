"""A figure against its target, the table printed at the end, and the JSON written beside it."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Figure:
    number: str  # "1a", "3", ...
    name: str
    measured: float
    unit: str
    target: str
    passed: bool
    reference: float | None = None  # measured in the same run, when the target is relative
    reference_name: str = ""
    ratio: float | None = None
    details: dict[str, Any] = field(default_factory=dict)


def _num(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return f"{text} {unit}".strip()


def table(figures: list[Figure]) -> str:
    rows = [("#", "figure", "measured", "reference", "ratio", "target", "result")]
    for f in figures:
        rows.append(
            (
                f.number,
                f.name,
                _num(f.measured, f.unit),
                "-" if f.reference is None else f"{_num(f.reference, f.unit)} ({f.reference_name})",
                "-" if f.ratio is None else f"{f.ratio:.2f}",
                f.target,
                "pass" if f.passed else "MISS",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = os.getloadavg()
    except OSError:
        load = (0.0, 0.0, 0.0)
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "loadavg_at_start": [round(x, 2) for x in load],
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
    }


def write(path: Path, figures: list[Figure], meta: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"machine": meta, "figures": [asdict(f) for f in figures]}
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
