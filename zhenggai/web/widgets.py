"""Form widgets for long lists."""

from __future__ import annotations

from django import forms
from django.forms.utils import flatatt
from django.utils.html import escape
from django.utils.safestring import mark_safe


class QuickSelect(forms.Select):
    """A <select> whose options are written here, not through Django's option template:
    that is one template render per option, and a city's list of units or a campaign's
    owners has hundreds (the desk spent most of its 100 ms rendering 1,000 of them).
    The same HTML; option groups fall back to Django's own rendering."""

    def render(self, name, value, attrs=None, renderer=None):
        choices = list(self.choices)
        if any(isinstance(label, (list, tuple)) for _v, label in choices):
            return super().render(name, value, attrs, renderer)
        selected = {str(v) for v in self.format_value(value)}
        attrs = {**self.build_attrs(self.attrs, attrs), "name": name}
        if self.allow_multiple_selected:
            attrs["multiple"] = True
        opts = []
        for v, label in choices:
            v = "" if v is None else str(v)
            mark = " selected" if v in selected else ""
            opts.append(f'<option value="{escape(v)}"{mark}>{escape(label)}</option>')
        return mark_safe(f"<select{flatatt(attrs)}>{''.join(opts)}</select>")
