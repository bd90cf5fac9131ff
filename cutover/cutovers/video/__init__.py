"""The video-conference cutover: Prosody accounts and rooms moved under the merged domain,
the old domains kept as virtual hosts of the merged server until the agreed end."""
