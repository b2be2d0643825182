"""The browser UI at ``/``: a page, its static ES modules and CSS, and sign-in routes.

No build step: the files under ``static/`` are served as they are. The UI talks to the
native API with the session cookie; see docs/web.md.
"""

from chatkeep.web.routes import install_web

__all__ = ["install_web"]
