"""Ordering: which transactions go into which block. Solo today; etcd drops in behind
the same :class:`Orderer` protocol."""

from govchain.consensus.base import OrderedBatch, Orderer
from govchain.consensus.cutter import BlockCutter, CutterConfig
from govchain.consensus.solo import SoloOrderer

__all__ = ["BlockCutter", "CutterConfig", "OrderedBatch", "Orderer", "SoloOrderer"]
