"""The locustfile `vt load` hands to Locust: one user class per scenario file.

`vt load` puts the scenario files in `VT_LOAD_SCENARIOS` (one per line, each `PATH` or
`PATH@N` for exactly N users of it) and runs `python -m locust -f` this file, so Locust
imports it after its own gevent patching; every process Locust starts (its `--processes`, a
`--worker` started by `vt load ... --worker`) imports it the same way.
"""

from __future__ import annotations

import os

from vt.load.command import SCENARIOS_VARIABLE
from vt.load.users import register, scenario_classes

_classes = scenario_classes(os.environ.get(SCENARIOS_VARIABLE, ""))
globals().update({cls.__name__: cls for cls in _classes})
register(_classes)
