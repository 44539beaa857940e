#!/usr/bin/env python3
"""Chaos: lifecycle operations through the API while processes are killed with -9 at random.

Run by tests/chaos/run_chaos against a private stack (its environment: API_URL, API_KEY,
SANDBOX_VAR, DATABASE_URL, ...). Prints what it did and exits non-zero with the reasons when an
invariant does not hold:
  1. nothing accepted is lost: every 2xx answer's X-Event-Position is in the log, on its stream;
  2. every sandbox converges to what its log says (started, stopped, or gone);
  3. the read models equal a replay of the log (infra/replay --verify, compared at one position);
  4. nothing is left of a deleted sandbox: container, overlay mount, cgroup, layer, bundle.
"""
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

API = os.environ["API_URL"]
KEY = os.environ["API_KEY"]
VAR = os.environ["SANDBOX_VAR"]
ROOT = os.environ["CHAOS_ROOT"]
OPERATIONS = int(os.environ.get("CHAOS_OPERATIONS", "300"))
SEED = int(os.environ.get("CHAOS_SEED", str(int(time.time()))))
MAX_LIVE = 6
rng = random.Random(SEED)
failures = []


def log(*args):
    print(time.strftime("%H:%M:%S"), *args, flush=True)


def call(method, path, body=None, timeout=15):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(API + path, data=data, method=method,
                                 headers={"Authorization": "Bearer " + KEY, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        try:
            payload = json.loads(e.read() or b"null")
        except ValueError:
            payload = None
        return e.code, dict(e.headers), payload
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as e:
        return 0, {}, str(e)


def psql(sql):
    out = subprocess.run(["psql", os.environ["DATABASE_URL"].strip('"'), "-Atc", sql],
                         capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return out.stdout.strip()


# ---- the killer: one process at a time, brought back by infra/up -------------------------------
VICTIMS = ["command-service", "projector", "relay", "edge-proxy", "runner", "nats", "postgres"]


def pid_of(name):
    if name == "postgres":
        path = os.path.join(VAR, "pg", "data", "postmaster.pid")
    else:
        path = os.path.join(VAR, "run", name + ".pid")
    try:
        with open(path) as f:
            return int(f.readline().strip())
    except (OSError, ValueError):
        return None


kills = []
stop_killing = threading.Event()


def killer():
    order = []
    while not stop_killing.wait(rng.uniform(2.0, 5.0)):
        if not order:  # every victim once per round, in a random order
            order = VICTIMS[:]
            rng.shuffle(order)
        victim = order.pop()
        pid = pid_of(victim)
        if pid is None:
            continue
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
        kills.append(victim)
        log("kill -9", victim, pid)
        time.sleep(rng.uniform(0.2, 1.5))
        up = subprocess.run([os.path.join(ROOT, "infra", "up")], capture_output=True, text=True, timeout=240,
                            env=dict(os.environ, INFRA_UP_SKIP_BUILD="1"))
        if up.returncode != 0:
            failures.append("infra/up after killing %s failed:\n%s%s" % (victim, up.stdout[-2000:], up.stderr[-2000:]))
            stop_killing.set()


# ---- the operations ----------------------------------------------------------------------------
accepted = []      # (position, stream) of every 2xx command answer
desired = {}       # sandbox id -> what the last accepted command asked: started | stopped | destroyed
# sandbox id -> what commands sent since that one may have done though their answer was lost (no
# answer: the API was killed after its append; or a 5xx: the commit's outcome was unknown)
unsure = {}
history = {}       # sandbox id -> "want:status" of every command sent to it, for a failure's message


def accept(status, headers, sandbox, want):
    history.setdefault(sandbox, []).append("%s:%s" % (want or "labels", status))
    if 200 <= status < 300:
        position = headers.get("X-Event-Position")
        if position:
            accepted.append((int(position), "sandbox-" + sandbox))
        if want:
            desired[sandbox] = want
            unsure.pop(sandbox, None)
        return True
    if want and (status == 0 or status >= 500):
        unsure.setdefault(sandbox, set()).add(want)
    return False


def live():
    return [s for s, w in desired.items() if w != "destroyed"]


def operate(n):
    """n operations at least, and on until every victim was killed once (at most 5 minutes)."""
    done = {"create": 0, "start": 0, "stop": 0, "delete": 0, "labels": 0, "refused": 0, "unanswered": 0}
    started = time.time()
    i = -1
    while True:
        i += 1
        if i >= n and (set(VICTIMS) <= set(kills) or time.time() - started > 300 or stop_killing.is_set()):
            break
        boxes = live()
        op = "create" if not boxes else rng.choice(["create", "start", "stop", "stop", "delete", "labels", "labels"])
        if op == "create" and len(boxes) >= MAX_LIVE:
            op = "delete"
        if op == "create":
            status, headers, body = call("POST", "/sandbox", {"name": "chaos-%d-%d" % (SEED % 10000, i), "memory": 1,
                                                               "disk": 1, "autoStopInterval": 0})
            if 200 <= status < 300:
                accept(status, headers, body["id"], "started")
        else:
            box = rng.choice(boxes)
            if op == "start":
                status, headers, _ = call("POST", "/sandbox/%s/start" % box)
                accept(status, headers, box, "started")
            elif op == "stop":
                status, headers, _ = call("POST", "/sandbox/%s/stop" % box)
                accept(status, headers, box, "stopped")
            elif op == "delete":
                status, headers, _ = call("DELETE", "/sandbox/%s" % box)
                accept(status, headers, box, "destroyed")
            else:
                status, headers, _ = call("PUT", "/sandbox/%s/labels" % box, {"labels": {"round": str(i)}})
                accept(status, headers, box, None)
        if status == 0:
            done["unanswered"] += 1
        elif 200 <= status < 300:
            done[op] += 1
        else:
            done["refused"] += 1  # 409 for a state that does not fit, 503 while a dependency is down
        time.sleep(rng.uniform(0.01, 0.15))
    return done


def state_in_log(box):
    """The sandbox's state in the read model (a deleted one stays there as destroyed)."""
    return psql("select state from read.sandboxes where id = '%s'" % box) or "absent"


def converge(deadline_s=240):
    """Every sandbox reaches what the last accepted command asked of it, or what a later command
    whose answer was lost asked. Returns the state each one settled in."""
    deadline = time.time() + deadline_s
    pending = dict(desired)
    settled = dict(desired)
    while pending and time.time() < deadline:
        for box, want in list(pending.items()):
            state = state_in_log(box)
            if state == want or state in unsure.get(box, ()):
                settled[box] = state
                del pending[box]
        time.sleep(1)
    for box, want in pending.items():
        status, _, body = call("GET", "/sandbox/%s" % box)
        maybe = " (or %s: answer lost)" % " or ".join(sorted(unsure[box])) if box in unsure else ""
        failures.append("sandbox %s did not converge to %s%s: it is %s (%s %s); its commands: %s" %
                        (box, want, maybe, state_in_log(box), status, json.dumps(body)[:400],
                         " ".join(history.get(box, []))))
    return settled


def main():
    log("chaos: seed %d, %d operations" % (SEED, OPERATIONS))
    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    done = operate(OPERATIONS)
    stop_killing.set()
    thread.join(timeout=300)
    log("operations:", json.dumps(done), "kills:", ", ".join(kills))
    up = subprocess.run([os.path.join(ROOT, "infra", "up")], capture_output=True, text=True, timeout=240)
    if up.returncode != 0:
        failures.append("final infra/up failed: " + up.stdout[-2000:] + up.stderr[-2000:])
    # 1. Nothing accepted is lost.
    if accepted:
        rows = psql("select position || ' ' || stream from events where position in (%s)" %
                    ",".join(str(p) for p, _ in accepted))
        found = set(tuple(line.split(" ", 1)) for line in rows.splitlines())
        for position, stream in accepted:
            if (str(position), stream) not in found:
                failures.append("accepted event %d of %s is not in the log" % (position, stream))
    # 2. Every sandbox converges. The runner may have been killed last; reconciles take a moment.
    settled = converge()
    # 3. The read models equal a replay (compared at one position, so a heartbeat cannot race it).
    verify = subprocess.run([os.path.join(ROOT, "infra", "replay"), "--verify"], capture_output=True, text=True,
                            timeout=600)
    log("replay:", verify.stdout.strip()[:300])
    if verify.returncode != 0:
        failures.append("read models differ from a replay:\n" + verify.stdout[-3000:] + verify.stderr[-2000:])
    # 4. Nothing is left of deleted sandboxes (and nothing runs that the log does not know).
    gone = [s for s, w in settled.items() if w == "destroyed"]
    runner_state = os.path.join(VAR, "runner")
    runner_id = open(os.path.join(runner_state, "runner-id")).read().strip()
    deadline = time.time() + 60
    while True:
        leftovers = []
        crun = subprocess.run(["crun", "--root", os.path.join(runner_state, "crun"), "list", "-q"],
                              capture_output=True, text=True)
        containers = set(crun.stdout.split())
        runner_pid = pid_of("runner")  # its mounts live in its own private mount namespace
        mounts = open("/proc/%d/mounts" % runner_pid).read() if runner_pid else ""
        for box in gone:
            if box in containers:
                leftovers.append("container " + box)
            # The layer and the bundle are on the data image, mounted in the runner's namespace:
            # only a running runner shows them.
            if not runner_pid or not os.path.isdir("/proc/%d/root%s" % (runner_pid, os.path.join(runner_state, "data"))):
                leftovers.append("the runner is not running: its files cannot be looked at")
                break
            for path in ("data/.bundles/" + box, "data/" + box):
                if os.path.exists("/proc/%d/root" % runner_pid + os.path.join(runner_state, path)):
                    leftovers.append(path)
            if os.path.exists("/sys/fs/cgroup/memory/sandbox-platform/%s/%s" % (runner_id, box)):
                leftovers.append("cgroup " + box)
            if box in mounts:
                leftovers.append("mount " + box)
        running = set(s for s, w in settled.items() if w == "started")
        for c in containers - running:
            leftovers.append("container the log does not want: " + c)
        if not leftovers or time.time() > deadline:
            break
        time.sleep(2)
    failures.extend("left behind: " + l for l in leftovers)
    log("accepted commands: %d, sandboxes: %d (%d deleted), kills: %d, sandboxes with a lost answer: %d" %
        (len(accepted), len(desired), len(gone), len(kills), len(unsure)))
    if not set(VICTIMS) <= set(kills):
        failures.append("not every process was killed (%s); the run proves little" % ", ".join(kills))
    if failures:
        print("CHAOS FAILED (seed %d):" % SEED)
        for f in failures:
            print("  -", f)
        return 1
    print("chaos: every invariant held (seed %d)" % SEED)
    return 0


if __name__ == "__main__":
    sys.exit(main())
