print("herald-worker: not built yet")
