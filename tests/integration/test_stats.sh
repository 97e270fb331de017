#!/usr/bin/env bash
# test_stats.sh — monitoring (issue 8 item 5) through a real Postfix: with
# StatsSocket on loopback TCP, one text-ized inbound mail, one relay attempt
# (refused at RCPT), one spoofed internal From (refused at end of header)
# and one outbound mail are counted right by `textizectl stats --format
# json`, the table shows them, Prometheus can scrape GET /metrics (parsed
# with prometheus_client when installed, else line by line), other paths
# are 404 and a bare "stats json" line works. Then on a unix socket: the
# counters restart at zero, the socket gets SocketMode and is removed at
# stop; a StatsSocket that cannot be opened is logged and mail still flows.
# Ports 2900-2902 (stack) and 2910 (stats).
. "$(dirname "$0")/lib.sh"
TZ_PORT_BASE=${TZ_PORT_BASE:-2900}
tz_init stats
TZ_CTL=${TZ_CTL:-$TZ_BUILD/tools/textizectl}
STATS_PORT=${TZ_STATS_PORT:-2910}
if tz_port_open "$STATS_PORT"; then
	tz_fail "port $STATS_PORT on 127.0.0.1 is already in use (set TZ_STATS_PORT)"
	tz_done
fi

# SPF off: counts must not depend on DNS (an SPF tag would move the
# text-ized message to policy_tag).
CONF="LocalDomains city.example.lg.jp
InternalNetworks 127.0.0.2/31
SPFCheck no"
tz_stack_start "$CONF"$'\n'"StatsSocket inet:$STATS_PORT@127.0.0.1"
tz_assert "milter logs the stats server" tz_log_grep -q "stats: serving on inet:$STATS_PORT@127.0.0.1"

ctl() { "$TZ_CTL" stats -c "$TZ_TMP/textize.conf" "$@"; }

tz_gen html-attach "$TZ_TMP/html.eml"
tz_mkmsg "$TZ_TMP/plain.eml" "From: Sender <sender@example.com>" "To: user@city.example.lg.jp"
tz_mkmsg "$TZ_TMP/spoof.eml" "From: Mayor <mayor@city.example.lg.jp>" "To: user@city.example.lg.jp"

tz_assert "text-ized mail accepted" tz_send_expect 250 "$TZ_TMP/html.eml"
tz_assert "relay attempt refused at RCPT" tz_send_expect 550 "$TZ_TMP/plain.eml" --to someone@example.net
tz_assert "spoofed internal From refused" tz_send_expect 550 "$TZ_TMP/spoof.eml"
tz_assert "outbound mail accepted" tz_send_expect 250 "$TZ_TMP/plain.eml" \
	--local-interface 127.0.0.2 --from user@city.example.lg.jp --to someone@example.net
tz_wait_count 2 || true

# The refused relay attempt ends when Postfix closes its milter connection:
# wait until all four summary lines are out.
for _ in $(seq 100); do
	[ "$(grep -c ' action=' "$TZ_MILTER_LOG")" -ge 4 ] && break
	sleep 0.1
done

# ---------------------------------------------------------------- textizectl stats
ctl --format json >"$TZ_TMP/stats.json" 2>"$TZ_TMP/ctl.err"
tz_assert "textizectl stats --format json exits 0" test -s "$TZ_TMP/stats.json"
tz_assert "json: the right counts" python3 - "$TZ_TMP/stats.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
m = s["messages"]
checks = {
    "total": m["total"] == 4,
    "inbound textized": m["inbound"]["textized"] == 1,
    "inbound policy_reject": m["inbound"]["policy_reject"] == 2,
    "outbound passed": m["outbound"]["passed"] == 1,
    "relay reject": s["policy"]["relay"]["reject"] == 1,
    "spoof reject": s["policy"]["spoof"]["reject"] == 1,
    "no other hits": sum(sum(a.values()) for a in s["policy"].values()) == 2,
    "stripped >= 2 (pdf, xlsx)": s["stripped_parts"] >= 2,
    "rejects": s["rejects"] == 2,
    "tempfails": s["tempfails"] == 0,
    "latency count": s["latency_ms"]["count"] == 4,
    "p99 >= p50": s["latency_ms"]["p99"] >= s["latency_ms"]["p50"],
    "breaker normal": s["breaker"]["state"] == "normal",
    "bytes in": s["bytes_in"] > 0 and s["bytes_out"] > 0,
}
bad = [k for k, ok in checks.items() if not ok]
if bad:
    print("wrong:", bad)
    print(json.dumps(s, indent=1))
    sys.exit(1)
PY
ctl >"$TZ_TMP/stats.table" 2>&1
tz_assert "table: messages, rules, p99, breaker" bash -c "grep -q '^messages: 4 ' '$TZ_TMP/stats.table' &&
	grep -qE '^  relay +reject=1$' '$TZ_TMP/stats.table' && grep -qE '^  spoof +reject=1$' '$TZ_TMP/stats.table' &&
	grep -q 'p99 ' '$TZ_TMP/stats.table' && grep -q '^breaker: normal' '$TZ_TMP/stats.table'"
tz_assert "textizectl stats --format prometheus" bash -c \
	"'$TZ_CTL' stats --socket inet:$STATS_PORT@127.0.0.1 --format prometheus | grep -q '^textize_messages_total{direction=\"inbound\",action=\"textized\"} 1$'"

# ---------------------------------------------------------------- HTTP (what Prometheus does)
# Debian's python3-prometheus-client (scripts/deps) is Prometheus' own
# parser; a python3 earlier in PATH may not see it.
PROM_PY=python3
/usr/bin/python3 -c 'import prometheus_client' 2>/dev/null && PROM_PY=/usr/bin/python3
tz_assert "GET /metrics: 200, text format 0.0.4, parses, textize_messages_total" \
	"$PROM_PY" - "$STATS_PORT" <<'PY'
import re, sys, urllib.request
r = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5)
assert r.status == 200, r.status
assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers["Content-Type"]
text = r.read().decode()
try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    text_string_to_metric_families = None
if text_string_to_metric_families:
    fams = {f.name: f for f in text_string_to_metric_families(text)}
    msgs = {(s.labels["direction"], s.labels["action"]): s.value
            for s in fams["textize_messages"].samples}
    assert msgs[("inbound", "textized")] == 1 and msgs[("outbound", "passed")] == 1, msgs
    assert fams["textize_processing_seconds"].type == "histogram"
    assert fams["textize_breaker_tripped"].samples[0].value == 0
    print("parsed with prometheus_client:", len(fams), "families")
else:
    line = re.compile(r'^(# (HELP|TYPE) .+|[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9.]+)$')
    for l in text.rstrip("\n").split("\n"):
        assert line.match(l), l
    print("prometheus_client not installed: checked line by line")
assert 'textize_messages_total{direction="inbound",action="textized"} 1\n' in text
PY
if grep -q "parsed with prometheus_client" "$TZ_TMP/assert.out"; then
	tz_pass "/metrics accepted by Prometheus' parser (prometheus_client)"
else
	tz_skip "python3-prometheus-client not installed: /metrics checked line by line only"
fi
tz_assert "GET /nope: 404" python3 - "$STATS_PORT" <<'PY'
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen("http://127.0.0.1:%s/nope" % sys.argv[1], timeout=5)
except urllib.error.HTTPError as e:
    sys.exit(0 if e.code == 404 else 1)
sys.exit(1)
PY
bare_json() {
	exec 3<>"/dev/tcp/127.0.0.1/$STATS_PORT" || return 1
	printf 'stats json\n' >&3
	python3 -c 'import json,sys; s=json.load(sys.stdin); sys.exit(0 if s["messages"]["total"] == 4 else 1)' <&3
	local rc=$?
	exec 3<&-
	return $rc
}
tz_assert "bare 'stats json' line over TCP (bash /dev/tcp)" bare_json

# ---------------------------------------------------------------- unix socket, restart
tz_assert "milter stops" tz_milter_stop
tz_assert "textizectl stats fails (exit 69, EX_UNAVAILABLE) when the milter is down" bash -c \
	"'$TZ_CTL' stats -c '$TZ_TMP/textize.conf'; test \$? -eq 69"
SOCK=$TZ_TMP/stats.sock
tz_milter_conf "$CONF"$'\n'"StatsSocket local:$SOCK"
tz_assert "milter starts with a local StatsSocket" tz_milter_start
tz_assert "local socket has SocketMode 0666" test "$(stat -c %a "$SOCK" 2>/dev/null)" = 666
ctl >"$TZ_TMP/stats2.table" 2>&1
tz_assert "counters restart at zero; table over the unix socket" grep -q '^messages: 0 ' "$TZ_TMP/stats2.table"
tz_assert "mail still text-ized" tz_send_expect 250 "$TZ_TMP/plain.eml"
for _ in $(seq 50); do
	ctl --format json 2>/dev/null | grep -q '"total":1,' && break
	sleep 0.1
done
tz_assert "the new message is counted" bash -c "'$TZ_CTL' stats -c '$TZ_TMP/textize.conf' --format json | grep -q '\"textized\":1,'"
tz_assert "milter stops again" tz_milter_stop
tz_assert "local socket removed at stop" test ! -e "$SOCK"

# ---------------------------------------------------------------- a broken StatsSocket never stops mail
echo "not a socket" >"$TZ_TMP/notasocket"
tz_milter_conf "$CONF"$'\n'"StatsSocket local:$TZ_TMP/notasocket"
tz_assert "milter starts although StatsSocket cannot be opened" tz_milter_start
tz_assert "... and logs it" tz_log_grep -q "running without StatsSocket"
tz_assert "... and mail flows" tz_send_expect 250 "$TZ_TMP/plain.eml"
tz_assert "... and the file in the way is untouched" grep -q "not a socket" "$TZ_TMP/notasocket"

tz_done
