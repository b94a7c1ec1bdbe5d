import sys

from .cli.main import main

if __name__ == "__main__":  # not when a documentation tool imports the package's modules
    sys.exit(main())
