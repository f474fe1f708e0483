"""Hypothesis settings profiles of the property tests: "ci" (the default) and "fuzz".

Select one with HYPOTHESIS_PROFILE=fuzz (what `make fuzz` does). The profiles are registered
here, not in conftest.py, and are applied per test through `PROPERTY` / `property_settings(n)`
rather than with `settings.load_profile`, so the other test files keep Hypothesis' defaults.

- ci: bounded and deterministic (derandomize), no example database next to the project; each
  test passes its own example count, sized so that tests/test_properties.py runs in well under
  40 s on a 2-core machine.
- fuzz: random seeds and many more examples: FUZZ_EXAMPLES (default 10,000) for each cheap test,
  an eighth of that for the slow ones (extraction). NEWSMON_FUZZ_EXAMPLES overrides the count.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

#: Examples of a cheap test under the ci profile; slower tests ask for fewer.
CI_EXAMPLES = 200
FUZZ_EXAMPLES = int(os.environ.get("NEWSMON_FUZZ_EXAMPLES", "10000"))

settings.register_profile(
    "ci",
    max_examples=CI_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
)
settings.register_profile(
    "fuzz",
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=False,
    database=None,
    print_blob=True,
    # Big generated documents are the point here, not a problem.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

PROFILE_NAME = os.environ.get("HYPOTHESIS_PROFILE", "ci")
if PROFILE_NAME not in ("ci", "fuzz"):
    raise RuntimeError(f"HYPOTHESIS_PROFILE={PROFILE_NAME!r}: expected 'ci' or 'fuzz'")
FUZZING = PROFILE_NAME == "fuzz"
_BASE = settings.get_profile(PROFILE_NAME)


def property_settings(ci_examples: int = CI_EXAMPLES, *, slow: bool = False) -> settings:
    """Settings for one property test: `ci_examples` under ci; under fuzz FUZZ_EXAMPLES, or an
    eighth of it for a `slow` test (a page extraction costs ~30 ms, a URL a fraction of one)."""
    if FUZZING:
        return settings(_BASE, max_examples=max(1, FUZZ_EXAMPLES // 8 if slow else FUZZ_EXAMPLES))
    return settings(_BASE, max_examples=ci_examples)


#: The decorator of a cheap property test.
PROPERTY = property_settings()
