"""Who may record, verify and correct a heat: the one table in production/rules.py, what
`offered` gives each person, and the plant roles' home in campaigns/roles.py."""

import pytest

from tests import factories as f
from zhenggai.campaigns.models import Role
from zhenggai.campaigns.roles import has_production_role, production_roles_of
from zhenggai.errors import Forbidden
from zhenggai.production import actions, rules
from zhenggai.production.models import Heat, ProductionRole
from zhenggai.production.rules import Kind

from .conftest import heat_input

T0 = f.at(1958, 1, 5, 8)


def test_every_action_is_declared_once_and_whole():
    assert set(rules.ACTIONS) == set(Kind)
    for kind, action in rules.ACTIONS.items():
        assert action.kind == kind and action.roles and str(action.forbidden)
        assert action.roles <= set(ProductionRole.Role.values)
        assert action.statuses <= set(Heat.Status.values)
        if action.statuses != set(Heat.Status.values) and action.statuses:
            assert str(action.already)  # a heat in another status is refused with a reason


def test_what_each_person_is_offered(plant):
    assert rules.offered(plant.recorder, plant.org.pk) == {Kind.RECORD}
    assert rules.offered(plant.verifier2, plant.org.pk) == {Kind.RECORD}
    assert rules.offered(plant.verifier, plant.org.pk) == set()
    assert rules.offered(plant.worker, plant.org.pk) == set()
    assert rules.offered(None, plant.org.pk) == set()

    mine = actions.record_heat(plant.f8, heat_input(1, T0, 540), actor=plant.verifier2)
    assert rules.offered(plant.verifier, plant.org.pk, mine) == {Kind.VERIFY, Kind.CORRECT}
    # The recorder of a heat never verifies it, though they hold the verifier's role too.
    assert rules.offered(plant.verifier2, plant.org.pk, mine) == {Kind.CORRECT}
    assert rules.offered(plant.recorder, plant.org.pk, mine) == {Kind.CORRECT}
    assert rules.offered(plant.worker, plant.org.pk, mine) == set()

    actions.verify_heat(mine, actor=plant.verifier)
    mine.refresh_from_db()
    assert rules.offered(plant.verifier, plant.org.pk, mine) == {Kind.CORRECT}


def test_plant_roles_are_the_plants_and_a_campaign_admin_holds_none(plant):
    c = f.campaign(plant.org)
    admin = f.member(plant.org, "管理员", None, Role.ADMIN, c=c)
    assert production_roles_of(admin) == set()
    assert not has_production_role(admin, plant.org.pk, *ProductionRole.Role.values)
    assert rules.offered(admin, plant.org.pk) == set()
    with pytest.raises(Forbidden, match="Only a recorder"):
        actions.record_heat(plant.f8, heat_input(1, T0, 540), actor=admin)
    heat = actions.record_heat(plant.f8, heat_input(1, T0, 540), actor=plant.recorder)
    assert rules.offered(admin, plant.org.pk, heat) == set()
    with pytest.raises(Forbidden, match="Only a verifier"):
        actions.verify_heat(heat, actor=admin)
    # A role is held in one's own organisation's plant only.
    other = f.org("另一钢厂")
    assert has_production_role(plant.recorder, plant.org.pk, ProductionRole.Role.RECORDER)
    assert not has_production_role(plant.recorder, other.pk, ProductionRole.Role.RECORDER)
    assert rules.offered(plant.recorder, other.pk) == set()
