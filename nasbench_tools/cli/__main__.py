"""``python -m nasbench_tools.cli``: the ``nasbench-study`` command."""

import sys

from . import main

sys.exit(main())
