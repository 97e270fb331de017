# bench/lib-bench.sh — the pieces bench/run starts for the through-Postfix
# benchmarks: smtp-sinks, private Postfix instances (one per contender, all on
# loopback), textize-milter and MIMEDefang in the foreground. Sourced by
# bench/run (bash, root) after it sets BB_TMP. Everything started is
# recorded and stopped by bb_cleanup, which bench/run installs as its EXIT
# trap.
#
# Postfix, the sinks and textize-milter are started the one way the
# integration tests start them: tests/integration/lib.sh (its
# tz_postfix_instance, tz_sink_launch, tz_milter_conf/tz_milter_start,
# tz_stop_all), with TZ_TMP set to the bench's temp dir. This file adds
# only what the tests do not need: the bench's Postfix settings (a capture
# route, 250 processes, no client limits), MIMEDefang, the null milter and
# the queue and delivery counters.

. "$(dirname "${BASH_SOURCE[0]}")/../tests/integration/lib.sh"
TZ_TMP=$BB_TMP

bb_log() { echo "bench: $*" >&2; }

bb_cleanup() { tz_stop_all; }

# bb_sink_start PORT [DIR]: smtp-sink on PORT; with DIR it writes one file
# per message there (for checking what was delivered), else it discards.
bb_sink_start() { tz_sink_launch "$1" "${2:-}" 1000; }

# bb_postfix_start NAME SMTP_PORT SINK_PORT CAPTURE_PORT [MILTER]
# A private instance in $BB_TMP/pf-NAME relaying everything to the sink on
# SINK_PORT, except mail for capture.example, which goes to CAPTURE_PORT.
# MILTER is a Postfix milter address (unix:/path) or empty.
bb_postfix_start() {
	local name=$1 port=$2 sink=$3 capture=$4 milter=${5:-}
	tz_postfix_instance "$BB_TMP/pf-$name" "$port" "$sink" "$milter" "myhostname = gw-$name.bench.example
mydomain = bench.example
transport_maps = inline:{capture.example=smtp:[127.0.0.1]:$capture}
non_smtpd_milters =
# 200 concurrent sessions for the memory run; one client address for all
default_process_limit = 250
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0"
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
# bb_textize_start MILTER_BIN SOCKET [NAME [EXTRA]]: textize-milter -f with the
# tests' config (tz_milter_conf) in $BB_TMP/NAME (default textize), at
# LogLevel info and with SPF off because the bench machine has no DNS and
# MIMEDefang does no SPF either (a later line of a key wins; EXTRA adds
# lines, e.g. StoreBackend postgresql for bench/cluster). The last one
# started is the one bb_textize_stop stops (tz_milter_stop).
bb_textize_start() {
	local t=$BB_TMP/${3:-textize}
	mkdir -p "$t"
	rm -f "$2"
	TZ_MILTER=$1 TZ_MILTER_SOCKET=local:$2 TZ_MILTER_LOG=$t/milter.log
	TZ_QUARANTINE=$t/quarantine
	TZ_TMP=$t tz_milter_conf $'LogLevel info\nSPFCheck no\n'"${4:-}"
	TZ_TMP=$t tz_milter_start || return 1
	BB_TEXTIZE_PID=$TZ_MILTER_PID
}

# bb_null_start BIN SOCKET [-n]: bench/null_milter.c, the protocol-cost
# reference (-n: negotiating the no-reply flags, the true ceiling).
bb_null_start() {
	rm -f "$2"
	"$1" ${3:+"$3"} "local:$2" >>"$BB_TMP/null-milter.log" 2>&1 &
	TZ_PIDS+=($!)
	bb_wait_socket "$2"
}

bb_textize_stop() { tz_milter_stop; }

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
	TZ_PIDS+=($!)
	for _ in $(seq 100); do [ -S "$md/mx.sock" ] && break; sleep 0.1; done
	mimedefang -D -q -U defang -m "$md/mx.sock" -p "unix:$sock" -z "$md/spool" \
		>>"$md/mimedefang.log" 2>&1 &
	BB_MD_PID=$!
	TZ_PIDS+=("$BB_MD_PID")
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
