"""Reports pushed to the people on duty: rules, messages, delivery through Apprise, an outbox.

``rules`` reads ``<inventory>/notify.yml``; ``message`` turns a run record into its
judgement for each sink; ``channels`` hands a message to Apprise; ``outbox`` keeps
every message until it is delivered; ``send`` ties them together for the CLI and the
end of a run.
"""
