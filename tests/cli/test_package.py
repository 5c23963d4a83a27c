"""The CLI is a pure client: installed as `hookline`, needing nothing of the server."""

import subprocess
import sys

from tests.cli.support import cli_env, run_once


def test_it_imports_nothing_of_django() -> None:
    code = (
        "import sys, hookline_cli.main, hookline_cli.listen, hookline_cli.forward, hookline_cli.api;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'django', 'config', 'events', 'endpoints'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd="/", env=cli_env(), capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_console_script_is_installed() -> None:
    done = run_once(["listen", "--help"])
    assert done.returncode == 0
    assert "--forward-to URL" in done.stdout and "--route GLOB=URL" in done.stdout


def test_it_needs_a_token_and_somewhere_to_forward() -> None:
    no_token = run_once(["listen", "*", "--forward-to", "http://localhost:3000"])
    assert (no_token.returncode, no_token.stderr.splitlines()[0][:22]) == (2, "hookline: no token: pa")
    nowhere = run_once(["listen", "*", "--token", "hl_x"])
    assert nowhere.stderr == "hookline: nowhere to forward: give --forward-to URL and/or --route GLOB=URL\n"
    bad_route = run_once(["listen", "*", "--token", "hl_x", "--route", "charge.*"])
    assert bad_route.returncode == 2 and "GLOB=URL" in bad_route.stderr
