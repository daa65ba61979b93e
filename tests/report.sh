#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/pinsuite-report on hand-made runs (tests/fixtures/report): JUnit XML
# that parses with the right counts, JSON Lines that survive a round trip,
# TAP read at every nesting level, diff's lists and exit codes, the skip
# histogram, and the HTML report as headless Chromium shows it: totals, the
# red cell of a failing case with its diagnosis, the new failure in the
# two-run view. The screenshots are kept as artifacts.

# shellcheck source=tests/lib.bash
. "$(dirname "$0")/lib.bash"

plan 45

tool=$TOP/tools/pinsuite-report
fix=$TOP/tests/fixtures/report
art=${PINSUITE_ARTIFACTS:-$TOP/build/artifacts}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The failing case of run B that the checks follow, and what it says.
bad_bin=cow
bad_name='Longterm R/O pin is reliable: GUP-fast, write after pin, huge zeropage'
bad_diag='PIN_LONGTERM_TEST_READ: at offset 0x1000 the pin reads 0x00, the mapping holds 0x5c'
bad_hint='kernel may lack 84209e87c696'
bad_log='PFN of the first page: 0x1e00 when pinned, 0x3a200 mapped now'

# Checks written in Python (standard library only): see the usage below.
cat > "$tmp/check.py" <<'EOF'
# SPDX-License-Identifier: GPL-2.0
import json, struct, sys, zlib
import xml.etree.ElementTree as ET
from html.parser import HTMLParser


def cases(path):
    return [json.loads(line) for line in open(path, encoding="utf-8")
            if line.strip() and json.loads(line).get("type") == "case"]


def junit(path):
    """tests failures errors skipped of <testsuites>, then of each suite."""
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites", root.tag
    keys = ("tests", "failures", "errors", "skipped")
    print("all", *(root.get(k) for k in keys))
    for s in root.findall("testsuite"):
        tc = s.findall("testcase")
        got = (len(tc), sum(len(t.findall("failure")) for t in tc),
               sum(len(t.findall("error")) for t in tc),
               sum(len(t.findall("skipped")) for t in tc))
        same = all(str(g) == s.get(k) for g, k in zip(got, keys))
        print("suite", s.get("name"), *(s.get(k) for k in keys),
              "consistent" if same else "inconsistent")
        for t in tc:
            for kind in ("failure", "error", "skipped"):
                for e in t.findall(kind):
                    print(kind, t.get("classname"), "|", t.get("name"), "|",
                          e.get("message"))
            out = t.find("system-out")
            if out is not None and (out.text or "").startswith("XFAIL"):
                print("xfail", t.get("classname"), "|", t.get("name"))


def same_cases(a, b, fields):
    """Cases of JSON Lines file b agree with those of a on FIELDS."""
    ca = {(c["binary"], c["name"]): c for c in cases(a)}
    cb = {(c["binary"], c["name"]): c for c in cases(b)}
    bad = [k for k in ca if k not in cb]
    bad += [(k, f) for k in ca if k in cb for f in fields.split(",")
            if ca[k].get(f) != cb[k].get(f)]
    print("same" if not bad else f"differ: {bad[:3]}")


def json_fields(a, b):
    """Every field of every case of a, as given, in b (and nothing lost)."""
    ca, cb = cases(a), cases(b)
    bad = [i for i, (x, y) in enumerate(zip(ca, cb))
           if any(y.get(k) != v for k, v in x.items() if k != "type")]
    print("same" if len(ca) == len(cb) and not bad else f"differ at {bad[:3]}")


def case_field(path, binary, name, field):
    for c in cases(path):
        if c["binary"] == binary and c["name"] == name:
            print(c[field])


class Dom(HTMLParser):
    def __init__(self, name):
        super().__init__()
        self.name = name
        self.root = {}
        self.counts = []
        self.cells = []
        self.newfail = []
        self.detail = []
        self.stack = []
        self.in_new = 0
        self.in_detail = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.root = a
        if tag == "td" and "data-count" in a:
            self.counts.append((a["data-run"], a["data-v"], a["data-count"]))
        if tag == "td" and (a.get("title") or "").split("\n")[0] == self.name:
            self.cells.append(a.get("class", ""))
        if tag == "table" and "cmp-new_fail" in a.get("class", ""):
            self.in_new = 1
        if tag == "aside" and a.get("id") == "detail":
            self.in_detail = 1
        if tag not in ("br", "meta", "input", "col", "img"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()
        if tag == "table":
            self.in_new = 0
        if tag == "aside":
            self.in_detail = 0

    def handle_data(self, data):
        if self.in_new and self.stack and self.stack[-1] == "a":
            self.newfail.append(data)
        if self.in_detail:
            self.detail.append(data)


def dom(path, name):
    d = Dom(name)
    d.feed(open(path, encoding="utf-8").read())
    for k in ("data-js", "data-js-error", "data-focus-rect", "data-height"):
        print(k, d.root.get(k, ""))
    for r, v, n in d.counts:
        print("count", r, v, n)
    for c in d.cells:
        print("cell", c)
    for n in d.newfail:
        print("newfail", n)
    print("detail", " ".join(" ".join(d.detail).split()))


def png(path, max_x=None, max_y=None):
    """Width, height, bytes per pixel and the rows of an 8-bit RGB(A) PNG,
    decoded up to row max_y and column max_x only (filters look left and up)."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        n, typ = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if typ == b"IHDR":
            w, h, depth, ctype, _, _, lace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and not lace, "PNG kind"
            bpp = 3 if ctype == 2 else 4
        elif typ == b"IDAT":
            idat += body
    raw, stride, rows = zlib.decompress(idat), w * bpp, []
    prev, p = bytearray(stride), 0
    used = min(w, max_x or w) * bpp
    for _ in range(min(h, max_y or h)):
        f, line = raw[p], bytearray(raw[p + 1:p + 1 + stride])
        p += 1 + stride
        for x in range(used if f else 0):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], (prev[x - bpp] if x >= bpp else 0)
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else
                                      b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, bpp, rows


def red(path, x=0, y=0, cw=0, ch=0):
    """Size, then how many pixels of the region are the fail colour."""
    x, y, cw, ch = int(x), int(y), int(cw), int(ch)
    w, h, bpp, rows = png(path, (x + cw) or None, (y + ch) or None)
    cw, ch = cw or w, ch or h
    fail = (0xd1, 0x24, 0x2f)
    n = tot = 0
    for row in rows[y:y + ch]:
        for i in range(x, min(x + cw, w)):
            px = row[i * bpp:i * bpp + 3]
            tot += 1
            n += all(abs(px[k] - fail[k]) <= 8 for k in range(3))
    print(w, h, n, tot)


globals()[sys.argv[1]](*sys.argv[2:])
EOF
py() { python3 "$tmp/check.py" "$@"; }

# --------------------------------------------------------------------------
# The tool itself

ok "$([ -x "$tool" ] && head -n 3 "$tool" | grep -q 'SPDX-License-Identifier: GPL-2.0'; echo $?)" \
	"tools/pinsuite-report is executable and has its SPDX line"
"$tool" --help > "$tmp/help" 2>&1 && /usr/bin/python3 "$tool" --help > /dev/null 2>&1
ok $? "--help works with python3 on PATH and with /usr/bin/python3"
"$tool" > /dev/null 2>&1
ok "$([ $? = 2 ]; echo $?)" "no command: exit 2"
"$tool" junit "$tmp/no-such-file" > /dev/null 2> "$tmp/err"
ok "$([ $? = 2 ] && grep -q 'no-such-file' "$tmp/err"; echo $?)" "an unreadable input: exit 2, named"
printf 'hello\nworld\n' > "$tmp/junk.txt"
"$tool" json "$tmp/junk.txt" > /dev/null 2>&1
ok "$([ $? = 2 ]; echo $?)" "input that is neither JSON Lines nor TAP: exit 2"

# --------------------------------------------------------------------------
# json: normalised JSON Lines, also from TAP

"$tool" json "$fix/run-a.json" -o "$tmp/a1.json" &&
	"$tool" json "$tmp/a1.json" -o "$tmp/a2.json" && cmp -s "$tmp/a1.json" "$tmp/a2.json"
ok $? "json round trip: normalising twice changes nothing"
ok "$([ "$(py json_fields "$fix/run-a.json" "$tmp/a1.json")" = same ]; echo $?)" \
	"json round trip: every field of every case kept"
"$tool" json - < "$fix/run-b.json" > "$tmp/b1.json"
ok "$([ "$(py json_fields "$fix/run-b.json" "$tmp/b1.json")" = same ]; echo $?)" \
	"json reads standard input"

"$tool" json "$fix/run-b-vm.tap" -o "$tmp/b-tap.json"
r=$(py same_cases "$fix/run-b.json" "$tmp/b-tap.json" binary,name,num,property,verdict,reason,hint)
ok "$([ "$r" = same ]; echo $?)" "vm/run.sh TAP (nested twice) gives run B's cases: $r"
r=$(py case_field "$tmp/b-tap.json" "$bad_bin" "$bad_name" diagnosis)
ok "$([ "$r" = "$bad_diag" ]; echo $?)" "TAP: a failure's diagnosis comes from its result line"
r=$(py case_field "$tmp/b-tap.json" vm "Kernel stays untainted" verdict)
ok "$([ "$r" = pass ]; echo $?)" "TAP: vm/run.sh's taint check is a case of its own"
grep -q '"type":"run","binary":"cow","kernel":"6.12.117".*"host":"vm"' "$tmp/b-tap.json"
ok $? "TAP: kernel release and host (vm) of the run"
"$tool" json "$fix/run-a-suite.tap" -o "$tmp/a-tap.json"
r=$(py same_cases "$fix/run-a.json" "$tmp/a-tap.json" binary,name,num,property,verdict,reason,hint)
ok "$([ "$r" = same ]; echo $?)" "run_tests.sh TAP (nested once) gives run A's cases: $r"
"$tool" json "$fix/cow-crash.tap" -o "$tmp/crash.json"
r=$(py case_field "$tmp/crash.json" cow 'Longterm R/O pin is reliable: GUP, write after pin, hugetlb (2048 kB)' verdict)
ok "$([ "$r" = error ] && grep -q '"type":"totals","binary":"cow","pass":1,"fail":0,"xfail":0,"xpass":0,"skip":1,"error":1' "$tmp/crash.json"; echo $?)" \
	"bare binary TAP that stops during a case: that case is an error"

"$tool" json "$fix/vm-crash.tap" -o "$tmp/vm-crash.json"
r=$(py case_field "$tmp/vm-crash.json" cow 'Longterm R/O pin is reliable: GUP, write after pin, THP (2048 kB)' verdict)
ok "$([ "$r" = error ] && grep -q '"diagnosis":"no result: the guest died while the suite ran (QEMU exit 1)".*BUG: kernel NULL pointer' "$tmp/vm-crash.json"; echo $?)" \
	"vm/run.sh TAP of a guest that died during a case: an error, with the console in its log"

# --------------------------------------------------------------------------
# junit

"$tool" junit "$fix/run-b.json" -o "$tmp/b.xml" && py junit "$tmp/b.xml" > "$tmp/b.junit"
ok $? "JUnit XML of run B parses (xml.etree)"
ok "$(grep -qx 'all 30 3 1 5' "$tmp/b.junit"; echo $?)" \
	"JUnit totals: 30 tests, 3 failures (fail and XPASS), 1 error, 5 skipped"
ok "$([ "$(grep -c ' consistent$' "$tmp/b.junit")" = 4 ] && ! grep -q inconsistent "$tmp/b.junit"; echo $?)" \
	"JUnit: one testsuite per binary, its counts match its testcases"
grep -qxF "failure pinsuite.$bad_bin | $bad_name | $bad_diag" "$tmp/b.junit"
ok $? "JUnit: the failure's message is its diagnosis"
ok "$(grep -q '^skipped pinsuite.vfio_pin | .* | no VFIO device given (use --device BDF)$' "$tmp/b.junit" &&
	grep -q '^error pinsuite.iouring_pin | All pins released' "$tmp/b.junit" &&
	grep -q '^xfail pinsuite.cow | No leak from parent into child' "$tmp/b.junit"; echo $?)" \
	"JUnit: skipped with the reason, error as error, XFAIL as passed with a note"
"$tool" junit "$fix/run-a-suite.tap" "$fix/run-b-vm.tap" -o "$tmp/ab.xml" && py junit "$tmp/ab.xml" > "$tmp/ab.junit"
ok "$(grep -qx 'all 61 8 1 10' "$tmp/ab.junit"; echo $?)" "JUnit from two TAP runs parses, counts add up"

# --------------------------------------------------------------------------
# diff

"$tool" diff "$fix/run-a.json" "$fix/run-b.json" > "$tmp/diff" 2>&1
ok "$([ $? = 1 ]; echo $?)" "diff A B: exit 1 (B has new failures)"
grep -qx 'new failures 3, fixed 4, newly skipped 2, no longer skipped 2, other changes 1, only in A 1, only in B 1, still failing 1, unchanged 16' "$tmp/diff"
ok $? "diff A B: the counts"
first=$(grep -m1 -E '^(NEW FAIL|FIXED|NEW SKIP|UNSKIPPED|CHANGED|ONLY IN|STILL FAIL)' "$tmp/diff")
ok "$([[ $first == "NEW FAIL    $bad_bin: $bad_name: pass -> fail: $bad_diag"* ]]; echo $?)" \
	"diff A B: new failures come first, one per line, with the diagnosis"
ok "$([ "$(grep -c '^NEW FAIL ' "$tmp/diff")" = 3 ] && [ "$(grep -c '^FIXED ' "$tmp/diff")" = 4 ] &&
	[ "$(grep -c '^NEW SKIP ' "$tmp/diff")" = 2 ] && [ "$(grep -c '^UNSKIPPED ' "$tmp/diff")" = 2 ] &&
	grep -q '^ONLY IN A .*THP (64 kB)' "$tmp/diff" && grep -q '^ONLY IN B .*THP (32 kB)' "$tmp/diff"; echo $?)" \
	"diff A B: each list holds its cases"
"$tool" diff "$fix/run-b.json" "$fix/run-a.json" > "$tmp/diff-ba" 2>&1
ok "$([ $? = 1 ] && [ "$(grep -c '^NEW FAIL ' "$tmp/diff-ba")" = 4 ]; echo $?)" "diff B A: the 4 fixed cases are new failures"
"$tool" diff "$fix/run-a.json" "$fix/run-a.json" > "$tmp/diff-aa" 2>&1
rc=$?
ok "$([ $rc = 0 ] && grep -q '^new failures 0,' "$tmp/diff-aa"; echo $?)" "diff A A: exit 0, no new failure"
"$tool" diff "$fix/run-a-suite.tap" "$fix/run-b-vm.tap" > "$tmp/diff-tap" 2>&1
ok "$([ $? = 1 ] && diff <(grep '^NEW FAIL' "$tmp/diff") <(grep '^NEW FAIL' "$tmp/diff-tap") > /dev/null; echo $?)" \
	"diff of the TAP runs: the same new failures"
"$tool" diff "$fix/run-a.json" > /dev/null 2>&1
ok "$([ $? = 2 ]; echo $?)" "diff with one run: exit 2"

# --------------------------------------------------------------------------
# skips

"$tool" skips "$fix/run-b.json" > "$tmp/skips"
printf '%6d  %s\n' 2 'need 1 free 1048576 kB hugetlb pages (0 free)' 2 'no VFIO device given (use --device BDF)' \
	1 'no iommufd mock domain (CONFIG_IOMMUFD_TEST not set)' > "$tmp/skips.want"
ok "$(cmp -s "$tmp/skips" "$tmp/skips.want"; echo $?)" "skips: count and reason, most frequent first"
"$tool" skips "$fix/run-a.json" "$fix/run-b-vm.tap" | head -n 1 > "$tmp/skips2"
ok "$(grep -qx '     4  no VFIO device given (use --device BDF)' "$tmp/skips2"; echo $?)" "skips over two runs adds them up"

# --------------------------------------------------------------------------
# html: one self-contained file

"$tool" html "$fix/run-a.json" "$fix/run-b.json" -o "$tmp/report.html" --title 'pinsuite: 6.1 -> 6.12'
ok $? "html of two runs"
ok "$(! grep -Eiq '(src|href)=["'\'']?(https?:)?//|<link |@import|url\(' "$tmp/report.html"; echo $?)" \
	"html: no external resource (no link, src or url to load)"
"$tool" html "$fix/run-b-vm.tap" -o "$tmp/tap.html"
ok "$(grep -q 'Read from TAP' "$tmp/tap.html"; echo $?)" "html of a TAP run says what TAP lacks"

# --------------------------------------------------------------------------
# The report in a browser

# PINSUITE_CHROMIUM names another browser binary; set empty, the checks skip.
chromium=${PINSUITE_CHROMIUM-$(command -v chromium || command -v chromium-browser || true)}
browser_checks=11
if [ -z "$chromium" ]; then
	for _ in $(seq "$browser_checks"); do
		skip "report in headless Chromium" "chromium not installed (apt-get install chromium)"
	done
	done_testing
fi

# chrome WIDTHxHEIGHT URL ARGS...: headless, offline, a fresh profile.
chrome() {
	local size=$1 url=$2 prof rc
	shift 2
	prof=$(mktemp -d)
	timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--host-resolver-rules='MAP * ~NOTFOUND' --force-device-scale-factor=1 \
		--hide-scrollbars --user-data-dir="$prof" --virtual-time-budget=5000 \
		--window-size="$size" "$@" "$url" 2> "$tmp/chrome.err"
	rc=$?
	rm -rf "$prof"
	return $rc
}

url="file://$tmp/report.html"
enc=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$bad_bin:$bad_name")

chrome 1400,1000 "$url" --dump-dom > "$tmp/dom.html"
py dom "$tmp/dom.html" "$bad_bin: $bad_name" > "$tmp/dom.facts"
ok "$(grep -qx 'data-js ok' "$tmp/dom.facts" && grep -qx 'data-js-error ' "$tmp/dom.facts"; echo $?)" \
	"browser: the page's script ran without an error"
want="count 1 pass 20 count 1 fail 2 count 1 error 1 count 1 xpass 1 count 1 xfail 1 count 1 skip 5"
got=$(grep '^count 1 ' "$tmp/dom.facts" | sort | tr '\n' ' ')
ok "$([ "$(echo "$want" | xargs -n 4 | sort | tr '\n' ' ')" = "$got" ]; echo $?)" \
	"browser: run B's totals shown (pass 20 fail 2 error 1 xpass 1 xfail 1 skip 5)"
ok "$(grep -q '^count 0 fail 5$' "$tmp/dom.facts" && grep -q '^count 0 pass 18$' "$tmp/dom.facts"; echo $?)" \
	"browser: run A's totals shown beside them"
ok "$(grep -q '^cell c v-fail' "$tmp/dom.facts"; echo $?)" "browser: the failing case's cell is marked fail"
ok "$(grep -qF "$bad_diag" "$tmp/dom.html"; echo $?)" "browser: its diagnosis is in the page"
ok "$(grep -qxF "newfail $bad_name" "$tmp/dom.facts"; echo $?)" "browser: the two-run view lists it as a new failure"

chrome 1400,1000 "$url#case=$enc" --dump-dom > "$tmp/dom-case.html"
py dom "$tmp/dom-case.html" "$bad_bin: $bad_name" > "$tmp/dom-case.facts"
detail=$(sed -n 's/^detail //p' "$tmp/dom-case.facts")
ok "$([[ $detail == *"$bad_name"*"$bad_diag"*"$bad_hint"*"$bad_log"* ]]; echo $?)" \
	"browser: a link to the case opens its diagnosis, hint and log"

mkdir -p "$art"
chrome 1400,1000 "$url" --screenshot="$art/report.png" > /dev/null
read -r w h n _ <<< "$(py red "$art/report.png")"
ok "$([ "$w" = 1400 ] && [ "$h" = 1000 ] && [ "${n:-0}" -gt 100 ]; echo $?)" \
	"browser: screenshot 1400x1000, red marks failures at the top ($n red pixels)"
diag "screenshot: $art/report.png"
cp "$tmp/report.html" "$art/report.html"

# The selected cell, shown without scrolling: a window as tall as the page.
rect=$(sed -n 's/^data-focus-rect //p' "$tmp/dom-case.facts")
IFS=, read -r x y cw ch <<< "$rect"
ok "$([ -n "$ch" ] && [ "$cw" -gt 5 ] && [ "$ch" -gt 5 ]; echo $?)" "browser: the case's cell is found and laid out ($rect)"
chrome "1400,$((y + ch + 40))" "$url#case=$enc" --screenshot="$art/report-case.png" > /dev/null
read -r _ _ n tot <<< "$(py red "$art/report-case.png" "$((x + 2))" "$((y + 2))" "$((cw - 4))" "$((ch - 4))")"
ok "$([ "${tot:-0}" -gt 0 ] && [ $((n * 100 / tot)) -ge 40 ]; echo $?)" \
	"browser: the failing case's cell is red on screen ($n of $tot pixels)"
diag "screenshot of the case: $art/report-case.png"

chrome 1400,1000 "file://$tmp/tap.html" --dump-dom > "$tmp/dom-tap.html"
py dom "$tmp/dom-tap.html" x > "$tmp/dom-tap.facts"
ok "$(grep -qx 'data-js ok' "$tmp/dom-tap.facts" && grep -q '^count 0 xpass 1$' "$tmp/dom-tap.facts"; echo $?)" \
	"browser: the report of a TAP run works too"

done_testing
