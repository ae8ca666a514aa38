# ebpf: filled in by its component
