#!/usr/bin/env python3
"""Builds data/shelters/kyiv-metro.geojson, the bundled example shelters, from the OpenStreetMap
export of Kyiv metro stations (ODbL, © OpenStreetMap contributors).

Run from the project root:  python3 tools/build_kyiv_metro_shelters.py ../shared/data
Keeps the operating stations (railway=station; the one under construction is left out) with
the properties tryvoha reads: name_uk, name_en, kind, wheelchair, opening_hours, and the OSM
node id for traceability. Metro stations in Kyiv are designated dual-use civil-defence
shelters; they are points of the station node, not of its entrances.
"""
import json
import os
import sys


def main(shared):
    source = json.load(open(os.path.join(shared, "shelters", "kyiv_metro_stations_osm.geojson"), encoding="utf-8"))
    features = []
    for feature in source["features"]:
        tags = feature["properties"]
        if tags.get("railway") != "station":
            continue
        properties = {
            "name_uk": tags.get("name:uk") or tags["name"],
            "name_en": tags.get("name:en"),
            "kind": "metro_station",
            "osm": tags["@id"],
        }
        if tags.get("wheelchair") in ("yes", "no", "limited"):
            properties["wheelchair"] = tags["wheelchair"]
        if tags.get("opening_hours"):
            properties["opening_hours"] = tags["opening_hours"]
        lon, lat = feature["geometry"]["coordinates"]
        features.append({"type": "Feature", "properties": properties,
                         "geometry": {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]}})
    features.sort(key=lambda f: f["properties"]["osm"])
    out = {"type": "FeatureCollection",
           "attribution": "© OpenStreetMap contributors (ODbL 1.0)",
           "features": features}
    with open("data/shelters/kyiv-metro.geojson", "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"{len(features)} stations")


if __name__ == "__main__":
    main(sys.argv[1])
