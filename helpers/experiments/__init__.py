"""The chapters' shared pipelines as plain functions of a frozen config; `helpers.stages`
caches them. Each module serves one chapter and the chapters that build on it."""
