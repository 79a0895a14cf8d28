"""Hand-off records: summaries of sessions, kept in SQLite and deleted after the retention period."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from voice_triage.core.content import answer_words
from voice_triage.core.dialogue import Command, Dialogue, Heard
from voice_triage.core.locale import Locale
from voice_triage.core.summary import Answer, CauseEntry, Summary, summarize
from voice_triage.kiosk.records import RecordStore

NOW = datetime(2025, 3, 14, 15, 0, tzinfo=UTC)
SECRET = "my secret answer words"


def make(
    at: datetime,
    *,
    level: str = "routine",
    outcome: str = "finished",
    kiosk: str = "Kiosk A",
    red_flags: tuple[str, ...] = (),
    words: str = "yes",
) -> Summary:
    return Summary(
        kiosk=kiosk,
        finished_at=at,
        locale="en",
        level=level,
        red_flags=red_flags,
        causes=(CauseEntry("hip_flexor_strain", "a strained hip flexor muscle", 1.5),),
        because=("Because you said yes when asked about sport or heavy use.",),
        answers=(
            Answer("Is there numbness?", words, "saddle_numbness", "yes"),
            Answer("How bad is the pain?", "6", "pain_score", 6),
            Answer("How long?", "2.5 days", "duration_days", 2.5),
        ),
        outcome=outcome,
    )


def emergency(at: datetime) -> Summary:
    return make(at, level="emergency", outcome="emergency", red_flags=("saddle_numbness",))


@pytest.fixture
def store() -> RecordStore:
    return RecordStore(":memory:", clock=lambda: NOW)


# ------------------------------------------------------------- summarize


def test_summarize_a_real_session_in_plain_words(locale: Locale) -> None:
    dialogue = Dialogue(locale.content, locale.grammar)
    dialogue.start()
    script = {"fever_chills": "i don't know", "pain_score": "six", "duration_days": "two weeks"}
    while not dialogue.finished:
        assert dialogue.current is not None
        dialogue.handle(Heard(script.get(dialogue.current.id, "no")))
    summary = summarize(dialogue, locale.content, "Ward 3 kiosk", NOW)

    assert summary.outcome == "finished" and summary.kiosk == "Ward 3 kiosk" and summary.locale == "en"
    assert dialogue.result is not None and summary.level == dialogue.result.level
    assert summary.finished_at == NOW and summary.finished_at.tzinfo is UTC
    assert summary.red_flags == ()
    words = {answer.fact: answer.words for answer in summary.answers}
    assert words["bladder_bowel_control_loss"] == "no"
    assert words["fever_chills"] == "I don't know"
    assert words["pain_score"] == "6"
    assert [answer.fact for answer in summary.answers] == list(dialogue.answers)
    first = locale.content.question("bladder_bowel_control_loss")
    assert summary.answers[0] == (first.text, "no", first.id, "no")
    # the three most likely causes, by their plain names
    assert len(summary.causes) == 3
    names = {cause.id: cause.name for cause in locale.content.causes}
    assert [c.name for c in summary.causes] == [names[c.id] for c in summary.causes]
    assert [c.id for c in summary.causes] == list(dialogue.result.top(3))


def test_summarize_an_emergency_and_a_stopped_session(locale: Locale) -> None:
    dialogue = Dialogue(locale.content, locale.grammar)
    dialogue.start()
    dialogue.handle(Heard("yes"))  # lost bladder control: a red flag
    summary = summarize(dialogue, locale.content, "k", NOW)
    assert summary.outcome == "emergency" and summary.level == "emergency" and summary.emergency
    assert summary.red_flags == ("bladder_bowel_control_loss",)

    dialogue.start()
    dialogue.handle(Heard("no"))
    dialogue.handle(Command("stop"))
    stopped = summarize(dialogue, locale.content, "k", NOW)
    assert stopped.outcome == "stopped" and not stopped.emergency
    assert [a.fact for a in stopped.answers] == ["bladder_bowel_control_loss"]


def test_answer_words_for_numbers_and_units(locale: Locale) -> None:
    content = locale.content
    assert answer_words(content.question("duration_days"), 14, content) == "14 days"
    assert answer_words(content.question("duration_days"), 1, content) == "1 day"
    assert answer_words(content.question("duration_days"), 0.5, content) == "0.5 days"
    assert answer_words(content.question("age"), 52, content) == "52 years"
    assert answer_words(content.question("pain_score"), 10, content) == "10"
    assert answer_words(content.question("side"), "both", content) == "both"
    assert answer_words(content.question("age"), "unknown", content) == "I don't know"


def test_summary_needs_an_aware_time_and_is_kept_in_utc() -> None:
    with pytest.raises(ValueError):
        make(datetime(2025, 3, 14, 15, 0))
    with pytest.raises(ValueError):
        make(NOW, outcome="lost")
    local = datetime(2025, 3, 14, 17, 0, tzinfo=timezone(timedelta(hours=2)))
    assert make(local).finished_at == NOW and make(local).finished_at.utcoffset() == timedelta(0)


# ----------------------------------------------------------------- store


def test_add_and_get_round_trip(store: RecordStore) -> None:
    summary = make(NOW - timedelta(minutes=5))
    record_id = store.add(summary)
    got = store.get(record_id)
    assert got is not None and got.id == record_id
    assert got == Summary(**{**summary.__dict__, "id": record_id})
    assert isinstance(got.answers[1].value, int) and isinstance(got.answers[2].value, float)
    assert store.get(record_id + 100) is None


def test_today_lists_emergencies_first_then_newest(store: RecordStore) -> None:
    old_routine = store.add(make(NOW - timedelta(hours=3)))
    old_emergency = store.add(emergency(NOW - timedelta(hours=2)))
    new_routine = store.add(make(NOW - timedelta(minutes=10)))
    new_emergency = store.add(emergency(NOW - timedelta(minutes=30)))
    newest = store.add(make(NOW - timedelta(minutes=1), level="urgent"))
    assert [s.id for s in store.today(NOW)] == [new_emergency, old_emergency, newest, new_routine, old_routine]


def test_today_starts_at_midnight_in_the_callers_time_zone(store: RecordStore) -> None:
    yesterday = store.add(make(datetime(2025, 3, 13, 23, 30, tzinfo=UTC)))
    today = store.add(make(datetime(2025, 3, 14, 0, 30, tzinfo=UTC)))
    assert [s.id for s in store.today(NOW)] == [today]
    # at 01:00 in UTC+2 it is still the 14th locally, which began at 22:00 UTC on the 13th
    plus_two = NOW.astimezone(timezone(timedelta(hours=2))).replace(hour=1)
    assert {s.id for s in store.today(plus_two)} == {yesterday, today}
    assert {s.id for s in store.since(NOW - timedelta(hours=20), NOW)} == {yesterday, today}


def test_records_older_than_24_hours_are_purged(store: RecordStore) -> None:
    gone = store.add(make(NOW - timedelta(hours=25)), now=NOW - timedelta(hours=25))
    just_gone = store.add(make(NOW - timedelta(hours=24, seconds=1)), now=NOW - timedelta(hours=24))
    boundary = store.add(make(NOW - timedelta(hours=24)), now=NOW - timedelta(hours=24))
    kept = store.add(make(NOW - timedelta(hours=23)), now=NOW - timedelta(hours=23))
    assert store.count() == 4
    assert store.purge(NOW) == 2
    assert store.get(gone) is None and store.get(just_gone) is None
    assert store.get(boundary) is not None and store.get(kept) is not None
    assert store.purge(NOW) == 0


def test_every_read_and_write_purges_first() -> None:
    clock = [NOW]
    store = RecordStore(":memory:", clock=lambda: clock[0])
    record = store.add(make(NOW))
    clock[0] = NOW + timedelta(hours=24, minutes=1)
    assert store.get(record) is None  # the read purged it
    assert store.count() == 0

    store.add(make(NOW), now=NOW)
    assert store.since(NOW - timedelta(days=3), NOW + timedelta(days=2)) == []
    assert store.count() == 0

    store.add(make(NOW), now=NOW)
    store.add(make(NOW + timedelta(days=2)), now=NOW + timedelta(days=2))  # the write purged the first
    assert store.count() == 1


def test_custom_retention() -> None:
    store = RecordStore(":memory:", retention=timedelta(hours=1), clock=lambda: NOW)
    old = store.add(make(NOW - timedelta(minutes=61)), now=NOW - timedelta(minutes=61))
    recent = store.add(make(NOW - timedelta(minutes=45)), now=NOW - timedelta(minutes=45))
    assert store.get(old) is None and store.get(recent) is not None
    assert store.purge(NOW, timedelta(minutes=30)) == 1  # a one-off shorter retention
    assert store.get(recent) is None
    with pytest.raises(ValueError):
        RecordStore(":memory:", retention=timedelta(0))


def test_a_file_database_persists_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / "data" / "records.sqlite"
    with RecordStore(path, clock=lambda: NOW) as store:
        record = store.add(emergency(NOW - timedelta(minutes=3)))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with RecordStore(str(path), clock=lambda: NOW) as again:
        got = again.get(record)
        assert got is not None and got.level == "emergency" and got.red_flags == ("saddle_numbness",)
        assert [s.id for s in again.today(NOW)] == [record]
    with RecordStore(path, clock=lambda: NOW + timedelta(days=2)) as later:
        assert later.get(record) is None
    with sqlite3.connect(path) as raw:  # gone from the file, not merely hidden
        assert raw.execute("SELECT COUNT(*) FROM records").fetchone() == (0,)


def test_sql_looking_text_is_stored_verbatim(store: RecordStore) -> None:
    nasty = "x'); DROP TABLE records; -- \" OR 1=1; <script>alert(1)</script> ☃"
    summary = make(NOW, kiosk=nasty, words=nasty)
    record = store.add(summary)
    store.add(make(NOW))
    got = store.get(record)
    assert got is not None and got.kiosk == nasty and got.answers[0].words == nasty
    assert len(store.today(NOW)) == 2  # the table is still there
    with pytest.raises(TypeError):
        store.get("1 OR 1=1")  # type: ignore[arg-type]


def test_concurrent_adds_and_reads_from_threads(store: RecordStore) -> None:
    ids: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work(n: int) -> None:
        try:
            barrier.wait()
            for i in range(25):
                ids.append(store.add(make(NOW - timedelta(seconds=n * 100 + i), kiosk=f"k{n}")))
                if i % 5 == 0:
                    store.today(NOW)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(ids)) == 200 and store.count() == 200
    assert len(store.today(NOW)) == 200


def test_logs_never_contain_answers(store: RecordStore, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    store.add(make(NOW - timedelta(hours=30), words=SECRET), now=NOW - timedelta(hours=30))
    record = store.add(make(NOW, words=SECRET, kiosk="Lobby"))
    store.today(NOW)
    store.get(record)
    store.purge(NOW + timedelta(days=1))
    assert caplog.records  # it does log (ids and counts)
    assert SECRET not in caplog.text and "Is there numbness" not in caplog.text


def test_naive_times_are_refused(store: RecordStore) -> None:
    naive = datetime(2025, 3, 14, 15, 0)
    for call in (lambda: store.today(naive), lambda: store.purge(naive), lambda: store.get(1, naive)):
        with pytest.raises(ValueError):
            call()


def test_closed_store_refuses_work() -> None:
    store = RecordStore()
    store.close()
    with pytest.raises(sqlite3.ProgrammingError):
        store.add(make(NOW))
