#!/usr/bin/env python3
"""Measures the desktop app on a cache of 100,000 requests: time from launch until the inbox is
painted (the app reports the paint through ITV_DESK_TIMING_FILE), and the memory (PSS, from
/proc/PID/smaps_rollup) of all its processes once idle. Offline on purpose: the window must paint
from the cache alone. Usage: measure.py [count] [runs]; writes out/measure.json."""

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from selenium.webdriver.common.keys import Keys

from e2e import APP, OUT, PASSWORD, TARGET, Harness, wait_for


def children(pid):
    """pid and all its descendants, from /proc."""
    parents = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
                parents[int(d.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    tree, frontier = {pid}, [pid]
    while frontier:
        p = frontier.pop()
        for c, pp in parents.items():
            if pp == p and c not in tree:
                tree.add(c)
                frontier.append(c)
    return tree


def pss_kib(pid):
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def pss_by_mapping(pid, top=6):
    """The mappings (by file name) of a process with the most PSS, in MiB: where it goes."""
    sizes, name = {}, None
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        fields = line.split()
        if "-" in fields[0] and len(fields) >= 5:
            name = Path(fields[5]).name if len(fields) > 5 else "[anon]"
        elif fields[0] == "Pss:":
            sizes[name] = sizes.get(name, 0) + int(fields[1])
    return {k: round(v / 1024, 1) for k, v in sorted(sizes.items(), key=lambda kv: -kv[1])[:top]}


def comm(pid):
    return Path(f"/proc/{pid}/comm").read_text().strip()


def column(display, x, top, height):
    """The colours of a column of pixels of the X screen, as ImageMagick's 'srgb(r,g,b)'-like text."""
    out = subprocess.run(["import", "-display", display, "-window", "root", "-crop", f"1x{height}+{x}+{top}", "txt:-"], capture_output=True, text=True).stdout
    return [line.split()[-1].lower() for line in out.splitlines()[1:] if line.strip()]


def first_row_visible(display):
    """True once an inbox row's red 'urgent' edge is on the screen (the cache puts urgent first).
    A column is searched, not one pixel, so that a change of the layout above the list does not
    make the measurement wait forever."""
    return any(c in ("#d92d20", "srgb(217,45,32)") for c in column(display, 1, 60, 400))


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    fill = TARGET / "debug" / "examples" / "fill_cache"
    h = Harness()
    results = {"count": count, "runs": []}
    try:
        h.start_bus()
        h.start_keyring()
        h.start_display()
        h.start_server()
        # Sign in once so the keyring holds a session and the cache an account.
        h.start_app()
        wait_for(lambda: h.q("[data-testid=email]"), 20, "the sign-in form")
        h.q("[data-testid=server]").clear()
        h.q("[data-testid=server]").send_keys(h.api.base)
        h.q("[data-testid=email]").send_keys("admin@itvision.sn")
        h.q("[data-testid=password]").send_keys(PASSWORD + Keys.ENTER)
        wait_for(lambda: h.q("[data-testid=connection]").get_attribute("data-state") == "live", 30, "live")
        h.quit_app()
        h.stop(h.server)
        out = subprocess.run([str(fill), str(h.tmp / "desk"), str(count)], check=True, capture_output=True, text=True)
        print(out.stdout.strip())
        # Optional extra environments to compare, e.g.
        # ITV_MEASURE_VARIANTS="default;WEBKIT_DISABLE_COMPOSITING_MODE=1"
        variants = os.environ.get("ITV_MEASURE_VARIANTS", "default").split(";")
        plan = [(v, r) for r in range(runs) for v in variants]
        for run, (variant, _) in enumerate(plan):
            timing = h.tmp / f"timing-{run}.json"
            env = dict(h.app_env(), ITV_DESK_TIMING_FILE=str(timing))
            if variant != "default":
                env.update(kv.split("=", 1) for kv in variant.split(","))
            log = open(OUT / f"measure-app-{run}.log", "w")
            t0 = time.time()
            app = subprocess.Popen([str(APP)], env=env, stdout=log, stderr=log, start_new_session=True)
            wait_for(lambda: first_row_visible(h.display), 60, "the first row on screen", interval=0)
            visible_ms = (time.time() - t0) * 1000
            wait_for(timing.exists, 10, "the app's paint report")
            painted = json.loads(timing.read_text())
            start_ms = painted["paintedAtEpochMs"] - t0 * 1000
            if run == 0 and variant == "default":
                # What is really on the X screen after the reported paint.
                for delay in (0.2, 1, 3):
                    time.sleep(delay)
                    subprocess.run(["import", "-display", h.display, "-window", "root", "-crop", "1280x800+0+0", "+repage", str(OUT / f"paint+{delay}.png")], check=True)
                h.shot("inbox-100k")
            time.sleep(20)  # idle
            procs = {p: (comm(p), pss_kib(p)) for p in children(app.pid)}
            total = sum(k for _, k in procs.values())
            results["runs"].append({
                "variant": variant,
                "launchToPaintMs": round(start_ms),
                "launchToVisibleMs": round(visible_ms),
                "runToPaintMs": painted["sinceRunMs"],
                "pssMiB": round(total / 1024, 1),
                "processes": {f"{name}[{p}]": round(k / 1024, 1) for p, (name, k) in procs.items()},
                "largestMappings": {f"{name}[{p}]": pss_by_mapping(p) for p, (name, _) in procs.items()},
            })
            print(json.dumps(results["runs"][-1]), flush=True)
            os.killpg(app.pid, signal.SIGTERM)
            try:
                app.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(app.pid, signal.SIGKILL)
                app.wait()
            time.sleep(2)
        for v in variants:
            rs = [r for r in results["runs"] if r["variant"] == v]
            results[v] = {
                "medianLaunchToPaintMs": statistics.median(r["launchToPaintMs"] for r in rs),
                "medianLaunchToVisibleMs": statistics.median(r["launchToVisibleMs"] for r in rs),
                "medianPssMiB": statistics.median(r["pssMiB"] for r in rs),
            }
        (OUT / "measure.json").write_text(json.dumps(results, indent=2))
        print(json.dumps({k: v for k, v in results.items() if k != "runs"}))
    finally:
        h.close()


if __name__ == "__main__":
    main()
