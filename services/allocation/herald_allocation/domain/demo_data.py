"""Realistic demo employees: departments, grades, hire dates and names (Unicode included).

Generated from a seed, so a demo or a test can ask for the same people twice.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Iterator
from datetime import date, timedelta

from herald_allocation.domain.employee_csv import EmployeeRow

DEPARTMENTS = {
    "Engineering": 30,
    "Sales": 22,
    "Operations": 14,
    "Support": 12,
    "Marketing": 8,
    "Finance": 6,
    "HR": 5,
    "Legal": 3,
}
# Most people sit in the lower grades; few reach the top.
GRADES = {"G1": 18, "G2": 24, "G3": 22, "G4": 16, "G5": 10, "G6": 6, "G7": 4}

FIRST_NAMES = [
    "Amelia",
    "Ángel",
    "Björn",
    "Chloé",
    "Dmitri",
    "Élodie",
    "Fatima",
    "Grzegorz",
    "Hana",
    "Ingrid",
    "José",
    "Jürgen",
    "Kofi",
    "Łucja",
    "Mei",
    "Nguyễn",
    "Oluwaseun",
    "Priya",
    "Ren",
    "Søren",
    "Zoë",
    "Ayşe",
    "Mateus",
    "Siobhán",
    "Tomás",
    "Yusuf",
    "Ewa",
    "Liam",
    "Noah",
    "Olivia",
    "Ava",
    "Lucas",
    "Aarav",
    "Sofía",
    "Kenji",
    "Leilani",
    "Mikko",
]
LAST_NAMES = [
    "Andersson",
    "Bianchi",
    "Çelik",
    "Dubois",
    "Eriksen",
    "Fernández",
    "García",
    "Hernández",
    "Ivanova",
    "Jankowski",
    "Kowalczyk",
    "López",
    "Müller",
    "Nakamura",
    "O'Brien",
    "Petrović",
    "Quispe",
    "Rossi",
    "Schröder",
    "Tanaka",
    "Utley",
    "Vásquez",
    "Wójcik",
    "Xu",
    "Yılmaz",
    "Zhang",
    "Okafor",
    "Haddad",
    "Novák",
    "Smith",
    "Brown",
    "Kim",
    "Singh",
    "Lefèvre",
]


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii() and (c.isalnum())).lower() or "x"


def demo_employees(
    count: int, *, seed: int = 7, today: date | None = None, id_prefix: str = "E"
) -> Iterator[EmployeeRow]:
    rng = random.Random(seed)
    today = today or date.today()
    departments = list(DEPARTMENTS)
    department_weights = list(DEPARTMENTS.values())
    grades = list(GRADES)
    grade_weights = list(GRADES.values())
    width = max(6, len(str(count)))
    # The first person drawn for a department manages it, so a manager is always
    # generated (and imported) before anyone who reports to them.
    managers: dict[str, str] = {}
    for n in range(1, count + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        employee_id = f"{id_prefix}{n:0{width}d}"
        # Up to 25 years of service, skewed towards recent hires.
        days = int(rng.triangular(0, 25 * 365, 2 * 365))
        department = rng.choices(departments, department_weights)[0]
        manager = managers.setdefault(department, employee_id)
        yield EmployeeRow(
            employee_id=employee_id,
            name=f"{first} {last}",
            email=f"{_ascii(first)}.{_ascii(last)}.{employee_id.lower()}@example.com",
            department=department,
            grade=rng.choices(grades, grade_weights)[0],
            hired_on=today - timedelta(days=days),
            manager_id="" if manager == employee_id else manager,
        )
