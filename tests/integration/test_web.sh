#!/usr/bin/env bash
# test_web.sh — the console (issue 19) in a real browser: a real
# textize-web, Postfix, textize-milter and clamd, driven by Selenium with
# Debian's chromium and chromium-driver (web-browser.py):
#  - staff open the signed link from the notice they received, see what was
#    removed (hostile Subject and file name shown as text), ask for it with a
#    reason; the same link cannot ask twice, and it opens no other entry or
#    recipient;
#  - a team member logs in through PAM (local users made here, roles from
#    groups), grants the request: the file arrives at the capture sink;
#  - a forced release of an infected part waits for a second operator of
#    the approver group, then arrives with its warning;
#  - forged posts (no or wrong CSRF token, an auditor's action) fail; after
#    five failed logins even the right password is refused;
#  - its own TLS (WebTLSCertFile): login works, the cookie is Secure;
#  - privilege separation: the HTTP front runs as WebUser and holds no key;
#  - a release hanging in ReleaseCommand holds up no other page;
#  - SanitizedDelivery approve after PPAP (an AES ZIP): password, request,
#    grant, the sanitized ZIP arrives; the sender list page removes one;
#  - no console errors on any page; a screenshot of every page is kept in
#    $TZ_WEB_SHOTS (default: the test's temp dir, printed).
# Ports 4300-4306 by default (TZ_PORT_BASE): SMTP, sink, milter, web, web TLS, slow web,
# approve web.
set -u
. "$(dirname "$0")/lib.sh"
TZ_PORT_BASE=${TZ_PORT_BASE:-4300}
tz_init web
here=$(cd "$(dirname "$0")" && pwd)

WEB=${TZ_WEB:-$TZ_BUILD/web/textize-web}
CTL=${TZ_CTL:-$TZ_BUILD/tools/textizectl}
CLAMD=$(command -v clamd || echo /usr/sbin/clamd)
[ -x "$WEB" ] || { tz_fail "no textize-web at $WEB"; tz_done; }
[ -x "$CLAMD" ] || { tz_skip "clamd not installed (scripts/deps installs clamav-daemon)"; tz_done; }
[ -x /usr/bin/chromedriver ] && /usr/bin/python3 -c 'import selenium' 2>/dev/null ||
	{ tz_skip "chromium-driver or python3-selenium missing (scripts/deps installs them)"; tz_done; }
[ "$(id -u)" -eq 0 ] || { tz_skip "needs root (local users, PAM service file)"; tz_done; }
WEB_PORT=$((TZ_PORT_BASE + 3))
SHOTS=${TZ_WEB_SHOTS:-$TZ_TMP/shots}
mkdir -p "$SHOTS"

# ---- local users and groups for PAM, removed at exit ----
P=tzwt$$
PW="Pw-$(head -c 9 /dev/urandom | base64 | tr -d '/+=')"
PAMSVC=$P-web
web_cleanup() {
	for u in team appr aud; do userdel "${P}_$u" 2>/dev/null; done
	for g in team appr aud; do groupdel "$P-$g" 2>/dev/null; done
	rm -f "/etc/pam.d/$PAMSVC"
}
trap 'web_cleanup; tz_cleanup' EXIT
for g in team appr aud; do groupadd "$P-$g"; done
useradd -M -N -s /usr/sbin/nologin -G "$P-team" "${P}_team"
useradd -M -N -s /usr/sbin/nologin -G "$P-appr" "${P}_appr"
useradd -M -N -s /usr/sbin/nologin -G "$P-aud" "${P}_aud"
printf '%s:%s\n' "${P}_team" "$PW" "${P}_appr" "$PW" "${P}_aud" "$PW" | chpasswd
printf 'auth required pam_unix.so\naccount required pam_unix.so\n' >"/etc/pam.d/$PAMSVC"

# ---- clamd with a one-line database (FIELD-NOTES) ----
EICAR='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
mkdir -p "$TZ_TMP/clamdb"
printf '%s:%s:Textize.Test.EICAR\n' "$(printf '%s' "$EICAR" | md5sum | cut -d' ' -f1)" \
	"$(printf '%s' "$EICAR" | wc -c)" >"$TZ_TMP/clamdb/local.hdb"
printf 'Foreground yes\nLocalSocket %s\nDatabaseDirectory %s\nTemporaryDirectory %s\nLogFile %s\n' \
	"$TZ_TMP/clamd.sock" "$TZ_TMP/clamdb" "$TZ_TMP" "$TZ_TMP/clamd.log" >"$TZ_TMP/clamd.conf"
"$CLAMD" -c "$TZ_TMP/clamd.conf" >>"$TZ_TMP/clamd.out" 2>&1 &
TZ_PIDS+=("$!")
for _ in $(seq 600); do [ -S "$TZ_TMP/clamd.sock" ] && break; sleep 0.1; done
[ -S "$TZ_TMP/clamd.sock" ] || { tz_fail "clamd did not start"; tz_done; }

# ---- two mails for one staff member: a PDF (hostile names), EICAR ----
PDF='%PDF-1.4 textize web test
%%EOF'
/usr/bin/python3 - "$TZ_TMP" "$PDF" "$EICAR" <<'PY'
import sys, base64
d, pdf, eicar = sys.argv[1:]
def mail(name, subject, fname, data):
    b = ("From: 取引先 <sender@example.com>\r\nTo: taro@city.example.lg.jp\r\n"
         "Subject: =?UTF-8?B?" + base64.b64encode(subject.encode()).decode() + "?=\r\n"
         "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=BB\r\n\r\n--BB\r\n"
         "Content-Type: text/plain; charset=utf-8\r\n\r\nよろしくお願いします\r\n--BB\r\n"
         "Content-Type: application/octet-stream\r\nContent-Disposition: attachment; "
         "filename*=UTF-8''" + "".join("%%%02X" % c for c in fname.encode()) +
         "\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
         base64.encodebytes(data.encode()).decode().replace("\n", "\r\n") + "--BB--\r\n")
    open(d + "/" + name + ".eml", "w").write(b)
mail("a", "<script>alert(1)</script> 見積\u202egpj.exe", "見積\u202egpj.exe", pdf)
mail("b", "請求書", "invoice.com", eicar)
PY
# ---- PPAP: encrypted ZIPs (ZipCrypto, as zip -P writes them) ----
#  c: a harmless memo; d: a memo and EICAR (the member scan must hold it
#  back); e: for the per-link try limit
mkdir -p "$TZ_TMP/zip" && (
	cd "$TZ_TMP/zip" && printf '打ち合わせメモ PPAP-MEMO-OK\r\n' >memo.txt &&
	printf '%s' "$EICAR" >eicar.com && zip -q -P 'Himitsu-7' c.zip memo.txt &&
	zip -q -P 'Himitsu-7' d.zip memo.txt eicar.com && zip -q -P 'Himitsu-7' e.zip memo.txt)
/usr/bin/python3 - "$TZ_TMP" <<'PY'
import sys, base64
d = sys.argv[1]
for n, fname in (("c", "見積書.zip"), ("d", "請求明細.zip"), ("e", "資料.zip")):
    data = open(d + "/zip/" + n + ".zip", "rb").read()
    open(d + "/" + n + ".eml", "w").write(
        "From: 取引先 <sender@example.com>\r\nTo: taro@city.example.lg.jp\r\n"
        "Subject: =?UTF-8?B?" + base64.b64encode(("PPAP " + n).encode()).decode() + "?=\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=BB\r\n\r\n--BB\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nパスワードは別途お送りします\r\n--BB\r\n"
        "Content-Type: application/zip\r\nContent-Disposition: attachment; filename*=UTF-8''" +
        "".join("%%%02X" % c for c in fname.encode()) +
        "\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
        base64.encodebytes(data).decode().replace("\n", "\r\n") + "--BB--\r\n")
PY
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TZ_TMP/release.key"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TZ_TMP/web.key"
chmod 600 "$TZ_TMP/release.key" "$TZ_TMP/web.key"
tz_stack_start "LocalDomains city.example.lg.jp
ScannerSocket $TZ_TMP/clamd.sock
ReleaseKeyFile $TZ_TMP/release.key
ReleaseCommand /usr/sbin/sendmail -C $TZ_PF -oi -t
ReleaseFrom security@city.example.lg.jp
ForceReleaseApprovals 2
WebListen 127.0.0.1:$WEB_PORT
WebBaseURL http://127.0.0.1:$WEB_PORT
WebKeyFile $TZ_TMP/web.key
WebDatabase $TZ_TMP/web.db
SenderListFile $TZ_TMP/senders.list
DigestTime 00:00
WebPAMService $PAMSVC
WebTeamGroup $P-team
WebApproverGroup $P-appr
WebAuditorGroup $P-aud
WebUser nobody:nogroup"
CONF=$TZ_TMP/textize.conf
TZ_TO=taro@city.example.lg.jp tz_assert "mail A (PDF) accepted" tz_send_expect 250 "$TZ_TMP/a.eml"
TZ_TO=taro@city.example.lg.jp tz_assert "mail B (EICAR) accepted" tz_send_expect 250 "$TZ_TMP/b.eml"
for m in c d e; do
	TZ_TO=taro@city.example.lg.jp tz_assert "mail ${m^^} (encrypted ZIP) accepted" tz_send_expect 250 "$TZ_TMP/$m.eml"
done
tz_assert "all five notices delivered" tz_wait_count 5
tz_assert "queue scan: clamd judges both parts" "$CTL" queue -c "$CONF" scan
tz_assert "textize-web -n accepts the configuration" "$WEB" -n -c "$CONF"

"$WEB" -f -c "$CONF" >>"$TZ_TMP/web.log" 2>&1 &
TZ_PIDS+=("$!")
tz_assert "textize-web listens" tz_wait_port "$WEB_PORT"

# ---- privilege separation: the HTTP front is WebUser, holds no key or store ----
WEB_PID=${TZ_PIDS[-1]}
FRONT_PID=$(cat /proc/"$WEB_PID"/task/*/children 2>/dev/null | tr ' ' '\n' | grep -m1 .)
front_is_nobody() {
	[ -n "$FRONT_PID" ] && grep -qE "^Uid:\s+$(id -u nobody)\s+$(id -u nobody)\s+$(id -u nobody)\s+$(id -u nobody)$" \
		"/proc/$FRONT_PID/status" && grep -qE "^Groups:\s*$" "/proc/$FRONT_PID/status"
}
tz_assert "the front (child of the broker) runs as WebUser nobody with no groups" front_is_nobody
tz_assert "the front holds no file of the queue, the keys or the databases open" \
	sh -c "! ls -l /proc/$FRONT_PID/fd | grep -E 'quarantine|\\.key|\\.db|audit'"
tz_assert "the broker does (it opened the store and the web database)" \
	sh -c "for i in \$(seq 50); do ls -l /proc/$WEB_PID/fd | grep -q 'web.db' && exit 0; sleep 0.1; done; exit 1"
tz_assert "with the front's credentials the release key cannot be read" \
	sh -c "! setpriv --reuid=nobody --regid=nogroup --clear-groups cat '$TZ_TMP/release.key' >/dev/null 2>&1"

# ---- the links from the notices as delivered ----
for f in $(tz_captured); do tz_captured_body "$f" >"$f.eml"; done
/usr/bin/python3 - "$TZ_TMP" "$WEB_PORT" "$SHOTS" "$P" "$PW" "$PDF" "$CTL" "$CONF" <<'PY' >"$TZ_TMP/browser.json"
import sys, glob, json, re, subprocess, email, email.policy
d, port, shots, p, pw, pdf, ctl, conf = sys.argv[1:]
rows = json.loads(subprocess.check_output([ctl, "queue", "-c", conf, "list", "--format", "json"]))
entries = {}
for f in glob.glob(d + "/sink/*.eml"):
    m = email.message_from_binary_file(open(f, "rb"), policy=email.policy.default)
    text = m.get_body(("plain",)).get_content()
    link = re.search(r"http://127\.0\.0\.1:%s/s\?\S+" % port, text)
    key = next((k for k, n in (("entry_b", "invoice.com"), ("entry_c", "見積書.zip"),
                               ("entry_d", "請求明細.zip"), ("entry_e", "資料.zip")) if n in text),
               "entry_a")
    if link:
        q = dict(x.split("=", 1) for x in link.group(0).split("?", 1)[1].split("&"))
        ref = [r["ref"] for r in rows if r["id"] == q["e"]][0]
        entries[key] = dict(link=link.group(0), id=q["e"], ref=ref)
json.dump(dict(base="http://127.0.0.1:" + port, sink=d + "/sink", shots=shots, password=pw,
               zip_password="Himitsu-7",
               team=p + "_team", approver=p + "_appr", auditor=p + "_aud", pdf_bytes=pdf,
               senders=d + "/senders.list", **entries),
          sys.stdout)
PY
has_links() { /usr/bin/python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if all("entry_" + k in j for k in "abcde") else 1)' "$TZ_TMP/browser.json"; }
tz_assert "each notice carries a signed link to the staff page" has_links
rm -f "$TZ_TMP"/sink/*.eml
has_links || tz_done

/usr/bin/python3 "$here/web-browser.py" "$TZ_TMP/browser.json" >"$TZ_TMP/browser.out" 2>&1
while IFS= read -r line; do
	case $line in
	"ok "*) tz_pass "${line#ok }" ;;
	"not ok "*) tz_fail "${line#not ok }" ;;
	*) echo "  $line" ;;
	esac
done <"$TZ_TMP/browser.out"
# ---- the sender list the console wrote, read by the milter at MAIL ----
tz_assert "the console wrote the team's choices to SenderListFile" \
	sh -c "grep -qx 'block example.com' '$TZ_TMP/senders.list' && grep -qx 'allow sender@example.com' '$TZ_TMP/senders.list'"
n_before=$(tz_captured_count)
TZ_FROM=someone@mail.example.com TZ_TO=taro@city.example.lg.jp \
	tz_assert "a sender in the blocked domain is refused through Postfix (550)" tz_send_expect 550 "$TZ_TMP/a.eml"
tz_assert "the refusal is 5.7.1 and says why" grep -q "5.7.1 Sender blocked" "$TZ_TMP/swaks.last"
TZ_FROM=sender@example.com TZ_TO=taro@city.example.lg.jp \
	tz_assert "the allowed address in that domain is accepted (250)" tz_send_expect 250 "$TZ_TMP/a.eml"
TZ_FROM=partner@example.org TZ_TO=taro@city.example.lg.jp \
	tz_assert "an unlisted sender is accepted (250)" tz_send_expect 250 "$TZ_TMP/a.eml"
tz_assert "both accepted mails arrive (text-ized), none from the blocked one" tz_wait_count $((n_before + 2))
tz_assert "the allowed sender's mail is still text-ized (notice, attachment stripped)" \
	sh -c "for f in \$(ls -t '$TZ_SINK_DIR'/* | head -2); do grep -q '^X-Textize: ' \"\$f\" && ! grep -qi 'multipart/' \"\$f\" || exit 1; done"
tz_assert "the milter logged the senderlist rule" grep -q "senderlist" "$TZ_TMP/milter.log"
# ---- the daily digest: one mail per recipient, links of their own ----
TZ_FROM=partner@example.org TZ_TO=taro@city.example.lg.jp,hanako@city.example.lg.jp \
	tz_assert "a mail for two recipients accepted (its notice carries no link)" tz_send_expect 250 "$TZ_TMP/a.eml"
# (one delivery for both recipients: the sink stores one file)
tz_assert "its notice arrives" tz_wait_count $((n_before + 3))
n_before=$(tz_captured_count)
today=$(date +%F)
tz_assert "digest send --date today" sh -c "'$CTL' -c '$CONF' digest send --date $today >'$TZ_TMP/digest.out'"
tz_assert "two digests (taro, hanako) go out" grep -q "2 mails sent, 2 recipients" "$TZ_TMP/digest.out"
tz_assert "both arrive at the sink" tz_wait_count $((n_before + 2))
digest_check() {
	/usr/bin/python3 - "$TZ_SINK_DIR" "$WEB_PORT" "$CTL" "$CONF" <<'PY'
import sys, glob, json, re, subprocess, email, email.policy, urllib.request
sink, port, ctl, conf = sys.argv[1:]
rows = json.loads(subprocess.check_output([ctl, "queue", "-c", conf, "list", "--format", "json"]))
refs = {r["ref"] for r in rows}
got = {}
for f in glob.glob(sink + "/*"):
    raw = open(f, "rb").read()
    if b"\nX-Textize-Digest:" not in raw or b"Undelivered Mail" in raw:
        continue
    raw = raw[raw.index(b"From: "):] if raw.startswith(b"X-") else raw
    m = email.message_from_bytes(raw, policy=email.policy.default)
    got[str(m["To"])] = m.get_content()
ok = set(got) == {"taro@city.example.lg.jp", "hanako@city.example.lg.jp"}
taro, hanako = got.get("taro@city.example.lg.jp", ""), got.get("hanako@city.example.lg.jp", "")
ok = ok and all(r in taro for r in refs)                      # every entry of the day for taro
ok = ok and "‮" not in taro and "[U+202E]" in taro        # the hostile name made visible
links = re.findall(r"http://127\.0\.0\.1:%s/s\?\S+" % port, hanako)
ok = ok and len(links) == 1 and "r=hanako" in links[0]         # hanako's one mail, her own link
if ok:
    page = urllib.request.urlopen(links[0]).read().decode()
    ok = "取り除いたファイル" in page and "hanako@city.example.lg.jp" in page
    other = links[0].replace("r=hanako", "r=taro")
    try:
        urllib.request.urlopen(other)
        ok = False
    except urllib.error.HTTPError as e:
        ok = ok and e.code == 403
sys.exit(0 if ok else 1)
PY
}
tz_assert "digests list every entry, hostile names made visible, hanako's link opens her page and no one else's" digest_check
tz_assert "a second run the same day sends nothing (idempotent per day)" \
	sh -c "'$CTL' -c '$CONF' digest send --date $today | grep -q '0 mails sent, 2 recipients'"
tz_assert "the audit log records each digest" sh -c "grep -c digest_sent '$TZ_TMP/audit.log' | grep -qx 2"
tz_assert "textize-web logged no internal error" sh -c "! grep -qiE 'asan|runtime error|start-up:' '$TZ_TMP/web.log'"

# ---- a slow release holds up no other page (per-request connections) ----
# A second console whose ReleaseCommand waits for a go-ahead file: while a
# team release hangs in it, the queue page and the entry page must still
# answer, and the release must still be running when they did.
SLOW_PORT=$((TZ_PORT_BASE + 5))
printf '#!/bin/sh\ntouch "%s/slow.started"\nfor i in $(seq 1200); do [ -e "%s/slow.go" ] && break; sleep 0.1; done\nexec /usr/sbin/sendmail "$@"\n' \
	"$TZ_TMP" "$TZ_TMP" >"$TZ_TMP/slow-sendmail"
chmod 755 "$TZ_TMP/slow-sendmail"
sed -e "s|^WebListen .*|WebListen 127.0.0.1:$SLOW_PORT|" -e "s|^WebBaseURL .*|WebBaseURL http://127.0.0.1:$SLOW_PORT|" \
	-e "s|^ReleaseCommand .*|ReleaseCommand $TZ_TMP/slow-sendmail -C $TZ_PF -oi -t|" "$CONF" >"$TZ_TMP/slow.conf"
"$WEB" -f -c "$TZ_TMP/slow.conf" >>"$TZ_TMP/web-slow.log" 2>&1 &
TZ_PIDS+=("$!")
SLOW_PID=$!
tz_assert "a console with a slow ReleaseCommand listens" tz_wait_port "$SLOW_PORT"
n_before=$(tz_captured_count)
TZ_FROM=partner@example.org TZ_TO=jiro@city.example.lg.jp \
	tz_assert "a mail for jiro accepted" tz_send_expect 250 "$TZ_TMP/a.eml"
tz_assert "its notice arrives" tz_wait_count $((n_before + 1))
tz_assert "queue scan: clamd judges its part" "$CTL" queue -c "$CONF" scan
n_before=$(tz_captured_count)
slow_check() {
	/usr/bin/python3 - "$SLOW_PORT" "$P" "$PW" "$CTL" "$CONF" "$TZ_TMP" <<'PY'
import sys, os, re, json, time, threading, subprocess, urllib.request, urllib.parse, http.cookiejar
port, p, pw, ctl, conf, tmp = sys.argv[1:]
base = "http://127.0.0.1:%s" % port
rows = json.loads(subprocess.check_output([ctl, "queue", "-c", conf, "list", "--format", "json"]))
eid = [r["id"] for r in rows if r["to"] == "jiro@city.example.lg.jp"][0]
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a): return None
def opener():
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect)
def post(o, path, fields):
    try:
        r = o.open(base + path, urllib.parse.urlencode(fields).encode(), timeout=120)
        return r.status, r.headers.get("Location", "")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Location", "")
a, b = opener(), opener()
for o in (a, b):
    assert post(o, "/login", {"user": p + "_team", "password": pw})[0] == 303
csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', a.open(base + "/team").read().decode()).group(1)
result = {}
t = threading.Thread(target=lambda: result.update(r=post(a, "/team/action", {
    "csrf": csrf, "id": eid, "part": "1", "action": "release", "reason": "slow release test"})))
t.start()
for _ in range(600):
    if os.path.exists(tmp + "/slow.started"): break
    time.sleep(0.1)
ok = os.path.exists(tmp + "/slow.started")
pages = []
if ok:
    for path in ("/team", "/team/entry?id=" + eid, "/team/requests"):
        r = b.open(base + path, timeout=60)
        pages.append((path, r.status, "textize" in r.read().decode()))
    busy = t.is_alive() and not os.path.exists(tmp + "/slow.go")
open(tmp + "/slow.go", "w").close()
t.join(180)
print(json.dumps({"started": ok, "pages": pages, "busy": ok and busy, "release": result.get("r")}))
ok = ok and busy and len(pages) == 3 and all(s == 200 and body for _, s, body in pages)
ok = ok and result.get("r", (0, ""))[0] == 303 and "msg=released" in result["r"][1]
sys.exit(0 if ok else 1)
PY
}
tz_assert "while a release hangs in ReleaseCommand, the queue, entry and requests pages answer" slow_check
tz_assert "then the released file arrives" tz_wait_count $((n_before + 1))

# ---- SanitizedDelivery approve after PPAP, with an AES ZIP (7-Zip) ----
# A third console with SanitizedDelivery approve: staff open a WinZip AES
# archive with its password (7-Zip in the sandbox), nothing goes out; staff
# ask, a team member grants in the browser; the sanitized ZIP arrives.
SEVEN=$(command -v 7zz || command -v 7z || true)
if [ -z "$SEVEN" ]; then
	tz_skip "7zip (7zz) or p7zip-full missing: no AES ZIP for the approve flow (scripts/deps)"
else
	APPROVE_PORT=$((TZ_PORT_BASE + 6))
	(cd "$TZ_TMP/zip" && "$SEVEN" a -tzip -mem=AES256 -p'Aes-Pass-42' g.zip memo.txt >/dev/null)
	/usr/bin/python3 - "$TZ_TMP" <<'PY'
import sys, base64
d = sys.argv[1]
data = open(d + "/zip/g.zip", "rb").read()
open(d + "/g.eml", "w").write(
    "From: 取引先 <partner@example.org>\r\nTo: taro@city.example.lg.jp\r\n"
    "Subject: =?UTF-8?B?" + base64.b64encode("AES の見積書".encode()).decode() + "?=\r\n"
    "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=BB\r\n\r\n--BB\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n\r\nパスワードは別途お送りします\r\n--BB\r\n"
    "Content-Type: application/zip\r\nContent-Disposition: attachment; filename=\"aes-mitsumori.zip\"\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\n" +
    base64.encodebytes(data).decode().replace("\n", "\r\n") + "--BB--\r\n")
PY
	sed -e "s|^WebListen .*|WebListen 127.0.0.1:$APPROVE_PORT|" -e "s|^WebBaseURL .*|WebBaseURL http://127.0.0.1:$APPROVE_PORT|" \
		-e "/^SanitizedDelivery /d" "$CONF" >"$TZ_TMP/approve.conf"
	echo "SanitizedDelivery approve" >>"$TZ_TMP/approve.conf"
	"$WEB" -f -c "$TZ_TMP/approve.conf" >>"$TZ_TMP/web-approve.log" 2>&1 &
	TZ_PIDS+=("$!")
	tz_assert "a console with SanitizedDelivery approve listens" tz_wait_port "$APPROVE_PORT"
	n_before=$(tz_captured_count)
	TZ_FROM=partner@example.org TZ_TO=taro@city.example.lg.jp \
		tz_assert "mail G (AES-encrypted ZIP) accepted" tz_send_expect 250 "$TZ_TMP/g.eml"
	tz_assert "its notice arrives" tz_wait_count $((n_before + 1))
	tz_assert "queue scan" "$CTL" queue -c "$CONF" scan
	/usr/bin/python3 - "$TZ_TMP" "$WEB_PORT" "$APPROVE_PORT" "$TZ_TMP/browser.json" <<'PY' >"$TZ_TMP/approve.json"
import sys, glob, json, re, email, email.policy
d, port, aport, base = sys.argv[1:]
cfg = json.load(open(base))
for f in sorted(glob.glob(d + "/sink/*")):
    raw = open(f, "rb").read()
    m = email.message_from_bytes(raw[raw.index(b"From: "):] if raw.startswith(b"X-") else raw,
                                 policy=email.policy.default)
    body = m.get_body(("plain",))
    text = body.get_content() if body else ""
    link = re.search(r"http://127\.0\.0\.1:%s/s\?\S+" % port, text)
    if link and "aes-mitsumori.zip" in text and "X-Textize-Release" not in m:
        q = dict(x.split("=", 1) for x in link.group(0).split("?", 1)[1].split("&"))
        cfg["entry_g"] = dict(link=link.group(0).replace(":" + port + "/", ":" + aport + "/"), id=q["e"])
cfg.update(mode="approve", base="http://127.0.0.1:" + aport, zip_password="Aes-Pass-42")
json.dump(cfg, sys.stdout)
PY
	/usr/bin/python3 "$here/web-browser.py" "$TZ_TMP/approve.json" >"$TZ_TMP/approve.out" 2>&1
	while IFS= read -r line; do
		case $line in
		"ok "*) tz_pass "${line#ok }" ;;
		"not ok "*) tz_fail "${line#not ok }" ;;
		*) echo "  $line" ;;
		esac
	done <"$TZ_TMP/approve.out"
	grep -q "^ok approve: the sanitized archive arrives" "$TZ_TMP/approve.out" ||
		tz_fail "the approve flow reached its end"
fi

# ---- its own TLS (GnuTLS): a second instance with a self-signed cert ----
TLS_PORT=$((TZ_PORT_BASE + 4))
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
	-keyout "$TZ_TMP/tls.key" -out "$TZ_TMP/tls.crt" >/dev/null 2>&1
sed -e "s|^WebListen .*|WebListen 127.0.0.1:$TLS_PORT|" -e "s|^WebBaseURL .*|WebBaseURL https://127.0.0.1:$TLS_PORT|" \
	"$CONF" >"$TZ_TMP/tls.conf"
printf 'WebTLSCertFile %s\nWebTLSKeyFile %s\n' "$TZ_TMP/tls.crt" "$TZ_TMP/tls.key" >>"$TZ_TMP/tls.conf"
"$WEB" -f -c "$TZ_TMP/tls.conf" >>"$TZ_TMP/web-tls.log" 2>&1 &
TZ_PIDS+=("$!")
tz_assert "textize-web with WebTLSCertFile listens" tz_wait_port "$TLS_PORT"
tls_login() {
	curl -sS --cacert "$TZ_TMP/tls.crt" -o /dev/null -D - --data-urlencode "user=${P}_team" \
		--data-urlencode "password=$PW" "https://127.0.0.1:$TLS_PORT/login"
}
tls_login >"$TZ_TMP/tls.headers" 2>"$TZ_TMP/tls.err"
tz_assert "login over its own TLS: 303 to /team" grep -q "^HTTP/1.1 303" "$TZ_TMP/tls.headers"
tz_assert "under an https WebBaseURL the cookie is Secure, HttpOnly, SameSite=Strict" \
	grep -qiE "^set-cookie: textize_session=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Strict; Max-Age=[0-9]+; Secure" \
	"$TZ_TMP/tls.headers"
tz_assert "plain HTTP to the TLS port gets no page" \
	sh -c "! curl -s -m 5 http://127.0.0.1:$TLS_PORT/login | grep -q textize"
tz_assert "textize-web -n refuses a certificate without its key" \
	sh -c "grep -v '^WebTLSKeyFile' '$TZ_TMP/tls.conf' >'$TZ_TMP/tls-bad.conf'; ! '$WEB' -n -c '$TZ_TMP/tls-bad.conf' 2>/dev/null"
# ---- stopping: SIGTERM to the broker stops both halves; a killed broker
# takes the front with it (PDEATHSIG), so no orphan keeps the port ----
gone() { for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done; return 1; }
both_stop() { kill -TERM "$WEB_PID" && gone "$WEB_PID" && gone "$FRONT_PID"; }
tz_assert "SIGTERM to the broker stops the broker and the front" both_stop
SLOW_FRONT=$(cat /proc/"$SLOW_PID"/task/*/children 2>/dev/null | tr ' ' '\n' | grep -m1 .)
front_follows() { [ -n "$SLOW_FRONT" ] && kill -KILL "$SLOW_PID" && gone "$SLOW_FRONT"; }
tz_assert "a killed broker takes its front with it" front_follows
tz_say "screenshots: $SHOTS"
tz_done
