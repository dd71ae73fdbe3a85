#!/usr/bin/env python3
"""End-to-end test of the real IT Vision Desk binary: Xvfb, a private D-Bus with a recording
notification server, the real server in demo mode, the app driven through tauri-driver
(WebKitWebDriver). Prints one line per check and 'N passed, N failed'; exits 1 on any failure."""

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.common.options import ArgOptions
from selenium.webdriver.support.ui import Select

import alerts
import crossplatform
import ownership
from notifications import Recorder
from tray import TrayHost

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
APP = Path(os.environ.get("ITV_APP", TARGET / "debug" / "itv-desk-app"))
SERVER = Path(os.environ.get("ITV_SERVER", TARGET / "debug" / "itv-server"))
SHOTS = ROOT / "docs" / "screenshots"
OUT = HERE / "out"
PASSWORD = "demo1234"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(cond, timeout, what, interval=0.05):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = cond()
            if last:
                return last
        except Exception as e:  # the DOM may be mid-render
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


class Api:
    def __init__(self, base):
        self.base = base

    def call(self, method, path, token=None, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def login(self, email):
        status, body = self.call("POST", "/api/auth/login", body={"email": email, "password": PASSWORD})
        assert status == 200, f"login {email}: {status} {body}"
        return body["token"]


class Skip(Exception):
    """A check that cannot run yet, with the reason (counted and printed, never as passed)."""


class Harness:
    def __init__(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="itv-e2e-"))
        self.app_path = APP
        self.procs = []
        self.results = []
        OUT.mkdir(exist_ok=True)
        for old in ("server", "tauri-driver", "dbus", "xvfb"):
            (OUT / f"{old}.log").unlink(missing_ok=True)
        SHOTS.mkdir(parents=True, exist_ok=True)

    def spawn(self, name, args, env=None, stdout=None):
        # Appended, so a restarted server or app keeps the log of its first life.
        log = open(OUT / f"{name}.log", "a")
        p = subprocess.Popen(args, env=env, stdout=stdout or log, stderr=log, start_new_session=True)
        self.procs.append((name, p))
        return p

    def stop(self, p, sig=signal.SIGTERM, wait=10):
        if p.poll() is None:
            try:
                os.killpg(p.pid, sig)
            except ProcessLookupError:
                return
            try:
                p.wait(wait)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()

    def check(self, name, f):
        t0 = time.monotonic()
        try:
            detail = f()
            self.results.append((name, True))
            print(f"ok   {name} ({time.monotonic() - t0:.2f}s){' — ' + str(detail) if detail else ''}", flush=True)
            return True
        except Skip as e:
            self.results.append((name, None))
            print(f"SKIP {name}: {e}", flush=True)
            return False
        except Exception as e:
            self.results.append((name, False))
            print(f"FAIL {name}: {e}", flush=True)
            traceback.print_exc(file=open(OUT / "failures.log", "a"))
            return False

    def shot(self, name):
        time.sleep(0.4)  # let WebKit put the last frame on the X screen
        subprocess.run(["import", "-display", self.display, "-window", "root", "-crop", "1280x800+0+0", "+repage", str(SHOTS / f"app-{name}.png")], check=True)

    # ---- the pieces ---------------------------------------------------------------------

    def start_bus(self):
        p = self.spawn("dbus", ["dbus-daemon", f"--config-file={HERE / 'bus.conf'}", "--nofork", "--print-address=1"], stdout=subprocess.PIPE)
        self.bus = p.stdout.readline().decode().strip()
        assert self.bus, "dbus-daemon printed no address"
        self.recorder = Recorder(self.bus)
        self.tray = TrayHost(self.bus)

    def start_keyring(self):
        """gnome-keyring's Secret Service on the private bus, unlocked, so the engine keeps the
        session secret across app restarts as on a desktop."""
        home = self.tmp / "home"
        run = self.tmp / "run"
        home.mkdir(exist_ok=True)
        run.mkdir(mode=0o700, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
        env.update({"HOME": str(home), "XDG_RUNTIME_DIR": str(run), "DBUS_SESSION_BUS_ADDRESS": self.bus})
        log = open(OUT / "keyring.log", "w")
        p = subprocess.Popen(
            ["gnome-keyring-daemon", "--foreground", "--components=secrets", "--unlock"],
            env=env, stdin=subprocess.PIPE, stdout=log, stderr=log, start_new_session=True,
        )
        p.stdin.write(b"e2e")
        p.stdin.close()
        self.procs.append(("keyring", p))
        probe = dict(env, HOME=str(home))
        wait_for(lambda: subprocess.run(["secret-tool", "search", "--all", "x", "y"], env=probe, capture_output=True).returncode in (0, 1), 10, "the keyring")

    def start_display(self):
        for n in range(97, 120):
            if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
                break
        self.display = f":{n}"
        self.spawn("xvfb", ["Xvfb", self.display, "-screen", "0", "1400x900x24", "-nolisten", "tcp"])
        wait_for(lambda: Path(f"/tmp/.X11-unix/X{n}").exists(), 10, "Xvfb")

    def start_server(self):
        if not hasattr(self, "port"):
            self.port = free_port()
            self.server_data = self.tmp / "server"
        self.server = self.spawn(
            "server",
            [str(SERVER), "serve", "--demo", "--addr", f"127.0.0.1:{self.port}", "--data-dir", str(self.server_data), "--sla", ownership.SLA],
        )
        self.api = Api(f"http://127.0.0.1:{self.port}")

        def up():
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True

        wait_for(up, 30, "the server to listen")

    def app_env(self):
        home = self.tmp / "home"
        home.mkdir(exist_ok=True)
        env = dict(os.environ)
        env.update({
            "DISPLAY": self.display,
            "DBUS_SESSION_BUS_ADDRESS": self.bus,
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local/share"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_RUNTIME_DIR": str(self.tmp / "run"),
            "ITV_DESK_DATA_DIR": str(self.tmp / "desk"),
            "ITV_DESK_LOG": "info,itv_desk=debug,itv_desk_app=debug",
        })
        env.pop("WAYLAND_DISPLAY", None)
        return env

    def start_app(self, args=None):
        """Starts tauri-driver and a WebDriver session, which launches the app (with `args`)."""
        self.wd_port = free_port()
        env = self.app_env()
        native = free_port()
        self.tauri_driver = self.spawn(
            "tauri-driver",
            ["tauri-driver", "--port", str(self.wd_port), "--native-port", str(native)],
            env=env,
        )

        def up(port):
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True

        # tauri-driver listens at once; WebKitWebDriver behind it takes a moment.
        wait_for(lambda: up(self.wd_port) and up(native), 20, "tauri-driver and WebKitWebDriver")
        opts = ArgOptions()
        opts.set_capability("browserName", "wry")
        opts.set_capability("tauri:options", {"application": str(APP), **({"args": args} if args else {})})
        self.drv = webdriver.Remote(f"http://127.0.0.1:{self.wd_port}", options=opts)

    def quit_app(self):
        """Ends the WebDriver session (the app with it) and tauri-driver, waiting for both."""
        try:
            self.drv.quit()
        except Exception:
            pass
        self.stop(self.tauri_driver)

    def close(self):
        if hasattr(self, "drv"):
            self.quit_app()
        for _, p in reversed(self.procs):
            self.stop(p)
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ---- DOM helpers --------------------------------------------------------------------

    def q(self, css):
        return self.drv.find_element(By.CSS_SELECTOR, css)

    def qs(self, css):
        return self.drv.find_elements(By.CSS_SELECTOR, css)

    def js(self, script, *args):
        return self.drv.execute_script(script, *args)

    def keys(self, *k):
        webdriver.ActionChains(self.drv).send_keys(*k).perform()

    def cache_row(self, sql, *args):
        """One row from the app's own SQLite cache (read-only, beside the running app)."""
        with sqlite3.connect(f"file:{self.tmp / 'desk' / 'cache.sqlite3'}?mode=ro", uri=True) as db:
            return db.execute(sql, args).fetchone()

    def detail_status(self):
        return self.q("[data-testid=detail-status]").text

    def open_by_search(self, text, want_id):
        """Keyboard only: / to search, Escape back to the list, j until the wanted row, Enter."""
        self.js("document.activeElement && document.activeElement.blur()")
        self.keys("/")
        box = self.q("[data-testid=search]")
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(text)
        css = f'[data-testid=row][data-id="{want_id}"]'
        wait_for(lambda: self.qs(css), 5, f"{text} among the search results")
        self.keys(Keys.ESCAPE)
        for _ in range(30):
            self.keys("j")
            if self.qs(css + ".selected"):
                break
        else:
            raise AssertionError(f"j never reached {text}")
        self.keys(Keys.ENTER)
        wait_for(lambda: self.q("[data-testid=detail]").get_attribute("data-id") == want_id, 5, "the detail pane")


def main():
    for path in (APP, SERVER):
        if not path.exists():
            print(f"missing {path}: build it first (see run.sh)")
            return 2
    h = Harness()
    try:
        h.start_bus()
        h.start_keyring()
        h.start_display()
        h.start_server()
        h.start_app()
        run_checks(h)
    except Exception as e:
        h.results.append(("harness", False))
        print(f"FAIL harness: {e}")
        traceback.print_exc()
    finally:
        h.close()
    passed = sum(1 for _, ok in h.results if ok is True)
    skipped = sum(1 for _, ok in h.results if ok is None)
    failed = len(h.results) - passed - skipped
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


def run_checks(h):
    admin_token = h.api.login("admin@itvision.sn")
    client_token = h.api.login("client@itvision.sn")
    state = {}

    def sign_in():
        wait_for(lambda: h.q("[data-testid=email]"), 20, "the sign-in form")
        h.shot("signin")
        server = h.q("[data-testid=server]")
        server.clear()
        server.send_keys(h.api.base)
        h.q("[data-testid=email]").send_keys("admin@itvision.sn")
        h.q("[data-testid=password]").send_keys(PASSWORD + Keys.ENTER)
        wait_for(lambda: h.qs("[data-testid=list]"), 15, "the inbox")

    def demo_listed():
        _, body = h.api.call("GET", "/api/requests?limit=100", admin_token)
        expected = len(body["requests"])
        assert expected > 0, "the demo server has no requests"
        tickets_js = "return [...document.querySelectorAll('[data-testid=ticket]')].map(e => e.textContent)"
        rows = wait_for(lambda: len(h.js(tickets_js)) >= min(expected, 5) and h.js(tickets_js), 15, "demo rows")
        tickets = [t for t in rows if t]
        assert any(t.startswith(("INT-", "DEV-")) for t in tickets), f"no ticket numbers visible: {tickets}"
        wait_for(lambda: h.q("[data-testid=connection]").get_attribute("data-state") == "live", 15, "live indicator")
        h.shot("inbox")
        return f"{len(rows)} rows on screen, {expected} on the server"

    def urgent_appears():
        body = {"type": "urgent", "title": "Caméras hors service", "description": "Panne critique du site principal", "site": "Plateau, Dakar"}
        t0 = time.monotonic()
        status, answer = h.api.call("POST", "/api/client/requests/intervention", client_token, body)
        assert status == 201, f"create: {status} {answer}"
        ticket = answer["ticket"]["ticketNumber"]
        state["urgent"] = answer["ticket"]["_id"]
        state["ticket"] = ticket
        wait_for(lambda: h.js("return [...document.querySelectorAll('[data-testid=ticket]')].some(e => e.textContent === arguments[0])", ticket), 1.0, f"{ticket} in the inbox within 1 s", interval=0.02)
        return f"{ticket} listed {1000 * (time.monotonic() - t0):.0f} ms after creation"

    def one_critical_notification():
        ticket = state["ticket"]
        mine = lambda: [r for r in h.recorder.records() if ticket in r["body"] or ticket in r["summary"]]
        wait_for(mine, 5, "a notification")
        time.sleep(2)  # a duplicate would arrive by now
        got = mine()
        assert len(got) == 1, f"expected one notification, got {got}"
        assert got[0]["urgency"] == 2, f"not critical: {got[0]}"
        assert "open" in got[0]["actions"], f"no 'Ouvrir' action: {got[0]}"
        state["nid"] = got[0]["id"]
        return got[0]["summary"]

    def click_opens():
        time.sleep(0.5)  # notify-rust listens for the click only once the notification is up
        h.recorder.click(state["nid"], "open")
        wait_for(lambda: h.q("[data-testid=detail]").get_attribute("data-id") == state["urgent"], 5, "the detail of the clicked request")
        h.shot("detail")

    def validate_project():
        _, body = h.api.call("GET", "/api/requests?kind=project&status=pending&limit=5", admin_token)
        assert body["requests"], "no pending demo project"
        project = body["requests"][0]
        h.open_by_search(project["title"], project["_id"])
        h.keys("1")  # first action: validate
        wait_for(lambda: h.detail_status() == "Actif", 10, "status Actif")
        _, after = h.api.call("GET", f"/api/requests/{project['_id']}", admin_token)
        assert after["request"]["status"] == "active", after["request"]["status"]

    def prepare_and_send_quote():
        _, body = h.api.call("GET", "/api/requests?kind=quote&status=open&limit=5", admin_token)
        assert body["requests"], "no open demo quote request"
        quote = body["requests"][0]
        h.open_by_search(quote["title"], quote["_id"])
        h.keys("1")  # first action: prepare the quote
        wait_for(lambda: h.qs("[data-testid=quote-editor]"), 5, "the quote editor")
        designation, quantity, price = h.qs("[data-testid=quote-line] input")
        designation.send_keys("Caméra IP 4K")
        quantity.send_keys(Keys.CONTROL, "a")
        quantity.send_keys("4")
        price.send_keys("85 000")
        h.q("[data-testid=quote-discount]").send_keys("1 200")
        plain = lambda css: h.q(css).text.replace("\u202f", " ").replace("\u00a0", " ")
        # 340 000 − 1 200 = 338 800; VAT 18 % = 60 984; total 399 784.
        wait_for(lambda: plain("[data-testid=quote-preview-total]") == "399 784 F CFA", 5, "the live total")
        h.shot("quote-editor")
        price.send_keys(Keys.CONTROL, Keys.ENTER)
        wait_for(lambda: not h.qs("[data-testid=quote-editor]"), 10, "the editor to close once saved")
        wait_for(lambda: "399 784" in plain("[data-testid=quote-total]"), 10, "the quote's total in the detail")
        wait_for(lambda: h.detail_status() == "En préparation", 10, "status En préparation")
        h.shot("quote")
        h.keys("2")  # second action: send it to the client
        wait_for(lambda: h.detail_status() == "Envoyé", 10, "status Envoyé")
        _, seen = h.api.call("GET", f"/api/requests/{quote['_id']}", client_token)
        assert seen["request"]["status"] == "sent", seen["request"]["status"]
        assert seen["quote"]["total"] == 399784, seen["quote"]
        return f"{quote.get('ticketNumber')}: 399 784 F CFA sent to the client"

    def assign_technician():
        h.open_by_search(state["ticket"], state["urgent"])
        h.q("[data-testid=action-assign]").click()

        wait_for(lambda: h.qs("[data-testid=technician]"), 5, "the technician list")
        select = h.q("[data-testid=technician]")
        options = [o for o in Select(select).options if "technicien@itvision.sn" in o.text]
        assert options, "demo technician not offered"
        Select(select).select_by_value(options[0].get_attribute("value"))
        h.q("[data-testid=dialog-confirm]").click()
        wait_for(lambda: h.detail_status() == "Assigné", 10, "status Assigné")
        _, after = h.api.call("GET", f"/api/requests/{state['urgent']}", admin_token)
        assert after["request"]["status"] == "assigned"
        assert after["request"]["assigneeName"], "no assignee name"

    def chat():
        text = "Bonjour, un technicien est en route."
        h.keys("c")
        box = h.q("[data-testid=chat-input]")
        box.send_keys(text)
        box.send_keys(Keys.CONTROL, Keys.ENTER)
        wait_for(lambda: any(text in m.text for m in h.qs("[data-testid=chat-message]")), 10, "the message in the chat")
        _, msgs = h.api.call("GET", f"/api/requests/{state['urgent']}/messages", client_token)
        assert any(m["body"] == text for m in msgs["messages"]), "the client does not see the message"

    offline_text = "Message écrit hors ligne : nous arrivons."

    def offline_queue():
        h.stop(h.server)
        wait_for(lambda: h.q("[data-testid=connection]").get_attribute("data-state") == "offline", 60, "offline indicator")
        # The detail may redraw as the connection drops (the draft survives it): find the box again.
        def type_and_send():
            box = h.q("[data-testid=chat-input]")
            if offline_text not in (box.get_attribute("value") or ""):
                box.send_keys(offline_text)
            box.send_keys(Keys.CONTROL, Keys.ENTER)
            return True

        wait_for(type_and_send, 5, "the offline message typed and sent")
        wait_for(lambda: h.q("[data-testid=outbox]").get_attribute("data-pending") == "1", 10, "one queued action")
        wait_for(lambda: any(offline_text in m.text for m in h.qs(".msg.pending")), 5, "the message shown as waiting")
        h.shot("offline")
        return h.q("[data-testid=connection]").text

    def back_online():
        h.start_server()
        wait_for(lambda: h.q("[data-testid=connection]").get_attribute("data-state") == "live", 60, "live again")
        # The outbox indicator can vanish for a moment while the status bar redraws, so the
        # proof is the server's own list: poll it until the queued message is there.
        def delivered():
            _, msgs = h.api.call("GET", f"/api/requests/{state['urgent']}/messages", client_token)
            return any(m["body"] == offline_text for m in msgs["messages"])

        try:
            wait_for(delivered, 30, "the queued message on the server")
        except AssertionError:
            # Say where it went, if anywhere: the failure is then a wrong target, not a loss.
            _, everything = h.api.call("GET", "/api/requests?limit=100", admin_token)
            where = []
            for r in everything["requests"]:
                _, msgs = h.api.call("GET", f"/api/requests/{r['_id']}/messages", admin_token)
                where += [(r["_id"], m["body"]) for m in msgs["messages"] if offline_text in m["body"]]
            raise AssertionError(f"not on {state['urgent']}; found on {where}; detail shows {h.q('[data-testid=detail]').get_attribute('data-id')}")
        wait_for(lambda: not h.qs("[data-testid=outbox]"), 30, "the outbox to empty")
        wait_for(lambda: not h.qs(".msg.pending"), 10, "the chat to show it sent")

    def help_and_settings():
        h.js("document.activeElement && document.activeElement.blur()")
        h.keys("?")
        wait_for(lambda: h.q("[data-testid=help]"), 5, "the shortcut overlay")
        h.shot("help")
        h.keys(Keys.ESCAPE)
        h.keys(",")
        wait_for(lambda: h.q("[data-testid=settings]"), 5, "the settings screen")
        h.shot("settings")

    def settings_sessions():
        h.js("document.activeElement && document.activeElement.blur()")
        h.keys(",")
        wait_for(lambda: h.qs("[data-testid=session]"), 10, "the sessions in the settings")
        current = h.qs("[data-testid=session][data-current=true]")
        assert len(current) == 1, f"one session marked as this device, got {len(current)}"
        assert "cet appareil" in current[0].text, current[0].text
        device = current[0].find_element(By.CSS_SELECTOR, ".device").text
        assert device.startswith("IT Vision Desk"), f"device label sent at sign-in: {device!r}"
        others = h.qs("[data-testid=session][data-current=false]")
        assert others, "the e2e's own API logins are other sessions"
        assert all(o.find_elements(By.CSS_SELECTOR, "[data-testid=session-end]") for o in others), "Fermer on every other session"
        h.js("arguments[0].scrollIntoView({block: 'start'})", h.q("[data-testid=sessions-fieldset]"))
        h.shot("sessions")
        return f"{device} (cet appareil) + {len(others)} other(s)"

    def accounts_deactivate():
        h.js("document.activeElement && document.activeElement.blur()")
        h.keys("a")
        row = '[data-testid=account-row][data-email="technicien2@itvision.sn"]'
        wait_for(lambda: h.qs(row), 10, "the second technician in Comptes")
        assert h.q(row).get_attribute("data-active") == "true", "technicien2 starts active"
        h.q(row + " [data-testid=account-toggle]").click()
        wait_for(lambda: h.qs("[data-testid=confirm-dialog]"), 5, "the confirmation dialog")
        focused = h.js("return document.activeElement && document.activeElement.getAttribute('data-testid')")
        assert focused == "dialog-confirm", f"focus on the confirm button, got {focused}"
        h.keys(Keys.ENTER)
        wait_for(lambda: h.q(row).get_attribute("data-active") == "false", 10, "technicien2 shown inactive")
        state_text = h.q(row + " [data-testid=account-state]").text
        assert state_text == "Désactivé", state_text
        _, users = h.api.call("GET", "/api/staff/users", admin_token)
        t2 = [u for u in users["users"] if u["email"] == "technicien2@itvision.sn"][0]
        assert t2["active"] is False, t2
        _, techs = h.api.call("GET", "/api/staff/technicians", admin_token)
        assert all(t["email"] != "technicien2@itvision.sn" for t in techs["technicians"]), "still offered for assignment"
        h.js("document.querySelectorAll('.toast').forEach(t => t.remove())")
        h.shot("accounts")
        return f"{len(users['users'])} accounts listed, technicien2 {state_text}"

    def tray_menu_and_pause():
        wait_for(h.tray.item, 10, "the tray icon to register with the panel")
        fr = ["Ouvrir IT Vision Desk", "Suspendre les notifications non urgentes", "Quitter"]
        wait_for(lambda: h.tray.labels() == fr, 5, "the French tray menu")
        # The label is the unread count the app's own cache holds.
        unread = lambda: h.cache_row("SELECT COUNT(*) FROM requests WHERE unread = 1")[0]
        label = lambda: h.tray.properties().get("XAyatanaLabel", "")
        assert unread() > 0, "the demo left nothing unread: the label check would prove nothing"
        # The tray follows the cache a moment later (it is refreshed after each change event).
        wait_for(lambda: label() == str(unread()), 5, "the tray label to equal the cache's unread count")
        label = label()

        # Paused from the tray: the window says so, and a new project raises no notification.
        h.tray.click("Suspendre les notifications non urgentes")
        wait_for(lambda: h.qs("[data-testid=paused]"), 5, "the paused chip in the status bar")
        toggled = [e for e in h.tray.menu() if e.get("label", "").startswith("Suspendre")][0]
        assert toggled.get("toggle-state") == 1, toggled

        def new_project(name):
            body = {"name": name, "serviceType": "network", "description": "Câblage réseau du nouvel étage", "address": "Almadies, Dakar", "urgency": "normal"}
            status, answer = h.api.call("POST", "/api/client/requests/project", client_token, body)
            assert status == 201, f"create: {status} {answer}"
            return answer["project"]["_id"]

        # A project's notification names it (summary or body).
        about = lambda name: [r for r in h.recorder.records() if name in r["summary"] + r["body"]]
        quiet = new_project("Réseau étage 3")
        wait_for(lambda: h.cache_row("SELECT 1 FROM requests WHERE id = ?", quiet), 5, "the paused-time project in the app's cache")
        time.sleep(2)
        assert not about("Réseau étage 3"), f"notified while paused: {about('Réseau étage 3')}"
        h.tray.click("Suspendre les notifications non urgentes")
        wait_for(lambda: not h.qs("[data-testid=paused]"), 5, "the chip to go once resumed")
        new_project("Réseau étage 4")
        wait_for(lambda: about("Réseau étage 4"), 5, "a notification once resumed")

        # The tray speaks the UI's language.
        h.keys(",")
        lang = wait_for(lambda: h.q("[data-testid=setting-language]"), 5, "the language setting")
        Select(lang).select_by_value("en")
        wait_for(lambda: h.tray.labels() == ["Open IT Vision Desk", "Pause non-urgent notifications", "Quit"], 5, "the English tray menu")
        Select(h.q("[data-testid=setting-language]")).select_by_value("fr")
        wait_for(lambda: h.tray.labels() == fr, 5, "the French tray menu again")
        return f"label {label!r}, menu {', '.join(fr)}"

    def restart_restores():
        # Launched by the previous check as the autostart entry does, then shown from the tray.
        wait_for(lambda: h.qs("[data-testid=row]"), 20, "the inbox without the sign-in form")
        assert not h.qs("[data-testid=email]"), "asked to sign in again"

    def session_ended_from_server():
        other = h.api.login("admin@itvision.sn")
        _, body = h.api.call("GET", "/api/auth/sessions", other)
        app = [x for x in body["sessions"] if x["device"].startswith("IT Vision Desk")]
        assert len(app) == 1, f"one app session: {body['sessions']}"
        before = len([r for r in h.recorder.records() if "alertes arrêtées" in r["summary"]])
        t0 = time.monotonic()
        status, answer = h.api.call("DELETE", f"/api/auth/sessions/{app[0]['_id']}", other)
        assert status == 200, f"{status} {answer}"
        notice = wait_for(lambda: h.qs("[data-testid=session-ended]"), 10, "the sign-in screen with the reason")
        took = time.monotonic() - t0
        assert "fermée depuis un autre appareil" in notice[0].text, notice[0].text
        assert h.qs("[data-testid=email]"), "the sign-in form"
        stopped = lambda: [r for r in h.recorder.records() if "alertes arrêtées" in r["summary"]]
        wait_for(lambda: len(stopped()) > before, 5, "the alerts-stopped notification")
        time.sleep(1.5)
        got = stopped()[before:]
        assert len(got) == 1, f"exactly one: {got}"
        assert got[0]["urgency"] == 2, got[0]
        assert "Reconnectez-vous" in got[0]["body"], got[0]
        h.shot("session-ended")
        return f"sign-in screen {1000 * took:.0f} ms after the server ended the session"

    owned = ownership.checks(h, wait_for, admin_token, client_token, state)
    reach = alerts.checks(h, wait_for, Skip, admin_token, client_token, state, PASSWORD)
    everywhere = crossplatform.checks(h, wait_for, state)
    checks = [
        ("sign in", sign_in),
        ("demo requests are listed", demo_listed),
        ("an urgent intervention appears within a second", urgent_appears),
        ("one critical notification is recorded", one_critical_notification),
        ("Ouvrir on the notification opens that request", click_opens),
        everywhere["link"],
        everywhere["unknown_link"],
        everywhere["log_file"],
        owned["left_alone"],
        owned["take"],
        ("validate a project", validate_project),
        ("prepare a quote in the editor and send it", prepare_and_send_quote),
        ("assign a technician", assign_technician),
        ("send a chat message", chat),
        ("server down: offline indicator and a queued message", offline_queue),
        ("server back: the queued message is sent", back_online),
        ("shortcut overlay and settings", help_and_settings),
        everywhere["diagnostic"],
        reach["autostart"],
        ("settings list the sessions, this device marked", settings_sessions),
        ("Comptes: deactivate the second technician", accounts_deactivate),
        ("tray: unread label, pause from its menu, menu in the UI language", tray_menu_and_pause),
        owned["late"],
        owned["dashboard"],
        reach["health"],
        reach["hidden"],
        ("a restart signs in again from the keyring", restart_restores),
        ("the session ended from the server shows the sign-in screen and alerts once", session_ended_from_server),
        reach["quit"],
    ]
    for name, f in checks:
        h.check(name, f)


if __name__ == "__main__":
    sys.exit(main())
