"""Build configuration that pyproject.toml cannot say: the packages are found under auditkit/
(data folders too, as namespace packages), plus the probe battery, whose source stays the
top-level probes/ directory and which a wheel ships as the package ``auditkit._battery``
(auditkit.paths.builtin_probes_dir finds either)."""
from setuptools import find_namespace_packages, setup

BATTERY = ["auditkit._battery",
           *(f"auditkit._battery.{name}" for name in find_namespace_packages(where="probes"))]

setup(
    packages=[*find_namespace_packages(include=["auditkit", "auditkit.*"]), *BATTERY],
    package_dir={"auditkit._battery": "probes"},
)
