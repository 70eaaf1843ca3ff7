"""python -m infra.security: run the security gate."""

import sys

from infra.security.gate import main

sys.exit(main())
