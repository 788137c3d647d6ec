"""Build configuration that pyproject.toml cannot say: the packages are found under auditkit/,
plus the probe battery, whose source stays the top-level probes/ directory and which a wheel
ships as the package ``auditkit._battery`` (auditkit.paths.builtin_probes_dir finds either)."""
from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["auditkit", "auditkit.*"]), "auditkit._battery"],
    package_dir={"auditkit._battery": "probes"},
)
