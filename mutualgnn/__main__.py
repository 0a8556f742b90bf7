"""``python -m mutualgnn``: the ``mutualgnn`` command line (:mod:`mutualgnn.cli`)."""

from .cli import main

if __name__ == "__main__":
    main(prog_name="mutualgnn")
