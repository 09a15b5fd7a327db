#!/usr/bin/env bash
# tests/mutation/run.sh [-j N] [-t SECONDS] [-R REGEX] [-a] [-w DIR] [-k]
#                       [PATCH...]
#
# Mutation check: for each planted bug (tests/mutation/patches/*.patch, or
# the PATCH files given), apply it to a scratch copy of this tree, build
# without sanitizers, run the fast tiers, and say whether the tests killed
# it. Prints one line a patch and the score; see README.md beside this.
#
#   -j N        build and ctest jobs (default 2)
#   -t SECONDS  cap on every test's timeout (default 60)
#   -R REGEX    run only the tests matching REGEX (default: all fast tiers)
#   -a          run all the tests on each mutant, to list every test that
#               kills it (default: stop at the first failure)
#   -w DIR      scratch directory (default: a new one under ${TMPDIR:-/tmp})
#   -k          keep the scratch directory
#
# Exit status: 0 when every patch that applies was killed, 1 when one
# survived, 2 on a usage error or a baseline that does not pass.
set -u

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
jobs=2
cap=60
regex=""
work=""
keep=0
stop=--stop-on-failure
while getopts "j:t:R:aw:kh" opt; do
    case $opt in
    j) jobs=$OPTARG ;;
    t) cap=$OPTARG ;;
    R) regex=$OPTARG ;;
    a) stop="" ;;
    w) work=$OPTARG ;;
    k) keep=1 ;;
    *) sed -n '2,20p' "$0"; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
if [ $# -gt 0 ]; then
    patches=("$@")
else
    patches=("$here"/patches/*.patch)
fi
for p in "${patches[@]}"; do
    [ -f "$p" ] || { echo "run.sh: no such patch: $p" >&2; exit 2; }
done
[ -n "$work" ] || work=$(mktemp -d "${TMPDIR:-/tmp}/pdask-mutation.XXXXXX")
tree=$work/tree
build=$work/build
logs=$work/logs
mkdir -p "$tree" "$logs"
cleanup() { [ $keep = 1 ] || rm -rf "$work"; }
trap cleanup EXIT

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# The tree as it is now: tracked and new files, not the build directories.
git -C "$src" ls-files -z --cached --others --exclude-standard |
    tar -C "$src" --null --ignore-failed-read -T - -cf - 2>/dev/null |
    tar -C "$tree" -xf -

echo "mutation: tree $src -> $tree; logs in $logs"
if ! nice -n 10 cmake -S "$tree" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DPDASK_SANITIZE= -DPDASK_WERROR=OFF -DPDASK_TSAN=OFF \
        -DPDASK_TEST_TIMEOUT="$cap" -DMPIEXEC_PREFLAGS=--oversubscribe \
        >"$logs/configure.log" 2>&1; then
    echo "mutation: configure failed, see $logs/configure.log"
    keep=1
    exit 2
fi

build_tree() {
    nice -n 10 cmake --build "$build" -j "$jobs" >"$1" 2>&1
}

# run_tests LOG: the fast tiers; 0 when all pass.
run_tests() {
    local args=(--test-dir "$build" -LE 'hosts|slurm|tsan' -j "$jobs"
                --timeout "$cap" --output-on-failure)
    [ -n "$stop" ] && args+=("$stop")
    [ -n "$regex" ] && args+=(-R "$regex")
    nice -n 10 ctest "${args[@]}" >"$1" 2>&1
}

# The tests that failed, from a ctest log, on one line.
failed_tests() {
    sed -n '/The following tests FAILED:/,$p' "$1" |
        sed -n 's/^[[:space:]]*[0-9]* - \([^ ]*\) (\(.*\))$/\1 (\2)/p' |
        paste -sd ',' - | sed 's/,/, /g'
}

if ! build_tree "$logs/baseline-build.log"; then
    echo "mutation: the tree does not build, see $logs/baseline-build.log"
    keep=1
    exit 2
fi
if ! run_tests "$logs/baseline-test.log"; then
    echo "mutation: the baseline fails: $(failed_tests "$logs/baseline-test.log")"
    echo "mutation: fix the tree first; see $logs/baseline-test.log"
    keep=1
    exit 2
fi
echo "mutation: baseline builds and passes"

killed=0 survived=0 stale=0
survivors=()
for p in "${patches[@]}"; do
    name=$(basename "$p" .patch)
    t0=$(date +%s)
    if ! (cd "$tree" && patch -p1 --fuzz=3 --dry-run -s <"$p" >/dev/null 2>&1); then
        printf '%-9s %s  (does not apply: refresh it)\n' stale "$name"
        stale=$((stale + 1))
        continue
    fi
    files=$(sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "$p")
    for f in $files; do
        cp -p "$tree/$f" "$work/$(echo "$f" | tr / _).orig"
    done
    (cd "$tree" && patch -p1 --fuzz=3 -s --no-backup-if-mismatch <"$p" >/dev/null)
    if ! build_tree "$logs/$name-build.log"; then
        printf '%-9s %s  (does not build: refresh it; %s)\n' stale "$name" \
            "$logs/$name-build.log"
        stale=$((stale + 1))
    elif run_tests "$logs/$name-test.log"; then
        printf '%-9s %s  (%ss)\n' survived "$name" $(($(date +%s) - t0))
        survived=$((survived + 1))
        survivors+=("$name")
    else
        printf '%-9s %s  by %s (%ss)\n' killed "$name" \
            "$(failed_tests "$logs/$name-test.log")" $(($(date +%s) - t0))
        killed=$((killed + 1))
    fi
    # Restore the files; touch them so the next build sees the change.
    for f in $files; do
        cp "$work/$(echo "$f" | tr / _).orig" "$tree/$f"
        touch "$tree/$f"
    done
done

total=$((killed + survived))
echo "mutation: $killed killed, $survived survived, $stale stale of ${#patches[@]} patches"
if [ $total -gt 0 ]; then
    echo "mutation: score $killed/$total ($((100 * killed / total))%)"
fi
[ ${#survivors[@]} -eq 0 ] || echo "mutation: survivors: ${survivors[*]}"
[ $survived -eq 0 ]
