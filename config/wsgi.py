import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Everything loaded at start-up (Django, the apps, their modules) lives as long as the process:
# move it out of the collector's reach, so a full collection during a request (say, while a
# lineage closure builds thousands of tuples) walks only the request's own objects.
gc.freeze()
