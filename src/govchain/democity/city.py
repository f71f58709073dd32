"""Who lives in the demo city: its founding organisations (departments, districts, a bank),
its enterprises and how many citizens. Data only."""

from __future__ import annotations

from dataclasses import dataclass

from govchain.contracts.identity_methods import compute_credit_code_check
from govchain.node.network import OrgSpec

__all__ = ["CITIZEN_COUNT", "DEMO_CITY", "ENTERPRISES", "Enterprise", "compute_credit_code"]

DEMO_CITY: tuple[OrgSpec, ...] = (
    OrgSpec("big-data-bureau", "Municipal Big Data Bureau", "市大数据局", "bureau"),
    OrgSpec(
        "market-regulation", "Market Regulation Administration", "市场监督管理局", "department"
    ),
    OrgSpec("tax", "Tax Bureau", "税务局", "department"),
    OrgSpec("health-commission", "Health Commission", "卫生健康委员会", "department"),
    OrgSpec("fire-rescue", "Fire and Rescue Bureau", "消防救援支队", "department"),
    OrgSpec(
        "housing", "Housing and Urban-Rural Development Bureau", "住房和城乡建设局", "department"
    ),
    OrgSpec(
        "natural-resources",
        "Natural Resources and Planning Bureau",
        "自然资源和规划局",
        "department",
    ),
    OrgSpec("public-security", "Public Security Bureau", "公安局", "department"),
    OrgSpec("civil-affairs", "Civil Affairs Bureau", "民政局", "department"),
    OrgSpec(
        "human-resources",
        "Human Resources and Social Security Bureau",
        "人力资源和社会保障局",
        "department",
    ),
    OrgSpec("haishu-district", "Haishu District", "海曙区", "district"),
    OrgSpec("yinzhou-district", "Yinzhou District", "鄞州区", "district"),
    OrgSpec("city-commercial-bank", "City Commercial Bank", "城市商业银行", "enterprise"),
)

CITIZEN_COUNT = 36


@dataclass(frozen=True)
class Enterprise:
    key_name: str  # file name of its key in the demo directory
    name: str
    name_zh: str
    district: str
    credit_code: str


def compute_credit_code(body: str) -> str:
    """A unified social credit code (GB 32100-2015) from its first 17 characters."""
    return body + compute_credit_code_check(body)


ENTERPRISES: tuple[Enterprise, ...] = (
    Enterprise(
        "harbour-foods",
        "Ningbo Harbour Foods Ltd.",
        "宁波港味食品有限公司",
        "haishu-district",
        compute_credit_code("91330203MA2H3K4L5"),
    ),
    Enterprise(
        "east-sea-textiles",
        "East Sea Textiles Co., Ltd.",
        "东海纺织有限公司",
        "yinzhou-district",
        compute_credit_code("91330212MA2J6N7P8"),
    ),
    Enterprise(
        "yongjiang-precision",
        "Yongjiang Precision Machinery Co., Ltd.",
        "甬江精密机械有限公司",
        "yinzhou-district",
        compute_credit_code("91330212MA2K9Q1R2"),
    ),
)
