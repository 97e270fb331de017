#!/usr/bin/env bash
# test_deb_lifecycle.sh — issue 13.5: the .deb built from the committed
# tree is installed, its packaged milter started, and a Postfix (a private
# instance on our ports, smtpd_milters = the package's socket inside
# /var/spool/postfix) sends mail through it; the system Postfix config
# names the milter too, as an admin's would. Then `apt-get remove` and
# `apt-get purge`: the milter is stopped (no process left with its files
# gone), the admin is told on both that Postfix still names the milter and
# what to do, and mail is never accepted unconverted — before: converted;
# after remove and after purge: 4xx and nothing new at the sink.
# Everything that touches the system (dpkg, /etc/postfix) runs under
# flock /tmp/textize-system.lock. Ports 3030-3032 by default.
set -u
. "$(dirname "$0")/lib.sh"
TZ_PORT_BASE=${TZ_PORT_BASE:-3030}
TZ_MILTER_SOCKET=local:/var/spool/postfix/textize/textize.sock
tz_init deb_lifecycle
top=$(cd "$TZ_IT_DIR/../.." && pwd)

for p in dpkg-buildpackage apt-get start-stop-daemon flock; do
	command -v "$p" >/dev/null || { tz_skip "$p not installed"; tz_done; }
done
# Hold the system lock for the whole test: install, system Postfix config,
# remove and purge must not interleave with another session's.
exec 9>/tmp/textize-system.lock
flock 9
if dpkg-query -W -f='${Status}' textize 2>/dev/null | grep -q "installed"; then
	tz_skip "a textize package is installed already; not touching it"
	tz_done
fi

main_cf=/etc/postfix/main.cf
had_main_cf=0
[ -f "$main_cf" ] && { had_main_cf=1; cp -p "$main_cf" "$TZ_TMP/main.cf.orig"; }
# The quarantine is evidence and survives a purge; what this test's mail
# left there goes afterwards, if the directory was not there before.
had_spool=0
[ -e /var/spool/textize ] && had_spool=1
restore() {
	if [ "$had_main_cf" = 1 ]; then cp -p "$TZ_TMP/main.cf.orig" "$main_cf"; else rm -f "$main_cf"; fi
	if dpkg-query -W -f='${Status}' textize 2>/dev/null | grep -q "installed\|config-files"; then
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -q textize >/dev/null 2>&1
	fi
	pkill_milter
	[ "$had_spool" = 1 ] || rm -rf /var/spool/textize
}
pkill_milter() {   # only the packaged binary, by its path
	start-stop-daemon --stop --quiet --retry TERM/10/KILL/2 --exec /usr/sbin/textize-milter 2>/dev/null
	return 0
}
trap 'restore; tz_cleanup' EXIT

# ---- the package ----
# TZ_DEB: a package scripts/test-deb already built from the committed tree
# (scripts/test passes it), so this test does not spend another build;
# without it the test builds one itself, within tests/integration/run's
# timeout.
deb=${TZ_DEB:-}
if [ -n "$deb" ] && [ ! -f "$deb" ]; then
	tz_fail "TZ_DEB names a package: $deb is not there"
	tz_done
fi
if [ -z "$deb" ]; then
	mkdir -p "$TZ_TMP/src"
	git -C "$top" archive HEAD | tar -x -C "$TZ_TMP/src"
	if (cd "$TZ_TMP/src" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" nice \
	    dpkg-buildpackage -us -uc -b) >"$TZ_TMP/build.log" 2>&1; then
		tz_pass "dpkg-buildpackage from the committed tree"
	else
		tail -30 "$TZ_TMP/build.log"
		tz_fail "dpkg-buildpackage from the committed tree"
		tz_done
	fi
	deb=$(ls "$TZ_TMP"/textize_*.deb | head -1)
fi
tz_assert "apt-get install the .deb" sh -c \
	"DEBIAN_FRONTEND=noninteractive apt-get install -y -q '$deb' >'$TZ_TMP/install.log' 2>&1"
tz_assert "install says where removal starts (README: Removing)" grep -q "Removing" "$TZ_TMP/install.log"

# ---- the packaged milter, a Postfix that uses it, the system config naming it ----
setsid -f /usr/sbin/textize-milter -f -c /etc/textize/textize.conf >"$TZ_TMP/pkg-milter.log" 2>&1
for _ in $(seq 100); do [ -S /var/spool/postfix/textize/textize.sock ] && break; sleep 0.1; done
tz_assert "the packaged milter listens in Postfix's chroot" test -S /var/spool/postfix/textize/textize.sock
MPID=$(pidof /usr/sbin/textize-milter)
tz_assert "the packaged milter runs (pid ${MPID:-none})" test -n "$MPID"
# The system Postfix names the milter, as the README tells an admin to.
[ -f "$main_cf" ] || touch "$main_cf"
postconf -e 'smtpd_milters = unix:/textize/textize.sock' 'milter_default_action = tempfail'
tz_assert "the system Postfix config names the milter" sh -c "postconf -h smtpd_milters | grep -q textize"
tz_sink_start || { tz_fail "smtp-sink did not start"; tz_done; }
tz_postfix_start || { tz_fail "postfix did not start"; tz_done; }

tz_gen html-attach "$TZ_TMP/m1.eml"
tz_assert "installed: mail accepted (250)" tz_send_expect 250 "$TZ_TMP/m1.eml"
tz_assert "installed: delivered" tz_wait_count 1
tz_assert "installed: delivered converted (text only, X-Textize)" \
	tz_check "$(tz_captured | tail -1)" --text-only --header "X-Textize: id="

# ---- remove ----
DEBIAN_FRONTEND=noninteractive apt-get remove -y -q textize >"$TZ_TMP/remove.log" 2>&1
tz_assert "apt-get remove succeeds" grep -q "Removing textize" "$TZ_TMP/remove.log"
# gone: no such process, or a zombie waiting for an init that reaps
# slowly (setsid -f made PID 1 its parent); five seconds at most.
gone() {
	local p
	for _ in $(seq 50); do
		p=0
		for pid in $MPID; do
			kill -0 "$pid" 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null && p=1
		done
		[ "$p" -eq 0 ] && return 0
		sleep 0.1
	done
	return 1
}
tz_assert "remove stopped the milter (no process left behind)" gone
tz_assert "remove tells the admin Postfix still names the milter" \
	grep -q "textize: Postfix still names the textize milter" "$TZ_TMP/remove.log"
tz_assert "remove says what to do (postconf -e smtpd_milters, postfix reload)" \
	sh -c "grep -q \"postconf -e 'smtpd_milters ='\" '$TZ_TMP/remove.log' && grep -q 'postfix reload' '$TZ_TMP/remove.log'"
tz_gen html-attach "$TZ_TMP/m2.eml"
tz_assert "removed: mail is answered 4xx, not accepted" tz_send_expect 451 "$TZ_TMP/m2.eml"
sleep 2
tz_assert "removed: nothing new reached the recipient" test "$(tz_captured_count)" -eq 1

# ---- purge ----
DEBIAN_FRONTEND=noninteractive apt-get purge -y -q textize >"$TZ_TMP/purge.log" 2>&1
tz_assert "apt-get purge succeeds" grep -q "Purging configuration files for textize" "$TZ_TMP/purge.log"
tz_assert "purge tells the admin again" grep -q "textize: purged, but Postfix still names the textize milter" "$TZ_TMP/purge.log"
tz_assert "purged: mail is answered 4xx, not accepted" tz_send_expect 451 "$TZ_TMP/m2.eml"
sleep 2
tz_assert "purged: nothing new reached the recipient" test "$(tz_captured_count)" -eq 1
# m1's entry (an attachment was stripped) is evidence and stays; so do the
# 参照番号 that name it (the segment store keeps entries in store/*.tzs)
tz_assert "purged: the stored entry and its 参照番号 stay" \
	bash -c 'ls /var/spool/textize/quarantine/store/*.tzs >/dev/null 2>&1 && test -d /var/spool/textize/quarantine/refs'
tz_done
