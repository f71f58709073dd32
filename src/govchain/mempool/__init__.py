"""Admitted transactions waiting for a block."""

from govchain.mempool.journal import MempoolJournal
from govchain.mempool.pool import Mempool

__all__ = ["Mempool", "MempoolJournal"]
