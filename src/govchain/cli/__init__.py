"""The ``govchain`` command line (entry point: :func:`govchain.cli.main.main`)."""

__all__: list[str] = []
