"""The packaged policy and catalog library loads, validates, and covers what the demo needs."""

from decimal import Decimal

from xsettle import library
from xsettle.engine.vocabulary import MEDICAL_TYPES


def test_every_policy_file_validates_and_names_its_region() -> None:
    policies = library.policies()
    assert len(policies) >= 14
    assert all(policy.name for policy in policies)
    assert len({policy.region for policy in policies}) == len(policies)


def test_the_seed_regions_are_there() -> None:
    names = {policy.name for policy in library.policies()}
    for city in (
        "徐州市",
        "锦州市",
        "本溪市",
        "抚顺市",
        "兰州市",
        "大庆市",
        "通辽市",
        "鄂尔多斯市",
        "南昌市",
        "广州市",
        "开封市",
        "衡阳市",
        "邵阳市",
        "青岛市",
    ):
        assert city in names, city


def test_the_library_covers_every_medical_type() -> None:
    offered = {
        kind for policy in library.policies() for rules in policy.schemes.values() for kind in rules
    }
    assert offered == set(MEDICAL_TYPES)


def test_at_least_five_treatment_catalogs_sharing_item_codes() -> None:
    catalogs = library.catalogs()
    assert len(catalogs) >= 5
    shared = set.intersection(*({item.code for item in c.items} for c in catalogs))
    assert len(shared) >= 20
    assert all(item.typical_price for c in catalogs for item in c.items)


def test_xuzhou_keeps_the_seed_figures() -> None:
    xuzhou = next(p for p in library.policies() if p.region == "320300")
    rule = xuzhou.schemes["employee"]["inpatient"]
    assert rule.deductible.by_level[3] == 500
    assert rule.deductible.repeat_step == 100
    assert rule.deductible.floor == 300
    assert rule.ratio["retired"][3] == Decimal("0.70")
