#!/usr/bin/env bash
# `joulevisor trace` on the native formats: info, import with mapping,
# convert, cat, head, tail, and its errors.
source "$(dirname "$0")/lib.bash" "$@"
cd "$T"
FIX="$SRC/tests/fixtures/trc"
expect_exit 0 "$JV" trace info "$FIX/blk.csv"
grep -q '^records: 5$' "$T/out" && ok || bad "info records"
grep -q '^reads: 3$' "$T/out" && ok || bad "info reads"
grep -q '^vm: web records=3$' "$T/out" && ok || bad "info per-VM counts"
grep -q '^transferred_b: 205312$' "$T/out" && ok || bad "info bytes"

expect_exit 0 "$JV" trace import --from blk "$FIX/blk.csv" -o all.csv --vm guest1
[ "$(tail -n +3 all.csv | cut -d, -f2 | sort -u)" = guest1 ] && ok || bad "--vm maps every record"
grep -q '5 records read, 5 written' "$T/out" && ok || bad "import summary: $(cat $T/out)"

# --match: unmapped records are an error listing them, or skipped on request
expect_exit 2 "$JV" trace import --from blk "$FIX/blk.csv" -o m.csv --match a:name=web
expect_err "  db: 1 records"
[ ! -e m.csv ] && ok || bad "failed import left m.csv"
expect_exit 0 "$JV" trace import --from blk "$FIX/blk.csv" -o m.csv --match a:name=web --unmapped=skip
[ "$(tail -n +3 m.csv | wc -l)" = 3 ] && ok || bad "--unmapped=skip rows"
grep -q '2 unmapped skipped' "$T/out" && ok || bad "unmapped count in summary"
expect_exit 2 "$JV" trace import --from blk "$FIX/blk.csv" -o m.csv --match a:colour=red
expect_err "unknown key 'colour'"

# convert and cat round trip
expect_exit 0 "$JV" trace convert "$FIX/blk.csv" copy.csv
"$JV" trace cat copy.csv > c1.txt; "$JV" trace cat "$FIX/blk.csv" > c2.txt
cmp -s c1.txt c2.txt && ok || bad "convert changed the records"
# head and tail
[ "$("$JV" trace head -n 2 "$FIX/blk.csv" | tail -n +3 | wc -l)" = 2 ] && ok || bad "head -n 2"
last=$("$JV" trace tail -n 1 "$FIX/blk.csv" | tail -n 1 | cut -d, -f1)
[ "$last" = 9000 ] && ok || bad "tail -n 1 gave t_ns $last"

# errors
expect_exit 2 "$JV" trace info nosuch.csv
expect_err "nosuch.csv"
expect_exit 2 "$JV" trace import "$FIX/blk.csv" -o x.csv
expect_err "--from FORMAT is required"
expect_exit 2 "$JV" trace import --from nosuchformat "$FIX/blk.csv" -o x.csv
expect_err "unknown trace format"
expect_exit 2 "$JV" trace frob x
printf '# joulevisor blk v1\nt_ns,vm,op,offset_b,size_b\n5,a,R,0,4096\n1,a,R,0,4096\n' > back.csv
expect_exit 2 "$JV" trace info back.csv
expect_err "back.csv:4:"
finish
