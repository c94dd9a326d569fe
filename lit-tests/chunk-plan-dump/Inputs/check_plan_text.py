"""Checks the summary numbers of a chunk-plan-dump text report: the chunked
arena meets the budget and is below the unchunked one, which matches
chunk-plan-dump's independent route, chunk-compile's planned bytes.

Usage: check_plan_text.py REPORT.txt CHUNK_COMPILE_OUTPUT
"""

import re
import sys


def number(pattern, text):
    match = re.search(pattern, text, re.MULTILINE)
    assert match, f"no match for {pattern!r}"
    return int(match.group(1))


report = open(sys.argv[1]).read()
compiled = number(r"planned activation bytes: (\d+)", open(sys.argv[2]).read())
unchunked = number(r"^unchunked arena: (\d+) bytes", report)
chunked = number(r"^chunked arena: (\d+) bytes", report)
budget = number(r"^budget: (\d+) bytes", report)
assert unchunked == compiled, (unchunked, compiled)
assert chunked <= budget < unchunked, (chunked, budget, unchunked)
print(f"chunked arena {chunked} <= budget {budget} < unchunked arena {unchunked}")
