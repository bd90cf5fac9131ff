"""Running Ansible from Python (through ansible-runner)."""
