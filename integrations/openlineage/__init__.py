"""OpenLineage in: RunEvent, DatasetEvent and JobEvent (spec 2-x) posted to /api/v1/lineage,
translated into the registry's runs, datasets, dataset versions and lineage edges."""
