"""Coverage of planned distributions by their sources, and the transfers suggested for a gap."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import event, func, select

from logistics.extensions import db
from logistics.models import NeedsChange
from logistics.services import changes, coverage, distributions, ledger
from tests import factories

PARIS = ZoneInfo("Europe/Paris")


def evening(world, days_ahead: int = 1, at: time = time(18, 0)) -> datetime:
    """Return a local evening some days from now, as an aware datetime."""
    day = distributions.local_today(world.org_id) + timedelta(days=days_ahead)
    return datetime.combine(day, at, tzinfo=PARIS)


def plan(world, starts_at: datetime, lines: dict[str, int], source: str = "main") -> int:
    """Schedule a one-off distribution at the point; commit; return its id."""
    made = distributions.create_one_off(
        world.org_id,
        site_id=world.sites["point"],
        source_site_id=world.sites[source],
        starts_at=starts_at,
        lines=[(world.items[key], quantity) for key, quantity in lines.items()],
    )
    db.session.commit()
    return made.id


def test_calais_east_short_of_20_blankets_suggests_20_from_grande_synthe(world):
    factories.receive(world, "main", "blanket", 20)
    factories.receive(world, "gs_store", "blanket", 86)
    starts = evening(world)
    distribution_id = plan(world, starts, {"blanket": 40})

    shortages = coverage.distribution_shortages(world.org_id, now=starts - timedelta(hours=9))

    assert [s.distribution_id for s in shortages] == [distribution_id]
    (line,) = shortages[0].lines
    assert (line.source_site, line.planned, line.available, line.missing) == (
        "Main warehouse",
        40,
        20,
        20,
    )
    assert line.held_elsewhere == [(world.sites["gs_store"], "Grande-Synthe store", 86)]
    (move,) = line.transfers
    assert (move.quantity, move.from_site, move.to_site, move.before) == (
        20,
        "Grande-Synthe store",
        "Main warehouse",
        starts,
    )
    figures = shortages[0].figures()
    assert figures["lines"][0]["transfers"][0]["from_site_id"] == world.sites["gs_store"]


def test_making_the_suggested_transfer_covers_the_distribution(world):
    factories.receive(world, "main", "blanket", 20)
    factories.receive(world, "gs_store", "blanket", 86)
    starts = evening(world)
    plan(world, starts, {"blanket": 40})
    ledger.transfer(
        world.org_id,
        None,
        from_site_id=world.sites["gs_store"],
        to_site_id=world.sites["main"],
        item_id=world.items["blanket"],
        quantity=20,
    )
    db.session.commit()

    assert coverage.distribution_shortages(world.org_id, now=starts - timedelta(hours=8)) == []


def test_earlier_distributions_draw_first_and_units_are_never_suggested_twice(world):
    factories.receive(world, "main", "blanket", 30)
    factories.receive(world, "gs_store", "blanket", 25)
    first = evening(world, at=time(12, 0))
    second = evening(world, at=time(18, 0))
    plan(world, first, {"blanket": 30})
    second_id = plan(world, second, {"blanket": 40})

    shortages = coverage.distribution_shortages(world.org_id, now=first - timedelta(hours=2))

    # The midday one takes all 30: the evening one misses 40, and only 25 exist elsewhere.
    assert [s.distribution_id for s in shortages] == [second_id]
    (line,) = shortages[0].lines
    assert (line.available, line.missing) == (0, 40)
    assert [(t.from_site, t.quantity) for t in line.transfers] == [("Grande-Synthe store", 25)]


def test_spare_stock_leaves_what_a_site_needs_for_its_own_distributions(world):
    factories.receive(world, "main", "water", 100)
    factories.receive(world, "gs_store", "water", 150)
    starts = evening(world)
    plan(world, starts, {"water": 120}, source="gs_store")
    short_id = plan(world, starts + timedelta(minutes=30), {"water": 160})

    (shortage,) = coverage.distribution_shortages(world.org_id, now=starts - timedelta(hours=3))

    assert shortage.distribution_id == short_id
    (line,) = shortage.lines
    # Grande-Synthe holds 150 but gives 120 itself the same evening: 30 to spare.
    assert line.held_elsewhere == [(world.sites["gs_store"], "Grande-Synthe store", 30)]
    assert line.missing == 60 and sum(t.quantity for t in line.transfers) == 30


def test_only_the_next_48_hours_and_only_what_is_still_to_come_are_alerted(world):
    factories.receive(world, "main", "tent", 5)
    now = evening(world, at=time(9, 0))
    plan(world, now - timedelta(hours=1), {"tent": 5})  # this morning, not yet recorded
    later_id = plan(world, now + timedelta(hours=9), {"tent": 3})
    plan(world, now + timedelta(hours=60), {"tent": 50})  # beyond 48 h

    shortages = coverage.distribution_shortages(world.org_id, now=now)

    # The morning one still takes its 5 tents, so the evening one is short; 60 h ahead is not.
    assert [(s.distribution_id, s.missing) for s in shortages] == [(later_id, 3)]


def test_an_organisation_never_sees_another_organisations_stock(world, other_world):
    factories.receive(other_world, "gs_store", "blanket", 500)
    starts = evening(world)
    plan(world, starts, {"blanket": 10})

    (shortage,) = coverage.distribution_shortages(world.org_id, now=starts - timedelta(hours=5))

    assert shortage.lines[0].held_elsewhere == [] and shortage.lines[0].transfers == []


def test_drawing_the_agenda_reads_stock_in_one_query_whatever_its_length(world):
    factories.receive(world, "main", "blanket", 1000)
    first = evening(world)
    ids = [plan(world, first + timedelta(days=n), {"blanket": 5, "tent": 1}) for n in range(12)]

    def statements_for(count: int) -> int:
        rows = distributions.distributions_between(
            world.org_id, first.date(), (first + timedelta(days=count)).date()
        )
        seen: list[str] = []

        def note(*args) -> None:
            seen.append(args[2])

        # Lines, items and sites are loaded before counting: only the drawing is measured.
        loaded = [(line.item, line.source_site) for d in rows for line in d.lines]
        assert len(loaded) == 2 * len(rows)
        event.listen(db.engine, "before_cursor_execute", note)
        try:
            coverage.draw_on_sources(rows)
        finally:
            event.remove(db.engine, "before_cursor_execute", note)
        return len(seen)

    assert len(ids) == 12
    assert statements_for(2) == statements_for(11) == 1


def test_a_write_marks_its_organisation_once_per_transaction(world, other_world):
    db.session.execute(NeedsChange.__table__.delete())
    db.session.commit()
    factories.receive(world, "main", "blanket", 20)
    ledger.transfer(
        world.org_id,
        None,
        from_site_id=world.sites["main"],
        to_site_id=world.sites["gs_store"],
        item_id=world.items["blanket"],
        quantity=5,
    )
    ledger.receive(
        world.org_id, None, site_id=world.sites["main"], item_id=world.items["tent"], quantity=3
    )
    db.session.commit()

    marks = db.session.execute(
        select(NeedsChange.organisation_id, func.count()).group_by(NeedsChange.organisation_id)
    ).all()
    # Two transactions of this organisation; none of the other.
    assert marks == [(world.org_id, 2)]


def test_a_rolled_back_write_leaves_no_mark(world):
    db.session.execute(NeedsChange.__table__.delete())
    db.session.commit()
    ledger.receive(
        world.org_id, None, site_id=world.sites["main"], item_id=world.items["tent"], quantity=3
    )
    db.session.rollback()
    assert db.session.scalar(select(func.count(NeedsChange.id))) == 0


def test_marks_are_due_after_a_quiet_spell_or_after_waiting_too_long(world):
    db.session.execute(NeedsChange.__table__.delete())
    db.session.commit()
    factories.receive(world, "main", "blanket", 20)
    newest = db.session.scalar(select(func.max(NeedsChange.id)))
    at = db.session.scalar(select(func.max(NeedsChange.at)))

    assert changes.due(at + changes.QUIET / 2) == {}
    assert changes.due(at + changes.QUIET) == {world.org_id: [newest]}

    # A write every few seconds never lets it settle; the oldest mark makes it due anyway.
    db.session.add(NeedsChange(organisation_id=world.org_id, at=at + changes.LONGEST))
    db.session.commit()
    read = changes.due(at + changes.LONGEST)[world.org_id]
    assert len(read) == 2

    # A mark that commits after the read, whatever its id, stays for the next turn.
    late = NeedsChange(organisation_id=world.org_id, at=at + changes.LONGEST)
    db.session.add(late)
    db.session.commit()
    changes.forget(world.org_id, read)
    db.session.commit()
    assert db.session.scalars(select(NeedsChange.id)).all() == [late.id]
