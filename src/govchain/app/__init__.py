"""The ABCI-shaped application boundary: check_tx, finalize_block, commit, query, info."""

from govchain.app.application import Application, CommittedBlock, PendingBlock, StateProofResult

__all__ = ["Application", "CommittedBlock", "PendingBlock", "StateProofResult"]
