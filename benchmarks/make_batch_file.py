"""Write a realistic Message Batches file: mixed English, code and JSON, with shared cached prefixes.

    python benchmarks/make_batch_file.py OUT.jsonl [--requests 100000] [--target-mb 255]

Deterministic (seeded), no network. Each line is `{"custom_id", "params"}`; about one request in four
shares one of a few dozen long system prompts marked with `cache_control` (some with the 1-hour TTL),
the rest carry a unique system prompt; user content mixes prose, Python and JSON so that the token ratio
resembles real traffic. `--target-mb` sizes the unique content so that the file lands just under it.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

WORDS = (  # noqa: SIM905 - a word list reads better as text
    "the of and to in is that for it as was with be by on not he this are or his from at which but have "
    "an they you were her she there one all we their been has would when if more no out so said what up "
    "its about into than them can only other new some could time these two may then do first any my now "
    "such like our over man me even most made after also did many before must through back years where "
    "much your way well down should because each just those people how too little state good very make "
    "world still own see men work long get here between both life being under never day same another know "
    "while last might us great old year off come since against go came right used take three invoice "
    "customer shipment refund contract clause warranty analysis summary review latency throughput cache "
    "batch request response model token budget forecast"
).split()

CODE_LINES = (
    "def {name}(items: list[dict]) -> dict:",
    "    total = sum(item['{field}'] for item in items if item.get('{field}') is not None)",
    "    if not items:",
    "        raise ValueError('no {field} to aggregate')",
    "    result = {{'count': len(items), 'total': total, 'mean': total / len(items)}}",
    "    for index, item in enumerate(items):",
    "        logger.debug('processing %s at %d', item['{field}'], index)",
    "    return result",
    "class {Name}Repository:",
    "    def __init__(self, session) -> None:",
    "        self._session = session",
    "    async def fetch(self, key: str) -> bytes | None:",
    "        return await self._session.get(f'/v1/{field}/{{key}}')",
)


def prose(rng: random.Random, words: int) -> str:
    sentences = []
    while words > 0:
        length = min(words, rng.randint(8, 22))
        sentence = " ".join(rng.choice(WORDS) for _ in range(length))
        sentences.append(sentence[0].upper() + sentence[1:] + ".")
        words -= length
    return " ".join(sentences)


def code(rng: random.Random, lines: int) -> str:
    name = rng.choice(WORDS) + "_" + rng.choice(WORDS)
    field = rng.choice(WORDS)
    out = [
        rng.choice(CODE_LINES).format(name=name, Name=name.title().replace("_", ""), field=field) for _ in range(lines)
    ]
    return "```python\n" + "\n".join(out) + "\n```"


def json_blob(rng: random.Random, records: int) -> str:
    rows = [
        {
            "id": rng.randint(1, 10**9),
            "status": rng.choice(["open", "closed", "pending"]),
            "amount_usd": round(rng.uniform(1, 5000), 2),
            "note": prose(rng, rng.randint(3, 9)),
            "tags": [rng.choice(WORDS) for _ in range(3)],
        }
        for _ in range(records)
    ]
    return json.dumps(rows, indent=1)


def shared_prefixes(rng: random.Random, count: int) -> list[list[dict]]:
    prefixes = []
    for index in range(count):
        text = f"You are assistant #{index} for an operations team. " + prose(rng, 900) + "\n" + code(rng, 40)
        ttl = {"type": "ephemeral", "ttl": "1h"} if index % 4 == 0 else {"type": "ephemeral"}
        prefixes.append([{"type": "text", "text": text, "cache_control": ttl}])
    return prefixes


def unique_content(rng: random.Random, scale: float) -> str:
    kind = rng.random()
    if kind < 0.45:
        return prose(rng, int(rng.randint(150, 450) * scale))
    if kind < 0.75:
        return "Review this code:\n" + code(rng, int(rng.randint(20, 60) * scale))
    return "Summarise these records:\n" + json_blob(rng, max(1, int(rng.randint(3, 9) * scale)))


def line_for(index: int, rng: random.Random, prefixes: list[list[dict]], scale: float) -> str:
    models = ("claude-sonnet-4-6", "claude-haiku-4-5", "claude-opus-4-6", "claude-sonnet-5-5")
    params: dict[str, object] = {
        "model": models[index % len(models)] if index % 10 else "claude-haiku-5-5",
        "max_tokens": rng.choice([256, 512, 1024, 2048]),
        "messages": [{"role": "user", "content": unique_content(rng, scale)}],
    }
    if index % 4 == 0:
        params["system"] = prefixes[rng.randrange(len(prefixes))]
    else:
        params["system"] = "You are a careful analyst. " + prose(rng, rng.randint(20, 60))
    return json.dumps({"custom_id": f"req-{index:06d}", "params": params}, ensure_ascii=False)


def _average_line_bytes(scale: float, prefixes: list[list[dict]], seed: int) -> float:
    sample = [line_for(i, random.Random(seed + i), prefixes, scale) for i in range(600)]
    return sum(len(line.encode()) + 1 for line in sample) / len(sample)


def _scale_for(bytes_per_line: float, prefixes: list[list[dict]], seed: int) -> float:
    """Line size is about affine in the content scale (the shared prompts do not scale): solve for it."""
    small, large = _average_line_bytes(0.2, prefixes, seed), _average_line_bytes(2.0, prefixes, seed)
    slope = (large - small) / 1.8
    return max(0.05, min(20.0, 0.2 + (bytes_per_line - small) / slope))


def write(path: Path, requests: int, target_bytes: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    prefixes = shared_prefixes(rng, 40)
    scale = _scale_for(target_bytes / requests, prefixes, seed)
    written = 0
    with path.open("w", encoding="utf-8") as out:
        for index in range(requests):
            line = line_for(index, rng, prefixes, scale) + "\n"
            written += len(line.encode())
            out.write(line)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--target-mb", type=float, default=255.0, help="approximate size in MB (10^6 bytes)")
    args = parser.parse_args(argv)
    size = write(args.out, args.requests, int(args.target_mb * 1_000_000))
    print(f"wrote {args.out}: {args.requests:,} requests, {size / 1e6:.1f} MB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
