import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhenggai.settings")
application = get_wsgi_application()

from zhenggai.security.production import require  # noqa: E402  (needs the settings)

require()
