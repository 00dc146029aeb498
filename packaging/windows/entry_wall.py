"""Windows entry point of goldentime-wall.exe: the wall reads its engine, wall id and key from wall.env
(ENGINE=…, WALL=…) and wall.key in %ProgramData%\\GoldenTime, like the Debian package's wall entry."""

import os
import sys
from pathlib import Path

from app.cli import main

if __name__ == "__main__":
    home = Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData")) / "GoldenTime"
    env = dict(
        line.split("=", 1)
        for line in (home / "wall.env").read_text(encoding="utf-8").splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    )
    args = ["wall", "--engine", env["ENGINE"].strip(), "--wall", env["WALL"].strip()]
    args += ["--key-file", str(home / "wall.key"), *sys.argv[1:]]
    if (home / "ca.pem").exists():
        args += ["--ca", str(home / "ca.pem")]
    sys.exit(main(args))
