"""A minimal Django site around django-machina, the thread page's baseline (never imported by the
platform; it runs in the benchmark's own virtual environment, see ``bench/page_machina.py``)."""
