#!/usr/bin/env bash
# test_policy_spf.sh — SPF against a real DNS server: dnsmasq serving TXT
# records inside a network namespace this test creates, with Postfix, the
# milter, the sink and the clients all inside it (ip netns exec uses
# /etc/netns/NAME/resolv.conf -> nameserver 127.0.0.1). Clients come from
# 192.0.2.10 and 192.0.2.66, added to lo inside the namespace (libspf2
# passes loopback clients without asking DNS). Checks pass, fail,
# softfail, none, the HELO identity of the null sender, the trace fields
# kept in order under the SPF fields (tz_trace_case), and temperror once
# dnsmasq is stopped. The namespace and /etc/netns/NAME are removed after.
# Ports 2610-2612 (inside the namespace).
here=$(cd "$(dirname "$0")" && pwd)

. "$here/lib.sh"
[ "${1:-}" = "--inside" ] || tz_netns_reexec tzspf "$here/test_policy_spf.sh"

TZ_PORT_BASE=${TZ_PORT_BASE:-2610}
tz_init policy_spf
tz_say "network namespace $TZ_SPF_NS, resolver $(cat /etc/resolv.conf)"

start_dns() {
	dnsmasq -k --no-resolv --no-hosts --listen-address=127.0.0.1 --bind-interfaces \
		--local=/example/ --pid-file="$TZ_TMP/dnsmasq.pid" --log-facility="$TZ_TMP/dnsmasq.log" \
		--txt-record=pass.example,"v=spf1 ip4:192.0.2.10 -all" \
		--txt-record=soft.example,"v=spf1 ip4:192.0.2.10 ~all" \
		--txt-record=nospf.example,"just some text" \
		--txt-record=helo.example,"v=spf1 ip4:192.0.2.10 -all" \
		--txt-record=late.example,"v=spf1 ip4:192.0.2.10 -all" &
	DNS_PID=$!
	TZ_PIDS+=("$DNS_PID")
	for _ in $(seq 50); do
		(exec 3<>/dev/udp/127.0.0.1/53) 2>/dev/null && ss -lun 2>/dev/null | grep -q '127.0.0.1:53 ' && return 0
		sleep 0.1
	done
	return 1
}
if start_dns; then tz_pass "dnsmasq serves the test zone in the namespace"; else tz_fail "dnsmasq did not start"; tz_done; fi

# Clients outside mynetworks: Postfix must take mail for the local domain.
tz_sink_start || { tz_fail "smtp-sink did not start"; tz_done; }
tz_milter_conf "LocalDomains city.example.lg.jp
AuthservID gw.tz-test.example
SPFTimeout 4s"
tz_milter_start || { tz_fail "textize-milter did not start"; tz_done; }
tz_postfix_start $'relay_domains = city.example.lg.jp\nsmtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination' || { tz_fail "postfix did not start"; tz_done; }

mkmsg() {
	{
		printf 'From: %s\r\nTo: user@city.example.lg.jp\r\nSubject: spf\r\n' "$2"
		printf 'Message-ID: <%s@tz-test.example>\r\nMIME-Version: 1.0\r\n' "$RANDOM$RANDOM"
		printf 'Content-Type: text/plain; charset=us-ascii\r\n\r\nHello.\r\n'
	} >"$1"
}

# spf_case NAME CLIENT SENDER CODE ECODE HEADER-REGEX [swaks args]
spf_case() {
	local name=$1 client=$2 sender=$3 code=$4 ecode=$5 want=$6; shift 6
	local n f
	mkmsg "$TZ_TMP/m.eml" "${sender:-postmaster@helo.example}"
	n=$(tz_captured_count)
	if ! tz_send_expect "$code" "$TZ_TMP/m.eml" --local-interface "$client" --from "${sender:-<>}" "$@" ||
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
spf_case pass-received-spf 192.0.2.10 b@pass.example 250 "" '^Received-SPF: pass .*client-ip=192.0.2.10;'
spf_case fail 192.0.2.66 a@pass.example 550 5.7.23 ""
spf_case softfail 192.0.2.66 a@soft.example 250 "" \
	'^Authentication-Results: gw.tz-test.example; spf=softfail smtp.mailfrom=a@soft.example'
spf_case softfail-tag 192.0.2.66 b@soft.example 250 "" '^X-Textize-Policy: spf; softfail'
spf_case none 192.0.2.66 a@nospf.example 250 "" '^Authentication-Results: gw.tz-test.example; spf=none'
spf_case nxdomain-none 192.0.2.66 a@nothing.example 250 "" 'spf=none'
spf_case null-sender-helo 192.0.2.10 "" 250 "" \
	'^Authentication-Results: gw.tz-test.example; spf=pass smtp.helo=helo.example' --helo helo.example
spf_case null-sender-helo-fail 192.0.2.66 "" 550 5.7.23 "" --helo helo.example
tz_assert "spf: summary line carries the rule" tz_log_grep -q 'inbound .*policy=spf=reject'
tz_trace_case "spf trace" yes --local-interface 192.0.2.10 --from a@pass.example

# temperror: the DNS server goes away (late.example was never asked, so
# libspf2's cache cannot answer for it)
kill -TERM "$DNS_PID"; wait "$DNS_PID" 2>/dev/null
t0=$(date +%s)
spf_case temperror 192.0.2.10 c@late.example 451 4.7.24 ""
t1=$(date +%s)
[ $((t1 - t0)) -le 15 ] && tz_pass "spf temperror: answered in $((t1 - t0)) s (SPFTimeout 4s)" ||
	tz_fail "spf temperror took $((t1 - t0)) s"

tz_done
