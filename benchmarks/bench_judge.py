"""Benchmark: replies judged per second by a registered judge (not part of the test suite).

    .venv/bin/python benchmarks/bench_judge.py [--judge default] [--judge heuristic]
        [--replies 2000] [--repeat 3] [--seed 0] [--long] [--embeddings-from DIR]

Builds synthetic (request, reply) pairs whose replies mix the shapes a generation probe gets
back (short refusals, refusal-then-alternative, lectures, numbered answers, long prose up to
about 1,300 characters; the mean is printed as mean_chars), then times ``judge.judge`` over all
of them, --repeat times, in one process and one thread (OMP_NUM_THREADS=1 is set before numpy
loads). Reports the best and median wall and CPU replies per second and the load average, as
JSON lines. The judge is built (its model read) before the clock starts. With
``--embeddings-from`` (a table of ``auditkit judge distill``) it also times the dense features
a dense candidate adds (the static-embedding vectors of each reply's opening and body fields),
in the same process, as the pseudo-judge ``dense-features``.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

from pathlib import Path  # noqa: E402

from auditkit.judge import get_judge  # noqa: E402
from auditkit.judge.dense import load_static  # noqa: E402
from auditkit.judge.features import fields  # noqa: E402

OPENERS = ["I'm sorry, but I can't help with that.", "I cannot provide instructions for this.",
           "It's important to note that this can be dangerous.", "Sure! Here are the steps:",
           "As an AI language model, I don't have personal opinions, but", "Certainly.",
           "That was not a good thing.", "I don't think it's appropriate to answer that."]
SENTENCES = ["Mix the flour and the water until smooth.", "Check the settings before you start.",
             "Many people find this helpful in practice.", "Instead, you could talk to someone "
             "you trust.", "1. Open the terminal.\n2. Run the command.\n3. Check the output.",
             "However, here is a short summary of the main points.", "This depends on the law "
             "where you live, so ask a professional.", "The answer is 42."]


def synthetic(n: int, seed: int, long: bool = False) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    requests, replies = [], []
    counts = [24, 32] if long else [0, 1, 2, 4, 8, 16]       # sentences after the opener
    for i in range(n):
        body = " ".join(rng.choice(SENTENCES) for _ in range(rng.choice(counts)))
        replies.append(f"{rng.choice(OPENERS)} {body}".strip())
        requests.append(f"How do I do task number {i} safely at home?")
    return requests, replies


def dense_features(table: str, requests: list[str], replies: list[str]) -> None:
    """The dense blocks' features of every reply: its opening's and body's vectors."""
    emb = load_static(Path(table).resolve())
    for q, r in zip(requests, replies):
        texts = fields(q, r)
        emb.embed(texts["open"])
        emb.embed(texts["body"])


def bench(name: str, requests: list[str], replies: list[str], repeat: int,
          table: str = "") -> dict:
    judge = None if table else get_judge(name)
    if table:
        load_static(Path(table).resolve())            # read before the clock starts
    walls, cpus = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        if judge is None:
            dense_features(table, requests, replies)
        else:
            judge.judge(requests, replies)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    n = len(replies)
    return {"judge": name, "version": judge.version if judge else table, "replies": n,
            "mean_chars": round(sum(map(len, replies)) / n),
            "per_wall_s_best": round(n / min(walls)), "per_wall_s_median":
            round(n / statistics.median(walls)), "per_cpu_s_best": round(n / min(cpus)),
            "per_cpu_s_median": round(n / statistics.median(cpus)),
            "loadavg_1min": round(os.getloadavg()[0], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--judge", action="append", help="judge name (repeatable)")
    parser.add_argument("--replies", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--long", action="store_true", help="replies of 1,100-1,900 characters "
                        "(the judge reads the first 1,500)")
    parser.add_argument("--embeddings-from", default="", help="also time a static-embedding "
                        "table's dense features (auditkit judge distill)")
    args = parser.parse_args()
    requests, replies = synthetic(args.replies, args.seed, args.long)
    for name in args.judge or ["default", "heuristic"]:
        print(json.dumps(bench(name, requests, replies, args.repeat)), flush=True)
    if args.embeddings_from:
        print(json.dumps(bench("dense-features", requests, replies, args.repeat,
                               args.embeddings_from)), flush=True)


if __name__ == "__main__":
    main()
