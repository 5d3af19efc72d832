"""DVC stage entry points (`python -m <package>.stages.<name>`), one per stage in dvc.yaml."""
