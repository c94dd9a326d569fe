"""Checks a chunk-plan-dump JSON report for consistency.

Usage: check_plan_json.py REPORT.json [--unchunked-compile FILE]
       [--chunked-compile FILE] [--budget-fraction F]

The *-compile files hold chunk-compile's output ("planned activation bytes:
N"), an independent route to the arenas the report states.
"""

import argparse
import json
import math
import re


def planned_bytes(path):
    match = re.search(r"planned activation bytes: (\d+)", open(path).read())
    assert match, f"no planned activation bytes in {path}"
    return int(match.group(1))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("report")
    parser.add_argument("--unchunked-compile")
    parser.add_argument("--chunked-compile")
    parser.add_argument("--budget-fraction", type=float)
    args = parser.parse_args()
    report = json.load(open(args.report))

    timeline = report["timeline"]
    assert timeline, "empty timeline"
    assert [entry["index"] for entry in timeline] == list(range(len(timeline)))
    unchunked = report["unchunked"]
    before = [entry["live_bytes_before"] for entry in timeline]
    assert max(before) == unchunked["peak_live_bytes"], (max(before), unchunked)
    assert unchunked["peak_live_bytes"] <= unchunked["arena_bytes"], unchunked
    if args.unchunked_compile:
        compiled = planned_bytes(args.unchunked_compile)
        assert unchunked["arena_bytes"] == compiled, (unchunked, compiled)

    if report["budget"] is None:
        assert report["chunked"] is None and report["regions"] == []
        assert all(entry["live_bytes_after"] is None for entry in timeline)
        assert all(entry["region"] is None for entry in timeline)
        print("unchunked report consistent")
        return

    budget = report["budget"]["bytes"]
    if args.budget_fraction is not None:
        expected = args.budget_fraction * unchunked["predicted_peak_bytes"]
        assert abs(budget - expected) <= 1, (budget, expected)
    chunked = report["chunked"]
    after = [entry["live_bytes_after"] for entry in timeline]
    assert all(bytes is not None for bytes in after), "an op has no after"
    assert max(after) == chunked["peak_live_bytes"], (max(after), chunked)
    assert chunked["peak_live_bytes"] <= chunked["arena_bytes"], chunked
    # The goal of the plan: the exact arena meets the budget and shrinks.
    assert chunked["predicted_peak_bytes"] <= budget, (chunked, budget)
    assert chunked["arena_bytes"] <= budget, (chunked, budget)
    assert chunked["arena_bytes"] < unchunked["arena_bytes"], (chunked, unchunked)
    if args.chunked_compile:
        compiled = planned_bytes(args.chunked_compile)
        assert chunked["arena_bytes"] == compiled, (chunked, compiled)
    slowdown = chunked["predicted_seconds"] / unchunked["predicted_seconds"]
    assert math.isclose(report["predicted_slowdown"], slowdown), report
    assert report["predicted_slowdown"] >= 1.0, report["predicted_slowdown"]

    regions = report["regions"]
    assert regions, "a budget below the peak needs a region"
    seen = set()
    for number, region in enumerate(regions):
        indices = [op["index"] for op in region["ops"]]
        assert len(indices) == region["num_ops"] > 0, region
        assert indices == sorted(indices), indices
        assert not seen & set(indices), "regions overlap"
        seen |= set(indices)
        for op in region["ops"]:
            entry = timeline[op["index"]]
            assert entry["region"] == number, (entry, number)
            assert entry["name"] == op["name"], (entry, op)
        assert 0 < region["chunk_size"] <= region["extent"], region
        assert region["num_chunks"] == math.ceil(
            region["extent"] / region["chunk_size"]), region
        assert region["exact_bytes_before"] == max(
            before[index] for index in indices), region
        assert region["exact_bytes_after"] == max(
            after[index] for index in indices), region
        assert region["exact_bytes_after"] < region["exact_bytes_before"], region
        assert region["predicted_bytes_after"] <= budget, region
        assert math.isclose(
            region["predicted_slowdown"],
            region["predicted_seconds_after"] /
            region["predicted_seconds_before"]), region
    assert all((entry["region"] is None) == (entry["index"] not in seen)
               for entry in timeline)
    print(f"chunked report consistent: {len(regions)} regions")


main()
