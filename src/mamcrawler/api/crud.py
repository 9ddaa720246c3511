"""One generic set of CRUD routes, used by every plain resource."""


from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .deps import MAX_ID, DbSession, PageParams
from .envelope import Envelope, NotFound, Page, ok

Id = Annotated[int, Path(ge=1, le=MAX_ID)]


def _no_filters() -> list:
    return []


def crud_router(
    *,
    prefix: str,
    noun: str,
    model: Any,
    out: type[BaseModel],
    create: type[BaseModel] | None = None,
    patch: type[BaseModel] | None = None,
    order_by: Sequence[Any],
    filters: Callable[..., list] = _no_filters,
    build: Callable[[Session, BaseModel], Any] | None = None,  # -> obj or (obj, created)
    apply: Callable[[Session, Any, BaseModel], None] | None = None,
    to_out: Callable[[Any], BaseModel] | None = None,
    eager: Sequence[Any] = (),  # loader options, e.g. selectinload(...) against N+1 queries
    read_only: bool = False,
) -> APIRouter:
    """List/get for `model`, enveloped and paginated; create/patch/delete too unless
    `read_only` (then those methods answer 405: changes go through service commands)."""
    router = APIRouter(prefix=prefix, tags=[noun])
    render = to_out or out.model_validate
    build = build or (lambda session, body: model(**body.model_dump()))
    apply = apply or _apply_fields

    def load(session: Session, item_id: int):
        obj = session.get(model, item_id)
        if obj is None:
            raise NotFound(f"{noun} {item_id}")
        return obj

    @router.get("", response_model=Envelope[Page[out]], summary=f"List {noun}s")
    def list_items(session: DbSession, page: PageParams, where=Depends(filters)):
        total = session.scalar(select(func.count()).select_from(model).where(*where))
        rows = session.scalars(
            select(model).options(*eager).where(*where).order_by(*order_by)
            .limit(page.limit).offset(page.offset)
        ).unique()
        items = [render(r) for r in rows]
        return ok(Page(items=items, total=total or 0, limit=page.limit, offset=page.offset))

    @router.get("/{item_id}", response_model=Envelope[out], summary=f"Get one {noun}")
    def get_item(item_id: Id, session: DbSession):
        return ok(render(load(session, item_id)))

    if read_only:
        return router
    if create is None or patch is None:
        raise ValueError(f"a writable {noun} resource needs create and patch bodies")

    @router.post("", response_model=Envelope[out], status_code=201, summary=f"Create a {noun}")
    def create_item(body: create, session: DbSession, response: Response):  # type: ignore[valid-type]
        # `build` may return (obj, created=False) when it merged into an existing record.
        result = build(session, body)
        obj, created = result if isinstance(result, tuple) else (result, True)
        session.add(obj)
        session.commit()
        if not created:
            response.status_code = 200
        return ok(render(obj))

    @router.patch("/{item_id}", response_model=Envelope[out], summary=f"Change a {noun}")
    def patch_item(item_id: Id, body: patch, session: DbSession):  # type: ignore[valid-type]
        obj = load(session, item_id)
        apply(session, obj, body)
        session.commit()
        return ok(render(obj))

    @router.delete("/{item_id}", response_model=Envelope[dict], summary=f"Delete a {noun}")
    def delete_item(item_id: Id, session: DbSession):
        session.delete(load(session, item_id))
        session.commit()
        return ok({"deleted": item_id})

    return router


def _apply_fields(session: Session, obj: Any, body: BaseModel) -> None:
    for field, value in body.model_dump(exclude_unset=True).items():
        setattr(obj, field, value)
