"""Rows of results, targets and the printed tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Op = Literal[">=", "<=", "=="]


@dataclass(frozen=True)
class Target:
    op: Op
    limit: float
    unit: str = ""

    def met(self, value: float | None) -> bool:
        if value is None:
            return False
        if self.op == ">=":
            return value >= self.limit
        if self.op == "<=":
            return value <= self.limit
        return value == self.limit

    def __str__(self) -> str:
        return f"{self.op} {fmt(self.limit)}{' ' + self.unit if self.unit else ''}"


@dataclass(frozen=True)
class Row:
    section: str
    metric: str
    value: float | None
    unit: str = ""
    target: Target | None = None
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.target is None:
            return ""
        return "PASS" if self.target.met(self.value) else "MISS"


def fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    if float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.1f}"
    return f"{value:.3f}"


def _table(headers: list[str], lines: list[list[str]]) -> str:
    widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(headers)]
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    out.append("  ".join("-" * w for w in widths))
    out.extend("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines)
    return "\n".join(out)


def section_table(rows: list[Row]) -> str:
    return _table(
        ["metric", "value", "unit", "target", "", "note"],
        [[r.metric, fmt(r.value), r.unit, str(r.target or ""), r.verdict, r.note] for r in rows],
    )


def targets_table(rows: list[Row]) -> str:
    checked = [r for r in rows if r.target is not None]
    return _table(
        ["section", "metric", "value", "target", "result"],
        [[r.section, r.metric, f"{fmt(r.value)} {r.unit}".strip(), str(r.target), r.verdict] for r in checked],
    )
