"""Serve the production build already in ``.web`` on PORT without compiling it again: one of the app processes
("machines") of ``test_multi_machine.py``. The build is the one the ``app_server`` fixture made; the browser
still asks for that server's address, and the balancer in front decides which process answers.

    python tests/e2e/serve_built.py PORT      (environment: DATABASE_URL, REDIS_URL, PUBLIC_URL, ...)
"""
from __future__ import annotations

import sys

from reflex.utils import exec as reflex_exec
from reflex_base import constants
from reflex_base.config import get_config
from reflex_base.environment import environment


def main(port: int) -> None:
    environment.REFLEX_ENV_MODE.set(constants.Env.PROD)
    environment.REFLEX_SKIP_COMPILE.set(True)
    get_config()._set_persistent(frontend_port=port, backend_port=port)
    reflex_exec.run_backend_prod("0.0.0.0", port, constants.LogLevel.INFO, mount_frontend_compiled_app=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))
