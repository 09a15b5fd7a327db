#!/usr/bin/env bash
# A served cluster (pdask-mpi serve) and its clients, one case a run:
#   basic     a client's states, results and exit codes match a job's;
#             serve --shutdown stops every rank with 0, removes the file
#   token     a wrong token, and none: refused on both sides, exit 2
#   stale     a scheduler file whose relay is gone is replaced; a second
#             serve on a live one exits 2
#   build     another build of a .so a running client uses is refused;
#             once that client is gone, the new build loads
#   garbage   bytes that are not a client: disconnected, the relay serves on
#   killed    a client killed mid-run: its runs dropped, another unaffected
#   fair      a 10-run flow beside a 2000-run one: within 3x of its alone-time
#   shutdown  serve --shutdown and SIGTERM with a client running
#   address   examples/address.so against a served cluster, by --address
#   encrypted a cluster listening beyond loopback seals its frames
#   names     two clients at once, each with a task named nap from its
#             own file: each gets its own task's results
#   tsan      (PDASK_MPI is pdask-mpi-tsan) a relay, its workers and two
#             clients at once under ThreadSanitizer: no report anywhere
#   intruder  an authenticated client (tests/serve_peer.py) that sends
#             another flow run's entries, a bad rank, a bad tag, a cut
#             entry: disconnected each time, the relay serves on
#   journal   a client's --journal: the second run takes every run from it
#   crash     under process isolation a client's crashing task is one
#             Crashed run; the cluster serves on
# Every process started here is ended by the trap.
# usage: serve.sh CASE PDASK_MPI FLOWS_DIR EXAMPLES_DIR
set -u
case=$1 pd=$2 flows=$3 ex=$4
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
export HOME=$tmp/home
unset XDG_RUNTIME_DIR PDASK_TOKEN PDASK_CONFIG
mkdir -p "$HOME"
cd "$tmp" || exit 1
sf=$tmp/sched.json
pids=()

cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for _ in $(seq 50); do
        alive=0
        for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && break
        sleep 0.1
    done
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
    echo "FAIL $case: $*"
    for f in "$tmp"/*.log; do [ -f "$f" ] && { echo "--- $f"; cat "$f"; }; done
    exit 1
}

has() { # file pattern
    grep -Eq "$2" "$1" || fail "$1 has no line matching: $2"
}

# Start a cluster of 1 relay + 2 workers on a free loopback port, logging
# to $1; wait until it serves. Sets spid.
serve_start() {
    local log=$1
    shift
    # Under timeout unless a signal must reach mpirun itself (the trap
    # ends it either way).
    local to="timeout 300"
    [ -n "${NOTIMEOUT:-}" ] && to=
    $to mpirun ${MPIEXEC_PREFLAGS:-} -n 3 "$pd" serve \
        --scheduler-file "$sf" --listen tcp://127.0.0.1:0 "$@" >"$log" 2>&1 &
    spid=$!
    pids+=("$spid")
    for _ in $(seq 300); do
        grep -q "Serving 2 workers" "$log" && return 0
        kill -0 "$spid" 2>/dev/null || fail "serve exited early"
        sleep 0.1
    done
    fail "serve did not start"
}

# Shut the cluster down and check every rank exited 0 and the file went.
serve_stop() {
    timeout 30 "$pd" serve --shutdown --scheduler-file "$sf" >stop.log 2>&1 ||
        fail "serve --shutdown: exit $?"
    wait "$spid"
    rc=$?
    [ $rc = 0 ] || fail "the served cluster exited $rc, want 0"
    [ ! -e "$sf" ] || fail "the scheduler file is still there"
}

client() { # log, args...: run a client, its exit code in rc
    local log=$1
    shift
    timeout 120 "$pd" "$@" >"$log" 2>&1
    rc=$?
}

case $case in
basic)
    serve_start serve.log
    perms=$(stat -c %a "$sf")
    [ "$perms" = 600 ] || fail "scheduler file mode $perms, want 600"
    [ "$(stat -c %a "$HOME/.pdask/token")" = 600 ] || fail "token mode"
    [ "$(stat -c %a "$HOME/.pdask")" = 700 ] || fail "token dir mode"
    # A second cluster of the user shares the token; a token file left
    # readable by others is made owner-only, with a warning.
    chmod 644 "$HOME/.pdask/token"
    NOTIMEOUT=1 sf=$tmp/second.json serve_start second.log
    has second.log "token file $HOME/.pdask/token was readable by others \(mode 644\): made it owner-only"
    [ "$(stat -c %a "$HOME/.pdask/token")" = 600 ] || fail "token mode kept"
    kill -TERM "$spid"
    wait "$spid"
    spid=${pids[0]}
    has "$sf" '"address": "tcp://127.0.0.1:[0-9]+"'
    has "$sf" '"world_size": 3'
    has "$sf" "\"pid\": [0-9]+"
    client ok.log --scheduler-file "$sf" "$flows/deps.so"
    [ $rc = 0 ] || fail "deps: exit $rc, want 0"
    has ok.log "deps checks passed"
    has ok.log "Finished in state Completed: 68 of 68 task runs completed"
    client bad.log --scheduler-file "$sf" "$flows/fail.so"
    [ $rc = 1 ] || fail "fail: exit $rc, want 1"
    has bad.log "fail checks passed"
    # Retries are told to the client, under the run's name.
    has bad.log "flaky-0 on rank [12] [|] attempt 1 failed: attempt 1: not yet; retry 1/2"
    has bad.log "Finished in state Failed: 1 of 7 task runs completed, 6 did not"
    # The same flow in a job says the same.
    timeout 120 mpirun ${MPIEXEC_PREFLAGS:-} -n 3 "$pd" "$flows/fail.so" \
        >job.log 2>&1
    [ $? = 1 ] || fail "fail in a job: exit code"
    a=$(grep -Eo "Finished in state [A-Za-z]+: [0-9]+ of [0-9]+ task runs completed, [0-9]+ did not" job.log)
    b=$(grep -Eo "Finished in state [A-Za-z]+: [0-9]+ of [0-9]+ task runs completed, [0-9]+ did not" bad.log)
    [ "$a" = "$b" ] || fail "job says '$a', the client '$b'"
    # Parameters and a missing flow name are the client's own errors.
    client usage.log --scheduler-file "$sf" "$flows/sleeper.so" n=4 ms=1 typo=1
    [ $rc = 0 ] || fail "sleeper: exit $rc"
    has usage.log "parameter 'typo' was given but the flow never read it"
    # Task output reaches the client whose run wrote it, as in a job.
    client out.log --scheduler-file "$sf" "$ex/count_to.so" highest_number=3
    [ $rc = 0 ] || fail "count_to: exit $rc"
    has out.log "OUTPUT +[|] shout-2 on rank [12] [|] #2$"
    grep -q "#2" serve.log && fail "task output in the cluster's log"
    serve_stop
    has serve.log "client [0-9]+ .* runs .*deps.so as flow run 1"
    ;;
token)
    serve_start serve.log
    addr=$(grep -Eo 'tcp://127.0.0.1:[0-9]+' "$sf")
    PDASK_TOKEN=wrong client wrong.log --address "$addr" "$flows/deps.so"
    [ $rc = 2 ] || fail "wrong token: exit $rc, want 2"
    has wrong.log "refused: wrong token"
    has serve.log "refused: wrong token"
    grep -q "Beginning flow run" wrong.log && fail "a flow ran with a wrong token"
    echo wrong-again >tok
    client wrong2.log --token-file tok --address "$addr" "$flows/deps.so"
    [ $rc = 2 ] || fail "wrong --token-file: exit $rc, want 2"
    # No token anywhere: another HOME.
    HOME=$tmp/empty client none.log --address "$addr" "$flows/deps.so"
    [ $rc = 2 ] || fail "no token: exit $rc, want 2"
    has none.log "no token for the cluster at $addr"
    has serve.log "refused: the client has no token"
    # The same user's client finds the per-user token without being told.
    client mine.log --address "$addr" "$flows/deps.so"
    [ $rc = 0 ] || fail "per-user token: exit $rc, want 0"
    # A client that proves nothing cannot shut the cluster down either.
    PDASK_TOKEN=wrong timeout 30 "$pd" serve --shutdown --address "$addr" \
        >stop-wrong.log 2>&1
    [ $? = 2 ] || fail "shutdown with a wrong token: exit code"
    kill -0 "$spid" || fail "a wrong token stopped the cluster"
    serve_stop
    ;;
stale)
    # A file left by a relay that died: its pid is gone.
    sh -c 'exit 0' &
    dead=$!
    wait $dead
    printf '{\n  "address": "tcp://127.0.0.1:1",\n  "host": "%s",\n  "pid": %d\n}\n' \
        "$(hostname)" "$dead" >"$sf"
    serve_start serve.log
    has serve.log "replacing the stale scheduler file $sf"
    has "$sf" "\"pid\": [0-9]+"
    grep -q "\"pid\": $dead," "$sf" && fail "the stale file was kept"
    # A second cluster on the live file refuses, exit 2.
    timeout 60 mpirun ${MPIEXEC_PREFLAGS:-} -n 2 "$pd" serve \
        --scheduler-file "$sf" --listen tcp://127.0.0.1:0 >second.log 2>&1
    rc=$?
    [ $rc = 2 ] || fail "second serve: exit $rc, want 2"
    has second.log "scheduler file $sf belongs to a cluster that is running"
    client ok.log --scheduler-file "$sf" "$flows/deps.so"
    [ $rc = 0 ] || fail "the first cluster no longer serves: exit $rc"
    serve_stop
    ;;
build)
    serve_start serve.log --log-level debug
    cp "$flows/sleeper.so" "$tmp/flow.so"
    client one.log --scheduler-file "$sf" "$tmp/flow.so" n=4 ms=1
    [ $rc = 0 ] || fail "first build: exit $rc"
    # A client of the first build that is still running when the file is
    # rebuilt at the same path.
    "$pd" --scheduler-file "$sf" "$tmp/flow.so" n=4 ms=4000 >long.log 2>&1 &
    long=$!
    pids+=("$long")
    for _ in $(seq 100); do grep -q "Beginning" long.log && break; sleep 0.1; done
    grep -q "Beginning" long.log || fail "the long client did not start"
    cp "$flows/deps.so" "$tmp/flow.so.new" && mv "$tmp/flow.so.new" "$tmp/flow.so"
    # While it runs, the new build cannot be loaded beside the old one.
    client two.log --scheduler-file "$sf" "$tmp/flow.so"
    [ $rc = 2 ] || fail "another build: exit $rc, want 2"
    has two.log "refused: rank [12]: another build of $tmp/flow.so \(content hash [0-9a-f]+...\) is loaded"
    has serve.log "refused: rank [12]: another build of $tmp/flow.so"
    grep -q "Beginning flow run" two.log && fail "the other build ran"
    wait "$long"
    rc=$?
    [ $rc = 0 ] || fail "the first build's long client: exit $rc"
    # Once no client of the old build is left, its module is unloaded on
    # every worker and the new build loads.
    has serve.log "rank 1: flow run [0-9]+'s last run ended; $tmp/flow.so unloaded"
    has serve.log "rank 2: flow run [0-9]+'s last run ended; $tmp/flow.so unloaded"
    client three.log --scheduler-file "$sf" "$tmp/flow.so"
    [ $rc = 0 ] || fail "the new build after the old one left: exit $rc"
    has three.log "Finished in state Completed"
    serve_stop
    ;;
garbage)
    serve_start serve.log
    port=$(grep -Eo '127.0.0.1:[0-9]+' "$sf" | cut -d: -f2)
    # A huge length before any authentication, then random bytes.
    printf '\xff\xff\xff\x7fGET / HTTP/1.0\r\n\r\n' >/dev/tcp/127.0.0.1/$port
    head -c 100000 /dev/urandom >/dev/tcp/127.0.0.1/$port
    sleep 0.5
    has serve.log "client 1 .*: a frame of [0-9]+ bytes .*garbage; disconnected"
    client ok.log --scheduler-file "$sf" "$flows/deps.so"
    [ $rc = 0 ] || fail "the relay does not serve after garbage: exit $rc"
    serve_stop
    ;;
killed)
    serve_start serve.log --log-level debug
    # Not under timeout: the kill must reach the client itself.
    "$pd" --scheduler-file "$sf" "$flows/sleeper.so" n=400 ms=300 tag=big \
        say=1 >big.log 2>&1 &
    big=$!
    pids+=("$big")
    for _ in $(seq 100); do grep -q "Beginning" big.log && break; sleep 0.1; done
    sleep 1
    kill -KILL "$big"
    wait "$big" 2>/dev/null
    client small.log --scheduler-file "$sf" "$flows/sleeper.so" n=10 ms=10 \
        tag=small
    [ $rc = 0 ] || fail "the other client: exit $rc, want 0"
    has small.log "small: sum 45 of 45"
    has serve.log "client 1 .*flow run 1.*: disconnected; its task runs are dropped"
    has serve.log "rank [12]: flow run 1 dropped"
    # Each run prints "nap I" as it starts; once its client is gone, the
    # line comes out in the cluster's log. Only runs sent before the kill
    # can start after it: those queued on the workers (their windows, 8
    # here, all of which start without the drop), and with the drop at
    # most one or two that start before the relay has seen the socket
    # close (runs of 300 ms on 8 threads: a start every 37 ms).
    sleep 1
    late=$(grep -c "1/nap-[0-9]* on rank [12] [|] nap " serve.log)
    early=$(grep -c "OUTPUT .*nap-[0-9]* on rank [12] [|] nap " big.log)
    echo "runs started: $early before the kill, $late after it"
    [ "$early" -gt 0 ] || fail "the big flow had not started"
    [ "$late" -le 2 ] || fail "$late runs of the killed client started after it died"
    # 400 runs of 300 ms on 8 threads take 15 s: after the kill the
    # workers are free at once for the other client.
    s=$(grep -Eo "in [0-9.]+ s" small.log | grep -Eo "[0-9.]+")
    awk -v s="$s" 'BEGIN { exit !(s < 5) }' || fail "small flow took $s s"
    # Ctrl-C on a client: as in a job, its runs Cancelled, exit 130.
    "$pd" --scheduler-file "$sf" "$flows/sleeper.so" n=400 ms=300 \
        >int.log 2>&1 &
    int=$!
    pids+=("$int")
    for _ in $(seq 100); do grep -q "Beginning" int.log && break; sleep 0.1; done
    sleep 0.5
    kill -INT "$int"
    wait "$int"
    rc=$?
    [ $rc = 130 ] || fail "interrupted client: exit $rc, want 130"
    has int.log "Interrupted by SIGINT: [0-9]+ task runs cancelled"
    has int.log "Finished in state Cancelled: .* exit code 130"
    serve_stop
    ;;
fair)
    serve_start serve.log
    client alone.log --scheduler-file "$sf" "$flows/sleeper.so" n=10 ms=20 \
        tag=small
    [ $rc = 0 ] || fail "alone: exit $rc"
    # The big flow's runs have a higher priority: priorities order one
    # flow's runs, never two flows'.
    timeout 120 "$pd" --no-progress --scheduler-file "$sf" \
        "$flows/sleeper.so" n=2000 ms=20 prio=10 tag=big >big.log 2>&1 &
    big=$!
    pids+=("$big")
    for _ in $(seq 100); do grep -q "Beginning" big.log && break; sleep 0.1; done
    sleep 1
    client beside.log --scheduler-file "$sf" "$flows/sleeper.so" n=10 ms=20 \
        tag=small
    [ $rc = 0 ] || fail "beside: exit $rc"
    kill -0 "$big" || fail "the big flow ended before the small one: the small one waited for it"
    a=$(grep -Eo "in [0-9.]+ s" alone.log | grep -Eo "[0-9.]+")
    b=$(grep -Eo "in [0-9.]+ s" beside.log | grep -Eo "[0-9.]+")
    echo "small flow alone $a s, beside a 2000-run flow $b s"
    # Alone it has both workers; beside the big flow, about half of them.
    awk -v a="$a" -v b="$b" 'BEGIN { exit !(b <= 3 * a + 0.1) }' ||
        fail "small flow took $b s beside the big one, $a s alone"
    kill -TERM "$big"
    wait "$big"
    serve_stop
    ;;
shutdown)
    serve_start serve.log
    timeout 120 "$pd" --scheduler-file "$sf" "$flows/sleeper.so" n=400 \
        ms=100 >run.log 2>&1 &
    run=$!
    pids+=("$run")
    for _ in $(seq 100); do grep -q "Beginning" run.log && break; sleep 0.1; done
    serve_stop
    wait "$run"
    rc=$?
    [ $rc = 143 ] || fail "client of a stopped cluster: exit $rc, want 143"
    has run.log "the cluster ended this client's connection: the cluster is shutting down"
    has run.log "Finished in state Cancelled"
    # SIGTERM to mpirun (scancel): the same clean stop. Open MPI's mpirun
    # itself exits 1 once it was signalled, whatever its ranks did; a rank
    # that exits non-zero or is killed would add its own lines.
    NOTIMEOUT=1 serve_start serve2.log
    kill -TERM "$spid"
    wait "$spid"
    rc=$?
    [ $rc = 0 ] || [ $rc = 1 ] || fail "SIGTERM: the cluster exited $rc"
    grep -Eiq "non-zero|signal [0-9]|killed|abort" serve2.log &&
        fail "SIGTERM: a rank did not exit cleanly"
    [ ! -e "$sf" ] || fail "SIGTERM: the scheduler file is still there"
    has serve2.log "Shutting down the cluster at tcp://127.0.0.1:[0-9]+ \(signal\)"
    # The relay killed: a running client says so at once, exit 143.
    NOTIMEOUT=1 serve_start serve3.log
    timeout 120 "$pd" --scheduler-file "$sf" "$flows/sleeper.so" n=400 \
        ms=100 >dead.log 2>&1 &
    run=$!
    pids+=("$run")
    for _ in $(seq 100); do grep -q "Beginning" dead.log && break; sleep 0.1; done
    relay=$(grep -Eo '"pid": [0-9]+' "$sf" | grep -Eo '[0-9]+')
    kill -KILL "$relay"
    start=$(date +%s)
    wait "$run"
    rc=$?
    [ $rc = 143 ] || fail "client of a dead relay: exit $rc, want 143"
    [ $(( $(date +%s) - start )) -le 5 ] || fail "the client noticed late"
    has dead.log "the cluster ended this client's connection: the other side closed the connection"
    ;;
names)
    serve_start serve.log
    timeout 120 "$pd" --scheduler-file "$sf" "$flows/sleeper.so" n=200 \
        ms=20 tag=one >one.log 2>&1 &
    one=$!
    pids+=("$one")
    client two.log --scheduler-file "$sf" "$flows/samename.so" n=200
    wait "$one"
    [ $? = 0 ] || fail "sleeper beside samename: exit code"
    [ $rc = 0 ] || fail "samename beside sleeper: exit $rc"
    has one.log "one: sum 19900 of 19900"
    has two.log "samename: sum 219900 of 219900"
    serve_stop
    ;;
tsan)
    serve_start serve.log
    timeout 200 "$pd" --scheduler-file "$sf" "$flows/sleeper.so" n=300 \
        ms=2 tag=one >one.log 2>&1 &
    one=$!
    pids+=("$one")
    client two.log --scheduler-file "$sf" "$flows/deps.so"
    wait "$one"
    [ $? = 0 ] || fail "sleeper under tsan: exit code"
    [ $rc = 0 ] || fail "deps under tsan: exit $rc"
    has two.log "deps checks passed"
    serve_stop
    grep -l "WARNING: ThreadSanitizer" ./*.log && fail "ThreadSanitizer reports"
    ;;
intruder)
    serve_start serve.log
    addr=$(grep -Eo 'tcp://127.0.0.1:[0-9]+' "$sf")
    token=$(cat "$HOME/.pdask/token")

    for mode in other-run bad-rank bad-tag short; do
        timeout 60 /usr/bin/python3 "$here/serve_peer.py" "$addr" \
            "$token" "$flows/deps.so" $mode >>peer.log 2>&1 ||
            fail "$mode: the relay did not close the connection"
    done
    n=$(grep -c "sent a frame the relay does not accept" serve.log)
    [ "$n" = 4 ] || fail "$n of 4 intruders disconnected"
    client ok.log --scheduler-file "$sf" "$flows/deps.so"
    [ $rc = 0 ] || fail "the relay does not serve after intruders: exit $rc"
    serve_stop
    ;;
journal)
    serve_start serve.log
    client j1.log --journal "$tmp/j.pdj" --scheduler-file "$sf" \
        "$flows/sleeper.so" n=20 ms=1 say=1
    [ $rc = 0 ] || fail "journal, first run: exit $rc"
    has j1.log "Finished in state Completed: 20 of 20 task runs completed, 0 did not, in [0-9.]+ s; 0 from the journal"
    client j2.log --journal "$tmp/j.pdj" --scheduler-file "$sf" \
        "$flows/sleeper.so" n=20 ms=1 say=1
    [ $rc = 0 ] || fail "journal, second run: exit $rc"
    has j2.log "sleeper: sum 190 of 190"
    has j2.log "; 20 from the journal"
    grep -q "nap " j2.log && fail "the second run ran task runs again"
    serve_stop
    ;;
crash)
    serve_start serve.log --set cluster_kwargs.isolation=process
    client crash.log --scheduler-file "$sf" "$flows/crash.so"
    [ $rc = 1 ] || fail "crashing task: exit $rc, want 1"
    has crash.log "Finished in state Crashed"
    client ok.log --scheduler-file "$sf" "$flows/deps.so"
    [ $rc = 0 ] || fail "the cluster does not serve after a crash: exit $rc"
    serve_stop
    ;;
encrypted)
    # Every interface: not loopback, so the link is sealed.
    serve_start serve.log --listen tcp://0.0.0.0:0
    has serve.log "Serving 2 workers at tcp://[^ ]+:[0-9]+ \(encrypted\)"
    client ok.log --scheduler-file "$sf" "$flows/deps.so"
    [ $rc = 0 ] || fail "sealed: exit $rc"
    has ok.log "deps checks passed"
    PDASK_TOKEN=wrong client wrong.log --scheduler-file "$sf" "$flows/deps.so"
    [ $rc = 2 ] || fail "sealed, wrong token: exit $rc, want 2"
    has wrong.log "refused: wrong token"
    serve_stop
    ;;
address)
    # As the README writes it, on Dask's port, when it is free; else by
    # --address on another.
    serve_start serve.log --listen tcp://127.0.0.1:8786
    addr=$(grep -Eo 'tcp://127.0.0.1:[0-9]+' "$sf")
    if [ "$addr" = tcp://127.0.0.1:8786 ]; then
        client addr.log "$ex/address.so" highest_number=10
    else
        echo "port 8786 taken: the example runs with --address $addr"
        client addr.log --address "$addr" "$ex/address.so" highest_number=10
    fi
    [ $rc = 0 ] || fail "address example: exit $rc"
    has addr.log "sum of squares below 10: 285"
    has addr.log "Finished in state Completed: 10 of 10 task runs completed"
    has addr.log "INFO +[|] shout-9 on rank [12] [|] #9"
    serve_stop
    ;;
*)
    fail "unknown case"
    ;;
esac
echo "serve $case ok"
