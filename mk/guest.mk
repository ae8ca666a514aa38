# guest: filled in by its component
