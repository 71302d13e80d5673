"""Parsers of command-line values that several benchmarks take."""

import argparse


def parse_hidden(text):
    """Hidden-layer sizes from their command-line form.

    Examples
    --------
    >>> parse_hidden("1024,1024"), parse_hidden("256")
    ((1024, 1024), (256,))
    """
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"hidden sizes are comma-separated integers, got {text!r}"
        ) from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"hidden sizes must be >= 1, got {text!r}")
    return sizes


def parse_ratio(text):
    """An activation ratio, in (0, 1]."""
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"ratios are in (0, 1], got {text!r}")
    return value


def parse_optional_ratio(text):
    """An activation ratio, or None for ``"none"``."""
    return None if text.lower() == "none" else parse_ratio(text)


def parse_optional_count(text):
    """A whole number, or None for ``"none"``.

    Examples
    --------
    >>> parse_optional_count("10"), parse_optional_count("none")
    (10, None)
    """
    return None if text.lower() == "none" else int(text)
