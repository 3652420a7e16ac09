"""The README's sample, command for command, with Debian's awscli v2 against a
real wickd: what a new user types must keep working."""
import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.join(os.path.dirname(__file__), "../..")


def readme_commands():
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    block = re.search(r"```sh\nexport AWS_SHARED_CREDENTIALS_FILE.*?```", text, re.S).group(0)
    # Join continued lines; keep the shell commands of the block.
    joined = block.replace("\\\n", " ").splitlines()[1:-1]
    return [line.strip() for line in joined if line.strip()]


def awscli_directories():
    """Debian's awscli (v2), and any other `aws` a user's PATH finds first (a pip or
    pyenv awscli v1, say): the sample must work with whichever they type."""
    found = ["/usr/bin"]
    other = shutil.which("aws")
    if other and os.path.realpath(other) != os.path.realpath("/usr/bin/aws"):
        found.append(os.path.dirname(other))
    return found


@pytest.mark.parametrize("aws_dir", awscli_directories())
def test_the_readme_sample_works(daemon, tmp_path, aws_dir):
    commands = readme_commands()
    assert any("create-function" in c for c in commands)
    work = tmp_path / "checkout"
    shutil.copytree(os.path.join(ROOT, "examples"), work / "examples")
    (work / "build" / "bin").mkdir(parents=True)
    os.symlink(os.path.join(os.path.dirname(os.environ.get("WICKD", os.path.join(
        ROOT, "build/bin/wickd"))), "wick"), work / "build" / "bin" / "wick")
    script = f"set -e\nexport PATH={aws_dir}:/usr/bin:/bin:$PATH\n" + "\n".join(commands) + "\n"
    script = script.replace("http://127.0.0.1:3001", daemon.endpoint)
    # The test daemon's state is elsewhere: its credentials file and admin socket.
    assert "$PWD/var/wick/credentials" in script
    script = script.replace("$PWD/var/wick/credentials", daemon.credentials_path)
    script = script.replace("build/bin/wick logs hello",
                            f"build/bin/wick logs hello --endpoint {daemon.wick_endpoint}")
    # Only what the sample exports signs: no key of the caller's environment.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    result = subprocess.run(["bash", "-c", script], cwd=work, capture_output=True, text=True,
                            timeout=120, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"greeting":"hello from wick"' in result.stdout, result.stdout
    assert '"name":"you"' in result.stdout
    assert "START RequestId:" in result.stdout and "REPORT RequestId:" in result.stdout
