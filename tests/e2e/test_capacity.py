"""Capacity (issue 15): 1,000 concurrent invokes of a sleeping function all
succeed, with 1,000 sandboxes alive at once, each on host ids of its own (a
shared uid's RLIMIT_NPROC once failed a third of them with HTTP 500). Prints
the host memory each sandbox costs."""
import concurrent.futures
import json
import os
import threading
import time

from conftest import client_for, create, runtime_zip, running_daemon, signed_request

INVOKES = 1000
SLEEP_SECONDS = 75  # long enough for every cold start to happen while the first still sleep


def mem_available_kb():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1])
    raise AssertionError("no MemAvailable in /proc/meminfo")


def live_sandboxes(parent):
    directory = f"/sys/fs/cgroup/memory/{parent}"
    if not os.path.isdir(directory):
        directory = f"/sys/fs/cgroup/{parent}"
    try:
        return sum(1 for name in os.listdir(directory) if name.startswith("wick-"))
    except FileNotFoundError:
        return 0


def test_a_thousand_concurrent_invokes_run_in_a_thousand_sandboxes(tmp_path):
    config = tmp_path / "wickd.conf"
    # 1,000 x 128 MB is more than this machine has: the sleeping sandboxes use
    # a few MB each, so the memory budget is lifted for this test.
    config.write_text("account_concurrency: 1000\nhost_memory_budget_mb: 1000000\n")
    with running_daemon("wick-e2e-capacity-", ["--config", str(config)]) as daemon:
        lam = client_for(daemon)
        create(lam, "sleeper", Code={"ZipFile": runtime_zip()}, MemorySize=128, Timeout=300)
        parent = f"wick-e2e-{daemon.port}"
        before_kb = mem_available_kb()
        peak = {"sandboxes": 0, "min_available_kb": before_kb}
        done = threading.Event()

        def watch():
            while not done.is_set():
                count = live_sandboxes(parent)
                available = mem_available_kb()
                if count >= peak["sandboxes"]:
                    peak["sandboxes"] = count
                    peak["min_available_kb"] = min(peak["min_available_kb"], available)
                time.sleep(0.25)

        def invoke(i):
            status, headers, body = signed_request(
                daemon, "POST", "/2015-03-31/functions/sleeper/invocations",
                json.dumps({"sleep": SLEEP_SECONDS, "n": i}), timeout=SLEEP_SECONDS + 240)
            return status, headers.get("x-amz-function-error"), body

        watcher = threading.Thread(target=watch)
        watcher.start()
        started = time.time()
        try:
            with concurrent.futures.ThreadPoolExecutor(INVOKES) as pool:
                results = list(pool.map(invoke, range(INVOKES)))
        finally:
            done.set()
            watcher.join()
        elapsed = time.time() - started
        failures = [r for r in results if r[0] != 200 or r[1]]
        per_sandbox_kb = (before_kb - peak["min_available_kb"]) / max(peak["sandboxes"], 1)
        print(f"\n{INVOKES} invokes in {elapsed:.1f} s, {peak['sandboxes']} sandboxes alive at "
              f"once, {per_sandbox_kb / 1024:.2f} MiB of host memory each, "
              f"{len(failures)} failed")
        assert failures == [], failures[:5]
        assert peak["sandboxes"] == INVOKES
        # Each sandbox is its own environment: nothing was reused.
        config_reply = lam.get_function_configuration(FunctionName="sleeper")
        assert config_reply["State"] == "Active"
