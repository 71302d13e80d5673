"""When does a sparse network beat a dense one? Four protocols, six data sets.

Against scikit-learn's ``MLPClassifier`` at the same width and at the width
of our number of active units, ours configured by a rule from the data's
shape (``benchmarks/evidence/models.py``), every model otherwise at its
library's defaults, 70/30 splits, one seed per split and initialisation:

1. noise robustness: Ahmad and Scheinkman's protocol (a fraction 0, 0.05,
   ..., 0.5 of every test row's features set to the training mean + 2 std;
   the noise score sums the correct predictions over the 11 levels) and
   additive Gaussian noise of 0 to 1 training standard deviation;
2. learning curves: held-out accuracy after training on 100 to 1,000 rows;
3. accuracy for the fit time: accuracy after every epoch against the fit time
   so far; time-to-accuracy and iso-time gain;
4. continual learning: digits 0-4 then 5-9, and 5 permutations of the pixels
   in turn; forgetting and final average accuracy.

Usage: ``python benchmarks/bench_evidence.py [--quick]`` (``--help``).
Writes ``evidence.md`` and ``evidence.json`` to ``--output-dir``
(default ``benchmarks/results``), and every fit's result to
``evidence_jobs.jsonl`` there as soon as it finishes: a run interrupted and
started again with the same output directory skips the fits recorded in it
(delete the file to start afresh).
"""

import shlex
import sys
import time
from pathlib import Path

if not __package__:  # run as a script: make the benchmarks package importable
    sys.path.append(str(Path(__file__).resolve().parents[1]))

from benchmarks.evidence import datasets
from benchmarks.evidence.report import judge, render_markdown, summarise
from benchmarks.evidence.runner import plan_jobs, recipe_for, run_all
from benchmarks.evidence.settings import parse_args
from benchmarks.harness.environment import describe_environment, load_average
from benchmarks.harness.reporting import write_json

# One JSON line per finished fit, written as the run goes; a rerun with the
# same output directory skips the fits recorded there.
JOURNAL = "evidence_jobs.jsonl"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args, settings = parse_args(argv)
    available = datasets.available_datasets(settings.datasets)
    settings = type(settings)(**{**vars(settings), "datasets": available})
    command = shlex.join(["python", "benchmarks/bench_evidence.py", *argv])
    environment = describe_environment(["benchmarks/bench_evidence.py", *argv])
    args.output_dir.mkdir(parents=True, exist_ok=True)
    journal = args.output_dir / JOURNAL
    start = time.perf_counter()
    results = run_all(plan_jobs(settings), settings, journal)
    elapsed = time.perf_counter() - start
    splits = {name: datasets.split(name, 0, settings.max_rows) for name in available}
    recipes = {name: recipe_for(split) for name, split in splits.items()}
    n_features = {name: split.n_features for name, split in splits.items()}
    summaries = summarise(results, settings)
    verdicts = judge(summaries, n_features)
    header = [
        "# Evidence: sparse against dense",
        "",
        f"Command: `{command}`",
        "",
        f"Elapsed {elapsed:.0f} s, {settings.n_jobs} fits at a time, seeds "
        f"{list(settings.seeds)}, load average {environment['load_start']} at "
        f"the start and {load_average()} at the end; scikit-learn "
        f"{environment['sklearn']}, git {environment['git_commit']}. Cells: "
        "mean ± std over seeds.",
    ]
    markdown = render_markdown(summaries, verdicts, settings, recipes, header)
    print(markdown)
    (args.output_dir / "evidence.md").write_text(markdown)
    data = {
        "settings": {**vars(settings)},
        "environment": environment,
        "elapsed": elapsed,
        "recipes": {name: vars(recipe) for name, recipe in recipes.items()},
        "summaries": summaries,
        "verdicts": verdicts,
    }
    write_json(data, args.output_dir / "evidence.json")
    print(f"elapsed {elapsed:.1f} s; wrote {args.output_dir}", file=sys.stderr)
    return data


if __name__ == "__main__":
    main()
