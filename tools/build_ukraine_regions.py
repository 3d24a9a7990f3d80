#!/usr/bin/env python3
"""Builds data/regions/ukraine.csv, the bundled region registry, from the crosswalk.

Run from the project root with the shared data beside it:
    python3 tools/build_ukraine_regions.py ../shared/data/crosswalks/regions_crosswalk.csv
The output is committed; the server never reads the crosswalk.

IDs: the alerts.in.ua location UID, which equals the ukrainealarm region ID wherever both exist.
Units that neither API numbers (the 10 Crimean raions and 11 hromadas of occupied Luhansk
raions) get IDs from the reserved range starting at 100001, in KATOTTG order, so that a
rebuild from the same crosswalk gives every unit the same ID.
"""
import csv
import sys

RESERVED_START = 100001
SPECIAL_EN = {
    "UA01000000000013043": "Autonomous Republic of Crimea",
    "UA80000000000093317": "Kyiv City",
    "UA85000000000065278": "Sevastopol City",
}


def main(path):
    rows = list(csv.DictReader(open(path, encoding="utf-8")))
    by_katottg = {r["katottg"]: r for r in rows}
    unnumbered = sorted(r["katottg"] for r in rows if not (r["alerts_in_ua_uid"] or r["ukrainealarm_id"]))
    reserved = {k: RESERVED_START + i for i, k in enumerate(unnumbered)}

    def region_id(katottg):
        r = by_katottg[katottg]
        return int(r["alerts_in_ua_uid"] or r["ukrainealarm_id"] or reserved[katottg])

    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["id", "parent_id", "level", "katottg", "name_uk", "name_en"])
    for r in rows:
        level, k = r["level"], r["katottg"]
        if level == "oblast":
            parent, name_uk = "", r["oblast_name_uk"]
        elif level == "raion":
            parent, name_uk = region_id(r["oblast_katottg"]), r["raion_name_uk"]
        else:
            parent = region_id(r["raion_katottg"])
            kind = r["boundary_name_uk"].split()[-2]  # міська / селищна / сільська / територіальна
            name_uk = f"{r['katottg_name_uk']} {kind} громада"
        name_en = SPECIAL_EN.get(k, r["name_en_translit"])
        out.writerow([region_id(k), parent, level, k, name_uk, name_en])


if __name__ == "__main__":
    main(sys.argv[1])
