"""The portal cutover: content sync, the 301 redirect map, TLS for the old names."""
