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


def _cmd_demo(args: argparse.Namespace) -> int:
    from voicecore.demo import main_demo

    return main_demo(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="voicecore", description=voicecore.__doc__)
    parser.add_argument("--version", action="version", version=f"voicecore {voicecore.__version__}")
    sub = parser.add_subparsers(dest="command")
    info = sub.add_parser("info", help="print the build's compiler, ISA paths and kernels")
    info.set_defaults(func=_cmd_info)
    demo = sub.add_parser(
        "demo", help="offline scripted voice conversation (real recordings, echo path, one barge-in)"
    )
    demo.add_argument("--json", action="store_true", help="print one JSON object instead of the tables")
    demo.add_argument("--wav", metavar="FILE", help="use your own 16-bit WAV recording as the user")
    demo.add_argument("--config", metavar="TOML", help="adapter configuration (default: $VOICECORE_CONFIG)")
    demo.add_argument("--no-echo", action="store_true", help="no echo of the agent's voice into the mic")
    demo.add_argument("--no-aec", action="store_true", help="turn the echo canceller off")
    demo.set_defaults(func=_cmd_demo)
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
