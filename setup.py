"""Only what pyproject.toml cannot say: the demo halls of `config/` ship inside the package as
`server/demo_halls/`, so that `pip install hallq` (not editable) can serve the demo from any folder.
A source checkout and an editable install read `config/` itself (server/config: default_config_dir)."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithDemoHalls(build_py):
    def run(self) -> None:
        super().run()
        source = Path(__file__).resolve().parent / "config"
        if source.is_dir():  # absent only in a tree that has none to ship
            target = Path(self.build_lib) / "server" / "demo_halls"
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.pyc", "__pycache__"))


setup(cmdclass={"build_py": BuildWithDemoHalls})
