"""The demo catalogue: Seoul's civil services as a citizen meets them (city-wide and per district).

Each row: code, Korean name, English name, department, assurance, fee (KRW), processing days,
whether the service also runs on the smart-TV portal, and whether it keeps a counter. The year a
service became fully doable on mobile is assigned by ``mobile_years`` so the catalogue follows the
plan (37% of services in 2012, 62% in 2013, all in 2014).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

PLAN_TARGETS = {2012: 37, 2013: 62, 2014: 100}
FIRST_YEAR = 2010


@dataclass(frozen=True)
class ServiceSeed:
    code: str
    name_ko: str
    name_en: str
    department: str
    assurance: str
    fee_krw: int
    days: int
    tv: bool = False
    counter: bool = True
    district_code: str | None = None


DEPARTMENTS = {
    "administration": ("행정국", "Administration Bureau"),
    "finance": ("재무국", "Finance Bureau"),
    "welfare": ("복지정책실", "Welfare Policy Office"),
    "transport": ("도시교통실", "Urban Transportation Office"),
    "housing": ("주택정책실", "Housing Policy Office"),
    "environment": ("기후환경본부", "Climate and Environment HQ"),
    "culture": ("문화본부", "Culture HQ"),
    "economy": ("경제정책실", "Economic Policy Office"),
    "safety": ("안전총괄실", "Safety Office"),
    "health": ("시민건강국", "Citizen Health Bureau"),
    "family": ("여성가족정책실", "Women and Family Policy Office"),
    "district": ("자치구", "District offices"),
}

# code, ko, en, department, assurance, fee, days, tv, counter
_CITY: tuple[tuple[str, str, str, str, str, int, int, bool, bool], ...] = (
    (
        "CERT-LOCALTAX",
        "지방세 납세증명서 발급",
        "Certificate of local tax payment",
        "finance",
        "certificate",
        0,
        0,
        False,
        True,
    ),
    (
        "CERT-RESIDENT",
        "주민등록표 등본 발급",
        "Resident registration certificate",
        "administration",
        "certificate",
        0,
        0,
        False,
        True,
    ),
    (
        "CERT-FACILITY",
        "공공시설 이용확인서 발급",
        "Public facility use confirmation",
        "culture",
        "login",
        500,
        0,
        False,
        True,
    ),
    ("TAX-PAY", "지방세 납부", "Pay local taxes", "finance", "login", 0, 0, False, True),
    ("TAX-CAR", "자동차세 조회·납부", "Car tax lookup and payment", "finance", "login", 0, 0, False, True),
    (
        "TAX-PROPERTY",
        "재산세 조회·납부",
        "Property tax lookup and payment",
        "finance",
        "login",
        0,
        0,
        False,
        True,
    ),
    ("TAX-REFUND", "지방세 환급 신청", "Local tax refund", "finance", "certificate", 0, 7, False, True),
    ("TAX-ETAX", "전자고지 신청", "Electronic tax notices", "finance", "login", 0, 1, False, False),
    ("TAX-ARREARS", "체납액 조회", "Tax arrears lookup", "finance", "certificate", 0, 0, False, True),
    ("TAX-WATER", "상수도 요금 납부", "Water bill payment", "finance", "login", 0, 0, False, True),
    ("ADM-MOVE", "전입신고", "Notice of moving in", "administration", "certificate", 0, 1, False, True),
    (
        "ADM-SEAL",
        "인감증명 발급 사실 확인",
        "Seal certificate issuance check",
        "administration",
        "certificate",
        0,
        0,
        False,
        True,
    ),
    (
        "ADM-FAMILY",
        "가족관계증명서 발급 안내",
        "Family relation certificate guide",
        "administration",
        "none",
        0,
        0,
        True,
        False,
    ),
    ("ADM-PASSPORT", "여권 발급 예약", "Passport appointment", "administration", "login", 0, 10, False, True),
    (
        "ADM-INFO",
        "정보공개 청구",
        "Freedom of information request",
        "administration",
        "login",
        0,
        10,
        False,
        True,
    ),
    (
        "ADM-PETITION",
        "시민 제안·청원",
        "Citizen proposals and petitions",
        "administration",
        "login",
        0,
        14,
        True,
        False,
    ),
    (
        "ADM-COMPLAINT",
        "120 다산콜 민원 접수",
        "Dasan 120 complaint intake",
        "administration",
        "none",
        0,
        7,
        True,
        True,
    ),
    (
        "ADM-ADDRESS",
        "도로명주소 안내",
        "Road-name address lookup",
        "administration",
        "none",
        0,
        0,
        True,
        False,
    ),
    (
        "WEL-BASIC",
        "기초생활수급 신청",
        "Basic livelihood security application",
        "welfare",
        "certificate",
        0,
        30,
        False,
        True,
    ),
    (
        "WEL-ELDER",
        "기초연금 신청",
        "Basic pension for older persons",
        "welfare",
        "certificate",
        0,
        30,
        False,
        True,
    ),
    (
        "WEL-DISABLE",
        "장애인 활동지원 신청",
        "Disability activity support",
        "welfare",
        "certificate",
        0,
        30,
        False,
        True,
    ),
    ("WEL-EMERG", "긴급복지 지원 신청", "Emergency welfare support", "welfare", "login", 0, 3, False, True),
    ("WEL-VOUCHER", "복지 바우처 조회", "Welfare voucher lookup", "welfare", "login", 0, 0, True, False),
    ("WEL-LUNCH", "어르신 무료급식 안내", "Free meals for seniors", "welfare", "none", 0, 0, True, False),
    ("WEL-CARE", "돌봄SOS 신청", "Care SOS request", "welfare", "login", 0, 2, True, True),
    (
        "TRN-PARK",
        "공영주차장 정기권 신청",
        "Public parking season pass",
        "transport",
        "login",
        50000,
        3,
        False,
        True,
    ),
    (
        "TRN-RESIDENT",
        "거주자우선주차 신청",
        "Resident priority parking",
        "transport",
        "certificate",
        30000,
        14,
        False,
        True,
    ),
    (
        "TRN-FINE",
        "주정차 위반 과태료 납부",
        "Parking fine payment",
        "transport",
        "login",
        40000,
        0,
        False,
        True,
    ),
    ("TRN-TOWING", "견인차량 조회", "Towed vehicle lookup", "transport", "none", 0, 0, True, False),
    ("TRN-BIKE", "따릉이 정기권", "Ttareungyi bike pass", "transport", "login", 5000, 0, False, False),
    (
        "TRN-ELDER",
        "어르신 교통카드 신청",
        "Senior transit card",
        "transport",
        "certificate",
        0,
        7,
        False,
        True,
    ),
    ("TRN-BUS", "버스 도착 정보", "Bus arrival information", "transport", "none", 0, 0, True, False),
    (
        "TRN-TAXI",
        "장애인 콜택시 예약",
        "Accessible call taxi booking",
        "transport",
        "login",
        1500,
        0,
        True,
        True,
    ),
    ("HOU-RENT", "청년 월세 지원 신청", "Youth rent support", "housing", "certificate", 0, 30, False, True),
    (
        "HOU-PUBLIC",
        "공공임대주택 청약",
        "Public rental housing application",
        "housing",
        "certificate",
        0,
        60,
        False,
        True,
    ),
    ("HOU-REPAIR", "집수리 지원 신청", "Home repair support", "housing", "login", 0, 30, False, True),
    (
        "HOU-DEPOSIT",
        "전세보증금 반환 상담",
        "Lease deposit counselling",
        "housing",
        "login",
        0,
        7,
        False,
        True,
    ),
    ("HOU-PRICE", "공시지가 조회", "Official land price lookup", "housing", "none", 0, 0, True, False),
    (
        "ENV-WASTE",
        "대형폐기물 배출 신고",
        "Bulky waste disposal",
        "environment",
        "login",
        8000,
        2,
        False,
        True,
    ),
    (
        "ENV-FOOD",
        "음식물 쓰레기 종량제 카드",
        "Food waste RFID card",
        "environment",
        "login",
        0,
        3,
        False,
        True,
    ),
    ("ENV-AIR", "대기질 정보·미세먼지 알림", "Air quality alerts", "environment", "none", 0, 0, True, False),
    (
        "ENV-SOLAR",
        "미니태양광 보급 신청",
        "Balcony solar panel subsidy",
        "environment",
        "login",
        0,
        30,
        False,
        True,
    ),
    (
        "ENV-EV",
        "전기차 구매 보조금 신청",
        "EV purchase subsidy",
        "environment",
        "certificate",
        0,
        30,
        False,
        True,
    ),
    ("ENV-TREE", "가로수 민원", "Street tree request", "environment", "none", 0, 7, True, False),
    ("ENV-NOISE", "소음·진동 신고", "Noise and vibration report", "environment", "login", 0, 7, False, True),
    ("CUL-FACILITY", "공공시설 예약", "Public facility booking", "culture", "login", 0, 0, True, True),
    ("CUL-LIBRARY", "서울도서관 회원가입", "Seoul Library membership", "culture", "login", 0, 0, False, True),
    ("CUL-EVENT", "문화행사 예약", "Cultural event booking", "culture", "login", 0, 0, True, False),
    ("CUL-PARK", "공원 캠핑장 예약", "Park campsite booking", "culture", "login", 20000, 0, False, False),
    ("CUL-SPORT", "체육시설 대관", "Sports facility rental", "culture", "login", 30000, 3, False, True),
    ("CUL-MUSEUM", "시립미술관 관람 예약", "City museum visit booking", "culture", "none", 0, 0, True, False),
    (
        "ECO-STARTUP",
        "창업 지원 신청",
        "Start-up support application",
        "economy",
        "certificate",
        0,
        30,
        False,
        True,
    ),
    (
        "ECO-SMB",
        "소상공인 경영안정자금",
        "Small business stabilisation loan",
        "economy",
        "certificate",
        0,
        21,
        False,
        True,
    ),
    (
        "ECO-JOB",
        "서울일자리포털 구직 등록",
        "Seoul job portal registration",
        "economy",
        "login",
        0,
        0,
        True,
        False,
    ),
    (
        "ECO-MARKET",
        "전통시장 상품권 구매",
        "Traditional market vouchers",
        "economy",
        "login",
        10000,
        0,
        False,
        True,
    ),
    (
        "ECO-PERMIT",
        "옥외광고물 허가 신청",
        "Outdoor advertising permit",
        "economy",
        "certificate",
        20000,
        10,
        False,
        True,
    ),
    ("SAF-SHELTER", "민방위 대피소 안내", "Civil defence shelters", "safety", "none", 0, 0, True, False),
    ("SAF-REPORT", "안전신문고 신고", "Safety hazard report", "safety", "login", 0, 7, False, False),
    (
        "SAF-CCTV",
        "CCTV 영상 열람 청구",
        "CCTV footage access request",
        "safety",
        "certificate",
        0,
        10,
        False,
        True,
    ),
    ("SAF-ESCORT", "안심귀가 스카우트 신청", "Safe walk home escort", "safety", "login", 0, 0, False, False),
    (
        "SAF-FLOOD",
        "침수 피해 복구 지원",
        "Flood damage recovery support",
        "safety",
        "certificate",
        0,
        14,
        False,
        True,
    ),
    (
        "SAF-TRAIN",
        "시민 안전교육 예약",
        "Citizen safety training booking",
        "safety",
        "login",
        0,
        0,
        True,
        False,
    ),
    ("HEA-CHECK", "건강검진 예약", "Health check-up booking", "health", "login", 0, 0, False, True),
    ("HEA-VACCINE", "예방접종 내역 조회", "Vaccination record", "health", "certificate", 0, 0, False, True),
    (
        "HEA-CLINIC",
        "보건소 진료 예약",
        "Public health centre appointment",
        "health",
        "login",
        500,
        0,
        False,
        True,
    ),
    ("HEA-MENTAL", "마음건강 상담 신청", "Mental health counselling", "health", "login", 0, 3, False, True),
    ("HEA-PET", "반려동물 등록", "Pet registration", "health", "login", 10000, 7, False, True),
    ("HEA-SMOKE", "금연클리닉 등록", "Quit-smoking clinic", "health", "login", 0, 0, True, True),
    (
        "FAM-CHILD",
        "아동수당 신청",
        "Child allowance application",
        "family",
        "certificate",
        0,
        30,
        False,
        True,
    ),
    (
        "FAM-DAYCARE",
        "어린이집 입소 대기 신청",
        "Daycare waiting list",
        "family",
        "certificate",
        0,
        0,
        False,
        True,
    ),
    ("FAM-BIRTH", "출산 축하금 신청", "Childbirth grant", "family", "certificate", 0, 14, False, True),
    ("FAM-CARE", "아이돌봄 서비스 신청", "Childminding service", "family", "login", 0, 7, False, True),
    (
        "FAM-KIDSCAFE",
        "우리동네 키움센터 예약",
        "Neighbourhood kids centre booking",
        "family",
        "login",
        0,
        0,
        True,
        False,
    ),
)

# district-level templates: code suffix, ko, en, assurance, fee, days, tv, counter
_DISTRICT: tuple[tuple[str, str, str, str, int, int, bool, bool], ...] = (
    ("GYM", "구민체육센터 수강 신청", "District sports centre classes", "login", 30000, 0, False, True),
    ("HALL", "구민회관 대관", "District hall rental", "login", 50000, 3, False, True),
    ("BULKY", "구 대형폐기물 수거 예약", "District bulky waste pickup", "login", 6000, 2, False, True),
    ("NEWS", "구정 소식 알림", "District news", "none", 0, 0, True, False),
    ("CLASS", "스마트기기 교육 신청", "Smart device class", "login", 0, 0, True, True),
    ("LIBRARY", "구립도서관 상호대차", "District library inter-loan", "login", 0, 2, False, True),
    ("PARKING", "구 공영주차장 월정기권", "District parking monthly pass", "login", 60000, 3, False, True),
)
# the five districts of the demo that list their own services (Jongno, Jung, Yongsan, Gangnam, Mapo)
_DISTRICT_CODES = {
    "11010": ("종로구", "Jongno-gu"),
    "11020": ("중구", "Jung-gu"),
    "11030": ("용산구", "Yongsan-gu"),
    "11230": ("강남구", "Gangnam-gu"),
    "11140": ("마포구", "Mapo-gu"),
}


def services() -> list[ServiceSeed]:
    """Every service of the demo catalogue (108: 73 city-wide, 7 in each of five districts)."""
    rows = [
        ServiceSeed(code, ko, en, dept, level, fee, days, tv, counter)
        for code, ko, en, dept, level, fee, days, tv, counter in _CITY
    ]
    for district, (district_ko, district_en) in _DISTRICT_CODES.items():
        for suffix, ko, en, level, fee, days, tv, counter in _DISTRICT:
            rows.append(
                ServiceSeed(
                    f"D{district}-{suffix}",
                    f"{district_ko} {ko}",
                    f"{district_en}: {en}",
                    "district",
                    level,
                    fee,
                    days,
                    tv,
                    counter,
                    district,
                )
            )
    return rows


def mobile_years(codes: list[str], targets: dict[int, int] = PLAN_TARGETS) -> dict[str, int]:
    """The year each service became fully doable on mobile, so the cumulative share meets
    ``targets`` (percent by year) exactly; the order is a stable hash, not the list order."""
    order = sorted(codes, key=lambda code: hashlib.sha256(code.encode()).hexdigest())
    total, years, done = len(order), {}, 0
    early = (FIRST_YEAR, FIRST_YEAR + 1)
    for year in sorted(targets):
        upto = round(total * targets[year] / 100)
        for index, code in enumerate(order[done:upto]):
            years[code] = early[index % 2] if year == min(targets) and index % 3 else year
        done = max(done, upto)
    return years
