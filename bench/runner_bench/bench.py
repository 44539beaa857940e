#!/usr/bin/env python3
"""Driver of bench/runner (stdlib only). Talks to the stack bench/runner started; prints the table.

Create -> started is measured from the POST to the moment the SandboxStarted event arrives on the
API's event stream (/api/events, SSE), so no polling interval is added. The breakdown comes from
the runner's own timing line for each start.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

API_URL = os.environ["API_URL"]
API_KEY = os.environ["API_KEY"]
_u = urllib.parse.urlparse(API_URL)
HOST, PORT, BASE = _u.hostname, _u.port, _u.path


def pct(values, p):
    if not values:
        return 0.0
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def call(method, path, body=None):
    c = http.client.HTTPConnection(HOST, PORT, timeout=60)
    c.request(method, BASE + path, body=json.dumps(body) if body is not None else None,
              headers={"Authorization": "Bearer " + API_KEY, "Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    if r.status >= 300:
        raise RuntimeError(f"{method} {path}: {r.status} {data[:200]!r}")
    return json.loads(data) if data else {}


class Events:
    """Follows /api/events (public events, CloudEvents); remembers when each sandbox reached each
    state ("started", ...)."""

    def __init__(self):
        self.seen = {}
        self.cond = threading.Condition()
        threading.Thread(target=self._follow, daemon=True).start()

    def _follow(self):
        c = http.client.HTTPConnection(HOST, PORT)
        c.request("GET", BASE + "/events?types=sandbox.state.updated", headers={"Authorization": "Bearer " + API_KEY})
        r = c.getresponse()
        event = None
        for raw in r:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "sandbox.state.updated":
                ce = json.loads(line[6:])
                with self.cond:
                    self.seen.setdefault((ce["subject"], ce["data"]["newState"]), time.perf_counter())
                    self.cond.notify_all()

    def wait(self, sandbox, event, timeout=120):
        deadline = time.time() + timeout
        with self.cond:
            while (sandbox, event) not in self.seen:
                left = deadline - time.time()
                if left <= 0:
                    raise RuntimeError(f"sandbox {sandbox}: no {event} in {timeout} s")
                self.cond.wait(left)
            return self.seen[(sandbox, event)]


def runner_timings(var):
    out = {}
    pattern = re.compile(r"sandbox (\S+): timings look-up ([\d.]+) ms, layer ([\d.]+) ms, mount\+bundle ([\d.]+) ms, "
                         r"crun run ([\d.]+) ms")
    with open(os.path.join(var, "log", "runner.log")) as f:
        for line in f:
            m = pattern.search(line)
            if m:
                out[m.group(1)] = [float(x) for x in m.groups()[1:]]
    return out


def reference_bundle(var):
    """A sandbox's bundle (its config.json) on a plain directory (no overlay, no btrfs): the
    bare `crun run` references run it. Returns the directory and the config."""
    # The bundles are on the runner's data image, mounted in its own mount namespace.
    with open(os.path.join(var, "run", "runner.pid")) as f:
        runner_pid = int(f.read().strip())
    bundles = "/proc/%d/root%s" % (runner_pid, os.path.join(os.path.abspath(var), "runner", "data", ".bundles"))
    sample = sorted(os.listdir(bundles))[0]
    with open(os.path.join(bundles, sample, "config.json")) as f:
        config = json.load(f)
    ref = os.path.join(var, "reference")
    rootfs = os.path.join(ref, "rootfs")
    os.makedirs(rootfs, exist_ok=True)
    for link in ["bin", "lib", "lib32", "lib64", "sbin"]:
        if not os.path.islink(os.path.join(rootfs, link)):
            os.symlink("usr/" + link, os.path.join(rootfs, link))
    for d in ["usr", "etc", "proc", "sys", "dev", "run", "mnt", "var/tmp", "tmp", "root", "home/daytona", "workspace",
              ".platform"]:
        os.makedirs(os.path.join(rootfs, d), exist_ok=True)
    open(os.path.join(rootfs, ".platform", "daemon"), "a").close()
    for dirpath, dirnames, filenames in os.walk(rootfs):
        for name in dirnames + filenames + [""]:
            os.lchown(os.path.join(dirpath, name), 100000, 100000)
    config["root"]["path"] = rootfs
    return ref, config


def remove_reference(ref):
    for controller in os.listdir("/sys/fs/cgroup"):
        base = "/sys/fs/cgroup/%s/bench-reference" % controller
        if os.path.isdir(base):
            for d in os.listdir(base):
                try:
                    os.rmdir(os.path.join(base, d))
                except OSError:
                    pass
            try:
                os.rmdir(base)
            except OSError:
                pass
    shutil.rmtree(ref, ignore_errors=True)


def run_as_the_runner_does(ref, script):
    """Runs a Python `script` (it prints its result as JSON) in a private mount namespace with
    the hybrid cgroup mount hidden, as the runner runs crun; then removes the reference `ref`."""
    prelude = ("import subprocess, time, json\n"
               "subprocess.run(['umount', '/sys/fs/cgroup/unified'], stderr=subprocess.DEVNULL)\n")
    try:
        done = subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable, "-c", prelude + script],
                              capture_output=True, text=True, check=True)
    finally:
        remove_reference(ref)
    return json.loads(done.stdout)


def reference_crun(var, daemon, n):
    """Bare `crun run` of a sandbox's bundle, one after another, in a private mount namespace
    with the hybrid cgroup mount hidden, as the runner runs crun."""
    ref, config = reference_bundle(var)
    config["linux"]["cgroupsPath"] = "/bench-reference/sandbox"
    with open(os.path.join(ref, "config.json"), "w") as f:
        json.dump(config, f)
    script = (
        "out = []\n"
        f"for i in range({n}):\n"
        "    t = time.perf_counter()\n"
        f"    subprocess.run(['crun', '--root', '{ref}/state', 'run', '--detach', '--bundle', '{ref}', 'ref'], check=True,\n"
        "                   stdout=subprocess.DEVNULL)\n"
        "    out.append((time.perf_counter() - t) * 1000)\n"
        f"    subprocess.run(['crun', '--root', '{ref}/state', 'delete', '-f', 'ref'], check=True)\n"
        "print(json.dumps(out))\n")
    return run_as_the_runner_does(ref, script)


def reference_crun_burst(var, n, concurrent):
    """The burst's reference: `n` bare `crun run`s of the same bundle, `concurrent` at a time (as
    many as the runner converges at once, RUNNER_WORKERS), each its own container and cgroup.
    Returns the wall time in ms until all have started."""
    ref, config = reference_bundle(var)
    for i in range(n):
        config["linux"]["cgroupsPath"] = "/bench-reference/sandbox-%d" % i
        with open(os.path.join(ref, "config-%d.json" % i), "w") as f:
            json.dump(config, f)
    script = (
        "from concurrent.futures import ThreadPoolExecutor\n"
        "def run(i):\n"
        f"    subprocess.run(['crun', '--root', '{ref}/state', 'run', '--detach', '--config', '{ref}/config-%d.json' % i,\n"
        f"                    '--bundle', '{ref}', 'ref-%d' % i], check=True, stdout=subprocess.DEVNULL)\n"
        "t = time.perf_counter()\n"
        f"with ThreadPoolExecutor({concurrent}) as pool:\n"
        f"    list(pool.map(run, range({n})))\n"
        "took = (time.perf_counter() - t) * 1000\n"
        f"for i in range({n}):\n"
        f"    subprocess.run(['crun', '--root', '{ref}/state', 'delete', '-f', 'ref-%d' % i], check=True)\n"
        "print(json.dumps(took))\n")
    return run_as_the_runner_does(ref, script)


def reference_unshare(n):
    out = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(["unshare", "--user", "--map-root-user", "--pid", "--fork", "--mount", "--uts", "--ipc", "--net",
                        "/bin/true"], check=True)
        out.append((time.perf_counter() - t) * 1000)
    return out


def sandboxes_memory(var):
    """Memory charged to every sandbox of the runner (its cgroup v1 parent: processes, kernel, cache)."""
    with open(os.path.join(var, "runner", "runner-id")) as f:
        runner = f.read().strip()
    try:
        with open(f"/sys/fs/cgroup/memory/sandbox-platform/{runner}/memory.usage_in_bytes") as f:
            return int(f.read())
    except OSError:
        return 0


def mem_available():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


def daemon_rss(daemon):
    rss = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.readlink(f"/proc/{pid}/exe") not in (daemon, "/.platform/daemon"):  # as seen in its sandbox
                continue
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss.append(int(line.split()[1]) * 1024)
        except OSError:
            continue
    return rss


def create_many(events, names, concurrent):
    """Creates the sandboxes `concurrent` at a time; returns their ids and per-sandbox latency (ms)."""
    ids, latency = [], []
    for i in range(0, len(names), concurrent):
        batch = names[i:i + concurrent]
        started_at, results = {}, {}

        def one(name):
            t = time.perf_counter()
            sandbox = call("POST", "/sandbox", {"name": name, "disk": 1})["id"]
            started_at[sandbox] = t
            results[name] = sandbox

        threads = [threading.Thread(target=one, args=(n,)) for n in batch]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        for name in batch:
            sandbox = results[name]
            ids.append(sandbox)
            latency.append((events.wait(sandbox, "started") - started_at[sandbox]) * 1000)
    return ids, latency


def density(events, a, made):
    """Idle sandboxes until a.density of them or memory runs short; `made` exist already."""
    rows = []
    before = mem_available()
    initial = made
    t = time.perf_counter()
    while made < a.density and mem_available() > 1 << 30:
        step = min(20, a.density - made)
        create_many(events, ["dense-%d-%d" % (made, i) for i in range(step)], step)
        made += step
    elapsed = time.perf_counter() - t
    time.sleep(2)
    used = before - mem_available()
    charged = sandboxes_memory(a.var)
    rss = daemon_rss(os.path.realpath(a.daemon))
    rows.append(("density: idle sandboxes started (memory left > 1 GiB)", "%d" % made, "", "",
                 ">= 500 on a 24 GiB host"))
    rows.append(("  memory charged per idle sandbox (its cgroups' usage / sandboxes)", "%.2f MiB" % (charged / max(1, made) / 2**20),
                 "", "", ""))
    rows.append(("  host MemAvailable drop per sandbox while filling (noisy: page cache)",
                 "%.2f MiB" % (used / max(1, made - initial) / 2**20), "", "", ""))
    rows.append(("  sandbox daemon RSS, median (n=%d)" % len(rss), "%.2f MiB" % (statistics.median(rss) / 2**20 if rss else 0),
                 "", "", "<= 4 MiB (issue 5)"))
    rows.append(("  creates/s while filling (20 at a time)", "%.1f /s" % ((made - initial) / max(elapsed, 1e-9)), "", "", ""))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--var", required=True)
    ap.add_argument("--daemon", required=True)
    ap.add_argument("--density", type=int, default=500)
    ap.add_argument("--sequential", type=int, default=50)
    ap.add_argument("--references", type=int, default=0,
                    help="only measure the references (bare crun run, unshare) N times each, and bare crun bursts of 20 "
                         "and 100, and print them as JSON")
    ap.add_argument("--density-only", action="store_true", help="only the density rows (bench/run)")
    a = ap.parse_args()
    if a.references:
        workers = int(os.environ.get("RUNNER_WORKERS", "4"))
        print(json.dumps({"crun": reference_crun(a.var, a.daemon, a.references), "unshare": reference_unshare(a.references),
                          "crun_burst": {str(k): reference_crun_burst(a.var, k, workers) for k in (20, 100)},
                          "workers": workers}))
        return
    events = Events()
    time.sleep(0.5)
    rows = []

    if a.density_only:
        for r in density(events, a, 0):
            print("| " + " | ".join(r) + " |")
        return

    # Warm-up (first start of each code path), then 50 sequential creates.
    create_many(events, ["warm-%d" % i for i in range(3)], 1)
    ids, seq = create_many(events, ["seq-%d" % i for i in range(a.sequential)], 1)
    timings = runner_timings(a.var)
    parts = [timings[i] for i in ids if i in timings]
    crun = reference_crun(a.var, a.daemon, 20)
    unshare = reference_unshare(20)
    p50 = pct(seq, 50)
    rows.append(("create -> started, sequential (n=%d), p50 / p99" % len(seq), "%.1f / %.1f ms" % (p50, pct(seq, 99)),
                 "bare crun run %.1f / %.1f ms" % (pct(crun, 50), pct(crun, 99)), "%.2fx" % (p50 / pct(crun, 50)),
                 "p50 <= 1.5x bare crun"))
    rows.append(("  reference: unshare of the same namespaces, p50 / p99", "", "%.1f / %.1f ms" % (pct(unshare, 50), pct(unshare, 99)),
                 "", ""))
    names = ["runner look-up (API)", "layer (btrfs subvolume, quota, skeleton)", "overlay mount + bundle",
             "crun run --detach (create + start)"]
    for k, name in enumerate(names):
        values = [p[k] for p in parts]
        rows.append(("  breakdown: " + name + ", p50 / p99", "%.1f / %.1f ms" % (pct(values, 50), pct(values, 99)), "", "", ""))
    rest = [s - sum(timings[i]) for s, i in zip(seq, ids) if i in timings]
    rows.append(("  breakdown: the rest (API append, event delivery, reports, projection), p50 / p99",
                 "%.1f / %.1f ms" % (pct(rest, 50), pct(rest, 99)), "", "", ""))

    # A burst of 20 concurrent creates: time until all are started.
    t = time.perf_counter()
    create_many(events, ["burst-%d" % i for i in range(20)], 20)
    burst = (time.perf_counter() - t) * 1000
    rows.append(("burst: 20 concurrent creates, all started", "%.0f ms" % burst, "", "", "<= 1.5 s (issue 6)"))

    rows += density(events, a, 3 + len(ids) + 20)

    with open("/proc/meminfo") as f:
        total = int(f.readline().split()[1]) / 2**20
    print("runner bench: %d cores, %.1f GiB memory, %s" % (os.cpu_count(), total, time.strftime("%Y-%m-%d")))
    print()
    print("| figure | ours | reference (same run) | ratio | target |")
    print("|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
