#!/usr/bin/env python3
"""Builds data/regions/ukraine-history-names.csv: the names the public air-raid history
datasets (Vadimkin/ukrainian-air-raid-sirens-dataset, official and volunteer, uk and en) use for
each unit, with the unit's tryvoha region id, so that `tryvoha import history` can map rows.

Run from the project root:  python3 tools/build_history_names.py ../shared/data

Every unit of the registry gets its names, not only those seen in the 2022–2024 files, so that
newer files (with raion alerts, say) map too:
- Ukrainian: the name the file used, else the ukrainealarm name (what the datasets use), else the
  registry name;
- English: the name the file used, else the KMU-2010 transliteration of the Ukrainian name,
  which is how the English files were made (checked below against every English name seen).
Columns: level, oblast (the dataset's name of the unit's oblast), raion (for hromadas: the
raion's name; empty = any raion), name, region_id. A row maps by (level, oblast, raion, name),
then by (level, oblast, "", name)."""
import csv
import os
import sys

# KMU 2010 (Cabinet of Ministers resolution 55): first letter of a word / elsewhere.
TRANSLIT = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": ("ye", "ie"), "ж": "zh",
    "з": "z", "и": "y", "і": "i", "ї": ("yi", "i"), "й": ("y", "i"), "к": "k", "л": "l", "м": "m", "н": "n",
    "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch",
    "ш": "sh", "щ": "shch", "ю": ("yu", "iu"), "я": ("ya", "ia"), "ь": "", "'": "", "’": "", "ʼ": "",
}


def transliterate(text):
    out = []
    for i, ch in enumerate(text):
        lower = ch.lower()
        if lower not in TRANSLIT:
            out.append(ch)
            continue
        value = TRANSLIT[lower]
        # After an apostrophe a vowel is inside the word (Слов'янськ → Sloviansk).
        first = i == 0 or not (text[i - 1].isalpha() or text[i - 1] in "'’ʼ")
        if isinstance(value, tuple):
            value = value[0] if first else value[1]
        if lower == "г" and i > 0 and text[i - 1].lower() == "з":
            value = "gh"  # зг → zgh
        out.append(value.capitalize() if ch.isupper() else value)
    return "".join(out)


def main(shared):
    crosswalk = list(csv.DictReader(open(os.path.join(shared, "crosswalks", "regions_crosswalk.csv"), encoding="utf-8")))
    registry = {r["katottg"]: r for r in csv.DictReader(open("data/regions/ukraine.csv", encoding="utf-8"))}
    by_katottg = {r["katottg"]: r for r in crosswalk}

    def uk_name(unit):
        return unit["alert_history_name_uk"] or unit["ukrainealarm_name"] or registry[unit["katottg"]]["name_uk"]

    def en_name(unit):
        if unit["alert_history_name_en"]:
            return unit["alert_history_name_en"]
        if unit["level"] == "oblast":
            return registry[unit["katottg"]]["name_en"]
        return transliterate(uk_name(unit))

    seen = [(u["alert_history_name_uk"], u["alert_history_name_en"]) for u in crosswalk if u["alert_history_name_uk"] and u["alert_history_name_en"]]
    mismatches = [(uk, en) for uk, en in seen if transliterate(uk) != en and en != "Kyiv City"]
    assert not mismatches, f"the transliteration does not reproduce the datasets: {mismatches[:5]}"

    # A hromada is named with its raion, as the datasets do: a few oblasts have two hromadas
    # of the same name. The same name without the raion is kept where it is unambiguous, for
    # rows whose raion column disagrees with the codifier.
    rows = set()
    for unit in crosswalk:
        oblast = by_katottg[unit["oblast_katottg"]]
        raion = by_katottg.get(unit["raion_katottg"]) if unit["level"] == "hromada" else None
        region_id = int(registry[unit["katottg"]]["id"])
        for name in (uk_name, en_name):
            rows.add((unit["level"], name(oblast), name(raion) if raion else "", name(unit), region_id))
    counts = {}
    for level, oblast, raion, name, region_id in rows:
        counts.setdefault((level, oblast, name), set()).add(region_id)
    for (level, oblast, name), ids in counts.items():
        if level == "hromada" and len(ids) == 1:
            rows.add((level, oblast, "", name, next(iter(ids))))
    keys = [(level, oblast, raion, name) for level, oblast, raion, name, _ in rows]
    duplicates = {k for k in keys if keys.count(k) > 1}
    assert not duplicates, f"names that map to two units: {sorted(duplicates)[:5]}"
    with open("data/regions/ukraine-history-names.csv", "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["level", "oblast", "raion", "name", "region_id"])
        out.writerows(sorted(rows, key=lambda r: (r[4], r[2], r[3])))
    print(f"{len(rows)} names for {len(crosswalk)} units; transliteration checked on {len(seen)} seen names")


if __name__ == "__main__":
    main(sys.argv[1])
