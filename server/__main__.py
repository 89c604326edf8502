"""``python -m server`` is the ``govkg`` command."""

from .cli import main

main(prog_name="govkg")
