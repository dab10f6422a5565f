"""One model per file; each has a @dataclass config and a forward that returns named outputs."""
