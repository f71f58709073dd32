"""Ordering: which transactions go into which block. The solo orderer (one node) and the etcd
orderer (a network of peers) implement the same :class:`Orderer` protocol."""

from govchain.consensus.base import OrderedBatch, Orderer
from govchain.consensus.cutter import BlockCutter, CutterConfig
from govchain.consensus.solo import SoloOrderer

__all__ = ["BlockCutter", "CutterConfig", "OrderedBatch", "Orderer", "SoloOrderer"]
