"""The API documents itself: every operation has a description and its error responses,
every write the Idempotency-Key header; the docs page is served with local assets."""

import re

import pytest

pytestmark = pytest.mark.django_db


def test_every_operation_is_described_with_its_errors(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert "Error" in doc["components"]["schemas"]
    missing = []
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            where = f"{method.upper()} {path}"
            if not (op.get("description") or "").strip():
                missing.append(f"{where}: no description")
            errors = [s for s in op.get("responses", {}) if s[0] in "45"]
            for status in ("401", "404", "422", "503"):
                if status not in errors:
                    missing.append(f"{where}: no {status} response")
            for status in errors:
                schema = op["responses"][status]["content"]["application/json"]["schema"]
                if schema.get("$ref") != "#/components/schemas/Error":
                    missing.append(f"{where}: {status} not in the error shape")
            names = [p["name"] for p in op.get("parameters", []) if p.get("in") == "header"]
            if method == "post" and "Idempotency-Key" not in names:
                missing.append(f"{where}: no Idempotency-Key header")
            if method == "post" and "409" not in errors:
                missing.append(f"{where}: no 409 response")
    assert not missing, "\n".join(missing)
    assert len(doc["paths"]) > 20


def test_the_docs_page_is_served_with_local_assets(client):
    r = client.get("/api/v1/docs")
    assert r.status_code == 200
    page = r.content.decode()
    scripts = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert "/static/ninja/swagger-ui-bundle.js" in scripts
    assert all(not s.startswith(("http:", "https:", "//")) for s in scripts), scripts
    assert "cdn" not in page.lower()
