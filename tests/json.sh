#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Machine-readable results come from the same place as the TAP: every
# result line of a run has one JSON record with the same name and verdict
# (and the fields dashboards group by), run_tests.sh writes JSON and JUnit
# XML, and -l --json lists the catalog.

# shellcheck source=tests/lib.bash
. "$(dirname "$0")/lib.bash"

plan 6
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sel="memfd (MAP_PRIVATE)"

"$TOP/run_tests.sh" --json "$tmp/r.json" --junit "$tmp/r.xml" -- -t "$sel" >"$tmp/r.tap" 2>/dev/null
rc=$?
ok "$([ $rc = 0 ] || [ $rc = 4 ]; echo $?)" "run_tests.sh --json --junit runs (exit $rc)"

python3 - "$tmp/r.json" "$tmp/r.tap" >"$tmp/check" 2>&1 <<'PY'
import json, re, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
cases = [r for r in recs if r["type"] == "case"]
runs = [r for r in recs if r["type"] == "run"]
tap = {}
for l in open(sys.argv[2]):
    m = re.match(r"^# (not ok|ok) \d+ ([^#]*[^# ])( # (SKIP|XFAIL|error)?.*)?$", l.rstrip("\n"))
    if m:
        v = "fail" if m.group(1) == "not ok" else {"SKIP": "skip", "XFAIL": "xfail", None: "pass"}.get(m.group(4), "?")
        tap[m.group(2)] = v
js = {c["name"]: c["verdict"] if c["verdict"] != "error" else "fail" for c in cases}
print("records", len(cases), "results", len(tap), "runs", len(runs))
print("same", js == tap)
need = {"binary", "name", "property", "mechanism", "access", "backing", "trigger",
        "verdict", "reason", "diagnosis", "hint", "tags", "duration_s", "log"}
print("fields", all(need <= set(c) for c in cases))
print("matrix", all(c["backing"] for c in cases if c["property"].startswith("Longterm R")))
PY
ok "$(grep -q '^same True' "$tmp/check"; echo $?)" "one JSON record per result line, same name and verdict ($(head -n 1 "$tmp/check"))"
ok "$(grep -q '^fields True' "$tmp/check"; echo $?)" "every record has the fields dashboards use"
ok "$(grep -q '^matrix True' "$tmp/check"; echo $?)" "reliability records name their backing"
python3 -c 'import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); sys.exit(0 if r.iter("testcase") else 1)' "$tmp/r.xml" 2>/dev/null
ok $? "run_tests.sh --junit writes JUnit XML"
"$OUTPUT/iouring_pin" -l --json "$tmp/l.json" -t "$sel" >/dev/null
n=$(grep -c '"type":"case"' "$tmp/l.json")
ok "$([ "$n" = "$("$OUTPUT/iouring_pin" -l -t "$sel" | wc -l)" ]; echo $?)" "-l --json lists the catalog ($n records)"

done_testing
