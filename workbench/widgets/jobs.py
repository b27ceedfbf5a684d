"""The live panel's background-job runner and its messages.

Signal work and transcription each get one background thread, so the
panel keeps answering while they work; with ``background=False`` they run
inside the callback instead. Every callback and job is guarded: its
exceptions become a message in the panel, never a traceback.
"""

from __future__ import annotations

import contextlib
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_for_futures

from ..errors import WorkbenchError, first_line
from .fragments import details_html, message_html


class JobsMixin:
    """Run the panel's work in background threads (or inline), and report what goes wrong.

    Needs the widgets ``message``, ``details`` and ``_details_text`` of
    :class:`~workbench.widgets.layout.LayoutMixin`, and ``_clear_finished_status``
    of :class:`~workbench.widgets.transcribing.TranscriptionMixin`.
    """

    def _init_jobs(self, background: bool) -> None:
        self.background = bool(background)
        self._signal_pool = ThreadPoolExecutor(1, thread_name_prefix="workbench-signal") if self.background else None
        self._transcribe_pool = ThreadPoolExecutor(1, thread_name_prefix="workbench-transcribe") if self.background else None
        self._futures: list = []
        self._futures_lock = threading.Lock()
        self.last_message = ""
        self.last_message_kind = ""

    # ------------------------------------------------------------------
    # Running work: in the background, or inline when background=False
    # ------------------------------------------------------------------

    def _submit(self, pool, fn, *args, action: str, on_error=None) -> None:
        job = self._guard(fn, action, on_error=on_error)
        if pool is None:
            job(*args)
            return
        future = pool.submit(job, *args)
        with self._futures_lock:
            self._futures = [f for f in self._futures if not f.done()] + [future]

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every job started so far (and any job they start) has finished.

        Parameters
        ----------
        timeout : float, optional
            Give up after this many seconds.

        Returns
        -------
        bool
            True when nothing is left running.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._futures_lock:
                pending = [f for f in self._futures if not f.done()]
            if not pending:
                return True
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            wait_for_futures(pending, timeout=left)

    @property
    def busy(self) -> bool:
        """Whether a background job is running or queued."""
        with self._futures_lock:
            return any(not f.done() for f in self._futures)

    def _stop_jobs(self) -> None:
        """Stop the background threads; queued jobs are cancelled."""
        for pool in (self._signal_pool, self._transcribe_pool):
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------
    # Messages
    # ------------------------------------------------------------------

    def _guard(self, fn, action: str, *, on_error=None):
        """``fn`` with every exception shown in the panel instead of raised."""

        def guarded(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except WorkbenchError as exc:
                in_terms = getattr(exc, "in_terms", None)  # a language refusal names the panel's checkbox
                self._show_message(in_terms("panel") if in_terms else str(exc), "error")
            except Exception as exc:  # noqa: BLE001 - shown in the panel with its traceback folded away
                self._show_message(
                    f"Something unexpected went wrong while {action}: {type(exc).__name__}: {first_line(exc)}",
                    "error",
                    details=traceback.format_exc(),
                )
            if on_error is not None:
                with contextlib.suppress(Exception):  # resetting the display must not hide the first error
                    on_error()
            return None

        return guarded

    def _show_message(self, text: str, kind: str = "error", *, details: str | None = None) -> None:
        shown = message_html(text, kind)
        self.last_message, self.last_message_kind = text, kind
        self.message.value = shown
        if details:
            self._details_text.value = details_html(details)
            self.details.selected_index = None
            self.details.layout.display = None
        else:
            self._details_text.value = ""
            self.details.layout.display = "none"

    def _start_action(self) -> None:
        """Clear what earlier actions left behind (their message, a finished transcription's status) as a new one starts."""
        self.clear_message()
        self._clear_finished_status()

    def clear_message(self) -> None:
        """Remove the message (and its details) from the panel."""
        self.last_message, self.last_message_kind = "", ""
        self.message.value = ""
        self._details_text.value = ""
        self.details.layout.display = "none"
