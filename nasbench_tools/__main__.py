"""``python -m nasbench_tools``: the ``nasbench-study`` command."""

import sys

from .cli import main

sys.exit(main())
