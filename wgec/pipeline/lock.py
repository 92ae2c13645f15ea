"""One build of an output folder at a time, and Ctrl-C taken at a step boundary."""

from __future__ import annotations

import contextlib
import fcntl
import signal
import threading
from pathlib import Path

from ..errors import BuildError


@contextlib.contextmanager
def lock(out: Path, holder: str = ""):
    """Hold ``OUT/.lock`` (a second build, preview or publish of ``out`` is refused meanwhile).

    ``holder``: what the refused one is told, written into the lock file while it is held (the
    preview, which holds the lock for as long as it runs, names itself and how to stop it)."""
    out.mkdir(parents=True, exist_ok=True)
    handle = open(out / ".lock", "a+")  # noqa: SIM115 - held open for the whole build, closed below
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        who = handle.read().strip()
        handle.close()
        raise BuildError(
            f"{out} is in use by {who}" if who else f"another build of {out} is running; wait for it to finish"
        ) from None
    try:
        handle.truncate(0)
        handle.write(holder)
        handle.flush()
        yield
    finally:
        handle.truncate(0)
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


_INTERRUPTED: list[int] = []


@contextlib.contextmanager
def interruptible():
    """Ctrl-C (or SIGTERM) stops the build at the next step boundary, before anything is
    swapped in. (A KeyboardInterrupt raised anywhere can be swallowed by a library's
    clean-up code; a flag checked between the steps cannot.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _INTERRUPTED.clear()
    previous = {
        sig: signal.signal(sig, lambda signum, frame: _INTERRUPTED.append(signum))
        for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def checkpoint() -> None:
    """Raise KeyboardInterrupt if Ctrl-C (or SIGTERM) came since the last step."""
    if _INTERRUPTED:
        raise KeyboardInterrupt
