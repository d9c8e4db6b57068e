"""Agent-note templates for the sample data, in Hebrew and English, labelled by churn signal.

The label of each template is the ground truth for the note-signal classifier's tests:
a note written from a `competitor` template carries the competitor signal, a `neutral`
note carries none. Wording is deliberately varied (prefixes, numbers, spelling) so a
classifier cannot succeed by matching whole strings.
"""

from __future__ import annotations

import numpy as np

SIGNALS = ("cancel_intent", "competitor", "price", "moving", "dissatisfaction", "billing")
LABELS = SIGNALS + ("neutral",)

TEMPLATES: dict[str, dict[str, list[str]]] = {
    "cancel_intent": {
        "en": [
            "Customer says they want to cancel the service",
            "wants to cancel, asked how to end the contract",
            "Asked to terminate the account by end of month",
            "Customer requested cancellation, transferred to retention",
            "Threatened to leave if this is not fixed today",
            "asking about cancellation fees, thinking of closing the account",
        ],
        "he": [
            "הלקוח רוצה לבטל את השירות",
            "רוצה לבטל, שאל איך מסיימים את החוזה",
            "ביקש להתנתק עד סוף החודש",
            "לקוח ביקש ביטול, הועבר למחלקת שימור",
            "איים לעזוב אם זה לא יטופל היום",
            "שאל על קנס יציאה, שוקל לסגור את החשבון",
        ],
    },
    "competitor": {
        "en": [
            "Competitor offered {n} NIS less per month",
            "customer got a better offer from a competitor",
            "Says the other company offered a free router and lower price",
            "Comparing us with a competitor offer of {n} NIS",
            "Friend moved to competitor, customer considering the same",
        ],
        "he": [
            "המתחרה הציע {n} ש\"ח פחות בחודש",
            "הלקוח קיבל הצעה טובה יותר מחברה מתחרה",
            "אומר שהחברה השנייה הציעה ראוטר חינם ומחיר נמוך יותר",
            "משווה אותנו להצעה של מתחרה ב-{n} ש\"ח",
            "חבר עבר למתחרה, הלקוח שוקל לעשות אותו דבר",
        ],
    },
    "price": {
        "en": [
            "Complained the price is too high after the increase",
            "says the bill went up by {n} NIS, too expensive",
            "Price increase not acceptable, asked for a discount",
            "Customer cannot afford the plan anymore",
        ],
        "he": [
            "התלונן שהמחיר גבוה מדי אחרי העלאת המחיר",
            "אומר שהחשבון עלה ב-{n} ש\"ח, יקר מדי",
            "העלאת המחיר לא מקובלת עליו, ביקש הנחה",
            "הלקוח לא יכול לעמוד יותר בתשלום",
        ],
    },
    "moving": {
        "en": [
            "Customer is moving abroad next month",
            "relocating to an area outside our coverage",
            "Moving house, not sure we cover the new address",
        ],
        "he": [
            "הלקוח עובר דירה לחו\"ל בחודש הבא",
            "עובר לאזור שאין בו כיסוי שלנו",
            "עובר דירה, לא בטוח שיש כיסוי בכתובת החדשה",
        ],
    },
    "dissatisfaction": {
        "en": [
            "Third time calling about the same fault, very frustrated",
            "customer angry, technician did not arrive again",
            "Waited {n} minutes on hold, unhappy with service",
            "Issue still not resolved after {n} calls",
            "Very disappointed with the support, wants a manager",
        ],
        "he": [
            "פעם שלישית שמתקשר על אותה תקלה, מתוסכל מאוד",
            "לקוח כועס, הטכנאי שוב לא הגיע",
            "חיכה {n} דקות על הקו, לא מרוצה מהשירות",
            "התקלה עדיין לא נפתרה אחרי {n} שיחות",
            "מאוכזב מאוד מהשירות, ביקש מנהל",
        ],
    },
    "billing": {
        "en": [
            "Charged twice this month, wants a refund",
            "wrong amount on the bill, {n} NIS overcharge",
            "Billed for a plan he never ordered",
        ],
        "he": [
            "חויב פעמיים החודש, מבקש החזר",
            "סכום שגוי בחשבונית, חיוב יתר של {n} ש\"ח",
            "חויב על מסלול שלא הזמין",
        ],
    },
    "neutral": {
        "en": [
            "Router restarted, connection is working",
            "Updated the billing address",
            "customer asked about the new plans, sent details by email",
            "Explained the invoice, customer satisfied",
            "Scheduled a technician visit for next week",
            "Changed the payment method to credit card",
            "Password reset done",
            "Customer thanked the team for the quick help",
        ],
        "he": [
            "הראוטר אותחל, החיבור עובד",
            "עודכנה כתובת למשלוח חשבונית",
            "הלקוח שאל על המסלולים החדשים, נשלחו פרטים במייל",
            "הוסברה החשבונית, הלקוח מרוצה",
            "נקבע ביקור טכנאי לשבוע הבא",
            "אמצעי התשלום הוחלף לכרטיס אשראי",
            "בוצע איפוס סיסמה",
            "הלקוח הודה על העזרה המהירה",
        ],
    },
}

_PREFIXES = {
    "en": ["", "", "", "Call summary: ", "per customer: ", "Note - "],
    "he": ["", "", "", "סיכום שיחה: ", "לדברי הלקוח: ", "הערה - "],
}
_NUMBERS = ("20", "30", "35", "40", "50", "15", "3", "4")


def build_bank(rng: np.random.Generator, variants: int = 4) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Render every template in a few variants.

    Returns (notes, label_index, language) where `label_index[i]` indexes `LABELS` and
    `language[i]` is "he" or "en" for `notes[i]`.
    """
    notes: list[str] = []
    labels: list[int] = []
    langs: list[str] = []
    seen: set[str] = set()
    for label_idx, label in enumerate(LABELS):
        for lang, templates in TEMPLATES[label].items():
            for template in templates:
                for _ in range(variants):
                    prefix = _PREFIXES[lang][rng.integers(len(_PREFIXES[lang]))]
                    text = prefix + template.format(n=_NUMBERS[rng.integers(len(_NUMBERS))])
                    if text in seen:
                        continue
                    seen.add(text)
                    notes.append(text)
                    labels.append(label_idx)
                    langs.append(lang)
    return notes, np.asarray(labels, dtype=np.int16), np.asarray(langs)
