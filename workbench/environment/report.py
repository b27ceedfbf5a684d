"""What the environment doctor reports: one :class:`Finding` per check, gathered in a :class:`DoctorReport`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from ..errors import one_line
from ..io import to_jsonable

#: Identifies the layout of :meth:`DoctorReport.to_dict`; bumped on breaking changes.
SCHEMA = "workbench.doctor/1"
#: Finding statuses, from best to worst.
STATUSES = ("ok", "warning", "problem")


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------
# Data classes
# --------------------------------------------------------------------------


@dataclass
class Finding:
    """One thing the doctor checked.

    Attributes
    ----------
    id : str
        Stable snake_case identifier (``"torchcodec"``, ``"gpu"``...).
    title : str
        Short human-readable name of what was checked.
    status : {"ok", "warning", "problem"}
        ``"warning"``: works, but slower, degraded or differently than
        intended; ``"problem"``: something the workbench needs is broken.
    summary : str
        One line: what was found.
    details : dict
        JSON-serialisable facts behind the summary (versions, paths, sizes).
    remedy : str
        One line saying what to do; empty when the status is ``"ok"``.
    """

    id: str
    title: str
    status: str
    summary: str
    details: dict = field(default_factory=dict)
    remedy: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")
        self.summary = one_line(self.summary)
        self.remedy = one_line(self.remedy)

    def to_dict(self) -> dict:
        """The finding as plain JSON-serialisable types.

        Returns
        -------
        dict
            Keys ``id``, ``title``, ``status``, ``summary``, ``details``, ``remedy``.
        """
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "summary": self.summary,
            "details": to_jsonable(self.details),
            "remedy": self.remedy,
        }


@dataclass
class DoctorReport:
    """Everything :func:`run_doctor` found, in a stable order.

    Attributes
    ----------
    findings : list of Finding
        One per check, in the order of :data:`CHECK_IDS`.
    created : str
        When the report was made, ISO 8601 in UTC.
    """

    findings: list[Finding]
    created: str = field(default_factory=_utc_now)

    @property
    def counts(self) -> dict[str, int]:
        """Number of findings per status, ``{"ok": n, "warning": n, "problem": n}``."""
        return {status: sum(f.status == status for f in self.findings) for status in STATUSES}

    @property
    def status(self) -> str:
        """The worst status among the findings (``"ok"`` when there are none)."""
        return max((f.status for f in self.findings), key=STATUSES.index, default="ok")

    @property
    def exit_code(self) -> int:
        """Process exit code for the CLI: 1 if any finding is a problem, else 0."""
        return 1 if self.status == "problem" else 0

    def get(self, finding_id: str) -> Finding:
        """The finding with this id.

        Raises
        ------
        KeyError
            If no finding has that id.
        """
        for finding in self.findings:
            if finding.id == finding_id:
                return finding
        raise KeyError(finding_id)

    def to_dict(self) -> dict:
        """The report as plain types, stable for scripts (``json.dumps`` works on it).

        Returns
        -------
        dict
            ``{"schema", "created", "summary": {"ok", "warning", "problem",
            "status"}, "findings": [...]}`` with findings as in
            :meth:`Finding.to_dict`.
        """
        return {
            "schema": SCHEMA,
            "created": self.created,
            "summary": {**self.counts, "status": self.status},
            "findings": [f.to_dict() for f in self.findings],
        }

    def format_text(self) -> str:
        """A human-readable table: status, title and summary, with remedies below.

        Returns
        -------
        str
            One row per finding; each non-ok finding is followed by an
            indented ``fix:`` line. The last line totals the statuses.
        """
        status_w = max(len(s) for s in STATUSES)
        title_w = max([len("check"), *(len(f.title) for f in self.findings)])
        lines = [
            f"Whisper Workbench doctor ({self.created})",
            "",
            f"{'status':<{status_w}}  {'check':<{title_w}}  summary",
        ]
        for f in self.findings:
            lines.append(f"{f.status:<{status_w}}  {f.title:<{title_w}}  {f.summary}")
            if f.status != "ok" and f.remedy:
                lines.append(f"{'':<{status_w}}  {'':<{title_w}}  fix: {f.remedy}")
        counts = self.counts
        lines += [
            "",
            f"{counts['ok']} ok, {counts['warning']} warning(s), {counts['problem']} problem(s): overall {self.status}",
        ]
        return "\n".join(lines)


@dataclass
class _Outcome:
    """What a check function returns; :func:`run_doctor` adds the id and title."""

    status: str
    summary: str
    details: dict = field(default_factory=dict)
    remedy: str = ""


def _ok(summary: str, details: dict | None = None) -> _Outcome:
    return _Outcome("ok", summary, details or {})


def _warning(summary: str, details: dict | None, remedy: str) -> _Outcome:
    return _Outcome("warning", summary, details or {}, remedy)


def _problem(summary: str, details: dict | None, remedy: str) -> _Outcome:
    return _Outcome("problem", summary, details or {}, remedy)
