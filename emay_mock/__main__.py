"""`python -m emay_mock` is the `emay-mock` command."""

from emay_mock.cli import main

raise SystemExit(main())
