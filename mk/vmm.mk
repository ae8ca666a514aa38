# vmm: filled in by its component
