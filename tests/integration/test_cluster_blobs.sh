#!/usr/bin/env bash
# test_cluster_blobs.sh — two gateways that share NO QuarantineDir: their
# originals and parts live on a shared blob store (issue 18 item 2;
# docs/cluster.md "Shared blobs"). TZ_BLOB=s3 (the default) runs a real
# single-node Ceph (ceph-mon + one memstore ceph-osd + radosgw, cephx, all
# on loopback in the temp dir) and uses BlobStore s3; TZ_BLOB=postgresql
# (test_cluster_blobs_pg.sh) keeps the blobs in the shared PostgreSQL.
# Both start their own PostgreSQL for the index, audit chain and claims.
#
# Checked: an entry stored via A is not left on A's disk, its blobs are in
# the store and sealed (AES-256-GCM, not the plaintext); it is shown and
# exported via B with bytes identical to the part as sent, and released via
# C; the blob store stopped: A and B tempfail, nothing is accepted or
# listed; back: mail flows; -n names an unreachable store; purge on B
# removes the index rows and every blob of the entries; a single host's
# QuarantineDir moved into the store (queue migrate --to-blobs,
# blobs_migrate.sh).
# Ports TZ_PORT_BASE..+9 (A: SMTP base, sink +1, milter +2; B: SMTP +3,
# milter +4; PostgreSQL's socket +5; C +6; Ceph mon +7/+8, radosgw +9,
# A's StatsSocket +10) and
# +20..+39 for the OSD.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pg.sh"
TZ_PORT_BASE=${TZ_PORT_BASE:-3340}
BLOB=${TZ_BLOB:-s3}
tz_init "cluster-blobs-$BLOB"

CTL=${TZ_CTL:-$TZ_BUILD/tools/textizectl}
[ -x "$CTL" ] || { tz_fail "no textizectl at $CTL"; tz_done; }
if [ "$BLOB" = s3 ]; then
	for p in ceph-mon ceph-osd radosgw radosgw-admin ceph-authtool monmaptool ceph; do
		command -v "$p" >/dev/null || { tz_skip "$p not installed (scripts/deps installs ceph-mon ceph-osd radosgw)"; tz_done; }
	done
fi

SMTP_B=$((TZ_PORT_BASE + 3)) MILTER_B=$((TZ_PORT_BASE + 4))
MON2=$((TZ_PORT_BASE + 7)) MON1=$((TZ_PORT_BASE + 8)) RGW=$((TZ_PORT_BASE + 9))
CEPH=$TZ_TMP/ceph
PF_A=$TZ_PF PF_B=$TZ_TMP/postfix-b
B_PID= PF_B_STARTED=
S3KEY=TZTESTKEY S3SECRET=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')


# ---- Ceph: one mon, one memstore OSD, radosgw; cephx (radosgw does not
# authenticate with auth none); nothing outside $CEPH, loopback only ----
C=(-c "$CEPH/ceph.conf")
ceph_conf() {
	cat <<EOF
[global]
fsid = $1
mon host = [v2:127.0.0.1:$MON2,v1:127.0.0.1:$MON1]
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
osd objectstore = memstore
memstore device bytes = 268435456
run dir = $CEPH/run
log file = $CEPH/log/\$name.log
admin socket = $CEPH/run/\$name.asok
pid file = $CEPH/run/\$name.pid
public network = 127.0.0.0/8
ms bind ipv6 = false
ms bind port min = $((TZ_PORT_BASE + 20))
ms bind port max = $((TZ_PORT_BASE + 39))
keyring = $CEPH/keyring
[mon.a]
mon data = $CEPH/mon.a
[osd.0]
osd data = $CEPH/osd.0
EOF
}
rgw_start() {
	radosgw "${C[@]}" -n client.admin --rgw-frontends "beast endpoint=127.0.0.1:$RGW" \
		--rgw-data "$CEPH/rgw" --admin-socket "$CEPH/run/rgw.asok" --pid-file "$CEPH/run/rgw.pid" &&
		tz_wait_port "$RGW" 60
}
rgw_stop() { [ -f "$CEPH/run/rgw.pid" ] && kill "$(cat "$CEPH/run/rgw.pid")" 2>/dev/null; sleep 1; ! tz_port_open "$RGW"; }
ceph_start() {
	local fsid uuid
	fsid=$(cat /proc/sys/kernel/random/uuid) uuid=$(cat /proc/sys/kernel/random/uuid)
	mkdir -p "$CEPH/run" "$CEPH/log" "$CEPH/mon.a" "$CEPH/osd.0" "$CEPH/rgw"
	ceph_conf "$fsid" >"$CEPH/ceph.conf"
	ceph-authtool --create-keyring "$CEPH/keyring" --gen-key -n mon. --cap mon 'allow *' &&
	ceph-authtool "$CEPH/keyring" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' \
		--cap mgr 'allow *' &&
	monmaptool --create --addv a "[v2:127.0.0.1:$MON2,v1:127.0.0.1:$MON1]" --fsid "$fsid" "$CEPH/monmap" &&
	ceph-mon "${C[@]}" --mkfs -i a --monmap "$CEPH/monmap" --keyring "$CEPH/keyring" &&
	ceph-mon "${C[@]}" -i a && tz_wait_port "$MON2" 20 &&
	timeout 30 ceph "${C[@]}" auth import -i "$CEPH/keyring" &&
	timeout 30 ceph "${C[@]}" osd new "$uuid" &&
	timeout 30 ceph "${C[@]}" auth get-or-create osd.0 mon 'allow profile osd' osd 'allow *' \
		mgr 'allow profile osd' >>"$CEPH/keyring" &&
	ceph-osd "${C[@]}" -i 0 --mkfs --osd-uuid "$uuid" &&
	ceph-osd "${C[@]}" -i 0 &&
	rgw_start &&
	timeout 60 radosgw-admin "${C[@]}" user create --uid=textize --display-name=textize \
		--access-key="$S3KEY" --secret="$S3SECRET"
}
ceph_stop() {
	local f
	for f in "$CEPH"/run/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
	sleep 1
}
# an S3 request as the test user (curl signs it too, independently of textize)
EMPTY=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
s3() { curl -s -m 20 --aws-sigv4 aws:amz:us-east-1:s3 --user "$S3KEY:$S3SECRET" -H "x-amz-content-sha256: $EMPTY" "$@"; }
s3_keys() { s3 "http://127.0.0.1:$RGW/textize?list-type=2" | grep -o '<Key>[^<]*</Key>' | sed 's/<[^>]*>//g'; }
blob_keys() {
	if [ "$BLOB" = s3 ]; then s3_keys; else tz_psql "SELECT DISTINCT id || '/' || name FROM blobs"; fi
}
blob_bytes() {   # blob_bytes ID NAME > file
	if [ "$BLOB" = s3 ]; then s3 "http://127.0.0.1:$RGW/textize/$1/$2"
	else tz_psql "SELECT encode(string_agg(data, ''::bytea ORDER BY chunk), 'base64') FROM blobs WHERE id = '$1' AND name = '$2'" | base64 -d
	fi
}
# the blob store down and up again: radosgw, or PostgreSQL's blobs table
# made unreachable (the database itself must stay up for the index)
blob_down() {
	if [ "$BLOB" = s3 ]; then rgw_stop
	else tz_psql "ALTER TABLE blobs RENAME TO blobs_away" >/dev/null; fi
}
blob_up() {
	if [ "$BLOB" = s3 ]; then rgw_start
	else tz_psql "ALTER TABLE blobs_away RENAME TO blobs" >/dev/null; fi
}

cluster_cleanup() {
	local rc=$?
	[ -n "$PF_B_STARTED" ] && postfix -c "$PF_B" stop >/dev/null 2>&1
	tz_pg_cleanup
	[ -d "$CEPH/run" ] && ceph_stop
	TZ_PF=$PF_A
	(exit $rc)
	tz_cleanup
}
trap cluster_cleanup EXIT

# ---- PostgreSQL (lib_pg.sh; skips when the server is not installed) ----
tz_pg_setup $((TZ_PORT_BASE + 5))

# ---- the blob store ----
if [ "$BLOB" = s3 ]; then
	t0=$SECONDS
	if ! ceph_start >"$TZ_TMP/ceph-start.log" 2>&1; then
		tail -15 "$TZ_TMP/ceph-start.log"; tail -5 "$CEPH"/log/*.log 2>/dev/null
		tz_fail "Ceph (mon, osd, radosgw) did not start"
		tz_done
	fi
	tz_say "Ceph (mon, osd, radosgw) up in $((SECONDS - t0)) s"
	tz_assert "radosgw up on 127.0.0.1:$RGW; bucket textize created" \
		test "$(s3 -X PUT -o /dev/null -w '%{http_code}' "http://127.0.0.1:$RGW/textize")" = 200
	printf '%s\n%s\n' "$S3KEY" "$S3SECRET" >"$TZ_TMP/s3.keys"
	chmod 600 "$TZ_TMP/s3.keys"
	BLOBCONF="BlobStore s3
S3Endpoint http://127.0.0.1:$RGW
S3Bucket textize
S3Region us-east-1
S3AccessKeyFile $TZ_TMP/s3.keys"
else
	BLOBCONF="BlobStore postgresql"
fi

# ---- A, B, C: one key, one database, one blob store; no shared directory ----
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TZ_TMP/release.key"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TZ_TMP/quarantine.key"
chmod 600 "$TZ_TMP/release.key" "$TZ_TMP/quarantine.key"
cat >"$TZ_TMP/capture-release" <<EOF
#!/bin/sh
cat >"\$(mktemp "$TZ_TMP/released/mail.XXXXXX")"
EOF
chmod 755 "$TZ_TMP/capture-release"
mkdir -p "$TZ_TMP/released"
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
LogLevel debug
$([ "$(id -u)" -ne 0 ] || echo "UserID root")
StoreBackend postgresql
DatabaseURL $URL
$BLOBCONF
LocalDomains city.example.lg.jp
ReleaseKeyFile $TZ_TMP/release.key
ReleaseCommand $TZ_TMP/capture-release
EOF
}
CONF_A=$TZ_TMP/textize.conf CONF_B=$TZ_TMP/b.conf CONF_C=$TZ_TMP/c.conf
conf_for a "inet:$TZ_MILTER_PORT@127.0.0.1" >"$CONF_A"
conf_for b "inet:$MILTER_B@127.0.0.1" >"$CONF_B"
conf_for c "inet:$((TZ_PORT_BASE + 6))@127.0.0.1" >"$CONF_C"
STATS_A=inet:$((TZ_PORT_BASE + 10))@127.0.0.1
echo "StatsSocket $STATS_A" >>"$CONF_A"
"$CTL" db migrate -c "$CONF_C" >"$TZ_TMP/db.out" 2>&1
tz_assert "db migrate (blobs table: migration 6)" test "$(tz_psql "SELECT count(*) FROM information_schema.tables WHERE table_name = 'blobs'")" = 1
tz_assert "-n reaches the blob store" "$TZ_MILTER" -n -c "$CONF_A"

tz_cluster_up
tz_pass "gateways A and B up, each with its own QuarantineDir"

tz_gen html-attach "$TZ_TMP/attach.eml"
tz_assert "mail with attachments through A: 250" send_a 250 "$TZ_TMP/attach.eml"
tz_wait_count 1 || true

# ---- stored via A: in the blob store, sealed, not on A's disk ----
ID=$(tz_psql "SELECT id FROM entries" | head -1)
tz_assert "the entry is indexed ($ID)" test -n "$ID"
blob_keys | sort >"$TZ_TMP/keys.1"
tz_assert "its blobs are in the store: original, parts, meta.json ($(tr '\n' ' ' <"$TZ_TMP/keys.1"))" \
	test "$(grep -c "^$ID/\(original.eml\|meta.json\|part-001.bin\|part-002.bin\)$" "$TZ_TMP/keys.1")" -eq 4
blob_bytes "$ID" original.eml >"$TZ_TMP/orig.blob"
tz_assert "the original's blob is sealed (TZQE header, no plaintext subject)" \
	sh -c "test \"\$(head -c 4 '$TZ_TMP/orig.blob')\" = TZQE && ! grep -q '^Subject:' '$TZ_TMP/orig.blob'"
tz_assert "nothing of it stays in A's QuarantineDir" \
	test -z "$(find "$TZ_TMP/a/quarantine" -path "*$ID*" -type f)"

# ---- shown, exported via B: bytes identical; released via C ----
"$CTL" queue show "$ID" --format json -c "$CONF_B" >"$TZ_TMP/show.b" 2>&1
tz_assert "queue show via B" grep -q '"filename"' "$TZ_TMP/show.b"
# the attachments as sent, by file name
mkdir -p "$TZ_TMP/want"
python3 - "$TZ_TMP/attach.eml" "$TZ_TMP/want" <<'EOF'
import email, os, sys
from email.policy import default
msg = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=default)
for p in msg.walk():
    if p.get_filename():
        open(os.path.join(sys.argv[2], p.get_filename()), "wb").write(p.get_payload(decode=True))
EOF
# every named part exported via B is the attachment byte for byte
python3 -c 'import json, sys
for p in json.load(open(sys.argv[1]))["parts"]:
    if p.get("filename"): print(p["index"], p["filename"])' "$TZ_TMP/show.b" >"$TZ_TMP/named"
tz_assert "B shows the entry's two attachments" test "$(wc -l <"$TZ_TMP/named")" -eq 2
while read -r idx name; do
	"$CTL" queue export "$ID" "$idx" --out "$TZ_TMP/part.$idx" --operator bob -c "$CONF_B" \
		>>"$TZ_TMP/export.b" 2>&1 </dev/null
	tz_assert "part $idx ($name) exported via B is the attachment as sent, byte for byte" \
		cmp -s "$TZ_TMP/part.$idx" "$TZ_TMP/want/$name"
done <"$TZ_TMP/named"
"$CTL" queue export "$ID" original --out "$TZ_TMP/orig.b" --operator bob -c "$CONF_B" >>"$TZ_TMP/export.b" 2>&1
tz_assert "the original via B is the message as sent (byte for byte up to the MTA's final line end)" \
	cmp -s -n "$(stat -c %s "$TZ_TMP/attach.eml")" "$TZ_TMP/attach.eml" "$TZ_TMP/orig.b"
read -r RIDX RNAME <"$TZ_TMP/named"
"$CTL" queue release "$ID" "$RIDX" --force --reason blob-test --operator carol -c "$CONF_C" >"$TZ_TMP/rel.c" 2>&1
"$CTL" queue approve "$ID" "$RIDX" --operator dave -c "$CONF_B" >>"$TZ_TMP/rel.c" 2>&1
tz_assert "part $RIDX released via C and B (forced + approved): one mail delivered" \
	test "$(ls "$TZ_TMP/released" | wc -l)" -eq 1
python3 - "$(ls "$TZ_TMP"/released/* | head -1)" "$TZ_TMP/released.part" <<'EOF'
import email, sys
from email.policy import default
msg = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=default)
for p in msg.walk():
    if p.get_filename():
        open(sys.argv[2], "wb").write(p.get_payload(decode=True))
EOF
tz_assert "the released mail carries $RNAME byte for byte" cmp -s "$TZ_TMP/released.part" "$TZ_TMP/want/$RNAME"
"$CTL" queue show "$ID" --format json -c "$CONF_A" >"$TZ_TMP/show.a" 2>&1
released_on() {   # released_on SHOW.json: part RIDX has a released_at
	python3 -c 'import json, sys
p = [p for p in json.load(open(sys.argv[1]))["parts"] if p["index"] == int(sys.argv[2])][0]
sys.exit(0 if p.get("released_at") else 1)' "$1" "$RIDX"
}
tz_assert "A sees the release B and C wrote (meta.json in the store)" released_on "$TZ_TMP/show.a"
tz_assert "(and B's view from before it had none)" eval '! released_on "$TZ_TMP/show.b"' 

# ---- the blob store down: tempfail everywhere, nothing accepted ----
before=$(tz_captured_count) rows_before=$(tz_psql "SELECT count(*) FROM entries")
blob_down && tz_pass "blob store stopped" || tz_fail "blob store did not stop"
tz_assert "inbound via A tempfails while the blob store is down" send_a 451 "$TZ_TMP/attach.eml"
tz_assert "inbound via B tempfails while the blob store is down" send_b 451 "$TZ_TMP/attach.eml"
tz_assert "nothing reached the sink" test "$(tz_captured_count)" -eq "$before"
tz_assert "no entry was added to the index" test "$(tz_psql "SELECT count(*) FROM entries")" -eq "$rows_before"
if [ "$BLOB" = s3 ]; then
	"$TZ_MILTER" -n -c "$CONF_B" >"$TZ_TMP/n.out" 2>&1
	tz_assert "-n fails naming the blob store" test $? -ne 0 -a "$(grep -c 'BlobStore: S3' "$TZ_TMP/n.out")" -ge 1
fi
blob_up && tz_pass "blob store back" || tz_fail "blob store did not come back"
tz_assert "inbound via A flows again" send_a 250 "$TZ_TMP/attach.eml"
tz_assert "inbound via B flows again" send_b 250 "$TZ_TMP/attach.eml"
tz_assert "three entries indexed" test "$(tz_psql "SELECT count(*) FROM entries")" -eq 3
tz_assert "the audit chain verifies from C" sh -c "'$CTL' audit verify -c '$CONF_C' | grep -q '^audit log intact'"

# ---- StatsSocket's breaker gauge on A reads the shared row ----
gauge() { "$CTL" stats --socket "$STATS_A" --format json 2>/dev/null | python3 -c 'import json, sys; print(json.load(sys.stdin)["breaker"]["state"])'; }
tz_assert "A's stats: breaker normal" test "$(gauge)" = normal
tz_psql "UPDATE breaker SET tripped = true, since = extract(epoch FROM now())::bigint, reason = 'tripped on another gateway'" >/dev/null
tz_assert "tripped in the shared database (not on A): A's stats say tripped" test "$(gauge)" = tripped
tz_psql "UPDATE breaker SET tripped = false, since = 0, reason = '', generation = generation + 1" >/dev/null
tz_assert "reset there: normal again" test "$(gauge)" = normal

# ---- purge on B: rows and blobs of every entry ----
"$CTL" queue purge --older-than 0 --operator erin -c "$CONF_B" >"$TZ_TMP/purge.out" 2>&1
rc=$?
tz_assert "purge via B ($(tr '\n' ' ' <"$TZ_TMP/purge.out"))" test $rc -eq 0
tz_assert "no index rows left" test "$(tz_psql "SELECT count(*) FROM entries")" -eq 0
tz_assert "no blobs left in the store" test -z "$(blob_keys)"
tz_assert "C lists nothing" test -z "$("$CTL" queue list --format csv -c "$CONF_C" 2>/dev/null | sed 1d)"

# ---- moving a single host's QuarantineDir into the blob store ----
. "$(dirname "$0")/blobs_migrate.sh"

# ---- TZ_BLOB_MEASURE=N: the milter's time per message (ms= in its log)
# with the blobs put at once (A, BlobPuts 8, the default) and one after
# another (B restarted with BlobPuts 1), both on this blob store, N
# messages each, alternating A and B in the same run. Figures only, no
# assertion (speed targets live in bench/). ----
if [ -n "${TZ_BLOB_MEASURE:-}" ]; then
	median() { sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)], "(p90", a[int(NR*0.9+0.5)] ")"}'; }
	ms_of() { grep -o 'action=[a-z]* .* ms=[0-9]*' "$1" | grep 'stripped=[1-9]' | sed 's/.*ms=//' | tail -n "$TZ_BLOB_MEASURE"; }
	{ cat "$CONF_B"; echo "BlobPuts 1"; } >"$TZ_TMP/b-seq.conf"
	kill -TERM "$B_PID" 2>/dev/null; wait "$B_PID" 2>/dev/null
	"$TZ_MILTER" -f -c "$TZ_TMP/b-seq.conf" >>"$TZ_TMP/milter-b-seq.log" 2>&1 &
	B_PID=$!
	TZ_PIDS+=("$B_PID")
	tz_wait_port "$MILTER_B" 10
	: >"$TZ_TMP/milter-a-measure.log"
	a0=$(wc -l <"$TZ_MILTER_LOG")
	for i in $(seq "$TZ_BLOB_MEASURE"); do
		send_a 250 "$TZ_TMP/attach.eml" >/dev/null 2>&1
		send_b 250 "$TZ_TMP/attach.eml" >/dev/null 2>&1
	done
	tail -n +"$((a0 + 1))" "$TZ_MILTER_LOG" >"$TZ_TMP/milter-a-measure.log"
	tz_say "measured ($TZ_BLOB_MEASURE messages each, alternating, 11 KB, 3 parts: 5 blobs), BlobStore $BLOB: BlobPuts 8 median ms $(ms_of "$TZ_TMP/milter-a-measure.log" | median); BlobPuts 1 median ms $(ms_of "$TZ_TMP/milter-b-seq.log" | median)"
fi

tz_done
