"""The unified vocabulary: fellowships, attributes and how source codes map to them.

Loaded by a data migration and by `manage.py load_vocabulary` (idempotent), so
a fresh database always knows every fellowship and attribute.
"""

import json
from pathlib import Path
from typing import Any

# slug, name, approach, family-focused, website, description
FELLOWSHIPS: list[tuple[str, str, str, bool, str, str]] = [
    (
        "aa",
        "Alcoholics Anonymous",
        "twelve-step",
        False,
        "https://www.aa.org",
        "A fellowship of people who share their experience to recover from alcoholism.",
    ),
    (
        "na",
        "Narcotics Anonymous",
        "twelve-step",
        False,
        "https://na.org",
        "A twelve-step fellowship for people recovering from drug addiction.",
    ),
    (
        "ca",
        "Cocaine Anonymous",
        "twelve-step",
        False,
        "https://ca.org",
        "A twelve-step fellowship for recovery from cocaine and all other mind-altering substances.",
    ),
    (
        "cma",
        "Crystal Meth Anonymous",
        "twelve-step",
        False,
        "https://www.crystalmeth.org",
        "A twelve-step fellowship for people recovering from crystal meth addiction.",
    ),
    (
        "aca",
        "Adult Children of Alcoholics",
        "twelve-step",
        True,
        "https://adultchildren.org",
        "A twelve-step fellowship for adults who grew up in alcoholic or dysfunctional families.",
    ),
    (
        "eda",
        "Eating Disorders Anonymous",
        "twelve-step",
        False,
        "https://eatingdisordersanonymous.org",
        "A twelve-step fellowship for recovery from eating disorders.",
    ),
    (
        "al-anon",
        "Al-Anon Family Groups",
        "twelve-step",
        True,
        "https://al-anon.org",
        "Mutual support for families and friends of people with a drinking problem.",
    ),
    (
        "nar-anon",
        "Nar-Anon Family Groups",
        "twelve-step",
        True,
        "https://www.nar-anon.org",
        "Mutual support for families and friends of people with a drug problem.",
    ),
    (
        "families-anonymous",
        "Families Anonymous",
        "twelve-step",
        True,
        "https://www.familiesanonymous.org",
        "A twelve-step fellowship for relatives and friends concerned about someone's drug or alcohol use.",
    ),
    (
        "craft",
        "CRAFT family groups",
        "secular",
        True,
        "",
        "Groups for families using Community Reinforcement and Family Training (CRAFT): looking after "
        "yourself and helping a loved one towards treatment.",
    ),
    (
        "smart",
        "SMART Recovery",
        "secular",
        False,
        "https://smartrecovery.org",
        "Science-based, self-empowering mutual help using cognitive-behavioural tools.",
    ),
    (
        "smart-family",
        "SMART Recovery Family & Friends",
        "secular",
        True,
        "https://smartrecovery.org",
        "SMART Recovery meetings for people affected by a loved one's addiction.",
    ),
    (
        "lifering",
        "LifeRing Secular Recovery",
        "secular",
        False,
        "https://lifering.org",
        "Secular, abstinence-based peer support.",
    ),
    (
        "wfs",
        "Women for Sobriety",
        "secular",
        False,
        "https://womenforsobriety.org",
        "Peer support for women, built on positive thinking and self-worth.",
    ),
    (
        "recovery-dharma",
        "Recovery Dharma",
        "other",
        False,
        "https://recoverydharma.org",
        "Peer-led recovery using Buddhist-inspired practice and meditation.",
    ),
    (
        "celebrate-recovery",
        "Celebrate Recovery",
        "faith-based",
        False,
        "https://celebraterecovery.com",
        "A Christ-centred recovery programme based on the Beatitudes.",
    ),
    (
        "wellbriety",
        "Wellbriety",
        "indigenous",
        False,
        "https://whitebison.org",
        "Culturally based healing for Native American and Indigenous communities.",
    ),
    (
        "mara",
        "Medication-Assisted Recovery Anonymous",
        "medication-assisted",
        False,
        "https://www.mara-international.org",
        "Mutual support for people in recovery who use medication, such as methadone or buprenorphine.",
    ),
    (
        "mars",
        "Medication Assisted Recovery Support",
        "medication-assisted",
        False,
        "https://www.marsproject.org",
        "Peer-led support for people on medication for opioid use disorder.",
    ),
]

# slug, category, name (English), Meeting Guide code or "" (its names in English
# and Spanish come from the Meeting Guide types list), ISO 639-1 code
ATTRIBUTES: list[tuple[str, str, str, str, str]] = [
    # Format
    ("open", "format", "Open", "O", ""),
    ("closed", "format", "Closed", "C", ""),
    ("discussion", "format", "Discussion", "D", ""),
    ("speaker", "format", "Speaker", "SP", ""),
    ("step-study", "format", "Step Study", "ST", ""),
    ("tradition-study", "format", "Tradition Study", "TR", ""),
    ("big-book", "format", "Big Book", "B", ""),
    ("twelve-and-twelve", "format", "12 Steps & 12 Traditions", "12x12", ""),
    ("step-11-meditation", "format", "11th Step Meditation", "11", ""),
    ("as-bill-sees-it", "format", "As Bill Sees It", "ABSI", ""),
    ("daily-reflections", "format", "Daily Reflections", "DR", ""),
    ("grapevine", "format", "Grapevine", "GR", ""),
    ("literature", "format", "Literature", "LIT", ""),
    ("living-sober", "format", "Living Sober", "LS", ""),
    ("meditation", "format", "Meditation", "MED", ""),
    ("birthday", "format", "Birthday", "H", ""),
    ("breakfast", "format", "Breakfast", "BRK", ""),
    ("candlelight", "format", "Candlelight", "CAN", ""),
    ("outdoor", "format", "Outdoor", "OUT", ""),
    ("cross-talk", "format", "Cross Talk Permitted", "XT", ""),
    ("smoking-permitted", "format", "Smoking Permitted", "SM", ""),
    ("proof-of-attendance", "format", "Proof of Attendance", "POA", ""),
    ("digital-basket", "format", "Digital Basket", "DB", ""),
    ("concurrent-alateen", "format", "Concurrent with Alateen", "AL", ""),
    ("concurrent-al-anon", "format", "Concurrent with Al-Anon", "AL-AN", ""),
    ("topic", "format", "Topic", "", ""),
    ("question-and-answer", "format", "Questions and Answers", "", ""),
    ("concepts-study", "format", "Twelve Concepts Study", "", ""),
    ("format-varies", "format", "Format Varies", "", ""),
    ("informational-pamphlets", "format", "Informational Pamphlets", "", ""),
    # NA literature studies (as AA's Big Book or Living Sober above)
    ("basic-text", "format", "Basic Text", "", ""),
    ("just-for-today", "format", "Just for Today", "", ""),
    ("it-works", "format", "It Works: How and Why", "", ""),
    ("living-clean", "format", "Living Clean", "", ""),
    ("step-working-guide", "format", "Step Working Guide", "", ""),
    ("spiritual-principle-a-day", "format", "A Spiritual Principle a Day", "", ""),
    ("guiding-principles", "format", "Guiding Principles", "", ""),
    ("non-smoking", "format", "Non-Smoking", "", ""),
    ("temporarily-closed", "other", "Location Temporarily Closed", "TC", ""),
    ("closed-holidays", "other", "Closed on Holidays", "", ""),
    ("restricted-access", "other", "Restricted Access", "", ""),
    # Audience
    ("newcomers", "audience", "Newcomer", "BE", ""),
    ("women", "audience", "Women", "W", ""),
    ("men", "audience", "Men", "M", ""),
    ("lgbtq", "audience", "LGBTQ", "LGBTQ", ""),
    ("gay", "audience", "Gay", "G", ""),
    ("lesbian", "audience", "Lesbian", "L", ""),
    ("bisexual", "audience", "Bisexual", "BI", ""),
    ("transgender", "audience", "Transgender", "T", ""),
    ("non-binary", "audience", "Non-Binary", "NB", ""),
    ("young-people", "audience", "Young People", "Y", ""),
    ("seniors", "audience", "Seniors", "SEN", ""),
    ("professionals", "audience", "Professionals", "P", ""),
    ("people-of-color", "audience", "People of Color", "POC", ""),
    ("native-american", "audience", "Native American", "N", ""),
    ("indigenous", "audience", "Indigenous", "NDG", ""),
    ("dual-diagnosis", "audience", "Dual Diagnosis", "DD", ""),
    ("age-restricted", "audience", "Age-restricted", "", ""),
    # A meeting for the relatives and friends of someone who drinks or uses drugs; meetings of a
    # family fellowship (Al-Anon...) are that whatever their codes say (see FAMILY_CODES).
    ("family-and-friends", "audience", "Family and friends", "", ""),
    # Approach
    ("secular", "approach", "Secular", "A", ""),
    # Accessibility
    ("wheelchair-access", "accessibility", "Wheelchair Access", "X", ""),
    ("wheelchair-bathroom", "accessibility", "Wheelchair-Accessible Bathroom", "XB", ""),
    ("sign-language", "accessibility", "American Sign Language", "ASL", ""),
    ("childcare", "accessibility", "Babysitting Available", "BA", ""),
    ("child-friendly", "accessibility", "Child-Friendly", "CF", ""),
    ("fragrance-free", "accessibility", "Fragrance Free", "FF", ""),
    ("no-children", "accessibility", "No Children", "", ""),
    # Medication for opioid use disorder
    ("moud-welcoming", "moud", "Welcomes people on MOUD", "", ""),
    # Languages
    ("language-af", "language", "Afrikaans", "AF", "af"),
    ("language-am", "language", "Amharic", "AM", "am"),
    ("language-ar", "language", "Arabic", "AR", "ar"),
    ("language-bg", "language", "Bulgarian", "BG", "bg"),
    ("language-da", "language", "Danish", "DA", "da"),
    ("language-de", "language", "German", "DE", "de"),
    ("language-el", "language", "Greek", "EL", "el"),
    ("language-en", "language", "English", "EN", "en"),
    ("language-es", "language", "Spanish", "S", "es"),
    ("language-fa", "language", "Persian", "FA", "fa"),
    ("language-fi", "language", "Finnish", "FI", "fi"),
    ("language-fr", "language", "French", "FR", "fr"),
    ("language-he", "language", "Hebrew", "HE", "he"),
    ("language-hi", "language", "Hindi", "HI", "hi"),
    ("language-hr", "language", "Croatian", "HR", "hr"),
    ("language-hu", "language", "Hungarian", "HU", "hu"),
    ("language-is", "language", "Icelandic", "IS", "is"),
    ("language-it", "language", "Italian", "ITA", "it"),
    ("language-ja", "language", "Japanese", "JA", "ja"),
    ("language-ka", "language", "Georgian", "KA", "ka"),
    ("language-ko", "language", "Korean", "KOR", "ko"),
    ("language-lt", "language", "Lithuanian", "LT", "lt"),
    ("language-ml", "language", "Malayalam", "ML", "ml"),
    ("language-mt", "language", "Maltese", "MT", "mt"),
    ("language-ne", "language", "Nepali", "NE", "ne"),
    ("language-nl", "language", "Dutch", "NL", "nl"),
    ("language-no", "language", "Norwegian", "NO", "no"),
    ("language-pa", "language", "Punjabi", "PUN", "pa"),
    ("language-pl", "language", "Polish", "POL", "pl"),
    ("language-pt", "language", "Portuguese", "POR", "pt"),
    ("language-ru", "language", "Russian", "RUS", "ru"),
    ("language-sk", "language", "Slovak", "SK", "sk"),
    ("language-sl", "language", "Slovenian", "SL", "sl"),
    ("language-sv", "language", "Swedish", "SV", "sv"),
    ("language-th", "language", "Thai", "TH", "th"),
    ("language-tl", "language", "Tagalog", "TL", "tl"),
    ("language-tr", "language", "Turkish", "TUR", "tr"),
    ("language-uk", "language", "Ukrainian", "UK", "uk"),
]

# Meeting Guide codes whose meaning depends on the fellowship: (fellowship, code, attribute).
FELLOWSHIP_CODES: list[tuple[str, str, str]] = [
    ("aca", "A", "age-restricted"),
]

# What feeds mark as a meeting for family and friends, besides being a meeting of a family
# fellowship (Al-Anon...), mapped to the "family-and-friends" attribute. Meeting Guide's
# published type list has no code for it; TSML sites define their own types, and "FAM" is read
# when a publisher adds one. BMLT has no world id for it: "FAM" as a server's local key string.
# HSDS: a taxonomy term "family", or our own slug (what our HSDS export writes).
FAMILY_CODES: dict[str, tuple[str, ...]] = {
    "meeting-guide": ("FAM",),
    "bmlt": ("FAM",),
    "hsds": ("family",),
}
FAMILY_ATTRIBUTE = "family-and-friends"

# Spanish names for attributes Meeting Guide has no code for.
EXTRA_SPANISH = {
    "age-restricted": "Con restricción de edad",
    "family-and-friends": "Familiares y amistades",
    "moud-welcoming": "Acoge a personas en tratamiento con medicación para opioides",
    # NA World Services' own Spanish names where it has them.
    "topic": "Tema",
    "question-and-answer": "Preguntas y respuestas",
    "concepts-study": "Estudio de los Doce Conceptos",
    "format-varies": "El formato puede variar",
    "informational-pamphlets": "Estudio de los folletos informativos",
    "basic-text": "Texto básico",
    "just-for-today": "Sólo por hoy",
    "it-works": "Funciona: cómo y por qué",
    "living-clean": "Vivir limpios",
    "step-working-guide": "Guía para trabajar los pasos",
    "spiritual-principle-a-day": "Un principio espiritual al día",
    "guiding-principles": "Los principios que nos guían",
    "non-smoking": "No fumar",
    "closed-holidays": "Cerrado durante los días festivos",
    "restricted-access": "Acceso restringido",
    "no-children": "No se admite a niños",
}

# BMLT format codes (source system "bmlt"): the parser sends each format's NA
# World Services id (`world_id`) when it has one, else the server's own
# `key_string`, upper-cased. Modes (VM, HY, HYBR) and LANG are not attributes:
# the parser reads them itself.
BMLT_WORLD_CODES: list[tuple[str, str]] = [
    ("OPEN", "open"),
    ("CLOSED", "closed"),
    ("BEG", "newcomers"),
    ("DISC", "discussion"),
    ("SPK", "speaker"),
    ("TOP", "topic"),
    ("QA", "question-and-answer"),
    ("STEP", "step-study"),
    ("TRAD", "tradition-study"),
    ("CPT", "concepts-study"),
    ("LIT", "literature"),
    ("IP", "informational-pamphlets"),
    ("BT", "basic-text"),
    ("JFT", "just-for-today"),
    ("IW", "it-works"),
    ("LC", "living-clean"),
    ("SWG", "step-working-guide"),
    ("SPAD", "spiritual-principle-a-day"),
    ("GP", "guiding-principles"),
    ("MED", "meditation"),
    ("CAN", "candlelight"),
    ("VAR", "format-varies"),
    ("SMOK", "smoking-permitted"),
    ("NS", "non-smoking"),
    ("W", "women"),
    ("M", "men"),
    ("GL", "lgbtq"),
    ("Y", "young-people"),
    ("WCHR", "wheelchair-access"),
    ("CW", "child-friendly"),
    ("NC", "no-children"),
    ("CH", "closed-holidays"),
    ("RA", "restricted-access"),
    ("TC", "temporarily-closed"),
]

# Key strings of the BMLT server's default English formats and common local
# variants, for formats that carry no world id.
BMLT_KEY_CODES: list[tuple[str, str]] = [
    ("O", "open"),
    ("C", "closed"),
    ("B", "newcomers"),
    ("D", "discussion"),
    ("SO", "speaker"),
    ("ST", "step-study"),
    ("TO", "topic"),
    ("TR", "tradition-study"),
    ("SG", "step-working-guide"),
    ("JT", "just-for-today"),
    ("ME", "meditation"),
    ("WC", "wheelchair-access"),
    ("YP", "young-people"),
    ("AG", "secular"),
    ("ASL", "sign-language"),
]


def bmlt_codes() -> list[tuple[str, str]]:
    """Every BMLT code and its attribute; language key strings are ISO 639-1 codes ("ES", "FR")."""
    codes = BMLT_WORLD_CODES + BMLT_KEY_CODES
    taken = {code for code, _ in codes}
    # Where an ISO code is also a format key ("TR" is Tradition), the format wins.
    languages = [
        (language.upper(), slug)
        for slug, _, _, _, language in ATTRIBUTES
        if language and language.upper() not in taken
    ]
    return codes + languages + [(code, FAMILY_ATTRIBUTE) for code in FAMILY_CODES["bmlt"]]


def hsds_codes() -> list[tuple[str, str]]:
    """HSDS taxonomy term codes are our own attribute slugs, so our HSDS export reads back; and
    the terms others use for meetings for family and friends."""
    return [(slug, slug) for slug, _, _, _, _ in ATTRIBUTES] + [
        (code, FAMILY_ATTRIBUTE) for code in FAMILY_CODES["hsds"]
    ]


TYPES_FILE = Path(__file__).with_name("meeting_guide_types.json")


def meeting_guide_names() -> dict[str, dict[str, str]]:
    """The Meeting Guide type list with its translations (code -> {lang: name})."""
    with TYPES_FILE.open(encoding="utf-8") as handle:
        data: dict[str, dict[str, str]] = json.load(handle)
    return data


def load_vocabulary(fellowship_model: Any, attribute_model: Any, mapping_model: Any) -> None:
    """Create or update every fellowship, attribute and source code mapping.

    Takes the model classes so a migration can pass its historical models.
    """
    for slug, name, approach, family, website, description in FELLOWSHIPS:
        fellowship_model.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "approach": approach,
                "family_focused": family,
                "website": website,
                "description": description,
            },
        )
    names = meeting_guide_names()
    for slug, category, name, code, language in ATTRIBUTES:
        translations = {}
        if code and code in names:
            translations = {lang: text for lang, text in names[code].items() if lang != "en"}
        if slug in EXTRA_SPANISH:
            translations["es"] = EXTRA_SPANISH[slug]
        attribute, _ = attribute_model.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "category": category,
                "translations": translations,
                "language_code": language,
            },
        )
        if code:
            mapping_model.objects.update_or_create(
                source_system="meeting-guide",
                fellowship=None,
                code=code,
                defaults={"attribute": attribute},
            )
    for source_system, pairs in (("bmlt", bmlt_codes()), ("hsds", hsds_codes())):
        for code, attribute_slug in pairs:
            mapping_model.objects.update_or_create(
                source_system=source_system,
                fellowship=None,
                code=code,
                defaults={"attribute": attribute_model.objects.get(slug=attribute_slug)},
            )
    # Meeting Guide's family codes (BMLT's and HSDS's are in their lists above).
    family = attribute_model.objects.get(slug=FAMILY_ATTRIBUTE)
    for code in FAMILY_CODES["meeting-guide"]:
        mapping_model.objects.update_or_create(
            source_system="meeting-guide", fellowship=None, code=code, defaults={"attribute": family}
        )
    for fellowship_slug, code, attribute_slug in FELLOWSHIP_CODES:
        mapping_model.objects.update_or_create(
            source_system="meeting-guide",
            fellowship=fellowship_model.objects.get(slug=fellowship_slug),
            code=code,
            defaults={"attribute": attribute_model.objects.get(slug=attribute_slug)},
        )
