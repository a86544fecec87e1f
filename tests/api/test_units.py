"""Pure parts of the service: keys, settings, plan changes."""

from __future__ import annotations

import pytest

from api.changes import apply_roster_change, apply_scenario, compare_kpis, scale_visits
from api.config import Settings
from api.models import RosterChange, ScenarioChanges
from api.security import Principal, check_role, hash_secret, new_key, secret_matches, split_key
from tests.helpers import client, plan_dict, visit, worker


def test_units_keys_are_random_and_only_their_hash_is_kept():
    """Two keys differ; the stored hash verifies the secret and nothing else."""
    key_id, key, stored = new_key()
    other = new_key()
    assert key != other[1] and key.startswith(f"hc_{key_id}_")
    assert split_key(key) == (key_id, key.split("_", 2)[2])
    secret = split_key(key)[1]
    assert stored == hash_secret(secret) and secret_matches(secret, stored)
    assert not secret_matches(secret + "x", stored)
    assert split_key("hc_short_x") is None and split_key("Bearer x") is None


def test_units_roles():
    """Roles parse into kind and subject; invalid roles are refused."""
    assert Principal("k", "n", "provider:care-1").subject == "care-1"
    assert Principal("k", "n", "coordinator").kind == "coordinator"
    for role in ("coordinator", "planner", "provider:a", "worker:care-1:w-1"):
        assert check_role(role) == role
    for role in ("admin", "provider", "worker:", "planner:x", "worker:a:", "worker:a:b:c", "provider:a b"):
        with pytest.raises(ValueError, match="is not one of"):
            check_role(role)
    worker = Principal("k", "n", "worker:agency-x:w1")
    assert (worker.kind, worker.provider_id, worker.worker_id) == ("worker", "agency-x", "w1")
    # The old form names no provider: refused, saying which form to use.
    with pytest.raises(ValueError, match=r"worker:<provider id>:w1"):
        check_role("worker:w1")
    with pytest.raises(ValueError, match="at most 200"):
        check_role("provider:" + "p" * 195)


def test_units_front_door_roles():
    """frontdoor and resident:<client id> are roles; a resident names one client and no provider or worker."""
    for role in ("frontdoor", "resident:c005"):
        assert check_role(role) == role
    resident = Principal("k", "n", "resident:c005")
    assert (resident.kind, resident.client_id, resident.provider_id, resident.worker_id) == (
        "resident", "c005", None, None)
    assert Principal("k", "n", "frontdoor").client_id is None
    for role in ("resident", "resident:", "resident:a:b", "resident:a b", "frontdoor:x"):
        with pytest.raises(ValueError, match="is not one of"):
            check_role(role)


def test_units_settings_from_environment(monkeypatch, tmp_path):
    """HOMECARE_* variables set the settings; the SQLite path is the default database."""
    monkeypatch.setenv("HOMECARE_DB_PATH", str(tmp_path / "x.db"))
    monkeypatch.setenv("HOMECARE_SOLVE_WORKERS", "2")
    settings = Settings()
    assert settings.url == f"sqlite:///{tmp_path / 'x.db'}" and settings.solve_workers == 2
    monkeypatch.setenv("HOMECARE_DATABASE_URL", "postgresql+psycopg://u:p@db/homecare")
    assert Settings().url == "postgresql+psycopg://u:p@db/homecare"
    with pytest.raises(ValueError, match="exceeds max_time_limit_s"):
        Settings(default_time_limit_s=100, max_time_limit_s=10)


def test_units_scale_visits_is_seeded_and_keeps_ids_unique():
    """Scaling down keeps a seeded sample in order; scaling up adds ~N copies with fresh ids."""
    visits = [visit(f"v{i}") for i in range(10)]
    down = scale_visits(visits, 0.5, seed=1)
    assert len(down) == 5 and down == scale_visits(visits, 0.5, seed=1)
    assert [v["id"] for v in down] == sorted((v["id"] for v in down), key=lambda s: int(s[1:]))
    up = scale_visits(visits, 1.5, seed=1)
    ids = [v["id"] for v in up]
    assert len(up) == 15 and len(set(ids)) == 15 and all("~" in i for i in ids[10:])
    assert scale_visits(visits, 1.0) is visits


def test_units_removing_a_worker_removes_references_to_them():
    """A worker taken off is dropped from client preferences and exclusions too."""
    data = plan_dict(workers=[worker("w1"), worker("w2")],
                     clients=[client("c1", preferred_worker_ids=["w2"], excluded_worker_ids=["w2", "w1"])])
    changed, problems = apply_roster_change(data, RosterChange(remove_workers=["w2"]))
    assert problems == []
    assert [w["id"] for w in changed["workers"]] == ["w1"]
    assert changed["clients"][0]["preferred_worker_ids"] == []
    assert changed["clients"][0]["excluded_worker_ids"] == ["w1"]
    assert [w["id"] for w in data["workers"]] == ["w1", "w2"]  # the original is untouched
    scenario, problems = apply_scenario(data, ScenarioChanges(remove_workers=["w2", "w7"], travel_mode="cycle"))
    assert [p.record_id for p in problems] == ["w7"]
    assert {w["travel_mode"] for w in scenario["workers"]} == {"cycle"}


def test_units_compare_kpis_gives_changes():
    """The comparison subtracts base from scenario, rounding shares."""
    rows = {r.kpi: r for r in compare_kpis({"assigned": 5, "travel_share": 0.1},
                                           {"assigned": 7, "travel_share": 0.25})}
    assert rows["assigned"].change == 2 and rows["travel_share"].change == 0.15
    assert rows["travel_s"].change is None


def test_units_removing_a_worker_drops_their_history():
    """Continuity history of a worker taken off goes too (it would name an unknown worker)."""
    data = plan_dict(workers=[worker("w1"), worker("w2")],
                     history=[{"client_id": "c1", "worker_id": "w2", "visits": 3},
                              {"client_id": "c1", "worker_id": "w1", "visits": 2}])
    changed, _ = apply_roster_change(data, RosterChange(remove_workers=["w2"]))
    assert changed["history"] == [{"client_id": "c1", "worker_id": "w1", "visits": 2}]
