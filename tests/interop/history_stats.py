#!/usr/bin/env python3
"""An independent computation of a region's alert statistics straight from a history CSV, to
check tryvoha's /api/v1/stats against. Shares no code with tryvoha: its own CSV reading, its own
interval merging, and Python's zoneinfo (the IANA database) for Europe/Kyiv local time.

Usage: history_stats.py DATASET.csv NAMES.csv REGISTRY.csv REGION_ID FROM TO
(FROM/TO RFC 3339, e.g. 2022-01-01T00:00:00Z). Prints JSON."""
import csv
import json
import statistics
import sys
from datetime import datetime, timedelta, timezone

try:
    from zoneinfo import ZoneInfo
    KYIV = ZoneInfo("Europe/Kyiv")
except Exception:  # older tzdata
    KYIV = ZoneInfo("Europe/Kiev")

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def parse(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def main(dataset, names_path, registry_path, region, start, end):
    region, start, end = int(region), parse(start), parse(end)
    parent = {int(r["id"]): int(r["parent_id"]) if r["parent_id"] else None for r in csv.DictReader(open(registry_path, encoding="utf-8"))}
    covering = set()
    node = region
    while node is not None:
        covering.add(node)
        node = parent[node]
    names = {(r["level"], r["oblast"], r["name"]): int(r["region_id"]) for r in csv.DictReader(open(names_path, encoding="utf-8"))}
    intervals = []
    for row in csv.DictReader(open(dataset, encoding="utf-8")):
        unit = row[row["level"]]
        rid = names.get((row["level"], row["oblast"], unit))
        if rid in covering:
            intervals.append((datetime.fromisoformat(row["started_at"]), datetime.fromisoformat(row["finished_at"])))
    started = [(s, f) for s, f in intervals if start <= s < end]
    durations = sorted(int((f - s).total_seconds()) for s, f in started)
    by_hour = [{"alerts": 0, "under": 0} for _ in range(24)]
    by_weekday = [{"alerts": 0, "under": 0} for _ in range(7)]
    for s, _ in started:
        local = s.astimezone(KYIV)
        by_hour[local.hour]["alerts"] += 1
        by_weekday[local.weekday()]["alerts"] += 1
    clipped = sorted((max(s, start), min(f, end)) for s, f in intervals if max(s, start) < min(f, end))
    union = []
    for s, f in clipped:
        if union and s <= union[-1][1]:
            union[-1][1] = max(union[-1][1], f)
        else:
            union.append([s, f])
    under = 0
    for s, f in union:
        # Minute by minute would be slow; walk whole UTC hours (Kyiv offsets are whole hours).
        cursor = s
        while cursor < f:
            nxt = min(f, cursor.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1))
            seconds = int((nxt - cursor).total_seconds())
            local = cursor.astimezone(KYIV)
            by_hour[local.hour]["under"] += seconds
            by_weekday[local.weekday()]["under"] += seconds
            under += seconds
            cursor = nxt
    print(json.dumps({
        "alerts": len(started),
        "total_duration_s": sum(durations),
        "median_duration_s": statistics.median(durations) if durations else None,
        "longest_duration_s": durations[-1] if durations else None,
        "time_under_alert_s": under,
        "by_hour": by_hour,
        "by_weekday": by_weekday,
    }))


if __name__ == "__main__":
    main(*sys.argv[1:7])
