#!/usr/bin/env bash
# test_nr_steps.sh — the milter protocol's no-reply flags (issue 16)
# against a real Postfix: Postfix logs (debug_peer_list) that it negotiated
# SMFIP_NR_CONN/HELO/HDR/EOH/BODY with textize-milter, and with them every
# policy rule and every refusal of the milter's own still answers at its
# SMTP step with its code — relay at RCPT, SIZE= at MAIL, size of the data,
# spoofing, forged headers kept out, too many header fields (an internal
# refusal at the end of the header), auto-forwarding, recipient visibility
# and the circuit breaker after the final dot — each step checked in an
# smtplib transcript; a refusal held from one message never leaks into the
# next one on the same connection; accepted mail is still text-ized.
# SPF answers at MAIL as before (test_policy_spf.sh, with DNS).
. "$(dirname "$0")/lib.sh"
TZ_PORT_BASE=${TZ_PORT_BASE:-2640}
tz_init nr_steps
STATE=$TZ_TMP/state
mkdir -p "$STATE"

CONF="LocalDomains city.example.lg.jp
InternalNetworks 127.0.0.2/31, 127.0.0.4/30
MaxMessageSizeInbound 100k
MaxVisibleRecipients 2
OutboundRateLimit 2/10m
RecipientRateLimit 0
StateDir $STATE
LogLevel debug"
tz_sink_start || { tz_fail "smtp-sink did not start"; tz_done; }
tz_milter_conf "$CONF"
tz_milter_start || { tz_fail "textize-milter did not start"; tz_done; }
# debug_peer_list: smtpd logs the milter negotiation (milter8.c, verbose)
tz_postfix_start "debug_peer_list = 127.0.0.1" || { tz_fail "postfix did not start"; tz_done; }

# session SRC FROM RCPTS FILE [FILE...] — one SMTP session, one message per
# FILE (same envelope); prints "STEP CODE ECODE" for MAIL, each RCPT and
# DATA (the reply after the final dot), so a test sees where it was refused.
session() {
	python3 - "$TZ_SMTP_PORT" "$@" <<'PY'
import smtplib, sys
port, src, frm, rcpts, files = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
def ec(msg):
    w = msg.decode(errors="replace").split()
    return w[0] if w else "-"
s = smtplib.SMTP("127.0.0.1", port, source_address=(src, 0), timeout=120)
s.ehlo("client.tz-test.example")
for f in files:
    opts = []
    if frm.startswith("SIZE="):
        size, frm1 = frm.split(":", 1)
        opts = [size]
    else:
        frm1 = frm
    code, msg = s.mail(frm1, opts)
    print("MAIL", code, ec(msg))
    if code >= 400:
        s.rset(); continue
    ok = 0
    for r in rcpts.split(","):
        code, msg = s.rcpt(r)
        print("RCPT", code, ec(msg))
        ok += code < 400
    if not ok:
        s.rset(); continue
    code, msg = s.docmd("DATA")
    if code != 354:
        print("DATA", code, ec(msg)); s.rset(); continue
    data = open(f, "rb").read().replace(b"\r\n.", b"\r\n..")
    s.send(data + (b"" if data.endswith(b"\r\n") else b"\r\n") + b".\r\n")
    code, msg = s.getreply()
    print("DOT", code, ec(msg))
s.quit()
PY
}

# expect_steps NAME WANT SESSION-ARGS... — WANT is the transcript, lines joined by ";"
expect_steps() {
	local name=$1 want=$2; shift 2
	local got
	got=$(session "$@" 2>&1 | paste -sd ';')
	if [ "$got" = "$want" ]; then
		tz_pass "$name: $got"
	else
		tz_fail "$name: expected '$want', got '$got'"
	fi
}

IN=127.0.0.1 OUT=127.0.0.3 EXT=sender@example.com ME=user@city.example.lg.jp
tz_mkmsg "$TZ_TMP/plain.eml" "From: Sender <sender@example.com>" "To: $ME"

# ---------------------------------------------------------------- negotiated
expect_steps "plain inbound mail accepted after the dot" "MAIL 250 2.1.0;RCPT 250 2.1.5;DOT 250 2.0.0" \
	$IN $EXT $ME "$TZ_TMP/plain.eml"
# "milter8_connect: events ..." lists what was agreed ("my_events" what
# Postfix offered)
neg=$(grep -h 'milter8_connect: events ' "$TZ_PF/maillog" 2>/dev/null | tail -1)
if [ -n "$neg" ] && for f in CONN HELO HDR EOH BODY; do echo "$neg" | grep -q "SMFIP_NR_$f" || exit 1; done; then
	tz_pass "Postfix negotiated SMFIP_NR_CONN/HELO/HDR/EOH/BODY with textize-milter"
else
	tz_fail "Postfix log shows no negotiated no-reply flags"
	grep -h 'milter8' "$TZ_PF/maillog" | head -20 | sed 's/^/    | /'
fi
for f in MAIL RCPT; do
	if [ -n "$neg" ] && echo "$neg" | grep -q "SMFIP_NR_$f"; then
		tz_fail "SMFIP_NR_$f negotiated: its rules could not answer at $f"
	else
		tz_pass "SMFIP_NR_$f not negotiated (rules answer at $f)"
	fi
done
tz_assert "milter log: no-reply steps negotiated" tz_log_grep -q 'negotiated: .*no reply at connect, HELO, header'

# ---------------------------------------------------------------- rules at their steps
expect_steps "relay: refused at RCPT, 550 5.7.1" "MAIL 250 2.1.0;RCPT 550 5.7.1" \
	$IN $EXT someone@example.net "$TZ_TMP/plain.eml"
expect_steps "relay: only the foreign recipient is refused" \
	"MAIL 250 2.1.0;RCPT 550 5.7.1;RCPT 250 2.1.5;DOT 250 2.0.0" \
	$IN $EXT someone@example.net,$ME "$TZ_TMP/plain.eml"
expect_steps "size: SIZE=200000 refused at MAIL, 552 5.3.4" "MAIL 552 5.3.4" \
	$IN "SIZE=200000:$EXT" $ME "$TZ_TMP/plain.eml"
{ cat "$TZ_TMP/plain.eml"; head -c 150000 /dev/zero | tr '\0' 'x' | fold -w 76 | sed 's/$/\r/'; } >"$TZ_TMP/big.eml"
expect_steps "size: 150 KB body refused after the dot, 552 5.3.4" "MAIL 250 2.1.0;RCPT 250 2.1.5;DOT 552 5.3.4" \
	$IN $EXT $ME "$TZ_TMP/big.eml"
# over the limit inside the header already (a refusal held at a header
# step; many fields: Postfix cuts one field at header_size_limit)
{ for i in $(seq 1500); do printf 'X-Big-%d: %s\r\n' "$i" "$(printf 'h%.0s' $(seq 70))"; done
  cat "$TZ_TMP/plain.eml"; } >"$TZ_TMP/bighdr.eml"
expect_steps "size: 120 KB of header fields refused after the dot, 552 5.3.4" \
	"MAIL 250 2.1.0;RCPT 250 2.1.5;DOT 552 5.3.4" $IN $EXT $ME "$TZ_TMP/bighdr.eml"
tz_mkmsg "$TZ_TMP/spoof.eml" "From: Mayor <mayor@city.example.lg.jp>" "To: $ME"
expect_steps "spoof: refused after the dot (end of header), 550 5.7.1" \
	"MAIL 250 2.1.0;RCPT 250 2.1.5;DOT 550 5.7.1" $IN $EXT $ME "$TZ_TMP/spoof.eml"
{ for _ in $(seq 10001); do printf 'X: 1\r\n'; done; cat "$TZ_TMP/plain.eml"; } >"$TZ_TMP/manyhdr.eml"
expect_steps "more than 10000 header fields: tempfail after the dot, 451 4.3.0" \
	"MAIL 250 2.1.0;RCPT 250 2.1.5;DOT 451 4.3.0" $IN $EXT $ME "$TZ_TMP/manyhdr.eml"
tz_mkmsg "$TZ_TMP/fwd.eml" "From: $ME" "To: someone@example.net" "Auto-Submitted: auto-forwarded"
expect_steps "autofwd: refused after the dot, 550 5.7.1" "MAIL 250 2.1.0;RCPT 250 2.1.5;DOT 550 5.7.1" \
	$OUT $ME someone@example.net "$TZ_TMP/fwd.eml"
tz_mkmsg "$TZ_TMP/vis.eml" "From: $ME" "To: a@example.net, b@example.org, c@example.com"
expect_steps "visibility: refused after the dot, 550 5.7.1" \
	"MAIL 250 2.1.0;RCPT 250 2.1.5;RCPT 250 2.1.5;RCPT 250 2.1.5;DOT 550 5.7.1" \
	$OUT $ME a@example.net,b@example.org,c@example.com "$TZ_TMP/vis.eml"
tz_mkmsg "$TZ_TMP/out.eml" "From: $ME" "To: someone@example.net"
expect_steps "breaker: 3rd message over OutboundRateLimit 2/10m, 451 4.7.1 after the dot" \
	"MAIL 250 2.1.0;RCPT 250 2.1.5;DOT 250 2.0.0;MAIL 250 2.1.0;RCPT 250 2.1.5;DOT 250 2.0.0;MAIL 250 2.1.0;RCPT 250 2.1.5;DOT 451 4.7.1" \
	127.0.0.4 $ME someone@example.net "$TZ_TMP/out.eml" "$TZ_TMP/out.eml" "$TZ_TMP/out.eml"

# ---------------------------------------------------------------- held refusals stay with their message
n=$(tz_captured_count)
expect_steps "one connection: spoofed, oversized, plain — the plain one is accepted" \
	"MAIL 250 2.1.0;RCPT 250 2.1.5;DOT 550 5.7.1;MAIL 250 2.1.0;RCPT 250 2.1.5;DOT 552 5.3.4;MAIL 250 2.1.0;RCPT 250 2.1.5;DOT 250 2.0.0" \
	$IN $EXT $ME "$TZ_TMP/spoof.eml" "$TZ_TMP/bighdr.eml" "$TZ_TMP/plain.eml"
tz_wait_count $((n + 1)) || true
f=$(tz_captured | tail -1)
if [ -n "$f" ] && grep -q '^X-Textize:' "$f" && [ "$(tz_captured_count)" -eq $((n + 1)) ]; then
	tz_pass "only the plain message reached the sink, text-ized"
else
	tz_fail "sink: $(( $(tz_captured_count) - n )) messages, last ${f:-none}"
fi
for w in 'action=policy .*policy=spoof=reject' 'action=policy .*policy=size=reject' \
	'action=policy .*policy=headers=tempfail' 'action=textized'; do
	tz_assert "summary line for each: $w" tz_log_grep -q "$w"
done
tz_assert "no libmilter complaint about replies at no-reply steps" \
	bash -c "! grep -q 'claimed not to reply' '$TZ_MILTER_LOG' '$TZ_PF/maillog'"
tz_done
