# user: filled in by its component
