"""wickd as a systemd service. The unit that `cmake --install` writes passes
`systemd-analyze verify`; the installed wickd runs from its install tree, says
READY=1 (once its API listens) and STOPPING=1 over $NOTIFY_SOCKET as Type=notify
wants, and with --cgroup-delegated keeps its sandboxes below its own cgroup, the
subtree that Delegate=yes hands a service. This host has no systemd as PID 1, so
the test plays systemd's part: a cgroup for the service, a notify socket."""
import os
import socket
import subprocess

import boto3
import botocore.session
import pytest

from conftest import RUNTIMES_DIR, WICKD, free_port, runtime_zip, wait_active

BUILD_DIR = os.path.dirname(os.path.dirname(os.path.abspath(WICKD)))
SLICE_CONTROLLERS = {"memory", "cpu", "cpuacct", "pids", "freezer"}


def botocore_with_credentials(path):
    """A botocore session whose shared credentials file is `path` (and nothing of ~/.aws)."""
    session = botocore.session.Session()
    session.set_config_variable("credentials_file", str(path))
    session.set_config_variable("config_file", os.devnull)
    return session


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    prefix = tmp_path_factory.mktemp("prefix")
    result = subprocess.run(["cmake", "--install", BUILD_DIR, "--prefix", str(prefix)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return prefix


def controller_dirs():
    """Where a process's cgroup is set: each v1 hierarchy holding a controller a
    sandbox slice uses, else the cgroup2 mount."""
    v1, v2 = set(), None
    with open("/proc/self/mounts") as mounts:
        for line in mounts:
            _, target, fstype, options = line.split()[:4]
            if fstype == "cgroup" and SLICE_CONTROLLERS & set(options.split(",")):
                v1.add(target)
            elif fstype == "cgroup2" and target == "/sys/fs/cgroup":
                v2 = target
    return sorted(v1) if v1 else [v2]


def test_the_installed_unit_verifies(installed):
    unit = installed / "lib/systemd/system/wickd.service"
    text = unit.read_text()
    assert f"ExecStart={installed}/bin/wickd --state-dir /var/lib/wick --cgroup-delegated" in text
    for setting in ("Type=notify", "Delegate=yes", "KillMode=mixed"):
        assert setting in text.splitlines()
    verified = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                              text=True)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stderr == "", verified.stderr
    assert os.access(installed / "share/wick/rootfs/build-base", os.X_OK)
    assert os.access(installed / "bin/wick-agent", os.X_OK)
    assert (installed / "share/wick/seccomp/default.textproto").is_file()


def test_installed_wickd_notifies_and_keeps_sandboxes_in_its_own_cgroup(installed, tmp_path):
    own = f"wick-svc-{os.getpid()}"
    dirs = controller_dirs()
    for d in dirs:
        os.makedirs(os.path.join(d, own))
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    notify.settimeout(30)
    port = free_port()

    def join_the_service_cgroup():
        for d in dirs:
            with open(os.path.join(d, own, "cgroup.procs"), "w") as procs:
                procs.write(str(os.getpid()))

    log = open(tmp_path / "wickd.log", "wb")
    process = subprocess.Popen(
        [str(installed / "bin/wickd"), "--listen", f"127.0.0.1:{port}", "--state-dir",
         str(tmp_path / "state"), "--runtimes-dir", RUNTIMES_DIR, "--cgroup-delegated",
         "--cgroup-parent", "sandboxes"],
        env=dict(os.environ, NOTIFY_SOCKET=str(tmp_path / "notify")),
        preexec_fn=join_the_service_cgroup, stdout=log, stderr=subprocess.STDOUT)
    try:
        ready = notify.recv(4096).decode()
        assert "READY=1" in ready.splitlines(), ready
        assert f"STATUS=Lambda API on 127.0.0.1:{port}" in ready.splitlines(), ready
        socket.create_connection(("127.0.0.1", port), timeout=1).close()  # listening already

        # The admin key wickd made at its first start, as boto3 reads it.
        lam = boto3.Session(profile_name="wick", botocore_session=botocore_with_credentials(
            tmp_path / "state" / "credentials")).client(
                "lambda", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1")
        lam.create_function(FunctionName="svc", Runtime="provided.al2023", Handler="none",
                            Role="arn:aws:iam::000000000000:role/any",
                            Code={"ZipFile": runtime_zip()})
        wait_active(lam, "svc")
        response = lam.invoke(FunctionName="svc", Payload=b'{"echo":"from a service"}')
        assert "FunctionError" not in response, response["Payload"].read()
        for d in dirs:
            sandboxes = os.path.join(d, own, "sandboxes")
            assert [s for s in os.listdir(sandboxes) if s.startswith("wick-")], sandboxes

        process.terminate()
        assert "STOPPING=1" in notify.recv(4096).decode().splitlines()
        assert process.wait(timeout=30) == 0, open(tmp_path / "wickd.log").read()
        for d in dirs:
            assert not os.path.exists(os.path.join(d, own, "sandboxes")), "left behind"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()
        for d in dirs:
            for leaf in ("daemon", ""):
                path = os.path.join(d, own, leaf)
                if os.path.isdir(path):
                    os.rmdir(path)
