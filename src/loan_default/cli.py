"""Project commands: Kedro's own `kedro run`, whose default runner is
loan_default.runner.WorkerRunner (two nodes at a time: one here, one in a worker process).

`kedro run --runner SequentialRunner` (or any other runner) still chooses another.
"""

from __future__ import annotations

import copy

import click
from kedro.framework.cli.project import run as _kedro_run

DEFAULT_RUNNER = "loan_default.runner.WorkerRunner"


def _with_default_runner(command: click.Command, runner: str) -> click.Command:
    """`command` with `runner` as the default of its `--runner` option."""
    command = copy.copy(command)
    command.params = [copy.copy(parameter) for parameter in command.params]
    for parameter in command.params:
        if parameter.name == "runner":
            parameter.default = runner
            parameter.help = (
                f"The runner: {runner} by default (docs/speed.md); 'SequentialRunner' runs "
                "one node at a time in this process, 'ThreadRunner' and 'ParallelRunner' "
                "are Kedro's others."
            )
    return command


@click.group(name="loan_default")
def cli() -> None:
    """The project's commands (they replace Kedro's of the same name)."""


cli.add_command(_with_default_runner(_kedro_run, DEFAULT_RUNNER), "run")
