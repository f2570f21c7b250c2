"""``python -m autograd_lite`` runs the command line."""

from .cli import main

raise SystemExit(main())
