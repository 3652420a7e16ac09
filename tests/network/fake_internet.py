"""A "fake internet" for network tests: a network namespace made by the test,
reached from the host over a veth, with an HTTP server answering on addresses
that stand for the internet (198.18.0.10, the benchmarking range), the cloud
metadata service (169.254.169.254) and an operator's private service
(10.253.0.10). Every packet a sandbox of the test's subnet sends off the host
is routed into this namespace (a source-based ip rule), so whatever a policy
lets through never leaves the machine, and what it blocks would otherwise
have been answered: a test of a block can fail.
"""
import os
import subprocess
import time
import urllib.request

INTERNET = "198.18.0.10"
METADATA = "169.254.169.254"
PRIVATE = "10.253.0.10"
RESOLVER = "198.18.0.53"
PORT = 8080


def sh(*args, check=True):
    return subprocess.run(list(args), check=check, capture_output=True, text=True)


class FakeInternet:
    def __init__(self, tag, sandbox_subnet, root_dir):
        self.ns = f"wick-fakenet-{tag}"
        self.host_if = f"wkfh{tag}"[:15]
        self.ns_if = f"wkfn{tag}"[:15]
        self.subnet = sandbox_subnet
        self.table = str(20000 + int(tag) % 10000)
        self.root_dir = root_dir
        self.server = None
        self.payload = b"hello from the fake internet\n"

    def __enter__(self):
        try:
            self._make()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _make(self):
        sh("ip", "netns", "add", self.ns)
        sh("ip", "link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if)
        sh("ip", "link", "set", self.ns_if, "netns", self.ns)
        sh("ip", "addr", "add", "198.18.255.1/30", "dev", self.host_if)
        sh("ip", "link", "set", self.host_if, "up")
        inside = ["ip", "netns", "exec", self.ns]
        sh(*inside, "ip", "link", "set", "lo", "up")
        sh(*inside, "ip", "addr", "add", "198.18.255.2/30", "dev", self.ns_if)
        sh(*inside, "ip", "link", "set", self.ns_if, "up")
        for address in (INTERNET, METADATA, PRIVATE, RESOLVER):
            sh(*inside, "ip", "addr", "add", address + "/32", "dev", "lo")
        sh(*inside, "ip", "route", "add", "default", "via", "198.18.255.1")
        sh("ip", "route", "add", "198.18.0.0/24", "via", "198.18.255.2")
        # Everything the sandboxes send off the host goes into the namespace.
        sh("ip", "rule", "add", "from", self.subnet, "lookup", self.table, "priority", "1000")
        # ...but not what the host itself sends from a gateway address (wickd's replies).
        sh("ip", "rule", "add", "from", self.subnet, "iif", "lo", "lookup", "main",
           "priority", "999")
        sh("ip", "route", "add", "default", "via", "198.18.255.2", "table", self.table)
        os.makedirs(self.root_dir, exist_ok=True)
        with open(os.path.join(self.root_dir, "hello.txt"), "wb") as f:
            f.write(self.payload)
        with open(os.path.join(self.root_dir, "big.bin"), "wb") as f:
            f.write(os.urandom(64 << 20))
        self.server = subprocess.Popen(
            inside + ["python3", "-m", "http.server", "--bind", "0.0.0.0", str(PORT),
                      "--directory", self.root_dir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait_for_server()

    def _wait_for_server(self):
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://{INTERNET}:{PORT}/hello.txt", timeout=1) as r:
                    if r.read() == self.payload:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the fake internet's HTTP server did not come up")

    def __exit__(self, *exc):
        if self.server:
            self.server.kill()
            self.server.wait()
        sh("ip", "rule", "del", "from", self.subnet, "lookup", self.table, check=False)
        sh("ip", "rule", "del", "from", self.subnet, "iif", "lo", "lookup", "main", check=False)
        sh("ip", "route", "flush", "table", self.table, check=False)
        sh("ip", "route", "del", "198.18.0.0/24", check=False)
        sh("ip", "link", "del", self.host_if, check=False)
        sh("ip", "netns", "del", self.ns, check=False)
