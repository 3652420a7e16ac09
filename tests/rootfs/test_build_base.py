"""rootfs/build-base: the base roots of the managed runtimes.

Builds each base from this host's Debian packages, checks the Lambda layout,
that two builds are byte-identical, what the hash follows, and that each base
works as a sandbox root under the real `wick run` (uid 993, read-only root).

    cd /work/main && /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/rootfs

The sandbox tests need root and build/bin/wick (or $WICK)."""
import glob
import hashlib
import os
import shutil
import signal
import stat
import subprocess
import time

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
ROOTFS = os.path.join(REPO, "rootfs")
BUILDER = os.path.join(ROOTFS, "build-base")
WICK = os.environ.get("WICK", os.path.join(REPO, "build/bin/wick"))
NAMES = ("provided.al2023", "python3.11", "nodejs20.x")
CLIENT_DIR = {"python3.11": "python", "nodejs20.x": "nodejs"}
EPOCH = 315532800
LAMBDA_PATH = "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin"


def run_builder(*args, builder=BUILDER):
    return subprocess.run([builder, *args], capture_output=True, text=True, timeout=300)


def build(name, dest, builder=BUILDER):
    result = run_builder("build", name, dest, builder=builder)
    assert result.returncode == 0, f"build {name} failed: {result.stderr}"
    return dest


def tree_digest(root):
    """Everything two builds must share: paths, types, modes, owners, mtimes,
    symlink targets and contents."""
    entries = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            entry = [os.path.relpath(path, root), oct(st.st_mode), st.st_uid, st.st_gid,
                     st.st_mtime_ns]
            if stat.S_ISLNK(st.st_mode):
                entry.append(os.readlink(path))
            elif stat.S_ISREG(st.st_mode):
                with open(path, "rb") as f:
                    entry.append(hashlib.file_digest(f, "sha256").hexdigest())
            entries.append(tuple(entry))
    return entries


@pytest.fixture(scope="session")
def bases(tmp_path_factory):
    out = tmp_path_factory.mktemp("bases")
    return {name: build(name, str(out / name)) for name in NAMES}


@pytest.fixture
def scratch(tmp_path):
    """A copy of rootfs/ (builder, recipes, skeleton, clients) to change freely."""
    copy = tmp_path / "rootfs"
    shutil.copytree(ROOTFS, copy, symlinks=True)
    return copy


def hashes(builder):
    out = {}
    for name in NAMES:
        result = run_builder("hash", name, builder=builder)
        assert result.returncode == 0, f"hash {name}: {result.stderr}"
        out[name] = result.stdout
    return out


# ---------------------------------------------------------------- the interface


def test_hash_is_one_sha256_line_and_stable():
    for name in NAMES:
        first, second = run_builder("hash", name), run_builder("hash", name)
        assert first.returncode == 0, first.stderr
        assert first.stdout == second.stdout
        assert len(first.stdout) == 65 and first.stdout.endswith("\n")
        int(first.stdout, 16)
    assert len(set(hashes(BUILDER).values())) == len(NAMES)


@pytest.mark.parametrize("verb", ["hash", "build"])
def test_unknown_name_exits_2_with_a_message(verb, tmp_path):
    args = [verb, "python3.12"] + ([str(tmp_path / "dest")] if verb == "build" else [])
    result = run_builder(*args)
    assert result.returncode == 2
    assert "unknown base 'python3.12'" in result.stderr
    assert not (tmp_path / "dest").exists()


def test_bad_usage_exits_2():
    for args in ([], ["hash"], ["build", "python3.11"], ["frobnicate", "python3.11"]):
        assert run_builder(*args).returncode == 2, args


def test_existing_dest_is_refused(tmp_path):
    dest = tmp_path / "dest"
    dest.mkdir()
    result = run_builder("build", "provided.al2023", str(dest))
    assert result.returncode == 1
    assert "already exists" in result.stderr
    assert os.listdir(tmp_path) == ["dest"] and os.listdir(dest) == []


def test_nodejs_needs_node_20_and_says_what_it_found(scratch, tmp_path):
    fake = tmp_path / "node"
    fake.write_text("#!/bin/sh\necho v18.19.0\n")
    fake.chmod(0o755)
    recipe = scratch / "recipes" / "nodejs20.x"
    text = recipe.read_text()
    assert "/usr/bin/node --version" in text
    recipe.write_text(text.replace("/usr/bin/node --version", f"{fake} --version"))
    out = tmp_path / "out"
    out.mkdir()
    result = run_builder("build", "nodejs20.x", str(out / "dest"),
                         builder=str(scratch / "build-base"))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].endswith(
        f"nodejs20.x: needs Node.js 20 at {fake}, found v18.19.0")
    assert os.listdir(out) == []  # no DEST, no DEST.tmp-*


def commands_naming(text):
    """The command lines of the running processes that contain `text`."""
    found = []
    for path in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            with open(path, "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # exited meanwhile
        if text in command:
            found.append(command)
    return found


def test_a_stopped_build_leaves_no_tree_and_no_process(tmp_path):
    # wickd stops builds with SIGTERM; stop this one while compileall's
    # workers are writing .pyc files into the partial tree.
    out = tmp_path / "out"
    out.mkdir()
    dest = str(out / "python")
    builder = subprocess.Popen([BUILDER, "build", "python3.11", dest], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not any("compileall" in command for command in commands_naming(dest + ".tmp-")):
        assert builder.poll() is None, f"the build ended first: {builder.stderr.read()}"
        assert time.monotonic() < deadline, "compileall never started"
        time.sleep(0.01)
    builder.send_signal(signal.SIGTERM)
    builder.communicate(timeout=60)
    assert builder.returncode == 128 + signal.SIGTERM
    assert os.listdir(out) == [], "the partial tree was left behind"
    assert commands_naming(dest) == [], "a compileall worker outlived the build"


# ---------------------------------------------------------------- the hash


def test_hash_follows_client_files_and_recipes_only(scratch):
    builder = str(scratch / "build-base")
    before = hashes(builder)
    assert before == hashes(BUILDER), "a copy of rootfs/ must hash like the original"

    # Timestamps are not inputs.
    for dirpath, _, filenames in os.walk(scratch):
        for name in filenames:
            os.utime(os.path.join(dirpath, name), (1, 1))
    assert hashes(builder) == before

    # A client file of one runtime changes that runtime's hash only.
    client = scratch / "runtimes" / "python" / "added.py"
    client.write_text("x = 1\n")
    after = hashes(builder)
    assert after["python3.11"] != before["python3.11"]
    assert after["nodejs20.x"] == before["nodejs20.x"]
    assert after["provided.al2023"] == before["provided.al2023"]

    # A developer's byte-code cache is not an input.
    cache = scratch / "runtimes" / "python" / "__pycache__"
    cache.mkdir(exist_ok=True)
    (cache / "added.cpython-311.pyc").write_bytes(b"junk")
    assert hashes(builder) == after

    # The executable bit of a client file is an input.
    client.chmod(0o755)
    assert hashes(builder)["python3.11"] != after["python3.11"]
    client.unlink()
    assert hashes(builder) == before

    # A runtime's recipe changes its own hash; the shared recipe changes all.
    with open(scratch / "recipes" / "nodejs20.x", "a") as f:
        f.write("env EXTRA=1\n")
    changed = hashes(builder)
    assert changed["nodejs20.x"] != before["nodejs20.x"]
    assert changed["python3.11"] == before["python3.11"]
    with open(scratch / "recipes" / "common", "a") as f:
        f.write("env MORE=1\n")
    assert all(h != before[n] for n, h in hashes(builder).items())

    # So does the skeleton (/etc/passwd and friends).
    with open(scratch / "skeleton" / "etc" / "hosts", "a") as f:
        f.write("# changed\n")
    assert hashes(builder)["provided.al2023"] != changed["provided.al2023"]


def test_a_broken_recipe_is_reported_with_its_line(scratch):
    with open(scratch / "recipes" / "python3.11", "a") as f:
        f.write("frobnicate /x\n")
    result = run_builder("hash", "python3.11", builder=str(scratch / "build-base"))
    assert result.returncode == 1
    assert "recipes/python3.11:" in result.stderr
    assert "unknown directive 'frobnicate'" in result.stderr


# ---------------------------------------------------------------- the trees


def test_two_builds_are_byte_identical(bases, tmp_path):
    for name in NAMES:
        again = build(name, str(tmp_path / name))
        assert tree_digest(again) == tree_digest(bases[name]), f"{name} is not reproducible"


def test_lambda_layout(bases):
    for name, root in bases.items():
        for top in ("bin", "sbin", "lib", "lib64"):
            assert os.readlink(os.path.join(root, top)) == "usr/" + top, name
        for empty in ("var/task", "opt", "proc", "dev", "var/lang"):
            assert os.path.isdir(os.path.join(root, empty)), (name, empty)
            assert os.listdir(os.path.join(root, empty)) == [], (name, empty)
        assert stat.S_IMODE(os.stat(os.path.join(root, "tmp")).st_mode) == 0o1777
        with open(os.path.join(root, "etc/passwd")) as f:
            assert "sbx_user1051:x:993:990:" in f.read()
        for needed in ("etc/group", "etc/hosts", "etc/nsswitch.conf", "etc/services",
                       "usr/lib/locale/C.utf8/LC_CTYPE", "usr/share/zoneinfo/UTC",
                       "etc/ld.so.cache"):
            assert os.path.isfile(os.path.join(root, needed)), (name, needed)
        with open(os.path.join(root, "etc/ssl/certs/ca-certificates.crt")) as f:
            assert f.read().count("BEGIN CERTIFICATE") > 100, name
        for gone in ("usr/share/doc", "usr/share/man", "usr/share/locale", "usr/bin/dpkg",
                     "usr/bin/apt", "usr/bin/perl", "usr/share/debconf", "var/lib/dpkg"):
            assert not os.path.lexists(os.path.join(root, gone)), (name, gone)


def test_environment_defaults_of_section_3_1(bases):
    for name, root in bases.items():
        with open(os.path.join(root, "etc/environment")) as f:
            env = dict(line.split("=", 1) for line in f.read().splitlines())
        assert env["PATH"] == LAMBDA_PATH
        assert env["LD_LIBRARY_PATH"].endswith(":/opt/lib")
        assert env["LANG"] == "en_US.UTF-8" and env["TZ"] == ":UTC"
        assert ("PYTHONPATH" in env) == (name == "python3.11")
        assert ("NODE_PATH" in env) == (name == "nodejs20.x")
    with open(os.path.join(bases["python3.11"], "etc/environment")) as f:
        assert "PYTHONPATH=/var/runtime\n" in f.read()
    with open(os.path.join(bases["nodejs20.x"], "etc/environment")) as f:
        assert ("NODE_PATH=/opt/nodejs/node20/node_modules:/opt/nodejs/node_modules:"
                "/var/runtime/node_modules:/var/runtime:/var/task\n") in f.read()


def test_every_entry_is_root_owned_world_readable_and_fixed_in_time(bases):
    for name, root in bases.items():
        for dirpath, dirnames, filenames in os.walk(root):
            for entry in [dirpath] + [os.path.join(dirpath, n) for n in dirnames + filenames]:
                st = os.lstat(entry)
                where = f"{name}: {os.path.relpath(entry, root)}"
                assert (st.st_uid, st.st_gid) == (0, 0), where
                assert st.st_mtime == EPOCH, where
                if stat.S_ISLNK(st.st_mode):
                    continue
                mode = stat.S_IMODE(st.st_mode)
                assert not mode & (stat.S_ISUID | stat.S_ISGID), where
                assert mode & 0o004, where
                assert not mode & 0o022 or entry == os.path.join(root, "tmp"), where
                if stat.S_ISDIR(st.st_mode):
                    assert mode & 0o001, where


def test_runtime_clients_are_copied_to_var_runtime(bases):
    assert os.listdir(os.path.join(bases["provided.al2023"], "var/runtime")) == []
    for name, client in CLIENT_DIR.items():
        source = os.path.join(ROOTFS, "runtimes", client)
        target = os.path.join(bases[name], "var/runtime")
        copied = 0
        for dirpath, dirnames, filenames in os.walk(source):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            for file_name in filenames:
                if file_name.endswith(".pyc"):
                    continue
                src = os.path.join(dirpath, file_name)
                dst = os.path.join(target, os.path.relpath(src, source))
                with open(src, "rb") as a, open(dst, "rb") as b:
                    assert a.read() == b.read(), dst
                assert bool(os.stat(src).st_mode & 0o100) == bool(os.stat(dst).st_mode & 0o001), dst
                copied += 1
        assert copied > 0, f"{source} is empty"
        assert os.access(os.path.join(target, "bootstrap"), os.X_OK), name


# ---------------------------------------------------------------- as a sandbox root


def in_sandbox(root, *command, env_file=True, cwd="/var/task"):
    if os.geteuid() != 0:
        pytest.skip("wick run needs root")
    if not os.access(WICK, os.X_OK):
        pytest.skip(f"{WICK} is not built")
    args = [WICK, "run", "--layer", root, "--cwd", cwd, "--timeout", "60"]
    if env_file:
        with open(os.path.join(root, "etc/environment")) as f:
            for line in f.read().splitlines():
                args += ["--env", line]
    result = subprocess.run(args + ["--", *command], capture_output=True, text=True, timeout=120)
    return result


def test_provided_runs_a_shell_as_sbx_user1051(bases):
    result = in_sandbox(bases["provided.al2023"], "/bin/sh", "-c",
                        "id; ls /etc/ssl/certs/ca-certificates.crt; touch /x 2>&1; "
                        "echo hi > /tmp/ok && cat /tmp/ok; curl --version | head -1")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "uid=993(sbx_user1051) gid=990 groups=990"
    assert lines[1] == "/etc/ssl/certs/ca-certificates.crt"
    assert "Read-only file system" in lines[2]
    assert lines[3] == "hi"
    assert lines[4].startswith("curl ")


def test_python_imports_what_functions_use_from_precompiled_bytecode(bases):
    script = ("import os, ssl, json, sqlite3, urllib.request, zoneinfo, decimal, uuid\n"
              "assert (os.getuid(), os.getgid()) == (993, 990)\n"
              "assert ssl.create_default_context().cert_store_stats()['x509_ca'] > 100\n"
              "zoneinfo.ZoneInfo('Europe/Paris')\n"
              "import locale; print(locale.getpreferredencoding())\n")
    result = in_sandbox(bases["python3.11"], "python3.11", "-v", "-c", script)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "UTF-8"
    # The standard library loads from the .pyc files of the build: a read-only
    # root could not cache them, and compiling at every cold start costs ~300 ms.
    assert "code object from '/usr/lib/python3.11/json/__pycache__/" in result.stderr
    assert "matches /usr/lib/python3.11/json/__init__.py" in result.stderr


def test_node_loads_https_and_knows_the_root_certificates(bases):
    result = in_sandbox(bases["nodejs20.x"], "node", "-e",
                        "require('https'); const tls = require('tls');"
                        "console.log(process.version, process.getuid(),"
                        "            tls.rootCertificates.length > 100)")
    assert result.returncode == 0, result.stderr
    version, uid, certs = result.stdout.split()
    assert version.startswith("v20.") and uid == "993" and certs == "true"


def test_every_dynamic_object_finds_its_libraries_inside_the_base(bases):
    # Only the base's own dash and loader are used: the python and node bases
    # carry no coreutils.
    script = ('n=0; for f in /usr/bin/* /usr/sbin/* /usr/lib/x86_64-linux-gnu/*.so* '
              '/usr/lib/x86_64-linux-gnu/*/*.so* /usr/lib/python3.11/lib-dynload/*.so; do '
              '[ -f "$f" ] || continue; '
              'out=$(/lib64/ld-linux-x86-64.so.2 --list "$f" 2>&1) && n=$((n+1)); '
              'case "$out" in *"=> not found"*) echo "MISSING $f: $out";; esac; done; echo "$n"')
    for name, root in bases.items():
        result = in_sandbox(root, "/bin/sh", "-c", script)
        assert result.returncode == 0, result.stderr
        *missing, count = result.stdout.splitlines()
        assert missing == [], f"{name}: {missing}"
        assert int(count) > 50, f"{name}: only {count} dynamic objects found"
