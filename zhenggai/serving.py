"""How `zhenggai serve` runs gunicorn, and what its logs may say.

No log line may tell when an anonymous opinion arrived, what it said or who sent it:

- the access log has no line at all for the paths an anonymous proposer uses (the submit
  page, the receipt page, the typing suggestions, the API's opinions and receipts) nor for
  static files (which a receipt page would fetch right after its opinion); the other lines
  say only the method, the path without its query, and the status: no client address, no
  user agent, no time, no size, no duration;
- the error log keeps the day only, and a refused request (a request line too long, say) is
  logged without the client's address or what it sent.
"""

from __future__ import annotations

import re

from gunicorn.glogging import Logger as _Logger

ACCESS_LOG_FORMAT = '"%(m)s %(U)s" %(s)s'
QUIET_PATHS = re.compile(
    r"^/(?:submit/|receipt/|static/|grouping/[^/]+/suggest/|desk/paper/|desk/slips/"
    r"|api/v1/(?:opinions|receipts/|slips|grouping/[^/]+/suggest))"
)
_REFUSED = re.compile(r"^Invalid request from ip=.*", re.S)


class Logger(_Logger):
    datefmt = r"[%Y-%m-%d]"

    def access(self, resp, req, environ, request_time):
        if QUIET_PATHS.match(environ.get("PATH_INFO") or ""):
            return
        super().access(resp, req, environ, request_time)

    def warning(self, msg, *args, **kwargs):
        if isinstance(msg, str) and _REFUSED.match(msg):
            msg, args = "Invalid request refused", ()
        super().warning(msg, *args, **kwargs)


def configure(cfg, *, bind: str, workers: int) -> None:
    """The settings `zhenggai serve` gives gunicorn."""
    cfg.set("bind", bind)
    cfg.set("workers", workers)
    cfg.set("logger_class", "zhenggai.serving.Logger")
    cfg.set("accesslog", "-")
    cfg.set("access_log_format", ACCESS_LOG_FORMAT)
    # gunicorn 25+ opens a control socket in $HOME/.gunicorn, which the service user cannot
    # write (its home is the read-only install): an error line at every start. Unused here.
    if "control_socket_disable" in cfg.settings:
        cfg.set("control_socket_disable", True)
