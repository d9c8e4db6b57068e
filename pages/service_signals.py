"""Service & signals (retention team): first-contact resolution, repeat contacts, response
SLAs and waits by channel, CSAT and NPS, and the early-warning view — churn by the number
of recent service contacts and unresolved contacts — and the churn signals in agents' notes
(which signals appear, churn after them, their trend, example notes).

On a single snapshot (`analytics.catalog.data_present`'s ``churn_dates`` False) the early
warning (the share who left in the 90 days after a day) says it needs churn dates."""

from __future__ import annotations

import streamlit as st

from charts import service as service_charts
from dashboard import data, glossary as g, sidebar, tables, ui
from analytics import catalog, formatting as fmt

flt = sidebar.current_filter()
st.title("Service & signals")
st.caption(f"Inbound service contacts (service requests, complaints, billing issues) "
           f"{flt.start:%d %b %Y} – {flt.end:%d %b %Y} of the selected customers in the selected channels.")

present = data.data_present()
if not (present["contacts"] or present["surveys"] or present["notes"]):
    ui.needs_data(catalog.needs("contacts", "Service & signals") + " Survey answers or agents' notes "
                  "would show here too; churn itself is on Overview and Retention by segment.")
    st.stop()
fcr = data.first_contact_resolution(flt, by_channel=False)
repeat = data.repeat_contact_rate(flt, by_channel=False)
levels = data.service_levels(flt)
satisfaction = data.satisfaction_trend(flt)
# `repeat` counts every service contact (no column beyond the contact itself): contacts
# without waits or FCR flags still make the page
if fcr.empty and repeat.empty and levels.empty and satisfaction.empty:
    ui.empty("No service contacts or surveys match these filters. Widen the period, the customer "
             "filters or the contact channels in the sidebar.")
    st.stop()


def last_and_change(df, column, show, change, n_column):
    """The last month's value, its change from the month before, the monthly series and
    the count behind the last month's value."""
    if df.empty:
        return "—", None, None, None
    last = df[column].iloc[-1]
    delta = change(last - df[column].iloc[-2]) if len(df) >= 2 else None
    return show(last), delta, df[column], df[n_column].iloc[-1]


month = f"{fcr['month'].iloc[-1]:%b %Y}" if not fcr.empty else "the last month"
cols = st.columns(5)
value, delta, spark, n = last_and_change(fcr, "fcr_rate", lambda v: fmt.percent(v, 1), fmt.points, "contacts")
ui.kpi(cols[0], "FCR", value, delta, sparkline=spark, anchor=g.SERVICE, n=n, unit="contacts",
       help_text=f"First-contact resolution: service contacts in {month} resolved on the first "
       "contact ÷ contacts with it recorded; change from the month before. 86% of customers expect it.")
value, delta, spark, n = last_and_change(repeat, "repeat_rate", lambda v: fmt.percent(v, 1), fmt.points,
                                         "contacts")
ui.kpi(cols[1], "Repeat contacts", value, delta, inverse=True, sparkline=spark, anchor=g.SERVICE, n=n,
       unit="contacts",
       help_text=f"Service contacts in {month} on a subject the customer raised in the 7 days before.")
attainment = tables.overall_rate(levels, "within_sla", "contacts")
ui.kpi(cols[2], "Within SLA", fmt.percent(attainment, 1), anchor=g.SERVICE,
       n=float(levels["contacts"].sum()) if not levels.empty else None, unit="contacts",
       help_text="Service contacts answered within their channel's SLA ÷ contacts with a recorded wait, "
       "over the period and every selected channel.")
value, delta, spark, n = last_and_change(satisfaction, "csat_mean", lambda v: f"{v:.2f} / 5",
                                         lambda d: f"{d:+.2f}" if round(d, 2) else 0, "csat_responses")
ui.kpi(cols[3], "CSAT", value, delta, sparkline=spark, anchor=g.SERVICE, n=n, unit="answers",
       help_text="Mean survey answer (1–5) in the last month; change from the month before.")
value, delta, spark, n = last_and_change(satisfaction, "nps", lambda v: f"{v:+.0f}",
                                         lambda d: f"{d:+.0f}" if round(d) else 0, "nps_responses")
ui.kpi(cols[4], "NPS", value, delta, sparkline=spark, anchor=g.SERVICE, n=n, unit="answers",
       help_text="% promoters (9–10) − % detractors (0–6) in the last month.")

ui.section("Resolution and repeat contacts", g.SERVICE,
           "Each additional call drops satisfaction by about 15% (the brief); repeat contacts are a churn driver.")
if fcr.empty and repeat.empty:
    ui.empty("No service contact with a recorded resolution in the selection.")
else:
    ui.chart(service_charts.service_trend(fcr, repeat), "service_trend", data=fcr if not fcr.empty else repeat,
             help_anchor=g.SERVICE)
    if fcr.empty:
        ui.needs_data("First-contact resolution needs the first_contact_resolution flag — the selected "
                      "service contacts have none recorded.")

ui.section("Response SLA and waits by channel", g.SERVICE,
           "Queue wait for phone, chat and store; time to first response for written channels "
           "(answer within a day).")
if not present["wait_times"]:
    ui.needs_data(catalog.needs("wait_times", "Service levels"))
elif levels.empty and not repeat.empty:
    ui.needs_data("Service levels need wait times — the selected service contacts have none recorded.")
elif levels.empty:
    ui.empty("No service contact with a recorded wait in the selection.")
else:
    left, right = st.columns(2)
    with left:
        ui.chart(service_charts.sla_by_channel(levels), "sla_by_channel", data=levels, help_anchor=g.SERVICE,
                 width="half")
    with right:
        ui.chart(service_charts.wait_times(levels), "wait_times", data=levels, help_anchor=g.SERVICE, width="half")
    shown = levels.assign(
        sla=levels["sla_seconds"].map(fmt.duration), p50=levels["wait_p50_seconds"].map(fmt.duration),
        p90=levels["wait_p90_seconds"].map(fmt.duration))
    shown = tables.labelled(
        tables.percent_values(shown, ["sla_attainment"]),
        {"channel": "Channel", "sla": "SLA", "contacts": "Contacts", "within_sla": "Within SLA",
         "sla_attainment": "Attainment", "p50": "Median wait", "p90": "90th percentile wait"},
        value_columns=("channel",))
    ui.table(shown, "service_levels", column_config={
        "Contacts": tables.count_column("Contacts"), "Within SLA": tables.count_column("Within SLA"),
        "Attainment": tables.percent_column("Attainment", 1)})

ui.section("Satisfaction", g.SERVICE)
if not present["surveys"]:
    ui.needs_data(catalog.needs("surveys", "Satisfaction"))
elif satisfaction.empty:
    ui.empty("No survey answers in the selection.")
else:
    ui.chart(service_charts.satisfaction_chart(satisfaction), "satisfaction", data=satisfaction, help_anchor=g.SERVICE)

ui.section("Early warning: service history and churn", g.EARLY_WARNING,
           "Customers active 90 days before the as-of date, by their service contacts in the 90 days "
           "before that, and the share who left in the following 90 days.")
if not present["churn_dates"]:  # a single snapshot: who left in the 90 days after the day is unknown
    ui.needs_data(catalog.needs("churn_dates", "Churn after service contacts"))
    contacts = unresolved = None
else:
    contacts = data.churn_by_service_history(flt, "contacts")
    unresolved = data.churn_by_service_history(flt, "unresolved")
if contacts is None:
    pass
elif contacts.empty:
    ui.empty("Nobody in the selection was active 90 days before the as-of date.")
else:
    ui.chart(service_charts.early_warning_chart(contacts, unresolved), "early_warning",
             data=tables.stacked(contacts, unresolved), help_anchor=g.EARLY_WARNING)
    if unresolved.empty:  # analytics leaves the measure out when `resolved` is not recorded
        ui.needs_data("Churn by unresolved contacts needs the resolved flag — the service contacts "
                      "before the snapshot have none recorded; churn by number of contacts needs only "
                      "the contacts.")

ui.section("Churn signals in agent notes", g.NOTE_SIGNALS,
           "Agents' free-text notes (Hebrew and English) read by a transparent lexicon: cancel intent, competitor, "
           "price, moving, dissatisfaction, billing. Negated phrases (\"does not want to cancel\") do not count.")
signals = data.note_signal_summary(flt)
if not present["notes"]:
    ui.needs_data(catalog.needs("notes", "Churn signals"))
elif signals.empty:
    ui.empty("No agent notes in the selection: widen the period, the customer filters or the contact channels.")
else:
    anything = signals.set_index("signal").loc["any_signal"]
    cols = st.columns(4)
    ui.kpi(cols[0], "Notes read", fmt.count(anything.all_notes), anchor=g.NOTE_SIGNALS,
           help_text="Touchpoints in the period and channels with a non-blank agent note.")
    ui.kpi(cols[1], "Notes with a churn signal", fmt.percent(anything.share_of_notes, 1), anchor=g.NOTE_SIGNALS,
           help_text=f"{fmt.count(anything.notes)} notes fire at least one signal ÷ notes read.")
    ui.kpi(cols[2], "Churn after a signal", fmt.percent(anything.churn_rate_90d, 1), anchor=g.NOTE_SIGNALS,
           help_text=f"Customers whose note fired a signal at least 90 days before the as-of date: churned within "
           f"90 days of their first such note ({fmt.count(anything.churned_90d)} of {fmt.count(anything.followed)}).")
    ui.kpi(cols[3], "Churn after signal-free notes", fmt.percent(anything.baseline_churn_rate_90d, 1),
           anchor=g.NOTE_SIGNALS,
           help_text=f"The same for customers whose notes fired no signal ({fmt.count(anything.baseline_churned_90d)} "
           f"of {fmt.count(anything.baseline_followed)}); lift = the signal's rate ÷ this.")
    ui.chart(service_charts.note_signals_chart(signals), "note_signals", data=signals, help_anchor=g.NOTE_SIGNALS,
             caption="Descriptive, not causal: a cancellation request's note mentions cancelling because the "
                     "customer is already leaving.")
    trend = data.note_signal_trend(flt)
    ui.chart(service_charts.note_signal_trend_chart(trend), "note_signal_trend", data=trend, help_anchor=g.NOTE_SIGNALS)
    shown = tables.labelled(
        tables.percent_values(signals, ["share_of_notes", "churn_rate_90d"]),
        {"signal": "Signal", "notes": "Notes", "share_of_notes": "Share of notes", "customers": "Customers",
         "followed": "Followed 90 days", "churned_90d": "Churned", "churn_rate_90d": "Churn within 90 days",
         "lift": "Lift"},
        value_columns=("signal",))
    ui.table(shown, "note_signals", column_config={
        "Notes": tables.count_column("Notes"), "Customers": tables.count_column("Customers"),
        "Share of notes": tables.percent_column("Share of notes", 1),
        "Followed 90 days": tables.count_column(
            "Followed 90 days", "Customers whose first such note is at least 90 days before the as-of date"),
        "Churned": tables.count_column("Churned"),
        "Churn within 90 days": tables.percent_column("Churn within 90 days", 1),
        "Lift": st.column_config.NumberColumn("Lift", format="%.1f×",
                                              help="Churn within 90 days ÷ that after signal-free notes"),
    })
    st.markdown("**Example notes** — the most recent distinct phrasings per signal; no customer identifiers, "
                "phone numbers and e-mail addresses masked.")
    examples = data.note_signal_examples(flt, per_signal=3)
    shown = examples.assign(
        signal=examples["signal"].map(fmt.label),
        language=examples["language"].map({"he": "Hebrew", "en": "English"}),
        channel=examples["channel"].map(fmt.label), kind=examples["kind"].map(fmt.label))
    ui.table(tables.labelled(shown, {"signal": "Signal", "occurred_at": "Date", "channel": "Channel",
                                     "kind": "Kind", "language": "Language", "note": "Note"}),
             "note_examples", height=35 * (len(examples) + 1) + 3, column_config={
                 "Date": st.column_config.DatetimeColumn("Date", format="D MMM YYYY"),
                 "Note": st.column_config.TextColumn("Note", width="large")})
