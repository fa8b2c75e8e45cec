print("heraldctl: not built yet")
