"""The mail cutover: mailbox sync between Dovecot servers (dsync over TCP, never in the
direction that deletes on the old server), Postfix routing per phase (old domains accepted
on the merged server, relays during propagation and after a rollback), Message-ID
accounting and probes over IMAP."""
