"""Children that get Ctrl-C as they would from a shell."""

from __future__ import annotations

import signal


def as_from_a_shell() -> None:
    """A `preexec_fn` for a child that a test sends SIGINT: the default disposition and an
    unblocked mask, as a shell gives it. A child inherits an ignored or blocked SIGINT from
    this process (Python then never raises KeyboardInterrupt in it), and a test run earlier in
    the same worker may have left this process so: `vt serve --nodes` and `vt load` then
    outlived their Ctrl-C in a whole level's run while passing alone."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT])
