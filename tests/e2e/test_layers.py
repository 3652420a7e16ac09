"""Lambda layers end to end (lambda-contract.md 4.5, 3.2, 2.1): the layer API through boto3,
and functions of every runtime kind that find their layers' content under /opt, against a real
wickd. What a function sees is reported by the function itself (its handler or its shell
runtime), what wickd keeps is checked under its state dir (layers/trees/<zip sha256>)."""
import base64
import hashlib
import io
import json
import os
import urllib.request
import zipfile

import pytest

from conftest import ROLE, make_zip, runtime_zip, wait_active

ACCOUNT = "000000000000"
LAYER_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:layer:"
MIB = 1 << 20

# A custom runtime in shell: for each event it runs the script named by the
# function's Handler (a file of the function's code) and answers with its
# output, stdout and stderr, base64-encoded as a JSON string.
SHELL_RUNTIME = rb"""#!/bin/sh
api="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation"
while true; do
  id=$(curl -s -D - -o /dev/null "$api/next" | tr -d '\r' | sed -n 's/^[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: //p')
  out=$(sh "$LAMBDA_TASK_ROOT/$_HANDLER" 2>&1 | base64 -w0)
  curl -s -o /dev/null -X POST "$api/$id/response" -d "\"$out\""
done
"""

# What every probe script starts with: has this execution environment served
# an event before (its /tmp outlives invocations, not environments)?
ENVIRONMENT_PROBE = b"""[ -e /tmp/served ] && echo environment=warm || echo environment=cold
touch /tmp/served
"""


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def status(response):
    return response["ResponseMetadata"]["HTTPStatusCode"]


def error_of(excinfo):
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def publish(lam, name, files, **kwargs):
    return lam.publish_layer_version(LayerName=name, Content={"ZipFile": make_zip(files)},
                                     **kwargs)


def shell_function(lam, name, script, layers=(), **settings):
    """A provided.al2023 function whose shell runtime runs `script` for each event."""
    code = make_zip({"bootstrap": (SHELL_RUNTIME, 0o755), "probe.sh": ENVIRONMENT_PROBE + script})
    lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=ROLE,
                        Handler="probe.sh", Code={"ZipFile": code}, Layers=list(layers),
                        Timeout=10, **settings)
    wait_active(lam, name)


def invoke(lam, name, event=None):
    """Invokes; fails naming the function's answer and log unless it succeeded.
    Returns (parsed body, log tail)."""
    response = lam.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode(),
                          LogType="Tail")
    body = response["Payload"].read()
    tail = base64.b64decode(response.get("LogResult", "")).decode("utf-8", "replace")
    assert "FunctionError" not in response, f"{name} failed: {body!r}\nlog:\n{tail}"
    return json.loads(body), tail


def run_probe(lam, name):
    """The output of a shell_function's script for one event, as {key: value} of its
    `key=value` lines (other lines under "lines")."""
    body, _ = invoke(lam, name)
    output = base64.b64decode(body).decode()
    seen = {"lines": []}
    for line in output.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            seen[key] = value
        else:
            seen["lines"].append(line)
    return seen


def layer_trees(daemon):
    return sorted(os.listdir(os.path.join(daemon.state_dir, "layers", "trees")))


def layer_zips(daemon):
    return sorted(os.listdir(os.path.join(daemon.state_dir, "layers", "zips")))


# ------------------------------------------------------------------ the layer API


def test_publish_get_list_and_delete_layer_versions(lam):
    first_zip = make_zip({"python/mylib.py": b"VALUE = 1\n"})
    first = lam.publish_layer_version(
        LayerName="mylayer", Description="first", Content={"ZipFile": first_zip},
        CompatibleRuntimes=["python3.11", "nodejs20.x"], CompatibleArchitectures=["x86_64"],
        LicenseInfo="MIT")
    assert status(first) == 201
    assert first["LayerArn"] == LAYER_ARN + "mylayer"
    assert first["LayerVersionArn"] == LAYER_ARN + "mylayer:1"
    assert first["Version"] == 1
    assert first["Description"] == "first"
    assert first["CompatibleRuntimes"] == ["python3.11", "nodejs20.x"]
    assert first["CompatibleArchitectures"] == ["x86_64"]
    assert first["LicenseInfo"] == "MIT"
    assert first["CreatedDate"]
    content = first["Content"]
    assert content["CodeSha256"] == base64.b64encode(hashlib.sha256(first_zip).digest()).decode()
    assert content["CodeSize"] == len(first_zip)
    assert urllib.request.urlopen(content["Location"], timeout=10).read() == first_zip, \
        "Content.Location serves the zip back"

    second = publish(lam, "mylayer", {"python/mylib.py": b"VALUE = 2\n"},
                     CompatibleRuntimes=["python3.11"])
    assert (second["Version"], second["LayerVersionArn"]) == (2, LAYER_ARN + "mylayer:2")
    assert "LicenseInfo" not in second
    other = publish(lam, "other", {"nodejs/node_modules/x/index.js": b"module.exports = 1;\n"},
                    CompatibleRuntimes=["nodejs20.x"])
    assert other["Version"] == 1, "versions are numbered per layer name"

    got = lam.get_layer_version(LayerName="mylayer", VersionNumber=1)
    assert status(got) == 200
    for key in ("LayerArn", "LayerVersionArn", "Version", "Description", "CreatedDate",
                "CompatibleRuntimes", "CompatibleArchitectures", "LicenseInfo", "Content"):
        assert got[key] == first[key], key
    by_arn = lam.get_layer_version_by_arn(Arn=LAYER_ARN + "mylayer:2")
    assert by_arn["Version"] == 2 and by_arn["Content"] == second["Content"]
    by_layer_arn = lam.get_layer_version(LayerName=LAYER_ARN + "mylayer", VersionNumber=2)
    assert by_layer_arn["LayerVersionArn"] == second["LayerVersionArn"]

    layers = lam.list_layers()["Layers"]
    assert [(layer["LayerName"], layer["LayerArn"]) for layer in layers] == \
        [("mylayer", LAYER_ARN + "mylayer"), ("other", LAYER_ARN + "other")]
    latest = layers[0]["LatestMatchingVersion"]
    assert latest["LayerVersionArn"] == LAYER_ARN + "mylayer:2" and latest["Version"] == 2
    assert latest["CompatibleRuntimes"] == ["python3.11"] and latest["CreatedDate"]
    # The newest version that matches the filter, and only layers that have one.
    node = lam.list_layers(CompatibleRuntime="nodejs20.x")["Layers"]
    assert [(layer["LayerName"], layer["LatestMatchingVersion"]["Version"]) for layer in node] == \
        [("mylayer", 1), ("other", 1)]
    assert lam.list_layers(CompatibleRuntime="java21")["Layers"] == []
    assert [layer["LayerName"] for layer in
            lam.list_layers(CompatibleArchitecture="x86_64")["Layers"]] == ["mylayer"]

    versions = lam.list_layer_versions(LayerName="mylayer")["LayerVersions"]
    assert [v["Version"] for v in versions] == [2, 1], "newest first"
    assert versions[1]["LicenseInfo"] == "MIT" and "Content" not in versions[1]
    assert [v["Version"] for v in lam.list_layer_versions(
        LayerName="mylayer", CompatibleRuntime="nodejs20.x")["LayerVersions"]] == [1]

    # boto3's paginators follow NextMarker one item at a time.
    publish(lam, "mylayer", {"python/mylib.py": b"VALUE = 3\n"})
    pages = list(lam.get_paginator("list_layer_versions").paginate(
        LayerName="mylayer", PaginationConfig={"PageSize": 1}))
    assert [[v["Version"] for v in page["LayerVersions"]] for page in pages] == [[3], [2], [1]]
    pages = list(lam.get_paginator("list_layers").paginate(PaginationConfig={"PageSize": 1}))
    assert [[layer["LayerName"] for layer in page["Layers"]] for page in pages] == \
        [["mylayer"], ["other"]]

    deleted = lam.delete_layer_version(LayerName="mylayer", VersionNumber=3)
    assert status(deleted) == 204
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_layer_version(LayerName="mylayer", VersionNumber=3)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_layer_version_by_arn(Arn=LAYER_ARN + "mylayer:3")
    assert [v["Version"] for v in
            lam.list_layer_versions(LayerName="mylayer")["LayerVersions"]] == [2, 1]
    assert lam.list_layers()["Layers"][0]["LatestMatchingVersion"]["Version"] == 2
    assert publish(lam, "mylayer", {"python/mylib.py": b"VALUE = 4\n"})["Version"] == 4, \
        "a deleted version's number is not reused"
    # Deleting what does not exist succeeds, as on Lambda.
    assert status(lam.delete_layer_version(LayerName="mylayer", VersionNumber=3)) == 204
    assert status(lam.delete_layer_version(LayerName="nosuchlayer", VersionNumber=1)) == 204
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_layer_version(LayerName="nosuchlayer", VersionNumber=1)

    # A layer whose every version is deleted is no longer listed.
    lam.delete_layer_version(LayerName="other", VersionNumber=1)
    assert [layer["LayerName"] for layer in lam.list_layers()["Layers"]] == ["mylayer"]
    assert lam.list_layer_versions(LayerName="other")["LayerVersions"] == []


def test_invalid_layer_requests_are_rejected(lam):
    files = {"data.txt": b"x"}
    with pytest.raises(lam.exceptions.ClientError) as excinfo:
        publish(lam, "bad.name", files)
    code, message = error_of(excinfo)
    assert code == "ValidationException" and "layerName" in message, message
    with pytest.raises(lam.exceptions.ClientError) as excinfo:
        publish(lam, "x" * 141, files)
    assert error_of(excinfo)[0] == "ValidationException"
    with pytest.raises(lam.exceptions.ClientError) as excinfo:
        publish(lam, "arch", files, CompatibleArchitectures=["sparc"])
    assert error_of(excinfo)[0] == "ValidationException"
    with pytest.raises(lam.exceptions.ClientError) as excinfo:
        lam.get_layer_version_by_arn(Arn=LAYER_ARN + "nover")
    assert error_of(excinfo)[0] == "ValidationException"

    arns = [publish(lam, f"layer{i}", {f"f{i}.txt": b"x"})["LayerVersionArn"] for i in range(6)]
    with pytest.raises(lam.exceptions.ClientError) as excinfo:
        shell_function(lam, "six", b"", layers=arns)
    code, message = error_of(excinfo)
    assert code == "ValidationException" and "less than or equal to 5" in message, message
    shell_function(lam, "five", b"ls /opt\n", layers=arns[:5])
    assert run_probe(lam, "five")["lines"] == [f"f{i}.txt" for i in range(5)]

    for bad, expected_code, expected in [
            (LAYER_ARN + "layer0:99", "InvalidParameterValueException", "layer0:99"),
            (LAYER_ARN + "nosuchlayer:1", "InvalidParameterValueException", "nosuchlayer:1"),
            # layer0:1 exists here, but not in another account or region.
            (LAYER_ARN.replace("000000000000", "999999999999") + "layer0:1",
             "InvalidParameterValueException", "999999999999"),
            (LAYER_ARN.replace("us-east-1", "eu-west-1") + "layer0:1",
             "InvalidParameterValueException", "eu-west-1"),
            ("arn:aws:lambda:us-east-1:1:layer:x:1", "ValidationException", "layers")]:
        with pytest.raises(lam.exceptions.ClientError) as excinfo:
            shell_function(lam, "unknown", b"", layers=[bad])
        code, message = error_of(excinfo)
        assert code == expected_code and expected in message, (bad, code, message)
        with pytest.raises(lam.exceptions.ClientError) as excinfo:
            lam.update_function_configuration(FunctionName="five", Layers=[bad])
        assert error_of(excinfo)[0] == expected_code, bad

    # Lambda: "Two different versions of the same layer are not allowed".
    second = publish(lam, "layer0", {"f0.txt": b"y"})["LayerVersionArn"]
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as excinfo:
        shell_function(lam, "twice", b"", layers=[arns[0], second])
    assert "same layer" in error_of(excinfo)[1]

    # A deleted version can no longer be attached, on create or update.
    lam.delete_layer_version(LayerName="layer5", VersionNumber=1)
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as excinfo:
        shell_function(lam, "late", b"", layers=[arns[5]])
    assert "layer5:1" in error_of(excinfo)[1]
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.update_function_configuration(FunctionName="five", Layers=[arns[5]])
    assert [layer["Arn"] for layer in
            lam.get_function_configuration(FunctionName="five")["Layers"]] == arns[:5], \
        "a rejected update changes nothing"
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName="unknown")


def test_broken_and_hostile_zips_are_rejected(lam, daemon):
    def rejected(zip_bytes):
        with pytest.raises(lam.exceptions.InvalidParameterValueException) as excinfo:
            lam.publish_layer_version(LayerName="hostile", Content={"ZipFile": zip_bytes})
        return error_of(excinfo)[1]

    assert "unzip" in rejected(b"this is not a zip file").lower()
    # A zip can name any path: those that leave /opt are refused, whole.
    for name in ["../escaped.txt", "python/../../escaped.txt", "/escaped.txt"]:
        message = rejected(make_zip({"python/fine.py": b"", name: b"owned"}))
        assert "leaves the destination" in message, (name, message)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        link = zipfile.ZipInfo("python/passwd")
        link.external_attr = (0o120777) << 16  # a symlink to the host's /etc/passwd
        archive.writestr(link, "/etc/passwd")
    assert "symlink" in rejected(buffer.getvalue()).lower()

    assert lam.list_layer_versions(LayerName="hostile")["LayerVersions"] == []
    assert layer_trees(daemon) == [] and layer_zips(daemon) == [], "nothing kept"
    state_root = os.path.dirname(daemon.state_dir)
    for place in (state_root, daemon.state_dir, os.path.join(daemon.state_dir, "layers"), "/"):
        assert not os.path.exists(os.path.join(place, "escaped.txt")), place


# ------------------------------------------------------------- what functions see


PYTHON_APP = b"""import errno
import os

import mylib      # /opt/python/mylib.py
import sitelib    # /opt/python/lib/python3.11/site-packages/sitelib/__init__.py


def handler(event, context):
    try:
        open("/opt/python/new.txt", "w")
        write = "written"
    except OSError as error:
        write = errno.errorcode[error.errno]
    return {"mylib": [mylib.VALUE, mylib.__file__], "sitelib": [sitelib.VALUE, sitelib.__file__],
            "opt_read_only": bool(os.statvfs("/opt").f_flag & os.ST_RDONLY), "write": write}
"""


def test_python_imports_from_layer_paths_and_opt_is_read_only(lam):
    layer = publish(lam, "pylibs", {
        "python/mylib.py": b"VALUE = 'from /opt/python'\n",
        "python/lib/python3.11/site-packages/sitelib/__init__.py":
            b"VALUE = 'from site-packages'\n",
    }, CompatibleRuntimes=["python3.11"])
    lam.create_function(FunctionName="py", Runtime="python3.11", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": make_zip({"app.py": PYTHON_APP})},
                        Layers=[layer["LayerVersionArn"]])
    wait_active(lam, "py")
    seen, _ = invoke(lam, "py")
    assert seen["mylib"] == ["from /opt/python", "/opt/python/mylib.py"], seen
    assert seen["sitelib"] == ["from site-packages",
                               "/opt/python/lib/python3.11/site-packages/sitelib/__init__.py"], seen
    assert seen["opt_read_only"] is True and seen["write"] == "EROFS", seen
    configuration = lam.get_function(FunctionName="py")["Configuration"]
    assert configuration["Layers"] == [{"Arn": layer["LayerVersionArn"],
                                        "CodeSize": layer["Content"]["CodeSize"]}]


NODE_APP = b"""const greet = require("greet");  // /opt/nodejs/node_modules/greet
exports.handler = async () => ({greeting: greet.hello("node"), resolved: require.resolve("greet")});
"""


def test_node_requires_from_layer_node_modules(lam):
    layer = publish(lam, "nodelibs", {
        "nodejs/node_modules/greet/package.json": b'{"name": "greet", "main": "lib/greet.js"}',
        "nodejs/node_modules/greet/lib/greet.js":
            b"exports.hello = (who) => `hello ${who} from a layer`;\n",
    })
    lam.create_function(FunctionName="node", Runtime="nodejs20.x", Role=ROLE,
                        Handler="index.handler", Code={"ZipFile": make_zip({"index.js": NODE_APP})},
                        Layers=[layer["LayerVersionArn"]])
    wait_active(lam, "node")
    seen, _ = invoke(lam, "node")
    assert seen == {"greeting": "hello node from a layer",
                    "resolved": "/opt/nodejs/node_modules/greet/lib/greet.js"}, seen


def test_opt_bin_is_on_path_and_opt_lib_on_the_library_path(lam):
    layer = publish(lam, "tools", {"bin/layer-tool": (b"#!/bin/sh\necho tool=$0 $1\n", 0o755)})
    shell_function(lam, "tools", b"layer-tool works\necho library_path=$LD_LIBRARY_PATH\n",
                   layers=[layer["LayerVersionArn"]])
    seen = run_probe(lam, "tools")
    assert seen["tool"] == "/opt/bin/layer-tool works", seen
    assert "/opt/lib" in seen["library_path"].split(":"), seen


def test_later_layers_override_earlier_ones_and_updates_replace_the_list(lam):
    first = publish(lam, "first", {"shared.txt": b"from first", "first-only.txt": b"1"})
    second = publish(lam, "second", {"shared.txt": b"from second", "second-only.txt": b"2"})
    script = b"echo shared=$(cat /opt/shared.txt)\necho files=$(ls /opt | tr '\\n' ' ')\n"
    shell_function(lam, "stacked", script,
                   layers=[first["LayerVersionArn"], second["LayerVersionArn"]])
    seen = run_probe(lam, "stacked")
    assert seen["shared"] == "from second", seen
    assert seen["files"].split() == ["first-only.txt", "second-only.txt", "shared.txt"], seen
    assert run_probe(lam, "stacked")["environment"] == "warm", "the same environment serves"

    # The list is replaced as a whole, and the next event runs in a new
    # environment with the new /opt.
    lam.update_function_configuration(
        FunctionName="stacked", Layers=[second["LayerVersionArn"], first["LayerVersionArn"]])
    wait_active(lam, "stacked")
    seen = run_probe(lam, "stacked")
    assert (seen["environment"], seen["shared"]) == ("cold", "from first"), seen
    lam.update_function_configuration(FunctionName="stacked", Layers=[second["LayerVersionArn"]])
    seen = run_probe(lam, "stacked")
    assert (seen["environment"], seen["shared"]) == ("cold", "from second"), seen
    assert seen["files"].split() == ["second-only.txt", "shared.txt"], seen
    lam.update_function_configuration(FunctionName="stacked", Layers=[])
    seen = run_probe(lam, "stacked")
    assert seen["environment"] == "cold" and seen["files"] == "", seen
    assert "Layers" not in lam.get_function_configuration(FunctionName="stacked")


def test_custom_runtime_bootstrap_from_a_layer(lam):
    layer = publish(lam, "c-runtime", {"bootstrap": (runtime_zip_bootstrap(), 0o755)},
                    CompatibleRuntimes=["provided.al2023"])
    code = make_zip({"README": b"no bootstrap in the function's own code\n"})
    lam.create_function(FunctionName="custom", Runtime="provided.al2023", Role=ROLE, Handler="x",
                        Code={"ZipFile": code}, Timeout=10)
    wait_active(lam, "custom")
    response = lam.invoke(FunctionName="custom", Payload=b"{}")
    body = json.loads(response["Payload"].read())
    assert response.get("FunctionError") == "Unhandled", body
    assert body["errorType"] == "Runtime.InvalidEntrypoint", \
        "without the layer there is no bootstrap"

    lam.update_function_configuration(FunctionName="custom", Layers=[layer["LayerVersionArn"]])
    wait_active(lam, "custom")
    seen, _ = invoke(lam, "custom", {"echo": "served by /opt/bootstrap"})
    assert seen == {"echo": "served by /opt/bootstrap"}


def runtime_zip_bootstrap():
    """The static C test runtime's binary, as runtime_zip() packs it."""
    with zipfile.ZipFile(io.BytesIO(runtime_zip())) as archive:
        return archive.read("bootstrap")


# An external extension: leaves a mark in /tmp, registers for INVOKE events and
# prints a line naming each event's request id (its stdout is the function's log).
EXTENSION = rb"""#!/bin/sh
echo "probe-ext starting"
echo "extension=probe-ext was here" > /tmp/extension-mark
api="http://${AWS_LAMBDA_RUNTIME_API}/2020-01-01/extension"
id=$(curl -s -D - -o /dev/null -X POST "$api/register" -H "Lambda-Extension-Name: probe-ext" \
     -d '{"events":["INVOKE"]}' | tr -d '\r' | sed -n 's/^[Ll]ambda-[Ee]xtension-[Ii]dentifier: //p')
while true; do
  event=$(curl -s -H "Lambda-Extension-Identifier: $id" "$api/event/next")
  echo "probe-ext saw $(echo "$event" | sed -n 's/.*"requestId" *: *"\([^"]*\)".*/\1/p')"
done
"""


def test_an_extension_from_a_layer_starts_and_registers(lam):
    layer = publish(lam, "extension", {"extensions/probe-ext": (EXTENSION, 0o755)})
    shell_function(lam, "extended", b"cat /tmp/extension-mark\n",
                   layers=[layer["LayerVersionArn"]])
    for _ in range(2):
        response = lam.invoke(FunctionName="extended", Payload=b"{}", LogType="Tail")
        body = response["Payload"].read()
        tail = base64.b64decode(response["LogResult"]).decode()
        assert "FunctionError" not in response, (body, tail)
        output = base64.b64decode(json.loads(body)).decode()
        assert "extension=probe-ext was here" in output.splitlines(), (output, tail)
        request_id = response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
        assert f"probe-ext saw {request_id}" in tail, \
            f"the registered extension gets the INVOKE event of {request_id}; log:\n{tail}"


# -------------------------------------------------- lifetime, sharing and limits


def test_a_deleted_version_keeps_serving_its_functions_and_is_shared(lam, daemon):
    layer_zip = make_zip({"data.txt": b"kept"})
    tree = sha256_hex(layer_zip)
    layer = lam.publish_layer_version(LayerName="kept", Content={"ZipFile": layer_zip})
    arn = layer["LayerVersionArn"]
    assert layer_trees(daemon) == [tree], "unpacked once, at publish"
    with open(os.path.join(daemon.state_dir, "layers", "trees", tree, "opt", "data.txt")) as f:
        assert f.read() == "kept"
    # The same zip under another name is the same tree.
    publish_again = lam.publish_layer_version(LayerName="alias", Content={"ZipFile": layer_zip})
    assert layer_trees(daemon) == [tree]

    # What the function sees of its root: the shared tree's own file (same
    # inode) under /opt; and the overlay's lowerdir names no host path (issue 15).
    script = (b"echo data=$(cat /opt/data.txt)\necho ino=$(stat -c %i /opt/data.txt)\n"
              b"grep -o 'lowerdir=[^,]*' /proc/self/mountinfo\n")
    shell_function(lam, "user1", script, layers=[arn])
    shell_function(lam, "user2", script, layers=[arn])
    tree_path = os.path.join(daemon.state_dir, "layers", "trees", tree)
    tree_ino = os.stat(os.path.join(tree_path, "opt", "data.txt")).st_ino
    for name in ("user1", "user2"):
        seen = run_probe(lam, name)
        assert seen["data"] == "kept", seen
        assert seen["ino"] == str(tree_ino), \
            f"{name}'s root stacks the one shared tree {tree_path}: {seen}"
        assert daemon.state_dir not in seen["lowerdir"], seen
    assert layer_trees(daemon) == [tree]

    assert lam.publish_version(FunctionName="user2")["Version"] == "1"
    lam.delete_layer_version(LayerName="kept", VersionNumber=1)
    lam.delete_layer_version(LayerName="alias", VersionNumber=publish_again["Version"])
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_layer_version_by_arn(Arn=arn)
    assert run_probe(lam, "user1")["data"] == "kept", "the warm environment keeps serving"
    # A new environment (new configuration) still gets the deleted version.
    lam.update_function_configuration(FunctionName="user1",
                                      Environment={"Variables": {"FORCE_NEW": "1"}})
    seen = run_probe(lam, "user1")
    assert (seen["environment"], seen["data"]) == ("cold", "kept"), seen
    assert lam.get_function_configuration(FunctionName="user1")["Layers"][0]["Arn"] == arn

    daemon.stop()
    daemon.start()
    seen = run_probe(lam, "user1")
    assert (seen["environment"], seen["data"]) == ("cold", "kept"), \
        f"after a restart too: {seen}"
    assert layer_trees(daemon) == [tree]

    # Content goes once no function uses it: user1 is deleted, user2 lets go.
    lam.delete_function(FunctionName="user1")
    assert layer_trees(daemon) == [tree], "user2 still uses it"
    assert run_probe(lam, "user2")["data"] == "kept"
    lam.update_function_configuration(FunctionName="user2", Layers=[])
    assert run_probe(lam, "user2")["data"] == "", "gone from user2's /opt"
    assert layer_trees(daemon) == [tree], "user2's published version 1 still uses it"
    seen = run_probe(lam, "user2:1")
    assert seen["data"] == "kept", seen
    lam.delete_function(FunctionName="user2", Qualifier="1")
    assert layer_trees(daemon) == [] and layer_zips(daemon) == [], "removed when unused"


def zeros_zip(name, size):
    """A zip of one file of `size` zero bytes: ~size/1000 zipped."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, bytes(size))
    return buffer.getvalue()


def test_code_and_layers_are_held_to_250_mb_unzipped(lam, daemon):
    size = 130 * MIB
    big = zeros_zip("big/zeros", size)
    first = lam.publish_layer_version(LayerName="big1", Content={"ZipFile": big})
    # The same zip under another name weighs as much again in a function.
    second = lam.publish_layer_version(LayerName="big2", Content={"ZipFile": big})
    code_files = {"bootstrap": (b"#!/bin/sh\nexit 1\n", 0o755)}
    code = make_zip(code_files)
    code_size = sum(len(content) for content, _ in code_files.values())

    def create(name, layers, zipped=code):
        lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=ROLE, Handler="x",
                            Code={"ZipFile": zipped}, Layers=layers)

    both = [first["LayerVersionArn"], second["LayerVersionArn"]]
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as excinfo:
        create("toobig", both)
    message = error_of(excinfo)[1]
    assert "262144000" in message and str(2 * size + code_size) in message, message
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName="toobig")

    create("fits", both[:1])
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as excinfo:
        lam.update_function_configuration(FunctionName="fits", Layers=both)
    assert str(2 * size + code_size) in error_of(excinfo)[1]
    # Code counts too: 130 MiB of code with one 130 MiB layer, even when
    # another function already unpacked the same code.
    big_code = zeros_zip("zeros", size)
    create("bigcode", [], zipped=big_code)
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as excinfo:
        create("bigcode2", both[1:], zipped=big_code)
    assert str(2 * size) in error_of(excinfo)[1], error_of(excinfo)
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as excinfo:
        lam.update_function_code(FunctionName="fits", ZipFile=big_code)
    assert str(2 * size) in error_of(excinfo)[1], error_of(excinfo)
    configuration = lam.get_function_configuration(FunctionName="fits")
    assert [layer["Arn"] for layer in configuration["Layers"]] == both[:1]
    assert configuration["CodeSha256"] == base64.b64encode(hashlib.sha256(code).digest()).decode()
