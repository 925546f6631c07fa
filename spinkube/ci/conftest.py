"""pytest setup of spinkube/ci (run by check.sh: python -m pytest spinkube/ci -q).

Every test runs on spin.toml and the three overlays as `kubectl kustomize` renders them,
rendered once per session (`rendered`). A test parametrized with `env` runs once per
overlay. A test skips when an overlay it needs does not render: test_renders fails then and
says why, once. Without kubectl the session stops before any test, with one line saying so.
After the results, the connection budget test_database.py computed is printed.
"""
from __future__ import annotations

import shutil

import pytest

from manifests import NO_KUBECTL, Ctx, load_ctx

BUDGET_NOTES = pytest.StashKey[list]()


def pytest_configure(config):
    if not shutil.which("kubectl"):
        raise pytest.UsageError(NO_KUBECTL)      # one line, before any test runs


@pytest.fixture(scope="session")
def rendered() -> Ctx:
    """spin.toml and the overlays as rendered, render errors recorded (test_renders)."""
    return load_ctx()


@pytest.fixture
def ctx(rendered: Ctx, request) -> Ctx:
    """The rendered overlays, for a test that needs them rendered: it skips when its own
    overlay (`env`), or with no `env` any overlay, does not render; test_renders fails then
    and says why, once."""
    env = request.node.callspec.params.get("env") if hasattr(request.node, "callspec") else None
    broken = [env] if env in rendered.render_errors else [] if env else sorted(rendered.render_errors)
    if broken:
        pytest.skip(f"{', '.join(broken)} does not render (test_renders says why)")
    return rendered


@pytest.fixture
def budget_notes(request) -> list:
    """Where the budget test leaves the numbers it computed (printed after the results)."""
    return request.config.stash.setdefault(BUDGET_NOTES, [])


def pytest_terminal_summary(terminalreporter, config):
    notes = config.stash.get(BUDGET_NOTES, [])
    if notes:
        terminalreporter.section("connection budget (docs/deploy.md, Database tier)")
        for line in notes:
            terminalreporter.line(line)

