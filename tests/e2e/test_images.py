"""`wick image import|ls|inspect|rm|gc` against a real wickd: images built offline with umoci
(layers with a file whiteout, a directory whiteout and an opaque directory) from busybox-static,
exported by skopeo as OCI layout, oci-archive and docker-archive, imported through the CLI."""
import hashlib
import io
import json
import os
import pty
import select
import shutil
import subprocess
import tarfile
import time

import pytest

from conftest import wait_for
from image_tools import (WICK, Layout, api, blob, inspect, layer_dir, manifest_layers, run,
                         require_tools, wick, write)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """An OCI layout with three images, and image `a` as oci-archive and docker-archive.

    base: L0 = /bin/busybox, /bin/sh
    a:    base + L1 (etc/app.conf, etc/keep, opt/data/{a,b}, var/gone/x)
               + L2 (whiteouts of etc/app.conf and of the directory var/gone)
               + L3 (opt/data opaque, with only c), and an entrypoint, cmd, env, workdir
    b:    base + one layer with /b.txt (shares L0 with a)
    """
    require_tools()
    root = str(tmp_path_factory.mktemp("images"))
    layout = Layout(root)
    layout.busybox_base("base")

    rootfs = layout.unpack("base")
    for path, content in [("etc/app.conf", "conf\n"), ("etc/keep", "keep\n"),
                          ("opt/data/a", "a\n"), ("opt/data/b", "b\n"), ("var/gone/x", "x\n")]:
        write(rootfs, path, content)
    layout.repack("a", rootfs)
    rootfs = layout.unpack("a")
    os.unlink(os.path.join(rootfs, "etc/app.conf"))  # a file whiteout
    shutil.rmtree(os.path.join(rootfs, "var/gone"))  # a directory whiteout
    layout.repack("a", rootfs)
    # umoci 0.4.7's `insert --opaque` writes a tar cut short after its last file's data
    # (reference/oci.md 5.3), which wick refuses; so the opaque layer is written here and
    # added verbatim.
    opaque = os.path.join(root, "opaque.tar")
    with tarfile.open(opaque, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, content in [("opt/data/.wh..wh..opq", b""), ("opt/data", None),
                              ("opt/data/c", b"c\n")]:
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE if content is None else tarfile.REGTYPE
            info.mode = 0o755 if content is None else 0o644
            info.size = len(content or b"")
            tar.addfile(info, io.BytesIO(content or b""))
    run("umoci", "raw", "add-layer", "--image", layout.image("a"), opaque)
    layout.config("a", "--config.entrypoint", "/bin/sh", "--config.cmd", "-c",
                  "--config.cmd", "echo hi", "--config.env", "FOO=bar",
                  "--config.workingdir", "/opt")

    rootfs = layout.unpack("base")
    write(rootfs, "b.txt", "b\n")
    layout.repack("b", rootfs)

    oci_archive = os.path.join(root, "a-oci.tar")
    docker_archive = os.path.join(root, "a-docker.tar")
    run("skopeo", "--insecure-policy", "copy", "-q", f"oci:{layout.path}:a",
        f"oci-archive:{oci_archive}:wick-test/busy:1")
    run("skopeo", "--insecure-policy", "copy", "-q", f"oci:{layout.path}:a",
        f"docker-archive:{docker_archive}:wick-test/busy:1")
    return {"root": root, "layout": layout.path, "oci-archive": oci_archive,
            "docker-archive": docker_archive, "digests": layout.digests()}


def wait_import(daemon, import_id):
    def finished():
        status, reply = api(daemon, "GET", f"/wick/v1/images/imports/{import_id}")
        assert status == 200, reply
        return reply if reply["State"] != "Running" else None
    return wait_for(finished, timeout=60, what=f"import {import_id} to finish")


def merged_view(daemon, image):
    """The image's layers mounted as a read-only overlay, as a sandbox sees them:
    {path: content or None for a directory}."""
    lowers = ":".join(layer_dir(daemon, l["DiffId"]) for l in reversed(image["Layers"]))
    mnt = os.path.join(os.path.dirname(daemon.state_dir), "merged")
    os.makedirs(mnt, exist_ok=True)
    run("mount", "-t", "overlay", "overlay", "-o", f"ro,lowerdir={lowers}", mnt)
    try:
        view = {}
        for top, dirs, files in os.walk(mnt):
            for d in dirs:
                view[os.path.relpath(os.path.join(top, d), mnt)] = None
            for name in files:
                path = os.path.join(top, name)
                rel = os.path.relpath(path, mnt)
                view[rel] = os.readlink(path) if os.path.islink(path) else open(path, "rb").read()
        return view
    finally:
        run("umount", mnt)


@pytest.mark.parametrize("form", ["oci-layout", "oci-archive", "docker-archive"])
def test_import_each_form_with_whiteouts(daemon, built, form):
    path = built["layout"] if form == "oci-layout" else built[form]
    args = ["image", "import", path, "--tag", "wick-test/busy:" + form]
    if form == "oci-layout":
        args += ["--ref", "a"]
    started = time.monotonic()
    done = wick(daemon, *args)
    elapsed = time.monotonic() - started
    name, digest = done.stdout.split()
    assert name == "wick-test/busy:" + form
    assert done.stderr == ""  # not a terminal: no progress
    print(f"{form}: imported in {elapsed * 1000:.0f} ms")

    image = inspect(daemon, name)
    assert image["Digest"] == digest
    if form != "docker-archive":  # docker-archive has no manifest: wick synthesizes one
        assert digest == built["digests"]["a"]
    assert image["Source"] == form
    assert image["Platform"] == "linux/amd64"
    config = dict(image["Config"])
    assert "FOO=bar" in config.pop("Env")
    assert config == {"Entrypoint": ["/bin/sh"], "Cmd": ["-c", "echo hi"], "WorkingDir": "/opt",
                      "User": ""}
    assert len(image["Layers"]) == 4
    assert image["Size"] == sum(l["Size"] for l in image["Layers"]) >= 1_900_000

    # Whiteouts are stored in overlayfs's form ...
    l2, l3 = (layer_dir(daemon, layer["DiffId"]) for layer in image["Layers"][2:])
    for whiteout in ("etc/app.conf", "var/gone"):
        st = os.lstat(os.path.join(l2, whiteout))
        assert (st.st_mode & 0o170000) == 0o020000 and st.st_rdev == 0, whiteout
    assert os.getxattr(os.path.join(l3, "opt/data"), "trusted.overlay.opaque") == b"y"
    # ... so the stack shows the image as its author saw it.
    view = merged_view(daemon, image)
    assert view["bin/busybox"] == open("/bin/busybox", "rb").read()
    assert view["bin/sh"] == "busybox"
    assert view["etc/keep"] == b"keep\n"
    assert "etc/app.conf" not in view
    assert "var" in view and not any(p.startswith("var/gone") for p in view)
    assert sorted(p for p in view if p.startswith("opt/data/")) == ["opt/data/c"]


def test_ref_picks_one_of_two_and_tag_names_it(daemon, built):
    failed = wick(daemon, "image", "import", built["layout"], expect=1)
    assert failed.stderr.startswith("wick: import failed: ")
    assert "several images (base, a, b): choose one by ref" in failed.stderr, failed.stderr

    done = wick(daemon, "image", "import", built["layout"], "--ref", "b")
    assert done.stdout.split() == ["b:latest", built["digests"]["b"]]
    image = inspect(daemon, "b:latest")
    assert len(image["Layers"]) == 2
    by_digest = inspect(daemon, "b@" + built["digests"]["b"])
    assert by_digest["Name"] == "b" and by_digest["Digest"] == built["digests"]["b"]

    done = wick(daemon, "image", "import", built["layout"], "--ref", "a", "--tag", "mine/a:v2")
    assert done.stdout.split() == ["mine/a:v2", built["digests"]["a"]]


def test_shared_base_layer_is_not_unpacked_again(daemon, built):
    wick(daemon, "image", "import", built["layout"], "--ref", "a", "--tag", "x:1")
    base = inspect(daemon, "x:1")["Layers"][0]["DiffId"]
    before = os.stat(layer_dir(daemon, base))
    busybox_before = os.stat(os.path.join(layer_dir(daemon, base), "bin/busybox"))
    # Not a wait for anything: a rewrite of the layer from now on gets a
    # later mtime than `before`, whatever the filesystem's timestamp grain.
    time.sleep(0.05)

    # Through the API, to see what the import read.
    status, started = api(daemon, "POST", "/wick/v1/images/imports",
                          {"Path": built["layout"], "Ref": "b", "Tag": "y:1"})
    assert status == 202 and started["State"] == "Running"
    finished = wait_import(daemon, started["ImportId"])
    assert finished["State"] == "Succeeded", finished
    assert finished["Image"]["Layers"][0]["DiffId"] == base
    own_layer = manifest_layers(built["layout"], built["digests"]["b"])[1]
    assert finished["Progress"] == {"LayersDone": 2, "LayersTotal": 2,
                                    "BytesDone": own_layer["size"], "BytesTotal": own_layer["size"]}

    after = os.stat(layer_dir(daemon, base))
    busybox_after = os.stat(os.path.join(layer_dir(daemon, base), "bin/busybox"))
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert (busybox_after.st_ino, busybox_after.st_mtime_ns) == \
        (busybox_before.st_ino, busybox_before.st_mtime_ns)


def test_ls_inspect_rm_gc(daemon, built):
    assert wick(daemon, "image", "ls").stdout.split() == ["NAME", "TAG", "DIGEST", "SIZE", "LAYERS"]
    wick(daemon, "image", "import", built["layout"], "--ref", "a", "--tag", "x:1")
    wick(daemon, "image", "import", built["layout"], "--ref", "b", "--tag", "y:1")

    lines = wick(daemon, "image", "ls").stdout.splitlines()
    assert lines[0].split() == ["NAME", "TAG", "DIGEST", "SIZE", "LAYERS"]
    rows = sorted(line.split() for line in lines[1:])
    assert [(r[0], r[1], r[2], r[4]) for r in rows] == [
        ("x", "1", built["digests"]["a"][7:19], "4"), ("y", "1", built["digests"]["b"][7:19], "2")]
    assert rows[0][3].endswith("MiB")

    a, b = inspect(daemon, "x:1"), inspect(daemon, "y:1")
    base = a["Layers"][0]["DiffId"]
    assert b["Layers"][0]["DiffId"] == base
    a_own = [l["DiffId"] for l in a["Layers"][1:]]

    # x:1 goes with its own layers; the base stays for y:1.
    removed = wick(daemon, "image", "rm", "x:1").stdout.splitlines()
    assert removed[0] == "untagged x:1"
    deleted = [line.split()[2] for line in removed if line.startswith("deleted layer")]
    assert sorted(deleted) == sorted(a_own)
    assert f"deleted blob {a['Digest']}" in removed
    assert os.path.isdir(layer_dir(daemon, base))
    assert not any(os.path.exists(layer_dir(daemon, d)) for d in a_own)
    assert wick(daemon, "image", "inspect", "x:1", expect=1).stderr == "wick: no image x:1\n"
    status, error = api(daemon, "GET", "/wick/v1/images/x%3A1")
    assert status == 404 and "x:1" in error["Message"]
    assert "no image x:1" in wick(daemon, "image", "rm", "x:1", expect=1).stderr

    wick(daemon, "image", "rm", "y:1")
    assert not os.path.exists(layer_dir(daemon, base))
    assert wick(daemon, "image", "ls").stdout.splitlines()[1:] == []
    gc = wick(daemon, "image", "gc").stdout
    assert gc.splitlines()[-1] == "gc: 0 layers, 0 blobs deleted"


def flip_byte(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0xFF]))


def corrupt_docker_archive(source, target):
    """A copy of a docker-archive whose layer with etc/app.conf says "CONF" where the
    image had "conf": every tar stays well-formed, only the layer's digest changes."""
    with tarfile.open(source) as inp, tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as out:
        for member in inp.getmembers():
            data = inp.extractfile(member).read() if member.isfile() else None
            if data and b"etc/app.conf" in data and b"conf\n" in data:
                data = data.replace(b"conf\n", b"CONF\n")
                changed = member.name
            out.addfile(member, io.BytesIO(data) if data is not None else None)
    return changed


@pytest.mark.parametrize("form", ["oci-layout", "docker-archive"])
def test_corrupted_blob_is_rejected_and_leaves_no_image(daemon, built, tmp_path, form):
    if form == "oci-layout":
        path = str(tmp_path / "corrupt")
        shutil.copytree(built["layout"], path)
        # A flipped byte in the MTIME of layer L1's gzip header: the blob keeps its size and
        # still inflates to the same tar, but it is not the blob the manifest names.
        layer = manifest_layers(path, built["digests"]["a"])[1]
        flip_byte(blob(path, layer["digest"]), 4)
        named = layer["digest"].split(":")[1]
        failed = wick(daemon, "image", "import", path, "--ref", "a", expect=1)
    else:
        path = str(tmp_path / "corrupt.tar")
        named = corrupt_docker_archive(built["docker-archive"], path)
        failed = wick(daemon, "image", "import", path, expect=1)
    assert failed.stderr.startswith("wick: import failed: ")
    assert named in failed.stderr, failed.stderr  # the entry that is wrong
    assert "mismatch" in failed.stderr, failed.stderr

    assert wick(daemon, "image", "ls").stdout.splitlines()[1:] == []
    assert os.listdir(os.path.join(daemon.state_dir, "images", "images")) == []
    # Only whole, verified layers may stay (those read before the bad one); gc reclaims them.
    layers = os.path.join(daemon.state_dir, "images", "layers", "sha256")
    kept = [name for name in os.listdir(layers) if os.path.isdir(os.path.join(layers, name))]
    assert len(kept) < 4
    gc = wick(daemon, "image", "gc").stdout.splitlines()
    assert gc[-1].startswith(f"gc: {len(kept)} layers, ")
    assert sorted(line.split(":")[-1] for line in gc if line.startswith("deleted layer")) == \
        sorted(kept)
    assert [name for name in os.listdir(layers) if os.path.isdir(os.path.join(layers, name))] == []


def test_bad_paths_and_names_are_refused_clearly(daemon, built, tmp_path):
    missing = str(tmp_path / "no-such-image.tar")
    failed = wick(daemon, "image", "import", missing, expect=1)
    assert failed.stderr.startswith("wick: import failed: ") and missing in failed.stderr
    assert "No such file or directory" in failed.stderr, failed.stderr

    # The CLI makes a relative path absolute; wickd itself refuses one.
    relative = os.path.relpath(built["oci-archive"])
    done = wick(daemon, "image", "import", relative)
    assert done.stdout.split()[0] == "wick-test/busy:1"
    status, error = api(daemon, "POST", "/wick/v1/images/imports", {"Path": "images/a.tar"})
    assert status == 400 and "not an absolute path" in error["message"], error
    status, error = api(daemon, "POST", "/wick/v1/images/imports",
                        {"Path": built["oci-archive"], "Tag": "Bad Name"})
    assert status == 400 and "Bad Name" in error["message"], error
    status, error = api(daemon, "POST", "/wick/v1/images/imports", {"Paht": "/x"})
    assert status == 400 and "Paht" in error["message"], error

    unreachable = subprocess.run([WICK, "image", "ls", "--endpoint", "http://127.0.0.1:1"],
                                 capture_output=True, text=True)
    assert unreachable.returncode == 1
    assert unreachable.stderr.startswith("wick: wickd at http://127.0.0.1:1: ")


def run_on_pty(daemon, *args):
    """Runs the CLI with stderr on a pseudo-terminal: (exit status, stdout, terminal bytes)."""
    master, slave = pty.openpty()
    env = dict(os.environ, WICK_ENDPOINT=daemon.wick_endpoint)
    process = subprocess.Popen([WICK, *args], env=env, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    terminal = b""
    while True:
        ready, _, _ = select.select([master], [], [], 30)
        assert ready, "wick wrote nothing for 30 s"
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the last writer closed the terminal
            break
        if not chunk:
            break
        terminal += chunk
    os.close(master)
    stdout = process.stdout.read().decode()
    return process.wait(timeout=30), stdout, terminal


def test_progress_only_on_a_terminal(daemon, built):
    status, stdout, terminal = run_on_pty(daemon, "image", "import", built["docker-archive"],
                                          "--tag", "tty:1")
    assert status == 0, terminal
    assert stdout.split()[0] == "tty:1"
    assert b"\r\x1b[Kimporting: layers 4/4" in terminal, terminal
    assert b"MiB" in terminal

    piped = wick(daemon, "image", "import", built["docker-archive"], "--tag", "pipe:1")
    assert piped.stderr == "" and piped.stdout.split()[0] == "pipe:1"


def write_big_layout(path, layers=24, layer_bytes=8 << 20):
    """An OCI layout of many uncompressed layers (one file of random bytes each), written
    by hand: an import of it lasts long enough to be caught in the middle."""
    os.makedirs(os.path.join(path, "blobs", "sha256"))

    def put(data, media_type):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        with open(blob(path, digest), "wb") as f:
            f.write(data)
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    payload = os.urandom(layer_bytes)
    descriptors = []
    for i in range(layers):
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
            info = tarfile.TarInfo(f"data/f{i}")
            info.size, info.mode = len(payload), 0o644
            tar.addfile(info, io.BytesIO(payload))
        descriptors.append(put(buffer.getvalue(), "application/vnd.oci.image.layer.v1.tar"))
    config = {"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/true"]},
              "rootfs": {"type": "layers", "diff_ids": [d["digest"] for d in descriptors]}}
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": put(json.dumps(config).encode(),
                              "application/vnd.oci.image.config.v1+json"),
                "layers": descriptors}
    entry = put(json.dumps(manifest).encode(), "application/vnd.oci.image.manifest.v1+json")
    entry["annotations"] = {"org.opencontainers.image.ref.name": "big:1"}
    with open(os.path.join(path, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [entry]}, f)
    with open(os.path.join(path, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    return layers


def test_running_import_blocks_rm_gc_and_is_abandoned_at_shutdown(daemon, tmp_path):
    layout = str(tmp_path / "big")
    layers = write_big_layout(layout)
    status, started = api(daemon, "POST", "/wick/v1/images/imports", {"Path": layout})
    assert status == 202
    def two_layers_in():  # and many not yet
        status, progress = api(daemon, "GET", f"/wick/v1/images/imports/{started['ImportId']}")
        assert progress["State"] == "Running", f"the import ended before it was caught: {progress}"
        return progress["Progress"]["LayersDone"] >= 2
    wait_for(two_layers_in, timeout=60, what="two layers imported", interval=0.005)

    # Two imports at most run at once.
    status, second = api(daemon, "POST", "/wick/v1/images/imports", {"Path": layout, "Tag": "b:2"})
    assert status == 202, second
    status, third = api(daemon, "POST", "/wick/v1/images/imports", {"Path": layout, "Tag": "b:3"})
    assert status == 409 and "2 image imports are running already" in third["message"], third

    # rm and gc would wait for the store's lock: they answer at once instead.
    for method, path in [("POST", "/wick/v1/images/gc"), ("DELETE", "/wick/v1/images/big%3A1")]:
        status, error = api(daemon, method, path)
        assert status == 409 and "import is running" in error["message"], (method, error)

    began = time.monotonic()
    daemon.stop()  # SIGTERM; asserts a clean exit
    stopped_in = time.monotonic() - began
    print(f"wickd stopped {stopped_in * 1000:.0f} ms after SIGTERM during an import")
    assert stopped_in < 5
    assert "abandoned, wickd stopped" in open(daemon.log_path).read()

    daemon.start()
    assert wick(daemon, "image", "ls").stdout.splitlines()[1:] == []
    layer_root = os.path.join(daemon.state_dir, "images", "layers", "sha256")
    kept = [n for n in os.listdir(layer_root) if os.path.isdir(os.path.join(layer_root, n))]
    assert 2 <= len(kept) < layers  # whole layers only: the import stopped between two
    assert os.listdir(os.path.join(daemon.state_dir, "images", "tmp")) == []
    assert wick(daemon, "image", "gc").stdout.splitlines()[-1].startswith(f"gc: {len(kept)} layers")
    shutil.rmtree(layout)  # 200 MB: pytest keeps the temporary dirs of its last runs
