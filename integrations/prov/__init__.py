"""W3C PROV out: the lineage closure of a version, dataset version or run as PROV-JSON and
PROV-O (Turtle), as the requester may see it."""
