"""Helpers for e2e tests of images: OCI layouts built offline with umoci from a
busybox-static root, the `wick` CLI and wickd's image admin API."""
import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request

from conftest import WICKD, admin_request

WICK = os.path.join(os.path.dirname(WICKD), "wick")


def run(*args, cwd=None):
    subprocess.run(args, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def require_tools():
    for tool in ("umoci", "skopeo", "busybox"):
        assert shutil.which(tool), f"{tool} is missing: run scripts/setup (Debian package)"


def index_digests(layout):
    """ref name -> manifest digest, from an OCI layout's index.json."""
    with open(os.path.join(layout, "index.json")) as f:
        return {m["annotations"]["org.opencontainers.image.ref.name"]: m["digest"]
                for m in json.load(f)["manifests"]}


def blob(layout, digest):
    return os.path.join(layout, "blobs", "sha256", digest.split(":")[1])


def manifest_layers(layout, manifest_digest):
    with open(blob(layout, manifest_digest)) as f:
        return json.load(f)["layers"]


def write(rootfs, path, content, mode=0o644):
    """Writes rootfs/path (str or bytes), making its parent directories."""
    target = os.path.join(rootfs, path)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "wb") as f:
        f.write(content.encode() if isinstance(content, str) else content)
    os.chmod(target, mode)


class Layout:
    """An OCI layout under `root`/layout whose images are built with umoci: unpack
    an image into a bundle, edit its rootfs on disk, repack it under a ref (a new
    layer on top; deleted files become whiteouts)."""

    def __init__(self, root):
        self.root = root
        self.path = os.path.join(root, "layout")
        self._bundles = 0
        run("umoci", "init", "--layout", self.path)

    def image(self, ref):
        return f"{self.path}:{ref}"

    def new(self, ref):
        run("umoci", "new", "--image", self.image(ref))

    def unpack(self, ref):
        """A fresh bundle of image `ref`: returns its rootfs."""
        self._bundles += 1
        bundle = os.path.join(self.root, f"bundle{self._bundles}")
        run("umoci", "unpack", "--image", self.image(ref), bundle)
        return os.path.join(bundle, "rootfs")

    def repack(self, ref, rootfs):
        """Image `ref` := the image rootfs was unpacked from + the changes as a layer."""
        run("umoci", "repack", "--image", self.image(ref), os.path.dirname(rootfs))

    def config(self, ref, *args):
        run("umoci", "config", "--image", self.image(ref), *args)

    def busybox_base(self, ref):
        """Image `ref` of one layer: /bin/busybox (static) and /bin/sh."""
        self.new(ref)
        rootfs = self.unpack(ref)
        os.makedirs(os.path.join(rootfs, "bin"))
        shutil.copy("/bin/busybox", os.path.join(rootfs, "bin/busybox"))
        os.symlink("busybox", os.path.join(rootfs, "bin/sh"))
        self.repack(ref, rootfs)

    def digests(self):
        return index_digests(self.path)


def wick(daemon, *args, expect=0):
    """Runs the real CLI (stdout and stderr piped); checks its exit status."""
    env = dict(os.environ, WICK_ENDPOINT=daemon.wick_endpoint)
    done = subprocess.run([WICK, *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == expect, f"wick {args}: {done.returncode}\n{done.stdout}{done.stderr}"
    return done


def inspect(daemon, ref):
    return json.loads(wick(daemon, "image", "inspect", ref).stdout)


def api(daemon, method, path, body=None):
    """A raw call to wickd's admin API (its Unix socket): (status, JSON body)."""
    status, reply = admin_request(daemon, method, path, body, timeout=30)
    return status, (None if reply == b"" else reply)


def layer_dir(daemon, diff_id):
    return os.path.join(daemon.state_dir, "images", "layers", "sha256", diff_id.split(":")[1])
