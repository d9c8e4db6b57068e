"""Reactive and proactive retention funnels (analytics.metrics.funnel), checked by hand."""

from __future__ import annotations

import pytest

from analytics.filters import RetentionFilter
from analytics.metrics.funnel import (
    FUNNEL_COLUMNS,
    PROACTIVE_UPLIFT_COLUMNS,
    SUMMARY_COLUMNS,
    proactive_funnel,
    proactive_retention_comparison,
    funnel_steps,
    retention_funnel,
    retention_funnel_counts,
    retention_funnel_summaries,
    retention_funnel_summary,
    saved_customers,
    saved_customers_by_period,
    select_summary,
)
from analytics.schema import OPTIONAL_TABLES
from tests.unit.metrics.conftest import d, dt

# The data's as-of date is Jun 30 (schema_info below): outcomes are judged on that day
# whatever period is selected.
DATA_AS_OF = {"as_of_date": "2024-06-30"}
H1 = RetentionFilter(d("2024-01-01"), d("2024-06-30"))
CUSTOMERS = [
    dict(customer_id=1, signup_date=d("2023-01-01")),
    dict(customer_id=2, signup_date=d("2023-01-01"), churn_date=d("2024-02-15")),
    dict(customer_id=3, signup_date=d("2023-01-01"), churn_date=d("2024-03-20")),
    dict(customer_id=4, signup_date=d("2023-01-01"), segment="enterprise"),
    dict(customer_id=5, signup_date=d("2023-01-01")),
    dict(customer_id=6, signup_date=d("2023-01-01"), churn_date=d("2024-05-01")),
    dict(customer_id=7, signup_date=d("2023-01-01"), churn_date=d("2024-04-01")),
]


def _request(tid, cust, at, channel="phone"):
    return dict(touchpoint_id=tid, customer_id=cust, occurred_at=dt(at), kind="cancellation_request",
                channel=channel, direction="inbound", subject="cancellation")


def _call(tid, cust, at, related, outcome, agent, channel="phone"):
    return dict(touchpoint_id=tid, customer_id=cust, occurred_at=dt(at), kind="retention_call", channel=channel,
                direction="outbound", subject="cancellation", related_touchpoint_id=related, outcome=outcome,
                agent=agent)


TOUCHPOINTS = [
    # R1: attempt after 6 h (not reached, agent A), then an accepted offer by B over WhatsApp.
    _request(1, 1, "2024-01-10 09:00"),
    _call(10, 1, "2024-01-10 15:00", 1, "not_reached", "A"),
    _call(11, 1, "2024-01-12 10:00", 1, "offer_accepted", "B", channel="whatsapp"),
    # R2 (chat): first attempt after 48 h, offer declined; the customer leaves Feb 15.
    _request(2, 2, "2024-02-01 08:00", channel="chat"),
    _call(12, 2, "2024-02-03 08:00", 2, "offer_declined", "B"),
    # R3: never attempted; the customer leaves Mar 20.
    _request(3, 3, "2024-03-01 10:00"),
    # R4 (enterprise): reached after 1 h, no offer; too recent for the 90-day step.
    _request(4, 4, "2024-05-01 12:00"),
    _call(13, 4, "2024-05-01 13:00", 4, "reached_no_offer", "A"),
    # R5 (web) on the as-of day: its call comes after the as-of date and is not known yet.
    _request(5, 5, "2024-06-30 20:00", channel="web"),
    _call(16, 5, "2024-07-01 09:00", 5, "offer_accepted", "A"),
    # R6: before the period.
    _request(6, 1, "2023-12-20 10:00"),
    # R7: accepted after 3 h, too recent to judge at 90 days.
    _request(7, 6, "2024-04-10 09:00"),
    _call(14, 6, "2024-04-10 12:00", 7, "offer_accepted", "B"),
    # R8: accepted after 12 h, but the customer leaves Apr 1, within 90 days.
    _request(8, 7, "2024-02-10 08:00"),
    _call(15, 7, "2024-02-10 20:00", 8, "offer_accepted", "A"),
    # proactive outreach (see FLAGS)
    dict(touchpoint_id=20, customer_id=1, occurred_at=dt("2024-01-20 10:00"), kind="proactive_outreach",
         direction="outbound", outcome="offer_accepted"),
    dict(touchpoint_id=21, customer_id=2, occurred_at=dt("2024-02-15 10:00"), kind="proactive_outreach",
         direction="outbound", outcome="offer_accepted"),
    dict(touchpoint_id=22, customer_id=3, occurred_at=dt("2024-02-05 10:00"), kind="proactive_outreach",
         direction="outbound", outcome="not_reached"),
    dict(touchpoint_id=23, customer_id=7, occurred_at=dt("2024-01-02 10:00"), kind="proactive_outreach",
         direction="outbound", outcome="reached_no_offer"),
]
FLAGS = [
    dict(customer_id=1, flagged_on=d("2024-01-05"), source="model"),  # contacted Jan 20, accepted; stays
    dict(customer_id=2, flagged_on=d("2024-01-10"), source="model"),  # outreach 36 days later: not contacted
    dict(customer_id=3, flagged_on=d("2024-02-01"), source="model"),  # contacted, not reached
    dict(customer_id=7, flagged_on=d("2024-01-01"), source="model"),  # reached; Jan 1 + 90 = Mar 31 < Apr 1 churn
    dict(customer_id=4, flagged_on=d("2024-06-01"), source="model"),  # enterprise, too recent
    dict(customer_id=5, flagged_on=d("2023-12-01"), source="model"),  # before the period
]


@pytest.fixture
def db(make_db):
    return make_db(
        customers=[dict(c) for c in CUSTOMERS],
        touchpoints=[dict(t) for t in TOUCHPOINTS],
        extra_tables={"at_risk_flags": (OPTIONAL_TABLES["at_risk_flags"], [dict(f) for f in FLAGS])},
        schema_info=DATA_AS_OF,
    )


def test_funnel_steps(db):
    df = retention_funnel(db, H1)
    assert list(df.columns) == list(FUNNEL_COLUMNS)
    # requested R1 R2 R3 R4 R5 R7 R8 = 7; attempted R1 R2 R4 R7 R8 = 5 (R5's call is after
    # the as-of date); reached: the same 5; offer made R1 R2 R7 R8 = 4; accepted R1 R7 R8 = 3.
    # 90 days: requests at least 90 days old = R1 R2 R3 R8 (4); accepted among them R1 R8;
    # still active 90 days after the request: R1 only (c7 left Apr 1 < Feb 10 + 90).
    assert df[["step", "count", "base"]].values.tolist() == [
        ["requested", 7, 7], ["attempted", 5, 7], ["reached", 5, 5],
        ["offer made", 4, 5], ["accepted", 3, 4], ["retained 90 days", 1, 2],
    ]
    assert df["conversion"].tolist() == pytest.approx([1, 5 / 7, 1, 4 / 5, 3 / 4, 1 / 2])
    assert df["share_of_start"].tolist() == pytest.approx([1, 5 / 7, 5 / 7, 4 / 7, 3 / 7, 1 / 4])


def test_funnel_summary_rates_and_sla(db):
    row = retention_funnel_summary(db, H1).iloc[0]
    assert row.reach_rate == pytest.approx(5 / 7)
    assert row.acceptance_rate == pytest.approx(3 / 4)
    # judged R1 R2 R3 R8; customer still active 90 days later: c1 only.
    assert (row.judged_90d, row.active_90d, row.save_rate_90d) == (4, 1, 0.5)
    # Hours to first attempt: R1 6, R2 48, R4 1, R7 3, R8 12 -> median 6;
    # p90 = 12 + 0.6 · (48 - 12) = 33.6 (continuous quantile at position 0.9 · 4 = 3.6).
    assert row.median_hours_to_attempt == pytest.approx(6.0)
    assert row.p90_hours_to_attempt == pytest.approx(33.6)
    # SLA 24 h: met by R1 R4 R7 R8; missed by R2 (48 h) and R3 (never, deadline passed);
    # R5's deadline (Jul 1 20:00) is after the as-of date: not judged yet -> 4 of 6.
    assert (row.sla_due, row.within_sla) == (6, 4)
    assert row.sla_attainment == pytest.approx(4 / 6)
    # A 2-hour SLA: only R4 (1 h) meets it.
    assert retention_funnel_summary(db, H1, sla_hours=2).iloc[0].within_sla == 1


def test_funnel_by_channel_agent_segment(db):
    by_channel = retention_funnel_summary(db, H1, by="channel").set_index("group")
    assert by_channel["requests"].to_dict() == {"chat": 1, "phone": 5, "web": 1}
    # agent of the first attempt: R1 A (B closed it later), R2 B, R4 A, R7 B, R8 A.
    by_agent = retention_funnel_summary(db, H1, by="agent").set_index("group")
    assert by_agent["requests"].to_dict() == {"(no attempt)": 2, "A": 3, "B": 2}
    assert by_agent.loc["A", "accepted"] == 2  # R1 (accepted with B, counted on its first agent) and R8
    by_segment = retention_funnel_summary(db, H1, by="segment").set_index("group")
    assert by_segment["requests"].to_dict() == {"consumer": 6, "enterprise": 1}


def test_all_summaries_in_one_query_equal_each_summary(db):
    stacked = retention_funnel_summaries(db, H1)
    assert stacked["dimension"].tolist() == ["all"] + ["segment"] * 2 + ["channel"] * 3 + ["agent"] * 3
    # the hand-checked counts above, read out of the stacked frame
    assert select_summary(stacked, "agent").set_index("group")["requests"].to_dict() == {
        "(no attempt)": 2, "A": 3, "B": 2}
    assert select_summary(stacked).iloc[0][["requests", "accepted", "within_sla"]].tolist() == [7, 3, 4]
    for by in (None, "segment", "channel", "agent"):
        assert select_summary(stacked, by).equals(retention_funnel_summary(db, H1, by))
    assert funnel_steps(select_summary(stacked)).equals(retention_funnel(db, H1))
    nobody = retention_funnel_summaries(db, RetentionFilter(H1.start, H1.end, channels=("sms",)))
    assert nobody.empty and select_summary(nobody, "agent").empty
    assert funnel_steps(select_summary(nobody)).empty


def test_channel_filter_is_the_request_channel(db):
    phone = RetentionFilter(H1.start, H1.end, channels=("phone",))
    row = retention_funnel_summary(db, phone).iloc[0]
    # Phone requests R1 R3 R4 R7 R8; R1's accepted call was over WhatsApp and still counts.
    assert (row.requests, row.attempted, row.accepted) == (5, 4, 3)


def test_stage_counts_cube_equals_the_summary_counts(db):
    """The ROI page's stage counts (a cube sliced per filter): the hand-checked counts
    above, the request's channel as the channel filter, and zeros for nobody."""
    row = retention_funnel_counts(db, H1).iloc[0]
    assert row[["requests", "attempted", "reached", "offered", "accepted"]].tolist() == [7, 5, 5, 4, 3]
    phone = retention_funnel_counts(db, RetentionFilter(H1.start, H1.end, channels=("phone",))).iloc[0]
    assert (phone.requests, phone.attempted, phone.accepted) == (5, 4, 3)
    enterprise = retention_funnel_counts(db, RetentionFilter(H1.start, H1.end, segments=("enterprise",))).iloc[0]
    assert enterprise.requests == 1
    nobody = retention_funnel_counts(db, RetentionFilter(H1.start, H1.end, channels=("sms",))).iloc[0]
    assert nobody.tolist() == [0, 0, 0, 0, 0]


def test_segment_filter(db):
    flt = RetentionFilter(H1.start, H1.end, segments=("enterprise",))
    df = retention_funnel(db, flt)
    assert df["count"].tolist() == [1, 1, 1, 0, 0, 0]


def test_saved_customers(db):
    # Q1: accepted R1 (c1 never leaves: saved) and R8 (c7 leaves Apr 1, within Feb 10 + 90
    # = May 10: not saved). The old rule (active on the filter's end, Mar 31) counted c7: 2.
    assert saved_customers(db, RetentionFilter(d("2024-01-01"), d("2024-03-31"))) == 1
    # H1: R1 only — c6 (R7, Apr 10) left May 1, before min(Jul 9, as-of Jun 30); c7 (R8)
    # Apr 1; R5's acceptance (Jul 1) is after the data's as-of date.
    assert saved_customers(db, H1) == 1


# A saved customer whose outcome is known only after the filter's end. Data as-of Jun 30.
#   c1: request Mar 30, offer accepted Apr 2 (after the Q1 filter end); never leaves.
#   c2: request Feb 1, accepted 6 h later; leaves May 15 — after Feb 1 + 90 = May 1: stayed 90 days.
#   c3: request Mar 1, accepted 3 h later; leaves Mar 20 — within 90 days.
LATE_CUSTOMERS = [
    dict(customer_id=1, signup_date=d("2023-01-01")),
    dict(customer_id=2, signup_date=d("2023-01-01"), churn_date=d("2024-05-15")),
    dict(customer_id=3, signup_date=d("2023-01-01"), churn_date=d("2024-03-20")),
]
LATE_TOUCHPOINTS = [
    _request(1, 1, "2024-03-30 09:00"), _call(11, 1, "2024-04-02 10:00", 1, "offer_accepted", "A"),
    _request(2, 2, "2024-02-01 09:00"), _call(12, 2, "2024-02-01 15:00", 2, "offer_accepted", "A"),
    _request(3, 3, "2024-03-01 09:00"), _call(13, 3, "2024-03-01 12:00", 3, "offer_accepted", "B"),
]
Q1 = RetentionFilter(d("2024-01-01"), d("2024-03-31"))


@pytest.fixture
def late_db(make_db):
    return make_db(customers=[dict(c) for c in LATE_CUSTOMERS], touchpoints=[dict(t) for t in LATE_TOUCHPOINTS],
                   schema_info=DATA_AS_OF)


def test_outcomes_after_the_filter_end_are_judged_at_the_data_as_of(late_db):
    row = retention_funnel_summary(late_db, Q1).iloc[0]
    # Requests 3, all accepted (c1's acceptance on Apr 2 is known by Jun 30). 90 days after
    # each request: Jun 28, May 1, May 30 — all on or before Jun 30, so all 3 are judged;
    # kept: c1 (never left) and c2 (left May 15 > May 1), not c3 -> 2 / 3.
    # Judged at the filter's end (the old rule) c1's call was unknown (accepted 2) and no
    # request was 90 days old on Mar 31: kept 90 days 0 / 0 = NaN.
    assert (row.requests, row.attempted, row.accepted) == (3, 3, 3)
    assert (row.judged_90d, row.accepted_judged_90d, row.retained_90d) == (3, 3, 2)
    assert row.save_rate_90d == pytest.approx(2 / 3)
    assert row.active_rate_90d == pytest.approx(2 / 3)
    # the SLA of c1's request is judged too: its first call came 73 h later (missed at 24 h)
    assert (row.sla_due, row.within_sla) == (3, 2)
    steps = retention_funnel(late_db, Q1)
    assert steps[["step", "count", "base"]].values.tolist()[-1] == ["retained 90 days", 2, 3]
    # Saved: c1 (accepted after the filter end, still here) and c2 (stayed 90 days after
    # the request, left later) -> 2. Old rule (accepted by Mar 31, active on Mar 31): c2 only -> 1.
    assert saved_customers(late_db, Q1) == 2
    by_quarter = saved_customers_by_period(late_db, H1, [(Q1.start, Q1.end), (H1.start, H1.end)])
    assert by_quarter["saved"].tolist() == [2, 2]


def test_summary_frames_carry_the_n_behind_each_rate(late_db):
    row = retention_funnel_summary(late_db, Q1).iloc[0]
    # each rate = its numerator ÷ an n column of the same frame
    for rate, num, den in (("attempt_rate", "attempted", "requests"), ("reach_rate", "reached", "requests"),
                           ("offer_rate", "offered", "reached"), ("acceptance_rate", "accepted", "offered"),
                           ("save_rate_90d", "retained_90d", "accepted_judged_90d"),
                           ("active_rate_90d", "active_90d", "judged_90d"),
                           ("sla_attainment", "within_sla", "sla_due")):
        assert row[rate] == pytest.approx(row[num] / row[den]), rate
    assert row.accepted_judged_90d == 3  # the n of "Kept 90 days"


def test_proactive_funnel(db):
    df = proactive_funnel(db, H1)
    assert list(df.columns) == list(FUNNEL_COLUMNS)
    # flagged in H1: c1 c2 c3 c7 c4 = 5; contacted within 30 days: c1 c3 c7; reached: c1 c7.
    # at least 90 days old: c1 c2 c3 c7 (4); reached among them c1 c7, both active 90 days on.
    assert df[["step", "count", "base"]].values.tolist() == [
        ["flagged", 5, 5], ["contacted", 3, 5], ["reached", 2, 3], ["retained 90 days", 2, 2],
    ]
    assert df["share_of_start"].iloc[-1] == pytest.approx(2 / 4)
    cmp = proactive_retention_comparison(db, H1)
    assert list(cmp.columns) == list(PROACTIVE_UPLIFT_COLUMNS)
    # judged: reached c1 c7 (both stay) vs not reached c2 c3 (both gone by flag + 90).
    assert cmp[["group", "flags_judged", "active_90d"]].values.tolist() == [["reached", 2, 2], ["not reached", 2, 0]]


def test_proactive_without_flags_table(make_db):
    db = make_db(customers=[dict(c) for c in CUSTOMERS], touchpoints=[dict(t) for t in TOUCHPOINTS])
    assert proactive_funnel(db, H1).empty
    assert list(proactive_funnel(db, H1).columns) == list(FUNNEL_COLUMNS)
    assert proactive_retention_comparison(db, H1).empty


def test_empty_selection_and_bad_arguments(db):
    flt = RetentionFilter(H1.start, H1.end, channels=("sms",))
    assert retention_funnel(db, flt).empty and list(retention_funnel(db, flt).columns) == list(FUNNEL_COLUMNS)
    s = retention_funnel_summary(db, flt, by="agent")
    assert s.empty and list(s.columns) == list(SUMMARY_COLUMNS)
    nobody = RetentionFilter(H1.start, H1.end, segments=("none",))
    assert proactive_funnel(db, nobody).empty
    assert saved_customers(db, nobody) == 0
    with pytest.raises(ValueError, match="by"):
        retention_funnel_summary(db, H1, by="region")
    with pytest.raises(ValueError, match="sla_hours"):
        retention_funnel_summary(db, H1, sla_hours=0)


def test_a_customer_saved_through_two_channels_is_one_save(make_db):
    # c1 asks to cancel by phone (Jan 10) and again by chat (Feb 10); both requests are
    # answered by an accepted offer and c1 never leaves. Saves are distinct customers: 1
    # under every channel choice that holds either request — a per-channel count summed
    # over phone + chat (a cube over channels) would say 2.
    db = make_db(
        customers=[dict(customer_id=1, signup_date=d("2023-01-01"))],
        touchpoints=[_request(1, 1, "2024-01-10 09:00"), _call(11, 1, "2024-01-10 12:00", 1, "offer_accepted", "A"),
                     _request(2, 1, "2024-02-10 09:00", channel="chat"),
                     _call(12, 1, "2024-02-10 12:00", 2, "offer_accepted", "A")],
        schema_info=DATA_AS_OF,
    )
    for channels, saved in (((), 1), (("phone", "chat"), 1), (("chat",), 1), (("web",), 0)):
        flt = RetentionFilter(H1.start, H1.end, channels=channels)
        assert saved_customers(db, flt) == saved, channels
        by_period = saved_customers_by_period(db, flt, [(H1.start, H1.end), (d("2024-03-01"), d("2024-03-31"))])
        assert by_period["saved"].tolist() == [saved, 0], channels
