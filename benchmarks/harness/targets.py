"""A target: a bound on one measured value, with the reason for the bound.

Targets are data: each benchmark lists its own as instances of :class:`Target`
(or of a subclass that says which measurement it judges), and a run turns each
into a verdict, a JSON-ready dict that the report describes in one line
(:func:`describe_verdict`).
"""

from dataclasses import dataclass

MET, MISSED, NOT_MEASURED = "met", "missed", "not measured"


@dataclass(frozen=True, kw_only=True)
class Target:
    """An upper (or, with ``higher_is_better``, lower) bound on a measurement.

    Parameters
    ----------
    metric : str
        What is measured, e.g. ``"fit_seconds_per_epoch"`` for a ratio of fit
        times.
    bound : float
        The largest value that meets the target (the smallest with
        ``higher_is_better``).
    description : str
        What the target asks, as the report names it.
    reason : str
        Why the bound is where it is.
    higher_is_better : bool, default=False
        Whether the measurement must be at least ``bound`` rather than at
        most.
    """

    metric: str
    bound: float
    description: str
    reason: str
    higher_is_better: bool = False

    def margin(self, measured):
        """How far ``measured`` is inside the bound (negative: outside)."""
        if self.higher_is_better:
            return measured - self.bound
        return self.bound - measured

    def is_met(self, measured):
        """Whether ``measured`` is within the bound (the bound itself is)."""
        return self.margin(measured) >= 0

    def verdict(self, measured, *, name=None, repeat_range=None):
        """The verdict on ``measured``, as a dict.

        Keys: ``target`` (``name``, default the description), ``status``
        (``"met"`` or ``"missed"``), ``bound``, ``measured``, ``repeat_range``
        (only when given: the smallest and largest per-repeat value) and
        ``margin``.
        """
        verdict = {
            "target": self.description if name is None else name,
            "status": MET if self.is_met(measured) else MISSED,
            "bound": self.bound,
            "measured": measured,
        }
        if repeat_range is not None:
            verdict["repeat_range"] = repeat_range
        verdict["margin"] = self.margin(measured)
        return verdict

    def not_measured(self, *, name=None):
        """The verdict of a target whose measurement is not in the run."""
        return {
            "target": self.description if name is None else name,
            "status": NOT_MEASURED,
            "bound": self.bound,
        }


def describe_verdict(verdict, detail=None):
    """One Markdown list item for a verdict of :meth:`Target.verdict`.

    ``detail`` describes the measurement; by default the measured ratio, the
    range over repeats when known, and the distance from the bound in absolute
    terms and as a share of the bound.

    Examples
    --------
    >>> target = Target(metric="t", bound=0.5, description="fast", reason="")
    >>> describe_verdict(target.verdict(0.4, repeat_range=[0.3, 0.6]))
    '- MET: fast: ratio 0.400 (repeats 0.300 to 0.600), target <= 0.5: 0.100 under (20% of the target)'
    >>> describe_verdict(target.not_measured())
    '- not measured: fast (target <= 0.5)'
    """  # noqa: E501
    if verdict["status"] == NOT_MEASURED:
        return f"- not measured: {verdict['target']} (target <= {verdict['bound']:g})"
    if detail is None:
        detail = ratio_detail(verdict)
    return f"- {verdict['status'].upper()}: {verdict['target']}: {detail}"


def ratio_detail(verdict):
    """The measured ratio of an upper-bound verdict, its spread and margin."""
    measured, bound, margin = verdict["measured"], verdict["bound"], verdict["margin"]
    relation = "under" if margin >= 0 else "over"
    spread = verdict.get("repeat_range")
    spread = f" (repeats {spread[0]:.3f} to {spread[1]:.3f})" if spread else ""
    return (
        f"ratio {measured:.3f}{spread}, target <= {bound:g}: "
        f"{abs(margin):.3f} {relation} ({abs(margin) / bound:.0%} of the target)"
    )
