"""The ``ravine`` command: ``ravine train``, ``ravine gradcheck``, ...

Bad input never shows a traceback: the command prints one line ``error: …`` naming what was wrong
and where, and exits with status 2 (set RAVINE_TRACEBACK=1 to see the traceback instead).
"""

from __future__ import annotations

import argparse
import os
import sys

from . import (diagnose_command, evaluate_command, gradcheck_command, landscape_command, lr_find_command,
               playground_command, predict_command, runs_command, search_command, train_command)

COMMANDS = {"train": train_command, "evaluate": evaluate_command, "predict": predict_command,
            "runs": runs_command, "gradcheck": gradcheck_command, "diagnose": diagnose_command,
            "landscape": landscape_command, "playground": playground_command, "search": search_command,
            "lr-find": lr_find_command}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one ``error: …`` line and exit status 2."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ravine", description="ravine: train neural networks from first principles "
                     "and see what the optimizer is going through.",
                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name, module in COMMANDS.items():
        command = sub.add_parser(name, help=module.HELP, description=module.__doc__,
                                 formatter_class=getattr(module, "FORMATTER",
                                                         argparse.ArgumentDefaultsHelpFormatter))
        module.add_arguments(command)
        command.set_defaults(handler=module.run)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``ravine`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except (ValueError, TypeError, OSError, KeyError) as err:
        if os.environ.get("RAVINE_TRACEBACK"):
            raise
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
