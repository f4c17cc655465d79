"""The Emay wire as pure functions: codes, envelopes, signs, field rules. No I/O."""
