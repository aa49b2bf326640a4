"""Copy the top-level templates/ and static/ into the wheel.

The design card keeps templates/ and static/ at the repository top level, but a
non-editable install must still serve pages, so the build puts them inside the
package as ``feedhub/_assets/{templates,static}``.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildWithAssets(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "feedhub" / "_assets"
        for name in ("templates", "static"):
            src = HERE / name
            dst = target / name
            if dst.exists():
                shutil.rmtree(dst)
            shutil.copytree(src, dst)


setup(cmdclass={"build_py": BuildWithAssets})
