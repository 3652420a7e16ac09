"""The egress policy of `wick run --net default`, against a fake internet that
answers on every address the policy denies (the metadata service, a private
service): what is blocked would otherwise be reached, as the --allow cases show."""
import http.server
import socket
import subprocess
import threading
import time

import pytest

from conftest import TAG
from fake_internet import INTERNET, METADATA, PORT, PRIVATE, RESOLVER  # noqa: F401
from test_wick_run_net import net_args, wick_run


def fetch(wick, test_network, url, *extra):
    return wick_run(wick, *net_args(test_network), *extra, "--",
                    "/usr/bin/curl", "-sS", "--max-time", "2", url)


def test_the_internet_is_reachable_and_the_metadata_service_is_not(wick, test_network,
                                                                   fake_internet):
    assert fetch(wick, test_network, f"http://{INTERNET}:{PORT}/hello.txt").returncode == 0
    blocked = fetch(wick, test_network, f"http://{METADATA}:{PORT}/hello.txt")
    assert blocked.returncode != 0, blocked.stdout
    allowed = fetch(wick, test_network, f"http://{METADATA}:{PORT}/hello.txt",
                    "--allow", f"{METADATA}/32")
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.encode() == fake_internet.payload


def test_private_ranges_are_denied_unless_allowed_with_their_port(wick, test_network,
                                                                  fake_internet):
    url = f"http://{PRIVATE}:{PORT}/hello.txt"
    assert fetch(wick, test_network, url).returncode != 0
    assert fetch(wick, test_network, url, "--allow", f"{PRIVATE}/32:{PORT + 1}").returncode != 0
    allowed = fetch(wick, test_network, url, "--allow", f"{PRIVATE}/32:{PORT}")
    assert allowed.returncode == 0, allowed.stderr


def test_no_internet_blocks_what_is_not_allowed(wick, test_network, fake_internet):
    url = f"http://{INTERNET}:{PORT}/hello.txt"
    assert fetch(wick, test_network, url, "--no-internet").returncode != 0
    assert fetch(wick, test_network, url, "--no-internet",
                 "--allow", f"{INTERNET}/32").returncode == 0


@pytest.fixture
def host_service():
    """An HTTP server of the host on every address (0.0.0.0)."""
    server = http.server.HTTPServer(("0.0.0.0", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


def host_addresses():
    out = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True,
                         text=True).stdout
    return [line.split()[3].split("/")[0] for line in out.splitlines()
            if not line.split()[1].startswith(("lo", "wkt"))]


def test_the_host_is_unreachable_on_every_address(wick, test_network, fake_internet,
                                                  host_service):
    gateway = test_network["subnet"].rsplit(".", 1)[0] + ".1"
    targets = [gateway, "127.0.0.1"] + host_addresses()
    script = "; ".join(
        f"curl -s -o /dev/null --max-time 1 http://{address}:{host_service}/ "
        f"&& echo reached {address}" for address in targets)
    run = wick_run(wick, *net_args(test_network), "--", "/bin/sh", "-c", script + "; true")
    assert run.returncode == 0, run.stderr
    assert run.stdout == "", run.stdout
    # The service is there: the host itself reaches it.
    with socket.create_connection(("127.0.0.1", host_service), timeout=2):
        pass


def test_another_sandbox_is_unreachable(wick, test_network, fake_internet):
    server = subprocess.Popen(
        [wick, "run", "--cgroup-parent", "wick-test-net", *net_args(test_network), "--",
         "/bin/sh", "-c",
         "ip -4 -o addr show eth0 | awk '{print $4}'; exec python3 -m http.server 8081"],
        stdout=subprocess.PIPE, text=True)
    try:
        address = server.stdout.readline().strip().split("/")[0]
        assert address.startswith(test_network["subnet"].rsplit(".", 1)[0]), address
        time.sleep(0.5)
        # From its own namespace the server answers...
        run = wick_run(wick, *net_args(test_network), "--", "/bin/sh", "-c",
                       f"curl -s -o /dev/null --max-time 2 http://{address}:8081/ && echo reached;"
                       f" ping -c 1 -W 1 {address} > /dev/null && echo pinged; true")
        assert run.returncode == 0, run.stderr
        assert run.stdout == "", run.stdout
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_resolvers_are_allowed_on_port_53_only(wick, test_network, fake_internet):
    # A resolver in a private range (the case that needs the exception).
    private_resolver = PRIVATE
    ok = wick_run(wick, "--net", "default", "--net-config", test_network["conflist"],
                  "--dns", private_resolver, "--", "/bin/sh", "-c",
                  f"curl -s -o /dev/null --max-time 1 http://{private_resolver}:{PORT}/"
                  " && echo reached; true")
    assert ok.stdout == "", ok.stdout  # port 8080 of the resolver: still denied
    rules = subprocess.run(["nft", "list", "table", "inet", f"wick_wicktest{TAG}"],
                           capture_output=True, text=True)
    assert rules.returncode != 0  # the last run took its table with it


def test_the_policy_goes_with_the_last_run(wick, test_network, fake_internet):
    assert fetch(wick, test_network, f"http://{INTERNET}:{PORT}/hello.txt").returncode == 0
    tables = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout
    assert f"wick_wicktest{TAG}" not in tables


def test_a_run_does_not_change_the_policy_of_another_runs_sandbox(wick, test_network,
                                                                  fake_internet):
    """The policy is one table per network, on its bridge: a second run with other
    flags replaced the first run's table, so a --no-internet sandbox reached the
    internet (and the metadata service) while, and after, the second ran."""
    url = f"http://{INTERNET}:{PORT}/hello.txt"
    first = subprocess.Popen(
        [wick, "run", "--cgroup-parent", "wick-test-net", *net_args(test_network),
         "--no-internet", "--", "/bin/sh", "-c",
         f"echo ready; read go; curl -sS -o /dev/null --max-time 2 {url} && echo reached; true"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert first.stdout.readline() == "ready\n"
        second = fetch(wick, test_network, url, "--allow", f"{METADATA}/32")
        assert second.returncode != 0, "a second policy was applied to the network"
        assert "egress policy" in second.stderr, second.stderr
        # The same flags share the policy in place.
        same = wick_run(wick, *net_args(test_network), "--no-internet", "--",
                        "/usr/bin/curl", "-sS", "--max-time", "2", url)
        assert same.returncode != 0 and "egress policy" not in same.stderr, same.stderr
        out, err = first.communicate("go\n", timeout=30)
        assert first.returncode == 0, err
        assert out == "", out
    finally:
        if first.poll() is None:  # stdin closed: the sandbox ends, and the run undoes its network
            first.communicate("", timeout=30)
    assert fetch(wick, test_network, url).returncode == 0  # the last run took its table
    tables = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout
    assert f"wick_wicktest{TAG}" not in tables
