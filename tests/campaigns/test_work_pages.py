"""Which page is a member's work (campaigns/roles.py): where each role lands after signing
in, and the other work pages a member with several roles is offered."""

from tests import factories as f
from zhenggai.campaigns.models import Role
from zhenggai.campaigns.roles import grant, work_page, work_pages


def test_each_role_lands_on_its_own_work(story):
    c = story.campaign
    assert work_page(story.leader, c) == "leader_board"
    assert work_page(story.clerk, c) == "summarising_desk"
    assert work_page(story.rep, c) == "verification_queue"
    assert work_page(story.owner, c) == "my_problems"
    # A worker without an opinion of their own is offered the form; with one, their opinions.
    assert work_page(story.worker, c) == "submit"
    f.opinion(c, author=story.worker)
    assert work_page(story.worker, c) == "my_opinions"


def test_a_member_with_several_roles_has_each_page_their_first_one_leads(db):
    s = f.story()
    grant(s.owner, s.campaign, Role.REPRESENTATIVE)
    assert work_pages(s.owner, s.campaign) == ["verification_queue", "my_problems", "submit"]
    # An administrator may act as any role: every page, the leader's decisions first.
    assert work_pages(s.admin, s.campaign)[:4] == [
        "leader_board", "summarising_desk", "verification_queue", "my_problems"]


def test_no_campaign_or_another_organisation_leaves_only_the_workers_page(story):
    assert work_pages(story.leader, None) == ["submit"]
    other = f.campaign(f.org("第二炼钢厂"))
    assert work_pages(story.leader, other) == ["submit"]
    assert work_page(None, story.campaign) is None
