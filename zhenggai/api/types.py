"""Types that every router's schemas share: a 64-bit id and a person's text.

`Id` refuses a number no database column of ids can hold (beyond 64 bits) with a 422, instead
of the engine's overflow (a 500 on SQLite). `Text` passes text through the domain's one
cleaner (zhenggai/text.py): refused if invalid, bidi controls removed, invisible-only empty.
"""

from typing import Annotated

from pydantic import AfterValidator, Field

from zhenggai import text
from zhenggai.ids import ID_MAX, ID_MIN

Id = Annotated[int, Field(ge=ID_MIN, le=ID_MAX)]
Text = Annotated[str, AfterValidator(text.clean)]
