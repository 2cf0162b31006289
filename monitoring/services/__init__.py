"""Every write of monitoring goes through one of these modules: deployments, ingestion,
baselines, checks, kpis, alerts."""
