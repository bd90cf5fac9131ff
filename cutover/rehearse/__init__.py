"""`cutover rehearse`: a whole cutover on the lab twin, measured (run.py), its lab state,
probes and message accounting."""
