"""Create the example HR database: the tables of schema.sql and a small company.

    python examples/hr_system/seed.py hr.db

Four reps (three in Shanghai, one agent in Los Angeles), ten customers with
names and phone numbers, and their contracts, payments, refunds and
surveys in CNY. The data is fixed, so every run creates the same database.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

SCHEMA = Path(__file__).with_name("schema.sql")

REPS = [
    ("R1", "Wang Fang", "Asia/Shanghai", "staff", "family", "east", None),
    ("R2", "Li Wei", "Asia/Shanghai", "staff", "family", "east", "R1"),
    ("R3", "Maria Lopez", "America/Los_Angeles", "agent", "overseas", "west", "R1"),
    ("R4", "Zhang Min", "Asia/Shanghai", "staff", "teen", "north", "R1"),
]

# (id, name, phone, owner, referred_by, created_at)
CUSTOMERS = [
    ("C1", "Chen Jing", "+86 138 0000 0001", "R1", None, "2024-11-02T09:00:00+08:00"),
    ("C2", "Liu Yang", "+86 138 0000 0002", "R1", None, "2024-12-10T09:00:00+08:00"),
    ("C3", "Zhao Lei", "+86 138 0000 0003", "R2", "C1", "2025-01-05T09:00:00+08:00"),
    ("C4", "Huang Li", "+86 138 0000 0004", "R2", None, "2025-01-20T09:00:00+08:00"),
    ("C5", "Sun Hui", "+86 138 0000 0005", "R3", None, "2025-02-01T09:00:00-08:00"),
    ("C6", "Zhou Tao", "+86 138 0000 0006", "R3", "C5", "2025-02-14T09:00:00-08:00"),
    ("C7", "Wu Na", "+86 138 0000 0007", "R4", None, "2025-01-08T09:00:00+08:00"),
    ("C8", "Xu Qiang", "+86 138 0000 0008", "R4", None, "2025-01-09T09:00:00+08:00"),
    ("C9", "Ma Lin", "+86 138 0000 0009", "R4", "C7", "2025-03-01T09:00:00+08:00"),
    ("C10", "Hu Yan", "+86 138 0000 0010", "R1", None, "2024-06-01T09:00:00+08:00"),
]

# (id, customer, rep, product, amount, currency, signed_at, term_months)
CONTRACTS = [
    ("K1", "C1", "R1", "marriage-repair", "12000.00", "CNY", "2025-01-15T10:00:00+08:00", 12),
    ("K2", "C2", "R1", "family", "6000.00", "CNY", "2025-02-10T10:00:00+08:00", 6),
    ("K3", "C3", "R2", "marriage-repair", "20000.00", "CNY", "2025-03-05T10:00:00+08:00", 12),
    ("K4", "C4", "R2", "teen", "3000.00", "CNY", "2025-02-28T16:30:00+00:00", 3),
    ("K5", "C5", "R3", "family", "9000.00", "CNY", "2025-02-20T10:00:00-08:00", 6),
    ("K6", "C6", "R3", "family", "4500.00", "CNY", "2025-03-10T10:00:00-08:00", 3),
    ("K7", "C7", "R4", "teen", "2000.00", "CNY", "2025-01-10T10:00:00+08:00", 1),
    ("K8", "C8", "R4", "teen", "2000.00", "CNY", "2025-01-11T10:00:00+08:00", 1),
    ("K9", "C9", "R4", "teen", "2400.00", "CNY", "2025-03-12T10:00:00+08:00", 2),
    ("K10a", "C10", "R1", "family", "500.00", "CNY", "2024-06-01T10:00:00+08:00", 1),
    ("K10", "C10", "R1", "family", "3000.00", "CNY", "2025-01-31T12:00:00+08:00", 3),
]

PAYMENTS = [
    ("P1", "K2", "3000.00", "2025-02-10T11:00:00+08:00"),
    ("P2", "K2", "3000.00", "2025-03-10T11:00:00+08:00"),
    ("P3", "K7", "2000.00", "2025-01-10T11:00:00+08:00"),
]

# (id, contract, amount, refunded_at, reason, payment)
REFUNDS = [
    ("F1", "K8", "2000.00", "2025-02-20T10:00:00+08:00",
     "Customer Xu Qiang moved to another city", None),
    ("F2", "K5", "4500.00", "2025-04-15T10:00:00-07:00",
     "Partial refund agreed with Sun Hui after a missed session", None),
]

# (id, contract, score, surveyed_at, comment)
SURVEYS = [
    ("Q1", "K1", 60, "2025-03-05T10:00:00+08:00", "Chen Jing felt rushed"),
    ("Q2", "K3", 95, "2025-04-01T10:00:00+08:00", "Very helpful counsellor"),
    ("Q3", "K3", 40, "2025-04-20T10:00:00+08:00", "Second survey, ignored by the plan"),
    ("Q4", "K6", 92, "2025-04-02T10:00:00-07:00", None),
]


def create_database(path: str) -> sqlite3.Connection:
    """Create the tables and insert the example company; return the open connection."""
    connection = sqlite3.connect(path)
    connection.executescript(SCHEMA.read_text(encoding="utf-8"))
    with connection:
        connection.executemany("INSERT INTO reps VALUES (?, ?, ?, ?, ?, ?, ?)", REPS)
        connection.executemany("INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?)", CUSTOMERS)
        connection.executemany("INSERT INTO contracts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                               CONTRACTS)
        connection.executemany("INSERT INTO payments VALUES (?, ?, ?, ?)", PAYMENTS)
        connection.executemany("INSERT INTO refunds VALUES (?, ?, ?, ?, ?, ?)", REFUNDS)
        connection.executemany("INSERT INTO surveys VALUES (?, ?, ?, ?, ?)", SURVEYS)
    return connection


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: seed.py DATABASE\n")
        return 2
    if Path(argv[0]).exists():
        sys.stderr.write(f"seed.py: {argv[0]} already exists; pass a new file name\n")
        return 2
    create_database(argv[0]).close()
    sys.stdout.write(f"created {argv[0]}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
