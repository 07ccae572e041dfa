"""The generated OpenAPI document, and a check that an answer is what it says."""

import json

from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker


def generated_schema(client) -> dict:
    """Return the document /api/schema/ serves, as JSON."""
    r = client.get("/api/schema/?format=json")
    assert r.status_code == 200
    return r.json()


def assert_answer_matches(spec: dict, path: str, method: str, response) -> None:
    """Check that `response` is one the document lists for this operation, with a body that
    validates against that answer's schema (formats included)."""
    answers = spec["paths"][path][method]["responses"]
    status = str(response.status_code)
    assert status in answers, f"{method.upper()} {path} answered {status}, not in the schema"
    content = answers[status].get("content")
    if content is None:
        assert not response.content
        return
    body_schema = content["application/json"]["schema"]
    document = {"allOf": [body_schema], "components": spec["components"]}
    validator = OAS30ReadValidator(document, format_checker=oas30_format_checker)
    errors = [e.message for e in validator.iter_errors(json.loads(response.content))]
    assert errors == [], errors
