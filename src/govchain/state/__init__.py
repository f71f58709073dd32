"""State access for execution: a read interface and copy-on-write overlays."""

from govchain.state.overlay import Overlay, StateReader

__all__ = ["Overlay", "StateReader"]
