# tests/integration/lib-sendmail.sh — a private Sendmail for the tests, next
# to the installed Postfix. Debian's sendmail-bin conflicts with postfix
# (both are the system MTA), so the packages are only downloaded and
# unpacked (dpkg -x), never installed; the daemon runs from the scratch
# tree with a .cf built by m4 from the unpacked sendmail-cf. Source it after
# lib.sh and tz_init. The recipe and its reasons: docs/sendmail.md.
#
# Environment (all optional):
#   TZ_SM_CACHE   where the .debs are kept between runs
#                 (default /var/cache/textize-test/sendmail); filled with
#                 `apt-get download` when a package is missing there
#   TZ_SM_PORT    Sendmail's SMTP port (default $TZ_SMTP_PORT, so tz_send
#                 talks to Sendmail)
#
# Functions:
#   tz_sm_prepare          .debs -> $TZ_SM_ROOT (unpacked), $TZ_SM_VERSION;
#                          1 = the packages cannot be downloaded (the caller
#                          skips), 2 = anything else (a failure); the reason
#                          in $TZ_SM_WHY
#   tz_sm_readme_mc        the .mc lines between the sendmail-mc markers of
#                          README.md (the documented snippet, verbatim)
#   tz_sm_mc [LINES]       write $TZ_SM/sendmail.mc: test settings (port,
#                          queue, smart host = the sink), the README
#                          snippet with its socket pointed at this milter,
#                          then LINES; and submit.mc (the MSP that
#                          `sendmail -C submit.cf` / ReleaseCommand uses)
#   tz_sm_start            build the .cf files with m4, start `sendmail -bD`
#   tz_sm_stop             stop it and wait
#   tz_sm_bin              path of the unpacked sendmail binary
#   tz_sm_run ARGS         run the unpacked sendmail under TZ_SM_HOSTNAME
#   tz_sm_queue_count      messages in the MTA queue (qf files; a message
#                          held by the milter is an hf file instead)

TZ_SM_CACHE=${TZ_SM_CACHE:-/var/cache/textize-test/sendmail}
TZ_SM_PKGS=(sendmail-bin sendmail-cf sendmail-base m4)
TZ_SM_PORT=${TZ_SM_PORT:-$TZ_SMTP_PORT}
TZ_SM=$TZ_TMP/sendmail
TZ_SM_ROOT=$TZ_SM/root
TZ_SM_PID=
# Sendmail insists on a fully qualified name of its own: with the short
# host name of these machines (no domain, not in DNS) it sleeps 60 s and
# retries. It runs in a UTS namespace with this name instead.
TZ_SM_HOSTNAME=sm.tz-test.example

tz_sm_bin() { echo "$TZ_SM_ROOT/usr/libexec/sendmail/sendmail"; }

tz_sm_prepare() {
	local p missing=()
	mkdir -p "$TZ_SM_CACHE" "$TZ_SM_ROOT" || { TZ_SM_WHY="cannot create $TZ_SM_CACHE"; return 2; }
	for p in "${TZ_SM_PKGS[@]}"; do
		# a download cut short leaves a file dpkg-deb cannot read: fetch again
		for f in "$TZ_SM_CACHE/${p}_"*.deb; do
			[ -e "$f" ] && ! dpkg-deb --info "$f" >/dev/null 2>&1 && rm -f "$f"
		done
		ls "$TZ_SM_CACHE/${p}_"*.deb >/dev/null 2>&1 || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		# As root apt-get warns that _apt cannot write here and downloads
		# unsandboxed; harmless.
		if ! (cd "$TZ_SM_CACHE" && apt-get download -q "${missing[@]}") >"$TZ_TMP/apt-download.log" 2>&1; then
			TZ_SM_WHY="apt-get download ${missing[*]} failed: $( (grep '^E:' "$TZ_TMP/apt-download.log" || tail -1 "$TZ_TMP/apt-download.log") | head -1)"
			for p in "${missing[@]}"; do rm -f "$TZ_SM_CACHE/${p}_"*.deb; done
			return 1
		fi
	fi
	for p in "${TZ_SM_PKGS[@]}"; do
		# the newest one if several versions piled up in the cache
		dpkg -x "$(ls -v "$TZ_SM_CACHE/${p}_"*.deb | tail -1)" "$TZ_SM_ROOT" ||
			{ TZ_SM_WHY="dpkg -x $p failed"; return 2; }
	done
	if ! ldconfig -p | grep -q 'libwrap\.so\.0'; then
		TZ_SM_WHY="libwrap0 is not installed (scripts/deps installs it)"
		return 2
	fi
	command -v unshare >/dev/null || { TZ_SM_WHY="unshare (util-linux) missing"; return 2; }
	TZ_SM_VERSION=$(tz_sm_run -d0.1 -bt </dev/null 2>/dev/null)
	if ! grep -q 'MILTER' <<<"$TZ_SM_VERSION"; then
		TZ_SM_WHY="the unpacked sendmail does not run or lacks MILTER"
		return 2
	fi
	TZ_SM_VERSION=$(sed -n 's/^Version //p' <<<"$TZ_SM_VERSION")
	return 0
}

tz_sm_readme_mc() {
	sed -n '/<!-- sendmail-mc -->/,/<!-- \/sendmail-mc -->/p' "$TZ_TOP/README.md" |
		grep -vE '^(<!--|```)'
}

tz_sm_mc() {
	local extra=${1:-} snippet sock
	mkdir -p "$TZ_SM/mqueue" "$TZ_SM/clientmqueue"
	chmod 700 "$TZ_SM/mqueue"
	# the MSP refuses to run as root (RunAsUser); daemon owns its queue
	chown daemon:daemon "$TZ_SM/clientmqueue"
	chmod 770 "$TZ_SM/clientmqueue"
	case $TZ_MILTER_SOCKET in
	local:*|unix:*) sock="unix:${TZ_MILTER_SOCKET#*:}" ;;
	*) sock="inet:$TZ_MILTER_PORT@127.0.0.1" ;;
	esac
	snippet=$(tz_sm_readme_mc)
	if [ -z "$snippet" ] || ! grep -q 'INPUT_MAIL_FILTER' <<<"$snippet"; then
		echo "  README.md has no sendmail-mc snippet" >&2
		return 1
	fi
	# The documented socket is the packaged one; point it at this milter.
	snippet=$(sed -E "s#S=(unix|local|inet):[^,']*#S=$sock#" <<<"$snippet")
	cat >"$TZ_SM/sendmail.mc" <<EOF
divert(-1)
# private test MTA written by tests/integration/lib-sendmail.sh
divert(0)dnl
VERSIONID(\`textize integration test')dnl
OSTYPE(\`linux')dnl
dnl a milter socket under /tmp is "unsafe: World writable directory" (and
dnl the filter unusable) unless the sticky bit is trusted
define(\`confDONT_BLAME_SENDMAIL', \`TrustStickyBit')dnl
define(\`QUEUE_DIR', \`$TZ_SM/mqueue')dnl
define(\`confPID_FILE', \`$TZ_SM/sendmail.pid')dnl
define(\`STATUS_FILE', \`$TZ_SM/statistics')dnl
define(\`ALIAS_FILE', \`')dnl
define(\`HELP_FILE', \`')dnl
define(\`confCW_FILE', \`')dnl
define(\`confHOST_STATUS_DIRECTORY', \`')dnl
define(\`confDEF_USER_ID', \`daemon:daemon')dnl
define(\`confDOMAIN_NAME', \`$TZ_SM_HOSTNAME')dnl
define(\`confTO_CONNECT', \`5s')dnl
define(\`confTO_QUEUERETURN', \`1h')dnl
define(\`confDELIVERY_MODE', \`background')dnl
dnl Sendmail only queues mail above a load average of 8 per CPU (and
dnl refuses it above 12): on a busy 2-core test machine it then delivered
dnl a test's messages in one later batch, out of the order checked.
define(\`confQUEUE_LA', \`1000')dnl
define(\`confREFUSE_LA', \`1000')dnl
dnl everything goes to the capture sink; "relay:" keeps Sendmail from
dnl taking [127.0.0.1] (one of its own addresses, class w) for itself
define(\`SMART_HOST', \`relay:[127.0.0.1]')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h $TZ_SINK_PORT')dnl
dnl loopback clients may relay, as with Postfix's mynetworks = 127.0.0.0/8:
dnl the relay rule under test is textize's
FEATURE(\`promiscuous_relay')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`no_default_msa')dnl
DAEMON_OPTIONS(\`Port=$TZ_SM_PORT, Addr=127.0.0.1, Name=MTA')dnl
dnl ---- README.md sendmail-mc snippet ----
$snippet
dnl ---- test overrides ----
$extra
MAILER(\`smtp')dnl
EOF
	# The MSP: `sendmail -C submit.cf` hands mail to the MTA over SMTP, so
	# local submissions (ReleaseCommand) go through the milter like any.
	cat >"$TZ_SM/submit.mc" <<EOF
divert(0)dnl
VERSIONID(\`textize integration test MSP')dnl
OSTYPE(\`linux')dnl
define(\`MSP_QUEUE_DIR', \`$TZ_SM/clientmqueue')dnl
define(\`confQUEUE_LA', \`1000')dnl
define(\`confREFUSE_LA', \`1000')dnl
define(\`confPID_FILE', \`$TZ_SM/submit.pid')dnl
define(\`STATUS_FILE', \`$TZ_SM/submit.stat')dnl
define(\`confDOMAIN_NAME', \`$TZ_SM_HOSTNAME')dnl
define(\`confTO_CONNECT', \`5s')dnl
define(\`confDELIVERY_MODE', \`interactive')dnl
define(\`confRUN_AS_USER', \`daemon:daemon')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h $TZ_SM_PORT')dnl
FEATURE(\`msp', \`[127.0.0.1]')dnl
EOF
}

tz_sm_m4() {
	"$TZ_SM_ROOT/usr/bin/m4" -D_CF_DIR_="$TZ_SM_ROOT/usr/share/sendmail/cf/" \
		"$TZ_SM_ROOT/usr/share/sendmail/cf/m4/cf.m4" "$1"
}

# Run the unpacked sendmail under the test host name (see TZ_SM_HOSTNAME).
tz_sm_run() {
	unshare --uts sh -c 'hostname "$0" && exec "$@"' "$TZ_SM_HOSTNAME" "$(tz_sm_bin)" "$@"
}

tz_sm_start() {
	[ -f "$TZ_SM/sendmail.mc" ] || tz_sm_mc || return 1
	tz_sm_m4 "$TZ_SM/sendmail.mc" >"$TZ_SM/sendmail.cf" 2>"$TZ_SM/m4.err" ||
		{ cat "$TZ_SM/m4.err" >&2; return 1; }
	tz_sm_m4 "$TZ_SM/submit.mc" >"$TZ_SM/submit.cf" 2>>"$TZ_SM/m4.err" ||
		{ cat "$TZ_SM/m4.err" >&2; return 1; }
	# No syslog socket here: -bD keeps it in the foreground, errors on stderr.
	# a simple command, not tz_sm_run: $! must be sendmail itself (unshare
	# and sh exec into it), not a subshell that a kill would leave behind
	unshare --uts sh -c 'hostname "$0" && exec "$@"' "$TZ_SM_HOSTNAME" "$(tz_sm_bin)" \
		-bD -C "$TZ_SM/sendmail.cf" >>"$TZ_SM/sendmail.out" 2>&1 &
	TZ_SM_PID=$!
	TZ_PIDS+=("$TZ_SM_PID")
	tz_wait_port "$TZ_SM_PORT" 15 && return 0
	cat "$TZ_SM/sendmail.out" >&2
	return 1
}

tz_sm_stop() {
	[ -n "$TZ_SM_PID" ] || return 0
	kill -TERM "$TZ_SM_PID" 2>/dev/null
	for _ in $(seq 100); do
		kill -0 "$TZ_SM_PID" 2>/dev/null || break
		sleep 0.1
	done
	TZ_SM_PID=
}

tz_sm_queue_count() { find "$TZ_SM/mqueue" -name 'qf*' -type f 2>/dev/null | wc -l; }
