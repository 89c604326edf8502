"""``python -m govkg`` is the ``govkg`` command."""

from govkg.cli import main

main(prog_name="govkg")
