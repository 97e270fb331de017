#!/usr/bin/env bash
# test_cluster_idem.sh — issue 18 item 4: scan, sanitize, release and
# approve run on two hosts at once, and each part is converted, scanned and
# delivered at most once per request, with no state update lost.
#
# Two "hosts", A and B: two configurations with their own QuarantineDir,
# StateDir, spool, index and audit file, sharing one PostgreSQL (started
# here, lib_pg.sh) with StoreBackend and BlobStore postgresql; a third, C,
# only reads. The entries are stored through A's real Postfix and milter.
# clamd runs with a local signature database (skipped: the scans, when it
# is not installed). Then, entry by entry:
#   - queue scan and queue sanitize on A and on B at the same moment (the
#     scans started a little later each round, so that some round's scan
#     runs while a sanitize result is being recorded): every part converted
#     once ("part N: converting" in the two hosts' logs together), scanned
#     once (one `scanned` record), and every decision the audit chain
#     records is in the entry afterwards (a scan verdict from one host and a
#     sanitize result from the other both kept);
#   - queue release of one part on A and B at once: one mail per request
#     at the capture sink;
#   - a forced release requested on A, approved on A and on B at once (by
#     two operators): one mail;
#   - the audit chain verifies; queue purge on A, while B rejects the
#     entries' parts, removes every row and blob, and B lists nothing.
# With the host-local entry lock (before tz_pglock) the lost-update and
# converted-once checks fail (docs/cluster.md). Ports TZ_PORT_BASE..+9.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pg.sh"
TZ_PORT_BASE=${TZ_PORT_BASE:-3390}
ROUNDS=${TZ_IDEM_ROUNDS:-6}
tz_init cluster-idem

CTL=${TZ_CTL:-$TZ_BUILD/tools/textizectl}
[ -x "$CTL" ] || { tz_fail "no textizectl at $CTL"; tz_done; }
for tool in /usr/bin/bwrap /usr/bin/pdftoppm /usr/bin/img2pdf; do
	[ -x "$tool" ] || { tz_skip "$tool not installed (scripts/deps): no sanitizer"; tz_done; }
done
/usr/bin/python3 -c 'import PIL' 2>/dev/null || { tz_skip "python3-pil missing (scripts/deps)"; tz_done; }
CLAMD=$(command -v clamd || echo /usr/sbin/clamd)

cluster_cleanup() {
	local rc=$?
	tz_pg_cleanup
	(exit $rc)
	tz_cleanup
}
trap cluster_cleanup EXIT

tz_pg_setup $((TZ_PORT_BASE + 5))

# ---- clamd with a local signature database (fast to start) ----
SCANNER=
if [ -x "$CLAMD" ]; then
	mkdir -p "$TZ_TMP/clamdb"
	printf '%s:%s:Textize.Test.Nothing\n' "$(printf 'no such file' | md5sum | cut -d' ' -f1)" 12 \
		>"$TZ_TMP/clamdb/local.hdb"
	cat >"$TZ_TMP/clamd.conf" <<EOF
Foreground yes
LocalSocket $TZ_TMP/clamd.sock
DatabaseDirectory $TZ_TMP/clamdb
TemporaryDirectory $TZ_TMP
LogFile $TZ_TMP/clamd.log
EOF
	"$CLAMD" -c "$TZ_TMP/clamd.conf" >>"$TZ_TMP/clamd.out" 2>&1 &
	TZ_PIDS+=("$!")
	for _ in $(seq 300); do [ -S "$TZ_TMP/clamd.sock" ] && break; sleep 0.1; done
	if [ -S "$TZ_TMP/clamd.sock" ]; then
		SCANNER="ScannerSocket $TZ_TMP/clamd.sock"
		tz_pass "clamd started (local database)"
	else
		tz_fail "clamd did not start"; tail -5 "$TZ_TMP/clamd.log"
	fi
else
	tz_skip "clamd not installed (scripts/deps installs clamav-daemon): no scans"
fi

# ---- A, B, C: one key, one database; nothing shared on disk ----
for k in release quarantine; do
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TZ_TMP/$k.key"
	chmod 600 "$TZ_TMP/$k.key"
done
mkdir -p "$TZ_TMP/released"
cat >"$TZ_TMP/capture-release" <<EOF
#!/bin/sh
cat >"\$(mktemp "$TZ_TMP/released/mail.XXXXXX")"
EOF
chmod 755 "$TZ_TMP/capture-release"
conf_for() {   # conf_for NAME SOCKET
	mkdir -p "$TZ_TMP/$1/spool" "$TZ_TMP/$1/state" "$TZ_TMP/$1/quarantine"
	cat <<EOF
Socket $2
SocketMode 0666
SpoolDir $TZ_TMP/$1/spool
QuarantineDir $TZ_TMP/$1/quarantine
QuarantineKeyFile $TZ_TMP/quarantine.key
ReportDatabase $TZ_TMP/$1/report.db
AuditLog $TZ_TMP/$1/audit.log
StateDir $TZ_TMP/$1/state
$([ "$(id -u)" -ne 0 ] || echo "UserID root")
StoreBackend postgresql
DatabaseURL $URL
BlobStore postgresql
LocalDomains city.example.lg.jp
ReleaseKeyFile $TZ_TMP/release.key
ReleaseCommand $TZ_TMP/capture-release
ForceReleaseApprovals 2
SanitizedDelivery approve
SanitizeOCR no
$SCANNER
EOF
}
CONF_A=$TZ_TMP/textize.conf CONF_B=$TZ_TMP/b.conf CONF_C=$TZ_TMP/c.conf
conf_for a "inet:$TZ_MILTER_PORT@127.0.0.1" >"$CONF_A"
conf_for b "inet:$((TZ_PORT_BASE + 4))@127.0.0.1" >"$CONF_B"
conf_for c "inet:$((TZ_PORT_BASE + 6))@127.0.0.1" >"$CONF_C"
"$CTL" db migrate -c "$CONF_C" >"$TZ_TMP/db.out" 2>&1
tz_assert "db migrate" grep -q . "$TZ_TMP/db.out"

tz_sink_start || { tz_fail "smtp-sink did not start"; tz_done; }
tz_milter_start || { tz_fail "gateway A's milter did not start"; tz_done; }
tz_postfix_start || { tz_fail "gateway A's postfix did not start"; tz_done; }

# ---- the entries: each a PNG (sanitized to a copy) and a binary file
# (unsanitizable), stored through A ----
/usr/bin/python3 - "$TZ_TMP" "$ROUNDS" <<'EOF'
import io, os, sys, email.message, email.policy
from PIL import Image
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    img = Image.new("RGB", (320, 240), (10 * i, 120, 200))
    p = io.BytesIO(); img.save(p, "PNG")
    m = email.message.EmailMessage(policy=email.policy.SMTP)
    m["From"] = "sender@example.com"
    m["To"] = "user@city.example.lg.jp"
    m["Subject"] = "idem %d" % i
    m["Message-ID"] = "<idem-%d@example.com>" % i
    m.set_content("round %d\n" % i)
    m.add_attachment(p.getvalue(), maintype="image", subtype="png", filename="photo%d.png" % i)
    m.add_attachment(os.urandom(300000), maintype="application", subtype="octet-stream",
                     filename="data%d.bin" % i)
    open("%s/idem-%d.eml" % (d, i), "wb").write(bytes(m))
EOF
for i in $(seq 0 $((ROUNDS - 1))); do
	tz_send_expect 250 "$TZ_TMP/idem-$i.eml" >/dev/null 2>&1 || tz_fail "mail $i not accepted"
done
tz_psql "SELECT id FROM entries ORDER BY stored_time, id" >"$TZ_TMP/ids"
tz_assert "$ROUNDS entries stored through A, listed in the shared index" \
	test "$(wc -l <"$TZ_TMP/ids")" -eq "$ROUNDS"

# Start "$@" when the file go appears, so that processes of A and B begin
# within a few milliseconds of each other.
at_go() {   # at_go DELAY LOG CMD...
	local delay=$1 log=$2; shift 2
	( while [ ! -e "$TZ_TMP/go" ]; do sleep 0.005; done; sleep "$delay"; exec "$@" ) >>"$log" 2>&1 &
}
# the two hosts' processes: queue scan and queue sanitize of one entry on each
r=0
while read -r ID; do
	rm -f "$TZ_TMP/go"
	d=$(awk -v r="$r" 'BEGIN { printf "%.2f", r * 0.25 }')
	pids=()
	at_go 0 "$TZ_TMP/san.a" "$CTL" queue sanitize "$ID" -c "$CONF_A"; pids+=($!)
	at_go 0 "$TZ_TMP/san.b" "$CTL" queue sanitize "$ID" -c "$CONF_B"; pids+=($!)
	if [ -n "$SCANNER" ]; then
		at_go "$d" "$TZ_TMP/scan.a" "$CTL" queue scan "$ID" -c "$CONF_A"; pids+=($!)
		at_go "$d" "$TZ_TMP/scan.b" "$CTL" queue scan "$ID" -c "$CONF_B"; pids+=($!)
	fi
	touch "$TZ_TMP/go"
	wait "${pids[@]}"
	r=$((r + 1))
done <"$TZ_TMP/ids"

# the audit records and every entry's state, checked against each other
tz_psql "SELECT record FROM audit ORDER BY seq" >"$TZ_TMP/audit.txt"
: >"$TZ_TMP/shows"
while read -r ID; do
	"$CTL" queue show "$ID" --format json -c "$CONF_C" >>"$TZ_TMP/shows" 2>&1
	echo >>"$TZ_TMP/shows"
done <"$TZ_TMP/ids"
cat "$TZ_TMP"/san.a "$TZ_TMP"/san.b >"$TZ_TMP/san.all"
/usr/bin/python3 - "$TZ_TMP" "$ROUNDS" "${SCANNER:+scan}" >"$TZ_TMP/check.out" 2>&1 <<'EOF'
import collections, json, re, sys
d, n, scanning = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "scan"
ids = open(d + "/ids").read().split()
# "part N: converting" lines of both hosts: one conversion per part
conv = collections.Counter(re.findall(r"(\S+): part (\d+): converting", open(d + "/san.all").read()))
events = collections.defaultdict(list)   # (id, part) -> [event...]
for line in open(d + "/audit.txt"):
    if line.strip():
        r = json.loads(line)
        events[(r.get("id"), r.get("part"))].append(r["event"])
dec = json.JSONDecoder()
text, pos, shows = open(d + "/shows").read(), 0, {}
while True:
    text = text[pos:].lstrip(); pos = 0
    if not text: break
    obj, pos = dec.raw_decode(text)
    shows[obj["id"]] = obj
bad = []
for i in ids:
    if i not in shows: bad.append("%s: not shown" % i); continue
    for p in shows[i]["parts"]:
        k, evs = (i, p["index"]), events[(i, p["index"])]
        if conv[(i, str(p["index"]))] > 1:
            bad.append("%s part %d converted %d times" % (i, p["index"], conv[(i, str(p["index"]))]))
        if evs.count("scanned") > 1:
            bad.append("%s part %d scanned %d times" % (i, p["index"], evs.count("scanned")))
        if "scanned" in evs and not p.get("verdict"):
            bad.append("%s part %d: scanned on record, no verdict in the entry (lost)" % k)
        if "sanitized" in evs and p.get("state") != "sanitized":
            bad.append("%s part %d: sanitized on record, entry says %s (lost)" % (i, p["index"], p.get("state")))
        if "unsanitizable" in evs and p.get("state") != "unsanitizable":
            bad.append("%s part %d: unsanitizable on record, entry says %s (lost)" % (i, p["index"], p.get("state")))
        if p.get("state") in ("pending", "clean"):
            bad.append("%s part %d: still %s" % (i, p["index"], p.get("state")))
        if scanning and "scanned" not in evs and p.get("state") == "pending":
            bad.append("%s part %d: never scanned" % k)
every = collections.Counter(e for evs in events.values() for e in evs)
print("parts: %d, conversions: %d, audit: %d scanned, %d sanitized, %d unsanitizable" % (
      sum(len(s["parts"]) for s in shows.values()), sum(conv.values()), every["scanned"],
      every["sanitized"], every["unsanitizable"]))
# not vacuous: every part decided by the sanitizer, each once, and scanned
# (when clamd runs) unless the sanitizer decided it first
for i in ids:
    for p in shows.get(i, {"parts": []})["parts"]:
        evs = events[(i, p["index"])]
        if evs.count("sanitized") + evs.count("unsanitizable") != 1:
            bad.append("%s part %d: %d sanitizer decisions on record" % (i, p["index"],
                       evs.count("sanitized") + evs.count("unsanitizable")))
if scanning and every["scanned"] == 0:
    bad.append("no part was scanned")
for b in bad: print("BAD", b)
sys.exit(1 if bad else 0)
EOF
rc=$?
sed 's/^/    /' "$TZ_TMP/check.out" | head -20
tz_assert "scan and sanitize on A and B at once, $ROUNDS rounds: each part converted and scanned at most once, every decision on record is in its entry" test $rc -eq 0
tz_assert "the sanitizers on both hosts report no error" eval '! grep -q "sanitizer:" "$TZ_TMP/san.all"'

# ---- release of one part on A and B at once: one mail per request ----
released() { ls "$TZ_TMP/released" | wc -l; }
ok=0
while read -r ID; do
	before=$(released)
	rm -f "$TZ_TMP/go"
	at_go 0 "$TZ_TMP/rel.a" "$CTL" queue release "$ID" 1 --operator alice -c "$CONF_A"; p1=$!
	at_go 0 "$TZ_TMP/rel.b" "$CTL" queue release "$ID" 1 --operator bob -c "$CONF_B"; p2=$!
	touch "$TZ_TMP/go"
	wait $p1 $p2
	[ "$(released)" -eq $((before + 1)) ] && ok=$((ok + 1))
done <"$TZ_TMP/ids"
tz_assert "release of part 1 on A and B at once: one mail each time ($ok of $ROUNDS)" test "$ok" -eq "$ROUNDS"

# ---- a forced release requested on A, approved on A and B at once ----
ok=0
while read -r ID; do
	"$CTL" queue release "$ID" 2 --force --reason idem-test --operator carol -c "$CONF_A" >>"$TZ_TMP/req.a" 2>&1
	before=$(released)
	rm -f "$TZ_TMP/go"
	at_go 0 "$TZ_TMP/appr.a" "$CTL" queue approve "$ID" 2 --operator dave -c "$CONF_A"; p1=$!
	at_go 0 "$TZ_TMP/appr.b" "$CTL" queue approve "$ID" 2 --operator erin -c "$CONF_B"; p2=$!
	touch "$TZ_TMP/go"
	wait $p1 $p2
	[ "$(released)" -eq $((before + 1)) ] && ok=$((ok + 1))
done <"$TZ_TMP/ids"
tz_assert "approval of a forced release on A and B at once: one mail each time ($ok of $ROUNDS)" \
	test "$ok" -eq "$ROUNDS"
tz_assert "released mails in all: two per entry" test "$(released)" -eq $((2 * ROUNDS))
tz_assert "the audit chain verifies (C)" sh -c "'$CTL' audit verify -c '$CONF_C' | grep -q '^audit log intact'"

# ---- purge on A while B rejects the entries' parts: rows and blobs go,
# nothing is written back; B lists nothing ----
rm -f "$TZ_TMP/go"
at_go 0 "$TZ_TMP/purge.out" "$CTL" queue purge --older-than 0 --operator erin -c "$CONF_A"; p1=$!
at_go 0 "$TZ_TMP/reject.b" sh -c "while read -r id; do '$CTL' queue reject \"\$id\" 2 --reason idem --operator frank -c '$CONF_B'; done <'$TZ_TMP/ids'"; p2=$!
touch "$TZ_TMP/go"
wait $p1; rc=$?
wait $p2
tz_assert "purge via A while B rejects ($(grep -v '^ *$' "$TZ_TMP/purge.out" | tr '\n' ' '))" test $rc -eq 0
tz_assert "no index rows left" test "$(tz_psql "SELECT count(*) FROM entries") $(tz_psql "SELECT count(*) FROM parts")" = "0 0"
tz_assert "no blobs left" test "$(tz_psql "SELECT count(*) FROM blobs")" -eq 0
tz_assert "B lists nothing" test -z "$("$CTL" queue list --format csv -c "$CONF_B" 2>/dev/null | sed 1d)"
tz_assert "B shows none of the purged entries" \
	eval '! "$CTL" queue show "$(head -1 "$TZ_TMP/ids")" -c "$CONF_B" >/dev/null 2>&1'
tz_assert "the audit chain still verifies" sh -c "'$CTL' audit verify -c '$CONF_C' | grep -q '^audit log intact'"

tz_done
