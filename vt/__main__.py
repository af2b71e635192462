"""`python -m vt` is the `vt` command."""

from vt.cli import main

raise SystemExit(main())
