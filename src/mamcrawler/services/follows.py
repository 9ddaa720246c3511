"""What is followed: series, authors (R18) and tracker categories (R19).

A person's choice always wins and is kept as theirs (`follow_set_by = "person"`). What
they never chose follows FOLLOW_LIBRARY_BY_DEFAULT: every series (or series and author)
with a book in the library is followed, and stops being followed again when the setting
changes, unless a person chose.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from mamcrawler.domain.bibliography import SubjectKind
from mamcrawler.domain.completion import CompletionPolicy
from mamcrawler.store.models import Author, BookAuthor, BookSeries, CategorySetting, Series

PERSON, DEFAULT = "person", "default"
MODELS = {SubjectKind.SERIES: (Series, BookSeries.series_id),
          SubjectKind.AUTHOR: (Author, BookAuthor.author_id)}


class FollowNotFound(LookupError):
    """No series, author or category has this id."""


@dataclass(frozen=True)
class FollowResult:
    kind: str
    id: int
    name: str
    followed: bool
    created: bool = False


def apply_default_follows(session: Session, policy: CompletionPolicy) -> int:
    """Set `followed` of every series and author with a book in the library that no
    person decided on, as the policy says; returns how many changed."""
    changed = 0
    for kind, (model, link) in MODELS.items():
        want = policy.follows_by_default(kind)
        result = session.execute(
            update(model)
            .where(or_(model.follow_set_by.is_(None), model.follow_set_by == DEFAULT),
                   model.followed != want, model.id.in_(select(link)))
            .values(followed=want, follow_set_by=DEFAULT)
            .execution_options(synchronize_session=False))
        changed += result.rowcount or 0
    return changed


def set_follow(session: Session, kind: SubjectKind, followed: bool, *, name: str | None = None,
               item_id: int | None = None) -> FollowResult:
    """A person follows (or stops following) a series or author, found by id or by name
    (any case). Following a name the library does not know yet adds it, so its books are
    looked for; stopping to follow an unknown name is refused."""
    model, _ = MODELS[kind]
    row, created = _find(session, model, name, item_id), False
    if row is None:
        if item_id is not None or not followed or not (name or "").strip():
            raise FollowNotFound(f"{kind} {item_id if item_id is not None else name!r}")
        row, created = model(name=name.strip()), True
        session.add(row)
    row.followed, row.follow_set_by = followed, PERSON
    session.flush()
    return FollowResult(str(kind), row.id, row.name, followed, created)


def mark_person_choice(row: Series | Author) -> None:
    """Called when a person set `followed` through the API: it is theirs from now on."""
    row.follow_set_by = PERSON


def _find(session: Session, model, name: str | None, item_id: int | None):
    if item_id is not None:
        return session.get(model, item_id)
    wanted = (name or "").strip().casefold()
    found = session.scalar(select(model).where(func.lower(model.name) == wanted).limit(1))
    if found is not None:
        return found
    # SQLite's lower() folds ASCII only: compare the few hundred names here instead.
    return next((r for r in session.scalars(select(model)) if r.name.casefold() == wanted),
                None)


def set_category_follow(session: Session, category_id: int, followed: bool) -> CategorySetting:
    row = session.get(CategorySetting, category_id)
    if row is None:
        raise FollowNotFound(f"category {category_id}")
    row.followed = followed
    return row


def followed_categories(session: Session) -> list[CategorySetting]:
    return list(session.scalars(select(CategorySetting).where(CategorySetting.followed)
                                .order_by(CategorySetting.category_id)))
