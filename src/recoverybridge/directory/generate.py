"""A realistic synthetic directory for demos and benchmarks, the same for the same seed.

Meetings cluster around ~45 cities on six continents (right IANA zones, local
street names, postal codes and languages; Suva and Taveuni in Fiji straddle
the antimeridian), with a fellowship mix like the real one (AA most, then NA,
Al-Anon...; every fellowship present), about a quarter online and some
hybrid, evening and early-morning peaks, and MOUD stances with who said so.

Everything goes in through a FeedSource ("synthetic") with MeetingSource rows,
so provenance looks like an import. Running again replaces that feed's
meetings. Writes are bulk inserts in batches: 200k meetings take seconds.
"""

import hashlib
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from recoverybridge.directory import bulk
from recoverybridge.directory.models import (
    AttendanceMode,
    Attribute,
    FeedSource,
    Fellowship,
    ImportRun,
    ImportStatus,
    Location,
    Meeting,
    MeetingSource,
    MoudStance,
    SourceSystem,
)

FEED_NAME = "synthetic"
BATCH = 5000
# MOUD verification dates count back from here, not from today, so a seed always gives the same data.
REFERENCE_DATE = date(2026, 1, 1)


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    street_names: tuple[str, ...]
    number_first: bool  # "12 High Street" rather than "Hauptstraße 12"
    # Formatted address: {address} {city} {state} {postal} {country}
    address_format: str
    districts: tuple[str, str, str, str, str]  # centre, north, south, east, west


@dataclass(frozen=True)
class City:
    name: str
    country: str
    state: str
    latitude: float
    longitude: float
    zone: str
    weight: float  # share of meetings, relative
    postal: str  # template: 9 -> digit, A -> letter
    languages: tuple[tuple[str, float], ...] = (("en", 1.0),)
    spread_km: float = 6.0


ENGLISH_STREETS = (
    "Main Street", "High Street", "Church Street", "Park Avenue", "Oak Street", "Maple Avenue",
    "Elm Street", "Washington Street", "King Street", "Queen Street", "Victoria Road", "Station Road",
    "Mill Lane", "Pine Street", "Cedar Avenue", "Lake Road", "Hill Street", "Market Street",
    "Union Street", "Bridge Road", "Garden Lane", "River Road", "Grove Street", "Broadway",
)  # fmt: skip
SPANISH_STREETS = (
    "Calle Mayor", "Avenida de la Paz", "Calle Juárez", "Calle Hidalgo", "Avenida Libertad",
    "Calle San Martín", "Calle del Carmen", "Avenida Reforma", "Calle Morelos", "Calle Belgrano",
    "Avenida Rivadavia", "Calle de Alcalá", "Calle Sol", "Calle Real",
)  # fmt: skip
PORTUGUESE_STREETS = (
    "Rua Augusta", "Avenida Paulista", "Rua da Consolação", "Rua das Flores", "Avenida Atlântica",
    "Rua do Catete", "Rua Oscar Freire", "Rua Voluntários da Pátria", "Avenida Brasil",
)  # fmt: skip
GERMAN_STREETS = (
    "Hauptstraße", "Bahnhofstraße", "Kirchstraße", "Gartenstraße", "Schillerstraße", "Goethestraße",
    "Lindenstraße", "Bergstraße", "Friedrichstraße", "Schulstraße",
)  # fmt: skip
JAPANESE_STREETS = ("Chuo-dori", "Meiji-dori", "Omotesando", "Yasukuni-dori", "Midosuji", "Sakura-dori")

ENGLISH_DISTRICTS = ("Central", "North", "South", "East", "West")
COUNTRIES = {
    c.code: c
    for c in (
        Country("US", "USA", ENGLISH_STREETS, True, "{address}, {city}, {state} {postal}, USA", ENGLISH_DISTRICTS),
        Country("CA", "Canada", ENGLISH_STREETS, True, "{address}, {city}, {state} {postal}, Canada", ENGLISH_DISTRICTS),
        Country("MX", "Mexico", SPANISH_STREETS, False, "{address}, {postal} {city}, {state}, México", ("Centro", "Norte", "Sur", "Oriente", "Poniente")),
        Country("GB", "United Kingdom", ENGLISH_STREETS, True, "{address}, {city} {postal}, UK", ENGLISH_DISTRICTS),
        Country("IE", "Ireland", ENGLISH_STREETS, True, "{address}, {city}, {postal}, Ireland", ("City Centre", "Northside", "Southside", "East", "West")),
        Country("ES", "Spain", SPANISH_STREETS, False, "{address}, {postal} {city}, España", ("Centro", "Norte", "Sur", "Este", "Oeste")),
        Country("DE", "Germany", GERMAN_STREETS, False, "{address}, {postal} {city}, Deutschland", ("Mitte", "Nord", "Süd", "Ost", "West")),
        Country("ZA", "South Africa", ENGLISH_STREETS, True, "{address}, {city}, {postal}, South Africa", ("City Bowl", "Northern Suburbs", "Southern Suburbs", "East", "West")),
        Country("IN", "India", ENGLISH_STREETS, True, "{address}, {city}, {state} {postal}, India", ("Central", "North", "South", "East", "West")),
        Country("JP", "Japan", JAPANESE_STREETS, True, "{address}, {city}, {state} {postal}, Japan", ("Chuo", "Kita", "Minami", "Higashi", "Nishi")),
        Country("AU", "Australia", ENGLISH_STREETS, True, "{address}, {city} {state} {postal}, Australia", ("CBD", "North", "South", "East", "West")),
        Country("NZ", "New Zealand", ENGLISH_STREETS, True, "{address}, {city} {postal}, New Zealand", ("Central", "North", "South", "East", "West")),
        Country("FJ", "Fiji", ENGLISH_STREETS, True, "{address}, {city}, Fiji", ("Central", "North", "South", "East", "West")),
        Country("BR", "Brazil", PORTUGUESE_STREETS, False, "{address}, {city} - {state}, {postal}, Brasil", ("Centro", "Zona Norte", "Zona Sul", "Zona Leste", "Zona Oeste")),
        Country("AR", "Argentina", SPANISH_STREETS, False, "{address}, {postal} {city}, Argentina", ("Centro", "Norte", "Sur", "Este", "Oeste")),
    )
}  # fmt: skip

SPANISH_US = (("en", 0.85), ("es", 0.15))
CITIES = (
    City("New York", "US", "NY", 40.7128, -74.0060, "America/New_York", 9, "10099", SPANISH_US, 10),
    City("Boston", "US", "MA", 42.3601, -71.0589, "America/New_York", 3, "02199"),
    City("Philadelphia", "US", "PA", 39.9526, -75.1652, "America/New_York", 3, "19199"),
    City("Atlanta", "US", "GA", 33.7490, -84.3880, "America/New_York", 3, "30399"),
    City("Miami", "US", "FL", 25.7617, -80.1918, "America/New_York", 3, "33199", (("en", 0.6), ("es", 0.4))),
    City("Chicago", "US", "IL", 41.8781, -87.6298, "America/Chicago", 6, "60699", SPANISH_US, 9),
    City("Houston", "US", "TX", 29.7604, -95.3698, "America/Chicago", 4, "77099", (("en", 0.75), ("es", 0.25)), 10),
    City("Minneapolis", "US", "MN", 44.9778, -93.2650, "America/Chicago", 2, "55499"),
    City("Denver", "US", "CO", 39.7392, -104.9903, "America/Denver", 3, "80299"),
    City("Phoenix", "US", "AZ", 33.4484, -112.0740, "America/Phoenix", 3, "85099", SPANISH_US, 10),
    City("Los Angeles", "US", "CA", 34.0522, -118.2437, "America/Los_Angeles", 8, "90099", (("en", 0.7), ("es", 0.3)), 12),
    City("San Francisco", "US", "CA", 37.7749, -122.4194, "America/Los_Angeles", 4, "94199", SPANISH_US, 5),
    City("Seattle", "US", "WA", 47.6062, -122.3321, "America/Los_Angeles", 3, "98199"),
    City("Anchorage", "US", "AK", 61.2181, -149.9003, "America/Anchorage", 0.7, "99599"),
    City("Honolulu", "US", "HI", 21.3069, -157.8583, "Pacific/Honolulu", 0.8, "96899"),
    City("Toronto", "CA", "ON", 43.6532, -79.3832, "America/Toronto", 4, "M9A 9A9"),
    City("Montreal", "CA", "QC", 45.5017, -73.5673, "America/Toronto", 2.5, "H9A 9A9", (("fr", 0.65), ("en", 0.35))),
    City("Vancouver", "CA", "BC", 49.2827, -123.1207, "America/Vancouver", 2.5, "V9A 9A9"),
    City("Halifax", "CA", "NS", 44.6488, -63.5752, "America/Halifax", 0.8, "B9A 9A9"),
    City("St. John's", "CA", "NL", 47.5615, -52.7126, "America/St_Johns", 0.5, "A9A 9A9"),
    City("Mexico City", "MX", "CDMX", 19.4326, -99.1332, "America/Mexico_City", 5, "0999", (("es", 1.0),), 10),
    City("Guadalajara", "MX", "JAL", 20.6597, -103.3496, "America/Mexico_City", 2, "449999", (("es", 1.0),)),
    City("Tijuana", "MX", "BC", 32.5149, -117.0382, "America/Tijuana", 1.2, "229999", (("es", 0.9), ("en", 0.1))),
    City("London", "GB", "England", 51.5074, -0.1278, "Europe/London", 6, "AA9 9AA", spread_km=10),
    City("Manchester", "GB", "England", 53.4808, -2.2426, "Europe/London", 2, "M9 9AA"),
    City("Glasgow", "GB", "Scotland", 55.8642, -4.2518, "Europe/London", 1.5, "G9 9AA"),
    City("Brighton", "GB", "England", 50.8225, -0.1372, "Europe/London", 1, "BN9 9AA", spread_km=4),
    City("Dublin", "IE", "Leinster", 53.3498, -6.2603, "Europe/Dublin", 2.5, "D99 A9A9"),
    City("Madrid", "ES", "Madrid", 40.4168, -3.7038, "Europe/Madrid", 2.5, "280999", (("es", 1.0),)),
    City("Barcelona", "ES", "Catalonia", 41.3851, 2.1734, "Europe/Madrid", 2, "080999", (("es", 0.9), ("en", 0.1))),
    City("Berlin", "DE", "Berlin", 52.5200, 13.4050, "Europe/Berlin", 2.5, "10999", (("de", 0.85), ("en", 0.15))),
    City("Munich", "DE", "Bavaria", 48.1351, 11.5820, "Europe/Berlin", 1.5, "80999", (("de", 0.9), ("en", 0.1))),
    City("Cape Town", "ZA", "Western Cape", -33.9249, 18.4241, "Africa/Johannesburg", 1.5, "8999", (("en", 0.75), ("af", 0.25))),
    City("Johannesburg", "ZA", "Gauteng", -26.2041, 28.0473, "Africa/Johannesburg", 1.5, "2999", (("en", 0.9), ("af", 0.1))),
    City("Mumbai", "IN", "Maharashtra", 19.0760, 72.8777, "Asia/Kolkata", 1.5, "400099", (("en", 0.6), ("hi", 0.4))),
    City("Bengaluru", "IN", "Karnataka", 12.9716, 77.5946, "Asia/Kolkata", 1, "560099", (("en", 0.8), ("hi", 0.2))),
    City("Kathmandu", "NP", "Bagmati", 27.7172, 85.3240, "Asia/Kathmandu", 0.3, "44600", (("ne", 0.7), ("en", 0.3)), 4),
    City("Tokyo", "JP", "Tokyo", 35.6762, 139.6503, "Asia/Tokyo", 2, "199-9999", (("ja", 0.8), ("en", 0.2)), 12),
    City("Osaka", "JP", "Osaka", 34.6937, 135.5023, "Asia/Tokyo", 1, "599-9999", (("ja", 0.9), ("en", 0.1))),
    City("Sydney", "AU", "NSW", -33.8688, 151.2093, "Australia/Sydney", 3, "2999", spread_km=12),
    City("Melbourne", "AU", "VIC", -37.8136, 144.9631, "Australia/Melbourne", 3, "3999", spread_km=10),
    City("Adelaide", "AU", "SA", -34.9285, 138.6007, "Australia/Adelaide", 1, "5999"),
    City("Perth", "AU", "WA", -31.9505, 115.8605, "Australia/Perth", 1.2, "6999"),
    City("Auckland", "NZ", "Auckland", -36.8485, 174.7633, "Pacific/Auckland", 1.5, "0999"),
    City("Wellington", "NZ", "Wellington", -41.2865, 174.7762, "Pacific/Auckland", 0.8, "6999"),
    City("Suva", "FJ", "Central", -18.1248, 178.4501, "Pacific/Fiji", 0.3, "", spread_km=4),
    # Taveuni sits on the 180th meridian: its meetings fall on both sides of it.
    City("Taveuni", "FJ", "Northern", -16.8400, -179.9700, "Pacific/Fiji", 0.15, "", spread_km=4),
    City("São Paulo", "BR", "SP", -23.5505, -46.6333, "America/Sao_Paulo", 3, "01999-999", (("pt", 1.0),), 12),
    City("Rio de Janeiro", "BR", "RJ", -22.9068, -43.1729, "America/Sao_Paulo", 2, "22999-999", (("pt", 1.0),)),
    City("Buenos Aires", "AR", "CABA", -34.6037, -58.3816, "America/Argentina/Buenos_Aires", 2.5, "C1999AAA", (("es", 1.0),), 10),
)  # fmt: skip
COUNTRIES["NP"] = Country(
    "NP", "Nepal", ENGLISH_STREETS, True, "{address}, {city} {postal}, Nepal", ENGLISH_DISTRICTS
)

# Relative shares of meetings, roughly as real directories have them.
FELLOWSHIP_WEIGHTS = {
    "aa": 52, "na": 14, "al-anon": 8, "ca": 3.5, "smart": 4.5, "celebrate-recovery": 3, "cma": 1.5,
    "aca": 2, "recovery-dharma": 2, "eda": 1, "nar-anon": 1.2, "smart-family": 0.8, "lifering": 0.8,
    "wfs": 0.8, "wellbriety": 0.6, "mara": 0.6, "mars": 0.6, "families-anonymous": 0.5, "craft": 0.3,
}  # fmt: skip
# Some fellowships meet (almost) only in some countries.
FELLOWSHIP_COUNTRIES = {"wellbriety": {"US", "CA"}, "celebrate-recovery": {"US", "CA", "MX", "AU", "BR"}}
ONLINE_SHARE = {"eda": 0.7, "smart": 0.4, "smart-family": 0.45, "lifering": 0.5, "wfs": 0.45, "mara": 0.35}
DEFAULT_ONLINE_SHARE = 0.22
HYBRID_SHARE = 0.08
BY_APPOINTMENT_SHARE = 0.003

MOUD_WELCOMING_SHARE = {"mara": 0.95, "mars": 0.95, "smart": 0.7, "lifering": 0.5, "recovery-dharma": 0.5}
MOUD_SOURCES = ("Group secretary", "Intergroup survey", "Peer navigator visit", "Meeting chair")

# Local start times: (weight, earliest minute of day, latest minute of day).
TIME_BANDS = (
    (0.17, 6 * 60, 7 * 60 + 30),  # early birds
    (0.06, 8 * 60, 11 * 60),
    (0.17, 12 * 60, 13 * 60),  # lunchtime
    (0.05, 14 * 60, 17 * 60),
    (0.48, 17 * 60 + 30, 20 * 60 + 30),  # the evening peak
    (0.065, 21 * 60, 22 * 60 + 30),
    (0.005, 23 * 60, 23 * 60 + 30),  # midnight meetings, ending after midnight
)

NAMES = {
    "en": (
        "Serenity", "Early Birds", "Happy Destiny", "Keep It Simple", "Back to Basics", "Came to Believe",
        "Into Action", "New Beginnings", "Lunch Bunch", "Living Sober", "Daily Reflections", "Hope",
        "Sunrise", "Design for Living", "Just for Today", "Primary Purpose", "Road to Recovery",
        "Fellowship Hall", "Freedom", "Courage to Change", "One Day at a Time", "Principles Before Personalities",
    ),
    "es": (
        "Serenidad", "Nueva Vida", "Renacer", "Solo por Hoy", "Esperanza", "Amanecer", "Libertad",
        "Un Día a la Vez", "Paz Interior", "Camino a la Recuperación",
    ),
    "pt": ("Serenidade", "Só por Hoje", "Nova Vida", "Esperança", "Liberdade", "Recomeçar"),
    "de": ("Gelassenheit", "Nur für heute", "Neubeginn", "Hoffnung", "Freiheit", "Ein Tag nach dem anderen"),
    "fr": ("Sérénité", "Juste pour aujourd'hui", "Nouveau Départ", "Espoir", "Liberté"),
    "ja": ("Sakura", "Hikari", "Kibou", "Ashita", "Asahi"),
}  # fmt: skip
VENUES = {
    "en": (
        "St. Mark's Church Hall", "Community Centre", "Recovery Club", "Public Library", "Friends Meeting House",
        "Methodist Church", "YMCA", "Hospital Conference Room", "Alano Club", "Neighbourhood House",
    ),
    "es": ("Centro Comunitario", "Parroquia San José", "Casa de la Cultura", "Salón Parroquial", "Centro de Salud"),
    "pt": ("Centro Comunitário", "Paróquia São Jorge", "Salão Paroquial", "Casa de Cultura"),
    "de": ("Gemeindehaus", "Nachbarschaftsheim", "Kirchengemeinde St. Paul", "Stadtteilzentrum"),
    "fr": ("Centre communautaire", "Église Saint-Jean", "Salle paroissiale"),
    "ja": ("Kominkan", "Community Plaza", "Kyokai Hall"),
}  # fmt: skip
FELLOWSHIP_NAMES = {
    "smart": "SMART Recovery {place}", "smart-family": "SMART Family & Friends {place}",
    "lifering": "LifeRing {place}", "wfs": "WFS {place}", "recovery-dharma": "Recovery Dharma {place}",
    "celebrate-recovery": "Celebrate Recovery {place}", "wellbriety": "Wellbriety Circle {place}",
    "mara": "MARA {place}", "mars": "MARS {place}", "families-anonymous": "Families Anonymous {place}",
    "craft": "CRAFT Family Group {place}",
}  # fmt: skip

# Attributes by fellowship: (slug, probability). Formats first, then audiences.
TWELVE_STEP_FORMATS = (
    ("discussion", 0.45),
    ("speaker", 0.15),
    ("big-book", 0.12),
    ("step-study", 0.12),
    ("literature", 0.06),
)
AUDIENCES = (
    ("women", 0.06), ("men", 0.05), ("lgbtq", 0.03), ("young-people", 0.03), ("newcomers", 0.08),
    ("seniors", 0.01), ("people-of-color", 0.01), ("professionals", 0.01),
)  # fmt: skip
EXTRA_ATTRIBUTES = {
    "aa": (("secular", 0.05), ("step-11-meditation", 0.02), ("as-bill-sees-it", 0.02), ("daily-reflections", 0.02)),
    "na": (("candlelight", 0.02),),
    "al-anon": (("concurrent-alateen", 0.05),),
    "cma": (("gay", 0.1),),
    "recovery-dharma": (("meditation", 0.9),),
    "wfs": (("women", 1.0),),
    "wellbriety": (("native-american", 0.8), ("indigenous", 0.4)),
    "celebrate-recovery": (("child-friendly", 0.2),),
}  # fmt: skip


@dataclass
class Place:
    """A location row to be, with what meetings there need to know."""

    city: City
    language: str
    location: dict[str, Any]  # Location field values
    region_path: str
    pk: int | None = None


def _weighted(rng: random.Random, items: list[Any], weights: list[float]) -> Any:
    return rng.choices(items, weights=weights)[0]


def _fill(rng: random.Random, template: str) -> str:
    return "".join(
        str(rng.randint(0, 9)) if ch == "9" else chr(rng.randint(65, 90)) if ch == "A" else ch
        for ch in template
    )


def _scatter(rng: random.Random, city: City) -> tuple[float, float, int]:
    """A point around the centre (Gaussian, km-scale) and which district it falls in."""
    north_km = rng.gauss(0, city.spread_km)
    east_km = rng.gauss(0, city.spread_km)
    latitude = city.latitude + north_km / 111.0
    longitude = city.longitude + east_km / (111.0 * math.cos(math.radians(city.latitude)))
    longitude = (longitude + 180.0) % 360.0 - 180.0  # Taveuni wraps at the antimeridian
    if math.hypot(north_km, east_km) < city.spread_km * 0.5:
        district = 0
    elif abs(north_km) >= abs(east_km):
        district = 1 if north_km > 0 else 2
    else:
        district = 3 if east_km > 0 else 4
    return round(latitude, 6), round(longitude, 6), district


def _language(rng: random.Random, city: City) -> str:
    codes = [code for code, _ in city.languages]
    return str(_weighted(rng, codes, [share for _, share in city.languages]))


def _street_address(rng: random.Random, country: Country) -> str:
    street = rng.choice(country.street_names)
    if country.code == "JP":
        return f"{rng.randint(1, 5)}-{rng.randint(1, 30)}-{rng.randint(1, 20)} {street}"
    number = rng.randint(1, 2400) if country.code in ("US", "CA") else rng.randint(1, 250)
    return f"{number} {street}" if country.number_first else f"{street} {number}"


def _venue(rng: random.Random, city: City, language: str) -> Place:
    country = COUNTRIES[city.country]
    latitude, longitude, district = _scatter(rng, city)
    address = _street_address(rng, country)
    postal = _fill(rng, city.postal)
    formatted = country.address_format.format(
        address=address, city=city.name, state=city.state, postal=postal, country=country.name
    )
    region_path = " > ".join([country.name, city.name, country.districts[district]])
    location = dict(
        name=rng.choice(VENUES.get(language, VENUES["en"])),
        address=address,
        city=city.name,
        state=city.state,
        postal_code=postal,
        country=city.country,
        formatted_address=" ".join(formatted.replace(" ,", ",").split()),
        latitude=latitude,
        longitude=longitude,
        approximate=False,
        region_path=region_path,
        timezone=city.zone,
        notes=rng.choice(("", "", "", "Side door, downstairs.", "Parking behind the building.")),
    )
    return Place(city, language, location, region_path)


def _area(city: City) -> Place:
    """The approximate location of origin of a city's online meetings."""
    country = COUNTRIES[city.country]
    state = f", {city.state}" if city.country in ("US", "CA", "AU") else ""
    region_path = f"{country.name} > {city.name}"
    location = dict(
        name="",
        address="",
        postal_code="",
        notes="",
        city=city.name,
        state=city.state,
        country=city.country,
        formatted_address=f"{city.name}{state}, {country.name}",
        latitude=city.latitude,
        longitude=city.longitude,
        approximate=True,
        region_path=region_path,
        timezone=city.zone,
    )
    return Place(city, city.languages[0][0], location, region_path)


def _start(rng: random.Random) -> tuple[time, time]:
    _, low, high = _weighted(rng, list(TIME_BANDS), [band[0] for band in TIME_BANDS])
    minute = rng.randint(low // 15, high // 15) * 15
    if rng.random() < 0.6:
        minute = minute // 30 * 30
    length = _weighted(rng, [60, 90, 75], [0.6, 0.3, 0.1])
    end = (minute + length) % (24 * 60)
    return time(minute // 60, minute % 60), time(end // 60, end % 60)


class Generator:
    """Builds unsaved Meeting and Location objects from one random stream."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.fellowships = {f.slug: f for f in Fellowship.objects.all()}
        self.city_weights = [city.weight for city in CITIES]
        self.places: dict[str, list[Place]] = {city.name: [] for city in CITIES}
        self.areas = {city.name: _area(city) for city in CITIES}
        slugs = sorted(self.fellowships)
        self.fellowship_slugs = slugs
        self.weights_by_country: dict[str, list[float]] = {}
        for code in COUNTRIES:
            self.weights_by_country[code] = [
                FELLOWSHIP_WEIGHTS.get(slug, 0.5) if code in FELLOWSHIP_COUNTRIES.get(slug, {code}) else 0
                for slug in slugs
            ]

    def place(self, city: City) -> Place:
        """A venue in the city: usually a known one (clubhouses host many meetings), sometimes new."""
        known = self.places[city.name]
        if known and self.rng.random() < 0.65:
            return self.rng.choice(known)
        place = _venue(self.rng, city, _language(self.rng, city))
        known.append(place)
        return place

    def meeting(self, number: int) -> tuple[dict[str, Any], list[str], Place]:
        """One meeting's field values, its attribute slugs and its place."""
        rng = self.rng
        city = _weighted(rng, list(CITIES), self.city_weights)
        if number < len(self.fellowship_slugs):
            # Every fellowship present, however small the directory.
            slug = self.fellowship_slugs[number]
            city = CITIES[number % 15]  # US cities, where every fellowship meets
        else:
            slug = _weighted(rng, self.fellowship_slugs, self.weights_by_country[city.country])
        fellowship = self.fellowships[slug]

        online_share = ONLINE_SHARE.get(slug, DEFAULT_ONLINE_SHARE)
        roll = rng.random()
        mode = (
            AttendanceMode.ONLINE
            if roll < online_share
            else AttendanceMode.HYBRID
            if roll < online_share + HYBRID_SHARE
            else AttendanceMode.IN_PERSON
        )
        place = self.areas[city.name] if mode == AttendanceMode.ONLINE else self.place(city)
        language = place.language if mode != AttendanceMode.ONLINE else _language(rng, city)

        if rng.random() < BY_APPOINTMENT_SHARE:
            weekday, start, end = None, None, None
        else:
            # Slightly fewer meetings at weekends.
            weekday = _weighted(rng, list(range(7)), [0.9, 1.05, 1.05, 1.05, 1.05, 1.0, 0.9])
            start, end = _start(rng)

        slugs = self.attributes(slug, language, mode)
        names = NAMES.get(language, NAMES["en"])
        base = rng.choice(names)
        district = place.region_path.rsplit(" > ", 1)[-1]
        if slug in FELLOWSHIP_NAMES:
            name = FELLOWSHIP_NAMES[slug].format(place=rng.choice((city.name, district)))
        elif "women" in slugs and language == "en":
            name = f"Women's {base}"
        elif "young-people" in slugs and language == "en":
            name = f"Young People's {base}"
        elif "secular" in slugs:
            name = f"Freethinkers {city.name}"
        else:
            name = f"{district} {base}" if rng.random() < 0.25 else base
        group = (
            f"{base} Group"
            if language == "en" and slug in ("aa", "na", "ca", "cma") and rng.random() < 0.6
            else ""
        )

        meeting: dict[str, Any] = dict(
            fellowship_id=fellowship.pk,
            name=name,
            group_name=group,
            weekday=weekday,
            start_time=start,
            end_time=end,
            timezone=city.zone,
            attendance_mode=mode,
            notes=rng.choice(("", "", "", "Coffee from half an hour before.", "Newcomers welcome.")),
            # Every row has every key: bulk.insert fills defaults by the first row's keys.
            conference_url="",
            conference_url_notes="",
            conference_phone="",
            moud_stance=MoudStance.UNKNOWN,
            moud_source="",
            moud_verified_on=None,
        )
        if mode != AttendanceMode.IN_PERSON:
            meeting_number = rng.randint(10**9, 10**10 - 1)
            meeting["conference_url"] = f"https://zoom.us/j/{meeting_number}"
            if rng.random() < 0.5:
                meeting["conference_url_notes"] = f"Passcode: {rng.randint(100000, 999999)}"
            if rng.random() < 0.3:
                meeting["conference_phone"] = f"+16465588656,,{meeting_number}#"
        self.moud(meeting, slug)
        if meeting.get("moud_stance") == MoudStance.WELCOMING:
            slugs.append("moud-welcoming")
        return meeting, slugs, place

    def attributes(self, fellowship: str, language: str, mode: str) -> list[str]:
        rng = self.rng
        slugs: list[str] = [f"language-{language}"]
        if language != "en" and rng.random() < 0.08:
            slugs.append("language-en")  # bilingual
        if fellowship in ("aa", "na", "ca", "cma", "al-anon", "nar-anon", "aca", "families-anonymous"):
            slugs.append("open" if rng.random() < 0.55 else "closed")
            format_slugs = [item for item, _ in TWELVE_STEP_FORMATS]
            slugs.append(_weighted(rng, format_slugs, [share for _, share in TWELVE_STEP_FORMATS]))
        for slug, share in AUDIENCES + EXTRA_ATTRIBUTES.get(fellowship, ()):
            if slug not in slugs and rng.random() < share:
                slugs.append(slug)
        if "women" in slugs and "men" in slugs:
            slugs.remove("men")
        if mode != AttendanceMode.ONLINE and rng.random() < 0.35:
            slugs.append("wheelchair-access")
        return slugs

    def moud(self, meeting: dict[str, Any], fellowship: str) -> None:
        rng = self.rng
        roll = rng.random()
        if self.fellowships[fellowship].family_focused:
            return  # groups for relatives: medication is not theirs to welcome or not
        welcoming = MOUD_WELCOMING_SHARE.get(fellowship, 0.12)
        if roll < welcoming:
            meeting["moud_stance"] = MoudStance.WELCOMING
        elif roll < welcoming + 0.03:
            meeting["moud_stance"] = MoudStance.NOT_WELCOMING
        else:
            return
        meeting["moud_source"] = rng.choice(MOUD_SOURCES)
        meeting["moud_verified_on"] = REFERENCE_DATE - timedelta(days=rng.randint(0, 540))


def synthetic_feed(name: str = FEED_NAME) -> FeedSource:
    feed, _ = FeedSource.objects.get_or_create(
        name=name,
        # No "synthetic" format exists; these records have Meeting Guide's shape.
        defaults={"format": SourceSystem.MEETING_GUIDE, "location": "generate_directory"},
    )
    return feed


def remove_synthetic(feed: FeedSource) -> int:
    """Delete the feed's meetings (and their now unused locations); returns how many.

    A meeting another feed also lists (deduplicated onto it) stays, without
    the synthetic provenance.
    """
    others = MeetingSource.objects.filter(meeting=OuterRef("pk")).exclude(feed_source=feed)
    doomed = Meeting.objects.filter(sources__feed_source=feed).exclude(Exists(others))
    location_ids = sorted(set(doomed.exclude(location=None).values_list("location_id", flat=True)))
    Meeting.attributes.through.objects.filter(meeting__in=doomed).delete()
    _, per_model = Meeting.objects.filter(pk__in=doomed.values("pk")).only("pk").delete()
    count = per_model.get(Meeting._meta.label, 0)
    MeetingSource.objects.filter(feed_source=feed).delete()
    for start in range(0, len(location_ids), 10000):
        Location.objects.filter(pk__in=location_ids[start : start + 10000], meetings=None).delete()
    return count


def generate_directory(
    meetings: int,
    seed: int,
    progress: Callable[[int], None] | None = None,
    feed_name: str = FEED_NAME,
) -> dict[str, int]:
    """Replace the feed's meetings with `meetings` new ones built from `seed`."""
    started = timezone.now()
    generator = Generator(seed)
    attribute_ids = dict(Attribute.objects.values_list("slug", "id"))
    locations = 0
    with transaction.atomic():
        feed = synthetic_feed(feed_name)
        removed = remove_synthetic(feed)
        done = 0
        while done < meetings:
            batch = [generator.meeting(done + offset) for offset in range(min(BATCH, meetings - done))]
            fresh = list({id(place): place for _, _, place in batch if place.pk is None}.values())
            for place, pk in zip(fresh, bulk.insert(Location, [p.location for p in fresh]), strict=True):
                place.pk = pk
            locations += len(fresh)
            for fields, _, place in batch:
                fields.update(location_id=place.pk, created_at=started, updated_at=started)
            meeting_ids = bulk.insert(Meeting, [fields for fields, _, _ in batch])
            bulk.insert_rows(
                Meeting.attributes.through,
                ("meeting_id", "attribute_id"),
                [
                    (meeting_id, attribute_ids[slug])
                    for meeting_id, (_, slugs, _) in zip(meeting_ids, batch, strict=True)
                    for slug in dict.fromkeys(slugs)
                    if slug in attribute_ids
                ],
            )
            bulk.insert(
                MeetingSource,
                [
                    {
                        "meeting_id": meeting_id,
                        "feed_source_id": feed.pk,
                        "source_key": f"{feed.name}-{seed}-{done + offset}",
                        "fingerprint": hashlib.sha256(repr((fields, slugs)).encode()).hexdigest(),
                        "first_seen": started,
                        "last_seen": started,
                    }
                    for offset, (meeting_id, (fields, slugs, _)) in enumerate(
                        zip(meeting_ids, batch, strict=True)
                    )
                ],
            )
            done += len(batch)
            if progress:
                progress(len(batch))
        ImportRun.objects.create(
            feed_source=feed,
            started_at=started,
            finished_at=timezone.now(),
            status=ImportStatus.SUCCEEDED,
            records_read=meetings,
            created=meetings,
            message=f"generate_directory --meetings {meetings} --seed {seed} (replaced {removed})",
        )
    bulk.refresh_statistics()
    return {"created": meetings, "removed": removed, "locations": locations}
