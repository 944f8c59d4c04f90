"""Token counting: offline (tiktoken's cl100k_base × a calibrated factor, with a range), exact
(Anthropic's free count_tokens endpoint) and the anatomy of a Messages request (what is cached, where).

Importing this package loads neither tiktoken nor the SDK; they load on the first count that needs them.
"""

from __future__ import annotations

from estimator.tokens.counting import (
    CountSource,
    TokenEstimate,
    count_request,
    count_text,
    count_tokens,
)

__all__ = ["CountSource", "TokenEstimate", "count_request", "count_text", "count_tokens"]
