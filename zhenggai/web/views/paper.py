"""Paper forms for anonymous opinions: a clerk prints sheets of receipt slips, and types in
the forms that come back from the box with their slip's number (opinions/slips.py)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from zhenggai.errors import DomainError
from zhenggai.opinions import intake, slips
from zhenggai.org import clock
from zhenggai.org.models import Category, Unit

from ..pages import role_page, status_of
from ..widgets import QuickSelect


@never_cache
@role_page("summarising_desk")
@require_http_methods(["GET", "POST"])
def print_slips(request: HttpRequest) -> HttpResponse:
    """GET: how many slips. POST: a new sheet, to print now. The codes are on this answer
    and nowhere else: never stored, never cached; print it before leaving the page."""
    campaign, clerk = request.campaign, request.member
    error, status = None, 200
    if request.method == "POST":
        raw = request.POST.get("count", "").strip()
        try:  # the domain refuses a count out of range (0 for what is not a number)
            printed = slips.print_slips(campaign, actor=clerk,
                                        count=int(raw) if raw.isdigit() and len(raw) < 5 else 0)
        except DomainError as e:
            error, status = str(e), status_of(e)
        else:
            resp = render(request, "web/slips_print.html",
                          {"campaign": campaign, "slips": printed,
                           "receipt_url": request.build_absolute_uri("/receipt/")})
            resp["Cache-Control"] = "no-store"
            return resp
    return render(request, "web/slips.html", {"campaign": campaign, "error": error,
                                              "max": slips.MAX_PRINT}, status=status)


class PaperForm(forms.Form):
    slip = forms.CharField(label=gettext_lazy("Slip number (on the form's tab)"), max_length=20)
    text = forms.CharField(label=gettext_lazy("The opinion, as written on the form"),
                           max_length=intake.MAX_TEXT, widget=forms.Textarea(attrs={"rows": 6}))
    unit = forms.ModelChoiceField(queryset=Unit.objects.none(), required=False,
                                  widget=QuickSelect,
                                  label=gettext_lazy("Unit concerned (optional)"))
    category = forms.ModelChoiceField(queryset=Category.objects.none(), required=False,
                                      widget=QuickSelect,
                                      label=gettext_lazy("Category (optional)"))
    received_on = forms.DateField(label=gettext_lazy("Taken from the box on"),
                                  widget=forms.DateInput(attrs={"type": "date"},
                                                           format="%Y-%m-%d"))

    def __init__(self, *args, campaign, **kw):
        super().__init__(*args, **kw)
        self.fields["unit"].queryset = Unit.objects.filter(org_id=campaign.org_id)
        self.fields["category"].queryset = Category.objects.filter(org_id=campaign.org_id)


@role_page("summarising_desk")
@require_http_methods(["GET", "POST"])
def type_in(request: HttpRequest) -> HttpResponse:
    """A clerk types in an anonymous paper form with its slip's number."""
    campaign, clerk = request.campaign, request.member
    today: dt.date = clock.today(campaign.org_id)
    form = PaperForm(request.POST or None, campaign=campaign, initial={"received_on": today})
    error, status = None, 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            try:
                slips.submit_paper(campaign, actor=clerk, slip=d["slip"], text=d["text"],
                                   unit=d["unit"], category=d["category"],
                                   received_on=d["received_on"])
            except DomainError as e:
                error, status = str(e), status_of(e)
            else:
                messages.success(request, _("Typed in. Its slip's receipt now follows the "
                                            "case; the slip cannot be used again."))
                return redirect(request.get_full_path())
        else:
            error, status = _("Check the fields marked below."), 400
    return render(request, "web/paper.html", {"campaign": campaign, "form": form,
                                              "error": error}, status=status)
