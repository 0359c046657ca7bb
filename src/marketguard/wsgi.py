import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketguard.settings")
application = get_wsgi_application()

from marketguard.complaints import warmup  # noqa: E402  (after Django is set up)

warmup.start()
