"""The admin serves configuration, not the workflow."""

from django.contrib import admin

from zhenggai.campaigns.models import Campaign
from zhenggai.opinions.models import Opinion
from zhenggai.org.models import Category, Member, Unit
from zhenggai.problems.models import Event, Problem


def test_configuration_is_in_the_admin_and_the_workflow_is_not():
    for model in (Unit, Member, Category, Campaign):
        assert admin.site.is_registered(model)
    for model in (Problem, Event, Opinion):
        assert not admin.site.is_registered(model)


def test_admin_pages_answer(admin_client, db):
    for url in ("/admin/", "/admin/org/unit/", "/admin/org/member/", "/admin/org/category/",
                "/admin/campaigns/campaign/", "/admin/campaigns/campaign/add/"):
        assert admin_client.get(url).status_code == 200, url
