"""The audit log: who read which client's data, and who changed what."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api import crud
from api.deps import Coordinator, DatabaseDep, Offset, SessionDep
from api.models import AuditPublic
from api.public import audit_entry

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", summary="Read the audit log, newest first")
def read_audit(session: SessionDep, db: DatabaseDep, who: Coordinator, client_id: str | None = None, key_id: str | None = None,
               limit: Annotated[int, Query(ge=1, le=1000)] = 100,
               offset: Offset = 0) -> AuditPublic:
    """Return audit rows: one per client whose data a request returned, one per other action.

    Reading the log is logged too (``read_audit``, with the filters used).
    """
    rows, count = crud.list_audit(session=session, client_id=client_id, key_id=key_id, limit=limit, offset=offset)
    filters = [f"{name}={value}" for name, value in (("client_id", client_id), ("key_id", key_id)) if value is not None]
    crud.audit(db=db, who=who, action="read_audit", resource=" ".join(["audit", *filters]))
    return AuditPublic(data=[audit_entry(r) for r in rows], count=count)
