"""Windows entry point of goldentime-console.exe (a windowed program: no terminal opens)."""

import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main(["console", *sys.argv[1:]]))
