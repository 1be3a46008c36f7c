"""Where a notification goes: in the app (a `Notification` row, with the unread count in
the menu), by mail, and to the group robots (群机器人) of WeCom, DingTalk and Feishu.

Mail and robots go through `Delivery` rows that the worker sends, only once the rows that
made them are committed (`held`: a rollback after sending would make and send them again):
each keyed (never two rows for one message), claimed before sending (PENDING → SENDING, a
conditional update, so two workers never send the same one), marked SENT after. A send
that fails is tried again after 1, 2, 4, … minutes (at most an hour apart), up to
`MAX_ATTEMPTS`; a worker that dies between sending and marking leaves the row SENDING and
it is never sent again: at most once, because a message lost can be seen in the admin, a
message twice cannot be taken back.

The robots' formats and signatures (their documentation, 2024):
- WeCom: POST {"msgtype": "text", "text": {"content": …}} to the URL with its `key`;
- DingTalk: the same shape, {"msgtype": "text", "text": {"content": …}}; signed ("加签")
  by `&timestamp=<ms>&sign=<base64(HMAC-SHA256(key=secret, "<ms>\\n<secret>"))>` on the URL;
- Feishu: {"msg_type": "text", "content": {"text": …}}; signed ("签名校验") by
  "timestamp" (seconds) and "sign" = base64(HMAC-SHA256(key="<s>\\n<secret>", empty
  message)) in the body.
Each answers HTTP 200 with a JSON error code (WeCom and DingTalk `errcode`, Feishu `code`):
anything but 0 is a failure. The URL and the secret are never logged nor stored in errors.
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import datetime as dt
import hashlib
import hmac
import json
import logging
import time
import urllib.parse
import urllib.request

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation

from . import follows
from .models import Delivery, Notification, Preference, Webhook

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
TIMEOUT_S = 10


# Set while deliveries are made inside a larger transaction (events.drain): nothing is sent
# before the rows that say it was made are committed, or a rollback would send it again.
_hold = contextvars.ContextVar("notifications_hold", default=False)


@contextlib.contextmanager
def held():
    """Make deliveries without sending them; the caller sends after its commit."""
    token = _hold.set(True)
    try:
        yield
    finally:
        _hold.reset(token)


def notify(member, kind: str, key: str, problem, subject, body) -> bool:
    """One notification, in the member's language: in the app at once, and by mail (if
    they have an address and did not choose the daily summary) through a delivery that
    is sent now and, if that fails, again by the worker. False if this key was told
    before."""
    lang = member.language or settings.LANGUAGE_CODE
    with translation.override(lang):
        subject, body = str(subject()), str(body())
    try:
        with transaction.atomic():
            n = Notification.objects.create(member=member, kind=kind, key=key, problem=problem,
                                            subject=subject[:200], body=body)
            d = None
            if _email(member) and not follows.digest(member):
                d = Delivery.objects.create(key=f"mail:{key}"[:160], channel=Delivery.Channel.MAIL,
                                            member=member, notification=n,
                                            subject=subject[:200], body=body)
    except IntegrityError:
        return False
    if d is not None and not _hold.get():
        deliver(d.pk)
    return True


def _email(member) -> str:
    return getattr(member.user, "email", "") if member.user_id else ""


def hooks_for(problem) -> list[Webhook]:
    """The active robots that hear of this problem: its organisation's, its campaign's and
    those of its unit and the units above it."""
    units = []
    if problem.unit_id:
        path = problem.unit.path
        parts = path.strip("/").split("/")
        units = ["/" + "/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    return list(Webhook.objects.filter(org_id=problem.org_id, active=True).filter(
        Q(campaign__isnull=True) | Q(campaign_id=problem.campaign_id)).filter(
        Q(unit__isnull=True) | Q(unit__path__in=units)).order_by("pk"))


def queue_webhook(hook: Webhook, key: str, subject: str, text: str) -> Delivery | None:
    try:
        with transaction.atomic():
            return Delivery.objects.create(key=key[:160], channel=Delivery.Channel.WEBHOOK,
                                           webhook=hook, subject=subject[:200], body=text)
    except IntegrityError:
        return None


# -- the robots' formats -----------------------------------------------------------------

def _hmac_b64(key: str, msg: str) -> str:
    digest = hmac.new(key.encode(), msg.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def robot_request(hook: Webhook, text: str, now: float | None = None) -> tuple[str, bytes]:
    """The URL and JSON body of a robot's message, signed when it has a secret."""
    now = time.time() if now is None else now
    url = hook.url
    if hook.provider == Webhook.Provider.FEISHU:
        body: dict = {"msg_type": "text", "content": {"text": text}}
        if hook.secret:
            ts = str(int(now))
            body = {"timestamp": ts, "sign": _hmac_b64(f"{ts}\n{hook.secret}", ""), **body}
    else:  # WeCom and DingTalk share the shape
        body = {"msgtype": "text", "text": {"content": text}}
        if hook.provider == Webhook.Provider.DINGTALK and hook.secret:
            ts = str(int(now * 1000))
            sign = urllib.parse.quote_plus(_hmac_b64(hook.secret, f"{ts}\n{hook.secret}"))
            url += ("&" if "?" in url else "?") + f"timestamp={ts}&sign={sign}"
    return url, json.dumps(body, ensure_ascii=False).encode()


class SendError(Exception):
    pass


def _post(url: str, data: bytes) -> dict:
    req = urllib.request.Request(url, data=data, method="POST",
                                 headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_S) as r:
            status, raw = r.status, r.read(65536)
    except urllib.error.HTTPError as e:
        raise SendError(f"HTTP {e.code}") from None
    except (urllib.error.URLError, OSError) as e:
        # The reason only: the URL (and its key or token) stays out of errors and logs.
        raise SendError(type(getattr(e, "reason", e)).__name__) from None
    if status != 200:
        raise SendError(f"HTTP {status}")
    try:
        answer = json.loads(raw or b"{}")
    except ValueError:
        raise SendError("not JSON") from None
    code = answer.get("errcode", answer.get("code", answer.get("StatusCode", 0)))
    if code not in (0, "0", None):
        raise SendError(f"error {code}: {str(answer.get('errmsg') or answer.get('msg'))[:100]}")
    return answer


def _robot_text(d: Delivery) -> str:
    return f"{d.subject}\n{d.body}"


def _send(d: Delivery) -> None:
    if d.channel == Delivery.Channel.MAIL:
        address = _email(d.member) if d.member_id else ""
        if not address:
            return  # the address was removed meanwhile: nothing to send
        send_mail(d.subject, d.body, None, [address], fail_silently=False)
        if d.notification_id:
            Notification.objects.filter(pk=d.notification_id).update(emailed_at=timezone.now())
        return
    hook = d.webhook
    if hook is None or not hook.active:
        return
    url, data = robot_request(hook, _robot_text(d))
    _post(url, data)


def backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def deliver(pk: int) -> bool:
    """Send one delivery if it is due and nobody else took it; True if sent now."""
    now = timezone.now()
    claimed = Delivery.objects.filter(pk=pk, state=Delivery.State.PENDING,
                                      next_try__lte=now).update(state=Delivery.State.SENDING)
    if claimed != 1:
        return False
    d = Delivery.objects.select_related("member__user", "webhook").get(pk=pk)
    try:
        _send(d)
    except Exception as e:
        attempts = d.attempts + 1
        failed = attempts >= MAX_ATTEMPTS
        reason = str(e)[:300] if isinstance(e, SendError) else type(e).__name__
        Delivery.objects.filter(pk=pk).update(
            state=Delivery.State.FAILED if failed else Delivery.State.PENDING,
            attempts=attempts, next_try=now + backoff(attempts), last_error=reason)
        log.warning("delivery %s (%s) failed, attempt %s: %s", pk, d.channel, attempts, reason)
        return False
    Delivery.objects.filter(pk=pk).update(state=Delivery.State.SENT, attempts=d.attempts + 1,
                                          sent_at=timezone.now(), last_error="")
    return True


def deliver_due(limit: int = 200) -> int:
    """Send the deliveries that are due (the worker, every minute)."""
    due = list(Delivery.objects.filter(state=Delivery.State.PENDING,
                                       next_try__lte=timezone.now())
               .order_by("next_try", "pk").values_list("pk", flat=True)[:limit])
    return sum(deliver(pk) for pk in due)


def digests(today: dt.date, org_id: int) -> int:
    """The daily summary by mail to each member of the organisation who chose it: what
    they were told in the app and not yet by mail, once a day."""
    from django.utils.translation import gettext as _
    from django.utils.translation import ngettext

    sent = 0
    prefs = Preference.objects.filter(digest=True, member__org_id=org_id) \
        .select_related("member__user")
    for pref in prefs:
        member = pref.member
        if not _email(member):
            continue
        notes = list(Notification.objects.filter(
            member=member, emailed_at__isnull=True,
            created_at__gte=timezone.now() - dt.timedelta(days=2)).order_by("created_at")[:200])
        if not notes:
            continue
        with translation.override(member.language or settings.LANGUAGE_CODE):
            subject = ngettext("Your daily summary: %(n)s notice",
                               "Your daily summary: %(n)s notices", len(notes)) % {"n": len(notes)}
            body = "\n\n".join(f"{n.subject}\n{n.body}" for n in notes)
            body += "\n\n" + _("Read them in the app under Notifications.")
        try:
            with transaction.atomic():
                d = Delivery.objects.create(key=f"digest:{member.pk}:{today}",
                                            channel=Delivery.Channel.MAIL, member=member,
                                            subject=subject[:200], body=body)
                Notification.objects.filter(pk__in=[n.pk for n in notes]).update(
                    emailed_at=timezone.now())
        except IntegrityError:
            continue
        sent += deliver(d.pk)
    return sent


def test_message(hook: Webhook) -> None:
    """Send a test message to a robot at once (the CLI's `webhook test`); raises SendError."""
    with translation.override(hook.language or settings.LANGUAGE_CODE):
        from django.utils.translation import gettext as _

        text = _("zhenggai: this group robot is connected.")
    url, data = robot_request(hook, text)
    _post(url, data)
