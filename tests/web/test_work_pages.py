"""The work page of each role over real requests: where signing in lands, the owner's
problems (needs you / waiting, days overdue), the verification queue (what was promised
beside the claim, the decision before the opinions, its counts, a problem opened from the
list), search, filters and paging, the proposer's case, and the menu."""

import datetime as dt
import re

import pytest

from tests import factories as f
from tests.factories import user_for
from tests.helpers import bring_to, when
from zhenggai.problems import actions, lifecycle, lists, queries
from zhenggai.problems.models import Problem
from zhenggai.web.views.worker import _case_context

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _sign_in(client, member, next_=None):
    user_for(member)
    data = {"username": member.user.username, "password": "pw-zhenggai"}
    if next_ is not None:
        data["next"] = next_
    return client.post("/login/", data, **EN)


@pytest.mark.parametrize("who, page", [("leader", "/leader/"), ("clerk", "/desk/"),
                                       ("rep", "/verify/"), ("owner", "/owner/"),
                                       ("worker", "/submit/")])
def test_signing_in_lands_on_the_members_work(client, story, who, page):
    r = _sign_in(client, getattr(story, who))
    assert r.status_code == 302 and r["Location"] == page


def test_a_safe_next_is_kept_and_an_unsafe_one_is_not(client, story):
    assert _sign_in(client, story.owner, "/board/")["Location"] == "/board/"
    client.logout()
    assert _sign_in(client, story.owner, "https://evil.example/")["Location"] == "/owner/"


def test_a_worker_with_opinions_lands_on_them(client, story):
    f.opinion(story.campaign, author=story.worker)
    assert _sign_in(client, story.worker)["Location"] == "/mine/"


def _problem(s, summary, *, owner=None, unit=None, deadline=dt.date(1957, 12, 1), measures="",
             category=None, day=0):
    op = f.opinion(s.campaign, author=s.worker2).opinion
    return actions.create_problem(s.campaign, [op], actor=s.clerk, summary=summary,
                                  owner=owner or s.owner, unit=unit or s.furnace,
                                  deadline=deadline, measures=measures, category=category,
                                  at=when(day))


def test_the_owner_sees_what_needs_them_and_what_waits(as_member, story):
    late = _problem(story, "澡堂热水不够", deadline=dt.date(1957, 10, 1))
    claimed = bring_to(story, lifecycle.CLAIMED)
    body = as_member(story.owner).get("/owner/", **EN).content.decode()
    needs, waiting = body.split('id="waiting"')
    assert f"#{late.pk}" in needs and f"#{claimed.pk}" in waiting
    assert f"#{claimed.pk}" not in needs
    # Days overdue, never a negative number of days left.
    assert re.search(r"\d+ days overdue", needs)
    assert not re.search(r">-\d+<|-\d+ days", body)


def test_the_owners_list_is_searched_filtered_and_paged(as_member, story):
    safety = story.category
    for i in range(queries.LIST_PAGE + 2):
        _problem(story, f"炉前通风{i}", deadline=dt.date(1957, 10, 1) + dt.timedelta(days=i))
    wash = _problem(story, "澡堂热水不够", unit=story.office, category=safety,
                    measures="换一台锅炉")
    c = as_member(story.owner)
    r = c.get("/owner/", **EN)
    assert r.context["needs"].paginator.count == queries.LIST_PAGE + 3
    assert len(r.context["needs_rows"]) == queries.LIST_PAGE
    assert "page=2" in r.content.decode()
    assert len(c.get("/owner/?page=2", **EN).context["needs_rows"]) == 3
    # The numbered page links of every list, keeping the search.
    body = c.get("/owner/?q=炉前", **EN).content.decode()
    assert 'href="?q=%E7%82%89%E5%89%8D&amp;page=2" rel="next"' in body
    assert '<strong aria-current="page">1</strong>' in body
    for query in ("q=澡堂", "q=锅炉", f"q=%23{wash.pk}", f"unit={story.office.pk}",
                  f"category={safety.pk}"):
        rows = c.get(f"/owner/?{query}", **EN).context["needs_rows"]
        assert [r["problem"].pk for r in rows] == [wash.pk], query
    assert c.get("/owner/?state=claimed", **EN).context["needs"].paginator.count == 0
    # What does not parse is left out, never an error.
    assert c.get("/owner/?unit=x&state=nonsense&page=99", **EN).status_code == 200


def test_the_owners_two_lists_page_apart(as_member, story):
    for _ in range(queries.LIST_PAGE + 1):
        bring_to(story, lifecycle.CLAIMED)
    c = as_member(story.owner)
    body = c.get("/owner/?state=claimed", **EN).content.decode()
    assert 'href="?state=claimed&amp;wpage=2" rel="next"' in body
    assert "&amp;page=2" not in body and "?page=2" not in body  # needs you has one page
    assert len(c.get("/owner/?wpage=2", **EN).context["waiting_rows"]) == 1


def test_the_filter_is_the_lists_one(story):
    a = _problem(story, "炉前通风", unit=story.furnace)
    b = _problem(story, "澡堂热水", unit=story.office, category=story.category)
    qs = Problem.objects.filter(campaign=story.campaign)
    day = dt.date(1957, 12, 1)

    def narrow(wanted):
        return lists.narrow(qs, wanted, story.org.pk, day)

    wanted = lists.Filters.from_query({"q": " 澡堂 ", "unit": str(story.office.pk)})
    assert list(narrow(wanted)) == [b] and wanted.query().startswith("q=")
    assert set(narrow(lists.Filters())) >= {a, b}
    assert not lists.Filters.from_query({"unit": "-1", "state": "nope"}).active()
    # A page offers only its own states; another is left out, not an error.
    assert lists.Filters.from_query({"state": "closed"}, states=queries.OWNER_STATES).state == ""
    sub = f.unit(story.org, "furnace8-a", parent=story.furnace)
    c = _problem(story, "八号炉甲班", unit=sub)
    under = narrow(lists.Filters(unit=story.furnace.pk))
    assert {a, c} <= set(under) and b not in under


def test_a_skip_in_a_searched_queue_keeps_the_search(as_member, story):
    one, two = (_problem(story, f"三号炉前通风{i}") for i in range(2))
    other = _problem(story, "澡堂热水")
    for p in (one, two, other):
        actions.claim(Problem.objects.get(pk=p.pk), actor=story.owner, done="修好了",
                      at=when(2))
    c = as_member(story.rep)
    r = c.get("/verify/?q=三号炉", **EN)
    assert r.context["problem"] == one
    skip = f'?q=%E4%B8%89%E5%8F%B7%E7%82%89&amp;after={one.pk}"'
    assert skip in r.content.decode()
    r = c.get(f"/verify/?q=三号炉&after={one.pk}", **EN)
    assert r.context["problem"] == two and [x.pk for x in r.context["page"]] == [one.pk, two.pk]
    # A state the queue does not hold is left out: the whole queue.
    assert len(c.get("/verify/?state=assigned", **EN).context["page"]) == 3


def test_the_representative_decides_beside_the_promise_before_the_opinions(as_member, story):
    p = _problem(story, "三号炉前通风", measures="装两台轴流风机", deadline=dt.date(1957, 10, 1))
    for i in range(5):
        actions.add_opinions(p, [f.opinion(story.campaign, f"意见{i}").opinion],
                             actor=story.clerk, at=when(1))
    actions.claim(Problem.objects.get(pk=p.pk), actor=story.owner, done="装了一台风扇",
                  at=when(2))
    other = bring_to(story, lifecycle.CLAIMED)
    c = as_member(story.rep)
    body = c.get("/verify/", **EN).content.decode()
    assert "2 claims to verify · 0 re-checks due" in body
    assert "装两台轴流风机" in body and "1957-10-01" in body and "装了一台风扇" in body
    # The decision comes before the opinions; three are shown, the rest folded.
    assert body.index('value="verify_passed"') < body.index("意见0")
    folded = body[body.index("<details>"):body.index("</details>")]
    assert "3 more opinions" in folded and folded.count('class="card"') == 3
    # A problem opened from the queue's list.
    r = c.get(f"/verify/?problem={other.pk}", **EN)
    assert r.context["problem"] == other
    assert f'?problem={other.pk}#case' in body
    # Only a problem in the queue: an assigned one is not to verify.
    assigned = _problem(story, "未整改的问题")
    assert c.get(f"/verify/?problem={assigned.pk}", **EN).status_code == 404
    # Searched, and filtered by the person responsible.
    r = c.get("/verify/?q=三号炉", **EN)
    assert [x.pk for x in r.context["page"]] == [p.pk] and r.context["problem"] == p
    assert (story.owner.pk, story.owner.name) in r.context["owners"]
    r = c.get(f"/verify/?owner={story.owner2.pk}", **EN)
    assert list(r.context["page"]) == [] and r.context["problem"] is None
    assert len(c.get(f"/verify/?owner={story.owner.pk}", **EN).context["page"]) == 2


def test_the_proposer_sees_the_promise_what_was_done_and_their_own_answer(as_member, story):
    p = _problem(story, "三号炉前通风", measures="装两台轴流风机", deadline=dt.date(1957, 10, 1))
    mine = f.opinion(story.campaign, "炉前太热", author=story.worker).opinion
    actions.add_opinions(p, [mine], actor=story.clerk, at=when(1))
    actions.claim(Problem.objects.get(pk=p.pk), actor=story.owner, done="装了两台风机",
                  at=when(2))
    c = as_member(story.worker)
    body = c.get("/mine/", **EN).content.decode()
    assert "装两台轴流风机" in body and "1957-10-01" in body and "装了两台风机" in body
    assert "Is it fixed to your satisfaction?" in body
    body = c.post("/mine/", {"opinion": mine.pk, "do": "satisfied"}, **EN).content.decode()
    assert "Is it fixed to your satisfaction?" not in body
    assert "You answered: satisfied." in body
    # Another proposer of the same problem is still asked.
    other = f.opinion(story.campaign, "同意", author=story.worker2).opinion
    actions.add_opinions(p, [other], actor=story.clerk)
    other.refresh_from_db()
    assert _case_context(other)["questionnaire"]


def test_the_receipt_page_speaks_plainly(client, story):
    body = client.get("/receipt/").content.decode()
    assert "散列" not in body and "哈希" not in body
    assert "hash" not in client.get("/receipt/", **EN).content.decode()


def test_a_named_submission_says_where_to_follow_it(as_member, story):
    r = as_member(story.worker).post("/submit/", {"text": "澡堂热水不够"}, **EN)
    body = r.content.decode()
    assert "Received" in body and 'href="/mine/"' in body


def test_the_menu_follows_the_role(as_member, story):
    body = as_member(story.clerk).get("/desk/", **EN).content.decode()
    assert 'href="/exchange/ledger/' in body and 'href="/exchange/import/"' in body
    assert "/api/v1/docs" not in body
    body = as_member(story.worker).get("/mine/", **EN).content.decode()
    assert "/exchange/" not in body and 'href="/production/"' in body
    story.leader.user = user_for(story.leader)
    story.leader.user.is_staff = True
    story.leader.user.save()
    body = as_member(story.leader).get("/leader/", **EN).content.decode()
    assert 'href="/api/v1/docs"' in body and 'href="/admin/"' in body
    assert 'href="/exchange/ledger/' in body


def test_the_leader_sees_pending_decisions_before_the_figures(as_member, story):
    p = bring_to(story, lifecycle.OPEN)
    actions.propose_decline(p, actor=story.clerk, reason="不归本厂管", at=when(1))
    body = as_member(story.leader).get("/leader/", **EN).content.decode()
    assert body.index('value="decline"') < body.index('class="tiles"')
    assert body.index("Stalled units") < body.index('class="tiles"')
    assert body.index("Long-standing problems") < body.index('class="tiles"')


def test_several_roles_see_links_to_their_other_work(as_member, story):
    from zhenggai.campaigns.models import Role
    from zhenggai.campaigns.roles import grant

    grant(story.owner, story.campaign, Role.REPRESENTATIVE)
    body = as_member(story.owner).get("/owner/", **EN).content.decode()
    links = body[body.index('class="worklinks'):]
    assert 'href="/verify/"' in links[:600]
