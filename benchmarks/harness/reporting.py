"""Output of results: Markdown tables, CSV and JSON files, plots.

The content of a report belongs to its benchmark; this module only gives every
benchmark the same table syntax and file formats.
"""

import csv
import json
import shlex


def markdown_table(header, rows, alignment=None):
    """The lines of a Markdown table.

    Parameters
    ----------
    header : sequence of str
        Column titles.
    rows : iterable of sequences of str
        The cells of each row, already formatted.
    alignment : str, optional
        One character per column, ``"l"`` (left) or ``"r"`` (right); default
        all left.

    Returns
    -------
    lines : list of str

    Examples
    --------
    >>> print("\\n".join(markdown_table(["model", "s"], [["ours", "0.5"]], "lr")))
    | model | s |
    |---|---:|
    | ours | 0.5 |
    """
    alignment = alignment or "l" * len(header)
    if len(alignment) != len(header) or set(alignment) - {"l", "r"}:
        raise ValueError(
            f"alignment needs one 'l' or 'r' per column, got {alignment!r} "
            f"for {len(header)} columns"
        )
    rules = ["---:" if side == "r" else "---" for side in alignment]
    lines = [table_row(header), "|" + "|".join(rules) + "|"]
    lines.extend(table_row(cells) for cells in rows)
    return lines


def seeded_report(script, argv, seeds, start_load, end_load, lines):
    """The Markdown of a run over seeds: the command that made it, the
    seeds and the machine's load at its start and end, then ``lines``.

    Examples
    --------
    >>> print(seeded_report("benchmarks/b.py", ["--x"], [0, 1], "1.0", "2.0", ["T"]))
    Command: `python benchmarks/b.py --x`
    <BLANKLINE>
    Seeds 0, 1; load average 1.0 at the start, 2.0 at the end.
    <BLANKLINE>
    T
    """
    return "\n".join(
        [
            f"Command: `{shlex.join(['python', script, *argv])}`",
            "",
            f"Seeds {', '.join(map(str, seeds))}; load average "
            f"{start_load} at the start, {end_load} at the end.",
            "",
            *lines,
        ]
    )


def table_row(cells):
    """One Markdown table row: ``| a | b |``."""
    return "| " + " | ".join(cells) + " |"


def write_csv(records, path, columns):
    """Write ``records`` (dicts) to ``path``, one row each, only ``columns``."""
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(records)


def write_json(data, path):
    """Write ``data`` to ``path`` as JSON indented by 2 (tuples become lists)."""
    path.write_text(json.dumps(data, indent=2))


def load_pyplot():
    """matplotlib's ``pyplot`` on the non-interactive Agg backend, or None
    when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt
