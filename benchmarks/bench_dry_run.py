"""The offline dry run of a maximum-size batch file against the floor of the same work, interleaved.

    .venv/bin/python benchmarks/bench_dry_run.py [--file PATH] [--requests 100000] [--target-mb 255] [--repeat 5]
    .venv/bin/python benchmarks/bench_dry_run.py --libraries     # json vs orjson, ijson, rich (see below)

Generates the file when it does not exist (benchmarks/make_batch_file.py: 100,000 requests, ~253 MB of mixed
English, code and JSON, a quarter sharing 40 cached system prompts), then runs, each in a fresh process so that peak
memory is its own, round after round (the machine is shared: a figure is only compared with one from its round):

1. floor: the same work without the dry run's checks and bookkeeping. Read the file line by line, parse each line
   with the parser the dry run uses, and tokenize each distinct text once (system prompts, message texts; a text
   seen before is skipped) with the counting function the dry run uses (`cl100k_token_counts`), in chunks of 1,000
   requests on a pool of one thread per core, parsing the next chunk meanwhile (at most cores + 1 chunks in flight);
2. the full offline dry run (`analyze_batch_file`): validation, cache analysis, counting, costs;
3. with --baseline, the previous README's baseline: `json.loads` per line and tiktoken's `encode_ordinary_batch`
   (2 threads) over every text, duplicates included.

Prints the median of each (and its spread), the ratio dry run / floor per round and its median, and peak RSS.

--libraries measures the candidates the performance issue named, on the same file: `orjson.loads` against
`json.loads` per line; `ijson` against the hand-written streaming array reader on the file as one JSON array (its
first 20,000 requests); `rich` against the hand-written progress bar and text table (import and render time).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FLOOR = r"""
import json, resource, sys, time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
sys.path.insert(0, sys.argv[2])
from estimator.batches.reader import _fast_loads
from estimator.tokens.offline import cl100k_token_counts, load_cl100k
load_cl100k()
loads = _fast_loads or json.loads
start, cpu = time.perf_counter(), time.process_time()

def count(texts):
    return sum(cl100k_token_counts(texts, num_threads=1))

def texts_of(params):
    system = params.get("system")
    if isinstance(system, str):
        yield system
    elif isinstance(system, list):
        yield from (block.get("text", "") for block in system if isinstance(block, dict))
    for message in params.get("messages", []):
        content = message.get("content")
        if isinstance(content, str):
            yield content
        elif isinstance(content, list):
            yield from (block.get("text", "") for block in content if isinstance(block, dict))

workers = 2
pool = ThreadPoolExecutor(workers)
in_flight = deque()
seen = set()
tokens = requests = 0
chunk = []
with open(sys.argv[1], "rb") as stream:
    for line in stream:
        for text in texts_of(loads(line)["params"]):
            key = hash(text)
            if key not in seen:
                seen.add(key)
                chunk.append(text)
        requests += 1
        if requests % 1000 == 0:
            in_flight.append(pool.submit(count, chunk))
            chunk = []
            while len(in_flight) > workers + 1:
                tokens += in_flight.popleft().result()
in_flight.append(pool.submit(count, chunk))
tokens += sum(future.result() for future in in_flight)
elapsed = time.perf_counter() - start
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": elapsed, "cpu_seconds": time.process_time() - cpu, "tokens": tokens, "rss_mb": rss_mb}))
"""

BASELINE = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
from estimator.tokens.offline import load_cl100k
encoding = load_cl100k()
start, cpu = time.perf_counter(), time.process_time()

def texts_of(params):
    system = params.get("system")
    if isinstance(system, str):
        yield system
    elif isinstance(system, list):
        yield from (block.get("text", "") for block in system if isinstance(block, dict))
    for message in params.get("messages", []):
        content = message.get("content")
        if isinstance(content, str):
            yield content
        elif isinstance(content, list):
            yield from (block.get("text", "") for block in content if isinstance(block, dict))

tokens = 0
batch = []
with open(sys.argv[1], "rb") as stream:
    for line in stream:
        batch.extend(texts_of(json.loads(line)["params"]))
        if len(batch) >= 4096:
            tokens += sum(map(len, encoding.encode_ordinary_batch(batch, num_threads=2)))
            batch = []
tokens += sum(map(len, encoding.encode_ordinary_batch(batch, num_threads=2)))
elapsed = time.perf_counter() - start
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": elapsed, "cpu_seconds": time.process_time() - cpu, "tokens": tokens, "rss_mb": rss_mb}))
"""

DRY_RUN = r"""
import datetime, json, resource, sys, time
sys.path.insert(0, sys.argv[2])
from estimator.tokens.offline import load_cl100k
from estimator.batches.dry_run import analyze_batch_file
from pricing import load_price_table
load_cl100k(); load_price_table()  # one-off loads, excluded as for the floor
start, cpu = time.perf_counter(), time.process_time()
result = analyze_batch_file(sys.argv[1], as_of=datetime.date(2026, 11, 25))
elapsed = time.perf_counter() - start
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": elapsed, "cpu_seconds": time.process_time() - cpu, "requests": result.requests,
                  "problems": len(result.problems), "rss_mb": rss_mb}))
"""


def run(script: str, path: Path, root: Path = ROOT) -> dict[str, float]:
    completed = subprocess.run(
        [sys.executable, "-c", script, str(path), str(root)], capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def _ensure_file(args: argparse.Namespace) -> None:
    if not args.file.exists():
        subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "make_batch_file.py"), str(args.file),
             "--requests", str(args.requests), "--target-mb", str(args.target_mb)],
            check=True,
        )  # fmt: skip


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):6.2f} s (min {min(values):.2f}, max {max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", type=Path, default=Path("/tmp/claude-cost-planner-bench.jsonl"))
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--target-mb", type=float, default=255.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--baseline", action="store_true", help="also run the previous README's baseline")
    parser.add_argument(
        "--before",
        type=Path,
        default=None,
        help="also run the dry run of another checkout (e.g. `git archive HEAD | tar -x -C /tmp/head`)",
    )
    parser.add_argument("--libraries", action="store_true", help="measure json/orjson, ijson and rich instead")
    args = parser.parse_args()
    _ensure_file(args)
    if args.libraries:
        libraries(args.file, args.repeat)
        return
    size_mb = args.file.stat().st_size / 1e6
    print(f"file: {args.file} ({size_mb:,.1f} MB, {args.requests:,} requests), {args.repeat} interleaved rounds")
    variants = [("floor", FLOOR, ROOT), ("dry run", DRY_RUN, ROOT)]
    variants += [("baseline", BASELINE, ROOT)] if args.baseline else []
    variants += [("before", DRY_RUN, args.before)] if args.before else []
    figures: dict[str, list[dict[str, float]]] = {name: [] for name, _, _ in variants}
    for round_index in range(args.repeat):
        for name, script, root in variants:
            figures[name].append(run(script, args.file, root))
        this = {name: figures[name][-1]["seconds"] for name in figures}
        print(f"  round {round_index + 1}: " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in this.items()))
    # Other work on the machine slows some rounds: the minimum is the run least disturbed, the median the typical.
    for name, runs in figures.items():
        seconds = [r["seconds"] for r in runs]
        cpu = statistics.median(r["cpu_seconds"] for r in runs)
        rss = statistics.median(r["rss_mb"] for r in runs)
        print(f"  {name:<9} {_spread(seconds)}  {size_mb / statistics.median(seconds):6.1f} MB/s  "
              f"CPU {cpu:5.2f} s  peak RSS {rss:4.0f} MB")  # fmt: skip
    for what in ("seconds", "cpu_seconds"):
        ratios = [d[what] / f[what] for d, f in zip(figures["dry run"], figures["floor"], strict=True)]
        label = "wall time" if what == "seconds" else "CPU time"
        minimum = min(d[what] for d in figures["dry run"]) / min(f[what] for f in figures["floor"])
        print(f"  dry run / floor ({label}), per round: {', '.join(f'{r:.2f}' for r in ratios)}; "
              f"median {statistics.median(ratios):.2f}x; ratio of the minimums {minimum:.2f}x")  # fmt: skip


# --- the libraries the issue asked about ------------------------------------------------------------------------


def _median_of(repeat: int, *timed: tuple[str, object]) -> dict[str, float]:
    """Interleaved rounds of each callable; the median seconds of each."""
    import time

    seconds: dict[str, list[float]] = {name: [] for name, _ in timed}
    for _ in range(repeat):
        for name, function in timed:
            start = time.perf_counter()
            function()  # type: ignore[operator]
            seconds[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in seconds.items()}


def _import_seconds(statement: str, repeat: int) -> float:
    code = f"import sys, time; sys.path[:0] = {[str(ROOT), *sys.path]!r}; t = time.perf_counter(); {statement}; "
    code += "print(time.perf_counter() - t)"
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
            for _ in range(repeat)]  # fmt: skip
    return statistics.median(runs)


def libraries(path: Path, repeat: int) -> None:
    """orjson vs json per line, ijson vs the hand-written array reader, rich vs the hand-written bar and table."""
    import io
    import json as json_module

    sys.path.insert(0, str(ROOT))
    import orjson

    from estimator.batches.reader import iter_items

    with path.open("rb") as stream:
        lines = stream.readlines()
    size_mb = sum(map(len, lines)) / 1e6
    parsed = _median_of(
        repeat,
        ("json.loads", lambda: [json_module.loads(line) for line in lines]),
        ("orjson.loads", lambda: [orjson.loads(line) for line in lines]),
    )
    print(f"parsing {len(lines):,} lines ({size_mb:,.0f} MB), median of {repeat}:")
    for name, seconds in parsed.items():
        print(f"  {name:<13} {seconds:6.2f} s  {size_mb / seconds:6.0f} MB/s")
    _compare_tokenizing(lines[:20_000], repeat)
    array = b"[" + b",".join(lines[:20_000]) + b"]"
    try:
        import ijson
    except ImportError:
        print("ijson is not installed: pip install ijson (to a separate --target, on PYTHONPATH) to compare it")
    else:
        read = _median_of(
            repeat,
            ("hand-written array reader", lambda: sum(1 for _ in iter_items(io.BytesIO(array), lambda _: None))),
            (f"ijson ({ijson.backend})", lambda: sum(1 for _ in ijson.items(io.BytesIO(array), "item"))),
        )
        print(f"one JSON array of 20,000 requests ({len(array) / 1e6:,.0f} MB), median of {repeat}:")
        for name, seconds in read.items():
            print(f"  {name:<26} {seconds:6.2f} s  {len(array) / 1e6 / seconds:6.0f} MB/s")
    try:
        import rich  # noqa: F401
    except ImportError:
        print("rich is not installed: pip install rich (to a separate --target, on PYTHONPATH) to compare it")
        return
    _compare_rich(repeat)


def _compare_tokenizing(lines: list[bytes], repeat: int) -> None:
    """The distinct texts of the first requests, counted on 2 threads three ways."""
    from concurrent.futures import ThreadPoolExecutor

    import orjson

    from estimator.tokens.offline import cl100k_token_counts, load_cl100k

    encoding = load_cl100k()
    texts = list(dict.fromkeys(t for line in lines for t in _texts_of(orjson.loads(line)["params"])))
    chunks = [texts[i : i + 1000] for i in range(0, len(texts), 1000)]
    characters = sum(map(len, texts)) / 1e6

    def per_text(chunk: list[str]) -> list[int]:
        return [len(encoding.encode_ordinary(text)) for text in chunk]

    def on_two_threads(count: object) -> None:
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(count, chunks))  # type: ignore[arg-type]

    def joined(chunk: list[str]) -> list[int]:
        return cl100k_token_counts(chunk, num_threads=1)

    timed = _median_of(
        repeat,
        ("encode_ordinary_batch(num_threads=2)", lambda: encoding.encode_ordinary_batch(texts, num_threads=2)),
        ("encode_ordinary per text, chunks on 2 threads", lambda: on_two_threads(per_text)),
        ("cl100k_token_counts, chunks on 2 threads", lambda: on_two_threads(joined)),
    )
    print(f"tokenizing {len(texts):,} distinct texts ({characters:,.1f} M characters), median of {repeat}:")
    for name, seconds in timed.items():
        print(f"  {name:<47} {seconds:6.2f} s  {characters / seconds:6.1f} M characters/s")


def _texts_of(params: dict[str, object]) -> list[str]:
    system = params.get("system")
    found = [system] if isinstance(system, str) else [b["text"] for b in system or [] if isinstance(b, dict)]  # type: ignore[union-attr]
    for message in params.get("messages", []):  # type: ignore[union-attr]
        content = message["content"]
        found += [content] if isinstance(content, str) else [b.get("text", "") for b in content]
    return found


def _compare_rich(repeat: int) -> None:
    import io

    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from estimator.cli.dry_run import _progress_bar
    from pricing.text_table import render_text_table

    rows = [[f"claude-model-{i}", f"{i * 1234:,}", f"${i * 1.5:,.2f}", f"${i:,.2f}", "estimated"] for i in range(20)]
    header = ["Model", "Requests", "realtime", "batch", "Count"]

    def ours_table() -> None:
        render_text_table(header, rows)

    def rich_table() -> None:
        table = Table(*header)
        for row in rows:
            table.add_row(*row)
        Console(file=io.StringIO(), width=120).print(table)

    def ours_bar() -> None:
        show = _progress_bar(io.StringIO())
        for done in range(1001):
            show("reading", done * 250_000, 250_000_000)

    def rich_bar() -> None:
        with Progress(console=Console(file=io.StringIO(), width=120), auto_refresh=False) as progress:
            task = progress.add_task("reading", total=250_000_000)
            for done in range(1001):
                progress.update(task, completed=done * 250_000)

    timed = _median_of(
        repeat, ("text table, ours", ours_table), ("text table, rich", rich_table),
        ("1,000 progress updates, ours", ours_bar), ("1,000 progress updates, rich", rich_bar),
    )  # fmt: skip
    print(f"rendering, median of {repeat}:")
    for name, seconds in timed.items():
        print(f"  {name:<30} {seconds * 1000:8.2f} ms")
    ours = _import_seconds("import estimator.cli.dry_run", repeat)
    theirs = _import_seconds("import rich.console, rich.progress, rich.table", repeat)
    print(f"import, fresh process, median of {repeat}: estimator.cli.dry_run {ours * 1000:.0f} ms; "
          f"rich.console + progress + table {theirs * 1000:.0f} ms more")  # fmt: skip


if __name__ == "__main__":
    main()
