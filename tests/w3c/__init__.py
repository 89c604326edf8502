"""The W3C SPARQL test suites: manifests, expected results, comparison and executors."""
