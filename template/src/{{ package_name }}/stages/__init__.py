"""DVC stage entry points (`python -m <package>.stages.<name>`), one module per stage in dvc.yaml."""
