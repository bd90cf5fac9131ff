"""The cutovers themselves: the Python behind the cutover playbooks (DNS, mail).

Playbooks stay the thing that acts on hosts; these modules compute what to change from the
inventory, talk DNS to the servers (dnspython) and check the results. They are run by the
playbooks as ``python -m cutover.cutovers.<name> ACTION ...`` on the controller and read
secrets from the provisioning secrets file, never from their command line.
"""
