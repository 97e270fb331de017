#!/usr/bin/env bash
# test_tenant.sh — two municipalities on one gateway (docs/tenants.md),
# through real Postfix: a message to both, sent by a front Postfix (no
# milter) that retries like a real MTA, arrives as two messages, each with
# its own tenant's notice contact line; a second recipient of another
# tenant gets 452 4.5.3 at RCPT (swaks straight to the gateway); each
# tenant's SpoofAction applies; entries carry the tenant, and textizectl
# --tenant (and TEXTIZE_TENANT) shows one tenant's entries and treats the
# other's as not found; -n refuses a domain in two tenants; the console
# (textize-web over HTTP with curl, PAM users and groups made here): an
# operator in kameyama's WebTenantGroup sees only kameyama's entries, and
# suzuka's entry pages and actions answer 404, and the report and audit
# pages show only kameyama's; an operator in no tenant group sees both.
# `report daily --tenant` counts only the tenant's entries and their audit
# records.
# Ports: TZ_PORT_BASE (gateway smtp), +1 sink, +2 milter, +3 front Postfix,
# +4 textize-web, +5 PostgreSQL's socket (the tenant column there, when
# PostgreSQL is installed).
. "$(dirname "$0")/lib.sh"
TZ_PORT_BASE=${TZ_PORT_BASE:-26000}
tz_init tenant
CTL=${TZ_CTL:-$TZ_BUILD/tools/textizectl}
[ -x "$CTL" ] || { tz_fail "no textizectl at $CTL"; tz_done; }
FRONT_PORT=$((TZ_PORT_BASE + 3))
WEB_PORT=$((TZ_PORT_BASE + 4))
WEB=${TZ_WEB:-$TZ_BUILD/web/textize-web}
for p in $FRONT_PORT $WEB_PORT; do
	if tz_port_open "$p"; then tz_fail "port $p in use"; tz_done; fi
done

# ---- local users and groups for the console's PAM login, removed at exit ----
P=tzten$$
PW="Pw-$(head -c 9 /dev/urandom | base64 | tr -d '/+=')"
PAMSVC=$P-web
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
PGDIR=$TZ_TMP/pg PGPORT=$((TZ_PORT_BASE + 5))
pg() { su postgres -s /bin/sh -c "$*"; }
web_cleanup() {
	[ -f "$PGDIR/data/postmaster.pid" ] && pg "'$PGBIN/pg_ctl' -D '$PGDIR/data' -w -m fast stop" >/dev/null
	for u in kame all; do userdel "${P}_$u" 2>/dev/null; done
	for g in team kame; do groupdel "$P-$g" 2>/dev/null; done
	rm -f "/etc/pam.d/$PAMSVC"
}
trap 'web_cleanup; tz_cleanup' EXIT
groupadd "$P-team"; groupadd "$P-kame"
useradd -M -N -s /usr/sbin/nologin -G "$P-team,$P-kame" "${P}_kame"
useradd -M -N -s /usr/sbin/nologin -G "$P-team" "${P}_all"
printf '%s:%s\n' "${P}_kame" "$PW" "${P}_all" "$PW" | chpasswd
printf 'auth required pam_unix.so\naccount required pam_unix.so\n' >"/etc/pam.d/$PAMSVC"

CONF="LocalDomains pref.example.jp
NoticeContact Prefecture security desk
SpoofAction reject
WebListen 127.0.0.1:$WEB_PORT
WebDatabase $TZ_TMP/web.db
WebPAMService $PAMSVC
WebTeamGroup $P-team
ReleaseKeyFile $TZ_TMP/release.key
ReleaseCommand /usr/sbin/sendmail -C $TZ_TMP/postfix -oi -t
ForceReleaseApprovals 1
Tenant kameyama
LocalDomains kameyama.example.lg.jp
NoticeContact Kameyama ICT desk 0595-82-0000
SpoofAction tag
RetentionDays 90
WebTenantGroup $P-kame
Tenant suzuka
LocalDomains suzuka.example.lg.jp
NoticeContact Suzuka joho desk 059-382-0000"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TZ_TMP/release.key"
chmod 600 "$TZ_TMP/release.key"
# the sections go last: a global key after them would belong to suzuka
tz_sink_start || { tz_fail "smtp-sink did not start"; tz_done; }
tz_milter_conf ""
printf '%s\n' "$CONF" >>"$TZ_TMP/textize.conf"
tz_milter_start || { tz_fail "textize-milter did not start"; tz_done; }
tz_postfix_start || { tz_fail "postfix did not start"; tz_done; }
# The front MTA: the Internet side, no milter; it keeps what the gateway
# defers (452) and sends it again in a later transaction.
tz_postfix_instance "$TZ_TMP/front" "$FRONT_PORT" "$TZ_SMTP_PORT" "" || { tz_fail "front postfix"; tz_done; }

ctl() { "$CTL" -c "$TZ_TMP/textize.conf" "$@"; }

# the decoded text body of a captured message
body_text() {
	tz_captured_body "$1" | python3 -c '
import email, sys
m = email.message_from_bytes(sys.stdin.buffer.read())
for p in m.walk():
    if p.get_content_type() == "text/plain":
        sys.stdout.write(p.get_payload(decode=True).decode(p.get_content_charset() or "utf-8", "replace"))'
}

# which captured message went to whom (the sink's X-Rcpt-Args lines)
captured_for() { grep -l "^X-Rcpt-Args: .*$1" $(tz_captured) 2>/dev/null | tail -1; }

tz_gen html-attach "$TZ_TMP/attach.eml"

# --------------------------------------------------- one message, two tenants
swaks --server "127.0.0.1:$FRONT_PORT" --from sender@example.com \
	--to taro@kameyama.example.lg.jp,jiro@suzuka.example.lg.jp --data "$TZ_TMP/attach.eml" \
	>"$TZ_TMP/front.swaks" 2>&1
tz_assert "two tenants: the front MTA took the message once (250)" grep -qE '^<- +250 .*queued' "$TZ_TMP/front.swaks"
tz_assert "two tenants: two messages reach the sink" tz_wait_count 2 60
fk=$(captured_for taro@kameyama.example.lg.jp)
fs=$(captured_for jiro@suzuka.example.lg.jp)
if [ -n "$fk" ] && [ -n "$fs" ] && [ "$fk" != "$fs" ]; then
	tz_pass "two tenants: one delivery per tenant"
else
	tz_fail "two tenants: expected separate deliveries (kameyama: ${fk:-none}, suzuka: ${fs:-none})"
fi
if [ -n "$fk" ] && body_text "$fk" | grep -q 'Kameyama ICT desk 0595-82-0000' &&
   ! body_text "$fk" | grep -qE 'Suzuka joho|Prefecture security'; then
	tz_pass "two tenants: kameyama's copy carries kameyama's contact line only"
else
	tz_fail "two tenants: kameyama's copy lacks its contact line"
fi
if [ -n "$fs" ] && body_text "$fs" | grep -q 'Suzuka joho desk 059-382-0000' &&
   ! body_text "$fs" | grep -qE 'Kameyama ICT|Prefecture security'; then
	tz_pass "two tenants: suzuka's copy carries suzuka's contact line only"
else
	tz_fail "two tenants: suzuka's copy lacks its contact line"
fi
tz_assert "two tenants: the milter deferred the other tenant's recipient with 452 4.5.3" \
	tz_log_grep -q 'recipient of tenant (suzuka|kameyama) deferred \(452 4.5.3\)'
tz_assert "two tenants: summary lines name each tenant" \
	bash -c "grep -q 'action=textized .*tenant=kameyama' '$TZ_MILTER_LOG' && grep -q 'action=textized .*tenant=suzuka' '$TZ_MILTER_LOG'"
tz_assert "two tenants: no attachment bytes reached either recipient" \
	bash -c "! grep -q JVBERi0 '$fk' '$fs'"

# --------------------------------------------------- 452 at RCPT, straight to the gateway
tz_send "$TZ_TMP/attach.eml" --to taro@kameyama.example.lg.jp,boss@pref.example.jp
if grep -qE '^<[-~*]+ +452 4\.5\.3 ' "$TZ_TMP/swaks.last"; then
	tz_pass "rcpt: a recipient outside the first one's tenant gets 452 4.5.3"
else
	tz_fail "rcpt: no 452 4.5.3 for the second tenant's recipient"
	grep -E '^<[-~*]+ +[245][0-9][0-9]' "$TZ_TMP/swaks.last" | sed 's/^/    | /'
fi

# --------------------------------------------------- each tenant's rule actions
tz_mkmsg "$TZ_TMP/spoof-k.eml" "From: Mayor <mayor@kameyama.example.lg.jp>" "To: taro@kameyama.example.lg.jp"
tz_mkmsg "$TZ_TMP/spoof-s.eml" "From: Mayor <mayor@suzuka.example.lg.jp>" "To: jiro@suzuka.example.lg.jp"
tz_expect 250 "" "actions: kameyama tags a From in its own domain (SpoofAction tag)" \
	"$TZ_TMP/spoof-k.eml" --to taro@kameyama.example.lg.jp
tz_expect 550 5.7.1 "actions: suzuka refuses it (the global SpoofAction reject)" \
	"$TZ_TMP/spoof-s.eml" --to jiro@suzuka.example.lg.jp

# --------------------------------------------------- stored with the tenant; ctl views
# the entries, by the summary lines (ref=ID ... tenant=NAME)
kid=$(sed -nE 's/.*action=textized ref=([^ ]+) .*tenant=kameyama.*/\1/p' "$TZ_MILTER_LOG" | head -1)
sid=$(sed -nE 's/.*action=textized ref=([^ ]+) .*tenant=suzuka.*/\1/p' "$TZ_MILTER_LOG" | head -1)
tz_assert "store: an entry of each tenant" test -n "$kid" -a -n "$sid"
tz_assert "store: the entry's metadata names its tenant" \
	bash -c "'$CTL' -c '$TZ_TMP/textize.conf' queue show '$kid' --format json | grep -q '\"tenant\":\"kameyama\"'"
ctl queue list --tenant kameyama --format csv >"$TZ_TMP/list-k.csv" 2>"$TZ_TMP/ctl.err"
tz_assert "ctl: list --tenant kameyama shows kameyama's entry" grep -q "$kid" "$TZ_TMP/list-k.csv"
tz_assert "ctl: list --tenant kameyama hides suzuka's entry" bash -c "! grep -q '$sid' '$TZ_TMP/list-k.csv'"
tz_assert "ctl: list --tenant kameyama shows no other recipient" \
	bash -c "! grep -qE 'suzuka|pref\\.example' '$TZ_TMP/list-k.csv'"
ctl queue list --format csv >"$TZ_TMP/list-all.csv" 2>>"$TZ_TMP/ctl.err"
tz_assert "ctl: list without --tenant shows both" bash -c "grep -q '$kid' '$TZ_TMP/list-all.csv' && grep -q '$sid' '$TZ_TMP/list-all.csv'"
ctl queue show "$sid" --tenant kameyama >"$TZ_TMP/show.out" 2>"$TZ_TMP/show.err"
rc=$?
tz_assert "ctl: show of suzuka's entry under --tenant kameyama is not found (66)" \
	bash -c "[ $rc -eq 66 ] && grep -q 'no entry' '$TZ_TMP/show.err' && ! grep -q jiro '$TZ_TMP/show.out'"
TEXTIZE_TENANT=kameyama ctl queue show "$sid" >/dev/null 2>&1
tz_assert "ctl: TEXTIZE_TENANT limits the same way" test $? -eq 66
ctl queue export "$sid" original --tenant kameyama --operator op --out "$TZ_TMP/x.eml" >/dev/null 2>&1
rc=$?
tz_assert "ctl: export of another tenant's entry is refused (66) and writes nothing" \
	bash -c "[ $rc -eq 66 ] && [ ! -e '$TZ_TMP/x.eml' ]"
ctl queue reject "$sid" --tenant kameyama --operator op >/dev/null 2>&1
tz_assert "ctl: reject of another tenant's entry is refused" test $? -eq 66
ctl queue show "$kid" --tenant kameyama >"$TZ_TMP/show-k.out" 2>&1
tz_assert "ctl: show of its own entry works" grep -q "$kid" "$TZ_TMP/show-k.out"
ctl queue list --tenant nosuch >/dev/null 2>"$TZ_TMP/ctl.err"
tz_assert "ctl: an unknown tenant is a config error (78)" test $? -eq 78

# --------------------------------------------------- the release mail names the entry's tenant's contact
n=$(tz_captured_count)
ctl queue release "$kid" --force --reason "tenant test" --operator op >"$TZ_TMP/rel.out" 2>&1
tz_assert "release: kameyama's entry released (no --tenant)" tz_wait_count $((n + 1)) 60
f=$(tz_captured | tail -1)
if [ -n "$f" ] && body_text "$f" | grep -q 'Kameyama ICT desk 0595-82-0000' &&
   ! body_text "$f" | grep -q 'Prefecture security desk'; then
	tz_pass "release: the release mail names kameyama's contact, not the global one"
else
	tz_fail "release: the release mail lacks kameyama's contact"
	sed 's/^/    | /' "$TZ_TMP/rel.out"
fi

# --------------------------------------------------- the daily report of one tenant
# an audited action on suzuka's entry (by the prefecture: no --tenant), so
# that kameyama's report has one to leave out; kameyama's has its release
ctl queue export "$sid" original --operator op --out "$TZ_TMP/s-export.eml" >/dev/null 2>&1
tz_assert "report: suzuka's entry exported by the prefecture (audited)" test -s "$TZ_TMP/s-export.eml"
ctl report daily --tenant kameyama --format json >"$TZ_TMP/rep-k.json" 2>"$TZ_TMP/rep.err"
tz_assert "report: --tenant kameyama works (exit 0)" test $? -eq 0
tz_assert "report: --tenant kameyama lists kameyama's entry and names the tenant" \
	bash -c "grep -q '\"id\":\"$kid\"' '$TZ_TMP/rep-k.json' && grep -q '\"tenant\":\"kameyama\"' '$TZ_TMP/rep-k.json'"
tz_assert "report: --tenant kameyama lists the release of kameyama's entry" \
	grep -q '"event":"released","operator":"op"' "$TZ_TMP/rep-k.json"
tz_assert "report: --tenant kameyama has nothing of suzuka's (entry, export, recipient)" \
	bash -c "! grep -qE '$sid|suzuka|\"exported\"' '$TZ_TMP/rep-k.json'"
ctl report daily --format json >"$TZ_TMP/rep-all.json" 2>>"$TZ_TMP/rep.err"
tz_assert "report: without --tenant both entries, suzuka's export, and no \"tenant\"" \
	bash -c "grep -q '$kid' '$TZ_TMP/rep-all.json' && grep -q '\"id\":\"$sid\"' '$TZ_TMP/rep-all.json' &&
		 grep -q '\"exported\"' '$TZ_TMP/rep-all.json' && ! grep -q '\"tenant\"' '$TZ_TMP/rep-all.json'"
TEXTIZE_TENANT=kameyama ctl report daily --format json >"$TZ_TMP/rep-env.json" 2>>"$TZ_TMP/rep.err"
tz_assert "report: TEXTIZE_TENANT gives the same tenant's report" \
	bash -c "grep -q '\"tenant\":\"kameyama\"' '$TZ_TMP/rep-env.json' && ! grep -q '$sid' '$TZ_TMP/rep-env.json'"
ctl report daily --tenant kameyama --format html >"$TZ_TMP/rep-k.html" 2>>"$TZ_TMP/rep.err"
tz_assert "report: the HTML says what a tenant's report leaves out" \
	grep -q '特定のメールに結びつかない記録' "$TZ_TMP/rep-k.html"
# an audit record tied to no entry (a sender block), which a tenant's
# audit page leaves out: the same file with a SenderListFile before the sections
awk -v f="$TZ_TMP/senders.list" '/^Tenant / && !done { print "SenderListFile " f; done = 1 } { print }' \
	"$TZ_TMP/textize.conf" >"$TZ_TMP/sl.conf"
"$CTL" -c "$TZ_TMP/sl.conf" sender block x@evil.example --operator op --reason test >/dev/null 2>&1
tz_assert "report: a sender block audited (tied to no entry)" grep -q '"event":"sender_blocked"' "$TZ_TMP/audit.log"
kday=$(sed -nE 's/^\{"date":"([^"]+)".*"entries":([0-9]+),.*/\1 \2/p' "$TZ_TMP/rep-k.json")
aday=$(sed -nE 's/^\{"date":"([^"]+)".*"entries":([0-9]+),.*/\1 \2/p' "$TZ_TMP/rep-all.json")

# --------------------------------------------------- the console
"$WEB" -f -c "$TZ_TMP/textize.conf" >>"$TZ_TMP/web.log" 2>&1 &
TZ_PIDS+=("$!")
tz_assert "console: textize-web listens" tz_wait_port "$WEB_PORT"
U=http://127.0.0.1:$WEB_PORT
login() {   # login USER JAR
	curl -sS -o /dev/null -w '%{http_code}' -c "$2" --data-urlencode "user=$1" \
		--data-urlencode "password=$PW" "$U/login"
}
get() { curl -sS -b "$1" -o "$2" -w '%{http_code}' "$U$3"; }   # get JAR OUT PATH -> code
tz_assert "console: kameyama's operator logs in" test "$(login "${P}_kame" "$TZ_TMP/k.jar")" = 303
tz_assert "console: the prefecture's operator logs in" test "$(login "${P}_all" "$TZ_TMP/a.jar")" = 303
get "$TZ_TMP/k.jar" "$TZ_TMP/k-queue.html" /team >/dev/null
tz_assert "console: kameyama's queue shows kameyama's entry" grep -q "$kid" "$TZ_TMP/k-queue.html"
tz_assert "console: kameyama's queue hides suzuka's entry and recipients" \
	bash -c "! grep -qE '$sid|suzuka' '$TZ_TMP/k-queue.html'"
tz_assert "console: suzuka's entry page is 404 for kameyama's operator" \
	test "$(get "$TZ_TMP/k.jar" "$TZ_TMP/k-entry.html" "/team/entry?id=$sid")" = 404
tz_assert "console: ... and says nothing of it" bash -c "! grep -q jiro '$TZ_TMP/k-entry.html'"
tz_assert "console: kameyama's own entry page opens" \
	test "$(get "$TZ_TMP/k.jar" "$TZ_TMP/k-own.html" "/team/entry?id=$kid")" = 200
csrf=$(sed -nE 's/.*name="csrf" value="([0-9a-f]+)".*/\1/p' "$TZ_TMP/k-own.html" | head -1)
code=$(curl -sS -b "$TZ_TMP/k.jar" -o /dev/null -w '%{http_code}' --data-urlencode "csrf=$csrf" \
	--data-urlencode action=reject --data-urlencode "id=$sid" --data-urlencode part=1 \
	--data-urlencode reason=x "$U/team/action")
tz_assert "console: an action on suzuka's entry is 404 for kameyama's operator" test "$code" = 404
tz_assert "console: ... and changed nothing" \
	bash -c "! '$CTL' -c '$TZ_TMP/textize.conf' queue show '$sid' | grep -q rejected"
tz_assert "console: the report page opens for a tenant's operator" \
	test "$(get "$TZ_TMP/k.jar" "$TZ_TMP/k-report.html" /team/report)" = 200
tz_assert "console: ... with the tenant's count of mails (as report --tenant) and no suzuka" \
	bash -c "grep -q '${kday% *}: メール ${kday#* } 通' '$TZ_TMP/k-report.html' &&
		 grep -q 'id=\"tenant\"' '$TZ_TMP/k-report.html' && ! grep -q suzuka '$TZ_TMP/k-report.html'"
get "$TZ_TMP/a.jar" "$TZ_TMP/a-report.html" /team/report >/dev/null
tz_assert "console: the prefecture's report page counts everyone's mails, suzuka's recipient too" \
	bash -c "grep -q '${aday% *}: メール ${aday#* } 通' '$TZ_TMP/a-report.html' &&
		 grep -q suzuka '$TZ_TMP/a-report.html' && ! grep -q 'id=\"tenant\"' '$TZ_TMP/a-report.html'"
tz_assert "console: the audit page opens for a tenant's operator" \
	test "$(get "$TZ_TMP/k.jar" "$TZ_TMP/k-audit.html" /team/audit)" = 200
tz_assert "console: ... with kameyama's records, none of suzuka's entry, none tied to no entry" \
	bash -c "grep -q '$kid' '$TZ_TMP/k-audit.html' && ! grep -q '$sid' '$TZ_TMP/k-audit.html' &&
		 ! grep -q sender_blocked '$TZ_TMP/k-audit.html'"
tz_assert "console: ... and the chain's verification without its record count" \
	bash -c "grep -q 'id=\"verify\">検証結果: 改ざんなし(全団体共通の記録' '$TZ_TMP/k-audit.html'"
get "$TZ_TMP/a.jar" "$TZ_TMP/a-audit.html" /team/audit >/dev/null
tz_assert "console: the prefecture's audit page shows both entries' records and the sender block" \
	bash -c "grep -q '$kid' '$TZ_TMP/a-audit.html' && grep -q '$sid' '$TZ_TMP/a-audit.html' &&
		 grep -q sender_blocked '$TZ_TMP/a-audit.html'"
get "$TZ_TMP/k.jar" "$TZ_TMP/k-req.html" /team/requests >/dev/null
tz_assert "console: kameyama's requests page shows no suzuka entry" bash -c "! grep -q '$sid' '$TZ_TMP/k-req.html'"
get "$TZ_TMP/a.jar" "$TZ_TMP/a-queue.html" /team >/dev/null
tz_assert "console: an operator of no tenant sees both" \
	bash -c "grep -q '$kid' '$TZ_TMP/a-queue.html' && grep -q '$sid' '$TZ_TMP/a-queue.html'"
tz_assert "console: ... and suzuka's entry page" \
	test "$(get "$TZ_TMP/a.jar" /dev/null "/team/entry?id=$sid")" = 200

# --------------------------------------------------- the tenant column in PostgreSQL
if [ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ] && id postgres >/dev/null 2>&1; then
	URL="postgresql:///textize?host=$PGDIR&port=$PGPORT&user=postgres"
	mkdir -p "$PGDIR" && chown postgres "$PGDIR"
	if pg "'$PGBIN/initdb' -D '$PGDIR/data' -A trust -U postgres" >"$TZ_TMP/initdb.log" 2>&1 &&
	   pg "'$PGBIN/pg_ctl' -D '$PGDIR/data' -w -l '$PGDIR/log' -o \"-k $PGDIR -p $PGPORT -c listen_addresses=''\" start" >/dev/null &&
	   pg "'$PGBIN/createdb' -h '$PGDIR' -p $PGPORT textize"; then
		# the same file with the shared backend, given before the sections
		awk -v url="$URL" '/^Tenant / && !done { print "StoreBackend postgresql"; print "DatabaseURL " url; done = 1 } { print }' \
			"$TZ_TMP/textize.conf" >"$TZ_TMP/pg.conf"
		"$CTL" -c "$TZ_TMP/pg.conf" db migrate >"$TZ_TMP/pg.out" 2>&1 &&
			"$CTL" -c "$TZ_TMP/pg.conf" queue reindex >>"$TZ_TMP/pg.out" 2>&1
		tz_assert "postgresql: migrated (to the newest version) and indexed" grep -q 'indexed' "$TZ_TMP/pg.out"
		n=$(psql -X -A -t -h "$PGDIR" -p "$PGPORT" -U postgres -d textize \
			-c "SELECT count(*) FROM entries WHERE tenant = 'kameyama' AND id = '$kid'")
		tz_assert "postgresql: the entry's row carries its tenant" test "$n" = 1
		"$CTL" -c "$TZ_TMP/pg.conf" queue list --tenant kameyama --format csv >"$TZ_TMP/pg-k.csv" 2>>"$TZ_TMP/pg.out"
		tz_assert "postgresql: list --tenant kameyama shows kameyama's entry, not suzuka's" \
			bash -c "grep -q '$kid' '$TZ_TMP/pg-k.csv' && ! grep -q '$sid' '$TZ_TMP/pg-k.csv'"
		"$CTL" -c "$TZ_TMP/pg.conf" report daily --tenant kameyama --format json >"$TZ_TMP/pg-rep-k.json" 2>>"$TZ_TMP/pg.out"
		"$CTL" -c "$TZ_TMP/pg.conf" report daily --format json >"$TZ_TMP/pg-rep-all.json" 2>>"$TZ_TMP/pg.out"
		tz_assert "postgresql: report --tenant kameyama has kameyama's entry, not suzuka's" \
			bash -c "grep -q '\"id\":\"$kid\"' '$TZ_TMP/pg-rep-k.json' && ! grep -q '$sid' '$TZ_TMP/pg-rep-k.json'"
		tz_assert "postgresql: report without --tenant has both, counted as on SQLite" \
			bash -c "grep -q '$kid' '$TZ_TMP/pg-rep-all.json' && grep -q '\"id\":\"$sid\"' '$TZ_TMP/pg-rep-all.json' &&
				 grep -q '\"entries\":${aday#* },' '$TZ_TMP/pg-rep-all.json' &&
				 grep -q '\"entries\":${kday#* },' '$TZ_TMP/pg-rep-k.json'"
	else
		tz_fail "postgresql did not start"
		tail -5 "$TZ_TMP/initdb.log" "$PGDIR/log" 2>/dev/null
	fi
else
	tz_skip "postgresql: server not installed (scripts/deps installs postgresql)"
fi

# --------------------------------------------------- -n: a domain in two tenants
cat >"$TZ_TMP/bad.conf" <<EOF
Tenant a
LocalDomains a.example.jp
Tenant b
LocalDomains b.example.jp a.example.jp
EOF
"$TZ_MILTER" -n -c "$TZ_TMP/bad.conf" >"$TZ_TMP/n.out" 2>&1
rc=$?
tz_assert "-n: a domain in two tenants is an error with file:line" \
	bash -c "[ $rc -ne 0 ] && grep -q 'bad.conf:4: domain a.example.jp of Tenant b is also in Tenant a' '$TZ_TMP/n.out'"

# an ASan/UBSan build (TZ_BUILD=_build/asan) reports into these logs
tz_assert "no sanitizer report from the milter or the console" \
	bash -c "! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' '$TZ_MILTER_LOG' '$TZ_TMP/web.log'"

tz_done
