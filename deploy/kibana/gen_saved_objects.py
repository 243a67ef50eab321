#!/usr/bin/env python3
"""Generate deploy/kibana/saved_objects.ndjson, the Kibana 8 saved objects of newsflow.

The .ndjson is what Kibana imports (POST /api/saved_objects/_import, see import.sh); this
script is its source, because Kibana nests JSON documents as strings (searchSourceJSON,
panelsJSON, layerListJSON) that are unpleasant to edit by hand. After a change:

    python3 deploy/kibana/gen_saved_objects.py > deploy/kibana/saved_objects.ndjson
    (cd pkg && go test ./deploycheck/)

pkg/deploycheck checks that every field an object names exists in the index mapping
(pkg/index/templates.go) with a type that supports its use, and that every reference resolves.
Only the standard library is used.
"""
import json
import sys

CORE = "8.8.0"
ARTICLES = "newsflow-articles"  # data view id and title = the read alias
ALERTS = "newsflow-alerts"
IDX_REF = "kibanaSavedObjectMeta.searchSourceJSON.index"

objects = []


def add(obj_type, obj_id, type_version, attributes, references=()):
    objects.append({
        "type": obj_type,
        "id": obj_id,
        "attributes": attributes,
        "references": list(references),
        "coreMigrationVersion": CORE,
        "typeMigrationVersion": type_version,
    })


def data_view(obj_id, time_field, name, field_formats=None):
    add("index-pattern", obj_id, "8.0.0", {
        "title": obj_id,  # the alias the data view reads
        "name": name,
        "timeFieldName": time_field,
        "allowNoIndex": True,  # importable before the indexer created the first monthly index
        "fields": "[]",  # Kibana reads field lists from the mapping at runtime
        "fieldAttrs": "{}",
        "fieldFormatMap": json.dumps(field_formats or {}, separators=(",", ":")),
        "runtimeFieldMap": "{}",
        "sourceFilters": json.dumps([{"value": "text_lang"}, {"value": "entity_details"}], separators=(",", ":")),
        "typeMeta": "{}",
    })


def search_source(query="", index=True, filters=()):
    s = {"query": {"query": query, "language": "kuery"}, "filter": list(filters)}
    if index:
        s["indexRefName"] = IDX_REF
    return {"searchSourceJSON": json.dumps(s, separators=(",", ":"))}


def saved_search(obj_id, title, description, view, columns, sort, query=""):
    add("search", obj_id, "8.0.0", {
        "title": title,
        "description": description,
        "columns": columns,
        "sort": sort,
        "grid": {},
        "hideChart": False,
        "isTextBasedQuery": False,
        "kibanaSavedObjectMeta": search_source(query),
    }, [{"name": IDX_REF, "type": "index-pattern", "id": view}])


# --- Lens helpers -------------------------------------------------------------------------

def col_date(field, label):
    return {"label": label, "dataType": "date", "operationType": "date_histogram",
            "sourceField": field, "isBucketed": True, "scale": "interval",
            "params": {"interval": "auto", "includeEmptyRows": True, "dropPartials": False}}


def col_terms(field, label, size, order_by="count"):
    return {"label": label, "dataType": "string", "operationType": "terms",
            "sourceField": field, "isBucketed": True, "scale": "ordinal",
            "params": {"size": size, "orderBy": {"type": "column", "columnId": order_by},
                       "orderDirection": "desc", "otherBucket": True, "missingBucket": False,
                       "parentFormat": {"id": "terms"}}}


def col_count(label="Articles"):
    return {"label": label, "customLabel": True, "dataType": "number", "operationType": "count",
            "sourceField": "___records___", "isBucketed": False, "scale": "ratio",
            "params": {"emptyAsNull": True}}


def col_metric(op, field, label):
    return {"label": label, "customLabel": True, "dataType": "number", "operationType": op,
            "sourceField": field, "isBucketed": False, "scale": "ratio",
            "params": {"emptyAsNull": True}}


def lens(obj_id, title, description, view, columns, visualization, vis_type="lnsXY",
         query="", layer="layer1"):
    """columns: ordered list of (column id, column)."""
    add("lens", obj_id, "8.6.0", {
        "title": title,
        "description": description,
        "visualizationType": vis_type,
        "state": {
            "datasourceStates": {"formBased": {"layers": {layer: {
                "columnOrder": [cid for cid, _ in columns],
                "columns": {cid: c for cid, c in columns},
                "incompleteColumns": {},
                "sampling": 1,
            }}}},
            "visualization": visualization,
            "query": {"query": query, "language": "kuery"},
            "filters": [],
            "internalReferences": [],
            "adHocDataViews": {},
        },
    }, [{"type": "index-pattern", "id": view, "name": "indexpattern-datasource-layer-" + layer}])


def xy(series, x, y, split=None, layer="layer1", legend="right"):
    l = {"layerId": layer, "layerType": "data", "seriesType": series, "xAccessor": x,
         "accessors": [y], "position": "top", "showGridlines": False}
    if split:
        l["splitAccessor"] = split
    return {"legend": {"isVisible": True, "position": legend}, "valueLabels": "hide",
            "fittingFunction": "None", "preferredSeriesType": series, "layers": [l],
            "axisTitlesVisibilitySettings": {"x": False, "yLeft": True, "yRight": True}}


# --- Data views -----------------------------------------------------------------------------

data_view(ARTICLES, "published_at", "newsflow articles",
          {"sentiment": {"id": "number", "params": {"pattern": "0.00"}},
           "url": {"id": "url", "params": {"labelTemplate": "{{value}}"}}})
data_view(ALERTS, "fired_at", "newsflow alerts",
          {"score": {"id": "number", "params": {"pattern": "0.0"}}})

# --- Saved searches -------------------------------------------------------------------------

saved_search("newsflow-latest-articles", "newsflow: latest articles",
             "Newest articles first, one row per article (duplicates included; see the wire copies search).",
             ARTICLES,
             ["title", "source.name", "language", "entities.per", "entities.org", "keywords", "sentiment", "url"],
             [["published_at", "desc"]])
saved_search("newsflow-wire-copies", "newsflow: duplicates and wire copies",
             "Near-duplicates (reprints of one agency story): is_duplicate with the cluster and the original they copy.",
             ARTICLES,
             ["title", "source.name", "cluster_id", "duplicate_of", "simhash", "published_at"],
             [["cluster_id", "asc"], ["published_at", "asc"]],
             query="is_duplicate:true")
saved_search("newsflow-negative-articles", "newsflow: negative-sentiment articles",
             "Originals (no wire copies) with a clearly negative tone (VADER compound <= -0.5), most recent first.",
             ARTICLES,
             ["title", "source.name", "sentiment", "entities.org", "places.names", "published_at"],
             [["published_at", "desc"], ["sentiment", "asc"]],
             query="sentiment <= -0.5 and not is_duplicate:true")
saved_search("newsflow-latest-alerts", "newsflow: latest alerts",
             "Alerts as the alerter fired them: the term, the rule that fired, its score and the reason.",
             ALERTS,
             ["term", "term_kind", "rule_type", "rule_id", "status", "score", "current", "baseline", "reason", "top_sources"],
             [["fired_at", "desc"]],
             query="not status:resolved")

# --- Lens visualisations ----------------------------------------------------------------------

lens("newsflow-articles-by-source", "newsflow: articles over time by source",
     "Articles per interval of published_at, stacked by the 10 busiest sources.", ARTICLES,
     [("date", col_date("published_at", "published_at")),
      ("source", col_terms("source.name", "Source", 10)),
      ("count", col_count())],
     xy("bar_stacked", "date", "count", "source"))
lens("newsflow-articles-by-language", "newsflow: articles over time by language",
     "Articles per interval of published_at, by detected language.", ARTICLES,
     [("date", col_date("published_at", "published_at")),
      ("lang", col_terms("language", "Language", 8)),
      ("count", col_count())],
     xy("area_stacked", "date", "count", "lang"))

for kind, field, label in (("people", "entities.per", "People"),
                           ("organisations", "entities.org", "Organisations"),
                           ("places", "entities.loc", "Places")):
    lens("newsflow-top-" + kind, "newsflow: top " + kind,
         "Most mentioned %s (canonical entity names, %s)." % (kind, field), ARTICLES,
         [("term", col_terms(field, label, 15)), ("count", col_count())],
         xy("bar_horizontal", "term", "count", legend="right"),
         query="not is_duplicate:true")

lens("newsflow-top-keywords", "newsflow: top keywords",
     "Most frequent extracted keywords (keyphrases) of original articles.", ARTICLES,
     [("kw", col_terms("keywords", "Keyword", 25)), ("count", col_count())],
     {"shape": "treemap", "layers": [
         {"layerId": "layer1", "layerType": "data", "primaryGroups": ["kw"], "metrics": ["count"],
          "numberDisplay": "value", "categoryDisplay": "default", "legendDisplay": "hide",
          "nestedLegend": False}]},
     vis_type="lnsPie", query="not is_duplicate:true")

lens("newsflow-sentiment-over-time", "newsflow: sentiment over time",
     "Average VADER compound sentiment (-1..1) of articles per interval, by language.", ARTICLES,
     [("date", col_date("published_at", "published_at")),
      ("lang", col_terms("language", "Language", 5)),
      ("avg", col_metric("average", "sentiment", "Average sentiment"))],
     xy("line", "date", "avg", "lang"))

lens("newsflow-alerts-over-time", "newsflow: alerts over time by rule type",
     "Alerts fired per interval (spike, new_term, es_spike, watch).", ALERTS,
     [("date", col_date("fired_at", "fired_at")),
      ("rule", col_terms("rule_type", "Rule type", 5)),
      ("count", col_count("Alerts"))],
     xy("bar_stacked", "date", "count", "rule"))

# --- Map of places ---------------------------------------------------------------------------

map_layers = [
    {"id": "basemap", "label": None, "minZoom": 0, "maxZoom": 24, "alpha": 1, "visible": True,
     "includeInFitToBounds": True, "type": "EMS_VECTOR_TILE",
     "sourceDescriptor": {"type": "EMS_TMS", "isAutoSelect": True, "lightModeDefault": "road_map_desaturated"},
     "style": {"type": "EMS_VECTOR_TILE", "color": ""}},
    {"id": "places-grid", "label": "Articles by place (clusters)", "minZoom": 0, "maxZoom": 24,
     "alpha": 0.75, "visible": True, "includeInFitToBounds": True, "type": "GEOJSON_VECTOR",
     "joins": [],
     "sourceDescriptor": {"type": "ES_GEO_GRID", "id": "places-grid-source",
                          "geoField": "places.locations", "requestType": "point",
                          "resolution": "COARSE", "applyGlobalQuery": True, "applyGlobalTime": True,
                          "applyForceRefresh": True,
                          "metrics": [{"type": "count", "label": "Articles"}],
                          "indexPatternRefName": "layer_1_source_index_pattern"},
     "style": {"type": "VECTOR", "isTimeAware": True, "properties": {
         "fillColor": {"type": "DYNAMIC", "options": {"color": "Blues", "colorCategory": "palette_0",
                                                     "field": {"name": "doc_count", "origin": "source"},
                                                     "fieldMetaOptions": {"isEnabled": True, "sigma": 3},
                                                     "type": "ORDINAL"}},
         "iconSize": {"type": "DYNAMIC", "options": {"minSize": 7, "maxSize": 32,
                                                    "field": {"name": "doc_count", "origin": "source"},
                                                    "fieldMetaOptions": {"isEnabled": True, "sigma": 3}}},
         "labelText": {"type": "DYNAMIC", "options": {"field": {"name": "doc_count", "origin": "source"}}}}}},
    {"id": "places-docs", "label": "Latest articles", "minZoom": 5, "maxZoom": 24, "alpha": 0.9,
     "visible": True, "includeInFitToBounds": True, "type": "MVT_VECTOR", "joins": [],
     "sourceDescriptor": {"type": "ES_SEARCH", "id": "places-docs-source",
                          "geoField": "places.locations", "scalingType": "MVT",
                          "filterByMapBounds": True, "applyGlobalQuery": True, "applyGlobalTime": True,
                          "applyForceRefresh": True,
                          "tooltipProperties": ["title", "source.name", "places.names", "published_at"],
                          "sortField": "published_at", "sortOrder": "desc",
                          "topHitsSplitField": "", "topHitsSize": 1,
                          "indexPatternRefName": "layer_2_source_index_pattern"},
     "style": {"type": "VECTOR", "isTimeAware": True, "properties": {
         "fillColor": {"type": "STATIC", "options": {"color": "#E7664C"}},
         "iconSize": {"type": "STATIC", "options": {"size": 6}}}}},
]
add("map", "newsflow-places-map", "8.4.0", {
    "title": "newsflow: map of places",
    "description": "Where the news happens: article place mentions (places.locations) clustered, and the latest articles when zoomed in.",
    "mapStateJSON": json.dumps({"zoom": 1.5, "center": {"lon": 10, "lat": 30},
                                "timeFilters": {"from": "now-24h", "to": "now"},
                                "refreshConfig": {"isPaused": False, "interval": 60000},
                                "query": {"query": "", "language": "kuery"}, "filters": [],
                                "settings": {"autoFitToDataBounds": False}},
                               separators=(",", ":")),
    "layerListJSON": json.dumps(map_layers, separators=(",", ":")),
    "uiStateJSON": json.dumps({"isLayerTOCOpen": True, "openTOCDetails": []}, separators=(",", ":")),
}, [{"name": "layer_1_source_index_pattern", "type": "index-pattern", "id": ARTICLES},
    {"name": "layer_2_source_index_pattern", "type": "index-pattern", "id": ARTICLES}])

# --- Dashboard -------------------------------------------------------------------------------

panels = [  # (type, id, x, y, w, h)
    ("lens", "newsflow-articles-by-source", 0, 0, 24, 14),
    ("lens", "newsflow-articles-by-language", 24, 0, 24, 14),
    ("lens", "newsflow-top-people", 0, 14, 16, 15),
    ("lens", "newsflow-top-organisations", 16, 14, 16, 15),
    ("lens", "newsflow-top-places", 32, 14, 16, 15),
    ("lens", "newsflow-top-keywords", 0, 29, 24, 16),
    ("lens", "newsflow-sentiment-over-time", 24, 29, 24, 16),
    ("map", "newsflow-places-map", 0, 45, 30, 20),
    ("lens", "newsflow-alerts-over-time", 30, 45, 18, 10),
    ("search", "newsflow-latest-alerts", 30, 55, 18, 10),
    ("search", "newsflow-latest-articles", 0, 65, 48, 15),
]
panels_json, refs = [], []
for n, (ptype, pid, x, y, w, h) in enumerate(panels, 1):
    idx = str(n)
    panels_json.append({"version": CORE, "type": ptype, "panelIndex": idx,
                        "gridData": {"x": x, "y": y, "w": w, "h": h, "i": idx},
                        "embeddableConfig": {"enhancements": {}},
                        "panelRefName": "panel_" + idx})
    refs.append({"name": idx + ":panel_" + idx, "type": ptype, "id": pid})
add("dashboard", "newsflow-overview", "8.7.0", {
    "title": "newsflow: overview",
    "description": "What the pipeline ingested: volume by source and language, who and what is in the news, tone, places and alerts.",
    "panelsJSON": json.dumps(panels_json, separators=(",", ":")),
    "optionsJSON": json.dumps({"useMargins": True, "syncColors": False, "syncCursor": True,
                               "syncTooltips": False, "hidePanelTitles": False}, separators=(",", ":")),
    "timeRestore": True,
    "timeFrom": "now-24h",
    "timeTo": "now",
    "refreshInterval": {"pause": False, "value": 60000},
    "kibanaSavedObjectMeta": search_source("", index=False),
    "version": 1,
}, refs)

for o in objects:
    sys.stdout.write(json.dumps(o, separators=(",", ":"), sort_keys=True) + "\n")
