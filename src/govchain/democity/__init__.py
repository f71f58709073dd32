"""The demo city: a sample city on a single-node chain — departments, districts, enterprises,
a bank and citizens — set up through the same transactions a real city would use, then every
built-in service run end to end (``govchain demo``)."""

from govchain.democity.city import CITIZEN_COUNT, DEMO_CITY, ENTERPRISES, Enterprise
from govchain.democity.txbatch import TxRound

__all__ = ["CITIZEN_COUNT", "DEMO_CITY", "ENTERPRISES", "Enterprise", "TxRound"]
