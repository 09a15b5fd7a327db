#!/usr/bin/env bash
# The HTML report in a real browser (headless chromium): the page's script
# draws every part without an error (it sets data-render="ok" on <html>,
# or "error: ..."), and a screenshot shows the task stream: most of its
# area is coloured bars, in several task colours. Then a sampled report
# (50000 runs, more than the stream keeps) renders too, in seconds.
# Exit 77 (skipped) without chromium.
# usage: report_browser.sh PDASK_MPI FLOWS_DIR BENCH_FLOWS_DIR
set -u
pd=$1 flows=$2 bench=$3
browser=$(command -v chromium || command -v chromium-browser ||
          command -v google-chrome || true)
[ -n "$browser" ] || { echo "no chromium: skipped"; exit 77; }
dir=$(mktemp -d) fail=0
trap 'rm -rf "$dir"' EXIT
py=/usr/bin/python3
chrome() { # file, more flags...
    local f=$1
    shift
    timeout 60 "$browser" --headless --no-sandbox --disable-gpu \
        --user-data-dir="$dir/profile" --force-device-scale-factor=1 \
        --window-size=1200,900 --hide-scrollbars "$@" "file://$f" \
        2>>"$dir/chrome.log"
}

mpirun ${MPIEXEC_PREFLAGS:-} -n 3 "$pd" --report "$dir/run.html" \
    "$flows/report.so" >"$dir/out" 2>&1
[ -s "$dir/run.html" ] || { echo "FAIL: no report"; cat "$dir/out"; exit 1; }
chrome "$dir/run.html#selftest" --dump-dom >"$dir/dom.html"
(cd "$dir" && chrome "$dir/run.html" --screenshot="$dir/shot.png" >/dev/null)
"$py" - "$dir/dom.html" "$dir/shot.png" <<'PY' || fail=1
import re, struct, sys, zlib
dom = open(sys.argv[1]).read()
tag = re.search(r"<html[^>]*>", dom)
assert tag, "no DOM dumped: %r" % dom[:200]
render = re.search(r'data-render="([^"]*)"', tag.group(0))
assert render and render.group(1) == "ok", "the page did not render: %s" % (
    render.group(1) if render else tag.group(0))
# The page's self-test hovered the longest bar (a crunch or prepare run)
# and zoomed in on it once (1 / 0.8).
hover = re.search(r'data-hover="([^"]*)"', tag.group(0))
assert hover and re.match(r"(crunch|prepare|flaky)-[0-9]+  [(]", hover.group(1)), \
    "hovering a bar showed no run: %s" % tag.group(0)
zoom = re.search(r'data-zoom="([^"]*)"', tag.group(0))
assert zoom and zoom.group(1) == "1.25", "the wheel did not zoom: %s" % tag.group(0)
x, y, w, h = map(int, re.search(r'data-stream-rect="([0-9,]+)"',
                                tag.group(0)).group(1).split(","))

def png_pixels(path):
    """Rows of (r, g, b) from an 8-bit RGB or RGBA, non-interlaced PNG."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            W, H, depth, ctype, _, _, inter = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and inter == 0, body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    bpp = 4 if ctype == 6 else 3
    raw, stride, prev, rows = zlib.decompress(idat), W * bpp, None, []
    for r in range(H):
        f, line = raw[r * (stride + 1)], bytearray(raw[r * (stride + 1) + 1:(r + 1) * (stride + 1)])
        up = prev or bytearray(stride)
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = up[i]
            c = up[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[i:i + 3]) for i in range(0, stride, bpp)])
        prev = line
    return W, H, rows

W, H, rows = png_pixels(sys.argv[2])
assert y + h <= H and x + w <= W, ("the stream is off the screenshot", x, y, w, h, W, H)
coloured, hues = 0, set()
for r in range(y, y + h):
    for px in rows[r][x:x + w]:
        if max(px) - min(px) > 100:  # a bar's colour, not grey or white
            coloured += 1
            hues.add(tuple(v // 32 for v in px))
share = coloured / float(w * h)
print("stream area %dx%d at %d,%d: %.0f%% coloured, %d colour groups" % (
    w, h, x, y, share * 100, len(hues)))
assert share > 0.3, "the task stream looks empty in the screenshot"
assert len(hues) >= 4, "fewer task colours than task names"
print("screenshot ok")
PY

# A sampled stream: 50000 runs of one task, drawn as 20000.
mpirun ${MPIEXEC_PREFLAGS:-} -n 3 "$pd" --report "$dir/big.html" \
    "$bench/bench_empty.so" n=50000 >"$dir/out" 2>&1
t0=$(date +%s.%N)
chrome "$dir/big.html" --dump-dom >"$dir/big_dom.html"
t1=$(date +%s.%N)
"$py" - "$dir/big_dom.html" "$t0" "$t1" <<'PY' || fail=1
import re, sys
dom = open(sys.argv[1]).read()
tag = re.search(r"<html[^>]*>", dom).group(0)
assert 'data-render="ok"' in tag, tag
assert re.search(r"Sampled: 20,000 of 50,000 runs that ran are drawn", dom), \
    "no sampling note"
took = float(sys.argv[3]) - float(sys.argv[2])
print("50000-run report rendered in %.1f s" % took)
assert took < 20, took
PY
[ "$fail" = 0 ] && echo "browser report ok"
exit "$fail"
