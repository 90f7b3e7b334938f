"""Convert the Sample Superstore order lines into commission_engine records.

Reads superstore-orders.csv and writes records.jsonl, both in this script's
folder, so the script runs from any working directory. Each output line is one
JSON object written with json.dumps (default separators, ensure_ascii=False).

Conversion rules:

- Reps: one per region, with the region name as id: West
  (America/Los_Angeles), East (America/New_York), Central (America/Chicago)
  and South (America/New_York). Every rep has kind "staff", name
  "<region> region", team "Superstore", its region name as region, and no
  manager.
- Customers: one per Customer ID, with that id. A customer's first order is the
  one with the earliest Order Date, and among orders on that date the smallest
  Order ID by string comparison. The region of the first order is the owner,
  and created_at is the first order's Order Date at 12:00 in the owner's time
  zone. referred_by is null. Skipped orders (see below) still count here.
- Contracts: one per Order ID, with that id. The rep is the order's region and
  the customer its Customer ID. The product is the Category with the largest
  Sales summed over the order's lines, and ties go to the alphabetically first
  Category. The amount is the exact Decimal sum of the order's Sales, rounded
  half-up to cents and written as a string with two decimals. The currency is
  "USD", term_months is 1, and signed_at is the Order Date at 12:00 in the
  rep's time zone.
- Complaints: one upheld complaint for each order whose exact summed Profit is
  below zero, with id "X-<Order ID>". It refers to that order's contract, and
  filed_at is the Ship Date at 12:00 in the rep's time zone.
- Skipped orders: an order whose rounded amount is not above 0.00 gets neither
  a contract nor a complaint, and the script lists it on stderr. The CSV in
  this folder has no such order.

Timestamps are ISO 8601 with the UTC offset that applies on that date, so
daylight saving time is included (for example "2016-11-08T12:00:00-05:00").

The output order is the four reps (West, East, Central, South), customers by
id, contracts by (signed_at instant, id), then complaints by (filed_at instant,
id).

The script exits with status 2 and writes nothing when the input or the
records break these rules. The input fails if a date, Sales or Profit value
cannot be parsed, if a Region is not one of the four, or if the lines of one
order disagree on Order Date, Ship Date, Customer ID or Region. The records
fail validation on a duplicate id, a reference that does not resolve, or an
amount not above zero. They also fail if a complaint is filed before its
contract is signed or a contract is signed before its customer was created.

With --check the script writes nothing. It exits with status 1 if
records.jsonl is missing or differs from what the script would write.
"""

import argparse
import csv
import datetime
import decimal
import json
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

SCRIPT_DIR = Path(__file__).resolve().parent
INPUT_PATH = SCRIPT_DIR / "superstore-orders.csv"
OUTPUT_PATH = SCRIPT_DIR / "records.jsonl"

# Region name to the IANA time zone of its rep, in output order.
REGION_TIME_ZONES = {
    "West": "America/Los_Angeles",
    "East": "America/New_York",
    "Central": "America/Chicago",
    "South": "America/New_York",
}

CURRENCY = "USD"
TERM_MONTHS = 1
CENT = Decimal("0.01")
# Local time of day of every created_at, signed_at and filed_at.
EVENT_LOCAL_TIME = datetime.time(12, 0)

# 50 digits keep every sum of this data exact, because Sales and Profit have at
# most 4 decimals. The Inexact trap raises instead of rounding if a sum needs more.
EXACT_SUM_CONTEXT = decimal.Context(
    prec=50,
    traps=[decimal.InvalidOperation, decimal.Inexact, decimal.Overflow],
)


# Order attributes that all lines of one Order ID must share, with their CSV
# column names.
ORDER_LEVEL_COLUMNS = {
    "customer_id": "Customer ID",
    "region": "Region",
    "order_date": "Order Date",
    "ship_date": "Ship Date",
}


class ConversionError(Exception):
    """Input data or generated records that break the conversion rules."""


@dataclass
class Order:
    """Values of one Order ID, collected from all of its lines."""

    order_id: str
    customer_id: str
    region: str
    order_date: datetime.date
    ship_date: datetime.date
    sales_by_category: dict[str, Decimal] = field(default_factory=dict)
    sales: Decimal = Decimal(0)
    profit: Decimal = Decimal(0)


def parse_decimal(text: str, column: str, row_id: str) -> Decimal:
    """Parse a finite decimal number from CSV text, never through float."""
    try:
        value = Decimal(text)
    except decimal.InvalidOperation:
        raise ConversionError(
            f"row {row_id}: invalid {column} {text!r}, expected a decimal number"
        ) from None
    if not value.is_finite():
        raise ConversionError(
            f"row {row_id}: invalid {column} {text!r}, expected a finite number"
        )
    return value


def parse_date(text: str, column: str, row_id: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise ConversionError(
            f"row {row_id}: invalid {column} {text!r}, expected a date as YYYY-MM-DD"
        ) from None


def read_orders(path: Path) -> list[Order]:
    """Group the CSV lines by Order ID and sum Sales and Profit exactly.

    Raises ConversionError for an unknown Region, an unparsable value, or an
    order whose lines disagree on Customer ID, Region, Order Date or Ship Date.
    """
    orders: dict[str, Order] = {}
    conflicts: list[str] = []
    add = EXACT_SUM_CONTEXT.add
    with path.open(newline="", encoding="utf-8") as csv_file:
        for row in csv.DictReader(csv_file):
            row_id = row["Row ID"]
            region = row["Region"]
            if region not in REGION_TIME_ZONES:
                raise ConversionError(
                    f"row {row_id}: unknown Region {region!r}, "
                    f"expected one of {', '.join(REGION_TIME_ZONES)}"
                )
            line = Order(
                order_id=row["Order ID"],
                customer_id=row["Customer ID"],
                region=region,
                order_date=parse_date(row["Order Date"], "Order Date", row_id),
                ship_date=parse_date(row["Ship Date"], "Ship Date", row_id),
            )
            sales = parse_decimal(row["Sales"], "Sales", row_id)
            profit = parse_decimal(row["Profit"], "Profit", row_id)

            order = orders.setdefault(line.order_id, line)
            for attribute, column in ORDER_LEVEL_COLUMNS.items():
                first_value = getattr(order, attribute)
                line_value = getattr(line, attribute)
                if first_value != line_value:
                    conflicts.append(
                        f"order {order.order_id}: row {row_id} has {column} "
                        f"{line_value}, an earlier row has {first_value}"
                    )

            category = row["Category"]
            category_sales = order.sales_by_category.get(category, Decimal(0))
            order.sales_by_category[category] = add(category_sales, sales)
            order.sales = add(order.sales, sales)
            order.profit = add(order.profit, profit)
    if conflicts:
        raise ConversionError(
            "lines of the same order disagree, expected one value per order:\n"
            + "\n".join(conflicts)
        )
    return list(orders.values())


def local_noon(day: datetime.date, time_zone: str) -> datetime.datetime:
    return datetime.datetime.combine(
        day, EVENT_LOCAL_TIME, tzinfo=ZoneInfo(time_zone)
    )


def order_amount(order: Order) -> Decimal:
    return order.sales.quantize(CENT, rounding=decimal.ROUND_HALF_UP)


def max_sales_category(order: Order) -> str:
    """Return the Category with the largest Sales, the first by name on a tie."""
    return min(
        order.sales_by_category,
        key=lambda category: (-order.sales_by_category[category], category),
    )


def build_reps() -> list[dict]:
    return [
        {
            "type": "rep",
            "id": region,
            "name": f"{region} region",
            "timezone": time_zone,
            "kind": "staff",
            "team": "Superstore",
            "region": region,
            "manager": None,
        }
        for region, time_zone in REGION_TIME_ZONES.items()
    ]


def build_customers(orders: list[Order]) -> list[dict]:
    first_orders: dict[str, Order] = {}
    for order in orders:
        current = first_orders.get(order.customer_id)
        order_key = (order.order_date, order.order_id)
        if current is None or order_key < (current.order_date, current.order_id):
            first_orders[order.customer_id] = order

    customers = []
    for customer_id in sorted(first_orders):
        first_order = first_orders[customer_id]
        owner = first_order.region
        created_at = local_noon(first_order.order_date, REGION_TIME_ZONES[owner])
        customers.append(
            {
                "type": "customer",
                "id": customer_id,
                "owner": owner,
                "referred_by": None,
                "created_at": created_at.isoformat(),
            }
        )
    return customers


def build_contracts_and_complaints(
    orders: list[Order],
) -> tuple[list[dict], list[dict], list[Order]]:
    """Build the sorted contracts and complaints, and return the skipped orders."""
    contracts = []
    complaints = []
    skipped = []
    for order in orders:
        amount = order_amount(order)
        if amount <= 0:
            skipped.append(order)
            continue

        time_zone = REGION_TIME_ZONES[order.region]
        signed_at = local_noon(order.order_date, time_zone)
        contract = {
            "type": "contract",
            "id": order.order_id,
            "customer": order.customer_id,
            "rep": order.region,
            "product": max_sales_category(order),
            "amount": format(amount, "f"),
            "currency": CURRENCY,
            "signed_at": signed_at.isoformat(),
            "term_months": TERM_MONTHS,
        }
        contracts.append((signed_at, order.order_id, contract))

        if order.profit < 0:
            filed_at = local_noon(order.ship_date, time_zone)
            complaint = {
                "type": "complaint",
                "id": f"X-{order.order_id}",
                "contract": order.order_id,
                "filed_at": filed_at.isoformat(),
                "upheld": True,
            }
            complaints.append((filed_at, complaint["id"], complaint))

    # Aware datetimes compare as instants, so 12:00 in New York sorts before
    # 12:00 in Chicago on the same date.
    contracts.sort(key=lambda entry: entry[:2])
    complaints.sort(key=lambda entry: entry[:2])
    return (
        [entry[2] for entry in contracts],
        [entry[2] for entry in complaints],
        skipped,
    )


def validate_records(records: list[dict]) -> None:
    """Raise ConversionError listing every duplicate id, unresolved reference,
    non-positive amount and out-of-order timestamp."""
    problems: list[str] = []
    by_type: dict[str, dict[str, dict]] = defaultdict(dict)
    seen_ids: set[str] = set()
    for record in records:
        if record["id"] in seen_ids:
            problems.append(f"duplicate id {record['id']!r}")
        seen_ids.add(record["id"])
        by_type[record["type"]][record["id"]] = record

    reps = by_type["rep"]
    customers = by_type["customer"]
    contracts = by_type["contract"]

    def check_reference(record: dict, key: str, targets: dict) -> dict | None:
        target = targets.get(record[key])
        if target is None:
            problems.append(
                f"{record['type']} {record['id']}: {key} {record[key]!r} not found"
            )
        return target

    for rep in reps.values():
        if rep["manager"] is not None:
            check_reference(rep, "manager", reps)

    for customer in customers.values():
        check_reference(customer, "owner", reps)

    for contract in contracts.values():
        check_reference(contract, "rep", reps)
        customer = check_reference(contract, "customer", customers)
        if Decimal(contract["amount"]) <= 0:
            problems.append(
                f"contract {contract['id']}: amount {contract['amount']} "
                "is not positive"
            )
        signed_at = datetime.datetime.fromisoformat(contract["signed_at"])
        if customer is not None:
            created_at = datetime.datetime.fromisoformat(customer["created_at"])
            if signed_at < created_at:
                problems.append(
                    f"contract {contract['id']}: signed_at {contract['signed_at']} "
                    f"is before customer created_at {customer['created_at']}"
                )

    for complaint in by_type["complaint"].values():
        contract = check_reference(complaint, "contract", contracts)
        if contract is None:
            continue
        filed_at = datetime.datetime.fromisoformat(complaint["filed_at"])
        signed_at = datetime.datetime.fromisoformat(contract["signed_at"])
        if filed_at < signed_at:
            problems.append(
                f"complaint {complaint['id']}: filed_at {complaint['filed_at']} "
                f"is before contract signed_at {contract['signed_at']}"
            )

    if problems:
        raise ConversionError(
            "generated records are invalid:\n" + "\n".join(problems)
        )


def render_records(input_path: Path) -> tuple[str, list[Order]]:
    """Return the validated JSON Lines text and the skipped orders."""
    orders = read_orders(input_path)
    contracts, complaints, skipped = build_contracts_and_complaints(orders)
    records = build_reps() + build_customers(orders) + contracts + complaints
    validate_records(records)
    lines = [json.dumps(record, ensure_ascii=False) + "\n" for record in records]
    return "".join(lines), skipped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing, and exit with status 1 if records.jsonl is "
        "missing or differs from the generated records",
    )
    arguments = parser.parse_args()

    try:
        text, skipped = render_records(INPUT_PATH)
    except ConversionError as error:
        print(f"convert.py: {error}", file=sys.stderr)
        return 2
    for order in skipped:
        print(
            f"convert.py: skipped order {order.order_id}: "
            f"amount {order_amount(order)} is not positive",
            file=sys.stderr,
        )

    data = text.encode("utf-8")
    if arguments.check:
        if not OUTPUT_PATH.is_file() or OUTPUT_PATH.read_bytes() != data:
            print(
                f"convert.py: {OUTPUT_PATH} is missing or out of date, "
                "run convert.py without --check to regenerate it",
                file=sys.stderr,
            )
            return 1
        return 0

    OUTPUT_PATH.write_bytes(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
