"""``python -m govchain`` runs the command line."""

from govchain.cli.main import main

main()
