"""The baseline: `costs.lock.json`, written by `lock` with a stated reason, read by `check --baseline`.

It records, for every workload, its exact cost in every mode and the mode used, the workload itself
(its figures, or the sha256 of the file it names) so that a later check can price the old workload at
new prices, and the price rows it was priced with (model, effective date, every rate), the table's
checked date, the package version, the reason and the dates. Money is exact decimal text.

Reading is strict: a lock of another format version, a missing field, a number that is not a decimal, a
NaN, or a file that is not a regular file of at most 20 MB is refused with a one-line `LockFileError`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from estimator.errors import EstimatorError
from estimator.plans.costing import Identity, IdentityValue, PricedPlan, PriceRow, price_plan
from estimator.plans.errors import LockFileError
from estimator.plans.files import read_regular_file
from estimator.plans.limits import PERIODS, Period, convert
from estimator.plans.plan import Plan, WorkloadKind
from estimator.version import __version__
from pricing import PriceTable

__all__ = [
    "LOCK_VERSION",
    "CostLock",
    "LockedWorkload",
    "lock_from_priced",
    "lock_plan",
    "lock_to_json",
    "parse_lock",
    "read_lock",
    "write_lock",
]

LOCK_VERSION = 1
MAX_LOCK_BYTES = 20_000_000
_KINDS: tuple[WorkloadKind, ...] = ("workload", "batch_file", "actuals")


@dataclass(frozen=True)
class LockedWorkload:
    name: str
    kind: WorkloadKind
    period: Period
    mode_setting: str
    mode: str
    cost_usd: Decimal
    modes: tuple[tuple[str, Decimal | None], ...]
    model_ids: tuple[str, ...]
    identity: Identity


@dataclass(frozen=True)
class CostLock:
    """A plan's costs on one date, with why they were accepted."""

    reason: str
    created: dt.date
    as_of: dt.date
    package_version: str
    table_source: str
    table_checked: dt.date
    plan_source: str
    plan_sha256: str
    period: Period
    total_usd: Decimal
    workloads: tuple[LockedWorkload, ...]
    price_rows: tuple[PriceRow, ...]
    rules: tuple[tuple[str, Decimal], ...]

    def workload(self, name: str) -> LockedWorkload | None:
        return next((item for item in self.workloads if item.name == name), None)

    def price_row(self, model_id: str) -> PriceRow | None:
        return next((row for row in self.price_rows if row.model_id == model_id), None)


def lock_plan(
    plan: Plan,
    *,
    reason: str,
    as_of: dt.date | None = None,
    table: PriceTable | None = None,
    today: dt.date | None = None,
) -> CostLock:
    """Price the plan and record it as the baseline; `reason` says why these costs are accepted."""
    if not isinstance(reason, str) or not reason.strip():
        raise EstimatorError('a lock needs a reason (--reason "..."): say why these costs are accepted')
    return lock_from_priced(price_plan(plan, as_of=as_of, table=table), reason=reason, today=today)


def lock_from_priced(priced: PricedPlan, *, reason: str, today: dt.date | None = None) -> CostLock:
    plan = priced.plan
    total = sum((convert(item.cost_usd, item.period, plan.period) for item in priced.workloads), Decimal(0))
    workloads = tuple(
        LockedWorkload(
            item.name,
            item.kind,
            item.period,
            item.mode_setting,
            item.mode,
            item.cost_usd,
            item.modes,
            item.model_ids,
            item.identity,
        )
        for item in priced.workloads
    )
    return CostLock(
        reason=reason.strip(),
        created=today or dt.date.today(),
        as_of=priced.as_of,
        package_version=__version__,
        table_source=Path(priced.table_source).name,
        table_checked=priced.table_checked,
        plan_source=Path(plan.source_name).name,
        plan_sha256=plan.sha256,
        period=plan.period,
        total_usd=total,
        workloads=workloads,
        price_rows=priced.price_rows,
        rules=priced.rules,
    )


# --- writing ----------------------------------------------------------------------------------------------


def lock_to_json(lock: CostLock) -> str:
    """The lock as JSON: stable key order and one value per line, so that a pull request shows its diff."""
    payload = {
        "lock_version": LOCK_VERSION,
        "reason": lock.reason,
        "created": lock.created.isoformat(),
        "as_of": lock.as_of.isoformat(),
        "package_version": lock.package_version,
        "price_table": {"source": lock.table_source, "checked": lock.table_checked.isoformat()},
        "plan": {"source": lock.plan_source, "sha256": lock.plan_sha256, "period": lock.period},
        "total_usd": _money(lock.total_usd),
        "workloads": {
            item.name: {
                "kind": item.kind,
                "period": item.period,
                "mode_setting": item.mode_setting,
                "mode": item.mode,
                "cost_usd": _money(item.cost_usd),
                "modes": {mode: _money(cost) for mode, cost in item.modes},
                "model_ids": list(item.model_ids),
                "workload": dict(item.identity),
            }
            for item in lock.workloads
        },
        "price_rows": [
            {
                "model_id": row.model_id,
                "effective_from": row.effective_from.isoformat(),
                "rates": {name: _money(rate) for name, rate in row.rates},
            }
            for row in lock.price_rows
        ],
        "rules": {name: _money(value) for name, value in lock.rules},
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def write_lock(lock: CostLock, path: str | os.PathLike[str]) -> Path:
    """Write the lock file (replacing it atomically, so a failed write never leaves half a baseline)."""
    target = Path(path)
    temporary = target.with_name(f".{target.name}.tmp")
    try:
        temporary.write_text(lock_to_json(lock), encoding="utf-8")
        os.replace(temporary, target)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise EstimatorError(f"{target}: cannot write the lock file ({error.strerror})") from None
    return target


def _money(value: Decimal | None) -> str | None:
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


# --- reading ----------------------------------------------------------------------------------------------


def read_lock(path: str | os.PathLike[str]) -> CostLock:
    """Read a lock file strictly; `LockFileError` names the file and the part that is wrong."""
    lock_path = Path(path)
    data = read_regular_file(lock_path, "lock file", MAX_LOCK_BYTES, LockFileError)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise LockFileError(f"{lock_path}: not UTF-8 text (byte {error.start})") from None
    return parse_lock(text, source_name=str(lock_path))


def parse_lock(text: str, *, source_name: str = "<lock>") -> CostLock:
    try:
        raw = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise LockFileError(f"{source_name}:{error.lineno}: invalid JSON: {error.msg}") from None
    except (RecursionError, ValueError) as error:
        raise LockFileError(f"{source_name}: invalid JSON: {error}") from None
    reader = _Reader(source_name)
    root = reader.mapping(raw, "the lock")
    version = root.get("lock_version")
    if version != LOCK_VERSION:
        raise LockFileError(
            f"{source_name}: lock_version {version!r} is not {LOCK_VERSION}: "
            "write a new lock with `python -m estimator lock` of this version"
        )
    table = reader.mapping(root.get("price_table"), "price_table")
    plan = reader.mapping(root.get("plan"), "plan")
    workloads_raw = reader.mapping(root.get("workloads"), "workloads")
    return CostLock(
        reason=reader.text(root.get("reason"), "reason"),
        created=reader.date(root.get("created"), "created"),
        as_of=reader.date(root.get("as_of"), "as_of"),
        package_version=reader.text(root.get("package_version"), "package_version"),
        table_source=reader.text(table.get("source"), "price_table.source"),
        table_checked=reader.date(table.get("checked"), "price_table.checked"),
        plan_source=reader.text(plan.get("source"), "plan.source"),
        plan_sha256=reader.text(plan.get("sha256"), "plan.sha256"),
        period=reader.period(plan.get("period"), "plan.period"),
        total_usd=reader.money(root.get("total_usd"), "total_usd"),
        workloads=tuple(reader.workload(name, value) for name, value in workloads_raw.items()),
        price_rows=tuple(
            reader.price_row(value, f"price_rows[{index}]")
            for index, value in enumerate(reader.sequence(root.get("price_rows"), "price_rows"))
        ),
        rules=tuple(
            (name, reader.money(value, f"rules.{name}"))
            for name, value in reader.mapping(root.get("rules"), "rules").items()
        ),
    )


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a lock file can hold")


class _Reader:
    """Typed reads of the decoded JSON; each failure names the lock file and the field."""

    def __init__(self, source_name: str) -> None:
        self.source_name = source_name

    def fail(self, where: str, message: str) -> LockFileError:
        return LockFileError(f"{self.source_name}: {where}: {message}")

    def mapping(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected an object, got {_json_kind(value)}")
        return value

    def sequence(self, value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(where, f"expected a list, got {_json_kind(value)}")
        return value

    def text(self, value: Any, where: str) -> str:
        if not isinstance(value, str):
            raise self.fail(where, f"expected text, got {_json_kind(value)}")
        return value

    def date(self, value: Any, where: str) -> dt.date:
        try:
            return dt.date.fromisoformat(self.text(value, where))
        except ValueError:
            raise self.fail(where, f"expected a date (YYYY-MM-DD), got {value!r}") from None

    def money(self, value: Any, where: str) -> Decimal:
        try:
            number = Decimal(self.text(value, where))
        except InvalidOperation:
            raise self.fail(where, f"expected a decimal number as text, got {value!r}") from None
        if not number.is_finite():
            raise self.fail(where, f"expected a finite number, got {value!r}")
        return number

    def optional_money(self, value: Any, where: str) -> Decimal | None:
        return None if value is None else self.money(value, where)

    def period(self, value: Any, where: str) -> Period:
        if value not in PERIODS:
            raise self.fail(where, f"expected one of {', '.join(PERIODS)}, got {value!r}")
        return value  # type: ignore[no-any-return]

    def workload(self, name: str, value: Any) -> LockedWorkload:
        where = f"workloads.{name}"
        item = self.mapping(value, where)
        kind = item.get("kind")
        if kind not in _KINDS:
            raise self.fail(f"{where}.kind", f"expected one of {', '.join(_KINDS)}, got {kind!r}")
        modes = self.mapping(item.get("modes"), f"{where}.modes")
        identity = self.mapping(item.get("workload"), f"{where}.workload")
        for key, scalar in identity.items():
            if not isinstance(scalar, str | int | bool) and scalar is not None:
                raise self.fail(f"{where}.workload.{key}", f"expected a plain value, got {_json_kind(scalar)}")
        return LockedWorkload(
            name=name,
            kind=kind,
            period=self.period(item.get("period"), f"{where}.period"),
            mode_setting=self.text(item.get("mode_setting"), f"{where}.mode_setting"),
            mode=self.text(item.get("mode"), f"{where}.mode"),
            cost_usd=self.money(item.get("cost_usd"), f"{where}.cost_usd"),
            modes=tuple((mode, self.optional_money(cost, f"{where}.modes.{mode}")) for mode, cost in modes.items()),
            model_ids=tuple(
                self.text(model_id, f"{where}.model_ids")
                for model_id in self.sequence(item.get("model_ids"), f"{where}.model_ids")
            ),
            identity=tuple(_identity_pairs(identity)),
        )

    def price_row(self, value: Any, where: str) -> PriceRow:
        row = self.mapping(value, where)
        rates = self.mapping(row.get("rates"), f"{where}.rates")
        return PriceRow(
            model_id=self.text(row.get("model_id"), f"{where}.model_id"),
            effective_from=self.date(row.get("effective_from"), f"{where}.effective_from"),
            rates=tuple((name, self.money(rate, f"{where}.rates.{name}")) for name, rate in rates.items()),
        )


def _identity_pairs(identity: dict[str, Any]) -> list[tuple[str, IdentityValue]]:
    return list(identity.items())


def _json_kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}
    return names.get(type(value), "a number")
