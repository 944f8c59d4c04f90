"""The JSON Schema of plan files, generated from `estimator.plans.model` and shipped beside it.

Editors that read JSON Schema complete and check `costs.yaml` with it: put
`# yaml-language-server: $schema=<path or URL of plan.schema.json>` on the plan's first line.
`python -m estimator.plans.schema` rewrites the file; `--check` exits 1 when it is out of date
(a test runs that check).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["SCHEMA_PATH", "main", "plan_json_schema_text"]

SCHEMA_PATH = Path(__file__).with_name("plan.schema.json")


def plan_json_schema_text() -> str:
    from estimator.plans.model import PlanFile

    schema = PlanFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Claude cost plan (costs.yaml)"
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    wanted = plan_json_schema_text()
    if args == ["--check"]:
        current = SCHEMA_PATH.read_text(encoding="utf-8") if SCHEMA_PATH.exists() else ""
        if current != wanted:
            print(f"{SCHEMA_PATH} is out of date; run `python -m estimator.plans.schema` to rewrite it.")
            return 1
        return 0
    if args:
        print("usage: python -m estimator.plans.schema [--check]", file=sys.stderr)
        return 2
    SCHEMA_PATH.write_text(wanted, encoding="utf-8")
    print(f"wrote {SCHEMA_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
