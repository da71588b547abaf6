"""What the records say, for people: the morning report, risks, reverted patches, diffs."""
