"""Security headers on every response: a Content-Security-Policy that allows nothing from
outside the server, frame rules, and no caching of anything that shows a receipt.

Django's SecurityMiddleware sets HSTS, nosniff and Referrer-Policy from the settings; the
XFrameOptionsMiddleware sets X-Frame-Options DENY. A view that may be framed (the kiosk
board) sets `response.frame_ancestors` to the CSP sources it allows ("'self'" or the
organisation's own origins, settings.KIOSK_FRAME_ANCESTORS).
"""

from __future__ import annotations

# No inline script or style, nothing from another origin. Images also as data: URLs (the
# photo previews and Chart.js's canvas exports).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
       "form-action 'self'; frame-ancestors {ancestors}")

# Responses that may show a receipt code: never stored by a browser or a proxy.
NO_STORE_PATHS = ("/receipt/", "/submit/", "/api/v1/receipts/", "/api/v1/opinions")


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        ancestors = getattr(response, "frame_ancestors", None)
        if ancestors:
            # X-Frame-Options cannot name other origins; CSP frame-ancestors decides then.
            if ancestors.strip() == "'self'":
                response["X-Frame-Options"] = "SAMEORIGIN"
            elif response.has_header("X-Frame-Options"):
                del response["X-Frame-Options"]
        response.setdefault("Content-Security-Policy",
                            CSP.format(ancestors=ancestors or "'none'"))
        if response.status_code == 503 and response.has_header("Retry-After"):
            # "Busy, try again" is the cap on argon2 doing its job, not a server error: no
            # error log line (with the time of an anonymous look-up) for it.
            response._has_been_logged = True
        if request.path.startswith(NO_STORE_PATHS):
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
        return response
