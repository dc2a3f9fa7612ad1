"""Service desk. For now only its database-free engines: ticket routing (routing.py) and SLA business time
(business_time.py, with the Chinese holiday calendar in holidays_cn.py and data/cn_holidays.json)."""
