print("herald-ingest: not built yet")
