"""Checks a chunk-plan-dump SVG chart: valid XML, both series as step lines
with two points per op, and the budget line between the peaks (the chart's
y axis grows downwards).

Usage: check_plan_svg.py CHART.svg NUM_OPS
"""

import sys
import xml.etree.ElementTree as ElementTree

SVG = "{http://www.w3.org/2000/svg}"


def points(polyline):
    return [tuple(map(float, pair.split(",")))
            for pair in polyline.get("points").split()]


def main():
    root = ElementTree.parse(sys.argv[1]).getroot()
    num_ops = int(sys.argv[2])
    assert root.tag == SVG + "svg", root.tag
    series = {line.get("class"): points(line)
              for line in root.iter(SVG + "polyline")}
    assert set(series) == {"series before", "series after"}, set(series)
    for name, line in series.items():
        assert len(line) == 2 * num_ops, (name, len(line), num_ops)
        xs = [x for x, _ in line]
        assert xs == sorted(xs), f"{name} goes backwards"
    budgets = [line for line in root.iter(SVG + "line")
               if line.get("class") == "budget"]
    assert len(budgets) == 1, budgets
    assert budgets[0].get("stroke-dasharray"), "the budget is not dashed"
    budget_y = float(budgets[0].get("y1"))
    before_top = min(y for _, y in series["series before"])
    after_top = min(y for _, y in series["series after"])
    assert before_top < budget_y <= after_top, (before_top, budget_y, after_top)
    regions = [rect for rect in root.iter(SVG + "rect")
               if rect.get("class") == "region"]
    assert regions, "no region span"
    texts = " ".join(text.text or "" for text in root.iter(SVG + "text"))
    for label in ("before", "after", "budget", "op index", "live activation"):
        assert label in texts, label
    print(f"svg ok: {len(regions)} regions")


main()
