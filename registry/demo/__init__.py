"""The demo data that ``manage.py seed_demo`` loads.

Demo users and teams, and three real scikit-learn models trained on data sets that ship inside
scikit-learn (nothing is downloaded), recorded with the provenance a real pipeline would report:
the CSV files it read and wrote with their SHA-256, the transformation, training and evaluation
runs, the pickled models in the artifact store, the code and the environment. Every write goes
through the services under the acting demo user, so the demo looks like data that came in through
the API, audit log included.

Only demo mode may run this (the command checks): the demo users get a known password. The
package imports scikit-learn, the optional ``demo`` extra, so nothing outside the demo imports it.
"""

from registry.demo.scenarios import DEMO_PASSWORD
from registry.demo.seed import SeedReport, demo_seed

__all__ = ["DEMO_PASSWORD", "SeedReport", "demo_seed"]
