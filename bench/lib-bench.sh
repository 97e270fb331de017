# bench/lib-bench.sh — the pieces bench/run starts for the through-Postfix
# benchmarks: smtp-sinks, private Postfix instances (one per contender, all on
# loopback), textize-milter and MIMEDefang in the foreground. Sourced by
# bench/run (bash, root). Everything started is recorded and stopped by
# bb_cleanup, which bench/run installs as its EXIT trap.
#
# tests/integration/lib.sh serves one Postfix instance per test with asserts
# around it; the bench needs three instances side by side and two sinks, so
# it has its own small harness, with the same proven Postfix settings
# (FIELD-NOTES: chroot off, maillog_file + prefixes, loopback smtp port).

BB_PIDS=()
BB_PF_DIRS=()

bb_log() { echo "bench: $*" >&2; }

bb_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

bb_wait_port() {
	local port=$1 secs=${2:-15}
	for _ in $(seq $((secs * 10))); do
		bb_port_open "$port" && return 0
		sleep 0.1
	done
	return 1
}

bb_cleanup() {
	for d in "${BB_PF_DIRS[@]}"; do
		postfix -c "$d" stop >/dev/null 2>&1
	done
	for pid in "${BB_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${BB_PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null
	done
	for d in "${BB_PF_DIRS[@]}"; do
		# master exits asynchronously; its pid file names it
		local mp
		mp=$(tr -d ' ' <"$d/queue/pid/master.pid" 2>/dev/null)
		for _ in $(seq 50); do
			[ -n "$mp" ] && kill -0 "$mp" 2>/dev/null || break
			sleep 0.1
		done
	done
	BB_PIDS=()
	BB_PF_DIRS=()
}

# bb_sink_start PORT [DIR]: smtp-sink on PORT; with DIR it writes one file
# per message there (for checking what was delivered), else it discards.
bb_sink_start() {
	local port=$1 dir=${2:-}
	if [ -n "$dir" ]; then
		mkdir -p "$dir"
		chown postfix "$dir"
		/usr/sbin/smtp-sink -u postfix -d "$dir/%H%M%S." "127.0.0.1:$port" 1000 \
			>>"$BB_TMP/sink-$port.log" 2>&1 &
	else
		/usr/sbin/smtp-sink -u postfix "127.0.0.1:$port" 1000 >>"$BB_TMP/sink-$port.log" 2>&1 &
	fi
	BB_PIDS+=($!)
	bb_wait_port "$port" 10
}

# bb_postfix_start NAME SMTP_PORT SINK_PORT CAPTURE_PORT [MILTER]
# A private instance in $BB_TMP/pf-NAME relaying everything to the sink on
# SINK_PORT, except mail for capture.example, which goes to CAPTURE_PORT.
# MILTER is a Postfix milter address (unix:/path) or empty.
bb_postfix_start() {
	local name=$1 port=$2 sink=$3 capture=$4 milter=${5:-}
	local d=$BB_TMP/pf-$name
	mkdir -p "$d/queue" "$d/data"
	chown postfix "$d/data"
	cat >"$d/main.cf" <<EOF
# private bench instance written by bench/lib-bench.sh
compatibility_level = 3.6
queue_directory = $d/queue
data_directory = $d/data
maillog_file = $d/maillog
maillog_file_prefixes = $BB_TMP
myhostname = gw-$name.bench.example
mydomain = bench.example
myorigin = \$myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
relayhost = [127.0.0.1]:$sink
transport_maps = inline:{capture.example=smtp:[127.0.0.1]:$capture}
smtp_dns_support_level = disabled
message_size_limit = 60000000
# 200 concurrent sessions for the memory run; one client address for all
default_process_limit = 250
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_milters = $milter
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
EOF
	sed -E -e 's/^(smtp[[:space:]]+inet[[:space:]])/127.0.0.1:'"$port"' inet /' \
		-e 's/^([a-z0-9.:-]+[[:space:]]+(inet|unix|unix-dgram|fifo|pass)[[:space:]]+[-yn][[:space:]]+[-yn][[:space:]]+)[-yn]/\1n/' \
		/usr/share/postfix/master.cf.dist >"$d/master.cf"
	if ! postfix -c "$d" start >>"$BB_TMP/postfix-start.log" 2>&1; then
		cat "$BB_TMP/postfix-start.log" >&2
		return 1
	fi
	BB_PF_DIRS+=("$d")
	bb_wait_port "$port" 15
}

bb_pf_dir() { echo "$BB_TMP/pf-$1"; }

# Messages still in the instance's queue (incoming, active, deferred, ...).
bb_queue_count() {
	local d=$BB_TMP/pf-$1/queue
	find "$d/incoming" "$d/active" "$d/deferred" "$d/hold" "$d/maildrop" -type f 2>/dev/null | wc -l
}

# bb_wait_drained NAME [SECONDS]: until the queue is empty.
bb_wait_drained() {
	local name=$1 secs=${2:-600}
	for _ in $(seq $((secs * 20))); do
		[ "$(bb_queue_count "$name")" -eq 0 ] && return 0
		sleep 0.05
	done
	bb_log "queue of $name not empty after $secs s"
	return 1
}

bb_wait_socket() {
	for _ in $(seq 150); do [ -S "$1" ] && return 0; sleep 0.1; done
	return 1
}

# Both milters listen on unix sockets, as conf/textize.conf and Debian's
# MIMEDefang do by default. (Over loopback TCP every milter reply burst
# meets Nagle + delayed ACK: ~40 ms stalls per message, for either milter.)
#
# bb_textize_start MILTER_BIN SOCKET [NAME]: textize-milter -f with a bench
# config (quarantine, index, audit log in $BB_TMP/NAME, default textize; SPF
# off because the bench machine has no DNS and MIMEDefang does no SPF
# either). BB_TEXTIZE_PID is the default one's.
bb_textize_start() {
	local bin=$1 sock=$2 t=$BB_TMP/${3:-textize}
	mkdir -p "$t/spool" "$t/state"
	rm -f "$sock"
	cat >"$t/textize.conf" <<EOF
# written by bench/lib-bench.sh
Socket local:$sock
SocketMode 0666
SpoolDir $t/spool
QuarantineDir $t/quarantine
ReportDatabase $t/report.db
AuditLog $t/audit.log
StateDir $t/state
LogLevel info
SPFCheck no
$([ "$(id -u)" -ne 0 ] || echo "UserID root")
EOF
	"$bin" -f -c "$t/textize.conf" >>"$t/milter.log" 2>&1 &
	[ -n "${3:-}" ] || BB_TEXTIZE_PID=$!
	BB_PIDS+=($!)
	bb_wait_socket "$sock" || { tail -5 "$t/milter.log" >&2; return 1; }
}

# bb_null_start BIN SOCKET [-n]: bench/null_milter.c, the protocol-cost
# reference (-n: negotiating the no-reply flags, the true ceiling).
bb_null_start() {
	rm -f "$2"
	"$1" ${3:+"$3"} "local:$2" >>"$BB_TMP/null-milter.log" 2>&1 &
	BB_PIDS+=($!)
	bb_wait_socket "$2"
}

bb_textize_stop() {
	kill -TERM "$BB_TEXTIZE_PID" 2>/dev/null
	for _ in $(seq 150); do kill -0 "$BB_TEXTIZE_PID" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$BB_TEXTIZE_PID" 2>/dev/null
}

# bb_mimedefang_start FILTER SOCKET WORKERS: mimedefang-multiplexor and
# mimedefang in the foreground (-D; as daemons their children become
# zombies here), spool and quarantine in $BB_TMP/md.
bb_mimedefang_start() {
	local filter=$1 sock=$2 workers=$3 md=$BB_TMP/md
	mkdir -p "$md/spool" "$md/quarantine"
	sed "s|@MDDIR@|$md|g" "$filter" >"$md/filter"
	chown -R defang: "$md"
	# -q/-Q: queue requests while every worker is busy (without it MIMEDefang
	# tempfails the message, which would count as a very fast rejection).
	mimedefang-multiplexor -D -E -U defang -m "$workers" -x "$workers" -r 500 -q 128 -Q 120 \
		-s "$md/mx.sock" -F "$md/filter" -z "$md/spool" \
		>>"$md/multiplexor.log" 2>&1 &
	BB_PIDS+=($!)
	for _ in $(seq 100); do [ -S "$md/mx.sock" ] && break; sleep 0.1; done
	mimedefang -D -q -U defang -m "$md/mx.sock" -p "unix:$sock" -z "$md/spool" \
		>>"$md/mimedefang.log" 2>&1 &
	BB_MD_PID=$!
	BB_PIDS+=("$BB_MD_PID")
	bb_wait_socket "$sock" || { tail -n 5 "$md"/*.log >&2; return 1; }
	chmod 0666 "$sock"   # Postfix's smtpd/cleanup connect as user postfix
}

# Messages the instance has delivered so far (status=sent in its log).
bb_sent_count() { grep -c 'status=sent' "$BB_TMP/pf-$1/maillog" 2>/dev/null; }

# bb_source PORT COUNT SESSIONS FILE [TO]: smtp-source, prints seconds taken.
bb_source() {
	local port=$1 n=$2 s=$3 f=$4 to=${5:-user@city.example.lg.jp}
	local t0 t1
	t0=$(date +%s.%N)
	/usr/sbin/smtp-source -s "$s" -m "$n" -f sender@example.com -t "$to" -F "$f" \
		"127.0.0.1:$port" >>"$BB_TMP/source.log" 2>&1
	t1=$(date +%s.%N)
	echo "$t0 $t1" | awk '{printf "%.3f\n", $2 - $1}'
}
