"""The trading calendar's one constant: days in a year, for annualizing daily figures."""

TRADING_DAYS = 252
