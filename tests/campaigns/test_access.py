"""The read-side role rules: each working view opens for its roles and no others."""

import pytest

from zhenggai.campaigns.access import VIEWS, may_view, member_of, views_for


@pytest.mark.parametrize("view", list(VIEWS))
def test_each_view_opens_for_its_roles_only(story, view):
    s = story
    people = {"worker": s.worker, "clerk": s.clerk, "owner": s.owner,
              "representative": s.rep, "leader": s.leader}
    for role, member in people.items():
        allowed = "worker" in VIEWS[view] or role in VIEWS[view]
        assert may_view(member, s.campaign, view) == allowed, (view, role)
    assert may_view(s.admin, s.campaign, view)
    assert not may_view(None, s.campaign, view)


def test_members_of_another_organisation_see_nothing(story):
    from tests import factories as f

    other = f.member(f.org("别的厂"), "外人")
    assert views_for(other, story.campaign) == []


def test_member_of_user(story, django_user_model):
    u = django_user_model.objects.create_user("wang", password="x" * 10)
    assert member_of(u) is None
    story.worker.user = u
    story.worker.save()
    u.refresh_from_db()
    assert member_of(u) == story.worker
