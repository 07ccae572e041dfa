"""The soak and fault run (`make soak`): see soak/run.py."""
