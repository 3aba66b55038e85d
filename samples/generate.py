#!/usr/bin/env python3
"""Generates repwatch's bundled sample reviews (deterministic: same output on every run).

Two clinic locations, three review sources in different formats and rating scales:

  data/google/<location>.jsonl      a Google-Business-Profile-like export: one JSON object per
                                    line, nested reviewer/reviewReply objects, starRating
                                    ONE..FIVE, RFC 3339 times
  data/healthgrades/<quarter>.csv   a Healthgrades-like export: 1-5 "Overall Rating", US dates
                                    (MM/DD/YYYY), CRLF line ends, one file per quarter
  data/survey/responses.csv         a patient-experience survey: 0-10 "likelihood to
                                    recommend" (NPS), a free-text comment that is often empty,
                                    local times without offset, UTF-8 with a byte order mark

The reviews were written for this project. They span ~18 months up to 2026-11-20 and carry
trends the demo should show:

  * Northside: billing and insurance complaints (a new billing vendor) from Aug to Nov 2025,
    better after; parking complaints from Oct 2026 (the lot is being repaved).
  * Downtown: phone and wait-time complaints from Feb to May 2026 (short-staffed front desk,
    a new phone tree), better after June 2026.
  * Both: portal/telehealth login trouble when the new patient portal launched (Jan-Feb 2026).

Every touchpoint of the default taxonomy appears (phone, scheduling, front desk, wait time,
billing/insurance, nurses, physician, facility, parking, online/portal/telehealth, follow-up/
results, prescriptions, privacy), with mixed reviews ("the doctor was great but billing was a
nightmare"), negations, a few Spanish reviews, rating-only reviews and emoji.

Usage: python3 samples/generate.py [OUTPUT_DIR]      (default: samples/data next to this file)
Only the Python standard library is used.
"""

import csv
import datetime as dt
import json
import os
import random
import sys

SEED = 20261120
START = dt.date(2025, 5, 20)
END = dt.date(2026, 11, 20)

LOCATIONS = {
    "downtown": "Downtown Family Practice",
    "northside": "Northside Pediatrics & Family Clinic",
}
DOCTORS = {
    "downtown": ["Dr. Patel", "Dr. Nguyen", "Dr. Okafor", "Maria Rivera, NP"],
    "northside": ["Dr. Chen", "Dr. Alvarez", "Dr. Brooks", "Jenny Kim, PA"],
}
NURSES = {
    "downtown": ["Tanya", "Marcus", "Liz"],
    "northside": ["Rosa", "Kevin", "Amber"],
}

TOUCHPOINTS = [
    "phone", "scheduling", "front_desk", "wait_time", "billing", "nurses", "physician",
    "facility", "parking", "online", "follow_up", "prescriptions", "privacy",
]

# How often a review talks about each touchpoint (relative weights).
MENTION = {
    "phone": 6, "scheduling": 6, "front_desk": 7, "wait_time": 8, "billing": 5, "nurses": 7,
    "physician": 14, "facility": 4, "parking": 3, "online": 3, "follow_up": 4,
    "prescriptions": 3, "privacy": 1,
}
# Baseline chance that a mention is a complaint.
NEGATIVE = {
    "phone": 0.25, "scheduling": 0.2, "front_desk": 0.18, "wait_time": 0.28, "billing": 0.3,
    "nurses": 0.07, "physician": 0.07, "facility": 0.1, "parking": 0.2, "online": 0.2,
    "follow_up": 0.25, "prescriptions": 0.2, "privacy": 0.5,
}

# (location, touchpoint, first day, last day, mention factor, chance of complaint)
EPISODES = [
    ("northside", "billing", dt.date(2025, 8, 1), dt.date(2025, 11, 15), 4.0, 0.88),
    ("downtown", "phone", dt.date(2026, 2, 1), dt.date(2026, 5, 31), 4.0, 0.85),
    ("downtown", "wait_time", dt.date(2026, 2, 1), dt.date(2026, 5, 31), 3.5, 0.85),
    ("downtown", "front_desk", dt.date(2026, 3, 1), dt.date(2026, 5, 31), 2.0, 0.6),
    ("downtown", "phone", dt.date(2026, 6, 15), dt.date(2026, 11, 20), 1.2, 0.12),
    ("downtown", "wait_time", dt.date(2026, 6, 15), dt.date(2026, 11, 20), 1.0, 0.15),
    ("northside", "billing", dt.date(2025, 12, 1), dt.date(2026, 11, 20), 0.8, 0.2),
    ("downtown", "online", dt.date(2026, 1, 5), dt.date(2026, 2, 28), 4.0, 0.8),
    ("northside", "online", dt.date(2026, 1, 5), dt.date(2026, 2, 28), 4.0, 0.8),
    ("northside", "parking", dt.date(2026, 10, 1), dt.date(2026, 11, 20), 6.0, 0.9),
]

# ---- phrase banks ------------------------------------------------------------------------
# {doc} a clinician, {nurse} a nurse's name, {hours}/{mins}/{days} numbers, {kid} a child.

POS = {
    "phone": [
        "Someone actually picked up the phone on the second ring.",
        "The receptionist on the phone was patient and answered all my questions.",
        "They called me back the same afternoon, as promised.",
        "Calling to reschedule took two minutes, no endless hold music.",
        "Never had trouble getting through on the phone.",
        'Not once did I have to wait on hold.',
        'The phone staff were super helpful with my insurance questions.',
    ],
    "scheduling": [
        "I got a same-day appointment when {kid} spiked a fever.",
        "Booking was easy and they found a slot that worked around my job.",
        "They had an opening the next morning, which I did not expect.",
        "Scheduling my annual physical was painless.",
        "They squeezed us in even though it was a busy week.",
        'Getting an appointment has never been a problem.',
        'Online booking let me pick a time that fit my schedule.',
    ],
    "front_desk": [
        "The front desk staff were warm and welcoming.",
        "Check-in was quick and the receptionist was friendly.",
        "The ladies at the front desk remembered my name.",
        "Check-in took less than five minutes.",
        "The receptionist was kind to my anxious {kid}.",
        "The front desk wasn't rude at all, whatever other reviews say.",
        'Check-in staff were incredibly efficient.',
    ],
    "wait_time": [
        "I was called back within ten minutes of my appointment time.",
        "Hardly any wait at all.",
        "We were in and out in under an hour, including labs.",
        "They were right on time, which is rare for a doctor's office.",
        "I never had to wait more than a few minutes.",
        "Didn't have to wait at all.",
        'Only waited about five minutes.',
    ],
    "billing": [
        "Billing was straightforward and they checked my insurance beforehand.",
        "The billing office fixed a coding mistake in one phone call.",
        "No surprise bills, and the statement was easy to understand.",
        "They explained my copay up front.",
        "The billing team set up a payment plan without any fuss.",
        'Never had a billing problem in six years.',
        'They told me exactly what insurance would cover before the procedure.',
    ],
    "nurses": [
        "Nurse {nurse} was gentle and explained every step.",
        "The nurses are wonderful with kids.",
        "{nurse} drew my blood with no pain at all.",
        "The nurse who did my vitals was kind and efficient.",
        "{nurse} made my daughter laugh while giving her shots.",
        'The nurses were extremely kind to my daughter.',
        "{nurse} is the best nurse we've ever had!",
    ],
    "physician": [
        "{doc} listened to everything and never made me feel rushed.",
        "{doc} took the time to explain my diagnosis in plain language.",
        "{doc} is thorough, caring and actually remembers our history.",
        "{doc} caught something two other doctors missed.",
        "{doc} was so patient with my questions.",
        "Best doctor I have had in years - {doc} really cares.",
        "{doc} is amazing with children and never talks down to parents.",
        "{doc} didn't rush us and answered every question.",
        'I never feel rushed with {doc}.',
        '{doc} explained the treatment options and let me decide.',
    ],
    "facility": [
        "The office is spotless and the exam rooms are clean.",
        "Clean, bright waiting room with a nice play corner for kids.",
        "The building is modern and easy to find your way around.",
        "Everything looked freshly cleaned.",
        'Very clean and not crowded at all.',
        "The kids' waiting area is clean and separate from the sick area.",
    ],
    "parking": [
        "Plenty of free parking right by the entrance.",
        "Parking was easy and the entrance is wheelchair friendly.",
        "The garage next door validates, so parking is free.",
        'Easy parking, no stress.',
        'Lots of parking and a drop-off lane by the door.',
    ],
    "online": [
        "The patient portal is easy to use and I can message my doctor.",
        "My telehealth visit worked perfectly, no tech issues.",
        "Online check-in saved me a lot of time.",
        "Lab results showed up in the portal the next day.",
        'The video visit was smooth and saved me a trip across town.',
        'Messaging the nurse through the portal got me an answer the same day.',
    ],
    "follow_up": [
        "They called with my lab results within two days.",
        "{doc} followed up personally after my procedure.",
        "The referral to the specialist was sent the same day.",
        "Got my test results quickly with a clear explanation.",
        '{nurse} called the next morning to check on how {kid} was doing.',
        'Results came back fast and {doc} called me personally.',
    ],
    "prescriptions": [
        "My prescription was at the pharmacy before I got there.",
        "Refills are handled quickly through the portal.",
        "They sent the prescription to the right pharmacy the first time.",
        'No problems with refills, ever.',
        'They sent the antibiotic to my pharmacy before I left the parking lot.',
    ],
    "privacy": [
        "They are careful with privacy - nobody discussed my results in the hallway.",
        "I appreciated that they asked before sharing anything with my family.",
        'The front desk keeps voices low so nobody hears your business.',
    ],
}

NEG = {
    "phone": [
        "Nobody answers the phone. I was on hold for {mins} minutes and then got disconnected.",
        "The new phone tree is a maze and never lets you talk to a person.",
        "I called four times and left two messages; nobody ever called back.",
        "Could not get through on the phone for two days.",
        "The person who answered the phone was rude and hung up on me.",
        "You can't reach anyone by phone - the voicemail box is always full.",
        'Spent 45 minutes on hold just to confirm an appointment.',
        'The phone rings and rings and then goes to a voicemail that is full.',
    ],
    "scheduling": [
        "The earliest appointment they had was {weeks} weeks out.",
        "They cancelled my appointment the morning of and did not offer a new one.",
        "They double-booked my slot and sent me home.",
        "Trying to schedule a follow-up was a nightmare.",
        "I was told there were no appointments for new patients until next month.",
        'They keep moving my appointment without asking me.',
        'No same-day sick visits, even for a baby with a fever.',
    ],
    "front_desk": [
        "The front desk staff were rude and acted like I was bothering them.",
        "The receptionist did not even look up from her phone.",
        "Check-in was chaotic and they lost my paperwork twice.",
        "Front desk was unprofessional and dismissive.",
        "Nobody at the front desk could tell us how long the wait would be.",
        'Not one person at the front desk said hello.',
        'The front desk staff argued with me about my own insurance card.',
    ],
    "wait_time": [
        "Waited {hours} hours past my appointment time.",
        "We sat in the waiting room for over an hour with a sick toddler.",
        "The wait was ridiculous - {mins} minutes in the lobby and another 40 in the exam room.",
        "Waited forever and nobody apologized.",
        "Two-hour wait for a ten-minute visit.",
        "Always running at least an hour behind.",
        'I waited 90 minutes in the lobby and nobody told us why.',
        'Not worth the wait.',
    ],
    "billing": [
        "Billing was a nightmare - I got a surprise bill for ${amount} for a visit insurance covered.",
        "They billed my insurance wrong three times and sent me to collections.",
        "I was charged twice for the same visit and it took months to get a refund.",
        "The billing office never returns calls about errors on my statement.",
        "They said they were in network and they are not. Now I owe ${amount}.",
        "Got a bill months later for a copay I already paid at check-in.",
        'The insurance claim was denied because they used the wrong code, and nobody will fix it.',
        'Extremely frustrating billing department.',
    ],
    "nurses": [
        "The nurse was rough and impatient with my son.",
        "The nurse did not wash her hands and seemed annoyed by questions.",
        "The nurse took my blood pressure while talking on her phone.",
        'The nurse never came back with the ice pack she promised.',
    ],
    "physician": [
        "{doc} spent five minutes with me and didn't listen to a word I said.",
        "{doc} was dismissive and brushed off my concerns.",
        "{doc} seemed rushed and never even examined me properly.",
        "{doc} was condescending and made me feel stupid for asking questions.",
        "{doc} didn't even look at me, just typed on the computer the whole time.",
    ],
    "facility": [
        "The bathroom was dirty and the waiting room smelled.",
        "The exam room was not cleaned between patients - used paper still on the table.",
        "The waiting room is cramped and the chairs are stained.",
        "The heat was broken and it was freezing in the exam room.",
        'Not very clean.',
        'Dust everywhere and the trash in the exam room was overflowing.',
    ],
    "parking": [
        "Parking is impossible - the lot is full and the street is metered.",
        "Half the lot is closed for construction and there is nowhere to park.",
        "Had to park three blocks away and was late because of it.",
        "With the lot torn up, I circled for 20 minutes looking for a spot.",
        "There's no handicap parking close to the door.",
    ],
    "online": [
        "The new patient portal will not let me log in and support is useless.",
        "My telehealth visit kept freezing and the doctor never called back.",
        "The portal says my results are available but the page is blank.",
        "Online scheduling shows open slots that don't actually exist.",
        "Had to reset my portal password three times in one week.",
        'The portal keeps logging me out.',
        'Telehealth link never worked, so I ended up driving in anyway.',
    ],
    "follow_up": [
        "Never got a call with my lab results; I had to chase them for two weeks.",
        "The referral was never sent and I lost my spot with the specialist.",
        "Nobody followed up after my biopsy. I found the result in the portal by myself.",
        "They promised a call back about my MRI and it never came.",
        'Still waiting on my referral after three weeks.',
        'I had to call three times to get my results.',
    ],
    "prescriptions": [
        "My prescription refill has been 'in process' for {days} days.",
        "They sent my prescription to the wrong pharmacy twice.",
        "Ran out of my blood pressure medication because nobody approved the refill.",
        "The pharmacy never received the prescription they said they sent.",
        'The pharmacy says the clinic never answered their refill request.',
    ],
    "privacy": [
        "The receptionist read my diagnosis out loud in a full waiting room.",
        "They left a voicemail with my test results on my work phone.",
        "Staff were discussing another patient's medical history at the front desk.",
        'Someone shouted my date of birth across the waiting room.',
    ],
}

OPENERS = [
    "Took my son in for a sports physical.",
    "Brought my daughter in for her 6-month checkup.",
    "New patient here.",
    "Came in for my annual physical.",
    "Went in for a sinus infection.",
    "I've been a patient here for six years.",
    "Needed a quick visit for a sprained ankle.",
    "Brought my mom in for a follow-up visit.",
    "First visit after moving to the area.",
    "Came in for blood work and a med check.",
    "Took both kids in for flu shots.",
    "Had a telehealth visit for a rash.",
]
CLOSERS_POS = [
    "Highly recommend!", "We will definitely be back.", "Thank you!",
    "Glad we found this practice.", "Five stars, well deserved.",
    "Could not ask for better care.", "",
]
CLOSERS_NEG = [
    "Looking for a new practice.", "Very disappointed.", "Do better.",
    "I would not recommend them.", "Never again.", "Management needs to fix this.", "",
]
CLOSERS_MIXED = [
    "Fix the office side and this would be five stars.",
    "Mixed feelings.", "",
]
CONTRAST = ["but", "however,", "though", "unfortunately"]

EMOJI_POS = ["😊", "👍", "🙏", "❤️", "⭐⭐⭐⭐⭐", "👏"]
EMOJI_NEG = ["😡", "👎", "😤", "🙄"]

# Short answers to the survey's "What could we do better?".
SURVEY_NEG = {
    "phone": ["Answer the phone!", "Call people back.", "Get rid of the phone menu",
              "hold times are way too long"],
    "scheduling": ["More appointment slots", "Evening or weekend hours please",
                   "It took weeks to get in"],
    "front_desk": ["Front desk could be friendlier", "Check-in took too long",
                   "Receptionist was short with me"],
    "wait_time": ["Shorter wait times", "Waited over an hour", "Run on time",
                  "Tell us when the doctor is running late"],
    "billing": ["Fix your billing", "Billing errors again", "Explain the charges before the visit",
                "Stop sending bills for things insurance covers"],
    "nurses": ["The nurse seemed rushed"],
    "physician": ["The doctor seemed rushed", "Doctor didn't listen"],
    "facility": ["Clean the bathrooms", "Waiting room needs updating"],
    "parking": ["Parking!!", "Not enough parking during the construction",
                "Need more parking spaces"],
    "online": ["Portal login doesn't work", "Make the portal easier",
               "Video visit kept dropping"],
    "follow_up": ["Call with results sooner", "Nobody called me back with my results"],
    "prescriptions": ["Refills take too long", "Send prescriptions to the right pharmacy"],
    "privacy": ["Don't discuss patients at the front desk"],
}
SURVEY_POS = [
    "Nothing, keep it up!", "Nothing - everyone was great", "Keep doing what you're doing",
    "No complaints", "All good", "Love {doc}", "The nurses were great with my kids",
    "Quick and friendly visit", "Nothing. Very happy with {doc}.", "n/a - great visit",
]

# Spanish reviews (language "es"), with the touchpoints they speak of and their polarity.
SPANISH = [
    ("Dr. Alvarez habla español y explica todo muy bien. Mis hijos lo adoran ❤️", +1),
    ("La recepcionista fue grosera y no quiso ayudarme con mi seguro.", -1),
    ("No me dolió nada la vacuna, la enfermera fue muy cuidadosa.", +1),
    ("Buena clínica, pero siempre hay que esperar mucho.", 0),
    ("Llamé tres veces para pedir mis resultados y nunca me devolvieron la llamada.", -1),
    ("La doctora fue muy amable y me explicó todo con paciencia. ¡Gracias!", +1),
    ("Excelente atención, las enfermeras son muy cariñosas con los niños 😊", +1),
    ("Esperé más de dos horas y nadie me dio una explicación. Muy mala experiencia.", -1),
    ("Nunca contestan el teléfono. Es imposible hacer una cita.", -1),
    ("El doctor es muy bueno, pero la factura llegó con cobros que el seguro ya había pagado.", 0),
    ("Muy limpio y organizado. El personal de recepción habla español, lo cual agradezco.", +1),
    ("No hay estacionamiento por la construcción, tuve que caminar tres cuadras con mi bebé.", -1),
    ("Me atendieron rápido y la receta ya estaba en la farmacia cuando llegué.", +1),
    ("El portal no funciona y nadie me llamó con los resultados de laboratorio.", -1),
]

# Hand-written reviews that mark the trends: (source, location, date, stars, text).
SIGNATURE = [
    ("google", "northside", dt.date(2025, 8, 19), 1,
     "Northside switched billing companies this summer and it has been a disaster. Three "
     "different bills for the same well-child visit, and the new billing company's phone line "
     "just tells you to check the website. Dr. Chen is wonderful, but I'm ready to leave over "
     "this."),
    ("google", "northside", dt.date(2025, 9, 30), 2,
     "I love the pediatricians here. The billing is another story: our insurance was billed as "
     "out-of-network even though nothing changed, and I've spent hours on the phone sorting it "
     "out."),
    ("google", "northside", dt.date(2025, 10, 22), 1,
     "Sent to collections for a $35 copay I paid at the desk. I have the receipt! Nobody from "
     "billing returns my calls. 😡"),
    ("google", "northside", dt.date(2026, 1, 14), 5,
     "Billing finally got sorted - a very nice woman named Gloria went through every statement "
     "with me and refunded the double charge. Thank you for fixing it."),
    ("google", "downtown", dt.date(2026, 1, 21), 2,
     "The new patient portal launched and I lost access to all my old records. Tried calling "
     "for help and sat on hold for 40 minutes."),
    ("google", "downtown", dt.date(2026, 2, 17), 1,
     "The new phone system is awful. Press 1, press 3, enter your date of birth, then it hangs "
     "up. I drove to the office just to make an appointment."),
    ("google", "downtown", dt.date(2026, 3, 25), 2,
     "Dr. Patel is still the best doctor I've had, but the office has fallen apart. Waited 2 "
     "hours in the lobby, the front desk was overwhelmed, and nobody answered when I called to "
     "say I was running late."),
    ("google", "downtown", dt.date(2026, 4, 30), 1,
     "No one answers the phone, ever. I needed a refill and ended up at urgent care. Not "
     "acceptable for a family practice."),
    ("google", "downtown", dt.date(2026, 6, 24), 5,
     "Whatever they changed, it worked. Someone picked up the phone right away, and I was seen "
     "within 10 minutes of my appointment. Much better than this spring!"),
    ("google", "downtown", dt.date(2026, 8, 12), 4,
     "Wait times are way down compared to earlier this year. Still a little chaotic at "
     "check-in, but the new front desk staff are friendly."),
    ("google", "northside", dt.date(2026, 10, 9), 2,
     "The parking lot is torn up for repaving and there are no signs telling you where to go. "
     "I was late for my son's appointment and they almost made us reschedule."),
    ("google", "northside", dt.date(2026, 11, 12), 1,
     "Parked two blocks away in the rain with a newborn because the lot is closed. Would it "
     "kill them to arrange valet, or at least reserve a few spots for families with babies?"),
    ("google", "northside", dt.date(2026, 11, 16), 2,
     "Prescription refill requested a week ago and the pharmacy still hasn't heard from the "
     "clinic. My son is out of his asthma inhaler."),
    ("google", "northside", dt.date(2026, 11, 18), 4,
     "Care is great as always - Dr. Brooks was wonderful with my daughter. Parking during the "
     "construction is a headache though, give yourself extra time."),
    ("google", "northside", dt.date(2026, 10, 28), 2,
     "Parking is terrible right now. Half the lot is fenced off for the repaving and the rest "
     "is full by 9am. Frustrating when you have a sick kid in the car."),
    ("google", "northside", dt.date(2026, 11, 6), 1,
     "Awful parking situation. I circled for 25 minutes, missed my slot, and the front desk "
     "said I had to reschedule. Nobody warned patients about the construction."),
    ("healthgrades", "northside", dt.date(2026, 11, 10), 3,
     "Dr. Chen was great with my son as always. The parking is a disaster during the lot "
     "construction, though - no signs, no extra spaces, and a long walk with a stroller."),
    ("google", "downtown", dt.date(2026, 11, 19), 1,
     "At check-in they asked about my depression medication out loud in front of a full "
     "waiting room. I was mortified. Privacy should matter at a doctor's office."),
    ("google", "downtown", dt.date(2026, 11, 20), 5,
     "Not a single complaint. Dr. Nguyen didn't rush me, the nurse was gentle, and I got my "
     "results the next day. 👍"),
    ("healthgrades", "northside", dt.date(2025, 9, 8), 1,
     "Dr. Alvarez is a great doctor. The billing department, however, charged us for a vaccine "
     "that is covered 100% by insurance and refused to resubmit the claim. After four calls I "
     "gave up and paid it."),
    ("healthgrades", "downtown", dt.date(2026, 4, 10), 2,
     "Dr. Okafor was thorough and kind. But getting in was a nightmare: the phone line was busy "
     "for two days, and when I finally got through, the earliest appointment was five weeks "
     "out."),
    ("healthgrades", "downtown", dt.date(2026, 7, 15), 5,
     "I was ready to leave this practice in the spring because of the phones and the wait "
     "times. Came back for my physical and it was a different place - on time, organized, and "
     "Dr. Patel was as great as ever."),
]

REPLIES_NEG = [
    "We're sorry about your experience, {name}. Please call our practice manager at "
    "555-0142 so we can make this right.",
    "Thank you for the feedback. We have shared it with our team and would like to "
    "talk with you directly - please reach out to our patient advocate.",
    "We apologize for the trouble. We are adding front desk staff and a new phone system "
    "this spring to shorten hold times.",
    "We're sorry for the billing confusion. Our billing team will review your account; "
    "please contact us at billing@example.org.",
]
REPLIES_POS = [
    "Thank you, {name}! We're so glad you had a good visit.",
    "Thanks for the kind words - we'll pass them on to the team!",
    "We appreciate you taking the time to share this. See you next time!",
]

FIRST = ["Maria", "James", "Linda", "Robert", "Patricia", "Michael", "Jennifer", "David",
         "Elizabeth", "William", "Susan", "Carlos", "Aisha", "Wei", "Fatima", "Kevin",
         "Olivia", "Noah", "Emma", "Liam", "Sofia", "Darnell", "Priya", "Tom", "Grace",
         "Hannah", "Luis", "Jasmine", "Ben", "Keisha", "Anh", "Rachel", "Omar", "Megan"]
LAST = ["G.", "S.", "Thompson", "R.", "Nguyen", "K.", "Williams", "M.", "Lopez", "B.",
        "Johnson", "P.", "Okoye", "Chen", "D.", "Martinez", "H.", "Brown", "T.", "Davis"]
KIDS = ["my son", "my daughter", "our toddler", "my 4-year-old", "the baby"]


def salute(template, author):
    """A reply addressed to the reviewer's first name, or to nobody when anonymous."""
    first = author.split()[0]
    if author in ("Anonymous", "Verified Patient"):
        return template.replace(", {name}", "").replace(" {name}", "")
    return template.format(name=first)


# Words that keep their capital letter inside a sentence.
PROPER = {"I", "Dr.", "Nurse"} | {d.split()[0] for ds in DOCTORS.values() for d in ds} | \
    {n for ns in NURSES.values() for n in ns}


def lower_first(sentence):
    word = sentence.split(" ", 1)[0]
    return sentence if word in PROPER else sentence[0].lower() + sentence[1:]


class Generator:
    def __init__(self):
        self.rng = random.Random(SEED)
        self.used_ids = set()
        self.doc = None  # the clinician the review being written is about
        self.spanish = list(SPANISH)  # each Spanish review is used once

    # ---- helpers ---------------------------------------------------------------------
    def pick(self, seq):
        return seq[self.rng.randrange(len(seq))]

    def name(self):
        return f"{self.pick(FIRST)} {self.pick(LAST)}"

    def fill(self, text, loc):
        return text.format(
            doc=self.doc or self.pick(DOCTORS[loc]), nurse=self.pick(NURSES[loc]),
            hours=self.pick(["2", "two", "2.5", "three"]), mins=self.pick([35, 45, 50, 70, 90]),
            days=self.pick([5, 8, 10, 12]), weeks=self.pick([3, 5, 6, 8]),
            amount=self.pick([185, 240, 312, 460, 875]), kid=self.pick(KIDS))

    def episode(self, loc, tp, day):
        factor, neg = 1.0, NEGATIVE[tp]
        for e_loc, e_tp, first, last, f, n in EPISODES:
            if e_loc == loc and e_tp == tp and first <= day <= last:
                factor, neg = f, n
        return factor, neg

    def touchpoints(self, loc, day, count):
        weights = [MENTION[tp] * self.episode(loc, tp, day)[0] for tp in TOUCHPOINTS]
        chosen = []
        while len(chosen) < count:
            tp = self.rng.choices(TOUCHPOINTS, weights)[0]
            if tp not in chosen:
                chosen.append(tp)
        return [(tp, -1 if self.rng.random() < self.episode(loc, tp, day)[1] else 1)
                for tp in chosen]

    def day(self, weight_recent=1.0):
        span = (END - START).days
        # Slightly more reviews in recent months (the practice asks for them now).
        x = self.rng.random() ** (1.0 / weight_recent)
        return START + dt.timedelta(days=min(span, int(x * (span + 1))))

    def time_of(self, day, hour_lo=8, hour_hi=21):
        return dt.datetime(day.year, day.month, day.day, self.rng.randint(hour_lo, hour_hi),
                           self.rng.randrange(60), self.rng.randrange(60))

    # ---- one review ------------------------------------------------------------------
    def compose(self, loc, tps, with_closer=True):
        """The text of a review about `tps` [(touchpoint, +1/-1)], and its overall polarity."""
        pos = [self.fill(self.pick(POS[tp]), loc) for tp, s in tps if s > 0]
        neg = [self.fill(self.pick(NEG[tp]), loc) for tp, s in tps if s < 0]
        parts = []
        if self.rng.random() < 0.35:
            parts.append(self.pick(OPENERS))
        if pos and neg:
            # Mixed: "the doctor was great, but billing was a nightmare".
            first, second = pos[0], neg[0]
            if self.rng.random() < 0.4:
                joiner = self.pick(CONTRAST)
                parts.append(f"{first.rstrip('.!')}, {joiner} {lower_first(second)}")
            else:
                parts += [first, self.pick(["But ", "However, ", "Unfortunately, "]) +
                          lower_first(second)]
            parts += pos[1:] + neg[1:]
            closers = CLOSERS_MIXED + (["I'll stay for the doctor, but something has to change."]
                                       if ("physician", 1) in tps else [])
            closer = self.pick(closers)
            polarity = 0
        elif neg:
            parts += neg
            closer = self.pick(CLOSERS_NEG)
            polarity = -1
        else:
            parts += pos
            closer = self.pick(CLOSERS_POS)
            polarity = 1
        if closer and with_closer:
            parts.append(closer)
        text = " ".join(parts)
        if self.rng.random() < 0.12:
            text += " " + self.pick(EMOJI_POS if polarity > 0 else EMOJI_NEG)
        return text, polarity

    def stars(self, polarity, tps):
        physician_bad = any(tp == "physician" and s < 0 for tp, s in tps)
        if polarity > 0:
            return self.rng.choices([5, 4, 3], [75, 22, 3])[0]
        if polarity < 0:
            return self.rng.choices([1, 2, 3], [65, 28, 7] if not physician_bad else [80, 18, 2])[0]
        return self.rng.choices([2, 3, 4], [30, 45, 25])[0]

    def nps(self, polarity):
        if polarity > 0:
            return self.rng.choices([10, 9, 8, 7], [50, 30, 15, 5])[0]
        if polarity < 0:
            return self.rng.choices(range(0, 7), [12, 10, 12, 16, 16, 20, 14])[0]
        return self.rng.choices([5, 6, 7, 8], [20, 30, 30, 20])[0]

    def review(self, loc, day, spanish_ok=True):
        """A free-text review: (text, polarity, touchpoints, language)."""
        if spanish_ok and self.spanish and self.rng.random() < 0.03:
            text, polarity = self.spanish.pop(self.rng.randrange(len(self.spanish)))
            return text, polarity, [], "es"
        count = self.rng.choices([1, 2, 3], [35, 45, 20])[0]
        tps = self.touchpoints(loc, day, count)
        text, polarity = self.compose(loc, tps)
        return text, polarity, tps, "en"

    def uid(self, prefix, alphabet, length):
        while True:
            v = prefix + "".join(self.pick(alphabet) for _ in range(length))
            if v not in self.used_ids:
                self.used_ids.add(v)
                return v

    # ---- the three sources -----------------------------------------------------------
    def google(self, n):
        out = {loc: [] for loc in LOCATIONS}
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        words = ["ONE", "TWO", "THREE", "FOUR", "FIVE"]
        specs = [None] * n + [x for x in SIGNATURE if x[0] == "google"]
        for spec in specs:
            if spec:
                _, loc, day, stars, text = spec
                self.doc = None
                polarity, tps, lang = (1 if stars >= 4 else -1 if stars <= 2 else 0), [], "en"
            else:
                loc = self.pick(list(LOCATIONS))
                self.doc = self.pick(DOCTORS[loc])
                day = self.day(1.25)
                if self.rng.random() < 0.1:  # rating only
                    polarity = self.rng.choices([1, -1, 0], [70, 20, 10])[0]
                    text, tps, lang = "", [], ""
                else:
                    text, polarity, tps, lang = self.review(loc, day)
                stars = self.stars(polarity, tps)
            created = self.time_of(day)
            rid = self.uid("AbFvOq", alphabet, 26)
            author = self.name()
            rec = {
                "name": f"accounts/1170032/locations/{'4411' if loc == 'downtown' else '4412'}"
                        f"/reviews/{rid}",
                "reviewId": rid,
                "reviewer": {"displayName": author, "isAnonymous": False},
                "starRating": words[stars - 1],
                "comment": text,
                "createTime": created.strftime("%Y-%m-%dT%H:%M:%S.") +
                              f"{self.rng.randrange(1000):03d}Z",
                "updateTime": None,
                "locationTitle": LOCATIONS[loc],
            }
            if not text:
                del rec["comment"]
            if lang:
                rec["languageCode"] = lang
            updated = created
            edit_at = created + dt.timedelta(days=self.rng.randint(1, 20),
                                             hours=self.rng.randint(0, 10))
            if text and not spec and self.rng.random() < 0.06 and edit_at.date() < END:
                updated = edit_at  # edited a few days later
                if polarity < 0 and stars < 5:
                    rec["comment"] = text + " UPDATE: the office manager called me and " \
                                            "sorted it out."
                    stars += 1
                    rec["starRating"] = words[stars - 1]
                else:
                    rec["comment"] = text + " (Edited to add: still happy with the care.)"
            rec["updateTime"] = updated.strftime("%Y-%m-%dT%H:%M:%SZ")
            reply_p = 0.7 if stars <= 2 else 0.25
            if self.rng.random() < reply_p and updated.date() < END - dt.timedelta(days=2):
                reply_at = updated + dt.timedelta(days=self.rng.randint(0, 3),
                                                  hours=self.rng.randint(1, 9))
                template = self.pick(REPLIES_NEG if stars <= 2 else REPLIES_POS)
                rec["reviewReply"] = {
                    "comment": salute(template, author),
                    "updateTime": reply_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
            out[loc].append((created, rec))
        return {loc: [r for _, r in sorted(recs, key=lambda x: x[0])] for loc, recs in out.items()}

    def healthgrades(self, n):
        rows = []
        specs = [None] * n + [x for x in SIGNATURE if x[0] == "healthgrades"]
        for spec in specs:
            if spec:
                _, loc, day, stars, text = spec
                provider = next(d for d in DOCTORS[loc] if d in text)
            else:
                loc = self.rng.choices(list(LOCATIONS), [45, 55])[0]
                day = self.day(1.0)
                provider = self.doc = self.pick(DOCTORS[loc])
                text, polarity, tps, lang = self.review(loc, day, spanish_ok=False)
                if self.rng.random() < 0.15:
                    # Healthgrades reviewers often write more: a second paragraph.
                    more, _ = self.compose(loc, self.touchpoints(loc, day, 1), with_closer=False)
                    text = text + "\n\n" + more
                stars = self.stars(polarity, tps)
            reviewer = self.pick([self.name(), self.name(), "Verified Patient", "Anonymous"])
            response, response_date = "", ""
            if stars <= 2 and self.rng.random() < 0.5 and day < END - dt.timedelta(days=5):
                response = salute(self.pick(REPLIES_NEG), reviewer)
                response_date = (day + dt.timedelta(days=self.rng.randint(1, 6))).strftime(
                    "%m/%d/%Y")
            rows.append({
                "Review ID": self.uid("HG-", "0123456789", 6),
                "Provider": provider,
                "Practice": LOCATIONS[loc],
                "Reviewer": reviewer,
                "Overall Rating": stars,
                "Comments": text,
                "Submitted": day.strftime("%m/%d/%Y"),
                "Practice Response": response,
                "Response Date": response_date,
                "_day": day,
            })
        rows.sort(key=lambda r: r["_day"])
        quarters = {}
        for r in rows:
            d = r.pop("_day")
            quarters.setdefault(f"{d.year}-Q{(d.month - 1) // 3 + 1}", []).append(r)
        return quarters

    def survey(self, n):
        rows = []
        for i in range(n):
            loc = self.pick(list(LOCATIONS))
            self.doc = self.pick(DOCTORS[loc])
            day = self.day(1.1)
            when = self.time_of(day, 9, 22)
            visit = self.pick(["Well visit", "Sick visit", "Follow-up", "Telehealth",
                               "Physical", "Vaccination"])
            tps = self.touchpoints(loc, day, self.rng.choices([1, 2], [75, 25])[0])
            polarity = 1 if all(s > 0 for _, s in tps) else (-1 if all(s < 0 for _, s in tps)
                                                            else 0)
            score = self.nps(polarity)
            comment, lang = "", "en"
            r = self.rng.random()
            if r < 0.04 and self.spanish:
                comment, p = self.spanish.pop(self.rng.randrange(len(self.spanish)))
                score, lang = self.nps(p), "es"
            elif r < 0.62:
                if polarity > 0:
                    comment = self.fill(self.pick(SURVEY_POS), loc)
                else:
                    comment = "; ".join(self.pick(SURVEY_NEG[tp]) for tp, s in tps if s < 0)
                    if polarity == 0 and self.rng.random() < 0.5:
                        comment = self.fill(self.pick(POS[[tp for tp, s in tps if s > 0][0]]),
                                            loc) + " " + comment
            rows.append((when, {
                "Response ID": f"R_{self.uid('', '0123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz', 15)}",
                "Completed At": when.strftime("%Y-%m-%d %H:%M"),
                "Clinic": loc,
                "Visit Type": visit,
                "Likelihood to Recommend": score,
                "What could we do better?": comment,
                "Language": lang,
            }))
        rows.sort(key=lambda r: r[0])
        return [r for _, r in rows]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "data")
    g = Generator()
    google = g.google(150)
    healthgrades = g.healthgrades(88)
    survey = g.survey(150)

    for sub in ("google", "healthgrades", "survey"):
        d = os.path.join(out, sub)
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            if f.endswith((".csv", ".jsonl")):
                os.remove(os.path.join(d, f))

    for loc, recs in google.items():
        with open(os.path.join(out, "google", f"{loc}.jsonl"), "w", encoding="utf-8",
                  newline="\n") as f:
            for rec in recs:
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")

    hg_cols = ["Review ID", "Provider", "Practice", "Reviewer", "Overall Rating", "Comments",
               "Submitted", "Practice Response", "Response Date"]
    for quarter, rows in sorted(healthgrades.items()):
        with open(os.path.join(out, "healthgrades", f"healthgrades-{quarter}.csv"), "w",
                  encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, hg_cols, lineterminator="\r\n")
            w.writeheader()
            w.writerows(rows)

    sv_cols = ["Response ID", "Completed At", "Clinic", "Visit Type", "Likelihood to Recommend",
               "What could we do better?", "Language"]
    with open(os.path.join(out, "survey", "responses.csv"), "w", encoding="utf-8-sig",
              newline="") as f:
        w = csv.DictWriter(f, sv_cols, lineterminator="\n")
        w.writeheader()
        w.writerows(survey)

    total = sum(len(v) for v in google.values()) + sum(len(v) for v in healthgrades.values()) + \
        len(survey)
    print(f"wrote {total} reviews to {out}: google {sum(len(v) for v in google.values())}, "
          f"healthgrades {sum(len(v) for v in healthgrades.values())}, survey {len(survey)}")


if __name__ == "__main__":
    main()
