"""`make install` (cmake --install) puts the module beside the CLI, where Debian's python3 finds it."""
import os
import pathlib
import subprocess
import sys

import pytest

BUILD = os.environ.get("FIBSEG_BUILD")
PREFIX = os.environ.get("FIBSEG_INSTALL_PREFIX")
SITE = f"lib/python{sys.version_info.major}.{sys.version_info.minor}/dist-packages"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    if not BUILD:
        pytest.skip("FIBSEG_BUILD not set (ctest sets it): which build to install")
    prefix = tmp_path_factory.mktemp("prefix")
    subprocess.run(["cmake", "--install", BUILD, "--prefix", str(prefix)], check=True, capture_output=True)
    return prefix


def test_install_puts_the_cli_and_the_module_under_the_prefix(installed):
    assert (installed / "bin" / "fibseg").is_file()
    modules = list((installed / SITE / "fibseg").glob("_fibseg*.so"))
    assert len(modules) == 1, f"expected one _fibseg*.so in {installed / SITE / 'fibseg'}"
    assert (installed / SITE / "fibseg" / "distributed" / "__init__.py").is_file()
    # imported from there alone (not the build folder) in a fresh interpreter, the dask executor too
    env = dict(os.environ, PYTHONPATH=str(installed / SITE))
    r = subprocess.run([sys.executable, "-c", "import fibseg, fibseg.distributed; print(fibseg._fibseg.__file__); "
                        "fibseg.parameters()"], capture_output=True, text=True, env=env, cwd=installed, check=True)
    assert pathlib.Path(r.stdout.strip()) == modules[0]
    assert subprocess.run([str(installed / "bin" / "fibseg"), "--help"], capture_output=True).returncode == 0


def test_the_default_prefix_is_on_the_python_path():
    """Installed to the default prefix, `import fibseg` needs no PYTHONPATH."""
    if not PREFIX:
        pytest.skip("FIBSEG_INSTALL_PREFIX not set (ctest sets it)")
    r = subprocess.run([sys.executable, "-c", "import sys; print('\\n'.join(sys.path))"], capture_output=True,
                       text=True, env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, check=True)
    assert str(pathlib.Path(PREFIX) / SITE) in r.stdout.splitlines()
