"""`wick run --net`: a sandbox joins a namespace that CNI attached ahead of
time, reaches the (fake) internet through the host, sees the resolvers it was
given, and leaves nothing behind."""
import glob
import os
import subprocess
import time

from fake_internet import INTERNET, PORT, RESOLVER
from conftest import leftovers

from conftest import TAG

PIN_DIR = f"/run/wick/net/wicktest{TAG}"


def remove_cgroup_parent(parent):
    """The slices an orphaned sandbox leaves (no wick run is left to remove them)."""
    for top in glob.glob(f"/sys/fs/cgroup/*/{parent}") + glob.glob(f"/sys/fs/cgroup/{parent}"):
        for dirpath, _, _ in sorted(os.walk(top), key=lambda w: -len(w[0])):
            os.rmdir(dirpath)


def wick_run(wick, *args, timeout=30):
    return subprocess.run([wick, "run", "--cgroup-parent", "wick-test-net", *args],
                          capture_output=True, text=True, timeout=timeout)


def net_args(test_network):
    return ["--net", "default", "--net-config", test_network["conflist"], "--dns", RESOLVER]


def test_shell_curl_fetches_from_the_internet(wick, test_network, fake_internet):
    run = wick_run(wick, *net_args(test_network), "--",
                   "/usr/bin/curl", "-sS", "--max-time", "5", f"http://{INTERNET}:{PORT}/hello.txt")
    assert run.returncode == 0, run.stderr
    assert run.stdout.encode() == fake_internet.payload


def test_python_urllib_fetches_from_the_internet(wick, test_network, fake_internet):
    code = ("import urllib.request;"
            f"print(urllib.request.urlopen('http://{INTERNET}:{PORT}/hello.txt', timeout=5)"
            ".read().decode(), end='')")
    run = wick_run(wick, *net_args(test_network), "--", "/usr/bin/python3", "-c", code)
    assert run.returncode == 0, run.stderr
    assert run.stdout.encode() == fake_internet.payload


def test_the_sandbox_has_eth0_an_address_and_a_default_route(wick, test_network, fake_internet):
    run = wick_run(wick, *net_args(test_network), "--", "/bin/sh", "-c",
                   "ip -o link show eth0; ip -4 -o addr show eth0; ip route")
    assert run.returncode == 0, run.stderr
    prefix = test_network["subnet"].rsplit(".", 1)[0] + "."
    assert "state UP" in run.stdout.splitlines()[0], run.stdout
    assert f"inet {prefix}" in run.stdout, run.stdout
    assert f"default via {prefix}1 dev eth0" in run.stdout, run.stdout


def test_resolv_conf_names_the_given_resolver(wick, test_network, fake_internet):
    run = wick_run(wick, *net_args(test_network), "--", "/bin/cat", "/etc/resolv.conf")
    assert run.returncode == 0, run.stderr
    assert f"nameserver {RESOLVER}\n" in run.stdout
    assert "nameserver 10." not in run.stdout  # not the host's


def test_net_none_has_only_loopback(wick, test_network, fake_internet):
    run = wick_run(wick, "--net", "none", "--", "/usr/bin/curl", "-sS", "--max-time", "3",
                   f"http://{INTERNET}:{PORT}/hello.txt")
    assert run.returncode != 0
    listing = wick_run(wick, "--net", "none", "--", "/usr/sbin/ip", "-o", "link")
    assert [line.split(":")[1].strip() for line in listing.stdout.splitlines()] == ["lo"]


def test_net_host_sees_the_hosts_interfaces(wick, test_network, fake_internet):
    run = wick_run(wick, "--net", "host", "--", "/usr/sbin/ip", "-o", "link")
    assert run.returncode == 0, run.stderr
    assert f" {fake_internet.host_if}@" in run.stdout


def test_bad_network_flags_exit_2(wick, test_network):
    for args in (["--net", "bogus"], ["--net", "none", "--dns", "198.18.0.53"],
                 ["--net", "default", "--dns", "not-an-ip"],
                 ["--net", "default", "--net-config", "/nonexistent.conflist"]):
        run = wick_run(wick, *args, "--", "/bin/true")
        assert run.returncode == 2, (args, run.stderr)
        assert run.stderr.count("\n") == 1, (args, run.stderr)


def test_a_missing_plugin_fails_creation_with_its_name(wick, test_network, tmp_path):
    conflist = tmp_path / "missing.conflist"
    conflist.write_text('{"cniVersion": "1.0.0", "name": "wickmissing",'
                        ' "plugins": [{"type": "no-such-plugin"}]}')
    run = wick_run(wick, "--net", "default", "--net-config", str(conflist), "--", "/bin/true")
    assert run.returncode == 125
    assert "no-such-plugin" in run.stderr and "not found" in run.stderr, run.stderr


def test_nothing_is_left_behind(wick, test_network, fake_internet):
    for _ in range(3):
        run = wick_run(wick, *net_args(test_network), "--", "/bin/true")
        assert run.returncode == 0, run.stderr
    assert leftovers(test_network["bridge"], test_network["lease_dir"], PIN_DIR) == []
    conntrack = subprocess.run(["conntrack", "-L", "-s", test_network["subnet"]],
                               capture_output=True, text=True)
    assert conntrack.stdout.strip() == "", conntrack.stdout


def test_a_killed_run_is_undone_by_the_next_run(wick, test_network, fake_internet):
    """SIGKILL of `wick run` (no destructor runs): the pinned namespace
    remains; the next `wick run --net` of the same network reclaims it."""
    proc = subprocess.Popen([wick, "run", "--cgroup-parent", "wick-test-net",
                             *net_args(test_network), "--", "/bin/sleep", "0.5"])
    try:
        deadline = time.time() + 10
        while time.time() < deadline and not leftovers(test_network["bridge"],
                                                        test_network["lease_dir"], PIN_DIR):
            time.sleep(0.05)
        time.sleep(0.2)
    finally:
        proc.kill()
        proc.wait()
    assert leftovers(test_network["bridge"], test_network["lease_dir"], PIN_DIR) != []
    time.sleep(0.5)  # the orphaned sandbox's sleep ends; its cgroup slice is removed below
    remove_cgroup_parent("wick-test-net")
    run = wick_run(wick, *net_args(test_network), "--", "/bin/true")
    assert run.returncode == 0, run.stderr
    assert leftovers(test_network["bridge"], test_network["lease_dir"], PIN_DIR) == []
