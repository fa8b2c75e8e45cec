print("herald-signer: not built yet")
