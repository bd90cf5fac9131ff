"""The ``cutover`` command. Thin: parse options, call the library, show the result.

Errors from every layer are :class:`~cutover.errors.CutoverError`; they are printed here,
once, as one line, with a non-zero exit. ``--debug`` adds the traceback.
"""

from __future__ import annotations

import logging
import sys
import traceback
from typing import Annotated

import typer
from typer._click.exceptions import UsageError  # typer's own click: no public alias
from typer.exceptions import TyperException

from cutover import __version__
from cutover.commands import register_all
from cutover.context import State
from cutover.errors import ConfigError, CutoverError
from cutover.yamlfile import UNPRINTABLE

app = typer.Typer(
    name="cutover",
    help=(
        "Cutover automation for merged provinces: Pulumi stacks, staged DNS, mail, portal "
        "and video-conference cutovers with verification, rollback and a crash-safe journal."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

EXIT_ERROR = 1
EXIT_USAGE = 2


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cutover {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
    json_mode: Annotated[
        bool, typer.Option("--json", help="Print machine-readable JSON instead of text.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    ctx.obj = State(debug=debug, json_mode=json_mode)


@app.command()
def version() -> None:
    """Show the version of cutover and of the components it drives."""
    typer.echo(f"cutover {__version__}")


register_all(app)


def _wants_debug(argv: list[str]) -> bool:
    return "--debug" in argv


def _say(text: str) -> None:
    """One line on stderr, whatever the text holds: a control character quoted from a
    user's file or option is shown escaped, never sent to the terminal."""
    shown = UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    print(shown, file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = typer.main.get_command(app)
    try:
        # Without standalone mode click returns (not raises) the code of typer.Exit.
        returned = command.main(args=args, prog_name="cutover", standalone_mode=False)
    except CutoverError as exc:
        if _wants_debug(args):
            traceback.print_exc()
        _say(f"error: {exc.one_line()}")
        return EXIT_USAGE if isinstance(exc, ConfigError) else EXIT_ERROR
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except (typer.Abort, KeyboardInterrupt):
        print("error: interrupted", file=sys.stderr)
        return 130
    except UsageError as exc:  # bad options: one line, like every other error
        where = exc.ctx.command_path if exc.ctx is not None else "cutover"
        _say(f"error: {exc.format_message()} (see `{where} --help`)")
        return EXIT_USAGE
    except TyperException as exc:  # other click errors: typer prints them with the help hint
        exc.show()  # type: ignore[attr-defined]
        return int(getattr(exc, "exit_code", EXIT_USAGE))
    except Exception as exc:  # a bug: still one line unless --debug
        if _wants_debug(args):
            traceback.print_exc()
        _say(
            f"error: internal error: {type(exc).__name__}: {exc} (run again with --debug "
            "for the traceback)"
        )
        return EXIT_ERROR
    return returned if isinstance(returned, int) else 0


if __name__ == "__main__":
    sys.exit(main())
