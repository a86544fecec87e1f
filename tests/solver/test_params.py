"""Search parameters: bad values are refused with the field named."""

from __future__ import annotations

import pytest

from scheduler.errors import ConfigError
from solver.params import SolveParams


@pytest.mark.parametrize(("field", "value"), [("ils_acceptance", "RANDOM"), ("ruin", "SHRED"), ("ruin_visits", 0)])
def test_iterated_local_search_params_are_checked(field, value):
    """Out-of-range ILS settings are refused, and the message names the field and the bad value."""
    with pytest.raises(ConfigError, match=f"{field}.*{value}"):
        SolveParams(**{field: value})


@pytest.mark.parametrize("limit", [float("inf"), 1e300, float("nan"), 0.0, -5.0, 86_401.0])
def test_time_limit_must_be_a_finite_day_at_most(limit):
    """An infinite, huge or non-positive time limit is a ConfigError naming the field (not an OverflowError)."""
    with pytest.raises(ConfigError, match="time_limit_s must be a number of seconds"):
        SolveParams(time_limit_s=limit)


def test_time_limit_of_a_day_is_accepted():
    """The ceiling itself is allowed: long searches stay possible for whoever asks for them."""
    assert SolveParams(time_limit_s=86_400.0).time_limit_s == 86_400.0


@pytest.mark.parametrize(("text", "message"), [
    ('time_limit_s = "abc"\n', "time_limit_s must be a number, got 'abc'"),
    ("seed = 1.5\n", "seed must be a whole number, got 1.5"),
    ("processes = true\n", "processes must be a whole number, got True"),
    ("extra_operators = 5\n", "extra_operators must be a list of strings, got 5"),
    ("iterated_local_search = 1\n", "iterated_local_search must be true or false, got 1"),
    ("[solve]\nmetaheuristic = 3\n", "metaheuristic must be a string, got 3"),
    ("time_limit_s = [\n", "not valid TOML"),
    ("solve = 3\n", "[solve] must be a table"),
])
def test_from_toml_wrong_types_and_broken_files_are_config_errors(tmp_path, text, message):
    """A wrong type or broken TOML is a ConfigError naming the file and the field, never a TypeError."""
    path = tmp_path / "solve.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        SolveParams.from_toml(path)
    assert str(path) in str(info.value) and message in str(info.value)


def test_from_toml_lists_every_problem_at_once(tmp_path):
    """Several bad keys are reported together, with the unknown ones."""
    path = tmp_path / "solve.toml"
    path.write_text('time_limit_s = "x"\nseed = "y"\nspeed = 3\n')
    with pytest.raises(ConfigError) as info:
        SolveParams.from_toml(path)
    text = str(info.value)
    assert "time_limit_s must be a number" in text and "seed must be a whole number" in text
    assert "unknown solve parameter speed" in text  # one: singular
    path.write_text("speed = 3\npace = 2\n")
    with pytest.raises(ConfigError, match="unknown solve parameters pace, speed"):
        SolveParams.from_toml(path)


def test_from_toml_reads_good_values(tmp_path):
    """Whole numbers are taken for float fields, lists for operator tuples."""
    path = tmp_path / "solve.toml"
    path.write_text('[solve]\ntime_limit_s = 60\nextra_operators = ["use_two_opt"]\nsnap_limit_m = 500.5\n')
    params = SolveParams.from_toml(path)
    assert (params.time_limit_s, params.extra_operators, params.snap_limit_m) == (60, ("use_two_opt",), 500.5)


def test_from_dict_checks_json_values_as_the_toml_loader_does():
    """A job's JSON settings: the same checks, every problem at once, null for a field that may be None."""
    with pytest.raises(ConfigError) as info:
        SolveParams.from_dict({"continuity_weight_s": 1.5, "speed": 3})
    text = str(info.value)
    assert "continuity_weight_s must be a whole number" in text and "unknown solve parameter speed" in text
    assert not text.startswith(":")
    params = SolveParams.from_dict({"decompose_share": None, "extra_operators": ["use_two_opt"], "gls_lambda": 1})
    assert (params.decompose_share, params.extra_operators, params.gls_lambda) == (None, ("use_two_opt",), 1)
    assert params.changed() == {"extra_operators": ["use_two_opt"], "gls_lambda": 1}
    assert SolveParams.from_dict(params.changed()) == params
