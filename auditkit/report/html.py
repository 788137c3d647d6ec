"""The HTML report: one self-contained file (Jinja2, autoescaped; CSS, JS and charts inline).

Nothing is fetched from anywhere: the Content-Security-Policy allows no network source, only
the page's own inline styles, ``data:`` images (inside the SVG charts) and the one inline script
whose SHA-256 it names. Every model output and item text goes through autoescaping, so a model
that answers ``<script>`` shows that text; the policy is a second wall behind the escaping.
"""
from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from auditkit.paths import PACKAGE_DIR
from auditkit.present import num, num_ci, pct

TEMPLATES = PACKAGE_DIR / "templates"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    env.filters.update(num=num, pct=pct, num_ci=num_ci)
    return env


def _asset(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def csp(script: str) -> str:
    """The page's Content-Security-Policy: no network at all, only its own inline script."""
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    return ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
            f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'")


def render_html(ctx: dict[str, Any]) -> str:
    """The report page of a view model built by :func:`auditkit.report.context.build_context`."""
    script = _asset("report.js")
    if "</" in script:
        raise ValueError("report.js must not contain '</' (it is inlined in a <script> element)")
    # matplotlib wrote the SVGs and escaped every label in them: safe to inline as they are
    svgs = {name: Markup(chart["svg"]) for name, chart in ctx["charts"].items()}
    return environment().get_template("report.html.j2").render(
        **ctx, css=Markup(_asset("report.css")), script=Markup(script), csp=csp(script),
        svgs=svgs)
