#!/usr/bin/env bash
# test_policy.sh — the mail policy rules (issue 4) through a real Postfix:
# open relay at RCPT, size at MAIL (SIZE=) and at DATA per direction,
# auto-forwarding for every marker and the allow-list, recipient visibility
# (reject and rewrite, checked in what the sink received), spoofed internal
# senders and forged headers (also with SPF off: tz_trace_case), every
# action (reject, tempfail, hold, tag, log) on the spoofing rule via
# SIGHUP, and the circuit breaker tripping and being reset with textizectl.
# Ports 2600-2602.
# Client identities: 127.0.0.1 is the Internet; 127.0.0.2-7 are internal.
. "$(dirname "$0")/lib.sh"
TZ_PORT_BASE=${TZ_PORT_BASE:-2600}
tz_init policy
TZ_CTL=${TZ_CTL:-$TZ_BUILD/tools/textizectl}
STATE=$TZ_TMP/state
mkdir -p "$STATE"

CONF="LocalDomains city.example.lg.jp
InternalNetworks 127.0.0.2/31, 127.0.0.4/30
AuthservID gw.tz-test.example
MaxMessageSizeInbound 100k
MaxMessageSizeOutbound 50k
MaxVisibleRecipients 2
AutoForwardAllow boss@city.example.lg.jp>partner@partner.example
OutboundRateLimit 5/10m
RecipientRateLimit 0
BreakerTrip 2/1h
StateDir $STATE"
tz_stack_start "$CONF"

reload() { tz_reload "$CONF"$'\n'"$1"; }   # "Key Value" lines over the base config

OUT=(--local-interface 127.0.0.2)          # an internal client
tz_mkmsg "$TZ_TMP/plain.eml" "From: Sender <sender@example.com>" "To: user@city.example.lg.jp"

# ---------------------------------------------------------------- relay
tz_expect 550 5.7.1 "relay: Internet client to a foreign domain refused at RCPT" \
	"$TZ_TMP/plain.eml" --to someone@example.net
tz_expect 550 5.7.1 "relay: percent hack refused" "$TZ_TMP/plain.eml" --to 'x%example.net@city.example.lg.jp'
tz_expect 250 "" "relay: Internet client to a local domain accepted" "$TZ_TMP/plain.eml"
tz_assert "relay: internal client may send out" tz_send_expect 250 "$TZ_TMP/plain.eml" \
	"${OUT[@]}" --from user@city.example.lg.jp --to someone@example.net
tz_wait_count 2 || true
tz_assert "relay: summary line names the refused recipient" tz_log_grep -q 'policy=relay=reject\*1'

# ---------------------------------------------------------------- SPF + forged headers (inbound)
tz_mkmsg "$TZ_TMP/forged.eml" "From: Sender <sender@example.com>" "To: user@city.example.lg.jp" \
	"Authentication-Results: gw.tz-test.example; spf=pass smtp.mailfrom=ceo@city.example.lg.jp" \
	"Authentication-Results: other.example; spf=fail" "X-Textize: forged" "X-Textize-Policy: forged"
n=$(tz_captured_count)
tz_assert "forged headers: accepted" tz_send_expect 250 "$TZ_TMP/forged.eml"
tz_wait_count $((n + 1)) || true
f=$(tz_captured | tail -1)
if [ -n "$f" ] && [ "$(grep -c '^Authentication-Results: gw.tz-test.example;' "$f")" -eq 1 ] &&
   grep -q '^Authentication-Results: gw.tz-test.example; spf=pass smtp.mailfrom=sender@example.com' "$f" &&
   grep -q '^Authentication-Results: other.example; spf=fail' "$f" &&
   ! grep -qE '^X-Textize(-Policy)?: forged' "$f" && grep -q '^Received-SPF: pass ' "$f"; then
	tz_pass "forged headers: ours removed, foreign A-R kept, our Received-SPF + A-R added"
else
	tz_fail "forged headers: unexpected header set"
	grep -E '^(Authentication-Results|X-Textize|Received-SPF)' "$f" | sed 's/^/    | /'
fi

# The policy's deletion of the forged A-R and hygiene's of the dirty one
# in one plan (tz_hdrplan.h): without SPF's fields on top, the second
# deletion named a field the first had already moved (Postfix counts live
# fields only).
reload "SPFCheck no"
tz_trace_case "trace, SPF off" no --from a@pass.example
reload ""

# ---------------------------------------------------------------- size
size_at_mail() {   # size_at_mail SIZE [source address]
	python3 - "$TZ_SMTP_PORT" "$1" "${2:-127.0.0.1}" <<'PY'
import smtplib, sys
port, size, src = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = smtplib.SMTP("127.0.0.1", port, source_address=(src, 0), timeout=60)
s.ehlo("client.tz-test.example")
frm = "sender@example.com" if src == "127.0.0.1" else "user@city.example.lg.jp"
code, msg = s.mail(frm, ["SIZE=" + size])
print(code, msg.decode())
s.quit()
PY
}
r=$(size_at_mail 200000)
case $r in "552 5.3.4"*) tz_pass "size: inbound SIZE=200000 refused at MAIL: $r" ;; *) tz_fail "size: inbound SIZE at MAIL: $r" ;; esac
r=$(size_at_mail 60000 127.0.0.2)
case $r in "552 5.3.4"*) tz_pass "size: outbound SIZE=60000 refused at MAIL (limit 50k)" ;; *) tz_fail "size: outbound SIZE at MAIL: $r" ;; esac
r=$(size_at_mail 60000)
case $r in 250*) tz_pass "size: inbound SIZE=60000 accepted at MAIL (limit 100k)" ;; *) tz_fail "size: inbound SIZE=60000: $r" ;; esac
{ cat "$TZ_TMP/plain.eml"; head -c 150000 /dev/zero | tr '\0' 'x' | fold -w 76 | sed 's/$/\r/'; } >"$TZ_TMP/big.eml"
tz_expect 552 5.3.4 "size: inbound 150 KB without SIZE= refused at DATA" "$TZ_TMP/big.eml"
tz_mkmsg "$TZ_TMP/out.eml" "From: user@city.example.lg.jp" "To: someone@example.net"
{ cat "$TZ_TMP/out.eml"; head -c 60000 /dev/zero | tr '\0' 'y' | fold -w 76 | sed 's/$/\r/'; } >"$TZ_TMP/outbig.eml"
tz_expect 552 5.3.4 "size: outbound 60 KB refused at DATA" "$TZ_TMP/outbig.eml" \
	--local-interface 127.0.0.3 --from user@city.example.lg.jp --to someone@example.net

# ---------------------------------------------------------------- auto-forwarding
markers=(
	"Auto-Submitted: auto-forwarded"
	"Autoforwarded: TRUE"
	"Resent-From: boss@city.example.lg.jp"
	"X-MS-Exchange-Inbox-Rules-Loop: boss@city.example.lg.jp"
	"X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent"
	"Delivered-To: boss@city.example.lg.jp"
)
for m in "${markers[@]}"; do
	tz_mkmsg "$TZ_TMP/fwd.eml" "From: someone@example.org" "To: friend@example.net" "$m"
	tz_expect 550 5.7.1 "autofwd: ${m%%:*} refused" "$TZ_TMP/fwd.eml" "${OUT[@]}" \
		--from boss@city.example.lg.jp --to friend@example.net
done
tz_mkmsg "$TZ_TMP/fwd.eml" "From: someone@example.org" "To: friend@example.net" \
	"Auto-Submitted: auto-generated" "Delivered-To: boss@city.example.lg.jp"
tz_expect 550 5.7.1 "autofwd: auto-generated with internal Delivered-To refused" "$TZ_TMP/fwd.eml" \
	"${OUT[@]}" --from boss@city.example.lg.jp --to friend@example.net
tz_mkmsg "$TZ_TMP/fwd.eml" "From: someone@example.org" "To: friend@example.net"
tz_expect 550 5.7.1 "autofwd: SRS sender refused" "$TZ_TMP/fwd.eml" "${OUT[@]}" \
	--from 'SRS0=HHHH=TT=example.org=someone@city.example.lg.jp' --to friend@example.net
tz_mkmsg "$TZ_TMP/fwd.eml" "From: someone@example.org" "To: colleague@city.example.lg.jp" "Autoforwarded: TRUE"
tz_assert "autofwd: forwarding inside the organisation passes" tz_send_expect 250 "$TZ_TMP/fwd.eml" \
	"${OUT[@]}" --from boss@city.example.lg.jp --to colleague@city.example.lg.jp
tz_mkmsg "$TZ_TMP/fwd.eml" "From: someone@example.org" "To: partner@partner.example" "Autoforwarded: TRUE"
tz_assert "autofwd: allow-listed pair passes" tz_send_expect 250 "$TZ_TMP/fwd.eml" \
	"${OUT[@]}" --from boss@city.example.lg.jp --to partner@partner.example
tz_assert "autofwd: summary line names the rule" tz_log_grep -q 'outbound .*policy=autofwd=reject'

# ---------------------------------------------------------------- recipient visibility
tz_mkmsg "$TZ_TMP/vis.eml" "From: user@city.example.lg.jp" \
	"To: a@example.net, =?UTF-8?B?5bGx55Sw?= <b@example.org>, colleague@city.example.lg.jp" \
	"Cc: list: c@example.com, A@EXAMPLE.NET;"
tz_expect 550 5.7.1 "visibility: 3 external addresses in To/Cc refused (limit 2)" "$TZ_TMP/vis.eml" \
	--local-interface 127.0.0.3 --from user@city.example.lg.jp --to a@example.net,b@example.org,c@example.com
grep -q 'Bcc' "$TZ_TMP/swaks.last" && tz_pass "visibility: reply tells the sender to use Bcc" ||
	tz_fail "visibility: reply text"
reload "RecipientVisibilityAction rewrite"
n=$(tz_captured_count)
tz_assert "visibility rewrite: accepted" tz_send_expect 250 "$TZ_TMP/vis.eml" --local-interface 127.0.0.3 \
	--from user@city.example.lg.jp --to a@example.net,b@example.org,c@example.com
tz_wait_count $((n + 1)) || true
f=$(tz_captured | tail -1)
if [ -n "$f" ] && grep -q '^To: undisclosed-recipients:;' "$f" && ! grep -qi '^Cc:' "$f" &&
   [ "$(grep -c '^X-Rcpt-Args:' "$f")" -eq 3 ] && ! tz_captured_body "$f" | grep -q 'b@example.org'; then
	tz_pass "visibility rewrite: sink got To: undisclosed-recipients:;, no Cc, all 3 envelope recipients"
else
	tz_fail "visibility rewrite: what the sink received"
	grep -E '^(To|Cc|X-Rcpt-Args):' "$f" | sed 's/^/    | /'
fi

# ---------------------------------------------------------------- spoofing, every action
tz_mkmsg "$TZ_TMP/spoof.eml" "From: Mayor <mayor@city.example.lg.jp>" "To: user@city.example.lg.jp"
tz_mkmsg "$TZ_TMP/spoofname.eml" "From: =?UTF-8?Q?mayor=40city=2Eexample=2Elg=2Ejp?= <x@evil.example>" \
	"To: user@city.example.lg.jp"
# an escape is no character: a reader shows the internal address alone
tz_mkmsg "$TZ_TMP/spoofesc.eml" "From: mayor@city.example.lg.jp"$'\e'"(B" "To: user@city.example.lg.jp"
reload ""
tz_expect 550 5.7.1 "spoof: internal From from the Internet refused (reject)" "$TZ_TMP/spoof.eml"
tz_expect 550 5.7.1 "spoof: internal From with an ISO-2022-JP escape glued on refused" "$TZ_TMP/spoofesc.eml" \
	--from x@evil.example
tz_expect 550 5.7.1 "spoof: internal envelope sender refused" "$TZ_TMP/plain.eml" --from mayor@city.example.lg.jp
tz_expect 550 5.7.1 "spoof: encoded display name with an internal address refused" "$TZ_TMP/spoofname.eml" \
	--from x@evil.example
reload "SpoofAction tempfail"
tz_expect 451 4.7.1 "action tempfail (spoof)" "$TZ_TMP/spoof.eml"
reload "SpoofAction hold"
tz_assert "action hold (spoof): accepted" tz_send_expect 250 "$TZ_TMP/spoof.eml"
held=
for _ in $(seq 50); do
	tz_postqueue -p | grep -qE '^[0-9A-F]+!' && { held=1; break; }
	sleep 0.2
done
if [ -n "$held" ]; then
	tz_pass "action hold (spoof): postqueue -p shows it held"
else
	tz_fail "action hold: not in the hold queue"; tz_postqueue -p | head -5 | sed 's/^/    | /'
fi
reload "SpoofAction tag"
n=$(tz_captured_count)
tz_assert "action tag (spoof): accepted" tz_send_expect 250 "$TZ_TMP/spoof.eml"
tz_wait_count $((n + 1)) || true
tz_assert "action tag (spoof): X-Textize-Policy added" grep -q '^X-Textize-Policy: spoof; ' "$(tz_captured | tail -1)"
reload "SpoofAction log"
n=$(tz_captured_count)
tz_assert "action log (spoof): accepted" tz_send_expect 250 "$TZ_TMP/spoof.eml"
tz_wait_count $((n + 1)) || true
f=$(tz_captured | tail -1)
if ! grep -q '^X-Textize-Policy:' "$f" && tz_log_grep -q 'inbound .*policy=spoof=log'; then
	tz_pass "action log (spoof): delivered untouched, summary line says spoof=log"
else
	tz_fail "action log (spoof)"
fi

# ---------------------------------------------------------------- circuit breaker
reload ""
burst() {   # burst SRC: 5 accepted, the 6th over the sender's limit
	local src=$1 ok=0
	for _ in 1 2 3 4 5; do
		tz_send_expect 250 "$TZ_TMP/out.eml" --local-interface "$src" --from user@city.example.lg.jp \
			--to someone@example.net 2>/dev/null && ok=$((ok + 1))
	done
	[ "$ok" -eq 5 ] && tz_pass "breaker: $src sends 5 within its limit" || tz_fail "breaker: $src only $ok of 5"
	tz_expect 451 4.7.1 "breaker: $src over OutboundRateLimit 5/10m" "$TZ_TMP/out.eml" \
		--local-interface "$src" --from user@city.example.lg.jp --to someone@example.net
}
ctl() { "$TZ_CTL" breaker -c "$TZ_TMP/textize.conf" "$@"; }
burst 127.0.0.4
tz_assert "breaker: not tripped after one sender" bash -c "$(declare -f ctl); TZ_CTL='$TZ_CTL' TZ_TMP='$TZ_TMP' ctl status | grep -q 'breaker: normal'"
tz_assert "breaker: alert line for the sender" tz_log_grep -q 'breaker: sender 127.0.0.4 over'
burst 127.0.0.5
tz_expect 451 4.7.1 "breaker: tripped, a fresh sender is stopped too" "$TZ_TMP/out.eml" \
	--local-interface 127.0.0.6 --from user@city.example.lg.jp --to someone@example.net
ctl status >"$TZ_TMP/status.out" 2>&1
sed 's/^/    | /' "$TZ_TMP/status.out"
tz_assert "breaker: textizectl breaker status shows it tripped" grep -q 'TRIPPED' "$TZ_TMP/status.out"
tz_assert "breaker: inbound mail still flows" tz_send_expect 250 "$TZ_TMP/plain.eml"
reload "OutboundRateLimit 50/10m"
tz_expect 451 4.7.1 "breaker: still tripped after SIGHUP" "$TZ_TMP/out.eml" \
	--local-interface 127.0.0.6 --from user@city.example.lg.jp --to someone@example.net
tz_assert "breaker: textizectl breaker reset" ctl reset
tz_assert "breaker: outbound flows after reset" tz_send_expect 250 "$TZ_TMP/out.eml" \
	--local-interface 127.0.0.6 --from user@city.example.lg.jp --to someone@example.net
ctl status >"$TZ_TMP/status.out" 2>&1
tz_assert "breaker: status normal again" grep -q 'breaker: normal' "$TZ_TMP/status.out"
tz_assert "breaker: LOG_ALERT trip line" tz_log_grep -q 'breaker: TRIPPED'

tz_done
