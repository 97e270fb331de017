#!/usr/bin/env bash
# test_sendmail_spf.sh — SPF behind a real Sendmail: the setup of
# test_policy_spf.sh (dnsmasq serving TXT records in a network namespace
# this test creates, clients from 192.0.2.10 and 192.0.2.66 on its lo) with
# the private Sendmail of lib-sendmail.sh in front of the milter. Checks
# the reply codes and headers test_policy_spf.sh expects behind Postfix:
# pass, fail (550 5.7.23), softfail, none, the trace fields kept in order
# under the SPF fields (tz_trace_case), and temperror (451 4.7.24) once
# dnsmasq is stopped. The namespace and /etc/netns/NAME are removed after.
# Ports 2920-2923 (inside the namespace).
here=$(cd "$(dirname "$0")" && pwd)

. "$here/lib.sh"
[ "${1:-}" = "--inside" ] || tz_netns_reexec tzsmspf "$here/test_sendmail_spf.sh"

TZ_PORT_BASE=${TZ_PORT_BASE:-2920}
tz_init sendmail_spf
. "$TZ_IT_DIR/lib-sendmail.sh"
# The packages are fetched outside the namespace (no network in here): a
# cache filled by test_sendmail.sh or an earlier run is required.
tz_sm_prepare
case $? in
0) ;;
1) tz_skip "private Sendmail unavailable (run test_sendmail.sh first to fill $TZ_SM_CACHE): $TZ_SM_WHY"; tz_done ;;
*) tz_fail "private Sendmail: $TZ_SM_WHY"; tz_done ;;
esac

start_dns() {
	dnsmasq -k --no-resolv --no-hosts --listen-address=127.0.0.1 --bind-interfaces \
		--local=/example/ --pid-file="$TZ_TMP/dnsmasq.pid" --log-facility="$TZ_TMP/dnsmasq.log" \
		--txt-record=pass.example,"v=spf1 ip4:192.0.2.10 -all" \
		--txt-record=soft.example,"v=spf1 ip4:192.0.2.10 ~all" \
		--txt-record=nospf.example,"just some text" \
		--txt-record=late.example,"v=spf1 ip4:192.0.2.10 -all" &
	DNS_PID=$!
	TZ_PIDS+=("$DNS_PID")
	for _ in $(seq 50); do
		ss -lun 2>/dev/null | grep -q '127.0.0.1:53 ' && return 0
		sleep 0.1
	done
	return 1
}
if start_dns; then tz_pass "dnsmasq serves the test zone in the namespace"; else tz_fail "dnsmasq did not start"; tz_done; fi

tz_sink_start || { tz_fail "smtp-sink did not start"; tz_done; }
tz_milter_conf "LocalDomains city.example.lg.jp
AuthservID gw.tz-test.example
SPFTimeout 4s"
tz_milter_start || { tz_fail "textize-milter did not start"; tz_done; }
if tz_sm_mc && tz_sm_start; then
	tz_pass "private Sendmail listens in the namespace"
else
	tz_fail "private Sendmail did not start"
	tz_done
fi

mkmsg() {
	{
		printf 'From: %s\r\nTo: user@city.example.lg.jp\r\nSubject: spf\r\n' "$2"
		printf 'Message-ID: <%s@tz-test.example>\r\nMIME-Version: 1.0\r\n' "$RANDOM$RANDOM"
		printf 'Content-Type: text/plain; charset=us-ascii\r\n\r\nHello.\r\n'
	} >"$1"
}

# spf_case NAME CLIENT SENDER CODE ECODE HEADER-REGEX
spf_case() {
	local name=$1 client=$2 sender=$3 code=$4 ecode=$5 want=$6 n f
	mkmsg "$TZ_TMP/m.eml" "$sender"
	n=$(tz_captured_count)
	if ! tz_send_expect "$code" "$TZ_TMP/m.eml" --local-interface "$client" --from "$sender" ||
	   ! grep -qE "^<[-~*]+ +$code[ -]$ecode" "$TZ_TMP/swaks.last"; then
		tz_fail "spf $name: expected $code $ecode"
		grep -E '^<[-~*]+ +[245][0-9][0-9]' "$TZ_TMP/swaks.last" | tail -2 | sed 's/^/    | /'
		return
	fi
	tz_pass "spf $name: $code $ecode"
	[ -n "$want" ] || return
	tz_wait_count $((n + 1)) || true
	f=$(tz_captured | tail -1)
	if grep -qE "$want" "$f"; then
		tz_pass "spf $name: header $(grep -E "$want" "$f" | head -1 | cut -c1-90)"
	else
		tz_fail "spf $name: no header matching $want"
		grep -E '^(Authentication-Results|Received-SPF|X-Textize-Policy)' "$f" | sed 's/^/    | /'
	fi
}

spf_case pass 192.0.2.10 a@pass.example 250 "" \
	'^Authentication-Results: gw.tz-test.example; spf=pass smtp.mailfrom=a@pass.example'
spf_case fail 192.0.2.66 a@pass.example 550 5.7.23 ""
spf_case softfail 192.0.2.66 a@soft.example 250 "" \
	'^Authentication-Results: gw.tz-test.example; spf=softfail smtp.mailfrom=a@soft.example'
spf_case none 192.0.2.66 a@nospf.example 250 "" '^Authentication-Results: gw.tz-test.example; spf=none'
tz_trace_case "spf trace" yes --local-interface 192.0.2.10 --from a@pass.example
kill -TERM "$DNS_PID"; wait "$DNS_PID" 2>/dev/null
spf_case temperror 192.0.2.10 c@late.example 451 4.7.24 ""
tz_sm_stop
tz_done
