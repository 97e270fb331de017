#!/usr/bin/python3
# web-browser.py — the browser half of test_web.sh: drives a real
# textize-web with Selenium and Debian's chromium/chromium-driver (headless),
# as staff (the signed link from a delivered notice) and as the security
# team (PAM login), and checks the server's answers to forged requests with
# urllib. Prints "ok MSG" / "not ok MSG" lines that test_web.sh counts, and
# writes a screenshot of every page into SHOTS.
#
# usage: web-browser.py CONFIG.json   (written by test_web.sh)
import email, email.policy, glob, io, json, os, re, sys, tempfile, time, zipfile
import urllib.error, urllib.parse, urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

cfg = json.load(open(sys.argv[1]))
BASE, SINK, SHOTS = cfg["base"], cfg["sink"], cfg["shots"]
failed = 0


def check(ok, msg):
    global failed
    print(("ok " if ok else "not ok ") + msg, flush=True)
    if not ok:
        failed += 1
    return ok


def new_driver():
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--window-size=1280,1400", "--user-data-dir=" + tempfile.mkdtemp(prefix="tzw-chrome-")):
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)


def page(d, name, url=None):
    """Open url (or stay), screenshot, and check the console stayed clean."""
    if url:
        d.get(url)
    d.save_screenshot(os.path.join(SHOTS, name + ".png"))
    logs = [l for l in d.get_log("browser") if l["level"] in ("SEVERE", "WARNING")]
    # a 4xx page logs "Failed to load resource" by design; anything else is an error
    logs = [l for l in logs if "Failed to load resource" not in l["message"]]
    check(not logs, "%s: no console errors%s" % (name, (": " + str(logs)) if logs else ""))
    return d.page_source


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None


opener = urllib.request.build_opener(NoRedirect)


def http(method, path, fields=None, cookie=None):
    data = urllib.parse.urlencode(fields).encode() if fields is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if cookie:
        req.add_header("Cookie", cookie)
    try:
        with opener.open(req) as r:
            return r.status, r.read().decode("utf-8", "replace"), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace"), dict(e.headers)


def released_to(entry, rcpt, timeout=30):
    """The captured release mail of entry for rcpt, or None."""
    end = time.time() + timeout
    while time.time() < end:
        for f in sorted(glob.glob(SINK + "/*")):
            raw = open(f, "rb").read()
            lines = raw.split(b"\n")
            while lines and re.match(rb"X-(Client-[A-Za-z]*|Helo-Args|Mail-Args|Rcpt-Args):", lines[0]):
                lines.pop(0)
            m = email.message_from_bytes(b"\n".join(lines), policy=email.policy.default)
            if (m.get("X-Textize-Release", "").startswith(entry + " ") and
                    rcpt in str(m.get("To", ""))):
                return m
        time.sleep(0.5)
    return None


def attachment(m):
    for p in m.iter_attachments():
        return p.get_content()
    return None


def login(d, user, password, name):
    page(d, name + "-login", BASE + "/login")
    d.find_element(By.ID, "user").send_keys(user)
    d.find_element(By.ID, "password").send_keys(password)
    d.find_element(By.ID, "login").click()
    return page(d, name + "-queue")


def session_cookie(d):
    c = d.get_cookie("textize_session")
    return ("textize_session=" + c["value"]) if c else None, c


def approve_flow(d):
    """SanitizedDelivery approve after PPAP (an AES ZIP): staff give the
    password, nothing goes out yet; staff ask, a team member grants; the
    sanitized archive arrives."""
    G = cfg["entry_g"]
    page(d, "21-approve-ppap-form", G["link"])
    check(len(d.find_elements(By.ID, "password-1")) == 1, "approve: the AES ZIP's staff page offers a password form")
    d.find_element(By.ID, "password-1").send_keys(cfg["zip_password"])
    d.find_element(By.ID, "open-1").click()
    page(d, "22-approve-ppap-opened")
    check(len(d.find_elements(By.ID, "password-1")) == 0, "approve: the AES ZIP opened with its password")
    check(released_to(G["id"], "taro@", timeout=3) is None,
          "approve: nothing delivered after the password alone (the team decides)")
    d.find_element(By.ID, "reason").send_keys("パスワードで開いた見積書を受け取りたい")
    d.find_element(By.ID, "request").click()
    src = page(d, "23-approve-requested")
    check("依頼しました" in src, "approve: staff asked for the sanitized copy")
    login(d, cfg["team"], cfg["password"], "24-approve-team")
    page(d, "25-approve-requests", BASE + "/team/requests")
    grants = d.find_elements(By.CSS_SELECTOR, "button[id^=grant-]")
    check(len(grants) >= 1, "approve: the request waits on the team's requests page")
    if not grants:
        return
    grants[0].click()
    src = page(d, "26-approve-granted")
    check("配送しました" in src or "その職員へ配送しました" in src, "approve: the team member granted it")
    m = released_to(G["id"], "taro@city.example.lg.jp")
    check(m is not None, "approve: the sanitized archive arrives at the capture sink (one staff, one team action)")
    if m is not None:
        z = zipfile.ZipFile(io.BytesIO(attachment(m)))
        memo = [n for n in z.namelist() if n.startswith("memo")]
        check(memo and not any(i.flag_bits & 1 for i in z.infolist())
              and b"PPAP-MEMO-OK" in z.read(memo[0]),
              "approve: the delivered ZIP is the sanitized, unencrypted one with the memo (%s)" % z.namelist())


if cfg.get("mode") == "approve":
    d = new_driver()
    try:
        approve_flow(d)
    finally:
        d.quit()
    sys.exit(1 if failed else 0)

A, B = cfg["entry_a"], cfg["entry_b"]
d = new_driver()
try:
    # ---- staff: the link from the delivered notice ----
    src = page(d, "01-staff-link", A["link"])
    check("取り除いたファイル" in src and A["ref"] in src, "staff page shows the entry's 参照番号")
    body = d.find_element(By.TAG_NAME, "body").text
    check("<script>alert(1)</script>" in body, "hostile Subject shown as text, not markup")
    check("\u202e" not in d.page_source and "gpj.exe" in body,
          "the RLO in Subject and file name reaches the page only as a visible substitute")
    check(len(d.find_elements(By.TAG_NAME, "script")) == 0, "no <script> element on the staff page")
    status, _, hdrs = http("GET", A["link"][len(BASE):])
    csp = hdrs.get("Content-Security-Policy", "")
    check("default-src 'none'" in csp and "unsafe-inline" not in csp, "strict CSP header: " + csp)
    check(hdrs.get("Referrer-Policy") == "no-referrer", "no referrer (the link's MAC stays here)")
    # staff asks for the file
    d.find_element(By.ID, "reason").send_keys("取引先からの見積書で、業務に必要です")
    form = {e.get_attribute("name"): e.get_attribute("value")
            for e in d.find_elements(By.CSS_SELECTOR, "form input[type=hidden]")}
    d.find_element(By.ID, "request").click()
    src = page(d, "02-staff-requested")
    check("配送を依頼しました" in src, "staff request recorded")
    form["reason"] = "replayed"
    status, _, _ = http("POST", "/s/request", form)
    check(status == 409, "the same link cannot ask twice (HTTP %d)" % status)
    # a link for one entry does not open another
    other = A["link"].replace("e=" + A["id"], "e=" + B["id"])
    status, text, _ = http("GET", other[len(BASE):])
    check(status == 403 and B["ref"] not in text, "entry A's link with entry B's id: refused (%d)" % status)
    tampered = A["link"].replace("r=taro", "r=hanako")
    status, _, _ = http("GET", tampered[len(BASE):])
    check(status == 403, "entry A's link for another recipient: refused (%d)" % status)
    form2 = dict(form, e=B["id"])
    status, _, _ = http("POST", "/s/request", form2)
    check(status == 403, "a request posted with another entry's id: refused (%d)" % status)
    page(d, "03-staff-bad-link", other)

    # ---- PPAP: staff open an encrypted ZIP with the password ----
    C, D, E = cfg["entry_c"], cfg["entry_d"], cfg["entry_e"]
    src = page(d, "03a-ppap-form", C["link"])
    check(len(d.find_elements(By.ID, "password-1")) == 1, "the encrypted ZIP's staff page offers a password form")
    d.find_element(By.ID, "password-1").send_keys("not-the-password")
    d.find_element(By.ID, "open-1").click()
    src = page(d, "03b-ppap-wrong")
    check(len(d.find_elements(By.ID, "ppap-wrong-1")) == 1 and "あと 4 回" in src,
          "a wrong password: the page says so, 4 tries left")
    check(released_to(C["id"], "taro@", timeout=1) is None, "nothing delivered after a wrong password")
    d.find_element(By.ID, "password-1").send_keys(cfg["zip_password"])
    d.find_element(By.ID, "open-1").click()
    src = page(d, "03c-ppap-opened")
    check(len(d.find_elements(By.ID, "password-1")) == 0, "the right password: the form is gone")
    m = released_to(C["id"], "taro@city.example.lg.jp")
    check(m is not None, "PPAP: the sanitized archive arrives at the capture sink (one staff action)")
    if m is not None:
        z = zipfile.ZipFile(io.BytesIO(attachment(m)))
        names = z.namelist()
        memo = [n for n in names if n.startswith("memo")]
        check(memo and "PPAP-MEMO-OK" in z.read(memo[0]).decode("utf-8-sig") and
              not any(i.flag_bits & 1 for i in z.infolist()),
              "PPAP: the delivered ZIP is unencrypted and holds the memo's text (%s)" % names)
    # members scanned: EICAR inside the encrypted ZIP is held back
    d.get(D["link"])
    d.find_element(By.ID, "password-1").send_keys(cfg["zip_password"])
    d.find_element(By.ID, "open-1").click()
    page(d, "03d-ppap-infected-member")
    m = released_to(D["id"], "taro@city.example.lg.jp")
    check(m is not None, "PPAP with an infected member: the rest is delivered")
    if m is not None:
        z = zipfile.ZipFile(io.BytesIO(attachment(m)))
        rep = [n for n in z.namelist() if n.startswith("無害化")]
        text = z.read(rep[0]).decode("utf-8-sig") if rep else ""
        check(not any(n.startswith("eicar") for n in z.namelist()) and "Textize.Test.EICAR" in text,
              "PPAP: the EICAR member found by clamd is left out and named (%s)" % z.namelist())
    # five tries per link, then locked
    d.get(E["link"])
    form = {e.get_attribute("name"): e.get_attribute("value")
            for e in d.find_elements(By.CSS_SELECTOR, "form[action='/s/password'] input[type=hidden]")}
    status, _, _ = http("POST", "/s/password", list(dict(form, password="a").items()) + [("password", "b")])
    check(status == 400, "a post with a field named twice is refused, not joined (%d)" % status)
    codes = [http("POST", "/s/password", dict(form, password="wrong-%d" % i))[0] for i in range(5)]
    status, _, _ = http("POST", "/s/password", dict(form, password=cfg["zip_password"]))
    check(codes == [303] * 5 and status == 429,
          "PPAP: after 5 wrong passwords even the right one is refused (%s then %d)" % (codes, status))
    status, _, _ = http("POST", "/s/password", dict(form, password=cfg["zip_password"], t="0" * 64))
    check(status == 403, "PPAP: a password post without the link's form token: refused (%d)" % status)
    src = page(d, "03e-ppap-locked", E["link"])
    check(len(d.find_elements(By.ID, "ppap-locked-1")) == 1 and len(d.find_elements(By.ID, "password-1")) == 0,
          "PPAP: the locked link's page says so and offers no form")
    check(released_to(E["id"], "taro@", timeout=1) is None, "PPAP: the locked archive was not delivered")

    # ---- team member logs in, grants the staff request ----
    src = login(d, cfg["team"], cfg["password"], "04-team")
    check("隔離キュー" in src and A["ref"] in src, "team member logged in, queue lists entry A")
    cookie, c = session_cookie(d)
    check(c is not None and c.get("httpOnly") and c.get("sameSite") == "Strict",
          "session cookie is HttpOnly and SameSite=Strict")
    page(d, "05-queue-filter", BASE + "/team?state=infected")
    check(B["ref"] in d.page_source and A["ref"] not in d.page_source, "state filter: only the infected entry")
    src = page(d, "06-requests", BASE + "/team/requests")
    check("taro@city.example.lg.jp" in src, "the staff request waits on the requests page")
    # CSRF: the session cookie alone does not make an action
    rid = d.find_element(By.CSS_SELECTOR, "button[id^=grant-]").get_attribute("id").split("-")[1]
    status, _, _ = http("POST", "/team/action", {"action": "grant", "req": rid}, cookie)
    check(status == 403, "grant without the CSRF token: refused (%d)" % status)
    status, _, _ = http("POST", "/team/action", {"action": "grant", "req": rid, "csrf": "0" * 64}, cookie)
    check(status == 403, "grant with a wrong CSRF token: refused (%d)" % status)
    check(released_to(A["id"], "taro@", timeout=1) is None, "nothing released by the forged posts")
    d.find_element(By.ID, "grant-" + rid).click()
    src = page(d, "07-entry-granted")
    check("職員の依頼に応じて" in src, "team member granted the request")
    m = released_to(A["id"], "taro@city.example.lg.jp")
    check(m is not None, "the released file arrives at the capture sink for taro")
    if m is not None:
        check(attachment(m) == cfg["pdf_bytes"].encode(), "the released attachment is the PDF sent")
    d.get(A["link"])
    check("お届けしました" in d.page_source, "the staff page now says delivered")

    # ---- block the sender's domain from the entry, allow one address ----
    page(d, "07a-entry-sender", BASE + "/team/entry?id=" + A["id"])
    d.find_element(By.ID, "sender-block-domain").click()
    src = page(d, "07b-sender-blocked")
    check("拒否リストに加えました" in src, "team member blocked the sender's domain from the entry")
    d.find_element(By.ID, "sender-allow-address").click()
    src = page(d, "07c-sender-allowed")
    check("許可リストに加えました" in src, "team member allowed the sender's own address")
    status, _, _ = http("POST", "/team/action", {"action": "sender", "id": A["id"], "kind": "block",
                                                 "scope": "address"}, session_cookie(d)[0])
    check(status == 403, "a sender block without the CSRF token: refused (%d)" % status)

    # ---- the sender list page: list the entries, remove one ----
    d.find_element(By.ID, "sender-block-address").click()
    page(d, "07d-sender-address-blocked")
    src = page(d, "07e-senders", BASE + "/team/senders")
    rows = [tr.text for tr in d.find_elements(By.CSS_SELECTOR, "#senders tr")][1:]
    check(len(rows) == 3 and any(r.startswith("拒否 example.com") for r in rows)
          and any(r.startswith("許可(拒否の例外) sender@example.com") for r in rows)
          and any(r.startswith("拒否 sender@example.com") for r in rows),
          "the sender list page lists the three entries (%s)" % rows)
    status, _, _ = http("POST", "/team/action", {"action": "unlist", "kind": "block",
                                                 "pattern": "sender@example.com"}, session_cookie(d)[0])
    check(status == 403, "a removal without the CSRF token: refused (%d)" % status)
    form = [f for f in d.find_elements(By.CSS_SELECTOR, "#senders form")
            if f.find_element(By.NAME, "kind").get_attribute("value") == "block"
            and f.find_element(By.NAME, "pattern").get_attribute("value") == "sender@example.com"]
    check(len(form) == 1, "the blocked address has a remove form")
    if form:
        form[0].find_element(By.NAME, "reason").send_keys("誤って追加")
        form[0].find_element(By.CSS_SELECTOR, "button").click()
        src = page(d, "07f-sender-unlisted")
        rows = [tr.text for tr in d.find_elements(By.CSS_SELECTOR, "#senders tr")][1:]
        check("リストから外しました" in src and len(rows) == 2
              and not any(r.startswith("拒否 sender@example.com") for r in rows),
              "team member removed the address block; the other two entries stay (%s)" % rows)
    lines = [l for l in open(cfg["senders"]).read().splitlines() if l and not l.startswith("#")]
    check(lines == ["block example.com", "allow sender@example.com"],
          "SenderListFile holds the two remaining entries (%s)" % lines)

    # ---- forced release of the infected part: two approvers ----
    page(d, "08-entry-infected", BASE + "/team/entry?id=" + B["id"])
    check("検出あり" in d.page_source, "entry B's part is shown as infected")
    d.find_element(By.ID, "reason-force-1").send_keys("送信元に電話で確認済み")
    d.find_element(By.ID, "force-1").click()
    src = page(d, "09-force-requested")
    check("申請しました" in src, "forced release requested by the team member")
    check(released_to(B["id"], "", timeout=2) is None, "nothing sent before a second approval")
    check(len(d.find_elements(By.ID, "approve-1")) == 0, "a team member without the approver role sees no approve button")
    d.find_element(By.ID, "logout").click()
    page(d, "10-logged-out")
    status, _, _ = http("GET", "/team", cookie=cookie)
    check(status == 303, "the old session cookie no longer opens team pages (%d)" % status)

    login(d, cfg["approver"], cfg["password"], "11-approver")
    page(d, "12-entry-approve", BASE + "/team/entry?id=" + B["id"])
    d.find_element(By.ID, "approve-1").click()
    src = page(d, "13-approved")
    check("配送しました" in src, "the second approver's approval sends it")
    m = released_to(B["id"], "taro@city.example.lg.jp")
    check(m is not None, "the forced release arrives at the capture sink")
    if m is not None:
        check(m.get_body(("plain",)).get_content().startswith("【注意】"),
              "the forced release carries the warning on top")

    # ---- report and audit log ----
    src = page(d, "14-report", BASE + "/team/report")
    check("<svg" in src, "daily report drawn with SVG charts")
    src = page(d, "15-audit", BASE + "/team/audit")
    check("改ざんなし" in src, "audit log verified intact")
    for ev, who in (("release_requested_by_staff", "staff:taro@city.example.lg.jp"),
                    ("ppap_password_wrong", "staff:taro@city.example.lg.jp"),
                    ("sender_blocked", cfg["team"]), ("sender_allowed", cfg["team"]),
                    ("sender_unlisted", cfg["team"]),
                    ("ppap_password_locked", "staff:taro@city.example.lg.jp"),
                    ("release_requested", cfg["team"]), ("approved", cfg["approver"])):
        check(ev in src and who in src, "audit log has %s by %s" % (ev, who))
    page(d, "16-entry-a", BASE + "/team/entry?id=" + A["id"])
    check("<script>alert(1)</script>" in d.find_element(By.ID, "message").text,
          "team entry page shows the hostile Subject as text")
    check(len(d.find_elements(By.TAG_NAME, "script")) == 0, "no <script> element on the team entry page")
    check(len(d.find_elements(By.ID, "body")) == 1 and "参照番号" in d.find_element(By.ID, "body").text,
          "the text-ized body as staff saw it is shown")

    # ---- auditor: read only ----
    d.find_element(By.ID, "logout").click()
    login(d, cfg["auditor"], cfg["password"], "17-auditor")
    page(d, "18-auditor-entry", BASE + "/team/entry?id=" + A["id"])
    check(len(d.find_elements(By.CSS_SELECTOR, "form[action='/team/action']")) == 0,
          "an auditor sees no action forms")
    cookie, _ = session_cookie(d)
    csrf = d.find_element(By.CSS_SELECTOR, "input[name=csrf]").get_attribute("value")
    status, _, _ = http("POST", "/team/action", {"action": "reject", "id": A["id"], "part": "1",
                                                 "csrf": csrf}, cookie)
    check(status == 403, "an auditor's reject with a valid CSRF token: refused (%d)" % status)

    # ---- login rate limit (last: it locks out 127.0.0.1) ----
    codes = [http("POST", "/login", {"user": cfg["team"], "password": "wrong"})[0] for _ in range(5)]
    status, _, _ = http("POST", "/login", {"user": cfg["team"], "password": cfg["password"]})
    check(codes == [401] * 5 and status == 429,
          "after 5 failures the right password is refused too (%s then %d)" % (codes, status))
finally:
    d.quit()
sys.exit(1 if failed else 0)
