"""Old quotes are deleted: a day after their offers expire, at most once an hour per server process.

A quote is one ``quotes`` row (``api.frontdoor.store_offers``); without this the table grew by a
row a quote for ever. A booked offer keeps its own ``offers`` row.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from api import frontdoor
from api.db import Database, migrate
from api.models import QuoteRecord, utcnow
from api.security import Principal
from scheduler.offers import Quote
from tests.api.support import fresh_database_url

WHO = Principal("k1", "test", "frontdoor")


def _quote(db: Database, quote_id: str, expired_ago: dt.timedelta) -> None:
    at = utcnow() - expired_ago
    with db.write() as session:
        session.add(QuoteRecord(id=quote_id, client_id="c1", request={"kind": "care"}, offers=[], created_at=at,
                                expires_at=at, created_by=None))


def _ids(db: Database) -> set[str]:
    with db.session() as session:
        return set(session.scalars(select(QuoteRecord.id)))


def _store(db: Database) -> None:
    frontdoor.store_offers(db=db, quoted=frontdoor.Quoted(Quote(()), ()), data={}, client_id=None, who=WHO)


def test_quotes_a_day_past_their_expiry_are_deleted_once_an_hour(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The first quote stored deletes quotes expired over a day ago and keeps the rest.

    Within the hour no second delete runs; an hour later it does.
    """
    db = Database(fresh_database_url(tmp_path / "h.db"))  # PostgreSQL too, with HOMECARE_TEST_DATABASE_URL
    migrate(db)
    _quote(db, "of_old", dt.timedelta(days=2))
    _quote(db, "of_recent", dt.timedelta(hours=3))  # expired, but within the day it is kept
    _quote(db, "of_live", -dt.timedelta(minutes=30))
    _store(db)
    assert _ids(db) == {"of_recent", "of_live"}
    _quote(db, "of_old_2", dt.timedelta(days=3))
    _store(db)  # within the hour: not again
    assert "of_old_2" in _ids(db)
    later = utcnow() + frontdoor.PURGE_EVERY + dt.timedelta(seconds=1)
    monkeypatch.setattr(frontdoor, "utcnow", lambda: later)
    _store(db)
    assert _ids(db) == {"of_recent", "of_live"}
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(QuoteRecord)) == 2
    db.dispose()
