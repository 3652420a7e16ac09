"""Image functions (PackageType Image) through boto3 against a real wickd: images built
offline with umoci from busybox-static and imported with `wick image import`, holding a
busybox sh runtime client that answers every event with what its process sees (argv, cwd,
ids, environment, filesystem). Contract: lambda-contract.md 3.1, 3.3, 3.4, 4.4, 4.5."""
import json
import os
import shutil

import botocore.exceptions
import pytest

from conftest import ROLE, make_zip, runtime_zip, wait_active
from image_tools import Layout, inspect, layer_dir, require_tools, wick, write

# The runtime client: for each event, one `key=value` line per fact (argv and
# `exists` repeat). It speaks the Runtime API with busybox wget.
CLIENT = r"""#!/bin/sh
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation"
report() {
  tr '\0' '\n' < /proc/$$/cmdline | sed 's/^/argv=/'
  echo "cwd=$(pwd)"
  echo "uid=$(id -u)"
  echo "gid=$(id -g)"
  for name in FROM_IMAGE OVERRIDE_ME AWS_REGION AWS_LAMBDA_FUNCTION_NAME \
      AWS_LAMBDA_FUNCTION_VERSION AWS_EXECUTION_ENV AWS_LAMBDA_RUNTIME_API PATH; do
    eval "echo $name=\${$name-unset}"
  done
  echo "handler=${_HANDLER-unset}"
  echo written > /tmp/probe && echo "tmp=$(cat /tmp/probe)"
  echo "tmp_kb=$(df -k /tmp | awk 'NR == 2 { print $2 }')"
  if touch /probe /srv/probe 2>/dev/null; then echo root=writable; else echo root=read-only; fi
  echo "layered=$(cat /etc/layered)"
  echo "version=$(cat /etc/version)"
  for path in /etc/gone /srv/gone /srv/gone/x /srv/kept/y; do
    if [ -e $path ]; then echo "exists=$path"; fi
  done
  echo "pid1=$(tr '\0' ' ' < /proc/1/cmdline)"
  echo "event=$(cat /tmp/event)"
}
while true; do
  id=$(wget -q -S -O /tmp/event "$api/next" 2>&1 | tr -d '\r' |
       grep -i '^ *lambda-runtime-aws-request-id:' | sed 's/.*: *//')
  report > /tmp/report 2>&1
  wget -q -O /dev/null --post-file /tmp/report "$api/$id/response"
done
"""

# Files that would break every invoke if the sandbox took its agent or init from the image.
FAKE_AGENT = "#!/bin/sh\necho 'the image's own agent ran' >&2\nexit 99\n"


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """An OCI layout:

    base:    L0 = /bin/busybox, /bin/sh
    fn:      base + L1 (/rt/bootstrap, /etc/layered "lower", /etc/version "one", /etc/gone,
                        /srv/gone/x, /srv/kept/y, fake /wick-agent, /sbin/init,
                        /usr/bin/wick-agent)
                  + L2 (/etc/layered "upper", whiteouts of /etc/gone and of the dir /srv/gone)
             ENTRYPOINT /rt/bootstrap, CMD from-image-cmd, WORKDIR /srv, USER 1234:1234,
             ENV FROM_IMAGE, OVERRIDE_ME, AWS_REGION=evil, PATH
    fn2:     fn + L3 (/etc/version "two")
    noentry: base + L1' (/rt/bootstrap), no ENTRYPOINT or CMD
    """
    require_tools()
    layout = Layout(str(tmp_path_factory.mktemp("image-functions")))
    layout.busybox_base("base")

    rootfs = layout.unpack("base")
    write(rootfs, "rt/bootstrap", CLIENT, 0o755)
    for path, content in [("etc/layered", "lower\n"), ("etc/version", "one\n"),
                          ("etc/gone", "gone\n"), ("srv/gone/x", "x\n"), ("srv/kept/y", "y\n")]:
        write(rootfs, path, content)
    for path in ("wick-agent", "sbin/init", "usr/bin/wick-agent"):
        write(rootfs, path, FAKE_AGENT, 0o755)
    layout.repack("fn", rootfs)
    rootfs = layout.unpack("fn")
    write(rootfs, "etc/layered", "upper\n")
    os.unlink(os.path.join(rootfs, "etc/gone"))
    shutil.rmtree(os.path.join(rootfs, "srv/gone"))
    layout.repack("fn", rootfs)
    layout.config("fn", "--config.entrypoint", "/rt/bootstrap", "--config.cmd", "from-image-cmd",
                  "--config.workingdir", "/srv", "--config.user", "1234:1234",
                  "--config.env", "FROM_IMAGE=image-value", "--config.env", "OVERRIDE_ME=image",
                  "--config.env", "AWS_REGION=evil", "--config.env", "PATH=/bin:/rt")

    rootfs = layout.unpack("fn")
    write(rootfs, "etc/version", "two\n")
    layout.repack("fn2", rootfs)

    rootfs = layout.unpack("base")
    write(rootfs, "rt/bootstrap", CLIENT, 0o755)
    layout.repack("noentry", rootfs)
    return layout


def import_image(daemon, layout, ref, tag):
    """`wick image import`: returns the digest wickd gives the image."""
    name, digest = wick(daemon, "image", "import", layout.path, "--ref", ref,
                        "--tag", tag).stdout.split()
    assert name == tag
    return digest


def create_image_function(lam, name, image_uri, **overrides):
    args = dict(FunctionName=name, Role=ROLE, PackageType="Image", Code={"ImageUri": image_uri})
    args.update(overrides)
    reply = lam.create_function(**args)
    assert reply["State"] == "Pending" and reply["StateReasonCode"] == "Creating", reply
    assert wait_active(lam, name)["State"] == "Active"
    return reply


def invoke(lam, name, qualifier=None, payload=b'{"probe": 1}'):
    """Invokes; returns (response, body bytes)."""
    args = dict(FunctionName=name, Payload=payload)
    if qualifier:
        args["Qualifier"] = qualifier
    response = lam.invoke(**args)
    return response, response["Payload"].read()


def report(lam, name, qualifier=None):
    """What the runtime client saw: {key: value} ({key: [values]} for argv and exists)."""
    response, body = invoke(lam, name, qualifier)
    assert "FunctionError" not in response, body
    seen = {"argv": [], "exists": []}
    for line in body.decode().splitlines():
        key, _, value = line.partition("=")
        if key in seen and isinstance(seen[key], list):
            seen[key].append(value)
        else:
            assert key not in seen, f"{key} twice in the report:\n{body.decode()}"
            seen[key] = value
    return seen


def init_error(lam, name):
    response, body = invoke(lam, name)
    assert response.get("FunctionError") == "Unhandled", body
    return json.loads(body)


def client_error(call, **args):
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call(**args)
    return raised.value.response["Error"]


def force_cold(lam, name, n):
    """A configuration change retires the warm environment: the next invoke starts anew."""
    lam.update_function_configuration(FunctionName=name,
                                      Environment={"Variables": {"GENERATION": str(n)}})
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)


def test_image_function_by_tag_and_digest(daemon, lam, images):
    digest = import_image(daemon, images, "fn", "wick-test/fn:1")
    create_image_function(lam, "img", "wick-test/fn:1",
                          Environment={"Variables": {"OVERRIDE_ME": "function"}})

    got = lam.get_function(FunctionName="img")
    assert got["Code"] == {"RepositoryType": "ECR", "ImageUri": "wick-test/fn:1",
                           "ResolvedImageUri": "wick-test/fn@" + digest}
    config = got["Configuration"]
    assert config["PackageType"] == "Image"
    assert "Runtime" not in config and "Handler" not in config, config
    assert "ImageConfigResponse" not in config, config  # no ImageConfig was given
    assert config["CodeSha256"] == digest.split(":")[1]

    seen = report(lam, "img")
    # The image's ENTRYPOINT (a #! script: the kernel runs it with /bin/sh) and CMD.
    assert seen["argv"] == ["/bin/sh", "/rt/bootstrap", "from-image-cmd"]
    assert seen["cwd"] == "/srv"
    # USER 1234:1234 is ignored: Lambda's own user runs the image.
    assert (seen["uid"], seen["gid"]) == ("993", "990")
    # The image's ENV under the function's variables, both under Lambda's.
    assert seen["FROM_IMAGE"] == "image-value"
    assert seen["OVERRIDE_ME"] == "function"
    assert seen["AWS_REGION"] == "us-east-1", "the image's AWS_REGION=evil won"
    assert seen["PATH"] == "/bin:/rt", "the image's PATH must replace Lambda's default"
    assert seen["AWS_LAMBDA_FUNCTION_NAME"] == "img"
    assert seen["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert seen["AWS_EXECUTION_ENV"] == "AWS_Lambda_Image"
    assert seen["AWS_LAMBDA_RUNTIME_API"] == "127.0.0.1:9001"
    assert seen["handler"] in ("", "unset"), "an image function has no Handler"
    # /tmp: writable, 512 MB; the image's layers: read-only, stacked with their whiteouts.
    assert seen["tmp"] == "written"
    assert seen["tmp_kb"] == str(512 * 1024)
    assert seen["root"] == "read-only"
    assert seen["layered"] == "upper"
    assert seen["version"] == "one"
    assert seen["exists"] == ["/srv/kept/y"], "a whiteout in L2 did not hide a file of L1"
    # PID 1 is the host's agent, not the image's /wick-agent or /sbin/init (which exit 99).
    assert seen["pid1"].startswith("wick-agent --host-fd "), seen["pid1"]
    assert seen["event"] == '{"probe": 1}'

    # By digest, with a bigger /tmp.
    by_digest = "wick-test/fn@" + digest
    create_image_function(lam, "img-digest", by_digest, EphemeralStorage={"Size": 1024})
    got = lam.get_function(FunctionName="img-digest")
    assert got["Code"]["ImageUri"] == by_digest
    assert got["Code"]["ResolvedImageUri"] == by_digest
    seen = report(lam, "img-digest")
    assert seen["OVERRIDE_ME"] == "image"
    assert seen["tmp_kb"] == str(1024 * 1024)
    assert seen["layered"] == "upper"


def test_image_config_overrides(daemon, lam, images):
    import_image(daemon, images, "fn", "fn:1")
    entry = ["/bin/sh", "/rt/bootstrap", "from-entrypoint"]
    cases = {
        # EntryPoint alone: the image's CMD still follows it.
        "ep": ({"EntryPoint": entry}, entry + ["from-image-cmd"], "/srv"),
        "cmd": ({"Command": ["c1", "c 2"]}, ["/bin/sh", "/rt/bootstrap", "c1", "c 2"], "/srv"),
        # An empty Command is present: the entrypoint runs alone.
        "ep-only": ({"EntryPoint": entry, "Command": []}, entry, "/srv"),
        "wd": ({"WorkingDirectory": "/etc"},
               ["/bin/sh", "/rt/bootstrap", "from-image-cmd"], "/etc"),
    }
    for name, (image_config, _, _) in cases.items():
        create_image_function(lam, name, "fn:1", ImageConfig=image_config)
        config = lam.get_function_configuration(FunctionName=name)
        assert config["ImageConfigResponse"] == {"ImageConfig": image_config}, config
    for name, (_, argv, cwd) in cases.items():
        seen = report(lam, name)
        assert (seen["argv"], seen["cwd"]) == (argv, cwd), name

    # UpdateFunctionConfiguration replaces the ImageConfig; new environments run it.
    lam.update_function_configuration(FunctionName="wd", ImageConfig={"Command": ["changed"]})
    lam.get_waiter("function_updated_v2").wait(FunctionName="wd")
    seen = report(lam, "wd")
    assert (seen["argv"], seen["cwd"]) == (["/bin/sh", "/rt/bootstrap", "changed"], "/srv")


def test_missing_entrypoint_or_working_dir(daemon, lam, images):
    import_image(daemon, images, "fn", "fn:1")
    import_image(daemon, images, "noentry", "noentry:1")
    create_image_function(lam, "no-entry", "noentry:1")
    error = init_error(lam, "no-entry")
    assert error["errorType"] == "Runtime.InvalidEntrypoint", error
    assert "no entrypoint" in error["errorMessage"] and \
        error["errorMessage"].startswith("RequestId: "), error

    create_image_function(lam, "bad-entry", "fn:1",
                          ImageConfig={"EntryPoint": ["/no/such/bootstrap"]})
    error = init_error(lam, "bad-entry")
    assert error["errorType"] == "Runtime.InvalidEntrypoint", error
    assert "/no/such/bootstrap" in error["errorMessage"], error

    create_image_function(lam, "bad-dir", "fn:1", ImageConfig={"WorkingDirectory": "/no/such"})
    error = init_error(lam, "bad-dir")
    assert error["errorType"] == "Runtime.InvalidWorkingDir", error
    assert "/no/such" in error["errorMessage"], error

    # Given an entrypoint, the image without one runs.
    lam.update_function_configuration(FunctionName="no-entry",
                                      ImageConfig={"EntryPoint": ["/rt/bootstrap"]})
    lam.get_waiter("function_updated_v2").wait(FunctionName="no-entry")
    seen = report(lam, "no-entry")
    assert (seen["argv"], seen["cwd"]) == (["/bin/sh", "/rt/bootstrap"], "/")


def test_relative_working_dir_is_invalid_working_dir(daemon, lam, images):
    import_image(daemon, images, "fn", "fn:1")
    create_image_function(lam, "rel-dir", "fn:1", ImageConfig={"WorkingDirectory": "srv"})
    error = init_error(lam, "rel-dir")
    assert error["errorType"] == "Runtime.InvalidWorkingDir", error


def test_function_keeps_its_digest_until_code_update(daemon, lam, images):
    one = import_image(daemon, images, "fn", "fn:1")
    create_image_function(lam, "pinned", "fn:1")
    assert report(lam, "pinned")["version"] == "one"

    # The tag now names another image: the function does not follow it...
    two = import_image(daemon, images, "fn2", "fn:1")
    assert two != one
    force_cold(lam, "pinned", 1)
    assert report(lam, "pinned")["version"] == "one"
    assert lam.get_function(FunctionName="pinned")["Code"]["ResolvedImageUri"] == "fn@" + one
    # ... a function created now does ...
    create_image_function(lam, "fresh", "fn:1")
    assert report(lam, "fresh")["version"] == "two"
    # ... and UpdateFunctionCode moves the first one.
    updated = lam.update_function_code(FunctionName="pinned", ImageUri="fn:1")
    assert updated["CodeSha256"] == two.split(":")[1]
    lam.get_waiter("function_updated_v2").wait(FunctionName="pinned")
    assert lam.get_function(FunctionName="pinned")["Code"]["ResolvedImageUri"] == "fn@" + two
    assert report(lam, "pinned")["version"] == "two"


def test_rm_keeps_layers_a_function_uses_and_gc_reclaims_them(daemon, lam, images):
    import_image(daemon, images, "fn", "fn:1")
    layers = [layer["DiffId"] for layer in inspect(daemon, "fn:1")["Layers"]]
    create_image_function(lam, "user", "fn:1")
    assert report(lam, "user")["layered"] == "upper"

    # Only the name goes: layers, manifest and config stay for the function.
    removed = wick(daemon, "image", "rm", "fn:1").stdout.splitlines()
    assert removed == ["untagged fn:1"], removed
    assert all(os.path.isdir(layer_dir(daemon, layer)) for layer in layers)
    assert "no image fn:1" in wick(daemon, "image", "inspect", "fn:1", expect=1).stderr
    gc = wick(daemon, "image", "gc").stdout.splitlines()
    assert gc[-1] == "gc: 0 layers, 0 blobs deleted", gc
    # The function runs on, warm and cold; the name is gone for new functions.
    assert report(lam, "user")["layered"] == "upper"
    force_cold(lam, "user", 1)
    assert report(lam, "user")["layered"] == "upper"
    error = client_error(lam.create_function, FunctionName="late", Role=ROLE,
                         PackageType="Image", Code={"ImageUri": "fn:1"})
    assert error["Code"] == "InvalidParameterValueException", error

    lam.delete_function(FunctionName="user")
    gc = wick(daemon, "image", "gc").stdout.splitlines()
    assert gc[-1] == f"gc: {len(layers)} layers, 2 blobs deleted", gc  # + manifest, config
    assert sorted(line.split()[2] for line in gc if line.startswith("deleted layer")) == \
        sorted(layers), gc
    assert not any(os.path.exists(layer_dir(daemon, layer)) for layer in layers)


def test_published_version_keeps_its_image(daemon, lam, images):
    one = import_image(daemon, images, "fn", "fn:1")
    create_image_function(lam, "ver", "fn:1")
    v1 = lam.publish_version(FunctionName="ver")
    assert v1["Version"] == "1" and v1["PackageType"] == "Image"
    assert v1["CodeSha256"] == one.split(":")[1]
    import_image(daemon, images, "fn2", "fn:1")
    lam.update_function_code(FunctionName="ver", ImageUri="fn:1")
    lam.get_waiter("function_updated_v2").wait(FunctionName="ver")
    v2 = lam.publish_version(FunctionName="ver")
    assert v2["Version"] == "2"

    seen = report(lam, "ver", "1")
    assert (seen["version"], seen["AWS_LAMBDA_FUNCTION_VERSION"]) == ("one", "1")
    seen = report(lam, "ver", "2")
    assert (seen["version"], seen["AWS_LAMBDA_FUNCTION_VERSION"]) == ("two", "2")
    assert report(lam, "ver")["version"] == "two"

    # No name holds the first image now; version 1 still does: gc keeps its layers.
    fn2_layers = {layer["DiffId"] for layer in inspect(daemon, "fn:1")["Layers"]}
    wick(daemon, "image", "rm", "fn:1")
    wick(daemon, "image", "gc")
    assert all(os.path.isdir(layer_dir(daemon, layer)) for layer in fn2_layers)
    lam.delete_function(FunctionName="ver", Qualifier="2")
    lam.delete_function(FunctionName="ver", Qualifier="1")
    # $LATEST still holds fn2 (whose layers include all of fn's).
    gc = wick(daemon, "image", "gc").stdout.splitlines()
    assert not any(line.startswith("deleted layer") for line in gc), gc
    assert report(lam, "ver")["version"] == "two"


def test_package_type_mismatches(daemon, lam, images):
    import_image(daemon, images, "fn", "fn:1")
    zip_code = {"ZipFile": runtime_zip()}

    def create_error(**args):
        return client_error(lam.create_function, FunctionName="mismatch", Role=ROLE, **args)

    cases = [
        ("ImageUri for a Zip function",
         create_error(Runtime="provided.al2023", Handler="x", Code={"ImageUri": "fn:1"})),
        ("ZipFile for an Image function", create_error(PackageType="Image", Code=zip_code)),
        ("Runtime with PackageType Image",
         create_error(PackageType="Image", Runtime="provided.al2023", Code={"ImageUri": "fn:1"})),
        ("an unknown image", create_error(PackageType="Image", Code={"ImageUri": "nope:1"})),
        ("an unknown digest", create_error(PackageType="Image", Code={
            "ImageUri": "fn@sha256:" + "0" * 64})),
        ("ImageConfig for a Zip function",
         create_error(Runtime="provided.al2023", Handler="x", Code=zip_code,
                      ImageConfig={"Command": ["x"]})),
    ]
    for what, error in cases:
        assert error["Code"] == "InvalidParameterValueException", (what, error)
    assert "nope:1" in cases[3][1]["Message"], cases[3][1]
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName="mismatch")

    lam.create_function(FunctionName="zip", Runtime="provided.al2023", Role=ROLE, Handler="x",
                        Code=zip_code)
    create_image_function(lam, "image", "fn:1")
    for what, error in [
        ("ImageUri for a Zip function's code",
         client_error(lam.update_function_code, FunctionName="zip", ImageUri="fn:1")),
        ("ZipFile for an Image function's code",
         client_error(lam.update_function_code, FunctionName="image",
                      ZipFile=make_zip({"bootstrap": "x"}))),
        ("an unknown image for an Image function's code",
         client_error(lam.update_function_code, FunctionName="image", ImageUri="nope:2")),
        ("Runtime for an Image function",
         client_error(lam.update_function_configuration, FunctionName="image",
                      Runtime="provided.al2023")),
    ]:
        assert error["Code"] == "InvalidParameterValueException", (what, error)
    # Both still run what they ran.
    assert lam.get_function(FunctionName="image")["Code"]["ImageUri"] == "fn:1"
    assert report(lam, "image")["layered"] == "upper"
    response, body = invoke(lam, "zip", payload=b'{"echo": 1}')
    assert "FunctionError" not in response and json.loads(body) == {"echo": 1}
