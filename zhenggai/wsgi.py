import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhenggai.settings")
application = get_wsgi_application()

from zhenggai.security.production import require  # noqa: E402  (needs the settings)

require()

# The objects of start-up (Django, the apps, numpy: some 80,000) live as long as the
# process: frozen, the cycle collector no longer walks them at each full collection. Such a
# collection landed inside one split by owner in twenty and cost it 38 ms (bench/figures.py).
# `zhenggai serve` imports this module before gunicorn forks, so the workers share them too.
gc.freeze()
