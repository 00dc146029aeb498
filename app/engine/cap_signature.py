"""Enveloped XML signatures of CAP alerts (issue #18; docs/ENGINE.md, "CAP 1.2").

An agency named in ``[cap.signatures]`` must sign every CAP alert with an enveloped XML signature
(``<ds:Signature>`` a child of ``<alert>``, its reference the whole document) made with its own certificate
(``cert``: the key of that certificate) or with a certificate that chains to the configured CA (``ca``,
checked with its validity dates). Only what the signature covers is used afterwards: the alert is parsed
again from the verified element, so nothing outside the signature (a wrapped or appended element) can
change what the engine acts on. SHA-1 and HMAC signatures are refused.

The document has already passed :func:`app.formats.cap.parse_cap` (defusedxml: no DTD, no entities) before
it reaches lxml here.
"""

from __future__ import annotations

import logging
from pathlib import Path

from app.engine.errors import ServiceError
from app.engine.settings import CapSettings

_log = logging.getLogger(__name__)

_DS = "http://www.w3.org/2000/09/xmldsig#"


def _refuse(detail: str) -> ServiceError:
    return ServiceError(403, "Forbidden", f"CAP signature refused: {detail}")


def verify_cap_signature(
    settings: CapSettings, agency_id: str, data: bytes, agency_name: str | None = None
) -> bytes | None:
    """The signed alert (canonical bytes of what the signature covers) when the agency must sign, else
    None. Raises a 403 ServiceError naming the reason when a required signature is missing or invalid.

    ``[cap.signatures]`` names the agency by its id or, failing that, by its name."""
    trust = settings.signatures.get(agency_id)
    if trust is None and agency_name is not None:
        trust = settings.signatures.get(agency_name)
    if trust is None:
        return None
    from lxml import etree
    from signxml.algorithms import SignatureMethod
    from signxml.exceptions import (
        InvalidCertificate,
        InvalidDigest,
        InvalidInput,
        InvalidSignature,
        SignXMLException,
    )
    from signxml.verifier import SignatureConfiguration, XMLVerifier

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:  # parse_cap accepted it, so this should not happen
        raise _refuse(f"the alert cannot be read for verification: {exc}") from None
    signatures = root.findall(f"{{{_DS}}}Signature")
    if not signatures:
        if root.findall(f".//{{{_DS}}}Signature"):
            raise _refuse(
                "the <Signature> is not a child of <alert> (only enveloped signatures are accepted)"
            )
        raise _refuse("this agency's alerts must carry an enveloped XML signature and this one has none")
    if len(signatures) > 1:
        raise _refuse(f"the alert carries {len(signatures)} signatures; exactly one is accepted")
    methods = frozenset(
        m for m in SignatureMethod if not m.name.startswith("HMAC") and "SHA1" not in m.name.replace("_", "")
    )
    config = SignatureConfiguration(location="./", expect_references=1, signature_methods=methods)
    path: Path = trust.cert if trust.cert is not None else trust.ca  # type: ignore[assignment]
    try:
        pem = path.read_bytes()
    except OSError as exc:
        _log.error("CAP signature trust for agency %s cannot be read: %s", agency_id, exc)
        raise _refuse(
            "the engine cannot read the certificate it must check this agency's alerts with"
        ) from None
    try:
        if trust.cert is not None:
            result = XMLVerifier().verify(root, x509_cert=pem.decode("ascii"), expect_config=config)
        else:
            result = XMLVerifier().verify(root, ca_pem_file=str(path), expect_config=config)
    except InvalidDigest as exc:
        raise _refuse(f"the signed content was changed after signing ({exc})") from None
    except InvalidCertificate as exc:
        raise _refuse(f"the signing certificate is not trusted for this agency ({exc})") from None
    except InvalidSignature as exc:
        raise _refuse(f"the signature does not verify ({exc})") from None
    except (InvalidInput, ValueError, UnicodeDecodeError, SignXMLException) as exc:
        raise _refuse(f"the signature cannot be checked ({exc})") from None
    except Exception as exc:  # hostile input must not become a server error
        _log.warning("CAP signature check of agency %s failed unexpectedly: %r", agency_id, exc)
        raise _refuse(f"the signature cannot be checked ({type(exc).__name__})") from None
    if isinstance(result, list):  # expect_references=1 gives one result; be strict anyway
        raise _refuse("the signature must have exactly one reference")
    signed = result.signed_xml
    if signed is None or signed.tag != root.tag:
        raise _refuse("the signature does not cover an <alert>")
    out: bytes = etree.tostring(signed, encoding="utf-8", xml_declaration=False)
    return out
