"""Version stamp read by the build backend (hatchling ``code`` source).

The release pipeline exports ``RELEASE_CHANNELS_VERSION`` (the PEP 440 form of the
release being built) to the build command, so artifacts carry the release version
without a commit that edits a file. A plain ``pip install .`` is a development build.
"""

import os

__version__ = os.environ.get("RELEASE_CHANNELS_VERSION") or "0.0.0.dev0"
