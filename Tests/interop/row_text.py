"""Renders one table cell the way WarehouseTestSupport.tableRows does, so rows from any engine
compare as text: NULL as '∅', booleans t/f, timestamps as epoch microseconds, strings with
backslash, newline and carriage return escaped (a row is one line)."""
import datetime

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def epoch_micros(value):
    """Microseconds since the epoch of a datetime; naive ones are UTC (the session zone)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    delta = value - EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def render(value):
    if value is None:
        return "∅"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime.datetime):
        return str(epoch_micros(value))
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    return str(value)


def write_rows(rows, handle):
    """Rows as lines, sorted by their UTF-8 bytes (the Swift side sorts the same way)."""
    lines = sorted(("|".join(render(v) for v in row) for row in rows), key=lambda line: line.encode("utf-8"))
    handle.write("".join(line + "\n" for line in lines))
