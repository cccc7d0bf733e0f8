"""The ``voicecore`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import voicecore
from voicecore import _core

# Kernel classes this build may expose; `info` lists the ones actually compiled in.
_KERNEL_NAMES = ("Resampler", "FrameVad", "EchoCanceller", "JitterBuffer")


def available_kernels() -> list[str]:
    return [name for name in _KERNEL_NAMES if hasattr(_core, name)]


def _cmd_info(_: argparse.Namespace) -> int:
    info = _core.build_info()
    print(f"voicecore {voicecore.__version__}")
    print(f"compiler:   {info['compiler']}")
    print(f"build type: {info['build_type']}")
    print(f"ISA paths:  {info['isa_paths']}")
    print(f"kernels:    {', '.join(available_kernels()) or '(none)'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="voicecore", description=voicecore.__doc__)
    parser.add_argument("--version", action="version", version=f"voicecore {voicecore.__version__}")
    sub = parser.add_subparsers(dest="command")
    info = sub.add_parser("info", help="print the build's compiler, ISA paths and kernels")
    info.set_defaults(func=_cmd_info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except voicecore.VoicecoreError as exc:
        print(f"voicecore: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
