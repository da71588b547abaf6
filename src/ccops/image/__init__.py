"""Golden images: definitions in images/golden, builds cached under the state folder, deployment."""
