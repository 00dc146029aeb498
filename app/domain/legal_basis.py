"""Legal bases on which the control room may provide CCTV video to another body.

The shipped list is the Korean one: 개인정보 보호법 (Personal Information Protection Act, "PIPA") Art. 18(2)
as amended in 2023 (items 5–9 apply to public institutions only), the disaster-safety act's data-sharing
article, and a court warrant under the criminal procedure act. A deployment may replace or extend the list in
the settings (``provision.legal_bases``); every share records the ``id`` of its basis.
Check the articles against the statute in force (law.go.kr) before relying on the wording.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LegalBasisDef:
    id: str
    law: str
    article: str
    title_ko: str
    title_en: str


KOREAN_BASES: tuple[LegalBasisDef, ...] = (
    LegalBasisDef(
        "pipa-18-2-1",
        "개인정보 보호법",
        "제18조 제2항 제1호",
        "정보주체로부터 별도의 동의를 받은 경우",
        "The data subject gave separate consent",
    ),
    LegalBasisDef(
        "pipa-18-2-2",
        "개인정보 보호법",
        "제18조 제2항 제2호",
        "다른 법률에 특별한 규정이 있는 경우",
        "Another act specifically provides for it",
    ),
    LegalBasisDef(
        "pipa-18-2-3",
        "개인정보 보호법",
        "제18조 제2항 제3호",
        "명백히 정보주체 또는 제3자의 급박한 생명, 신체, 재산의 이익을 위하여 필요하다고 인정되는 경우",
        "Clearly necessary for an urgent interest in the life, body or property of the data subject or a third party",
    ),
    LegalBasisDef(
        "pipa-18-2-7",
        "개인정보 보호법",
        "제18조 제2항 제7호",
        "범죄의 수사와 공소의 제기 및 유지를 위하여 필요한 경우",
        "Necessary for the investigation of a crime and the institution and maintenance of a prosecution",
    ),
    LegalBasisDef(
        "pipa-18-2-8",
        "개인정보 보호법",
        "제18조 제2항 제8호",
        "법원의 재판업무 수행을 위하여 필요한 경우",
        "Necessary for a court's adjudication",
    ),
    LegalBasisDef(
        "pipa-18-2-10",
        "개인정보 보호법",
        "제18조 제2항 제10호",
        "공중위생 등 공공의 안전과 안녕을 위하여 긴급히 필요한 경우",
        "Urgently necessary for public safety and order, such as public health",
    ),
    LegalBasisDef(
        "dsa-74-3",
        "재난 및 안전관리 기본법",
        "제74조의3",
        "재난 대응을 위한 개인정보의 처리(재난관리책임기관의 요청)",
        "Processing of personal data for disaster response (request of a disaster management agency)",
    ),
    LegalBasisDef(
        "cpa-215",
        "형사소송법",
        "제215조",
        "압수·수색·검증 영장에 의한 제공",
        "Provision under a search, seizure or inspection warrant",
    ),
)
