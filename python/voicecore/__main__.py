import sys

from voicecore.cli import main

sys.exit(main())
