# tests/integration/lib.sh — harness for end-to-end tests: a private Postfix
# instance on loopback wired to textize-milter, relaying to an smtp-sink
# that writes one file per message. Source it from a test_*.sh (bash, run as
# root); everything it starts is stopped by an EXIT trap.
#
# Environment (all optional):
#   TZ_BUILD          build dir holding milter/textize-milter (default _build/werror)
#   TZ_PORT_BASE      first of 3 loopback ports: SMTP=base, sink=base+1,
#                     milter=base+2 (default 2525; the daemon issue uses
#                     2525-2599, pick your own range elsewhere)
#   TZ_SMTP_PORT, TZ_SINK_PORT, TZ_MILTER_PORT   override one port
#   TZ_KEEP=1         keep the temp dir after the test (printed at exit)
#   TZ_VERBOSE=1      print every helper step
#
# Functions:
#   tz_init NAME           temp dir $TZ_TMP, ports, EXIT trap; call first
#   tz_milter_conf [LINES] write $TZ_TMP/textize.conf (test defaults + LINES,
#                          e.g. $'InternalNetworks 127.0.0.2\nOnError reject')
#   tz_milter_start        start textize-milter -f on $TZ_MILTER_SOCKET (inet
#                          loopback; TZ_MILTER_SOCKET=local:/path for a unix
#                          socket), wait until it listens; log in $TZ_MILTER_LOG
#   tz_milter_stop         SIGTERM, wait for exit (fails the test if it hangs)
#   tz_milter_pid          print the milter's pid
#   tz_sink_start          start smtp-sink on $TZ_SINK_PORT, files in $TZ_SINK_DIR
#   tz_sink_launch PORT [DIR] [BACKLOG]  any smtp-sink: one file per message
#                          in DIR, or discard without DIR (log $TZ_TMP/sink-PORT.log)
#   tz_postfix_start [main.cf lines]  create and start the Postfix instance
#                          in $TZ_PF (config dir); extra lines override
#   tz_postfix_stop        stop it
#   tz_postfix_instance DIR SMTP_PORT RELAY_PORT MILTER [main.cf lines]
#                          any private instance (several may run side by side,
#                          as bench/lib-bench.sh does); MILTER a Postfix milter
#                          address or ""; tz_postfix_instance_stop DIR
#   tz_stop_all            stop every instance and process started (the EXIT
#                          trap; bench/lib-bench.sh's too)
#   tz_postqueue ARGS      postqueue -c $TZ_PF ARGS (e.g. -f, -p)
#   tz_queue_count         number of messages in the instance's queue
#   tz_stack_start [milter conf lines]   sink + milter + postfix in one go
#   tz_send FILE [swaks args...]   send FILE (a whole message) to the SMTP
#                          port; from/to default to sender@example.com /
#                          user@city.example.lg.jp; returns swaks' status,
#                          transcript in $TZ_TMP/swaks.last
#   tz_send_expect CODE FILE [args]  send and check the final reply code
#   tz_wait_count N [SECONDS]  wait until the sink holds N messages (default 30 s)
#   tz_captured            list the captured files, oldest first
#   tz_captured_count      number of captured messages
#   tz_captured_body FILE  the captured message without smtp-sink's X- lines
#   tz_check FILE ARGS     python3 mailcheck.py on a captured message:
#                          --text-only --grep S --no-grep S --header "Name: v"
#                          --no-header Name (see mailcheck.py)
#   tz_gen KIND OUT        make a fixture with gen-mail.py (html-attach,
#                          iso2022jp, nested, big SIZE_MB, simple N)
#   tz_pass MSG / tz_fail MSG / tz_skip MSG   record one result
#   tz_assert "MSG" CMD... run CMD, pass or fail with MSG
#   tz_done                print "N passed, N failed, N skipped" and exit
#                          (the runner sums these lines)
#   tz_mkmsg FILE "H: v"...  a small text/plain message with those headers
#   tz_expect CODE ECODE MSG FILE [swaks args]  send, pass when the final
#                          reply has both codes
#   tz_reload [LINES]      rewrite the config (tz_milter_conf LINES), SIGHUP,
#                          wait for the reload line
#   tz_netns_reexec PREFIX SCRIPT  run SCRIPT --inside a network namespace
#                          of its own (the SPF tests), before tz_init
#   tz_log_grep PATTERN    grep the milter log
#   tz_rss_kb PID          resident set size of a process in KiB

TZ_TOP=${TZ_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
TZ_BUILD=${TZ_BUILD:-$TZ_TOP/_build/werror}
TZ_MILTER=${TZ_MILTER:-$TZ_BUILD/milter/textize-milter}
TZ_IT_DIR="$TZ_TOP/tests/integration"
TZ_PASSED=0 TZ_FAILED=0 TZ_SKIPPED=0
TZ_PIDS=()
TZ_PF_DIRS=()
TZ_PF_STARTED=

tz_say() { echo "  $*"; }
tz_debug() { [ -n "${TZ_VERBOSE:-}" ] && echo "  + $*" >&2; return 0; }

tz_init() {
	local name=$1
	TZ_NAME=$name
	TZ_PORT_BASE=${TZ_PORT_BASE:-2525}
	TZ_SMTP_PORT=${TZ_SMTP_PORT:-$TZ_PORT_BASE}
	TZ_SINK_PORT=${TZ_SINK_PORT:-$((TZ_PORT_BASE + 1))}
	TZ_MILTER_PORT=${TZ_MILTER_PORT:-$((TZ_PORT_BASE + 2))}
	TZ_TMP=$(mktemp -d "/tmp/tz-it-$name.XXXXXX")
	chmod 755 "$TZ_TMP"
	TZ_SINK_DIR=$TZ_TMP/sink
	TZ_PF=$TZ_TMP/postfix
	TZ_MILTER_LOG=$TZ_TMP/milter.log
	TZ_MILTER_SOCKET=${TZ_MILTER_SOCKET:-inet:$TZ_MILTER_PORT@127.0.0.1}
	TZ_QUARANTINE=$TZ_TMP/quarantine
	trap tz_cleanup EXIT
	trap 'exit 130' INT TERM
	echo "== $name (ports smtp $TZ_SMTP_PORT, sink $TZ_SINK_PORT, milter $TZ_MILTER_PORT; $TZ_TMP)"
	if [ "$(id -u)" -ne 0 ]; then
		tz_skip "integration tests need root (private Postfix instance)"
		tz_done
	fi
	for p in postfix smtp-sink swaks python3; do
		if ! command -v "$p" >/dev/null && [ ! -x "/usr/sbin/$p" ]; then
			tz_skip "$p not installed (scripts/deps installs it)"
			tz_done
		fi
	done
	if [ ! -x "$TZ_MILTER" ]; then
		tz_fail "no textize-milter at $TZ_MILTER (set TZ_BUILD)"
		tz_done
	fi
	# A port still held by an earlier run would make every step fail oddly.
	for p in $TZ_SMTP_PORT $TZ_SINK_PORT $TZ_MILTER_PORT; do
		if tz_port_open "$p"; then
			tz_fail "port $p on 127.0.0.1 is already in use (set TZ_PORT_BASE)"
			tz_done
		fi
	done
}

tz_stop_all() {
	local d
	for d in "${TZ_PF_DIRS[@]}"; do
		tz_postfix_instance_stop "$d"
	done
	TZ_PF_STARTED=
	for pid in "${TZ_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${TZ_PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null
	done
	TZ_PIDS=()
}

tz_cleanup() {
	local rc=$?
	tz_stop_all
	if [ -n "${TZ_KEEP:-}" ] || [ "$TZ_FAILED" -gt 0 ]; then
		echo "  (kept $TZ_TMP)"
	else
		rm -rf "$TZ_TMP"
	fi
	exit $rc
}

tz_port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

tz_wait_port() {
	local port=$1 secs=${2:-10}
	for _ in $(seq $((secs * 10))); do
		tz_port_open "$port" && return 0
		sleep 0.1
	done
	return 1
}

# ------------------------------------------------------------ results

tz_pass() { TZ_PASSED=$((TZ_PASSED + 1)); echo "  PASS: $*"; }
tz_fail() { TZ_FAILED=$((TZ_FAILED + 1)); echo "  FAIL: $*"; }
tz_skip() { TZ_SKIPPED=$((TZ_SKIPPED + 1)); echo "  SKIP: $*"; }

tz_assert() {
	local msg=$1; shift
	if "$@" >"$TZ_TMP/assert.out" 2>&1; then
		tz_pass "$msg"
	else
		tz_fail "$msg"
		sed 's/^/    | /' "$TZ_TMP/assert.out" | head -20
	fi
}

tz_done() {
	echo "$TZ_PASSED passed, $TZ_FAILED failed, $TZ_SKIPPED skipped"
	[ "$TZ_FAILED" -eq 0 ]
	exit $?
}

# ------------------------------------------------------------ milter

# As root (CI), the config says "UserID root": textize-milter refuses to
# keep root without being told, -f or not. TZ_MILTER_EXTRA: lines added to
# every test's config (TZ_MILTER_EXTRA="StoreFormat segment" runs a test on
# the segment store).
tz_milter_conf() {
	local extra=${1:-}
	mkdir -p "$TZ_TMP/spool"
	cat >"$TZ_TMP/textize.conf" <<EOF
# written by tests/integration/lib.sh
Socket $TZ_MILTER_SOCKET
SocketMode 0666
SpoolDir $TZ_TMP/spool
QuarantineDir $TZ_QUARANTINE
ReportDatabase $TZ_TMP/report.db
AuditLog $TZ_TMP/audit.log
StateDir $TZ_TMP/state
LogLevel debug
$([ "$(id -u)" -ne 0 ] || echo "UserID root")
$extra
${TZ_MILTER_EXTRA:-}
EOF
}

tz_milter_start() {
	[ -f "$TZ_TMP/textize.conf" ] || tz_milter_conf
	"$TZ_MILTER" -f -c "$TZ_TMP/textize.conf" >>"$TZ_MILTER_LOG" 2>&1 &
	TZ_MILTER_PID=$!
	TZ_PIDS+=("$TZ_MILTER_PID")
	tz_debug "milter pid $TZ_MILTER_PID"
	for _ in $(seq 100); do
		if ! kill -0 "$TZ_MILTER_PID" 2>/dev/null; then
			echo "  textize-milter exited at start:" >&2
			tail -5 "$TZ_MILTER_LOG" >&2
			return 1
		fi
		case $TZ_MILTER_SOCKET in
		local:*|unix:*) [ -S "${TZ_MILTER_SOCKET#*:}" ] && return 0 ;;
		*) tz_port_open "$TZ_MILTER_PORT" && return 0 ;;
		esac
		sleep 0.1
	done
	echo "  textize-milter did not start listening" >&2
	return 1
}

tz_milter_pid() { echo "$TZ_MILTER_PID"; }

# How many entries the quarantine holds, whatever StoreFormat wrote them
# (directories under entries/, records in store/): `textizectl queue
# reindex` walks the store itself, both layouts, and says how many it
# indexed (it also rebuilds the index, which tests may rely on after).
tz_stored_entries() {
	"${TZ_CTL:-$TZ_BUILD/tools/textizectl}" queue -c "$TZ_TMP/textize.conf" reindex 2>/dev/null |
		sed -n 's/^indexed \([0-9]*\) entries.*/\1/p'
}

tz_milter_stop() {
	[ -n "${TZ_MILTER_PID:-}" ] || return 0
	kill -TERM "$TZ_MILTER_PID" 2>/dev/null
	for _ in $(seq 150); do
		kill -0 "$TZ_MILTER_PID" 2>/dev/null || { wait "$TZ_MILTER_PID" 2>/dev/null; TZ_MILTER_PID=; return 0; }
		sleep 0.1
	done
	echo "  textize-milter did not stop within 15 s" >&2
	kill -KILL "$TZ_MILTER_PID" 2>/dev/null
	TZ_MILTER_PID=
	return 1
}

tz_log_grep() { grep -E "$@" "$TZ_MILTER_LOG"; }

tz_rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
tz_hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }

# ------------------------------------------------------------ sink

tz_sink_launch() {
	local port=$1 dir=${2:-} backlog=${3:-100}
	local to=()
	if [ -n "$dir" ]; then
		mkdir -p "$dir"
		chown postfix "$dir"
		to=(-d "$dir/%H%M%S.")
	fi
	/usr/sbin/smtp-sink -u postfix "${to[@]}" "127.0.0.1:$port" "$backlog" \
		>>"$TZ_TMP/sink-$port.log" 2>&1 &
	TZ_PIDS+=($!)
	tz_wait_port "$port" 10
}

tz_sink_start() { tz_sink_launch "$TZ_SINK_PORT" "$TZ_SINK_DIR"; }

tz_captured() { ls -tr "$TZ_SINK_DIR" 2>/dev/null | sed "s|^|$TZ_SINK_DIR/|"; }
tz_captured_count() { ls "$TZ_SINK_DIR" 2>/dev/null | wc -l; }

# smtp-sink writes X-Client-Addr/X-Client-Proto/X-Helo-Args/X-Mail-Args/
# X-Rcpt-Args lines before the message; drop those.
tz_captured_body() {
	awk 'BEGIN{h=1} h && /^X-(Client-[A-Za-z]*|Helo-Args|Mail-Args|Rcpt-Args):/ {next} {h=0; print}' "$1"
}

# smtp-sink creates a capture file at MAIL FROM and writes the message into
# it as it arrives: a file in the directory is complete only once no
# smtp-sink holds it open (a check that read one too early saw a message
# without its body, behind Sendmail on a busy machine).
tz_sink_busy() {
	local p
	for p in $(pgrep -x smtp-sink); do
		ls -l "/proc/$p/fd" 2>/dev/null | grep -qF -- "-> $TZ_SINK_DIR/" && return 0
	done
	return 1
}

tz_wait_count() {
	local n=$1 secs=${2:-30}
	for _ in $(seq $((secs * 10))); do
		[ "$(tz_captured_count)" -ge "$n" ] && ! tz_sink_busy && return 0
		sleep 0.1
	done
	echo "  sink holds $(tz_captured_count) messages, expected $n" >&2
	return 1
}

tz_check() {
	local f=$1; shift
	tz_captured_body "$f" >"$TZ_TMP/check.eml"
	python3 "$TZ_IT_DIR/mailcheck.py" "$TZ_TMP/check.eml" "$@"
}

tz_gen() { python3 "$TZ_IT_DIR/gen-mail.py" "$@"; }

# ------------------------------------------------------------ postfix

tz_postfix_instance() {
	local d=$1 port=$2 relay=$3 milter=$4 extra=${5:-}
	mkdir -p "$d/queue" "$d/data"
	chown postfix "$d/data"
	# the extra lines replace the base lines of the same parameters (a
	# parameter given twice works, but postconf warns on every read)
	TZ_PF_EXTRA=$extra awk '
		BEGIN { extra = ENVIRON["TZ_PF_EXTRA"]; n = split(extra, l, "\n")
			for (i = 1; i <= n; i++) if (l[i] ~ /^[a-z0-9_]+[ \t]*=/) { k = l[i]; sub(/[ \t]*=.*/, "", k); over[k] = 1 } }
		{ k = $0; sub(/[ \t]*=.*/, "", k) }
		!(k in over) { print }
		END { print extra }' >"$d/main.cf" <<EOF
# private instance written by tests/integration/lib.sh
compatibility_level = 3.6
queue_directory = $d/queue
data_directory = $d/data
maillog_file = $d/maillog
maillog_file_prefixes = $d
myhostname = gw.tz-test.example
mydomain = tz-test.example
myorigin = \$myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
relayhost = [127.0.0.1]:$relay
smtp_dns_support_level = disabled
message_size_limit = 60000000
smtpd_milters = $milter
non_smtpd_milters = $milter
milter_default_action = tempfail
milter_protocol = 6
milter_connect_macros = j {daemon_name} v {client_addr} {client_name}
milter_mail_macros = i {auth_type} {auth_authen} {auth_author} {mail_addr}
milter_rcpt_macros = i {rcpt_addr}
milter_end_of_header_macros = i
milter_end_of_data_macros = i
queue_run_delay = 2s
minimal_backoff_time = 2s
maximal_backoff_time = 4s
smtp_connect_timeout = 5s
default_process_limit = 30
EOF
	sed -E -e 's/^(smtp[[:space:]]+inet[[:space:]])/127.0.0.1:'"$port"' inet /' \
		-e 's/^([a-z0-9.:-]+[[:space:]]+(inet|unix|unix-dgram|fifo|pass)[[:space:]]+[-yn][[:space:]]+[-yn][[:space:]]+)[-yn]/\1n/' \
		/usr/share/postfix/master.cf.dist >"$d/master.cf"
	# a message in the instance's log is the only trace of most Postfix errors
	postfix -c "$d" check >>"$d-start.log" 2>&1
	if ! postfix -c "$d" start >>"$d-start.log" 2>&1; then
		cat "$d-start.log" >&2
		return 1
	fi
	TZ_PF_DIRS+=("$d")
	tz_wait_port "$port" 15
}

tz_postfix_instance_stop() {
	local d=$1 keep=() x
	postfix -c "$d" stop >>"$d-start.log" 2>&1
	# master exits asynchronously; wait so the ports are free for the next test
	for _ in $(seq 100); do
		[ -f "$d/queue/pid/master.pid" ] || break
		kill -0 "$(tr -d ' ' <"$d/queue/pid/master.pid")" 2>/dev/null || break
		sleep 0.1
	done
	for x in "${TZ_PF_DIRS[@]}"; do
		[ "$x" = "$d" ] || keep+=("$x")
	done
	TZ_PF_DIRS=("${keep[@]}")
}

# The test's instance: $TZ_PF ($TZ_TMP/postfix, so its start log is
# $TZ_TMP/postfix-start.log), relaying to the sink, through the milter.
tz_postfix_start() {
	local milter_addr
	case $TZ_MILTER_SOCKET in
	local:*|unix:*) milter_addr="unix:${TZ_MILTER_SOCKET#*:}" ;;
	*) milter_addr="inet:127.0.0.1:$TZ_MILTER_PORT" ;;
	esac
	tz_postfix_instance "$TZ_PF" "$TZ_SMTP_PORT" "$TZ_SINK_PORT" "$milter_addr" "${1:-}" || return 1
	TZ_PF_STARTED=1
}

tz_postfix_stop() {
	tz_postfix_instance_stop "$TZ_PF"
	TZ_PF_STARTED=
}

tz_postqueue() { postqueue -c "$TZ_PF" "$@"; }

tz_queue_count() {
	find "$TZ_PF/queue/incoming" "$TZ_PF/queue/active" "$TZ_PF/queue/deferred" \
		"$TZ_PF/queue/hold" "$TZ_PF/queue/maildrop" -type f 2>/dev/null | wc -l
}

tz_stack_start() {
	tz_sink_start || { tz_fail "smtp-sink did not start"; tz_done; }
	tz_milter_conf "${1:-}"
	tz_milter_start || { tz_fail "textize-milter did not start"; tz_done; }
	tz_postfix_start || { tz_fail "postfix did not start"; tz_done; }
}

# ------------------------------------------------------------ sending

tz_send() {
	local file=$1; shift
	swaks --server "127.0.0.1:$TZ_SMTP_PORT" --from "${TZ_FROM:-sender@example.com}" \
		--to "${TZ_TO:-user@city.example.lg.jp}" --data "$file" --timeout 120 "$@" \
		>"$TZ_TMP/swaks.last" 2>&1
}

# The code of the last server reply before QUIT (the end of DATA, or the
# command that failed).
tz_last_reply() {
	grep -E '^<[-~*]+ +[0-9]{3}[ -]' "$TZ_TMP/swaks.last" | grep -vE '^<[-~*]+ +221[ -]' |
		tail -1 | sed -E 's/^<[-~*]+ +([0-9]{3}).*/\1/'
}

tz_send_expect() {
	local code=$1; shift
	tz_send "$@"
	local got
	got=$(tz_last_reply)
	if [ "$got" != "$code" ]; then
		echo "expected $code, got ${got:-nothing}:" >&2
		tail -8 "$TZ_TMP/swaks.last" >&2
		return 1
	fi
}

# ------------------------------------------------------------ policy tests

# tz_mkmsg FILE "Header: v" ... — a small text/plain message with those
# header lines (the policy rules read headers, not bodies).
tz_mkmsg() {
	local f=$1; shift
	{
		for h in "$@"; do printf '%s\r\n' "$h"; done
		printf 'Subject: policy test\r\nDate: Tue, 24 Nov 2026 09:00:00 +0900\r\n'
		printf 'Message-ID: <%s@tz-test.example>\r\nMIME-Version: 1.0\r\n' "$RANDOM$RANDOM"
		printf 'Content-Type: text/plain; charset=us-ascii\r\n\r\nHello.\r\n'
	} >"$f"
}

# tz_expect CODE ECODE MSG FILE [swaks args] — send and check both codes.
tz_expect() {
	local code=$1 ecode=$2 msg=$3; shift 3
	if tz_send_expect "$code" "$@" && grep -qE "^<[-~*]+ +$code[ -]$ecode" "$TZ_TMP/swaks.last"; then
		tz_pass "$msg: $code $ecode"
	else
		tz_fail "$msg: expected $code $ecode"
		grep -E '^<[-~*]+ +[245][0-9][0-9]' "$TZ_TMP/swaks.last" | tail -3 | sed 's/^/    | /'
	fi
}

# tz_trace_case NAME SPF [swaks args] — SPF yes where SPF puts its fields on
# top of the header (our Authentication-Results is then delivered), no where
# it is off (SPFCheck no: none is). A message whose first Received field carries a control byte
# (header hygiene changes it by its index), a clean second one, a forged
# Authentication-Results of ours (the policy deletes it) and a foreign one
# with a control byte (hygiene deletes it): the MTA must deliver its own
# Received first and as it wrote it ("with ESMTP id"), then the sender's
# two, the first cleaned in place; no Authentication-Results but our new
# one; no control byte (tz_hdrplan.h: one plan for the policy's edits and the
# conversion's, deletions of a name from the highest index down).
tz_trace_case() {
	local name=$1 spf=$2 n f rcv ar; shift 2
	tz_mkmsg "$TZ_TMP/trace.eml" \
		"Received: from evil$(printf '\001')host by relay.pass.example; Tue, 24 Nov 2026 08:59:00 +0900" \
		"Received: from origin.pass.example by relay.pass.example; Tue, 24 Nov 2026 08:58:00 +0900" \
		"Authentication-Results: gw.tz-test.example; spf=pass smtp.mailfrom=forged@pass.example" \
		"Authentication-Results: other.example; dkim=pass $(printf '\001')header.d=pass.example" \
		"From: <a@pass.example>" "To: <user@city.example.lg.jp>"
	n=$(tz_captured_count)
	if ! tz_send_expect 250 "$TZ_TMP/trace.eml" "$@"; then
		tz_fail "$name: not accepted"
		return
	fi
	tz_wait_count $((n + 1)) || { tz_fail "$name: not delivered"; return; }
	f=$(tz_captured | tail -1)
	# one line per Received field, unfolded; not smtp-sink's own
	rcv=$(tz_captured_body "$f" | tr -d '\r' | awk '/^$/ {exit}
		/^[ \t]/ {if (r) {sub(/^[ \t]+/, ""); printf " %s", $0}; next}
		{if (r) print ""; r = tolower($0) ~ /^received:/; if (r) printf "%s", $0}
		END {if (r) print ""}' | grep -v ' by smtp-sink (smtp-sink) with ')
	tz_assert "$name: three Received fields delivered" test "$(printf '%s\n' "$rcv" | grep -c .)" -eq 3
	tz_assert "$name: the MTA's own Received first, as it wrote it" \
		grep -qE '^Received: from .* with E?SMTP[A-Z]* id ' <<<"$(printf '%s\n' "$rcv" | sed -n 1p)"
	tz_assert "$name: the sender's dirty Received cleaned in place" \
		grep -q '^Received: from evil host by relay.pass.example;' <<<"$(printf '%s\n' "$rcv" | sed -n 2p)"
	tz_assert "$name: the sender's clean Received kept" \
		grep -q '^Received: from origin.pass.example by relay' <<<"$(printf '%s\n' "$rcv" | sed -n 3p)"
	ar=$(tz_captured_body "$f" | grep -i '^Authentication-Results:')
	if [ "$spf" = yes ]; then
		tz_assert "$name: one Authentication-Results delivered, ours" \
			test "$ar" = "$(printf '%s\n' "$ar" | grep '^Authentication-Results: gw.tz-test.example; spf=pass smtp.mailfrom=a@pass.example')"
		tz_assert "$name: ours is there" test -n "$ar"
	else
		tz_assert "$name: no Authentication-Results delivered" test -z "$ar"
	fi
	tz_assert "$name: no control byte delivered" bash -c '! LC_ALL=C grep -q "$(printf "\001")" "$1"' _ "$f"
	tz_assert "$name: hygiene counted the fields" tz_log_grep -q 'from=<a@pass.example> .*hdrfix=2 '
}

# tz_reload [LINES] — rewrite the config (tz_milter_conf LINES), SIGHUP the
# milter and wait until it logs the reload.
tz_reload() {
	local before
	before=$(grep -c 'configuration reloaded' "$TZ_MILTER_LOG")
	tz_milter_conf "${1:-}"
	kill -HUP "$(tz_milter_pid)"
	for _ in $(seq 50); do
		[ "$(grep -c 'configuration reloaded' "$TZ_MILTER_LOG")" -gt "$before" ] && return 0
		sleep 0.1
	done
	echo "  no reload seen" >&2
	return 1
}

# tz_netns_reexec PREFIX SCRIPT — run SCRIPT --inside a new network
# namespace (its own loopback, resolver 127.0.0.1 through /etc/netns, the
# client addresses 192.0.2.10 and .66 on lo) with TZ_SPF_NS set, remove the
# namespace after, and exit with the script's status; a SKIP summary when
# the host cannot make one. Called before tz_init.
tz_netns_reexec() {
	local ns=$1$$ script=$2 rc
	if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null || ! command -v dnsmasq >/dev/null; then
		echo "  SKIP: needs root, iproute2 and dnsmasq (dnsmasq-base)"
		echo "0 passed, 0 failed, 1 skipped"
		exit 0
	fi
	if ! ip netns add "$ns"; then
		echo "  SKIP: cannot create a network namespace here"
		echo "0 passed, 0 failed, 1 skipped"
		exit 0
	fi
	TZ_NETNS=$ns
	trap tz_netns_cleanup EXIT
	mkdir -p "/etc/netns/$ns"
	echo "nameserver 127.0.0.1" >"/etc/netns/$ns/resolv.conf"
	ip netns exec "$ns" ip link set lo up
	# Non-loopback client addresses, on lo itself (no dummy/veth module
	# needed); they exist only inside the namespace.
	for a in 192.0.2.10 192.0.2.66; do
		ip netns exec "$ns" ip addr add "$a/32" dev lo
	done
	ip netns exec "$ns" env TZ_SPF_NS="$ns" bash "$script" --inside
	exit $?
}

tz_netns_cleanup() {
	local pids
	pids=$(ip netns pids "$TZ_NETNS" 2>/dev/null)
	[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
	ip netns del "$TZ_NETNS" 2>/dev/null
	rm -rf "/etc/netns/$TZ_NETNS"
}
