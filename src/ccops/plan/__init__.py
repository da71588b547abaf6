"""What a run would do, where and when, computed without touching any host."""
