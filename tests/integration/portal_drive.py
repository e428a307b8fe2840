#!/usr/bin/python3
"""portal_drive.py — drives the /enroll page in a real Chromium (headless)
through the DevTools protocol (CDP over its websocket; python3-websocket),
for tests/integration/t_portal.sh.

    portal_drive.py PLAN.json

PLAN: {"cdp": "http://127.0.0.1:PORT", "url": "http://127.0.0.1:PORT/enroll",
       "shots": DIR, "downloads": DIR, "enroll": crtoken-enroll path,
       "tokens": {"a": ..., "b": ..., "expired": ...}, "otp": {user: base32 secret},
       "passphrase": ..., "org": ..., "help": ..., "out": RESULT.json}

Prints one line per check, "ok NAME" or "not ok NAME" (then "# detail"
lines), which the suite turns into TAP. Every step is a screenshot in
shots/ at a phone's width (375 CSS pixels), and every check reads the DOM
(innerText, attributes), not the pixels. Results the suite checks with
openssl (file names, the passphrase the server showed) go to PLAN["out"].
"""
import base64
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import websocket

PLAN = json.load(open(sys.argv[1]))
RESULT = {}
FAILED = 0


def check(name, cond, detail=""):
    global FAILED
    if cond:
        print("ok " + name, flush=True)
    else:
        FAILED += 1
        print("not ok " + name, flush=True)
        for line in str(detail).splitlines()[:15]:
            print("# " + line, flush=True)


class CDP:
    """One browser-level websocket; the page is a flat session on it."""

    def __init__(self, base):
        deadline = time.time() + 20
        while True:
            try:
                with urllib.request.urlopen(base + "/json/version", timeout=2) as r:
                    ws_url = json.load(r)["webSocketDebuggerUrl"]
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events = []
        self.problems = []  # uncaught exceptions, CSP refusals, console errors
        self.session = None

    def got(self, m):
        self.events.append(m)
        if m.get("method") == "Runtime.exceptionThrown":
            self.problems.append(m["params"]["exceptionDetails"].get("text"))
        elif m.get("method") == "Log.entryAdded" and m["params"]["entry"]["level"] == "error":
            e = m["params"]["entry"]
            # A 4xx answer is logged by the browser as a failed resource; the
            # page handles those. Anything else (CSP refusals...) is a problem.
            if e.get("source") != "network":
                self.problems.append(e.get("text"))

    def call(self, method, session=True, **params):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if session and self.session:
            msg["sessionId"] = self.session
        self.ws.send(json.dumps(msg))
        while True:
            m = json.loads(self.ws.recv())
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.got(m)

    def pump(self, seconds):
        """Read events for a while (downloads, network)."""
        self.ws.settimeout(seconds)
        try:
            while True:
                self.got(json.loads(self.ws.recv()))
        except websocket.WebSocketTimeoutException:
            pass
        finally:
            self.ws.settimeout(30)

    def js(self, expr, await_promise=True):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True,
                      awaitPromise=await_promise)
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expr[:80]}: {r['exceptionDetails']}")
        return r["result"].get("value")

    # What Chromium answers an evaluation that a navigation overtook: the
    # document it ran in is gone. A wait across a reload asks again.
    NAVIGATED = ("Inspected target navigated or closed", "Execution context was destroyed",
                 "Cannot find context with specified id")

    def wait(self, expr, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                v = self.js(expr)
            except RuntimeError as e:
                if not any(n in str(e) for n in self.NAVIGATED):
                    raise
                v = None
            if v:
                return v
            time.sleep(0.05)
        return None


cdp = CDP(PLAN["cdp"])
target = cdp.call("Target.createTarget", session=False, url="about:blank")["targetId"]
cdp.session = cdp.call("Target.attachToTarget", session=False, targetId=target,
                       flatten=True)["sessionId"]
os.makedirs(PLAN["downloads"], exist_ok=True)
os.makedirs(PLAN["shots"], exist_ok=True)
cdp.call("Browser.setDownloadBehavior", session=False, behavior="allow",
         downloadPath=PLAN["downloads"], eventsEnabled=True)
cdp.call("Page.enable")
cdp.call("Runtime.enable")
cdp.call("Network.enable")
cdp.call("Log.enable")
cdp.call("Emulation.setDeviceMetricsOverride", width=375, height=740, deviceScaleFactor=1,
         mobile=True)


WIDTH = [375]


def phone(width):
    """Emulate a phone this many CSS pixels wide."""
    WIDTH[0] = width
    cdp.call("Emulation.setDeviceMetricsOverride", width=width, height=740, deviceScaleFactor=1,
             mobile=True)


def shot(name):
    m = cdp.call("Page.getLayoutMetrics")["cssContentSize"]
    r = cdp.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                 clip={"x": 0, "y": 0, "width": WIDTH[0], "height": max(740, m["height"]),
                       "scale": 1})
    path = os.path.join(PLAN["shots"], name + ".png")
    with open(path, "wb") as f:
        f.write(base64.b64decode(r["data"]))
    return path


def text():
    return cdp.js("document.body.innerText")


# WCAG 2 contrast of every visible element's own text against the first
# opaque background behind it: 4.5:1, 3:1 for large text (24px, or bold
# 18.66px). Returns the elements that fall short.
CONTRAST_JS = r"""(() => {
  const rgb = (s) => { const m = s.match(/rgba?\(([^)]+)\)/); if (!m) return null;
    const p = m[1].split(',').map(parseFloat); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const bg = (e) => { for (; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor);
    if (c && c.a > 0.99) return c; } return {r: 255, g: 255, b: 255, a: 1}; };
  const bad = [];
  let n = 0;
  for (const e of document.querySelectorAll('body *')) {
    if (e.offsetParent === null || e.closest('.sr-only')) continue;
    if (![...e.childNodes].some((x) => x.nodeType === 3 && x.textContent.trim())) continue;
    const st = getComputedStyle(e), a = lum(rgb(st.color)), b = lum(bg(e));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(st.fontSize), large = size >= 24 || (parseInt(st.fontWeight) >= 700 && size >= 18.66);
    n++;
    if (ratio < (large ? 3 : 4.5))
      bad.push(e.tagName + '#' + e.id + ' ' + ratio.toFixed(2) + ': ' + e.textContent.trim().slice(0, 40));
  }
  return {checked: n, bad: bad};
})()"""


def contrast(where):
    r = cdp.js(CONTRAST_JS)
    check(f"contrast: all {r['checked']} visible texts {where} reach WCAG AA (4.5:1, 3:1 large)",
          r["checked"] > 5 and r["bad"] == [], r["bad"])


# The visible focusable elements in document order (a radio group counts
# once, as its checked radio: Tab enters a group once), and that nothing
# sets a positive tabindex (which would reorder the keyboard).
FOCUSABLE_JS = r"""(() => {
  const all = [...document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]')]
    .filter((e) => e.offsetParent !== null && !e.disabled && e.tabIndex >= 0);
  const groups = new Set(), out = [];
  for (const e of all) {
    if (e.type === 'radio') {
      if (groups.has(e.name)) continue;
      groups.add(e.name);
      out.push((document.querySelector('input[name="' + e.name + '"]:checked') || e).id);
    } else out.push(e.id || e.tagName);
  }
  return {order: out, positive: [...document.querySelectorAll('[tabindex]')].filter((e) => e.tabIndex > 0).map((e) => e.id)};
})()"""


def tab():
    for t in ("keyDown", "keyUp"):
        cdp.call("Input.dispatchKeyEvent", type=t, key="Tab", code="Tab", windowsVirtualKeyCode=9)


def keyboard_order(start, where):
    """From the focused element start, Tab must visit every focusable
    element of the step once, in document (= visual) order."""
    f = cdp.js(FOCUSABLE_JS)
    cdp.js(f"document.getElementById({json.dumps(start)}).focus()")
    visited = []
    for _ in f["order"]:
        tab()
        visited.append(cdp.js("document.activeElement.id || document.activeElement.tagName"))
    check(f"keyboard: Tab goes through {where} in reading order ({len(visited)} stops), "
          "no positive tabindex", visited == f["order"] and f["positive"] == [],
          f"visited {visited}\nexpected {f['order']}\npositive {f['positive']}")


def fits(width):
    phone(width)
    w = cdp.js("document.documentElement.scrollWidth")
    return w <= width, w


def requests_to(fragment):
    return [e["params"]["request"]["url"] for e in cdp.events
            if e.get("method") == "Network.requestWillBeSent"
            and fragment in e["params"]["request"]["url"]]


def load():
    cdp.events.clear()
    cdp.call("Page.navigate", url=PLAN["url"])
    return cdp.wait("document.body && document.body.dataset.ready === '1'")


ACTIONABLE_JS = r"""((sel) => { const e = document.querySelector(sel);
    if (!e) return {missing: true};
    e.scrollIntoView({block: 'center'});
    const r = e.getBoundingClientRect();
    if (e.offsetParent === null || r.width === 0 || r.height === 0) return {hidden: true};
    const x = r.x + r.width / 2, y = r.y + r.height / 2, hit = document.elementFromPoint(x, y);
    return {box: [x, y], hit: Boolean(hit) && (hit === e || e.contains(hit) || (e.labels && [...e.labels].some((l) => l.contains(hit) || l === hit.closest('label')))),
            what: hit ? hit.tagName + '#' + hit.id : null}; })"""


def actionable(sel, timeout=10):
    """Wait until sel is shown and is the element at its own centre (not
    covered, not moving: the same box twice); the centre, or an error
    naming what stood in the way. A click that lands elsewhere is never
    sent: a page still laying out would take it as a click on nothing."""
    deadline = time.time() + timeout
    last = None
    while True:
        r = cdp.js(f"({ACTIONABLE_JS})({json.dumps(sel)})")
        if r.get("hit") and r["box"] == (last or {}).get("box"):
            return r["box"]
        last = r
        if time.time() > deadline:
            raise RuntimeError(f"{sel} cannot be clicked after {timeout} s: {r}")
        time.sleep(0.05)


def click(sel):
    """A real mouse click at the element's centre (scrolled into view)."""
    x, y = actionable(sel)
    for t in ("mousePressed", "mouseReleased"):
        cdp.call("Input.dispatchMouseEvent", type=t, x=x, y=y, button="left", clickCount=1)


def type_into(sel, value, timeout=10):
    """Focus the field, empty it, then insert value as typed/pasted text.
    The field must take the focus (shown, enabled): text typed while it
    cannot would go to whatever else has the focus."""
    deadline = time.time() + timeout
    while not cdp.js(f"(() => {{ const e = document.querySelector({json.dumps(sel)}); if (!e) return false; e.focus(); e.select && e.select(); e.value = ''; return document.activeElement === e; }})()"):
        if time.time() > deadline:
            raise RuntimeError(f"{sel} does not take the focus after {timeout} s")
        time.sleep(0.05)
    cdp.call("Input.insertText", text=value)


def otp(user, offset=0):
    """The code of user's window offset seconds from now. A code of the
    window before ([otp] window = 1 accepts it) made in the last seconds of
    a window is two windows old when the server checks it: wait for the
    next window then."""
    if offset < 0:
        left = 30 - time.time() % 30
        if left < 8:
            time.sleep(left + 0.2)
    cmd = ["oathtool", "--totp", "-b", PLAN["otp"][user]]
    if offset:
        cmd[2:2] = ["-N", f"now + {offset} seconds"]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()


def error_code():
    return cdp.js("document.getElementById('error').hidden ? null : document.getElementById('error').dataset.code")


def download(sel, timeout=15):
    """Click a download link; wait for its file. Returns the path or None."""
    name = cdp.js(f"document.querySelector({json.dumps(sel)}).dataset.filename")
    path = os.path.join(PLAN["downloads"], name)
    click(sel)
    deadline = time.time() + timeout
    while time.time() < deadline:
        cdp.pump(0.1)
        done = [e for e in cdp.events if e.get("method") == "Browser.downloadProgress"
                and e["params"].get("state") == "completed"]
        if done and os.path.exists(path):
            cdp.events[:] = [e for e in cdp.events if e not in done]
            return path
    return None


def sign_in(token, user, code):
    """Steps 1 and 2 of the page for token, up to pressing "Sign in" (which
    asks the server for the preview)."""
    type_into("#token", token)
    click("#b-token")
    cdp.wait("document.body.dataset.step === '2'", 5)
    type_into("#user", user)
    type_into("#otp", code)
    click("#b-login")


def choose(user, key="browser", passphrase=None, offset=30):
    """Step 3 (after the preview): the key, the next one-time code (the one
    of the sign-in is used), up to pressing "Get my certificate"."""
    cdp.wait("document.body.dataset.step === '3'", 20)
    click("#k-" + key)
    if key == "browser":
        type_into("#pass1", passphrase)
        type_into("#pass2", passphrase)
    type_into("#otp2", otp(user, offset))
    click("#b-redeem")


def password_flow():
    """A PAM stack that asks for a password, then the one-time code."""
    load()
    sign_in(PLAN["tokens"]["c"], "erin", otp("erin"))
    cdp.wait("!document.getElementById('error').hidden", 20)
    check("password + code stack: the code alone is refused",
          error_code() == "authentication_failed", text())
    click("#want-password")
    cdp.wait("!document.getElementById('password-box').hidden", 5)
    type_into("#password", PLAN["password"])
    type_into("#otp", otp("erin"))
    shot("11-password-and-code")
    click("#b-login")
    check("password + code stack: with the password ticked, the preview comes",
          cdp.wait("document.body.dataset.step === '3'", 20), text() + str(error_code()))
    choose("erin", "server")
    ok = cdp.wait("document.body.dataset.step === '4'", 30)
    t = text()
    check("password + code stack: with the password ticked, the certificate is issued",
          ok and "Issued to" in t and "erin" in t, t + str(error_code()))
    check("no script error, no Content-Security-Policy refusal", cdp.problems == [],
          cdp.problems)
    cdp.call("Target.closeTarget", session=False, targetId=target)
    sys.exit(0)


def login_and_wait(timeout=20):
    """Press "Sign in" and wait for the answer: the button is disabled while
    the request runs and enabled again after it."""
    click("#b-login")
    return cdp.wait("!document.getElementById('b-login').disabled && "
                    "(!document.getElementById('error').hidden || document.body.dataset.step === '3')",
                    timeout)


def wrong_code(user):
    valid = {otp(user, o) for o in (-30, 0, 30, 60)}
    return next(f"{n:06d}" for n in range(123456, 999999) if f"{n:06d}" not in valid)


def limits_flow():
    """The OTP lockout and the per-address limit, as the page tells them:
    PLAN["max_failures"] wrong codes lock the account ([otp] max_failures),
    then even the right code is otp_locked; failed logins from this address
    up to [server] rate_limit_failures, then every attempt is rate_limited."""
    load()
    wrong = wrong_code("frank")
    type_into("#token", PLAN["tokens"]["f"])
    click("#b-token")
    cdp.wait("document.body.dataset.step === '2'", 5)
    type_into("#user", "frank")
    codes = []
    for _ in range(PLAN["max_failures"]):
        type_into("#otp", wrong)
        login_and_wait()
        codes.append(error_code())
    check(f"the {PLAN['max_failures']} wrong codes that lock the account each say sign-in failed",
          codes == ["authentication_failed"] * PLAN["max_failures"], codes)
    type_into("#otp", otp("frank"))
    login_and_wait()
    t = text()
    check("then the right code: the page says the account is locked, and what to do",
          error_code() == "otp_locked" and "locked for a while" in t
          and "ask your administrator" in t and document_step() == "2", t)
    check("... announced (role=alert), the code field marked invalid",
          cdp.js("document.getElementById('error').getAttribute('role')") == "alert"
          and cdp.js("document.getElementById('otp').getAttribute('aria-invalid')") == "true")
    shot("12-otp-locked")

    # Failed logins of a name without OTP (never locked) until the address is blocked.
    base = PLAN["url"].rsplit("/enroll", 1)[0]
    url = base + "/client-certificates/token/" + PLAN["tokens"]["g"]
    auth = "Basic " + base64.b64encode(b"nobody:" + wrong.encode()).decode()
    statuses = []
    for _ in range(2 * PLAN["rate_limit_failures"]):
        rq = urllib.request.Request(url, data=b'{"type":"GENERATE"}', method="POST",
                                    headers={"Content-Type": "application/json",
                                             "Authorization": auth})
        try:
            with urllib.request.urlopen(rq, timeout=10) as r:
                statuses.append(r.status)
        except urllib.error.HTTPError as e:
            statuses.append(e.code)
        if statuses[-1] != 401:
            break
    check("failed logins from this address (outside the page) end in 429",
          statuses[-1] == 429 and set(statuses[:-1]) <= {401}, statuses)
    load()
    sign_in(PLAN["tokens"]["g"], "gina", otp("gina"))
    cdp.wait("!document.getElementById('error').hidden", 20)
    t = text()
    check("then the page, with a right code: it says too many attempts from this network, "
          "and for how long",
          error_code() == "rate_limited" and "Too many failed attempts" in t
          and "try again in" in t, t)
    shot("13-rate-limited")
    check("no script error, no Content-Security-Policy refusal", cdp.problems == [],
          cdp.problems)
    cdp.call("Target.closeTarget", session=False, targetId=target)
    sys.exit(0)


def document_step():
    return cdp.js("document.body.dataset.step")


def admin(*args):
    """crtoken-admin on the suite's instance (CRTOKEN_CONF in the environment)."""
    return subprocess.run([PLAN["admin"], *args], capture_output=True, text=True, timeout=60)


def wait_row(label):
    """The value of the row label in the waiting card."""
    return cdp.js(f"""(() => {{ for (const dt of document.querySelectorAll('#wait-list dt'))
        if (dt.textContent === {json.dumps(label)}) return dt.nextElementSibling.textContent;
        return null; }})()""")


def kept_in_session():
    return cdp.js("JSON.stringify(Object.assign({}, sessionStorage))")


def pending_request(token, user, what):
    """Redeem token as user with a key made in the browser: the page must
    go to the waiting step. Returns the request id it shows (None if not)."""
    load()
    sign_in(token, user, otp(user))
    choose(user, "browser", PLAN["passphrase"])
    ok = cdp.wait("document.body.dataset.step === 'wait'", 30)
    t = text()
    check(f"{what}: the redemption answered 202 and the page waits for approval",
          ok and "Waiting for approval" in t and "administrator must approve" in t,
          t + str(error_code()))
    return wait_row("Request")


def reload_while_waiting():
    """Reload the waiting page (accepting the beforeunload question): the
    type of the dialog it opened (None: none), and whether the reloaded page
    is ready and waiting again."""
    cdp.events.clear()
    # the marker tells the old document from the reloaded one
    cdp.js("window.beforeReload = true; setTimeout(() => location.reload(), 0); true")
    asked = None
    deadline = time.time() + 10
    while asked is None and time.time() < deadline:
        cdp.pump(0.2)
        d = [e for e in cdp.events if e.get("method") == "Page.javascriptDialogOpening"]
        if d:
            asked = d[0]["params"].get("type")
            cdp.call("Page.handleJavaScriptDialog", accept=True)
    ok = cdp.wait("!window.beforeReload && document.body && document.body.dataset.ready === '1' && "
                  "document.body.dataset.step === 'wait'", 20)
    return asked, ok


def request_state(rid):
    r = admin("request", "show", rid, "--json")
    return json.loads(r.stdout)["state"] if r.returncode == 0 else r.stderr


def polls():
    return [e for e in cdp.events if e.get("method") == "Network.requestWillBeSent"
            and "/certificate-requests/" in e["params"]["request"]["url"]]


def approval_flow():
    """A token that needs an administrator's approval, redeemed in the page
    with a key made in the browser: the page waits (request id shown,
    polling GET /certificate-requests/{id} with the poll secret, sooner
    first, then less often), and crtoken-admin decides while it waits."""
    # -------------------------------------------------- approved while the page waits
    rid = pending_request(PLAN["approval"]["approve"], "hank", "approval")
    check("... showing the request id", bool(rid) and len(rid) > 8, rid)
    kept = kept_in_session()
    check("... sessionStorage keeps the request id and poll secret, never the key or the passphrase",
          rid in kept and "crq_" in kept and PLAN["passphrase"] not in kept
          and "PRIVATE" not in kept and sorted(json.loads(json.loads(kept)["crtoken.pendingRequest"]))
          == ["commonName", "createdAt", "expiresAt", "pollSecret", "requestId", "tokenName"], kept)
    deadline = time.time() + 20
    while len(polls()) < 2 and time.time() < deadline:
        cdp.pump(0.2)
    p = polls()
    auths = [e["params"]["request"]["headers"].get("Authorization", "") for e in p]
    check("... it polls by itself (two checks so far), with the poll secret as a Bearer token",
          len(p) >= 2 and all(a.startswith("Bearer crq_") for a in auths)
          and all(e["params"]["request"]["url"].endswith("/certificate-requests/" + rid) for e in p),
          [e["params"]["request"]["url"] for e in p])
    check("... the page says when it checks next", "next check in" in
          cdp.js("document.getElementById('wait-progress').textContent"), text())
    contrast("while waiting for approval")
    shot("14-waiting-for-approval")
    r = admin("request", "approve", rid)
    check("crtoken-admin request approve while the page waits", r.returncode == 0, r.stderr)
    ok = cdp.wait("document.body.dataset.step === '4'", 60)
    t = text()
    check("the page notices the approval by itself and shows the certificate",
          ok and "made in this browser" in t and "Serial" in t, t + str(error_code()))
    check("... and keeps nothing in sessionStorage any more", kept_in_session() == "{}",
          kept_in_session())
    shot("15-approved")
    p12 = download("#dl-p12")
    crt = download("#dl-crt")
    check("the PKCS#12 built for the approved certificate downloads", p12 is not None)
    RESULT["approved"] = {"p12": p12, "crt": crt, "request": rid}

    # -------------------------------------------------- GENERATE refused, then denied
    load()
    sign_in(PLAN["approval"]["deny"], "ivy", otp("ivy", -30))
    choose("ivy", "server", offset=0)
    cdp.wait("!document.getElementById('error').hidden", 20)
    t = text()
    check("a key made by the server for a token that needs approval: the page says to make it "
          "in the browser (approval_required), the token unspent",
          error_code() == "approval_required" and '"In this browser"' in t
          and document_step() == "3", t)
    click("#k-browser")
    type_into("#pass1", PLAN["passphrase"])
    type_into("#pass2", PLAN["passphrase"])
    type_into("#otp2", otp("ivy", 30))
    click("#b-redeem")
    ok = cdp.wait("document.body.dataset.step === 'wait'", 30)
    check("denial: ... then with the browser key the page waits for approval", ok,
          text() + str(error_code()))
    rid = wait_row("Request")
    r = admin("request", "deny", rid, "--reason", "Not a company <device> & \"personal\"")
    check("crtoken-admin request deny while the page waits", r.returncode == 0, r.stderr)
    click("#b-check")
    cdp.wait("!document.getElementById('error').hidden", 30)
    t = text()
    check("a denied request: the page says so, with the administrator's reason (as text)",
          error_code() == "request_denied" and "denied" in t
          and 'Not a company <device> & "personal"' in t
          and cdp.js("document.querySelectorAll('#main device').length") == 0, t)
    check("... stops checking and forgets the request",
          kept_in_session() == "{}" and cdp.js("document.getElementById('b-check').hidden"))
    shot("16-denied")

    # -------------------------------------------------- expired
    rid = pending_request(PLAN["approval"]["expire"], "jack", "expiry")
    # [requests] pending_lifetime passing: the request's deadline moved to the past.
    subprocess.run(["sqlite3", "-cmd", ".timeout 5000", PLAN["db"], "UPDATE certificate_requests SET expires_at = "
                    f"strftime('%s','now') - 1 WHERE id = '{rid}'"], check=True)
    click("#b-check")
    cdp.wait("!document.getElementById('error').hidden", 30)
    t = text()
    check("an expired request: the page says nobody approved it in time",
          error_code() == "request_expired" and "before it expired" in t, t)
    shot("17-expired")

    # -------------------------------------------------- a reload while waiting
    rid = pending_request(PLAN["approval"]["reload"], "lena", "reload")
    asked, ok = reload_while_waiting()
    check("leaving the page while it waits asks first (the key would be lost)",
          asked == "beforeunload", asked)
    t = text()
    check("after the reload the page still knows the request (sessionStorage) and waits for it",
          ok and wait_row("Request") == rid and "was reloaded" in t, t)
    r = admin("request", "approve", rid)
    click("#b-check")
    cdp.wait("!document.getElementById('error').hidden", 30)
    t = text()
    check("approved after the reload: the page says the key was lost with the reload, what to do",
          r.returncode == 0 and error_code() == "request_key_lost" and "My certificates" in t, t)
    shot("18-approved-after-reload")

    # -------------------------------------------------- cancelled while the page waits
    rid = pending_request(PLAN["approval"]["cancel"], "mia", "cancel")
    check("... the waiting page offers to cancel the request",
          cdp.js("!document.getElementById('b-cancel').hidden")
          and cdp.js("document.getElementById('wait-lost-hint').hidden"), text())
    cdp.events.clear()
    click("#b-cancel")
    ok = cdp.wait("document.getElementById('b-cancel').hidden && "
                  "document.getElementById('wait-list').textContent.includes('Cancelled by you')", 20)
    t = text()
    sent = [e["params"]["request"] for e in cdp.events if e.get("method") == "Network.requestWillBeSent"
            and e["params"]["request"]["url"].endswith(f"/certificate-requests/{rid}/cancel")]
    check("Cancel this request: POST .../cancel with the poll secret; the page says it is cancelled "
          "and that no certificate will be issued",
          ok and "no certificate will be issued" in t and len(sent) == 1
          and sent[0]["method"] == "POST"
          and sent[0]["headers"].get("Authorization", "").startswith("Bearer crq_"),
          t + str(error_code()) + str(sent))
    check("... it is no error, stops checking and forgets the request",
          error_code() is None and kept_in_session() == "{}"
          and cdp.js("document.getElementById('b-check').hidden"), t)
    check("... the request is cancelled in the store", request_state(rid) == "cancelled",
          request_state(rid))
    r = admin("request", "approve", rid)
    check("crtoken-admin then cannot approve it (request_state, exit 1)",
          r.returncode == 1 and "request_state" in r.stderr, r.stderr)
    shot("18b-cancelled-while-waiting")

    # -------------------------------------------------- cancel after a reload (the key is gone)
    rid = pending_request(PLAN["approval"]["cancelreload"], "nora", "cancel after reload")
    asked, ok = reload_while_waiting()
    t = text()
    check("reloaded while waiting: the page says the key is gone and offers to cancel the request "
          "first, so that no certificate is issued for a lost key",
          ok and asked == "beforeunload" and wait_row("Request") == rid
          and cdp.js("!document.getElementById('wait-lost-hint').hidden")
          and "key nobody has" in t
          and cdp.js("document.getElementById('b-cancel').textContent") == "Cancel this request now",
          t)
    shot("18c-reloaded-offers-cancel")
    click("#b-cancel")
    ok = cdp.wait("document.getElementById('b-cancel').hidden && "
                  "document.getElementById('wait-list').textContent.includes('Cancelled by you')", 20)
    check("... cancelled after the reload with the poll secret sessionStorage kept",
          ok and request_state(rid) == "cancelled" and kept_in_session() == "{}",
          text() + str(error_code()) + str(request_state(rid)))
    r = admin("request", "approve", rid)
    check("... so no certificate is issued for the lost key (approve: request_state)",
          r.returncode == 1 and "request_state" in r.stderr, r.stderr)
    check("no script error, no Content-Security-Policy refusal", cdp.problems == [],
          cdp.problems)
    cdp.call("Target.closeTarget", session=False, targetId=target)
    json.dump(RESULT, open(PLAN["out_approval"], "w"))
    sys.exit(0)


def mine_card(serial):
    return cdp.js(f"""(() => {{ const c = [...document.querySelectorAll('.mine')]
        .find((e) => e.dataset.serial === {json.dumps(serial)}); return c ? c.innerText : null; }})()""")


def mine_flow():
    """"My certificates": kim's list after a sign-in, the kept PKCS#12
    downloaded again, a certificate revoked as lost — each with a new code."""
    kept, device = PLAN["mine"]["kept"], PLAN["mine"]["device"]
    load()
    click("#b-mine-open")
    cdp.wait("document.body.dataset.step === 'mine'", 5)
    type_into("#mine-user", "kim")
    type_into("#mine-otp", otp("kim", -30))
    click("#b-mine")
    ok = cdp.wait("document.querySelectorAll('.mine').length >= 2", 20)
    check("My certificates: kim signs in and sees both of her certificates",
          ok and mine_card(kept) and mine_card(device), text() + str(error_code()))
    sid = lambda s: s.replace(":", "")
    check("... the one whose PKCS#12 the service kept offers its download, the other not",
          cdp.js(f"Boolean(document.getElementById('p12-{sid(kept)}'))")
          and not cdp.js(f"Boolean(document.getElementById('p12-{sid(device)}'))"), text())
    check("... both can be revoked", cdp.js(f"Boolean(document.getElementById('revoke-{sid(kept)}'))")
          and cdp.js(f"Boolean(document.getElementById('revoke-{sid(device)}'))"))
    check("... the code field is empty again (a code works once)",
          cdp.js("document.getElementById('mine-otp').value") == "")
    contrast("on My certificates")
    shot("19-my-certificates")
    type_into("#mine-otp", otp("kim"))
    click(f"#p12-{sid(kept)}")
    ok = cdp.wait(f"Boolean(document.getElementById('dl-mine-{sid(kept)}'))", 20)
    check("the kept PKCS#12 is fetched after the next code", ok, text() + str(error_code()))
    p12 = download(f"#dl-mine-{sid(kept)}") if ok else None
    check("... and downloads", p12 is not None)
    click(f"#revoke-{sid(kept)}")
    cdp.wait(f"!document.getElementById('revoke-box-{sid(kept)}').hidden", 5)
    click(f"#reason-{sid(kept)}-keyCompromise")
    type_into("#mine-otp", otp("kim", 30))
    click(f"#revoke-now-{sid(kept)}")
    ok = cdp.wait(f"""(() => {{ const c = [...document.querySelectorAll('.mine')]
        .find((e) => e.dataset.serial === {json.dumps(kept)}); return c && c.innerText.includes('revoked'); }})()""", 20)
    t = mine_card(kept) or ""
    check("revoked as lost (keyCompromise) with the next code: the card says revoked",
          ok and "revoked (keyCompromise)" in t, str(t) + str(error_code()))
    check("... and offers neither a download nor a revocation any more",
          not cdp.js(f"Boolean(document.getElementById('p12-{sid(kept)}'))")
          and not cdp.js(f"Boolean(document.getElementById('revoke-{sid(kept)}'))"))
    shot("20-revoked")

    # -------------------------------------------------- the requests in My certificates
    reqs = PLAN["mine"]["requests"]
    load()
    click("#b-mine-open")
    cdp.wait("document.body.dataset.step === 'mine'", 5)
    type_into("#mine-user", "olga")
    type_into("#mine-otp", otp("olga", -30))
    click("#b-mine")
    ok = cdp.wait("document.querySelectorAll('.request').length >= 3", 20)
    card = lambda rid: cdp.js(f"""(() => {{ const c = [...document.querySelectorAll('.request')]
        .find((e) => e.dataset.request === {json.dumps(rid)}); return c ? c.innerText : null; }})()""")
    pend, den, canc = card(reqs["pending"]) or "", card(reqs["denied"]) or "", card(reqs["cancelled"]) or ""
    check("My certificates lists olga's certificate requests too (one sign-in: GET /me)",
          ok and "waiting for an administrator" in pend and "denied" in den
          and "cancelled" in canc and requests_to("/me/certificates") == [],
          text() + str(error_code()))
    check("... the denied one with the administrator's reason (as text)",
          "Reason given" in den and "No <personal> devices" in den
          and cdp.js("document.querySelectorAll('#mine-requests personal').length") == 0, den)
    rid_id = "".join(ch for ch in reqs["pending"] if ch.isalnum() or ch == "-")
    check("... only the pending one can be cancelled",
          cdp.js(f"Boolean(document.getElementById('cancel-{rid_id}'))")
          and cdp.js("document.querySelectorAll('.request button').length") == 1, text())
    shot("20b-my-requests")
    type_into("#mine-otp", otp("olga"))
    click(f"#cancel-{rid_id}")
    ok = cdp.wait(f"""(() => {{ const c = [...document.querySelectorAll('.request')]
        .find((e) => e.dataset.request === {json.dumps(reqs['pending'])});
        return c && c.innerText.includes('cancelled'); }})()""", 20)
    check("... cancelled there with the next code (the login): the card says cancelled, "
          "without the button", ok and not cdp.js(f"Boolean(document.getElementById('cancel-{rid_id}'))")
          and request_state(reqs["pending"]) == "cancelled",
          str(card(reqs["pending"])) + str(error_code()))
    check("no script error, no Content-Security-Policy refusal", cdp.problems == [],
          cdp.problems)
    cdp.call("Target.closeTarget", session=False, targetId=target)
    json.dump({"p12": p12}, open(PLAN["out_mine"], "w"))
    sys.exit(0)


if len(sys.argv) > 2 and sys.argv[2] == "approval":
    approval_flow()
if len(sys.argv) > 2 and sys.argv[2] == "mine":
    mine_flow()
if len(sys.argv) > 2 and sys.argv[2] == "password":
    password_flow()
if len(sys.argv) > 2 and sys.argv[2] == "limits":
    limits_flow()

# ---------------------------------------------------------------- the page

check("the page loads and reads its settings", load())
t = text()
check("the title, organisation and help text come from [portal]",
      PLAN["title"] in t and PLAN["org"] in t and PLAN["help"] in t, t)
check("the help text is text: its markup is shown, not run",
      cdp.js("document.querySelectorAll('#help *').length") == 0
      and cdp.js("document.scripts.length") == 1, t)
check("the page fits a 375px-wide phone (no horizontal scrolling)",
      cdp.js("document.documentElement.scrollWidth") <= 375,
      cdp.js("document.documentElement.scrollWidth"))
cdp.call("Input.dispatchKeyEvent", type="keyDown", key="Tab", code="Tab",
         windowsVirtualKeyCode=9)
cdp.call("Input.dispatchKeyEvent", type="keyUp", key="Tab", code="Tab", windowsVirtualKeyCode=9)
focus = cdp.js("""(() => { const e = document.activeElement;
    return [e.id, getComputedStyle(e).outlineStyle, getComputedStyle(e).outlineWidth]; })()""")
check("the keyboard reaches the token field first, with a visible focus ring",
      focus[0] == "token" and focus[1] == "solid" and focus[2] == "3px", focus)
labels = cdp.js("""[...document.querySelectorAll('input:not([type=hidden]), textarea, select')]
    .filter(e => !document.querySelector('label[for="' + e.id + '"]')).map(e => e.id)""")
check("every field has a label", labels == [], labels)
contrast("on the token step")
shot("01-start")

# The token rule in the page against the C one (crt_token_check_format, as
# crtoken-enroll applies it before sending anything).
good = PLAN["tokens"]["a"]
alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
cases = [good, good[:-1], good + "A", "crx_" + good[4:], good.replace("crt_", "CRT_"),
         good[:20] + "+" + good[21:], good[:20] + " " + good[21:], ""]
for i in range(4, len(good)):
    c = alphabet[(alphabet.index(good[i]) + 1 + i) % 64]
    cases.append(good[:i] + c + good[i + 1:])
for i in range(4, len(good) - 1):
    if good[i] != good[i + 1]:
        cases.append(good[:i] + good[i + 1] + good[i] + good[i + 2:])


def c_rule(tok):
    r = subprocess.run([PLAN["enroll"], "--server", "http://127.0.0.1:18619", "--token", tok,
                        "--no-login", "--out-dir", PLAN["downloads"]],
                       capture_output=True, text=True, timeout=10)
    for code in ("token_mistyped", "token_malformed"):
        if code in r.stderr:
            return code
    return "ok"


js_verdicts = cdp.js("(" + json.dumps(cases) + ").map(t => window.crtokenPortal.tokenCheck(t))")
mismatch = [(c, j, c_rule(c)) for c, j in zip(cases, js_verdicts) if j != c_rule(c)]
check(f"the page's token rule gives the C verdict on {len(cases)} tokens "
      "(every one-character change and adjacent swap)", mismatch == [], mismatch)
check("... and finds every one of those typos",
      js_verdicts[0] == "ok" and all(v != "ok" for v in js_verdicts[1:]))

# ---------------------------------------------------------------- mistyped
mistyped = good[:30] + ("B" if good[30] != "B" else "C") + good[31:]
type_into("#token", mistyped)
click("#b-token")
cdp.wait("!document.getElementById('error').hidden", 5)
cdp.pump(0.3)
t = text()
check("a mistyped token is reported in the page", error_code() == "token_mistyped"
      and "typing mistake" in t and cdp.js("document.body.dataset.step") == "1", t)
check("... before any request is sent", requests_to("/client-certificates") == [],
      requests_to("/client-certificates"))
check("... the field is marked invalid and the message is announced (role=alert)",
      cdp.js("document.getElementById('token').getAttribute('aria-invalid')") == "true"
      and cdp.js("document.getElementById('error').getAttribute('role')") == "alert")
shot("02-mistyped-token")

# ---------------------------------------------------------------- wrong OTP
valid = {otp("alice", o) for o in (-30, 0, 30)}
wrong = next(f"{n:06d}" for n in range(123456, 999999) if f"{n:06d}" not in valid)
type_into("#token", good)
click("#b-token")
cdp.wait("document.body.dataset.step === '2'", 5)
t = text()
check("a correct token leads to the sign-in step, saying its checksum is correct",
      "checksum is correct" in t and cdp.js("document.activeElement.id") == "user", t)
shot("03-sign-in")
type_into("#user", "alice")
type_into("#otp", wrong)
click("#b-login")
cdp.wait("!document.getElementById('error').hidden", 20)
t = text()
check("a wrong one-time code: the page says sign-in failed",
      error_code() == "authentication_failed" and "Sign-in failed" in t, t)
check("... and empties the code field, marked invalid",
      cdp.js("document.getElementById('otp').value") == ""
      and cdp.js("document.getElementById('otp').getAttribute('aria-invalid')") == "true")
contrast("with an error shown")
shot("04-wrong-otp")

# ---------------------------------------------------------------- preview
type_into("#otp", otp("alice"))
click("#b-login")
ok = cdp.wait("document.body.dataset.step === '3'", 20)
t = text()
check("signed in: the page shows what the certificate will contain, before anything is issued",
      ok and all(s in t for s in ("What your certificate will contain", "laptop",
                                  "/CN=" + PLAN["cn"], "365 days, until", PLAN["network"],
                                  "Corp 802.1X")), t + str(error_code()))
check("... from the preview API, with no redemption sent yet",
      requests_to("/certificate-request-tokens/preview") != []
      and requests_to("/client-certificates") == [], requests_to(""))
check("... and it asks for the next one-time code (the first one is used)",
      "next one-time code" in t and not cdp.js("document.getElementById('otp2-box').hidden"), t)
check("... focus moves to the step's heading",
      cdp.js("document.activeElement.id") == "h-choose", cdp.js("document.activeElement.id"))
check("... the steps already done say so to screen readers, not only by colour",
      cdp.js("[...document.querySelectorAll('.steps li.done')].map(l => l.textContent.trim())")
      == ["Token (done)", "Sign in (done)"])
contrast("on the preview step")
keyboard_order("h-choose", "the preview step")
shot("05-preview")
# A 390 px phone (and WCAG's 320 px reflow width): one column, no sideways scrolling.
ok390, w390 = fits(390)
check("at 390 px wide the preview step needs no horizontal scrolling", ok390, w390)
shot("05-preview-390px")
ok320, w320 = fits(320)
check("... nor at 320 px", ok320, w320)
phone(375)

# ---------------------------------------------------------------- browser key
choose("alice", "browser", PLAN["passphrase"])
ok = cdp.wait("document.body.dataset.step === '4'", 30)
t = text()
check("browser-made key: the certificate is issued", ok, t + "\n" + str(error_code()))
check("the page shows name, subject, validity, serial and the network",
      all(s in t for s in ("Subject", "/CN=" + PLAN["cn"], "Valid until", "Serial",
                           "made in this browser", PLAN["network"])), t)
check("no passphrase is shown for a key the user protected", "shown only once" not in t
      or cdp.js("document.getElementById('passphrase-box').hidden"))
contrast("on the certificate step")
shot("06-issued-browser-key")
p12 = download("#dl-p12")
check("the PKCS#12 built in the page downloads", p12 is not None)
crt = download("#dl-crt")
check("the certificate downloads", crt is not None)
click("#profile-wpa_supplicant")
cdp.wait("document.getElementById('dl-wpa_supplicant')", 10)
prof = download("#dl-wpa_supplicant")
check("the wpa_supplicant profile downloads", prof is not None, text())
ca = download("#dl-ca")
check("the RADIUS server's CA downloads", ca is not None)
shot("07-profile-downloaded")
RESULT["browser"] = {"p12": p12, "crt": crt, "profile": prof, "ca": ca}
# The page's PKCS#12 code with a passphrase outside ASCII (and outside the
# BMP): PBKDF2 takes its UTF-8 bytes, the MAC key its UTF-16 (BMPString).
if crt:
    der = "".join(l for l in open(crt).read().splitlines() if not l.startswith("-----"))
    b64 = cdp.js("""(async () => { const P = window.crtokenPortal;
        const k = await crypto.subtle.generateKey({name: 'ECDSA', namedCurve: 'P-256'}, true, ['sign']);
        const pk = new Uint8Array(await crypto.subtle.exportKey('pkcs8', k.privateKey));
        return P.base64(await P.makePkcs12(pk, [P.unbase64(%s)], %s, 'Grüße')); })()"""
                 % (json.dumps(der), json.dumps(PLAN["utf8_passphrase"])))
    RESULT["utf8_p12"] = os.path.join(PLAN["downloads"], "utf8.p12")
    with open(RESULT["utf8_p12"], "wb") as f:
        f.write(base64.b64decode(b64))
RESULT["browser_p12_disabled"] = cdp.js(
    "document.getElementById('profile-mobileconfig') ? document.getElementById('profile-mobileconfig').disabled : null")

# ---------------------------------------------------------------- server key
load()
sign_in(PLAN["tokens"]["b"], "bob", otp("bob"))
choose("bob", "server")
ok = cdp.wait("document.body.dataset.step === '4'", 30)
t = text()
check("server-made key: the certificate is issued", ok, t)
pw = cdp.js("document.getElementById('passphrase').textContent")
check("the passphrase is shown once, with a warning", pw and "shown only once" in t
      and not cdp.js("document.getElementById('passphrase-box').hidden"), t)
shot("08-issued-server-key")
RESULT["server"] = {"p12": download("#dl-p12"), "passphrase": pw, "crt": download("#dl-crt")}
check("the server's PKCS#12 downloads", RESULT["server"]["p12"] is not None)

# ---------------------------------------------------------------- used, expired
load()
sign_in(good, "carol", otp("carol"))
cdp.wait("!document.getElementById('error').hidden", 20)
t = text()
check("a used token: the page says it was used (at sign-in, from the preview)",
      error_code() == "token_used" and "already been used" in t
      and cdp.js("document.body.dataset.step") == "2", t)
shot("09-used-token")
load()
sign_in(PLAN["tokens"]["expired"], "dave", otp("dave"))
cdp.wait("!document.getElementById('error').hidden", 20)
t = text()
check("an expired token: the page says it expired", error_code() == "token_expired"
      and "has expired" in t, t)
shot("10-expired-token")

check("no script error, no Content-Security-Policy refusal in the whole run",
      cdp.problems == [], cdp.problems)
cdp.call("Target.closeTarget", session=False, targetId=target)
RESULT["failed"] = FAILED
json.dump(RESULT, open(PLAN["out"], "w"))
