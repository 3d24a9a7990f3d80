#!/usr/bin/env python3
"""Builds the boundary polygons of the bundled Ukrainian region registry.

Run from the project root with the shared data beside it:
    python3 tools/build_ukraine_boundaries.py ../shared/data

Needs shapely 2.x (`pip install 'shapely>=2,<3'`); written and run with shapely 2.2.0
(GEOS 3.14.1, numpy 2.4.6) on Python 3.11. The outputs are committed; the server never reads
the shared data.

Inputs (read-only, under the given data directory):
  boundaries/{regiony,rayony,hromady}.geojson  S. Matuszak, ukrainian_geodata (CC BY 4.0)
  crosswalks/regions_crosswalk.csv             KATOTTG code -> (boundary_file, boundary_key)
and data/regions/ukraine.csv, our registry (id, parent_id, level, katottg, ...).

Outputs (data/boundaries/):
  ukraine-{oblast,raion,hromada}.geojson             full resolution, coordinates to 6 decimals
  ukraine-{oblast,raion,hromada}-simplified.geojson  for drawing only, coordinates to 4 decimals
  checkpoints.csv                                    points with their expected units, for testing
                                                     location lookup
Every Feature has our region id as its `id` and properties {"id", "katottg"} only; names live
in the registry. Geometries are valid MultiPolygons with closed rings, exterior rings
counter-clockwise and holes clockwise (RFC 7946 §3.1.6). Features are sorted by id and the JSON
is compact, so a rebuild from the same inputs (and the same shapely/GEOS) gives byte-identical
files.
"""
import csv
import json
import os
import sys

import numpy as np
import shapely
from shapely.validation import explain_validity
from shapely.geometry import MultiPolygon, Point, Polygon, mapping, shape

OUT_DIR = "data/boundaries"
REGISTRY = "data/regions/ukraine.csv"
LEVELS = ("oblast", "raion", "hromada")

# The key that the crosswalk's `boundary_key` refers to, per source file.
SOURCE_KEYS = {"regiony.geojson": "fid", "rayony.geojson": "fid", "hromady.geojson": "id"}
# shared/data/README.md lists these four as invalid (nested shells / self-intersection) and
# repairable with buffer(0); we repair whatever is invalid and say if that set ever differs.
DOCUMENTED_INVALID = {("regiony.geojson", 0), ("regiony.geojson", 12),
                      ("regiony.geojson", 23), ("rayony.geojson", 55)}
MAX_REPAIR_AREA_CHANGE = 1e-4  # 0.01 %: a repair may remove slivers, never real territory

FULL_DECIMALS = 6        # about 0.1 m; the sources carry at most 4-6 meaningful decimals
SIMPLIFIED_DECIMALS = 4  # about 10 m, far below the simplification tolerance
# Douglas-Peucker tolerance in degrees (0.001 deg is about 110 m north-south, 70 m east-west
# at 50 N). At oblast zoom one screen pixel is about 0.004-0.005 deg, so 0.007 moves a border by
# a pixel or so; at country zoom by a fraction of one. The raion and hromada layers are detailed
# (vertices every few hundred metres) and need that much to fit their budgets. The oblast layer
# is already generalised at the source (a vertex every ~3 km), so its tolerance hardly matters;
# a finer one keeps it closest to the original.
SIMPLIFY_TOLERANCE = {"oblast": 0.003, "raion": 0.007, "hromada": 0.007}
# ... except that no unit is simplified by more than a tenth of its own size (the square root of
# its area): otherwise the two smallest hromadas (Teplodar, Kotsiubynske, about 1.5 km across)
# would turn into triangles. This touches about 24 small hromadas and costs a few dozen vertices.
MAX_TOLERANCE_PER_SIZE = 0.1
# Parts (islets, mostly off Kherson and Crimea) smaller than tolerance squared are dropped from
# the simplified copies: they are under one pixel at oblast zoom, yet each costs at least four
# vertices, and the islets are most of the oblast file. A unit's largest part is always kept.
SIZE_BUDGET = {"oblast": 150_000, "raion": 400_000, "hromada": 1_200_000}  # bytes, simplified

MAX_LEVEL_AREA_SPREAD = 0.01  # the three levels must cover the same territory within 1 %
CHECKPOINT_MARGIN_DEG = 0.001  # a checkpoint must be this far from any border it tests
MIN_CHECKPOINTS = 40

# Checkpoints for oblast centres and other well-known towns: (English name, the codifier name
# of the hromada named after the town, its oblast). The point is the representative point of
# that hromada's polygon, i.e. some interior point of the hromada, not the town centre.
TOWN_HROMADAS = [
    ("Vinnytsia", "Вінницька", "Вінницька область"),
    ("Lutsk", "Луцька", "Волинська область"),
    ("Dnipro", "Дніпровська", "Дніпропетровська область"),
    ("Donetsk", "Донецька", "Донецька область"),
    ("Zhytomyr", "Житомирська", "Житомирська область"),
    ("Uzhhorod", "Ужгородська", "Закарпатська область"),
    ("Zaporizhzhia", "Запорізька", "Запорізька область"),
    ("Ivano-Frankivsk", "Івано-Франківська", "Івано-Франківська область"),
    ("Kropyvnytskyi", "Кропивницька", "Кіровоградська область"),
    ("Luhansk", "Луганська", "Луганська область"),
    ("Lviv", "Львівська", "Львівська область"),
    ("Mykolaiv", "Миколаївська", "Миколаївська область"),
    ("Odesa", "Одеська", "Одеська область"),
    ("Poltava", "Полтавська", "Полтавська область"),
    ("Rivne", "Рівненська", "Рівненська область"),
    ("Sumy", "Сумська", "Сумська область"),
    ("Ternopil", "Тернопільська", "Тернопільська область"),
    ("Kharkiv", "Харківська", "Харківська область"),
    ("Kherson", "Херсонська", "Херсонська область"),
    ("Khmelnytskyi", "Хмельницька", "Хмельницька область"),
    ("Cherkasy", "Черкаська", "Черкаська область"),
    ("Chernivtsi", "Чернівецька", "Чернівецька область"),
    ("Chernihiv", "Чернігівська", "Чернігівська область"),
    # Kyiv oblast's administrative centre is Kyiv city, a unit of its own; these stand for it.
    ("Bila Tserkva", "Білоцерківська", "Київська область"),
    ("Brovary", "Броварська", "Київська область"),
    ("Slavutych", "Славутицька", "Київська область"),
    ("Kryvyi Rih", "Криворізька", "Дніпропетровська область"),
    ("Nikopol", "Нікопольська", "Дніпропетровська область"),
    ("Mariupol", "Маріупольська", "Донецька область"),
    ("Kramatorsk", "Краматорська", "Донецька область"),
    ("Kremenchuk", "Кременчуцька", "Полтавська область"),
    ("Uman", "Уманська", "Черкаська область"),
    ("Berdychiv", "Бердичівська", "Житомирська область"),
    ("Kamianets-Podilskyi", "Кам'янець-Подільська", "Хмельницька область"),
    ("Drohobych", "Дрогобицька", "Львівська область"),
    ("Mukachevo", "Мукачівська", "Закарпатська область"),
    ("Izmail", "Ізмаїльська", "Одеська область"),
    ("Melitopol", "Мелітопольська", "Запорізька область"),
    ("Konotop", "Конотопська", "Сумська область"),
    ("Kovel", "Ковельська", "Волинська область"),
    ("Oleksandriia", "Олександрійська", "Кіровоградська область"),
    ("Nizhyn", "Ніжинська", "Чернігівська область"),
]
# Crimea and Sevastopol have no hromada polygons (and Sevastopol no raions) in the registry,
# so they are represented by the representative point of the finest polygon there is.
UNSUBDIVIDED_POINTS = [
    # (name, level of the polygon, codifier name, oblast)
    ("Simferopolskyi raion (Crimea)", "raion", "Сімферопольський", "Автономна Республіка Крим"),
    ("Sevastopol", "oblast", "Севастополь", "м. Севастополь"),
]
# Kyiv city: metro station nodes from the OSM export (name:uk), spread over the city.
KYIV_METRO_STATIONS = ["Майдан Незалежності", "Хрещатик", "Вокзальна", "Лівобережна",
                       "Теремки", "Героїв Дніпра", "Академмістечко", "Лісова", "Почайна"]
KYIV_KATOTTG = "UA80000000000093317"


# ---------------------------------------------------------------------------------------------
# Reading and joining


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def load_source_polygons(data_dir):
    """{(file, key): geometry} for every feature of the three Matuszak files."""
    polygons = {}
    for file, key in SOURCE_KEYS.items():
        with open(os.path.join(data_dir, "boundaries", file), encoding="utf-8") as f:
            collection = json.load(f)
        for feature in collection["features"]:
            polygons[(file, feature["properties"][key])] = shape(feature["geometry"])
    return polygons


def repair_invalid_polygons(polygons):
    """buffer(0) every invalid geometry; each repair must be valid and keep its area."""
    repaired = set()
    for source, geom in polygons.items():
        if geom.is_valid:
            continue
        fixed = geom.buffer(0)
        change = abs(fixed.area - geom.area) / geom.area
        assert fixed.is_valid and change < MAX_REPAIR_AREA_CHANGE, (source, change)
        print(f"repaired {source[0]} {SOURCE_KEYS[source[0]]} {source[1]}: "
              f"{explain_validity(geom)}; area change {change:.6%}")
        polygons[source] = fixed
        repaired.add(source)
    if repaired != DOCUMENTED_INVALID:
        print(f"NOTE: repaired set differs from the documented one: {sorted(repaired)}")
    return polygons


def join_registry_to_polygons(registry, crosswalk, polygons):
    """[(region id, level, katottg, geometry)] for every registry unit, via the KATOTTG code.

    Fails if a unit has no polygon, a crosswalk row has no unit, or a polygon serves twice:
    any of those would silently put a region on the map in the wrong place or not at all.
    """
    by_katottg = {row["katottg"]: row for row in crosswalk}
    assert len(by_katottg) == len(crosswalk), "duplicate KATOTTG in the crosswalk"
    registry_codes = {row["katottg"] for row in registry}
    assert registry_codes == set(by_katottg), registry_codes ^ set(by_katottg)
    used = set()
    units = []
    for row in registry:
        link = by_katottg[row["katottg"]]
        assert link["level"] == row["level"], row
        source = (link["boundary_file"], int(link["boundary_key"]))
        assert source in polygons, (row, source)
        assert source not in used, f"polygon {source} joined twice"
        used.add(source)
        units.append((int(row["id"]), row["level"], row["katottg"], polygons[source]))
    return units


# ---------------------------------------------------------------------------------------------
# Geometry


def as_multipolygon(geom):
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    assert isinstance(geom, MultiPolygon), geom.geom_type
    return geom


def round_keeping_valid(geom, decimals, label):
    """Round coordinates; where rounding breaks validity, snap-round with GEOS instead.

    Plain rounding leaves the geometry as it is except for the last digits. Only if that
    collapses a ring or makes it touch or cross itself (possible where vertices are closer
    than the grid: two raions have holes of 1e-11 deg2 or less, digitising leftovers) do we
    fall back to set_precision, whose snap-rounding always gives valid output.
    """
    rounded = shapely.transform(geom, lambda xy: np.round(xy, decimals))
    try:
        rounded = shapely.remove_repeated_points(rounded)
        problem = None if rounded.is_valid else explain_validity(rounded)
    except shapely.errors.GEOSException as e:  # a ring collapsed below 4 points
        problem = str(e)
    if problem:
        print(f"  {label}: rounding to {decimals} decimals gave {problem}; snap-rounded instead")
        rounded = shapely.set_precision(geom, 10.0 ** -decimals)
    return as_multipolygon(rounded)


def drop_specks(geom, min_area):
    """Drop the parts smaller than min_area, always keeping the largest part."""
    parts = list(as_multipolygon(geom).geoms)
    largest = max(parts, key=lambda p: p.area)
    return MultiPolygon([p for p in parts if p is largest or p.area >= min_area])


def orient_rfc7946(geom):
    """Exterior rings counter-clockwise, holes clockwise (RFC 7946 §3.1.6)."""
    return as_multipolygon(shapely.orient_polygons(geom, exterior_cw=False))


def signed_ring_area(ring):
    """Shoelace; positive for a counter-clockwise ring."""
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:])) / 2


def geojson_geometry(geom, decimals):
    """MultiPolygon as plain lists, coordinates rounded (so JSON prints the short decimal)."""
    return {
        "type": "MultiPolygon",
        "coordinates": [
            [[[round(x, decimals), round(y, decimals)] for x, y in ring] for ring in polygon]
            for polygon in mapping(geom)["coordinates"]
        ],
    }


# ---------------------------------------------------------------------------------------------
# Writing and verifying the GeoJSON files


def write_feature_collection(path, features, decimals):
    """features: [(region id, katottg, MultiPolygon)], already valid and oriented."""
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "id": rid, "properties": {"id": rid, "katottg": katottg},
             "geometry": geojson_geometry(geom, decimals)}
            for rid, katottg, geom in sorted(features, key=lambda f: f[0])
        ],
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(collection, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


def read_and_verify_written(path, expected):
    """Re-read a written file and check everything promised about it; {id: geometry}.

    Checking the file as written (not the shapely objects we meant to write) catches anything
    the rounding during serialisation might have broken.
    """
    with open(path, encoding="utf-8") as f:
        features = json.load(f)["features"]
    ids = [feature["id"] for feature in features]
    assert ids == sorted(expected), f"{path}: ids differ from the registry or are unsorted"
    geoms = {}
    for feature in features:
        rid = feature["id"]
        assert feature["properties"] == {"id": rid, "katottg": expected[rid]}, feature["properties"]
        assert feature["geometry"]["type"] == "MultiPolygon", rid
        for polygon in feature["geometry"]["coordinates"]:
            for i, ring in enumerate(polygon):
                assert len(ring) >= 4 and ring[0] == ring[-1], f"{path}: {rid} ring not closed"
                area = signed_ring_area(ring)
                assert (area > 0) if i == 0 else (area < 0), f"{path}: {rid} ring orientation"
        geom = shape(feature["geometry"])
        assert geom.is_valid, f"{path}: {rid} {explain_validity(geom)}"
        geoms[rid] = geom
    return geoms


def build_level_files(units, level):
    """Full-resolution and simplified files of one level; returns the verified geometries."""
    chosen = [(rid, katottg, geom) for rid, lvl, katottg, geom in units if lvl == level]
    expected = {rid: katottg for rid, katottg, _ in chosen}

    full = [(rid, k, orient_rfc7946(round_keeping_valid(
        as_multipolygon(g), FULL_DECIMALS, f"{level} {rid}"))) for rid, k, g in chosen]
    for (rid, _, before), (_, _, after) in zip(chosen, full):
        change = abs(after.area - before.area) / before.area
        assert change < MAX_REPAIR_AREA_CHANGE, (level, rid, change)  # rounding moved a border
    full_path = os.path.join(OUT_DIR, f"ukraine-{level}.geojson")
    write_feature_collection(full_path, full, FULL_DECIMALS)
    full_geoms = read_and_verify_written(full_path, expected)

    tolerance = SIMPLIFY_TOLERANCE[level]
    simplified = []
    for rid, k, g in full:
        own_tolerance = min(tolerance, MAX_TOLERANCE_PER_SIZE * g.area ** 0.5)
        drawn = drop_specks(g.simplify(own_tolerance, preserve_topology=True), tolerance ** 2)
        simplified.append((rid, k, orient_rfc7946(round_keeping_valid(
            drawn, SIMPLIFIED_DECIMALS, f"simplified {level} {rid}"))))
    simple_path = os.path.join(OUT_DIR, f"ukraine-{level}-simplified.geojson")
    write_feature_collection(simple_path, simplified, SIMPLIFIED_DECIMALS)
    simple_geoms = read_and_verify_written(simple_path, expected)

    vertices = lambda gs: sum(shapely.get_num_coordinates(g) for g in gs.values())  # noqa: E731
    print(f"{level:8} {len(full_geoms):5} features  full {os.path.getsize(full_path):>10,} B "
          f"({vertices(full_geoms):,} vertices)  simplified (tolerance {tolerance}) "
          f"{os.path.getsize(simple_path):>9,} B ({vertices(simple_geoms):,} vertices)")
    if os.path.getsize(simple_path) > SIZE_BUDGET[level]:
        print(f"WARNING: {simple_path} is over its budget of {SIZE_BUDGET[level]:,} B")
    worst = max(abs(simple_geoms[r].area - full_geoms[r].area) / full_geoms[r].area
                for r in full_geoms)
    print(f"         largest area change from simplification: {worst:.2%}")
    return full_geoms


# ---------------------------------------------------------------------------------------------
# Consistency checks across levels


def check_levels_cover_same_territory(registry, geoms):
    """The three levels must tile the same territory.

    A level alone does not cover the country: Kyiv and Sevastopol have no raions, and Crimea's
    raions have no hromadas. So each level is completed with the finest unit above it that has
    no children at that level, and those completed sums must agree within 1 %.
    """
    children = {}
    for row in registry:
        if row["parent_id"]:
            children.setdefault(int(row["parent_id"]), []).append(int(row["id"]))
    level_of = {int(row["id"]): row["level"] for row in registry}

    def covering_area(rid, level):
        if level_of[rid] == level or rid not in children:
            return geoms[level_of[rid]][rid].area
        return sum(covering_area(child, level) for child in children[rid])

    roots = [int(row["id"]) for row in registry if row["level"] == "oblast"]
    totals = {}
    for level in LEVELS:
        raw = sum(g.area for g in geoms[level].values())
        totals[level] = sum(covering_area(rid, level) for rid in roots)
        print(f"area {level:8} own units {raw:8.4f} deg2, with undivided units above "
              f"{totals[level]:8.4f} deg2")
    spread = (max(totals.values()) - min(totals.values())) / max(totals.values())
    print(f"levels agree within {spread:.3%}")
    assert spread < MAX_LEVEL_AREA_SPREAD, totals


def report_units_outside_ancestors(registry, geoms):
    """Print units whose polygon lies less than 90 % inside the polygon of a registry ancestor.

    The three source layers were drawn separately (regiony is much more generalised), so
    borders do not coincide exactly and a few percent outside is normal. More than that means
    a point there is found in a raion or oblast polygon that is not the unit's ancestor.
    """
    parent_of = {int(r["id"]): int(r["parent_id"]) for r in registry if r["parent_id"]}
    katottg_of = {int(r["id"]): r["katottg"] for r in registry}
    name_of = {int(r["id"]): r["name_uk"] for r in registry}
    trees = {level: (list(geoms[level]), shapely.STRtree(list(geoms[level].values())))
             for level in ("oblast", "raion")}
    for child_level, ancestor_level, hops in (("raion", "oblast", 1), ("hromada", "raion", 1),
                                              ("hromada", "oblast", 2)):
        ids, tree = trees[ancestor_level]
        for rid, geom in sorted(geoms[child_level].items()):
            ancestor = rid
            for _ in range(hops):
                ancestor = parent_of[ancestor]
            share = {ids[i]: geom.intersection(geoms[ancestor_level][ids[i]]).area / geom.area
                     for i in tree.query(geom)}
            own = share.pop(ancestor, 0.0)
            if own < 0.9:
                others = ", ".join(f"{share[o]:.1%} in {o} {name_of[o]}"
                                   for o in sorted(share, key=share.get, reverse=True)[:2]
                                   if share[o] >= 0.001)
                print(f"  {child_level} {rid} {katottg_of[rid]} {name_of[rid]}: {own:.1%} in its "
                      f"{ancestor_level} {ancestor} {name_of[ancestor]}; "
                      f"{others or 'rest in no polygon'}")


def report_kyiv_hole(geoms, kyiv_id, kyiv_oblast_id):
    """Kyiv oblast's polygon has a hole for the city; say how well the city polygon fits it."""
    city, oblast = geoms["oblast"][kyiv_id], geoms["oblast"][kyiv_oblast_id]
    holes = shapely.union_all([Polygon(h) for p in oblast.geoms for h in p.interiors])
    print(f"Kyiv city {city.area:.5f} deg2, hole in Kyiv oblast {holes.area:.5f} deg2; "
          f"city outside the hole {city.difference(holes).area:.5f}, hole not covered by the "
          f"city {holes.difference(city).area:.5f} deg2")


# ---------------------------------------------------------------------------------------------
# Checkpoints for location lookup


def checkpoint_candidates(data_dir, crosswalk, polygons):
    """[(name, lat, lon, expected {level: katottg or ''}, source)] before verification."""
    candidates = []

    def expected_for(row):
        return {"hromada": row["katottg"] if row["level"] == "hromada" else "",
                "raion": row["raion_katottg"], "oblast": row["oblast_katottg"]}

    def representative(row):
        point = polygons[(row["boundary_file"], int(row["boundary_key"]))].representative_point()
        return round(point.y, FULL_DECIMALS), round(point.x, FULL_DECIMALS)

    def one_row(level, codifier_name, oblast_name):
        found = [r for r in crosswalk if r["level"] == level and r["oblast_name_uk"] == oblast_name
                 and r["katottg_name_uk"] == codifier_name]
        assert len(found) == 1, (codifier_name, oblast_name, len(found))
        return found[0]

    for name, codifier_name, oblast_name in TOWN_HROMADAS:
        row = one_row("hromada", codifier_name, oblast_name)
        lat, lon = representative(row)
        candidates.append((name, lat, lon, expected_for(row),
                           f"representative point of hromada {row['boundary_name_uk']} "
                           f"(hromady.geojson id {row['boundary_key']})"))
    for name, level, codifier_name, oblast_name in UNSUBDIVIDED_POINTS:
        row = one_row(level, codifier_name, oblast_name)
        lat, lon = representative(row)
        kind = "oblast-level unit" if level == "oblast" else level
        candidates.append((name, lat, lon, expected_for(row),
                           f"representative point of {kind} {row['boundary_name_uk']} "
                           f"({row['boundary_file']} fid {row['boundary_key']})"))

    with open(os.path.join(data_dir, "shelters", "kyiv_metro_stations_osm.geojson"),
              encoding="utf-8") as f:
        stations = {s["properties"]["name:uk"]: s for s in json.load(f)["features"]
                    if s["properties"].get("railway") == "station"}
    kyiv = {"hromada": "", "raion": "", "oblast": KYIV_KATOTTG}
    for station_name in KYIV_METRO_STATIONS:
        station = stations[station_name]
        lon, lat = station["geometry"]["coordinates"]
        candidates.append((f"Kyiv, metro {station['properties']['name:en']}",
                           round(lat, FULL_DECIMALS), round(lon, FULL_DECIMALS), kyiv,
                           f"OSM {station['properties']['@id']} (metro station {station_name}), "
                           "kyiv_metro_stations_osm.geojson, ODbL"))
    return candidates


def lookup_failure(point, expected_id, level_geoms, tree, ids):
    """Why `point` does not resolve to exactly `expected_id` (None = none) at one level, or None.

    The point must lie in that one polygon and be at least CHECKPOINT_MARGIN_DEG from every
    polygon border of the level, so the test cannot flip on a small change of the data.
    """
    hits = [ids[i] for i in tree.query(point, predicate="intersects")]
    wanted = [] if expected_id is None else [expected_id]
    if hits != wanted:
        return f"found {hits}, expected {wanted}"
    near = [ids[i] for i in tree.query(point, predicate="dwithin", distance=CHECKPOINT_MARGIN_DEG)]
    for rid in near:
        if level_geoms[rid].boundary.distance(point) < CHECKPOINT_MARGIN_DEG:
            return f"within {CHECKPOINT_MARGIN_DEG} deg of the border of {rid}"
    return None


def write_checkpoints(candidates, registry, geoms):
    id_of = {r["katottg"]: int(r["id"]) for r in registry}
    lookups = {}
    for level in LEVELS:
        ids = list(geoms[level])
        lookups[level] = (geoms[level], shapely.STRtree([geoms[level][i] for i in ids]), ids)
    kept = []
    for name, lat, lon, expected, source in candidates:
        point = Point(lon, lat)
        failures = [f"{level}: {why}" for level in LEVELS
                    if (why := lookup_failure(point, id_of.get(expected[level]), *lookups[level]))]
        if failures:
            print(f"  dropped checkpoint {name}: {'; '.join(failures)}")
        else:
            kept.append((name, lat, lon, expected, source))
    path = os.path.join(OUT_DIR, "checkpoints.csv")
    with open(path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["name", "lat", "lon", "expected_hromada_katottg", "expected_raion_katottg",
                      "expected_oblast_katottg", "source"])
        for name, lat, lon, expected, source in kept:
            out.writerow([name, f"{lat:.6f}", f"{lon:.6f}", expected["hromada"],
                          expected["raion"], expected["oblast"], source])
    print(f"checkpoints: {len(kept)} of {len(candidates)} kept, {os.path.getsize(path):,} B")
    assert len(kept) >= MIN_CHECKPOINTS, len(kept)


# ---------------------------------------------------------------------------------------------


def main(data_dir):
    registry = read_csv(REGISTRY)
    crosswalk = read_csv(os.path.join(data_dir, "crosswalks", "regions_crosswalk.csv"))
    polygons = repair_invalid_polygons(load_source_polygons(data_dir))
    units = join_registry_to_polygons(registry, crosswalk, polygons)

    os.makedirs(OUT_DIR, exist_ok=True)
    geoms = {level: build_level_files(units, level) for level in LEVELS}

    check_levels_cover_same_territory(registry, geoms)
    print("units less than 90 % inside their registry ancestor's polygon:")
    report_units_outside_ancestors(registry, geoms)
    by_katottg = {r["katottg"]: int(r["id"]) for r in registry}
    report_kyiv_hole(geoms, by_katottg[KYIV_KATOTTG], by_katottg["UA32000000000030281"])

    write_checkpoints(checkpoint_candidates(data_dir, crosswalk, polygons), registry, geoms)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
