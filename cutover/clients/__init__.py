"""One client per protocol, used by verification, the rehearsal's probes and the cutovers'
own checks, so a protocol fix is made once."""
