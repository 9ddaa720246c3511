"""What is followed: series, authors (R18) and tracker categories (R19).

A person's choice always wins and is kept as theirs (`follow_set_by = "person"`), with its
policy: for an author everything or only books released since the follow, a language
(None: the person's, COMPLETION_LANGUAGE), audiobook editions only, unabridged only. What
they never chose follows FOLLOW_LIBRARY_BY_DEFAULT: every series (and, with `all`, every
author) with a book in the library is followed, and stops being followed again when the
setting changes, unless a person chose. An author followed that way gets their new books
only: the library holds one of their books, not a wish for their whole backlist.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from mamcrawler.domain.bibliography import Scope, SubjectKind
from mamcrawler.domain.completion import CompletionPolicy
from mamcrawler.store.models import Author, BookAuthor, BookSeries, CategorySetting, Series

PERSON, DEFAULT = "person", "default"
MODELS = {SubjectKind.SERIES: (Series, BookSeries.series_id),
          SubjectKind.AUTHOR: (Author, BookAuthor.author_id)}


class FollowNotFound(LookupError):
    """No series, author or category has this id."""


@dataclass(frozen=True)
class FollowChoice:
    """A person's policy for one follow; None leaves a setting as it is (new follows:
    everything, the person's language, audiobook and unabridged editions only)."""

    scope: Scope | None = None
    language: str | None = None  # "" goes back to the person's language
    audiobook_only: bool | None = None
    unabridged_only: bool | None = None


@dataclass(frozen=True)
class FollowResult:
    kind: str
    id: int
    name: str
    followed: bool
    created: bool = False
    scope: str = Scope.ALL
    followed_at: datetime | None = None
    language: str | None = None
    audiobook_only: bool = True
    unabridged_only: bool = True


def apply_default_follows(session: Session, policy: CompletionPolicy,
                          now: datetime | None = None) -> int:
    """Set `followed` of every series and author with a book in the library that no
    person decided on, as the policy says; returns how many changed. Authors followed
    this way get their new books only."""
    now = now or datetime.now(UTC)
    changed = 0
    for kind, (model, link) in MODELS.items():
        want = policy.follows_by_default(kind)
        values: dict = {"followed": want, "follow_set_by": DEFAULT}
        if want:
            values["followed_at"] = now
            if kind is SubjectKind.AUTHOR:
                values["follow_scope"] = Scope.NEW.value
        result = session.execute(
            update(model)
            .where(or_(model.follow_set_by.is_(None), model.follow_set_by == DEFAULT),
                   model.followed != want, model.id.in_(select(link)))
            .values(**values)
            .execution_options(synchronize_session=False))
        changed += result.rowcount or 0
    return changed


def set_follow(session: Session, kind: SubjectKind, followed: bool, *, name: str | None = None,
               item_id: int | None = None, choice: FollowChoice | None = None,
               now: datetime | None = None) -> FollowResult:
    """A person follows (or stops following) a series or author, found by id or by name
    (any case), with the policy in `choice`. Following a name the library does not know
    yet adds it, so its books are looked for; stopping to follow an unknown name is
    refused. A new follow's date is now: an author followed for new books gets those
    released from now on."""
    model, _ = MODELS[kind]
    row, created = find_subject(session, model, name, item_id), False
    if row is None:
        if item_id is not None or not followed or not (name or "").strip():
            raise FollowNotFound(f"{kind} {item_id if item_id is not None else name!r}")
        row, created = model(name=name.strip()), True
        session.add(row)
    choice = choice or FollowChoice()
    if followed and (not row.followed or row.followed_at is None):
        row.followed_at = now or datetime.now(UTC)
    if row.follow_set_by != PERSON and choice.scope is None:
        choice = replace(choice, scope=Scope.ALL)  # the default's "new books only" is not theirs
    row.followed, row.follow_set_by = followed, PERSON
    apply_choice(row, kind, choice)
    session.flush()
    return result_of(row, kind, created)


def apply_choice(row: Series | Author, kind: SubjectKind, choice: FollowChoice) -> None:
    if choice.scope is not None:
        if kind is SubjectKind.SERIES and choice.scope is Scope.NEW:
            raise ValueError("a series follow looks for every missing position; "
                             "'new books only' is for authors")
        row.follow_scope = choice.scope.value
    if choice.language is not None:
        row.follow_language = choice.language.strip() or None
    if choice.audiobook_only is not None:
        row.audiobook_only = choice.audiobook_only
    if choice.unabridged_only is not None:
        row.unabridged_only = choice.unabridged_only


def result_of(row: Series | Author, kind: SubjectKind, created: bool = False) -> FollowResult:
    return FollowResult(str(kind), row.id, row.name, row.followed, created,
                        row.follow_scope or Scope.ALL.value, row.followed_at,
                        row.follow_language, row.audiobook_only is not False,
                        row.unabridged_only is not False)


def mark_person_choice(row: Series | Author) -> None:
    """Called when a person set `followed` through the API: it is theirs from now on."""
    row.follow_set_by = PERSON
    if row.followed and row.followed_at is None:
        row.followed_at = datetime.now(UTC)


def find_subject(session: Session, model, name: str | None, item_id: int | None):
    """The series or author by id, else by name in any case (None when there is none)."""
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
