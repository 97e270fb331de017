#!/usr/bin/env bash
# test_demo.sh — scripts/demo --once does what the READMEs say: on the ports
# TZ_PORT_BASE names, the sample mail arrives text-ized, the EICAR mail's
# attachment is found by a clamd that has only a local .hdb signature (no
# download), the directory it names holds what it showed after it exits,
# and it says where that is. The demo's output goes to a file (it is not
# this test's summary).
. "$(dirname "$0")/lib.sh"
TZ_PORT_BASE=${TZ_PORT_BASE:-3140}
tz_init demo-test
command -v clamd >/dev/null || [ -x /usr/sbin/clamd ] ||
	{ tz_skip "clamd not installed (scripts/deps installs clamav-daemon)"; tz_done; }

out=$TZ_TMP/demo.out
# The demo uses the ports tz_init checked free (it starts its own stack).
TZ_PORT_BASE=$TZ_PORT_BASE TZ_BUILD=$TZ_BUILD timeout 300 \
	"$TZ_TOP/scripts/demo" --once >"$out" 2>&1
tz_assert "scripts/demo --once exits 0" test $? -eq 0
tz_assert "it runs on TZ_PORT_BASE's ports" \
	grep -q "Postfix 127.0.0.1:$TZ_PORT_BASE -> textize-milter (inet:$((TZ_PORT_BASE + 2))@127.0.0.1) -> smtp-sink 127.0.0.1:$((TZ_PORT_BASE + 1))" "$out"
tz_assert "the sample arrives text-ized with its notice" grep -q '【安全のためテキスト形式に変換しました】' "$out"
tz_assert "clamd started with the local signature (no download)" grep -q 'scanned 4 parts' "$out"
tz_assert "the EICAR attachment is infected (Demo.EICAR.UNOFFICIAL)" \
	grep -qE 'invoice\.com .* infected +Demo\.EICAR\.UNOFFICIAL' "$out"
tz_assert "the sample's parts are clean" \
	bash -c "grep -E '見積書_2025年度\.pdf .* clean +OK' '$out' >/dev/null"
dir=$(sed -nE 's/^kept (\/tmp\/tz-it-demo\.[A-Za-z0-9]+) .*/\1/p' "$out")
tz_assert "it says which directory it kept" test -n "$dir"
tz_assert "that directory holds the received mail after it exits" \
	bash -c "[ \$(ls '$dir/sink' | wc -l) -eq 2 ]"
# counted through the store (either StoreFormat), with the demo's own config
tz_assert "and the quarantine entries it showed" \
	test "$(TZ_TMP=$dir tz_stored_entries)" = 2
tz_assert "the milter log line names the client as Postfix does (a name or unknown, never [addr][addr])" \
	grep -qE 'inbound client=([A-Za-z0-9.-]+|unknown)\[127\.0\.0\.1\] from=' "$dir/milter.log"
# (the bracket keeps pgrep from matching this check's own command line)
tz_assert "nothing of the demo keeps running" \
	bash -c "! pgrep -f -- '${dir/\/tmp\//\/tm[p]\/}/' >/dev/null"
[ -n "$dir" ] && [ "$TZ_FAILED" -eq 0 ] && rm -rf "$dir"
tz_done
