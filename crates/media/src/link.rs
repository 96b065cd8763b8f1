//! A seeded, simulated network link (random and bursty loss, jitter, reordering) for tests.
