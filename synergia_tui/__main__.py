import sys

from synergia_tui.main import main

sys.exit(main())
