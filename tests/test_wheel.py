"""The built wheel, installed into a fresh virtual environment outside the checkout, is a
working SDK and `idsreg`: the compiled artifacts and the chain configuration come from its
package data, deployment manifests from `$IDSREG_HOME/deployments`, anvil from IDSREG_ANVIL
or PATH.

The wheel is built offline (`pip wheel --no-build-isolation`, with the hatchling of the lock).
The new environment gets no copy of the dependencies: a `.pth` line puts the project
environment's site-packages after its own. A path named in a `.pth` file is not a site
directory, so the project's editable-install hook there is never run and `client` can only
come from the wheel (`test_the_installed_package_is_the_wheel_not_the_checkout` proves it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from web3 import Web3

from client.chain.node import anvil_binary, free_port
from client.chain.registry import Registry
from client.consortium import Consortium
from client.exits import BAD_INPUT
from client.hashing import content_root, hex32
from client.keys import Keystore
from tests.cli.conftest import TEST_PASSWORD, Result, assert_one_clear_line
from tests.conftest import admit, new_account

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Installed:
    """The wheel and the virtual environment it is installed in; commands run from `cwd`."""

    wheel: Path
    venv: Path
    cwd: Path

    def run(self, argv: list[str], home: Path, path: str | None = None, **env: str) -> Result:
        """Run `argv` as a user of this environment whose home folder is `home`."""
        clean = {k: v for k, v in os.environ.items() if not k.startswith("IDSREG_")}
        for variable in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
            clean.pop(variable, None)
        clean.update(HOME=str(home), PATH=path or f"{self.venv / 'bin'}:/usr/bin:/bin", COLUMNS="200", **env)
        done = subprocess.run(argv, cwd=self.cwd, env=clean, capture_output=True, text=True, timeout=120, check=False)
        return Result(done.returncode, done.stdout, done.stderr)

    def idsreg(self, *args: str, home: Path, path: str | None = None, **env: str) -> Result:
        return self.run([str(self.venv / "bin" / "idsreg"), *args], home, path, **env)

    def python(self, code: str, *args: str, home: Path, path: str | None = None, **env: str) -> Result:
        return self.run([str(self.venv / "bin" / "python"), "-c", code, *args], home, path, **env)


def _ok(result: Result) -> Result:
    assert result.code == 0, (result.code, result.stdout, result.stderr)
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    scratch = tmp_path_factory.mktemp("wheel")
    quiet = ["--quiet", "--disable-pip-version-check", "--no-index", "--no-deps"]
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", *quiet, "--no-build-isolation", "-w", str(scratch / "dist"), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    (wheel,) = (scratch / "dist").glob("ids_registry-*.whl")
    venv = scratch / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", *quiet, str(wheel)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(site) / "_project_dependencies.pth").write_text("".join(f"{p}\n" for p in sorted(ours)))
    cwd = scratch / "cwd"
    cwd.mkdir()
    return Installed(wheel, venv, cwd)


def test_the_wheel_carries_the_artifacts_and_the_chain_configuration(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
        artifacts = sorted((ROOT / "contracts" / "artifacts").glob("*.json"))
        assert len(artifacts) >= 7
        for artifact in artifacts:
            assert wheel.read(f"client/_data/artifacts/{artifact.name}") == artifact.read_bytes(), artifact.name
        for name in ("local.toml", "genesis.json"):
            assert wheel.read(f"client/_data/chain/{name}") == (ROOT / "chain" / name).read_bytes(), name
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        requirements = [
            line for line in wheel.read(metadata).decode().splitlines() if line.startswith("Requires-Dist:")
        ]
    # Only the two packages; no manifests of this machine, no compiler driver, no build tools.
    assert {name.split("/")[0] for name in names} == {"client", "registry_api", metadata.split("/")[0]}
    assert not [name for name in names if "deployments" in name or "compile" in name or "__pycache__" in name]
    assert "client/py.typed" in names
    runtime = [line for line in requirements if "extra ==" not in line]
    assert any("web3" in line for line in runtime)
    assert not [line for line in runtime if "solc" in line or "hatchling" in line]


PROBE = """
import json, sys
import client, registry_api
from client import locations
from client.settings import get_settings
settings = get_settings()
print(json.dumps({
    "client": client.__file__, "registry_api": registry_api.__file__, "path": sys.path,
    "checkout": str(locations.checkout_root()), "artifacts": str(locations.artifacts_dir()),
    "chain_config": str(settings.chain_config), "deployments": str(settings.deployments),
}))
"""


def test_the_installed_package_is_the_wheel_not_the_checkout(installed: Installed, tmp_path: Path) -> None:
    found = json.loads(_ok(installed.python(PROBE, home=tmp_path)).stdout)
    for name in ("client", "registry_api", "artifacts", "chain_config"):
        assert Path(found[name]).is_relative_to(installed.venv), (name, found[name])
    assert found["checkout"] == "None"
    assert str(ROOT) not in found["path"]
    assert Path(found["chain_config"]).read_bytes() == (ROOT / "chain" / "local.toml").read_bytes()
    assert found["deployments"] == str(tmp_path / ".idsreg" / "deployments")
    # IDSREG_HOME moves the deployments with it; IDSREG_DEPLOYMENTS still wins.
    moved = json.loads(_ok(installed.python(PROBE, home=tmp_path, IDSREG_HOME=str(tmp_path / "h"))).stdout)
    assert moved["deployments"] == str(tmp_path / "h" / "deployments")
    named = json.loads(_ok(installed.python(PROBE, home=tmp_path, IDSREG_DEPLOYMENTS=str(tmp_path / "d"))).stdout)
    assert named["deployments"] == str(tmp_path / "d")


def test_installed_idsreg_prints_help_and_hashes(installed: Installed, tmp_path: Path) -> None:
    shown = _ok(installed.idsreg("--help", home=tmp_path)).stdout
    assert "Usage: idsreg" in shown and "hash" in shown and "chain" in shown
    (installed.cwd / "small.csv").write_text("plant,kwh\nA,12\n")
    with open(installed.cwd / "large.bin", "wb") as large:  # large enough for the hashing workers
        large.truncate(65 * 2**20 + 17)
    hashed = _ok(installed.idsreg("hash", "small.csv", "large.bin", "--json", home=tmp_path)).json()
    assert {item["path"]: item["root"] for item in hashed} == {
        name: hex32(content_root(installed.cwd / name)) for name in ("small.csv", "large.bin")
    }


def readme_example() -> str:
    """The SDK example of README.md ("Use the SDK from an application"), as it is written there."""
    section = (ROOT / "README.md").read_text().split("## Use the SDK from an application\n", 1)[1].split("\n## ")[0]
    (code,) = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    return str(code)


#: Appended to the example: what it saw, as JSON on the last line.
REPORT = """
import json, sys
from client.locations import artifacts_dir
print(json.dumps({
    "root": info.root, "registrant": info.registrant.org_id, "registered": datasets.is_registered(root),
    "artifacts": str(artifacts_dir()), "compiler_loaded": any(m.startswith("solcx") for m in sys.modules),
}))
"""


def test_installed_sdk_runs_the_readme_example_registering_a_dataset(
    installed: Installed, anvil: str, w3: Web3, make_registry: Callable[..., Registry], tmp_path: Path
) -> None:
    governor = new_account()
    registry = make_registry([governor])
    org = admit(Consortium(registry), governor, "DEMO:WHEEL")
    settings = tmp_path / "home" / ".idsreg"
    connector = Keystore(settings / "keystore").create("connector", TEST_PASSWORD, scrypt_n=2**10)
    Consortium(registry).add_connector(org.admin, connector.address)
    # The manifest goes where an installed SDK looks when nothing says otherwise.
    (settings / "deployments").mkdir()
    name = f"{registry.chain_id}.json"
    shutil.copy(tmp_path / "deployments" / name, settings / "deployments" / name)
    data = installed.cwd / "readings.csv"
    data.write_text("sensor,value\nT1,20.5\n")

    ran = installed.python(
        readme_example() + REPORT, home=tmp_path / "home", IDSREG_RPC_URL=anvil, IDSREG_PASSWORD=TEST_PASSWORD
    )
    printed = _ok(ran).stdout.strip().splitlines()
    assert printed[0].startswith("WHEEL (member ")  # the example's own line: the registrant, by name
    read = json.loads(printed[-1])
    assert read["root"] == hex32(content_root(data)) and read["registered"] is True
    assert read["registrant"] == org.org_id
    assert Path(read["artifacts"]).is_relative_to(installed.venv)
    assert read["compiler_loaded"] is False
    # It is on the chain, not only in the script's view of it.
    assert registry.call("DataRegistry", "isRegistered", bytes.fromhex(read["root"][2:])) is True


def test_installed_chain_up_finds_anvil_on_path_and_says_what_to_do_without(
    installed: Installed, tmp_path: Path
) -> None:
    # A copy of the shipped configuration on a free port, with no genesis next to it: the
    # genesis comes from the package data. (IDSREG_ANVIL: tests/client/chain/test_node.py.)
    port = free_port()
    config = tmp_path / "local.toml"
    config.write_text((ROOT / "chain" / "local.toml").read_text().replace("port = 8545", f"port = {port}"))
    bare_path = str(installed.venv / "bin")  # no anvil anywhere on it
    env = {"IDSREG_CHAIN_CONFIG": str(config)}

    refused = installed.idsreg("chain", "up", home=tmp_path, path=bare_path, **env)
    assert_one_clear_line(refused, BAD_INPUT, "no anvil executable found", "IDSREG_ANVIL", "PATH")
    assert not (tmp_path / ".idsreg" / "chain" / "state.json").exists()

    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "anvil").symlink_to(anvil_binary())
    with_anvil = f"{bare_path}:{tools}"
    try:
        started = _ok(installed.idsreg("chain", "up", "--json", home=tmp_path, path=with_anvil, **env)).json()
        assert started["started"] is True and started["chainId"] == 7351
        assert Web3(Web3.HTTPProvider(f"http://127.0.0.1:{port}")).eth.chain_id == 7351
    finally:
        stopped = installed.idsreg("chain", "down", "--json", home=tmp_path, path=with_anvil, **env)
    assert _ok(stopped).json()["stopped"] is True
    assert (tmp_path / ".idsreg" / "chain" / "state.json").is_file()
