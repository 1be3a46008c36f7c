"""The additive counters behind every figure, and the dimensions figures split by."""

COUNTERS = [
    "opinions",
    "anonymous_opinions",
    "problems",
    "opinions_claimed",  # opinions whose problem is claimed resolved
    "opinions_verified",  # opinions whose problem is verified resolved
    "st_open",
    "st_assigned",
    "st_claimed",
    "st_verified",
    "st_closed",
    "st_reopened",
    "st_declined",
    "unresolved",
    "age_sum",  # sum of the first-raised day ordinals of unresolved problems
    "overdue",
    "claims",
    "false_figures",
    "reopened",
    "deteriorated",
    "ever_verified",
    "followups",
    "followups_answered",
    "satisfied",
    "posters",
    # days from first raised to the first verification, summed over the problems verified
    # (with `ever_verified`, the mean lead time)
    "lead_days",
]
# The counters that are sums of day numbers: 64-bit. The others count opinions, problems or
# events of one key in one bucket (a year at most), far below 2**31, and are 32-bit on
# PostgreSQL: a third smaller a row, and summed there in 64-bit integers, not NUMERIC.
WIDE = frozenset({"age_sum", "lead_days"})
INDEX = {c: i for i, c in enumerate(COUNTERS)}
N = len(COUNTERS)

TOTAL, CAMPAIGN, UNIT, CATEGORY, OWNER = 0, 1, 2, 3, 4
DIMS = {"campaign": CAMPAIGN, "unit": UNIT, "category": CATEGORY, "owner": OWNER}
