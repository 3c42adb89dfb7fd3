"""Bundles schemas/openapi.yaml and the per-body schemas it refers to into one self-contained
document, schemas/openapi.bundled.json: every `$ref: './X.json'` becomes
`#/components/schemas/X` and the schema moves under components.schemas. Client generators that do
not follow external file references (openapi-python-client) read the bundled one.

Usage: python3 schemas/bundle.py [OUT]   (default: schemas/openapi.bundled.json; needs PyYAML)
A test keeps the committed file in sync with its sources.
"""
import json
import os
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))


def name_of(ref):
    return ref[2:-len(".json")].replace("-", "_")


def bundle():
    doc = yaml.safe_load(open(os.path.join(HERE, "openapi.yaml")))
    components = doc.setdefault("components", {}).setdefault("schemas", {})

    def walk(node):
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("./") and ref.endswith(".json"):
                name = name_of(ref)
                if name not in components:
                    schema = json.load(open(os.path.join(HERE, ref[2:])))
                    for k in ("$schema", "$id"):
                        schema.pop(k, None)
                    components[name] = schema
                node["$ref"] = "#/components/schemas/" + name
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(doc["paths"])
    doc["components"]["schemas"] = dict(sorted(components.items()))
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "openapi.bundled.json")
    open(out, "w").write(bundle())
