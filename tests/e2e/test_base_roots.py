"""Base roots seen from the API: a function whose base is not built yet is
Pending (and invoking it is refused) until the base is ready; a base that
cannot be built puts its functions in Failed with the reason; `wick runtimes`
lists and builds bases; a base is rebuilt only when its recipe changes."""
import os
import shutil
import subprocess
import time

import botocore.exceptions
import pytest

from conftest import (ROLE, WICKD, Daemon, client_for, make_zip, runtime_zip, running_daemon,
                      wait_for)

ROOTFS = os.path.join(os.path.dirname(__file__), "../../rootfs")
WICK = os.path.join(os.path.dirname(WICKD), "wick")


@pytest.fixture()
def private_daemon(tmp_path):
    """A daemon with its own copy of rootfs/ (recipes we may break) and its
    own, empty base cache."""
    rootfs = str(tmp_path / "rootfs")
    shutil.copytree(ROOTFS, rootfs, symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    config = tmp_path / "wickd.conf"
    config.write_text(f'rootfs_dir: "{rootfs}"\n')
    with running_daemon("wick-e2e-bases-", ["--config", str(config)],
                        str(tmp_path / "runtimes")) as d:
        d.rootfs = rootfs
        yield d


def wick(daemon, *args):
    return subprocess.run([WICK, *args, "--endpoint", daemon.wick_endpoint], capture_output=True,
                          text=True, timeout=120)


def state_of(lam, name):
    return lam.get_function_configuration(FunctionName=name)


def test_pending_until_the_base_is_built_then_active(private_daemon):
    lam = client_for(private_daemon)
    created = lam.create_function(FunctionName="early", Runtime="provided.al2023", Role=ROLE,
                                  Handler="x", Code={"ZipFile": runtime_zip()})
    assert created["State"] == "Pending"
    config = state_of(lam, "early")
    # The base takes about a second to build: the first look sees it building.
    assert config["State"] == "Pending", config
    assert config["StateReasonCode"] == "Creating"
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        lam.invoke(FunctionName="early", Payload=b"{}")
    assert refused.value.response["Error"]["Code"] == "ResourceConflictException"
    assert "Pending" in refused.value.response["Error"]["Message"]
    # boto3's own waiter, unchanged, sees it become Active.
    lam.get_waiter("function_active_v2").wait(FunctionName="early",
                                              WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    response = lam.invoke(FunctionName="early", Payload=b'{"echo":"after"}')
    assert response["Payload"].read() == b'{"echo":"after"}'

    listed = wick(private_daemon, "runtimes")
    assert listed.returncode == 0, listed.stderr
    line = next(l for l in listed.stdout.splitlines() if l.startswith("provided.al2023"))
    assert "Ready" in line
    # Every runtime name the API takes is listed, aliases beside their base.
    for alias in ("provided.al2 ", "provided "):
        line = next(l for l in listed.stdout.splitlines() if l.startswith(alias))
        assert line.split()[1:3] == ["provided.al2023", "Ready"], line
    bases = os.path.join(private_daemon.runtimes_dir, "provided.al2023")
    (built,) = [e for e in os.listdir(bases) if len(e) == 64]
    mtime = os.stat(os.path.join(bases, built)).st_mtime_ns

    # A restart with the same recipe reuses the base: no rebuild.
    private_daemon.stop()
    private_daemon.start()
    lam = client_for(private_daemon)
    assert state_of(lam, "early")["State"] == "Active"
    assert os.stat(os.path.join(bases, built)).st_mtime_ns == mtime

    # A changed recipe is a new base: built again, the old one swept.
    with open(os.path.join(private_daemon.rootfs, "recipes", "provided.al2023"), "a") as f:
        f.write("# a change\n")
    private_daemon.stop()
    private_daemon.start()
    lam = client_for(private_daemon)
    rebuilt = wick(private_daemon, "runtimes", "build", "provided.al2023")
    assert rebuilt.returncode == 0, rebuilt.stderr
    entries = [e for e in os.listdir(bases) if len(e) == 64]
    assert len(entries) == 1 and entries[0] != built
    assert state_of(lam, "early")["State"] == "Active"


def test_a_base_that_cannot_be_built_fails_its_functions_clearly(private_daemon):
    with open(os.path.join(private_daemon.rootfs, "recipes", "python3.11"), "a") as f:
        f.write("packages wick-no-such-package\n")
    lam = client_for(private_daemon)
    lam.create_function(FunctionName="broken", Runtime="python3.11", Role=ROLE,
                        Handler="app.handler",
                        Code={"ZipFile": make_zip({"app.py": b"def handler(e, c):\n  return 1\n"})})
    config = wait_for(lambda: (c := state_of(lam, "broken"))["State"] != "Pending" and c,
                      timeout=60, what="the broken base to fail", interval=0.2)
    assert config["State"] == "Failed", config
    assert config["StateReasonCode"] == "InvalidRuntime"
    assert "wick-no-such-package" in config["StateReason"], config
    # boto3's waiter stops on Failed instead of waiting forever.
    with pytest.raises(botocore.exceptions.WaiterError):
        lam.get_waiter("function_active_v2").wait(FunctionName="broken")
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        lam.invoke(FunctionName="broken", Payload=b"{}")
    assert refused.value.response["Error"]["Code"] == "ResourceConflictException"
    assert "wick-no-such-package" in refused.value.response["Error"]["Message"]

    listed = wick(private_daemon, "runtimes")
    line = next(l for l in listed.stdout.splitlines() if l.startswith("python3.11"))
    assert "Failed" in line and "wick-no-such-package" in line
    built = wick(private_daemon, "runtimes", "build", "python3.11")
    assert built.returncode == 1 and "wick-no-such-package" in built.stderr
    assert wick(private_daemon, "runtimes", "build", "cobol1.0").returncode == 1


def test_unknown_runtime_is_refused_at_create(lam):
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        lam.create_function(FunctionName="old", Runtime="python2.7", Role=ROLE,
                            Handler="app.handler", Code={"ZipFile": make_zip({"app.py": b""})})
    error = refused.value.response["Error"]
    assert error["Code"] == "InvalidParameterValueException"
    assert "python2.7" in error["Message"] and "python3.11" in error["Message"]


def test_wickd_refuses_to_start_without_the_base_builder(tmp_path):
    # No silent fallback to the host's userland: the operator is told what is missing.
    config = tmp_path / "wickd.conf"
    config.write_text(f'rootfs_dir: "{tmp_path / "nowhere"}"\n')
    daemon = Daemon(str(tmp_path / "state"), ["--config", str(config)])
    with pytest.raises(RuntimeError) as refused:
        daemon.start()
    daemon.log.close()
    assert "no base root builder at" in str(refused.value), str(refused.value)
