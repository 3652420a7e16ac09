import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from fake_internet import FakeInternet  # noqa: E402

WICK = os.environ.get("WICK", os.path.join(os.path.dirname(__file__), "../../build/bin/wick"))
TAG = str(os.getpid() % 100000)
# A subnet and bridge of the test's own (another run's default network is left alone).
SUBNET = f"10.132.{os.getpid() % 250}.0/24"
BRIDGE = f"wkt{TAG}"[:15]


def leftovers(bridge, lease_dir, pin_dir):
    """What a network run could leave behind on the host."""
    found = []
    if os.path.exists(f"/sys/class/net/{bridge}"):
        found.append(f"bridge {bridge}")
    links = subprocess.run(["ip", "-o", "link", "show", "type", "veth"], capture_output=True,
                           text=True).stdout
    for line in links.splitlines():
        if f"master {bridge} " in line:
            found.append(line.split(":")[1].strip())
    if os.path.isdir(lease_dir):
        for network in os.listdir(lease_dir):
            for name in os.listdir(os.path.join(lease_dir, network)):
                if name[0].isdigit():
                    found.append(f"lease {network}/{name}")
    if os.path.isdir(pin_dir):
        found += [f"pin {name}" for name in os.listdir(pin_dir) if name.startswith("wick-")]
    nat = subprocess.run(["iptables", "-t", "nat", "-S"], capture_output=True, text=True).stdout
    found += [line for line in nat.splitlines() if "wick-" in line]
    return found


@pytest.fixture(scope="session")
def wick():
    assert os.access(WICK, os.X_OK), f"no wick binary at {WICK}"
    return WICK


@pytest.fixture(scope="session")
def test_network(tmp_path_factory):
    """A CNI conflist of the test's own: Debian's bridge plugin, leases in a temp dir."""
    root = tmp_path_factory.mktemp("net")
    lease_dir = str(root / "leases")
    conflist = root / "test.conflist"
    conflist.write_text(f"""{{"cniVersion": "1.0.0", "name": "wicktest{TAG}", "plugins": [
      {{"type": "bridge", "bridge": "{BRIDGE}", "isGateway": true, "ipMasq": true,
        "ipam": {{"type": "host-local", "ranges": [[{{"subnet": "{SUBNET}"}}]],
                 "routes": [{{"dst": "0.0.0.0/0"}}], "dataDir": "{lease_dir}"}}}}]}}""")
    return {"conflist": str(conflist), "lease_dir": lease_dir, "bridge": BRIDGE,
            "subnet": SUBNET, "root": root}


@pytest.fixture(scope="session")
def fake_internet(tmp_path_factory):
    """One per session: every test subnet lies in 10.132.0.0/16."""
    root = tmp_path_factory.mktemp("www")
    with FakeInternet(TAG, "10.132.0.0/16", str(root)) as net:
        yield net
