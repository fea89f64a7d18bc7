# Home Assistant 2026.10 aliases `voluptuous` to probatio at runtime (probatio.compat);
# this stub tells mypy the same, so `import voluptuous as vol` type-checks as it runs.
from probatio import *
