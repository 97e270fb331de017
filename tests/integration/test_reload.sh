#!/usr/bin/env bash
# test_reload.sh — configuration handling of the running daemon: -n checks a
# file (exit 0/1, errors name file:line), SIGHUP loads a new file (new
# messages see it), a bad file on SIGHUP is refused and the old one stays,
# SIGTERM stops cleanly. Runs on a unix socket with UserID, so it also
# checks that root privileges are dropped after the socket is bound.
. "$(dirname "$0")/lib.sh"
TZ_PORT_BASE=${TZ_PORT_BASE:-2550}
tz_init reload
TZ_MILTER_SOCKET=local:$TZ_TMP/run/textize.sock
mkdir -p "$TZ_TMP/run"
chown nobody "$TZ_TMP/run"
# fresh directories: the daemon creates them for the user it runs as
base_conf="UserID nobody:nogroup
SpoolDir $TZ_TMP/nobody/spool
QuarantineDir $TZ_TMP/nobody/quarantine
ReportDatabase $TZ_TMP/nobody/report.db
AuditLog $TZ_TMP/nobody/log/audit.log"
mkdir -p "$TZ_TMP/nobody"
chown nobody "$TZ_TMP/nobody"
TZ_QUARANTINE=$TZ_TMP/nobody/quarantine

# --- -n
tz_milter_conf "$base_conf"
tz_assert "-n: valid file exits 0" "$TZ_MILTER" -n -c "$TZ_TMP/textize.conf"
printf 'Socket local:/x\nSpoolMemoryLimit 12q\n' >"$TZ_TMP/bad.conf"
"$TZ_MILTER" -n -c "$TZ_TMP/bad.conf" >"$TZ_TMP/n.out" 2>&1
tz_assert "-n: bad file exits 1" test $? -eq 1
tz_assert "-n: error names file:line" grep -q "$TZ_TMP/bad.conf:2: SpoolMemoryLimit" "$TZ_TMP/n.out"
tz_assert "-V prints the version" bash -c "'$TZ_MILTER' -V | grep -q '^textize-milter [0-9]'"

tz_sink_start
tz_milter_start || { tz_fail "milter did not start"; tz_done; }
tz_postfix_start || { tz_fail "postfix did not start"; tz_done; }
tz_assert "privileges dropped to nobody" \
	grep -qE "^Uid:[[:space:]]+$(id -u nobody)[[:space:]]+$(id -u nobody)[[:space:]]" "/proc/$TZ_MILTER_PID/status"
tz_assert "socket owned by nobody" test "$(stat -c %U "$TZ_TMP/run/textize.sock")" = nobody

tz_gen simple "$TZ_TMP/m1.eml" 1
tz_assert "before reload: accepted" tz_send_expect 250 "$TZ_TMP/m1.eml"
tz_wait_count 1
tz_assert "before reload: no subject prefix" tz_check "$(tz_captured | tail -1)" --header "Subject: テスト 1"

# --- good reload
tz_milter_conf "$base_conf
SubjectPrefix [外部]"
kill -HUP "$TZ_MILTER_PID"
for _ in $(seq 50); do tz_log_grep -q 'configuration reloaded' && break; sleep 0.1; done
tz_assert "SIGHUP: reloaded" tz_log_grep -q 'configuration reloaded .*generation 2'
tz_assert "SIGHUP: still running" kill -0 "$TZ_MILTER_PID"
tz_gen simple "$TZ_TMP/m2.eml" 2
tz_assert "after reload: accepted" tz_send_expect 250 "$TZ_TMP/m2.eml"
tz_wait_count 2
tz_assert "after reload: subject prefix applied" tz_check "$(tz_captured | tail -1)" --header "Subject: [外部]"

# --- bad reload
printf 'Socket local:/x\nNoSuchKey 1\n' >"$TZ_TMP/textize.conf"
kill -HUP "$TZ_MILTER_PID"
for _ in $(seq 50); do tz_log_grep -q 'reload refused' && break; sleep 0.1; done
tz_assert "bad SIGHUP: refused with file:line" tz_log_grep -q "reload refused.*textize.conf:2: unknown key"
tz_assert "bad SIGHUP: still running" kill -0 "$TZ_MILTER_PID"
tz_gen simple "$TZ_TMP/m3.eml" 3
tz_assert "bad SIGHUP: still accepting" tz_send_expect 250 "$TZ_TMP/m3.eml"
tz_wait_count 3
tz_assert "bad SIGHUP: old config (prefix) still used" tz_check "$(tz_captured | tail -1)" --header "Subject: [外部]"

# --- SIGTERM
tz_assert "SIGTERM: exits" tz_milter_stop
tz_assert "SIGTERM: logged" tz_log_grep -q 'stopped \(0 connections left\)'
tz_done
