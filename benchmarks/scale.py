"""Scale (issue 12): the daemon `newsmon run` checking many RSS feeds on localhost.

    python benchmarks/scale.py [--sources 1000 5000] [--minutes 3] [--interval 60] [--json PATH] [--keep]

For each N: N feeds served by replay/feed_farm.py on 30 loopback host names, one source file a feed, every
source due every --interval. Every feed has one article before the daemon starts. The daemon then runs one
interval of warm-up (the first check of each feed fetches its first article and learns its ETag), a measured
window of --minutes while articles are published at random feeds (0.1 * N / interval a second, evenly spaced:
about one check in ten finds one new article; the rest are 304s), and one more interval without publishing so
the last articles can still be fetched. CPU and memory are those of the daemon's whole process tree (the
daemon and every descendant, read from /proc; children that exited count through their parent's cutime).
After the daemon stops, one `newsmon crawl SOURCE` alone is measured for comparison.
Targets: >=99% of scheduled checks done, no gap between two checks of a source > 2x interval,
<=25 ms CPU per check, 0 articles missed, tree RSS at the end <= 1.2x after the first minute (N=1000).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from replay.feed_farm import FeedFarm  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
ENTRY = Path(sys.executable).with_name("newsmon")
NEWSMON = [str(ENTRY)] if ENTRY.exists() else [sys.executable, "-m", "monitor.cli"]
ENV = {k: v for k, v in os.environ.items() if k not in ("NEWSMON_DATABASE_URL", "NEWSMON_CONFIG")}
REFERENCE_SOURCES, REFERENCE_INTERVAL = 10_000, 900  # the machine share is reported at 10,000 sources / 15 min


def source_name(feed: int) -> str:
    return f"feed_{feed + 1:05d}"


# --- the daemon's process tree, from /proc -----------------------------------------------------------------------

def _tree(root: int) -> dict[int, list[str]]:
    """pid -> the /proc/PID/stat fields after the command name ([1] ppid, [11:15] utime stime cutime cstime)."""
    procs = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    procs[int(entry)] = f.read().rpartition(")")[2].split()
            except OSError:
                pass  # exited meanwhile
    children = defaultdict(list)
    for pid, fields in procs.items():
        children[int(fields[1])].append(pid)
    found, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in procs:
            found[pid] = procs[pid]
            todo += children[pid]
    return found


def tree_cpu(root: int) -> float:
    return sum(int(x) for fields in _tree(root).values() for x in fields[11:15]) / TICK


def tree_memory(root: int) -> tuple[int, int]:
    """(RSS, PSS) summed over the tree, in bytes. RSS counts pages shared by forked workers once per process;
    PSS splits them among the sharers, so it is the tree's real footprint."""
    rss = pss = 0
    for pid in _tree(root):
        try:
            with open(f"/proc/{pid}/statm") as f:
                rss += int(f.read().split()[1]) * PAGE
            with open(f"/proc/{pid}/smaps_rollup") as f:
                pss += next((int(line.split()[1]) * 1024 for line in f if line.startswith("Pss:")), 0)
        except (OSError, IndexError):
            pass
    return rss, pss


# --- one size ------------------------------------------------------------------------------------------------------

def write_config(config: Path, farm: FeedFarm, n: int, interval: float, workers: int = 1) -> None:
    """JSON is YAML: newsmon.yaml and one sources/feed_NNNNN.yaml a feed, as tests/helpers/config.py writes them."""
    (config / "sources").mkdir(parents=True)
    (config / "newsmon.yaml").write_text(json.dumps({
        "database_url": f"sqlite:///{config.parent / 'archive.sqlite3'}",
        "schedule": {"interval": f"{interval:g}s"}, "crawl": {"autothrottle": False, "workers": workers}}),
        encoding="utf-8")
    for i in range(n):
        (config / "sources" / f"{source_name(i)}.yaml").write_text(
            json.dumps({"kind": "feed", "start_urls": [farm.feed_url(i)]}), encoding="utf-8")


def publisher(farm: FeedFarm, n: int, rate: float, start: float, stop: float, count: list[int]) -> None:
    rng, due = random.Random(12), start
    while due < stop:
        time.sleep(max(0.0, due - time.monotonic()))
        farm.publish(rng.randrange(n))
        count[0] += 1
        due += 1 / rate


def status_schedule(config: Path) -> dict:
    out = subprocess.run(NEWSMON + ["--config", str(config), "status", "--format", "json"], capture_output=True,
                         text=True, env=ENV, cwd=ROOT, timeout=600)
    try:
        return {"schedule": json.loads(out.stdout)["schedule"]}
    except (ValueError, KeyError, TypeError):
        return {"exit": out.returncode, "printed": (out.stdout + out.stderr).splitlines()[:20]}


def _epoch(value: str) -> float:
    when = datetime.fromisoformat(value)
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp()


def check_gaps(db: Path, n: int, started: float, stopped: float, limit: float) -> dict:
    """Per source, the gaps between daemon start, each check's started_at and the stop: > limit is late."""
    starts = defaultdict(list)
    with sqlite3.connect(db) as conn:
        for source, at in conn.execute("SELECT source, started_at FROM crawl_runs"):
            starts[source].append(_epoch(at))
    gaps = []
    for i in range(n):
        times = [started] + sorted(starts[source_name(i)]) + [stopped]
        gaps += [b - a for a, b in zip(times, times[1:])]
    return {"late": sum(g > limit for g in gaps), "largest": max(gaps)}


def articles(db: Path, farm: FeedFarm, window_start: float) -> dict:
    """Published vs archived; latency (publish -> fetched_at) of the articles published in the window."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT url, canonical_url, fetched_at FROM articles").fetchall()
    fetched = {}
    for url, canonical, at in rows:
        fetched[url] = fetched[canonical] = _epoch(at)
    published = dict(farm.published)
    missed = [u for u in published if u not in fetched]
    latency = sorted(fetched[u] - t for u, t in published.items() if u in fetched and t >= window_start)
    return {"published": len(published), "archived": len(published) - len(missed), "missed": len(missed),
            "missed_examples": missed[:3], "latency_median": statistics.median(latency) if latency else None,
            "latency_max": latency[-1] if latency else None}


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2:].split()[0] != "Z"


def stop(daemon: subprocess.Popen) -> dict:
    """SIGTERM, up to 60 s, then SIGKILL to the group; descendants left behind are killed by pid and counted."""
    before = set(_tree(daemon.pid)) - {daemon.pid}
    began = time.monotonic()
    daemon.send_signal(signal.SIGTERM)
    try:
        code = daemon.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(daemon.pid, signal.SIGKILL)
        code = daemon.wait()
    seconds = time.monotonic() - began
    time.sleep(1.0)  # a worker's last children are reaped by init a moment after the daemon exits
    left = [pid for pid in before if _alive(pid)]
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return {"exit": code, "seconds": seconds, "leftover_processes": len(left)}


def crawl_alone(config: Path) -> dict:
    before, began = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    out = subprocess.run(NEWSMON + ["--config", str(config), "crawl", source_name(0)], capture_output=True,
                         text=True, env=ENV, cwd=ROOT, timeout=600)
    wall, after = time.monotonic() - began, resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {"exit": out.returncode, "cpu": cpu, "wall": wall, "error": out.stderr.strip().splitlines()[-1:]}


def run_size(n: int, minutes: float, interval: float, work: Path, workers: int = 1) -> dict:
    config, db, log_path = work / "config", work / "archive.sqlite3", work / "daemon.log"
    with FeedFarm(feeds=n, hosts=30) as farm:
        write_config(config, farm, n, interval, workers)
        subprocess.run(NEWSMON + ["--config", str(config), "init"], check=True, capture_output=True, env=ENV, cwd=ROOT)
        for i in range(n):
            farm.publish(i)
        with open(log_path, "wb") as log:
            daemon = subprocess.Popen(NEWSMON + ["--config", str(config), "run"], stdout=log, stderr=subprocess.STDOUT,
                                      env=ENV, cwd=ROOT, start_new_session=True)
        started, t0 = time.time(), time.monotonic()
        window_start, window_end = t0 + interval, t0 + interval + minutes * 60
        end = window_end + interval
        published = [0]
        threading.Thread(target=publisher, daemon=True,
                         args=(farm, n, 0.1 * n / interval, window_start, window_end, published)).start()
        m: dict = {"rss_peak": 0}
        try:
            for at, what in sorted([(t0 + min(60, end - t0), "rss_1min"), (window_start, "start"),
                                    (window_end, "end"), (end, "drained")]):
                while (now := time.monotonic()) < at:
                    if daemon.poll() is not None:
                        tail = log_path.read_text(errors="replace").splitlines()[-20:]
                        raise SystemExit(f"the daemon exited with {daemon.returncode}:\n" + "\n".join(tail))
                    m["rss_peak"] = max(m["rss_peak"], tree_memory(daemon.pid)[0])
                    time.sleep(min(5, at - now))
                if what == "rss_1min":
                    m["rss_1min"], m["pss_1min"] = tree_memory(daemon.pid)
                elif what in ("start", "end"):
                    m[f"cpu_{what}"], m[f"checks_{what}"] = tree_cpu(daemon.pid), dict(farm.checks)
            m["status"] = status_schedule(config)
            m["rss_end"], m["pss_end"] = tree_memory(daemon.pid)
            stopped = time.time()
        finally:
            m["stop"] = stop(daemon)
        log_lines = log_path.read_text(errors="replace").splitlines()
        m["lag_lines"] = [line for line in log_lines if "schedule lag" in line][-3:]
        m["log_problems"] = sum("Traceback" in line or " ERROR " in line for line in log_lines)
        per_source = [m["checks_end"].get(i, 0) - m["checks_start"].get(i, 0) for i in range(n)]
        completed = sum(per_source)
        cpu = m["cpu_end"] - m["cpu_start"]
        return {
            "sources": n, "workers": workers, "interval": interval, "window": minutes * 60, "scheduled": round(n * minutes * 60 / interval),
            "completed": completed, "gaps": check_gaps(db, n, started, stopped, 2 * interval),
            "per_source": {"min": min(per_source), "median": statistics.median(per_source), "max": max(per_source)},
            "cpu_seconds": cpu, "cpu_per_check": cpu / completed if completed else None,
            "published_in_window": published[0], "articles": articles(db, farm, window_start - t0 + started),
            **{k: m[k] for k in ("rss_1min", "rss_end", "rss_peak", "pss_1min", "pss_end", "status", "lag_lines",
                                 "log_problems", "stop")},
            "crawl_alone": crawl_alone(config), "log": str(log_path),
        }


def report(r: dict) -> None:
    mb, cores = 1 << 20, os.cpu_count() or 1
    print(f"N={r['sources']} sources, {r.get('workers', 1)} crawl worker(s), interval {r['interval']:g}s, window {r['window']:g}s")
    print(f"  scheduled checks   {r['scheduled']}   completed {r['completed']} "
          f"({100 * r['completed'] / max(1, r['scheduled']):.1f}%)   late gaps (>2x interval, whole run) "
          f"{r['gaps']['late']}, largest gap {r['gaps']['largest']:.1f}s")
    p = r["per_source"]
    print(f"  checks per source  min {p['min']}  median {p['median']:g}  max {p['max']}")
    per = r["cpu_per_check"]
    if per is None:
        print(f"  CPU per check      no checks completed in the window ({r['cpu_seconds']:.1f} CPU-s spent)")
    else:
        load = per * REFERENCE_SOURCES / REFERENCE_INTERVAL  # CPU-seconds per second = cores kept busy
        print(f"  CPU per check      {1000 * per:.1f} ms (whole process tree: {r['cpu_seconds']:.1f} s over "
              f"{r['completed']} checks)   machine share at 10,000 sources/15 min: {100 * load / cores:.1f}% "
              f"of {cores} cores ({load:.2f} cores busy)")
    a = r["articles"]
    latency = (f"   publish->archive median {a['latency_median']:.1f}s max {a['latency_max']:.1f}s"
               if a["latency_median"] is not None else "")
    print(f"  articles           published {a['published']} ({r['published_in_window']} in the window)  "
          f"archived {a['archived']}  missed {a['missed']}{latency}")
    print(f"  memory (tree RSS)  after 1 min {r['rss_1min'] / mb:.0f} MB  at end {r['rss_end'] / mb:.0f} MB  "
          f"ratio {r['rss_end'] / max(1, r['rss_1min']):.2f}  (peak sampled {r['rss_peak'] / mb:.0f} MB; "
          f"PSS {r['pss_1min'] / mb:.0f} -> {r['pss_end'] / mb:.0f} MB)")
    s = r["status"]
    if "schedule" in s:
        print(f"  status schedule    {json.dumps(s['schedule'])}")
    else:
        print(f"  status schedule    not available: `status --format json` exited {s['exit']} and printed:")
        for line in s["printed"]:
            print(f"      {line}")
    print(f"  daemon log         {r['log_problems']} Traceback/ERROR lines; last 'schedule lag' lines: "
          f"{len(r['lag_lines']) or 'none'}" + "".join(f"\n      {x}" for x in r["lag_lines"]))
    st = r["stop"]
    left = f", {st['leftover_processes']} leftover processes killed" if st["leftover_processes"] else ""
    print(f"  stop               SIGTERM -> exit {st['exit']} in {st['seconds']:.1f} s{left}")
    c = r["crawl_alone"]
    ratio = f"  (ratio to a daemon check: {c['cpu'] / per:.1f}x)" if per else ""
    error = f": {c['error'][0]}" if c["exit"] and c["error"] else ""
    print(f"  one `newsmon crawl SOURCE` alone: {c['cpu']:.1f} CPU-s, {c['wall']:.1f} s wall, exit {c['exit']}"
          f"{error}{ratio}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, nargs="+", default=[1000, 5000], metavar="N")
    parser.add_argument("--minutes", type=float, default=3.0, help="length of the measured window")
    parser.add_argument("--interval", type=float, default=60.0, help="schedule.interval in seconds")
    parser.add_argument("--workers", type=int, default=1, help="crawl.workers for the daemon")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the work directories (config, archive, log)")
    args = parser.parse_args()
    results = []
    for n in args.sources:
        work = Path(tempfile.mkdtemp(prefix=f"newsmon-scale-{n}-"))
        results.append(run_size(n, args.minutes, args.interval, work, args.workers))
        report(results[-1])
        if args.keep:
            print(f"  kept               {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("Targets: >=99% checks done within an interval, <=25 ms CPU/check, 0 missed, "
          "RSS end <= 1.2x first minute (N=1000).")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
