"""The `hookline` command."""

import argparse
import asyncio
import os
import sys

from hookline_cli.errors import Fatal
from hookline_cli.forward import Route
from hookline_cli.listen import Listener, Options

DEFAULT_SERVER = "http://127.0.0.1:8000"


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="hookline", description="Command-line client of a Hookline server.")
    commands = root.add_subparsers(dest="command", required=True)
    listen = commands.add_parser(
        "listen",
        help="forward an endpoint's events to a local URL as they arrive",
        description="Stream the events of an endpoint (or '*' for all of yours) and forward each, byte for "
        "byte, to the first --route whose glob matches its event type, else to --forward-to.",
    )
    listen.add_argument("endpoint", help="an endpoint id (ep_…) or '*'")
    listen.add_argument("--forward-to", metavar="URL", help="where events go when no --route matches")
    listen.add_argument(
        "--route", metavar="GLOB=URL", action="append", default=[],
        help="send events whose type matches GLOB (e.g. 'charge.*') to URL; repeatable, first match wins",
    )
    listen.add_argument("--server", default=os.environ.get("HOOKLINE_SERVER", DEFAULT_SERVER),
                        help=f"the Hookline server (HOOKLINE_SERVER; default {DEFAULT_SERVER})")
    listen.add_argument("--token", default=os.environ.get("HOOKLINE_TOKEN"),
                        help="an API key (hl_…) or access token (HOOKLINE_TOKEN)")
    return root


def options_from(args: argparse.Namespace) -> Options:
    if not args.token:
        raise Fatal("no token: pass --token or set HOOKLINE_TOKEN (create an API key under /api/v1/api-keys/)")
    if args.endpoint != "*" and not args.endpoint.startswith("ep_"):
        raise Fatal(f"unknown endpoint {args.endpoint}: give an endpoint id (ep_…) or '*'")
    try:
        routes = [Route.parse(text) for text in args.route]
    except ValueError as exc:
        raise Fatal(str(exc)) from None
    if args.forward_to is None and not routes:
        raise Fatal("nowhere to forward: give --forward-to URL and/or --route GLOB=URL")
    if args.forward_to is not None and not args.forward_to.startswith(("http://", "https://")):
        raise Fatal(f"--forward-to wants an http(s) URL, got {args.forward_to!r}")
    return Options(args.endpoint, args.server, args.token, args.forward_to, routes)


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    try:
        asyncio.run(Listener(options_from(args)).run())
    except Fatal as exc:
        print(f"hookline: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
