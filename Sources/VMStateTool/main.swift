print("vmstate")
