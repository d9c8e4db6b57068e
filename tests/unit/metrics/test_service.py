"""FCR, repeat contacts, SLAs and waits, CSAT / NPS and the early-warning view, by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics.filters import RetentionFilter
from analytics.metrics.service import (
    EARLY_WARNING_COLUMNS,
    FCR_COLUMNS,
    REPEAT_COLUMNS,
    SATISFACTION_COLUMNS,
    SLA_COLUMNS,
    churn_by_service_histories,
    churn_by_service_history,
    first_contact_resolution,
    repeat_contact_rate,
    satisfaction_trend,
    service_levels,
)
from tests.unit.metrics.conftest import d, dt

JAN_FEB = RetentionFilter(d("2024-01-01"), d("2024-02-29"))
CUSTOMERS = [
    dict(customer_id=1, signup_date=d("2023-01-01")),
    dict(customer_id=2, signup_date=d("2023-01-01"), churn_date=d("2024-02-20")),
    dict(customer_id=3, signup_date=d("2023-01-01"), segment="enterprise"),
    dict(customer_id=4, signup_date=d("2024-02-01")),
    dict(customer_id=5, signup_date=d("2023-01-01"), churn_date=d("2024-01-15")),
    dict(customer_id=6, signup_date=d("2023-06-01"), churn_date=d("2024-03-15")),
]


def _contact(cust, at, channel, subject, kind="service_request", **kw):
    return dict(customer_id=cust, occurred_at=dt(at), channel=channel, subject=subject, kind=kind,
                direction="inbound", **kw)


TOUCHPOINTS = [
    _contact(1, "2023-12-30 10:00", "phone", "technical"),                                   # T9 (look-back)
    _contact(1, "2024-01-02 10:00", "phone", "technical", wait_seconds=30,
             first_contact_resolution=True, resolved=True),                                 # T1 repeat of T9
    _contact(1, "2024-01-05 10:00", "chat", "technical", wait_seconds=200,
             first_contact_resolution=False, resolved=False),                               # T2 repeat of T1
    _contact(1, "2024-01-20 10:00", "phone", "technical", wait_seconds=90,
             first_contact_resolution=True, resolved=True),                                 # T3 15 days later
    _contact(2, "2024-01-10 09:00", "email", "billing", kind="billing_issue", wait_seconds=3600),  # T4 FCR not recorded
    _contact(2, "2024-01-17 09:00", "phone", "billing", kind="billing_issue", wait_seconds=50,
             first_contact_resolution=False, resolved=False),                               # T5 exactly 7 days: repeat
    _contact(2, "2024-01-24 09:01", "phone", "billing", kind="complaint", wait_seconds=61,
             first_contact_resolution=True, resolved=False),                                # T6 7 days + 1 min
    _contact(3, "2024-02-03 10:00", "store", "general", wait_seconds=700,
             first_contact_resolution=True, resolved=True),                                 # T7
    dict(customer_id=3, occurred_at=dt("2024-02-04 10:00"), kind="service_request", channel="phone",
         direction="outbound", subject="general", wait_seconds=5, first_contact_resolution=False),  # outbound: not a contact
    dict(customer_id=1, occurred_at=dt("2024-01-15 12:00"), kind="survey", channel="email", csat=5, nps=10),
    dict(customer_id=2, occurred_at=dt("2024-01-20 12:00"), kind="survey", channel="email", csat=2, nps=3),
    dict(customer_id=3, occurred_at=dt("2024-02-10 12:00"), kind="survey", channel="sms", csat=4, nps=9),
    dict(customer_id=3, occurred_at=dt("2024-02-11 12:00"), kind="survey", channel="sms", csat=4),
    dict(customer_id=3, occurred_at=dt("2024-03-05 12:00"), kind="survey", channel="sms", csat=1, nps=0),  # after
]


@pytest.fixture
def db(make_db):
    return make_db(customers=[dict(c) for c in CUSTOMERS], touchpoints=[dict(t) for t in TOUCHPOINTS])


def _by_month(df, col):
    return dict(zip(df["month"].dt.strftime("%m"), df[col]))


def test_first_contact_resolution(db):
    df = first_contact_resolution(db, JAN_FEB, by_channel=False)
    assert list(df.columns) == list(FCR_COLUMNS)
    # Jan: T1 yes, T2 no, T3 yes, T5 no, T6 yes (T4 not recorded) -> 3/5. Feb: T7 -> 1/1.
    assert _by_month(df, "contacts") == {"01": 5, "02": 1}
    assert _by_month(df, "fcr_rate") == pytest.approx({"01": 0.6, "02": 1.0})
    by_channel = first_contact_resolution(db, JAN_FEB)
    jan_phone = by_channel[(by_channel["channel"] == "phone") & (by_channel["month"].dt.month == 1)].iloc[0]
    assert (jan_phone.contacts, jan_phone.resolved_first_contact) == (4, 3)  # T1 T3 T6 of T1 T3 T5 T6


def test_repeat_contacts(db):
    df = repeat_contact_rate(db, JAN_FEB, by_channel=False)
    assert list(df.columns) == list(REPEAT_COLUMNS)
    # Jan contacts T1..T6 = 6; repeats: T1 (T9 three days before, in December), T2 (T1,
    # other channel), T5 (T4 exactly 7 days before). T3 (15 days) and T6 (7 days 1 min) are not.
    assert _by_month(df, "repeat_contacts") == {"01": 3, "02": 0}
    assert _by_month(df, "repeat_rate") == pytest.approx({"01": 0.5, "02": 0.0})
    phone = repeat_contact_rate(db, RetentionFilter(JAN_FEB.start, JAN_FEB.end, channels=("phone",)), by_channel=False)
    # Phone contacts in Jan: T1 (repeat), T3, T5 (repeat of the e-mail T4), T6 -> 2/4.
    assert _by_month(phone, "repeat_rate") == pytest.approx({"01": 0.5})


def test_service_levels(db):
    df = service_levels(db, JAN_FEB).set_index("channel")
    assert list(service_levels(db, JAN_FEB).columns) == list(SLA_COLUMNS)
    # phone waits 30, 90, 50, 61 vs 60 s -> 2/4; p50 = (50 + 61)/2; p90 at position 2.7 = 61 + 0.7 · 29.
    assert (df.loc["phone", "contacts"], df.loc["phone", "within_sla"]) == (4, 2)
    assert df.loc["phone", "wait_p50_seconds"] == pytest.approx(55.5)
    assert df.loc["phone", "wait_p90_seconds"] == pytest.approx(81.3)
    # chat 200 > 120 s; e-mail 3600 <= 24 h; store 700 > 600 s.
    assert df["sla_attainment"].to_dict() == pytest.approx({"chat": 0.0, "email": 1.0, "phone": 0.5, "store": 0.0})
    custom = service_levels(db, JAN_FEB, thresholds={"phone": 90}).set_index("channel")
    assert custom.loc["phone", "sla_attainment"] == 1.0 and custom.loc["phone", "sla_seconds"] == 90
    monthly = service_levels(db, JAN_FEB, by_month=True)
    assert len(monthly) == 4 and monthly["month"].notna().all()


def test_satisfaction(db):
    df = satisfaction_trend(db, JAN_FEB)
    assert list(df.columns) == list(SATISFACTION_COLUMNS)
    # Jan: CSAT 5, 2 -> mean 3.5, top-2 1/2; NPS 10 (promoter), 3 (detractor) -> 0.
    # Feb: CSAT 4, 4 -> 4.0, top-2 1.0; NPS 9 only -> +100.
    assert _by_month(df, "csat_mean") == pytest.approx({"01": 3.5, "02": 4.0})
    assert _by_month(df, "csat_top2_share") == pytest.approx({"01": 0.5, "02": 1.0})
    assert _by_month(df, "nps") == pytest.approx({"01": 0.0, "02": 100.0})
    assert _by_month(df, "nps_responses") == {"01": 2, "02": 1}


def test_churn_by_service_history(db):
    kw = dict(snapshot=d("2024-01-31"), lookback_days=90, horizon_days=30, max_bucket=3)
    df = churn_by_service_history(db, JAN_FEB, measure="contacts", **kw)
    assert list(df.columns) == list(EARLY_WARNING_COLUMNS)
    # Active on Jan 31: c1, c2, c3, c6 (c4 signs up Feb 1, c5 left Jan 15).
    # Contacts in [Nov 2, Jan 31): c1 T9 T1 T2 T3 = 4 -> "3+"; c2 T4 T5 T6 = 3 -> "3+"; c3, c6 none.
    # Churn in (Jan 31, Mar 1]: c2 (Feb 20); c6 leaves Mar 15, after the horizon.
    assert df[["bucket", "customers", "churned"]].values.tolist() == [["0", 2, 0], ["3+", 2, 1]]
    unresolved = churn_by_service_history(db, JAN_FEB, measure="unresolved", **kw)
    # resolved = false: c1 T2 (1); c2 T5 T6 (2).
    assert unresolved[["bucket", "customers", "churned", "churn_rate"]].values.tolist() == [
        ["0", 2, 0, 0.0], ["1", 1, 0, 0.0], ["2", 1, 1, 1.0],
    ]



def test_early_warning_without_resolution_flags_keeps_the_contact_counts(make_db):
    # The same customers and contacts with no wait, FCR or resolved recorded (an export
    # that lacks those columns): churn by number of contacts needs only the contacts and the
    # churn dates, so it is unchanged — [["0", 2, 0], ["3+", 2, 1]] as worked out in
    # test_churn_by_service_history. "unresolved" has nothing to bucket by and is absent;
    # the old code gave [["0", 4, 1]]: everybody "without an unresolved contact".
    bare = [{k: v for k, v in t.items() if k not in ("wait_seconds", "first_contact_resolution", "resolved")}
            for t in TOUCHPOINTS]
    db = make_db(customers=[dict(c) for c in CUSTOMERS], touchpoints=bare)
    kw = dict(snapshot=d("2024-01-31"), lookback_days=90, horizon_days=30, max_bucket=3)
    both = churn_by_service_histories(db, JAN_FEB, **kw)
    assert both["measure"].unique().tolist() == ["contacts"]
    assert both[["bucket", "customers", "churned"]].values.tolist() == [["0", 2, 0], ["3+", 2, 1]]
    assert churn_by_service_history(db, JAN_FEB, measure="unresolved", **kw).empty

def test_segment_and_empty_selection(db):
    ent = RetentionFilter(JAN_FEB.start, JAN_FEB.end, segments=("enterprise",))
    assert first_contact_resolution(db, ent, by_channel=False)["contacts"].tolist() == [1]  # T7
    nobody = RetentionFilter(JAN_FEB.start, JAN_FEB.end, segments=("none",))
    for df, cols in (
        (first_contact_resolution(db, nobody), FCR_COLUMNS),
        (repeat_contact_rate(db, nobody), REPEAT_COLUMNS),
        (service_levels(db, nobody), SLA_COLUMNS),
        (satisfaction_trend(db, nobody), SATISFACTION_COLUMNS),
        (churn_by_service_history(db, nobody), EARLY_WARNING_COLUMNS),
    ):
        assert df.empty and list(df.columns) == list(cols)
    with pytest.raises(ValueError, match="measure"):
        churn_by_service_history(db, JAN_FEB, measure="calls")


def test_both_early_warning_measures_at_once_equal_each_alone(db, sample_db):
    """The Service & signals page asks for both measures in one query: each measure's rows
    must be exactly its own call's (hand-checked above), here and on the sample."""
    from analytics.metrics.service import churn_by_service_histories

    last_year = RetentionFilter(d("2025-10-01"), d("2026-09-30"))
    cases = [(db, JAN_FEB, {"snapshot": d("2024-01-31"), "lookback_days": 90, "horizon_days": 30, "max_bucket": 3}),
             (sample_db, last_year, {}),
             (sample_db, RetentionFilter(last_year.start, last_year.end, segments=("consumer",), channels=("phone",)), {})]
    for database, flt, kw in cases:
        together = churn_by_service_histories(database, flt, **kw)
        alone = [churn_by_service_history(database, flt, measure=m, **kw) for m in ("contacts", "unresolved")]
        pd.testing.assert_frame_equal(together, pd.concat(alone, ignore_index=True))
        assert together["customers"].sum() > 0


def test_early_warning_buckets_a_customer_once_over_channels(make_db):
    # c1 made one phone and one chat contact in the look-back window; c2 one phone contact.
    # Under phone + chat c1 sits in bucket "2" — not in bucket "1" twice, which summing a
    # per-channel count of customers (a cube over channels) would give. Under phone alone
    # both are in bucket "1".
    db = make_db(
        customers=[dict(customer_id=1, signup_date=d("2023-01-01")),
                   dict(customer_id=2, signup_date=d("2023-01-01"), churn_date=d("2024-02-10"))],
        touchpoints=[_contact(1, "2024-01-05 10:00", "phone", "technical"),
                     _contact(1, "2024-01-20 10:00", "chat", "billing"),
                     _contact(2, "2024-01-07 10:00", "phone", "technical")],
    )
    kw = dict(snapshot=d("2024-01-31"), lookback_days=90, horizon_days=30, max_bucket=3)
    for channels, want in (((), [["1", 1, 1], ["2", 1, 0]]),
                           (("phone", "chat"), [["1", 1, 1], ["2", 1, 0]]),
                           (("phone",), [["1", 2, 1]])):
        flt = RetentionFilter(JAN_FEB.start, JAN_FEB.end, channels=channels)
        df = churn_by_service_history(db, flt, measure="contacts", **kw)
        assert df[["bucket", "customers", "churned"]].values.tolist() == want, channels


def test_service_levels_histogram_is_exact_to_600_s_and_within_half_a_percent_above(make_db):
    """The wait quantiles come from a histogram: exact to the second up to 600 s, 1 %-wide
    bins above. Waits 1000 and 1004 s share a bin: the quantiles between them are within
    0.5 %, but within-SLA against a threshold inside that bin is still exact."""
    db = make_db(
        customers=[dict(customer_id=1, signup_date=d("2023-01-01"), segment="consumer"),
                   dict(customer_id=2, signup_date=d("2023-01-01"), segment="smb")],
        touchpoints=[_contact(1, "2024-01-02 10:00", "phone", "x", wait_seconds=30),
                     _contact(2, "2024-01-03 10:00", "phone", "x", wait_seconds=30),
                     _contact(1, "2024-01-04 10:00", "phone", "x", wait_seconds=61),
                     _contact(2, "2024-01-05 10:00", "phone", "x", wait_seconds=600),
                     _contact(1, "2024-01-02 11:00", "web", "x", wait_seconds=600),
                     _contact(1, "2024-01-03 11:00", "web", "x", wait_seconds=1000),
                     _contact(2, "2024-01-04 11:00", "web", "x", wait_seconds=1004)])
    df = service_levels(db, JAN_FEB, thresholds={"web": 1003}).set_index("channel")
    # phone 30, 30, 61, 600: exact — p50 at 1.5 = (30 + 61)/2, p90 at 2.7 = 61·0.3 + 600·0.7
    assert df.loc["phone", "wait_p50_seconds"] == pytest.approx(45.5, rel=1e-12)
    assert df.loc["phone", "wait_p90_seconds"] == pytest.approx(438.3, rel=1e-12)
    # web 600, 1000, 1004: p50 = 1000 and p90 at 1.8 = 1003.2 exactly; both in one bin, whose
    # geometric midpoint 600·1.01^51.5 − 0.5 = 1001.12 stands for them
    assert df.loc["web", "wait_p50_seconds"] == pytest.approx(1000, rel=0.005)
    assert df.loc["web", "wait_p90_seconds"] == pytest.approx(1003.2, rel=0.005)
    assert df.loc["web", "wait_p50_seconds"] == pytest.approx(600 * 1.01 ** 51.5 - 0.5, rel=1e-12)
    assert (df.loc["web", "contacts"], df.loc["web", "within_sla"]) == (3, 2)  # 600, 1000 <= 1003 < 1004
    smb = service_levels(db, RetentionFilter(JAN_FEB.start, JAN_FEB.end, segments=("smb",))).set_index("channel")
    assert smb.loc["phone", "wait_p50_seconds"] == pytest.approx(315.0, rel=1e-12)  # 30, 600
    assert smb.loc["phone", "contacts"] == 2 and smb.loc["web", "contacts"] == 1


def test_a_contact_without_a_recorded_direction_counts_as_inbound(make_db):
    # a ticket export without a direction column: its complaints are still service contacts;
    # an outbound one is still not
    touchpoints = [
        dict(customer_id=1, occurred_at=dt("2024-01-02 10:00"), kind="complaint", channel="phone",
             direction=None, subject="billing", first_contact_resolution=True, wait_seconds=40),
        dict(customer_id=1, occurred_at=dt("2024-01-04 10:00"), kind="complaint", channel="phone",
             direction=None, subject="billing", first_contact_resolution=False, wait_seconds=80),
        dict(customer_id=3, occurred_at=dt("2024-01-05 10:00"), kind="service_request", channel="phone",
             direction="outbound", subject="general", first_contact_resolution=True, wait_seconds=5),
    ]
    db = make_db(customers=[dict(c) for c in CUSTOMERS], touchpoints=touchpoints)
    fcr = first_contact_resolution(db, JAN_FEB, by_channel=False)
    assert _by_month(fcr, "contacts") == {"01": 2} and _by_month(fcr, "fcr_rate") == pytest.approx({"01": 0.5})
    # the second complaint repeats the first (same subject within 7 days): 1 of 2
    repeats = repeat_contact_rate(db, JAN_FEB, by_channel=False)
    assert int(repeats["repeat_contacts"].sum()) == 1 and int(repeats["contacts"].sum()) == 2
    levels = service_levels(db, JAN_FEB)
    assert levels.set_index("channel").loc["phone", "contacts"] == 2
    assert levels.set_index("channel").loc["phone", "wait_p50_seconds"] == pytest.approx(60.0)
