#!/usr/bin/env bash
# `joulevisor live` on the real kernel: a full session exits 0 without
# hardware counters or RAPL and says so; record then replay gives identical
# accounting; block I/O of a spawned command lands in its blk-interval
# trace; the metrics file parses as Prometheus text with monotonic counters;
# /metrics answers on a loopback port; enforcement (CPU quota) works and
# leaves no cgroup behind, also when the session is stopped by SIGTERM.
# Skips (exit 77) with the reason when perf_event_open or root is missing.
source "$(dirname "$0")/lib.bash" "$@"
# entities that get cgroups carry this script's tag, so the leftover checks
# and the cleanup see only this run's cgroups (not those of a live session
# another test runs at the same time)
TAG="t$$"
cleanup() {
  for d in /sys/fs/cgroup/*/joulevisor-live-*-*"$TAG" /sys/fs/cgroup/joulevisor-live-*-*"$TAG"; do
    [ -d "$d" ] && rmdir "$d" 2>/dev/null
  done
  rm -rf "$T"
}
trap cleanup EXIT
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (cgroups, perf_event_open of other processes)"
"$JV" live -q --interval 50ms -o "$T/probe" -- true >"$T/probe.out" 2>"$T/probe.err" ||
  skip "live mode unavailable here: $(tail -1 "$T/probe.err")"
leftover() { ls -d /sys/fs/cgroup/*/joulevisor-live-*-*"$TAG" /sys/fs/cgroup/joulevisor-live-*-*"$TAG" 2>/dev/null | head -1; }

# 1. a full session: capability table, fallback model, exit 0
expect_exit 0 "$JV" live --record "$T/rec" -o "$T/run" --interval 100ms --name work -- \
  sh -c 'i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done'
expect_err "capabilities of this machine"
expect_err "task-clock (sw)"
if ! grep -q "cycles (hw) *ok" "$T/err"; then
  expect_err "ENOENT"                      # no PMU: probed, with the reason
  expect_err "cpu model: fallback"         # and the fallback stated
fi
if ! grep -q "measured energy *ok" "$T/err"; then
  expect_err "measured energy unavailable:"
fi
grep -q '^t_s,entity,cpu_w,disk_w,idle_w,total_w,limit,throttle$' "$T/out" && ok || bad "no CSV header"
grep -q '^[0-9.]*,work,' "$T/out" && ok || bad "no CSV row for 'work'"
[ -f "$T/rec/live.ini" ] && [ -f "$T/rec/work.pmc.csv" ] && [ -f "$T/rec/work.blk.csv" ] && ok ||
  bad "recording incomplete: $(ls "$T/rec")"
# 2. record then replay: identical accounting
expect_exit 0 "$JV" run "$T/rec/live.ini" -o "$T/replay" -q
for f in matrix.csv series.csv power.csv throughput.csv summary.txt; do
  cmp -s "$T/run/$f" "$T/replay/$f" && ok || bad "replay differs in $f"
done
# the CPU time recorded is the command's
tc=$(awk -F, 'NR > 2 { s += $3 } END { print s / 1e9 }' "$T/rec/work.pmc.csv")
awk -v x="$tc" 'BEGIN { exit !(x > 0.01) }' && ok || bad "task-clock $tc s recorded"

# 3. block I/O: an O_DIRECT read of 2 MiB by the spawned command
dd if=/dev/urandom of="$T/data" bs=1M count=2 status=none
if dd if="$T/data" of=/dev/null bs=1M iflag=direct status=none 2>/dev/null; then
  expect_exit 0 "$JV" live -q --record "$T/rec2" -o "$T/run2" --name reader -- \
    dd if="$T/data" of=/dev/null bs=1M iflag=direct status=none
  rb=$(awk -F, 'NR > 2 { s += $4 } END { print s + 0 }' "$T/rec2/reader.blk.csv")
  awk -v x="$rb" 'BEGIN { exit !(x >= 2097152 && x < 2097152 + 262144) }' && ok ||
    bad "reader read $rb bytes, expected 2 MiB"
  v=$(csv_get "$T/run2/matrix.csv" reader disk0 kernel active_j)
  awk -v x="$v" 'BEGIN { exit !(x != "missing" && x > 0) }' && ok || bad "no disk energy for reader: $v"
else
  echo "note: O_DIRECT unsupported in $T: block I/O part skipped"
fi

# 4. metrics file: Prometheus text, counters monotonic across intervals
"$JV" live -q --interval 100ms --duration 1500ms --metrics-file "$T/m.prom" -o "$T/run3" -- \
  sh -c 'while :; do :; done' >/dev/null 2>"$T/m.err" &
lp=$!
for i in 1 2 3 4 5 6; do sleep 0.2; [ -f "$T/m.prom" ] && cp "$T/m.prom" "$T/m.$i"; done
wait $lp && ok || bad "metrics session failed: $(tail -2 "$T/m.err")"
n=0
for f in "$T"/m.[0-9]; do
  [ -f "$f" ] || continue
  n=$((n + 1))
  awk '/^#/ { if ($0 !~ /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* /) exit 1; next }
       !/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"]*",?)*\})? [-+0-9.eE]+$/ { exit 1 }' "$f" &&
    ok || bad "$f is not Prometheus text: $(head -3 "$f")"
done
[ "$n" -ge 3 ] && ok || bad "only $n metrics snapshots"
grep -q 'joulevisor_energy_joules_total{consumer="sh",device="cpu0",via="direct",kind="active"}' "$T/m.prom" &&
  ok || bad "no energy counter for sh"
grep -q '^# TYPE joulevisor_power_watts gauge' "$T/m.prom" && ok || bad "no power gauge"
# monotonic: each counter series never decreases from one snapshot to the next
prev=""
for f in "$T"/m.[0-9] "$T/m.prom"; do
  [ -f "$f" ] || continue
  if [ -n "$prev" ]; then
    awk 'FNR == NR { if ($1 ~ /_total/) a[$1] = $2; next }
         $1 ~ /_total/ && ($1 in a) && $2 + 0 < a[$1] + 0 { print "decreased: " $1; bad = 1 }
         END { exit bad }' "$prev" "$f" && ok || bad "counter decreased between $prev and $f"
  fi
  prev=$f
done

# 5. /metrics over HTTP on a loopback port (needs libmicrohttpd)
if grep -q "http /metrics *ok" "$T/probe.err"; then
  "$JV" live -q --interval 100ms --duration 2s --listen 127.0.0.1:0 -o "$T/run4" -- sleep 5 \
    >/dev/null 2>"$T/h.err" &
  lp=$!
  port=""
  for i in $(seq 1 50); do
    port=$(sed -n 's#.*serving http://127.0.0.1:\([0-9]*\)/metrics.*#\1#p' "$T/h.err")
    [ -n "$port" ] && break
    sleep 0.05
  done
  body=""
  if [ -n "$port" ]; then
    sleep 0.3
    body=$(exec 3<>"/dev/tcp/127.0.0.1/$port" && printf 'GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n' >&3 && cat <&3)
  fi
  echo "$body" | grep -q "^HTTP/1.[01] 200" && ok || bad "no 200 from /metrics (port '$port')"
  echo "$body" | grep -q 'joulevisor_energy_joules_total{consumer="sleep"' && ok || bad "/metrics body lacks sleep"
  wait $lp && ok || bad "listen session failed: $(tail -2 "$T/h.err")"
  expect_exit 2 "$JV" live --listen 10.0.0.1:9100 -- true
  expect_err "loopback"
else
  echo "note: built without libmicrohttpd: --listen part skipped"
fi

# 6. enforcement through the cgroups here: 20% of one CPU on a 1 s spinner
expect_exit 0 "$JV" live -q --record "$T/rec5" -o "$T/run5" --enforce --cpu-limit 20% --duration 1s \
  --name "spin$TAG" -- sh -c 'while :; do :; done'
expect_err "restored"
tc=$(awk -F, 'NR > 2 { s += $3 } END { print s / 1e9 }' "$T/rec5/spin$TAG.pmc.csv")
awk -v x="$tc" 'BEGIN { exit !(x >= 0.1 && x <= 0.35) }' && ok || bad "task-clock $tc s under a 20% quota"
[ -z "$(leftover)" ] && ok || bad "cgroup left behind: $(leftover)"
# dry-run: the writes are logged, nothing is created
expect_exit 0 "$JV" live -q -o "$T/run6" --enforce --dry-run --cpu-limit 50% --name "dry$TAG" -- true
expect_err "dry-run: would write"
[ -z "$(leftover)" ] && ok || bad "dry-run created $(leftover)"

# 7. SIGTERM: everything restored, exit 143, no process or cgroup left
"$JV" live -q --interval 100ms -o "$T/run7" --enforce --cpu-limit 50% --name "victim$TAG" -- sleep "30.$$" \
  >/dev/null 2>"$T/s.err" &
lp=$!
sleep 1
kill -TERM $lp
wait $lp
rc=$?
[ "$rc" = 143 ] && ok || bad "SIGTERM: exit $rc (want 143): $(tail -2 "$T/s.err")"
grep -q "everything restored" "$T/s.err" && ok || bad "SIGTERM: no restore message"
[ -z "$(leftover)" ] && ok || bad "SIGTERM left $(leftover)"
pgrep -f "^sleep 30\.$$\$" >/dev/null && bad "SIGTERM left the command running" || ok

# 8. usage errors and --vms on a host without VMs
expect_exit 2 "$JV" live
expect_err "no entity"
expect_exit 2 "$JV" live --interval 1ms -- true
expect_exit 2 "$JV" live --cpu-limit nope=5W -- true
expect_err "no entity named 'nope'"
if ! ls -d /sys/fs/cgroup/*/machine.slice/machine-qemu* >/dev/null 2>&1; then
  expect_exit 1 "$JV" live --vms -q
  expect_err "no libvirt/QEMU scope"
fi
finish
