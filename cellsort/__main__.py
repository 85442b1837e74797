import sys

from cellsort.cli import main

sys.exit(main())
