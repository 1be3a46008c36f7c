"""The heat entry form, made from the heat's one declaration (heats.HeatInput): each value's
label, type and bounds come from there, as do the API's (api.HeatIn). The form adds only what
a page needs: the furnace to pick, and one delay as two fields."""

from __future__ import annotations

import datetime as dt
import json

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhenggai.errors import InvalidInput

from . import heats
from .models import Furnace, Shift, shifts_of


def form_field(tp, entry: heats.Entry, *, required: bool = True) -> forms.Field:
    """The form field for one declared value."""
    kw = {"label": entry.label, "required": required}
    if entry.choices is not None:
        choices = entry.choices.choices
        return forms.ChoiceField(choices=[("", "—"), *choices] if not required else choices,
                                 **kw)
    if tp is int:
        return forms.IntegerField(min_value=entry.min, max_value=entry.max, **kw)
    if tp is float:
        return forms.FloatField(min_value=entry.min, max_value=entry.max, **kw)
    if tp is dt.datetime:
        return forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                   **kw)
    if tp is str:
        return forms.CharField(max_length=entry.max_length, **kw)
    raise TypeError(f"no form field for {tp}")


# The page enters at most one delay, as two optional fields: the form's name for each of
# DelayInput's values.
DELAY_FIELDS = {"delay_code": "code", "delay_min": "minutes"}


class HeatForm(forms.Form):
    furnace = forms.ModelChoiceField(queryset=Furnace.objects.none(), label=_("furnace"))

    def __init__(self, *args, org_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        for name, tp, entry in heats.declared(heats.HeatInput):
            if name != "delays":
                self.fields[name] = form_field(tp, entry)
        delay = {name: (tp, entry) for name, tp, entry in heats.declared(heats.DelayInput)}
        for field_name, name in DELAY_FIELDS.items():
            self.fields[field_name] = form_field(*delay[name], required=False)
        self.fields["furnace"].queryset = Furnace.objects.filter(org_id=org_id)
        self.fields["shift"].choices = shift_choices(org_id)

    def heat_input(self) -> heats.HeatInput:
        d = dict(self.cleaned_data)
        d.pop("furnace")
        delay = {name: d.pop(field_name) for field_name, name in DELAY_FIELDS.items()}
        d["delays"] = [delay] if all(delay.values()) else []
        return heats.HeatInput(**d)


def parse_value(name: str, raw: str):
    """A corrected value typed on the page, in the type the heat keeps (heats.TYPES). Bad
    text is refused here; a value of the right type, by the domain's own checks."""
    raw = raw.strip()
    tp = heats.TYPES.get(name)
    try:
        if tp is dt.datetime:
            value = dt.datetime.fromisoformat(raw)
            return timezone.make_aware(value) if timezone.is_naive(value) else value
        if tp is float:
            return float(raw)
        if tp is int and name != "number":
            return int(raw)
        if name == "delays":
            return parse_delays(raw)
    except (ValueError, json.JSONDecodeError) as e:
        raise InvalidInput(_("“%(v)s” is not a valid value for this field."), v=raw) from e
    return raw


def shift_choices(org_id: int) -> list[tuple[str, str]]:
    """The shifts the plant runs (models.ShiftPlan), as a form offers them."""
    return [(c, Shift(c).label) for c in shifts_of(org_id)]


def parse_delays(raw: str) -> list[dict]:
    """Delays as the correction form shows them, "crane 15, scrap 20" (or as JSON)."""
    raw = raw.strip()
    if raw.startswith("["):
        return json.loads(raw)
    out = []
    for part in raw.replace("，", ",").split(","):
        if part.strip():
            code, minutes = part.split()
            out.append({"code": code, "minutes": int(minutes)})
    return out


def shown(name: str, value) -> str:
    """A heat's value as the correction form shows it, and as an untouched field posts it."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")
    if name == "delays":
        return ", ".join(f"{d.get('code')} {d.get('minutes')}" for d in value or [])
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def correction_fields(heat, posted=None) -> list[dict]:
    """The correction form: every correctable value, filled in with what the heat holds, so
    that the phases and the times can be corrected together in one go. After a refusal, the
    form shows what was typed (`posted`)."""
    out = []
    for name, tp, entry in heats.declared(heats.HeatInput):
        if name not in heats.CORRECTABLE:
            continue
        kind = ("select" if entry.choices is not None else
                "datetime-local" if tp is dt.datetime else
                "number" if tp in (int, float) else "text")
        out.append({"name": name, "label": entry.label, "kind": kind,
                    "value": (posted.get(name) if posted and name in posted
                              else shown(name, getattr(heat, name))),
                    "choices": (shift_choices(heat.org_id) if name == "shift" else
                                entry.choices.choices if entry.choices is not None else None),
                    "step": "any" if tp is float else "1", "min": entry.min})
    return out


def corrections(heat, data) -> dict:
    """The values a posted correction form changes: each field that differs from what the
    heat holds, read into its type (parse_value). Fields left as shown are not changes."""
    changes = {}
    for name in heats.CORRECTABLE:
        raw = data.get(name)
        if raw is None or raw.strip() == shown(name, getattr(heat, name)):
            continue
        value = parse_value(name, raw)
        if value != getattr(heat, name):
            changes[name] = value
    return changes
