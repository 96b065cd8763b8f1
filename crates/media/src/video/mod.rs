//! Video: capture, encoding, packetisation, reassembly, decoding.
