"""The web console: server-rendered HTML pages over a node's own state, read only.

The page models (:mod:`.chain`, :mod:`.directory`, :mod:`.verify`, :mod:`.extensions`,
:mod:`.search`) are built from the node's :class:`~govchain.app.Application` — blocks, receipts,
contract views — as the JSON routes build theirs; the Jinja2 templates and the stylesheet live
beside them. :mod:`govchain.api.routes_console` serves the pages under ``/console``.
"""

from govchain.console.templating import STATIC_FILES, create_environment

__all__ = ["STATIC_FILES", "create_environment"]
