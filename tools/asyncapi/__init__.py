"""The AsyncAPI 3.0 document of Herald's Kafka topics and SSE stream (docs/asyncapi.yaml).

It is generated, so it cannot drift from the code unnoticed: channels from the topic
catalogue (herald_common.catalogue), message schemas from the event models
(herald_common.events) and from the models here of payloads the services build as plain
data, header and frame names from where the services read them. `python -m
tools.asyncapi` rewrites the file, and tests/deploy fails when the committed file differs
from `document()`. Only libs are imported: the tool needs no service, and no image needs
the tool.
"""
