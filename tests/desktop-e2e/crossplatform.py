"""Issue 14 in the real window: what a desk needs on any OS, checked on Linux.

- An itv://request/{id} link (from an e-mail or a chat) given to a second launch is handed to
  the running app (single-instance + deep-link plugins), which opens that request; the second
  launch ends at once. A link to an id nobody can see says so instead of a blank pane.
- The log file is written in the OS log directory ($XDG_DATA_HOME/sn.itvision.desk/logs).
- Settings > Copier le diagnostic puts the report where the user can paste it (the
  clipboard, or a selected text box when WebKit refuses the clipboard)."""

import glob
import os
import subprocess
import time


def checks(h, wait_for, state):
    """The checks, as (name, function) pairs, in the order they run among the others."""

    def second_launch(link):
        started = time.monotonic()
        p = subprocess.run([str(h.app_path), link], env=h.app_env(), capture_output=True, timeout=20)
        return p.returncode, time.monotonic() - started

    def link_opens_request():
        # Somewhere else first, so the link has to move the window.
        rows = [r.get_attribute("data-id") for r in h.qs("[data-testid=row]")]
        other = next(r for r in rows if r != state["urgent"])
        h.js("document.querySelector(arguments[0]).click()", f'[data-testid=row][data-id="{other}"]')
        wait_for(lambda: h.q("[data-testid=detail]").get_attribute("data-id") == other, 5, "another request open")
        code, took = second_launch(f"itv://request/{state['urgent']}")
        assert code == 0, f"the second launch exited {code}"
        wait_for(lambda: h.q("[data-testid=detail]").get_attribute("data-id") == state["urgent"], 5,
                 "the linked request open")
        return f"second launch handed the link over and ended in {took:.2f} s; request {state['urgent']} open"

    def unknown_link_says_so():
        code, _ = second_launch("itv://request/00000000-0000-7000-8000-000000000000")
        assert code == 0, code
        wait_for(lambda: "introuvable" in h.js("return document.body.innerText"), 5,
                 "the not-found message")
        h.shot("deep-link-not-found")
        # A good link afterwards opens its request again (and leaves the window as it was).
        second_launch(f"itv://request/{state['urgent']}")
        wait_for(lambda: h.qs("[data-testid=detail]")
                 and h.q("[data-testid=detail]").get_attribute("data-id") == state["urgent"], 5,
                 "the linked request open again")
        return "« Demande introuvable » shown; the next link opened its request"

    def log_file():
        logs = os.path.join(h.app_env()["XDG_DATA_HOME"], "sn.itvision.desk", "logs")
        files = wait_for(lambda: glob.glob(os.path.join(logs, "itv-desk.*.log")), 5, "a log file")
        text = open(files[0], encoding="utf-8").read()
        assert "IT Vision Desk starting" in text, text[:400]
        assert "opening a link" in text, "the link was not logged"
        return f"{os.path.relpath(files[0], h.app_env()['HOME'])}: {len(text.splitlines())} lines"

    def diagnostic():
        h.js("document.activeElement && document.activeElement.blur()")
        h.keys(",")
        button = wait_for(lambda: h.qs("[data-testid=copy-diagnostic]"), 5, "the settings screen")[0]
        h.js("arguments[0].scrollIntoView()", button)
        button.click()
        status = lambda: h.q("[data-testid=diagnostic-status]").text
        wait_for(lambda: status(), 5, "the diagnostic's outcome")
        # WebKitGTK under WebDriver may refuse the clipboard: the text is then shown, selected.
        if h.qs("[data-testid=diagnostic-text]"):
            how = "shown selected (clipboard refused)"
            shown = h.q("[data-testid=diagnostic-text]").get_attribute("value")
        else:
            assert status() == "Diagnostic copié dans le presse-papiers", status()
            how, shown = "copied to the clipboard", None
        # The report itself, from the same command the button calls.
        report = h.drv.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "window.__TAURI_INTERNALS__.invoke('diagnostic').then(done, (e) => done('ERR ' + JSON.stringify(e)));")
        assert shown is None or shown.splitlines()[0] == report.splitlines()[0], (shown, report)
        for expected in ("IT Vision Desk", "Server", "Connection            live", "Last event seq", "Logs"):
            assert expected in report, f"{expected!r} missing from\n{report}"
        assert "demo1234" not in report and "eyJ" not in report, "a secret in the report"
        h.js("document.querySelectorAll('.toast').forEach(t => t.remove());"
             "document.querySelector('[data-testid=support-fieldset]').scrollIntoView({block: 'end'})")
        h.shot("settings-diagnostic")
        return f"{how}; {len(report.splitlines())} lines"

    return {
        "diagnostic": ("Copier le diagnostic gives support the report", diagnostic),
        "link": ("an itv:// link from a second launch opens the request in the running window", link_opens_request),
        "unknown_link": ("a link to a request this account cannot see says so", unknown_link_says_so),
        "log_file": ("the log file is in the OS log directory", log_file),
    }
