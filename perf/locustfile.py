"""Locust entry point of the perf suite: journeys, load shape and SLO gate live in `perf/`.

    locust -f perf/locustfile.py --headless --host URL                  # one process
    locust -f perf/locustfile.py --master --headless --expect-workers N  # plus N x --worker

`ASSAY_PERF_SHAPE` picks the shape (smoke, sustained, spike, soak, step); `assay run perf`
does all of this for a run directory.
"""

import locust  # first: gevent monkey-patches sockets before anything else imports them

from perf.hooks import install
from perf.journeys import Shopper
from perf.shapes import ThroughputShape

install(locust.events)

__all__ = ["Shopper", "ThroughputShape"]
